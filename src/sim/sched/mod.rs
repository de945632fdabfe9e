//! Scheduling policies (SPEC section 3a): one file a policy, all behind [`Policy`].
//!
//! The kernel (`sim/mod.rs`) is mechanism: it knows when a process becomes ready, when a CPU
//! falls free, when a slice or burst ends, and it keeps the same-tick order of SPEC §3. At
//! each of those points it asks the policy, in the manner of SimSo's schedulers:
//!
//! | the kernel … | calls |
//! |---|---|
//! | creates a process (with its `priority`, `nice`, `tickets`) | [`Policy::on_create`] |
//! | makes a process ready (admit, wake, slice end, preemption) | [`Policy::enqueue`] |
//! | has a free CPU | [`Policy::pick`], then [`Policy::slice`] for how long it may run |
//! | takes a process off a CPU (slice end, preemption, block, exit) | [`Policy::charge`] |
//! | made processes ready while every CPU was busy | [`Policy::preempt`] |
//! | reaches the tick of a policy's own event (MLFQ's boost) | [`Policy::on_event`] |
//! | ends a process that was ready (a signal) | [`Policy::remove`] |
//!
//! A policy keeps its own per-process state, indexed by the kernel's process index (a `u32`
//! that never changes for the life of the run). Every decision is O(log n) or better in the
//! number of ready processes, so that a run of a million processes costs what its events cost.
//!
//! Round robin is the one policy the kernel's fast paths (`sim/fast.rs`) know: they are exact
//! for it alone, and [`Policy::fast_paths_exact`] says so.

mod cfs;
mod dltree;
mod eevdf;
mod fcfs;
pub(in crate::sim) mod fifo;
mod hrrn;
#[allow(dead_code)]
mod keyed;
mod kinetic;
mod levels;
mod lottery;
mod mlfq;
mod priority;
mod ring;
mod rr;
mod sjf;
mod stride;
mod weight;

pub use eevdf::Eevdf;
pub use lottery::Lottery;
pub use mlfq::Mlfq;
pub use rr::RoundRobin;

use super::rng::SeededRng;
pub use crate::report::explain::{Draw, Key};
use crate::scenario::{KernelConfig, PolicyConfig};

/// "No limit" for a slice.
pub const UNLIMITED: u64 = u64::MAX;

/// Process `p`'s entry in a table indexed by process, the table grown with `fill` to hold it:
/// every policy keeps such tables, and processes are created (and get their index) as the
/// run goes.
pub(crate) fn slot<T: Clone>(table: &mut Vec<T>, p: u32, fill: T) -> &mut T {
    let i = p as usize;
    if table.len() <= i {
        table.resize(i + 1, fill);
    }
    &mut table[i]
}

/// Why a process joins the ready structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// `new → ready`: its arrival tick, or its parent ran `start`.
    Admit,
    /// `blocked → ready`: its I/O, sleep, join or wait ended.
    Wake,
    /// Its slice ran out (it may yet keep its CPU, if it is picked again at once).
    SliceEnd,
    /// A more urgent process took its CPU, or the policy's event took every CPU back.
    Preempted,
}

/// Why a process leaves its CPU; [`Policy::charge`] is told with the time it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    /// Its slice ran out.
    SliceEnd,
    /// A more urgent process took its CPU, or the policy's event took every CPU back.
    Preempted,
    /// It blocked (`io`, `sleep`, `join`, `wait`).
    Block,
    /// It ended (by itself or by a signal).
    Exit,
}

/// What a process used of the CPU in the stretch that just ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Ticks it ran since it was dispatched (or kept its CPU with a new slice).
    pub ran: u64,
    /// Ticks left of its slice ([`UNLIMITED`] with no slice).
    pub slice_left: u64,
}

/// A process on a CPU, as [`Policy::preempt`] and [`Policy::on_event`] see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runner {
    /// The CPU.
    pub cpu: u32,
    /// The process index.
    pub p: u32,
    /// Ticks it has run since it was dispatched (or kept its CPU with a new slice).
    pub ran: u64,
}

/// A process's scheduling attributes, with the defaults and inheritance applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attrs {
    /// Lower is more urgent.
    pub priority: i64,
    /// −20 … 19.
    pub nice: i8,
    /// At least 1.
    pub tickets: u64,
    /// The process's pid at creation, for the policies whose ties go to the lowest pid.
    pub pid: u32,
}

