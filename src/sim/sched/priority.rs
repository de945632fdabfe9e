//! Priority scheduling (SPEC §3a): the ready process with the smallest priority number runs,
//! until it blocks or ends; with `preemptive`, a ready process with a strictly smaller number
//! than the least urgent running one takes its CPU; with `aging`, waiting lowers the number.
//!
//! Choices where the SPEC is silent:
//! - Aging counts from the tick a process became ready: one ready at tick r has its number
//!   lowered at r + T, r + 2T, … for as long as it stays ready. A process that leaves the ready
//!   structure (dispatched, or ended by a signal) loses what it had aged; the next time it
//!   becomes ready it starts again from its base number and from that tick.
//! - "Not below 0": a step takes the number to `max(0, number − S)`, and a number already at
//!   or below 0 (a negative base is allowed) does not age at all.
//! - A running process keeps, while it runs, the number it had when it was picked (what it
//!   aged while waiting included); that is what a ready process must beat to preempt it.
//!   Aging restarts from the base the next time it is ready. (Comparing against the base
//!   instead livelocks: with a context switch at least as long as the aging period, the
//!   waiting processes age below each newly dispatched one before it runs a tick, and
//!   nobody ever computes. Against the number at dispatch, each preemption in a row needs a
//!   strictly smaller number, which cannot go below 0, so every run makes progress;
//!   `tests/properties.rs` found the livelock.)
//! - Among equally least urgent running processes, the victim of a preemption is the one that
//!   has run the shortest since it was dispatched (it loses the least), then the highest CPU.
//!
//! Aging is exact and event driven: each ready process that can still age has its next aging
//! tick in a second heap, and [`Policy::next_event`] is the earliest of them. At the event the
//! due processes are aged and their keys in the ready heap updated, each in O(log n). The
//! kernel asks [`Policy::preempt`] after the event, so an aged process can preempt.

use super::keyed::KeyedHeap;
use super::{Attrs, Key, Policy, Ready, Runner, SeededRng, UNLIMITED};
use crate::scenario::policy::{Aging, PriorityParams};

/// Priority scheduling, optionally preemptive, optionally with aging.
#[derive(Debug, Clone, Default)]
pub struct Priority {
    preemptive: bool,
    aging: Option<Aging>,
    /// Each process's base priority number, by process index.
    base: Vec<i64>,
    /// The number each running process had when it was picked, by process index (`None`:
    /// never picked, its base).
    picked_at: Vec<Option<i64>>,
    /// Ready processes by (effective priority number, order they became ready).
    ready: KeyedHeap<(i64, u64)>,
    /// Ready processes that can still age, by (next aging tick, process index).
    next_aging: KeyedHeap<(u64, u32)>,
    /// Counts the times processes became ready, for ties.
    seq: u64,
}

impl Priority {
    /// The policy with these parameters.
    pub fn new(params: PriorityParams) -> Self {
        Priority {
            preemptive: params.preemptive,
            aging: params.aging,
            ..Priority::default()
        }
    }

    fn base_of(&self, p: u32) -> i64 {
        self.base.get(p as usize).copied().unwrap_or(0)
    }

    /// `p`'s priority number now: in the ready structure (aged), as picked, or its own.
    fn number(&self, p: u32) -> i64 {
        match self.ready.key(p) {
            Some((number, _)) => number,
            None => self
                .picked_at
                .get(p as usize)
                .copied()
                .flatten()
                .unwrap_or_else(|| self.base_of(p)),
        }
    }

    /// Schedules `p`'s next aging step after `from`, if its number can still go down.
    fn schedule_aging(&mut self, p: u32, number: i64, from: u64) {
        if let Some(a) = self.aging
            && number > 0
            && let Some(at) = from.checked_add(a.every)
        {
            self.next_aging.push(p, (at, p));
        }
    }
}

