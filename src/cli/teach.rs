//! The teaching commands: `top` (the task manager's view of a run), `quiz` and `grade`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use procsim::Report;
use procsim::backend::Backend;
use procsim::report::{Spans, render_top, run_end, snapshot_at, unit_name};

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
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    // A report has a trace and a summary; a scenario has neither.
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text)
        && map.contains_key("trace")
        && map.contains_key("summary")
    {
        let mut de = serde_json::Deserializer::from_str(&text);
        return serde_path_to_error::deserialize(&mut de).map_err(|e| {
            anyhow::anyhow!(
                "{}: not a procsim report: {}: {}",
                file.display(),
                e.path(),
                e.inner()
            )
        });
    }
    let (_, plan) = load_scenario(file)?;
    let report = match backend {
        BackendName::Sim => simulate(plan, true),
        BackendName::Fork => real.backend()?.run(plan)?,
    };
    warn_unprivileged(&report);
    if let Some(e) = &report.error {
        eprintln!("procsim: {}: {e} (showing the partial run)", file.display());
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
            Ok(ExitCode::SUCCESS)
        }
        // Stopped by a signal: 128 + N, as shells report it.
        None => Ok(match super::top_tui::run(&report, &spans)? {
            Some(sig) => ExitCode::from(128u8.saturating_add(sig as u8)),
            None => ExitCode::SUCCESS,
        }),
    }
}
