//! The supervisor: the one process that forks a run's top-level processes, adopts and reaps
//! its orphans (it is the model's init), enforces the limits and the timeout, relays every
//! event to the CLI as a JSON line on its stdout, and makes sure nothing of the run survives.
//!
//! It runs as `procsim __supervise`, a process of its own, because it must be single-threaded
//! when it forks: a child forked from a multi-threaded process (the CLI, a test harness) may
//! inherit a lock another thread held and hang. It reads one [`Setup`] line on stdin and then
//! keeps stdin open as its lifeline: end of file means the CLI is gone, and the run is killed;
//! a line `stop` asks for a graceful stop (SIGTERM to every process of the run, SIGKILL after
//! the grace period).
//!
//! **Isolation.** First choice: `unshare(CLONE_NEWPID | CLONE_NEWNS)`, then one fork, so the
//! supervisor is pid 1 of a new PID namespace with its own `/proc`: orphans are reparented to
//! it as to init in the model, pids count from 2 as in the model, `kill(-1, …)` reaches exactly
//! the run's processes, and when the supervisor dies the kernel kills everything in the
//! namespace. The process that called `unshare` stays outside as a shim that only waits.
//! Where the kernel refuses (no privilege, no namespaces), the fallback is
//! `PR_SET_CHILD_SUBREAPER` (orphans come to the supervisor), one process group for the run
//! (so it can be signalled as a whole), `PR_SET_PDEATHSIG` on the top-level processes, and a
//! lifeline pipe that every process polls at each instruction and while it waits. The report
//! says which mode ran ([`crate::report::RealRun::isolation`]).
//!
//! The stages: this file sets the run up and forks its top-level processes; `event_loop.rs`
//! takes events, reaps, watches the fences and stops the run; `outside.rs` sends the
//! scenario's outside signals.

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;

use nix::sys::signal::{SigSet, SigmaskHow, Signal as NixSignal, kill, sigprocmask};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe2, setpgid};

mod event_loop;
mod outside;

use super::channel::{self, Receiver};
use super::fence::{self, RunCgroup};
use super::interp::{Proc, Shared, TopLevelStart};
use super::isolate::{Input, Isolation};
use super::observe;
use super::policy;
use super::protocol::{Event, Key, Setup, Status};
use super::slots::Slots;
use super::start::{ChildFds, child_setup, pick_cpus, rr_quantum_us};
use crate::model::Value;
use crate::program::{CExpr, Plan, top_level_name};
use crate::sim::rng::SeededRng;
/// Entry point of `procsim __supervise` (see [`super::isolate`]). Returns the process's
/// exit code.
pub fn main() -> i32 {
    super::isolate::main()
}

/// What the supervisor knows about each process of the run.
#[derive(Default)]
struct Known {
    by_pid: HashMap<u32, Key>,
    /// key → name, for the outside signals (`events`), which name their target.
    names: HashMap<Key, String>,
    /// key → (creator, started, ended)
    procs: HashMap<Key, (Option<Key>, bool, bool)>,
    order: Vec<Key>,
}

struct Supervisor {
    setup_tick_us: u64,
    timeout_ms: Option<u64>,
    grace_ms: u64,
    plan: Arc<Plan>,
    isolation: Isolation,
    epoch_ns: u64,
    rx: Receiver,
    out: io::BufWriter<io::Stdout>,
    slots: Slots,
    known: Known,
    output_lines: u64,
    error: Option<String>,
    /// When the graceful stop turns into SIGKILL.
    kill_at: Option<u64>,
    /// Bytes of output, for `kernel.max_output_bytes`.
    output_bytes: crate::scenario::OutputMeter,
    /// Globals copied into processes, for `kernel.max_values`.
    values: super::values::ValuesMeter,
    /// The threads alive of each process, whose slots come back at their end.
    thread_slots: super::slots::ThreadSlots,
    killed: Vec<Key>,
    pgid: Option<Pid>,
    cli_gone: bool,
    /// The next of the plan's outside signals to send (see `outside.rs`).
    next_outside: usize,
    /// The fences in force (see [`fence`]).
    fences: crate::report::RealFences,
    /// Starts refused by the process fence, as last reported.
    refusals_reported: u32,
    /// The run's memory cgroup, when one could be made.
    cgroup: Option<RunCgroup>,
    /// OOM kills in the cgroup, as last reported.
    oom_reported: u64,
}

