//! The instruction interpreter and the process API (SPEC section 4): what a process does at
//! the instant it holds a CPU, and how processes are created, signalled, ended and reaped.
//!
//! Errors a Python program would raise come back from the helpers as `Err(message)`; the
//! interpreter writes the message to the process's `errors` and ends it with exit code 1, as
//! an uncaught exception ends a multiprocessing child.

use std::sync::Arc;

use super::identity::Identity;
use super::pcb::{Ending, NO_PROC, NONE, Pcb, WaitOn};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State, Value};
use crate::program::{
    AssignOp, CExpr, Code, HandleField, HandleRef, Op, Piece, Signal, SpawnOp, Template,
};
use crate::scenario::ExitPolicy;

/// How a burst of zero-cost instructions left the process.
pub(super) enum Flow {
    /// It reached a `cpu` instruction; `burst_left` holds the ticks.
    Burst,
    /// It blocked or ended; its CPU is free.
    Left,
    /// A limit stopped the whole run.
    Stopped,
}

type PyResult<T> = Result<T, String>;

impl<P: Policy> Kernel<P> {
    /// Runs process `p` on CPU `c` from its program counter until it computes, blocks or ends.
    pub(super) fn exec(&mut self, p: u32, c: u32) -> Flow {
        let plan = Arc::clone(&self.plan);
        if let Ending::Joining(code) = self.procs[p as usize].ending {
            return self.continue_ending(p, c, code);
        }
        let code = &plan.programs[self.procs[p as usize].program as usize];
        if !self.procs[p as usize].bound {
            self.procs[p as usize].bound = true;
            if let Err(e) = self.bind_arguments(p, code) {
                return self.fail(p, c, e);
            }
        }
        let max_steps = plan.kernel.max_steps;
        loop {
            self.steps += 1;
            if self.steps > max_steps {
                self.stop(format!(
                    "stopped at tick {}: kernel.max_steps ({max_steps}) instructions executed; a loop may never let time pass (raise max_steps if the work is real)",
                    self.now
                ));
                return Flow::Stopped;
            }
            let pc = self.procs[p as usize].pc as usize;
            let Some(op) = code.ops.get(pc) else {
                return self.end_by_itself(p, c, 0);
            };
            let result = self.exec_op(p, c, op);
            match result {
                Ok(None) => {}
                Ok(Some(flow)) => return flow,
                Err(message) => return self.fail(p, c, message),
            }
            if self.error.is_some() {
                return Flow::Stopped;
            }
        }
    }

