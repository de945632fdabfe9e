//! Threads (SPEC §4a) beyond what each `scenarios/thread-*.json` expects: invariants that hold
//! for every run with threads, under every policy, and the fork backend's refusal.

use std::path::PathBuf;

use procsim::report::Report;
use procsim::{Sim, SimOptions, State};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn thread_scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("thread-"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    files
}

/// The most tasks of one process running at once, from the trace.
fn most_running_at_once(report: &Report) -> usize {
    let mut running: std::collections::HashMap<u32, std::collections::HashSet<u32>> =
        Default::default();
    let mut most = 0;
    for e in &report.trace {
        let task = e.tid.unwrap_or(e.pid);
        let set = running.entry(e.proc).or_default();
        if e.to == State::Running {
            set.insert(task);
        } else if e.from == State::Running {
            set.remove(&task);
        }
        most = most.max(set.len());
    }
    most
}

const POLICIES: &[&str] = &[
    "rr", "fcfs", "sjf", "srtf", "priority", "hrrn", "mlfq", "lottery", "stride", "cfs", "eevdf",
];

/// A scenario's plan with another policy, CPU count and GIL setting.
fn variant(
    file: &std::path::Path,
    policy: &str,
    cpus: u32,
    gil: bool,
) -> std::sync::Arc<procsim::Plan> {
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let kernel = doc
        .as_object_mut()
        .unwrap()
        .entry("kernel")
        .or_insert(serde_json::json!({}));
    kernel["policy"] = policy.into();
    kernel["cpus"] = cpus.into();
    kernel["gil"] = gil.into();
    kernel.as_object_mut().unwrap().remove("quantum");
    doc.as_object_mut().unwrap().remove("expect");
    procsim::load_str(&doc.to_string()).unwrap()
}

#[test]
fn with_the_gil_at_most_one_thread_of_a_process_runs_under_every_policy() {
    let mut seen_parallel = false;
    for file in thread_scenarios() {
        for policy in POLICIES {
            for cpus in [1, 2, 3] {
                let report =
                    Sim::new(variant(&file, policy, cpus, true), SimOptions::default()).run();
                assert!(
                    report.error.is_none(),
                    "{}: {policy}: {:?}",
                    file.display(),
                    report.error
                );
                assert!(
                    most_running_at_once(&report) <= 1,
                    "{}: {policy} on {cpus} CPUs: two threads of a process ran at once",
                    file.display()
                );
                let free =
                    Sim::new(variant(&file, policy, cpus, false), SimOptions::default()).run();
                assert!(
                    free.error.is_none(),
                    "{}: {policy}: {:?}",
                    file.display(),
                    free.error
                );
                seen_parallel |= most_running_at_once(&free) > 1;
            }
        }
    }
    // The check above can fail: without the GIL, threads do run side by side.
    assert!(seen_parallel);
}

#[test]
fn runs_with_threads_are_deterministic_and_chain_under_every_policy() {
    for file in thread_scenarios() {
        for policy in POLICIES {
            let plan = variant(&file, policy, 2, true);
            let a = Sim::new(plan.clone(), SimOptions::default()).run();
            let b = Sim::new(plan, SimOptions::default()).run();
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&b).unwrap(),
                "{}: {policy}",
                file.display()
            );
            // Every task's transitions chain and end in `terminated`.
            let mut state: std::collections::HashMap<(u32, u32), State> = Default::default();
            for e in &a.trace {
                let s = state
                    .entry((e.proc, e.tid.unwrap_or(e.pid)))
                    .or_insert(State::New);
                assert_eq!(*s, e.from, "{}: {policy}: {e:?}", file.display());
                *s = e.to;
            }
            assert!(
                state.values().all(|s| *s == State::Terminated),
                "{}: {policy}",
                file.display()
            );
        }
    }
}

#[test]
fn a_thread_handle_has_no_pid_or_exitcode() {
    let plan = procsim::load_str(
        r#"{"programs": {"main": {"body": [{"thread": {"as": "t", "program": "w"}},
                                           {"join": "t"}, {"print": "{t.pid}"}]},
                         "w": {"body": []}},
            "processes": [{"program": "main"}]}"#,
    )
    .unwrap();
    let report = Sim::new(plan, SimOptions::default()).run();
    assert_eq!(
        report.processes[0].errors,
        ["AttributeError: 'Thread' object has no attribute 'pid'"]
    );
    assert_eq!(report.processes[0].exitcode, Some(1));
}

#[test]
fn a_thread_acquiring_a_lock_it_holds_waits_forever_and_the_run_says_deadlock() {
    // CPython's Lock is not reentrant: the second acquire never returns.
    let plan = procsim::load_str(
        r#"{"programs": {"main": {"body": [{"acquire": "L"}, {"acquire": "L"}, {"print": "never"}]}},
            "processes": [{"program": "main"}]}"#,
    )
    .unwrap();
    let report = Sim::new(plan, SimOptions::default()).run();
    let error = report.error.expect("the run cannot end");
    assert!(error.contains("deadlock at tick 0"), "{error}");
    assert!(report.processes[0].output.is_empty());
    let last = report.trace.last().unwrap();
    assert_eq!(
        (last.to, last.cause),
        (State::Blocked, procsim::Cause::Lock)
    );
}

#[test]
fn a_lock_held_at_a_fork_is_held_in_the_child() {
    // The child's copy of L is held (by a thread it does not have): its release frees it.
    let plan = procsim::load_str(
        r#"{"programs": {"main": {"body": [{"acquire": "L"}, {"fork": {"as": "c", "program": "child"}},
                                           {"join": "c"}, {"release": "L"}]},
                         "child": {"body": [{"release": "L"}, {"acquire": "L"}, {"print": "child: got L"},
                                            {"release": "L"}, {"release": "L"}]}},
            "processes": [{"program": "main"}]}"#,
    )
    .unwrap();
    let report = Sim::new(plan, SimOptions::default()).run();
    assert!(report.error.is_none(), "{:?}", report.error);
    let child = &report.processes[1];
    assert_eq!(child.output, ["child: got L"]);
    assert_eq!(child.errors, ["RuntimeError: release unlocked lock"]);
    assert_eq!(report.processes[0].errors, Vec::<String>::new());
}
