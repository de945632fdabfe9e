//! A FIFO of process indices with insertion at both ends and removal from anywhere, for the
//! queue-based policies (round robin, FCFS).
//!
//! # Two modes
//!
//! A *plain* ring is `len` processes from `head` in `cap` slots (a power of two): the
//! dispatch loop's join and pop are a test, a store or a load and two adds, and nothing else
//! is written (BENCHMARKS.md: at a million processes the two calls a dispatch were a
//! measurable part of its cost, and an index written at every join cost round robin
//! 3.4–6.6 % more instructions on RR-IO-v1).
//!
//! Taking a process out of the middle of a plain ring searches and shifts: O(queue). A
//! parent ending with 100,000 ready daemon children took 2.2 s of CPU to end them, ×72 what
//! 10,000 took. So the first removal from a plain ring of [`INDEX_FROM`] processes or more
//! turns it *indexed*: its slots move to an [`Indexed`] (no copy), which notes the slot
//! of every process as it joins (`at`), so that a removal finds its process in O(1), tells
//! exactly whether it is queued (the kernel relies on the `false`: the process is then
//! elsewhere, `lifecycle.rs`'s `leave_cpu`), and leaves a [`HOLE`] that the pops step
//! over (lazy deletion). The holes are squeezed out in one pass once they outnumber the
//! processes queued, so that memory and the skipping stay amortized O(1) a removal.
//!
//! While indexed, the plain fields say "no slot, no process" (`cap` 0, `len` 0): the plain
//! join (`len == cap`) and pop (`len == 0`) take their cold branches, which the plain ring
//! had already (growth; an empty queue), so the plain hot path keeps its instructions. The
//! pop's cold branch ([`Ring::refill`]) takes the indexed front into a one-slot `slots`
//! and lets the plain pop take it from there (head 0, len 1; after it `len` is 0 again):
//! the dispatch loop then joins the rest of the pop as before, rather than a second path
//! that returns a process, after which the compiler knew less of the ring (a join right
//! after a pop reloaded the ring's fields and checked bounds again: +4 instructions a
//! slice end). `count` holds the queued processes while indexed (0 while plain), so that
//! [`Ring::len`] is `len + count` in either mode.
//!
//! The ring turns plain again (at a join or a removal) once no hole is left and it has done
//! as many operations while indexed as it held processes when it turned (`cost`): the O(queue) turning is
//! then paid for by that many O(1) operations, and a run that once removed from its
//! queue does not keep the slower indexed path for good.
//!
//! `--explain` notes queue positions by slot ([`Positions`]), which holes would falsify, so
//! its policies remove with [`Ring::remove_searched`] (search and shift, as before) and
//! the ring never turns indexed on that path.

use std::mem;

/// What a slot of an indexed ring holds once its process was taken out: the pops step
/// over it. No process index reaches it (the per-process tables would need 2^32 entries).
const HOLE: u32 = u32::MAX;

/// A removal from a plain ring shorter than this searches and shifts (at most this many
/// slots); a longer one turns the ring indexed.
pub(crate) const INDEX_FROM: usize = 64;

/// The slot a process joining at the front (the head moves back onto it) or at the back
/// takes, in a ring of `mask + 1` slots with `len` of them occupied from `head`: the one rule
/// of both modes' slow joins (the plain ring's hot joins spell it inline).
#[inline]
fn join_slot(head: &mut usize, len: usize, mask: usize, front: bool) -> usize {
    if front {
        *head = head.wrapping_sub(1) & mask;
        *head
    } else {
        (*head + len) & mask
    }
}

/// A FIFO of process indices in a power-of-two ring (see the module documentation).
/// `VecDeque` does the same, but its `push_back`/`pop_front` are not inlined into the
/// dispatch loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ring {
    /// Plain: `cap` slots. Indexed: one slot, the front being popped.
    slots: Vec<u32>,
    /// Plain: `slots.len()`, 0 or a power of two. Indexed: 0.
    cap: usize,
    /// Plain: the slot of the front (below `cap`, or 0).
    head: usize,
    /// Plain: the processes queued (at most `cap`). Indexed: 0 (1 inside a pop).
    len: usize,
    /// Counts the times elements moved between slots (growth, a removal from the middle,
    /// a change of mode): a [`Positions`] noted before then is stale.
    generation: u64,
    /// Indexed: the processes queued. Plain: 0.
    count: usize,
    /// Whether the ring is indexed (`ix` then holds its slots).
    indexed: bool,
    /// The indexed ring's slots and index; kept while plain so that the index's table by
    /// process is not made again at the next turn.
    ix: Option<Box<Indexed>>,
    /// Slots read or written by removals, turns, squeezes and skipped holes (tests count
    /// the work).
    #[cfg(test)]
    work: usize,
}

