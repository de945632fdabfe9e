//! Shortcuts for runs that the single-CPU loop of `fast.rs` does not cover: a context switch
//! cost, and several CPUs (#13). Each does in one place what a tick of the general rounds
//! (`Kernel::step_general`, `dispatch.rs`) would do, applies only where that is exact, and
//! says what it assumes. The scenario, policy and property tests run every scenario with the
//! shortcuts on and off and compare the reports byte for byte (`tests/scenarios.rs`,
//! `tests/policies.rs`, `tests/properties.rs`).
//!
//! A tick these shortcuts settle counts against `kernel.max_events` as the general step
//! counts it (once for each CPU); a tick that would reach the limit is left to the general
//! step, which stops the run with its message.

use super::fast::Dispatched;
use super::{Kernel, Policy, Run};

impl<P: Policy> Kernel<P> {
    /// Counts the general rounds of the next tick (once per CPU they look at) against
    /// `kernel.max_events`; true when the limit stopped the run. A run's cost grows with its
    /// events: 1,024 CPUs at quantum 1 make a thousand a tick. (What the shortcuts count: see
    /// [`Kernel::disable_fast_paths`].)
    pub(super) fn count_events(&mut self) -> bool {
        self.events = self.events.saturating_add(self.cpus.len() as u64);
        let max = self.plan.kernel.max_events;
        if self.events > max {
            self.error = Some(format!(
                "stopped at tick {}: kernel.max_events ({max} events, a tick counting once for each CPU) reached; raise it if the run is wanted",
                self.now
            ));
            self.finished = true;
            return true;
        }
        false
    }

    /// Counts a tick that a shortcut settles as [`Kernel::count_events`] would, once for each
    /// CPU; false (nothing counted) when that would pass `kernel.max_events`, whose message
    /// is the general step's to give.
    #[inline(always)]
    pub(super) fn count_tick(&mut self) -> bool {
        let events = self.events.saturating_add(self.cpus.len() as u64);
        if events > self.plan.kernel.max_events {
            return false;
        }
        self.events = events;
        true
    }

    /// In round robin's slice-end loop ([`Kernel::step_lone_slice_end`]), on a single CPU,
    /// the switch just begun ends at its tick (`until`) if nothing else is due by then:
    /// `horizon` is [`Kernel::horizon`] (an arrival, a timer, an outside signal, the tick
    /// limit), and round robin has no event of its own. The general step at `until` would
    /// then find only the switch's end, and do what this does: count the tick, add the
    /// switch's ticks, and start the process (`finish_switch`: `start_running`, then
    /// `run_instant`, which [`Kernel::run_on_lone_cpu`] folds in); nothing else is ready at
    /// that tick, so its rounds would have nothing more to do unless the process, starting,
    /// runs instructions (the caller's `Starting`, which settles as the loop does after a
    /// dispatch). Returns [`Dispatched::Switching`], with nothing changed, when it does not
    /// apply.
    ///
    /// Unlike the general step it does not drop stale timers (those of ended processes)
    /// first: a stale timer at or before `until` is in `horizon` and makes it step aside,
    /// and a later one is dropped by the next general step before it can make a tick, as
    /// the slice-end loop already leaves it.
    #[inline(always)]
    pub(super) fn end_lone_switch(&mut self, horizon: u64) -> Dispatched {
        let Run::Switching { p, from, until } = self.cpus[0].run else {
            return Dispatched::Switching;
        };
        if until >= horizon || !self.count_tick() {
            return Dispatched::Switching;
        }
        self.now = until;
        self.switch_ticks = self.switch_ticks.saturating_add(until - from);
        self.run_on_lone_cpu(p, until)
    }

    /// On a single CPU, under any policy, the next event is the end of a context switch,
    /// with nothing due before it but what [`Kernel::step_general`] would find none of:
    /// no arrival, outside signal or tick limit at or before its tick, no timer before it,
    /// no policy event at or before it. The general step would then drop stale timers,
    /// count the tick, fire the timers due at it, end the switch (`finish_switch`) and
    /// settle the tick; this does the same, without its scan of what is due. `None` when
    /// the next event is anything else. (Whether it may apply is asked inline: every step
    /// asks, on several CPUs too, where the call alone cost 18 instructions a tick.)
    #[inline(always)]
    pub(super) fn step_switch_end(&mut self) -> Option<bool> {
        if self.cpus.len() != 1 {
            return None;
        }
        self.step_switch_end_on()
    }