pub(super) fn supervise(setup: Setup, mut input: Input, isolation: Isolation) -> i32 {
    match run(setup, &mut input, isolation) {
        Ok(()) => 0,
        Err(e) => {
            // Report the failure as an event if the CLI still listens.
            let ev = Event::Fault {
                key: None,
                message: format!("supervisor: {e}"),
            };
            let mut out = io::stdout().lock();
            let _ = serde_json::to_writer(&mut out, &ev);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
            // Nothing may outlive the run, whatever failed.
            kill_all_now();
            2
        }
    }
}

/// SIGKILL to everything the supervisor may have started, when it has no better way.
fn kill_all_now() {
    if getpid().as_raw() == 1 {
        let _ = kill(Pid::from_raw(-1), NixSignal::SIGKILL);
    }
}

fn run(setup: Setup, input: &mut Input, isolation: Isolation) -> io::Result<()> {
    let epoch_ns = observe::mono_ns();
    let plan = Arc::new(setup.plan);
    // Signals arrive on a descriptor, so the loop below sees them between events.
    let mut mask = SigSet::empty();
    for s in [
        NixSignal::SIGCHLD,
        NixSignal::SIGTERM,
        NixSignal::SIGINT,
        NixSignal::SIGHUP,
    ] {
        mask.add(s);
    }
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None).map_err(observe::io_err)?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(observe::io_err)?;
    let (rx, tx) = channel::pair()?;
    let host = setup.host.clone().unwrap_or_else(fence::Host::read);
    let mut fences = fence::decide(plan.kernel.max_processes, &setup.fence, &host);
    let cgroup = match RunCgroup::create(&host, setup.fence.run_memory) {
        Ok(c) => {
            fences.cgroup = c.describe();
            Some(c)
        }
        Err(why) => {
            fences.cgroup = format!("no cgroup for the run: {why}");
            None
        }
    };
    let slots = Slots::new(fences.max_processes)?;
    let (lifeline_r, lifeline_w, init_pid) = match &isolation {
        Isolation::Namespace => (None, None, None),
        Isolation::Subreaper(_) => {
            nix::sys::prctl::set_child_subreaper(true).map_err(observe::io_err)?;
            let (r, w) = pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(observe::io_err)?;
            (Some(r), Some(w), Some(getpid().as_raw() as u32))
        }
    };
    let (pinned, rest) = pick_cpus(plan.kernel.cpus);
    // The CPU fence: a real-time policy never gets every CPU the run may use.
    let cpu_fence = fence::cpu_fence(pinned.len(), pinned.len() + rest.len()).err();
    // The real counterpart of the scenario's policy; a real-time one needs privilege (and
    // the CPU fence's consent), and without it the run goes on under the normal scheduler
    // and the report says why.
    let (sched, mut policy) = policy::decide(
        &plan.kernel.policy,
        &policy::priorities(&plan),
        setup.realtime,
        |top| match &cpu_fence {
            Some(why) => Err(why.clone()),
            None => policy::may_use_realtime(top),
        },
    );
    let mut early_acts = Vec::new();
    if let Some(why) = cpu_fence
        && policy.fallback.as_ref() == Some(&why)
    {
        // Not a missing privilege: a fence.
        policy.unprivileged = false;
        early_acts.push(format!("CPU fence: {why}"));
    }
    if sched.class != policy::Class::Other {
        fences.host_cpus = rest.iter().map(|c| *c as u32).collect();
    }
    let sched = Arc::new(sched);
    let rr_quantum_us = (sched.class == policy::Class::Rr)
        .then(rr_quantum_us)
        .flatten();
    let mut sup = Supervisor {
        setup_tick_us: setup.tick_us,
        timeout_ms: setup.timeout_ms,
        grace_ms: setup.grace_ms,
        plan: Arc::clone(&plan),
        isolation,
        epoch_ns,
        rx,
        out: io::BufWriter::with_capacity(1 << 16, io::stdout()),
        slots,
        known: Known::default(),
        output_lines: 0,
        error: None,
        kill_at: None,
        output_bytes: Default::default(),
        values: super::values::ValuesMeter::new(&plan),
        thread_slots: Default::default(),
        killed: Vec::new(),
        pgid: None,
        cli_gone: false,
        next_outside: 0,
        fences,
        refusals_reported: 0,
        cgroup,
        oom_reported: 0,
    };
    let note = match &sup.isolation {
        Isolation::Namespace => None,
        Isolation::Subreaper(n) => n.clone(),
    };
    sup.emit(&Event::Hello {
        isolation: match sup.isolation {
            Isolation::Namespace => "pid-namespace".into(),
            Isolation::Subreaper(_) => "subreaper".into(),
        },
        note,
        pinned: pinned.iter().map(|c| *c as u32).collect(),
        rr_quantum_us,
        tick_us: setup.tick_us,
        policy,
        fences: Box::new(sup.fences.clone()),
    });
    for message in early_acts {
        sup.emit(&Event::Fence { key: None, message });
    }
    let cgroup_procs = sup.cgroup.as_ref().map(RunCgroup::procs_file);
    let memory_per_process = sup.fences.memory_per_process;
    let child_fds = ChildFds {
        rx: sup.rx.fd().as_raw_fd(),
        sfd: sfd.as_fd().as_raw_fd(),
        lifeline_w: lifeline_w.as_ref().map(|w| w.as_raw_fd()),
    };
    let mut rng = SeededRng::new(plan.seed);
    let mut index = 0u32;
    for top in plan.processes.iter() {
        let eval = |e: &CExpr, rng: &mut SeededRng| match e {
            CExpr::Lit(v) => v.clone(),
            CExpr::Global(g) => plan.globals[*g as usize].1.clone(),
            CExpr::Uniform(lo, hi) => Value::Int(rng.uniform(*lo, *hi)),
            CExpr::Param(_) | CExpr::Counter(_) => Value::None,
        };
        let args: Vec<Value> = top.args.iter().map(|a| eval(a, &mut rng)).collect();
        let kwargs: Vec<(Arc<str>, Value)> = top
            .kwargs
            .iter()
            .map(|(k, v)| (Arc::clone(k), eval(v, &mut rng)))
            .collect();
        for copy in 1..=top.count {
            let key: Key = index.to_string().into();
            index += 1;
            let name = top_level_name(&top.name, top.numbered, copy);
            if !sup.slots.take() {
                let message = format!(
                    "process fence: the scenario's top-level processes do not fit in {} live processes ({}); the run was not started past them",
                    sup.fences.max_processes, sup.fences.max_processes_by
                );
                sup.emit(&Event::Fence {
                    key: None,
                    message: message.clone(),
                });
                sup.stop(message);
                break;
            }
            sup.note(&Event::Spawn {
                key: key.clone(),
                creator: None,
                name: name.clone().into(),
                program: top.program,
                daemon: false,
                t: 0,
            });
            let arrival_us = top.arrival.saturating_mul(setup.tick_us);
            let shared = Shared {
                plan: Arc::clone(&plan),
                tx: tx.try_clone()?,
                slots: sup.slots,
                epoch_ns,
                tick_ns: setup.tick_us.saturating_mul(1000),
                lifeline: match &lifeline_r {
                    Some(r) => Some(r.try_clone()?),
                    None => None,
                },
                init_pid,
                sched: Arc::clone(&sched),
            };
            // Flush before forking, so no buffered line can be written twice.
            sup.flush();
            super::hugetext::before_fork();
            // SAFETY: the supervisor is single-threaded.
            match unsafe { fork() } {
                Ok(ForkResult::Child) => {
                    let priority = top.attrs.priority.unwrap_or(0);
                    let nice = top.attrs.nice.unwrap_or(0);
                    let (held, mut refused) =
                        child_setup(&child_fds, sup.pgid, &pinned, &sched, priority, nice);
                    refused.extend(fence::enter(cgroup_procs.as_deref(), memory_per_process));
                    // What the supervisor's memory costs every fork this process makes goes
                    // now (fork/trim.rs): its receive and output buffers (the output was
                    // flushed before the fork, and `into_parts` writes nothing), then the
                    // freed heap and the stack below this frame.
                    sup.rx.free_buffer();
                    let out = std::mem::replace(
                        &mut sup.out,
                        io::BufWriter::with_capacity(0, io::stdout()),
                    );
                    drop(out.into_parts());
                    super::trim::give_back_inherited();
                    Proc::run_top_level(
                        shared,
                        TopLevelStart {
                            key,
                            name,
                            program: top.program,
                            args: args.clone(),
                            kwargs: kwargs.clone(),
                            arrival_us,
                            rng: rng.clone(),
                            priority,
                            nice,
                            held,
                            refused,
                        },
                    )
                }
                Ok(ForkResult::Parent { child }) => {
                    drop(shared);
                    if matches!(sup.isolation, Isolation::Subreaper(_)) {
                        // Both sides set the group, so neither can race the other.
                        let pgid = *sup.pgid.get_or_insert(child);
                        let _ = setpgid(child, pgid);
                    }
                    sup.note(&Event::Started {
                        key,
                        pid: child.as_raw() as u32,
                        t_admit: arrival_us,
                    });
                }
                Err(e) => {
                    sup.stop(format!("cannot fork a top-level process: {e}"));
                    break;
                }
            }
        }
        if sup.error.is_some() {
            break;
        }
    }
    drop(tx);
    drop(lifeline_r);
    sup.flush();
    sup.main_loop(input, &sfd);
    sup.report_refusals(true);
    // Every process of the run is reaped: the cgroup is empty and can go.
    drop(sup.cgroup.take());
    // Nothing is left: say so, and hang up the lifeline (nobody holds it any more).
    drop(lifeline_w);
    let done = Event::Done {
        error: sup.error.take(),
        killed: std::mem::take(&mut sup.killed),
    };
    sup.emit(&done);
    sup.flush();
    Ok(())
}

