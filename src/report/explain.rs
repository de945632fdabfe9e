//! `procsim run FILE --explain`: every decision of a simulated run in time order, each with
//! the rule that made it, in words a student can check against the book.
//!
//! The trace says what happened (`P2: ready → running`); the decision log, which the
//! simulated kernel fills only when asked ([`crate::Sim::run_explained`]), says why: which
//! group of the tick's `tick_order` a process joined the ready structure in and where the
//! policy put it, which CPU took whom by which rule, slice ends, preemptions, context
//! switches and the policy's own events. This module merges the two into one list, a line a
//! step, and adds what the report alone tells: how long a process blocks, and when a zombie
//! is reaped and by whom.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::model::{Cause, State};
use crate::scenario::ReadyGroup;

use super::text::escape;
use super::{Report, TraceEvent};

/// Why processes joined the ready structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    /// Admitted: their arrival tick, or their parent ran `start`.
    Admit,
    /// Their blocking ended.
    Wake,
    /// Their slice ran out.
    SliceEnd,
    /// A more urgent process, or the policy's event, took their CPU.
    Preempted,
}

impl Joining {
    /// The `tick_order` group that joins for this reason, if it is one.
    pub fn group(self) -> Option<ReadyGroup> {
        match self {
            Joining::Admit => Some(ReadyGroup::Admit),
            Joining::Wake => Some(ReadyGroup::Wake),
            Joining::SliceEnd => Some(ReadyGroup::Preempt),
            Joining::Preempted => None,
        }
    }
}

/// A process (an index in [`Report::processes`]) with where it stands by the policy's rule
/// (`None`: the policy says nothing of it) and the figure the rule compares (`None`: none).
pub type Ranked = (u32, Option<String>, Option<Key>);

/// The figure a policy's rule compares between processes (SRTF's remaining burst, MLFQ's
/// queue, CFS's vruntime), so that `--explain` can say why one came before another:
/// `shortest remaining burst 3 < 5 (P2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// What it is: `remaining burst`, `queue`.
    pub what: &'static str,
    /// The word for the end the rule takes first: `shortest`, `highest`.
    pub best: &'static str,
    /// Its value, in units of `1 / scale` ([`i128::MAX`]: infinite).
    pub value: i128,
    /// See `value`.
    pub scale: i128,
    /// Whether the higher value goes first.
    pub higher_first: bool,
    /// Who goes first when the values are equal: `the one ready first`.
    pub tie: &'static str,
}

impl Key {
    /// The value as the policy shows it: `7`, `6.50`, `∞`.
    pub fn shown(&self) -> String {
        if self.value == i128::MAX {
            return "∞".to_owned();
        }
        crate::sim::sched::fixed(self.value, self.scale)
    }

    /// Whether `self` goes before `other` by the rule (strictly).
    pub fn before(&self, other: &Key) -> bool {
        if self.higher_first {
            self.value > other.value
        } else {
            self.value < other.value
        }
    }
}

/// A lottery's draw: which ticket won, out of how many, and who held it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    /// The winning ticket, counted from 0.
    pub ticket: u128,
    /// The ready processes' tickets in all.
    pub total: u128,
    /// The process holding it.
    pub holder: u32,
    /// The first ticket the holder holds (its tickets are `first … first + tickets − 1`,
    /// laid out by process index).
    pub first: u128,
    /// How many it holds.
    pub tickets: u64,
}

