//! The chart of a run drawn while it runs: [`stream_svg`].

use std::borrow::Cow;

use super::{
    DETAILED_ROWS, Facts, Geometry, MAX_ROWS, SvgOptions, draw_chart, label_len, other_threads,
    row_label_len, thread_rows,
};
use crate::report::TimeUnit;

/// Runs `plan` on the simulated kernel and draws its chart ([`render_svg`] of its report, the
/// same bytes) from the transitions as they happen: the run is made twice (it is
/// deterministic), first for its size and length, which fix the chart's rows and columns,
/// then drawn into them, holding no more than the picture. Returns the SVG and why the run
/// stopped early.
pub fn stream_svg(
    plan: std::sync::Arc<crate::Plan>,
    opts: &SvgOptions,
) -> (String, Option<String>) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let options = crate::SimOptions { trace: true };
    let mut first = crate::Sim::new(std::sync::Arc::clone(&plan), options);
    first.run_streaming(Box::new(|_| {}));
    let n = first.process_count();
    let mut end = first.summary().makespan;
    let mut labels = Vec::new();
    let mut threads = 0;
    // When a row is one process, their reports give the threads' rows (SPEC §4a).
    let mut shown = Vec::new();
    for i in 0..n {
        let p = first.finished_process(i as u32);
        if let (Some(r), Some(_)) = (p.reaped_at, p.ended_at) {
            end = end.max(r);
        }
        if n <= DETAILED_ROWS {
            labels.push(label_len(&p.name, p.pid));
        }
        threads += other_threads(&p);
        if n <= MAX_ROWS {
            shown.push(p);
        }
    }
    let tasks = if threads > 0 {
        thread_rows(&shown)
    } else {
        None
    };
    if let Some(t) = &tasks
        && n <= DETAILED_ROWS
    {
        labels = (0..t.rows.len())
            .map(|r| row_label_len(Some(t), r, &shown))
            .collect();
    }
    drop(shown);
    let summary = first.summary();
    let error = first.error().map(str::to_owned);
    let facts = Facts {
        processes: n,
        cpus: first.cpu_count() as usize,
        end,
        scenario: first.scenario_name(),
        backend: "sim",
        time_unit: TimeUnit::Tick,
        summary: &summary,
        error: error.as_deref(),
        threads,
    };
    let geometry = Geometry::new(&facts, opts, tasks, |i| labels[i]);
    drop(first);

    let mut sim = crate::Sim::new(plan, options);
    let collector = Rc::new(RefCell::new(
        geometry.collector((opts.context_switch, opts.thread_switch)),
    ));
    let sink = Rc::clone(&collector);
    sim.run_streaming(Box::new(move |e| sink.borrow_mut().event(e)));
    let summary = sim.summary();
    let error = sim.error().map(str::to_owned);
    let facts = Facts {
        processes: sim.process_count(),
        cpus: sim.cpu_count() as usize,
        end,
        scenario: sim.scenario_name(),
        backend: "sim",
        time_unit: TimeUnit::Tick,
        summary: &summary,
        error: error.as_deref(),
        threads,
    };
    // The kernel dropped its sink when the run ended: the collector is not shared.
    let Ok(collector) = Rc::try_unwrap(collector) else {
        return (
            String::new(),
            Some("the chart's collector is still shared".into()),
        );
    };
    let collected = collector.into_inner().finish(
        end,
        (0..facts.processes).map(|i| sim.finished_process(i as u32)),
    );
    let svg = draw_chart(&facts, opts, &geometry, &collected, &|i| {
        Cow::Owned(sim.finished_process(i as u32))
    });
    (svg, error)
}
