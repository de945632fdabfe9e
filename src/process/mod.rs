//! The process API's rules (SPEC §4), stated once for both backends.
//!
//! What a process does with each instruction, the checks Python's `Process` methods make, the
//! errors a Python program would raise (one enum, [`PyError`], whose messages are written
//! once), argument binding, and the sequence a process goes through when it ends: all of that
//! is here, and both the simulated kernel (`src/sim/exec.rs`) and the real backend
//! (`src/fork/interp.rs`) call it. Each backend keeps only its mechanism, behind [`Host`]:
//! simulated time and tables on one side, real `fork`, `kill` and `waitpid` on the other.
//! A rule fixed here is fixed on both, and `compare` can no longer hide a bug both share.

mod assign;
mod bind;
mod checks;
mod convert;
mod error;
mod exit;
mod notes;
mod view;

use std::ops::ControlFlow;
use std::sync::Arc;

pub use assign::{COPY_PER_STEP, MAX_VALUE_DEPTH, MAX_VALUE_WEIGHT, add, apply_assign, copy_steps};
pub use bind::bind;
pub use checks::{HandleFacts, HandleUse, check_handle_use};
pub use convert::{exit_status, ticks};
pub use error::{Limit, PyError};
pub use exit::{end_by_itself, fail, join_children_then_end, shutdown_threads_then_end};
pub use notes::{MAX_NOTES, NotAlive, notes_left_out, outside_not_delivered, signal_to_ended};
pub use view::{HandleView, ThreadView, field_reaps, render_field, render_thread_field};

use crate::model::{Cause, Value};
use crate::program::{CExpr, GlobalId, HandleRef, NameId, Op, Signal, SpawnOp, Template};
use crate::scenario::ExitPolicy;

/// What a handle names, from the caller's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<C> {
    /// The caller itself (`"self"`, or the handle of itself it inherited).
    Me,
    /// Another process, as the backend names it.
    Other(C),
}

/// An object a process holds: its name and its finalizer's text.
pub type Object = (NameId, Option<Arc<Template>>);

/// A process as a backend runs it: the mechanism under the rules of this module.
///
/// Methods that may have to give the CPU up return [`ControlFlow`]: `Continue` when the
/// instruction is done, `Break(y)` when the process stops executing for now (the simulated
/// kernel then runs the same instruction again when it resumes; the real backend blocks
/// inside the call instead and never breaks but to end).
pub trait Host {
    /// A process other than the caller, as the backend names it.
    type Child: Copy + PartialEq;
    /// What the backend's loop gets back when the process stops executing.
    type Yield;

    // ---- values and control ----

    /// The value of an expression in this process.
    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError>;
    /// `NameError` for a handle or object name.
    fn not_defined(&self, name: NameId) -> PyError;
    /// On to the next instruction.
    fn advance(&mut self);
    /// To instruction `pc` (a `repeat` of 0 times).
    fn jump(&mut self, pc: u32);
    /// Into a `repeat` of `n` (> 0) iterations.
    fn enter_loop(&mut self, n: u64);
    /// The end of a `repeat` body whose `Loop` is at `start`: back to the top while
    /// iterations remain (then `true`), else on after the loop.
    fn end_loop(&mut self, start: u32) -> bool;
    /// The counts of the enclosing named `repeat`s, outermost first (`"as"`).
    fn counters(&mut self) -> &mut Vec<u64>;
    /// This process's copy of a global, to change.
    fn global_mut(&mut self, g: GlobalId) -> &mut Value;
    /// A global was changed (the real backend reports it).
    fn global_changed(&mut self, g: GlobalId);
    /// Counts `steps` more against `kernel.max_steps` ([`copy_steps`]: what an instruction
    /// copied or printed, beyond the step every instruction counts).
    fn charge_steps(&mut self, steps: u64);
    /// The line a template prints here.
    fn render(&mut self, t: &Template) -> Result<String, PyError>;
    /// A line of this process's output.
    fn output(&mut self, line: String);
    /// A line of this process's errors.
    fn error(&mut self, line: String);
    /// The objects it holds, oldest first.
    fn objects(&mut self) -> &mut Vec<Object>;
    /// Takes the objects it holds, oldest first, as a process that ends lets them go. A
    /// backend whose [`Host::objects`] makes room for objects on first use overrides it, so
    /// that a process that never held one costs nothing at its end.
    fn take_objects(&mut self) -> Vec<Object> {
        std::mem::take(self.objects())
    }
    /// Whether the whole run has been stopped (a limit): nothing more may run.
    fn halted(&mut self) -> Option<Self::Yield>;

