//! Shortest job first (`"sjf"`, non-preemptive) and shortest remaining time first (`"srtf"`,
//! preemptive), SPEC §3a: the ready process with the shortest next CPU burst runs, for as long
//! as it computes (no slice). Ties go to the process that became ready first.
//!
//! The burst is the kernel's read-ahead (`sim/burst.rs`) or, with `"estimate"`, a prediction
//! by exponential averaging, `τ(n+1) = α·t(n) + (1 − α)·τ(n)`, from the bursts each process
//! has completed. Predictions are kept in exact fixed point (see [`Predictor`]), so the book
//! examples, whose α is 1/2, come out exact, and no decision compares floating-point numbers.
//!
//! Every decision is O(log n) in the ready processes ([`KeyedHeap`]), but SRTF's
//! [`Policy::preempt`], which looks once at each running process: O(CPUs + log n).

use super::keyed::KeyedHeap;
use super::{Key, Leave, Policy, Ready, Runner, SeededRng, UNLIMITED, Usage};
use crate::scenario::policy::Estimate;

/// The fixed-point unit of predictions: 10⁻⁹ tick.
const SCALE: u128 = 1_000_000_000;

/// Exponential averaging in exact integer arithmetic.
///
/// α, an `f64` in the file, is rounded to the nearest multiple of 10⁻⁹, so an α written with
/// at most nine decimals (0.5, 0.125, 0.1) is taken exactly as written. τ is kept in units of
/// 10⁻⁹ tick; an update `α·t + (1 − α)·τ` is exact but for the product `(1 − α)·τ`, rounded
/// to the nearest unit (halves up). With α = 1/2 the result is exact for as long as τ has at
/// most nine binary fraction digits (τ·2⁹ whole), as in the book's example, where τ stays whole.
/// Every figure fits in a `u128`: α·t and (1 − α)·τ are each below 10⁹ · 2⁶⁴ · 10⁹.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Predictor {
    /// α in units of 10⁻⁹ (0 … `SCALE`).
    alpha: u128,
    /// τ0 in units of 10⁻⁹ tick.
    initial: u128,
}

impl Predictor {
    fn new(e: Estimate) -> Self {
        // `check` holds α to 0 … 1; clamping keeps a bad value from wrapping (NaN gives 0).
        let alpha = (e.alpha.clamp(0.0, 1.0) * SCALE as f64).round() as u128;
        Predictor {
            alpha: alpha.min(SCALE),
            initial: u128::from(e.initial) * SCALE,
        }
    }

    /// The prediction after a completed burst of `t` ticks, from the prediction `tau`.
    fn next(self, tau: u128, t: u64) -> u128 {
        self.alpha * u128::from(t) + ((SCALE - self.alpha) * tau + SCALE / 2) / SCALE
    }
}

/// What the policy keeps about a process.
#[derive(Debug, Clone, Copy, Default)]
struct Proc {
    /// The burst the kernel gave at its last enqueue (read-ahead mode).
    burst: u64,
    /// Its predicted next burst, in units of 10⁻⁹ tick (estimate mode).
    tau: u128,
    /// Ticks it has run of its current burst before its current stretch on a CPU (the sum of
    /// its charges since it was admitted or woke).
    ran: u64,
    /// When it last became ready: the tie-breaker.
    seq: u64,
}

/// SJF, or with `preemptive` SRTF.
#[derive(Debug, Clone)]
pub struct Sjf {
    preemptive: bool,
    estimate: Option<Predictor>,
    /// Ready processes by (remaining burst, order they became ready).
    ready: KeyedHeap<(u128, u64)>,
    procs: Vec<Proc>,
    seq: u64,
}

impl Sjf {
    /// SJF (`preemptive` false) or SRTF (true); with `estimate`, bursts are predicted rather
    /// than read ahead.
    pub fn new(preemptive: bool, estimate: Option<Estimate>) -> Self {
        Sjf {
            preemptive,
            estimate: estimate.map(Predictor::new),
            ready: KeyedHeap::default(),
            procs: Vec::new(),
            seq: 0,
        }
    }

    fn proc_mut(&mut self, p: u32) -> &mut Proc {
        let fresh = Proc {
            tau: self.estimate.map_or(0, |e| e.initial),
            ..Proc::default()
        };
        super::slot(&mut self.procs, p, fresh)
    }

