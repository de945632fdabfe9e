//! Round robin's tick on several CPUs in one pass (#13): what [`Kernel::step_general`] and the
//! first of [`Kernel::settle`]'s rounds (`dispatch.rs`) do at a tick, without what they ask
//! of every tick and that such a tick never needs.
//!
//! On several CPUs every tick went through the general step: its scan of what is due, the
//! outside signals and arrivals looked up, the one-CPU shortcuts asked in turn, the tick's
//! ready groups handed to the policy through a scratch list, and the CPUs that start a
//! process gathered in another. Under RR-IO-v1 on 4 CPUs that was about 540 instructions a
//! dispatch (callgrind, BENCHMARKS.md), twice one CPU's.
//!
//! It assumes (and is asked only where it holds):
//! - the fast paths are on: the policy is round robin ([`Policy::fast_paths_exact`]), which
//!   charges nothing at a slice end, has no event of its own, never preempts, reads no bursts,
//!   and queues a group of processes whose slice ran out as it queues each in turn (at the
//!   tail);
//! - no threads (the GIL's bookkeeping is the general rounds'), no `--explain` log;
//! - 2 to 64 CPUs (the CPUs that start a process this round are a bit set);
//! - nothing at or before the tick but what the general step would find of the CPUs' events
//!   and the timers: no arrival, outside signal or tick limit, which it leaves to the general
//!   step (whose `deliver_outside` and `admit_arrivals` would find nothing at such a tick).
//!
//! It then does what the general step does, in its order: drops stale timers, counts the
//! tick against `kernel.max_events` (once for each CPU), fires the timers due, ends each
//! CPU's switch, burst or slice (lowest CPU first), and settles the tick: the ready groups in
//! the scenario's `tick_order`, the free CPUs (lowest first) taking the head of the queue
//! (a process whose slice ran out this tick keeping its own CPU if it is free when its turn
//! comes, as `dispatch_free_cpus` does), the pending preemptions resolved, and the processes
//! started running their zero-cost instructions in CPU order. If that made more ready, the
//! general [`Kernel::settle`] takes over for the rounds that follow, as it does after its
//! first. The tests run every scenario forced to 2 and 4 CPUs, with and without a switch
//! cost, with the shortcuts on and off and compare the reports byte for byte
//! (`tests/fast_multi.rs`).

use super::record::Recorder;
use super::timers::TimerKind;
use super::{Kernel, Policy, Run};
use crate::model::State;
use crate::scenario::ReadyGroup;

/// The most CPUs the shortcut takes (the started CPUs are the bits of a `u64`).
pub(super) const MAX_CPUS: usize = 64;

impl<P: Policy> Kernel<P> {
    /// How many ticks [`Kernel::step_rr_tick`] settled, for the test that it applies.
    #[doc(hidden)]
    pub fn rr_ticks(&self) -> u64 {
        self.fast_ticks
    }

    /// A tick of round robin on several CPUs, in one pass (see the module's comment for what
    /// it assumes). `None`, with nothing changed but stale timers dropped (as any step does
    /// first), when the next tick is not of this kind.
    #[inline(always)]
    pub(super) fn step_rr_tick(&mut self, batch: bool) -> Option<bool> {
        let n = self.cpus.len();
        if !(2..=MAX_CPUS).contains(&n)
            || !self.fast_paths
            || self.threads_on
            || self.log.is_some()
            || self.finished
            || self.error.is_some()
        {
            return None;
        }
        // (A copy without a trace: the lean tick's records then cost nothing.)
        if matches!(self.trace, Recorder::Off) {
            self.step_rr_tick_on::<false>(batch)
        } else {
            self.step_rr_tick_on::<true>(batch)
        }
    }

    /// [`Kernel::step_rr_tick`] once the kernel is known to be of its kind. With `batch`, goes
    /// on with the ticks that follow for as long as the lean tick (`fast_lockstep.rs`) settles
    /// them; a tick it does not take is settled here in the general way, and the step ends
    /// there, or before a tick that is the general step's (an arrival, a signal, a limit).
    #[inline(never)]
    fn step_rr_tick_on<const TRACED: bool>(&mut self, batch: bool) -> Option<bool> {
        // Whether a tick was settled already: then the step is not "nothing changed".
        let mut settled = false;
        // Whether the lean tick may apply (fast_lockstep.rs), by what no run changes.
        let lean = self.lockstep_applies();
        let wake_first = self.order.iter().position(|g| *g == ReadyGroup::Wake)
            < self.order.iter().position(|g| *g == ReadyGroup::Preempt);
        // What the CPUs have due, as the last lean tick worked it out (nothing else changed
        // them since).
        let mut due = None;
        // An arrival, an outside signal, the tick limit: only the general step changes when
        // the next is due (`admit_arrivals`, `deliver_outside`), so it is asked once.
        let limit = self.step_aside_at();
        loop {
            debug_assert_eq!(limit, self.step_aside_at());
            debug_assert!(self.woken.is_empty() && self.admitted.is_empty());
            debug_assert!(self.preempted.is_empty() && self.pending_preempts == 0);
            debug_assert!(!self.needs.preemption);
            // What the general path does before its step: a lone process's slice ends with
            // nothing queued pass in one go (a process alone on 2 CPUs for 10^12 ticks). It
            // does nothing while processes are queued, so it is not asked then.
            if self.policy.is_empty() {
                self.skip_lone_slice_ends();
                due = None;
            }
            let cpus = match due.take() {
                Some(due) => due,
                None => self.due(),
            };
            debug_assert_eq!(cpus, self.due());
            let mut t = cpus.at;
            // The general step drops stale timers first; the first timer's process blocked on
            // an `io` or `sleep` is the common case, in which `drop_stale_timers` drops
            // nothing.
            if let Some(timer) = self.timers.peek() {
                if timer.kind == TimerKind::JoinTimeout
                    || self.hot[timer.p as usize].state != State::Blocked
                {
                    self.drop_stale_timers();
                    if let Some(at) = self.timers.next_at() {
                        t = t.min(at);
                    }
                } else {
                    t = t.min(timer.at);
                }
            }
            // An arrival, an outside signal or the tick limit at or before `t` (and u64::MAX,
            // where nothing is due or tick arithmetic saturates) is the general step's.
            if t >= limit
                || self.policy.next_event().is_some_and(|at| at <= t)
                || !self.count_tick()
            {
                return settled.then_some(true);
            }
            self.fast_ticks += 1;
            self.now = t;
            self.fire_plain_timers(t);
            // The commonest such tick, lean (fast_lockstep.rs).
            if lean {
                match self.lockstep_tick::<TRACED>(t, &cpus, wake_first) {
                    Some((true, next)) if batch => {
                        settled = true;
                        due = next;
                        continue;
                    }
                    Some((on, _)) => return Some(on),
                    None => {}
                }
            }
            if !self.end_cpu_events(t) {
                return Some(false);
            }
            self.settle_rr_tick(t);
            if self.error.is_some() {
                self.finished = true;
            }
            return Some(!self.finished);
        }
    }

