//! The threads of a real run's processes (SPEC §4a), as their events describe them: each
//! thread goes through the five states like a process, its transitions carry its `tid`, and
//! its process's report lists it under `threads`, the main thread first.
//!
//! A thread says when it was started (`new → ready`, by its creator), when it first ran, when
//! it blocked and resumed, and its end with the figures it read from its own
//! `/proc/thread-self/schedstat`. Threads still alive when their process ends (daemon threads
//! at its end, every thread at an `_exit` or a signal) end with it, cause `signal`, as the
//! kernel's `exit_group` ends them; their figures are then those of their trace.

use super::{Assembler, P};
use crate::fork::protocol::Figures;
use crate::model::{Cause, State, is_legal_transition};
use crate::report::{ThreadReport, TraceEvent};

/// One thread of a process, other than its main thread.
pub(super) struct T {
    /// Whether this process started it (a child forked from a process with threads numbers
    /// its own threads after the ones the fork copied, which are not its).
    started: bool,
    name: String,
    daemon: bool,
    /// Its kernel thread id, from its first run (0 if it never ran).
    tid: u32,
    state: State,
    last_t: u64,
    created_at: u64,
    admitted_at: Option<u64>,
    first_run: Option<u64>,
    ended_at: Option<u64>,
    figures: Option<Figures>,
}

/// A thread's transition, its `tid` filled in at the end (a thread's `new → ready` comes
/// before it has run and said its tid).
pub(super) struct Pending {
    pub(super) event: TraceEvent,
    pub(super) thread: u32,
}

impl Assembler {
    /// Thread `k` of process `i` was started at `t`.
    pub(super) fn thread_started(&mut self, i: usize, k: u32, name: String, daemon: bool, t: u64) {
        let p = &mut self.procs[i];
        let k = k as usize;
        while p.threads.len() <= k {
            p.threads.push(T {
                started: false,
                name: String::new(),
                daemon: false,
                tid: 0,
                state: State::New,
                last_t: t,
                created_at: t,
                admitted_at: None,
                first_run: None,
                ended_at: None,
                figures: None,
            });
        }
        p.threads[k].started = true;
        p.threads[k].name = name;
        p.threads[k].daemon = daemon;
        p.threads[k].created_at = t;
        p.first_thread_at.get_or_insert(t);
        self.thread_transition(i, k as u32, State::Ready, Cause::Admit, t);
        let th = &mut self.procs[i].threads[k];
        th.admitted_at = Some(th.last_t);
    }

    /// Thread `k` of process `i` ran its first instruction at `t`.
    pub(super) fn thread_ran(&mut self, i: usize, k: u32, tid: u32, t: u64) {
        if let Some(th) = self.procs[i].threads.get_mut(k as usize) {
            th.tid = tid;
        }
        self.thread_transition(i, k, State::Running, Cause::Dispatch, t);
        if let Some(th) = self.procs[i].threads.get_mut(k as usize) {
            th.first_run.get_or_insert(th.last_t);
        }
    }

    /// Thread `k` of process `i` ended at `t`.
    pub(super) fn thread_ended(&mut self, i: usize, k: u32, t: u64, figures: Option<Figures>) {
        self.thread_transition(i, k, State::Terminated, Cause::Exit, t);
        if let Some(th) = self.procs[i].threads.get_mut(k as usize) {
            th.ended_at.get_or_insert(th.last_t);
            th.figures = figures;
        }
    }

    /// Process `i` ended at `t`: its threads still alive end with it (`exit_group`).
    pub(super) fn threads_end_with(&mut self, i: usize, t: u64) {
        for k in 0..self.procs[i].threads.len() {
            let th = &self.procs[i].threads[k];
            if th.started && th.state != State::Terminated {
                self.thread_transition(i, k as u32, State::Terminated, Cause::Signal, t);
                let th = &mut self.procs[i].threads[k];
                th.ended_at.get_or_insert(th.last_t);
            }
        }
    }

