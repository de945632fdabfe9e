//! The human view of a report: the process table, the timeline, outputs and the summary.

use super::rows::TaskRows;
use super::text::{Align, NAME_COLUMN, clip, escape, pad};
use super::timeline::{Timeline, TimelineBuilder, timeline_text};
use super::{LineAt, ProcessReport, Report};

fn cell(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| x.to_string())
}

fn avg(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"))
}

/// Renders the table view: what `procsim run` prints by default. `width` bounds the
/// timeline's columns.
pub fn render_table(report: &Report, width: usize) -> String {
    render_table_styled(report, width, false)
}

/// [`render_table`] with the timeline in colour when `color` is true (for a terminal).
pub fn render_table_styled(report: &Report, width: usize, color: bool) -> String {
    render_table_switching(report, width, color, 0)
}

/// [`render_table_styled`] with the scenario's `kernel.context_switch`, whose ticks the
/// timeline shows as `s` rather than `r`.
pub fn render_table_switching(
    report: &Report,
    width: usize,
    color: bool,
    context_switch: u64,
) -> String {
    render_table_switches(report, width, color, (context_switch, 0))
}

/// [`render_table_switching`] with `(kernel.context_switch, kernel.thread_switch)`: a switch
/// between two threads of one process shows as `s` for `thread_switch` ticks (SPEC §4a).
pub fn render_table_switches(
    report: &Report,
    width: usize,
    color: bool,
    (context_switch, thread_switch): (u64, u64),
) -> String {
    let shown = &report.processes[..report.processes.len().min(MAX_ROWS)];
    let timeline = Timeline::with_switches(report, width, MAX_ROWS, context_switch, thread_switch);
    compose(
        &TableRun {
            scenario: &report.scenario,
            backend: &report.backend,
            cpus: report.cpus,
            real: report.real.as_ref(),
            time_unit: report.time_unit,
            count: report.processes.len(),
            summary: &report.summary,
            error: report.error.as_deref(),
            notes: &report.notes,
        },
        shown,
        &timeline_text(&timeline, report.time_unit, color),
    )
}

/// Processes listed in the table and drawn in the timeline (the others are counted).
const MAX_ROWS: usize = 40;
// The timeline's thread rows are bounded by MAX_ROWS too: the chart's and the page's bound.
const _: () = assert!(MAX_ROWS == super::rows::MAX_THREAD_ROWS);

/// What the table says of a run besides its first processes.
struct TableRun<'a> {
    scenario: &'a str,
    backend: &'a str,
    cpus: u32,
    real: Option<&'a super::RealRun>,
    time_unit: super::TimeUnit,
    /// How many processes the run made.
    count: usize,
    summary: &'a super::Summary,
    error: Option<&'a str>,
    /// What the run did that changed nothing (SPEC §4: a signal to a process not alive).
    notes: &'a [super::Note],
}

/// The table view of a run from its first processes (`shown`, at most [`MAX_ROWS`]) and its
/// timeline as text.
fn compose(run: &TableRun<'_>, shown: &[ProcessReport], timeline: &str) -> String {
    let mut out = String::new();
    let title = escape(super::text::title(run.scenario));
    out.push_str(&format!(
        "{title}  [{} backend, {} CPU{}]\n",
        run.backend,
        run.cpus,
        if run.cpus == 1 { "" } else { "s" }
    ));
    // A real run says which real policy stood for the scenario's, and why not when it could
    // not be used (--realtime without the privilege never passes silently).
    if let Some(real) = run.real {
        for line in real.describe() {
            // Fence acts name processes, whose names come from the scenario.
            out.push_str(&escape(&line));
            out.push('\n');
        }
    }
    out.push('\n');
    let header = [
        "PID", "PPID", "NAME", "EXIT", "ARRIVE", "FIRST", "END", "CPU", "WAIT", "BLOCK", "RESP",
        "TURN", "DISP", "PREEMPT",
    ];
    let rows: Vec<Vec<String>> = shown
        .iter()
        .flat_map(|p| std::iter::once(process_row(p)).chain(p.threads.iter().map(thread_row)))
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    compose_rest(run, shown, timeline, &header, &rows, &widths, out)
}

