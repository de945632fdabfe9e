//! Unit tests of the MLFQ policy, call by call as the kernel makes them. (The `sched-mlfq-*`
//! scenarios hold whole runs to `mlfq.py`'s output.)

use super::*;
use crate::scenario::PerLevel;

/// The level `p` is at.
fn level(m: &mut Mlfq, p: u32) -> usize {
    m.proc(p).level as usize
}

fn mlfq(quantum: &[u64], allotment: &[u64], boost: u64, io_reset: bool, io_bump: bool) -> Mlfq {
    let config = Config {
        queues: quantum.len() as u32,
        quantum: Some(PerLevel::Each(quantum.to_vec())),
        allotment: PerLevel::Each(allotment.to_vec()),
        boost,
        io_reset,
        io_bump,
    };
    let mut m = Mlfq::new(&config, 99);
    for p in 0..8 {
        m.on_create(p, super::super::Attrs::default());
    }
    m
}

fn used(ran: u64, slice_left: u64) -> Usage {
    Usage { ran, slice_left }
}

fn runner(p: u32) -> Runner {
    Runner { cpu: 0, p, ran: 0 }
}

/// Picks `p` (asserting it is next) and returns its slice.
fn run(m: &mut Mlfq, p: u32, now: u64) -> u64 {
    assert_eq!(m.pick(now, &mut SeededRng::new(0)), Some(p));
    m.slice(p, now)
}

/// `p`'s slice ran out at `now` and it joined its queue.
fn slice_end(m: &mut Mlfq, p: u32, ran: u64, now: u64) {
    m.charge(p, Leave::SliceEnd, used(ran, 0), now);
    m.enqueue(p, Ready::SliceEnd, 0, now);
}

#[test]
fn kernel_quantum_when_the_policy_gives_none() {
    let config = Config {
        queues: 2,
        quantum: None,
        allotment: PerLevel::All(1),
        boost: 0,
        io_reset: false,
        io_bump: false,
    };
    let mut m = Mlfq::new(&config, 7);
    m.enqueue(0, Ready::Admit, 0, 0);
    assert_eq!(run(&mut m, 0, 0), 7);
    slice_end(&mut m, 0, 7, 7);
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 7)), (1, 7));
    assert!(m.is_preemptive() && m.event_requeues_running());
    assert_eq!(m.next_event(), None);
}

#[test]
fn allotments_then_down_a_level_and_stay_at_the_bottom() {
    let mut m = mlfq(&[2, 3, 5], &[2, 1, 1], 0, false, false);
    m.enqueue(0, Ready::Admit, 0, 0);
    assert_eq!(run(&mut m, 0, 0), 2);
    slice_end(&mut m, 0, 2, 2);
    assert_eq!(
        (level(&mut m, 0), run(&mut m, 0, 2)),
        (0, 2),
        "one allotment left at the top"
    );
    slice_end(&mut m, 0, 2, 4);
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 4)), (1, 3));
    slice_end(&mut m, 0, 3, 7);
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 7)), (2, 5));
    slice_end(&mut m, 0, 5, 12);
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 12)), (2, 5));
}

#[test]
fn the_highest_queue_runs_and_preempts_keeping_the_rest_of_the_slice() {
    let mut m = mlfq(&[2, 4], &[1, 1], 0, false, false);
    m.enqueue(0, Ready::Admit, 0, 0);
    m.enqueue(1, Ready::Admit, 0, 0);
    run(&mut m, 0, 0);
    slice_end(&mut m, 0, 2, 2);
    assert_eq!(run(&mut m, 1, 2), 2, "the top queue first");
    slice_end(&mut m, 1, 2, 4);
    assert_eq!(run(&mut m, 0, 4), 4);
    assert_eq!(m.preempt(&[runner(0)], 5), None, "only level 1 is ready");
    m.enqueue(2, Ready::Admit, 0, 5);
    assert_eq!(
        m.preempt(&[runner(0)], 5),
        Some(0),
        "a new process is at the top"
    );
    m.charge(0, Leave::Preempted, used(1, 3), 5);
    m.enqueue(0, Ready::Preempted, 0, 5);
    assert_eq!(m.queues.queue(1), [0, 1], "back at the head of its queue");
    assert_eq!(run(&mut m, 2, 5), 2);
    assert_eq!(m.preempt(&[runner(2)], 5), None);
    slice_end(&mut m, 2, 2, 7);
    assert_eq!(m.queues.queue(1), [0, 1, 2]);
    assert_eq!(run(&mut m, 0, 7), 3, "the rest of its slice");
}

