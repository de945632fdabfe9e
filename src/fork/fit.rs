//! A real run's trace, kept to states a real kernel can have: never more processes `running`
//! than the run has CPUs.
//!
//! Each process reports its own transitions, at its instruction boundaries, so a process that
//! loses its CPU between two of them (to a child it forked, to a process that woke) cannot say
//! so until it runs again, and one killed meanwhile never says so. But a process that reports
//! something at time `t` was executing at `t`: when that makes one process too many
//! `running`, the one that has been running longest without a word (the earliest dispatch)
//! was in fact `ready` from `t` on (`running → ready`, cause `preempt`). On one CPU that is
//! exact; on several it is the likeliest choice. The displaced process becomes `running`
//! again (`ready → running`, `dispatch`) when it next reports something it did, or is
//! `ready → terminated` if a signal ended it first, as in the model.

use crate::model::{Cause, State};
use crate::report::TraceEvent;

/// The trace (sorted by time) with displaced processes made `ready` while another ran, and
/// how many displacements that took. `proofs` are other moments a process was seen executing
/// (`(process, time)`, e.g. a sender when it saw its signal's target die), sorted by time.
pub fn fit_to_cpus(
    trace: Vec<TraceEvent>,
    proofs: &[(u32, u64)],
    procs: usize,
    cpus: u32,
) -> (Vec<TraceEvent>, u64) {
    let cpus = cpus.max(1) as usize;
    let mut state = vec![State::New; procs];
    // Processes `running` now, with the time each was dispatched.
    let mut running: Vec<(u32, u64)> = Vec::new();
    let mut out = Vec::with_capacity(trace.len());
    let mut displaced = 0u64;
    let mut proofs = proofs.iter().peekable();
    for e in trace {
        let i = e.proc as usize;
        if i >= procs {
            continue;
        }
        // A process seen executing at or before this event, while displaced, ran again then.
        while let Some(&&(p, t)) = proofs.peek()
            && t <= e.t
        {
            proofs.next();
            if (p as usize) < procs && state[p as usize] == State::Ready && was_running(&out, p) {
                let at = TraceEvent { t, proc: p, ..e };
                displaced += make_room(&mut out, &mut state, &mut running, &at, cpus);
                out.push(TraceEvent {
                    t,
                    proc: p,
                    pid: pid_of(&out, p),
                    from: State::Ready,
                    to: State::Running,
                    cause: Cause::Dispatch,
                    cpu: None,
                    tid: None,
                });
                state[p as usize] = State::Running;
                running.push((p, t));
            }
        }
        let push = |out: &mut Vec<TraceEvent>,
                    state: &mut Vec<State>,
                    running: &mut Vec<(u32, u64)>,
                    to: State,
                    cause: Cause| {
            let from = state[i];
            out.push(TraceEvent {
                from,
                to,
                cause,
                ..e
            });
            state[i] = to;
            running.retain(|(p, _)| *p != e.proc);
            if to == State::Running {
                running.push((e.proc, e.t));
            }
        };
        if e.from == State::Running && state[i] == State::Ready {
            // Displaced before: what it reports now tells when it ran again.
            match (e.to, e.cause) {
                // It saw a preemption itself: it is ready already.
                (State::Ready, _) => continue,
                // Killed while it waited for a CPU.
                (State::Terminated, Cause::Signal) => {
                    push(
                        &mut out,
                        &mut state,
                        &mut running,
                        State::Terminated,
                        Cause::Signal,
                    );
                    continue;
                }
                // It ran again to do this.
                _ => {
                    displaced += make_room(&mut out, &mut state, &mut running, &e, cpus);
                    push(
                        &mut out,
                        &mut state,
                        &mut running,
                        State::Running,
                        Cause::Dispatch,
                    );
                }
            }
        } else if e.to == State::Running {
            displaced += make_room(&mut out, &mut state, &mut running, &e, cpus);
        }
        if state[i] != e.from {
            // Not a state this process is in (cannot happen once the above holds): leave it
            // out rather than report an impossible edge.
            continue;
        }
        push(&mut out, &mut state, &mut running, e.to, e.cause);
    }
    (out, displaced)
}

/// The pid the trace last gave a process.
fn pid_of(out: &[TraceEvent], p: u32) -> u32 {
    out.iter().rev().find(|x| x.proc == p).map_or(0, |x| x.pid)
}

/// Whether `p` is `ready` because it was displaced (its last transition: `running → ready`,
/// not a wake-up or an admission, which the process itself reports when it runs).
fn was_running(out: &[TraceEvent], p: u32) -> bool {
    out.iter()
        .rev()
        .find(|x| x.proc == p)
        .is_some_and(|x| x.from == State::Running && x.to == State::Ready)
}

