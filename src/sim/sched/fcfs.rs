//! First come, first served: one FIFO queue and no slice. A process runs until it blocks or
//! ends; whoever became ready first runs first (SPEC §3a).

use super::ring::{Positions, Ring};
use super::{Policy, Ready, SeededRng, UNLIMITED};

/// First come, first served.
#[derive(Debug, Clone, Default)]
pub struct Fcfs {
    queue: Ring,
    /// Where the queued processes sit, for `--explain` (noted on its path alone).
    positions: Positions,
}

impl Fcfs {
    /// An empty queue.
    pub fn new() -> Self {
        Fcfs::default()
    }
}

impl Policy for Fcfs {
    fn name(&self) -> &'static str {
        "fcfs"
    }

    fn enqueue(&mut self, p: u32, _why: Ready, _burst: u64, _now: u64) {
        self.queue.push_back(p);
    }

    fn pick(&mut self, _now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.queue.pop_front()
    }

    /// O(1) amortized (the ring turns indexed, `ring.rs`); on `--explain`'s path, whose
    /// notes of queue positions read slots, a search and a shift.
    fn remove(&mut self, p: u32) -> bool {
        if self.positions.is_on() {
            return self.queue.remove_searched(p);
        }
        self.queue.remove_item(p)
    }

    fn len(&self) -> usize {
        self.queue.len()
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        UNLIMITED
    }

    fn rule(&self) -> &'static str {
        "FCFS takes the one that became ready first (the head of the FIFO queue)"
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        self.positions.standing(&self.queue, p)
    }

    fn noted_joined(&mut self, ps: &[u32], _why: Ready) {
        self.positions.note(&self.queue, ps.len());
    }

    fn placement(&self, _why: Ready) -> String {
        "at the tail of the queue".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_come_first_served_without_a_slice() {
        let mut f = Fcfs::new();
        let mut g = SeededRng::new(0);
        f.enqueue(3, Ready::Admit, 0, 0);
        f.enqueue(1, Ready::Wake, 0, 0);
        f.enqueue(2, Ready::Admit, 0, 0);
        assert!(f.remove(1));
        assert_eq!(f.pick(0, &mut g), Some(3));
        assert_eq!(f.slice(3, 0), UNLIMITED);
        assert_eq!(f.pick(0, &mut g), Some(2));
        assert_eq!(f.pick(0, &mut g), None);
    }
}
