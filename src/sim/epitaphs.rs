//! Giving records back in a run whose file still lists every process at its end
//! (`--format json`, `perfetto`, `svg`): each process's report is written out when it is
//! reaped, and its record can then be reused as in a summary (recycle.rs), so that the
//! kernel's memory follows the live processes while the file lists them all (issue #13:
//! `repeat 10^6 { fork c; join c }` with `max_trace` raised took 640 MB as Perfetto, every
//! record kept to the end).
//!
//! A reused slot is another process, so what the file names by slot is named by the order
//! of creation instead (a process's index in the report, which is its slot in a run that
//! reuses nothing): the transitions handed to the sink, and a child's `creator`.
//!
//! What a reaped process's report says is final when it is reaped: it ended before, its
//! figures stopped with it, its parent is fixed once it is reaped (only the children not
//! reaped are adopted) and its globals are its own. So the report written then is the one a
//! held run builds at its end (tests/streamed.rs compares the files for every scenario, and
//! tests/policies.rs every process's report under every policy, with records given back at
//! every reap).
//!
//! The reports written out are JSON, held in memory up to [`BUDGET`] and in a temporary
//! file past it ([`Texts`]). What stays in memory is 12 bytes a process made: its entry in
//! `slots` (4), where its report ends in `texts` (8); and 4 bytes a record, `ordinals`.

use std::cell::RefCell;
use std::io;

use super::pcb::NO_PROC;
use super::{Kernel, Policy};
use crate::report::ProcessReport;
use crate::report::spill::Texts;

/// Bytes of written reports held in memory before the rest go to a temporary file (they are
/// read back once, in order, at the end: a small budget costs little).
const BUDGET: usize = 4 << 20;

/// A `slots` entry whose process was written out: the low bits are its index in `texts`.
const WRITTEN: u32 = 1 << 31;

/// The reports written out, and which process is where. (A run with threads answers the same
/// question, which slot is which process of the report, with `proc_index` and `proc_slots`
/// (threads.rs); it reuses no slot and writes nothing out, and a run that does has no
/// threads, so each map serves one kind of run.)
#[derive(Debug)]
pub(super) struct Epitaphs {
    /// Per process, in the order made: its slot, or [`WRITTEN`] and the index of its report.
    slots: Vec<u32>,
    /// Per slot: the index in the order made of the process there.
    ordinals: Vec<u32>,
    /// The reports written out (JSON), in the order their processes were reaped.
    texts: RefCell<Texts>,
    /// How many were written out.
    written: u32,
}

impl Epitaphs {
    /// The process in slot `q`'s index in the report.
    #[inline(always)]
    pub(super) fn ordinal(&self, q: u32) -> u32 {
        self.ordinals[q as usize]
    }

    /// The report of the process of index `i`, if it was written out, read back.
    fn read(&self, i: u32) -> Option<io::Result<ProcessReport>> {
        let at = self.slots[i as usize];
        if at & WRITTEN == 0 {
            return None;
        }
        let mut texts = self.texts.borrow_mut();
        Some(texts.get((at & !WRITTEN) as usize).and_then(|text| {
            serde_json::from_str(text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        }))
    }
}

impl<P: Policy> Kernel<P> {
    /// Gives back the records of reaped processes that nothing can see any more, as
    /// [`Kernel::recycle_reaped`] does, in a run whose file lists every process at its end:
    /// each process's report is written out when it is reaped, and read back by
    /// [`Kernel::listed_process`]. Transitions handed to the sink of
    /// [`Kernel::run_streaming`] name processes by their index in the report. Call it before
    /// the run, and run it with [`Kernel::run_streaming`] (a trace kept whole would name
    /// processes by slot). Returns false, and does nothing, where records are not given back
    /// (the explanation log, threads, outside signals; recycle.rs).
    pub fn recycle_reaped_listing(&mut self) -> bool {
        self.recycle_listing_in_batches_of(super::recycle::MIN_BATCH)
    }

