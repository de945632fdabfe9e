//! The built-in demo: what `procsim` with no argument runs.

/// The demo scenario's text: the round-robin example of Silberschatz et al. with a fork and an
/// I/O-bound process added, so the first run shows every state.
pub const DEMO: &str = include_str!("../scenarios/demo.json");
