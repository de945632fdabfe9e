//! The interpreter each real process of a run executes for its own program, and the process
//! API on real processes: `start` is `fork()`, `join` waits on a pidfd, `kill`/`terminate` are
//! `pidfd_send_signal`, `cpu` burns CPU time and `io`/`sleep` really sleep.
//!
//! Every process reports what it does as [`Event`]s at its instruction boundaries: its state
//! changes (with the ready/running split read from schedstat, see [`super::observe`]), each
//! output line, each change to a global. A process ends only through `_exit`, after it sent
//! its last event, so nothing buffered is lost or written twice by a later fork.
//!
//! The rules (the checks, argument binding, Python's error messages, the exit sequence) are
//! the simulated kernel's: both call [`crate::process`]; this backend supplies the mechanism
//! ([`Host`] in `host.rs`, the process API's real side in `lifecycle.rs`).

use std::os::fd::OwnedFd;
use std::sync::Arc;

use super::channel::Sender;
use super::few::Few;
use super::observe::{self, SelfStat};
use super::policy::{Held, RealSched};
use super::protocol::{Event, Key, Status};
use super::slots::Slots;
use crate::model::{Cause, State, Value};
use crate::process::{self, Object};
use crate::program::{NameId, Plan, ProgramId};
use crate::sim::rng::SeededRng;

/// What every process of a run shares: set up by the supervisor, copied by each fork.
pub struct Shared {
    /// The scenario.
    pub plan: Arc<Plan>,
    /// Where events go.
    pub tx: Sender,
    /// The `max_processes` counter.
    pub slots: Slots,
    /// The run's time zero (monotonic nanoseconds).
    pub epoch_ns: u64,
    /// Nanoseconds a tick stands for.
    pub tick_ns: u64,
    /// Subreaper mode: the read end of the lifeline pipe, which reports a hang-up when the
    /// supervisor is gone.
    pub lifeline: Option<OwnedFd>,
    /// Subreaper mode: the supervisor's pid, which stands for init (`{ppid}` prints 1).
    pub init_pid: Option<u32>,
    /// The real policy each process takes for the scenario's (see [`super::policy`]).
    pub sched: Arc<RealSched>,
}

// SAFETY: the threads of a process share its `Shared` (SPEC §4a). All of it but the event
// sender is read-only after the setup or atomic (the `max_processes` counter); the sender's
// buffer is used only by `Proc::flush`, which a thread calls holding its process's
// interpreter lock (see `th.rs`), so never by two threads at once.
unsafe impl Sync for Shared {}

/// A top-level process as the supervisor forks it.
pub struct TopLevelStart {
    /// Its key.
    pub key: Key,
    /// Its name.
    pub name: String,
    /// Its program.
    pub program: ProgramId,
    /// Its positional arguments.
    pub args: Vec<Value>,
    /// Its keyword arguments.
    pub kwargs: Vec<(Arc<str>, Value)>,
    /// When it arrives, µs after the run's epoch.
    pub arrival_us: u64,
    /// Its copy of the seeded generator.
    pub rng: SeededRng,
    /// Its scheduling priority (SPEC section 3a; default 0).
    pub priority: i64,
    /// Its nice value (default 0).
    pub nice: i64,
    /// The policy and nice value it took right after the fork.
    pub held: Held,
    /// What the kernel refused it then, to report.
    pub refused: Vec<String>,
}

impl Shared {
    /// Microseconds since the run's epoch.
    pub fn now_us(&self) -> u64 {
        observe::mono_ns().saturating_sub(self.epoch_ns) / 1000
    }

    pub(super) fn us_of(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_sub(self.epoch_ns) / 1000
    }
}

/// What a process knows about a process a handle names.
pub(super) struct Kid {
    /// Its key and name, leaked (see [`leaked`]): the child takes them as its own, and the
    /// events about it borrow them, with no allocation.
    pub(super) key: Key,
    pub(super) name: Key,
    pub(super) program: ProgramId,
    pub(super) daemon: bool,
    pub(super) identity: Vec<u32>,
    pub(super) started: bool,
    pub(super) args: Vec<Value>,
    pub(super) kwargs: Vec<(Arc<str>, Value)>,
    pub(super) pid: Option<u32>,
    pub(super) pidfd: Option<OwnedFd>,
    /// Its scheduling attributes: what its `spawn` gave, else its creator's.
    pub(super) priority: i64,
    pub(super) nice: i64,
    /// Its exit code once reaped.
    pub(super) exitcode: Option<i64>,
    pub(super) reaped: bool,
}

