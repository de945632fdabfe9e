//! The fences around the host: whatever a scenario asks for, a real run cannot take the
//! host's pids, memory, time or every CPU (docs/fork-backend.md, "Fences").
//!
//! - **Processes.** Alive at once: the scenario's `kernel.max_processes`, but never more than
//!   half the host's free pids (`pid_max` less the pids in use when the run starts) nor the
//!   room `RLIMIT_NPROC` leaves the user; `--max-real-processes` sets the cap knowingly. The
//!   shared counter of [`super::slots`] enforces it: a `start` past it fails as the model's
//!   `max_processes` does (`BlockingIOError`).
//! - **Wall clock.** 60 s unless `kernel.real_timeout_s` or `--timeout` says otherwise.
//! - **Memory.** `RLIMIT_AS` on each process of the run (1 GiB unless `--memory` says
//!   otherwise), and a memory cgroup for the whole run where one can be made (half the memory
//!   available when the run starts unless `--run-memory` says otherwise). Every process of the
//!   run has `oom_score_adj` 1000, so the OOM killer takes them before anything else; the CLI
//!   and the supervisor keep their own.
//! - **CPUs.** A real-time policy never gets every CPU the run may use: one is left to the
//!   host and the supervisor, or the run goes under the normal scheduler ([`cpu_fence`]).
//!
//! The host is read before the run's PID namespace exists ([`Host::read`]); the supervisor
//! decides ([`decide`]) and says when a fence acts.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::RealFences;
use crate::report::human_bytes as bytes;

/// The wall-clock limit when neither the scenario nor `--timeout` gives one.
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// `RLIMIT_AS` of each process unless `--memory` says otherwise.
pub const DEFAULT_MEMORY_PER_PROCESS: u64 = 1 << 30;
/// The smallest `RLIMIT_AS` procsim's own interpreter runs in (it maps ~15 MiB).
pub const MIN_MEMORY_PER_PROCESS: u64 = 32 << 20;
/// Every process of the run: the OOM killer's first choice.
pub const OOM_SCORE_ADJ: i32 = 1000;

/// What the user asked for, sent in the setup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// `--max-real-processes`: the process cap, past the pid fence, knowingly.
    pub max_processes: Option<u32>,
    /// `--memory`: `RLIMIT_AS` of each process, in bytes.
    pub memory_per_process: Option<u64>,
    /// `--run-memory`: the whole run's cgroup limit, in bytes.
    pub run_memory: Option<u64>,
    /// The wall-clock limit in milliseconds.
    pub timeout_ms: u64,
    /// What set it: `default`, `--timeout` or `kernel.real_timeout_s`.
    pub timeout_by: String,
}

/// What the host has, read before the run's namespace exists.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pid_max: u64,
    pids_in_use: u64,
    /// `RLIMIT_NPROC` and the user's processes and threads, where the limit binds.
    nproc: Option<(u64, u64)>,
    mem_available: Option<u64>,
    memcg: Option<(PathBuf, CgroupVersion)>,
    /// A name for the run's cgroup no other run has: the host's pid of the supervisor (read
    /// before the namespace, where it would be 1) and the time.
    run_name: String,
}

/// Which cgroup hierarchy holds the memory controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// cgroup v1: `memory.limit_in_bytes`.
    V1,
    /// cgroup v2: `memory.max`.
    V2,
}

impl Host {
    /// Reads `pid_max`, the pids in use, `RLIMIT_NPROC`, the memory available and this
    /// process's memory cgroup.
    pub fn read() -> Host {
        let pid_max = read_u64("/proc/sys/kernel/pid_max").unwrap_or(32_768);
        // The fourth field of loadavg is "runnable/total" scheduling entities: every thread
        // takes a pid.
        let pids_in_use = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| {
                s.split_whitespace()
                    .nth(3)
                    .and_then(|f| f.split('/').nth(1).and_then(|n| n.parse().ok()))
            })
            .unwrap_or(pid_max / 2);
        let memcg = memory_cgroup();
        if let Some((parent, _)) = &memcg {
            // Here, before the run's PID namespace, the pids in the names are the host's.
            remove_stale_cgroups(parent);
        }
        Host {
            pid_max,
            pids_in_use,
            nproc: nproc_binding(),
            mem_available: meminfo("MemAvailable:"),
            memcg,
            run_name: format!(
                "{RUN_PREFIX}{}-{}",
                std::process::id(),
                super::observe::mono_ns()
            ),
        }
    }
}

