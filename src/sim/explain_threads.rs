//! The kernel's side of `--explain` for threads (SPEC §4a): the decisions that only a
//! process with several threads makes, told as they are made. Each hook is called only when
//! the log is on, and costs O(1) in the number of tasks (a scan of the CPUs at most), but
//! [`Kernel::explain_threads_end`], told once at a process's end, which counts the threads
//! that the end goes through anyway.

use super::pcb::NO_PROC;
use super::{Kernel, Policy, Run};
use crate::model::State;
use crate::program::NameId;
use crate::report::explain::{Decision, GilWhy, LISTED};

impl<P: Policy> Kernel<P> {
    /// Thread `slot` was started by task `by` (hook: before it is admitted).
    #[cold]
    pub(super) fn explain_thread_started(&mut self, slot: u32, by: u32) {
        let decision = Decision::ThreadStarted {
            task: self.task(slot),
            by: self.task(by),
        };
        self.log(decision);
    }

    /// Free CPU `c` picked `p`, whose process's GIL another task holds (hook: as it sets `p`
    /// aside).
    #[cold]
    pub(super) fn explain_set_aside(&mut self, c: Option<usize>, p: u32) {
        let Some(g) = self.group_of(p) else {
            return;
        };
        let holder = self.groups[g].gil;
        if holder == NO_PROC {
            return;
        }
        let holder_cpu = self
            .cpus
            .iter()
            .position(|cpu| match cpu.run {
                Run::Running { p, .. } | Run::Switching { p, .. } => p == holder,
                Run::Idle => false,
            })
            .map(|c| c as u32);
        let decision = Decision::SetAside {
            cpu: c.map(|c| c as u32),
            task: self.task(p),
            holder: self.task(holder),
            holder_cpu,
        };
        self.log(decision);
    }

    /// `holder` let go of its process's GIL, and `rejoining` (the first of its GIL queue: one
    /// rejoins at each release) rejoins the ready structure with the tick's woken tasks (hook).
    #[cold]
    pub(super) fn explain_gil_let_go(&mut self, holder: u32, rejoining: &[u32]) {
        self.ready_ids.rejoining += rejoining.len();
        let hot = &self.hot[holder as usize];
        let why = if hot.preempt_pending {
            GilWhy::SliceEnd
        } else {
            match hot.state {
                State::Blocked => GilWhy::Blocks,
                State::Terminated | State::New => GilWhy::Ends,
                State::Ready | State::Running => GilWhy::Preempted,
            }
        };
        let set_aside = rejoining
            .iter()
            .take(LISTED)
            .map(|&q| self.task(q))
            .collect();
        let decision = Decision::GilLetGo {
            holder: self.task(holder),
            why,
            set_aside,
            more: rejoining.len().saturating_sub(LISTED),
        };
        self.log(decision);
    }

    /// Task `p` blocks acquiring `lock`, which `holder` took last ([`NO_PROC`]: not known),
    /// with `ahead` waiting before it (hook).
    #[cold]
    pub(super) fn explain_lock_wait(&mut self, p: u32, lock: NameId, holder: u32, ahead: usize) {
        let decision = Decision::LockWait {
            task: self.task(p),
            lock: self.plan.names[lock as usize].clone(),
            holder: (holder != NO_PROC && self.hot[holder as usize].state != State::Terminated)
                .then(|| self.task(holder)),
            ahead,
        };
        self.log(decision);
    }

    /// Task `p` released `lock`, which goes to waiter `to` (hook: before `to` wakes).
    #[cold]
    pub(super) fn explain_hand_over(&mut self, p: u32, lock: NameId, to: u32) {
        let decision = Decision::LockHandOver {
            by: self.task(p),
            lock: self.plan.names[lock as usize].clone(),
            to: self.task(to),
        };
        self.log(decision);
    }

    /// Main thread `p` is at its end and waits for `live` non-daemon threads (hook: before
    /// it blocks).
    #[cold]
    pub(super) fn explain_await_threads(&mut self, p: u32, live: u32) {
        let decision = Decision::AwaitThreads {
            task: self.task(p),
            live,
        };
        self.log(decision);
    }

    /// Process `leader` ends with `count` threads still alive, `daemons` of them daemon
    /// threads (hook: before they end).
    #[cold]
    pub(super) fn explain_threads_end(&mut self, leader: u32, count: u32, daemons: u32) {
        if count == 0 {
            return;
        }
        let decision = Decision::ThreadsEnd {
            proc: self.proc_of(leader),
            count,
            daemons,
        };
        self.log(decision);
    }
}
