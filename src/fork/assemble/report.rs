//! The report of a real run from what the events said: the trace kept to the CPUs, each
//! process's figures (the kernel's, else its trace's) and the summary.

use super::Assembler;
use super::threads;
use crate::model::{Cause, State};
use crate::report::{ProcessReport, Report, Summary, ThreadReport, TimeUnit, Totals};

impl Assembler {
    /// The report.
    pub fn finish(mut self) -> Report {
        // Processes and the supervisor send their notes each in its own stream.
        self.notes.sort_by_key(|n| n.t);
        let cpus = match &self.real {
            Some(r) if !r.pinned_cpus.is_empty() => r.pinned_cpus.len() as u32,
            _ => std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        };
        // Never more processes running than CPUs: see `fit`.
        self.proofs.sort_by_key(|p| p.1);
        let trace = std::mem::take(&mut self.trace);
        let pending = std::mem::take(&mut self.thread_trace);
        self.trace = threads::merge(trace, pending, &self.procs, &self.proofs, cpus);
        if self.dropped > 0 {
            self.faults.push(format!(
                "{} observed transitions were not edges of the state graph and were left out",
                self.dropped
            ));
        }
        let error = match (self.error.take(), self.faults.is_empty()) {
            (e, true) => e,
            (Some(e), false) => Some(format!("{e}; {}", self.faults.join("; "))),
            (None, false) => Some(self.faults.join("; ")),
        };
        let spans = self.spans();
        let by_thread = threads::ByThread::new(&self.trace);
        let processes: Vec<ProcessReport> = (0..self.procs.len())
            .map(|i| self.process_report(i, spans[i], &by_thread))
            .collect();
        drop(by_thread);
        let makespan = if error.is_some() {
            self.last_t
        } else {
            processes
                .iter()
                .filter_map(|p| p.ended_at)
                .max()
                .unwrap_or(0)
        };
        let summary = summary(&processes, cpus, makespan);
        Report {
            scenario: self.plan.name.clone(),
            backend: "fork".into(),
            time_unit: TimeUnit::Us,
            cpus,
            error,
            processes,
            trace: self.trace,
            summary,
            real: self.real,
            notes: self.notes,
        }
    }

    /// Per process, what its trace says (used when the kernel's figures are missing: a
    /// process whose reaper was killed too), all processes in one pass over the trace.
    fn spans(&self) -> Vec<Traced> {
        let mut out = vec![Traced::default(); self.procs.len()];
        let mut cur: Vec<(u64, State)> = self
            .procs
            .iter()
            .map(|p| (p.created_at, State::New))
            .collect();
        for e in self.trace.iter().filter(|e| !e.is_other_thread()) {
            let i = e.proc as usize;
            let (since, state) = cur[i];
            let d = e.t.saturating_sub(since);
            let t = &mut out[i];
            match state {
                State::Running => t.running += d,
                State::Ready => t.ready += d,
                State::Blocked => t.blocked += d,
                _ => {}
            }
            t.dispatches += u64::from(e.to == State::Running);
            t.preemptions += u64::from(e.cause == Cause::Preempt);
            cur[i] = (e.t, e.to);
        }
        out
    }

    fn process_report(
        &self,
        i: usize,
        spans: Traced,
        by_thread: &threads::ByThread,
    ) -> ProcessReport {
        let p = &self.procs[i];
        let turnaround = p
            .admitted_at
            .and_then(|a| p.ended_at.map(|e| e.saturating_sub(a)));
        let (cpu, waiting, blocked, dispatches, preemptions) = match p.figures {
            Some(f) => {
                let cpu = f.cpu_ns / 1000;
                let waiting = f.wait_ns / 1000;
                let blocked = turnaround.map_or(spans.blocked, |t| t.saturating_sub(cpu + waiting));
                (cpu, waiting, blocked, f.slices, f.preempted)
            }
            None => (
                spans.running,
                spans.ready,
                spans.blocked,
                spans.dispatches,
                spans.preemptions,
            ),
        };
        let ppid = match p.creator {
            Some(c) if !p.by_init => self.procs[c].pid,
            _ => 1,
        };
        let response = p
            .admitted_at
            .and_then(|a| p.first_run.map(|f| f.saturating_sub(a)));
        // The main thread's figures are its process's (SPEC §4a).
        let main = ThreadReport {
            tid: p.pid,
            name: String::new(),
            daemon: false,
            created_at: p.created_at,
            admitted_at: p.admitted_at,
            first_run: p.first_run,
            ended_at: p.ended_at,
            cpu,
            waiting,
            blocked,
            response,
            turnaround,
            dispatches,
            preemptions,
        };
        ProcessReport {
            pid: p.pid,
            ppid,
            creator: p.creator.map(|c| c as u32),
            name: p.name.clone(),
            program: self
                .plan
                .programs
                .get(p.program as usize)
                .map_or_else(String::new, |c| c.name.to_string()),
            daemon: p.daemon,
            exitcode: p.exitcode,
            signal: p.signal.clone(),
            created_at: p.created_at,
            admitted_at: p.admitted_at,
            first_run: p.first_run,
            ended_at: p.ended_at,
            reaped_at: p.reaped_at,
            cpu,
            waiting,
            blocked,
            response,
            turnaround,
            dispatches,
            preemptions,
            output: p.output.clone(),
            output_at: p.output_at.clone(),
            errors: p.errors.clone(),
            errors_at: p.errors_at.clone(),
            globals: self
                .plan
                .globals
                .iter()
                .zip(p.globals.iter())
                .map(|((n, _), v)| (n.to_string(), v.clone()))
                .collect(),
            threads: threads::reports(p, main, by_thread, i),
        }
    }
}

/// What a process's own trace (its main thread's events) says about it.
#[derive(Debug, Clone, Copy, Default)]
struct Traced {
    running: u64,
    ready: u64,
    blocked: u64,
    dispatches: u64,
    preemptions: u64,
}

fn summary(processes: &[ProcessReport], cpus: u32, makespan: u64) -> Summary {
    let busy: u64 = processes.iter().map(|p| p.cpu).sum();
    let dispatches: u64 = processes.iter().map(|p| p.dispatches).sum();
    let ended = processes.iter().filter(|p| p.ended_at.is_some()).count() as u64;
    let avg = |xs: Vec<u64>| {
        (!xs.is_empty()).then(|| xs.iter().map(|x| *x as f64).sum::<f64>() / xs.len() as f64)
    };
    let admitted: Vec<&ProcessReport> = processes
        .iter()
        .filter(|p| p.admitted_at.is_some())
        .collect();
    Summary::from_totals(Totals {
        makespan,
        cpus,
        cpu_busy: busy,
        switch_ticks: 0,
        ended,
        dispatches,
        context_switches: dispatches,
        avg_response: avg(admitted.iter().filter_map(|p| p.response).collect()),
        avg_turnaround: avg(admitted.iter().filter_map(|p| p.turnaround).collect()),
        avg_waiting: avg(admitted.iter().map(|p| p.waiting).collect()),
    })
}
