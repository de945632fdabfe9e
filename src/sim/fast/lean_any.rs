//! The one-CPU loop of the policies other than round robin, for the runs that keep no trace,
//! under a policy that reads no bursts, without a switch cost: what
//! [`Kernel::step_slice_end_any`]'s loop (`fast_any.rs`) leaves to it, in a loop of its own
//! over the parts of the kernel it touches ([`AnyParts`]), which it asks once.
//!
//! It takes, one after another, the three events of an I/O-bound workload (RR-IO-v1), each
//! as the kernel's own shortcut would, through the policy for every decision:
//!
//! - a slice end with nothing else due ([`Kernel::step_slice_end_any`]'s own iteration);
//! - a slice end at which one timer alone is due, that of an `io` or `sleep` whose process
//!   is blocked ([`Kernel::step_slice_end_with_wakes_any`]'s commonest case);
//! - a burst end followed by a plain block ([`Kernel::plain_burst_end_any`], then
//!   `settle_wakes_on_one_cpu` or `settle_free_lone_cpu`), with one such timer due then or
//!   none;
//!
//! and it starts a process dispatched with its burst over when only the interpreter's quick
//! instructions lead to its next `cpu` (`quick_start`, as round robin's lean loop does).
//! Each of those was a way back to the kernel's step and through its checks: under lottery
//! on RR-IO-v1 a slice end with a wake-up took 652 instructions and a burst end 608, against
//! 285 for a plain slice end (callgrind, N = 20,000, with the three calls kept apart).
//!
//! Under a preemptive policy (MLFQ of several queues; the others that preempt read bursts or
//! have no slices, and never come here), the general rounds ask after each of those events
//! whether a ready process displaces a running one that was not just dispatched: here, only
//! a process that a slice end's pick kept on its CPU while others are ready. The loop stops
//! there and the caller asks ([`Left::Kept`]). A process just dispatched has nothing to be
//! displaced by ([`Policy::preempt`] answers `None` then), and a wake-up is taken here only
//! at a slice end or a burst end, where the process on the CPU after the pick is either one
//! kept (asked, as above) or one just dispatched.
//!
//! Anything else (another timer due, an arrival, an outside signal, the tick limit, a
//! policy's own event, the step budget, an instruction past the quick ones) ends the loop
//! with the CPU as the last event taken left it, for the caller, whose shortcuts and then
//! the general step find the same. The tests run every scenario under every policy with the
//! fast paths on and off and compare the reports (`tests/policies.rs`, `tests/scenarios.rs`,
//! `tests/properties.rs`, and without a trace `tests/fast_any.rs`).

use super::super::exec::Quick;
use super::super::fast_burst::{block_on_timer, plain_block_of};
use super::super::pcb::{Hot, NONE, Pcb};
use super::super::sched::{Leave, Ready, UNLIMITED, Usage};
use super::super::timers::{TimerKind, Timers};
use super::super::{Cpu, Kernel, Policy, Run, SeededRng};
use super::{dispatched, preempted, prefetch_at, prefetch_later, prefetch_timers, quick_start};
use crate::model::State;
use crate::scenario::ReadyGroup;

/// The parts of the kernel the loop touches, each borrowed apart (so that a store to a
/// record is not taken to change the policy's state, and the reverse), and the figures it
/// reads, none of which it changes.
pub(in crate::sim) struct AnyParts<'a, P> {
    pub hot: &'a mut [Hot],
    pub procs: &'a mut [Pcb],
    pub policy: &'a mut P,
    pub rng: &'a mut SeededRng,
    pub cpu: &'a mut Cpu,
    pub context_switches: &'a mut u64,
    pub timers: &'a mut Timers,
    /// The ticks counted against `kernel.max_events`, and that limit.
    pub events: &'a mut u64,
    pub max_events: u64,
    /// The interpreter's steps, and `kernel.max_steps`.
    pub steps: &'a mut u64,
    pub max_steps: u64,
    /// The decoded programs.
    pub code: &'a [Box<[Quick]>],
    /// Whether a block or a wake-up writes the process table's entry (records recycled:
    /// `count_timer`).
    pub timers_counted: bool,
    /// Whether the policy is charged at a block (`needs.block_charges`).
    pub block_charges: bool,
    /// Whether the policy preempts (`needs.preemption`).
    pub preemptive: bool,
    /// The scenario's same-tick order of the ready groups.
    pub order: [ReadyGroup; 3],
    /// [`Kernel::step_aside_at`]: an arrival, an outside signal, the tick limit.
    pub aside: u64,
}

/// How the loop left the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::sim) enum Left {
    /// Running the process, whose next event (its slice end or its burst end) the loop
    /// leaves to the caller.
    Running,
    /// Running the process just dispatched with its burst over, whose instructions (past the
    /// quick ones, or from the first) are the caller's to run.
    Starting,
    /// Free, with nothing ready.
    Idle,
    /// Running the process that the pick at its slice end kept on the CPU with a fresh slice
    /// while others are ready, under a preemptive policy: the general rounds then ask the
    /// policy whether one of them displaces it, which is the caller's to ask.
    Kept,
}

