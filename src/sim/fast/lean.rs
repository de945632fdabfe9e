//! Round robin's slice ends on one CPU, in a loop of their own, for the runs that keep no
//! trace (`--format summary`, the benches, `Sim` without a trace).
//!
//! The kernel's slice-end loop ([`Kernel::step_lone_slice_end`]) works on `&mut self`: at
//! each slice end it asks again what cannot change in such a run (whether a trace is kept,
//! whether recording stopped the run, the switch cost, the CPU table's length), loads the
//! queue's fields again after each store to a record, writes the clock and the CPU's state,
//! and it leaves for the kernel's step (`rr_quick_start`, then the loop's look at what is
//! due) at each dispatch of a process whose burst is over. [`lean_slice_ends`] takes the
//! parts it touches apart, asks those once ([`Kernel::lean_applies`]), keeps the clock and
//! the CPU's state until it stops, and starts a process with its burst over in place when
//! only the interpreter's quick instructions lead to its next `cpu` (what `rr_quick_start`,
//! fast_burst.rs, does). Callgrind, RR-IO-v1 at N = 20,000 (10^6 dispatches), `--format
//! summary`: about 86 instructions a slice end where the kernel's loop took about 115, and
//! 224.2 M instructions in all before, 194.9 M with it. Since then (2026-12-03) a turn keeps
//! only the dispatch tick for its return (not the whole tuple), counts its context
//! switches in a register, and turns the queue once ([`Policy::pick_then_requeue`]):
//! 177.6 M instructions in all before, 164.8 M after, some 16 fewer a slice end.
//!
//! It assumes what the slice-end loop assumes (round robin: a slice end goes to the tail,
//! nothing charged then, nothing preempts, the fast paths on), and beyond it: no trace kept
//! (`record` does nothing then, and cannot stop the run at `kernel.max_trace`), no threads,
//! no decision log. A switch cost it takes as the kernel's loop does: a switch that ends
//! before the horizon ends at once (`end_lone_switch`: the tick counted against
//! `kernel.max_events`, its ticks added), any other is left to the caller, which would find
//! the same. `tests/fast_lean.rs` runs every
//! scenario and generated round-robin workloads without a trace, with the fast paths on and
//! off, and compares the reports.

use super::super::exec::Quick;
use super::super::pcb::{Hot, NONE, Pcb};
use super::super::record::Recorder;
use super::super::{Cpu, Kernel, Policy, Run, SeededRng};
use super::{Dispatched, quick_start};
use crate::model::State;

impl<P: Policy> Kernel<P> {
    /// Whether [`lean_slice_ends`] may stand for the slice-end loop's own iterations in this
    /// run: no trace kept, no threads, no decision log (none of which a run changes).
    #[inline(always)]
    pub(in crate::sim) fn lean_applies(&self) -> bool {
        matches!(self.trace, Recorder::Off) && !self.threads_on && self.log.is_none()
    }

    /// The slice-end loop's iterations from process `p` running with its slice ending at
    /// `t`, before its burst ends at `burst_end` and before `horizon`, through
    /// [`lean_slice_ends`]. `None` if the queue is empty at `t` (nothing done); else the
    /// process last dispatched, the tick it was, and how (as the loop's
    /// `dispatch_on_lone_cpu` and `rr_quick_start` would say), with the CPU and the clock as
    /// the loop would leave them.
    #[inline(always)]
    pub(in crate::sim) fn lean_run(
        &mut self,
        p: u32,
        t: u64,
        burst_end: u64,
        horizon: u64,
    ) -> Option<(u32, u64, Dispatched)> {
        debug_assert!(self.lean_applies() && self.fast_paths && self.pending_preempts == 0);
        debug_assert!(t < burst_end && t < horizon);
        let [cpu] = self.cpus.as_mut_slice() else {
            return None;
        };
        let k = &self.plan.kernel;
        let limits = Limits {
            max_steps: k.max_steps,
            max_events: k.max_events,
            switch: k.context_switch,
        };
        let parts = Parts {
            hot: &mut self.hot,
            procs: &mut self.procs,
            policy: &mut self.policy,
            rng: &mut self.rng,
            cpu,
            context_switches: &mut self.context_switches,
            steps: &mut self.steps,
            events: &mut self.events,
            switch_ticks: &mut self.switch_ticks,
            code: &self.decoded,
        };
        // Two copies: the one without a switch cost has no use for its checks (one copy for
        // both cost RR-IO-v1 without a switch cost 3.1 % more instructions: callgrind at
        // N = 20,000, 201.0 M against 194.9 M).
        let done = if limits.switch == 0 {
            lean_slice_ends::<P, false>(parts, limits, (p, t, burst_end), horizon)
        } else {
            lean_slice_ends::<P, true>(parts, limits, (p, t, burst_end), horizon)
        }?;
        self.now = done.1;
        Some(done)
    }
}

