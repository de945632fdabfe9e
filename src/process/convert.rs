//! Turning values into the numbers instructions need: tick counts and exit codes.

use super::PyError;
use crate::model::Value;

/// A tick count: a non-negative integer; `what` names the instruction in the message.
pub fn ticks(v: Value, what: &'static str) -> Result<u64, PyError> {
    match v {
        Value::Int(i) if i >= 0 => Ok(i as u64),
        Value::Int(got) => Err(PyError::NegativeTicks { what, got }),
        other => Err(PyError::TicksType {
            what,
            type_name: other.type_name(),
            repr: other.repr(),
        }),
    }
}

/// The exit code `exit E` gives, and the message it prints, as multiprocessing's
/// `_bootstrap` handles `SystemExit`: an int (a bool is one) is the code, `None` is 0, anything
/// else is printed (`str()`) and gives 1.
///
/// ```
/// use procsim::{Value, process::exit_status};
/// assert_eq!(exit_status(Value::Int(256 + 3)), (3, None));
/// assert_eq!(exit_status(Value::Str("bye".into())), (1, Some("bye".into())));
/// assert_eq!(exit_status(Value::Bool(true)), (1, None));
/// assert_eq!(exit_status(Value::Int(-1)), (255, None));
/// ```
pub fn exit_status(v: Value) -> (i32, Option<String>) {
    match v {
        // As on Linux, only the low 8 bits of an exit status survive.
        Value::Int(i) => ((i & 0xff) as i32, None),
        // A bool is an int to Python: `sys.exit(True)` is exit code 1, printing nothing.
        Value::Bool(b) => (i32::from(b), None),
        Value::None => (0, None),
        other => (1, Some(other.to_string())),
    }
}
