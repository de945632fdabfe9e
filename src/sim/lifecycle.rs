//! How the simulated kernel creates, starts, signals, ends and reaps processes: the
//! mechanism under the process API's rules ([`crate::process`]), in simulated time.

use std::sync::Arc;

use super::children::Children;
use super::identity::Identity;
use super::pcb::{Hot, Kind, NO_PID, NO_PROC, Pcb, WaitOn};
use super::sched::{Leave, Usage};
use super::timers::{Timer, TimerKind};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State, Value};
use crate::process::{MAX_NOTES, PyError, bind, notes_left_out};
use crate::program::{CExpr, Code, Signal, SpawnOp};
use crate::report::Note;
use crate::scenario::bytes_of;

impl<P: Policy> Kernel<P> {
    pub(super) fn output(&mut self, p: u32, line: String) {
        self.output_lines += 1;
        let lines = self.output_lines;
        if let Err(why) = self
            .output_bytes
            .count(lines, line.len(), &self.plan.kernel)
        {
            self.stop(format!("stopped at tick {}: {why}", self.now));
            return;
        }
        self.push_output(p, line);
    }

    // ---- values --------------------------------------------------------------------------

    pub(super) fn eval_static(&mut self, e: &CExpr) -> Value {
        match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Global(g) => self.plan.globals[*g as usize].1.clone(),
            CExpr::Uniform(lo, hi) => Value::Int(self.rng.uniform(*lo, *hi)),
            CExpr::Param(_) | CExpr::Counter(_) => Value::None,
        }
    }

    pub(super) fn eval(&mut self, p: u32, e: &CExpr) -> Value {
        match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Param(i) => self.procs[p as usize]
                .cold
                .as_ref()
                .and_then(|c| c.params.get(*i as usize))
                .cloned()
                .unwrap_or(Value::None),
            CExpr::Global(g) => self.globals_of(self.leader(p))[*g as usize].clone(),
            CExpr::Uniform(lo, hi) => Value::Int(self.rng.uniform(*lo, *hi)),
            CExpr::Counter(k) => self.procs[p as usize]
                .cold
                .as_ref()
                .and_then(|c| c.counters.get(*k as usize))
                .map_or(Value::None, |i| Value::Int(*i as i64)),
        }
    }

    /// A top-level process's name as its base and, for a copy of a `count`, its copy number
    /// (named `{base}-{copy}`); `None` for any other task. `p` is a process's leader.
    fn top_name(&self, p: u32) -> Option<(&str, Option<u32>)> {
        if self.procs[p as usize].kind != Kind::Top {
            return None;
        }
        let (entry, copy) = self.top_entry(p);
        let top = &self.plan.processes[entry];
        Some((&top.name, top.numbered.then_some(copy)))
    }

    /// The length of [`Kernel::name_of`], without making a top-level copy's name (counted
    /// for each of a million copies when a report is held).
    pub(super) fn name_len(&self, p: u32) -> usize {
        match self.top_name(self.leader(p)) {
            // The copy (from 1) in decimal after a `-`.
            Some((base, Some(copy))) => base.len() + 1 + copy.ilog10() as usize + 1,
            Some((base, None)) => base.len(),
            None => self.name_of(p).len(),
        }
    }

    /// The process's name: from the plan for a top-level process, its own for a child.
    pub(super) fn name_of(&self, p: u32) -> String {
        let p = self.leader(p);
        match self.top_name(p) {
            Some((base, Some(copy))) => return format!("{base}-{copy}"),
            Some((base, None)) => return base.to_owned(),
            None => {}
        }
        let pcb = &self.procs[p as usize];
        let Some(cold) = pcb.cold.as_ref() else {
            return "?".to_owned();
        };
        match (&cold.name, &cold.identity) {
            (Some(name), _) => name.to_string(),
            (None, Some(identity)) => identity.default_name(),
            (None, None) => "?".to_owned(),
        }
    }

    pub(super) fn ppid_of(&self, p: u32) -> u32 {
        match self.procs[self.leader(p) as usize].parent {
            NO_PROC => 1,
            q => self.hot[q as usize].pid,
        }
    }

    /// Binds arguments to parameters as Python does, at the process's first run.
    pub(super) fn bind_arguments(&mut self, p: u32, code: &Code) -> Result<(), PyError> {
        let Some(cold) = self.procs[p as usize].cold.as_mut() else {
            return bind(code, Vec::new(), Vec::new()).map(|_| ());
        };
        let args = std::mem::take(&mut cold.args);
        let kwargs = std::mem::take(&mut cold.kwargs);
        cold.params = bind(code, args, kwargs)?;
        Ok(())
    }

    /// The children of `p`'s process, if it ever spawned one.
    fn children_of(&self, p: u32) -> Option<&Children> {
        self.procs[self.leader(p) as usize]
            .cold
            .as_ref()?
            .children
            .as_deref()
    }

    /// Child `q`'s spawn number in its parent: its key in the parent's [`Children`].
    fn spawn_number(&self, q: u32) -> u32 {
        self.procs[q as usize]
            .cold
            .as_ref()
            .and_then(|c| c.identity.as_ref())
            .map_or(0, |id| id.number())
    }

    /// Child `q` leaves its parent's children (reaped, or adopted by init).
    fn leave_parent(&mut self, q: u32) {
        let parent = self.procs[q as usize].parent;
        if parent == NO_PROC {
            return;
        }
        let n = self.spawn_number(q);
        if let Some(c) = self.procs[parent as usize].cold.as_mut()
            && let Some(children) = c.children.as_mut()
        {
            children.remove(n, q);
        }
    }

    /// Started children not yet reaped, in creation order.
    pub(super) fn live_children(&self, p: u32) -> Vec<u32> {
        self.children_of(p)
            .map(|c| c.live().collect())
            .unwrap_or_default()
    }

    /// The first of [`Kernel::live_children`], without listing them.
    pub(super) fn first_live_child(&self, p: u32) -> Option<u32> {
        self.children_of(p)?.first_live()
    }

    /// The first of [`Kernel::ended_children`], without listing them.
    pub(super) fn first_ended_child(&self, p: u32) -> Option<u32> {
        self.children_of(p)?.ended_ones().next()
    }

    /// Started children that have ended and are not reaped (zombies), in creation order.
    pub(super) fn ended_children(&self, p: u32) -> Vec<u32> {
        self.children_of(p)
            .map(|c| c.ended_ones().collect())
            .unwrap_or_default()
    }

    // ---- creating, starting, ending ------------------------------------------------------

    /// `multiprocessing.Process(...)`: a child in `new`, with a pid and a name.
    pub(super) fn spawn(
        &mut self,
        p: u32,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<u32, PyError> {
        let t = self.now;
        // The child is its process's, whichever thread made it.
        let task = p;
        let p = self.leader(p);
        let creator = self.listed_index(p);
        let parent = &mut self.procs[p as usize];
        let daemon = spec.daemon.unwrap_or(parent.daemon);
        // The child shares its parent's globals, whichever they are.
        let globals = parent.own_globals().cloned();
        let pcold = parent.cold();
        pcold.spawned += 1;
        let identity = Identity::child(pcold.identity.as_ref(), pcold.spawned);
        let mut pcb = Pcb::new(p, t);
        pcb.daemon = daemon;
        let cold = pcb.cold();
        cold.creator = Some(creator);
        self.top_sharers += u64::from(globals.is_none());
        cold.globals = globals;
        // A default name is made when it is shown (identity.rs).
        cold.name = spec.name.clone();
        cold.identity = Some(identity);
        cold.args = args;
        cold.kwargs = kwargs;
        // No pid yet: a `Process` object gets one at `start()`, the fork.
        let child = self.new_slot(pcb, Hot::new(spec.program, NO_PID, t));
        let n = self.spawn_number(child);
        let globals = Arc::clone(self.globals_of(child));
        let weight = self.weigh(&globals);
        self.hold_values(0, weight);
        self.procs[p as usize]
            .cold()
            .children
            .get_or_insert_default()
            .spawned(n, child);
        // `p = Process(...)` binds a name of the creating task (a function's local).
        if let Some(h) = spec.handle {
            self.procs[task as usize].bind_handle(h, child);
        }
        self.created(child, spec.attrs, Some(task));
        // Past either ceiling the run stops; the child stays, as made.
        self.hold_name(child);
        self.count_record();
        Ok(child)
    }

    /// `Process.start()`: the child gets a copy of the parent's globals, objects and handles
    /// (what a fork copies) and is admitted.
    pub(super) fn start_child(&mut self, p: u32, child: u32) -> Result<(), PyError> {
        // The fork copies the process, and of its threads the caller alone (SPEC §4a).
        let task = p;
        let p = self.leader(p);
        if self.pids.in_use() >= self.plan.kernel.max_processes {
            // Python's own words for a failed fork(); the README names kernel.max_processes
            // and kernel.pid_max as the limits behind them.
            return Err(PyError::Again);
        }
        let Some(pid) = self.pids.alloc() else {
            return Err(PyError::Again);
        };
        self.hot[child as usize].pid = pid;
        if self.needs.attributes {
            // The policy learns the pid it breaks ties by (it knew the child without one).
            let attrs = &mut self.attrs[child as usize];
            attrs.pid = pid;
            let attrs = *attrs;
            self.policy.on_create(child, attrs);
        }
        let (globals, objects, handles) = {
            let parent = &self.procs[p as usize];
            let (objects, handles) = parent
                .cold
                .as_ref()
                .map(|c| (c.objects.clone(), c.handles.clone()))
                .unwrap_or_default();
            (parent.own_globals().cloned(), objects, handles)
        };
        let (n, parent) = (self.spawn_number(child), self.procs[child as usize].parent);
        if parent != NO_PROC
            && let Some(c) = self.procs[parent as usize].cold.as_mut()
            && let Some(children) = c.children.as_mut()
        {
            children.started(n, child);
        }
        // The fork copies the parent's globals as they are now, not as they were at spawn.
        let had = self.procs[child as usize].own_globals();
        let shared_top = had.is_none();
        let same = match (had, &globals) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !same {
            let before = bytes_of(self.globals_of(child));
            let now = Arc::clone(globals.as_ref().unwrap_or(&self.top_globals));
            let after = self.weigh(&now);
            self.hold_values(before, after);
        }
        // Sharing the top-level processes' globals no longer, or from now on.
        match (shared_top, globals.is_none()) {
            (true, false) => self.top_sharers -= 1,
            (false, true) => self.top_sharers += 1,
            _ => {}
        }
        // Started from here on: admitted just below (`Pcb::started`).
        let pcb = &mut self.procs[child as usize];
        pcb.cold().globals = globals;
        if !objects.is_empty() || !handles.is_empty() {
            let cold = pcb.cold();
            cold.objects = objects;
            cold.handles = handles;
        }
        if self.threads_on {
            self.inherit_thread(task, child);
        }
        self.admit(child);
        Ok(())
    }

    /// A note for the report, at this tick (the ones past
    /// [`crate::process::MAX_NOTES`] only counted).
    pub(super) fn note(&mut self, text: String) {
        if self.notes.len() < MAX_NOTES {
            let t = self.now;
            self.notes.push(Note { t, text });
        } else {
            self.notes_left_out = self.notes_left_out.saturating_add(1);
        }
    }

    /// The report's notes: what the run did that changed nothing (a signal to a process that
    /// was not alive), in time order.
    pub fn notes(&self) -> Vec<Note> {
        let mut notes = self.notes.clone();
        if self.notes_left_out > 0 {
            notes.push(Note {
                t: self.now,
                text: notes_left_out(self.notes_left_out),
            });
        }
        notes
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
    pub(super) fn leave_cpu(&mut self, q: u32) -> Option<u32> {
        if self.log.is_some() {
            self.explain_left(q);
        }
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
                    // Set aside for the GIL (threads.rs), if not in a group: its GIL queue
                    // drops it when it comes up, terminated.
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
                pcb.set_wait_on(WaitOn::Nothing);
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
    pub(super) fn terminate(
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
        // Its threads still alive (daemons, or all of them for a signal or `_exit`) end
        // with it.
        if self.threads_on {
            self.end_threads_of(p, None);
        }
        // Children never started vanish with their creator, as an unstarted Process object
        // does; they leave the table as terminated with no exit code.
        let unstarted: Vec<u32> = self
            .children_of(p)
            .map(|c| c.unstarted().collect())
            .unwrap_or_default();
        for q in unstarted {
            self.transition(q, State::Terminated, Cause::Signal, None);
            self.procs[q as usize].ended_at = t;
            self.ended(q);
            self.reap(q);
        }
        // Its end is recorded before the transition, which `--explain` tells as it happens.
        let pcb = &mut self.procs[p as usize];
        pcb.ended_at = t;
        pcb.set_exitcode(code);
        pcb.signal = sig;
        self.transition(p, State::Terminated, cause, cpu);
        self.ended(p);

        let parent = self.procs[p as usize].parent;
        if parent == NO_PROC {
            self.reap(p);
            return;
        }
        let n = self.spawn_number(p);
        if let Some(c) = self.procs[parent as usize].cold.as_mut()
            && let Some(children) = c.children.as_mut()
        {
            children.ended(n, p);
        }
        if self.threads_on {
            // Any thread of the parent may be the one joining it.
            self.wake_joiners(parent, p);
            return;
        }
        let waiting = self.hot[parent as usize].state == State::Blocked
            && self.procs[parent as usize].wait_on().awaits(p);
        if waiting {
            self.wake(parent, Cause::ChildExit);
        }
    }

    /// `join` with a timeout of `n` (> 0) ticks: `p`, on CPU `c`, blocks until child `q`
    /// ends or the timer set here fires, whichever comes first.
    pub(super) fn join_until(&mut self, p: u32, c: u32, q: u32, n: u64) {
        let t = self.now;
        let at = t.saturating_add(n);
        self.procs[p as usize].set_wait_on(WaitOn::ChildUntil(q, at));
        self.set_timer(Timer {
            at,
            since: t,
            pid: self.hot[p as usize].pid,
            p,
            kind: TimerKind::JoinTimeout,
        });
        self.block(p, c, Cause::Join, 0);
    }

    /// A join's timer fired with its process blocked: the join times out if it is the one the
    /// timer was set for (the same deadline). If the child ended first, the process woke then
    /// and the timer is stale; were the process blocked again in another timed join with the
    /// same deadline, that join times out now, which is what its own timer would do.
    pub(super) fn join_timed_out(&mut self, timer: Timer) {
        let p = timer.p as usize;
        if matches!(self.procs[p].wait_on(), WaitOn::ChildUntil(_, at) if at == timer.at) {
            self.procs[p].set_wait_on(WaitOn::TimedOut);
            self.wake(timer.p, Cause::Timeout);
        }
    }

    /// Drops the earliest timers while they can wake nobody: those of processes killed while
    /// they waited, and join timeouts overtaken by the child's end. Left in place, they would
    /// be events: time would run on to them after the last process ended, and a long
    /// timeout would stop the run at `kernel.max_ticks`.
    ///
    /// Its commonest case inline: the first timer an `io` or `sleep` of a blocked process,
    /// which can wake it, so there is nothing to drop (the call alone was 6.2 M of lottery's
    /// 454.2 M instructions on RR-IO-v1 at N = 20,000, from its slice ends with wake-ups).
    #[inline(always)]
    pub(super) fn drop_stale_timers(&mut self) {
        if let Some(timer) = self.timers.peek()
            && timer.kind != TimerKind::JoinTimeout
            && self.hot[timer.p as usize].state == State::Blocked
        {
            return;
        }
        self.drop_stale_timers_from_the_first();
    }

    /// [`Kernel::drop_stale_timers`] past its inline look at the first timer.
    #[inline(never)]
    fn drop_stale_timers_from_the_first(&mut self) {
        while let Some(&timer) = self.timers.peek() {
            let p = timer.p as usize;
            let live = self.hot[p].state == State::Blocked
                && match timer.kind {
                    TimerKind::Io | TimerKind::Sleep => true,
                    TimerKind::JoinTimeout => matches!(
                        self.procs[p].wait_on(),
                        WaitOn::ChildUntil(_, at) if at == timer.at
                    ),
                };
            if live {
                return;
            }
            self.timers.pop_due(timer.at);
        }
    }

    /// init adopts `q`; a zombie is reaped by init at once.
    pub(super) fn orphan(&mut self, q: u32) {
        self.leave_parent(q);
        self.procs[q as usize].parent = NO_PROC;
        if self.hot[q as usize].state == State::Terminated && !self.procs[q as usize].is_reaped() {
            self.reap(q);
        }
    }

    /// The zombie `q` is released: its pid is free again.
    pub(super) fn reap(&mut self, q: u32) {
        let t = self.now;
        let pcb = &mut self.procs[q as usize];
        debug_assert!(!pcb.is_reaped());
        pcb.set_reaped(t);
        if self.log.is_some() {
            self.explain_reaped(q);
        }
        let pid = self.hot[q as usize].pid;
        if pid != NO_PID {
            self.pids.free(pid);
        }
        self.leave_parent(q);
        self.recycle_later(q);
    }
}
