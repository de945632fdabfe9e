//! The checks Python's `Process` methods make before they act, with their messages.

use super::Signal;

/// What a handle instruction is about to do with the process it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleUse {
    /// `start`.
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
}

/// Checks a handle use the way multiprocessing's `BaseProcess` methods do, in their order.
///
/// ```
/// use procsim::program::{check_handle_use, HandleFacts, HandleUse};
/// let facts = HandleFacts { is_self: false, is_child: true, started: true, caller_daemon: false };
/// assert_eq!(check_handle_use(HandleUse::Start, facts).unwrap_err(),
///            "AssertionError: cannot start a process twice");
/// assert!(check_handle_use(HandleUse::Join, facts).is_ok());
/// ```
pub fn check_handle_use(purpose: HandleUse, f: HandleFacts) -> Result<(), String> {
    match purpose {
        HandleUse::Start => {
            // The order of multiprocessing's assertions in `BaseProcess.start`.
            if !f.is_self && f.started {
                return Err("AssertionError: cannot start a process twice".into());
            }
            if !f.is_child {
                return Err(
                    "AssertionError: can only start a process object created by current process"
                        .into(),
                );
            }
            if f.caller_daemon {
                return Err(
                    "AssertionError: daemonic processes are not allowed to have children".into(),
                );
            }
        }
        HandleUse::Join => {
            if !f.is_child {
                return Err("AssertionError: can only join a child process".into());
            }
            if !f.started {
                return Err("AssertionError: can only join a started process".into());
            }
        }
        HandleUse::Signal(sig) => {
            // In a process's own view of itself (and in an unstarted Process) `_popen` is
            // None, so Python fails on the attribute.
            if f.is_self || !f.started {
                return Err(format!(
                    "AttributeError: 'NoneType' object has no attribute '{}'",
                    sig.method()
                ));
            }
            if !f.is_child {
                return Err(format!(
                    "AssertionError: can only {} a child process",
                    sig.method()
                ));
            }
        }
    }
    Ok(())
}
