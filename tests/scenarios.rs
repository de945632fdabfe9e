//! Every file in `scenarios/` runs, meets its `expect` block, and obeys the invariants that
//! hold for any run: legal transitions only, the time identity, and determinism.

use std::path::{Path, PathBuf};

use procsim::report::Report;
use procsim::study::check::check;
use procsim::{Sim, SimOptions, State, StateGraph};

mod common;

fn scenario_files() -> Vec<PathBuf> {
    let files = common::scenario_files();
    assert!(
        files.len() >= 8,
        "expected at least 8 scenarios, found {}",
        files.len()
    );
    files
}

fn run(file: &Path) -> (procsim::Scenario, Report) {
    let (scenario, plan) = procsim::load(file).unwrap_or_else(|e| panic!("{e}"));
    (scenario, Sim::new(plan, SimOptions::default()).run())
}

#[test]
fn every_scenario_meets_its_expectations() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in scenario_files() {
        let (scenario, report) = run(&file);
        if let Some(e) = &report.error {
            failures.push(format!("{}: stopped: {e}", file.display()));
            continue;
        }
        let Some(expect) = &scenario.expect else {
            continue;
        };
        checked += 1;
        for m in check(expect, &report) {
            failures.push(format!("{}: {m}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 8,
        "only {checked} scenarios have an expect block"
    );
}

#[test]
fn every_transition_in_every_trace_is_an_edge_of_the_state_graph() {
    let graph = StateGraph::new();
    for file in scenario_files() {
        let (_, report) = run(&file);
        assert!(!report.trace.is_empty(), "{}: empty trace", file.display());
        for e in &report.trace {
            assert!(
                graph.is_legal(e.from, e.to, e.cause),
                "{}: illegal transition {e:?}",
                file.display()
            );
        }
        // Each process's transitions also chain: every `from` is the state it was in; so do
        // each thread's (SPEC §4a: a thread's events carry its tid, other than the pid).
        let mut state = vec![State::New; report.processes.len()];
        let mut threads: std::collections::HashMap<(u32, u32), State> = Default::default();
        for e in &report.trace {
            let now = match e.tid {
                Some(tid) if e.is_other_thread() => {
                    threads.entry((e.proc, tid)).or_insert(State::New)
                }
                _ => &mut state[e.proc as usize],
            };
            assert_eq!(*now, e.from, "{}: {e:?}", file.display());
            *now = e.to;
        }
        // Every thread a report lists has ended with its process (none is left running).
        for (i, p) in report.processes.iter().enumerate() {
            for t in p.threads.iter().filter(|t| t.tid != p.pid) {
                assert_eq!(
                    threads.get(&(i as u32, t.tid)),
                    Some(&State::Terminated),
                    "{}: {} of {}",
                    file.display(),
                    t.name,
                    p.name
                );
            }
        }
    }
}

#[test]
fn turnaround_is_cpu_plus_waiting_plus_blocked_for_processes_that_end_by_themselves() {
    for file in scenario_files() {
        let (_, report) = run(&file);
        for p in &report.processes {
            // A thread's time, too, is spent ready, running or blocked (SPEC §4a).
            for t in &p.threads {
                if let Some(turnaround) = t.turnaround {
                    assert_eq!(
                        turnaround,
                        t.cpu + t.waiting + t.blocked,
                        "{}: {} of {}",
                        file.display(),
                        t.name,
                        p.name
                    );
                }
            }
            if p.signal.is_none()
                && let Some(turnaround) = p.turnaround
            {
                assert_eq!(
                    turnaround,
                    p.cpu + p.waiting + p.blocked,
                    "{}: {}",
                    file.display(),
                    p.name
                );
            }
        }
    }
}

#[test]
fn same_scenario_same_bytes() {
    for file in scenario_files() {
        let (_, a) = run(&file);
        let (_, b) = run(&file);
        let a = serde_json::to_string(&a).unwrap();
        let b = serde_json::to_string(&b).unwrap();
        assert_eq!(a, b, "{}", file.display());
    }
}

#[test]
fn the_fast_paths_give_the_same_reports_as_the_general_rounds() {
    for file in scenario_files() {
        let (_, fast) = run(&file);
        let (_, plan) = procsim::load(&file).unwrap();
        let mut sim = Sim::new(plan, SimOptions::default());
        sim.disable_fast_paths();
        let general = sim.run();
        assert_eq!(
            serde_json::to_string(&fast).unwrap(),
            serde_json::to_string(&general).unwrap(),
            "{}",
            file.display()
        );
    }
}

#[test]
fn the_streamed_json_is_the_report_byte_for_byte() {
    for file in scenario_files() {
        let (_, report) = run(&file);
        let mut held = Vec::new();
        procsim::report::json::write(&report, &mut held).unwrap();
        let (_, plan) = procsim::load(&file).unwrap();
        let out = common::Shared::default();
        Sim::new(plan, SimOptions::default())
            .run_to_json(out.clone())
            .unwrap();
        let streamed = out.0.borrow().clone();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(held.clone()).unwrap(),
            "{}",
            file.display()
        );
        let back: Report = serde_json::from_slice(&held).unwrap();
        assert_eq!(back, report, "{}", file.display());
    }
}

#[test]
fn the_report_json_parses_back() {
    for file in scenario_files() {
        let (_, report) = run(&file);
        let text = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            text,
            "{}",
            file.display()
        );
    }
}
