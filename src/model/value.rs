//! Values of globals, parameters and arguments: the few Python values a scenario needs.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A value a program computes with. Printed the way Python's `str()` prints it.
///
/// ```
/// use procsim::Value;
/// let v = Value::List(vec![Value::Int(1), Value::Str("a".into()), Value::Bool(true)]);
/// assert_eq!(v.to_string(), "[1, 'a', True]");
/// assert_eq!(Value::None.to_string(), "None");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Python's `None` (JSON `null`).
    None,
    /// `True` / `False`.
    Bool(bool),
    /// A 64-bit signed integer; arithmetic on it is checked.
    Int(i64),
    /// A string.
    Str(String),
    /// A list, the target of `append`.
    List(Vec<Value>),
}

impl Value {
    /// The Python type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "str",
            Value::List(_) => "list",
        }
    }

    /// A measure of size: characters of a string, 1 for a scalar, and a list's items' weights
    /// plus 1. Bounded values keep a scenario from exhausting memory.
    pub fn weight(&self) -> u64 {
        match self {
            Value::None | Value::Bool(_) | Value::Int(_) => 1,
            Value::Str(s) => s.len() as u64,
            Value::List(items) => items.iter().fold(1u64, |w, v| w.saturating_add(v.weight())),
        }
    }

    /// How deep lists nest in it: 0 for a scalar or a string, 1 for a list of them, and so on
    /// (bounded by [`crate::process::MAX_VALUE_DEPTH`], which `append` keeps).
    pub fn depth(&self) -> u32 {
        match self {
            Value::List(items) => 1 + items.iter().map(Value::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The bytes the value takes in memory: its own (every value is the same size) and those
    /// of its characters and items. What `kernel.max_value_bytes` counts: a list of a million
    /// integers weighs a million ([`Value::weight`]) but takes 32 MB.
    pub fn footprint(&self) -> u64 {
        let own = std::mem::size_of::<Value>() as u64;
        match self {
            Value::None | Value::Bool(_) | Value::Int(_) => own,
            Value::Str(s) => own.saturating_add(s.len() as u64),
            Value::List(items) => items
                .iter()
                .fold(own, |w, v| w.saturating_add(v.footprint())),
        }
    }

    /// Python's `repr()`: strings quoted as Python quotes them, everything else as `str()`.
    pub fn repr(&self) -> String {
        match self {
            Value::Str(s) => {
                let quote = if s.contains('\'') && !s.contains('"') {
                    '"'
                } else {
                    '\''
                };
                let mut out = String::with_capacity(s.len() + 2);
                out.push(quote);
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        c if c == quote => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if !printable(c) => {
                            use std::fmt::Write;
                            let n = c as u32;
                            let _ = match n {
                                0..=0xff => write!(out, "\\x{n:02x}"),
                                0x100..=0xffff => write!(out, "\\u{n:04x}"),
                                _ => write!(out, "\\U{n:08x}"),
                            };
                        }
                        c => out.push(c),
                    }
                }
                out.push(quote);
                out
            }
            other => other.to_string(),
        }
    }
}

/// Whether Python's `str.isprintable()` holds for `c`, which decides whether `repr` escapes
/// it: not for the control characters (C0, DEL, C1) and the separators and format characters
/// other than the space (Unicode categories Zs, Zl, Zp, Cf), nor for private-use code points.
/// Unassigned code points, which Python also escapes, are not known here and print as they
/// are.
fn printable(c: char) -> bool {
    !matches!(c as u32,
        0..=0x1f | 0x7f..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x1680
        | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f
        | 0x3000 | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0xe0001 | 0xe0020..=0xe007f
        | 0xf0000..)
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&item.repr())?;
                }
                f.write_str("]")
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::None => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Str(x) => s.serialize_str(x),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, a string, a boolean, null or a list of these")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u).map(Value::Int).map_err(|_| {
            E::custom(format!(
                "integer {u} is out of range (at most {})",
                i64::MAX
            ))
        })
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Err(E::custom(format!(
            "floating point number {x} is not supported; use an integer"
        )))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_python() {
        assert_eq!(Value::Str("it's".into()).repr(), "\"it's\"");
        assert_eq!(Value::Str("a'\"b".into()).repr(), "'a\\'\"b'");
        assert_eq!(Value::Str("ab".into()).repr(), "'ab'");
        assert_eq!(Value::Int(-3).to_string(), "-3");
        assert_eq!(Value::Bool(false).to_string(), "False");
        assert_eq!(
            Value::List(vec![Value::None, Value::List(vec![])]).to_string(),
            "[None, []]"
        );
    }

    #[test]
    fn json_round_trip_and_rejections() {
        let v: Value = serde_json::from_str(r#"[1, "x", null, true, [2]]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[1,"x",null,true,[2]]"#
        );
        assert!(serde_json::from_str::<Value>("1.5").is_err());
        assert!(serde_json::from_str::<Value>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<Value>(r#"{"a": 1}"#).is_err());
    }
}