    /// [`Kernel::fire_timers`] at tick `t`, the commonest timer inline: an `io` or `sleep`
    /// whose process is blocked on it wakes as [`Kernel::wake_popped`] wakes it (what `wake`
    /// and `transition` do for it without threads), and joins the woken; any other (a join's
    /// timeout, a killed process's timer) goes the general way. (RR-IO-v1 on 4 CPUs at
    /// N = 20,000, callgrind: the general `wake` and `transition` took about 44
    /// instructions a wake-up.)
    #[inline(always)]
    fn fire_plain_timers(&mut self, t: u64) {
        while let Some(timer) = self.timers.pop_due(t) {
            if timer.kind != TimerKind::JoinTimeout
                && self.hot[timer.p as usize].state == State::Blocked
            {
                // (`None`: the run has stopped, and `wake_popped` listed the process among the
                // woken, as `wake` would have.)
                if let Some(key) = self.wake_popped(timer, t) {
                    self.woken.push(key);
                }
                continue;
            }
            self.fire(timer);
        }
    }

    /// The first round of [`Kernel::settle`] at tick `t` for round robin without threads or a
    /// log; the general rounds for the rest, if the processes started made more ready.
    #[inline(always)]
    fn settle_rr_tick(&mut self, t: u64) {
        if !self.admitted.is_empty() {
            // A process created or started at this tick: the general rounds.
            self.settle(t);
            return;
        }
        // The groups in the same-tick order, as `enqueue_groups` takes them with none admitted
        // and no log. (Calling it instead, with its scratch-list handoffs, measured 2.9 %
        // more instructions on RR-IO-v1 at N = 20,000 on 4 CPUs: 472.4 M against 459.3 M.)
        for group in self.order {
            match group {
                ReadyGroup::Wake => {
                    if !self.woken.is_empty() {
                        self.enqueue_woken();
                    }
                }
                ReadyGroup::Admit => {}
                ReadyGroup::Preempt => {
                    // Round robin queues a group of slice ends as each in turn, at the tail.
                    for &p in &self.preempted {
                        self.policy.enqueue(p, super::sched::Ready::SliceEnd, 0, t);
                    }
                    self.preempted.clear();
                }
            }
        }
        let started = self.dispatch_rr_tick(t);
        if self.pending_preempts != 0 {
            self.resolve_preemptions();
        }
        // (Round robin never preempts: `preempt_for_urgent` would return at once.)
        if started == 0 {
            return;
        }
        let mut s = started;
        while s != 0 {
            let c = s.trailing_zeros() as usize;
            s &= s - 1;
            self.run_instant(c);
            if self.error.is_some() {
                return;
            }
        }
        if self.more_to_settle() {
            self.settle(t);
        }
    }

    /// `dispatch_free_cpus` without the log's and the threads' hooks: the free CPUs, lowest
    /// first, take the head of the queue. The CPUs whose process starts running now, as bits.
    #[inline(always)]
    fn dispatch_rr_tick(&mut self, t: u64) -> u64 {
        // Without threads a switch costs `kernel.context_switch` (`switch_cost`).
        let cs = self.plan.kernel.context_switch;
        let mut started = 0u64;
        'cpus: for c in 0..self.cpus.len() {
            if self.cpus[c].run != Run::Idle {
                continue;
            }
            loop {
                let Some(p) = self.policy.pick(t, &mut self.rng) else {
                    break 'cpus;
                };
                self.prefetch_upcoming();
                if self.hot[p as usize].preempt_pending {
                    // Its slice ran out this tick: it keeps its own CPU if that is still free.
                    let own = self.pending_cpu(p);
                    if self.cpus[own].run == Run::Idle {
                        self.resume(own, p, t);
                        if own == c {
                            continue 'cpus;
                        }
                        continue;
                    }
                    self.resolve_preemption(p);
                }
                if self.take_rr(c, p, t, cs) {
                    started |= 1 << c;
                }
                continue 'cpus;
            }
        }
        started
    }

    /// `take` without threads, the switch's cost given: free CPU `c` takes ready process `p`
    /// (a context switch if it ran another last). True when `p` is running now.
    #[inline(always)]
    fn take_rr(&mut self, c: usize, p: u32, t: u64, cs: u64) -> bool {
        self.resolve_pending_on(c);
        self.turn_to(c, p, t, cs)
    }
}
