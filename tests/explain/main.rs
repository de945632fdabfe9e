//! `procsim run FILE --explain`: the decision log changes nothing of the run, every transition
//! of the trace has its line and its reason, and on published examples the lines a student
//! would check say what the book says (derived by hand from the books' schedules, quoted in
//! each scenario's description).

mod books;
mod limits;
use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;

use serde_json::{Value as Json, json};

use procsim::model::{Cause, State};
use procsim::report::explain::{Decision, Explanation, Joining, Task};
use procsim::report::{Report, render_explain};
use procsim::{Sim, SimOptions};

#[path = "../common/mod.rs"]
mod common;

use common::scenario_files;

/// One policy of each kind of SPEC §3a, with the options that change its decisions.
fn policies() -> Vec<Json> {
    vec![
        json!("rr"),
        json!("fcfs"),
        json!("sjf"),
        json!({"name": "srtf", "estimate": {"alpha": 0.5, "initial": 5}}),
        json!("srtf"),
        json!({"name": "priority", "preemptive": true, "aging": {"every": 3, "step": 1}}),
        json!("hrrn"),
        json!({"name": "mlfq", "queues": 3, "quantum": [2, 4, 8], "allotment": [1, 2, 2],
               "boost": 20, "io_reset": true, "io_bump": true}),
        json!("lottery"),
        json!("stride"),
        json!("cfs"),
        json!("eevdf"),
    ]
}

fn under(file: &PathBuf, policy: &Json) -> String {
    let mut doc: Json = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    doc.as_object_mut().unwrap().remove("expect");
    if doc.get("kernel").is_none() {
        doc["kernel"] = json!({});
    }
    doc["kernel"]["policy"] = policy.clone();
    doc.to_string()
}

fn explained(text: &str) -> (Report, Explanation) {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}"));
    Sim::new(plan, SimOptions::default()).run_explained()
}

/// The explanation as `procsim run --explain` writes it: while the run goes.
fn streamed(text: &str) -> (String, Option<String>) {
    /// A writer whose bytes the test can read back once the kernel has dropped its end.
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}"));
    let out = Shared::default();
    let stopped = Sim::new(plan, SimOptions::default())
        .run_explained_to(Box::new(out.clone()))
        .unwrap();
    let bytes = out.0.borrow().clone();
    (String::from_utf8(bytes).unwrap(), stopped)
}

fn plain(text: &str) -> Report {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}"));
    Sim::new(plan, SimOptions::default()).run()
}

/// Runs small enough to explain in a test (the log costs a scan of the processes a pick).
fn small(report: &Report) -> bool {
    report.processes.len() <= 200 && report.trace.len() <= 20_000
}

/// A task as the trace and the log both tell it: its process, and its tid when it is a
/// thread other than the main thread (SPEC §4a).
type TaskKey = (u32, Option<u32>);

fn task_key(report: &Report, t: &Task) -> TaskKey {
    let pid = report.processes[t.proc as usize].pid;
    (
        t.proc,
        t.thread.as_ref().map(|th| th.0).filter(|&tid| tid != pid),
    )
}

fn event_key(e: &procsim::report::TraceEvent) -> TaskKey {
    (e.proc, e.tid.filter(|_| e.is_other_thread()))
}

/// The reason of every transition, from the structured log: a dispatch follows a CPU's pick
/// (or a switch that a pick began) of that task; a preemption follows its slice end or a
/// more urgent task; an admission or a wake-up is followed by its joining the ready
/// structure in the same tick.
struct Reasons {
    /// Tasks picked and not yet dispatched.
    picked: HashSet<TaskKey>,
    /// Tasks told to leave their CPU by rule and not yet ready.
    leaving: HashSet<TaskKey>,
    /// Tasks that became ready, with the tick, and have not joined yet.
    must_join: Vec<(u64, TaskKey)>,
}

impl Reasons {
    fn apply(&mut self, name: &str, report: &Report, d: &Decision, t: u64) {
        let key = |task: &Task| task_key(report, task);
        match d {
            Decision::Picked { chosen, .. } => {
                self.picked.insert(key(&chosen.0));
            }
            Decision::SliceEnd { p, .. } => {
                self.leaving.insert(key(p));
            }
            Decision::Preempts { victim, .. } => {
                self.leaving.insert(key(&victim.0));
            }
            Decision::Joined { procs, why, .. } => {
                for (p, _, _) in procs {
                    let p = key(p);
                    // The policy's event (MLFQ's boost) takes running processes back.
                    if *why == Joining::Preempted {
                        self.leaving.insert(p);
                    }
                    let before = self.must_join.len();
                    self.must_join.retain(|&(jt, jp)| !(jt == t && jp == p));
                    // A thread set aside for the GIL was ready all along (GilFree).
                    assert!(
                        before > self.must_join.len()
                            || matches!(
                                why,
                                Joining::SliceEnd | Joining::Preempted | Joining::GilFree
                            ),
                        "{name}: {p:?} joined at {t} without becoming ready",
                    );
                }
            }
            Decision::Kept { .. }
            | Decision::Slice { .. }
            | Decision::Switch { .. }
            | Decision::Event { .. }
            | Decision::Moved { .. }
            | Decision::Reaped { .. }
            | Decision::ThreadStarted { .. }
            | Decision::SetAside { .. }
            | Decision::GilLetGo { .. }
            | Decision::LockWait { .. }
            | Decision::LockHandOver { .. }
            | Decision::AwaitThreads { .. }
            | Decision::ThreadsEnd { .. } => {}
        }
    }
}

