//! Comparing a report with a scenario's `expect` block.

use std::fmt;

use serde_json::Value as Json;

use crate::report::{ProcessReport, Report};
use crate::scenario::{Expect, ExpectProcess};

/// One expectation that the report does not meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Where: `Process-1.exitcode`, `summary.makespan`, …
    pub place: String,
    /// What the scenario expects.
    pub expected: Json,
    /// What the run produced (`null` when it has no such thing).
    pub actual: Json,
    /// A note when the place itself is the problem (no such process, or several).
    pub note: Option<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.note {
            Some(note) => write!(f, "{}: {note}", self.place),
            None => write!(
                f,
                "{}: expected {}, got {}",
                self.place, self.expected, self.actual
            ),
        }
    }
}

/// Checks `report` against `expect`: the `processes` part always, the `sim` part when the
/// report comes from the simulated backend. Returns every mismatch, in the order of the file.
///
/// ```
/// let text = r#"{
///     "programs": {"main": {"body": [{"cpu": 2}, {"print": "hi"}]}},
///     "processes": [{"program": "main"}],
///     "expect": {"processes": {"MainProcess": {"output": ["hi"], "exitcode": 1}},
///                "sim": {"summary": {"makespan": 2}}}
/// }"#;
/// let scenario = procsim::Scenario::from_str(text).unwrap();
/// let report = procsim::Sim::new(procsim::load_str(text).unwrap(), Default::default()).run();
/// let misses = procsim::study::check::check(scenario.expect.as_ref().unwrap(), &report);
/// assert_eq!(misses.len(), 1);
/// assert_eq!(misses[0].to_string(), "MainProcess.exitcode: expected 1, got 0");
/// ```
pub fn check(expect: &Expect, report: &Report) -> Vec<Mismatch> {
    let mut out = Vec::new();
    for (name, exp) in expect.processes.iter() {
        let Some((index, actual)) = find(report, name, &mut out) else {
            continue;
        };
        check_process(report, index, actual, exp, name, &mut out);
    }
    let Some(sim) = expect.sim.as_ref().filter(|_| report.backend == "sim") else {
        return out;
    };
    let summary = to_map(&report.summary);
    for (field, want) in &sim.summary {
        compare(
            format!("summary.{field}"),
            want,
            summary.get(field).unwrap_or(&Json::Null),
            &mut out,
        );
    }
    for (name, fields) in sim.processes.iter() {
        let Some((_, actual)) = find(report, name, &mut out) else {
            continue;
        };
        let actual = to_map(actual);
        for (field, want) in fields {
            compare(
                format!("{name}.{field}"),
                want,
                actual.get(field).unwrap_or(&Json::Null),
                &mut out,
            );
        }
    }
    out
}

fn find<'r>(
    report: &'r Report,
    name: &str,
    out: &mut Vec<Mismatch>,
) -> Option<(usize, &'r ProcessReport)> {
    let found: Vec<_> = report
        .processes
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name == name)
        .collect();
    let note = match found.len() {
        1 => return Some(found[0]),
        0 => format!("no process is named `{name}`"),
        n => format!("{n} processes are named `{name}`; give them distinct names to check them"),
    };
    out.push(Mismatch {
        place: name.to_owned(),
        expected: Json::Null,
        actual: Json::Null,
        note: Some(note),
    });
    None
}

fn check_process(
    report: &Report,
    index: usize,
    actual: &ProcessReport,
    exp: &ExpectProcess,
    name: &str,
    out: &mut Vec<Mismatch>,
) {
    let actual_map = to_map(actual);
    let wanted = to_map(exp);
    for (field, want) in &wanted {
        let got = match field.as_str() {
            "parent" => Json::String(report.parent_name(index)),
            "states" => Json::Array(
                report
                    .folded_states(index as u32)
                    .into_iter()
                    .map(|s| Json::String(s.to_string()))
                    .collect(),
            ),
            "globals" => {
                // Only the globals named in the expectation are checked.
                let globals = actual_map.get("globals").and_then(Json::as_object);
                if let (Some(want), Some(have)) = (want.as_object(), globals) {
                    for (g, v) in want {
                        compare(
                            format!("{name}.globals.{g}"),
                            v,
                            have.get(g).unwrap_or(&Json::Null),
                            out,
                        );
                    }
                }
                continue;
            }
            other => actual_map.get(other).cloned().unwrap_or(Json::Null),
        };
        compare(format!("{name}.{field}"), want, &got, out);
    }
}

fn to_map<T: serde::Serialize>(value: &T) -> serde_json::Map<String, Json> {
    match serde_json::to_value(value) {
        Ok(Json::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn compare(place: String, want: &Json, got: &Json, out: &mut Vec<Mismatch>) {
    if !same(want, got) {
        out.push(Mismatch {
            place,
            expected: want.clone(),
            actual: got.clone(),
            note: None,
        });
    }
}

/// Equality, with floating-point figures equal within a relative 1e-9.
fn same(want: &Json, got: &Json) -> bool {
    match (want, got) {
        (Json::Number(a), Json::Number(b)) if a.is_f64() || b.is_f64() => {
            match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                _ => false,
            }
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        _ => want == got,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_compare_within_tolerance() {
        let third = serde_json::json!(17.0 / 3.0);
        assert!(same(&serde_json::json!(5.666666666666667), &third));
        assert!(!same(&serde_json::json!(5.67), &third));
        assert!(same(&serde_json::json!(30), &serde_json::json!(30)));
        assert!(same(&serde_json::json!(30), &serde_json::json!(30.0)));
        assert!(!same(&serde_json::json!(30), &serde_json::json!(31)));
    }
}