    /// One instruction. `Ok(None)` means go on with the next one (the program counter has
    /// moved); `Ok(Some(flow))` means the process stops executing for now.
    fn exec_op(&mut self, p: u32, c: u32, op: &Op) -> PyResult<Option<Flow>> {
        let t = self.now;
        match op {
            Op::Cpu(e) => {
                let n = self.eval_ticks(p, e, "cpu")?;
                if n == 0 {
                    self.advance(p);
                    return Ok(None);
                }
                self.procs[p as usize].burst_left = n;
                Ok(Some(Flow::Burst))
            }
            Op::Io(e) | Op::Sleep(e) => {
                let (cause, what) = match op {
                    Op::Io(_) => (Cause::Io, "io"),
                    _ => (Cause::Sleep, "sleep"),
                };
                let n = self.eval_ticks(p, e, what)?;
                self.advance(p);
                if n == 0 {
                    return Ok(None);
                }
                self.block(p, c, cause, n);
                Ok(Some(Flow::Left))
            }
            Op::Loop { times, end } => {
                let n = self.eval_ticks(p, times, "repeat times")?;
                let pcb = &mut self.procs[p as usize];
                if n == 0 {
                    pcb.pc = *end;
                } else {
                    pcb.loops.push(n);
                    pcb.pc += 1;
                }
                Ok(None)
            }
            Op::EndLoop { start } => {
                let pcb = &mut self.procs[p as usize];
                match pcb.loops.last_mut() {
                    Some(left) if *left > 1 => {
                        *left -= 1;
                        pcb.pc = start + 1;
                    }
                    _ => {
                        pcb.loops.pop();
                        pcb.pc += 1;
                    }
                }
                Ok(None)
            }
            Op::Spawn { spec, start } => {
                let child = self.spawn(p, spec)?;
                if *start {
                    self.start_child(p, child)?;
                }
                self.advance(p);
                Ok(None)
            }
            Op::Start(h) => {
                let target = self.resolve(p, *h, HandleUse::Start)?;
                self.start_child(p, target)?;
                self.advance(p);
                Ok(None)
            }
            Op::Join(h) => {
                let child = self.resolve(p, *h, HandleUse::Join)?;
                if self.procs[child as usize].state == State::Terminated {
                    if self.procs[child as usize].reaped_at == NONE {
                        self.reap(child);
                    }
                    self.advance(p);
                    return Ok(None);
                }
                self.procs[p as usize].wait_on = WaitOn::Child(child);
                self.block(p, c, Cause::Join, 0);
                Ok(Some(Flow::Left))
            }
            Op::Wait(bind) => {
                let children = self.live_children(p);
                if children.is_empty() {
                    return Err("ChildProcessError: [Errno 10] No child processes".into());
                }
                let ended = children
                    .iter()
                    .copied()
                    .filter(|&q| self.procs[q as usize].state == State::Terminated)
                    .min_by_key(|&q| self.procs[q as usize].ended_at);
                match ended {
                    Some(q) => {
                        self.reap(q);
                        if let Some(name) = bind {
                            self.procs[p as usize].bind_handle(*name, q);
                        }
                        self.advance(p);
                        Ok(None)
                    }
                    None => {
                        self.procs[p as usize].wait_on = WaitOn::AnyChild;
                        self.block(p, c, Cause::Wait, 0);
                        Ok(Some(Flow::Left))
                    }
                }
            }
            Op::Signal(h, sig) => {
                let target = self.resolve(p, *h, HandleUse::Signal(*sig))?;
                if self.procs[target as usize].state != State::Terminated {
                    self.signal(target, *sig);
                }
                self.advance(p);
                // A process may signal an ancestor's sibling but never itself, so `p` runs on.
                Ok(None)
            }
            Op::Assign(kind, g, e) => {
                let value = self.eval(p, e)?;
                let globals = Arc::make_mut(&mut self.procs[p as usize].globals);
                let slot = &mut globals[*g as usize];
                match kind {
                    AssignOp::Set => *slot = value,
                    AssignOp::Add => *slot = add(slot, value)?,
                    AssignOp::Append => match slot {
                        Value::List(items) => items.push(value),
                        other => {
                            return Err(format!(
                                "AttributeError: '{}' object has no attribute 'append'",
                                other.type_name()
                            ));
                        }
                    },
                }
                self.advance(p);
                Ok(None)
            }
            Op::Print(template) => {
                let line = self.render(p, template, t)?;
                self.output(p, line);
                self.advance(p);
                Ok(None)
            }
            Op::New(name, finalizer) => {
                let cold = self.procs[p as usize].cold();
                cold.objects.push((*name, finalizer.clone()));
                // Rebinding a name drops the object it held before, as `o = Obj()` does.
                let held = cold.objects.len() - 1;
                if let Some(old) = cold.objects[..held].iter().position(|(n, _)| n == name) {
                    let (_, fin) = cold.objects.remove(old);
                    if let Some(text) = fin {
                        self.output(p, text.to_string());
                    }
                }
                self.advance(p);
                Ok(None)
            }
            Op::Drop(name) => {
                let cold = self.procs[p as usize].cold();
                let Some(i) = cold.objects.iter().rposition(|(n, _)| n == name) else {
                    return Err(format!(
                        "NameError: name '{}' is not defined",
                        self.plan.names[*name as usize]
                    ));
                };
                let (_, fin) = cold.objects.remove(i);
                if let Some(text) = fin {
                    self.output(p, text.to_string());
                }
                self.advance(p);
                Ok(None)
            }
            Op::Exit(e) => {
                let code = match self.eval(p, e)? {
                    // As on Linux, only the low 8 bits of an exit status survive.
                    Value::Int(i) => (i & 0xff) as i32,
                    Value::None => 0,
                    other => {
                        // sys.exit("message") prints the message and exits with 1.
                        self.procs[p as usize].cold().errors.push(other.to_string());
                        1
                    }
                };
                Ok(Some(self.end_by_itself(p, c, code)))
            }
            Op::Fail(message) => Err(message.to_string()),
        }
    }

