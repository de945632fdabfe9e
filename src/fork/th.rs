//! One flow of control of a real process: its main thread, or a thread it started (SPEC §4a),
//! each a real thread of the process.
//!
//! What the threads of a process share (globals, objects, handles, children, locks, the event
//! queue: [`Proc`]) sits in a [`Cell`] behind the process's *interpreter lock* ([`Ilock`]); what
//! belongs to one flow of control (program counter, loops, parameters, its own schedstat) is
//! its [`Frame`], owned by its [`Th`]. A thread holds the interpreter lock while it runs
//! instructions that take no model time, which the model runs atomically, and lets it go
//! around everything that takes time: a sleep, a wait for a child, a thread or a lock, and a
//! `cpu` burst when `kernel.gil` is off. With `kernel.gil` on the lock is also the GIL: a burst
//! keeps it, and hands it to the first thread waiting for it at each switch interval (the
//! model's slice end: `kernel.quantum` ticks of CPU time), as CPython's GIL passes at its
//! switch interval. The lock is handed over first come, first served, as the model's ready
//! queue serves them; a thread waiting for it is `ready`.
//!
//! A process that never starts a thread never lets the lock go: nothing else could take it.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{Thread, ThreadId};
use std::time::Duration;

use nix::unistd::getpid;

use super::interp::{Frame, Proc, Shared, abandon};
use super::observe::{self, SchedStat};
use super::protocol::Event;
use crate::model::{Cause, State, Value};
use crate::process::{self, Limit, bind};
use crate::program::CExpr;

/// A thread that ended (the process goes on); a process's own end never returns (`_exit`).
#[derive(Debug)]
pub struct Ended;

/// A process's shared state and its interpreter lock.
pub(super) struct Cell {
    proc: UnsafeCell<Proc>,
    lock: Ilock,
}

// SAFETY: the `Proc` inside is reached only through `Th::p`/`Th::pr`, by the one thread that
// holds the interpreter lock (`Th::held`), so no two threads ever touch it at once; the lock
// itself is a `Mutex` and atomics.
unsafe impl Sync for Cell {}

/// Memory for a forked child's [`Cell`] (see [`Proc::spare`]).
pub(super) struct Spare(Box<std::mem::MaybeUninit<Cell>>);

impl Spare {
    pub(super) fn new() -> Spare {
        Spare(Box::new_uninit())
    }
}

/// The interpreter lock: handed over first come, first served (a `std` mutex is not fair:
/// a thread that lets it go at its switch interval would take it straight back).
pub(super) struct Ilock {
    state: Mutex<IState>,
    /// Threads queued for it (read without the mutex at each switch interval).
    waiting: AtomicUsize,
}

struct IState {
    held: bool,
    queue: VecDeque<(ThreadId, Thread)>,
    /// Threads it was handed to that have not woken up to take it yet.
    granted: Vec<ThreadId>,
}

impl Ilock {
    fn new_held() -> Ilock {
        Ilock {
            state: Mutex::new(IState {
                held: true,
                queue: VecDeque::new(),
                granted: Vec::new(),
            }),
            waiting: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, IState> {
        // No code under this mutex panics; a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the lock, waiting in line for it; whether it had to wait.
    fn lock(&self, sh: &Shared) -> bool {
        let me = std::thread::current();
        let id = me.id();
        let mut s = self.state();
        if !s.held {
            s.held = true;
            return false;
        }
        s.queue.push_back((id, me));
        self.waiting.fetch_add(1, Ordering::SeqCst);
        loop {
            drop(s);
            park(sh, None);
            s = self.state();
            if let Some(i) = s.granted.iter().position(|g| *g == id) {
                s.granted.swap_remove(i);
                return true;
            }
        }
    }

    /// Lets the lock go: to the first thread in line, else free.
    fn unlock(&self) {
        let mut s = self.state();
        match s.queue.pop_front() {
            Some((id, t)) => {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                s.granted.push(id);
                t.unpark();
            }
            None => s.held = false,
        }
    }
}

/// Parks the calling thread until it is unparked or `deadline` (monotonic ns) passes. With a
/// lifeline (subreaper mode) it looks at it every 10 ms and leaves the process if it broke.
pub(super) fn park(sh: &Shared, deadline: Option<u64>) {
    let left = deadline.map(|d| d.saturating_sub(observe::mono_ns()));
    let cap = sh.lifeline.as_ref().map(|_| 10_000_000u64);
    match (left, cap) {
        (None, None) => std::thread::park(),
        (Some(a), Some(b)) => std::thread::park_timeout(Duration::from_nanos(a.min(b))),
        (Some(n), None) | (None, Some(n)) => std::thread::park_timeout(Duration::from_nanos(n)),
    }
    if sh.lifeline.as_ref().is_some_and(observe::signalled) {
        abandon();
    }
}

/// A flow of control of a process, and whether it holds its process's interpreter lock.
pub(super) struct Th {
    cell: &'static Cell,
    held: bool,
    pub(super) sh: &'static Shared,
    pub(super) f: Frame,
}

impl Th {
    /// The main thread of a process that starts now (a top-level process, or a forked
    /// child): it holds the lock of a cell of its own.
    pub(super) fn first(p: Proc, f: Frame) -> Th {
        let sh = p.sh;
        // Lives as long as the process: its threads hold on to it.
        let cell: &'static Cell = Box::leak(Box::new(Cell {
            proc: UnsafeCell::new(p),
            lock: Ilock::new_held(),
        }));
        Th {
            cell,
            held: true,
            sh,
            f,
        }
    }

