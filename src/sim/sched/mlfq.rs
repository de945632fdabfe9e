//! Multi-level feedback queue (SPEC §3a), with the conventions of OSTEP's `mlfq.py`
//! (`cpu-sched-mlfq/mlfq.py` in remzi-arpacidusseau/ostep-homework, master as of its
//! 2023-09 boost fix), which the `sched-mlfq-*` scenarios reproduce tick for tick.
//!
//! Level 0 is the top (`mlfq.py` numbers its queues the other way round). What `mlfq.py`
//! does, and how it maps onto the kernel's calls:
//!
//! - A new process enters the tail of the top queue with a full slice and allotment.
//! - The front of the highest non-empty queue runs. `mlfq.py` keeps the running job at the
//!   front of its queue and chooses again at every tick, so a job that reaches a higher queue
//!   takes the CPU at once ([`Policy::preempt`]) and the one it displaces is still at the
//!   front of its own queue with what was left of its slice ([`Ready::Preempted`]).
//! - A slice that runs out costs one allotment; with none left the process moves down a
//!   level (or stays at the bottom) with a fresh slice and allotment, else it gets a fresh
//!   slice at its level; either way it joins the tail ([`Leave::SliceEnd`]).
//! - A process that blocks keeps what is left of its slice and allotment. A process that
//!   blocks at the very tick its slice runs out has also used up that slice: `mlfq.py` checks
//!   the slice after issuing the I/O. With `io_reset` (`-S`) blocking refills both at its
//!   level, and then, as `mlfq.py` does (it tests the tick count it read before the refill),
//!   a block at the slice's last tick still costs one allotment of the refilled ones.
//! - A process whose blocking ended joins the tail of its level; with `io_bump` (`-I`) the
//!   front, ahead of a running process of that level too, which it therefore preempts.
//!   Only a blocking that ended is bumped: a thread set aside for its process's GIL rejoins
//!   as a wake but did not block, and joins the tail of its level (docs/threads.md, "The GIL
//!   model"). A bump preempts during the tick it is made only (`mlfq.py` runs a bumped job at
//!   once); one that could not then (every CPU in a context switch) waits at the front.
//! - Every `boost` ticks, all processes, blocked ones too, move to the top with a fresh
//!   slice and allotment (the queues taken bottom to top, each in its order). (Before commit
//!   ee2e067, `mlfq.py` gave them `allotment[top]` ticks and left their allotments as they
//!   were.)
//! - With several CPUs (which `mlfq.py` does not have), a newly urgent process preempts the
//!   running process at the lowest level, of several the one on the highest CPU; processes
//!   preempted during one tick go back in behind those put at the front of their queue
//!   earlier in that tick.
//! - `kernel.wake_to` and `kernel.slice_after_block` do not apply: `io_bump` and `io_reset`
//!   are the policy's own. The same-tick order is the kernel's `tick_order`; `mlfq.py`'s is
//!   `["preempt", "admit", "wake"]`.
//!
//! A boost changes every process, so it is lazy: an epoch counter goes up, the queues are
//! spliced onto the top one in O(levels), and a process whose epoch is old is at the top
//! with a fresh slice and allotment the next time it is looked at.

use super::levels::Levels;
use super::{Key, Leave, Policy, Ready, Runner, SeededRng, Usage};
use crate::scenario::policy::Mlfq as Config;

/// Where a process is, as far as the policy knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Created, not yet admitted.
    New,
    /// In a queue.
    Ready,
    /// Taken by a CPU (running, or in the context switch to it).
    Running,
    /// Blocked.
    Blocked,
    /// Ended.
    Gone,
}

/// One process's place in the MLFQ.
#[derive(Debug, Clone, Copy)]
struct Proc {
    /// Valid only if `epoch` is the current one; else the process is at the top with a
    /// fresh slice and allotment (a boost came since).
    level: u8,
    /// Ticks left of its slice at its level.
    ticks_left: u64,
    /// Slices left at its level before it moves down.
    allot_left: u64,
    epoch: u64,
    status: Status,
    /// Put at the front of its queue by `io_bump` and not yet run: it preempts a running
    /// process of its own level, as in `mlfq.py`.
    bumped: bool,
}

