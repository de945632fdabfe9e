//! The fork backend's cost per process, side by side with the least a program can do: a C
//! loop of `fork()` + `_exit()` + `waitpid()` (`benches/fork_loop.c`, compiled here with the
//! system's C compiler), and, for scale, Python's multiprocessing with the `fork` start method
//! (`benches/fork_loop.py`). `cargo bench --bench fork`; criterion reports each as children
//! per second ("elem/s"), so the time per child is its inverse.
//!
//! The procsim figure is end to end: the CLI starts the supervisor (a new PID namespace and
//! its `/proc`), the scenario's main process forks and joins 500 children one after another,
//! every event travels to the CLI, and the report is built. The goal: at most twice the C
//! loop's time per child. procsim pins a `cpus: 1` run to one CPU, so the C loop is measured
//! both as is and pinned the same way.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CHILDREN: u64 = 500;
const PY_CHILDREN: u64 = 100;

fn c_loop() -> Option<PathBuf> {
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fork_loop");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fork_loop.c");
    let ok = Command::new("cc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(exe)
}

fn scenario() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fork500.json");
    let text = format!(
        r#"{{"name": "{CHILDREN} children forked and joined one after another",
            "programs": {{"main": {{"body": [{{"repeat": {{"times": {CHILDREN}, "body": [
                {{"fork": {{"as": "w", "program": "child"}}}}, {{"join": "w"}}]}}}}]}},
              "child": {{"body": []}}}},
            "processes": [{{"program": "main"}}]}}"#
    );
    std::fs::write(&path, text).expect("the target directory is writable");
    path
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("the benchmark's command runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fork_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("fork_join_one_after_another");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(CHILDREN));
    if let Some(exe) = c_loop() {
        group.bench_function("c_fork_exit_waitpid", |b| {
            b.iter(|| run(Command::new(&exe).arg(CHILDREN.to_string())))
        });
        // Pinned to the CPU procsim pins a `cpus: 1` run to (the last one), for a like-for-like
        // figure: parent and child then share one CPU and its caches in both.
        let last = std::thread::available_parallelism().map_or(0, |n| n.get() - 1);
        group.bench_function("c_fork_exit_waitpid_pinned", |b| {
            b.iter(|| {
                run(Command::new(&exe)
                    .arg(CHILDREN.to_string())
                    .arg(last.to_string()))
            })
        });
    } else {
        eprintln!("no C compiler (cc): the C reference loop is skipped");
    }
    let file = scenario();
    group.bench_function("procsim_fork_backend", |b| {
        b.iter(|| {
            run(Command::new(env!("CARGO_BIN_EXE_procsim"))
                .args(["run", "--backend", "fork", "--format", "summary"])
                .arg(&file))
        })
    });
    group.throughput(Throughput::Elements(PY_CHILDREN));
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fork_loop.py");
    if Command::new("python3").arg("-V").output().is_ok() {
        group.bench_function("python_multiprocessing_fork", |b| {
            b.iter(|| {
                run(Command::new("python3")
                    .arg(&py)
                    .arg(PY_CHILDREN.to_string()))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, fork_join);
criterion_main!(benches);
