//! Turning the events of a real run into a [`Report`] of the same shape as the simulated
//! kernel's, with times in microseconds.
//!
//! How real observations map onto the five states:
//!
//! - `new`: from the `spawn` (or the start of the run, for a top-level process) until the
//!   parent's `fork()` (a top-level process: until its arrival time, which it sleeps through).
//! - `ready → running`: the fork puts the child on a run queue (`admit`); its first
//!   instruction is its first dispatch.
//! - `running → blocked`: reported by the process just before it sleeps or waits.
//! - `blocked → ready → running`: reported when it resumes; the growth of its schedstat
//!   run-queue delay while it was blocked is the time it spent `ready` between its wake-up and
//!   its dispatch.
//! - `running → ready → running` inside a `cpu` burst: a gap between wall time and the thread
//!   CPU clock that the schedstat timeslice count confirms (a preemption).
//! - `→ terminated`: `exit` when the process reports its end; `signal` when its reaper sees a
//!   signal in the wait status, at the time the sender saw it die (else when it was reaped).
//!
//! The figures come from the kernel's own accounting, read while the process was a zombie:
//! `cpu` and `waiting` from schedstat, `dispatches` its timeslice count, `preemptions` its
//! involuntary context switches; `blocked` is the rest of its turnaround (neither on a CPU nor
//! on a run queue is sleeping). A transition that is not an edge of the state graph is never
//! reported; one that would be is counted in [`Report::error`] as an observation fault.

mod report;
mod threads;

use std::collections::HashMap;
use std::sync::Arc;

use super::protocol::{Event, Figures, Key, Status};
use crate::model::{Cause, State, Value, is_legal_transition};
use crate::program::Plan;
use crate::report::{LineAt, Note, RealRun, Report, TraceEvent};

/// One process as the events describe it.
struct P {
    name: String,
    program: u32,
    daemon: bool,
    creator: Option<usize>,
    pid: u32,
    by_init: bool,
    state: State,
    /// Time of the last transition, so each process's trace never goes back in time.
    last_t: u64,
    created_at: u64,
    admitted_at: Option<u64>,
    first_run: Option<u64>,
    ended_at: Option<u64>,
    reaped_at: Option<u64>,
    exitcode: Option<i64>,
    signal: Option<String>,
    signalled_at: Option<u64>,
    output: Vec<String>,
    output_at: Vec<LineAt>,
    errors: Vec<String>,
    errors_at: Vec<LineAt>,
    /// Shared with the processes it shares them with, until one of them changes one (as the
    /// simulated kernel keeps them: a fork of thousands of children costs no copy here).
    globals: Arc<Vec<Value>>,
    figures: Option<Figures>,
    /// Its threads other than the main one (SPEC §4a), by their index in its thread table.
    threads: Vec<threads::T>,
    /// When its first thread was started: from then on its transitions carry a `tid`.
    first_thread_at: Option<u64>,
    /// Its main thread's name when not `MainThread` (a child forked from a thread).
    main_name: Option<String>,
    main_daemon: bool,
}

/// Builds a [`Report`] from the events of one run, in the order the supervisor relayed them.
pub struct Assembler {
    plan: Arc<Plan>,
    procs: Vec<P>,
    index: HashMap<Key, usize>,
    trace: Vec<TraceEvent>,
    /// The threads' transitions, their tids filled in at the end.
    thread_trace: Vec<threads::Pending>,
    real: Option<RealRun>,
    error: Option<String>,
    faults: Vec<String>,
    /// What the run did that changed nothing (a signal to a process not alive).
    notes: Vec<Note>,
    dropped: u64,
    done: bool,
    last_t: u64,
    /// Moments a process was seen executing besides its transitions (see [`super::fit`]).
    proofs: Vec<(u32, u64)>,
    /// Output and error lines relayed so far.
    lines: u64,
    /// The plan's globals, which the top-level processes start with.
    initial_globals: Arc<Vec<Value>>,
}

