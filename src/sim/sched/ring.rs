//! A FIFO of process indices with insertion at both ends, for the queue-based policies.

/// A FIFO of process indices in a power-of-two ring. `VecDeque` does the same, but its
/// `push_back`/`pop_front` are not inlined into the dispatch loop, and at a million processes
/// the two calls a dispatch were a measurable part of its cost (see BENCHMARKS.md).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    pub(crate) slots: Vec<u32>,
    pub(crate) head: usize,
    pub(crate) len: usize,
    /// Counts the times elements moved between slots (growth, a removal from the middle):
    /// a [`Positions`] noted before then is stale.
    generation: u64,
}

impl Ring {
    #[inline]
    pub(crate) fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    #[inline(always)]
    pub(crate) fn push_back(&mut self, p: u32) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let i = (self.head + self.len) & self.mask();
        self.slots[i] = p;
        self.len += 1;
    }

    #[inline]
    pub(crate) fn push_front(&mut self, p: u32) {
        if self.len == self.slots.len() {
            self.grow();
        }
        self.head = self.head.wrapping_sub(1) & self.mask();
        self.slots[self.head] = p;
        self.len += 1;
    }

    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let p = self.slots[self.head];
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(p)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).map(move |k| self.slots[(self.head + k) & self.mask()])
    }

    /// Removes the `k`-th element from the front, keeping the order of the others.
    pub(crate) fn remove(&mut self, k: usize) {
        let mask = self.mask();
        for j in k..self.len - 1 {
            self.slots[(self.head + j) & mask] = self.slots[(self.head + j + 1) & mask];
        }
        self.len -= 1;
        self.generation += 1;
    }

    #[cold]
    fn grow(&mut self) {
        self.generation += 1;
        let items: Vec<u32> = self.iter().collect();
        let cap = (self.slots.len() * 2).max(16);
        self.slots = items;
        self.slots.resize(cap, 0);
        self.head = 0;
    }
}

impl Ring {
    /// Removes `p` wherever it is; false if it was not there.
    pub(crate) fn remove_item(&mut self, p: u32) -> bool {
        let found = self.iter().position(|q| q == p);
        match found {
            Some(i) => {
                self.remove(i);
                true
            }
            None => false,
        }
    }

    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Where processes sit in a [`Ring`], noted as they join, so that `--explain` tells a queue
/// position without searching the queue (a search a process named, and a pick names up to
/// nine: the cost of a decision grew with the queue). Noted only on `--explain`'s path
/// ([`super::Policy::noted_joined`]), never on a push, and every join must be noted. A note
/// is believed when the slot it names still holds the process within the queue; when it
/// does not, the process is not queued, unless slots moved since the last note (then the
/// queue is searched, until the next note notes every element again).
#[derive(Debug, Clone, Default)]
pub(crate) struct Positions {
    /// By process: the slot it was last seen in ([`u32::MAX`]: none).
    slot: Vec<u32>,
    /// The ring's generation the notes were made in.
    generation: u64,
}

impl Positions {
    /// `n` processes just joined `ring` at one end: notes the slots of the `n` first and `n`
    /// last, or of every element if slots moved since the last note.
    pub(crate) fn note(&mut self, ring: &Ring, n: usize) {
        let mask = ring.mask();
        let mut set = |k: usize| {
            let i = (ring.head + k) & mask;
            *super::slot(&mut self.slot, ring.slots[i], u32::MAX) = i as u32;
        };
        if ring.generation != self.generation {
            self.generation = ring.generation;
            (0..ring.len).for_each(&mut set);
            return;
        }
        let n = n.min(ring.len);
        (0..n).chain(ring.len - n..ring.len).for_each(set);
    }

    /// `p`'s place in `ring` from the front, if its note still holds.
    fn noted(&self, ring: &Ring, p: u32) -> Option<usize> {
        self.slot.get(p as usize).and_then(|&i| {
            let k = (i as usize).wrapping_sub(ring.head) & ring.mask();
            (ring.slots.get(i as usize) == Some(&p) && k < ring.len).then_some(k)
        })
    }

    /// `2nd of 3 in the queue`, or `None` if `p` is not in `ring`.
    pub(crate) fn standing(&self, ring: &Ring, p: u32) -> Option<String> {
        let at = match self.noted(ring, p) {
            Some(k) => k,
            None if ring.generation == self.generation => return None,
            None => ring.iter().position(|q| q == p)?,
        };
        Some(format!(
            "{} of {} in the queue",
            crate::report::explain::ordinal(at + 1),
            ring.len
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions told from notes agree with a search of the queue through pushes at both
    /// ends, pops, growth (slots move) and removals from the middle (slots shift), whether
    /// or not the note of the moment was made.
    #[test]
    fn positions_agree_with_a_search_of_the_queue() {
        let mut ring = Ring::default();
        let mut at = Positions::default();
        let searched = |ring: &Ring, p: u32| {
            let k = ring.iter().position(|q| q == p)?;
            Some(format!(
                "{} of {} in the queue",
                crate::report::explain::ordinal(k + 1),
                ring.len
            ))
        };
        let mut next = 0u32;
        for round in 0..400u32 {
            let n = (round % 5) as usize + 1;
            match round % 4 {
                0 | 1 => {
                    for _ in 0..n {
                        ring.push_back(next);
                        next += 1;
                    }
                }
                2 => {
                    for _ in 0..n {
                        ring.push_front(next);
                        next += 1;
                    }
                }
                _ => {
                    for _ in 0..n {
                        ring.pop_front();
                    }
                    if round % 8 == 7 && ring.len > 2 {
                        let mid = ring.iter().nth(ring.len / 2).unwrap();
                        assert!(ring.remove_item(mid));
                    }
                }
            }
            // Every join is noted, as `--explain` notes it; a round of pops that moved slots
            // (a removal) goes unnoted: the stale notes must not be believed.
            if round % 4 != 3 {
                at.note(&ring, n);
                // Each queued process is then found without a search.
                for (k, p) in ring.iter().enumerate() {
                    assert_eq!(at.noted(&ring, p), Some(k), "round {round}, process {p}");
                }
            }
            for p in 0..next {
                assert_eq!(
                    at.standing(&ring, p),
                    searched(&ring, p),
                    "round {round}, process {p}"
                );
            }
        }
        assert!(ring.len > 100, "the ring grew past its first sizes");
    }
}
