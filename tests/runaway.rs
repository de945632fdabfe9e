//! Scenarios that would never end, or would take the machine with them, stop by themselves
//! with a clear error and a partial report.

use procsim::{Sim, SimOptions};

fn run(text: &str) -> procsim::Report {
    Sim::new(procsim::load_str(text).unwrap(), SimOptions::default()).run()
}

#[test]
fn endless_cpu_work_stops_at_max_ticks() {
    let r = run(r#"{"kernel": {"max_ticks": 1000},
        "programs": {"spin": {"body": [{"repeat": {"times": 1000000000, "body": [{"cpu": 7}]}}]}},
        "processes": [{"program": "spin", "count": 2}]}"#);
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_ticks (1000)"), "{e}");
    assert_eq!(r.summary.makespan, 1000);
    assert!(r.processes.iter().all(|p| p.exitcode.is_none()));
    assert_eq!(r.summary.cpu_busy, 1000);
}

#[test]
fn a_loop_that_never_lets_time_pass_stops_at_max_steps() {
    let r = run(r#"{"kernel": {"max_steps": 5000}, "globals": {"n": 0},
        "programs": {"busy": {"body": [{"repeat": {"times": 1000000000,
            "body": [{"add": {"name": "n", "value": 1}}]}}]}},
        "processes": [{"program": "busy"}]}"#);
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_steps (5000)"), "{e}");
    assert_eq!(r.summary.makespan, 0);
    assert_eq!(r.processes[0].exitcode, None);
}

#[test]
fn nested_repeats_that_multiply_to_1e18_stop_at_max_steps() {
    let r = run(r#"{"programs": {"deep": {"body": [
            {"repeat": {"times": 1000000, "body": [
              {"repeat": {"times": 1000000, "body": [
                {"repeat": {"times": 1000000, "body": [{"cpu": 0}]}}]}}]}}]}},
        "processes": [{"program": "deep"}]}"#);
    assert!(r.error.expect("stopped").contains("max_steps"));
}

#[test]
fn a_fork_bomb_is_stopped_by_max_processes_in_the_processes_that_try() {
    let r = run(r#"{"kernel": {"max_processes": 50},
        "programs": {"bomb": {"body": [
            {"fork": {"as": "a", "program": "bomb"}},
            {"fork": {"as": "b", "program": "bomb"}},
            {"cpu": 1}]}},
        "processes": [{"program": "bomb"}]}"#);
    assert!(r.error.is_none(), "{:?}", r.error);
    let failed: Vec<_> = r
        .processes
        .iter()
        .filter(|p| p.errors == ["BlockingIOError: [Errno 11] Resource temporarily unavailable"])
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|p| p.exitcode == Some(1)));
    // Never more than 50 alive at once: replay creations and reaps.
    let mut events: Vec<(u64, i32)> = Vec::new();
    for p in &r.processes {
        events.push((p.created_at, 1));
        events.push((p.reaped_at.expect("reaped"), -1));
    }
    events.sort_by_key(|&(t, d)| (t, d));
    let mut alive = 0;
    for (_, d) in events {
        alive += d;
        assert!(alive <= 50, "{alive} alive");
    }
}

#[test]
fn a_print_flood_stops_at_max_output() {
    let r = run(r#"{"kernel": {"max_output": 100},
        "programs": {"talk": {"body": [{"repeat": {"times": 1000000,
            "body": [{"print": "{name} says hello"}, {"cpu": 1}]}}]}},
        "processes": [{"program": "talk", "count": 3}]}"#);
    assert!(
        r.error
            .expect("stopped")
            .contains("kernel.max_output (100 lines)")
    );
    let lines: usize = r.processes.iter().map(|p| p.output.len()).sum();
    assert_eq!(lines, 100);
}