/// An indexed ring: `span` occupied slots from `head`, processes and [`HOLE`]s.
#[derive(Debug, Clone, Default)]
struct Indexed {
    /// Indexed: a power of two (at least 16) of them. Plain: the ring's one-slot buffer,
    /// kept for its next turn.
    slots: Vec<u32>,
    head: usize,
    span: usize,
    /// Holes among the `span` occupied slots.
    holes: usize,
    /// By process, the slot it took when it last joined (or was laid out). Believed when
    /// that slot is occupied and holds the process: occupied slots hold queued processes
    /// or holes, and a process is queued once, so the check is exact both ways. Nothing
    /// is written at a pop.
    at: Vec<u32>,
    /// Operations (joins, pops, removals) since the ring turned indexed.
    ops: usize,
    /// The processes queued when it turned: what turning cost.
    cost: usize,
}

impl Indexed {
    #[inline]
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The slot `p` is queued in, if it is.
    fn find(&self, p: u32) -> Option<usize> {
        let i = *self.at.get(p as usize)? as usize;
        let occupied =
            i < self.slots.len() && (i.wrapping_sub(self.head) & self.mask()) < self.span;
        (occupied && self.slots[i] == p).then_some(i)
    }
}

impl Ring {
    #[inline(always)]
    fn mask(&self) -> usize {
        self.cap.wrapping_sub(1)
    }