impl Supervisor {
    fn now_us(&self) -> u64 {
        observe::mono_ns().saturating_sub(self.epoch_ns) / 1000
    }

    /// Writes one event line for the CLI.
    fn emit(&mut self, e: &Event) {
        if self.cli_gone {
            return;
        }
        let ok =
            serde_json::to_writer(&mut self.out, e).is_ok() && self.out.write_all(b"\n").is_ok();
        if !ok {
            self.lost_cli();
        }
    }

    fn flush(&mut self) {
        if !self.cli_gone && self.out.flush().is_err() {
            self.lost_cli();
        }
    }

    /// The CLI is gone (its pipe broke or it closed our stdin): kill the run now.
    fn lost_cli(&mut self) {
        if !self.cli_gone {
            self.cli_gone = true;
            if self.error.is_none() {
                self.error = Some("the CLI went away".into());
            }
            self.signal_all(NixSignal::SIGKILL);
            self.kill_at = None;
        }
    }

    /// Whether the events of the datagram just received can be relayed as its text, one line
    /// for them all ([`Supervisor::emit_text`]), after [`Supervisor::take`] for each: when
    /// [`Supervisor::note`] would relay every one of them and say nothing after any, so the
    /// CLI reads the same events in the same order. Writing the text again event by event was
    /// about a seventh of the supervisor's instructions a forked child (callgrind).
    fn relays_as_sent(&self, events: &[Event]) -> bool {
        let text = self.rx.last_text();
        // A line is one line: serde's JSON has no raw newline, but the check is cheap.
        text.is_some_and(|t| !t.contains(&b'\n'))
            && events.iter().all(|e| {
                // An output line may be held back (the output limit); a process killed by a
                // signal makes the supervisor say more right after it (fences, discards).
                !matches!(
                    e,
                    Event::Output { .. }
                        | Event::Reaped {
                            status: Status::Signaled(_),
                            ..
                        }
                )
            })
    }

