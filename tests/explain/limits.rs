//! The log's limits: lists of processes bounded in a line, a run stopped by a limit, the
//! kept log bounded by `max_trace`, and a large generated run explained in linear size.

use super::*;

/// Fifty processes ready at once (round robin, quantum 1): every line names at most
/// `LISTED` of them and counts the rest, so a line's length does not grow with the run.
#[test]
fn lists_of_processes_are_bounded() {
    let procs: Vec<Json> = (0..50)
        .map(|i| json!({"program": "m", "name": format!("P{i}")}))
        .collect();
    let doc = json!({"name": "many", "kernel": {"quantum": 1},
        "programs": {"m": {"body": [{"cpu": 3}]}}, "processes": procs});
    let (text, stopped) = streamed(&doc.to_string());
    assert_eq!(stopped, None);
    let listed = procsim::report::explain::LISTED;
    // At 0 all fifty join together: eight named, 42 counted.
    has(
        &text,
        "     0  P0 (1st of 50 in the queue), P1 (2nd of 50 in the queue), P2 (3rd of 50 in the queue), P3 (4th of 50 in the queue), P4 (5th of 50 in the queue), P5 (6th of 50 in the queue), P6 (7th of 50 in the queue), P7 (8th of 50 in the queue), … and 42 more join the ready structure (admitted); in the admit group (arrivals in file order, then starts in the order they ran): at the tail of the queue",
    );
    // Then P0 is taken ahead of the 49 others: eight named, 41 counted.
    assert!(
        text.lines().any(|l| l.starts_with("     0  CPU 0 takes P0 (1st of 50 in the queue) by the rule, ahead of P1 (2nd of 50 in the queue), ")
            && l.ends_with("P8 (9th of 50 in the queue), … and 41 more")),
        "{text}"
    );
    for l in text.lines() {
        assert!(
            l.matches(" in the queue)").count() <= listed + 1,
            "more than {listed} + 1 processes named: {l}"
        );
        assert!(l.len() < 1000, "{l}");
    }
}

/// A run stopped by a limit: the explanation ends with a line naming it, the CLI exits 3 and
/// says which limit on standard error.
#[test]
fn a_run_stopped_by_a_limit_says_which() {
    let dir = std::env::temp_dir().join(format!("procsim-explain-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("limit.json");
    std::fs::write(
        &file,
        r#"{"name": "limited", "kernel": {"quantum": 1, "max_trace": 20},
            "programs": {"m": {"body": [{"cpu": 50}]}},
            "processes": [{"program": "m", "count": 3}]}"#,
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(["run", file.to_str().unwrap(), "--explain"])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("kernel.max_trace"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap();
    assert!(
        last.contains("the run stops here: ")
            && last.contains("kernel.max_trace (20 trace events) reached"),
        "{out}"
    );
    // Twenty transitions told, no more.
    let transitions = out
        .lines()
        .filter(|l| l.contains(" → ") && l.contains(", "))
        .filter(|l| l[8..].starts_with("m-"))
        .count();
    assert!(transitions <= 20, "{out}");
}

/// The log kept whole (`Sim::run_explained`, for tests and small runs) is bounded as the trace
/// is: at `kernel.max_trace` entries the run stops with an error saying so. At quantum 1 three
/// processes make about five decisions (a slice end, a join, a pick, a switch, a slice) for
/// every two transitions, so the log reaches 20 entries before the trace does.
#[test]
fn the_kept_log_is_bounded_by_max_trace() {
    let (report, ex) = explained(
        r#"{"name": "limited", "kernel": {"quantum": 1, "max_trace": 20},
            "programs": {"m": {"body": [{"cpu": 50}]}},
            "processes": [{"program": "m", "count": 3}]}"#,
    );
    let err = report.error.as_deref().unwrap_or("");
    assert!(
        err.contains("kernel.max_trace (20 decisions) reached by the explanation kept whole"),
        "{err}"
    );
    assert_eq!(ex.log.len(), 20);
}

/// A generated run of thousands of processes, through the binary: the output grows with the
/// run's steps, not with steps × processes (it once listed every ready process on every
/// line: 442 MB for 2,000 processes). Bytes are counted, nothing is timed: each line stays
/// short, and the bytes a line are about the same for 200 processes and for 2,000.
#[test]
fn a_large_generated_run_explains_in_linear_size() {
    let bin = env!("CARGO_BIN_EXE_procsim");
    let dir = std::env::temp_dir().join(format!("procsim-explain-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let measure = |n: u32| -> (usize, usize, usize) {
        let file = dir.join(format!("gen-{n}.json"));
        let o = Command::new(bin)
            .args(["gen", "--seed", "7", "--processes", &n.to_string()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        std::fs::write(&file, &o.stdout).unwrap();
        let o = Command::new(bin)
            .args(["run", file.to_str().unwrap(), "--explain"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let lines = o.stdout.split(|&b| b == b'\n').count();
        let longest = o
            .stdout
            .split(|&b| b == b'\n')
            .map(<[u8]>::len)
            .max()
            .unwrap();
        (o.stdout.len(), lines, longest)
    };
    let (small_bytes, small_lines, small_longest) = measure(200);
    let (bytes, lines, longest) = measure(2000);
    std::fs::remove_dir_all(&dir).ok();
    // Ten times the processes, about ten times the steps (each does about the same work).
    assert!(lines > 8 * small_lines, "{lines} vs {small_lines}");
    // A line names at most 9 processes, with standings like `P1999 (1999th of 2000 in the
    // queue)` (36 bytes): a line stays under 600 bytes however many processes wait.
    assert!(
        longest < 600 && small_longest < 600,
        "{longest} {small_longest}"
    );
    let per_line = bytes as f64 / lines as f64;
    let small_per_line = small_bytes as f64 / small_lines as f64;
    assert!(per_line < 200.0, "{per_line} bytes a line");
    assert!(
        per_line < 1.5 * small_per_line,
        "{per_line} bytes a line for 2,000 processes, {small_per_line} for 200"
    );
}
