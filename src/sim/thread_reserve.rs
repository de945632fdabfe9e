//! Room for the threads a run will start, reserved with the top-level processes' records.
//!
//! The top-level processes' records are reserved at once (build.rs), in memory advised for
//! huge pages; a thread's record was added as the thread started, so a process of 10^5
//! threads grew its tables by doubling: each growth faulted in fresh memory and copied the
//! table into it (`grow_advised`, recycle.rs), work the same 10^5 processes never do (issue
//! #15's "same cost a dispatch": perf put 5 % of the run of one process of 10^5 threads in
//! the kernel clearing those pages, against 1 % for the processes). A run with threads
//! keeps every record (recycling is off), so the threads a run starts are records it will
//! hold: the plan says how many its top-level programs start, and they are reserved with the
//! processes'.
//!
//! What it assumes: nothing observable. The count is a capacity hint; a run that starts more
//! threads than counted grows its tables as before, one that starts fewer leaves reserved
//! memory untouched (address space, not memory: a page is backed when a record is written
//! in it). It counts a top-level program's own `thread` instructions, each times the literal
//! counts of the `repeat`s around it (a count that is not a literal counts once), times the
//! entry's `count`; threads started by threads or by children are left to grow. It is capped
//! at `max_processes`, the tasks alive at once, so no plan reserves more than a run that
//! keeps that many alive could hold.

use crate::model::Value;
use crate::program::{CExpr, Code, Op, Plan};

/// The threads the top-level processes of `plan` will start, as far as their programs say,
/// capped at `max_processes` less the top-level processes (0 for a plan without threads).
pub(super) fn threads_ahead(plan: &Plan, top_level: u64) -> u64 {
    if !plan.uses_threads() {
        return 0;
    }
    let per_program: Vec<u64> = plan.programs.iter().map(threads_started).collect();
    let mut total = 0u64;
    for top in &plan.processes {
        let each = per_program.get(top.program as usize).copied().unwrap_or(0);
        total = total.saturating_add(each.saturating_mul(top.count));
    }
    let cap = u64::from(plan.kernel.max_processes).saturating_sub(top_level);
    total.min(cap)
}

/// The `thread` instructions one run of `code` carries out, each times the literal counts
/// of the `repeat`s around it. The code is flat (a `repeat` is a `Loop` … `EndLoop` pair,
/// nested pairs nest), so a stack of the enclosing counts' products is all it needs: no
/// recursion.
fn threads_started(code: &Code) -> u64 {
    let mut times: Vec<u64> = Vec::new();
    let mut current = 1u64;
    let mut started = 0u64;
    for op in &code.ops {
        match op {
            Op::Loop { times: n, .. } => {
                times.push(current);
                let n = match n {
                    CExpr::Lit(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 1,
                };
                current = current.saturating_mul(n);
            }
            Op::EndLoop { .. } => current = times.pop().unwrap_or(1),
            Op::Thread(_) => started = started.saturating_add(current),
            _ => {}
        }
    }
    started
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Plan {
        let s = crate::Scenario::from_str(json).unwrap();
        crate::program::compile(&s).unwrap()
    }

    #[test]
    fn counts_threads_under_literal_repeats_times_the_entry_count() {
        let p = plan(
            r#"{"kernel": {"max_processes": 100000},
                "programs": {
                  "main": {"body": [
                    {"thread": {"program": "job"}},
                    {"repeat": {"times": 3, "body": [
                      {"repeat": {"times": 4, "body": [{"thread": {"program": "job"}}]}},
                      {"thread": {"program": "job"}}]}},
                    {"repeat": {"times": 0, "body": [{"thread": {"program": "job"}}]}}]},
                  "job": {"body": [{"cpu": 1}]}},
                "processes": [{"program": "main", "count": 5}, {"program": "job"}]}"#,
        );
        // 1 + 3 × (4 + 1) a main, five mains.
        assert_eq!(threads_ahead(&p, 6), 5 * 16);
    }

    #[test]
    fn capped_at_max_processes_and_zero_without_threads() {
        let p = plan(
            r#"{"kernel": {"max_processes": 50},
                "programs": {
                  "main": {"body": [{"repeat": {"times": 1000000,
                                                "body": [{"thread": {"program": "job"}}]}}]},
                  "job": {"body": [{"cpu": 1}]}},
                "processes": [{"program": "main", "count": 2}]}"#,
        );
        assert_eq!(threads_ahead(&p, 2), 48);
        let q = plan(
            r#"{"programs": {"main": {"body": [{"cpu": 1}]}},
                "processes": [{"program": "main", "count": 2}]}"#,
        );
        assert_eq!(threads_ahead(&q, 2), 0);
    }
}
