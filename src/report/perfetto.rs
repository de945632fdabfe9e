//! A report as a Trace Event Format file (the JSON that ui.perfetto.dev and chrome://tracing
//! open): `procsim run FILE --format perfetto`.
//!
//! Layout: a trace "process" `CPUs` with one track per CPU (the process it ran, named, and a
//! `switch` slice for each context switch), and a trace "process" `Processes` with one track
//! per simulated process (`new`, `ready`, `running`, `blocked`, `zombie` slices; instants for
//! fork, signals and exit; an arrow from each fork to the child). Simulated pids can be reused
//! after a wrap, so tracks are numbered by the process's index in the report and the real pid
//! is in the track name and in each slice's args.
//!
//! Timestamps are the report's own times: a tick is written as 1 µs (the format's unit), so
//! the viewer's "µs" reads as "ticks". No wall clock is involved, which is why this is written
//! with serde rather than with a tracing-to-chrome layer (those stamp real time).

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::spans::{CpuWork, Phase, Spans};
use super::{Report, TimeUnit};
use crate::model::State;

/// Trace pid of the `CPUs` group.
const CPUS_PID: u32 = 1;
/// Trace pid of the `Processes` group.
const PROCS_PID: u32 = 2;

/// One event of the Trace Event Format. Fields the format leaves optional are skipped.
#[derive(Debug, Serialize)]
struct Event {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'static str>,
    ph: &'static str,
    ts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<u64>,
    pid: u32,
    tid: u32,
    /// Scope of an instant event (`t`: the thread's track).
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    /// Flow id.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    /// Flow binding point (`e`: the enclosing slice).
    #[serde(skip_serializing_if = "Option::is_none")]
    bp: Option<&'static str>,
    /// A colour name chrome://tracing knows (Perfetto colours by name instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    cname: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Json>,
}

impl Event {
    fn new(name: impl Into<String>, ph: &'static str, ts: u64, pid: u32, tid: u32) -> Event {
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

    fn meta(what: &str, pid: u32, tid: u32, args: Json) -> Event {
        Event {
            args: Some(args),
            ..Event::new(what, "M", 0, pid, tid)
        }
    }
}

/// The whole file: the JSON object form, so that metadata can ride along.
struct TraceFile {
    trace_events: Vec<Event>,
    other_data: Json,
}

/// The track of process `proc` in the `Processes` group.
fn proc_tid(proc: usize) -> u32 {
    proc as u32 + 1
}

/// The track of CPU `cpu` in the `CPUs` group.
fn cpu_tid(cpu: usize) -> u32 {
    cpu as u32 + 1
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::New => "new",
        Phase::Ready => "ready",
        Phase::Running { .. } => "running",
        Phase::Blocked { .. } => "blocked",
        Phase::Zombie => "zombie",
    }
}

fn phase_colour(phase: Phase) -> &'static str {
    match phase {
        Phase::New => "white",
        Phase::Ready => "thread_state_runnable",
        Phase::Running { .. } => "thread_state_running",
        Phase::Blocked { .. } => "thread_state_iowait",
        Phase::Zombie => "grey",
    }
}

