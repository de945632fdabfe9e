//! Generated workloads (`procsim gen`) as property-test inputs: whatever the parameters, the
//! scenario is valid, runs to its end, obeys the time identity, and its Perfetto trace never
//! overlaps slices on a track.

use std::collections::BTreeMap;

use procsim::report::render_perfetto;
use procsim::study::workload::{GenParams, generate};
use procsim::{Sim, SimOptions};
use proptest::prelude::*;
use serde_json::Value as Json;

prop_compose! {
    fn params()(
        seed in any::<u64>(),
        processes in 1u32..30,
        cpu_bound in 0.0f64..=1.0,
        cpu_mean in 1.0f64..20.0,
        io_mean in 1.0f64..20.0,
        bursts in 1.0f64..5.0,
        arrival_mean in 0.0f64..6.0,
        quantum in 1u64..8,
        cpus in 1u32..4,
        context_switch in 0u64..3,
    ) -> GenParams {
        GenParams {
            seed, processes, cpu_bound, cpu_mean, io_mean, bursts, arrival_mean,
            quantum: Some(quantum), cpus: Some(cpus), context_switch: Some(context_switch),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_workloads_run_and_draw(p in params()) {
        let text = generate(&p).unwrap();
        prop_assert_eq!(&text, &generate(&p).unwrap());
        let plan = procsim::load_str(&text).unwrap();
        let report = Sim::new(plan, SimOptions::default()).run();
        prop_assert!(report.error.is_none());
        prop_assert_eq!(report.processes.len(), p.processes as usize);
        for q in &report.processes {
            prop_assert_eq!(q.exitcode, Some(0));
            prop_assert_eq!(q.turnaround, Some(q.cpu + q.waiting + q.blocked));
        }
        let json: Json = serde_json::from_str(&render_perfetto(&report, p.context_switch.unwrap_or(0))).unwrap();
        let mut tracks: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
        for e in json["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == "X") {
            let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap());
            tracks.entry(key).or_default().push((e["ts"].as_u64().unwrap(), e["dur"].as_u64().unwrap()));
        }
        for slices in tracks.values_mut() {
            slices.sort();
            for w in slices.windows(2) {
                prop_assert!(w[0].0 + w[0].1 <= w[1].0, "{:?}", w);
            }
        }
    }
}

#[test]
fn the_generator_stream_is_pinned() {
    // If this changes, every generated workload (and every sweep over --gen) changes.
    let text = generate(&GenParams::new(1, 3)).unwrap();
    assert!(
        text.contains(r#""p1-cpu": {"body":[{"cpu":4},{"io":3},{"cpu":1},{"io":4},{"cpu":2}"#),
        "{text}"
    );
}
