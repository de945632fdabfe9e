//! Instructions and expressions as they are written in a scenario file.
//!
//! An instruction is a JSON object with exactly one key; serde's derive would accept some
//! malformed shapes with vague messages, so the two visitors here are written by hand to say
//! precisely what is wrong ("an instruction has exactly one key, found 2: `cpu`, `io`").

use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::UniqueMap;
use crate::model::Value;

/// An expression (SPEC section 4): a literal, a `"$name"` reference to a parameter or global,
/// or a seeded random draw `{"uniform": [lo, hi]}` (both ends included).
///
/// A string that starts with `$$` is the literal string with one `$` dropped.
///
/// ```
/// use procsim::scenario::Expr;
/// let e: Expr = serde_json::from_str(r#""$a""#).unwrap();
/// assert_eq!(e, Expr::Ref("a".into()));
/// let e: Expr = serde_json::from_str(r#"{"uniform": [1, 6]}"#).unwrap();
/// assert_eq!(e, Expr::Uniform(1, 6));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A literal value.
    Lit(Value),
    /// A parameter or global by name (parameters shadow globals).
    Ref(String),
    /// A draw from the scenario's seeded generator, `lo..=hi`.
    Uniform(i64, i64),
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ExprVisitor)
    }
}

struct ExprVisitor;

impl<'de> Visitor<'de> for ExprVisitor {
    type Value = Expr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an expression: an integer, a string, "$name" or {"uniform": [lo, hi]}"#)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Expr, E> {
        Ok(Expr::Lit(Value::None))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Expr, E> {
        Ok(Expr::Lit(Value::Bool(b)))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Expr, E> {
        Ok(Expr::Lit(Value::Int(i)))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Expr, E> {
        i64::try_from(u)
            .map(|i| Expr::Lit(Value::Int(i)))
            .map_err(|_| {
                E::custom(format!(
                    "integer {u} is out of range (at most {})",
                    i64::MAX
                ))
            })
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Expr, E> {
        Err(E::custom(format!(
            "floating point number {x} is not supported; use an integer"
        )))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Expr, E> {
        Ok(if let Some(rest) = s.strip_prefix("$$") {
            Expr::Lit(Value::Str(format!("${rest}")))
        } else if let Some(name) = s.strip_prefix('$') {
            Expr::Ref(name.to_owned())
        } else {
            Expr::Lit(Value::Str(s.to_owned()))
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Expr, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Expr::Lit(Value::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Expr, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                r#"an empty object is not an expression; did you mean {"uniform": [lo, hi]}?"#,
            ));
        };
        if key != "uniform" {
            return Err(de::Error::custom(format!(
                r#"unknown expression `{key}`; the only object expression is {{"uniform": [lo, hi]}}"#
            )));
        }
        let Bounds(lo, hi) = map.next_value()?;
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "unexpected `{extra}` beside `uniform`"
            )));
        }
        Ok(Expr::Uniform(lo, hi))
    }
}

/// The `[lo, hi]` of `uniform`: a list of exactly two whole numbers (serde's tuple would
/// say `expected a tuple of size 2`).
struct Bounds(i64, i64);

impl<'de> Deserialize<'de> for Bounds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(BoundsVisitor)
    }
}

struct BoundsVisitor;

impl<'de> Visitor<'de> for BoundsVisitor {
    type Value = Bounds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of two whole numbers, [lo, hi]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bounds, A::Error> {
        let wrong = |n: usize| {
            de::Error::custom(format!(
                "expected a list of two whole numbers, [lo, hi], found a list of {n}"
            ))
        };
        let lo = seq.next_element::<i64>()?.ok_or_else(|| wrong(0))?;
        let hi = seq.next_element::<i64>()?.ok_or_else(|| wrong(1))?;
        let mut n = 2;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        if n > 2 {
            return Err(wrong(n));
        }
        Ok(Bounds(lo, hi))
    }
}

/// Creating a child: the body of `spawn` and `fork`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spawn {
    /// The handle this process will know the child by: a name of the task that runs the
    /// instruction (SPEC §4a). A `spawn` needs one (its child is started by it); a `fork` or a
    /// `thread` may go without, as `Process(target=f).start()` and
    /// `threading.Thread(target=f).start()` do: nothing can join it by name then.
    #[serde(rename = "as", default)]
    pub handle: Option<String>,
    /// The program the child runs (Python's `target`).
    pub program: String,
    /// The child's name; by default `Process-N` as in multiprocessing.
    #[serde(default)]
    pub name: Option<String>,
    /// Positional arguments, bound to the program's parameters left to right.
    #[serde(default)]
    pub args: Vec<Expr>,
    /// Keyword arguments, bound by name after `args`.
    #[serde(default)]
    pub kwargs: UniqueMap<Expr>,
    /// A daemon child is terminated when its parent ends; by default the parent's own flag.
    #[serde(default)]
    pub daemon: Option<bool>,
    /// Scheduling priority (SPEC section 3a); by default the parent's.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Nice value, −20 … 19 (SPEC section 3a); by default the parent's.
    #[serde(default)]
    #[schemars(range(min = -20, max = 19))]
    pub nice: Option<i64>,
    /// Lottery and stride tickets, at least 1 (SPEC section 3a); by default the parent's.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub tickets: Option<u64>,
}