/// A process's row of the table.
fn process_row(p: &ProcessReport) -> Vec<String> {
    let exit = match (&p.signal, p.exitcode) {
        (Some(sig), Some(code)) => format!("{code} {sig}"),
        (_, Some(code)) => code.to_string(),
        (_, None) => "-".into(),
    };
    vec![
        // A child never started has no pid (Python's `None`).
        if p.pid == 0 {
            "-".to_owned()
        } else {
            p.pid.to_string()
        },
        p.ppid.to_string(),
        clip(&p.name, NAME_COLUMN).into_owned(),
        exit,
        cell(p.admitted_at),
        cell(p.first_run),
        cell(p.ended_at),
        p.cpu.to_string(),
        p.waiting.to_string(),
        p.blocked.to_string(),
        cell(p.response),
        cell(p.turnaround),
        p.dispatches.to_string(),
        p.preemptions.to_string(),
    ]
}

/// A thread's row, under its process's (SPEC §4a): its tid, its name indented, its figures.
fn thread_row(t: &super::ThreadReport) -> Vec<String> {
    let name = format!("  {}", t.name);
    vec![
        t.tid.to_string(),
        String::new(),
        clip(&name, NAME_COLUMN).into_owned(),
        if t.daemon { "daemon" } else { "" }.to_owned(),
        cell(t.admitted_at),
        cell(t.first_run),
        cell(t.ended_at),
        t.cpu.to_string(),
        t.waiting.to_string(),
        t.blocked.to_string(),
        cell(t.response),
        cell(t.turnaround),
        t.dispatches.to_string(),
        t.preemptions.to_string(),
    ]
}

