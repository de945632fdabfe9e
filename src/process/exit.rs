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
/// also waits for the process's non-daemon threads, as `threading._shutdown` does, and a
/// backend resumes in [`shutdown_threads_then_end`] when they have ended. When it waits
/// depends on the process, as in CPython 3.11:
/// - a top-level process (`MainProcess`), or any process under the `posix` policy (an
///   `os.fork` child ends through the interpreter's shutdown too): the threads first, then
///   the children, since the interpreter's shutdown runs `threading._shutdown` before
///   atexit's `multiprocessing.util._exit_function`;
/// - a child started by `Process.start()` under the `multiprocessing` policy: the children
///   first, then the threads, since `BaseProcess._bootstrap` calls `_exit_function` in a
///   `finally` right after the target returns and `threading._shutdown` only after that;
///   the child then leaves by `os._exit`, so a child that a thread started after the joins
///   is left to init.
pub fn end_by_itself<H: Host>(h: &mut H, code: i32) -> H::Yield {
    if !h.is_main_thread() {
        return h.end_thread();
    }
    if !children_first(h) {
        return shutdown_threads_then_end(h, code);
    }
    run_finalizers(h);
    if let Some(y) = h.halted() {
        return y;
    }
    end_children(h, code)
}

/// Whether the process ends its children before it waits for its threads
/// ([`end_by_itself`]).
fn children_first<H: Host>(h: &H) -> bool {
    h.exit_policy() == ExitPolicy::Multiprocessing && h.is_child()
}

/// The main thread at `threading._shutdown`: waits for the non-daemon threads, then the
/// finalizers of what the process still holds, then (top-level order) its children, or
/// (child order, the children already joined) the end. A backend resumes here when the
/// threads it waited for have ended.
pub fn shutdown_threads_then_end<H: Host>(h: &mut H, code: i32) -> H::Yield {
    if let std::ops::ControlFlow::Break(y) = h.await_threads(code) {
        return y;
    }
    run_finalizers(h);
    if let Some(y) = h.halted() {
        return y;
    }
    if children_first(h) {
        // `os._exit` after `_bootstrap`: children started since the joins are left to init.
        h.orphan_children();
        return h.terminate(code);
    }
    end_children(h, code)
}

/// Drops what the process still holds, newest first, each finalizer printing here.
fn run_finalizers<H: Host>(h: &mut H) {
    for (_, fin) in h.take_objects().into_iter().rev() {
        super::finalize(h, fin.as_deref());
    }
}

/// multiprocessing's exit handler (or the posix policy): SIGTERM to the live daemon
/// children, then the joins, or the orphaning of the others.
fn end_children<H: Host>(h: &mut H, code: i32) -> H::Yield {
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

/// multiprocessing's exit handler: joins each started child in creation order, then ends
/// (a child process first waits for its threads: [`end_by_itself`]).
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
    if children_first(h) {
        return shutdown_threads_then_end(h, code);
    }
    h.terminate(code)
}
