//! [`Sim`]: the kernel a scenario's policy asks for. Round robin gets a kernel built for it
//! alone, so that its calls are inlined into the fast paths (one kernel for every policy,
//! dispatching on an enum at each call, cost round robin 11 % more instructions a dispatch;
//! BENCHMARKS.md); so does lottery, the one policy that fell short of issue #11's speed row
//! through a box (RR-IO-v1 at N = 20,000: 705.0 M instructions boxed, 610.3 M in a kernel of
//! its own, the same bytes; BENCHMARKS.md), and EEVDF, whose slice end is one call
//! (`Policy::requeue_pick`) inlined into the kernel's loop (2,361.5 M instructions before,
//! 1,564.1 M after, BENCHMARKS.md's fifteenth round), and MLFQ, the slowest slice policy
//! through a box once the others had kernels of their own (602.1 M boxed, 545.6 M in a kernel
//! of its own with its slice end in one call; BENCHMARKS.md's twenty-second round); any other
//! policy gets a kernel that calls it through a box (each kernel of its own is another copy
//! of the kernel in the binary).

use std::sync::Arc;

use super::{Eevdf, Kernel, Lottery, Mlfq, Policy, RoundRobin, SimOptions, sched};
use crate::program::Plan;
use crate::report::Report;

/// The simulated kernel with the scenario's policy: a kernel built for round robin, lottery,
/// MLFQ or EEVDF (whose calls are inlined into its loops), or one that calls any other policy
/// through a box. Each method is the [`Kernel`] method of the same name.
pub enum Sim {
    /// Round robin.
    Rr(Kernel<RoundRobin>),
    /// Lottery.
    Lottery(Kernel<Lottery>),
    /// MLFQ.
    Mlfq(Kernel<Mlfq>),
    /// EEVDF.
    Eevdf(Kernel<Eevdf>),
    /// Any other policy.
    Other(Kernel<Box<dyn Policy>>),
}

/// The same call on whichever kernel it is.
macro_rules! either {
    ($sim:expr, $k:ident => $call:expr) => {
        match $sim {
            Sim::Rr($k) => $call,
            Sim::Lottery($k) => $call,
            Sim::Mlfq($k) => $call,
            Sim::Eevdf($k) => $call,
            Sim::Other($k) => $call,
        }
    };
}

