//! How a run is isolated from the host, and the supervisor's entry point.
//!
//! First choice: `unshare(CLONE_NEWPID | CLONE_NEWNS)`, then one fork, so the supervisor is
//! pid 1 of a new PID namespace with its own `/proc`; the process that called `unshare` stays
//! outside as a shim that only waits. Where the kernel refuses, the supervisor runs the
//! subreaper fallback (see [`super::supervisor`]). stdin carries the setup line, then `stop`
//! requests and the lifeline ([`Input`]).

use std::io;
use std::os::fd::AsFd;

use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{SigSet, SigmaskHow, Signal as NixSignal, sigprocmask};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

use super::fence;
use super::interp::set_comm;
use super::protocol::Setup;
use super::supervisor::supervise;

/// The shim's exit code when the namespace could not be completed (mounting `/proc`
/// failed): it then runs the subreaper fallback itself.
const NAMESPACE_FAILED: i32 = 97;

/// Entry point of `procsim __supervise`. Returns the process's exit code.
pub fn main() -> i32 {
    let mut input = Input::new();
    let mut setup: Setup = match input.setup() {
        Ok(s) => s,
        Err(e) => {
            complain(format_args!("procsim __supervise: {e}"));
            return 2;
        }
    };
    // The host's pids, memory and cgroups as the host sees them, before the namespace.
    setup.host = Some(fence::Host::read());
    set_comm("procsim-super");
    if setup.no_namespace {
        return supervise(
            setup,
            input,
            Isolation::Subreaper(Some("not tried (--no-namespace)".into())),
        );
    }
    match unshare(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS) {
        Err(e) => {
            let note = format!("unshare(CLONE_NEWPID) refused: {e}");
            supervise(setup, input, Isolation::Subreaper(Some(note)))
        }
        // SAFETY: this process is single-threaded (it is `procsim __supervise`).
        Ok(()) => match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                // If the shim dies, so does the namespace's init, and with it the run.
                let _ = nix::sys::prctl::set_pdeathsig(NixSignal::SIGKILL);
                if let Err(e) = mount_proc() {
                    complain(format_args!(
                        "procsim __supervise: cannot mount /proc in the namespace: {e}"
                    ));
                    return NAMESPACE_FAILED;
                }
                supervise(setup, input, Isolation::Namespace)
            }
            Ok(ForkResult::Parent { child }) => {
                set_comm("procsim-shim");
                // The shim only waits: a stop request or the CLI's death reaches the
                // namespace's init through the stdin they share, and the init ends the run.
                let mut mask = SigSet::empty();
                mask.add(NixSignal::SIGTERM);
                mask.add(NixSignal::SIGINT);
                mask.add(NixSignal::SIGHUP);
                let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), None);
                let code = wait_shim_child(child);
                if code == NAMESPACE_FAILED {
                    let note = "a new /proc could not be mounted in the PID namespace".to_owned();
                    return supervise(setup, input, Isolation::Subreaper(Some(note)));
                }
                code
            }
            Err(e) => {
                complain(format_args!("procsim __supervise: fork: {e}"));
                2
            }
        },
    }
}

fn wait_shim_child(child: Pid) -> i32 {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, sig, _)) => return 128 + sig as i32,
            Ok(_) => continue,
            Err(nix::Error::EINTR) => continue,
            Err(_) => return 2,
        }
    }
}

/// A private `/proc` for the namespace, so `/proc/<pid>` means the namespace's pid.
fn mount_proc() -> nix::Result<()> {
    use nix::mount::{MsFlags, mount};
    // Private first, so the new /proc does not propagate to the host's mount table.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )?;
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
}

/// Which isolation the run got.
pub(super) enum Isolation {
    /// A PID namespace whose init is the supervisor.
    Namespace,
    /// The fallback, and why.
    Subreaper(Option<String>),
}

/// stdin: the setup line, then commands and the lifeline.
pub(super) struct Input {
    pending: Vec<u8>,
    pub(super) closed: bool,
}

impl Input {
    pub(super) fn new() -> Input {
        Input {
            pending: Vec::new(),
            closed: false,
        }
    }

    pub(super) fn setup(&mut self) -> Result<Setup, String> {
        loop {
            if let Some(nl) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=nl).collect();
                return serde_json::from_slice(&line).map_err(|e| format!("bad setup: {e}"));
            }
            if !self.fill() {
                return Err("stdin closed before the setup line".into());
            }
        }
    }

    /// Reads what is there; false at end of file.
    ///
    /// Never inlined, and its buffer small: a 64 KiB buffer here sat in the frames of the
    /// supervisor's `main` and `run` (inlined into both), 32 stack pages written whole that
    /// every top-level process inherited resident and copied at each of its forks
    /// (`fork/trim.rs`).
    #[inline(never)]
    pub(super) fn fill(&mut self) -> bool {
        let mut buf = [0u8; 16384];
        loop {
            match nix::unistd::read(io::stdin().as_fd(), &mut buf) {
                Ok(0) => {
                    self.closed = true;
                    return false;
                }
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    return true;
                }
                Err(nix::Error::EINTR) => continue,
                Err(_) => {
                    self.closed = true;
                    return false;
                }
            }
        }
    }

    /// After stdin polled readable: whether a `stop` line came.
    pub(super) fn take_stop(&mut self) -> bool {
        let got_stop = |p: &[u8]| p.split(|b| *b == b'\n').any(|l| l == b"stop");
        self.fill();
        let stop = got_stop(&self.pending);
        self.pending.clear();
        stop
    }
}

/// Says why the supervisor cannot go on, on standard error; a failed write is ignored (the
/// CLI reads the exit code, and `eprintln!` would panic on a closed stderr).
fn complain(text: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(io::stderr(), "{text}");
}
