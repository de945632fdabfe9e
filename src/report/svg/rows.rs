//! The process rows: a row per process (or per group of processes in a big run) coloured by
//! state, its name, pid and how it ended, its threads' rows under it (SPEC §4a), and the fork
//! connectors from creator to child.

use std::fmt::Write;
use std::ops::Range;

use super::super::draw::{self, ALERT, MUTED, RectPath, Svg, num};
use std::borrow::Cow;

use super::super::ProcessReport;
use super::super::rows::TaskRows;
use super::super::spans::{Phase, ProcSpan};
use super::Layout;
use super::collect::{Collected, RowData};
use super::columns::{CLASSES, Class, Frame, column_runs};

fn status(p: &ProcessReport) -> (String, bool) {
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

/// What a row says: a process's (or a group's), or a thread's under its process.
struct RowWords {
    /// The row's opening `<g>` element.
    open: String,
    /// The label of a detailed chart: its indent, the name and the pid (or tid).
    label: (f64, String, u32),
    /// The label of a chart of thin rows.
    short: String,
    /// Whose intervals the tooltips tell.
    who: String,
    /// How it ended, and whether that is told in red.
    status: (String, bool),
    /// Where a signal ended it, marked ×.
    cross: Option<u64>,
}

impl RowWords {
    /// The row of `range`'s processes, `first` the first of them (one, when `group` is 1).
    fn process(first: &ProcessReport, range: &Range<usize>, group: usize) -> RowWords {
        let open = if group == 1 {
            format!(
                "<g class=\"proc\" data-index=\"{}\" data-pid=\"{}\">\n",
                range.start, first.pid
            )
        } else {
            format!(
                "<g class=\"proc-group\" data-first=\"{}\" data-count=\"{}\">\n",
                range.start,
                range.len()
            )
        };
        RowWords {
            open,
            label: (0.0, draw::clip(&first.name, 24), first.pid),
            short: if range.len() == 1 {
                draw::clip(&first.name, 12)
            } else {
                format!("#{}–{}", range.start + 1, range.end)
            },
            who: format!("{} (pid {})", first.name, first.pid),
            status: status(first),
            cross: first.signal.as_ref().and(first.ended_at),
        }
    }

    /// The row of thread `k` of process `p` (of index `index`), indented under its process's.
    fn thread(p: &ProcessReport, index: usize, k: usize) -> RowWords {
        let t = &p.threads[k];
        // A thread is no zombie: it ends, or the run stopped first.
        let status = match t.ended_at {
            Some(_) => ("ended".to_owned(), false),
            None => ("did not end".to_owned(), true),
        };
        RowWords {
            open: format!(
                "<g class=\"thread\" data-index=\"{}\" data-tid=\"{}\">\n",
                index, t.tid
            ),
            label: (12.0, draw::clip(&t.name, 22), t.tid),
            short: draw::clip(&t.name, 12),
            who: format!("{}/{} (tid {})", p.name, t.name, t.tid),
            status,
            cross: None,
        }
    }
}

/// Draws the rows from `layout.rows_y`: one per range of the run's `n` processes, or one per
/// task of `tasks` when threads have rows.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_rows<'p>(
    svg: &mut Svg,
    process: &dyn Fn(usize) -> Cow<'p, ProcessReport>,
    n: usize,
    collected: &Collected,
    frame: &Frame,
    layout: &Layout,
    rows: &[Range<usize>],
    tasks: Option<&TaskRows>,
) {
    let Layout {
        margin,
        x0,
        plot_w,
        detailed,
        rows_y,
        row_h,
        bar_h,
        label_every,
        group,
        exact,
        unit,
        ..
    } = *layout;
    // Each row's processes, and its thread when it is a thread's.
    let drawn: Vec<(Range<usize>, Option<usize>)> = match tasks {
        Some(t) => t
            .rows
            .iter()
            .map(|row| (row.proc as usize..row.proc as usize + 1, row.thread))
            .collect(),
        None => rows.iter().map(|range| (range.clone(), None)).collect(),
    };
    for (r, (range, thread)) in drawn.into_iter().enumerate() {
        let y = rows_y + r as f64 * row_h;
        let by = y + (row_h - bar_h) / 2.0;
        let first = process(range.start);
        let first = first.as_ref();
        let says = match thread {
            // A thread's row, indented under its process's.
            Some(k) => RowWords::thread(first, range.start, k),
            None => RowWords::process(first, &range, group),
        };
        svg.raw(&says.open);
        if r % label_every == 0 {
            if detailed {
                let (indent, name, id) = &says.label;
                svg.text(margin + indent, by + bar_h - 3.0, "", name);
                svg.text(
                    x0 - 6.0,
                    by + bar_h - 3.0,
                    &format!("text-anchor=\"end\" font-size=\"10\" fill=\"{MUTED}\""),
                    &id.to_string(),
                );
            } else {
                svg.text(
                    x0 - 6.0,
                    y + row_h / 2.0 + 3.5,
                    "text-anchor=\"end\" font-size=\"9\"",
                    &says.short,
                );
            }
        }
        let tip = |s: &ProcSpan| {
            format!(
                "{}: {}, {}–{} ({} {unit})",
                says.who,
                phase_words(s.phase),
                s.start,
                s.end,
                s.end - s.start
            )
        };
        draw_spans(
            svg,
            collected.rows.get(r),
            frame,
            (exact, detailed),
            (by, bar_h),
            &tip,
        );
        if detailed {
            if let Some(t) = says.cross {
                let x = frame.x(t);
                svg.text(
                    x,
                    by + bar_h - 2.0,
                    &format!("text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\" fill=\"{ALERT}\""),
                    "×",
                );
            }
            let (text, alert) = &says.status;
            let fill = if *alert { ALERT } else { MUTED };
            svg.text(
                x0 + plot_w + 8.0,
                by + bar_h - 3.0,
                &format!("font-size=\"11\" fill=\"{fill}\""),
                text,
            );
        }
        svg.raw("</g>\n");
    }

    // Fork connectors: from the creator's row down (or up) to the child's, at creation time.
    if detailed {
        let row_of = |i: usize| {
            tasks
                .and_then(|t| t.proc_row(i as u32))
                .map_or(i, |r| r as usize)
        };
        svg.raw("<g class=\"forks\">\n");
        for i in 0..n {
            let p = process(i);
            let Some(c) = p.creator.map(|c| c as usize).filter(|&c| c < n) else {
                continue;
            };
            let x = frame.x(p.created_at);
            let yc = rows_y + row_of(c) as f64 * row_h + row_h / 2.0;
            let yi = rows_y + row_of(i) as f64 * row_h + row_h / 2.0;
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
}

/// Draws a row's intervals in the bar at `by` of height `bar_h`: each exactly when the chart
/// is `exact` (with the tooltip `tip` when `detailed` and they are few), else per column.
fn draw_spans(
    svg: &mut Svg,
    data: Option<&RowData>,
    frame: &Frame,
    (exact, detailed): (bool, bool),
    (by, bar_h): (f64, f64),
    tip: &dyn Fn(&ProcSpan) -> String,
) {
    if let (true, Some(RowData::Exact(lane))) = (exact, data) {
        let tips = detailed && lane.len() <= 400;
        let mut paths: Vec<RectPath> = (0..5).map(|_| RectPath::default()).collect();
        for s in lane {
            let (xa, xb) = (frame.x(s.start), frame.x(s.end));
            let class = Class::of(s.phase);
            if tips {
                svg.rect(xa, by, xb - xa, bar_h, class.fill(), Some(&tip(s)));
            } else {
                paths[class as usize].add(xa, by, xb - xa, bar_h);
            }
        }
        for c in CLASSES {
            paths[c as usize].write(svg, c.fill());
        }
    } else if let Some(RowData::Columns(acc)) = data {
        let mut paths: Vec<RectPath> = (0..5).map(|_| RectPath::default()).collect();
        for (a, b, class) in column_runs(acc) {
            let (xa, xb) = (frame.col_x(a), frame.col_x(b));
            paths[class as usize].add(xa, by, xb - xa, bar_h);
        }
        for c in CLASSES {
            paths[c as usize].write(svg, c.fill());
        }
    }
}
