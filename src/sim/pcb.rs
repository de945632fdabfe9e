//! The process control block: small and flat, because a run may hold a million of them.
//!
//! What only some processes need (output, handles, objects, children, arguments) lives in a
//! lazily allocated [`Cold`] part, so a process that only computes and does I/O costs one
//! fixed-size record. Globals are shared copy-on-write ([`Cold::globals`]): a child gets its
//! parent's `Arc` at `start` and the first write makes it its own copy, which is exactly
//! "copied at fork, never shared" without copying anything that is never written.

use std::sync::Arc;

use super::children::Children;
use super::identity::Identity;
use crate::model::{State, Value};
use crate::program::{NameId, ProgramId, Signal};

/// "No value" for a tick or index field.
pub(crate) const NONE: u64 = u64::MAX;
/// "No pid": a child not started yet (0, as the report shows it).
pub(crate) const NO_PID: u32 = 0;
/// "No process" (the parent of a top-level process is init, which has no index).
pub(crate) const NO_PROC: u32 = u32::MAX;
/// [`Pcb::exitcode`] of a process without one: no exit code is this far from 0..=255 or a
/// signal's negative number.
const NO_EXITCODE: i32 = i32::MIN;

/// What a blocked process waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitOn {
    /// Nothing, or a timer (`io`, `sleep`): the timer queue knows which.
    Nothing,
    /// One child (`join`, or the exit policy joining children).
    Child(u32),
    /// One child, until a tick (`join` with a timeout: its timer fires then).
    ChildUntil(u32, u64),
    /// Any child (`wait`).
    AnyChild,
    /// Not blocked: its `join` with a timeout timed out, and the `join` it runs again on
    /// waking returns with the child alive.
    TimedOut,
    /// A main thread that has ended waits for its process's non-daemon threads (threads.rs).
    Threads,
    /// A lock of its process (threads.rs).
    Lock,
}

impl WaitOn {
    /// Whether the end of child `q` wakes a process waiting on this.
    pub(crate) fn awaits(self, q: u32) -> bool {
        match self {
            WaitOn::Child(c) | WaitOn::ChildUntil(c, _) => c == q,
            WaitOn::AnyChild => true,
            WaitOn::Nothing | WaitOn::TimedOut | WaitOn::Threads | WaitOn::Lock => false,
        }
    }
}

/// What a dispatch touches, kept apart from the rest of the record so that a dispatch
/// costs one cache line: at a million processes the kernel is bound by memory, not
/// instructions.
#[derive(Debug, Clone)]
#[repr(C, align(64))]
pub(crate) struct Hot {
    /// CPU ticks still to compute in the current `cpu` instruction.
    pub burst_left: u64,
    /// When it entered its current state, for the time accounting (while blocked: the tick it
    /// blocked, which orders same-tick wake-ups).
    pub since: u64,
    pub cpu: u64,
    pub waiting: u64,
    /// Iterations left in the innermost active `repeat`, the current one included (0: none);
    /// the outer ones wait in [`Pcb::loops`].
    pub loop_left: u64,
    pub pc: u32,
    pub program: ProgramId,
    pub pid: u32,
    pub dispatches: u32,
    pub preemptions: u32,
    pub state: State,
    /// Slice ran out; the kernel has not yet decided whether it keeps its CPU.
    pub preempt_pending: bool,
    /// Arguments have been bound to parameters (at the first run).
    pub bound: bool,
    /// It finished its program and is joining its children ([`Pcb::exit_code`] holds the code).
    pub ending: bool,
}

impl Hot {
    pub(crate) fn new(program: ProgramId, pid: u32, t: u64) -> Self {
        Hot {
            burst_left: 0,
            since: t,
            cpu: 0,
            waiting: 0,
            loop_left: 0,
            pc: 0,
            program,
            pid,
            dispatches: 0,
            preemptions: 0,
            state: State::New,
            preempt_pending: false,
            bound: false,
            ending: false,
        }
    }

