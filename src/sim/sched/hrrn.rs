//! Highest response ratio next (`"hrrn"`, SPEC §3a): non-preemptive; a free CPU takes the ready
//! process with the highest (waiting + burst) / burst, where waiting is the time since it
//! became ready and burst its next CPU burst (the kernel's read-ahead). Ties go to the process
//! that became ready first; a burst of 0 counts as an infinite ratio (such processes run first,
//! in the order they became ready).
//!
//! The ratio moves with time, so a heap cannot hold it: a kinetic tournament tree
//! ([`Kinetic`]) keeps the winner. Its leaves are not processes but *burst classes*: the
//! ready processes with the same next burst s, in the order they became ready. Within a class
//! the first to become ready always wins: it has waited at least as long for the same s, so
//! its ratio is at least the others' at every tick, and an equal ratio goes to the one ready
//! first. So the winner overall is the best of the classes' heads, and the tree holds one
//! leaf a class: a process that joins a class already held changes no leaf (O(log k), k the
//! classes held, for finding its class, O(1) else); a pick replaces its class's head at one
//! leaf. With every burst different that is the tree over processes it was before (its
//! bounds are in `kinetic.rs`: amortized O(α(n)·log² n) an operation); with few distinct
//! bursts, as in most workloads, the tree is small and the queues are walked in order, which
//! at 100,000 processes took the random reads of a leaf-to-root path of a large tree off
//! every pick (BENCHMARKS.md).
//!
//! A process removed from the middle of its class (a signal ended it while ready) leaves a
//! stale entry, recognized by its sequence number and dropped when it reaches the head (or
//! when stale entries outnumber live ones, to bound the memory).

use std::collections::{BTreeMap, VecDeque};

use super::kinetic::{Entry, Kinetic, NONE};
use super::{Key, Policy, Ready, SeededRng, UNLIMITED};

/// Stale entries allowed in a class beyond its live ones before it is compacted.
const SLACK: usize = 32;

/// A ready process in its class's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiting {
    p: u32,
    /// The tick it became ready.
    ready: u64,
    /// The order it became ready in; the entry is live while the process's own `seq` is this.
    seq: u64,
}

/// The ready processes with one next burst, in the order they became ready.
#[derive(Debug, Clone, Default)]
struct Class {
    burst: u64,
    queue: VecDeque<Waiting>,
    /// Live entries in `queue` (the others are stale).
    live: usize,
}

/// What the policy knows of a process.
#[derive(Debug, Clone, Copy, Default)]
struct Info {
    /// The sequence number of its ready entry; 0 while it is not ready.
    seq: u64,
    ready: u64,
    burst: u64,
}

/// Highest response ratio next.
#[derive(Debug, Clone, Default)]
pub struct Hrrn {
    /// The classes' heads.
    tree: Kinetic,
    /// By tree slot: the class whose head sits there.
    classes: Vec<Class>,
    /// The slot of each class held, by burst.
    slot_of: BTreeMap<u64, u32>,
    /// By process.
    info: Vec<Info>,
    len: usize,
    seq: u64,
}

impl Hrrn {
    /// An empty ready structure.
    pub fn new() -> Self {
        Hrrn::default()
    }

    /// What the policy knows of `p`, if it is ready.
    fn ready_info(&self, p: u32) -> Option<&Info> {
        self.info.get(p as usize).filter(|i| i.seq != 0)
    }

    /// Brings the tree up to tick `t`.
    fn advance(&mut self, t: u64) {
        self.tree.advance(t);
    }

    /// Whether a queued entry is live.
    fn live(info: &[Info], w: &Waiting) -> bool {
        info[w.p as usize].seq == w.seq
    }