/// The parts of the kernel the lean loop touches, each borrowed apart.
struct Parts<'a, P> {
    hot: &'a mut [Hot],
    procs: &'a mut [Pcb],
    policy: &'a mut P,
    rng: &'a mut SeededRng,
    cpu: &'a mut Cpu,
    context_switches: &'a mut u64,
    steps: &'a mut u64,
    events: &'a mut u64,
    switch_ticks: &'a mut u64,
    code: &'a [Box<[Quick]>],
}

/// The plan's figures the lean loop reads.
struct Limits {
    max_steps: u64,
    max_events: u64,
    /// `kernel.context_switch`.
    switch: u64,
}

/// What the slice-end loop does at each slice end that comes first (no burst end, timer,
/// arrival or limit by then: `t < burst_end`, `t < horizon`): the running process goes to
/// the tail, accounted as `transition` would (`Hot::account` from running, a preemption),
/// and the head is dispatched as `run_on_lone_cpu` does (a context switch counted, its
/// waiting accounted, its first run noted); taken with its burst over, it runs the quick
/// instructions up to its next `cpu` ([`quick_start`]). Goes on while the next slice end
/// comes first again; stops after a dispatch whose next event is not its slice end or that
/// needs more than the quick instructions (`Dispatched::Starting`: the caller's
/// `rr_quick_start` stops where this one did, and `run_instant` goes on from there), and
/// before a slice end with the queue empty. Nothing here reads the clock or writes the trace
/// (none is kept: [`Kernel::lean_applies`]). Returns `None` when the queue was empty at the
/// first slice end (nothing done); else the last process dispatched, the tick, and how it
/// runs, with the CPU left running it.
#[inline(never)]
fn lean_slice_ends<P: Policy, const SWITCH: bool>(
    parts: Parts<'_, P>,
    limits: Limits,
    (mut p, mut t, mut burst_end): (u32, u64, u64),
    horizon: u64,
) -> Option<(u32, u64, Dispatched)> {
    const AHEAD: usize = 16;
    let Parts {
        hot,
        procs,
        policy,
        rng,
        cpu,
        context_switches,
        steps,
        events,
        switch_ticks,
        code,
    } = parts;
    // The tick the process on the CPU was dispatched here, once the loop has dispatched
    // one (`NONE` before): with `p`, its slice end `t` and `burst_end` it is what the
    // loop returns when the queue is found empty, one register a turn rather than that
    // whole tuple (see the module's comment).
    let mut last_at = NONE;
    // Context switches made here, added to the kernel's count when the loop ends (and the
    // CPU's last process set then): at each turn the process the CPU ran last is `p`, and
    // `q` came from the queue, where `p` is not, so every dispatch here switches.
    let mut switches: u64 = 0;
    debug_assert_eq!(cpu.last, p);
    // Under a switch cost, the switches ended here: each a tick counted against
    // `kernel.max_events` (`count_tick` on one CPU) and `switch` ticks switching, added to the
    // totals when the loop ends (`add_switches`). Plain sums: the switches are no more than
    // `switches_left`, so the count stays within the limit; a switch that ends here ends
    // before the horizon, so its end did not saturate, and on one CPU the ticks switching
    // never pass the clock.
    let mut switched: u64 = 0;
    let switches_left = limits.max_events.saturating_sub(*events);
    let done = loop {
        if let Some(ahead) = policy.likely(AHEAD) {
            // (A hint: the address only, which never faults, as `prefetch_upcoming`.)
            super::prefetch_at(hot.as_ptr().wrapping_add(ahead as usize).cast());
        }
        // The head, and `p` to the tail (round robin charges nothing at a slice end).
        let Some(q) = policy.pick_then_requeue(p, t, rng) else {
            break None;
        };
        debug_assert!((p as usize) < hot.len() && (q as usize) < hot.len() && q != p);
        // SAFETY: `p` is the CPU's process and `q` what the policy picked of what the kernel
        // enqueued: slots of the table, which never shrinks (see `Kernel::hot_unchecked`).
        let h = unsafe { hot.get_unchecked_mut(p as usize) };
        h.burst_left = burst_end - t;
        preempted(h, t);
        // `q` starts, or switches in (`dispatch_on_lone_cpu`); a switch ends before the
        // horizon, as `end_lone_switch` ends it (the tick counted and its ticks added, at the
        // loop's end), or the loop leaves it to the caller, which would find it could not end
        // it either.
        switches += 1;
        if SWITCH {
            let until = t.saturating_add(limits.switch);
            if until >= horizon || switched >= switches_left {
                break Some((
                    q,
                    t,
                    Run::Switching {
                        p: q,
                        from: t,
                        until,
                    },
                    Dispatched::Switching,
                ));
            }
            switched += 1;
            t = until;
        }
        let slice = policy.slice(q, t);
        // SAFETY: as above.
        let h = unsafe { hot.get_unchecked_mut(q as usize) };
        let burst = dispatched(h, procs, q, t);
        let slice_end = t.saturating_add(slice);
        let end = if burst > 0 {
            t.saturating_add(burst)
        } else if let Some(end) =
            quick_start(h, procs, code, steps, limits.max_steps, q, t, slice_end)
        {
            end
        } else {
            break Some((
                q,
                t,
                Run::Running {
                    p: q,
                    slice_end,
                    burst_end: NONE,
                },
                Dispatched::Starting,
            ));
        };
        if slice_end >= end || slice_end >= horizon {
            break Some((
                q,
                t,
                Run::Running {
                    p: q,
                    slice_end,
                    burst_end: end,
                },
                Dispatched::Running {
                    slice_end,
                    burst_end: end,
                },
            ));
        }
        last_at = t;
        (p, t, burst_end) = (q, slice_end, end);
    };
    add_switches(events, switch_ticks, switched, limits.switch);
    *context_switches += switches;
    match done {
        Some((q, at, run, how)) => {
            cpu.last = q;
            cpu.run = run;
            Some((q, at, how))
        }
        // The queue is empty at `t`: the CPU runs on with the last one dispatched (if any).
        None if last_at != NONE => {
            cpu.last = p;
            let run = Run::Running {
                p,
                slice_end: t,
                burst_end,
            };
            cpu.run = run;
            Some((
                p,
                last_at,
                Dispatched::Running {
                    slice_end: t,
                    burst_end,
                },
            ))
        }
        None => None,
    }
}

