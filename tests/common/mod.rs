//! Shared by the integration tests that include it (`mod common;`): the shipped scenarios'
//! files, and a scratch directory for the files a test binary writes, removed with everything
//! in it when the binary exits (its tests passed or not), so that running the suite leaves
//! nothing in the temporary directory.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, TryLockError};

/// Runs the `procsim` binary with `args` from the project's folder, as a user would.
pub fn procsim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("procsim runs")
}

/// The files of `scenarios/`, `*.json`, sorted by name.
pub fn scenario_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The report of scenario `text`'s run as JSON, with the fast paths on or off: the tests that
/// hold a shortcut to the general rounds compare the two byte for byte.
pub fn report_json(text: &str, fast: bool) -> String {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut sim = procsim::Sim::new(plan, procsim::SimOptions::default());
    if !fast {
        sim.disable_fast_paths();
    }
    serde_json::to_string(&sim.run()).expect("a report serializes")
}

/// Asserts that scenario `text` gives the same report, byte for byte, with the fast paths on
/// and off (the shortcuts are exact); `case` names it in the failure.
pub fn assert_fast_paths_exact(text: &str, case: &str) {
    let (fast, general) = (report_json(text, true), report_json(text, false));
    assert!(
        fast == general,
        "{case}: the shortcuts changed the report\n{text}\nfast:    {fast}\ngeneral: {general}"
    );
}

/// `scenarios/rr-io-v1.json` with `kernel.<key>` set to `value`, loaded.
pub fn rr_io_v1_with(key: &str, value: serde_json::Value) -> std::sync::Arc<procsim::Plan> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/rr-io-v1.json");
    let text = std::fs::read_to_string(file).expect("readable");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    doc["kernel"][key] = value;
    procsim::load_str(&doc.to_string()).expect("loads")
}

/// Every same-tick order of the three groups (`kernel.tick_order`).
pub const TICK_ORDERS: [[&str; 3]; 6] = [
    ["wake", "admit", "preempt"],
    ["wake", "preempt", "admit"],
    ["admit", "wake", "preempt"],
    ["admit", "preempt", "wake"],
    ["preempt", "wake", "admit"],
    ["preempt", "admit", "wake"],
];

/// Runs `plan` to its end by `Sim::advance`, with the fast paths on or off; the finished run
/// and the number of steps it took (the tests that check a shortcut applies count them).
pub fn run_by_advance(plan: &std::sync::Arc<procsim::Plan>, fast: bool) -> (procsim::Sim, u64) {
    let mut sim = procsim::Sim::new(plan.clone(), procsim::SimOptions::default());
    if !fast {
        sim.disable_fast_paths();
    }
    let mut steps = 0u64;
    while sim.advance() {
        steps += 1;
    }
    (sim, steps)
}

/// The directories to remove at exit.
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// `$TMPDIR/procsim-{label}-{pid}`, created if need be, and removed when the test binary exits.
pub fn scratch_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("procsim-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut dirs = DIRS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if !dirs.contains(&dir) {
        if dirs.is_empty() {
            // SAFETY: `atexit` stores a plain function of no arguments and calls it once, when
            // the process exits normally (the test harness returns from `main` or calls
            // `exit`); registering it cannot fail in a way that matters here (the directory
            // would then stay, as it did before).
            unsafe { libc::atexit(remove_dirs) };
        }
        dirs.push(dir.clone());
    }
    dir
}

/// Removes the scratch directories; never waits (at exit no test holds the list, and if one
/// did, leaving the directories is better than hanging).
extern "C" fn remove_dirs() {
    let dirs = match DIRS.try_lock() {
        Ok(dirs) => dirs,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return,
    };
    for dir in dirs.iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Each policy of SPEC §3a, and those with parameters that give them events and preemption
/// (`fast_wake`, `fast_any`).
pub fn every_policy() -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!("rr"),
        json!("fcfs"),
        json!("sjf"),
        json!("srtf"),
        json!("priority"),
        json!({"name": "priority", "preemptive": true, "aging": {"every": 7, "step": 1}}),
        json!("hrrn"),
        json!("mlfq"),
        json!({"name": "mlfq", "queues": 3, "quantum": [2, 4, 8], "allotment": [1, 2, 2],
               "boost": 30, "io_reset": true, "io_bump": true}),
        json!("lottery"),
        json!("stride"),
        json!("cfs"),
        json!("eevdf"),
    ]
}

/// The report of scenario `text` run with the fast paths on or off, without a trace or with
/// one (then left out of the report, so that the two compare).
pub fn report_json_with_trace(text: &str, fast: bool, trace: bool) -> String {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut sim = procsim::Sim::new(plan, procsim::SimOptions { trace });
    if !fast {
        sim.disable_fast_paths();
    }
    let mut report = sim.run();
    report.trace.clear();
    serde_json::to_string(&report).expect("a report serializes")
}

/// The report of scenario `text` run without a trace (`--format summary`, the benches),
/// with the fast paths on or off: the lean loops run only then.
pub fn untraced_report(text: &str, fast: bool) -> String {
    report_json_with_trace(text, fast, false)
}

/// [`assert_fast_paths_exact`] for runs without a trace.
pub fn assert_untraced_exact(text: &str, case: &str) {
    let (fast, general) = (untraced_report(text, true), untraced_report(text, false));
    assert!(
        fast == general,
        "{case}: the lean loop changed the report\n{text}\nfast:    {fast}\ngeneral: {general}"
    );
}

/// A writer into a buffer the test keeps a handle on (for `Sim::run_to_json`, which owns its
/// writer).
#[derive(Clone, Default)]
pub struct Shared(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
