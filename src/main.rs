//! The `procsim` command line. Everything it does is a call into the library; this file only
//! parses arguments, picks renderers and maps outcomes to exit codes.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use procsim::backend::{Backend, SimBackend};
use procsim::fork::{ForkBackend, ForkOptions};
use procsim::report::{render_summary, render_table, tree_dot};
use procsim::{Report, Scenario, ScenarioError, Sim, SimOptions, StateGraph};

/// Exit code when an expectation failed.
const EXIT_MISMATCH: u8 = 1;
/// Exit code for a bad scenario or bad usage.
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when a limit (max_ticks, max_steps, max_output, --timeout) stopped a run.
const EXIT_STOPPED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "procsim",
    version,
    about = "A process state-machine simulator: round-robin scheduling, fork/join, signals.",
    long_about = "A process state-machine simulator. With no command it runs a built-in demo.\n\nExit codes: 0 success; 1 an expectation failed; 2 bad scenario or usage; 3 a limit stopped the run."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its report.
    Run {
        /// The scenario file.
        file: PathBuf,
        /// Which backend runs it.
        #[arg(long, value_enum, default_value_t = BackendName::Sim)]
        backend: BackendName,
        /// How to print the report.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Also check the scenario's `expect` block (exit 1 if it fails).
        #[arg(long)]
        check: bool,
        /// Columns of the timeline in the table view.
        #[arg(long, default_value_t = 100)]
        width: usize,
        #[command(flatten)]
        real: RealArgs,
    },
    /// Run a scenario on both backends and check that they agree (exit 1 if they differ).
    Compare {
        /// The scenario file.
        file: PathBuf,
        /// How to print the comparison.
        #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
        format: CompareFormat,
        #[command(flatten)]
        real: RealArgs,
    },
    /// The fork backend's supervisor (started by procsim itself; not for people).
    #[command(name = "__supervise", hide = true)]
    Supervise,
    /// Run each scenario on the simulated backend and check its `expect` block.
    Check {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Parse and validate scenarios without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a graph as Graphviz DOT.
    Graph {
        #[command(subcommand)]
        what: GraphWhat,
    },
}

