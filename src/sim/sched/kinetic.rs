//! A kinetic tournament tree for HRRN: entries whose score is a line in time, the highest at
//! the current tick on top, time only moving forward.
//!
//! (w + s) / s = 1 + w / s, so the entry to run at tick t has the greatest (t − r) / s, r the
//! tick it became ready and s its burst: each entry is a line in t of slope 1/s, and the
//! policy asks for the upper envelope at a time that only grows. A heap cannot hold a key that
//! moves with time; this keeps a *kinetic tournament tree* (Basch, Guibas and Hershberger,
//! "Data structures for mobile data", 1997; the "kinetic segment tree" of competitive
//! programming): a complete binary tree over slots, each inner node holding the winner of its
//! two children at the current tick and the first tick at which that can change (the earliest
//! *melt* of its subtree). Advancing to tick t recomputes just the nodes whose melt is ≤ t,
//! children before parents; setting a slot recomputes its leaf's path. Ratios are compared
//! exactly by cross-multiplying in `u128`, and a melt is the exact first integer tick at which
//! the loser overtakes (or, tying, beats by readiness order) the winner.
//!
//! Complexity, honestly: setting a slot costs O(log C), C the number of slots (twice at most
//! the most entries ever held at once: slots are reused, and the tree doubles when full, an
//! O(C) rebuild amortized to O(1) per insert; it never shrinks). Advancing costs O(log C) per
//! *event*, a change of winner at a node found by its melt. Between changes of its set, a
//! node's winner follows the upper envelope of the lines in its subtree; with insertions and
//! deletions those are segments of lines, two of which change order at most once, so a node
//! that sees k entries over the run changes winner O(k·α(k)) times (Davenport–Schinzel
//! sequences of order 3). Each entry is seen by the O(log C) nodes above its slot, so m
//! insertions cost O(m·α(m)·log² C) in all: **amortized O(α(n)·log² n) per operation** (α the
//! inverse Ackermann function, at most 4 for any input that fits in memory). No recursion:
//! the descent uses an explicit list.

/// "No slot", "no process".
pub(crate) const NONE: u32 = u32::MAX;
/// "No change ever" as a melt tick.
const NEVER: u64 = u64::MAX;

/// An entry in its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The process, or [`NONE`] for a free slot.
    pub(crate) p: u32,
    /// The tick it became ready.
    pub(crate) ready: u64,
    /// Its next CPU burst (0: infinite ratio).
    pub(crate) burst: u64,
    /// The order it became ready in: the tie-breaker.
    pub(crate) seq: u64,
}

/// A free slot.
pub(crate) const EMPTY: Entry = Entry {
    p: NONE,
    ready: 0,
    burst: 0,
    seq: u64::MAX,
};

/// The tournament over slots.
#[derive(Debug, Clone)]
pub(crate) struct Kinetic {
    /// The number of leaves (slots), a power of two. Node 1 is the root, node i has children
    /// 2i and 2i + 1, and slot s is the leaf `cap + s`.
    cap: usize,
    /// By slot.
    entries: Vec<Entry>,
    /// By node: the winning slot of its subtree at tick `now`, or [`NONE`].
    win: Vec<u32>,
    /// By node: the first tick after `now` at which a winner in its subtree may change.
    melt: Vec<u64>,
    /// Free slots, the lowest on top.
    free: Vec<u32>,
    /// The tick the winners hold for.
    now: u64,
    /// The nodes to recompute, reused across advances.
    scratch: Vec<u32>,
}

impl Default for Kinetic {
    fn default() -> Self {
        Kinetic {
            cap: 1,
            entries: vec![EMPTY],
            win: vec![NONE; 2],
            melt: vec![NEVER; 2],
            free: vec![0],
            now: 0,
            scratch: Vec::new(),
        }
    }
}

impl Kinetic {
    /// The tick the winners hold for (the latest tick advanced to).
    pub(crate) fn now(&self) -> u64 {
        self.now
    }

    /// The entry in `slot`.
    pub(crate) fn entry(&self, slot: u32) -> &Entry {
        &self.entries[slot as usize]
    }

    /// The winning slot at the current tick, or [`NONE`] when every slot is free.
    pub(crate) fn winner(&self) -> u32 {
        self.win[1]
    }

    /// Whether slot `a` beats slot `b` at tick `t`: a higher ratio, or an equal one and
    /// ready first. An empty slot beats nothing.
    fn beats(&self, a: u32, b: u32, t: u64) -> bool {
        if a == NONE {
            return false;
        }
        if b == NONE {
            return true;
        }
        let (x, y) = (&self.entries[a as usize], &self.entries[b as usize]);
        match (x.burst, y.burst) {
            (0, 0) => x.seq < y.seq,
            (0, _) => true,
            (_, 0) => false,
            _ => {
                // (t − rx) / sx against (t − ry) / sy.
                let l = u128::from(t.saturating_sub(x.ready)) * u128::from(y.burst);
                let r = u128::from(t.saturating_sub(y.ready)) * u128::from(x.burst);
                l > r || (l == r && x.seq < y.seq)
            }
        }
    }

