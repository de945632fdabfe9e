//! The pictures are valid and tell the truth: the Perfetto trace parses, its slices never
//! overlap on a track and add up to the report's figures; the SVG Gantt chart is well-formed
//! XML with a row per process; both are the same bytes on every run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use procsim::report::{Report, SvgOptions, render_perfetto, render_perfetto_switches, render_svg};
use procsim::study::workload::{GenParams, generate};
use procsim::{Sim, SimOptions};
use serde_json::Value as Json;

/// Every shipped scenario, and a few generated workloads with two CPUs and switch costs.
/// Every shipped scenario and generated workloads: (name, (context_switch, thread_switch),
/// report).
fn cases() -> Vec<(String, (u64, u64), Report)> {
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
        // The pictures draw a switch between two threads of one process `thread_switch` ticks
        // long (SPEC §4a), another `context_switch`.
        let report = Sim::new(plan, SimOptions::default()).run();
        out.push((
            f.display().to_string(),
            (
                scenario.kernel.context_switch,
                scenario.kernel.thread_switch,
            ),
            report,
        ));
    }
    for seed in 1..=6 {
        let mut p = GenParams::new(seed, 25);
        p.cpus = Some(1 + (seed % 3) as u32);
        p.context_switch = Some(seed % 3);
        p.quantum = Some(1 + seed % 5);
        let text = generate(&p).unwrap();
        let plan = procsim::load_str(&text).unwrap();
        let report = Sim::new(plan, SimOptions::default()).run();
        out.push((format!("generated seed {seed}"), (seed % 3, 0), report));
    }
    out
}

/// A complete slice: start, duration, name.
type Slice = (u64, u64, String);

#[test]
fn perfetto_trace_parses_never_overlaps_and_adds_up() {
    for (name, switches, report) in cases() {
        let (cs, ts) = switches;
        let text = render_perfetto_switches(&report, switches);
        assert_eq!(
            text,
            render_perfetto_switches(&report, switches),
            "{name}: not deterministic"
        );
        let json: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let events = json["traceEvents"].as_array().expect("traceEvents");
        // Complete slices per track (pid, tid).
        let mut tracks: BTreeMap<(u64, u64), Vec<Slice>> = BTreeMap::new();
        for e in events {
            assert!(
                e["ph"].is_string() && e["pid"].is_u64() && e["tid"].is_u64(),
                "{name}: {e}"
            );
            if e["ph"] == "X" {
                let (ts, dur) = (e["ts"].as_u64().unwrap(), e["dur"].as_u64().unwrap());
                assert!(dur > 0, "{name}: empty slice {e}");
                let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
                tracks.entry(key).or_default().push((
                    ts,
                    dur,
                    e["name"].as_str().unwrap().to_owned(),
                ));
            }
        }
        for (key, slices) in &mut tracks {
            slices.sort();
            for w in slices.windows(2) {
                assert!(
                    w[0].0 + w[0].1 <= w[1].0,
                    "{name}: overlap on track {key:?}: {w:?}"
                );
            }
        }
        // Process tracks (trace pid 2, tid = index + 1) match the report's per-process times.
        for (i, p) in report.processes.iter().enumerate() {
            let slices = tracks.get(&(2, i as u64 + 1)).cloned().unwrap_or_default();
            let sum =
                |state: &str| -> u64 { slices.iter().filter(|s| s.2 == state).map(|s| s.1).sum() };
            assert_eq!(sum("running"), p.cpu, "{name}: {} running", p.name);
            assert_eq!(sum("ready"), p.waiting, "{name}: {} ready", p.name);
            assert_eq!(sum("blocked"), p.blocked, "{name}: {} blocked", p.name);
            if let (Some(a), Some(e)) = (p.admitted_at, p.ended_at) {
                let first = slices.iter().find(|s| s.2 != "new").map(|s| s.0);
                assert!(
                    first.is_none() || first == Some(a),
                    "{name}: {} admitted",
                    p.name
                );
                let last_live = slices
                    .iter()
                    .filter(|s| s.2 != "zombie")
                    .map(|s| s.0 + s.1)
                    .max();
                assert!(last_live.is_none_or(|t| t == e), "{name}: {} ended", p.name);
            }
        }
        // CPU tracks (trace pid 1) add up to the summary.
        let cpu = |what: &dyn Fn(&str) -> bool| -> u64 {
            tracks
                .iter()
                .filter(|(k, _)| k.0 == 1)
                .flat_map(|(_, v)| v.iter())
                .filter(|s| what(&s.2))
                .map(|s| s.1)
                .sum()
        };
        assert_eq!(
            cpu(&|n| n != "switch"),
            report.summary.cpu_busy,
            "{name}: cpu busy"
        );
        assert_eq!(
            cpu(&|n| n == "switch"),
            report.summary.switch_ticks,
            "{name}: switch ticks"
        );
        let switches = tracks
            .iter()
            .filter(|(k, _)| k.0 == 1)
            .flat_map(|(_, v)| v.iter())
            .filter(|s| s.2 == "switch")
            .count() as u64;
        // Every switch is a slice when none costs nothing: a switch between two threads of one
        // process lasts `thread_switch` ticks (SPEC §4a).
        let threads = report.processes.iter().any(|p| p.threads.len() > 1);
        if cs > 0 && (ts > 0 || !threads) {
            assert_eq!(
                switches, report.summary.context_switches,
                "{name}: switches"
            );
        }
        // Names and pids are metadata; every exit has an instant.
        let names = events
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .count();
        // A track per thread other than a main thread (SPEC §4a), after the processes'.
        let threads: usize = report
            .processes
            .iter()
            .map(|p| p.threads.len().saturating_sub(1))
            .sum();
        assert_eq!(
            names,
            report.processes.len() + report.cpus as usize + threads,
            "{name}"
        );
        // Each thread's track (named `Process/thread (tid N)`) matches its figures.
        for e in events.iter().filter(|e| {
            e["ph"] == "M"
                && e["name"] == "thread_name"
                && e["pid"] == 2
                && e["tid"].as_u64().unwrap() > report.processes.len() as u64
        }) {
            let track = e["args"]["name"].as_str().unwrap();
            let (proc, rest) = track.split_once('/').unwrap();
            let tid: u32 = rest
                .rsplit_once("(tid ")
                .and_then(|(_, t)| t.strip_suffix(')'))
                .unwrap()
                .parse()
                .unwrap();
            let p = report.processes.iter().find(|p| p.name == proc).unwrap();
            let t = p.threads.iter().find(|t| t.tid == tid).unwrap();
            let slices = tracks
                .get(&(2, e["tid"].as_u64().unwrap()))
                .cloned()
                .unwrap_or_default();
            let sum =
                |state: &str| -> u64 { slices.iter().filter(|s| s.2 == state).map(|s| s.1).sum() };
            assert_eq!(sum("running"), t.cpu, "{name}: {track} running");
            assert_eq!(sum("ready"), t.waiting, "{name}: {track} ready");
            assert_eq!(sum("blocked"), t.blocked, "{name}: {track} blocked");
        }
        let exits = events
            .iter()
            .filter(|e| {
                e["ph"] == "i"
                    && e["cat"] == "event"
                    && !e["name"].as_str().unwrap().starts_with("fork")
            })
            .count();
        assert_eq!(
            exits,
            report
                .processes
                .iter()
                .filter(|p| p.ended_at.is_some())
                .count(),
            "{name}"
        );
    }
}

