//! A report's trace turned into intervals: what each process and each CPU was doing from when
//! to when. The pictures (Perfetto trace, SVG Gantt chart) draw these; computing them once here
//! keeps the two pictures in agreement with each other and with the report's figures.

use crate::model::{Cause, State};

use super::Report;

/// What a process was doing during a [`ProcSpan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Created, not admitted yet.
    New,
    /// In the ready queue (a context switch towards it included).
    Ready,
    /// On CPU `cpu`.
    Running {
        /// The CPU.
        cpu: u32,
    },
    /// Blocked, for the reason `cause` (`io`, `sleep`, `join`, `wait`).
    Blocked {
        /// Why it blocked.
        cause: Cause,
    },
    /// Terminated and not reaped yet.
    Zombie,
}

impl Phase {
    /// The state this phase belongs to.
    pub fn state(self) -> State {
        match self {
            Phase::New => State::New,
            Phase::Ready => State::Ready,
            Phase::Running { .. } => State::Running,
            Phase::Blocked { .. } => State::Blocked,
            Phase::Zombie => State::Terminated,
        }
    }
}

/// A process in one phase over `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSpan {
    /// First tick.
    pub start: u64,
    /// First tick after.
    pub end: u64,
    /// What it was doing.
    pub phase: Phase,
}

/// What a CPU was doing during a [`CpuSpan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuWork {
    /// Running the process.
    Run,
    /// Switching to the process (`kernel.context_switch` ticks).
    Switch,
}

/// A CPU busy with process `proc` (an index in [`Report::processes`]) over `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuSpan {
    /// First tick.
    pub start: u64,
    /// First tick after.
    pub end: u64,
    /// The process.
    pub proc: u32,
    /// Running it or switching to it.
    pub work: CpuWork,
}

/// Every process's and every CPU's intervals. Spans of one process (or one CPU) are in time
/// order, never overlap and are never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spans {
    /// Per process, in the order of [`Report::processes`].
    pub processes: Vec<Vec<ProcSpan>>,
    /// Per CPU, from CPU 0.
    pub cpus: Vec<Vec<CpuSpan>>,
    /// Where the picture ends: the makespan, or later if a zombie outlived the last exit.
    pub end: u64,
}

impl Spans {
    /// The spans of `report`'s trace. `context_switch` is the scenario's `kernel.context_switch`:
    /// the trace records a dispatch when the switch before it is over, so the switch is placed in
    /// the `context_switch` ticks before each dispatch of a process other than the CPU's previous
    /// one, which is when the kernel spent them. (A switch cut short because its process was
    /// killed meanwhile leaves no event and is not drawn.)
    ///
    /// ```
    /// use procsim::report::{Phase, Spans};
    /// let plan = procsim::load_str(r#"{"kernel": {"context_switch": 1},
    ///     "programs": {"m": {"body": [{"cpu": 2}, {"io": 3}, {"cpu": 1}]}},
    ///     "processes": [{"program": "m"}]}"#).unwrap();
    /// let report = procsim::Sim::new(plan, Default::default()).run();
    /// let spans = Spans::new(&report, 1);
    /// let phases: Vec<(u64, u64, &str)> = spans.processes[0]
    ///     .iter()
    ///     .map(|s| (s.start, s.end, s.phase.state().name()))
    ///     .collect();
    /// // The switch (0–1) is time `ready`; after its I/O it gets the same CPU back: no switch.
    /// assert_eq!(phases, [(0, 1, "ready"), (1, 3, "running"), (3, 6, "blocked"), (6, 7, "running")]);
    /// let cpu: Vec<(u64, u64)> = spans.cpus[0].iter().map(|s| (s.start, s.end)).collect();
    /// assert_eq!(cpu, [(0, 1), (1, 3), (6, 7)]);
    /// ```
    pub fn new(report: &Report, context_switch: u64) -> Spans {
        let n = report.processes.len();
        let ncpu = report.cpus as usize;
        let mut processes: Vec<Vec<ProcSpan>> = vec![Vec::new(); n];
        let mut current: Vec<(u64, Phase)> = report
            .processes
            .iter()
            .map(|p| (p.created_at, Phase::New))
            .collect();
        let mut cpus: Vec<Vec<CpuSpan>> = vec![Vec::new(); ncpu];
        // Per CPU: the process it ran last, and the run in progress `(since, proc)`.
        let mut last: Vec<Option<u32>> = vec![None; ncpu];
        let mut running: Vec<Option<(u64, u32)>> = vec![None; ncpu];
        let push_proc = |spans: &mut Vec<ProcSpan>, start: u64, end: u64, phase: Phase| {
            if end > start {
                spans.push(ProcSpan { start, end, phase });
            }
        };
        let push_cpu = |spans: &mut Vec<CpuSpan>, start: u64, end: u64, proc: u32, work| {
            if end > start {
                spans.push(CpuSpan {
                    start,
                    end,
                    proc,
                    work,
                });
            }
        };
        for e in &report.trace {
            let i = e.proc as usize;
            if i >= n {
                continue;
            }
            let (since, phase) = current[i];
            push_proc(&mut processes[i], since, e.t, phase);
            // Leaving a CPU: close the run there.
            if let Phase::Running { cpu } = phase
                && let Some(slot) = running.get_mut(cpu as usize)
                && let Some((from, p)) = *slot
                && p == e.proc
            {
                push_cpu(&mut cpus[cpu as usize], from, e.t, p, CpuWork::Run);
                *slot = None;
            }
            let next = match e.to {
                State::New => Phase::New,
                State::Ready => Phase::Ready,
                State::Blocked => Phase::Blocked { cause: e.cause },
                State::Terminated => Phase::Zombie,
                State::Running => {
                    let cpu = e.cpu.unwrap_or(0);
                    let c = cpu as usize;
                    if c < ncpu {
                        if last[c] != Some(e.proc) {
                            let start = e.t.saturating_sub(context_switch);
                            push_cpu(&mut cpus[c], start, e.t, e.proc, CpuWork::Switch);
                        }
                        last[c] = Some(e.proc);
                        running[c] = Some((e.t, e.proc));
                    }
                    Phase::Running { cpu }
                }
            };
            current[i] = (e.t, next);
        }
        // Open intervals run to the end of the run; a zombie to its reaping.
        let mut end = report.summary.makespan;
        for p in &report.processes {
            if let (Some(r), Some(_)) = (p.reaped_at, p.ended_at) {
                end = end.max(r);
            }
        }
        for (i, (since, phase)) in current.into_iter().enumerate() {
            let until = match phase {
                Phase::Zombie => report.processes[i].reaped_at.unwrap_or(end),
                _ => end,
            };
            push_proc(&mut processes[i], since, until, phase);
        }
        for (c, slot) in running.into_iter().enumerate() {
            if let Some((from, p)) = slot {
                push_cpu(&mut cpus[c], from, end, p, CpuWork::Run);
            }
        }
        Spans {
            processes,
            cpus,
            end,
        }
    }

    /// Time spent in `state` by process `proc`, summed over its spans.
    pub fn time_in(&self, proc: usize, state: State) -> u64 {
        self.processes[proc]
            .iter()
            .filter(|s| s.phase.state() == state)
            .map(|s| s.end - s.start)
            .sum()
    }
}
