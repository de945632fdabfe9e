//! The kernel's side of `--explain`: a log of its decisions, filled only when asked
//! ([`Kernel::explain`]). Asking turns the fast paths off, so that every decision goes
//! through the general rounds, which call the hooks below (`tests/policies.rs` holds the
//! reports of both ways equal); when nobody asked, each hook is one untaken branch on a
//! field of the general rounds, never of the fast paths.
//!
//! The words for a choice are the policy's ([`Policy::rule`], [`Policy::standing`],
//! [`Policy::placement`], [`Policy::event_words`]); the renderer is
//! [`crate::report::render_explain`].

use super::sched::{Leave, Ready, Usage};
use super::{Kernel, Policy, Recorder, Run};
use crate::model::State;
use crate::report::Report;
use crate::report::explain::{Decision, Explanation, Joining, Key, Logged, Ranked};

impl<P: Policy> Kernel<P> {
    /// Keeps a log of every decision from now on, for [`Kernel::run_explained`]; turns the
    /// fast paths off.
    pub fn explain(&mut self) {
        self.disable_fast_paths();
        self.log = Some(Vec::new());
    }

    /// Runs to the end with the decision log on; returns the report and the log.
    pub fn run_explained(mut self) -> (Report, Explanation) {
        if self.log.is_none() {
            self.explain();
        }
        while self.advance() {}
        let explanation = Explanation {
            policy: self.policy.name().to_owned(),
            rule: self.policy.rule().to_owned(),
            tick_order: self.order,
            log: self.log.take().unwrap_or_default(),
        };
        (self.report(), explanation)
    }

    /// Adds a decision made now to the log.
    #[cold]
    fn log(&mut self, decision: Decision) {
        let before = match &self.trace {
            Recorder::Keep(events) => events.len(),
            Recorder::Off | Recorder::Stream(_) => 0,
        };
        let t = self.now;
        if let Some(log) = &mut self.log {
            log.push(Logged {
                t,
                before,
                decision,
            });
        }
    }

    fn ranked(&self, p: u32) -> Ranked {
        self.ranked_after(p, 0)
    }

    /// `p`, `ran` ticks into its stretch on a CPU.
    fn ranked_after(&self, p: u32, ran: u64) -> Ranked {
        (
            p,
            self.policy.standing(p, self.now),
            self.policy.key(p, ran, self.now),
        )
    }

    /// The processes in the ready structure (those in a context switch towards a CPU are
    /// not), by process index.
    fn ready_ranked(&self, but: Option<u32>) -> Vec<Ranked> {
        let switching: Vec<u32> = self
            .cpus
            .iter()
            .filter_map(|c| match c.run {
                Run::Switching { p, .. } => Some(p),
                Run::Idle | Run::Running { .. } => None,
            })
            .collect();
        (0..self.hot.len() as u32)
            .filter(|&p| Some(p) != but)
            .filter(|&p| {
                let h = &self.hot[p as usize];
                (h.state == State::Ready && !switching.contains(&p)) || h.preempt_pending
            })
            .map(|p| self.ranked(p))
            .collect()
    }

    /// `ps` joined the ready structure for `why` (hook: after the policy enqueued them).
    #[cold]
    pub(super) fn explain_joined(&mut self, ps: &[u32], why: Ready) {
        let joining = match why {
            Ready::Admit => Joining::Admit,
            Ready::Wake => Joining::Wake,
            Ready::SliceEnd => Joining::SliceEnd,
            Ready::Preempted => Joining::Preempted,
        };
        let procs = ps.iter().map(|&p| self.ranked(p)).collect();
        let placement = self.policy.placement(why);
        self.log(Decision::Joined {
            why: joining,
            procs,
            placement,
        });
    }

    /// `ps`, whose slices ran out, joined the ready structure (hook).
    #[cold]
    #[inline(never)]
    pub(super) fn explain_joined_slice_ends(&mut self, ps: &[u32]) {
        self.explain_joined(ps, Ready::SliceEnd);
    }

    /// The ready processes with their standings, just before a free CPU picks (hook).
    #[cold]
    pub(super) fn explain_candidates(&self) -> Vec<Ranked> {
        self.ready_ranked(None)
    }

