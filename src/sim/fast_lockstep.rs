//! Round robin's tick on several CPUs, lean (#13): the commonest tick of a busy run on several
//! CPUs, in which every CPU whose event falls due has its slice end, or its burst end on a
//! plain block (`io`, `sleep`), and the queue holds at least as many processes as there will
//! be free CPUs. [`Kernel::step_rr_tick`] (`fast_tick.rs`) asks it after firing the timers;
//! it settles such a tick in one pass and leaves any other to the general tick it does
//! itself; with `advance` (not `step`) it goes on with the ticks that follow, settling each
//! either way, until one is the general step's.
//!
//! Why a tick of its own: at such a tick every free CPU takes a process that was queued
//! before the tick began, so none of the processes whose slice ran out can be taken back by
//! its own CPU. The general tick cannot know that in advance: it marks each of them as
//! pending, gathers them in a list, looks at the mark at every pick and resolves it at every
//! take, and blocks through the interpreter and the general `block`. RR-IO-v1 without its I/O
//! on 4 CPUs took 389 M instructions against one CPU's 150 M (callgrind, N = 20,000, 10^6
//! dispatches); with its I/O, 455.3 M before this tick and 323.6 M with it (one CPU: 221.2 M).
//!
//! What it does, with the general tick's transitions in the general tick's order
//! (`end_cpu_events`, then `settle_rr_tick`):
//! 1. The blocks, lowest CPU first (what `finish_burst`, the interpreter's quick block and
//!    `block` do). A slice end records nothing there, so it waits for step 2.
//! 2. The free CPUs, lowest first, take the head; a CPU whose slice ended first records its
//!    process's preemption (`running → ready`), as `resolve_pending_on` does in `take`. Then
//!    the groups join in the scenario's `tick_order`: the woken, the slice ends in CPU order.
//!    The general tick joins the groups before the picks, but at the tail (`wake_to: tail`),
//!    behind the `free` processes or more that were queued: the same heads, the same queue.
//! 3. The processes taken whose burst was over run their quick instructions here, or anything
//!    else through the general `run_instant`, in CPU order; then the general rounds settle
//!    whatever that left (`settle`), as after the general tick's first round.
//!
//! It assumes what round robin's general tick on several CPUs assumes (`fast_tick.rs`) and,
//! checked before anything changes: no context switch cost (a take then always runs at
//! once), `wake_to: tail`, no charge at a block (not `slice_after_block: keep`), no switch
//! ending at the tick, the step budget not reached by the blocks, each blocking process bound
//! and not ending, and no error yet (a wake-up may have reached `kernel.max_trace`). If a
//! block reaches `kernel.max_trace`, it leaves the kernel as the general tick stops (the
//! slice ends before it marked pending), so the partial report is the same.
//!
//! The tests run every scenario forced to 2 and 4 CPUs with the fast paths on and off
//! (`tests/fast_multi.rs`), and workloads where this tick applies under each convention and
//! stopped by each limit at every point of their first ticks (`tests/fast_lockstep.rs`).

use super::fast_tick::MAX_CPUS;
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State};
use crate::scenario::{ReadyGroup, WakeTo};

