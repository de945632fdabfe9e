//! An indexed min-heap of process indices, for the policies that run the process with the
//! least key (shortest burst, smallest priority number, least pass or vruntime).
//!
//! Beside the heap, a position table (indexed by process) lets a ready process be removed or
//! its key changed in O(log n), which `std::collections::BinaryHeap` cannot do. Keys are
//! compared whole and must be distinct (a policy breaks ties by putting a sequence number,
//! the order processes became ready, or a pid last in its key): then the order of pops is
//! the order of the keys, whatever the shape of the structure.
//!
//! Most pushes come in key order: a process whose slice ended goes behind every other (its
//! vruntime or pass grew the most recently; its sequence number is the newest), an aging
//! deadline is later than every one before it. Those go to a sorted FIFO lane beside the
//! heap, O(1) to push and to pop, and only a push that would break the lane's order goes
//! into the binary heap. The least key is the lesser of the lane's front and the heap's top.
//! (At 20,000 ready processes under CFS, the heap's sift-down was half the run's
//! instructions; BENCHMARKS.md.) A process removed from the middle of the lane leaves a
//! tombstone there, dropped when it reaches the front; the front is never a tombstone.

use std::collections::VecDeque;

/// "Not held" in the position table.
const ABSENT: u32 = u32::MAX;
/// Marks a lane position in the position table; the rest is the entry's number in the
/// lane, counted from the first push, modulo [`WRAP`].
const LANE: u32 = 1 << 31;
/// Lane numbers run modulo this (never `ABSENT`'s low bits, so no code is `ABSENT`). The lane
/// is compacted before its tombstones outnumber its live entries (plus [`SLACK`]), so it is
/// shorter than this for as long as fewer than 2^30 processes are held. (Small in the unit
/// tests, so that they go round it.)
#[cfg(not(test))]
const WRAP: u32 = LANE - 1;
#[cfg(test)]
const WRAP: u32 = 509;
/// Tombstones the lane may hold beyond its live entries before it is compacted.
const SLACK: usize = 32;
/// A lane entry whose process was removed.
const DEAD: u32 = u32::MAX;

/// A min-heap of process indices by key.
#[derive(Debug, Clone)]
pub(crate) struct KeyedHeap<K: Ord + Copy> {
    heap: Vec<(K, u32)>,
    /// Entries in increasing key order; removed ones hold [`DEAD`].
    lane: VecDeque<(K, u32)>,
    /// The number (modulo [`WRAP`]) of the lane's front entry.
    lane_head: u32,
    /// Live entries in `lane`.
    lane_live: usize,
    /// Where each process is: an index in `heap`, `LANE | number` in the lane, or
    /// [`ABSENT`].
    pos: Vec<u32>,
}

impl<K: Ord + Copy> Default for KeyedHeap<K> {
    fn default() -> Self {
        KeyedHeap {
            heap: Vec::new(),
            lane: VecDeque::new(),
            lane_head: 0,
            lane_live: 0,
            pos: Vec::new(),
        }
    }
}

/// Where a held process is.
enum At {
    Heap(usize),
    Lane(usize),
}

