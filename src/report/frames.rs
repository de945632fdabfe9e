//! The moments of a run at which the task manager's table changes, each with only the rows that
//! changed: the data of the HTML page's time slider ([`super::html`]).
//!
//! [`Replay::view`] gives every row at a moment; calling it at each of a run's moments costs
//! the moments times the processes, which a run of 10^5 processes or a chain 10,000 deep
//! makes quadratic. So a frame looks only at the rows that can have changed since the one
//! before: the processes with a transition, a creation or a reaping in between, and those
//! adopted by init in between (their creator ended). Nothing else changes a process's row but
//! its running time, which grows a tick a tick while it runs and which the page grows itself;
//! on a real run, where that time is the kernel's count spread over the observed running, the
//! running rows are looked at in every frame too. A thread's row (at most
//! [`super::rows::MAX_THREAD_ROWS`]) is looked at in every frame.

use std::collections::BTreeSet;

use crate::model::State;

use super::Report;
use super::rows::TaskRows;
use super::snapshot::{Activity, ProcView, Replay, run_end};
use super::thread_view::ThreadReplay;

/// A row of the page's table: its key (its place in the table), and whether it is a thread's.
pub(super) type Keyed = (usize, bool, ProcView);

/// What the page shows of a row, apart from its name and its running time while it runs: a
/// row is written again when this changes. The parent's name is not kept: a row's parent
/// changes only from its creator to init, which changes its ppid too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown {
    activity: Activity,
    ppid: u32,
    exitcode: Option<i64>,
    cpu_time: u64,
}

impl Shown {
    fn of(row: &ProcView) -> Shown {
        Shown {
            activity: row.activity,
            ppid: row.ppid,
            exitcode: row.exitcode,
            cpu_time: row.cpu_time,
        }
    }

    /// The row as it would stand at `t`, written at `since`: a running row's time grown.
    fn at(self, since: u64, t: u64) -> Shown {
        let grown = match self.activity.cpu() {
            Some(_) => self.cpu_time + (t - since),
            None => self.cpu_time,
        };
        Shown {
            cpu_time: grown,
            ..self
        }
    }
}

/// Each moment at which a row of process `i` may change, as `(moment, i)`, sorted: its
/// transitions (a thread's other than its main thread's change only the thread's row), its
/// creation and reaping, and its adoption by init when its creator ended.
fn touches(report: &Report) -> Vec<(u64, u32)> {
    let n = report.processes.len();
    let mut touches: Vec<(u64, u32)> = (report.trace.iter())
        .filter(|e| (e.proc as usize) < n && !e.is_other_thread())
        .map(|e| (e.t, e.proc))
        .collect();
    for (i, p) in report.processes.iter().enumerate() {
        let i = i as u32;
        touches.push((p.created_at, i));
        touches.extend(p.reaped_at.map(|r| (r, i)));
        let adopted = (p.ppid == 1)
            .then_some(p.creator)
            .flatten()
            .and_then(|c| report.processes.get(c as usize))
            .and_then(|c| c.ended_at);
        touches.extend(adopted.map(|end| (end, i)));
    }
    touches.sort_unstable();
    touches.dedup();
    touches
}

