//! The fork backend: the same scenario run as real Linux processes (SPEC section 7), so every
//! claim the model makes can be checked against a real kernel.
//!
//! [`ForkBackend`] never forks itself: the caller may be multi-threaded (a test harness, a
//! CLI), and a child forked from such a process can hang on a lock another thread held. It
//! starts `procsim __supervise` ([`supervisor`]) as a separate process, writes it the
//! [`protocol::Setup`], reads the events it relays ([`protocol::Event`], JSON lines) and
//! builds the [`Report`] from them ([`assemble`]). The supervisor forks the scenario's
//! top-level processes; each runs the interpreter for its own program ([`interp`]) and forks
//! its own children, since `start` is a real `fork()`.
//!
//! - `cpu` burns `tick_us` µs of the process's own CPU time a tick (thread CPU clock, so a
//!   preemption does not shorten it); `io`/`sleep` sleep; `join` waits on a pidfd and reaps;
//!   `kill`/`terminate` are `pidfd_send_signal`; names are set with `prctl(PR_SET_NAME)`;
//!   `kernel.cpus` pins the run's processes to that many CPUs so they really compete.
//! - Threads (SPEC §4a) are real threads of the scenario's processes, started only by a
//!   process that runs a `thread` instruction ([`threads`]); they share their process's state
//!   under its interpreter lock, which is also the GIL (`th.rs`).
//! - Nothing survives a run: see [`supervisor`] for the isolation (a PID namespace, or a
//!   subreaper with a lifeline) and for how normal ends, errors, timeouts, interrupts and a
//!   killed CLI all end with every process reaped.
//! - How real observations become the five states: see [`assemble`].

pub mod assemble;
pub mod channel;
mod few;
mod host;
mod hugetext;
pub mod interp;
mod lifecycle;
pub mod observe;
pub mod oom;
pub mod pidfd;
pub mod policy;
pub mod protocol;
pub mod slots;
pub mod supervisor;
mod values;

// The fences around the host, the observed trace kept to the CPUs, and the supervisor's
// entry and first steps.
pub mod fence;
pub mod fit;
mod isolate;
mod start;
// A process's flows of control: the runner each thread has, and the thread table.
mod th;
mod threads;
mod trim;

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use crate::backend::{Backend, BackendError};
use crate::program::Plan;
use crate::report::Report;
use assemble::Assembler;
use protocol::{Event, Setup};

/// How to run the fork backend.
#[derive(Debug, Clone)]
pub struct ForkOptions {
    /// The `procsim` executable to run as `procsim __supervise`.
    pub supervisor: PathBuf,
    /// Microseconds a tick stands for, instead of the scenario's `kernel.tick_us`.
    pub tick_us: Option<u64>,
    /// Stop the run after this long (SIGTERM, then SIGKILL after `grace`).
    pub timeout: Option<Duration>,
    /// How long a stop waits between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// The real-time counterpart of the scenario's policy (`SCHED_RR` for `rr`, `SCHED_FIFO`
    /// for `fcfs` and `priority`; needs `CAP_SYS_NICE`): see [`policy`].
    pub realtime: bool,
    /// Skip the PID namespace and use the subreaper fallback.
    pub no_namespace: bool,
    /// Turn SIGINT and SIGTERM to this process into a graceful stop of the run while it
    /// lasts (for the CLI; the handlers are removed afterwards).
    pub forward_interrupts: bool,
    /// The process fence set knowingly (`--max-real-processes`), past half the host's free
    /// pids; see [`fence`].
    pub max_processes: Option<u32>,
    /// `RLIMIT_AS` of each process of the run, in bytes (default 1 GiB).
    pub memory_per_process: Option<u64>,
    /// The whole run's memory cgroup limit, in bytes (default half the memory available).
    pub run_memory: Option<u64>,
    /// Told of what happens while the run lasts (a fence acting, progress).
    pub notices: Option<NoticeSink>,
}

/// What the backend tells while a run lasts, before the report exists.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A fence around the host acted (the same text goes into the report).
    Fence(String),
    /// The run goes on (once a second): how long it has run, how many of its processes
    /// are alive, and how many have existed and ended so far.
    Progress {
        /// Microseconds since the run started.
        elapsed_us: u64,
        /// Processes alive now.
        live: u32,
        /// Processes created so far.
        created: usize,
        /// Processes ended so far.
        ended: usize,
    },
    /// The run is over (the report follows): time to clear a progress line.
    Finished,
}

