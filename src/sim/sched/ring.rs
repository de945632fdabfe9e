//! A FIFO of process indices with insertion at both ends, for the queue-based policies.

/// A FIFO of process indices in a power-of-two ring. `VecDeque` does the same, but its
/// `push_back`/`pop_front` are not inlined into the dispatch loop, and at a million processes
/// the two calls a dispatch were a measurable part of its cost (see BENCHMARKS.md).
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    pub(crate) slots: Vec<u32>,
    pub(crate) head: usize,
    pub(crate) len: usize,
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
    }

    #[cold]
    fn grow(&mut self) {
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

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element at the front.
    pub(crate) fn front(&self) -> Option<u32> {
        (self.len > 0).then(|| self.slots[self.head])
    }
}
