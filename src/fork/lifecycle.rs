//! The process API on real processes: `Process(...)` is a record, `start` a real `fork()`,
//! `join` and `wait` wait on pidfds, `kill`/`terminate` are `pidfd_send_signal`. The rules
//! these follow (the checks, the messages, the exit sequence) are [`crate::process`]'s.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use nix::unistd::{ForkResult, fork, getpid};

use super::interp::{Kid, Proc, exitcode_of, set_comm};
use super::observe::{self, SelfStat};
use super::pidfd;
use super::protocol::{Event, Status, child_key};
use crate::model::{Cause, Value};
use crate::process::PyError;
use crate::program::{Signal, SpawnOp, child_name};

impl Proc {
    /// `multiprocessing.Process(...)`: a child in `new`. It takes a `max_processes` slot now,
    /// where the simulated kernel allocates its pid.
    pub(super) fn spawn(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<usize, PyError> {
        self.spawned += 1;
        let mut identity = self.identity.clone();
        identity.push(self.spawned);
        let name = match &spec.name {
            Some(n) => n.to_string(),
            None => child_name(&identity),
        };
        let key = child_key(&self.key, self.spawned);
        let daemon = spec.daemon.unwrap_or(self.daemon);
        self.send(Event::Spawn {
            key: key.clone(),
            creator: Some(self.key.clone()),
            name: name.clone(),
            program: spec.program,
            daemon,
            t: self.sh.now_us(),
        });
        self.kids.push(Kid {
            key,
            name,
            program: spec.program,
            daemon,
            identity,
            started: false,
            args,
            kwargs,
            pid: None,
            pidfd: None,
            priority: spec.attrs.priority.unwrap_or(self.priority),
            nice: spec.attrs.nice.unwrap_or(self.nice),
            exitcode: None,
            reaped: false,
        });
        let k = self.kids.len() - 1;
        self.unstarted.push(k);
        self.bind_handle(spec.handle, k);
        Ok(k)
    }

    /// `Process.start()`: a real `fork()`. The child gets a copy of everything (globals,
    /// objects, handles) because that is what a fork does.
    pub(super) fn start(&mut self, k: usize) -> Result<(), PyError> {
        // `max_processes` counts processes, which a `Process` object is only from its fork.
        if !self.sh.slots.take() {
            return Err(PyError::Again);
        }
        let t_admit = self.sh.now_us();
        // Send what is queued first, so the fork cannot duplicate unsent events.
        self.flush();
        // SAFETY: every process of a run is single-threaded (the supervisor that forked the
        // first of them is), so the child may run any code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                self.become_child(k, t_admit);
                self.run()
            }
            Ok(ForkResult::Parent { child }) => {
                let kid = &mut self.kids[k];
                kid.started = true;
                kid.pid = Some(child.as_raw() as u32);
                kid.pidfd = pidfd::open(child.as_raw()).ok();
                let ev = Event::Started {
                    key: kid.key.clone(),
                    pid: child.as_raw() as u32,
                    t_admit,
                };
                if kid.pidfd.is_none() {
                    self.send(Event::Fault {
                        key: Some(self.key.clone()),
                        message: "pidfd_open failed; this child cannot be watched".into(),
                    });
                }
                self.send(ev);
                self.unstarted.retain(|x| *x != k);
                // Kept in creation order, as the exit policy joins in that order.
                let at = self.live.partition_point(|x| *x < k);
                self.live.insert(at, k);
                Ok(())
            }
            Err(_) => {
                self.sh.slots.give_back(1);
                Err(PyError::Again)
            }
        }
    }

    /// In the child of a fork: become the process `kids[k]` described.
    fn become_child(&mut self, k: usize, t_admit: u64) {
        let kid = &mut self.kids[k];
        set_comm(&kid.name);
        self.key = kid.key.clone();
        self.name = kid.name.clone();
        self.program = kid.program;
        self.daemon = kid.daemon;
        self.identity = std::mem::take(&mut kid.identity);
        self.pending = Some((
            std::mem::take(&mut kid.args),
            std::mem::take(&mut kid.kwargs),
        ));
        kid.pid = Some(getpid().as_raw() as u32);
        kid.started = true;
        self.spawned = 0;
        self.pc = 0;
        self.loops.clear();
        self.counters.clear();
        self.params.clear();
        self.steps = 0;
        self.t_admit = t_admit;
        self.me = Some(k);
        // The handles the fork copied name the parent's children: siblings, not ours. Their
        // pidfds (duplicated by the fork) are closed so only their parent watches them.
        self.first_own = self.kids.len();
        for i in std::mem::take(&mut self.live) {
            self.kids[i].pidfd = None;
        }
        self.unstarted.clear();
        self.stat = SelfStat::lazy();
        self.priority = self.kids[k].priority;
        self.nice = self.kids[k].nice;
        // The kernel gave it its creator's policy and nice, as the model gives unset
        // attributes; it changes what the scenario gives it otherwise, before its program.
        self.take_policy();
    }

    /// Takes the real policy and nice value for this process's attributes, where they differ
    /// from what it holds, and reports what the kernel refused.
    fn take_policy(&mut self) {
        for message in self
            .sh
            .sched
            .apply(&mut self.held, self.priority, self.nice)
        {
            self.send(Event::Refused {
                key: self.key.clone(),
                message,
            });
        }
    }

    /// `Process.join(timeout)`: no block if the child has already ended; with a timeout of
    /// `n` ticks, waits at most that long (0: not at all) and leaves a child that has not
    /// ended as it is.
    pub(super) fn join(&mut self, k: usize, timeout: Option<u64>) {
        if self.kids[k].reaped {
            return;
        }
        let ended = self.kids[k]
            .pidfd
            .as_ref()
            .is_none_or(|fd| pidfd::has_ended(fd.as_fd()));
        if ended {
            self.reap(k);
            return;
        }
        let deadline = match timeout {
            None => None,
            Some(0) => return,
            Some(n) => Some(observe::mono_ns().saturating_add(n.saturating_mul(self.sh.tick_ns))),
        };
        let before = self.block(Cause::Join);
        if self.wait_until(k, deadline) {
            self.reap(k);
            self.wake(Cause::ChildExit, before);
        } else {
            self.wake(Cause::Timeout, before);
        }
    }

    /// Blocks until child `k` has ended (then `true`) or the monotonic clock reaches
    /// `deadline` (then `false`; `None`: no deadline).
    fn wait_until(&self, k: usize, deadline: Option<u64>) -> bool {
        let Some(deadline) = deadline else {
            self.wait_for(&[k]);
            return true;
        };
        let Some(fd) = self.kids[k].pidfd.as_ref().map(|f| f.as_fd()) else {
            // A child without a pidfd cannot be watched; take it as ended (reap will wait).
            return true;
        };
        let lifeline = self.sh.lifeline.as_ref();
        loop {
            let left_ns = deadline.saturating_sub(observe::mono_ns());
            if left_ns == 0 {
                return pidfd::has_ended(fd);
            }
            // poll(2) counts milliseconds: round up, so the wait is never shorter than asked.
            let ms = left_ns.div_ceil(1_000_000).min(u64::from(u16::MAX)) as u16;
            if pidfd::wait_any(&[fd], lifeline.map(|l| l.as_fd()), Some(ms)).is_some() {
                return true;
            }
            if lifeline.is_some_and(observe::signalled) {
                self.abandon();
            }
        }
    }

    /// `wait`: the first child to have ended (in creation order when several have), or block
    /// until one does.
    pub(super) fn wait_any(&mut self) -> usize {
        let live = self.live_kids();
        let ended = live.iter().copied().find(|&k| {
            self.kids[k]
                .pidfd
                .as_ref()
                .is_none_or(|fd| pidfd::has_ended(fd.as_fd()))
        });
        if let Some(k) = ended {
            self.reap(k);
            return k;
        }
        let before = self.block(Cause::Wait);
        let k = self.wait_for(&live);
        self.reap(k);
        self.wake(Cause::ChildExit, before);
        k
    }

    /// Blocks until one of `ks` has ended and returns it.
    fn wait_for(&self, ks: &[usize]) -> usize {
        let fds: Vec<BorrowedFd<'_>> = ks
            .iter()
            .filter_map(|&k| self.kids[k].pidfd.as_ref().map(|f| f.as_fd()))
            .collect();
        if fds.len() != ks.len() {
            // A child without a pidfd cannot be watched; take it as ended (reap will wait).
            return ks[0];
        }
        let lifeline = self.sh.lifeline.as_ref().map(|l| l.as_fd());
        match pidfd::wait_any(&fds, lifeline, None) {
            Some(i) => ks[i],
            None => self.abandon(),
        }
    }

    /// Reaps child `k`, which has ended, after reading what the kernel counted for it.
    pub(super) fn reap(&mut self, k: usize) {
        let kid = &mut self.kids[k];
        // Never 0: wait4(0) would mean any child of the group.
        let Some(pid) = kid.pid.filter(|p| *p > 0) else {
            return;
        };
        // Read while it is a zombie: until this process reaps it, the pid is still this
        // child's, and only this process can reap it.
        let (status, figures) = observe::reap_zombie(pid as i32);
        // The pidfd goes only now, so the pid was never free while it was open.
        kid.pidfd = None;
        let t = self.sh.now_us();
        kid.reaped = true;
        self.live.retain(|x| *x != k);
        kid.exitcode = status.map(exitcode_of);
        self.sh.slots.give_back(1);
        let ev = Event::Reaped {
            key: Some(kid.key.clone()),
            pid,
            t,
            by_init: false,
            status: status.unwrap_or(Status::Exited(0)),
            figures,
        };
        self.send(ev);
    }

    /// Sends SIGKILL or SIGTERM to child `k` and waits until it has ended, as the simulated
    /// kernel ends a signalled process at once. A child that has already ended is left
    /// alone (a signal to a zombie does nothing): then `false`.
    pub(super) fn signal(&mut self, k: usize, sig: Signal) -> bool {
        let kid = &self.kids[k];
        let Some(fd) = kid.pidfd.as_ref().filter(|_| !kid.reaped) else {
            return false;
        };
        if pidfd::has_ended(fd.as_fd()) {
            return false;
        }
        if pidfd::send_signal(fd.as_fd(), sig.number()).is_err() {
            // ESRCH: it ended between the poll and the send.
            return false;
        }
        let lifeline = self.sh.lifeline.as_ref().map(|l| l.as_fd());
        // SIGKILL and SIGTERM (no process of a run handles it) end a process within
        // microseconds; the bound only keeps a wedged kernel from hanging the run.
        if pidfd::wait_any(&[fd.as_fd()], lifeline, Some(10_000)).is_some() {
            self.send(Event::Signalled {
                key: kid.key.clone(),
                t: self.sh.now_us(),
            });
        }
        true
    }
}
