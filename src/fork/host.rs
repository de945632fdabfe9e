//! A real process's thread as the process API's rules see it ([`Host`]): the rules decide,
//! this thread carries them out with real time, `fork`, `kill` and `waitpid`. It blocks inside
//! the calls that wait (letting its process's interpreter lock go, see [`super::th`]), so it
//! gives up nothing but at its end: `Yield` is [`Ended`], a thread that ended; a process's
//! own end is `_exit` and does not return.

use std::ops::ControlFlow::{self, Continue};
use std::os::fd::AsFd;
use std::sync::Arc;

use nix::unistd::{getpid, getppid};

use super::interp::{Who, exitcode_of};
use super::pidfd;
use super::protocol::Event;
use super::th::{Ended, Th};
use super::threads;
use crate::model::{Cause, Value};
use crate::process::{
    HandleFacts, HandleView, Host, Object, PyError, Target, ThreadView, field_reaps, render_field,
    render_thread_field,
};
use crate::program::{
    CExpr, GlobalId, HandleField, HandleRef, NameId, RenderContext, Signal, SpawnOp, Template,
};
use crate::scenario::ExitPolicy;

impl Host for Th {
    type Child = Who;
    type Yield = Ended;

    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError> {
        Ok(Th::eval(self, e))
    }

    fn not_defined(&self, name: NameId) -> PyError {
        self.pr().not_defined(name)
    }

    fn advance(&mut self) {
        self.f.pc += 1;
    }

    fn jump(&mut self, pc: u32) {
        self.f.pc = pc as usize;
    }

    fn enter_loop(&mut self, n: u64) {
        self.f.loops.push(n);
        self.f.pc += 1;
    }

    fn end_loop(&mut self, start: u32) -> bool {
        let f = &mut self.f;
        match f.loops.last_mut() {
            Some(left) if *left > 1 => {
                *left -= 1;
                f.pc = start as usize + 1;
                true
            }
            _ => {
                f.loops.pop();
                f.pc += 1;
                false
            }
        }
    }

    fn counters(&mut self) -> &mut Vec<u64> {
        &mut self.f.counters
    }

    fn global_mut(&mut self, g: GlobalId) -> &mut Value {
        &mut self.p().globals[g as usize]
    }

    fn charge_steps(&mut self, steps: u64) {
        // The process's count, which its next instruction checks.
        let p = self.p();
        p.steps = p.steps.saturating_add(steps);
    }

    fn global_changed(&mut self, g: GlobalId) {
        let p = self.pr();
        p.send(Event::Global {
            key: p.key.clone(),
            index: g,
            value: p.globals[g as usize].clone(),
        });
    }

    fn render(&mut self, t: &Template) -> Result<String, PyError> {
        t.render(&mut Ctx(self))
    }

    fn output(&mut self, line: String) {
        self.pr().output(line);
    }

    fn error(&mut self, line: String) {
        self.pr().error(line);
    }

    fn objects(&mut self) -> &mut Vec<Object> {
        &mut self.p().objects
    }

    fn halted(&mut self) -> Option<Ended> {
        None
    }

    fn is_main_thread(&self) -> bool {
        self.f.thread.is_none()
    }

