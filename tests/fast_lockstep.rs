//! Round robin's lean tick on several CPUs (`src/sim/fast_lockstep.rs`) gives the general
//! rounds' reports: workloads that keep the queue longer than the CPUs are many (where it
//! applies), with blocks on `io` and `sleep`, instructions of no cost, nested `repeat`s, and
//! instructions it leaves to the interpreter (`print`, `fork`, `join`, `kill`, a daemon's end)
//! right after a wake-up, under each same-tick order and each `wake_to`, on 2 to 4 CPUs and on
//! 33 and 64, run with the fast paths on and off and compared byte for byte (trace included,
//! and again without one: the lean tick's copy for runs without a trace); and so do runs
//! stopped by each limit at every point of their first ticks, and runs whose woken come out
//! of their timers in another order than the queue's. A test that it applies at all closes
//! the file.

use procsim::{Sim, SimOptions};
use serde_json::{Value, json};

mod common;

/// Program bodies, each a workload the lean tick meets differently.
fn shapes() -> Vec<Value> {
    vec![
        // RR-IO-v1's: a burst ends at a slice end and blocks on `io`.
        json!([{"repeat": {"times": 3, "body": [{"cpu": 20}, {"io": 20}]}}, {"cpu": 20}]),
        // Bursts ending between slice ends, on `sleep`.
        json!([{"repeat": {"times": 4, "body": [{"cpu": 7}, {"sleep": 5}]}}, {"cpu": 3}]),
        // Instructions of no cost before and after the blocks.
        json!([{"repeat": {"times": 2, "body": [{"cpu": 0}, {"io": 0}, {"cpu": 5}, {"io": 3}]}}, {"cpu": 4}]),
        // Nested loops.
        json!([{"cpu": 12}, {"io": 4},
               {"repeat": {"times": 2, "body": [{"repeat": {"times": 2, "body": [{"cpu": 3}]}}, {"io": 2}]}}]),
        // The interpreter's instructions right after a wake-up: a print, a fork, a join.
        json!([{"cpu": 5}, {"io": 3}, {"print": "{name} at {tick}"}, {"cpu": 5}, {"io": 1},
               {"fork": {"as": "c", "program": "child"}}, {"cpu": 4}, {"join": "c"}]),
        // A kill, right after a wake-up, of a child that may be running on another CPU; a
        // daemon child that its parent's end kills while it computes.
        json!([{"fork": {"as": "c", "program": "spin"}}, {"cpu": 5}, {"io": 2}, {"kill": "c"},
               {"join": "c"}, {"fork": {"as": "d", "program": "spin", "daemon": true}},
               {"cpu": 3}, {"io": 1}]),
    ]
}

fn scenario(body: &Value, n: u64, kernel: Value) -> String {
    json!({
        "name": "lean tick",
        "kernel": kernel,
        "programs": {
            "job": {"body": body},
            "child": {"body": [{"cpu": 3}, {"io": 2}, {"cpu": 2}]},
            "spin": {"body": [{"cpu": 40}]}
        },
        "processes": [{"program": "job", "count": n}]
    })
    .to_string()
}