    /// Adds the time since the last transition to the figure of the state being left (time
    /// blocked goes to none: [`Pcb::blocked`] is what the others leave of it).
    #[inline(always)]
    pub(crate) fn account(&mut self, t: u64) {
        let d = t - self.since;
        self.since = t;
        match self.state {
            State::Ready => self.waiting += d,
            State::Running => self.cpu += d,
            State::Blocked | State::New | State::Terminated => {}
        }
    }
}

/// What a record of the process table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    /// A top-level process of the plan: its entry and copy number follow from its slot
    /// ([`super::Kernel::top_entry`]), as the top-level processes take the first slots, in
    /// the plan's order, and are never moved.
    Top,
    /// A child, made by `Process(...)`.
    Child,
    /// A thread task of a process (SPEC §4a), not a process.
    Thread,
    /// A free slot (recycle.rs): no process.
    Vacant,
}

/// The rest of the per-process record: 48 bytes. What a million top-level processes would
/// each hold the same way is derived or shared instead of kept (issue #13, "at most 150 bytes
/// a process"): the entry and copy number from the slot, whether it started from its kind and
/// admission, the time blocked from the hot record's figures ([`Pcb::blocked`]), the tick it
/// was reaped from its end ([`Pcb::reaped_at`]; a child reaped later keeps it in its cold
/// part), and the globals, which a process that has not written them shares with the
/// top-level processes ([`Cold::globals`]).
#[derive(Debug, Clone)]
pub(crate) struct Pcb {
    pub admitted_at: u64,
    pub first_run: u64,
    pub ended_at: u64,
    pub cold: Option<Box<Cold>>,
    /// Timers naming this slot still in the queue, counted only when records are recycled
    /// (recycle.rs): a killed process's timer outlives it.
    pub timers: u32,
    /// Index of the parent, or [`NO_PROC`] for init (for a vacant slot: the next free slot,
    /// recycle.rs).
    pub parent: u32,
    /// Exit code once terminated, [`NO_EXITCODE`] before (and for a child discarded before it
    /// started): an `Option<i32>` would take 8 bytes.
    exitcode: i32,
    pub kind: Kind,
    pub daemon: bool,
    /// Reaped (its tick: [`Pcb::reaped_at`]).
    reaped: bool,
    pub signal: Option<Signal>,
}

/// The parts of a process that only some processes need.
#[derive(Debug, Clone)]
pub(crate) struct Cold {
    /// The explicit name of a child or a thread (`None`: the default, made when shown from
    /// [`Cold::identity`], or from a thread's number (threads.rs); top-level names come from
    /// the plan).
    pub name: Option<Arc<str>>,
    /// multiprocessing's `_identity`, shared with the ancestors (`None` for a top-level process).
    pub identity: Option<Arc<Identity>>,
    /// The slot of the process that created it (`None` for a top-level process), or its index
    /// in the report where records are reused in a run that lists them all (its slot may be
    /// another's by the end; epitaphs.rs): kept here, where only children have it, since the
    /// report is its only reader.
    pub creator: Option<u32>,
    /// What it waits for while blocked (kept here: only a process that joins, waits, holds a
    /// lock or has threads waits for anything but a timer, and such a process has a cold part).
    pub wait_on: WaitOn,
    /// The exit code a process that is joining its children (or its threads) will end with.
    pub exit_code: i32,
    /// When it was created: a top-level process at tick 0 (the default), a child when
    /// spawned, a thread when started.
    pub created_at: u64,
    /// Its globals, once it has its own or shares them with a process that has: `None`, the
    /// top-level processes' globals, shared by every process that has not written them, nor
    /// been forked from one that had (the kernel's `top_globals`, values.rs). Copied on write:
    /// a child shares its parent's until one of them writes, which is "copied at fork, never
    /// shared" without copying what is never written.
    pub globals: Option<Arc<Vec<Value>>>,
    /// When it was reaped, if not at its end ([`NONE`] otherwise): a child whose parent
    /// reaped it later (a top-level process and a thread are reaped as they end).
    pub reaped_at: u64,
    /// Spawns made so far (multiprocessing's `_process_counter`).
    pub spawned: u32,
    /// Arguments, until they are bound at the first run.
    pub args: Vec<Value>,
    pub kwargs: Vec<(Arc<str>, Value)>,
    /// Bound parameters.
    pub params: Vec<Value>,
    pub output: Vec<String>,
    pub output_at: Vec<crate::report::LineAt>,
    pub errors: Vec<String>,
    pub errors_at: Vec<crate::report::LineAt>,
    /// Handles: name → process index. Copied to a child at `start`, as a fork copies them.
    pub handles: Vec<(NameId, u32)>,
    /// Objects held, in creation order, with their finalizer text.
    pub objects: Vec<crate::process::Object>,
    /// The counts of the enclosing named `repeat`s, outermost first.
    pub counters: Vec<u64>,
    /// Children until reaped or reparented (boxed: most processes with a cold part have none).
    pub children: Option<Box<Children>>,
    /// Iterations left in the enclosing `repeat`s of the innermost one ([`Hot::loop_left`]),
    /// innermost last (only nested loops need it).
    pub loops: Vec<u64>,
}

