//! What a run of a sweep gave, and its line of output (CSV or JSON).

use serde_json::Value as Json;

use super::Sweep;
use crate::report::Summary;

/// What one run gave.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// Index of the run in the whole product (not in the shard).
    pub index: usize,
    /// The value of each setting, then the seed if there are seeds.
    pub point: Vec<Json>,
    /// How many processes the run made.
    pub processes: usize,
    /// The summary (partial when a limit stopped the run).
    pub summary: Summary,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// The metric columns of a result, in output order: the summary's fields.
pub const METRICS: &[&str] = crate::report::SUMMARY_FIELDS;

impl RunResult {
    /// A metric by name ([`METRICS`], or `processes`); `None` when the run has no such
    /// figure (an average over no process).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let s = &self.summary;
        Some(match name {
            "makespan" => s.makespan as f64,
            "cpu_busy" => s.cpu_busy as f64,
            "idle" => s.idle as f64,
            "switch_ticks" => s.switch_ticks as f64,
            "utilization" => s.utilization,
            "throughput" => s.throughput,
            "dispatches" => s.dispatches as f64,
            "context_switches" => s.context_switches as f64,
            "avg_response" => s.avg_response?,
            "avg_turnaround" => s.avg_turnaround?,
            "avg_waiting" => s.avg_waiting?,
            "processes" => self.processes as f64,
            _ => return None,
        })
    }

    fn metric_json(&self, name: &str) -> Json {
        let s = &self.summary;
        match name {
            "makespan" => s.makespan.into(),
            "cpu_busy" => s.cpu_busy.into(),
            "idle" => s.idle.into(),
            "switch_ticks" => s.switch_ticks.into(),
            "dispatches" => s.dispatches.into(),
            "context_switches" => s.context_switches.into(),
            other => self.metric(other).map_or(Json::Null, Json::from),
        }
    }
}

impl Sweep {
    /// The CSV header line.
    pub fn csv_header(&self) -> String {
        let mut cols = vec!["run".to_owned()];
        cols.extend(self.columns());
        cols.push("processes".into());
        cols.extend(METRICS.iter().map(|m| (*m).to_owned()));
        cols.push("error".into());
        cols.iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
            + "\n"
    }

    /// A result as a CSV line. Numbers are written in the shortest form that reads back
    /// exactly; a missing average is an empty field.
    pub fn csv_row(&self, r: &RunResult) -> String {
        let mut cells = vec![r.index.to_string()];
        for v in &r.point {
            cells.push(csv_field(&match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            }));
        }
        cells.push(r.processes.to_string());
        for m in METRICS {
            cells.push(match r.metric_json(m) {
                Json::Null => String::new(),
                v => v.to_string(),
            });
        }
        cells.push(csv_field(r.error.as_deref().unwrap_or("")));
        cells.join(",") + "\n"
    }

    /// A result as one line of JSON: `run`, the point's columns, `processes`, the metrics and
    /// `error`, in that order.
    pub fn json_row(&self, r: &RunResult) -> String {
        // Written field by field: serde_json's map would sort the keys.
        let mut fields: Vec<(String, Json)> = vec![("run".into(), r.index.into())];
        for (c, v) in self.columns().into_iter().zip(&r.point) {
            fields.push((c, v.clone()));
        }
        fields.push(("processes".into(), r.processes.into()));
        for m in METRICS {
            fields.push(((*m).to_owned(), r.metric_json(m)));
        }
        fields.push((
            "error".into(),
            r.error
                .as_ref()
                .map_or(Json::Null, |e| Json::from(e.as_str())),
        ));
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}:{}", Json::from(k.as_str()), v))
            .collect();
        format!("{{{}}}\n", body.join(","))
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
