//! # procsim: a process state machine you can run, read and check
//!
//! procsim is a deterministic model of how an operating system runs processes. A scenario file
//! (JSON) declares programs, which are lists of instructions (`cpu`, `io`, `fork`, `join`,
//! `print`, …), and the processes that run them; the simulated kernel schedules those processes
//! over one or more CPUs, by round robin or another policy of SPEC §3a (FCFS, SJF, SRTF,
//! priority, HRRN, MLFQ, lottery, stride, CFS, EEVDF), and reports every transition each one made through the
//! five states `new → ready → running → blocked → terminated`, with the figures textbooks ask
//! for: waiting, turnaround and response times, utilization, throughput.
//!
//! The model follows the conventions of Python's `multiprocessing` where processes are
//! concerned (names like `Process-1:2`, argument binding and its error messages, exit codes of
//! `-9` after a `kill -9`, daemon children terminated with their parent, globals copied at
//! `start` and never shared) and those of operating-systems textbooks where scheduling is
//! concerned (the tick, the quantum, the same-tick order of arrivals and preemptions, which a
//! scenario can set to match a given book).
//!
//! ## How the crate is laid out
//!
//! - [`model`]: the states, the causes of transitions and the one graph ([`StateGraph`]) that
//!   says which transitions are legal; the values programs compute with.
//! - [`scenario`]: the file format, parsed with errors that name the file, line and column or
//!   the JSON path of the bad value.
//! - [`program`]: programs compiled for running, with every reference resolved (this is also
//!   where unknown programs, globals and handles are reported).
//! - [`process`]: the process API's rules, checks, Python's errors and the exit sequence,
//!   stated once; both backends call them and keep only their mechanism.
//! - [`sim`]: the simulated kernel: event-driven time, a scheduling [`sim::Policy`], the
//!   instruction interpreter and the process API.
//! - [`report`]: the [`Report`] every backend returns, and its renderers (table, timeline,
//!   process tree, Perfetto trace, SVG Gantt chart).
//! - [`backend`]: the [`Backend`] trait that runs a scenario and returns a report.
//! - [`study`]: what is done with reports: checking `expect` blocks, comparing the two
//!   backends, seeded workloads (`procsim gen`), sweeps over settings and their plots.
//! - [`fork`]: the fork backend, the same scenario as real Linux processes (a supervisor in
//!   its own PID namespace; `start` is `fork()`, `join` is a wait on a pidfd), reporting in
//!   microseconds with the ready/running split read from schedstat.
//!
//! ```
//! let plan = procsim::load_str(r#"{
//!     "globals": {"counter": 0},
//!     "programs": {
//!         "main": {"body": [
//!             {"fork": {"as": "w", "program": "work", "args": [3]}},
//!             {"join": "w"},
//!             {"print": "main sees counter={counter}"}]},
//!         "work": {"params": ["n"], "body": [
//!             {"cpu": "$n"}, {"add": {"name": "counter", "value": 1}},
//!             {"print": "{name} sees counter={counter}"}]}
//!     },
//!     "processes": [{"program": "main"}]
//! }"#).unwrap();
//! let report = procsim::Sim::new(plan, Default::default()).run();
//! assert_eq!(report.processes[0].output, ["main sees counter=0"]);
//! assert_eq!(report.processes[1].output, ["Process-1 sees counter=1"]);
//! ```

pub mod backend;
pub mod demo;
pub mod fork;
pub mod model;
pub mod process;
pub mod program;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod study;

use std::path::Path;
use std::sync::Arc;

pub use backend::{Backend, SimBackend};
pub use model::{Cause, State, StateGraph, Value};
pub use program::Plan;
pub use report::{RealRun, Report};
pub use scenario::{Scenario, ScenarioError};
pub use sim::{Sim, SimOptions};

/// Reads, parses, validates and compiles a scenario file.
pub fn load(path: &Path) -> Result<(Scenario, Arc<Plan>), ScenarioError> {
    let scenario = Scenario::from_path(path)?;
    let name = if path == Path::new("-") {
        Path::new("<stdin>")
    } else {
        path
    };
    let plan = program::compile(&scenario).map_err(|e| e.in_file(name))?;
    Ok((scenario, Arc::new(plan)))
}

/// Reads, parses and checks a scenario file as [`load`] does, without keeping a compiled plan
/// (what `procsim validate` needs: the scenario, for its warnings).
pub fn validate(path: &Path) -> Result<Scenario, ScenarioError> {
    let scenario = Scenario::from_path(path)?;
    let name = if path == Path::new("-") {
        Path::new("<stdin>")
    } else {
        path
    };
    program::check(&scenario).map_err(|e| e.in_file(name))?;
    Ok(scenario)
}

/// Parses, validates and compiles scenario text (errors name `<input>`).
pub fn load_str(text: &str) -> Result<Arc<Plan>, ScenarioError> {
    let scenario = Scenario::from_str(text)?;
    Ok(Arc::new(program::compile(&scenario)?))
}
