//! Shortcuts for a single CPU with a context switch cost (#13): the ticks that a switch cost
//! moves off the slice boundaries (a switch's end, a timer firing while a process computes),
//! and the quiet end of a tick's rounds on a busy CPU. Each does in one place what a tick of
//! the general rounds (`Kernel::step_general`, `dispatch.rs`) would do, applies only where
//! that is exact, and says what it assumes. The scenario, policy and property tests run every
//! scenario with the shortcuts on and off and compare the reports byte for byte
//! (`tests/scenarios.rs`, `tests/policies.rs`, `tests/properties.rs`, and
//! `tests/fast_multi.rs` with every scenario forced to a switch of 1 tick, and of 2);
//! `tests/fast_switch_loop.rs` holds round robin's loop to them under every limit, and with
//! the timers a wake-up in place must leave alone (a killed process's, a join's timeout).
//!
//! Before them, on RR-IO-v1 with `context_switch: 1` (callgrind, 10^6 dispatches), the
//! switch's end after a burst end and each `io`'s wake-up went through `fast_multi.rs`'s steps
//! for any policy (a scan of what is due, the general rounds finding nothing to do), some 350
//! to 400 instructions apiece.
//!
//! A tick settled here counts against `kernel.max_events` as the general step counts it, and
//! a tick that would pass the limit is left to the general step ([`Kernel::count_tick`]).
//!
//! After its tick, round robin's step goes on in a copy of round robin's slice-end loop
//! (`fast.rs`, `lone_slice_ends::<true>`) that takes the burst ends, and the ticks of this
//! step in between ([`Kernel::rr_lone_resume`]), in the loop: RR-IO-v1 with `context_switch:
//! 1` took three of the kernel's steps a burst end before (callgrind, N = 20,000: 378.5 M
//! instructions, 1.71x the run without a switch cost; 327.2 M, 1.48x, after).