/// The table's rows and what follows them.
fn compose_rest(
    run: &TableRun<'_>,
    shown: &[ProcessReport],
    timeline: &str,
    header: &[&str],
    rows: &[Vec<String>],
    widths: &[usize],
    mut out: String,
) -> String {
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (c, text) in cells.iter().enumerate() {
            let align = if c == 2 || c == 3 {
                Align::Left
            } else {
                Align::Right
            };
            s.push_str(&pad(text, widths[c], align));
            s.push_str("  ");
        }
        s.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(header));
    for r in rows {
        out.push_str(&line(&r.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    if run.count > shown.len() {
        out.push_str(&format!(
            "… and {} more processes\n",
            run.count - shown.len()
        ));
    }
    out.push('\n');
    out.push_str(timeline);

    out.push_str(&output_section(shown));
    out.push_str(&notes_section(run.notes));

    let s = run.summary;
    out.push_str(&format!(
        "\nSummary: makespan {}, CPU busy {} ({:.1}%), idle {}, switching {}, dispatches {}, context switches {}\n",
        s.makespan,
        s.cpu_busy,
        s.utilization * 100.0,
        s.idle,
        s.switch_ticks,
        s.dispatches,
        s.context_switches
    ));
    out.push_str(&format!(
        "         avg response {}, avg turnaround {}, avg waiting {}, throughput {:.4} per {}\n",
        avg(s.avg_response),
        avg(s.avg_turnaround),
        avg(s.avg_waiting),
        s.throughput,
        if run.time_unit == super::TimeUnit::Us {
            "µs"
        } else {
            "tick"
        }
    ));
    if let Some(e) = run.error {
        out.push_str(&format!("\nThe run stopped early: {}\n", escape(e)));
    }
    out
}

/// Runs `plan` on the simulated kernel and renders its table view ([`render_table_switching`],
/// the same bytes) from the transitions as they happen: the run is made twice (it is
/// deterministic), first for the makespan, which sizes the timeline's columns, then drawn,
/// holding only the first processes' rows. Returns the text and why the run stopped early.
pub fn stream_table(
    plan: std::sync::Arc<crate::Plan>,
    width: usize,
    color: bool,
    context_switch: u64,
) -> (String, Option<String>) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let options = crate::SimOptions { trace: true };
    let mut first = crate::Sim::new(std::sync::Arc::clone(&plan), options);
    // Both runs keep the records of the first rows' processes and give back the others once
    // reaped (recycle.rs): memory follows the live processes, as for `--format summary`.
    // The rows are drawn from the transitions of those processes alone (a CPU's lane is not
    // drawn here), so the reused slots of the others change nothing (tests/streamed.rs).
    first.recycle_reaped_following(MAX_ROWS);
    first.run_streaming(Box::new(|_| {}));
    let makespan = first.summary().makespan;
    let shown = first.process_count().min(MAX_ROWS);
    // The rows: the first processes, each with its threads' rows (SPEC §4a).
    let first_shown: Vec<ProcessReport> = (0..shown as u32)
        .map(|i| first.finished_process(i))
        .collect();
    let rows = TaskRows::new(&first_shown, MAX_ROWS);
    drop(first_shown);
    let cpus = first.cpu_count();
    drop(first);

    let thread_switch = plan.kernel.thread_switch;
    let mut sim = crate::Sim::new(plan, options);
    sim.recycle_reaped_following(MAX_ROWS);
    let builder = Rc::new(RefCell::new(TimelineBuilder::with_rows(
        makespan,
        width,
        cpus,
        (context_switch, thread_switch),
        rows,
    )));
    let sink = Rc::clone(&builder);
    sim.run_streaming(Box::new(move |e| sink.borrow_mut().event(e)));
    let summary = sim.summary();
    debug_assert_eq!(summary.makespan, makespan, "the second run differs");
    let count = sim.process_count();
    let shown: Vec<ProcessReport> = (0..count.min(MAX_ROWS) as u32)
        .map(|i| sim.finished_process(i))
        .collect();
    // The kernel dropped its sink when the run ended, so the builder is not copied.
    let timeline = match Rc::try_unwrap(builder) {
        Ok(b) => b.into_inner(),
        Err(shared) => shared.borrow().clone(),
    }
    .finish(&shown, count);
    let error = sim.error().map(str::to_owned);
    let notes = sim.notes();
    let text = compose(
        &TableRun {
            scenario: sim.scenario_name(),
            backend: "sim",
            cpus,
            real: None,
            time_unit: super::TimeUnit::Tick,
            count,
            summary: &summary,
            error: error.as_deref(),
            notes: &notes,
        },
        &shown,
        &timeline_text(&timeline, super::TimeUnit::Tick, color),
    );
    (text, error)
}

/// The Output section: the lines of output and the errors of the `shown`
/// processes in the order they were written, each with its tick and process
/// (`  12  [Process-1] work1 step 0`), so that a parent's line written after its child's
/// reads after it. A report that does not say when its lines were written (one made before
/// procsim kept it) lists them process by process, without ticks.
fn output_section(shown: &[ProcessReport]) -> String {
    // (when, process, text, is an error)
    let mut lines: Vec<(Option<LineAt>, &str, &str, bool)> = Vec::new();
    for p in shown {
        let timed = p.output_at.len() == p.output.len() && p.errors_at.len() == p.errors.len();
        for (k, l) in p.output.iter().enumerate() {
            lines.push((timed.then(|| p.output_at[k]), &p.name, l, false));
        }
        for (k, e) in p.errors.iter().enumerate() {
            lines.push((timed.then(|| p.errors_at[k]), &p.name, e, true));
        }
    }
    if lines.is_empty() {
        return String::new();
    }
    let timed = lines.iter().all(|l| l.0.is_some());
    let mut out = String::from("\nOutput\n");
    if timed {
        lines.sort_by_key(|l| l.0);
    }
    let width = lines
        .iter()
        .filter_map(|l| l.0)
        .map(|at| at.t.to_string().len())
        .max()
        .unwrap_or(0);
    for (at, name, text, error) in lines {
        let error = if error { "error: " } else { "" };
        // Names and lines come from the scenario: clipped and escaped for the terminal.
        let (name, text) = (clip(name, NAME_COLUMN), escape(text));
        match at.filter(|_| timed) {
            Some(at) => {
                let t = pad(&at.t.to_string(), width, Align::Right);
                out.push_str(&format!("  {t}  [{name}] {error}{text}\n"));
            }
            None => out.push_str(&format!("  [{name}] {error}{text}\n")),
        }
    }
    out
}

/// The Notes section: what the run did that changed nothing (a signal to a process that was
/// not alive), each with its time, in the Output section's layout.
fn notes_section(notes: &[super::Note]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let width = notes
        .iter()
        .map(|n| n.t.to_string().len())
        .max()
        .unwrap_or(0);
    let mut out = String::from("\nNotes\n");
    for n in notes {
        let t = pad(&n.t.to_string(), width, Align::Right);
        // The text names processes, whose names come from the scenario.
        out.push_str(&format!("  {t}  {}\n", escape(&n.text)));
    }
    out
}

/// Only the summary, one figure a line: `procsim run --format summary`.
pub fn render_summary(
    scenario: &str,
    backend: &str,
    processes: usize,
    summary: &super::Summary,
    error: Option<&str>,
) -> String {
    let scenario = escape(scenario);
    let mut out = format!(
        "scenario          {scenario}\nbackend           {backend}\nprocesses         {processes}\n"
    );
    out.push_str(&summary_lines(summary));
    if let Some(e) = error {
        out.push_str(&format!("error             {}\n", escape(e)));
    }
    out
}

/// The summary's figures, one a line.
pub fn summary_lines(s: &super::Summary) -> String {
    format!(
        "makespan          {}\ncpu_busy          {}\nidle              {}\nswitch_ticks      {}\nutilization       {:.6}\nthroughput        {:.6}\ndispatches        {}\ncontext_switches  {}\navg_response      {}\navg_turnaround    {}\navg_waiting       {}\n",
        s.makespan,
        s.cpu_busy,
        s.idle,
        s.switch_ticks,
        s.utilization,
        s.throughput,
        s.dispatches,
        s.context_switches,
        s.avg_response.map_or("-".into(), |x| format!("{x:.6}")),
        s.avg_turnaround.map_or("-".into(), |x| format!("{x:.6}")),
        s.avg_waiting.map_or("-".into(), |x| format!("{x:.6}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parent writes, starts the child and joins it; the child writes twice a tick apart
    /// and ends at 2, when the parent wakes and writes again: in the order written, not
    /// parent first.
    #[test]
    fn output_is_in_the_order_written_with_ticks() {
        let plan = crate::load_str(
            r#"{"programs": {"main": {"body": [{"print": "start"}, {"fork": {"as": "c", "program": "w"}},
                                               {"join": "c"}, {"print": "joined"}]},
                             "w": {"body": [{"cpu": 1}, {"print": "step 0"}, {"cpu": 1}, {"print": "step 1"}]}},
                "processes": [{"program": "main"}]}"#,
        )
        .unwrap();
        let report = crate::Sim::new(plan, Default::default()).run();
        let text = render_table(&report, 100);
        let output = &text[text.find("\nOutput\n").unwrap()..];
        let lines: Vec<&str> = output.lines().skip(2).take(4).collect();
        assert_eq!(
            lines,
            [
                "  0  [MainProcess] start",
                "  1  [Process-1] step 0",
                "  2  [Process-1] step 1",
                "  2  [MainProcess] joined",
            ]
        );
        // A report without the times (written before procsim kept them) lists by process.
        let mut old = report.clone();
        for p in &mut old.processes {
            p.output_at.clear();
        }
        let text = render_table(&old, 100);
        assert!(
            text.contains("  [MainProcess] start\n  [MainProcess] joined\n  [Process-1] step 0\n"),
            "{text}"
        );
    }
}