/// Renders `report` as Trace Event Format JSON. `context_switch` is the scenario's
/// `kernel.context_switch` (see [`Spans::new`] for why it is needed). The same report gives the
/// same bytes.
///
/// ```
/// let plan = procsim::load_str(r#"{"programs": {"m": {"body": [{"cpu": 3}]}},
///     "processes": [{"program": "m"}]}"#).unwrap();
/// let report = procsim::Sim::new(plan, Default::default()).run();
/// let json: serde_json::Value = serde_json::from_str(&procsim::report::render_perfetto(&report, 0)).unwrap();
/// let running = json["traceEvents"].as_array().unwrap().iter()
///     .find(|e| e["name"] == "running").unwrap();
/// assert_eq!((running["ts"].as_u64(), running["dur"].as_u64()), (Some(0), Some(3)));
/// ```
pub fn render_perfetto(report: &Report, context_switch: u64) -> String {
    let spans = Spans::new(report, context_switch);
    let mut ev: Vec<Event> = Vec::new();
    let unit = match report.time_unit {
        TimeUnit::Tick => "tick",
        TimeUnit::Us => "µs",
    };

    // Names and order of the groups and tracks.
    let title = if report.scenario.is_empty() {
        "procsim".to_owned()
    } else {
        format!("procsim: {}", report.scenario)
    };
    ev.push(Event::meta(
        "process_name",
        CPUS_PID,
        0,
        json!({"name": "CPUs"}),
    ));
    ev.push(Event::meta(
        "process_labels",
        CPUS_PID,
        0,
        json!({"labels": title}),
    ));
    ev.push(Event::meta(
        "process_sort_index",
        CPUS_PID,
        0,
        json!({"sort_index": 0}),
    ));
    ev.push(Event::meta(
        "process_name",
        PROCS_PID,
        0,
        json!({"name": "Processes"}),
    ));
    ev.push(Event::meta(
        "process_sort_index",
        PROCS_PID,
        0,
        json!({"sort_index": 1}),
    ));
    for c in 0..spans.cpus.len() {
        let tid = cpu_tid(c);
        ev.push(Event::meta(
            "thread_name",
            CPUS_PID,
            tid,
            json!({"name": format!("CPU {c}")}),
        ));
        ev.push(Event::meta(
            "thread_sort_index",
            CPUS_PID,
            tid,
            json!({"sort_index": c}),
        ));
    }
    for (i, p) in report.processes.iter().enumerate() {
        let tid = proc_tid(i);
        let name = format!("{} (pid {})", p.name, p.pid);
        ev.push(Event::meta(
            "thread_name",
            PROCS_PID,
            tid,
            json!({"name": name}),
        ));
        ev.push(Event::meta(
            "thread_sort_index",
            PROCS_PID,
            tid,
            json!({"sort_index": i}),
        ));
    }

    // CPU tracks: who ran, and the switches.
    for (c, lane) in spans.cpus.iter().enumerate() {
        for s in lane {
            let p = &report.processes[s.proc as usize];
            let (name, cname) = match s.work {
                CpuWork::Run => (p.name.clone(), None),
                CpuWork::Switch => ("switch".to_owned(), Some("black")),
            };
            ev.push(Event {
                cat: Some("cpu"),
                dur: Some(s.end - s.start),
                cname,
                args: Some(json!({"process": p.name, "pid": p.pid})),
                ..Event::new(name, "X", s.start, CPUS_PID, cpu_tid(c))
            });
        }
    }

    // Process tracks: the state slices.
    for (i, lane) in spans.processes.iter().enumerate() {
        let p = &report.processes[i];
        for s in lane {
            let mut args = json!({"pid": p.pid});
            match s.phase {
                Phase::Running { cpu } => args["cpu"] = json!(cpu),
                Phase::Blocked { cause } => args["cause"] = json!(cause.name()),
                _ => {}
            }
            ev.push(Event {
                cat: Some("state"),
                dur: Some(s.end - s.start),
                cname: Some(phase_colour(s.phase)),
                args: Some(args),
                ..Event::new(phase_name(s.phase), "X", s.start, PROCS_PID, proc_tid(i))
            });
        }
    }

    // Instants: creation (on the creator's track, with an arrow to the child), signals, exits.
    let instant = |name: String, ts: u64, proc: usize, args: Json| Event {
        cat: Some("event"),
        s: Some("t"),
        args: Some(args),
        ..Event::new(name, "i", ts, PROCS_PID, proc_tid(proc))
    };
    for (i, p) in report.processes.iter().enumerate() {
        if let Some(c) = p
            .creator
            .map(|c| c as usize)
            .filter(|&c| c < report.processes.len())
        {
            let args = json!({"child": p.name, "child_pid": p.pid});
            ev.push(instant(format!("fork {}", p.name), p.created_at, c, args));
            // Flow arrows bind to the slices around these instants: the creator is running,
            // the child has just been created.
            let flow = |ph, proc| Event {
                cat: Some("fork"),
                id: Some(i as u64 + 1),
                bp: Some("e"),
                ..Event::new("fork", ph, p.created_at, PROCS_PID, proc_tid(proc))
            };
            ev.push(flow("s", c));
            ev.push(flow("f", i));
        }
        if let Some(t) = p.ended_at {
            let (name, args) = match (&p.signal, p.exitcode) {
                (Some(sig), code) => (sig.clone(), json!({"signal": sig, "exitcode": code})),
                (None, code) => (
                    format!("exit {}", code.map_or("?".into(), |c| c.to_string())),
                    json!({"exitcode": code}),
                ),
            };
            ev.push(instant(name, t, i, args));
        }
    }

    // A counter of how many processes are ready, running and blocked.
    let mut deltas: Vec<(u64, State, i64)> = Vec::new();
    for e in &report.trace {
        deltas.push((e.t, e.from, -1));
        deltas.push((e.t, e.to, 1));
    }
    let mut counts = [0i64; 3];
    let slot = |s: State| match s {
        State::Ready => Some(0),
        State::Running => Some(1),
        State::Blocked => Some(2),
        State::New | State::Terminated => None,
    };
    let mut k = 0;
    while k < deltas.len() {
        let t = deltas[k].0;
        while k < deltas.len() && deltas[k].0 == t {
            if let Some(j) = slot(deltas[k].1) {
                counts[j] += deltas[k].2;
            }
            k += 1;
        }
        ev.push(Event {
            args: Some(json!({"ready": counts[0], "running": counts[1], "blocked": counts[2]})),
            ..Event::new("processes", "C", t, CPUS_PID, 0)
        });
    }

    let s = &report.summary;
    let file = TraceFile {
        trace_events: ev,
        other_data: json!({
            "scenario": report.scenario,
            "backend": report.backend,
            "time_unit": format!("1 {unit} is shown as 1 µs"),
            "cpus": report.cpus,
            "processes": report.processes.len(),
            "error": report.error,
            "makespan": s.makespan,
            "cpu_busy": s.cpu_busy,
            "idle": s.idle,
            "switch_ticks": s.switch_ticks,
            "utilization": s.utilization,
            "throughput": s.throughput,
            "dispatches": s.dispatches,
            "context_switches": s.context_switches,
            "avg_response": s.avg_response,
            "avg_turnaround": s.avg_turnaround,
            "avg_waiting": s.avg_waiting,
        }),
    };
    write_file(&file)
}

/// The file with one event a line, so that a large trace can be read and diffed as text.
fn write_file(file: &TraceFile) -> String {
    // Serializing plain structs and `json!` maps cannot fail, so the fallbacks never show.
    let mut out = String::from("{\"traceEvents\":[\n");
    for (i, e) in file.trace_events.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push_str(&serde_json::to_string(e).unwrap_or_default());
    }
    out.push_str("\n],\n\"otherData\":");
    out.push_str(&serde_json::to_string(&file.other_data).unwrap_or_default());
    out.push_str("}\n");
    out
}