impl Default for Cold {
    fn default() -> Self {
        Cold {
            name: None,
            identity: None,
            creator: None,
            wait_on: WaitOn::Nothing,
            exit_code: 0,
            created_at: 0,
            globals: None,
            reaped_at: NONE,
            spawned: 0,
            args: Vec::new(),
            kwargs: Vec::new(),
            params: Vec::new(),
            output: Vec::new(),
            output_at: Vec::new(),
            errors: Vec::new(),
            errors_at: Vec::new(),
            handles: Vec::new(),
            objects: Vec::new(),
            counters: Vec::new(),
            children: None,
            loops: Vec::new(),
        }
    }
}

impl Pcb {
    /// A record of a child created at tick `t` (a cold part holds `t` unless it is 0, a
    /// top-level process's creation); the caller sets another [`Kind`].
    pub(crate) fn new(parent: u32, t: u64) -> Self {
        let mut pcb = Pcb {
            admitted_at: NONE,
            first_run: NONE,
            ended_at: NONE,
            cold: None,
            timers: 0,
            parent,
            exitcode: NO_EXITCODE,
            kind: Kind::Child,
            daemon: false,
            reaped: false,
            signal: None,
        };
        if t != 0 {
            pcb.cold().created_at = t;
        }
        pcb
    }

    /// Started: a top-level process or a thread from the first, a child once admitted (at
    /// its `start()`).
    #[inline]
    pub(crate) fn started(&self) -> bool {
        match self.kind {
            Kind::Top | Kind::Thread => true,
            Kind::Child => self.admitted_at != NONE,
            Kind::Vacant => false,
        }
    }

    /// A free slot (recycle.rs).
    #[inline]
    pub(crate) fn vacant(&self) -> bool {
        self.kind == Kind::Vacant
    }

    /// Time blocked so far. Every tick from its admission to its last transition is in one
    /// of the three figures (`Hot::account` adds each stretch to the state it leaves, and
    /// blocked time to none of the hot ones): the time blocked is what the other two leave.
    /// Derived, so that a wake-up from `io` touches only the hot record.
    #[inline]
    pub(crate) fn blocked(&self, hot: &Hot) -> u64 {
        if self.admitted_at == NONE {
            return 0;
        }
        hot.since - self.admitted_at - hot.cpu - hot.waiting
    }

    /// Its own globals, or those it shares with a process that wrote them (`None`: the
    /// top-level processes', [`Cold::globals`]).
    #[inline]
    pub(crate) fn own_globals(&self) -> Option<&Arc<Vec<Value>>> {
        self.cold.as_deref()?.globals.as_ref()
    }

    /// Whether it was reaped.
    #[inline]
    pub(crate) fn is_reaped(&self) -> bool {
        self.reaped
    }

    /// When it was reaped ([`NONE`]: not yet).
    pub(crate) fn reaped_at(&self) -> u64 {
        if !self.reaped {
            return NONE;
        }
        match self.cold.as_deref() {
            Some(c) if c.reaped_at != NONE => c.reaped_at,
            _ => self.ended_at,
        }
    }

