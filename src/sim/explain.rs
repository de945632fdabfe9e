//! The kernel's side of `--explain`: a log of its decisions, kept ([`Kernel::explain`]) or
//! written with the transitions as the run goes ([`Kernel::run_explained_to`]), only when
//! asked. Asking turns the fast paths off, so that every decision goes
//! through the general rounds, which call the hooks below (`tests/policies.rs` holds the
//! reports of both ways equal); when nobody asked, each hook is one untaken branch on a
//! field of the general rounds, never of the fast paths.
//!
//! The words for a choice are the policy's ([`Policy::rule`], [`Policy::standing`],
//! [`Policy::placement`], [`Policy::event_words`]); the renderer is
//! [`crate::report::render_explain`].

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::Arc;

use super::pcb::NO_PROC;
use super::sched::{Leave, Ready, Usage};
use super::{Kernel, Policy, Recorder, Run};
use crate::model::State;
use crate::report::explain::{
    Decision, Draw, Explanation, Facts, Joining, Key, LISTED, Logged, Ranked, Task,
};
use crate::report::{ExplainWriter, Report, TraceEvent};

/// Where the decision log goes.
pub(super) enum Log {
    /// Kept whole, for [`Kernel::run_explained`] (tests and small runs).
    Keep(Vec<Logged>),
    /// Written as the run goes, the transitions and reapings with it, a line a step.
    Write(Box<ExplainWriter<Box<dyn Write>>>),
}

/// The kernel's records, as the words of a step read them while the run goes (a process by
/// its index in the report, as a finished report names it).
struct Records<'a, P: Policy>(&'a Kernel<P>);

impl<P: Policy> Facts for Records<'_, P> {
    fn name(&self, proc: u32) -> String {
        self.0.name_of(self.0.slot_of(proc))
    }
    fn creator(&self, proc: u32) -> Option<u32> {
        let slot = self.0.slot_of(proc);
        let creator = self.0.procs.get(slot as usize)?.cold.as_ref()?.creator?;
        Some(self.0.proc_of(creator))
    }
    fn exitcode(&self, proc: u32) -> Option<i64> {
        let slot = self.0.slot_of(proc);
        self.0.procs.get(slot as usize)?.exitcode().map(i64::from)
    }
    fn signal(&self, proc: u32) -> Option<String> {
        let slot = self.0.slot_of(proc);
        Some(self.0.procs.get(slot as usize)?.signal?.name().to_owned())
    }
}

/// The processes in the ready structure, by process index, kept for `--explain` from the
/// decisions themselves (a group joins, a CPU takes one, one leaves when it ends) so that a
/// decision lists the first [`LISTED`] without reading every process slot: each costs
/// O(log n), and a decision's cost does not grow with the processes. Those in a context
/// switch towards a CPU have been taken, and those whose slice ran out this tick are in
/// (they wait to learn whether they keep their CPU).
#[derive(Default)]
pub(super) struct ReadyIds {
    ids: BTreeSet<u32>,
    /// Tasks set aside for the GIL that rejoin with the tick's woken ones (threads.rs: one at
    /// each release, the first of its GIL queue), not yet told joining.
    pub(super) rejoining: usize,
}

/// The ready processes as a free CPU is about to pick: the first [`LISTED`] + 1 by process
/// index with their standings (one more than a line names: the one picked leaves the list),
/// how many more, with the standings of those the policy is likely to pick if they are not
/// listed (its first by the rule, its upcoming one): a standing read after the pick may
/// have changed with it (a queue position).
#[derive(Default)]
pub(super) struct Candidates {
    listed: Vec<Ranked>,
    more: usize,
    likely: Vec<Ranked>,
}

impl<P: Policy> Kernel<P> {
    /// Keeps a log of every decision from now on, for [`Kernel::run_explained`]; turns the
    /// fast paths off.
    pub fn explain(&mut self) {
        self.disable_fast_paths();
        self.log = Some(Log::Keep(Vec::new()));
    }

