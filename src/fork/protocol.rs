//! The messages of a fork-backend run, all JSON: the [`Setup`] the CLI writes to the
//! supervisor's stdin (one line), and the [`Event`]s that flow from the scenario's processes
//! to the supervisor (one `SOCK_SEQPACKET` datagram each, so concurrent writers never
//! interleave) and from the supervisor to the CLI (one line each on its stdout, or a
//! datagram's events as the one line of their JSON array, relayed as they came).
//!
//! A process is named by a [`Key`] that needs no coordination to make: the index of its
//! top-level process, then the creation counter at each generation (`"0"`, `"0:1"`, `"0:1:2"`),
//! which is multiprocessing's `_identity` with the top-level index in front.

use serde::{Deserialize, Serialize};

use crate::model::{Cause, State, Value};
use crate::program::Plan;
use crate::report::{RealFences, RealPolicy};

/// A process's name in the protocol (see the module documentation).
///
/// Borrowed where a process sends it: a process's own key and its children's are leaked
/// once, as they live as long as the process anyway (see `interp::leaked`), so queuing an
/// event allocates nothing (a forked child that allocates nothing never runs `malloc`,
/// whose code and data pages would each be a page fault in every child). Owned where it was
/// received.
pub type Key = std::borrow::Cow<'static, str>;

/// Everything the supervisor needs, sent once on its stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Setup {
    /// The compiled scenario.
    pub plan: Plan,
    /// Microseconds a tick stands for (the scenario's `tick_us` unless overridden).
    pub tick_us: u64,
    /// Stop the run after this many milliseconds (graceful first, then SIGKILL).
    pub timeout_ms: Option<u64>,
    /// How long a graceful stop waits after SIGTERM before SIGKILL.
    pub grace_ms: u64,
    /// Put the scenario's processes under the real-time counterpart of its policy (`SCHED_RR`
    /// or `SCHED_FIFO`), where there is one and the privilege for it.
    pub realtime: bool,
    /// Do not try a PID namespace (to exercise the subreaper fallback).
    pub no_namespace: bool,
    /// The fences the user set (see [`super::fence`]).
    #[serde(default)]
    pub fence: super::fence::Request,
    /// What the host has, read by the supervisor before the run's namespace exists.
    #[serde(skip)]
    pub host: Option<super::fence::Host>,
}

/// How a reaped process ended, from its wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// `_exit(code)`.
    Exited(i32),
    /// Killed by this signal number.
    Signaled(i32),
}

/// What the kernel counted for a process, read from `/proc/<pid>/schedstat` and
/// `/proc/<pid>/status` while it was a zombie (before it was reaped, so the pid was still its).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Nanoseconds on a CPU.
    pub cpu_ns: u64,
    /// Nanoseconds runnable on a run queue, waiting for a CPU.
    pub wait_ns: u64,
    /// Times it was put on a CPU (timeslices).
    pub slices: u64,
    /// Involuntary context switches: times it lost the CPU while it could still run.
    pub preempted: u64,
}

