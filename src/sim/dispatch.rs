//! The general rounds of a tick (SPEC §3): the processes that became ready join the ready
//! structure in the same-tick order, free CPUs take processes, the policy may preempt, what
//! starts running runs its zero-cost instructions, and so on until the tick is quiet; and the
//! running of one process on one CPU (slices, bursts, context switches).

use super::pcb::{NO_PROC, NONE};
use super::sched::{Leave, Ready, Usage};
use super::{Kernel, Policy, Run, exec};
use crate::model::{Cause, State};
use crate::scenario::ReadyGroup;

/// The most room the scratch list of admitted processes keeps between ticks.
const ADMITTED_KEPT: usize = 1 << 12;

impl<P: Policy> Kernel<P> {
    /// Joins the tick's ready groups to the queue, lets free CPUs take processes, runs what
    /// they run at once, and repeats until the tick is quiet.
    ///
    /// A loop, never a recursion: a chain of processes that each wake the next within one tick
    /// (a parent joining a child that ends at once, 100,000 deep) goes round it, not down the
    /// stack. A shortcut that leaves more to settle says so, and the loop goes on.
    pub(super) fn settle(&mut self, t: u64) {
        loop {
            let shortcut = self
                .settle_lone_preemption(t)
                .or_else(|| self.settle_slice_end_any(t))
                .or_else(|| self.settle_wakes_on_one_cpu(t))
                .or_else(|| self.settle_free_lone_cpu(t))
                .or_else(|| self.settle_quiet_on_one_cpu(t));
            match shortcut {
                Some(true) => continue,
                Some(false) => return,
                None => break,
            }
        }
        loop {
            self.enqueue_groups();
            let mut started = std::mem::take(&mut self.started);
            self.dispatch_free_cpus(t, &mut started);
            self.resolve_preemptions();
            self.preempt_for_urgent(t, &mut started);
            if started.is_empty() {
                self.started = started;
                break;
            }
            for &c in &started {
                self.run_instant(c as usize);
                if self.error.is_some() {
                    return;
                }
            }
            started.clear();
            self.started = started;
            if !self.more_to_settle() {
                break;
            }
        }
    }

    /// Whether another round is needed: something became ready, or a CPU fell free with work
    /// queued.
    #[inline(always)]
    pub(super) fn more_to_settle(&self) -> bool {
        !(self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty())
            || (!self.policy.is_empty() && self.cpus.iter().any(|c| c.run == Run::Idle))
    }

    /// The processes woken this tick join the queue: in the order they blocked, then by pid.
    #[inline(always)]
    pub(super) fn enqueue_woken(&mut self) {
        let t = self.now;
        if let [(_, _, p)] = self.woken[..] {
            self.woken.clear();
            let burst = self.burst_for(p);
            self.policy.enqueue(p, Ready::Wake, burst, t);
            return;
        }
        if !self.woken.is_sorted() {
            self.woken.sort_unstable();
        }
        let mut group = std::mem::take(&mut self.group);
        group.clear();
        group.extend(self.woken.iter().map(|w| w.2));
        self.woken.clear();
        self.enqueue_group(&group, Ready::Wake);
        self.group = group;
    }

    /// A group of processes that became ready together joins the ready structure, with their
    /// bursts if the policy reads them.
    pub(super) fn enqueue_group(&mut self, ps: &[u32], why: Ready) {
        if !self.needs.bursts {
            self.policy.enqueue_group(ps, why, &[], self.now);
            return;
        }
        let mut bursts = std::mem::take(&mut self.bursts);
        bursts.clear();
        bursts.extend(ps.iter().map(|&p| self.next_burst(p)));
        self.policy.enqueue_group(ps, why, &bursts, self.now);
        self.bursts = bursts;
    }

    pub(super) fn enqueue_groups(&mut self) {
        if self.woken.is_empty() && self.admitted.is_empty() && self.preempted.is_empty() {
            return;
        }
        for group in self.order {
            match group {
                ReadyGroup::Wake => {
                    if !self.woken.is_empty() {
                        if self.log.is_some() {
                            self.enqueue_woken_explained();
                        } else {
                            self.enqueue_woken();
                        }
                    }
                }
                ReadyGroup::Admit => {
                    if !self.admitted.is_empty() {
                        let admitted = std::mem::take(&mut self.admitted);
                        self.enqueue_group(&admitted, Ready::Admit);
                        if self.log.is_some() {
                            self.explain_joined(&admitted, Ready::Admit);
                        }
                        self.admitted = admitted;
                        self.admitted.clear();
                        // A scratch list sized by a million arrivals at one tick is not
                        // kept for the rest of the run (4 bytes a process, issue #13).
                        if self.admitted.capacity() > ADMITTED_KEPT {
                            self.admitted = Vec::new();
                        }
                    }
                }
                ReadyGroup::Preempt => self.enqueue_preempted(),
            }
        }
    }

