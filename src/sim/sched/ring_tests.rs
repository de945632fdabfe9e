//! The ring against a model deque, the work its removals cost, and `--explain`'s notes.

use super::*;

/// Positions told from notes agree with a search of the queue through pushes at both
/// ends, pops, growth (slots move) and removals from the middle (slots shift), whether
/// or not the note of the moment was made.
#[test]
fn positions_agree_with_a_search_of_the_queue() {
    let mut ring = Ring::default();
    let mut at = Positions::default();
    let searched = |ring: &Ring, p: u32| {
        let k = ring.iter().position(|q| q == p)?;
        Some(format!(
            "{} of {} in the queue",
            crate::report::explain::ordinal(k + 1),
            ring.len
        ))
    };
    let mut next = 0u32;
    for round in 0..400u32 {
        let n = (round % 5) as usize + 1;
        match round % 4 {
            0 | 1 => {
                for _ in 0..n {
                    ring.push_back(next);
                    next += 1;
                }
            }
            2 => {
                for _ in 0..n {
                    ring.push_front(next);
                    next += 1;
                }
            }
            _ => {
                for _ in 0..n {
                    ring.pop_front();
                }
                if round % 8 == 7 && ring.len > 2 {
                    let mid = ring.iter().nth(ring.len / 2).unwrap();
                    assert!(ring.remove_searched(mid));
                }
            }
        }
        // Every join is noted, as `--explain` notes it; a round of pops that moved slots
        // (a removal) goes unnoted: the stale notes must not be believed.
        if round % 4 != 3 {
            at.note(&ring, n);
            // Each queued process is then found without a search.
            for (k, p) in ring.iter().enumerate() {
                assert_eq!(at.noted(&ring, p), Some(k), "round {round}, process {p}");
            }
        }
        for p in 0..next {
            assert_eq!(
                at.standing(&ring, p),
                searched(&ring, p),
                "round {round}, process {p}"
            );
        }
    }
    assert!(ring.len > 100, "the ring grew past its first sizes");
    assert!(
        !ring.indexed,
        "removals on the noted path keep the ring plain"
    );
}

/// One step of the model test.
#[derive(Debug, Clone)]
enum Op {
    Back,
    Front,
    Pop,
    /// Removes the queued process at this fraction (of 256) of the queue.
    Remove(u8),
    /// Removes a process that is not queued (popped, removed, or never made).
    RemoveAbsent(u8),
    /// A process that left (popped or removed) joins again, at the back or front.
    Rejoin(u8, bool),
    /// A new process joins at the back and the front is taken, in one
    /// (`push_back_pop_front`).
    Turn,
    /// The front is taken and a new process joins at the back, if one was queued
    /// (`pop_front_push_back`).
    TurnIfAny,
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        6 => Just(Op::Back),
        2 => Just(Op::Front),
        3 => Just(Op::Pop),
        3 => any::<u8>().prop_map(Op::Remove),
        1 => any::<u8>().prop_map(Op::RemoveAbsent),
        2 => (any::<u8>(), any::<bool>()).prop_map(|(k, f)| Op::Rejoin(k, f)),
        3 => Just(Op::Turn),
        3 => Just(Op::TurnIfAny),
    ]
}

/// Runs `ops` on a ring and on a `VecDeque`, checking after each that they hold the
/// same processes in the same order and answer alike (pops, removals' `bool`, `len`,
/// `nth`); the times the ring turned indexed and turned plain again are returned.
fn against_the_model(ops: &[Op]) -> (usize, usize) {
    use std::collections::VecDeque;
    let mut ring = Ring::default();
    let mut model: VecDeque<u32> = VecDeque::new();
    let mut gone: Vec<u32> = vec![u32::MAX - 1];
    let mut next = 0u32;
    let mut turns = (0, 0);
    let pick = |n: usize, k: u8| (n * k as usize) / 256;
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Back | Op::Front => {
                if matches!(op, Op::Back) {
                    ring.push_back(next);
                    model.push_back(next);
                } else {
                    ring.push_front(next);
                    model.push_front(next);
                }
                next += 1;
            }
            Op::Turn => {
                model.push_back(next);
                let p = model.pop_front().unwrap();
                assert_eq!(ring.push_back_pop_front(next), p, "step {step}");
                next += 1;
                gone.push(p);
            }
            Op::TurnIfAny => {
                let p = model.pop_front();
                assert_eq!(ring.pop_front_push_back(next), p, "step {step}");
                if let Some(p) = p {
                    model.push_back(next);
                    next += 1;
                    gone.push(p);
                }
            }
            Op::Pop => {
                let p = model.pop_front();
                assert_eq!(ring.pop_front(), p, "step {step}");
                gone.extend(p);
            }
            Op::Remove(k) if !model.is_empty() => {
                let p = model.remove(pick(model.len(), k)).unwrap();
                assert!(ring.remove_item(p), "step {step}: {p} is queued");
                gone.push(p);
            }
            Op::Remove(_) => assert!(!ring.remove_item(0), "step {step}"),
            Op::RemoveAbsent(k) => {
                let p = gone[pick(gone.len(), k)];
                assert!(!ring.remove_item(p), "step {step}: {p} is not queued");
            }
            Op::Rejoin(k, front) => {
                if gone.len() > 1 {
                    let p = gone.swap_remove(1 + pick(gone.len() - 1, k));
                    if front {
                        ring.push_front(p);
                        model.push_front(p);
                    } else {
                        ring.push_back(p);
                        model.push_back(p);
                    }
                }
            }
        }
        let was = turns.0 > turns.1;
        if ring.indexed != was {
            if ring.indexed {
                turns.0 += 1;
            } else {
                turns.1 += 1;
            }
        }
        assert_eq!(ring.len(), model.len(), "step {step}");
        if let Some(ix) = ring.ix.as_deref().filter(|_| ring.indexed) {
            // A removal squeezes the holes out once they outnumber the processes (a pop
            // may leave more holes than processes; the next removal squeezes them).
            if matches!(op, Op::Remove(_)) {
                assert!(
                    ix.holes <= ring.count,
                    "step {step}: holes are squeezed out"
                );
            }
            assert!(ix.span <= ix.slots.len(), "step {step}");
        }
        if step % 16 == 0 {
            assert!(ring.iter().eq(model.iter().copied()), "step {step}");
            let k = step % (model.len() + 2);
            assert_eq!(ring.nth(k), model.get(k).copied(), "step {step}");
        }
    }
    assert!(ring.iter().eq(model.iter().copied()));
    while let Some(p) = model.pop_front() {
        assert_eq!(ring.pop_front(), Some(p));
    }
    assert_eq!((ring.pop_front(), ring.len()), (None, 0));
    turns
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// The ring is a deque with removal anywhere, plain or indexed, through joins at
    /// both ends, pops, removals of queued and of absent processes, and re-joins of
    /// processes that left (whose notes in the index are then stale).
    #[test]
    fn the_ring_is_a_deque_with_removal_anywhere(
        ops in proptest::collection::vec(op(), 0..3000)
    ) {
        against_the_model(&ops);
    }
}

