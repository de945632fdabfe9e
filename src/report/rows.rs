//! The rows of a picture when processes have threads (SPEC §4a): a process's row (its main
//! thread's, as its figures are), then a row for each of its other threads, indented under
//! it. The timeline, the SVG chart and the Perfetto trace place a transition on its task's
//! row from here; a run without threads has exactly one row per process, in the same order.

use std::collections::HashMap;

use super::{ProcessReport, TraceEvent};

/// The most rows of threads a picture draws (the table's timeline, the SVG chart, the HTML
/// page's table); the threads past it are counted.
pub const MAX_THREAD_ROWS: usize = 40;

/// One row: a process or one of its threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// The process: an index in [`super::Report::processes`].
    pub proc: u32,
    /// The thread's index in the process's `threads` (never 0, the main thread, whose row is
    /// the process's); `None` for the process's own row.
    pub thread: Option<usize>,
    /// When the task was created.
    pub created: u64,
    /// When the row ends being drawn: a process's reaping (`None`: not reaped), a thread's
    /// end (a thread is no zombie).
    pub gone: Option<u64>,
}

/// The rows of the first processes of a run, each process followed by its threads' rows.
#[derive(Debug, Clone, Default)]
pub struct TaskRows {
    /// The rows, in order.
    pub rows: Vec<TaskRow>,
    /// Per process shown: its row.
    proc_row: Vec<u32>,
    /// The threads' rows by process and tid, in creation order (a tid freed by a thread's
    /// end may come back: the row meant is the last made by then).
    threads: HashMap<(u32, u32), Vec<(u64, u32)>>,
    /// Threads of the processes shown left without a row (past `max_thread_rows`).
    pub hidden_threads: usize,
}

impl TaskRows {
    /// A row per process of `shown`, each followed by rows for its threads other than the main
    /// thread, at most `max_thread_rows` thread rows in all.
    pub fn new(shown: &[ProcessReport], max_thread_rows: usize) -> TaskRows {
        let mut rows = TaskRows::default();
        let mut thread_rows = 0;
        for (i, p) in shown.iter().enumerate() {
            let proc = i as u32;
            rows.proc_row.push(rows.rows.len() as u32);
            rows.rows.push(TaskRow {
                proc,
                thread: None,
                created: p.created_at,
                gone: p.reaped_at,
            });
            for (k, t) in p.threads.iter().enumerate().skip(1) {
                if thread_rows == max_thread_rows {
                    rows.hidden_threads += 1;
                    continue;
                }
                thread_rows += 1;
                let row = rows.rows.len() as u32;
                rows.threads
                    .entry((proc, t.tid))
                    .or_default()
                    .push((t.created_at, row));
                rows.rows.push(TaskRow {
                    proc,
                    thread: Some(k),
                    created: t.created_at,
                    gone: t.ended_at,
                });
            }
        }
        rows
    }

    /// Whether any row is a thread's.
    pub fn has_threads(&self) -> bool {
        self.rows.len() > self.proc_row.len()
    }

    /// The row of process `proc` (an index in the processes given to [`TaskRows::new`]).
    pub fn proc_row(&self, proc: u32) -> Option<u32> {
        self.proc_row.get(proc as usize).copied()
    }

    /// The row of `e`'s task, if it has one.
    pub fn row(&self, e: &TraceEvent) -> Option<u32> {
        match e.tid {
            Some(tid) if e.is_other_thread() => {
                let made = self.threads.get(&(e.proc, tid))?;
                let at = made.partition_point(|m| m.0 <= e.t).max(1);
                Some(made[at - 1].1)
            }
            _ => self.proc_row.get(e.proc as usize).copied(),
        }
    }

    /// A row's label: the process's name, or its thread's name indented under it.
    pub fn label(&self, row: usize, shown: &[ProcessReport]) -> String {
        let r = &self.rows[row];
        let p = &shown[r.proc as usize];
        match r.thread {
            Some(k) => format!("  {}", p.threads[k].name),
            None => p.name.clone(),
        }
    }

    /// A row's name in a sentence: `Process-1` or `Process-1/Thread-1 (f)`.
    pub fn full_name(&self, row: usize, shown: &[ProcessReport]) -> String {
        let r = &self.rows[row];
        let p = &shown[r.proc as usize];
        match r.thread {
            Some(k) => format!("{}/{}", p.name, p.threads[k].name),
            None => p.name.clone(),
        }
    }
}