#[test]
fn huge_tick_counts_saturate_instead_of_overflowing() {
    let r = run(r#"{"kernel": {"max_ticks": 18446744073709551615},
        "programs": {"long": {"body": [{"cpu": 9223372036854775807}, {"io": 9223372036854775807},
            {"cpu": 9223372036854775807}]}},
        "processes": [{"program": "long", "arrival": 9223372036854775807}]}"#);
    // Arrival 2^63 − 1, a burst as long, then I/O as long: the wake-up would be past 2^64 − 1.
    // It saturates there, and the run stops at the last tick instead of wrapping or hanging.
    let e = r.error.expect("stopped");
    assert!(e.contains("cannot go past the largest 64-bit tick"), "{e}");
    assert_eq!(r.summary.makespan, u64::MAX);
    let p = &r.processes[0];
    assert_eq!(p.cpu, 9223372036854775807);
    assert_eq!(p.exitcode, None);
}

#[test]
fn a_process_can_end_at_the_last_tick_but_one() {
    let r = run(r#"{"kernel": {"max_ticks": 18446744073709551615},
        "programs": {"long": {"body": [{"cpu": 9223372036854775807}, {"cpu": 9223372036854775807}]}},
        "processes": [{"program": "long"}]}"#);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.processes[0].ended_at, Some(u64::MAX - 1));
}

#[test]
fn a_value_that_doubles_fails_its_process_with_a_memory_error() {
    let r = run(r#"{"globals": {"s": "ab", "l": [1]},
        "programs": {
          "grow": {"body": [{"repeat": {"times": 64, "body": [{"add": {"name": "s", "value": "$s"}}]}}]},
          "nest": {"body": [{"repeat": {"times": 64, "body": [{"append": {"name": "l", "value": "$l"}}]}}]}},
        "processes": [{"program": "grow"}, {"program": "nest"}]}"#);
    assert!(r.error.is_none(), "{:?}", r.error);
    for p in &r.processes {
        assert_eq!(p.exitcode, Some(1), "{}", p.name);
        assert!(p.errors[0].starts_with("MemoryError"), "{:?}", p.errors);
    }
}

/// A chain of processes, each computing a tick, forking the next and joining it, unwinds in a
/// single tick once the deepest fork fails: every join wakes a parent that ends at once and
/// wakes its own. The kernel settles that tick in a loop, never a recursion, so the depth of
/// the chain is not the depth of the stack: run on a thread with a 512 KiB stack (a recursion
/// of a few hundred bytes a level ran out at 100,000 on the main thread's 8 MiB), every
/// process still ends.
#[test]
fn a_deep_chain_unwinds_in_one_tick_without_deepening_the_stack() {
    const DEPTH: u32 = 3000;
    let text = format!(
        r#"{{"kernel": {{"max_processes": {DEPTH}}},
            "programs": {{"node": {{"body": [{{"cpu": 1}}, {{"fork": {{"as": "c", "program": "node"}}}},
                                            {{"join": "c"}}]}}}},
            "processes": [{{"program": "node"}}]}}"#
    );
    // Every policy, each on a thread of its own, side by side.
    let runs: Vec<_> = [
        "rr", "fcfs", "sjf", "srtf", "priority", "hrrn", "mlfq", "lottery", "stride", "cfs",
        "eevdf",
    ]
    .into_iter()
    .map(|policy| {
        let text = text.replacen(
            "\"kernel\": {",
            &format!("\"kernel\": {{\"policy\": \"{policy}\", "),
            1,
        );
        let run = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                Sim::new(
                    procsim::load_str(&text).unwrap(),
                    SimOptions { trace: false },
                )
                .run()
            })
            .unwrap();
        (policy, run)
    })
    .collect();
    for (policy, run) in runs {
        let report = run.join().expect("the run completes");
        assert!(report.error.is_none(), "{policy}: {:?}", report.error);
        // The deepest one made a Process object but its start(), the fork, failed (exit 1):
        // that object is listed, never started (no pid, no exit code; SPEC §4 `start`).
        assert_eq!(report.processes.len(), DEPTH as usize + 1, "{policy}");
        let started: Vec<_> = report.processes.iter().filter(|p| p.pid != 0).collect();
        assert_eq!(started.len(), DEPTH as usize, "{policy}");
        assert!(
            report
                .processes
                .iter()
                .any(|p| p.pid == 0 && p.exitcode.is_none())
        );
        // The others ended when their child did, all at the same tick.
        let ends: Vec<u64> = started.iter().filter_map(|p| p.ended_at).collect();
        assert_eq!(ends.len(), DEPTH as usize, "{policy}");
        assert!(
            ends.iter().all(|&t| t == u64::from(DEPTH)),
            "{policy}: {ends:?}"
        );
    }
}

