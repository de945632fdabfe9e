//! Up to 64 FIFO queues of process indices, doubly linked through per-process slots, for MLFQ.
//!
//! Linked rather than rings because MLFQ needs what rings do in O(n): a signal removes a
//! process from the middle of its queue, a preempted process goes back in just behind the few
//! put at the front during the same tick, and a priority boost moves every queue to the top
//! one. Here the first costs O(1), the second O(those few), the third O(levels).

/// "No process" in a link.
const NIL: u32 = u32::MAX;

/// One queue: its ends.
#[derive(Debug, Clone, Copy)]
struct Queue {
    head: u32,
    tail: u32,
}

const EMPTY: Queue = Queue {
    head: NIL,
    tail: NIL,
};

/// A process's neighbours in its queue.
#[derive(Debug, Clone, Copy)]
struct Link {
    next: u32,
    prev: u32,
}

const UNLINKED: Link = Link {
    next: NIL,
    prev: NIL,
};

/// `levels` FIFO queues (0 is the most urgent). A process is in at most one of them; the
/// caller tells which one when it unlinks it.
#[derive(Debug, Clone)]
pub(crate) struct Levels {
    queues: Vec<Queue>,
    /// Per process: the next and the previous in its queue (side by side: an unlink
    /// reads both).
    links: Vec<Link>,
    /// Bit `l` is set when queue `l` holds a process.
    nonempty: u64,
    len: usize,
}

impl Levels {
    /// `levels` empty queues, 1 to 64.
    pub(crate) fn new(levels: usize) -> Self {
        assert!((1..=64).contains(&levels), "1 to 64 levels");
        Levels {
            queues: vec![EMPTY; levels],
            links: Vec::new(),
            nonempty: 0,
            len: 0,
        }
    }

    /// The number of processes in all queues.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The most urgent non-empty level.
    #[inline]
    pub(crate) fn top(&self) -> Option<usize> {
        (self.nonempty != 0).then(|| self.nonempty.trailing_zeros() as usize)
    }

    /// The process at the front of queue `l`.
    #[inline]
    pub(crate) fn front(&self, l: usize) -> Option<u32> {
        let h = self.queues[l].head;
        (h != NIL).then_some(h)
    }

    /// Makes room for `p` in the links (the growing apart: it is rare).
    #[inline]
    fn slot(&mut self, p: u32) {
        if self.links.len() <= p as usize {
            self.grow(p);
        }
    }

    #[inline(never)]
    fn grow(&mut self, p: u32) {
        self.links.resize(p as usize + 1, UNLINKED);
    }

    /// Puts `p` (in no queue) at the tail of queue `l`.
    #[inline]
    pub(crate) fn push_back(&mut self, l: usize, p: u32) {
        let tail = self.queues[l].tail;
        self.insert_after(l, tail, p);
    }

    /// Puts `p` (in no queue) at the front of queue `l`.
    #[inline]
    pub(crate) fn push_front(&mut self, l: usize, p: u32) {
        self.insert_after(l, NIL, p);
    }

    /// Puts `p` (in no queue) after the first `k` processes of queue `l` (at the tail if it
    /// holds fewer). O(k).
    pub(crate) fn insert_at(&mut self, l: usize, k: usize, p: u32) {
        let mut after = NIL;
        let mut at = self.queues[l].head;
        for _ in 0..k {
            if at == NIL {
                break;
            }
            after = at;
            at = self.links[at as usize].next;
        }
        self.insert_after(l, after, p);
    }

    /// Links `p` into queue `l` after `after` (`NIL`: at the front).
    #[inline]
    fn insert_after(&mut self, l: usize, after: u32, p: u32) {
        self.slot(p);
        let q = &mut self.queues[l];
        let before = if after == NIL {
            std::mem::replace(&mut q.head, p)
        } else {
            std::mem::replace(&mut self.links[after as usize].next, p)
        };
        if before == NIL {
            q.tail = p;
        } else {
            self.links[before as usize].prev = p;
        }
        self.links[p as usize] = Link {
            next: before,
            prev: after,
        };
        self.nonempty |= 1 << l;
        self.len += 1;
    }

    /// Takes the front of queue `l`.
    #[inline]
    pub(crate) fn pop_front(&mut self, l: usize) -> Option<u32> {
        let p = self.front(l)?;
        self.unlink(l, p);
        Some(p)
    }

