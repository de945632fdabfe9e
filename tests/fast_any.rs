//! The one-CPU slice-end loop of the policies other than round robin (`src/sim/fast_any.rs`)
//! goes on through burst ends and through slice ends at which processes wake, each settled
//! by the shortcut the kernel's step would have taken next: it gives the general rounds'
//! reports when a limit (`max_trace`, `max_steps`) stops the run anywhere in it, under every
//! policy, and it applies: a run of RR-IO-v1 under lottery takes far fewer steps of
//! `Sim::advance` than it has burst ends. (`max_events` is left out: the one-CPU shortcuts
//! count less of the kernel's work than the general step, as `Kernel::disable_fast_paths`
//! says.)

use serde_json::{Value, json};

mod common;

/// RR-IO-v1's program for `n` processes at quantum 4 (bursts of 12, waits of 8: the wake-ups
/// fall on slice ends and burst ends; with `burst` 10 the bursts end between slice ends),
/// with `limit` set to `value`.
fn workload(policy: &Value, n: u64, burst: u64, limit: &str, value: u64) -> String {
    let mut kernel = json!({"policy": policy, "quantum": 4});
    kernel[limit] = json!(value);
    json!({
        "name": "fast_any",
        "seed": 5,
        "kernel": kernel,
        "programs": {"job": {"body": [
            {"repeat": {"times": 3, "body": [{"cpu": burst}, {"io": 8}]}},
            {"cpu": burst}]}},
        "processes": [{"program": "job", "count": n}],
    })
    .to_string()
}

#[test]
fn a_limit_anywhere_in_the_loop_gives_the_general_rounds_report() {
    let mut compared = 0;
    // Every policy but round robin, whose own loop is `fast.rs`'s.
    for policy in common::every_policy()
        .into_iter()
        .filter(|p| p != &json!("rr"))
    {
        for limit in ["max_trace", "max_steps"] {
            // Past the end of the run too (it ends before the largest of these).
            for value in (1..=90).step_by(1).chain((100..=400).step_by(20)) {
                for burst in [12, 10] {
                    let text = workload(&policy, 5, burst, limit, value);
                    let case = format!("policy {policy}, bursts {burst}, {limit} {value}");
                    common::assert_fast_paths_exact(&text, &case);
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 12 * 2 * 106 * 2);
}

#[test]
fn the_loop_goes_on_through_burst_ends_and_wake_ups() {
    let plan = common::rr_io_v1_with("policy", json!("lottery"));
    let (fast, steps) = common::run_by_advance(&plan, true);
    let (general, _) = common::run_by_advance(&plan, false);
    let (summary, same) = (fast.summary(), general.summary());
    assert_eq!(
        serde_json::to_string(&summary).unwrap(),
        serde_json::to_string(&same).unwrap()
    );
    // 1,000 processes of 10 bursts: 9,000 burst ends that block, each followed by a
    // wake-up. Each used to end the loop (and a step of `advance`) twice.
    assert!(summary.dispatches > 45_000, "{}", summary.dispatches);
    assert!(steps < 100, "{steps} steps");
}

/// Runs that keep no trace (`--format summary`, the benches) take the lean loop
/// (`src/sim/fast/lean_any.rs`): every scenario under each policy but round robin, and the
/// workloads above stopped by `max_steps` and `max_ticks`, with the fast paths on and off.
#[test]
fn runs_without_a_trace_give_the_general_rounds_report() {
    let mut compared = 0;
    let policies: Vec<Value> = common::every_policy()
        .into_iter()
        .filter(|p| p != &json!("rr"))
        .collect();
    for file in common::scenario_files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for policy in &policies {
            let mut doc: Value = serde_json::from_str(&text).expect("JSON");
            doc["kernel"]["policy"] = policy.clone();
            for key in ["wake_to", "slice_after_block"] {
                if let Some(kernel) = doc["kernel"].as_object_mut() {
                    kernel.remove(key);
                }
            }
            if let Some(doc) = doc.as_object_mut() {
                doc.remove("expect");
            }
            let case = format!("{} under {policy}", file.display());
            common::assert_untraced_exact(&doc.to_string(), &case);
            compared += 1;
        }
    }
    for policy in &policies {
        for limit in ["max_steps", "max_ticks"] {
            for value in (1..=90).chain((100..=400).step_by(20)) {
                for burst in [12, 10] {
                    let text = workload(policy, 5, burst, limit, value);
                    let case = format!("policy {policy}, bursts {burst}, {limit} {value}");
                    common::assert_untraced_exact(&text, &case);
                    compared += 1;
                }
            }
        }
    }
    assert!(compared >= 12 * 100 + 12 * 2 * 106 * 2, "{compared}");
}
