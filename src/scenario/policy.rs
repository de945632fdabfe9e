//! `kernel.policy` (SPEC section 3a): a policy's name, or an object with its name and
//! parameters, and the range checks of those parameters.
//!
//! The file may write `"policy": "sjf"` or `"policy": {"name": "mlfq", "queues": 3, ...}`.
//! Both come to one [`PolicyConfig`] with every parameter filled in, so the kernel never
//! sees a default it has to know.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// The policies' names, as scenario files write them.
pub const POLICY_NAMES: [&str; 11] = [
    "rr", "fcfs", "sjf", "srtf", "priority", "hrrn", "mlfq", "lottery", "stride", "cfs", "eevdf",
];

/// A scheduling policy with all its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum PolicyConfig {
    /// Round robin (SPEC section 3): one FIFO queue, a slice of `quantum` ticks.
    #[serde(alias = "round_robin")]
    Rr(Sliced),
    /// First come, first served: no slice.
    Fcfs(NoParams),
    /// Shortest job (next CPU burst) first, non-preemptive.
    Sjf(Burst),
    /// Shortest remaining time first: preemptive SJF.
    Srtf(Burst),
    /// The smallest `priority` number first.
    Priority(PriorityParams),
    /// Highest response ratio next, non-preemptive.
    Hrrn(NoParams),
    /// Multi-level feedback queue, with the conventions of OSTEP's `mlfq.py`.
    Mlfq(Mlfq),
    /// A lottery among the ready processes' tickets at each dispatch.
    Lottery(Sliced),
    /// Stride scheduling: the least pass runs.
    Stride(StrideParams),
    /// Linux's completely fair scheduler.
    Cfs(CfsParams),
    /// Linux's earliest eligible virtual deadline first (Linux 6.6 and later).
    Eevdf(EevdfParams),
}

/// A policy without parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// A policy whose only parameter is its slice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sliced {
    /// The slice; `kernel.quantum` when not given here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub quantum: Option<u64>,
}

/// SJF and SRTF: bursts read ahead from the program, or predicted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Burst {
    /// Predict bursts by exponential averaging instead of reading them ahead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Estimate>,
}

/// The priority policy's parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityParams {
    /// Whether a more urgent process that becomes ready takes the CPU at once.
    #[serde(default)]
    pub preemptive: bool,
    /// Raise the urgency of processes that wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aging: Option<Aging>,
}

/// Stride scheduling's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StrideParams {
    /// The number divided by tickets to give a stride.
    #[serde(default = "default_big")]
    #[schemars(range(min = 1))]
    pub big: u64,
    /// The slice; `kernel.quantum` when not given here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub quantum: Option<u64>,
}

/// CFS's parameters, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CfsParams {
    /// The period within which every runnable process runs once (`sched_latency`).
    #[serde(default = "default_latency")]
    #[schemars(range(min = 1))]
    pub latency: u64,
    /// The shortest slice (`sched_min_granularity`).
    #[serde(default = "default_granularity")]
    #[schemars(range(min = 1))]
    pub min_granularity: u64,
}

/// EEVDF's parameters, in ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EevdfParams {
    /// The slice a request asks for (`sched_base_slice`).
    #[serde(default = "default_base_slice")]
    #[schemars(range(min = 1))]
    pub base_slice: u64,
}

/// Exponential averaging of CPU bursts: `τ(n+1) = α·t(n) + (1 − α)·τ(n)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Estimate {
    /// The weight of the last burst, from 0 to 1.
    pub alpha: f64,
    /// The prediction before any burst has been seen (τ0), in ticks.
    pub initial: u64,
}

/// Aging for the priority policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aging {
    /// Every this many ticks of waiting ready …
    #[schemars(range(min = 1))]
    pub every: u64,
    /// … the priority number goes down by this much (not below 0).
    #[schemars(range(min = 1))]
    pub step: u64,
}

/// A number for every level, or one for all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "expected a whole number of ticks or a list of them, one a level (top first)"
)]
pub enum PerLevel {
    /// The same for every level.
    All(u64),
    /// One per level, top (most urgent) first, as `mlfq.py -Q`/`-A` take them.
    Each(Vec<u64>),
}

