//! Threads (SPEC §4a), as Linux has them: a thread is a task, a schedulable record of the
//! kernel's table like a process's, linked to its process (the thread-group leader).
//!
//! What belongs to the process lives with the process's own record, the leader's: pid, ppid,
//! name, globals, objects, handles, children, output and errors, exit code. What belongs to
//! one flow of control lives with each task: program counter, loops, burst, bound parameters,
//! state and figures, and the thread's name and daemon flag. The leader's
//! record is also its main thread's, so a process's row and figures are its main thread's.
//! Policies schedule tasks and know nothing of threads.
//!
//! A process that never starts a thread has no [`ThreadGroup`]; a process gets one when it
//! starts its first thread, or when it is forked from a thread (or from a process whose thread
//! counter has moved: `threading._counter` is copied by the fork). A task's group and a
//! thread's number (its default name, `Thread-N (program)`, is made when shown) are in dense
//! tables of 4 bytes a task (`Kernel::task_group`, `Kernel::thread_no`), empty in thread-less
//! runs: a thread whose program takes no arguments and that has no explicit name has no cold
//! part, and costs the records of a process. The whole machinery is off (`Kernel::threads_on` false) unless the plan has a
//! `thread` instruction; then record recycling is off for the run, and the fast paths too
//! unless there is one CPU and `thread_switch` equals `context_switch` (fast.rs and
//! recycle.rs assume one task a process, which those two conditions make true of what the
//! fast paths decide: on one CPU the GIL bars no one, `Kernel::gil_on`; the general rounds
//! are the reference they are tested against, every scenario both ways).
//!
//! - **Ids**: a thread's tid comes from the pid space, as on Linux, and is freed when it ends
//!   (a thread is not a zombie: nothing reaps it); the main thread's tid is the pid.
//! - **Names**: `MainThread`; `Thread-N (program)` with N from the process's counter, which an
//!   explicit name does not move (CPython 3.11's `threading._newname`); a child forked from a
//!   thread has one thread, named as the caller was.
//! - **The GIL** (`kernel.gil`, default on): a thread whose process's GIL another of its tasks
//!   holds (running, or being switched to) is not dispatchable: a CPU that picks it sets it
//!   aside, still `ready`, in its process's GIL queue, and picks again; when the holder leaves
//!   its CPU (it blocks, ends, is preempted, or its slice runs out) the first of the queue
//!   rejoins the ready structure with the tick's woken tasks: a release costs O(log threads),
//!   not the threads set aside. The GIL is also released at a slice end, as CPython's switch
//!   interval makes the holder drop it. On one CPU this never sets a thread aside.
//! - **The end**: a thread that ends by itself ends alone, silently for `exit`, with its error
//!   in its process's errors for an error. A main thread that ends waits (blocked, cause `join`)
//!   for the non-daemon threads, then the process's end runs as before (finalizers, exit
//!   policy); the threads still alive then (daemons) are ended with it (cause `signal`: Linux's
//!   `exit_group` kills them). `_exit` in any thread and signals end the whole process.
//!   A join of a thread that ends wakes with cause `child-exit`, the cause of every join's end.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use super::exec::Flow;
use super::locks::Lock;
use super::pcb::{Hot, Kind, NO_PROC, NONE, Pcb, WaitOn};
use super::{Kernel, Policy};
use crate::model::{Cause, State, Value};
use crate::process::PyError;
use crate::program::{NameId, SpawnOp};
use crate::report::ThreadReport;
use std::ops::ControlFlow;

