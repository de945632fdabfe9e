//! Tests of the deadline tree (`dltree.rs`).

use super::*;

/// The tree against a plain list, through a long pseudo-random run of inserts, removals
/// and threshold queries; and its depth stays logarithmic.
#[test]
fn agrees_with_a_list() {
    let mut t = DeadlineTree::default();
    let mut model: Vec<(i64, u64, i64, u32)> = Vec::new();
    let mut x: u64 = 99;
    let mut seq = 0;
    for step in 0..20_000u32 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let p = ((x >> 33) % 300) as u32;
        let d = ((x >> 20) % 50) as i64 - 10;
        let v = ((x >> 40) % 40) as i64 - 20;
        match step % 4 {
            0 | 1 => {
                if !t.contains(p) {
                    seq += 1;
                    t.insert(p, d, seq, v);
                    model.push((d, seq, v, p));
                }
            }
            2 => {
                let had = model.iter().position(|e| e.3 == p);
                assert_eq!(t.remove(p), had.is_some());
                if let Some(i) = had {
                    model.remove(i);
                }
            }
            _ => {
                let th = ((x >> 50) % 40) as i64 - 20;
                let want = model
                    .iter()
                    .filter(|e| e.2 <= th)
                    .min_by_key(|e| (e.0, e.1))
                    .map(|e| e.3);
                assert_eq!(t.first_with(|v| v <= th), want);
                assert_eq!(t.least_v(), model.iter().map(|e| e.2).min());
            }
        }
        assert_eq!(t.len(), model.len());
        if step % 64 == 0 {
            // Every subtree's minimum is right, not only the root's.
            for n in t.nodes.iter().filter(|n| n.held() && !n.in_lane()) {
                let child = |c: u32| (c != NIL).then(|| t.nodes[c as usize].minv);
                let want = [child(n.left), child(n.right), Some(n.v)];
                assert_eq!(Some(n.minv), want.into_iter().flatten().min());
            }
        }
    }
    // Depth of a tree of 300 random keys.
    for p in 0..300u32 {
        if !t.contains(p) {
            seq += 1;
            t.insert(p, (mix(seq) % 1000) as i64, seq, 0);
        }
    }
    let mut deepest = 0;
    for p in 0..300u32 {
        let (mut depth, mut a) = (0, p);
        while a != NIL {
            depth += 1;
            a = t.nodes[a as usize].parent;
        }
        deepest = deepest.max(depth);
    }
    assert!(deepest < 30, "depth {deepest}");
}

/// Deadlines that mostly grow, as a used-up request's do: most insertions go to the
/// lane, and queries, removals and the least vruntime take from both it and the tree.
#[test]
fn lane_and_tree_agree_with_a_list() {
    let mut t = DeadlineTree::default();
    let mut model: Vec<(i64, u64, i64, u32)> = Vec::new();
    let mut x: u64 = 7;
    let mut seq = 0;
    for step in 0..20_000i64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let p = ((x >> 33) % 200) as u32;
        let late = if (x >> 40).is_multiple_of(5) { 300 } else { 0 };
        let d = step * 3 + ((x >> 20) % 4) as i64 - late;
        let v = d - 30 + ((x >> 45) % 20) as i64;
        match (x >> 52) % 8 {
            0..=3 => {
                if !t.contains(p) {
                    seq += 1;
                    t.insert(p, d, seq, v);
                    model.push((d, seq, v, p));
                }
            }
            4 => {
                let had = model.iter().position(|e| e.3 == p);
                assert_eq!(t.remove(p), had.is_some());
                if let Some(i) = had {
                    model.remove(i);
                }
            }
            5 => assert_eq!(t.least_v(), model.iter().map(|e| e.2).min()),
            _ => {
                let th = step * 3 - 20 + ((x >> 12) % 16) as i64;
                let want = model
                    .iter()
                    .filter(|e| e.2 <= th)
                    .min_by_key(|e| (e.0, e.1))
                    .map(|e| e.3);
                // A query then a removal, or both in one (`take_first_with`, a pick's).
                let got = if (x >> 8).is_multiple_of(2) {
                    let got = t.first_with(|v| v <= th);
                    if let Some(p) = got {
                        assert!(t.remove(p));
                    }
                    got
                } else {
                    t.take_first_with(|v| v <= th)
                };
                assert_eq!(got, want);
                if let Some(p) = got {
                    assert!(!t.contains(p));
                    model.retain(|e| e.3 != p);
                }
            }
        }
        assert_eq!(t.len(), model.len());
        assert!(t.lane.len() <= 2 * t.lane_live + SLACK + 1);
        assert!(t.lane.front().is_none_or(|&e| t.live(e)));
    }
}

/// A process's record is one cache line, at the start of one.
#[test]
fn a_record_is_one_line() {
    assert_eq!(std::mem::size_of::<Node>(), 64);
    assert_eq!(std::mem::align_of::<Node>(), 64);
}

#[test]
fn ties_in_deadline_go_to_the_lower_sequence() {
    let mut t = DeadlineTree::default();
    t.insert(5, 10, 2, 0);
    t.insert(3, 10, 1, 0);
    t.insert(4, 9, 3, 7);
    assert_eq!(t.first_with(|v| v <= 0), Some(3));
    assert_eq!(t.first_with(|v| v <= 7), Some(4));
    assert_eq!(t.first_with(|v| v < 0), None);
    assert!(t.remove(3));
    assert!(!t.remove(3));
    assert_eq!(t.first_with(|v| v <= 0), Some(5));
}
