//! Lottery scheduling (SPEC §3a; Waldspurger and Weihl, OSDI 1994; OSTEP ch. 9): at each
//! pick, a winning ticket is drawn uniformly among the ready processes' tickets with the
//! scenario's seeded generator, and its holder runs for one quantum.
//!
//! The tickets of the ready processes sit in a Fenwick tree indexed by process index, so the
//! draw's holder is found by descending the tree in O(log n), and a process joins or leaves in
//! O(log n). Tickets are laid out by process index: the winning ticket `w` belongs to the
//! lowest-indexed ready process whose running sum of tickets exceeds `w`.
//!
//! Choices where the SPEC is silent: a pick with a single ready process still draws (every
//! pick with something ready draws exactly once, so the generator's stream does not depend on
//! how many were ready); a pick with nothing ready draws nothing.

use super::{Attrs, Draw, Policy, Ready, SeededRng};

/// The sums a Fenwick tree holds: 64 bits while they cannot overflow, else 128.
trait Sum: Copy + Ord + Default + std::ops::AddAssign + std::ops::SubAssign {
    /// `x`, which the caller knows fits.
    fn narrow(x: u128) -> Self;
}

impl Sum for u64 {
    fn narrow(x: u128) -> Self {
        x as u64
    }
}

impl Sum for u128 {
    fn narrow(x: u128) -> Self {
        x
    }
}

/// The Fenwick tree (1-based) of the ready processes' tickets; its length is a power of two
/// plus one, so the descent can start from the top bit. In 64-bit sums while the tickets of
/// every process created so far add up to less than 2^64, which is every run but one with
/// astronomical ticket counts: half the memory and cheaper arithmetic than 128 bits
/// (callgrind, RR-IO-v1 at N = 20,000; BENCHMARKS.md).
#[derive(Debug, Clone)]
enum Tree {
    Narrow(Vec<u64>),
    Wide(Vec<u128>),
}

/// A tree of capacity `cap` over the ready processes' tickets, built in O(cap).
fn build<T: Sum>(cap: usize, tickets: &[u64], ready: &[bool]) -> Vec<T> {
    let mut tree = vec![T::default(); cap + 1];
    for (i, (&t, &r)) in tickets.iter().zip(ready).enumerate() {
        if r {
            tree[i + 1] = T::narrow(u128::from(t));
        }
    }
    // The linear-time build: each node adds itself to its parent.
    for i in 1..=cap {
        let parent = i + (i & i.wrapping_neg());
        if parent <= cap {
            let x = tree[i];
            tree[parent] += x;
        }
    }
    tree
}

/// Adds `delta` (negative: removes) at process `p`.
fn add<T: Sum>(tree: &mut [T], p: u32, delta: T, negative: bool) {
    let cap = tree.len() - 1;
    let mut i = p as usize + 1;
    while i <= cap {
        if negative {
            tree[i] -= delta;
        } else {
            tree[i] += delta;
        }
        i += i & i.wrapping_neg();
    }
}

/// The ready process holding ticket `w` (`w` below the total).
fn holder<T: Sum>(tree: &[T], mut w: T) -> u32 {
    let cap = tree.len() - 1;
    let mut pos = 0;
    let mut step = cap;
    while step > 0 {
        let next = pos + step;
        if next <= cap && tree[next] <= w {
            pos = next;
            w -= tree[next];
        }
        step /= 2;
    }
    pos as u32
}

/// Lottery scheduling with a fixed quantum.
#[derive(Debug, Clone)]
pub struct Lottery {
    quantum: u64,
    /// Each process's tickets, by process index.
    tickets: Vec<u64>,
    /// Whether each process is ready.
    ready: Vec<bool>,
    tree: Tree,
    /// The sum of the ready processes' tickets.
    total: u128,
    /// The sum of every process's tickets, counted when they are set: while it is below
    /// 2^64, no sum in the tree can overflow 64 bits.
    given: u128,
    count: usize,
    /// The last draw: the winning ticket, the total it was drawn below and its holder (for
    /// `--explain`).
    drawn: (u128, u128, u32),
}

impl Lottery {
    /// Lottery scheduling with this quantum (at least 1).
    pub fn new(quantum: u64) -> Self {
        Lottery {
            quantum,
            tickets: Vec::new(),
            ready: Vec::new(),
            tree: Tree::Narrow(vec![0]),
            total: 0,
            given: 0,
            count: 0,
            drawn: (0, 0, 0),
        }
    }

    /// The tree's capacity in processes.
    fn capacity(&self) -> usize {
        match &self.tree {
            Tree::Narrow(t) => t.len() - 1,
            Tree::Wide(t) => t.len() - 1,
        }
    }

    /// Rebuilds the tree with capacity `cap`, in 128 bits if the tickets given need them.
    fn rebuild(&mut self, cap: usize) {
        self.tree = if self.given <= u128::from(u64::MAX) {
            Tree::Narrow(build(cap, &self.tickets, &self.ready))
        } else {
            Tree::Wide(build(cap, &self.tickets, &self.ready))
        };
    }

