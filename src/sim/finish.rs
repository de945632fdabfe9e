//! Turning the kernel's process table into a [`Report`].

use super::pcb::{Hot, NO_PROC, NONE, Pcb};
use super::{Kernel, Policy};
use crate::model::State;
use crate::report::{LineAt, ProcessReport, Report, Summary, TimeUnit, Totals};

/// What the summary adds up over the processes: one process's share is added by
/// [`Tally::add`], whether at the end of the run or when its record is given back.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tally {
    last_end: u64,
    /// The latest reaping of a process that ended (where a picture ends, if after the
    /// makespan: [`Kernel::listed_end`]).
    pub(super) last_reaping: u64,
    busy: u64,
    dispatches: u64,
    ended: u64,
    resp: u128,
    resp_n: u64,
    turn: u128,
    turn_n: u64,
    wait: u128,
    wait_n: u64,
}

impl Tally {
    /// Adds process `p`'s figures as they stand at `now`.
    pub(super) fn add(&mut self, p: &Pcb, h: &Hot, now: u64) {
        // Time since the process's last transition, not yet added to its figures (zero
        // once `account_to_now` ran, and for a run that ended by itself).
        let pending = now.saturating_sub(h.since);
        let (cpu, waiting) = match h.state {
            State::Running => (h.cpu.saturating_add(pending), h.waiting),
            State::Ready => (h.cpu, h.waiting.saturating_add(pending)),
            _ => (h.cpu, h.waiting),
        };
        // With several CPUs the sums can pass 2^64 where one process cannot; they saturate.
        self.busy = self.busy.saturating_add(cpu);
        self.dispatches = self.dispatches.saturating_add(u64::from(h.dispatches));
        // A thread's CPU time and dispatches are the CPUs'; the averages and the count of
        // ended processes are over processes.
        if p.is_thread() {
            return;
        }
        if p.ended_at != NONE {
            self.last_end = self.last_end.max(p.ended_at);
            if p.reaped_at() != NONE {
                self.last_reaping = self.last_reaping.max(p.reaped_at());
            }
        }
        if p.admitted_at == NONE {
            return;
        }
        self.wait += u128::from(waiting);
        self.wait_n += 1;
        if p.first_run != NONE {
            self.resp += u128::from(p.first_run - p.admitted_at);
            self.resp_n += 1;
        }
        if p.ended_at != NONE {
            self.ended += 1;
            self.turn += u128::from(p.ended_at - p.admitted_at);
            self.turn_n += 1;
        }
    }
}

fn opt(t: u64) -> Option<u64> {
    (t != NONE).then_some(t)
}

impl<P: Policy> Kernel<P> {
    /// The report as it stands: complete after [`Kernel::run`], partial if a limit stopped the
    /// run (processes that had not ended have `exitcode` null, and their times run to the stop).
    pub fn report(mut self) -> Report {
        self.account_to_now();
        let summary = self.summary();
        // Held, a report whose top-level names passed the names ceiling lists those before it
        // (the run stopped before any transition: no event names the others).
        let listed = match self.trace {
            super::Recorder::Keep(_) if self.names_past != NO_PROC => self.names_past,
            _ => u32::MAX,
        };
        let processes = (0..(self.procs.len() as u32).min(listed))
            .filter(|&p| !self.procs[p as usize].vacant() && !self.is_thread(p))
            .map(|p| self.process_report(p))
            .collect();
        Report {
            scenario: self.plan.name.clone(),
            backend: "sim".into(),
            time_unit: TimeUnit::Tick,
            cpus: self.plan.kernel.cpus,
            error: self.error.take(),
            processes,
            trace: match std::mem::replace(&mut self.trace, super::Recorder::Off) {
                super::Recorder::Keep(events) => events,
                super::Recorder::Off | super::Recorder::Stream(_) => Vec::new(),
            },
            summary,
            real: None,
            notes: self.notes(),
        }
    }

    /// Brings the figures of processes that have not ended up to the current tick (for a run
    /// that a limit stopped).
    pub(super) fn account_to_now(&mut self) {
        let now = self.now;
        for hot in &mut self.hot {
            if hot.state != State::Terminated {
                hot.account(now);
            }
        }
    }

    /// Ticks of the context switches under way at `now`: a run stopped in the middle of one
    /// has spent them switching, not idle.
    fn switching_now(&self) -> u64 {
        self.cpus
            .iter()
            .map(|cpu| match cpu.run {
                super::Run::Switching { from, .. } => self.now.saturating_sub(from),
                _ => 0,
            })
            .fold(0u64, u64::saturating_add)
    }

