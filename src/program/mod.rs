//! Programs compiled for running: flat code with every name resolved.
//!
//! Compiling is also the validation pass for references: an unknown program, parameter,
//! global, handle or object, a placeholder that names nothing, or a reversed `uniform` range is
//! reported here with the JSON path of the offending value. Both backends run the compiled
//! form; a program is compiled once and shared by every process that runs it.

mod compiler;
mod index;
mod names;
mod template;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use compiler::{Compiler, Scope, invalid};
pub use names::{child_name, top_level_name};
pub use template::{HandleField, Piece, RenderContext, Template};

use serde::{Deserialize, Serialize};

use crate::model::Value;
use crate::report::{PROCESS_FIELDS, SUMMARY_FIELDS};
use crate::scenario::{
    ErrorKind, Expr, Instr, Join, KernelConfig, Scenario, ScenarioError, SchedAttrs, Spawn,
};

/// Index of a program in [`Plan::programs`].
pub type ProgramId = u32;
/// Index of a global in [`Plan::globals`].
pub type GlobalId = u32;
/// Index of a handle or object name in [`Plan::names`].
pub type NameId = u32;

/// An expression with its reference resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CExpr {
    /// A literal.
    Lit(Value),
    /// The i-th parameter of the running program.
    Param(u16),
    /// A global, from the running process's own copy.
    Global(GlobalId),
    /// A seeded draw from `lo..=hi`.
    Uniform(i64, i64),
    /// The count of the k-th enclosing named `repeat` (outermost first), 0 … times − 1.
    Counter(u16),
}

/// Which process a handle instruction means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandleRef {
    /// `"self"`: the running process itself (Python's `current_process()`).
    Current,
    /// A handle made by `spawn`, `fork` or `wait`, looked up in the running process's table.
    Named(NameId),
}

/// The signals a scenario can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// SIGKILL (9): `kill -9`, `Process.kill()`.
    Kill,
    /// SIGTERM (15): `Process.terminate()`.
    Term,
}

impl Signal {
    /// The signal number.
    pub fn number(self) -> i32 {
        match self {
            Signal::Kill => 9,
            Signal::Term => 15,
        }
    }
    /// `SIGKILL` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Kill => "SIGKILL",
            Signal::Term => "SIGTERM",
        }
    }
    /// The method a Python program calls to send it.
    pub fn method(self) -> &'static str {
        match self {
            Signal::Kill => "kill",
            Signal::Term => "terminate",
        }
    }
}

/// How `set`, `add` and `append` change a global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssignOp {
    /// Replace the value.
    Set,
    /// Integers add (checked), strings and lists concatenate.
    Add,
    /// Append to a list.
    Append,
}

/// A compiled `spawn`/`fork`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpawnOp {
    /// The handle name (`None`: a `fork` or `thread` without `as`).
    pub handle: Option<NameId>,
    /// The child's program.
    pub program: ProgramId,
    /// An explicit name.
    pub name: Option<Arc<str>>,
    /// Positional arguments, evaluated in the parent.
    pub args: Vec<CExpr>,
    /// Keyword arguments in the order written, evaluated in the parent.
    pub kwargs: Vec<(Arc<str>, CExpr)>,
    /// The daemon flag; `None` inherits the parent's, as multiprocessing does.
    pub daemon: Option<bool>,
    /// Scheduling attributes; what is not given is inherited from the parent.
    pub attrs: SchedAttrs,
}

