//! The interpreter each real process of a run executes for its own program, and the process
//! API on real processes: `start` is `fork()`, `join` waits on a pidfd, `kill`/`terminate` are
//! `pidfd_send_signal`, `cpu` burns CPU time and `io`/`sleep` really sleep.
//!
//! Every process reports what it does as [`Event`]s at its instruction boundaries: its state
//! changes (with the ready/running split read from schedstat, see [`super::observe`]), each
//! output line, each change to a global. A process ends only through `_exit`, after it sent
//! its last event, so nothing buffered is lost or written twice by a later fork.
//!
//! The semantics (names, argument binding, Python's error messages, exit policies,
//! finalizers) are the simulated kernel's: both call the helpers of [`crate::program`].

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

use nix::unistd::{ForkResult, fork, getpid, getppid};

use super::channel::Sender;
use super::observe::{self, SchedStat, SelfStat};
use super::pidfd;
use super::policy::{Held, RealSched};
use super::protocol::{Event, Key, Status, child_key};
use super::slots::Slots;
use crate::model::{Cause, State, Value};
use crate::program::{
    CExpr, HandleFacts, HandleField, HandleRef, HandleUse, NameId, Op, Plan, ProgramId,
    RenderContext, Signal, SpawnOp, apply_assign, bind, check_handle_use, child_name, exit_status,
    ticks,
};
use crate::scenario::ExitPolicy;
use crate::sim::rng::SeededRng;

/// What every process of a run shares: set up by the supervisor, copied by each fork.
pub struct Shared {
    /// The scenario.
    pub plan: Arc<Plan>,
    /// Where events go.
    pub tx: Sender,
    /// The `max_processes` counter.
    pub slots: Slots,
    /// The run's time zero (monotonic nanoseconds).
    pub epoch_ns: u64,
    /// Nanoseconds a tick stands for.
    pub tick_ns: u64,
    /// Subreaper mode: the read end of the lifeline pipe, which reports a hang-up when the
    /// supervisor is gone.
    pub lifeline: Option<OwnedFd>,
    /// Subreaper mode: the supervisor's pid, which stands for init (`{ppid}` prints 1).
    pub init_pid: Option<u32>,
    /// The real policy each process takes for the scenario's (see [`super::policy`]).
    pub sched: Arc<RealSched>,
}

/// A top-level process as the supervisor forks it.
pub struct TopLevelStart {
    /// Its key.
    pub key: Key,
    /// Its name.
    pub name: String,
    /// Its program.
    pub program: ProgramId,
    /// Its positional arguments.
    pub args: Vec<Value>,
    /// Its keyword arguments.
    pub kwargs: Vec<(Arc<str>, Value)>,
    /// When it arrives, µs after the run's epoch.
    pub arrival_us: u64,
    /// Its copy of the seeded generator.
    pub rng: SeededRng,
    /// Its scheduling priority (SPEC section 3a; default 0).
    pub priority: i64,
    /// Its nice value (default 0).
    pub nice: i64,
    /// The policy and nice value it took right after the fork.
    pub held: Held,
    /// What the kernel refused it then, to report.
    pub refused: Vec<String>,
}

impl Shared {
    /// Microseconds since the run's epoch.
    pub fn now_us(&self) -> u64 {
        observe::mono_ns().saturating_sub(self.epoch_ns) / 1000
    }

    fn us_of(&self, mono_ns: u64) -> u64 {
        mono_ns.saturating_sub(self.epoch_ns) / 1000
    }
}

/// What a process knows about a process a handle names.
struct Kid {
    key: Key,
    name: String,
    program: ProgramId,
    daemon: bool,
    identity: Vec<u32>,
    started: bool,
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
    pid: Option<u32>,
    pidfd: Option<OwnedFd>,
    /// Its scheduling attributes: what its `spawn` gave, else its creator's.
    priority: i64,
    nice: i64,
    /// Its exit code once reaped.
    exitcode: Option<i64>,
    reaped: bool,
}

