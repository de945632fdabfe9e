//! Comparing a simulated run with a real one (SPEC section 7, `procsim compare`).
//!
//! What must agree: the processes and their tree (each one's name and parent at the end),
//! exit codes and signals, output and error lines, final globals, and each process's sequence
//! of states with ready/running alternations folded (how often a real process is preempted
//! is the real kernel's business). What may differ: pids and every time; the comparison shows
//! the times side by side with the ratio, real microseconds per simulated tick.
//!
//! Processes are matched by name (the n-th process of a name with the n-th of the other run),
//! and so are the threads of a process (SPEC §4a), which are checked like processes.
//!
//! The scheduling policy (SPEC section 3a): the real run says which real policy stood for the
//! scenario's ([`crate::report::RealPolicy`]), and the comparison shows it with each process's
//! share of the CPU in both runs. A policy with no real counterpart (sjf, srtf, hrrn, mlfq,
//! lottery, stride) ran under the normal scheduler, whose order of running is another's: its
//! state sequences are shown, not checked, and only the process API points must agree (the
//! tree, exit codes and signals, output, errors, globals).

mod threads;

use serde_json::Value as Json;

use crate::program::{Op, Piece, Plan, Template};
use crate::report::{ProcessReport, Report};

/// One line of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The process (its name), or `run` for the whole run.
    pub process: String,
    /// The field.
    pub field: &'static str,
    /// The simulated value, as text.
    pub sim: String,
    /// The real value, as text.
    pub fork: String,
    /// Whether the two must be equal.
    pub must_agree: bool,
    /// Whether they are (for fields that must), or the ratio fork/sim (for times).
    pub verdict: Verdict,
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// A field that must agree and does.
    Same,
    /// A field that must agree and does not.
    Differs,
    /// A time: real microseconds per simulated tick (`None` when the tick figure is 0).
    Ratio(Option<f64>),
    /// A figure that may differ and is only shown.
    Shown,
}

/// A whole comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Every row, process by process in the simulated run's order.
    pub rows: Vec<Row>,
    /// Each process's share of the CPU in both runs.
    pub shares: Vec<Share>,
}

/// A process's CPU time over the CPU time of all the scenario's processes, in each run.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    /// The process (its name).
    pub process: String,
    /// In the simulated run (`None`: not in it, or no CPU time at all in the run).
    pub sim: Option<f64>,
    /// In the real run.
    pub fork: Option<f64>,
}

impl Comparison {
    /// Whether everything that must agree does.
    pub fn agrees(&self) -> bool {
        self.rows.iter().all(|r| r.verdict != Verdict::Differs)
    }

    /// The rows that must agree and do not.
    pub fn differences(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.verdict == Verdict::Differs)
    }
}

/// The index in `other` of the process matching `sim.processes[i]`: the same name, the same
/// rank among those of that name.
fn matching(sim: &Report, i: usize, other: &Report) -> Option<usize> {
    let name = &sim.processes[i].name;
    let nth = sim.processes[..i]
        .iter()
        .filter(|p| &p.name == name)
        .count();
    other
        .processes
        .iter()
        .enumerate()
        .filter(|(_, p)| &p.name == name)
        .nth(nth)
        .map(|(j, _)| j)
}

/// Each process's share of the CPU in both runs, in the simulated run's order (then any
/// process only the real run has).
pub fn cpu_shares(sim: &Report, fork: &Report) -> Vec<Share> {
    let total = |r: &Report| r.processes.iter().map(|p| p.cpu).sum::<u64>();
    let share =
        |r: &Report, t: u64, j: usize| (t > 0).then(|| r.processes[j].cpu as f64 / t as f64);
    let (ts, tf) = (total(sim), total(fork));
    let mut seen = vec![false; fork.processes.len()];
    let mut out = Vec::new();
    for (i, p) in sim.processes.iter().enumerate() {
        let j = matching(sim, i, fork);
        if let Some(j) = j {
            seen[j] = true;
        }
        out.push(Share {
            process: p.name.clone(),
            sim: share(sim, ts, i),
            fork: j.and_then(|j| share(fork, tf, j)),
        });
    }
    for (j, p) in fork.processes.iter().enumerate() {
        if !seen[j] {
            out.push(Share {
                process: p.name.clone(),
                sim: None,
                fork: share(fork, tf, j),
            });
        }
    }
    out
}