/// One decision of the simulated kernel that a transition alone does not show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Processes that became ready together joined the ready structure, in this order.
    Joined {
        /// Why.
        why: Joining,
        /// Each, with its standing once in.
        procs: Vec<Ranked>,
        /// Where the policy put them, in words.
        placement: String,
    },
    /// A free CPU took a ready process.
    Picked {
        /// The CPU.
        cpu: u32,
        /// The process taken, with its standing.
        chosen: Ranked,
        /// The policy's rule.
        rule: String,
        /// The other ready processes, with their standings.
        others: Vec<Ranked>,
        /// The draw that chose it, under lottery.
        draw: Option<Draw>,
    },
    /// A process whose slice ran out kept its CPU: nothing else was ready ahead of it (or,
    /// under lottery, it won the draw again).
    Kept {
        /// The CPU.
        cpu: u32,
        /// The process.
        p: u32,
        /// Its new slice ([`u64::MAX`]: no limit).
        slice: u64,
        /// The draw it won again, under lottery.
        draw: Option<Draw>,
    },
    /// A process got the CPU for at most `slice` ticks.
    Slice {
        /// The CPU.
        cpu: u32,
        /// The process.
        p: u32,
        /// Ticks ([`u64::MAX`]: until it blocks or ends).
        slice: u64,
    },
    /// A process's slice ran out with work left.
    SliceEnd {
        /// The CPU.
        cpu: u32,
        /// The process.
        p: u32,
        /// Ticks it ran in that slice.
        ran: u64,
        /// Its standing before and after the policy was told.
        before: Option<String>,
        /// See `before`.
        after: Option<String>,
        /// The figure the rule compares, before and after, with the policy's reason when it
        /// changed (`allotment used up`).
        keys: Option<(Key, Key, Option<&'static str>)>,
    },
    /// A ready process was more urgent than a running one, which loses its CPU.
    Preempts {
        /// The CPU.
        cpu: u32,
        /// The running process that loses it, with its standing.
        victim: Ranked,
        /// Ticks it ran since it was dispatched.
        ran: u64,
        /// The policy's rule.
        rule: String,
        /// The ready processes, with their standings.
        ready: Vec<Ranked>,
    },
    /// A CPU took a process other than the one it ran last: a context switch.
    Switch {
        /// The CPU.
        cpu: u32,
        /// The process it switches to.
        p: u32,
        /// The process it ran last, if any.
        from: Option<u32>,
        /// `kernel.context_switch`.
        ticks: u64,
    },
    /// The policy's own timed event (MLFQ's boost, priority aging).
    Event {
        /// What it does, in words.
        what: String,
    },
    /// What the policy's event changed: each process whose figure it moved, before and after.
    Moved {
        /// The event's name (`boost`, `aging`).
        by: &'static str,
        /// The processes, with their figures before and after.
        moved: Vec<(u32, Key, Key)>,
    },
}

/// A decision, when it was made, and where it falls in the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The tick.
    pub t: u64,
    /// How many transitions the trace held when it was made: it comes before
    /// `trace[before]`.
    pub before: usize,
    /// The decision.
    pub decision: Decision,
}

/// A run's decision log and the settings its words refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The policy's name (`rr`, `srtf`, …).
    pub policy: String,
    /// The rule the policy picks by, in words.
    pub rule: String,
    /// The scenario's `kernel.tick_order`.
    pub tick_order: [ReadyGroup; 3],
    /// Every decision, in the order made.
    pub log: Vec<Logged>,
}