/// The summary of a stopped run, computed without the per-process report (`--format
/// summary`, sweeps), equals the report's.
fn summary_alone(text: &str) -> procsim::report::Summary {
    let mut sim = Sim::new(
        procsim::load_str(text).unwrap(),
        SimOptions { trace: false },
    );
    while sim.advance() {}
    sim.summary()
}

#[test]
fn a_stopped_run_has_one_summary_whatever_the_format() {
    // One process computing for 1,000 ticks, stopped at tick 10 in the middle of its burst:
    // it ran for all 10 ticks (cpu_busy 10, utilization 1).
    let lone = r#"{"kernel": {"max_ticks": 10},
        "programs": {"spin": {"body": [{"cpu": 1000}]}},
        "processes": [{"program": "spin"}]}"#;
    let r = run(lone);
    assert!(r.error.is_some());
    assert_eq!(r.summary.cpu_busy, 10);
    assert_eq!(r.summary.utilization, 1.0);
    assert_eq!(summary_alone(lone), r.summary);
    // Two processes, quantum 4, stopped at tick 10: the second has waited 4 + 2 ticks
    // (0-4 and 8-10) and is ready at the stop; average waiting (4 + 6) / 2 = 5.
    let two = r#"{"kernel": {"max_ticks": 10},
        "programs": {"spin": {"body": [{"cpu": 1000}]}},
        "processes": [{"program": "spin", "count": 2}]}"#;
    let r = run(two);
    assert_eq!(r.summary.cpu_busy, 10);
    assert_eq!(r.summary.avg_waiting, Some(5.0));
    assert_eq!(summary_alone(two), r.summary);
}

#[test]
fn a_context_switch_under_way_at_the_stop_counts_as_switching() {
    // The first dispatch on an idle CPU costs the switch: ticks 0-5 switching, stopped at 3.
    let text = r#"{"kernel": {"max_ticks": 3, "context_switch": 5},
        "programs": {"spin": {"body": [{"cpu": 1000}]}},
        "processes": [{"program": "spin"}]}"#;
    let r = run(text);
    assert!(r.error.is_some());
    assert_eq!(r.summary.makespan, 3);
    assert_eq!(r.summary.switch_ticks, 3);
    assert_eq!(r.summary.idle, 0);
    assert_eq!(r.summary.cpu_busy, 0);
    assert_eq!(summary_alone(text), r.summary);
}

#[test]
fn output_bytes_are_limited_in_all() {
    // Lines of 300 bytes: three make 900, the fourth would make 1,200 > 1,000.
    let r = run(&format!(
        r#"{{"kernel": {{"max_output_bytes": 1000}}, "globals": {{"s": "{}"}},
        "programs": {{"talk": {{"body": [{{"repeat": {{"times": 100, "body": [{{"print": "{{s}}"}}]}}}}]}}}},
        "processes": [{{"program": "talk"}}]}}"#,
        "x".repeat(300)
    ));
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_output_bytes (1000 bytes"), "{e}");
    assert_eq!(r.processes[0].output.len(), 3);
}

#[test]
fn a_line_past_256_kib_fails_its_process_with_a_memory_error() {
    // "ab" doubled 17 times is 2^18 = 262,144 characters, the most a line may hold; once
    // more is 524,288, a legal value but too long a line.
    let r = run(r#"{"globals": {"s": "ab"},
        "programs": {
          "fits": {"body": [{"repeat": {"times": 17, "body": [{"add": {"name": "s", "value": "$s"}}]}},
                            {"print": "{s}"}]},
          "long": {"body": [{"repeat": {"times": 18, "body": [{"add": {"name": "s", "value": "$s"}}]}},
                            {"print": "{s}"}]}},
        "processes": [{"program": "fits"}, {"program": "long"}]}"#);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.processes[0].exitcode, Some(0));
    assert_eq!(r.processes[0].output[0].len(), 262_144);
    assert_eq!(r.processes[1].exitcode, Some(1));
    assert!(r.processes[1].output.is_empty());
    assert!(
        r.processes[1].errors[0]
            .starts_with("MemoryError: a line of output may hold at most 262144 bytes"),
        "{:?}",
        r.processes[1].errors
    );
}

