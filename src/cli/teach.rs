//! The teaching commands: `top` (the task manager's view of a run), `quiz` and `grade`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use procsim::Report;
use procsim::backend::Backend;
use procsim::report::{Spans, render_top, run_end, snapshot_at, unit_name};
use procsim::study::grade::GradeError;
use procsim::study::quiz::{self, QuizParams};

use super::args::{BackendName, RealArgs};
use super::commands::{simulate, warn_unprivileged};
use super::out::*;

/// The arguments of `procsim top`.
#[derive(clap::Args)]
pub(crate) struct TopArgs {
    /// A scenario file (run first on --backend), or a JSON report (`procsim run FILE --format
    /// json`, either backend) to replay.
    pub(crate) file: PathBuf,
    /// Which backend runs a scenario file (a report file says which backend made it).
    #[arg(long, value_enum, default_value_t = BackendName::Sim)]
    pub(crate) backend: BackendName,
    /// Print the view at this moment (a tick; µs for a real run) as text and exit.
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub(crate) at: Option<String>,
    /// Columns of the text view's one-line timeline (with --at).
    #[arg(long, default_value_t = 80)]
    pub(crate) width: usize,
    #[command(flatten)]
    pub(crate) real: RealArgs,
}

/// The report to show: a report file as it is, or a scenario run on `backend`.
pub(crate) fn report_of(
    file: &Path,
    backend: BackendName,
    real: &RealArgs,
) -> anyhow::Result<Report> {
    if let Some(report) = procsim::report::read_report(file)? {
        if let Some(e) = &report.error {
            say(format_args!(
                "{}: the run this report shows did not finish: {e} (showing the partial run)",
                file.display()
            ));
        }
        return Ok(report);
    }
    let (_, plan) = load_scenario(file)?;
    let report = match backend {
        BackendName::Sim => simulate(plan, true),
        BackendName::Fork => real.backend()?.run(plan)?,
    };
    warn_unprivileged(&report);
    if let Some(e) = &report.error {
        say(format_args!(
            "{}: {e} (showing the partial run)",
            file.display()
        ));
    }
    Ok(report)
}

/// Parses `--at`: a whole number from 0 to the run's end.
fn parse_at(text: &str, report: &Report) -> anyhow::Result<u64> {
    let end = run_end(report);
    let unit = unit_name(report);
    let t: i128 = text.trim().parse().map_err(|_| {
        anyhow::anyhow!("--at {text}: expected a whole number of {unit}s from 0 to {end}")
    })?;
    if t < 0 {
        bail!("--at {t}: a moment cannot be negative (the run goes from {unit} 0 to {end})");
    }
    if t > i128::from(end) {
        bail!("--at {t}: the run ends at {unit} {end}");
    }
    Ok(t as u64)
}

pub(crate) fn top(args: TopArgs) -> anyhow::Result<ExitCode> {
    let report = report_of(&args.file, args.backend, &args.real)?;
    let spans = Spans::new(&report, 0);
    match &args.at {
        Some(at) => {
            let t = parse_at(at, &report)?;
            let snap = snapshot_at(&report, t)?;
            emit(&render_top(&report, &spans, &snap, args.width))?;
            Ok(finished_code(&report))
        }
        // Stopped by a signal: 128 + N, as shells report it.
        None => Ok(match super::top_tui::run(&report, &spans)? {
            Some(sig) => ExitCode::from(128u8.saturating_add(sig as u8)),
            None => finished_code(&report),
        }),
    }
}

/// 3 when the run shown did not finish (a limit, a fence or the timeout stopped it), as
/// `procsim run` exits for the same run, so a script can tell a partial run from a whole one;
/// else 0. (The view itself says why the run stopped, on its second line.)
fn finished_code(report: &Report) -> ExitCode {
    match report.error {
        Some(_) => ExitCode::from(EXIT_STOPPED),
        None => ExitCode::SUCCESS,
    }
}

