//! The kernel's fast paths: shortcuts for the commonest events of a busy run on one CPU
//! (a slice end with the queue's head taking over, a burst end with the wake-ups due then),
//! each doing in one place what the general rounds (`dispatch.rs`) would do.
//!
//! Those for a switch cost, for timers alone and for several CPUs are in `fast_multi.rs`;
//! the slice ends of every other policy than round robin in `fast_any.rs`;
//! round robin's burst ends inside its slice-end loop in `fast_burst.rs`; the loop's copy for
//! a switch cost is entered from `fast_switch.rs`; the loop's slice ends in a run that keeps
//! no trace in `fast/lean.rs`.
//!
//! Two kinds, each on only where it is exact:
//! - the slice-end shortcuts ([`Kernel::step_lone_slice_end`],
//!   [`Kernel::settle_lone_preemption`]) assume round robin ([`Policy::fast_paths_exact`]):
//!   one FIFO in which a slice end goes to the tail, a slice of the same length at every
//!   dispatch but after a block, no preemption by a more urgent process, no event of the
//!   policy's own, and nothing charged at a slice end (so they do not call
//!   [`Policy::charge`] there, nor keep `Cpu::since`). Under any other policy they are off.
//! - the burst-end and wake-up shortcuts ([`Kernel::step_burst_end`],
//!   [`Kernel::settle_wakes_on_one_cpu`]) hold for every policy, and the slice-end ones for
//!   the others (`fast_any.rs`) for every policy that does not preempt:
//!   they go through the policy for every decision (`enqueue`, `pick`, `slice`, `charge`),
//!   and step aside where the general rounds would do more: a policy event due by then, or,
//!   under a preemptive policy, a wake-up while the CPU is busy (the general rounds ask
//!   whether it preempts).
//!
//! The tests run every scenario, under every policy, with them on and off and compare the
//! reports byte for byte (`tests/scenarios.rs`, `tests/policies.rs`, `tests/properties.rs`).

mod lean;
mod lean_any;
use super::fast_burst::quick_start;
pub(super) use lean::{dispatched, preempted};
pub(super) use lean_any::{Left, lean_any};

use super::pcb::{Hot, NONE, Pcb};
use super::sched::Ready;
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State};

/// A hint to bring `value`'s cache line in; no effect on what the program computes.
#[inline(always)]
pub(super) fn prefetch<T>(value: &T) {
    prefetch_at((value as *const T).cast::<i8>());
}

