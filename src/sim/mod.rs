//! The simulated kernel over event time (SPEC section 3): mechanism only; which process runs
//! next, for how long, and whether it is preempted is the policy's (`sched/`, SPEC §3a).
//!
//! [`Sim`] owns a process table (the `pcb` module), a ready structure behind the [`Policy`]
//! trait, a timer heap for `io`/`sleep`, and one slot per CPU. The files: this one (the kernel
//! and its event loop), `transition.rs` (admitting, blocking, waking, and the transition
//! every one of them records), `build.rs` (making a kernel), `dispatch.rs` (the general
//! rounds of a tick), `fast.rs` (the shortcuts for the commonest events), `fast_burst.rs`
//! (round robin's burst ends in its loop), `fast_multi.rs`, `fast_switch.rs`, `fast_tick.rs`
//! and `fast_lockstep.rs` (those for several CPUs and a switch cost), `fast_wake.rs`
//! (wake-ups at a slice end, a CPU fallen free), `decide.rs` (preemption and the policy's
//! events), `burst.rs` (the burst read-ahead), `exec.rs` (instructions and the
//! process API), `finish.rs` and `stream.rs` (the report). [`Sim::step`] jumps to the next tick at
//! which anything happens (a burst or slice ends, a timer fires, a process arrives, a context
//! switch completes) and settles that tick; [`Sim::run`] steps until nothing is left. Nothing
//! here reads a clock, and every collection is iterated in a fixed order, so a scenario and
//! seed always give the same report.
//!
//! Within one tick the order is fixed: arrivals are admitted, due timers fire, each CPU (lowest
//! first) finishes its burst or slice and runs the instructions that cost nothing; then the
//! processes that became ready join the queue in the scenario's `tick_order`, free CPUs take
//! from the head, and what those run at once may make more processes ready in the same tick,
//! until the tick is quiet.
//!
//! ```
//! use procsim::{Sim, SimOptions};
//! let plan = procsim::load_str(r#"{
//!     "kernel": {"quantum": 4},
//!     "programs": {"p": {"params": ["n"], "body": [{"cpu": "$n"}]}},
//!     "processes": [{"program": "p", "name": "P1", "args": [24]},
//!                   {"program": "p", "name": "P2", "args": [3]},
//!                   {"program": "p", "name": "P3", "args": [3]}]
//! }"#).unwrap();
//! let report = Sim::new(plan, SimOptions::default()).run();
//! assert_eq!(report.summary.makespan, 30);
//! assert_eq!(report.summary.avg_waiting, Some(17.0 / 3.0));
//! ```

mod build;
mod burst;
mod children;
mod decide;
mod dispatch;
mod epitaphs;
mod exec;
mod explain;
mod explain_threads;
mod fast;
mod fast_any;
mod fast_burst;
mod fast_lockstep;
mod fast_multi;
mod fast_switch;
mod fast_tick;
mod fast_wake;
mod finish;
mod host;
mod identity;
mod lifecycle;
mod locks;
mod outside;
mod pcb;
mod pids;
mod record;
mod recycle;
pub mod rng;
pub mod sched;
mod select;
mod stream;
mod thread_reserve;
mod threads;
mod timers;
mod transition;
mod values;

use std::sync::Arc;

use crate::model::State;
use crate::program::Plan;
use crate::report::Report;
use crate::scenario::ReadyGroup;
use pcb::{Hot, Pcb};
use pids::Pids;
use record::Recorder;
pub use record::{
    HELD_NAMES_CEILING, HELD_TRACE_CEILING, KEPT_RECORDS_CEILING, LISTED_PROCESSES_CEILING,
};
use rng::SeededRng;
use sched::Attrs;
pub use sched::{Eevdf, Lottery, Mlfq, Policy, RoundRobin};
pub use select::Sim;
use timers::Timers;

/// What the simulated kernel records besides the figures it always keeps.
#[derive(Debug, Clone, Copy)]
pub struct SimOptions {
    /// Keep every transition (needed for the timeline, the state checks and `--format json`).
    pub trace: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions { trace: true }
    }
}

/// What the policy needs of the kernel, asked once when the kernel is made: each is a call on
/// the path of every wake-up, block or creation otherwise.
#[derive(Debug, Clone, Copy)]
struct Needs {
    /// Attributes and `on_create` (every policy but round robin, which reads none).
    attributes: bool,
    /// Next CPU bursts at each enqueue ([`Policy::needs_bursts`]).
    bursts: bool,
    /// A preemption check after each round ([`Policy::is_preemptive`]).
    preemption: bool,
    /// `charge` at a block ([`Policy::charges_blocks`]).
    block_charges: bool,
}

