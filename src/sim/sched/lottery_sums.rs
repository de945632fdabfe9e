//! The lottery's sums of tickets over the positions of its ticket line (`lottery.rs`): an
//! implicit 8-ary tree, a leaf a position (the tickets of the process there, 0 past the
//! line's end), each node the sum of the 8 below it, the 8 kept side by side in one 64-byte
//! block as running sums (entry j: the children 0 to j).
//!
//! The holder of a ticket is found by one descent, a block a level (the first child whose
//! running sum exceeds what is left of the ticket: three comparisons, no branch), and a
//! position's tickets change by adding to the running sums from its entry on, a block a
//! level: O(log n) both, in log₈ n levels (six at 100,000 positions, against seventeen for a
//! binary tree, each of them a cache line and, in the descent, a data-dependent branch a
//! binary tree would mispredict half of the time).

/// Children a node.
pub(super) const B: usize = 8;
/// log₂ B.
const SHIFT: u32 = 3;

/// The sums a tree holds: 64 bits while they cannot overflow, else 128.
trait Sum:
    Copy + Ord + Default + std::ops::Add<Output = Self> + std::ops::AddAssign + std::ops::SubAssign
{
    /// `x`, which the caller knows fits.
    fn narrow(x: u128) -> Self;
    fn wide(self) -> u128;
}

impl Sum for u64 {
    fn narrow(x: u128) -> Self {
        x as u64
    }
    fn wide(self) -> u128 {
        u128::from(self)
    }
}

impl Sum for u128 {
    fn narrow(x: u128) -> Self {
        x
    }
    fn wide(self) -> u128 {
        self
    }
}

/// B entries side by side, a block aligned to a cache line (two for 128-bit sums).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(64))]
struct Block<T>([T; B]);

/// The levels of sums above the leaves: `levels[0]` has an entry per block of leaves (the
/// sum of its tickets), `levels[k]` one per block of `levels[k − 1]`; the last level is a
/// single block. Each block holds its entries' running sums.
type Levels<T> = Vec<Vec<Block<T>>>;

/// The levels in 64 bits while every sum fits (the caller says when they might not: see
/// [`Sums::widen`]), else in 128: half the memory and cheaper arithmetic.
#[derive(Debug, Clone)]
enum Tree {
    Narrow(Levels<u64>),
    Wide(Levels<u128>),
}

/// The tickets by position and their sums.
#[derive(Debug, Clone)]
pub(super) struct Sums {
    /// Tickets by position, B a block (0: past the line's end).
    leaves: Vec<Block<u64>>,
    tree: Tree,
}

