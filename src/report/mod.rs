//! The report of a run (SPEC section 6), the same type for every backend, and its renderers.

pub mod compare;
pub mod draw;
pub mod explain;
pub mod explain_text;
mod explain_transition;
pub mod fold;
mod frames;
pub mod graphviz;
mod html;
pub mod json;
mod perfetto;
pub mod plot;
mod read;
mod real;
pub mod rows;
pub mod snapshot;
mod spans;
pub(crate) mod spill;
mod svg;
mod table;
pub mod text;
mod thread_view;
mod timeline;
mod topview;
mod tree;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use explain_text::{ExplainWriter, render_explain};
pub use html::{HTML_TRACE_CEILING, render_html};
pub use perfetto::{
    PerfettoStream, RunInfo, render_perfetto, render_perfetto_switches, stream_perfetto,
    stream_perfetto_switches, write_perfetto,
};
pub use read::{MAX_REPORT_BYTES, read_report};
pub use real::{RealFences, RealPolicy, RtLevel, human_bytes};
pub use snapshot::{Activity, ProcView, Replay, Snapshot, SnapshotError, run_end, snapshot_at};
pub use spans::{CpuSpan, CpuWork, Phase, Piece, ProcSpan, SpanBuilder, Spans};
pub use svg::{SvgOptions, render_svg, stream_svg};
pub use table::{
    render_summary, render_table, render_table_styled, render_table_switches,
    render_table_switching, stream_table, summary_lines,
};
pub use timeline::{
    LEGEND, Timeline, TimelineBuilder, render_timeline, render_timeline_styled,
    render_timeline_switching, timeline_text,
};
pub use topview::{render_top, timeline_line, unit_name};
pub use tree::tree_dot;

use crate::model::{Cause, State, Value};

/// The unit of every time in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Simulated ticks.
    Tick,
    /// Real microseconds.
    Us,
}

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// `"sim"` or `"fork"`.
    pub backend: String,
    /// The unit of every time below.
    pub time_unit: TimeUnit,
    /// How many CPUs the run had.
    pub cpus: u32,
    /// Why the run stopped early (a limit), or `null` when every process ended.
    pub error: Option<String>,
    /// Every process, in creation order (init, pid 1, is not listed).
    pub processes: Vec<ProcessReport>,
    /// Every transition, in the order they happened (empty when not recorded).
    pub trace: Vec<TraceEvent>,
    /// Totals and averages.
    pub summary: Summary,
    /// How a run on real processes was set up (absent for the simulated backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real: Option<RealRun>,
    /// What the run did that changed nothing and would otherwise pass unseen: a signal sent
    /// to a process that was not alive (SPEC §4), in time order (absent when there is none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// A pid in the JSON: a number, or `null` for none (0 in the structures: no process of a
/// run has pid 0).
mod pid_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pid: &u32, s: S) -> Result<S::Ok, S::Error> {
        match *pid {
            0 => s.serialize_none(),
            p => s.serialize_u32(p),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        Ok(Option::<u32>::deserialize(d)?.unwrap_or(0))
    }
}

/// Something the run did that changed nothing, said so the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// When.
    pub t: u64,
    /// What, in words.
    pub text: String,
}

/// How the fork backend ran: the isolation it got and the settings the kernel gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealRun {
    /// `"pid-namespace"` (the supervisor was pid 1 of a new PID namespace) or `"subreaper"`
    /// (the kernel refused the namespace: `PR_SET_CHILD_SUBREAPER`, a process group and a
    /// lifeline pipe instead).
    pub isolation: String,
    /// Why the namespace was not used, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_note: Option<String>,
    /// Microseconds of CPU time one `cpu` tick burned, and of sleep one `io`/`sleep` tick.
    pub tick_us: u64,
    /// The CPUs the scenario's processes were pinned to (empty: not pinned).
    pub pinned_cpus: Vec<u32>,
    /// The `SCHED_RR` time slice in microseconds, when the run was under `SCHED_RR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr_quantum_us: Option<u64>,
    /// The scenario's policy, its real counterpart and what the run got (SPEC section 3a).
    #[serde(default)]
    pub policy: RealPolicy,
    /// The fences around the host the run ran inside, and each that acted.
    #[serde(default)]
    pub fences: RealFences,
}