/// What a handle resolved to.
enum Target {
    Me,
    Kid(usize),
}

/// The state of one running process of the scenario.
pub struct Proc {
    sh: Shared,
    key: Key,
    name: String,
    program: ProgramId,
    daemon: bool,
    identity: Vec<u32>,
    spawned: u32,
    pc: usize,
    loops: Vec<u64>,
    params: Vec<Value>,
    pending: Option<(Vec<Value>, Kwargs)>,
    globals: Vec<Value>,
    objects: Vec<(NameId, Option<Arc<str>>)>,
    handles: Vec<(NameId, usize)>,
    kids: Vec<Kid>,
    /// The entry in `kids` that is this process itself (a handle inherited from the parent).
    me: Option<usize>,
    /// `kids[..first_own]` came with the fork (they name the parent's children, not ours).
    /// An index rather than a flag in each entry: writing every inherited entry would copy
    /// every page of them, a cost that grows with the number of children a parent made.
    first_own: usize,
    /// Own children started and not reaped yet, in creation order, and own children not
    /// started yet: kept apart so that nothing a process does costs more the more children
    /// it has made before (a fork copies the list of every one of them).
    live: Vec<usize>,
    unstarted: Vec<usize>,
    rng: SeededRng,
    /// Its scheduling attributes (SPEC section 3a), and what it really holds.
    priority: i64,
    nice: i64,
    held: Held,
    steps: u64,
    stat: SelfStat,
    t_admit: u64,
    /// Events not sent yet. A process sends what it has queued in one datagram wherever
    /// time can pass (before a fork, a CPU burst, a sleep or wait, its exit): between two
    /// such points it runs only instructions that take no time in the model, so a kill
    /// cannot land between them there, and one datagram instead of one an event is most of
    /// a fork's reporting cost.
    queue: std::cell::RefCell<Vec<Event>>,
}

type PyResult<T> = Result<T, String>;
/// Keyword arguments, in the order written.
type Kwargs = Vec<(Arc<str>, Value)>;

/// `BlockingIOError`, as Python's `os.fork()` raises it when the process limit is reached.
const EAGAIN: &str = "BlockingIOError: [Errno 11] Resource temporarily unavailable";

impl Proc {
    /// Runs a top-level process in the child the supervisor just forked (which has taken its
    /// scheduling policy already): waits for its arrival, then runs its program. Never
    /// returns.
    pub fn run_top_level(sh: Shared, start: TopLevelStart) -> ! {
        let TopLevelStart {
            key,
            name,
            program,
            args,
            kwargs,
            arrival_us,
            rng,
            priority,
            nice,
            held,
            refused,
        } = start;
        set_comm(&name);
        let globals = sh.plan.globals.iter().map(|(_, v)| v.clone()).collect();
        let deadline = sh.epoch_ns + arrival_us * 1000;
        let mut p = Proc {
            key,
            name,
            program,
            daemon: false,
            identity: Vec::new(),
            spawned: 0,
            pc: 0,
            loops: Vec::new(),
            params: Vec::new(),
            pending: Some((args, kwargs)),
            globals,
            objects: Vec::new(),
            handles: Vec::new(),
            kids: Vec::new(),
            me: None,
            first_own: 0,
            live: Vec::new(),
            unstarted: Vec::new(),
            rng,
            priority,
            nice,
            held,
            steps: 0,
            stat: SelfStat::lazy(),
            t_admit: arrival_us,
            queue: std::cell::RefCell::new(Vec::with_capacity(64)),
            sh,
        };
        for message in refused {
            p.send(Event::Refused {
                key: p.key.clone(),
                message,
            });
        }
        if !observe::sleep_until(deadline, p.sh.lifeline.as_ref()) {
            p.abandon();
        }
        p.run()
    }

