//! The command line's grammar: every command, flag and choice `procsim` accepts (clap).

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use procsim::fork::{ForkBackend, ForkOptions};

#[derive(Parser)]
#[command(
    name = "procsim",
    version,
    about = "A process state-machine simulator: round-robin scheduling, fork/join, signals.",
    long_about = "A process state-machine simulator. With no command it runs a built-in demo.\n\nExit codes: 0 success; 1 an expectation failed; 2 bad scenario or usage; 3 a limit, a fence or --timeout stopped the run; 4 the fork backend's supervisor died (a partial report is printed); 128+N a real run interrupted by signal N."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a scenario and print its report.
    Run {
        /// The scenario file (`-`: standard input).
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
        /// Instead of the table, every decision of the simulated kernel in time order, with the
        /// rule that made it (who became ready and where it joined the queue, which CPU took
        /// whom and why, slice ends, preemptions, context switches, blocks, wake-ups, reaping).
        #[arg(long)]
        explain: bool,
        /// Columns of the timeline in the table view (1 to 10,000).
        #[arg(long, default_value_t = 100, value_parser = parse_width)]
        width: usize,
        /// The most transitions a report held whole in memory may have (--check, --format
        /// html): 10,000,000, and 250,000 for html, whatever the scenario's kernel.max_trace
        /// says. A scenario cannot raise it; this flag can, knowingly.
        #[arg(long, value_name = "N")]
        trace_ceiling: Option<u64>,
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
    Sweep(SweepArgs),
    /// The task manager's view of a run: every process's state, CPU time and CPU, tick by
    /// tick (space plays, arrows step, +/- speed, q quits; --at T prints one moment).
    Top(super::teach::TopArgs),
    /// A seeded scheduling exercise: the workload and the questions (--solve: the answer).
    Quiz(super::teach::QuizArgs),
    /// Check an answer to an exercise; explains the first wrong figure (exit 1 if any).
    Grade(super::teach::GradeArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    pub(crate) fn enabled(self) -> bool {
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
pub(crate) enum SweepFormat {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object a line.
    Jsonl,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GraphFormat {
    /// Graphviz DOT text.
    Dot,
    /// SVG, drawn by Graphviz's `dot` (which must be installed).
    Svg,
}

#[derive(Subcommand)]
pub(crate) enum GraphWhat {
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
pub(crate) enum BackendName {
    /// The simulated kernel.
    Sim,
    /// Real Linux processes (fork, waitpid, kill).
    Fork,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompareFormat {
    /// Side by side, for people.
    Table,
    /// Both reports and the differences, as JSON.
    Json,
}

/// Settings of the fork backend.
#[derive(clap::Args, Clone)]
pub(crate) struct RealArgs {
    /// Fork backend: stop the run after this many seconds (SIGTERM, then SIGKILL); default
    /// the scenario's kernel.real_timeout_s, else 60.
    #[arg(long, value_name = "SECONDS")]
    pub(crate) timeout: Option<f64>,
    /// Fork backend: microseconds a tick stands for, instead of the scenario's kernel.tick_us.
    #[arg(long, value_name = "US")]
    pub(crate) tick_us: Option<u64>,
    /// Fork backend: run the processes under the real-time counterpart of the scenario's
    /// policy (rr: SCHED_RR, fcfs and priority: SCHED_FIFO; needs CAP_SYS_NICE, i.e. root);
    /// without the privilege the run says so and uses the normal scheduler.
    #[arg(long)]
    pub(crate) realtime: bool,
    /// Fork backend: do not use a PID namespace (use the subreaper fallback).
    #[arg(long, hide = true)]
    pub(crate) no_namespace: bool,
    /// Fork backend: real processes alive at once, at most, knowingly past the default fence
    /// (half the host's free pids); never more than the scenario's kernel.max_processes.
    #[arg(long, value_name = "N")]
    pub(crate) max_real_processes: Option<u32>,
    /// Fork backend: the address-space limit (RLIMIT_AS) of each process, in MiB (default
    /// 1024; at least 32).
    #[arg(long, value_name = "MIB")]
    pub(crate) memory: Option<u64>,
    /// Fork backend: the memory limit of the whole run's cgroup, in MiB (default half the
    /// memory available when the run starts).
    #[arg(long, value_name = "MIB")]
    pub(crate) run_memory: Option<u64>,
}

/// The longest `--timeout`: a year is past any run anyone waits for, and far from where
/// adding it to a clock could overflow.
const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

impl RealArgs {
    pub(crate) fn backend(&self) -> anyhow::Result<ForkBackend> {
        let exe = std::env::current_exe().context("cannot find the procsim executable")?;
        let mut options = ForkOptions::new(exe);
        options.tick_us = self.tick_us;
        options.timeout = match self.timeout {
            // try_: a finite number can still be past what a Duration holds (1e20 s).
            Some(s) if s > 0.0 => match std::time::Duration::try_from_secs_f64(s) {
                Ok(d) if d <= MAX_TIMEOUT => Some(d),
                _ => anyhow::bail!(
                    "--timeout must be at most {} seconds (a year), not {s}",
                    MAX_TIMEOUT.as_secs()
                ),
            },
            Some(s) => anyhow::bail!("--timeout must be a positive number of seconds, not {s}"),
            None => None,
        };
        options.realtime = self.realtime;
        options.no_namespace = self.no_namespace;
        options.forward_interrupts = true;
        if self.max_real_processes == Some(0) {
            anyhow::bail!("--max-real-processes must be at least 1");
        }
        options.max_processes = self.max_real_processes;
        let mib = |flag: &str, v: Option<u64>, min: u64| -> anyhow::Result<Option<u64>> {
            match v {
                Some(m) if m >= min && m <= 1 << 30 => Ok(Some(m << 20)),
                Some(m) => {
                    anyhow::bail!("{flag} must be from {min} to {} MiB, not {m}", 1u64 << 30)
                }
                None => Ok(None),
            }
        };
        options.memory_per_process = mib(
            "--memory",
            self.memory,
            procsim::fork::fence::MIN_MEMORY_PER_PROCESS >> 20,
        )?;
        options.run_memory = mib("--run-memory", self.run_memory, 1)?;
        options.notices = Some(super::out::fork_notices());
        Ok(ForkBackend { options })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
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
    /// One self-contained HTML page: the Gantt chart, a time slider, and the process table
    /// and state counts at the chosen moment.
    Html,
}

/// The arguments of `procsim sweep` (documented on [`Command::Sweep`]).
#[derive(clap::Args)]
pub(crate) struct SweepArgs {
    /// The scenario file (or --gen).
    #[arg(required_unless_present = "generated", conflicts_with = "generated")]
    pub(crate) file: Option<PathBuf>,
    /// Sweep generated workloads instead of a file (`procsim gen`'s defaults, 10
    /// processes); vary them with --set gen.NAME=… (processes, cpu_bound, cpu_mean,
    /// io_mean, bursts, arrival_mean) and --seeds.
    #[arg(long = "gen")]
    pub(crate) generated: bool,
    /// PATH=V1,V2,… : a JSON path in the scenario and its values (A..B for a range of
    /// integers, both ends included). Repeat for more settings.
    #[arg(long = "set", value_name = "PATH=VALUES")]
    pub(crate) set: Vec<String>,
    /// Seeds: A..B (both included), or a list (1,5,9). They set the scenario's `seed`,
    /// or the generated workload's.
    #[arg(long)]
    pub(crate) seeds: Option<String>,
    /// Run only the I-th (from 1) of N contiguous slices of the product.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SweepFormat::Csv)]
    pub(crate) format: SweepFormat,
    /// Write results to this file instead of stdout.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Also draw a summary metric against a setting, as SVG, to this file.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) plot: Option<PathBuf>,
    /// Replace the output or plot file if it exists (by default procsim refuses).
    #[arg(long)]
    pub(crate) force: bool,
    /// The setting on the plot's x axis (default: the first --set with several values).
    #[arg(long)]
    pub(crate) plot_x: Option<String>,
    /// The metric on the plot's y axis.
    #[arg(long, default_value = "avg_waiting")]
    pub(crate) plot_y: String,
    /// The setting with one line per value (default: the next --set with several values).
    #[arg(long)]
    pub(crate) plot_series: Option<String>,
    /// Worker threads (default: one per core; at most 256).
    #[arg(long, value_parser = parse_jobs)]
    pub(crate) jobs: Option<usize>,
}

/// The most columns `--width` gives the timeline: wider than any screen, and the rows it
/// allocates (40 of them) stay small.
pub(crate) const MAX_WIDTH: usize = 10_000;

fn parse_width(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("expected a whole number of columns, not `{s}`"))?;
    if (1..=MAX_WIDTH).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be from 1 to {MAX_WIDTH} columns"))
    }
}

/// The most worker threads `sweep --jobs` starts: far more than any machine's cores, far fewer
/// than the threads a kernel allows a user.
pub(crate) const MAX_JOBS: usize = 256;

fn parse_jobs(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("expected a whole number of threads, not `{s}`"))?;
    if (1..=MAX_JOBS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be from 1 to {MAX_JOBS} threads"))
    }
}
