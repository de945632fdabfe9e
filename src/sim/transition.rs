//! The state changes every path ends in (SPEC §2): arrivals admitted (`new → ready`), timers
//! fired and the blocked woken (`blocked → ready`), a running process blocked, and
//! [`Kernel::transition`], which checks the change against the state machine, keeps the time
//! accounting and records it. The fast paths fold some of these into their loops; each says
//! which one it stands for.

use super::pcb::{NONE, WaitOn};
use super::sched::{self, Leave, Usage};
use super::timers::{Timer, TimerKind};
use super::{Kernel, Policy, Run};
use crate::model::{Cause, State, is_legal_transition};

impl<P: Policy> Kernel<P> {
    /// Admits the processes whose arrival is at `t`, in the order they were declared.
    pub(super) fn admit_arrivals(&mut self, t: u64) {
        while let Some(&(at, first, copies)) = self.arrivals.get(self.next_arrival) {
            if at != t {
                break;
            }
            self.next_arrival += 1;
            for p in first..first + copies {
                if self.hot[p as usize].state == State::New {
                    self.admit(p);
                }
            }
        }
        self.next_arrival_at = self.arrivals.get(self.next_arrival).map_or(NONE, |a| a.0);
    }

    /// Fires every timer due at `t` (none is due before: the kernel asks for each tick at
    /// which one fires, in order).
    #[inline(always)]
    pub(super) fn fire_timers(&mut self, t: u64) {
        while let Some(timer) = self.timers.pop_due(t) {
            self.fire(timer);
        }
    }

    /// What a timer taken from the queue does when it fires: it is counted off its process's
    /// entry, and wakes the process if that still waits on it. A process leaves an `io` or
    /// `sleep` only by its timer or by ending, so such a timer whose process is not blocked
    /// belongs to one that was killed. A join's timeout may have been overtaken by the
    /// child's end (`join_timed_out`). The shortcuts that fire the commonest timer their own
    /// way (`wake_popped`) send every other here.
    #[inline(always)]
    pub(super) fn fire(&mut self, timer: Timer) {
        self.count_timer(timer.p, false);
        if self.hot[timer.p as usize].state == State::Blocked {
            if timer.kind == TimerKind::JoinTimeout {
                self.join_timed_out(timer);
                return;
            }
            debug_assert_eq!(self.procs[timer.p as usize].wait_on(), WaitOn::Nothing);
            self.wake(timer.p, timer.cause());
        }
    }

    /// `new → ready`: an arrival or a `start`.
    pub(super) fn admit(&mut self, p: u32) {
        let t = self.now;
        self.procs[p as usize].admitted_at = t;
        self.transition(p, State::Ready, Cause::Admit, None);
        self.admitted.push(p);
        self.note_admitted(p);
    }

    /// `blocked → ready`.
    #[inline(always)]
    pub(super) fn wake(&mut self, p: u32, cause: Cause) {
        if cause == Cause::ChildExit {
            self.procs[p as usize].set_wait_on(WaitOn::Nothing);
        }
        let hot = &self.hot[p as usize];
        let key = (hot.since, hot.pid, p);
        self.transition(p, State::Ready, cause, None);
        self.woken.push(key);
    }

    /// `running → blocked` on CPU `c`: on a timer of `ticks` (`io`, `sleep`) or until a
    /// child ends (`join`, `wait`).
    pub(super) fn block(&mut self, p: u32, c: u32, cause: Cause, ticks: u64) {
        let t = self.now;
        // Only a join or a wait is noted; an `io` or `sleep` (the common block) leaves the
        // task's `Pcb` unread, as it does in a run without threads.
        if self.threads_on && matches!(cause, Cause::Join | Cause::Wait) {
            self.note_join(p);
        }
        let mut usage = Usage {
            ran: 0,
            slice_left: 0,
        };
        if let Run::Running {
            p: q, slice_end, ..
        } = self.cpus[c as usize].run
            && q == p
        {
            // A slice end at the last tick is no slice end (`t + UNLIMITED` saturates).
            usage.slice_left = if slice_end == NONE {
                sched::UNLIMITED
            } else {
                slice_end - t
            };
            usage.ran = t - self.cpus[c as usize].since;
            self.cpus[c as usize].run = Run::Idle;
        }
        if self.needs.block_charges {
            self.policy.charge(p, Leave::Block, usage, t);
        }
        match cause {
            Cause::Io | Cause::Sleep => {
                self.set_timer(Timer {
                    at: t.saturating_add(ticks),
                    since: t,
                    pid: self.hot[p as usize].pid,
                    p,
                    kind: if cause == Cause::Sleep {
                        TimerKind::Sleep
                    } else {
                        TimerKind::Io
                    },
                });
            }
            // The caller has set `wait_on` to the child (or children) awaited.
            _ => {}
        }
        self.transition(p, State::Blocked, cause, Some(c));
    }

    /// Records a transition and keeps the time accounting.
    #[inline(always)]
    pub(super) fn transition(&mut self, p: u32, to: State, cause: Cause, cpu: Option<u32>) {
        let t = self.now;
        let hot = &mut self.hot[p as usize];
        let from = hot.state;
        debug_assert!(
            is_legal_transition(from, to, cause),
            "illegal transition {from} → {to} ({cause}) of process {p}"
        );
        hot.account(t);
        hot.state = to;
        if self.threads_on && from == State::Running {
            self.gil_release(p);
        }
        self.record(t, p, from, to, cause, cpu);
    }
}