/// The processes put at the front of one queue during one tick (by `io_bump`, or preempted):
/// a process preempted at that tick goes back in behind them, where `mlfq.py` has it.
#[derive(Debug, Clone, Copy, Default)]
struct FrontRun {
    at: u64,
    count: usize,
}

/// Multi-level feedback queue.
#[derive(Debug, Clone)]
pub struct Mlfq {
    /// Per level, top first.
    quantum: Vec<u64>,
    allotment: Vec<u64>,
    boost: u64,
    io_reset: bool,
    io_bump: bool,
    queues: Levels,
    front_runs: Vec<FrontRun>,
    procs: Vec<Proc>,
    epoch: u64,
    /// The tick of the next boost not yet made.
    next_boost: u64,
    /// Processes admitted and not ended; of those, the blocked ones.
    active: usize,
    blocked: usize,
}

impl Mlfq {
    /// The MLFQ that `config` describes; `kernel_quantum` is the slice of every level when it
    /// gives none. The config has passed its range checks (1 to 64 queues, lists of the
    /// right length, values at least 1).
    pub fn new(config: &Config, kernel_quantum: u64) -> Self {
        let n = config.queues as usize;
        let quantum = (0..n)
            .map(|l| {
                config
                    .quantum
                    .as_ref()
                    .map_or(kernel_quantum, |q| q.at(l))
                    .max(1)
            })
            .collect();
        let allotment = (0..n).map(|l| config.allotment.at(l).max(1)).collect();
        Mlfq {
            quantum,
            allotment,
            boost: config.boost,
            io_reset: config.io_reset,
            io_bump: config.io_bump,
            queues: Levels::new(n),
            front_runs: vec![FrontRun::default(); n],
            procs: Vec::new(),
            epoch: 0,
            next_boost: config.boost,
            active: 0,
            blocked: 0,
        }
    }

    /// A process at the top with a fresh slice and allotment.
    fn fresh(&self, status: Status) -> Proc {
        Proc {
            level: 0,
            ticks_left: self.quantum[0],
            allot_left: self.allotment[0],
            epoch: self.epoch,
            status,
            bumped: false,
        }
    }

    /// `p`'s record as it stands, boosts counted, without changing it (for `--explain`).
    fn current(&self, p: u32) -> Option<Proc> {
        let s = self.procs.get(p as usize)?;
        Some(if s.epoch == self.epoch {
            *s
        } else {
            self.fresh(s.status)
        })
    }

    /// `p`'s record, brought up to date with the boosts since it was last looked at.
    /// (Asked several times a dispatch: inline, with the rare work apart.)
    #[inline(always)]
    fn proc(&mut self, p: u32) -> &mut Proc {
        let i = p as usize;
        if self.procs.get(i).is_none_or(|s| s.epoch != self.epoch) {
            self.bring_up_to_date(i);
        }
        &mut self.procs[i]
    }

    /// What [`Mlfq::proc`] does for a process it has no record of yet, or one a boost came
    /// since: a fresh record (at the top, as a boost leaves it), its status kept.
    #[inline(never)]
    fn bring_up_to_date(&mut self, i: usize) {
        if self.procs.len() <= i {
            let new = self.fresh(Status::New);
            self.procs.resize(i + 1, new);
        }
        if self.procs[i].epoch != self.epoch {
            let Proc { status, .. } = self.procs[i];
            self.procs[i] = self.fresh(status);
        }
    }

    /// Processes taken by a CPU.
    fn running(&self) -> usize {
        self.active - self.blocked - self.queues.len()
    }

    /// How many processes at the front of queue `l` were put there during tick `now`.
    fn front_run(&self, l: usize, now: u64) -> usize {
        let r = self.front_runs[l];
        if r.at == now { r.count } else { 0 }
    }

