//! The process API on real processes: `Process(...)` is a record, `start` a real `fork()`,
//! `join` and `wait` wait on pidfds, `kill`/`terminate` are `pidfd_send_signal`. The rules
//! these follow (the checks, the messages, the exit sequence) are [`crate::process`]'s.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;

use nix::unistd::{ForkResult, fork, getpid};

use super::few::Few;
use super::interp::{Frame, Kid, Proc, abandon, exitcode_of, leaked, set_comm};
use super::observe;
use super::pidfd;
use super::protocol::{Event, Key, Status, child_key};
use super::th::{Spare, Th};
use super::threads;
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
        // Sized once: a clone then a push would reallocate, and a `free` in the forking
        // process writes allocator pages each fork copies again (fork/trim.rs).
        let mut identity = Vec::with_capacity(self.identity.len() + 1);
        identity.extend_from_slice(&self.identity);
        identity.push(self.spawned);
        let name = leaked(Key::Owned(match &spec.name {
            Some(n) => n.to_string(),
            None => child_name(&identity),
        }));
        let key = leaked(child_key(&self.key, self.spawned));
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
        // The caller binds `as` (Host::bind_handle): a name of the task that made it.
        Ok(k)
    }

    /// In the child of a fork made by thread `caller`: become the process `kids[k]`
    /// described, with one thread, a copy of the caller; returns its main thread's frame.
    ///
    /// What it replaces (the parent's identity, lists of its children) it leaks rather than
    /// frees: they were the parent's allocations, and `free` writes into a freed block and
    /// its neighbours, so each would copy a page of the parent's heap (a page fault and a
    /// page of memory) for nothing. They are a few bytes once per process, and the process's
    /// `_exit` gives them back with the rest. Its key and name are its record's, leaked by
    /// the parent ([`leaked`]): copied as pointers, not allocated.
    fn become_child(&mut self, k: usize, t_admit: u64, caller: Option<usize>) -> Frame {
        let kid = &mut self.kids[k];
        set_comm(&kid.name);
        self.key = kid.key.clone();
        self.name = kid.name.clone();
        self.program = kid.program;
        self.daemon = kid.daemon;
        std::mem::forget(std::mem::replace(
            &mut self.identity,
            std::mem::take(&mut kid.identity),
        ));
        let frame = Frame::new(
            kid.program,
            None,
            std::mem::take(&mut kid.args),
            std::mem::take(&mut kid.kwargs),
        );
        kid.pid = Some(getpid().as_raw() as u32);
        kid.started = true;
        self.spawned = 0;
        self.steps = 0;
        self.t_admit = t_admit;
        self.me = Some(k);
        // The handles the fork copied name the parent's children: siblings, not ours. Their
        // pidfds (duplicated by the fork) are closed so only their parent watches them.
        self.first_own = self.kids.len();
        let live = std::mem::take(&mut self.live);
        for &i in live.iter() {
            self.kids[i].pidfd = None;
        }
        std::mem::forget(live);
        std::mem::forget(std::mem::take(&mut self.unstarted));
        self.priority = self.kids[k].priority;
        self.nice = self.kids[k].nice;
        threads::after_fork(self, caller);
        // The kernel gave it its creator's policy and nice, as the model gives unset
        // attributes; it changes what the scenario gives it otherwise, before its program.
        self.take_policy();
        frame
    }

    /// Takes the real policy and nice value for this process's attributes, where they differ
    /// from what it holds, and reports what the kernel refused.
    fn take_policy(&mut self) {
        if self.sh.sched.sets_nothing() {
            return;
        }
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

impl Th {
    /// `Process.start()`: a real `fork()`. The child gets a copy of everything (globals,
    /// objects, handles) because that is what a fork does.
    ///
    /// From a thread: the caller holds the interpreter lock, so no other thread of the
    /// process is inside the interpreter; they burn CPU (no GIL), sleep, or wait on a futex
    /// or a `poll`, none of them holding a lock of libc's, the allocator's or Rust's `std`
    /// the child needs (glibc's `fork` resets malloc's own locks). The child runs one
    /// thread, a copy of the caller, with a lock of its own.
    pub(super) fn start(&mut self, k: usize) -> Result<(), PyError> {
        let caller = self.f.thread;
        let p = self.p();
        // `max_processes` counts processes, which a `Process` object is only from its fork.
        if !p.sh.slots.take() {
            return Err(PyError::Again);
        }
        let t_admit = p.sh.now_us();
        // Send what is queued first, so the fork cannot duplicate unsent events.
        p.flush();
        if p.spare.is_none() {
            p.spare = Some(Spare::new());
        }
        super::hugetext::before_fork();
        // SAFETY: a process's only threads are its scenario threads, and the caller holds
        // their interpreter lock (see above), so the child may run any code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let mut p = self.take_for_child();
                let frame = p.become_child(k, t_admit, caller);
                match p.spare.take() {
                    Some(spare) => Th::first_in(spare, p, frame).run(),
                    None => Th::first(p, frame).run(),
                }
            }
            Ok(ForkResult::Parent { child }) => {
                let p = self.p();
                let kid = &mut p.kids[k];
                kid.started = true;
                kid.pid = Some(child.as_raw() as u32);
                kid.pidfd = pidfd::open(child.as_raw()).ok();
                let ev = Event::Started {
                    key: kid.key.clone(),
                    pid: child.as_raw() as u32,
                    t_admit,
                };
                if kid.pidfd.is_none() {
                    p.send(Event::Fault {
                        key: Some(p.key.clone()),
                        message: "pidfd_open failed; this child cannot be watched".into(),
                    });
                }
                p.send(ev);
                p.unstarted.retain(|x| *x != k);
                // Kept in creation order, as the exit policy joins in that order.
                let at = p.live.partition_point(|x| *x < k);
                p.live.insert(at, k);
                Ok(())
            }
            Err(_) => {
                p_give_back(self);
                Err(PyError::Again)
            }
        }
    }

    /// `Process.join(timeout)`: no block if the child has already ended; with a timeout of
    /// `n` ticks, waits at most that long (0: not at all) and leaves a child that has not
    /// ended as it is.
    pub(super) fn join(&mut self, k: usize, timeout: Option<u64>) {
        let p = self.p();
        if p.kids[k].reaped {
            return;
        }
        let ended = p.kids[k]
            .pidfd
            .as_ref()
            .is_none_or(|fd| pidfd::has_ended(fd.as_fd()));
        if ended {
            p.reap(k);
            return;
        }
        let deadline = match timeout {
            None => None,
            Some(0) => return,
            Some(n) => Some(observe::mono_ns().saturating_add(n.saturating_mul(self.sh.tick_ns))),
        };
        let before = self.block(Cause::Join);
        let (ended, woke) = self.wait_kids(&[k], deadline);
        if ended.is_some() {
            // Another thread may have joined it meanwhile.
            if !self.pr().kids[k].reaped {
                self.p().reap(k);
            }
            self.wake(Cause::ChildExit, before, woke);
        } else {
            self.wake(Cause::Timeout, before, woke);
        }
    }

    /// `wait`: the first child to have ended (in creation order when several have), or block
    /// until one does.
    pub(super) fn wait_any(&mut self) -> usize {
        let live = self.pr().live_kids();
        let p = self.p();
        let ended = live.iter().copied().find(|&k| {
            p.kids[k]
                .pidfd
                .as_ref()
                .is_none_or(|fd| pidfd::has_ended(fd.as_fd()))
        });
        if let Some(k) = ended {
            p.reap(k);
            return k;
        }
        let before = self.block(Cause::Wait);
        let (k, woke) = self.wait_kids(&live, None);
        let k = k.unwrap_or(live[0]);
        if !self.pr().kids[k].reaped {
            self.p().reap(k);
        }
        self.wake(Cause::ChildExit, before, woke);
        k
    }

    /// Waits until one of `ks` has ended (then it, and when the wait ended) or the monotonic
    /// clock reaches `deadline` (then `None`). The interpreter lock is let go meanwhile, so
    /// the pidfds are duplicated first when other threads may close them (a reap).
    fn wait_kids(&mut self, ks: &[usize], deadline: Option<u64>) -> (Option<usize>, Option<u64>) {
        let threaded = self.threaded();
        let p = self.pr();
        let owned: Vec<OwnedFd> = if threaded {
            ks.iter()
                .filter_map(|&k| p.kids[k].pidfd.as_ref().and_then(|f| f.try_clone().ok()))
                .collect()
        } else {
            Vec::new()
        };
        // Kept off the heap for a few children (a join waits on one): a `malloc`/`free` pair
        // a wait writes allocator pages that each fork copies again (fork/trim.rs).
        let mut raw: Few<RawFd, FEW_FDS> = Few::default();
        if threaded {
            owned.iter().for_each(|f| raw.push(f.as_raw_fd()));
        } else {
            ks.iter()
                .filter_map(|&k| p.kids[k].pidfd.as_ref().map(|f| f.as_raw_fd()))
                .for_each(|fd| raw.push(fd));
        }
        if raw.len() != ks.len() || raw.is_empty() {
            // A child without a pidfd cannot be watched; take it as ended (reap will wait).
            return (ks.first().copied(), None);
        }
        let unlocked = self.unlock();
        // SAFETY: each descriptor stays open while borrowed: either this thread kept the
        // interpreter lock (no other thread may reap and close it), or it is our own dup.
        let borrow = |fd: &RawFd| unsafe { BorrowedFd::borrow_raw(*fd) };
        let inline: [BorrowedFd<'_>; FEW_FDS];
        let heap: Vec<BorrowedFd<'_>>;
        let fds: &[BorrowedFd<'_>] = if raw.len() <= FEW_FDS {
            inline = std::array::from_fn(|i| borrow(raw.get(i).unwrap_or(&raw[0])));
            &inline[..raw.len()]
        } else {
            heap = raw.iter().map(borrow).collect();
            &heap
        };
        let lifeline = self.sh.lifeline.as_ref().map(|l| l.as_fd());
        let got = loop {
            let ms = match deadline {
                None => None,
                Some(d) => {
                    let left_ns = d.saturating_sub(observe::mono_ns());
                    if left_ns == 0 {
                        break fds.iter().position(|f| pidfd::has_ended(*f));
                    }
                    // poll(2) counts milliseconds: round up, so the wait is never shorter
                    // than asked.
                    Some(left_ns.div_ceil(1_000_000).min(u64::from(u16::MAX)) as u16)
                }
            };
            if let Some(i) = pidfd::wait_any(fds, lifeline, ms) {
                break Some(i);
            }
            if deadline.is_none() || lifeline.is_some_and(|l| observe::signalled(&l)) {
                // No deadline: only the lifeline ends a wait without a child.
                abandon();
            }
        };
        let woke = observe::mono_ns();
        drop(owned);
        if unlocked {
            self.relock();
        }
        (got.map(|i| ks[i]), Some(woke))
    }
}

/// How many children a wait watches without a list on the heap (`pidfd.rs` polls one more,
/// the lifeline, on the stack too).
pub(super) const FEW_FDS: usize = 8;

/// A fork that failed gives its `max_processes` slot back.
fn p_give_back(th: &mut Th) {
    th.p().sh.slots.give_back(1);
}
