//! Threads on real processes (SPEC §4a): `threading.Thread(...).start()` is a real thread of
//! the process (`std::thread`, so `clone(CLONE_THREAD)`), started only by a scenario process
//! that runs a `thread` instruction; the supervisor and the CLI never start one.
//!
//! The rules (names, the daemon flag, argument binding, the checks, Python's messages, the
//! order of a process's end) are [`crate::process`]'s and the simulated kernel's
//! (`src/sim/threads.rs`); this module keeps the process's thread table and carries them out:
//!
//! - a thread's end (its program's end, `exit`, an error) is only its own: it unparks the
//!   threads joining it, and the main thread if it was the last non-daemon thread the main
//!   thread's end waits for (`threading._shutdown`);
//! - `join` of a thread waits (the interpreter lock let go) until it has ended, or its timeout;
//! - a `threading.Lock` is the process's, from its first use: a release hands it to the first
//!   thread waiting (`lock-acquired`), else frees it; releasing it unlocked is Python's error;
//! - `_exit` in any thread is `exit_group`, and a signal ends every thread, as the kernel does;
//!   daemon threads still running when the process ends end with it (its `_exit`).

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::thread::Thread;

use super::interp::{Frame, Proc, Who};
use super::observe;
use super::protocol::{Event, Figures};
use super::th::{Ended, Th};
use crate::model::{Cause, Value};
use crate::process::PyError;
use crate::program::{NameId, SpawnOp};

/// Each thread's stack: the interpreter recurses little (a template, a value's repr).
const STACK: usize = 256 * 1024;

/// The threads of one process.
pub(crate) struct Threads {
    /// Its threads other than the main one, in creation order (a forked child keeps its
    /// parent's as stopped ones: the fork copied their `Thread` objects, not the threads).
    pub(super) list: Vec<ThreadRec>,
    /// `threading._counter`: default names made so far.
    counter: u32,
    /// The main thread's name (`None`: `MainThread`) and daemon flag: a child forked from a
    /// thread keeps the caller's.
    main_name: Option<String>,
    main_daemon: bool,
    /// The main thread, to unpark.
    main: Thread,
    /// Threads alive that are not daemons.
    live_non_daemon: u32,
    /// The process's `threading.Lock`s, each from its first use.
    locks: Vec<Lock>,
}

/// One thread of the table.
pub(super) struct ThreadRec {
    pub(super) name: String,
    daemon: bool,
    alive: bool,
    /// A thread of the process this one was forked from: stopped here (CPython's
    /// `_after_fork`), so `alive` is false and `join` returns.
    foreign: bool,
    /// Its OS thread, to unpark (set when started).
    handle: Option<Thread>,
    /// Its kernel thread id (0 until it runs).
    tid: u32,
    /// Threads blocked joining it.
    joiners: Vec<Thread>,
}

/// A `threading.Lock`: held or not (by no thread in particular: any thread may release it),
/// the threads waiting for it first come first, and those it was handed to that have not
/// woken up yet.
#[derive(Clone)]
struct Lock {
    name: NameId,
    held: bool,
    waiters: VecDeque<(Option<usize>, Thread)>,
    granted: Vec<Option<usize>>,
}

impl Threads {
    fn new() -> Threads {
        Threads {
            list: Vec::new(),
            counter: 0,
            main_name: None,
            main_daemon: false,
            main: std::thread::current(),
            live_non_daemon: 0,
            locks: Vec::new(),
        }
    }

    /// The name of thread `t` (`None`: the main thread).
    pub(super) fn name(&self, t: Option<usize>) -> String {
        match t {
            Some(i) => self.list[i].name.clone(),
            None => self
                .main_name
                .clone()
                .unwrap_or_else(|| "MainThread".to_owned()),
        }
    }

    fn daemon(&self, t: Option<usize>) -> bool {
        match t {
            Some(i) => self.list[i].daemon,
            None => self.main_daemon,
        }
    }

    /// Whether `{h.alive}` of thread `i` is true here.
    pub(super) fn alive(&self, i: usize) -> bool {
        self.list[i].alive && !self.list[i].foreign
    }

    /// Its daemon flag.
    pub(super) fn is_daemon(&self, i: usize) -> bool {
        self.list[i].daemon
    }
}

/// The process's thread table, made now if it has none.
fn table(p: &mut Proc) -> &mut Threads {
    p.threads.get_or_insert_with(|| Box::new(Threads::new()))
}

/// Notes the kernel thread id of thread `i`, when it first runs.
pub(super) fn set_tid(p: &mut Proc, i: usize, tid: u32) {
    if let Some(t) = &mut p.threads {
        t.list[i].tid = tid;
    }
}