impl<P: Policy> Kernel<P> {
    /// The kernel's parts for [`lean_any`], with the horizon it must equal asked in debug
    /// builds (`horizon`, from [`Kernel::horizon_any`]).
    #[inline(always)]
    pub(in crate::sim) fn any_parts(&mut self, horizon: u64) -> AnyParts<'_, P> {
        debug_assert!(self.lean_applies() && !self.fast_paths && self.pending_preempts == 0);
        debug_assert!(
            self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty()
        );
        debug_assert_eq!(horizon, self.horizon_any());
        let aside = self.step_aside_at();
        let [cpu] = self.cpus.as_mut_slice() else {
            unreachable!("the lean loop runs on one CPU");
        };
        let k = &self.plan.kernel;
        AnyParts {
            hot: &mut self.hot,
            procs: &mut self.procs,
            policy: &mut self.policy,
            rng: &mut self.rng,
            cpu,
            context_switches: &mut self.context_switches,
            timers: &mut self.timers,
            events: &mut self.events,
            max_events: k.max_events,
            steps: &mut self.steps,
            max_steps: k.max_steps,
            code: &self.decoded,
            timers_counted: self.recycler.on,
            block_charges: self.needs.block_charges,
            preemptive: self.needs.preemption,
            order: self.order,
            aside,
        }
    }
}