/// One thing that happened. Times are microseconds since the supervisor's epoch
/// (`CLOCK_MONOTONIC`, shared by every process of the run).
///
/// In JSON the variant's name is the one key of an object around its fields
/// (`{"trans":{"key":"0:1",…}}`, serde's default), not a field among them: a reader then knows
/// the variant from the first key and reads the fields straight from the text, where a tag
/// field (`{"ev":"trans",…}`) makes serde buffer the whole object and read it twice (its
/// `Content`), which was about a fifth of the supervisor's and the CLI's time a forked child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The supervisor is set up (first event).
    Hello {
        /// `"pid-namespace"` or `"subreaper"`.
        isolation: String,
        /// Why the namespace was not used.
        note: Option<String>,
        /// CPUs the scenario's processes are pinned to.
        pinned: Vec<u32>,
        /// The `SCHED_RR` slice, when the run is under `SCHED_RR`.
        rr_quantum_us: Option<u64>,
        /// Microseconds a tick stands for.
        tick_us: u64,
        /// The real policy that stands for the scenario's.
        policy: RealPolicy,
        /// The fences around the host the run is inside.
        #[serde(default)]
        fences: Box<RealFences>,
    },
    /// A fence around the host acted (see [`super::fence`]).
    Fence {
        /// The process it acted on, when it was one.
        key: Option<Key>,
        /// What it did.
        message: String,
    },
    /// A process exists, in `new` (a top-level process, or a `spawn`).
    Spawn {
        /// Its key.
        key: Key,
        /// Its creator's key (`None` for a top-level process).
        creator: Option<Key>,
        /// Its name (borrowed where it is sent, as a key is).
        name: std::borrow::Cow<'static, str>,
        /// Its program.
        program: u32,
        /// Its daemon flag.
        daemon: bool,
        /// When.
        t: u64,
    },
    /// Its creator forked it: `new → ready` at `t_admit` (sent by the creator after `fork`).
    Started {
        /// Its key.
        key: Key,
        /// Its pid (in the run's PID namespace when there is one).
        pid: u32,
        /// When it was admitted.
        t_admit: u64,
    },
    /// It runs its first instruction (sent by the process itself): `new → ready` at `t_admit`
    /// if [`Event::Started`] has not said so yet, then `ready → running` at `t`.
    Run {
        /// Its key.
        key: Key,
        /// Its pid.
        pid: u32,
        /// When it was admitted.
        t_admit: u64,
        /// When it ran.
        t: u64,
    },
    /// A transition a process reports about itself.
    Trans {
        /// Its key.
        key: Key,
        /// The thread (its index in the process's thread table; `None`: the main thread).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<u32>,
        /// When.
        t: u64,
        /// The new state.
        to: State,
        /// Why.
        cause: Cause,
    },
    /// `→ ready` at `t_ready`, then `ready → running` at `t`: a process resuming after it
    /// blocked (`cause` io-done, wake or child-exit) or after a preemption (`cause` preempt).
    /// One event for the pair, because it is sent at every wake-up.
    Resume {
        /// Its key.
        key: Key,
        /// The thread (`None`: the main thread).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread: Option<u32>,
        /// When it became ready.
        t_ready: u64,
        /// When it ran again.
        t: u64,
        /// Why it became ready.
        cause: Cause,
    },
    /// A thread of the process was started (`new → ready` at `t`; SPEC §4a).
    Thread {
        /// The process's key.
        key: Key,
        /// Its index in the process's thread table, from 0.
        thread: u32,
        /// Its name.
        name: String,
        /// Its daemon flag.
        daemon: bool,
        /// When.
        t: u64,
    },
    /// A thread runs its first instruction (`ready → running` at `t`).
    ThreadRun {
        /// The process's key.
        key: Key,
        /// Its index.
        thread: u32,
        /// Its kernel thread id.
        tid: u32,
        /// When.
        t: u64,
    },
    /// A thread ended by itself (`running → terminated` at `t`), or called `_exit`.
    ThreadEnd {
        /// The process's key.
        key: Key,
        /// Its index.
        thread: u32,
        /// When.
        t: u64,
        /// What the kernel counted for it, read by itself (`/proc/thread-self/schedstat`).
        figures: Option<Figures>,
    },
    /// What the kernel counted for a thread still alive when its process ends (read by the
    /// thread that ends the process, from `/proc/self/task/<tid>/`): it ends with it.
    ThreadFigures {
        /// The process's key.
        key: Key,
        /// Its index.
        thread: u32,
        /// Its figures.
        figures: Figures,
    },
    /// The main thread of a child forked from a thread keeps the caller's name and daemon
    /// flag (SPEC §4a).
    MainThread {
        /// The process's key.
        key: Key,
        /// Its name.
        name: String,
        /// Its daemon flag.
        daemon: bool,
    },
    /// A line of output.
    Output {
        /// Whose.
        key: Key,
        /// The text.
        line: String,
    },
    /// An error message.
    Error {
        /// Whose.
        key: Key,
        /// The text.
        message: String,
    },
    /// A global changed in this process's own copy.
    Global {
        /// Whose.
        key: Key,
        /// Index in the plan's globals.
        index: u32,
        /// The new value.
        value: Value,
    },
    /// A never-started child vanished with its creator (`new → terminated`).
    Discard {
        /// The child's key.
        key: Key,
        /// When.
        t: u64,
    },
    /// A signal sent by a process was seen to end its target at `t`.
    Signalled {
        /// The target's key.
        key: Key,
        /// When the target was seen dead.
        t: u64,
    },
    /// The process ends by itself with this exit code (sent just before `_exit`).
    End {
        /// Its key.
        key: Key,
        /// When.
        t: u64,
        /// The exit code.
        code: i32,
    },
    /// A process was reaped by its parent or, `by_init`, by the supervisor.
    Reaped {
        /// Its key (`None` when it died before anyone said which process it was).
        key: Option<Key>,
        /// Its pid.
        pid: u32,
        /// When it was reaped.
        t: u64,
        /// Reaped by init (the supervisor) rather than by its parent.
        by_init: bool,
        /// How it ended.
        status: Status,
        /// What the kernel counted for it.
        figures: Option<Figures>,
    },
    /// A process hit a limit (`max_steps`): the run stops.
    Limit {
        /// Whose.
        key: Key,
        /// What to tell the user.
        message: String,
    },
    /// The kernel refused a process the scheduling policy or nice value the scenario gives it
    /// (sent by the process itself); it runs on with what it had.
    Refused {
        /// Whose.
        key: Key,
        /// What was refused, and what the process runs with instead.
        message: String,
    },
    /// Something done that changed nothing, for the report's notes (a signal to a process
    /// that was not alive).
    Note {
        /// When, µs after the epoch.
        t: u64,
        /// What, in words.
        text: String,
    },
    /// A system call failed where the model has no error for it.
    Fault {
        /// Whose, when known.
        key: Option<Key>,
        /// What failed.
        message: String,
    },
    /// The run goes on: sent by the supervisor once a second, so a long run can show progress.
    Progress {
        /// Microseconds since the start.
        t: u64,
        /// Processes of the run alive now (created and not yet reaped).
        live: u32,
    },
    /// The supervisor is done: every process of the run is gone (last event).
    Done {
        /// Why the run stopped early.
        error: Option<String>,
        /// Processes the supervisor had to kill to stop the run.
        killed: Vec<Key>,
    },
}

