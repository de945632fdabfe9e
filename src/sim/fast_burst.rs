//! Round robin's burst ends on one CPU, inside its slice-end loop ([`Kernel::step_lone_slice_end`]).
//!
//! Under an I/O-bound workload (RR-IO-v1) one dispatch in five follows a burst end: the process
//! blocks on its next instruction (`io`, `sleep`), the process that blocked earlier wakes at the
//! same tick, and the queue's head takes the CPU. Each of those left the loop for the kernel's
//! step, which asked every shortcut in turn before [`Kernel::step_burst_end`] took it, ran the
//! interpreter for the one instruction that blocks, and went through the general `block`
//! (callgrind, RR-IO-v1 at N = 20,000: about 680 instructions a burst end, half of the run's).
//! Here the loop goes on through the burst end: [`Kernel::rr_burst_end`] does what
//! `step_burst_end` does, with the block inlined, and hands the loop the process that runs
//! next; [`Kernel::rr_quick_start`] runs the instructions a process dispatched with its burst
//! over starts with (the end of a `repeat`, the next `cpu`) without the loop's look at what
//! else became due, which such instructions cannot change.
//!
//! Both are exact only where the slice-end loop is (round robin, [`Policy::fast_paths_exact`])
//! and assume, beyond what they check, what the loop assumes: no policy event, nothing charged
//! at a slice end. The quick instructions themselves are [`quick_start`], which every lean
//! loop shares (it takes no decision, so it holds under any policy). The tests that run every
//! scenario with the fast paths on and off hold them to the general rounds' reports byte for
//! byte.

use super::exec::{Quick, end_loop_of, enter_outermost_loop};
use super::fast::Dispatched;
use super::pcb::{Hot, Pcb};
use super::sched::Ready;
use super::timers::{Timer, TimerKind};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State};

impl<P: Policy> Kernel<P> {
    /// On the single CPU, under round robin, process `p`'s burst ends at `b` (at its slice end
    /// or before) and its next instruction blocks it on a timer (`io`, `sleep` of a literal
    /// number of ticks above 0). What [`Kernel::step_burst_end`] would do, in the same order:
    /// the timers due at `b` fire (their processes wake), `p` blocks (what `finish_burst`,
    /// the interpreter's quick path and [`Kernel::block`] do, in one place), and the tick is
    /// settled by the same shortcut and general rounds `step_burst_end` calls.
    ///
    /// It applies when `step_burst_end` would, and the block is the plain one: no arrival,
    /// outside signal or tick limit at or before `b`, no timer before it; no thread (a block
    /// then may hand on the GIL), no decision log, a round robin that charges nothing at a
    /// block (not `slice_after_block: keep`), nothing pending from a slice end, the step
    /// budget not reached (the general interpreter stops the run there). Returns `None`,
    /// having changed nothing, when it does not apply. Otherwise the process running after
    /// the tick, its slice end and burst end, for the loop to go on with; `None` when the
    /// tick leaves the CPU otherwise (idle, switching) or the run stopped: then the loop
    /// ends, and the kernel's step takes what comes next.
    ///
    /// With `SWITCHING` (its copy in the loop for a switch cost) a burst end that wakes
    /// nothing takes the queue's head in place too (under a switch cost the `io`s end between
    /// the slice ends, not at the burst ends).
    #[inline(always)]
    pub(super) fn rr_burst_end<const SWITCHING: bool>(
        &mut self,
        p: u32,
        b: u64,
        limit: u64,
    ) -> Option<(u32, u64, u64)> {
        debug_assert_eq!(limit, self.step_aside_at());
        if b >= limit || self.timers.next_at().is_some_and(|at| at < b) {
            return None;
        }
        if self.threads_on
            || self.log.is_some()
            || self.needs.block_charges
            || self.pending_preempts != 0
            || self.steps >= self.plan.kernel.max_steps
        {
            return None;
        }
        debug_assert!(
            matches!(self.cpus[0].run, Run::Running { p: q, burst_end, .. } if q == p && burst_end == b)
        );
        let (cause, ticks) = self.plain_block_after(p)?;
        self.now = b;
        self.prefetch_upcoming();
        // The wake-ups first, as the general step fires them before the CPU's events.
        // (Under a switch cost the `io`s end between the slice ends, seldom at a burst end:
        // there the look for a lone wake-up cost more than it saved, 1.1 % of RR-IO-v1's
        // instructions with `context_switch: 1`, callgrind at N = 20,000.)
        let lone = if SWITCHING {
            self.fire_timers(b);
            None
        } else {
            self.fire_lone_timer(b)
        };
        self.block_plain(0, p, b, cause, ticks);
        // The rest is `step_burst_end`'s own: `settle_wakes_on_one_cpu`, then the general
        // rounds if it leaves more. Its commonest case, one process woken and nothing else
        // ready, in place: with the CPU free (the block freed it) and round robin, which does
        // not preempt, it enqueues the one woken (`enqueue_woken`) and the CPU takes the head
        // (`dispatch_lone_then_ask`); a process that runs on with its burst leaves nothing to
        // settle (nothing joined, the CPU is busy).
        if let Some(key) = lone
            && self.error.is_some()
        {
            // (Stopped at the block's record: listed, as `wake` would have left it.)
            self.woken.push(key);
        }
        if self.error.is_none() {
            if let Some((_, _, w)) = lone {
                // (The same, woken by `fire_lone_timer` without the list.)
                let burst = self.burst_for(w);
                self.policy.enqueue(w, Ready::Wake, burst, b);
                if let Some(next) = self.rr_take_head::<SWITCHING>(b, limit) {
                    return Some(next);
                }
            } else if let [(_, _, w)] = self.woken[..]
                && self.admitted.is_empty()
                && self.preempted.is_empty()
                && self.pending_preempts == 0
            {
                self.woken.clear();
                let burst = self.burst_for(w);
                self.policy.enqueue(w, Ready::Wake, burst, b);
                if let Some(next) = self.rr_take_head::<SWITCHING>(b, limit) {
                    return Some(next);
                }
            } else if SWITCHING
                && self.woken.is_empty()
                && self.admitted.is_empty()
                && self.preempted.is_empty()
                && self.pending_preempts == 0
            {
                // Nothing woken: what `settle`'s `settle_free_lone_cpu` does (the CPU is
                // free, nothing joins the queue), the same as above without the enqueue.
                if let Some(next) = self.rr_take_head::<SWITCHING>(b, limit) {
                    return Some(next);
                }
            } else if self.settle_wakes_on_one_cpu(b) != Some(false) {
                self.settle(b);
            }
        }
        if self.error.is_some() {
            return None;
        }
        self.lone_running()
    }

