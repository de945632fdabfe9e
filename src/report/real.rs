//! Which real scheduling policy stood for the scenario's on the fork backend (SPEC section 3a,
//! last paragraph), as the report records it and as the table and `compare` headers say it.

use serde::{Deserialize, Serialize};

use super::RealRun;

impl RealRun {
    /// The header lines of a real run for people: the isolation it got, the real policy
    /// (and why not the counterpart), the fences in force and each fence that acted.
    pub fn describe(&self) -> Vec<String> {
        let isolation = match (self.isolation.as_str(), &self.isolation_note) {
            ("pid-namespace", _) => {
                "isolation: a PID namespace (the supervisor is pid 1; pids count from 2 as in the model)".to_owned()
            }
            ("subreaper", Some(why)) => format!(
                "isolation: a subreaper, not a PID namespace ({why}); real pids, and {{ppid}} 1 stands for the supervisor"
            ),
            (other, Some(why)) => format!("isolation: {other} ({why})"),
            (other, None) => format!("isolation: {other}"),
        };
        let mut lines = vec![isolation];
        lines.extend(self.policy.describe(self.rr_quantum_us));
        if self.fences.max_processes > 0 {
            lines.push(self.fences.describe());
        }
        lines.extend(
            self.fences
                .acted
                .iter()
                .map(|a| format!("  fence acted: {a}")),
        );
        lines
    }
}

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

/// The fences a real run ran inside (docs/fork-backend.md, "Fences"), so that a scenario
/// nobody checked cannot hurt the host, and each fence that acted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealFences {
    /// Real processes of the run alive at once (created and not yet reaped), at most.
    pub max_processes: u32,
    /// What set `max_processes`: the scenario's `kernel.max_processes`, half the host's free
    /// pids, the room `RLIMIT_NPROC` leaves, or `--max-real-processes`.
    pub max_processes_by: String,
    /// The run's wall-clock limit in milliseconds.
    pub timeout_ms: u64,
    /// What set it: `default`, `--timeout` or `kernel.real_timeout_s`.
    pub timeout_by: String,
    /// `RLIMIT_AS` of each process of the run, in bytes.
    pub memory_per_process: u64,
    /// The run's memory cgroup and its limit (`memory.max 11.2 GiB in /sys/fs/cgroup/…`), or
    /// why there is none.
    pub cgroup: String,
    /// The `oom_score_adj` of every process of the run (the OOM killer's first choice); the
    /// CLI and the supervisor keep their own.
    pub oom_score_adj: i32,
    /// With a real-time policy: the CPUs left to the host and the supervisor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_cpus: Vec<u32>,
    /// Each time a fence acted, what it did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acted: Vec<String>,
}

impl RealFences {
    /// One header line for people: the fences in force.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "fences: {} live processes ({}), {} s wall clock ({}), {} per process (RLIMIT_AS), {}, oom_score_adj {}",
            self.max_processes,
            self.max_processes_by,
            self.timeout_ms as f64 / 1000.0,
            self.timeout_by,
            human_bytes(self.memory_per_process),
            self.cgroup,
            self.oom_score_adj
        );
        if !self.host_cpus.is_empty() {
            let cpus: Vec<String> = self.host_cpus.iter().map(u32::to_string).collect();
            s.push_str(&format!(", CPU {} left to the host", cpus.join(",")));
        }
        s
    }
}

/// Bytes in MiB or GiB, for people.
pub fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    if n >= 1 << 30 {
        format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64)
    } else {
        format!("{} MiB", n / MIB)
    }
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