    // ---- threads (SPEC §4a; a backend without threads keeps the defaults) ----

    /// Whether the caller is its process's main thread.
    fn is_main_thread(&self) -> bool {
        true
    }
    /// `threading.Thread(target=..., args=..., kwargs=...).start()`: a new thread of this
    /// process, bound to handle `spec.handle` (if any) of the calling task.
    fn start_thread(
        &mut self,
        _spec: &SpawnOp,
        _args: Vec<Value>,
        _kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<(), PyError> {
        Err(PyError::ThreadStart)
    }
    /// The main thread has ended with `code`: wait until the process's non-daemon threads
    /// have ended (`threading._shutdown`). `Break` while it waits; the backend resumes
    /// [`end_by_itself`] when they have.
    fn await_threads(&mut self, _code: i32) -> ControlFlow<Self::Yield> {
        ControlFlow::Continue(())
    }
    /// `L.acquire()` of the process's lock `lock` (the instruction is already passed): the
    /// caller holds it when this returns `Continue`; while another thread holds it, `Break`,
    /// and the caller resumes holding it, handed over by a release.
    fn acquire(&mut self, _lock: NameId) -> ControlFlow<Self::Yield> {
        ControlFlow::Continue(())
    }
    /// `L.release()`: to the first waiter if there is one, else the lock is free.
    fn release(&mut self, _lock: NameId) -> Result<(), PyError> {
        Ok(())
    }
    /// A thread other than the main one ends (its program's end, `exit`, or an error): only
    /// it, with no finalizer (the objects are its process's).
    fn end_thread(&mut self) -> Self::Yield {
        self.terminate(0)
    }

    // ---- time ----

    /// Computes for `n` (> 0) ticks, then goes on after this instruction.
    fn compute(&mut self, n: u64) -> ControlFlow<Self::Yield>;
    /// Blocks for `n` (> 0) ticks with `cause` (the instruction is already passed).
    fn block_for(&mut self, cause: Cause, n: u64) -> ControlFlow<Self::Yield>;

    // ---- processes ----

    /// Whether this process is a daemon.
    fn is_daemon(&self) -> bool;
    /// Whether this process is a child started by `Process.start()` (`fork`/`start`), not a
    /// top-level one: its end follows `BaseProcess._bootstrap`'s order ([`end_by_itself`]).
    fn is_child(&self) -> bool;
    /// The process a handle names.
    fn lookup(&self, h: HandleRef) -> Result<Target<Self::Child>, PyError>;
    /// What the caller knows of `k` for the checks (`is_self` and `caller_daemon` are filled
    /// in by the rules).
    fn facts(&self, k: Self::Child) -> HandleFacts;
    /// `Process(...)`: a child in `new`, with its evaluated arguments; `as` binds to it.
    fn spawn(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<Self::Child, PyError>;
    /// `start()` after its checks passed: the child gets its copy of everything and runs.
    fn start(&mut self, k: Self::Child) -> Result<(), PyError>;
    /// `join(timeout)` after its checks passed: reaps `k` if it has ended; else waits for it
    /// to end and reaps it, or, with a timeout of `n` ticks, waits at most `n` (0: not at
    /// all; the wait ends with cause `timeout`) and leaves `k` alive and unreaped, as
    /// `Process.join(timeout)` returns `None` with `exitcode` still `None`. A timeout and
    /// the child's end at the same instant: the timeout comes first.
    fn join(&mut self, k: Self::Child, timeout: Option<u64>) -> ControlFlow<Self::Yield>;
    /// `os.wait()` with children alive or unreaped: reaps the first child that has ended, in
    /// creation order, waiting for one if none has.
    fn wait_any(&mut self) -> ControlFlow<Self::Yield, Self::Child>;
    /// Binds handle `name` to `k` (`wait`'s `as`).
    fn bind_handle(&mut self, name: NameId, k: Self::Child);
    /// Sends `sig` to `k`; a process that has ended is left alone (then `false`).
    fn send_signal(&mut self, k: Self::Child, sig: Signal) -> bool;
    /// This process's name.
    fn own_name(&self) -> String;
    /// The name of the process `k`.
    fn child_name(&self, k: Self::Child) -> String;
    /// A note for the report: something done that changed nothing.
    fn note(&mut self, text: String);
    /// Its children started and not yet reaped, in creation order.
    fn live_children(&self) -> Vec<Self::Child>;
    /// The first of [`Host::live_children`]. A backend that can name it without listing them
    /// all overrides it: the exit handler asks for it after each join.
    fn first_live_child(&self) -> Option<Self::Child> {
        self.live_children().first().copied()
    }
    /// The children [`reap_ended_children`] polls, in creation order: those of
    /// [`Host::live_children`] that may have ended. A backend that knows which have ended
    /// lists only those, so that a `start()` costs nothing for the children still running.
    fn reap_candidates(&self) -> Vec<Self::Child> {
        self.live_children()
    }
    /// Reaps child `k` if it has ended (a poll: `waitpid(pid, WNOHANG)`); whether it did.
    fn reap_if_ended(&mut self, k: Self::Child) -> bool;
    /// Whether child `k` is a daemon.
    fn child_is_daemon(&self, k: Self::Child) -> bool;

    // ---- ending ----

    /// The scenario's exit policy.
    fn exit_policy(&self) -> ExitPolicy;
    /// The process has run its finalizers and now joins its children before ending with
    /// `code` (the simulated kernel resumes [`join_children_then_end`] there).
    fn begin_joins(&mut self, code: i32);
    /// The posix policy: its live children are orphans now, adopted by init.
    fn orphan_children(&mut self);
    /// `running → terminated` with `code`: the parent learns of it.
    fn terminate(&mut self, code: i32) -> Self::Yield;
}

/// Evaluates a tick count (`what` names the instruction in the message).
#[inline]
pub fn eval_ticks<H: Host>(h: &mut H, e: &CExpr, what: &'static str) -> Result<u64, PyError> {
    if let CExpr::Lit(Value::Int(i)) = e
        && *i >= 0
    {
        return Ok(*i as u64);
    }
    let v = h.eval(e)?;
    ticks(v, what)
}

/// The process a handle names, after the checks Python makes for `purpose`.
pub fn resolve<H: Host>(
    h: &mut H,
    r: HandleRef,
    purpose: HandleUse,
) -> Result<Target<H::Child>, PyError> {
    let target = h.lookup(r)?;
    let facts = match target {
        Target::Me => HandleFacts {
            is_self: true,
            is_child: false,
            started: true,
            caller_daemon: h.is_daemon(),
            is_thread: false,
        },
        // `facts` says whether a thread handle names the calling thread (a process handle
        // never names the caller here: that is `Me`).
        Target::Other(k) => HandleFacts {
            caller_daemon: h.is_daemon(),
            ..h.facts(k)
        },
    };
    check_handle_use(purpose, facts)?;
    Ok(target)
}

/// `start()`, for `start` and `fork` alike: Python's checks, then the mechanism.
/// The `args` and `kwargs` of a `spawn`, `fork` or `thread`, evaluated in the caller, as
/// Python evaluates a call's arguments before `Process(...)` or `Thread(...)` sees them.
type CallArgs = (Vec<Value>, Vec<(Arc<str>, Value)>);

fn eval_call_args<H: Host>(h: &mut H, spec: &SpawnOp) -> Result<CallArgs, PyError> {
    // A call without arguments, the common `Thread(target=f)`: two empty vectors, without
    // the fallible collects' machinery (some 200 instructions a thread at 10^4 threads,
    // callgrind, where a thread's whole start was some 900).
    if spec.args.is_empty() && spec.kwargs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let args = spec
        .args
        .iter()
        .map(|a| h.eval(a))
        .collect::<Result<Vec<_>, _>>()?;
    let kwargs = spec
        .kwargs
        .iter()
        .map(|(k, v)| Ok((Arc::clone(k), h.eval(v)?)))
        .collect::<Result<Vec<_>, PyError>>()?;
    Ok((args, kwargs))
}

fn start_child<H: Host>(h: &mut H, k: H::Child) -> Result<(), PyError> {
    let facts = HandleFacts {
        is_self: false,
        caller_daemon: h.is_daemon(),
        ..h.facts(k)
    };
    check_handle_use(HandleUse::Start, facts)?;
    reap_ended_children(h);
    h.start(k)
}

/// multiprocessing's `_cleanup()`: every child that has ended is reaped (polled). `start()`
/// runs it after its checks, before the fork, and the exit handler's `active_children()`
/// runs it before it terminates the daemons: so a zombie does not outlive its parent's next
/// `start()`, and a freed pid can be given to the child started then.
pub fn reap_ended_children<H: Host>(h: &mut H) {
    for k in h.reap_candidates() {
        h.reap_if_ended(k);
    }
}

/// Drops the process's reference to its `i`-th object: its finalizer prints here.
fn release<H: Host>(h: &mut H, i: usize) {
    let (_, fin) = h.objects().remove(i);
    finalize(h, fin.as_deref());
}

/// A finalizer runs in the process that drops its last reference: its text is rendered
/// there (`{name}`, `{pid}`, `{tick}`, globals are that process's). An error in it is
/// printed and ignored, as Python ignores an exception in `__del__`.
pub(crate) fn finalize<H: Host>(h: &mut H, fin: Option<&Template>) {
    if let Some(t) = fin {
        match h.render(t) {
            Ok(line) => h.output(line),
            Err(e) => h.error(format!("Exception ignored in __del__: {e}")),
        }
    }
}

/// `join(timeout)`'s timeout in ticks: `None` waits as long as it takes; a negative one
/// waits not at all, as `multiprocessing.connection.wait` polls when its deadline has passed.
fn join_timeout(v: Value) -> Result<Option<u64>, PyError> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) if i < 0 => Ok(Some(0)),
        other => ticks(other, "join timeout").map(Some),
    }
}

