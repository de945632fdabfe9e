//! The simulated kernel: round robin over event time (SPEC section 3).
//!
//! [`Sim`] owns a process table (the `pcb` module), a ready structure behind the [`Policy`] trait, a
//! timer heap for `io`/`sleep`, and one slot per CPU. [`Sim::step`] jumps to the next tick at
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

mod burst;
mod decide;
mod exec;
mod finish;
mod identity;
mod pcb;
mod pids;
pub mod rng;
pub mod sched;
mod stream;
mod timers;

use std::sync::Arc;

use crate::model::{Cause, State, is_legal_transition};
use crate::program::Plan;
use crate::report::{Report, TraceEvent};
use crate::scenario::ReadyGroup;
use pcb::{Hot, NO_PROC, NONE, Pcb, WaitOn};
use pids::Pids;
use rng::SeededRng;
use sched::{Attrs, Leave, Ready, Usage};
pub use sched::{Policy, RoundRobin, Scheduler};
use timers::{Timer, Timers};

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

/// Where transitions go: nowhere (only the figures are kept), into the report, or out to a
/// writer as they happen (a report too large to hold).
enum Recorder {
    Off,
    Keep(Vec<TraceEvent>),
    Stream(Box<dyn FnMut(&TraceEvent)>),
}

/// A hint to bring `value`'s cache line in; no effect on what the program computes.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing into the program; the pointer comes
    // from a live reference.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Asks the kernel to back a large table with huge pages, where it can (a hint, like
/// [`prefetch`]): a million processes' records are some 180 MiB, and in 4 KiB pages faulting
/// them in and missing the TLB cost RR-IO-v1 at a million processes a sixth of its time.
fn advise_huge_pages<T>(table: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        const HUGE: usize = 2 << 20;
        let bytes = table.capacity() * std::mem::size_of::<T>();
        if bytes < 2 * HUGE {
            return;
        }
        let start = (table.as_ptr() as usize).next_multiple_of(PAGE);
        let end = (table.as_ptr() as usize + bytes) / PAGE * PAGE;
        // SAFETY: madvise with MADV_HUGEPAGE changes how the pages of a range we own are
        // backed, never their contents; the range lies inside the table's allocation and is
        // page-aligned as madvise requires. A failure only means no huge pages.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = table;
}

/// How a dispatch on a single CPU left it (see [`Kernel::dispatch_on_lone_cpu`]).
enum Dispatched {
    /// A context switch is under way.
    Switching,
    /// The process is running and must first run its instructions (its burst is over).
    Starting,
    /// The process is running on with its burst.
    Running { slice_end: u64, burst_end: u64 },
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
    /// The process this CPU ran or switched to last ([`NO_PROC`] at first).
    last: u32,
    /// When its process started this stretch on it (dispatched, or kept it with a new
    /// slice), for what [`Policy::charge`] is told. The fast paths, exact for round robin
    /// alone, which charges nothing by it, leave it be.
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
    /// Top-level processes by arrival: `(tick, index)`, and the next to admit.
    /// Top-level entries by arrival: `(tick, first index, copies)`; the copies of one entry
    /// have consecutive indices, so a million of them cost one element.
    arrivals: Vec<(u64, u32, u32)>,
    next_arrival: usize,
    /// The tick of the next arrival ([`NONE`] when all have arrived).
    next_arrival_at: u64,
    /// `kernel.max_ticks`, copied out of the plan for the hot loop.
    max_ticks: u64,
    /// Processes that became ready this tick, by group.
    woken: Vec<(u64, u32, u32)>,
    admitted: Vec<u32>,
    preempted: Vec<u32>,
    /// Scratch list of CPUs whose process started running this round.
    started: Vec<u32>,
    /// Whether the shortcuts for the commonest events are on (always for round robin, but in
    /// tests; never for a policy for which they are not exact).
    fast_paths: bool,
    /// Each process's scheduling attributes, kept for inheritance (empty under round robin,
    /// which reads none).
    attrs: Vec<Attrs>,
    /// Scratch: a group of processes that become ready together, and their bursts.
    group: Vec<u32>,
    bursts: Vec<u64>,
    /// Processes whose slice ran out this tick and whose fate is not yet decided.
    pending_preempts: u32,
    /// `kernel.tick_order`, copied out of the plan for the hot loop.
    order: [ReadyGroup; 3],
    pids: Pids,
    rng: SeededRng,
    steps: u64,
    output_lines: u64,
    switch_ticks: u64,
    context_switches: u64,
    trace: Recorder,
    /// Why the run stopped early.
    error: Option<String>,
    finished: bool,
}