/// The arguments of `procsim quiz`.
#[derive(clap::Args)]
pub(crate) struct QuizArgs {
    /// Seed of the workload (the same seed, the same exercise).
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// The scheduling policy (rr, fcfs, sjf, srtf, priority, hrrn, mlfq, lottery, stride, cfs,
    /// eevdf).
    #[arg(long, default_value = "rr")]
    pub(crate) policy: String,
    /// How many processes (1 to 10).
    #[arg(long, default_value_t = 3)]
    pub(crate) processes: u32,
    /// Processes do I/O between CPU bursts (else each is one CPU burst).
    #[arg(long)]
    pub(crate) io: bool,
    /// How many CPUs (1 to 4).
    #[arg(long, default_value_t = 1)]
    pub(crate) cpus: u32,
    /// Print the answer instead of the question.
    #[arg(long)]
    pub(crate) solve: bool,
    /// How to print the answer (with --solve).
    #[arg(long, value_enum, default_value_t = AnswerFormat::Text)]
    pub(crate) format: AnswerFormat,
    /// Also write the exercise as a scenario file (for `procsim grade`).
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Replace the output file if it exists (by default procsim refuses).
    #[arg(long)]
    pub(crate) force: bool,
}

/// How `quiz --solve` prints the answer.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AnswerFormat {
    /// A table and the schedule, for people.
    Text,
    /// `{"processes": {NAME: {"ended_at", "waiting", "turnaround", "response"}}}`.
    Json,
}

/// The arguments of `procsim grade`.
#[derive(clap::Args)]
pub(crate) struct GradeArgs {
    /// The exercise (a scenario file, e.g. written by `procsim quiz -o`).
    pub(crate) exercise: PathBuf,
    /// The answer: {"processes": {NAME: {"ended_at", "waiting", "turnaround", "response"}}},
    /// any of the fields.
    pub(crate) answer: PathBuf,
}

pub(crate) fn quiz(args: QuizArgs) -> anyhow::Result<ExitCode> {
    let params = QuizParams {
        seed: args.seed,
        policy: args.policy,
        processes: args.processes,
        io: args.io,
        cpus: args.cpus,
    };
    let text = quiz::exercise(&params)?;
    if let Some(path) = &args.output {
        // The question or the answer goes to standard output: it must not be the same file.
        create_outputs(&[("-o", path)], true, args.force)?
            .remove(0)
            .write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !args.solve {
        emit(&quiz::question(&params, &text))?;
        return Ok(ExitCode::SUCCESS);
    }
    let plan = procsim::load_str(&text).context("the exercise")?;
    let report = simulate(plan, true);
    match args.format {
        AnswerFormat::Text => emit(&quiz::render_answer(&report))?,
        AnswerFormat::Json => emit(&(serde_json::to_string_pretty(&quiz::solve(&report))? + "\n"))?,
    }
    Ok(stopped_code(&report))
}

pub(crate) fn grade(args: GradeArgs) -> anyhow::Result<ExitCode> {
    let (scenario, plan) = load_scenario(&args.exercise)?;
    let answer = std::fs::read_to_string(&args.answer)
        .with_context(|| format!("cannot read {}", args.answer.display()))?;
    let report = simulate(plan, true);
    if let Some(e) = &report.error {
        bail!(
            "{}: the exercise's run stopped: {e}",
            args.exercise.display()
        );
    }
    let g = procsim::study::grade::grade(&report, &answer).map_err(|e| match e {
        // FILE:LINE:COLUMN for a syntax error, FILE: PATH for a bad shape.
        GradeError::Syntax { .. } => anyhow::anyhow!("{}:{e}", args.answer.display()),
        GradeError::Shape { .. } => anyhow::anyhow!("{}: {e}", args.answer.display()),
    })?;
    let spans = Spans::new(&report, scenario.kernel.context_switch);
    emit(&procsim::study::grade::render_grade(&report, &spans, &g))?;
    Ok(if g.first_wrong().is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISMATCH)
    })
}
