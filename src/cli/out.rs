//! What every command shares: exit codes, writing to stdout and to files, loading scenarios.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

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
    let terminal = io::stderr().is_terminal();
    let shown = Arc::new(AtomicBool::new(false));
    procsim::fork::NoticeSink(Arc::new(move |n| {
        let clear = |shown: &AtomicBool| {
            if shown.swap(false, Ordering::Relaxed) {
                stderr_write(format_args!("\r\x1b[K"));
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
                stderr_write(format_args!(
                    "\r\x1b[Kprocsim: running on real processes: {:.0} s, {live} alive, {created} created, {ended} ended",
                    *elapsed_us as f64 / 1e6
                ));
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
    stderr_write(format_args!(
        "procsim: {}\n",
        procsim::report::text::escape(&text)
    ));
}

/// Writes to standard error, ignoring a failure: a closed or full stderr must not turn a run's
/// exit code into a panic's (`eprint!` panics when the write fails, exit 101), and there is
/// nowhere left to say it.
pub(crate) fn stderr_write(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_fmt(text);
}

/// Opens `path` for writing. A file that exists is the user's: it is replaced only with
/// `--force`.
pub(crate) fn create_output(path: &Path, force: bool) -> anyhow::Result<std::fs::File> {
    let mut files = create_outputs(&[("the output", path)], false, force)?;
    Ok(files.remove(0))
}

/// One output file a command writes, opened and not yet emptied.
struct Opened {
    name: String,
    file: std::fs::File,
    /// Whether this run made the file (it is removed again when the outputs are refused).
    created: bool,
}

/// Opens every file a command writes (`what` names each one's flag), and refuses, before
/// anything is written, two outputs that are one file: two names of it, a symbolic or a hard
/// link to it, or the file standard output goes to when the command also writes there
/// (`with_stdout`). Files are compared by what the open files are (device and inode), after
/// opening, so a link, even one to a file not made yet, cannot hide a clash; names are compared
/// first only to say so clearly when two flags give one path. A file that exists is replaced
/// only with `--force`, and is emptied only once no clash was found.
pub(crate) fn create_outputs(
    outputs: &[(&str, &Path)],
    with_stdout: bool,
    force: bool,
) -> anyhow::Result<Vec<std::fs::File>> {
    use std::os::unix::fs::MetadataExt;
    for (i, (a_flag, a)) in outputs.iter().enumerate() {
        for (b_flag, b) in &outputs[i + 1..] {
            anyhow::ensure!(
                same_name(a, b) != Some(true),
                "{a_flag} and {b_flag} name the same file ({}): one would overwrite the other",
                a.display()
            );
        }
    }
    let mut opened: Vec<Opened> = Vec::new();
    let refuse = |opened: &[Opened], e: anyhow::Error| {
        for o in opened.iter().filter(|o| o.created) {
            let _ = std::fs::remove_file(&o.name);
        }
        Err(e)
    };
    let mut seen: Vec<((u64, u64), String)> = Vec::new();
    if with_stdout && let Some(id) = stdout_file() {
        seen.push((id, "standard output".to_owned()));
    }
    // Before any is opened: a link to a file not made yet makes it when opened.
    let existed: Vec<bool> = outputs
        .iter()
        .map(|(_, p)| std::fs::symlink_metadata(p).is_ok())
        .collect();
    for ((flag, path), existed) in outputs.iter().zip(existed) {
        let file = match open_output(path, force) {
            Ok(f) => f,
            Err(e) => return refuse(&opened, e),
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                return refuse(
                    &opened,
                    anyhow::anyhow!("cannot write {}: {e}", path.display()),
                );
            }
        };
        opened.push(Opened {
            name: path.display().to_string(),
            file,
            created: !existed,
        });
        // Only a regular file is overwritten: two outputs to one terminal or /dev/null are not.
        if meta.is_file() {
            let id = (meta.dev(), meta.ino());
            if let Some((_, other)) = seen.iter().find(|(i, _)| *i == id) {
                let e = anyhow::anyhow!(
                    "{flag} ({}) and {other} are the same file (a link to it, or the file itself): one would overwrite the other",
                    path.display()
                );
                return refuse(&opened, e);
            }
            seen.push((id, format!("{flag} ({})", path.display())));
        }
    }
    let mut files = Vec::with_capacity(opened.len());
    for o in opened {
        if force && !o.created {
            o.file
                .set_len(0)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", o.name))?;
        }
        files.push(o.file);
    }
    Ok(files)
}

/// Opens `path` for writing without emptying it: created, or, with `force`, an existing file.
fn open_output(path: &Path, force: bool) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true);
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

/// Whether two paths are one name: the same file name in the same (canonical) directory.
/// `None` when a directory cannot be resolved (the open then says why).
fn same_name(a: &Path, b: &Path) -> Option<bool> {
    let dir = |p: &Path| {
        let d = p.parent().filter(|d| !d.as_os_str().is_empty());
        std::fs::canonicalize(d.unwrap_or(Path::new("."))).ok()
    };
    Some(dir(a)? == dir(b)? && a.file_name() == b.file_name())
}

/// The device and inode of the regular file standard output writes to, if it is one.
fn stdout_file() -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let fd = std::os::fd::AsFd::as_fd(&io::stdout())
        .try_clone_to_owned()
        .ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

/// Whether file descriptor 1 was closed when procsim started (`procsim run F >&-`), noted
/// before Rust's runtime reopens a closed fd 1 on /dev/null: after that, a closed stdout and a
/// caller's own /dev/null (Python's `subprocess.DEVNULL`, a service manager's, both opened
/// read-write) look the same, and telling them apart by the open mode refused the second.
static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

/// Runs before `main` (from the ELF `.init_array`, as C constructors do), before the runtime's
/// stdio sanitising; it only reads fd 1's flags.
extern "C" fn note_closed_stdout() {
    // SAFETY: fcntl(F_GETFD) reads a descriptor's flags and changes nothing; on a closed
    // descriptor it fails with EBADF, which is the fact noted.
    let flags = unsafe { nix::libc::fcntl(1, nix::libc::F_GETFD) };
    STDOUT_CLOSED_AT_START.store(flags == -1, Ordering::Relaxed);
}

// SAFETY: the loader calls each function pointer of `.init_array` once, before `main`, on the main
// thread; the pointer's signature is the one it expects (`void (*)(void)`).
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_CLOSED_STDOUT: extern "C" fn() = note_closed_stdout;

/// Standard output, unless it was closed when procsim started (`procsim run F >&-`): such a
/// run would otherwise write to the /dev/null the runtime put there and exit 0 having written
/// nothing. A pipe whose reader left (`| head`) is open: the write fails with EPIPE, which
/// ends the command quietly.
pub(crate) fn stdout() -> io::Result<io::Stdout> {
    if STDOUT_CLOSED_AT_START.load(Ordering::Relaxed) {
        return Err(io::Error::other(
            "standard output is closed: there is nowhere to write the result",
        ));
    }
    Ok(io::stdout())
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
    warn(file, &scenario);
    Ok((scenario, plan))
}

/// Checks a scenario as [`load_scenario`] does, and prints its warnings, keeping no plan.
pub(crate) fn validate_scenario(file: &std::path::Path) -> Result<(), procsim::ScenarioError> {
    warn(file, &procsim::validate(file)?);
    Ok(())
}

fn warn(file: &std::path::Path, scenario: &procsim::Scenario) {
    for (path, message) in scenario.warnings() {
        say(format_args!(
            "warning: {}: {path}: {message}",
            file.display()
        ));
    }
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
