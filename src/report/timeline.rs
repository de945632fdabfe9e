//! The per-tick timeline: a row per process, a column per tick (or per bucket of ticks when
//! the run is longer than the width), letters `R` running, `r` ready, `s` ready while a CPU
//! switches to it, `B` blocked, `Z` a zombie (ended, not yet reaped), `-` not admitted yet or
//! gone; below it, the states held for no time at all, which no column can show.

use crate::model::State;

use super::rows::TaskRows;
use super::spans::{CpuWork, Phase, Piece, SpanBuilder};
use super::text::{Align, clip, escape, pad};
use super::{ProcessReport, Report, TraceEvent};

/// A timeline ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// Ticks a column stands for (1 unless compressed).
    pub ticks_per_column: u64,
    /// Rows: process name and one letter per column.
    pub rows: Vec<(String, String)>,
    /// Processes left out to keep the view readable.
    pub hidden: usize,
    /// Threads of the processes shown left without a row (SPEC §4a).
    pub hidden_threads: usize,
    /// Whether rows of threads are drawn: the legend then says what `s` covers for them.
    pub threads: bool,
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

/// What the letters mean when threads have rows: `s` is both switches' time (SPEC §4a).
pub const LEGEND_THREADS: &str = "R running, r ready, s ready while its CPU switches to it (context_switch, or thread_switch from a thread of its process), B blocked, Z zombie (ended, not reaped), - not admitted or gone; a thread's row is indented under its process's, which is its main thread's";

impl Timeline {
    /// Builds the timeline of `report` in at most `width` columns and `max_rows` rows, with
    /// no context-switch time (see [`Timeline::with_switch`]).
    pub fn new(report: &Report, width: usize, max_rows: usize) -> Timeline {
        Timeline::with_switch(report, width, max_rows, 0)
    }

    /// Builds the timeline of `report` in at most `width` columns and `max_rows` rows;
    /// `context_switch` is the scenario's `kernel.context_switch`, whose ticks before a
    /// dispatch show as `s` ([`super::Spans::new`] places them). Each compressed column shows
    /// the state the process spent most of that bucket in (ties in the order of [`LETTERS`]).
    pub fn with_switch(
        report: &Report,
        width: usize,
        max_rows: usize,
        context_switch: u64,
    ) -> Timeline {
        Timeline::with_switches(report, width, max_rows, context_switch, 0)
    }

    /// [`Timeline::with_switch`] with `kernel.thread_switch` too: the rows of the processes
    /// shown are followed by their threads' rows (at most `max_rows` of those), whose switches
    /// from a thread of the same process show as `s` for `thread_switch` ticks.
    pub fn with_switches(
        report: &Report,
        width: usize,
        max_rows: usize,
        context_switch: u64,
        thread_switch: u64,
    ) -> Timeline {
        let n = report.processes.len();
        let shown = n.min(max_rows);
        let rows = TaskRows::new(&report.processes[..shown], max_rows);
        let mut b = TimelineBuilder::with_rows(
            report.summary.makespan,
            width,
            report.cpus,
            (context_switch, thread_switch),
            rows,
        );
        // A transition of a process the report does not list (a damaged report) is left out.
        for e in report.trace.iter().filter(|e| (e.proc as usize) < n) {
            b.event(e);
        }
        b.finish(&report.processes[..shown], n)
    }
}

/// A timeline made while the run goes, one transition at a time: each row is its letters
/// so far and the column being filled, so it holds no more than the picture it draws. It
/// needs the makespan (the columns' width) and the creation times of the rows' processes
/// before the first transition: a streamed run learns them from a first run of the same,
/// deterministic, scenario.
#[derive(Debug, Clone)]
pub struct TimelineBuilder {
    spans: SpanBuilder,
    makespan: u64,
    /// Ticks a column.
    k: u64,
    columns: u64,
    rows: Vec<Row>,
    /// Per row: when it was created.
    created: Vec<u64>,
    /// The rows of threads, when they are drawn (`None`: a row per process).
    tasks: Option<TaskRows>,
    /// Per row: its last transition `(tick, state)`, to find the states held for no time.
    last: Vec<Option<(u64, State)>>,
    zero: Vec<ZeroLength>,
}

