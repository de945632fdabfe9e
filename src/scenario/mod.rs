//! The scenario file format (SPEC section 5): serde types, parsing with precise error places,
//! and the range checks that need no program knowledge.
//!
//! Reference checks (unknown programs, parameters, globals, handles) happen when the programs
//! are compiled, in [`crate::program::compile`]; [`crate::load`] does both.

mod choice;
mod error;
mod expect;
mod input;
mod instr;
mod kernel;
mod limits;
mod names;
pub use names::MAX_NAME_BYTES;
pub mod policy;
mod schema;
mod unique;
mod wording;

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use error::{ErrorKind, ScenarioError};
pub use expect::{Expect, ExpectProcess, ExpectSim};
pub use input::MAX_SCENARIO_BYTES;
pub(crate) use instr::visit_spawns;
pub use instr::{
    Assign, Expr, INSTRUCTIONS, Instr, Join, NewObject, Repeat, Spawn, TimedJoin, Wait,
};
pub use kernel::{
    CPUS_LIMIT, ExitPolicy, KernelConfig, PID_MAX_LIMIT, ReadyGroup, SliceAfterBlock, WakeTo,
};
pub use limits::{MAX_LINE_BYTES, OutputMeter, ValuesHeld, bytes_of};
pub use policy::{Attributes, PerLevel, PolicyConfig};

pub use schema::json_schema;
pub use unique::UniqueMap;
pub(crate) use wording::from_json_error;

use crate::model::Value;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The JSON Schema the file follows (`procsim schema` prints it), so that editors complete
    /// and check it; procsim itself ignores it.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// A title for reports.
    #[serde(default)]
    pub name: String,
    /// Free text: which point of the notes this scenario shows.
    #[serde(default)]
    pub description: Option<String>,
    /// Scheduler and limits.
    #[serde(default)]
    pub kernel: KernelConfig,
    /// Seed of the generator behind `uniform` draws.
    #[serde(default)]
    pub seed: u64,
    /// Initial globals; every process starts from these or from its parent's copy.
    #[serde(default)]
    pub globals: UniqueMap<Value>,
    /// Programs by name.
    pub programs: UniqueMap<Program>,
    /// The processes that exist when the run starts.
    pub processes: Vec<ProcessEntry>,
    /// Signals from outside, as `kill -9 PID` typed in a shell (SPEC §4).
    #[serde(default)]
    pub events: Vec<OutsideSignal>,
    /// What a run must show; checked by `procsim check` and `run --check`.
    #[serde(default)]
    pub expect: Option<Expect>,
}

/// A program: parameters and a body (SPEC section 4).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Program {
    /// Parameter names, bound from `args` then `kwargs`.
    #[serde(default)]
    pub params: Vec<String>,
    /// The instructions.
    #[serde(deserialize_with = "instr::shrunk")]
    pub body: Vec<Instr>,
}

/// `{"at": T, "signal": "SIGKILL", "to": NAME}`: a signal sent at tick T to the process of
/// that name, whoever it is.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutsideSignal {
    /// The tick it is sent at.
    pub at: u64,
    /// `SIGKILL` or `SIGTERM`.
    pub signal: SignalName,
    /// The name of the process it goes to (`MainProcess`, `Process-1`, …).
    pub to: String,
}

/// The signals a scenario can send from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
pub enum SignalName {
    /// `kill -9`.
    #[serde(rename = "SIGKILL")]
    Kill,
    /// `kill` (`kill -15`).
    #[serde(rename = "SIGTERM")]
    Term,
}

/// A top-level process of the scenario.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessEntry {
    /// The program it runs.
    pub program: String,
    /// Its name; by default `MainProcess` when it is the only process, else the program's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The tick at which it is admitted (`new → ready`).
    #[serde(default)]
    pub arrival: u64,
    /// Positional arguments.
    #[serde(default)]
    pub args: Vec<Expr>,
    /// Keyword arguments.
    #[serde(default)]
    pub kwargs: UniqueMap<Expr>,
    /// How many copies to start, named `NAME-1` … `NAME-N` when more than one.
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub count: u64,
    /// Lower is more urgent (the `priority` policy); default 0.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Linux's nice value, −20 … 19 (the `cfs` and `eevdf` policies); default 0.
    #[serde(default)]
    #[schemars(range(min = -20, max = 19))]
    pub nice: Option<i64>,
    /// Lottery and stride tickets, at least 1; default 100.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub tickets: Option<u64>,
}

