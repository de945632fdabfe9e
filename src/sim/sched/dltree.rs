//! An indexed, augmented treap of ready processes for EEVDF: ordered by (virtual deadline,
//! sequence), each subtree knowing the least vruntime in it, so that "the eligible process
//! with the earliest deadline" is one walk down from the root.
//!
//! Linux keeps the mirror image (a red-black tree ordered by vruntime, augmented with the
//! least deadline); ordering by deadline instead makes the query a single descent: go left
//! while the left subtree holds an eligible process, else take this node if it is eligible,
//! else go right. Eligibility (`v ≤ V`) is a threshold on vruntime, which is what makes the
//! subtree minimum enough to steer by.
//!
//! A treap stays balanced in expectation: each node gets a priority from a fixed hash of its
//! insertion's sequence number (so runs are deterministic), and insert, remove and the query
//! cost O(log n) expected. Nodes live in a table indexed by process, and every walk is a loop
//! (no recursion, so no stack depth to worry about). A node also carries what EEVDF keeps of
//! its process (its [`Node`] is the process's one record, one cache line).
//!
//! Most insertions come in key order: a process whose request was used up gets a deadline a
//! slice past the one it was picked for, later than every other. Those go to a sorted FIFO
//! lane beside the tree (O(1)), and only an insertion that would break the lane's order goes
//! into the tree. A query first moves the lane's front into the tree for as long as the front
//! does not satisfy it, so that the front, if any is left, is the lane's earliest process that
//! does; the answer is the earlier of it and the tree's. Each process moves at most once an
//! insertion, so a query costs O(log n) amortized; at 20,000 ready processes under RR-IO-v1
//! the lane roughly halved the tree's share of the run (BENCHMARKS.md). A process removed from
//! the lane's middle leaves a stale entry there, recognized by its sequence number and
//! dropped when it reaches the front (or when stale entries outnumber live ones).

use super::fifo::Fifo;

/// "No node".
const NIL: u32 = u32::MAX;

/// Flags in [`Node::bits`] above the owner's 30 bits: held, and held in the lane.
const HELD: u32 = 1 << 31;
const IN_LANE: u32 = 1 << 30;
/// The bits the owner of the records keeps (EEVDF: a weight below 2^17, and a flag).
pub(crate) const OWNER_BITS: u32 = (1 << 30) - 1;

/// A process's record: its node in the tree and what EEVDF keeps of it, in one cache line.
/// At 10^5 processes a pick reads the record of a process at a random place of the table;
/// one aligned line a process is one miss, where the entity (48 bytes) and the node (56)
/// apart were two to four.
///
/// `deadline` and `v` are the owner's (EEVDF's deadline and vruntime), and the tree's key
/// and vruntime while the process is held: the owner changes them only while it is not
/// held. `since` and `lag` are the owner's alone; the tree never reads them.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Node {
    /// The virtual deadline: with `seq`, the order of the tree.
    pub(crate) deadline: i64,
    /// The vruntime.
    pub(crate) v: i64,
    /// The sequence number of the insertion that holds it (ties in deadline go to the lower).
    seq: u64,
    /// The least vruntime in this node's subtree (in the tree; unused in the lane).
    minv: i64,
    /// The owner's: when the process started running.
    pub(crate) since: u64,
    /// The owner's: its lag when it last blocked.
    pub(crate) lag: i64,
    left: u32,
    right: u32,
    parent: u32,
    /// [`HELD`], [`IN_LANE`], and the owner's bits below them ([`OWNER_BITS`]).
    bits: u32,
}

impl Node {
    /// A record of the owner's, not held.
    pub(crate) const fn new(deadline: i64, v: i64, since: u64, lag: i64, owner: u32) -> Node {
        Node {
            deadline,
            v,
            seq: 0,
            minv: 0,
            since,
            lag,
            left: NIL,
            right: NIL,
            parent: NIL,
            bits: owner & OWNER_BITS,
        }
    }

    /// The owner's bits, and setting them.
    pub(crate) fn owner(&self) -> u32 {
        self.bits & OWNER_BITS
    }
    pub(crate) fn set_owner(&mut self, owner: u32) {
        self.bits = (self.bits & !OWNER_BITS) | (owner & OWNER_BITS);
    }

    fn held(&self) -> bool {
        self.bits & HELD != 0
    }
    fn in_lane(&self) -> bool {
        self.bits & IN_LANE != 0
    }
    fn key(&self) -> (i64, u64) {
        (self.deadline, self.seq)
    }