/// The fences in force for a run of a scenario whose `kernel.max_processes` is
/// `scenario_max` (the cgroup and the host CPUs are filled in by the supervisor).
pub fn decide(scenario_max: u32, req: &Request, host: &Host) -> RealFences {
    let (mut cap, mut by) = (scenario_max, "kernel.max_processes".to_owned());
    match req.max_processes {
        Some(n) if n < cap => (cap, by) = (n, "--max-real-processes".into()),
        Some(n) => {
            by = format!("kernel.max_processes; --max-real-processes {n} lifted the pid fence")
        }
        None => {
            let free = host.pid_max.saturating_sub(host.pids_in_use);
            let half = (free / 2).max(1);
            if half < u64::from(cap) {
                cap = half as u32;
                by = format!(
                    "half the host's {free} free pids: pid_max {} less {} in use",
                    host.pid_max, host.pids_in_use
                );
            }
        }
    }
    if let Some((limit, used)) = host.nproc {
        let room = limit.saturating_sub(used).max(1);
        if room < u64::from(cap) {
            cap = room as u32;
            by = format!("RLIMIT_NPROC {limit} less the user's {used} processes and threads");
        }
    }
    RealFences {
        max_processes: cap,
        max_processes_by: by,
        timeout_ms: req.timeout_ms,
        timeout_by: req.timeout_by.clone(),
        memory_per_process: req.memory_per_process.unwrap_or(DEFAULT_MEMORY_PER_PROCESS),
        cgroup: String::new(),
        oom_score_adj: OOM_SCORE_ADJ,
        host_cpus: Vec::new(),
        acted: Vec::new(),
    }
}

/// The CPU fence: whether a real-time policy may run on `pinned` out of the `allowed` CPUs.
/// `Err` says why not (it would take every one).
pub fn cpu_fence(pinned: usize, allowed: usize) -> Result<(), String> {
    if pinned < allowed {
        return Ok(());
    }
    Err(format!(
        "--realtime never takes every CPU: the run would hold all {allowed} CPU(s) it may use, leaving none to the host and the supervisor; it ran under the normal scheduler (give the scenario fewer kernel.cpus, or run it where there are more CPUs)"
    ))
}

/// How every run's cgroup is named: then the host's pid of the shim that made it (the
/// supervisor, or the process that set up its PID namespace), a dash and the time.
const RUN_PREFIX: &str = "procsim-run-";

