//! The fork backend, driven as a user drives it: through the `procsim` binary, which starts
//! its own single-threaded supervisor. Nothing here forks from the test harness's threads.
//!
//! Linux only; each test first checks that the kernel lets the binary run a real scenario
//! and skips with a message when it does not.
#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use procsim::{Report, State, StateGraph};

#[path = "../common/mod.rs"]
mod common;

mod compare;
mod fences;
mod huge_text;
mod observe;
mod report;
mod survive;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_procsim")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Whether the fork backend can run here; prints why not once.
fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let o = Command::new(bin())
            .args([
                "run",
                "--backend",
                "fork",
                "--format",
                "json",
                "--timeout",
                "20",
            ])
            .arg(root().join("scenarios/proc-args.json"))
            .output()
            .expect("procsim runs");
        if !o.status.success() {
            eprintln!(
                "SKIPPED: the kernel refuses what the fork backend needs here: {}",
                text(&o.stderr)
            );
            return false;
        }
        true
    })
}

/// Tests that measure real time, or run real-time (SCHED_FIFO/SCHED_RR) processes, take turns:
/// another test's real-time processes on the same CPU would stop a measured one for as long as
/// they run (seen: priority's order and the shape test's `blocked` upset under a parallel
/// `compare --realtime` of every scenario).
fn timing_sensitive() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether SCHED_RR is permitted (root): compare needs it for a parent to keep its CPU after
/// `fork` as in the model (under CFS the child may run first and end before `join`, which
/// changes the parent's state sequence: a real difference, not a bug).
fn realtime_permitted() -> bool {
    if nix_is_root() {
        return true;
    }
    eprintln!(
        "SKIPPED: compare needs SCHED_RR (root) so that a parent keeps its CPU after fork as in the model"
    );
    false
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .map(|u| u.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn run_fork_json(file: &Path, extra: &[&str]) -> (Output, Option<Report>) {
    let o = Command::new(bin())
        .args(["run", "--backend", "fork", "--format", "json"])
        .args(extra)
        .arg(file)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&o.stdout).ok();
    (o, report)
}

fn temp(name: &str, body: &str) -> PathBuf {
    let dir = common::scratch_dir("fork");
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}
