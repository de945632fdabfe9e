//! Round robin's lean slice-end loop (`src/sim/fast/lean.rs`), which only a run that keeps no
//! trace takes (`--format summary`, the benches, `Sim` without a trace): every scenario and
//! generated round-robin workloads, run without a trace with the fast paths on and off, give
//! the same report byte for byte (every process's figures: time running, waiting and
//! blocked, dispatches, preemptions, first run, end; the kernel's context switches, switch
//! ticks and steps). The other tests compare runs that keep a trace, which this loop leaves
//! to the kernel's own.

use serde_json::{Value, json};

mod common;

use common::{assert_untraced_exact, report_json_with_trace as report};

#[test]
fn every_scenario_without_a_trace_is_the_same_with_the_fast_paths_on_and_off() {
    let mut compared = 0;
    for file in common::scenario_files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for switch in [None, Some(1), Some(2)] {
            let mut doc: Value = serde_json::from_str(&text).expect("JSON");
            if let Some(switch) = switch {
                doc["kernel"]["context_switch"] = json!(switch);
            }
            let case = format!("{} with context_switch {switch:?}", file.display());
            assert_untraced_exact(&doc.to_string(), &case);
            compared += 1;
        }
    }
    assert!(compared >= 3 * 100, "{compared}");
}

/// RR-IO-v1's shape and variations on it: bursts that end at a slice end or between, `io`
/// and `sleep` that end between slice ends, nested `repeat`s and instructions of no cost
/// before the next `cpu` (the loop's quick start), a `print` (which it leaves to the
/// interpreter), a process alone in the queue, arrivals; under switch costs, both wake-up
/// placements, and a step, event or tick budget that runs out inside the loop.
#[test]
fn round_robin_workloads_without_a_trace_are_the_same_with_the_fast_paths_on_and_off() {
    let shapes = [
        json!([{"repeat": {"times": 4, "body": [{"cpu": 50}, {"io": 20}]}}, {"cpu": 50}]),
        json!([{"repeat": {"times": 3, "body": [
            {"repeat": {"times": 2, "body": [{"cpu": 7}, {"cpu": 0}, {"sleep": 0}]}},
            {"io": 13}]}}, {"cpu": 9}]),
        json!([{"repeat": {"times": 3, "body": [{"cpu": 25}, {"sleep": 4}, {"print": "x"}]}}]),
        json!([{"cpu": 33}, {"io": 5}, {"cpu": 1}, {"io": 40}, {"cpu": 61}]),
    ];
    let mut compared = 0;
    for (s, shape) in shapes.iter().enumerate() {
        for n in [1u64, 2, 5, 9] {
            for quantum in [1u64, 3, 10] {
                for switch in [0u64, 1, 2] {
                    for wake_to in ["tail", "head"] {
                        let doc = json!({
                            "kernel": {"quantum": quantum, "context_switch": switch,
                                       "wake_to": wake_to},
                            "programs": {"job": {"body": shape}},
                            "processes": [{"program": "job", "count": n},
                                          {"program": "job", "name": "late", "arrival": 37}]
                        });
                        let case = format!(
                            "shape {s}, n = {n}, quantum {quantum}, switch {switch}, {wake_to}"
                        );
                        assert_untraced_exact(&doc.to_string(), &case);
                        compared += 1;
                    }
                }
            }
        }
    }
    assert_eq!(compared, 4 * 4 * 3 * 3 * 2);
}

/// A step or tick budget that runs out inside the lean loop stops the run where the general
/// rounds stop it; `kernel.max_events`, which the shortcuts count less of than the general
/// rounds (`Sim::disable_fast_paths`), where the kernel's own slice-end loop stops it (the
/// run with a trace, which takes that loop).
#[test]
fn a_budget_running_out_inside_the_lean_loop_stops_the_run_where_the_general_rounds_do() {
    let mut compared = 0;
    for switch in [0u64, 1] {
        for (key, range) in [
            ("max_steps", 1..=160u64),
            ("max_events", 1..=160),
            ("max_ticks", 1..=400),
        ] {
            for limit in range.step_by(3) {
                let doc = json!({
                    "kernel": {"quantum": 4, "context_switch": switch, key: limit},
                    "programs": {"job": {"body": [
                        {"repeat": {"times": 3, "body": [
                            {"repeat": {"times": 2, "body": [{"cpu": 9}, {"cpu": 0}]}},
                            {"io": 6}]}},
                        {"cpu": 5}]}},
                    "processes": [{"program": "job", "count": 4}]
                });
                let (text, case) = (doc.to_string(), format!("{key} {limit}, switch {switch}"));
                if key == "max_events" {
                    let (lean, traced) = (report(&text, true, false), report(&text, true, true));
                    assert!(
                        lean == traced,
                        "{case}: the lean loop stopped elsewhere\n{text}\nlean:   {lean}\ntraced: {traced}"
                    );
                } else {
                    assert_untraced_exact(&text, &case);
                }
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * (54 + 54 + 134));
}