#[test]
fn the_trace_kept_for_a_report_is_limited() {
    // Quantum 1 and two processes: a preemption and a dispatch every tick.
    let text = r#"{"kernel": {"quantum": 1, "max_trace": 100},
        "programs": {"spin": {"body": [{"cpu": 1000}]}},
        "processes": [{"program": "spin", "count": 2}]}"#;
    let r = run(text);
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_trace (100 trace events)"), "{e}");
    assert_eq!(r.trace.len(), 100);
    // Without a trace (`--format summary`, sweeps) the same run is not limited by it.
    let mut sim = Sim::new(
        procsim::load_str(text).unwrap(),
        SimOptions { trace: false },
    );
    while sim.advance() {}
    assert_eq!(sim.error(), None);
}

#[test]
fn events_are_limited_on_many_cpus() {
    // Four CPUs, eight processes, quantum 1: every tick is handled by the general rounds and
    // counts 4. Ticks 0 … 99 make 400; tick 100 would pass the limit, so the run stops at 99
    // with every CPU busy all along: 4 × 99 = 396 ticks of CPU.
    let r = run(r#"{"kernel": {"quantum": 1, "cpus": 4, "max_events": 400},
        "programs": {"spin": {"body": [{"cpu": 1000}]}},
        "processes": [{"program": "spin", "count": 8}]}"#);
    let e = r.error.expect("stopped");
    assert!(
        e.contains("stopped at tick 99: kernel.max_events (400 events"),
        "{e}"
    );
    assert_eq!(r.summary.makespan, 99);
    assert_eq!(r.summary.cpu_busy, 396);
}

#[test]
fn copies_of_one_entry_share_their_globals_until_they_write() {
    // Three copies of one entry share the scenario's globals (the kernel keeps one `Arc` for
    // the top-level processes and counts who shares it, not a clone a process). Each writes
    // once: the first two writes copy 1,001 items and characters; the third, by the last
    // process sharing them, copies nothing. So 2,002 in all: a limit of 1,500 stops the run
    // at the second write, one of 2,500 lets it end.
    let scenario = |max: u64| {
        format!(
            r#"{{"kernel": {{"max_values": {max}}}, "globals": {{"big": "{}", "n": 0}},
            "programs": {{"p": {{"body": [{{"cpu": 5}}, {{"set": {{"name": "n", "value": 1}}}}, {{"cpu": 5}}]}}}},
            "processes": [{{"program": "p", "count": 3}}]}}"#,
            "x".repeat(1000)
        )
    };
    let e = run(&scenario(1500)).error.expect("stopped");
    assert!(e.contains("kernel.max_values (1500 items"), "{e}");
    let r = run(&scenario(2500));
    assert_eq!(r.error, None);
    assert!(
        r.processes
            .iter()
            .all(|p| p.globals.get("n") == Some(&procsim::Value::Int(1)))
    );
}

#[test]
fn globals_copied_into_many_processes_are_limited() {
    // Each child changes `n`, so it copies the globals it shares with its parent: 1,000
    // characters of `big` and 1 for `n`. Four copies make 4,004; the fifth makes 5,005, and
    // the run stops after that child's `set`.
    let r = run(&format!(
        r#"{{"kernel": {{"max_values": 5000}}, "globals": {{"big": "{}", "n": 0}},
        "programs": {{
          "main": {{"body": [{{"repeat": {{"times": 10, "body": [{{"fork": {{"as": "c", "program": "child"}}}}]}}}}, {{"cpu": 100}}]}},
          "child": {{"body": [{{"set": {{"name": "n", "value": 1}}}}, {{"cpu": 1000}}]}}}},
        "processes": [{{"program": "main"}}]}}"#,
        "x".repeat(1000)
    ));
    let e = r.error.expect("stopped");
    assert!(
        e.contains("kernel.max_values (5000 items and characters"),
        "{e}"
    );
    let changed = r
        .processes
        .iter()
        .filter(|p| p.globals.get("n") == Some(&procsim::Value::Int(1)))
        .count();
    assert_eq!(changed, 5);
}

