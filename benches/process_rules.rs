//! The cost of the process API's rules called through the `Host` trait (SPEC §4,
//! `src/process/`), side by side with the kernel's own quick path in the same run:
//! `cargo bench --bench process_rules -- --warm-up-time 1 --measurement-time 3`.
//!
//! Both scenarios run the same program on the simulated kernel, 1,000 processes of
//! `repeat 20 { cpu 1, sleep 1 }` on one CPU, and give the same report. In `literal` the
//! operands are literals, which the kernel decodes once into a table and carries out inline
//! (the reference). In `through_rules` they are a parameter (`"$n"`, n = 1), so each `cpu` and
//! `sleep` goes the general way: `process::step` on a `SimProc` (the `Host` the rules call),
//! which evaluates the operand and calls back into the kernel (`compute`, `block_for`).
//! Throughput is in instructions (`cpu` and `sleep`), so criterion prints instructions per
//! second.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use procsim::{Plan, Sim, SimOptions};

const PROCESSES: u64 = 1_000;
const ROUNDS: u64 = 20;

fn plan(operand: &str) -> Arc<Plan> {
    procsim::load_str(&format!(
        r#"{{"name": "rules", "kernel": {{"quantum": 4, "max_steps": 100000000}},
            "programs": {{"job": {{"params": ["n"], "body": [
                {{"repeat": {{"times": {ROUNDS}, "body": [{{"cpu": {operand}}}, {{"sleep": {operand}}}]}}}}]}}}},
            "processes": [{{"program": "job", "count": {PROCESSES}, "args": [1]}}]}}"#
    ))
    .expect("a valid scenario")
}

fn simulate(plan: &Arc<Plan>) -> procsim::report::Summary {
    let mut sim = Sim::new(Arc::clone(plan), SimOptions { trace: false });
    while sim.advance() {}
    sim.summary()
}

fn rules(c: &mut Criterion) {
    let literal = plan("1");
    let through_rules = plan(r#""$n""#);
    // The same run both ways, or the comparison means nothing.
    assert_eq!(simulate(&literal), simulate(&through_rules));
    let mut group = c.benchmark_group("process_rules");
    group.throughput(Throughput::Elements(PROCESSES * ROUNDS * 2));
    group.bench_with_input(BenchmarkId::new("literal", PROCESSES), &literal, |b, p| {
        b.iter(|| simulate(black_box(p)))
    });
    group.bench_with_input(
        BenchmarkId::new("through_rules", PROCESSES),
        &through_rules,
        |b, p| b.iter(|| simulate(black_box(p))),
    );
    group.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