impl Policy for Priority {
    fn name(&self) -> &'static str {
        "priority"
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        *super::slot(&mut self.base, p, 0) = attrs.priority;
    }

    fn enqueue(&mut self, p: u32, _why: Ready, _burst: u64, now: u64) {
        self.seq += 1;
        let base = self.base_of(p);
        self.ready.push(p, (base, self.seq));
        self.schedule_aging(p, base, now);
    }

    fn pick(&mut self, _now: u64, _rng: &mut SeededRng) -> Option<u32> {
        let ((number, _), p) = self.ready.pop()?;
        // Dispatched: it runs with the number it reached; aging starts again from the base
        // the next time it is ready.
        self.next_aging.remove(p);
        *super::slot(&mut self.picked_at, p, None) = Some(number);
        Some(p)
    }

    fn remove(&mut self, p: u32) -> bool {
        self.next_aging.remove(p);
        self.ready.remove(p).is_some()
    }

    fn len(&self) -> usize {
        self.ready.len()
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        UNLIMITED
    }

    fn is_preemptive(&self) -> bool {
        self.preemptive
    }

    fn preempt(&mut self, running: &[Runner], _now: u64) -> Option<usize> {
        if !self.preemptive {
            return None;
        }
        let ((best, _), _) = self.ready.peek()?;
        // The least urgent running process: the largest number, then the shortest run since
        // dispatch, then the highest CPU.
        let number = |p: u32| {
            self.picked_at
                .get(p as usize)
                .copied()
                .flatten()
                .unwrap_or_else(|| self.base_of(p))
        };
        let (i, victim) = running
            .iter()
            .enumerate()
            .max_by_key(|(_, r)| (number(r.p), std::cmp::Reverse(r.ran), r.cpu))?;
        (best < number(victim.p)).then_some(i)
    }

    fn next_event(&self) -> Option<u64> {
        self.next_aging.peek().map(|((at, _), _)| at)
    }

    fn on_event(&mut self, now: u64) {
        let Some(a) = self.aging else {
            return;
        };
        let step = i64::try_from(a.step).unwrap_or(i64::MAX);
        while let Some(((at, _), p)) = self.next_aging.peek() {
            if at > now {
                break;
            }
            self.next_aging.pop();
            let Some((number, seq)) = self.ready.key(p) else {
                continue;
            };
            let aged = number.saturating_sub(step).max(0);
            // The order it became ready is kept: among equal numbers, it still waited longest.
            self.ready.update(p, (aged, seq));
            self.schedule_aging(p, aged, at);
        }
    }

    fn on_exit(&mut self, p: u32) {
        self.remove(p);
    }

    fn rule(&self) -> &'static str {
        if self.preemptive {
            "priority takes the smallest priority number, and a smaller newcomer preempts (ties: the one ready first)"
        } else {
            "priority takes the smallest priority number (ties: the one ready first)"
        }
    }

    fn peek(&mut self, _now: u64) -> Option<u32> {
        self.ready.peek().map(|(_, p)| p)
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        let number = self.number(p);
        let base = self.base_of(p);
        Some(if number == base {
            format!("priority {number}")
        } else {
            format!("priority {number}, aged from {base}")
        })
    }

    fn key(&self, p: u32, _ran: u64, _now: u64) -> Option<Key> {
        let number = self.number(p);
        Some(Key {
            what: "priority number",
            best: "smallest",
            value: i128::from(number),
            scale: 1,
            higher_first: false,
            tie: "the one ready first",
        })
    }

    fn event_name(&self) -> &'static str {
        "aging"
    }

    fn event_words(&self) -> String {
        match self.aging {
            Some(a) => format!(
                "aging: each process ready for another {} ticks has its priority number lowered by {} (not below 0)",
                a.every, a.step
            ),
            None => "none".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(preemptive: bool, aging: Option<(u64, u64)>) -> Priority {
        Priority::new(PriorityParams {
            preemptive,
            aging: aging.map(|(every, step)| Aging { every, step }),
        })
    }

    fn create(s: &mut Priority, prios: &[i64]) {
        for (p, &priority) in prios.iter().enumerate() {
            s.on_create(
                p as u32,
                Attrs {
                    priority,
                    ..Attrs::default()
                },
            );
        }
    }

    fn runner(cpu: u32, p: u32, ran: u64) -> Runner {
        Runner { cpu, p, ran }
    }

    #[test]
    fn smallest_number_first_ties_by_readiness() {
        let mut s = policy(false, None);
        let mut g = SeededRng::new(0);
        create(&mut s, &[3, 1, 4, 1, 2]);
        for p in [0, 1, 2, 3, 4] {
            s.enqueue(p, Ready::Admit, 0, 0);
        }
        let order: Vec<u32> = std::iter::from_fn(|| s.pick(0, &mut g)).collect();
        assert_eq!(order, [1, 3, 4, 0, 2]);
        assert_eq!(s.slice(1, 0), UNLIMITED);
        assert!(!s.is_preemptive());
        assert_eq!(s.next_event(), None);
    }

    #[test]
    fn preempts_the_least_urgent_runner_only_for_a_strictly_smaller_number() {
        let mut s = policy(true, None);
        create(&mut s, &[2, 4, 3, 3, 4]);
        let running = [runner(0, 0, 5), runner(1, 1, 5)];
        s.enqueue(3, Ready::Admit, 0, 0);
        // 3 < 4: the process with number 4 (on CPU 1) goes.
        assert_eq!(s.preempt(&running, 0), Some(1));
        // Against 2 and 3, a 3 is a tie: the CPU is kept.
        let running = [runner(0, 0, 5), runner(1, 2, 1)];
        assert_eq!(s.preempt(&running, 0), None);
        // Equally least urgent runners: the one that ran the shortest, then the highest CPU.
        let running = [runner(0, 1, 3), runner(1, 4, 2), runner(2, 0, 0)];
        assert_eq!(s.preempt(&running, 0), Some(1));
        let running = [runner(0, 1, 2), runner(1, 4, 2)];
        assert_eq!(s.preempt(&running, 0), Some(1));
        assert!(policy(false, None).preempt(&running, 0).is_none());
    }

    #[test]
    fn aging_counts_from_readiness_and_stops_at_zero() {
        let mut s = policy(false, Some((3, 2)));
        let mut g = SeededRng::new(0);
        create(&mut s, &[5, 1, -1]);
        s.enqueue(0, Ready::Admit, 0, 10);
        s.enqueue(2, Ready::Admit, 0, 10);
        // A negative number does not age; 5 ages at 13, 16, 19.
        assert_eq!(s.next_event(), Some(13));
        s.on_event(13);
        assert_eq!(s.ready.key(0), Some((3, 1)));
        s.enqueue(1, Ready::Wake, 0, 14);
        assert_eq!(s.next_event(), Some(16));
        s.on_event(16);
        assert_eq!(s.ready.key(0), Some((1, 1)));
        // Both due at 17 and 19 are taken by one late event, each at its own tick.
        s.on_event(19);
        assert_eq!(s.ready.key(0), Some((0, 1)));
        assert_eq!(s.ready.key(1), Some((0, 3)));
        assert_eq!(s.next_event(), None);
        // Ties by readiness: -1 first, then 0 (ready at 10) before 1 (ready at 14).
        assert_eq!(s.pick(19, &mut g), Some(2));
        assert_eq!(s.pick(19, &mut g), Some(0));
        // Dispatched and back: its base again, aging from the new tick.
        s.enqueue(0, Ready::Preempted, 0, 20);
        assert_eq!(s.ready.key(0), Some((5, 4)));
        assert_eq!(s.next_event(), Some(23));
        assert!(s.remove(0));
        assert_eq!(s.next_event(), None);
        assert_eq!(s.pick(20, &mut g), Some(1));
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn an_aged_process_preempts() {
        let mut s = policy(true, Some((2, 1)));
        create(&mut s, &[3, 2]);
        s.enqueue(0, Ready::Admit, 0, 0);
        let running = [runner(0, 1, 0)];
        assert_eq!(s.preempt(&running, 0), None);
        s.on_event(2);
        assert_eq!(s.preempt(&running, 2), None, "2 against 2 keeps the CPU");
        s.on_event(4);
        assert_eq!(s.preempt(&running, 4), Some(0));
    }

    #[test]
    fn a_runner_keeps_the_number_it_was_picked_with() {
        // Both age from 1 to 0 while waiting; the one picked runs at 0, so the other (0 too)
        // does not preempt it: comparing with its base (1) would, and again after every
        // dispatch, a livelock when a context switch takes as long as an aging step.
        let mut s = policy(true, Some((2, 1)));
        create(&mut s, &[1, 1]);
        s.enqueue(0, Ready::Admit, 0, 0);
        s.enqueue(1, Ready::Admit, 0, 0);
        s.on_event(2);
        let mut g = SeededRng::new(0);
        assert_eq!(s.pick(2, &mut g), Some(0));
        assert_eq!(s.preempt(&[runner(0, 0, 0)], 2), None);
        // Back in the queue it starts again from its base.
        s.charge(
            0,
            super::super::Leave::Block,
            super::super::Usage {
                ran: 1,
                slice_left: 0,
            },
            3,
        );
        s.enqueue(0, Ready::Wake, 0, 5);
        assert_eq!(s.pick(5, &mut g), Some(1));
        assert_eq!(s.pick(5, &mut g), Some(0));
    }

    #[test]
    fn aging_matches_a_tick_by_tick_model() {
        // Processes become ready and are dispatched at pseudo-random ticks; after every
        // event, each ready key must be what counting the waited ticks gives.
        let (every, step) = (3u64, 2i64);
        let mut s = policy(false, Some((every, step as u64)));
        let mut g = SeededRng::new(1);
        let n = 40u32;
        let prios: Vec<i64> = (0..n as i64).map(|i| (i * 7) % 23 - 3).collect();
        create(&mut s, &prios);
        let mut since = vec![None; n as usize];
        let mut x: u64 = 99;
        for now in 0..400u64 {
            if s.next_event() == Some(now) {
                s.on_event(now);
            }
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = ((x >> 33) % n as u64) as u32;
            if since[p as usize].is_none() {
                s.enqueue(p, Ready::Wake, 0, now);
                since[p as usize] = Some(now);
            }
            if (x >> 20).is_multiple_of(3)
                && let Some(q) = s.pick(now, &mut g)
            {
                since[q as usize] = None;
            }
            for (q, r) in since.iter().enumerate() {
                if let Some(r) = r {
                    let base = prios[q];
                    let want = if base <= 0 {
                        base
                    } else {
                        (base - ((now - r) / every) as i64 * step).max(0)
                    };
                    assert_eq!(
                        s.ready.key(q as u32).unwrap().0,
                        want,
                        "process {q} at {now}"
                    );
                }
            }
            assert!(s.next_event().is_none_or(|t| t > now));
        }
    }
}