/// A row being drawn.
#[derive(Debug, Clone, Default)]
struct Row {
    letters: String,
    /// Time in each state (by [`LETTERS`]) within the column being filled.
    time: [u64; LETTERS.len()],
    /// A ready interval waiting for the switch that may end it (which comes after it).
    ready: Option<(u64, u64)>,
}

/// The letter (an index in [`LETTERS`]) of a phase; ready time is `r` unless a switch cuts it.
fn letter(phase: Phase) -> usize {
    match phase {
        Phase::Running { .. } => 0,
        Phase::Blocked { .. } => 1,
        Phase::Ready => READY,
        Phase::Zombie => 4,
        Phase::New => GONE,
    }
}

const SWITCH: usize = 2;
const READY: usize = 3;
const GONE: usize = LETTERS.len() - 1;

impl TimelineBuilder {
    /// A timeline of a run whose makespan is `makespan`, in at most `width` columns, with a
    /// row for each process created at `created[i]` (the first processes of the run).
    pub fn new(
        makespan: u64,
        width: usize,
        cpus: u32,
        context_switch: u64,
        created: Vec<u64>,
    ) -> TimelineBuilder {
        TimelineBuilder::make(makespan, width, cpus, (context_switch, 0), created, None)
    }

    /// A timeline with a row per task of `rows` (SPEC §4a); `switches` are
    /// `(kernel.context_switch, kernel.thread_switch)`.
    pub fn with_rows(
        makespan: u64,
        width: usize,
        cpus: u32,
        switches: (u64, u64),
        rows: TaskRows,
    ) -> TimelineBuilder {
        let created = rows.rows.iter().map(|r| r.created).collect();
        TimelineBuilder::make(makespan, width, cpus, switches, created, Some(rows))
    }

    fn make(
        makespan: u64,
        width: usize,
        cpus: u32,
        (context_switch, thread_switch): (u64, u64),
        created: Vec<u64>,
        tasks: Option<TaskRows>,
    ) -> TimelineBuilder {
        let makespan = makespan.max(1);
        let width = width.max(1) as u64;
        let k = makespan.div_ceil(width);
        let shown = created.len();
        TimelineBuilder {
            tasks,
            spans: SpanBuilder::new(cpus, context_switch, shown).with_thread_switch(thread_switch),
            makespan,
            k,
            columns: makespan.div_ceil(k),
            rows: vec![Row::default(); shown],
            created,
            last: vec![None; shown],
            zero: [State::Running, State::Blocked]
                .into_iter()
                .map(|s| (s, 0, Vec::new()))
                .collect(),
        }
    }

    /// Takes in one transition, in trace order.
    pub fn event(&mut self, e: &TraceEvent) {
        // A process's row is its main thread's; its other threads have rows of their own
        // when told ([`TimelineBuilder::with_rows`]), else only move the CPUs.
        let row = match &self.tasks {
            Some(tasks) => tasks.row(e),
            None => (!e.is_other_thread()).then_some(e.proc),
        };
        let row = row.filter(|&r| (r as usize) < self.last.len());
        if let Some(i) = row.map(|r| r as usize) {
            if let Some((t, state)) = self.last[i]
                && t == e.t
                && let Some(entry) = self.zero.iter_mut().find(|x| x.0 == state)
            {
                entry.1 += 1;
                if entry.2.len() < 3 {
                    entry.2.push((i, t));
                }
            }
            self.last[i] = Some((e.t, e.to));
        }
        // At most three pieces a transition: a process's interval, a CPU's run, a switch.
        let mut pieces = [None; 3];
        let mut n = 0;
        self.spans.event_row(e, row, &mut |piece| {
            if n < pieces.len() {
                pieces[n] = Some(piece);
                n += 1;
            }
        });
        for piece in pieces.into_iter().flatten() {
            self.take(piece, row);
        }
    }