impl ProcessEntry {
    /// The scheduling attributes it gives.
    pub fn attrs(&self) -> SchedAttrs {
        SchedAttrs {
            priority: self.priority,
            nice: self.nice,
            tickets: self.tickets,
        }
    }
}

/// The per-process scheduling attributes a `processes` entry, `spawn` or `fork` may give
/// (SPEC section 3a); what is not given is inherited from the creator (top-level processes:
/// the defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedAttrs {
    /// Lower is more urgent (the `priority` policy).
    pub priority: Option<i64>,
    /// Linux's nice value, −20 … 19 (the `cfs` and `eevdf` policies).
    pub nice: Option<i64>,
    /// Lottery and stride tickets, at least 1.
    pub tickets: Option<u64>,
}

impl SchedAttrs {
    /// Range checks; the error is `(field, message)`.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(n) = self.nice
            && !(-20..=19).contains(&n)
        {
            return Err(("nice", format!("nice must be from -20 to 19, not {n}")));
        }
        if self.tickets == Some(0) {
            return Err(("tickets", "tickets must be at least 1".into()));
        }
        Ok(())
    }

    /// Whether any attribute is given.
    pub fn any(&self) -> bool {
        self.priority.is_some() || self.nice.is_some() || self.tickets.is_some()
    }
}

fn one() -> u64 {
    1
}