/// `threading.current_thread().name` in `th`.
pub(super) fn current_name(th: &Th) -> String {
    match &th.pr().threads {
        Some(t) => t.name(th.f.thread),
        None => "MainThread".to_owned(),
    }
}

/// What a thread's figures are at its end, read by itself: its own schedstat, and its
/// involuntary context switches (`RUSAGE_THREAD`).
fn own_figures(th: &Th) -> Figures {
    let s = th.f.stat.read();
    // SAFETY: rusage is plain data that the kernel fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our own local.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } == 0;
    Figures {
        cpu_ns: s.cpu_ns,
        wait_ns: s.wait_ns,
        slices: s.slices,
        preempted: if ok { usage.ru_nivcsw as u64 } else { 0 },
    }
}

/// `Thread(target=..., ...).start()` in `th`.
pub(super) fn start_thread(
    th: &mut Th,
    spec: &SpawnOp,
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
) -> Result<(), PyError> {
    let caller = th.f.thread;
    let sh = th.sh;
    let p = th.p();
    let t = table(p);
    let daemon = spec.daemon.unwrap_or_else(|| t.daemon(caller));
    // `Thread.__init__` names it (an explicit name takes no number) before `start()`.
    let name = match &spec.name {
        Some(n) => n.to_string(),
        None => {
            t.counter = t.counter.saturating_add(1);
            let program = &sh.plan.programs[spec.program as usize].name;
            format!("Thread-{} ({program})", t.counter)
        }
    };
    // A thread is a task: it counts against `max_processes` as in the model.
    if !sh.slots.take() {
        return Err(PyError::ThreadStart);
    }
    let i = t.list.len();
    t.list.push(ThreadRec {
        name: name.clone(),
        daemon,
        alive: true,
        foreign: false,
        handle: None,
        tid: 0,
        joiners: Vec::new(),
    });
    let runner = Th::other(th, Frame::new(spec.program, Some(i), args, kwargs));
    let spawned = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || runner.run_thread());
    let p = th.p();
    let Some(t) = p.threads.as_mut() else {
        return Err(PyError::ThreadStart);
    };
    match spawned {
        Ok(handle) => {
            t.list[i].handle = Some(handle.thread().clone());
            if !daemon {
                t.live_non_daemon += 1;
            }
        }
        Err(_) => {
            t.list.pop();
            sh.slots.give_back(1);
            return Err(PyError::ThreadStart);
        }
    }
    p.send(Event::Thread {
        key: p.key.clone(),
        thread: i as u32,
        name,
        daemon,
        t: sh.now_us(),
    });
    if let Some(h) = spec.handle {
        crate::process::Host::bind_handle(th, h, Who::Thread(i));
    }
    Ok(())
}

/// `join(timeout)` of thread `i` (its checks passed): waits until it has ended, or at most
/// `timeout` ticks (0: not at all; the wait then ends with cause `timeout`).
pub(super) fn join_thread(th: &mut Th, i: usize, timeout: Option<u64>) {
    let ended = |th: &Th| th.pr().threads.as_ref().is_none_or(|t| !t.alive(i));
    if ended(th) || timeout == Some(0) {
        return;
    }
    let deadline =
        timeout.map(|n| observe::mono_ns().saturating_add(n.saturating_mul(th.sh.tick_ns)));
    let before = th.block(Cause::Join);
    let me = std::thread::current();
    if let Some(t) = th.p().threads.as_mut() {
        t.list[i].joiners.push(me);
    }
    let (done, woke) = th.wait_for(deadline, |th| ended(th));
    let cause = if done {
        Cause::ChildExit
    } else {
        Cause::Timeout
    };
    th.wake(cause, before, Some(woke));
}

/// The main thread has ended with `code`: it waits, blocked (cause `join`), until the
/// process's non-daemon threads have ended (`threading._shutdown`).
pub(super) fn await_threads(th: &mut Th) -> ControlFlow<Ended> {
    let left = |th: &Th| th.pr().threads.as_ref().map_or(0, |t| t.live_non_daemon);
    if left(th) == 0 {
        return ControlFlow::Continue(());
    }
    let before = th.block(Cause::Join);
    let (_, woke) = th.wait_for(None, |th| left(th) == 0);
    th.wake(Cause::ChildExit, before, Some(woke));
    ControlFlow::Continue(())
}

/// A thread other than the main one ends by itself: only it ends. Its figures go with it.
pub(super) fn end_thread(th: &mut Th) -> Ended {
    let Some(i) = th.f.thread else {
        return Ended;
    };
    let figures = own_figures(th);
    let t = th.sh.now_us();
    let p = th.p();
    p.send(Event::ThreadEnd {
        key: p.key.clone(),
        thread: i as u32,
        t,
        figures: Some(figures),
    });
    if let Some(tt) = p.threads.as_mut() {
        let rec = &mut tt.list[i];
        rec.alive = false;
        for j in rec.joiners.drain(..) {
            j.unpark();
        }
        if !rec.daemon {
            tt.live_non_daemon -= 1;
            if tt.live_non_daemon == 0 {
                tt.main.unpark();
            }
        }
    }
    // Its slot comes back when the supervisor sees this end (`slots::ThreadSlots`).
    Ended
}