/// One compiled instruction. Loops are flattened into `Loop`/`EndLoop` jumps so a process's
/// position is a program counter plus a small stack of loop counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Compute for E ticks.
    Cpu(CExpr),
    /// Block on I/O for E ticks.
    Io(CExpr),
    /// Sleep for E ticks.
    Sleep(CExpr),
    /// Enter a loop of E iterations; when E is 0, jump to `end` (the op after `EndLoop`).
    Loop {
        /// Iteration count.
        times: CExpr,
        /// Index of the op after the matching `EndLoop`.
        end: u32,
        /// Its count has a name (`"as"`), so the process keeps it.
        named: bool,
    },
    /// Go back to the op after `start` while iterations remain.
    EndLoop {
        /// Index of the matching `Loop`.
        start: u32,
        /// As the matching `Loop`'s.
        named: bool,
    },
    /// Create a child; `start` says whether to admit it at once (`fork`).
    Spawn {
        /// What to create.
        spec: Box<SpawnOp>,
        /// `fork` rather than `spawn`.
        start: bool,
    },
    /// Start a new thread of this process (SPEC §4a): `threading.Thread(...).start()`.
    Thread(Box<SpawnOp>),
    /// Acquire the process's lock of this name (SPEC §4a).
    Acquire(NameId),
    /// Release the process's lock of this name.
    Release(NameId),
    /// Admit a child.
    Start(HandleRef),
    /// Wait for one child and reap it; with a timeout (ticks, `None` at run time: none),
    /// wait at most that long.
    Join(HandleRef, Option<CExpr>),
    /// Wait for any child and reap it, optionally binding a handle to it.
    Wait(Option<NameId>),
    /// Send a signal to a child.
    Signal(HandleRef, Signal),
    /// Change a global.
    Assign(AssignOp, GlobalId, CExpr),
    /// A line of output.
    Print(Template),
    /// Hold a new object, with its finalizer's text.
    New(NameId, Option<Arc<Template>>),
    /// Release an object.
    Drop(NameId),
    /// End with an exit code (`sys.exit`).
    Exit(CExpr),
    /// End at once with an exit code (`os._exit`).
    ExitNow(CExpr),
    /// End as an uncaught error.
    Fail(Arc<str>),
}

/// A compiled program.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Code {
    /// Its name in the scenario, used in Python's error messages (`work1() missing …`).
    pub name: Arc<str>,
    /// Parameter names.
    pub params: Vec<Arc<str>>,
    /// Flat code.
    pub ops: Vec<Op>,
}

/// A top-level process entry, compiled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopLevel {
    /// The program it runs.
    pub program: ProgramId,
    /// Name of the first copy, or the base name when there are several.
    pub name: String,
    /// Whether `name` is a base to number (`count` > 1).
    pub numbered: bool,
    /// Arrival tick.
    pub arrival: u64,
    /// Positional arguments (globals only may be referenced).
    pub args: Vec<CExpr>,
    /// Keyword arguments.
    pub kwargs: Vec<(Arc<str>, CExpr)>,
    /// Copies.
    pub count: u64,
    /// Scheduling attributes (what is not given takes the default).
    pub attrs: SchedAttrs,
}

/// A signal from outside (SPEC §4 `events`), compiled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideEvent {
    /// The tick it is sent at.
    pub at: u64,
    /// The signal.
    pub signal: Signal,
    /// The name of the process it goes to: the first one of that name alive at `at`.
    pub to: String,
}

/// A scenario ready to run: programs compiled, names interned, limits copied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The scenario's name.
    pub name: String,
    /// The kernel block.
    pub kernel: KernelConfig,
    /// The seed of `uniform` draws.
    pub seed: u64,
    /// Initial globals, in file order.
    pub globals: Vec<(Arc<str>, Value)>,
    /// Programs, in file order.
    pub programs: Vec<Code>,
    /// Handle and object names.
    pub names: Vec<Arc<str>>,
    /// Top-level processes, in file order.
    pub processes: Vec<TopLevel>,
    /// Signals from outside, by tick (file order within a tick).
    pub events: Vec<OutsideEvent>,
}

impl Plan {
    /// Whether any program starts a thread or uses a lock (SPEC §4a, Python's `threading`):
    /// the kernel keeps its thread tables, and turns its process-only shortcuts off, only then.
    pub fn uses_threads(&self) -> bool {
        self.programs.iter().any(|c| {
            c.ops
                .iter()
                .any(|op| matches!(op, Op::Thread(_) | Op::Acquire(_) | Op::Release(_)))
        })
    }