    /// Heap order: a parent's priority is at least its children's. Computed from the
    /// sequence number rather than kept, which leaves the record within its line.
    fn prio(&self) -> u64 {
        mix(self.seq)
    }
}

const EMPTY: Node = Node::new(0, 0, 0, 0, 0);

/// Stale lane entries allowed beyond the live ones before the lane is compacted.
const SLACK: usize = 32;

/// A process in the lane, with what a query reads of it: the lane is walked in order, and
/// its processes' nodes lie at random places of the table.
#[derive(Debug, Clone, Copy)]
struct Lane {
    key: (i64, u64),
    p: u32,
    v: i64,
}

/// Ready processes by (deadline, sequence), with each subtree's least vruntime.
#[derive(Debug, Clone)]
pub(crate) struct DeadlineTree {
    nodes: Vec<Node>,
    root: u32,
    /// Processes held, in the tree and in the lane.
    len: usize,
    /// In increasing (deadline, sequence); an entry is live while its process is held in the
    /// lane with that sequence number. Its front is always live.
    lane: Fifo<Lane>,
    lane_live: usize,
}

impl Default for DeadlineTree {
    fn default() -> Self {
        DeadlineTree {
            nodes: Vec::new(),
            root: NIL,
            len: 0,
            lane: Fifo::default(),
            lane_live: 0,
        }
    }
}