impl PerLevel {
    /// The value at `level` (0 is the top) of `queues` levels.
    pub fn at(&self, level: usize) -> u64 {
        match self {
            PerLevel::All(v) => *v,
            PerLevel::Each(list) => list[level],
        }
    }
}

/// The parameters of MLFQ, named after `mlfq.py`'s options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mlfq {
    /// `-n`: how many queues.
    #[serde(default = "default_queues")]
    #[schemars(range(min = 1))]
    pub queues: u32,
    /// `-q`/`-Q`: the slice at each level; `kernel.quantum` when not given here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantum: Option<PerLevel>,
    /// `-a`/`-A`: slices at a level before moving down.
    #[serde(default = "default_allotment")]
    pub allotment: PerLevel,
    /// `-B`: every this many ticks all processes go back to the top (0: never).
    #[serde(default)]
    pub boost: u64,
    /// `-S`: a process that blocks gets a fresh slice and allotment at its level.
    #[serde(default)]
    pub io_reset: bool,
    /// `-I`: a process whose blocking ended goes to the head of its queue.
    #[serde(default)]
    pub io_bump: bool,
}

fn default_big() -> u64 {
    10_000
}
fn default_latency() -> u64 {
    24
}
fn default_granularity() -> u64 {
    3
}
fn default_base_slice() -> u64 {
    3
}
fn default_queues() -> u32 {
    3
}
fn default_allotment() -> PerLevel {
    PerLevel::All(1)
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig::Rr(Sliced::default())
    }
}

impl PolicyConfig {
    /// The name scenario files use.
    pub fn name(&self) -> &'static str {
        match self {
            PolicyConfig::Rr(_) => "rr",
            PolicyConfig::Fcfs(_) => "fcfs",
            PolicyConfig::Sjf(_) => "sjf",
            PolicyConfig::Srtf(_) => "srtf",
            PolicyConfig::Priority(_) => "priority",
            PolicyConfig::Hrrn(_) => "hrrn",
            PolicyConfig::Mlfq(_) => "mlfq",
            PolicyConfig::Lottery(_) => "lottery",
            PolicyConfig::Stride(_) => "stride",
            PolicyConfig::Cfs(_) => "cfs",
            PolicyConfig::Eevdf(_) => "eevdf",
        }
    }

    /// Which of the per-process attributes the policy reads: `priority`, `nice`, `tickets`.
    pub fn reads(&self) -> Attributes {
        match self {
            PolicyConfig::Priority(_) => Attributes::PRIORITY,
            PolicyConfig::Lottery(_) | PolicyConfig::Stride(_) => Attributes::TICKETS,
            PolicyConfig::Cfs(_) | PolicyConfig::Eevdf(_) => Attributes::NICE,
            _ => Attributes::NONE,
        }
    }

    /// Checks the parameters' ranges; the error is `(path below kernel.policy, message)`.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        let bad = |path: &str, msg: String| Err((path.to_owned(), msg));
        match self {
            PolicyConfig::Rr(Sliced { quantum })
            | PolicyConfig::Lottery(Sliced { quantum })
            | PolicyConfig::Stride(StrideParams { quantum, .. })
                if *quantum == Some(0) =>
            {
                return bad("quantum", "the quantum must be at least 1 tick".into());
            }
            PolicyConfig::Sjf(Burst { estimate: Some(e) })
            | PolicyConfig::Srtf(Burst { estimate: Some(e) })
                if !(0.0..=1.0).contains(&e.alpha) =>
            {
                return bad(
                    "estimate.alpha",
                    format!("alpha must be from 0 to 1, not {}", e.alpha),
                );
            }
            PolicyConfig::Priority(PriorityParams { aging: Some(a), .. })
                if a.every == 0 || a.step == 0 =>
            {
                let (field, what) = if a.every == 0 {
                    ("aging.every", "every")
                } else {
                    ("aging.step", "step")
                };
                return bad(field, format!("aging {what} must be at least 1"));
            }
            PolicyConfig::Stride(StrideParams { big: 0, .. }) => {
                return bad("big", "big must be at least 1".into());
            }
            PolicyConfig::Cfs(c) => {
                if c.latency == 0 {
                    return bad("latency", "latency must be at least 1 tick".into());
                }
                if c.min_granularity == 0 {
                    return bad(
                        "min_granularity",
                        "min_granularity must be at least 1 tick".into(),
                    );
                }
            }
            PolicyConfig::Eevdf(EevdfParams { base_slice: 0 }) => {
                return bad("base_slice", "base_slice must be at least 1 tick".into());
            }
            PolicyConfig::Mlfq(m) => return m.check(),
            _ => {}
        }
        Ok(())
    }
}