#[test]
fn of_several_runners_the_lowest_level_on_the_highest_cpu_is_preempted() {
    let mut m = mlfq(&[1, 1, 1], &[1, 1, 1], 0, false, false);
    for p in 0..4 {
        m.enqueue(p, Ready::Admit, 0, 0);
    }
    for p in 0..3 {
        run(&mut m, p, 0);
    }
    for (p, level) in [(0, 2), (1, 1), (2, 2)] {
        m.procs[p as usize].level = level;
    }
    let running = [0, 1, 2].map(|p| Runner { cpu: p, p, ran: 0 });
    assert_eq!(m.preempt(&running, 0), Some(2));
    m.queues.unlink(0, 3);
    m.queues.push_back(2, 3);
    m.procs[3].level = 2;
    assert_eq!(m.preempt(&running, 0), None, "ties keep the CPU");
}

#[test]
fn blocking_keeps_the_slice_or_with_io_reset_refills_it() {
    for io_reset in [false, true] {
        let mut m = mlfq(&[4, 8], &[2, 1], 0, io_reset, false);
        m.enqueue(0, Ready::Admit, 0, 0);
        run(&mut m, 0, 0);
        slice_end(&mut m, 0, 4, 4);
        assert_eq!(run(&mut m, 0, 4), 4);
        m.charge(0, Leave::Block, used(1, 3), 5);
        assert_eq!(m.next_event(), None);
        m.enqueue(0, Ready::Wake, 0, 9);
        let expect = if io_reset { 4 } else { 3 };
        assert_eq!((level(&mut m, 0), run(&mut m, 0, 9)), (0, expect));
        // With io_reset the allotment was refilled too: one more slice end stays.
        slice_end(&mut m, 0, expect, 9 + expect);
        assert_eq!(level(&mut m, 0), if io_reset { 0 } else { 1 });
    }
}

#[test]
fn blocking_as_the_slice_runs_out_costs_an_allotment_even_with_io_reset() {
    // mlfq.py refills at the I/O, then finds the slice's last tick and counts it.
    for (io_reset, allotment, down) in [(false, 1, 1), (true, 1, 1), (true, 2, 0)] {
        let mut m = mlfq(&[3, 6], &[allotment, 1], 0, io_reset, false);
        m.enqueue(0, Ready::Admit, 0, 0);
        run(&mut m, 0, 0);
        m.charge(0, Leave::Block, used(3, 0), 3);
        m.enqueue(0, Ready::Wake, 0, 8);
        let slice = if down == 0 { 3 } else { 6 };
        assert_eq!(
            (level(&mut m, 0), run(&mut m, 0, 8)),
            (down, slice),
            "{io_reset} {allotment}"
        );
    }
    // Without io_reset, a second allotment is used from what was left.
    let mut m = mlfq(&[3, 6], &[2, 1], 0, false, false);
    m.enqueue(0, Ready::Admit, 0, 0);
    run(&mut m, 0, 0);
    m.charge(0, Leave::Block, used(3, 0), 3);
    m.enqueue(0, Ready::Wake, 0, 8);
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 8)), (0, 3));
    m.charge(0, Leave::Block, used(3, 0), 11);
    m.enqueue(0, Ready::Wake, 0, 16);
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 16)), (1, 6));
}

#[test]
fn io_bump_goes_to_the_front_and_preempts_its_own_level() {
    let mut m = mlfq(&[5, 5], &[1, 1], 0, false, true);
    m.enqueue(0, Ready::Admit, 0, 0);
    m.enqueue(1, Ready::Admit, 0, 0);
    m.enqueue(2, Ready::Admit, 0, 0);
    run(&mut m, 0, 0);
    m.charge(0, Leave::Block, used(2, 3), 2);
    assert_eq!(run(&mut m, 1, 2), 5);
    m.enqueue(0, Ready::Wake, 0, 4);
    assert_eq!(m.queues.queue(0), [0, 2]);
    assert_eq!(m.preempt(&[runner(1)], 4), Some(0));
    m.charge(1, Leave::Preempted, used(2, 3), 4);
    m.enqueue(1, Ready::Preempted, 0, 4);
    assert_eq!(
        m.queues.queue(0),
        [0, 1, 2],
        "behind the process that preempted it"
    );
    assert_eq!(run(&mut m, 0, 4), 3);
    assert_eq!(
        m.preempt(&[runner(0)], 4),
        None,
        "a preempted process does not preempt"
    );
    // Bumped into a lower level than the running one: no preemption.
    slice_end(&mut m, 0, 3, 7);
    assert_eq!(run(&mut m, 1, 7), 3);
    m.charge(1, Leave::Block, used(1, 2), 8);
    assert_eq!(run(&mut m, 2, 8), 5);
    m.charge(2, Leave::Block, used(5, 0), 13);
    m.enqueue(2, Ready::Wake, 0, 14);
    assert_eq!(m.queues.queue(1), [2, 0]);
    assert_eq!(m.preempt(&[runner(1)], 14), None);
}