/// `1st`, `2nd`, `3rd`, `4th`.
pub(crate) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The run explained, a line a step: `TICK  what happened, and why`.
pub fn render_explain(report: &Report, ex: &Explanation) -> String {
    // Names come from the scenario: escaped, as every terminal renderer does.
    let names: Vec<Cow<str>> = report.processes.iter().map(|p| escape(&p.name)).collect();
    let name = |p: u32| names.get(p as usize).map_or("?", |n| n.as_ref());
    let ranked = |r: &Ranked| match &r.1 {
        Some(s) => format!("{} ({s})", name(r.0)),
        None => name(r.0).to_owned(),
    };
    let order: Vec<&str> = ex.tick_order.iter().map(|g| g.name()).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Explaining `{}`: policy {}, tick_order [{}]; a line a step, its tick first",
        escape(&report.scenario),
        ex.policy,
        order.join(", ")
    );
    let _ = writeln!(out, "The rule: {}.\n", ex.rule);
    // When each transition's process next changes state: how long it blocks.
    let mut next_of = vec![None; report.trace.len()];
    let mut last: Vec<Option<usize>> = vec![None; report.processes.len()];
    for (i, e) in report.trace.iter().enumerate() {
        if let Some(Some(j)) = last.get(e.proc as usize) {
            next_of[*j] = Some(i);
        }
        if let Some(slot) = last.get_mut(e.proc as usize) {
            *slot = Some(i);
        }
    }
    // Reaping is not a transition: it is told after the last step of its tick.
    let mut reaps: Vec<(u64, usize)> = report
        .processes
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.reaped_at.map(|t| (t, i)))
        .collect();
    reaps.sort();
    let mut reaps = reaps.into_iter().peekable();
    let line = |out: &mut String, t: u64, text: String| {
        let _ = writeln!(out, "{t:>6}  {text}");
    };
    let mut log = ex.log.iter().peekable();
    let mut now = 0;
    let mut i = 0;
    loop {
        // The next step: a decision made before trace[i], else trace[i].
        let decision = log.next_if(|l| l.before <= i);
        let t = match (&decision, report.trace.get(i)) {
            (Some(l), _) => l.t,
            (None, Some(e)) => e.t,
            (None, None) => u64::MAX,
        };
        while let Some((_, p)) = reaps.next_if(|&(rt, _)| rt < t) {
            let r = &report.processes[p];
            let by = report.parent_name(p);
            let by = escape(&by);
            line(
                &mut out,
                r.reaped_at.unwrap_or(now),
                format!(
                    "{} is reaped by {by}: its exit status is collected and the zombie (terminated since tick {}) is gone",
                    name(p as u32),
                    r.ended_at.map_or_else(|| "?".to_owned(), |e| e.to_string())
                ),
            );
        }
        if t == u64::MAX {
            break;
        }
        now = t;
        if let Some(l) = decision {
            line(&mut out, l.t, decision_text(&l.decision, &name, &ranked));
            continue;
        }
        let e = &report.trace[i];
        let next = next_of[i].map(|j| report.trace[j].t);
        line(&mut out, e.t, transition_text(report, e, next, &name));
        i += 1;
    }
    out
}

fn slice_words(slice: u64) -> String {
    if slice == u64::MAX {
        "until it blocks or ends (no slice)".to_owned()
    } else {
        format!(
            "for at most {slice} tick{}",
            if slice == 1 { "" } else { "s" }
        )
    }
}

