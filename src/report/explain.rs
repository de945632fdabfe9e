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
//!
//! This module holds what the log is made of; the words are [`super::explain_text`]'s.
//! Every list of processes in a decision is bounded ([`LISTED`] named, the rest counted): a
//! line's length does not grow with the number of processes, so the output grows with the
//! run's events alone.

use std::sync::Arc;

use crate::scenario::ReadyGroup;

/// How many processes a decision names in a list (the ready ones, those that joined
/// together, those an event moved); the rest are counted (`… and 42 more`).
pub const LISTED: usize = 8;

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
    /// Woken, or set aside for their process's GIL (SPEC §4a), which another thread let go
    /// (the tick's wake group takes both; at least one of them was set aside).
    GilFree,
}

impl Joining {
    /// The `tick_order` group that joins for this reason, if it is one.
    pub fn group(self) -> Option<ReadyGroup> {
        match self {
            Joining::Admit => Some(ReadyGroup::Admit),
            Joining::Wake | Joining::GilFree => Some(ReadyGroup::Wake),
            Joining::SliceEnd => Some(ReadyGroup::Preempt),
            Joining::Preempted => None,
        }
    }
}

/// What a decision is about: a process, or one of its threads once it has several (SPEC
/// §4a: a thread is what a CPU runs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Task {
    /// Its process: an index in [`super::Report::processes`].
    pub proc: u32,
    /// The thread, when its process has more than one (its trace events then carry a
    /// `tid`): the tid and `threading.current_thread().name`. `None`: the process itself,
    /// named as it always was.
    pub thread: Option<(u32, Arc<str>)>,
}

impl Task {
    /// The process, with no thread named.
    pub fn process(proc: u32) -> Self {
        Task { proc, thread: None }
    }
}

/// A task with where it stands by the policy's rule (`None`: the policy says nothing of it)
/// and the figure the rule compares (`None`: none).
pub type Ranked = (Task, Option<String>, Option<Key>);

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