/// One process's identity, outcome and times.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessReport {
    /// Process id; 0 for a child never started, which never had one (`null` in the JSON, as
    /// Python's `Process.pid` is `None` before `start()`).
    #[serde(with = "pid_or_null")]
    pub pid: u32,
    /// Parent's pid at the end of the run (1 for init).
    pub ppid: u32,
    /// Index in [`Report::processes`] of the process that created it; `null` for top-level.
    pub creator: Option<u32>,
    /// Name (`MainProcess`, `Process-1:2`, …).
    pub name: String,
    /// The program it ran.
    pub program: String,
    /// Daemon flag.
    pub daemon: bool,
    /// 0, the `exit` code, 1 for an error, −N for signal N; `null` if it did not end.
    pub exitcode: Option<i64>,
    /// `"SIGKILL"` or `"SIGTERM"` when a signal ended it.
    pub signal: Option<String>,
    /// When it was created (`new`).
    pub created_at: u64,
    /// When it was admitted (`new → ready`).
    pub admitted_at: Option<u64>,
    /// When it first ran.
    pub first_run: Option<u64>,
    /// When it terminated.
    pub ended_at: Option<u64>,
    /// When its parent (or init) reaped it.
    pub reaped_at: Option<u64>,
    /// Time `running`.
    pub cpu: u64,
    /// Time `ready` (context-switch time included).
    pub waiting: u64,
    /// Time `blocked`.
    pub blocked: u64,
    /// `first_run − admitted_at`.
    pub response: Option<u64>,
    /// `ended_at − admitted_at`.
    pub turnaround: Option<u64>,
    /// `ready → running` transitions.
    pub dispatches: u64,
    /// `running → ready` transitions.
    pub preemptions: u64,
    /// Its output lines.
    pub output: Vec<String>,
    /// When each line of `output` was written, in the same order (absent from reports made
    /// before procsim kept it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_at: Vec<LineAt>,
    /// Its error messages.
    pub errors: Vec<String>,
    /// When each line of `errors` was written, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors_at: Vec<LineAt>,
    /// Its own copy of the globals at its end.
    pub globals: IndexMap<String, Value>,
    /// Its threads (SPEC §4a), the main thread first, when it had more than one (absent
    /// otherwise: a process of one thread is its main thread).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<ThreadReport>,
}

/// One thread of a process (SPEC §4a): its identity and the figures of a process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadReport {
    /// Thread id: the main thread's is the process's pid; the others' come from the same
    /// number space as pids, as Linux gives them.
    pub tid: u32,
    /// `MainThread`, `Thread-N (program)`, or the name it was given.
    pub name: String,
    /// Its daemon flag.
    pub daemon: bool,
    /// When it was created.
    pub created_at: u64,
    /// When it became ready the first time.
    pub admitted_at: Option<u64>,
    /// When it first ran.
    pub first_run: Option<u64>,
    /// When it ended.
    pub ended_at: Option<u64>,
    /// Time `running`.
    pub cpu: u64,
    /// Time `ready`.
    pub waiting: u64,
    /// Time `blocked`.
    pub blocked: u64,
    /// `first_run − admitted_at`.
    pub response: Option<u64>,
    /// `ended_at − admitted_at`.
    pub turnaround: Option<u64>,
    /// `ready → running` transitions.
    pub dispatches: u64,
    /// `running → ready` transitions.
    pub preemptions: u64,
}

/// When a line of output (or an error) was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LineAt {
    /// The tick (on the fork backend, the µs of the last event the supervisor relayed before
    /// the line: a line carries no clock of its own).
    pub t: u64,
    /// Its number among all the run's output and error lines, from 0: the order they were
    /// written in, which orders the lines of one tick.
    pub seq: u64,
}

/// One transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// When.
    pub t: u64,
    /// Index of the process in [`Report::processes`] (pids can be reused, indices cannot).
    pub proc: u32,
    /// Its pid (0, `null` in the JSON, for a child never started).
    #[serde(with = "pid_or_null")]
    pub pid: u32,
    /// State before.
    pub from: State,
    /// State after.
    pub to: State,
    /// Why.
    pub cause: Cause,
    /// The CPU, for transitions into or out of `running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// The thread, once its process has more than one (SPEC §4a): the main thread's tid is
    /// the pid, so an event of another thread has a `tid` other than its `pid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u32>,
}

impl TraceEvent {
    /// Whether this is a transition of a thread other than its process's main thread: the
    /// process's own row (the main thread's) leaves it out.
    pub fn is_other_thread(&self) -> bool {
        self.tid.is_some_and(|tid| tid != self.pid)
    }
}

