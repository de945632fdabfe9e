//! Scheduling policies behind one small trait, so that a new policy needs no change to the
//! kernel loop. The kernel decides *when* a process joins the ready queue and in which
//! same-tick order; the policy decides *which* ready process runs next and for how long.

use std::collections::VecDeque;

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
    queue: VecDeque<u32>,
    quantum: u64,
}

impl RoundRobin {
    /// Round robin with this quantum (at least 1).
    pub fn new(quantum: u64) -> Self {
        RoundRobin {
            queue: VecDeque::new(),
            quantum,
        }
    }
}

impl Policy for RoundRobin {
    fn push(&mut self, p: u32, place: Place) {
        match place {
            Place::Tail => self.queue.push_back(p),
            Place::Head => self.queue.push_front(p),
        }
    }
    fn pop(&mut self) -> Option<u32> {
        self.queue.pop_front()
    }
    fn remove(&mut self, p: u32) -> bool {
        match self.queue.iter().position(|&q| q == p) {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }
    fn len(&self) -> usize {
        self.queue.len()
    }
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
}
