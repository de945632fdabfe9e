//! The fair policies (`cfs`, `eevdf`) share the CPUs by weight: over a long run of CPU-bound
//! processes, each one's CPU time is its weight's share of the total (Linux's
//! `sched_prio_to_weight`, copied here rather than taken from the crate, so that a wrong table
//! there fails here).

use std::path::PathBuf;

use procsim::{Sim, SimOptions, State};

/// Linux's `sched_prio_to_weight` (kernel/sched/core.c), nice −20 … 19.
const WEIGHTS: [u64; 40] = [
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904,
    3906, 3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87,
    70, 56, 45, 36, 29, 23, 18, 15,
];

/// Runs a scenario file and checks that, up to the first process's end (when every process
/// is still competing), each process's CPU time is within 2 % (relative) of its weight's
/// share of all the CPU time given, and that this stretch is at least 10,000 ticks.
fn shares_hold(file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file);
    let (scenario, plan) = procsim::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let report = Sim::new(plan, SimOptions::default()).run();
    assert!(report.error.is_none(), "{file}: {:?}", report.error);

    let weight_of = |name: &str| {
        let entry = scenario
            .processes
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{file}: no entry for {name}"));
        WEIGHTS[(entry.nice.unwrap_or(0) + 20) as usize]
    };
    let horizon = report
        .processes
        .iter()
        .filter_map(|p| p.ended_at)
        .min()
        .expect("processes ended");
    assert!(
        horizon >= 10_000,
        "{file}: the first process ended at {horizon}"
    );

    // CPU time of each process in [0, horizon], from its running intervals.
    let mut ran = vec![0u64; report.processes.len()];
    let mut since = vec![None; report.processes.len()];
    for e in &report.trace {
        let i = e.proc as usize;
        if e.to == State::Running {
            since[i] = Some(e.t);
        } else if e.from == State::Running {
            let start = since[i].take().expect("running had a start");
            ran[i] += e.t.min(horizon).saturating_sub(start);
        }
    }
    let total_ran: u64 = ran.iter().sum();
    let total_weight: u64 = report.processes.iter().map(|p| weight_of(&p.name)).sum();
    for (p, &got) in report.processes.iter().zip(&ran) {
        let want = total_ran as f64 * weight_of(&p.name) as f64 / total_weight as f64;
        let off = (got as f64 - want).abs() / want;
        assert!(
            off <= 0.02,
            "{file}: {} ran {got} of {total_ran} ticks up to {horizon}, its weight's share is {want:.1} ({:.2} % off)",
            p.name,
            off * 100.0
        );
    }
}

#[test]
fn cfs_shares_one_cpu_by_weight() {
    shares_hold("sched-cfs-shares.json");
}

#[test]
fn cfs_shares_two_cpus_by_weight() {
    shares_hold("sched-cfs-shares-2cpu.json");
}

#[test]
fn eevdf_shares_one_cpu_by_weight() {
    shares_hold("sched-eevdf-shares.json");
}

#[test]
fn eevdf_shares_two_cpus_by_weight() {
    shares_hold("sched-eevdf-shares-2cpu.json");
}