#[test]
fn a_lone_process_on_two_cpus_costs_events_not_ticks() {
    // One process bursts for 10^12 ticks at quantum 1 on two CPUs; the other CPU stays idle.
    // Each of its slice ends changes nothing (it keeps its CPU), so the kernel moves past them
    // in one go: the run takes a handful of general rounds (each counting 2 events, one a
    // CPU), not 10^12. `max_events` counts them: 20 events are ten rounds.
    let text = r#"{"kernel": {"quantum": 1, "cpus": 2, "max_ticks": 2000000000000, "max_events": 20},
        "programs": {"spin": {"body": [{"cpu": 1000000000000}]}},
        "processes": [{"program": "spin"}]}"#;
    let r = run(text);
    assert_eq!(r.error, None);
    assert_eq!(r.summary.makespan, 1_000_000_000_000);
    assert_eq!(r.summary.cpu_busy, 1_000_000_000_000);
    assert_eq!(r.processes[0].ended_at, Some(1_000_000_000_000));
    // The general rounds alone handle every slice end: the same file stops at the limit.
    let mut sim = Sim::new(procsim::load_str(text).unwrap(), SimOptions::default());
    sim.disable_fast_paths();
    let r = sim.run();
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_events (20 events"), "{e}");
}

/// The report of `text` with the fast paths on and off, as JSON.
fn both_ways(text: &str) -> (String, String) {
    let fast = run(text);
    let mut sim = Sim::new(procsim::load_str(text).unwrap(), SimOptions::default());
    sim.disable_fast_paths();
    let general = sim.run();
    (
        serde_json::to_string(&fast).unwrap(),
        serde_json::to_string(&general).unwrap(),
    )
}

#[test]
fn slice_ends_moved_past_land_where_the_general_rounds_put_them() {
    // Lone processes on two and three CPUs, their slice ends moved past, against everything
    // that can fall on or between slice boundaries: a sleeper waking (a timer), an arrival,
    // a burst end on another CPU, a context switch, a kept remainder after a block, and the
    // tick limit. Each run must be the same with the moving on and off.
    let programs = r#""programs": {
          "spin": {"body": [{"cpu": 1003}]},
          "nap": {"body": [{"repeat": {"times": 5, "body": [{"sleep": 97}, {"cpu": 6}, {"io": 11}]}}]},
          "short": {"body": [{"cpu": 23}, {"sleep": 40}, {"cpu": 9}]}}"#;
    // An outside signal, too: SIGTERM to the lone spinner at tick 333, between its slice
    // boundaries (7 × 47 = 329 and 336).
    let signal = r#""events": [{"at": 333, "signal": "SIGTERM", "to": "spin"}],"#;
    for (kernel, events) in [
        (r#""quantum": 7, "cpus": 2"#, ""),
        (r#""quantum": 7, "cpus": 3, "context_switch": 2"#, ""),
        (
            r#""quantum": 5, "cpus": 2, "slice_after_block": "keep""#,
            "",
        ),
        (
            r#""quantum": 4, "cpus": 2, "tick_order": ["preempt", "admit", "wake"]"#,
            "",
        ),
        (r#""quantum": 3, "cpus": 2, "max_ticks": 500"#, ""),
        (r#""quantum": 7, "cpus": 2"#, signal),
    ] {
        let text = format!(
            r#"{{"kernel": {{{kernel}}}, {events} {programs},
            "processes": [{{"program": "spin"}}, {{"program": "nap", "arrival": 3}},
                          {{"program": "short", "arrival": 250}}, {{"program": "spin", "name": "late", "arrival": 700}}]}}"#
        );
        let (fast, general) = both_ways(&text);
        assert_eq!(fast, general, "{kernel} {events}");
        if !events.is_empty() {
            assert!(fast.contains("SIGTERM"), "{fast}");
        }
    }
}

#[test]
fn one_process_more_than_cpus_costs_what_its_schedule_needs() {
    // 1,025 processes of B ticks on 1,024 CPUs at quantum 1 (SPEC §3). Tick 0: CPUs 0 … 1023
    // take p0 … p1023 (1,024 dispatches), p1024 waits. At each tick 1 … B−1 every slice ends
    // with one process waiting ahead of the 1,024 preempted: CPU 0 takes it, CPU c takes the
    // process CPU c−1 held (its own CPU is taken), and the last one waits: 1,024 dispatches
    // and 1,024 preemptions a tick, a rotation in which each process waits once in the first
    // 1,025 ticks. At tick B the 1,025 − B that never waited end; the B − 1 pending ones and
    // the waiting one go round once more (B dispatches, B − 1 preemptions) and end at B + 1.
    // Dispatches 1,024·B + B = 1,025·B, each a context switch; preemptions 1,025·(B − 1);
    // waiting B in all. Every tick 0 … B + 1 is one general round counting 1,024 events:
    // 1,024·(B + 2) events, so the run needs that many and no more (before, each of those
    // events looked through every CPU, and a tick cost 1,024² steps).
    const B: u64 = 200;
    let text = |max_events: u64| {
        format!(
            r#"{{"kernel": {{"quantum": 1, "cpus": 1024, "max_events": {max_events}}},
            "programs": {{"spin": {{"body": [{{"cpu": {B}}}]}}}},
            "processes": [{{"program": "spin", "count": 1025}}]}}"#
        )
    };
    let needed = 1024 * (B + 2);
    let r = run(&text(needed));
    assert_eq!(r.error, None);
    assert_eq!(r.summary.makespan, B + 1);
    assert_eq!(r.summary.dispatches, 1025 * B);
    assert_eq!(r.summary.context_switches, 1025 * B);
    let preemptions: u64 = r.processes.iter().map(|p| p.preemptions).sum();
    assert_eq!(preemptions, 1025 * (B - 1));
    let waiting: u64 = r.processes.iter().map(|p| p.waiting).sum();
    assert_eq!(waiting, B);
    let e = run(&text(needed - 1)).error.expect("stopped");
    assert!(e.contains("kernel.max_events"), "{e}");
}