fn decision_text<'a>(
    d: &Decision,
    name: &dyn Fn(u32) -> &'a str,
    ranked: &dyn Fn(&Ranked) -> String,
) -> String {
    let list = |v: &[Ranked]| v.iter().map(ranked).collect::<Vec<_>>().join(", ");
    match d {
        Decision::Joined {
            why,
            procs,
            placement,
        } => {
            let who = list(procs);
            let reason = match why {
                Joining::Admit => "admitted",
                Joining::Wake => "woken",
                Joining::SliceEnd => "slice ran out",
                Joining::Preempted => "preempted",
            };
            let group = match why.group() {
                Some(ReadyGroup::Wake) => {
                    "; in the wake group (by the tick they blocked, then pid)"
                }
                Some(ReadyGroup::Admit) => {
                    "; in the admit group (arrivals in file order, then starts in the order they ran)"
                }
                Some(ReadyGroup::Preempt) => "; in the preempt group (lowest CPU first)",
                None => "",
            };
            format!(
                "{who} join{} the ready structure ({reason}){group}: {placement}",
                if procs.len() == 1 { "s" } else { "" }
            )
        }
        Decision::Picked {
            cpu,
            chosen,
            rule: _,
            others,
            draw,
        } => {
            let why = match draw {
                Some(d) => draw_words(d, name),
                None if others.is_empty() => String::new(),
                None => ahead_words(chosen, others, name),
            };
            if others.is_empty() {
                format!(
                    "CPU {cpu} takes {}, the only one ready{why}",
                    ranked(chosen)
                )
            } else {
                format!(
                    "CPU {cpu} takes {}{why}, ahead of {}",
                    ranked(chosen),
                    list(others)
                )
            }
        }
        Decision::Kept {
            cpu,
            p,
            slice,
            draw,
        } => {
            let why = match draw {
                Some(d) => format!("it won the draw again{}", draw_words(d, name)),
                None => "no other process was ready ahead of it".to_owned(),
            };
            format!(
                "{} keeps CPU {cpu}, with a new slice {}: {why} (no preemption, dispatch or switch counted)",
                name(*p),
                slice_words(*slice)
            )
        }
        Decision::Slice { cpu, p, slice } => {
            format!("CPU {cpu} runs {} {}", name(*p), slice_words(*slice))
        }
        Decision::SliceEnd {
            cpu,
            p,
            ran,
            before,
            after,
            keys,
        } => {
            let moved = match keys {
                Some((b, a, reason)) if a.value != b.value => {
                    let reason = reason.map_or_else(String::new, |r| format!(": {r}"));
                    format!("; {} {} → {}{reason}", b.what, b.shown(), a.shown())
                }
                _ => String::new(),
            };
            let change = match (before, after) {
                (Some(b), Some(a)) if a != b => format!("{moved} ({b} → {a})"),
                _ => moved,
            };
            format!(
                "{}'s slice on CPU {cpu} ran out after {ran} tick{} with work left{change}",
                name(*p),
                if *ran == 1 { "" } else { "s" }
            )
        }
        Decision::Preempts {
            cpu,
            victim,
            ran,
            rule: _,
            ready,
        } => format!(
            "{} on CPU {cpu}, {ran} tick{} into its stretch, is preempted: {}; ready: {}",
            ranked(victim),
            if *ran == 1 { "" } else { "s" },
            urgent_words(victim, ready, name),
            list(ready)
        ),
        Decision::Switch {
            cpu,
            p,
            from,
            ticks,
        } => {
            let from = from.map_or_else(
                || "nothing run yet".to_owned(),
                |q| format!("{} before", name(q)),
            );
            if *ticks == 0 {
                format!(
                    "context switch on CPU {cpu} to {} ({from}); free, context_switch is 0",
                    name(*p)
                )
            } else {
                format!(
                    "context switch on CPU {cpu} to {} ({from}): context_switch {ticks} tick{}, during which it stays ready",
                    name(*p),
                    if *ticks == 1 { "" } else { "s" }
                )
            }
        }
        Decision::Event { what } => format!("policy event: {what}"),
        Decision::Moved { by, moved } => {
            let each: Vec<String> = moved
                .iter()
                .map(|(p, b, a)| format!("{} {} {} → {}", name(*p), b.what, b.shown(), a.shown()))
                .collect();
            format!("{by}: {}", each.join(", "))
        }
    }
}

/// The ready process the rule puts first among `others` (with a key), and its key.
fn best_of(others: &[Ranked]) -> Option<(u32, Key)> {
    let mut best: Option<(u32, Key)> = None;
    for (p, _, key) in others {
        if let Some(k) = key
            && best.is_none_or(|(_, b)| k.before(&b))
        {
            best = Some((*p, *k));
        }
    }
    best
}

/// `: shortest remaining burst 3 < 5 (P2)`: why `chosen` came before the best of `others`,
/// by the figure the rule compares; ` by the rule` when it compares none.
fn ahead_words<'a>(chosen: &Ranked, others: &[Ranked], name: &dyn Fn(u32) -> &'a str) -> String {
    let Some(k) = chosen.2 else {
        return " by the rule".to_owned();
    };
    let Some((q, o)) = best_of(others) else {
        return format!(
            ": {} {} {}, the only one with a {} now",
            k.best,
            k.what,
            k.shown(),
            k.what
        );
    };
    if k.before(&o) {
        let sign = if k.higher_first { ">" } else { "<" };
        format!(
            ": {} {} {} {sign} {} ({})",
            k.best,
            k.what,
            k.shown(),
            o.shown(),
            name(q)
        )
    } else {
        format!(
            ": {} {}, as {}'s: a tie, which goes to {}",
            k.what,
            k.shown(),
            name(q),
            k.tie
        )
    }
}

