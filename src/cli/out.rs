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
/// Exit code when the fork backend's supervisor died (was killed) during the run: the report
/// printed is partial.
pub(crate) const EXIT_SUPERVISOR_DIED: u8 = 4;

/// What the CLI does with a fork run's notices: a fence that acts is said at once on stderr,
/// whatever the format (the report says it too); progress is shown, once a second, on one
/// line of stderr when stderr is a terminal (and the line is cleared when the run ends).
pub(crate) fn fork_notices() -> procsim::fork::NoticeSink {
    use procsim::fork::Notice;
    use std::io::IsTerminal;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let terminal = io::stderr().is_terminal();
    let shown = Arc::new(AtomicBool::new(false));
    procsim::fork::NoticeSink(Arc::new(move |n| {
        let clear = |shown: &AtomicBool| {
            if shown.swap(false, Ordering::Relaxed) {
                eprint!("\r\x1b[K");
            }
        };
        match n {
            Notice::Fence(text) => {
                clear(&shown);
                say(format_args!("fence: {text}"));
            }
            Notice::Progress {
                elapsed_us,
                live,
                created,
                ended,
            } if terminal => {
                eprint!(
                    "\r\x1b[Kprocsim: running on real processes: {:.0} s, {live} alive, {created} created, {ended} ended",
                    *elapsed_us as f64 / 1e6
                );
                shown.store(true, Ordering::Relaxed);
            }
            Notice::Progress { .. } => {}
            Notice::Finished => clear(&shown),
        }
    }))
}

/// A fork run's report, and whether its supervisor died (the report is then partial).
pub(crate) fn run_fork(
    real: &super::args::RealArgs,
    plan: std::sync::Arc<procsim::Plan>,
) -> anyhow::Result<(Report, bool)> {
    use procsim::backend::{Backend, BackendError};
    match real.backend()?.run(plan) {
        Ok(r) => Ok((r, false)),
        Err(BackendError::SupervisorDied { report, .. }) => Ok((*report, true)),
        Err(e) => Err(e.into()),
    }
}

/// Prints `procsim: MESSAGE` on standard error, control characters escaped: a message may
/// quote a scenario's names, prints and values.
pub(crate) fn say(message: std::fmt::Arguments<'_>) {
    let text = message.to_string();
    eprintln!("procsim: {}", procsim::report::text::escape(&text));
}

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

/// Standard output, unless it was closed when procsim started (`procsim run F >&-`). Rust's
/// runtime reopens a closed fd 1 on /dev/null (read-write), so such a run would exit 0 having
/// written nothing; a shell's `> /dev/null` opens it write-only, and passes. A pipe whose
/// reader left (`| head`) is open: the write fails with EPIPE, which ends the command quietly.
pub(crate) fn stdout() -> io::Result<io::Stdout> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let out = io::stdout();
    let flags = nix::fcntl::fcntl(&out, nix::fcntl::FcntlArg::F_GETFL).unwrap_or(0);
    let read_write = flags & nix::libc::O_ACCMODE == nix::libc::O_RDWR;
    let on_null = |fd: &io::Stdout| -> Option<bool> {
        let fd = std::os::fd::AsFd::as_fd(fd).try_clone_to_owned().ok()?;
        let here = std::fs::File::from(fd).metadata().ok()?;
        let null = std::fs::metadata("/dev/null").ok()?;
        Some(here.file_type().is_char_device() && here.rdev() == null.rdev())
    };
    if read_write && on_null(&out) == Some(true) {
        return Err(io::Error::other(
            "standard output is closed: there is nowhere to write the result",
        ));
    }
    Ok(out)
}

/// Writes to stdout; a closed pipe (`procsim … | head`) ends quietly.
pub(crate) fn emit(text: &str) -> io::Result<()> {
    let mut out = stdout()?.lock();
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
        say(format_args!(
            "warning: {}: {path}: {message}",
            file.display()
        ));
    }
    Ok((scenario, plan))
}

pub(crate) fn stopped_code(report: &Report) -> ExitCode {
    match &report.error {
        Some(e) => {
            say(format_args!("{e}"));
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
