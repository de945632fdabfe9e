//! A top-level process's first steps, right after the supervisor's fork, and the CPUs the
//! run is pinned to.

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::sys::signal::{SigSet, SigmaskHow, Signal as NixSignal, sigprocmask};
use nix::unistd::{Pid, getpid, setpgid};

use super::policy;

/// Raw descriptors a top-level child closes right after the fork.
pub(super) struct ChildFds {
    pub(super) rx: i32,
    pub(super) sfd: i32,
    pub(super) lifeline_w: Option<i32>,
}

/// In a top-level child, right after the fork: drop what belongs to the supervisor, restore
/// signals, join the run's process group, take the scheduling policy and nice value for its
/// attributes, and pin. Returns what it holds and what the kernel refused (the process reports
/// that once it runs as a process of the scenario).
pub(super) fn child_setup(
    fds: &ChildFds,
    pgid: Option<Pid>,
    pinned: &[usize],
    sched: &policy::RealSched,
    priority: i64,
    nice: i64,
) -> (policy::Held, Vec<String>) {
    // SAFETY: these descriptors belong to the supervisor; the child never uses them.
    unsafe {
        libc::close(fds.rx);
        libc::close(fds.sfd);
        if let Some(w) = fds.lifeline_w {
            libc::close(w);
        }
    }
    // stdin and stdout are the CLI's pipes: the run's processes must not hold them, or the
    // CLI could wait on them after the supervisor is gone.
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
    if pgid.is_some() || getpid().as_raw() != 1 {
        let _ = setpgid(Pid::from_raw(0), pgid.unwrap_or(Pid::from_raw(0)));
    }
    // A safety net: if the supervisor dies, its top-level processes die with it.
    let _ = nix::sys::prctl::set_pdeathsig(NixSignal::SIGKILL);
    // The policy first, while still on the supervisor's CPU: a normal process moved onto a
    // CPU where a real-time one runs would wait there until that one blocks.
    let mut held = policy::Held::default();
    let refused = sched.apply(&mut held, priority, nice);
    if !pinned.is_empty() {
        let mut set = CpuSet::new();
        for c in pinned {
            let _ = set.set(*c);
        }
        let _ = sched_setaffinity(Pid::from_raw(0), &set);
    }
    (held, refused)
}

/// The CPUs for the run: the last `cpus` of those this process may use (all of them if it
/// may use fewer; the last, because CPU 0 usually takes more interrupts). The supervisor
/// moves to the others when there are any, so relaying events does not compete with the
/// run's processes for their CPUs.
pub(super) fn pick_cpus(cpus: u32) -> (Vec<usize>, Vec<usize>) {
    let Ok(set) = sched_getaffinity(Pid::from_raw(0)) else {
        return (Vec::new(), Vec::new());
    };
    let allowed: Vec<usize> = (0..CpuSet::count())
        .filter(|c| set.is_set(*c).unwrap_or(false))
        .collect();
    let take = (cpus as usize).min(allowed.len());
    let (rest, run) = allowed.split_at(allowed.len() - take);
    if !rest.is_empty() {
        let mut mine = CpuSet::new();
        for c in rest {
            let _ = mine.set(*c);
        }
        let _ = sched_setaffinity(Pid::from_raw(0), &mine);
    }
    let mut run = run.to_vec();
    run.sort_unstable();
    (run, rest.to_vec())
}

/// The kernel's `SCHED_RR` time slice.
pub(super) fn rr_quantum_us() -> Option<u64> {
    let ms: u64 = std::fs::read_to_string("/proc/sys/kernel/sched_rr_timeslice_ms")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(ms * 1000)
}
