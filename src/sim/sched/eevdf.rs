//! Linux's earliest eligible virtual deadline first (EEVDF, Linux 6.6 and later), SPEC §3a
//! row `eevdf`.
//!
//! Each process has a weight from its nice value and a vruntime `v` that grows by
//! `ran × 1024 / weight` (fixed point, see [`super::weight`]). V is the weighted average
//! vruntime of the runnable processes (ready, running, or between a slice end and the
//! queue; running ones counted with what they have run so far), and a process's lag is
//! `V − v`: it is eligible when its lag is at least 0, `v ≤ V`, compared exactly as
//! `v × Σw ≤ Σ w·v` (Linux's `vruntime_eligible`). Each request gets a virtual deadline
//! `d = v + base_slice × 1024 / weight`, set when the process starts a new request: when it
//! joins (admitted or woken) and when its slice is used up. The eligible ready process with
//! the earliest deadline runs (ties: the one that became ready first), for `base_slice` ticks.
//!
//! Placement, as Linux's `place_entity` with `PLACE_LAG`: a new process starts at V (lag 0);
//! a process that blocks keeps its lag, clamped to ± two slices' worth in vruntime
//! (`entity_lag`: `max(2 × slice, one tick)`), and when it wakes it is placed at
//! `V − lag × (W + w) / W` (W the runnable weight before it joins, the quotient truncated
//! toward zero as `div_s64` does), which leaves it with that same lag once its own weight has
//! moved V. With nothing else runnable it starts at V, as Linux places it with no lag then.
//! V of an empty set is the last V there was.
//!
//! No wake-up preemption: a process runs its slice, as Linux's `RUN_TO_PARITY` lets the
//! current task finish its request before a waking one is considered.
//!
//! With several CPUs a free CPU may find every ready process ineligible (the lagging ones are
//! running elsewhere); rather than idle beside ready work, it takes the ready process with
//! the least vruntime (ties: the earliest deadline), which is Linux's own fallback in
//! `pick_eevdf`.
//!
//! Costs: V needs no walk: `Σ w·v` (i128) and `Σ w` (i64) are kept as the set changes, and the
//! running processes' progress is `1024 × 2^16 × Σ (now − since)`, kept as a count and a sum
//! of start ticks. The ready processes sit in a [`DeadlineTree`] ordered by deadline and
//! augmented with each subtree's least vruntime: the pick is one descent, O(log n) expected,
//! as are enqueue and remove.

use super::dltree::{DeadlineTree, Node, OWNER_BITS};
use super::weight::{FRAC_BITS, NICE_0_WEIGHT, SCALE, vdelta, weight};
use super::{Attrs, Key, Leave, Policy, Ready, SeededRng, Usage};
use crate::scenario::policy::EevdfParams;

/// `since` of a process that is not accruing vruntime (not on a CPU).
const IDLE: u64 = u64::MAX;

/// One tick of a nice-0 process in vruntime units: what `--explain` divides by to show
/// vruntimes, lags and deadlines in ticks.
const TICK: i128 = 1 << FRAC_BITS;

/// How many picks ahead a pick prefetches the records of.
const AHEAD: usize = 8;

/// What EEVDF keeps of a process is its record in the [`DeadlineTree`] (one cache line): its
/// vruntime `v`, its `deadline`, its `lag` (`V − v` when it last blocked, clamped), `since`
/// (the tick it started running, or [`IDLE`]), and in the owner's bits its weight and
/// [`RUNNABLE`]. This is a new one's (nice 0, not running, not runnable).
const FRESH: Node = Node::new(0, 0, IDLE, 0, NICE_0_WEIGHT as u32);

/// Counted in the sums: admitted or woken, and not yet blocked or ended. (A weight is below
/// 2^17, so it and this flag fit in the owner's bits.)
const RUNNABLE: u32 = 1 << 29;

/// The weight in a record.
fn weight_of(n: &Node) -> u64 {
    u64::from(n.owner() & !RUNNABLE)
}

fn runnable(n: &Node) -> bool {
    n.owner() & RUNNABLE != 0
}

fn set_runnable(n: &mut Node, yes: bool) {
    let w = n.owner() & !RUNNABLE;
    n.set_owner(if yes { w | RUNNABLE } else { w });
}

/// A vruntime difference as an i64, saturating.
fn signed(d: u64) -> i64 {
    i64::try_from(d).unwrap_or(i64::MAX)
}

