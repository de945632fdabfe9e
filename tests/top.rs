//! `procsim top`: the text view at a moment (`--at`), its bad input, a real run's report
//! replayed, and the interactive view on a real pseudo-terminal (the terminal is given back on
//! every way out).

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

fn procsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(args)
        .output()
        .expect("procsim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The rows of the view's process table: NAME → (STATE, CPU TIME, ON CPU, PARENT).
fn table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip_while(|l| !l.starts_with("PID"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            // STATE may hold spaces ("blocked (join)"): split on runs of two spaces.
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The demo at tick 6, read off the README's timeline by hand: P1 ran 0–3 and waits, the shell
/// ran 4–5 and is blocked on its join, the editor was just dispatched, Process-1 is ready.
#[test]
fn the_demo_at_tick_six() {
    let o = procsim(&["top", "scenarios/demo.json", "--at", "6"]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("tick 6 of 29"), "{text}");
    let want = [
        ["2", "1", "P1", "ready", "4", "-", "init"],
        ["3", "1", "shell", "blocked (join)", "2", "-", "init"],
        ["4", "1", "editor", "running", "0", "0", "init"],
        ["5", "3", "Process-1", "ready", "0", "-", "shell"],
    ];
    assert_eq!(table(&text), want.map(|r| r.map(str::to_owned).to_vec()));
    assert!(
        text.contains("new 0  ready 2  running 1  blocked 1  terminated 0"),
        "{text}"
    );
}

/// A process's threads are listed under it (SPEC §4a), read off scenarios/thread-switch.json's
/// description, which derives the times by hand: the first dispatch costs 2 (0–2, MainProcess
/// still ready), then MainThread starts Thread-1 (spin) and joins it at 2; the switch to the thread takes 2–3, it computes 3–6 and ends at 6; the switch back
/// takes 6–7 and MainProcess ends at 7. Thread-1 is tid 3 in process 2.
#[test]
fn threads_are_listed_under_their_process() {
    let at = |t: &str| {
        let o = procsim(&["top", "scenarios/thread-switch.json", "--at", t]);
        assert!(o.status.success(), "{o:?}");
        let text = stdout(&o);
        // The states count processes: the thread's row is not among them.
        assert!(text.contains("terminated"), "{text}");
        table(&text)
    };
    let row = |r: [&str; 7]| r.map(str::to_owned).to_vec();
    assert_eq!(
        at("1"),
        [row(["2", "1", "MainProcess", "ready", "0", "-", "init"])]
    );
    assert_eq!(
        at("2"),
        [
            row(["2", "1", "MainProcess", "blocked (join)", "0", "-", "init"]),
            row([
                "3",
                "2",
                "└ Thread-1 (spin)",
                "ready",
                "0",
                "-",
                "MainProcess"
            ]),
        ]
    );
    assert_eq!(
        at("4")[1],
        row([
            "3",
            "2",
            "└ Thread-1 (spin)",
            "running",
            "1",
            "0",
            "MainProcess"
        ])
    );
    assert_eq!(
        at("7")[1],
        row([
            "3",
            "2",
            "└ Thread-1 (spin)",
            "exited",
            "3",
            "-",
            "MainProcess"
        ])
    );
}

#[test]
fn a_moment_outside_the_run_is_refused() {
    for (at, words) in [
        ("-1", "cannot be negative"),
        ("30", "ends at tick 29"),
        ("soon", "whole number"),
    ] {
        let o = procsim(&["top", "scenarios/demo.json", "--at", at]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--at {at}: {err}");
        assert!(err.contains(words), "--at {at}: {err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn a_json_report_is_replayed_as_the_scenario_is() {
    let dir = std::env::temp_dir().join(format!("procsim-top-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("demo-report.json");
    let o = procsim(&["run", "scenarios/demo.json", "--format", "json"]);
    std::fs::write(&report, &o.stdout).unwrap();
    for t in ["0", "6", "17", "29"] {
        let from_report = procsim(&["top", report.to_str().unwrap(), "--at", t]);
        let from_scenario = procsim(&["top", "scenarios/demo.json", "--at", t]);
        assert!(from_report.status.success(), "{from_report:?}");
        assert_eq!(stdout(&from_report), stdout(&from_scenario), "at {t}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A real run, replayed from its report: at its end every process has ended, and its CPU time
/// is its time in `running` by the trace (a real run's observed transitions; the kernel's own
/// figure, schedstat's, is the report's `cpu`), summed here from the trace.
#[test]
#[cfg(target_os = "linux")]
fn a_real_run_is_replayed() {
    let o = procsim(&[
        "run",
        "scenarios/proc-create.json",
        "--backend",
        "fork",
        "--format",
        "json",
    ]);
    if !o.status.success() {
        eprintln!(
            "skipped: the fork backend cannot run here: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return;
    }
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dir = std::env::temp_dir().join(format!("procsim-top-fork-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.json");
    std::fs::write(&file, &o.stdout).unwrap();
    let makespan = report["summary"]["makespan"].as_u64().unwrap();
    let end = report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["reaped_at"].as_u64())
        .fold(makespan, u64::max);
    let o = procsim(&["top", file.to_str().unwrap(), "--at", &end.to_string()]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(text.contains("[fork backend"), "{text}");
    assert!(text.contains("CPU TIME (µs)"), "{text}");
    let rows = table(&text);
    let procs = report["processes"].as_array().unwrap();
    assert_eq!(rows.len(), procs.len(), "{text}");
    // At the end every process has ended: CPU TIME is the kernel's own count, the report's
    // `cpu` (schedstat, read by its reaper), not the running time the trace observed.
    for (row, p) in rows.iter().zip(procs) {
        assert_eq!(row[2], p["name"].as_str().unwrap());
        assert!(row[3].starts_with("exited"), "{text}");
        assert_eq!(row[4], p["cpu"].as_u64().unwrap().to_string(), "{text}");
    }
    assert!(text.contains("the kernel's own count"), "{text}");
    // Halfway, no process shows more than its count, and one that has ended shows all of it.
    let half = end / 2;
    let o = procsim(&["top", file.to_str().unwrap(), "--at", &half.to_string()]);
    let text = stdout(&o);
    for (row, p) in table(&text).iter().zip(procs) {
        let shown: u64 = row[4].parse().unwrap();
        let cpu = p["cpu"].as_u64().unwrap();
        assert!(shown <= cpu, "{text}");
        if p["ended_at"].as_u64().is_some_and(|e| e <= half) {
            assert_eq!(shown, cpu, "{text}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A pseudo-terminal of `cols` × `rows`: (master, slave). Neither end is inherited by children
/// (openpty's are by default): a child holding the master open would keep the terminal from
/// ever hanging up.
fn pty(cols: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let mut master = -1;
    let mut slave = -1;
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the locals it is given; the size is read only.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty");
    for fd in [master, slave] {
        // SAFETY: fcntl on a descriptor openpty just returned.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: both descriptors were just opened by openpty and are owned here alone.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// `procsim top` on a pseudo-terminal of `cols` × `rows`: types `keys` (after the first frame)
/// and returns the exit status and everything it drew.
fn on_a_terminal(
    cols: u16,
    rows: u16,
    keys: &[&[u8]],
    signal: Option<i32>,
) -> (Option<i32>, String, String) {
    on_a_terminal_with("scenarios/demo.json", cols, rows, keys, signal)
}

/// [`on_a_terminal`] showing `file`.
fn on_a_terminal_with(
    file: &str,
    cols: u16,
    rows: u16,
    keys: &[&[u8]],
    signal: Option<i32>,
) -> (Option<i32>, String, String) {
    let (master, slave) = pty(cols, rows);
    let mut child = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(["top", file])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(slave);
    let mut master = std::fs::File::from(master);
    // Read what it draws on another thread: a full pty would stop it.
    let mut reader = master.try_clone().unwrap();
    let drawn = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    std::thread::sleep(Duration::from_millis(700));
    for k in keys {
        master.write_all(k).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    if let Some(sig) = signal {
        // SAFETY: kill(2) on the child this test started and has not reaped.
        unsafe { libc::kill(child.id() as i32, sig) };
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("procsim top did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The reader ends when the last slave descriptor closes (the child's).
    drop(master);
    let drawn = String::from_utf8_lossy(&drawn.join().unwrap()).into_owned();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), drawn, err)
}

/// The terminal is given back (main screen, cursor shown) after whatever the view drew last.
fn restored(drawn: &str) {
    let leave = drawn
        .rfind("\x1b[?1049l")
        .expect("left the alternate screen");
    let enter = drawn
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    assert!(leave > enter);
    let hidden = drawn.rfind("\x1b[?25l").expect("hid the cursor");
    let shown = drawn.rfind("\x1b[?25h").expect("showed the cursor again");
    assert!(shown > hidden);
}

#[test]
#[cfg(target_os = "linux")]
fn the_interactive_view_steps_and_quits() {
    // Four steps forward from tick 0's two events: P1 preempted at 4, shell dispatched.
    let (code, drawn, err) = on_a_terminal(
        100,
        24,
        &[b"\x1b[C", b"\x1b[C", b"\x1b[C", b"\x1b[C", b"q"],
        None,
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(drawn.contains("tick 0 of 29"), "{drawn}");
    assert!(drawn.contains("tick 4 of 29"), "{drawn}");
    assert!(drawn.contains("event 6/30"), "{drawn}");
    restored(&drawn);
}

/// A file to show, in a directory of this test's own.
fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = common::scratch_dir("top-files");
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A run that `max_ticks` stops at tick 5, mid-burst.
const STOPPED: &str = r#"{"kernel": {"max_ticks": 5}, "programs": {"m": {"body": [{"cpu": 10}]}},
    "processes": [{"program": "m"}]}"#;

#[test]
fn a_file_that_is_no_report_is_refused_naming_it() {
    let report = procsim(&["run", "scenarios/demo.json", "--format", "json"]);
    let good = String::from_utf8(report.stdout).unwrap();
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "garbage.txt",
            b"garbage\n".to_vec(),
            ":1:1: not JSON (expected value)",
        ),
        ("zeros.bin", vec![0; 64], ":1:1: not JSON (expected value)"),
        (
            "list.json",
            b"[1, 2]".to_vec(),
            ": the top level is not an object",
        ),
        (
            "cut.json",
            good.replacen(r#""t":0,"#, "", 1).into_bytes(),
            r#"trace[0]: this object needs the key "t": not a report procsim can read"#,
        ),
        (
            "wrong-type.json",
            good.replacen(r#""makespan":29"#, r#""makespan":"29""#, 1)
                .into_bytes(),
            "summary.makespan: expected a whole number from 0 to 18446744073709551615, found the string \"29\": not a report procsim can read",
        ),
        (
            "trailing.json",
            format!("{good} x").into_bytes(),
            "trailing characters after the report",
        ),
    ];
    for (name, bytes, words) in cases {
        let f = temp_file(name, &bytes);
        let o = procsim(&["top", f.to_str().unwrap(), "--at", "0"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.starts_with(&format!("procsim: {}", f.display())) && err.contains(words),
            "{name}: {err}"
        );
        assert!(
            err.contains("procsim run FILE --format json"),
            "{name}: {err}"
        );
        assert!(
            !err.contains('`') || err.contains("`procsim run"),
            "{name}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(o.stdout.is_empty(), "{name}");
    }
    // /dev/zero is refused at its first byte, not read into memory.
    let o = procsim(&["top", "/dev/zero", "--at", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not JSON"));
}

/// A report on a pipe is read once (`procsim top <(procsim run F --format json)`): reading it a
/// second time found the pipe drained.
#[test]
fn a_report_on_a_pipe_is_shown() {
    let bin = env!("CARGO_BIN_EXE_procsim");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{bin} top <({bin} run scenarios/demo.json --format json) --at 5"
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("tick 5 of 29"), "{out}");
}

/// A stopped run is shown, and says that it stopped and why; `top` exits 3 for it, as `run`
/// does (README, "Following a run").
#[test]
fn a_stopped_run_is_shown_and_says_why() {
    let scenario = temp_file("stopped.json", STOPPED.as_bytes());
    let o = procsim(&["run", scenario.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(3));
    let report = temp_file("stopped-report.json", &o.stdout);
    let why = "stopped at tick 5: kernel.max_ticks (5) reached with processes still running";
    for f in [&scenario, &report] {
        let o = procsim(&["top", f.to_str().unwrap(), "--at", "3"]);
        let (out, err) = (stdout(&o), String::from_utf8_lossy(&o.stderr).into_owned());
        assert_eq!(o.status.code(), Some(3), "{}: {err}", f.display());
        assert_eq!(
            out.lines().nth(1).unwrap_or_default(),
            format!("the run did not finish: {why}; raise it in the scenario's \"kernel\" block"),
            "{out}"
        );
        assert!(out.contains("tick 3 of 5"), "{out}");
        assert!(
            err.contains(why) && err.contains("showing the partial run"),
            "{err}"
        );
    }
    // A run that finished says nothing of the kind, and exits 0.
    let o = procsim(&["top", "scenarios/demo.json", "--at", "3"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("did not finish"));
}

#[test]
#[cfg(target_os = "linux")]
fn the_interactive_view_of_a_stopped_run_says_so_and_exits_3() {
    let f = temp_file("stopped-tui.json", STOPPED.as_bytes());
    let (code, drawn, err) = on_a_terminal_with(f.to_str().unwrap(), 100, 24, &[b"q"], None);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        drawn.contains("the run did not finish: stopped at tick 5"),
        "{drawn}"
    );
    restored(&drawn);
}

#[test]
#[cfg(target_os = "linux")]
fn ctrl_c_and_signals_give_the_terminal_back() {
    let (code, drawn, err) = on_a_terminal(100, 24, &[b" ", b"\x03"], None);
    assert_eq!(code, Some(0), "{err}");
    restored(&drawn);
    let (code, drawn, err) = on_a_terminal(100, 24, &[], Some(libc::SIGTERM));
    assert_eq!(code, Some(128 + libc::SIGTERM), "{err}");
    restored(&drawn);
}

#[test]
#[cfg(target_os = "linux")]
fn a_terminal_too_small_says_so() {
    // Wide enough for the whole sentence on one row, too few rows for the view.
    let (code, drawn, err) = on_a_terminal(100, 6, &[b"q"], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        drawn.contains(
            "Terminal too small: 100x6; procsim top needs 60x10. Enlarge it, or press q."
        ),
        "{drawn}"
    );
    assert!(!drawn.contains("PID"), "{drawn}");
    restored(&drawn);
    // Narrower: the short wording, on one row (never a word a row).
    let (code, drawn, err) = on_a_terminal(40, 6, &[b"q"], None);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        drawn.contains("Too small: 40x6, needs 60x10; q quits"),
        "{drawn}"
    );
    assert!(!drawn.contains("Terminal too small"), "{drawn}");
    assert!(!drawn.contains("PID"), "{drawn}");
    restored(&drawn);
}

/// A terminal too small to hold even the shortest "too small" line (1×1 once wrote the
/// sentence a character a row): the view gives the terminal back and says why on standard
/// error, exit 2, without a key pressed.
#[test]
#[cfg(target_os = "linux")]
fn a_terminal_of_one_cell_gets_a_message_on_standard_error() {
    let (code, drawn, err) = on_a_terminal(1, 1, &[], None);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("the terminal is 1x1, too small") && err.contains("--at T"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!drawn.contains("Terminal too small"), "{drawn:?}");
    restored(&drawn);
}

#[test]
fn without_a_terminal_it_says_to_use_at() {
    let o = procsim(&["top", "scenarios/demo.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--at"));
}

#[test]
fn control_characters_in_names_are_shown_not_sent() {
    let dir = std::env::temp_dir().join(format!("procsim-top-esc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("evil.json");
    std::fs::write(
        &file,
        r#"{"name": "t\u001b]0;owned\u0007", "programs": {"m": {"body": [{"cpu": 2}]}},
            "processes": [{"program": "m", "name": "a\u001b[2Jb"}]}"#,
    )
    .unwrap();
    let o = procsim(&["top", file.to_str().unwrap(), "--at", "1"]);
    assert!(o.status.success(), "{o:?}");
    let text = stdout(&o);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("a\\x1b[2Jb"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A terminal that goes away (its window closed, its ssh session dropped) ends the view: the
/// pseudo-terminal's other end is closed with no SIGHUP sent, and `top` must notice by itself
/// (crossterm alone read end-of-file in a loop, at 45 % CPU, deaf to SIGTERM).
#[test]
#[cfg(target_os = "linux")]
fn a_terminal_that_hangs_up_ends_the_view() {
    let (master, slave) = pty(100, 24);
    let mut child = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(["top", "scenarios/demo.json"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(slave);
    // Drain the first frames so the view is past its set-up, then hang up.
    let mut reader = std::fs::File::from(master);
    let mut buf = [0u8; 65536];
    let _ = reader.read(&mut buf);
    std::thread::sleep(Duration::from_millis(500));
    drop(reader);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("procsim top kept running after its terminal hung up");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(128 + libc::SIGHUP));
}