    fn advance(&mut self, p: u32) {
        self.procs[p as usize].pc += 1;
    }

    fn output(&mut self, p: u32, line: String) {
        self.output_lines += 1;
        let max = self.plan.kernel.max_output;
        if self.output_lines > max {
            self.stop(format!(
                "stopped at tick {}: kernel.max_output ({max} lines) reached; raise it if the output is wanted",
                self.now
            ));
            return;
        }
        self.procs[p as usize].cold().output.push(line);
    }

    /// Writes the error and ends the process with exit code 1.
    fn fail(&mut self, p: u32, c: u32, message: String) -> Flow {
        self.procs[p as usize].cold().errors.push(message);
        self.end_by_itself(p, c, 1)
    }

    // ---- values --------------------------------------------------------------------------

    pub(super) fn eval_static(&mut self, e: &CExpr) -> Value {
        match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Global(g) => self.plan.globals[*g as usize].1.clone(),
            CExpr::Uniform(lo, hi) => Value::Int(self.rng.uniform(*lo, *hi)),
            CExpr::Param(_) => Value::None,
        }
    }

    fn eval(&mut self, p: u32, e: &CExpr) -> PyResult<Value> {
        Ok(match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Param(i) => self.procs[p as usize]
                .cold
                .as_ref()
                .and_then(|c| c.params.get(*i as usize))
                .cloned()
                .unwrap_or(Value::None),
            CExpr::Global(g) => self.procs[p as usize].globals[*g as usize].clone(),
            CExpr::Uniform(lo, hi) => Value::Int(self.rng.uniform(*lo, *hi)),
        })
    }

    /// A tick count: a non-negative integer.
    fn eval_ticks(&mut self, p: u32, e: &CExpr, what: &str) -> PyResult<u64> {
        let v = match e {
            CExpr::Lit(Value::Int(i)) => return Ok(*i as u64),
            other => self.eval(p, other)?,
        };
        match v {
            Value::Int(i) if i >= 0 => Ok(i as u64),
            Value::Int(i) => Err(format!("ValueError: {what} needs a non-negative number of ticks, got {i}")),
            other => Err(format!(
                "TypeError: {what} needs an integer number of ticks, got {} {}",
                other.type_name(),
                other.repr()
            )),
        }
    }

    fn render(&mut self, p: u32, template: &Template, t: u64) -> PyResult<String> {
        let mut line = String::new();
        for piece in &template.0 {
            match piece {
                Piece::Text(s) => line.push_str(s),
                Piece::Expr(e) => line.push_str(&self.eval(p, e)?.to_string()),
                Piece::Name => line.push_str(&self.name_of(p)),
                Piece::Pid => line.push_str(&self.procs[p as usize].pid.to_string()),
                Piece::Ppid => line.push_str(&self.ppid_of(p).to_string()),
                Piece::Tick => line.push_str(&t.to_string()),
                Piece::Handle(h, field) => {
                    let q = match h {
                        HandleRef::Current => p,
                        HandleRef::Named(name) => self.procs[p as usize]
                            .handle(*name)
                            .ok_or_else(|| self.not_defined(*name))?,
                    };
                    let target = &self.procs[q as usize];
                    let text = match field {
                        HandleField::Pid => target.pid.to_string(),
                        HandleField::Name => self.name_of(q),
                        HandleField::Exitcode => match (target.state, target.exitcode) {
                            (State::Terminated, Some(code)) if q != p => code.to_string(),
                            _ => "None".into(),
                        },
                    };
                    line.push_str(&text);
                }
            }
        }
        Ok(line)
    }

    fn not_defined(&self, name: u32) -> String {
        format!(
            "NameError: name '{}' is not defined",
            self.plan.names[name as usize]
        )
    }

    /// The process's name: from the plan for a top-level process, its own for a child.
    pub(super) fn name_of(&self, p: u32) -> String {
        let pcb = &self.procs[p as usize];
        if pcb.entry != NO_PROC {
            let top = &self.plan.processes[pcb.entry as usize];
            if top.numbered {
                return format!("{}-{}", top.name, pcb.copy);
            }
            return top.name.clone();
        }
        pcb.cold
            .as_ref()
            .and_then(|c| c.name.as_deref())
            .unwrap_or("?")
            .to_owned()
    }

    pub(super) fn ppid_of(&self, p: u32) -> u32 {
        match self.procs[p as usize].parent {
            NO_PROC => 1,
            q => self.procs[q as usize].pid,
        }
    }

    /// Binds arguments to parameters as Python does, at the process's first run.
    fn bind_arguments(&mut self, p: u32, code: &Code) -> PyResult<()> {
        let Some(cold) = self.procs[p as usize].cold.as_mut() else {
            return bind(code, Vec::new(), Vec::new()).map(|_| ());
        };
        let args = std::mem::take(&mut cold.args);
        let kwargs = std::mem::take(&mut cold.kwargs);
        cold.params = bind(code, args, kwargs)?;
        Ok(())
    }

    // ---- handles -------------------------------------------------------------------------

    /// The child a handle names, after the checks Python's `Process` methods make.
    fn resolve(&mut self, p: u32, h: HandleRef, purpose: HandleUse) -> PyResult<u32> {
        let target = match h {
            HandleRef::Current => p,
            HandleRef::Named(name) => self.procs[p as usize]
                .handle(name)
                .ok_or_else(|| self.not_defined(name))?,
        };
        let is_child = self.procs[target as usize].parent == p && target != p;
        let started = self.procs[target as usize].started;
        match purpose {
            HandleUse::Start => {
                // The order of multiprocessing's assertions in `BaseProcess.start`.
                if target != p && started {
                    return Err("AssertionError: cannot start a process twice".into());
                }
                if !is_child {
                    return Err("AssertionError: can only start a process object created by current process".into());
                }
                if self.procs[p as usize].daemon {
                    return Err("AssertionError: daemonic processes are not allowed to have children".into());
                }
            }
            HandleUse::Join => {
                if !is_child {
                    return Err("AssertionError: can only join a child process".into());
                }
                if !started {
                    return Err("AssertionError: can only join a started process".into());
                }
            }
            HandleUse::Signal(sig) => {
                // In a process's own view of itself (and in an unstarted Process) `_popen` is
                // None, so Python fails on the attribute.
                if target == p || !started {
                    return Err(format!(
                        "AttributeError: 'NoneType' object has no attribute '{}'",
                        sig.method()
                    ));
                }
                if !is_child {
                    return Err(format!(
                        "AssertionError: can only {} a child process",
                        sig.method()
                    ));
                }
            }
        }
        Ok(target)
    }

    /// Started children not yet reaped, in creation order.
    fn live_children(&self, p: u32) -> Vec<u32> {
        self.procs[p as usize]
            .cold
            .as_ref()
            .map(|c| {
                c.children
                    .iter()
                    .copied()
                    .filter(|&q| self.procs[q as usize].started)
                    .collect()
            })
            .unwrap_or_default()
    }

    // ---- creating, starting, ending ------------------------------------------------------

    /// `multiprocessing.Process(...)`: a child in `new`, with a pid and a name.
    fn spawn(&mut self, p: u32, spec: &SpawnOp) -> PyResult<u32> {
        if self.pids.in_use() >= self.plan.kernel.max_processes {
            // Python's own words for a failed fork(); the README names kernel.max_processes
            // and kernel.pid_max as the limits behind them.
            return Err("BlockingIOError: [Errno 11] Resource temporarily unavailable".into());
        }
        let Some(pid) = self.pids.alloc() else {
            return Err("BlockingIOError: [Errno 11] Resource temporarily unavailable".into());
        };
        let args = spec
            .args
            .iter()
            .map(|a| self.eval(p, a))
            .collect::<PyResult<Vec<_>>>()?;
        let kwargs = spec
            .kwargs
            .iter()
            .map(|(k, v)| Ok((Arc::clone(k), self.eval(p, v)?)))
            .collect::<PyResult<Vec<_>>>()?;
        let t = self.now;
        let child = self.procs.len() as u32;
        let parent = &mut self.procs[p as usize];
        let daemon = spec.daemon.unwrap_or(parent.daemon);
        let globals = Arc::clone(&parent.globals);
        let pcold = parent.cold();
        pcold.spawned += 1;
        let (identity, name) =
            Identity::child(pcold.identity.as_ref(), pcold.spawned, spec.name.as_ref());
        pcold.children.push(child);
        parent.bind_handle(spec.handle, child);
        let mut pcb = Pcb::new(spec.program, pid, p, globals, t);
        pcb.daemon = daemon;
        let cold = pcb.cold();
        cold.name = Some(name);
        cold.identity = Some(identity);
        cold.args = args;
        cold.kwargs = kwargs;
        self.procs.push(pcb);
        Ok(child)
    }

    /// `Process.start()`: the child gets a copy of the parent's globals, objects and handles
    /// (what a fork copies) and is admitted.
    fn start_child(&mut self, p: u32, child: u32) -> PyResult<()> {
        let (globals, objects, handles) = {
            let parent = &self.procs[p as usize];
            let (objects, handles) = parent
                .cold
                .as_ref()
                .map(|c| (c.objects.clone(), c.handles.clone()))
                .unwrap_or_default();
            (Arc::clone(&parent.globals), objects, handles)
        };
        let pcb = &mut self.procs[child as usize];
        pcb.started = true;
        pcb.globals = globals;
        if !objects.is_empty() || !handles.is_empty() {
            let cold = pcb.cold();
            cold.objects = objects;
            cold.handles = handles;
        }
        self.admit(child);
        Ok(())
    }

    /// The process finished its program, called `exit`, or raised an error.
    fn end_by_itself(&mut self, p: u32, c: u32, code: i32) -> Flow {
        // Objects go first, newest first, each printing its finalizer in this process.
        if let Some(cold) = self.procs[p as usize].cold.as_mut() {
            let objects = std::mem::take(&mut cold.objects);
            for (_, fin) in objects.into_iter().rev() {
                if let Some(text) = fin {
                    self.output(p, text.to_string());
                }
            }
        }
        if self.error.is_some() {
            return Flow::Stopped;
        }
        for q in self.live_children(p) {
            let child = &self.procs[q as usize];
            if child.daemon && child.state != State::Terminated {
                self.signal(q, Signal::Term);
            }
        }
        match self.plan.kernel.exit_policy {
            ExitPolicy::Multiprocessing => {
                self.procs[p as usize].ending = Ending::Joining(code);
                self.continue_ending(p, c, code)
            }
            ExitPolicy::Posix => {
                for q in self.live_children(p) {
                    self.orphan(q);
                }
                self.terminate(p, Some(c), Cause::Exit, code, None);
                Flow::Left
            }
        }
    }

    /// multiprocessing's exit: join each started child in creation order, then end.
    fn continue_ending(&mut self, p: u32, c: u32, code: i32) -> Flow {
        for q in self.live_children(p) {
            if self.procs[q as usize].state == State::Terminated {
                self.reap(q);
            } else {
                self.procs[p as usize].wait_on = WaitOn::Child(q);
                self.block(p, c, Cause::Join, 0);
                return Flow::Left;
            }
        }
        self.terminate(p, Some(c), Cause::Exit, code, None);
        Flow::Left
    }

    /// Delivers SIGKILL or SIGTERM: the process ends at once, runs no finalizer, and its
    /// children are orphaned to init.
    pub(super) fn signal(&mut self, q: u32, sig: Signal) {
        let cpu = self.leave_cpu(q);
        for child in self.live_children(q) {
            self.orphan(child);
        }
        self.terminate(q, cpu, Cause::Signal, -sig.number(), Some(sig));
    }

    /// Takes `q` off whatever CPU, queue or tick group holds it; returns the CPU it ran on.
    fn leave_cpu(&mut self, q: u32) -> Option<u32> {
        let t = self.now;
        let pcb = &mut self.procs[q as usize];
        match pcb.state {
            State::Running => {
                if pcb.preempt_pending {
                    pcb.preempt_pending = false;
                    if !self.policy.remove(q) {
                        self.preempted.retain(|x| *x != q);
                    }
                }
                let mut on = None;
                for (i, cpu) in self.cpus.iter_mut().enumerate() {
                    if let Run::Running { p, .. } = cpu.run
                        && p == q
                    {
                        cpu.run = Run::Idle;
                        on = Some(i as u32);
                    }
                }
                on.or_else(|| self.cpu_of_last(q))
            }
            State::Ready => {
                if !self.policy.remove(q) {
                    self.woken.retain(|x| x.2 != q);
                    self.admitted.retain(|x| *x != q);
                    for cpu in self.cpus.iter_mut() {
                        if let Run::Switching { p, from, .. } = cpu.run
                            && p == q
                        {
                            self.switch_ticks += t - from;
                            cpu.run = Run::Idle;
                        }
                    }
                }
                None
            }
            State::Blocked => {
                pcb.wait_on = WaitOn::Nothing;
                None
            }
            State::New | State::Terminated => None,
        }
    }

    /// `* → terminated`, then the parent learns of it (or init reaps it).
    fn terminate(&mut self, p: u32, cpu: Option<u32>, cause: Cause, code: i32, sig: Option<Signal>) {
        let t = self.now;
        if let Some(c) = cpu
            && let Run::Running { p: q, .. } = self.cpus[c as usize].run
            && q == p
        {
            self.cpus[c as usize].run = Run::Idle;
        }
        // Children never started vanish with their creator, as an unstarted Process object
        // does; they leave the table as terminated with no exit code.
        let unstarted: Vec<u32> = self.procs[p as usize]
            .cold
            .as_ref()
            .map(|c| {
                c.children
                    .iter()
                    .copied()
                    .filter(|&q| !self.procs[q as usize].started)
                    .collect()
            })
            .unwrap_or_default();
        for q in unstarted {
            self.transition(q, State::Terminated, Cause::Signal, None);
            self.procs[q as usize].ended_at = t;
            self.reap(q);
        }
        self.transition(p, State::Terminated, cause, cpu);
        let pcb = &mut self.procs[p as usize];
        pcb.ended_at = t;
        pcb.exitcode = Some(code);
        pcb.signal = sig;
        pcb.ending = Ending::No;
        let parent = pcb.parent;
        if parent == NO_PROC {
            self.reap(p);
            return;
        }
        let pp = &self.procs[parent as usize];
        let waiting = pp.state == State::Blocked
            && (pp.wait_on == WaitOn::AnyChild || pp.wait_on == WaitOn::Child(p));
        if waiting {
            self.wake(parent, Cause::ChildExit);
        }
    }

    /// init adopts `q`; a zombie is reaped by init at once.
    fn orphan(&mut self, q: u32) {
        let parent = self.procs[q as usize].parent;
        if parent != NO_PROC
            && let Some(c) = self.procs[parent as usize].cold.as_mut()
        {
            c.children.retain(|x| *x != q);
        }
        self.procs[q as usize].parent = NO_PROC;
        if self.procs[q as usize].state == State::Terminated && self.procs[q as usize].reaped_at == NONE {
            self.reap(q);
        }
    }

    /// The zombie `q` is released: its pid is free again.
    fn reap(&mut self, q: u32) {
        let t = self.now;
        let pcb = &mut self.procs[q as usize];
        debug_assert_eq!(pcb.reaped_at, NONE);
        pcb.reaped_at = t;
        let (pid, parent) = (pcb.pid, pcb.parent);
        self.pids.free(pid);
        if parent != NO_PROC
            && let Some(c) = self.procs[parent as usize].cold.as_mut()
        {
            c.children.retain(|x| *x != q);
        }
    }
}

