//! The `procsim` command line. Everything it does is a call into the library; this file only
//! parses arguments, picks renderers and maps outcomes to exit codes.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use indicatif::{ProgressBar, ProgressStyle};
use procsim::backend::{Backend, SimBackend};
use procsim::fork::{ForkBackend, ForkOptions};
use procsim::plot::PlotSpec;
use procsim::report::{
    SvgOptions, render_perfetto, render_summary, render_svg, render_table_styled, tree_dot,
};
use procsim::sweep::{Base, Setting, Sweep, parse_seeds, parse_shard};
use procsim::workload::GenParams;
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
    long_about = "A process state-machine simulator. With no command it runs a built-in demo.\n\nExit codes: 0 success; 1 an expectation failed; 2 bad scenario or usage; 3 a limit or --timeout stopped the run; 128+N a real run interrupted by signal N."
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
        /// Colour in the table view: auto (when stdout is a terminal and NO_COLOR is not set),
        /// always or never.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
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
    /// Print a graph as Graphviz DOT (or SVG, with Graphviz installed).
    Graph {
        #[command(subcommand)]
        what: GraphWhat,
    },
    /// Print the JSON Schema of scenario files, for editors to complete and check them.
    Schema,
    /// Generate a seeded random workload as a scenario file.
    ///
    /// Each process alternates CPU bursts and I/O. CPU-bound processes have long bursts (mean
    /// --cpu-mean) and short I/O (a fifth of --io-mean); I/O-bound ones short bursts (a fifth of
    /// --cpu-mean) and long I/O (mean --io-mean). Durations are geometric (discrete
    /// exponential). The same arguments give the same file on every machine.
    Gen {
        /// Seed of the random draws.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many processes.
        #[arg(long, default_value_t = 10)]
        processes: u32,
        /// Share of CPU-bound processes, from 0 to 1.
        #[arg(long, default_value_t = 0.5)]
        cpu_bound: f64,
        /// Mean CPU burst of a CPU-bound process, in ticks.
        #[arg(long, default_value_t = 10.0)]
        cpu_mean: f64,
        /// Mean I/O time of an I/O-bound process, in ticks.
        #[arg(long, default_value_t = 10.0)]
        io_mean: f64,
        /// Mean number of CPU bursts per process.
        #[arg(long, default_value_t = 4.0)]
        bursts: f64,
        /// Mean gap between arrivals, in ticks (0: all arrive at tick 0).
        #[arg(long, default_value_t = 2.0)]
        arrival_mean: f64,
        /// kernel.quantum of the scenario.
        #[arg(long)]
        quantum: Option<u64>,
        /// kernel.cpus of the scenario.
        #[arg(long)]
        cpus: Option<u32>,
        /// kernel.context_switch of the scenario.
        #[arg(long)]
        context_switch: Option<u64>,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Replace the output file if it exists (by default procsim refuses).
        #[arg(long)]
        force: bool,
    },
    /// Run a scenario over the cartesian product of settings, in parallel, one result a line.
    ///
    /// Example: procsim sweep FILE --set kernel.quantum=1,2,4,8,16 --set kernel.context_switch=0,1
    ///
    /// Run i of the product is fixed by i alone (the first --set varies slowest, the seed
    /// fastest), so --shard I/N can spread a sweep over machines (a Slurm array job:
    /// --shard $SLURM_ARRAY_TASK_ID/N with --array=1-N; a Kubernetes indexed Job:
    /// --shard $((JOB_COMPLETION_INDEX+1))/N) and the outputs of shards 1 … N, concatenated in
    /// order, are the whole sweep's output (CSV: only shard 1 writes the header).
    Sweep {
        /// The scenario file (or --gen).
        #[arg(required_unless_present = "generated", conflicts_with = "generated")]
        file: Option<PathBuf>,
        /// Sweep generated workloads instead of a file (`procsim gen`'s defaults, 10
        /// processes); vary them with --set gen.NAME=… (processes, cpu_bound, cpu_mean,
        /// io_mean, bursts, arrival_mean) and --seeds.
        #[arg(long = "gen")]
        generated: bool,
        /// PATH=V1,V2,… : a JSON path in the scenario and its values (A..B for a range of
        /// integers, both ends included). Repeat for more settings.
        #[arg(long = "set", value_name = "PATH=VALUES")]
        set: Vec<String>,
        /// Seeds: A..B (both included), or a list (1,5,9). They set the scenario's `seed`,
        /// or the generated workload's.
        #[arg(long)]
        seeds: Option<String>,
        /// Run only the I-th (from 1) of N contiguous slices of the product.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SweepFormat::Csv)]
        format: SweepFormat,
        /// Write results to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Also draw a summary metric against a setting, as SVG, to this file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
        /// Replace the output or plot file if it exists (by default procsim refuses).
        #[arg(long)]
        force: bool,
        /// The setting on the plot's x axis (default: the first --set with several values).
        #[arg(long)]
        plot_x: Option<String>,
        /// The metric on the plot's y axis.
        #[arg(long, default_value = "avg_waiting")]
        plot_y: String,
        /// The setting with one line per value (default: the next --set with several values).
        #[arg(long)]
        plot_series: Option<String>,
        /// Worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // https://no-color.org: a NO_COLOR that is set and not empty turns colour off.
            ColorChoice::Auto => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SweepFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object a line.
    Jsonl,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    /// Graphviz DOT text.
    Dot,
    /// SVG, drawn by Graphviz's `dot` (which must be installed).
    Svg,
}

