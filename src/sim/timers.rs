//! Pending wake-ups (`io`, `sleep`), earliest first.
//!
//! Most runs set timers in the order they fire: every `io 20` of a round-robin run is set a
//! little later than the last one and lasts as long. Those go to the back of a FIFO, which
//! costs a few instructions; a timer that would fire before the last one queued goes to a
//! binary heap instead, and the earliest of the two fronts fires first. The order is exactly a
//! heap's: by tick, then the tick the process blocked, then pid, then index.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::sched::fifo::Fifo;

use crate::model::Cause;

/// One pending wake-up. The derived order is the firing order (fields compare in turn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timer {
    /// The tick it fires.
    pub at: u64,
    /// The tick the process blocked: of two wake-ups in one tick, the longer wait goes first.
    pub since: u64,
    pub pid: u32,
    /// The process's index.
    pub p: u32,
    /// What it ends.
    pub kind: TimerKind,
}

/// What a timer ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    /// An `io`.
    Io,
    /// A `sleep`.
    Sleep,
    /// A `join` with a timeout, unless the child ended first (then the timer is stale).
    JoinTimeout,
}

impl Timer {
    /// The cause of the wake-up it makes.
    pub(crate) fn cause(&self) -> Cause {
        match self.kind {
            TimerKind::Io => Cause::IoDone,
            TimerKind::Sleep => Cause::Wake,
            TimerKind::JoinTimeout => Cause::Timeout,
        }
    }
}

/// The pending wake-ups.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// Timers in firing order, each set no earlier in that order than the one before.
    fifo: Fifo<Timer>,
    /// The others.
    heap: BinaryHeap<Reverse<Timer>>,
}

impl Timers {
    #[inline(always)]
    pub(crate) fn push(&mut self, timer: Timer) {
        match self.fifo.back() {
            Some(last) if *last > timer => self.heap.push(Reverse(timer)),
            _ => self.fifo.push_back(timer),
        }
    }

    /// The tick of the earliest timer.
    #[inline(always)]
    pub(crate) fn next_at(&self) -> Option<u64> {
        self.peek().map(|t| t.at)
    }

    /// The earliest timer.
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<&Timer> {
        match (self.fifo.front(), self.heap.peek()) {
            (Some(a), Some(Reverse(b))) => Some(a.min(b)),
            (a, b) => a.or(b.map(|r| &r.0)),
        }
    }

    /// Takes the earliest timer if it fires at `t`. The kernel asks for each tick at which a
    /// timer fires, in order, so none is ever due before `t`.
    #[inline(always)]
    pub(crate) fn pop_due(&mut self, t: u64) -> Option<Timer> {
        // Nothing fires before `t` is asked for, so a front that is due is due at `t`.
        if let Some(a) = self.fifo.front()
            && a.at == t
            && self.heap.peek().is_none_or(|Reverse(b)| a < b)
        {
            return self.fifo.pop_front();
        }
        match self.heap.peek() {
            Some(Reverse(b)) if b.at == t => self.heap.pop().map(|r| r.0),
            _ => None,
        }
    }

