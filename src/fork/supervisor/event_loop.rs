//! The run's middle and end: the supervisor's event loop (events in, children reaped, the
//! fences and the timeout watched, the CLI's stop heard) and the stop that ends it all
//! (SIGTERM to every process of the run, SIGKILL after the grace period).

use std::io;
use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal as NixSignal, kill};
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use super::Supervisor;
use crate::fork::isolate::{Input, Isolation};
use crate::fork::observe;
use crate::fork::protocol::{Event, Status};

impl Supervisor {
    /// Takes every queued event; returns how many there were.
    pub(super) fn drain(&mut self) -> usize {
        let mut n = 0;
        loop {
            match self.rx.try_recv() {
                Ok(Some(Ok(events))) => {
                    if self.relays_as_sent(&events) {
                        for e in &events {
                            self.take(e);
                        }
                        self.emit_text();
                    } else {
                        for e in &events {
                            self.note(e);
                        }
                    }
                }
                Ok(Some(Err(msg))) => self.note(&Event::Fault {
                    key: None,
                    message: format!("unreadable event: {msg}"),
                }),
                Ok(None) | Err(_) => return n,
            }
            n += 1;
        }
    }

    /// Starts a graceful stop: SIGTERM to every process of the run, SIGKILL after the grace
    /// period. The first reason given is the one reported.
    pub(super) fn stop(&mut self, reason: String) {
        if self.error.is_none() {
            self.error = Some(reason);
        }
        if self.kill_at.is_some() || self.cli_gone {
            return;
        }
        self.killed = self
            .known
            .order
            .iter()
            .filter(|k| self.known.procs.get(*k).is_some_and(|p| p.1 && !p.2))
            .cloned()
            .collect();
        self.signal_all(NixSignal::SIGTERM);
        self.kill_at = Some(self.now_us() + self.grace_ms * 1000);
    }

    /// A signal to every process of the run: the whole namespace, or the run's group.
    pub(super) fn signal_all(&self, sig: NixSignal) {
        match self.isolation {
            // From a namespace's init, -1 means every other process in the namespace.
            Isolation::Namespace => {
                let _ = kill(Pid::from_raw(-1), sig);
            }
            Isolation::Subreaper(_) => {
                if let Some(g) = self.pgid {
                    let _ = kill(Pid::from_raw(-g.as_raw()), sig);
                }
            }
        }
    }

    /// Whether any process of the run still exists (a zombie counts).
    pub(super) fn any_left(&self) -> bool {
        let target = match self.isolation {
            Isolation::Namespace => Pid::from_raw(-1),
            Isolation::Subreaper(_) => match self.pgid {
                Some(g) => Pid::from_raw(-g.as_raw()),
                None => return self.has_children(),
            },
        };
        // Its own children first: `waitid` looks at this process's children only, where
        // `kill(-1, 0)` walks every process of the host (tens of µs on a busy one, once a
        // millisecond while events stream in). While a child (or a zombie) is left, the
        // answer is yes either way.
        self.has_children() || kill(target, None).is_ok()
    }

    pub(super) fn has_children(&self) -> bool {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        !matches!(waitid(Id::All, flags), Err(nix::Error::ECHILD))
    }

    /// Reaps every child that has ended: the top-level processes and the orphans init
    /// adopted. Only the supervisor may wait for any child; every process of the run is one
    /// of its descendants.
    pub(super) fn reap_all(&mut self) {
        loop {
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
            let pid = match waitid(Id::All, flags) {
                Ok(ws) => match ws.pid() {
                    Some(pid) => pid,
                    None => return,
                },
                Err(nix::Error::EINTR) => continue,
                Err(_) => return,
            };
            // Its last events were sent before it died: take them before saying it was reaped.
            self.drain();
            let (status, figures) = observe::reap_zombie(pid.as_raw());
            let t = self.now_us();
            self.slots.give_back(1);
            let key = self.known.by_pid.remove(&(pid.as_raw() as u32));
            if key.is_none() && self.error.is_some() {
                // Killed by the stop before it or its parent could say which process it was
                // (its events were still queued): nothing to report about it.
                continue;
            }
            let ev = Event::Reaped {
                key,
                pid: pid.as_raw() as u32,
                t,
                by_init: true,
                status: status.unwrap_or(Status::Exited(0)),
                figures,
            };
            self.note(&ev);
        }
    }