/// Adds `switched` switches of `switch` ticks each, ended in the lean loop, to the kernel's
/// count of ticks (`events`) and of ticks switching.
#[inline(always)]
fn add_switches(events: &mut u64, switch_ticks: &mut u64, switched: u64, switch: u64) {
    *events += switched;
    *switch_ticks += switched * switch;
}

/// What `transition` does to the record `h` of the running process preempted at `t`: a
/// preemption counted, its time running accounted (`Hot::account` without its match on the
/// state), ready from `t`. For the lean loops, as [`dispatched`].
#[inline(always)]
pub(in crate::sim) fn preempted(h: &mut Hot, t: u64) {
    debug_assert_eq!(h.state, State::Running);
    h.preemptions = h.preemptions.saturating_add(1);
    h.cpu += t - h.since;
    h.since = t;
    h.state = State::Ready;
}

/// What `run_on_lone_cpu` does to the record `h` of process `q` dispatched at `t`: a
/// dispatch counted, its waiting accounted, running from `t`, its first run noted (in
/// `procs`). Returns what is left of its burst. For the lean loops, which hold the tables
/// apart (this one and `lean_any.rs`'s).
#[inline(always)]
pub(in crate::sim) fn dispatched(h: &mut Hot, procs: &mut [Pcb], q: u32, t: u64) -> u64 {
    debug_assert_eq!(h.state, State::Ready);
    h.dispatches = h.dispatches.saturating_add(1);
    h.waiting += t - h.since;
    h.since = t;
    h.state = State::Running;
    if h.dispatches == 1 {
        procs[q as usize].first_run = t;
    }
    h.burst_left
}