/// Whether the real run had a counterpart of the scenario's policy, so that the state
/// sequences must agree (a report without the information is taken to have one).
fn states_must_agree(fork: &Report) -> bool {
    fork.real
        .as_ref()
        .is_none_or(|r| r.policy.scenario.is_empty() || r.policy.counterpart.is_some())
}

/// Compares a simulated report with a real one, output lines whole.
pub fn compare(sim: &Report, fork: &Report) -> Comparison {
    compare_lines(sim, fork, &[])
}

/// Compares a simulated report with a real one of `plan`: an output line printed by a
/// template with `{tick}` agrees when the rest of the line does, since a time printed is a
/// time (ticks on one side, microseconds on the other), which may differ.
pub fn compare_plan(plan: &Plan, sim: &Report, fork: &Report) -> Comparison {
    compare_lines(sim, fork, &timed_templates(plan))
}

/// The templates of a plan that print a time (`print` texts and finalizer texts).
fn timed_templates(plan: &Plan) -> Vec<Template> {
    let timed = |t: &Template| t.0.iter().any(|p| matches!(p, Piece::Tick));
    let mut out = Vec::new();
    for op in plan.programs.iter().flat_map(|c| &c.ops) {
        match op {
            Op::Print(t) if timed(t) => out.push(t.clone()),
            Op::New(_, Some(t)) if timed(t) => out.push((**t).clone()),
            _ => {}
        }
    }
    out
}

/// The most steps one comparison of two lines against one template may take (a template's
/// placeholders are matched by backtracking; this bounds what a hostile one costs).
const MATCH_BUDGET: u32 = 100_000;

/// Whether `a` and `b` are the same line printed by `t` at different times: its text agrees,
/// each `{tick}` is a number on both sides, and every other placeholder printed the same.
fn same_but_times(t: &Template, a: &str, b: &str) -> bool {
    fn go(pieces: &[Piece], a: &str, b: &str, budget: &mut u32) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let Some((first, rest)) = pieces.split_first() else {
            return a.is_empty() && b.is_empty();
        };
        match first {
            Piece::Text(text) => {
                match (a.strip_prefix(text.as_str()), b.strip_prefix(text.as_str())) {
                    (Some(a), Some(b)) => go(rest, a, b, budget),
                    _ => false,
                }
            }
            Piece::Tick => {
                let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
                let (da, db) = (digits(a), digits(b));
                (1..=da)
                    .rev()
                    .any(|i| (1..=db).rev().any(|j| go(rest, &a[i..], &b[j..], budget)))
            }
            // Anything else printed the same text on both sides.
            _ => {
                let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                (0..=common)
                    .filter(|&i| a.is_char_boundary(i))
                    .any(|i| go(rest, &a[i..], &b[i..], budget))
            }
        }
    }
    let mut budget = MATCH_BUDGET;
    go(&t.0, a, b, &mut budget)
}

/// Whether two runs' output lines agree, times printed by `timed` templates aside.
fn lines_agree(a: &[String], b: &[String], timed: &[Template]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || timed.iter().any(|t| same_but_times(t, x, y)))
}