#[derive(Clone, Copy)]
enum HandleUse {
    Start,
    Join,
    Signal(Signal),
}

/// `+=` on two values, as Python does it for the types procsim has.
fn add(slot: &Value, value: Value) -> PyResult<Value> {
    Ok(match (slot, value) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(b).ok_or_else(|| {
            "OverflowError: the sum does not fit in the 64-bit integers procsim supports".to_string()
        })?),
        (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
        (Value::List(a), Value::List(b)) => Value::List(a.iter().cloned().chain(b).collect()),
        (a, b) => {
            return Err(format!(
                "TypeError: unsupported operand type(s) for +=: '{}' and '{}'",
                a.type_name(),
                b.type_name()
            ));
        }
    })
}

/// Binds arguments to parameters the way CPython does, with its messages: positional
/// arguments first, then keywords (an unknown keyword or a second value for a parameter is an
/// error), then too many positional arguments, then missing ones.
///
/// Here rather than in `program` because both backends bind in the child, at its first run.
pub(crate) fn bind(
    code: &Code,
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
) -> PyResult<Vec<Value>> {
    let f = &code.name;
    let n = code.params.len();
    let given = args.len();
    let mut slots: Vec<Option<Value>> = vec![None; n];
    for (slot, a) in slots.iter_mut().zip(args) {
        *slot = Some(a);
    }
    for (k, v) in kwargs {
        match code.params.iter().position(|p| *p == k) {
            None => return Err(format!("TypeError: {f}() got an unexpected keyword argument '{k}'")),
            Some(i) if slots[i].is_some() => {
                return Err(format!("TypeError: {f}() got multiple values for argument '{k}'"));
            }
            Some(i) => slots[i] = Some(v),
        }
    }
    if given > n {
        let s = if n == 1 { "" } else { "s" };
        let were = if given == 1 { "was" } else { "were" };
        return Err(format!(
            "TypeError: {f}() takes {n} positional argument{s} but {given} {were} given"
        ));
    }
    let missing: Vec<String> = code
        .params
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| format!("'{p}'"))
        .collect();
    if !missing.is_empty() {
        let names = match missing.len() {
            1 => missing[0].clone(),
            2 => format!("{} and {}", missing[0], missing[1]),
            k => format!("{}, and {}", missing[..k - 1].join(", "), missing[k - 1]),
        };
        let s = if missing.len() == 1 { "" } else { "s" };
        return Err(format!(
            "TypeError: {f}() missing {} required positional argument{s}: {names}",
            missing.len()
        ));
    }
    Ok(slots.into_iter().map(|s| s.unwrap_or(Value::None)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(params: &[&str]) -> Code {
        Code {
            name: "work1".into(),
            params: params.iter().map(|p| Arc::from(*p)).collect(),
            ops: vec![],
        }
    }

    fn kw(pairs: &[(&str, i64)]) -> Vec<(Arc<str>, Value)> {
        pairs.iter().map(|(k, v)| (Arc::from(*k), Value::Int(*v))).collect()
    }

    #[test]
    fn binds_like_python() {
        let c = code(&["a", "b", "c"]);
        let ok = bind(&c, vec![Value::Int(10)], kw(&[("c", 100), ("b", 10)])).unwrap();
        assert_eq!(ok, vec![Value::Int(10), Value::Int(10), Value::Int(100)]);
        let e = bind(&c, vec![Value::Int(1), Value::Int(2)], kw(&[("b", 3)])).unwrap_err();
        assert_eq!(e, "TypeError: work1() got multiple values for argument 'b'");
        let e = bind(&c, vec![], kw(&[("d", 1)])).unwrap_err();
        assert_eq!(e, "TypeError: work1() got an unexpected keyword argument 'd'");
        let e = bind(&c, vec![Value::Int(1); 4], vec![]).unwrap_err();
        assert_eq!(e, "TypeError: work1() takes 3 positional arguments but 4 were given");
        let e = bind(&c, vec![Value::Int(1)], vec![]).unwrap_err();
        assert_eq!(e, "TypeError: work1() missing 2 required positional arguments: 'b' and 'c'");
        let e = bind(&c, vec![], vec![]).unwrap_err();
        assert_eq!(
            e,
            "TypeError: work1() missing 3 required positional arguments: 'a', 'b', and 'c'"
        );
        let e = bind(&code(&["a"]), vec![Value::Int(1); 2], vec![]).unwrap_err();
        assert_eq!(e, "TypeError: work1() takes 1 positional argument but 2 were given");
        let e = bind(&code(&[]), vec![Value::Int(1)], vec![]).unwrap_err();
        assert_eq!(e, "TypeError: work1() takes 0 positional arguments but 1 was given");
    }
}
