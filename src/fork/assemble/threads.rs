//! The threads of a real run's processes (SPEC §4a), as their events describe them: each
//! thread goes through the five states like a process, its transitions carry its `tid`, and
//! its process's report lists it under `threads`, the main thread first.
//!
//! A thread says when it was started (`new → ready`, by its creator), when it first ran, when
//! it blocked and resumed, and its end with the figures it read from its own
//! `/proc/thread-self/schedstat`. Threads still alive when their process ends (daemon threads
//! at its end, every thread at an `_exit` or a signal) end with it, cause `signal`, as the
//! kernel's `exit_group` ends them; their figures are then what the thread that ended the
//! process read for them from `/proc/self/task/<tid>/` just before (none after a signal).

use std::cell::OnceCell;
use std::collections::HashMap;

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

    /// What the kernel counted for thread `k` of process `i`, read as its process ended.
    pub(super) fn thread_figures(&mut self, i: usize, k: u32, figures: Figures) {
        if let Some(th) = self.procs[i].threads.get_mut(k as usize) {
            th.figures = Some(figures);
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
pub(super) fn reports(p: &P, main: ThreadReport, trace: &ByThread, i: usize) -> Vec<ThreadReport> {
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
            // Ended by a signal before anyone could read them: its trace's.
            None => spans(trace, i as u32, th),
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

/// The trace's events by process and tid, indexed when first asked for: the threads whose
/// figures come from the trace (ended by a signal before anyone read them) are then found by
/// one pass over it, not one a thread.
pub(super) struct ByThread<'a> {
    trace: &'a [TraceEvent],
    index: OnceCell<HashMap<(u32, u32), Vec<usize>>>,
}

impl<'a> ByThread<'a> {
    /// The index of `trace`, not made yet.
    pub(super) fn new(trace: &'a [TraceEvent]) -> ByThread<'a> {
        ByThread {
            trace,
            index: OnceCell::new(),
        }
    }

    /// The events of thread `tid` of process `proc`, in trace order.
    fn events(&self, proc: u32, tid: u32) -> impl Iterator<Item = &'a TraceEvent> + '_ {
        let index = self.index.get_or_init(|| {
            let mut index: HashMap<(u32, u32), Vec<usize>> = HashMap::new();
            for (k, e) in self.trace.iter().enumerate() {
                if let Some(tid) = e.tid {
                    index.entry((e.proc, tid)).or_default().push(k);
                }
            }
            index
        });
        let trace = self.trace;
        index
            .get(&(proc, tid))
            .into_iter()
            .flatten()
            .map(move |&k| &trace[k])
    }
}

/// Time `running` and `ready`, dispatches and preemptions of thread `th` of process `proc`,
/// from the trace.
fn spans(trace: &ByThread, proc: u32, th: &T) -> (u64, u64, u64, u64) {
    let (mut since, mut state) = (th.created_at, State::New);
    let (mut cpu, mut waiting, mut dispatches, mut preemptions) = (0, 0, 0, 0);
    // A tid of 0: the thread was never seen running, and has no events.
    let events = (th.tid != 0).then(|| trace.events(proc, th.tid));
    for e in events.into_iter().flatten() {
        let d = e.t.saturating_sub(since);
        match state {
            State::Running => cpu += d,
            State::Ready => waiting += d,
            _ => {}
        }
        dispatches += u64::from(e.to == State::Running);
        preemptions += u64::from(e.cause == Cause::Preempt);
        (since, state) = (e.t, e.to);
    }
    (cpu, waiting, dispatches, preemptions)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::fork::assemble::Assembler;
    use crate::model::{Cause, State};

    #[test]
    fn thread_events_make_thread_reports_and_tids_in_the_trace() {
        let plan = crate::load_str(
            r#"{"programs": {"main": {"body": [{"thread": {"as": "t", "program": "w"}},
                                              {"thread": {"as": "u", "program": "w", "daemon": true}},
                                              {"join": "t"}]},
                             "w": {"body": [{"sleep": 1}]}},
                "processes": [{"program": "main"}]}"#,
        )
        .unwrap();
        let mut a = Assembler::new(Arc::clone(&plan));
        let ev = crate::fork::protocol::from_tagged;
        for line in [
            r#"{"ev":"spawn","key":"0","creator":null,"name":"MainProcess","program":0,"daemon":false,"t":0}"#,
            r#"{"ev":"run","key":"0","pid":2,"t_admit":0,"t":5}"#,
            r#"{"ev":"thread","key":"0","thread":0,"name":"Thread-1 (w)","daemon":false,"t":10}"#,
            r#"{"ev":"thread","key":"0","thread":1,"name":"Thread-2 (w)","daemon":true,"t":11}"#,
            r#"{"ev":"trans","key":"0","t":12,"to":"blocked","cause":"join"}"#,
            r#"{"ev":"thread_run","key":"0","thread":0,"tid":7,"t":13}"#,
            r#"{"ev":"trans","key":"0","thread":0,"t":14,"to":"blocked","cause":"sleep"}"#,
            r#"{"ev":"thread_run","key":"0","thread":1,"tid":8,"t":15}"#,
            r#"{"ev":"trans","key":"0","thread":1,"t":16,"to":"blocked","cause":"sleep"}"#,
            r#"{"ev":"resume","key":"0","thread":0,"t_ready":20,"t":21,"cause":"wake"}"#,
            r#"{"ev":"thread_end","key":"0","thread":0,"t":22,"figures":{"cpu_ns":3000,"wait_ns":1000,"slices":2,"preempted":0}}"#,
            r#"{"ev":"resume","key":"0","t_ready":23,"t":24,"cause":"child-exit"}"#,
            r#"{"ev":"thread_figures","key":"0","thread":1,"figures":{"cpu_ns":2000,"wait_ns":0,"slices":1,"preempted":0}}"#,
            r#"{"ev":"end","key":"0","t":30,"code":0}"#,
            r#"{"ev":"reaped","key":"0","pid":2,"t":31,"by_init":true,"status":{"exited":0},"figures":null}"#,
            r#"{"ev":"done","error":null,"killed":[]}"#,
        ] {
            a.apply(ev(line));
        }
        let r = a.finish();
        assert_eq!(r.error, None);
        let p = &r.processes[0];
        let names: Vec<(&str, u32, bool)> = p
            .threads
            .iter()
            .map(|t| (t.name.as_str(), t.tid, t.daemon))
            .collect();
        assert_eq!(
            names,
            [
                ("MainThread", 2, false),
                ("Thread-1 (w)", 7, false),
                ("Thread-2 (w)", 8, true)
            ]
        );
        use State::*;
        assert_eq!(
            r.folded_thread_states(0, 7, 0),
            [New, Ready, Running, Blocked, Ready, Running, Terminated]
        );
        // The daemon thread ended with its process, as `exit_group` ends it.
        assert_eq!(
            r.folded_thread_states(0, 8, 0),
            [New, Ready, Running, Blocked, Terminated]
        );
        let last = r.trace.iter().rfind(|e| e.tid == Some(8)).unwrap();
        assert_eq!((last.t, last.cause), (30, Cause::Signal));
        assert_eq!((p.threads[1].cpu, p.threads[1].ended_at), (3, Some(22)));
        assert_eq!((p.threads[2].cpu, p.threads[2].ended_at), (2, Some(30)));
        // The main thread's transitions carry its tid (the pid) from the first thread on.
        assert_eq!(
            r.folded_states(0),
            [New, Ready, Running, Blocked, Ready, Running, Terminated]
        );
        for e in r.trace.iter().filter(|e| !e.is_other_thread()) {
            assert_eq!(e.tid, (e.t >= 10).then_some(2), "{e:?}");
        }
    }
}