/// Calls `frame` for each moment something changes, in order, with the rows that changed
/// since the moment before, in key order (the first moment, 0, with every row made by then,
/// even if none was); with `tasks`, the threads' rows too, each row keyed by its place in
/// `tasks` (else by its process's index).
pub(super) fn frames(
    report: &Report,
    tasks: Option<&TaskRows>,
    mut frame: impl FnMut(u64, &[Keyed]),
) {
    let end = run_end(report);
    let mut times: BTreeSet<u64> = report.trace.iter().map(|e| e.t).collect();
    times.insert(0);
    for p in &report.processes {
        times.insert(p.created_at);
        times.extend(p.reaped_at);
    }
    if let Some(tasks) = tasks {
        times.extend(tasks.rows.iter().map(|r| r.created));
    }
    let touches = touches(report);
    let mut next_touch = 0;
    let mut replay = Replay::new(report);
    let spread = replay.spreads_cpu_time();
    // On a real run: the processes running after the events applied so far.
    let mut running: BTreeSet<u32> = BTreeSet::new();
    let mut threads = tasks.map(|t| ThreadReplay::new(report, t.clone()));
    let keys = tasks.map_or(report.processes.len(), |t| t.rows.len());
    // Per row: what it showed when last written, and that moment.
    let mut last: Vec<Option<(u64, Shown)>> = vec![None; keys];
    let mut dirty: Vec<u32> = Vec::new();
    let mut first = true;
    for t in times.into_iter().filter(|&t| t <= end) {
        let applied = replay.applied();
        replay.advance_to(t);
        if spread {
            for e in &report.trace[applied..replay.applied()] {
                if e.is_other_thread() {
                    continue;
                }
                match e.to {
                    State::Running => running.insert(e.proc),
                    _ => running.remove(&e.proc),
                };
            }
        }
        dirty.clear();
        while let Some(&(at, i)) = touches.get(next_touch)
            && at <= t
        {
            dirty.push(i);
            next_touch += 1;
        }
        dirty.extend(&running);
        dirty.sort_unstable();
        dirty.dedup();
        let mut rows: Vec<Keyed> = (dirty.iter())
            .map(|&i| i as usize)
            .filter(|&i| report.processes[i].created_at <= t)
            .map(|i| {
                let key = tasks.and_then(|tasks| tasks.proc_row(i as u32));
                (key.map_or(i, |r| r as usize), false, replay.row(i, t))
            })
            .collect();
        if let Some(threads) = &mut threads {
            threads.advance_to(t);
            rows.extend(threads.view(t).into_iter().map(|(k, v)| (k, true, v)));
            rows.sort_by_key(|r| r.0);
        }
        rows.retain(|(key, _, row)| {
            let now = Shown::of(row);
            let unchanged = last[*key].is_some_and(|(t0, before)| before.at(t0, t) == now);
            if !unchanged {
                last[*key] = Some((t, now));
            }
            !unchanged
        });
        if !rows.is_empty() || first {
            frame(t, &rows);
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frames applied in turn, moment by moment.
    struct Rebuild<'f> {
        frames: &'f [(u64, Vec<Keyed>)],
        next: usize,
        rows: Vec<Option<(u64, ProcView)>>,
    }

    impl Rebuild<'_> {
        fn new(frames: &[(u64, Vec<Keyed>)], keys: usize) -> Rebuild<'_> {
            Rebuild {
                frames,
                next: 0,
                rows: vec![None; keys],
            }
        }

        /// The table at `t` (no earlier than the last asked): every frame up to `t` applied,
        /// the running rows' time grown to `t`.
        fn at(&mut self, t: u64) -> Vec<ProcView> {
            while let Some((ft, changed)) = self.frames.get(self.next)
                && *ft <= t
            {
                for (key, _, r) in changed {
                    self.rows[*key] = Some((*ft, r.clone()));
                }
                self.next += 1;
            }
            (self.rows.iter().flatten())
                .map(|(since, r)| {
                    let mut r = r.clone();
                    if r.activity.cpu().is_some() {
                        r.cpu_time += t - since;
                    }
                    r
                })
                .collect()
        }
    }

    /// Applying the frames up to any moment gives the snapshot at that moment, for every
    /// scenario of `scenarios/` (the running time of unchanged running rows grown by the time
    /// since), processes and threads alike.
    #[test]
    fn frames_rebuild_every_snapshot() {
        let mut files: Vec<_> = std::fs::read_dir("scenarios")
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(files.len() > 50, "{}", files.len());
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let Ok(plan) = crate::load_str(&text) else {
                continue;
            };
            let report = crate::Sim::new(plan, Default::default()).run();
            let tasks = TaskRows::new(&report.processes, crate::report::rows::MAX_THREAD_ROWS);
            let tasks = Some(tasks).filter(TaskRows::has_threads);
            let mut frames: Vec<(u64, Vec<Keyed>)> = Vec::new();
            super::frames(&report, tasks.as_ref(), |t, rows| {
                frames.push((t, rows.to_vec()))
            });
            let keys = tasks
                .as_ref()
                .map_or(report.processes.len(), |t| t.rows.len());
            let mut replay = Replay::new(&report);
            let mut threads = tasks
                .as_ref()
                .map(|t| ThreadReplay::new(&report, t.clone()));
            let mut rebuild = Rebuild::new(&frames, keys);
            // Every moment of a short run; of a longer one, 400 moments spread over it, each
            // frame's and the end.
            let end = run_end(&report);
            let step = (end / 400).max(1);
            let mut moments: Vec<u64> = (0..=end).step_by(step as usize).collect();
            moments.extend(frames.iter().map(|f| f.0).take(400));
            moments.push(end);
            moments.sort_unstable();
            moments.dedup();
            for t in moments {
                replay.advance_to(t);
                let want = replay.view(t);
                let mut want_rows = Vec::new();
                match &tasks {
                    // In the table's order: each process's row, then its threads'.
                    Some(tasks) => {
                        let mut keyed: Vec<(usize, ProcView)> = (want.rows.into_iter())
                            .map(|r| (tasks.proc_row(r.index as u32).unwrap() as usize, r))
                            .collect();
                        let threads = threads.as_mut().unwrap();
                        threads.advance_to(t);
                        keyed.extend(threads.view(t));
                        keyed.sort_by_key(|r| r.0);
                        want_rows.extend(keyed.into_iter().map(|r| r.1));
                    }
                    None => want_rows = want.rows,
                }
                assert_eq!(rebuild.at(t), want_rows, "{} at {t}", file.display());
            }
        }
    }

    /// A real run's report (times in µs): a running row's time is the kernel's count spread
    /// over the observed running, so it is written again at every frame while it runs, and the
    /// frames still rebuild every snapshot.
    #[test]
    fn a_real_runs_frames_rebuild_every_snapshot() {
        let text = std::fs::read_to_string("scenarios/demo.json").unwrap();
        let mut report = crate::Sim::new(crate::load_str(&text).unwrap(), Default::default()).run();
        report.time_unit = crate::report::TimeUnit::Us;
        // The kernel counted a third more than the trace saw running.
        for p in &mut report.processes {
            p.cpu += p.cpu / 3;
        }
        let mut frames: Vec<(u64, Vec<Keyed>)> = Vec::new();
        super::frames(&report, None, |t, rows| frames.push((t, rows.to_vec())));
        let mut replay = Replay::new(&report);
        assert!(replay.spreads_cpu_time());
        // The page grows a running row's time only between frames; a frame at each event
        // time writes the spread counts anew.
        let mut rebuild = Rebuild::new(&frames, report.processes.len());
        for &(t, _) in &frames {
            replay.advance_to(t);
            assert_eq!(rebuild.at(t), replay.view(t).rows, "at {t}");
        }
    }
}
