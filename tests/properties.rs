//! Invariants of the simulated kernel, checked on generated scenarios (proptest), under every
//! scheduling policy of SPEC §3a (each with several parameter sets).
//!
//! Failures that proptest shrinks are kept in `proptest-regressions/properties.txt` and
//! replayed first on every run.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value as Json, json};

use procsim::report::Report;
use procsim::{Sim, SimOptions, State, StateGraph};

/// One instruction of a generated program. Children may fork further children only to a
/// bounded depth, so every scenario ends.
fn instr(depth: u32) -> BoxedStrategy<Json> {
    let leaf = prop_oneof![
        4 => (0u64..6).prop_map(|n| json!({"cpu": n})),
        2 => (0u64..6).prop_map(|n| json!({"io": n})),
        1 => (0u64..4).prop_map(|n| json!({"sleep": n})),
        1 => (1i64..5).prop_map(|hi| json!({"cpu": {"uniform": [0, hi]}})),
        1 => Just(json!({"print": "{name} {pid} {ppid} at {tick}"})),
        1 => Just(json!({"add": {"name": "g", "value": 1}})),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    let body = prop::collection::vec(instr(depth - 1), 1..4);
    prop_oneof![
        6 => leaf,
        1 => (0u64..3, body.clone()).prop_map(|(t, b)| json!({"repeat": {"times": t, "body": b}})),
        1 => (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(move |(daemon, join, kill)| {
            let h = format!("h{depth}");
            // Children of odd depth give their own scheduling attributes; the others inherit.
            let mut fork = json!({"as": h, "program": format!("child{}", depth - 1), "daemon": daemon});
            if depth % 2 == 1 {
                fork["priority"] = json!(depth);
                fork["nice"] = json!(-(depth as i64));
                fork["tickets"] = json!(50 * depth);
            }
            let mut v = vec![json!({"fork": fork})];
            if kill {
                v.push(json!({"cpu": 1}));
                v.push(json!({"kill": h}));
            }
            if join {
                v.push(json!({"join": h}));
            }
            json!({"repeat": {"times": 1, "body": v}})
        }),
        1 => Just(json!({"wait": {}})),
    ]
    .boxed()
}

/// Every policy, as a name and with parameters that exercise its options.
fn policy() -> impl Strategy<Value = Json> {
    prop::sample::select(vec![
        json!("rr"),
        json!({"name": "rr", "quantum": 2}),
        json!("fcfs"),
        json!("sjf"),
        json!({"name": "sjf", "estimate": {"alpha": 0.5, "initial": 3}}),
        json!("srtf"),
        json!({"name": "srtf", "estimate": {"alpha": 0.25, "initial": 2}}),
        json!("priority"),
        json!({"name": "priority", "preemptive": true}),
        json!({"name": "priority", "preemptive": true, "aging": {"every": 2, "step": 1}}),
        json!({"name": "priority", "aging": {"every": 3, "step": 2}}),
        json!("hrrn"),
        json!("mlfq"),
        json!({"name": "mlfq", "queues": 2, "quantum": [1, 3], "allotment": [2, 1], "boost": 7,
               "io_reset": true, "io_bump": true}),
        json!({"name": "mlfq", "queues": 1, "boost": 5}),
        json!("lottery"),
        json!("stride"),
        json!({"name": "stride", "big": 1000, "quantum": 3}),
        json!("cfs"),
        json!({"name": "cfs", "latency": 6, "min_granularity": 1}),
        json!("eevdf"),
        json!({"name": "eevdf", "base_slice": 1}),
    ])
}

fn program(depth: u32) -> impl Strategy<Value = Json> {
    prop::collection::vec(instr(depth), 0..6).prop_map(|body| json!({"body": body}))
}

prop_compose! {
    fn scenario()(
        quantum in 1u64..6,
        cpus in 1u32..4,
        context_switch in 0u64..3,
        order in Just(["wake", "admit", "preempt"]).prop_shuffle(),
        wake_head in any::<bool>(),
        keep in any::<bool>(),
        posix in any::<bool>(),
        seed in any::<u64>(),
        main in program(2),
        child1 in program(1),
        child0 in program(0),
        arrivals in prop::collection::vec((0u64..10, 0i64..4, -5i64..6, 1u64..300), 1..5),
        policy in policy(),
    ) -> String {
        let processes: Vec<Json> = arrivals
            .iter()
            .enumerate()
            .map(|(i, (a, priority, nice, tickets))| json!({
                "program": "main", "name": format!("P{i}"), "arrival": a,
                "priority": priority, "nice": nice, "tickets": tickets,
            }))
            .collect();
        json!({
            "kernel": {
                "policy": policy,
                "quantum": quantum, "cpus": cpus, "context_switch": context_switch,
                "tick_order": order, "wake_to": if wake_head { "head" } else { "tail" },
                "slice_after_block": if keep { "keep" } else { "fresh" },
                "exit_policy": if posix { "posix" } else { "multiprocessing" },
                "max_processes": 64, "max_ticks": 100000
            },
            "seed": seed,
            "globals": {"g": 0},
            "programs": {"main": main, "child1": child1, "child0": child0},
            "processes": processes,
        })
        .to_string()
    }
}

fn run(text: &str) -> Report {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    Sim::new(plan, SimOptions::default()).run()
}

proptest! {
    #![proptest_config(ProptestConfig {
        // PROPTEST_CASES=N runs more (or fewer) cases than the 300 of a normal `cargo test`.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/properties.txt"),
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn invariants_hold(text in scenario()) {
        let report = run(&text);
        prop_assert!(report.error.is_none(), "{:?}", report.error);
        let cpus = report.cpus as usize;

        // Every transition is an edge, and each process's transitions chain.
        let graph = StateGraph::new();
        let mut state = vec![State::New; report.processes.len()];
        let mut running = 0usize;
        for e in &report.trace {
            prop_assert!(graph.is_legal(e.from, e.to, e.cause), "{e:?}");
            prop_assert_eq!(state[e.proc as usize], e.from);
            state[e.proc as usize] = e.to;
            // At most `cpus` processes are running, even between two transitions of a tick.
            if e.to == State::Running { running += 1; }
            if e.from == State::Running { running -= 1; }
            prop_assert!(running <= cpus, "{} running on {} CPUs at {}", running, cpus, e.t);
        }
        prop_assert!(state.iter().all(|s| *s == State::Terminated));

        // No tick is counted twice or lost.
        let s = &report.summary;
        prop_assert_eq!(s.cpu_busy + s.idle + s.switch_ticks, u64::from(report.cpus) * s.makespan);
        prop_assert_eq!(s.cpu_busy, report.processes.iter().map(|p| p.cpu).sum::<u64>());

        for p in &report.processes {
            if p.signal.is_none() && let Some(t) = p.turnaround {
                prop_assert_eq!(t, p.cpu + p.waiting + p.blocked, "{}", p.name);
            }
            // Every process is reaped by the end, and never before it ended.
            prop_assert!(p.reaped_at.is_some(), "{} not reaped", p.name);
            prop_assert!(p.reaped_at >= p.ended_at);
        }

        // Same seed, same bytes; and the JSON parses back to the same report.
        let again = serde_json::to_string(&run(&text)).unwrap();
        let bytes = serde_json::to_string(&report).unwrap();
        prop_assert_eq!(&again, &bytes);
        let back: Report = serde_json::from_str(&bytes).unwrap();
        prop_assert_eq!(back, report);
    }

    /// The shortcuts the kernel takes for its commonest events change nothing: with them off,
    /// every report is the same, byte for byte.
    #[test]
    fn fast_paths_change_nothing(text in scenario()) {
        let plan = procsim::load_str(&text).unwrap();
        let fast = Sim::new(plan.clone(), SimOptions::default()).run();
        let mut general = Sim::new(plan, SimOptions::default());
        general.disable_fast_paths();
        let general = general.run();
        prop_assert_eq!(
            serde_json::to_string(&fast).unwrap(),
            serde_json::to_string(&general).unwrap()
        );
    }

    /// Round robin starves nobody: with n CPU-bound processes on one CPU, a ready process waits
    /// at most (n − 1)·(quantum + context_switch) for the others' slices, plus its own switch
    /// (during which it is still ready).
    #[test]
    fn round_robin_starves_nobody(
        bursts in prop::collection::vec(1u64..40, 1..8),
        quantum in 1u64..8,
        cs in 0u64..4,
        arrivals in prop::collection::vec(0u64..20, 8),
    ) {
        let n = bursts.len() as u64;
        let processes: Vec<Json> = bursts
            .iter()
            .enumerate()
            .map(|(i, b)| json!({"program": "p", "name": format!("P{i}"), "args": [b], "arrival": arrivals[i]}))
            .collect();
        let text = json!({
            "kernel": {"quantum": quantum, "context_switch": cs},
            "programs": {"p": {"params": ["n"], "body": [{"cpu": "$n"}]}},
            "processes": processes,
        })
        .to_string();
        let report = run(&text);
        let bound = (n - 1) * (quantum + cs) + cs;
        let mut ready_since = vec![None; report.processes.len()];
        for e in &report.trace {
            let i = e.proc as usize;
            if e.to == State::Ready {
                ready_since[i] = Some(e.t);
            }
            if e.from == State::Ready && let Some(since) = ready_since[i].take() {
                prop_assert!(
                    e.t - since <= bound,
                    "{} waited {} > {} ({} processes, q={}, cs={})",
                    report.processes[i].name, e.t - since, bound, n, quantum, cs
                );
            }
        }
    }
}
