//! The compiler's walk over a scenario's programs: each instruction checked against what the
//! scenario defines (programs, globals, handles, objects, parameters) and turned into [`Op`]s,
//! with errors that name the JSON path.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::*;

pub(super) fn invalid(path: String, message: String) -> ScenarioError {
    ScenarioError::new(ErrorKind::Invalid, path, message)
}

pub(super) struct Scope<'a> {
    pub(super) program: &'a str,
    /// The program's parameters and their positions.
    pub(super) params: &'a HashMap<&'a str, u16>,
    /// The names of the enclosing named `repeat`s, outermost first.
    pub(super) loops: Vec<String>,
}

pub(super) struct Compiler<'a> {
    pub(super) programs: index::NameIndex<&'a str>,
    pub(super) globals: index::NameIndex<&'a str>,
    pub(super) names: index::NameIndex,
    pub(super) defined_handles: HashSet<String>,
    /// What each handle name holds: `Thread`, `Process`, or `Thread or Process` when the
    /// scenario binds it to both.
    pub(super) handle_kinds: HashMap<String, &'static str>,
    pub(super) defined_objects: HashSet<String>,
}

impl Compiler<'_> {
    pub(super) fn collect_definitions(&mut self, body: &[Instr]) {
        for instr in body {
            match instr {
                Instr::Spawn(sp) | Instr::Fork(sp) | Instr::Thread(sp) => {
                    let kind = if matches!(instr, Instr::Thread(_)) {
                        "Thread"
                    } else {
                        "Process"
                    };
                    if let Some(h) = &sp.handle {
                        self.define_handle(h, kind);
                    }
                }
                Instr::Wait(w) => {
                    if let Some(h) = &w.handle {
                        self.define_handle(h, "Process");
                    }
                }
                Instr::New(o) => {
                    self.defined_objects.insert(o.name.clone());
                }
                Instr::Repeat(r) => self.collect_definitions(&r.body),
                _ => {}
            }
        }
    }

    fn define_handle(&mut self, name: &str, kind: &'static str) {
        self.defined_handles.insert(name.to_owned());
        let seen = self.handle_kinds.entry(name.to_owned()).or_insert(kind);
        if *seen != kind {
            *seen = "Thread or Process";
        }
    }

    fn intern(&mut self, name: &str) -> NameId {
        self.names.intern(name)
    }

    pub(super) fn program_id(&self, name: &str, path: &str) -> Result<ProgramId, ScenarioError> {
        self.programs.get(name).ok_or_else(|| {
            invalid(
                path.to_owned(),
                format!(
                    "unknown program `{name}`; the programs are {}",
                    list(self.programs.names())
                ),
            )
        })
    }

    fn global_id(&self, name: &str, path: &str) -> Result<GlobalId, ScenarioError> {
        self.globals.get(name).ok_or_else(|| {
            invalid(
                path.to_owned(),
                format!(
                    "unknown global `{name}`; declare it in \"globals\" (the globals are {})",
                    list(self.globals.names())
                ),
            )
        })
    }

    fn handle(&mut self, name: &str, path: &str) -> Result<HandleRef, ScenarioError> {
        if name == "self" {
            return Ok(HandleRef::Current);
        }
        if !self.defined_handles.contains(name) {
            return Err(invalid(
                path.to_owned(),
                format!(
                    "unknown handle `{name}`: no spawn, fork, thread or wait in the scenario makes it (\"as\": \"{name}\")"
                ),
            ));
        }
        Ok(HandleRef::Named(self.intern(name)))
    }

    fn object(&mut self, name: &str, path: &str) -> Result<NameId, ScenarioError> {
        if !self.defined_objects.contains(name) {
            return Err(invalid(
                path.to_owned(),
                format!("unknown object `{name}`: no \"new\" in the scenario makes it"),
            ));
        }
        Ok(self.intern(name))
    }

    pub(super) fn expr(&self, e: &Expr, path: &str, scope: &Scope) -> Result<CExpr, ScenarioError> {
        Ok(match e {
            Expr::Lit(v) => CExpr::Lit(v.clone()),
            Expr::Uniform(lo, hi) => {
                if lo > hi {
                    return Err(invalid(
                        format!("{path}.uniform"),
                        format!("the range [{lo}, {hi}] is reversed; write [{hi}, {lo}]"),
                    ));
                }
                CExpr::Uniform(*lo, *hi)
            }
            Expr::Ref(name) => self.reference(name, path, scope)?,
        })
    }

    fn reference(&self, name: &str, path: &str, scope: &Scope) -> Result<CExpr, ScenarioError> {
        if let Some(k) = scope.loops.iter().position(|l| l == name) {
            return Ok(CExpr::Counter(k as u16));
        }
        if let Some(&i) = scope.params.get(name) {
            return Ok(CExpr::Param(i));
        }
        if let Some(i) = self.globals.get(name) {
            return Ok(CExpr::Global(i));
        }
        Err(invalid(
            path.to_owned(),
            if scope.program.is_empty() {
                format!("`{name}` is not a global")
            } else {
                format!(
                    "`{name}` is neither a parameter of `{}` nor a global",
                    scope.program
                )
            },
        ))
    }

    /// A literal where ticks are expected must be a non-negative integer.
    fn ticks(&self, e: &Expr, path: &str, scope: &Scope) -> Result<CExpr, ScenarioError> {
        if let Expr::Lit(v) = e {
            match v {
                Value::Int(i) if *i >= 0 => {}
                Value::Int(i) => {
                    return Err(invalid(
                        path.to_owned(),
                        format!("a number of ticks cannot be negative ({i})"),
                    ));
                }
                other => {
                    return Err(invalid(
                        path.to_owned(),
                        format!(
                            "expected a number of ticks (a whole number, or \"$name\"), found {}",
                            as_found(other)
                        ),
                    ));
                }
            }
        }
        if let Expr::Uniform(lo, _) = e
            && *lo < 0
        {
            return Err(invalid(
                format!("{path}.uniform"),
                format!("a number of ticks cannot be negative ({lo})"),
            ));
        }
        self.expr(e, path, scope)
    }

    pub(super) fn kwargs(
        &self,
        kwargs: &crate::scenario::UniqueMap<Expr>,
        path: &str,
        scope: &Scope,
    ) -> Result<Vec<(Arc<str>, CExpr)>, ScenarioError> {
        kwargs
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.as_str().into(),
                    self.expr(v, &format!("{path}.kwargs.{k}"), scope)?,
                ))
            })
            .collect()
    }

    fn spawn(&mut self, sp: &Spawn, path: &str, scope: &Scope) -> Result<SpawnOp, ScenarioError> {
        let program = self.program_id(&sp.program, &format!("{path}.program"))?;
        let args = sp
            .args
            .iter()
            .enumerate()
            .map(|(j, a)| self.expr(a, &format!("{path}.args[{j}]"), scope))
            .collect::<Result<_, _>>()?;
        let kwargs = self.kwargs(&sp.kwargs, path, scope)?;
        if sp.handle.as_deref() == Some("self") {
            return Err(invalid(
                format!("{path}.as"),
                "`self` is reserved for the running process".into(),
            ));
        }
        if let Err((field, message)) = sp.attrs().check() {
            return Err(invalid(format!("{path}.{field}"), message));
        }
        Ok(SpawnOp {
            handle: sp.handle.as_deref().map(|h| self.intern(h)),
            program,
            name: sp.name.as_deref().map(Arc::from),
            args,
            kwargs,
            daemon: sp.daemon,
            attrs: sp.attrs(),
        })
    }

    pub(super) fn body(
        &mut self,
        body: &[Instr],
        path: &str,
        scope: &Scope,
        ops: &mut Vec<Op>,
    ) -> Result<(), ScenarioError> {
        for (i, instr) in body.iter().enumerate() {
            let at = format!("{path}[{i}].{}", instr.key());
            let op = match instr {
                Instr::Cpu(e) => Op::Cpu(self.ticks(e, &at, scope)?),
                Instr::Io(e) => Op::Io(self.ticks(e, &at, scope)?),
                Instr::Sleep(e) => Op::Sleep(self.ticks(e, &at, scope)?),
                Instr::Repeat(r) => {
                    let times = self.ticks(&r.times, &format!("{at}.times"), scope)?;
                    let start = ops.len();
                    let named = r.counter.is_some();
                    ops.push(Op::Loop {
                        times,
                        end: 0,
                        named,
                    });
                    match &r.counter {
                        Some(name) => {
                            self.check_counter(name, &format!("{at}.as"), scope)?;
                            let mut inner = Scope {
                                program: scope.program,
                                params: scope.params,
                                loops: scope.loops.clone(),
                            };
                            inner.loops.push(name.clone());
                            self.body(&r.body, &format!("{at}.body"), &inner, ops)?;
                        }
                        None => self.body(&r.body, &format!("{at}.body"), scope, ops)?,
                    }
                    ops.push(Op::EndLoop {
                        start: start as u32,
                        named,
                    });
                    let end = ops.len() as u32;
                    if let Op::Loop { end: e, .. } = &mut ops[start] {
                        *e = end;
                    }
                    continue;
                }
                Instr::Spawn(sp) => {
                    if sp.handle.is_none() {
                        return Err(invalid(
                            at,
                            "a spawn needs \"as\": the child it makes waits in `new` until a `start` names it (a `fork` may go without)".into(),
                        ));
                    }
                    Op::Spawn {
                        spec: Box::new(self.spawn(sp, &at, scope)?),
                        start: false,
                    }
                }
                Instr::Fork(sp) => Op::Spawn {
                    spec: Box::new(self.spawn(sp, &at, scope)?),
                    start: true,
                },
                Instr::Thread(sp) => Op::Thread(Box::new(self.spawn(sp, &at, scope)?)),
                Instr::Acquire(lock) | Instr::Release(lock) => {
                    if lock.is_empty() {
                        return Err(invalid(at, "a lock needs a name".into()));
                    }
                    self.check_lock_name(lock, &at)?;
                    let id = self.intern(lock);
                    match instr {
                        Instr::Acquire(_) => Op::Acquire(id),
                        _ => Op::Release(id),
                    }
                }
                Instr::Start(h) => Op::Start(self.handle(h, &at)?),
                Instr::Join(join) => match &**join {
                    Join::Handle(h) => Op::Join(self.handle(h, &at)?, None),
                    Join::Timed(j) => {
                        let handle = self.handle(&j.handle, &format!("{at}.handle"))?;
                        let timeout = match &j.timeout {
                            // `timeout=None` waits as long as it takes, as no timeout does.
                            None | Some(Expr::Lit(Value::None)) => None,
                            Some(e) => Some(self.ticks(e, &format!("{at}.timeout"), scope)?),
                        };
                        Op::Join(handle, timeout)
                    }
                },
                Instr::Wait(w) => Op::Wait(match &w.handle {
                    Some(h) if h == "self" => {
                        return Err(invalid(
                            format!("{at}.as"),
                            "`self` is reserved for the running process".into(),
                        ));
                    }
                    Some(h) => Some(self.intern(h)),
                    None => None,
                }),
                Instr::Kill(h) => Op::Signal(self.handle(h, &at)?, Signal::Kill),
                Instr::Terminate(h) => Op::Signal(self.handle(h, &at)?, Signal::Term),
                Instr::Set(a) | Instr::Add(a) | Instr::Append(a) => {
                    let kind = match instr {
                        Instr::Set(_) => AssignOp::Set,
                        Instr::Add(_) => AssignOp::Add,
                        _ => AssignOp::Append,
                    };
                    let g = self.global_id(&a.name, &format!("{at}.name"))?;
                    Op::Assign(kind, g, self.expr(&a.value, &format!("{at}.value"), scope)?)
                }
                Instr::Print(text) => Op::Print(self.template(text, &at, scope)?),
                Instr::New(o) => {
                    let finalizer = match &o.finalizer {
                        Some(text) => Some(Arc::new(self.template(
                            text,
                            &format!("{at}.finalizer"),
                            scope,
                        )?)),
                        None => None,
                    };
                    Op::New(self.intern(&o.name), finalizer)
                }
                Instr::Drop(o) => Op::Drop(self.object(o, &at)?),
                // Any value, as `sys.exit` takes any (SPEC §4 says what each gives).
                Instr::Exit(e) => Op::Exit(self.expr(e, &at, scope)?),
                Instr::ExitNow(e) => {
                    // `os._exit` takes an int (a bool is one) and nothing else.
                    if let Expr::Lit(v) = e
                        && !matches!(v, Value::Int(_) | Value::Bool(_))
                    {
                        return Err(invalid(
                            at,
                            format!(
                                "`_exit` takes an integer exit code (os._exit), not the {} {}",
                                v.type_name(),
                                v.repr()
                            ),
                        ));
                    }
                    Op::ExitNow(self.expr(e, &at, scope)?)
                }
                Instr::Fail(m) => Op::Fail(m.as_str().into()),
            };
            ops.push(op);
        }
        Ok(())
    }

    /// A lock's name is its own: one that is a handle, an object or a global names a value
    /// with no `acquire` or `release`, Python's AttributeError, seen here before the run.
    fn check_lock_name(&self, lock: &str, path: &str) -> Result<(), ScenarioError> {
        let what = if let Some(kind) = self.handle_kinds.get(lock) {
            Some(format!(
                "a handle (a `{kind}`, made with \"as\": \"{lock}\")"
            ))
        } else if self.defined_objects.contains(lock) {
            Some(format!(
                "an object (made by \"new\": {{\"as\": \"{lock}\"}})"
            ))
        } else if self.globals.get(lock).is_some() {
            Some("a global".to_owned())
        } else {
            None
        };
        match what {
            None => Ok(()),
            Some(what) => Err(invalid(
                path.to_owned(),
                format!(
                    "`{lock}` is {what}, not a threading.Lock: it has no acquire() or release() (Python's AttributeError); give the lock a name of its own"
                ),
            )),
        }
    }

    /// A `repeat`'s `as` may not hide a parameter, a global or an enclosing count.
    fn check_counter(&self, name: &str, path: &str, scope: &Scope) -> Result<(), ScenarioError> {
        let hides = if scope.params.contains_key(name) {
            Some(format!("a parameter of `{}`", scope.program))
        } else if self.globals.get(name).is_some() {
            Some("a global".to_owned())
        } else if scope.loops.iter().any(|l| l == name) {
            Some("the count of an enclosing repeat".to_owned())
        } else {
            None
        };
        if let Some(what) = hides {
            return Err(invalid(
                path.to_owned(),
                format!("`{name}` would hide {what}; give the count another name"),
            ));
        }
        if name.is_empty() || name.contains(['{', '}', '.', '$']) || name == "self" {
            return Err(invalid(
                path.to_owned(),
                format!("`{name}` is not a usable name for a count"),
            ));
        }
        Ok(())
    }

    fn template(
        &mut self,
        text: &str,
        path: &str,
        scope: &Scope,
    ) -> Result<Template, ScenarioError> {
        let raw = template::parse(text).map_err(|m| invalid(path.to_owned(), m))?;
        let mut pieces = Vec::with_capacity(raw.len());
        for piece in raw {
            pieces.push(match piece {
                template::RawPiece::Text(t) => Piece::Text(t),
                template::RawPiece::Field(name) => {
                    if let Some((h, field)) = name.split_once('.') {
                        let field = match field {
                            "pid" => HandleField::Pid,
                            "name" => HandleField::Name,
                            "exitcode" => HandleField::Exitcode,
                            "alive" => HandleField::Alive,
                            "daemon" => HandleField::Daemon,
                            other => {
                                return Err(invalid(
                                    path.to_owned(),
                                    format!(
                                        "`{{{name}}}`: a handle has `pid`, `name`, `exitcode`, `alive` and `daemon`, not `{other}`"
                                    ),
                                ));
                            }
                        };
                        if let Ok(e) = self.reference(h, path, scope) {
                            let what = match e {
                                CExpr::Param(_) => "a parameter",
                                CExpr::Counter(_) => "a repeat count",
                                _ => "a global",
                            };
                            return Err(invalid(
                                path.to_owned(),
                                format!(
                                    "`{{{name}}}`: `{h}` is {what}, not a process handle (a handle is made by spawn, fork, thread or wait)"
                                ),
                            ));
                        }
                        Piece::Handle(self.handle(h, path)?, field)
                    } else if let Ok(e) = self.reference(&name, path, scope) {
                        Piece::Expr(e)
                    } else {
                        match name.as_str() {
                            "name" => Piece::Name,
                            "pid" => Piece::Pid,
                            "ppid" => Piece::Ppid,
                            "tick" => Piece::Tick,
                            "thread" => Piece::Thread,
                            _ => {
                                return Err(invalid(
                                    path.to_owned(),
                                    format!(
                                        "`{{{name}}}` names nothing: not a parameter of `{}`, a global, or one of name, pid, ppid, tick, thread",
                                        scope.program
                                    ),
                                ));
                            }
                        }
                    }
                }
            });
        }
        Ok(Template(pieces))
    }
}

/// A literal as a scenario's author wrote it, in JSON (`the string "3"`), for messages about
/// the file (Python's words, `the str '3'`, are for errors a running program raises).
fn as_found(v: &Value) -> String {
    let json = serde_json::to_string(v).unwrap_or_default();
    match v {
        Value::Str(_) => format!("the string {json}"),
        Value::List(_) => format!("the list {json}"),
        Value::Int(_) => format!("the number {json}"),
        Value::None | Value::Bool(_) => json,
    }
}

/// The names an error message lists: sorted, and at most [`LISTED`] of them (a scenario may
/// have 100,000).
fn list(names: &[impl AsRef<str>]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let sorted: BTreeMap<&str, ()> = names.iter().map(|n| (n.as_ref(), ())).collect();
    let mut out = sorted
        .keys()
        .take(LISTED)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if sorted.len() > LISTED {
        out.push_str(&format!(" and {} more", sorted.len() - LISTED));
    }
    out
}

/// The most names [`list`] writes.
const LISTED: usize = 20;
