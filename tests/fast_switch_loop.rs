//! Round robin's slice-end loop under a switch cost on one CPU (`lone_slice_ends::<true>`,
//! `rr_lone_resume` in `src/sim/fast_switch.rs`): it goes on through the burst ends, the
//! switches after them and the timers that fire between the CPU's events, and it gives the
//! general rounds' reports. That it applies (few kernel steps with the fast paths on), and
//! that every limit it may meet on the way (`kernel.max_trace`, `max_steps`, `max_ticks`)
//! stops the run where the general rounds stop it, with the same partial report. A timer
//! that fires in another process's slice is fired in place (`wake_in_slice`): with it on and
//! off the runs stop at the same `kernel.max_events`, and the timers it must leave alone (a
//! killed process's, a join's timeout) give the same reports either way.

use std::sync::Arc;

use serde_json::json;

mod common;

/// The kernel steps a run takes, and its report as JSON.
fn steps_and_report(plan: &Arc<procsim::Plan>, fast: bool) -> (u64, String) {
    let (sim, steps) = common::run_by_advance(plan, fast);
    let report = serde_json::to_string(&sim.report()).expect("serializes");
    (steps, report)
}

/// RR-IO-v1 (1,000 processes, 10,000 burst ends) with a switch of 1 and of 2 ticks on one
/// CPU: the general rounds take a step for every tick with an event (slice ends, switch
/// ends, timers), the loop one in far fewer than twenty of theirs (2,001 against 109,001 at
/// a switch of 1). Before it, each burst end took three steps of the kernel (the burst end,
/// the switch's end, the `io` ending in the next slice): 29,021 steps, which this bound
/// fails.
#[test]
fn the_loop_goes_on_through_burst_ends_switches_and_timers() {
    for switch in [1, 2] {
        let plan = common::rr_io_v1_with("context_switch", json!(switch));
        let (fast_steps, fast) = steps_and_report(&plan, true);
        let (general_steps, general) = steps_and_report(&plan, false);
        assert_eq!(fast, general, "context_switch {switch}");
        assert!(
            general_steps > 10_000 && fast_steps * 20 < general_steps,
            "context_switch {switch}: {fast_steps} steps with the fast paths, {general_steps} without"
        );
    }
}

