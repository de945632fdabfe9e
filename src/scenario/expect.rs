//! The `expect` block: what a run must show, checked by [`crate::study::check`].

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;

use super::UniqueMap;

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

/// Keeps an explicit `null` as `Some(Json::Null)`, so `"exitcode": null` can be expected.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}
