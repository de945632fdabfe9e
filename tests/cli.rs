//! The `procsim` binary, run as a user runs it.

use std::path::PathBuf;
use std::process::Output;

mod common;

use common::procsim;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = common::scratch_dir("cli");
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn no_argument_runs_the_demo() {
    let o = procsim(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PID  PPID  NAME"), "{out}");
    assert!(out.contains("Timeline (1 column = 1 tick"), "{out}");
    assert!(out.contains("Summary: makespan 29"), "{out}");
    assert!(
        out.contains("[shell] shell (pid 3) reaped Process-1 (pid 5), exit code 0"),
        "{out}"
    );
}

#[test]
fn check_passes_on_every_shipped_scenario() {
    let mut files: Vec<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .filter(|p| p.ends_with(".json"))
            .collect();
    files.sort();
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let o = procsim(&args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o)
            .lines()
            .filter(|l| l.ends_with(": ok") || l.contains(": ok ("))
            .count(),
        files.len()
    );
}

#[test]
fn run_json_is_the_report() {
    let o = procsim(&["run", "scenarios/demo.json", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: procsim::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report.backend, "sim");
    assert_eq!(report.summary.makespan, 29);
    assert_eq!(report.processes.len(), 4);
}

#[test]
fn run_summary_prints_only_the_summary() {
    let o = procsim(&["run", "scenarios/demo.json", "--format", "summary"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("makespan          29"), "{out}");
    assert!(!out.contains("Timeline"), "{out}");
}

#[test]
fn a_failed_expectation_exits_1_and_says_what_differs() {
    let f = temp_file(
        "wrong.json",
        r#"{"programs": {"main": {"body": [{"cpu": 5}]}}, "processes": [{"program": "main"}],
            "expect": {"sim": {"summary": {"makespan": 6}}}}"#,
    );
    let o = procsim(&["check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("summary.makespan: expected 6, got 5"),
        "{}",
        stdout(&o)
    );
    let o = procsim(&["run", f.to_str().unwrap(), "--check", "--format", "summary"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_bad_scenario_exits_2_naming_file_line_and_column() {
    let f = temp_file(
        "bad.json",
        "{\"programs\": {\"main\": {\"body\": [{\"cpu\": 1}]}},\n \"processes\": [{\"program\": \"mian\"}]}",
    );
    for cmd in ["validate", "check", "run"] {
        let o = procsim(&[cmd, f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        assert!(err.contains("bad.json"), "{err}");
        assert!(
            err.contains("processes[0].program: unknown program `mian`"),
            "{err}"
        );
    }
    let f = temp_file("syntax.json", "{\"programs\": {},\n  \"processes\": [}");
    let o = procsim(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("syntax.json:2:17: processes[0]: expected value"),
        "{}",
        stderr(&o)
    );
    let o = procsim(&["run", "/nonexistent/scenario.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/scenario.json: cannot read"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_runaway_scenario_stops_with_exit_3_and_a_partial_report() {
    let f = temp_file(
        "runaway.json",
        r#"{"kernel": {"max_ticks": 50}, "programs": {"main": {"body": [{"cpu": 1000}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let o = procsim(&["run", f.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(3));
    let report: procsim::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report.error.unwrap().contains("max_ticks"));
    assert_eq!(report.processes[0].exitcode, None);
    assert_eq!(report.processes[0].cpu, 50);
    assert!(stderr(&o).contains("max_ticks"));
}

#[test]
fn graph_states_is_dot_with_every_cause() {
    let o = procsim(&["graph", "states"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.starts_with("digraph"));
    for cause in [
        "admit",
        "dispatch",
        "preempt",
        "io-done",
        "child-exit",
        "signal",
    ] {
        assert!(
            out.contains(&format!("label = \"{cause}\"")),
            "{cause}: {out}"
        );
    }
}

#[test]
fn graph_tree_shows_the_process_tree() {
    let o = procsim(&["graph", "tree", "scenarios/demo.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("shell\\npid 3\\nexit 0"), "{out}");
    assert!(out.contains("Process-1\\npid 5\\nexit 0"), "{out}");
}

#[test]
fn output_files_the_user_has_are_never_replaced_without_force() {
    let dir = common::scratch_dir("keep");
    let keep = dir.join("mine.json");
    std::fs::write(&keep, "precious").unwrap();
    let path = keep.to_str().unwrap();
    let o = procsim(&["gen", "--seed", "1", "--processes", "2", "-o", path]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("exists; pass --force to replace it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    let o = procsim(&[
        "sweep",
        "scenarios/demo.json",
        "--set",
        "kernel.quantum=1,2",
        "--plot",
        path,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    let o = procsim(&[
        "gen",
        "--seed",
        "1",
        "--processes",
        "2",
        "-o",
        path,
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&keep)
            .unwrap()
            .contains("\"programs\"")
    );
}

/// A sweep across policies reproduces Stallings' comparison on his five-process example
/// (average turnaround 8.60 FCFS, 7.60 SPN, 7.20 SRT, 8.00 HRRN), one run a policy, and plots
/// them side by side.
#[test]
fn a_sweep_across_policies_gives_stallings_turnarounds_and_a_plot() {
    let plot = temp_file("policies.svg", "");
    std::fs::remove_file(&plot).unwrap();
    let o = procsim(&[
        "sweep",
        "scenarios/sched-stallings-fcfs.json",
        "--set",
        "kernel.policy=fcfs,sjf,srtf,hrrn",
        "--plot",
        plot.to_str().unwrap(),
        "--plot-y",
        "avg_turnaround",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = stdout(&o);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (policy, turnaround) = (col("kernel.policy"), col("avg_turnaround"));
    let got: Vec<(String, f64)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[policy].to_owned(), cells[turnaround].parse().unwrap())
        })
        .collect();
    let want = [("fcfs", 8.6), ("sjf", 7.6), ("srtf", 7.2), ("hrrn", 8.0)];
    assert_eq!(got.len(), want.len(), "{csv}");
    for ((p, t), (wp, wt)) in got.iter().zip(want) {
        assert_eq!(p, wp, "{csv}");
        assert!((t - wt).abs() < 1e-9, "{p}: {t} != {wt}\n{csv}");
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    for p in ["fcfs", "sjf", "srtf", "hrrn"] {
        assert!(
            svg.contains(&format!(">{p}<")),
            "{p} not labelled in the plot"
        );
    }
}