    /// Runs the program from the top. Never returns: the process ends in `_exit`.
    fn run(&mut self) -> ! {
        let t = self.sh.now_us();
        self.send(Event::Run {
            key: self.key.clone(),
            pid: getpid().as_raw() as u32,
            t_admit: self.t_admit,
            t,
        });
        let plan = Arc::clone(&self.sh.plan);
        let code = &plan.programs[self.program as usize];
        let (args, kwargs) = self.pending.take().unwrap_or_default();
        match bind(code, args, kwargs) {
            Ok(params) => self.params = params,
            Err(e) => self.fail(e),
        }
        let max_steps = plan.kernel.max_steps;
        loop {
            self.steps += 1;
            if self.steps > max_steps {
                self.limit(format!(
                    "stopped: {} executed kernel.max_steps ({max_steps}) instructions; a loop may never let time pass (raise max_steps if the work is real)",
                    self.name
                ));
            }
            let Some(op) = code.ops.get(self.pc) else {
                self.end(0);
            };
            if let Err(e) = self.exec(op) {
                self.fail(e);
            }
            if let Some(l) = &self.sh.lifeline
                && observe::signalled(l)
            {
                self.abandon();
            }
        }
    }

    fn exec(&mut self, op: &Op) -> PyResult<()> {
        match op {
            Op::Cpu(e) => {
                let n = self.ticks(e, "cpu")?;
                self.pc += 1;
                if n > 0 {
                    self.burn(n);
                }
            }
            Op::Io(e) | Op::Sleep(e) => {
                let (cause, what) = match op {
                    Op::Io(_) => (Cause::Io, "io"),
                    _ => (Cause::Sleep, "sleep"),
                };
                let n = self.ticks(e, what)?;
                self.pc += 1;
                if n > 0 {
                    self.block_for(cause, n);
                }
            }
            Op::Loop { times, end } => {
                let n = self.ticks(times, "repeat times")?;
                if n == 0 {
                    self.pc = *end as usize;
                } else {
                    self.loops.push(n);
                    self.pc += 1;
                }
            }
            Op::EndLoop { start } => match self.loops.last_mut() {
                Some(left) if *left > 1 => {
                    *left -= 1;
                    self.pc = *start as usize + 1;
                }
                _ => {
                    self.loops.pop();
                    self.pc += 1;
                }
            },
            Op::Spawn { spec, start } => {
                let k = self.spawn(spec)?;
                if *start {
                    self.start(k)?;
                }
                self.pc += 1;
            }
            Op::Start(h) => {
                match self.resolve(*h, HandleUse::Start)? {
                    Target::Kid(k) => self.start(k)?,
                    // check_handle_use never lets a process start itself.
                    Target::Me => {}
                }
                self.pc += 1;
            }
            Op::Join(h) => {
                if let Target::Kid(k) = self.resolve(*h, HandleUse::Join)? {
                    self.join(k);
                }
                self.pc += 1;
            }
            Op::Wait(bind_to) => {
                let k = self.wait_any()?;
                if let Some(name) = bind_to {
                    self.bind_handle(*name, k);
                }
                self.pc += 1;
            }
            Op::Signal(h, sig) => {
                if let Target::Kid(k) = self.resolve(*h, HandleUse::Signal(*sig))? {
                    self.signal(k, *sig);
                }
                self.pc += 1;
            }
            Op::Assign(kind, g, e) => {
                let value = self.eval(e)?;
                apply_assign(*kind, &mut self.globals[*g as usize], value)?;
                self.send(Event::Global {
                    key: self.key.clone(),
                    index: *g,
                    value: self.globals[*g as usize].clone(),
                });
                self.pc += 1;
            }
            Op::Print(template) => {
                let line = template.render(&mut Ctx(self))?;
                self.output(line);
                self.pc += 1;
            }
            Op::New(name, finalizer) => {
                self.objects.push((*name, finalizer.clone()));
                // Rebinding a name drops the object it held before, as `o = Obj()` does.
                let held = self.objects.len() - 1;
                if let Some(old) = self.objects[..held].iter().position(|(n, _)| n == name) {
                    let (_, fin) = self.objects.remove(old);
                    if let Some(text) = fin {
                        self.output(text.to_string());
                    }
                }
                self.pc += 1;
            }
            Op::Drop(name) => {
                let Some(i) = self.objects.iter().rposition(|(n, _)| n == name) else {
                    return Err(self.not_defined(*name));
                };
                let (_, fin) = self.objects.remove(i);
                if let Some(text) = fin {
                    self.output(text.to_string());
                }
                self.pc += 1;
            }
            Op::Exit(e) => {
                let (code, message) = exit_status(self.eval(e)?);
                if let Some(message) = message {
                    self.error(message);
                }
                self.end(code);
            }
            Op::Fail(message) => return Err(message.to_string()),
        }
        Ok(())
    }