    /// Reaped at `t`: kept only if that is not its end.
    pub(crate) fn set_reaped(&mut self, t: u64) {
        self.reaped = true;
        if t != self.ended_at {
            self.cold().reaped_at = t;
        }
    }

    /// When it was created.
    pub(crate) fn created_at(&self) -> u64 {
        self.cold.as_ref().map_or(0, |c| c.created_at)
    }

    /// Its exit code once terminated (`None` for a child discarded before it started).
    pub(crate) fn exitcode(&self) -> Option<i32> {
        (self.exitcode != NO_EXITCODE).then_some(self.exitcode)
    }

    pub(crate) fn set_exitcode(&mut self, code: i32) {
        self.exitcode = code;
    }

    /// What it waits for while blocked.
    #[inline]
    pub(crate) fn wait_on(&self) -> WaitOn {
        self.cold.as_ref().map_or(WaitOn::Nothing, |c| c.wait_on)
    }

    /// Sets what it waits for (waiting for nothing allocates no cold part).
    #[inline]
    pub(crate) fn set_wait_on(&mut self, w: WaitOn) {
        match (&mut self.cold, w) {
            (None, WaitOn::Nothing) => {}
            (Some(c), w) => c.wait_on = w,
            (None, w) => self.cold().wait_on = w,
        }
    }

    /// The exit code a process joining its children will end with.
    pub(crate) fn exit_code(&self) -> i32 {
        self.cold.as_ref().map_or(0, |c| c.exit_code)
    }

    /// Sets [`Pcb::exit_code`] (every process that ends by itself does: 0 allocates nothing).
    pub(crate) fn set_exit_code(&mut self, code: i32) {
        match &mut self.cold {
            None if code == 0 => {}
            Some(c) => c.exit_code = code,
            None => self.cold().exit_code = code,
        }
    }

    /// Whether this record is a thread task rather than a process.
    #[inline(always)]
    pub(crate) fn is_thread(&self) -> bool {
        self.kind == Kind::Thread
    }

    /// The cold part, allocated on first use.
    #[inline]
    pub(crate) fn cold(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    pub(crate) fn handle(&self, name: NameId) -> Option<u32> {
        self.cold
            .as_ref()?
            .handles
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    }

    pub(crate) fn bind_handle(&mut self, name: NameId, p: u32) {
        let handles = &mut self.cold().handles;
        match handles.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = p,
            None => handles.push((name, p)),
        }
    }
}

/// Asks the kernel to back a large table with huge pages, where it can (a hint, like
/// `prefetch` (fast.rs)): a million processes' records are some 180 MiB, and in 4 KiB pages faulting
/// them in and missing the TLB cost RR-IO-v1 at a million processes a sixth of its time.
pub(crate) fn advise_huge_pages<T>(table: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        const HUGE: usize = 2 << 20;
        let bytes = table.capacity() * std::mem::size_of::<T>();
        if bytes < 2 * HUGE {
            return;
        }
        let start = (table.as_ptr() as usize).next_multiple_of(PAGE);
        let end = (table.as_ptr() as usize + bytes) / PAGE * PAGE;
        // SAFETY: madvise with MADV_HUGEPAGE changes how the pages of a range we own are
        // backed, never their contents; the range lies inside the table's allocation and is
        // page-aligned as madvise requires. A failure only means no huge pages.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = table;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_process_is_small() {
        // The design target is under 256 bytes a process in all; these records are most of it.
        assert_eq!(std::mem::size_of::<Hot>(), 64);
        assert!(
            std::mem::size_of::<Pcb>() <= 48,
            "{}",
            std::mem::size_of::<Pcb>()
        );
        // A thread whose program takes no arguments and whose name is the default has no
        // cold part at all (threads.rs): this size is only for those that need one.
        assert!(
            std::mem::size_of::<Cold>() <= 368,
            "{}",
            std::mem::size_of::<Cold>()
        );
    }
}