/// The events that come one after another from process `p` running with its slice ending
/// at `slice_end` and its burst at `burst_end`, with the earliest timer or anything else
/// due at `horizon` ([`Kernel::horizon_any`]), each taken as the module documentation says,
/// while the next is of those kinds. Returns the process on the CPU (the last one running,
/// if it is free), the tick of the last event taken (`slice_end` if none: the caller's
/// clock), how the CPU was left, and the horizon with the timers fired.
#[inline(always)]
pub(in crate::sim) fn lean_any<P: Policy>(
    parts: AnyParts<'_, P>,
    (mut p, mut slice_end, mut burst_end): (u32, u64, u64),
    mut horizon: u64,
) -> (u32, u64, Left, u64) {
    const AHEAD: usize = 16;
    let AnyParts {
        hot,
        procs,
        policy,
        rng,
        cpu,
        context_switches,
        timers,
        events,
        max_events,
        steps,
        max_steps,
        code,
        timers_counted,
        block_charges,
        preemptive,
        order,
        aside,
    } = parts;
    // Asked once a run (a boxed policy's answer is a call; lottery's is a constant).
    let hints = policy.hints_later();
    // The first tick of anything but a timer that the loop leaves to the kernel's step: the
    // horizon but for the timers, which it fires itself. A policy's own event is asked for
    // again after a process joins or leaves its ready structure otherwise than by a slice
    // end (priority's aging starts with a wait); a slice end's requeue brings none before
    // those already set.
    let next_event = |policy: &P| policy.next_event().map_or(aside, |at| aside.min(at));
    let mut limit = next_event(policy);
    // The tick of the last event taken.
    let mut at = slice_end;
    loop {
        let t = slice_end.min(burst_end);
        // (`t < limit`: a horizon at `t` is then a timer's.)
        if t >= limit || t > horizon {
            return (p, at, Left::Running, horizon);
        }
        // The process picked at `t`, and whether the one running was preempted (its slice
        // ended) rather than blocked.
        let (q, was_preempted) = if t < burst_end {
            // A slice end.
            let usage = Usage {
                ran: t - cpu.since,
                slice_left: 0,
            };
            if t < horizon {
                hot[p as usize].burst_left = burst_end - t;
                // `charge`, `enqueue` (`burst_for` is 0: the policy reads no bursts) and
                // `pick`, in one call. It was just enqueued, so the policy has something to
                // pick.
                (policy.requeue_pick(p, usage, t, rng).unwrap_or(p), true)
            } else {
                // With a timer due: the tick is counted as the general step counts it (one
                // that would pass the limit is the caller's).
                if *events >= max_events {
                    return (p, at, Left::Running, horizon);
                }
                let Some(w) = lone_wake(hot, timers, t) else {
                    return (p, at, Left::Running, horizon);
                };
                *events += 1;
                if timers_counted {
                    procs[w as usize].timers -= 1;
                }
                hot[p as usize].burst_left = burst_end - t;
                // `expire_slice`'s charge, then `enqueue_groups` (nothing was admitted).
                policy.charge(p, Leave::SliceEnd, usage, t);
                for group in order {
                    match group {
                        ReadyGroup::Wake => policy.enqueue(w, Ready::Wake, 0, t),
                        ReadyGroup::Preempt => policy.enqueue(p, Ready::SliceEnd, 0, t),
                        ReadyGroup::Admit => {}
                    }
                }
                let q = policy.pick(t, rng).unwrap_or(p);
                limit = next_event(policy);
                horizon = timers.next_at().map_or(limit, |next| limit.min(next));
                (q, true)
            }
        } else {
            // The burst ends (at its slice end at the latest): a plain block, the timers
            // due then fired first (one at most), as `plain_burst_end_any`.
            if *steps >= max_steps {
                return (p, at, Left::Running, horizon);
            }
            let Some((cause, ticks)) = plain_block_of(&hot[p as usize], code) else {
                return (p, at, Left::Running, horizon);
            };
            let woken = if t == horizon {
                let Some(w) = lone_wake(hot, timers, t) else {
                    return (p, at, Left::Running, horizon);
                };
                if timers_counted {
                    procs[w as usize].timers -= 1;
                }
                Some(w)
            } else {
                None
            };
            if block_charges {
                // `block`'s charge (a slice end at the last tick is no slice end).
                let slice_left = if slice_end == NONE {
                    UNLIMITED
                } else {
                    slice_end - t
                };
                let usage = Usage {
                    ran: t - cpu.since,
                    slice_left,
                };
                policy.charge(p, Leave::Block, usage, t);
            }
            // `block_plain`.
            *steps += 1;
            let timer = block_on_timer(&mut hot[p as usize], p, t, cause, ticks);
            if timers_counted {
                procs[p as usize].timers += 1;
            }
            timers.push(timer);
            // `settle_wakes_on_one_cpu` (the woken one joins) or `settle_free_lone_cpu`.
            if let Some(w) = woken {
                policy.enqueue(w, Ready::Wake, 0, t);
            }
            let q = policy.pick(t, rng);
            limit = next_event(policy);
            horizon = timers.next_at().map_or(limit, |next| limit.min(next));
            let Some(q) = q else {
                cpu.run = Run::Idle;
                return (p, t, Left::Idle, horizon);
            };
            (q, false)
        };
        at = t;
        // After the pick, as `prefetch_upcoming_any`: a policy that draws knows the next
        // only then.
        if let Some(ahead) = policy.likely(AHEAD) {
            prefetch_at(hot.as_ptr().wrapping_add(ahead as usize).cast());
            if timers_counted {
                prefetch_timers(procs, ahead);
            }
        }
        if hints {
            prefetch_later(policy, hot);
        }
        if q == p && was_preempted {
            // `resume`: it keeps its CPU with a fresh slice.
            let slice = policy.slice(p, t);
            cpu.since = t;
            slice_end = t.saturating_add(slice);
            cpu.run = Run::Running {
                p,
                slice_end,
                burst_end,
            };
            if preemptive && !policy.is_empty() {
                return (p, t, Left::Kept, horizon);
            }
            continue;
        }
        if was_preempted {
            // `transition` to ready (a preemption).
            preempted(&mut hot[p as usize], t);
        }
        // `dispatch_on_lone_cpu` (no switch cost).
        if cpu.last != q {
            *context_switches += 1;
            cpu.last = q;
        }
        let slice = policy.slice(q, t);
        cpu.since = t;
        let h = &mut hot[q as usize];
        let burst = dispatched(h, procs, q, t);
        let end = t.saturating_add(slice);
        let started = if burst > 0 {
            Some(t.saturating_add(burst))
        } else {
            quick_start(h, procs, code, steps, max_steps, q, t, end)
        };
        let Some(started) = started else {
            cpu.run = Run::Running {
                p: q,
                slice_end: end,
                burst_end: NONE,
            };
            return (q, t, Left::Starting, horizon);
        };
        (p, slice_end, burst_end) = (q, end, started);
        cpu.run = Run::Running {
            p,
            slice_end,
            burst_end,
        };
    }
}

/// At a tick `t` at which timers are due: the process that the only timer due wakes, if
/// that timer ends an `io` or `sleep` of a blocked process (not stale: `drop_stale_timers`
/// would drop nothing) and no other fires then, with the timer taken and the process woken
/// as `fire_lone_timer` wakes it (`transition` from blocked, which accounts no time; nothing
/// recorded without a trace); else `None`, nothing changed. The caller counts the timer off
/// the process's entry.
#[inline(always)]
fn lone_wake(hot: &mut [Hot], timers: &mut Timers, t: u64) -> Option<u32> {
    let first = timers.peek()?;
    debug_assert_eq!(first.at, t);
    let w = first.p;
    if first.kind == TimerKind::JoinTimeout || hot[w as usize].state != State::Blocked {
        return None;
    }
    timers.pop_lone_due(t)?;
    let h = &mut hot[w as usize];
    h.since = t;
    h.state = State::Ready;
    Some(w)
}
