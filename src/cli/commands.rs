//! The commands that run one scenario: `run`, `compare`, `check`, `graph`.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use procsim::backend::SimBackend;
use procsim::report::{SvgOptions, render_summary, render_svg, render_table_switches};
use procsim::{Report, Scenario, Sim, SimOptions};

use super::args::{BackendName, CompareFormat, Format, GraphFormat, RealArgs};
use super::out::*;
use procsim::report::text::escape;

/// DOT as it is, or drawn as SVG by Graphviz.
pub(crate) fn graph_output(dot: String, format: GraphFormat) -> anyhow::Result<String> {
    Ok(match format {
        GraphFormat::Dot => dot,
        GraphFormat::Svg => procsim::report::graphviz::dot_to_svg(&dot)?,
    })
}

pub(crate) fn simulate(plan: Arc<procsim::Plan>, trace: bool) -> Report {
    simulate_held(plan, trace, None)
}

/// [`simulate`], with the most transitions the report may hold when not the default.
fn simulate_held(
    plan: Arc<procsim::Plan>,
    trace: bool,
    held_ceiling: Option<(u64, &'static str)>,
) -> Report {
    SimBackend {
        options: SimOptions { trace },
        held_ceiling,
    }
    .simulate(plan)
}

/// What `run` does besides printing the report: check the `expect` block, or explain; and
/// `--trace-ceiling`, the most transitions a report held whole may have.
pub(crate) struct RunChecks {
    pub(crate) check: bool,
    pub(crate) explain: bool,
    pub(crate) trace_ceiling: Option<u64>,
}

pub(crate) fn run(
    file: &Path,
    backend: BackendName,
    format: Format,
    RunChecks {
        check,
        explain,
        trace_ceiling,
    }: RunChecks,
    width: usize,
    color: bool,
    real: &RealArgs,
) -> anyhow::Result<ExitCode> {
    if explain && (backend != BackendName::Sim || format != Format::Table || check) {
        anyhow::bail!(
            "--explain tells the simulated kernel's decisions: it takes neither --backend fork, --format nor --check"
        );
    }
    let (scenario, plan) = load_scenario(file)?;
    if explain {
        // Written as the run goes: memory stays the kernel's, whatever the run's length.
        let out = Box::new(io::BufWriter::new(stdout()?));
        let stopped = Sim::new(plan, SimOptions { trace: true }).run_explained_to(out)?;
        if let Some(e) = stopped {
            say(format_args!("{}: {e}", file.display()));
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Summary && !check && backend == BackendName::Sim {
        // Neither a trace nor per-process reports are built: a million processes cost only
        // their control blocks.
        let mut sim = Sim::new(plan, SimOptions { trace: false });
        // Only live processes and what handles still see are kept (recycle.rs).
        sim.recycle_reaped();
        while sim.advance() {}
        let summary = sim.summary();
        emit(&render_summary(
            &scenario.name,
            "sim",
            sim.process_count(),
            &summary,
            sim.error(),
        ))?;
        if let Some(e) = sim.error() {
            say(format_args!("{}: {e}", file.display()));
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Json && !check && backend == BackendName::Sim {
        // Streamed while it runs: a huge run's trace is never held in memory.
        let sim = Sim::new(plan, SimOptions { trace: true });
        let stopped = sim.run_to_json(io::BufWriter::new(stdout()?))?;
        if let Some(e) = stopped {
            say(format_args!("{}: {e}", file.display()));
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Table && !check && backend == BackendName::Sim {
        // From the transitions as they happen: the trace is never held.
        let (text, stopped) =
            procsim::report::stream_table(plan, width, color, scenario.kernel.context_switch);
        emit(&text)?;
        if let Some(e) = stopped {
            say(format_args!("{}: {e}", file.display()));
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Svg && !check && backend == BackendName::Sim {
        // Drawn from the transitions as they happen: the trace is never held.
        let opts = SvgOptions {
            context_switch: scenario.kernel.context_switch,
            thread_switch: scenario.kernel.thread_switch,
            ..SvgOptions::default()
        };
        let (svg, stopped) = procsim::report::stream_svg(plan, &opts);
        emit(&svg)?;
        if let Some(e) = stopped {
            say(format_args!("{}: {e}", file.display()));
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Perfetto && !check && backend == BackendName::Sim {
        // Written as it runs, in bounded memory, whatever the run's size.
        let sim = Sim::new(plan, SimOptions { trace: true });
        let mut out = io::BufWriter::new(stdout()?);
        let stopped = procsim::report::stream_perfetto_switches(
            sim,
            (
                scenario.kernel.context_switch,
                scenario.kernel.thread_switch,
            ),
            &mut out,
        )?;
        if let Some(e) = stopped {
            say(format_args!("{}: {e}", file.display()));
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The report is held whole from here: a scenario's max_trace cannot take it past the
    // ceiling (html's own, lower, as its page is built whole too), only the flag can.
    let held = match (trace_ceiling, format) {
        (Some(n), _) => Some((n, "--trace-ceiling")),
        (None, Format::Html) => Some((
            procsim::report::HTML_TRACE_CEILING,
            "the ceiling of --format html",
        )),
        (None, _) => None,
    };
    let (report, supervisor_died) = match backend {
        BackendName::Sim => (simulate_held(plan, true, held), false),
        BackendName::Fork => run_fork(real, plan)?,
    };
    warn_unprivileged(&report);
    let text = match format {
        Format::Table => {
            // A real run's switches are the real kernel's, not the scenario's.
            let switches = match backend {
                BackendName::Sim => (
                    scenario.kernel.context_switch,
                    scenario.kernel.thread_switch,
                ),
                BackendName::Fork => (0, 0),
            };
            render_table_switches(&report, width, color, switches)
        }
        Format::Json => {
            let mut bytes = Vec::new();
            procsim::report::json::write(&report, &mut bytes)?;
            String::from_utf8(bytes)?
        }
        Format::Summary => render_summary(
            &report.scenario,
            &report.backend,
            report.processes.len(),
            &report.summary,
            report.error.as_deref(),
        ),
        Format::Perfetto => {
            // A real run's thread switches are the real kernel's.
            let thread_switch = match backend {
                BackendName::Sim => scenario.kernel.thread_switch,
                BackendName::Fork => 0,
            };
            procsim::report::render_perfetto_switches(
                &report,
                (scenario.kernel.context_switch, thread_switch),
            )
        }
        Format::Svg | Format::Html => {
            // A real run's thread switches are the real kernel's.
            let opts = SvgOptions {
                context_switch: scenario.kernel.context_switch,
                thread_switch: match backend {
                    BackendName::Sim => scenario.kernel.thread_switch,
                    BackendName::Fork => 0,
                },
                ..SvgOptions::default()
            };
            if format == Format::Svg {
                render_svg(&report, &opts)
            } else {
                procsim::report::render_html(&report, &opts)
            }
        }
    };
    emit(&text)?;
    if supervisor_died {
        say(format_args!(
            "{}: {}",
            file.display(),
            report.error.as_deref().unwrap_or_default()
        ));
        return Ok(ExitCode::from(EXIT_SUPERVISOR_DIED));
    }
    if let Some(e) = &report.error {
        say(format_args!("{}: {e}", file.display()));
        return Ok(stopped_or_interrupted());
    }
    if check && !report_expectations(file, &scenario, &report)? {
        return Ok(ExitCode::from(EXIT_MISMATCH));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs both backends and prints what must agree and what may differ.
pub(crate) fn compare(
    file: &Path,
    format: CompareFormat,
    real: &RealArgs,
) -> anyhow::Result<ExitCode> {
    let (_, plan) = load_scenario(file)?;
    let sim = simulate(Arc::clone(&plan), true);
    let (fork, supervisor_died) = run_fork(real, Arc::clone(&plan))?;
    warn_unprivileged(&fork);
    let c = procsim::study::compare::compare_plan(&plan, &sim, &fork);
    match format {
        CompareFormat::Table => emit(&procsim::report::compare::render(&c, &sim, &fork))?,
        CompareFormat::Json => {
            let differences: Vec<serde_json::Value> = c
                .differences()
                .map(|r| serde_json::json!({"process": r.process, "field": r.field, "sim": r.sim, "fork": r.fork}))
                .collect();
            let shares: Vec<serde_json::Value> = c
                .shares
                .iter()
                .map(|s| serde_json::json!({"process": s.process, "sim": s.sim, "fork": s.fork}))
                .collect();
            let all = serde_json::json!({"agree": c.agrees(), "differences": differences, "cpu_shares": shares, "sim": sim, "fork": fork});
            emit(&(serde_json::to_string_pretty(&all)? + "\n"))?;
        }
    }
    if let Some(code) = interrupted_code() {
        return Ok(code);
    }
    if supervisor_died {
        say(format_args!(
            "{}: {}",
            file.display(),
            fork.error.as_deref().unwrap_or_default()
        ));
        return Ok(ExitCode::from(EXIT_SUPERVISOR_DIED));
    }
    // A run a limit, a fence or the timeout stopped is a stopped run (exit 3), as for `run`,
    // whether or not the partial reports agree.
    let stops = [("sim", &sim.error), ("fork", &fork.error)];
    if stops.iter().any(|(_, e)| e.is_some()) {
        for (backend, e) in stops {
            if let Some(e) = e {
                say(format_args!("{}: {backend} backend: {e}", file.display()));
            }
        }
        return Ok(ExitCode::from(EXIT_STOPPED));
    }
    Ok(if c.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISMATCH)
    })
}

/// `--realtime` that could not be honoured is said on stderr too, whatever the format.
pub(crate) fn warn_unprivileged(report: &procsim::Report) {
    if let Some(real) = &report.real
        && real.policy.unprivileged
    {
        say(format_args!(
            "warning: --realtime: ran under the normal scheduler, not {}: {}",
            real.policy
                .counterpart
                .as_deref()
                .unwrap_or("a real-time policy"),
            real.policy.fallback.as_deref().unwrap_or("no privilege")
        ));
    }
}

/// Checks every file; a bad file is reported and the others still run.
pub(crate) fn check_files(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut worst = 0u8;
    for f in files {
        let (scenario, plan) = match load_scenario(f) {
            Ok(x) => x,
            Err(e) => {
                say(format_args!("{e}"));
                worst = worst.max(EXIT_BAD_INPUT);
                continue;
            }
        };
        let report = simulate(plan, true);
        if let Some(e) = &report.error {
            say(format_args!("{}: {e}", f.display()));
            worst = worst.max(EXIT_STOPPED);
            continue;
        }
        if !report_expectations(f, &scenario, &report)? {
            worst = worst.max(EXIT_MISMATCH);
        }
    }
    Ok(ExitCode::from(worst))
}

/// Prints `FILE: ok` or the mismatches; true when all expectations hold.
pub(crate) fn report_expectations(
    file: &Path,
    scenario: &Scenario,
    report: &Report,
) -> anyhow::Result<bool> {
    let Some(expect) = &scenario.expect else {
        emit(&format!("{}: ok (no expect block)\n", file.display()))?;
        return Ok(true);
    };
    let misses = procsim::study::check::check(expect, report);
    if misses.is_empty() {
        emit(&format!("{}: ok\n", file.display()))?;
        return Ok(true);
    }
    let mut text = format!(
        "{}: {} expectation(s) failed\n",
        file.display(),
        misses.len()
    );
    for m in misses {
        text.push_str(&format!("  {}\n", escape(&m.to_string())));
    }
    emit(&text)?;
    Ok(false)
}