    /// [`Kernel::recycle_reaped_listing`] with a collection as soon as `batch` records are
    /// reaped (tests: 1 gives back each record at the first moment it can be).
    #[doc(hidden)]
    pub fn recycle_listing_in_batches_of(&mut self, batch: usize) -> bool {
        if self.epitaphs.is_some() || !self.start_recycling(batch, 0) {
            return false;
        }
        // Nothing was reused yet: each process made so far has its index as its slot.
        let made: Vec<u32> = (0..self.procs.len() as u32).collect();
        self.epitaphs = Some(Box::new(Epitaphs {
            slots: made.clone(),
            ordinals: made,
            texts: RefCell::new(Texts::new(BUDGET)),
            written: 0,
        }));
        true
    }

    /// A process was made in slot `q`: it is the next in the order made.
    pub(super) fn note_made(&mut self, q: u32) {
        if let Some(e) = &mut self.epitaphs {
            let i = e.slots.len() as u32;
            e.slots.push(q);
            if e.ordinals.len() <= q as usize {
                e.ordinals.resize(q as usize + 1, NO_PROC);
            }
            e.ordinals[q as usize] = i;
        }
    }

    /// The index in the report of the process in slot `q`: the order made when records are
    /// reused (this file), else the slot.
    #[inline(always)]
    pub(super) fn listed_index(&self, q: u32) -> u32 {
        match &self.epitaphs {
            Some(e) => e.ordinal(q),
            None => q,
        }
    }

    /// Process `q` was reaped: its report is written out now, while its record is whole.
    /// Returns whether its record may be given back. A failure to write stops the run,
    /// naming the temporary file's trouble, and stops giving records back: a collection finds
    /// every reaped record where it lies, so this one would be given back with the others.
    pub(super) fn write_epitaph(&mut self, q: u32) -> bool {
        let Some(e) = &self.epitaphs else {
            return true;
        };
        let i = e.ordinal(q) as usize;
        if e.written >= WRITTEN - 1 {
            self.recycler.on = false;
            self.stop(format!(
                "stopped at tick {}: more than {} processes reaped in a run that lists them all",
                self.now,
                WRITTEN - 1
            ));
            return false;
        }
        let report = self.process_report(q);
        let written = serde_json::to_string(&report)
            .map_err(io::Error::other)
            .and_then(|text| e.texts.borrow_mut().push(&text));
        match written {
            Ok(()) => {
                let Some(e) = &mut self.epitaphs else {
                    return false;
                };
                // The index of the text just pushed: one a process written out, in order.
                let at = e.written;
                e.slots[i] = WRITTEN | at;
                e.written += 1;
                true
            }
            Err(err) => {
                self.recycler.on = false;
                if self.error.is_none() {
                    self.stop(format!(
                        "stopped at tick {}: cannot keep the reports of reaped processes for the file's end: {err}",
                        self.now
                    ));
                }
                false
            }
        }
    }

    /// The report of process `i` (an index below [`Kernel::process_count`]) once the run is
    /// over ([`Kernel::run_streaming`]), read back if it was written out (an error if that
    /// file cannot be read, or for an index past the processes made).
    pub fn listed_process(&self, i: u32) -> io::Result<ProcessReport> {
        if i as usize >= self.process_count() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no process {i}: the run made {}", self.process_count()),
            ));
        }
        match &self.epitaphs {
            Some(e) => match e.read(i) {
                Some(report) => report,
                None => Ok(self.process_report(e.slots[i as usize])),
            },
            None => Ok(self.finished_process(i)),
        }
    }

    /// Where a picture of the finished run ends: the makespan, or a later reaping of a zombie
    /// (a parent that reaped its child after the last exit), as a picture drawn from the
    /// report finds it, without reading the reports written out, nor needing the records
    /// given back (their reapings were tallied as they went, recycle.rs).
    pub fn listed_end(&self) -> u64 {
        let tally = self.tally();
        self.makespan(&tally).max(tally.last_reaping)
    }
}
