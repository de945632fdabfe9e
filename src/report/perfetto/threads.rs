//! The threads' tracks of the Perfetto file (SPEC §4a): a track for each thread other than a
//! main thread (whose phases are its process's track), in the `Processes` group, sorted with
//! its process's track and named `Process/thread (tid N)`. Lanes are made as threads first
//! appear in the trace, so the file is still written as the run goes; a tid freed by a
//! thread's end and made again later gets a lane of its own.

use std::collections::HashMap;
use std::io;

use super::super::TraceEvent;
use super::super::spans::{Piece, SpanBuilder};
use super::super::spill::Sorter;
use super::slices::{Slice, THREAD_LANE, phase_slice, slice_key};
use crate::model::State;

/// One thread's lane.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lane {
    /// Its process: an index in the report.
    pub(super) proc: u32,
    /// Its tid.
    pub(super) tid: u32,
    /// Its first transition (its creation).
    pub(super) first: u64,
    /// Its end, if it ended.
    pub(super) ended: Option<u64>,
}

/// The threads' phases while the run goes: a lane per thread, in the order they appear.
#[derive(Debug)]
pub(super) struct ThreadLanes {
    /// Phases only: no CPU (the process builder draws the CPUs).
    builder: SpanBuilder,
    /// The lane of each thread alive, by process and tid.
    live: HashMap<(u32, u32), u32>,
    pub(super) lanes: Vec<Lane>,
}

impl ThreadLanes {
    pub(super) fn new() -> ThreadLanes {
        ThreadLanes {
            builder: SpanBuilder::new(0, 0, usize::MAX),
            live: HashMap::new(),
            lanes: Vec::new(),
        }
    }

    /// Takes in a transition of a thread other than a main thread.
    pub(super) fn event(
        &mut self,
        e: &TraceEvent,
        slices: &mut Sorter<Slice>,
        next: &mut u64,
    ) -> io::Result<()> {
        let key = (e.proc, e.tid.unwrap_or(e.pid));
        let lane = match self.live.get(&key) {
            Some(&lane) => lane,
            None => {
                let lane = self.lanes.len() as u32;
                self.lanes.push(Lane {
                    proc: key.0,
                    tid: key.1,
                    first: e.t,
                    ended: None,
                });
                self.live.insert(key, lane);
                lane
            }
        };
        if e.to == State::Terminated {
            self.live.remove(&key);
            self.lanes[lane as usize].ended = Some(e.t);
        }
        let mut result = Ok(());
        self.builder.event_row(e, Some(lane), &mut |piece| {
            if result.is_ok() {
                result = put(slices, next, piece);
            }
        });
        result
    }

    /// Closes every lane at `end` (a thread's at its end: a thread is no zombie).
    pub(super) fn close(
        &self,
        end: u64,
        slices: &mut Sorter<Slice>,
        next: &mut u64,
    ) -> io::Result<()> {
        let mut result = Ok(());
        for (k, lane) in self.lanes.iter().enumerate() {
            self.builder
                .close_process(k as u32, end, lane.ended, &mut |piece| {
                    if result.is_ok() {
                        result = put(slices, next, piece);
                    }
                });
        }
        result
    }

    /// The lanes of each process, by process.
    pub(super) fn by_process(&self) -> HashMap<u32, Vec<u32>> {
        let mut by: HashMap<u32, Vec<u32>> = HashMap::new();
        for (k, lane) in self.lanes.iter().enumerate() {
            by.entry(lane.proc).or_default().push(k as u32);
        }
        by
    }
}

/// Files a thread's phase under its lane (its creation is its first transition: no `new`).
fn put(slices: &mut Sorter<Slice>, next: &mut u64, piece: Piece) -> io::Result<()> {
    match piece {
        Piece::Proc(lane, span) => {
            let key = slice_key(THREAD_LANE, lane, *next);
            *next += 1;
            slices.push(phase_slice(key, span))
        }
        Piece::New { .. } | Piece::Cpu(..) => Ok(()),
    }
}