    /// Draws `piece`; `row` is the row of the task whose transition made it.
    fn take(&mut self, piece: Piece, row: Option<u32>) {
        match piece {
            Piece::New { proc, until } => {
                let i = proc as usize;
                if let Some(&start) = self.created.get(i) {
                    self.add(i, start, until, GONE);
                }
            }
            Piece::Proc(proc, span) => {
                let i = proc as usize;
                self.flush_ready(i);
                let letter = letter(span.phase);
                if letter == READY {
                    self.rows[i].ready = Some((span.start, span.end));
                } else {
                    self.add(i, span.start, span.end, letter);
                }
            }
            Piece::Cpu(_, span) if span.work == CpuWork::Switch => {
                // The switch is towards the task whose dispatch made it.
                let Some(i) = row.map(|r| r as usize) else {
                    return;
                };
                // The switch towards a process is cut out of the ready time before it.
                if let Some((a, b)) = self.rows.get(i).and_then(|r| r.ready) {
                    let (sa, sb) = (span.start.max(a), span.end.min(b));
                    if sb > sa {
                        self.rows[i].ready = None;
                        self.add(i, a, sa, READY);
                        self.add(i, sa, sb, SWITCH);
                        if b > sb {
                            self.rows[i].ready = Some((sb, b));
                        }
                    }
                }
            }
            Piece::Cpu(..) => {}
        }
    }

    fn flush_ready(&mut self, i: usize) {
        if let Some((a, b)) = self.rows[i].ready.take() {
            self.add(i, a, b, READY);
        }
    }

    /// Adds `[a, b)` in state `letter` to row `i`, closing the columns it passes.
    fn add(&mut self, i: usize, a: u64, b: u64, letter: usize) {
        let b = b.min(self.makespan);
        let mut a = a;
        while a < b {
            let col = self.rows[i].letters.len() as u64;
            if col >= self.columns {
                return;
            }
            // Saturating: a run can end at the last tick, 2^64 − 1.
            let lo = col.saturating_mul(self.k);
            let hi = (col + 1).saturating_mul(self.k).min(self.makespan);
            if a >= hi {
                self.close_column(i);
                continue;
            }
            let until = b.min(hi);
            self.rows[i].time[letter] += until - a.max(lo);
            a = until;
            if a == hi {
                self.close_column(i);
            }
        }
    }

    fn close_column(&mut self, i: usize) {
        let row = &mut self.rows[i];
        let time = std::mem::take(&mut row.time);
        let best = if time.iter().sum::<u64>() == 0 {
            GONE
        } else {
            (0..LETTERS.len())
                .max_by_key(|&x| (time[x], GONE - x))
                .unwrap_or(GONE)
        };
        row.letters.push(LETTERS[best]);
    }

