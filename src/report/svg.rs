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

use std::fmt::Write;
use std::ops::Range;

use super::spans::{CpuWork, Phase, ProcSpan, Spans};
use super::{Report, TimeUnit};
use crate::report::draw::{
    self, ALERT, BLOCKED, GRID, MUTED, NEW, READY, RUNNING, RectPath, SWITCH, Svg, ZOMBIE, num,
};

/// How to draw the chart.
#[derive(Debug, Clone, Copy)]
pub struct SvgOptions {
    /// The scenario's `kernel.context_switch`, to place the switches (see [`Spans::new`]).
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

/// The five colours of a process row, in the order that breaks ties in a compressed column
/// (running first: a process that ran at all in a column should show it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Running = 0,
    Blocked = 1,
    Ready = 2,
    New = 3,
    Zombie = 4,
}

const CLASSES: [Class; 5] = [
    Class::Running,
    Class::Blocked,
    Class::Ready,
    Class::New,
    Class::Zombie,
];

impl Class {
    fn of(phase: Phase) -> Class {
        match phase {
            Phase::Running { .. } => Class::Running,
            Phase::Blocked { .. } => Class::Blocked,
            Phase::Ready => Class::Ready,
            Phase::New => Class::New,
            Phase::Zombie => Class::Zombie,
        }
    }

    fn fill(self) -> &'static str {
        match self {
            Class::Running => RUNNING,
            Class::Blocked => BLOCKED,
            Class::Ready => READY,
            Class::New => NEW,
            Class::Zombie => ZOMBIE,
        }
    }
}

/// Adds each interval `(start, end, slot)` (non-empty) to the columns of `k` ticks it covers:
/// `acc[column][slot]` is the time spent in `slot` within that column.
fn accumulate<const N: usize>(
    acc: &mut [[u64; N]],
    k: u64,
    intervals: impl IntoIterator<Item = (u64, u64, usize)>,
) {
    for (start, end, slot) in intervals {
        if end <= start {
            continue;
        }
        for col in start / k..=(end - 1) / k {
            let (lo, hi) = (col * k, (col + 1) * k);
            if let Some(cell) = acc.get_mut(col as usize) {
                cell[slot] += end.min(hi) - start.max(lo);
            }
        }
    }
}

/// [`accumulate`] for a process's spans, by [`Class`].
fn add_overlaps(acc: &mut [[u64; 5]], k: u64, spans: &[ProcSpan]) {
    accumulate(
        acc,
        k,
        spans
            .iter()
            .map(|s| (s.start, s.end, Class::of(s.phase) as usize)),
    );
}

/// The class that filled most of each column (`None` where the row had nothing), as runs of
/// equal columns: `(first column, past the last, class)`.
fn column_runs(acc: &[[u64; 5]]) -> Vec<(usize, usize, Class)> {
    let mut runs: Vec<(usize, usize, Class)> = Vec::new();
    for (col, cell) in acc.iter().enumerate() {
        if cell.iter().all(|&t| t == 0) {
            continue;
        }
        // max_by_key keeps the last maximum; scanning in reverse makes ties go to the first.
        let best = CLASSES
            .iter()
            .rev()
            .max_by_key(|c| cell[**c as usize])
            .copied()
            .unwrap_or(Class::New);
        match runs.last_mut() {
            Some(r) if r.1 == col && r.2 == best => r.1 = col + 1,
            _ => runs.push((col, col + 1, best)),
        }
    }
    runs
}

/// Geometry shared by every part of the chart.
struct Frame {
    x0: f64,
    w: f64,
    end: u64,
    /// Ticks per column (1: exact).
    k: u64,
    columns: usize,
}

impl Frame {
    fn x(&self, t: u64) -> f64 {
        self.x0 + t as f64 * self.w / self.end as f64
    }
    fn col_x(&self, col: usize) -> f64 {
        self.x((col as u64 * self.k).min(self.end))
    }
}

fn unit_name(report: &Report) -> &'static str {
    match report.time_unit {
        TimeUnit::Tick => "ticks",
        TimeUnit::Us => "µs",
    }
}

