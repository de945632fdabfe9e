//! Signals from outside (SPEC §4 `events`), as `kill -9 PID` typed in a shell: the
//! supervisor sends each at its tick to the first process of its name that has started and
//! not ended. A signal to a process not alive then does nothing. What follows is the kernel's:
//! the process ends at once, runs nothing more, and its children go to init (this
//! supervisor); whoever reaps it reports the status.

use nix::sys::signal::{Signal as NixSignal, kill};
use nix::unistd::Pid;

use super::Supervisor;
use crate::fork::protocol::{Event, Key};
use crate::process::{NotAlive, outside_not_delivered};
use crate::program::Signal;

impl Supervisor {
    /// When the next outside signal is due, µs after the epoch.
    pub(super) fn next_outside_us(&self) -> Option<u64> {
        self.plan
            .events
            .get(self.next_outside)
            .map(|e| e.at.saturating_mul(self.setup_tick_us))
    }

    /// Sends the outside signals due by `now` (µs after the epoch).
    pub(super) fn deliver_outside(&mut self, now: u64) {
        while let Some(due) = self.next_outside_us()
            && due <= now
        {
            let e = self.plan.events[self.next_outside].clone();
            self.next_outside += 1;
            let named = |k: &&Key| self.known.names.get(*k) == Some(&e.to);
            let target = self.known.order.iter().filter(named).find(|k| {
                self.known
                    .procs
                    .get(*k)
                    .is_some_and(|(_, started, ended)| *started && !*ended)
            });
            let Some(key) = target.cloned() else {
                // SPEC §4: it does nothing, and the report says so.
                let ended = self.known.order.iter().filter(named).any(|k| {
                    self.known
                        .procs
                        .get(k)
                        .is_some_and(|(_, started, ended)| *started && *ended)
                });
                let why = if ended {
                    NotAlive::Ended
                } else {
                    NotAlive::NotStarted
                };
                let text = outside_not_delivered(e.signal, &e.to, why);
                let t = self.now_us();
                self.note(&Event::Note { t, text });
                continue;
            };
            let Some(pid) = self
                .known
                .by_pid
                .iter()
                .find(|(_, k)| **k == key)
                .map(|(pid, _)| *pid)
            else {
                continue;
            };
            let sig = match e.signal {
                Signal::Kill => NixSignal::SIGKILL,
                Signal::Term => NixSignal::SIGTERM,
            };
            // The pid is this run's: the process has not been reaped (its end is not known).
            if kill(Pid::from_raw(pid as i32), sig).is_ok() {
                let t = self.now_us();
                self.note(&Event::Signalled { key, t });
            }
        }
    }
}