/// Removes the cgroups under `parent` that runs left behind when their supervisor was killed
/// (a killed process cannot remove its own): those named after a shim that no longer exists,
/// once empty (the kernel refuses to remove a cgroup that still holds a process, so one whose
/// processes are still dying is left for the next run). Must be called in the host's PID
/// namespace, where the pids in the names are looked up; a pid reused since by another
/// process keeps its cgroup until that process is gone too. Returns what it removed.
pub fn remove_stale_cgroups(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let own = std::process::id();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(RUN_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
            .filter(|&pid| pid > 0 && pid as u32 != own)
        else {
            continue;
        };
        let gone = matches!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
            Err(nix::errno::Errno::ESRCH)
        );
        if gone && std::fs::remove_dir(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// The run's memory cgroup: made by the supervisor, joined by each top-level process right
/// after its fork (its descendants follow), removed when the run is over.
#[derive(Debug)]
pub struct RunCgroup {
    dir: PathBuf,
    version: CgroupVersion,
    limit: u64,
    oom_kills_before: u64,
}

impl RunCgroup {
    /// A new cgroup under this process's memory cgroup, limited to `limit` bytes (`None`:
    /// half the memory available). `Err` says why there is none.
    pub fn create(host: &Host, limit: Option<u64>) -> Result<RunCgroup, String> {
        let Some((parent, version)) = &host.memcg else {
            return Err("no memory cgroup controller this process can use".into());
        };
        let limit = match (limit, host.mem_available) {
            (Some(l), _) => l,
            (None, Some(avail)) => avail / 2,
            (None, None) => return Err("MemAvailable unknown".into()),
        };
        let dir = parent.join(&host.run_name);
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let file = match version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        };
        let mut cg = RunCgroup {
            dir,
            version: *version,
            limit,
            oom_kills_before: 0,
        };
        if let Err(e) = std::fs::write(cg.dir.join(file), limit.to_string()) {
            return Err(format!("cannot write {file}: {e}"));
        }
        cg.oom_kills_before = cg.oom_kills();
        Ok(cg)
    }

    /// For the report: `memory.max 11.2 GiB in /sys/fs/cgroup/…`.
    pub fn describe(&self) -> String {
        let file = match self.version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        };
        format!(
            "cgroup {file} {} for the run ({})",
            bytes(self.limit),
            self.dir.display()
        )
    }

    /// The `cgroup.procs` file a process writes its pid to, to join.
    pub fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Processes the kernel's OOM killer ended in this cgroup since it was made.
    pub fn oom_kills(&self) -> u64 {
        let (file, key) = match self.version {
            CgroupVersion::V1 => ("memory.oom_control", "oom_kill"),
            CgroupVersion::V2 => ("memory.events", "oom_kill"),
        };
        let n: u64 = std::fs::read_to_string(self.dir.join(file))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    let (k, v) = l.split_once(' ')?;
                    (k == key).then(|| v.trim().parse().ok()).flatten()
                })
            })
            .unwrap_or(0);
        n.saturating_sub(self.oom_kills_before)
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        // Empty once every process of the run is reaped; a cgroup that still holds one
        // cannot be removed, and is left rather than waited for.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// In a top-level process right after its fork: join the run's cgroup, become the OOM
/// killer's first choice, and take the per-process memory limit. Its descendants inherit
/// all three. Returns what failed (the process says so once it runs).
pub fn enter(cgroup_procs: Option<&Path>, memory_per_process: u64) -> Vec<String> {
    let mut failed = Vec::new();
    if let Some(p) = cgroup_procs
        && let Err(e) = std::fs::write(p, std::process::id().to_string())
    {
        failed.push(format!("cannot join the run's cgroup: {e}"));
    }
    if let Err(e) = std::fs::write("/proc/self/oom_score_adj", OOM_SCORE_ADJ.to_string()) {
        failed.push(format!("cannot set oom_score_adj: {e}"));
    }
    let rl = libc::rlimit {
        rlim_cur: memory_per_process,
        rlim_max: memory_per_process,
    };
    // SAFETY: a plain system call reading a valid block.
    if unsafe { libc::setrlimit(libc::RLIMIT_AS, &rl) } != 0 {
        failed.push(format!(
            "cannot set RLIMIT_AS: {}",
            std::io::Error::last_os_error()
        ));
    } else {
        super::oom::fenced(memory_per_process);
    }
    failed
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn meminfo(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// `RLIMIT_NPROC` and the tasks of this user, when the limit binds (not for root, whom the
/// kernel exempts, nor when unlimited).
fn nproc_binding() -> Option<(u64, u64)> {
    // SAFETY: plain system calls; getrlimit fills a valid block.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    if euid == 0 {
        return None;
    }
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: see above.
    if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut rl) } != 0
        || rl.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let mut used = 0u64;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue;
        };
        let field = |k: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        };
        if field("Uid:") == Some(u64::from(uid)) {
            used += field("Threads:").unwrap_or(1);
        }
    }
    Some((rl.rlim_cur, used))
}

