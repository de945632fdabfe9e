//! The chart's columns: the five colours of a process row, how intervals add up in columns
//! of several ticks when the run is longer than the plot is wide, and the geometry shared by
//! every part of the chart.

use super::super::draw::{BLOCKED, NEW, READY, RUNNING, ZOMBIE};
use super::super::spans::Phase;

/// The five colours of a process row, in the order that breaks ties in a compressed column
/// (running first: a process that ran at all in a column should show it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Running = 0,
    Blocked = 1,
    Ready = 2,
    New = 3,
    Zombie = 4,
}

pub(super) const CLASSES: [Class; 5] = [
    Class::Running,
    Class::Blocked,
    Class::Ready,
    Class::New,
    Class::Zombie,
];

impl Class {
    pub(super) fn of(phase: Phase) -> Class {
        match phase {
            Phase::Running { .. } => Class::Running,
            Phase::Blocked { .. } => Class::Blocked,
            Phase::Ready => Class::Ready,
            Phase::New => Class::New,
            Phase::Zombie => Class::Zombie,
        }
    }

    pub(super) fn fill(self) -> &'static str {
        match self {
            Class::Running => RUNNING,
            Class::Blocked => BLOCKED,
            Class::Ready => READY,
            Class::New => NEW,
            Class::Zombie => ZOMBIE,
        }
    }
}

/// Adds each interval `(start, end, slot)` (non-empty) to the columns of `k` ticks it covers:
/// `acc[column][slot]` is the time spent in `slot` within that column.
pub(super) fn accumulate<const N: usize>(
    acc: &mut [[u64; N]],
    k: u64,
    intervals: impl IntoIterator<Item = (u64, u64, usize)>,
) {
    for (start, end, slot) in intervals {
        if end <= start {
            continue;
        }
        for col in start / k..=(end - 1) / k {
            let (lo, hi) = (col * k, (col + 1) * k);
            if let Some(cell) = acc.get_mut(col as usize) {
                cell[slot] += end.min(hi) - start.max(lo);
            }
        }
    }
}

/// The class that filled most of each column (`None` where the row had nothing), as runs of
/// equal columns: `(first column, past the last, class)`.
pub(super) fn column_runs(acc: &[[u64; 5]]) -> Vec<(usize, usize, Class)> {
    let mut runs: Vec<(usize, usize, Class)> = Vec::new();
    for (col, cell) in acc.iter().enumerate() {
        if cell.iter().all(|&t| t == 0) {
            continue;
        }
        // max_by_key keeps the last maximum; scanning in reverse makes ties go to the first.
        let best = CLASSES
            .iter()
            .rev()
            .max_by_key(|c| cell[**c as usize])
            .copied()
            .unwrap_or(Class::New);
        match runs.last_mut() {
            Some(r) if r.1 == col && r.2 == best => r.1 = col + 1,
            _ => runs.push((col, col + 1, best)),
        }
    }
    runs
}

/// Geometry shared by every part of the chart.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub(super) x0: f64,
    pub(super) w: f64,
    pub(super) end: u64,
    /// Ticks per column (1: exact).
    pub(super) k: u64,
    pub(super) columns: usize,
}

impl Frame {
    pub(super) fn x(&self, t: u64) -> f64 {
        self.x0 + t as f64 * self.w / self.end as f64
    }
    pub(super) fn col_x(&self, col: usize) -> f64 {
        self.x((col as u64 * self.k).min(self.end))
    }
}
