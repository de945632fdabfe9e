//! Shortcuts for a single CPU with a context switch cost (#13): the ticks that a switch cost
//! moves off the slice boundaries (a switch's end, a timer firing while a process computes),
//! and the quiet end of a tick's rounds on a busy CPU. Each does in one place what a tick of
//! the general rounds (`Kernel::step_general`, `dispatch.rs`) would do, applies only where
//! that is exact, and says what it assumes. The scenario, policy and property tests run every
//! scenario with the shortcuts on and off and compare the reports byte for byte
//! (`tests/scenarios.rs`, `tests/policies.rs`, `tests/properties.rs`, and
//! `tests/fast_multi.rs` with every scenario forced to a switch of 1 tick, and of 2).
//!
//! Before them, on RR-IO-v1 with `context_switch: 1` (callgrind, 10^6 dispatches), the
//! switch's end after a burst end and each `io`'s wake-up went through `fast_multi.rs`'s steps
//! for any policy (a scan of what is due, the general rounds finding nothing to do), some 350
//! to 400 instructions apiece.
//!
//! A tick settled here counts against `kernel.max_events` as the general step counts it, and
//! a tick that would pass the limit is left to the general step ([`Kernel::count_tick`]).

use super::fast::Dispatched;
use super::timers::TimerKind;
use super::{Kernel, Policy, Run};
use crate::model::State;

impl<P: Policy> Kernel<P> {
    /// Round robin on a single CPU, the next event being either a timer that fires before
    /// the CPU's next event, or the end of a context switch; `None` when it is anything else
    /// (then the other steps, and at last the general one, look).
    ///
    /// It assumes: the fast paths are on, so the policy is round robin (no event of its own,
    /// no preemption by a woken process, nothing read of `Cpu::since`); no threads (a thread
    /// switch has its own cost); one CPU. Nothing else is due at or before the tick: no
    /// arrival, outside signal or tick limit (`limit`), and for a switch's end no timer
    /// either (a timer at that very tick fires before the switch ends: the general step's
    /// order, left to it). Then the general step at that tick would drop no stale timer (the
    /// first timer is live, or there is none by then), count the tick, fire the timers due,
    /// end the switch if it is the switch's tick (`finish_switch`: `start_running` and
    /// `run_instant`, which [`Kernel::run_on_lone_cpu`] folds in as round robin's slice-end
    /// loop does) and settle the tick; this does the same, without its scan of what is due
    /// and with the settling's first shortcut asked directly. A timer whose process is not
    /// blocked (stale), or a join's timeout, is left to the steps that handle those.
    ///
    /// (Whether it may apply is asked inline: every step asks, on several CPUs too.)
    #[inline(always)]
    pub(super) fn step_lone_switching(&mut self) -> Option<bool> {
        if self.cpus.len() != 1 || !self.fast_paths || self.threads_on {
            return None;
        }
        self.step_lone_switching_on()
    }

    /// [`Kernel::step_lone_switching`] once round robin on one CPU without threads is known.
    #[inline(never)]
    fn step_lone_switching_on(&mut self) -> Option<bool> {
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if self.finished || self.error.is_some() {
            return None;
        }
        let run = cpu.run;
        let cpu_due = match run {
            Run::Idle => return None,
            Run::Switching { until, .. } => until,
            Run::Running {
                slice_end,
                burst_end,
                ..
            } => slice_end.min(burst_end),
        };
        let limit = self.step_aside_at();
        if let Some(&timer) = self.timers.peek()
            && timer.at <= cpu_due
        {
            let live = timer.kind != TimerKind::JoinTimeout
                && self.hot[timer.p as usize].state == State::Blocked;
            let t = timer.at;
            if t == cpu_due || t >= limit || !live || !self.count_tick() {
                return None;
            }
            self.now = t;
            self.fire_timers(t);
            if self.error.is_none() && self.settle_wakes_on_one_cpu(t) != Some(false) {
                self.settle(t);
            }
        } else {
            let Run::Switching { p, from, until } = run else {
                return None;
            };
            if until >= limit || !self.count_tick() {
                return None;
            }
            self.now = until;
            self.switch_ticks = self.switch_ticks.saturating_add(until - from);
            // As `finish_switch`: the process runs its instructions first if its burst is
            // over, and the tick is settled only if that left something to settle (the
            // general rounds would find nothing else to do otherwise: nothing else is ready
            // at this tick, and round robin does not preempt).
            if let Dispatched::Starting = self.run_on_lone_cpu(p, until) {
                self.run_instant(0);
                if self.error.is_none() && self.more_to_settle() {
                    self.settle(until);
                }
            }
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The end of a tick's settling on a single CPU under a policy that does not preempt,
    /// when nothing joined the ready structure this round (no wake-up, admission or slice
    /// end, no preemption undecided) and the CPU is busy (running, or switching to the
    /// process it took): the general rounds of [`Kernel::settle`] would then enqueue nothing,
    /// find no free CPU, and, the policy not preempting, do nothing more. The commonest case
    /// is a switch's end under any policy but round robin (whose own step ends it, above).
    /// (A free CPU in the same case is [`Kernel::settle_free_lone_cpu`]'s, asked before.) It
    /// assumes no threads (the GIL) and no decision log (`--explain` turns the shortcuts
    /// off). `None` when the tick is not of this kind; else false: nothing is left to settle.
    #[inline(always)]
    pub(super) fn settle_quiet_on_one_cpu(&mut self, _t: u64) -> Option<bool> {
        let quiet = self.woken.is_empty()
            && self.admitted.is_empty()
            && self.preempted.is_empty()
            && self.pending_preempts == 0;
        let exact = self.fast_wakes && !self.needs.preemption && !self.threads_on;
        if !(quiet && exact) {
            return None;
        }
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if cpu.run == Run::Idle {
            return None;
        }
        Some(false)
    }
}