/// The threads of one process.
#[derive(Debug, Clone)]
pub(super) struct ThreadGroup {
    /// The process's record (its main thread's).
    pub leader: u32,
    /// Its other threads' records, in creation order.
    pub threads: Vec<u32>,
    /// `threading._counter`: default names made so far.
    pub counter: u32,
    /// The main thread's name (`None`: `MainThread`).
    pub main_name: Option<Arc<str>>,
    /// The main thread's daemon flag (a child forked from a daemon thread keeps it).
    pub main_daemon: bool,
    /// The task holding the GIL ([`NO_PROC`]: none).
    pub gil: u32,
    /// The last holder, if it let the GIL go at a slice end and its preemption is not yet
    /// resolved ([`NO_PROC`]: none): another task that takes the GIL resolves it first.
    pub slice_ended: u32,
    /// The tasks set aside, still `ready`, while another task held the GIL: the GIL's queue,
    /// first by the tick they became ready, then tid (a min-heap of `(since, tid, task)`).
    /// A task that ends while in it (its process ends) is dropped when it comes up.
    pub gil_queue: BinaryHeap<Reverse<(u64, u32, u32)>>,
    /// The main thread has ended and waits for the non-daemon threads.
    pub shutdown: bool,
    /// Threads alive that are not daemons.
    pub live_non_daemon: u32,
    /// The process's locks (`threading.Lock`), each from its first use.
    pub locks: Vec<Lock>,
}

impl<P: Policy> Kernel<P> {
    /// The group of task `p`, if its process has one.
    #[inline]
    pub(super) fn group_of(&self, p: u32) -> Option<usize> {
        if !self.threads_on {
            return None;
        }
        let g = *self.task_group.get(p as usize)?;
        (g != 0).then(|| g as usize - 1)
    }

    /// Task `p` is thread number `n` of its process (see `Kernel::thread_no`).
    fn note_thread_no(&mut self, p: u32, n: u32) {
        let i = p as usize;
        if self.thread_no.len() <= i {
            self.thread_no.resize(i + 1, 0);
        }
        self.thread_no[i] = n;
    }

    /// Task `p` is in group `g1 - 1` (see `Kernel::task_group`).
    fn note_group(&mut self, p: u32, g1: u32) {
        let i = p as usize;
        if self.task_group.len() <= i {
            self.task_group.resize(i + 1, 0);
        }
        self.task_group[i] = g1;
    }

    /// The process a task belongs to: itself for a process's own record.
    #[inline]
    pub(super) fn leader(&self, p: u32) -> u32 {
        match self.group_of(p) {
            Some(g) => self.groups[g].leader,
            None => p,
        }
    }

    /// Whether task `p` is a thread other than a main thread.
    #[inline]
    pub(super) fn is_thread(&self, p: u32) -> bool {
        self.threads_on && self.procs[p as usize].is_thread()
    }

    /// The task handle `name` names in task `p`: a handle is local to the task that bound it
    /// (`t = Thread(...)` in a function), and a thread that has not bound `name` reads its
    /// process's main thread's (the `__main__` module's names, global to every function).
    pub(super) fn handle_of(&self, p: u32, name: NameId) -> Option<u32> {
        let own = self.procs[p as usize].handle(name);
        if own.is_some() || !self.is_thread(p) {
            return own;
        }
        self.procs[self.leader(p) as usize].handle(name)
    }

    /// The group of process `p`, made now if it has none.
    pub(super) fn ensure_group(&mut self, p: u32) -> usize {
        if let Some(g) = self.group_of(p) {
            return g;
        }
        // A process that gets its group while it runs (its first `thread` or lock) already
        // holds its GIL: it took its CPU before there was a group to note it in.
        let running = self.gil_on && self.hot[p as usize].state == State::Running;
        self.groups.push(ThreadGroup {
            leader: p,
            threads: Vec::new(),
            counter: 0,
            main_name: None,
            main_daemon: false,
            gil: if running { p } else { NO_PROC },
            slice_ended: NO_PROC,
            gil_queue: BinaryHeap::new(),
            shutdown: false,
            live_non_daemon: 0,
            locks: Vec::new(),
        });
        let g = self.groups.len();
        // A group index fits: there are fewer groups than records, whose indices are u32.
        self.note_group(p, g as u32);
        g - 1
    }