    /// [`Th::first`] in a forked child, in the memory its parent set aside for it
    /// ([`Proc::spare`], which the parent allocated before the fork and never writes again),
    /// so that a child allocates nothing to start: its first `malloc` would fault in the
    /// allocator's code and write its state and a heap page, each a page fault of its own.
    pub(super) fn first_in(spare: Spare, p: Proc, f: Frame) -> Th {
        let sh = p.sh;
        // Lives as long as the process, as in `first`.
        let cell: &'static Cell = Box::leak(spare.0).write(Cell {
            proc: UnsafeCell::new(p),
            lock: Ilock::new_held(),
        });
        Th {
            cell,
            held: true,
            sh,
            f,
        }
    }

    /// A new thread of the process of `of`; it takes the lock when it runs.
    pub(super) fn other(of: &Th, f: Frame) -> Th {
        Th {
            cell: of.cell,
            held: false,
            sh: of.sh,
            f,
        }
    }

    /// The process's shared state (the caller holds the interpreter lock).
    pub(super) fn p(&mut self) -> &mut Proc {
        debug_assert!(self.held, "the interpreter lock is not held");
        // SAFETY: this thread holds the interpreter lock (`held`), so no other thread reaches
        // the `Proc` until it lets the lock go, and the `&mut self` borrow ends before that.
        unsafe { &mut *self.cell.proc.get() }
    }

    /// The process's shared state, to read (the caller holds the interpreter lock).
    pub(super) fn pr(&self) -> &Proc {
        debug_assert!(self.held, "the interpreter lock is not held");
        // SAFETY: as in `p`: the lock is held, and no `&mut` from `p` outlives its borrow.
        unsafe { &*self.cell.proc.get() }
    }

    /// The shared state and this flow's frame at once.
    pub(super) fn parts(&mut self) -> (&mut Proc, &mut Frame) {
        debug_assert!(self.held, "the interpreter lock is not held");
        // SAFETY: as in `p`; the frame is this `Th`'s own, not part of the cell.
        (unsafe { &mut *self.cell.proc.get() }, &mut self.f)
    }

    /// The forked child's copy of the shared state, taken out of the cell: nothing in the
    /// child uses this cell again (its other threads do not exist there, and this `Th` never
    /// runs again: the child runs a `Th` of its own, which never returns).
    pub(super) fn take_for_child(&mut self) -> Proc {
        // SAFETY: the cell is leaked (never dropped), and in this process (the child of a
        // fork) nothing reads it after this: the bitwise copy becomes the only owner.
        unsafe { std::ptr::read(self.cell.proc.get()) }
    }

    /// Whether the process has other threads that may need the lock.
    pub(super) fn threaded(&self) -> bool {
        self.pr().threads.is_some()
    }

    /// Lets the interpreter lock go (its queued events sent first), if any other thread may
    /// need it; whether it did.
    pub(super) fn unlock(&mut self) -> bool {
        if !self.threaded() {
            return false;
        }
        self.p().flush();
        self.held = false;
        self.cell.lock.unlock();
        true
    }

    /// Takes the interpreter lock again (waiting in line, `ready`); whether it had to wait.
    pub(super) fn relock(&mut self) -> bool {
        let waited = self.cell.lock.lock(self.sh);
        self.held = true;
        waited
    }

    /// Whether another thread waits for the interpreter lock.
    pub(super) fn contended(&self) -> bool {
        self.cell.lock.waiting.load(Ordering::SeqCst) > 0
    }

    // ---- running -----------------------------------------------------------------------

    /// Runs the main thread's program from the top. Never returns: the process ends in
    /// `_exit`.
    pub(super) fn run(mut self) -> ! {
        let t = self.sh.now_us();
        let p = self.p();
        // A forked child has just read its pid (`become_child`): one system call less.
        let pid =
            p.me.and_then(|k| p.kids[k].pid)
                .unwrap_or_else(|| getpid().as_raw() as u32);
        p.send(Event::Run {
            key: p.key.clone(),
            pid,
            t_admit: p.t_admit,
            t,
        });
        let Ended = self.exec();
        // A main thread ends only through `terminate`, which does not return.
        abandon()
    }

    /// Runs a thread's program (in the OS thread started for it), then lets the lock go.
    pub(super) fn run_thread(mut self) {
        self.relock();
        let t = self.sh.now_us();
        let tid = nix::unistd::gettid().as_raw() as u32;
        if let Some(i) = self.f.thread {
            super::threads::set_tid(self.p(), i, tid);
            let p = self.pr();
            if let Some(tt) = &p.threads {
                super::interp::set_comm(&tt.list[i].name);
            }
            p.send(Event::ThreadRun {
                key: p.key.clone(),
                thread: i as u32,
                tid,
                t,
            });
        }
        let Ended = self.exec();
        self.p().flush();
        self.held = false;
        self.cell.lock.unlock();
    }

    fn exec(&mut self) -> Ended {
        // Borrowed for as long as the process lives, not cloned: a clone would write the
        // `Arc`'s count, copying its page in every forked child.
        let sh: &'static Shared = self.sh;
        let plan: &'static crate::program::Plan = &sh.plan;
        let code = &plan.programs[self.f.program as usize];
        let (args, kwargs) = self.f.pending.take().unwrap_or_default();
        // A fast path, exact where it applies: a program without parameters called without
        // arguments binds nothing (`bind` would return an empty list). It spares every such
        // forked child `bind`'s code pages.
        if !(code.params.is_empty() && args.is_empty() && kwargs.is_empty()) {
            match bind(code, args, kwargs) {
                Ok(params) => self.f.params = params,
                Err(e) => return process::fail(self, e),
            }
        }
        let max_steps = plan.kernel.max_steps;
        loop {
            let p = self.p();
            p.steps += 1;
            if p.steps > max_steps {
                let limit = Limit::MaxSteps {
                    at: format!("in {}", p.name),
                    max: max_steps,
                };
                p.limit(limit.to_string());
            }
            let Some(op) = code.ops.get(self.f.pc) else {
                return process::end_by_itself(self, 0);
            };
            match process::step(self, op) {
                Ok(ControlFlow::Continue(())) => {}
                Ok(ControlFlow::Break(ended)) => return ended,
                Err(e) => return process::fail(self, e),
            }
            if let Some(l) = &self.sh.lifeline
                && observe::signalled(l)
            {
                abandon();
            }
        }
    }

    // ---- values ------------------------------------------------------------------------

    pub(super) fn eval(&mut self, e: &CExpr) -> Value {
        match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Param(i) => self
                .f
                .params
                .get(*i as usize)
                .cloned()
                .unwrap_or(Value::None),
            CExpr::Global(g) => self.pr().globals[*g as usize].clone(),
            CExpr::Uniform(lo, hi) => Value::Int(self.p().rng.uniform(*lo, *hi)),
            CExpr::Counter(k) => self
                .f
                .counters
                .get(*k as usize)
                .map_or(Value::None, |i| Value::Int(*i as i64)),
        }
    }

    // ---- states ------------------------------------------------------------------------

    /// `running → blocked`; returns the schedstat to compare with after the wake-up.
    pub(super) fn block(&mut self, cause: Cause) -> SchedStat {
        let t = self.sh.now_us();
        let thread = self.f.thread;
        let p = self.p();
        p.trans(thread, t, State::Blocked, cause);
        p.flush();
        self.f.stat.read()
    }

    /// `blocked → ready → running` after a wake-up: the run-queue delay that grew meanwhile
    /// is the time spent `ready` (and, for a thread, the wait for the interpreter lock after
    /// `woke`, the monotonic time it was woken).
    pub(super) fn wake(&mut self, cause: Cause, before: SchedStat, woke: Option<u64>) {
        let now = observe::mono_ns();
        let waited = self.f.stat.read().wait_ns.saturating_sub(before.wait_ns);
        let ready = match woke {
            Some(w) => w.min(now).saturating_sub(waited),
            None => now.saturating_sub(waited),
        };
        let ev = Event::Resume {
            key: self.pr().key.clone(),
            thread: self.f.thread.map(|i| i as u32),
            t_ready: self.sh.us_of(ready),
            t: self.sh.us_of(now),
            cause,
        };
        self.pr().send(ev);
    }

    /// `running → ready → running`: it lost its CPU (or the GIL) from `off` to `back`
    /// (monotonic ns).
    fn preempted(&mut self, off: u64, back: u64) {
        let ev = Event::Resume {
            key: self.pr().key.clone(),
            thread: self.f.thread.map(|i| i as u32),
            t_ready: self.sh.us_of(off),
            t: self.sh.us_of(back),
            cause: Cause::Preempt,
        };
        let p = self.pr();
        p.send(ev);
        p.flush();
    }

    // ---- time --------------------------------------------------------------------------

    /// A `cpu` burst of `n` ticks of this thread's own CPU time.
    pub(super) fn burn(&mut self, n: u64) {
        let ns = n.saturating_mul(self.sh.tick_ns);
        self.p().flush();
        let sh = self.sh;
        let stop = || sh.lifeline.as_ref().is_some_and(observe::signalled);
        if !self.threaded() {
            let (p, f) = self.parts();
            let p = &*p;
            let finished = observe::burn(
                ns,
                &f.stat,
                |off, back| {
                    p.send(Event::Resume {
                        key: p.key.clone(),
                        thread: None,
                        t_ready: sh.us_of(off),
                        t: sh.us_of(back),
                        cause: Cause::Preempt,
                    });
                    p.flush();
                },
                stop,
            );
            if !finished {
                abandon();
            }
            return;
        }
        let mut lost = Vec::new();
        if !sh.plan.kernel.gil {
            // Without the GIL the burst runs beside the process's other threads.
            self.unlock();
            let finished = observe::burn(ns, &self.f.stat, |a, b| lost.push((a, b)), stop);
            let off = observe::mono_ns();
            if self.relock() {
                lost.push((off, observe::mono_ns()));
            }
            if !finished {
                abandon();
            }
        } else {
            // The GIL: the burst keeps the lock, and lets a waiting thread have it at each
            // switch interval.
            let interval = sh.plan.kernel.quantum.max(1).saturating_mul(sh.tick_ns);
            let mut left = ns;
            while left > 0 {
                let chunk = left.min(interval);
                if !observe::burn(chunk, &self.f.stat, |a, b| lost.push((a, b)), stop) {
                    abandon();
                }
                left -= chunk;
                if left > 0 && self.contended() {
                    for (a, b) in std::mem::take(&mut lost) {
                        self.preempted(a, b);
                    }
                    let off = observe::mono_ns();
                    self.unlock();
                    self.relock();
                    lost.push((off, observe::mono_ns()));
                }
            }
        }
        for (a, b) in lost {
            self.preempted(a, b);
        }
    }

    /// `io`/`sleep` for `n` ticks.
    pub(super) fn block_for(&mut self, cause: Cause, n: u64) {
        let before = self.block(cause);
        let deadline = observe::mono_ns().saturating_add(n.saturating_mul(self.sh.tick_ns));
        let unlocked = self.unlock();
        if !observe::sleep_until(deadline, self.sh.lifeline.as_ref()) {
            abandon();
        }
        let woke = observe::mono_ns();
        if unlocked {
            self.relock();
        }
        let done = if cause == Cause::Io {
            Cause::IoDone
        } else {
            Cause::Wake
        };
        self.wake(done, before, Some(woke));
    }

    /// Waits, the interpreter lock let go, until `done` (asked with the lock held, first
    /// before any wait) says so, or `deadline` (monotonic ns) passes. Returns whether `done`
    /// said so, and when the last wait ended. Whoever makes `done` true unparks this thread.
    pub(super) fn wait_for(
        &mut self,
        deadline: Option<u64>,
        mut done: impl FnMut(&mut Th) -> bool,
    ) -> (bool, u64) {
        let mut woke = observe::mono_ns();
        loop {
            if done(self) {
                return (true, woke);
            }
            if deadline.is_some_and(|d| observe::mono_ns() >= d) {
                return (false, woke);
            }
            let unlocked = self.unlock();
            park(self.sh, deadline);
            woke = observe::mono_ns();
            if unlocked {
                self.relock();
            }
        }
    }
}