    /// Free CPU `c` took `p`, chosen among `candidates` (hook: before it takes it).
    #[cold]
    pub(super) fn explain_picked(&mut self, c: usize, p: u32, candidates: Vec<Ranked>) {
        // Asked first: nothing may change the policy between its pick and this.
        let draw = self.policy.last_draw();
        let mut chosen = (p, None, None);
        let mut others = Vec::with_capacity(candidates.len());
        for r in candidates {
            if r.0 == p {
                chosen = r;
            } else {
                others.push(r);
            }
        }
        let rule = self.policy.rule().to_owned();
        self.log(Decision::Picked {
            cpu: c as u32,
            chosen,
            rule,
            others,
            draw,
        });
        let from = self.cpus[c].last;
        if from != p {
            let ticks = self.plan.kernel.context_switch;
            self.log(Decision::Switch {
                cpu: c as u32,
                p,
                from: (from != super::pcb::NO_PROC).then_some(from),
                ticks,
            });
        }
    }

    /// The processes woken this tick join the ready structure, and the log says so in the
    /// order they join (by the tick they blocked, then pid).
    #[cold]
    pub(super) fn enqueue_woken_explained(&mut self) {
        let mut woken = self.woken.clone();
        woken.sort_unstable();
        let woken: Vec<u32> = woken.into_iter().map(|w| w.2).collect();
        self.enqueue_woken();
        self.explain_joined(&woken, Ready::Wake);
    }

    /// `p` runs on CPU `c` from now, dispatched or `kept` after its slice ran out (hook:
    /// after the kernel gave it its slice).
    #[cold]
    pub(super) fn explain_running(&mut self, c: usize, p: u32, kept: bool) {
        let cpu = c as u32;
        let slice = match self.cpus[c].run {
            Run::Running { slice_end, .. } if slice_end != u64::MAX => slice_end - self.now,
            _ => u64::MAX,
        };
        self.log(if kept {
            // Its pick was the last one (the kernel gave it its slice since, which draws
            // nothing).
            let draw = self.policy.last_draw();
            Decision::Kept {
                cpu,
                p,
                slice,
                draw,
            }
        } else {
            Decision::Slice { cpu, p, slice }
        });
    }

    /// `p`'s slice on CPU `c` ran out: the policy is charged with `usage`, and the log
    /// tells its standing before and after.
    #[cold]
    pub(super) fn charge_slice_end_explained(&mut self, c: usize, p: u32, usage: Usage) {
        let before = self.policy.standing(p, self.now);
        let key_before = self.policy.key(p, 0, self.now);
        self.policy.charge(p, Leave::SliceEnd, usage, self.now);
        let after = self.policy.standing(p, self.now);
        let key_after = self.policy.key(p, 0, self.now);
        let keys = key_before
            .zip(key_after)
            .map(|(b, a)| (b, a, self.policy.slice_end_reason()));
        self.log(Decision::SliceEnd {
            cpu: c as u32,
            p,
            ran: usage.ran,
            before,
            after,
            keys,
        });
    }

    /// `p` on CPU `c` is to be preempted by a more urgent ready process (hook: before).
    #[cold]
    pub(super) fn explain_preempts(&mut self, c: u32, p: u32, ran: u64) {
        let victim = self.ranked_after(p, ran);
        let ready = self.ready_ranked(Some(p));
        let rule = self.policy.rule().to_owned();
        self.log(Decision::Preempts {
            cpu: c,
            victim,
            ran,
            rule,
            ready,
        });
    }

    /// The policy's own event happens now (hook: before it does); returns every live
    /// process's key before it, for [`Kernel::explain_event_done`].
    #[cold]
    pub(super) fn explain_event(&mut self) -> Vec<(u32, Key)> {
        let what = self.policy.event_words();
        self.log(Decision::Event { what });
        self.live_keys()
    }

    /// The policy's event is over: the log tells whose key it moved (hook: after it).
    #[cold]
    pub(super) fn explain_event_done(&mut self, before: Vec<(u32, Key)>) {
        let after = self.live_keys();
        let moved: Vec<(u32, Key, Key)> = before
            .into_iter()
            .filter_map(|(p, b)| {
                // Both lists are by process index.
                let a = after[after.binary_search_by_key(&p, |x| x.0).ok()?].1;
                (a.value != b.value).then_some((p, b, a))
            })
            .collect();
        if !moved.is_empty() {
            let by = self.policy.event_name();
            self.log(Decision::Moved { by, moved });
        }
    }

    /// The key of every process that has not ended, by process index.
    fn live_keys(&self) -> Vec<(u32, Key)> {
        (0..self.hot.len() as u32)
            .filter(|&p| self.hot[p as usize].state != State::Terminated)
            .filter_map(|p| Some((p, self.policy.key(p, 0, self.now)?)))
            .collect()
    }
}
