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
//!    process's preemption (`running → ready`), as `resolve_pending_on` does in `take`, and
//!    that process goes to the tail at once. The woken join the tail before the first pick
//!    or after the last, as the scenario's `tick_order` puts them before or after the slice
//!    ends. The general tick joins the groups before the picks, at the tail (`wake_to:
//!    tail`), behind the `free` processes or more that were queued, so no pick reaches them:
//!    the same heads, the same queue.
//! 3. The processes taken whose burst was over run their quick instructions here, or anything
//!    else through the general `run_instant`, in CPU order; then the general rounds settle
//!    whatever that left (`settle`), as after the general tick's first round.
//!
//! A run of such ticks reads each CPU once a tick: the pass of step 2 works out what each
//! CPU has due next ([`Due`]: the earliest tick and, as bits, whose burst or slice ends
//! then), which the next tick starts from instead of reading the CPU table twice (the
//! earliest tick, then what falls due at it); the general `run_instant` in step 3 leaves
//! the table to be read again. Without a trace a copy of the tick asks nothing of the
//! recorder. Callgrind, RR-IO-v1 at N = 20,000 on 4 CPUs, `--format summary`: 329.5 M
//! instructions before these (1.70x one CPU's 193.6 M), 285.2 M after (1.47x).
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

use super::fast::{dispatched, preempted};
use super::fast_tick::MAX_CPUS;
use super::pcb::{Hot, NO_PROC, NONE, Pcb};
use super::sched::Usage;
use super::{Cpu, Kernel, Policy, Run, SeededRng};
use crate::model::{Cause, State};
use crate::scenario::WakeTo;

/// What the CPUs have due next: the earliest tick of a CPU's event and, as bits, the CPUs
/// whose event falls then, by kind, with the idle CPUs. [`Kernel::due`] reads it off the
/// CPU table; the lean tick works it out as it goes (each CPU it dispatches, and each it
/// passes over), so that a run of such ticks reads each CPU once a tick rather than twice
/// (the earliest tick, then what falls due at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Due {
    /// The earliest tick of a CPU's event (`u64::MAX` if none).
    pub(super) at: u64,
    /// The CPUs whose burst ends at `at` (a burst that ends with its slice ends as a burst).
    pub(super) bursts: u64,
    /// The CPUs whose slice ends at `at`, their burst going on.
    pub(super) ends: u64,
    /// The CPUs whose switch ends at `at`.
    pub(super) switches: u64,
    /// The idle CPUs.
    pub(super) idle: u64,
}

impl Due {
    /// Nothing due, no CPU looked at yet.
    pub(super) const NONE: Due = Due {
        at: u64::MAX,
        bursts: 0,
        ends: 0,
        switches: 0,
        idle: 0,
    };

    /// Adds CPU `bit` (one bit set), in state `run`.
    #[inline(always)]
    pub(super) fn add(&mut self, bit: u64, run: &Run) {
        match *run {
            Run::Idle => self.idle |= bit,
            Run::Switching { until, .. } => {
                if self.earlier(until) {
                    self.switches |= bit;
                }
            }
            Run::Running {
                slice_end,
                burst_end,
                ..
            } => self.add_running(bit, slice_end, burst_end),
        }
    }

    /// Adds CPU `bit` (one bit set) running a process whose slice ends at `slice_end` and
    /// burst at `burst_end`.
    #[inline(always)]
    fn add_running(&mut self, bit: u64, slice_end: u64, burst_end: u64) {
        if burst_end <= slice_end {
            if self.earlier(burst_end) {
                self.bursts |= bit;
            }
        } else if self.earlier(slice_end) {
            self.ends |= bit;
        }
    }

    /// CPU `bit` (one bit set), added as running a process with its burst not known yet
    /// (its slice's end its event), has it now: its burst ends at `burst_end`, no later than
    /// it was taken to (so the event can only come sooner).
    #[inline(always)]
    fn started(&mut self, bit: u64, slice_end: u64, burst_end: u64) {
        self.ends &= !bit;
        self.add_running(bit, slice_end, burst_end);
    }