impl Default for Attrs {
    fn default() -> Self {
        Attrs {
            priority: 0,
            nice: 0,
            tickets: 100,
            pid: 0,
        }
    }
}

/// A scheduling policy. See the module documentation for when the kernel calls what.
pub trait Policy {
    /// The name scenario files use (`"rr"`, `"mlfq"`, …).
    fn name(&self) -> &'static str;

    /// Process `p` was created with these attributes (before it is first made ready). When
    /// the kernel recycles records (`recycle.rs`), `p` may be the slot of a process that ended
    /// and was given back: forget all that was known of it.
    fn on_create(&mut self, p: u32, attrs: Attrs) {
        let _ = (p, attrs);
    }

    /// Process `p` becomes ready at tick `now`. `burst` is its next CPU burst (the `cpu`
    /// ticks it will run before it can next block or end) when [`Policy::needs_bursts`] says
    /// so, else 0.
    fn enqueue(&mut self, p: u32, why: Ready, burst: u64, now: u64);

    /// Processes that became ready for the same reason at the same tick, in the kernel's
    /// order (SPEC §3's same-tick order); `bursts` is empty or holds one burst each.
    fn enqueue_group(&mut self, ps: &[u32], why: Ready, bursts: &[u64], now: u64) {
        for (i, &p) in ps.iter().enumerate() {
            self.enqueue(p, why, bursts.get(i).copied().unwrap_or(0), now);
        }
    }

    /// Takes the ready process a free CPU runs next.
    fn pick(&mut self, now: u64, rng: &mut SeededRng) -> Option<u32>;

    /// `p`'s slice ran out at `now` and it stays ready: [`Policy::charge`] with
    /// [`Leave::SliceEnd`], [`Policy::enqueue`] with [`Ready::SliceEnd`] (no burst: for a
    /// policy that reads none), then [`Policy::pick`], in one call. A policy may do the same
    /// in fewer steps (EEVDF); the result must be the three calls' exactly. The kernel's
    /// slice-end loop (`fast_any.rs`) calls it. (Inlined always: for a policy in a box the
    /// loop then makes the three calls through the box as it did before this call was.)
    #[inline(always)]
    fn requeue_pick(&mut self, p: u32, usage: Usage, now: u64, rng: &mut SeededRng) -> Option<u32> {
        self.charge(p, Leave::SliceEnd, usage, now);
        self.enqueue(p, Ready::SliceEnd, 0, now);
        self.pick(now, rng)
    }

    /// `p`'s slice ran out at `now` with another process ready: [`Policy::pick`] takes that
    /// one, then `p` joins with [`Ready::SliceEnd`] ([`Policy::enqueue`], no burst), in one
    /// call; `None`, with nothing done, when no other process is ready. Nothing is charged:
    /// the one-CPU slice-end loop of the runs without a trace (`fast/lean.rs`), which calls
    /// it, is round robin's alone ([`Policy::fast_paths_exact`]), where a slice end charges
    /// nothing. Round robin turns its ring once (`Ring::pop_front_push_back`, ring.rs).
    #[inline(always)]
    fn pick_then_requeue(&mut self, p: u32, now: u64, rng: &mut SeededRng) -> Option<u32> {
        let q = self.pick(now, rng)?;
        self.enqueue(p, Ready::SliceEnd, 0, now);
        Some(q)
    }

    /// Removes `p` wherever it is (a signal ended it while ready); false if it was not there.
    fn remove(&mut self, p: u32) -> bool;

    /// The number of ready processes held.
    fn len(&self) -> usize;

    /// Whether no process is ready.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long `p`, just picked (or keeping its CPU after its slice ran out), may run:
    /// ticks, or [`UNLIMITED`].
    fn slice(&mut self, p: u32, now: u64) -> u64;

    /// `p` left its CPU at `now`, having used `usage`.
    fn charge(&mut self, p: u32, why: Leave, usage: Usage, now: u64) {
        let _ = (p, why, usage, now);
    }

    /// Whether a process that becomes ready can take a busy CPU ([`Policy::preempt`]).
    fn is_preemptive(&self) -> bool {
        false
    }

