//! Binding a call's arguments to a program's parameters, as CPython binds them.
//!
//! Both backends bind in the child, at its first run, because that is where Python raises the
//! `TypeError`: creating the `Process` object succeeds and the child fails with exit code 1.

use std::sync::Arc;

use super::PyError;
use crate::model::Value;
use crate::program::Code;

/// Binds arguments to parameters the way CPython does, with its messages: positional
/// arguments first, then keywords (an unknown keyword or a second value for a parameter is an
/// error), then too many positional arguments, then missing ones.
///
/// ```
/// use std::sync::Arc;
/// use procsim::{Value, process::bind, program::Code};
/// let code = Code { name: "work1".into(), params: vec!["a".into(), "b".into()], ops: vec![] };
/// let bound = bind(&code, vec![Value::Int(1)], vec![(Arc::from("b"), Value::Int(2))]).unwrap();
/// assert_eq!(bound, vec![Value::Int(1), Value::Int(2)]);
/// ```
pub fn bind(
    code: &Code,
    args: Vec<Value>,
    kwargs: Vec<(Arc<str>, Value)>,
) -> Result<Vec<Value>, PyError> {
    let f = &code.name;
    let n = code.params.len();
    let given = args.len();
    let mut slots: Vec<Option<Value>> = vec![None; n];
    for (slot, a) in slots.iter_mut().zip(args) {
        *slot = Some(a);
    }
    for (k, v) in kwargs {
        match code.params.iter().position(|p| *p == k) {
            None => {
                return Err(PyError::UnexpectedKeyword(Arc::clone(f), k));
            }
            Some(i) if slots[i].is_some() => {
                return Err(PyError::MultipleValues(Arc::clone(f), k));
            }
            Some(i) => slots[i] = Some(v),
        }
    }
    if given > n {
        return Err(PyError::TooManyPositional {
            program: Arc::clone(f),
            params: n,
            given,
        });
    }
    let missing: Vec<String> = code
        .params
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| format!("'{p}'"))
        .collect();
    if !missing.is_empty() {
        let names = match missing.len() {
            1 => missing[0].clone(),
            2 => format!("{} and {}", missing[0], missing[1]),
            k => format!("{}, and {}", missing[..k - 1].join(", "), missing[k - 1]),
        };
        return Err(PyError::Missing {
            program: Arc::clone(f),
            count: missing.len(),
            names,
        });
    }
    Ok(slots
        .into_iter()
        .map(|s| s.unwrap_or(Value::None))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(params: &[&str]) -> Code {
        Code {
            name: "work1".into(),
            params: params.iter().map(|p| Arc::from(*p)).collect(),
            ops: vec![],
        }
    }

    fn kw(pairs: &[(&str, i64)]) -> Vec<(Arc<str>, Value)> {
        pairs
            .iter()
            .map(|(k, v)| (Arc::from(*k), Value::Int(*v)))
            .collect()
    }

    #[test]
    fn binds_like_python() {
        let c = code(&["a", "b", "c"]);
        let ok = bind(&c, vec![Value::Int(10)], kw(&[("c", 100), ("b", 10)])).unwrap();
        assert_eq!(ok, vec![Value::Int(10), Value::Int(10), Value::Int(100)]);
        let e = bind(&c, vec![Value::Int(1), Value::Int(2)], kw(&[("b", 3)])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() got multiple values for argument 'b'"
        );
        let e = bind(&c, vec![], kw(&[("d", 1)])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() got an unexpected keyword argument 'd'"
        );
        let e = bind(&c, vec![Value::Int(1); 4], vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() takes 3 positional arguments but 4 were given"
        );
        let e = bind(&c, vec![Value::Int(1)], vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() missing 2 required positional arguments: 'b' and 'c'"
        );
        let e = bind(&c, vec![], vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() missing 3 required positional arguments: 'a', 'b', and 'c'"
        );
        let e = bind(&code(&["a"]), vec![Value::Int(1); 2], vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() takes 1 positional argument but 2 were given"
        );
        let e = bind(&code(&[]), vec![Value::Int(1)], vec![]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: work1() takes 0 positional arguments but 1 was given"
        );
    }
}
