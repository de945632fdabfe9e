//! The errors a Python program would raise, each message written once.
//!
//! A process that raises one of these ends as an uncaught exception ends a multiprocessing
//! child: the message on its error output, exit code 1. Both backends raise them through the
//! rules of this module, so the text a user reads is the same on either.

use std::sync::Arc;

use thiserror::Error;

/// An exception of the process API, with CPython 3.11's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PyError {
    /// `os.fork()` at the process limit (`kernel.max_processes` or `kernel.pid_max`).
    #[error("BlockingIOError: [Errno 11] Resource temporarily unavailable")]
    Again,
    /// `os.wait()` without a child.
    #[error("ChildProcessError: [Errno 10] No child processes")]
    NoChild,
    /// A handle or object that this process does not hold (yet).
    #[error("NameError: name '{0}' is not defined")]
    NotDefined(Arc<str>),
    /// `start()` on a started process.
    #[error("AssertionError: cannot start a process twice")]
    StartTwice,
    /// `start()` on a process another process created.
    #[error("AssertionError: can only start a process object created by current process")]
    StartNotOwn,
    /// `start()` (or `fork`) in a daemon.
    #[error("AssertionError: daemonic processes are not allowed to have children")]
    DaemonChildren,
    /// `join()` on a process that is not a child (or on itself).
    #[error("AssertionError: can only join a child process")]
    JoinNotChild,
    /// `join()` before `start()`.
    #[error("AssertionError: can only join a started process")]
    JoinUnstarted,
    /// `kill()`/`terminate()` where `_popen` is `None`: on itself, or before `start()`.
    #[error("AttributeError: 'NoneType' object has no attribute '{0}'")]
    NoPopen(&'static str),
    /// `kill()`/`terminate()` on a process that is not a child (SPEC §4; see D1 in
    /// docs/notes-proc.md).
    #[error("AssertionError: can only {0} a child process")]
    SignalNotChild(&'static str),
    /// An attribute of something that is not a process (`{x.alive}` where `x` is no handle).
    #[error("AttributeError: '{0}' object has no attribute '{1}'")]
    NoAttribute(&'static str, &'static str),
    /// A keyword that names no parameter.
    #[error("TypeError: {0}() got an unexpected keyword argument '{1}'")]
    UnexpectedKeyword(Arc<str>, Arc<str>),
    /// A parameter given by position and by keyword.
    #[error("TypeError: {0}() got multiple values for argument '{1}'")]
    MultipleValues(Arc<str>, Arc<str>),
    /// More positional arguments than parameters.
    #[error(
        "TypeError: {program}() takes {params} positional argument{} but {given} {} given",
        plural(*params), were(*given)
    )]
    TooManyPositional {
        /// The program.
        program: Arc<str>,
        /// Its parameter count.
        params: usize,
        /// The positional arguments given.
        given: usize,
    },
    /// Parameters left without a value (`names` already quoted and joined as CPython does).
    #[error(
        "TypeError: {program}() missing {count} required positional argument{}: {names}",
        plural(*count)
    )]
    Missing {
        /// The program.
        program: Arc<str>,
        /// How many are missing.
        count: usize,
        /// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`.
        names: String,
    },
    /// A negative number of ticks (`what` names the instruction).
    #[error("ValueError: {what} needs a non-negative number of ticks, got {got}")]
    NegativeTicks {
        /// The instruction.
        what: &'static str,
        /// The value.
        got: i64,
    },
    /// A number of ticks that is not an integer.
    #[error("TypeError: {what} needs an integer number of ticks, got {type_name} {repr}")]
    TicksType {
        /// The instruction.
        what: &'static str,
        /// The value's type.
        type_name: &'static str,
        /// The value's `repr`.
        repr: String,
    },
    /// `os._exit` given something that is not an int.
    #[error("TypeError: '{0}' object cannot be interpreted as an integer")]
    NotAnInteger(&'static str),
    /// `append` on something that is not a list.
    #[error("AttributeError: '{0}' object has no attribute 'append'")]
    NoAppend(&'static str),
    /// `+=` on types that do not add.
    #[error("TypeError: unsupported operand type(s) for +=: '{0}' and '{1}'")]
    Unsupported(&'static str, &'static str),
    /// An integer sum outside 64 bits.
    #[error("OverflowError: the sum does not fit in the 64-bit integers procsim supports")]
    Overflow,
    /// A value grown past [`crate::process::MAX_VALUE_WEIGHT`].
    #[error(
        "MemoryError: a value may hold at most {} items and characters in procsim",
        crate::process::MAX_VALUE_WEIGHT
    )]
    TooBig,
    /// An `append` that would nest a list past [`crate::process::MAX_VALUE_DEPTH`].
    #[error(
        "RecursionError: a list may nest at most {} deep in procsim",
        crate::process::MAX_VALUE_DEPTH
    )]
    TooDeep,
    /// A `print` whose line would pass [`crate::scenario::MAX_LINE_BYTES`].
    #[error(
        "MemoryError: a line of output may hold at most {} bytes in procsim",
        crate::scenario::MAX_LINE_BYTES
    )]
    LineTooLong,
    /// `Thread.start()` when no thread can be made (`kernel.max_processes` or `pid_max`: a
    /// thread takes a task and an id, as on Linux).
    #[error("RuntimeError: can't start new thread")]
    ThreadStart,
    /// `start` of a thread handle: a `thread` has started it already.
    #[error("RuntimeError: threads can only be started once")]
    ThreadStartTwice,
    /// `release()` of a lock that no thread holds.
    #[error("RuntimeError: release unlocked lock")]
    ReleaseUnlocked,
    /// `join()` of the thread that is running it.
    #[error("RuntimeError: cannot join current thread")]
    JoinCurrentThread,
    /// `fail`: the scenario's own message, as the last line of a traceback.
    #[error("{0}")]
    Raised(Arc<str>),
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn were(n: usize) -> &'static str {
    if n == 1 { "was" } else { "were" }
}

/// What stops a whole run (exit 3), as opposed to what ends one process.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Limit {
    /// `kernel.max_steps` instructions ran (`at` says when or where).
    #[error(
        "stopped {at}: kernel.max_steps ({max}) steps executed (instructions, and a step for each 1,024 items and characters copied or printed); a loop may never let time pass (raise max_steps if the work is real)"
    )]
    MaxSteps {
        /// `at tick 5` on the simulated kernel, `in Process-1` on real processes.
        at: String,
        /// The limit.
        max: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_cpythons() {
        let e = PyError::TooManyPositional {
            program: "work1".into(),
            params: 1,
            given: 2,
        };
        assert_eq!(
            e.to_string(),
            "TypeError: work1() takes 1 positional argument but 2 were given"
        );
        let e = PyError::Missing {
            program: "work1".into(),
            count: 2,
            names: "'b' and 'c'".into(),
        };
        assert_eq!(
            e.to_string(),
            "TypeError: work1() missing 2 required positional arguments: 'b' and 'c'"
        );
        assert_eq!(
            PyError::NoPopen("kill").to_string(),
            "AttributeError: 'NoneType' object has no attribute 'kill'"
        );
        assert_eq!(
            PyError::NoAttribute("Thread", "kill").to_string(),
            "AttributeError: 'Thread' object has no attribute 'kill'"
        );
    }
}
