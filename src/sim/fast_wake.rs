//! Shortcuts on a single CPU for the ticks at which processes wake up or a CPU falls free,
//! under the policies other than round robin (and, for the free CPU and the commonest
//! wake-up tick, `settle_wakes_on_one_cpu`, round robin too): what
//! `fast_any.rs`'s slice-end loop (`step_slice_end_any`) leaves to the general rounds. Under an
//! I/O-bound workload (RR-IO-v1) a wake-up falls on another process's slice end four times in
//! five, and every block leaves the CPU free with nothing joining; each of those ticks went
//! through `step_general`, `settle`, `enqueue_groups` and `dispatch_free_cpus` (about a fifth
//! of lottery's instructions at N = 20,000, callgrind; BENCHMARKS.md).
//!
//! Each does in one place what the general rounds would do, through the policy for every
//! decision (`charge`, `enqueue`, `pick`, `slice`, `preempt`), and applies only where that is
//! exact; each says what it assumes. The tests run every scenario, under every policy, with
//! the shortcuts on and off and compare the reports byte for byte (`tests/policies.rs`,
//! `tests/scenarios.rs`, `tests/properties.rs`, and `tests/fast_wake.rs` for workloads made
//! to land wake-ups on slice ends in every same-tick order).

use super::fast::Dispatched;
use super::sched::{Leave, Ready, Usage};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State};
use crate::scenario::ReadyGroup;

impl<P: Policy> Kernel<P> {
    /// On a single CPU, under a policy other than round robin, the running process's slice
    /// ends at the tick timers are due (an `io` or `sleep` ending, a join's timeout), with its
    /// burst not over and nothing else due then: no arrival, outside signal or tick limit at
    /// or before it, no policy event at or before it. The general step would drop stale
    /// timers, count the tick, fire the timers (the wake-ups), charge the process its slice
    /// (`expire_slice`), and its rounds would enqueue the woken and the process whose slice
    /// ended in the scenario's same-tick order, and let the CPU pick; this does that without
    /// the step's scan of what is due or the rounds' lists.
    ///
    /// It assumes, beyond what it checks: the policy's `enqueue_group` of one process is its
    /// `enqueue` (only round robin, which this leaves alone, has its own); nothing the wake-ups
    /// do reaches the policy before the enqueues (a wake is a transition and a list entry);
    /// the GIL is off (one CPU: nobody is ever barred). After the pick it is what
    /// `step_slice_end_any` does after its own: the same process picked again keeps its CPU
    /// with a fresh slice (nothing counted; a preemptive policy is then asked whether a ready
    /// process displaces it, as the general rounds ask), another one takes the CPU and the
    /// first was preempted; with a process just dispatched, the general rounds' question
    /// about preemption has no running process to choose from and [`Policy::preempt`] answers
    /// `None`, so it is skipped. The tick counts against `kernel.max_events` as the general
    /// step counts it; a tick that would reach the limit is left to the general step, which
    /// stops the run with its message. `None` when the next event is not of this kind.
    ///
    /// The policy check is inlined into the kernel's loop, the rest is not: under round robin
    /// (`fast_paths`) this is asked at every burst end and always says `None`, and the call
    /// alone cost RR-IO-v1 at N = 20,000 3.6 M instructions of 276 M (callgrind).
    #[inline(always)]
    pub(super) fn step_slice_end_with_wakes(&mut self) -> Option<bool> {
        if self.fast_paths || !self.fast_wakes {
            return None;
        }
        self.step_slice_end_with_wakes_any()
    }

