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
/// then drawn into them, holding no more than the picture. Each run writes a process's report
/// out when it is reaped and gives its record back (sim/epitaphs.rs), so the kernel holds
/// the live processes. Returns the SVG and why the run stopped early (or why no chart was
/// drawn: a report written out that cannot be read back).
pub fn stream_svg(
    plan: std::sync::Arc<crate::Plan>,
    opts: &SvgOptions,
) -> (String, Option<String>) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let options = crate::SimOptions { trace: true };
    let mut first = crate::Sim::new(std::sync::Arc::clone(&plan), options);
    // The first run needs the reports only for labels, of the first `DETAILED_ROWS`
    // processes, and for threads, which keep every record: the others' records are given
    // back without a word (as the table's first run does).
    let recycled = first.recycle_reaped_following(DETAILED_ROWS);
    first.run_streaming(Box::new(|_| {}));
    let n = first.process_count();
    let end = first.listed_end();
    let readable = if recycled { n.min(DETAILED_ROWS) } else { n };
    let mut labels = Vec::new();
    let mut threads = 0;
    // When a row is one process, their reports give the threads' rows (SPEC §4a).
    let mut shown = Vec::new();
    for i in 0..readable {
        let p = first.finished_process(i as u32);
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
    let first_error = error.clone();
    drop(first);

    let mut sim = crate::Sim::new(plan, options);
    sim.recycle_reaped_listing();
    let collector = Rc::new(RefCell::new(
        geometry.collector((opts.context_switch, opts.thread_switch)),
    ));
    let sink = Rc::clone(&collector);
    sim.run_streaming(Box::new(move |e| sink.borrow_mut().event(e)));
    let summary = sim.summary();
    let error = sim.error().map(str::to_owned);
    if sim.process_count() != n || error != first_error {
        // Only what is outside the scenario can make the second run differ from the first
        // (a temporary file that cannot be written): no chart, and why.
        let why = error.unwrap_or_else(|| {
            format!(
                "the chart's second run made {} processes, its first {n}: no chart drawn",
                sim.process_count()
            )
        });
        return (String::new(), Some(why));
    }
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
    // A report that cannot be read back is drawn as an empty one, and the chart is not
    // given out.
    let failed = RefCell::new(None);
    let read = |i: usize| {
        sim.listed_process(i as u32).unwrap_or_else(|e| {
            failed.replace(Some(e));
            crate::report::ProcessReport::default()
        })
    };
    let collected = collector
        .into_inner()
        .finish(end, (0..facts.processes).map(read));
    let svg = draw_chart(&facts, opts, &geometry, &collected, &|i| {
        Cow::Owned(read(i))
    });
    match failed.into_inner() {
        Some(e) => (String::new(), Some(unreadable(&e))),
        None => (svg, error),
    }
}

fn unreadable(e: &std::io::Error) -> String {
    format!("cannot read back the reports of reaped processes written out for the chart: {e}")
}
