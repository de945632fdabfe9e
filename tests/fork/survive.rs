//! Nothing a scenario starts outlives the run: on a normal end, an error, a timeout, and
//! SIGINT, SIGTERM or SIGKILL to the CLI, with and without a PID namespace.

use super::*;

/// A scenario whose processes live long: a sleeper with a child, a CPU burner, a daemon (which
/// may have no child: `daemonic processes are not allowed to have children`), under the posix
/// policy (so orphans are possible).
pub(crate) const LONG: &str = r#"{"kernel": {"exit_policy": "posix"},
  "programs": {
    "main": {"body": [{"fork": {"as": "a", "program": "sleeper"}},
                      {"fork": {"as": "b", "program": "burner"}},
                      {"fork": {"as": "d", "program": "leaf", "daemon": true}},
                      {"sleep": "$t"}]},
    "sleeper": {"body": [{"thread": {"as": "x", "program": "burner"}},
                         {"thread": {"as": "y", "program": "forker", "daemon": true}},
                         {"sleep": "$t"}]},
    "forker": {"body": [{"fork": {"as": "g", "program": "leaf"}}, {"sleep": "$t"}]},
    "burner": {"body": [{"cpu": "$t"}]},
    "leaf": {"body": [{"sleep": "$t"}]}},
  "globals": {"t": TICKS},
  "processes": [{"program": "main"}]}"#;

/// Processes of the run: 5 of the scenario, the supervisor (and the shim in a namespace).
/// `sleeper` has two threads too (SPEC §4a): one computing, and a daemon one that forks `g`
/// and sleeps; they die with their process, whatever ends it.
const SCENARIO_PROCESSES: usize = 5;

/// Every process whose environment holds `token`, with its start time (to tell a reused pid).
pub(crate) fn processes_with(token: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|kv| kv == token.as_bytes())
            && let Some(start) = start_time(pid)
        {
            out.push((pid, start));
        }
    }
    out
}

fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22, counted after the parenthesized command name.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(19).map(str::to_owned)
}

/// The processes among `seen` that still exist (alive or zombie), with their state.
pub(crate) fn survivors(seen: &[(u32, String)]) -> Vec<String> {
    seen.iter()
        .filter(|(pid, start)| start_time(*pid).as_ref() == Some(start))
        .map(|(pid, _)| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            format!("pid {pid}: {}", stat.trim())
        })
        .collect()
}

enum Ending {
    Normal,
    Error,
    Timeout,
    Signal(i32),
}