/// What a handle names in a real process: one of its children (an index in `kids`) or one of
/// its threads (an index in its thread table, see [`super::threads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    /// A `Process` (spawned, forked, or the one `wait` returned).
    Kid(usize),
    /// A `Thread`.
    Thread(usize),
}

/// The state of one running process of the scenario: what its threads share (SPEC §4a). Its
/// threads reach it through [`super::threads::Th`], one at a time, under the process's
/// interpreter lock; what belongs to one flow of control is each thread's [`Frame`].
pub struct Proc {
    pub(super) sh: &'static Shared,
    /// Its key and name, leaked (see [`leaked`]).
    pub(super) key: Key,
    pub(super) name: Key,
    pub(super) program: ProgramId,
    pub(super) daemon: bool,
    pub(super) identity: Vec<u32>,
    pub(super) spawned: u32,
    pub(super) globals: Vec<Value>,
    pub(super) objects: Vec<Object>,
    pub(super) handles: Vec<(NameId, Who)>,
    pub(super) kids: Vec<Kid>,
    /// The entry in `kids` that is this process itself (a handle inherited from the parent).
    pub(super) me: Option<usize>,
    /// `kids[..first_own]` came with the fork (they name the parent's children, not ours).
    /// An index rather than a flag in each entry: writing every inherited entry would copy
    /// every page of them, a cost that grows with the number of children a parent made.
    pub(super) first_own: usize,
    /// Own children started and not reaped yet, in creation order, and own children not
    /// started yet: kept apart so that nothing a process does costs more the more children
    /// it has made before (a fork copies the list of every one of them).
    /// Both inline while they are short: see [`Few`].
    pub(super) live: Few<usize, 8>,
    pub(super) unstarted: Few<usize, 8>,
    pub(super) rng: SeededRng,
    /// Its scheduling attributes (SPEC section 3a), and what it really holds.
    pub(super) priority: i64,
    pub(super) nice: i64,
    pub(super) held: Held,
    /// Instructions run by all its threads (`kernel.max_steps`).
    pub(super) steps: u64,
    pub(super) t_admit: u64,
    /// Its threads, from its first `thread`, lock or fork from a thread (`None`: one thread).
    pub(super) threads: Option<Box<super::threads::Threads>>,
    /// Events not sent yet. A process sends what it has queued in one datagram wherever
    /// time can pass (before a fork, a CPU burst, a sleep or wait, its exit): between two
    /// such points it runs only instructions that take no time in the model, so a kill
    /// cannot land between them there, and one datagram instead of one an event is most of
    /// a fork's reporting cost.
    pub(super) queue: std::cell::RefCell<Vec<Event>>,
    /// The memory the next child forked from this process keeps its state in (its
    /// `th::Cell`), allocated before the first fork and kept: the child writes its copy of
    /// it, the parent never touches it again, so a child need not `malloc` it (see
    /// [`super::th::Th::first_in`]).
    pub(super) spare: Option<super::th::Spare>,
}

/// What belongs to one flow of control of a process (its main thread, or another thread).
pub(super) struct Frame {
    /// The program it runs.
    pub(super) program: ProgramId,
    /// `None` for the main thread, else its index in the process's thread table.
    pub(super) thread: Option<usize>,
    pub(super) pc: usize,
    pub(super) loops: Loops,
    /// The counts of the enclosing named `repeat`s, outermost first.
    pub(super) counters: Vec<u64>,
    pub(super) params: Vec<Value>,
    pub(super) pending: Option<(Vec<Value>, Kwargs)>,
    /// A thread's own handle names (a function's locals, SPEC §4a); a main thread's are its
    /// process's ([`Proc::handle`]).
    pub(super) handles: Vec<(NameId, Who)>,
    /// This thread's own schedstat (`/proc/thread-self/schedstat`).
    pub(super) stat: SelfStat,
}

impl Frame {
    /// A flow of control about to run `program` with these arguments.
    pub(super) fn new(
        program: ProgramId,
        thread: Option<usize>,
        args: Vec<Value>,
        kwargs: Kwargs,
    ) -> Frame {
        Frame {
            program,
            thread,
            pc: 0,
            loops: Loops::default(),
            counters: Vec::new(),
            params: Vec::new(),
            pending: Some((args, kwargs)),
            handles: Vec::new(),
            stat: SelfStat::lazy(),
        }
    }
}