    // ---- values ------------------------------------------------------------------------

    fn eval(&mut self, e: &CExpr) -> PyResult<Value> {
        Ok(match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Param(i) => self.params.get(*i as usize).cloned().unwrap_or(Value::None),
            CExpr::Global(g) => self.globals[*g as usize].clone(),
            CExpr::Uniform(lo, hi) => Value::Int(self.rng.uniform(*lo, *hi)),
        })
    }

    fn ticks(&mut self, e: &CExpr, what: &str) -> PyResult<u64> {
        if let CExpr::Lit(Value::Int(i)) = e
            && *i >= 0
        {
            return Ok(*i as u64);
        }
        let v = self.eval(e)?;
        ticks(v, what)
    }

    fn not_defined(&self, name: NameId) -> String {
        format!(
            "NameError: name '{}' is not defined",
            self.sh.plan.names[name as usize]
        )
    }

    // ---- reporting ---------------------------------------------------------------------

    /// Queues an event (see [`Proc::flush`]).
    fn send(&self, e: Event) {
        let full = {
            let mut q = self.queue.borrow_mut();
            q.push(e);
            q.len() >= 64
        };
        if full {
            self.flush();
        }
    }

    /// Sends the queued events, in one datagram. The queue keeps its allocation: every page
    /// a process writes between two forks is copied again after the next one, so the hot
    /// path reuses its buffers rather than allocating new ones.
    fn flush(&self) {
        let mut q = self.queue.borrow_mut();
        if q.is_empty() {
            return;
        }
        let sent = self.sh.tx.send_all(&q);
        q.clear();
        drop(q);
        if sent.is_err() {
            // The supervisor is gone: nobody is left to report to, and nothing may outlive
            // the run.
            self.abandon();
        }
    }

    fn output(&self, line: String) {
        self.send(Event::Output {
            key: self.key.clone(),
            line,
        });
    }

    fn error(&self, message: String) {
        self.send(Event::Error {
            key: self.key.clone(),
            message,
        });
    }

    fn trans(&self, t: u64, to: State, cause: Cause) {
        self.send(Event::Trans {
            key: self.key.clone(),
            t,
            to,
            cause,
        });
    }

    /// `running → blocked`; returns the schedstat to compare with after the wake-up.
    fn block(&self, cause: Cause) -> SchedStat {
        self.trans(self.sh.now_us(), State::Blocked, cause);
        self.flush();
        self.stat.read()
    }

    /// `blocked → ready → running` after a wake-up: the run-queue delay that grew meanwhile
    /// is the time spent `ready`.
    fn wake(&self, cause: Cause, before: SchedStat) {
        let now = observe::mono_ns();
        let waited = self.stat.read().wait_ns.saturating_sub(before.wait_ns);
        self.send(Event::Resume {
            key: self.key.clone(),
            t_ready: self.sh.us_of(now.saturating_sub(waited)),
            t: self.sh.us_of(now),
            cause,
        });
    }

    // ---- time --------------------------------------------------------------------------

    fn burn(&mut self, n: u64) {
        let ns = n.saturating_mul(self.sh.tick_ns);
        self.flush();
        let this = &*self;
        let finished = observe::burn(
            ns,
            &this.stat,
            |off, back| {
                this.send(Event::Resume {
                    key: this.key.clone(),
                    t_ready: this.sh.us_of(off),
                    t: this.sh.us_of(back),
                    cause: Cause::Preempt,
                });
                this.flush();
            },
            || this.sh.lifeline.as_ref().is_some_and(observe::signalled),
        );
        if !finished {
            self.abandon();
        }
    }

    fn block_for(&mut self, cause: Cause, n: u64) {
        let before = self.block(cause);
        let deadline = observe::mono_ns().saturating_add(n.saturating_mul(self.sh.tick_ns));
        if !observe::sleep_until(deadline, self.sh.lifeline.as_ref()) {
            self.abandon();
        }
        let done = if cause == Cause::Io {
            Cause::IoDone
        } else {
            Cause::Wake
        };
        self.wake(done, before);
    }

    // ---- handles -----------------------------------------------------------------------

    fn resolve(&self, h: HandleRef, purpose: HandleUse) -> PyResult<Target> {
        let target = match h {
            HandleRef::Current => Target::Me,
            HandleRef::Named(name) => match self.handle(name) {
                Some(k) if Some(k) == self.me => Target::Me,
                Some(k) => Target::Kid(k),
                None => return Err(self.not_defined(name)),
            },
        };
        let facts = match &target {
            Target::Me => HandleFacts {
                is_self: true,
                is_child: false,
                started: true,
                caller_daemon: self.daemon,
            },
            Target::Kid(k) => HandleFacts {
                is_self: false,
                is_child: *k >= self.first_own,
                started: self.kids[*k].started,
                caller_daemon: self.daemon,
            },
        };
        check_handle_use(purpose, facts)?;
        Ok(target)
    }

    fn handle(&self, name: NameId) -> Option<usize> {
        self.handles
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    fn bind_handle(&mut self, name: NameId, k: usize) {
        match self.handles.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = k,
            None => self.handles.push((name, k)),
        }
    }

    /// Started children not yet reaped, in creation order.
    fn live_kids(&self) -> Vec<usize> {
        self.live.clone()
    }

    // ---- the process API ---------------------------------------------------------------

    /// `multiprocessing.Process(...)`: a child in `new`. It takes a `max_processes` slot now,
    /// where the simulated kernel allocates its pid.
    fn spawn(&mut self, spec: &SpawnOp) -> PyResult<usize> {
        if !self.sh.slots.take() {
            return Err(EAGAIN.into());
        }
        let evaluated = (|| {
            let args = spec
                .args
                .iter()
                .map(|a| self.eval(a))
                .collect::<PyResult<Vec<_>>>()?;
            let kwargs = spec
                .kwargs
                .iter()
                .map(|(k, v)| Ok((Arc::clone(k), self.eval(v)?)))
                .collect::<PyResult<Vec<_>>>()?;
            Ok((args, kwargs))
        })();
        let (args, kwargs) = match evaluated {
            Ok(x) => x,
            Err(e) => {
                self.sh.slots.give_back(1);
                return Err(e);
            }
        };
        self.spawned += 1;
        let mut identity = self.identity.clone();
        identity.push(self.spawned);
        let name = match &spec.name {
            Some(n) => n.to_string(),
            None => child_name(&identity),
        };
        let key = child_key(&self.key, self.spawned);
        let daemon = spec.daemon.unwrap_or(self.daemon);
        self.send(Event::Spawn {
            key: key.clone(),
            creator: Some(self.key.clone()),
            name: name.clone(),
            program: spec.program,
            daemon,
            t: self.sh.now_us(),
        });
        self.kids.push(Kid {
            key,
            name,
            program: spec.program,
            daemon,
            identity,
            started: false,
            args,
            kwargs,
            pid: None,
            pidfd: None,
            priority: spec.attrs.priority.unwrap_or(self.priority),
            nice: spec.attrs.nice.unwrap_or(self.nice),
            exitcode: None,
            reaped: false,
        });
        let k = self.kids.len() - 1;
        self.unstarted.push(k);
        self.bind_handle(spec.handle, k);
        Ok(k)
    }

    /// `Process.start()`: a real `fork()`. The child gets a copy of everything (globals,
    /// objects, handles) because that is what a fork does.
    fn start(&mut self, k: usize) -> PyResult<()> {
        let t_admit = self.sh.now_us();
        // Send what is queued first, so the fork cannot duplicate unsent events.
        self.flush();
        // SAFETY: every process of a run is single-threaded (the supervisor that forked the
        // first of them is), so the child may run any code.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                self.become_child(k, t_admit);
                self.run()
            }
            Ok(ForkResult::Parent { child }) => {
                let kid = &mut self.kids[k];
                kid.started = true;
                kid.pid = Some(child.as_raw() as u32);
                kid.pidfd = pidfd::open(child.as_raw()).ok();
                let ev = Event::Started {
                    key: kid.key.clone(),
                    pid: child.as_raw() as u32,
                    t_admit,
                };
                if kid.pidfd.is_none() {
                    self.send(Event::Fault {
                        key: Some(self.key.clone()),
                        message: "pidfd_open failed; this child cannot be watched".into(),
                    });
                }
                self.send(ev);
                self.unstarted.retain(|x| *x != k);
                // Kept in creation order, as the exit policy joins in that order.
                let at = self.live.partition_point(|x| *x < k);
                self.live.insert(at, k);
                Ok(())
            }
            Err(_) => Err(EAGAIN.into()),
        }
    }

    /// In the child of a fork: become the process `kids[k]` described.
    fn become_child(&mut self, k: usize, t_admit: u64) {
        let kid = &mut self.kids[k];
        set_comm(&kid.name);
        self.key = kid.key.clone();
        self.name = kid.name.clone();
        self.program = kid.program;
        self.daemon = kid.daemon;
        self.identity = std::mem::take(&mut kid.identity);
        self.pending = Some((
            std::mem::take(&mut kid.args),
            std::mem::take(&mut kid.kwargs),
        ));
        kid.pid = Some(getpid().as_raw() as u32);
        kid.started = true;
        self.spawned = 0;
        self.pc = 0;
        self.loops.clear();
        self.params.clear();
        self.steps = 0;
        self.t_admit = t_admit;
        self.me = Some(k);
        // The handles the fork copied name the parent's children: siblings, not ours. Their
        // pidfds (duplicated by the fork) are closed so only their parent watches them.
        self.first_own = self.kids.len();
        for i in std::mem::take(&mut self.live) {
            self.kids[i].pidfd = None;
        }
        self.unstarted.clear();
        self.stat = SelfStat::lazy();
        self.priority = self.kids[k].priority;
        self.nice = self.kids[k].nice;
        // The kernel gave it its creator's policy and nice, as the model gives unset
        // attributes; it changes what the scenario gives it otherwise, before its program.
        self.take_policy();
    }

    /// Takes the real policy and nice value for this process's attributes, where they differ
    /// from what it holds, and reports what the kernel refused.
    fn take_policy(&mut self) {
        for message in self
            .sh
            .sched
            .apply(&mut self.held, self.priority, self.nice)
        {
            self.send(Event::Refused {
                key: self.key.clone(),
                message,
            });
        }
    }

    /// `Process.join()`: no block if the child has already ended.
    fn join(&mut self, k: usize) {
        if self.kids[k].reaped {
            return;
        }
        let ended = self.kids[k]
            .pidfd
            .as_ref()
            .is_none_or(|fd| pidfd::has_ended(fd.as_fd()));
        if !ended {
            let before = self.block(Cause::Join);
            self.wait_for(&[k]);
            self.reap(k);
            self.wake(Cause::ChildExit, before);
            return;
        }
        self.reap(k);
    }

    /// `wait`: the first child to have ended (in creation order when several have), or block
    /// until one does.
    fn wait_any(&mut self) -> PyResult<usize> {
        let live = self.live_kids();
        if live.is_empty() {
            return Err("ChildProcessError: [Errno 10] No child processes".into());
        }
        let ended = live.iter().copied().find(|&k| {
            self.kids[k]
                .pidfd
                .as_ref()
                .is_none_or(|fd| pidfd::has_ended(fd.as_fd()))
        });
        if let Some(k) = ended {
            self.reap(k);
            return Ok(k);
        }
        let before = self.block(Cause::Wait);
        let k = self.wait_for(&live);
        self.reap(k);
        self.wake(Cause::ChildExit, before);
        Ok(k)
    }

    /// Blocks until one of `ks` has ended and returns it.
    fn wait_for(&self, ks: &[usize]) -> usize {
        let fds: Vec<BorrowedFd<'_>> = ks
            .iter()
            .filter_map(|&k| self.kids[k].pidfd.as_ref().map(|f| f.as_fd()))
            .collect();
        if fds.len() != ks.len() {
            // A child without a pidfd cannot be watched; take it as ended (reap will wait).
            return ks[0];
        }
        let lifeline = self.sh.lifeline.as_ref().map(|l| l.as_fd());
        match pidfd::wait_any(&fds, lifeline, None) {
            Some(i) => ks[i],
            None => self.abandon(),
        }
    }

    /// Reaps child `k`, which has ended, after reading what the kernel counted for it.
    fn reap(&mut self, k: usize) {
        let kid = &mut self.kids[k];
        // Never 0: wait4(0) would mean any child of the group.
        let Some(pid) = kid.pid.filter(|p| *p > 0) else {
            return;
        };
        // Read while it is a zombie: until this process reaps it, the pid is still this
        // child's, and only this process can reap it.
        let (status, figures) = observe::reap_zombie(pid as i32);
        // The pidfd goes only now, so the pid was never free while it was open.
        kid.pidfd = None;
        let t = self.sh.now_us();
        kid.reaped = true;
        self.live.retain(|x| *x != k);
        kid.exitcode = status.map(exitcode_of);
        self.sh.slots.give_back(1);
        let ev = Event::Reaped {
            key: Some(kid.key.clone()),
            pid,
            t,
            by_init: false,
            status: status.unwrap_or(Status::Exited(0)),
            figures,
        };
        self.send(ev);
    }

    /// Sends SIGKILL or SIGTERM to child `k` and waits until it has ended, as the simulated
    /// kernel ends a signalled process at once. A child that has already ended is left
    /// alone (a signal to a zombie does nothing).
    fn signal(&mut self, k: usize, sig: Signal) {
        let kid = &self.kids[k];
        let Some(fd) = kid.pidfd.as_ref().filter(|_| !kid.reaped) else {
            return;
        };
        if pidfd::has_ended(fd.as_fd()) {
            return;
        }
        if pidfd::send_signal(fd.as_fd(), sig.number()).is_err() {
            return;
        }
        let lifeline = self.sh.lifeline.as_ref().map(|l| l.as_fd());
        // SIGKILL and SIGTERM (no process of a run handles it) end a process within
        // microseconds; the bound only keeps a wedged kernel from hanging the run.
        if pidfd::wait_any(&[fd.as_fd()], lifeline, Some(10_000)).is_some() {
            self.send(Event::Signalled {
                key: kid.key.clone(),
                t: self.sh.now_us(),
            });
        }
    }

    // ---- ending ------------------------------------------------------------------------

    /// Ends as an uncaught exception does: the message, then exit code 1.
    fn fail(&mut self, message: String) -> ! {
        self.error(message);
        self.end(1)
    }

    /// The process finished its program, called `exit`, or raised an error: finalizers,
    /// the exit policy, then `_exit`.
    fn end(&mut self, code: i32) -> ! {
        // Objects go first, newest first, each printing its finalizer in this process.
        for (_, fin) in std::mem::take(&mut self.objects).into_iter().rev() {
            if let Some(text) = fin {
                self.output(text.to_string());
            }
        }
        for k in self.live_kids() {
            if self.kids[k].daemon {
                self.signal(k, Signal::Term);
            }
        }
        if self.sh.plan.kernel.exit_policy == ExitPolicy::Multiprocessing {
            for k in self.live_kids() {
                self.join(k);
            }
        }
        // Under the posix policy the live children are orphans now: init (the supervisor)
        // adopts and reaps them. Children never started vanish with their creator.
        let t = self.sh.now_us();
        for k in std::mem::take(&mut self.unstarted) {
            self.sh.slots.give_back(1);
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

    /// A limit stopped the run: say so and wait for the supervisor to end everything.
    fn limit(&self, message: String) -> ! {
        self.send(Event::Limit {
            key: self.key.clone(),
            message,
        });
        self.flush();
        loop {
            match &self.sh.lifeline {
                Some(l) => {
                    observe::sleep_until(u64::MAX, Some(l));
                    self.abandon();
                }
                None => {
                    nix::unistd::pause();
                }
            }
        }
    }

    /// The supervisor is gone or stopping the run: leave at once, as a killed process would.
    fn abandon(&self) -> ! {
        // SAFETY: see `end`.
        unsafe { libc::_exit(128 + libc::SIGKILL) }
    }
}

/// `Process.exitcode` of a reaped child.
fn exitcode_of(s: Status) -> i64 {
    match s {
        Status::Exited(c) => i64::from(c),
        Status::Signaled(n) => -i64::from(n),
    }
}

/// Sets the name `ps` shows (the kernel keeps 15 bytes).
fn set_comm(name: &str) {
    let mut bytes: Vec<u8> = name.bytes().filter(|b| *b != 0).collect();
    bytes.truncate(15);
    if let Ok(c) = std::ffi::CString::new(bytes) {
        let _ = nix::sys::prctl::set_name(&c);
    }
}

/// The printing process as the template renderer sees it.
struct Ctx<'a>(&'a mut Proc);

