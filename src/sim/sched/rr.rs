//! Round robin (SPEC section 3): one FIFO queue, a fixed slice, and the textbook
//! conventions that place a woken process (`wake_to`) and size the slice after a block
//! (`slice_after_block`).

use super::ring::{Positions, Ring};
use super::{Leave, Policy, Ready, SeededRng, Usage};
use crate::scenario::{SliceAfterBlock, WakeTo};

/// Round robin: one FIFO queue and one fixed quantum.
#[derive(Debug, Clone)]
pub struct RoundRobin {
    queue: Ring,
    quantum: u64,
    wake_to: WakeTo,
    keep: bool,
    /// With `slice_after_block: keep`, what each process had left of its slice when it
    /// blocked (0: nothing kept), indexed by process.
    kept: Vec<u64>,
    /// Where the queued processes sit, for `--explain` (noted on its path alone).
    positions: Positions,
}

impl RoundRobin {
    /// Round robin with this quantum (at least 1) and these conventions.
    pub fn new(quantum: u64, wake_to: WakeTo, slice_after_block: SliceAfterBlock) -> Self {
        RoundRobin {
            queue: Ring::default(),
            quantum,
            wake_to,
            keep: slice_after_block == SliceAfterBlock::Keep,
            kept: Vec::new(),
            positions: Positions::default(),
        }
    }
}

impl Policy for RoundRobin {
    fn name(&self) -> &'static str {
        "rr"
    }

    #[inline(always)]
    fn enqueue(&mut self, p: u32, why: Ready, _burst: u64, _now: u64) {
        match (why, self.wake_to) {
            (Ready::Wake, WakeTo::Head) => self.queue.push_front(p),
            _ => self.queue.push_back(p),
        }
    }

    #[inline(always)]
    fn enqueue_group(&mut self, ps: &[u32], why: Ready, _bursts: &[u64], _now: u64) {
        if why == Ready::Wake && self.wake_to == WakeTo::Head {
            // At the head, in their order: the first of them ends up first.
            for &p in ps.iter().rev() {
                self.queue.push_front(p);
            }
        } else {
            for &p in ps {
                self.queue.push_back(p);
            }
        }
    }

    #[inline(always)]
    fn pick(&mut self, _now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.queue.pop_front()
    }

    /// `charge` (nothing at a slice end), `enqueue` at the tail and `pick`, as one turn of
    /// the ring ([`Ring::push_back_pop_front`]).
    #[inline(always)]
    fn requeue_pick(
        &mut self,
        p: u32,
        _usage: Usage,
        _now: u64,
        _rng: &mut SeededRng,
    ) -> Option<u32> {
        Some(self.queue.push_back_pop_front(p))
    }

    /// `pick` then `enqueue` at the tail, as one turn of the ring
    /// ([`Ring::pop_front_push_back`]).
    #[inline(always)]
    fn pick_then_requeue(&mut self, p: u32, _now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.queue.pop_front_push_back(p)
    }

    /// O(1) amortized (the ring turns indexed, `ring.rs`); on `--explain`'s path, whose
    /// notes of queue positions read slots, a search and a shift.
    fn remove(&mut self, p: u32) -> bool {
        if self.positions.is_on() {
            return self.queue.remove_searched(p);
        }
        self.queue.remove_item(p)
    }

    #[inline]
    fn len(&self) -> usize {
        self.queue.len()
    }

    /// A full quantum, or with `slice_after_block: keep` what was left of the slice the
    /// process blocked in (once; a fresh one if nothing was left).
    #[inline(always)]
    fn slice(&mut self, p: u32, _now: u64) -> u64 {
        if self.keep
            && let Some(kept) = self.kept.get_mut(p as usize)
        {
            let kept = std::mem::take(kept);
            if kept > 0 {
                return kept;
            }
        }
        self.quantum
    }

    #[inline(always)]
    fn charge(&mut self, p: u32, why: Leave, usage: Usage, _now: u64) {
        if self.keep && why == Leave::Block {
            *super::slot(&mut self.kept, p, 0) = if usage.slice_left == super::UNLIMITED {
                0
            } else {
                usage.slice_left
            };
        }
    }

    fn upcoming(&self, k: usize) -> Option<u32> {
        self.queue.nth(k)
    }

    /// The plain ring's `k`-th slot (none while it is indexed): a hint, read in the
    /// dispatch loop.
    #[inline(always)]
    fn likely(&self, k: usize) -> Option<u32> {
        self.queue.likely(k)
    }

    fn fast_paths_exact(&self) -> bool {
        true
    }

    /// Only `slice_after_block: keep` needs to know what was left of a slice at a block.
    fn charges_blocks(&self) -> bool {
        self.keep
    }

    fn rule(&self) -> &'static str {
        "round robin takes the head of the FIFO ready queue"
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        self.positions.standing(&self.queue, p)
    }

    fn noted_joined(&mut self, ps: &[u32], _why: Ready) {
        self.positions.note(&self.queue, ps.len());
    }

    fn placement(&self, why: Ready) -> String {
        match (why, self.wake_to) {
            (Ready::Wake, WakeTo::Head) => "at the head of the queue (wake_to: head)".to_owned(),
            (Ready::Wake, WakeTo::Tail) => "at the tail of the queue (wake_to: tail)".to_owned(),
            _ => "at the tail of the queue".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::SeededRng;

    fn rr(q: u64) -> RoundRobin {
        RoundRobin::new(q, WakeTo::Tail, SliceAfterBlock::Fresh)
    }

    #[test]
    fn fifo_with_head_insertion() {
        let mut rr = rr(4);
        let mut g = SeededRng::new(0);
        rr.enqueue(1, Ready::Admit, 0, 0);
        rr.enqueue(2, Ready::Admit, 0, 0);
        rr.queue.push_front(3);
        assert!(rr.remove(1));
        assert!(!rr.remove(9));
        assert_eq!(
            [rr.pick(0, &mut g), rr.pick(0, &mut g), rr.pick(0, &mut g)],
            [Some(3), Some(2), None]
        );
        assert_eq!(rr.slice(0, 0), 4);
    }

    #[test]
    fn the_ring_keeps_fifo_order_across_growth_and_wrap() {
        let mut rr = rr(1);
        let mut g = SeededRng::new(0);
        let mut model = std::collections::VecDeque::new();
        for i in 0..1000u32 {
            match i % 7 {
                0..=2 => {
                    rr.enqueue(i, Ready::SliceEnd, 0, 0);
                    model.push_back(i);
                }
                3 => {
                    rr.queue.push_front(i);
                    model.push_front(i);
                }
                4 => assert_eq!(rr.pick(0, &mut g), model.pop_front()),
                5 => {
                    let victim = model.get(model.len() / 2).copied();
                    if let Some(v) = victim {
                        assert!(rr.remove(v));
                        model.retain(|x| *x != v);
                    }
                }
                _ => assert_eq!(rr.pick(0, &mut g), model.pop_front()),
            }
            assert_eq!(rr.len(), model.len());
        }
        while let Some(x) = model.pop_front() {
            assert_eq!(rr.pick(0, &mut g), Some(x));
        }
        assert_eq!(rr.pick(0, &mut g), None);
    }
}
