//! Linux's completely fair scheduler (CFS, Linux 2.6.23 – 6.5), SPEC §3a row `cfs`.
//!
//! Each process has a weight from its nice value (Linux's `sched_prio_to_weight`) and a
//! vruntime that grows by `ran × 1024 / weight` (fixed point, see [`super::weight`]). The
//! ready process with the least vruntime runs (ties: the one that became ready first), for a
//! slice of `max(min_granularity, latency × weight / W)` ticks, where W is the total weight of
//! the runnable processes (ready, running, or between a slice end and the queue), rounded
//! down and at least 1 tick.
//!
//! Placement, as Linux's `place_entity` before EEVDF (`GENTLE_FAIR_SLEEPERS` on,
//! `START_DEBIT` off): a new process starts at `min_vruntime`; a waking one at
//! `max(own, min_vruntime − latency/2)`, latency/2 taken in vruntime units of a nice-0 process
//! (as Linux subtracts `sysctl_sched_latency / 2` nanoseconds unweighted). `min_vruntime` is
//! the least vruntime among runnable processes, running ones counted with what they have run
//! so far, and never goes back (Linux's `update_min_vruntime`). It is brought up to date just
//! before a process joins or leaves the runnable set: between those moments the least
//! vruntime can only grow, so that is where its highest value falls.
//!
//! No wake-up preemption: a process runs its slice (or until it blocks or ends), and a
//! process that wakes with a smaller vruntime waits for the next slice end. (Linux's
//! `check_preempt_wakeup` would preempt when the difference passes `wakeup_granularity`;
//! leaving it out keeps each slice whole, and a schedule one can follow by hand.)
//!
//! Costs: enqueue, pick and remove are O(log n) on a keyed heap; `min_vruntime` and the
//! slice look at the processes on CPUs, at most twice the number of CPUs (the running ones,
//! and those whose slice just ended), never at the ready ones beyond the heap's top.

use super::keyed::KeyedHeap;
use super::weight::{FRAC_BITS, vdelta, weight};
use super::{Attrs, Key, Leave, Policy, Ready, SeededRng, Usage};
use crate::scenario::policy::CfsParams;

/// `since` of a process that is not accruing vruntime (not on a CPU).
const IDLE: u64 = u64::MAX;

/// A process as CFS sees it.
#[derive(Debug, Clone, Copy)]
struct Entity {
    weight: u64,
    vruntime: u64,
    /// The tick it started running (its slice was asked), or [`IDLE`].
    since: u64,
    /// Counted in the runnable weight: admitted or woken, and not yet blocked or ended.
    runnable: bool,
}

impl Default for Entity {
    fn default() -> Self {
        Entity {
            weight: weight(0),
            vruntime: 0,
            since: IDLE,
            runnable: false,
        }
    }
}

impl Entity {
    /// Its vruntime at `now`, counting the ticks it has run since it started running.
    fn vruntime_at(&self, now: u64) -> u64 {
        if self.since == IDLE {
            return self.vruntime;
        }
        let ran = now.saturating_sub(self.since);
        self.vruntime.saturating_add(vdelta(ran, self.weight))
    }
}

/// The completely fair scheduler.
#[derive(Debug, Clone)]
pub struct Cfs {
    latency: u64,
    min_granularity: u64,
    /// The ready processes by (vruntime, sequence).
    ready: KeyedHeap<(u64, u64)>,
    ents: Vec<Entity>,
    /// Runnable processes not in `ready`: picked (running or in a context switch), or charged
    /// at a slice end and not yet enqueued again. At most twice the number of CPUs.
    on_cpu: Vec<u32>,
    /// The total weight of the runnable processes.
    total_weight: u64,
    min_vruntime: u64,
    /// Counts enqueues: the order processes became ready, for ties.
    seq: u64,
    /// The latest tick the kernel has told of (for `remove` and `on_exit`, which carry none).
    clock: u64,
}

impl Cfs {
    /// CFS with `latency` and `min_granularity` in ticks.
    pub fn new(params: CfsParams) -> Self {
        Cfs {
            latency: params.latency.max(1),
            min_granularity: params.min_granularity.max(1),
            ready: KeyedHeap::default(),
            ents: Vec::new(),
            on_cpu: Vec::new(),
            total_weight: 0,
            min_vruntime: 0,
            seq: 0,
            clock: 0,
        }
    }

    fn ent(&mut self, p: u32) -> &mut Entity {
        super::slot(&mut self.ents, p, Entity::default())
    }

    fn tick(&mut self, now: u64) {
        self.clock = self.clock.max(now);
    }

