//! The simulated kernel: round robin over event time (SPEC section 3).
//!
//! [`Sim`] owns a process table ([`pcb`]), a ready structure behind the [`Policy`] trait, a
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

mod exec;
mod finish;
mod identity;
mod pcb;
mod pids;
pub mod policy;
pub mod rng;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::model::{Cause, State, is_legal_transition};
use crate::program::Plan;
use crate::report::{Report, TraceEvent};
use crate::scenario::{ReadyGroup, SliceAfterBlock, WakeTo};
use pcb::{NO_PROC, NONE, Pcb, WaitOn};
use pids::Pids;
pub use policy::{Place, Policy, RoundRobin};
use rng::SeededRng;

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

/// What a CPU is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Idle,
    /// Switching to `p`, which stays `ready` until `until`.
    Switching { p: u32, from: u64, until: u64 },
    /// Running `p`; its current burst ends at `burst_end` unless the slice ends first.
    Running { p: u32, slice_end: u64, burst_end: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Cpu {
    run: Run,
    /// The process this CPU ran or switched to last ([`NO_PROC`] at first).
    last: u32,
}

/// A pending wake-up: ordered by tick, then the tick the process blocked, then pid.
type Timer = Reverse<(u64, u64, u32, u32, u32)>;

/// The simulated kernel running one scenario with the policy `P`.
pub struct Kernel<P: Policy> {
    plan: Arc<Plan>,
    opts: SimOptions,
    now: u64,
    procs: Vec<Pcb>,
    cpus: Vec<Cpu>,
    policy: P,
    timers: BinaryHeap<Timer>,
    /// Top-level processes by arrival: `(tick, index)`, and the next to admit.
    arrivals: Vec<(u64, u32)>,
    next_arrival: usize,
    /// Processes that became ready this tick, by group.
    woken: Vec<(u64, u32, u32)>,
    admitted: Vec<u32>,
    preempted: SmallVec<[u32; 4]>,
    pids: Pids,
    rng: SeededRng,
    steps: u64,
    output_lines: u64,
    switch_ticks: u64,
    context_switches: u64,
    trace: Vec<TraceEvent>,
    /// Why the run stopped early.
    error: Option<String>,
    finished: bool,
}

/// The simulated kernel with the scenario's policy (round robin, for now the only one).
pub type Sim = Kernel<RoundRobin>;

impl Sim {
    /// A kernel ready to run `plan`, with its top-level processes created in `new`.
    pub fn new(plan: Arc<Plan>, opts: SimOptions) -> Sim {
        let policy = match plan.kernel.policy {
            crate::scenario::PolicyName::RoundRobin => RoundRobin::new(plan.kernel.quantum),
        };
        Kernel::with_policy(plan, opts, policy)
    }
}

impl<P: Policy> Kernel<P> {
    /// A kernel for `plan` with a policy of the caller's choosing.
    pub fn with_policy(plan: Arc<Plan>, opts: SimOptions, policy: P) -> Self {
        let k = &plan.kernel;
        let mut kernel = Kernel {
            cpus: vec![
                Cpu {
                    run: Run::Idle,
                    last: NO_PROC
                };
                k.cpus as usize
            ],
            pids: Pids::new(k.pid_max),
            rng: SeededRng::new(plan.seed),
            opts,
            now: 0,
            procs: Vec::new(),
            policy,
            timers: BinaryHeap::new(),
            arrivals: Vec::new(),
            next_arrival: 0,
            woken: Vec::new(),
            admitted: Vec::new(),
            preempted: SmallVec::new(),
            steps: 0,
            output_lines: 0,
            switch_ticks: 0,
            context_switches: 0,
            trace: Vec::new(),
            error: None,
            finished: false,
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
        self.arrivals.reserve(total as usize);
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
                let mut pcb = Pcb::new(top.program, pid, NO_PROC, Arc::clone(&globals), 0);
                pcb.entry = entry as u32;
                pcb.copy = copy as u32;
                pcb.started = true;
                if let Some((args, kwargs)) = &args {
                    let cold = pcb.cold();
                    cold.args = args.clone();
                    cold.kwargs = kwargs.clone();
                }
                self.procs.push(pcb);
                self.arrivals.push((top.arrival, idx));
            }
        }
        // Stable sort: same-tick arrivals stay in scenario order.
        self.arrivals.sort_by_key(|&(t, _)| t);
    }

    /// The current tick.
    pub fn now(&self) -> u64 {
        self.now
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
        if self.finished {
            return false;
        }
        if self.error.is_some() {
            self.finished = true;
            return false;
        }
        let Some(t) = self.next_event() else {
            if self.procs.iter().any(|p| p.state != State::Terminated) {
                self.error = Some(format!(
                    "deadlock at tick {}: processes remain but none can make progress",
                    self.now
                ));
            }
            self.finished = true;
            return false;
        };
        let max_ticks = self.plan.kernel.max_ticks;
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
                Run::Running {
                    p,
                    slice_end,
                    burst_end,
                } if burst_end == t => {
                    let _ = slice_end;
                    let pcb = &mut self.procs[p as usize];
                    pcb.burst_left = 0;
                    pcb.pc += 1;
                    self.run_instant(c);
                }
                Run::Running {
                    p,
                    slice_end,
                    burst_end,
                } if slice_end == t => {
                    self.procs[p as usize].burst_left = burst_end - t;
                    self.expire_slice(c, p);
                }
                _ => {}
            }
            if self.error.is_some() {
                self.finished = true;
                return false;
            }
        }
        self.settle(t);
        if self.error.is_some() {
            self.finished = true;
        }
        !self.finished
    }

    /// Runs to the end and returns the report.
    pub fn run(mut self) -> Report {
        while self.step() {}
        self.report()
    }

    /// The earliest tick at which something is due.
    fn next_event(&self) -> Option<u64> {
        let mut next = NONE;
        if let Some(&(t, _)) = self.arrivals.get(self.next_arrival) {
            next = next.min(t);
        }
        if let Some(Reverse((t, ..))) = self.timers.peek() {
            next = next.min(*t);
        }
        for cpu in &self.cpus {
            match cpu.run {
                Run::Idle => {}
                Run::Switching { until, .. } => next = next.min(until),
                Run::Running {
                    slice_end,
                    burst_end,
                    ..
                } => next = next.min(slice_end.min(burst_end)),
            }
        }
        (next != NONE).then_some(next)
    }

    fn admit_arrivals(&mut self, t: u64) {
        while let Some(&(at, p)) = self.arrivals.get(self.next_arrival) {
            if at != t {
                break;
            }
            self.next_arrival += 1;
            if self.procs[p as usize].state == State::New {
                self.admit(p);
            }
        }
    }

    fn fire_timers(&mut self, t: u64) {
        while let Some(&Reverse((at, _, _, p, token))) = self.timers.peek() {
            if at != t {
                break;
            }
            self.timers.pop();
            let pcb = &self.procs[p as usize];
            if pcb.state != State::Blocked {
                continue;
            }
            match pcb.wait_on {
                WaitOn::Io(tok) if tok == token => self.wake(p, Cause::IoDone),
                WaitOn::Sleep(tok) if tok == token => self.wake(p, Cause::Wake),
                _ => {}
            }
        }
    }

    /// Joins the tick's ready groups to the queue, lets free CPUs take processes, runs what
    /// they run at once, and repeats until the tick is quiet.
    fn settle(&mut self, t: u64) {
        loop {
            self.enqueue_groups();
            let started = self.dispatch_free_cpus(t);
            self.resolve_preemptions();
            if started.is_empty() {
                break;
            }
            for c in started {
                self.run_instant(c as usize);
                if self.error.is_some() {
                    return;
                }
            }
        }
    }

    fn enqueue_groups(&mut self) {
        let order = self.plan.kernel.tick_order.clone();
        for group in order {
            match group {
                ReadyGroup::Wake => {
                    if self.woken.is_empty() {
                        continue;
                    }
                    self.woken.sort_unstable();
                    let woken = std::mem::take(&mut self.woken);
                    match self.plan.kernel.wake_to {
                        WakeTo::Tail => woken
                            .iter()
                            .for_each(|&(_, _, p)| self.policy.push(p, Place::Tail)),
                        WakeTo::Head => woken
                            .iter()
                            .rev()
                            .for_each(|&(_, _, p)| self.policy.push(p, Place::Head)),
                    }
                    self.woken = woken;
                    self.woken.clear();
                }
                ReadyGroup::Admit => {
                    for &p in &self.admitted {
                        self.policy.push(p, Place::Tail);
                    }
                    self.admitted.clear();
                }
                ReadyGroup::Preempt => {
                    for &p in &self.preempted {
                        self.policy.push(p, Place::Tail);
                    }
                    self.preempted.clear();
                }
            }
        }
    }

    /// Free CPUs, lowest first, take processes from the head of the queue. Returns the CPUs
    /// whose process starts running now (and must run its zero-cost instructions).
    fn dispatch_free_cpus(&mut self, t: u64) -> SmallVec<[u32; 4]> {
        let mut started = SmallVec::new();
        let cs = self.plan.kernel.context_switch;
        for c in 0..self.cpus.len() {
            if self.cpus[c].run != Run::Idle {
                continue;
            }
            loop {
                let Some(p) = self.policy.pop() else {
                    return started;
                };
                let pcb = &self.procs[p as usize];
                if pcb.preempt_pending {
                    // Its slice ran out this tick. If its own CPU is still free, nothing else
                    // was ahead of it: it keeps that CPU with a fresh slice, and no preemption,
                    // dispatch or switch is counted.
                    let own = self.cpus.iter().position(|cpu| cpu.last == p);
                    if let Some(own) = own
                        && self.cpus[own].run == Run::Idle
                    {
                        let slice = self.policy.quantum(p);
                        let pcb = &mut self.procs[p as usize];
                        pcb.preempt_pending = false;
                        self.cpus[own].run = Run::Running {
                            p,
                            slice_end: t + slice,
                            burst_end: t + pcb.burst_left,
                        };
                        if own == c {
                            break;
                        }
                        continue;
                    }
                    self.resolve_preemption(p);
                }
                self.resolve_pending_on(c);
                if self.cpus[c].last != p {
                    self.context_switches += 1;
                    self.cpus[c].last = p;
                    if cs > 0 {
                        self.cpus[c].run = Run::Switching {
                            p,
                            from: t,
                            // Saturating, and short of NONE (which `next_event` reads as "no
                            // event"): a context_switch near u64::MAX overflowed here (found by
                            // fuzzing). A switch that ends past max_ticks stops the run there.
                            until: t.saturating_add(cs).min(NONE - 1),
                        };
                        break;
                    }
                }
                self.start_running(c, p);
                started.push(c as u32);
                break;
            }
        }
        started
    }

    /// A process whose slice ran out on CPU `c` is waiting to learn whether it keeps the CPU;
    /// before the CPU takes another process, record that it was preempted.
    fn resolve_pending_on(&mut self, c: usize) {
        let q = self.cpus[c].last;
        if q != NO_PROC && self.procs[q as usize].preempt_pending {
            self.resolve_preemption(q);
        }
    }

    fn resolve_preemptions(&mut self) {
        for c in 0..self.cpus.len() {
            self.resolve_pending_on(c);
        }
    }

    fn resolve_preemption(&mut self, p: u32) {
        let c = self.cpu_of_last(p);
        let pcb = &mut self.procs[p as usize];
        pcb.preempt_pending = false;
        pcb.preemptions = pcb.preemptions.saturating_add(1);
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
        self.switch_ticks += until - from;
        self.start_running(c, p);
        self.run_instant(c);
    }

    /// `ready → running` on CPU `c`, with a fresh slice or what was kept of the last one.
    fn start_running(&mut self, c: usize, p: u32) {
        let t = self.now;
        let quantum = self.policy.quantum(p);
        let keep = self.plan.kernel.slice_after_block == SliceAfterBlock::Keep;
        let pcb = &mut self.procs[p as usize];
        let slice = if keep && pcb.slice_left > 0 {
            pcb.slice_left
        } else {
            quantum
        };
        pcb.slice_left = 0;
        pcb.dispatches = pcb.dispatches.saturating_add(1);
        if pcb.first_run == NONE {
            pcb.first_run = t;
        }
        self.transition(p, State::Running, Cause::Dispatch, Some(c as u32));
        self.cpus[c].run = Run::Running {
            p,
            slice_end: t.saturating_add(slice),
            burst_end: NONE,
        };
    }

    /// Runs the process on CPU `c` until it computes, blocks or ends.
    fn run_instant(&mut self, c: usize) {
        let Run::Running { p, slice_end, .. } = self.cpus[c].run else {
            return;
        };
        let t = self.now;
        let flow = if self.procs[p as usize].burst_left > 0 {
            exec::Flow::Burst
        } else {
            self.exec(p, c as u32)
        };
        match flow {
            exec::Flow::Burst if slice_end > t => {
                let burst = self.procs[p as usize].burst_left;
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
    fn expire_slice(&mut self, c: usize, p: u32) {
        self.procs[p as usize].preempt_pending = true;
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
    fn wake(&mut self, p: u32, cause: Cause) {
        let pcb = &mut self.procs[p as usize];
        pcb.wait_on = WaitOn::Nothing;
        let key = (pcb.since, pcb.pid, p);
        self.transition(p, State::Ready, cause, None);
        self.woken.push(key);
    }

    /// `running → blocked` on CPU `c`: on a timer of `ticks` (`io`, `sleep`) or until a
    /// child ends (`join`, `wait`).
    fn block(&mut self, p: u32, c: u32, cause: Cause, ticks: u64) {
        let t = self.now;
        let mut slice_end = NONE;
        if let Run::Running { p: q, slice_end: s, .. } = self.cpus[c as usize].run
            && q == p
        {
            slice_end = s;
            self.cpus[c as usize].run = Run::Idle;
        }
        let pcb = &mut self.procs[p as usize];
        pcb.slice_left = if slice_end == NONE { 0 } else { slice_end - t };
        match cause {
            Cause::Io | Cause::Sleep => {
                pcb.timer_token = pcb.timer_token.wrapping_add(1);
                let token = pcb.timer_token;
                pcb.wait_on = if cause == Cause::Io {
                    WaitOn::Io(token)
                } else {
                    WaitOn::Sleep(token)
                };
                let at = t.saturating_add(ticks);
                self.timers.push(Reverse((at, t, pcb.pid, p, token)));
            }
            // The caller has set `wait_on` to the child (or children) awaited.
            _ => {}
        }
        self.transition(p, State::Blocked, cause, Some(c));
    }

    /// Records a transition and keeps the time accounting.
    fn transition(&mut self, p: u32, to: State, cause: Cause, cpu: Option<u32>) {
        let t = self.now;
        let pcb = &mut self.procs[p as usize];
        let from = pcb.state;
        debug_assert!(
            is_legal_transition(from, to, cause),
            "illegal transition {from} → {to} ({cause}) of pid {}",
            pcb.pid
        );
        pcb.account(t);
        pcb.state = to;
        if self.opts.trace {
            self.trace.push(TraceEvent {
                t,
                proc: p,
                pid: pcb.pid,
                from,
                to,
                cause,
                cpu,
            });
        }
    }

    /// Stops the run with an error; the report is partial.
    fn stop(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(message);
        }
    }
}