    /// With every CPU busy and processes ready: the index in `running` of the process to
    /// preempt, if a ready process is more urgent than one of them (the least urgent of
    /// those; ties keep the CPU). The kernel then charges it, makes it ready with
    /// [`Ready::Preempted`] and lets the CPU pick again; it asks again until the answer is
    /// `None`, so a policy must answer `Some` only for a strictly more urgent process. With
    /// `running` empty (every CPU busy with a process that has not run yet) the answer is
    /// `None` and nothing changes: the kernel's shortcuts skip that question.
    fn preempt(&mut self, running: &[Runner], now: u64) -> Option<usize> {
        let _ = (running, now);
        None
    }

    /// Whether the policy reads [`Policy::charge`] when a process blocks (the kernel skips
    /// the call, which is on the path of every `io`, when it does not).
    fn charges_blocks(&self) -> bool {
        true
    }

    /// Whether [`Policy::enqueue`] needs each process's next CPU burst.
    fn needs_bursts(&self) -> bool {
        false
    }

    /// The tick of the policy's next own event (MLFQ's boost, priority aging), if any.
    fn next_event(&self) -> Option<u64> {
        None
    }

    /// Whether the policy's event takes every running process back into the ready structure
    /// (MLFQ's boost). The kernel then charges each, makes it ready with
    /// [`Ready::Preempted`] before calling [`Policy::on_event`], and a process picked again
    /// at once keeps its CPU, as after a slice end.
    fn event_requeues_running(&self) -> bool {
        false
    }

    /// The policy's event at `now` (the tick [`Policy::next_event`] gave), after the slice
    /// ends of that tick and before its wake-ups and admissions join.
    fn on_event(&mut self, now: u64) {
        let _ = now;
    }

    /// `p` has ended: forget it.
    fn on_exit(&mut self, p: u32) {
        let _ = p;
    }

    /// The process that will be taken `k` picks from now, if the policy can tell; the kernel
    /// uses it to prefetch that process's record while it works on the current one.
    fn upcoming(&self, k: usize) -> Option<u32> {
        let _ = k;
        None
    }

    /// A process likely to be taken about `k` picks from now (or nearer, if the policy cannot
    /// see that far), perhaps wrongly: what the kernel prefetches the record of. Only a hint,
    /// unlike [`Policy::upcoming`], which `--explain` trusts.
    fn likely(&self, k: usize) -> Option<u32> {
        self.upcoming(k)
    }

    /// Processes one of which is likely to be taken some picks from now, for a policy whose
    /// picks land on random processes (lottery): the kernel prefetches their records, so that
    /// the memory system has a few picks' time to bring them (at 10^5 processes a random
    /// record takes longer to come than a pick takes). Several, as a guess made before the
    /// ready processes' changes are known; only hints, read right after a pick, and asked only
    /// of a policy whose [`Policy::hints_later`] is true. None by default.
    fn likely_later(&self) -> &[u32] {
        &[]
    }

    /// Whether [`Policy::likely_later`] ever names a process (the kernel asks once, and then
    /// asks it only if so: a boxed policy's call is not inlined away).
    fn hints_later(&self) -> bool {
        false
    }

    /// Whether the kernel's fast paths (`sim/fast.rs`) give exactly what the general rounds
    /// give under this policy. They assume a FIFO ready structure in which a slice end goes
    /// to the tail, a slice of the same length every time but after a block, no preemption,
    /// no event of the policy's own, and nothing charged at a slice end: round robin.
    fn fast_paths_exact(&self) -> bool {
        false
    }

    /// The kernel's fast paths were turned off (`Kernel::disable_fast_paths`: the tests run
    /// every scenario with them on and off and compare the reports): a policy with shortcuts
    /// of its own (lottery's draw among equal tickets) turns them off too, so that its general
    /// path decides from now on.
    fn disable_shortcuts(&mut self) {}

