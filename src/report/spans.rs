//! A report's trace turned into intervals: what each process and each CPU was doing from when
//! to when. The pictures (Perfetto trace, SVG Gantt chart) draw these; computing them once here
//! keeps the two pictures in agreement with each other and with the report's figures.

use crate::model::{Cause, State};

use super::{Report, TraceEvent};

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
        let mut processes: Vec<Vec<ProcSpan>> = vec![Vec::new(); n];
        let mut cpus: Vec<Vec<CpuSpan>> = vec![Vec::new(); report.cpus as usize];
        let mut builder = SpanBuilder::new(report.cpus, context_switch, n);
        let mut put = |piece: Piece| match piece {
            Piece::New { proc, until } => {
                let i = proc as usize;
                let start = report.processes[i].created_at;
                if until > start {
                    processes[i].push(ProcSpan {
                        start,
                        end: until,
                        phase: Phase::New,
                    });
                }
            }
            Piece::Proc(proc, span) => processes[proc as usize].push(span),
            Piece::Cpu(cpu, span) => cpus[cpu as usize].push(span),
        };
        // A transition of a process the report does not list (a damaged report) is left out.
        for e in report.trace.iter().filter(|e| (e.proc as usize) < n) {
            builder.event(e, &mut put);
        }
        let end = report_end(report);
        for (i, p) in report.processes.iter().enumerate() {
            builder.close_process(i as u32, end, p.reaped_at, &mut put);
        }
        builder.close_cpus(end, &mut put);
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

/// Where the pictures of `report` end: the makespan, or later if a zombie outlived the last
/// exit (its parent reaped it after).
pub fn report_end(report: &Report) -> u64 {
    let mut end = report.summary.makespan;
    for p in &report.processes {
        if let (Some(r), Some(_)) = (p.reaped_at, p.ended_at) {
            end = end.max(r);
        }
    }
    end
}

/// A piece of the intervals, as [`SpanBuilder`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Process `proc` was `new` from its creation until `until` (its first transition, or the
    /// end of the picture): the builder sees no creation time, the caller knows it.
    New {
        /// The process.
        proc: u32,
        /// Its first transition.
        until: u64,
    },
    /// A closed interval of process `proc` (never `new`, never empty).
    Proc(u32, ProcSpan),
    /// A closed interval of CPU `cpu` (never empty).
    Cpu(u32, CpuSpan),
}

/// Where a process stands while the trace is read.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// No transition yet: `new`.
    Unseen,
    /// In `phase` since the tick.
    At(u64, Phase),
}

/// The intervals of a trace read one transition at a time, so that a run too large to hold
/// can be drawn as it goes: what [`Spans::new`] does, piece by piece. It keeps a slot for
/// each of the first `followed` processes (the others' transitions only move the CPUs).
#[derive(Debug, Clone)]
pub struct SpanBuilder {
    context_switch: u64,
    /// `kernel.thread_switch`: a switch between two threads of one process (SPEC §4a).
    thread_switch: u64,
    followed: usize,
    current: Vec<Slot>,
    /// Per CPU: the task it ran last, and the run in progress `(since, task)`.
    last: Vec<Option<TaskId>>,
    running: Vec<Option<(u64, TaskId)>>,
}

/// A task as a CPU sees it: its process (an index in [`Report::processes`]) and its tid (the
/// pid for a process's main thread, or for a process without threads).
type TaskId = (u32, u32);

fn task_id(e: &TraceEvent) -> TaskId {
    (e.proc, e.tid.unwrap_or(e.pid))
}

impl SpanBuilder {
    /// A builder for a run on `cpus` CPUs that follows the phases of the processes of index
    /// below `followed` (see [`Spans::new`] for `context_switch`).
    pub fn new(cpus: u32, context_switch: u64, followed: usize) -> SpanBuilder {
        SpanBuilder {
            context_switch,
            thread_switch: 0,
            followed,
            current: Vec::new(),
            last: vec![None; cpus as usize],
            running: vec![None; cpus as usize],
        }
    }

    /// The same, with `kernel.thread_switch`: the ticks before a dispatch of a thread whose
    /// CPU ran another thread of its process last are that switch's (SPEC §4a).
    pub fn with_thread_switch(mut self, thread_switch: u64) -> SpanBuilder {
        self.thread_switch = thread_switch;
        self
    }

    /// Whether `e` is a dispatch whose switch is a thread switch: its CPU ran another thread
    /// of its process last, and `kernel.thread_switch` is not 0 (the pieces of
    /// [`SpanBuilder::event_row`] for `e` then hold a switch of `thread_switch` ticks). Ask
    /// before handing `e` to the builder.
    pub fn is_thread_switch(&self, e: &TraceEvent) -> bool {
        let cpu = e.cpu.unwrap_or(0) as usize;
        e.to == State::Running
            && self.thread_switch > 0
            && self
                .last
                .get(cpu)
                .copied()
                .flatten()
                .is_some_and(|last| last.0 == e.proc && last != task_id(e))
    }

