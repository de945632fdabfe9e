//! The task manager's view of a run at one moment, as text: a header with the moment, a
//! one-line timeline of the whole run with the moment marked, the process table and each
//! state's count. `procsim top --at T` prints it; the interactive `procsim top` draws it
//! frame by frame.

use std::fmt::Write as _;

use super::rows::MAX_THREAD_ROWS;
use super::snapshot::{Snapshot, run_end};
use super::spans::{CpuWork, Spans};
use super::text::escape;
use super::{Report, TimeUnit};

/// The unit a report's times are in, as the view names it.
pub fn unit_name(report: &Report) -> &'static str {
    match report.time_unit {
        TimeUnit::Tick => "tick",
        TimeUnit::Us => "µs",
    }
}

/// The one-line timeline: `width` columns over the whole run, each the number of CPUs busy
/// during most of it (`#` on a one-CPU run, `.` idle), and `|` at the column of `t`.
pub fn timeline_line(report: &Report, spans: &Spans, t: u64, width: usize) -> String {
    let end = run_end(report).max(1);
    let width = width.max(1) as u64;
    let ticks = end.div_ceil(width).max(1);
    let columns = end.div_ceil(ticks);
    let mut line = String::with_capacity(columns as usize);
    for col in 0..columns {
        let lo = col.saturating_mul(ticks);
        let hi = (col + 1).saturating_mul(ticks).min(end);
        if (lo..hi).contains(&t) || (t >= end && col + 1 == columns) {
            line.push('|');
            continue;
        }
        // Busy CPU-time in the column, rounded to whole CPUs.
        let busy: u64 = spans
            .cpus
            .iter()
            .flatten()
            .filter(|s| s.work == CpuWork::Run && s.start < hi && s.end > lo)
            .map(|s| s.end.min(hi) - s.start.max(lo))
            .sum();
        let cpus = (busy + (hi - lo) / 2) / (hi - lo).max(1);
        line.push(match (cpus, report.cpus) {
            (0, _) => '.',
            (_, 1) => '#',
            (n @ 1..=9, _) => char::from(b'0' + n as u8),
            _ => '+',
        });
    }
    line
}

/// The view as text, `width` columns wide at most for the timeline.
///
/// ```
/// use procsim::report::{render_top, snapshot_at, Spans};
/// let report = procsim::Sim::new(procsim::load_str(procsim::demo::DEMO).unwrap(), Default::default()).run();
/// let text = render_top(&report, &Spans::new(&report, 0), &snapshot_at(&report, 6).unwrap(), 80);
/// assert!(text.contains("editor"));
/// assert!(text.contains("blocked (join)"));
/// ```
pub fn render_top(report: &Report, spans: &Spans, snap: &Snapshot, width: usize) -> String {
    let mut out = String::new();
    let unit = unit_name(report);
    let end = run_end(report);
    // Names come from the scenario: control characters are shown, never sent to the terminal.
    let title = escape(super::text::title(&report.scenario));
    let _ = writeln!(
        out,
        "{title}  [{} backend, {} CPU{}]  {unit} {} of {end}",
        report.backend,
        report.cpus,
        if report.cpus == 1 { "" } else { "s" },
        snap.t,
    );
    // A run that a limit, a fence or the timeout stopped: said before anything of it is shown.
    if let Some(e) = &report.error {
        let _ = writeln!(out, "the run did not finish: {}", escape(e));
    }
    let bar_width = width
        .saturating_sub(2 + 2 * end.to_string().len() + 2)
        .max(10);
    let _ = writeln!(
        out,
        "0 [{}] {end}",
        timeline_line(report, spans, snap.t, bar_width)
    );
    out.push('\n');
    let header = [
        "PID",
        "PPID",
        "NAME",
        "STATE",
        &format!("CPU TIME ({unit})"),
        "ON CPU",
        "PARENT",
    ]
    .map(str::to_owned);
    // Each process's row, then its threads' rows (SPEC §4a), their names set in under it as
    // `ps -L` and `top -H` list a process's threads.
    let mut threads = snap.threads.iter().peekable();
    let tasks = snap.rows.iter().flat_map(|r| {
        let mut mine = Vec::new();
        // (A thread whose process has no row yet is passed over, not left to stop the rest.)
        while let Some(t) = threads.next_if(|t| t.index <= r.index) {
            if t.index == r.index {
                mine.push((t, true));
            }
        }
        std::iter::once((r, false)).chain(mine)
    });
    let rows: Vec<[String; 7]> = tasks
        .map(|(r, thread)| {
            let state = match r.exitcode {
                Some(code) => format!("{} ({code})", r.activity.words()),
                None => r.activity.words(),
            };
            let name = escape(&r.name);
            [
                r.pid.to_string(),
                r.ppid.to_string(),
                if thread {
                    format!("  └ {name}")
                } else {
                    name.into_owned()
                },
                state,
                r.cpu_time.to_string(),
                r.activity
                    .cpu()
                    .map_or_else(|| "-".into(), |c| c.to_string()),
                escape(&r.parent).into_owned(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..7)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Numbers right-aligned, words left-aligned.
    let right = [true, true, false, false, true, true, false];
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for c in 0..7 {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - row[c].chars().count();
            if right[c] {
                line.push_str(&" ".repeat(pad));
                line.push_str(&row[c]);
            } else {
                line.push_str(&row[c]);
                if c < 6 {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if snap.hidden_threads > 0 {
        let _ = writeln!(
            out,
            "… and {} more threads in the run (at most {MAX_THREAD_ROWS} are listed; the states below count processes)",
            snap.hidden_threads
        );
    }
    out.push('\n');
    let counts: Vec<String> = snap
        .counts()
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    let _ = writeln!(out, "{}  (zombies {})", counts.join("  "), snap.zombies(),);
    // The last transition applied: what stepping one event forward just did.
    let last = snap.events.checked_sub(1).and_then(|k| report.trace.get(k));
    let _ = match last {
        Some(e) => writeln!(
            out,
            "event {}/{}: {unit} {}  {} {} -> {} ({})",
            snap.events,
            report.trace.len(),
            e.t,
            report
                .processes
                .get(e.proc as usize)
                .map_or("?".into(), |p| escape(&p.name)),
            e.from,
            e.to,
            e.cause
        ),
        None => writeln!(out, "event 0/{}", report.trace.len()),
    };
    if report.time_unit == TimeUnit::Us {
        out.push_str(
            "(a real run: CPU TIME is the kernel's own count, schedstat's time on a CPU read \
             when the process ended: all of it once ended, and before that, spread over the \
             running time the trace observed)\n",
        );
    }
    out
}
