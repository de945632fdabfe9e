//! The words of a transition in `procsim run FILE --explain`: `P2: ready → running,
//! dispatched on CPU 0`, with why it happened as the trace tells it (a decision's words are
//! [`super::explain_text`]'s).

use crate::model::{Cause, State};

use super::TraceEvent;
use super::explain::Facts;
use super::explain_text::plural;
use super::text::escape;

/// A transition's line; `held` is how long the task was in the state it leaves, `thread`
/// its thread's name when the event carries a `tid`.
pub(super) fn transition_text(
    e: &TraceEvent,
    thread: Option<&str>,
    held: u64,
    facts: &dyn Facts,
) -> String {
    let name = |p: u32| escape(&facts.name(p)).into_owned();
    let who = match (e.tid, thread) {
        (Some(_), Some(thread)) => format!("{}/{}", name(e.proc), escape(thread)),
        _ => name(e.proc),
    };
    // A task of a process with several threads: the words say thread where a process alone
    // could only mean a child.
    let threaded = e.tid.is_some();
    let other = e.is_other_thread();
    let arrow = format!("{} → {}", e.from, e.to);
    let cpu = e.cpu.map_or_else(String::new, |c| format!(" on CPU {c}"));
    let why = match e.cause {
        Cause::Admit if other => "admitted: a thread of its process started it".to_owned(),
        Cause::Admit => match facts.creator(e.proc) {
            Some(c) => format!("admitted: its parent {} ran start", name(c)),
            None => "admitted: its arrival tick".to_owned(),
        },
        Cause::Dispatch => format!("dispatched{cpu}"),
        Cause::Preempt => format!("preempted{cpu}"),
        Cause::Io => "blocks on io".to_owned(),
        Cause::Sleep => "blocks on sleep".to_owned(),
        Cause::Join if threaded => {
            "blocks in join, waiting for a thread or a child to end".to_owned()
        }
        Cause::Join => "blocks in join, waiting for a child to end".to_owned(),
        Cause::Wait => "blocks in wait, waiting for any child to end".to_owned(),
        Cause::IoDone => "wakes: its io is done".to_owned(),
        Cause::Wake => "wakes: its sleep is over".to_owned(),
        Cause::ChildExit if threaded => "wakes: what it waited for ended".to_owned(),
        Cause::ChildExit => "wakes: the child it waited for ended".to_owned(),
        Cause::Timeout if threaded => {
            "wakes: its join timed out, the one it joined lives on".to_owned()
        }
        Cause::Timeout => "wakes: its join timed out, the child lives on".to_owned(),
        Cause::Lock => "blocks acquiring a lock another thread holds".to_owned(),
        Cause::LockAcquired => "wakes: a release handed it the lock".to_owned(),
        // A thread has no exit code: the process's is its main thread's.
        Cause::Exit if other => format!("ends{cpu}"),
        Cause::Exit => {
            let code = facts
                .exitcode(e.proc)
                .map_or_else(String::new, |c| format!(", exit code {c}"));
            format!("ends{cpu}{code}")
        }
        // The process's end is told on the line before (its signal may be recorded only
        // after its threads have ended).
        Cause::Signal if other => "ends with its process (exit_group)".to_owned(),
        Cause::Signal => match facts.signal(e.proc) {
            Some(sig) => format!("killed by {sig}"),
            None if threaded => "ends with its process (exit_group)".to_owned(),
            None => "killed by a signal".to_owned(),
        },
    };
    let since = e.t - held;
    let held = match e.from {
        State::Blocked => format!(
            ", after {held} tick{} blocked (since tick {since})",
            plural(held)
        ),
        State::Running if held == 0 => " [0 ticks running]".to_owned(),
        _ => String::new(),
    };
    format!("{who}: {arrow}, {why}{held}")
}
