//! Scheduler benchmarks: `cargo bench`. See BENCHMARKS.md for the figures and the machine.
//!
//! RR-IO-v1 (N processes, each 10 bursts of 50 ticks with 20 ticks of I/O between, one CPU,
//! quantum 10) runs on procsim's kernel and on the reference loop in `reference.rs`, side by
//! side, with throughput in dispatches so criterion prints dispatches per second.

mod reference;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use procsim::{Plan, Sim, SimOptions};

/// RR-IO-v1 with `n` processes and the given kernel settings.
fn rr_io_v1(n: u64, cpus: u32, context_switch: u64) -> Arc<Plan> {
    rr_io_v1_under(n, cpus, context_switch, r#""rr""#)
}

/// RR-IO-v1 under a policy (a JSON name or object, SPEC §3a).
fn rr_io_v1_under(n: u64, cpus: u32, context_switch: u64, policy: &str) -> Arc<Plan> {
    procsim::load_str(&format!(
        r#"{{"name": "RR-IO-v1",
            "kernel": {{"policy": {policy}, "quantum": 10, "cpus": {cpus},
                        "context_switch": {context_switch},
                        "max_processes": {n}, "pid_max": 4194304,
                        "max_ticks": 100000000000, "max_steps": 100000000000}},
            "programs": {{"job": {{"body": [
                {{"repeat": {{"times": 9, "body": [{{"cpu": 50}}, {{"io": 20}}]}}}},
                {{"cpu": 50}}]}}}},
            "processes": [{{"program": "job", "count": {n}}}]}}"#
    ))
    .expect("RR-IO-v1 is a valid scenario")
}

/// Runs to the end without a trace and returns the number of dispatches.
fn simulate(plan: &Arc<Plan>) -> u64 {
    let mut sim = Sim::new(Arc::clone(plan), SimOptions { trace: false });
    while sim.advance() {}
    sim.summary().dispatches
}

fn rr_io(c: &mut Criterion) {
    let mut group = c.benchmark_group("rr_io_v1");
    for n in [10u64, 1_000, 100_000, 1_000_000] {
        let plan = rr_io_v1(n, 1, 0);
        let dispatches = simulate(&plan);
        assert_eq!(dispatches, reference::rr_io_v1(n as u32).dispatches);
        group.throughput(Throughput::Elements(dispatches));
        if n >= 100_000 {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(if n >= 1_000_000 { 40 } else { 10 }));
        }
        group.bench_with_input(BenchmarkId::new("procsim", n), &plan, |b, plan| {
            b.iter(|| simulate(black_box(plan)))
        });
        group.bench_with_input(BenchmarkId::new("reference", n), &n, |b, &n| {
            b.iter(|| reference::rr_io_v1(black_box(n as u32)))
        });
    }
    group.finish();
}