    /// `p`, taken from the front of queue `l` at `now`, runs: one fewer of this tick's front
    /// run if it was in it.
    #[inline(always)]
    fn taken(&mut self, l: usize, p: u32, now: u64) {
        let r = &mut self.front_runs[l];
        if r.at == now && r.count > 0 {
            r.count -= 1;
        }
        let s = self.proc(p);
        s.status = Status::Running;
        s.bumped = false;
    }

    fn grow_front_run(&mut self, l: usize, now: u64) {
        let count = self.front_run(l, now) + 1;
        self.front_runs[l] = FrontRun { at: now, count };
    }

    /// The slice of `p` ran out: one allotment used; at none left, down a level (or again at
    /// the bottom) with a fresh allotment. A fresh slice either way.
    fn slice_used(&mut self, p: u32) {
        let bottom = self.quantum.len() - 1;
        let i = p as usize;
        let mut s = self.procs[i];
        s.allot_left = s.allot_left.saturating_sub(1);
        if s.allot_left == 0 {
            s.level = (s.level as usize + 1).min(bottom) as u8;
            s.allot_left = self.allotment[s.level as usize];
        }
        s.ticks_left = self.quantum[s.level as usize];
        self.procs[i] = s;
    }

    /// Every process to the top with a fresh slice and allotment, the queues taken bottom to
    /// top; O(levels).
    fn boost_all(&mut self) {
        self.epoch += 1;
        self.queues.gather_to_top();
        for r in &mut self.front_runs[1..] {
            r.count = 0;
        }
    }

    /// With nothing ready or running the policy asks for no boost (so that a run whose
    /// processes are all blocked for good ends, as a deadlock, instead of boosting forever),
    /// and the boosts due meanwhile are made when something next becomes ready: they would
    /// have moved only blocked processes, and one boost does what several would.
    fn catch_up(&mut self, now: u64) {
        if self.boost > 0 && self.next_boost <= now && self.queues.len() == 0 && self.running() == 0
        {
            self.boost_all();
            self.next_boost = (now / self.boost)
                .saturating_add(1)
                .saturating_mul(self.boost);
        }
    }
}