impl Mlfq {
    fn check(&self) -> Result<(), (String, String)> {
        let bad = |path: &str, msg: String| Err((path.to_owned(), msg));
        if self.queues == 0 || self.queues > 64 {
            return bad(
                "queues",
                format!("queues must be from 1 to 64, not {}", self.queues),
            );
        }
        let n = self.queues as usize;
        for (field, list) in [
            ("quantum", self.quantum.as_ref()),
            ("allotment", Some(&self.allotment)),
        ] {
            match list {
                Some(PerLevel::Each(v)) if v.len() != n => {
                    return bad(
                        field,
                        format!(
                            "{field} lists {} values but there are {n} queues (one per queue, top first)",
                            v.len()
                        ),
                    );
                }
                Some(PerLevel::Each(v)) => {
                    if let Some(i) = v.iter().position(|x| *x == 0) {
                        return bad(
                            &format!("{field}[{i}]"),
                            format!("{field} must be at least 1"),
                        );
                    }
                }
                Some(PerLevel::All(0)) => {
                    return bad(field, format!("{field} must be at least 1"));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A set of the per-process attributes (`priority`, `nice`, `tickets`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attributes(u8);

impl Attributes {
    /// None of them.
    pub const NONE: Attributes = Attributes(0);
    /// `priority`.
    pub const PRIORITY: Attributes = Attributes(1);
    /// `nice`.
    pub const NICE: Attributes = Attributes(2);
    /// `tickets`.
    pub const TICKETS: Attributes = Attributes(4);

    /// Whether `other` is in this set.
    pub fn contains(self, other: Attributes) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }
}

/// `kernel.policy` as a file writes it: a name, or an object with a name. The parameters
/// are read for the named policy alone, so that an error names the parameter
/// (`kernel.policy: boost: invalid value …`).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PolicyConfig, D::Error> {
    use serde::de::Error;
    use serde_json::Value;
    let (name, params) = match Value::deserialize(d)? {
        Value::String(name) => (name, serde_json::Map::new()),
        Value::Object(mut map) => match map.remove("name") {
            Some(Value::String(name)) => (name, map),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "name: a policy's name is a string, one of {}, not {other}",
                    names_list()
                )));
            }
            None => {
                return Err(D::Error::custom(format!(
                    "a policy object needs a \"name\", one of {}",
                    names_list()
                )));
            }
        },
        other => {
            return Err(D::Error::custom(format!(
                "a policy is a name ({}) or an object with a \"name\", not {other}",
                names_list()
            )));
        }
    };
    fn read<T: serde::de::DeserializeOwned>(
        params: serde_json::Map<String, serde_json::Value>,
    ) -> Result<T, String> {
        serde_path_to_error::deserialize(serde_json::Value::Object(params)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            // "unknown field `x`, expected `a` or `b`" / "…, there are no fields"
            if let Some(rest) = inner.strip_prefix("unknown field `")
                && let Some((field, tail)) = rest.split_once("`, ")
            {
                let known = match tail.strip_prefix("expected ") {
                    Some(list) => {
                        let names: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
                        format!("its parameters: \"{}\"", names.join("\", \""))
                    }
                    None => "it has none".to_owned(),
                };
                return format!("this policy has no parameter {field:?} ({known})");
            }
            if path == "." || path.is_empty() {
                inner
            } else {
                format!("{path}: {inner}")
            }
        })
    }
    let config = match name.as_str() {
        "rr" | "round_robin" => read(params).map(PolicyConfig::Rr),
        "fcfs" => read(params).map(PolicyConfig::Fcfs),
        "sjf" => read(params).map(PolicyConfig::Sjf),
        "srtf" => read(params).map(PolicyConfig::Srtf),
        "priority" => read(params).map(PolicyConfig::Priority),
        "hrrn" => read(params).map(PolicyConfig::Hrrn),
        "mlfq" => read(params).map(PolicyConfig::Mlfq),
        "lottery" => read(params).map(PolicyConfig::Lottery),
        "stride" => read(params).map(PolicyConfig::Stride),
        "cfs" => read(params).map(PolicyConfig::Cfs),
        "eevdf" => read(params).map(PolicyConfig::Eevdf),
        other => Err(format!(
            "unknown policy {other:?}, expected one of {}",
            names_list()
        )),
    };
    config.map_err(D::Error::custom)
}

