//! The globals the simulated processes hold, against the run's value limits: the copies made
//! on write (`kernel.max_values`) and every process's globals added up
//! (`kernel.max_value_bytes`, counted in [`crate::scenario::ValuesHeld`] as the fork backend
//! counts it).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use super::{Kernel, Policy};
use crate::model::Value;
use crate::scenario::bytes_of;

/// The bytes of the globals last weighed, so that a parent forking a thousand children
/// weighs its globals once. A `Weak` keeps the allocation's address from being reused and does
/// not count as a sharer (`Arc::strong_count`, `Arc::make_mut`).
#[derive(Debug, Default)]
pub(super) struct LastWeighed(Option<(Weak<Vec<Value>>, u64)>);

/// The holders of globals whose records were given back (recycle.rs), by globals: a held run
/// keeps a reaped process's record, and with it its share of its globals (`Arc` clone), so
/// that a write in a live process that shared them with it is a copy. A record given back
/// drops its clone; it is counted here instead, so that `Arc::strong_count` and this count
/// say what a held run's `strong_count` says. A `Weak` keeps the address from being reused
/// while it is a key. One entry for each distinct globals with absent holders and a live
/// holder (the dead ones are pruned at each collection).
#[derive(Debug, Default)]
pub(super) struct AbsentHolders(HashMap<usize, (Weak<Vec<Value>>, u64)>);

impl AbsentHolders {
    fn key(globals: &Arc<Vec<Value>>) -> usize {
        Arc::as_ptr(globals) as usize
    }

    /// A record holding `globals` is given back: if anyone else holds them, it is absent.
    pub(super) fn add(&mut self, globals: &Arc<Vec<Value>>) {
        if Arc::strong_count(globals) > 1 {
            self.0
                .entry(Self::key(globals))
                .or_insert_with(|| (Arc::downgrade(globals), 0))
                .1 += 1;
        }
    }

    /// The absent holders of `globals`.
    fn of(&self, globals: &Arc<Vec<Value>>) -> u64 {
        self.0.get(&Self::key(globals)).map_or(0, |e| e.1)
    }

    /// `globals` are about to be changed in place by their one live holder, which has copied
    /// them (counted): the absent holders keep the old ones, which nothing live holds.
    fn forget(&mut self, globals: &Arc<Vec<Value>>) {
        self.0.remove(&Self::key(globals));
    }

    /// Drops the entries of globals that no live process holds any more.
    pub(super) fn prune(&mut self) {
        self.0.retain(|_, (weak, _)| weak.strong_count() > 0);
    }
}

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
        // A record given back still counts (`AbsentHolders`, and `top_sharers`, which a
        // given-back record stays in).
        let shared = own.map_or(self.top_sharers > 1, |g| {
            Arc::strong_count(g) as u64 + self.absent_holders.of(g) > 1
        });
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
        let globals = cold.globals.as_mut().expect("set just above");
        if Arc::strong_count(globals) == 1 {
            // Changed in place from now on: the copy was counted above if absent holders
            // shared them, and no holder can share what it becomes.
            self.absent_holders.forget(globals);
        }
        Arc::make_mut(globals)
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
