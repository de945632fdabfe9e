//! Input an attacker would write, through the real binary (issue #16): no panic, nothing raw
//! on the terminal, no limitless flag, no run that says nothing.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

mod common;

use common::procsim;

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = common::scratch_dir("hostile");
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A scenario whose names, title and prints hold terminal escapes, and one name of 65,536
/// characters (past `format!`'s width limit).
fn hostile_scenario() -> PathBuf {
    let long = "A".repeat(65_536);
    let doc = serde_json::json!({
        "name": "title\u{1b}]0;pwned\u{7}\u{202e}",
        "programs": {"m": {"body": [
            {"cpu": 1},
            {"print": "hi\u{1b}[2J\r\nforged row\u{0}\u{2066}"},
            {"fail": "bad\u{1b}[31m\u{200f}"}
        ]}},
        "processes": [
            {"program": "m", "name": long},
            {"program": "m", "name": "q\\\"x\u{1b}[H\u{202e}z"}
        ]
    });
    // A file of its own for each caller: tests run in parallel, and one rewriting a shared
    // file could let another read it empty.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    temp_file(&format!("hostile-{n}.json"), &doc.to_string())
}

/// Unicode's bidirectional controls: they reorder what follows them on the screen.
fn bidi_control(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_no_control(text: &str) {
    for (i, c) in text.chars().enumerate() {
        assert!(
            c == '\n' || !(c.is_control() || bidi_control(c)),
            "raw control character {c:?} at {i} in:\n{}",
            text.chars().take(2000).collect::<String>()
        );
    }
}

#[test]
fn the_table_escapes_control_characters_and_survives_a_huge_name() {
    let f = hostile_scenario();
    let o = procsim(&["run", f.to_str().unwrap(), "--color", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_no_control(&out);
    assert!(out.contains("title\\x1b]0;pwned\\x07"), "{out}");
    assert!(out.contains("hi\\x1b[2J\\r\\nforged row\\0"), "{out}");
    assert!(out.contains("error: bad\\x1b[31m"), "{out}");
    // The name column is cut, not 65,536 characters wide.
    let row = out.lines().find(|l| l.contains("AAAA")).unwrap();
    assert!(row.chars().count() < 200, "{row}");
    assert!(row.contains('…'), "{row}");
    let summary = procsim(&["run", f.to_str().unwrap(), "--format", "summary"]);
    assert_no_control(&stdout(&summary));
}

#[test]
fn bidi_controls_are_escaped_in_every_terminal_output() {
    let f = hostile_scenario();
    let f = f.to_str().unwrap();
    for args in [
        &["run", f, "--color", "never"][..],
        &["run", f, "--explain"],
        &["run", f, "--format", "summary"],
        &["top", f, "--at", "1"],
    ] {
        let o = procsim(args);
        assert_no_control(&stdout(&o));
        assert_no_control(&stderr(&o));
    }
    let o = procsim(&["run", f, "--color", "never"]);
    let out = stdout(&o);
    assert!(out.contains("title\\x1b]0;pwned\\x07\\u{202e}"), "{out}");
    assert!(out.contains("q\\\"x\\x1b[H\\u{202e}z"), "{out}");
    assert!(out.contains("forged row\\0\\u{2066}"), "{out}");
    let e = temp_file(
        "bidi-handle.json",
        r#"{"programs": {"m": {"body": [{"join": "h\u202eevil\u2069"}]}}, "processes": [{"program": "m"}]}"#,
    );
    let o = procsim(&["validate", e.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_no_control(&stderr(&o));
    assert!(
        stderr(&o).contains("h\\u{202e}evil\\u{2069}"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn graph_tree_escapes_quotes_and_backslashes_in_labels() {
    let f = hostile_scenario();
    let o = procsim(&["graph", "tree", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_no_control(&out);
    // q\"x ESC[H: the backslash and the quote are both escaped, the ESC shown as text.
    assert!(
        out.contains(r#"label = "q\\\"x\\x1b[H\\u{202e}z\npid 3"#),
        "{out}"
    );
}

#[test]
fn error_messages_escape_what_the_scenario_wrote() {
    let f = temp_file(
        "bad-name.json",
        r#"{"programs": {"m": {"body": [{"join": "h\u001b]0;x\u0007"}]}}, "processes": [{"program": "m"}]}"#,
    );
    let o = procsim(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_no_control(&err);
    assert!(err.contains("h\\x1b]0;x\\x07"), "{err}");
}

#[test]
fn flags_with_no_sane_bound_are_refused_with_exit_2() {
    let f = "scenarios/demo.json";
    for args in [
        vec!["run", f, "--width", "100000000"],
        vec!["run", f, "--width", "0"],
        vec!["run", f, "--backend", "fork", "--timeout", "1e20"],
        vec!["run", f, "--backend", "fork", "--timeout", "inf"],
        vec![
            "sweep",
            f,
            "--set",
            "kernel.quantum=1,2",
            "--jobs",
            "100000",
        ],
        vec!["sweep", f, "--set", "kernel.quantum=1,2", "--jobs", "0"],
    ] {
        let o = procsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
    let o = procsim(&["run", f, "--width", "10000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn sweep_refuses_one_file_for_both_csv_and_plot() {
    let dir = temp_file("placeholder", "");
    let same = dir.with_file_name("both.out");
    let same = same.to_str().unwrap();
    let o = procsim(&[
        "sweep",
        "scenarios/demo.json",
        "--set",
        "kernel.quantum=1,2",
        "-o",
        same,
        "--plot",
        same,
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
}

/// Outputs are compared by the file they are, not by name: a symbolic link, a hard link, a link
/// to a file not made yet, and the file standard output goes to are each refused before
/// anything is written, and the user's file keeps its bytes.
#[test]
fn sweep_refuses_two_names_of_one_file() {
    let dir = temp_file("placeholder", "").with_file_name("links");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("X.csv");
    std::fs::write(&csv, "the user's rows\n").unwrap();
    std::os::unix::fs::symlink(&csv, dir.join("sym.csv")).unwrap();
    std::fs::hard_link(&csv, dir.join("hard.csv")).unwrap();
    std::os::unix::fs::symlink(dir.join("later.svg"), dir.join("dangling.svg")).unwrap();
    let sweep = |o: &str, plot: &str| {
        let (o, plot) = (dir.join(o), dir.join(plot));
        procsim(&[
            "sweep",
            "scenarios/demo.json",
            "--set",
            "kernel.quantum=1,2",
            "-o",
            o.to_str().unwrap(),
            "--plot",
            plot.to_str().unwrap(),
            "--force",
        ])
    };
    for (o, plot) in [
        ("sym.csv", "X.csv"),
        ("X.csv", "sym.csv"),
        ("hard.csv", "X.csv"),
        ("later.svg", "dangling.svg"),
    ] {
        let out = sweep(o, plot);
        assert_eq!(out.status.code(), Some(2), "{o} {plot}: {}", stderr(&out));
        assert!(stderr(&out).contains("same file"), "{}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(&csv).unwrap(),
            "the user's rows\n",
            "{o} {plot}"
        );
    }
    // The file the refused run would have made through the dangling link is not left behind.
    assert!(!dir.join("later.svg").exists());
    // Rows to standard output, and the plot into the file standard output goes to.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} sweep scenarios/demo.json --set kernel.quantum=1,2 --plot {} --force >> {}",
            env!("CARGO_BIN_EXE_procsim"),
            dir.join("sym.csv").display(),
            csv.display()
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard output"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "the user's rows\n");
    // Two different files are still written.
    let out = sweep("rows.csv", "plot.svg");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(dir.join("plot.svg"))
            .unwrap()
            .contains("<svg")
    );
    assert!(
        std::fs::read_to_string(dir.join("rows.csv"))
            .unwrap()
            .starts_with("run,")
    );
}

/// `quiz -o FILE` writes the exercise to FILE and the question to standard output: the two
/// must be different files.
#[test]
fn quiz_refuses_to_write_its_exercise_where_stdout_goes() {
    let f = temp_file("quiz-stdout.json", "the user's file\n");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} quiz --seed 1 -o {f} --force >> {f}",
            env!("CARGO_BIN_EXE_procsim"),
            f = f.display()
        ))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("standard output"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "the user's file\n");
}

/// `--format html` builds its page whole in memory: a scenario's `max_trace` of 10^12 does
/// not take it past its ceiling; `--trace-ceiling` sets the ceiling (here low, so that the
/// test is quick), and reaching it is a stopped run (exit 3) that names it.
#[test]
fn a_held_report_stops_at_its_ceiling_whatever_the_scenario_says() {
    let f = temp_file(
        "ceiling.json",
        r#"{"kernel": {"quantum": 1, "max_trace": 1000000000000},
            "programs": {"spin": {"body": [{"cpu": 100000}]}},
            "processes": [{"program": "spin", "count": 2}]}"#,
    );
    let f = f.to_str().unwrap();
    for format in ["html", "table"] {
        let mut args = vec!["run", f, "--format", format, "--trace-ceiling", "500"];
        if format == "table" {
            args.push("--check");
        }
        let o = procsim(&args);
        assert_eq!(o.status.code(), Some(3), "{format}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "the ceiling on transitions held in memory for this report (500, --trace-ceiling)"
            ),
            "{format}: {}",
            stderr(&o)
        );
    }
    // A format that passes the trace on as it runs holds none: the scenario's max_trace alone.
    let o = procsim(&["run", f, "--format", "summary", "--trace-ceiling", "500"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_closed_stdout_is_an_error_a_closed_pipe_is_not() {
    // `>&-`: the child starts with fd 1 closed.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} run scenarios/demo.json >&-",
            env!("CARGO_BIN_EXE_procsim")
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("standard output is closed"),
        "{}",
        stderr(&o)
    );
    // `> /dev/null` is a choice, not a mistake.
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(["run", "scenarios/demo.json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // So is a /dev/null opened read-write, as Python's `subprocess.DEVNULL` and service
    // managers open it (the same open mode as the runtime's stand-in for a closed fd 1).
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(["run", "scenarios/demo.json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(null)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // `| head -c 1`: the reader leaves early; procsim ends quietly with 0.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} gen --processes 20000 | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}",
            env!("CARGO_BIN_EXE_procsim")
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(stdout(&o).trim(), "0", "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

#[test]
fn compare_renders_a_huge_escaped_name() {
    let text = std::fs::read_to_string(hostile_scenario()).unwrap();
    let plan = procsim::load_str(&text).unwrap();
    let report = procsim::Sim::new(plan, Default::default()).run();
    let c = procsim::study::compare::compare(&report, &report);
    let out = procsim::report::compare::render(&c, &report, &report);
    assert_no_control(&out);
    assert!(out.contains("q\\\"x\\x1b[H"), "{out}");
    // The process column is cut (values, such as the list of every name, are shown whole).
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("  AAAA")).collect();
    assert!(!rows.is_empty(), "{out}");
    for l in rows {
        assert!(
            l.chars().count() < 200,
            "{}",
            l.chars().take(300).collect::<String>()
        );
    }
}

#[test]
fn an_endless_file_stops_at_the_size_limit() {
    let o = procsim(&["validate", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/dev/zero: the file is larger than 256 MiB"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let f = temp_file(
        "bom.json",
        "\u{feff}{\"programs\": {\"m\": {\"body\": [{\"cpu\": 1}]}}, \"processes\": [{\"program\": \"m\"}]}",
    );
    let o = procsim(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn gen_refuses_kernel_settings_validate_would_refuse() {
    for args in [
        ["gen", "--quantum", "0"],
        ["gen", "--cpus", "99999"],
        ["gen", "--cpus", "0"],
    ] {
        let o = procsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
        assert!(
            stderr(&o).contains(args[1].trim_start_matches('-')),
            "{}",
            stderr(&o)
        );
    }
    let o = procsim(&["gen", "--processes", "1000000", "--bursts", "100"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("processes × bursts"), "{}", stderr(&o));
    let o = procsim(&["gen", "--quantum", "1", "--cpus", "1024"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Bounds and values are the integers they are, not f64 renderings (18446744073709552000).
    let o = procsim(&["gen", "--quantum", "0"]);
    assert!(
        stderr(&o).contains("quantum must be from 1 to 18446744073709551615, not 0"),
        "{}",
        stderr(&o)
    );
    let o = procsim(&["gen", "--cpu-mean", "18446744073709551615"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cpu_mean must be from 1 to 1000000000, not 1.8446744073709552e19"),
        "{}",
        stderr(&o)
    );
    let o = procsim(&["gen", "--quantum", "18446744073709551615"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(r#""quantum":18446744073709551615"#));
}

#[test]
fn many_named_processes_and_programs_validate() {
    // 20,000 programs and processes, each named, each referring to a global: every look-up
    // is by hash (a quadratic validation took 17-25 s for 100,000 in release builds).
    let n = 20_000;
    let programs: Vec<String> = (0..n)
        .map(|i| format!(r#""p{i}": {{"params": ["a{i}"], "body": [{{"cpu": "$a{i}"}}, {{"add": {{"name": "g{i}", "value": 1}}}}]}}"#))
        .collect();
    let globals: Vec<String> = (0..n).map(|i| format!(r#""g{i}": 0"#)).collect();
    let processes: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"program": "p{i}", "name": "n{i}", "args": [1]}}"#))
        .collect();
    let text = format!(
        r#"{{"kernel": {{"max_processes": {n}}}, "globals": {{{}}}, "programs": {{{}}}, "processes": [{}]}}"#,
        globals.join(","),
        programs.join(","),
        processes.join(",")
    );
    let f = temp_file("many.json", &text);
    let o = procsim(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_sweep_names_a_bad_setting_before_building_the_product() {
    // 200,000 runs; the bad value is the first of the second setting.
    let o = procsim(&[
        "sweep",
        "scenarios/demo.json",
        "--set",
        "kernel.quantum=1..100000",
        "--set",
        "kernel.cpus=0,1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("kernel.cpus=0"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cpus must be from 1 to 1024, not 0"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_sweep_streams_rows_before_a_bad_combination_of_good_values() {
    // Every value is good with the others' first values (what is checked before the first
    // run); 20 processes with pid_max 21 (19 pids) are not. Run i = count·6 + quantum·2 +
    // pid_max, so the first bad run is 1·6 + 0·2 + 1 = 7: the seven rows before it are
    // written, then the error, whatever the threads did.
    let f = temp_file(
        "combo.json",
        r#"{"programs": {"m": {"body": [{"cpu": 1}]}}, "processes": [{"program": "m", "count": 18}]}"#,
    );
    for jobs in ["1", "2"] {
        let o = procsim(&[
            "sweep",
            f.to_str().unwrap(),
            "--set",
            "processes[0].count=18,20",
            "--set",
            "kernel.quantum=1..3",
            "--set",
            "kernel.pid_max=100,21",
            "--jobs",
            jobs,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let out = stdout(&o);
        let runs: Vec<&str> = out
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        assert_eq!(runs, ["0", "1", "2", "3", "4", "5", "6"], "{out}");
        assert!(
            stderr(&o).contains("run 7 (processes[0].count=20 kernel.quantum=1 kernel.pid_max=21)")
                && stderr(&o).contains("kernel.pid_max allows 19"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn a_sweep_has_at_most_a_million_runs_a_shard() {
    let o = procsim(&[
        "sweep",
        "scenarios/demo.json",
        "--set",
        "kernel.quantum=1..100000",
        "--set",
        "kernel.context_switch=0..19",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the sweep has 2000000 runs; one procsim runs at most 1000000: split it with --shard I/N (N ≥ 2)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_stopped_run_says_the_same_in_the_sweep_csv_as_in_json() {
    let f = temp_file(
        "stops.json",
        r#"{"kernel": {"max_ticks": 10}, "programs": {"spin": {"body": [{"cpu": 1000}]}},
            "processes": [{"program": "spin"}]}"#,
    );
    let o = procsim(&["sweep", f.to_str().unwrap(), "--set", "kernel.quantum=4"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let csv = stdout(&o);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("cpu_busy"), "10", "{csv}");
    assert_eq!(col("utilization"), "1.0", "{csv}");
    let json = procsim(&["run", f.to_str().unwrap(), "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["summary"]["cpu_busy"], 10);
    let summary = procsim(&["run", f.to_str().unwrap(), "--format", "summary"]);
    assert!(
        stdout(&summary).contains("cpu_busy          10\n"),
        "{}",
        stdout(&summary)
    );
}

/// A stderr whose reader has gone (`procsim … 2>&1 >/dev/null | head -0`): the message about a
/// stopped run cannot be written, and the exit code stays the run's (3), not a panic's (101).
/// The pipe's read end is closed before procsim starts, so every write to stderr fails.
#[test]
fn a_closed_stderr_pipe_keeps_the_exit_code() {
    let dir = std::env::temp_dir().join(format!("procsim-stderr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stops.json");
    std::fs::write(
        &file,
        r#"{"kernel": {"max_ticks": 5}, "programs": {"a": {"body": [{"cpu": 100}]}},
            "processes": [{"program": "a"}]}"#,
    )
    .unwrap();
    for args in [
        vec!["run", file.to_str().unwrap(), "--format", "summary"],
        vec!["run", "/nonexistent/procsim-scenario.json"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = Command::new(env!("CARGO_BIN_EXE_procsim"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(writer)
            .status()
            .unwrap();
        let want = if args.len() == 4 { 3 } else { 2 };
        assert_eq!(status.code(), Some(want), "{args:?}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `--format json`, `perfetto` and `svg` write each reaped process's report out, past a few
/// MiB to a temporary file (sim/epitaphs.rs): where none can be made, the run stops at once
/// with exit 3 naming the temporary directory's trouble, the JSON still parses, and nothing
/// panics.
#[test]
fn a_temporary_directory_that_cannot_be_made_stops_the_listing_formats_with_exit_3() {
    // 16,000 children's reports, some 330 bytes each, pass the 4 MiB held in memory.
    let file = temp_file(
        "epitaphs.json",
        r#"{"kernel": {"max_trace": 10000000},
            "programs": {"main": {"body": [{"repeat": {"times": 16000, "body": [
                {"fork": {"as": "c", "program": "c"}}, {"join": "c"}]}}]},
              "c": {"body": [{"cpu": 1}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let missing = common::scratch_dir("no-tmp").join("missing");
    for format in ["json", "perfetto", "svg"] {
        let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
            .args(["run", file.to_str().unwrap(), "--format", format])
            .env("TMPDIR", &missing)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{format}: {err}");
        assert!(
            err.contains("cannot keep the reports of reaped processes")
                && err.contains("cannot make a temporary file"),
            "{format}: {err}"
        );
        assert!(!err.contains("panicked"), "{format}: {err}");
        if format != "svg" {
            let out: serde_json::Value = serde_json::from_str(&stdout(&o))
                .unwrap_or_else(|e| panic!("{format}: the file does not parse: {e}"));
            let error = if format == "json" {
                &out["error"]
            } else {
                &out["otherData"]["error"]
            };
            assert!(
                error.as_str().is_some_and(|e| e.contains("temporary")),
                "{format}"
            );
        }
    }
}
