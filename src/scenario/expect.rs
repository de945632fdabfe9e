//! The `expect` block: what a run must show, checked by [`crate::study::check`].

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

use super::{ErrorKind, ScenarioError, UniqueMap};
use crate::model::State;

/// What a run must show. `processes` holds on every backend; `sim` only on the simulated one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Per process, by name: what every backend must agree on.
    #[serde(default)]
    pub processes: UniqueMap<ExpectProcess>,
    /// Figures only the simulated kernel fixes.
    #[serde(default)]
    pub sim: Option<ExpectSim>,
}

/// Expectations about one process that hold on every backend. Absent fields are not checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectProcess {
    /// `0`, `E`, `1` or `-N`; `null` for a process that never ended.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "super::schema::exitcode")]
    pub exitcode: Option<Json>,
    /// `"SIGKILL"`, `"SIGTERM"` or `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "super::schema::signal")]
    pub signal: Option<Json>,
    /// Every line of output, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Vec<String>>,
    /// Every error message, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// Final values of the named globals (others are not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub globals: Option<serde_json::Map<String, Json>>,
    /// The daemon flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemon: Option<bool>,
    /// The name of the parent at the end of the run (`"init"` for pid 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The sequence of states, with ready/running alternations folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<Vec<String>>,
}

/// Figures only the simulated kernel fixes: summary fields and per-process report fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectSim {
    /// Summary fields (`makespan`, `avg_waiting`, …) and their values.
    #[serde(default)]
    #[schemars(schema_with = "super::schema::summary_fields")]
    pub summary: serde_json::Map<String, Json>,
    /// Per process by name: report fields (`waiting`, `ended_at`, `pid`, …) and their values.
    #[serde(default)]
    #[schemars(schema_with = "super::schema::process_fields")]
    pub processes: UniqueMap<serde_json::Map<String, Json>>,
}

impl Expect {
    /// What can be wrong without running: a state or a signal that does not exist, an exit code
    /// that is not one. (Such an expectation could never hold, and `check` would only say that
    /// it failed.)
    pub(crate) fn check(&self) -> Result<(), ScenarioError> {
        let bad = |path: String, message: String| {
            Err(ScenarioError::new(ErrorKind::Invalid, path, message))
        };
        for (name, p) in self.processes.iter() {
            let at = |field: &str| format!("expect.processes.{name}.{field}");
            if let Some(states) = &p.states {
                for (i, s) in states.iter().enumerate() {
                    if !State::ALL.iter().any(|st| st.name() == s) {
                        return bad(
                            format!("{}[{i}]", at("states")),
                            format!(
                                "`{s}` is not a state; the states are {}",
                                State::ALL.map(State::name).join(", ")
                            ),
                        );
                    }
                }
            }
            match &p.signal {
                None | Some(Json::Null) => {}
                Some(Json::String(s)) if SIGNALS.contains(&s.as_str()) => {}
                Some(other) => {
                    return bad(
                        at("signal"),
                        format!(
                            "a process ends by {} or by none (null), not {other}",
                            SIGNALS.join(" or ")
                        ),
                    );
                }
            }
            match &p.exitcode {
                None | Some(Json::Null) => {}
                Some(Json::Number(n)) if n.is_i64() => {}
                Some(other) => {
                    return bad(
                        at("exitcode"),
                        format!("an exit code is a whole number or null, not {other}"),
                    );
                }
            }
        }
        if let Some(sim) = &self.sim {
            for (field, value) in &sim.summary {
                check_type(format!("expect.sim.summary.{field}"), field, value)?;
            }
            for (name, fields) in sim.processes.iter() {
                for (field, value) in fields {
                    check_type(format!("expect.sim.processes.{name}.{field}"), field, value)?;
                }
            }
        }
        Ok(())
    }
}

/// The JSON type of a report field, as `expect.sim` compares it.
#[derive(Clone, Copy)]
enum Kind {
    /// A whole number ≥ 0 (ticks, counts).
    Whole,
    /// A whole number ≥ 0, or null (a moment that may not have come).
    WholeOrNull,
    /// An integer or null (an exit code).
    IntegerOrNull,
    /// Any number.
    Number,
    /// A number or null (an average over no process).
    NumberOrNull,
    /// A string.
    Text,
    /// A string or null.
    TextOrNull,
    /// true or false.
    Bool,
    /// A list.
    List,
    /// An object.
    Object,
}

/// The type of a summary or process report field (as `report::Summary` and
/// `report::ProcessReport` write it); `None` for a name that is neither (reported by the
/// compiler as an unknown field).
fn kind_of(field: &str) -> Option<Kind> {
    use Kind::*;
    Some(match field {
        "makespan" | "cpu_busy" | "idle" | "switch_ticks" | "dispatches" | "context_switches"
        | "ppid" | "created_at" | "cpu" | "waiting" | "blocked" | "preemptions" => Whole,
        "pid" | "creator" | "admitted_at" | "first_run" | "ended_at" | "reaped_at" | "response"
        | "turnaround" => WholeOrNull,
        "exitcode" => IntegerOrNull,
        "utilization" | "throughput" => Number,
        "avg_response" | "avg_turnaround" | "avg_waiting" => NumberOrNull,
        "name" | "program" => Text,
        "signal" => TextOrNull,
        "daemon" => Bool,
        "output" | "output_at" | "errors" | "errors_at" | "threads" => List,
        "globals" => Object,
        _ => return None,
    })
}