/// A lottery's draw: which ticket won, out of how many, and who held it (`H`: the
/// policy's task index as it draws, a [`Task`] in a decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw<H = u32> {
    /// The winning ticket, counted from 0.
    pub ticket: u128,
    /// The ready processes' tickets in all.
    pub total: u128,
    /// The process holding it.
    pub holder: H,
    /// The first ticket the holder holds (its tickets are `first … first + tickets − 1`,
    /// laid out in the order of the lottery's ticket line: see `docs/policies.md`).
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
        /// The first [`LISTED`] of them, with their standings once in.
        procs: Vec<Ranked>,
        /// How many more joined with them.
        more: usize,
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
        /// The other ready processes (the first [`LISTED`] by process index), with their
        /// standings.
        others: Vec<Ranked>,
        /// How many other ready processes there were besides `others`.
        more: usize,
        /// The one the rule puts first among all the others, with its figure: the one
        /// the policy would take next ([`crate::sim::sched::Policy::peek`]; among equal
        /// figures, by the rule's own tie-break).
        best_other: Option<(Task, Key)>,
        /// The draw that chose it, under lottery.
        draw: Option<Draw<Task>>,
    },
    /// A process whose slice ran out kept its CPU: nothing else was ready ahead of it (or,
    /// under lottery, it won the draw again).
    Kept {
        /// The CPU.
        cpu: u32,
        /// The process.
        p: Task,
        /// Its new slice ([`u64::MAX`]: no limit).
        slice: u64,
        /// The draw it won again, under lottery.
        draw: Option<Draw<Task>>,
    },
    /// A process got the CPU for at most `slice` ticks.
    Slice {
        /// The CPU.
        cpu: u32,
        /// The process.
        p: Task,
        /// Ticks ([`u64::MAX`]: until it blocks or ends).
        slice: u64,
    },
    /// A process's slice ran out with work left.
    SliceEnd {
        /// The CPU.
        cpu: u32,
        /// The process.
        p: Task,
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
        /// The ready processes (the first [`LISTED`] by process index), with their
        /// standings.
        ready: Vec<Ranked>,
        /// How many ready processes there were besides `ready`.
        more: usize,
        /// The one the rule puts first among all the ready ones, with its figure (the one
        /// the policy would take next).
        best_ready: Option<(Task, Key)>,
    },
    /// A CPU took a process other than the one it ran last: a context switch.
    Switch {
        /// The CPU.
        cpu: u32,
        /// The process it switches to.
        p: Task,
        /// The process it ran last, if any.
        from: Option<Task>,
        /// What it costs: `kernel.context_switch`, or `kernel.thread_switch` for a switch
        /// between two threads of one process.
        ticks: u64,
        /// Whether both are threads of one process (SPEC §4a): `thread_switch` applies.
        thread: bool,
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
        /// The first [`LISTED`] processes it moved, with their figures before and after.
        moved: Vec<(Task, Key, Key)>,
        /// How many more it moved.
        more: usize,
    },
    /// A thread started (`threading.Thread(...).start()`): a task of its own in its
    /// process, which shares the process's globals; it is ready at once.
    ThreadStarted {
        /// The new thread.
        task: Task,
        /// The thread that started it.
        by: Task,
    },
    /// A free CPU picked a ready thread whose process's GIL another thread holds (or, with
    /// every CPU busy, the thread was the policy's next pick before a preemption was
    /// considered): it is set aside, still ready, and the CPU picks again.
    SetAside {
        /// The CPU (`None`: every CPU was busy; set aside before a preemption was weighed).
        cpu: Option<u32>,
        /// The thread set aside.
        task: Task,
        /// The thread holding the GIL.
        holder: Task,
        /// The CPU the holder runs on (or is being switched to).
        holder_cpu: Option<u32>,
    },
    /// A thread let go of its process's GIL while threads were set aside for it: the first of
    /// its GIL queue rejoins the ready structure with the tick's woken tasks, the others stay
    /// set aside (one rejoins at each release).
    GilLetGo {
        /// The thread that held it.
        holder: Task,
        /// Why it let go.
        why: GilWhy,
        /// The threads rejoining (the first [`LISTED`]): the first of the GIL queue, the one
        /// that each release lets go.
        set_aside: Vec<Task>,
        /// How many more.
        more: usize,
    },
    /// A thread blocks acquiring a `threading.Lock` that is held.
    LockWait {
        /// The thread.
        task: Task,
        /// The lock's name in the program.
        lock: Arc<str>,
        /// The thread that took it last (by `acquire` or a hand-over), if it is known.
        holder: Option<Task>,
        /// How many threads wait for it ahead of this one.
        ahead: usize,
    },
    /// A `release` handed a lock to its first waiter, which wakes holding it.
    LockHandOver {
        /// The thread that released it.
        by: Task,
        /// The lock's name.
        lock: Arc<str>,
        /// The waiter that gets it.
        to: Task,
    },
    /// A main thread at its end waits for its process's non-daemon threads
    /// (`threading._shutdown`) before the process ends.
    AwaitThreads {
        /// The main thread.
        task: Task,
        /// How many non-daemon threads are still alive.
        live: u32,
    },
    /// A process ends and its threads still alive end with it.
    ThreadsEnd {
        /// The process (an index in [`super::Report::processes`]).
        proc: u32,
        /// How many threads end with it.
        count: u32,
        /// How many of them are daemon threads.
        daemons: u32,
    },
    /// A zombie was reaped: its exit status collected, its pid free again.
    Reaped {
        /// The process.
        p: u32,
        /// Who reaped it: its parent, or `None` for init.
        by: Option<u32>,
        /// The tick it ended (a zombie since).
        ended_at: u64,
    },
}

/// Why a thread let go of its process's GIL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GilWhy {
    /// Its slice ran out: CPython's switch interval makes the holder drop the GIL.
    SliceEnd,
    /// It blocks.
    Blocks,
    /// It ends.
    Ends,
    /// A more urgent task took its CPU.
    Preempted,
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

/// What the words of a decision or a transition need to know of a process beyond the
/// decision itself: the simulated kernel's records while it runs, or a finished report.
pub trait Facts {
    /// Its name, as the scenario gives it (the renderer escapes it).
    fn name(&self, p: u32) -> String;
    /// The process that created it by `start`, if one did.
    fn creator(&self, p: u32) -> Option<u32>;
    /// Its exit code, once it has ended.
    fn exitcode(&self, p: u32) -> Option<i64>;
    /// The signal that killed it, if one did.
    fn signal(&self, p: u32) -> Option<String>;
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
