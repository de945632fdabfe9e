//! Every scenario in `scenarios/` under every policy of SPEC §3a: the run ends, obeys the
//! invariants that hold for any policy, gives the same bytes twice, and gives the same report
//! with the kernel's fast paths on and off (they apply only where they are exact: round
//! robin). Policies' own published answers are pinned by their scenarios' `expect` blocks.

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use procsim::report::Report;
use procsim::{Sim, SimOptions, State, StateGraph};

/// Each policy with parameters that exercise its options.
fn policies() -> Vec<Json> {
    vec![
        json!("rr"),
        json!("fcfs"),
        json!("sjf"),
        json!({"name": "sjf", "estimate": {"alpha": 0.5, "initial": 5}}),
        json!("srtf"),
        json!({"name": "priority", "preemptive": true, "aging": {"every": 3, "step": 1}}),
        json!("priority"),
        json!("hrrn"),
        json!({"name": "mlfq", "queues": 3, "quantum": [2, 4, 8], "allotment": [1, 2, 2],
               "boost": 20, "io_reset": true, "io_bump": true}),
        json!("mlfq"),
        json!("lottery"),
        json!("stride"),
        json!("cfs"),
        json!("eevdf"),
    ]
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The scenario's text with its policy replaced and its `expect` block dropped.
fn under(file: &PathBuf, policy: &Json) -> String {
    let mut doc: Json = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    doc.as_object_mut().unwrap().remove("expect");
    if doc.get("kernel").is_none() {
        doc["kernel"] = json!({});
    }
    doc["kernel"]["policy"] = policy.clone();
    doc.to_string()
}

fn run(text: &str, fast: bool) -> Report {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(plan, SimOptions::default());
    if !fast {
        sim.disable_fast_paths();
    }
    sim.run()
}

/// What holds for any run under any policy.
fn check_invariants(report: &Report, what: &str) {
    let graph = StateGraph::new();
    let cpus = report.cpus as usize;
    // Each task's transitions chain: a process's (its main thread's), and each other
    // thread's (SPEC §4a: its events carry a tid other than the pid).
    let mut state: std::collections::HashMap<(u32, Option<u32>), State> = Default::default();
    let mut running = 0usize;
    for e in &report.trace {
        assert!(graph.is_legal(e.from, e.to, e.cause), "{what}: {e:?}");
        let task = (e.proc, e.tid.filter(|_| e.is_other_thread()));
        let now = state.entry(task).or_insert(State::New);
        assert_eq!(*now, e.from, "{what}: {e:?}");
        *now = e.to;
        if e.to == State::Running {
            running += 1;
        }
        if e.from == State::Running {
            running -= 1;
        }
        assert!(running <= cpus, "{what}: {running} running at {}", e.t);
    }
    let s = &report.summary;
    assert_eq!(
        s.cpu_busy + s.idle + s.switch_ticks,
        u64::from(report.cpus) * s.makespan,
        "{what}"
    );
    if report.error.is_none() {
        for p in &report.processes {
            if p.signal.is_none()
                && let Some(t) = p.turnaround
            {
                assert_eq!(t, p.cpu + p.waiting + p.blocked, "{what}: {}", p.name);
            }
        }
    }
}

#[test]
fn every_scenario_runs_under_every_policy_the_same_with_and_without_fast_paths() {
    let mut runs = 0;
    for file in scenario_files() {
        for policy in policies() {
            let what = format!("{} under {policy}", file.display());
            let text = under(&file, &policy);
            let fast = run(&text, true);
            check_invariants(&fast, &what);
            let general = run(&text, false);
            let (a, b) = (
                serde_json::to_string(&fast).unwrap(),
                serde_json::to_string(&general).unwrap(),
            );
            assert!(a == b, "{what}: fast paths changed the report");
            let again = serde_json::to_string(&run(&text, true)).unwrap();
            assert!(a == again, "{what}: not deterministic");
            runs += 1;
        }
    }
    assert!(runs >= 14 * 40, "only {runs} runs");
}

#[test]
fn a_scenario_can_name_each_policy() {
    for policy in policies() {
        let text = json!({
            "kernel": {"policy": policy},
            "programs": {"p": {"body": [{"cpu": 3}]}},
            "processes": [{"program": "p"}],
        })
        .to_string();
        let report = run(&text, true);
        assert_eq!(report.processes[0].ended_at, Some(3), "{policy}");
    }
}

/// A run whose report lists no process gives back the records of reaped processes that no
/// handle can reach (recycle.rs), and reuses their slots: the summary must not change, under
/// any policy, with records given back at the first moment they can be.
fn summary_of(text: &str, recycle: bool) -> (String, usize) {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}"));
    // A run with threads keeps its records too (a thread group names its tasks by slot).
    let threads = plan.uses_threads();
    let mut sim = Sim::new(plan, SimOptions { trace: false });
    if recycle {
        // Lottery's ticket line is in slot order: it keeps its slots (and says so).
        let doc: Json = serde_json::from_str(text).unwrap();
        let lottery = doc["kernel"]["policy"] == json!("lottery");
        assert_eq!(sim.recycle_in_batches_of(1), !lottery && !threads);
    }
    while sim.advance() {}
    (
        serde_json::to_string(&sim.summary()).unwrap(),
        sim.process_count(),
    )
}

/// Forks in a loop, a grandchild in each child joined first with a timeout, a child killed
/// while its `io` timer is pending, handles read after the joins, and a handle copied into a child that reaches a
/// reaped sibling (a cycle through a child's handle to itself).
const CHURN: &str = r#"{
  "kernel": {"cpus": 2, "quantum": 3, "context_switch": 1},
  "programs": {
    "main": {"body": [{"repeat": {"times": 40, "as": "i", "body": [
      {"fork": {"as": "c", "program": "w", "args": ["$i"]}},
      {"fork": {"as": "d", "program": "k"}},
      {"cpu": 1}, {"kill": "d"}, {"join": "c"}, {"join": "d"},
      {"print": "{i}: c {c.pid} {c.exitcode} d {d.exitcode} {d.alive}"}]}}]},
    "w": {"params": ["n"], "body": [
      {"io": 2}, {"fork": {"as": "g", "program": "leaf"}}, {"cpu": {"uniform": [1, 4]}},
      {"join": {"handle": "g", "timeout": 1}}, {"join": "g"},
      {"print": "{n} {g.name} {g.exitcode} {c.name}"}]},
    "k": {"body": [{"io": 37}, {"cpu": 5}]},
    "leaf": {"body": [{"cpu": 2}, {"sleep": 1}]}
  },
  "processes": [{"program": "main"}, {"program": "leaf", "count": 3, "arrival": 5}]
}"#;

#[test]
fn giving_back_reaped_records_changes_no_summary_under_any_policy() {
    let mut texts: Vec<(String, String)> = Vec::new();
    for policy in policies() {
        for file in scenario_files() {
            texts.push((
                format!("{} under {policy}", file.display()),
                under(&file, &policy),
            ));
        }
        let mut churn: Json = serde_json::from_str(CHURN).unwrap();
        churn["kernel"]["policy"] = policy.clone();
        texts.push((format!("churn under {policy}"), churn.to_string()));
    }
    for (what, text) in &texts {
        assert_eq!(summary_of(text, false), summary_of(text, true), "{what}");
    }
}
