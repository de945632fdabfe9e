//! The words of `procsim run FILE --explain`: each decision of the log
//! ([`super::explain::Decision`]) and each transition of the trace as a line, `TICK  what
//! happened, and why`, written as the run goes ([`ExplainWriter`]: the simulated kernel
//! hands it each step as it makes it, [`crate::Sim::run_explained_to`]) or from a finished
//! run ([`render_explain`]), in the same words.
//!
//! A line tells only what is known when it is written, so that nothing has to be held back:
//! how long a process blocked is told when it wakes (or is killed), and a dispatch that ran
//! for no time at all is told on the line that ends it.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::model::State;
use crate::scenario::ReadyGroup;

use super::explain::{Decision, Draw, Explanation, Facts, GilWhy, Joining, Key, Ranked, Task};
use super::explain_transition::transition_text;
use super::text::escape;
use super::{Report, TraceEvent};

/// Writes an explanation line by line as its steps come. Its memory is a line's and, per
/// process, the tick it entered its present state (8 bytes a process; a thread other than a
/// main thread holds an entry while it lives); the first write error is kept and every later
/// write skipped ([`ExplainWriter::failed`]).
pub struct ExplainWriter<W: Write> {
    out: W,
    since: Vec<u64>,
    /// The same for threads other than main threads, by process and tid.
    thread_since: HashMap<(u32, u32), u64>,
    line: Vec<u8>,
    /// The tick of the last line.
    last: u64,
    error: Option<io::Error>,
}

impl<W: Write> ExplainWriter<W> {
    /// A writer to `out` (buffer it: a line is one write).
    pub fn new(out: W) -> Self {
        ExplainWriter {
            out,
            since: Vec::new(),
            thread_since: HashMap::new(),
            line: Vec::new(),
            last: 0,
            error: None,
        }
    }

    /// The two lines that open an explanation: the scenario, the policy, the same-tick order,
    /// and the policy's rule.
    pub fn head(&mut self, scenario: &str, policy: &str, rule: &str, order: &[ReadyGroup; 3]) {
        let order: Vec<&str> = order.iter().map(|g| g.name()).collect();
        let text = format!(
            "Explaining `{}`: policy {policy}, tick_order [{}]; a line a step, its tick first\nThe rule: {rule}.\n\n",
            escape(scenario),
            order.join(", ")
        );
        self.write(text.as_bytes());
    }

    /// A decision made at `t`.
    pub fn decision(&mut self, t: u64, d: &Decision, facts: &dyn Facts) {
        let name = |task: &Task| task_name(facts, task);
        let text = decision_text(d, &name, facts);
        self.emit(t, &text);
    }

    /// A transition, as it happens; `thread` is the name of its thread when the event
    /// carries a `tid` (`threading.current_thread().name`).
    pub fn transition(&mut self, e: &TraceEvent, thread: Option<&str>, facts: &dyn Facts) {
        let since = match e.tid {
            Some(tid) if e.is_other_thread() => {
                let key = (e.proc, tid);
                if e.to == State::Terminated {
                    self.thread_since.remove(&key).unwrap_or(e.t)
                } else {
                    self.thread_since.insert(key, e.t).unwrap_or(e.t)
                }
            }
            _ => {
                let p = e.proc as usize;
                if self.since.len() <= p {
                    self.since.resize(p + 1, 0);
                }
                std::mem::replace(&mut self.since[p], e.t)
            }
        };
        let held = e.t.saturating_sub(since);
        let text = transition_text(e, thread, held, facts);
        self.emit(e.t, &text);
    }

    /// The run stopped early: `message` says which limit stopped it (the line has the tick
    /// of the last step).
    pub fn stopped(&mut self, message: &str) {
        self.emit(
            self.last,
            &format!("the run stops here: {}", escape(message)),
        );
    }

    /// Whether a write has failed (a closed pipe): nothing more will be written.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Flushes and gives the writer back, or the first error a write met.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn emit(&mut self, t: u64, text: &str) {
        self.last = t;
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let _ = writeln!(line, "{t:>6}  {text}");
        self.write(&line);
        self.line = line;
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }
}