    /// Brings `min_vruntime` up to the least vruntime of the runnable processes at `now`,
    /// never down.
    fn update_min_vruntime(&mut self, now: u64) {
        let queued = self.ready.peek().map(|((v, _), _)| v);
        let running = self
            .on_cpu
            .iter()
            .map(|&q| self.ents[q as usize].vruntime_at(now))
            .min();
        let least = match (queued, running) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(v) => v,
                None => return,
            },
        };
        self.min_vruntime = self.min_vruntime.max(least);
    }

    /// `p` leaves the runnable set (it blocked or ended), wherever it was.
    fn leave(&mut self, p: u32, now: u64) {
        self.update_min_vruntime(now);
        self.ready.remove(p);
        if let Some(i) = self.on_cpu.iter().position(|&q| q == p) {
            self.on_cpu.swap_remove(i);
        }
        let e = self.ent(p);
        if e.runnable {
            e.runnable = false;
            e.since = IDLE;
            let w = e.weight;
            self.total_weight -= w;
        }
    }

    /// Takes `p` off the CPU list (it is back in the ready heap).
    fn off_cpu(&mut self, p: u32) {
        if let Some(i) = self.on_cpu.iter().position(|&q| q == p) {
            self.on_cpu.swap_remove(i);
        }
    }
}