/// The reason of every transition, from the structured log: a dispatch follows a CPU's pick
/// of that process; a preemption follows its slice end or a more urgent process; an
/// admission or a wake-up is followed by its joining the ready structure in the same tick.
fn check_reasons(name: &str, report: &Report, ex: &Explanation) {
    let mut r = Reasons {
        picked: HashSet::new(),
        leaving: HashSet::new(),
        must_join: Vec::new(),
    };
    let mut log = ex.log.iter().peekable();
    for (i, e) in report.trace.iter().enumerate() {
        while let Some(l) = log.next_if(|l| l.before <= i) {
            r.apply(name, report, &l.decision, l.t);
        }
        let who = &report.processes[e.proc as usize].name;
        let p = event_key(e);
        // Every task that became ready before this tick has joined.
        if let Some(&(t, q)) = r.must_join.iter().find(|&&(t, _)| t < e.t) {
            panic!("{name}: {q:?} became ready at {t} and never joined the ready structure");
        }
        match (e.from, e.to, e.cause) {
            (State::Ready, State::Running, Cause::Dispatch) => {
                assert!(
                    r.picked.remove(&p),
                    "{name}: {who} {p:?} dispatched at {} unpicked",
                    e.t
                );
            }
            (State::Running, State::Ready, Cause::Preempt) => {
                assert!(
                    r.leaving.remove(&p),
                    "{name}: {who} {p:?} preempted at {} with no reason",
                    e.t
                );
            }
            (_, State::Ready, _) => r.must_join.push((e.t, p)),
            _ => {}
        }
        // A task that ends, or is killed, while picked or leaving drops those.
        if e.to == State::Terminated {
            r.picked.remove(&p);
            r.leaving.remove(&p);
        }
    }
    for l in log {
        r.apply(name, report, &l.decision, l.t);
    }
    assert!(
        r.must_join.is_empty(),
        "{name}: {:?} became ready and never joined",
        r.must_join
    );
}

#[test]
fn explaining_changes_nothing_and_every_transition_has_its_line_and_its_reason() {
    let mut explained_runs = 0;
    for file in scenario_files() {
        for policy in policies() {
            let text = under(&file, &policy);
            let reference = plain(&text);
            if !small(&reference) {
                continue;
            }
            let name = format!("{} under {policy}", file.display());
            let (report, ex) = explained(&text);
            assert_eq!(report, reference, "{name}: the log changed the run");
            check_reasons(&name, &report, &ex);
            // The transitions' lines, in the order of the trace.
            let text = render_explain(&report, &ex);
            // Written as the run goes, the same lines.
            let (live, stopped) = streamed(&under(&file, &policy));
            assert_eq!(live, text, "{name}: streamed and kept differ");
            assert_eq!(stopped, report.error, "{name}");
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.contains(" → ") && l.contains(": "))
                .filter(|l| {
                    report.processes.iter().any(|p| {
                        l[8..].starts_with(&format!("{}: ", p.name))
                            || p.threads
                                .iter()
                                .any(|th| l[8..].starts_with(&format!("{}/{}: ", p.name, th.name)))
                    })
                })
                .collect();
            let expected: Vec<String> = report
                .trace
                .iter()
                .map(|e| {
                    let p = &report.processes[e.proc as usize];
                    // A thread's line names it under its process: the last thread with its
                    // tid made by then (a tid freed by an end may come back).
                    let who = match e.tid {
                        Some(tid) => {
                            let th = p
                                .threads
                                .iter()
                                .rfind(|th| th.tid == tid && th.created_at <= e.t)
                                .expect("an event's tid is one of its process's threads");
                            format!("{}/{}", p.name, th.name)
                        }
                        None => p.name.clone(),
                    };
                    format!("{:>6}  {who}: {} → {}, ", e.t, e.from, e.to)
                })
                .collect();
            assert_eq!(lines.len(), expected.len(), "{name}:\n{text}");
            for (l, x) in lines.iter().zip(&expected) {
                assert!(l.starts_with(x.as_str()), "{name}: `{l}` is not `{x}…`");
            }
            // Every zombie that was reaped is told so.
            for p in report.processes.iter().filter(|p| p.reaped_at.is_some()) {
                assert!(
                    text.contains(&format!("  {} is reaped by ", p.name)),
                    "{name}: {} reaped silently",
                    p.name
                );
            }
            explained_runs += 1;
        }
    }
    assert!(explained_runs > 500, "only {explained_runs} runs explained");
}

fn explain_file(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let (scenario, plan) = procsim::load(&path).unwrap();
    let _ = scenario;
    let (report, ex) = Sim::new(plan, SimOptions::default()).run_explained();
    render_explain(&report, &ex)
}

fn has(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l == line),
        "missing line\n{line}\nin\n{text}"
    );
}