/// Where [`Notice`]s go.
#[derive(Clone)]
pub struct NoticeSink(pub Arc<dyn Fn(&Notice) + Send + Sync>);

impl std::fmt::Debug for NoticeSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoticeSink")
    }
}

impl ForkOptions {
    /// Options with `supervisor` as the `procsim` executable and everything else default.
    pub fn new(supervisor: PathBuf) -> ForkOptions {
        ForkOptions {
            supervisor,
            tick_us: None,
            timeout: None,
            grace: Duration::from_millis(500),
            realtime: false,
            no_namespace: false,
            forward_interrupts: false,
            max_processes: None,
            memory_per_process: None,
            run_memory: None,
            notices: None,
        }
    }
}

/// Real processes as a [`Backend`].
#[derive(Debug, Clone)]
pub struct ForkBackend {
    /// How to run.
    pub options: ForkOptions,
}

impl Backend for ForkBackend {
    fn name(&self) -> &'static str {
        "fork"
    }

    fn run(&self, plan: Arc<Plan>) -> Result<Report, BackendError> {
        if !cfg!(target_os = "linux") {
            return Err(BackendError::Unavailable {
                backend: "fork",
                reason: "it needs Linux (pidfds, /proc/<pid>/schedstat, PID namespaces)".into(),
            });
        }
        let o = &self.options;
        // The wall-clock fence: the flag, else the scenario, else the default.
        let (timeout_ms, timeout_by) = match (o.timeout, plan.kernel.real_timeout_s) {
            (Some(d), _) => (d.as_millis() as u64, "--timeout"),
            (None, Some(s)) => ((s * 1000.0).round() as u64, "kernel.real_timeout_s"),
            (None, None) => (fence::DEFAULT_TIMEOUT_MS, "default"),
        };
        let setup = Setup {
            plan: (*plan).clone(),
            tick_us: o.tick_us.unwrap_or(plan.kernel.tick_us).max(1),
            timeout_ms: Some(timeout_ms.max(1)),
            grace_ms: o.grace.as_millis() as u64,
            realtime: o.realtime,
            no_namespace: o.no_namespace,
            fence: fence::Request {
                max_processes: o.max_processes,
                memory_per_process: o.memory_per_process,
                run_memory: o.run_memory,
                timeout_ms: timeout_ms.max(1),
                timeout_by: timeout_by.into(),
            },
            host: None,
        };
        let exe = o.supervisor.display().to_string();
        let io_err = |source| BackendError::Supervisor {
            exe: exe.clone(),
            source,
        };
        let mut cmd = Command::new(&o.supervisor);
        cmd.arg("__supervise")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Its own process group: a Ctrl-C at the terminal reaches only the CLI, which
            // turns it into a graceful stop.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches nothing of the parent's state.
        unsafe {
            cmd.pre_exec(|| {
                // If the thread that started the supervisor dies, the supervisor is told
                // (SIGTERM, not SIGKILL: it must live long enough to kill and reap the run).
                // The pipe to its stdin is the second lifeline.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(io_err)?;
        let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(BackendError::Protocol("no pipes to the supervisor".into()));
        };
        let mut line =
            serde_json::to_vec(&setup).map_err(|e| BackendError::Protocol(e.to_string()))?;
        line.push(b'\n');
        stdin.write_all(&line).map_err(io_err)?;
        stdin.flush().map_err(io_err)?;
        let guard = o
            .forward_interrupts
            .then(|| interrupts::Forwarding::arm(stdin.as_raw_fd()));
        let mut assembler = Assembler::new(Arc::clone(&plan));
        let mut setup_fault = None;
        let mut away: Option<AwayFrom> = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(io_err)?;
            // One event a line, or the events of one datagram as its sender wrote them (a
            // JSON array: the supervisor relays a datagram's text as it is where it can).
            let events = if line.starts_with('[') {
                serde_json::from_str::<Vec<Event>>(&line)
            } else {
                serde_json::from_str::<Event>(&line).map(|e| vec![e])
            };
            let events = match events {
                Ok(events) => events,
                Err(e) => return Err(BackendError::Protocol(format!("{e}: {line}"))),
            };
            for event in events {
                if let Event::Hello { pinned, .. } = &event {
                    // Reading events is work too: keep it off the CPUs the run competes for.
                    away = AwayFrom::cpus(pinned);
                }
                match event {
                    Event::Fault { key: None, message } if !assembler.is_done() => {
                        setup_fault.get_or_insert(message.clone());
                        assembler.apply(Event::Fault { key: None, message });
                    }
                    e => {
                        match (&e, &o.notices) {
                            (Event::Fence { key, message }, Some(sink)) => (sink.0)(
                                &Notice::Fence(assembler.fence_text(key.as_deref(), message)),
                            ),
                            (Event::Progress { t, live }, Some(sink)) => {
                                let (created, ended) = assembler.counts();
                                (sink.0)(&Notice::Progress {
                                    elapsed_us: *t,
                                    live: *live,
                                    created,
                                    ended,
                                })
                            }
                            _ => {}
                        }
                        assembler.apply(e)
                    }
                }
            }
        }
        drop(away);
        if let Some(sink) = &o.notices {
            (sink.0)(&Notice::Finished);
        }
        // Disarm before the descriptor the handler writes to is closed.
        drop(guard);
        drop(stdin);
        let status = child.wait().map_err(io_err)?;
        if !assembler.is_done() {
            return Err(match setup_fault {
                Some(m) => BackendError::Setup(m),
                // It had started the run: what it relayed is a partial report.
                None if assembler.started() => {
                    let status = status.to_string();
                    let report = assembler.finish_cut_short(format!(
                        "the supervisor died ({status}) before the run ended; the run's processes died with it and this report is partial"
                    ));
                    BackendError::SupervisorDied {
                        status,
                        report: Box::new(report),
                    }
                }
                None => BackendError::Protocol(format!(
                    "the supervisor ended ({status}) before the run did"
                )),
            });
        }
        Ok(assembler.finish())
    }
}

