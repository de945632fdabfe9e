//! The `procsim` binary's commands, one file per group; `main.rs` only dispatches to them.

pub(crate) mod args;
pub(crate) mod commands;
pub(crate) mod out;
pub(crate) mod sweep;
pub(crate) mod teach;
mod top_tui;