    /// What [`Kernel::fire_timers`] does at burst end `b`, and when it wakes one process
    /// only, with nothing else having joined the ready queue this round (no wake-up,
    /// admission or slice end listed), that process, woken but not listed in `woken`: the
    /// caller enqueues it, where `enqueue_woken` would have taken it from the list of one
    /// (its key in that list, which the caller lists if the run stops before then).
    /// The wake-up is what [`Kernel::wake`] does for a timer (`transition` from blocked,
    /// which accounts no time, then the list), with the list left out. `None` otherwise,
    /// every timer due at `b` fired as `fire_timers` fires them (and on a `max_trace` stop
    /// at the wake-up's record, the process is listed as `wake` lists it). Saves the list's
    /// push, look and clear at each of RR-IO-v1's burst ends.
    #[inline(always)]
    pub(super) fn fire_lone_timer(&mut self, b: u64) -> Option<(u64, u32, u32)> {
        if !(self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty()) {
            self.fire_timers(b);
            return None;
        }
        // (None due at `b`: nothing to fire.)
        if let Some(timer) = self.timers.pop_due(b) {
            let w = timer.p;
            // Only one due (none is due before `b`: `pop_due`), not a join's timeout, and its
            // process blocked (else it was killed: `fire_timers`).
            let one = self.timers.next_at() != Some(b)
                && timer.kind != TimerKind::JoinTimeout
                && self.hot[w as usize].state == State::Blocked;
            if !one {
                // `fire_timers`'s own, for this timer, then the rest.
                self.fire(timer);
                self.fire_timers(b);
                return None;
            }
            return self.wake_popped(timer, b);
        }
        None
    }

    /// `timer`, taken from the queue, is the lone wake-up of tick `b`, not a join's timeout
    /// (`join_timed_out` takes those), and its process is blocked on it (not killed since,
    /// not waiting on anything else): the timer is counted off its process's entry, the
    /// process is ready from `b`, and the wake-up is recorded. Returns what orders the
    /// process among the woken, for the caller to enqueue it; `None` if recording reached
    /// `kernel.max_trace` (the process is then listed among the woken, as `wake` would have
    /// left it).
    #[inline(always)]
    pub(super) fn wake_popped(&mut self, timer: Timer, b: u64) -> Option<(u64, u32, u32)> {
        let w = timer.p;
        debug_assert!(
            timer.kind != TimerKind::JoinTimeout && self.hot[w as usize].state == State::Blocked
        );
        debug_assert_eq!(
            self.procs[w as usize].wait_on(),
            super::pcb::WaitOn::Nothing
        );
        self.count_timer(w, false);
        let hot = &mut self.hot[w as usize];
        let key = (hot.since, hot.pid, w);
        hot.since = b;
        hot.state = State::Ready;
        self.record(b, w, State::Blocked, State::Ready, timer.cause(), None);
        if self.error.is_some() {
            self.woken.push(key);
            return None;
        }
        Some(key)
    }

