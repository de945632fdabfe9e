//! A report as a self-contained SVG Gantt chart: `procsim run FILE --format svg`.
//!
//! From top to bottom: the title and a legend; a lane per CPU (who ran, and the context
//! switches); for larger runs, how many processes were running, ready and blocked over time;
//! a row per process coloured by state, each followed by its threads' rows (SPEC §4a); the
//! time axis; the summary figures.
//!
//! The chart stays readable as runs grow: up to 40 processes every row is labelled and every
//! interval is drawn exactly, with a tooltip; beyond that rows get thinner and only some are
//! labelled; when the run is longer than the plot is wide, each pixel column shows the state
//! held longest in its ticks; beyond 600 processes, rows stand for groups of processes; beyond
//! 16 CPUs, one lane shows how many of them were busy. The caption says which of these apply.

mod collect;
mod columns;
mod counts;
mod geometry;
mod lanes;
mod rows;
mod stream;

use std::borrow::Cow;

use super::rows::TaskRows;
use super::spans::report_end;
use super::{ProcessReport, Report, Summary, TimeUnit};
use crate::report::draw::{
    self, ALERT, BLOCKED, GRID, IDLE, IDLE_EDGE, MUTED, NEW, READY, RUNNING, SWITCH, Svg, ZOMBIE,
    num,
};
use collect::Collected;
use counts::draw_counts;
use geometry::{Geometry, thread_rows};
use lanes::draw_lanes;
use rows::draw_rows;
pub use stream::stream_svg;

/// How to draw the chart.
#[derive(Debug, Clone, Copy)]
pub struct SvgOptions {
    /// The scenario's `kernel.context_switch`, to place the switches (see
    /// [`super::Spans::new`]).
    pub context_switch: u64,
    /// The scenario's `kernel.thread_switch`: a switch between two threads of one process
    /// (SPEC §4a), drawn apart from context switches.
    pub thread_switch: u64,
    /// Width of the picture in px.
    pub width: f64,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            context_switch: 0,
            thread_switch: 0,
            width: 1000.0,
        }
    }
}

/// Up to this many processes, every row is labelled and drawn exactly.
const DETAILED_ROWS: usize = 40;
/// Beyond this many processes, a row stands for several.
const MAX_ROWS: usize = 600;
/// Beyond this many CPUs, one lane shows how many were busy.
const MAX_LANES: usize = 16;
/// From this many processes on, the chart of state counts is drawn.
const COUNTS_FROM: usize = 11;

/// Where the parts of the chart go and how detailed they are; the stages draw from it.
#[derive(Debug, Clone, Copy)]
struct Layout {
    margin: f64,
    /// Left edge of the plot.
    x0: f64,
    plot_w: f64,
    /// Every row labelled and drawn exactly, with tooltips.
    detailed: bool,
    lane_h: f64,
    lanes_y: f64,
    /// A lane per CPU (else one shaded lane).
    lanes_each: bool,
    rows_y: f64,
    row_h: f64,
    bar_h: f64,
    /// A label every this many rows.
    label_every: usize,
    /// Processes a row stands for.
    group: usize,
    /// One tick a column and one process a row.
    exact: bool,
    /// The unit, plural.
    unit: &'static str,
    /// CPUs of the run.
    cpus: usize,
}

/// The unit of a report's times: plural, and singular ("per tick", "1 tick").
fn unit_names(unit: TimeUnit) -> (&'static str, &'static str) {
    match unit {
        TimeUnit::Tick => ("ticks", "tick"),
        TimeUnit::Us => ("µs", "µs"),
    }
}

/// The legend's entries: a swatch (fill, and whether it is outlined) and its words.
const LEGEND: [(&str, bool, &str); 7] = [
    (RUNNING, false, "running"),
    (READY, false, "ready (waiting for a CPU)"),
    (BLOCKED, false, "blocked (I/O, sleep, join, wait)"),
    (NEW, false, "new (not admitted)"),
    (ZOMBIE, false, "zombie (ended, not reaped)"),
    (SWITCH, false, "context switch"),
    (IDLE, true, "idle CPU"),
];

/// The colour of a thread switch (SPEC §4a), apart from a context switch's.
const THREAD_SWITCH: &str = "#009E73";

/// The legend's entries when threads have rows: the thread switch's swatch, and what an
/// indented row is.
const LEGEND_THREADS: (&str, bool, &str) = (
    THREAD_SWITCH,
    false,
    "thread switch (between threads of one process)",
);
const THREAD_ROWS_NOTES: [&str; 2] = [
    "indented rows: threads",
    "(a process's row is its main thread's)",
];

/// The legend's swatches: [`LEGEND`], and the thread switch's when `threads` have rows.
fn legend_entries(
    threads: bool,
) -> impl Iterator<Item = &'static (&'static str, bool, &'static str)> {
    LEGEND.iter().chain(threads.then_some(&LEGEND_THREADS))
}