impl Event {
    /// The key of the process the event is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Event::Spawn { key, .. }
            | Event::Started { key, .. }
            | Event::Run { key, .. }
            | Event::Trans { key, .. }
            | Event::Thread { key, .. }
            | Event::ThreadRun { key, .. }
            | Event::ThreadEnd { key, .. }
            | Event::ThreadFigures { key, .. }
            | Event::MainThread { key, .. }
            | Event::Resume { key, .. }
            | Event::Output { key, .. }
            | Event::Error { key, .. }
            | Event::Global { key, .. }
            | Event::Discard { key, .. }
            | Event::Signalled { key, .. }
            | Event::End { key, .. }
            | Event::Refused { key, .. }
            | Event::Limit { key, .. } => Some(key),
            Event::Reaped { key, .. } | Event::Fault { key, .. } | Event::Fence { key, .. } => {
                key.as_deref()
            }
            Event::Hello { .. }
            | Event::Progress { .. }
            | Event::Note { .. }
            | Event::Done { .. } => None,
        }
    }
}

/// The key of a child: its creator's key and the creator's spawn counter.
///
/// ```
/// assert_eq!(procsim::fork::protocol::child_key("0:1", 2), "0:1:2");
/// ```
pub fn child_key(creator: &str, n: u32) -> Key {
    Key::Owned(format!("{creator}:{n}"))
}

/// An event from JSON written with its variant as an `"ev"` field among the others
/// (`{"ev":"trans","key":"0:1",…}`), which reads more easily in tests than the wire form.
#[cfg(test)]
pub(crate) fn from_tagged(line: &str) -> Event {
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).expect("a JSON object");
    let Some(serde_json::Value::String(tag)) = fields.remove("ev") else {
        panic!("no \"ev\" in {line}");
    };
    let wire = serde_json::json!({ tag: fields });
    serde_json::from_value(wire).expect("an event")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_one_json_object_each() {
        let e = Event::Trans {
            key: "0:1".into(),
            thread: None,
            t: 12,
            to: State::Blocked,
            cause: Cause::Io,
        };
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"trans":{"key":"0:1","t":12,"to":"blocked","cause":"io"}}"#
        );
        assert_eq!(
            from_tagged(r#"{"ev":"trans","key":"0:1","t":12,"to":"blocked","cause":"io"}"#),
            e
        );
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
        let r = Event::Reaped {
            key: None,
            pid: 7,
            t: 3,
            by_init: true,
            status: Status::Signaled(9),
            figures: None,
        };
        let back: Event = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.key(), None);
    }
}