    /// Whether an event at `at` falls at the earliest tick, which it moves to `at` if it
    /// is earlier (the CPUs of the later tick forgotten).
    #[inline(always)]
    fn earlier(&mut self, at: u64) -> bool {
        if at < self.at {
            *self = Due {
                at,
                bursts: 0,
                ends: 0,
                switches: 0,
                idle: self.idle,
            };
        }
        at == self.at
    }
}

impl<P: Policy> Kernel<P> {
    /// What the CPUs have due next, read off the CPU table.
    #[inline(always)]
    pub(super) fn due(&self) -> Due {
        let mut due = Due::NONE;
        for (c, cpu) in self.cpus.iter().enumerate() {
            due.add(1 << c, &cpu.run);
        }
        due
    }

    /// Whether the lean tick may apply at all in this run, by what no run changes: no
    /// context switch cost (a take then always runs at once), `wake_to: tail`, no charge
    /// at a block (not `slice_after_block: keep`), a policy that reads no bursts.
    #[inline(always)]
    pub(super) fn lockstep_applies(&self) -> bool {
        self.plan.kernel.context_switch == 0
            && self.plan.kernel.wake_to == WakeTo::Tail
            && !self.needs.block_charges
            && !self.needs.bursts
    }

    /// Settles tick `t` as described in the module's comment, with the timers due fired;
    /// `due` is what the CPUs had due before it ([`Kernel::due`]), and the caller has
    /// checked [`Kernel::lockstep_applies`]; `wake_first` is whether the scenario's
    /// `tick_order` has the woken join before the slice ends; `TRACED`, whether a trace is
    /// kept (its two records a dispatch are asked nothing without one). `None`, having
    /// changed nothing, when the tick is not of this kind; else whether the run goes on,
    /// and what the CPUs have due next if the tick worked it out (`None` when the general
    /// rounds ran at its end).
    #[inline(always)]
    pub(super) fn lockstep_tick<const TRACED: bool>(
        &mut self,
        t: u64,
        due: &Due,
        wake_first: bool,
    ) -> Option<(bool, Option<Due>)> {
        // (A timer's wake-up may have reached `kernel.max_trace`: the general tick then ends
        // the first CPU's event before it stops.)
        if self.error.is_some()
            || !self.admitted.is_empty()
            || !self.preempted.is_empty()
            || self.pending_preempts != 0
        {
            return None;
        }
        // What each CPU does at `t`: the free ones, the blocks and the slice ends (bits).
        // (The caller takes 2 to 64 CPUs; the CPUs are the bits of a `u64`.) The rounds
        // leave no CPU idle with a process queued, so an idle CPU means an empty queue,
        // which the count below turns down; and without a switch cost and threads no CPU
        // switches. Both are asked anyway: they cost nothing.
        let n = self.cpus.len();
        let (blocks, ends) = if due.at == t {
            if due.switches != 0 {
                return None;
            }
            (due.bursts, due.ends)
        } else {
            // (A timer comes first: no CPU's event is due.)
            (0, 0)
        };
        let mut b = blocks;
        while b != 0 {
            let c = b.trailing_zeros() as usize;
            b &= b - 1;
            let Run::Running { p, .. } = self.cpus[c].run else {
                return None;
            };
            self.plain_block_after(p)?;
        }
        // Enough queued for every free CPU, and the step budget not reached by the blocks
        // (asked first of all the CPUs, which holds in a busy run, to spare counting bits).
        let max_steps = self.plan.kernel.max_steps;
        if self.policy.len() < n || self.steps.saturating_add(n as u64) > max_steps {
            let free = (due.idle | blocks | ends).count_ones() as usize;
            if self.policy.len() < free || self.steps + u64::from(blocks.count_ones()) > max_steps {
                return None;
            }
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
                return Some((false, None));
            }
        }
        // 2. The free CPUs, lowest first, take the head, each recording first the preemption
        // of the process whose slice ended on it, which goes to the tail; the woken join
        // before or after them, as the scenario's `tick_order` has it (see the module's
        // comment for why all this may be done as the picks go). The CPUs' next events are
        // worked out on the way.
        if wake_first {
            self.woken_to_tail(t);
        }
        // (Each CPU's turn, noted for the records a traced run makes after the pass.)
        let mut taken = [(NO_PROC, NO_PROC); MAX_CPUS];
        let parts = Pass {
            cpus: &mut self.cpus,
            hot: &mut self.hot,
            procs: &mut self.procs,
            policy: &mut self.policy,
            rng: &mut self.rng,
            context_switches: &mut self.context_switches,
        };
        let pass = take_free_cpus::<P, TRACED>(parts, ends, t, &mut taken);
        if TRACED {
            // The records the pass made no room for, in its order: CPU by CPU, the
            // preemption of the process whose slice ended there, then the take.
            let upto = match pass {
                Ok(_) => n,
                Err(c) => c + 1,
            };
            for (c, &(p, q)) in taken[..upto].iter().enumerate() {
                if p != NO_PROC {
                    let cpu = Some(c as u32);
                    self.record(t, p, State::Running, State::Ready, Cause::Preempt, cpu);
                }
                if q != NO_PROC {
                    let cpu = Some(c as u32);
                    self.record(t, q, State::Ready, State::Running, Cause::Dispatch, cpu);
                }
            }
        }
        let Ok((next, started, starting)) = pass else {
            // The count above rules it out: a policy with `len()` above 0 picks.
            self.stop(format!(
                "internal error at tick {t}: round robin's queue ran out in a tick it was counted for"
            ));
            self.finished = true;
            return Some((false, None));
        };
        if !wake_first {
            self.woken_to_tail(t);
        }
        // 3. The processes taken whose burst was over run their instructions, in CPU order,
        // as `run_instant` runs every process taken (one resuming its burst just goes on:
        // `take_free_cpus` gave it its burst's end). The general tick stops at the first error
        // (a transition above may have reached `kernel.max_trace`) after running one
        // process: then each is looked at in turn, as there. (It then leaves the later
        // ones' burst end unset, which nothing reads once the run is over.) Once the general
        // `run_instant` ran, the CPUs' next events are the table's to say.
        let mut next = Some(next);
        // (Without a trace no record was made, so no error.)
        let mut s = if TRACED && self.error.is_some() {
            started
        } else {
            starting
        };
        while s != 0 {
            let c = s.trailing_zeros() as usize;
            let bit = s & s.wrapping_neg();
            s &= s - 1;
            if starting & bit != 0 {
                let Run::Running { p, .. } = self.cpus[c].run else {
                    continue;
                };
                match self.rr_quick_start(c, p, t) {
                    Some((slice_end, burst_end)) => {
                        if let Some(next) = &mut next {
                            next.started(bit, slice_end, burst_end);
                        }
                    }
                    None => {
                        self.run_instant(c);
                        next = None;
                    }
                }
            }
            if self.error.is_some() {
                self.finished = true;
                return Some((false, None));
            }
        }
        // Every free CPU took a process, and the woken joined the queue: only one that ran
        // the general `run_instant` can have left more to settle.
        if next.is_none() && self.more_to_settle() {
            self.settle(t);
        }
        if self.error.is_some() {
            self.finished = true;
        }
        Some((!self.finished, next))
    }

    /// The processes woken this tick join the queue, as `enqueue_woken` has round robin
    /// take them at the tail (it reads no bursts): by the tick they blocked, then pid.
    #[inline(always)]
    fn woken_to_tail(&mut self, t: u64) {
        if self.woken.is_empty() {
            return;
        }
        // (In key order as their timers fired, but for one corner: a join's timeout overtaken
        // by the child's end that wakes its process blocked again in a timed join with the
        // same deadline, keyed by that later join; `tests/fast_lockstep.rs` has it. So one
        // comparison a wake-up, and the sort seldom.)
        if !self.woken.is_sorted() {
            self.woken.sort_unstable();
        }
        for &(_, _, p) in &self.woken {
            self.policy.enqueue(p, super::sched::Ready::Wake, 0, t);
        }
        self.woken.clear();
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

/// The parts of the kernel the lean tick's pass over the CPUs touches, each borrowed apart:
/// held so, they stay in registers across the stores to the records, which through `&mut
/// self` made the compiler load the CPU table, the records' table and the queue's fields
/// again at each CPU, and check the CPU's index twice.
struct Pass<'a, P> {
    cpus: &'a mut [Cpu],
    hot: &'a mut [Hot],
    procs: &'a mut [Pcb],
    policy: &'a mut P,
    rng: &'a mut SeededRng,
    context_switches: &'a mut u64,
}