/// The levels of sums over `leaves`, built in O(n).
fn build<T: Sum>(leaves: &[Block<u64>]) -> Levels<T> {
    let mut entries: Vec<T> = leaves
        .iter()
        .map(|b| {
            b.0.iter()
                .fold(T::default(), |acc, &t| acc + T::narrow(u128::from(t)))
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

/// Adds `delta` (negative: removes) at position `i`'s entry of every level: to the running
/// sums of its block from that entry on.
fn add<T: Sum>(levels: &mut Levels<T>, i: usize, delta: T, negative: bool) {
    let mut i = i;
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

/// The position holding ticket `w` (`w` below the total).
fn holder<T: Sum>(levels: &Levels<T>, leaves: &[Block<u64>], mut w: T) -> usize {
    let mut i = 0;
    for level in levels.iter().rev() {
        let (j, below) = find(&level[i].0, w);
        w -= below;
        i = i * B + j;
    }
    // The leaves hold tickets, not running sums: the first whose running sum exceeds `w`.
    // No branch: the running sums only grow, so those at or below `w` are the first ones.
    let (mut run, mut j) = (T::default(), 0);
    for &t in &leaves[i].0 {
        run += T::narrow(u128::from(t));
        j += usize::from(run <= w);
    }
    i * B + j
}

/// The sum of the tickets at positions below `i`: at each level, the entries before `i`'s
/// own in its block.
fn below<T: Sum>(levels: &Levels<T>, leaves: &[Block<u64>], i: usize) -> u128 {
    let mut sum: u128 = leaves[i / B].0[..i % B]
        .iter()
        .map(|&t| u128::from(t))
        .sum();
    let mut i = i / B;
    for level in levels {
        if let Some(k) = (i % B).checked_sub(1) {
            sum += level[i / B].0[k].wide();
        }
        i /= B;
    }
    sum
}

impl Sums {
    /// The sums of `tickets` (by position, from 0), with room for `room` positions, in 64
    /// bits if `narrow`.
    pub(super) fn new(tickets: impl IntoIterator<Item = u64>, room: usize, narrow: bool) -> Self {
        let blocks = room.max(1).div_ceil(B).next_power_of_two();
        let mut leaves = vec![Block::default(); blocks];
        for (i, t) in tickets.into_iter().enumerate() {
            leaves[i / B].0[i % B] = t;
        }
        let tree = if narrow {
            Tree::Narrow(build(&leaves))
        } else {
            Tree::Wide(build(&leaves))
        };
        Sums { leaves, tree }
    }

    /// How many positions the sums have room for.
    pub(super) fn room(&self) -> usize {
        self.leaves.len() * B
    }

    /// Doubles the room, rebuilding the sums in O(n) (so that growth costs O(1) a position
    /// over a run).
    pub(super) fn grow(&mut self) {
        let blocks = self.leaves.len() * 2;
        self.leaves.resize(blocks, Block::default());
        self.rebuild();
    }

    /// From now on in 128 bits: the caller knows 64-bit sums might overflow.
    pub(super) fn widen(&mut self) {
        if matches!(self.tree, Tree::Narrow(_)) {
            self.tree = Tree::Wide(build(&self.leaves));
        }
    }

    /// Whether the sums are in 64 bits.
    #[cfg(test)]
    pub(super) fn is_narrow(&self) -> bool {
        matches!(self.tree, Tree::Narrow(_))
    }

    fn rebuild(&mut self) {
        self.tree = match self.tree {
            Tree::Narrow(_) => Tree::Narrow(build(&self.leaves)),
            Tree::Wide(_) => Tree::Wide(build(&self.leaves)),
        };
    }

    /// The tickets at position `i`.
    pub(super) fn get(&self, i: usize) -> u64 {
        self.leaves[i / B].0[i % B]
    }

    /// Position `i` holds `tickets` from now on (`i` within [`Sums::room`]).
    pub(super) fn set(&mut self, i: usize, tickets: u64) {
        let old = std::mem::replace(&mut self.leaves[i / B].0[i % B], tickets);
        let (delta, negative) = if tickets >= old {
            (tickets - old, false)
        } else {
            (old - tickets, true)
        };
        if delta == 0 {
            return;
        }
        match &mut self.tree {
            Tree::Narrow(t) => add(t, i, delta, negative),
            Tree::Wide(t) => add(t, i, u128::from(delta), negative),
        }
    }

    /// The position holding ticket `w` (`w` below the total).
    pub(super) fn holder(&self, w: u128) -> usize {
        match &self.tree {
            Tree::Narrow(t) => holder(t, &self.leaves, w as u64),
            Tree::Wide(t) => holder(t, &self.leaves, w),
        }
    }

    /// The sum of the tickets at positions below `i` (the first ticket `i` holds).
    pub(super) fn below(&self, i: usize) -> u128 {
        match &self.tree {
            Tree::Narrow(t) => below(t, &self.leaves, i),
            Tree::Wide(t) => below(t, &self.leaves, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every ticket's holder and every position's first ticket against a plain list, through
    /// growth, changes in place and widening.
    #[test]
    fn holders_and_prefixes_agree_with_a_list() {
        let mut list: Vec<u64> = vec![3, 5, 0, 7, 1];
        let mut s = Sums::new(list.iter().copied(), list.len(), true);
        let check = |s: &Sums, list: &[u64]| {
            let mut sum = 0u128;
            for (i, &t) in list.iter().enumerate() {
                assert_eq!(s.below(i), sum);
                assert_eq!(s.get(i), t);
                if t > 0 {
                    assert_eq!(s.holder(sum), i);
                    assert_eq!(s.holder(sum + u128::from(t) - 1), i);
                }
                sum += u128::from(t);
            }
        };
        check(&s, &list);
        let mut x: u64 = 1;
        for step in 0..2000usize {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let t = (x >> 40) % 13;
            if step % 3 == 0 || list.is_empty() {
                if list.len() == s.room() {
                    s.grow();
                }
                s.set(list.len(), t);
                list.push(t);
            } else {
                let i = (x >> 20) as usize % list.len();
                s.set(i, t);
                list[i] = t;
            }
            if step == 1000 {
                s.widen();
                assert!(!s.is_narrow());
            }
            if step % 97 == 0 {
                check(&s, &list);
            }
        }
        check(&s, &list);
    }

    /// Sums beyond 64 bits, once widened.
    #[test]
    fn wide_sums_hold_huge_tickets() {
        let list = [u64::MAX, u64::MAX, 5];
        let s = Sums::new(list, 3, false);
        let max = u128::from(u64::MAX);
        assert_eq!(s.holder(max - 1), 0);
        assert_eq!(s.holder(max), 1);
        assert_eq!(s.holder(2 * max), 2);
        assert_eq!(s.below(2), 2 * max);
    }
}