impl Policy for Cfs {
    fn name(&self) -> &'static str {
        "cfs"
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        *self.ent(p) = Entity {
            weight: weight(attrs.nice),
            ..Entity::default()
        };
    }

    fn enqueue(&mut self, p: u32, why: Ready, _burst: u64, now: u64) {
        self.tick(now);
        match why {
            Ready::Admit | Ready::Wake => {
                self.update_min_vruntime(now);
                let min = self.min_vruntime;
                // Half the latency, in vruntime units of nice 0: latency × 2^16 / 2.
                let bonus = self.latency.saturating_mul(1 << (FRAC_BITS - 1));
                let e = self.ent(p);
                e.vruntime = if why == Ready::Admit {
                    min
                } else {
                    e.vruntime.max(min.saturating_sub(bonus))
                };
                e.since = IDLE;
                if !e.runnable {
                    e.runnable = true;
                    let w = e.weight;
                    self.total_weight += w;
                }
            }
            Ready::SliceEnd | Ready::Preempted => self.off_cpu(p),
        }
        self.seq += 1;
        let v = self.ent(p).vruntime;
        self.ready.push(p, (v, self.seq));
    }

    fn pick(&mut self, now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.tick(now);
        let (_, p) = self.ready.pop()?;
        self.on_cpu.push(p);
        Some(p)
    }

    fn rule(&self) -> &'static str {
        "CFS takes the least vruntime (ticks run × 1024 / weight; ties: the one ready first)"
    }

    fn peek(&mut self, _now: u64) -> Option<u32> {
        // A ready process's vruntime does not move while it waits: the heap's order is the
        // order of the figures now.
        self.ready.peek().map(|(_, p)| p)
    }

    fn standing(&self, p: u32, now: u64) -> Option<String> {
        let e = self.ents.get(p as usize)?;
        Some(format!(
            "vruntime {}, weight {}",
            super::fixed(i128::from(e.vruntime_at(now)), 1 << FRAC_BITS),
            e.weight
        ))
    }

    fn key(&self, p: u32, _ran: u64, now: u64) -> Option<Key> {
        let e = self.ents.get(p as usize)?;
        Some(Key {
            what: "vruntime",
            best: "least",
            value: i128::from(e.vruntime_at(now)),
            scale: 1 << FRAC_BITS,
            higher_first: false,
            tie: "the one ready first",
        })
    }

    fn slice_end_reason(&self) -> Option<&'static str> {
        Some("ticks run × 1024 / weight added")
    }

    fn remove(&mut self, p: u32) -> bool {
        if !self.ready.contains(p) {
            return false;
        }
        self.leave(p, self.clock);
        true
    }

    fn len(&self) -> usize {
        self.ready.len()
    }

    /// `max(min_granularity, latency × weight / W)`, W counting `p` itself.
    fn slice(&mut self, p: u32, now: u64) -> u64 {
        self.tick(now);
        let (latency, min_granularity, total) =
            (self.latency, self.min_granularity, self.total_weight);
        let e = self.ent(p);
        e.since = now;
        let share = u128::from(latency) * u128::from(e.weight) / u128::from(total.max(e.weight));
        (share as u64).max(min_granularity).max(1)
    }

    fn charge(&mut self, p: u32, why: Leave, usage: Usage, now: u64) {
        self.tick(now);
        let e = self.ent(p);
        e.vruntime = e.vruntime.saturating_add(vdelta(usage.ran, e.weight));
        e.since = IDLE;
        if matches!(why, Leave::Block | Leave::Exit) {
            self.leave(p, now);
        }
    }

    fn on_exit(&mut self, p: u32) {
        if self.ents.get(p as usize).is_some_and(|e| e.runnable) {
            self.leave(p, self.clock);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One tick of a nice-0 process, in vruntime units.
    const TICK: u64 = 1 << FRAC_BITS;

    fn cfs() -> Cfs {
        Cfs::new(CfsParams {
            latency: 24,
            min_granularity: 3,
        })
    }

    fn create(c: &mut Cfs, p: u32, nice: i8) {
        c.on_create(
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

    #[test]
    fn slices_follow_weight_with_min_granularity_as_the_floor() {
        let mut c = cfs();
        let mut g = SeededRng::new(0);
        for (p, nice) in [(0, 0), (1, 5), (2, 10)] {
            create(&mut c, p, nice);
            c.enqueue(p, Ready::Admit, 0, 0);
        }
        // W = 1024 + 335 + 110 = 1469; ties at vruntime 0 go to the first ready.
        assert_eq!(c.pick(0, &mut g), Some(0));
        assert_eq!(c.slice(0, 0), 16);
        assert_eq!(c.slice(1, 0), 5);
        assert_eq!(c.slice(2, 0), 3, "24 x 110 / 1469 = 1, raised to 3");
        // Alone, a process gets the whole latency.
        let mut c = cfs();
        create(&mut c, 0, 7);
        c.enqueue(0, Ready::Admit, 0, 0);
        assert_eq!(c.pick(0, &mut g), Some(0));
        assert_eq!(c.slice(0, 0), 24);
    }

    #[test]
    fn the_least_vruntime_runs_and_charges_are_weighted() {
        let mut c = cfs();
        let mut g = SeededRng::new(0);
        create(&mut c, 0, 0);
        create(&mut c, 1, 5);
        c.enqueue(0, Ready::Admit, 0, 0);
        c.enqueue(1, Ready::Admit, 0, 0);
        assert_eq!(c.pick(0, &mut g), Some(0));
        c.slice(0, 0);
        c.charge(0, Leave::SliceEnd, usage(18), 18);
        assert_eq!(c.ents[0].vruntime, 18 * TICK);
        c.enqueue(0, Ready::SliceEnd, 0, 18);
        assert_eq!(c.pick(18, &mut g), Some(1));
        c.slice(1, 18);
        c.charge(1, Leave::SliceEnd, usage(5), 23);
        assert_eq!(c.ents[1].vruntime, 1_001_624);
        c.enqueue(1, Ready::SliceEnd, 0, 23);
        assert_eq!(c.pick(23, &mut g), Some(1), "1001624 < 18 x 65536");
    }

    #[test]
    fn placement_at_min_vruntime_and_half_a_latency_back_for_a_sleeper() {
        let mut c = cfs();
        let mut g = SeededRng::new(0);
        for p in 0..3 {
            create(&mut c, p, 0);
        }
        c.enqueue(0, Ready::Admit, 0, 0);
        c.enqueue(1, Ready::Admit, 0, 0);
        assert_eq!(c.pick(0, &mut g), Some(0));
        c.slice(0, 0);
        // 1 has slept from the start; 0 runs 100 ticks, then blocks: min_vruntime follows
        // the least runnable vruntime, 1's 0, and stays there.
        c.charge(0, Leave::SliceEnd, usage(100), 100);
        c.enqueue(0, Ready::SliceEnd, 0, 100);
        assert_eq!(c.pick(100, &mut g), Some(1));
        c.slice(1, 100);
        c.charge(1, Leave::Block, usage(0), 100);
        assert_eq!(c.min_vruntime, 0);
        // 0 runs on alone; a newcomer at 150 starts at its running vruntime (150 ticks).
        assert_eq!(c.pick(100, &mut g), Some(0));
        c.slice(0, 100);
        c.enqueue(2, Ready::Admit, 0, 150);
        assert_eq!(c.ents[2].vruntime, 150 * TICK);
        // 0 blocks at 160; min_vruntime is now 150 (2, waiting) and never goes back.
        c.charge(0, Leave::Block, usage(60), 160);
        assert_eq!(c.min_vruntime, 150 * TICK);
        // 1 wakes: max(0, 150 - 24/2) = 138 ticks.
        c.enqueue(1, Ready::Wake, 0, 170);
        assert_eq!(c.ents[1].vruntime, 138 * TICK);
        // 0 wakes with more than that of its own: it keeps its own 160.
        c.enqueue(0, Ready::Wake, 0, 170);
        assert_eq!(c.ents[0].vruntime, 160 * TICK);
        assert_eq!(c.pick(170, &mut g), Some(1));
        assert_eq!(c.total_weight, 3 * 1024);
    }

    #[test]
    fn removal_and_exit_give_back_the_weight() {
        let mut c = cfs();
        let mut g = SeededRng::new(0);
        for p in 0..3 {
            create(&mut c, p, -5);
            c.enqueue(p, Ready::Admit, 0, 0);
        }
        assert_eq!(c.total_weight, 3 * 3121);
        assert!(c.remove(1));
        assert!(!c.remove(1));
        assert_eq!(c.pick(0, &mut g), Some(0));
        c.slice(0, 0);
        c.on_exit(1);
        // A running process that ends (no charge) leaves the runnable weight too.
        c.on_exit(0);
        assert_eq!(c.total_weight, 3121);
        assert!(c.on_cpu.is_empty());
        assert_eq!(c.len(), 1);
        assert_eq!(c.pick(0, &mut g), Some(2));
        assert_eq!(c.slice(2, 0), 24);
    }
}