fn status(p: &super::ProcessReport) -> (String, bool) {
    match (&p.signal, p.exitcode) {
        (Some(sig), Some(code)) => (format!("{sig} ({code})"), true),
        (Some(sig), None) => (sig.clone(), true),
        (None, Some(0)) => ("exit 0".to_owned(), false),
        (None, Some(code)) => (format!("exit {code}"), true),
        (None, None) => ("did not end".to_owned(), true),
    }
}

fn phase_words(phase: Phase) -> String {
    match phase {
        Phase::New => "new (not admitted)".to_owned(),
        Phase::Ready => "ready".to_owned(),
        Phase::Running { cpu } => format!("running on CPU {cpu}"),
        Phase::Blocked { cause } => format!("blocked ({cause})"),
        Phase::Zombie => "zombie (ended, not reaped)".to_owned(),
    }
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
    let spans = Spans::new(report, opts.context_switch);
    let n = report.processes.len();
    let end = spans.end.max(1);
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
    let ncpu = spans.cpus.len();
    let lanes_each = ncpu <= MAX_LANES;
    let show_counts = n >= COUNTS_FROM;
    let unit = unit_name(report);

    // Horizontal layout.
    let width = opts.width.max(400.0);
    let margin = 16.0;
    let label_w = if detailed {
        let longest = report
            .processes
            .iter()
            .map(|p| draw::clip(&p.name, 24).chars().count() + format!(" {}", p.pid).len())
            .max()
            .unwrap_or(6)
            .max(8);
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
    if report.error.is_some() {
        captions.push("the run stopped early: the chart ends where it stopped".to_owned());
    }
    let title_y = 26.0;
    let sub_y = 44.0;
    let legend_y = 62.0;
    let caption_y = legend_y + 18.0;
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
    let summary_lines = 2 + usize::from(report.error.is_some());
    let height = summary_y + summary_lines as f64 * 16.0 + margin;

    let title = if report.scenario.is_empty() {
        "(unnamed scenario)".to_owned()
    } else {
        report.scenario.clone()
    };
    let mut svg = Svg::new(width, height, &format!("procsim Gantt chart: {title}"));

    // Title, subtitle, legend, captions.
    svg.text(
        margin,
        title_y,
        "font-size=\"16\" font-weight=\"bold\"",
        &draw::clip(&title, 110),
    );
    let s = &report.summary;
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
                unit.trim_end_matches('s')
            } else {
                unit
            },
            s.makespan,
            report.backend
        ),
    );
    let mut lx = margin;
    let legend: [(&str, &str); 6] = [
        (RUNNING, "running"),
        (READY, "ready (waiting for a CPU)"),
        (BLOCKED, "blocked (I/O, sleep, join, wait)"),
        (NEW, "new (not admitted)"),
        (ZOMBIE, "zombie (ended, not reaped)"),
        (SWITCH, "context switch"),
    ];
    for (fill, label) in legend {
        svg.rect(lx, legend_y - 9.0, 12.0, 10.0, fill, None);
        svg.text(lx + 16.0, legend_y, "font-size=\"11\"", label);
        lx += 16.0 + draw::text_width(label, 11.0) + 14.0;
    }
    if detailed {
        svg.text(
            lx,
            legend_y,
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

    // CPU lanes.
    svg.raw("<g class=\"cpus\">\n");
    if lanes_each {
        for (c, lane) in spans.cpus.iter().enumerate() {
            let y = lanes_y + c as f64 * lane_h;
            let bh = lane_h - 4.0;
            svg.text(
                margin,
                y + bh - 2.0,
                "font-size=\"11\"",
                &format!("CPU {c}"),
            );
            svg.rect(x0, y, plot_w, bh, "#F4F4F4", None);
            if k == 1 {
                for s in lane {
                    let p = &report.processes[s.proc as usize];
                    let (xa, xb) = (frame.x(s.start), frame.x(s.end));
                    let (fill, tip) = match s.work {
                        CpuWork::Run => (
                            RUNNING,
                            format!("CPU {c}: {} (pid {}) {}–{}", p.name, p.pid, s.start, s.end),
                        ),
                        CpuWork::Switch => (
                            SWITCH,
                            format!("CPU {c}: switch to {} {}–{}", p.name, s.start, s.end),
                        ),
                    };
                    let tip = detailed.then_some(tip.as_str());
                    svg.rect(xa, y, xb - xa, bh, fill, tip);
                    // A white hairline between back-to-back runs of different processes.
                    if s.work == CpuWork::Run {
                        svg.line(xa, y, xa, y + bh, "#ffffff", 1.0);
                        let label = draw::clip(&p.name, 20);
                        if xb - xa >= draw::text_width(&label, 10.0) + 4.0 {
                            svg.text(
                                (xa + xb) / 2.0,
                                y + bh - 3.5,
                                "text-anchor=\"middle\" font-size=\"10\" fill=\"#ffffff\"",
                                &label,
                            );
                        }
                    }
                }
            } else {
                // Per column: running, switching or idle, whichever took longest.
                let mut acc = vec![[0u64; 2]; frame.columns];
                let slot = |w: CpuWork| match w {
                    CpuWork::Run => 0,
                    CpuWork::Switch => 1,
                };
                accumulate(
                    &mut acc,
                    k,
                    lane.iter().map(|s| (s.start, s.end, slot(s.work))),
                );
                let (mut run, mut sw) = (RectPath::default(), RectPath::default());
                for (col, cell) in acc.iter().enumerate() {
                    let lo = col as u64 * k;
                    let len = ((col as u64 + 1) * k).min(end) - lo;
                    let (r, w) = (cell[0], cell[1]);
                    let idle = len.saturating_sub(r + w);
                    let (xa, xb) = (frame.col_x(col), frame.col_x(col + 1));
                    if r >= w && r >= idle && r > 0 {
                        run.add(xa, y, xb - xa, bh);
                    } else if w > r && w >= idle {
                        sw.add(xa, y, xb - xa, bh);
                    }
                }
                run.write(&mut svg, RUNNING);
                sw.write(&mut svg, SWITCH);
            }
        }
    } else {
        // One lane: the share of CPUs busy per column, as the opacity of the running colour.
        let y = lanes_y;
        let bh = lane_h - 4.0;
        svg.text(
            margin,
            y + bh - 2.0,
            "font-size=\"11\"",
            &format!("{ncpu} CPUs"),
        );
        svg.rect(x0, y, plot_w, bh, "#F4F4F4", None);
        let mut busy = vec![[0u64; 1]; frame.columns];
        for lane in &spans.cpus {
            let runs = lane.iter().filter(|s| s.work == CpuWork::Run);
            accumulate(&mut busy, k, runs.map(|s| (s.start, s.end, 0)));
        }
        let mut levels: Vec<RectPath> = (0..10).map(|_| RectPath::default()).collect();
        for (col, [b]) in busy.iter().enumerate() {
            let lo = col as u64 * k;
            let len = ((col as u64 + 1) * k).min(end) - lo;
            let share = *b as f64 / (len * ncpu as u64).max(1) as f64;
            let level = (share * 10.0).round() as usize;
            if level > 0 {
                let (xa, xb) = (frame.col_x(col), frame.col_x(col + 1));
                levels[level.min(10) - 1].add(xa, y, xb - xa, bh);
            }
        }
        for (i, path) in levels.iter().enumerate() {
            let mut g = Svg::default();
            path.write(&mut g, RUNNING);
            svg.raw(&g.out.replacen(
                "<path ",
                &format!("<path fill-opacity=\"{}\" ", num((i + 1) as f64 / 10.0)),
                1,
            ));
        }
    }
    svg.raw("</g>\n");

    // How many processes were running, ready and blocked: a stacked step chart.
    if show_counts {
        draw_counts(&mut svg, &frame, &spans, counts_y, counts_h, margin);
    }

    // Process rows.
    for (r, range) in rows.iter().enumerate() {
        let y = rows_y + r as f64 * row_h;
        let by = y + (row_h - bar_h) / 2.0;
        let first = &report.processes[range.start];
        if group == 1 {
            let _ = writeln!(
                svg.out,
                "<g class=\"proc\" data-index=\"{}\" data-pid=\"{}\">",
                range.start, first.pid
            );
        } else {
            let _ = writeln!(
                svg.out,
                "<g class=\"proc-group\" data-first=\"{}\" data-count=\"{}\">",
                range.start,
                range.len()
            );
        }
        if r % label_every == 0 {
            if detailed {
                svg.text(margin, by + bar_h - 3.0, "", &draw::clip(&first.name, 24));
                svg.text(
                    x0 - 6.0,
                    by + bar_h - 3.0,
                    &format!("text-anchor=\"end\" font-size=\"10\" fill=\"{MUTED}\""),
                    &first.pid.to_string(),
                );
            } else {
                let label = if range.len() == 1 {
                    draw::clip(&first.name, 12)
                } else {
                    format!("#{}–{}", range.start + 1, range.end)
                };
                svg.text(
                    x0 - 6.0,
                    y + row_h / 2.0 + 3.5,
                    "text-anchor=\"end\" font-size=\"9\"",
                    &label,
                );
            }
        }
        if exact {
            let p = first;
            let lane = &spans.processes[range.start];
            let tips = detailed && lane.len() <= 400;
            let mut paths: Vec<RectPath> = (0..5).map(|_| RectPath::default()).collect();
            for s in lane {
                let (xa, xb) = (frame.x(s.start), frame.x(s.end));
                let class = Class::of(s.phase);
                if tips {
                    let tip = format!(
                        "{} (pid {}): {}, {}–{} ({} {unit})",
                        p.name,
                        p.pid,
                        phase_words(s.phase),
                        s.start,
                        s.end,
                        s.end - s.start
                    );
                    svg.rect(xa, by, xb - xa, bar_h, class.fill(), Some(&tip));
                } else {
                    paths[class as usize].add(xa, by, xb - xa, bar_h);
                }
            }
            for c in CLASSES {
                paths[c as usize].write(&mut svg, c.fill());
            }
        } else {
            let mut acc = vec![[0u64; 5]; frame.columns];
            for i in range.clone() {
                add_overlaps(&mut acc, k, &spans.processes[i]);
            }
            let mut paths: Vec<RectPath> = (0..5).map(|_| RectPath::default()).collect();
            for (a, b, class) in column_runs(&acc) {
                let (xa, xb) = (frame.col_x(a), frame.col_x(b));
                paths[class as usize].add(xa, by, xb - xa, bar_h);
            }
            for c in CLASSES {
                paths[c as usize].write(&mut svg, c.fill());
            }
        }
        if detailed {
            let (text, alert) = status(first);
            if first.signal.is_some()
                && let Some(t) = first.ended_at
            {
                let x = frame.x(t);
                svg.text(
                    x,
                    by + bar_h - 2.0,
                    &format!("text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\" fill=\"{ALERT}\""),
                    "×",
                );
            }
            let fill = if alert { ALERT } else { MUTED };
            svg.text(
                x0 + plot_w + 8.0,
                by + bar_h - 3.0,
                &format!("font-size=\"11\" fill=\"{fill}\""),
                &text,
            );
        }
        svg.raw("</g>\n");
    }

    // Fork connectors: from the creator's row down (or up) to the child's, at creation time.
    if detailed {
        svg.raw("<g class=\"forks\">\n");
        for (i, p) in report.processes.iter().enumerate() {
            let Some(c) = p.creator.map(|c| c as usize).filter(|&c| c < n) else {
                continue;
            };
            let x = frame.x(p.created_at);
            let yc = rows_y + c as f64 * row_h + row_h / 2.0;
            let yi = rows_y + i as f64 * row_h + row_h / 2.0;
            svg.line(x, yc, x, yi, "#333333", 1.0);
            let _ = writeln!(
                svg.out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#333333\"/>",
                num(x),
                num(yc)
            );
        }
        svg.raw("</g>\n");
    }

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
            unit.trim_end_matches('s')
        ),
    );
    if let Some(e) = &report.error {
        svg.text(
            margin,
            summary_y + 32.0,
            &format!("fill=\"{ALERT}\""),
            &format!("The run stopped early: {e}"),
        );
    }
    svg.finish()
}