impl Assembler {
    /// An assembler for a run of `plan`.
    pub fn new(plan: Arc<Plan>) -> Assembler {
        let initial_globals = Arc::new(plan.globals.iter().map(|(_, v)| v.clone()).collect());
        Assembler {
            plan,
            procs: Vec::new(),
            index: HashMap::new(),
            trace: Vec::new(),
            thread_trace: Vec::new(),
            real: None,
            error: None,
            faults: Vec::new(),
            notes: Vec::new(),
            dropped: 0,
            done: false,
            last_t: 0,
            proofs: Vec::new(),
            lines: 0,
            initial_globals,
        }
    }

    /// Whether the supervisor said it was done.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Processes created so far, and how many of them have ended.
    pub fn counts(&self) -> (usize, usize) {
        let ended = self
            .procs
            .iter()
            .filter(|p| p.state == State::Terminated)
            .count();
        (self.procs.len(), ended)
    }

    /// Whether the supervisor had said how the run is set up (its first event).
    pub fn started(&self) -> bool {
        self.real.is_some()
    }

    /// The report of a run whose supervisor died before it said it was done: every process
    /// that had not ended is reported as not ended, and `why` is the report's error.
    pub fn finish_cut_short(mut self, why: String) -> Report {
        for p in &mut self.procs {
            if p.state != State::Terminated {
                p.exitcode = None;
                p.signal = None;
                p.ended_at = None;
            }
        }
        self.error = Some(why);
        self.finish()
    }

    /// The time and number of a line relayed now: the latest event time seen, as a line
    /// carries no clock.
    fn line_at(&mut self) -> LineAt {
        let at = LineAt {
            t: self.last_t,
            seq: self.lines,
        };
        self.lines += 1;
        at
    }