    /// The rule [`Policy::pick`] chooses by, in words a student can check against the book
    /// (for `--explain`).
    fn rule(&self) -> &'static str {
        "the policy's choice"
    }

    /// Where process `p` stands by that rule (`"remaining burst 3"`, `"queue 1, …"`), for
    /// `--explain`; `None` when the policy has nothing to tell of it.
    fn standing(&self, p: u32, now: u64) -> Option<String> {
        let _ = (p, now);
        None
    }

    /// Where a process that becomes ready for `why` is put, in words (for `--explain`).
    fn placement(&self, why: Ready) -> String {
        let _ = why;
        "ranked by the rule".to_owned()
    }

    /// What the policy's own event ([`Policy::on_event`]) does, in words (for `--explain`).
    fn event_words(&self) -> String {
        "the policy's own timed event".to_owned()
    }

    /// The event's name (`boost`, `aging`), for `--explain`'s lines of what it moved.
    fn event_name(&self) -> &'static str {
        "the policy's event"
    }

    /// The figure the rule compares for `p`, `ran` ticks into its stretch if it is running
    /// (0 if ready), for `--explain` to say why one process came before another (`shortest
    /// remaining burst 3 < 5`); `None` when the rule compares no figure (a FIFO's order, a
    /// draw) or `p` has none now (an EEVDF process that is not eligible).
    fn key(&self, p: u32, ran: u64, now: u64) -> Option<Key> {
        let _ = (p, ran, now);
        None
    }

    /// Why a slice end moves a process's [`Policy::key`] (`allotment used up`), for
    /// `--explain`; `None`: the key says it.
    fn slice_end_reason(&self) -> Option<&'static str> {
        None
    }

    /// The draw of the last [`Policy::pick`], for a policy that draws (lottery), for
    /// `--explain`: asked right after the pick, before anything else changes the policy.
    fn last_draw(&self) -> Option<Draw> {
        None
    }

    /// The ready process [`Policy::pick`] would take at `now`: `--explain` names the first by
    /// the rule's figure with it, without reading every ready process, and the kernel, before
    /// it weighs a preemption with the GIL on, sets aside the heads the GIL bars
    /// (`Kernel::set_aside_barred_heads` in `decide.rs`), so results depend on it: a `Some` must be exactly the
    /// process the next `pick` at `now` returns. `None` when the policy draws (lottery) or
    /// compares no figure (a FIFO). It must change nothing a pick or a figure depends on
    /// (bringing a structure up to `now`, as `pick` would, is fine).
    fn peek(&mut self, now: u64) -> Option<u32> {
        let _ = now;
        None
    }

    /// `ps` just joined the ready structure for `why` (for `--explain` only: a policy
    /// that tells a queue position notes where they are, so that [`Policy::standing`]
    /// need not search its queue).
    fn noted_joined(&mut self, ps: &[u32], why: Ready) {
        let _ = (ps, why);
    }
}

/// The policy a scenario names: round robin, lottery, MLFQ and EEVDF as themselves (the kernel
/// is then built for each alone, and its calls are inlined into the fast paths), any other
/// behind a box.
pub enum Built {
    /// Round robin.
    Rr(RoundRobin),
    /// Lottery.
    Lottery(Lottery),
    /// MLFQ.
    Mlfq(Mlfq),
    /// EEVDF.
    Eevdf(Eevdf),
    /// Any other policy.
    Other(Box<dyn Policy>),
}

/// The policy that `kernel.policy` names, with its parameters.
pub fn build(k: &KernelConfig) -> Built {
    let quantum = |q: Option<u64>| q.unwrap_or(k.quantum);
    let other: Box<dyn Policy> = match &k.policy {
        PolicyConfig::Rr(c) => {
            return Built::Rr(RoundRobin::new(
                quantum(c.quantum),
                k.wake_to,
                k.slice_after_block,
            ));
        }
        PolicyConfig::Fcfs(_) => Box::new(fcfs::Fcfs::new()),
        PolicyConfig::Sjf(c) => Box::new(sjf::Sjf::new(false, c.estimate)),
        PolicyConfig::Srtf(c) => Box::new(sjf::Sjf::new(true, c.estimate)),
        PolicyConfig::Priority(c) => Box::new(priority::Priority::new(*c)),
        PolicyConfig::Hrrn(_) => Box::new(hrrn::Hrrn::new()),
        PolicyConfig::Mlfq(m) => return Built::Mlfq(Mlfq::new(m, k.quantum)),
        PolicyConfig::Lottery(c) => return Built::Lottery(Lottery::new(quantum(c.quantum))),
        PolicyConfig::Stride(c) => Box::new(stride::Stride::new(c.big, quantum(c.quantum))),
        PolicyConfig::Cfs(c) => Box::new(cfs::Cfs::new(*c)),
        PolicyConfig::Eevdf(c) => return Built::Eevdf(Eevdf::new(*c)),
    };
    Built::Other(other)
}