    /// What is left of `p`'s burst once it has run `more` ticks beyond its charges: the
    /// read-ahead burst given at its last enqueue, or the prediction less what it has run of
    /// this burst (not below 0). In units of 10⁻⁹ tick with estimates, of ticks without.
    fn remaining(&self, p: u32, more: u64) -> u128 {
        let Some(pr) = self.procs.get(p as usize) else {
            return 0;
        };
        match self.estimate {
            None => u128::from(pr.burst.saturating_sub(more)),
            Some(_) => {
                let ran = u128::from(pr.ran) + u128::from(more);
                pr.tau.saturating_sub(ran * SCALE)
            }
        }
    }

    /// The prediction for `p`'s next burst, in units of 10⁻⁹ tick (estimate mode).
    #[cfg(test)]
    fn tau(&self, p: u32) -> Option<u128> {
        self.procs.get(p as usize).map(|pr| pr.tau)
    }
}

impl Policy for Sjf {
    fn name(&self) -> &'static str {
        if self.preemptive { "srtf" } else { "sjf" }
    }

    fn enqueue(&mut self, p: u32, _why: Ready, burst: u64, _now: u64) {
        self.seq += 1;
        let seq = self.seq;
        let pr = self.proc_mut(p);
        pr.burst = burst;
        pr.seq = seq;
        let key = self.remaining(p, 0);
        self.ready.push(p, (key, seq));
    }

    fn pick(&mut self, _now: u64, _rng: &mut SeededRng) -> Option<u32> {
        self.ready.pop().map(|(_, p)| p)
    }

    fn remove(&mut self, p: u32) -> bool {
        self.ready.remove(p).is_some()
    }

    fn len(&self) -> usize {
        self.ready.len()
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        UNLIMITED
    }

    /// Adds what `p` ran to its current burst; at a block the burst is complete, and with
    /// estimates it updates the prediction (a burst of 0, a process that blocks as soon as it
    /// runs, counts as one).
    fn charge(&mut self, p: u32, why: Leave, usage: Usage, _now: u64) {
        let estimate = self.estimate;
        let pr = self.proc_mut(p);
        pr.ran = pr.ran.saturating_add(usage.ran);
        match why {
            Leave::Block => {
                if let Some(e) = estimate {
                    pr.tau = e.next(pr.tau, pr.ran);
                }
                pr.ran = 0;
            }
            Leave::Exit => pr.ran = 0,
            Leave::SliceEnd | Leave::Preempted => {}
        }
    }

    fn is_preemptive(&self) -> bool {
        self.preemptive
    }

    /// The running process with the longest remaining burst (of equal ones, the one that
    /// became ready last, which would lose the tie) gives way to the shortest ready one if
    /// that is strictly shorter.
    fn preempt(&mut self, running: &[Runner], _now: u64) -> Option<usize> {
        if !self.preemptive {
            return None;
        }
        let ((shortest, _), _) = self.ready.peek()?;
        let (victim, left) = running
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let seq = self.procs.get(r.p as usize).map_or(0, |pr| pr.seq);
                (i, (self.remaining(r.p, r.ran), seq))
            })
            .max_by_key(|&(_, key)| key)?;
        (shortest < left.0).then_some(victim)
    }

    /// Bursts are read ahead unless they are predicted.
    fn needs_bursts(&self) -> bool {
        self.estimate.is_none()
    }

    fn on_exit(&mut self, p: u32) {
        if let Some(pr) = self.procs.get_mut(p as usize) {
            pr.ran = 0;
        }
    }

    fn rule(&self) -> &'static str {
        match (self.preemptive, self.estimate.is_some()) {
            (false, false) => "SJF takes the shortest next CPU burst (ties: the one ready first)",
            (true, false) => {
                "SRTF takes the shortest remaining burst, and a shorter newcomer preempts (ties: the one ready first)"
            }
            (false, true) => {
                "SJF takes the shortest predicted burst, τ by exponential averaging (ties: the one ready first)"
            }
            (true, true) => {
                "SRTF takes the shortest predicted remaining burst, τ less what it ran (ties: the one ready first)"
            }
        }
    }

    fn peek(&mut self, _now: u64) -> Option<u32> {
        self.ready.peek().map(|(_, p)| p)
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        let scale = if self.estimate.is_some() { SCALE } else { 1 };
        let left = super::fixed(self.remaining(p, 0) as i128, scale as i128);
        let what = match (self.preemptive, self.estimate.is_some()) {
            (false, false) => "next burst",
            (true, false) => "remaining burst",
            (false, true) => "predicted burst",
            (true, true) => "predicted remaining burst",
        };
        let when = if self.ready.contains(p) {
            ""
        } else {
            " when dispatched"
        };
        self.procs
            .get(p as usize)
            .map(|_| format!("{what} {left}{when}"))
    }

    fn key(&self, p: u32, ran: u64, _now: u64) -> Option<Key> {
        self.procs.get(p as usize)?;
        let what = match (self.preemptive, self.estimate.is_some()) {
            (false, false) => "next burst",
            (true, false) => "remaining burst",
            (false, true) => "predicted burst",
            (true, true) => "predicted remaining burst",
        };
        let scale = if self.estimate.is_some() { SCALE } else { 1 };
        Some(Key {
            what,
            best: "shortest",
            value: i128::try_from(self.remaining(p, ran)).unwrap_or(i128::MAX),
            scale: scale as i128,
            higher_first: false,
            tie: "the one ready first",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(s: &mut Sjf) -> Option<u32> {
        s.pick(0, &mut SeededRng::new(0))
    }

    fn run(ran: u64) -> Usage {
        Usage {
            ran,
            slice_left: UNLIMITED,
        }
    }

    #[test]
    fn shortest_burst_first_ties_by_readiness() {
        // Silberschatz's SJF example: P1 6, P2 8, P3 7, P4 3 → P4, P1, P3, P2.
        let mut s = Sjf::new(false, None);
        for (p, b) in [(0, 6), (1, 8), (2, 7), (3, 3), (4, 6)] {
            s.enqueue(p, Ready::Admit, b, 0);
        }
        assert!(s.needs_bursts() && !s.is_preemptive());
        assert_eq!(s.name(), "sjf");
        assert!(s.remove(1));
        assert!(!s.remove(1));
        let order: Vec<_> = std::iter::from_fn(|| pick(&mut s)).collect();
        assert_eq!(order, [3, 0, 4, 2]);
        assert_eq!(s.slice(3, 0), UNLIMITED);
        assert!(s.is_empty());
    }

    #[test]
    fn srtf_preempts_only_for_a_strictly_shorter_burst() {
        let mut s = Sjf::new(true, None);
        assert_eq!(s.name(), "srtf");
        s.enqueue(0, Ready::Admit, 8, 0);
        assert_eq!(pick(&mut s), Some(0));
        // At 1: P1 (4) against P0's 8 - 1 = 7 left.
        s.enqueue(1, Ready::Admit, 4, 1);
        let running = [Runner {
            cpu: 0,
            p: 0,
            ran: 1,
        }];
        assert_eq!(s.preempt(&running, 1), Some(0));
        // 7 left is not strictly more than 7.
        let mut t = Sjf::new(true, None);
        t.enqueue(0, Ready::Admit, 8, 0);
        pick(&mut t);
        t.enqueue(1, Ready::Admit, 7, 1);
        assert_eq!(t.preempt(&running, 1), None);
        // SJF never preempts.
        let mut n = Sjf::new(false, None);
        n.enqueue(0, Ready::Admit, 8, 0);
        pick(&mut n);
        n.enqueue(1, Ready::Admit, 1, 1);
        assert_eq!(n.preempt(&running, 1), None);
    }

    #[test]
    fn the_victim_is_the_longest_remaining_then_the_latest_ready() {
        let mut s = Sjf::new(true, None);
        s.enqueue(0, Ready::Admit, 10, 0);
        s.enqueue(1, Ready::Admit, 6, 0);
        s.enqueue(2, Ready::Admit, 9, 0);
        assert_eq!([pick(&mut s), pick(&mut s)], [Some(1), Some(2)]);
        // 0 waits with 10; running: 1 has 6 - 0 = 6 left, 2 has 9 - 3 = 6 left (tie: 2
        // became ready after 1, so 2 is the less urgent).
        s.enqueue(3, Ready::Admit, 2, 3);
        let running = [
            Runner {
                cpu: 0,
                p: 1,
                ran: 0,
            },
            Runner {
                cpu: 1,
                p: 2,
                ran: 3,
            },
        ];
        assert_eq!(s.preempt(&running, 3), Some(1));
        // The ready minimum is the 2, not the 10.
        s.remove(3);
        assert_eq!(s.preempt(&running, 3), None);
    }

    #[test]
    fn silberschatz_exponential_average() {
        // Operating System Concepts (§6.3.2 in the 9th ed.), the figure "Prediction of the
        // length of the next CPU burst": α = 1/2, τ0 = 10, bursts 6 4 6 4 13 13 13 → τ 10 8 6
        // 6 5 9 11 12.
        let est = Estimate {
            alpha: 0.5,
            initial: 10,
        };
        let mut s = Sjf::new(false, Some(est));
        assert!(!s.needs_bursts());
        let mut taus = Vec::new();
        s.enqueue(0, Ready::Admit, 999, 0);
        taus.push(s.tau(0).unwrap());
        for t in [6, 4, 6, 4, 13, 13, 13] {
            pick(&mut s);
            // A burst split by a preemption counts whole.
            s.charge(0, Leave::Preempted, run(1), 0);
            s.charge(0, Leave::Block, run(t - 1), 0);
            s.enqueue(0, Ready::Wake, 999, 0);
            taus.push(s.tau(0).unwrap());
        }
        let want: Vec<u128> = [10, 8, 6, 6, 5, 9, 11, 12]
            .iter()
            .map(|t| t * SCALE)
            .collect();
        assert_eq!(taus, want);
    }

    #[test]
    fn alpha_is_taken_to_nine_decimals_and_tau_rounds_to_the_nearest_unit() {
        let p = Predictor::new(Estimate {
            alpha: 0.1,
            initial: 1,
        });
        assert_eq!(p.alpha, 100_000_000);
        // 0.1 · 0 + 0.9 · 1 = 0.9 exactly.
        assert_eq!(p.next(SCALE, 0), 900_000_000);
        // 0.9 · 1e-9 tick = 0.9e-9: rounds to 1 unit.
        assert_eq!(p.next(1, 0), 1);
        let third = Predictor::new(Estimate {
            alpha: 1.0 / 3.0,
            initial: 0,
        });
        assert_eq!(third.alpha, 333_333_333);
        // α = 1 forgets the past; α = 0 never learns.
        let one = Predictor::new(Estimate {
            alpha: 1.0,
            initial: 5,
        });
        assert_eq!(one.next(one.initial, 7), 7 * SCALE);
        let zero = Predictor::new(Estimate {
            alpha: 0.0,
            initial: 5,
        });
        assert_eq!(zero.next(zero.initial, 7), 5 * SCALE);
        // The extremes do not overflow.
        assert_eq!(
            one.next(u128::from(u64::MAX) * SCALE, u64::MAX),
            u128::from(u64::MAX) * SCALE
        );
    }

    #[test]
    fn estimated_srtf_compares_the_prediction_less_what_was_run() {
        let est = Estimate {
            alpha: 0.5,
            initial: 10,
        };
        let mut s = Sjf::new(true, Some(est));
        // P0 predicted 10 runs 4, is preempted: 6 left predicted.
        s.enqueue(0, Ready::Admit, 0, 0);
        pick(&mut s);
        s.charge(0, Leave::Preempted, run(4), 4);
        s.enqueue(0, Ready::Preempted, 0, 4);
        assert_eq!(s.remaining(0, 0), 6 * SCALE);
        // P1 (predicted 10) is running and has run 5: 5 left, not more than P0's 6.
        s.enqueue(1, Ready::Admit, 0, 0);
        s.remove(1);
        let running = [Runner {
            cpu: 0,
            p: 1,
            ran: 5,
        }];
        assert_eq!(s.preempt(&running, 5), None);
        // Once it has run 3, it has 7 left: P0's 6 is shorter.
        let running = [Runner {
            cpu: 0,
            p: 1,
            ran: 3,
        }];
        assert_eq!(s.preempt(&running, 3), Some(0));
        // Past its prediction a process has 0 left, never less.
        let running = [Runner {
            cpu: 0,
            p: 1,
            ran: 50,
        }];
        assert_eq!(s.remaining(1, 50), 0);
        assert_eq!(s.preempt(&running, 50), None);
        // Blocking completes the burst of 4 + 2 = 6: τ = (6 + 10) / 2 = 8.
        pick(&mut s);
        s.charge(0, Leave::Block, run(2), 6);
        assert_eq!(s.tau(0), Some(8 * SCALE));
        s.enqueue(0, Ready::Wake, 0, 9);
        assert_eq!(s.remaining(0, 0), 8 * SCALE);
    }
}
