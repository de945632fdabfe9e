//! A report as a self-contained SVG Gantt chart: `procsim run FILE --format svg`.
//!
//! From top to bottom: the title and a legend; a lane per CPU (who ran, and the context
//! switches); for larger runs, how many processes were running, ready and blocked over time;
//! a row per process coloured by state; the time axis; the summary figures.
//!
//! The chart stays readable as runs grow: up to 40 processes every row is labelled and every
//! interval is drawn exactly, with a tooltip; beyond that rows get thinner and only some are
//! labelled; when the run is longer than the plot is wide, each pixel column shows the state
//! held longest in its ticks; beyond 600 processes, rows stand for groups of processes; beyond
//! 16 CPUs, one lane shows how many of them were busy. The caption says which of these apply.

mod collect;
mod columns;
mod counts;
mod lanes;
mod rows;
mod stream;

use std::borrow::Cow;
use std::ops::Range;

use super::spans::report_end;
use super::{ProcessReport, Report, Summary, TimeUnit};
use crate::report::draw::{
    self, ALERT, BLOCKED, GRID, IDLE, IDLE_EDGE, MUTED, NEW, READY, RUNNING, SWITCH, Svg, ZOMBIE,
    num,
};
use collect::{Collected, Collector};
use columns::Frame;
use counts::draw_counts;
use lanes::draw_lanes;
use rows::draw_rows;
pub use stream::stream_svg;

/// How to draw the chart.
#[derive(Debug, Clone, Copy)]
pub struct SvgOptions {
    /// The scenario's `kernel.context_switch`, to place the switches (see
    /// [`super::Spans::new`]).
    pub context_switch: u64,
    /// Width of the picture in px.
    pub width: f64,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            context_switch: 0,
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

/// Places the legend's entries from `x` on, wrapping before `right`: `(x, line)` of each, and
/// of the fork mark after them when `fork` is true.
fn legend_places(x: f64, right: f64, fork: bool) -> Vec<(f64, usize)> {
    let widths = LEGEND
        .iter()
        .map(|(_, _, label)| 16.0 + draw::text_width(label, 11.0))
        .chain(fork.then(|| draw::text_width("│ fork", 11.0)));
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
    };
    let geometry = Geometry::new(&facts, opts, |i| {
        let p = &report.processes[i];
        draw::clip(&p.name, 24).chars().count() + format!(" {}", p.pid).len()
    });
    let mut collector = geometry.collector(opts.context_switch);
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
}

/// The chart's frame, rows and layout, which follow from the run's size alone.
#[derive(Debug, Clone)]
struct Geometry {
    frame: Frame,
    layout: Layout,
    rows: Vec<Range<usize>>,
    show_counts: bool,
    captions: Vec<String>,
    width: f64,
    counts_y: f64,
    counts_h: f64,
    rows_end: f64,
    axis_y: f64,
    summary_y: f64,
    height: f64,
    top_axis: bool,
    title_y: f64,
    sub_y: f64,
    legend_y: f64,
    caption_y: f64,
    legend: Vec<(f64, usize)>,
}

