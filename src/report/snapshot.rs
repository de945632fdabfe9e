//! The state of every process at one moment of a finished run: the task manager's view of a
//! report. `procsim top` and the HTML page both show it, so it is computed here, once, from the
//! report's trace.
//!
//! "At tick T" means after every transition stamped T or earlier: a process dispatched and
//! blocked within tick T shows as blocked at T. Stepping event by event
//! ([`Replay::step`]) shows those zero-length states too.

use thiserror::Error;

use crate::model::{Cause, State};

use super::rows::{MAX_THREAD_ROWS, TaskRows};
use super::thread_view::ThreadReplay;
use super::{Report, TimeUnit};

/// What a process is doing, in the words a task manager would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Created, not admitted yet.
    New,
    /// In the ready queue.
    Ready,
    /// On a CPU.
    Running {
        /// The CPU.
        cpu: u32,
    },
    /// Blocked, for this reason (`io`, `sleep`, `join`, `wait`).
    Blocked {
        /// Why.
        cause: Cause,
    },
    /// Ended, not reaped yet by its parent (or init).
    Zombie,
    /// Ended and reaped: gone from a real task manager, kept here so the view shows how it
    /// ended.
    Exited,
}

impl Activity {
    /// The state of the five-state model this activity belongs to.
    pub fn state(self) -> State {
        match self {
            Activity::New => State::New,
            Activity::Ready => State::Ready,
            Activity::Running { .. } => State::Running,
            Activity::Blocked { .. } => State::Blocked,
            Activity::Zombie | Activity::Exited => State::Terminated,
        }
    }

    /// The activity in words: `running`, `blocked (io)`, `zombie`, …
    pub fn words(self) -> String {
        match self {
            Activity::New => "new".into(),
            Activity::Ready => "ready".into(),
            Activity::Running { .. } => "running".into(),
            Activity::Blocked { cause } => format!("blocked ({cause})"),
            Activity::Zombie => "zombie".into(),
            Activity::Exited => "exited".into(),
        }
    }

    /// The CPU it is on, when running.
    pub fn cpu(self) -> Option<u32> {
        match self {
            Activity::Running { cpu } => Some(cpu),
            _ => None,
        }
    }
}

/// One row of the view: a process at the snapshot's moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcView {
    /// Index in [`Report::processes`].
    pub index: usize,
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid at that moment (1 once init adopted it).
    pub ppid: u32,
    /// Its name.
    pub name: String,
    /// Its parent's name at that moment (`init` for pid 1).
    pub parent: String,
    /// What it is doing.
    pub activity: Activity,
    /// Time it has spent running so far.
    pub cpu_time: u64,
    /// Its exit code, once it has ended.
    pub exitcode: Option<i64>,
}

/// Every process that exists at one moment (created at or before it), in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The moment.
    pub t: u64,
    /// How many events of the trace it has applied.
    pub events: usize,
    /// One row per process created by then.
    pub rows: Vec<ProcView>,
    /// With [`Replay::with_threads`]: a row per thread other than a main thread made by then
    /// (its tid as `pid`, its process's pid as `ppid`, its process's name as `parent`, its
    /// process's index as `index`), in process order, each process's in creation order; at most
    /// [`MAX_THREAD_ROWS`] threads have a row. Empty otherwise.
    pub threads: Vec<ProcView>,
    /// Threads of the run left without a row (past [`MAX_THREAD_ROWS`]).
    pub hidden_threads: usize,
}

impl Snapshot {
    /// How many processes are in each of the five states, in [`State::ALL`]'s order.
    pub fn counts(&self) -> [(State, usize); 5] {
        State::ALL.map(|s| {
            (
                s,
                self.rows.iter().filter(|r| r.activity.state() == s).count(),
            )
        })
    }

    /// How many ended processes are zombies (not reaped yet).
    pub fn zombies(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.activity == Activity::Zombie)
            .count()
    }
}