/// Totals and averages of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// When the last process ended (or the run stopped).
    pub makespan: u64,
    /// CPU time spent running processes, over all CPUs.
    pub cpu_busy: u64,
    /// CPU time spent with nothing to do: `cpus × makespan − cpu_busy − switch_ticks`.
    pub idle: u64,
    /// CPU time spent switching.
    pub switch_ticks: u64,
    /// `cpu_busy / (cpus × makespan)`.
    pub utilization: f64,
    /// Processes ended per tick.
    pub throughput: f64,
    /// `ready → running` transitions in all.
    pub dispatches: u64,
    /// Dispatches of a process other than the CPU's previous one.
    pub context_switches: u64,
    /// Mean `response` over the processes that ran.
    pub avg_response: Option<f64>,
    /// Mean `turnaround` over the processes that ended.
    pub avg_turnaround: Option<f64>,
    /// Mean `waiting` over all processes.
    pub avg_waiting: Option<f64>,
}

/// What a backend counts during a run; [`Summary::from_totals`] derives the rest, the same way
/// for every backend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// When the last process ended (or the run stopped).
    pub makespan: u64,
    /// CPUs the run had.
    pub cpus: u32,
    /// CPU time spent running processes, over all CPUs.
    pub cpu_busy: u64,
    /// CPU time spent switching.
    pub switch_ticks: u64,
    /// Processes that ended.
    pub ended: u64,
    /// `ready → running` transitions.
    pub dispatches: u64,
    /// Dispatches of a process other than the CPU's previous one.
    pub context_switches: u64,
    /// Mean response, turnaround and waiting time.
    pub avg_response: Option<f64>,
    /// Mean turnaround.
    pub avg_turnaround: Option<f64>,
    /// Mean waiting time.
    pub avg_waiting: Option<f64>,
}

impl Summary {
    /// The summary of a run: idle time, utilization and throughput follow from the totals.
    pub fn from_totals(t: Totals) -> Summary {
        let capacity = u64::from(t.cpus).saturating_mul(t.makespan);
        Summary {
            makespan: t.makespan,
            cpu_busy: t.cpu_busy,
            idle: capacity
                .saturating_sub(t.cpu_busy)
                .saturating_sub(t.switch_ticks),
            switch_ticks: t.switch_ticks,
            utilization: if capacity == 0 {
                0.0
            } else {
                t.cpu_busy as f64 / capacity as f64
            },
            throughput: if t.makespan == 0 {
                0.0
            } else {
                t.ended as f64 / t.makespan as f64
            },
            dispatches: t.dispatches,
            context_switches: t.context_switches,
            avg_response: t.avg_response,
            avg_turnaround: t.avg_turnaround,
            avg_waiting: t.avg_waiting,
        }
    }
}

/// The field names of [`ProcessReport`], for validating `expect.sim.processes`.
pub const PROCESS_FIELDS: &[&str] = &[
    "pid",
    "ppid",
    "creator",
    "name",
    "program",
    "daemon",
    "exitcode",
    "signal",
    "created_at",
    "admitted_at",
    "first_run",
    "ended_at",
    "reaped_at",
    "cpu",
    "waiting",
    "blocked",
    "response",
    "turnaround",
    "dispatches",
    "preemptions",
    "output",
    "output_at",
    "errors",
    "errors_at",
    "globals",
    "threads",
];

/// The field names of [`Summary`], for validating `expect.sim.summary`.
pub const SUMMARY_FIELDS: &[&str] = &[
    "makespan",
    "cpu_busy",
    "idle",
    "switch_ticks",
    "utilization",
    "throughput",
    "dispatches",
    "context_switches",
    "avg_response",
    "avg_turnaround",
    "avg_waiting",
];

impl Report {
    /// The name of the parent of process `index` at the end of the run: `init` once it was
    /// reparented to pid 1 (or for a top-level process), else its creator's name.
    pub fn parent_name(&self, index: usize) -> String {
        let p = &self.processes[index];
        if p.ppid == 1 {
            return "init".into();
        }
        match p.creator {
            Some(c) => self.processes[c as usize].name.clone(),
            None => format!("pid {}", p.ppid),
        }
    }

