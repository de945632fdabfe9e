//! Giving back the records of processes that nobody can see any more, so that a run whose
//! report lists no process (`--format summary`, sweeps) holds memory for the processes that
//! are alive, as a real kernel reuses its task structs (issue #13: `repeat 1,000,000 { fork c;
//! join c }` kept every process that ever lived, 638 MB). A run whose file lists every
//! process at its end writes each one's report out first (epitaphs.rs).
//!
//! A reaped process is gone for the kernel, but its record may still be seen through a handle:
//! `{c.exitcode}`, `join c` or `c.is_alive()` after the join, in the parent or in any process
//! that copied the parent's handles at a fork. Handles can form cycles (a child copies a handle
//! to itself at `start` and hands it to its own children), so reference counts would leak; the
//! records are traced instead, as a garbage collector does. Every record that is not reaped is
//! a root; a reaped record that no root reaches through handles, directly or through other
//! reaped records, is given back: its figures go into the summary's running [`Tally`], its
//! slot goes on a free list for the next process created. A collection looks at the whole
//! table, so it runs only once the reaped records waiting for one are a quarter of the table
//! (and at least [`MIN_BATCH`]): each reap costs O(1) amortized, and the table stays within a
//! small factor of the records that must be kept.
//!
//! What else names a process by its slot is made safe for reuse here: a CPU's `last` process
//! (a reused slot is another process, so dispatching it is a context switch), a reaped child's
//! `parent` (it can no longer be anyone's child: init's, as if adopted, which no scenario can
//! see once it is reaped), and timers (a killed process's
//! timer stays in the queue until its tick, so its slot waits for it: `Pcb::timers`).
//! Nothing observable depends on which slot a process has: ties are broken by pid or by the
//! order of events, never by slot (a test runs every scenario both ways, for every policy).

use super::finish::Tally;
use super::pcb::{Hot, Kind, NO_PROC, Pcb, advise_huge_pages};
use super::{Kernel, Policy, Recorder};
use crate::model::State;

/// The fewest reaped records worth a collection.
pub(super) const MIN_BATCH: usize = 1024;

/// The free slots and the figures of the processes given back.
///
/// Nothing here grows with the processes but the marks, a bit a record: the free slots are a
/// stack threaded through the vacant records themselves ([`Pcb::parent`] of a vacant record
/// names the next free slot), and the reaped records waiting for a collection are counted,
/// not listed (a collection finds them in its pass over the table). A list of each took 4
/// bytes a process at 10^6 (the free slots, once every record is given back at the end) and
/// a quarter of that (the reaped ones), a byte for the marks (issue #13).
#[derive(Debug)]
pub(super) struct Recycler {
    /// Whether records are given back at all (only when nothing will list the processes).
    pub on: bool,
    /// The slot given back last ([`NO_PROC`]: none free), the top of the stack.
    free: u32,
    /// Reaped records not given back yet.
    reaped: usize,
    /// `reaped` at which the next collection runs.
    next_collection: usize,
    /// The fewest reaped records a collection waits for ([`MIN_BATCH`]; 1 in tests).
    batch: usize,
    /// The summary's figures of the processes given back.
    pub gone: Tally,
    /// Processes created in all (slots are reused, so the table's length is not it).
    pub created: u64,
    /// Slots below it are never given back: the first processes made, which a streamed view
    /// follows ([`Kernel::recycle_reaped_following`]).
    keep: usize,
    /// Scratch: the marks of one collection, a bit a record, and its work list.
    marks: Vec<u64>,
    work: Vec<u32>,
}

impl Default for Recycler {
    fn default() -> Self {
        Recycler {
            on: false,
            free: NO_PROC,
            reaped: 0,
            next_collection: 0,
            batch: 0,
            gone: Tally::default(),
            created: 0,
            keep: 0,
            marks: Vec::new(),
            work: Vec::new(),
        }
    }
}

impl<P: Policy> Kernel<P> {
    /// Gives back the records of reaped processes that nothing can see any more, from now on,
    /// so that memory follows the live processes. Only for a run whose per-process report is
    /// never asked for (a summary): [`Kernel::report`] would list only the records kept.
    /// Does nothing, and returns false, when transitions are kept or explained (they name
    /// processes by slot). A policy decides by pids, tickets, figures and the order of events,
    /// never by slot (lottery's line is by position in the line since dc17619), so reused
    /// slots change no decision.
    pub fn recycle_reaped(&mut self) -> bool {
        self.recycle_in_batches_of(MIN_BATCH)
    }