/// Step 2 of the lean tick (see the module's comment), no switch cost: the CPUs, lowest
/// first, whose slice ended at `t` (the bits of `ends`) or that are free take the queue's
/// head. A slice end keeps what is left of its process's burst and counts a preemption
/// (`running → ready` as `resolve_preemption` and `transition` account it, `lean.rs`'s
/// `preempted`), the process joins the tail as the head is taken (round robin charges
/// nothing at a slice end); a take is what `turn_to` and `start_running` do, and for a
/// process resuming its burst what `run_instant` does (its burst's end), each record
/// touched once. With `TRACED`, `taken` notes by CPU the process preempted and the one
/// taken ([`NO_PROC`] for none), for the caller to record in that order.
///
/// Returns what the CPUs have due next, the CPUs that took a process, and those whose
/// process has instructions to run first (its burst over, or its slice: 0 ticks, which
/// `run_instant` expires); or the CPU that found the queue empty, which the caller's count
/// rules out.
#[inline(always)]
fn take_free_cpus<P: Policy, const TRACED: bool>(
    parts: Pass<'_, P>,
    ends: u64,
    t: u64,
    taken: &mut [(u32, u32); MAX_CPUS],
) -> Result<(Due, u64, u64), usize> {
    let Pass {
        cpus,
        hot,
        procs,
        policy,
        rng,
        context_switches,
    } = parts;
    let mut next = Due::NONE;
    let (mut started, mut starting) = (0u64, 0u64);
    for (c, cpu) in cpus.iter_mut().enumerate() {
        let bit = 1u64 << c;
        // The process whose slice ends here, with its burst's end; or a CPU with nothing at
        // `t`, passed over; or a free one.
        let q = match cpu.run {
            Run::Running { p, burst_end, .. } if ends & bit != 0 => {
                debug_assert_eq!(cpu.last, p);
                debug_assert!((p as usize) < hot.len());
                // SAFETY: `p` is the CPU's process, a slot of the table, which never shrinks
                // (see `Kernel::hot_unchecked`).
                let h = unsafe { hot.get_unchecked_mut(p as usize) };
                h.burst_left = burst_end - t;
                preempted(h, t);
                if TRACED {
                    taken[c].0 = p;
                }
                // Its join at the tail and the pick in one (the caller's count leaves a
                // process queued for the pick: the same head as the pick first, then the
                // join).
                let usage = Usage {
                    ran: 0,
                    slice_left: 0,
                };
                let q = policy.requeue_pick(p, usage, t, rng);
                // A switch: the CPU ran `p` last, and the head taken is another (the count
                // leaves one queued besides `p`).
                if let Some(q) = q {
                    debug_assert_ne!(q, p);
                    cpu.last = q;
                    *context_switches += 1;
                }
                q
            }
            Run::Idle => {
                let q = policy.pick(t, rng);
                if let Some(q) = q
                    && cpu.last != q
                {
                    cpu.last = q;
                    *context_switches += 1;
                }
                q
            }
            run => {
                next.add(bit, &run);
                continue;
            }
        };
        let Some(q) = q else {
            return Err(c);
        };
        if TRACED {
            taken[c].1 = q;
        }
        let slice = policy.slice(q, t);
        debug_assert!((q as usize) < hot.len());
        // SAFETY: `q` is what the policy's `pick` gave, a slot of the table (as above).
        let left = dispatched(unsafe { hot.get_unchecked_mut(q as usize) }, procs, q, t);
        // (A slice of 0 ticks would be over at once: `run_instant` expires it. A quantum is
        // at least 1, but `slice_after_block: keep`, not taken here, could give less.)
        let slice_end = t.saturating_add(slice);
        let runs_on = left > 0 && slice_end > t;
        let burst_end = if runs_on {
            t.saturating_add(left)
        } else {
            NONE
        };
        // (No `cpu.since`: round robin, the fast paths' policy, reads none, as
        // `run_on_lone_cpu` says.)
        cpu.run = Run::Running {
            p: q,
            slice_end,
            burst_end,
        };
        if !runs_on {
            starting |= bit;
        }
        next.add_running(bit, slice_end, burst_end);
        started |= bit;
    }
    Ok((next, started, starting))
}
