//! The shortcuts for a switch cost, for timers alone and for several CPUs
//! (`src/sim/fast_multi.rs`, `src/sim/fast_switch.rs`) give the general rounds' reports: every
//! scenario in `scenarios/`, forced to 2 and 4 CPUs, to a context switch of 1 tick (and of 2
//! on one CPU), and to both, runs
//! with the fast paths on and off, and the two reports are compared byte for byte. (RR-IO-v1
//! with a switch cost of 1, `scenarios/rr-io-v1.json` here, takes all three shortcuts:
//! a switch ending in the slice-end loop, one after a burst end, and timers firing between
//! the CPU's events.)

use std::path::PathBuf;

use procsim::{Sim, SimOptions};
use serde_json::{Value, json};

mod common;

fn scenario_texts() -> Vec<(PathBuf, String)> {
    common::scenario_files()
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("readable");
            (f, text)
        })
        .collect()
}

/// The report of `text`'s run, with the fast paths on or off, as JSON; `None` if the
/// scenario does not load (a forced setting it refuses).
fn report(text: &str, fast: bool) -> Option<String> {
    let plan = procsim::load_str(text).ok()?;
    let mut sim = Sim::new(plan, SimOptions::default());
    if !fast {
        sim.disable_fast_paths();
    }
    Some(serde_json::to_string(&sim.run()).expect("a report serializes"))
}

#[test]
fn every_scenario_on_several_cpus_and_with_a_switch_cost_gives_the_general_rounds_report() {
    let mut compared = 0;
    for (file, text) in scenario_texts() {
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        for (cpus, cs) in [
            (2, None),
            (4, None),
            (1, Some(1)),
            // A switch of 2 ticks: a timer can fire while a switch is under way
            // (`src/sim/fast_switch.rs`).
            (1, Some(2)),
            (2, Some(1)),
            (4, Some(1)),
        ] {
            let mut doc = doc.clone();
            let kernel = doc
                .as_object_mut()
                .expect("an object")
                .entry("kernel")
                .or_insert_with(|| json!({}));
            kernel["cpus"] = json!(cpus);
            if let Some(cs) = cs {
                kernel["context_switch"] = json!(cs);
            }
            let text = doc.to_string();
            let (Some(fast), Some(general)) = (report(&text, true), report(&text, false)) else {
                continue;
            };
            assert_eq!(
                fast,
                general,
                "{} on {cpus} CPUs, context_switch {cs:?}",
                file.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 600, "only {compared} runs compared");
}

/// Round robin's tick on several CPUs (`src/sim/fast_tick.rs`) settles RR-IO-v1's ticks on 2
/// and 4 CPUs: nearly every step is one of its ticks with the shortcuts on, none with them
/// off, and the reports agree (a shortcut that never applied would pass the comparison
/// above, not this).
#[test]
fn round_robins_tick_on_several_cpus_applies() {
    for cpus in [2, 4] {
        let plan = common::rr_io_v1_with("cpus", json!(cpus));
        let mut reports = Vec::new();
        for fast in [true, false] {
            let (sim, steps) = common::run_by_advance(&plan, fast);
            let ticks = sim.rr_ticks();
            if fast {
                assert!(
                    ticks * 10 >= steps * 9 && ticks > 100,
                    "{cpus} CPUs: {ticks} of {steps} steps were round robin's tick"
                );
            } else {
                assert_eq!(ticks, 0, "{cpus} CPUs, shortcuts off");
            }
            reports.push(serde_json::to_string(&sim.report()).expect("serializes"));
        }
        assert_eq!(reports[0], reports[1], "{cpus} CPUs");
    }
}
