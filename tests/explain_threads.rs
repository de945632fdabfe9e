//! `procsim run FILE --explain` on threads (SPEC §4a): each decision names the task as a
//! student reads it (`MainProcess/Thread-1 (spin)`; a process that never had a second thread
//! keeps its plain name) and tells the thread rules: a thread started, a CPU passing over a
//! thread whose process's GIL another holds, the GIL let go at a slice end, a lock's waiters
//! and hand-over, `thread_switch` against `context_switch`, a main thread waiting for its
//! non-daemon threads, daemon threads ending with their process. Every expected line below
//! was derived by hand from the scenario (the derivation is in the comment above it) before
//! procsim was run on it.

use std::path::PathBuf;
use std::process::Command;

use procsim::report::render_explain;
use procsim::{Sim, SimOptions};

fn explain_file(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let (_, plan) = procsim::load(&path).unwrap();
    let (report, ex) = Sim::new(plan, SimOptions::default()).run_explained();
    render_explain(&report, &ex)
}

/// The lines in the order given, each present (other lines may come between).
fn has_in_order(text: &str, lines: &[&str]) {
    let mut rest = text.lines();
    for want in lines {
        assert!(
            rest.any(|l| l == *want),
            "missing, or out of order:\n{want}\nin\n{text}"
        );
    }
}

/// `thread-switch`: context_switch 2, thread_switch 1, one CPU, round robin. MainProcess
/// (pid 2) is the CPU's first task: a context switch of 2 ticks (0-2), running at 2. It
/// starts Thread-1 (spin), tid 3 (the next pid), and joins it at 2: the CPU switches between
/// two threads of one process, thread_switch 1 (2-3); the thread computes 3 ticks (3-6) and
/// ends; MainThread wakes at 6 and the switch back costs 1 again (6-7); it ends at 7. From
/// the thread's start on, MainProcess has two threads: its main thread is named
/// `MainProcess/MainThread`.
#[test]
fn thread_switch_against_context_switch() {
    let text = explain_file("scenarios/thread-switch.json");
    has_in_order(
        &text,
        &[
            "     0  context switch on CPU 0 to MainProcess (nothing run yet): context_switch 2 ticks, during which it stays ready",
            "     2  MainProcess: ready → running, dispatched on CPU 0",
            "     2  MainProcess/MainThread starts thread MainProcess/Thread-1 (spin) (tid 3): a task of its own, run by the policy like a process, sharing MainProcess's globals; it is ready at once",
            "     2  MainProcess/Thread-1 (spin): new → ready, admitted: a thread of its process started it",
            "     2  MainProcess/MainThread: running → blocked, blocks in join, waiting for a thread or a child to end [0 ticks running]",
            "     2  thread switch on CPU 0 to MainProcess/Thread-1 (spin) (MainProcess/MainThread before, the same process): thread_switch 1 tick, during which it stays ready",
            "     3  MainProcess/Thread-1 (spin): ready → running, dispatched on CPU 0",
            "     6  MainProcess/Thread-1 (spin): running → terminated, ends on CPU 0",
            "     6  MainProcess/MainThread: blocked → ready, wakes: what it waited for ended, after 4 ticks blocked (since tick 2)",
            "     6  thread switch on CPU 0 to MainProcess/MainThread (MainProcess/Thread-1 (spin) before, the same process): thread_switch 1 tick, during which it stays ready",
            "     7  MainProcess/MainThread: ready → running, dispatched on CPU 0",
            "     7  MainProcess/MainThread: running → terminated, ends on CPU 0, exit code 0 [0 ticks running]",
        ],
    );
}