#[derive(Subcommand)]
enum GraphWhat {
    /// The state machine: states and the causes of transitions.
    States {
        /// DOT, or SVG drawn by Graphviz.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// The process tree a run of the scenario made.
    Tree {
        /// The scenario file.
        file: PathBuf,
        /// DOT, or SVG drawn by Graphviz.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
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
    /// Fork backend: run the processes under the real-time counterpart of the scenario's
    /// policy (rr: SCHED_RR, fcfs and priority: SCHED_FIFO; needs CAP_SYS_NICE, i.e. root);
    /// without the privilege the run says so and uses the normal scheduler.
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
    /// Trace Event Format JSON for ui.perfetto.dev or chrome://tracing (1 tick shown as 1 µs).
    Perfetto,
    /// An SVG Gantt chart.
    Svg,
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
            emit(&render_table_styled(
                &report,
                100,
                ColorChoice::Auto.enabled(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Run {
            file,
            backend,
            format,
            check,
            width,
            color,
            real,
        }) => run(&file, backend, format, check, width, color.enabled(), &real),
        Some(Command::Compare { file, format, real }) => compare(&file, format, &real),
        Some(Command::Supervise) => Ok(ExitCode::from(EXIT_BAD_INPUT)),
        Some(Command::Check { files }) => check_files(&files),
        Some(Command::Validate { files }) => {
            for f in &files {
                load_scenario(f)?;
                emit(&format!("{}: ok\n", f.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Graph { what }) => match what {
            GraphWhat::States { format } => {
                emit(&graph_output(StateGraph::new().to_dot(), format)?)?;
                Ok(ExitCode::SUCCESS)
            }
            GraphWhat::Tree { file, format } => {
                let (_, plan) = load_scenario(&file)?;
                let report = simulate(plan, true);
                emit(&graph_output(tree_dot(&report), format)?)?;
                Ok(stopped_code(&report))
            }
        },
        Some(Command::Schema) => {
            emit(&(serde_json::to_string_pretty(&procsim::scenario::json_schema())? + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Gen {
            seed,
            processes,
            cpu_bound,
            cpu_mean,
            io_mean,
            bursts,
            arrival_mean,
            quantum,
            cpus,
            context_switch,
            output,
            force,
        }) => {
            let params = GenParams {
                seed,
                processes,
                cpu_bound,
                cpu_mean,
                io_mean,
                bursts,
                arrival_mean,
                quantum,
                cpus,
                context_switch,
            };
            let text = procsim::workload::generate(&params).context("procsim gen")?;
            match output {
                Some(path) => create_output(&path, force)?
                    .write_all(text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => emit(&text)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Sweep {
            file,
            generated: _,
            set,
            seeds,
            shard,
            format,
            output,
            plot,
            plot_x,
            plot_y,
            plot_series,
            jobs,
            force,
        }) => {
            // clap makes FILE and --gen exclusive and requires one of them.
            let base = match &file {
                Some(f) => Base::file(f)?,
                None => Base::Gen(GenParams::new(1, 10)),
            };
            let title = match (&base, &file) {
                (Base::File { doc, .. }, Some(f)) => doc
                    .get("name")
                    .and_then(|n| n.as_str())
                    .filter(|n| !n.is_empty())
                    .map_or_else(|| f.display().to_string(), str::to_owned),
                _ => "generated workloads".to_owned(),
            };
            let sweep = Sweep {
                base,
                settings: set
                    .iter()
                    .map(|s| Setting::parse(s))
                    .collect::<Result<_, _>>()?,
                seeds: seeds.as_deref().map(parse_seeds).transpose()?,
                shard: shard.as_deref().map(parse_shard).transpose()?,
            };
            let plot = plot.map(|path| {
                // By default, the first setting that varies is x and the next one makes lines.
                let mut varying = sweep
                    .settings
                    .iter()
                    .filter(|s| s.values.len() > 1)
                    .map(|s| s.path.clone())
                    .filter(|p| Some(p) != plot_x.as_ref());
                let x = plot_x
                    .clone()
                    .or_else(|| varying.next())
                    .unwrap_or_else(|| sweep.columns().first().cloned().unwrap_or_default());
                let series = plot_series.or_else(|| varying.find(|p| *p != x));
                let spec = PlotSpec {
                    x,
                    y: plot_y,
                    series,
                    title,
                };
                (path, spec)
            });
            run_sweep(&sweep, format, output.as_deref(), plot, jobs, force)
        }
    }
}

/// DOT as it is, or drawn as SVG by Graphviz.
fn graph_output(dot: String, format: GraphFormat) -> anyhow::Result<String> {
    Ok(match format {
        GraphFormat::Dot => dot,
        GraphFormat::Svg => procsim::graphviz::dot_to_svg(&dot)?,
    })
}

/// Runs a sweep: checks every run's scenario first, then runs in parallel chunks, writing each
/// chunk's rows in product order as soon as the chunk is done.
fn run_sweep(
    sweep: &Sweep,
    format: SweepFormat,
    output: Option<&Path>,
    plot: Option<(PathBuf, PlotSpec)>,
    jobs: Option<usize>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(n) = jobs {
        anyhow::ensure!(n >= 1, "--jobs must be at least 1");
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("--jobs")?;
    }
    if let Some((_, spec)) = &plot {
        // Fail on a bad plot request before the runs, not after.
        let columns = sweep.columns();
        for c in std::iter::once(&spec.x).chain(spec.series.as_ref()) {
            anyhow::ensure!(
                columns.contains(c),
                "--plot: `{c}` is not one of the sweep's settings ({})",
                columns.join(", ")
            );
        }
        anyhow::ensure!(
            procsim::sweep::METRICS.contains(&spec.y.as_str()) || spec.y == "processes",
            "--plot-y: `{}` is not a metric (known: {})",
            spec.y,
            procsim::sweep::METRICS.join(", ")
        );
    }
    sweep.validate()?;
    let range = sweep.range();
    // Both files are claimed before the runs, so a long sweep cannot end by refusing to write.
    let mut plot_file = match &plot {
        Some((path, _)) => Some((path.clone(), create_output(path, force)?)),
        None => None,
    };
    let mut sink: Box<dyn Write> = match output {
        Some(path) => Box::new(io::BufWriter::new(create_output(path, force)?)),
        None => Box::new(io::stdout().lock()),
    };
    let first_shard = sweep.shard.is_none_or(|(i, _)| i == 1);
    if format == SweepFormat::Csv && first_shard {
        sink.write_all(sweep.csv_header().as_bytes())?;
    }
    let bar = if io::stderr().is_terminal() {
        let bar = ProgressBar::new(range.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} runs ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let chunk = (rayon::current_num_threads() * 16).max(64);
    let mut kept = Vec::new();
    let mut stopped = false;
    let mut start = range.start;
    while start < range.end {
        let end = (start + chunk).min(range.end);
        let results = sweep.run(start..end, &|| bar.inc(1))?;
        for r in &results {
            let line = match format {
                SweepFormat::Csv => sweep.csv_row(r),
                SweepFormat::Jsonl => sweep.json_row(r),
            };
            sink.write_all(line.as_bytes())?;
            stopped |= r.error.is_some();
        }
        sink.flush()?;
        if plot.is_some() {
            kept.extend(results);
        }
        start = end;
    }
    bar.finish_and_clear();
    if let (Some((_, spec)), Some((path, file))) = (plot, plot_file.as_mut()) {
        let svg = procsim::plot::render_plot(&sweep.columns(), &kept, &spec)?;
        file.write_all(svg.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if stopped {
        eprintln!("procsim: a limit stopped some runs; see the error column");
        return Ok(ExitCode::from(EXIT_STOPPED));
    }
    Ok(ExitCode::SUCCESS)
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
    color: bool,
    real: &RealArgs,
) -> anyhow::Result<ExitCode> {
    let (scenario, plan) = load_scenario(file)?;
    if format == Format::Summary && !check && backend == BackendName::Sim {
        // Neither a trace nor per-process reports are built: a million processes cost only
        // their control blocks.
        let mut sim = Sim::new(plan, SimOptions { trace: false });
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
            eprintln!("procsim: {}: {e}", file.display());
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    if format == Format::Json && !check && backend == BackendName::Sim {
        // Streamed while it runs: a huge run's trace is never held in memory.
        let sim = Sim::new(plan, SimOptions { trace: true });
        let stopped = sim.run_to_json(io::BufWriter::new(io::stdout()))?;
        if let Some(e) = stopped {
            eprintln!("procsim: {}: {e}", file.display());
            return Ok(ExitCode::from(EXIT_STOPPED));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = match backend {
        BackendName::Sim => simulate(plan, true),
        BackendName::Fork => real.backend()?.run(plan)?,
    };
    warn_unprivileged(&report);
    let text = match format {
        Format::Table => render_table_styled(&report, width, color),
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
        Format::Perfetto => render_perfetto(&report, scenario.kernel.context_switch),
        Format::Svg => render_svg(
            &report,
            &SvgOptions {
                context_switch: scenario.kernel.context_switch,
                ..SvgOptions::default()
            },
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
    let (_, plan) = load_scenario(file)?;
    let sim = simulate(Arc::clone(&plan), true);
    let fork = real.backend()?.run(plan)?;
    warn_unprivileged(&fork);
    let c = procsim::compare::compare(&sim, &fork);
    match format {
        CompareFormat::Table => emit(&procsim::compare::render(&c, &sim, &fork))?,
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
    Ok(if c.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISMATCH)
    })
}

/// `--realtime` that could not be honoured is said on stderr too, whatever the format.
fn warn_unprivileged(report: &procsim::Report) {
    if let Some(real) = &report.real
        && real.policy.unprivileged
    {
        eprintln!(
            "procsim: warning: --realtime: ran under the normal scheduler, not {}: {}",
            real.policy
                .counterpart
                .as_deref()
                .unwrap_or("a real-time policy"),
            real.policy.fallback.as_deref().unwrap_or("no privilege")
        );
    }
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
        let (scenario, plan) = match load_scenario(f) {
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

/// Opens `path` for writing. A file that exists is the user's: it is replaced only with
/// `--force`.
fn create_output(path: &Path, force: bool) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options.open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists; pass --force to replace it", path.display())
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        }
    })
}

/// Writes to stdout; a closed pipe (`procsim … | head`) ends quietly.
fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Loads a scenario and prints its warnings (what is legal but has no effect) to standard
/// error, each naming the file and the place.
fn load_scenario(
    file: &std::path::Path,
) -> Result<(procsim::Scenario, std::sync::Arc<procsim::Plan>), procsim::ScenarioError> {
    let (scenario, plan) = procsim::load(file)?;
    for (path, message) in scenario.warnings() {
        eprintln!("procsim: warning: {}: {path}: {message}", file.display());
    }
    Ok((scenario, plan))
}