/// A moment outside the run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SnapshotError {
    /// After the run's end.
    #[error("tick {t} is after the end of the run (it ends at {end})")]
    AfterEnd {
        /// The moment asked for.
        t: u64,
        /// The last moment of the run.
        end: u64,
    },
}

/// Where a process (or a thread, [`super::thread_view`]) is in the replay.
#[derive(Debug, Clone, Copy)]
pub(super) struct Live {
    /// The state after the events applied so far (`Zombie` stands for terminated).
    pub(super) activity: Activity,
    /// Running time accumulated before `since`.
    pub(super) cpu_time: u64,
    /// When it entered `activity`.
    pub(super) since: u64,
}

impl Live {
    /// `new` since `created`, having run for no time.
    pub(super) fn new(created: u64) -> Live {
        Live {
            activity: Activity::New,
            cpu_time: 0,
            since: created,
        }
    }

    /// Applies the task's transition `e`.
    pub(super) fn apply(&mut self, e: &super::TraceEvent) {
        if let Activity::Running { .. } = self.activity {
            self.cpu_time = self.cpu_time.saturating_add(e.t.saturating_sub(self.since));
        }
        self.since = e.t;
        self.activity = match e.to {
            State::New => Activity::New,
            State::Ready => Activity::Ready,
            State::Running => Activity::Running {
                cpu: e.cpu.unwrap_or(0),
            },
            State::Blocked => Activity::Blocked { cause: e.cause },
            State::Terminated => Activity::Zombie,
        };
    }

    /// Its activity and running time at `t` (no earlier than its last transition).
    pub(super) fn at(&self, t: u64) -> (Activity, u64) {
        let mut cpu_time = self.cpu_time;
        if let Activity::Running { .. } = self.activity {
            cpu_time = cpu_time.saturating_add(t.saturating_sub(self.since));
        }
        (self.activity, cpu_time)
    }
}

/// A report's trace replayed event by event; [`Replay::view`] is the snapshot at any moment
/// from the last applied event's time on.
#[derive(Debug, Clone)]
pub struct Replay<'a> {
    report: &'a Report,
    live: Vec<Live>,
    applied: usize,
    /// On a real run, each process's running time over the whole trace, by which the
    /// kernel's own count is spread (see [`Replay::view`]); empty on a simulated one.
    observed: Vec<u64>,
    /// The threads' own rows, when asked for ([`Replay::with_threads`]).
    threads: Option<Box<ThreadReplay<'a>>>,
}

/// The last moment of a run: its makespan, or later if a zombie was reaped after it.
pub fn run_end(report: &Report) -> u64 {
    report
        .processes
        .iter()
        .filter(|p| p.ended_at.is_some())
        .filter_map(|p| p.reaped_at)
        .fold(report.summary.makespan, u64::max)
}