    fn start_thread(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<(), PyError> {
        threads::start_thread(self, spec, args, kwargs)
    }

    fn await_threads(&mut self, _code: i32) -> ControlFlow<Ended> {
        threads::await_threads(self)
    }

    fn acquire(&mut self, lock: NameId) -> ControlFlow<Ended> {
        threads::acquire(self, lock);
        Continue(())
    }

    fn release(&mut self, lock: NameId) -> Result<(), PyError> {
        threads::release(self, lock)
    }

    fn end_thread(&mut self) -> Ended {
        threads::end_thread(self)
    }

    fn compute(&mut self, n: u64) -> ControlFlow<Ended> {
        self.f.pc += 1;
        self.burn(n);
        Continue(())
    }

    fn block_for(&mut self, cause: Cause, n: u64) -> ControlFlow<Ended> {
        Th::block_for(self, cause, n);
        Continue(())
    }

    fn is_daemon(&self) -> bool {
        // The process's flag (multiprocessing's), not the thread's.
        self.pr().daemon
    }

    fn is_child(&self) -> bool {
        // multiprocessing's `_identity`: empty for a top-level process.
        !self.pr().identity.is_empty()
    }

    fn lookup(&self, h: HandleRef) -> Result<Target<Who>, PyError> {
        let p = self.pr();
        // A handle name is the calling thread's (a function's local), else its process's
        // main thread's (SPEC §4a); a thread handle is never `Me` (`facts` says whether it
        // names the calling thread).
        let own = |name| {
            let local = self.f.handles.iter().find(|(n, _)| *n == name);
            local.map(|(_, w)| *w).or_else(|| p.handle(name))
        };
        Ok(match h {
            HandleRef::Current => Target::Me,
            HandleRef::Named(name) => match own(name) {
                Some(Who::Kid(k)) if Some(k) == p.me => Target::Me,
                Some(w) => Target::Other(w),
                None => return Err(p.not_defined(name)),
            },
        })
    }

    fn facts(&self, w: Who) -> HandleFacts {
        match w {
            Who::Kid(k) => HandleFacts {
                is_self: false,
                // `kids[..first_own]` came with the fork: the parent's children, not ours.
                is_child: k >= self.pr().first_own,
                started: self.pr().kids[k].started,
                caller_daemon: false,
                is_thread: false,
            },
            Who::Thread(i) => HandleFacts {
                is_self: self.f.thread == Some(i),
                is_child: false,
                started: true,
                caller_daemon: false,
                is_thread: true,
            },
        }
    }

    fn spawn(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<Who, PyError> {
        let k = self.p().spawn(spec, args, kwargs)?;
        if let Some(name) = spec.handle {
            self.bind_handle(name, Who::Kid(k));
        }
        Ok(Who::Kid(k))
    }

    fn start(&mut self, w: Who) -> Result<(), PyError> {
        match w {
            Who::Kid(k) => Th::start(self, k),
            // The checks never let a thread handle be started (`thread` started it).
            Who::Thread(_) => Err(PyError::ThreadStartTwice),
        }
    }

    fn join(&mut self, w: Who, timeout: Option<u64>) -> ControlFlow<Ended> {
        match w {
            Who::Kid(k) => Th::join(self, k, timeout),
            Who::Thread(i) => threads::join_thread(self, i, timeout),
        }
        Continue(())
    }

    fn wait_any(&mut self) -> ControlFlow<Ended, Who> {
        Continue(Who::Kid(Th::wait_any(self)))
    }

    fn bind_handle(&mut self, name: NameId, w: Who) {
        if self.f.thread.is_none() {
            self.p().bind_handle(name, w);
            return;
        }
        match self.f.handles.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = w,
            None => self.f.handles.push((name, w)),
        }
    }

    fn send_signal(&mut self, w: Who, sig: Signal) -> bool {
        match w {
            Who::Kid(k) => self.p().signal(k, sig),
            // The checks never let a thread be signalled (`Thread` has no `kill`).
            Who::Thread(_) => false,
        }
    }

    fn own_name(&self) -> String {
        self.pr().name.to_string()
    }

    fn child_name(&self, w: Who) -> String {
        let p = self.pr();
        match w {
            Who::Kid(k) => p.kids[k].name.to_string(),
            Who::Thread(i) => p
                .threads
                .as_ref()
                .map_or_else(String::new, |t| t.name(Some(i))),
        }
    }

    fn note(&mut self, text: String) {
        self.pr().send(Event::Note {
            t: self.sh.now_us(),
            text,
        });
    }

    fn live_children(&self) -> Vec<Who> {
        self.pr().live.iter().map(|k| Who::Kid(*k)).collect()
    }

    fn reap_if_ended(&mut self, w: Who) -> bool {
        let Who::Kid(k) = w else {
            return false;
        };
        let p = self.p();
        let kid = &p.kids[k];
        let ended = !kid.reaped
            && kid
                .pidfd
                .as_ref()
                .is_some_and(|fd| pidfd::has_ended(fd.as_fd()));
        if ended {
            p.reap(k);
        }
        ended
    }

    fn child_is_daemon(&self, w: Who) -> bool {
        let p = self.pr();
        match w {
            Who::Kid(k) => p.kids[k].daemon,
            Who::Thread(i) => p.threads.as_ref().is_some_and(|t| t.is_daemon(i)),
        }
    }

    fn exit_policy(&self) -> ExitPolicy {
        self.sh.plan.kernel.exit_policy
    }

    fn begin_joins(&mut self, _: i32) {}

    fn orphan_children(&mut self) {
        // The kernel reparents them when this process exits: init (the supervisor) adopts
        // and reaps them.
    }

    fn terminate(&mut self, code: i32) -> Ended {
        // `_exit` in a thread ends the whole process (`exit_group`): the thread says so first.
        threads::exit_group(self);
        let p = self.p();
        // Children never started vanish with their creator.
        let t = p.sh.now_us();
        let unstarted = std::mem::take(&mut p.unstarted);
        for &k in unstarted.iter() {
            p.send(Event::Discard {
                key: p.kids[k].key.clone(),
                t,
            });
        }
        p.send(Event::End {
            key: p.key.clone(),
            t: p.sh.now_us(),
            code,
        });
        p.flush_last();
        // SAFETY: _exit ends the process (every thread of it: exit_group) without running
        // destructors or atexit handlers, which belong to the process this one was forked
        // from.
        unsafe { libc::_exit(code) }
    }
}

/// The printing thread as the template renderer sees it.
struct Ctx<'a>(&'a mut Th);

