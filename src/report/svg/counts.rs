//! The chart of how many processes were running, ready and blocked over time (drawn from
//! 11 processes on, where rows alone no longer show it).

use std::fmt::Write;

use super::super::draw::{self, GRID, MUTED, Svg, num};
use super::columns::{Class, Frame};

/// The stacked step chart of how many processes were running, ready and blocked (averaged over
/// each column when columns are compressed).
pub(super) fn draw_counts(
    svg: &mut Svg,
    frame: &Frame,
    acc: &[[u64; 5]],
    y: f64,
    h: f64,
    margin: f64,
) {
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