/// The simulated kernel with the scenario's policy.
pub type Sim = Kernel<Scheduler>;

impl Sim {
    /// A kernel ready to run `plan`, with its top-level processes created in `new`.
    pub fn new(plan: Arc<Plan>, opts: SimOptions) -> Sim {
        let policy = Scheduler::new(&plan.kernel);
        Kernel::with_policy(plan, opts, policy)
    }
}

impl<P: Policy> Kernel<P> {
    /// A kernel for `plan` with a policy of the caller's choosing.
    pub fn with_policy(plan: Arc<Plan>, opts: SimOptions, policy: P) -> Self {
        let k = &plan.kernel;
        let fast_paths = policy.fast_paths_exact();
        let mut kernel = Kernel {
            cpus: vec![
                Cpu {
                    run: Run::Idle,
                    last: NO_PROC,
                    since: 0,
                };
                k.cpus as usize
            ],
            pids: Pids::new(k.pid_max),
            rng: SeededRng::new(plan.seed),
            now: 0,
            hot: Vec::new(),
            procs: Vec::new(),
            policy,
            timers: Timers::default(),
            arrivals: Vec::new(),
            next_arrival: 0,
            next_arrival_at: NONE,
            max_ticks: k.max_ticks,
            woken: Vec::new(),
            admitted: Vec::new(),
            preempted: Vec::new(),
            started: Vec::new(),
            pending_preempts: 0,
            fast_paths,
            attrs: Vec::new(),
            group: Vec::new(),
            bursts: Vec::new(),
            order: [k.tick_order[0], k.tick_order[1], k.tick_order[2]],
            steps: 0,
            output_lines: 0,
            switch_ticks: 0,
            context_switches: 0,
            trace: if opts.trace {
                Recorder::Keep(Vec::new())
            } else {
                Recorder::Off
            },
            error: None,
            finished: false,
            decoded: exec::decode_programs(&plan.programs),
            plan,
        };
        kernel.create_top_level();
        kernel
    }

    fn create_top_level(&mut self) {
        let plan = Arc::clone(&self.plan);
        let globals = Arc::new(plan.globals.iter().map(|(_, v)| v.clone()).collect());
        let total: u64 = plan.processes.iter().map(|e| e.count).sum();
        self.procs.reserve(total as usize);
        self.hot.reserve(total as usize);
        advise_huge_pages(&self.procs);
        advise_huge_pages(&self.hot);
        for (entry, top) in plan.processes.iter().enumerate() {
            let needs_args = !top.args.is_empty() || !top.kwargs.is_empty();
            let args = if needs_args {
                let mut args = Vec::with_capacity(top.args.len());
                for a in &top.args {
                    args.push(self.eval_static(a));
                }
                let kwargs: Vec<_> = top
                    .kwargs
                    .iter()
                    .map(|(k, v)| (Arc::clone(k), self.eval_static(v)))
                    .collect();
                Some((args, kwargs))
            } else {
                None
            };
            for copy in 1..=top.count {
                // Validation guarantees the top-level processes fit under pid_max.
                let Some(pid) = self.pids.alloc() else {
                    self.error = Some("no free pid for a top-level process".into());
                    return;
                };
                let idx = self.procs.len() as u32;
                let mut pcb = Pcb::new(NO_PROC, Arc::clone(&globals), 0);
                pcb.entry = entry as u32;
                pcb.copy = copy as u32;
                pcb.started = true;
                if let Some((args, kwargs)) = &args {
                    let cold = pcb.cold();
                    cold.args = args.clone();
                    cold.kwargs = kwargs.clone();
                }
                self.procs.push(pcb);
                self.hot.push(Hot::new(top.program, pid, 0));
                self.created(idx, top.attrs, None);
                if copy == 1 {
                    self.arrivals.push((top.arrival, idx, top.count as u32));
                }
            }
        }
        // Stable sort: same-tick arrivals stay in scenario order.
        self.arrivals.sort_by_key(|&(t, ..)| t);
        self.next_arrival_at = self.arrivals.first().map_or(NONE, |a| a.0);
    }