    /// The id of a program by name.
    pub fn program(&self, name: &str) -> Option<ProgramId> {
        self.programs
            .iter()
            .position(|c| &*c.name == name)
            .map(|i| i as ProgramId)
    }
}

/// Compiles a parsed scenario, checking every reference.
///
/// ```
/// let s = procsim::Scenario::from_str(r#"{
///     "programs": {"main": {"body": [{"cpu": "$n"}]}},
///     "processes": [{"program": "main"}]
/// }"#).unwrap();
/// let e = procsim::program::compile(&s).unwrap_err();
/// assert_eq!(e.path(), "programs.main.body[0].cpu");
/// assert!(e.message().contains("`n` is neither a parameter of `main` nor a global"));
/// ```
pub fn compile(s: &Scenario) -> Result<Plan, ScenarioError> {
    compile_keeping(s, true)
}

/// Checks a parsed scenario as [`compile`] does, every reference included, without keeping
/// what it compiles: `procsim validate` of a million programs holds the scenario, not the
/// scenario and its plan.
pub fn check(s: &Scenario) -> Result<(), ScenarioError> {
    compile_keeping(s, false).map(|_| ())
}

/// [`compile`]; with `keep` false, each program's code is dropped once checked, and the
/// top-level processes are kept only when outside signals need their names.
fn compile_keeping(s: &Scenario, keep: bool) -> Result<Plan, ScenarioError> {
    let mut c = Compiler {
        programs: s.programs.keys().map(String::as_str).collect(),
        globals: s.globals.keys().map(String::as_str).collect(),
        names: index::NameIndex::default(),
        defined_handles: HashSet::new(),
        handle_kinds: HashMap::new(),
        defined_objects: HashSet::new(),
    };
    // Handles and objects may be used by a program other than the one that made them (a child
    // inherits its parent's tables), so collect every definition in the scenario first.
    for prog in s.programs.values() {
        c.collect_definitions(&prog.body);
    }
    let mut programs = Vec::with_capacity(s.programs.len());
    for (pname, prog) in s.programs.iter() {
        let path = format!("programs.{pname}");
        let mut seen: HashSet<&str> = HashSet::new();
        for (i, p) in prog.params.iter().enumerate() {
            if seen.contains(p.as_str()) {
                return Err(invalid(
                    format!("{path}.params[{i}]"),
                    format!("duplicate parameter `{p}`"),
                ));
            }
            if p.is_empty() || p.contains(['{', '}', '.', '$']) {
                return Err(invalid(
                    format!("{path}.params[{i}]"),
                    format!("`{p}` is not a usable parameter name"),
                ));
            }
            seen.insert(p);
        }
        if prog.params.len() > u16::MAX as usize {
            return Err(invalid(
                format!("{path}.params"),
                "too many parameters".into(),
            ));
        }
        let params: HashMap<&str, u16> = (prog.params.iter().enumerate())
            .map(|(i, p)| (p.as_str(), i as u16))
            .collect();
        let scope = Scope {
            program: pname,
            params: &params,
            loops: Vec::new(),
        };
        let mut ops = Vec::new();
        c.body(&prog.body, &format!("{path}.body"), &scope, &mut ops)?;
        if !keep {
            continue;
        }
        // Grown by doubling: a one-op program would keep room for four.
        ops.shrink_to_fit();
        programs.push(Code {
            name: pname.as_str().into(),
            params: prog.params.iter().map(|p| p.as_str().into()).collect(),
            ops,
        });
    }
    let no_params = HashMap::new();
    let global_scope = Scope {
        program: "",
        params: &no_params,
        loops: Vec::new(),
    };
    let keep_processes = keep || !s.events.is_empty();
    let mut processes = Vec::with_capacity(if keep_processes { s.processes.len() } else { 0 });
    for (i, e) in s.processes.iter().enumerate() {
        let path = format!("processes[{i}]");
        let program = c.program_id(&e.program, &format!("{path}.program"))?;
        let args = e
            .args
            .iter()
            .enumerate()
            .map(|(j, a)| c.expr(a, &format!("{path}.args[{j}]"), &global_scope))
            .collect::<Result<_, _>>()?;
        let kwargs = c.kwargs(&e.kwargs, &path, &global_scope)?;
        if !keep_processes {
            continue;
        }
        let only = s.processes.len() == 1 && e.count == 1;
        processes.push(TopLevel {
            program,
            name: match (&e.name, only) {
                (Some(n), _) => n.clone(),
                (None, true) => "MainProcess".into(),
                (None, false) => e.program.clone(),
            },
            numbered: e.count > 1,
            arrival: e.arrival,
            args,
            kwargs,
            count: e.count,
            attrs: e.attrs(),
        });
    }
    let events = outside_events(s, &processes)?;
    if let Some(expect) = &s.expect {
        check_expect_fields(expect)?;
    }
    Ok(Plan {
        name: s.name.clone(),
        kernel: s.kernel.clone(),
        seed: s.seed,
        globals: s
            .globals
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.clone()))
            .collect(),
        programs,
        names: c.names.into_names().into_iter().map(Arc::from).collect(),
        processes,
        events,
    })
}

