//! What every fuzz input goes through: parse → validate → compile → run with small limits →
//! render, and the invariants a finished report must satisfy.
//!
//! This file is shared: the fuzz targets use it through the `procsim-fuzz` crate, and
//! `tests/fuzz_regressions.rs` includes it with `#[path]`, so a crasher kept in `tests/fuzz/`
//! is replayed under exactly the caps it was found with. It depends on `procsim` and `std`
//! only.

use std::sync::Arc;

use procsim::report::{Report, render_table, render_timeline, tree_dot};
use procsim::{Scenario, ScenarioError, Sim, SimOptions, State, StateGraph, program};

/// Simulated time at most (`kernel.max_ticks`).
pub const MAX_TICKS: u64 = 100_000;
/// Instructions at most (`kernel.max_steps`). Lower than the 100 000 one might pick because
/// multiprocessing's default names grow with depth (`Process-1:1:…:1`): a chain of processes
/// that each fork one unnamed child and end has names of O(steps) bytes each, O(steps²) in
/// all, which the report must hold (10 000 steps: 25 MB of names and a fraction of a second;
/// 100 000 steps: 2.5 GB). The fuzzer kept returning to such chains, so a lower cap also
/// keeps it fast.
pub const MAX_STEPS: u64 = 10_000;
/// Live processes at most (`kernel.max_processes`), unless the top-level ones need more.
pub const MAX_PROCESSES: u32 = 64;
/// Output lines at most (`kernel.max_output`).
pub const MAX_OUTPUT: u64 = 1_000;
/// Output bytes at most (`kernel.max_output_bytes`).
pub const MAX_OUTPUT_BYTES: u64 = 1 << 20;
/// Trace events at most (`kernel.max_trace`).
pub const MAX_TRACE: u64 = 100_000;
/// Kernel events at most (`kernel.max_events`).
pub const MAX_EVENTS: u64 = 1_000_000;
/// Items and characters of globals copied at most (`kernel.max_values`).
pub const MAX_VALUES: u64 = 1 << 20;
/// Bytes of globals all processes hold at most (`kernel.max_value_bytes`).
pub const MAX_VALUE_BYTES: u64 = 16 << 20;
/// Copies of one top-level process at most (`processes[i].count`).
pub const MAX_COUNT: u64 = 8;
/// CPUs at most: every tick visits every CPU, so 1024 of them only slow the fuzzer down.
pub const MAX_CPUS: u32 = 16;

/// How an input ended, when it did not panic.
#[derive(Debug)]
pub enum Outcome {
    /// Parsing, validation or compiling refused it.
    Rejected(ScenarioError),
    /// It ran; `report.error` says whether a limit stopped it.
    Ran(Box<Report>),
}

/// Lowers the scenario's limits to the caps above, keeping what validation established: the
/// top-level processes still fit under `max_processes` (they fitted under the original value,
/// so raising the cap back to their total never exceeds what the file asked for).
pub fn clamp(s: &mut Scenario) {
    let k = &mut s.kernel;
    k.max_ticks = k.max_ticks.min(MAX_TICKS);
    k.max_steps = k.max_steps.min(MAX_STEPS);
    k.max_output = k.max_output.min(MAX_OUTPUT);
    k.max_output_bytes = k.max_output_bytes.min(MAX_OUTPUT_BYTES);
    k.max_trace = k.max_trace.min(MAX_TRACE);
    k.max_events = k.max_events.min(MAX_EVENTS);
    k.max_values = k.max_values.min(MAX_VALUES);
    k.max_value_bytes = k.max_value_bytes.min(MAX_VALUE_BYTES);
    k.cpus = k.cpus.min(MAX_CPUS);
    let mut total: u64 = 0;
    for e in &mut s.processes {
        e.count = e.count.min(MAX_COUNT);
        total += e.count;
    }
    let total = u32::try_from(total).unwrap_or(u32::MAX);
    k.max_processes = k.max_processes.min(MAX_PROCESSES).max(total);
}

/// Runs `bytes` as a scenario file under the caps; panics only on a bug.
pub fn run_bytes(bytes: &[u8]) -> Outcome {
    let mut scenario = match Scenario::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => return rejected(e),
    };
    clamp(&mut scenario);
    let plan = match program::compile(&scenario) {
        Ok(p) => Arc::new(p),
        Err(e) => return rejected(e),
    };
    let report = Sim::new(plan, SimOptions { trace: true }).run();
    check_report(&report);
    // What the CLI does with a report: render it every way, and check it.
    let _ = render_table(&report, 100);
    let _ = render_timeline(&report, 80, 40);
    let _ = tree_dot(&report);
    let json = serde_json::to_string(&report).expect("a report serializes");
    let back: Report = serde_json::from_str(&json).expect("a report parses back");
    assert_eq!(back, report, "the JSON report does not round-trip");
    if let Some(expect) = &scenario.expect {
        for m in procsim::study::check::check(expect, &report) {
            let _ = m.to_string();
        }
    }
    Outcome::Ran(Box::new(report))
}

fn rejected(e: ScenarioError) -> Outcome {
    // The one-line message every command prints must be buildable.
    let text = e.to_string();
    assert!(!text.is_empty());
    Outcome::Rejected(e)
}

/// The kernel's invariants (those `tests/properties.rs` checks on generated scenarios).
pub fn check_report(report: &Report) {
    let graph = StateGraph::new();
    let mut state = vec![State::New; report.processes.len()];
    let mut running = 0usize;
    for e in &report.trace {
        let i = e.proc as usize;
        assert!(
            graph.is_legal(e.from, e.to, e.cause),
            "illegal transition {e:?}"
        );
        assert_eq!(
            state[i], e.from,
            "transitions of process {i} do not chain: {e:?}"
        );
        state[i] = e.to;
        if e.to == State::Running {
            running += 1;
        }
        if e.from == State::Running {
            running -= 1;
        }
        assert!(
            running <= report.cpus as usize,
            "{running} running on {} CPUs at {}",
            report.cpus,
            e.t
        );
    }
    let s = &report.summary;
    assert_eq!(
        s.cpu_busy,
        report.processes.iter().map(|p| p.cpu).sum::<u64>(),
        "cpu_busy is not the sum of the processes' cpu"
    );
    if report.error.is_some() {
        return;
    }
    // A run that finished cleanly ended and reaped everyone, and lost no tick.
    assert!(
        state.iter().all(|s| *s == State::Terminated),
        "a clean run left processes alive"
    );
    assert_eq!(
        s.cpu_busy + s.idle + s.switch_ticks,
        u64::from(report.cpus) * s.makespan,
        "ticks counted twice or lost"
    );
    for p in &report.processes {
        assert!(p.reaped_at.is_some(), "{} not reaped", p.name);
        assert!(
            p.reaped_at >= p.ended_at,
            "{} reaped before it ended",
            p.name
        );
        if p.signal.is_none()
            && let Some(t) = p.turnaround
        {
            assert_eq!(t, p.cpu + p.waiting + p.blocked, "{}: turnaround", p.name);
        }
    }
}
