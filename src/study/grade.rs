//! Grading an answer to an exercise ([`super::quiz`]): every figure the answer gives is
//! checked against the run, and the first wrong one is explained with its rule and this run's
//! numbers (the intervals the process spent ready or running, the subtraction).

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::State;
use crate::report::text::escape;
use crate::report::{Phase, Report, Spans};

use super::quiz::{FIELDS, solve};

/// An answer file that cannot be graded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GradeError {
    /// Not JSON.
    #[error("{line}:{column}: not JSON: {message}")]
    Syntax {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// JSON, but not of the answer's shape.
    #[error("{path}: {message}")]
    Shape {
        /// The JSON path of the bad part.
        path: String,
        /// What is wrong there.
        message: String,
    },
}

/// One figure of the answer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The process.
    pub process: String,
    /// One of [`FIELDS`].
    pub field: &'static str,
    /// What the answer says.
    pub given: u64,
    /// What the run says (`None`: the process never ran or never ended).
    pub expected: Option<u64>,
}

impl Point {
    /// Whether the answer is right.
    pub fn right(&self) -> bool {
        self.expected == Some(self.given)
    }
}

/// Every figure the answer gave, in the exercise's order of processes and [`FIELDS`]' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grade {
    /// The points.
    pub points: Vec<Point>,
}

impl Grade {
    /// The first wrong point.
    pub fn first_wrong(&self) -> Option<&Point> {
        self.points.iter().find(|p| !p.right())
    }
}