    /// `threading.current_thread().name` in task `p`: a thread's default name is made here,
    /// when shown, from its number and its program (a task's program never changes).
    pub(super) fn thread_name(&self, p: u32) -> String {
        if self.is_thread(p) {
            return match self.thread_no.get(p as usize).copied().unwrap_or(0) {
                0 => self.procs[p as usize]
                    .cold
                    .as_ref()
                    .and_then(|c| c.name.as_deref())
                    .unwrap_or("?")
                    .to_owned(),
                n => {
                    let program = self.hot[p as usize].program as usize;
                    format!("Thread-{n} ({})", self.plan.programs[program].name)
                }
            };
        }
        self.group_of(p)
            .and_then(|g| self.groups[g].main_name.as_deref())
            .unwrap_or("MainThread")
            .to_owned()
    }

    /// `threading.current_thread().daemon` in task `p`.
    fn thread_daemon(&self, p: u32) -> bool {
        if self.is_thread(p) {
            return self.procs[p as usize].daemon;
        }
        self.group_of(p).is_some_and(|g| self.groups[g].main_daemon)
    }

    /// `(report index, tid)` of task `p` for a trace event: the tid once its process has
    /// more than one thread.
    #[inline]
    pub(super) fn event_ids(&self, p: u32) -> (u32, u32, Option<u32>) {
        let leader = self.leader(p);
        let tid = self
            .group_of(p)
            .filter(|&g| !self.groups[g].threads.is_empty())
            .map(|_| self.hot[p as usize].pid);
        (
            self.proc_index[leader as usize],
            self.hot[leader as usize].pid,
            tid,
        )
    }