    /// A transition of thread `k` of process `i`; one that is not an edge of the state
    /// graph is left out and counted, as for processes.
    pub(super) fn thread_transition(&mut self, i: usize, k: u32, to: State, cause: Cause, t: u64) {
        let pid = self.procs[i].pid;
        let Some(th) = self.procs[i].threads.get_mut(k as usize) else {
            self.dropped += 1;
            return;
        };
        let from = th.state;
        if from == to || from == State::Terminated {
            return;
        }
        if !is_legal_transition(from, to, cause) {
            self.dropped += 1;
            return;
        }
        let t = t.max(th.last_t);
        th.last_t = t;
        th.state = to;
        self.last_t = self.last_t.max(t);
        self.thread_trace.push(Pending {
            event: TraceEvent {
                t,
                proc: i as u32,
                pid,
                from,
                to,
                cause,
                cpu: None,
                tid: None,
            },
            thread: k,
        });
    }
}

/// The trace with the threads' transitions in it, each task kept to the CPUs (`fit`: a
/// thread is what a CPU runs), and `tid` on every transition of a process that has threads
/// from its first thread on (the main thread's is its pid), as the simulated kernel gives it.
pub(super) fn merge(
    mut trace: Vec<TraceEvent>,
    pending: Vec<Pending>,
    procs: &[P],
    proofs: &[(u32, u64)],
    cpus: u32,
) -> Vec<TraceEvent> {
    let n = procs.len();
    // Each thread a task index of its own past the processes', for `fit`.
    let mut tasks: Vec<(u32, u32)> = Vec::new();
    let mut first: Vec<usize> = Vec::with_capacity(n);
    for p in procs {
        first.push(n + tasks.len());
        for k in 0..p.threads.len() {
            tasks.push((first.len() as u32 - 1, k as u32));
        }
    }
    for Pending { mut event, thread } in pending {
        event.proc = (first[event.proc as usize] + thread as usize) as u32;
        trace.push(event);
    }
    trace.sort_by_key(|e| e.t);
    let (mut out, _) = crate::fork::fit::fit_to_cpus(trace, proofs, n + tasks.len(), cpus);
    for e in &mut out {
        let v = e.proc as usize;
        if v >= n {
            let (i, k) = tasks[v - n];
            let p = &procs[i as usize];
            e.proc = i;
            e.pid = p.pid;
            e.tid = Some(p.threads[k as usize].tid);
        } else if let Some(since) = procs[v].first_thread_at
            && e.t >= since
        {
            e.tid = Some(procs[v].pid);
        }
    }
    out
}

/// The `threads` of process `p`'s report: its main thread (whose figures are the
/// process's, given here) first, when it has others.
pub(super) fn reports(p: &P, main: ThreadReport) -> Vec<ThreadReport> {
    if !p.threads.iter().any(|th| th.started) {
        return Vec::new();
    }
    let mut out = vec![ThreadReport {
        name: p
            .main_name
            .clone()
            .unwrap_or_else(|| "MainThread".to_owned()),
        daemon: p.main_daemon,
        ..main
    }];
    for th in p.threads.iter().filter(|th| th.started) {
        let turnaround = th
            .admitted_at
            .and_then(|a| th.ended_at.map(|e| e.saturating_sub(a)));
        let (cpu, waiting, dispatches, preemptions) = match th.figures {
            Some(f) => (f.cpu_ns / 1000, f.wait_ns / 1000, f.slices, f.preempted),
            None => (0, 0, u64::from(th.first_run.is_some()), 0),
        };
        out.push(ThreadReport {
            tid: th.tid,
            name: th.name.clone(),
            daemon: th.daemon,
            created_at: th.created_at,
            admitted_at: th.admitted_at,
            first_run: th.first_run,
            ended_at: th.ended_at,
            cpu,
            waiting,
            blocked: turnaround.map_or(0, |t| t.saturating_sub(cpu + waiting)),
            response: th
                .admitted_at
                .and_then(|a| th.first_run.map(|f| f.saturating_sub(a))),
            turnaround,
            dispatches,
            preemptions,
        });
    }
    out
}
