//! What the report says of a signal that found no live process (SPEC §4: it does nothing,
//! and the report says so), worded once for both backends.

use crate::program::Signal;

/// Why a signal reached nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAlive {
    /// The process has ended (a zombie, or reaped).
    Ended,
    /// No process of that name has started yet (a top-level process not yet arrived, a child
    /// not yet started, or none made yet).
    NotStarted,
}

/// `kill()`/`terminate()` run by `sender` on its child `target`, which had ended: CPython's
/// `Popen` sees the return code and sends nothing.
///
/// ```
/// use procsim::process::signal_to_ended;
/// use procsim::program::Signal;
/// assert_eq!(
///     signal_to_ended("MainProcess", Signal::Term, "Process-1"),
///     "MainProcess: terminate() of Process-1 sent nothing: it had ended (a no-op, as in CPython)"
/// );
/// ```
pub fn signal_to_ended(sender: &str, sig: Signal, target: &str) -> String {
    format!(
        "{sender}: {}() of {target} sent nothing: it had ended (a no-op, as in CPython)",
        sig.method()
    )
}

/// An outside signal (`events`) to `to`, which was not alive then.
///
/// ```
/// use procsim::process::{NotAlive, outside_not_delivered};
/// use procsim::program::Signal;
/// assert_eq!(
///     outside_not_delivered(Signal::Kill, "Process-2", NotAlive::Ended),
///     "SIGKILL from outside to Process-2 sent nothing: it had ended"
/// );
/// ```
pub fn outside_not_delivered(sig: Signal, to: &str, why: NotAlive) -> String {
    let why = match why {
        NotAlive::Ended => "it had ended",
        NotAlive::NotStarted => "no process of that name had started",
    };
    format!("{} from outside to {to} sent nothing: {why}", sig.name())
}

/// The notes a run keeps at most: a loop that signals an ended child a million times must not
/// make a million notes. The ones past it are counted in one last note.
pub const MAX_NOTES: usize = 1000;

/// The last note of a run that made more than [`MAX_NOTES`].
pub fn notes_left_out(n: u64) -> String {
    format!("… and {n} more notes of the same kinds, not kept")
}