/// Why a running process is preempted: the best ready one's figure against its own.
fn urgent_words<'a>(victim: &Ranked, ready: &[Ranked], name: &dyn Fn(u32) -> &'a str) -> String {
    match (victim.2, best_of(ready)) {
        (Some(v), Some((q, o))) => format!(
            "{}'s {} {} {} its {} ({} first)",
            name(q),
            o.what,
            o.shown(),
            if o.higher_first { ">" } else { "<" },
            v.shown(),
            o.best
        ),
        _ => "by the rule a ready process is more urgent".to_owned(),
    }
}

/// `: ticket 37 of 0–99 drawn; P2 holds 30–59 (its 30 tickets)`.
fn draw_words<'a>(d: &Draw, name: &dyn Fn(u32) -> &'a str) -> String {
    let last = d.first + u128::from(d.tickets) - 1;
    format!(
        ": ticket {} of 0–{} drawn; {} holds {}–{last} (its {} ticket{})",
        d.ticket,
        d.total - 1,
        name(d.holder),
        d.first,
        d.tickets,
        if d.tickets == 1 { "" } else { "s" }
    )
}

fn transition_text<'a>(
    report: &Report,
    e: &TraceEvent,
    next: Option<u64>,
    name: &dyn Fn(u32) -> &'a str,
) -> String {
    let who = name(e.proc);
    let arrow = format!("{} → {}", e.from, e.to);
    let cpu = e.cpu.map_or_else(String::new, |c| format!(" on CPU {c}"));
    let until = |what: &str| match next {
        Some(n) => format!("{what} until tick {n} ({} ticks)", n - e.t),
        None => format!("{what}, to the end of the run"),
    };
    let p = report.processes.get(e.proc as usize);
    let why = match e.cause {
        Cause::Admit => match p.and_then(|p| p.creator) {
            Some(c) => format!("admitted: its parent {} ran start", name(c)),
            None => "admitted: its arrival tick".to_owned(),
        },
        Cause::Dispatch => format!("dispatched{cpu}"),
        Cause::Preempt => format!("preempted{cpu}"),
        Cause::Io => until("blocks on io"),
        Cause::Sleep => until("blocks on sleep"),
        Cause::Join => until("blocks in join, waiting for a child to end"),
        Cause::Wait => until("blocks in wait, waiting for any child to end"),
        Cause::IoDone => "wakes: its io is done".to_owned(),
        Cause::Wake => "wakes: its sleep is over".to_owned(),
        Cause::ChildExit => "wakes: the child it waited for ended".to_owned(),
        Cause::Timeout => "wakes: its join timed out, the child lives on".to_owned(),
        Cause::Exit => {
            let code = p
                .and_then(|p| p.exitcode)
                .map_or_else(String::new, |c| format!(", exit code {c}"));
            let zombie = if p.is_some_and(|p| p.reaped_at.is_some_and(|r| r > e.t)) {
                "; a zombie (Z) until it is reaped"
            } else {
                ""
            };
            format!("ends{cpu}{code}{zombie}")
        }
        Cause::Signal => {
            let sig = p
                .and_then(|p| p.signal.clone())
                .unwrap_or_else(|| "a signal".into());
            format!("killed by {sig}")
        }
    };
    let zero = match (e.to, next) {
        (State::Running, Some(n)) if n == e.t => " [0 ticks running]",
        _ => "",
    };
    format!("{who}: {arrow}, {why}{zero}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal).into();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"
            ]
        );
    }
}