    /// The current tick.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Turns off the shortcuts for the commonest events, so that every tick goes through the
    /// general rounds; the tests run both ways and compare the reports byte for byte.
    #[doc(hidden)]
    pub fn disable_fast_paths(&mut self) {
        self.fast_paths = false;
    }

    /// Why the run stopped early, if a limit stopped it.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// How many processes the run has created so far.
    pub fn process_count(&self) -> usize {
        self.procs.len()
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
            .or_else(|| self.step_burst_end())
        {
            return more;
        }
        self.step_general()
    }

    /// Like [`Kernel::step`], but when the ticks that follow are only slice ends on a single
    /// CPU (each hands the CPU to the head of the queue and changes nothing else), settles
    /// them all in one call: this is how a run goes fast. Returns false once the run is over.
    pub fn advance(&mut self) -> bool {
        if let Some(more) = self
            .step_lone_slice_end(true)
            .or_else(|| self.step_burst_end())
        {
            return more;
        }
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
        self.now = t;
        self.admit_arrivals(t);
        self.fire_timers(t);
        for c in 0..self.cpus.len() {
            match self.cpus[c].run {
                Run::Switching { until, .. } if until == t => self.finish_switch(c),
                Run::Running { p, burst_end, .. } if burst_end == t => self.finish_burst(c, p),
                Run::Running {
                    p,
                    slice_end,
                    burst_end,
                } if slice_end == t => {
                    self.hot[p as usize].burst_left = burst_end - t;
                    self.expire_slice(c, p);
                }
                _ => {}
            }
            if self.error.is_some() {
                self.finished = true;
                return false;
            }
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

    /// The commonest event of a busy run, in one place: on a single CPU, the running process's
    /// slice ends before anything else is due (no burst end, timer, arrival or limit at or
    /// before that tick). Then the tick's only ready group is that process, and what the general
    /// rounds of [`Kernel::settle`] would do comes down to this: it keeps the CPU if the queue
    /// is empty, else it goes to the tail and the head is dispatched. With `batch`, goes on
    /// with the ticks that follow for as long as they are of the same kind; after a dispatched
    /// process ran instructions, what else is due is looked up again. Returns `None` when the
    /// next event is anything else. (The scenario and property tests
    /// hold both paths to the same reports.)
    #[inline(always)]
    fn step_lone_slice_end(&mut self, batch: bool) -> Option<bool> {
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if !self.fast_paths || self.finished || self.error.is_some() {
            return None;
        }
        let Run::Running {
            mut p,
            slice_end: mut t,
            mut burst_end,
        } = cpu.run
        else {
            return None;
        };
        let mut horizon = self.horizon();
        if t >= burst_end || t >= horizon {
            return None;
        }
        loop {
            self.now = t;
            self.prefetch_upcoming();
            let Some(q) = self.policy.pick(t, &mut self.rng) else {
                // Alone: it keeps the CPU. Nothing can join the queue before the next arrival
                // or timer, so the slice boundaries before then (or before its burst ends)
                // pass without effect; go straight to the first one that might matter.
                // Boundaries stay where they were, a whole number of slices apart, so what is
                // left of a slice when the burst ends is the same as if each had been stepped
                // through.
                let slice = self.policy.slice(p, t);
                let horizon = burst_end.min(horizon);
                let slices = (horizon - t).div_ceil(slice).max(1);
                self.cpus[0].run = Run::Running {
                    p,
                    slice_end: t.saturating_add(slices.saturating_mul(slice)),
                    burst_end,
                };
                return Some(true);
            };
            // What `transition` would do, with what is known here folded in. (Round robin
            // charges nothing at a slice end, so `charge` is not called.)
            self.policy.enqueue(p, Ready::SliceEnd, 0, t);
            let hot = &mut self.hot[p as usize];
            hot.burst_left = burst_end - t;
            hot.preemptions = hot.preemptions.saturating_add(1);
            debug_assert_eq!(hot.state, State::Running);
            hot.cpu += t - hot.since;
            hot.since = t;
            hot.state = State::Ready;
            self.record(t, p, State::Running, State::Ready, Cause::Preempt, Some(0));
            match self.dispatch_on_lone_cpu(q, t) {
                Dispatched::Switching => break,
                Dispatched::Running {
                    slice_end,
                    burst_end: end,
                } => {
                    (p, t, burst_end) = (q, slice_end, end);
                }
                Dispatched::Starting => {
                    // It runs instructions first, which may change what is due.
                    self.run_instant(0);
                    if self.error.is_some() {
                        break;
                    }
                    if self.more_to_settle() {
                        self.settle(t);
                        break;
                    }
                    horizon = self.horizon();
                    let Run::Running {
                        p: next,
                        slice_end,
                        burst_end: end,
                    } = self.cpus[0].run
                    else {
                        break;
                    };
                    (p, t, burst_end) = (next, slice_end, end);
                }
            }
            if !batch || t >= burst_end || t >= horizon {
                break;
            }
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The free CPU of a single-CPU kernel takes ready process `q` (with no preemption pending):
    /// what [`Kernel::take`], [`Kernel::start_running`] and, for a process resuming its burst,
    /// [`Kernel::run_instant`] do, in one place, each record touched once. (Calling
    /// `start_running` from here instead cost RR-IO-v1 a tenth more instructions: 255 to 281 a
    /// dispatch. The tests that run every scenario both ways keep the two in step.)
    #[inline(always)]
    fn dispatch_on_lone_cpu(&mut self, q: u32, t: u64) -> Dispatched {
        debug_assert_eq!(self.pending_preempts, 0);
        if self.cpus[0].last != q {
            self.context_switches += 1;
            self.cpus[0].last = q;
            let cs = self.plan.kernel.context_switch;
            if cs > 0 {
                self.cpus[0].run = Run::Switching {
                    p: q,
                    from: t,
                    until: t.saturating_add(cs),
                };
                return Dispatched::Switching;
            }
        }
        let slice = self.policy.slice(q, t);
        let hot = &mut self.hot[q as usize];
        hot.dispatches = hot.dispatches.saturating_add(1);
        debug_assert_eq!(hot.state, State::Ready);
        hot.waiting += t - hot.since;
        hot.since = t;
        hot.state = State::Running;
        let (first, burst) = (hot.dispatches == 1, hot.burst_left);
        if first {
            self.procs[q as usize].first_run = t;
        }
        self.record(t, q, State::Ready, State::Running, Cause::Dispatch, Some(0));
        let slice_end = t.saturating_add(slice);
        if burst == 0 {
            self.cpus[0].run = Run::Running {
                p: q,
                slice_end,
                burst_end: NONE,
            };
            return Dispatched::Starting;
        }
        let burst_end = t.saturating_add(burst);
        self.cpus[0].run = Run::Running {
            p: q,
            slice_end,
            burst_end,
        };
        Dispatched::Running {
            slice_end,
            burst_end,
        }
    }

    /// The next commonest event: on a single CPU, the running process's burst ends (at its
    /// slice end or before) with nothing else due then but timers. What the general step does
    /// before its rounds comes down to this: the timers fire, then the process goes on from
    /// its next instruction. Returns `None` when the next event is anything else.
    #[inline(always)]
    fn step_burst_end(&mut self) -> Option<bool> {
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if !self.fast_paths || self.finished || self.error.is_some() {
            return None;
        }
        let Run::Running {
            p,
            slice_end,
            burst_end: t,
        } = cpu.run
        else {
            return None;
        };
        let limit = self.next_arrival_at.min(self.max_ticks.saturating_add(1));
        if t > slice_end || t >= limit || self.timers.next_at().is_some_and(|at| at < t) {
            return None;
        }
        self.now = t;
        self.fire_timers(t);
        self.finish_burst(0, p);
        if self.error.is_none() && !self.settle_wakes_on_one_cpu(t) {
            self.settle(t);
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The first tick at which something other than a slice end might be due: an arrival, a
    /// timer, or the tick limit (and u64::MAX, where tick arithmetic saturates).
    #[inline(always)]
    fn horizon(&self) -> u64 {
        let mut horizon = self.next_arrival_at.min(self.max_ticks.saturating_add(1));
        if let Some(at) = self.timers.next_at() {
            horizon = horizon.min(at);
        }
        horizon
    }

    /// Asks the memory system for the record of a process a few dispatches ahead. At a
    /// million processes a dispatch otherwise waits on a cache miss for the record of the
    /// process it takes, and that wait was the largest single cost of the loop.
    #[inline(always)]
    fn prefetch_upcoming(&self) {
        const AHEAD: usize = 16;
        if let Some(p) = self.policy.upcoming(AHEAD)
            && let Some(hot) = self.hot.get(p as usize)
        {
            prefetch(hot);
        }
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

    fn admit_arrivals(&mut self, t: u64) {
        while let Some(&(at, first, copies)) = self.arrivals.get(self.next_arrival) {
            if at != t {
                break;
            }
            self.next_arrival += 1;
            for p in first..first + copies {
                if self.hot[p as usize].state == State::New {
                    self.admit(p);
                }
            }
        }
        self.next_arrival_at = self.arrivals.get(self.next_arrival).map_or(NONE, |a| a.0);
    }

    #[inline(always)]
    fn fire_timers(&mut self, t: u64) {
        while let Some(timer) = self.timers.pop_due(t) {
            // A process leaves a timed wait only by its timer or by ending, so a timer whose
            // process is not blocked belongs to one that was killed.
            if self.hot[timer.p as usize].state == State::Blocked {
                debug_assert_eq!(self.procs[timer.p as usize].wait_on, WaitOn::Nothing);
                self.wake(timer.p, timer.cause());
            }
        }
    }

    /// Joins the tick's ready groups to the queue, lets free CPUs take processes, runs what
    /// they run at once, and repeats until the tick is quiet.
    fn settle(&mut self, t: u64) {
        if self.settle_lone_preemption(t) || self.settle_wakes_on_one_cpu(t) {
            return;
        }
        loop {
            self.enqueue_groups();
            let mut started = std::mem::take(&mut self.started);
            self.dispatch_free_cpus(t, &mut started);
            self.resolve_preemptions();
            self.preempt_for_urgent(t, &mut started);
            if started.is_empty() {
                self.started = started;
                break;
            }
            for &c in &started {
                self.run_instant(c as usize);
                if self.error.is_some() {
                    return;
                }
            }
            started.clear();
            self.started = started;
            if !self.more_to_settle() {
                break;
            }
        }
    }

    /// Whether another round is needed: something became ready, or a CPU fell free with work
    /// queued.
    #[inline(always)]
    fn more_to_settle(&self) -> bool {
        !(self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty())
            || (!self.policy.is_empty() && self.cpus.iter().any(|c| c.run == Run::Idle))
    }

    /// The commonest tick of all: one slice ran out and nothing else became ready. The general
    /// rounds would push the process, pop the head and find nothing more to do; this does the
    /// same in one go (the scenario and property tests hold both to the same reports).
    #[inline(always)]
    fn settle_lone_preemption(&mut self, t: u64) -> bool {
        let lone = self.woken.is_empty() && self.admitted.is_empty() && self.preempted.len() == 1;
        if !(self.fast_paths && lone) {
            return false;
        }
        let p = self.preempted[0];
        // Its CPU must be the only free one (a free CPU never waits beside queued work).
        let mut free = self
            .cpus
            .iter()
            .enumerate()
            .filter(|(_, c)| c.run == Run::Idle);
        let (Some((c, _)), None) = (free.next(), free.next()) else {
            return false;
        };
        if self.cpus[c].last != p {
            return false;
        }
        self.preempted.clear();
        match self.policy.pick(t, &mut self.rng) {
            None => self.resume(c, p, t),
            Some(q) => {
                self.policy.enqueue(p, Ready::SliceEnd, 0, t);
                self.resolve_preemption(p);
                if self.take(c, q, t) {
                    self.run_instant(c);
                    if self.error.is_none() && self.more_to_settle() {
                        self.settle(t);
                    }
                }
            }
        }
        true
    }

    /// The next commonest tick: on a single CPU, processes woke and nothing was admitted or
    /// preempted. The first general round comes down to this: they join the queue, and a free
    /// CPU takes the head; whatever follows goes through the general rounds.
    #[inline(always)]
    fn settle_wakes_on_one_cpu(&mut self, t: u64) -> bool {
        let only_wakes = self.admitted.is_empty()
            && self.preempted.is_empty()
            && self.pending_preempts == 0
            && !self.woken.is_empty();
        if !(self.fast_paths && self.cpus.len() == 1 && only_wakes) {
            return false;
        }
        self.enqueue_woken();
        if self.cpus[0].run == Run::Idle
            && let Some(q) = self.policy.pick(t, &mut self.rng)
            && let Dispatched::Starting = self.dispatch_on_lone_cpu(q, t)
        {
            self.run_instant(0);
            if self.error.is_some() {
                return true;
            }
        }
        if self.more_to_settle() {
            self.settle(t);
        }
        true
    }

    /// The processes woken this tick join the queue: in the order they blocked, then by pid.
    #[inline(always)]
    fn enqueue_woken(&mut self) {
        let t = self.now;
        if let [(_, _, p)] = self.woken[..] {
            self.woken.clear();
            let burst = self.burst_for(p);
            self.policy.enqueue(p, Ready::Wake, burst, t);
            return;
        }
        self.woken.sort_unstable();
        let mut group = std::mem::take(&mut self.group);
        group.clear();
        group.extend(self.woken.iter().map(|w| w.2));
        self.woken.clear();
        self.enqueue_group(&group, Ready::Wake);
        self.group = group;
    }

    /// A group of processes that became ready together joins the ready structure, with their
    /// bursts if the policy reads them.
    fn enqueue_group(&mut self, ps: &[u32], why: Ready) {
        let mut bursts = std::mem::take(&mut self.bursts);
        bursts.clear();
        if self.policy.needs_bursts() {
            bursts.extend(ps.iter().map(|&p| self.next_burst(p)));
        }
        self.policy.enqueue_group(ps, why, &bursts, self.now);
        self.bursts = bursts;
    }

    fn enqueue_groups(&mut self) {
        if self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty() {
            return;
        }
        for group in self.order {
            match group {
                ReadyGroup::Wake => {
                    if !self.woken.is_empty() {
                        self.enqueue_woken();
                    }
                }
                ReadyGroup::Admit => {
                    if !self.admitted.is_empty() {
                        let admitted = std::mem::take(&mut self.admitted);
                        self.enqueue_group(&admitted, Ready::Admit);
                        self.admitted = admitted;
                        self.admitted.clear();
                    }
                }
                ReadyGroup::Preempt => self.enqueue_preempted(),
            }
        }
    }

    /// The processes whose slice ran out this tick join the ready structure.
    fn enqueue_preempted(&mut self) {
        if !self.preempted.is_empty() {
            let preempted = std::mem::take(&mut self.preempted);
            self.enqueue_group(&preempted, Ready::SliceEnd);
            self.preempted = preempted;
            self.preempted.clear();
        }
    }

    /// Free CPUs, lowest first, take processes from the head of the queue. Adds to `started`
    /// the CPUs whose process starts running now (and must run its zero-cost instructions).
    fn dispatch_free_cpus(&mut self, t: u64, started: &mut Vec<u32>) {
        for c in 0..self.cpus.len() {
            if self.cpus[c].run != Run::Idle {
                continue;
            }
            loop {
                let Some(p) = self.policy.pick(t, &mut self.rng) else {
                    return;
                };
                if self.hot[p as usize].preempt_pending {
                    // Its slice ran out this tick. If its own CPU is still free, nothing else
                    // was ahead of it: it keeps that CPU with a fresh slice, and no preemption,
                    // dispatch or switch is counted.
                    let own = self.cpus.iter().position(|cpu| cpu.last == p);
                    if let Some(own) = own
                        && self.cpus[own].run == Run::Idle
                    {
                        self.resume(own, p, t);
                        if own == c {
                            break;
                        }
                        continue;
                    }
                    self.resolve_preemption(p);
                }
                if self.take(c, p, t) {
                    started.push(c as u32);
                }
                break;
            }
        }
    }

    /// `p`, whose slice ran out on CPU `c`, keeps it with a fresh slice.
    #[inline(always)]
    fn resume(&mut self, c: usize, p: u32, t: u64) {
        let slice = self.policy.slice(p, t);
        let hot = &mut self.hot[p as usize];
        hot.preempt_pending = false;
        self.pending_preempts -= 1;
        self.cpus[c].since = t;
        self.cpus[c].run = Run::Running {
            p,
            slice_end: t.saturating_add(slice),
            burst_end: t.saturating_add(hot.burst_left),
        };
    }

    /// Free CPU `c` takes ready process `p`: a context switch if `p` is not the process it ran
    /// last, else `p` runs at once. True when `p` is running now.
    #[inline(always)]
    fn take(&mut self, c: usize, p: u32, t: u64) -> bool {
        self.resolve_pending_on(c);
        if self.cpus[c].last != p {
            self.context_switches += 1;
            self.cpus[c].last = p;
            let cs = self.plan.kernel.context_switch;
            if cs > 0 {
                self.cpus[c].run = Run::Switching {
                    p,
                    from: t,
                    until: t.saturating_add(cs),
                };
                return false;
            }
        }
        self.start_running(c, p);
        true
    }

    /// A process whose slice ran out on CPU `c` is waiting to learn whether it keeps the CPU;
    /// before the CPU takes another process, record that it was preempted.
    #[inline(always)]
    fn resolve_pending_on(&mut self, c: usize) {
        let q = self.cpus[c].last;
        if q != NO_PROC && self.hot[q as usize].preempt_pending {
            self.resolve_preemption(q);
        }
    }

    fn resolve_preemptions(&mut self) {
        if self.pending_preempts == 0 {
            return;
        }
        for c in 0..self.cpus.len() {
            self.resolve_pending_on(c);
        }
    }

    #[inline(always)]
    fn resolve_preemption(&mut self, p: u32) {
        let c = self.cpu_of_last(p);
        let hot = &mut self.hot[p as usize];
        hot.preempt_pending = false;
        self.pending_preempts -= 1;
        hot.preemptions = hot.preemptions.saturating_add(1);
        self.transition(p, State::Ready, Cause::Preempt, c);
    }

    fn cpu_of_last(&self, p: u32) -> Option<u32> {
        self.cpus
            .iter()
            .position(|cpu| cpu.last == p)
            .map(|c| c as u32)
    }

    fn finish_switch(&mut self, c: usize) {
        let Run::Switching { p, from, until } = self.cpus[c].run else {
            return;
        };
        self.switch_ticks = self.switch_ticks.saturating_add(until - from);
        self.start_running(c, p);
        self.run_instant(c);
    }

    /// `ready → running` on CPU `c`, with a fresh slice or what was kept of the last one.
    #[inline(always)]
    fn start_running(&mut self, c: usize, p: u32) {
        let t = self.now;
        let slice = self.policy.slice(p, t);
        self.cpus[c].since = t;
        let hot = &mut self.hot[p as usize];
        hot.dispatches = hot.dispatches.saturating_add(1);
        if hot.dispatches == 1 {
            self.procs[p as usize].first_run = t;
        }
        self.transition(p, State::Running, Cause::Dispatch, Some(c as u32));
        self.cpus[c].run = Run::Running {
            p,
            slice_end: t.saturating_add(slice),
            burst_end: NONE,
        };
    }

    /// The `cpu` instruction of `p`, running on CPU `c`, is done: it goes on with the next.
    #[inline(always)]
    fn finish_burst(&mut self, c: usize, p: u32) {
        let hot = &mut self.hot[p as usize];
        hot.burst_left = 0;
        hot.pc += 1;
        self.run_instant(c);
    }

    /// Runs the process on CPU `c` until it computes, blocks or ends.
    #[inline(always)]
    fn run_instant(&mut self, c: usize) {
        let Run::Running { p, slice_end, .. } = self.cpus[c].run else {
            return;
        };
        let t = self.now;
        let flow = if self.hot[p as usize].burst_left > 0 {
            exec::Flow::Burst
        } else {
            self.exec(p, c as u32)
        };
        match flow {
            exec::Flow::Burst if slice_end > t => {
                let burst = self.hot[p as usize].burst_left;
                self.cpus[c].run = Run::Running {
                    p,
                    slice_end,
                    burst_end: t.saturating_add(burst),
                };
            }
            exec::Flow::Burst => self.expire_slice(c, p),
            exec::Flow::Left | exec::Flow::Stopped => {
                if matches!(self.cpus[c].run, Run::Running { p: q, .. } if q == p) {
                    self.cpus[c].run = Run::Idle;
                }
            }
        }
    }

    /// The slice of `p` on CPU `c` ran out with work left: it joins the preempt group, and the
    /// dispatch decides whether it really loses the CPU.
    #[inline(always)]
    fn expire_slice(&mut self, c: usize, p: u32) {
        if !self.fast_paths {
            let ran = self.now - self.cpus[c].since;
            let usage = Usage { ran, slice_left: 0 };
            self.policy.charge(p, Leave::SliceEnd, usage, self.now);
        }
        self.hot[p as usize].preempt_pending = true;
        self.pending_preempts += 1;
        self.cpus[c].run = Run::Idle;
        self.preempted.push(p);
    }

    /// `new → ready`: an arrival or a `start`.
    fn admit(&mut self, p: u32) {
        let t = self.now;
        self.procs[p as usize].admitted_at = t;
        self.transition(p, State::Ready, Cause::Admit, None);
        self.admitted.push(p);
    }

    /// `blocked → ready`.
    #[inline(always)]
    fn wake(&mut self, p: u32, cause: Cause) {
        if cause == Cause::ChildExit {
            self.procs[p as usize].wait_on = WaitOn::Nothing;
        }
        let hot = &self.hot[p as usize];
        let key = (hot.since, hot.pid, p);
        self.transition(p, State::Ready, cause, None);
        self.woken.push(key);
    }

    /// `running → blocked` on CPU `c`: on a timer of `ticks` (`io`, `sleep`) or until a
    /// child ends (`join`, `wait`).
    fn block(&mut self, p: u32, c: u32, cause: Cause, ticks: u64) {
        let t = self.now;
        let mut usage = Usage {
            ran: 0,
            slice_left: 0,
        };
        if let Run::Running {
            p: q, slice_end, ..
        } = self.cpus[c as usize].run
            && q == p
        {
            // A slice end at the last tick is no slice end (`t + UNLIMITED` saturates).
            usage.slice_left = if slice_end == NONE {
                sched::UNLIMITED
            } else {
                slice_end - t
            };
            usage.ran = t - self.cpus[c as usize].since;
            self.cpus[c as usize].run = Run::Idle;
        }
        self.policy.charge(p, Leave::Block, usage, t);
        match cause {
            Cause::Io | Cause::Sleep => {
                // Waking adds to `blocked`, which is the only part of this record a timed
                // wait touches: ask for it now rather than stall on it then.
                prefetch(&self.procs[p as usize].blocked);
                self.timers.push(Timer {
                    at: t.saturating_add(ticks),
                    since: t,
                    pid: self.hot[p as usize].pid,
                    p,
                    sleep: cause == Cause::Sleep,
                });
            }
            // The caller has set `wait_on` to the child (or children) awaited.
            _ => {}
        }
        self.transition(p, State::Blocked, cause, Some(c));
    }

    /// Records a transition and keeps the time accounting.
    #[inline(always)]
    fn transition(&mut self, p: u32, to: State, cause: Cause, cpu: Option<u32>) {
        let t = self.now;
        let hot = &mut self.hot[p as usize];
        let from = hot.state;
        debug_assert!(
            is_legal_transition(from, to, cause),
            "illegal transition {from} → {to} ({cause}) of process {p}"
        );
        let blocked = hot.account(t);
        hot.state = to;
        if blocked > 0 {
            self.procs[p as usize].blocked += blocked;
        }
        self.record(t, p, from, to, cause, cpu);
    }

    /// Hands a transition to the recorder, if one is on.
    #[inline(always)]
    fn record(&mut self, t: u64, p: u32, from: State, to: State, cause: Cause, cpu: Option<u32>) {
        if !matches!(self.trace, Recorder::Off) {
            self.record_event(TraceEvent {
                t,
                proc: p,
                pid: self.hot[p as usize].pid,
                from,
                to,
                cause,
                cpu,
            });
        }
    }

    fn record_event(&mut self, event: TraceEvent) {
        match &mut self.trace {
            Recorder::Off => {}
            Recorder::Keep(events) => events.push(event),
            Recorder::Stream(sink) => sink(&event),
        }
    }

    /// Stops the run with an error; the report is partial.
    fn stop(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }
}