    /// [`Kernel::recycle_reaped`] with a collection as soon as `batch` records are reaped
    /// (tests: 1 gives back each record at the first moment it can be).
    #[doc(hidden)]
    pub fn recycle_in_batches_of(&mut self, batch: usize) -> bool {
        if !matches!(self.trace, Recorder::Off) {
            return false;
        }
        self.start_recycling(batch, 0)
    }

    /// [`Kernel::recycle_reaped`] for a run whose transitions go to a view that follows only
    /// the first `keep` processes made (the table's rows): their records are never given
    /// back, and nothing else of the run is listed. Run it with [`Kernel::run_streaming`]
    /// (a trace kept would name processes by slot). Which processes those are does not
    /// change: a slot is given back only at or past `keep`, which takes `keep + 1` processes
    /// made, so the first `keep` have the first `keep` slots. The transitions of the others
    /// name slots that are reused; a view that follows them by slot (a CPU's lane, a row of
    /// theirs) must not ask for this.
    pub fn recycle_reaped_following(&mut self, keep: usize) -> bool {
        if matches!(self.trace, Recorder::Off) {
            return false;
        }
        self.start_recycling(MIN_BATCH, keep)
    }

    pub(super) fn start_recycling(&mut self, batch: usize, keep: usize) -> bool {
        // A thread group names its tasks by slot (threads.rs): a run with threads keeps its
        // records. An outside signal goes to the first live process of its name in the order
        // they were made, which is slot order only while no slot is reused (a child given a
        // reaped child's lower slot would come first), and says "ended" for a name whose
        // processes all ended, which a given-back record no longer shows: a run with outside
        // signals keeps its records too. The explanation log names processes by slot.
        if self.log.is_some() || self.threads_on || !self.plan.events.is_empty() {
            return false;
        }
        self.recycler.on = true;
        self.recycler.keep = keep;
        self.recycler.batch = batch.max(1);
        self.recycler.next_collection = self.recycler.batch;
        true
    }

    /// The slot for a new process: a free one, or a new one at the end of the table.
    pub(super) fn new_slot(&mut self, pcb: Pcb, hot: Hot) -> u32 {
        self.recycler.created += 1;
        if self.threads_on {
            // No record is reused with threads on (`recycle_in_batches_of`): the slot is the
            // table's next. A thread's entry is corrected by its maker.
            self.proc_index.push(self.proc_slots.len() as u32);
            self.proc_slots.push(self.procs.len() as u32);
        }
        let q = if self.recycler.free != NO_PROC {
            let q = self.recycler.free;
            self.recycler.free = self.procs[q as usize].parent;
            self.procs[q as usize] = pcb;
            self.hot[q as usize] = hot;
            q
        } else {
            // The tables grow (a run's children or threads, made as it goes, where the
            // top-level processes were reserved at once) into memory backed by huge pages, as
            // the first reservation was.
            grow_advised(&mut self.procs);
            grow_advised(&mut self.hot);
            self.procs.push(pcb);
            self.hot.push(hot);
            (self.procs.len() - 1) as u32
        };
        self.note_made(q);
        q
    }

    /// Process `q` was reaped: its record is given back once nothing sees it.
    pub(super) fn recycle_later(&mut self, q: u32) {
        if !self.recycler.on {
            return;
        }
        debug_assert!(self.procs[q as usize].is_reaped());
        if !self.write_epitaph(q) {
            return;
        }
        self.recycler.reaped += 1;
        if self.recycler.reaped >= self.recycler.next_collection {
            self.collect();
        }
    }

    /// Sets a timer: every timer goes through here, so that its slot is known to be named.
    #[inline(always)]
    pub(super) fn set_timer(&mut self, timer: super::timers::Timer) {
        self.count_timer(timer.p, true);
        self.timers.push(timer);
    }

    /// A timer naming `p` was set (`up`) or fired: a slot is not reused while a timer that
    /// names it waits in the queue (a killed process's, or a join's overtaken by the child).
    #[inline(always)]
    pub(super) fn count_timer(&mut self, p: u32, up: bool) {
        if self.recycler.on {
            let timers = &mut self.procs[p as usize].timers;
            *timers = if up { *timers + 1 } else { *timers - 1 };
        }
    }

