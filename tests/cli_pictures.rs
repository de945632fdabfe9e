//! The picture, schema, generator and sweep commands, run as a user runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value as Json;

mod common;

fn procsim_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_procsim"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("procsim runs")
}

fn procsim(args: &[&str]) -> Output {
    procsim_env(args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_dir() -> PathBuf {
    common::scratch_dir("cli-pictures")
}

#[test]
fn run_formats_perfetto_and_svg() {
    let o = procsim(&["run", "scenarios/demo.json", "--format", "perfetto"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert!(json["traceEvents"].as_array().unwrap().len() > 20);
    let o = procsim(&["run", "scenarios/demo.json", "--format", "svg"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = stdout(&o);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let rows = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("proc"))
        .count();
    assert_eq!(rows, 4);
}

#[test]
fn the_timeline_is_coloured_only_when_asked_or_on_a_terminal() {
    // stdout is a pipe here: auto means plain.
    let o = procsim(&["run", "scenarios/demo.json"]);
    assert!(!stdout(&o).contains('\x1b'));
    let o = procsim(&["run", "scenarios/demo.json", "--color", "always"]);
    let out = stdout(&o);
    assert!(out.contains("\x1b[97;44mR"), "{out}");
    assert!(out.contains("\x1b[0m"));
    let o = procsim_env(
        &["run", "scenarios/demo.json", "--color", "auto"],
        &[("NO_COLOR", "1")],
    );
    assert!(!stdout(&o).contains('\x1b'));
}

#[test]
fn graph_svg_needs_graphviz_and_says_so() {
    // With no PATH, `dot` cannot be found, whether or not it is installed.
    let o = procsim_env(&["graph", "states", "--format", "svg"], &[("PATH", "")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Graphviz's `dot`, which is not installed"),
        "{}",
        stderr(&o)
    );
    if !procsim::report::graphviz::available() {
        eprintln!(
            "skipped: Graphviz's `dot` is not installed, so --format svg is not drawn here (apt-get install graphviz)"
        );
        return;
    }
    for args in [
        &["graph", "states", "--format", "svg"][..],
        &["graph", "tree", "scenarios/demo.json", "--format", "svg"][..],
    ] {
        let o = procsim(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let svg = stdout(&o);
        // Graphviz writes a DOCTYPE line.
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(&svg, opts)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
    }
}

#[test]
fn schema_prints_json_schema() {
    let o = procsim(&["schema"]);
    assert!(o.status.success());
    let schema: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn gen_is_seeded_and_valid() {
    let args = [
        "gen",
        "--seed",
        "5",
        "--processes",
        "7",
        "--cpu-bound",
        "0.4",
        "--io-mean",
        "6",
    ];
    let a = procsim(&args);
    let b = procsim(&args);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
    let text = stdout(&a);
    assert_eq!(text.matches("-cpu\": {").count(), 3);
    let plan = procsim::load_str(&text).unwrap();
    assert_eq!(plan.kernel.quantum, 4);
    let other = procsim(&["gen", "--seed", "6", "--processes", "7"]);
    assert_ne!(a.stdout, other.stdout);
    let o = procsim(&["gen", "--processes", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("processes must be from 1"),
        "{}",
        stderr(&o)
    );
}

/// Parses CSV lines of plain fields (the sweep's numbers and paths contain no commas).
fn csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    (
        header,
        lines
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect(),
    )
}

#[test]
fn a_sweep_gives_the_rows_of_single_runs() {
    let o = procsim(&[
        "sweep",
        "scenarios/demo.json",
        "--set",
        "kernel.quantum=1,3",
        "--set",
        "kernel.context_switch=0,2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv(&stdout(&o));
    assert_eq!(
        &header[..4],
        [
            "run",
            "kernel.quantum",
            "kernel.context_switch",
            "processes"
        ]
    );
    assert_eq!(rows.len(), 4);
    let base: Json = serde_json::from_slice(
        &std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.json"))
            .unwrap(),
    )
    .unwrap();
    let dir = temp_dir();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        // The same scenario with the row's settings, run on its own.
        let mut doc = base.clone();
        doc["kernel"]["quantum"] = row[1].parse::<u64>().unwrap().into();
        doc["kernel"]["context_switch"] = row[2].parse::<u64>().unwrap().into();
        let file = dir.join(format!("single-{i}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        let single = procsim(&["run", file.to_str().unwrap(), "--format", "json"]);
        assert!(single.status.success(), "{}", stderr(&single));
        let report: procsim::Report = serde_json::from_slice(&single.stdout).unwrap();
        assert_eq!(row[3], report.processes.len().to_string());
        let summary = serde_json::to_value(&report.summary).unwrap();
        for (col, cell) in header.iter().zip(row).skip(4) {
            if col == "error" {
                assert_eq!(cell, "");
                continue;
            }
            let want = &summary[col];
            let got: Json = if cell.is_empty() {
                Json::Null
            } else {
                serde_json::from_str(cell).unwrap()
            };
            assert_eq!(got.as_f64(), want.as_f64(), "row {i} {col}");
        }
    }
}

#[test]
fn shards_concatenate_into_the_whole_sweep() {
    let common = [
        "sweep",
        "--gen",
        "--set",
        "gen.processes=4",
        "--set",
        "kernel.quantum=1..4",
        "--seeds",
        "1..5",
    ];
    for format in ["csv", "jsonl"] {
        let whole = procsim(&[&common[..], &["--format", format]].concat());
        assert!(whole.status.success(), "{}", stderr(&whole));
        let mut joined = Vec::new();
        for i in 1..=3 {
            let shard = format!("{i}/3");
            let part = procsim(&[&common[..], &["--format", format, "--shard", &shard]].concat());
            assert!(part.status.success(), "{}", stderr(&part));
            joined.extend(part.stdout);
        }
        assert_eq!(
            String::from_utf8(joined).unwrap(),
            stdout(&whole),
            "{format}"
        );
    }
    let o = procsim(&[&common[..], &["--format", "jsonl"]].concat());
    let first: Json = serde_json::from_str(stdout(&o).lines().nth(6).unwrap()).unwrap();
    assert_eq!(
        (
            first["run"].as_u64(),
            first["kernel.quantum"].as_u64(),
            first["seed"].as_u64()
        ),
        (Some(6), Some(2), Some(2))
    );
}

#[test]
fn a_sweep_plot_is_an_svg_with_a_line_per_series() {
    let plot = temp_dir().join("plot.svg");
    // The directory is named by this test binary's pid, which an earlier run may have had:
    // `--plot` rightly refuses to replace a file that exists.
    let _ = std::fs::remove_file(&plot);
    let o = procsim(&[
        "sweep",
        "scenarios/demo.json",
        "--set",
        "kernel.quantum=1,2,4,8",
        "--set",
        "kernel.context_switch=0,1,2",
        "--plot",
        plot.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&plot).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let lines = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("series"))
        .count();
    assert_eq!(lines, 3);
    assert!(svg.contains("avg_waiting against kernel.quantum"));
}

#[test]
fn bad_sweeps_exit_2_naming_the_setting() {
    for (args, needle) in [
        (
            &[
                "sweep",
                "scenarios/demo.json",
                "--set",
                "kernel.quantum=4,0",
            ][..],
            "run 1 (kernel.quantum=0): scenarios/demo.json: kernel.quantum: the quantum must be at least 1",
        ),
        (
            &["sweep", "scenarios/demo.json", "--set", "kernel.quantun=4"][..],
            "kernel.quantun: unknown key \"quantun\"",
        ),
        (
            &["sweep", "scenarios/demo.json", "--set", "kernel.quantum"][..],
            "--set kernel.quantum: expected PATH=VALUE",
        ),
        (
            &["sweep", "scenarios/demo.json", "--set", "gen.processes=3"][..],
            "need --gen",
        ),
        (
            &["sweep", "scenarios/demo.json", "--shard", "4/3"][..],
            "--shard 4/3",
        ),
        (
            &["sweep", "scenarios/demo.json", "--seeds", "9..2"][..],
            "--seeds 9..2: the range 9..2 is empty",
        ),
        (
            &["sweep", "--gen", "--set", "gen.cpu_bound=2"][..],
            "cpu_bound must be from 0 to 1",
        ),
        (
            &[
                "sweep",
                "scenarios/demo.json",
                "--set",
                "kernel.quantum=1",
                "--plot",
                "/tmp/x.svg",
                "--plot-x",
                "nope",
            ][..],
            "`nope` is not one of the sweep's settings",
        ),
        (
            &[
                "sweep",
                "scenarios/demo.json",
                "--set",
                "kernel.quantum=1,2",
                "--plot",
                "/tmp/procsim-same-column.svg",
                "--plot-x",
                "kernel.quantum",
                "--plot-series",
                "kernel.quantum",
            ][..],
            "--plot-series: `kernel.quantum` is already the x axis",
        ),
    ] {
        let o = procsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}: nothing is run");
    }
}
