//! One trait for every way of running a scenario, so the CLI and the checks need not know
//! which backend produced a report.

use std::sync::Arc;

use crate::program::Plan;
use crate::report::Report;
use crate::sim::{Sim, SimOptions};

/// Why a backend could not run a scenario at all. A run that starts and is then stopped (a
/// limit, a timeout, an interrupt) is not an error: it gives a partial [`Report`] with
/// [`Report::error`] set.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend needs something this system does not have.
    #[error("the {backend} backend is not available here: {reason}")]
    Unavailable {
        /// Which backend.
        backend: &'static str,
        /// What is missing.
        reason: String,
    },
    /// The supervisor process could not be started or talked to.
    #[error("cannot run the supervisor `{exe}`: {source}")]
    Supervisor {
        /// The executable run as the supervisor.
        exe: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The supervisor started but could not set the run up (a system call refused).
    #[error("the supervisor could not set up the run: {0}")]
    Setup(String),
    /// The supervisor said something that is not the protocol, or ended without finishing.
    #[error("the supervisor broke the protocol: {0}")]
    Protocol(String),
    /// The supervisor died (it was killed) while the run lasted: the run's processes died
    /// with it, and what it relayed until then is a partial report.
    #[error("the supervisor died ({status}) before the run ended")]
    SupervisorDied {
        /// How it ended (`signal: 9 (SIGKILL)`).
        status: String,
        /// The partial report: processes that had not ended have `exitcode` null.
        report: Box<Report>,
    },
}

/// Runs a compiled scenario and reports what happened.
pub trait Backend {
    /// `"sim"` or `"fork"`, as in [`Report::backend`].
    fn name(&self) -> &'static str;
    /// Runs the plan to its end (or to a limit, with [`Report::error`] set).
    fn run(&self, plan: Arc<Plan>) -> Result<Report, BackendError>;
}

/// The simulated kernel as a [`Backend`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SimBackend {
    /// What to record.
    pub options: SimOptions,
    /// The most transitions the report may hold, and who set it, when not
    /// [`crate::sim::HELD_TRACE_CEILING`] ([`Sim::hold_at_most`]).
    pub held_ceiling: Option<(u64, &'static str)>,
}

impl SimBackend {
    /// Runs the plan on the simulated kernel, which cannot fail to start.
    pub fn simulate(&self, plan: Arc<Plan>) -> Report {
        let mut sim = Sim::new(plan, self.options);
        if let Some((ceiling, by)) = self.held_ceiling {
            sim.hold_at_most(ceiling, by);
        }
        sim.run()
    }
}

impl Backend for SimBackend {
    fn name(&self) -> &'static str {
        "sim"
    }
    fn run(&self, plan: Arc<Plan>) -> Result<Report, BackendError> {
        Ok(self.simulate(plan))
    }
}
