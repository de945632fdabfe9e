//! What the chart draws, gathered from the transitions as they come: the CPU lanes, the
//! counts and the rows, each exact where the chart is exact and otherwise added up in its
//! columns, so that a run of any length is drawn from no more than the picture holds.

use std::borrow::Borrow;
use std::ops::Range;

use super::super::spans::{CpuSpan, CpuWork, Phase, Piece, ProcSpan, SpanBuilder};
use super::super::{ProcessReport, TraceEvent};
use super::Layout;
use super::columns::{Class, Frame, accumulate};

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
    Exact(Vec<CpuSpan>),
    /// Per column, the time running and the time switching.
    Columns(Vec<[u64; 2]>),
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
    /// A row per range of processes.
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
    /// Per process, its first transition (when it stopped being `new`), `u64::MAX` before.
    first: Vec<u64>,
    out: Collected,
}

impl Collector {
    /// A collector for `rows` (ranges of processes) drawn in `frame`'s columns as `layout`
    /// says: exact rows when it says so, exact lanes when a column is a tick.
    pub(super) fn new(
        frame: &Frame,
        layout: &Layout,
        context_switch: u64,
        rows: &[Range<usize>],
        show_counts: bool,
    ) -> Collector {
        let Layout {
            cpus: ncpu,
            group,
            exact,
            lanes_each,
            ..
        } = *layout;
        let n = rows.last().map_or(0, |r| r.end);
        let columns = frame.columns;
        let lane = || {
            if frame.k == 1 {
                LaneData::Exact(Vec::new())
            } else {
                LaneData::Columns(vec![[0; 2]; columns])
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
            spans: SpanBuilder::new(ncpu as u32, context_switch, n),
            k: frame.k,
            group: group.max(1),
            lanes_each,
            show_counts,
            first: Vec::new(),
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
                rows: rows.iter().map(|_| row()).collect(),
            },
        }
    }

    /// Takes in one transition, in trace order.
    pub(super) fn event(&mut self, e: &TraceEvent) {
        let Collector { spans, .. } = self;
        let mut pieces = [None; 3];
        let mut n = 0;
        spans.event(e, &mut |piece| {
            if n < pieces.len() {
                pieces[n] = Some(piece);
                n += 1;
            }
        });
        for piece in pieces.into_iter().flatten() {
            self.take(piece, None);
        }
    }

    /// Files a piece; `created` is the creation time of a `new` piece's process, when known.
    fn take(&mut self, piece: Piece, created: Option<u64>) {
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
                match self.out.lanes.get_mut(cpu as usize) {
                    Some(LaneData::Exact(lane)) => lane.push(span),
                    Some(LaneData::Columns(acc)) => {
                        let slot = match span.work {
                            CpuWork::Run => 0,
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
        if self.show_counts {
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
    /// its creation time places its `new` interval, its reaping ends its zombie one.
    pub(super) fn finish<P: Borrow<ProcessReport>>(
        mut self,
        end: u64,
        processes: impl Iterator<Item = P>,
    ) -> Collected {
        for (i, p) in processes.enumerate() {
            let p = p.borrow();
            if let Some(&until) = self.first.get(i)
                && until != u64::MAX
            {
                self.take(
                    Piece::New {
                        proc: i as u32,
                        until,
                    },
                    Some(p.created_at),
                );
            }
            let mut pieces = Vec::new();
            self.spans
                .close_process(i as u32, end, p.reaped_at, &mut |piece| pieces.push(piece));
            for piece in pieces {
                self.take(piece, Some(p.created_at));
            }
        }
        let spans = std::mem::replace(&mut self.spans, SpanBuilder::new(0, 0, 0));
        let mut pieces = Vec::new();
        spans.close_cpus(end, &mut |piece| pieces.push(piece));
        for piece in pieces {
            self.take(piece, None);
        }
        self.out
    }
}