    /// The instruction after the burst of running process `p` when it is a plain block: an
    /// `io` or `sleep` of a literal number of ticks above 0, of a process under way (bound,
    /// not ending). `None` for anything else, which the interpreter takes.
    #[inline(always)]
    pub(super) fn plain_block_after(&mut self, p: u32) -> Option<(Cause, u64)> {
        debug_assert!((p as usize) < self.hot.len());
        // SAFETY: `p` is a CPU's process, a slot of the table, which never shrinks (see
        // `Kernel::hot_unchecked`, which borrows the whole kernel).
        let hot = unsafe { self.hot.get_unchecked(p as usize) };
        plain_block_of(hot, &self.decoded)
    }

    /// Process `p`'s burst on CPU `c` ends at `t` on the plain block `cause` of `ticks`
    /// ([`Kernel::plain_block_after`]): `finish_burst`, then the interpreter's
    /// `Quick::Block`, then [`Kernel::block`], with what is known here folded in (the CPU
    /// runs `p`, nothing is charged, no thread). The caller has checked the step budget.
    #[inline(always)]
    pub(super) fn block_plain(&mut self, c: usize, p: u32, t: u64, cause: Cause, ticks: u64) {
        self.steps += 1;
        // SAFETY (of `hot_unchecked`): `p` is CPU `c`'s process, a slot of the table (see
        // `hot_unchecked`).
        self.cpus[c].run = Run::Idle;
        let timer = block_on_timer(self.hot_unchecked(p), p, t, cause, ticks);
        self.set_timer(timer);
        self.record(t, p, State::Running, State::Blocked, cause, Some(c as u32));
    }

    /// The free CPU takes the queue's head at burst end `b` (if any), as
    /// `dispatch_lone_then_ask` does, then the general rounds if that left more to settle.
    /// With `SWITCHING` (a switch cost), a switch to the head ends at once if nothing else is
    /// due by its end (`limit` being [`Kernel::step_aside_at`]), as the slice-end loop ends
    /// one ([`Kernel::end_lone_switch`]), instead of at the loop's next look
    /// (`rr_lone_resume`, which would settle that tick the same way: callgrind, RR-IO-v1 with
    /// `context_switch: 1` at N = 20,000, 274.7 M instructions before, 267.9 M after).
    /// The process running on with its burst, for the loop; `None` when the CPU is left
    /// otherwise or the run stopped (`kernel.max_trace` reached by the dispatch's record,
    /// where `step_burst_end` stops it too).
    #[inline(always)]
    fn rr_take_head<const SWITCHING: bool>(
        &mut self,
        b: u64,
        limit: u64,
    ) -> Option<(u32, u64, u64)> {
        if let Some(q) = self.policy.pick(b, &mut self.rng) {
            let mut dispatched = self.dispatch_on_lone_cpu(q, b);
            if SWITCHING && matches!(dispatched, Dispatched::Switching) && self.error.is_none() {
                dispatched = self.end_lone_switch(self.horizon_from(limit));
            }
            match dispatched {
                Dispatched::Running {
                    slice_end,
                    burst_end,
                } if self.error.is_none() => return Some((q, slice_end, burst_end)),
                Dispatched::Running { .. } | Dispatched::Switching => {}
                Dispatched::Starting => self.run_instant(0),
            }
        }
        if self.error.is_none() && self.more_to_settle() {
            // (At `b`, or at the end of the switch the CPU took the head with.)
            self.settle(if SWITCHING { self.now } else { b });
        }
        None
    }