/// The earliest eligible virtual deadline first scheduler.
#[derive(Debug, Clone)]
pub struct Eevdf {
    base_slice: u64,
    /// The ready processes, and every process's record.
    ready: DeadlineTree,
    /// Σ w·v over the runnable processes (v as last charged).
    sum_wv: i128,
    /// Σ w over the runnable processes: below 2^49 (a weight is below 2^17, and there are
    /// fewer than 2^32 processes), so that a product with a vruntime is one 64 × 64-bit one.
    sum_w: i64,
    /// How many runnable processes are accruing (on a CPU with a slice), and the sum of the
    /// ticks they started at: their progress adds `SCALE × (count × now − sum)` to Σ w·v.
    accruing: u64,
    sum_since: i128,
    /// V when the runnable set was last left by a process: V of an empty set.
    last_avg: i64,
    /// Counts enqueues: the order processes became ready, for ties.
    seq: u64,
    /// The latest tick the kernel has told of (for `remove` and `on_exit`, which carry none).
    clock: u64,
}

impl Eevdf {
    /// EEVDF with a request of `base_slice` ticks.
    pub fn new(params: EevdfParams) -> Self {
        Eevdf {
            base_slice: params.base_slice.max(1),
            ready: DeadlineTree::default(),
            sum_wv: 0,
            sum_w: 0,
            accruing: 0,
            sum_since: 0,
            last_avg: 0,
            seq: 0,
            clock: 0,
        }
    }

    /// `p`'s record, made if it has none.
    #[inline]
    fn ent(&mut self, p: u32) -> &mut Node {
        self.ready.rec_mut(p, FRESH)
    }

    fn tick(&mut self, now: u64) {
        self.clock = self.clock.max(now);
    }

    /// Whether a process at `vruntime` is eligible at `now`: its lag is not negative
    /// (vruntime ≤ V, compared as Σ w·v against vruntime × Σ w, without a division).
    fn eligible_at(&self, vruntime: i64, now: u64) -> bool {
        i128::from(vruntime) * i128::from(self.sum_w) <= self.weighted_sum(now)
    }

    /// Σ w·v at `now`, running processes counted with what they have run since they started.
    #[inline]
    fn weighted_sum(&self, now: u64) -> i128 {
        // One 64 × 64-bit product: `accruing` is at most the number of CPUs, so that it fits.
        let progress = (u128::from(self.accruing) * u128::from(now)) as i128 - self.sum_since;
        self.sum_wv + i128::from(SCALE) * progress
    }

    /// V at `now`, rounded down (Linux's `avg_vruntime`); the last V with nothing runnable.
    fn avg_vruntime(&self, now: u64) -> i64 {
        if self.sum_w == 0 {
            return self.last_avg;
        }
        let sum = self.weighted_sum(now);
        // The same quotient in 64 bits when Σ w·v fits (a 128-bit division is a library
        // call): Σ w is positive, so that this cannot overflow.
        if let Ok(sum) = i64::try_from(sum) {
            return sum.div_euclid(self.sum_w);
        }
        let v = sum.div_euclid(i128::from(self.sum_w));
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }

    /// A request's length in vruntime for weight `w`: `base_slice × 1024 / w`.
    fn vslice(&self, w: u64) -> i64 {
        signed(vdelta(self.base_slice, w))
    }

    /// `p` stops accruing (it left its CPU): its progress is charged separately.
    fn stop_accruing(&mut self, p: u32) {
        let e = self.ent(p);
        let since = e.since;
        if since != IDLE {
            e.since = IDLE;
            self.accruing -= 1;
            self.sum_since -= i128::from(since);
        }
    }

    fn join(&mut self, p: u32) {
        let e = self.ent(p);
        if runnable(e) {
            return;
        }
        set_runnable(e, true);
        let (w, v) = (weight_of(e), e.v);
        self.sum_wv += i128::from(w) * i128::from(v);
        self.sum_w += w as i64;
    }

    /// `p` leaves the runnable set (it blocked or ended), wherever it was.
    fn leave(&mut self, p: u32, now: u64) {
        self.ready.remove(p);
        if !runnable(self.ent(p)) {
            return;
        }
        self.last_avg = self.avg_vruntime(now);
        self.stop_accruing(p);
        let e = self.ready.at(p);
        set_runnable(e, false);
        let (w, v) = (weight_of(e), e.v);
        self.sum_wv -= i128::from(w) * i128::from(v);
        self.sum_w -= w as i64;
    }

