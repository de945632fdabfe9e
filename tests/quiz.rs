//! `procsim quiz` and `procsim grade` through the binary: the question hides the answer,
//! `--solve` agrees with a first-come-first-served reference written here and with a
//! shortest-remaining-time exercise worked by hand, `-o` never replaces a file without
//! `--force`, and grading explains the first wrong figure; bad settings and answers exit 2.

use std::path::PathBuf;
use std::process::{Command, Output};

mod common;

fn procsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .output()
        .expect("procsim runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = common::scratch_dir("quiz");
    dir.join(name)
}

/// The workload of a question: (name, arrival, CPU burst) of each process.
fn workload(question: &str) -> Vec<(String, u64, u64)> {
    question
        .lines()
        .skip_while(|l| !l.starts_with("NAME"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f[2], "cpu", "one burst each without --io: {l}");
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

/// First come, first served on one CPU, by the book: each runs to its end in arrival order.
fn fcfs(jobs: &[(String, u64, u64)]) -> serde_json::Value {
    let mut order: Vec<&(String, u64, u64)> = jobs.iter().collect();
    order.sort_by_key(|j| j.1); // stable: equal arrivals keep the file's order
    let mut t = 0;
    let mut out = serde_json::Map::new();
    for (name, arrival, burst) in order {
        let start = t.max(*arrival);
        t = start + burst;
        out.insert(
            name.clone(),
            serde_json::json!({"ended_at": t, "waiting": start - arrival,
                               "turnaround": t - arrival, "response": start - arrival}),
        );
    }
    serde_json::json!({ "processes": out })
}

#[test]
fn solve_agrees_with_fcfs_by_the_book() {
    for seed in 1..=12 {
        let seed = seed.to_string();
        let q = procsim(&[
            "quiz",
            "--seed",
            &seed,
            "--policy",
            "fcfs",
            "--processes",
            "5",
        ]);
        assert!(q.status.success(), "{}", err(&q));
        let jobs = workload(&text(&q));
        assert_eq!(jobs.len(), 5);
        let a = procsim(&[
            "quiz",
            "--seed",
            &seed,
            "--policy",
            "fcfs",
            "--processes",
            "5",
            "--solve",
            "--format",
            "json",
        ]);
        assert!(a.status.success(), "{}", err(&a));
        let got: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
        assert_eq!(got, fcfs(&jobs), "seed {seed}");
    }
}

/// Seed 7 under SRTF: P1 (0, 9), P2 (1, 13), P3 (1, 2), P4 (6, 1). By hand: P1 runs 0-1; P3
/// (2 < 8 left) preempts and runs 1-3; P1 runs 3-6; P4 (1 < 5 left) runs 6-7; P1 7-12; P2
/// 12-25. So P1 ends at 12 and waited 1-3 and 6-7 (3); P2 waited 1-12 (11).
#[test]
fn srtf_seed_seven_as_worked_by_hand() {
    let q = procsim(&[
        "quiz",
        "--seed",
        "7",
        "--policy",
        "srtf",
        "--processes",
        "4",
    ]);
    let jobs = workload(&text(&q));
    let want: Vec<(String, u64, u64)> = [("P1", 0, 9), ("P2", 1, 13), ("P3", 1, 2), ("P4", 6, 1)]
        .map(|(n, a, b)| (n.to_owned(), a, b))
        .to_vec();
    assert_eq!(jobs, want);
    let question = text(&q);
    assert!(!question.contains("ENDED_AT") && !question.contains("Schedule:"));
    let a = procsim(&[
        "quiz",
        "--seed",
        "7",
        "--policy",
        "srtf",
        "--processes",
        "4",
        "--solve",
        "--format",
        "json",
    ]);
    let got: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let hand = serde_json::json!({"processes": {
        "P1": {"ended_at": 12, "waiting": 3, "turnaround": 12, "response": 0},
        "P2": {"ended_at": 25, "waiting": 11, "turnaround": 24, "response": 11},
        "P3": {"ended_at": 3, "waiting": 0, "turnaround": 2, "response": 0},
        "P4": {"ended_at": 7, "waiting": 0, "turnaround": 1, "response": 0}}});
    assert_eq!(got, hand);
    let solved = procsim(&[
        "quiz",
        "--seed",
        "7",
        "--policy",
        "srtf",
        "--processes",
        "4",
        "--solve",
    ]);
    assert!(text(&solved).contains("P3    -RR----"), "{}", text(&solved));
}

#[test]
fn exercises_are_written_and_graded() {
    let ex = temp("ex.json");
    let args = [
        "quiz",
        "--seed",
        "7",
        "--policy",
        "srtf",
        "--processes",
        "4",
        "-o",
    ];
    let ex_arg = ex.to_str().unwrap();
    let o = procsim(&[&args[..], &[ex_arg]].concat());
    assert!(o.status.success(), "{}", err(&o));
    // Never replaced without --force.
    std::fs::write(&ex, "mine").unwrap();
    let o = procsim(&[&args[..], &[ex_arg]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("pass --force"), "{}", err(&o));
    assert_eq!(std::fs::read_to_string(&ex).unwrap(), "mine");
    let o = procsim(&[&args[..], &[ex_arg, "--force"]].concat());
    assert!(o.status.success(), "{}", err(&o));
    assert!(procsim(&["validate", ex_arg]).status.success());

    let answer = temp("answer.json");
    let ans_arg = answer.to_str().unwrap();
    std::fs::write(
        &answer,
        r#"{"processes": {"P1": {"ended_at": 12, "waiting": 3}, "P2": {"response": 11}, "P4": {"turnaround": 1}}}"#,
    )
    .unwrap();
    let o = procsim(&["grade", ex_arg, ans_arg]);
    assert_eq!(o.status.code(), Some(0), "{}{}", text(&o), err(&o));
    assert!(text(&o).starts_with("4 of 4 right."), "{}", text(&o));

    std::fs::write(
        &answer,
        r#"{"processes": {"P1": {"ended_at": 12, "waiting": 2}, "P2": {"waiting": 10}}}"#,
    )
    .unwrap();
    let o = procsim(&["grade", ex_arg, ans_arg]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.starts_with("1 of 3 right."), "{t}");
    assert!(t.contains("P1 waiting: you wrote 2, it is 3."), "{t}");
    assert!(t.contains("Rule: waiting is the time spent ready"), "{t}");
    assert!(t.contains("P1 was ready 1-3, 6-7"), "{t}");
    assert!(
        !t.contains("P2 waiting"),
        "only the first wrong point is explained: {t}"
    );
}

#[test]
fn bad_settings_and_answers_exit_2() {
    for (args, words) in [
        (&["quiz", "--processes", "0"][..], "1 to 10 processes"),
        (&["quiz", "--processes", "11"][..], "1 to 10 processes"),
        (&["quiz", "--cpus", "0"][..], "1 to 4 CPUs"),
        (&["quiz", "--policy", "fifo"][..], "not a policy"),
    ] {
        let o = procsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(err(&o).contains(words), "{args:?}: {}", err(&o));
    }
    let ex = temp("ex-bad.json");
    let ex_arg = ex.to_str().unwrap();
    assert!(
        procsim(&["quiz", "--seed", "2", "-o", ex_arg])
            .status
            .success()
    );
    let answer = temp("bad-answer.json");
    let ans_arg = answer.to_str().unwrap();
    for (body, words) in [
        (
            "{\"processes\": {\n  \"P1\": {\"waiting\": 3,}}}",
            "bad-answer.json:2:23: not JSON",
        ),
        (
            r#"{"processes": {"P9": {"waiting": 3}}}"#,
            "no process `P9`; it has P1, P2, P3",
        ),
        (
            r#"{"processes": {"P1": {"wait": 3}}}"#,
            "$.processes.P1.wait",
        ),
        (r#"{"processes": {"P1": {"waiting": "3"}}}"#, "whole number"),
    ] {
        std::fs::write(&answer, body).unwrap();
        let o = procsim(&["grade", ex_arg, ans_arg]);
        assert_eq!(o.status.code(), Some(2), "{body}: {}", err(&o));
        assert!(err(&o).contains(words), "{body}: {}", err(&o));
        assert!(
            err(&o).contains("bad-answer.json"),
            "names the file: {}",
            err(&o)
        );
    }
}
