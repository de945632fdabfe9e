//! Where the kernel's transitions go (the report, a stream, nowhere), and the limits on them:
//! `kernel.max_trace`, and the ceiling a scenario cannot raise on a trace held in memory.

use super::pcb::NO_PROC;
use super::{Kernel, Policy, explain};
use crate::model::{Cause, State};
use crate::report::TraceEvent;

/// The most transitions a run holds in memory for a report (`--check`, `compare`, `graph tree`,
/// `--format html`), whatever the scenario's `kernel.max_trace` says: about 32 bytes each, so
/// 320 MB. A scenario from someone else may set `max_trace` as high as it likes; only the
/// person running it may raise this ([`Sim::hold_at_most`], the CLI's `--trace-ceiling`).
/// A trace passed on as it is made (`json`, `perfetto`, `svg`, the table) holds none, and
/// `max_trace` alone bounds it.
pub const HELD_TRACE_CEILING: u64 = 10_000_000;

/// The most bytes of process names a run holds for a report. A report names every process in
/// full, and a default name spells out the path from the top (`Process-1:1:…:1`), as long as
/// the depth: a 30,000-deep chain of a few hundred bytes of scenario makes 900 MB of names,
/// and `graph tree` of a 10,000-deep one (100 MB of names) held 389 MB. A million processes
/// of 32-character names fit; a name past it stops the run (exit 3), as the held trace does.
/// A name counts when its process is made (`Kernel::hold_name`), started or not.
/// Not settable: the formats that pass the trace on (`json`, `perfetto`, `svg`, the table)
/// or `--format summary` hold no report.
pub const HELD_NAMES_CEILING: u64 = 32 << 20;

/// The most processes and threads a run that keeps every record may make: a report held
/// whole keeps each one's record to the end of the run, a few hundred bytes each (`repeat
/// 10^6 { fork c; join c }` in `--check`: 1.29 GB), and so do `json`, `perfetto` and `svg`
/// in a run whose records cannot be given back (threads, outside signals; recycle.rs), so a
/// scenario that raises `max_trace` and `max_steps` could otherwise make them without bound.
/// Past it the run stops (exit 3). Not settable by a scenario. Runs that give reaped records
/// back are not held to it: `--format summary`, the table, and `json`, `perfetto` and `svg`,
/// which write each process's report out when it is reaped (epitaphs.rs).
pub const KEPT_RECORDS_CEILING: u64 = 2_000_000;

/// The most processes a run that writes each process's report out when it is reaped may make
/// (`--format json`, `perfetto`, `svg`; epitaphs.rs): its records are given back, but 12 bytes
/// a process stay in the kernel and more in the file's own state (Perfetto's, some 64 bytes a
/// process: 102 MB in all at 10^6), and some 330 bytes a process go to a temporary file. Past
/// it the run stops (exit 3). Not settable by a scenario.
pub const LISTED_PROCESSES_CEILING: u64 = 4_000_000;

/// Where transitions go: nowhere (only the figures are kept), into the report, or out to a
/// writer as they happen (a report too large to hold).
pub(super) enum Recorder {
    Off,
    Keep(Vec<TraceEvent>),
    Stream(Box<dyn FnMut(&TraceEvent)>),
}

impl<P: Policy> Kernel<P> {
    /// Sets the most transitions this run may hold in memory ([`HELD_TRACE_CEILING`] by
    /// default), and who set it, for the message when it is reached.
    pub fn hold_at_most(&mut self, ceiling: u64, by: &'static str) {
        self.held_ceiling = (ceiling, by);
    }

    /// Sets the most processes and threads this run may make while it keeps every record
    /// ([`KEPT_RECORDS_CEILING`] by default; tests set less).
    #[doc(hidden)]
    pub fn keep_at_most_records(&mut self, ceiling: u64) {
        self.records_ceiling = ceiling;
    }

    /// Sets the most processes a run that writes their reports out may make
    /// ([`LISTED_PROCESSES_CEILING`] by default; tests set less).
    #[doc(hidden)]
    pub fn list_at_most_processes(&mut self, ceiling: u64) {
        self.listed_ceiling = ceiling;
    }