use super::fast::Dispatched;
use super::sched::Ready;
use super::timers::{Timer, TimerKind};
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

    /// [`Kernel::step_lone_switching`] once round robin on one CPU without threads is known:
    /// its tick, then round robin's slice-end loop in its copy for a switch cost, for as long
    /// as it can go on ([`Kernel::lone_slice_ends`]; it ends on a tick of another kind).
    #[inline(never)]
    fn step_lone_switching_on(&mut self) -> Option<bool> {
        if !self.lone_switching_tick()? {
            return Some(false);
        }
        // (It sets `finished` if it stops the run.)
        let _ = self.lone_slice_ends::<true>(true);
        Some(!self.finished)
    }

    /// The tick of [`Kernel::step_lone_switching`], alone: `Some(false)` when it stopped the
    /// run. (Out of line: its one copy serves both the step and the loop's `rr_lone_resume`.)
    #[inline(never)]
    fn lone_switching_tick(&mut self) -> Option<bool> {
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
            // Its commonest form: that timer alone fires, and nothing else joins the queue
            // (`fire_lone_timer` wakes the process without the list of the woken). The general
            // sequence, `settle_wakes_on_one_cpu`, would enqueue that one alone
            // (`enqueue_woken`'s case of one) and, the CPU busy and round robin not
            // preempting, find nothing more to settle. Callgrind, RR-IO-v1 with
            // `context_switch: 1` at N = 20,000: 281.2 M instructions before, 274.7 M after.
            let lone = self.fire_lone_timer(t);
            let exact = self.fast_wakes && !self.needs.preemption && self.pending_preempts == 0;
            match lone {
                Some((_, _, w)) if exact => {
                    let burst = self.burst_for(w);
                    self.policy.enqueue(w, Ready::Wake, burst, t);
                }
                _ => {
                    if let Some(key) = lone {
                        self.woken.push(key);
                    }
                    if self.error.is_none() && self.settle_wakes_on_one_cpu(t) != Some(false) {
                        self.settle(t);
                    }
                }
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

    /// In the slice-end loop's copy for a switch cost, something comes before the slice end
    /// `t` of process `p`: its burst end (`burst_end` at `t` or before: `rr_burst_end`, or
    /// if that steps aside, a timer before it, the ticks [`Kernel::rr_lone_resume`] takes),
    /// or a timer (or something else due) before the slice end (`rr_lone_resume`). What
    /// runs after, for the loop; `None` when the loop stops.
    #[inline(always)]
    pub(super) fn rr_lone_before_slice_end(
        &mut self,
        p: u32,
        t: u64,
        burst_end: u64,
        limit: u64,
    ) -> Option<(u32, u64, u64)> {
        if t >= burst_end
            && let Some(next) = self.rr_burst_end::<true>(p, burst_end, limit)
        {
            return Some(next);
        }
        self.rr_lone_resume(limit)
    }

    /// Round robin's slice-end loop on one CPU ([`Kernel::step_lone_slice_end`]) goes on
    /// here where it would hand the next tick back to the kernel's step: a timer fires
    /// before the CPU's next event (an `io` ending while a process computes), or the CPU is
    /// left switching (a burst end's block under a switch cost, or a switch the loop could
    /// not end). The ticks that [`Kernel::step_lone_switching`] settles (a timer before the
    /// CPU's next event, a switch's end with nothing due by then) it settles, one after the
    /// other, as the kernel's step would: by asking it, with nothing in between that the
    /// kernel's step would do (the shortcuts the step asks before it take none of these
    /// ticks: each of them wants its CPU event first, or nothing before it); or, for the
    /// lone wake-up of a blocked process in the running process's slice, by
    /// [`Kernel::wake_in_slice`], which does what it would.
    ///
    /// Under a switch cost (RR-IO-v1 with `context_switch: 1`) each burst end left the loop
    /// for three of the kernel's steps: the burst end, the switch's end after it, and the
    /// `io` ending in the next process's slice (callgrind, N = 20,000: 580,021 steps for a
    /// million dispatches, where the run without a switch cost takes 20,031).
    ///
    /// It is called between ticks, each one settled. Returns the process running then, its
    /// slice end and burst end, for the loop to go on with, only if it settled at least one
    /// tick (so the loop cannot ask again with nothing changed); `None` when it settled none,
    /// or the CPU is not running a process after them, or the run stopped: then the loop
    /// ends, and the kernel's step takes what comes next. It assumes what the step does
    /// (the fast paths on, round robin, one CPU, no threads): the loop's copy that calls it
    /// is entered only from the step, which checked them.
    ///
    /// `limit` is [`Kernel::step_aside_at`], which only the general step changes.
    #[inline(always)]
    pub(super) fn rr_lone_resume(&mut self, limit: u64) -> Option<(u32, u64, u64)> {
        debug_assert_eq!(limit, self.step_aside_at());
        let mut moved = false;
        loop {
            if let Run::Running {
                p,
                slice_end,
                burst_end,
            } = self.cpus[0].run
            {
                let due = slice_end.min(burst_end);
                // A running CPU with no timer by its next event: the tick would be none of
                // the step's (it asks the same first), so the loop goes on without asking it.
                let Some(&first) = self.timers.peek().filter(|timer| timer.at <= due) else {
                    let on = moved && !self.finished && self.error.is_none();
                    return on.then_some((p, slice_end, burst_end));
                };
                // The commonest tick of this kind, in place.
                match self.wake_in_slice(first, due, limit) {
                    Some(true) => {
                        moved = true;
                        continue;
                    }
                    Some(false) => return None,
                    None => {}
                }
            }
            match self.lone_switching_tick() {
                Some(true) => moved = true,
                Some(false) => return None,
                None => break,
            }
        }
        match self.cpus[0].run {
            Run::Running {
                p,
                slice_end,
                burst_end,
            } if moved && self.error.is_none() => Some((p, slice_end, burst_end)),
            _ => None,
        }
    }

    /// In [`Kernel::rr_lone_resume`], with the CPU running a process whose next event is at
    /// `due`: the first timer (`timer`) fires before then, alone in its tick, and wakes its
    /// process (an `io` ending in another process's slice: under a switch cost every `io`
    /// of RR-IO-v1 ends so, in the round of burst ends). What
    /// [`Kernel::lone_switching_tick`] does with that tick in its commonest case, with what
    /// the loop knows folded in (one CPU, running; round robin; `limit` is
    /// [`Kernel::step_aside_at`]): the tick counted, the timer fired as
    /// [`Kernel::fire_lone_timer`] fires it ([`Kernel::wake_popped`]), the process to the
    /// queue's tail, nothing else to settle (the CPU is busy, round robin does not preempt).
    /// Through `lone_switching_tick` such a tick took some 220 instructions (callgrind,
    /// RR-IO-v1 with `context_switch: 1` at N = 20,000: 180,000 of them; 258.2 M
    /// instructions in all before, 240.1 M after).
    ///
    /// `None`, having changed nothing, where `lone_switching_tick` would do more or other
    /// (a timer at `due` or past the limit, a stale one or a join's timeout, two due in the
    /// tick, the event limit, something left unsettled): it looks then. Else whether the run
    /// goes on (`Some(false)`: recording the wake-up reached `kernel.max_trace`).
    #[inline(always)]
    fn wake_in_slice(&mut self, timer: Timer, due: u64, limit: u64) -> Option<bool> {
        let (at, w) = (timer.at, timer.p);
        let exact = self.wakes_in_slice
            && self.fast_wakes
            && !self.needs.preemption
            && self.pending_preempts == 0
            && self.woken.is_empty()
            && self.admitted.is_empty()
            && self.preempted.is_empty()
            && !self.finished
            && self.error.is_none();
        if !exact
            || at >= due
            || at >= limit
            || timer.kind == TimerKind::JoinTimeout
            || self.hot[w as usize].state != State::Blocked
            || self.events >= self.plan.kernel.max_events
        {
            return None;
        }
        self.timers.pop_lone_due(at)?;
        // (`count_tick` on one CPU, known to pass.)
        self.events += 1;
        self.now = at;
        if self.wake_popped(timer, at).is_none() {
            // As `lone_switching_tick` leaves it.
            self.finished = true;
            return Some(false);
        }
        let burst = self.burst_for(w);
        self.policy.enqueue(w, Ready::Wake, burst, at);
        Some(true)
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
