//! A process of the simulated kernel as the process API's rules see it ([`Host`]): the rules
//! decide, this kernel carries out in simulated time.

use std::ops::ControlFlow::{self, Break, Continue};
use std::sync::Arc;

use super::exec::Flow;
use super::pcb::WaitOn;
use super::{Kernel, Policy};
use crate::model::{Cause, State, Value};
use crate::process::{
    HandleFacts, HandleView, Host, Object, PyError, Target, ThreadView, field_reaps, render_field,
    render_thread_field,
};
use crate::program::{
    CExpr, GlobalId, HandleField, HandleRef, NameId, RenderContext, Signal, SpawnOp, Template,
};
use crate::scenario::ExitPolicy;

/// Process `p`, running on CPU `c` of the kernel `k`.
pub(super) struct SimProc<'a, P: Policy> {
    k: &'a mut Kernel<P>,
    p: u32,
    c: u32,
    /// The bytes of the global handed out by `global_mut`, before it changed.
    bytes_before: u64,
}

impl<'a, P: Policy> SimProc<'a, P> {
    pub(super) fn new(k: &'a mut Kernel<P>, p: u32, c: u32) -> Self {
        SimProc {
            k,
            p,
            c,
            bytes_before: 0,
        }
    }

    fn pi(&self) -> usize {
        self.p as usize
    }
}

