//! A real process as the process API's rules see it ([`Host`]): the rules decide, this
//! process carries them out with real time, `fork`, `kill` and `waitpid`. It blocks inside
//! the calls that wait, so it never gives up anything but at its end (`Yield` is
//! uninhabited: `terminate` is `_exit`).

use std::convert::Infallible;
use std::ops::ControlFlow::{self, Continue};
use std::os::fd::AsFd;
use std::sync::Arc;

use nix::unistd::{getpid, getppid};

use super::interp::{Proc, exitcode_of};
use super::pidfd;
use super::protocol::Event;
use crate::model::{Cause, Value};
use crate::process::{
    HandleFacts, HandleView, Host, Object, PyError, Target, field_reaps, render_field,
};
use crate::program::{
    CExpr, GlobalId, HandleField, HandleRef, NameId, RenderContext, Signal, SpawnOp, Template,
};
use crate::scenario::ExitPolicy;

impl Host for Proc {
    type Child = usize;
    type Yield = Infallible;

    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError> {
        Ok(Proc::eval(self, e))
    }

    fn not_defined(&self, name: NameId) -> PyError {
        Proc::not_defined(self, name)
    }

    fn advance(&mut self) {
        self.pc += 1;
    }

    fn jump(&mut self, pc: u32) {
        self.pc = pc as usize;
    }

    fn enter_loop(&mut self, n: u64) {
        self.loops.push(n);
        self.pc += 1;
    }

    fn end_loop(&mut self, start: u32) -> bool {
        match self.loops.last_mut() {
            Some(left) if *left > 1 => {
                *left -= 1;
                self.pc = start as usize + 1;
                true
            }
            _ => {
                self.loops.pop();
                self.pc += 1;
                false
            }
        }
    }

    fn counters(&mut self) -> &mut Vec<u64> {
        &mut self.counters
    }

    fn global_mut(&mut self, g: GlobalId) -> &mut Value {
        &mut self.globals[g as usize]
    }

    fn global_changed(&mut self, g: GlobalId) {
        self.send(Event::Global {
            key: self.key.clone(),
            index: g,
            value: self.globals[g as usize].clone(),
        });
    }

    fn render(&mut self, t: &Template) -> Result<String, PyError> {
        t.render(&mut Ctx(self))
    }

    fn output(&mut self, line: String) {
        Proc::output(self, line);
    }

    fn error(&mut self, line: String) {
        Proc::error(self, line);
    }

    fn objects(&mut self) -> &mut Vec<Object> {
        &mut self.objects
    }

    fn halted(&mut self) -> Option<Infallible> {
        None
    }

    fn compute(&mut self, n: u64) -> ControlFlow<Infallible> {
        self.pc += 1;
        self.burn(n);
        Continue(())
    }

    fn block_for(&mut self, cause: Cause, n: u64) -> ControlFlow<Infallible> {
        Proc::block_for(self, cause, n);
        Continue(())
    }

    fn is_daemon(&self) -> bool {
        self.daemon
    }

    fn lookup(&self, h: HandleRef) -> Result<Target<usize>, PyError> {
        Ok(match h {
            HandleRef::Current => Target::Me,
            HandleRef::Named(name) => match self.handle(name) {
                Some(k) if Some(k) == self.me => Target::Me,
                Some(k) => Target::Other(k),
                None => return Err(Proc::not_defined(self, name)),
            },
        })
    }

    fn facts(&self, k: usize) -> HandleFacts {
        HandleFacts {
            is_self: false,
            // `kids[..first_own]` came with the fork: the parent's children, not ours.
            is_child: k >= self.first_own,
            started: self.kids[k].started,
            caller_daemon: false,
            // The fork backend refuses scenarios with threads (SPEC §4a: not yet there).
            is_thread: false,
        }
    }

    fn spawn(
        &mut self,
        spec: &SpawnOp,
        args: Vec<Value>,
        kwargs: Vec<(Arc<str>, Value)>,
    ) -> Result<usize, PyError> {
        Proc::spawn(self, spec, args, kwargs)
    }

    fn start(&mut self, k: usize) -> Result<(), PyError> {
        Proc::start(self, k)
    }

    fn join(&mut self, k: usize, timeout: Option<u64>) -> ControlFlow<Infallible> {
        Proc::join(self, k, timeout);
        Continue(())
    }

    fn wait_any(&mut self) -> ControlFlow<Infallible, usize> {
        Continue(Proc::wait_any(self))
    }

    fn bind_handle(&mut self, name: NameId, k: usize) {
        Proc::bind_handle(self, name, k);
    }

    fn send_signal(&mut self, k: usize, sig: Signal) -> bool {
        self.signal(k, sig)
    }

    fn own_name(&self) -> String {
        self.name.clone()
    }

    fn child_name(&self, k: usize) -> String {
        self.kids[k].name.clone()
    }

    fn note(&mut self, text: String) {
        self.send(Event::Note {
            t: self.sh.now_us(),
            text,
        });
    }

    fn live_children(&self) -> Vec<usize> {
        self.live_kids()
    }

    fn reap_if_ended(&mut self, k: usize) -> bool {
        let kid = &self.kids[k];
        let ended = !kid.reaped
            && kid
                .pidfd
                .as_ref()
                .is_some_and(|fd| pidfd::has_ended(fd.as_fd()));
        if ended {
            self.reap(k);
        }
        ended
    }

    fn child_is_daemon(&self, k: usize) -> bool {
        self.kids[k].daemon
    }

    fn exit_policy(&self) -> ExitPolicy {
        self.sh.plan.kernel.exit_policy
    }

    fn begin_joins(&mut self, _: i32) {}

    fn orphan_children(&mut self) {
        // The kernel reparents them when this process exits: init (the supervisor) adopts
        // and reaps them.
    }

    fn terminate(&mut self, code: i32) -> Infallible {
        // Children never started vanish with their creator.
        let t = self.sh.now_us();
        for k in std::mem::take(&mut self.unstarted) {
            self.send(Event::Discard {
                key: self.kids[k].key.clone(),
                t,
            });
        }
        self.send(Event::End {
            key: self.key.clone(),
            t: self.sh.now_us(),
            code,
        });
        self.flush();
        // SAFETY: _exit ends the process without running destructors or atexit handlers,
        // which belong to the process this one was forked from.
        unsafe { libc::_exit(code) }
    }
}

/// The printing process as the template renderer sees it.
struct Ctx<'a>(&'a mut Proc);

impl RenderContext for Ctx<'_> {
    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError> {
        Ok(self.0.eval(e))
    }
    fn name(&self) -> String {
        self.0.name.clone()
    }
    fn pid(&self) -> u32 {
        getpid().as_raw() as u32
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
        // `exitcode` and `is_alive()` of one's own child poll it, which reaps it if it ended.
        if let Target::Other(k) = self.0.lookup(h)?
            && field_reaps(field)
            && k >= self.0.first_own
        {
            self.0.reap_if_ended(k);
        }
        let p = &*self.0;
        let view = match p.lookup(h)? {
            Target::Me => HandleView {
                pid: Some(self.pid()),
                name: p.name.clone(),
                exitcode: None,
                alive: true,
                daemon: p.daemon,
            },
            Target::Other(k) => {
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
                    name: kid.name.clone(),
                    alive: kid.started && exitcode.is_none(),
                    exitcode,
                    daemon: kid.daemon,
                }
            }
        };
        Ok(render_field(&view, field))
    }
}