    pub(super) fn main_loop(&mut self, input: &mut Input, sfd: &SignalFd) {
        let deadline = self.timeout_ms.map(|ms| ms.saturating_mul(1000));
        let max_ticks_us = self
            .plan
            .kernel
            .max_ticks
            .saturating_mul(self.setup_tick_us);
        let mut next_progress_us = 1_000_000u64;
        loop {
            let busy = self.drain() > 0;
            self.reap_all();
            self.report_refusals(false);
            if self.now_us() >= next_progress_us {
                let t = self.now_us();
                let live = self.slots.taken();
                self.emit(&Event::Progress { t, live });
                next_progress_us = t + 1_000_000;
            }
            self.flush();
            if !self.any_left() {
                self.drain();
                return;
            }
            let now = self.now_us();
            if let Some(d) = deadline
                && now >= d
            {
                if self.kill_at.is_none() && !self.cli_gone && self.error.is_none() {
                    let message = format!(
                        "wall-clock fence: the run reached its limit of {} s ({}; --timeout or kernel.real_timeout_s set another)",
                        d as f64 / 1e6,
                        self.fences.timeout_by
                    );
                    self.emit(&Event::Fence { key: None, message });
                }
                self.stop(format!(
                    "timed out after {} s; the processes still running were terminated",
                    d as f64 / 1e6
                ));
            }
            if now >= max_ticks_us {
                let ticks = self.plan.kernel.max_ticks;
                self.stop(format!(
                    "stopped: kernel.max_ticks ({ticks} ticks of {} µs) reached with processes still running; raise it in the scenario's \"kernel\" block",
                    self.setup_tick_us
                ));
            }
            if let Some(k) = self.kill_at
                && now >= k
            {
                self.signal_all(NixSignal::SIGKILL);
                self.kill_at = None;
            }
            self.deliver_outside(now);
            // Wake for the next deadline, and at least every 50 ms to look around.
            let mut wait_us: u64 = 50_000;
            for d in [
                deadline,
                self.kill_at,
                Some(max_ticks_us),
                self.next_outside_us(),
                Some(next_progress_us),
            ]
            .into_iter()
            .flatten()
            {
                wait_us = wait_us.min(d.saturating_sub(now));
            }
            // While events stream in, take them in batches: for a millisecond the socket is
            // left out of the poll set, so a process sending an event wakes nobody (a
            // wake-up is a cross-CPU interrupt paid by the sender, on the run's CPU). Child
            // deaths (SIGCHLD) and stop requests still wake the supervisor at once. When
            // quiet, it sleeps until the next event.
            if busy {
                wait_us = wait_us.min(1000);
            }
            let ms = wait_us.div_ceil(1000).min(u16::MAX as u64) as u16;
            let stdin = io::stdin();
            let mut fds = vec![PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
            let watch_stdin = !input.closed;
            if watch_stdin {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
            if !busy {
                fds.push(PollFd::new(self.rx.fd(), PollFlags::POLLIN));
            }
            let _ = poll(&mut fds, PollTimeout::from(ms));
            let stdin_ready = watch_stdin && fds[1].revents().is_some_and(|r| !r.is_empty());
            drop(fds);
            self.signals(sfd);
            if stdin_ready {
                if input.take_stop() {
                    self.stop("interrupted".into());
                } else if input.closed {
                    self.lost_cli();
                }
            }
        }
    }

    pub(super) fn signals(&mut self, sfd: &SignalFd) {
        while let Ok(Some(info)) = sfd.read_signal() {
            let sig = info.ssi_signo as i32;
            if sig == libc::SIGTERM || sig == libc::SIGINT || sig == libc::SIGHUP {
                let name = NixSignal::try_from(sig).map_or("a signal", |s| s.as_str());
                self.stop(format!("interrupted by {name}"));
            }
        }
    }
}