    /// After the head of the class in `slot` left: drops stale entries from its front, then
    /// puts the new head in the tree, or frees the class if it has no live entry left.
    fn new_head(&mut self, slot: u32) {
        let class = &mut self.classes[slot as usize];
        if class.live == 0 {
            class.queue.clear();
            self.slot_of.remove(&class.burst);
            self.tree.release(slot);
            return;
        }
        while let Some(w) = class.queue.front() {
            if Self::live(&self.info, w) {
                break;
            }
            class.queue.pop_front();
        }
        let w = *class.queue.front().expect("a live entry");
        let burst = class.burst;
        self.tree.set(
            slot,
            Entry {
                p: w.p,
                ready: w.ready,
                burst,
                seq: w.seq,
            },
        );
    }

    /// Takes `p` (ready) out of its class.
    fn take(&mut self, p: u32) {
        let info = self.info[p as usize];
        let slot = self.slot_of[&info.burst];
        self.info[p as usize].seq = 0;
        self.len -= 1;
        let class = &mut self.classes[slot as usize];
        class.live -= 1;
        if class.queue.front().is_some_and(|w| w.p == p) {
            class.queue.pop_front();
            self.new_head(slot);
        } else if class.queue.len() > 2 * class.live + SLACK {
            let info = &self.info;
            class.queue.retain(|w| Self::live(info, w));
        }
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
        let ready = self.tree.now();
        *super::slot(&mut self.info, p, Info::default()) = Info {
            seq: self.seq,
            ready,
            burst,
        };
        self.len += 1;
        let w = Waiting {
            p,
            ready,
            seq: self.seq,
        };
        if let Some(&slot) = self.slot_of.get(&burst) {
            // Behind a head that stays.
            let class = &mut self.classes[slot as usize];
            class.queue.push_back(w);
            class.live += 1;
            return;
        }
        let slot = self.tree.alloc();
        if self.classes.len() <= slot as usize {
            self.classes.resize_with(slot as usize + 1, Class::default);
        }
        let class = &mut self.classes[slot as usize];
        class.burst = burst;
        class.queue.push_back(w);
        class.live = 1;
        self.slot_of.insert(burst, slot);
        self.tree.set(
            slot,
            Entry {
                p,
                ready,
                burst,
                seq: self.seq,
            },
        );
    }

    fn pick(&mut self, now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.advance(now);
        let slot = self.tree.winner();
        if slot == NONE {
            return None;
        }
        let p = self.tree.entry(slot).p;
        self.take(p);
        Some(p)
    }

    fn remove(&mut self, p: u32) -> bool {
        if self.info.get(p as usize).is_none_or(|i| i.seq == 0) {
            return false;
        }
        self.take(p);
        true
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

    fn peek(&mut self, now: u64) -> Option<u32> {
        self.advance(now);
        let slot = self.tree.winner();
        (slot != NONE).then(|| self.tree.entry(slot).p)
    }

    fn standing(&self, p: u32, now: u64) -> Option<String> {
        let e = self.ready_info(p)?;
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
        let e = self.ready_info(p)?;
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

    /// One class: first ready, first out, whatever is removed from its middle (enough to
    /// compact it) or its head; a class emptied and filled again.
    #[test]
    fn a_class_keeps_its_order_through_removals() {
        let mut h = Hrrn::new();
        for p in 0..200 {
            h.enqueue(p, Ready::Admit, 7, u64::from(p));
        }
        // The middle: after 20, all but every tenth (past the slack: compacted).
        for p in (21..200).filter(|p| p % 10 != 0) {
            assert!(h.remove(p));
        }
        assert!(h.remove(0));
        let want: Vec<u32> = (1..200).filter(|p| p <= &20 || p % 10 == 0).collect();
        assert!(h.classes[h.slot_of[&7] as usize].queue.len() <= 2 * want.len() + SLACK);
        let got: Vec<u32> = (0..want.len())
            .map(|_| pick(&mut h, 500).unwrap())
            .collect();
        assert_eq!(got, want);
        assert!(h.is_empty() && h.slot_of.is_empty());
        h.enqueue(5, Ready::Wake, 7, 600);
        h.enqueue(6, Ready::Wake, 3, 600);
        // At 603: 5 has 3/7, 6 has 3/3.
        assert_eq!(pick(&mut h, 603), Some(6));
        assert_eq!(pick(&mut h, 603), Some(5));
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
