//! Every way a scenario can be wrong gets one clear error that names the file and the place,
//! and exit code 2, from every command. One fixture per case in `tests/bad/`.

use std::path::PathBuf;
use std::process::Command;

/// Fixture, and what the error must say (its place and its message), after `FILE`.
const CASES: &[(&str, &str)] = &[
    (
        "empty",
        ":1:0: EOF while parsing a value (the file is empty or cut short)",
    ),
    ("not-json", ":1:1: expected value"),
    (
        "truncated",
        ":1:42: programs.main.body: EOF while parsing a list",
    ),
    ("trailing-garbage", ":1:84: trailing characters"),
    ("non-utf8", ":1:14: name: invalid unicode code point"),
    (
        "top-level-array",
        ":1:1: the top level of a scenario must be an object",
    ),
    ("too-deep", ": nesting is deeper than the parser allows"),
    (
        "wrong-type",
        ":1:60: processes: expected a list, found an object",
    ),
    (
        "negative-number",
        ": kernel.quantum: expected a whole number from 0 to 18446744073709551615, found the number -4",
    ),
    (
        "fractional-number",
        ": kernel.context_switch: expected a whole number from 0 to 18446744073709551615, found 1.5",
    ),
    (
        "beyond-u64",
        ": kernel.max_ticks: number 1.8446744073709552e+19 is out of range: expected a whole number from 0 to 18446744073709551615",
    ),
    (
        "negative-cpu",
        ": programs.main.body[0].cpu: a number of ticks cannot be negative (-3)",
    ),
    ("unknown-field-top", ": kernal: unknown key \"kernal\""),
    (
        "unknown-field-kernel",
        ": kernel.quantun: unknown key \"quantun\"",
    ),
    (
        "unknown-field-program",
        ": programs.main.parms: unknown key \"parms\"",
    ),
    (
        "unknown-field-process",
        ": processes[0].arival: unknown key \"arival\": expected one of \"program\", \"name\", \"arrival\"",
    ),
    (
        "unknown-field-spawn",
        ": programs.main.body[0].fork.deamon: unknown key \"deamon\"",
    ),
    (
        "unknown-field-expect",
        ": expect.process: unknown key \"process\"",
    ),
    (
        "instruction-zero-keys",
        ": programs.main.body[1]: an instruction has exactly one key, found none",
    ),
    (
        "instruction-two-keys",
        ": programs.main.body[0]: an instruction has exactly one key, found 2: `cpu`, `io`",
    ),
    (
        "unknown-instruction",
        ": programs.main.body[0]: unknown instruction `compute`",
    ),
    (
        "unknown-program",
        ": processes[0].program: unknown program `mian`",
    ),
    (
        "unknown-program-in-fork",
        ": programs.main.body[0].fork.program: unknown program `worker`",
    ),
    (
        "thread-unknown-program",
        ": programs.main.body[0].thread.program: unknown program `wrk`",
    ),
    (
        "thread-unknown-field",
        ":1:82: programs.main.body[0].thread.deamon: unknown key \"deamon\"",
    ),
    (
        "lock-is-a-thread-handle",
        ": programs.main.body[1].acquire: `t` is a handle (a `Thread`, made with \"as\": \"t\"), not a threading.Lock: it has no acquire() or release() (Python's AttributeError); give the lock a name of its own",
    ),
    (
        "lock-is-a-process-handle",
        ": programs.w.body[0].release: `p` is a handle (a `Process`, made with \"as\": \"p\"), not a threading.Lock",
    ),
    (
        "spawn-without-as",
        ": programs.main.body[0].spawn: a spawn needs \"as\": the child it makes waits in `new` until a `start` names it (a `fork` may go without)",
    ),
    (
        "thread-switch-negative",
        ":1:113: kernel.thread_switch: expected a whole number from 0 to 18446744073709551615, found the number -1",
    ),
    (
        "unknown-parameter",
        ": programs.main.body[0].cpu: `m` is neither a parameter of `main` nor a global",
    ),
    (
        "unknown-global",
        ": programs.main.body[0].add.name: unknown global `counter`",
    ),
    (
        "unknown-handle",
        ": programs.main.body[0].join: unknown handle `w`",
    ),
    (
        "repeat-as-parameter",
        ": programs.main.body[0].repeat.as: `k` would hide a parameter of `main`",
    ),
    (
        "repeat-as-global",
        ": programs.main.body[0].repeat.as: `n` would hide a global",
    ),
    (
        "alive-not-a-handle",
        ": programs.main.body[0].print: `{counter.alive}`: `counter` is a global, not a process handle",
    ),
    (
        "os-exit-string",
        ": programs.main.body[0]._exit: `_exit` takes an integer exit code (os._exit), not the str 'bye'",
    ),
    (
        "join-negative-timeout",
        ": programs.main.body[1].join.timeout: a number of ticks cannot be negative (-1)",
    ),
    (
        "join-unknown-field",
        ":1:110: programs.main.body[1].join.patience: unknown key \"patience\": expected one of \"handle\", \"timeout\"",
    ),
    (
        "event-negative-tick",
        ":1:105: events[0].at: expected a whole number from 0 to 18446744073709551615, found the number -1",
    ),
    (
        "event-fractional-tick",
        ":1:106: events[0].at: expected a whole number from 0 to 18446744073709551615, found 2.5",
    ),
    (
        "event-no-process",
        ": events[0].to: `Process-1` names no process of the scenario",
    ),
    (
        "event-signal",
        ":1:125: events[0].signal: expected one of \"SIGKILL\", \"SIGTERM\", found \"SIGSTOP\"",
    ),
    (
        "unknown-placeholder",
        ": programs.main.body[0].print: `{nothing}` names nothing",
    ),
    (
        "reversed-uniform",
        ": programs.main.body[0].cpu.uniform: the range [9, 2] is reversed",
    ),
    (
        "quantum-zero",
        ": kernel.quantum: the quantum must be at least 1 tick",
    ),
    (
        "cpus-zero",
        ": kernel.cpus: cpus must be from 1 to 1024, not 0",
    ),
    (
        "cpus-too-many",
        ": kernel.cpus: cpus must be from 1 to 1024, not 100000",
    ),
    (
        "pid-max-too-small",
        ": kernel.pid_max: pid_max must be from 3 to 4194304",
    ),
    (
        "pid-max-too-large",
        ": kernel.pid_max: pid_max must be from 3 to 4194304",
    ),
    (
        "tick-order-not-permutation",
        ": kernel.tick_order: tick_order must name each of",
    ),
    (
        "tick-order-unknown-group",
        ":1:133: kernel.tick_order[2]: expected one of \"wake\", \"admit\", \"preempt\", found \"later\"",
    ),
    ("duplicate-program", ":1:42: programs: duplicate key `main`"),
    (
        "no-processes",
        ": processes: a scenario needs at least one process",
    ),
    (
        "count-zero",
        ": processes[0].count: count must be at least 1",
    ),
    (
        "policy-unknown",
        ": kernel.policy: unknown policy \"sjff\", expected one of \"rr\", \"fcfs\"",
    ),
    (
        "policy-foreign-parameter",
        ": kernel.policy: this policy has no parameter \"quantum\" (it has none)",
    ),
    (
        "policy-quantum-zero",
        ": kernel.policy.quantum: the quantum must be at least 1 tick",
    ),
    (
        "policy-allotment-zero",
        ": kernel.policy.allotment[1]: allotment must be at least 1",
    ),
    (
        "policy-list-length",
        ": kernel.policy.quantum: quantum lists 2 values but there are 3 queues",
    ),
    (
        "policy-no-name",
        ": kernel.policy: a policy object needs a \"name\"",
    ),
    (
        "policy-negative-boost",
        ": kernel.policy.boost: expected a whole number from 0 to 18446744073709551615, found the number -5",
    ),
    (
        "nice-out-of-range",
        ": processes[0].nice: nice must be from -20 to 19, not 20",
    ),
    (
        "tickets-zero",
        ": programs.main.body[0].fork.tickets: tickets must be at least 1",
    ),
    (
        "unknown-expect-summary-field",
        ": expect.sim.summary.avg_wait: unknown summary field `avg_wait`",
    ),
    (
        "count-copy-collision",
        ": processes[1]: two top-level processes are both named `w-2`: processes[0] (count 2 names its copies `w-1` … `w-2`) and processes[1]; give each a distinct \"name\"",
    ),
    (
        "expect-unknown-state",
        ": expect.processes.MainProcess.states[2]: `runing` is not a state; the states are new, ready, running, blocked, terminated",
    ),
    (
        "expect-unknown-signal",
        ": expect.processes.MainProcess.signal: a process ends by SIGKILL or SIGTERM or by none (null), not \"SIGKIL\"",
    ),
    (
        "instruction-wrong-type",
        ":1:42: programs.main.body[0].wait: expected an object (`{}`, or `{\"as\": HANDLE}`), found the number 3",
    ),
    (
        "ticks-string",
        ": programs.main.body[0].cpu: expected a number of ticks (a whole number, or \"$name\"), found the string \"3\"",
    ),
    (
        "policy-allotment-string",
        ":1:52: kernel.policy.allotment: expected a whole number of ticks or a list of them, one a level (top first)",
    ),
    (
        "uniform-string",
        ":1:50: programs.main.body[0].cpu.uniform: expected a list of two whole numbers, [lo, hi], found the string \"3\"",
    ),
    (
        "uniform-three",
        ":1:54: programs.main.body[0].cpu.uniform: expected a list of two whole numbers, [lo, hi], found a list of 3",
    ),
    (
        "exit-policy-number",
        ":1:26: kernel.exit_policy: expected one of \"multiprocessing\", \"posix\", found the number 3",
    ),
    (
        "wake-to-unknown",
        ":1:29: kernel.wake_to: expected one of \"tail\", \"head\", found \"middle\"",
    ),
    (
        "missing-field-as",
        ":1:42: programs.main.body[0].new: this object needs the key \"as\"",
    ),
    (
        "duplicate-field",
        ":1:76: programs.main.body[0].fork: the key \"as\" appears twice",
    ),
    (
        "expect-summary-string",
        ": expect.sim.summary.makespan: expected a whole number ≥ 0, found the string \"3\"",
    ),
    (
        "expect-process-field-bool",
        ": expect.sim.processes.MainProcess.waiting: expected a whole number ≥ 0, found true",
    ),
];

