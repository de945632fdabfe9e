//! `compare` on real processes: every shipped scenario compared or left out with a reason,
//! the policies' real counterparts, and the exit codes of a stopped run.

use super::*;

/// The scenarios `compare` must agree on, with SCHED_RR where permitted (see
/// `docs/fork-backend.md`): every process-API scenario and every scheduling scenario (a
/// `{tick}` printed in a line is a time, which may differ: the rest of the line is compared).
/// Left out, and why:
/// - `seeded-workload`: its `uniform` draws come from one generator the simulated processes
///   share in the order they run; real processes each draw from their own copy, as forked
///   processes do, so the drawn lengths (and the lines printing them) differ;
/// - `rr-io-v1`: the benchmark workload, 1,000 processes and 500,000 ticks: its expectations
///   are scheduling figures, and on real processes it would take minutes;
/// - `gen-12`: a generated scheduling workload of 478 ticks, the one behind the sweep plot in
///   the README; it prints no times and `procsim compare scenarios/gen-12.json --realtime`
///   agrees on it (run by hand), but at the 20 ms ticks these tests use it would take 10 s;
/// - `proc-pid-wrap`: `pid_max` 6 cannot exist on Linux (the kernel refuses less than 301, and
///   wraps to 300, not 2), and the scenario prints the pids;
/// - the policies' share scenarios (`sched-*-shares*`): 12 to 30 s of real CPU each, and
///   their shares are checked on the model by `tests/policy_shares*.rs`;
const COMPARED: &[&str] = &[
    "proc-args",
    "proc-create-call",
    "proc-create",
    "proc-daemon",
    "proc-err-args-missing",
    "proc-err-args-multiple",
    "proc-err-args-too-many",
    "proc-err-args-unexpected",
    "proc-err-daemon-child",
    "proc-err-daemon-fork",
    "proc-err-join-self",
    "proc-err-join-sibling",
    "proc-err-kill-sibling",
    "proc-err-start-twice",
    "proc-exit-multiprocessing",
    "proc-exit-posix",
    "proc-globals",
    "proc-kill9-orphan",
    "proc-kill9",
    "proc-max-processes",
    "proc-names",
    "proc-refcount",
    "proc-wait",
    "proc-zombie",
    "proc-events-child",
    "proc-events-kill-main",
    "proc-events-horizon",
    "proc-daemon-raise",
    "proc-globals-start",
    "proc-grandchild-args",
    "proc-finalizer-text",
    "proc-os-exit",
    "proc-repeat-as",
    "proc-alive-daemon",
    "proc-values-repr",
    "proc-pid-at-start",
    "proc-exit-values",
    "proc-join-timeout",
    "proc-signal-ended",
    "proc-reap-on-poll",
    "proc-terminate-orphans",
    "proc-daemon-exit-code",
    "sched-arrivals",
    "sched-context-switch",
    "sched-fcfs-short-first",
    "sched-fcfs",
    "sched-io-last",
    "sched-io-zero",
    "sched-keep-exhausted",
    "sched-mlfq-arrival",
    "sched-mlfq-boost",
    "sched-mlfq-cpu-io",
    "sched-mlfq-gaming",
    "sched-mlfq-iobump",
    "sched-mlfq-lists",
    "sched-mlfq-one-queue",
    "sched-mlfq-stay-slice-end",
    "sched-mlfq-two-cpus",
    "sched-ostep-default",
    "sched-ostep-iobump",
    "sched-ostep-keep",
    "sched-ostep",
    "sched-cfs-nice",
    "sched-cfs-nice-fork",
    "sched-cfs-slices",
    "sched-cfs-wake",
    "sched-eevdf-wake",
    "sched-priority-aging-preemptive",
    "sched-priority-fork",
    "sched-priority-inherit",
    "sched-priority-preemptive",
    "sched-priority-two-cpus",
    "sched-stride-inherit",
    "sched-stride-wake",
    "sched-two-cpus-switch",
    "sched-two-cpus-tie",
    "sched-wake-head",
    "sched-wake-tail",
    "demo",
    "sched-io-vs-cpu",
    "sched-silberschatz-rr",
    "sched-ties",
    "sched-ties-admit-first",
    "sched-ties-preempt-first",
    "sched-two-cpus",
    "sched-two-cpus-alone",
    "sched-ostep-fifo",
    "sched-ostep-sjf",
    "sched-ostep-sjf-late",
    "sched-ostep-stcf",
    "sched-priority-aging",
    "sched-priority-silberschatz",
    "sched-sjf-estimate",
    "sched-sjf-silberschatz",
    "sched-srtf-silberschatz",
    "sched-srtf-two-cpus-io",
    "sched-stallings-fcfs",
    "sched-stallings-hrrn",
    "sched-stallings-spn",
    "sched-stallings-srt",
    "sched-stride-ostep",
    // Threads (SPEC §4a): real threads of the scenario's processes, compared like processes.
    "thread-alive-daemon",
    "thread-child-exit-order",
    "thread-daemon-end",
    "thread-err-join-self",
    "thread-err-kill",
    "thread-errors",
    "thread-exit",
    "thread-fork",
    "thread-globals",
    "thread-join-timeout",
    "thread-local-handles",
    "thread-lock",
    "thread-names",
    "thread-no-handle",
    "thread-os-exit",
    "thread-signal",
    "thread-switch",
];

