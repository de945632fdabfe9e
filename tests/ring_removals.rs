//! Round robin's and FCFS's queue takes killed ready processes out of its middle (daemons
//! ending with their parent, signals from outside). Past `ring.rs`'s `INDEX_FROM` (64)
//! queued processes it does so through an index and holes the pops step over; on
//! `--explain`'s path it still searches and shifts. The two paths must give the same run:
//! here, workloads with a few hundred ready processes, ended in bulk and one by one, joining
//! at the tail and (round robin's `wake_to: head`) at the head, are run plainly, with the
//! fast paths off, and explained, and the reports compared.

use procsim::{Sim, SimOptions};
use serde_json::{Value, json};

fn report(text: &str, how: &str) -> String {
    let plan = procsim::load_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut sim = Sim::new(plan, SimOptions::default());
    let report = match how {
        "explained" => sim.run_explained().0,
        "slow" => {
            sim.disable_fast_paths();
            sim.run()
        }
        _ => sim.run(),
    };
    serde_json::to_string(&report).expect("a report serializes")
}

/// A parent forks `daemons` daemon children that compute and do I/O, and ends while most
/// are ready; `workers` top-level processes run beside them, and signals from outside end
/// every third of them at ticks spread over the run.
fn workload(policy: Value, daemons: usize, workers: usize) -> String {
    let processes: Vec<Value> = std::iter::once(json!({"program": "main", "name": "main"}))
        .chain((0..workers).map(|i| json!({"program": "w", "name": format!("w{i}")})))
        .collect();
    let events: Vec<Value> = (0..workers)
        .filter(|i| i % 3 == 0)
        .map(|i| json!({"at": 3 + 7 * i as u64, "signal": "SIGKILL", "to": format!("w{i}")}))
        .collect();
    json!({
        "name": "removals from the middle of the queue",
        "kernel": {"cpus": 1, "quantum": 3, "policy": policy,
                   "max_processes": 4096, "pid_max": 32768},
        "programs": {
            "main": {"body": [
                {"repeat": {"times": daemons, "body": [
                    {"fork": {"as": "c", "program": "spin", "daemon": true}}]}},
                {"cpu": 40}, {"io": 2}, {"cpu": 200}
            ]},
            "spin": {"body": [{"cpu": 7}, {"io": 4}, {"cpu": 5}, {"io": 1}, {"cpu": 500}]},
            "w": {"body": [{"cpu": 11}, {"io": 3}, {"cpu": 13}, {"io": 9}, {"cpu": 30}]}
        },
        "processes": processes,
        "events": events
    })
    .to_string()
}

#[test]
fn the_indexed_queue_runs_as_the_searched_one() {
    let policies = [json!("rr"), json!("fcfs")];
    for policy in policies {
        for (daemons, workers) in [(300, 150), (70, 0), (0, 400), (1000, 30)] {
            let text = workload(policy.clone(), daemons, workers);
            let plain = report(&text, "plain");
            assert_eq!(plain, report(&text, "slow"), "{policy} {daemons} {workers}");
            assert_eq!(
                plain,
                report(&text, "explained"),
                "{policy} {daemons} {workers}"
            );
        }
    }
    // Woken processes joining at the head, ahead of holes and of older entries.
    for keep in ["fresh", "keep"] {
        let mut text: Value = serde_json::from_str(&workload(json!("rr"), 300, 150)).unwrap();
        text["kernel"]["wake_to"] = json!("head");
        text["kernel"]["slice_after_block"] = json!(keep);
        let text = text.to_string();
        let plain = report(&text, "plain");
        assert_eq!(plain, report(&text, "slow"), "wake_to head, {keep}");
        assert_eq!(plain, report(&text, "explained"), "wake_to head, {keep}");
    }
}