impl<K: Ord + Copy> KeyedHeap<K> {
    /// The number of processes held.
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.lane_live
    }

    /// Whether `p` is held.
    pub(crate) fn contains(&self, p: u32) -> bool {
        self.pos.get(p as usize).is_some_and(|&i| i != ABSENT)
    }

    fn at(&self, p: u32) -> Option<At> {
        let code = *self.pos.get(p as usize)?;
        if code == ABSENT {
            None
        } else if code & LANE == 0 {
            Some(At::Heap(code as usize))
        } else {
            let number = code & !LANE;
            Some(At::Lane(((number + WRAP - self.lane_head) % WRAP) as usize))
        }
    }

    /// The key of `p`, if held.
    pub(crate) fn key(&self, p: u32) -> Option<K> {
        Some(match self.at(p)? {
            At::Heap(i) => self.heap[i].0,
            At::Lane(i) => self.lane[i].0,
        })
    }

    /// Adds `p` with `key`, or changes its key if it is held.
    pub(crate) fn push(&mut self, p: u32, key: K) {
        if self.contains(p) {
            self.update(p, key);
            return;
        }
        if self.lane.back().is_none_or(|&(last, _)| last < key) {
            let number = (self.lane_head as usize + self.lane.len()) % WRAP as usize;
            self.lane.push_back((key, p));
            self.lane_live += 1;
            *super::slot(&mut self.pos, p, ABSENT) = LANE | number as u32;
            return;
        }
        self.heap.push((key, p));
        let i = self.heap.len() - 1;
        *super::slot(&mut self.pos, p, ABSENT) = i as u32;
        self.up(i);
    }

    /// The least key and its process.
    pub(crate) fn peek(&self) -> Option<(K, u32)> {
        match (self.heap.first(), self.lane.front()) {
            (Some(&h), Some(&l)) => Some(if l.0 < h.0 { l } else { h }),
            (h, l) => h.or(l).copied(),
        }
    }

    /// Takes the process with the least key.
    pub(crate) fn pop(&mut self) -> Option<(K, u32)> {
        match (self.heap.first(), self.lane.front()) {
            (Some(h), Some(l)) if l.0 < h.0 => Some(self.take_lane_front()),
            (None, Some(_)) => Some(self.take_lane_front()),
            (Some(_), _) => Some(self.take(0)),
            (None, None) => None,
        }
    }

    /// Removes `p`; its key, if it was held.
    pub(crate) fn remove(&mut self, p: u32) -> Option<K> {
        match self.at(p)? {
            At::Heap(i) => Some(self.take(i).0),
            At::Lane(0) => Some(self.take_lane_front().0),
            At::Lane(i) => {
                let key = self.lane[i].0;
                self.lane[i].1 = DEAD;
                self.lane_live -= 1;
                self.pos[p as usize] = ABSENT;
                if self.lane.len() > 2 * self.lane_live + SLACK {
                    self.compact();
                }
                Some(key)
            }
        }
    }

    /// Changes the key of a held process.
    pub(crate) fn update(&mut self, p: u32, key: K) {
        match self.at(p) {
            Some(At::Heap(i)) => {
                let old = self.heap[i].0;
                self.heap[i].0 = key;
                if key < old {
                    self.up(i);
                } else {
                    self.down(i);
                }
            }
            Some(At::Lane(_)) => {
                self.remove(p);
                self.push(p, key);
            }
            None => {}
        }
    }

    /// The held processes with their keys, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        let lane = self.lane.iter().filter(|e| e.1 != DEAD);
        self.heap.iter().chain(lane).copied()
    }

    /// Takes the lane's front entry (live), and drops the tombstones behind it.
    fn take_lane_front(&mut self) -> (K, u32) {
        let (key, p) = self.lane.pop_front().expect("a live front");
        self.advance_head();
        self.pos[p as usize] = ABSENT;
        self.lane_live -= 1;
        while self.lane.front().is_some_and(|e| e.1 == DEAD) {
            self.lane.pop_front();
            self.advance_head();
        }
        (key, p)
    }

    /// Drops the lane's tombstones and numbers its entries from 0 again: O(lane), paid for by
    /// the removals that made at least as many tombstones.
    fn compact(&mut self) {
        self.lane.retain(|e| e.1 != DEAD);
        self.lane_head = 0;
        for (number, &(_, p)) in self.lane.iter().enumerate() {
            self.pos[p as usize] = LANE | number as u32;
        }
    }

    fn advance_head(&mut self) {
        self.lane_head += 1;
        if self.lane_head == WRAP {
            self.lane_head = 0;
        }
    }

    fn take(&mut self, i: usize) -> (K, u32) {
        let last = self.heap.pop().expect("not empty");
        if i == self.heap.len() {
            self.pos[last.1 as usize] = ABSENT;
            return last;
        }
        let taken = self.heap[i];
        self.pos[taken.1 as usize] = ABSENT;
        // `last` fills the hole at `i`: down if it is larger than the children there, else up.
        self.heap[i] = last;
        self.pos[last.1 as usize] = i as u32;
        self.down(i);
        self.up(self.pos[last.1 as usize] as usize);
        taken
    }

    /// Moves the entry at `i` up to its place, shifting the larger parents down into the hole
    /// it leaves (one write of each moved entry and its position).
    fn up(&mut self, mut i: usize) {
        let entry = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let above = self.heap[parent];
            if entry.0 >= above.0 {
                break;
            }
            self.heap[i] = above;
            self.pos[above.1 as usize] = i as u32;
            i = parent;
        }
        self.heap[i] = entry;
        self.pos[entry.1 as usize] = i as u32;
    }

    /// Moves the entry at `i` down to its place, shifting the lesser children up.
    fn down(&mut self, mut i: usize) {
        let entry = self.heap[i];
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let child = if r < n && self.heap[r].0 < self.heap[l].0 {
                r
            } else {
                l
            };
            let below = self.heap[child];
            if below.0 >= entry.0 {
                break;
            }
            self.heap[i] = below;
            self.pos[below.1 as usize] = i as u32;
            i = child;
        }
        self.heap[i] = entry;
        self.pos[entry.1 as usize] = i as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_key_order_with_removals_and_updates() {
        let mut h = KeyedHeap::default();
        let mut model: Vec<(u64, u32)> = Vec::new();
        let mut x: u64 = 12345;
        for step in 0..3000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = ((x >> 33) % 200) as u32;
            let key = (x >> 13) % 1000;
            match step % 5 {
                0 | 1 => {
                    h.push(p, (key, p));
                    model.retain(|e| e.1 != p);
                    model.push((key, p));
                }
                2 => {
                    let got = h.remove(p).map(|k| k.0);
                    let want = model
                        .iter()
                        .position(|e| e.1 == p)
                        .map(|i| model.remove(i).0);
                    assert_eq!(got, want);
                }
                _ => {
                    model.sort();
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    assert_eq!(h.pop().map(|(k, p)| (k.0, p)), want);
                }
            }
            assert_eq!(h.len(), model.len());
        }
    }

    /// Keys that mostly grow, as a slice end's do: most pushes go to the lane, and removals,
    /// key changes and pops take from both it and the heap (its numbering going round).
    #[test]
    fn lane_and_heap_agree_with_a_sorted_model() {
        let mut h = KeyedHeap::default();
        let mut model: Vec<(u64, u32)> = Vec::new();
        let mut x: u64 = 99;
        for step in 0..20_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = ((x >> 33) % 150) as u32;
            // Growing with the step, now and then below the latest.
            let key =
                1000 + step * 4 + (x >> 20) % 3 - if (x >> 40).is_multiple_of(7) { 200 } else { 0 };
            match (x >> 50) % 8 {
                0..=3 => {
                    h.push(p, (key, p));
                    model.retain(|e| e.1 != p);
                    model.push((key, p));
                }
                4 => {
                    let got = h.remove(p).map(|k| k.0);
                    let want = model
                        .iter()
                        .position(|e| e.1 == p)
                        .map(|i| model.remove(i).0);
                    assert_eq!(got, want);
                }
                5 => {
                    if let Some(e) = model.iter_mut().find(|e| e.1 == p) {
                        e.0 = e.0.saturating_sub(500);
                        h.update(p, (e.0, p));
                    }
                }
                _ => {
                    model.sort();
                    assert_eq!(h.peek().map(|(k, p)| (k.0, p)), model.first().copied());
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    assert_eq!(h.pop().map(|(k, p)| (k.0, p)), want);
                }
            }
            assert_eq!(h.len(), model.len());
            assert_eq!(
                h.key(p).map(|k| k.0),
                model.iter().find(|e| e.1 == p).map(|e| e.0)
            );
            assert!(h.lane.len() <= 2 * h.lane_live + SLACK + 1);
        }
        let mut held: Vec<_> = h.iter().map(|(k, p)| (k.0, p)).collect();
        held.sort();
        model.sort();
        assert_eq!(held, model);
    }
}