impl Scenario {
    /// Parses a scenario from JSON text and checks its ranges; errors name `<input>`.
    ///
    /// ```
    /// let s = procsim::Scenario::from_str(r#"{
    ///     "programs": {"main": {"body": [{"cpu": 3}]}},
    ///     "processes": [{"program": "main"}]
    /// }"#).unwrap();
    /// assert_eq!(s.kernel.quantum, 4);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Scenario, ScenarioError> {
        Self::from_slice(text.as_bytes())
    }

    /// Parses a scenario from bytes (which need not be UTF-8: bad bytes are a syntax error).
    pub fn from_slice(bytes: &[u8]) -> Result<Scenario, ScenarioError> {
        let bytes = input::strip_bom(bytes);
        check_top_level(bytes)?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let scenario: Scenario = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let inner = e.into_inner();
            wording::from_json_error(inner, path)
        })?;
        de.end()
            .map_err(|e| wording::from_json_error(e, String::new()))?;
        scenario.check_ranges()?;
        Ok(scenario)
    }

    /// Reads and parses a scenario file; errors name the file.
    ///
    /// The path `-` is standard input (and errors then name `<stdin>`), as for most Unix tools.
    pub fn from_path(path: &Path) -> Result<Scenario, ScenarioError> {
        let stdin = path == Path::new("-");
        let name = if stdin { Path::new("<stdin>") } else { path };
        let bytes = if stdin {
            input::read_limited(std::io::stdin().lock(), None)
        } else {
            std::fs::File::open(path)
                .map_err(|e| ScenarioError::new(ErrorKind::Io, "", format!("cannot read: {e}")))
                .and_then(|f| {
                    let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
                    input::read_limited(f, size)
                })
        }
        .map_err(|e| e.in_file(name))?;
        Self::from_slice(&bytes).map_err(|e| e.in_file(name))
    }

    /// The display name of the top-level process `entry` (copy `copy` of `count`, from 1).
    pub fn top_level_name(&self, entry: usize, copy: u64) -> String {
        let e = &self.processes[entry];
        let only = self.processes.len() == 1 && e.count == 1;
        let base = match (&e.name, only) {
            (Some(n), _) => n.clone(),
            (None, true) => "MainProcess".to_owned(),
            (None, false) => e.program.clone(),
        };
        if e.count > 1 {
            format!("{base}-{copy}")
        } else {
            base
        }
    }

    /// What is legal but probably not what the author meant: a scheduling attribute
    /// (`priority`, `nice`, `tickets`) that the scenario's policy does not read, on a top-level
    /// process, a `spawn`, a `fork` or a `thread`; and round robin's own conventions
    /// (`wake_to: head`, `slice_after_block: keep`) under another policy, which ignores them
    /// (docs/policies.md). Each entry is `(JSON path, message)`. The CLI prints them to
    /// standard error; a sweep that runs one workload under several policies may well give
    /// settings only some of them read. (A convention set to its default is not told apart
    /// from one not given: either way it changes nothing.)
    pub fn warnings(&self) -> Vec<(String, String)> {
        let policy = &self.kernel.policy;
        let reads = policy.reads();
        let mut out = Vec::new();
        if !matches!(policy, PolicyConfig::Rr(_)) {
            for (given, name) in [
                (self.kernel.wake_to != WakeTo::Tail, "wake_to"),
                (
                    self.kernel.slice_after_block != SliceAfterBlock::Fresh,
                    "slice_after_block",
                ),
            ] {
                if given {
                    out.push((
                        format!("kernel.{name}"),
                        format!(
                            "`{name}` is a convention of round robin (`rr`); the `{}` policy \
                             does not read it, so it has no effect here",
                            policy.name()
                        ),
                    ));
                }
            }
        }
        let mut note = |path: String, attrs: SchedAttrs| {
            for (given, attr, name) in [
                (attrs.priority.is_some(), Attributes::PRIORITY, "priority"),
                (attrs.nice.is_some(), Attributes::NICE, "nice"),
                (attrs.tickets.is_some(), Attributes::TICKETS, "tickets"),
            ] {
                if given && !reads.contains(attr) {
                    out.push((
                        format!("{path}.{name}"),
                        format!(
                            "the `{}` policy does not read `{name}`; it has no effect here",
                            policy.name()
                        ),
                    ));
                }
            }
        };
        for (i, e) in self.processes.iter().enumerate() {
            note(format!("processes[{i}]"), e.attrs());
        }
        for (name, program) in self.programs.iter() {
            instr::visit_spawns(
                &program.body,
                &format!("programs.{name}.body"),
                true,
                &mut |path, s| note(path, s.attrs()),
            );
        }
        out
    }

    fn check_ranges(&self) -> Result<(), ScenarioError> {
        let k = &self.kernel;
        let bad = |path: &str, msg: String| Err(ScenarioError::new(ErrorKind::Invalid, path, msg));
        if k.quantum == 0 {
            return bad(
                "kernel.quantum",
                "the quantum must be at least 1 tick".into(),
            );
        }
        if k.cpus == 0 || k.cpus > CPUS_LIMIT {
            return bad(
                "kernel.cpus",
                format!("cpus must be from 1 to {CPUS_LIMIT}, not {}", k.cpus),
            );
        }
        if !(3..=PID_MAX_LIMIT).contains(&k.pid_max) {
            return bad(
                "kernel.pid_max",
                format!(
                    "pid_max must be from 3 to {PID_MAX_LIMIT} (pids are 2 … pid_max − 1), not {}",
                    k.pid_max
                ),
            );
        }
        if k.max_processes == 0 {
            return bad(
                "kernel.max_processes",
                "max_processes must be at least 1".into(),
            );
        }
        if k.max_ticks == 0 {
            return bad("kernel.max_ticks", "max_ticks must be at least 1".into());
        }
        if let Some(t) = k.real_timeout_s
            && !(0.001..=31_536_000.0).contains(&t)
        {
            return bad(
                "kernel.real_timeout_s",
                format!("real_timeout_s must be from 0.001 to 31536000 seconds (a year), not {t}"),
            );
        }
        if let Err((field, message)) = k.policy.check() {
            return bad(&format!("kernel.policy.{field}"), message);
        }
        let groups = [ReadyGroup::Wake, ReadyGroup::Admit, ReadyGroup::Preempt];
        if let Some(order) = &k.tick_order
            && (order.len() != 3 || groups.iter().any(|g| !order.contains(g)))
        {
            return bad(
                "kernel.tick_order",
                format!(
                    "tick_order must name each of \"wake\", \"admit\" and \"preempt\" once, not [{}]",
                    order
                        .iter()
                        .map(|g| format!("{:?}", g.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if self.processes.is_empty() {
            return bad("processes", "a scenario needs at least one process".into());
        }
        let mut total: u64 = 0;
        for (i, e) in self.processes.iter().enumerate() {
            if e.count == 0 {
                return bad(
                    &format!("processes[{i}].count"),
                    "count must be at least 1".into(),
                );
            }
            if let Err((field, message)) = e.attrs().check() {
                return bad(&format!("processes[{i}].{field}"), message);
            }
            total = total.saturating_add(e.count);
        }
        let live_limit = u64::from(k.max_processes).min(u64::from(k.pid_max) - 2);
        if total > live_limit {
            return bad(
                "processes",
                format!(
                    "{total} top-level processes do not fit: kernel.max_processes is {} and kernel.pid_max allows {}; raise them",
                    k.max_processes,
                    k.pid_max - 2
                ),
            );
        }
        names::check_lengths(self)?;
        // After the total is bounded: it names every copy.
        names::check_unique(self)?;
        if let Some(expect) = &self.expect {
            expect.check()?;
        }
        Ok(())
    }
}

/// serde would read a top-level array as a struct's fields in order; a scenario is an object.
fn check_top_level(bytes: &[u8]) -> Result<(), ScenarioError> {
    let (mut line, mut col) = (1, 0);
    for &b in bytes {
        col += 1;
        match b {
            b'\n' => {
                line += 1;
                col = 0;
            }
            b' ' | b'\t' | b'\r' => {}
            b'{' => return Ok(()),
            b'[' => {
                return Err(ScenarioError::new(
                    ErrorKind::Format,
                    "",
                    "the top level of a scenario must be an object ({…}), not an array",
                )
                .at(line, col));
            }
            // Anything else is left to the parser, which names the problem.
            _ => return Ok(()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Scenario::from_str(text).unwrap_err().to_string()
    }

    const OK: &str =
        r#"{"programs": {"main": {"body": [{"cpu": 3}]}}, "processes": [{"program": "main"}]}"#;

    #[test]
    fn defaults_fill_in() {
        let s = Scenario::from_str(OK).unwrap();
        assert_eq!(s.kernel, KernelConfig::default());
        assert_eq!(s.top_level_name(0, 1), "MainProcess");
    }

    #[test]
    fn errors_name_the_json_path_and_position() {
        let e =
            err(r#"{"programs": {"main": {"body": [{"cpu": 3}, {"cpu": 1.5}]}}, "processes": []}"#);
        assert!(e.starts_with("<input>:1:"), "{e}");
        assert!(
            e.contains("programs.main.body[1].cpu: floating point"),
            "{e}"
        );
        let e = err(r#"{"programs": {"main": {"body": [{"cpu": 3, "io": 1}]}}, "processes": []}"#);
        assert!(e.contains("exactly one key, found 2: `cpu`, `io`"), "{e}");
        let e = err(r#"{"programs": {"main": {"body": [{}]}}, "processes": []}"#);
        assert!(
            e.contains("programs.main.body[0]: an instruction has exactly one key, found none"),
            "{e}"
        );
        let e = err(r#"{"programs": {"main": {"bodyy": []}}, "processes": []}"#);
        assert!(
            e.contains(
                "programs.main.bodyy: unknown key \"bodyy\": expected one of \"params\", \"body\""
            ),
            "{e}"
        );
    }

    #[test]
    fn range_checks() {
        let with = |k: &str| OK.replacen('{', &format!("{{\"kernel\": {k}, "), 1);
        assert!(err(&with(r#"{"quantum": 0}"#)).contains("kernel.quantum"));
        assert!(err(&with(r#"{"cpus": 0}"#)).contains("kernel.cpus"));
        assert!(
            err(&with(r#"{"tick_order": ["wake", "wake", "admit"]}"#))
                .contains("kernel.tick_order")
        );
        assert!(
            err(&with(r#"{"quantum": -1}"#))
                .contains("kernel.quantum: expected a whole number from 0 to 18446744073709551615, found the number -1")
        );
    }

    #[test]
    fn duplicate_top_level_names_are_rejected() {
        let e = err(
            r#"{"programs": {"w": {"body": []}}, "processes": [{"program": "w"}, {"program": "w"}]}"#,
        );
        assert!(
            e.contains("processes[1]: two top-level processes are both named `w`"),
            "{e}"
        );
    }
}
