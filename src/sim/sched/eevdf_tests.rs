//! Tests of EEVDF (`eevdf.rs`).

use super::*;

/// One tick of a nice-0 process, in vruntime units.
const TICK: i64 = 1 << super::super::weight::FRAC_BITS;

fn eevdf() -> Eevdf {
    Eevdf::new(EevdfParams { base_slice: 3 })
}

fn create(e: &mut Eevdf, p: u32, nice: i8) {
    e.on_create(
        p,
        Attrs {
            nice,
            ..Attrs::default()
        },
    );
}

fn usage(ran: u64) -> Usage {
    Usage { ran, slice_left: 0 }
}

/// Runs `p` (just picked) from `at` for `ran` ticks and charges it.
fn run(e: &mut Eevdf, p: u32, at: u64, ran: u64, why: Leave) {
    assert_eq!(e.slice(p, at), 3);
    e.charge(p, why, usage(ran), at + ran);
}

#[test]
fn an_earlier_deadline_that_is_not_eligible_waits() {
    let mut e = eevdf();
    let mut g = SeededRng::new(0);
    create(&mut e, 0, 0);
    create(&mut e, 1, 19);
    e.enqueue(0, Ready::Admit, 0, 0);
    e.enqueue(1, Ready::Admit, 0, 0);
    // Deadlines 3 ticks and 3 x 1024 / 15 = 204.8 ticks.
    assert_eq!(e.ready.rec(1).unwrap().deadline, 13_421_772);
    assert_eq!(e.pick(0, &mut g), Some(0));
    run(&mut e, 0, 0, 3, Leave::SliceEnd);
    e.enqueue(0, Ready::SliceEnd, 0, 3);
    assert_eq!(e.ready.rec(0).unwrap().deadline, 6 * TICK);
    // V = 1024 x 3 / 1039 ticks < 3: 0 is not eligible, despite its deadline.
    assert_eq!(e.pick(3, &mut g), Some(1));
}

#[test]
fn a_sleeper_keeps_its_lag_and_a_newcomer_starts_at_v() {
    let mut e = eevdf();
    let mut g = SeededRng::new(0);
    for p in 0..3 {
        create(&mut e, p, 0);
    }
    e.enqueue(0, Ready::Admit, 0, 0);
    e.enqueue(1, Ready::Admit, 0, 0);
    assert_eq!(e.pick(0, &mut g), Some(0));
    run(&mut e, 0, 0, 3, Leave::SliceEnd);
    e.enqueue(0, Ready::SliceEnd, 0, 3);
    assert_eq!(e.pick(3, &mut g), Some(1));
    // 1 runs 1 tick and blocks: V = (3 + 1) / 2 = 2, its lag 1 tick.
    run(&mut e, 1, 3, 1, Leave::Block);
    assert_eq!(e.ready.rec(1).unwrap().lag, TICK);
    // A newcomer starts at V = 3 (0 alone), deadline 6; ties with 0 on deadline.
    e.enqueue(2, Ready::Admit, 0, 4);
    assert_eq!(
        (e.ready.rec(2).unwrap().v, e.ready.rec(2).unwrap().deadline),
        (3 * TICK, 6 * TICK)
    );
    // 1 wakes: its lag is inflated by (2048 + 1024) / 2048 to 1.5 ticks, so that V after it
    // joins, (3 + 3 + 1.5) / 3 = 2.5, is again 1 tick ahead of it.
    e.enqueue(1, Ready::Wake, 0, 4);
    assert_eq!(e.ready.rec(1).unwrap().v, 3 * TICK / 2);
    assert_eq!(e.avg_vruntime(4) - e.ready.rec(1).unwrap().v, TICK);
    assert_eq!(e.pick(4, &mut g), Some(1));
    assert_eq!(
        e.pick(4, &mut g),
        Some(0),
        "deadline tie: 0 was ready first"
    );
    assert_eq!(e.pick(4, &mut g), Some(2));
}

#[test]
fn the_lag_kept_is_at_most_two_requests() {
    let mut e = eevdf();
    let mut g = SeededRng::new(0);
    create(&mut e, 0, 0);
    create(&mut e, 1, 0);
    e.enqueue(0, Ready::Admit, 0, 0);
    e.enqueue(1, Ready::Admit, 0, 0);
    assert_eq!(e.pick(0, &mut g), Some(0));
    run(&mut e, 0, 0, 100, Leave::SliceEnd);
    e.enqueue(0, Ready::SliceEnd, 0, 100);
    assert_eq!(e.pick(100, &mut g), Some(1));
    // V = 50 ticks, 1 at 0: a lag of 50 ticks, clamped to 2 x 3.
    run(&mut e, 1, 100, 0, Leave::Block);
    assert_eq!(e.ready.rec(1).unwrap().lag, 6 * TICK);
    // 0 blocks too, ahead of V: a negative lag, clamped likewise.
    assert_eq!(e.pick(100, &mut g), Some(0));
    e.enqueue(1, Ready::Wake, 0, 100);
    run(&mut e, 0, 100, 0, Leave::Block);
    assert!(e.ready.rec(0).unwrap().lag < 0 && e.ready.rec(0).unwrap().lag >= -6 * TICK);
}

