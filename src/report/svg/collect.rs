//! What the chart draws, gathered from the transitions as they come: the CPU lanes, the
//! counts and the rows, each exact where the chart is exact and otherwise added up in its
//! columns, so that a run of any length is drawn from no more than the picture holds.

use std::borrow::Borrow;
use std::ops::Range;

use super::super::rows::TaskRows;
use super::super::spans::{CpuSpan, CpuWork, Phase, Piece, ProcSpan, SpanBuilder};
use super::super::{ProcessReport, TraceEvent};
use super::Layout;
use super::columns::{Class, Frame, accumulate};

/// A CPU's interval, and whether it is a switch between two threads of one process.
#[derive(Debug, Clone, Copy)]
pub(super) struct LaneSpan {
    pub(super) span: CpuSpan,
    /// A thread switch (SPEC §4a): drawn apart from a context switch.
    pub(super) thread_switch: bool,
}

/// A row's intervals: exact, or added up per column by [`Class`].
#[derive(Debug, Clone)]
pub(super) enum RowData {
    /// Every interval of the row's one process, in time order.
    Exact(Vec<ProcSpan>),
    /// Per column, the time its processes spent in each class.
    Columns(Vec<[u64; 5]>),
}

/// A CPU lane's intervals: exact, or added up per column (running, switching).
#[derive(Debug, Clone)]
pub(super) enum LaneData {
    /// Every interval, in time order.
    Exact(Vec<LaneSpan>),
    /// Per column, the time running, the time in context switches and in thread switches.
    Columns(Vec<[u64; 3]>),
}

/// Everything the chart draws of a run's intervals.
#[derive(Debug, Clone)]
pub(super) struct Collected {
    /// A lane per CPU (when there are few enough for a lane each).
    pub(super) lanes: Vec<LaneData>,
    /// Per column, the CPU time spent running, over all CPUs (when they share one lane).
    pub(super) busy: Vec<[u64; 1]>,
    /// Per column, the time all processes spent in each class (for the chart of counts).
    pub(super) counts: Vec<[u64; 5]>,
    /// A row per range of processes, or per task of [`Collector::new`]'s `tasks`.
    pub(super) rows: Vec<RowData>,
}

/// Gathers [`Collected`] from a trace, transition by transition.
#[derive(Debug)]
pub(super) struct Collector {
    spans: SpanBuilder,
    k: u64,
    /// The row of each process is `process / group`.
    group: usize,
    lanes_each: bool,
    show_counts: bool,
    /// Per process (per row, with `tasks`), its first transition (when it stopped being
    /// `new`), `u64::MAX` before.
    first: Vec<u64>,
    /// The rows of tasks, when threads have rows (SPEC §4a): a transition goes to its task's
    /// row, and only processes' rows count in the chart of counts.
    tasks: Option<TaskRows>,
    out: Collected,
}

impl Collector {
    /// A collector for `rows` (ranges of processes), or the rows of `tasks` when given, drawn
    /// in `frame`'s columns as `layout` says: exact rows when it says so, exact lanes when a
    /// column is a tick. `switches` are `kernel.context_switch` and `kernel.thread_switch`.
    pub(super) fn new(
        frame: &Frame,
        layout: &Layout,
        (context_switch, thread_switch): (u64, u64),
        rows: &[Range<usize>],
        tasks: Option<TaskRows>,
        show_counts: bool,
    ) -> Collector {
        let Layout {
            cpus: ncpu,
            group,
            exact,
            lanes_each,
            ..
        } = *layout;
        // The rows followed: one per process, or one per task.
        let n = match &tasks {
            Some(t) => t.rows.len(),
            None => rows.last().map_or(0, |r| r.end),
        };
        let drawn = tasks.as_ref().map_or(rows.len(), |t| t.rows.len());
        let columns = frame.columns;
        let lane = || {
            if frame.k == 1 {
                LaneData::Exact(Vec::new())
            } else {
                LaneData::Columns(vec![[0; 3]; columns])
            }
        };
        let row = || {
            if exact {
                RowData::Exact(Vec::new())
            } else {
                RowData::Columns(vec![[0; 5]; columns])
            }
        };
        Collector {
            spans: SpanBuilder::new(ncpu as u32, context_switch, n)
                .with_thread_switch(thread_switch),
            k: frame.k,
            group: group.max(1),
            lanes_each,
            show_counts,
            first: Vec::new(),
            tasks,
            out: Collected {
                lanes: if lanes_each {
                    (0..ncpu).map(|_| lane()).collect()
                } else {
                    Vec::new()
                },
                busy: if lanes_each {
                    Vec::new()
                } else {
                    vec![[0]; columns]
                },
                counts: if show_counts {
                    vec![[0; 5]; columns]
                } else {
                    Vec::new()
                },
                rows: (0..drawn).map(|_| row()).collect(),
            },
        }
    }

