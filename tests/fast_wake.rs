//! The shortcuts for a wake-up at a slice end and for a CPU fallen free
//! (`src/sim/fast_wake.rs`) give the general rounds' reports: generated I/O-bound workloads
//! on one CPU, built so that `io` and `sleep` end on other processes' slice ends (bursts and
//! waits in whole quanta, several processes waking at once, arrivals on those ticks too),
//! under every policy and every same-tick order, with and without a switch cost, run with
//! the fast paths on and off, and the two reports (trace included) are compared byte for
//! byte.

use serde_json::{Value, json};

mod common;

/// A small generator, so that the workloads are the same at every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// A workload of `n` processes whose bursts and waits are whole quanta of `q` most of the
/// time, so that wake-ups fall on slice ends; some sleep, some arrive late, some carry
/// tickets, nice values and priorities of their own.
fn workload(g: &mut Gen, n: u64, q: u64) -> Value {
    let mut programs = serde_json::Map::new();
    let mut processes = Vec::new();
    for i in 0..n {
        let mut body = Vec::new();
        for _ in 0..g.pick(1, 4) {
            let cpu = if g.pick(0, 4) == 0 {
                g.pick(1, 3 * q)
            } else {
                q * g.pick(1, 4)
            };
            body.push(json!({"cpu": cpu}));
            let wait = q * g.pick(1, 3);
            body.push(if g.pick(0, 3) == 0 {
                json!({"sleep": wait})
            } else {
                json!({"io": wait})
            });
        }
        body.push(json!({"cpu": q * g.pick(1, 2)}));
        let name = format!("p{i}");
        programs.insert(name.clone(), json!({"body": body}));
        let mut entry = json!({"program": name, "name": name});
        if g.pick(0, 3) == 0 {
            entry["arrival"] = json!(q * g.pick(1, 6));
        }
        if g.pick(0, 2) == 0 {
            entry["tickets"] = json!(g.pick(1, 4) * 50);
            entry["nice"] = json!(g.pick(0, 10) as i64 - 5);
            entry["priority"] = json!(g.pick(0, 5));
        }
        processes.push(entry);
    }
    json!({"programs": programs, "processes": processes})
}

#[test]
fn wake_ups_at_slice_ends_give_the_general_rounds_report_under_every_policy_and_order() {
    let mut g = Gen(11);
    let mut compared = 0;
    for seed in 0..4u64 {
        let q = [2, 3, 4, 5][seed as usize];
        let base = workload(&mut g, 6 + 2 * seed, q);
        for policy in common::every_policy() {
            // (Policies that do not read an attribute warn about it; that is fine here.)
            for (i, order) in common::TICK_ORDERS.iter().enumerate() {
                let mut doc = base.clone();
                doc["name"] = json!(format!("fast_wake {seed} {i}"));
                doc["seed"] = json!(seed);
                doc["kernel"] = json!({
                    "policy": policy,
                    "quantum": q,
                    "tick_order": order,
                    "context_switch": u64::from(i % 3 == 2),
                });
                common::assert_fast_paths_exact(
                    &doc.to_string(),
                    &format!("policy {policy}, order {order:?}, seed {seed}"),
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 4 * 13 * 6);
}

/// The same workloads without a trace, which is where the lean loop of the policies other
/// than round robin (`src/sim/fast/lean_any.rs`) takes wake-ups at slice ends and burst
/// ends in place: under every policy and every same-tick order, and under two more with
/// events of their own (MLFQ of one queue with a boost, which does not preempt and so takes
/// the lean loop; non-preemptive priority with aging), against the general rounds.
#[test]
fn without_a_trace_wake_ups_give_the_general_rounds_report_under_every_policy_and_order() {
    let mut g = Gen(11);
    let mut compared = 0;
    let mut policies = common::every_policy();
    policies.push(json!({"name": "priority", "aging": {"every": 7, "step": 1}}));
    policies.push(json!({"name": "mlfq", "queues": 1, "boost": 13}));
    for seed in 0..4u64 {
        let q = [2, 3, 4, 5][seed as usize];
        let base = workload(&mut g, 6 + 2 * seed, q);
        for policy in &policies {
            for (i, order) in common::TICK_ORDERS.iter().enumerate() {
                let mut doc = base.clone();
                doc["name"] = json!(format!("fast_wake untraced {seed} {i}"));
                doc["seed"] = json!(seed);
                doc["kernel"] = json!({"policy": policy, "quantum": q, "tick_order": order});
                common::assert_untraced_exact(
                    &doc.to_string(),
                    &format!("policy {policy}, order {order:?}, seed {seed}"),
                );
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 4 * 15 * 6);
}
