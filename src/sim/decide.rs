//! The kernel's side of the decisions a policy makes beyond "who runs next": attributes at
//! creation, preemption by a more urgent process, and the policy's own timed events.
//! Mechanism only: which process is more urgent, and what an event does, is the policy's.

use super::pcb::NO_PROC;
use super::sched::{Attrs, Leave, Ready, Runner, Usage};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State};
use crate::scenario::SchedAttrs;

impl<P: Policy> Kernel<P> {
    /// Process `p` was created (by `creator`, or at the start for a top-level process) with
    /// the attributes its entry or `spawn` gave: what it does not give comes from its creator,
    /// as Linux children inherit nice, or from the defaults.
    pub(super) fn created(&mut self, p: u32, given: SchedAttrs, creator: Option<u32>) {
        if !self.needs.attributes {
            return;
        }
        let base = creator
            .and_then(|c| self.attrs.get(c as usize).copied())
            .unwrap_or_default();
        let attrs = Attrs {
            priority: given.priority.unwrap_or(base.priority),
            // Validation holds nice to −20 … 19.
            nice: given.nice.map_or(base.nice, |n| n as i8),
            tickets: given.tickets.unwrap_or(base.tickets),
            pid: self.hot[p as usize].pid,
        };
        match self.attrs.get_mut(p as usize) {
            // A slot given back and reused (recycle.rs).
            Some(slot) => *slot = attrs,
            None => {
                debug_assert_eq!(self.attrs.len(), p as usize);
                self.attrs.push(attrs);
            }
        }
        self.policy.on_create(p, attrs);
    }

    /// The processes running on CPUs, lowest CPU first, but those in `skip` (dispatched this
    /// round, not yet run).
    fn runners(&self, t: u64, skip: &[u32]) -> Vec<Runner> {
        self.cpus
            .iter()
            .enumerate()
            .filter(|(c, _)| !skip.contains(&(*c as u32)))
            .filter_map(|(c, cpu)| match cpu.run {
                Run::Running { p, .. } => Some(Runner {
                    cpu: c as u32,
                    p,
                    ran: t - cpu.since,
                }),
                Run::Idle | Run::Switching { .. } => None,
            })
            .collect()
    }

    /// With every CPU busy, a ready process more urgent than a running one takes its CPU
    /// (SPEC §3a): the running process goes back to ready (`preempt`) and the freed CPU picks
    /// again. A CPU in a context switch is not preempted: the switch completes. Adds to
    /// `started` the CPUs whose new process starts running now.
    pub(super) fn preempt_for_urgent(&mut self, t: u64, started: &mut Vec<u32>) {
        if !self.needs.preemption || self.policy.is_empty() {
            return;
        }
        while !self.policy.is_empty() && self.cpus.iter().all(|c| c.run != Run::Idle) {
            if self.gil_on && !self.set_aside_barred_heads(t) {
                return;
            }
            let running = self.runners(t, started);
            let Some(i) = self.policy.preempt(&running, t) else {
                return;
            };
            let Runner { cpu, p, ran } = running[i];
            if self.log.is_some() {
                self.explain_preempts(cpu, p, ran);
            }
            self.take_back(cpu as usize, p, t);
            let burst = self.burst_for(p);
            self.policy.enqueue(p, Ready::Preempted, burst, t);
            if self.log.is_some() {
                self.explain_joined(&[p], Ready::Preempted);
            }
            self.dispatch_free_cpus(t, started);
            self.resolve_preemptions();
        }
    }

    /// Before a preemption is weighed, the policy's next picks that the GIL bars (another
    /// thread of their process holds it) are set aside in their GIL queues, as a CPU that
    /// picked them would: a thread that cannot run preempts no one. (Weighing it first took
    /// another process's CPU for nothing, and under MLFQ's `io_bump` on several CPUs looped
    /// within one tick: docs/threads.md.) False when nothing is left ready.
    fn set_aside_barred_heads(&mut self, t: u64) -> bool {
        while let Some(h) = self.policy.peek(t) {
            if !self.gil_bars(h) {
                return true;
            }
            let p = self.policy.pick(t, &mut self.rng);
            debug_assert_eq!(p, Some(h), "peek names the next pick");
            if self.log.is_some() {
                self.explain_taken(h);
                self.explain_set_aside(None, h);
            }
            self.park(h);
        }
        !self.policy.is_empty()
    }

    /// `p`, running on CPU `c`, leaves it for the ready structure (`running → ready`, cause
    /// `preempt`). The caller enqueues it.
    fn take_back(&mut self, c: usize, p: u32, t: u64) {
        if !self.lift_off(c, t) {
            return;
        }
        let hot = &mut self.hot[p as usize];
        hot.preemptions = hot.preemptions.saturating_add(1);
        self.transition(p, State::Ready, Cause::Preempt, Some(c as u32));
    }

    /// The process running on CPU `c` is taken off it at `t`: the policy is charged with what
    /// it ran (as preempted), what is left of its burst is kept for when it runs again, and
    /// the CPU falls free. False if nothing was running there.
    fn lift_off(&mut self, c: usize, t: u64) -> bool {
        let Run::Running {
            p,
            slice_end,
            burst_end,
        } = self.cpus[c].run
        else {
            return false;
        };
        let usage = Usage {
            ran: t - self.cpus[c].since,
            slice_left: slice_end.saturating_sub(t),
        };
        self.policy.charge(p, Leave::Preempted, usage, t);
        if burst_end != u64::MAX {
            self.hot[p as usize].burst_left = burst_end - t;
        }
        self.cpus[c].run = Run::Idle;
        true
    }

    /// The policy's own event at `t` (MLFQ's boost, priority aging), after the tick's slice
    /// ends and before its wake-ups and admissions join. An event that takes the CPUs back
    /// first makes every running process ready as a slice end does: one that the policy
    /// picks again at once keeps its CPU, with no preemption counted.
    pub(super) fn policy_event(&mut self, t: u64) {
        let before = if self.log.is_some() {
            self.explain_event()
        } else {
            Vec::new()
        };
        if self.policy.event_requeues_running() {
            self.enqueue_preempted();
            for c in 0..self.cpus.len() {
                let Run::Running { p, .. } = self.cpus[c].run else {
                    continue;
                };
                self.lift_off(c, t);
                self.mark_preempt_pending(c, p);
                let burst = self.burst_for(p);
                self.policy.enqueue(p, Ready::Preempted, burst, t);
                if self.log.is_some() {
                    self.explain_joined(&[p], Ready::Preempted);
                }
            }
        }
        self.policy.on_event(t);
        if self.log.is_some() {
            self.explain_event_done(before);
        }
    }

    /// `p`'s next CPU burst if the policy reads bursts, else 0.
    pub(super) fn burst_for(&self, p: u32) -> u64 {
        if self.needs.bursts {
            self.next_burst(p)
        } else {
            0
        }
    }

    /// `p` has ended: the policy forgets it.
    pub(super) fn ended(&mut self, p: u32) {
        if p != NO_PROC {
            self.policy.on_exit(p);
        }
    }
}
