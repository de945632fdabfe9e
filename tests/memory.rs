//! Memory that follows the live processes (issue #13), measured as the peak of the heap bytes
//! this test binary holds, counted by its own allocator: a figure that does not depend on the
//! machine's load or speed. One test function, so that no other test allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use procsim::{Sim, SimOptions};

mod common;

/// The system allocator, counting the bytes held now and the most held since the last reset.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator with the caller's arguments unchanged; the
// counters only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = HELD.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most heap bytes held while `f` ran, beyond what was held before it.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = HELD.load(Relaxed);
    PEAK.store(base, Relaxed);
    f();
    PEAK.load(Relaxed) - base
}

/// Runs `text` to the end for its summary alone, as `--format summary` and sweeps do,
/// recycling the records of reaped processes or not.
fn summary_run(text: &str, recycle: bool) -> (procsim::report::Summary, usize) {
    let plan = procsim::load_str(text).unwrap();
    let mut sim = Sim::new(plan, SimOptions { trace: false });
    if recycle {
        assert!(sim.recycle_reaped());
    }
    while sim.advance() {}
    assert_eq!(sim.error(), None);
    (sim.summary(), sim.process_count())
}

const MB: usize = 1 << 20;

#[test]
fn memory_follows_the_live_processes() {
    // One child alive at a time, 100,000 in all: a few records, not 100,000.
    let forks = r#"{"programs": {
        "main": {"body": [{"repeat": {"times": 100000, "body": [
            {"fork": {"as": "c", "program": "c"}}, {"join": "c"}]}}]},
        "c": {"body": [{"cpu": 1}]}},
      "processes": [{"program": "main"}]}"#;
    let mut kept = None;
    let all = peak_of(|| kept = Some(summary_run(forks, false)));
    let mut recycled = None;
    let live = peak_of(|| recycled = Some(summary_run(forks, true)));
    assert_eq!(kept, recycled, "the same summary and process count");
    assert_eq!(kept.unwrap().1, 100_001);
    // Every record kept: some 200 bytes a process (20 MB); given back: the table stays at
    // the batch a collection waits for.
    assert!(all > 15 * MB, "all kept: {all} bytes");
    assert!(live < 2 * MB, "recycled: {live} bytes");
    // The table lists the first 40 processes: it keeps theirs and gives the others back, its
    // timeline a few columns more (it kept every record before: 60 MB at the CLI).
    let plan = procsim::load_str(forks).unwrap();
    let mut text = String::new();
    let table = peak_of(|| text = procsim::report::stream_table(plan, 100, false, 0).0);
    assert!(text.contains("Summary: makespan 100000"), "{text}");
    assert!(table < 2 * MB, "the table: {table} bytes");

    // A 30,000-deep chain of default names (`Process-1:1:…:1`): the names, made when shown,
    // are not kept; they would be 900 MB (each is as long as the depth).
    let chain = r#"{"kernel": {"max_processes": 30000},
      "programs": {"node": {"body": [
        {"cpu": 1}, {"fork": {"as": "c", "program": "node"}}, {"join": "c"}]}},
      "processes": [{"program": "node"}]}"#;
    let mut out = None;
    let peak = peak_of(|| out = Some(summary_run(chain, true)));
    // The deepest fork fails (max_processes): its Process object was made, never started.
    assert_eq!(out.unwrap().1, 30_001);
    eprintln!(
        "heap peaks: {all} B all kept, {live} B recycled, {table} B the table, {peak} B for the chain"
    );
    assert!(peak < 40 * MB, "30,000-deep chain: {peak} bytes");

    // Each process forks a child and ends (`exit_policy: posix`: the child is adopted by
    // init), 300,000 in all at tick 0, two alive at a time. A default name is the path of
    // spawn counters from the top, so the live one's is 300,000 levels long; its levels,
    // all `1`, are one run (identity.rs). A node a level kept 32 bytes for each process that
    // ever lived (513 MB at 10^7, the audit of issue #13).
    let orphans = r#"{"kernel": {"exit_policy": "posix", "max_steps": 600000},
      "programs": {"main": {"body": [{"fork": {"as": "h", "program": "main"}}]}},
      "processes": [{"program": "main"}]}"#;
    let mut made = 0;
    let orphaned = peak_of(|| {
        let mut sim = Sim::new(
            procsim::load_str(orphans).unwrap(),
            SimOptions { trace: false },
        );
        assert!(sim.recycle_reaped());
        while sim.advance() {}
        assert!(sim.error().unwrap().contains("kernel.max_steps (600000)"));
        made = sim.process_count();
    });
    assert!(made > 250_000, "{made}");
    assert!(orphaned < 2 * MB, "a chain of orphans: {orphaned} bytes");

    // `--format json` lists every process at its end, but writes each one's report out when
    // it is reaped and gives its record back (sim/epitaphs.rs): 50,000 children held some
    // 27 MB of records when all were kept (535 bytes a process, heaptrack at 200,000 before);
    // now the reports held before a temporary file takes them (4 MiB, twice that as the
    // buffer doubles) and 12 bytes a process.
    let forks = forks.replace("100000", "50000");
    let plan = procsim::load_str(&forks).unwrap();
    let mut stopped = Some(None);
    let json = peak_of(|| {
        stopped = Some(
            Sim::new(plan, SimOptions::default())
                .run_to_json(std::io::sink())
                .unwrap(),
        );
    });
    assert_eq!(stopped, Some(None));
    eprintln!("heap peak of --format json, 50,000 children: {json} B");
    assert!(
        json < 12 * MB,
        "--format json of 50,000 children: {json} bytes"
    );

    validating_holds_the_scenario_not_more();
    rr_io_v1_holds_its_records_not_more();
}