fn shape(path: impl Into<String>, message: impl Into<String>) -> GradeError {
    GradeError::Shape {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads an answer (`{"processes": {NAME: {"ended_at", "waiting", "turnaround",
/// "response"}}}`, any subset) and checks it against `report`.
///
/// ```
/// use procsim::study::grade::grade;
/// let plan = procsim::load_str(r#"{"programs": {"m": {"body": [{"cpu": 3}]}},
///     "processes": [{"program": "m", "name": "A"}, {"program": "m", "name": "B"}]}"#).unwrap();
/// let report = procsim::Sim::new(plan, Default::default()).run();
/// let g = grade(&report, r#"{"processes": {"B": {"ended_at": 6, "waiting": 3}}}"#).unwrap();
/// assert!(g.first_wrong().is_none());
/// let g = grade(&report, r#"{"processes": {"B": {"response": 0}}}"#).unwrap();
/// assert_eq!(g.first_wrong().unwrap().expected, Some(3));
/// assert!(grade(&report, r#"{"processes": {"C": {}}}"#).is_err());
/// ```
pub fn grade(report: &Report, answer: &str) -> Result<Grade, GradeError> {
    let v: Value = serde_json::from_str(answer).map_err(|e| GradeError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Object(top) = &v else {
        return Err(shape("$", "expected an object {\"processes\": {...}}"));
    };
    if let Some(k) = top.keys().find(|k| *k != "processes") {
        return Err(shape(
            format!("$.{}", escape(k)),
            "unknown key; an answer has only `processes`",
        ));
    }
    let Some(Value::Object(procs)) = top.get("processes") else {
        return Err(shape(
            "$.processes",
            "expected an object of processes by name",
        ));
    };
    let solved = solve(report);
    let names: Vec<&str> = solved.processes.keys().map(String::as_str).collect();
    for (name, fields) in procs {
        // Names from the files, shown on a terminal: control characters escaped.
        let path = format!("$.processes.{}", escape(name));
        if !solved.processes.contains_key(name) {
            return Err(shape(
                path,
                format!(
                    "the exercise has no process `{}`; it has {}",
                    escape(name),
                    escape(&names.join(", "))
                ),
            ));
        }
        let Value::Object(fields) = fields else {
            return Err(shape(path, "expected an object of figures"));
        };
        for (field, value) in fields {
            if !FIELDS.contains(&field.as_str()) {
                return Err(shape(
                    format!("{path}.{field}"),
                    format!("unknown figure; one of {}", FIELDS.join(", ")),
                ));
            }
            if value.as_u64().is_none() {
                return Err(shape(
                    format!("{path}.{field}"),
                    format!("expected a whole number of ticks, found {value}"),
                ));
            }
        }
    }
    let mut points = Vec::new();
    for (name, figures) in &solved.processes {
        let Some(Value::Object(given)) = procs.get(name) else {
            continue;
        };
        for field in FIELDS {
            if let Some(g) = given.get(field).and_then(Value::as_u64) {
                points.push(Point {
                    process: name.clone(),
                    field,
                    given: g,
                    expected: figures.get(field),
                });
            }
        }
    }
    Ok(Grade { points })
}

/// `a–b, c–d`: the intervals process `i` spent in `state`.
fn intervals(spans: &Spans, i: usize, state: State) -> String {
    let list: Vec<String> = spans.processes[i]
        .iter()
        .filter(|s| s.phase.state() == state)
        .map(|s| format!("{}-{}", s.start, s.end))
        .collect();
    if list.is_empty() {
        "never".into()
    } else {
        list.join(", ")
    }
}

/// Why `point` has the value it has: the rule, and this run's numbers.
pub fn explain(report: &Report, spans: &Spans, point: &Point) -> String {
    let Some(i) = report
        .processes
        .iter()
        .position(|p| p.name == point.process)
    else {
        return String::new();
    };
    let p = &report.processes[i];
    // A name from the exercise file: control characters shown, not sent to the terminal.
    let name = escape(&p.name);
    let arrival = p.admitted_at.unwrap_or(p.created_at);
    let running = intervals(spans, i, State::Running);
    let cpus_used = {
        let mut cpus: Vec<u32> = spans.processes[i]
            .iter()
            .filter_map(|s| match s.phase {
                Phase::Running { cpu } => Some(cpu),
                _ => None,
            })
            .collect();
        cpus.sort_unstable();
        cpus.dedup();
        cpus
    };
    let on = if report.cpus > 1 {
        format!(
            " (on CPU {})",
            cpus_used
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    let value = point.expected.map_or_else(
        || "none (it did not get that far)".into(),
        |v| v.to_string(),
    );
    let mut out = format!(
        "{name} {}: you wrote {}, it is {value}.\n",
        point.field, point.given
    );
    let _ = match point.field {
        "ended_at" => writeln!(
            out,
            "  Rule: a process ends when its last instruction has run. {name} ran {running}{on}: \
             its last CPU time ends at {value}."
        ),
        "waiting" => writeln!(
            out,
            "  Rule: waiting is the time spent ready (in the queue, not running, not blocked). \
             {name} was ready {}, and ran {running}{on}.",
            intervals(spans, i, State::Ready)
        ),
        "turnaround" => writeln!(
            out,
            "  Rule: turnaround = ended_at - arrival = {} - {arrival} = {value}.",
            p.ended_at.map_or_else(|| "?".into(), |e| e.to_string())
        ),
        "response" => writeln!(
            out,
            "  Rule: response = first run - arrival = {} - {arrival} = {value}. {name} ran {running}{on}.",
            p.first_run.map_or_else(|| "?".into(), |e| e.to_string())
        ),
        _ => Ok(()),
    };
    out
}

/// The grade as text: how many points are right, then the first wrong one explained.
pub fn render_grade(report: &Report, spans: &Spans, grade: &Grade) -> String {
    let right = grade.points.iter().filter(|p| p.right()).count();
    let mut out = format!("{right} of {} right.\n", grade.points.len());
    if grade.points.is_empty() {
        out.push_str("The answer gives no figure to check.\n");
    }
    if let Some(p) = grade.first_wrong() {
        out.push_str("\nFirst wrong point: ");
        out.push_str(&explain(report, spans, p));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Silberschatz's round-robin example (P1 24, P2 3, P3 3, q = 4): P2 waits 4, P3 waits 7,
    /// P1 waits 6 (10 - 4), and P1 ends at 30.
    fn silberschatz() -> Report {
        let text = std::fs::read_to_string("scenarios/sched-silberschatz-rr.json").unwrap();
        crate::Sim::new(crate::load_str(&text).unwrap(), Default::default()).run()
    }

    #[test]
    fn right_answers_pass_and_the_first_wrong_one_is_explained() {
        let r = silberschatz();
        let g = grade(
            &r,
            r#"{"processes": {"P1": {"ended_at": 30, "waiting": 6}, "P2": {"waiting": 4}, "P3": {"waiting": 7, "response": 7}}}"#,
        )
        .unwrap();
        assert_eq!(g.points.len(), 5);
        assert!(g.first_wrong().is_none());
        let g = grade(
            &r,
            r#"{"processes": {"P3": {"turnaround": 10, "waiting": 6}}}"#,
        )
        .unwrap();
        let wrong = g.first_wrong().unwrap();
        assert_eq!(
            (wrong.field, wrong.given, wrong.expected),
            ("waiting", 6, Some(7))
        );
        let text = render_grade(&r, &Spans::new(&r, 0), &g);
        assert!(text.starts_with("1 of 2 right."), "{text}");
        assert!(text.contains("P3 was ready 0-7"), "{text}");
    }

    #[test]
    fn bad_answers_name_the_place() {
        let r = silberschatz();
        let err = |s: &str| grade(&r, s).unwrap_err().to_string();
        assert!(err("{\"processes\": ").starts_with("1:"));
        assert!(err("[]").starts_with("$:"));
        assert!(err(r#"{"processes": {"P9": {}}}"#).contains("no process `P9`; it has P1, P2, P3"));
        assert!(err(r#"{"processes": {"P1": {"wait": 1}}}"#).starts_with("$.processes.P1.wait:"));
        assert!(err(r#"{"processes": {"P1": {"waiting": -1}}}"#).contains("whole number"));
        assert!(err(r#"{"answers": {}}"#).starts_with("$.answers:"));
    }
}
