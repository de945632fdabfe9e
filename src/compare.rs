//! Comparing a simulated run with a real one (SPEC section 7, `procsim compare`).
//!
//! What must agree: the processes and their tree (each one's name and parent at the end),
//! exit codes and signals, output and error lines, final globals, and each process's sequence
//! of states with ready/running alternations folded (how often a real process is preempted
//! is the real kernel's business). What may differ: pids and every time; the comparison shows
//! the times side by side with the ratio, real microseconds per simulated tick.
//!
//! Processes are matched by name (the n-th process of a name with the n-th of the other run).

use std::fmt::Write as _;

use serde_json::Value as Json;

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

/// Compares a simulated report with a real one.
pub fn compare(sim: &Report, fork: &Report) -> Comparison {
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
    for (i, s) in sim.processes.iter().enumerate() {
        let nth = sim.processes[..i]
            .iter()
            .filter(|p| p.name == s.name)
            .count();
        let Some(j) = fork
            .processes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.name == s.name)
            .nth(nth)
            .map(|(j, _)| j)
        else {
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
        must(
            &mut rows,
            name,
            "output",
            s.output.clone().into(),
            f.output.clone().into(),
        );
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
        must(&mut rows, name, "states", states(sim, i), states(fork, j));
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
    Comparison { rows }
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

/// The comparison for people: what must agree, then the times, side by side.
pub fn render(c: &Comparison, sim: &Report, fork: &Report) -> String {
    let mut out = String::new();
    let real = fork.real.as_ref();
    let _ = writeln!(
        out,
        "Comparing `{}`: sim (ticks) vs fork (µs; {} isolation, {} µs a tick{})",
        sim.scenario,
        real.map_or("?", |r| r.isolation.as_str()),
        real.map_or(0, |r| r.tick_us),
        real.and_then(|r| r.rr_quantum_us)
            .map_or_else(String::new, |q| format!(", SCHED_RR quantum {q} µs")),
    );
    let w_proc = c
        .rows
        .iter()
        .map(|r| r.process.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(out, "\nMust agree:");
    let _ = writeln!(
        out,
        "  {:w_proc$}  {:10}  {:7}  sim / fork",
        "process", "field", ""
    );
    for r in c.rows.iter().filter(|r| r.must_agree) {
        let mark = if r.verdict == Verdict::Same {
            "same"
        } else {
            "DIFFERS"
        };
        if r.verdict == Verdict::Same {
            let _ = writeln!(
                out,
                "  {:w_proc$}  {:10}  {mark:7}  {}",
                r.process, r.field, r.sim
            );
        } else {
            let _ = writeln!(
                out,
                "  {:w_proc$}  {:10}  {mark:7}  sim:  {}",
                r.process, r.field, r.sim
            );
            let _ = writeln!(
                out,
                "  {:w_proc$}  {:10}  {:7}  fork: {}",
                "", "", "", r.fork
            );
        }
    }
    let _ = writeln!(out, "\nMay differ (times: fork µs / sim ticks):");
    let _ = writeln!(
        out,
        "  {:w_proc$}  {:10}  {:>10}  {:>12}  {:>10}",
        "process", "field", "sim", "fork", "µs/tick"
    );
    for r in c.rows.iter().filter(|r| !r.must_agree) {
        let ratio = match r.verdict {
            Verdict::Ratio(Some(x)) => format!("{x:.1}"),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "  {:w_proc$}  {:10}  {:>10}  {:>12}  {:>10}",
            r.process, r.field, r.sim, r.fork, ratio
        );
    }
    let n = c.differences().count();
    let _ = writeln!(
        out,
        "\n{}",
        if n == 0 {
            "The backends agree on everything that must agree.".to_owned()
        } else {
            format!("The backends differ on {n} point(s) that must agree.")
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sim;

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
}