/// Places the legend's entries from `x` on, wrapping before `right`: `(x, line)` of each
/// swatch of [`legend_entries`], of the fork mark after them when `fork` is true, then of
/// [`THREAD_ROWS_NOTES`] when `threads` have rows.
fn legend_places(x: f64, right: f64, fork: bool, threads: bool) -> Vec<(f64, usize)> {
    let widths = legend_entries(threads)
        .map(|(_, _, label)| 16.0 + draw::text_width(label, 11.0))
        .chain(fork.then(|| draw::text_width("│ fork", 11.0)))
        .chain(
            THREAD_ROWS_NOTES
                .iter()
                .filter(|_| threads)
                .map(|note| draw::text_width(note, 11.0)),
        );
    let (mut lx, mut line) = (x, 0);
    let mut out = Vec::new();
    for w in widths {
        if lx > x && lx + w > right {
            lx = x;
            line += 1;
        }
        out.push((lx, line));
        lx += w + 14.0;
    }
    out
}

/// Renders `report` as an SVG Gantt chart. The same report and options give the same bytes.
///
/// ```
/// let plan = procsim::load_str(r#"{"programs": {"m": {"body": [{"cpu": 3}, {"io": 2}, {"cpu": 1}]}},
///     "processes": [{"program": "m", "name": "A"}, {"program": "m", "name": "B"}]}"#).unwrap();
/// let report = procsim::Sim::new(plan, Default::default()).run();
/// let svg = procsim::report::render_svg(&report, &Default::default());
/// assert!(svg.starts_with("<svg"));
/// assert_eq!(svg.matches("<g class=\"proc\"").count(), 2);
/// ```
pub fn render_svg(report: &Report, opts: &SvgOptions) -> String {
    let n = report.processes.len();
    let facts = Facts {
        processes: n,
        cpus: report.cpus as usize,
        end: report_end(report),
        scenario: &report.scenario,
        backend: &report.backend,
        time_unit: report.time_unit,
        summary: &report.summary,
        error: report.error.as_deref(),
        threads: report.processes.iter().map(other_threads).sum(),
    };
    let tasks = thread_rows(&report.processes);
    let geometry = Geometry::new(&facts, opts, tasks.clone(), |r| {
        row_label_len(tasks.as_ref(), r, &report.processes)
    });
    let mut collector = geometry.collector((opts.context_switch, opts.thread_switch));
    // A transition of a process the report does not list (a damaged report) is left out.
    for e in report.trace.iter().filter(|e| (e.proc as usize) < n) {
        collector.event(e);
    }
    let collected = collector.finish(facts.end, report.processes.iter());
    draw_chart(&facts, opts, &geometry, &collected, &|i| {
        Cow::Borrowed(&report.processes[i])
    })
}

/// What the chart says of a run besides its intervals.
#[derive(Debug, Clone, Copy)]
struct Facts<'a> {
    /// How many processes it made.
    processes: usize,
    cpus: usize,
    /// Where the picture ends ([`report_end`]).
    end: u64,
    scenario: &'a str,
    backend: &'a str,
    time_unit: TimeUnit,
    summary: &'a Summary,
    error: Option<&'a str>,
    /// How many threads its processes made besides their main threads (SPEC §4a).
    threads: usize,
}

/// How many threads `p` made besides its main thread.
fn other_threads(p: &ProcessReport) -> usize {
    p.threads.len().saturating_sub(1)
}

/// The length of a label: a process's name and pid, or a thread's indented name and tid.
fn label_len(label: &str, id: u32) -> usize {
    draw::clip(label, 24).chars().count() + format!(" {id}").len()
}

/// The length of row `row`'s label, of a task of `tasks` or else of a process.
fn row_label_len(tasks: Option<&TaskRows>, row: usize, processes: &[ProcessReport]) -> usize {
    match tasks {
        Some(t) => {
            let r = &t.rows[row];
            let p = &processes[r.proc as usize];
            let id = r.thread.map_or(p.pid, |k| p.threads[k].tid);
            label_len(&t.label(row, processes), id)
        }
        None => label_len(&processes[row].name, processes[row].pid),
    }
}

