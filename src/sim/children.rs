//! A process's children not yet reaped, kept so that each thing the process API asks of them
//! costs O(log n) in the number of children, never a pass over all of them.
//!
//! Every `start()` reaps the children that have ended (multiprocessing's `_cleanup()`), and the
//! exit handler joins the children one by one, resuming after each. Kept as one list of all
//! children, a process that forked N children and kept them alive paid a pass over the list at
//! each start and at each resumed join: O(N²) for the run (0.10/0.41/1.33/6.53 s for 5,000 to
//! 40,000 children, BENCHMARKS.md). Here the children are keyed by their spawn number (multiprocessing's
//! `_identity` counter, which grows with each spawn of a process, so key order is creation
//! order): a list by spawn number (appended at each spawn, searched by halving, swept when half
//! of it has left), and beside it the zombies, in a tree by spawn number. A start reads only
//! the zombies; a join asks for the first child, which the list keeps an index to.

use std::collections::BTreeMap;

/// One child in [`Children::list`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Its spawn number.
    n: u32,
    /// Its slot, or [`GONE`] once it has left (reaped or reparented).
    q: u32,
    started: bool,
}

/// [`Entry::q`] of a child that has left.
const GONE: u32 = u32::MAX;

/// The children of one process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Children {
    /// Spawned and not yet reaped or reparented, by spawn number, with the entries of some
    /// that have left ([`GONE`]), fewer than half: they are swept out when they reach half.
    list: Vec<Entry>,
    /// Entries of `list` that have left.
    gone: usize,
    /// The index of the first started child that has not left (the list's length if none).
    live_from: usize,
    /// The started children that have ended (zombies): spawn number → slot.
    ended: BTreeMap<u32, u32>,
}

impl Children {
    /// The index of child `q` (spawn number `n`) in the list, if it has not left.
    fn find(&self, n: u32, q: u32) -> Option<usize> {
        let i = self.list.binary_search_by_key(&n, |e| e.n).ok()?;
        (self.list[i].q == q).then_some(i)
    }

    fn is_live(&self, i: usize) -> bool {
        let e = self.list[i];
        e.started && e.q != GONE
    }

    /// Child slot `q`, spawn number `n`, was spawned (numbers grow with each spawn).
    pub(crate) fn spawned(&mut self, n: u32, q: u32) {
        let e = Entry {
            n,
            q,
            started: false,
        };
        match self.list.last() {
            Some(last) if last.n >= n => {
                // Only a spawn counter that wrapped gets here: kept in order all the same.
                let i = self.list.partition_point(|x| x.n < n);
                self.list.insert(i, e);
                self.live_from = 0;
                self.advance_live_from();
            }
            _ => {
                // `live_from` at the end stays at the end: the new child has not started.
                if self.live_from == self.list.len() {
                    self.live_from += 1;
                }
                self.list.push(e);
            }
        }
    }

    /// Child `q` (spawn number `n`) was started.
    pub(crate) fn started(&mut self, n: u32, q: u32) {
        if let Some(i) = self.find(n, q) {
            self.list[i].started = true;
            self.live_from = self.live_from.min(i);
        }
    }

    /// Child `q` (spawn number `n`) ended; whether it was a live child (now a zombie).
    pub(crate) fn ended(&mut self, n: u32, q: u32) -> bool {
        let live = self.find(n, q).is_some_and(|i| self.list[i].started);
        if live {
            self.ended.insert(n, q);
        }
        live
    }

    /// Child `q` (spawn number `n`) is no longer this process's: reaped or reparented.
    pub(crate) fn remove(&mut self, n: u32, q: u32) {
        let Some(i) = self.find(n, q) else {
            return;
        };
        if self.ended.get(&n) == Some(&q) {
            self.ended.remove(&n);
        }
        self.list[i].q = GONE;
        self.gone += 1;
        // The newest child leaving (a fork and join one at a time) shortens the list at once.
        while self.list.last().is_some_and(|e| e.q == GONE) {
            self.list.pop();
            self.gone -= 1;
        }
        self.live_from = self.live_from.min(self.list.len());
        if self.gone * 2 > self.list.len() {
            // Swept when half are gone: O(1) a removal, amortized, and the list at most twice
            // the children.
            self.list.retain(|e| e.q != GONE);
            self.gone = 0;
            self.live_from = 0;
        }
        self.advance_live_from();
    }

    fn advance_live_from(&mut self) {
        while self.live_from < self.list.len() && !self.is_live(self.live_from) {
            self.live_from += 1;
        }
    }