fn compare_lines(sim: &Report, fork: &Report, timed: &[Template]) -> Comparison {
    let mut rows = Vec::new();
    let must = |rows: &mut Vec<Row>, process: &str, field: &'static str, a: Json, b: Json| {
        let verdict = if a == b {
            Verdict::Same
        } else {
            Verdict::Differs
        };
        rows.push(Row {
            process: process.to_owned(),
            field,
            sim: text(&a),
            fork: text(&b),
            must_agree: true,
            verdict,
        });
    };
    let names =
        |r: &Report| -> Vec<String> { r.processes.iter().map(|p| p.name.clone()).collect() };
    let mut sim_names = names(sim);
    let mut fork_names = names(fork);
    sim_names.sort();
    fork_names.sort();
    must(
        &mut rows,
        "run",
        "processes",
        Json::from(sim_names),
        Json::from(fork_names),
    );
    must(
        &mut rows,
        "run",
        "error",
        Json::from(sim.error.clone()),
        Json::from(fork.error.clone()),
    );
    let check_states = states_must_agree(fork);
    for (i, s) in sim.processes.iter().enumerate() {
        let Some(j) = matching(sim, i, fork) else {
            continue;
        };
        let f = &fork.processes[j];
        let name = s.name.as_str();
        must(
            &mut rows,
            name,
            "parent",
            sim.parent_name(i).into(),
            fork.parent_name(j).into(),
        );
        must(&mut rows, name, "daemon", s.daemon.into(), f.daemon.into());
        must(
            &mut rows,
            name,
            "exitcode",
            s.exitcode.into(),
            f.exitcode.into(),
        );
        must(
            &mut rows,
            name,
            "signal",
            s.signal.clone().into(),
            f.signal.clone().into(),
        );
        // A line that prints a time agrees when the rest of it does.
        rows.push(Row {
            process: name.to_owned(),
            field: "output",
            sim: text(&s.output.clone().into()),
            fork: text(&f.output.clone().into()),
            must_agree: true,
            verdict: if lines_agree(&s.output, &f.output, timed) {
                Verdict::Same
            } else {
                Verdict::Differs
            },
        });
        must(
            &mut rows,
            name,
            "errors",
            s.errors.clone().into(),
            f.errors.clone().into(),
        );
        must(&mut rows, name, "globals", globals(s), globals(f));
        let states = |r: &Report, k: usize| -> Json {
            r.folded_states(k as u32)
                .iter()
                .map(|st| st.to_string())
                .collect::<Vec<_>>()
                .into()
        };
        if check_states {
            must(&mut rows, name, "states", states(sim, i), states(fork, j));
        } else {
            rows.push(Row {
                process: name.to_owned(),
                field: "states",
                sim: text(&states(sim, i)),
                fork: text(&states(fork, j)),
                must_agree: false,
                verdict: Verdict::Shown,
            });
        }
        threads::rows(&mut rows, (sim, i), (fork, j), check_states);
        rows.push(Row {
            process: name.to_owned(),
            field: "pid",
            sim: s.pid.to_string(),
            fork: f.pid.to_string(),
            must_agree: false,
            verdict: Verdict::Shown,
        });
        let times: [(&'static str, Option<u64>, Option<u64>); 6] = [
            ("turnaround", s.turnaround, f.turnaround),
            ("cpu", Some(s.cpu), Some(f.cpu)),
            ("waiting", Some(s.waiting), Some(f.waiting)),
            ("blocked", Some(s.blocked), Some(f.blocked)),
            ("ended_at", s.ended_at, f.ended_at),
            ("reaped_at", s.reaped_at, f.reaped_at),
        ];
        for (field, a, b) in times {
            rows.push(time_row(name, field, a, b));
        }
    }
    rows.push(time_row(
        "run",
        "makespan",
        Some(sim.summary.makespan),
        Some(fork.summary.makespan),
    ));
    Comparison {
        rows,
        shares: cpu_shares(sim, fork),
    }
}

fn time_row(process: &str, field: &'static str, a: Option<u64>, b: Option<u64>) -> Row {
    let ratio = match (a, b) {
        (Some(a), Some(b)) if a > 0 => Some(b as f64 / a as f64),
        _ => None,
    };
    let show = |x: Option<u64>| x.map_or_else(|| "-".into(), |x| x.to_string());
    Row {
        process: process.to_owned(),
        field,
        sim: show(a),
        fork: show(b),
        must_agree: false,
        verdict: Verdict::Ratio(ratio),
    }
}

