//! `set`, `add` and `append` on a process's own copy of a global, with Python's semantics and
//! error messages.

use super::PyError;
use crate::model::Value;
use crate::program::AssignOp;

/// Applies `op` with `value` to `slot`. Returns the items and characters the assignment
/// copied or made (the value; for `+=` the sum), which count against `kernel.max_steps`
/// ([`copy_steps`]): the weights `add` and `append` check anyway, not walked again.
///
/// ```
/// use procsim::{Value, process::apply_assign, program::AssignOp};
/// let mut v = Value::Int(1);
/// apply_assign(AssignOp::Add, &mut v, Value::Int(2)).unwrap();
/// assert_eq!(v, Value::Int(3));
/// let e = apply_assign(AssignOp::Append, &mut v, Value::Int(2)).unwrap_err();
/// assert_eq!(e.to_string(), "AttributeError: 'int' object has no attribute 'append'");
/// ```
pub fn apply_assign(op: AssignOp, slot: &mut Value, value: Value) -> Result<u64, PyError> {
    let copied = value.weight();
    match op {
        AssignOp::Set => *slot = value,
        AssignOp::Add => {
            let sum = slot.weight().saturating_add(copied);
            check_size(sum)?;
            *slot = add(slot, value)?;
            return Ok(sum);
        }
        AssignOp::Append => match slot {
            Value::List(items) => {
                check_size(weight_of(items).saturating_add(copied))?;
                if value.depth() >= MAX_VALUE_DEPTH {
                    return Err(PyError::TooDeep);
                }
                items.push(value);
            }
            other => {
                return Err(PyError::NoAppend(other.type_name()));
            }
        },
    }
    Ok(copied)
}

/// The most items and characters one value may hold. `add` and `append` of a value to itself
/// double it, so without a cap a loop of 64 of them exhausts any machine before `max_steps`
/// can stop it (found by fuzzing). Python's own answer to running out is a `MemoryError`.
pub const MAX_VALUE_WEIGHT: u64 = 1 << 20;

/// The deepest a list may nest (`[[[…]]]`: a list of scalars is 1 deep). `append` is the one
/// instruction that nests, a level at a time; a loop of `set b []`, `append b $a`, `set a $b`
/// could otherwise nest a list as deep as [`MAX_VALUE_WEIGHT`] allows, and every walk of a
/// value (its copy, its comparison, its text) is recursive: a stack overflow at some tens of
/// thousands of levels (found in review). 100 keeps every walk shallow, and a value within the
/// JSON nesting that the fork backend's messages may carry. CPython nests deeper, but fails
/// with a `RecursionError` to print or pickle (to send to a child) a list nested ~1,000 deep.
pub const MAX_VALUE_DEPTH: u32 = 100;

/// Items and characters an instruction may copy or print for each step it counts against
/// `kernel.max_steps` beyond its own. A step is otherwise an instruction, whatever it does:
/// a loop of `set t $s` on a string of a million characters ran 10^5 steps in 8 s, so the
/// default 10^8 steps would have let it run two hours (found in review). At one step more a
/// 1,024 copied, such a loop costs about what a loop of cheap instructions does a step, and
/// a value of fewer than 1,024 items and characters counts no more than before.
pub const COPY_PER_STEP: u64 = 1024;

/// The steps beyond its own that an instruction which copied or printed `items` items and
/// characters counts ([`COPY_PER_STEP`]).
pub fn copy_steps(items: u64) -> u64 {
    items / COPY_PER_STEP
}

fn check_size(weight: u64) -> Result<(), PyError> {
    if weight > MAX_VALUE_WEIGHT {
        return Err(PyError::TooBig);
    }
    Ok(())
}

fn weight_of(items: &[Value]) -> u64 {
    items.iter().fold(1, |w, v| w.saturating_add(v.weight()))
}

/// `+=` on two values, as Python does it for the types procsim has.
pub fn add(slot: &Value, value: Value) -> Result<Value, PyError> {
    // A bool is an int to Python (`True + 1 == 2`); the sum is an int.
    let as_int = |v: &Value| match v {
        Value::Bool(b) => Value::Int(i64::from(*b)),
        other => other.clone(),
    };
    let (slot, value) = match (slot, &value) {
        (Value::Bool(_), Value::Int(_) | Value::Bool(_)) | (Value::Int(_), Value::Bool(_)) => {
            (&as_int(slot), as_int(&value))
        }
        _ => (slot, value),
    };
    Ok(match (slot, value) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.checked_add(b).ok_or(PyError::Overflow)?),
        (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
        (Value::List(a), Value::List(b)) => Value::List(a.iter().cloned().chain(b).collect()),
        (a, b) => {
            return Err(PyError::Unsupported(a.type_name(), b.type_name()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bool_adds_as_an_int() {
        assert_eq!(
            add(&Value::Bool(true), Value::Int(1)).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            add(&Value::Int(1), Value::Bool(true)).unwrap(),
            Value::Int(2)
        );
        assert_eq!(
            add(&Value::Bool(true), Value::Str("a".into()))
                .unwrap_err()
                .to_string(),
            "TypeError: unsupported operand type(s) for +=: 'bool' and 'str'"
        );
    }

    #[test]
    fn add_follows_python() {
        assert_eq!(
            add(&Value::Str("a".into()), Value::Str("b".into())).unwrap(),
            Value::Str("ab".into())
        );
        assert!(
            add(&Value::Int(i64::MAX), Value::Int(1))
                .unwrap_err()
                .to_string()
                .starts_with("OverflowError")
        );
        assert_eq!(
            add(&Value::Int(1), Value::Str("b".into()))
                .unwrap_err()
                .to_string(),
            "TypeError: unsupported operand type(s) for +=: 'int' and 'str'"
        );
    }

    #[test]
    fn appending_nests_a_list_at_most_max_value_depth_deep() {
        // set b [], append b $a, set a $b: a level a pass.
        let mut a = Value::List(Vec::new());
        let mut passes = 0;
        let err = loop {
            let mut b = Value::List(Vec::new());
            if let Err(e) = apply_assign(AssignOp::Append, &mut b, a.clone()) {
                break e;
            }
            a = b;
            passes += 1;
        };
        assert_eq!(a.depth(), MAX_VALUE_DEPTH);
        assert_eq!(passes, MAX_VALUE_DEPTH - 1);
        assert_eq!(
            err.to_string(),
            "RecursionError: a list may nest at most 100 deep in procsim"
        );
        // Appending a scalar to the deepest list is fine: it does not nest further.
        apply_assign(AssignOp::Append, &mut a, Value::Int(1)).unwrap();
    }

    #[test]
    fn values_that_double_stop_at_the_cap_with_a_memory_error() {
        let mut s = Value::Str("ab".into());
        let mut err = None;
        for _ in 0..64 {
            let copy = s.clone();
            if let Err(e) = apply_assign(AssignOp::Add, &mut s, copy) {
                err = Some(e);
                break;
            }
        }
        assert!(err.unwrap().to_string().starts_with("MemoryError"));
        assert!(s.weight() <= MAX_VALUE_WEIGHT);
        let mut l = Value::List(vec![Value::Int(1)]);
        let mut err = None;
        for _ in 0..64 {
            let copy = l.clone();
            if let Err(e) = apply_assign(AssignOp::Append, &mut l, copy) {
                err = Some(e);
                break;
            }
        }
        assert!(err.unwrap().to_string().starts_with("MemoryError"));
    }
}