    /// Process `p` has `tickets` from now on (it is not ready).
    fn set_tickets(&mut self, p: u32, tickets: u64) {
        self.tickets[p as usize] = tickets;
        self.given += u128::from(tickets);
        if self.given > u128::from(u64::MAX) && matches!(self.tree, Tree::Narrow(_)) {
            self.rebuild(self.capacity());
        }
    }

    /// Makes room for process `p`: doubles the capacity and rebuilds the tree in O(n), so that
    /// growth costs O(1) a process over a run.
    fn grow_for(&mut self, p: u32) {
        let need = p as usize + 1;
        if self.tickets.len() < need {
            self.tickets.resize(need, 0);
            self.ready.resize(need, false);
        }
        if need <= self.capacity() {
            return;
        }
        self.rebuild(need.next_power_of_two());
    }

    /// Adds `delta` tickets (negative: removes) at process `p`.
    fn add(&mut self, p: u32, delta: u128, negative: bool) {
        match &mut self.tree {
            Tree::Narrow(t) => add(t, p, u64::narrow(delta), negative),
            Tree::Wide(t) => add(t, p, delta, negative),
        }
        if negative {
            self.total -= delta;
        } else {
            self.total += delta;
        }
    }

    /// The ready process holding ticket `w` (`w < total`).
    fn holder(&self, w: u128) -> u32 {
        match &self.tree {
            Tree::Narrow(t) => holder(t, u64::narrow(w)),
            Tree::Wide(t) => holder(t, w),
        }
    }

    fn take(&mut self, p: u32) -> bool {
        if !self.ready.get(p as usize).copied().unwrap_or(false) {
            return false;
        }
        self.ready[p as usize] = false;
        self.count -= 1;
        self.add(p, self.tickets[p as usize] as u128, true);
        true
    }
}

/// The sum of the tickets at indices below `p` (the ticket `p`'s first one is).
fn below<T: Sum + Into<u128>>(tree: &[T], p: u32) -> u128 {
    let mut sum = 0u128;
    let mut i = (p as usize).min(tree.len() - 1);
    while i > 0 {
        sum += tree[i].into();
        i &= i - 1;
    }
    sum
}

/// A uniform draw from `0..total` (`total > 0`) with `rng.uniform(0, total − 1)`; totals
/// beyond its signed 64-bit range are drawn by the same offset from `i64::MIN`, or (beyond
/// 2^64, which takes billions of processes with huge ticket counts) from two 64-bit draws with
/// rejection of the incomplete last block.
fn draw_below(rng: &mut SeededRng, total: u128) -> u128 {
    if total <= 1u128 << 63 {
        return rng.uniform(0, (total - 1) as i64) as u128;
    }
    if total <= 1u128 << 64 {
        let x = rng.uniform(i64::MIN, (i64::MIN as i128 + (total - 1) as i128) as i64);
        return (x as i128 - i64::MIN as i128) as u128;
    }
    let limit = u128::MAX - (u128::MAX % total + 1) % total;
    loop {
        let hi = rng.uniform(i64::MIN, i64::MAX) as u64 as u128;
        let lo = rng.uniform(i64::MIN, i64::MAX) as u64 as u128;
        let x = hi << 64 | lo;
        if x <= limit {
            return x % total;
        }
    }
}

