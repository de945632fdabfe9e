//! The process control block: small and flat, because a run may hold a million of them.
//!
//! What only some processes need (output, handles, objects, children, arguments) lives in a
//! lazily allocated [`Cold`] part, so a process that only computes and does I/O costs one
//! fixed-size record. Globals are shared copy-on-write: a child gets its parent's `Arc` at
//! `start` and the first write makes it its own copy, which is exactly "copied at fork,
//! never shared" without copying anything that is never written.

use std::sync::Arc;

use smallvec::SmallVec;

use super::identity::Identity;
use crate::model::{State, Value};
use crate::program::{NameId, ProgramId, Signal};

/// "No value" for a tick or index field.
pub(crate) const NONE: u64 = u64::MAX;
/// "No process" (the parent of a top-level process is init, which has no index).
pub(crate) const NO_PROC: u32 = u32::MAX;

/// What a blocked process waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitOn {
    /// Nothing (not blocked).
    Nothing,
    /// An `io` timer with this token; a stale heap entry has another.
    Io(u32),
    /// A `sleep` timer with this token.
    Sleep(u32),
    /// One child (`join`, or the exit policy joining children).
    Child(u32),
    /// Any child (`wait`).
    AnyChild,
}

/// Where a process is in ending by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Still running its program.
    No,
    /// Finished its program with this exit code; joining its children (multiprocessing policy).
    Joining(i32),
}

/// The per-process record.
#[derive(Debug, Clone)]
pub(crate) struct Pcb {
    pub state: State,
    /// Started (admitted, for a child) or top-level.
    pub started: bool,
    pub daemon: bool,
    /// Slice ran out; the kernel has not yet decided whether it keeps its CPU.
    pub preempt_pending: bool,
    /// Arguments have been bound to parameters (at the first run).
    pub bound: bool,
    pub ending: Ending,
    pub wait_on: WaitOn,
    pub program: ProgramId,
    pub pc: u32,
    pub pid: u32,
    /// Index of the parent, or [`NO_PROC`] for init.
    pub parent: u32,
    /// Index of the process that created it ([`NO_PROC`] for top-level processes).
    pub creator: u32,
    /// Top-level entry index and copy number (from 1); `entry` is [`NO_PROC`] for children.
    pub entry: u32,
    pub copy: u32,
    pub timer_token: u32,
    /// CPU ticks still to compute in the current `cpu` instruction.
    pub burst_left: u64,
    /// With `slice_after_block: keep`, what was left of the slice when it blocked.
    pub slice_left: u64,
    /// When it entered its current state, for the time accounting (while blocked: the tick it
    /// blocked, which orders same-tick wake-ups).
    pub since: u64,
    pub created_at: u64,
    pub admitted_at: u64,
    pub first_run: u64,
    pub ended_at: u64,
    pub reaped_at: u64,
    pub cpu: u64,
    pub waiting: u64,
    pub blocked: u64,
    pub dispatches: u32,
    pub preemptions: u32,
    /// Exit code once terminated (`None` for a child discarded before it started).
    pub exitcode: Option<i32>,
    pub signal: Option<Signal>,
    /// Iterations left in each active `repeat`, innermost last, the current one included.
    pub loops: SmallVec<[u64; 2]>,
    /// This process's globals; shared with its parent until one of them writes.
    pub globals: Arc<Vec<Value>>,
    pub cold: Option<Box<Cold>>,
}

/// The parts of a process that only some processes need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cold {
    /// The name of a child (top-level names come from the plan).
    pub name: Option<Arc<str>>,
    /// multiprocessing's `_identity`, shared with the ancestors (`None` for a top-level process).
    pub identity: Option<Arc<Identity>>,
    /// Spawns made so far (multiprocessing's `_process_counter`).
    pub spawned: u32,
    /// Arguments, until they are bound at the first run.
    pub args: Vec<Value>,
    pub kwargs: Vec<(Arc<str>, Value)>,
    /// Bound parameters.
    pub params: Vec<Value>,
    pub output: Vec<String>,
    pub errors: Vec<String>,
    /// Handles: name → process index. Copied to a child at `start`, as a fork copies them.
    pub handles: Vec<(NameId, u32)>,
    /// Objects held, in creation order, with their finalizer text.
    pub objects: Vec<(NameId, Option<Arc<str>>)>,
    /// Children in creation order, until reaped or reparented.
    pub children: Vec<u32>,
}

impl Pcb {
    pub(crate) fn new(program: ProgramId, pid: u32, parent: u32, globals: Arc<Vec<Value>>, t: u64) -> Self {
        Pcb {
            state: State::New,
            started: false,
            daemon: false,
            preempt_pending: false,
            bound: false,
            ending: Ending::No,
            wait_on: WaitOn::Nothing,
            program,
            pc: 0,
            pid,
            parent,
            creator: parent,
            entry: NO_PROC,
            copy: 0,
            timer_token: 0,
            burst_left: 0,
            slice_left: 0,
            since: t,
            created_at: t,
            admitted_at: NONE,
            first_run: NONE,
            ended_at: NONE,
            reaped_at: NONE,
            cpu: 0,
            waiting: 0,
            blocked: 0,
            dispatches: 0,
            preemptions: 0,
            exitcode: None,
            signal: None,
            loops: SmallVec::new(),
            globals,
            cold: None,
        }
    }

    /// The cold part, allocated on first use.
    pub(crate) fn cold(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// Adds the time since the last transition to the figure of the state being left.
    pub(crate) fn account(&mut self, t: u64) {
        let d = t - self.since;
        match self.state {
            State::Ready => self.waiting += d,
            State::Running => self.cpu += d,
            State::Blocked => self.blocked += d,
            State::New | State::Terminated => {}
        }
        self.since = t;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_process_is_small() {
        // The design target is under 256 bytes a process in all; the record is most of it.
        assert!(std::mem::size_of::<Pcb>() <= 208, "{}", std::mem::size_of::<Pcb>());
    }
}