    /// Takes in one transition (in trace order), handing `put` the intervals it closes.
    /// A process's spans are its main thread's; its other threads' runs are the CPUs', drawn
    /// under their process's name ([`SpanBuilder::event_row`] follows them on rows of
    /// their own).
    pub fn event(&mut self, e: &TraceEvent, put: &mut impl FnMut(Piece)) {
        let followed = (e.proc as usize) < self.followed && !e.is_other_thread();
        self.event_row(e, followed.then_some(e.proc), put);
    }

    /// Takes in one transition of the task drawn on row `row` (`None`: a task not followed,
    /// whose transitions only move the CPUs); the pieces of its phases are that row's.
    pub fn event_row(&mut self, e: &TraceEvent, row: Option<u32>, put: &mut impl FnMut(Piece)) {
        let ncpu = self.last.len();
        let task = task_id(e);
        let followed = row.is_some_and(|r| (r as usize) < self.followed);
        let (i, row) = match row {
            Some(r) if followed => (r as usize, r),
            _ => (0, 0),
        };
        let mut phase = None;
        if followed {
            if self.current.len() <= i {
                self.current.resize(i + 1, Slot::Unseen);
            }
            match self.current[i] {
                Slot::Unseen => put(Piece::New {
                    proc: row,
                    until: e.t,
                }),
                Slot::At(since, p) => {
                    if e.t > since {
                        put(Piece::Proc(
                            row,
                            ProcSpan {
                                start: since,
                                end: e.t,
                                phase: p,
                            },
                        ));
                    }
                    phase = Some(p);
                }
            }
        }
        // Leaving a CPU: close the run there. (A process not followed leaves from `running`.)
        let leaving = match phase {
            Some(Phase::Running { cpu }) => Some(cpu),
            Some(_) => None,
            None if !followed && e.from == State::Running => e.cpu,
            None => None,
        };
        if let Some(cpu) = leaving
            && let Some(slot) = self.running.get_mut(cpu as usize)
            && let Some((from, p)) = *slot
            && p == task
        {
            if e.t > from {
                put(Piece::Cpu(cpu, run_span(from, e.t, p.0, CpuWork::Run)));
            }
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
                    if self.last[c] != Some(task) {
                        // Between two threads of one process: `thread_switch`.
                        let cost = match self.last[c] {
                            Some((proc, _)) if proc == e.proc => self.thread_switch,
                            _ => self.context_switch,
                        };
                        let start = e.t.saturating_sub(cost);
                        if e.t > start {
                            put(Piece::Cpu(
                                cpu,
                                run_span(start, e.t, e.proc, CpuWork::Switch),
                            ));
                        }
                    }
                    self.last[c] = Some(task);
                    self.running[c] = Some((e.t, task));
                }
                Phase::Running { cpu }
            }
        };
        if followed {
            self.current[i] = Slot::At(e.t, next);
        }
    }

    /// Closes process `proc`'s open interval at `end` (a zombie at its reaping, `reaped_at`,
    /// if it was reaped); a process never seen was `new` until `end`.
    pub fn close_process(
        &self,
        proc: u32,
        end: u64,
        reaped_at: Option<u64>,
        put: &mut impl FnMut(Piece),
    ) {
        if proc as usize >= self.followed {
            return;
        }
        match self
            .current
            .get(proc as usize)
            .copied()
            .unwrap_or(Slot::Unseen)
        {
            Slot::Unseen => put(Piece::New { proc, until: end }),
            Slot::At(since, phase) => {
                let until = match phase {
                    Phase::Zombie => reaped_at.unwrap_or(end),
                    _ => end,
                };
                if until > since {
                    put(Piece::Proc(
                        proc,
                        ProcSpan {
                            start: since,
                            end: until,
                            phase,
                        },
                    ));
                }
            }
        }
    }

    /// Closes the runs in progress at `end` (after [`SpanBuilder::close_process`] for each
    /// process).
    pub fn close_cpus(self, end: u64, put: &mut impl FnMut(Piece)) {
        for (c, slot) in self.running.into_iter().enumerate() {
            if let Some((from, p)) = slot
                && end > from
            {
                put(Piece::Cpu(c as u32, run_span(from, end, p.0, CpuWork::Run)));
            }
        }
    }
}

fn run_span(start: u64, end: u64, proc: u32, work: CpuWork) -> CpuSpan {
    CpuSpan {
        start,
        end,
        proc,
        work,
    }
}
