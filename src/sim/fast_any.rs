//! The slice-end shortcuts for every policy but round robin, on a single CPU: a slice end
//! with nothing else due ([`Kernel::step_slice_end_any`], whose loop goes on through the
//! slice ends, burst ends and wake-ups that follow, and for a run without a trace through a
//! lean loop of its own, `fast/lean_any.rs`'s [`lean_any`]) and the general rounds' tick of
//! a lone slice end ([`Kernel::settle_slice_end_any`]). Round robin's own, which assume its
//! FIFO, are in `fast.rs` and `fast/lean.rs`; a slice end that meets wake-ups is
//! `fast_wake.rs`'s.
//!
//! Each goes through the policy for every decision (`charge`, `enqueue`, `pick`, `slice`), so
//! it holds for every policy that does not preempt, and steps aside where the general rounds
//! would do more. The tests run every scenario, under every policy, with them on and off and
//! compare the reports byte for byte (`tests/scenarios.rs`, `tests/policies.rs`,
//! `tests/properties.rs`, and `tests/fast_any.rs`, also without a trace).

use super::fast::{Dispatched, Left, lean_any};
use super::pcb::NONE;
use super::sched::{Leave, Ready, UNLIMITED, Usage};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State};

impl<P: Policy> Kernel<P> {
    /// [`Kernel::step_lone_slice_end`] for every other policy that has no event due and does
    /// not preempt: on a single CPU the running process's slice ends before anything else is
    /// due. What `step_general`, `expire_slice` and then [`Kernel::settle_slice_end_any`]
    /// would do, in one place and without the general step's scan of what is due: the
    /// process is charged with its slice and joins the ready structure, the CPU picks; the
    /// same process picked again keeps its CPU with a fresh slice (nothing counted), another
    /// one takes it and the first was preempted. With `batch`, goes on with the slice ends
    /// that follow for as long as nothing else is due before them, and through the burst
    /// ends and the slice ends at which timers are due as well: each is settled in place by
    /// the shortcut the kernel's step would take next ([`Kernel::step_burst_end`],
    /// [`Kernel::step_slice_end_with_wakes_any`]), which checks for itself that it applies,
    /// and the loop goes on while the CPU is left running. (Under lottery on RR-IO-v1 a
    /// return to the kernel's step came every 1.8 dispatches; going on in place saved 6 % of
    /// the run's instructions, 539.9 M to 507.2 M, callgrind, N = 20,000.)
    ///
    /// It assumes: one CPU; no arrival, timer or tick limit at or before the slice end (the
    /// horizon), and no policy event then either (an event at that tick runs between the
    /// slice end and the rounds); the burst not over at the slice end (that is
    /// [`Kernel::step_burst_end`]'s case). Under a preemptive policy the general rounds then
    /// ask whether a ready process displaces the one running: with a process just
    /// dispatched they ask with no running process to choose from (it has not run yet),
    /// which [`Policy::preempt`] answers `None` without changing anything, so that question
    /// is skipped; with the process kept on its CPU they ask about it, and so does this.
    /// Unlike round robin's loop it charges every slice end and keeps `Cpu::since`, and it
    /// does not jump over the slice ends of a process that is alone: any policy may count
    /// them (a stride pass, a vruntime). `None` when the next event is not of this kind.
    #[inline(always)]
    pub(super) fn step_slice_end_any(&mut self, batch: bool) -> Option<bool> {
        if self.fast_paths || !self.fast_wakes {
            return None;
        }
        if self.cpus.len() != 1 || self.finished || self.error.is_some() {
            return None;
        }
        let (mut p, mut t, mut burst_end) = self.lone_running()?;
        // The slice-end check first: under a policy without slices (FCFS) the burst always
        // ends first, and the horizon is not worth computing (+8 % instructions for FCFS).
        if t >= burst_end {
            return None;
        }
        let mut horizon = self.horizon_any();
        if t >= horizon {
            return None;
        }
        // Asked once: what the lean loop assumes (see `fast/lean_any.rs`).
        let lean = batch
            && self.lean_applies()
            && !self.needs.bursts
            && self.plan.kernel.context_switch == 0;
        'run: loop {
            if lean {
                let (q, at, left, h) = self.lean_run_any(p, t, burst_end, horizon);
                horizon = h;
                match left {
                    Left::Starting => {
                        let Some((next, h)) = self.start_then_go_on(at) else {
                            break;
                        };
                        (p, t, burst_end) = next;
                        horizon = h;
                    }
                    Left::Running => {
                        let Some(next) = self.lone_running() else {
                            break;
                        };
                        (p, t, burst_end) = next;
                        debug_assert!(q == p && (t >= burst_end || t >= horizon));
                    }
                    Left::Idle => break,
                    Left::Kept => {
                        if !self.kept_after_asking(q, at) {
                            break;
                        }
                        let Some(next) = self.lone_running() else {
                            break;
                        };
                        (p, t, burst_end) = next;
                    }
                }
            } else {
                self.now = t;
                // `expire_slice`, then `settle_slice_end_any`.
                let ran = t - self.cpus[0].since;
                let usage = Usage { ran, slice_left: 0 };
                self.policy.charge(p, Leave::SliceEnd, usage, t);
                self.hot[p as usize].burst_left = burst_end - t;
                let burst = self.burst_for(p);
                self.policy.enqueue(p, Ready::SliceEnd, burst, t);
                // It was just enqueued, so the policy has something to pick.
                let q = self.policy.pick(t, &mut self.rng).unwrap_or(p);
                // After the pick: a policy that draws (lottery) knows the next one only then.
                self.prefetch_upcoming_any();
                let t_now = t;
                if q == p {
                    // `resume`: it keeps its CPU with a fresh slice.
                    let slice = self.policy.slice(p, t);
                    self.cpus[0].since = t;
                    t = t.saturating_add(slice);
                    self.cpus[0].run = Run::Running {
                        p,
                        slice_end: t,
                        burst_end,
                    };
                    // The general rounds then ask a preemptive policy whether a ready process
                    // displaces it; what follows a yes is theirs.
                    if self.needs.preemption
                        && !self.policy.is_empty()
                        && !self.kept_after_asking(p, t_now)
                    {
                        break;
                    }
                } else {
                    // `resolve_preemption`, then `take`.
                    let hot = &mut self.hot[p as usize];
                    hot.preemptions = hot.preemptions.saturating_add(1);
                    self.transition(p, State::Ready, Cause::Preempt, Some(0));
                    match self.dispatch_on_lone_cpu(q, t) {
                        Dispatched::Switching => break,
                        Dispatched::Running {
                            slice_end,
                            burst_end: end,
                        } => {
                            (p, t, burst_end) = (q, slice_end, end);
                        }
                        Dispatched::Starting => {
                            let Some((next, h)) = self.start_then_go_on(t) else {
                                break;
                            };
                            (p, t, burst_end) = next;
                            horizon = h;
                        }
                    }
                }
            }
            if !batch || self.error.is_some() {
                break;
            }
            // A burst end, or a slice end at which timers are due: the general step would
            // take either next with its own shortcut; in place, and the loop goes on while
            // the CPU is left running.
            while t >= burst_end || t >= horizon {
                let settled = if t >= burst_end {
                    self.plain_burst_end_any(p, burst_end)
                        .or_else(|| self.step_burst_end())
                } else {
                    self.step_slice_end_with_wakes_any()
                };
                if settled != Some(true) {
                    break 'run;
                }
                let Some(next) = self.lone_running() else {
                    break 'run;
                };
                (p, t, burst_end) = next;
                horizon = self.horizon_any();
            }
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// In the loop of [`Kernel::step_slice_end_any`], process `p`'s burst ends at `b` (at its
    /// slice end or before) and its next instruction is a plain block (an `io` or `sleep` of
    /// a literal number of ticks above 0: [`Kernel::plain_block_after`]). What
    /// [`Kernel::step_burst_end`] would do, with `finish_burst`, the interpreter and
    /// [`Kernel::block`] folded into one place as round robin's loop folds them
    /// ([`Kernel::block_plain`]): the timers due at `b` fire, the policy is charged for the
    /// block as `block` charges it, `p` blocks, and the tick is settled as `step_burst_end`
    /// settles it. It applies where `step_burst_end` would and `block_plain` is exact (no
    /// thread, no decision log, nothing pending from a slice end, the step budget not
    /// reached); else `None`, having changed nothing.
    #[inline(always)]
    fn plain_burst_end_any(&mut self, p: u32, b: u64) -> Option<bool> {
        debug_assert!(!self.finished);
        debug_assert!(
            matches!(self.cpus[0].run, Run::Running { p: q, slice_end, burst_end } if q == p && burst_end == b && b <= slice_end)
        );
        let limit = self.step_aside_at();
        if b >= limit
            || self.timers.next_at().is_some_and(|at| at < b)
            || self.policy.next_event().is_some_and(|at| at <= b)
        {
            return None;
        }
        if self.threads_on
            || self.log.is_some()
            || self.pending_preempts != 0
            || self.steps >= self.plan.kernel.max_steps
        {
            return None;
        }
        let Run::Running { slice_end, .. } = self.cpus[0].run else {
            return None;
        };
        let (cause, ticks) = self.plain_block_after(p)?;
        self.now = b;
        self.fire_timers(b);
        if self.needs.block_charges {
            // `block`'s charge (a slice end at the last tick is no slice end).
            let slice_left = if slice_end == NONE {
                UNLIMITED
            } else {
                slice_end - b
            };
            let ran = b - self.cpus[0].since;
            self.policy
                .charge(p, Leave::Block, Usage { ran, slice_left }, b);
        }
        self.block_plain(0, p, b, cause, ticks);
        if self.error.is_none() {
            // `step_burst_end`'s settling. With nothing woken, the first of `settle`'s
            // shortcuts that applies is `settle_free_lone_cpu` (nothing was preempted): asked
            // here without the others' checks.
            let settled = self
                .settle_wakes_on_one_cpu(b)
                .or_else(|| self.settle_free_lone_cpu(b));
            if settled != Some(false) {
                self.settle(b);
            }
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The events of [`Kernel::step_slice_end_any`]'s loop from process `p` running with its
    /// slice ending at `t`, before its burst ends at `burst_end` and before `horizon`, through
    /// the lean loop of `fast/lean_any.rs` ([`lean_any`]), for a run that keeps no trace, has
    /// no threads and no decision log ([`Kernel::lean_applies`]), under a policy that reads
    /// no bursts, without a switch cost (the caller asks these once). Returns the process on
    /// the CPU, the tick of the last event taken (the clock, which it sets), how the CPU was
    /// left, and the horizon.
    #[inline(always)]
    fn lean_run_any(
        &mut self,
        p: u32,
        t: u64,
        burst_end: u64,
        horizon: u64,
    ) -> (u32, u64, Left, u64) {
        debug_assert!(t < burst_end && t < horizon);
        let parts = self.any_parts(horizon);
        let (q, at, left, horizon) = lean_any(parts, (p, t, burst_end), horizon);
        self.now = at;
        (q, at, left, horizon)
    }

    /// The general rounds' question after process `p` kept its CPU at `t` under a preemptive
    /// policy with others ready: does one of them displace it? Whether it kept its CPU; if
    /// not, what the preemption started has run and the rounds settled what followed.
    fn kept_after_asking(&mut self, p: u32, t: u64) -> bool {
        let mut started = std::mem::take(&mut self.started);
        self.preempt_for_urgent(t, &mut started);
        let kept = matches!(self.cpus[0].run, Run::Running { p: q, .. } if q == p);
        if !kept {
            self.run_started_then_settle(started, t);
            return false;
        }
        self.started = started;
        true
    }

    /// The process just dispatched at `t` with its burst over runs its instructions first,
    /// which may change what is due: the process running after them with its slice and burst
    /// ends, and the horizon looked up again, for the loop to go on with; `None` (the loop
    /// stops) after an error, with the CPU left otherwise, or with more to settle at `t`
    /// (settled here, by the general rounds).
    #[inline(always)]
    fn start_then_go_on(&mut self, t: u64) -> Option<((u32, u64, u64), u64)> {
        self.run_instant(0);
        if self.error.is_some() {
            return None;
        }
        if self.more_to_settle() {
            self.settle(t);
            return None;
        }
        let horizon = self.horizon_any();
        Some((self.lone_running()?, horizon))
    }

    /// [`Kernel::horizon`], and the tick of the policy's own next event.
    #[inline(always)]
    pub(super) fn horizon_any(&self) -> u64 {
        let horizon = self.horizon();
        self.policy
            .next_event()
            .map_or(horizon, |at| horizon.min(at))
    }

    /// A slice end on a single CPU with nothing else ready at that tick, under a policy other
    /// than round robin that does not preempt: what the general rounds do, in one go. The
    /// process joins the ready structure (`enqueue`, after its `charge` in `expire_slice`),
    /// the CPU picks; if the policy picks it again it keeps its CPU (nothing counted), else it
    /// was preempted and the CPU takes the one picked. (A preemptive policy could then be
    /// asked to preempt the one that kept its CPU: the general rounds do that.) `None` when
    /// the tick is not of this kind; else whether more is left to settle.
    pub(super) fn settle_slice_end_any(&mut self, t: u64) -> Option<bool> {
        let lone = self.woken.is_empty()
            && self.admitted.is_empty()
            && self.preempted.len() == 1
            && self.pending_preempts == 1;
        if !self.fast_wakes || self.fast_paths || self.needs.preemption || !lone {
            return None;
        }
        let p = self.preempted[0];
        if self.cpus.len() != 1 || self.cpus[0].run != Run::Idle || self.cpus[0].last != p {
            return None;
        }
        self.preempted.clear();
        let burst = self.burst_for(p);
        self.policy.enqueue(p, Ready::SliceEnd, burst, t);
        // It was just enqueued, so the policy has something to pick.
        let q = self.policy.pick(t, &mut self.rng).unwrap_or(p);
        if q == p {
            self.resume(0, p, t);
            return Some(false);
        }
        self.resolve_preemption(p);
        if self.take(0, q, t) {
            self.run_instant(0);
            return Some(self.error.is_none() && self.more_to_settle());
        }
        Some(false)
    }
}
