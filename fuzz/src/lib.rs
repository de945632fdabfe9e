//! Fuzzing procsim: the shared harness and the structured scenario generator.

pub mod harness;
pub mod structured;