/// What a CPU is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Idle,
    /// Switching to `p`, which stays `ready` until `until`.
    Switching {
        p: u32,
        from: u64,
        until: u64,
    },
    /// Running `p`; its current burst ends at `burst_end` unless the slice ends first.
    Running {
        p: u32,
        slice_end: u64,
        burst_end: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Cpu {
    run: Run,
    /// The process this CPU ran or switched to last ([`pcb::NO_PROC`] at first).
    last: u32,
    /// When its process started this stretch on it (dispatched, or kept it with a new
    /// slice), for what [`Policy::charge`] is told. The slice-end fast paths, exact for round
    /// robin alone, which charges nothing by it, leave it be.
    since: u64,
}

/// The simulated kernel running one scenario with the policy `P`.
pub struct Kernel<P: Policy> {
    plan: Arc<Plan>,
    /// The plan's instructions, decoded for the interpreter's quick path.
    decoded: Vec<Box<[exec::Quick]>>,
    now: u64,
    /// What every dispatch touches, one cache line a process, apart from the rest.
    hot: Vec<Hot>,
    procs: Vec<Pcb>,
    cpus: Vec<Cpu>,
    policy: P,
    timers: Timers,
    /// Top-level entries by arrival: `(tick, first index, copies)`; the copies of one entry
    /// have consecutive indices, so a million of them cost one element.
    arrivals: Vec<(u64, u32, u32)>,
    next_arrival: usize,
    /// By top-level entry, in the plan's order: the end of its slots (the copies of entry `e`
    /// are slots `top_ends[e - 1] .. top_ends[e]`), from which a top-level record's entry and
    /// copy number follow ([`Kernel::top_entry`]) rather than take 8 bytes of each record.
    top_ends: Vec<u32>,
    /// The tick of the next arrival ([`NONE`](pcb::NONE) when all have arrived).
    next_arrival_at: u64,
    /// `kernel.max_ticks`, copied out of the plan for the hot loop.
    max_ticks: u64,
    /// Bytes of output, for `kernel.max_output_bytes`.
    output_bytes: crate::scenario::OutputMeter,
    /// Trace events recorded, for `kernel.max_trace`.
    traced: u64,
    /// The most transitions a trace held in memory may have, whatever `kernel.max_trace`
    /// says ([`HELD_TRACE_CEILING`] unless the caller set another), and who set it.
    held_ceiling: (u64, &'static str),
    /// Bytes of the names of the processes a held report will list, for
    /// [`record::HELD_NAMES_CEILING`].
    held_names: u64,
    /// The first top-level process whose name passed [`record::HELD_NAMES_CEILING`] while
    /// they were made ([`NO_PROC`](pcb::NO_PROC): none did): a run that holds its report
    /// stops at its first transition, and the report lists the processes before it.
    names_past: u32,
    /// [`record::KEPT_RECORDS_CEILING`], or less in tests.
    records_ceiling: u64,
    /// [`record::LISTED_PROCESSES_CEILING`], or less in tests.
    listed_ceiling: u64,
    /// Items and characters of globals copied on write, for `kernel.max_values`.
    values_copied: u64,
    /// Bytes of every process's globals, for `kernel.max_value_bytes`.
    values_held: crate::scenario::ValuesHeld,
    /// The globals weighed last, for `values_held`.
    last_weighed: values::LastWeighed,
    /// The holders of globals whose records were given back (values.rs).
    absent_holders: values::AbsentHolders,
    /// Ticks settled by round robin's tick on several CPUs (fast_tick.rs), for its test.
    fast_ticks: u64,
    /// Events handled by the general rounds, each tick counting once per CPU, for
    /// `kernel.max_events`.
    events: u64,
    /// Processes that became ready this tick, by group.
    woken: Vec<(u64, u32, u32)>,
    admitted: Vec<u32>,
    preempted: Vec<u32>,
    /// Scratch list of CPUs whose process started running this round.
    started: Vec<u32>,
    /// Whether the shortcuts for the commonest events are on (always for round robin, but in
    /// tests; never for a policy for which they are not exact).
    fast_paths: bool,
    /// Whether the shortcuts for a burst end and for wake-ups on one CPU are on: they hold
    /// for every policy (see `fast.rs`), so they are on but in tests.
    fast_wakes: bool,
    /// Whether `fast_switch.rs`'s `wake_in_slice` is on: always, but in a test.
    wakes_in_slice: bool,
    /// What the policy needs of the kernel, asked once (these are on the hot path).
    needs: Needs,
    /// Each process's scheduling attributes, kept for inheritance (empty under round robin,
    /// which reads none).
    attrs: Vec<Attrs>,
    /// Scratch: a group of processes that become ready together, and their bursts.
    group: Vec<u32>,
    /// With threads on: each task's thread group + 1 (0: none), read at every dispatch and
    /// slice end (the GIL) from 4 bytes a task rather than from the task's records, a cache
    /// miss at 10^5 threads.
    task_group: Vec<u32>,
    /// With threads on: each thread's number N, its default name `Thread-N (program)` made
    /// when shown (0: an explicit name, in its cold part, or not a thread). A name of its own
    /// made at each start cost a thread an allocation and a cold part (threads.rs).
    thread_no: Vec<u32>,
    bursts: Vec<u64>,
    /// Processes whose slice ran out this tick and whose fate is not yet decided.
    pending_preempts: u32,
    /// By process: the CPU its pending preemption is on ([`Kernel::mark_preempt_pending`]).
    pending_on: Vec<u32>,
    /// `kernel.tick_order`, copied out of the plan for the hot loop.
    order: [ReadyGroup; 3],
    pids: Pids,
    rng: SeededRng,
    steps: u64,
    output_lines: u64,
    /// Output and error lines written so far: the next one's number.
    lines: u64,
    switch_ticks: u64,
    context_switches: u64,
    trace: Recorder,
    /// The decision log of `--explain` (`None`, and never looked at on the fast paths,
    /// unless [`Kernel::explain`] asked for it).
    log: Option<explain::Log>,
    /// The ready processes by index, kept only while the log is on (explain.rs).
    ready_ids: explain::ReadyIds,
    /// Why the run stopped early.
    error: Option<String>,
    finished: bool,
    /// The next of the plan's outside signals to send (`plan.events`).
    next_outside: usize,
    /// The admitted processes of each name an outside signal goes to (`None` without
    /// signals; outside.rs).
    outside: Option<outside::Targets>,
    /// The report's notes (at most [`crate::process::MAX_NOTES`]), and how many more were made.
    notes: Vec<crate::report::Note>,
    notes_left_out: u64,
    /// Free slots and the figures of the processes whose records were given back.
    recycler: recycle::Recycler,
    /// The reports of reaped processes, written out so that their records can be given back
    /// in a run that lists every process at its end (`None` otherwise; epitaphs.rs).
    epitaphs: Option<Box<epitaphs::Epitaphs>>,
    /// The plan starts threads: the thread machinery is on (threads.rs), the fast paths and
    /// recycling are off.
    threads_on: bool,
    /// The GIL can bar a task: threads on, `kernel.gil`, and more than one CPU. On one CPU
    /// the task running is the only one that could hold its process's GIL, so no ready task
    /// is ever barred and the GIL's bookkeeping is skipped.
    gil_on: bool,
    /// The thread groups (threads.rs).
    groups: Vec<threads::ThreadGroup>,
    /// With threads on: each record's index in the report's processes ([`pcb::NO_PROC`] for a
    /// thread), and the records of the report's processes in order.
    proc_index: Vec<u32>,
    proc_slots: Vec<u32>,
    /// The top-level processes' globals, which every process that has not written its own
    /// shares (`pcb::Cold::globals`), and how many processes share them: what
    /// `Arc::strong_count` would say were each to hold a clone, 8 bytes a process (values.rs).
    top_globals: Arc<Vec<crate::model::Value>>,
    top_sharers: u64,
    /// With threads on: the tasks blocked joining each task or child, and those blocked in
    /// `wait` by process, so that an end wakes them without a scan of the process's threads.
    joins: std::collections::BTreeMap<u32, Vec<u32>>,
    waits: std::collections::BTreeMap<u32, Vec<u32>>,
}

impl<P: Policy> Kernel<P> {
    /// The current tick.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Turns off the shortcuts for the commonest events, so that every tick goes through the
    /// general rounds; the tests run both ways and compare the reports byte for byte. One
    /// thing may differ, and the tests keep clear of it: the tick at which `kernel.max_events`
    /// stops a run. It bounds the kernel's work, and the shortcuts count less of it: those of
    /// `fast.rs` (slice ends and burst ends on one CPU) and a process alone on its CPU passing
    /// its slice ends count nothing; those of `fast_multi.rs`, `fast_switch.rs` and
    /// `fast_tick.rs` (a switch's end, a tick of timers only, round robin's tick on several
    /// CPUs) count a tick as the general step does.
    #[doc(hidden)]
    pub fn disable_fast_paths(&mut self) {
        self.fast_paths = false;
        self.fast_wakes = false;
        self.policy.disable_shortcuts();
    }

    /// Turns off one shortcut, the others staying on: under a switch cost on one CPU, a
    /// timer that fires in another process's slice is then left to the tick it stands for
    /// (`fast_switch.rs`, `wake_in_slice`), which counts against `kernel.max_events` as the
    /// shortcut does, so the two runs agree on every limit (`tests/fast_switch_loop.rs`).
    #[doc(hidden)]
    pub fn disable_wakes_in_slice(&mut self) {
        self.wakes_in_slice = false;
    }

    /// Why the run stopped early, if a limit stopped it.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// How many processes the run has created so far (threads are not processes).
    pub fn process_count(&self) -> usize {
        if self.threads_on {
            return self.proc_slots.len();
        }
        self.recycler.created as usize
    }

    /// Whether the run is over (every process ended, or a limit stopped it).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Advances to the next tick at which something happens and settles it. Returns false
    /// once the run is over.
    pub fn step(&mut self) -> bool {
        if let Some(more) = self
            .step_lone_slice_end(false)
            .or_else(|| self.step_slice_end_any(false))
            .or_else(|| self.step_slice_end_with_wakes())
            .or_else(|| self.step_burst_end())
            .or_else(|| self.step_lone_switching())
            .or_else(|| self.step_switch_end())
            .or_else(|| self.step_rr_tick(false))
            .or_else(|| self.step_timers())
        {
            return more;
        }
        self.skip_lone_slice_ends();
        self.step_general()
    }

    /// Like [`Kernel::step`], but settles in one call the ticks that follow when they are of a
    /// kind a shortcut goes on with (round robin's slice and burst ends on a single CPU, its
    /// lean tick on several): this is how a run goes fast. Returns false once the run is over.
    pub fn advance(&mut self) -> bool {
        if let Some(more) = self
            .step_lone_slice_end(true)
            .or_else(|| self.step_slice_end_any(true))
            .or_else(|| self.step_slice_end_with_wakes())
            .or_else(|| self.step_burst_end())
            .or_else(|| self.step_lone_switching())
            .or_else(|| self.step_switch_end())
            .or_else(|| self.step_rr_tick(true))
            .or_else(|| self.step_timers())
        {
            return more;
        }
        self.skip_lone_slice_ends();
        self.step_general()
    }

    /// One tick through the general rounds.
    fn step_general(&mut self) -> bool {
        if self.finished {
            return false;
        }
        if self.error.is_some() {
            self.finished = true;
            return false;
        }
        self.drop_stale_timers();
        let Some(t) = self.next_event() else {
            if self.hot.iter().any(|h| h.state != State::Terminated) {
                self.error = Some(format!(
                    "deadlock at tick {}: processes remain but none can make progress",
                    self.now
                ));
            }
            self.finished = true;
            return false;
        };
        let max_ticks = self.max_ticks;
        if t == u64::MAX && max_ticks == u64::MAX {
            // Tick arithmetic saturates here, so time could not advance past it.
            self.now = t;
            self.error = Some(format!(
                "stopped at tick {t}: simulated time cannot go past the largest 64-bit tick"
            ));
            self.finished = true;
            return false;
        }
        if t > max_ticks {
            self.now = max_ticks;
            self.error = Some(format!(
                "stopped at tick {max_ticks}: kernel.max_ticks ({max_ticks}) reached with processes still running; raise it in the scenario's \"kernel\" block"
            ));
            self.finished = true;
            return false;
        }
        if self.count_events() {
            return false;
        }
        self.now = t;
        // Signals from outside come first: the tick's other events no longer concern the
        // processes they end.
        self.deliver_outside(t);
        self.admit_arrivals(t);
        self.fire_timers(t);
        if !self.end_cpu_events(t) {
            return false;
        }
        if self.policy.next_event() == Some(t) {
            self.policy_event(t);
        }
        self.settle(t);
        if self.error.is_some() {
            self.finished = true;
        }
        !self.finished
    }

    /// Runs to the end and returns the report.
    pub fn run(mut self) -> Report {
        while self.advance() {}
        self.report()
    }

    /// The earliest tick at which something is due.
    #[inline(always)]
    fn next_event(&self) -> Option<u64> {
        // Something may be due at the very last tick, u64::MAX, which is also the "nothing"
        // value of the fields below; `pending` tells the two apart.
        let mut pending = self.next_arrival < self.arrivals.len();
        let mut next = self.next_arrival_at;
        if let Some(t) = self.timers.next_at() {
            pending = true;
            next = next.min(t);
        }
        if let Some(e) = self.plan.events.get(self.next_outside) {
            pending = true;
            next = next.min(e.at);
        }
        if let Some(t) = self.policy.next_event() {
            pending = true;
            next = next.min(t);
        }
        for cpu in &self.cpus {
            match cpu.run {
                Run::Idle => {}
                Run::Switching { until, .. } => {
                    pending = true;
                    next = next.min(until);
                }
                Run::Running {
                    slice_end,
                    burst_end,
                    ..
                } => {
                    pending = true;
                    next = next.min(slice_end.min(burst_end));
                }
            }
        }
        pending.then_some(next)
    }

    /// Stops the run with an error; the report is partial.
    fn stop(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }
}
