//! The per-tick timeline: a row per process, a column per tick (or per bucket of ticks when
//! the run is longer than the width), letters `R` running, `r` ready, `B` blocked, `-` not
//! admitted yet or ended.

use crate::model::State;

use super::Report;
use super::text::{Align, clip, escape, pad};

/// A timeline ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Ticks a column stands for (1 unless compressed).
    pub ticks_per_column: u64,
    /// Rows: process name and one letter per column.
    pub rows: Vec<(String, String)>,
    /// Processes left out to keep the view readable.
    pub hidden: usize,
}

impl Timeline {
    /// Builds the timeline of `report` in at most `width` columns and `max_rows` rows.
    /// Each compressed column shows the state the process spent most of that bucket in
    /// (ties go to running, then blocked, then ready).
    pub fn new(report: &Report, width: usize, max_rows: usize) -> Timeline {
        let makespan = report.summary.makespan.max(1);
        let width = width.max(1) as u64;
        let k = makespan.div_ceil(width);
        let columns = makespan.div_ceil(k) as usize;
        let n = report.processes.len();
        let shown = n.min(max_rows);
        // Per process: the intervals of each state, from the trace.
        let mut spans: Vec<Vec<(u64, u64, State)>> = vec![Vec::new(); shown];
        let mut current: Vec<(u64, State)> = report.processes[..shown]
            .iter()
            .map(|p| (p.created_at, State::New))
            .collect();
        for e in &report.trace {
            let i = e.proc as usize;
            if i >= shown {
                continue;
            }
            let (since, state) = current[i];
            if e.t > since {
                spans[i].push((since, e.t, state));
            }
            current[i] = (e.t, e.to);
        }
        for (i, (since, state)) in current.into_iter().enumerate() {
            if makespan > since {
                spans[i].push((since, makespan, state));
            }
        }
        let rows = spans
            .iter()
            .enumerate()
            .map(|(i, spans)| {
                let mut line = String::with_capacity(columns);
                let mut s = 0;
                for col in 0..columns as u64 {
                    // Saturating: a run can end at the last tick, 2^64 − 1.
                    let lo = col.saturating_mul(k);
                    let hi = (col + 1).saturating_mul(k).min(makespan);
                    // Time in each state within [lo, hi): R, B, r, -.
                    let mut time = [0u64; 4];
                    while s < spans.len() && spans[s].1 <= lo {
                        s += 1;
                    }
                    let mut j = s;
                    while j < spans.len() && spans[j].0 < hi {
                        let (a, b, st) = spans[j];
                        let overlap = b.min(hi).saturating_sub(a.max(lo));
                        let slot = match st {
                            State::Running => 0,
                            State::Blocked => 1,
                            State::Ready => 2,
                            State::New | State::Terminated => 3,
                        };
                        time[slot] += overlap;
                        j += 1;
                    }
                    let best = if time.iter().sum::<u64>() == 0 {
                        3
                    } else {
                        (0..4).max_by_key(|&x| (time[x], 3 - x)).unwrap_or(3)
                    };
                    line.push(['R', 'B', 'r', '-'][best]);
                }
                (report.processes[i].name.clone(), line)
            })
            .collect();
        Timeline {
            ticks_per_column: k,
            rows,
            hidden: n - shown,
        }
    }
}

/// The timeline as text: a ruler, then a row per process.
pub fn render_timeline(report: &Report, width: usize, max_rows: usize) -> String {
    render_timeline_styled(report, width, max_rows, false)
}

/// ANSI colours of the timeline's letters: a background per state, so the rows read as the
/// bars of a Gantt chart; the letters stay, for readers and terminals without colour.
fn paint(letter: char) -> &'static str {
    match letter {
        'R' => "\x1b[97;44m",
        'r' => "\x1b[30;43m",
        'B' => "\x1b[97;45m",
        _ => "\x1b[2m",
    }
}

const RESET: &str = "\x1b[0m";

/// Colours a timeline row, one escape sequence per run of equal letters.
fn colour_row(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut prev: Option<char> = None;
    for c in line.chars() {
        if prev != Some(c) {
            if prev.is_some() {
                out.push_str(RESET);
            }
            out.push_str(paint(c));
            prev = Some(c);
        }
        out.push(c);
    }
    if prev.is_some() {
        out.push_str(RESET);
    }
    out
}

/// [`render_timeline`], in colour when `color` is true (ANSI escapes, for a terminal).
pub fn render_timeline_styled(
    report: &Report,
    width: usize,
    max_rows: usize,
    color: bool,
) -> String {
    let tl = Timeline::new(report, width, max_rows);
    let label = tl
        .rows
        .iter()
        .map(|(n, _)| escape(n).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 24);
    let columns = tl.rows.first().map(|(_, l)| l.len()).unwrap_or(0);
    let mut out = String::new();
    let (unit, units) = if report.time_unit == super::TimeUnit::Us {
        ("µs", "µs")
    } else {
        ("tick", "ticks")
    };
    let key = if color {
        format!(
            "{} running, {} ready, {} blocked, {} not admitted or ended",
            colour_row("R"),
            colour_row("r"),
            colour_row("B"),
            colour_row("-")
        )
    } else {
        "R running, r ready, B blocked, - not admitted or ended".to_owned()
    };
    if tl.ticks_per_column == 1 {
        out.push_str(&format!("Timeline (1 column = 1 {unit}; {key})\n"));
    } else {
        out.push_str(&format!(
            "Timeline (1 column = {} {units}, showing the state held longest; {key})\n",
            tl.ticks_per_column
        ));
    }
    // A ruler with a mark every 10 columns.
    let mut ruler = String::new();
    let mut col = 0;
    while col < columns {
        let mark = (col as u64).saturating_mul(tl.ticks_per_column).to_string();
        ruler.push_str(&mark);
        let pad = 10usize.saturating_sub(mark.len()).max(1);
        ruler.push_str(&" ".repeat(pad));
        col += mark.len() + pad;
    }
    out.push_str(&format!(
        "{}  {}\n",
        pad("", label, Align::Left),
        ruler.trim_end()
    ));
    for (name, line) in &tl.rows {
        let name = pad(&clip(name, label), label, Align::Left);
        if color {
            out.push_str(&format!("{name}  {}\n", colour_row(line)));
        } else {
            out.push_str(&format!("{name}  {line}\n"));
        }
    }
    if tl.hidden > 0 {
        out.push_str(&format!("… and {} more processes\n", tl.hidden));
    }
    out
}