    /// Takes [`Eevdf::best`] out of the ready processes.
    #[inline]
    fn take_best(&mut self, now: u64) -> Option<u32> {
        let (sum, w) = (self.weighted_sum(now), i128::from(self.sum_w));
        let p = match self.ready.take_first_with(|v| i128::from(v) * w <= sum) {
            Some(p) => p,
            None => {
                let least = self.ready.least_v()?;
                self.ready.take_first_with(|v| v <= least)?
            }
        };
        // Under a steady load most picks take the lane's front, whose records lie at random
        // places of the tables: ask for those of a process a few picks ahead (a hint; no
        // effect on what is computed).
        if let Some(q) = self.ready.lane_at(AHEAD) {
            self.ready.prefetch(q);
        }
        Some(p)
    }

    /// The eligible ready process with the earliest deadline; if none is eligible, the one
    /// with the least vruntime.
    fn best(&mut self, now: u64) -> Option<u32> {
        let (sum, w) = (self.weighted_sum(now), i128::from(self.sum_w));
        self.ready
            .first_with(|v| i128::from(v) * w <= sum)
            .or_else(|| {
                let least = self.ready.least_v()?;
                self.ready.first_with(|v| v <= least)
            })
    }
}

impl Policy for Eevdf {
    fn name(&self) -> &'static str {
        "eevdf"
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        debug_assert!(!self.ready.contains(p));
        // Its weight is below 2^17 (the table's largest is 88761): it fits the owner's bits.
        let w = u32::try_from(weight(attrs.nice)).unwrap_or(OWNER_BITS) & !RUNNABLE;
        *self.ent(p) = Node::new(0, 0, IDLE, 0, w);
    }

    fn enqueue(&mut self, p: u32, why: Ready, _burst: u64, now: u64) {
        self.tick(now);
        match why {
            Ready::Admit | Ready::Wake => {
                let avg = self.avg_vruntime(now);
                let e = *self.ent(p);
                // Inflate the lag by (W + w) / W: V moves toward v as p joins, and this
                // is what leaves p with the lag it had (Linux's `place_entity`).
                let lag = if why == Ready::Wake && self.sum_w > 0 {
                    // Σ w + w is below 2^50. In 64 bits when the product fits: the same
                    // quotient (truncated toward zero) without a 128-bit division.
                    let (sum_w, w) = (self.sum_w, weight_of(&e) as i64);
                    match e.lag.checked_mul(sum_w + w) {
                        Some(x) => x / sum_w,
                        None => {
                            let (sum_w, w) = (i128::from(sum_w), i128::from(w));
                            let scaled = i128::from(e.lag) * (sum_w + w) / sum_w;
                            i64::try_from(scaled).unwrap_or(e.lag)
                        }
                    }
                } else {
                    0
                };
                let vslice = self.vslice(weight_of(&e));
                let e = self.ent(p);
                e.v = avg.saturating_sub(lag);
                e.deadline = e.v.saturating_add(vslice);
                e.since = IDLE;
                self.join(p);
            }
            // It stayed runnable (and in the sums) since its charge.
            Ready::SliceEnd | Ready::Preempted => self.join(p),
        }
        self.seq += 1;
        let e = self.ready.at(p);
        let (deadline, v) = (e.deadline, e.v);
        self.ready.insert(p, deadline, self.seq, v);
    }

    fn pick(&mut self, now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.tick(now);
        self.take_best(now)
    }

    /// What `charge` (a slice end), `enqueue` (a slice end) and `pick` do in turn, in one go:
    /// the record is looked up once, the vruntime's growth is added to Σ w·v as one 64 ×
    /// 64-bit product, and neither `enqueue`'s nor `charge`'s other cases are asked about.
    /// Under RR-IO-v1 nearly every dispatch comes this way (BENCHMARKS.md, fifteenth round).
    #[inline]
    fn requeue_pick(
        &mut self,
        p: u32,
        usage: Usage,
        now: u64,
        _rng: &mut SeededRng,
    ) -> Option<u32> {
        self.tick(now);
        let base_slice = self.base_slice;
        // `charge`: it stops accruing, its vruntime grows, and its new request begins.
        let e = self.ent(p);
        let since = std::mem::replace(&mut e.since, IDLE);
        let w = weight_of(e);
        let old = e.v;
        let v = old.saturating_add(signed(vdelta(usage.ran, w)));
        let deadline = v.saturating_add(signed(vdelta(base_slice, w)));
        (e.v, e.deadline) = (v, deadline);
        let was_runnable = runnable(e);
        set_runnable(e, true);
        if since != IDLE {
            self.accruing -= 1;
            self.sum_since -= i128::from(since);
        }
        if was_runnable {
            // `charge`'s `w × (v − old)`, the growth taken as a u64 (it is at least 0 and
            // below 2^64), which it is exactly.
            self.sum_wv += i128::from(w) * i128::from(v.wrapping_sub(old) as u64);
        } else {
            // `charge` counted nothing; `enqueue` joins it (`join`).
            self.sum_wv += i128::from(w) * i128::from(v);
            self.sum_w += w as i64;
        }
        // `enqueue`.
        self.seq += 1;
        self.ready.insert(p, deadline, self.seq, v);
        // `pick`.
        self.take_best(now)
    }

    #[inline]
    fn upcoming(&self, k: usize) -> Option<u32> {
        self.ready.lane_at(k)
    }

    fn rule(&self) -> &'static str {
        "EEVDF takes the eligible process (vruntime ≤ the average V, lag ≥ 0) with the earliest virtual deadline"
    }

    fn peek(&mut self, now: u64) -> Option<u32> {
        self.tick(now);
        self.best(now)
    }

    /// In ticks of a nice-0 process: a vruntime's unit is 2^-16 of one ([`TICK`]), not
    /// [`SCALE`], which is `1024 ×` that (the weight's factor in a charge).
    fn standing(&self, p: u32, now: u64) -> Option<String> {
        let e = self.ready.rec(p)?;
        let avg = self.avg_vruntime(now);
        let eligible = if self.eligible_at(e.v, now) {
            "eligible"
        } else {
            "not eligible"
        };
        let lag = i128::from(avg) - i128::from(e.v);
        Some(format!(
            "deadline {}, vruntime {}, lag {} (V {}: {eligible})",
            super::fixed(i128::from(e.deadline), TICK),
            super::fixed(i128::from(e.v), TICK),
            super::fixed(lag, TICK),
            super::fixed(i128::from(avg), TICK)
        ))
    }

    /// Only an eligible process has a key: the deadline is compared among those alone.
    fn key(&self, p: u32, _ran: u64, now: u64) -> Option<Key> {
        let e = self.ready.rec(p)?;
        self.eligible_at(e.v, now).then_some(Key {
            what: "virtual deadline of the eligible",
            best: "earliest",
            value: i128::from(e.deadline),
            scale: TICK,
            higher_first: false,
            tie: "the one ready first",
        })
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

    /// It stops accruing (if it was) and, runnable, starts again from `now`: the record is
    /// looked up once, as this is on the path of every dispatch.
    #[inline]
    fn slice(&mut self, p: u32, now: u64) -> u64 {
        self.tick(now);
        let e = self.ent(p);
        let (since, run) = (e.since, runnable(e));
        e.since = if run { now } else { IDLE };
        if since != IDLE {
            self.accruing -= 1;
            self.sum_since -= i128::from(since);
        }
        if run {
            self.accruing += 1;
            self.sum_since += i128::from(now);
        }
        self.base_slice
    }

    fn charge(&mut self, p: u32, why: Leave, usage: Usage, now: u64) {
        self.tick(now);
        self.stop_accruing(p);
        let e = self.ready.at(p);
        let w = weight_of(e);
        let old = e.v;
        e.v = old.saturating_add(signed(vdelta(usage.ran, w)));
        let grew = i128::from(e.v) - i128::from(old);
        if runnable(e) {
            self.sum_wv += i128::from(w) * grew;
        }
        match why {
            // The request is used up: a new one.
            Leave::SliceEnd => {
                let vslice = self.vslice(w);
                let e = self.ready.at(p);
                e.deadline = e.v.saturating_add(vslice);
            }
            Leave::Preempted => {}
            Leave::Block | Leave::Exit => {
                let v = self.ready.at(p).v;
                let limit = signed(vdelta(self.base_slice.saturating_mul(2), w));
                let lag = self.avg_vruntime(now).saturating_sub(v);
                self.ready.at(p).lag = lag.clamp(-limit, limit);
                self.leave(p, now);
            }
        }
    }

    fn on_exit(&mut self, p: u32) {
        if self.ready.rec(p).is_some() {
            self.leave(p, self.clock);
        }
    }
}

#[cfg(test)]
#[path = "eevdf_tests.rs"]
mod tests;
