//! How a process ends by itself (end of program, `exit`, or an error): SPEC §4's exit
//! sequence, the same on both backends.

use super::{Host, PyError};
use crate::program::Signal;
use crate::scenario::ExitPolicy;

/// Ends as an uncaught exception does: the message on the error output, then exit code 1.
/// In a thread other than the main one, the message goes to its process's errors (as
/// threading's excepthook prints it to stderr) and only that thread ends: the process goes
/// on and its exit code is not changed.
pub fn fail<H: Host>(h: &mut H, e: PyError) -> H::Yield {
    h.error(e.to_string());
    end_by_itself(h, 1)
}

/// The process finished its program, called `exit`, or raised an error: its finalizers run
/// (newest object first, each printing in this process), its live daemon children get
/// SIGTERM, then the exit policy: `multiprocessing` joins the other children in creation
/// order before ending, `posix` ends at once and leaves them to init.
///
/// With threads (SPEC §4a): a thread other than the main one ends alone; the main thread
/// first waits for the process's non-daemon threads, as `threading._shutdown` does, and a
/// backend resumes here when they have ended.
pub fn end_by_itself<H: Host>(h: &mut H, code: i32) -> H::Yield {
    if !h.is_main_thread() {
        return h.end_thread();
    }
    if let std::ops::ControlFlow::Break(y) = h.await_threads(code) {
        return y;
    }
    for (_, fin) in h.take_objects().into_iter().rev() {
        super::finalize(h, fin.as_deref());
    }
    if let Some(y) = h.halted() {
        return y;
    }
    // multiprocessing's exit handler asks `active_children()`, which reaps those that have
    // ended, before it terminates the daemons (procsim's posix policy leaves them to init).
    if h.exit_policy() == ExitPolicy::Multiprocessing {
        super::reap_ended_children(h);
    }
    for k in h.live_children() {
        if h.child_is_daemon(k) {
            h.send_signal(k, Signal::Term);
        }
    }
    match h.exit_policy() {
        ExitPolicy::Multiprocessing => {
            h.begin_joins(code);
            join_children_then_end(h, code)
        }
        ExitPolicy::Posix => {
            h.orphan_children();
            h.terminate(code)
        }
    }
}

/// multiprocessing's exit handler: joins each started child in creation order, then ends.
/// A backend that had to give the CPU up during a join resumes here.
///
/// A join without a timeout returns only once it has reaped the child ([`Host::join`]), so
/// the next child to join is always the first one not reaped: asking for it, rather than
/// listing them all at each resumption, keeps a process with N children at O(N) joins.
pub fn join_children_then_end<H: Host>(h: &mut H, code: i32) -> H::Yield {
    let mut last = None;
    while let Some(k) = h.first_live_child() {
        // A backend whose join broke that contract would have this loop join `k` forever.
        debug_assert!(
            last != Some(k),
            "a join without a timeout left its child unreaped"
        );
        if last == Some(k) {
            break;
        }
        if let std::ops::ControlFlow::Break(y) = h.join(k, None) {
            return y;
        }
        last = Some(k);
    }
    h.terminate(code)
}