/// `thread-gil-two-cpus`: two CPUs, round robin with quantum 4, the GIL on. MainThread
/// starts Thread-1 and Thread-2 (spin, 10 ticks each) and blocks joining Thread-1 at 0. CPU 0
/// takes Thread-1 (first in the admit group); CPU 1 picks Thread-2, but Thread-1 holds the
/// GIL on CPU 0: Thread-2 is set aside. At 4 Thread-1's slice ends and it drops the GIL (the
/// switch interval): Thread-2 rejoins in the wake group, which comes before the preempt group
/// (tick_order wake, admit, preempt), so CPU 0 takes Thread-2 ahead of Thread-1, and CPU 1
/// passes over Thread-1. They alternate: Thread-1 runs 0-4, 8-12, 16-18 (10 ticks) and ends
/// at 18, letting go of the GIL as it ends; MainThread wakes then (blocked since 0, it goes
/// before Thread-2, ready since 16, in the wake group), CPU 0 takes it and CPU 1 passes over
/// Thread-2 again; MainThread joins Thread-2 at once and lets the GIL go as it blocks. The two
/// processes forked at 20 are named as processes (one thread each), and run side by side.
#[test]
fn the_gil_sets_a_thread_aside_and_passes_at_slice_ends() {
    let text = explain_file("scenarios/thread-gil-two-cpus.json");
    let set_aside = |t: u32, cpu: u32, who: &str, holder: &str| {
        format!(
            "{t:>6}  CPU {cpu} passes over MainProcess/{who}: MainProcess/{holder} holds MainProcess's GIL on CPU 0, so only one of its threads runs at a time (kernel.gil); it stays ready, set aside until the GIL is let go, and CPU {cpu} picks again"
        )
    };
    let slice_end = |t: u32, who: &str, other: &str| {
        format!(
            "{t:>6}  MainProcess/{who} lets go of MainProcess's GIL: its slice ran out (as CPython's switch interval makes the holder drop the GIL); set aside for it, MainProcess/{other} rejoins the ready structure with this tick's woken tasks"
        )
    };
    let (t1, t2) = ("Thread-1 (spin)", "Thread-2 (spin)");
    let lines = [
        "     0  CPU 0 takes MainProcess/Thread-1 (spin) (1st of 2 in the queue) by the rule, ahead of MainProcess/Thread-2 (spin) (2nd of 2 in the queue)".to_owned(),
        set_aside(0, 1, t2, t1),
        slice_end(4, t1, t2),
        "     4  MainProcess/Thread-2 (spin) (1st of 1 in the queue) joins the ready structure (woken, or set aside for the GIL and free to run now); in the wake group (by the tick they blocked, then pid): at the tail of the queue (wake_to: tail)".to_owned(),
        "     4  CPU 0 takes MainProcess/Thread-2 (spin) (1st of 2 in the queue) by the rule, ahead of MainProcess/Thread-1 (spin) (2nd of 2 in the queue)".to_owned(),
        set_aside(4, 1, t1, t2),
        slice_end(8, t2, t1),
        set_aside(8, 1, t2, t1),
        slice_end(12, t1, t2),
        set_aside(12, 1, t1, t2),
        slice_end(16, t2, t1),
        set_aside(16, 1, t2, t1),
        "    18  MainProcess/Thread-1 (spin) lets go of MainProcess's GIL: it ends; set aside for it, MainProcess/Thread-2 (spin) rejoins the ready structure with this tick's woken tasks".to_owned(),
        "    18  MainProcess/Thread-1 (spin): running → terminated, ends on CPU 0".to_owned(),
        "    18  CPU 0 takes MainProcess/MainThread (1st of 2 in the queue) by the rule, ahead of MainProcess/Thread-2 (spin) (2nd of 2 in the queue)".to_owned(),
        set_aside(18, 1, t2, "MainThread"),
        "    18  MainProcess/MainThread lets go of MainProcess's GIL: it blocks; set aside for it, MainProcess/Thread-2 (spin) rejoins the ready structure with this tick's woken tasks".to_owned(),
        "    20  MainProcess/Thread-2 (spin): running → terminated, ends on CPU 0".to_owned(),
        "    20  context switch on CPU 0 to Process-1 (MainProcess/MainThread before); free, context_switch is 0".to_owned(),
        "    20  CPU 1 takes Process-2 (1st of 1 in the queue), the only one ready".to_owned(),
        "    30  Process-1: running → terminated, ends on CPU 0, exit code 0".to_owned(),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    has_in_order(&text, &lines);
    // Two processes on two CPUs: nobody is set aside after 18.
    assert_eq!(text.matches("passes over").count(), 6, "{text}");
}

/// `thread-lock`: Thread-1 (holder) acquires L at 0 and sleeps 3 ticks holding it; Thread-2
/// and Thread-3 (waiter) acquire it at 1 and 2 and block, Thread-2 first in line and Thread-3
/// behind it. Thread-1's release at 3 hands L to Thread-2, which wakes holding it (blocked
/// since 1: 2 ticks); Thread-2 sleeps 1 tick and its release at 4 hands L to Thread-3
/// (blocked since 2: 2 ticks). The last to take L (acquire or hand-over) is who holds it.
#[test]
fn a_lock_names_its_holder_and_hands_over_to_the_first_waiter() {
    let text = explain_file("scenarios/thread-lock.json");
    has_in_order(
        &text,
        &[
            "     1  MainProcess/Thread-2 (waiter) waits for lock `L`: MainProcess/Thread-1 (holder) holds it; it blocks, first in line (a release hands the lock to the first waiter)",
            "     1  MainProcess/Thread-2 (waiter): running → blocked, blocks acquiring a lock another thread holds [0 ticks running]",
            "     2  MainProcess/Thread-3 (waiter) waits for lock `L`: MainProcess/Thread-1 (holder) holds it; it blocks, behind 1 waiting before it (a release hands the lock to the first waiter)",
            "     3  MainProcess/Thread-1 (holder) releases lock `L`: it goes to MainProcess/Thread-2 (waiter), its first waiter, which wakes holding it",
            "     3  MainProcess/Thread-2 (waiter): blocked → ready, wakes: a release handed it the lock, after 2 ticks blocked (since tick 1)",
            "     4  MainProcess/Thread-2 (waiter) releases lock `L`: it goes to MainProcess/Thread-3 (waiter), its first waiter, which wakes holding it",
            "     4  MainProcess/Thread-3 (waiter): blocked → ready, wakes: a release handed it the lock, after 2 ticks blocked (since tick 2)",
        ],
    );
}

/// `thread-daemon-end`: Process-1's MainThread starts daemon Thread-1 (long, sleeps 5) and
/// Thread-2 (long, sleeps 2), and ends at 0: it waits for its one non-daemon thread. Thread-2
/// ends at 2, MainThread wakes and the process ends; the daemon thread, blocked since 0,
/// ends with it. MainProcess, which has one thread, keeps its plain name throughout.
#[test]
fn the_main_thread_waits_for_non_daemon_threads_and_daemons_end_with_the_process() {
    let text = explain_file("scenarios/thread-daemon-end.json");
    has_in_order(
        &text,
        &[
            "     0  Process-1: new → ready, admitted: its parent MainProcess ran start",
            "     0  Process-1/MainThread is at its end and waits for Process-1's 1 non-daemon thread still alive before the process ends (threading._shutdown)",
            "     0  Process-1/MainThread: running → blocked, blocks in join, waiting for a thread or a child to end [0 ticks running]",
            "     2  Process-1/Thread-2 (long): running → terminated, ends on CPU 0 [0 ticks running]",
            "     2  Process-1 ends: its one thread still alive, a daemon thread, ends with it (no thread outlives its process; nobody waits for a daemon thread)",
            "     2  Process-1/Thread-1 (long): blocked → terminated, ends with its process (exit_group), after 2 ticks blocked (since tick 0)",
            "     2  Process-1/MainThread: running → terminated, ends on CPU 0, exit code 0 [0 ticks running]",
            "     2  MainProcess: blocked → ready, wakes: the child it waited for ended, after 2 ticks blocked (since tick 0)",
        ],
    );
}

/// The command explains a run with threads (it refused it, exit 2, before).
#[test]
fn the_command_explains_a_run_with_threads() {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/thread-switch.json");
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args(["run", file.to_str().unwrap(), "--explain"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out, explain_file("scenarios/thread-switch.json"));
}