/// serde's own phrases, which name Rust's types and quote with backticks: none reaches a user.
const SERDE_WORDS: &[&str] = &[
    "unknown field",
    "missing field",
    "duplicate field",
    "unknown variant",
    "invalid type",
    "invalid value",
    "invalid length",
    "expected struct",
    "expected u64",
    "untagged enum",
];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bad")
        .join(format!("{name}.json"))
}

#[test]
fn every_fixture_has_a_case_and_every_case_a_fixture() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture("x").parent().unwrap())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut named: Vec<String> = CASES.iter().map(|(n, _)| n.to_string()).collect();
    named.sort();
    assert_eq!(on_disk, named);
}

#[test]
fn the_library_names_the_file_and_the_place() {
    for (name, want) in CASES {
        let path = fixture(name);
        let err = procsim::load(&path)
            .err()
            .unwrap_or_else(|| panic!("{name} was accepted"));
        let text = err.to_string();
        let file = path.display().to_string();
        assert!(
            text.starts_with(&file) && text.contains(want),
            "{name}:\n  got:  {text}\n  want: {file}…{want}…"
        );
    }
}

#[test]
fn no_error_speaks_serde() {
    for (name, _) in CASES {
        let text = procsim::load(&fixture(name)).err().unwrap().to_string();
        for words in SERDE_WORDS {
            assert!(!text.contains(words), "{name}: {text}");
        }
    }
}

