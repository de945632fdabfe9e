//! Highest response ratio next (`"hrrn"`, SPEC §3a): non-preemptive; a free CPU takes the ready
//! process with the highest (waiting + burst) / burst, where waiting is the time since it
//! became ready and burst its next CPU burst (the kernel's read-ahead). Ties go to the process
//! that became ready first; a burst of 0 counts as an infinite ratio (such processes run first,
//! in the order they became ready).
//!
//! (w + s) / s = 1 + w / s, so the process to run at tick t has the greatest (t − r) / s, r
//! the tick it became ready: each ready process is a line in t of slope 1/s, and the policy
//! asks for the upper envelope at a time that only grows. A heap cannot hold a key that moves
//! with time; this keeps a *kinetic tournament tree* (Basch, Guibas and Hershberger, "Data
//! structures for mobile data", 1997; the "kinetic segment tree" of competitive programming):
//! a complete binary tree over slots, each inner node holding the winner of its two children
//! at the current tick and the first tick at which that can change (the earliest *melt* of
//! its subtree). Advancing to tick t recomputes just the nodes whose melt is ≤ t, children
//! before parents; inserting or removing a process recomputes its leaf's path. Ratios are
//! compared exactly by cross-multiplying in `u128`, and a melt is the exact first integer tick
//! at which the loser overtakes (or, tying, beats by readiness order) the winner.
//!
//! Complexity, honestly: an insert or a removal costs O(log C), C the number of slots (twice
//! at most the most processes ever ready at once: slots are reused, and the tree doubles when
//! full, an O(C) rebuild amortized to O(1) per insert; it never shrinks). Advancing costs
//! O(log C) per *event*, a change of winner at a node found by its melt. Between changes of
//! its set, a node's winner follows the upper envelope of the lines in its subtree; with
//! insertions and deletions those are segments of lines, two of which change order at most
//! once, so a node that sees k processes over the run changes winner O(k·α(k)) times
//! (Davenport–Schinzel sequences of order 3). Each process is seen by the O(log C) nodes
//! above its slot, so m enqueues cost O(m·α(m)·log² C) in all: **amortized O(α(n)·log² n)
//! per operation** (α the inverse Ackermann function, at most 4 for any input that fits in
//! memory). The kernel's loop keeps no recursion: the descent uses an explicit list.

use super::{Key, Policy, Ready, SeededRng, UNLIMITED};

/// "No slot", "no process".
const NONE: u32 = u32::MAX;
/// "No change ever" as a melt tick.
const NEVER: u64 = u64::MAX;

/// A ready process in its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The process, or [`NONE`] for a free slot.
    p: u32,
    /// The tick it became ready.
    ready: u64,
    /// Its next CPU burst (0: infinite ratio).
    burst: u64,
    /// The order it became ready in: the tie-breaker.
    seq: u64,
}

const EMPTY: Entry = Entry {
    p: NONE,
    ready: 0,
    burst: 0,
    seq: u64::MAX,
};

/// Highest response ratio next.
#[derive(Debug, Clone)]
pub struct Hrrn {
    /// The number of leaves (slots), a power of two. Node 1 is the root, node i has children
    /// 2i and 2i + 1, and slot s is the leaf `cap + s`.
    cap: usize,
    /// By slot.
    entries: Vec<Entry>,
    /// By node: the winning slot of its subtree at tick `now`, or [`NONE`].
    win: Vec<u32>,
    /// By node: the first tick after `now` at which a winner in its subtree may change.
    melt: Vec<u64>,
    /// By process: its slot, or [`NONE`].
    slot_of: Vec<u32>,
    /// Free slots, the lowest on top.
    free: Vec<u32>,
    len: usize,
    /// The tick the winners hold for.
    now: u64,
    seq: u64,
    /// The nodes to recompute, reused across advances.
    scratch: Vec<u32>,
}

impl Default for Hrrn {
    fn default() -> Self {
        Hrrn::new()
    }
}

impl Hrrn {
    /// `p`'s entry, if it is ready.
    fn ready_entry(&self, p: u32) -> Option<&Entry> {
        let slot = *self.slot_of.get(p as usize)?;
        let e = self.entries.get(slot as usize)?;
        (slot != NONE && e.p == p).then_some(e)
    }