impl Sim {
    /// A kernel ready to run `plan`, with its top-level processes created in `new`.
    pub fn new(plan: Arc<Plan>, opts: SimOptions) -> Sim {
        match sched::build(&plan.kernel) {
            sched::Built::Rr(rr) => Sim::Rr(Kernel::with_policy(plan, opts, rr)),
            sched::Built::Lottery(l) => Sim::Lottery(Kernel::with_policy(plan, opts, l)),
            sched::Built::Mlfq(m) => Sim::Mlfq(Kernel::with_policy(plan, opts, m)),
            sched::Built::Eevdf(e) => Sim::Eevdf(Kernel::with_policy(plan, opts, e)),
            sched::Built::Other(p) => Sim::Other(Kernel::with_policy(plan, opts, p)),
        }
    }
    /// See [`Kernel::recycle_reaped`].
    pub fn recycle_reaped(&mut self) -> bool {
        either!(self, k => k.recycle_reaped())
    }
    /// See [`Kernel::recycle_reaped_following`].
    pub fn recycle_reaped_following(&mut self, keep: usize) -> bool {
        either!(self, k => k.recycle_reaped_following(keep))
    }
    /// See [`Kernel::recycle_reaped_listing`].
    pub fn recycle_reaped_listing(&mut self) -> bool {
        either!(self, k => k.recycle_reaped_listing())
    }
    /// See [`Kernel::recycle_listing_in_batches_of`].
    #[doc(hidden)]
    pub fn recycle_listing_in_batches_of(&mut self, batch: usize) -> bool {
        either!(self, k => k.recycle_listing_in_batches_of(batch))
    }
    /// See [`Kernel::recycle_in_batches_of`].
    #[doc(hidden)]
    pub fn recycle_in_batches_of(&mut self, batch: usize) -> bool {
        either!(self, k => k.recycle_in_batches_of(batch))
    }
    /// See [`Kernel::keep_at_most_records`].
    #[doc(hidden)]
    pub fn keep_at_most_records(&mut self, ceiling: u64) {
        either!(self, k => k.keep_at_most_records(ceiling))
    }
    /// See [`Kernel::list_at_most_processes`].
    #[doc(hidden)]
    pub fn list_at_most_processes(&mut self, ceiling: u64) {
        either!(self, k => k.list_at_most_processes(ceiling))
    }
    /// See [`Kernel::hold_at_most`].
    pub fn hold_at_most(&mut self, ceiling: u64, by: &'static str) {
        either!(self, k => k.hold_at_most(ceiling, by))
    }
    /// See [`Kernel::run`].
    pub fn run(self) -> Report {
        either!(self, k => k.run())
    }
    /// See [`Kernel::advance`].
    pub fn advance(&mut self) -> bool {
        either!(self, k => k.advance())
    }
    /// See [`Kernel::step`].
    pub fn step(&mut self) -> bool {
        either!(self, k => k.step())
    }
    /// See [`Kernel::now`].
    pub fn now(&self) -> u64 {
        either!(self, k => k.now())
    }
    /// See [`Kernel::disable_fast_paths`].
    #[doc(hidden)]
    pub fn disable_fast_paths(&mut self) {
        either!(self, k => k.disable_fast_paths())
    }
    /// See [`Kernel::disable_wakes_in_slice`].
    #[doc(hidden)]
    pub fn disable_wakes_in_slice(&mut self) {
        either!(self, k => k.disable_wakes_in_slice())
    }
    /// See [`Kernel::rr_ticks`].
    #[doc(hidden)]
    pub fn rr_ticks(&self) -> u64 {
        either!(self, k => k.rr_ticks())
    }
    /// See [`Kernel::error`].
    pub fn error(&self) -> Option<&str> {
        either!(self, k => k.error())
    }
    /// See [`Kernel::process_count`].
    pub fn process_count(&self) -> usize {
        either!(self, k => k.process_count())
    }
    /// See [`Kernel::is_finished`].
    pub fn is_finished(&self) -> bool {
        either!(self, k => k.is_finished())
    }
    /// See [`Kernel::summary`].
    pub fn summary(&self) -> crate::report::Summary {
        either!(self, k => k.summary())
    }
    /// See [`Kernel::report`].
    pub fn report(self) -> Report {
        either!(self, k => k.report())
    }
    /// See [`Kernel::run_explained`].
    pub fn run_explained(self) -> (Report, crate::report::explain::Explanation) {
        either!(self, k => k.run_explained())
    }
    /// See [`Kernel::run_explained_to`].
    pub fn run_explained_to(self, out: Box<dyn std::io::Write>) -> std::io::Result<Option<String>> {
        either!(self, k => k.run_explained_to(out))
    }
    /// See [`Kernel::run_to_json`].
    pub fn run_to_json<W: std::io::Write + 'static>(
        self,
        out: W,
    ) -> std::io::Result<Option<String>> {
        either!(self, k => k.run_to_json(out))
    }
    /// See [`Kernel::run_streaming`].
    pub fn run_streaming(&mut self, sink: Box<dyn FnMut(&crate::report::TraceEvent)>) {
        either!(self, k => k.run_streaming(sink))
    }
    /// See [`Kernel::listed_process`].
    pub fn listed_process(&self, i: u32) -> std::io::Result<crate::report::ProcessReport> {
        either!(self, k => k.listed_process(i))
    }
    /// See [`Kernel::listed_end`].
    pub fn listed_end(&self) -> u64 {
        either!(self, k => k.listed_end())
    }
    /// See [`Kernel::finished_process`].
    pub fn finished_process(&self, p: u32) -> crate::report::ProcessReport {
        either!(self, k => k.finished_process(p))
    }
    /// See [`Kernel::scenario_name`].
    pub fn scenario_name(&self) -> &str {
        either!(self, k => k.scenario_name())
    }
    /// See [`Kernel::cpu_count`].
    pub fn cpu_count(&self) -> u32 {
        either!(self, k => k.cpu_count())
    }
    /// See [`Kernel::notes`].
    pub fn notes(&self) -> Vec<crate::report::Note> {
        either!(self, k => k.notes())
    }
}
