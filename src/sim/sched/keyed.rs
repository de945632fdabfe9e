//! An indexed binary min-heap of process indices, for the policies that run the process with
//! the least key (shortest burst, smallest priority number, least pass or vruntime).
//!
//! Beside the heap, a position table (indexed by process) lets a ready process be removed or
//! its key changed in O(log n), which `std::collections::BinaryHeap` cannot do. Keys are
//! compared whole, so a policy breaks ties by putting a sequence number (the order processes
//! became ready) or a pid last in its key.

/// "Not in the heap" in the position table.
const ABSENT: u32 = u32::MAX;

/// A min-heap of process indices by key.
#[derive(Debug, Clone)]
pub(crate) struct KeyedHeap<K: Ord + Copy> {
    heap: Vec<(K, u32)>,
    /// Where each process is in `heap`, or [`ABSENT`].
    pos: Vec<u32>,
}

impl<K: Ord + Copy> Default for KeyedHeap<K> {
    fn default() -> Self {
        KeyedHeap {
            heap: Vec::new(),
            pos: Vec::new(),
        }
    }
}

impl<K: Ord + Copy> KeyedHeap<K> {
    /// The number of processes held.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether `p` is held.
    pub(crate) fn contains(&self, p: u32) -> bool {
        self.pos.get(p as usize).is_some_and(|&i| i != ABSENT)
    }

    /// The key of `p`, if held.
    pub(crate) fn key(&self, p: u32) -> Option<K> {
        let i = *self.pos.get(p as usize)?;
        (i != ABSENT).then(|| self.heap[i as usize].0)
    }

    /// Adds `p` with `key`, or changes its key if it is held.
    pub(crate) fn push(&mut self, p: u32, key: K) {
        if self.contains(p) {
            self.update(p, key);
            return;
        }
        self.heap.push((key, p));
        let i = self.heap.len() - 1;
        *super::slot(&mut self.pos, p, ABSENT) = i as u32;
        self.up(i);
    }

    /// The least key and its process.
    pub(crate) fn peek(&self) -> Option<(K, u32)> {
        self.heap.first().copied()
    }

    /// Takes the process with the least key.
    pub(crate) fn pop(&mut self) -> Option<(K, u32)> {
        if self.heap.is_empty() {
            return None;
        }
        Some(self.take(0))
    }

    /// Removes `p`; its key, if it was held.
    pub(crate) fn remove(&mut self, p: u32) -> Option<K> {
        let i = *self.pos.get(p as usize)?;
        if i == ABSENT {
            return None;
        }
        Some(self.take(i as usize).0)
    }

    /// Changes the key of a held process.
    pub(crate) fn update(&mut self, p: u32, key: K) {
        let i = self.pos[p as usize] as usize;
        let old = self.heap[i].0;
        self.heap[i].0 = key;
        if key < old {
            self.up(i);
        } else {
            self.down(i);
        }
    }

    /// The held processes with their keys, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        self.heap.iter().copied()
    }

    fn take(&mut self, i: usize) -> (K, u32) {
        let last = self.heap.len() - 1;
        self.swap(i, last);
        let (key, p) = self.heap.pop().expect("not empty");
        self.pos[p as usize] = ABSENT;
        if i < self.heap.len() {
            self.down(i);
            self.up(i);
        }
        (key, p)
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a].1 as usize] = a as u32;
        self.pos[self.heap[b].1 as usize] = b as u32;
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[i].0 < self.heap[parent].0 {
                self.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < self.heap.len() && self.heap[l].0 < self.heap[least].0 {
                least = l;
            }
            if r < self.heap.len() && self.heap[r].0 < self.heap[least].0 {
                least = r;
            }
            if least == i {
                break;
            }
            self.swap(i, least);
            i = least;
        }
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
}