impl Geometry {
    /// The geometry of a chart of `facts`; `label_len(i)` is the length of process `i`'s
    /// label (asked only when every row is labelled).
    fn new(facts: &Facts<'_>, opts: &SvgOptions, label_len: impl Fn(usize) -> usize) -> Geometry {
        let n = facts.processes;
        let end = facts.end.max(1);
        let detailed = n <= DETAILED_ROWS;
        let group = if n > MAX_ROWS {
            n.div_ceil(MAX_ROWS)
        } else {
            1
        };
        let rows: Vec<Range<usize>> = (0..n)
            .step_by(group)
            .map(|a| a..(a + group).min(n))
            .collect();
        let ncpu = facts.cpus;
        let lanes_each = ncpu <= MAX_LANES;
        let show_counts = n >= COUNTS_FROM;
        let (unit, _) = unit_names(facts.time_unit);

        // Horizontal layout.
        let width = opts.width.max(400.0);
        let margin = 16.0;
        let label_w = if detailed {
            let longest = (0..n).map(&label_len).max().unwrap_or(6).max(8);
            (longest as f64 * 7.2 + 12.0).clamp(90.0, 240.0)
        } else {
            90.0
        };
        let right_w = if detailed { 110.0 } else { 12.0 };
        let x0 = margin + label_w;
        let plot_w = (width - x0 - right_w - margin).max(100.0);
        let k = if end as f64 <= plot_w {
            1
        } else {
            end.div_ceil(plot_w as u64)
        };
        let frame = Frame {
            x0,
            w: plot_w,
            end,
            k,
            columns: end.div_ceil(k) as usize,
        };
        let exact = k == 1 && group == 1;

        // Vertical layout.
        let lane_h = if detailed { 18.0 } else { 12.0 };
        let lanes = if lanes_each { ncpu } else { 1 };
        let (row_h, bar_h) = if detailed {
            (20.0, 14.0)
        } else if rows.len() <= 120 {
            (8.0, 6.0)
        } else {
            let h = (720.0 / rows.len() as f64).floor().max(2.0);
            (h, h)
        };
        let label_every = if detailed {
            1
        } else {
            (11.0 / row_h).ceil().max(1.0) as usize
        };
        let mut captions: Vec<String> = Vec::new();
        if k > 1 {
            captions.push(format!(
                "each pixel column covers {k} {unit} and shows the state held longest in them"
            ));
        }
        if group > 1 {
            captions.push(format!(
                "each row stands for {group} processes (the state most of them were in)"
            ));
        }
        if !lanes_each {
            captions.push(format!(
                "the CPU lane shades how many of the {ncpu} CPUs were busy"
            ));
        }
        if facts.error.is_some() {
            captions.push("the run stopped early: the chart ends where it stopped".to_owned());
        }
        let title_y = 26.0;
        let sub_y = 44.0;
        let legend_y = 62.0;
        let legend = legend_places(margin, width - margin, detailed);
        let legend_lines = legend.last().map_or(1, |&(_, line)| line + 1);
        let caption_y = legend_y + 18.0 + 16.0 * (legend_lines - 1) as f64;
        // One line per note, so that none runs off the picture.
        let axis_top = caption_y + 14.0 * captions.len() as f64;
        let top_axis = !detailed;
        let lanes_y = axis_top + if top_axis { 22.0 } else { 6.0 };
        let lanes_end = lanes_y + lanes as f64 * lane_h;
        let counts_h = 80.0;
        let counts_y = lanes_end + 14.0;
        let rows_y = if show_counts {
            counts_y + counts_h + 16.0
        } else {
            lanes_end + 14.0
        };
        let rows_end = rows_y + rows.len() as f64 * row_h;
        let axis_y = rows_end + 4.0;
        let summary_y = axis_y + 44.0;
        let summary_lines = 2 + usize::from(facts.error.is_some());
        let height = summary_y + summary_lines as f64 * 16.0 + margin;
        Geometry {
            frame,
            layout: Layout {
                margin,
                x0,
                plot_w,
                detailed,
                lane_h,
                lanes_y,
                lanes_each,
                rows_y,
                row_h,
                bar_h,
                label_every,
                group,
                exact,
                unit,
                cpus: ncpu,
            },
            rows,
            show_counts,
            captions,
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
            legend,
        }
    }

    /// A collector of the intervals this chart draws.
    fn collector(&self, context_switch: u64) -> Collector {
        Collector::new(
            &self.frame,
            &self.layout,
            context_switch,
            &self.rows,
            self.show_counts,
        )
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

    let title = if facts.scenario.is_empty() {
        "(unnamed scenario)".to_owned()
    } else {
        facts.scenario.to_owned()
    };
    let mut svg = Svg::new(width, height, &format!("procsim Gantt chart: {title}"));

    // Title, subtitle, legend, captions.
    svg.text(
        margin,
        title_y,
        "font-size=\"16\" font-weight=\"bold\"",
        &draw::clip(&title, 110),
    );
    let s = facts.summary;
    svg.text(
        margin,
        sub_y,
        &format!("fill=\"{MUTED}\""),
        &format!(
            "{n} process{} · {ncpu} CPU{} · context switch {} {} · makespan {} {unit} · {} backend",
            if n == 1 { "" } else { "es" },
            if ncpu == 1 { "" } else { "s" },
            opts.context_switch,
            if opts.context_switch == 1 {
                unit_one
            } else {
                unit
            },
            s.makespan,
            facts.backend
        ),
    );
    for (&(fill, outlined, label), &(lx, line)) in LEGEND.iter().zip(legend) {
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
    if let Some(&(lx, line)) = legend.get(LEGEND.len()) {
        svg.text(
            lx,
            legend_y + 16.0 * line as f64,
            &format!("font-size=\"11\" fill=\"{MUTED}\""),
            "│ fork",
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
    draw_rows(&mut svg, process, n, collected, frame, &layout, rows);

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