    /// Runs to the end with the decision log on; returns the report and the log (both held
    /// whole, for tests and small runs: the log, like the trace, stops the run with an error
    /// at `kernel.max_trace` entries; [`Kernel::run_explained_to`] writes a run of any size).
    pub fn run_explained(mut self) -> (Report, Explanation) {
        if !matches!(self.log, Some(Log::Keep(_))) {
            self.explain();
        }
        while self.advance() {}
        let log = match self.log.take() {
            Some(Log::Keep(log)) => log,
            Some(Log::Write(_)) | None => Vec::new(),
        };
        let explanation = Explanation {
            policy: self.policy.name().to_owned(),
            rule: self.policy.rule().to_owned(),
            tick_order: self.order,
            log,
        };
        (self.report(), explanation)
    }

    /// Runs to the end writing the explanation to `out` as it goes, a line a step, the same
    /// lines as [`crate::report::render_explain`] makes of [`Kernel::run_explained`]: nothing
    /// is kept but the kernel's own records (no trace), so memory does not grow with the
    /// output. Returns why the run stopped early, if a limit stopped it (the last line says
    /// so too); a write error ends the run and is returned.
    pub fn run_explained_to(mut self, out: Box<dyn Write>) -> io::Result<Option<String>> {
        self.disable_fast_paths();
        let mut w = ExplainWriter::new(out);
        w.head(
            &self.plan.name,
            self.policy.name(),
            self.policy.rule(),
            &self.order,
        );
        self.log = Some(Log::Write(Box::new(w)));
        // Transitions go through `record_event` (counted against `max_trace`), kept nowhere.
        self.trace = Recorder::Stream(Box::new(|_| {}));
        while self.advance() {
            if let Some(Log::Write(w)) = &self.log
                && w.failed()
            {
                break;
            }
        }
        self.trace = Recorder::Off;
        let Some(Log::Write(mut w)) = self.log.take() else {
            return Err(io::Error::other("the explanation's writer went missing"));
        };
        if let Some(e) = &self.error {
            w.stopped(e);
        }
        w.finish()?;
        Ok(self.error.take())
    }

    /// Adds a decision made now to the log, or writes it.
    #[cold]
    pub(super) fn log(&mut self, decision: Decision) {
        let t = self.now;
        match self.log.take() {
            None => {}
            Some(Log::Keep(mut log)) => {
                // Kept whole, the log is bounded as the trace is: by `kernel.max_trace`.
                let max = self.plan.kernel.max_trace;
                if log.len() as u64 >= max {
                    self.log = Some(Log::Keep(log));
                    self.stop(format!(
                        "stopped at tick {t}: kernel.max_trace ({max} decisions) reached by the explanation kept whole; raise it, or write it as the run goes (run --explain)"
                    ));
                    return;
                }
                let before = match &self.trace {
                    Recorder::Keep(events) => events.len(),
                    Recorder::Off | Recorder::Stream(_) => 0,
                };
                log.push(Logged {
                    t,
                    before,
                    decision,
                });
                self.log = Some(Log::Keep(log));
            }
            Some(Log::Write(mut w)) => {
                w.decision(t, &decision, &Records(self));
                self.log = Some(Log::Write(w));
            }
        }
    }

    /// A transition of task `p`, written as it happens (hook: when the log is written, not
    /// kept).
    #[cold]
    pub(super) fn explain_transition(&mut self, e: &TraceEvent, p: u32) {
        if let Some(Log::Write(mut w)) = self.log.take() {
            let thread = e.tid.map(|_| self.thread_label(p));
            w.transition(e, thread.as_deref(), &Records(self));
            self.log = Some(Log::Write(w));
        }
    }

    /// The zombie `q` was reaped just now (hook).
    #[cold]
    pub(super) fn explain_reaped(&mut self, q: u32) {
        let pcb = &self.procs[q as usize];
        let by = (pcb.parent != NO_PROC).then(|| self.proc_of(pcb.parent));
        let ended_at = pcb.ended_at;
        let p = self.proc_of(q);
        self.log(Decision::Reaped { p, by, ended_at });
    }