/// The JSON Schema of a report field's values as `expect.sim` takes them ([`kind_of`]), for
/// the published schema: the schema and the load-time check are one table. `{}` (anything)
/// for a name that is no report field.
pub(super) fn field_schema(field: &str) -> Json {
    let ty = |t: &str| serde_json::json!({ "type": t });
    let whole = serde_json::json!({"type": "integer", "minimum": 0});
    match kind_of(field) {
        None => serde_json::json!({}),
        Some(Kind::Whole) => whole,
        Some(Kind::WholeOrNull) => serde_json::json!({"anyOf": [whole, {"type": "null"}]}),
        Some(Kind::IntegerOrNull) => serde_json::json!({"type": ["integer", "null"]}),
        Some(Kind::Number) => ty("number"),
        Some(Kind::NumberOrNull) => serde_json::json!({"type": ["number", "null"]}),
        Some(Kind::Text) => ty("string"),
        Some(Kind::TextOrNull) => serde_json::json!({"type": ["string", "null"]}),
        Some(Kind::Bool) => ty("boolean"),
        Some(Kind::List) => ty("array"),
        Some(Kind::Object) => ty("object"),
    }
}

/// An expected value of the wrong JSON type could never hold: `check` would only report that
/// it failed (`expected "3", got 1`), so it is a bad scenario (exit 2) that names its place.
fn check_type(path: String, field: &str, value: &Json) -> Result<(), ScenarioError> {
    let Some(kind) = kind_of(field) else {
        return Ok(());
    };
    let whole =
        |v: &Json| v.as_u64().is_some() || v.as_f64().is_some_and(|x| x >= 0.0 && x.fract() == 0.0);
    let (fits, wanted) = match kind {
        Kind::Whole => (whole(value), "a whole number ≥ 0"),
        Kind::WholeOrNull => (
            value.is_null() || whole(value),
            "a whole number ≥ 0 or null",
        ),
        // 3.0 is the integer 3, as for a JSON Schema `integer` (and `Whole` above).
        Kind::IntegerOrNull => (
            value.is_null()
                || value.is_i64()
                || value.is_u64()
                || value.as_f64().is_some_and(|x| x.fract() == 0.0),
            "a whole number or null",
        ),
        Kind::Number => (value.is_number(), "a number"),
        Kind::NumberOrNull => (value.is_number() || value.is_null(), "a number or null"),
        Kind::Text => (value.is_string(), "a string"),
        Kind::TextOrNull => (value.is_string() || value.is_null(), "a string or null"),
        Kind::Bool => (value.is_boolean(), "true or false"),
        Kind::List => (value.is_array(), "a list"),
        Kind::Object => (value.is_object(), "an object"),
    };
    if fits {
        return Ok(());
    }
    let found = match value {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => format!("the number {n}"),
        Json::String(_) => format!("the string {value}"),
        Json::Array(_) => "a list".to_owned(),
        Json::Object(_) => "an object".to_owned(),
    };
    Err(ScenarioError::new(
        ErrorKind::Invalid,
        path,
        format!("expected {wanted}, found {found}"),
    ))
}

/// The signals a process can end by, as a report names them.
const SIGNALS: [&str; 2] = ["SIGKILL", "SIGTERM"];

/// Keeps an explicit `null` as `Some(Json::Null)`, so `"exitcode": null` can be expected.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{PROCESS_FIELDS, SUMMARY_FIELDS};

    #[test]
    fn every_report_field_has_a_type() {
        for f in SUMMARY_FIELDS.iter().chain(PROCESS_FIELDS) {
            assert!(kind_of(f).is_some(), "{f}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_place() {
        let e = check_type(
            "expect.sim.summary.makespan".into(),
            "makespan",
            &"3".into(),
        )
        .unwrap_err();
        assert_eq!(e.path(), "expect.sim.summary.makespan");
        assert_eq!(
            e.message(),
            "expected a whole number ≥ 0, found the string \"3\""
        );
        let ok = [
            ("makespan", serde_json::json!(3)),
            ("ended_at", serde_json::json!(null)),
            ("exitcode", serde_json::json!(-9)),
            ("avg_waiting", serde_json::json!(6.75)),
            ("signal", serde_json::json!("SIGKILL")),
            ("output", serde_json::json!(["a"])),
        ];
        for (f, v) in ok {
            assert!(check_type(f.into(), f, &v).is_ok(), "{f} {v}");
        }
        assert!(check_type("x".into(), "waiting", &serde_json::json!(-1)).is_err());
        assert!(check_type("x".into(), "daemon", &serde_json::json!(0)).is_err());
    }
}