/// The stacked step chart of how many processes were running, ready and blocked (averaged over
/// each column when columns are compressed).
fn draw_counts(svg: &mut Svg, frame: &Frame, spans: &Spans, y: f64, h: f64, margin: f64) {
    let mut acc = vec![[0u64; 5]; frame.columns];
    for lane in &spans.processes {
        add_overlaps(&mut acc, frame.k, lane);
    }
    let len = |col: usize| ((col as u64 + 1) * frame.k).min(frame.end) - col as u64 * frame.k;
    // Average count per column, per series: running, ready, blocked (bottom to top).
    let series = [Class::Running, Class::Ready, Class::Blocked];
    let avg: Vec<[f64; 3]> = acc
        .iter()
        .enumerate()
        .map(|(col, cell)| {
            let l = len(col).max(1) as f64;
            [
                cell[series[0] as usize] as f64 / l,
                cell[series[1] as usize] as f64 / l,
                cell[series[2] as usize] as f64 / l,
            ]
        })
        .collect();
    let top = avg
        .iter()
        .map(|a| a[0] + a[1] + a[2])
        .fold(0.0f64, f64::max)
        .max(1.0);
    let step = draw::nice_step(top, 4);
    let ymax = (top / step).ceil() * step;
    let yv = |v: f64| y + h - v / ymax * h;
    svg.raw("<g class=\"counts\">\n");
    svg.text(margin, y + 10.0, "font-size=\"11\"", "processes");
    svg.text(
        margin,
        y + 24.0,
        &format!("font-size=\"10\" fill=\"{MUTED}\""),
        "by state",
    );
    let mut v = 0.0;
    while v <= ymax + 1e-9 {
        let yy = yv(v);
        svg.line(frame.x0, yy, frame.x0 + frame.w, yy, GRID, 1.0);
        svg.text(
            frame.x0 - 4.0,
            yy + 3.5,
            &format!("text-anchor=\"end\" font-size=\"10\" fill=\"{MUTED}\""),
            &draw::figure(v, 1),
        );
        v += step;
    }
    for (si, class) in series.iter().enumerate() {
        // The band between the sum of the series below and that sum plus this one.
        let lower = |a: &[f64; 3]| a[..si].iter().sum::<f64>();
        let upper = |a: &[f64; 3]| a[..=si].iter().sum::<f64>();
        let mut d = String::new();
        let _ = write!(d, "M{} {}", num(frame.col_x(0)), num(yv(lower(&avg[0]))));
        // Exact columns are steps; compressed columns (about a pixel each) are joined at their
        // middles, which looks the same and halves the path.
        let edge = |d: &mut String, col: usize, y: f64, forward: bool| {
            let (a, b) = (frame.col_x(col), frame.col_x(col + 1));
            if frame.k > 1 {
                let _ = write!(d, "L{} {}", num((a + b) / 2.0), num(y));
            } else if forward {
                let _ = write!(d, "L{} {}L{} {}", num(a), num(y), num(b), num(y));
            } else {
                let _ = write!(d, "L{} {}L{} {}", num(b), num(y), num(a), num(y));
            }
        };
        for (col, a) in avg.iter().enumerate() {
            edge(&mut d, col, yv(upper(a)), true);
        }
        let last = avg.len();
        let _ = write!(
            d,
            "L{} {}",
            num(frame.col_x(last)),
            num(yv(upper(&avg[last - 1])))
        );
        let _ = write!(
            d,
            "L{} {}",
            num(frame.col_x(last)),
            num(yv(lower(&avg[last - 1])))
        );
        for (col, a) in avg.iter().enumerate().rev() {
            edge(&mut d, col, yv(lower(a)), false);
        }
        d.push('Z');
        let _ = writeln!(
            svg.out,
            "<path fill=\"{}\" stroke=\"none\" d=\"{d}\"/>",
            class.fill()
        );
    }
    svg.raw("</g>\n");
}