/// The target's own measure: procsim and the reference loop at N = 1,000,000, run in turn
/// (procsim, reference, procsim, …) so that both see the same load on a shared machine, and
/// the median of each pair's ratio. Printed beside criterion's figures.
fn side_by_side(_c: &mut Criterion) {
    const NAME: &str = "side_by_side/rr_io_v1/1000000";
    // Criterion does not see this one: honour a filter (`cargo bench -- rr_io`) by hand.
    if let Some(filter) = std::env::args().skip(1).find(|a| !a.starts_with('-'))
        && !NAME.contains(&filter)
    {
        return;
    }
    const N: u64 = 1_000_000;
    const ROUNDS: usize = 7;
    let plan = rr_io_v1(N, 1, 0);
    // With RR_RING set to a build of the C reference loop (/work/shared/perf/rr_ring.c:
    // `cc -O2 -o rr_ring rr_ring.c`), it runs in the same rounds too, its figure the loop's
    // own timing of one run (`--reps 1`, its `median_s`).
    let c_loop = std::env::var_os("RR_RING");
    let (mut ours, mut theirs, mut c) = (Vec::new(), Vec::new(), Vec::new());
    // Each round's ratios, procsim's run to the reference's and to the C loop's run just
    // after it (see `variants_side_by_side` for why pairs).
    let (mut to_theirs, mut to_c) = (Vec::new(), Vec::new());
    let mut dispatches = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        dispatches = simulate(black_box(&plan));
        let took = start.elapsed();
        ours.push(took);
        let start = Instant::now();
        black_box(reference::rr_io_v1(black_box(N as u32)));
        let reference_took = start.elapsed();
        theirs.push(reference_took);
        to_theirs.push(took.as_secs_f64() / reference_took.as_secs_f64());
        if let Some(exe) = &c_loop {
            let out = std::process::Command::new(exe)
                .args([N.to_string().as_str(), "--reps", "1"])
                .output()
                .expect("RR_RING runs");
            let out = String::from_utf8_lossy(&out.stdout).into_owned();
            let at = out.find("\"median_s\": ").expect("rr_ring prints median_s") + 12;
            let secs: f64 = out[at..]
                .split([',', '}'])
                .next()
                .and_then(|x| x.trim().parse().ok())
                .expect("a number");
            assert!(
                out.contains(&format!("\"dispatches\": {dispatches}")),
                "{out}"
            );
            c.push(Duration::from_secs_f64(secs));
            to_c.push(took.as_secs_f64() / secs);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    let rate = |d: Duration| dispatches as f64 / d.as_secs_f64() / 1e6;
    println!(
        "{NAME}: procsim {:.1} M dispatches/s ({:.1} ns), reference {:.1} M/s \
         ({:.1} ns), ratio 1/{:.2} (medians of {ROUNDS} alternating runs, the ratios of each \
         pair)",
        rate(ours),
        ours.as_secs_f64() * 1e9 / dispatches as f64,
        rate(theirs),
        theirs.as_secs_f64() * 1e9 / dispatches as f64,
        median_of(&mut to_theirs),
    );
    if !c.is_empty() {
        let c = median(&mut c);
        println!(
            "{NAME}: procsim {:.1} ns a dispatch, the C reference loop (rr_ring.c) {:.2} ns, \
             ratio 1/{:.2} (medians of {ROUNDS} alternating runs, the ratios of each pair)",
            ours.as_secs_f64() * 1e9 / dispatches as f64,
            c.as_secs_f64() * 1e9 / dispatches as f64,
            median_of(&mut to_c),
        );
    }
}

/// The policies of SPEC §3a on RR-IO-v1 at N = 100,000, one CPU: a criterion group each,
/// and, printed beside them, each one's cost a dispatch against round robin's, measured in
/// alternating runs (round robin, the policy, round robin, …) so that both see the same load.
/// (FCFS, SJF, HRRN and the priority policy have no slice: ten dispatches a process instead of
/// fifty, so their runs are shorter; the cost a dispatch is what compares.)
const POLICIES: [(&str, &str); 11] = [
    ("rr", r#""rr""#),
    ("fcfs", r#""fcfs""#),
    ("sjf", r#""sjf""#),
    ("srtf", r#""srtf""#),
    (
        "priority",
        r#"{"name": "priority", "preemptive": true, "aging": {"every": 100, "step": 1}}"#,
    ),
    ("hrrn", r#""hrrn""#),
    (
        "mlfq",
        r#"{"name": "mlfq", "queues": 3, "quantum": [10, 20, 40], "boost": 1000}"#,
    ),
    ("lottery", r#""lottery""#),
    ("stride", r#""stride""#),
    ("cfs", r#""cfs""#),
    ("eevdf", r#""eevdf""#),
];

fn policies(c: &mut Criterion) {
    // Building the group runs each policy once; skip that when a filter excludes the group.
    if let Some(filter) = std::env::args().skip(1).find(|a| !a.starts_with('-'))
        && (filter.starts_with("side_by_side")
            || !"policy_rr_io_v1".contains(&filter) && !filter.contains("policy_rr_io_v1"))
    {
        return;
    }
    const N: u64 = 100_000;
    // A group a policy (`policy_rr_io_v1/fcfs`, …), each with its own throughput: the
    // dispatches its run makes.
    for (name, policy) in POLICIES {
        let mut group = c.benchmark_group(format!("policy_rr_io_v1/{name}"));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        let plan = rr_io_v1_under(N, 1, 0, policy);
        group.throughput(Throughput::Elements(simulate(&plan)));
        group.bench_with_input(BenchmarkId::from_parameter(N), &plan, |b, plan| {
            b.iter(|| simulate(black_box(plan)))
        });
        group.finish();
    }
}

/// The median of `v` (its upper middle for an even count), which it sorts.
fn median_of(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Whether the command line's filter (`cargo bench -- FILTER`) leaves out the side-by-side
/// run `name`, which prints its figures itself rather than through a criterion group.
fn filtered_out(name: &str) -> bool {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .is_some_and(|filter| !name.contains(&filter) && !filter.starts_with(name))
}

fn policies_side_by_side(_c: &mut Criterion) {
    const NAME: &str = "side_by_side/policy_rr_io_v1/100000";
    if filtered_out(NAME) {
        return;
    }
    const N: u64 = 100_000;
    const ROUNDS: usize = 5;
    let rr = rr_io_v1_under(N, 1, 0, POLICIES[0].1);
    // `-- side_by_side/policy_rr_io_v1/100000/lottery` runs that policy alone.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, policy) in &POLICIES[1..] {
        if let Some(f) = &filter
            && !NAME.contains(f.as_str())
            && !format!("{NAME}/{name}").contains(f.as_str())
        {
            continue;
        }
        let plan = rr_io_v1_under(N, 1, 0, policy);
        let (mut ours, mut base, mut ours_run, mut base_run) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Each round's ratios, the policy's run to round robin's just before it (see
        // `variants_side_by_side` for why pairs).
        let (mut per_dispatch, mut per_run) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let start = Instant::now();
            let d = simulate(black_box(&rr));
            let rr_took = start.elapsed().as_secs_f64();
            let rr_ns = rr_took * 1e9 / d as f64;
            base.push(rr_ns);
            base_run.push(rr_took);
            let start = Instant::now();
            let d = simulate(black_box(&plan));
            let took = start.elapsed().as_secs_f64();
            let ns = took * 1e9 / d as f64;
            ours.push(ns);
            ours_run.push(took);
            per_dispatch.push(ns / rr_ns);
            per_run.push(took / rr_took);
        }
        let (ours, base) = (median_of(&mut ours), median_of(&mut base));
        let (ours_run, base_run) = (median_of(&mut ours_run), median_of(&mut base_run));
        println!(
            "{NAME}: {name} {ours:.1} ns a dispatch, rr {base:.1} ns (1/{:.2} of round robin's \
             dispatch rate); the whole run {:.3} s, rr {:.3} s (1/{:.2}) (medians of {ROUNDS} \
             alternating runs, the ratios of each pair)",
            median_of(&mut per_dispatch),
            ours_run,
            base_run,
            median_of(&mut per_run),
        );
    }
}

/// Issue #15's speed item: 10^5 tasks, each with RR-IO-v1's work (ten CPU bursts of 50 ticks,
/// 20 ticks of I/O between; one CPU, round robin, quantum 10), as threads of one process, as
/// 1,000 processes of 100 threads each, and as 10^5 processes (the reference), with
/// `kernel.gil` as given. Each process's main thread starts its `per - 1` threads (a `thread`
/// takes no tick) and then does the work itself, so every shape has exactly 10^5 tasks doing
/// the same work.
fn threads_shape(procs: u64, per: u64, gil: bool) -> Arc<Plan> {
    let work = r#"{"repeat": {"times": 9, "body": [{"cpu": 50}, {"io": 20}]}}, {"cpu": 50}"#;
    let main = if per > 1 {
        format!(
            r#"{{"repeat": {{"times": {}, "body": [{{"thread": {{"program": "job"}}}}]}}}}, {work}"#,
            per - 1
        )
    } else {
        work.to_owned()
    };
    procsim::load_str(&format!(
        r#"{{"name": "RR-IO-v1 as threads",
            "kernel": {{"policy": "rr", "quantum": 10, "cpus": 1, "gil": {gil},
                        "max_processes": {tasks}, "pid_max": 4194304,
                        "max_ticks": 100000000000, "max_steps": 100000000000}},
            "programs": {{"main": {{"body": [{main}]}}, "job": {{"body": [{work}]}}}},
            "processes": [{{"program": "main", "count": {procs}}}]}}"#,
        tasks = procs * per,
    ))
    .expect("a valid scenario")
}

/// Runs to the end without a trace, the fast paths on or off: (dispatches, makespan).
fn simulate_shape(plan: &Arc<Plan>, fast: bool) -> (u64, u64) {
    let mut sim = Sim::new(Arc::clone(plan), SimOptions { trace: false });
    if !fast {
        sim.disable_fast_paths();
    }
    while sim.advance() {}
    assert!(sim.error().is_none());
    let s = sim.summary();
    (s.dispatches, s.makespan)
}

/// The cost a dispatch of 10^5 tasks as threads against 10^5 processes, run in turn in the
/// same rounds (medians of five, each run's ratio to the reference run of its round): one
/// process of 10^5 threads, 1,000 processes of 100 threads, GIL on (the default) and off;
/// the reference is 10^5 processes, with the kernel's fast paths (what a run of processes
/// gets) and without them (the general rounds, which a run with a `thread` instruction
/// takes on several CPUs: threads.rs). On one CPU the GIL sets no thread aside, so on and
/// off give the same schedule (and its bookkeeping is skipped there).
fn threads_side_by_side(_c: &mut Criterion) {
    const NAME: &str = "side_by_side/threads_rr_io_v1/100000";
    if filtered_out(NAME) {
        return;
    }
    const N: u64 = 100_000;
    const ROUNDS: usize = 5;
    // (label, plan, fast paths asked for)
    let shapes: [(&str, Arc<Plan>, bool); 6] = [
        (
            "10^5 processes (reference)",
            threads_shape(N, 1, true),
            true,
        ),
        (
            "10^5 processes, general rounds",
            threads_shape(N, 1, true),
            false,
        ),
        (
            "1 process x 10^5 threads, gil",
            threads_shape(1, N, true),
            true,
        ),
        (
            "1 process x 10^5 threads, no gil",
            threads_shape(1, N, false),
            true,
        ),
        (
            "10^3 processes x 100 threads, gil",
            threads_shape(1_000, 100, true),
            true,
        ),
        (
            "10^3 processes x 100 threads, no gil",
            threads_shape(1_000, 100, false),
            true,
        ),
    ];
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
    let mut runs: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
    // Each run's cost a dispatch against the reference's in the same round (see
    // `variants_side_by_side` for why pairs).
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); shapes.len()];
    let mut figures = vec![(0, 0); shapes.len()];
    for _ in 0..ROUNDS {
        let mut base = 0.0;
        for (i, (_, plan, fast)) in shapes.iter().enumerate() {
            let start = Instant::now();
            figures[i] = simulate_shape(black_box(plan), *fast);
            let took = start.elapsed().as_secs_f64();
            let d = took * 1e9 / figures[i].0 as f64;
            if i == 0 {
                base = d;
            }
            ns[i].push(d);
            ratios[i].push(d / base);
            runs[i].push(took);
        }
    }
    // The same work: one CPU never idle, so the same makespan (10^5 × 500 ticks).
    for (i, f) in figures.iter().enumerate() {
        assert_eq!(f.1, N * 500, "{}: makespan", shapes[i].0);
    }
    for (i, (label, _, _)) in shapes.iter().enumerate() {
        let (d, r) = (median_of(&mut ns[i]), median_of(&mut runs[i]));
        println!(
            "{NAME}: {label}: {d:.1} ns a dispatch ({:.2}x the reference), {} dispatches, \
             the whole run {r:.3} s (medians of {ROUNDS} alternating runs, the ratio of each \
             to the reference's in its round)",
            median_of(&mut ratios[i]),
            figures[i].0,
        );
    }
}

fn rr_io_variants(c: &mut Criterion) {
    let mut group = c.benchmark_group("rr_io_v1_variants");
    group.sample_size(10);
    for (label, cpus, cs) in [("4_cpus", 4, 0), ("context_switch_1", 1, 1)] {
        for n in [1_000u64, 100_000] {
            let plan = rr_io_v1(n, cpus, cs);
            group.throughput(Throughput::Elements(simulate(&plan)));
            group.bench_with_input(BenchmarkId::new(label, n), &plan, |b, plan| {
                b.iter(|| simulate(black_box(plan)))
            });
        }
    }
    group.finish();
}

/// Issue #13's multi-CPU item: RR-IO-v1 at N = 100,000 on one CPU (the reference), on 4 CPUs,
/// and on one CPU with `context_switch: 1`, each one's cost a dispatch and its ratio to one
/// CPU's. The three schedules differ (4 CPUs finish in about a quarter of the ticks, a switch
/// cost adds a tick a dispatch), but every variant makes 50 dispatches a process, so the
/// cost a dispatch is what compares.
///
/// This host's speed drifts by a third within minutes, and a median of each variant's runs
/// set against a median of the reference's still mixed runs made at different speeds (one
/// round gave 1.66x where the next gave 1.44x). So each variant's run is paired with a
/// reference run made just before it (one CPU, 4 CPUs, one CPU, the switch cost, …), and
/// the ratio is the median of those pairs' ratios, over eleven rounds.
fn variants_side_by_side(_c: &mut Criterion) {
    const NAME: &str = "side_by_side/rr_io_v1_variants/100000";
    if filtered_out(NAME) {
        return;
    }
    const N: u64 = 100_000;
    const ROUNDS: usize = 11;
    let reference = rr_io_v1(N, 1, 0);
    let variants: [(&str, Arc<Plan>); 2] = [
        ("4 cpus", rr_io_v1(N, 4, 0)),
        ("1 cpu, context_switch 1", rr_io_v1(N, 1, 1)),
    ];
    // The cost of a run a dispatch, and how many dispatches it made.
    let run = |plan: &Arc<Plan>| {
        let start = Instant::now();
        let dispatches = simulate(black_box(plan));
        (
            start.elapsed().as_secs_f64() * 1e9 / dispatches as f64,
            dispatches,
        )
    };
    let mut base_ns = Vec::new();
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut dispatches = [0; 3];
    for _ in 0..ROUNDS {
        for (i, (_, plan)) in variants.iter().enumerate() {
            let (base, made) = run(&reference);
            dispatches[0] = made;
            base_ns.push(base);
            let (d, made) = run(plan);
            dispatches[i + 1] = made;
            ns[i].push(d);
            ratios[i].push(d / base);
        }
    }
    println!(
        "{NAME}: 1 cpu (reference): {:.1} ns a dispatch, {} dispatches (median of {} runs)",
        median_of(&mut base_ns),
        dispatches[0],
        base_ns.len(),
    );
    for (i, (label, _)) in variants.iter().enumerate() {
        println!(
            "{NAME}: {label}: {:.1} ns a dispatch, {:.2}x one CPU's, {} dispatches (medians \
             of {ROUNDS} runs, the ratio of each to the one-CPU run just before it)",
            median_of(&mut ns[i]),
            median_of(&mut ratios[i]),
            dispatches[i + 1],
        );
    }
}

/// A tree of 100,000 spawns and joins: 100 children of the main process, each of which forks
/// and joins 999 grandchildren one after another.
fn fork_tree(c: &mut Criterion) {
    let plan = procsim::load_str(
        r#"{"name": "fork tree",
            "kernel": {"max_steps": 100000000000},
            "programs": {
              "main": {"body": [{"repeat": {"times": 100, "body": [
                  {"fork": {"as": "mid", "program": "mid"}}]}}]},
              "mid": {"body": [{"repeat": {"times": 999, "body": [
                  {"fork": {"as": "leaf", "program": "leaf"}}, {"join": "leaf"}]}}]},
              "leaf": {"body": [{"cpu": 1}]}
            },
            "processes": [{"program": "main"}]}"#,
    )
    .expect("valid");
    let mut group = c.benchmark_group("process_api");
    group.sample_size(10);
    let mut sim = Sim::new(Arc::clone(&plan), SimOptions { trace: false });
    while sim.advance() {}
    assert_eq!(sim.process_count(), 100_001);
    assert!(sim.error().is_none());
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("fork_tree_100000", |b| {
        b.iter(|| {
            let mut sim = Sim::new(Arc::clone(&plan), SimOptions { trace: false });
            while sim.advance() {}
            sim.process_count()
        })
    });
    group.finish();
}

/// Parsing and validating a large file: 1,000 programs of 100 instructions (about 4 MB).
fn parse_large(c: &mut Criterion) {
    let mut programs = Vec::new();
    for i in 0..1000 {
        let body: Vec<String> = (0..100)
            .map(|j| match j % 4 {
                0 => format!(r#"{{"cpu": {j}}}"#),
                1 => r#"{"io": {"uniform": [1, 9]}}"#.to_owned(),
                2 => r#"{"print": "{name} at {tick}: {counter}"}"#.to_owned(),
                _ => r#"{"add": {"name": "counter", "value": 1}}"#.to_owned(),
            })
            .collect();
        programs.push(format!(r#""p{i}": {{"body": [{}]}}"#, body.join(", ")));
    }
    let text = format!(
        r#"{{"globals": {{"counter": 0}}, "programs": {{{}}}, "processes": [{{"program": "p0"}}]}}"#,
        programs.join(",\n")
    );
    let mut group = c.benchmark_group("scenario");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("parse_and_validate_4mb", |b| {
        b.iter(|| procsim::load_str(black_box(&text)).expect("valid"))
    });
    group.finish();
}

criterion_group!(
    benches,
    rr_io,
    side_by_side,
    rr_io_variants,
    variants_side_by_side,
    policies,
    policies_side_by_side,
    threads_side_by_side,
    fork_tree,
    parse_large
);
criterion_main!(benches);