#[test]
fn the_lean_tick_gives_the_general_rounds_reports() {
    let mut compared = 0;
    for body in shapes() {
        for n in [5u64, 9] {
            for cpus in [2u64, 3, 4] {
                for quantum in [1u64, 3, 10] {
                    for wake_to in ["tail", "head"] {
                        for order in common::TICK_ORDERS {
                            let kernel = json!({"cpus": cpus, "quantum": quantum,
                                                "wake_to": wake_to, "tick_order": order});
                            let text = scenario(&body, n, kernel);
                            common::assert_fast_paths_exact(&text, "a lean tick's workload");
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(compared, 6 * 2 * 3 * 3 * 2 * 6);
}

/// Many CPUs, up to the 64 that the CPUs' bit sets hold (the highest CPU is bit 63).
#[test]
fn the_lean_tick_on_many_cpus_gives_the_general_rounds_reports() {
    let mut compared = 0;
    for body in [&shapes()[0], &shapes()[5]] {
        for (cpus, n) in [(33u64, 40u64), (64, 70), (64, 130)] {
            for quantum in [1u64, 10] {
                let text = scenario(body, n, json!({"cpus": cpus, "quantum": quantum}));
                common::assert_fast_paths_exact(
                    &text,
                    &format!("{cpus} CPUs, quantum {quantum}, {n} processes"),
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 2 * 3 * 2);
}

#[test]
fn a_limit_reached_in_a_lean_tick_stops_the_run_where_the_general_rounds_do() {
    let mut compared = 0;
    for body in [&shapes()[0], &shapes()[4], &shapes()[5]] {
        for cpus in [2u64, 3, 4] {
            for limit in ["max_trace", "max_steps", "max_events"] {
                for at in 1..=200u64 {
                    let mut kernel = json!({"cpus": cpus, "quantum": 10});
                    kernel[limit] = json!(at);
                    common::assert_fast_paths_exact(
                        &scenario(body, 9, kernel),
                        &format!("{limit} = {at} on {cpus} CPUs"),
                    );
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 3 * 3 * 3 * 200);
}

/// The same workloads without a trace (`--format summary`, the benches), where the lean tick
/// is the copy that records nothing and works out what the CPUs have due next as it goes;
/// with the step and event limits at every point of their first ticks.
#[test]
fn the_lean_tick_without_a_trace_gives_the_general_rounds_reports() {
    let mut compared = 0;
    for body in shapes() {
        for n in [5u64, 9] {
            for cpus in [2u64, 3, 4] {
                // (A quantum of 5 has bursts that end with their slice.)
                for quantum in [1u64, 5, 10] {
                    for order in common::TICK_ORDERS {
                        let kernel = json!({"cpus": cpus, "quantum": quantum, "tick_order": order});
                        common::assert_untraced_exact(
                            &scenario(&body, n, kernel),
                            "a lean tick's workload, no trace",
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    for body in [&shapes()[0], &shapes()[1], &shapes()[4]] {
        for cpus in [2u64, 4] {
            for limit in ["max_steps", "max_events"] {
                for at in 1..=150u64 {
                    let mut kernel = json!({"cpus": cpus, "quantum": 10});
                    kernel[limit] = json!(at);
                    common::assert_untraced_exact(
                        &scenario(body, 9, kernel),
                        &format!("{limit} = {at} on {cpus} CPUs, no trace"),
                    );
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 6 * 2 * 3 * 3 * 6 + 3 * 2 * 2 * 150);
}

/// The woken of a lean tick come in the order their timers fire, which is the order the
/// queue takes them in except in one corner: a join's timeout overtaken by the child's end
/// stays queued, and when its process has blocked again in a timed join with the same
/// deadline, it wakes that process at the deadline, keyed by the tick of the second join,
/// before an `io` that blocked earlier but fires behind it. Here the waiter joins a short
/// child with a timeout of `t1` at tick 0 (a sleeper keeps an earlier timer queued until the
/// waiter blocks again, so the overtaken one is not dropped), then a long one at tick 13 with
/// `t1 - 13`; an `io` process blocks at tick 3 for `t1 - 3`. Both wake at `t1`, the waiter
/// first, so the tick must sort them (without the sort these reports differ).
#[test]
fn a_lean_tick_sorts_the_woken_when_a_stale_timeout_wakes_a_later_join() {
    let mut compared = 0;
    for t1 in 20..=60u64 {
        let text = json!({
            "name": "woken out of order",
            "kernel": {"cpus": 2, "quantum": 10},
            "programs": {
                "waiter": {"body": [
                    {"fork": {"as": "c1", "program": "short"}},
                    {"join": {"handle": "c1", "timeout": t1}},
                    {"fork": {"as": "c2", "program": "long"}},
                    {"join": {"handle": "c2", "timeout": t1 - 13}},
                    {"cpu": 3}]},
                "short": {"body": [{"cpu": 1}]},
                "long": {"body": [{"cpu": 300}]},
                "io": {"body": [{"cpu": 3}, {"io": t1 - 3}, {"cpu": 3}]},
                "fill": {"body": [{"cpu": 200}]},
                "sleeper": {"body": [{"sleep": t1 - 1}, {"cpu": 5}]}
            },
            "processes": [{"program": "waiter"}, {"program": "sleeper"}, {"program": "io"},
                          {"program": "fill", "count": 2}]
        })
        .to_string();
        let case = format!("timeouts at {t1}");
        common::assert_fast_paths_exact(&text, &case);
        common::assert_untraced_exact(&text, &case);
        compared += 1;
    }
    assert_eq!(compared, 41);
}

/// RR-IO-v1 on 4 CPUs: the lean tick settles the ticks that follow one another in one step
/// (`Sim::advance`), so there are several ticks of round robin's for every step with the
/// shortcuts on (the general tick, and `Sim::step`, settle one a step); a lean tick that
/// never applied would pass the comparisons above, not this.
#[test]
fn the_lean_tick_applies() {
    let plan = common::rr_io_v1_with("cpus", json!(4));
    let (sim, steps) = common::run_by_advance(&plan, true);
    let ticks = sim.rr_ticks();
    assert!(ticks >= 4 * steps, "{ticks} ticks in {steps} steps");
    // One tick a step when asked for one.
    let mut sim = Sim::new(plan, SimOptions::default());
    let mut steps = 0u64;
    while sim.step() {
        steps += 1;
    }
    assert!(
        sim.rr_ticks() <= steps + 1,
        "{} ticks in {steps} steps",
        sim.rr_ticks()
    );
}