    /// A process or thread was made: past the ceiling on records kept, or on processes listed
    /// by a run that writes their reports out, the run stops (the record stays, as made).
    /// Records given back as they go in a run that lists nothing are not counted.
    pub(super) fn count_record(&mut self) {
        if self.epitaphs.is_some() && self.recycler.created > self.listed_ceiling {
            self.stop(format!(
                "stopped at tick {}: the ceiling on processes made in a run whose file lists every process ({}) reached, which a scenario cannot raise: --format json, perfetto and svg write each process's report out when it is reaped, 12 bytes a process stay in memory; --format summary and the table keep only the live processes'",
                self.now, self.listed_ceiling
            ));
        }
        if !self.recycler.on && self.recycler.created > self.records_ceiling {
            self.stop(format!(
                "stopped at tick {}: the ceiling on processes and threads made while every record is kept ({}) reached, which a scenario cannot raise: a report held whole keeps every process's record to its end, as --format json, perfetto and svg do in a run with threads or outside signals; --format summary, the table, and json, perfetto and svg otherwise, keep only the live processes' records",
                self.now, self.records_ceiling
            ));
        }
    }

    /// Hands a transition to the recorder, if one is on.
    #[inline(always)]
    pub(super) fn record(
        &mut self,
        t: u64,
        p: u32,
        from: State,
        to: State,
        cause: Cause,
        cpu: Option<u32>,
    ) {
        if !matches!(self.trace, Recorder::Off) {
            // A thread's transitions are its process's, with its tid (threads.rs).
            let (proc, pid, tid) = if self.threads_on {
                self.event_ids(p)
            } else {
                (self.listed_index(p), self.hot[p as usize].pid, None)
            };
            self.record_event(
                TraceEvent {
                    t,
                    proc,
                    pid,
                    from,
                    to,
                    cause,
                    cpu,
                    tid,
                },
                p,
            );
        }
    }

    /// Counts process `p`'s name among those the report will hold, when it is held whole: at
    /// the process's creation, since a report lists every process made, started or not (a
    /// million-character name with `count: 4000`, counted at each copy's first transition,
    /// let the 4,000 names into the report after the run stopped). False once they pass
    /// [`HELD_NAMES_CEILING`].
    pub(super) fn count_name(&mut self, p: u32) -> bool {
        if !matches!(self.trace, Recorder::Keep(_)) {
            return true;
        }
        self.held_names = self.held_names.saturating_add(self.name_len(p) as u64);
        self.held_names <= HELD_NAMES_CEILING
    }

    /// [`Kernel::count_name`] for a child made as the run goes; past the ceiling, the run
    /// stops (the child stays, as made).
    pub(super) fn hold_name(&mut self, p: u32) {
        if !self.count_name(p) {
            self.stop_at_names_ceiling();
        }
    }

    fn stop_at_names_ceiling(&mut self) {
        self.stop(format!(
            "stopped at tick {}: the ceiling on process names held in memory for this report ({} bytes) reached, which no setting raises (default names grow with the depth of a chain of processes: `Process-1:1:…`); use a format that passes the trace on as it runs (json, perfetto, svg, table) or --format summary",
            self.now, HELD_NAMES_CEILING
        ));
    }

    /// Counts and hands on transition `event` of task `p`.
    pub(super) fn record_event(&mut self, event: TraceEvent, p: u32) {
        self.traced += 1;
        let max = self.plan.kernel.max_trace;
        let (ceiling, by) = self.held_ceiling;
        let held = matches!(self.trace, Recorder::Keep(_));
        // A trace kept names processes by slot, which reused records would make ambiguous
        // (`recycle_reaped_following` is for streamed runs).
        debug_assert!(
            !(held && self.recycler.on),
            "a kept trace with records reused"
        );
        if held && self.traced > ceiling && ceiling < max {
            if self.error.is_none() {
                self.stop(format!(
                    "stopped at tick {}: the ceiling on transitions held in memory for this report ({ceiling}, {by}) reached, below kernel.max_trace ({max}), which a scenario cannot raise past it; pass --trace-ceiling N to hold more, knowingly, or use a format that passes the trace on as it runs (json, perfetto, svg, table) or --format summary",
                    event.t
                ));
            }
            return;
        }
        if held && self.names_past != NO_PROC {
            // The top-level processes' names alone pass the ceiling: the run stops before its
            // first transition, and the report lists those made before the name that passed it.
            self.stop_at_names_ceiling();
            return;
        }
        if self.traced > max {
            if self.error.is_none() {
                self.stop(format!(
                    "stopped at tick {}: kernel.max_trace ({max} trace events) reached; raise it, or use --format summary, which keeps no trace",
                    event.t
                ));
            }
            return;
        }
        if matches!(self.log, Some(explain::Log::Write(_))) {
            self.explain_transition(&event, p);
        }
        match &mut self.trace {
            Recorder::Off => {}
            Recorder::Keep(events) => events.push(event),
            Recorder::Stream(sink) => sink(&event),
        }
    }
}
