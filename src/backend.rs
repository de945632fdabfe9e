//! One trait for every way of running a scenario, so the CLI and the checks need not know
//! which backend produced a report.

use std::sync::Arc;

use crate::program::Plan;
use crate::report::Report;
use crate::sim::{Sim, SimOptions};

/// Runs a compiled scenario and reports what happened.
pub trait Backend {
    /// `"sim"` or `"fork"`, as in [`Report::backend`].
    fn name(&self) -> &'static str;
    /// Runs the plan to its end (or to a limit, with [`Report::error`] set).
    fn run(&self, plan: Arc<Plan>) -> Report;
}

/// The simulated kernel as a [`Backend`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SimBackend {
    /// What to record.
    pub options: SimOptions,
}

impl Backend for SimBackend {
    fn name(&self) -> &'static str {
        "sim"
    }
    fn run(&self, plan: Arc<Plan>) -> Report {
        Sim::new(plan, self.options).run()
    }
}
