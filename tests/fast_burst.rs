//! Round robin's burst ends inside its slice-end loop (`src/sim/fast_burst.rs`) stop where the
//! general rounds stop: `kernel.max_trace` reached by the transitions of a burst end (the
//! block, a wake-up, the dispatch after it) ends the run at that transition, with the same
//! partial report; and so do the shortcuts of a switch cost and of several CPUs
//! (`fast_multi.rs`, `fast_tick.rs`). RR-IO-v1's shape at a small size, every limit over its
//! first burst ends, run with the fast paths on and off and the reports (trace included) compared byte for byte.

use serde_json::json;

mod common;

#[test]
fn a_trace_limit_reached_at_a_burst_end_stops_the_run_where_the_general_rounds_do() {
    let mut compared = 0;
    for (n, cpus, switch) in [(3u64, 1, 0), (5, 1, 0), (5, 1, 1), (9, 2, 0), (9, 4, 0)] {
        // Each process's burst ends at its slice end, blocks on `io`, and the process that
        // blocked before wakes at that tick: the burst-end shortcut's case. Every limit from
        // the admissions to well past the first round of burst ends.
        for max_trace in 1..=(12 * n + 40) {
            let doc = json!({
                "name": format!("fast_burst n={n} cpus={cpus} switch={switch} max_trace={max_trace}"),
                "kernel": {"quantum": 10, "max_trace": max_trace, "cpus": cpus,
                           "context_switch": switch},
                "programs": {"job": {"body": [
                    {"repeat": {"times": 3, "body": [{"cpu": 20}, {"io": 20}]}},
                    {"cpu": 20}
                ]}},
                "processes": [{"program": "job", "count": n}]
            });
            common::assert_fast_paths_exact(
                &doc.to_string(),
                &format!("n = {n}, cpus = {cpus}, switch = {switch}, max_trace = {max_trace}"),
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 76 + 100 + 100 + 148 + 148);
}
