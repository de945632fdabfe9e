//! The instruction interpreter and the process API (SPEC section 4): what a process does at
//! the instant it holds a CPU, and how processes are created, signalled, ended and reaped.
//!
//! Errors a Python program would raise come back from the helpers as `Err(message)`; the
//! interpreter writes the message to the process's `errors` and ends it with exit code 1, as
//! an uncaught exception ends a multiprocessing child.

use std::sync::Arc;

use super::identity::Identity;
use super::pcb::{Hot, NO_PROC, NONE, Pcb, WaitOn};
use super::sched::{Leave, Usage};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State, Value};
use crate::program::{
    CExpr, Code, HandleFacts, HandleField, HandleRef, HandleUse, Op, RenderContext, Signal,
    SpawnOp, Template, apply_assign, bind, check_handle_use, exit_status, ticks,
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

/// An instruction that needs nothing but its literal operands, decoded once per run into a
/// small table beside the plan ([`decode_programs`]), so that the instructions that make up
/// most of a run cost a table lookup.
#[derive(Debug, Clone, Copy)]
pub(super) enum Quick {
    Cpu(u64),
    Block(Cause, u64),
    EndLoop(u32),
    /// Anything else: go through [`Kernel::exec_op`].
    Other,
}

impl Quick {
    fn decode(op: &Op) -> Quick {
        match op {
            Op::Cpu(CExpr::Lit(Value::Int(n))) if *n >= 0 => Quick::Cpu(*n as u64),
            Op::Io(CExpr::Lit(Value::Int(n))) if *n >= 0 => Quick::Block(Cause::Io, *n as u64),
            Op::Sleep(CExpr::Lit(Value::Int(n))) if *n >= 0 => {
                Quick::Block(Cause::Sleep, *n as u64)
            }
            Op::EndLoop { start } => Quick::EndLoop(*start),
            _ => Quick::Other,
        }
    }
}

/// Each program's instructions decoded, indexed like the plan's programs and their ops.
pub(super) fn decode_programs(programs: &[Code]) -> Vec<Box<[Quick]>> {
    programs
        .iter()
        .map(|code| code.ops.iter().map(Quick::decode).collect())
        .collect()
}

impl<P: Policy> Kernel<P> {
    /// Runs process `p` on CPU `c` from its program counter until it computes, blocks or ends.
    ///
    /// The quick instructions of a process that is under way are carried out here, inlined
    /// into the kernel's loop; anything else (the first run, the end, an instruction that needs
    /// more than its literal operands) goes to [`Kernel::exec_general`] from the same place.
    #[inline(always)]
    pub(super) fn exec(&mut self, p: u32, c: u32) -> Flow {
        let hot = &self.hot[p as usize];
        if hot.ending || !hot.bound {
            return self.exec_general(p, c);
        }
        let program = hot.program as usize;
        let max_steps = self.plan.kernel.max_steps;
        loop {
            // At the budget, the general loop stops the run with its message.
            if self.steps >= max_steps {
                return self.exec_general(p, c);
            }
            let pc = self.hot[p as usize].pc as usize;
            match self.decoded[program].get(pc) {
                Some(&Quick::Cpu(n)) if n > 0 => {
                    self.steps += 1;
                    self.hot[p as usize].burst_left = n;
                    return Flow::Burst;
                }
                Some(&Quick::Block(cause, n)) if n > 0 => {
                    self.steps += 1;
                    self.advance_pc(p);
                    self.block(p, c, cause, n);
                    return Flow::Left;
                }
                Some(&Quick::EndLoop(start)) => {
                    self.steps += 1;
                    self.end_loop(p, start);
                }
                Some(Quick::Cpu(_) | Quick::Block(..)) => {
                    self.steps += 1;
                    self.advance_pc(p);
                }
                Some(Quick::Other) | None => return self.exec_general(p, c),
            }
        }
    }

    /// [`Kernel::exec`] for every case: binds arguments at the first run, goes on with the
    /// exit of a process that is joining its children, and runs any instruction.
    #[inline(never)]
    fn exec_general(&mut self, p: u32, c: u32) -> Flow {
        if self.hot[p as usize].ending {
            let code = self.procs[p as usize].exit_code;
            return self.continue_ending(p, c, code);
        }
        let program = self.hot[p as usize].program as usize;
        if !self.hot[p as usize].bound {
            self.hot[p as usize].bound = true;
            // A program without parameters started without arguments has nothing to bind.
            let nothing = self.procs[p as usize].cold.is_none()
                && self.plan.programs[program].params.is_empty();
            if !nothing {
                let plan = Arc::clone(&self.plan);
                if let Err(e) = self.bind_arguments(p, &plan.programs[program]) {
                    return self.fail(p, c, e);
                }
            }
        }
        let max_steps = self.plan.kernel.max_steps;
        loop {
            self.steps += 1;
            if self.steps > max_steps {
                self.stop(format!(
                    "stopped at tick {}: kernel.max_steps ({max_steps}) instructions executed; a loop may never let time pass (raise max_steps if the work is real)",
                    self.now
                ));
                return Flow::Stopped;
            }
            let pc = self.hot[p as usize].pc as usize;
            // The instructions that make up most of a run, with literal operands, are decoded
            // while the plan is borrowed and carried out after; the rest go through `exec_op`.
            let Some(&quick) = self.decoded[program].get(pc) else {
                return self.end_by_itself(p, c, 0);
            };
            // The quick instructions cannot fail or stop the run. (`exec` has the same match;
            // one helper shared by the two measured 2 % more instructions a dispatch on
            // RR-IO-v1, 255 to 260, so each keeps its own.)
            match quick {
                Quick::Cpu(0) | Quick::Block(_, 0) => {
                    self.advance_pc(p);
                    continue;
                }
                Quick::Cpu(n) => {
                    self.hot[p as usize].burst_left = n;
                    return Flow::Burst;
                }
                Quick::Block(cause, n) => {
                    self.advance_pc(p);
                    self.block(p, c, cause, n);
                    return Flow::Left;
                }
                Quick::EndLoop(start) => {
                    self.end_loop(p, start);
                    continue;
                }
                Quick::Other => {}
            }
            let plan = Arc::clone(&self.plan);
            match self.exec_op(p, c, &plan.programs[program].ops[pc]) {
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
    // Kept out of `exec`, whose quick path is the hot one.
    #[inline(never)]
    fn exec_op(&mut self, p: u32, c: u32, op: &Op) -> PyResult<Option<Flow>> {
        let t = self.now;
        match op {
            Op::Cpu(e) => {
                let n = self.eval_ticks(p, e, "cpu")?;
                if n == 0 {
                    self.advance_pc(p);
                    return Ok(None);
                }
                self.hot[p as usize].burst_left = n;
                Ok(Some(Flow::Burst))
            }
            Op::Io(e) | Op::Sleep(e) => {
                let (cause, what) = match op {
                    Op::Io(_) => (Cause::Io, "io"),
                    _ => (Cause::Sleep, "sleep"),
                };
                let n = self.eval_ticks(p, e, what)?;
                self.advance_pc(p);
                if n == 0 {
                    return Ok(None);
                }
                self.block(p, c, cause, n);
                Ok(Some(Flow::Left))
            }
            Op::Loop { times, end } => {
                let n = self.eval_ticks(p, times, "repeat times")?;
                let hot = &mut self.hot[p as usize];
                if n == 0 {
                    hot.pc = *end;
                } else {
                    if hot.loop_left > 0 {
                        let outer = hot.loop_left;
                        self.procs[p as usize].cold().loops.push(outer);
                    }
                    let hot = &mut self.hot[p as usize];
                    hot.loop_left = n;
                    hot.pc += 1;
                }
                Ok(None)
            }
            Op::EndLoop { start } => {
                self.end_loop(p, *start);
                Ok(None)
            }
            Op::Spawn { spec, start } => {
                let child = self.spawn(p, spec)?;
                if *start {
                    self.start_child(p, child)?;
                }
                self.advance_pc(p);
                Ok(None)
            }
            Op::Start(h) => {
                let target = self.resolve(p, *h, HandleUse::Start)?;
                self.start_child(p, target)?;
                self.advance_pc(p);
                Ok(None)
            }
            Op::Join(h) => {
                let child = self.resolve(p, *h, HandleUse::Join)?;
                if self.hot[child as usize].state == State::Terminated {
                    if self.procs[child as usize].reaped_at == NONE {
                        self.reap(child);
                    }
                    self.advance_pc(p);
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
                // Linux's wait() walks the children in creation order and takes the first
                // zombie, which is not always the one that ended first.
                let ended = children
                    .iter()
                    .copied()
                    .find(|&q| self.hot[q as usize].state == State::Terminated);
                match ended {
                    Some(q) => {
                        self.reap(q);
                        if let Some(name) = bind {
                            self.procs[p as usize].bind_handle(*name, q);
                        }
                        self.advance_pc(p);
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
                if self.hot[target as usize].state != State::Terminated {
                    self.signal(target, *sig);
                }
                self.advance_pc(p);
                // A process may signal an ancestor's sibling but never itself, so `p` runs on.
                Ok(None)
            }
            Op::Assign(kind, g, e) => {
                let value = self.eval(p, e)?;
                let globals = Arc::make_mut(&mut self.procs[p as usize].globals);
                apply_assign(*kind, &mut globals[*g as usize], value)?;
                self.advance_pc(p);
                Ok(None)
            }
            Op::Print(template) => {
                let line = self.render(p, template, t)?;
                self.output(p, line);
                self.advance_pc(p);
                Ok(None)
            }
            Op::New(name, finalizer) => {
                let cold = self.procs[p as usize].cold();
                cold.objects.push((*name, finalizer.clone()));
                // Rebinding a name drops the object it held before, as `o = Obj()` does.
                let held = cold.objects.len() - 1;
                if let Some(old) = cold.objects[..held].iter().position(|(n, _)| n == name) {
                    self.release(p, old);
                }
                self.advance_pc(p);
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
                self.release(p, i);
                self.advance_pc(p);
                Ok(None)
            }
            Op::Exit(e) => {
                let (code, message) = exit_status(self.eval(p, e)?);
                if let Some(message) = message {
                    self.procs[p as usize].cold().errors.push(message);
                }
                Ok(Some(self.end_by_itself(p, c, code)))
            }
            Op::Fail(message) => Err(message.to_string()),
        }
    }

    /// Drops this process's reference to its `i`-th object: its finalizer prints here.
    fn release(&mut self, p: u32, i: usize) {
        let (_, fin) = self.procs[p as usize].cold().objects.remove(i);
        if let Some(text) = fin {
            self.output(p, text.to_string());
        }
    }

    /// The end of a `repeat` body: back to its start while iterations remain.
    fn end_loop(&mut self, p: u32, start: u32) {
        let hot = &mut self.hot[p as usize];
        if hot.loop_left > 1 {
            hot.loop_left -= 1;
            hot.pc = start + 1;
        } else {
            hot.pc += 1;
            hot.loop_left = self.procs[p as usize]
                .cold
                .as_mut()
                .and_then(|c| c.loops.pop())
                .unwrap_or(0);
        }
    }

    fn advance_pc(&mut self, p: u32) {
        self.hot[p as usize].pc += 1;
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
    #[inline]
    fn eval_ticks(&mut self, p: u32, e: &CExpr, what: &str) -> PyResult<u64> {
        let v = match e {
            CExpr::Lit(Value::Int(i)) => return Ok(*i as u64),
            other => self.eval(p, other)?,
        };
        ticks(v, what)
    }

    fn render(&mut self, p: u32, template: &Template, t: u64) -> PyResult<String> {
        template.render(&mut SimRender { k: self, p, t })
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
            q => self.hot[q as usize].pid,
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
        let facts = HandleFacts {
            is_self: target == p,
            is_child: self.procs[target as usize].parent == p && target != p,
            started: self.procs[target as usize].started,
            caller_daemon: self.procs[p as usize].daemon,
        };
        check_handle_use(purpose, facts)?;
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
        let mut pcb = Pcb::new(p, globals, t);
        pcb.daemon = daemon;
        let cold = pcb.cold();
        cold.name = Some(name);
        cold.identity = Some(identity);
        cold.args = args;
        cold.kwargs = kwargs;
        self.procs.push(pcb);
        self.hot.push(Hot::new(spec.program, pid, t));
        self.created(child, spec.attrs, Some(p));
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
            if self.procs[q as usize].daemon && self.hot[q as usize].state != State::Terminated {
                self.signal(q, Signal::Term);
            }
        }
        match self.plan.kernel.exit_policy {
            ExitPolicy::Multiprocessing => {
                self.procs[p as usize].exit_code = code;
                self.hot[p as usize].ending = true;
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
            if self.hot[q as usize].state == State::Terminated {
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
        let hot = &mut self.hot[q as usize];
        match hot.state {
            State::Running => {
                if hot.preempt_pending {
                    hot.preempt_pending = false;
                    self.pending_preempts -= 1;
                    if !self.policy.remove(q) {
                        self.preempted.retain(|x| *x != q);
                    }
                }
                let on = self
                    .cpus
                    .iter()
                    .position(|cpu| matches!(cpu.run, Run::Running { p, .. } if p == q));
                if let Some(c) = on {
                    self.leave_running(c, q);
                }
                on.map(|c| c as u32).or_else(|| self.cpu_of_last(q))
            }
            State::Ready => {
                if !self.policy.remove(q) {
                    self.woken.retain(|x| x.2 != q);
                    self.admitted.retain(|x| *x != q);
                    for cpu in self.cpus.iter_mut() {
                        if let Run::Switching { p, from, .. } = cpu.run
                            && p == q
                        {
                            self.switch_ticks = self.switch_ticks.saturating_add(t - from);
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

    /// `p`, running on CPU `c`, ends: the policy is charged for its last stretch and the CPU
    /// falls free.
    fn leave_running(&mut self, c: usize, p: u32) {
        let t = self.now;
        if let Run::Running { slice_end, .. } = self.cpus[c].run {
            let usage = Usage {
                ran: t - self.cpus[c].since,
                slice_left: slice_end.saturating_sub(t),
            };
            self.policy.charge(p, Leave::Exit, usage, t);
        }
        self.cpus[c].run = Run::Idle;
    }

    /// `* → terminated`, then the parent learns of it (or init reaps it).
    fn terminate(
        &mut self,
        p: u32,
        cpu: Option<u32>,
        cause: Cause,
        code: i32,
        sig: Option<Signal>,
    ) {
        let t = self.now;
        if let Some(c) = cpu
            && let Run::Running { p: q, .. } = self.cpus[c as usize].run
            && q == p
        {
            self.leave_running(c as usize, p);
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
            self.ended(q);
            self.reap(q);
        }
        self.transition(p, State::Terminated, cause, cpu);
        self.ended(p);
        let pcb = &mut self.procs[p as usize];
        pcb.ended_at = t;
        pcb.exitcode = Some(code);
        pcb.signal = sig;

        let parent = pcb.parent;
        if parent == NO_PROC {
            self.reap(p);
            return;
        }
        let pp = &self.procs[parent as usize];
        let waiting = self.hot[parent as usize].state == State::Blocked
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
        if self.hot[q as usize].state == State::Terminated
            && self.procs[q as usize].reaped_at == NONE
        {
            self.reap(q);
        }
    }

    /// The zombie `q` is released: its pid is free again.
    fn reap(&mut self, q: u32) {
        let t = self.now;
        let pcb = &mut self.procs[q as usize];
        debug_assert_eq!(pcb.reaped_at, NONE);
        pcb.reaped_at = t;
        let (pid, parent) = (self.hot[q as usize].pid, pcb.parent);
        self.pids.free(pid);
        if parent != NO_PROC
            && let Some(c) = self.procs[parent as usize].cold.as_mut()
        {
            c.children.retain(|x| *x != q);
        }
    }
}

/// The printing process as the template renderer sees it.
struct SimRender<'a, P: Policy> {
    k: &'a mut Kernel<P>,
    p: u32,
    t: u64,
}

impl<P: Policy> RenderContext for SimRender<'_, P> {
    fn eval(&mut self, e: &CExpr) -> PyResult<Value> {
        self.k.eval(self.p, e)
    }
    fn name(&self) -> String {
        self.k.name_of(self.p)
    }
    fn pid(&self) -> u32 {
        self.k.hot[self.p as usize].pid
    }
    fn ppid(&self) -> u32 {
        self.k.ppid_of(self.p)
    }
    fn tick(&self) -> u64 {
        self.t
    }
    fn handle_field(&mut self, h: HandleRef, field: HandleField) -> PyResult<String> {
        let (k, p) = (&*self.k, self.p);
        let q = match h {
            HandleRef::Current => p,
            HandleRef::Named(name) => k.procs[p as usize]
                .handle(name)
                .ok_or_else(|| k.not_defined(name))?,
        };
        let target = &k.procs[q as usize];
        Ok(match field {
            HandleField::Pid => k.hot[q as usize].pid.to_string(),
            HandleField::Name => k.name_of(q),
            HandleField::Exitcode => match (k.hot[q as usize].state, target.exitcode) {
                (State::Terminated, Some(code)) if q != p => code.to_string(),
                _ => "None".into(),
            },
        })
    }
}