fn globals(p: &ProcessReport) -> Json {
    serde_json::to_value(&p.globals).unwrap_or(Json::Null)
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "null".into(),
        Json::Array(items) if items.iter().all(Json::is_string) => {
            let parts: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
            format!("[{}]", parts.join(" | "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sim;
    use crate::report::compare::render;

    #[test]
    fn a_time_printed_in_a_line_may_differ_and_nothing_else() {
        let plan = crate::load_str(
            r#"{"globals": {"g": "x"},
                "programs": {"main": {"body": [{"print": "{name} ended at {tick}, g={g}"}]}},
                "processes": [{"program": "main"}]}"#,
        )
        .unwrap();
        let t = timed_templates(&plan);
        assert_eq!(t.len(), 1);
        let same = |a: &str, b: &str| lines_agree(&[a.into()], &[b.into()], &t);
        assert!(same(
            "MainProcess ended at 4, g=x",
            "MainProcess ended at 40123, g=x"
        ));
        assert!(!same(
            "MainProcess ended at 4, g=x",
            "MainProcess ended at 4, g=y"
        ));
        assert!(!same(
            "MainProcess ended at 4, g=x",
            "MainProcess ended at , g=x"
        ));
        assert!(!same(
            "MainProcess ended at 4, g=x",
            "Process-1 ended at 4, g=x"
        ));
        // Whole-line comparison when nothing prints a time.
        assert!(!lines_agree(&["a 1".into()], &["a 2".into()], &[]));
    }

    #[test]
    fn a_run_agrees_with_itself_and_not_with_a_changed_copy() {
        let plan = crate::load_str(
            r#"{"programs": {"main": {"body": [{"fork": {"as": "w", "program": "w"}}, {"join": "w"}, {"print": "done"}]},
                             "w": {"body": [{"cpu": 2}]}},
                "processes": [{"program": "main"}]}"#,
        )
        .unwrap();
        let a = Sim::new(plan, Default::default()).run();
        let c = compare(&a, &a);
        assert!(c.agrees(), "{:?}", c.differences().collect::<Vec<_>>());
        let mut b = a.clone();
        b.processes[0].output = vec!["other".into()];
        b.processes[1].exitcode = Some(3);
        let c = compare(&a, &b);
        let fields: Vec<&str> = c.differences().map(|r| r.field).collect();
        assert_eq!(fields, ["output", "exitcode"]);
        assert!(render(&c, &a, &b).contains("DIFFERS"));
    }

    #[test]
    fn long_values_are_folded_and_the_verdict_with_a_timeout_comes_last() {
        let plan = crate::load_str(
            r#"{"programs": {"w": {"body": [{"print": "line"}]}},
                "processes": [{"program": "w", "count": 2000}]}"#,
        )
        .unwrap();
        let a = Sim::new(plan, Default::default()).run();
        let mut b = a.clone();
        b.processes.pop();
        b.error = Some("timed out after 1 s; the processes still running were terminated".into());
        let text = render(&compare(&a, &b), &a, &b);
        let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(longest < 200, "a line of {longest} characters");
        assert!(text.contains("… and 1,9"), "{text}");
        assert!(text.contains("first difference at item 1,115 of 2,000 (sim) and 1,999 (fork): sim w-2000, fork w-201"), "{text}");
        let tail: Vec<&str> = text.lines().rev().take(2).collect();
        assert_eq!(
            tail[0],
            "The backends differ on 2 point(s) that must agree."
        );
        assert!(
            tail[1].starts_with("The real run stopped early: timed out"),
            "{tail:?}"
        );
    }

    #[test]
    fn without_a_real_counterpart_states_are_shown_not_checked_and_shares_are_side_by_side() {
        let plan = crate::load_str(
            r#"{"programs": {"main": {"body": [{"fork": {"as": "w", "program": "w"}}, {"cpu": 1}, {"join": "w"}]},
                             "w": {"body": [{"cpu": 3}]}},
                "processes": [{"program": "main"}]}"#,
        )
        .unwrap();
        let a = Sim::new(plan, Default::default()).run();
        let mut b = a.clone();
        // As if the child had ended before its parent's join: the parent never blocks.
        b.trace
            .retain(|e| !(e.proc == 0 && e.to == crate::State::Blocked));
        let mut real = crate::RealRun {
            isolation: "pid-namespace".into(),
            isolation_note: None,
            tick_us: 1000,
            pinned_cpus: vec![1],
            rr_quantum_us: None,
            policy: crate::report::RealPolicy {
                scenario: "sjf".into(),
                ran_under: "SCHED_OTHER".into(),
                ..Default::default()
            },
            fences: Default::default(),
        };
        b.real = Some(real.clone());
        let c = compare(&a, &b);
        assert!(c.agrees(), "{:?}", c.differences().collect::<Vec<_>>());
        let text = render(&c, &a, &b);
        assert!(text.contains("no real counterpart"), "{text}");
        assert!(
            text.contains("only the process API points are compared"),
            "{text}"
        );
        assert!(text.contains("Not compared"), "{text}");
        assert!(text.contains("CPU share"), "{text}");
        // 1 and 3 ticks of 4: 25% and 75% in both.
        assert_eq!(c.shares.len(), 2);
        assert_eq!(
            (c.shares[0].sim, c.shares[1].fork),
            (Some(0.25), Some(0.75))
        );
        assert!(text.contains("25.0%") && text.contains("75.0%"), "{text}");
        // With a counterpart, the same difference is one.
        real.policy.scenario = "fcfs".into();
        real.policy.counterpart = Some("SCHED_FIFO".into());
        b.real = Some(real);
        let fields: Vec<&str> = compare(&a, &b).differences().map(|r| r.field).collect();
        assert_eq!(fields, ["states"]);
    }
}