    /// The children started and not reaped, in creation order.
    pub(crate) fn live(&self) -> impl Iterator<Item = u32> + '_ {
        self.list[self.live_from..]
            .iter()
            .filter(|e| e.started && e.q != GONE)
            .map(|e| e.q)
    }

    /// The first of [`Children::live`].
    pub(crate) fn first_live(&self) -> Option<u32> {
        debug_assert!(self.live_from == self.list.len() || self.is_live(self.live_from));
        self.list.get(self.live_from).map(|e| e.q)
    }

    /// The zombies, in creation order.
    pub(crate) fn ended_ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.ended.values().copied()
    }

    /// The children spawned and never started, in creation order.
    pub(crate) fn unstarted(&self) -> impl Iterator<Item = u32> + '_ {
        self.list
            .iter()
            .filter(|e| !e.started && e.q != GONE)
            .map(|e| e.q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_follow_a_child_from_spawn_to_reap_in_creation_order() {
        let mut c = Children::default();
        // Slots are not in creation order (recycled records): the spawn numbers are.
        for (n, q) in [(1, 30), (2, 10), (3, 20), (4, 5)] {
            c.spawned(n, q);
        }
        c.started(2, 10);
        c.started(1, 30);
        c.started(4, 5);
        assert_eq!(c.unstarted().collect::<Vec<_>>(), [20]);
        assert_eq!(c.live().collect::<Vec<_>>(), [30, 10, 5]);
        assert_eq!(c.first_live(), Some(30));
        assert!(c.ended(4, 5));
        assert!(c.ended(1, 30));
        assert!(!c.ended(3, 20), "an unstarted child is no zombie");
        assert_eq!(c.ended_ones().collect::<Vec<_>>(), [30, 5]);
        c.remove(1, 30);
        assert_eq!(c.ended_ones().collect::<Vec<_>>(), [5]);
        assert_eq!(c.live().collect::<Vec<_>>(), [10, 5]);
        // A stale pair (another slot under the same number) removes nothing.
        c.remove(4, 6);
        assert_eq!(c.live().collect::<Vec<_>>(), [10, 5]);
        c.remove(3, 20);
        assert_eq!(c.unstarted().count(), 0);
    }

    /// Random spawns, starts, ends and removals against a plain list of the children, as the
    /// kernel kept them before (every query a pass over the list).
    #[test]
    fn agrees_with_a_plain_list() {
        #[derive(Clone, Copy, PartialEq)]
        enum St {
            New,
            Live,
            Zombie,
        }
        let mut rng = crate::sim::rng::SeededRng::new(7);
        for round in 0..200 {
            let mut c = Children::default();
            let mut model: Vec<(u32, u32, St)> = Vec::new();
            let mut next_n = 0;
            for _ in 0..300 {
                let pick = |rng: &mut crate::sim::rng::SeededRng, len: usize| {
                    (len > 0).then(|| rng.uniform(0, len as i64 - 1) as usize)
                };
                match rng.uniform(0, 9) {
                    0..=2 => {
                        next_n += 1;
                        let q = rng.uniform(0, 1_000_000) as u32;
                        c.spawned(next_n, q);
                        model.push((next_n, q, St::New));
                    }
                    3..=4 => {
                        if let Some(i) = pick(&mut rng, model.len()) {
                            c.started(model[i].0, model[i].1);
                            if model[i].2 == St::New {
                                model[i].2 = St::Live;
                            }
                        }
                    }
                    5..=6 => {
                        if let Some(i) = pick(&mut rng, model.len()) {
                            let zombie = c.ended(model[i].0, model[i].1);
                            assert_eq!(zombie, model[i].2 != St::New, "round {round}");
                            if zombie {
                                model[i].2 = St::Zombie;
                            }
                        }
                    }
                    _ => {
                        if let Some(i) = pick(&mut rng, model.len()) {
                            let (n, q, _) = model.remove(i);
                            c.remove(n, q);
                        }
                    }
                }
                let of = |f: fn(St) -> bool| -> Vec<u32> {
                    model.iter().filter(|e| f(e.2)).map(|e| e.1).collect()
                };
                let live = of(|s| s != St::New);
                assert_eq!(c.live().collect::<Vec<_>>(), live, "round {round}");
                assert_eq!(c.first_live(), live.first().copied());
                assert_eq!(c.ended_ones().collect::<Vec<_>>(), of(|s| s == St::Zombie));
                assert_eq!(c.unstarted().collect::<Vec<_>>(), of(|s| s == St::New));
                assert!(c.list.len() <= 2 * model.len() + 1, "swept");
            }
        }
    }

    /// A `start()` polls the zombies only (`Host::reap_candidates`), and the exit handler asks
    /// for the first child (`Host::first_live_child`): with every child listed instead, a
    /// process that forks N children does O(N²) work (what this test would catch, without
    /// timing anything).
    #[test]
    fn a_start_polls_only_the_children_that_have_ended() {
        use crate::process::Host;
        use crate::sim::host::SimProc;
        use crate::sim::{Sim, SimOptions};
        const N: usize = 2000;
        let plan = crate::load_str(&format!(
            r#"{{"kernel": {{"max_processes": 10000, "pid_max": 100000}},
                "programs": {{
                  "main": {{"body": [{{"repeat": {{"times": {half}, "body": [
                      {{"fork": {{"as": "c", "program": "quick"}}}},
                      {{"fork": {{"as": "d", "program": "long"}}}}]}}}},
                    {{"sleep": 100000}}]}},
                  "quick": {{"body": [{{"cpu": 1}}]}},
                  "long": {{"body": [{{"cpu": 1}}, {{"sleep": 1000000}}]}}}},
                "processes": [{{"program": "main"}}]}}"#,
            half = N / 2
        ))
        .unwrap();
        let Sim::Rr(mut k) = Sim::new(plan, SimOptions { trace: false }) else {
            panic!("round robin gets its own kernel");
        };
        // Every child has run its tick (one CPU, ticks 0 to N): the quick ones are zombies,
        // main sleeps.
        while k.now() < N as u64 {
            assert!(k.step());
        }
        let main = 0;
        assert_eq!(k.live_children(main).len(), N);
        let proc = SimProc::new(&mut k, main, 0);
        let (polled, first) = (proc.reap_candidates(), proc.first_live_child());
        assert_eq!(polled.len(), N / 2, "only the zombies are polled");
        assert_eq!(
            first,
            Some(polled[0]),
            "the first child forked was a quick one"
        );
        let zombie = |q: &u32| k.hot[*q as usize].state == crate::model::State::Terminated;
        assert!(polled.iter().all(zombie));
    }
}