    /// The summary alone, without building a per-process report (for `--format summary` on
    /// runs too large to list). It is the one summary of a run: [`Kernel::report`] calls it
    /// too, and for a run a limit stopped it counts the time up to the stop that the process
    /// table has not taken in yet (a burst or a wait in progress, a context switch under way),
    /// so every format and every sweep row say the same.
    pub fn summary(&self) -> Summary {
        let tally = self.tally();
        let makespan = self.makespan(&tally);
        let avg = |sum: u128, n: u64| (n > 0).then(|| sum as f64 / n as f64);
        Summary::from_totals(Totals {
            makespan,
            cpus: self.plan.kernel.cpus,
            cpu_busy: tally.busy,
            switch_ticks: self.switch_ticks.saturating_add(self.switching_now()),
            ended: tally.ended,
            dispatches: tally.dispatches,
            context_switches: self.context_switches,
            avg_response: avg(tally.resp, tally.resp_n),
            avg_turnaround: avg(tally.turn, tally.turn_n),
            avg_waiting: avg(tally.wait, tally.wait_n),
        })
    }

    /// Every process's share of the summary as it stands now: the records given back
    /// (recycle.rs) were tallied as they went.
    pub(super) fn tally(&self) -> Tally {
        let mut tally = self.recycler.gone;
        for (p, h) in self.procs.iter().zip(&self.hot) {
            if !p.vacant() {
                tally.add(p, h, self.now);
            }
        }
        tally
    }

    /// The makespan: the last exit, or the stop of a run a limit stopped.
    pub(super) fn makespan(&self, tally: &Tally) -> u64 {
        if self.error.is_some() {
            self.now
        } else {
            tally.last_end
        }
    }

    /// The tick and number of the line written now.
    fn line_at(&mut self) -> LineAt {
        let at = LineAt {
            t: self.now,
            seq: self.lines,
        };
        self.lines += 1;
        at
    }

    /// Process `p` (or a thread of it) writes a line of output now.
    pub(super) fn push_output(&mut self, p: u32, line: String) {
        let p = self.leader(p);
        let at = self.line_at();
        let cold = self.procs[p as usize].cold();
        cold.output.push(line);
        cold.output_at.push(at);
    }

    /// Process `p` (or a thread of it) writes an error message now.
    pub(super) fn push_error(&mut self, p: u32, message: String) {
        let p = self.leader(p);
        let at = self.line_at();
        let cold = self.procs[p as usize].cold();
        cold.errors.push(message);
        cold.errors_at.push(at);
    }

    pub(super) fn process_report(&self, p: u32) -> ProcessReport {
        let pcb: &Pcb = &self.procs[p as usize];
        let hot = &self.hot[p as usize];
        let cold = pcb.cold.as_deref();
        let program = &self.plan.programs[hot.program as usize];
        let admitted = opt(pcb.admitted_at);
        ProcessReport {
            pid: hot.pid,
            ppid: self.ppid_of(p),
            creator: cold.and_then(|c| c.creator).map(|c| {
                if self.threads_on {
                    self.proc_index[c as usize]
                } else {
                    c
                }
            }),
            name: self.name_of(p),
            program: program.name.to_string(),
            daemon: pcb.daemon,
            exitcode: pcb.exitcode().map(i64::from),
            signal: pcb.signal.map(|s| s.name().to_owned()),
            created_at: pcb.created_at(),
            admitted_at: admitted,
            first_run: opt(pcb.first_run),
            ended_at: opt(pcb.ended_at),
            reaped_at: opt(pcb.reaped_at()),
            cpu: hot.cpu,
            waiting: hot.waiting,
            blocked: pcb.blocked(hot),
            response: admitted.and_then(|a| opt(pcb.first_run).map(|f| f - a)),
            turnaround: admitted.and_then(|a| opt(pcb.ended_at).map(|e| e - a)),
            dispatches: u64::from(hot.dispatches),
            preemptions: u64::from(hot.preemptions),
            output: cold.map(|c| c.output.clone()).unwrap_or_default(),
            output_at: cold.map(|c| c.output_at.clone()).unwrap_or_default(),
            errors: cold.map(|c| c.errors.clone()).unwrap_or_default(),
            errors_at: cold.map(|c| c.errors_at.clone()).unwrap_or_default(),
            globals: self
                .plan
                .globals
                .iter()
                .zip(self.globals_of(p).iter())
                .map(|((name, _), v)| (name.to_string(), v.clone()))
                .collect(),
            threads: self.thread_reports(p),
        }
    }
}