/// SplitMix64's finalizer: a well-mixed priority from a sequence number.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl DeadlineTree {
    /// The number of processes held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `p` is held.
    pub(crate) fn contains(&self, p: u32) -> bool {
        self.nodes.get(p as usize).is_some_and(Node::held)
    }

    /// `p`'s record, if it has one.
    pub(crate) fn rec(&self, p: u32) -> Option<&Node> {
        self.nodes.get(p as usize)
    }
    /// `p`'s record, the table grown with records `fill` to hold it. Only the owner's fields
    /// may change while `p` is held (not `deadline` nor `v`).
    #[inline]
    pub(crate) fn rec_mut(&mut self, p: u32, fill: Node) -> &mut Node {
        if p as usize >= self.nodes.len() {
            self.grow(p, fill);
        }
        &mut self.nodes[p as usize]
    }

    /// The table grown with records `fill` to hold `p` (apart, so that the callers on the
    /// path of a dispatch stay small).
    #[cold]
    #[inline(never)]
    fn grow(&mut self, p: u32, fill: Node) {
        super::slot(&mut self.nodes, p, fill);
    }
    /// `p`'s record, which it has (the owner created it).
    pub(crate) fn at(&mut self, p: u32) -> &mut Node {
        &mut self.nodes[p as usize]
    }

    /// Adds `p` (not held) with its deadline, a sequence number unique to this insertion
    /// (ties in deadline go to the lower), and its vruntime.
    #[inline]
    pub(crate) fn insert(&mut self, p: u32, deadline: i64, seq: u64, v: i64) {
        debug_assert!(!self.contains(p));
        let key = (deadline, seq);
        let in_lane = self.lane.back().is_none_or(|e| e.key < key);
        // The owner (eevdf.rs) has made `p`'s record before it inserts it (`rec_mut` with
        // EEVDF's fresh record); the empty fill is for the tree's own tests.
        let n = self.rec_mut(p, EMPTY);
        n.deadline = deadline;
        n.v = v;
        n.seq = seq;
        (n.left, n.right, n.parent, n.minv) = (NIL, NIL, NIL, v);
        n.bits |= if in_lane { HELD | IN_LANE } else { HELD };
        self.len += 1;
        if in_lane {
            self.lane.push_back(Lane { key, p, v });
            self.lane_live += 1;
        } else {
            self.link(p);
        }
    }

    /// Whether a lane entry is live.
    fn live(&self, e: Lane) -> bool {
        let n = &self.nodes[e.p as usize];
        n.in_lane() && n.seq == e.key.1
    }

    /// Drops stale entries from the lane's front.
    #[inline]
    fn trim_lane(&mut self) {
        // With no stale entry (the common case: a process leaves the lane from its front)
        // there is nothing to look up, and the next front's node, at a random place of the
        // table, is not read.
        if self.lane.len() != self.lane_live {
            self.trim_stale();
        }
    }

    /// [`DeadlineTree::trim_lane`] with stale entries in the lane.
    #[cold]
    #[inline(never)]
    fn trim_stale(&mut self) {
        while let Some(&e) = self.lane.front() {
            if self.live(e) {
                break;
            }
            self.lane.pop_front();
        }
    }

    /// Moves the lane's front process (live) into the tree.
    #[inline(never)]
    fn lane_front_to_tree(&mut self) {
        let Lane { p, .. } = self.lane.pop_front().expect("a live front");
        self.lane_live -= 1;
        self.nodes[p as usize].bits &= !IN_LANE;
        self.link(p);
        self.trim_lane();
    }

    /// Links held node `p` (as `insert` left it, not yet in the tree) into the tree.
    fn link(&mut self, p: u32) {
        let n = &self.nodes[p as usize];
        let (key, v) = (n.key(), n.v);
        if self.root == NIL {
            self.root = p;
            return;
        }
        // Down to a leaf's place.
        let mut cur = self.root;
        loop {
            let n = &mut self.nodes[cur as usize];
            let slot = if key < n.key() {
                &mut n.left
            } else {
                &mut n.right
            };
            if *slot == NIL {
                *slot = p;
                break;
            }
            cur = *slot;
        }
        self.nodes[p as usize].parent = cur;
        // The path above now holds `v`; past the first node that already had as little,
        // nothing changes.
        let mut a = cur;
        while a != NIL && self.nodes[a as usize].minv > v {
            self.nodes[a as usize].minv = v;
            a = self.nodes[a as usize].parent;
        }
        // Up to its place in heap order; a rotation keeps the set of each subtree above it.
        loop {
            let parent = self.nodes[p as usize].parent;
            if parent == NIL || self.nodes[parent as usize].prio() >= self.nodes[p as usize].prio()
            {
                break;
            }
            self.rotate_up(p);
        }
    }

    /// Removes `p`; false if it was not held.
    pub(crate) fn remove(&mut self, p: u32) -> bool {
        // The commonest removal, the pick of the lane's front: the front is live, so `p` is
        // held there, and its record (at a random place of the table, but read by the owner
        // next) need not be looked at first.
        let front = self.lane.front().is_some_and(|e| e.p == p);
        if !front && !self.contains(p) {
            return false;
        }
        if front || self.nodes[p as usize].in_lane() {
            self.unlane(p, front);
        } else {
            self.unlink(p);
        }
        true
    }

    /// Removes `p`, held in the lane (at its front if `front`).
    #[inline]
    fn unlane(&mut self, p: u32, front: bool) {
        self.nodes[p as usize].bits &= !(HELD | IN_LANE);
        self.len -= 1;
        self.lane_live -= 1;
        // Off the lane at once from its front, which stays free of stale entries.
        if front {
            self.lane.pop_front();
        }
        self.trim_lane();
        if self.lane.len() > 2 * self.lane_live + SLACK {
            self.compact_lane();
        }
    }

    /// Drops every stale entry from the lane.
    #[cold]
    #[inline(never)]
    fn compact_lane(&mut self) {
        let mut lane = std::mem::take(&mut self.lane);
        lane.retain(|e| self.live(e));
        self.lane = lane;
    }

    /// Removes `p`, held in the tree.
    fn unlink(&mut self, p: u32) {
        // Down until it has at most one child: the child of higher priority goes above it.
        loop {
            let Node { left, right, .. } = self.nodes[p as usize];
            if left == NIL || right == NIL {
                break;
            }
            let up = if self.nodes[left as usize].prio() >= self.nodes[right as usize].prio() {
                left
            } else {
                right
            };
            self.rotate_up(up);
        }
        let Node {
            left,
            right,
            parent,
            ..
        } = self.nodes[p as usize];
        let child = if left != NIL { left } else { right };
        self.replace_child(parent, p, child);
        if child != NIL {
            self.nodes[child as usize].parent = parent;
        }
        self.nodes[p as usize].bits &= !HELD;
        self.len -= 1;
        // Every node whose subtree lost `p` is on the way up from where it was; past the
        // first whose minimum stays as it was, nothing changes (each one's minimum depends
        // only on its own vruntime and its children's minima).
        let mut a = parent;
        while a != NIL {
            let before = self.nodes[a as usize].minv;
            self.pull(a);
            if self.nodes[a as usize].minv == before {
                break;
            }
            a = self.nodes[a as usize].parent;
        }
    }

    /// The held process with the earliest (deadline, sequence) among those whose vruntime
    /// satisfies `ok`, which must be a threshold (true for every vruntime below one that
    /// satisfies it), as eligibility `v ≤ V` is.
    pub(crate) fn first_with(&mut self, ok: impl Fn(i64) -> bool) -> Option<u32> {
        // The front is live, and its entry holds its vruntime.
        while let Some(e) = self.lane.front() {
            if ok(e.v) {
                break;
            }
            self.lane_front_to_tree();
        }
        let in_tree = self.tree_first_with(&ok);
        match (self.lane.front(), in_tree) {
            (Some(e), Some(q)) => Some(if e.key < self.nodes[q as usize].key() {
                e.p
            } else {
                q
            }),
            (Some(e), None) => Some(e.p),
            (None, q) => q,
        }
    }

    /// [`DeadlineTree::first_with`], and the process it finds removed: a pick in one go.
    /// Most picks take the lane's front, known to be live (no look at its record first).
    #[inline]
    pub(crate) fn take_first_with(&mut self, ok: impl Fn(i64) -> bool) -> Option<u32> {
        while let Some(e) = self.lane.front() {
            if ok(e.v) {
                break;
            }
            self.lane_front_to_tree();
        }
        let in_tree = self.tree_first_with(&ok);
        if let Some(&e) = self.lane.front()
            && in_tree.is_none_or(|q| e.key < self.nodes[q as usize].key())
        {
            self.unlane(e.p, true);
            return Some(e.p);
        }
        let q = in_tree?;
        self.unlink(q);
        Some(q)
    }

    /// [`DeadlineTree::first_with`] among the processes in the tree.
    #[inline]
    fn tree_first_with(&self, ok: &impl Fn(i64) -> bool) -> Option<u32> {
        let n = self.root;
        if n == NIL || !ok(self.nodes[n as usize].minv) {
            return None;
        }
        Some(self.descend(n, ok))
    }

    /// The walk of [`DeadlineTree::tree_first_with`] from `n`, whose subtree holds a process
    /// that satisfies `ok`.
    #[inline(never)]
    fn descend(&self, mut n: u32, ok: &impl Fn(i64) -> bool) -> u32 {
        loop {
            let node = &self.nodes[n as usize];
            if node.left != NIL && ok(self.nodes[node.left as usize].minv) {
                n = node.left;
            } else if ok(node.v) {
                return n;
            } else {
                // The subtree's minimum satisfies `ok` and is neither on the left nor here.
                n = node.right;
                debug_assert_ne!(n, NIL);
            }
        }
    }

    /// The process `k` places behind the lane's front (perhaps one no longer held): the
    /// likeliest to be picked `k` picks from now, a hint for prefetching.
    pub(crate) fn lane_at(&self, k: usize) -> Option<u32> {
        self.lane.get(k).map(|e| e.p)
    }

    /// Asks the memory system for `p`'s record (one line), if there is one.
    pub(crate) fn prefetch(&self, p: u32) {
        if let Some(n) = self.nodes.get(p as usize) {
            crate::sim::fast::prefetch(n);
        }
    }

    /// The least vruntime held (the lane's processes move into the tree first).
    pub(crate) fn least_v(&mut self) -> Option<i64> {
        while !self.lane.is_empty() {
            self.lane_front_to_tree();
        }
        (self.root != NIL).then(|| self.nodes[self.root as usize].minv)
    }

    /// Recomputes `n`'s subtree minimum from its children.
    fn pull(&mut self, n: u32) {
        let Node { left, right, v, .. } = self.nodes[n as usize];
        let mut m = v;
        if left != NIL {
            m = m.min(self.nodes[left as usize].minv);
        }
        if right != NIL {
            m = m.min(self.nodes[right as usize].minv);
        }
        self.nodes[n as usize].minv = m;
    }

    /// In `parent` (or at the root when `parent` is NIL), `old` is replaced by `new`.
    fn replace_child(&mut self, parent: u32, old: u32, new: u32) {
        if parent == NIL {
            self.root = new;
        } else if self.nodes[parent as usize].left == old {
            self.nodes[parent as usize].left = new;
        } else {
            self.nodes[parent as usize].right = new;
        }
    }

    /// Rotates `x` above its parent, keeping the order and both nodes' minima.
    fn rotate_up(&mut self, x: u32) {
        let y = self.nodes[x as usize].parent;
        let g = self.nodes[y as usize].parent;
        if self.nodes[y as usize].left == x {
            let b = self.nodes[x as usize].right;
            self.nodes[y as usize].left = b;
            if b != NIL {
                self.nodes[b as usize].parent = y;
            }
            self.nodes[x as usize].right = y;
        } else {
            let b = self.nodes[x as usize].left;
            self.nodes[y as usize].right = b;
            if b != NIL {
                self.nodes[b as usize].parent = y;
            }
            self.nodes[x as usize].left = y;
        }
        self.nodes[y as usize].parent = x;
        self.nodes[x as usize].parent = g;
        self.replace_child(g, y, x);
        self.pull(y);
        self.pull(x);
    }
}

#[cfg(test)]
#[path = "dltree_tests.rs"]
mod tests;