/// `os._exit(E)`'s exit code: an int (a bool is one), low 8 bits.
fn exit_now_code(v: Value) -> Result<i32, PyError> {
    match v {
        Value::Int(i) => Ok((i & 0xff) as i32),
        Value::Bool(b) => Ok(i32::from(b)),
        other => Err(PyError::NotAnInteger(other.type_name())),
    }
}

/// Runs one instruction. `Continue` means go on with the next one; `Break(y)` means the
/// process stops executing for now; an error is one the process raised (see [`fail`]).
pub fn step<H: Host>(h: &mut H, op: &Op) -> Result<ControlFlow<H::Yield>, PyError> {
    use ControlFlow::{Break, Continue};
    match op {
        Op::Cpu(e) => {
            let n = eval_ticks(h, e, "cpu")?;
            if n == 0 {
                h.advance();
                return Ok(Continue(()));
            }
            Ok(h.compute(n))
        }
        Op::Io(e) | Op::Sleep(e) => {
            let (cause, what) = match op {
                Op::Io(_) => (Cause::Io, "io"),
                _ => (Cause::Sleep, "sleep"),
            };
            let n = eval_ticks(h, e, what)?;
            h.advance();
            if n == 0 {
                return Ok(Continue(()));
            }
            Ok(h.block_for(cause, n))
        }
        Op::Loop { times, end, named } => {
            let n = eval_ticks(h, times, "repeat times")?;
            if n == 0 {
                h.jump(*end);
            } else {
                h.enter_loop(n);
                if *named {
                    h.counters().push(0);
                }
            }
            Ok(Continue(()))
        }
        Op::EndLoop { start, named } => {
            let again = h.end_loop(*start);
            if *named {
                let counters = h.counters();
                match counters.last_mut() {
                    Some(i) if again => *i += 1,
                    _ => {
                        counters.pop();
                    }
                }
            }
            Ok(Continue(()))
        }
        Op::Spawn { spec, start } => {
            let (args, kwargs) = eval_call_args(h, spec)?;
            let child = h.spawn(spec, args, kwargs)?;
            if *start {
                start_child(h, child)?;
            }
            h.advance();
            Ok(Continue(()))
        }
        Op::Thread(spec) => {
            let (args, kwargs) = eval_call_args(h, spec)?;
            h.start_thread(spec, args, kwargs)?;
            h.advance();
            Ok(Continue(()))
        }
        Op::Acquire(lock) => {
            h.advance();
            Ok(h.acquire(*lock))
        }
        Op::Release(lock) => {
            h.release(*lock)?;
            h.advance();
            Ok(Continue(()))
        }
        Op::Start(r) => {
            // The checks never let a process start itself.
            if let Target::Other(k) = resolve(h, *r, HandleUse::Start)? {
                reap_ended_children(h);
                h.start(k)?;
            }
            h.advance();
            Ok(Continue(()))
        }
        Op::Join(r, timeout) => {
            // Python evaluates the argument before `join` runs its checks.
            let timeout = match timeout {
                Some(e) => join_timeout(h.eval(e)?)?,
                None => None,
            };
            if let Target::Other(k) = resolve(h, *r, HandleUse::Join)?
                && let Break(y) = h.join(k, timeout)
            {
                return Ok(Break(y));
            }
            h.advance();
            Ok(Continue(()))
        }
        Op::Wait(bind_to) => {
            if h.live_children().is_empty() {
                return Err(PyError::NoChild);
            }
            let k = match h.wait_any() {
                Break(y) => return Ok(Break(y)),
                Continue(k) => k,
            };
            if let Some(name) = bind_to {
                h.bind_handle(*name, k);
            }
            h.advance();
            Ok(Continue(()))
        }
        Op::Signal(r, sig) => {
            // A process may signal a child, never itself: it runs on. A child that has ended
            // gets nothing, as CPython's `terminate()` of an ended process does nothing; the
            // report says so (SPEC §4).
            if let Target::Other(k) = resolve(h, *r, HandleUse::Signal(*sig))?
                && !h.send_signal(k, *sig)
            {
                let text = signal_to_ended(&h.own_name(), *sig, &h.child_name(k));
                h.note(text);
            }
            h.advance();
            Ok(Continue(()))
        }
        Op::Assign(kind, g, e) => {
            let value = h.eval(e)?;
            let copied = apply_assign(*kind, h.global_mut(*g), value)?;
            h.charge_steps(copy_steps(copied));
            h.global_changed(*g);
            h.advance();
            Ok(Continue(()))
        }
        Op::Print(template) => {
            let line = h.render(template)?;
            h.charge_steps(copy_steps(line.len() as u64));
            h.output(line);
            h.advance();
            Ok(Continue(()))
        }
        Op::New(name, finalizer) => {
            // What only this frame knows (parameters, counts) is kept now, as `__init__`
            // keeps it in the object; the rest is read when the finalizer runs.
            let finalizer = finalizer
                .as_ref()
                .map(|t| Arc::new(t.capture(|e| h.eval(e).ok().map(|v| v.to_string()))));
            let objects = h.objects();
            objects.push((*name, finalizer));
            // Rebinding a name drops the object it held before, as `o = Obj()` does.
            let held = objects.len() - 1;
            if let Some(old) = objects[..held].iter().position(|(n, _)| n == name) {
                release(h, old);
            }
            h.advance();
            Ok(Continue(()))
        }
        Op::Drop(name) => {
            let Some(i) = h.objects().iter().rposition(|(n, _)| n == name) else {
                return Err(h.not_defined(*name));
            };
            release(h, i);
            h.advance();
            Ok(Continue(()))
        }
        Op::Exit(e) => {
            let (code, message) = exit_status(h.eval(e)?);
            if !h.is_main_thread() {
                // `SystemExit` in a thread ends that thread only, and threading's excepthook
                // prints nothing for it, message or not.
                return Ok(Break(h.end_thread()));
            }
            if let Some(message) = message {
                h.error(message);
            }
            Ok(Break(end_by_itself(h, code)))
        }
        Op::ExitNow(e) => {
            // No finalizer, no exit policy: the children are left to init, daemons included.
            let code = exit_now_code(h.eval(e)?)?;
            h.orphan_children();
            Ok(Break(h.terminate(code)))
        }
        Op::Fail(message) => Err(PyError::Raised(Arc::clone(message))),
    }
}