fn proc_rows(svg: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("proc"))
        .count()
}

#[test]
fn svg_gantt_is_xml_with_a_row_per_process() {
    for (name, (cs, ts), report) in cases() {
        let opts = SvgOptions {
            context_switch: cs,
            thread_switch: ts,
            ..SvgOptions::default()
        };
        let svg = render_svg(&report, &opts);
        assert_eq!(svg, render_svg(&report, &opts), "{name}: not deterministic");
        if report.processes.len() <= 600 {
            assert_eq!(proc_rows(&svg), report.processes.len(), "{name}");
        } else {
            // Beyond 600 processes rows stand for groups (tested below); every process is in one.
            let doc = roxmltree::Document::parse(&svg).unwrap();
            let covered: usize = doc
                .descendants()
                .filter(|n| n.attribute("class") == Some("proc-group"))
                .map(|g| g.attribute("data-count").unwrap().parse::<usize>().unwrap())
                .sum();
            assert_eq!(covered, report.processes.len(), "{name}");
        }
    }
}

#[test]
fn svg_gantt_stays_small_at_500_processes_and_groups_beyond_600() {
    let mut p = GenParams::new(3, 500);
    p.cpus = Some(4);
    p.arrival_mean = 6.0;
    let report = Sim::new(
        procsim::load_str(&generate(&p).unwrap()).unwrap(),
        SimOptions::default(),
    )
    .run();
    let svg = render_svg(&report, &SvgOptions::default());
    assert_eq!(proc_rows(&svg), 500);
    assert!(svg.len() < 1_500_000, "{} bytes", svg.len());
    assert!(
        svg.contains("each pixel column covers"),
        "the compression is said"
    );

    p.processes = 1300;
    let report = Sim::new(
        procsim::load_str(&generate(&p).unwrap()).unwrap(),
        SimOptions::default(),
    )
    .run();
    let svg = render_svg(&report, &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let groups: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("proc-group"))
        .collect();
    assert!(
        !groups.is_empty() && groups.len() <= 600,
        "{}",
        groups.len()
    );
    let covered: usize = groups
        .iter()
        .map(|g| g.attribute("data-count").unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(covered, 1300);
    assert!(svg.contains("each row stands for 3 processes"));
}

#[test]
fn a_stopped_run_still_draws() {
    let plan = procsim::load_str(
        r#"{"kernel": {"max_ticks": 50}, "programs": {"m": {"body": [{"cpu": 1000}]}},
            "processes": [{"program": "m"}]}"#,
    )
    .unwrap();
    let report = Sim::new(plan, SimOptions::default()).run();
    assert!(report.error.is_some());
    let svg = render_svg(&report, &SvgOptions::default());
    assert_eq!(proc_rows(&svg), 1);
    assert!(svg.contains("The run stopped early"));
    let json: Json = serde_json::from_str(&render_perfetto(&report, 0)).unwrap();
    let running: u64 = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "running")
        .map(|e| e["dur"].as_u64().unwrap())
        .sum();
    assert_eq!(running, 50);
}
