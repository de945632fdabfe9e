//! One event of the Trace Event Format, the groups and tracks they go on, and how a phase
//! is named and coloured.

use serde::Serialize;
use serde_json::Value as Json;

use super::super::spans::Phase;

/// Trace pid of the `CPUs` group.
pub(super) const CPUS_PID: u32 = 1;
/// Trace pid of the `Processes` group.
pub(super) const PROCS_PID: u32 = 2;

/// One event of the Trace Event Format. Fields the format leaves optional are skipped.
#[derive(Debug, Serialize)]
pub(super) struct Event {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cat: Option<&'static str>,
    pub(super) ph: &'static str,
    pub(super) ts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) dur: Option<u64>,
    pub(super) pid: u32,
    pub(super) tid: u32,
    /// Scope of an instant event (`t`: the thread's track).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) s: Option<&'static str>,
    /// Flow id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<u64>,
    /// Flow binding point (`e`: the enclosing slice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) bp: Option<&'static str>,
    /// A colour name chrome://tracing knows (Perfetto colours by name instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cname: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) args: Option<Json>,
}

impl Event {
    pub(super) fn new(
        name: impl Into<String>,
        ph: &'static str,
        ts: u64,
        pid: u32,
        tid: u32,
    ) -> Event {
        Event {
            name: name.into(),
            cat: None,
            ph,
            ts,
            dur: None,
            pid,
            tid,
            s: None,
            id: None,
            bp: None,
            cname: None,
            args: None,
        }
    }

    pub(super) fn meta(what: &str, pid: u32, tid: u32, args: Json) -> Event {
        Event {
            args: Some(args),
            ..Event::new(what, "M", 0, pid, tid)
        }
    }
}

/// The track of process `proc` in the `Processes` group.
pub(super) fn proc_tid(proc: usize) -> u32 {
    proc as u32 + 1
}

/// The track of CPU `cpu` in the `CPUs` group.
pub(super) fn cpu_tid(cpu: usize) -> u32 {
    cpu as u32 + 1
}

pub(super) fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::New => "new",
        Phase::Ready => "ready",
        Phase::Running { .. } => "running",
        Phase::Blocked { .. } => "blocked",
        Phase::Zombie => "zombie",
    }
}

pub(super) fn phase_colour(phase: Phase) -> &'static str {
    match phase {
        Phase::New => "white",
        Phase::Ready => "thread_state_runnable",
        Phase::Running { .. } => "thread_state_running",
        Phase::Blocked { .. } => "thread_state_iowait",
        Phase::Zombie => "grey",
    }
}

/// The track of thread lane `lane` in the `Processes` group, after the run's `count`
/// processes' tracks.
pub(super) fn thread_tid(count: usize, lane: u32) -> u32 {
    count as u32 + 1 + lane
}

/// One event as JSON. Serializing plain structs and `json!` maps cannot fail, so the
/// fallback never shows.
pub(super) fn to_json<T: Serialize>(e: &T) -> Vec<u8> {
    serde_json::to_vec(e).unwrap_or_default()
}
