//! Inputs the fuzzers (`fuzz/`) found crashing, hanging or exhausting memory, replayed through
//! the library under the same caps as in the fuzz targets: each must be refused with a clean
//! error or run to a report that satisfies the kernel's invariants, without panicking.
//!
//! `tests/fuzz/*.json` are scenario files (a `structured` crasher is kept as the JSON it was
//! built into); `*.bin` files are raw `parse_run` inputs that need not be JSON at all.

use std::path::PathBuf;

#[allow(dead_code)]
#[path = "../fuzz/src/harness.rs"]
mod harness;

use harness::Outcome;

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "bin")))
        .collect();
    files.sort();
    files
}

fn run(name: &str) -> Outcome {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz")
        .join(name);
    harness::run_bytes(&std::fs::read(&path).unwrap())
}

#[test]
fn every_crasher_ends_cleanly() {
    let files = fixtures();
    assert!(!files.is_empty());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| harness::run_bytes(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

/// A process that forks a named copy of itself and ends, under the posix exit policy: every
/// process used to copy its ancestors' spawn counters, O(depth²) memory in all (the fuzzer ran
/// out of 2 GB at `max_steps` 100 000; the fixture sets 4 000 to keep the test quick).
#[test]
fn fork_chain_named() {
    let Outcome::Ran(report) = run("fork-chain-named.json") else {
        panic!("refused")
    };
    let error = report.error.as_deref().unwrap_or_default();
    assert!(error.contains("kernel.max_steps"), "{error}");
    // Two instructions a process (the fork, the end), and the last child never ran.
    assert_eq!(report.processes.len(), 4000 / 2 + 1);
    assert!(report.processes.iter().skip(1).all(|p| p.name == "N0"));
}

/// The same chain with default names, which spell out the whole path (`Process-1:1:…:1`) and
/// are now built from the parent's name instead of from a copied path.
#[test]
fn fork_chain_unnamed() {
    let Outcome::Ran(report) = run("fork-chain-unnamed.json") else {
        panic!("refused")
    };
    assert!(
        report
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("kernel.max_steps")
    );
    for (depth, p) in report.processes.iter().enumerate().skip(1) {
        assert_eq!(p.name.len(), "Process-".len() + 2 * depth - 1);
        assert!(p.name.starts_with("Process-1") && p.name.ends_with(":1") == (depth > 1));
    }
}

/// A `context_switch` near `u64::MAX` overflowed the tick at which the switch ends; it now ends
/// past `max_ticks`, which stops the run with the usual message.
#[test]
fn context_switch_overflow() {
    let Outcome::Ran(report) = run("context-switch-overflow.json") else {
        panic!("refused")
    };
    let error = report.error.as_deref().unwrap_or_default();
    assert!(error.contains("kernel.max_ticks"), "{error}");
}

/// `cargo build`, `cargo test`, `cargo clippy` and `.ci/run` at the repository root must work
/// offline: they never resolve `fuzz/`'s dependencies (`arbitrary`, `libfuzzer-sys`), which
/// are fetched only to fuzz (`fuzz/README.md`). Cargo resolves the root workspace offline here
/// and must find neither the fuzz crate nor its dependencies in it. It resolves for this host's
/// platform only: a build never needs other platforms' crates (`anstyle-wincon`, `windows-sys`),
/// and a cargo cache filled by `cargo build` alone does not hold them (the unfiltered resolve
/// failed so on a fresh cache).
#[test]
fn the_main_workspace_never_needs_the_fuzz_crate() {
    let root = env!("CARGO_MANIFEST_DIR");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let host = version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names its host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--offline", "--format-version", "1"])
        .args(["--filter-platform", host])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"procsim"), "{names:?}");
    for name in ["procsim-fuzz", "arbitrary", "libfuzzer-sys"] {
        assert!(!names.contains(&name), "{name} in {names:?}");
    }
}