    fn get(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// A fence's act for people: the process's name in front when it acted on one.
    pub fn fence_text(&self, key: Option<&str>, message: &str) -> String {
        match key.and_then(|k| self.get(k)) {
            Some(i) => format!("{}: {message}", self.procs[i].name),
            None => message.to_owned(),
        }
    }

    /// Applies one event.
    pub fn apply(&mut self, e: Event) {
        match e {
            Event::Hello {
                isolation,
                note,
                pinned,
                rr_quantum_us,
                tick_us,
                policy,
                fences,
            } => {
                self.real = Some(RealRun {
                    isolation,
                    isolation_note: note,
                    tick_us,
                    pinned_cpus: pinned,
                    rr_quantum_us,
                    policy,
                    fences: *fences,
                });
            }
            // For people watching a long run; nothing of it goes into the report.
            Event::Progress { .. } => {}
            Event::Fence { key, message } => {
                let text = self.fence_text(key.as_deref(), &message);
                if let Some(real) = &mut self.real {
                    real.fences.acted.push(text);
                }
            }
            Event::Refused { key, message } => {
                let name = self
                    .get(&key)
                    .map_or(key, |i| self.procs[i].name.clone().into());
                if let Some(real) = &mut self.real {
                    real.policy.notes.push(format!("{name}: {message}"));
                }
            }
            Event::Spawn {
                key,
                creator,
                name,
                program,
                daemon,
                t,
            } => {
                let creator = creator.and_then(|c| self.get(&c));
                let globals = match creator {
                    Some(c) => Arc::clone(&self.procs[c].globals),
                    None => Arc::clone(&self.initial_globals),
                };
                self.index.insert(key, self.procs.len());
                self.procs.push(P {
                    name: name.into_owned(),
                    program,
                    daemon,
                    creator,
                    pid: 0,
                    by_init: false,
                    state: State::New,
                    last_t: t,
                    created_at: t,
                    admitted_at: None,
                    first_run: None,
                    ended_at: None,
                    reaped_at: None,
                    exitcode: None,
                    signal: None,
                    signalled_at: None,
                    output: Vec::new(),
                    output_at: Vec::new(),
                    errors: Vec::new(),
                    errors_at: Vec::new(),
                    globals,
                    figures: None,
                    threads: Vec::new(),
                    first_thread_at: None,
                    main_name: None,
                    main_daemon: false,
                });
            }
            Event::Started { key, pid, t_admit } => {
                if let Some(i) = self.get(&key) {
                    self.procs[i].pid = pid;
                    self.admit(i, t_admit);
                }
            }
            Event::Run {
                key,
                pid,
                t_admit,
                t,
            } => {
                if let Some(i) = self.get(&key) {
                    self.procs[i].pid = pid;
                    self.admit(i, t_admit);
                    self.transition(i, State::Running, Cause::Dispatch, t);
                    let p = &mut self.procs[i];
                    p.first_run.get_or_insert(p.last_t);
                }
            }
            Event::Trans {
                key,
                thread,
                t,
                to,
                cause,
            } => match (self.get(&key), thread) {
                (Some(i), None) => self.transition(i, to, cause, t),
                (Some(i), Some(k)) => self.thread_transition(i, k, to, cause, t),
                (None, _) => {}
            },
            Event::Resume {
                key,
                thread,
                t_ready,
                t,
                cause,
            } => match (self.get(&key), thread) {
                (Some(i), None) => {
                    self.transition(i, State::Ready, cause, t_ready);
                    self.transition(i, State::Running, Cause::Dispatch, t);
                }
                (Some(i), Some(k)) => {
                    self.thread_transition(i, k, State::Ready, cause, t_ready);
                    self.thread_transition(i, k, State::Running, Cause::Dispatch, t);
                }
                (None, _) => {}
            },
            Event::Thread {
                key,
                thread,
                name,
                daemon,
                t,
            } => {
                if let Some(i) = self.get(&key) {
                    self.thread_started(i, thread, name, daemon, t);
                }
            }
            Event::ThreadRun {
                key,
                thread,
                tid,
                t,
            } => {
                if let Some(i) = self.get(&key) {
                    self.thread_ran(i, thread, tid, t);
                }
            }
            Event::ThreadEnd {
                key,
                thread,
                t,
                figures,
            } => {
                if let Some(i) = self.get(&key) {
                    self.thread_ended(i, thread, t, figures);
                }
            }
            Event::ThreadFigures {
                key,
                thread,
                figures,
            } => {
                if let Some(i) = self.get(&key) {
                    self.thread_figures(i, thread, figures);
                }
            }
            Event::MainThread { key, name, daemon } => {
                if let Some(i) = self.get(&key) {
                    self.procs[i].main_name = Some(name);
                    self.procs[i].main_daemon = daemon;
                }
            }
            Event::Output { key, line } => {
                if let Some(i) = self.get(&key) {
                    let at = self.line_at();
                    self.procs[i].output.push(line);
                    self.procs[i].output_at.push(at);
                }
            }
            Event::Error { key, message } => {
                if let Some(i) = self.get(&key) {
                    let at = self.line_at();
                    self.procs[i].errors.push(message);
                    self.procs[i].errors_at.push(at);
                }
            }
            Event::Global { key, index, value } => {
                if let Some(i) = self.get(&key)
                    && let Some(slot) =
                        Arc::make_mut(&mut self.procs[i].globals).get_mut(index as usize)
                {
                    *slot = value;
                }
            }
            Event::Discard { key, t } => {
                if let Some(i) = self.get(&key)
                    && self.procs[i].state == State::New
                {
                    self.transition(i, State::Terminated, Cause::Signal, t);
                    let p = &mut self.procs[i];
                    p.ended_at = Some(p.last_t);
                    p.reaped_at = Some(p.last_t);
                }
            }
            Event::Signalled { key, t } => {
                if let Some(i) = self.get(&key) {
                    self.procs[i].signalled_at = Some(t);
                    // A process signals only its own children (SPEC §4), and the sender was
                    // executing when it saw the death; a signal from outside the scenario
                    // (`events`, sent by the supervisor) proves nothing about the parent.
                    let outside = self
                        .plan
                        .events
                        .iter()
                        .any(|e| *e.to == *self.procs[i].name);
                    if let Some(c) = self.procs[i].creator
                        && !outside
                    {
                        self.proofs.push((c as u32, t));
                    }
                }
            }
            Event::End { key, t, code } => {
                if let Some(i) = self.get(&key) {
                    // Only a running main thread exits; one that is not was ended by another
                    // thread's `_exit` (`exit_group`), as a signal ends it.
                    let cause = if self.procs[i].state == State::Running {
                        Cause::Exit
                    } else {
                        Cause::Signal
                    };
                    self.transition(i, State::Terminated, cause, t);
                    let p = &mut self.procs[i];
                    p.ended_at = Some(p.last_t);
                    p.exitcode = Some(i64::from(code));
                    let at = p.last_t;
                    self.threads_end_with(i, at);
                }
            }
            Event::Reaped {
                key,
                pid,
                t,
                by_init,
                status,
                figures,
            } => self.reaped(key, pid, t, by_init, status, figures),
            Event::Limit { message, .. } => {
                self.error.get_or_insert(message);
            }
            Event::Note { t, text } => self.notes.push(Note { t, text }),
            Event::Fault { key, message } => {
                let who = key
                    .and_then(|k| self.get(&k))
                    .map(|i| format!("{}: ", self.procs[i].name))
                    .unwrap_or_default();
                self.faults.push(format!("{who}{message}"));
            }
            Event::Done { error, killed } => {
                self.done = true;
                if let Some(e) = error {
                    self.error = Some(e);
                }
                // Stopped by the supervisor, not ended by themselves or their scenario: as in
                // the simulated kernel's partial reports, they had not ended.
                for key in killed {
                    if let Some(i) = self.get(&key) {
                        let p = &mut self.procs[i];
                        p.exitcode = None;
                        p.signal = None;
                        p.ended_at = None;
                    }
                }
            }
        }
    }

    fn admit(&mut self, i: usize, t: u64) {
        if self.procs[i].state == State::New {
            // The fork copies the creator's globals as they are now: no event of the creator
            // can come between its fork and its report of it.
            if let Some(c) = self.procs[i].creator {
                self.procs[i].globals = Arc::clone(&self.procs[c].globals);
            }
            self.transition(i, State::Ready, Cause::Admit, t);
            let p = &mut self.procs[i];
            p.admitted_at = Some(p.last_t);
        }
    }

    fn transition(&mut self, i: usize, to: State, cause: Cause, t: u64) {
        let p = &mut self.procs[i];
        let from = p.state;
        if from == to || from == State::Terminated {
            return;
        }
        if !is_legal_transition(from, to, cause) {
            self.dropped += 1;
            return;
        }
        let t = t.max(p.last_t);
        p.last_t = t;
        p.state = to;
        self.last_t = self.last_t.max(t);
        self.trace.push(TraceEvent {
            t,
            proc: i as u32,
            pid: p.pid,
            from,
            to,
            cause,
            cpu: None,
            tid: None,
        });
    }

    fn reaped(
        &mut self,
        key: Option<Key>,
        pid: u32,
        t: u64,
        by_init: bool,
        status: Status,
        figures: Option<Figures>,
    ) {
        let Some(i) = key.and_then(|k| self.get(&k)) else {
            self.faults.push(format!(
                "a process (pid {pid}) ended before it could say which one it was"
            ));
            return;
        };
        self.last_t = self.last_t.max(t);
        if self.procs[i].state != State::Terminated {
            match status {
                Status::Signaled(n) => {
                    let at = self.procs[i].signalled_at.unwrap_or(t);
                    self.transition(i, State::Terminated, Cause::Signal, at);
                    let p = &mut self.procs[i];
                    p.exitcode = Some(-i64::from(n));
                    p.signal = Some(signal_name(n));
                    p.ended_at = Some(p.last_t);
                    let at = p.last_t;
                    self.threads_end_with(i, at);
                }
                Status::Exited(code) => {
                    // It left without reporting its end (the lifeline broke): the kernel's
                    // word is all there is. Only a running process can exit.
                    if self.procs[i].state != State::Running {
                        self.transition(i, State::Running, Cause::Dispatch, t);
                    }
                    self.transition(i, State::Terminated, Cause::Exit, t);
                    let p = &mut self.procs[i];
                    p.exitcode = Some(i64::from(code));
                    p.ended_at = Some(p.last_t);
                    let at = p.last_t;
                    self.threads_end_with(i, at);
                }
            }
        }
        let p = &mut self.procs[i];
        p.reaped_at = Some(t.max(p.last_t));
        p.by_init = by_init;
        p.figures = figures;
    }
}

/// `SIGKILL`, `SIGTERM`, … for a signal number.
fn signal_name(n: i32) -> String {
    nix::sys::signal::Signal::try_from(n)
        .map_or_else(|_| format!("signal {n}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
mod tests;