    /// The processes whose slice ran out this tick join the ready structure.
    #[inline(always)]
    pub(super) fn enqueue_preempted(&mut self) {
        if !self.preempted.is_empty() {
            let preempted = std::mem::take(&mut self.preempted);
            self.enqueue_group(&preempted, Ready::SliceEnd);
            if self.log.is_some() {
                self.explain_joined_slice_ends(&preempted);
            }
            self.preempted = preempted;
            self.preempted.clear();
        }
    }

    /// Free CPUs, lowest first, take processes from the head of the queue. Adds to `started`
    /// the CPUs whose process starts running now (and must run its zero-cost instructions).
    pub(super) fn dispatch_free_cpus(&mut self, t: u64, started: &mut Vec<u32>) {
        if self.log.is_some() {
            self.dispatch_free_cpus_explained(t, started);
        } else {
            self.dispatch_free_cpus_as::<false>(t, started);
        }
    }

    #[cold]
    #[inline(never)]
    fn dispatch_free_cpus_explained(&mut self, t: u64, started: &mut Vec<u32>) {
        self.dispatch_free_cpus_as::<true>(t, started);
    }

    /// [`Kernel::dispatch_free_cpus`], with the decision log's hooks compiled in only when
    /// `EXPLAIN` (a run nobody asked to explain pays one branch a call, not one a pick).
    #[inline(always)]
    fn dispatch_free_cpus_as<const EXPLAIN: bool>(&mut self, t: u64, started: &mut Vec<u32>) {
        for c in 0..self.cpus.len() {
            if self.cpus[c].run != Run::Idle {
                continue;
            }
            loop {
                // `None` unless explained: an empty `Candidates` made and dropped at every
                // pick cost a run on several CPUs 46 instructions a dispatch (callgrind).
                let candidates = if EXPLAIN {
                    Some(self.explain_candidates())
                } else {
                    None
                };
                let Some(p) = self.policy.pick(t, &mut self.rng) else {
                    return;
                };
                if EXPLAIN {
                    self.explain_taken(p);
                }
                if self.threads_on && self.gil_bars(p) {
                    // Another thread of its process holds the GIL: it stays ready, set aside
                    // in the GIL's queue (threads.rs), and the CPU picks again.
                    if EXPLAIN {
                        self.explain_set_aside(Some(c), p);
                    }
                    self.park(p);
                    continue;
                }
                // A policy that draws (lottery) knows the next pick only now; round robin's
                // picks here (several CPUs, a burst end) are not its own loop's, which
                // prefetches for itself.
                self.prefetch_upcoming();
                if self.hot[p as usize].preempt_pending {
                    // Its slice ran out this tick. If its own CPU is still free, nothing else
                    // was ahead of it: it keeps that CPU with a fresh slice, and no preemption,
                    // dispatch or switch is counted.
                    let own = self.pending_cpu(p);
                    if self.cpus[own].run == Run::Idle {
                        self.resume(own, p, t);
                        if EXPLAIN {
                            self.explain_running(own, p, true);
                        }
                        if own == c {
                            break;
                        }
                        continue;
                    }
                    self.resolve_preemption(p);
                }
                if EXPLAIN && let Some(candidates) = candidates {
                    self.explain_picked(c, p, candidates);
                }
                if self.take(c, p, t) {
                    if EXPLAIN {
                        self.explain_running(c, p, false);
                    }
                    started.push(c as u32);
                }
                break;
            }
        }
    }

    /// `p`, whose slice ran out on CPU `c`, keeps it with a fresh slice.
    #[inline(always)]
    pub(super) fn resume(&mut self, c: usize, p: u32, t: u64) {
        if self.threads_on {
            self.gil_take(p);
        }
        let slice = self.policy.slice(p, t);
        let hot = &mut self.hot[p as usize];
        hot.preempt_pending = false;
        self.pending_preempts -= 1;
        self.cpus[c].since = t;
        self.cpus[c].run = Run::Running {
            p,
            slice_end: t.saturating_add(slice),
            burst_end: t.saturating_add(hot.burst_left),
        };
    }

