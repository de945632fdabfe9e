//! The per-tick timeline: a row per process, a column per tick (or per bucket of ticks when
//! the run is longer than the width), letters `R` running, `r` ready, `s` ready while a CPU
//! switches to it, `B` blocked, `Z` a zombie (ended, not yet reaped), `-` not admitted yet or
//! gone; below it, the states held for no time at all, which no column can show.

use crate::model::State;

use super::Report;
use super::spans::{CpuWork, Phase, Spans};
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
    /// States held for no time, which no column shows: per state, how many times, and the
    /// first few `(process index, tick)`.
    pub zero: Vec<ZeroLength>,
}

/// A state held for no time: the state, how many times, and the first few
/// `(process index, tick)`.
pub type ZeroLength = (State, usize, Vec<(usize, u64)>);

/// The letters of the timeline, in the order a compressed column prefers them on a tie.
const LETTERS: [char; 6] = ['R', 'B', 's', 'r', 'Z', '-'];

/// What the letters mean.
pub const LEGEND: &str = "R running, r ready, s ready while its CPU switches to it, B blocked, Z zombie (ended, not reaped), - not admitted or gone";

impl Timeline {
    /// Builds the timeline of `report` in at most `width` columns and `max_rows` rows, with
    /// no context-switch time (see [`Timeline::with_switch`]).
    pub fn new(report: &Report, width: usize, max_rows: usize) -> Timeline {
        Timeline::with_switch(report, width, max_rows, 0)
    }

    /// Builds the timeline of `report` in at most `width` columns and `max_rows` rows;
    /// `context_switch` is the scenario's `kernel.context_switch`, whose ticks before a
    /// dispatch show as `s` ([`Spans::new`] places them). Each compressed column shows the
    /// state the process spent most of that bucket in (ties in the order of [`LETTERS`]).
    pub fn with_switch(
        report: &Report,
        width: usize,
        max_rows: usize,
        context_switch: u64,
    ) -> Timeline {
        let makespan = report.summary.makespan.max(1);
        let width = width.max(1) as u64;
        let k = makespan.div_ceil(width);
        let columns = makespan.div_ceil(k) as usize;
        let n = report.processes.len();
        let shown = n.min(max_rows);
        let all = Spans::new(report, context_switch);
        // Per process shown: intervals with their letter, the switches towards it cut out of
        // its ready time.
        let mut switches: Vec<Vec<(u64, u64)>> = vec![Vec::new(); shown];
        for cpu in &all.cpus {
            for s in cpu {
                if s.work == CpuWork::Switch && (s.proc as usize) < shown {
                    switches[s.proc as usize].push((s.start, s.end));
                }
            }
        }
        let spans: Vec<Vec<(u64, u64, usize)>> = (0..shown)
            .map(|i| {
                let mut sw = switches[i].clone();
                sw.sort_unstable();
                let mut out = Vec::new();
                for span in &all.processes[i] {
                    let letter = match span.phase {
                        Phase::Running { .. } => 0,
                        Phase::Blocked { .. } => 1,
                        Phase::Ready => 3,
                        Phase::Zombie => 4,
                        Phase::New => 5,
                    };
                    if letter != 3 {
                        out.push((span.start, span.end, letter));
                        continue;
                    }
                    let mut at = span.start;
                    for &(a, b) in sw.iter().filter(|&&(a, b)| b > span.start && a < span.end) {
                        let (a, b) = (a.max(span.start), b.min(span.end));
                        if a > at {
                            out.push((at, a, 3));
                        }
                        out.push((a, b, 2));
                        at = b;
                    }
                    if span.end > at {
                        out.push((at, span.end, 3));
                    }
                }
                out
            })
            .collect();
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
                    let mut time = [0u64; LETTERS.len()];
                    while s < spans.len() && spans[s].1 <= lo {
                        s += 1;
                    }
                    let mut j = s;
                    while j < spans.len() && spans[j].0 < hi {
                        let (a, b, letter) = spans[j];
                        time[letter] += b.min(hi).saturating_sub(a.max(lo));
                        j += 1;
                    }
                    let gone = LETTERS.len() - 1;
                    let best = if time.iter().sum::<u64>() == 0 {
                        gone
                    } else {
                        (0..LETTERS.len())
                            .max_by_key(|&x| (time[x], gone - x))
                            .unwrap_or(gone)
                    };
                    line.push(LETTERS[best]);
                }
                (report.processes[i].name.clone(), line)
            })
            .collect();
        Timeline {
            ticks_per_column: k,
            rows,
            hidden: n - shown,
            zero: zero_length(report, shown),
        }
    }
}