impl RenderContext for Ctx<'_> {
    fn eval(&mut self, e: &CExpr) -> PyResult<Value> {
        self.0.eval(e)
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
    fn handle_field(&mut self, h: HandleRef, field: HandleField) -> PyResult<String> {
        let p = &*self.0;
        let target = match h {
            HandleRef::Current => None,
            HandleRef::Named(name) => match p.handle(name) {
                Some(k) if Some(k) == p.me => None,
                Some(k) => Some(&p.kids[k]),
                None => return Err(p.not_defined(name)),
            },
        };
        Ok(match (target, field) {
            (None, HandleField::Pid) => self.pid().to_string(),
            (None, HandleField::Name) => p.name.clone(),
            (None, HandleField::Exitcode) => "None".into(),
            (Some(kid), HandleField::Pid) => {
                kid.pid.map_or_else(|| "None".into(), |pid| pid.to_string())
            }
            (Some(kid), HandleField::Name) => kid.name.clone(),
            (Some(kid), HandleField::Exitcode) => {
                // Ended but not reaped yet: read the status without reaping, as the simulated
                // kernel shows a zombie's exit code.
                let code = kid.exitcode.or_else(|| {
                    kid.pidfd
                        .as_ref()
                        .and_then(|fd| pidfd::peek(fd.as_fd()))
                        .map(exitcode_of)
                });
                code.map_or_else(|| "None".into(), |c| c.to_string())
            }
        })
    }
}