    /// Takes `p` out of queue `l`, where it is.
    #[inline]
    pub(crate) fn unlink(&mut self, l: usize, p: u32) {
        let Link { next: n, prev: pr } = self.links[p as usize];
        let q = &mut self.queues[l];
        if pr == NIL {
            debug_assert_eq!(q.head, p);
            q.head = n;
        } else {
            self.links[pr as usize].next = n;
        }
        if n == NIL {
            debug_assert_eq!(q.tail, p);
            q.tail = pr;
        } else {
            self.links[n as usize].prev = pr;
        }
        if q.head == NIL {
            self.nonempty &= !(1 << l);
        }
        self.links[p as usize] = UNLINKED;
        self.len -= 1;
    }

    /// Whether `p` is among the first `k` of queue `l`. O(k).
    pub(crate) fn within(&self, l: usize, k: usize, p: u32) -> bool {
        let mut at = self.queues[l].head;
        for _ in 0..k {
            if at == NIL {
                return false;
            }
            if at == p {
                return true;
            }
            at = self.links[at as usize].next;
        }
        false
    }

    /// Moves every other queue to the tail of queue 0, the least urgent first: the order of
    /// `mlfq.py`'s boost. O(levels).
    pub(crate) fn gather_to_top(&mut self) {
        for l in (1..self.queues.len()).rev() {
            let moved = std::mem::replace(&mut self.queues[l], EMPTY);
            if moved.head == NIL {
                continue;
            }
            let top = &mut self.queues[0];
            if top.tail == NIL {
                top.head = moved.head;
            } else {
                self.links[top.tail as usize].next = moved.head;
                self.links[moved.head as usize].prev = top.tail;
            }
            top.tail = moved.tail;
        }
        self.nonempty = u64::from(self.len > 0);
    }

    /// Queue `l`, front first (for tests and debugging).
    #[cfg(test)]
    pub(crate) fn queue(&self, l: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = self.queues[l].head;
        while at != NIL {
            out.push(at);
            at = self.links[at as usize].next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_link_unlink_and_gather() {
        let mut q = Levels::new(3);
        assert_eq!(q.top(), None);
        q.push_back(2, 0);
        q.push_back(2, 1);
        q.push_back(1, 2);
        q.push_front(1, 3);
        q.insert_at(1, 1, 4);
        q.insert_at(1, 9, 5);
        q.push_back(0, 6);
        assert_eq!(q.queue(1), [3, 4, 2, 5]);
        assert_eq!(q.top(), Some(0));
        assert!(q.within(1, 2, 4) && !q.within(1, 2, 2));
        q.unlink(1, 4);
        q.unlink(1, 5);
        assert_eq!(q.queue(1), [3, 2]);
        assert_eq!(q.pop_front(0), Some(6));
        assert_eq!(q.top(), Some(1));
        q.gather_to_top();
        assert_eq!(q.queue(0), [0, 1, 3, 2]);
        assert_eq!((q.queue(1), q.queue(2)), (vec![], vec![]));
        assert_eq!(q.len(), 4);
        for p in [0, 1, 3, 2] {
            assert_eq!(q.pop_front(0), Some(p));
        }
        assert_eq!((q.top(), q.len()), (None, 0));
        q.gather_to_top();
        assert_eq!(q.top(), None);
    }

    #[test]
    fn matches_a_model_under_random_operations() {
        let mut q = Levels::new(4);
        let mut model: Vec<std::collections::VecDeque<u32>> = vec![Default::default(); 4];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut free: Vec<u32> = (0..40).collect();
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let l = (x % 4) as usize;
            match (x >> 8) % 6 {
                0..=2 if !free.is_empty() => {
                    let p = free.swap_remove(((x >> 16) as usize) % free.len());
                    let k = ((x >> 24) % 3) as usize;
                    q.insert_at(l, k, p);
                    let k = k.min(model[l].len());
                    model[l].insert(k, p);
                }
                3 => {
                    let got = q.pop_front(l);
                    assert_eq!(got, model[l].pop_front());
                    free.extend(got);
                }
                4 if !model[l].is_empty() => {
                    let i = ((x >> 16) as usize) % model[l].len();
                    let p = model[l].remove(i).unwrap();
                    q.unlink(l, p);
                    free.push(p);
                }
                5 if x.is_multiple_of(17) => {
                    q.gather_to_top();
                    let mut all: Vec<u32> = model[0].drain(..).collect();
                    for m in model[1..].iter_mut().rev() {
                        all.extend(m.drain(..));
                    }
                    model[0] = all.into();
                }
                _ => {}
            }
            for (l, m) in model.iter().enumerate() {
                assert_eq!(q.queue(l), Vec::from_iter(m.iter().copied()));
            }
            let top = model.iter().position(|m| !m.is_empty());
            assert_eq!(q.top(), top);
            assert_eq!(q.len(), model.iter().map(|m| m.len()).sum::<usize>());
        }
    }
}