/// Before `e.proc` runs at `e.t`: while all CPUs are taken by others, the one dispatched
/// earliest goes back to `ready`.
fn make_room(
    out: &mut Vec<TraceEvent>,
    state: &mut [State],
    running: &mut Vec<(u32, u64)>,
    e: &TraceEvent,
    cpus: usize,
) -> u64 {
    let mut n = 0;
    loop {
        let others: Vec<(u32, u64)> = running
            .iter()
            .copied()
            .filter(|(p, _)| *p != e.proc)
            .collect();
        if others.len() < cpus {
            return n;
        }
        let Some(&(victim, _)) = others.iter().min_by_key(|(p, since)| (*since, *p)) else {
            return n;
        };
        out.push(TraceEvent {
            t: e.t,
            proc: victim,
            pid: pid_of(out, victim),
            from: State::Running,
            to: State::Ready,
            cause: Cause::Preempt,
            cpu: None,
            tid: None,
        });
        state[victim as usize] = State::Ready;
        running.retain(|(p, _)| *p != victim);
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::is_legal_transition;

    fn ev(t: u64, proc: u32, from: State, to: State, cause: Cause) -> TraceEvent {
        TraceEvent {
            t,
            proc,
            pid: proc + 2,
            from,
            to,
            cause,
            cpu: None,
            tid: None,
        }
    }

    fn most_running(trace: &[TraceEvent], procs: usize) -> usize {
        let mut state = vec![State::New; procs];
        let mut most = 0;
        for e in trace {
            assert_eq!(state[e.proc as usize], e.from, "{e:?}");
            assert!(is_legal_transition(e.from, e.to, e.cause), "{e:?}");
            state[e.proc as usize] = e.to;
            most = most.max(state.iter().filter(|s| **s == State::Running).count());
        }
        most
    }

    use State::*;

    #[test]
    fn a_parent_that_runs_again_displaces_its_children_and_they_die_ready() {
        // sched-cfs-nice-fork on one CPU: the parent forks two CPU burners, sleeps, wakes and
        // kills them while they wait for the CPU it has.
        let trace = vec![
            ev(0, 0, New, Ready, Cause::Admit),
            ev(1, 0, Ready, Running, Cause::Dispatch),
            ev(2, 1, New, Ready, Cause::Admit),
            ev(3, 2, New, Ready, Cause::Admit),
            ev(4, 0, Running, Blocked, Cause::Sleep),
            ev(5, 1, Ready, Running, Cause::Dispatch),
            ev(6, 2, Ready, Running, Cause::Dispatch),
            ev(300, 0, Blocked, Ready, Cause::Wake),
            ev(301, 0, Ready, Running, Cause::Dispatch),
            ev(302, 1, Running, Terminated, Cause::Signal),
            ev(303, 2, Running, Terminated, Cause::Signal),
            ev(304, 0, Running, Terminated, Cause::Exit),
        ];
        assert_eq!(most_running(&trace, 3), 3);
        let (fit, displaced) = fit_to_cpus(trace, &[], 3, 1);
        assert_eq!(most_running(&fit, 3), 1);
        assert_eq!(displaced, 2);
        let ends: Vec<(u32, State)> = fit
            .iter()
            .filter(|e| e.to == Terminated)
            .map(|e| (e.proc, e.from))
            .collect();
        assert_eq!(ends, [(1, Ready), (2, Ready), (0, Running)]);
    }

    #[test]
    fn a_displaced_process_runs_again_when_it_reports_what_it_did() {
        let trace = vec![
            ev(0, 0, New, Ready, Cause::Admit),
            ev(1, 0, Ready, Running, Cause::Dispatch),
            ev(2, 1, New, Ready, Cause::Admit),
            ev(3, 1, Ready, Running, Cause::Dispatch),
            ev(9, 0, Running, Blocked, Cause::Join),
            ev(10, 1, Running, Terminated, Cause::Exit),
        ];
        let (fit, _) = fit_to_cpus(trace, &[], 2, 1);
        assert_eq!(most_running(&fit, 2), 1);
        let main: Vec<(u64, State, State)> = fit
            .iter()
            .filter(|e| e.proc == 0)
            .map(|e| (e.t, e.from, e.to))
            .collect();
        assert_eq!(
            main,
            [
                (0, New, Ready),
                (1, Ready, Running),
                (3, Running, Ready),
                (9, Ready, Running),
                (9, Running, Blocked)
            ]
        );
        // Two CPUs: nothing to change.
        let trace2 = fit.clone();
        assert_eq!(fit_to_cpus(trace2.clone(), &[], 2, 2).0.len(), trace2.len());
    }

    #[test]
    fn a_sender_seen_executing_takes_the_cpu_from_the_process_it_kills() {
        // The parent was displaced by its child; it kills the child (no transition of its
        // own), and sees it die at 50: it ran then, so the child was ready when it died.
        let trace = vec![
            ev(0, 0, New, Ready, Cause::Admit),
            ev(1, 0, Ready, Running, Cause::Dispatch),
            ev(2, 1, New, Ready, Cause::Admit),
            ev(3, 1, Ready, Running, Cause::Dispatch),
            ev(50, 1, Running, Terminated, Cause::Signal),
            ev(60, 0, Running, Terminated, Cause::Exit),
        ];
        let (fit, _) = fit_to_cpus(trace, &[(0, 50)], 2, 1);
        assert_eq!(most_running(&fit, 2), 1);
        let child: Vec<(State, State)> = fit
            .iter()
            .filter(|e| e.proc == 1)
            .map(|e| (e.from, e.to))
            .collect();
        assert_eq!(child.last(), Some(&(Ready, Terminated)), "{fit:?}");
    }
}