    /// Joins at the back.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, p: u32) {
        if self.len == self.cap {
            return self.push_slow(p, false);
        }
        let i = (self.head + self.len) & self.mask();
        // SAFETY: `len < cap` here, so the ring is plain and `cap` is a power of two equal
        // to `slots.len()`; `i` is masked below it.
        unsafe { *self.slots.get_unchecked_mut(i) = p };
        self.len += 1;
    }

    /// Joins at the front.
    #[inline]
    pub(crate) fn push_front(&mut self, p: u32) {
        if self.len == self.cap {
            return self.push_slow(p, true);
        }
        self.head = self.head.wrapping_sub(1) & self.mask();
        // SAFETY: as in `push_back`: `head` is masked below `cap == slots.len()`.
        unsafe { *self.slots.get_unchecked_mut(self.head) = p };
        self.len += 1;
    }

    /// Takes the front.
    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<u32> {
        if self.len == 0 {
            if self.count == 0 {
                return None;
            }
            self.refill();
        }
        // SAFETY: `len > 0` here. Plain: `cap >= len` is a power of two equal to
        // `slots.len()` and `head` is masked below it. Indexed: `refill` left the front in
        // `slots[0]` with `head` 0.
        let p = unsafe { *self.slots.get_unchecked(self.head) };
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(p)
    }

    /// Joins `p` at the back and takes the front, in one: what [`Ring::push_back`] then
    /// [`Ring::pop_front`] give (`p` itself from an empty ring). A plain ring with a process
    /// queued keeps its length: `p` takes the slot after the last (the front's own when
    /// full, read first, so a full ring does not grow), and the head moves on: one load, one
    /// store and no test of room (round robin's slice end on several CPUs, `fast_lockstep.rs`).
    #[inline(always)]
    pub(crate) fn push_back_pop_front(&mut self, p: u32) -> u32 {
        if self.len == 0 {
            // Empty, or indexed (its plain fields say nothing is there).
            self.push_back(p);
            return self.pop_front().unwrap_or(p);
        }
        let mask = self.mask();
        let tail = (self.head + self.len) & mask;
        // SAFETY: `len > 0` makes the ring plain (an indexed one has `len` 0 outside a pop),
        // so `cap >= len` is a power of two equal to `slots.len()`; `head` and `tail` are
        // masked below it. (Checked indexing, two bounds checks a slice end: RR-IO-v1 on 4
        // CPUs at N = 20,000 took 264.9 M instructions with it, 260.7 M without.)
        let q = unsafe { *self.slots.get_unchecked(self.head) };
        // SAFETY: as above.
        unsafe { *self.slots.get_unchecked_mut(tail) = p };
        self.head = (self.head + 1) & mask;
        q
    }

    /// Takes the front and joins `p` at the back if a process is queued: what
    /// [`Ring::pop_front`] then [`Ring::push_back`] give, in one turn of a plain ring
    /// ([`Ring::push_back_pop_front`]); `None`, with nothing done, if none is. (Round robin's
    /// slice end on one CPU, `fast/lean.rs`.)
    #[inline(always)]
    pub(crate) fn pop_front_push_back(&mut self, p: u32) -> Option<u32> {
        if self.len == 0 {
            // Empty, or indexed (its plain fields say nothing is there).
            let q = self.pop_front()?;
            self.push_back(p);
            return Some(q);
        }
        Some(self.push_back_pop_front(p))
    }

    /// The number of processes queued.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len + self.count
    }

    /// The queued processes, front first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let plain = (0..self.len).map(move |k| self.slots[(self.head + k) & self.mask()]);
        let (slots, head, span) = match self.ix.as_deref() {
            Some(ix) if self.indexed => (&ix.slots[..], ix.head, ix.span),
            _ => (&[][..], 0, 0),
        };
        let mask = slots.len().wrapping_sub(1);
        let indexed = (0..span)
            .map(move |k| slots[(head + k) & mask])
            .filter(|&p| p != HOLE);
        plain.chain(indexed)
    }

    /// The process `k` pops from now, if any (O(1) while plain, O(queue) while indexed:
    /// for `--explain`, whose policies keep their ring plain).
    pub(crate) fn nth(&self, k: usize) -> Option<u32> {
        if k < self.len {
            return Some(self.slots[(self.head + k) & self.mask()]);
        }
        self.iter().nth(k)
    }

    /// The process in the `k`-th slot from the front while plain, a hint for prefetching
    /// (none while indexed): the plain ring's read alone, for the dispatch loop.
    #[inline(always)]
    pub(crate) fn likely(&self, k: usize) -> Option<u32> {
        // SAFETY: `k < len` makes the ring plain with `cap >= 1`, a power of two equal to
        // `slots.len()`; the slot is masked below it.
        (k < self.len).then(|| unsafe { *self.slots.get_unchecked((self.head + k) & self.mask()) })
    }

    /// Removes `p` wherever it is; false if it was not queued. O(1) amortized (see the
    /// module documentation); a search and a shift of a short plain ring.
    pub(crate) fn remove_item(&mut self, p: u32) -> bool {
        if !self.indexed {
            if self.len < INDEX_FROM {
                return self.remove_searched(p);
            }
            self.turn_indexed();
        }
        let ix = self
            .ix
            .as_deref_mut()
            .expect("an indexed ring has its index");
        ix.ops += 1;
        let Some(i) = ix.find(p) else {
            return false;
        };
        ix.slots[i] = HOLE;
        ix.holes += 1;
        self.count -= 1;
        self.generation += 1;
        if self.count == 0 {
            // Holes alone: nothing left to step over.
            (ix.head, ix.span, ix.holes) = (0, 0, 0);
        } else if ix.holes > self.count {
            self.relay();
        }
        self.maybe_turn_plain();
        true
    }

    /// Removes `p` by a search and a shift, keeping the ring plain (`--explain`'s path,
    /// whose [`Positions`] read slots, and short rings); false if it was not queued.
    pub(crate) fn remove_searched(&mut self, p: u32) -> bool {
        if self.indexed {
            return self.remove_item(p);
        }
        self.count_work(self.len);
        let Some(k) = self.iter().position(|q| q == p) else {
            return false;
        };
        let mask = self.mask();
        for j in k..self.len - 1 {
            self.slots[(self.head + j) & mask] = self.slots[(self.head + j + 1) & mask];
        }
        self.len -= 1;
        self.generation += 1;
        true
    }

    /// A join to a full plain ring (it grows), or to an indexed one.
    #[cold]
    #[inline(never)]
    fn push_slow(&mut self, p: u32, front: bool) {
        debug_assert_ne!(p, HOLE, "no process has the hole's index");
        if !self.indexed {
            self.grow();
            let mask = self.mask();
            let i = join_slot(&mut self.head, self.len, mask, front);
            self.slots[i] = p;
            self.len += 1;
            return;
        }
        let full = {
            let ix = self.ix.as_deref().expect("an indexed ring has its index");
            debug_assert!(ix.find(p).is_none(), "process {p} is queued twice");
            ix.span == ix.slots.len()
        };
        if full {
            self.relay();
        }
        let ix = self
            .ix
            .as_deref_mut()
            .expect("an indexed ring has its index");
        let mask = ix.mask();
        let i = join_slot(&mut ix.head, ix.span, mask, front);
        ix.slots[i] = p;
        ix.span += 1;
        ix.ops += 1;
        *super::slot(&mut ix.at, p, u32::MAX) = i as u32;
        self.count += 1;
        self.maybe_turn_plain();
    }

    /// A pop from an indexed ring with a process queued: the holes before it are stepped
    /// over (each once: paid for by the removal that made it), and it is left in
    /// `slots[0]` (the one-slot buffer of the indexed mode) for the plain pop to take.
    /// Inlined, and calling nothing that returns: a call here, even out of the way, made
    /// the compiler reload what it knew of the kernel after every pop (the switch-cost run
    /// of RR-IO-v1, BENCHMARKS.md). Turning plain is left to the joins and removals.
    #[inline(always)]
    fn refill(&mut self) {
        let Some(ix) = self.ix.as_deref_mut() else {
            unreachable!("an indexed ring has its index")
        };
        let mask = ix.mask();
        let p = loop {
            let p = ix.slots[ix.head];
            ix.head = (ix.head + 1) & mask;
            ix.span -= 1;
            if p != HOLE {
                break p;
            }
            ix.holes -= 1;
            #[cfg(test)]
            {
                self.work += 1;
            }
        };
        ix.ops += 1;
        self.count -= 1;
        if self.count == 0 {
            (ix.head, ix.span, ix.holes) = (0, 0, 0);
        }
        self.slots[0] = p;
        (self.head, self.len) = (0, 1);
    }

    /// A plain ring turns indexed: its slots move (no copy) and every process's slot is
    /// noted. O(queue), paid for by the operations before it turns plain again.
    #[cold]
    fn turn_indexed(&mut self) {
        let ix = self.ix.get_or_insert_with(Box::default);
        // The ring's slots go to the index; the one-slot buffer, kept there while plain,
        // comes back.
        mem::swap(&mut ix.slots, &mut self.slots);
        if self.slots.len() != 1 {
            self.slots = vec![0];
        }
        (ix.head, ix.span, ix.holes) = (self.head, self.len, 0);
        (ix.ops, ix.cost) = (0, self.len);
        let mask = ix.mask();
        for k in 0..ix.span {
            let i = (ix.head + k) & mask;
            *super::slot(&mut ix.at, ix.slots[i], u32::MAX) = i as u32;
        }
        self.count_work(self.len);
        (self.count, self.len, self.head, self.cap) = (self.len, 0, 0, 0);
        self.indexed = true;
        self.generation += 1;
    }

    /// An indexed ring with no hole that has paid for its turning turns plain: its slots
    /// move back, its index is kept for the next turn (its notes are checked, not trusted).
    #[inline]
    fn maybe_turn_plain(&mut self) {
        let Some(ix) = self.ix.as_deref_mut().filter(|_| self.indexed) else {
            return;
        };
        if ix.holes != 0 || ix.ops < ix.cost {
            return;
        }
        debug_assert_eq!(
            ix.span, self.count,
            "no hole: every occupied slot is queued"
        );
        // The one-slot buffer is kept for the next turn.
        mem::swap(&mut self.slots, &mut ix.slots);
        self.cap = self.slots.len();
        (self.head, self.len) = (ix.head, ix.span);
        (ix.head, ix.span) = (0, 0);
        self.count = 0;
        self.indexed = false;
        self.generation += 1;
    }

    /// Lays an indexed ring's processes out from slot 0, holes dropped, in twice the slots
    /// they need (at least 16), noting each one's slot: at growth (no free slot) and when
    /// holes outnumber processes. O(slots), paid for by the joins or removals since the
    /// last layout.
    #[cold]
    fn relay(&mut self) {
        let ix = self
            .ix
            .as_deref_mut()
            .expect("an indexed ring has its index");
        let cap = (2 * self.count + 2).next_power_of_two().max(16);
        let mut slots = Vec::with_capacity(cap);
        let mask = ix.mask();
        slots.extend(
            (0..ix.span)
                .map(|k| ix.slots[(ix.head + k) & mask])
                .filter(|&p| p != HOLE),
        );
        for (i, &p) in slots.iter().enumerate() {
            *super::slot(&mut ix.at, p, u32::MAX) = i as u32;
        }
        slots.resize(cap, 0);
        let old = ix.span + ix.slots.len();
        ix.slots = slots;
        (ix.head, ix.span, ix.holes) = (0, self.count, 0);
        self.generation += 1;
        self.count_work(old + cap);
    }

    #[cold]
    fn grow(&mut self) {
        self.generation += 1;
        let mask = self.mask();
        let items: Vec<u32> = (0..self.len)
            .map(|k| self.slots[(self.head + k) & mask])
            .collect();
        let cap = (self.cap * 2).max(16);
        self.slots = items;
        self.slots.resize(cap, 0);
        self.cap = cap;
        self.head = 0;
    }

    #[inline(always)]
    fn count_work(&mut self, slots: usize) {
        #[cfg(test)]
        {
            self.work += slots;
        }
        let _ = slots;
    }
}