impl<P: Policy> Host for SimProc<'_, P> {
    type Child = u32;
    type Yield = Flow;

    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError> {
        Ok(self.k.eval(self.p, e))
    }

    fn not_defined(&self, name: NameId) -> PyError {
        PyError::NotDefined(Arc::clone(&self.k.plan.names[name as usize]))
    }

    fn advance(&mut self) {
        self.k.advance_pc(self.p);
    }

    fn jump(&mut self, pc: u32) {
        let p = self.pi();
        self.k.hot[p].pc = pc;
    }

    fn enter_loop(&mut self, n: u64) {
        let p = self.pi();
        let outer = self.k.hot[p].loop_left;
        if outer > 0 {
            self.k.procs[p].cold().loops.push(outer);
        }
        let hot = &mut self.k.hot[p];
        hot.loop_left = n;
        hot.pc += 1;
    }

    fn end_loop(&mut self, start: u32) -> bool {
        let again = self.k.hot[self.pi()].loop_left > 1;
        self.k.end_loop(self.p, start);
        again
    }

    fn counters(&mut self) -> &mut Vec<u64> {
        let p = self.pi();
        &mut self.k.procs[p].cold().counters
    }

    fn global_mut(&mut self, g: GlobalId) -> &mut Value {
        let slot = &mut self.k.own_globals(self.p)[g as usize];
        self.bytes_before = slot.footprint();
        slot
    }

    fn global_changed(&mut self, g: GlobalId) {
        let p = self.k.leader(self.p);
        let after = self.k.globals_of(p)[g as usize].footprint();
        self.k.hold_values(self.bytes_before, after);
    }

    fn charge_steps(&mut self, steps: u64) {
        // The kernel's count, which the next instruction of any process checks.
        self.k.steps = self.k.steps.saturating_add(steps);
    }

    fn render(&mut self, t: &Template) -> Result<String, PyError> {
        t.render(self)
    }

    fn output(&mut self, line: String) {
        self.k.output(self.p, line);
    }

    fn error(&mut self, line: String) {
        self.k.push_error(self.p, line);
    }

    fn objects(&mut self) -> &mut Vec<Object> {
        // Objects are the process's, whichever thread holds them (SPEC §4a).
        let p = self.k.leader(self.p) as usize;
        &mut self.k.procs[p].cold().objects
    }

    fn take_objects(&mut self) -> Vec<Object> {
        // Not `cold()`: a process without a cold part holds no object, and allocating one at
        // every end cost RR-IO-v1 82 bytes a process.
        let p = self.k.leader(self.p) as usize;
        self.k.procs[p]
            .cold
            .as_mut()
            .map(|c| std::mem::take(&mut c.objects))
            .unwrap_or_default()
    }

    fn halted(&mut self) -> Option<Flow> {
        self.k.error.is_some().then_some(Flow::Stopped)
    }

    fn compute(&mut self, n: u64) -> ControlFlow<Flow> {
        // The kernel moves past the instruction when the burst ends.
        let p = self.pi();
        self.k.hot[p].burst_left = n;
        Break(Flow::Burst)
    }

    fn block_for(&mut self, cause: Cause, n: u64) -> ControlFlow<Flow> {
        self.k.block(self.p, self.c, cause, n);
        Break(Flow::Left)
    }

    fn is_daemon(&self) -> bool {
        // The process's flag (multiprocessing's), not the thread's.
        self.k.procs[self.k.leader(self.p) as usize].daemon
    }

    fn is_child(&self) -> bool {
        self.k.procs[self.k.leader(self.p) as usize].kind != super::pcb::Kind::Top
    }

    fn is_main_thread(&self) -> bool {
        !self.k.is_thread(self.p)
    }

    fn start_thread(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<(), PyError> {
        self.k.spawn_thread(self.p, spec, args, kwargs)
    }

    fn await_threads(&mut self, code: i32) -> ControlFlow<Flow> {
        self.k.await_threads(self.p, self.c, code)
    }

    fn acquire(&mut self, lock: NameId) -> ControlFlow<Flow> {
        self.k.acquire(self.p, self.c, lock)
    }

    fn release(&mut self, lock: NameId) -> Result<(), PyError> {
        self.k.release(self.p, lock)
    }

    fn end_thread(&mut self) -> Flow {
        self.k.end_thread(self.p, self.c)
    }

    fn lookup(&self, h: HandleRef) -> Result<Target<u32>, PyError> {
        // A handle name is the calling task's (a function's local), else its process's main
        // thread's (SPEC §4a); a thread handle is never `Me` (`facts` says whether it names
        // the calling thread).
        let me = self.k.leader(self.p);
        let q = match h {
            HandleRef::Current => return Ok(Target::Me),
            HandleRef::Named(name) => self
                .k
                .handle_of(self.p, name)
                .ok_or_else(|| self.not_defined(name))?,
        };
        Ok(if q == me && !self.k.is_thread(q) {
            Target::Me
        } else {
            Target::Other(q)
        })
    }

    fn facts(&self, q: u32) -> HandleFacts {
        let target = &self.k.procs[q as usize];
        let thread = self.k.is_thread(q);
        HandleFacts {
            is_self: thread && q == self.p,
            is_child: !thread && target.parent == self.k.leader(self.p),
            started: target.started(),
            caller_daemon: false,
            is_thread: thread,
        }
    }

    fn spawn(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<u32, PyError> {
        self.k.spawn(self.p, spec, args, kwargs)
    }

    fn start(&mut self, q: u32) -> Result<(), PyError> {
        self.k.start_child(self.p, q)
    }

    fn join(&mut self, q: u32, timeout: Option<u64>) -> ControlFlow<Flow> {
        let p = self.pi();
        if self.k.procs[p].wait_on() == WaitOn::TimedOut {
            // Woken by its timeout, it runs this instruction again: the join returns, and
            // the child, even one that ended since, is left as it is (not reaped).
            self.k.procs[p].set_wait_on(WaitOn::Nothing);
            return Continue(());
        }
        if self.k.is_thread(q) && self.k.leader(q) != self.k.leader(self.p) {
            // A thread of the process this one was forked from: the fork copied its
            // `Thread` object, stopped (CPython's `_after_fork`), so the join returns.
            return Continue(());
        }
        if self.k.hot[q as usize].state == State::Terminated {
            if !self.k.procs[q as usize].is_reaped() {
                self.k.reap(q);
            }
            return Continue(());
        }
        // Woken when `q` ends, the process runs this instruction again and reaps it.
        match timeout {
            None => {
                self.k.procs[p].set_wait_on(WaitOn::Child(q));
                self.k.block(self.p, self.c, Cause::Join, 0);
            }
            Some(0) => return Continue(()),
            Some(n) => self.k.join_until(self.p, self.c, q, n),
        }
        Break(Flow::Left)
    }

    fn wait_any(&mut self) -> ControlFlow<Flow, u32> {
        // Linux's wait() walks the children in creation order and takes the first zombie,
        // which is not always the one that ended first.
        let ended = self.k.first_ended_child(self.p);
        match ended {
            Some(q) => {
                self.k.reap(q);
                Continue(q)
            }
            None => {
                let p = self.pi();
                self.k.procs[p].set_wait_on(WaitOn::AnyChild);
                self.k.block(self.p, self.c, Cause::Wait, 0);
                Break(Flow::Left)
            }
        }
    }

    fn bind_handle(&mut self, name: NameId, q: u32) {
        // The calling task's own name (a thread's local; a main thread's is its process's).
        let p = self.pi();
        self.k.procs[p].bind_handle(name, q);
    }

    fn send_signal(&mut self, q: u32, sig: Signal) -> bool {
        let alive = self.k.hot[q as usize].state != State::Terminated;
        if alive {
            self.k.signal(q, sig);
        }
        alive
    }

    fn own_name(&self) -> String {
        self.k.name_of(self.p)
    }

    fn child_name(&self, q: u32) -> String {
        self.k.name_of(q)
    }

    fn note(&mut self, text: String) {
        self.k.note(text);
    }

    fn live_children(&self) -> Vec<u32> {
        self.k.live_children(self.p)
    }

    fn first_live_child(&self) -> Option<u32> {
        self.k.first_live_child(self.p)
    }

    fn reap_candidates(&self) -> Vec<u32> {
        // The kernel knows which have ended: the zombies, not every child.
        self.k.ended_children(self.p)
    }

    fn reap_if_ended(&mut self, q: u32) -> bool {
        let ended = self.k.hot[q as usize].state == State::Terminated
            && !self.k.procs[q as usize].is_reaped();
        if ended {
            self.k.reap(q);
        }
        ended
    }

    fn child_is_daemon(&self, q: u32) -> bool {
        self.k.procs[q as usize].daemon
    }

    fn exit_policy(&self) -> ExitPolicy {
        self.k.plan.kernel.exit_policy
    }

    fn begin_joins(&mut self, code: i32) {
        // Only a main thread gets here (`end_by_itself`).
        let p = self.pi();
        self.k.procs[p].set_exit_code(code);
        self.k.hot[p].ending = true;
    }

    fn orphan_children(&mut self) {
        for q in self.k.live_children(self.p) {
            self.k.orphan(q);
        }
    }

    fn terminate(&mut self, code: i32) -> Flow {
        if self.k.is_thread(self.p) {
            // `_exit` in a thread: the whole process ends.
            return self.k.exit_group(self.p, self.c, code);
        }
        self.k
            .terminate(self.p, Some(self.c), Cause::Exit, code, None);
        Flow::Left
    }
}

/// The printing process as the template renderer sees it.
impl<P: Policy> RenderContext for SimProc<'_, P> {
    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError> {
        Ok(self.k.eval(self.p, e))
    }
    fn name(&self) -> String {
        self.k.name_of(self.p)
    }
    fn pid(&self) -> u32 {
        self.k.hot[self.k.leader(self.p) as usize].pid
    }
    fn thread(&self) -> String {
        self.k.thread_name(self.p)
    }
    fn ppid(&self) -> u32 {
        self.k.ppid_of(self.p)
    }
    fn tick(&self) -> u64 {
        self.k.now
    }
    fn handle_field(&mut self, h: HandleRef, field: HandleField) -> Result<String, PyError> {
        let (q, me) = match self.lookup(h)? {
            Target::Me => (self.p, true),
            Target::Other(q) => (q, false),
        };
        if self.k.is_thread(q) {
            return self.thread_field(q, field);
        }
        if !me && field_reaps(field) && self.k.procs[q as usize].parent == self.k.leader(self.p) {
            self.reap_if_ended(q);
        }
        let k = &*self.k;
        let exitcode = match (k.hot[q as usize].state, k.procs[q as usize].exitcode()) {
            (State::Terminated, Some(code)) if !me => Some(i64::from(code)),
            _ => None,
        };
        let target = &k.procs[q as usize];
        let view = HandleView {
            pid: target.started().then_some(k.hot[q as usize].pid),
            name: k.name_of(q),
            exitcode,
            alive: me || (target.started() && k.hot[q as usize].state != State::Terminated),
            daemon: target.daemon,
        };
        Ok(render_field(&view, field))
    }
}

impl<P: Policy> SimProc<'_, P> {
    /// `{h.field}` of a thread handle: a `threading.Thread`'s attributes.
    fn thread_field(&self, q: u32, field: HandleField) -> Result<String, PyError> {
        let k = &*self.k;
        let view = ThreadView {
            name: k.thread_name(q),
            // A thread of the process this one was forked from is stopped in this copy.
            alive: k.hot[q as usize].state != State::Terminated && k.leader(q) == k.leader(self.p),
            daemon: k.procs[q as usize].daemon,
        };
        render_thread_field(&view, field)
    }
}
