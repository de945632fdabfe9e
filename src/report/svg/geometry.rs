//! Where the chart's parts go: its frame, its rows (a process's, a group's, or a thread's
//! under its process, SPEC §4a), the captions and the legend's places, from the run's size
//! alone, before any interval is drawn.

use std::ops::Range;

use super::super::rows::{MAX_THREAD_ROWS, TaskRows};
use super::collect::Collector;
use super::columns::Frame;
use super::{
    COUNTS_FROM, DETAILED_ROWS, Facts, Layout, MAX_LANES, MAX_ROWS, SvgOptions, legend_places,
    unit_names,
};

/// The chart's frame, rows and layout, which follow from the run's size alone.
#[derive(Debug, Clone)]
pub(super) struct Geometry {
    pub(super) frame: Frame,
    pub(super) layout: Layout,
    pub(super) rows: Vec<Range<usize>>,
    pub(super) show_counts: bool,
    pub(super) captions: Vec<String>,
    pub(super) width: f64,
    pub(super) counts_y: f64,
    pub(super) counts_h: f64,
    pub(super) rows_end: f64,
    pub(super) axis_y: f64,
    pub(super) summary_y: f64,
    pub(super) height: f64,
    pub(super) top_axis: bool,
    pub(super) title_y: f64,
    pub(super) sub_y: f64,
    pub(super) legend_y: f64,
    pub(super) caption_y: f64,
    pub(super) legend: Vec<(f64, usize)>,
    /// A row per task, when some processes' threads have rows (SPEC §4a): only when a row is
    /// one process.
    pub(super) tasks: Option<TaskRows>,
}

impl Geometry {
    /// The geometry of a chart of `facts`, with the rows of `tasks` when threads have rows
    /// (see [`thread_rows`]); `label_len(r)` is the length of row `r`'s label (asked only when
    /// every row is labelled).
    pub(super) fn new(
        facts: &Facts<'_>,
        opts: &SvgOptions,
        tasks: Option<TaskRows>,
        label_len: impl Fn(usize) -> usize,
    ) -> Geometry {
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
        // The rows drawn: a process's (or a group's), or a task's when threads have rows.
        let drawn = tasks.as_ref().map_or(rows.len(), |t| t.rows.len());
        let ncpu = facts.cpus;
        let lanes_each = ncpu <= MAX_LANES;
        let show_counts = n >= COUNTS_FROM;
        let (unit, _) = unit_names(facts.time_unit);

        // Horizontal layout.
        let width = opts.width.max(400.0);
        let margin = 16.0;
        let label_w = if detailed {
            let longest = (0..drawn).map(&label_len).max().unwrap_or(6).max(8);
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
        } else if drawn <= 120 {
            (8.0, 6.0)
        } else {
            let h = (720.0 / drawn as f64).floor().max(2.0);
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
        match &tasks {
            Some(t) if t.hidden_threads > 0 => captions.push(format!(
                "{} more threads have no row of their own (at most {MAX_THREAD_ROWS} thread rows are drawn)",
                t.hidden_threads
            )),
            None if facts.threads > 0 => captions.push(format!(
                "the {} threads besides main threads have no rows of their own here",
                facts.threads
            )),
            _ => {}
        }
        if facts.error.is_some() {
            captions.push("the run stopped early: the chart ends where it stopped".to_owned());
        }
        let title_y = 26.0;
        let sub_y = 44.0;
        let legend_y = 62.0;
        let legend = legend_places(margin, width - margin, detailed, tasks.is_some());
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
        let rows_end = rows_y + drawn as f64 * row_h;
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
            tasks,
        }
    }

    /// A collector of the intervals this chart draws; `switches` are `kernel.context_switch`
    /// and `kernel.thread_switch`.
    pub(super) fn collector(&self, switches: (u64, u64)) -> Collector {
        Collector::new(
            &self.frame,
            &self.layout,
            switches,
            &self.rows,
            self.tasks.clone(),
            self.show_counts,
        )
    }
}

/// The rows of `processes` (all of the run's) when some have threads and a row is one process
/// (at most [`MAX_ROWS`] processes): their threads under them, at most [`MAX_THREAD_ROWS`].
pub(super) fn thread_rows(processes: &[super::super::ProcessReport]) -> Option<TaskRows> {
    if processes.len() > MAX_ROWS {
        return None;
    }
    let rows = TaskRows::new(processes, MAX_THREAD_ROWS);
    rows.has_threads().then_some(rows)
}