/// The iterations left of the enclosing `repeat`s, innermost last. The innermost few are
/// kept in the frame itself, not on the heap: a loop that forks writes its count after every
/// fork, and a count on the heap would copy one more heap page each time (the frame is on
/// the stack, whose page the fork's own call has copied already).
#[derive(Debug, Default)]
pub(super) struct Loops {
    near: [u64; Loops::NEAR],
    len: usize,
    /// The outer levels past `NEAR` (a program nests as deep as it is written).
    far: Vec<u64>,
}

impl Loops {
    const NEAR: usize = 4;

    /// Enters a loop of `n` iterations.
    pub(super) fn push(&mut self, n: u64) {
        if self.len < Loops::NEAR {
            self.near[self.len] = n;
        } else {
            self.far.push(n);
        }
        self.len += 1;
    }

    /// The innermost loop's iterations left.
    pub(super) fn last_mut(&mut self) -> Option<&mut u64> {
        match self.len {
            0 => None,
            n if n <= Loops::NEAR => Some(&mut self.near[n - 1]),
            _ => self.far.last_mut(),
        }
    }

    /// Leaves the innermost loop.
    pub(super) fn pop(&mut self) {
        if self.len > Loops::NEAR {
            self.far.pop();
        }
        self.len = self.len.saturating_sub(1);
    }
}

/// Keyword arguments, in the order written.
pub(super) type Kwargs = Vec<(Arc<str>, Value)>;

impl Proc {
    /// Runs a top-level process in the child the supervisor just forked (which has taken its
    /// scheduling policy already): waits for its arrival, then runs its program. Never
    /// returns.
    pub fn run_top_level(sh: Shared, start: TopLevelStart) -> ! {
        let TopLevelStart {
            key,
            name,
            program,
            args,
            kwargs,
            arrival_us,
            rng,
            priority,
            nice,
            held,
            refused,
        } = start;
        set_comm(&name);
        // Lives as long as the process: its threads and its forked children hold on to it.
        let sh: &'static Shared = Box::leak(Box::new(sh));
        let globals = sh.plan.globals.iter().map(|(_, v)| v.clone()).collect();
        let deadline = sh.epoch_ns + arrival_us * 1000;
        let p = Proc {
            key: leaked(key),
            name: leaked(name.into()),
            program,
            daemon: false,
            identity: Vec::new(),
            spawned: 0,
            globals,
            objects: Vec::new(),
            handles: Vec::new(),
            kids: Vec::new(),
            me: None,
            first_own: 0,
            live: Few::default(),
            unstarted: Few::default(),
            rng,
            priority,
            nice,
            held,
            steps: 0,
            t_admit: arrival_us,
            threads: None,
            queue: std::cell::RefCell::new(Vec::with_capacity(64)),
            spare: None,
            sh,
        };
        for message in refused {
            p.send(Event::Refused {
                key: p.key.clone(),
                message,
            });
        }
        if !observe::sleep_until(deadline, p.sh.lifeline.as_ref()) {
            p.abandon();
        }
        let frame = Frame::new(program, None, args, kwargs);
        super::th::Th::first(p, frame).run()
    }

    // ---- values ------------------------------------------------------------------------

    pub(super) fn not_defined(&self, name: NameId) -> process::PyError {
        process::PyError::NotDefined(Arc::clone(&self.sh.plan.names[name as usize]))
    }

    // ---- reporting ---------------------------------------------------------------------

    /// Queues an event (see [`Proc::flush`]).
    pub(super) fn send(&self, e: Event) {
        let full = {
            let mut q = self.queue.borrow_mut();
            q.push(e);
            q.len() >= 64
        };
        if full {
            self.flush();
        }
    }

    /// Sends the queued events, in one datagram. The queue keeps its allocation: every page
    /// a process writes between two forks is copied again after the next one, so the hot
    /// path reuses its buffers rather than allocating new ones.
    pub(super) fn flush(&self) {
        let mut q = self.queue.borrow_mut();
        if q.is_empty() {
            return;
        }
        let sent = self.sh.tx.send_all(&q);
        q.clear();
        drop(q);
        if sent.is_err() {
            // The supervisor is gone: nobody is left to report to, and nothing may outlive
            // the run.
            self.abandon();
        }
    }

