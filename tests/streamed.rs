//! The formats made while the run goes (`--format perfetto`, the table) are the bytes of the
//! same formats rendered from the whole report, for every shipped scenario and for generated
//! workloads with several CPUs and switch costs.

use std::path::PathBuf;
use std::sync::Arc;

use procsim::report::{
    SvgOptions, render_perfetto, render_svg, render_table_switches, stream_perfetto, stream_svg,
    stream_table,
};
use procsim::study::workload::{GenParams, generate};
use procsim::{Plan, Sim, SimOptions};

mod common;

/// Every shipped scenario, and generated workloads: (name, plan, context switch).
fn cases() -> Vec<(String, Arc<Plan>, u64)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let (scenario, plan) = procsim::load(&f).unwrap_or_else(|e| panic!("{e}"));
        out.push((
            f.display().to_string(),
            plan,
            scenario.kernel.context_switch,
        ));
    }
    for seed in 1..=8 {
        // 60 processes: more than the table lists, so the hidden ones are counted; 700: more
        // than the chart has rows, so they are grouped; 20 CPUs share one lane.
        let n = [25, 60, 700][seed as usize % 3];
        let mut p = GenParams::new(seed, n);
        p.cpus = Some(if seed == 8 { 20 } else { 1 + (seed % 3) as u32 });
        p.context_switch = Some(seed % 3);
        p.quantum = Some(1 + seed % 5);
        let plan = procsim::load_str(&generate(&p).unwrap()).unwrap();
        out.push((format!("generated seed {seed}"), plan, seed % 3));
    }
    // 3,000 children forked and joined one after another, with a process beside them, on
    // two CPUs with a switch cost and pids wrapping at 64: enough reaped records for the
    // table's runs to give records back and reuse their slots (recycle.rs), pids too.
    let plan = procsim::load_str(
        r#"{"kernel": {"cpus": 2, "context_switch": 1, "quantum": 2, "pid_max": 64},
            "programs": {
              "main": {"body": [{"repeat": {"times": 3000, "body": [
                {"fork": {"as": "c", "program": "kid"}}, {"cpu": 1}, {"join": "c"}]}}]},
              "kid": {"body": [{"cpu": 2}, {"io": 1}, {"cpu": 1}, {"print": "{name} {pid}"}]},
              "side": {"body": [{"repeat": {"times": 2000, "body": [{"cpu": 3}, {"io": 2}]}}]}},
            "processes": [{"program": "main"}, {"program": "side"}]}"#,
    )
    .unwrap();
    out.push(("3,000 children one at a time".to_owned(), plan, 1));
    out
}

fn report(plan: &Arc<Plan>) -> procsim::Report {
    Sim::new(Arc::clone(plan), SimOptions::default()).run()
}

#[test]
fn streamed_perfetto_is_the_rendered_one() {
    for (name, plan, cs) in cases() {
        let whole = render_perfetto(&report(&plan), cs);
        let mut streamed = Vec::new();
        let stopped = stream_perfetto(
            Sim::new(Arc::clone(&plan), SimOptions::default()),
            cs,
            &mut streamed,
        )
        .unwrap();
        assert_eq!(stopped, report(&plan).error, "{name}");
        assert!(
            String::from_utf8(streamed).unwrap() == whole,
            "{name}: the streamed file differs"
        );
    }
}

#[test]
fn streamed_table_is_the_rendered_one() {
    for (name, plan, cs) in cases() {
        let r = report(&plan);
        for (width, color) in [(100, false), (37, true), (7, false)] {
            let ts = plan.kernel.thread_switch;
            let whole = render_table_switches(&r, width, color, (cs, ts));
            let (streamed, stopped) = stream_table(Arc::clone(&plan), width, color, cs);
            assert_eq!(stopped, r.error, "{name}");
            assert_eq!(streamed, whole, "{name} at width {width}");
        }
    }
}

#[test]
fn streamed_svg_is_the_rendered_one() {
    for (name, plan, cs) in cases() {
        let r = report(&plan);
        for width in [1000.0, 450.0] {
            let opts = SvgOptions {
                context_switch: cs,
                thread_switch: plan.kernel.thread_switch,
                width,
            };
            let (streamed, stopped) = stream_svg(Arc::clone(&plan), &opts);
            assert_eq!(stopped, r.error, "{name}");
            assert!(streamed == render_svg(&r, &opts), "{name} at width {width}");
        }
    }
}

/// `--format json` and `perfetto` write each reaped process's report out, past 4 MiB to a
/// temporary file, and reuse its record (sim/epitaphs.rs): 16,000 children, each printing a
/// line and writing a global, made and reaped one at a time beside a process that lives
/// throughout, give the files of the held report byte for byte (the reports read back from
/// the file, the records reused by collections).
#[test]
fn listing_runs_past_the_memory_budget_give_the_held_files() {
    let plan = procsim::load_str(
        r#"{"kernel": {"max_trace": 10000000, "pid_max": 5000},
            "globals": {"g": 0},
            "programs": {
              "main": {"body": [{"repeat": {"times": 16000, "as": "i", "body": [
                {"fork": {"as": "c", "program": "kid", "args": ["$i"]}}, {"join": "c"}]}}]},
              "kid": {"params": ["n"], "body": [
                {"set": {"name": "g", "value": "$n"}}, {"cpu": 1}, {"print": "{name} {n}"}]},
              "side": {"body": [{"sleep": 20000}, {"cpu": 1}]}},
            "processes": [{"program": "main"}, {"program": "side"}]}"#,
    )
    .unwrap();
    let held = report(&plan);
    assert_eq!(held.error, None);
    assert_eq!(held.processes.len(), 16_002);
    let mut whole = Vec::new();
    procsim::report::json::write(&held, &mut whole).unwrap();
    let out = common::Shared::default();
    let stopped = Sim::new(Arc::clone(&plan), SimOptions::default())
        .run_to_json(out.clone())
        .unwrap();
    assert_eq!(stopped, None);
    assert!(*out.0.borrow() == whole, "the streamed json differs");
    let mut streamed = Vec::new();
    stream_perfetto(Sim::new(plan, SimOptions::default()), 0, &mut streamed).unwrap();
    assert!(
        String::from_utf8(streamed).unwrap() == render_perfetto(&held, 0),
        "the streamed perfetto file differs"
    );
}
