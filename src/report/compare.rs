//! `procsim compare`'s table for people: what must agree, then the times side by side, then
//! each process's share of the CPU ([`crate::study::compare`] makes the comparison).

use std::fmt::Write as _;

use crate::report::Report;
use crate::report::fold::{first_difference, fold};
use crate::report::text::{Align, NAME_COLUMN, clip, escape, pad};
use crate::study::compare::{Comparison, Row, Verdict};

/// The comparison for people: what must agree, then the times, side by side.
pub fn render(c: &Comparison, sim: &Report, fork: &Report) -> String {
    let mut out = String::new();
    let real = fork.real.as_ref();
    let _ = writeln!(
        out,
        "Comparing `{}`: sim (ticks) vs fork (µs; {} isolation, {} µs a tick{})",
        escape(super::text::title(&sim.scenario)),
        real.map_or("?", |r| r.isolation.as_str()),
        real.map_or(0, |r| r.tick_us),
        real.and_then(|r| r.rr_quantum_us)
            .map_or_else(String::new, |q| format!(", SCHED_RR quantum {q} µs")),
    );
    if let Some(real) = real {
        for line in real.policy.describe(real.rr_quantum_us) {
            let _ = writeln!(out, "{line}");
        }
    }
    let w_proc = c
        .rows
        .iter()
        .map(|r| clip(&r.process, NAME_COLUMN).chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    // A process name in its column: escaped, cut, padded (no `format!` width, which panics
    // past 65,535); a value folded, then escaped.
    let name = |p: &str| pad(&clip(p, NAME_COLUMN), w_proc, Align::Left);
    let shown = |v: &str| escape(&fold(v)).into_owned();
    let _ = writeln!(out, "\nMust agree:");
    let _ = writeln!(
        out,
        "  {}  {:10}  {:7}  sim / fork",
        name("process"),
        "field",
        ""
    );
    for r in c.rows.iter().filter(|r| r.must_agree) {
        let mark = if r.verdict == Verdict::Same {
            "same"
        } else {
            "DIFFERS"
        };
        if r.verdict == Verdict::Same {
            let _ = writeln!(
                out,
                "  {}  {:10}  {mark:7}  {}",
                name(&r.process),
                r.field,
                shown(&r.sim)
            );
        } else {
            let _ = writeln!(
                out,
                "  {}  {:10}  {mark:7}  sim:  {}",
                name(&r.process),
                r.field,
                shown(&r.sim)
            );
            let _ = writeln!(
                out,
                "  {}  {:10}  {:7}  fork: {}",
                name(""),
                "",
                "",
                shown(&r.fork)
            );
            if let Some(first) = first_difference(&r.sim, &r.fork)
                && (fold(&r.sim) != r.sim || fold(&r.fork) != r.fork)
            {
                let _ = writeln!(
                    out,
                    "  {}  {:10}  {:7}  {}",
                    name(""),
                    "",
                    "",
                    escape(&first)
                );
            }
        }
    }
    let _ = writeln!(out, "\nMay differ (times: fork µs / sim ticks):");
    let _ = writeln!(
        out,
        "  {}  {:10}  {:>10}  {:>12}  {:>10}",
        name("process"),
        "field",
        "sim",
        "fork",
        "µs/tick"
    );
    for r in c
        .rows
        .iter()
        .filter(|r| !r.must_agree && r.field != "states")
    {
        let ratio = match r.verdict {
            Verdict::Ratio(Some(x)) => format!("{x:.1}"),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "  {}  {:10}  {:>10}  {:>12}  {:>10}",
            name(&r.process),
            r.field,
            escape(&r.sim),
            escape(&r.fork),
            ratio
        );
    }
    let unchecked: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| !r.must_agree && r.field == "states")
        .collect();
    if !unchecked.is_empty() {
        let _ = writeln!(
            out,
            "\nNot compared (no real counterpart of the policy: the normal scheduler ran them):"
        );
        for r in unchecked {
            let _ = writeln!(
                out,
                "  {}  {:10}  sim:  {}",
                name(&r.process),
                r.field,
                shown(&r.sim)
            );
            let _ = writeln!(out, "  {}  {:10}  fork: {}", name(""), "", shown(&r.fork));
        }
    }
    let _ = writeln!(
        out,
        "\nCPU share (cpu / total cpu of the scenario's processes):"
    );
    let _ = writeln!(out, "  {}  {:>7}  {:>7}", name("process"), "sim", "fork");
    let pct = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |x| format!("{:.1}%", x * 100.0));
    for sh in &c.shares {
        let _ = writeln!(
            out,
            "  {}  {:>7}  {:>7}",
            name(&sh.process),
            pct(sh.sim),
            pct(sh.fork)
        );
    }
    // The verdict comes last, where a reader of a long comparison looks first, and says
    // whether either run was cut short (a timeout is otherwise one row among thousands).
    let _ = writeln!(out);
    for (backend, report) in [("simulated", sim), ("real", fork)] {
        if let Some(e) = &report.error {
            let _ = writeln!(out, "The {backend} run stopped early: {}", shown(e));
        }
    }
    let n = c.differences().count();
    let _ = writeln!(
        out,
        "{}",
        if n == 0 {
            "The backends agree on everything that must agree.".to_owned()
        } else {
            format!("The backends differ on {n} point(s) that must agree.")
        }
    );
    out
}
