//! The threads in the task manager's view at one moment (SPEC §4a): a row for each thread of
//! [`TaskRows`] (its process's own row is its main thread's, as [`super::Replay`] shows it),
//! replayed from the threads' own transitions. The HTML page lists them under their process.

use super::rows::TaskRows;
use super::snapshot::{Activity, Live, ProcView};
use super::{Report, TraceEvent};

/// The threads' rows of a report, replayed transition by transition.
#[derive(Debug, Clone)]
pub(super) struct ThreadReplay<'a> {
    report: &'a Report,
    rows: TaskRows,
    /// Per row of `rows`: where its thread is (`None` for a process's row).
    live: Vec<Option<Live>>,
    /// The places in `rows` of the threads' rows (at most the rows' limit): a view walks
    /// these, not every process's row, so that a page's frames cost no more with more processes.
    thread_rows: Vec<usize>,
    applied: usize,
}

impl<'a> ThreadReplay<'a> {
    /// The replay of `rows`'s threads before any transition.
    pub(super) fn new(report: &'a Report, rows: TaskRows) -> ThreadReplay<'a> {
        let live = rows
            .rows
            .iter()
            .map(|r| r.thread.map(|_| Live::new(r.created)))
            .collect();
        let thread_rows = (rows.rows.iter().enumerate())
            .filter(|(_, r)| r.thread.is_some())
            .map(|(i, _)| i)
            .collect();
        ThreadReplay {
            report,
            rows,
            live,
            thread_rows,
            applied: 0,
        }
    }

    /// Applies every transition stamped `t` or earlier.
    pub(super) fn advance_to(&mut self, t: u64) {
        while let Some(e) = self.report.trace.get(self.applied)
            && e.t <= t
        {
            self.applied += 1;
            self.apply(e);
        }
    }

    /// Applies one transition of the trace (those of main threads change nothing here).
    pub(super) fn apply(&mut self, e: &TraceEvent) {
        if !e.is_other_thread() {
            return;
        }
        if let Some(row) = self.rows.row(e)
            && let Some(Some(live)) = self.live.get_mut(row as usize)
        {
            live.apply(e);
        }
    }

    /// Threads left without a row (past the rows' limit).
    pub(super) fn hidden(&self) -> usize {
        self.rows.hidden_threads
    }

    /// The threads made by `t`, each with its row: its tid as the pid, its process's pid
    /// as the ppid and its process's name as the parent; an ended thread shows as `exited`
    /// (a thread is no zombie).
    pub(super) fn view(&self, t: u64) -> Vec<(usize, ProcView)> {
        let processes = &self.report.processes;
        let mut out = Vec::new();
        for &i in &self.thread_rows {
            let (r, live) = (&self.rows.rows[i], &self.live[i]);
            let (Some(k), Some(live)) = (r.thread, live) else {
                continue;
            };
            if r.created > t {
                continue;
            }
            let p = &processes[r.proc as usize];
            let thread = &p.threads[k];
            let (mut activity, cpu_time) = live.at(t);
            if activity == Activity::Zombie {
                activity = Activity::Exited;
            }
            out.push((
                i,
                ProcView {
                    index: r.proc as usize,
                    pid: thread.tid,
                    ppid: p.pid,
                    name: thread.name.clone(),
                    parent: p.name.clone(),
                    activity,
                    cpu_time,
                    exitcode: None,
                },
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::rows::MAX_THREAD_ROWS;

    /// scenarios/thread-switch.json (its description derives the times): Thread-1 (spin) is
    /// made at 2 and waits for its thread switch (2–3), runs 3–6 and ends at 6.
    #[test]
    fn a_thread_row_follows_its_thread() {
        let text = std::fs::read_to_string("scenarios/thread-switch.json").unwrap();
        let report = crate::Sim::new(crate::load_str(&text).unwrap(), Default::default()).run();
        let rows = TaskRows::new(&report.processes, MAX_THREAD_ROWS);
        let mut replay = ThreadReplay::new(&report, rows);
        let mut at = |t: u64| {
            replay.advance_to(t);
            replay
                .view(t)
                .into_iter()
                .map(|(row, v)| (row, v.activity.words(), v.cpu_time, v.activity.cpu()))
                .collect::<Vec<_>>()
        };
        assert_eq!(at(1), []);
        assert_eq!(at(2), [(1, "ready".to_owned(), 0, None)]);
        assert_eq!(at(4), [(1, "running".to_owned(), 1, Some(0))]);
        assert_eq!(at(7), [(1, "exited".to_owned(), 3, None)]);
        assert_eq!(report.processes[0].threads[1].cpu, 3);
    }
}