    /// The instructions process `q`, just dispatched on CPU `c` at `t` with its burst over, runs
    /// first, when they are only the interpreter's quick ones that take no decision (the end
    /// of a `repeat`, a `cpu` or block of 0 ticks) up to a `cpu` of more than 0 ticks: what
    /// [`Kernel::run_instant`] and [`Kernel::exec`] would do with them. Returns the slice's
    /// and the burst's end. `None` at any other instruction, at the step budget, for a
    /// process not under way or a slice already over; the instructions run until then stay
    /// run, and `run_instant` goes on from the one reached, as `exec` would have (it reads
    /// nothing but the program counter and the loop state). None of these instructions can
    /// make anything else due, which is why the slice-end loop need not look again at the
    /// queues or the horizon after them.
    #[inline(always)]
    pub(super) fn rr_quick_start(&mut self, c: usize, q: u32, t: u64) -> Option<(u64, u64)> {
        let Run::Running { slice_end, .. } = self.cpus[c].run else {
            return None;
        };
        debug_assert!((q as usize) < self.hot.len());
        // SAFETY: `q` is the process just dispatched on CPU `c`, a slot of the table, which
        // never shrinks (see `Kernel::hot_unchecked`, which borrows the whole kernel).
        let h = unsafe { self.hot.get_unchecked_mut(q as usize) };
        let max_steps = self.plan.kernel.max_steps;
        let code = &self.decoded;
        let burst_end = quick_start(
            h,
            &mut self.procs,
            code,
            &mut self.steps,
            max_steps,
            q,
            t,
            slice_end,
        )?;
        self.cpus[c].run = Run::Running {
            p: q,
            slice_end,
            burst_end,
        };
        Some((slice_end, burst_end))
    }
}

/// The plain block after the burst of the process of record `hot`: an `io` or `sleep` of a
/// literal number of ticks above 0, the process under way (bound, not ending); `None` for
/// anything else, which the interpreter takes. (For [`Kernel::plain_block_after`] and the
/// lean loop of the other policies, `fast/lean_any.rs`.)
#[inline(always)]
pub(super) fn plain_block_of(hot: &Hot, code: &[Box<[Quick]>]) -> Option<(Cause, u64)> {
    if hot.ending || !hot.bound {
        return None;
    }
    let (program, next) = (hot.program as usize, hot.pc as usize + 1);
    match code[program].get(next) {
        Some(&Quick::Block(cause, ticks)) if ticks > 0 => Some((cause, ticks)),
        _ => None,
    }
}

/// What a plain block ([`plain_block_of`]) of `ticks` does to the record `hot` of running
/// process `p` at `t` (`finish_burst`, the interpreter's `Quick::Block` and `block`'s
/// `transition`, which accounts the time running as `Hot::account` does): its burst over,
/// past the burst and the block, blocked from `t`. Returns the timer that wakes it, for the
/// caller to set.
#[inline(always)]
pub(super) fn block_on_timer(hot: &mut Hot, p: u32, t: u64, cause: Cause, ticks: u64) -> Timer {
    debug_assert_eq!(hot.state, State::Running);
    hot.burst_left = 0;
    hot.pc += 2;
    hot.cpu += t - hot.since;
    hot.since = t;
    hot.state = State::Blocked;
    Timer {
        at: t.saturating_add(ticks),
        since: t,
        pid: hot.pid,
        p,
        kind: if cause == Cause::Sleep {
            TimerKind::Sleep
        } else {
            TimerKind::Io
        },
    }
}

/// The instructions process `q` (record `h`), dispatched at `t` with its burst over and its
/// slice ending at `slice_end`, runs first, when they are only the interpreter's quick ones
/// that take no decision (the end of a `repeat`, a `cpu` or block of 0 ticks) up to a `cpu` of
/// more than 0 ticks: what `run_instant` and `exec` would do with them. Returns the burst's
/// end. `None` at any other instruction, at the step budget, for a process not under way or a
/// slice already over; the instructions run until then stay run, and `run_instant` goes on
/// from the one reached, as `exec` would have (it reads nothing but the program counter and
/// the loop state). For [`Kernel::rr_quick_start`] and the lean loops, which hold the tables
/// apart: round robin's (`fast/lean.rs`) and that of the other policies that do not preempt
/// (`fast/lean_any.rs`). It takes no decision, so it holds under any policy.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn quick_start(
    h: &mut Hot,
    procs: &mut [Pcb],
    code: &[Box<[Quick]>],
    steps: &mut u64,
    max_steps: u64,
    q: u32,
    t: u64,
    slice_end: u64,
) -> Option<u64> {
    if slice_end <= t || h.ending || !h.bound {
        return None;
    }
    let code = &code[h.program as usize];
    loop {
        if *steps >= max_steps {
            return None;
        }
        match code.get(h.pc as usize) {
            Some(&Quick::Cpu(n)) if n > 0 => {
                *steps += 1;
                h.burst_left = n;
                return Some(t.saturating_add(n));
            }
            Some(&Quick::EndLoop { start, outermost }) => {
                *steps += 1;
                end_loop_of(h, &mut procs[q as usize], start, outermost);
            }
            Some(&Quick::EnterLoop { times, end }) => {
                *steps += 1;
                enter_outermost_loop(h, times, end);
            }
            Some(Quick::Cpu(0) | Quick::Block(_, 0)) => {
                *steps += 1;
                h.pc += 1;
            }
            _ => return None,
        }
    }
}