/// A hint to bring the cache line at `at` in.
#[inline(always)]
pub(super) fn prefetch_at(at: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing into the program, whatever the
    // address (callers pass addresses within or just past a live value).
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(at);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// A hint to bring in the count of timers in process `p`'s entry of the process table, which
/// its block adds to when records are recycled (`set_timer`, `count_timer`). The address
/// only, not a reference: no bounds check (a prefetch never faults, and every index a policy
/// names is a slot of the table anyway). Under a policy whose picks land at random (lottery),
/// that read waited on memory at 10^5 processes: a third of the samples of the slice-end
/// loop (perf, `procsim run --format summary`, 2026-12-02). Round robin walks the table in
/// order, which the hardware prefetches by itself.
#[inline(always)]
pub(super) fn prefetch_timers(procs: &[Pcb], p: u32) {
    let entry = procs.as_ptr().wrapping_add(p as usize).cast::<i8>();
    prefetch_at(entry.wrapping_add(std::mem::offset_of!(Pcb, timers)));
}

/// The records of the processes that the policy names as likely to be taken some picks from
/// now ([`Policy::likely_later`]): the address only, as [`Kernel::prefetch_upcoming`] (every
/// index a policy holds is a slot of the table).
#[inline(always)]
pub(super) fn prefetch_later<P: Policy>(policy: &P, hot: &[Hot]) {
    for &p in policy.likely_later() {
        prefetch_at(hot.as_ptr().wrapping_add(p as usize).cast());
    }
}

/// How a dispatch on a single CPU left it (see [`Kernel::dispatch_on_lone_cpu`]).
pub(super) enum Dispatched {
    /// A context switch is under way.
    Switching,
    /// The process is running and must first run its instructions (its burst is over).
    Starting,
    /// The process is running on with its burst.
    Running { slice_end: u64, burst_end: u64 },
}

impl<P: Policy> Kernel<P> {
    /// The commonest event of a busy run, in one place: on a single CPU, the running process's
    /// slice ends before anything else is due (no burst end, timer, arrival or limit at or
    /// before that tick). Then the tick's only ready group is that process, and what the general
    /// rounds of [`Kernel::settle`] would do comes down to this: it keeps the CPU if the queue
    /// is empty, else it goes to the tail and the head is dispatched. With `batch`, goes on
    /// with the ticks that follow for as long as they are of the same kind; after a dispatched
    /// process ran instructions, what else is due is looked up again; a burst end that blocks
    /// on a timer is taken in the loop too (`fast_burst.rs`). Returns `None` when the next
    /// event is anything else. (The scenario and property tests
    /// hold both paths to the same reports.)
    #[inline(always)]
    pub(super) fn step_lone_slice_end(&mut self, batch: bool) -> Option<bool> {
        self.lone_slice_ends::<false>(batch)
    }

    /// [`Kernel::step_lone_slice_end`], and with `SWITCHING` its copy for a switch cost
    /// (`fast_switch.rs`, entered after a tick `step_lone_switching` settled): that copy also
    /// starts at a burst end or a timer that comes before the slice end, and goes on where
    /// the loop would stop for a tick `step_lone_switching` takes (`rr_lone_resume`). Two
    /// copies so that the loop without a switch cost stays as it is: the copy with the extra
    /// calls inlined in the kernel's step made round robin's run without a switch cost 2.9 %
    /// to 4.6 % more instructions (callgrind, RR-IO-v1 at N = 20,000, as LLVM's inlining
    /// went). The copy with `SWITCHING` is entered only from `step_lone_switching`, which
    /// knows round robin on one CPU without threads (what `rr_lone_resume` assumes).
    #[inline(always)]
    pub(super) fn lone_slice_ends<const SWITCHING: bool>(&mut self, batch: bool) -> Option<bool> {
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
        // What the general step alone changes (arrivals, outside signals, the tick limit):
        // constant through the loop, which never calls it, so asked once; the horizon
        // follows the timers.
        let limit = self.step_aside_at();
        let mut horizon = self.horizon_from(limit);
        if !SWITCHING && (t >= burst_end || t >= horizon) {
            return None;
        }
        // The slice ends of a run without a trace in a loop of their own (lean.rs).
        let lean = batch && self.lean_applies();
        'run: loop {
            // (Without a switch cost the slice end is known to come first here.)
            if SWITCHING && (t >= burst_end || t >= horizon) {
                let Some(next) = self.rr_lone_before_slice_end(p, t, burst_end, limit) else {
                    break;
                };
                (p, t, burst_end) = next;
                horizon = self.horizon_from(limit);
                continue;
            }
            let q;
            let mut dispatched;
            if lean && let Some((last, at, how)) = self.lean_run(p, t, burst_end, horizon) {
                // Slice ends one after the other in `lean.rs`'s loop, up to the last
                // dispatch; from here on as below.
                (q, t, dispatched) = (last, at, how);
            } else {
                self.now = t;
                self.prefetch_upcoming();
                let Some(head) = self.policy.pick(t, &mut self.rng) else {
                    // Alone: it keeps the CPU. Nothing can join the queue before the next
                    // arrival or timer, so the slice boundaries before then (or before its
                    // burst ends) pass without effect; go straight to the first one that
                    // might matter. Boundaries stay where they were, a whole number of slices
                    // apart, so what is left of a slice when the burst ends is the same as if
                    // each had been stepped through.
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
                // What `transition` would do, with what is known here folded in. (Round
                // robin charges nothing at a slice end, so `charge` is not called.)
                self.policy.enqueue(p, Ready::SliceEnd, 0, t);
                let hot = self.hot_unchecked(p);
                hot.burst_left = burst_end - t;
                hot.preemptions = hot.preemptions.saturating_add(1);
                debug_assert_eq!(hot.state, State::Running);
                hot.cpu += t - hot.since;
                hot.since = t;
                hot.state = State::Ready;
                self.record(t, p, State::Running, State::Ready, Cause::Preempt, Some(0));
                q = head;
                dispatched = self.dispatch_on_lone_cpu(q, t);
                if batch && self.error.is_none() && matches!(dispatched, Dispatched::Switching) {
                    // A switch cost: the switch ends here too if nothing else is due by then.
                    dispatched = self.end_lone_switch(horizon);
                    t = self.now;
                }
            }
            match dispatched {
                // A switch it could not end: the ticks before its end (fast_switch.rs).
                Dispatched::Switching if SWITCHING && self.error.is_none() => {
                    let Some(next) = self.rr_lone_resume(limit) else {
                        break;
                    };
                    (p, t, burst_end) = next;
                    horizon = self.horizon_from(limit);
                    continue;
                }
                Dispatched::Switching => break,
                Dispatched::Running {
                    slice_end,
                    burst_end: end,
                } => {
                    (p, t, burst_end) = (q, slice_end, end);
                }
                Dispatched::Starting => {
                    // It runs instructions first: in place if they only lead to its next
                    // `cpu` (fast_burst.rs), which makes nothing else due.
                    if let Some((slice_end, end)) = self.rr_quick_start(0, q, t) {
                        (p, t, burst_end) = (q, slice_end, end);
                    } else {
                        // Any other instruction may change what is due.
                        self.run_instant(0);
                        if self.error.is_some() {
                            break;
                        }
                        if self.more_to_settle() {
                            self.settle(t);
                            break;
                        }
                        horizon = self.horizon_from(limit);
                        let Some(next) = self.lone_running() else {
                            break;
                        };
                        (p, t, burst_end) = next;
                    }
                }
            }
            // (An error here is `kernel.max_trace`, which recording a transition can reach.)
            if !batch || self.error.is_some() {
                break;
            }
            // The burst ends first: its block, wake-ups and dispatch, in the loop
            // (fast_burst.rs), for as long as burst ends follow one another.
            if SWITCHING {
                // (The burst end, a timer before it, at the top.)
                continue;
            }
            while t >= burst_end {
                let Some(next) = self.rr_burst_end::<false>(p, burst_end, limit) else {
                    break 'run;
                };
                (p, t, burst_end) = next;
                horizon = self.horizon_from(limit);
            }
            if t >= horizon {
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
    pub(super) fn dispatch_on_lone_cpu(&mut self, q: u32, t: u64) -> Dispatched {
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
        self.run_on_lone_cpu(q, t)
    }

    /// The second half of [`Kernel::dispatch_on_lone_cpu`], and what ends a switch to `q` on
    /// a single CPU: `q` starts running at `t` (what [`Kernel::start_running`] and, for a
    /// process resuming its burst, [`Kernel::run_instant`] do).
    #[inline(always)]
    pub(super) fn run_on_lone_cpu(&mut self, q: u32, t: u64) -> Dispatched {
        let slice = self.policy.slice(q, t);
        // Round robin (the fast paths' policy) reads no `since`; the others are charged by it.
        if !self.fast_paths {
            self.cpus[0].since = t;
        }
        // SAFETY (of `hot_unchecked` here): `q` is what a policy's `pick` gave, any policy on
        // this path, and a policy gives back only indices the kernel enqueued, each a slot of
        // the table (debug builds assert it). A bounds check here cost round robin 1.05 % more
        // instructions on RR-IO-v1 (callgrind, N = 20,000: 262.7 M -> 265.5 M).
        let hot = self.hot_unchecked(q);
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
    pub(super) fn step_burst_end(&mut self) -> Option<bool> {
        let [cpu] = self.cpus.as_slice() else {
            return None;
        };
        if !self.fast_wakes || self.finished || self.error.is_some() {
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
        let limit = self.step_aside_at();
        if t > slice_end
            || t >= limit
            || self.timers.next_at().is_some_and(|at| at < t)
            || self.policy.next_event().is_some_and(|at| at <= t)
        {
            return None;
        }
        self.now = t;
        self.fire_timers(t);
        self.finish_burst(0, p);
        // The wake-up shortcut first, inline; the general rounds only if it leaves more.
        if self.error.is_none() && self.settle_wakes_on_one_cpu(t) != Some(false) {
            self.settle(t);
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The first tick at which something only the general step handles is due: an arrival,
    /// an outside signal (`events`), or the tick limit (and u64::MAX, where tick arithmetic
    /// saturates). Every shortcut steps aside for a tick at or past it.
    #[inline(always)]
    pub(super) fn step_aside_at(&self) -> u64 {
        self.next_arrival_at
            .min(self.max_ticks.saturating_add(1))
            .min(self.next_outside_at())
    }

    /// The first tick at which something other than a slice end might be due: what
    /// [`Kernel::step_aside_at`] names, or a timer.
    #[inline(always)]
    pub(super) fn horizon(&self) -> u64 {
        self.horizon_from(self.step_aside_at())
    }

    /// [`Kernel::horizon`] with [`Kernel::step_aside_at`] already known (`limit`): only
    /// the general step changes that, so a loop that never calls it asks once.
    #[inline(always)]
    pub(super) fn horizon_from(&self, limit: u64) -> u64 {
        match self.timers.next_at() {
            Some(at) => limit.min(at),
            None => limit,
        }
    }

    /// The single CPU's process, its slice end and its burst end, if it is running one (what
    /// the one-CPU loops go on with after a tick settled in place).
    #[inline(always)]
    pub(super) fn lone_running(&self) -> Option<(u32, u64, u64)> {
        match self.cpus[0].run {
            Run::Running {
                p,
                slice_end,
                burst_end,
            } => Some((p, slice_end, burst_end)),
            _ => None,
        }
    }

    /// The hot record of process `p`, without a bounds check (a load, a compare and a branch
    /// less in the slice-end loop and the lone CPU's dispatch). Only for an index the
    /// kernel made: a CPU's process, or what a policy picked from what the kernel enqueued.
    #[inline(always)]
    pub(super) fn hot_unchecked(&mut self, p: u32) -> &mut Hot {
        debug_assert!((p as usize) < self.hot.len());
        // SAFETY: every process index the kernel makes is a slot of this table, and the
        // table never shrinks: slots are made by pushing onto it and reused in place
        // (recycle.rs), never removed. The callers pass only such indices (see each); a
        // policy that gave back another would be a bug its own tests and the property tests
        // (every policy, debug builds) stop at the assertion above.
        unsafe { self.hot.get_unchecked_mut(p as usize) }
    }

    /// Asks the memory system for the record of a process a few dispatches ahead (or the
    /// next one, for a policy that cannot see farther). At a million processes a dispatch
    /// otherwise waits on a cache miss for the record of the process it takes, and that wait
    /// was the largest single cost of the loop.
    #[inline(always)]
    pub(super) fn prefetch_upcoming(&self) {
        self.prefetch_hinted(false);
    }

    /// [`Kernel::prefetch_upcoming`], and under a policy other than round robin, where a
    /// block reads it (records recycled: see [`prefetch_timers`]), the process table's entry
    /// of the likeliest process too (only one process in five blocks at a given dispatch of
    /// RR-IO-v1: the other hints' entries were not worth their instructions, 482.6 M against
    /// 472.1 M for lottery at N = 20,000, callgrind).
    #[inline(always)]
    pub(super) fn prefetch_upcoming_any(&self) {
        self.prefetch_hinted(self.recycler.on && !self.fast_paths);
    }

    /// The records of the processes the policy names as likely to be taken soon, and with
    /// `timers` the process table's entry of the likeliest.
    #[inline(always)]
    fn prefetch_hinted(&self, timers: bool) {
        const AHEAD: usize = 16;
        if let Some(p) = self.policy.likely(AHEAD) {
            // The address only, not a reference (no bounds check: a prefetch never faults,
            // and every index a policy holds is a slot of the table anyway).
            prefetch_at(self.hot.as_ptr().wrapping_add(p as usize).cast());
            if timers {
                prefetch_timers(&self.procs, p);
            }
        }
        // Those some picks on: none under round robin (this compiles to nothing in its loop),
        // and a boxed policy is asked only if it ever names any.
        if self.policy.hints_later() {
            prefetch_later(&self.policy, &self.hot);
        }
    }

    /// The commonest tick of all: one slice ran out and nothing else became ready. The general
    /// rounds would push the process, pop the head and find nothing more to do; this does the
    /// same in one go (the scenario and property tests hold both to the same reports).
    /// `None` when the tick is not of this kind; else whether more is left to settle (the
    /// caller, [`Kernel::settle`], goes on: no recursion).
    #[inline(always)]
    pub(super) fn settle_lone_preemption(&mut self, t: u64) -> Option<bool> {
        let lone = self.woken.is_empty() && self.admitted.is_empty() && self.preempted.len() == 1;
        if !(self.fast_paths && lone) {
            return None;
        }
        let p = self.preempted[0];
        // Its CPU must be the only free one (a free CPU never waits beside queued work).
        let mut free = self
            .cpus
            .iter()
            .enumerate()
            .filter(|(_, c)| c.run == Run::Idle);
        let (Some((c, _)), None) = (free.next(), free.next()) else {
            return None;
        };
        if self.cpus[c].last != p {
            return None;
        }
        self.preempted.clear();
        match self.policy.pick(t, &mut self.rng) {
            None => self.resume(c, p, t),
            Some(q) => {
                self.policy.enqueue(p, Ready::SliceEnd, 0, t);
                self.resolve_preemption(p);
                if self.take(c, q, t) {
                    self.run_instant(c);
                    return Some(self.error.is_none() && self.more_to_settle());
                }
            }
        }
        Some(false)
    }
}