    /// Marks what the processes not reaped can see; gives back the reaped records they cannot.
    fn collect(&mut self) {
        let n = self.procs.len();
        let mut marks = std::mem::take(&mut self.recycler.marks);
        let mut work = std::mem::take(&mut self.recycler.work);
        marks.clear();
        marks.resize(n.div_ceil(64), 0);
        work.clear();
        let root = |pcb: &Pcb| !pcb.vacant() && !pcb.is_reaped();
        for (q, pcb) in self.procs.iter().enumerate() {
            if root(pcb) {
                marks[q / 64] |= 1 << (q % 64);
            }
        }
        // What a root's handle reaches is kept, and so is what its handles reach (a loop, not
        // a recursion: the depth of a chain of handles is the scenario's). Only reaped records
        // go through the work list: the roots are looked at where they lie, so that a table
        // of a million live processes needs no list of them.
        for pcb in &self.procs {
            if root(pcb) {
                mark_handles(pcb, &mut marks, &mut work);
            }
        }
        while let Some(q) = work.pop() {
            mark_handles(&self.procs[q as usize], &mut marks, &mut work);
        }
        // The reaped records, found where they lie, in slot order.
        let mut kept = 0;
        let mut gave = false;
        for q in 0..n {
            let pcb = &self.procs[q];
            if pcb.vacant() || !pcb.is_reaped() {
                continue;
            }
            if marks[q / 64] & (1 << (q % 64)) != 0 || pcb.timers > 0 || q < self.recycler.keep {
                kept += 1;
            } else {
                self.give_back(q as u32);
                gave = true;
            }
        }
        if gave {
            // The reaped children of a record given back are nobody's children any more (a
            // vacant record's `parent` is the free stack's link, not a parent).
            for q in 0..n {
                let parent = self.procs[q].parent;
                if parent != NO_PROC
                    && !self.procs[q].vacant()
                    && self.procs[parent as usize].vacant()
                {
                    self.procs[q].parent = NO_PROC;
                }
            }
        }
        // A quarter of the table keeps a collection's cost O(1) a reap, amortized; a batch of
        // 1 (tests) collects at every reap.
        let step = match self.recycler.batch {
            1 => 1,
            batch => batch.max(n / 4),
        };
        self.absent_holders.prune();
        self.recycler.reaped = kept;
        self.recycler.next_collection = kept + step;
        self.recycler.marks = marks;
        self.recycler.work = work;
    }

    /// Tallies `q`'s figures and frees its slot.
    fn give_back(&mut self, q: u32) {
        let (pcb, hot) = (&self.procs[q as usize], &self.hot[q as usize]);
        debug_assert_eq!(hot.state, State::Terminated);
        self.recycler.gone.add(pcb, hot, self.now);
        // It still shares its globals, as a held run's reaped record does (its report lists
        // them): a write in a process that shares them with it is a copy, counted against
        // `kernel.max_values` (values.rs). `top_sharers` keeps counting it; its own globals'
        // other holders are told it is absent.
        if let Some(globals) = pcb.own_globals() {
            self.absent_holders.add(globals);
        }
        // Created at 0: a record created later would allocate a cold part for its tick.
        let mut empty = Pcb::new(self.recycler.free, 0);
        empty.kind = Kind::Vacant;
        self.procs[q as usize] = empty;
        for cpu in &mut self.cpus {
            if cpu.last == q {
                cpu.last = NO_PROC;
            }
        }
        self.recycler.free = q;
    }
}

/// Doubles a full `table`'s capacity into memory advised for huge pages before anything is
/// written to it. `Vec`'s own growth copies the table into fresh memory first, which faults
/// that memory in 4 KiB pages before it can be advised: 10^5 threads, made as the run goes,
/// took 7,040 page faults against 4,058 for the same 10^5 processes, reserved at once
/// (`perf stat -e page-faults procsim run`); 4,747 since.
fn grow_advised<T>(table: &mut Vec<T>) {
    if table.len() < table.capacity() {
        return;
    }
    let mut bigger = Vec::with_capacity(table.capacity().max(4) * 2);
    advise_huge_pages(&bigger);
    bigger.append(table);
    *table = bigger;
}

/// Marks what `pcb`'s handles reach, and lists what was not marked before.
fn mark_handles(pcb: &Pcb, marks: &mut [u64], work: &mut Vec<u32>) {
    let Some(cold) = pcb.cold.as_deref() else {
        return;
    };
    for &(_, r) in &cold.handles {
        let (word, bit) = (r as usize / 64, 1u64 << (r % 64));
        if marks[word] & bit == 0 {
            marks[word] |= bit;
            work.push(r);
        }
    }
}