    /// The report's index of the process task `p` belongs to.
    pub(super) fn proc_of(&self, p: u32) -> u32 {
        if self.threads_on {
            self.proc_index[self.leader(p) as usize]
        } else {
            // No record is reused while the log is on (recycle.rs): slot and index agree.
            p
        }
    }

    /// The record of the process at index `proc` of the report.
    fn slot_of(&self, proc: u32) -> u32 {
        if self.threads_on {
            self.proc_slots
                .get(proc as usize)
                .copied()
                .unwrap_or(NO_PROC)
        } else {
            proc
        }
    }

    /// `threading.current_thread().name` of task `p`: a shared copy of an explicit name; a
    /// default one (`Thread-N (target)`, kept as its number N) is made each time it is asked
    /// for, which only `--explain` does.
    fn thread_label(&self, p: u32) -> Arc<str> {
        if self.is_thread(p)
            && let Some(name) = self.procs[p as usize]
                .cold
                .as_ref()
                .and_then(|c| c.name.clone())
        {
            return name;
        }
        Arc::from(self.thread_name(p))
    }

    /// Task `p` as a decision names it: its process, and its thread once the process has
    /// more than one (as its trace events carry a `tid` then).
    pub(super) fn task(&self, p: u32) -> Task {
        let proc = self.proc_of(p);
        let thread = self
            .group_of(p)
            .filter(|&g| !self.groups[g].threads.is_empty())
            .map(|_| (self.hot[p as usize].pid, self.thread_label(p)));
        Task { proc, thread }
    }

    fn ranked(&self, p: u32) -> Ranked {
        self.ranked_after(p, 0)
    }

    /// `p`, `ran` ticks into its stretch on a CPU.
    fn ranked_after(&self, p: u32, ran: u64) -> Ranked {
        (
            self.task(p),
            self.policy.standing(p, self.now),
            self.policy.key(p, ran, self.now),
        )
    }

    /// The policy's last draw, its holder named.
    fn last_draw(&self) -> Option<Draw<Task>> {
        let d = self.policy.last_draw()?;
        Some(Draw {
            ticket: d.ticket,
            total: d.total,
            holder: self.task(d.holder),
            first: d.first,
            tickets: d.tickets,
        })
    }

    /// The processes in the ready structure but `but`, by process index: the first `listed`
    /// with their standings, the rest counted.
    fn ready_set(&self, but: Option<u32>, listed: usize) -> (Vec<Ranked>, usize) {
        let ids = &self.ready_ids.ids;
        let shown: Vec<Ranked> = ids
            .iter()
            .filter(|&&p| Some(p) != but)
            .take(listed)
            .map(|&p| self.ranked(p))
            .collect();
        let but_in = but.is_some_and(|p| ids.contains(&p));
        let more = ids.len() - usize::from(but_in) - shown.len();
        (shown, more)
    }

    /// The ready process the rule puts first, with its figure, as the policy tells it
    /// ([`Policy::peek`]: O(log n), never a pass over the ready ones); `None` when the rule
    /// compares no figure, or the one first has none now (no EEVDF process is eligible).
    fn first_by_rule(&mut self) -> Option<(Task, Key)> {
        let q = self.policy.peek(self.now)?;
        Some((self.task(q), self.policy.key(q, 0, self.now)?))
    }

    /// A free CPU took `p` out of the ready structure (hook: just after the pick).
    #[cold]
    pub(super) fn explain_taken(&mut self, p: u32) {
        self.ready_ids.ids.remove(&p);
    }

    /// `q` leaves wherever it was (hook: it ends).
    #[cold]
    pub(super) fn explain_left(&mut self, q: u32) {
        self.ready_ids.ids.remove(&q);
    }