/// RR-IO-v1's shape at a small size with `io` ending between the slice ends (15 and 33 ticks
/// at quantum 10) under switches of 1 to 3 ticks, every limit from the first transitions to
/// past the first round of burst ends, with the fast paths on and off: the reports (the trace
/// included) are the same byte for byte.
#[test]
fn a_limit_reached_in_the_switching_loop_stops_the_run_where_the_general_rounds_do() {
    let mut compared = 0;
    for (n, io, switch) in [(3u64, 15, 1), (5, 15, 1), (5, 33, 2), (4, 20, 3)] {
        let limits = [
            ("max_trace", 1..=(14 * n + 40)),
            ("max_steps", 1..=(8 * n + 20)),
            ("max_ticks", 1..=(60 * n + 100)),
        ];
        for (limit, range) in limits {
            for value in range {
                let doc = json!({
                    "name": format!("switch loop n={n} io={io} switch={switch} {limit}={value}"),
                    "kernel": {"quantum": 10, "context_switch": switch, limit: value},
                    "programs": {"job": {"body": [
                        {"repeat": {"times": 3, "body": [{"cpu": 30}, {"io": io}]}},
                        {"cpu": 20}
                    ]}},
                    "processes": [{"program": "job", "count": n}]
                });
                common::assert_fast_paths_exact(
                    &doc.to_string(),
                    &format!("n = {n}, io = {io}, switch = {switch}, {limit} = {value}"),
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 1_000, "only {compared} runs compared");
}

/// A timer that fires in another process's slice under a switch cost is fired in place
/// (`wake_in_slice`), or, with that shortcut off, by the tick it stands for
/// (`lone_switching_tick`): both count the tick against `kernel.max_events`,
/// so the two runs stop at the same point for every value of it, and give the same reports
/// with no limit, with a trace and without one.
#[test]
fn a_wake_up_in_another_slice_is_the_tick_it_stands_for_under_every_limit() {
    let mut compared = 0;
    for (n, io, switch) in [(3u64, 15, 1), (5, 15, 1), (5, 33, 2), (4, 20, 3)] {
        for max_events in (1..=(12 * n + 40)).map(Some).chain([None]) {
            let mut doc = json!({
                "kernel": {"quantum": 10, "context_switch": switch},
                "programs": {"job": {"body": [
                    {"repeat": {"times": 3, "body": [{"cpu": 30}, {"io": io}]}},
                    {"cpu": 20}
                ]}},
                "processes": [{"program": "job", "count": n}]
            });
            if let Some(value) = max_events {
                doc["kernel"]["max_events"] = json!(value);
            }
            let text = doc.to_string();
            for trace in [true, false] {
                let on = report_with(&text, true, true, trace);
                let off = report_with(&text, true, false, trace);
                assert!(
                    on == off,
                    "n = {n}, io = {io}, switch = {switch}, max_events = {max_events:?}, \
                     trace {trace}\non:  {on}\noff: {off}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 400, "only {compared} runs compared");
}

/// The report of `text`'s run: the fast paths on or off, `wake_in_slice` on or off.
fn report_with(text: &str, fast: bool, wakes: bool, trace: bool) -> String {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut sim = procsim::Sim::new(plan, procsim::SimOptions { trace });
    if !fast {
        sim.disable_fast_paths();
    }
    if !wakes {
        sim.disable_wakes_in_slice();
    }
    serde_json::to_string(&sim.run()).expect("a report serializes")
}

/// The timers `wake_in_slice` must leave to the tick it stands for, firing in another
/// process's slice under a switch cost: a killed process's `io` (stale: its process is not
/// blocked any more) and a join's timeout (fired, or overtaken by the child's end). With the
/// shortcut on, off, and with the fast paths off, the reports are the same. (Found by a
/// review: without the shortcut's look at the process's state, the killed process woke, and
/// no other test saw it.)
#[test]
fn the_timers_a_wake_up_in_place_must_leave_alone_give_the_general_reports() {
    let hog = json!({"body": [{"repeat": {"times": 4, "body": [{"cpu": 50}, {"io": 13}]}}]});
    let mut compared = 0;
    for switch in 1..=3u64 {
        for x in [1u64, 3, 12, 25, 40] {
            for d in 15..=60u64 {
                let killed = json!({
                    "kernel": {"quantum": 10, "context_switch": switch},
                    "programs": {
                        "main": {"body": [
                            {"fork": {"as": "w", "program": "victim"}},
                            {"cpu": x}, {"kill": "w"}, {"cpu": 200}
                        ]},
                        "victim": {"body": [{"io": d + 100}, {"cpu": 10}]},
                        "hog": hog
                    },
                    "processes": [{"program": "main"}, {"program": "hog", "count": 2}]
                });
                let mut docs = vec![(killed, format!("kill, switch {switch}, x {x}, d {d}"))];
                for child in [5u64, 400] {
                    let joined = json!({
                        "kernel": {"quantum": 10, "context_switch": switch},
                        "programs": {
                            "main": {"body": [
                                {"cpu": x},
                                {"fork": {"as": "w", "program": "kid"}},
                                {"join": {"handle": "w", "timeout": d}},
                                {"io": d + 7}, {"cpu": 30},
                                {"join": {"handle": "w", "timeout": null}}
                            ]},
                            "kid": {"body": [{"cpu": child}]},
                            "hog": hog
                        },
                        "processes": [{"program": "main"}, {"program": "hog", "count": 2}]
                    });
                    docs.push((
                        joined,
                        format!("join, switch {switch}, x {x}, d {d}, child {child}"),
                    ));
                }
                for (doc, case) in docs {
                    let text = doc.to_string();
                    for trace in [true, false] {
                        let on = report_with(&text, true, true, trace);
                        let off = report_with(&text, true, false, trace);
                        let general = report_with(&text, false, true, trace);
                        assert!(
                            on == off && on == general,
                            "{case}, trace {trace}\n{text}\non:      {on}\noff:     {off}\ngeneral: {general}"
                        );
                        compared += 1;
                    }
                }
            }
        }
    }
    assert_eq!(compared, 3 * 5 * 46 * 3 * 2);
}