#[test]
fn every_command_exits_2_with_one_clear_line() {
    for (name, want) in CASES {
        let path = fixture(name);
        for cmd in ["validate", "run", "check"] {
            let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
                .arg(cmd)
                .arg(&path)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{cmd} {name}: {err}");
            assert!(err.contains(want), "{cmd} {name}: {err}");
            assert_eq!(err.lines().count(), 1, "{cmd} {name}: {err}");
            assert!(o.stdout.is_empty(), "{cmd} {name}");
        }
    }
}

/// `procsim validate` of a file holding `text`: its exit code, its standard error, and the
/// file's name as the messages give it.
fn validate_text(tag: &str, text: &str) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("procsim-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("warn.json");
    std::fs::write(&file, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .arg("validate")
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (o.status.code(), err, file.display().to_string())
}

/// A `thread`'s attributes are read as a `spawn`'s are, and round robin's conventions under
/// another policy change nothing: both are said, with the place, and the file is valid.
#[test]
fn a_threads_attribute_and_round_robins_conventions_elsewhere_are_warnings() {
    let (code, err, f) = validate_text(
        "warn-rr",
        r#"{"kernel": {"policy": "sjf", "wake_to": "head", "slice_after_block": "keep"},
            "programs": {"main": {"body": [{"repeat": {"times": 2, "body": [
                {"thread": {"as": "t", "program": "w", "tickets": 5}}, {"join": "t"}]}}]},
                         "w": {"body": [{"cpu": 1}]}},
            "processes": [{"program": "main"}]}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    for line in [
        format!(
            "procsim: warning: {f}: programs.main.body[0].repeat.body[0].thread.tickets: the \
             `sjf` policy does not read `tickets`"
        ),
        format!(
            "procsim: warning: {f}: kernel.wake_to: `wake_to` is a convention of round robin \
             (`rr`); the `sjf` policy does not read it"
        ),
        format!(
            "procsim: warning: {f}: kernel.slice_after_block: `slice_after_block` is a \
             convention of round robin (`rr`); the `sjf` policy does not read it"
        ),
    ] {
        assert!(err.contains(&line), "missing {line:?} in {err}");
    }
    // Under round robin, which reads them, the conventions are not warned of.
    let (code, err, _) = validate_text(
        "warn-rr",
        r#"{"kernel": {"policy": "rr", "wake_to": "head", "slice_after_block": "keep"},
            "programs": {"main": {"body": [{"cpu": 1}]}}, "processes": [{"program": "main"}]}"#,
    );
    assert_eq!(code, Some(0));
    assert!(err.is_empty(), "{err}");
}

#[test]
fn an_attribute_the_policy_ignores_is_a_warning_naming_the_place() {
    let (code, err, f) = validate_text(
        "warn",
        r#"{"kernel": {"policy": "fcfs"}, "programs": {"main": {"body": [{"cpu": 1}]}},
            "processes": [{"program": "main", "priority": 3}]}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!(
            "procsim: warning: {f}: processes[0].priority: the `fcfs` policy does not read `priority`"
        )),
        "{err}"
    );
}
