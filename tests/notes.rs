//! The report's notes (SPEC §4): a signal that finds no live process does nothing, and the
//! report says so, in the JSON (`notes`) and in the table (a Notes section), the same whether
//! the report is held or streamed.

use std::process::Command;

fn procsim(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("procsim runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn notes(json: &[u8]) -> Vec<(u64, String)> {
    let report: procsim::Report = serde_json::from_slice(json).unwrap();
    report.notes.into_iter().map(|n| (n.t, n.text)).collect()
}

#[test]
fn each_signal_that_finds_no_live_process_is_noted_with_its_tick() {
    let o = procsim(
        &[
            "run",
            "scenarios/proc-signal-ended.json",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success());
    let ended = |t: u64, method: &str, who: &str| {
        (
            t,
            format!(
                "MainProcess: {method}() of {who} sent nothing: it had ended (a no-op, as in CPython)"
            ),
        )
    };
    assert_eq!(
        notes(&o.stdout),
        vec![
            ended(0, "terminate", "Process-1"),
            ended(0, "kill", "Process-1"),
            (
                2,
                "SIGTERM from outside to Process-3 sent nothing: no process of that name had started"
                    .into()
            ),
            (
                3,
                "SIGKILL from outside to Process-1 sent nothing: it had ended".into()
            ),
            ended(5, "terminate", "Process-2"),
        ]
    );
}

#[test]
fn the_table_lists_the_notes_after_the_output() {
    let o = procsim(&["run", "scenarios/proc-events-child.json"], None);
    assert!(o.status.success());
    let out = String::from_utf8(o.stdout).unwrap();
    let notes = out.find("\nNotes\n").expect("a Notes section");
    assert!(out.find("\nOutput\n").unwrap() < notes, "{out}");
    assert!(
        out.contains(
            "\nNotes\n  30  SIGKILL from outside to Process-2 sent nothing: it had ended\n"
        ),
        "{out}"
    );
    // A run with nothing to note has no section.
    let o = procsim(&["run", "scenarios/proc-join-timeout.json"], None);
    assert!(!String::from_utf8(o.stdout).unwrap().contains("Notes"));
}

#[test]
fn a_top_level_process_that_has_not_arrived_is_not_alive() {
    // Signals come first in a tick: at tick 5, `late` has not arrived yet.
    let scenario = r#"{"events": [{"at": 5, "signal": "SIGKILL", "to": "late"}],
        "programs": {"p": {"body": [{"cpu": 3}, {"print": "{name} ran"}]}},
        "processes": [{"program": "p", "name": "early"},
                      {"program": "p", "name": "late", "arrival": 5}]}"#;
    let o = procsim(&["run", "-", "--format", "json"], Some(scenario));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: procsim::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report.processes[1].output, vec!["late ran"]);
    assert_eq!(report.processes[1].exitcode, Some(0));
    assert_eq!(
        notes(&o.stdout),
        vec![(
            5,
            "SIGKILL from outside to late sent nothing: no process of that name had started".into()
        )]
    );
}

#[test]
fn a_signal_takes_the_first_live_process_of_its_name_in_the_order_made() {
    // Two children named `w`: `a` made first but started at tick 10, `b` made second and
    // started at once. At tick 5 only `b` is alive: SIGTERM ends it (-15). At tick 20 `a` is
    // alive, and `b`, made after it, has ended anyway: SIGKILL ends `a` (-9). At tick 30 both
    // have ended: the signal does nothing, and says "ended", not "not started". (Derived by
    // hand from SPEC §4; the kernel keeps the live processes of each signalled name, not a
    // walk over every record, since outside.rs.)
    let scenario = r#"{"kernel": {"cpus": 2},
        "events": [{"at": 5, "signal": "SIGTERM", "to": "w"},
                   {"at": 20, "signal": "SIGKILL", "to": "w"},
                   {"at": 30, "signal": "SIGKILL", "to": "w"}],
        "programs": {
          "main": {"body": [
            {"spawn": {"as": "a", "program": "long", "name": "w"}},
            {"spawn": {"as": "b", "program": "long", "name": "w"}},
            {"start": "b"}, {"sleep": 10}, {"start": "a"},
            {"join": "a"}, {"join": "b"},
            {"print": "a {a.exitcode} b {b.exitcode}"}]},
          "long": {"body": [{"cpu": 100}]}},
        "processes": [{"program": "main", "name": "main"}]}"#;
    let o = procsim(&["run", "-", "--format", "json"], Some(scenario));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: procsim::Report = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report.processes[0].output, vec!["a -9 b -15"]);
    assert_eq!(
        notes(&o.stdout),
        vec![(
            30,
            "SIGKILL from outside to w sent nothing: it had ended".into()
        )]
    );
}

#[test]
fn a_run_keeps_at_most_a_thousand_notes_and_counts_the_rest() {
    let scenario = r#"{"programs": {
        "main": {"body": [{"fork": {"as": "c", "program": "none"}}, {"join": "c"},
                          {"repeat": {"times": 1500, "body": [{"terminate": "c"}]}}]},
        "none": {"body": []}},
        "processes": [{"program": "main"}]}"#;
    let o = procsim(&["run", "-", "--format", "json"], Some(scenario));
    assert!(o.status.success());
    let notes = notes(&o.stdout);
    assert_eq!(notes.len(), 1001);
    assert_eq!(
        notes[1000].1,
        "… and 500 more notes of the same kinds, not kept"
    );
}