/// The states that processes held for no time at all (a dispatch whose process blocks or
/// ends at once; a block that ends at once), which no column can show: per state, how many
/// and the first few `(process, tick)`.
fn zero_length(report: &Report, shown: usize) -> Vec<ZeroLength> {
    let mut last: Vec<Option<(u64, State)>> = vec![None; shown];
    let mut out: Vec<ZeroLength> = [State::Running, State::Blocked]
        .into_iter()
        .map(|s| (s, 0, Vec::new()))
        .collect();
    for e in &report.trace {
        let i = e.proc as usize;
        if i >= shown {
            continue;
        }
        if let Some((t, state)) = last[i]
            && t == e.t
            && let Some(entry) = out.iter_mut().find(|x| x.0 == state)
        {
            entry.1 += 1;
            if entry.2.len() < 3 {
                entry.2.push((i, t));
            }
        }
        last[i] = Some((e.t, e.to));
    }
    out.retain(|x| x.1 > 0);
    out
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
        's' => "\x1b[30;46m",
        'B' => "\x1b[97;45m",
        'Z' => "\x1b[97;41m",
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
    render_timeline_switching(report, width, max_rows, color, 0)
}

/// [`render_timeline_styled`] with the scenario's `kernel.context_switch`, whose ticks show
/// as `s`.
pub fn render_timeline_switching(
    report: &Report,
    width: usize,
    max_rows: usize,
    color: bool,
    context_switch: u64,
) -> String {
    let tl = Timeline::with_switch(report, width, max_rows, context_switch);
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
        let mut key = LEGEND.to_owned();
        for letter in ["R ", "r ", "s ", "B ", "Z ", "- "] {
            let painted = format!("{} ", colour_row(&letter[..1]));
            key = key.replacen(letter, &painted, 1);
        }
        key
    } else {
        LEGEND.to_owned()
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
    if !tl.zero.is_empty() {
        let parts: Vec<String> = tl
            .zero
            .iter()
            .map(|(state, count, first)| {
                let at: Vec<String> = first
                    .iter()
                    .map(|&(i, t)| format!("{} at {t}", clip(&report.processes[i].name, 24)))
                    .collect();
                let more = if *count > first.len() { ", …" } else { "" };
                format!("{state} ×{count} ({}{more})", at.join(", "))
            })
            .collect();
        out.push_str(&format!(
            "Held for 0 {units}, so not drawn: {}\n",
            parts.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Report {
        crate::Sim::new(crate::load_str(text).unwrap(), Default::default()).run()
    }

    fn rows(tl: &Timeline) -> Vec<&str> {
        tl.rows.iter().map(|(_, l)| l.as_str()).collect()
    }

    /// One CPU, a switch of 1 tick before each dispatch of another process (the first
    /// included): A switches in during tick 0 and runs 1–3, B switches in during 3, runs 4–6.
    #[test]
    fn switch_time_is_s_not_r() {
        let report = run(r#"{"kernel": {"context_switch": 1},
            "programs": {"p": {"body": [{"cpu": 2}]}},
            "processes": [{"program": "p", "name": "A"}, {"program": "p", "name": "B"}]}"#);
        let tl = Timeline::with_switch(&report, 100, 40, 1);
        assert_eq!(rows(&tl), ["sRR---", "rrrsRR"]);
        // Told nothing of the switch, the same ticks are plain ready time.
        assert_eq!(rows(&Timeline::new(&report, 100, 40)), ["rRR---", "rrrrRR"]);
    }

    /// The child ends at 1; its parent sleeps until 4 and then joins it, which reaps it: a
    /// zombie over 1–4. The parent's dispatch at 4 ends at once (join and print cost
    /// nothing), a running state of no length.
    #[test]
    fn a_zombie_is_z_and_a_state_of_no_time_is_counted() {
        let report = run(r#"{
            "programs": {"main": {"body": [{"fork": {"as": "c", "program": "child"}},
                                           {"sleep": 4}, {"join": "c"}, {"print": "joined"}]},
                         "child": {"body": [{"cpu": 1}]}},
            "processes": [{"program": "main"}]}"#);
        let tl = Timeline::with_switch(&report, 100, 40, 0);
        assert_eq!(rows(&tl), ["BBBB", "RZZZ"]);
        let text = render_timeline(&report, 100, 40);
        assert!(text.contains("Z zombie (ended, not reaped)"), "{text}");
        assert!(
            text.contains(
                "Held for 0 ticks, so not drawn: running ×2 (MainProcess at 0, MainProcess at 4)"
            ),
            "{text}"
        );
    }
}