impl Policy for Mlfq {
    fn name(&self) -> &'static str {
        "mlfq"
    }

    fn on_create(&mut self, p: u32, _attrs: super::Attrs) {
        // A fresh record, also for a slot reused after its process ended (recycle.rs).
        let fresh = self.fresh(Status::New);
        *self.proc(p) = fresh;
    }

    fn enqueue(&mut self, p: u32, why: Ready, _burst: u64, now: u64) {
        self.catch_up(now);
        let was = self.proc(p).status;
        match why {
            Ready::Admit => {
                self.procs[p as usize] = self.fresh(Status::Ready);
                if was == Status::New {
                    self.active += 1;
                }
                self.queues.push_back(0, p);
            }
            Ready::Wake => {
                if was == Status::Blocked {
                    self.blocked -= 1;
                }
                // Only a blocking that ended is bumped: a thread set aside for its process's
                // GIL rejoins as a wake, but it did not block (the policy last saw it taken
                // by a CPU), so it joins the tail of its level as any wake without io_bump.
                let bump = self.io_bump && was == Status::Blocked;
                let s = self.proc(p);
                s.status = Status::Ready;
                s.bumped = bump;
                let l = s.level as usize;
                if bump {
                    self.queues.push_front(l, p);
                    self.grow_front_run(l, now);
                } else {
                    self.queues.push_back(l, p);
                }
            }
            // `charge` has counted the slice.
            Ready::SliceEnd => {
                let s = self.proc(p);
                s.status = Status::Ready;
                let l = s.level as usize;
                self.queues.push_back(l, p);
            }
            Ready::Preempted => {
                let s = self.proc(p);
                s.status = Status::Ready;
                s.bumped = false;
                let l = s.level as usize;
                let k = self.front_run(l, now);
                self.queues.insert_at(l, k, p);
                self.grow_front_run(l, now);
            }
        }
    }

    fn pick(&mut self, now: u64, _rng: &mut SeededRng) -> Option<u32> {
        let l = self.queues.top()?;
        let p = self.queues.pop_front(l)?;
        self.taken(l, p, now);
        Some(p)
    }

    /// `charge` (a slice end), `enqueue` (a slice end) and `pick` in one: the record brought
    /// up to date once, and a process that would be back alone at the most urgent non-empty
    /// level keeps its CPU without going through its queue.
    fn requeue_pick(
        &mut self,
        p: u32,
        _usage: Usage,
        now: u64,
        rng: &mut SeededRng,
    ) -> Option<u32> {
        self.proc(p);
        self.slice_used(p);
        // As `enqueue` does first (it boosts only with nothing ready or running, so never
        // here while `p` runs, but the rule is stated once there).
        self.catch_up(now);
        let s = self.proc(p);
        s.status = Status::Ready;
        let l = s.level as usize;
        if self.queues.top().is_none_or(|top| top > l) {
            // `push_back` then `pick` would take `p` straight back out of queue `l`.
            self.taken(l, p, now);
            return Some(p);
        }
        self.queues.push_back(l, p);
        self.pick(now, rng)
    }

    fn remove(&mut self, p: u32) -> bool {
        if self
            .procs
            .get(p as usize)
            .is_none_or(|s| s.status != Status::Ready)
        {
            return false;
        }
        let l = self.proc(p).level as usize;
        let r = self.front_runs[l];
        if r.count > 0 && self.queues.within(l, r.count, p) {
            self.front_runs[l].count -= 1;
        }
        self.queues.unlink(l, p);
        self.procs[p as usize].status = Status::Running;
        true
    }

    fn len(&self) -> usize {
        self.queues.len()
    }

    /// What is left of the slice at its level: a full quantum but after a preemption or
    /// (without `io_reset`) a block.
    fn slice(&mut self, p: u32, _now: u64) -> u64 {
        self.proc(p).ticks_left.max(1)
    }

    fn charge(&mut self, p: u32, why: Leave, usage: Usage, _now: u64) {
        // A block or preemption with nothing left of the slice (never with nothing run).
        let used_up = usage.slice_left == 0 && usage.ran > 0;
        let level = self.proc(p).level as usize;
        match why {
            Leave::SliceEnd => self.slice_used(p),
            Leave::Preempted if used_up => self.slice_used(p),
            Leave::Preempted => self.procs[p as usize].ticks_left = usage.slice_left,
            Leave::Block => {
                let (quantum, allotment) = (self.quantum[level], self.allotment[level]);
                let s = &mut self.procs[p as usize];
                if self.io_reset {
                    s.ticks_left = quantum;
                    s.allot_left = allotment;
                } else {
                    s.ticks_left = usage.slice_left;
                }
                if s.status != Status::Blocked {
                    s.status = Status::Blocked;
                    self.blocked += 1;
                }
                if used_up {
                    self.slice_used(p);
                }
            }
            Leave::Exit => {}
        }
    }

    fn is_preemptive(&self) -> bool {
        self.quantum.len() > 1 || self.io_bump
    }

    /// The running process at the lowest level (of several, the one on the highest CPU)
    /// gives way to a ready one at a higher level, or at its own level put at the front by
    /// `io_bump` during this tick. (A thread set aside for its process's GIL is never the
    /// one weighed here: the kernel sets it aside before asking.)
    fn preempt(&mut self, running: &[Runner], now: u64) -> Option<usize> {
        let top = self.queues.top()?;
        let mut victim: Option<(usize, usize)> = None;
        for (i, r) in running.iter().enumerate() {
            let l = self.proc(r.p).level as usize;
            if victim.is_none_or(|(_, vl)| l >= vl) {
                victim = Some((i, l));
            }
        }
        let (i, l) = victim?;
        if top < l {
            return Some(i);
        }
        // A boost since the bump put the process at the top's tail (its flag went with the
        // old epoch), so only a process put at the front of the top queue after it counts.
        // And only during the tick of its bump (the front of the queue is then in this tick's
        // front run): mlfq.py runs a bumped job at once; one that could not take a CPU then
        // (every CPU in a context switch) waits at the front like any other. Letting it
        // preempt later took a CPU for nothing: the process preempted went back ahead of it,
        // behind only this tick's front run, and ran again.
        let front = self.queues.front(top)?;
        (top == l && self.front_run(top, now) > 0 && self.proc(front).bumped).then_some(i)
    }

    fn next_event(&self) -> Option<u64> {
        (self.boost > 0 && self.queues.len() + self.running() > 0).then_some(self.next_boost)
    }

    fn event_requeues_running(&self) -> bool {
        true
    }

    fn on_event(&mut self, now: u64) {
        self.boost_all();
        self.next_boost = now.saturating_add(self.boost);
    }

    fn on_exit(&mut self, p: u32) {
        let Some(&Proc { status, .. }) = self.procs.get(p as usize) else {
            return;
        };
        match status {
            Status::Ready => {
                self.remove(p);
            }
            Status::Blocked => self.blocked -= 1,
            _ => {}
        }
        if !matches!(status, Status::New | Status::Gone) {
            self.active -= 1;
        }
        self.procs[p as usize].status = Status::Gone;
    }

    fn rule(&self) -> &'static str {
        "MLFQ takes the front of the highest non-empty queue (numbered as mlfq.py numbers them: the top is the highest)"
    }

    fn peek(&mut self, _now: u64) -> Option<u32> {
        self.queues.front(self.queues.top()?)
    }

    /// Queues numbered as `mlfq.py` numbers them: the top is the highest number.
    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        let s = self.current(p)?;
        let top = self.quantum.len() - 1;
        let l = s.level as usize;
        let kept = if s.ticks_left < self.quantum[l] {
            format!(
                ", {} of its {}-tick slice kept",
                s.ticks_left, self.quantum[l]
            )
        } else {
            String::new()
        };
        Some(format!(
            "queue {}, allotment {} of {} left{kept}",
            top - l,
            s.allot_left,
            self.allotment[l],
        ))
    }

    fn key(&self, p: u32, _ran: u64, _now: u64) -> Option<Key> {
        let s = self.current(p)?;
        Some(Key {
            what: "queue",
            best: "highest",
            value: (self.quantum.len() - 1 - s.level as usize) as i128,
            scale: 1,
            higher_first: true,
            tie: "the front of that queue",
        })
    }

    fn slice_end_reason(&self) -> Option<&'static str> {
        Some("allotment used up")
    }

    fn event_name(&self) -> &'static str {
        "boost"
    }

    fn placement(&self, why: Ready) -> String {
        match why {
            Ready::Admit => "at the tail of the top queue, with a full slice and allotment".into(),
            Ready::Wake if self.io_bump => {
                "at the front of its queue (io_bump, mlfq.py -I), ahead of a running process of its queue too"
                    .into()
            }
            Ready::Wake if self.io_reset => {
                "at the tail of its queue, which it stayed in: its slice and allotment were refilled when it blocked (io_reset, mlfq.py -S)"
                    .into()
            }
            Ready::Wake => "at the tail of its queue, with what was left of its slice".into(),
            Ready::SliceEnd => {
                "at the tail of its queue: a slice used is one allotment; with none left, a queue down (not below the bottom) with a fresh allotment"
                    .into()
            }
            Ready::Preempted => {
                "at the front of its queue, behind those put there this tick, with what was left of its slice"
                    .into()
            }
        }
    }

    fn event_words(&self) -> String {
        format!(
            "boost (every {} ticks): every process back to the top queue with a fresh slice and allotment",
            self.boost
        )
    }
}

#[cfg(test)]
#[path = "mlfq_tests.rs"]
mod tests;