#[test]
fn a_boost_moves_everything_to_the_top_bottom_queue_first() {
    let mut m = mlfq(&[1, 2, 3], &[1, 1, 1], 10, false, false);
    assert_eq!(m.next_event(), None, "nothing admitted");
    for p in 0..5 {
        m.enqueue(p, Ready::Admit, 0, 0);
    }
    assert_eq!(m.next_event(), Some(10));
    // 0 and 1 to level 2, 2 to level 1, 3 blocked at level 1, 4 stays at the top.
    let mut now = 0;
    for p in 0..4 {
        run(&mut m, p, now);
        now += 1;
        slice_end(&mut m, p, 1, now);
    }
    assert_eq!(m.queues.queue(1), [0, 1, 2, 3]);
    assert_eq!(run(&mut m, 4, now), 1, "the top queue first");
    slice_end(&mut m, 4, 1, now + 1);
    now += 1;
    for p in [0, 1] {
        run(&mut m, p, now);
        now += 2;
        slice_end(&mut m, p, 2, now);
    }
    run(&mut m, 2, now);
    now += 1;
    m.charge(2, Leave::Preempted, used(1, 1), now);
    m.enqueue(2, Ready::Preempted, 0, now);
    run(&mut m, 2, now);
    m.charge(2, Leave::Block, used(1, 0), now + 1);
    assert_eq!(run(&mut m, 3, now + 1), 2);
    // At the boost the kernel requeues the running process 3 first.
    m.charge(3, Leave::Preempted, used(1, 1), 10);
    m.enqueue(3, Ready::Preempted, 0, 10);
    assert_eq!(m.next_event(), Some(10));
    m.on_event(10);
    assert_eq!(m.next_event(), Some(20));
    assert_eq!(
        m.queues.queue(0),
        [0, 1, 3, 4],
        "level 2 (0 1), then 1 (3), then 0 (4)"
    );
    for p in [0, 1, 3, 4] {
        assert_eq!((level(&mut m, p), run(&mut m, p, 10)), (0, 1));
    }
    m.enqueue(2, Ready::Wake, 0, 12);
    assert_eq!(
        (level(&mut m, 2), run(&mut m, 2, 12)),
        (0, 1),
        "blocked processes too"
    );
}

#[test]
fn no_boosts_while_everything_is_blocked_and_the_missed_one_is_made_later() {
    let mut m = mlfq(&[1, 4], &[1, 1], 5, false, false);
    m.enqueue(0, Ready::Admit, 0, 0);
    run(&mut m, 0, 0);
    slice_end(&mut m, 0, 1, 1);
    run(&mut m, 0, 1);
    m.charge(0, Leave::Block, used(2, 2), 3);
    assert_eq!((m.next_event(), level(&mut m, 0)), (None, 1));
    // Waking at 12: the boost of 5 (and of 10) moved it to the top; the next is at 15.
    m.enqueue(0, Ready::Wake, 0, 12);
    assert_eq!(m.next_event(), Some(15));
    assert_eq!((level(&mut m, 0), run(&mut m, 0, 12)), (0, 1));
    // Ending: no more boosts; a later arrival counts the boosts from its own tick.
    m.on_exit(0);
    assert_eq!(m.next_event(), None);
    m.enqueue(1, Ready::Admit, 0, 23);
    assert_eq!(m.next_event(), Some(25));
    // An arrival at a boost's tick: that boost (before it) is over.
    let mut m = mlfq(&[1, 4], &[1, 1], 5, false, false);
    m.enqueue(1, Ready::Admit, 0, 5);
    assert_eq!(m.next_event(), Some(10));
}

#[test]
fn remove_and_exit_keep_the_counts() {
    let mut m = mlfq(&[2, 2], &[1, 1], 4, false, true);
    for p in 0..4 {
        m.enqueue(p, Ready::Admit, 0, 0);
    }
    assert!(m.remove(1));
    assert!(!m.remove(1));
    m.on_exit(1);
    run(&mut m, 0, 0);
    m.charge(0, Leave::Block, used(1, 1), 1);
    m.on_exit(0);
    run(&mut m, 2, 1);
    m.on_exit(2);
    m.on_exit(5);
    assert_eq!((m.len(), m.active, m.blocked), (1, 1, 0));
    m.on_exit(3);
    assert_eq!((m.len(), m.active, m.next_event()), (0, 0, None));
    assert_eq!(m.pick(2, &mut SeededRng::new(0)), None);
}

