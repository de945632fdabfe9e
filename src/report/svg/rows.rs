//! The process rows: a row per process (or per group of processes in a big run) coloured by
//! state, its name, pid and how it ended, and the fork connectors from creator to child.

use std::fmt::Write;
use std::ops::Range;

use super::super::draw::{self, ALERT, MUTED, RectPath, Svg, num};
use std::borrow::Cow;

use super::super::ProcessReport;
use super::super::spans::Phase;
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

/// Draws the rows from `layout.rows_y`, one per range of the run's `n` processes.
pub(super) fn draw_rows<'p>(
    svg: &mut Svg,
    process: &dyn Fn(usize) -> Cow<'p, ProcessReport>,
    n: usize,
    collected: &Collected,
    frame: &Frame,
    layout: &Layout,
    rows: &[Range<usize>],
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
    for (r, range) in rows.iter().enumerate() {
        let y = rows_y + r as f64 * row_h;
        let by = y + (row_h - bar_h) / 2.0;
        let first = process(range.start);
        let first = first.as_ref();
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
        let data = collected.rows.get(r);
        if let (true, Some(RowData::Exact(lane))) = (exact, data) {
            let p = first;
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
        for i in 0..n {
            let p = process(i);
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
}