/// This process's memory cgroup directory, where new cgroups can be made in it.
fn memory_cgroup() -> Option<(PathBuf, CgroupVersion)> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // mountinfo: "… MOUNTPOINT OPTIONS … - FSTYPE SOURCE SUPEROPTIONS"
    let mount_of = |want: &dyn Fn(&str, &str) -> bool| {
        mountinfo.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mut r = right.split_whitespace();
            let (fstype, _, superopts) = (r.next()?, r.next()?, r.next().unwrap_or(""));
            let mountpoint = left.split_whitespace().nth(4)?;
            want(fstype, superopts).then(|| PathBuf::from(mountpoint))
        })
    };
    for line in cgroups.lines() {
        let mut f = line.splitn(3, ':');
        let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
        let rel = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            let mnt = mount_of(&|t, o| t == "cgroup" && o.split(',').any(|x| x == "memory"))?;
            let dir = mnt.join(rel);
            if dir.join("memory.limit_in_bytes").exists() {
                return Some((dir, CgroupVersion::V1));
            }
        } else if controllers.is_empty()
            && let Some(mnt) = mount_of(&|t, _| t == "cgroup2")
        {
            let dir = mnt.join(rel);
            let sub = std::fs::read_to_string(dir.join("cgroup.subtree_control")).ok();
            if sub.is_some_and(|s| s.split_whitespace().any(|c| c == "memory")) {
                return Some((dir, CgroupVersion::V2));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {

    #[test]
    fn stale_cgroups_of_dead_shims_are_removed_once_empty() {
        let parent = std::env::temp_dir().join(format!("procsim-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir(&parent).unwrap();
        // A pid that is gone: a child that ran and was reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let alive = std::process::id();
        let parent_pid = std::os::unix::process::parent_id();
        let dir = |name: String| {
            let d = parent.join(name);
            std::fs::create_dir(&d).unwrap();
            d
        };
        let stale = dir(format!("{RUN_PREFIX}{dead}-1"));
        let busy = dir(format!("{RUN_PREFIX}{dead}-2"));
        // A cgroup that still holds something cannot be removed: a file stands for it here.
        std::fs::write(busy.join("cgroup.procs"), "1").unwrap();
        let own = dir(format!("{RUN_PREFIX}{alive}-3"));
        let live = dir(format!("{RUN_PREFIX}{parent_pid}-4"));
        let other = dir(format!("other-{dead}-5"));
        let odd = dir(format!("{RUN_PREFIX}x-6"));
        assert_eq!(remove_stale_cgroups(&parent), vec![stale.clone()]);
        assert!(!stale.exists());
        for kept in [&busy, &own, &live, &other, &odd] {
            assert!(kept.exists(), "{}", kept.display());
        }
        std::fs::remove_dir_all(&parent).unwrap();
    }
    use super::*;

    fn host(pid_max: u64, in_use: u64, nproc: Option<(u64, u64)>) -> Host {
        Host {
            pid_max,
            pids_in_use: in_use,
            nproc,
            ..Host::default()
        }
    }

    #[test]
    fn the_process_cap_is_the_tightest_bound_and_says_which() {
        let req = Request::default();
        let f = decide(1_000_000, &req, &host(32_768, 768, None));
        assert_eq!(f.max_processes, 16_000);
        assert!(
            f.max_processes_by
                .contains("half the host's 32000 free pids")
        );
        let f = decide(100, &req, &host(32_768, 768, None));
        assert_eq!(
            (f.max_processes, f.max_processes_by.as_str()),
            (100, "kernel.max_processes")
        );
        let f = decide(4096, &req, &host(32_768, 768, Some((1000, 900))));
        assert_eq!(f.max_processes, 100);
        assert!(f.max_processes_by.starts_with("RLIMIT_NPROC 1000"));
        // The flag lifts the pid fence knowingly, never past the scenario's own limit.
        let raise = Request {
            max_processes: Some(20_000),
            ..Request::default()
        };
        let f = decide(1_000_000, &raise, &host(32_768, 768, None));
        assert_eq!(f.max_processes, 20_000);
        let f = decide(18_000, &raise, &host(32_768, 768, None));
        assert_eq!(f.max_processes, 18_000);
        assert!(f.max_processes_by.contains("lifted the pid fence"));
        let lower = Request {
            max_processes: Some(5),
            ..Request::default()
        };
        assert_eq!(
            decide(4096, &lower, &host(32_768, 768, None)).max_processes,
            5
        );
    }

    #[test]
    fn realtime_never_takes_every_cpu() {
        assert!(cpu_fence(1, 2).is_ok());
        assert!(
            cpu_fence(2, 2)
                .unwrap_err()
                .contains("never takes every CPU")
        );
        assert!(cpu_fence(1, 1).is_err());
    }
}