    /// [`Kernel::step_slice_end_with_wakes`] past its policy check.
    #[inline(never)]
    pub(super) fn step_slice_end_with_wakes_any(&mut self) -> Option<bool> {
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if self.finished || self.error.is_some() {
            return None;
        }
        let Run::Running {
            p,
            slice_end: t,
            burst_end,
        } = cpu.run
        else {
            return None;
        };
        if t >= burst_end || self.timers.next_at().is_none_or(|at| at > t) {
            return None;
        }
        let limit = self.step_aside_at();
        if t >= limit || self.policy.next_event().is_some_and(|at| at <= t) {
            return None;
        }
        // As the general step: stale timers first (they are dropped, not fired, and a slot
        // is not counted free of them twice). What is left due must be at `t`.
        self.drop_stale_timers();
        if self.timers.next_at() != Some(t) {
            return None;
        }
        let events = self.events.saturating_add(1);
        if events > self.plan.kernel.max_events {
            return None;
        }
        self.events = events;
        self.now = t;
        // The timers fire; one alone that wakes its process comes back unlisted.
        let lone = self.fire_lone_timer(t);
        self.hot[p as usize].burst_left = burst_end - t;
        if self.error.is_some() {
            // The general step still expires the slice before it stops.
            self.expire_slice(0, p);
            self.finished = true;
            return Some(false);
        }
        // `expire_slice`'s charge; the pending mark and the preempt group are folded into
        // what follows.
        let ran = t - self.cpus[0].since;
        let usage = Usage { ran, slice_left: 0 };
        self.policy.charge(p, Leave::SliceEnd, usage, t);
        // `enqueue_groups`: nothing was admitted (no arrival is due, and a timer admits no
        // one); the woken and the preempted in the scenario's order.
        for group in self.order {
            match group {
                ReadyGroup::Wake => {
                    if let Some((_, _, w)) = lone {
                        // `enqueue_woken`'s case of one, without the list.
                        let burst = self.burst_for(w);
                        self.policy.enqueue(w, Ready::Wake, burst, t);
                    } else if !self.woken.is_empty() {
                        self.enqueue_woken();
                    }
                }
                ReadyGroup::Preempt => {
                    let burst = self.burst_for(p);
                    self.policy.enqueue(p, Ready::SliceEnd, burst, t);
                }
                ReadyGroup::Admit => {}
            }
        }
        debug_assert!(self.admitted.is_empty() && self.woken.is_empty());
        // `dispatch_free_cpus`. It was just enqueued, so the policy has something to pick.
        let q = self.policy.pick(t, &mut self.rng).unwrap_or(p);
        self.prefetch_upcoming_any();
        if q == p {
            // `resume`: it keeps its CPU with a fresh slice.
            let slice = self.policy.slice(p, t);
            self.cpus[0].since = t;
            self.cpus[0].run = Run::Running {
                p,
                slice_end: t.saturating_add(slice),
                burst_end,
            };
            if self.needs.preemption && !self.policy.is_empty() {
                self.preempt_then_settle(t);
            }
        } else {
            // `take`, which first resolves the pending preemption.
            let hot = &mut self.hot[p as usize];
            hot.preemptions = hot.preemptions.saturating_add(1);
            self.transition(p, State::Ready, Cause::Preempt, Some(0));
            if let Dispatched::Starting = self.dispatch_on_lone_cpu(q, t) {
                // It runs instructions first, which may make more ready at this tick.
                self.run_instant(0);
                if self.error.is_none() && self.more_to_settle() {
                    self.settle(t);
                }
            }
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The rest of the general rounds after a process kept its CPU at `t` under a preemptive
    /// policy: `preempt_for_urgent`, then the instructions of whatever it started, then the
    /// rounds again if that made more ready.
    fn preempt_then_settle(&mut self, t: u64) {
        let mut started = std::mem::take(&mut self.started);
        self.preempt_for_urgent(t, &mut started);
        self.run_started_then_settle(started, t);
    }

    /// What follows a preemption the general rounds would make: the instant of each CPU in
    /// `started` (the list [`Kernel::preempt_for_urgent`] filled, given back to `started`
    /// after), then the rounds again if that made more ready.
    pub(super) fn run_started_then_settle(&mut self, mut started: Vec<u32>, t: u64) {
        let ran = !started.is_empty();
        for &c in &started {
            self.run_instant(c as usize);
            if self.error.is_some() {
                break;
            }
        }
        started.clear();
        self.started = started;
        if ran && self.error.is_none() && self.more_to_settle() {
            self.settle(t);
        }
    }

    /// In [`Kernel::settle`], on a single CPU under any policy: the CPU is free and nothing
    /// joins at this tick (its process blocked or ended, and nothing woke, arrived or had its
    /// slice end). The general rounds would find no group to enqueue and let the CPU pick;
    /// this does that, as [`Kernel::settle_wakes_on_one_cpu`] does after its enqueue. It
    /// assumes what that one does: no slice end undecided (none pending), the GIL off (one
    /// CPU), and with the process just dispatched no running process for a preemptive policy
    /// to displace ([`Policy::preempt`] answers `None` to an empty list). `None` when the
    /// tick is not of this kind; else whether more is left to settle.
    #[inline(always)]
    pub(super) fn settle_free_lone_cpu(&mut self, t: u64) -> Option<bool> {
        let quiet = self.woken.is_empty()
            && self.admitted.is_empty()
            && self.preempted.is_empty()
            && self.pending_preempts == 0;
        if !(self.fast_wakes && quiet && self.cpus.len() == 1 && self.cpus[0].run == Run::Idle) {
            return None;
        }
        let Some(q) = self.policy.pick(t, &mut self.rng) else {
            return Some(false);
        };
        self.prefetch_upcoming_any();
        Some(self.dispatch_lone_then_ask(q, t))
    }

    /// The next commonest tick: on a single CPU, processes woke and nothing was admitted or
    /// preempted. The first general round comes down to this: they join the queue, and a free
    /// CPU takes the head; whatever follows goes through the general rounds. `None` when the
    /// tick is not of this kind; else whether more is left to settle.
    #[inline(always)]
    pub(super) fn settle_wakes_on_one_cpu(&mut self, t: u64) -> Option<bool> {
        let only_wakes = self.admitted.is_empty()
            && self.preempted.is_empty()
            && self.pending_preempts == 0
            && !self.woken.is_empty();
        if !(self.fast_wakes && self.cpus.len() == 1 && only_wakes) {
            return None;
        }
        // A process that wakes while the CPU is busy may preempt it: the general rounds ask.
        if self.needs.preemption && self.cpus[0].run != Run::Idle {
            return None;
        }
        self.enqueue_woken();
        if self.cpus[0].run == Run::Idle
            && let Some(q) = self.policy.pick(t, &mut self.rng)
        {
            // (Round robin's own loop prefetches farther ahead.)
            if !self.fast_paths {
                self.prefetch_upcoming_any();
            }
            return Some(self.dispatch_lone_then_ask(q, t));
        }
        Some(self.more_to_settle())
    }

    /// The lone free CPU takes `q`, which the policy just picked at `t`, and runs its
    /// zero-cost instructions if it starts now; then whether more is left to settle (false
    /// after an error). The tail of the one-CPU shortcuts that let the CPU pick
    /// ([`Kernel::settle_wakes_on_one_cpu`], [`Kernel::settle_free_lone_cpu`]).
    #[inline(always)]
    pub(super) fn dispatch_lone_then_ask(&mut self, q: u32, t: u64) -> bool {
        if let Dispatched::Starting = self.dispatch_on_lone_cpu(q, t) {
            self.run_instant(0);
            if self.error.is_some() {
                return false;
            }
        }
        self.more_to_settle()
    }
}