/// What a finished report knows of its processes.
struct ReportFacts<'a>(&'a Report);

impl Facts for ReportFacts<'_> {
    fn name(&self, p: u32) -> String {
        self.0
            .processes
            .get(p as usize)
            .map_or_else(|| "?".to_owned(), |r| r.name.clone())
    }
    fn creator(&self, p: u32) -> Option<u32> {
        self.0.processes.get(p as usize)?.creator
    }
    fn exitcode(&self, p: u32) -> Option<i64> {
        self.0.processes.get(p as usize)?.exitcode
    }
    fn signal(&self, p: u32) -> Option<String> {
        self.0.processes.get(p as usize)?.signal.clone()
    }
}

/// A finished run explained, a line a step: `TICK  what happened, and why` (the same lines
/// as [`ExplainWriter`] writes while the run goes).
pub fn render_explain(report: &Report, ex: &Explanation) -> String {
    let facts = ReportFacts(report);
    let mut w = ExplainWriter::new(Vec::new());
    w.head(&report.scenario, &ex.policy, &ex.rule, &ex.tick_order);
    let mut log = ex.log.iter().peekable();
    // Each thread of the report by process and tid, in creation order (a tid freed by a
    // thread's end may come back later: the one meant is the last created by then).
    let mut threads: HashMap<(u32, u32), Vec<(u64, &str)>> = HashMap::new();
    for (i, p) in report.processes.iter().enumerate() {
        for t in &p.threads {
            threads
                .entry((i as u32, t.tid))
                .or_default()
                .push((t.created_at, &t.name));
        }
    }
    for (i, e) in report.trace.iter().enumerate() {
        while let Some(l) = log.next_if(|l| l.before <= i) {
            w.decision(l.t, &l.decision, &facts);
        }
        let thread = e.tid.and_then(|tid| {
            let made = threads.get(&(e.proc, tid))?;
            let at = made.partition_point(|m| m.0 <= e.t).max(1);
            Some(made[at - 1].1)
        });
        w.transition(e, thread, &facts);
    }
    for l in log {
        w.decision(l.t, &l.decision, &facts);
    }
    if let Some(e) = &report.error {
        w.stopped(e);
    }
    let bytes = w.finish().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub(super) fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn slice_words(slice: u64) -> String {
    if slice == u64::MAX {
        "until it blocks or ends (no slice)".to_owned()
    } else {
        format!("for at most {slice} tick{}", plural(slice))
    }
}

type Name<'a> = dyn Fn(&Task) -> String + 'a;

/// `Process-1`, or `Process-1/Thread-1 (worker)` for a thread of a process that has several.
fn task_name(facts: &dyn Facts, task: &Task) -> String {
    let process = facts.name(task.proc);
    match &task.thread {
        Some((_, thread)) => format!("{}/{}", escape(&process), escape(thread)),
        None => escape(&process).into_owned(),
    }
}

fn ranked(r: &Ranked, name: &Name) -> String {
    match &r.1 {
        Some(s) => format!("{} ({s})", name(&r.0)),
        None => name(&r.0),
    }
}

fn tasks(v: &[Task], more: usize, name: &Name) -> String {
    let mut s = v.iter().map(name).collect::<Vec<_>>().join(", ");
    if more > 0 {
        s.push_str(&format!(", … and {more} more"));
    }
    s
}

/// `A (…), B (…)`, and `, … and 42 more` when `more` were left out.
fn list(v: &[Ranked], more: usize, name: &Name) -> String {
    let mut s = v
        .iter()
        .map(|r| ranked(r, name))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        s.push_str(&format!(", … and {more} more"));
    }
    s
}

