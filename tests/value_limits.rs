//! Values and names that grow with a scenario's depth cannot turn it into a crash, an endless
//! run or unbounded memory: `append` nests a list at most 100 deep, copying or printing large
//! values counts against `kernel.max_steps`, and a report held in memory holds at most
//! `HELD_NAMES_CEILING` bytes of process names.

use procsim::{Sim, SimOptions};

mod common;

fn run(text: &str) -> procsim::Report {
    Sim::new(procsim::load_str(text).unwrap(), SimOptions::default()).run()
}

/// `append` is the one instruction that nests a list; a loop of it nested a level a pass until
/// a copy of the value overflowed the stack. It stops at 100 levels with Python's error for a
/// walk too deep, on a thread with a 256 KiB stack (the walks of a value 100 deep fit).
#[test]
fn a_list_nested_a_level_a_pass_stops_at_100_with_a_recursion_error() {
    let text = r#"{"globals": {"a": [], "b": []}, "programs": {"m": {"body": [
        {"repeat": {"times": 1000000, "body": [{"set": {"name": "b", "value": []}},
            {"append": {"name": "b", "value": "$a"}}, {"set": {"name": "a", "value": "$b"}}]}}]}},
        "processes": [{"program": "m"}]}"#;
    let r = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || run(text))
        .unwrap()
        .join()
        .expect("no stack overflow");
    assert!(r.error.is_none(), "{:?}", r.error);
    let p = &r.processes[0];
    assert_eq!(p.exitcode, Some(1));
    assert_eq!(
        p.errors,
        ["RecursionError: a list may nest at most 100 deep in procsim"]
    );
}

/// A loop copying a value of 65,536 characters counts 64 steps a copy beyond its own: 1,000
/// passes are 2,000 instructions but 66,000 steps, past a `max_steps` of 10,000; a copy of
/// 1,023 characters counts none beyond its own.
#[test]
fn copying_large_values_counts_against_max_steps() {
    let scenario = |chars: usize| {
        format!(
            r#"{{"kernel": {{"max_steps": 10000}}, "globals": {{"s": "{}", "t": ""}},
                "programs": {{"m": {{"body": [{{"repeat": {{"times": 1000, "body": [
                    {{"set": {{"name": "t", "value": "$s"}}}}]}}}}]}}}},
                "processes": [{{"program": "m"}}]}}"#,
            "x".repeat(chars)
        )
    };
    let r = run(&scenario(65_536));
    let e = r.error.expect("stopped by max_steps");
    assert!(e.contains("kernel.max_steps (10000) steps executed"), "{e}");
    let r = run(&scenario(1_023));
    assert!(r.error.is_none(), "{:?}", r.error);
}

/// A chain of processes with default names (`Process-1:1:…`, each as long as its depth):
/// a report held whole (`--check`, `graph tree`, `top`, `html`) holds every name, about
/// depth² bytes in all. 3,000 deep (9 MB of names) is held; 10,000 deep (100 MB) stops at the
/// ceiling on names, exit 3's message naming it, with the processes made before it listed.
#[test]
fn a_held_report_of_a_deep_chain_stops_at_the_ceiling_on_names() {
    let chain = |depth: u32| {
        format!(
            r#"{{"kernel": {{"max_processes": {depth}}},
                "programs": {{"node": {{"body": [{{"cpu": 1}},
                    {{"fork": {{"as": "c", "program": "node"}}}}, {{"join": "c"}}]}}}},
                "processes": [{{"program": "node"}}]}}"#
        )
    };
    let held =
        |text: &str| Sim::new(procsim::load_str(text).unwrap(), SimOptions { trace: true }).run();
    let r = held(&chain(3000));
    assert!(r.error.is_none(), "{:?}", r.error);
    let r = held(&chain(10_000));
    let e = r.error.expect("stopped at the ceiling on names");
    assert!(
        e.contains("the ceiling on process names held in memory for this report (33554432 bytes)"),
        "{e}"
    );
    let names: u64 = r.processes.iter().map(|p| p.name.len() as u64).sum();
    assert!(
        names <= procsim::sim::HELD_NAMES_CEILING + 20_000,
        "{names}"
    );
    // The same chain for its summary holds no names: it runs to the end.
    let mut sim = Sim::new(
        procsim::load_str(&chain(10_000)).unwrap(),
        SimOptions { trace: false },
    );
    while sim.advance() {}
    assert_eq!(sim.error(), None);
}