/// The model test, on a run long enough to turn indexed, squeeze holes out, turn plain
/// and turn indexed again: that it does is checked, so the property test's cases do
/// reach the indexed ring.
#[test]
fn a_long_run_turns_indexed_and_back() {
    let mut rng = crate::sim::rng::SeededRng::new(13);
    let mut ops = Vec::new();
    for phase in 0..6 {
        for _ in 0..4000 {
            let r = rng.uniform(0, 99) as u8;
            ops.push(match (phase % 2, r) {
                (0, 0..=49) => Op::Back,
                (0, 50..=59) => Op::Front,
                (_, 60..=62) => Op::Turn,
                (_, 63..=64) => Op::TurnIfAny,
                (_, 0..=9) => Op::Back,
                (_, 10..=59) => Op::Pop,
                (_, 60..=84) => Op::Remove(r.wrapping_mul(37)),
                (_, 85..=89) => Op::RemoveAbsent(r.wrapping_mul(11)),
                _ => Op::Rejoin(r.wrapping_mul(53), r.is_multiple_of(2)),
            });
        }
    }
    let (indexed, plain) = against_the_model(&ops);
    assert!(
        indexed >= 2 && plain >= 1,
        "turned indexed {indexed}, plain {plain} times"
    );
}

/// A turn of a full plain ring (`push_back_pop_front`) takes the front and puts the
/// process in its slot without growing; the queue is then the rest, then the process.
#[test]
fn a_turn_of_a_full_ring_does_not_grow_it() {
    let mut ring = Ring::default();
    (0..4).for_each(|p| ring.push_back(p));
    while ring.len < ring.cap {
        ring.push_back(ring.len as u32);
    }
    let (cap, len) = (ring.cap, ring.len);
    let mut expected: Vec<u32> = ring.iter().collect();
    for p in 100..100 + 3 * cap as u32 {
        expected.push(p);
        assert_eq!(ring.push_back_pop_front(p), expected.remove(0));
        assert_eq!((ring.cap, ring.len), (cap, len));
        assert!(ring.iter().eq(expected.iter().copied()));
    }
    // An empty ring gives back the process itself and stays empty.
    let mut empty = Ring::default();
    assert_eq!(empty.push_back_pop_front(7), 7);
    assert_eq!((empty.len(), empty.pop_front()), (0, None));
}

/// Ending every process of a long queue, from the front, from the back and from the
/// middle out, reads or writes O(1) slots a removal: a search and a shift read or
/// write O(queue) (5·10^9 slots for the 100,000 here; 20 a process is allowed).
#[test]
fn removals_from_a_long_queue_cost_o1_each() {
    const N: u32 = 100_000;
    let orders: [Box<dyn Fn(u32) -> u32>; 3] = [
        Box::new(|i| i),
        Box::new(|i| N - 1 - i),
        Box::new(|i| {
            if i % 2 == 0 {
                N / 2 + i / 2
            } else {
                N / 2 - 1 - i / 2
            }
        }),
    ];
    for order in orders {
        let mut ring = Ring::default();
        (0..N).for_each(|p| ring.push_back(p));
        for i in 0..N {
            assert!(ring.remove_item(order(i)));
            assert!(!ring.remove_item(order(i)));
        }
        assert_eq!((ring.len(), ring.pop_front()), (0, None));
        assert!(ring.work <= 20 * N as usize, "{} slots", ring.work);
    }
}