impl Policy for Lottery {
    fn name(&self) -> &'static str {
        "lottery"
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        self.grow_for(p);
        self.set_tickets(p, attrs.tickets.max(1));
    }

    fn enqueue(&mut self, p: u32, _why: Ready, _burst: u64, _now: u64) {
        self.grow_for(p);
        if self.ready[p as usize] {
            return;
        }
        if self.tickets[p as usize] == 0 {
            // Never told its attributes: the SPEC's default.
            self.set_tickets(p, Attrs::default().tickets);
        }
        self.ready[p as usize] = true;
        self.count += 1;
        self.add(p, self.tickets[p as usize] as u128, false);
    }

    fn pick(&mut self, _now: u64, rng: &mut SeededRng) -> Option<u32> {
        if self.count == 0 {
            return None;
        }
        let w = draw_below(rng, self.total);
        let p = self.holder(w);
        self.drawn = (w, self.total, p);
        self.take(p);
        Some(p)
    }

    fn remove(&mut self, p: u32) -> bool {
        self.take(p)
    }

    fn len(&self) -> usize {
        self.count
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        self.quantum
    }

    fn rule(&self) -> &'static str {
        "lottery draws a winning ticket from the scenario's seeded generator among the ready processes' tickets"
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        let tickets = *self.tickets.get(p as usize)?;
        if self.ready.get(p as usize).copied().unwrap_or(false) {
            Some(format!("{tickets} of {} tickets", self.total))
        } else {
            Some(format!("{tickets} tickets"))
        }
    }

    fn on_exit(&mut self, p: u32) {
        self.take(p);
    }

    /// The holder's tickets are found again from the tree, which its pick changed only at
    /// its own index: the sum below that index is the one the draw descended through.
    fn last_draw(&self) -> Option<Draw> {
        let (ticket, total, holder) = self.drawn;
        if total == 0 {
            return None;
        }
        let first = match &self.tree {
            Tree::Narrow(t) => below(t, holder),
            Tree::Wide(t) => below(t, holder),
        };
        Some(Draw {
            ticket,
            total,
            holder,
            first,
            tickets: self.tickets[holder as usize],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_tickets(tickets: &[u64]) -> Lottery {
        let mut l = Lottery::new(2);
        for (p, &tickets) in tickets.iter().enumerate() {
            l.on_create(
                p as u32,
                Attrs {
                    tickets,
                    ..Attrs::default()
                },
            );
        }
        l
    }

    #[test]
    fn the_holder_of_each_ticket() {
        let mut l = with_tickets(&[3, 5, 2, 7, 1]);
        for p in [0, 2, 3, 4] {
            l.enqueue(p, Ready::Admit, 0, 0);
        }
        // Ready: 0 (tickets 0..3), 2 (3..5), 3 (5..12), 4 (12..13).
        assert_eq!(l.total, 13);
        let holders: Vec<u32> = (0..13).map(|w| l.holder(w)).collect();
        assert_eq!(holders, [0, 0, 0, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4]);
        assert!(l.remove(3));
        assert!(!l.remove(3));
        assert_eq!(l.total, 6);
        assert_eq!(l.holder(5), 4);
        assert_eq!(l.len(), 3);
        assert_eq!(l.slice(0, 0), 2);
    }

    /// The tree is in 64-bit sums until the tickets given could overflow them, then in 128,
    /// with the same holders.
    #[test]
    fn sums_widen_before_they_could_overflow() {
        let mut l = with_tickets(&[u64::MAX - 10, 5, 3]);
        for p in 0..3 {
            l.enqueue(p, Ready::Admit, 0, 0);
        }
        assert!(matches!(l.tree, Tree::Narrow(_)));
        let last = u128::from(u64::MAX) - 3;
        let before = [0, last - 8, last - 7, last - 3, last - 2, last].map(|w| l.holder(w));
        assert_eq!(before, [0, 0, 1, 1, 2, 2]);
        l.on_create(
            3,
            Attrs {
                tickets: 10,
                ..Attrs::default()
            },
        );
        assert!(matches!(l.tree, Tree::Wide(_)));
        let after = [0, last - 8, last - 7, last - 3, last - 2, last].map(|w| l.holder(w));
        assert_eq!(after, before);
        l.enqueue(3, Ready::Admit, 0, 0);
        assert_eq!(l.holder(last + 1), 3);
        assert_eq!(l.total, last + 11);
    }

    #[test]
    fn growth_keeps_the_tree_right() {
        let mut l = Lottery::new(1);
        let mut model: Vec<(u32, u64)> = Vec::new();
        for p in 0..300u32 {
            let t = (p as u64 * 37) % 11 + 1;
            l.on_create(
                p,
                Attrs {
                    tickets: t,
                    ..Attrs::default()
                },
            );
            if p % 3 != 1 {
                l.enqueue(p, Ready::Admit, 0, 0);
                model.push((p, t));
            }
            if p % 7 == 0 {
                let (q, _) = model.remove(model.len() / 2);
                assert!(l.remove(q));
            }
            let mut sum = 0;
            for &(q, t) in &model {
                assert_eq!(l.holder(sum), q);
                assert_eq!(l.holder(sum + t as u128 - 1), q);
                sum += t as u128;
            }
            assert_eq!(l.total, sum);
        }
    }

    #[test]
    fn draws_follow_the_tickets() {
        let mut l = with_tickets(&[100, 200, 700]);
        let mut g = SeededRng::new(42);
        let mut wins = [0u32; 3];
        for _ in 0..20_000 {
            for p in 0..3 {
                l.enqueue(p, Ready::SliceEnd, 0, 0);
            }
            let p = l.pick(0, &mut g).unwrap();
            wins[p as usize] += 1;
            for q in 0..3 {
                l.remove(q);
            }
        }
        for (p, share) in [(0, 0.1), (1, 0.2), (2, 0.7)] {
            let got = wins[p] as f64 / 20_000.0;
            assert!((got - share).abs() < 0.015, "process {p}: {got}");
        }
        assert_eq!(l.pick(0, &mut g), None);
    }

    #[test]
    fn huge_totals_are_drawn_in_range() {
        let mut g = SeededRng::new(3);
        for total in [
            1u128,
            2,
            1 << 63,
            (1 << 63) + 1,
            1 << 64,
            (1 << 64) + 3,
            1 << 90,
        ] {
            for _ in 0..50 {
                assert!(draw_below(&mut g, total) < total);
            }
        }
        let mut a = SeededRng::new(9);
        let mut b = SeededRng::new(9);
        // The offset form gives what the plain one would.
        assert_eq!(
            draw_below(&mut a, 1000) as i64,
            b.uniform(i64::MIN, i64::MIN + 999) - i64::MIN
        );
        let mut l = with_tickets(&[u64::MAX, u64::MAX, 5]);
        for p in 0..3 {
            l.enqueue(p, Ready::Admit, 0, 0);
        }
        let p = l.pick(0, &mut g).unwrap();
        assert!(p < 3);
    }
}