/// RR-IO-v1 (every process alive until near the end) for its summary, as `--format summary`
/// runs it, loading included: the 64-byte hot record and the 48-byte record a process, the
/// ready queue (4 bytes a slot, a power of two) and the scratch list of one tick's arrivals,
/// and nothing a copy of an entry for its name (issue #13: at most 150 bytes a process at
/// 10^6 in all, the binary and the C library's heap included; BENCHMARKS.md). It was 171
/// bytes a process of heap, and the names of 20,000 copies while loading on top.
fn rr_io_v1_holds_its_records_not_more() {
    const N: usize = 20_000;
    let text = format!(
        r#"{{"kernel": {{"quantum": 10, "max_processes": {N}}},
          "programs": {{"job": {{"body": [{{"repeat": {{"times": 9, "body": [{{"cpu": 50}}, {{"io": 20}}]}}}},
                                       {{"cpu": 50}}]}}}},
          "processes": [{{"program": "job", "count": {N}}}]}}"#
    );
    let mut out = None;
    let peak = peak_of(|| out = Some(summary_run(&text, true)));
    let (summary, _) = out.unwrap();
    // Ten bursts of 50 ticks at quantum 10, on one CPU: 50 dispatches a process.
    assert_eq!(summary.dispatches, 50 * N as u64);
    assert_eq!(summary.makespan, 500 * N as u64);
    let per_process = peak / N;
    eprintln!("RR-IO-v1 at {N}: {peak} B at peak, {per_process} B a process");
    assert!(
        per_process <= 130,
        "RR-IO-v1: {per_process} bytes a process"
    );
}

/// `procsim validate` of a generated workload (`gen --processes N`: N programs of about seven
/// instructions, N processes) holds the file's bytes and the parsed scenario, and no plan:
/// 1,102 bytes a process at N = 20,000 (about 160 of them the file's). It was about 3,700 (at
/// N = 100,000: 376 MB against 93 MB now): instructions of 232 bytes each, bodies with room
/// for twice their length, and the plan kept beside the scenario (BENCHMARKS.md, #16).
fn validating_holds_the_scenario_not_more() {
    const N: u32 = 20_000;
    let text = procsim::study::workload::generate(&procsim::study::workload::GenParams::new(1, N))
        .unwrap();
    let path = common::scratch_dir("memory").join("workload.json");
    std::fs::write(&path, &text).unwrap();
    drop(text);
    let peak = peak_of(|| {
        procsim::validate(&path).unwrap();
    });
    std::fs::remove_file(&path).unwrap();
    let per_process = peak / N as usize;
    eprintln!("validate: {peak} B at peak, {per_process} B a process");
    assert!(
        per_process < 1_300,
        "validate: {per_process} bytes a process"
    );
}