    /// Takes the earliest timer if it fires at `t` and no other timer fires then (the lone
    /// wake-up of a tick, which the one-CPU loops settle in place); else leaves the timers as
    /// they were. As [`Timers::pop_due`], none is due before `t`.
    #[inline(always)]
    pub(crate) fn pop_lone_due(&mut self, t: u64) -> Option<Timer> {
        if self.heap.is_empty() {
            // The commonest case, the FIFO alone: its first two in order.
            let lone = self.fifo.front().is_some_and(|a| a.at == t)
                && self.fifo.get(1).is_none_or(|b| b.at != t);
            return if lone { self.fifo.pop_front() } else { None };
        }
        let from_fifo = self
            .fifo
            .front()
            .is_some_and(|a| a.at == t && self.heap.peek().is_none_or(|Reverse(b)| a < b));
        let timer = self.pop_due(t)?;
        if self.next_at() == Some(t) {
            // Put back where it was: the firing order is the timers' own order, whichever
            // of the two holds one.
            if from_fifo {
                self.fifo.push_front(timer);
            } else {
                self.heap.push(Reverse(timer));
            }
            return None;
        }
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(at: u64, since: u64, pid: u32) -> Timer {
        Timer {
            at,
            since,
            pid,
            p: pid,
            kind: TimerKind::Io,
        }
    }

    #[test]
    fn fires_in_the_order_of_a_heap_whatever_the_order_set() {
        // A small deterministic generator: timers set at rising ticks with mixed durations.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut timers = Timers::default();
        let mut heap = BinaryHeap::new();
        let mut now = 0;
        let mut fired = (Vec::new(), Vec::new());
        let mut used_heap = false;
        for pid in 0..2000u32 {
            now += next() % 3;
            let duration = if next() % 4 == 0 { next() % 50 } else { 20 };
            let t = timer(now + duration, now, pid);
            timers.push(t);
            heap.push(Reverse(t));
            used_heap |= !timers.heap.is_empty();
            // Fire what is due by `now`, tick by tick, as the kernel does.
            while let Some(at) = timers.next_at().filter(|&at| at <= now) {
                while let Some(t) = timers.pop_due(at) {
                    fired.0.push(t);
                }
            }
            while heap.peek().is_some_and(|r| r.0.at <= now) {
                fired.1.push(heap.pop().unwrap().0);
            }
            assert_eq!(timers.next_at(), heap.peek().map(|r| r.0.at));
        }
        while let Some(at) = timers.next_at() {
            while let Some(t) = timers.pop_due(at) {
                fired.0.push(t);
            }
        }
        while let Some(Reverse(t)) = heap.pop() {
            fired.1.push(t);
        }
        assert_eq!(fired.0.len(), 2000);
        assert_eq!(fired.0, fired.1);
        assert!(used_heap, "the mixed durations never reached the heap");
    }

    #[test]
    fn a_lone_timer_is_taken_and_two_due_together_are_left_as_they_were() {
        let mut timers = Timers::default();
        timers.push(timer(10, 0, 1));
        timers.push(timer(20, 1, 2));
        assert_eq!(timers.pop_lone_due(5), None);
        assert_eq!(timers.pop_lone_due(10).map(|t| t.pid), Some(1));
        // Two due at 30: one in the FIFO, one (set out of order) in the heap.
        timers.push(timer(30, 5, 3));
        timers.push(timer(30, 2, 4));
        assert!(!timers.heap.is_empty());
        assert_eq!(timers.pop_lone_due(20).map(|t| t.pid), Some(2));
        for _ in 0..2 {
            assert_eq!(timers.pop_lone_due(30), None);
        }
        // Left in their order: the longer wait (pid 4, since 2) first.
        assert_eq!(timers.pop_due(30).map(|t| t.pid), Some(4));
        assert_eq!(timers.pop_lone_due(30).map(|t| t.pid), Some(3));
        assert_eq!(timers.next_at(), None);
        // Two due together in the FIFO alone.
        timers.push(timer(40, 30, 5));
        timers.push(timer(40, 31, 6));
        assert_eq!(timers.pop_lone_due(40), None);
        assert_eq!(timers.pop_due(40).map(|t| t.pid), Some(5));
        assert_eq!(timers.pop_due(40).map(|t| t.pid), Some(6));
    }

    #[test]
    fn a_timer_due_before_the_last_one_set_goes_first() {
        let mut timers = Timers::default();
        timers.push(timer(30, 0, 1));
        timers.push(timer(10, 1, 2));
        assert_eq!(timers.next_at(), Some(10));
        assert_eq!(timers.pop_due(30), None);
        assert_eq!(timers.pop_due(10).map(|t| t.pid), Some(2));
        assert_eq!(timers.pop_due(30).map(|t| t.pid), Some(1));
        assert_eq!(timers.next_at(), None);
    }
}