impl Spawn {
    /// The scheduling attributes it gives.
    pub fn attrs(&self) -> super::SchedAttrs {
        super::SchedAttrs {
            priority: self.priority,
            nice: self.nice,
            tickets: self.tickets,
        }
    }
}

/// `{"repeat": {"times": E, "as": "i", "body": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// How many times to run the body.
    pub times: Expr,
    /// A name for the count, 0 … times − 1, in the body (`for i in range(times)`).
    #[serde(default, rename = "as")]
    pub counter: Option<String>,
    /// The instructions to repeat.
    #[serde(deserialize_with = "shrunk")]
    pub body: Vec<Instr>,
}

/// `{"set": {"name": V, "value": E}}` and its siblings `add` and `append`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The global to change (this process's own copy).
    pub name: String,
    /// The value to set, add or append.
    pub value: Expr,
}

/// `{"wait": {}}`, optionally `{"wait": {"as": H}}` to name the reaped child.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Wait {
    /// A handle bound to the child that was reaped.
    #[serde(default, rename = "as")]
    pub handle: Option<String>,
}

/// `{"join": H}`, or `{"join": {"handle": H, "timeout": E}}` (`p.join(timeout)`).
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(untagged)]
pub enum Join {
    /// Wait until the child has ended, as long as it takes.
    Handle(String),
    /// Wait at most `timeout` ticks.
    Timed(TimedJoin),
}

/// The object form of `join`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimedJoin {
    /// The child to wait for.
    pub handle: String,
    /// The most ticks to wait (cause `timeout` when they pass); `null` or absent: no limit.
    #[serde(default)]
    pub timeout: Option<Expr>,
}

impl<'de> Deserialize<'de> for Join {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JoinVisitor)
    }
}

struct JoinVisitor;

impl<'de> Visitor<'de> for JoinVisitor {
    type Value = Join;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a handle, or {"handle": H, "timeout": E}"#)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Join, E> {
        Ok(Join::Handle(s.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Join, A::Error> {
        TimedJoin::deserialize(de::value::MapAccessDeserializer::new(map)).map(Join::Timed)
    }
}

/// `{"new": {"as": O, "finalizer": "text"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObject {
    /// The name this process holds the object by.
    #[serde(rename = "as")]
    pub name: String,
    /// Printed to the holder's output when its last reference goes (Python's `__del__`).
    #[serde(default)]
    pub finalizer: Option<String>,
}

/// One instruction of a program body (SPEC section 4). The variants larger than an expression
/// are boxed, so that an instruction takes 40 bytes, not 232: a generated workload of a million
/// programs holds some seven million of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instr {
    /// Compute for E ticks.
    Cpu(Expr),
    /// Block on I/O for E ticks.
    Io(Expr),
    /// Sleep for E ticks.
    Sleep(Expr),
    /// Run a body E times.
    Repeat(Box<Repeat>),
    /// Create a child in `new`.
    Spawn(Box<Spawn>),
    /// Admit a child made by `spawn`.
    Start(String),
    /// `spawn` then `start`.
    Fork(Box<Spawn>),
    /// `threading.Thread(target=..., ...).start()`: a new thread of this process (SPEC §4a).
    Thread(Box<Spawn>),
    /// `L.acquire()` of the process's `threading.Lock` named L (SPEC §4a).
    Acquire(String),
    /// `L.release()`.
    Release(String),
    /// Block until the child has terminated, then reap it (at most a timeout, if given).
    Join(Box<Join>),
    /// Block until any child has terminated, then reap it.
    Wait(Wait),
    /// SIGKILL to a child.
    Kill(String),
    /// SIGTERM to a child.
    Terminate(String),
    /// Set a global.
    Set(Box<Assign>),
    /// Add to a global (integers add, strings concatenate).
    Add(Box<Assign>),
    /// Append to a list global.
    Append(Box<Assign>),
    /// A line of output, with `{placeholders}`.
    Print(String),
    /// Hold a new object with a finalizer.
    New(Box<NewObject>),
    /// Release an object.
    Drop(String),
    /// End now with an exit code (`sys.exit`).
    Exit(Expr),
    /// End at once: no finalizer, no exit policy (`os._exit`).
    ExitNow(Expr),
    /// End as an uncaught error does.
    Fail(String),
}

/// The instruction names, in the order the docs list them.
pub const INSTRUCTIONS: &[&str] = &[
    "cpu",
    "io",
    "sleep",
    "repeat",
    "spawn",
    "start",
    "fork",
    "thread",
    "acquire",
    "release",
    "join",
    "wait",
    "kill",
    "terminate",
    "set",
    "add",
    "append",
    "print",
    "new",
    "drop",
    "exit",
    "_exit",
    "fail",
];