impl<'a> Replay<'a> {
    /// The replay before any event: every process `new` since its creation.
    pub fn new(report: &'a Report) -> Replay<'a> {
        Replay {
            report,
            live: report
                .processes
                .iter()
                .map(|p| Live::new(p.created_at))
                .collect(),
            applied: 0,
            observed: match report.time_unit {
                TimeUnit::Us => observed_running(report),
                TimeUnit::Tick => Vec::new(),
            },
            threads: None,
        }
    }

    /// The replay before any event, with a row for each thread (other than a main thread) of
    /// the first [`MAX_THREAD_ROWS`] threads, as `procsim top` shows them under their process.
    pub fn with_threads(report: &'a Report) -> Replay<'a> {
        let mut replay = Replay::new(report);
        // A run without threads needs no rows of tasks (a row a process: kept only for threads).
        if report.processes.iter().any(|p| p.threads.len() > 1) {
            let rows = TaskRows::new(&report.processes, MAX_THREAD_ROWS);
            replay.threads = Some(Box::new(ThreadReplay::new(report, rows)));
        }
        replay
    }

    /// Events of the trace applied so far.
    pub fn applied(&self) -> usize {
        self.applied
    }

    /// The time of the last applied event (0 before any).
    pub fn time(&self) -> u64 {
        match self.applied {
            0 => 0,
            k => self.report.trace[k - 1].t,
        }
    }

    /// Applies the next event of the trace; false when there is none left.
    pub fn step(&mut self) -> bool {
        let Some(e) = self.report.trace.get(self.applied) else {
            return false;
        };
        self.applied += 1;
        if let Some(threads) = &mut self.threads {
            threads.apply(e);
        }
        // A process's state is its main thread's.
        if e.is_other_thread() {
            return true;
        }
        if let Some(live) = self.live.get_mut(e.proc as usize) {
            live.apply(e);
        }
        true
    }

    /// Applies every event stamped `t` or earlier.
    pub fn advance_to(&mut self, t: u64) {
        while self
            .report
            .trace
            .get(self.applied)
            .is_some_and(|e| e.t <= t)
        {
            self.step();
        }
    }

    /// The row of process `i` (created by `t`) at moment `t`, as [`Replay::view`] shows it.
    pub fn row(&self, i: usize, t: u64) -> ProcView {
        let report = self.report;
        let p = &report.processes[i];
        let (mut activity, mut cpu_time) = self.live[i].at(t);
        if let Some(&total) = self.observed.get(i) {
            cpu_time = kernel_cpu_time(p.cpu, cpu_time, total, activity);
        }
        if activity == Activity::Zombie && p.reaped_at.is_some_and(|r| r <= t) {
            activity = Activity::Exited;
        }
        let (ppid, parent) = parent_at(report, i, t);
        ProcView {
            index: i,
            pid: p.pid,
            ppid,
            name: p.name.clone(),
            parent,
            activity,
            cpu_time,
            exitcode: match activity.state() {
                State::Terminated => p.exitcode,
                _ => None,
            },
        }
    }

    /// Whether a running process's time is the kernel's count spread over the observed
    /// running (a real run), which grows in steps of its own rather than one a tick.
    pub fn spreads_cpu_time(&self) -> bool {
        !self.observed.is_empty()
    }

    /// The view at moment `t`, which should be no earlier than [`Replay::time`]: processes
    /// created by `t`, running time counted up to `t`, zombies reaped by `t` shown as exited,
    /// orphans shown under init once their creator has ended.
    pub fn view(&self, t: u64) -> Snapshot {
        let rows = (self.report.processes.iter().enumerate())
            .filter(|(_, p)| p.created_at <= t)
            .map(|(i, _)| self.row(i, t))
            .collect();
        let (threads, hidden_threads) = match &self.threads {
            Some(threads) => (
                threads.view(t).into_iter().map(|(_, v)| v).collect(),
                threads.hidden(),
            ),
            None => (Vec::new(), 0),
        };
        Snapshot {
            t,
            events: self.applied,
            rows,
            threads,
            hidden_threads,
        }
    }
}

/// Each process's time in `running` over the whole trace.
fn observed_running(report: &Report) -> Vec<u64> {
    let mut total = vec![0u64; report.processes.len()];
    let mut since: Vec<Option<u64>> = vec![None; report.processes.len()];
    for e in &report.trace {
        let i = e.proc as usize;
        if i >= total.len() || e.is_other_thread() {
            continue;
        }
        if let Some(s) = since[i].take() {
            total[i] = total[i].saturating_add(e.t.saturating_sub(s));
        }
        if e.to == State::Running {
            since[i] = Some(e.t);
        }
    }
    total
}

/// A real process's CPU time at a moment, by the kernel's own count (`cpu`: schedstat's time
/// on a CPU, read by its reaper while the process was a zombie): all of it once the
/// process has ended; before, that count spread over the running time the trace observed, in
/// proportion (`observed` of `total` so far), since the kernel's count is read only at the
/// end. A process the trace never saw running shows none until it ends.
fn kernel_cpu_time(cpu: u64, observed: u64, total: u64, activity: Activity) -> u64 {
    if matches!(activity, Activity::Zombie | Activity::Exited) || observed >= total {
        return cpu;
    }
    if total == 0 {
        return 0;
    }
    (u128::from(cpu) * u128::from(observed) / u128::from(total)) as u64
}

/// The parent of process `i` at `t`. A report keeps only the final ppid; a process whose final
/// parent is init but who has a creator was adopted when that creator ended.
fn parent_at(report: &Report, i: usize, t: u64) -> (u32, String) {
    let p = &report.processes[i];
    let Some(c) = p.creator else {
        return (p.ppid, parent_name(report, p.ppid));
    };
    let creator = &report.processes[c as usize];
    if p.ppid == 1 && creator.ended_at.is_some_and(|end| end <= t) {
        (1, "init".into())
    } else {
        (creator.pid, creator.name.clone())
    }
}

fn parent_name(report: &Report, ppid: u32) -> String {
    if ppid == 1 {
        return "init".into();
    }
    report
        .processes
        .iter()
        .find(|q| q.pid == ppid)
        .map_or_else(|| format!("pid {ppid}"), |q| q.name.clone())
}

/// The view at moment `t`: after every event stamped `t` or earlier, with the threads' rows
/// ([`Replay::with_threads`]).
///
/// ```
/// use procsim::report::{Activity, snapshot_at};
/// let plan = procsim::load_str(r#"{"programs": {"m": {"body": [{"cpu": 2}, {"io": 3}, {"cpu": 1}]}},
///     "processes": [{"program": "m"}]}"#).unwrap();
/// let report = procsim::Sim::new(plan, Default::default()).run();
/// let s = snapshot_at(&report, 1).unwrap();
/// assert_eq!((s.rows[0].activity, s.rows[0].cpu_time), (Activity::Running { cpu: 0 }, 1));
/// let s = snapshot_at(&report, 4).unwrap();
/// assert_eq!(s.rows[0].activity.words(), "blocked (io)");
/// assert!(snapshot_at(&report, 6).is_ok()); // cpu 0–2, io 2–5, cpu 5–6: it ends at 6
/// assert!(snapshot_at(&report, 7).is_err());
/// ```
pub fn snapshot_at(report: &Report, t: u64) -> Result<Snapshot, SnapshotError> {
    let end = run_end(report);
    if t > end {
        return Err(SnapshotError::AfterEnd { t, end });
    }
    let mut replay = Replay::with_threads(report);
    replay.advance_to(t);
    Ok(replay.view(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Report {
        let plan = crate::load_str(text).unwrap();
        crate::Sim::new(plan, Default::default()).run()
    }

    /// At the end of a run, each process's running time is the report's `cpu`, and it is
    /// terminated: the replay and the kernel's own counters agree.
    #[test]
    fn the_end_agrees_with_the_report() {
        for file in [
            "scenarios/demo.json",
            "scenarios/proc-kill9-orphan.json",
            "scenarios/sched-mlfq-two-cpus.json",
        ] {
            let text = std::fs::read_to_string(file).unwrap();
            let report = run(&text);
            let s = snapshot_at(&report, run_end(&report)).unwrap();
            assert_eq!(s.rows.len(), report.processes.len(), "{file}");
            for r in &s.rows {
                let p = &report.processes[r.index];
                assert_eq!(r.cpu_time, p.cpu, "{file} {}", p.name);
                assert_eq!(r.activity.state(), State::Terminated, "{file} {}", p.name);
                assert_eq!(r.ppid, p.ppid, "{file} {}", p.name);
                assert_eq!(r.exitcode, p.exitcode, "{file} {}", p.name);
            }
        }
    }

    /// A real run's CPU time is the kernel's count (the report's `cpu`), spread over the
    /// running the trace observed. Here a simulated report stands for a real one: its unit
    /// made µs and each process's count doubled, as if the kernel had counted twice what the
    /// trace saw. The demo's P1 runs 0–4, 7–11 and 15–17 (10 ticks, counted 20): by tick 4
    /// it has 4 of its 10 observed, so 8; at 8, 5 of 10, so 10; at the end every process
    /// shows its whole count.
    #[test]
    fn a_real_run_spreads_the_kernels_count_over_the_observed_running() {
        let mut report = run(crate::demo::DEMO);
        report.time_unit = TimeUnit::Us;
        for p in &mut report.processes {
            p.cpu *= 2;
        }
        let end = snapshot_at(&report, run_end(&report)).unwrap();
        for r in &end.rows {
            assert_eq!(r.cpu_time, report.processes[r.index].cpu);
        }
        let p1 = report
            .processes
            .iter()
            .position(|p| p.name == "P1")
            .unwrap();
        let at = |t: u64| snapshot_at(&report, t).unwrap().rows[p1].cpu_time;
        let cpu = report.processes[p1].cpu;
        assert_eq!(cpu, 20);
        assert_eq!(at(0), 0);
        assert_eq!(at(4), 8);
        assert_eq!(at(6), 8);
        assert_eq!(at(8), 10);
        let mut last = 0;
        for t in 0..=run_end(&report) {
            assert!(at(t) >= last && at(t) <= cpu);
            last = at(t);
        }
    }

    /// The demo at tick 6, worked from its timeline in the README: P1 ready (ran 0–4),
    /// shell blocked on its join, editor running, Process-1 just admitted.
    #[test]
    fn the_demo_at_tick_six() {
        let report = run(crate::demo::DEMO);
        let s = snapshot_at(&report, 6).unwrap();
        let got: Vec<(String, String, u64)> = s
            .rows
            .iter()
            .map(|r| (r.name.clone(), r.activity.words(), r.cpu_time))
            .collect();
        let want = [
            ("P1", "ready", 4),
            ("shell", "blocked (join)", 2),
            ("editor", "running", 0),
            ("Process-1", "ready", 0),
        ];
        let want: Vec<(String, String, u64)> = want
            .iter()
            .map(|(n, w, c)| (n.to_string(), w.to_string(), *c))
            .collect();
        assert_eq!(got, want);
        assert_eq!(s.rows[3].parent, "shell");
        assert_eq!(
            s.counts().map(|(_, n)| n),
            [0, 2, 1, 1, 0],
            "new, ready, running, blocked, terminated"
        );
    }

    #[test]
    fn zero_length_states_show_when_stepping() {
        // Dispatched at 0 and blocked at once (io is free until it blocks): the snapshot at 0
        // shows blocked, the step before it shows running.
        let report = run(r#"{"programs": {"m": {"body": [{"io": 2}, {"cpu": 1}]}},
            "processes": [{"program": "m"}]}"#);
        let mut replay = Replay::new(&report);
        let mut seen = Vec::new();
        while replay.step() {
            seen.push(replay.view(replay.time()).rows[0].activity.words());
        }
        assert_eq!(seen[..3], ["ready", "running", "blocked (io)"]);
        assert_eq!(
            snapshot_at(&report, 0).unwrap().rows[0].activity.words(),
            "blocked (io)"
        );
    }

    #[test]
    fn orphans_move_to_init_when_their_parent_ends() {
        let text = std::fs::read_to_string("scenarios/proc-kill9-orphan.json").unwrap();
        let report = run(&text);
        let orphan = report
            .processes
            .iter()
            .position(|p| p.ppid == 1 && p.creator.is_some())
            .expect("the scenario orphans a process");
        let creator = report.processes[orphan].creator.unwrap() as usize;
        let ended = report.processes[creator].ended_at.unwrap();
        let row = |t| {
            snapshot_at(&report, t)
                .unwrap()
                .rows
                .into_iter()
                .find(|r| r.index == orphan)
                .unwrap()
        };
        assert_eq!(row(ended - 1).parent, report.processes[creator].name);
        assert_eq!(row(ended).parent, "init");
    }
}