#[test]
fn a_scenario_cannot_raise_the_held_trace_past_the_ceiling() {
    // The scenario asks for 10^12 transitions; whoever runs it holds at most 1,000 (the
    // default is procsim::sim::HELD_TRACE_CEILING). Two processes of 1,000 ticks at quantum 1
    // on one CPU make two transitions a tick (a preemption and a dispatch), some 4,000 in all,
    // far more than 1,000: the run stops with 1,000 held and says which ceiling.
    let text = r#"{"kernel": {"quantum": 1, "max_trace": 1000000000000},
        "programs": {"spin": {"body": [{"cpu": 1000}]}},
        "processes": [{"program": "spin", "count": 2}]}"#;
    let mut sim = Sim::new(procsim::load_str(text).unwrap(), SimOptions::default());
    sim.hold_at_most(1000, "a test");
    let r = sim.run();
    let e = r.error.expect("stopped");
    assert!(
        e.contains("the ceiling on transitions held in memory for this report (1000, a test) reached, below kernel.max_trace (1000000000000)")
            && e.contains("--trace-ceiling"),
        "{e}"
    );
    assert_eq!(r.trace.len(), 1000);
    // A trace not held (here: none at all) is bounded by max_trace alone: the run ends.
    let mut sim = Sim::new(
        procsim::load_str(text).unwrap(),
        SimOptions { trace: false },
    );
    sim.hold_at_most(1000, "a test");
    while sim.advance() {}
    assert_eq!(sim.error(), None);
    // Below the ceiling, the scenario's own max_trace stops it, as before.
    let lower = text.replace("1000000000000", "500");
    let mut sim = Sim::new(procsim::load_str(&lower).unwrap(), SimOptions::default());
    sim.hold_at_most(1000, "a test");
    let e = sim.run().error.expect("stopped");
    assert!(e.contains("kernel.max_trace (500 trace events)"), "{e}");
    assert_eq!(procsim::sim::HELD_TRACE_CEILING, 10_000_000);
}