#[test]
fn with_nothing_eligible_a_free_cpu_takes_the_least_vruntime() {
    // Two CPUs: a heavy process (nice -20) runs and holds V near its own vruntime.
    let mut e = eevdf();
    let mut g = SeededRng::new(0);
    create(&mut e, 0, -20);
    create(&mut e, 1, 0);
    e.enqueue(0, Ready::Admit, 0, 0);
    e.enqueue(1, Ready::Admit, 0, 0);
    assert_eq!(e.pick(0, &mut g), Some(0), "the earlier deadline");
    e.slice(0, 0);
    assert_eq!(e.pick(0, &mut g), Some(1));
    run(&mut e, 1, 0, 3, Leave::SliceEnd);
    e.enqueue(1, Ready::SliceEnd, 0, 3);
    // V ≈ 0.07 tick: 1 (3 ticks) is not eligible, but it is all there is.
    assert!(i128::from(e.ready.rec(1).unwrap().v) * i128::from(e.sum_w) > e.weighted_sum(3));
    assert_eq!(e.pick(3, &mut g), Some(1));
}

/// `requeue_pick` against `charge`, `enqueue` and `pick` in turn, at every slice end of a
/// long pseudo-random run with several nice values, blocks and wake-ups: the same pick
/// and the same state after, field for field.
#[test]
fn one_call_at_a_slice_end_is_the_three() {
    let mut e = eevdf();
    let mut g = SeededRng::new(0);
    let nice = [-5, 0, 0, 3, 7, -20, 19, 1];
    for (p, &n) in (0..).zip(&nice) {
        create(&mut e, p, n);
        e.enqueue(p, Ready::Admit, 0, 0);
    }
    let (mut t, mut x, mut fused_ends) = (0, 11u64, 0);
    let mut running = e.pick(0, &mut g).unwrap();
    let mut blocked: Vec<u32> = Vec::new();
    e.slice(running, 0);
    for _ in 0..5_000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let ran = 1 + (x >> 33) % 5;
        t += ran;
        if !blocked.is_empty() && (x >> 40).is_multiple_of(3) {
            let q = blocked.remove(((x >> 44) as usize) % blocked.len());
            e.enqueue(q, Ready::Wake, 0, t);
        }
        if blocked.len() < 6 && (x >> 50).is_multiple_of(5) {
            e.charge(running, Leave::Block, usage(ran), t);
            blocked.push(running);
            running = match e.pick(t, &mut g) {
                Some(q) => q,
                None => {
                    e.enqueue(blocked.remove(0), Ready::Wake, 0, t);
                    e.pick(t, &mut g).unwrap()
                }
            };
        } else {
            let mut fused = e.clone();
            let q = fused.requeue_pick(running, usage(ran), t, &mut g);
            e.charge(running, Leave::SliceEnd, usage(ran), t);
            e.enqueue(running, Ready::SliceEnd, 0, t);
            assert_eq!(q, e.pick(t, &mut g));
            assert_eq!(format!("{fused:?}"), format!("{e:?}"));
            running = q.unwrap();
            fused_ends += 1;
        }
        e.slice(running, t);
    }
    assert!(fused_ends > 3_000, "{fused_ends}");
}

#[test]
fn removal_and_exit_leave_the_sums_empty() {
    let mut e = eevdf();
    let mut g = SeededRng::new(0);
    for p in 0..3 {
        create(&mut e, p, 3);
        e.enqueue(p, Ready::Admit, 0, 0);
    }
    assert!(e.remove(2));
    assert!(!e.remove(2));
    assert_eq!(e.pick(0, &mut g), Some(0));
    e.slice(0, 0);
    e.on_exit(0);
    e.on_exit(2);
    assert_eq!(e.pick(0, &mut g), Some(1));
    run(&mut e, 1, 0, 2, Leave::Exit);
    e.on_exit(1);
    assert_eq!((e.sum_w, e.sum_wv, e.accruing, e.sum_since), (0, 0, 0, 0));
    assert_eq!(e.len(), 0);
}
