//! A FIFO of small copyable entries in a ring of a power-of-two number of slots: what EEVDF's
//! deadline lane (`dltree.rs`) and the kernel's timers set in firing order (`timers.rs`) are
//! kept in.
//!
//! It does what `VecDeque` does for the lane (push at the back, pop at the front, look at
//! either end or `k` places in, keep those that pass a test) with a mask for the wrap-around
//! instead of `VecDeque`'s compare and subtract, and nothing else on the path of a dispatch:
//! under RR-IO-v1 every EEVDF dispatch pushes one entry and pops one, and the `VecDeque`
//! accessors were a visible share of its instructions (BENCHMARKS.md, fifteenth round). The
//! hot accessors index without a bounds check: every index is masked below the slots'
//! number, which is 0 only while the ring is empty (with the checks, RR-IO-v1's timers cost
//! 4.4 M instructions more at N = 20,000 on one CPU, 2.8 % of the run: BENCHMARKS.md,
//! twenty-seventh round).

/// Slots of the first ring a push grows.
const FIRST: usize = 16;

/// Entries in insertion order.
#[derive(Debug, Clone)]
pub(crate) struct Fifo<T> {
    /// `len` entries from `head`, wrapping; its length is 0 or a power of two.
    slots: Vec<T>,
    head: usize,
    len: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo {
            slots: Vec::new(),
            head: 0,
            len: 0,
        }
    }
}

impl<T: Copy> Fifo<T> {
    /// For an index from `head`: the slot's (the slot count is a power of two).
    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The number of entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether there is none.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry `k` places behind the front, if there are that many.
    #[inline]
    pub(crate) fn get(&self, k: usize) -> Option<&T> {
        if k >= self.len {
            return None;
        }
        // SAFETY: `k < len <= slots.len()`, so there are slots, a power of two of them, and
        // the index is masked below their number.
        Some(unsafe { self.slots.get_unchecked((self.head + k) & self.mask()) })
    }

    /// The oldest entry.
    #[inline]
    pub(crate) fn front(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        // SAFETY: there are entries, so slots, and `head` is always masked below their
        // number (0 when the slots are made).
        Some(unsafe { self.slots.get_unchecked(self.head) })
    }

    /// The newest entry.
    #[inline]
    pub(crate) fn back(&self) -> Option<&T> {
        self.get(self.len.wrapping_sub(1))
    }

    /// Adds `x` at the back.
    #[inline]
    pub(crate) fn push_back(&mut self, x: T) {
        if self.len == self.slots.len() {
            self.grow(x);
        }
        let i = (self.head + self.len) & self.mask();
        // SAFETY: after `grow`, `len < slots.len()`, a power of two; `i` is masked below it.
        unsafe { *self.slots.get_unchecked_mut(i) = x };
        self.len += 1;
    }

    /// Adds `x` at the front (it becomes the oldest).
    #[inline]
    pub(crate) fn push_front(&mut self, x: T) {
        if self.len == self.slots.len() {
            self.grow(x);
        }
        self.head = self.head.wrapping_sub(1) & self.mask();
        self.slots[self.head] = x;
        self.len += 1;
    }

    /// Takes the oldest entry.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let x = *self.front()?;
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(x)
    }

    /// The entries from the front.
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.len).map(|k| self.slots[(self.head + k) & self.mask()])
    }

    /// Keeps only the entries that pass `keep`, in their order (O(entries)).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(T) -> bool) {
        let kept: Vec<T> = self.iter().filter(|&x| keep(x)).collect();
        self.head = 0;
        self.len = kept.len();
        for (slot, x) in self.slots.iter_mut().zip(kept) {
            *slot = x;
        }
    }

    /// Twice the slots (at least [`FIRST`]), the entries moved to the front of them in order;
    /// `fill` fills the rest.
    #[cold]
    fn grow(&mut self, fill: T) {
        let cap = (2 * self.slots.len()).max(FIRST);
        let mut slots = Vec::with_capacity(cap);
        slots.extend(self.iter());
        slots.resize(cap, fill);
        self.slots = slots;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Against `VecDeque`, through growth, wrap-around (joins at the front too) and culls.
    #[test]
    fn agrees_with_a_vecdeque() {
        let mut f = Fifo::default();
        let mut d = VecDeque::new();
        let mut x: u64 = 7;
        for step in 0..50_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match (x >> 40) % 7 {
                0..=2 => {
                    f.push_back(step);
                    d.push_back(step);
                }
                3 if step % 5 == 0 => {
                    f.push_front(step);
                    d.push_front(step);
                }
                3..=5 => assert_eq!(f.pop_front(), d.pop_front()),
                _ if step % 97 == 0 => {
                    let m = (x >> 20) % 5;
                    f.retain(|e| u64::from(e) % 5 != m);
                    d.retain(|&e| u64::from(e) % 5 != m);
                }
                _ => {
                    let k = ((x >> 24) % 40) as usize;
                    assert_eq!(f.get(k), d.get(k));
                }
            }
            assert_eq!((f.len(), f.is_empty()), (d.len(), d.is_empty()));
            assert_eq!((f.front(), f.back()), (d.front(), d.back()));
            assert!(f.slots.is_empty() || f.slots.len().is_power_of_two());
        }
        assert!(f.iter().eq(d.iter().copied()));
    }
}