    /// An empty ready structure.
    pub fn new() -> Self {
        Hrrn {
            cap: 1,
            entries: vec![EMPTY],
            win: vec![NONE; 2],
            melt: vec![NEVER; 2],
            slot_of: Vec::new(),
            free: vec![0],
            len: 0,
            now: 0,
            seq: 0,
            scratch: Vec::new(),
        }
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

    /// Brings every winner up to tick `t`: the nodes whose melt has come, children first.
    fn advance(&mut self, t: u64) {
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

    /// Puts `entry` in `slot` and recomputes the path above it at the current tick.
    fn set(&mut self, slot: u32, entry: Entry) {
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
            // melt, still lies ahead: `advance` has brought the tree up to `t`).
            if (self.win[i], self.melt[i]) == before {
                break;
            }
            i /= 2;
        }
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

    /// Empties `slot`, which holds process `p`.
    fn take(&mut self, slot: u32, p: u32) {
        self.set(slot, EMPTY);
        self.slot_of[p as usize] = NONE;
        self.free.push(slot);
        self.len -= 1;
    }
}

impl Policy for Hrrn {
    fn name(&self) -> &'static str {
        "hrrn"
    }

    fn enqueue(&mut self, p: u32, _why: Ready, burst: u64, now: u64) {
        self.advance(now);
        self.remove(p);
        self.seq += 1;
        if self.free.is_empty() {
            self.grow();
        }
        let slot = self.free.pop().expect("a free slot after growing");
        *super::slot(&mut self.slot_of, p, NONE) = slot;
        self.len += 1;
        let entry = Entry {
            p,
            ready: self.now,
            burst,
            seq: self.seq,
        };
        self.set(slot, entry);
    }

    fn pick(&mut self, now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.advance(now);
        let slot = self.win[1];
        if slot == NONE {
            return None;
        }
        let p = self.entries[slot as usize].p;
        self.take(slot, p);
        Some(p)
    }

    fn remove(&mut self, p: u32) -> bool {
        match self.slot_of.get(p as usize) {
            Some(&slot) if slot != NONE => {
                self.take(slot, p);
                true
            }
            _ => false,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        UNLIMITED
    }

    fn needs_bursts(&self) -> bool {
        true
    }

    fn rule(&self) -> &'static str {
        "HRRN takes the highest response ratio (waiting + burst) / burst (ties: the one ready first)"
    }

    fn standing(&self, p: u32, now: u64) -> Option<String> {
        let e = self.ready_entry(p)?;
        let waited = now.saturating_sub(e.ready);
        if e.burst == 0 {
            return Some(format!("waited {waited}, burst 0: ratio infinite"));
        }
        let ratio = (waited + e.burst) as f64 / e.burst as f64;
        Some(format!(
            "ratio ({waited} + {}) / {} = {ratio:.2}",
            e.burst, e.burst
        ))
    }

    fn key(&self, p: u32, _ran: u64, now: u64) -> Option<Key> {
        const SCALE: u128 = 1_000_000_000_000;
        let e = self.ready_entry(p)?;
        let waited = u128::from(now.saturating_sub(e.ready));
        let value = if e.burst == 0 {
            i128::MAX
        } else {
            let burst = u128::from(e.burst);
            i128::try_from((waited + burst) * SCALE / burst).unwrap_or(i128::MAX)
        };
        Some(Key {
            what: "response ratio",
            best: "highest",
            value,
            scale: SCALE as i128,
            higher_first: true,
            tie: "the one ready first",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(h: &mut Hrrn, now: u64) -> Option<u32> {
        h.pick(now, &mut SeededRng::new(0))
    }

    #[test]
    fn stallings_decisions() {
        // Stallings' example, at 9: C (ready 4, service 4) 9/4, D (6, 5) 8/5, E (8, 2) 3/2.
        let mut h = Hrrn::new();
        h.enqueue(2, Ready::Admit, 4, 4);
        h.enqueue(3, Ready::Admit, 5, 6);
        h.enqueue(4, Ready::Admit, 2, 8);
        assert_eq!(pick(&mut h, 9), Some(2));
        // At 13: D 12/5 = 2.4, E 7/2 = 3.5.
        assert_eq!(pick(&mut h, 13), Some(4));
        assert_eq!(pick(&mut h, 15), Some(3));
        assert_eq!(pick(&mut h, 15), None);
        assert!(h.is_empty());
        assert_eq!(h.slice(3, 15), UNLIMITED);
        assert!(h.needs_bursts() && !h.is_preemptive());
    }

    #[test]
    fn a_zero_burst_runs_first_and_ties_go_to_the_first_ready() {
        let mut h = Hrrn::new();
        h.enqueue(0, Ready::Admit, 5, 0);
        h.enqueue(1, Ready::Admit, 0, 10);
        h.enqueue(2, Ready::Wake, 0, 10);
        h.enqueue(3, Ready::Admit, 5, 0);
        // Both 0 bursts first, in order; then 0 and 3 tie (same ratio): 0 was first.
        let order: Vec<_> = (0..4).map(|_| pick(&mut h, 1000).unwrap()).collect();
        assert_eq!(order, [1, 2, 0, 3]);
        // At 4, a burst of 2 ready since 0 and a burst of 1 ready since 2 both have a
        // ratio of 3: the first ready wins the tie.
        h.enqueue(5, Ready::Admit, 2, 0);
        h.enqueue(6, Ready::Admit, 1, 2);
        assert_eq!(pick(&mut h, 4), Some(5));
        h.enqueue(7, Ready::Admit, 2, 4);
        // At 5: 6 has (5 − 2)/1 = 3, 7 has 1/2.
        assert_eq!(pick(&mut h, 5), Some(6));
        assert!(h.remove(7));
        assert!(!h.remove(7));
        assert_eq!(pick(&mut h, 6), None);
    }

    #[test]
    fn the_shorter_burst_overtakes_at_the_exact_tick() {
        // A: ready 0, burst 10; B: ready 5, burst 2. At t: A (t)/10, B (t − 5)/2; equal at
        // t = 6.25, so B wins from 7 on (A wins at 6).
        for (t, want) in [(5, 0), (6, 0), (7, 1), (100, 1)] {
            let mut h = Hrrn::new();
            h.enqueue(0, Ready::Admit, 10, 0);
            h.enqueue(1, Ready::Admit, 2, 5);
            // An early look that advances the tree, then the real question.
            assert!(h.len() == 2);
            h.advance(5);
            assert_eq!(pick(&mut h, t), Some(want), "at {t}");
        }
        // An exact tie at t = 10 (10/10 = (10 − 8)/2), both ways round.
        let mut h = Hrrn::new();
        h.enqueue(0, Ready::Admit, 10, 0);
        h.enqueue(1, Ready::Admit, 2, 8);
        h.advance(9);
        assert_eq!(pick(&mut h, 10), Some(0));
        let mut h = Hrrn::new();
        h.enqueue(1, Ready::Admit, 2, 0);
        h.enqueue(2, Ready::Admit, 100, 0);
        h.remove(1);
        h.enqueue(0, Ready::Admit, 10, 3);
        // At 4: 2 waited 4 for 100 (0.04), 0 waited 1 for 10 (0.1).
        h.advance(3);
        assert_eq!(pick(&mut h, 4), Some(0));
    }

    #[test]
    fn huge_figures_do_not_overflow() {
        let mut h = Hrrn::new();
        h.enqueue(0, Ready::Admit, u64::MAX, 0);
        h.enqueue(1, Ready::Admit, u64::MAX - 1, 0);
        h.enqueue(2, Ready::Admit, 1, u64::MAX - 10);
        assert_eq!(pick(&mut h, u64::MAX - 1), Some(2));
        assert_eq!(pick(&mut h, u64::MAX - 1), Some(1));
    }

    /// Which of two entries a brute force prefers, by (w + s)/s against (w' + s')/s'.
    fn better(a: (u64, u64, u64), b: (u64, u64, u64), t: u64) -> bool {
        let ((ra, sa, qa), (rb, sb, qb)) = (a, b);
        match (sa, sb) {
            (0, 0) => qa < qb,
            (0, _) => true,
            (_, 0) => false,
            _ => {
                let l = u128::from(t - ra + sa) * u128::from(sb);
                let r = u128::from(t - rb + sb) * u128::from(sa);
                l > r || (l == r && qa < qb)
            }
        }
    }

    #[test]
    fn matches_a_brute_force_over_random_runs() {
        let mut x: u64 = 0x5eed;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        for round in 0..20 {
            let mut h = Hrrn::new();
            // p → (ready, burst, seq)
            let mut model: Vec<Option<(u64, u64, u64)>> = vec![None; 300];
            let (mut t, mut seq) = (0u64, 0u64);
            for _ in 0..3000 {
                t += next(if round % 2 == 0 { 3 } else { 40 });
                let p = next(300) as usize;
                match next(6) {
                    0..=2 => {
                        let burst = if next(10) == 0 { 0 } else { 1 + next(30) };
                        seq += 1;
                        h.enqueue(p as u32, Ready::Admit, burst, t);
                        model[p] = Some((t, burst, seq));
                    }
                    3 => {
                        assert_eq!(h.remove(p as u32), model[p].take().is_some());
                    }
                    _ => {
                        let want =
                            (0..model.len())
                                .filter(|&q| model[q].is_some())
                                .reduce(|a, b| {
                                    if better(model[b].unwrap(), model[a].unwrap(), t) {
                                        b
                                    } else {
                                        a
                                    }
                                });
                        if let Some(q) = want {
                            model[q] = None;
                        }
                        assert_eq!(pick(&mut h, t), want.map(|q| q as u32), "at {t}");
                    }
                }
                assert_eq!(h.len(), model.iter().flatten().count());
            }
        }
    }
}