/// The calling thread moved off some CPUs for a while; its affinity is restored on drop.
struct AwayFrom {
    old: nix::sched::CpuSet,
}

impl AwayFrom {
    /// Moves the calling thread off `cpus`, unless that would leave it nowhere to run.
    fn cpus(cpus: &[u32]) -> Option<AwayFrom> {
        use nix::sched::{sched_getaffinity, sched_setaffinity};
        use nix::unistd::Pid;
        let me = Pid::from_raw(0);
        let old = sched_getaffinity(me).ok()?;
        let mut new = old;
        for c in cpus {
            let _ = new.unset(*c as usize);
        }
        let any = (0..nix::sched::CpuSet::count()).any(|c| new.is_set(c).unwrap_or(false));
        (any && sched_setaffinity(me, &new).is_ok()).then_some(AwayFrom { old })
    }
}

impl Drop for AwayFrom {
    fn drop(&mut self) {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &self.old);
    }
}

/// The signal that interrupted the last run, if one did (for the CLI's exit code).
pub fn interrupted_by() -> Option<i32> {
    match interrupts::LAST.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Turning SIGINT/SIGTERM into a `stop` line to the supervisor.
mod interrupts {
    use super::*;
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

    /// The supervisor's stdin while a run lasts (-1 otherwise).
    static STOP_FD: AtomicI32 = AtomicI32::new(-1);
    /// The last signal forwarded.
    pub(super) static LAST: AtomicI32 = AtomicI32::new(0);

    extern "C" fn on_signal(sig: libc::c_int) {
        LAST.store(sig, Ordering::SeqCst);
        let fd = STOP_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; the buffer is static.
            unsafe { libc::write(fd, b"stop\n".as_ptr().cast(), 5) };
        }
    }

    /// Handlers installed for the life of the value.
    pub(super) struct Forwarding {
        old: Vec<(Signal, SigAction)>,
    }

    impl Forwarding {
        pub(super) fn arm(fd: i32) -> Forwarding {
            STOP_FD.store(fd, Ordering::SeqCst);
            LAST.store(0, Ordering::SeqCst);
            let action = SigAction::new(
                SigHandler::Handler(on_signal),
                SaFlags::SA_RESTART,
                SigSet::empty(),
            );
            let mut old = Vec::new();
            for sig in [Signal::SIGINT, Signal::SIGTERM] {
                // SAFETY: the handler only does async-signal-safe things.
                if let Ok(prev) = unsafe { sigaction(sig, &action) } {
                    old.push((sig, prev));
                }
            }
            Forwarding { old }
        }
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            STOP_FD.store(-1, Ordering::SeqCst);
            for (sig, prev) in &self.old {
                // SAFETY: restoring the handler that was there before.
                let _ = unsafe { sigaction(*sig, prev) };
            }
        }
    }
}