/// The outside signals, checked: each must name a process the scenario can have (a top-level
/// one, a child's explicit name, or `Process-N[:M…]` when something forks).
fn outside_events(s: &Scenario, top: &[TopLevel]) -> Result<Vec<OutsideEvent>, ScenarioError> {
    if s.events.is_empty() {
        // The names below would be a copy of every top-level name, for nothing to check.
        return Ok(Vec::new());
    }
    let mut names: HashSet<String> = HashSet::new();
    for t in top {
        if t.numbered {
            names.extend((1..=t.count.min(100_000)).map(|k| format!("{}-{k}", t.name)));
        } else {
            names.insert(t.name.clone());
        }
    }
    let mut forks = false;
    for (pname, prog) in s.programs.iter() {
        crate::scenario::visit_spawns(&prog.body, pname, false, &mut |_, sp| {
            forks = true;
            names.extend(sp.name.clone());
        });
    }
    let child_default = |n: &str| {
        n.strip_prefix("Process-").is_some_and(|rest| {
            rest.split(':')
                .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let mut out = Vec::with_capacity(s.events.len());
    for (i, e) in s.events.iter().enumerate() {
        let known = names.contains(e.to.as_str()) || (forks && child_default(&e.to));
        if !known {
            return Err(invalid(
                format!("events[{i}].to"),
                format!(
                    "`{}` names no process of the scenario (top-level processes: {})",
                    e.to,
                    top.iter()
                        .map(|t| format!("`{}`", t.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        out.push(OutsideEvent {
            at: e.at,
            signal: match e.signal {
                crate::scenario::SignalName::Kill => Signal::Kill,
                crate::scenario::SignalName::Term => Signal::Term,
            },
            to: e.to.clone(),
        });
    }
    // Stable: same-tick signals keep their file order.
    out.sort_by_key(|e| e.at);
    Ok(out)
}

fn check_expect_fields(expect: &crate::scenario::Expect) -> Result<(), ScenarioError> {
    if let Some(sim) = &expect.sim {
        for key in sim.summary.keys() {
            if !SUMMARY_FIELDS.contains(&key.as_str()) {
                return Err(invalid(
                    format!("expect.sim.summary.{key}"),
                    format!(
                        "unknown summary field `{key}`, expected one of {}",
                        SUMMARY_FIELDS.join(", ")
                    ),
                ));
            }
        }
        for (name, fields) in sim.processes.iter() {
            for key in fields.keys() {
                if !PROCESS_FIELDS.contains(&key.as_str()) {
                    return Err(invalid(
                        format!("expect.sim.processes.{name}.{key}"),
                        format!(
                            "unknown process field `{key}`, expected one of {}",
                            PROCESS_FIELDS.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}