fn names_list() -> String {
    POLICY_NAMES
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The schema of `kernel.policy`: a name, or an object with a name and parameters.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum PolicySchema {
    /// Just the name, every parameter at its default.
    Name(PolicyNameOnly),
    /// The name and parameters.
    Full(PolicyConfig),
}

/// The names a policy can be given by.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum PolicyNameOnly {
    Rr,
    RoundRobin,
    Fcfs,
    Sjf,
    Srtf,
    Priority,
    Hrrn,
    Mlfq,
    Lottery,
    Stride,
    Cfs,
    Eevdf,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<PolicyConfig, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        deserialize(&mut de).map_err(|e| e.to_string())
    }

    #[test]
    fn a_name_or_an_object() {
        assert_eq!(parse(r#""rr""#), Ok(PolicyConfig::default()));
        assert_eq!(parse(r#""round_robin""#), Ok(PolicyConfig::default()));
        assert_eq!(
            parse(r#"{"name": "stride"}"#),
            Ok(PolicyConfig::Stride(StrideParams {
                big: 10_000,
                quantum: None
            }))
        );
        let PolicyConfig::Mlfq(m) =
            parse(r#"{"name": "mlfq", "queues": 2, "quantum": [2, 4], "boost": 50}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.quantum, Some(PerLevel::Each(vec![2, 4])));
        assert_eq!(m.allotment, PerLevel::All(1));
    }

    #[test]
    fn bad_policies_name_what_is_wrong() {
        let e = parse(r#""sjff""#).unwrap_err();
        assert!(e.contains("unknown policy \"sjff\""), "{e}");
        let e = parse(r#"{"name": "fcfs", "quantum": 3}"#).unwrap_err();
        assert!(
            e.contains("this policy has no parameter \"quantum\" (it has none)"),
            "{e}"
        );
        let e = parse(r#"{"queues": 3}"#).unwrap_err();
        assert!(e.contains("needs a \"name\""), "{e}");
        let e = parse(r#"{"name": "mlfq", "boost": -1}"#).unwrap_err();
        assert!(e.starts_with("boost: "), "{e}");
        let e = parse("3").unwrap_err();
        assert!(e.contains("a policy is a name"), "{e}");
    }

    #[test]
    fn range_checks_name_the_parameter() {
        let check = |json: &str| parse(json).unwrap().check().unwrap_err().0;
        assert_eq!(check(r#"{"name": "rr", "quantum": 0}"#), "quantum");
        assert_eq!(
            check(r#"{"name": "mlfq", "queues": 3, "quantum": [1, 2]}"#),
            "quantum"
        );
        assert_eq!(
            check(r#"{"name": "mlfq", "queues": 2, "allotment": [1, 0]}"#),
            "allotment[1]"
        );
        assert_eq!(check(r#"{"name": "mlfq", "queues": 0}"#), "queues");
        assert_eq!(check(r#"{"name": "stride", "big": 0}"#), "big");
        assert_eq!(
            check(r#"{"name": "sjf", "estimate": {"alpha": 1.5, "initial": 5}}"#),
            "estimate.alpha"
        );
        assert_eq!(
            check(r#"{"name": "priority", "aging": {"every": 0, "step": 1}}"#),
            "aging.every"
        );
        assert!(
            parse(r#"{"name": "mlfq", "queues": 2, "quantum": [1, 2]}"#)
                .unwrap()
                .check()
                .is_ok()
        );
    }
}