fn ending_leaves_nothing(ending: Ending, no_namespace: bool) {
    if !available() {
        return;
    }
    let token = format!(
        "PROCSIM_LEFTOVER_TEST={}-{}-{}",
        std::process::id(),
        no_namespace,
        match ending {
            Ending::Normal => "normal".to_owned(),
            Ending::Error => "error".to_owned(),
            Ending::Timeout => "timeout".to_owned(),
            Ending::Signal(s) => format!("sig{s}"),
        }
    );
    // Ticks of 1 ms: 400 ticks for a normal end, far more when something else must end it.
    let ticks = match ending {
        Ending::Normal => 400,
        _ => 600_000,
    };
    let mut body = LONG.replace("TICKS", &ticks.to_string());
    if let Ending::Error = ending {
        // The burner runs into max_steps: the run stops with an error while the rest sleeps.
        body = body.replace(
            r#""burner": {"body": [{"cpu": "$t"}]}"#,
            r#""burner": {"body": [{"sleep": 300}, {"repeat": {"times": 1000000000, "body": [{"cpu": 0}]}}]}"#,
        );
        body = body.replace(r#""kernel": {"#, r#""kernel": {"max_steps": 200000, "#);
    }
    let f = temp(&format!("long-{}.json", token.replace('=', "-")), &body);
    let (key, value) = token.split_once('=').unwrap();
    let mut cmd = Command::new(bin());
    cmd.args(["run", "--backend", "fork", "--format", "summary"])
        .arg(&f)
        .env(key, value)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if no_namespace {
        cmd.arg("--no-namespace");
    }
    if let Ending::Timeout = ending {
        cmd.args(["--timeout", "1"]);
    }
    let mut child = cmd.spawn().unwrap();
    // Wait until the whole run exists, remembering every process seen.
    let expected = SCENARIO_PROCESSES + 1 + usize::from(!no_namespace);
    let mut seen: Vec<(u32, String)> = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        for p in processes_with(&token) {
            if !seen.contains(&p) {
                seen.push(p);
            }
        }
        // The CLI itself carries the token too.
        if seen.len() > expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        seen.len() > expected,
        "only saw {} processes of the run",
        seen.len()
    );
    let status = match ending {
        Ending::Signal(sig) => {
            // SAFETY: kill(2) on our own child, which we have not reaped.
            unsafe { libc::kill(child.id() as i32, sig) };
            child.wait().unwrap()
        }
        _ => child.wait().unwrap(),
    };
    let stderr = {
        use std::io::Read;
        let mut s = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut s));
        s
    };
    match ending {
        Ending::Normal => assert!(status.success(), "{stderr}"),
        Ending::Error => {
            assert_eq!(status.code(), Some(3), "{stderr}");
            assert!(stderr.contains("max_steps"), "{stderr}");
        }
        Ending::Timeout => {
            assert_eq!(status.code(), Some(3), "{stderr}");
            assert!(stderr.contains("timed out"), "{stderr}");
            assert!(
                stderr.contains(
                    "procsim: fence: wall-clock fence: the run reached its limit of 1 s (--timeout;"
                ),
                "{stderr}"
            );
        }
        Ending::Signal(libc::SIGKILL) => {}
        Ending::Signal(sig) => assert_eq!(status.code(), Some(128 + sig), "{stderr}"),
    }
    let cli = child.id();
    let run: Vec<(u32, String)> = seen.into_iter().filter(|(pid, _)| *pid != cli).collect();
    if let Ending::Signal(libc::SIGKILL) = ending {
        // The CLI cannot reap anything once killed: its child, the supervisor, is reparented
        // to init and reaped by it (after the supervisor has killed and reaped the run). Give
        // init the time it takes.
        let t0 = Instant::now();
        while !survivors(&run).is_empty() && t0.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let left = survivors(&run);
    assert!(left.is_empty(), "left after the run:\n{}", left.join("\n"));
    let live = processes_with(&token);
    assert!(live.is_empty(), "live processes of the run: {live:?}");
}

#[test]
fn nothing_survives_a_normal_end() {
    ending_leaves_nothing(Ending::Normal, false);
}

#[test]
fn nothing_survives_a_normal_end_without_a_namespace() {
    ending_leaves_nothing(Ending::Normal, true);
}

#[test]
fn nothing_survives_an_error() {
    ending_leaves_nothing(Ending::Error, false);
}

#[test]
fn nothing_survives_an_error_without_a_namespace() {
    ending_leaves_nothing(Ending::Error, true);
}

#[test]
fn nothing_survives_a_timeout() {
    ending_leaves_nothing(Ending::Timeout, false);
}

#[test]
fn nothing_survives_a_timeout_without_a_namespace() {
    ending_leaves_nothing(Ending::Timeout, true);
}

#[test]
fn nothing_survives_sigint_to_the_cli() {
    ending_leaves_nothing(Ending::Signal(libc::SIGINT), false);
}

#[test]
fn nothing_survives_sigterm_to_the_cli_without_a_namespace() {
    ending_leaves_nothing(Ending::Signal(libc::SIGTERM), true);
}

#[test]
fn nothing_survives_sigterm_to_the_cli() {
    ending_leaves_nothing(Ending::Signal(libc::SIGTERM), false);
}

#[test]
fn nothing_survives_sigkill_to_the_cli() {
    ending_leaves_nothing(Ending::Signal(libc::SIGKILL), false);
}

#[test]
fn nothing_survives_sigkill_to_the_cli_without_a_namespace() {
    ending_leaves_nothing(Ending::Signal(libc::SIGKILL), true);
}