#[test]
fn a_thread_set_aside_for_the_gil_rejoins_at_the_tail_unbumped() {
    // The kernel picks 1, finds its process's GIL held, and sets it aside; at the GIL's
    // release it rejoins as a wake. It did not block: io_bump does not apply.
    let mut m = mlfq(&[5, 5], &[1, 1], 0, false, true);
    for p in 0..3 {
        m.enqueue(p, Ready::Admit, 0, 0);
    }
    run(&mut m, 0, 0);
    run(&mut m, 1, 0);
    m.enqueue(1, Ready::Wake, 0, 2);
    assert_eq!(m.queues.queue(0), [2, 1], "the tail of its level");
    assert_eq!(
        m.preempt(&[runner(0)], 2),
        None,
        "no bump, so no preemption"
    );
    // A real wake still bumps.
    m.charge(0, Leave::Block, used(2, 3), 2);
    m.enqueue(0, Ready::Wake, 0, 3);
    assert_eq!(m.queues.queue(0), [0, 2, 1]);
    assert_eq!(m.preempt(&[runner(3)], 3), Some(0));
}

#[test]
fn a_bump_preempts_only_in_its_own_tick() {
    let mut m = mlfq(&[5, 5], &[1, 1], 0, false, true);
    for p in 0..2 {
        m.enqueue(p, Ready::Admit, 0, 0);
    }
    run(&mut m, 0, 0);
    m.charge(0, Leave::Block, used(1, 4), 1);
    run(&mut m, 1, 1);
    // 0 wakes at 3 and is bumped, but no CPU runs a process to preempt then (in the kernel:
    // every CPU in a context switch).
    m.enqueue(0, Ready::Wake, 0, 3);
    assert_eq!(m.preempt(&[runner(1)], 3), Some(0), "in its tick");
    assert_eq!(
        m.preempt(&[runner(1)], 4),
        None,
        "a tick later it waits at the front"
    );
    assert_eq!(m.queues.queue(0), [0]);
}

/// `requeue_pick` against `charge`, `enqueue` and `pick` in turn, at every slice end of a
/// long pseudo-random run over three levels with boosts, `io_bump`, blocks and wake-ups
/// (some at the tick of a slice end, so that front runs are live): the same pick and the
/// same state after, field for field. Both ways are taken: the process back alone at the
/// most urgent level, and another in front of it.
#[test]
fn one_call_at_a_slice_end_is_the_three() {
    for (io_reset, io_bump) in [(false, false), (true, true), (false, true)] {
        let mut m = mlfq(&[2, 3, 5], &[1, 2, 1], 17, io_reset, io_bump);
        let mut g = SeededRng::new(0);
        // Three processes, two of them often blocked: the one left runs alone.
        for p in 0..3 {
            m.enqueue(p, Ready::Admit, 0, 0);
        }
        let (mut t, mut x) = (0u64, 7u64);
        let (mut kept, mut other) = (0, 0);
        let mut running = m.pick(0, &mut g).unwrap();
        let mut blocked: Vec<u32> = Vec::new();
        let mut left = m.slice(running, 0);
        for _ in 0..20_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let ran = 1 + (x >> 33) % left;
            t += ran;
            left -= ran;
            while m.next_event().is_some_and(|e| e <= t) {
                m.on_event(t);
            }
            if !blocked.is_empty() && (x >> 40).is_multiple_of(4) {
                let q = blocked.remove(((x >> 44) as usize) % blocked.len());
                m.enqueue(q, Ready::Wake, 0, t);
            }
            if left > 0 && blocked.len() < 2 && (x >> 50).is_multiple_of(3) {
                m.charge(running, Leave::Block, used(ran, left), t);
                blocked.push(running);
                running = match m.pick(t, &mut g) {
                    Some(q) => q,
                    None => {
                        m.enqueue(blocked.remove(0), Ready::Wake, 0, t);
                        m.pick(t, &mut g).unwrap()
                    }
                };
            } else if left == 0 {
                let mut fused = m.clone();
                let q = fused.requeue_pick(running, used(ran, 0), t, &mut g);
                m.charge(running, Leave::SliceEnd, used(ran, 0), t);
                m.enqueue(running, Ready::SliceEnd, 0, t);
                assert_eq!(q, m.pick(t, &mut g));
                assert_eq!(format!("{fused:?}"), format!("{m:?}"));
                if q == Some(running) {
                    kept += 1;
                } else {
                    other += 1;
                }
                running = q.unwrap();
            } else {
                continue;
            }
            left = m.slice(running, t);
        }
        assert!(kept > 100 && other > 1_000, "{kept} kept, {other} others");
    }
}