    /// `ps` joined the ready structure for `why` (hook: after the policy enqueued them).
    #[cold]
    pub(super) fn explain_joined(&mut self, ps: &[u32], why: Ready) {
        self.ready_ids.ids.extend(ps.iter().copied());
        self.policy.noted_joined(ps, why);
        let joining = match why {
            Ready::Admit => Joining::Admit,
            Ready::Wake if self.ready_ids.rejoining > 0 => {
                self.ready_ids.rejoining = 0;
                Joining::GilFree
            }
            Ready::Wake => Joining::Wake,
            Ready::SliceEnd => Joining::SliceEnd,
            Ready::Preempted => Joining::Preempted,
        };
        let procs = ps.iter().take(LISTED).map(|&p| self.ranked(p)).collect();
        let more = ps.len().saturating_sub(LISTED);
        let placement = self.policy.placement(why);
        self.log(Decision::Joined {
            why: joining,
            procs,
            more,
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
    pub(super) fn explain_candidates(&mut self) -> Candidates {
        let (listed, more) = self.ready_set(None, LISTED + 1);
        let mut set = Candidates {
            listed,
            more,
            likely: Vec::new(),
        };
        let likely = [self.policy.peek(self.now), self.policy.upcoming(0)];
        for q in likely.into_iter().flatten() {
            let task = self.task(q);
            if !set.listed.iter().chain(&set.likely).any(|r| r.0 == task) {
                set.likely.push(self.ranked(q));
            }
        }
        set
    }

    /// Free CPU `c` took `p`, chosen among `candidates` (hook: before it takes it).
    #[cold]
    pub(super) fn explain_picked(&mut self, c: usize, p: u32, candidates: Candidates) {
        // Asked first: nothing may change the policy between its pick and this.
        let draw = self.last_draw();
        let Candidates {
            listed: mut others,
            mut more,
            likely,
        } = candidates;
        let task = self.task(p);
        let chosen = match others.iter().position(|r| r.0 == task) {
            Some(i) => others.remove(i),
            None => {
                more = more.saturating_sub(1);
                likely
                    .into_iter()
                    .find(|r| r.0 == task)
                    .unwrap_or_else(|| self.ranked(p))
            }
        };
        if others.len() > LISTED {
            others.truncate(LISTED);
            more += 1;
        }
        // `p` has left the ready structure: the policy's first now is the best of the others.
        let best_other = self.first_by_rule();
        let rule = self.policy.rule().to_owned();
        self.log(Decision::Picked {
            cpu: c as u32,
            chosen,
            rule,
            others,
            more,
            best_other,
            draw,
        });
        let from = self.cpus[c].last;
        if from != p {
            let ticks = self.switch_cost(from, p);
            let thread = self.threads_on && from != NO_PROC && self.leader(from) == self.leader(p);
            self.log(Decision::Switch {
                cpu: c as u32,
                p: task,
                from: (from != NO_PROC).then(|| self.task(from)),
                ticks,
                thread,
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
            let draw = self.last_draw();
            Decision::Kept {
                cpu,
                p: self.task(p),
                slice,
                draw,
            }
        } else {
            Decision::Slice {
                cpu,
                p: self.task(p),
                slice,
            }
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
            p: self.task(p),
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
        let (ready, more) = self.ready_set(Some(p), LISTED);
        let best_ready = self.first_by_rule();
        let rule = self.policy.rule().to_owned();
        self.log(Decision::Preempts {
            cpu: c,
            victim,
            ran,
            rule,
            ready,
            more,
            best_ready,
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
        let mut moved: Vec<(Task, Key, Key)> = Vec::new();
        let mut more = 0;
        // Both lists are by process index.
        for (p, b) in before {
            let Ok(i) = after.binary_search_by_key(&p, |x| x.0) else {
                continue;
            };
            let a = after[i].1;
            if a.value != b.value {
                if moved.len() < LISTED {
                    moved.push((self.task(p), b, a));
                } else {
                    more += 1;
                }
            }
        }
        if !moved.is_empty() {
            let by = self.policy.event_name();
            self.log(Decision::Moved { by, moved, more });
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
