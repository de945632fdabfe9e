//! How the binary takes its input and refuses what it cannot use: a scenario on standard
//! input, a timeline of no columns, the wording of a refused `gen`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn procsim(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("procsim runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_dash_reads_the_scenario_from_standard_input() {
    let file = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/sched-silberschatz-rr.json"),
    )
    .unwrap();
    let piped = procsim(&["run", "-"], &file);
    assert!(piped.status.success(), "{}", text(&piped.stderr));
    let named = procsim(&["run", "scenarios/sched-silberschatz-rr.json"], b"");
    assert_eq!(text(&piped.stdout), text(&named.stdout));
    assert!(text(&piped.stdout).contains("avg waiting 5.67"));
}

#[test]
fn a_bad_scenario_on_standard_input_is_named_stdin() {
    let o = procsim(&["run", "-"], br#"{"kernel": {"quantum": "x"}}"#);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.starts_with("procsim: <stdin>:1:"), "{err}");
    assert!(err.contains("kernel.quantum"), "{err}");
}

#[test]
fn a_timeline_of_no_columns_is_refused() {
    let o = procsim(&["run", "scenarios/demo.json", "--width", "0"], b"");
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("--width"), "{err}");
    assert!(o.stdout.is_empty());
    let one = procsim(&["run", "scenarios/demo.json", "--width", "1"], b"");
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert!(text(&one.stdout).contains("1 column = 29 ticks"));
}

#[test]
fn a_refused_gen_says_procsim_once() {
    let o = procsim(&["gen", "--processes", "0"], b"");
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert_eq!(err.matches("procsim").count(), 1, "{err}");
    assert!(err.starts_with("procsim: gen: processes must be"), "{err}");
}