    /// Writes the last datagram's text as one line for the CLI (see
    /// [`Supervisor::relays_as_sent`]).
    fn emit_text(&mut self) {
        if self.cli_gone {
            return;
        }
        let Some(text) = self.rx.last_text() else {
            return;
        };
        let ok = self.out.write_all(text).is_ok() && self.out.write_all(b"\n").is_ok();
        if !ok {
            self.lost_cli();
        }
    }

    /// Records what an event tells about the run, applies the limits, and relays it.
    fn note(&mut self, e: &Event) {
        if self.take(e) {
            self.emit(e);
            self.after(e);
        }
    }

    /// What [`Supervisor::note`] does before it relays an event: records what it tells
    /// about the run and applies the limits; whether to relay it.
    fn take(&mut self, e: &Event) -> bool {
        // The change that passes the limit is relayed: it was made, as on the simulated
        // kernel, and the run stops.
        if let Err(why) = self.values.note(e, &self.plan.kernel) {
            self.stop(format!("stopped: {why}"));
        }
        let freed = self.thread_slots.note(e);
        if freed > 0 {
            self.slots.give_back(freed);
        }
        match e {
            Event::Spawn {
                key, creator, name, ..
            } => {
                self.known.names.insert(key.clone(), name.to_string());
                self.known
                    .procs
                    .insert(key.clone(), (creator.clone(), false, false));
                self.known.order.push(key.clone());
            }
            Event::Started { key, pid, .. } | Event::Run { key, pid, .. } => {
                self.known.by_pid.insert(*pid, key.clone());
                if let Some(p) = self.known.procs.get_mut(key) {
                    p.1 = true;
                }
            }
            Event::Discard { key, .. } | Event::End { key, .. } => {
                if let Some(p) = self.known.procs.get_mut(key) {
                    p.2 = true;
                }
            }
            Event::Reaped { key: Some(key), .. } => {
                if let Some(p) = self.known.procs.get_mut(key) {
                    p.2 = true;
                }
            }
            Event::Output { line, .. } => {
                self.output_lines += 1;
                let lines = self.output_lines;
                if let Err(why) = self
                    .output_bytes
                    .count(lines, line.len(), &self.plan.kernel)
                {
                    self.stop(format!("stopped: {why}"));
                    return false;
                }
            }
            Event::Limit { message, .. } => self.stop(message.clone()),
            _ => {}
        }
        true
    }