    /// The first tick after `t` at which slot `l` beats slot `w`, given that `w` beats `l` at
    /// `t`; [`NEVER`] if it never will.
    fn overtakes(&self, w: u32, l: u32, t: u64) -> u64 {
        if w == NONE || l == NONE {
            return NEVER;
        }
        let (w, l) = (&self.entries[w as usize], &self.entries[l as usize]);
        // Only a steeper line (a shorter burst) can catch up; an infinite ratio never loses.
        if w.burst == 0 || l.burst == 0 || l.burst >= w.burst {
            return NEVER;
        }
        // At t + x: l ≥ w ⇔ (a + x)·sw ≥ (b + x)·sl ⇔ x·(sw − sl) ≥ b·sl − a·sw =: need,
        // with a, b their waits at t; need ≥ 0 as w beats l at t.
        let d = u128::from(w.burst - l.burst);
        let a = u128::from(t.saturating_sub(l.ready));
        let b = u128::from(t.saturating_sub(w.ready));
        let need = (b * u128::from(l.burst)).saturating_sub(a * u128::from(w.burst));
        let x = if need % d == 0 && l.seq < w.seq {
            need / d
        } else {
            need / d + 1
        };
        u64::try_from(u128::from(t) + x.max(1)).unwrap_or(NEVER)
    }

    /// Recomputes inner node `i` from its children at tick `t`.
    fn pull(&mut self, i: usize, t: u64) {
        let (a, b) = (self.win[2 * i], self.win[2 * i + 1]);
        let (w, l) = if self.beats(b, a, t) { (b, a) } else { (a, b) };
        self.win[i] = w;
        self.melt[i] = self.melt[2 * i]
            .min(self.melt[2 * i + 1])
            .min(self.overtakes(w, l, t));
    }

    /// Brings every winner up to tick `t` (a tick before the current one counts as the
    /// current one): the nodes whose melt has come, children first.
    pub(crate) fn advance(&mut self, t: u64) {
        let t = t.max(self.now);
        self.now = t;
        if self.cap < 2 || self.melt[1] > t {
            return;
        }
        let mut order = std::mem::take(&mut self.scratch);
        order.clear();
        order.push(1);
        let mut k = 0;
        while k < order.len() {
            let i = order[k] as usize;
            k += 1;
            for c in [2 * i, 2 * i + 1] {
                if c < self.cap && self.melt[c] <= t {
                    order.push(c as u32);
                }
            }
        }
        // Breadth-first order has parents before children: recompute it backwards.
        for &i in order.iter().rev() {
            self.pull(i as usize, t);
        }
        self.scratch = order;
    }

    /// Puts `entry` ([`EMPTY`] to clear it) in `slot` and recomputes the path above it at
    /// the current tick.
    pub(crate) fn set(&mut self, slot: u32, entry: Entry) {
        self.entries[slot as usize] = entry;
        let mut i = self.cap + slot as usize;
        self.win[i] = if entry.p == NONE { NONE } else { slot };
        let t = self.now;
        i /= 2;
        while i >= 1 {
            let before = (self.win[i], self.melt[i]);
            self.pull(i, t);
            // A node whose winner and melt stay as they were leaves every node above it as
            // it was: each is computed from its children's alone (and its certificate, the
            // melt, still lies ahead: `advance` has brought the tree up to `t`). Unless its
            // winner is this slot, whose entry may have changed (a class's new head).
            if (self.win[i], self.melt[i]) == before && self.win[i] != slot {
                break;
            }
            i /= 2;
        }
    }

    /// A free slot (the lowest), the tree doubled first if none is left.
    pub(crate) fn alloc(&mut self) -> u32 {
        if self.free.is_empty() {
            self.grow();
        }
        self.free.pop().expect("a free slot after growing")
    }

    /// Clears `slot` and gives it back.
    pub(crate) fn release(&mut self, slot: u32) {
        self.set(slot, EMPTY);
        self.free.push(slot);
    }

    /// Doubles the slots and rebuilds the tree at the current tick.
    fn grow(&mut self) {
        let (old, cap) = (self.cap, self.cap * 2);
        self.entries.resize(cap, EMPTY);
        self.win = vec![NONE; 2 * cap];
        self.melt = vec![NEVER; 2 * cap];
        self.cap = cap;
        for (s, e) in self.entries.iter().enumerate() {
            if e.p != NONE {
                self.win[cap + s] = s as u32;
            }
        }
        let t = self.now;
        for i in (1..cap).rev() {
            self.pull(i, t);
        }
        self.free.extend((old as u32..cap as u32).rev());
    }
}
