//! Scheduling policies behind one small trait, so that a new policy needs no change to the
//! kernel loop. The kernel decides *when* a process joins the ready queue and in which
//! same-tick order; the policy decides *which* ready process runs next and for how long.

/// Where a process joins the ready structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Behind everyone.
    Tail,
    /// Ahead of everyone.
    Head,
}

/// A scheduling policy: the ready structure and the time slice.
pub trait Policy {
    /// Adds process `p` (an index into the kernel's process table).
    fn push(&mut self, p: u32, place: Place);
    /// Takes the process to run next.
    fn pop(&mut self) -> Option<u32>;
    /// Removes `p` wherever it is (a signal ended it while ready); false if it was not there.
    fn remove(&mut self, p: u32) -> bool;
    /// The number of ready processes.
    fn len(&self) -> usize;
    /// Whether no process is ready.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The full time slice for a dispatch of `p`.
    fn quantum(&self, p: u32) -> u64;
}

/// Round robin: one FIFO queue and one fixed quantum.
#[derive(Debug, Clone)]
pub struct RoundRobin {
    queue: Ring,
    quantum: u64,
}

impl RoundRobin {
    /// Round robin with this quantum (at least 1).
    pub fn new(quantum: u64) -> Self {
        RoundRobin {
            queue: Ring::default(),
            quantum,
        }
    }
}

/// A FIFO of process indices in a power-of-two ring. `VecDeque` does the same, but its
/// `push_back`/`pop_front` are not inlined into the dispatch loop, and at a million processes
/// the two calls a dispatch were a measurable part of its cost (see BENCHMARKS.md).
#[derive(Debug, Clone, Default)]
struct Ring {
    slots: Vec<u32>,
    head: usize,
    len: usize,
}

impl Ring {
    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    #[inline(always)]
    fn push_back(&mut self, p: u32) {
        if self.len == self.slots.len() {
            self.grow();
        }
        let i = (self.head + self.len) & self.mask();
        self.slots[i] = p;
        self.len += 1;
    }

    #[inline]
    fn push_front(&mut self, p: u32) {
        if self.len == self.slots.len() {
            self.grow();
        }
        self.head = self.head.wrapping_sub(1) & self.mask();
        self.slots[self.head] = p;
        self.len += 1;
    }

    #[inline(always)]
    fn pop_front(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let p = self.slots[self.head];
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(p)
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).map(move |k| self.slots[(self.head + k) & self.mask()])
    }

    /// Removes the `k`-th element from the front, keeping the order of the others.
    fn remove(&mut self, k: usize) {
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

impl Policy for RoundRobin {
    #[inline(always)]
    fn push(&mut self, p: u32, place: Place) {
        match place {
            Place::Tail => self.queue.push_back(p),
            Place::Head => self.queue.push_front(p),
        }
    }
    #[inline(always)]
    fn pop(&mut self) -> Option<u32> {
        self.queue.pop_front()
    }
    fn remove(&mut self, p: u32) -> bool {
        let found = self.queue.iter().position(|q| q == p);
        match found {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }
    #[inline]
    fn len(&self) -> usize {
        self.queue.len
    }
    #[inline]
    fn quantum(&self, _p: u32) -> u64 {
        self.quantum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_head_insertion() {
        let mut rr = RoundRobin::new(4);
        rr.push(1, Place::Tail);
        rr.push(2, Place::Tail);
        rr.push(3, Place::Head);
        assert!(rr.remove(1));
        assert!(!rr.remove(9));
        assert_eq!([rr.pop(), rr.pop(), rr.pop()], [Some(3), Some(2), None]);
        assert_eq!(rr.quantum(0), 4);
    }

    #[test]
    fn the_ring_keeps_fifo_order_across_growth_and_wrap() {
        let mut rr = RoundRobin::new(1);
        let mut model = std::collections::VecDeque::new();
        for i in 0..1000u32 {
            match i % 7 {
                0..=2 => {
                    rr.push(i, Place::Tail);
                    model.push_back(i);
                }
                3 => {
                    rr.push(i, Place::Head);
                    model.push_front(i);
                }
                4 => assert_eq!(rr.pop(), model.pop_front()),
                5 => {
                    let victim = model.get(model.len() / 2).copied();
                    if let Some(v) = victim {
                        assert!(rr.remove(v));
                        model.retain(|x| *x != v);
                    }
                }
                _ => assert_eq!(rr.pop(), model.pop_front()),
            }
            assert_eq!(rr.len(), model.len());
        }
        while let Some(x) = model.pop_front() {
            assert_eq!(rr.pop(), Some(x));
        }
        assert_eq!(rr.pop(), None);
    }
}