/// A boxed policy is a policy: every call forwards.
impl<T: Policy + ?Sized> Policy for Box<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn on_create(&mut self, p: u32, attrs: Attrs) {
        (**self).on_create(p, attrs)
    }
    fn enqueue(&mut self, p: u32, why: Ready, burst: u64, now: u64) {
        (**self).enqueue(p, why, burst, now)
    }
    fn enqueue_group(&mut self, ps: &[u32], why: Ready, bursts: &[u64], now: u64) {
        (**self).enqueue_group(ps, why, bursts, now)
    }
    fn pick(&mut self, now: u64, rng: &mut SeededRng) -> Option<u32> {
        (**self).pick(now, rng)
    }
    fn remove(&mut self, p: u32) -> bool {
        (**self).remove(p)
    }
    // `requeue_pick` and `pick_then_requeue` are not forwarded: their defaults make the
    // forwarded calls, which give what any policy's own would (the kernel of every policy in
    // a box stays as it was).
    fn len(&self) -> usize {
        (**self).len()
    }
    fn slice(&mut self, p: u32, now: u64) -> u64 {
        (**self).slice(p, now)
    }
    fn charge(&mut self, p: u32, why: Leave, usage: Usage, now: u64) {
        (**self).charge(p, why, usage, now)
    }
    fn is_preemptive(&self) -> bool {
        (**self).is_preemptive()
    }
    fn preempt(&mut self, running: &[Runner], now: u64) -> Option<usize> {
        (**self).preempt(running, now)
    }
    fn charges_blocks(&self) -> bool {
        (**self).charges_blocks()
    }
    fn needs_bursts(&self) -> bool {
        (**self).needs_bursts()
    }
    fn next_event(&self) -> Option<u64> {
        (**self).next_event()
    }
    fn event_requeues_running(&self) -> bool {
        (**self).event_requeues_running()
    }
    fn on_event(&mut self, now: u64) {
        (**self).on_event(now)
    }
    fn on_exit(&mut self, p: u32) {
        (**self).on_exit(p)
    }
    fn upcoming(&self, k: usize) -> Option<u32> {
        (**self).upcoming(k)
    }
    fn likely(&self, k: usize) -> Option<u32> {
        (**self).likely(k)
    }
    fn likely_later(&self) -> &[u32] {
        (**self).likely_later()
    }
    fn hints_later(&self) -> bool {
        (**self).hints_later()
    }
    fn fast_paths_exact(&self) -> bool {
        (**self).fast_paths_exact()
    }
    fn disable_shortcuts(&mut self) {
        (**self).disable_shortcuts()
    }
    fn rule(&self) -> &'static str {
        (**self).rule()
    }
    fn standing(&self, p: u32, now: u64) -> Option<String> {
        (**self).standing(p, now)
    }
    fn placement(&self, why: Ready) -> String {
        (**self).placement(why)
    }
    fn event_words(&self) -> String {
        (**self).event_words()
    }
    fn event_name(&self) -> &'static str {
        (**self).event_name()
    }
    fn key(&self, p: u32, ran: u64, now: u64) -> Option<Key> {
        (**self).key(p, ran, now)
    }
    fn slice_end_reason(&self) -> Option<&'static str> {
        (**self).slice_end_reason()
    }
    fn last_draw(&self) -> Option<Draw> {
        (**self).last_draw()
    }
    fn peek(&mut self, now: u64) -> Option<u32> {
        (**self).peek(now)
    }
    fn noted_joined(&mut self, ps: &[u32], why: Ready) {
        (**self).noted_joined(ps, why)
    }
}

/// `7`, or `6.50` for a figure kept in units of `1 / scale` (fixed-point vruntimes, passes,
/// predictions), for `--explain`.
pub(crate) fn fixed(value: i128, scale: i128) -> String {
    if scale <= 1 || value % scale == 0 {
        return (value / scale.max(1)).to_string();
    }
    format!("{:.2}", value as f64 / scale as f64)
}
