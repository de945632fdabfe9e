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
        Ok(())
    }
}

/// The signals a process can end by, as a report names them.
const SIGNALS: [&str; 2] = ["SIGKILL", "SIGTERM"];

/// Keeps an explicit `null` as `Some(Json::Null)`, so `"exitcode": null` can be expected.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}
