//! The human view of a report: the process table, the timeline, outputs and the summary.

use super::Report;
use super::text::{Align, NAME_COLUMN, clip, escape, pad};
use super::timeline::render_timeline_styled;

fn cell(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| x.to_string())
}

fn avg(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.2}"))
}

/// Renders the table view: what `procsim run` prints by default. `width` bounds the
/// timeline's columns.
pub fn render_table(report: &Report, width: usize) -> String {
    render_table_styled(report, width, false)
}

/// [`render_table`] with the timeline in colour when `color` is true (for a terminal).
pub fn render_table_styled(report: &Report, width: usize, color: bool) -> String {
    let mut out = String::new();
    let title = if report.scenario.is_empty() {
        "(unnamed scenario)".into()
    } else {
        escape(&report.scenario)
    };
    out.push_str(&format!(
        "{title}  [{} backend, {} CPU{}]\n",
        report.backend,
        report.cpus,
        if report.cpus == 1 { "" } else { "s" }
    ));
    // A real run says which real policy stood for the scenario's, and why not when it could
    // not be used (--realtime without the privilege never passes silently).
    if let Some(real) = &report.real {
        for line in real.describe() {
            // Fence acts name processes, whose names come from the scenario.
            out.push_str(&escape(&line));
            out.push('\n');
        }
    }
    out.push('\n');
    let header = [
        "PID", "PPID", "NAME", "EXIT", "ARRIVE", "FIRST", "END", "CPU", "WAIT", "BLOCK", "RESP",
        "TURN", "DISP", "PREEMPT",
    ];
    let rows: Vec<Vec<String>> = report
        .processes
        .iter()
        .map(|p| {
            let exit = match (&p.signal, p.exitcode) {
                (Some(sig), Some(code)) => format!("{code} {sig}"),
                (_, Some(code)) => code.to_string(),
                (_, None) => "-".into(),
            };
            vec![
                p.pid.to_string(),
                p.ppid.to_string(),
                clip(&p.name, NAME_COLUMN).into_owned(),
                exit,
                cell(p.admitted_at),
                cell(p.first_run),
                cell(p.ended_at),
                p.cpu.to_string(),
                p.waiting.to_string(),
                p.blocked.to_string(),
                cell(p.response),
                cell(p.turnaround),
                p.dispatches.to_string(),
                p.preemptions.to_string(),
            ]
        })
        .collect();
    const MAX_ROWS: usize = 40;
    let shown = &rows[..rows.len().min(MAX_ROWS)];
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            shown
                .iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (c, text) in cells.iter().enumerate() {
            let align = if c == 2 || c == 3 {
                Align::Left
            } else {
                Align::Right
            };
            s.push_str(&pad(text, widths[c], align));
            s.push_str("  ");
        }
        s.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(&header));
    for r in shown {
        out.push_str(&line(&r.iter().map(String::as_str).collect::<Vec<_>>()));
    }
    if rows.len() > shown.len() {
        out.push_str(&format!(
            "… and {} more processes\n",
            rows.len() - shown.len()
        ));
    }
    out.push('\n');
    out.push_str(&render_timeline_styled(report, width, MAX_ROWS, color));

    let mut said = false;
    for p in report.processes.iter().take(MAX_ROWS) {
        for l in &p.output {
            if !said {
                out.push_str("\nOutput\n");
                said = true;
            }
            out.push_str(&format!(
                "  [{}] {}\n",
                clip(&p.name, NAME_COLUMN),
                escape(l)
            ));
        }
        for e in &p.errors {
            if !said {
                out.push_str("\nOutput\n");
                said = true;
            }
            out.push_str(&format!(
                "  [{}] error: {}\n",
                clip(&p.name, NAME_COLUMN),
                escape(e)
            ));
        }
    }

    let s = &report.summary;
    out.push_str(&format!(
        "\nSummary: makespan {}, CPU busy {} ({:.1}%), idle {}, switching {}, dispatches {}, context switches {}\n",
        s.makespan,
        s.cpu_busy,
        s.utilization * 100.0,
        s.idle,
        s.switch_ticks,
        s.dispatches,
        s.context_switches
    ));
    out.push_str(&format!(
        "         avg response {}, avg turnaround {}, avg waiting {}, throughput {:.4} per {}\n",
        avg(s.avg_response),
        avg(s.avg_turnaround),
        avg(s.avg_waiting),
        s.throughput,
        if report.time_unit == super::TimeUnit::Us {
            "µs"
        } else {
            "tick"
        }
    ));
    if let Some(e) = &report.error {
        out.push_str(&format!("\nThe run stopped early: {}\n", escape(e)));
    }
    out
}

/// Only the summary, one figure a line: `procsim run --format summary`.
pub fn render_summary(
    scenario: &str,
    backend: &str,
    processes: usize,
    summary: &super::Summary,
    error: Option<&str>,
) -> String {
    let scenario = escape(scenario);
    let mut out = format!(
        "scenario          {scenario}\nbackend           {backend}\nprocesses         {processes}\n"
    );
    out.push_str(&summary_lines(summary));
    if let Some(e) = error {
        out.push_str(&format!("error             {}\n", escape(e)));
    }
    out
}

/// The summary's figures, one a line.
pub fn summary_lines(s: &super::Summary) -> String {
    format!(
        "makespan          {}\ncpu_busy          {}\nidle              {}\nswitch_ticks      {}\nutilization       {:.6}\nthroughput        {:.6}\ndispatches        {}\ncontext_switches  {}\navg_response      {}\navg_turnaround    {}\navg_waiting       {}\n",
        s.makespan,
        s.cpu_busy,
        s.idle,
        s.switch_ticks,
        s.utilization,
        s.throughput,
        s.dispatches,
        s.context_switches,
        s.avg_response.map_or("-".into(), |x| format!("{x:.6}")),
        s.avg_turnaround.map_or("-".into(), |x| format!("{x:.6}")),
        s.avg_waiting.map_or("-".into(), |x| format!("{x:.6}")),
    )
}