    /// The last [`Proc::flush`], right before `_exit`: the events sent are not dropped, as
    /// freeing them would write into heap pages (copying each one shared with the parent)
    /// that the exit is about to give back anyway.
    pub(super) fn flush_last(&self) {
        let q = std::mem::take(&mut *self.queue.borrow_mut());
        if !q.is_empty() && self.sh.tx.send_all(&q).is_err() {
            self.abandon();
        }
        std::mem::forget(q);
    }

    pub(super) fn output(&self, line: String) {
        self.send(Event::Output {
            key: self.key.clone(),
            line,
        });
    }

    pub(super) fn error(&self, message: String) {
        self.send(Event::Error {
            key: self.key.clone(),
            message,
        });
    }

    pub(super) fn trans(&self, thread: Option<usize>, t: u64, to: State, cause: Cause) {
        self.send(Event::Trans {
            key: self.key.clone(),
            thread: thread.map(|i| i as u32),
            t,
            to,
            cause,
        });
    }

    // ---- handles -----------------------------------------------------------------------

    pub(super) fn handle(&self, name: NameId) -> Option<Who> {
        self.handles
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    pub(super) fn bind_handle(&mut self, name: NameId, k: Who) {
        match self.handles.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = k,
            None => self.handles.push((name, k)),
        }
    }

    /// Started children not yet reaped, in creation order.
    pub(super) fn live_kids(&self) -> Vec<usize> {
        self.live.to_vec()
    }

    // ---- ending ------------------------------------------------------------------------

    /// A limit stopped the run: say so and wait for the supervisor to end everything.
    pub(super) fn limit(&self, message: String) -> ! {
        self.send(Event::Limit {
            key: self.key.clone(),
            message,
        });
        self.flush();
        loop {
            match &self.sh.lifeline {
                Some(l) => {
                    observe::sleep_until(u64::MAX, Some(l));
                    self.abandon();
                }
                None => {
                    nix::unistd::pause();
                }
            }
        }
    }

    /// The supervisor is gone or stopping the run: leave at once, as a killed process would.
    pub(super) fn abandon(&self) -> ! {
        abandon()
    }
}

/// The supervisor is gone or stopping the run: leave at once (the whole process, every
/// thread of it), as a killed process would.
pub(super) fn abandon() -> ! {
    // SAFETY: see `Host::terminate` in host.rs.
    unsafe { libc::_exit(128 + libc::SIGKILL) }
}

/// `Process.exitcode` of a reaped child.
pub(super) fn exitcode_of(s: Status) -> i64 {
    match s {
        Status::Exited(c) => i64::from(c),
        Status::Signaled(n) => -i64::from(n),
    }
}

/// Sets the name `ps` shows (the kernel keeps 15 bytes).
///
/// Every forked child calls this first, so it neither allocates nor goes through a helper
/// of its own: in a child every heap page it writes is copied, and every code page it runs
/// that the parent's fork did not map for it (`fork` copies no page-table entries of the
/// binary's code) is a page fault.
/// `s` borrowed for the rest of the process's life: for a key or name the process keeps
/// until it ends anyway (its own, its children's records), so that each event about it can
/// borrow it instead of copying it (no `malloc` and `free` a event). Leaked once a process or
/// a child; its `_exit` gives it back.
pub(super) fn leaked(s: Key) -> Key {
    match s {
        Key::Borrowed(b) => Key::Borrowed(b),
        Key::Owned(o) => Key::Borrowed(o.leak()),
    }
}

pub(super) fn set_comm(name: &str) {
    let mut c = [0u8; 16];
    for (slot, b) in c[..15].iter_mut().zip(name.bytes().filter(|b| *b != 0)) {
        *slot = b;
    }
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; `c` is 16
    // bytes and its last one is always 0.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, c.as_ptr());
    }
}

#[cfg(test)]
mod tests {
    use super::Loops;

    #[test]
    fn loops_nest_past_the_inline_levels_in_order() {
        let mut l = Loops::default();
        assert_eq!(l.last_mut(), None);
        for n in 1..=6 {
            l.push(n * 10);
            assert_eq!(l.last_mut().copied(), Some(n * 10));
        }
        *l.last_mut().unwrap() -= 1;
        assert_eq!(l.last_mut().copied(), Some(59));
        for n in (1..=5).rev() {
            l.pop();
            assert_eq!(l.last_mut().copied(), Some(n * 10));
        }
        l.pop();
        assert_eq!(l.last_mut(), None);
        l.pop();
        assert_eq!(l.last_mut(), None);
        l.push(7);
        assert_eq!(l.last_mut().copied(), Some(7));
    }
}