/// Where processes sit in a [`Ring`], noted as they join, so that `--explain` tells a queue
/// position without searching the queue (a search a process named, and a pick names up to
/// nine: the cost of a decision grew with the queue). Noted only on `--explain`'s path
/// ([`super::Policy::noted_joined`]), never on a push, and every join must be noted. A note
/// is believed when the slot it names still holds the process within the queue; when it
/// does not, the process is not queued, unless slots moved since the last note (then the
/// queue is searched, until the next note notes every element again). A slot is a queue
/// position only in a plain ring: a policy that notes removes with [`Ring::remove_searched`],
/// which keeps its ring plain ([`Positions::is_on`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct Positions {
    /// By process: the slot it was last seen in ([`u32::MAX`]: none).
    slot: Vec<u32>,
    /// The ring's generation the notes were made in.
    generation: u64,
    /// Whether a join was noted (the run is `--explain`'s: every join is noted, from the
    /// first, so no process was queued unnoted before).
    on: bool,
}

impl Positions {
    /// `n` processes just joined `ring` at one end: notes the slots of the `n` first and `n`
    /// last, or of every element if slots moved since the last note.
    pub(crate) fn note(&mut self, ring: &Ring, n: usize) {
        debug_assert!(!ring.indexed, "a noted ring is kept plain");
        self.on = true;
        let mask = ring.mask();
        let mut set = |k: usize| {
            let i = (ring.head + k) & mask;
            *super::slot(&mut self.slot, ring.slots[i], u32::MAX) = i as u32;
        };
        if ring.generation != self.generation {
            self.generation = ring.generation;
            (0..ring.len).for_each(&mut set);
            return;
        }
        let n = n.min(ring.len);
        (0..n).chain(ring.len - n..ring.len).for_each(set);
    }

    /// Whether joins are noted: the policy must then keep its ring plain, removing with
    /// [`Ring::remove_searched`].
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// `p`'s place in `ring` from the front, if its note still holds.
    fn noted(&self, ring: &Ring, p: u32) -> Option<usize> {
        self.slot.get(p as usize).and_then(|&i| {
            let k = (i as usize).wrapping_sub(ring.head) & ring.mask();
            ((i as usize) < ring.cap && ring.slots.get(i as usize) == Some(&p) && k < ring.len)
                .then_some(k)
        })
    }

    /// `2nd of 3 in the queue`, or `None` if `p` is not in `ring`.
    pub(crate) fn standing(&self, ring: &Ring, p: u32) -> Option<String> {
        let at = match self.noted(ring, p) {
            Some(k) => k,
            None if ring.generation == self.generation => return None,
            None => ring.iter().position(|q| q == p)?,
        };
        Some(format!(
            "{} of {} in the queue",
            crate::report::explain::ordinal(at + 1),
            ring.len()
        ))
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
