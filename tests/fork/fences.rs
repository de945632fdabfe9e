//! The fences around the host (each test runs inside the fence it tests): process caps,
//! wall-clock limits, memory, real-time CPUs, and a killed supervisor.

use super::survive::{LONG, processes_with, survivors};
use super::*;

/// The most processes of a report alive at once: each from its admission to its reaping.
fn most_alive_at_once(r: &Report) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for p in &r.processes {
        if let Some(a) = p.admitted_at {
            edges.push((a, 1));
            edges.push((p.reaped_at.unwrap_or(u64::MAX), -1));
        }
    }
    // At the same instant a reaping comes before an admission (a slot given back is free).
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

/// Runs the fork backend with `token` in its environment and returns what it printed; then
/// checks that no process carrying the token is left.
fn run_fenced(file: &Path, extra: &[&str], token: &str) -> (Output, Option<Report>) {
    let (key, value) = token.split_once('=').unwrap();
    let o = Command::new(bin())
        .args(["run", "--backend", "fork", "--format", "json"])
        .args(extra)
        .arg(file)
        .env(key, value)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let live = processes_with(token);
    assert!(live.is_empty(), "processes of the run left: {live:?}");
    let report = serde_json::from_slice(&o.stdout).ok();
    (o, report)
}

fn acted(r: &Report) -> Vec<String> {
    r.real
        .as_ref()
        .map(|x| x.fences.acted.clone())
        .unwrap_or_default()
}

/// Every process forks a child in an endless loop and never joins: a fork bomb.
const BOMB: &str = r#"{"kernel": {"exit_policy": "posix"},
  "programs": {"bomb": {"body": [{"repeat": {"times": 1000000000, "body": [{"fork": {"as": "c", "program": "bomb"}}]}}]}},
  "processes": [{"program": "bomb"}]}"#;

#[test]
fn a_fork_bomb_under_a_tiny_process_cap_ends_by_itself() {
    if !available() {
        return;
    }
    let f = temp("bomb.json", BOMB);
    let token = format!("PROCSIM_FENCE_TEST={}-bomb", std::process::id());
    let (o, r) = run_fenced(
        &f,
        &["--max-real-processes", "8", "--timeout", "30"],
        &token,
    );
    let stderr = text(&o.stderr);
    let r = r.unwrap_or_else(|| panic!("no report: {stderr}"));
    // It ends by itself: every process's start past the cap fails (BlockingIOError), it
    // ends with the error, and the tree unwinds; the wall clock never had to act.
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(most_alive_at_once(&r) <= 8, "{}", most_alive_at_once(&r));
    assert!(r.processes.len() >= 8, "{}", r.processes.len());
    let acts = acted(&r);
    assert!(
        acts.iter()
            .any(|a| a.starts_with("process fence:") && a.contains("--max-real-processes")),
        "{acts:?}"
    );
    assert!(
        stderr.contains("procsim: fence: process fence:"),
        "{stderr}"
    );
    assert!(
        r.processes
            .iter()
            .any(|p| p.errors.iter().any(|e| e.contains("BlockingIOError"))),
        "{:?}",
        r.processes
    );
}

#[test]
fn a_sleeping_fork_bomb_is_ended_by_the_scenarios_wall_clock_limit() {
    if !available() {
        return;
    }
    // Each process forks a child and then sleeps for 100 s: only the wall clock ends it
    // (the scenario's own, here; 60 s by default). A scenario cap keeps the test polite.
    // (A bomb that joins its children ends by itself under a cap: a start refused fails
    // the process, and the tree unwinds.)
    let f = temp(
        "bomb2.json",
        r#"{"kernel": {"max_processes": 64, "real_timeout_s": 1.5},
            "programs": {"bomb": {"body": [{"fork": {"as": "a", "program": "bomb"}}, {"sleep": 100000}]}},
            "processes": [{"program": "bomb"}]}"#,
    );
    let token = format!("PROCSIM_FENCE_TEST={}-bomb2", std::process::id());
    let t0 = Instant::now();
    let (o, r) = run_fenced(&f, &[], &token);
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    let r = r.unwrap();
    let fences = &r.real.as_ref().unwrap().fences;
    assert_eq!(
        (fences.timeout_ms, fences.timeout_by.as_str()),
        (1500, "kernel.real_timeout_s")
    );
    assert!(
        acted(&r)
            .iter()
            .any(|a| a.starts_with("wall-clock fence:") && a.contains("kernel.real_timeout_s")),
        "{:?}",
        acted(&r)
    );
    assert!(
        stderr.contains("procsim: fence: wall-clock fence"),
        "{stderr}"
    );
    assert!(r.error.unwrap().contains("timed out after 1.5 s"));
}

