//! What every command shares: exit codes, writing to stdout and to files, loading scenarios.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use procsim::Report;

/// Exit code when an expectation failed.
pub(crate) const EXIT_MISMATCH: u8 = 1;
/// Exit code for a bad scenario or bad usage.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when a limit (max_ticks, max_steps, max_output, --timeout) stopped a run.
pub(crate) const EXIT_STOPPED: u8 = 3;

/// Opens `path` for writing. A file that exists is the user's: it is replaced only with
/// `--force`.
pub(crate) fn create_output(path: &Path, force: bool) -> anyhow::Result<std::fs::File> {
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
pub(crate) fn emit(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Loads a scenario and prints its warnings (what is legal but has no effect) to standard
/// error, each naming the file and the place.
pub(crate) fn load_scenario(
    file: &std::path::Path,
) -> Result<(procsim::Scenario, std::sync::Arc<procsim::Plan>), procsim::ScenarioError> {
    let (scenario, plan) = procsim::load(file)?;
    for (path, message) in scenario.warnings() {
        eprintln!("procsim: warning: {}: {path}: {message}", file.display());
    }
    Ok((scenario, plan))
}

pub(crate) fn stopped_code(report: &Report) -> ExitCode {
    match &report.error {
        Some(e) => {
            eprintln!("procsim: {e}");
            ExitCode::from(EXIT_STOPPED)
        }
        None => ExitCode::SUCCESS,
    }
}

/// 128 + the signal when SIGINT/SIGTERM interrupted a fork run, as shells report it.
pub(crate) fn interrupted_code() -> Option<ExitCode> {
    procsim::fork::interrupted_by().map(|s| ExitCode::from(128u8.saturating_add(s as u8)))
}

pub(crate) fn stopped_or_interrupted() -> ExitCode {
    interrupted_code().unwrap_or(ExitCode::from(EXIT_STOPPED))
}
