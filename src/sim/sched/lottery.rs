//! Lottery scheduling (SPEC §3a; Waldspurger and Weihl, OSDI 1994; OSTEP ch. 9): at each
//! pick, a winning ticket is drawn uniformly among the ready processes' tickets with the
//! scenario's seeded generator, and its holder runs for one quantum.
//!
//! The tickets sit in an implicit 8-ary tree of sums over process indices: a leaf a process
//! (its tickets, counted while it is ready), each node the sum of 8 below it, the 8 kept side
//! by side in one 64-byte block as running sums (entry j: the children 0 to j). The draw's
//! holder is found by one descent, a block a level (the first child whose running sum exceeds
//! what is left of the ticket: three comparisons, no branch), and a process joins or leaves by
//! adding to the running sums from its entry on, a block a level: O(log n) both, in log₈ n
//! levels (six at 100,000 processes, against seventeen for a binary tree, each of them a cache
//! line and, in the descent, a data-dependent branch a binary tree would mispredict half of
//! the time). The winning ticket `w` belongs to the lowest-indexed ready process whose running
//! sum of tickets exceeds `w`.
//!
//! Two things spare most picks work and wait. A process a pick takes keeps its tickets in the
//! sums while it runs (it is *lent*): most come back at their slice end, which then changes no
//! sum; anything else first takes them out. And with the process still in the sums, the tree
//! is what the next pick will descend if nothing else changes by then, and the generator's
//! next word is known, so each pick also finds the next one's holder ahead, which the kernel
//! prefetches the record of ([`Policy::likely`]): a draw lands on a random process, whose
//! records are not in the cache. The next pick takes that holder when the sums, the total and
//! the drawn ticket are all as guessed (so the same descent would find it), else it descends.
//!
//! Choices where the SPEC is silent: a pick with a single ready process still draws (every
//! pick with something ready draws exactly once, so the generator's stream does not depend on
//! how many were ready); a pick with nothing ready draws nothing.

use super::{Attrs, Draw, Policy, Ready, SeededRng};

/// Children a node.
const B: usize = 8;
/// log₂ B.
const SHIFT: u32 = 3;

