//! The benchmarks' reference loop computes what procsim computes for RR-IO-v1, so the ratio
//! the benchmarks report compares equal work.

#[path = "../benches/reference.rs"]
mod reference;

use procsim::{Sim, SimOptions};

fn rr_io_v1(n: u64) -> (u64, u128, u64) {
    let text = format!(
        r#"{{"kernel": {{"quantum": 10, "max_processes": {m}, "pid_max": {p}}},
            "programs": {{"job": {{"body": [{{"repeat": {{"times": 9, "body": [{{"cpu": 50}}, {{"io": 20}}]}}}}, {{"cpu": 50}}]}}}},
            "processes": [{{"program": "job", "count": {n}}}]}}"#,
        m = n.max(1),
        p = (n + 3).max(300)
    );
    let report = Sim::new(
        procsim::load_str(&text).unwrap(),
        SimOptions { trace: false },
    )
    .run();
    let sum = report
        .processes
        .iter()
        .map(|p| u128::from(p.ended_at.unwrap()))
        .sum();
    (report.summary.makespan, sum, report.summary.dispatches)
}

#[test]
fn the_reference_loop_and_the_kernel_agree_on_rr_io_v1() {
    // The figures given for RR-IO-v1.
    let r = reference::rr_io_v1(2);
    assert_eq!((r.makespan, r.sum_ended_at), (1_090, 2_170));
    let r = reference::rr_io_v1(100_000);
    assert_eq!(
        (r.makespan, r.sum_ended_at),
        (50_000_000, 4_950_000_499_990)
    );
    for n in [1, 2, 3, 7, 50, 1000] {
        let r = reference::rr_io_v1(n as u32);
        assert_eq!(
            rr_io_v1(n),
            (r.makespan, r.sum_ended_at, r.dispatches),
            "N = {n}"
        );
    }
}
