//! The real report: the simulated report's shape with real figures, and the limits that
//! stop a real run.

use super::*;

#[test]
fn the_real_report_has_the_simulated_shape_with_real_figures() {
    let _turn = timing_sensitive();
    if !available() {
        return;
    }
    let f = temp(
        "shape.json",
        r#"{"kernel": {"tick_us": 1000},
            "programs": {"main": {"body": [{"fork": {"as": "w", "program": "work"}}, {"cpu": 5}, {"join": "w"}]},
                         "work": {"body": [{"cpu": 20}, {"io": 10}, {"print": "{name} {pid} {ppid}"}]}},
            "processes": [{"program": "main"}]}"#,
    );
    for extra in [&[][..], &["--no-namespace"][..]] {
        let (o, report) = run_fork_json(&f, extra);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let r = report.expect("the JSON report parses");
        assert_eq!(r.backend, "fork");
        assert_eq!(r.time_unit, procsim::report::TimeUnit::Us);
        let real = r.real.as_ref().expect("a fork report says how it ran");
        let namespace = real.isolation == "pid-namespace";
        if extra.is_empty() && !namespace {
            eprintln!(
                "note: the kernel refused the PID namespace ({:?}); the subreaper fallback ran",
                real.isolation_note
            );
        }
        if !extra.is_empty() {
            assert_eq!(real.isolation, "subreaper");
        }
        assert_eq!(real.pinned_cpus.len(), 1);
        let graph = StateGraph::new();
        let mut state = vec![State::New; r.processes.len()];
        for e in &r.trace {
            assert!(graph.is_legal(e.from, e.to, e.cause), "{e:?}");
            assert_eq!(state[e.proc as usize], e.from, "{e:?}");
            state[e.proc as usize] = e.to;
        }
        let w = &r.processes[1];
        assert_eq!(w.name, "Process-1");
        // 20 ticks of 1 ms of its own CPU time, and 10 ms asleep.
        assert!(w.cpu >= 20_000, "{w:?}");
        assert!(w.blocked >= 9_000, "{w:?}");
        assert!(w.dispatches >= 2, "{w:?}");
        let t = w.turnaround.unwrap();
        assert!(t.abs_diff(w.cpu + w.waiting + w.blocked) <= 10, "{w:?}");
        assert!(w.ended_at <= w.reaped_at);
        let main = &r.processes[0];
        assert_eq!(main.ppid, 1);
        assert_eq!(w.ppid, main.pid);
        assert_eq!(w.output, [format!("Process-1 {} {}", w.pid, main.pid)]);
        if namespace {
            // In its own PID namespace the run's pids count from 2, as in the model.
            assert_eq!((main.pid, w.pid), (2, 3));
        }
    }
}

#[test]
fn a_limit_stops_the_run_with_a_partial_report() {
    if !available() {
        return;
    }
    let f = temp(
        "steps.json",
        r#"{"kernel": {"max_steps": 1000},
            "programs": {"main": {"body": [{"fork": {"as": "w", "program": "spin"}}, {"sleep": 1000}]},
                         "spin": {"body": [{"repeat": {"times": 100000, "body": [{"set": {"name": "x", "value": 1}}]}}]}},
            "globals": {"x": 0},
            "processes": [{"program": "main"}]}"#,
    );
    let (o, report) = run_fork_json(&f, &["--timeout", "30"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("max_steps"), "{}", text(&o.stderr));
    let r = report.unwrap();
    assert!(r.error.unwrap().contains("max_steps"));
    assert!(
        r.processes.iter().all(|p| p.exitcode.is_none()),
        "{:?}",
        r.processes
    );
}

/// `kernel.max_values` holds on real processes too, counted as the simulated kernel counts
/// it (`tests/runaway.rs` has the same case there): each child changes `n`, so it copies the
/// globals it shares with its parent, 1,000 characters of `big` and 1 for `n`; four copies
/// make 4,004, the fifth 5,005 > 5,000, and the run stops with exit 3.
#[test]
fn globals_copied_into_many_real_processes_are_limited() {
    if !available() {
        return;
    }
    let f = temp(
        "values.json",
        &format!(
            r#"{{"kernel": {{"max_values": 5000}}, "globals": {{"big": "{}", "n": 0}},
            "programs": {{
              "main": {{"body": [{{"repeat": {{"times": 10, "body": [{{"fork": {{"as": "c", "program": "child"}}}}]}}}}, {{"sleep": 2000}}]}},
              "child": {{"body": [{{"set": {{"name": "n", "value": 1}}}}, {{"sleep": 2000}}]}}}},
            "processes": [{{"program": "main"}}]}}"#,
            "x".repeat(1000)
        ),
    );
    let (o, report) = run_fork_json(&f, &["--timeout", "30"]);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    let r = report.expect("a partial report");
    let e = r.error.unwrap_or_default();
    assert!(
        e.contains("kernel.max_values (5000 items and characters"),
        "{e}"
    );
    let changed = r
        .processes
        .iter()
        .filter(|p| p.globals.get("n") == Some(&procsim::Value::Int(1)))
        .count();
    assert!((5..=10).contains(&changed), "{changed}");
}

/// A global as large as the model allows (1,048,576 characters, `MAX_VALUE_WEIGHT`) is larger
/// than one event of the channel: it is sent in pieces and reported whole, so both backends
/// agree (it used to stop the real run with `global #0 grew too large to report`).
#[test]
fn a_global_as_large_as_a_value_may_grow_is_reported_whole() {
    if !available() {
        return;
    }
    let mut body = vec![r#"{"set": {"name": "s", "value": "\"x"}}"#.to_owned()];
    body.extend((0..19).map(|_| r#"{"add": {"name": "s", "value": "$s"}}"#.to_owned()));
    body.push(r#"{"print": "ok"}"#.to_owned());
    let f = temp(
        "g1m.json",
        &format!(
            r#"{{"globals": {{"s": ""}}, "programs": {{"m": {{"body": [{}]}}}},
            "processes": [{{"program": "m"}}]}}"#,
            body.join(", ")
        ),
    );
    let (o, report) = run_fork_json(&f, &["--timeout", "30"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r = report.expect("a report");
    let want = "\"x".repeat(1 << 19);
    assert_eq!(
        r.processes[0].globals.get("s"),
        Some(&procsim::Value::Str(want))
    );
    if realtime_permitted() {
        let o = Command::new(bin())
            .args(["compare", "--timeout", "30"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
    }
}