    /// What [`Supervisor::note`] does after it relays an event.
    fn after(&mut self, e: &Event) {
        if let Event::Reaped {
            key: Some(key),
            status: Status::Signaled(sig),
            t,
            ..
        } = e
        {
            self.memory_fence(key, *sig);
            self.discard_unstarted_of(key, *t);
        }
    }

    /// Says when the memory fences ended a process: SIGABRT is how a process of the run ends
    /// when an allocation fails under its `RLIMIT_AS` (no scenario instruction sends it), and
    /// a SIGKILL the run's cgroup counts as an OOM kill is the cgroup's.
    fn memory_fence(&mut self, key: &str, sig: i32) {
        let limit = crate::report::human_bytes(self.fences.memory_per_process);
        let message = if sig == libc::SIGABRT {
            format!(
                "memory fence: ended by SIGABRT, as a process of the run is when an allocation fails under its RLIMIT_AS of {limit}"
            )
        } else if sig == libc::SIGKILL
            && let Some(cg) = &self.cgroup
            && cg.oom_kills() > self.oom_reported
        {
            self.oom_reported = cg.oom_kills();
            format!(
                "memory fence: killed by the OOM killer in the run's cgroup ({})",
                cg.describe()
            )
        } else {
            return;
        };
        self.emit(&Event::Fence {
            key: Some(Key::Owned(key.to_owned())),
            message,
        });
    }

    /// Says when the process fence refused starts the scenario's own limit would have allowed.
    fn report_refusals(&mut self, at_the_end: bool) {
        let refused = self.slots.refused();
        if refused == self.refusals_reported
            || self.fences.max_processes >= self.plan.kernel.max_processes
        {
            return;
        }
        let message = format!(
            "process fence: {refused} start(s) refused so far (BlockingIOError in the scenario): at most {} live processes ({}), below kernel.max_processes {}",
            self.fences.max_processes, self.fences.max_processes_by, self.plan.kernel.max_processes
        );
        // Once when it first acts, and once more at the end with the count.
        if self.refusals_reported == 0 || at_the_end {
            self.refusals_reported = refused;
            self.emit(&Event::Fence { key: None, message });
        }
    }

    /// A process killed by a signal could not discard its never-started children itself.
    fn discard_unstarted_of(&mut self, creator: &str, t: u64) {
        let unstarted: Vec<Key> = self
            .known
            .order
            .iter()
            .filter(|k| {
                self.known.procs.get(*k).is_some_and(|(c, started, ended)| {
                    c.as_deref() == Some(creator) && !started && !ended
                })
            })
            .cloned()
            .collect();
        for key in unstarted {
            self.slots.give_back(1);
            self.note(&Event::Discard { key, t });
        }
    }
}
