//! The checks Python's `Process` methods make before they act, in their order.

use super::PyError;
use crate::program::Signal;

/// What a handle instruction is about to do with the process it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleUse {
    /// `start` (and the `start` half of `fork`).
    Start,
    /// `join`.
    Join,
    /// `kill` / `terminate`.
    Signal(Signal),
}

/// What the caller knows about the process a handle names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleFacts {
    /// The handle names the caller itself (`self`).
    pub is_self: bool,
    /// The caller created it (and it has not been reparented).
    pub is_child: bool,
    /// It has been started.
    pub started: bool,
    /// The caller is a daemon.
    pub caller_daemon: bool,
    /// The handle names a thread (`threading.Thread`), not a process; `is_self` then means
    /// the calling thread itself.
    pub is_thread: bool,
}

/// Checks a handle use the way multiprocessing's `BaseProcess` methods do, in their order.
///
/// ```
/// use procsim::process::{check_handle_use, HandleFacts, HandleUse, PyError};
/// let facts = HandleFacts {
///     is_self: false, is_child: true, started: true, caller_daemon: false, is_thread: false,
/// };
/// assert_eq!(check_handle_use(HandleUse::Start, facts), Err(PyError::StartTwice));
/// assert!(check_handle_use(HandleUse::Join, facts).is_ok());
/// ```
pub fn check_handle_use(purpose: HandleUse, f: HandleFacts) -> Result<(), PyError> {
    if f.is_thread {
        return check_thread_use(purpose, f);
    }
    match purpose {
        HandleUse::Start => {
            // The order of multiprocessing's assertions in `BaseProcess.start`.
            if !f.is_self && f.started {
                return Err(PyError::StartTwice);
            }
            if !f.is_child {
                return Err(PyError::StartNotOwn);
            }
            if f.caller_daemon {
                return Err(PyError::DaemonChildren);
            }
        }
        HandleUse::Join => {
            if !f.is_child {
                return Err(PyError::JoinNotChild);
            }
            if !f.started {
                return Err(PyError::JoinUnstarted);
            }
        }
        HandleUse::Signal(sig) => {
            // In a process's own view of itself (and in an unstarted Process) `_popen` is
            // None, so Python fails on the attribute.
            if f.is_self || !f.started {
                return Err(PyError::NoPopen(sig.method()));
            }
            if !f.is_child {
                return Err(PyError::SignalNotChild(sig.method()));
            }
        }
    }
    Ok(())
}

/// The checks of `threading.Thread`'s methods: a thread is started by the `thread` that made
/// it, so `start` finds it started; it may not join itself; it has no `kill` or `terminate`.
fn check_thread_use(purpose: HandleUse, f: HandleFacts) -> Result<(), PyError> {
    match purpose {
        HandleUse::Start => Err(PyError::ThreadStartTwice),
        HandleUse::Join if f.is_self => Err(PyError::JoinCurrentThread),
        HandleUse::Join => Ok(()),
        HandleUse::Signal(sig) => Err(PyError::NoAttribute("Thread", sig.method())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_cannot_start_even_the_child_it_just_made() {
        // `fork` is `spawn` then `start`: the start checks run on the new child too.
        let fresh = HandleFacts {
            is_self: false,
            is_child: true,
            started: false,
            caller_daemon: true,
            is_thread: false,
        };
        assert_eq!(
            check_handle_use(HandleUse::Start, fresh),
            Err(PyError::DaemonChildren)
        );
        let me = HandleFacts {
            is_self: true,
            is_child: false,
            started: true,
            caller_daemon: false,
            is_thread: false,
        };
        assert_eq!(
            check_handle_use(HandleUse::Signal(Signal::Kill), me),
            Err(PyError::NoPopen("kill"))
        );
        assert_eq!(
            check_handle_use(HandleUse::Join, me),
            Err(PyError::JoinNotChild)
        );
    }

    #[test]
    fn a_thread_handle_has_threads_rules() {
        let other = HandleFacts {
            is_self: false,
            is_child: false,
            started: true,
            caller_daemon: true,
            is_thread: true,
        };
        assert!(check_handle_use(HandleUse::Join, other).is_ok());
        let me = HandleFacts {
            is_self: true,
            ..other
        };
        assert_eq!(
            check_handle_use(HandleUse::Join, me),
            Err(PyError::JoinCurrentThread)
        );
        assert_eq!(
            check_handle_use(HandleUse::Signal(Signal::Term), other).map_err(|e| e.to_string()),
            Err("AttributeError: 'Thread' object has no attribute 'terminate'".into())
        );
        assert_eq!(
            check_handle_use(HandleUse::Start, other),
            Err(PyError::ThreadStartTwice)
        );
    }
}