#[test]
fn the_default_fences_bind_the_run_and_spare_the_cli() {
    if !available() {
        return;
    }
    // A scenario that allows a million processes still gets at most half the free pids.
    let f = temp(
        "fenced-sleep.json",
        r#"{"kernel": {"max_processes": 1000000},
            "programs": {"main": {"body": [{"fork": {"as": "c", "program": "leaf"}}, {"sleep": 700}, {"join": "c"}]},
                         "leaf": {"body": [{"sleep": 700}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let token = format!("PROCSIM_FENCE_TEST={}-defaults", std::process::id());
    let (key, value) = token.split_once('=').unwrap();
    let child = Command::new(bin())
        .args(["run", "--backend", "fork", "--format", "json"])
        .arg(&f)
        .env(key, value)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // While it runs: the scenario's processes (named by prctl) carry the fences, the CLI,
    // shim and supervisor do not.
    std::thread::sleep(Duration::from_millis(350));
    let mut seen = Vec::new();
    for (pid, _) in processes_with(&token) {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let adj = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap_or_default();
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap_or_default();
        let as_limit = limits
            .lines()
            .find(|l| l.starts_with("Max address space"))
            .unwrap_or_default()
            .split_whitespace()
            .nth(3)
            .unwrap_or_default()
            .to_owned();
        seen.push((comm.trim().to_owned(), adj.trim().to_owned(), as_limit));
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let scenario: Vec<_> = seen
        .iter()
        .filter(|(c, _, _)| c == "MainProcess" || c == "Process-1")
        .collect();
    assert_eq!(scenario.len(), 2, "{seen:?}");
    for (c, adj, as_limit) in &seen {
        if c == "MainProcess" || c == "Process-1" {
            assert_eq!(
                (adj.as_str(), as_limit.as_str()),
                ("1000", "1073741824"),
                "{seen:?}"
            );
        } else {
            assert_ne!(adj, "1000", "{seen:?}");
            assert_eq!(as_limit, "unlimited", "{seen:?}");
        }
    }
    let r: Report = serde_json::from_slice(&o.stdout).unwrap();
    let fences = &r.real.as_ref().unwrap().fences;
    assert!(u64::from(fences.max_processes) <= pid_max / 2, "{fences:?}");
    assert!(
        fences.max_processes_by.starts_with("half the host's"),
        "{fences:?}"
    );
    assert_eq!(
        (fences.timeout_ms, fences.timeout_by.as_str()),
        (60_000, "default")
    );
    assert_eq!(
        (fences.memory_per_process, fences.oom_score_adj),
        (1 << 30, 1000)
    );
    assert!(fences.acted.is_empty(), "{fences:?}");
    let table = Command::new(bin())
        .args(["run", "--backend", "fork"])
        .arg(&f)
        .output()
        .unwrap();
    let out = text(&table.stdout);
    assert!(
        out.contains("\nisolation: ") && out.contains("\nfences: "),
        "{out}"
    );
}

/// A process that doubles 200 strings 15 times each: 100 MiB of values if nothing stops it.
fn memory_hog() -> PathBuf {
    let globals: Vec<String> = (0..200)
        .map(|i| format!(r#""g{i}": "0123456789abcdef""#))
        .collect();
    let body: Vec<String> = (0..200)
        .map(|i| format!(r#"{{"repeat": {{"times": 15, "body": [{{"add": {{"name": "g{i}", "value": "$g{i}"}}}}]}}}}"#))
        .collect();
    temp(
        "hog.json",
        &format!(
            r#"{{"programs": {{"main": {{"body": [{{"fork": {{"as": "h", "program": "hog"}}}}, {{"join": "h"}}, {{"print": "hog {{h.exitcode}}"}}]}},
                               "hog": {{"body": [{}]}}}},
                "globals": {{{}}},
                "processes": [{{"program": "main"}}]}}"#,
            body.join(", "),
            globals.join(", ")
        ),
    )
}

#[test]
fn a_memory_hog_ends_under_a_tiny_rlimit_as_and_the_run_says_so() {
    if !available() {
        return;
    }
    let token = format!("PROCSIM_FENCE_TEST={}-hog", std::process::id());
    let (o, r) = run_fenced(&memory_hog(), &["--memory", "32"], &token);
    let stderr = text(&o.stderr);
    let r = r.unwrap_or_else(|| panic!("{stderr}"));
    let hog = &r.processes[1];
    assert_eq!(hog.signal.as_deref(), Some("SIGABRT"), "{hog:?}");
    assert_eq!(r.processes[0].output, ["hog -6"]);
    assert!(
        acted(&r).iter().any(|a| a.starts_with("Process-1: memory fence:") && a.contains("RLIMIT_AS of 32 MiB")),
        "{:?}",
        acted(&r)
    );
    assert!(
        stderr.contains("procsim: fence: Process-1: memory fence"),
        "{stderr}"
    );
    // The hog's own last word is one line naming the fence, not Rust's allocation-failure
    // message (nor, under RUST_BACKTRACE, a backtrace).
    for backtrace in ["0", "1"] {
        let o = Command::new(bin())
            .args([
                "run",
                "--backend",
                "fork",
                "--format",
                "json",
                "--memory",
                "32",
            ])
            .arg(memory_hog())
            .env("RUST_BACKTRACE", backtrace)
            .output()
            .unwrap();
        let stderr = text(&o.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines,
            [
                lines[0],
                "procsim: fence: Process-1: memory fence: ended by SIGABRT, as a process of the run is when an allocation fails under its RLIMIT_AS of 32 MiB"
            ],
            "{stderr}"
        );
        assert!(
            lines[0]
                .starts_with("procsim: a process of the run ran out of memory: an allocation of ")
                && lines[0].ends_with(
                    " bytes failed under its memory fence (RLIMIT_AS of 32 MiB; --memory sets it)"
                ),
            "{stderr}"
        );
    }
}

#[test]
fn a_memory_hog_is_the_oom_killers_choice_in_the_runs_cgroup() {
    if !available() {
        return;
    }
    let token = format!("PROCSIM_FENCE_TEST={}-cghog", std::process::id());
    let (o, r) = run_fenced(&memory_hog(), &["--run-memory", "40"], &token);
    let stderr = text(&o.stderr);
    let r = r.unwrap_or_else(|| panic!("{stderr}"));
    let fences = &r.real.as_ref().unwrap().fences;
    if !fences.cgroup.starts_with("cgroup ") {
        eprintln!("SKIPPED: {}", fences.cgroup);
        return;
    }
    assert!(fences.cgroup.contains("40 MiB"), "{fences:?}");
    // 100 MiB of values cannot be made inside 40 MiB: the hog never ends normally. Either the
    // OOM killer takes it (and the fence says so), or the kernel refuses it memory for its
    // event socket and it leaves at once (exit 137).
    let hog = &r.processes[1];
    assert_ne!(hog.exitcode, Some(0), "{hog:?}");
    if hog.signal.as_deref() == Some("SIGKILL") {
        assert!(
            acted(&r)
                .iter()
                .any(|a| a.contains("memory fence: killed by the OOM killer")),
            "{:?}",
            acted(&r)
        );
    }
    // The CLI lived to print the report: the OOM killer took a process of the run.
    assert!(o.status.success(), "{stderr}");
}

#[test]
fn realtime_never_takes_every_cpu() {
    let _turn = timing_sensitive();
    if !available() || !realtime_permitted() {
        return;
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scenario = |n: usize| {
        temp(
            &format!("rt-{n}.json"),
            &format!(
                r#"{{"kernel": {{"cpus": {n}}}, "programs": {{"main": {{"body": [{{"cpu": 5}}]}}}},
                    "processes": [{{"program": "main"}}]}}"#
            ),
        )
    };
    let (o, r) = run_fork_json(&scenario(cpus), &["--realtime"]);
    let stderr = text(&o.stderr);
    let real = r.unwrap().real.unwrap();
    assert_eq!(real.policy.ran_under, "SCHED_OTHER", "{real:?}");
    assert!(!real.policy.unprivileged, "{real:?}");
    assert!(
        real.fences
            .acted
            .iter()
            .any(|a| a.starts_with("CPU fence:")),
        "{real:?}"
    );
    assert!(
        stderr.contains("procsim: fence: CPU fence: --realtime never takes every CPU"),
        "{stderr}"
    );
    if cpus >= 2 {
        let (_, r) = run_fork_json(&scenario(cpus - 1), &["--realtime"]);
        let real = r.unwrap().real.unwrap();
        assert_eq!(real.policy.ran_under, "SCHED_RR", "{real:?}");
        assert_eq!(real.fences.host_cpus.len(), 1, "{real:?}");
        assert!(real.fences.acted.is_empty(), "{real:?}");
    }
}

#[test]
fn a_killed_supervisor_gives_its_own_exit_code_and_the_partial_report() {
    if !available() {
        return;
    }
    for no_namespace in [false, true] {
        let token = format!(
            "PROCSIM_FENCE_TEST={}-superkill-{no_namespace}",
            std::process::id()
        );
        let f = temp(
            &format!("superkill-{no_namespace}.json"),
            &LONG.replace("TICKS", "600000"),
        );
        let (key, value) = token.split_once('=').unwrap();
        let mut cmd = Command::new(bin());
        cmd.args(["run", "--backend", "fork", "--format", "json"])
            .arg(&f)
            .env(key, value)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if no_namespace {
            cmd.arg("--no-namespace");
        }
        let child = cmd.spawn().unwrap();
        // Wait until the whole run exists, then kill its supervisor.
        let t0 = Instant::now();
        let mut supervisor = None;
        while t0.elapsed() < Duration::from_secs(20) {
            let run = processes_with(&token);
            let comms: Vec<(u32, String)> = run
                .iter()
                .map(|(pid, _)| {
                    let c =
                        std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                    (*pid, c.trim().to_owned())
                })
                .collect();
            if comms
                .iter()
                .filter(|(_, c)| c.starts_with("Process-"))
                .count()
                >= 4
            {
                supervisor = comms
                    .iter()
                    .find(|(_, c)| c == "procsim-super")
                    .map(|(p, _)| *p);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = supervisor.expect("the run started");
        // A process is in /proc a moment before the supervisor's word of it reaches the CLI;
        // the run lasts far longer than this, so let the word arrive before the kill (a kill in
        // between left a partial report one process short, under load).
        std::thread::sleep(Duration::from_millis(300));
        let seen = processes_with(&token);
        // SAFETY: kill(2) on a process of this test's own run.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        let o = child.wait_with_output().unwrap();
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("the supervisor died"), "{stderr}");
        let r: Report = serde_json::from_slice(&o.stdout).expect("a partial report");
        assert!(
            r.error
                .as_deref()
                .unwrap_or_default()
                .contains("supervisor died"),
            "{:?}",
            r.error
        );
        assert!(r.processes.len() >= 5, "{:?}", r.processes);
        assert!(r.processes[0].exitcode.is_none(), "{:?}", r.processes[0]);
        let cli = std::process::id();
        let run: Vec<(u32, String)> = seen.into_iter().filter(|(p, _)| *p != cli).collect();
        let t0 = Instant::now();
        while !survivors(&run).is_empty() && t0.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left = survivors(&run);
        assert!(
            left.is_empty(),
            "left after the supervisor died:\n{}",
            left.join("\n")
        );
        // Its memory cgroup, where the machine allows one, outlived it (a killed process
        // cannot remove it); the next run removes it, now that it is empty.
        let cgroup = r
            .real
            .as_ref()
            .map(|x| x.fences.cgroup.clone())
            .unwrap_or_default();
        if let Some(dir) = cgroup
            .rsplit_once(" (")
            .and_then(|(_, d)| d.strip_suffix(')'))
            .map(PathBuf::from)
            .filter(|d| d.is_absolute())
        {
            let next = Command::new(bin())
                .args(["run", "--backend", "fork", "scenarios/demo.json"])
                .current_dir(root())
                .output()
                .unwrap();
            assert!(next.status.success(), "{}", text(&next.stderr));
            assert!(!dir.exists(), "{} left behind", dir.display());
        }
    }
}
