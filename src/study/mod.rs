//! Studies of runs: what is done with reports rather than how they are made.
//!
//! - [`check`]: a report against a scenario's `expect` block.
//! - [`compare`]: the two backends' reports side by side (what must agree, what may differ).
//! - [`workload`]: seeded random workloads written as scenario files (`procsim gen`).
//! - [`sweep`]: many runs over the cartesian product of settings (`procsim sweep`).
//! - [`plot`]: a metric of a sweep drawn against a setting.
//! - [`quiz`] and [`grade`]: seeded scheduling exercises and the grading of answers.

pub mod check;
pub mod compare;
pub mod grade;
pub mod plot;
pub mod quiz;
pub mod sweep;
pub mod workload;
