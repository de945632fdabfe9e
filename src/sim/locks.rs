//! `threading.Lock` (SPEC §4a): a process's locks, each from its first use, held by its
//! thread group (threads.rs).

use std::collections::VecDeque;
use std::ops::ControlFlow;

use super::exec::Flow;
use super::pcb::{NO_PROC, WaitOn};
use super::{Kernel, Policy};
use crate::model::{Cause, State};
use crate::process::PyError;
use crate::program::NameId;

/// A `threading.Lock` of a process: held or not (by no thread in particular: any thread may
/// release it, as in CPython), and the tasks blocked acquiring it, first come first.
#[derive(Debug, Clone)]
pub(super) struct Lock {
    name: NameId,
    held: bool,
    /// The task that took it last (by `acquire` or a hand-over), for `--explain` only: the
    /// lock belongs to no thread ([`NO_PROC`]: free, or held since a fork).
    holder: u32,
    waiters: VecDeque<u32>,
}

impl Lock {
    /// The copy a fork makes: held stays held in the child, whose waiters are none (the
    /// parent's threads are not copied).
    pub(super) fn forked(&self) -> Lock {
        Lock {
            name: self.name,
            held: self.held,
            holder: NO_PROC,
            waiters: VecDeque::new(),
        }
    }
}

impl<P: Policy> Kernel<P> {
    /// `L.acquire()` in task `p` on CPU `c` (its pc already past it): it takes the lock if
    /// it is free, else blocks (cause `lock`) at the end of its waiters.
    pub(super) fn acquire(&mut self, p: u32, c: u32, name: NameId) -> ControlFlow<Flow> {
        let leader = self.leader(p);
        let g = self.ensure_group(leader);
        let locks = &mut self.groups[g].locks;
        let i = match locks.iter().position(|l| l.name == name) {
            Some(i) => i,
            None => {
                locks.push(Lock {
                    name,
                    held: false,
                    holder: NO_PROC,
                    waiters: VecDeque::new(),
                });
                locks.len() - 1
            }
        };
        let lock = &mut locks[i];
        if !lock.held {
            lock.held = true;
            lock.holder = p;
            return ControlFlow::Continue(());
        }
        let (holder, ahead) = (lock.holder, lock.waiters.len());
        lock.waiters.push_back(p);
        if self.log.is_some() {
            self.explain_lock_wait(p, name, holder, ahead);
        }
        self.procs[p as usize].set_wait_on(WaitOn::Lock);
        self.block(p, c, Cause::Lock, 0);
        ControlFlow::Break(Flow::Left)
    }

    /// `L.release()` in task `p`: the lock goes to its first waiter still waiting
    /// (`lock-acquired`), or is free. Releasing a lock not held is Python's RuntimeError.
    pub(super) fn release(&mut self, p: u32, name: NameId) -> Result<(), PyError> {
        let leader = self.leader(p);
        let Some(g) = self.group_of(leader) else {
            return Err(PyError::ReleaseUnlocked);
        };
        let Some(i) = self.groups[g].locks.iter().position(|l| l.name == name) else {
            return Err(PyError::ReleaseUnlocked);
        };
        if !self.groups[g].locks[i].held {
            return Err(PyError::ReleaseUnlocked);
        }
        while let Some(w) = self.groups[g].locks[i].waiters.pop_front() {
            if self.hot[w as usize].state == State::Blocked
                && self.procs[w as usize].wait_on() == WaitOn::Lock
            {
                self.procs[w as usize].set_wait_on(WaitOn::Nothing);
                self.groups[g].locks[i].holder = w;
                if self.log.is_some() {
                    self.explain_hand_over(p, name, w);
                }
                self.wake(w, Cause::LockAcquired);
                return Ok(());
            }
        }
        self.groups[g].locks[i].held = false;
        self.groups[g].locks[i].holder = NO_PROC;
        Ok(())
    }
}
