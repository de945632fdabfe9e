//! Scenarios built from fuzz bytes with `arbitrary`: random bytes rarely get past the JSON
//! parser, so this target builds well-formed scenarios whose names mostly resolve (a few
//! programs, globals, handles and objects drawn from small pools) and lets the fuzzer mutate
//! their structure: instruction lists, nesting, kernel settings, limits.

use arbitrary::{Arbitrary, Unstructured};
use serde_json::{Map, Value as Json, json};

const PROGRAMS: [&str; 3] = ["main", "p1", "p2"];
const GLOBALS: [&str; 3] = ["g", "s", "l"];
const PARAMS: [&str; 2] = ["a", "b"];
const HANDLES: [&str; 3] = ["h", "k", "self"];
const OBJECTS: [&str; 2] = ["o", "q"];

/// A number that is usually small, sometimes anything or next to the largest (to reach
/// overflows and range checks).
#[derive(Debug, Arbitrary)]
pub enum Num {
    Small(u8),
    Any(u64),
    NearMax(u8),
}

impl Num {
    fn json(&self) -> Json {
        match self {
            Num::Small(n) => json!(n % 16),
            Num::Any(n) => json!(n),
            Num::NearMax(n) => json!(u64::MAX - u64::from(*n)),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Lit {
    Int(i8),
    BigInt(i64),
    NearMax(u8),
    Str(u8),
    EmptyList,
    List(Vec<i8>),
    None,
    Bool(bool),
}

impl Lit {
    fn json(&self) -> Json {
        match self {
            Lit::Int(i) => json!(i),
            Lit::BigInt(i) => json!(i),
            Lit::NearMax(n) => json!(i64::MAX - i64::from(*n)),
            Lit::Str(n) => json!(["x", "", "{", "$$d", "y'z"][*n as usize % 5]),
            Lit::EmptyList => json!([]),
            Lit::List(v) => json!(v),
            Lit::None => Json::Null,
            Lit::Bool(b) => json!(b),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Expr {
    Lit(Lit),
    Ticks(u8),
    Param(u8),
    Global(u8),
    Uniform(u8, u8),
    UniformAny(i64, i64),
}

/// Where a number of ticks is expected: mostly something that compiles.
#[derive(Debug, Arbitrary)]
pub enum Ticks {
    Small(u8),
    Many(u8),
    Uniform(u8, u8),
    Expr(Expr),
}

impl Ticks {
    fn json(&self, params: usize) -> Json {
        match self {
            Ticks::Small(n) => json!(n % 8),
            Ticks::Many(n) => json!(n),
            Ticks::Uniform(a, b) => json!({"uniform": [a.min(b) % 8, a.max(b) % 8]}),
            Ticks::Expr(e) => e.json(params),
        }
    }
}

impl Expr {
    /// `params`: how many parameters the enclosing program has (references to others become
    /// references to globals, so that most scenarios compile).
    fn json(&self, params: usize) -> Json {
        match self {
            Expr::Lit(l) => l.json(),
            Expr::Ticks(n) => json!(n % 8),
            Expr::Param(i) if params > 0 => json!(format!("${}", PARAMS[*i as usize % params])),
            Expr::Param(i) => json!(format!("${}", GLOBALS[*i as usize % GLOBALS.len()])),
            Expr::Global(i) => json!(format!("${}", GLOBALS[*i as usize % GLOBALS.len()])),
            Expr::Uniform(a, b) => json!({"uniform": [a.min(b) % 8, a.max(b) % 8]}),
            Expr::UniformAny(a, b) => json!({"uniform": [a, b]}),
        }
    }
}

#[derive(Debug, Arbitrary)]
pub enum Piece {
    Text(u8),
    Name,
    Pid,
    Ppid,
    Tick,
    Var(u8),
    Handle(u8, u8),
}

#[derive(Debug, Arbitrary)]
pub struct Spawn {
    handle: u8,
    program: u8,
    name: Option<u8>,
    args: Vec<Expr>,
    kwargs: Vec<(u8, Expr)>,
    daemon: Option<bool>,
}

impl Spawn {
    fn json(&self, params: usize) -> Json {
        let mut m = Map::new();
        m.insert("as".into(), json!(HANDLES[self.handle as usize % 2]));
        m.insert(
            "program".into(),
            json!(PROGRAMS[self.program as usize % PROGRAMS.len()]),
        );
        if let Some(n) = self.name {
            m.insert("name".into(), json!(format!("N{}", n % 4)));
        }
        if !self.args.is_empty() {
            m.insert(
                "args".into(),
                Json::Array(self.args.iter().map(|a| a.json(params)).collect()),
            );
        }
        if !self.kwargs.is_empty() {
            let mut kw = Map::new();
            for (k, v) in &self.kwargs {
                kw.insert(PARAMS[*k as usize % PARAMS.len()].into(), v.json(params));
            }
            m.insert("kwargs".into(), Json::Object(kw));
        }
        if let Some(d) = self.daemon {
            m.insert("daemon".into(), json!(d));
        }
        Json::Object(m)
    }
}

#[derive(Debug, Arbitrary)]
pub enum Instr {
    Cpu(Ticks),
    Io(Ticks),
    Sleep(Ticks),
    Repeat(Ticks, Vec<Instr>),
    Spawn(Spawn),
    Start(u8),
    Fork(Spawn),
    Join(u8),
    Wait(Option<u8>),
    Kill(u8),
    Terminate(u8),
    Set(u8, Expr),
    Add(u8, Expr),
    Append(u8, Expr),
    Print(Vec<Piece>),
    New(u8, Option<u8>),
    Drop(u8),
    Exit(Ticks),
    Fail,
}

fn handle(i: u8) -> &'static str {
    HANDLES[i as usize % HANDLES.len()]
}

fn global(i: u8) -> &'static str {
    GLOBALS[i as usize % GLOBALS.len()]
}

impl Instr {
    fn json(&self, params: usize) -> Json {
        let n = params;
        match self {
            Instr::Cpu(e) => json!({"cpu": e.json(n)}),
            Instr::Io(e) => json!({"io": e.json(n)}),
            Instr::Sleep(e) => json!({"sleep": e.json(n)}),
            Instr::Repeat(times, body) => {
                json!({"repeat": {"times": times.json(n), "body": body_json(body, n)}})
            }
            Instr::Spawn(s) => json!({"spawn": s.json(n)}),
            Instr::Start(h) => json!({"start": handle(*h)}),
            Instr::Fork(s) => json!({"fork": s.json(n)}),
            Instr::Join(h) => json!({"join": handle(*h)}),
            Instr::Wait(None) => json!({"wait": {}}),
            Instr::Wait(Some(h)) => json!({"wait": {"as": HANDLES[*h as usize % 2]}}),
            Instr::Kill(h) => json!({"kill": handle(*h)}),
            Instr::Terminate(h) => json!({"terminate": handle(*h)}),
            Instr::Set(g, e) => json!({"set": {"name": global(*g), "value": e.json(n)}}),
            Instr::Add(g, e) => json!({"add": {"name": global(*g), "value": e.json(n)}}),
            Instr::Append(g, e) => json!({"append": {"name": global(*g), "value": e.json(n)}}),
            Instr::Print(pieces) => {
                let mut text = String::new();
                for p in pieces {
                    match p {
                        Piece::Text(n) => {
                            text.push_str(["x", " ", "{{", "}}", "é"][*n as usize % 5])
                        }
                        Piece::Name => text.push_str("{name}"),
                        Piece::Pid => text.push_str("{pid}"),
                        Piece::Ppid => text.push_str("{ppid}"),
                        Piece::Tick => text.push_str("{tick}"),
                        Piece::Var(i) => {
                            let v = [GLOBALS[0], GLOBALS[1], GLOBALS[2], PARAMS[0], PARAMS[1]];
                            text.push_str(&format!("{{{}}}", v[*i as usize % (3 + n)]));
                        }
                        Piece::Handle(h, f) => text.push_str(&format!(
                            "{{{}.{}}}",
                            handle(*h),
                            ["pid", "name", "exitcode"][*f as usize % 3]
                        )),
                    }
                }
                json!({"print": text})
            }
            Instr::New(o, fin) => match fin {
                Some(f) => {
                    json!({"new": {"as": OBJECTS[*o as usize % 2], "finalizer": format!("fin{f}")}})
                }
                None => json!({"new": {"as": OBJECTS[*o as usize % 2]}}),
            },
            Instr::Drop(o) => json!({"drop": OBJECTS[*o as usize % 2]}),
            Instr::Exit(e) => json!({"exit": e.json(n)}),
            Instr::Fail => json!({"fail": "RuntimeError: boom"}),
        }
    }
}

fn body_json(body: &[Instr], params: usize) -> Json {
    Json::Array(body.iter().map(|i| i.json(params)).collect())
}

/// A loop that never runs, put first in `main`: it makes every handle and object name known
/// to the compiler, so that `join`, `kill`, `drop`… of a name nothing made at run time get as
/// far as the run (where they are Python errors) instead of being refused when compiling.
fn definitions() -> Json {
    json!({"repeat": {"times": 0, "body": [
        {"spawn": {"as": "h", "program": "p1"}},
        {"spawn": {"as": "k", "program": "p1"}},
        {"new": {"as": "o"}},
        {"new": {"as": "q"}},
    ]}})
}

#[derive(Debug, Arbitrary)]
pub struct Program {
    params: u8,
    body: Vec<Instr>,
}

#[derive(Debug, Arbitrary)]
pub struct Process {
    program: u8,
    name: Option<u8>,
    arrival: Num,
    args: Vec<Expr>,
    count: Option<u8>,
}

#[derive(Debug, Arbitrary)]
pub struct Kernel {
    quantum: Option<Num>,
    context_switch: Option<Num>,
    cpus: Option<u8>,
    posix: Option<bool>,
    pid_max: Option<u8>,
    max_processes: Option<u8>,
    max_ticks: Option<Num>,
    max_steps: Option<Num>,
    max_output: Option<Num>,
    max_output_bytes: Option<Num>,
    max_trace: Option<Num>,
    max_events: Option<Num>,
    max_values: Option<Num>,
    max_value_bytes: Option<Num>,
    tick_order: Option<u8>,
    wake_head: Option<bool>,
    keep: Option<bool>,
}

impl Kernel {
    fn json(&self) -> Json {
        let mut k = Map::new();
        let mut put = |key: &str, v: Option<Json>| {
            if let Some(v) = v {
                k.insert(key.into(), v);
            }
        };
        let positive = |n: &Num| match n {
            Num::Small(n) => json!(1 + n % 8),
            other => other.json(),
        };
        put("quantum", self.quantum.as_ref().map(positive));
        put(
            "context_switch",
            self.context_switch.as_ref().map(Num::json),
        );
        put("cpus", self.cpus.map(|c| json!(1 + c % 4)));
        put(
            "exit_policy",
            self.posix
                .map(|p| json!(if p { "posix" } else { "multiprocessing" })),
        );
        put("pid_max", self.pid_max.map(|p| json!(3 + u32::from(p))));
        put(
            "max_processes",
            self.max_processes.map(|p| json!(1 + p % 20)),
        );
        put("max_ticks", self.max_ticks.as_ref().map(positive));
        put("max_steps", self.max_steps.as_ref().map(Num::json));
        put("max_output", self.max_output.as_ref().map(Num::json));
        put(
            "max_output_bytes",
            self.max_output_bytes.as_ref().map(Num::json),
        );
        put("max_trace", self.max_trace.as_ref().map(Num::json));
        put("max_events", self.max_events.as_ref().map(Num::json));
        put("max_values", self.max_values.as_ref().map(Num::json));
        put(
            "max_value_bytes",
            self.max_value_bytes.as_ref().map(Num::json),
        );
        put(
            "tick_order",
            self.tick_order.map(|i| {
                let orders = [
                    ["wake", "admit", "preempt"],
                    ["wake", "preempt", "admit"],
                    ["admit", "wake", "preempt"],
                    ["admit", "preempt", "wake"],
                    ["preempt", "wake", "admit"],
                    ["preempt", "admit", "wake"],
                ];
                json!(orders[i as usize % 6])
            }),
        );
        put(
            "wake_to",
            self.wake_head
                .map(|h| json!(if h { "head" } else { "tail" })),
        );
        put(
            "slice_after_block",
            self.keep.map(|h| json!(if h { "keep" } else { "fresh" })),
        );
        Json::Object(k)
    }
}

/// A whole scenario.
#[derive(Debug, Arbitrary)]
pub struct FuzzScenario {
    kernel: Kernel,
    seed: u64,
    globals: [Option<Lit>; 3],
    programs: [Program; 3],
    processes: Vec<Process>,
}

impl FuzzScenario {
    /// The scenario as JSON.
    pub fn json(&self) -> Json {
        let mut globals = Map::new();
        for (name, v) in GLOBALS.iter().zip(&self.globals) {
            globals.insert((*name).into(), v.as_ref().map_or(json!(0), Lit::json));
        }
        let mut programs = Map::new();
        for (i, (name, p)) in PROGRAMS.iter().zip(&self.programs).enumerate() {
            let n = p.params as usize % 3;
            let mut body = body_json(&p.body, n);
            if i == 0
                && let Json::Array(b) = &mut body
            {
                b.insert(0, definitions());
            }
            programs.insert(
                (*name).into(),
                json!({"params": &PARAMS[..n], "body": body}),
            );
        }
        // The first process runs `main`; the others are drawn.
        let first = Process {
            program: 0,
            name: None,
            arrival: Num::Small(0),
            args: Vec::new(),
            count: None,
        };
        let all = std::iter::once(&first).chain(&self.processes);
        let processes: Vec<Json> = all
            .enumerate()
            .map(|(i, e)| {
                let mut m = Map::new();
                m.insert(
                    "program".into(),
                    json!(PROGRAMS[e.program as usize % PROGRAMS.len()]),
                );
                if e.name.is_some() || !self.processes.is_empty() {
                    m.insert("name".into(), json!(format!("T{i}")));
                }
                m.insert("arrival".into(), e.arrival.json());
                if !e.args.is_empty() {
                    // Top-level arguments may name globals only (0 parameters in scope).
                    m.insert(
                        "args".into(),
                        Json::Array(e.args.iter().map(|a| a.json(0)).collect()),
                    );
                }
                if let Some(c) = e.count {
                    m.insert("count".into(), json!(1 + c % 4));
                }
                Json::Object(m)
            })
            .collect();
        json!({
            "kernel": self.kernel.json(),
            "seed": self.seed,
            "globals": globals,
            "programs": programs,
            "processes": processes,
        })
    }

    /// The scenario text for fuzz input `data`, or `None` when the bytes run out too early.
    pub fn text_from(data: &[u8]) -> Option<String> {
        let s = FuzzScenario::arbitrary_take_rest(Unstructured::new(data)).ok()?;
        Some(serde_json::to_string_pretty(&s.json()).expect("JSON values serialize"))
    }
}