impl<P: Policy> Kernel<P> {
    /// Settles tick `t` as described in the module's comment, with the timers due fired.
    /// `None`, having changed nothing, when the tick is not of this kind; else whether the
    /// run goes on.
    #[inline(always)]
    pub(super) fn lockstep_tick(&mut self, t: u64) -> Option<bool> {
        // (A timer's wake-up may have reached `kernel.max_trace`: the general tick then ends
        // the first CPU's event before it stops.)
        if self.error.is_some()
            || self.plan.kernel.context_switch != 0
            || self.plan.kernel.wake_to != WakeTo::Tail
            || self.needs.block_charges
            || self.needs.bursts
            || !self.admitted.is_empty()
            || !self.preempted.is_empty()
            || self.pending_preempts != 0
        {
            return None;
        }
        // What each CPU does at `t`: the free ones, the blocks and the slice ends (bits).
        // (The caller takes 2 to 64 CPUs; the CPUs are the bits of a `u64`.)
        let n = self.cpus.len();
        if n > MAX_CPUS {
            return None;
        }
        let (mut free, mut blocks, mut ends) = (0usize, 0u64, 0u64);
        for c in 0..n {
            match self.cpus[c].run {
                // (The rounds leave no CPU idle with a process queued, so an idle CPU means an
                // empty queue, which the count below turns down; and without a switch cost
                // and threads no CPU switches. Both are asked anyway: they cost nothing.)
                Run::Idle => free += 1,
                Run::Switching { until, .. } => {
                    if until == t {
                        return None;
                    }
                }
                Run::Running {
                    p,
                    slice_end,
                    burst_end,
                } => {
                    if burst_end == t {
                        self.plain_block_after(p)?;
                        blocks |= 1 << c;
                        free += 1;
                    } else if slice_end == t {
                        ends |= 1 << c;
                        free += 1;
                    }
                }
            }
        }
        if self.policy.len() < free
            || self.steps + u64::from(blocks.count_ones()) > self.plan.kernel.max_steps
        {
            return None;
        }
        // 1. The blocks, lowest CPU first. The slice ends change nothing yet.
        let mut b = blocks;
        while b != 0 {
            let c = b.trailing_zeros() as usize;
            b &= b - 1;
            if let Run::Running { p, .. } = self.cpus[c].run
                && let Some((cause, ticks)) = self.plain_block_after(p)
            {
                self.block_plain(c, p, t, cause, ticks);
            }
            if self.error.is_some() {
                // `kernel.max_trace`: stop as the general tick does, its slice ends before
                // this CPU expired (marked pending, their CPU free, in the preempt group).
                let mut e = ends & ((1 << c) - 1);
                while e != 0 {
                    let d = e.trailing_zeros() as usize;
                    e &= e - 1;
                    let p = self.end_slice_at(d, t);
                    self.expire_slice(d, p);
                }
                self.finished = true;
                return Some(false);
            }
        }
        // 2. The free CPUs, lowest first, take the head, each recording first the preemption
        // of the process whose slice ended on it; then the groups join (see the module's
        // comment for why after the picks).
        let mut expired = [0u32; MAX_CPUS];
        let (mut gone, mut started, mut starting) = (0usize, 0u64, 0u64);
        for c in 0..n {
            let ended = ends & (1 << c) != 0;
            if ended {
                expired[gone] = self.end_slice_at(c, t);
                gone += 1;
            } else if self.cpus[c].run != Run::Idle {
                continue;
            }
            let Some(q) = self.policy.pick(t, &mut self.rng) else {
                // The count above rules it out: a policy with `len()` above 0 picks.
                self.stop(format!(
                    "internal error at tick {t}: round robin's queue ran out in a tick it was counted for"
                ));
                self.finished = true;
                return Some(false);
            };
            if ended {
                self.preempted_on(c, t);
            }
            if !self.take_lean(c, q, t) {
                starting |= 1 << c;
            }
            started |= 1 << c;
        }
        for group in self.order {
            match group {
                ReadyGroup::Wake => {
                    // `enqueue_woken` for round robin at the tail, which reads no bursts:
                    // by the tick they blocked, then pid, each at the tail.
                    if self.woken.len() > 1 {
                        self.woken.sort_unstable();
                    }
                    for &(_, _, p) in &self.woken {
                        self.policy.enqueue(p, super::sched::Ready::Wake, 0, t);
                    }
                    self.woken.clear();
                }
                ReadyGroup::Admit => {}
                ReadyGroup::Preempt => {
                    for &p in &expired[..gone] {
                        self.policy.enqueue(p, super::sched::Ready::SliceEnd, 0, t);
                    }
                }
            }
        }
        // 3. The processes taken whose burst was over run their instructions, in CPU order,
        // as `run_instant` runs every process taken (one resuming its burst just goes on:
        // `take_lean` gave it its burst's end). The general tick stops at the first error
        // (a transition above may have reached `kernel.max_trace`) after running one
        // process: then each is looked at in turn, as there. (It then leaves the later
        // ones' burst end unset, which nothing reads once the run is over.)
        let mut s = if self.error.is_some() {
            started
        } else {
            starting
        };
        while s != 0 {
            let c = s.trailing_zeros() as usize;
            s &= s - 1;
            if starting & (1 << c) != 0 {
                let Run::Running { p, .. } = self.cpus[c].run else {
                    continue;
                };
                if self.rr_quick_start(c, p, t).is_none() {
                    self.run_instant(c);
                }
            }
            if self.error.is_some() {
                self.finished = true;
                return Some(false);
            }
        }
        // Every free CPU took a process: only one that ran instructions can have left more.
        if starting != 0 && self.more_to_settle() {
            self.settle(t);
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some(!self.finished)
    }

    /// The process whose slice ended on CPU `c` at `t` lost it: `running → ready`, as
    /// `resolve_preemption` and `transition` record it (no thread here).
    #[inline(always)]
    fn preempted_on(&mut self, c: usize, t: u64) {
        let p = self.cpus[c].last;
        // SAFETY (of `hot_unchecked`): `p` is the process CPU `c` ran last, a slot of the table.
        let hot = self.hot_unchecked(p);
        debug_assert_eq!(hot.state, State::Running);
        hot.preemptions = hot.preemptions.saturating_add(1);
        hot.cpu += t - hot.since;
        hot.since = t;
        hot.state = State::Ready;
        self.record(
            t,
            p,
            State::Running,
            State::Ready,
            Cause::Preempt,
            Some(c as u32),
        );
    }

    /// Free CPU `c` takes ready process `q` at `t`, no switch cost: what `turn_to` and
    /// `start_running` do (no thread here), each record touched once, and for a process
    /// resuming its burst what `run_instant` does (its burst's end). False when its burst
    /// was over (`run_instant` has its instructions to run), or its slice is (0 ticks:
    /// `run_instant` expires it).
    #[inline(always)]
    fn take_lean(&mut self, c: usize, q: u32, t: u64) -> bool {
        let slice = self.policy.slice(q, t);
        // SAFETY (of `hot_unchecked`): `q` is what the policy's `pick` gave, a slot of the
        // table (see `hot_unchecked`).
        let hot = self.hot_unchecked(q);
        debug_assert_eq!(hot.state, State::Ready);
        hot.dispatches = hot.dispatches.saturating_add(1);
        let first = hot.dispatches == 1;
        hot.waiting += t - hot.since;
        hot.since = t;
        hot.state = State::Running;
        let left = hot.burst_left;
        if first {
            self.procs[q as usize].first_run = t;
        }
        // (A slice of 0 ticks would be over at once: `run_instant` expires it. A quantum is
        // at least 1, but `slice_after_block: keep`, not taken here, could give less.)
        let slice_end = t.saturating_add(slice);
        let runs_on = left > 0 && slice_end > t;
        let cpu = &mut self.cpus[c];
        if cpu.last != q {
            cpu.last = q;
            self.context_switches += 1;
        }
        cpu.since = t;
        cpu.run = Run::Running {
            p: q,
            slice_end,
            burst_end: if runs_on {
                t.saturating_add(left)
            } else {
                super::pcb::NONE
            },
        };
        self.record(
            t,
            q,
            State::Ready,
            State::Running,
            Cause::Dispatch,
            Some(c as u32),
        );
        runs_on
    }

    /// Slice end on CPU `c` at `t`: what is left of the burst is kept, the CPU is free.
    /// Returns the process.
    #[inline(always)]
    fn end_slice_at(&mut self, c: usize, t: u64) -> u32 {
        let Run::Running { p, burst_end, .. } = self.cpus[c].run else {
            return self.cpus[c].last;
        };
        debug_assert_eq!(self.cpus[c].last, p);
        // SAFETY (of `hot_unchecked`): `p` is CPU `c`'s process, a slot of the table.
        self.hot_unchecked(p).burst_left = burst_end - t;
        self.cpus[c].run = Run::Idle;
        p
    }
}