/// The process ends (its `_exit` follows, `exit_group`): the thread `th` that ends it reports
/// its own end if it is not the main thread, and the figures the kernel counted so far for
/// each other thread still alive, which ends with the process.
pub(super) fn exit_group(th: &mut Th) {
    let me = th.f.thread;
    let p = th.p();
    if let Some(t) = &p.threads {
        for (i, rec) in t.list.iter().enumerate() {
            if Some(i) == me || !rec.alive || rec.foreign || rec.tid == 0 {
                continue;
            }
            if let Some(figures) = observe::task_figures(rec.tid) {
                p.send(Event::ThreadFigures {
                    key: p.key.clone(),
                    thread: i as u32,
                    figures,
                });
            }
        }
    }
    if let Some(i) = th.f.thread {
        let figures = own_figures(th);
        let t = th.sh.now_us();
        let p = th.p();
        p.send(Event::ThreadEnd {
            key: p.key.clone(),
            thread: i as u32,
            t,
            figures: Some(figures),
        });
    }
}

/// `L.acquire()` (the instruction passed): takes the lock if free, else waits, blocked
/// (cause `lock`), at the end of its waiters, until a release hands it over.
pub(super) fn acquire(th: &mut Th, name: NameId) {
    let me = th.f.thread;
    let handle = std::thread::current();
    let t = table(th.p());
    let i = match t.locks.iter().position(|l| l.name == name) {
        Some(i) => i,
        None => {
            t.locks.push(Lock {
                name,
                held: false,
                waiters: VecDeque::new(),
                granted: Vec::new(),
            });
            t.locks.len() - 1
        }
    };
    let lock = &mut t.locks[i];
    if !lock.held {
        lock.held = true;
        return;
    }
    lock.waiters.push_back((me, handle));
    let before = th.block(Cause::Lock);
    let (_, woke) = th.wait_for(None, |th| {
        let Some(t) = th.p().threads.as_mut() else {
            return false;
        };
        let granted = &mut t.locks[i].granted;
        match granted.iter().position(|g| *g == me) {
            Some(k) => {
                granted.swap_remove(k);
                true
            }
            None => false,
        }
    });
    th.wake(Cause::LockAcquired, before, Some(woke));
}

/// `L.release()`: to the first waiter, else the lock is free; releasing a lock that is not
/// held is Python's `RuntimeError: release unlocked lock`.
pub(super) fn release(th: &mut Th, name: NameId) -> Result<(), PyError> {
    let Some(t) = th.p().threads.as_mut() else {
        return Err(PyError::ReleaseUnlocked);
    };
    let Some(lock) = t.locks.iter_mut().find(|l| l.name == name) else {
        return Err(PyError::ReleaseUnlocked);
    };
    if !lock.held {
        return Err(PyError::ReleaseUnlocked);
    }
    match lock.waiters.pop_front() {
        Some((who, handle)) => {
            lock.granted.push(who);
            handle.unpark();
        }
        None => lock.held = false,
    }
    Ok(())
}

/// In the child of a fork made by thread `caller` of `p`: one thread, a copy of the caller
/// (its name, its daemon flag), with the thread counter and the locks as the fork found
/// them (a held lock stays held; its waiters were the parent's threads); the parent's other
/// threads are stopped `Thread` objects here.
pub(super) fn after_fork(p: &mut Proc, caller: Option<usize>) {
    let Some(old) = p.threads.take() else {
        return;
    };
    let mut t = Threads::new();
    t.main_name = Some(old.name(caller)).filter(|_| caller.is_some() || old.main_name.is_some());
    t.main_daemon = old.daemon(caller);
    t.counter = old.counter;
    t.locks = old
        .locks
        .iter()
        .map(|l| Lock {
            name: l.name,
            held: l.held,
            waiters: VecDeque::new(),
            granted: Vec::new(),
        })
        .collect();
    t.list = old
        .list
        .into_iter()
        .map(|r| ThreadRec {
            foreign: true,
            alive: false,
            handle: None,
            joiners: Vec::new(),
            ..r
        })
        .collect();
    if let Some(name) = &t.main_name {
        p.send(Event::MainThread {
            key: p.key.clone(),
            name: name.clone(),
            daemon: t.main_daemon,
        });
    }
    p.threads = Some(Box::new(t));
}