    /// Takes in one transition, in trace order.
    pub(super) fn event(&mut self, e: &TraceEvent) {
        // A process's row is its main thread's; its other threads have rows of their own
        // when there are `tasks`, else only move the CPUs.
        let row = match &self.tasks {
            Some(tasks) => tasks.row(e),
            None => (!e.is_other_thread()).then_some(e.proc),
        };
        let Collector { spans, .. } = self;
        let thread_switch = spans.is_thread_switch(e);
        let mut pieces = [None; 3];
        let mut n = 0;
        spans.event_row(e, row, &mut |piece| {
            if n < pieces.len() {
                pieces[n] = Some(piece);
                n += 1;
            }
        });
        for piece in pieces.into_iter().flatten() {
            self.take(piece, None, thread_switch);
        }
    }

    /// Files a piece; `created` is the creation time of a `new` piece's process (or task),
    /// when known; a switch in it is a thread switch when `thread_switch`.
    fn take(&mut self, piece: Piece, created: Option<u64>, thread_switch: bool) {
        match piece {
            Piece::New { proc, until } => match created {
                Some(start) if until > start => self.add_proc(
                    proc as usize,
                    ProcSpan {
                        start,
                        end: until,
                        phase: Phase::New,
                    },
                ),
                Some(_) => {}
                None => {
                    let i = proc as usize;
                    if self.first.len() <= i {
                        self.first.resize(i + 1, u64::MAX);
                    }
                    self.first[i] = until;
                }
            },
            Piece::Proc(proc, span) => self.add_proc(proc as usize, span),
            Piece::Cpu(cpu, span) => {
                let k = self.k;
                if !self.lanes_each {
                    if span.work == CpuWork::Run {
                        accumulate(&mut self.out.busy, k, [(span.start, span.end, 0)]);
                    }
                    return;
                }
                let thread_switch = thread_switch && span.work == CpuWork::Switch;
                match self.out.lanes.get_mut(cpu as usize) {
                    Some(LaneData::Exact(lane)) => lane.push(LaneSpan {
                        span,
                        thread_switch,
                    }),
                    Some(LaneData::Columns(acc)) => {
                        let slot = match span.work {
                            CpuWork::Run => 0,
                            CpuWork::Switch if thread_switch => 2,
                            CpuWork::Switch => 1,
                        };
                        accumulate(acc, k, [(span.start, span.end, slot)]);
                    }
                    None => {}
                }
            }
        }
    }

    fn add_proc(&mut self, i: usize, span: ProcSpan) {
        let k = self.k;
        let interval = [(span.start, span.end, Class::of(span.phase) as usize)];
        // The counts are of processes: a thread's row is not one.
        let process = self
            .tasks
            .as_ref()
            .is_none_or(|t| t.rows.get(i).is_some_and(|r| r.thread.is_none()));
        if self.show_counts && process {
            accumulate(&mut self.out.counts, k, interval);
        }
        match self.out.rows.get_mut(i / self.group) {
            Some(RowData::Exact(lane)) => {
                // The `new` interval is known last (with the creation time) and goes first.
                if span.phase == Phase::New {
                    lane.insert(0, span);
                } else {
                    lane.push(span);
                }
            }
            Some(RowData::Columns(acc)) => accumulate(acc, k, interval),
            None => {}
        }
    }

    /// Closes what is open at `end`, given each of the run's processes (in order, once):
    /// its creation time places its `new` interval, its reaping ends its zombie one. With
    /// `tasks`, each row's own times do (a thread's row ends at its end), and `processes`
    /// is not read.
    pub(super) fn finish<P: Borrow<ProcessReport>>(
        mut self,
        end: u64,
        processes: impl Iterator<Item = P>,
    ) -> Collected {
        match self.tasks.take() {
            Some(tasks) => {
                for (i, r) in tasks.rows.iter().enumerate() {
                    self.close_row(i, end, r.created, r.gone);
                }
                self.tasks = Some(tasks);
            }
            None => {
                for (i, p) in processes.enumerate() {
                    let p = p.borrow();
                    self.close_row(i, end, p.created_at, p.reaped_at);
                }
            }
        }
        let spans = std::mem::replace(&mut self.spans, SpanBuilder::new(0, 0, 0));
        let mut pieces = Vec::new();
        spans.close_cpus(end, &mut |piece| pieces.push(piece));
        for piece in pieces {
            self.take(piece, None, false);
        }
        self.out
    }

    /// Closes row `i` (a process's, or a task's) at `end`: made at `created`, gone at `gone`.
    fn close_row(&mut self, i: usize, end: u64, created: u64, gone: Option<u64>) {
        if let Some(&until) = self.first.get(i)
            && until != u64::MAX
        {
            self.take(
                Piece::New {
                    proc: i as u32,
                    until,
                },
                Some(created),
                false,
            );
        }
        let mut pieces = Vec::new();
        self.spans
            .close_process(i as u32, end, gone, &mut |piece| pieces.push(piece));
        for piece in pieces {
            self.take(piece, Some(created), false);
        }
    }
}