impl RenderContext for Ctx<'_> {
    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError> {
        Ok(self.0.eval(e))
    }
    fn name(&self) -> String {
        self.0.pr().name.to_string()
    }
    fn pid(&self) -> u32 {
        getpid().as_raw() as u32
    }
    fn thread(&self) -> String {
        threads::current_name(self.0)
    }
    fn ppid(&self) -> u32 {
        let ppid = getppid().as_raw() as u32;
        if Some(ppid) == self.0.sh.init_pid {
            1
        } else {
            ppid
        }
    }
    fn tick(&self) -> u64 {
        self.0.sh.now_us()
    }
    fn handle_field(&mut self, h: HandleRef, field: HandleField) -> Result<String, PyError> {
        let target = self.0.lookup(h)?;
        // `exitcode` and `is_alive()` of one's own child poll it, which reaps it if it ended.
        if let Target::Other(Who::Kid(k)) = target
            && field_reaps(field)
            && k >= self.0.pr().first_own
        {
            self.0.reap_if_ended(Who::Kid(k));
        }
        let p = self.0.pr();
        let view = match target {
            Target::Me => HandleView {
                pid: Some(self.pid()),
                name: p.name.to_string(),
                exitcode: None,
                alive: true,
                daemon: p.daemon,
            },
            Target::Other(Who::Thread(i)) => {
                // A thread handle exists only once the process has a thread table.
                let view = p.threads.as_ref().map_or(
                    ThreadView {
                        name: String::new(),
                        alive: false,
                        daemon: false,
                    },
                    |t| ThreadView {
                        name: t.name(Some(i)),
                        alive: t.alive(i),
                        daemon: t.is_daemon(i),
                    },
                );
                return render_thread_field(&view, field);
            }
            Target::Other(Who::Kid(k)) => {
                let kid = &p.kids[k];
                // Ended but not reaped yet: read the status without reaping, as the
                // simulated kernel shows a zombie's exit code.
                let exitcode = kid.exitcode.or_else(|| {
                    kid.pidfd
                        .as_ref()
                        .and_then(|fd| pidfd::peek(fd.as_fd()))
                        .map(exitcode_of)
                });
                HandleView {
                    pid: kid.pid,
                    name: kid.name.to_string(),
                    alive: kid.started && exitcode.is_none(),
                    exitcode,
                    daemon: kid.daemon,
                }
            }
        };
        Ok(render_field(&view, field))
    }
}