#[derive(Subcommand)]
enum GraphWhat {
    /// The state machine: states and the causes of transitions.
    States,
    /// The process tree a run of the scenario made.
    Tree {
        /// The scenario file.
        file: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendName {
    /// The simulated kernel.
    Sim,
    /// Real Linux processes (fork, waitpid, kill).
    Fork,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CompareFormat {
    /// Side by side, for people.
    Table,
    /// Both reports and the differences, as JSON.
    Json,
}

/// Settings of the fork backend.
#[derive(clap::Args, Clone)]
struct RealArgs {
    /// Fork backend: stop the run after this many seconds (SIGTERM, then SIGKILL).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Fork backend: microseconds a tick stands for, instead of the scenario's kernel.tick_us.
    #[arg(long, value_name = "US")]
    tick_us: Option<u64>,
    /// Fork backend: run the processes under SCHED_RR (root only) so the kernel does the
    /// round robin; the report gives the kernel's quantum.
    #[arg(long)]
    realtime: bool,
    /// Fork backend: do not use a PID namespace (use the subreaper fallback).
    #[arg(long, hide = true)]
    no_namespace: bool,
}

impl RealArgs {
    fn backend(&self) -> anyhow::Result<ForkBackend> {
        let exe = std::env::current_exe().context("cannot find the procsim executable")?;
        let mut options = ForkOptions::new(exe);
        options.tick_us = self.tick_us;
        options.timeout = match self.timeout {
            Some(s) if s.is_finite() && s > 0.0 => Some(std::time::Duration::from_secs_f64(s)),
            Some(s) => anyhow::bail!("--timeout must be a positive number of seconds, not {s}"),
            None => None,
        };
        options.realtime = self.realtime;
        options.no_namespace = self.no_namespace;
        options.forward_interrupts = true;
        Ok(ForkBackend { options })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The process table, the timeline, outputs and the summary.
    Table,
    /// The full report as JSON.
    Json,
    /// Only the summary.
    Summary,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Supervise) = cli.command {
        // Single-threaded by construction: nothing above has started a thread.
        std::process::exit(procsim::fork::supervisor::main());
    }
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(se) = e.downcast_ref::<ScenarioError>() {
                eprintln!("procsim: {se}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            if let Some(io) = e.downcast_ref::<io::Error>()
                && io.kind() == io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("procsim: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            let plan = procsim::load_str(procsim::demo::DEMO).context("the built-in demo")?;
            let report = SimBackend::default().simulate(plan);
            emit(&render_table(&report, 100))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run {
            file,
            backend,
            format,
            check,
            width,
            real,
        }) => run(&file, backend, format, check, width, &real),
        Some(Command::Compare { file, format, real }) => compare(&file, format, &real),
        Some(Command::Supervise) => Ok(ExitCode::from(EXIT_BAD_INPUT)),
        Some(Command::Check { files }) => check_files(&files),
        Some(Command::Validate { files }) => {
            for f in &files {
                procsim::load(f)?;
                emit(&format!("{}: ok\n", f.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Graph { what }) => match what {
            GraphWhat::States => {
                emit(&StateGraph::new().to_dot())?;
                Ok(ExitCode::SUCCESS)
            }
            GraphWhat::Tree { file } => {
                let (_, plan) = procsim::load(&file)?;
                let report = simulate(plan, true);
                emit(&tree_dot(&report))?;
                Ok(stopped_code(&report))
            }
        },
    }
}

fn simulate(plan: Arc<procsim::Plan>, trace: bool) -> Report {
    SimBackend {
        options: SimOptions { trace },
    }
    .simulate(plan)
}

fn run(
    file: &Path,
    backend: BackendName,
    format: Format,
    check: bool,
    width: usize,
    real: &RealArgs,
) -> anyhow::Result<ExitCode> {
    let (scenario, plan) = procsim::load(file)?;
    if format == Format::Summary && !check && backend == BackendName::Sim {
        // Neither a trace nor per-process reports are built: a million processes cost only
        // their control blocks.
        let mut sim = Sim::new(plan, SimOptions { trace: false });
        while sim.step() {}
        let summary = sim.summary();
        emit(&render_summary(
            &scenario.name,
            "sim",
            sim.process_count(),
            &summary,
            sim.error(),
        ))?;
        if let Some(e) = sim.error() {
            eprintln!("procsim: {}: {e}", file.display());
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = match backend {
        BackendName::Sim => simulate(plan, true),
        BackendName::Fork => real.backend()?.run(plan)?,
    };
    let text = match format {
        Format::Table => render_table(&report, width),
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Summary => render_summary(
            &report.scenario,
            &report.backend,
            report.processes.len(),
            &report.summary,
            report.error.as_deref(),
        ),
    };
    emit(&text)?;
    if let Some(e) = &report.error {
        eprintln!("procsim: {}: {e}", file.display());
        return Ok(stopped_or_interrupted());
    }
    if check && !report_expectations(file, &scenario, &report)? {
        return Ok(ExitCode::from(EXIT_MISMATCH));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs both backends and prints what must agree and what may differ.
fn compare(file: &Path, format: CompareFormat, real: &RealArgs) -> anyhow::Result<ExitCode> {
    let (_, plan) = procsim::load(file)?;
    let sim = simulate(Arc::clone(&plan), true);
    let fork = real.backend()?.run(plan)?;
    let c = procsim::compare::compare(&sim, &fork);
    match format {
        CompareFormat::Table => emit(&procsim::compare::render(&c, &sim, &fork))?,
        CompareFormat::Json => {
            let differences: Vec<serde_json::Value> = c
                .differences()
                .map(|r| serde_json::json!({"process": r.process, "field": r.field, "sim": r.sim, "fork": r.fork}))
                .collect();
            let all = serde_json::json!({"agree": c.agrees(), "differences": differences, "sim": sim, "fork": fork});
            emit(&(serde_json::to_string_pretty(&all)? + "\n"))?;
        }
    }
    if let Some(code) = interrupted_code() {
        return Ok(code);
    }
    Ok(if c.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISMATCH)
    })
}

/// 128 + the signal when SIGINT/SIGTERM interrupted a fork run, as shells report it.
fn interrupted_code() -> Option<ExitCode> {
    procsim::fork::interrupted_by().map(|s| ExitCode::from(128u8.saturating_add(s as u8)))
}

fn stopped_or_interrupted() -> ExitCode {
    interrupted_code().unwrap_or(ExitCode::from(EXIT_STOPPED))
}

/// Checks every file; a bad file is reported and the others still run.
fn check_files(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut worst = 0u8;
    for f in files {
        let (scenario, plan) = match procsim::load(f) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("procsim: {e}");
                worst = worst.max(EXIT_BAD_INPUT);
                continue;
            }
        };
        let report = simulate(plan, true);
        if let Some(e) = &report.error {
            eprintln!("procsim: {}: {e}", f.display());
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
fn report_expectations(file: &Path, scenario: &Scenario, report: &Report) -> anyhow::Result<bool> {
    let Some(expect) = &scenario.expect else {
        emit(&format!("{}: ok (no expect block)\n", file.display()))?;
        return Ok(true);
    };
    let misses = procsim::check::check(expect, report);
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
        text.push_str(&format!("  {m}\n"));
    }
    emit(&text)?;
    Ok(false)
}

fn stopped_code(report: &Report) -> ExitCode {
    match &report.error {
        Some(e) => {
            eprintln!("procsim: {e}");
            ExitCode::from(EXIT_STOPPED)
        }
        None => ExitCode::SUCCESS,
    }
}

/// Writes to stdout; a closed pipe (`procsim … | head`) ends quietly.
fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