const NOT_COMPARED: &[&str] = &[
    "rr-io-v1",
    "gen-12",
    "seeded-workload",
    "proc-pid-wrap",
    // CPU shares over 12,000 to 30,000 ticks: 12 to 30 s of real CPU each at 1 ms a tick.
    "sched-cfs-shares",
    "sched-cfs-shares-2cpu",
    "sched-eevdf-shares",
    "sched-eevdf-shares-2cpu",
    "sched-lottery-shares",
    "sched-stride-shares",
    // Two threads, then two processes, that compute side by side on two CPUs and end at the
    // same tick: which one a join finds ended first is a tie the real clock breaks either
    // way (MainProcess's states then differ by one join's block), and on a 2-CPU host
    // `--realtime` cannot order them (the CPU fence). The GIL's effect is checked on real
    // threads by `real_threads_take_turns_under_the_gil`.
    "thread-gil-two-cpus",
    "thread-nogil-two-cpus",
    // Its threads' `priority` orders them in the model; the fork backend gives threads no
    // scheduling attributes of their own, and which joined thread has ended when MainThread
    // joins it is again a tie of two CPUs (run once here at 20 ms a tick: MainProcess's
    // states differed by one join's block, its output agreed).
    "thread-gil-queue",
    // Threads' `priority` again (the fork backend gives threads none of their own), and the
    // point is the model's: a thread that cannot take the GIL preempts no one.
    "thread-gil-preempt",
];

#[test]
fn every_shipped_scenario_is_either_compared_or_left_out_with_a_reason() {
    let mut all: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    all.sort();
    let listed: HashSet<&str> = COMPARED.iter().chain(NOT_COMPARED).copied().collect();
    for name in &all {
        assert!(listed.contains(name.as_str()), "{name} is in neither list");
    }
    assert_eq!(listed.len(), all.len());
}