fn decision_text(d: &Decision, name: &Name, facts: &dyn Facts) -> String {
    match d {
        Decision::Joined {
            why,
            procs,
            more,
            placement,
        } => {
            let who = list(procs, *more, name);
            let reason = match why {
                Joining::Admit => "admitted",
                Joining::Wake => "woken",
                Joining::SliceEnd => "slice ran out",
                Joining::Preempted => "preempted",
                Joining::GilFree => "woken, or set aside for the GIL and free to run now",
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
                if procs.len() + more == 1 { "s" } else { "" }
            )
        }
        Decision::Picked {
            cpu,
            chosen,
            rule: _,
            others,
            more,
            best_other,
            draw,
        } => {
            let alone = others.is_empty() && *more == 0;
            let why = match draw {
                Some(d) => draw_words(d, name),
                None if alone => String::new(),
                None => ahead_words(chosen, best_other.as_ref(), name),
            };
            if alone {
                format!(
                    "CPU {cpu} takes {}, the only one ready{why}",
                    ranked(chosen, name)
                )
            } else {
                format!(
                    "CPU {cpu} takes {}{why}, ahead of {}",
                    ranked(chosen, name),
                    list(others, *more, name)
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
                name(p),
                slice_words(*slice)
            )
        }
        Decision::Slice { cpu, p, slice } => {
            format!("CPU {cpu} runs {} {}", name(p), slice_words(*slice))
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
                name(p),
                plural(*ran)
            )
        }
        Decision::Preempts {
            cpu,
            victim,
            ran,
            rule: _,
            ready,
            more,
            best_ready,
        } => format!(
            "{} on CPU {cpu}, {ran} tick{} into its stretch, is preempted: {}; ready: {}",
            ranked(victim, name),
            plural(*ran),
            urgent_words(victim, best_ready.as_ref(), name),
            list(ready, *more, name)
        ),
        Decision::Switch {
            cpu,
            p,
            from,
            ticks,
            thread,
        } => {
            let from = from.as_ref().map_or_else(
                || "nothing run yet".to_owned(),
                |q| format!("{} before", name(q)),
            );
            // A switch between two threads of one process keeps the address space: it costs
            // `thread_switch`, not `context_switch` (SPEC §4a).
            let (what, setting, same) = if *thread {
                ("thread switch", "thread_switch", ", the same process")
            } else {
                ("context switch", "context_switch", "")
            };
            if *ticks == 0 {
                format!(
                    "{what} on CPU {cpu} to {} ({from}{same}); free, {setting} is 0",
                    name(p)
                )
            } else {
                format!(
                    "{what} on CPU {cpu} to {} ({from}{same}): {setting} {ticks} tick{}, during which it stays ready",
                    name(p),
                    plural(*ticks)
                )
            }
        }
        Decision::Event { what } => format!("policy event: {what}"),
        Decision::Moved { by, moved, more } => {
            let mut each: Vec<String> = moved
                .iter()
                .map(|(p, b, a)| format!("{} {} {} → {}", name(p), b.what, b.shown(), a.shown()))
                .collect();
            if *more > 0 {
                each.push(format!("… and {more} more"));
            }
            format!("{by}: {}", each.join(", "))
        }
        Decision::Reaped { p, by, ended_at } => {
            let process = |q: u32| escape(&facts.name(q)).into_owned();
            let by = by.map_or_else(|| "init".to_owned(), process);
            format!(
                "{} is reaped by {by}: its exit status is collected and the zombie (terminated since tick {ended_at}) is gone",
                process(*p)
            )
        }
        Decision::ThreadStarted { task, by } => {
            let tid = task
                .thread
                .as_ref()
                .map_or_else(String::new, |(tid, _)| format!(" (tid {tid})"));
            format!(
                "{} starts thread {}{tid}: a task of its own, run by the policy like a process, sharing {}'s globals; it is ready at once",
                name(by),
                name(task),
                escape(&facts.name(task.proc))
            )
        }
        Decision::SetAside {
            cpu,
            task,
            holder,
            holder_cpu,
        } => {
            let on = holder_cpu.map_or_else(String::new, |c| format!(" on CPU {c}"));
            match cpu {
                Some(cpu) => format!(
                    "CPU {cpu} passes over {}: {} holds {}'s GIL{on}, so only one of its threads runs at a time (kernel.gil); it stays ready, set aside until the GIL is let go, and CPU {cpu} picks again",
                    name(task),
                    name(holder),
                    escape(&facts.name(task.proc))
                ),
                None => format!(
                    "{} comes first by the rule but cannot run: {} holds {}'s GIL{on} (kernel.gil); it stays ready, set aside until the GIL is let go, and preempts no one",
                    name(task),
                    name(holder),
                    escape(&facts.name(task.proc))
                ),
            }
        }
        Decision::GilLetGo {
            holder,
            why,
            set_aside,
            more,
        } => {
            let why = match why {
                GilWhy::SliceEnd => {
                    "its slice ran out (as CPython's switch interval makes the holder drop the GIL)"
                }
                GilWhy::Blocks => "it blocks",
                GilWhy::Ends => "it ends",
                GilWhy::Preempted => "it is preempted",
            };
            format!(
                "{} lets go of {}'s GIL: {why}; set aside for it, {} rejoin{} the ready structure with this tick's woken tasks",
                name(holder),
                escape(&facts.name(holder.proc)),
                tasks(set_aside, *more, name),
                if set_aside.len() + more == 1 { "s" } else { "" }
            )
        }
        Decision::LockWait {
            task,
            lock,
            holder,
            ahead,
        } => {
            let held = holder.as_ref().map_or_else(
                || "it is held".to_owned(),
                |h| format!("{} holds it", name(h)),
            );
            let line = if *ahead == 0 {
                "first in line".to_owned()
            } else {
                format!("behind {ahead} waiting before it")
            };
            format!(
                "{} waits for lock `{}`: {held}; it blocks, {line} (a release hands the lock to the first waiter)",
                name(task),
                escape(lock)
            )
        }
        Decision::LockHandOver { by, lock, to } => format!(
            "{} releases lock `{}`: it goes to {}, its first waiter, which wakes holding it",
            name(by),
            escape(lock),
            name(to)
        ),
        Decision::AwaitThreads { task, live } => format!(
            "{} is at its end and waits for {}'s {live} non-daemon thread{} still alive before the process ends (threading._shutdown)",
            name(task),
            escape(&facts.name(task.proc)),
            plural(u64::from(*live))
        ),
        Decision::ThreadsEnd {
            proc,
            count,
            daemons,
        } => {
            let daemons = match (*daemons, *count) {
                (1, 1) => ", a daemon thread,".to_owned(),
                (d, c) if d == c => ", all daemon threads,".to_owned(),
                (0, _) => String::new(),
                (d, _) => format!(", {d} of them daemon threads,"),
            };
            let threads = if *count == 1 {
                "its one thread".to_owned()
            } else {
                format!("its {count} threads")
            };
            format!(
                "{} ends: {threads} still alive{daemons} end{} with it (no thread outlives its process; nobody waits for a daemon thread)",
                escape(&facts.name(*proc)),
                if *count == 1 { "s" } else { "" }
            )
        }
    }
}

/// `: shortest remaining burst 3 < 5 (P2)`: why `chosen` came before the best of the
/// others, by the figure the rule compares; ` by the rule` when it compares none.
fn ahead_words(chosen: &Ranked, best_other: Option<&(Task, Key)>, name: &Name) -> String {
    let Some(k) = chosen.2 else {
        return " by the rule".to_owned();
    };
    let Some((q, o)) = best_other else {
        return format!(
            ": {} {} {}, the only one with a {} now",
            k.best,
            k.what,
            k.shown(),
            k.what
        );
    };
    if k.before(o) {
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
fn urgent_words(victim: &Ranked, best: Option<&(Task, Key)>, name: &Name) -> String {
    match (victim.2, best) {
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
fn draw_words(d: &Draw<Task>, name: &Name) -> String {
    let last = d.first + u128::from(d.tickets) - 1;
    format!(
        ": ticket {} of 0–{} drawn; {} holds {}–{last} (its {} ticket{})",
        d.ticket,
        d.total - 1,
        name(&d.holder),
        d.first,
        d.tickets,
        plural(d.tickets)
    )
}