    /// Free CPU `c` takes ready process `p`: a context switch if `p` is not the process it ran
    /// last, else `p` runs at once. True when `p` is running now.
    #[inline(always)]
    pub(super) fn take(&mut self, c: usize, p: u32, t: u64) -> bool {
        self.resolve_pending_on(c);
        if self.threads_on {
            self.gil_take(p);
        }
        let last = self.cpus[c].last;
        let cs = if last != p {
            self.switch_cost(last, p)
        } else {
            0
        };
        self.turn_to(c, p, t, cs)
    }

    /// Free CPU `c` turns to `p`, a switch of `cs` ticks away if `p` is not the process it
    /// ran last (counted as a context switch; none when it costs 0), else `p` runs at once.
    /// True when `p` is running now. The tail of [`Kernel::take`] and of round robin's tick
    /// (`fast_tick.rs`).
    #[inline(always)]
    pub(super) fn turn_to(&mut self, c: usize, p: u32, t: u64, cs: u64) -> bool {
        if self.cpus[c].last != p {
            self.context_switches += 1;
            self.cpus[c].last = p;
            if cs > 0 {
                self.cpus[c].run = Run::Switching {
                    p,
                    from: t,
                    until: t.saturating_add(cs),
                };
                return false;
            }
        }
        self.start_running(c, p);
        true
    }

    /// A process whose slice ran out on CPU `c` is waiting to learn whether it keeps the CPU;
    /// before the CPU takes another process, record that it was preempted.
    #[inline(always)]
    pub(super) fn resolve_pending_on(&mut self, c: usize) {
        let q = self.cpus[c].last;
        if q != NO_PROC && self.hot[q as usize].preempt_pending {
            self.resolve_preemption(q);
        }
    }

    pub(super) fn resolve_preemptions(&mut self) {
        if self.pending_preempts == 0 {
            return;
        }
        for c in 0..self.cpus.len() {
            self.resolve_pending_on(c);
        }
    }

    #[inline(always)]
    pub(super) fn resolve_preemption(&mut self, p: u32) {
        let c = Some(self.pending_cpu(p) as u32);
        let hot = &mut self.hot[p as usize];
        hot.preempt_pending = false;
        self.pending_preempts -= 1;
        hot.preemptions = hot.preemptions.saturating_add(1);
        self.transition(p, State::Ready, Cause::Preempt, c);
    }

    pub(super) fn cpu_of_last(&self, p: u32) -> Option<u32> {
        self.cpus
            .iter()
            .position(|cpu| cpu.last == p)
            .map(|c| c as u32)
    }

    /// The CPUs' own events at tick `t`, in CPU order: a switch that ends, a burst that ends,
    /// a slice that ends. False, with the run finished, when one of them stopped the run (an
    /// error); the general step and round robin's tick on several CPUs (`fast_tick.rs`) both
    /// call it.
    #[inline(always)]
    pub(super) fn end_cpu_events(&mut self, t: u64) -> bool {
        for c in 0..self.cpus.len() {
            match self.cpus[c].run {
                Run::Switching { until, .. } if until == t => self.finish_switch(c),
                Run::Running { p, burst_end, .. } if burst_end == t => self.finish_burst(c, p),
                Run::Running {
                    p,
                    slice_end,
                    burst_end,
                } if slice_end == t => {
                    self.hot[p as usize].burst_left = burst_end - t;
                    self.expire_slice(c, p);
                }
                _ => {}
            }
            if self.error.is_some() {
                self.finished = true;
                return false;
            }
        }
        true
    }

    pub(super) fn finish_switch(&mut self, c: usize) {
        let Run::Switching { p, from, until } = self.cpus[c].run else {
            return;
        };
        self.switch_ticks = self.switch_ticks.saturating_add(until - from);
        self.start_running(c, p);
        if self.log.is_some() {
            self.explain_running(c, p, false);
        }
        self.run_instant(c);
    }

    /// `ready → running` on CPU `c`, with a fresh slice or what was kept of the last one.
    #[inline(always)]
    pub(super) fn start_running(&mut self, c: usize, p: u32) {
        let t = self.now;
        let slice = self.policy.slice(p, t);
        self.cpus[c].since = t;
        let hot = &mut self.hot[p as usize];
        hot.dispatches = hot.dispatches.saturating_add(1);
        if hot.dispatches == 1 {
            self.procs[p as usize].first_run = t;
        }
        self.transition(p, State::Running, Cause::Dispatch, Some(c as u32));
        self.cpus[c].run = Run::Running {
            p,
            slice_end: t.saturating_add(slice),
            burst_end: NONE,
        };
    }