impl Instr {
    /// The instruction's key in the file.
    pub fn key(&self) -> &'static str {
        match self {
            Instr::Cpu(_) => "cpu",
            Instr::Io(_) => "io",
            Instr::Sleep(_) => "sleep",
            Instr::Repeat(_) => "repeat",
            Instr::Spawn(_) => "spawn",
            Instr::Start(_) => "start",
            Instr::Fork(_) => "fork",
            Instr::Thread(_) => "thread",
            Instr::Acquire(_) => "acquire",
            Instr::Release(_) => "release",
            Instr::Join(_) => "join",
            Instr::Wait(_) => "wait",
            Instr::Kill(_) => "kill",
            Instr::Terminate(_) => "terminate",
            Instr::Set(_) => "set",
            Instr::Add(_) => "add",
            Instr::Append(_) => "append",
            Instr::Print(_) => "print",
            Instr::New(_) => "new",
            Instr::Drop(_) => "drop",
            Instr::Exit(_) => "exit",
            Instr::ExitNow(_) => "_exit",
            Instr::Fail(_) => "fail",
        }
    }
}

impl<'de> Deserialize<'de> for Instr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(InstrVisitor)
    }
}

struct InstrVisitor;

impl<'de> Visitor<'de> for InstrVisitor {
    type Value = Instr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an instruction: an object with one key, such as {"cpu": 5}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Instr, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "an instruction has exactly one key, found none",
            ));
        };
        let instr = match key.as_str() {
            "cpu" => Instr::Cpu(map.next_value()?),
            "io" => Instr::Io(map.next_value()?),
            "sleep" => Instr::Sleep(map.next_value()?),
            "repeat" => Instr::Repeat(map.next_value()?),
            "spawn" => Instr::Spawn(map.next_value()?),
            "start" => Instr::Start(map.next_value()?),
            "fork" => Instr::Fork(map.next_value()?),
            "thread" => Instr::Thread(map.next_value()?),
            "acquire" => Instr::Acquire(map.next_value()?),
            "release" => Instr::Release(map.next_value()?),
            "join" => Instr::Join(map.next_value()?),
            "wait" => Instr::Wait(map.next_value()?),
            "kill" => Instr::Kill(map.next_value()?),
            "terminate" => Instr::Terminate(map.next_value()?),
            "set" => Instr::Set(map.next_value()?),
            "add" => Instr::Add(map.next_value()?),
            "append" => Instr::Append(map.next_value()?),
            "print" => Instr::Print(map.next_value()?),
            "new" => Instr::New(map.next_value()?),
            "drop" => Instr::Drop(map.next_value()?),
            "exit" => Instr::Exit(map.next_value()?),
            "_exit" => Instr::ExitNow(map.next_value()?),
            "fail" => Instr::Fail(map.next_value()?),
            other => {
                return Err(de::Error::custom(format!(
                    "unknown instruction `{other}`, expected one of {}",
                    INSTRUCTIONS.join(", ")
                )));
            }
        };
        if let Some(second) = map.next_key::<String>()? {
            let mut extra = 1;
            map.next_value::<IgnoredAny>()?;
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value::<IgnoredAny>()?;
                extra += 1;
            }
            return Err(de::Error::custom(format!(
                "an instruction has exactly one key, found {}: `{key}`, `{second}`{}",
                extra + 1,
                if extra > 1 { ", …" } else { "" }
            )));
        }
        Ok(instr)
    }
}

/// Calls `f` with the JSON path and the spec of every `spawn` and `fork` in `body`, and of
/// every `thread` too when `threads` is set, loops included (an explicit stack: no recursion
/// whose depth a file controls). A thread is not a process: what looks for the processes a
/// scenario can make (the names an outside signal may name) leaves threads out.
pub(crate) fn visit_spawns(
    body: &[Instr],
    path: &str,
    threads: bool,
    f: &mut dyn FnMut(String, &Spawn),
) {
    let mut stack: Vec<(&[Instr], String)> = vec![(body, path.to_owned())];
    while let Some((body, path)) = stack.pop() {
        for (i, instr) in body.iter().enumerate() {
            match instr {
                Instr::Spawn(s) => f(format!("{path}[{i}].spawn"), s),
                Instr::Fork(s) => f(format!("{path}[{i}].fork"), s),
                Instr::Thread(s) if threads => f(format!("{path}[{i}].thread"), s),
                Instr::Repeat(r) => stack.push((&r.body, format!("{path}[{i}].repeat.body"))),
                _ => {}
            }
        }
    }
}

/// A body as read, cut to its length at once: grown by doubling while it is read, a
/// one-instruction body would keep room for four, and a million of them add up.
pub(crate) fn shrunk<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Instr>, D::Error> {
    let mut body = Vec::<Instr>::deserialize(d)?;
    body.shrink_to_fit();
    Ok(body)
}