/// A report held whole counts each process's name when the process is made, started or not,
/// so that no name past the ceiling gets into the report: 4,000 copies of a 65,536-byte name
/// (all made before the run starts) stop the run before its first transition, the report
/// listing the 511 copies whose names fit: `NAME-N` is 65,538 bytes for copies 1–9, 65,539
/// for 10–99 and 65,540 from 100, and 9 + 90 + 412 of them make 33,490,832 bytes, 63,600
/// short of 2^25, which the 512th passes. Counted at each
/// copy's first transition, all 4,000 names went into the report after the stop (a million
/// characters each: 4 GB, and 19.5 GB for `--format html`). The same scenario streamed holds
/// no names and runs to its end; children made by `fork` stop the run at the one past it.
#[test]
fn a_held_report_counts_each_name_when_its_process_is_made() {
    let long = "N".repeat(procsim::scenario::MAX_NAME_BYTES);
    let copies = format!(
        r#"{{"kernel": {{"max_processes": 4096}}, "programs": {{"m": {{"body": [{{"cpu": 1}}]}}}},
            "processes": [{{"program": "m", "name": "{long}", "count": 4000}}]}}"#
    );
    let held =
        |text: &str| Sim::new(procsim::load_str(text).unwrap(), SimOptions { trace: true }).run();
    let r = held(&copies);
    let e = r.error.expect("stopped at the ceiling on names");
    assert!(
        e.contains("stopped at tick 0: the ceiling on process names"),
        "{e}"
    );
    assert_eq!(r.processes.len(), 511);
    let names: u64 = r.processes.iter().map(|p| p.name.len() as u64).sum();
    assert_eq!(names, 33_490_832);
    assert!(r.trace.is_empty(), "stopped before its first transition");
    let mut sim = Sim::new(
        procsim::load_str(&copies).unwrap(),
        SimOptions { trace: true },
    );
    let events = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counted = std::rc::Rc::clone(&events);
    sim.run_streaming(Box::new(move |_| counted.set(counted.get() + 1)));
    assert_eq!(sim.error(), None);
    // Each of the 4,000 copies: new → ready → running → terminated (reaped by init).
    assert_eq!(events.get(), 4_000 * 3);

    let forks = format!(
        r#"{{"kernel": {{"max_processes": 4096}},
            "programs": {{"m": {{"body": [{{"repeat": {{"times": 4000, "body": [{{"fork": {{"program": "c", "name": "{long}"}}}}]}}}}]}},
                          "c": {{"body": [{{"cpu": 1}}]}}}},
            "processes": [{{"program": "m"}}]}}"#
    );
    let r = held(&forks);
    let e = r.error.expect("stopped at the ceiling on names");
    assert!(e.contains("the ceiling on process names"), "{e}");
    // MainProcess (11 bytes) and the children up to the one whose name passed the ceiling:
    // 511 of 65,536 bytes fit with it (33,488,907 bytes), the 512th passes.
    assert_eq!(r.processes.len(), 1 + 512);
    let names: u64 = r.processes.iter().map(|p| p.name.len() as u64).sum();
    assert!(
        names <= procsim::sim::HELD_NAMES_CEILING + 65_536,
        "{names}"
    );
}

/// A run that keeps every record (a report held whole) stops once it has made more processes
/// than the ceiling on records kept, which a scenario cannot raise (`KEPT_RECORDS_CEILING`,
/// 2,000,000; 500 here). A run that gives reaped records back (`--format summary`; `json`,
/// `perfetto` and `svg`, which write each report out when its process is reaped) is not held
/// to it.
#[test]
fn a_run_keeping_every_record_stops_at_the_ceiling_on_records() {
    let forks = r#"{"kernel": {"max_trace": 100000000},
        "programs": {"main": {"body": [{"repeat": {"times": 1000, "body": [
            {"fork": {"as": "c", "program": "c"}}, {"join": "c"}]}}]},
            "c": {"body": [{"cpu": 1}]}},
        "processes": [{"program": "main"}]}"#;
    let sim = |trace: bool| {
        let mut sim = Sim::new(procsim::load_str(forks).unwrap(), SimOptions { trace });
        sim.keep_at_most_records(500);
        sim
    };
    // MainProcess and 499 children make 500 records; the 500th child is the 501st.
    let r = sim(true).run();
    let e = r.error.expect("stopped at the ceiling on records");
    assert!(
        e.contains("the ceiling on processes and threads made while every record is kept (500)"),
        "{e}"
    );
    assert_eq!(r.processes.len(), 501);
    let json = common::Shared::default();
    let stopped = sim(true).run_to_json(json.clone()).unwrap();
    assert_eq!(stopped, None);
    let listed: serde_json::Value = serde_json::from_slice(&json.0.borrow()).unwrap();
    assert_eq!(listed["processes"].as_array().map(Vec::len), Some(1001));
    let mut perfetto = Vec::new();
    let stopped = procsim::report::stream_perfetto(sim(true), 0, &mut perfetto).unwrap();
    assert_eq!(stopped, None);
    let text = String::from_utf8(perfetto).unwrap();
    assert!(
        text.contains("\"processes\":1001"),
        "{}",
        &text[text.len() - 600..]
    );
    // A run that writes reports out is held to its own ceiling (`LISTED_PROCESSES_CEILING`,
    // 4,000,000; 700 here): MainProcess and 699 children, the 700th child is the 701st.
    let mut listed = sim(true);
    listed.list_at_most_processes(700);
    let json = common::Shared::default();
    let stopped = listed.run_to_json(json.clone()).unwrap();
    assert!(
        stopped.is_some_and(|e| e.contains(
            "the ceiling on processes made in a run whose file lists every process (700)"
        )),
        "json"
    );
    let listed: serde_json::Value = serde_json::from_slice(&json.0.borrow()).unwrap();
    assert_eq!(listed["processes"].as_array().map(Vec::len), Some(701));
    let mut summary = sim(false);
    assert!(summary.recycle_reaped());
    while summary.advance() {}
    assert_eq!(summary.error(), None);
    assert_eq!(summary.process_count(), 1001);
}