/// Every process's globals count against `kernel.max_value_bytes`, shared or not (the report
/// lists them for each): `big` (10,000 characters) and `n` take 32 + 10,000 + 32 = 10,064
/// bytes a process. Main and 8 children hold 90,576 ≤ 100,000; the ninth child makes 100,640,
/// and the run stops at that fork, though no child ever changed a global.
#[test]
fn a_large_global_shared_by_many_children_is_limited() {
    let r = run(&format!(
        r#"{{"kernel": {{"max_value_bytes": 100000}}, "globals": {{"big": "{}", "n": 0}},
        "programs": {{
          "main": {{"body": [{{"repeat": {{"times": 20, "body": [{{"fork": {{"as": "c", "program": "child"}}}}]}}}}, {{"cpu": 100}}]}},
          "child": {{"body": [{{"cpu": 1000}}]}}}},
        "processes": [{{"program": "main"}}]}}"#,
        "x".repeat(10_000)
    ));
    let e = r.error.expect("stopped");
    assert!(
        e.contains("stopped at tick 0: kernel.max_value_bytes (100000 bytes"),
        "{e}"
    );
    let children = r.processes.iter().filter(|p| p.program == "child").count();
    assert_eq!(children, 9);
}

/// One process growing many globals: ten empty strings take 10 × 32 = 320 bytes; each `set`
/// to 1,000 characters adds 1,000. Four make 4,320 ≤ 5,000, the fifth 5,320, and the run
/// stops after it (the change is made, as for `max_values`).
#[test]
fn many_large_globals_in_one_process_are_limited() {
    let names: Vec<String> = (0..10).map(|i| format!("g{i}")).collect();
    let globals: Vec<String> = names.iter().map(|n| format!("\"{n}\": \"\"")).collect();
    let long = "y".repeat(1000);
    let sets: Vec<String> = names
        .iter()
        .map(|n| format!("{{\"set\": {{\"name\": \"{n}\", \"value\": \"{long}\"}}}}"))
        .collect();
    let r = run(&format!(
        r#"{{"kernel": {{"max_value_bytes": 5000}}, "globals": {{{}}},
        "programs": {{"main": {{"body": [{}, {{"cpu": 1}}]}}}},
        "processes": [{{"program": "main"}}]}}"#,
        globals.join(", "),
        sets.join(", ")
    ));
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_value_bytes (5000 bytes"), "{e}");
    let set: Vec<&str> = r.processes[0]
        .globals
        .iter()
        .filter(|(_, v)| v.to_string().len() == 1000)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(set, ["g0", "g1", "g2", "g3", "g4"]);
}

/// The reviewer's case on the default limits: a 1,103-byte file doubling a string to 1 MiB
/// and forking 4,000 children made reports of 4 GB. A process holds `s` (32 + 1,048,576
/// bytes), `n`, `a` and `b` (32 each): 1,048,704 bytes. Main and 254 children hold
/// 267,419,520 ≤ 268,435,456 (256 MiB); the 255th child makes 268,468,224, and the run stops.
#[test]
fn the_reviewers_megabyte_in_four_thousand_children_stops_on_the_default_limit() {
    let mut body = vec![r#"{"set": {"name": "s", "value": "x"}}"#.to_owned()];
    body.extend((0..20).map(|_| r#"{"add": {"name": "s", "value": "$s"}}"#.to_owned()));
    body.push(
        r#"{"repeat": {"times": 4000, "body": [{"fork": {"as": "h", "program": "c"}}]}}, {"cpu": 1}"#
            .to_owned(),
    );
    let text = format!(
        r#"{{"globals": {{"s": "", "n": 0, "a": "", "b": ""}},
        "programs": {{"m": {{"body": [{}]}},
          "c": {{"body": [{{"add": {{"name": "n", "value": 1}}}}, {{"io": 100}}]}}}},
        "processes": [{{"program": "m"}}]}}"#,
        body.join(", ")
    );
    let r = run(&text);
    let e = r.error.expect("stopped");
    assert!(e.contains("kernel.max_value_bytes (268435456 bytes"), "{e}");
    assert_eq!(r.processes.iter().filter(|p| p.program == "c").count(), 255);
}