#[test]
fn compare_agrees_on_every_scenario_that_makes_sense_on_real_processes() {
    let _turn = timing_sensitive();
    if !available() || !realtime_permitted() {
        return;
    }
    let rt = ["--realtime"];
    // One at a time: each run pins its processes to the same CPU under SCHED_RR, and a
    // CPU burst of one run would hold up the other for a whole 100 ms slice.
    let mut failures = Vec::new();
    for name in COMPARED {
        // The process-API and thread scenarios order things across processes and threads by
        // time (a parent ends 2 ticks before its orphan looks at its ppid): at 20 ms a tick
        // those margins survive a loaded machine. Scheduling scenarios only order each process's own steps and keep
        // their 1 ms ticks.
        let tick_us = if name.starts_with("proc-") || name.starts_with("thread-") {
            "20000"
        } else {
            "1000"
        };
        let compare = || {
            Command::new(bin())
                .arg("compare")
                .arg(root().join(format!("scenarios/{name}.json")))
                .args(["--tick-us", tick_us])
                .args(rt)
                .args(["--timeout", "60"])
                .output()
                .expect("procsim runs")
        };
        let mut o = compare();
        if o.status.code() != Some(0) {
            // Real processes share the host with the other tests of this file that run real
            // processes (only the timing-sensitive ones take turns): a burst of theirs can
            // upset one run's order. A difference the model really has shows on the second
            // run too.
            o = compare();
        }
        if o.status.code() != Some(0) {
            failures.push(format!(
                "{name}: exit {:?}\n{}{}",
                o.status.code(),
                text(&o.stdout),
                text(&o.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compare_shows_what_may_differ_and_fails_on_a_difference() {
    if !available() {
        return;
    }
    // `{tick}` is a time, which may differ: the rest of each line agrees.
    let o = Command::new(bin())
        .args(["compare", "--tick-us", "200"])
        .arg(root().join("scenarios/sched-ties.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("µs/tick"), "{out}");
    // A line that differs in more than a time differs: outside a PID namespace a real pid
    // is not the model's.
    let f = temp(
        "compare-pid.json",
        r#"{"programs": {"main": {"body": [{"print": "at {tick} I am {pid}"}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let o = Command::new(bin())
        .args(["compare", "--tick-us", "200", "--no-namespace"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("DIFFERS"), "{out}");
    assert!(out.contains("differ on"), "{out}");
}

// ---- the scenario's policy on real processes ---------------------------------------------

/// Each process's CPU time over the CPU time of all of them, by name.
fn cpu_share(r: &Report, name: &str) -> f64 {
    let total: u64 = r.processes.iter().map(|p| p.cpu).sum();
    let p = r
        .by_name(name)
        .next()
        .expect("the process is in the report");
    p.cpu as f64 / total.max(1) as f64
}

#[test]
fn cfs_nice_values_give_the_real_cpu_shares_of_their_weights() {
    let _turn = timing_sensitive();
    if !available() {
        return;
    }
    // No --realtime: the counterpart of cfs is the normal scheduler, and a positive nice
    // needs no privilege.
    let (o, report) = run_fork_json(&root().join("scenarios/sched-cfs-nice-fork.json"), &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r = report.expect("the JSON report parses");
    let policy = &r.real.as_ref().unwrap().policy;
    assert_eq!(policy.counterpart.as_deref(), Some("SCHED_OTHER"));
    assert!(policy.nice && policy.used_counterpart(), "{policy:?}");
    assert!(
        !policy.notes.iter().any(|n| n.contains("refused")),
        "{policy:?}"
    );
    let (a, b) = (cpu_share(&r, "nice0"), cpu_share(&r, "nice10"));
    let cpu = |n: &str| r.by_name(n).next().unwrap().cpu;
    eprintln!(
        "cfs on real processes: nice 0 {} µs ({:.1}%), nice 10 {} µs ({:.1}%), ratio {:.2} (weights 1024/110 = 9.31)",
        cpu("nice0"),
        a * 100.0,
        cpu("nice10"),
        b * 100.0,
        a / b.max(f64::MIN_POSITIVE)
    );
    assert!(a > 3.0 * b, "nice 0: {a:.3}, nice 10: {b:.3}");
    for name in ["nice0", "nice10"] {
        assert_eq!(r.by_name(name).next().unwrap().exitcode, Some(-9));
    }
}

#[test]
fn priority_under_realtime_runs_the_more_urgent_process_first() {
    let _turn = timing_sensitive();
    if !available() || !realtime_permitted() {
        return;
    }
    let (o, report) = run_fork_json(
        &root().join("scenarios/sched-priority-fork.json"),
        &["--realtime"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let r = report.expect("the JSON report parses");
    let policy = &r.real.as_ref().unwrap().policy;
    assert_eq!(policy.ran_under, "SCHED_FIFO", "{policy:?}");
    let levels: Vec<(i64, i32)> = policy
        .rt_priorities
        .iter()
        .map(|l| (l.priority, l.sched_priority))
        .collect();
    assert_eq!(levels, [(1, 2), (7, 1)]);
    let high = r.by_name("high").next().unwrap();
    let low = r.by_name("low").next().unwrap();
    eprintln!(
        "priority under SCHED_FIFO: high first_run {:?} ended {:?} cpu {}; low first_run {:?} ended {:?} cpu {} (µs)",
        high.first_run, high.ended_at, high.cpu, low.first_run, low.ended_at, low.cpu
    );
    let (he, le) = (high.ended_at.unwrap(), low.ended_at.unwrap());
    assert!(he < le, "high ended at {he}, low at {le}");
    // Low did (nearly) all its work after high had ended.
    assert!(le - he >= low.cpu * 9 / 10, "{high:?}\n{low:?}");
}

#[test]
fn realtime_without_the_privilege_says_so() {
    // Root without CAP_SYS_NICE is the unprivileged case that can be made here.
    let setpriv = Path::new("/usr/bin/setpriv");
    if !available() || !nix_is_root() || !setpriv.exists() {
        eprintln!("SKIPPED: needs root and /usr/bin/setpriv to drop CAP_SYS_NICE");
        return;
    }
    let o = Command::new(setpriv)
        .args(["--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--"])
        .arg(bin())
        .args(["run", "--backend", "fork", "--realtime", "--tick-us", "200"])
        .arg(root().join("scenarios/sched-priority-fork.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let header = out
        .lines()
        .find(|l| l.starts_with("policy "))
        .unwrap_or_default();
    assert!(
        header.contains("NOT used: ran under the normal scheduler (SCHED_OTHER)")
            && header.contains("CAP_SYS_NICE"),
        "{out}"
    );
    assert!(
        text(&o.stderr).contains("warning: --realtime"),
        "{}",
        text(&o.stderr)
    );
    // compare says it too, in its header and on stderr (#12).
    let o = Command::new(setpriv)
        .args(["--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--"])
        .arg(bin())
        .args(["compare", "--realtime", "--tick-us", "200"])
        .arg(root().join("scenarios/sched-priority-fork.json"))
        .output()
        .unwrap();
    let out = text(&o.stdout);
    assert!(
        out.lines().any(
            |l| l.contains("NOT used: ran under the normal scheduler (SCHED_OTHER)")
                && l.contains("CAP_SYS_NICE")
        ),
        "{out}"
    );
    assert!(
        text(&o.stderr).contains("warning: --realtime"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn compare_says_when_a_policy_has_no_real_counterpart() {
    if !available() {
        return;
    }
    let f = temp(
        "lottery.json",
        r#"{"kernel": {"policy": "lottery", "tick_us": 1000},
            "programs": {"main": {"body": [{"fork": {"as": "w", "program": "w"}}, {"cpu": 5}, {"join": "w"}, {"print": "{w.exitcode}"}]},
                         "w": {"body": [{"cpu": 5}, {"print": "child"}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let o = Command::new(bin()).arg("compare").arg(&f).output().unwrap();
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("policy lottery: no real counterpart")
            && out.contains("only the process API points are compared"),
        "{out}"
    );
    assert!(out.contains("CPU share"), "{out}");
}

/// A run stopped by the wall-clock timeout is a stopped run for `compare` as for `run`: exit 3
/// (README's exit codes), not 1 for "they differ", and stderr names what stopped it. The
/// simulated side ends (a sleep of 100,000 ticks), the real one (100 s of sleep) is stopped by
/// a 0.5 s timeout.
#[test]
fn compare_of_a_run_stopped_by_the_timeout_exits_3() {
    if !available() {
        return;
    }
    let f = temp(
        "compare-timeout.json",
        r#"{"programs": {"main": {"body": [{"sleep": 100000}, {"print": "woke"}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let o = Command::new(bin())
        .args(["compare", "--timeout", "0.5"])
        .arg(&f)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{}{err}", text(&o.stdout));
    assert!(err.contains("fork backend:"), "{err}");
    assert!(
        err.contains("timeout") || err.contains("wall-clock"),
        "{err}"
    );
}

/// The simulated side stopped by a limit (max_steps; the real side too, by the same count) is
/// a stopped run: exit 3.
#[test]
fn compare_of_a_run_stopped_by_a_limit_exits_3() {
    if !available() {
        return;
    }
    let f = temp(
        "compare-steps.json",
        r#"{"kernel": {"max_steps": 100},
            "globals": {"x": 0},
            "programs": {"main": {"body": [{"repeat": {"times": 1000, "body": [{"set": {"name": "x", "value": 1}}]}}]}},
            "processes": [{"program": "main"}]}"#,
    );
    let o = Command::new(bin())
        .args(["compare", "--timeout", "30"])
        .arg(&f)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{}{err}", text(&o.stdout));
    assert!(
        err.contains("sim backend:") && err.contains("max_steps"),
        "{err}"
    );
}