    /// The processes with this name.
    pub fn by_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ProcessReport> + 'a {
        self.processes.iter().filter(move |p| p.name == name)
    }

    /// The sequence of states of process `proc` from the trace, starting at `new`, with runs of
    /// ready/running alternation folded into one `ready` … `running` pair.
    pub fn folded_states(&self, proc: u32) -> Vec<State> {
        fold_states(
            self.trace
                .iter()
                .filter(|e| e.proc == proc && !e.is_other_thread()),
        )
    }

    /// The sequence of states of the `nth` (from 0) thread of process `proc` whose id is
    /// `tid`, folded as [`Report::folded_states`] folds a process's (SPEC §4a). A tid may
    /// serve several threads one after another (the simulated kernel frees it when a thread
    /// ends, as Linux does), so the trace of that tid is cut at each `terminated`.
    pub fn folded_thread_states(&self, proc: u32, tid: u32, nth: usize) -> Vec<State> {
        let mut lives = 0;
        fold_states(
            self.trace
                .iter()
                .filter(|e| e.proc == proc && e.tid == Some(tid) && tid != e.pid)
                .filter(|e| {
                    let mine = lives == nth;
                    if e.to == State::Terminated {
                        lives += 1;
                    }
                    mine
                }),
        )
    }
}

/// A sequence of transitions as states from `new`, ready/running alternations folded.
fn fold_states<'a>(events: impl Iterator<Item = &'a TraceEvent>) -> Vec<State> {
    let mut out = vec![State::New];
    for e in events {
        let n = out.len();
        // ready → running → ready → running … is folded to ready → running.
        if n >= 2 && e.to == out[n - 2] && matches!(e.to, State::Ready | State::Running) {
            let pair = (out[n - 2], out[n - 1]);
            if pair == (State::Ready, State::Running) || pair == (State::Running, State::Ready) {
                out.pop();
                continue;
            }
        }
        out.push(e.to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64, from: State, to: State, cause: Cause) -> TraceEvent {
        TraceEvent {
            t,
            proc: 0,
            pid: 2,
            from,
            to,
            cause,
            cpu: None,
            tid: None,
        }
    }

    /// Each line's tick and number are in the JSON, and a report written before procsim kept
    /// them still reads (without them).
    #[test]
    fn output_times_in_json_and_older_reports_still_read() {
        let plan = crate::load_str(
            r#"{"programs": {"m": {"body": [{"print": "a"}, {"cpu": 3}, {"print": "b"}, {"fail": "x"}]}},
                "processes": [{"program": "m"}]}"#,
        )
        .unwrap();
        let report = crate::Sim::new(plan, Default::default()).run();
        let p = serde_json::to_value(&report.processes[0]).unwrap();
        assert_eq!(
            p["output_at"],
            serde_json::json!([{"t": 0, "seq": 0}, {"t": 3, "seq": 1}])
        );
        assert_eq!(p["errors_at"], serde_json::json!([{"t": 3, "seq": 2}]));
        let mut old = p.clone();
        old.as_object_mut().unwrap().remove("output_at");
        old.as_object_mut().unwrap().remove("errors_at");
        let back: ProcessReport = serde_json::from_value(old).unwrap();
        assert_eq!(back.output, ["a", "b"]);
        assert!(back.output_at.is_empty() && back.errors_at.is_empty());
    }

    #[test]
    fn folding_keeps_blocking_and_ends() {
        use Cause::*;
        use State::*;
        let trace = vec![
            ev(0, New, Ready, Admit),
            ev(0, Ready, Running, Dispatch),
            ev(4, Running, Ready, Preempt),
            ev(8, Ready, Running, Dispatch),
            ev(9, Running, Blocked, Io),
            ev(12, Blocked, Ready, IoDone),
            ev(12, Ready, Running, Dispatch),
            ev(13, Running, Terminated, Exit),
        ];
        let r = Report {
            scenario: String::new(),
            backend: "sim".into(),
            time_unit: TimeUnit::Tick,
            cpus: 1,
            error: None,
            processes: vec![],
            trace,
            summary: Summary {
                makespan: 0,
                cpu_busy: 0,
                idle: 0,
                switch_ticks: 0,
                utilization: 0.0,
                throughput: 0.0,
                dispatches: 0,
                context_switches: 0,
                avg_response: None,
                avg_turnaround: None,
                avg_waiting: None,
            },
            real: None,
            notes: Vec::new(),
        };
        assert_eq!(
            r.folded_states(0),
            vec![New, Ready, Running, Blocked, Ready, Running, Terminated]
        );
    }
}