    /// The timeline, given the reports of the rows' processes (in order) and how many
    /// processes the run made.
    pub fn finish(mut self, shown: &[ProcessReport], count: usize) -> Timeline {
        let end = self.makespan;
        let mut pieces = Vec::new();
        let tasks = self.tasks.take();
        match &tasks {
            Some(tasks) => {
                for (i, r) in tasks.rows.iter().enumerate() {
                    self.spans
                        .close_process(i as u32, end, r.gone, &mut |piece| pieces.push(piece));
                }
            }
            None => {
                for (i, p) in shown.iter().enumerate() {
                    self.spans
                        .close_process(i as u32, end, p.reaped_at, &mut |piece| pieces.push(piece));
                }
            }
        }
        for piece in pieces {
            self.take(piece, None);
        }
        for i in 0..self.rows.len() {
            self.flush_ready(i);
            while (self.rows[i].letters.len() as u64) < self.columns {
                self.close_column(i);
            }
        }
        let mut zero = self.zero;
        zero.retain(|x| x.1 > 0);
        let labels: Vec<String> = match &tasks {
            Some(tasks) => (0..tasks.rows.len())
                .map(|i| tasks.label(i, shown))
                .collect(),
            None => shown.iter().map(|p| p.name.clone()).collect(),
        };
        Timeline {
            ticks_per_column: self.k,
            rows: labels
                .into_iter()
                .zip(self.rows)
                .map(|(name, r)| (name, r.letters))
                .collect(),
            hidden: count.saturating_sub(shown.len()),
            hidden_threads: tasks.as_ref().map_or(0, |t| t.hidden_threads),
            threads: tasks.as_ref().is_some_and(TaskRows::has_threads),
            zero,
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
    timeline_text(&tl, report.time_unit, color)
}

/// A timeline as text (what [`render_timeline_switching`] prints), its times in `unit`.
pub fn timeline_text(tl: &Timeline, unit: super::TimeUnit, color: bool) -> String {
    let label = tl
        .rows
        .iter()
        .map(|(n, _)| escape(n).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 24);
    let columns = tl.rows.first().map(|(_, l)| l.len()).unwrap_or(0);
    let mut out = String::new();
    let (unit, units) = if unit == super::TimeUnit::Us {
        ("µs", "µs")
    } else {
        ("tick", "ticks")
    };
    let legend = if tl.threads { LEGEND_THREADS } else { LEGEND };
    let key = if color {
        let mut key = legend.to_owned();
        for letter in ["R ", "r ", "s ", "B ", "Z ", "- "] {
            let painted = format!("{} ", colour_row(&letter[..1]));
            key = key.replacen(letter, &painted, 1);
        }
        key
    } else {
        legend.to_owned()
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
    if tl.hidden_threads > 0 {
        out.push_str(&format!(
            "… and {} more threads of the processes shown\n",
            tl.hidden_threads
        ));
    }
    if !tl.zero.is_empty() {
        let parts: Vec<String> = tl
            .zero
            .iter()
            .map(|(state, count, first)| {
                let at: Vec<String> = first
                    .iter()
                    .map(|&(i, t)| format!("{} at {t}", clip(tl.rows[i].0.trim_start(), 24)))
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

    /// Threads (SPEC §4a) on one CPU, context_switch 2 and thread_switch 1: MainProcess's
    /// first dispatch costs a context switch (0–2); it starts Thread-1 (spin) at 2 and joins
    /// it (blocked 2–6); the switch to the thread, of the same process, costs 1 (2–3), it
    /// computes 3 ticks (3–6) and ends; the switch back costs 1 again (6–7), and MainThread
    /// ends at 7. The thread's row, indented under its process's, is `-` before it was made
    /// and after its end (a thread is no zombie).
    #[test]
    fn a_thread_has_its_row_and_its_switch_is_thread_switch() {
        let report = run(r#"{"kernel": {"context_switch": 2, "thread_switch": 1},
            "programs": {"main": {"body": [{"thread": {"as": "t", "program": "spin"}},
                                           {"join": "t"}]},
                         "spin": {"body": [{"cpu": 3}]}},
            "processes": [{"program": "main"}]}"#);
        let tl = Timeline::with_switches(&report, 100, 40, 2, 1);
        assert_eq!(rows(&tl), ["ssBBBBs", "--sRRR-"]);
        assert_eq!(tl.rows[1].0, "  Thread-1 (spin)");
        // Told nothing of thread_switch, the thread switches are plain ready time.
        let tl = Timeline::with_switches(&report, 100, 40, 2, 0);
        assert_eq!(rows(&tl), ["ssBBBBr", "--rRRR-"]);
        let text = timeline_text(
            &Timeline::with_switches(&report, 100, 40, 2, 1),
            report.time_unit,
            false,
        );
        assert!(text.contains(LEGEND_THREADS), "{text}");
        // At most one thread row: the other is counted.
        let report = run(r#"{"programs": {"main": {"body": [
                {"thread": {"as": "a", "program": "spin"}}, {"thread": {"as": "b", "program": "spin"}},
                {"join": "a"}, {"join": "b"}]}, "spin": {"body": [{"cpu": 1}]}},
            "processes": [{"program": "main"}]}"#);
        let tl = Timeline::with_switches(&report, 100, 1, 0, 0);
        assert_eq!(tl.rows.len(), 2);
        assert_eq!(tl.hidden_threads, 1);
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