    /// The `cpu` instruction of `p`, running on CPU `c`, is done: it goes on with the next.
    #[inline(always)]
    pub(super) fn finish_burst(&mut self, c: usize, p: u32) {
        let hot = &mut self.hot[p as usize];
        hot.burst_left = 0;
        hot.pc += 1;
        self.run_instant(c);
    }

    /// Runs the process on CPU `c` until it computes, blocks or ends.
    #[inline(always)]
    pub(super) fn run_instant(&mut self, c: usize) {
        let Run::Running { p, slice_end, .. } = self.cpus[c].run else {
            return;
        };
        let t = self.now;
        let flow = if self.hot[p as usize].burst_left > 0 {
            exec::Flow::Burst
        } else {
            self.exec(p, c as u32)
        };
        match flow {
            exec::Flow::Burst if slice_end > t => {
                let burst = self.hot[p as usize].burst_left;
                self.cpus[c].run = Run::Running {
                    p,
                    slice_end,
                    burst_end: t.saturating_add(burst),
                };
            }
            exec::Flow::Burst => self.expire_slice(c, p),
            exec::Flow::Left | exec::Flow::Stopped => {
                if matches!(self.cpus[c].run, Run::Running { p: q, .. } if q == p) {
                    self.cpus[c].run = Run::Idle;
                }
            }
        }
    }

    /// The slice of `p` on CPU `c` ran out with work left: it joins the preempt group, and the
    /// dispatch decides whether it really loses the CPU.
    #[inline(always)]
    pub(super) fn expire_slice(&mut self, c: usize, p: u32) {
        if !self.fast_paths {
            let ran = self.now - self.cpus[c].since;
            let usage = Usage { ran, slice_left: 0 };
            if self.log.is_some() {
                self.charge_slice_end_explained(c, p, usage);
            } else {
                self.policy.charge(p, Leave::SliceEnd, usage, self.now);
            }
        }
        self.mark_preempt_pending(c, p);
        self.cpus[c].run = Run::Idle;
        self.preempted.push(p);
        if self.threads_on {
            // CPython's switch interval: the holder drops the GIL for a waiting thread.
            self.gil_release(p);
        }
    }

    /// The cost of a CPU's switch from task `last` to task `p`: `kernel.thread_switch`
    /// between two threads of one process, `kernel.context_switch` otherwise (SPEC §4a).
    #[inline(always)]
    pub(super) fn switch_cost(&self, last: u32, p: u32) -> u64 {
        let k = &self.plan.kernel;
        if self.threads_on && last != NO_PROC && self.leader(last) == self.leader(p) {
            return k.thread_switch;
        }
        k.context_switch
    }

    /// `p` left CPU `c` at a slice end (or a policy event took the CPU back): whether it keeps
    /// the CPU is decided when it reaches the head. The CPU is remembered by process, so that
    /// the decision does not look through every CPU: with 1,025 processes on 1,024 CPUs at
    /// quantum 1 every CPU's slice ends at every tick, and a search per process made a tick
    /// cost CPUs² instead of CPUs.
    #[inline(always)]
    pub(super) fn mark_preempt_pending(&mut self, c: usize, p: u32) {
        self.hot[p as usize].preempt_pending = true;
        self.pending_preempts += 1;
        // On one CPU it is CPU 0: no table of 4 bytes a process (issue #13).
        if self.cpus.len() == 1 {
            return;
        }
        let i = p as usize;
        if self.pending_on.len() <= i {
            self.pending_on.resize(self.hot.len().max(i + 1), 0);
        }
        self.pending_on[i] = c as u32;
    }

    /// The CPU whose slice end made `p`'s preemption pending: the CPU that ran it last, as no
    /// CPU takes another process before that preemption is resolved.
    #[inline(always)]
    pub(super) fn pending_cpu(&self, p: u32) -> usize {
        debug_assert!(self.hot[p as usize].preempt_pending);
        let c = if self.cpus.len() == 1 {
            0
        } else {
            self.pending_on[p as usize] as usize
        };
        debug_assert_eq!(
            Some(c),
            self.cpus.iter().position(|cpu| cpu.last == p),
            "process {p}'s pending preemption is on the lowest CPU that ran it last"
        );
        c
    }
}