/// Draws the chart of `facts` from its intervals (`collected`); `process(i)` is the report of
/// process `i` (asked for the rows' first processes, the lanes' processes when a column is a
/// tick, and every process when every row is labelled).
fn draw_chart<'p>(
    facts: &Facts<'_>,
    opts: &SvgOptions,
    geometry: &Geometry,
    collected: &Collected,
    process: &dyn Fn(usize) -> Cow<'p, ProcessReport>,
) -> String {
    let Geometry {
        ref frame,
        layout,
        ref rows,
        show_counts,
        ref captions,
        width,
        counts_y,
        counts_h,
        rows_end,
        axis_y,
        summary_y,
        height,
        top_axis,
        title_y,
        sub_y,
        legend_y,
        caption_y,
        ref legend,
        ..
    } = *geometry;
    let Layout {
        margin,
        x0,
        plot_w,
        lanes_y,
        ..
    } = layout;
    let n = facts.processes;
    let ncpu = facts.cpus;
    let end = frame.end;
    let (unit, unit_one) = unit_names(facts.time_unit);

    let title = crate::report::text::title(facts.scenario).to_owned();
    let mut svg = Svg::new(width, height, &format!("procsim Gantt chart: {title}"));

    // Title, subtitle, legend, captions.
    svg.text(
        margin,
        title_y,
        "font-size=\"16\" font-weight=\"bold\"",
        &draw::clip(&title, 110),
    );
    let s = facts.summary;
    let ticks_of = |k: u64| format!("{k} {}", if k == 1 { unit_one } else { unit });
    // A run with threads says what a switch between two of them costs (SPEC §4a).
    let threads = match facts.threads {
        0 => String::new(),
        t => format!(
            " · {t} thread{} besides main threads · thread switch {}",
            if t == 1 { "" } else { "s" },
            ticks_of(opts.thread_switch)
        ),
    };
    svg.text(
        margin,
        sub_y,
        &format!("fill=\"{MUTED}\""),
        &format!(
            "{n} process{} · {ncpu} CPU{} · context switch {}{threads} · makespan {} {unit} · {} backend",
            if n == 1 { "" } else { "es" },
            if ncpu == 1 { "" } else { "s" },
            ticks_of(opts.context_switch),
            s.makespan,
            facts.backend
        ),
    );
    let thread_rows = geometry.tasks.is_some();
    let swatches = legend_entries(thread_rows).count();
    for (&(fill, outlined, label), &(lx, line)) in legend_entries(thread_rows).zip(legend) {
        let ly = legend_y + 16.0 * line as f64;
        if outlined {
            svg.raw(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"11\" height=\"9\" fill=\"{fill}\" stroke=\"{IDLE_EDGE}\"/>\n",
                num(lx + 0.5),
                num(ly - 8.5)
            ));
        } else {
            svg.rect(lx, ly - 9.0, 12.0, 10.0, fill, None);
        }
        svg.text(lx + 16.0, ly, "font-size=\"11\"", label);
    }
    let notes = layout
        .detailed
        .then_some("│ fork")
        .into_iter()
        .chain(THREAD_ROWS_NOTES.into_iter().filter(|_| thread_rows));
    for (note, &(lx, line)) in notes.zip(legend.iter().skip(swatches)) {
        svg.text(
            lx,
            legend_y + 16.0 * line as f64,
            &format!("font-size=\"11\" fill=\"{MUTED}\""),
            note,
        );
    }
    for (i, caption) in captions.iter().enumerate() {
        svg.text(
            margin,
            caption_y + 14.0 * i as f64,
            &format!("font-size=\"11\" fill=\"{MUTED}\" font-style=\"italic\""),
            &format!("Note: {caption}."),
        );
    }

    // Grid lines and the time axis (below the rows, and above the lanes when rows are many).
    let ticks = draw::int_ticks(end, ((plot_w / 70.0) as usize).max(2));
    let grid_top = if top_axis { lanes_y - 4.0 } else { lanes_y };
    for &t in &ticks {
        let x = frame.x(t);
        svg.line(x, grid_top, x, rows_end, GRID, 1.0);
        svg.line(x, axis_y, x, axis_y + 4.0, MUTED, 1.0);
        svg.text(
            x,
            axis_y + 16.0,
            "text-anchor=\"middle\" font-size=\"11\"",
            &t.to_string(),
        );
        if top_axis {
            svg.text(
                x,
                lanes_y - 8.0,
                &format!("text-anchor=\"middle\" font-size=\"11\" fill=\"{MUTED}\""),
                &t.to_string(),
            );
        }
    }
    svg.line(x0, axis_y, x0 + plot_w, axis_y, MUTED, 1.0);
    svg.text(
        x0 + plot_w / 2.0,
        axis_y + 32.0,
        "text-anchor=\"middle\" font-size=\"11\"",
        &format!("time ({unit})"),
    );

    draw_lanes(&mut svg, process, collected, frame, &layout);

    // How many processes were running, ready and blocked: a stacked step chart.
    if show_counts {
        draw_counts(
            &mut svg,
            frame,
            &collected.counts,
            counts_y,
            counts_h,
            margin,
        );
    }
    draw_rows(
        &mut svg,
        process,
        n,
        collected,
        frame,
        &layout,
        rows,
        geometry.tasks.as_ref(),
    );

    // Summary figures.
    let avg = |v: Option<f64>| v.map_or("–".to_owned(), |x| draw::figure(x, 2));
    svg.text(
        margin,
        summary_y,
        "",
        &format!(
            "makespan {} · CPU busy {} ({}%) · idle {} · switching {} · dispatches {} · context switches {}",
            s.makespan,
            s.cpu_busy,
            draw::figure(s.utilization * 100.0, 1),
            s.idle,
            s.switch_ticks,
            s.dispatches,
            s.context_switches
        ),
    );
    svg.text(
        margin,
        summary_y + 16.0,
        "",
        &format!(
            "average response {} · turnaround {} · waiting {} · throughput {} per {}",
            avg(s.avg_response),
            avg(s.avg_turnaround),
            avg(s.avg_waiting),
            draw::figure(s.throughput, 4),
            unit_one
        ),
    );
    if let Some(e) = facts.error {
        svg.text(
            margin,
            summary_y + 32.0,
            &format!("fill=\"{ALERT}\""),
            &format!("The run stopped early: {e}"),
        );
    }
    svg.finish()
}