    /// `Thread(target=..., ...).start()` in task `p`.
    pub(super) fn spawn_thread(
        &mut self,
        p: u32,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<(), PyError> {
        let t = self.now;
        let leader = self.leader(p);
        let daemon = spec.daemon.unwrap_or_else(|| self.thread_daemon(p));
        let g = self.ensure_group(leader);
        // `Thread.__init__` names it (an explicit name takes no number) before `start()`. A
        // default name is kept as its number, `Thread-N (program)` made when shown.
        let (number, name) = match &spec.name {
            Some(name) => (0, Some(Arc::clone(name))),
            None => {
                let group = &mut self.groups[g];
                group.counter = group.counter.saturating_add(1);
                (group.counter, None)
            }
        };
        if self.pids.in_use() >= self.plan.kernel.max_processes {
            return Err(PyError::ThreadStart);
        }
        let Some(tid) = self.pids.alloc() else {
            return Err(PyError::ThreadStart);
        };
        // Its globals are its process's, read through the leader: it holds none of its own
        // (sharing the leader's `Arc` would make the leader's next write a copy). Made as at
        // tick 0, so that no cold part is allocated for the tick: a thread's creation is its
        // admission, just below (`thread_report`). Its group and number are in the kernel's
        // dense tables; only an explicit name or arguments need a cold part.
        let mut pcb = Pcb::new(NO_PROC, 0);
        pcb.kind = Kind::Thread;
        pcb.daemon = daemon;
        if name.is_some() || !args.is_empty() || !kwargs.is_empty() {
            let cold = pcb.cold();
            cold.name = name;
            cold.args = args;
            cold.kwargs = kwargs;
        }
        let slot = self.new_slot(pcb, Hot::new(spec.program, tid, t));
        self.count_record();
        self.note_group(slot, g as u32 + 1);
        self.note_thread_no(slot, number);
        // A thread is no process: it has no row of its own in the report.
        self.proc_index[slot as usize] = NO_PROC;
        self.proc_slots.pop();
        self.groups[g].threads.push(slot);
        if !daemon {
            self.groups[g].live_non_daemon += 1;
        }
        self.created(slot, spec.attrs, Some(p));
        // `t = Thread(...)` binds a name of the creating task (a function's local).
        if let Some(h) = spec.handle {
            self.procs[p as usize].bind_handle(h, slot);
        }
        if self.log.is_some() {
            self.explain_thread_started(slot, p);
        }
        self.admit(slot);
        Ok(())
    }

    /// Whether process group `g` has a thread alive that is not a daemon.
    fn live_non_daemon(&self, g: usize) -> bool {
        self.groups[g].live_non_daemon > 0
    }

    /// The main thread `p`, on CPU `c`, has ended with `code`: it waits for the non-daemon
    /// threads (blocked, cause `join`) and the process's end resumes when they have ended.
    pub(super) fn await_threads(&mut self, p: u32, c: u32, code: i32) -> ControlFlow<Flow> {
        let Some(g) = self.group_of(p) else {
            return ControlFlow::Continue(());
        };
        if !self.live_non_daemon(g) {
            self.groups[g].shutdown = false;
            return ControlFlow::Continue(());
        }
        self.groups[g].shutdown = true;
        if self.log.is_some() {
            let live = self.groups[g].live_non_daemon;
            self.explain_await_threads(p, live);
        }
        self.procs[p as usize].set_exit_code(code);
        self.hot[p as usize].ending = true;
        self.procs[p as usize].set_wait_on(WaitOn::Threads);
        self.block(p, c, Cause::Join, 0);
        ControlFlow::Break(Flow::Left)
    }

    /// Whether main thread `p` is waiting for its threads (its end resumes in
    /// [`crate::process::end_by_itself`]).
    pub(super) fn in_shutdown(&self, p: u32) -> bool {
        self.group_of(p).is_some_and(|g| self.groups[g].shutdown)
    }

    /// Thread `p` on CPU `c` ends by itself: only it ends.
    pub(super) fn end_thread(&mut self, p: u32, c: u32) -> Flow {
        self.thread_gone(p, Some(c), Cause::Exit);
        let leader = self.leader(p);
        self.wake_joiners(leader, p);
        if let Some(g) = self.group_of(p)
            && self.groups[g].shutdown
            && self.procs[leader as usize].wait_on() == WaitOn::Threads
            && !self.live_non_daemon(g)
        {
            self.procs[leader as usize].set_wait_on(WaitOn::Nothing);
            self.wake(leader, Cause::ChildExit);
        }
        Flow::Left
    }

    /// Task `p` is terminated: it leaves its CPU (`cpu` if it runs there) or the queue, and
    /// its tid is free at once (a thread is not a zombie).
    fn thread_gone(&mut self, p: u32, cpu: Option<u32>, cause: Cause) {
        let t = self.now;
        let cpu = match cpu {
            Some(c) => {
                self.leave_cpu(p);
                Some(c)
            }
            None => self.leave_cpu(p),
        };
        self.transition(p, State::Terminated, cause, cpu);
        self.ended(p);
        let pcb = &mut self.procs[p as usize];
        pcb.ended_at = t;
        pcb.set_reaped(t);
        let tid = self.hot[p as usize].pid;
        self.pids.free(tid);
        if !self.procs[p as usize].daemon
            && let Some(g) = self.group_of(p)
        {
            self.groups[g].live_non_daemon -= 1;
        }
    }

    /// Task `p` blocks with its `wait_on` set: a join or a `wait` is noted by what it waits
    /// for (a process with 10^5 threads must not scan them all at each end).
    pub(super) fn note_join(&mut self, p: u32) {
        match self.procs[p as usize].wait_on() {
            WaitOn::Child(q) | WaitOn::ChildUntil(q, _) => self.joins.entry(q).or_default().push(p),
            WaitOn::AnyChild => {
                let leader = self.leader(p);
                self.waits.entry(leader).or_default().push(p);
            }
            WaitOn::Nothing | WaitOn::TimedOut | WaitOn::Threads | WaitOn::Lock => {}
        }
    }

    /// `ended` (a thread, or a child of process `leader`) has ended: the tasks still blocked
    /// joining it wake, and for a child those of `leader` blocked in `wait`.
    pub(super) fn wake_joiners(&mut self, leader: u32, ended: u32) {
        let mut woken = self.joins.remove(&ended).unwrap_or_default();
        if !self.is_thread(ended)
            && let Some(waiting) = self.waits.remove(&leader)
        {
            woken.extend(waiting);
        }
        for q in woken {
            if self.hot[q as usize].state == State::Blocked
                && self.procs[q as usize].wait_on().awaits(ended)
            {
                self.wake(q, Cause::ChildExit);
            }
        }
    }

    /// Process `leader` ends: its threads still alive but `except` end with it (cause
    /// `signal`, as `exit_group` kills them).
    pub(super) fn end_threads_of(&mut self, leader: u32, except: Option<u32>) {
        let Some(g) = self.group_of(leader) else {
            return;
        };
        self.groups[g].shutdown = false;
        if self.log.is_some() {
            let (mut count, mut daemons) = (0, 0);
            for &q in &self.groups[g].threads {
                if Some(q) != except && self.hot[q as usize].state != State::Terminated {
                    count += 1;
                    daemons += u32::from(self.procs[q as usize].daemon);
                }
            }
            self.explain_threads_end(leader, count, daemons);
        }
        // By index, not over a clone of the list: a process of 10^5 threads copied 400 KB
        // at its end (`thread_gone` does not change the list).
        for i in 0..self.groups[g].threads.len() {
            let q = self.groups[g].threads[i];
            if Some(q) != except && self.hot[q as usize].state != State::Terminated {
                self.thread_gone(q, None, Cause::Signal);
            }
        }
    }

    /// `_exit` in thread `p` on CPU `c`: the whole process ends with `code`.
    pub(super) fn exit_group(&mut self, p: u32, c: u32, code: i32) -> Flow {
        let leader = self.leader(p);
        self.end_threads_of(leader, Some(p));
        self.thread_gone(p, Some(c), Cause::Exit);
        let cpu = self.leave_cpu(leader);
        self.terminate(leader, cpu, Cause::Signal, code, None);
        Flow::Left
    }

    /// Whether ready task `p` may not run now: another task of its process holds the GIL.
    #[inline]
    pub(super) fn gil_bars(&self, p: u32) -> bool {
        if !self.gil_on {
            return false;
        }
        self.group_of(p).is_some_and(|g| {
            let holder = self.groups[g].gil;
            holder != NO_PROC && holder != p
        })
    }

    /// Task `p` takes a CPU: it holds its process's GIL. A sibling whose slice ended this
    /// tick, still waiting to learn whether it keeps its CPU, cannot now: its preemption is
    /// recorded first, so that the trace never shows two tasks of a process running.
    #[inline]
    pub(super) fn gil_take(&mut self, p: u32) {
        if self.gil_on
            && let Some(g) = self.group_of(p)
        {
            let last = std::mem::replace(&mut self.groups[g].slice_ended, NO_PROC);
            if last != NO_PROC && last != p && self.hot[last as usize].preempt_pending {
                self.resolve_preemption(last);
            }
            self.groups[g].gil = p;
        }
    }

    /// Ready task `p`, picked by a CPU, may not run: another task of its process holds the
    /// GIL. It is set aside, still `ready`, in its process's GIL queue.
    pub(super) fn park(&mut self, p: u32) {
        let Some(g) = self.group_of(p) else {
            return;
        };
        let hot = &self.hot[p as usize];
        // One whose slice ran out this tick is still `running` until its preemption is
        // resolved, later in this round: it became ready now.
        let since = if hot.preempt_pending {
            self.now
        } else {
            hot.since
        };
        self.groups[g].gil_queue.push(Reverse((since, hot.pid, p)));
    }

    /// Task `p` leaves its CPU: if it held its process's GIL it lets it go, and the first
    /// task of the GIL's queue (if any) rejoins the ready structure with the tick's woken
    /// ones; the others stay set aside. Only one of them could take the GIL: letting all
    /// rejoin made every release cost the process's threads (O(threads) a dispatch).
    /// Called at every slice end and block of a run with threads: the test of `gil_on`
    /// (false on one CPU) is inlined there, the release itself is not.
    #[inline(always)]
    pub(super) fn gil_release(&mut self, p: u32) {
        if self.gil_on {
            self.gil_let_go(p);
        }
    }

    /// [`Kernel::gil_release`] with the GIL on.
    #[inline(never)]
    fn gil_let_go(&mut self, p: u32) {
        let Some(g) = self.group_of(p) else {
            return;
        };
        if self.groups[g].gil != p {
            return;
        }
        self.groups[g].gil = NO_PROC;
        if self.hot[p as usize].preempt_pending {
            self.groups[g].slice_ended = p;
        }
        while let Some(Reverse((since, tid, q))) = self.groups[g].gil_queue.pop() {
            // A task whose process ended while it was set aside is terminated: skip it.
            if self.hot[q as usize].state == State::Ready {
                self.woken.push((since, tid, q));
                if self.log.is_some() {
                    self.explain_gil_let_go(p, &[q]);
                }
                return;
            }
        }
    }

    /// The report's `threads` of process `p`: the main thread first, when it has others.
    pub(super) fn thread_reports(&self, p: u32) -> Vec<ThreadReport> {
        let Some(g) = self.group_of(p) else {
            return Vec::new();
        };
        let group = &self.groups[g];
        if group.threads.is_empty() {
            return Vec::new();
        }
        std::iter::once(p)
            .chain(group.threads.iter().copied())
            .map(|q| self.thread_report(q))
            .collect()
    }

    fn thread_report(&self, q: u32) -> ThreadReport {
        let (pcb, hot) = (&self.procs[q as usize], &self.hot[q as usize]);
        let opt = |t: u64| (t != NONE).then_some(t);
        let admitted = opt(pcb.admitted_at);
        // A main thread's end is its process's, which comes after its own when the process
        // waited for its children; the task's state says when the thread stopped running.
        // A thread is created and admitted at once (`spawn_thread`).
        let created_at = if self.is_thread(q) {
            pcb.admitted_at
        } else {
            pcb.created_at()
        };
        ThreadReport {
            tid: hot.pid,
            name: self.thread_name(q),
            daemon: self.thread_daemon(q),
            created_at,
            admitted_at: admitted,
            first_run: opt(pcb.first_run),
            ended_at: opt(pcb.ended_at),
            cpu: hot.cpu,
            waiting: hot.waiting,
            blocked: pcb.blocked(hot),
            response: admitted.and_then(|a| opt(pcb.first_run).map(|f| f - a)),
            turnaround: admitted.and_then(|a| opt(pcb.ended_at).map(|e| e - a)),
            dispatches: u64::from(hot.dispatches),
            preemptions: u64::from(hot.preemptions),
        }
    }

    /// A child started by task `p` gets one thread, a copy of the caller: its name, its
    /// daemon flag, and the thread counter as the fork found it.
    pub(super) fn inherit_thread(&mut self, p: u32, child: u32) {
        let counter = self.group_of(p).map_or(0, |g| self.groups[g].counter);
        let name = if self.is_thread(p) {
            Some(Arc::from(self.thread_name(p)))
        } else {
            self.group_of(p)
                .and_then(|g| self.groups[g].main_name.clone())
        };
        let daemon = self.thread_daemon(p);
        // The fork copies the locks as they are: one held then stays held in the child, whose
        // waiters are none (the parent's threads are not copied).
        let locks: Vec<Lock> = self
            .group_of(p)
            .map(|g| self.groups[g].locks.iter().map(Lock::forked).collect())
            .unwrap_or_default();
        if counter == 0 && name.is_none() && !daemon && locks.is_empty() {
            return;
        }
        let g = self.ensure_group(child);
        let group = &mut self.groups[g];
        group.counter = counter;
        group.main_name = name;
        group.main_daemon = daemon;
        group.locks = locks;
    }
}
