//! Signals from outside (SPEC §4 `events`), as `kill -9 PID` typed in a shell: each goes at
//! its tick to the first process of its name, in the order the processes were made, that is
//! alive (admitted and not ended).
//!
//! Finding that process used to mean walking every record and spelling its name, for every
//! signal: 20,000 signals among 100,000 processes took 263 s (1.4 s of CPU since, most of it
//! round robin's queue searched for each killed process). Now the kernel keeps, for each
//! name some signal is sent to and for no other, the processes of that name admitted so far,
//! in slot order, and a signal takes the first that has not ended. A process that ended is
//! dropped when a signal finds it first, so that each admitted process costs a signal one
//! look at most once.
//!
//! Slot order is the order made because a run with outside signals gives back no record
//! (`Kernel::recycle_in_batches_of` refuses it): slots are handed out at the table's end.

use std::collections::{BTreeSet, HashMap};

use super::pcb::NONE;
use super::{Kernel, Policy};
use crate::model::State;
use crate::process::{NotAlive, outside_not_delivered};
use crate::program::OutsideEvent;

/// The admitted processes of each name the plan's outside signals go to.
#[derive(Debug, Default)]
pub(super) struct Targets {
    by_name: HashMap<Box<str>, Named>,
}

/// The processes of one name, as the signals to that name need them.
#[derive(Debug, Default)]
struct Named {
    /// Admitted processes of this name, by slot (the order made); those that ended leave
    /// when a signal comes across them first.
    admitted: BTreeSet<u32>,
    /// A process of this name was admitted and has ended: a signal that finds none alive
    /// says "ended" rather than "not started".
    ended: bool,
}

impl Targets {
    /// The names the signals go to; `None` when there is no signal, so that a run without
    /// any pays one branch an admission.
    pub(super) fn of(events: &[OutsideEvent]) -> Option<Targets> {
        if events.is_empty() {
            return None;
        }
        let by_name = events
            .iter()
            .map(|e| (Box::from(e.to.as_str()), Named::default()))
            .collect();
        Some(Targets { by_name })
    }

    /// Whether a signal goes to `name`.
    fn watches(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}

impl<P: Policy> Kernel<P> {
    /// Process `p` was admitted (`new → ready`): if a signal goes to its name, it becomes a
    /// target. Threads are no targets: a signal names a process.
    #[inline]
    pub(super) fn note_admitted(&mut self, p: u32) {
        let Some(targets) = self.outside.as_ref() else {
            return;
        };
        if self.is_thread(p) {
            return;
        }
        let name = self.name_of(p);
        if !targets.watches(&name) {
            return;
        }
        if let Some(named) = self
            .outside
            .as_mut()
            .and_then(|t| t.by_name.get_mut(&*name))
        {
            named.admitted.insert(p);
        }
    }

    /// The tick of the next outside signal ([`NONE`] when none is left): the fast paths stop
    /// there, as they stop at an arrival, so that the general rounds deliver it.
    #[inline(always)]
    pub(super) fn next_outside_at(&self) -> u64 {
        self.plan
            .events
            .get(self.next_outside)
            .map_or(NONE, |e| e.at)
    }

    /// Sends the outside signals due at tick `t` (SPEC §4 `events`), each to the first
    /// process of its name that is alive: started (a top-level process has arrived, a child
    /// has been started) and not ended. One to a process not alive does nothing, and the
    /// report's notes say so. (Signals come first in a tick: a top-level process that
    /// arrives at the signal's tick has not arrived yet.)
    pub(super) fn deliver_outside(&mut self, t: u64) {
        while let Some(e) = self.plan.events.get(self.next_outside) {
            if e.at != t {
                break;
            }
            self.next_outside += 1;
            let (to, sig) = (e.to.clone(), e.signal);
            let (target, ended) = self.first_alive(&to);
            match target {
                Some(q) => self.signal(q, sig),
                None => {
                    let why = if ended {
                        NotAlive::Ended
                    } else {
                        NotAlive::NotStarted
                    };
                    self.note(outside_not_delivered(sig, &to, why));
                }
            }
        }
    }

    /// The first admitted process named `to` that has not ended, dropping those before it
    /// that have; and whether one of that name has ended.
    fn first_alive(&mut self, to: &str) -> (Option<u32>, bool) {
        let Some(named) = self.outside.as_mut().and_then(|t| t.by_name.get_mut(to)) else {
            return (None, false);
        };
        while let Some(&q) = named.admitted.first() {
            if self.hot[q as usize].state != State::Terminated {
                return (Some(q), named.ended);
            }
            named.admitted.pop_first();
            named.ended = true;
        }
        (None, named.ended)
    }
}