/// The sums a tree holds: 64 bits while they cannot overflow, else 128.
trait Sum:
    Copy + Ord + Default + std::ops::Add<Output = Self> + std::ops::AddAssign + std::ops::SubAssign
{
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

/// B entries side by side, a block aligned to a cache line (two for 128-bit sums).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block<T>([T; B]);

/// The levels of sums above the leaves: `levels[0]` has an entry per block of leaves (the
/// sum of its ready tickets), `levels[k]` one per block of `levels[k − 1]`; the last level is
/// a single block. Each block holds its entries' running sums.
type Levels<T> = Vec<Vec<Block<T>>>;

/// The sums in 64 bits while the tickets of every process created so far add up to less than
/// 2^64, which is every run but one with astronomical ticket counts: half the memory and
/// cheaper arithmetic than 128 bits.
#[derive(Debug, Clone)]
enum Tree {
    Narrow(Levels<u64>),
    Wide(Levels<u128>),
}

/// The first child of `block` whose running sum exceeds `w`, with the sum of those before
/// it (the caller knows the block's sum exceeds `w`). No branch: the running sums only grow,
/// so those at or below `w` are the first ones.
#[inline(always)]
fn scan<T: Sum>(block: &[T; B], w: T) -> (usize, T) {
    let (mut run, mut below, mut j) = (T::default(), T::default(), 0);
    for &x in block {
        run += x;
        let within = run <= w;
        j += usize::from(within);
        below = if within { run } else { below };
    }
    (j, below)
}

/// The sums over `leaves` (tickets by process) of the ready ones (`ready`: a byte a block of
/// leaves, bit j for its leaf j), built in O(n).
fn build<T: Sum>(leaves: &[Block<u64>], ready: &[u8]) -> Levels<T> {
    let mut entries: Vec<T> = leaves
        .iter()
        .zip(ready)
        .map(|(b, &r)| {
            (0..B)
                .filter(|j| r >> j & 1 == 1)
                .fold(T::default(), |acc, j| acc + T::narrow(u128::from(b.0[j])))
        })
        .collect();
    let mut levels = Vec::new();
    loop {
        let mut level = vec![Block::<T>::default(); entries.len().div_ceil(B)];
        for (i, &x) in entries.iter().enumerate() {
            level[i / B].0[i % B] = x;
        }
        for b in &mut level {
            for j in 1..B {
                let before = b.0[j - 1];
                b.0[j] += before;
            }
        }
        let top = level.len() == 1;
        entries = level.iter().map(|b| b.0[B - 1]).collect();
        levels.push(level);
        if top {
            return levels;
        }
    }
}

/// Adds `delta` (negative: removes) at leaf `p`'s entry of every level: to the running sums
/// of its block from that entry on.
fn add<T: Sum>(levels: &mut Levels<T>, p: u32, delta: T, negative: bool) {
    let mut i = p as usize;
    for level in levels.iter_mut() {
        i >>= SHIFT;
        let (block, from) = (&mut level[i / B].0, i % B);
        for (j, x) in block.iter_mut().enumerate() {
            let d = if j >= from { delta } else { T::default() };
            if negative {
                *x -= d;
            } else {
                *x += d;
            }
        }
    }
}

/// The first entry of a block of running sums that exceeds `w`, with the sum before it (the
/// caller knows the last one exceeds `w`): a branchless binary search, the running sums only
/// growing.
#[inline(always)]
fn find<T: Sum>(run: &[T; B], w: T) -> (usize, T) {
    let mut j = if run[3] <= w { 4 } else { 0 };
    j += if run[j + 1] <= w { 2 } else { 0 };
    j += usize::from(run[j] <= w);
    let below = if j == 0 { T::default() } else { run[j - 1] };
    (j, below)
}

/// The ready process holding ticket `w` (`w` below the total).
fn holder<T: Sum>(levels: &Levels<T>, leaves: &[Block<u64>], ready: &[u8], mut w: T) -> u32 {
    let mut i = 0;
    for level in levels.iter().rev() {
        let (j, below) = find(&level[i].0, w);
        w -= below;
        i = i * B + j;
    }
    // The leaves: a process that is not ready holds no ticket.
    let r = ready[i];
    let block: [T; B] = std::array::from_fn(|j| {
        let t = T::narrow(u128::from(leaves[i].0[j]));
        if r >> j & 1 == 1 { t } else { T::default() }
    });
    let (j, _) = scan(&block, w);
    (i * B + j) as u32
}

/// The sum of the ready tickets at indices below `p` (the ticket `p`'s first one is): at each
/// level, the entries before `p`'s own in its block.
fn below<T: Sum + Into<u128>>(
    levels: &Levels<T>,
    leaves: &[Block<u64>],
    ready: &[u8],
    p: u32,
) -> u128 {
    let p = p as usize;
    let r = ready[p / B];
    let mut sum: u128 = (0..p % B)
        .filter(|j| r >> j & 1 == 1)
        .map(|j| u128::from(leaves[p / B].0[j]))
        .sum();
    let mut i = p / B;
    for level in levels {
        if let Some(k) = (i % B).checked_sub(1) {
            sum += level[i / B].0[k].into();
        }
        i /= B;
    }
    sum
}

/// Lottery scheduling with a fixed quantum.
#[derive(Debug, Clone)]
pub struct Lottery {
    quantum: u64,
    /// Each process's tickets, by process index, B a block (0: no such process yet).
    leaves: Vec<Block<u64>>,
    /// Whether each process is ready: a byte a block of leaves, bit j for its leaf j.
    ready: Vec<u8>,
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
    /// The process the last pick took, if its tickets are still in the sums (not ready).
    lent: Option<u32>,
    /// Counts the changes to the sums and leaves, so that a guess knows it still holds.
    changes: u64,
    /// The next pick's holder, found ahead.
    guess: Option<Guess>,
}

/// The holder of a ticket drawn ahead, with what it was found under.
#[derive(Debug, Clone, Copy)]
struct Guess {
    /// [`Lottery::changes`] then.
    changes: u64,
    total: u128,
    ticket: u128,
    holder: u32,
}

impl Lottery {
    /// Lottery scheduling with this quantum (at least 1).
    pub fn new(quantum: u64) -> Self {
        let mut l = Lottery {
            quantum,
            leaves: Vec::new(),
            ready: Vec::new(),
            tree: Tree::Narrow(Vec::new()),
            total: 0,
            given: 0,
            count: 0,
            drawn: (0, 0, 0),
            lent: None,
            changes: 0,
            guess: None,
        };
        l.grow_for(0);
        l
    }

    /// Process `p`'s tickets.
    fn tickets(&self, p: u32) -> u64 {
        self.leaves[p as usize / B].0[p as usize % B]
    }

    /// Whether process `p` is ready.
    fn is_ready(&self, p: u32) -> bool {
        self.ready
            .get(p as usize / B)
            .is_some_and(|r| r >> (p as usize % B) & 1 == 1)
    }

    /// Rebuilds the sums, in 128 bits if the tickets given need them (from the ready
    /// processes alone: a lent process's tickets are left out).
    fn rebuild(&mut self) {
        self.lent = None;
        self.changes += 1;
        self.tree = if self.given <= u128::from(u64::MAX) {
            Tree::Narrow(build(&self.leaves, &self.ready))
        } else {
            Tree::Wide(build(&self.leaves, &self.ready))
        };
    }

    /// Process `p` has `tickets` from now on (it is not ready).
    fn set_tickets(&mut self, p: u32, tickets: u64) {
        if self.lent == Some(p) {
            self.settle();
        }
        self.changes += 1;
        self.leaves[p as usize / B].0[p as usize % B] = tickets;
        self.given += u128::from(tickets);
        if self.given > u128::from(u64::MAX) && matches!(self.tree, Tree::Narrow(_)) {
            self.rebuild();
        }
    }

    /// Makes room for process `p`: doubles the leaves and rebuilds the sums in O(n), so that
    /// growth costs O(1) a process over a run.
    fn grow_for(&mut self, p: u32) {
        let need = (p as usize + 1).div_ceil(B);
        if need <= self.leaves.len() {
            return;
        }
        let blocks = need.next_power_of_two();
        self.leaves.resize(blocks, Block::default());
        self.ready.resize(blocks, 0);
        self.rebuild();
    }

    /// Adds `delta` tickets (negative: removes) at process `p` in the sums.
    fn add_sums(&mut self, p: u32, delta: u128, negative: bool) {
        self.changes += 1;
        match &mut self.tree {
            Tree::Narrow(t) => add(t, p, u64::narrow(delta), negative),
            Tree::Wide(t) => add(t, p, delta, negative),
        }
    }

    /// Takes the lent process's tickets out of the sums.
    fn settle(&mut self) {
        if let Some(p) = self.lent.take() {
            self.add_sums(p, u128::from(self.tickets(p)), true);
        }
    }

    /// Adds `delta` tickets (negative: removes) at process `p`, in the sums and the total.
    fn add(&mut self, p: u32, delta: u128, negative: bool) {
        self.add_sums(p, delta, negative);
        if negative {
            self.total -= delta;
        } else {
            self.total += delta;
        }
    }

    /// The ready process holding ticket `w` (`w < total`).
    fn holder(&self, w: u128) -> u32 {
        match &self.tree {
            Tree::Narrow(t) => holder(t, &self.leaves, &self.ready, u64::narrow(w)),
            Tree::Wide(t) => holder(t, &self.leaves, &self.ready, w),
        }
    }

    fn take(&mut self, p: u32) -> bool {
        if !self.is_ready(p) {
            return false;
        }
        self.ready[p as usize / B] &= !(1 << (p as usize % B));
        self.count -= 1;
        self.add(p, u128::from(self.tickets(p)), true);
        true
    }
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

    /// The ticket line is the ready processes in slot order: a reused slot would move a
    /// process in it, and the same draw would pick another winner.
    fn orders_by_slot(&self) -> bool {
        true
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        self.grow_for(p);
        self.set_tickets(p, attrs.tickets.max(1));
    }

    fn enqueue(&mut self, p: u32, _why: Ready, _burst: u64, _now: u64) {
        self.grow_for(p);
        if self.is_ready(p) {
            return;
        }
        if self.lent == Some(p) {
            // Back from its CPU: its tickets never left the sums.
            self.lent = None;
            self.ready[p as usize / B] |= 1 << (p as usize % B);
            self.count += 1;
            self.total += u128::from(self.tickets(p));
            return;
        }
        if self.tickets(p) == 0 {
            // Never told its attributes: the SPEC's default.
            self.set_tickets(p, Attrs::default().tickets);
        }
        self.ready[p as usize / B] |= 1 << (p as usize % B);
        self.count += 1;
        self.add(p, u128::from(self.tickets(p)), false);
    }

    fn pick(&mut self, _now: u64, rng: &mut SeededRng) -> Option<u32> {
        self.settle();
        if self.count == 0 {
            return None;
        }
        let total = self.total;
        let w = draw_below(rng, total);
        let p = match self.guess {
            Some(g) if g.changes == self.changes && g.total == total && g.ticket == w => g.holder,
            _ => self.holder(w),
        };
        self.drawn = (w, total, p);
        // Taken, its tickets lent: the sums hold what they held for this draw.
        let (block, bit) = (p as usize / B, 1 << (p as usize % B));
        self.ready[block] &= !bit;
        self.count -= 1;
        self.total -= u128::from(self.tickets(p));
        self.lent = Some(p);
        // The next pick, if `p` comes back first and nothing else changes: the same sums and
        // total, and a draw from the generator's next word (a total beyond 2^63 is drawn
        // otherwise: no guess). `p` counts as ready for the descent.
        self.guess = (total <= 1 << 63).then(|| {
            let ticket = u128::from(rng.peek_word() % total as u64);
            self.ready[block] |= bit;
            let holder = self.holder(ticket);
            self.ready[block] &= !bit;
            Guess {
                changes: self.changes,
                total,
                ticket,
                holder,
            }
        });
        Some(p)
    }

    /// The next pick's likeliest holder, however many picks ahead are asked for: the one
    /// found ahead, if any.
    fn likely(&self, _k: usize) -> Option<u32> {
        self.guess.map(|g| g.holder)
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
        let tickets = self.leaves.get(p as usize / B)?.0[p as usize % B];
        if self.is_ready(p) {
            Some(format!("{tickets} of {} tickets", self.total))
        } else {
            Some(format!("{tickets} tickets"))
        }
    }

    fn on_exit(&mut self, p: u32) {
        self.take(p);
        if self.lent == Some(p) {
            self.settle();
        }
    }

    /// The holder's tickets are found again from the tree, which its pick changed only at
    /// its own index: the sum below that index is the one the draw descended through.
    fn last_draw(&self) -> Option<Draw> {
        let (ticket, total, holder) = self.drawn;
        if total == 0 {
            return None;
        }
        let first = match &self.tree {
            Tree::Narrow(t) => below(t, &self.leaves, &self.ready, holder),
            Tree::Wide(t) => below(t, &self.leaves, &self.ready, holder),
        };
        Some(Draw {
            ticket,
            total,
            holder,
            first,
            tickets: self.tickets(holder),
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

    /// Picks against a plain list drawn with the same generator, through a long run in which
    /// the picked process mostly comes back at once (its tickets lent, the next holder
    /// guessed) and otherwise blocks, ends, or others wake, are removed or are created anew;
    /// and each draw's account for `--explain`.
    #[test]
    fn lent_tickets_and_guesses_agree_with_a_list() {
        let mut l = Lottery::new(1);
        let (mut g, mut model_g) = (SeededRng::new(77), SeededRng::new(77));
        // (tickets, ready) by process.
        let mut model: Vec<(u64, bool)> = Vec::new();
        let mut x: u64 = 5;
        let mut running: Option<u32> = None;
        let (mut guessed, mut picks) = (0, 0);
        for step in 0..30_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) % 100;
            let q = ((x >> 40) % (model.len() as u64 + 1)) as u32;
            if model.len() < 40 || r < 3 {
                let p = model.len() as u32;
                let t = 1 + (x >> 20) % if step % 2 == 0 { 9 } else { 1000 };
                l.on_create(
                    p,
                    Attrs {
                        tickets: t,
                        ..Attrs::default()
                    },
                );
                model.push((t, false));
                l.enqueue(p, Ready::Admit, 0, 0);
                model[p as usize].1 = true;
            } else if r < 70 {
                // The running process comes back (most often), blocks or ends.
                if let Some(p) = running.take() {
                    match r % 10 {
                        0 => l.on_exit(p),
                        1 => {}
                        _ => {
                            l.enqueue(p, Ready::SliceEnd, 0, 0);
                            model[p as usize].1 = true;
                        }
                    }
                }
                let want = {
                    let total: u128 = model.iter().filter(|m| m.1).map(|m| m.0 as u128).sum();
                    (total > 0).then(|| {
                        let w = draw_below(&mut model_g, total);
                        let (mut sum, mut who) = (0u128, 0);
                        for (i, m) in model.iter().enumerate().filter(|(_, m)| m.1) {
                            if sum + m.0 as u128 > w {
                                who = i as u32;
                                break;
                            }
                            sum += m.0 as u128;
                        }
                        (w, total, who, sum)
                    })
                };
                let guess = l.likely(1);
                let got = l.pick(0, &mut g);
                assert_eq!(got, want.map(|w| w.2), "step {step}");
                if let (Some(p), Some((w, total, _, first))) = (got, want) {
                    picks += 1;
                    guessed += usize::from(guess == Some(p));
                    model[p as usize].1 = false;
                    running = Some(p);
                    let d = l.last_draw().unwrap();
                    assert_eq!((d.ticket, d.total, d.holder, d.first), (w, total, p, first));
                    assert_eq!(d.tickets, model[p as usize].0);
                }
            } else if r < 85 {
                if (q as usize) < model.len() && running != Some(q) {
                    l.enqueue(q, Ready::Wake, 0, 0);
                    model[q as usize].1 = true;
                }
            } else if (q as usize) < model.len() {
                assert_eq!(l.remove(q), model[q as usize].1);
                model[q as usize].1 = false;
            }
            assert_eq!(l.len(), model.iter().filter(|m| m.1).count());
        }
        assert!(
            picks > 10_000 && guessed > picks / 4,
            "{guessed} of {picks}"
        );
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
