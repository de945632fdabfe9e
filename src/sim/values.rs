//! The globals the simulated processes hold, against the run's value limits: the copies made
//! on write (`kernel.max_values`) and every process's globals added up
//! (`kernel.max_value_bytes`, counted in [`crate::scenario::ValuesHeld`] as the fork backend
//! counts it).

use std::sync::{Arc, Weak};

use super::{Kernel, Policy};
use crate::model::Value;
use crate::scenario::bytes_of;

/// The bytes of the globals last weighed, so that a parent forking a thousand children
/// weighs its globals once. A `Weak` keeps the allocation's address from being reused and does
/// not count as a sharer (`Arc::strong_count`, `Arc::make_mut`).
#[derive(Debug, Default)]
pub(super) struct LastWeighed(Option<(Weak<Vec<Value>>, u64)>);

impl<P: Policy> Kernel<P> {
    /// Process `p`'s own globals, to change. Until it changes them it shares them with the
    /// process it was copied from or to (copy on write); the copy made now is counted against
    /// `kernel.max_values`, as thousands of children each copying a megabyte of globals would
    /// otherwise exhaust memory. The copy past the limit is still made (it is one process's)
    /// and the run stops.
    pub(super) fn own_globals(&mut self, p: u32) -> &mut Vec<Value> {
        // A thread's globals are its process's (SPEC §4a: shared, no copy).
        let p = self.leader(p);
        let own = self.procs[p as usize].own_globals();
        let has_own = own.is_some();
        // Shared: with another process, or the top-level processes' with another of them.
        let shared = own.map_or(self.top_sharers > 1, |g| Arc::strong_count(g) > 1);
        if shared {
            let globals = self.globals_of(p);
            let weight = globals
                .iter()
                .fold(0u64, |w, v| w.saturating_add(v.weight()));
            self.values_copied = self.values_copied.saturating_add(weight);
            let max = self.plan.kernel.max_values;
            if self.values_copied > max {
                self.stop(format!(
                    "stopped at tick {}: kernel.max_values ({max} items and characters of globals copied into processes) reached; raise it if the copies are wanted",
                    self.now
                ));
            }
        }
        if !has_own {
            // Its own `Arc` from now on: the one the top-level processes share, which
            // `make_mut` copies, or, if it was the last of them to share it, that one itself,
            // which `make_mut` changes in place (or moves, if weighed: `LastWeighed`), as it
            // did when each process held a clone.
            let globals = if self.top_sharers == 1 {
                std::mem::take(&mut self.top_globals)
            } else {
                Arc::clone(&self.top_globals)
            };
            self.top_sharers -= 1;
            self.procs[p as usize].cold().globals = Some(globals);
        }
        let cold = self.procs[p as usize].cold();
        Arc::make_mut(cold.globals.as_mut().expect("set just above"))
    }

    /// Process `p`'s globals (a thread's are its process's: ask for the leader's).
    #[inline]
    pub(super) fn globals_of(&self, p: u32) -> &Arc<Vec<Value>> {
        self.procs[p as usize]
            .own_globals()
            .unwrap_or(&self.top_globals)
    }

    /// The bytes of `globals`, weighed once for a run of processes that share them.
    pub(super) fn weigh(&mut self, globals: &Arc<Vec<Value>>) -> u64 {
        if let Some((last, weight)) = &self.last_weighed.0
            && std::ptr::eq(last.as_ptr(), Arc::as_ptr(globals))
        {
            return *weight;
        }
        let weight = bytes_of(globals);
        self.last_weighed = LastWeighed(Some((Arc::downgrade(globals), weight)));
        weight
    }

    /// Counts a change of the globals the processes hold (`before` no longer, `after` now)
    /// against `kernel.max_value_bytes`; past it the run stops.
    pub(super) fn hold_values(&mut self, before: u64, after: u64) {
        if let Err(why) = self.values_held.change(before, after, &self.plan.kernel) {
            self.stop(format!("stopped at tick {}: {why}", self.now));
        }
    }
}
