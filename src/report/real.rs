//! Which real scheduling policy stood for the scenario's on the fork backend (SPEC section 3a,
//! last paragraph), as the report records it and as the table and `compare` headers say it.

use serde::{Deserialize, Serialize};

/// The real counterpart of the scenario's policy, and what the run actually got.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealPolicy {
    /// The scenario's policy, as `kernel.policy` names it (`"rr"`, `"cfs"`, …).
    pub scenario: String,
    /// Its real counterpart: `"SCHED_RR"` (rr), `"SCHED_FIFO"` (fcfs, priority),
    /// `"SCHED_OTHER"` (cfs, eevdf: the kernel's own fair scheduler with the scenario's nice
    /// values); `null` for the policies that have none (sjf, srtf, hrrn, mlfq, lottery,
    /// stride), which are compared on the process API points only.
    pub counterpart: Option<String>,
    /// The Linux policy the scenario's processes ran under: the counterpart, or
    /// `"SCHED_OTHER"` (the normal scheduler) when there is none or it could not be used.
    pub ran_under: String,
    /// Whether each process was given the scenario's `nice` (cfs, eevdf).
    #[serde(default)]
    pub nice: bool,
    /// With the `priority` policy under `SCHED_FIFO`: each distinct `priority` of the scenario
    /// and the `sched_priority` it ran at (lower number, higher `sched_priority`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rt_priorities: Vec<RtLevel>,
    /// Why the counterpart was not used although there is one: `--realtime` not given, or the
    /// run lacked the privilege (`CAP_SYS_NICE`, root) it needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// `--realtime` was given but the run lacked the privilege for a real-time policy, so it
    /// ran under the normal scheduler instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unprivileged: bool,
    /// Everything else worth knowing: where the counterpart differs from the model, and every
    /// process whose own setting the kernel refused (`MainProcess: nice -5 refused …`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One `priority` value and the real-time priority that stood for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtLevel {
    /// The scenario's `priority` (lower is more urgent).
    pub priority: i64,
    /// The `sched_priority` (1 … 99, higher is more urgent).
    pub sched_priority: i32,
}

impl RealPolicy {
    /// Whether the run was under the counterpart (there is one, and it was used).
    pub fn used_counterpart(&self) -> bool {
        self.counterpart.is_some() && self.fallback.is_none()
    }

    /// The header lines for people: the policy and its counterpart, why it was not used, and
    /// the notes. `rr_quantum_us` is the kernel's `SCHED_RR` slice when it was used.
    pub fn describe(&self, rr_quantum_us: Option<u64>) -> Vec<String> {
        let mut lines = Vec::new();
        let name = if self.scenario.is_empty() {
            "rr"
        } else {
            &self.scenario
        };
        match (&self.counterpart, &self.fallback) {
            (None, _) => lines.push(format!(
                "policy {name}: no real counterpart: ran under the normal scheduler ({}); only the process API points are compared",
                self.ran_under
            )),
            (Some(real), Some(why)) => {
                lines.push(format!(
                    "policy {name}: real counterpart {real}, NOT used: ran under the normal scheduler ({}) because {why}",
                    self.ran_under
                ));
                if self.nice {
                    lines.push("  the scenario's nice values were applied".into());
                }
            }
            (Some(real), None) => {
                let how = if self.nice {
                    " with the scenario's nice values (the kernel's own fair scheduler)".to_owned()
                } else if !self.rt_priorities.is_empty() {
                    let levels: Vec<String> = self
                        .rt_priorities
                        .iter()
                        .map(|l| format!("{}→{}", l.priority, l.sched_priority))
                        .collect();
                    format!(", sched_priority by priority: {}", levels.join(", "))
                } else if real != "SCHED_OTHER" {
                    let quantum = rr_quantum_us
                        .filter(|_| real == "SCHED_RR")
                        .map_or_else(String::new, |q| format!(", the kernel's quantum {q} µs"));
                    format!(" (sched_priority 1{quantum})")
                } else {
                    String::new()
                };
                lines.push(format!("policy {name}: real counterpart {real}{how}"));
            }
        }
        lines.extend(self.notes.iter().map(|n| format!("  note: {n}")));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_policy_its_counterpart_and_why_it_was_not_used() {
        let mut p = RealPolicy {
            scenario: "priority".into(),
            counterpart: Some("SCHED_FIFO".into()),
            ran_under: "SCHED_FIFO".into(),
            rt_priorities: vec![
                RtLevel {
                    priority: 1,
                    sched_priority: 2,
                },
                RtLevel {
                    priority: 7,
                    sched_priority: 1,
                },
            ],
            ..RealPolicy::default()
        };
        assert_eq!(
            p.describe(None),
            ["policy priority: real counterpart SCHED_FIFO, sched_priority by priority: 1→2, 7→1"]
        );
        p.fallback = Some("it lacks CAP_SYS_NICE".into());
        p.ran_under = "SCHED_OTHER".into();
        assert!(p.describe(None)[0].contains("NOT used: ran under the normal scheduler"));
        let none = RealPolicy {
            scenario: "sjf".into(),
            ran_under: "SCHED_OTHER".into(),
            notes: vec!["x".into()],
            ..RealPolicy::default()
        };
        let d = none.describe(None);
        assert!(d[0].contains("no real counterpart"), "{d:?}");
        assert!(d[0].contains("only the process API points are compared"));
        assert_eq!(d[1], "  note: x");
        let rr = RealPolicy {
            scenario: "rr".into(),
            counterpart: Some("SCHED_RR".into()),
            ran_under: "SCHED_RR".into(),
            ..RealPolicy::default()
        };
        assert_eq!(
            rr.describe(Some(100_000)),
            [
                "policy rr: real counterpart SCHED_RR (sched_priority 1, the kernel's quantum 100000 µs)"
            ]
        );
    }
}