    /// [`Kernel::step_switch_end`] once the kernel is known to have one CPU.
    #[inline(never)]
    fn step_switch_end_on(&mut self) -> Option<bool> {
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if !self.fast_wakes || self.finished || self.error.is_some() {
            return None;
        }
        let Run::Switching { until: t, .. } = cpu.run else {
            return None;
        };
        self.drop_stale_timers();
        let limit = self.step_aside_at();
        if t >= limit
            || self.timers.next_at().is_some_and(|at| at < t)
            || self.policy.next_event().is_some_and(|at| at <= t)
            || !self.count_tick()
        {
            return None;
        }
        self.now = t;
        self.fire_timers(t);
        self.finish_switch(0);
        if self.error.is_none() {
            self.settle(t);
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// On any number of CPUs, under any policy, the next event is a timer (an `io` or a
    /// `sleep` ending, a join's timeout) due before anything on any CPU (a burst, slice or
    /// switch end) and before any arrival, outside signal, tick limit or policy event. The
    /// general step would then drop stale timers, count the tick, fire the timers due at it
    /// and settle the tick, its loop over the CPUs finding nothing due on any; this does the
    /// same without its scan of what is due. `None` when the next event is anything else.
    ///
    /// It is asked at every step; on several CPUs the timers mostly fall on the CPUs' own
    /// ticks, so the question whether one comes first is asked inline, and the rest only when
    /// one does (asked out of line, it cost RR-IO-v1 on 4 CPUs 24.8 M instructions in 10^6
    /// dispatches, for no tick it settled).
    #[inline(always)]
    pub(super) fn step_timers(&mut self) -> Option<bool> {
        if !self.fast_wakes {
            return None;
        }
        // The CPUs' earliest due tick, given up on at the first CPU due no later than the
        // first timer (stale or not: dropping stale ones only makes the first later), since
        // then this is not the tick's kind.
        let first = self.timers.next_at()?;
        let mut cpus_due = u64::MAX;
        for cpu in &self.cpus {
            let due = match cpu.run {
                Run::Idle => continue,
                Run::Switching { until, .. } => until,
                Run::Running {
                    slice_end,
                    burst_end,
                    ..
                } => slice_end.min(burst_end),
            };
            if due <= first {
                return None;
            }
            cpus_due = cpus_due.min(due);
        }
        self.step_timers_first(cpus_due)
    }

    /// [`Kernel::step_timers`] once a timer (stale or not) is known to come before
    /// `cpus_due`, the earliest tick anything is due on the CPUs.
    #[inline(never)]
    fn step_timers_first(&mut self, cpus_due: u64) -> Option<bool> {
        if self.finished || self.error.is_some() {
            return None;
        }
        self.drop_stale_timers();
        let t = self.timers.next_at()?;
        let limit = self.step_aside_at();
        if t >= limit || t >= cpus_due || self.policy.next_event().is_some_and(|at| at <= t) {
            return None;
        }
        if !self.count_tick() {
            return None;
        }
        self.now = t;
        self.fire_timers(t);
        if self.error.is_none() {
            self.settle(t);
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }
}

impl<P: Policy> Kernel<P> {
    /// Round robin with nothing ready, on any number of CPUs: every slice that ends before
    /// anything else is due (an arrival, a timer, an outside signal, the tick limit, or a
    /// burst end on any CPU)
    /// ends with its process keeping its own CPU, so those slice ends are moved past in one
    /// go instead of a general round each. Boundaries stay a whole number of slices apart, as
    /// [`Kernel::step_lone_slice_end`] keeps them on one CPU, so a slice end that falls on
    /// the tick something else is due is still handled with it, in the tick's order.
    ///
    /// It assumes what makes such a slice end change nothing (SPEC §3, and the general
    /// rounds: `expire_slice`, then `dispatch_free_cpus` giving a process whose slice ran out
    /// its own free CPU back through `resume`): the fast paths are on, so the policy is round
    /// robin, which charges nothing at a slice end, draws nothing, has no event of its own and
    /// gives a fresh slice of the same length at every resume; the next outside signal is
    /// part of [`Kernel::horizon`], like an arrival; the ready queue is empty, so the first
    /// free CPU picks
    /// the process again and it keeps its own CPU, with no preemption, dispatch or switch
    /// counted; no CPU is switching (a switch's end is a dispatch) and no slice end is still
    /// undecided. The tests run every scenario with the fast paths on and off and compare the
    /// reports (`tests/scenarios.rs`, `tests/properties.rs`); `tests/runaway.rs` holds a lone
    /// process on two CPUs for 10^12 ticks to a few events.
    pub(super) fn skip_lone_slice_ends(&mut self) {
        if !self.fast_paths
            || self.finished
            || self.error.is_some()
            || self.pending_preempts != 0
            || !self.policy.is_empty()
            || !(self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty())
        {
            return;
        }
        let mut until = self.horizon();
        for cpu in &self.cpus {
            match cpu.run {
                Run::Idle => {}
                Run::Switching { .. } => return,
                Run::Running { burst_end, .. } => until = until.min(burst_end),
            }
        }
        for c in 0..self.cpus.len() {
            let Run::Running {
                p,
                slice_end,
                burst_end,
            } = self.cpus[c].run
            else {
                continue;
            };
            if slice_end >= until {
                continue;
            }
            let slice = self.policy.slice(p, slice_end).max(1);
            let slices = (until - slice_end).div_ceil(slice);
            self.cpus[c].run = Run::Running {
                p,
                slice_end: slice_end.saturating_add(slices.saturating_mul(slice)),
                burst_end,
            };
        }
    }
}
