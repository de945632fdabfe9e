//! The CPU lanes: who ran on each CPU and when, the context switches, and idle time; one
//! shaded lane instead when there are too many CPUs for a lane each.

use std::borrow::Cow;

use super::super::ProcessReport;
use super::super::draw::{self, IDLE, IDLE_EDGE, RUNNING, RectPath, SWITCH, Svg, num};
use super::super::spans::CpuWork;
use super::collect::{Collected, LaneData};
use super::columns::Frame;
use super::{Layout, THREAD_SWITCH};

/// A lane's background: idle time, white with a grey edge (not the grey of `new`).
fn idle_lane(svg: &mut Svg, x: f64, y: f64, w: f64, h: f64) {
    svg.raw(&format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{IDLE}\" stroke=\"{IDLE_EDGE}\"/>\n",
        num(x + 0.5),
        num(y + 0.5),
        num(w - 1.0),
        num(h - 1.0)
    ));
}

/// Draws the lanes at `layout.lanes_y`.
pub(super) fn draw_lanes<'p>(
    svg: &mut Svg,
    process: &dyn Fn(usize) -> Cow<'p, ProcessReport>,
    collected: &Collected,
    frame: &Frame,
    layout: &Layout,
) {
    let Layout {
        margin,
        x0,
        plot_w,
        lane_h,
        lanes_y,
        detailed,
        lanes_each,
        ..
    } = *layout;
    let (k, end) = (frame.k, frame.end);
    let ncpu = if lanes_each {
        collected.lanes.len()
    } else {
        layout.cpus
    };
    svg.raw("<g class=\"cpus\">\n");
    if lanes_each {
        for (c, lane) in collected.lanes.iter().enumerate() {
            let y = lanes_y + c as f64 * lane_h;
            let bh = lane_h - 4.0;
            svg.text(
                margin,
                y + bh - 2.0,
                "font-size=\"11\"",
                &format!("CPU {c}"),
            );
            idle_lane(svg, x0, y, plot_w, bh);
            if let LaneData::Exact(lane) = lane {
                for ls in lane {
                    let s = &ls.span;
                    let p = process(s.proc as usize);
                    let (xa, xb) = (frame.x(s.start), frame.x(s.end));
                    let (fill, tip) = match s.work {
                        CpuWork::Run => (
                            RUNNING,
                            format!("CPU {c}: {} (pid {}) {}–{}", p.name, p.pid, s.start, s.end),
                        ),
                        CpuWork::Switch if ls.thread_switch => (
                            THREAD_SWITCH,
                            format!(
                                "CPU {c}: thread switch within {} {}–{}",
                                p.name, s.start, s.end
                            ),
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
                        // The name where it fits, else the pid (the tooltip has both).
                        let name = draw::clip(&p.name, 20);
                        let pid = p.pid.to_string();
                        let label = [name, pid]
                            .into_iter()
                            .find(|l| xb - xa >= draw::text_width(l, 10.0) + 4.0);
                        if let Some(label) = label {
                            svg.text(
                                (xa + xb) / 2.0,
                                y + bh - 3.5,
                                "text-anchor=\"middle\" font-size=\"10\" fill=\"#ffffff\"",
                                &label,
                            );
                        }
                    }
                }
            } else if let LaneData::Columns(acc) = lane {
                // Per column: running, switching or idle, whichever took longest; switching
                // drawn as a thread switch where those took longer than context switches.
                let (mut run, mut sw) = (RectPath::default(), RectPath::default());
                let mut thread_sw = RectPath::default();
                for (col, cell) in acc.iter().enumerate() {
                    let lo = col as u64 * k;
                    let len = ((col as u64 + 1) * k).min(end) - lo;
                    let (r, w) = (cell[0], cell[1] + cell[2]);
                    let idle = len.saturating_sub(r + w);
                    let (xa, xb) = (frame.col_x(col), frame.col_x(col + 1));
                    if r >= w && r >= idle && r > 0 {
                        run.add(xa, y, xb - xa, bh);
                    } else if w > r && w >= idle {
                        let path = if cell[2] > cell[1] {
                            &mut thread_sw
                        } else {
                            &mut sw
                        };
                        path.add(xa, y, xb - xa, bh);
                    }
                }
                run.write(svg, RUNNING);
                sw.write(svg, SWITCH);
                thread_sw.write(svg, THREAD_SWITCH);
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
        idle_lane(svg, x0, y, plot_w, bh);
        let busy = &collected.busy;
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
}
