//! serde's type errors in procsim's words. serde names Rust types (`expected struct Wait`,
//! `expected u64`, `invalid type: map`); a scenario's author writes JSON and should read what
//! JSON value was expected and which one was found.

use super::{ErrorKind, ScenarioError};

/// `message` reworded when it is one of serde's `invalid type` / `invalid value` errors
/// (`invalid type: integer `3`, expected struct Wait` → `expected an object …, found the
/// number 3`); other messages are returned as they are. Any text after the expectation
/// (serde's own suffix, such as a policy's prefix) is kept.
pub(crate) fn reword(message: &str) -> String {
    // "unknown field `x`, expected one of `a`, `b`" / "…, there are no fields"
    if let Some(at) = message.find("unknown field `") {
        let (before, rest) = message.split_at(at);
        let rest = &rest["unknown field `".len()..];
        if let Some((found, expected)) = rest.split_once("`, ") {
            let accepted = match expected.strip_prefix("expected ") {
                Some(list) => format!("expected {}", names_list(list)),
                None => "this object takes no keys".to_owned(),
            };
            return format!("{before}unknown key {found:?}: {accepted}");
        }
        if let Some(found) = rest.strip_suffix('`') {
            return format!("{before}unknown key {found:?}");
        }
    }
    // "missing field `as`", "duplicate field `x`"
    for (prefix, missing) in [("missing field `", true), ("duplicate field `", false)] {
        if let Some(at) = message.find(prefix) {
            let (before, rest) = message.split_at(at);
            if let Some(name) = rest[prefix.len()..].strip_suffix('`') {
                return if missing {
                    format!("{before}this object needs the key {name:?}")
                } else {
                    format!("{before}the key {name:?} appears twice")
                };
            }
        }
    }
    // "unknown variant `x`, expected `a` or `b`" (or "expected one of `a`, `b`, `c`").
    if let Some(at) = message.find("unknown variant `") {
        let (before, rest) = message.split_at(at);
        let rest = &rest["unknown variant `".len()..];
        if let Some((found, expected)) = rest.split_once("`, ") {
            let accepted = names_list(expected);
            return format!("{before}expected {accepted}, found {found:?}");
        }
    }
    // "invalid length 3, expected a tuple of size 2"
    if let Some(at) = message.find("invalid length ") {
        let (before, rest) = message.split_at(at);
        if let Some((n, expected)) = rest["invalid length ".len()..].split_once(", expected ") {
            return format!(
                "{before}expected {}, found a list of {n}",
                expected_words(expected)
            );
        }
    }
    // An untagged enum without its own `expecting` words: serde would name the Rust type.
    if let Some(at) = message.find("data did not match any variant of untagged enum") {
        return format!(
            "{}this value has none of the forms accepted here (`procsim schema` lists them)",
            &message[..at]
        );
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(at) = message.find(prefix) {
            let (before, rest) = message.split_at(at);
            let rest = &rest[prefix.len()..];
            if let Some((found, expected)) = rest.split_once(", expected ") {
                return format!(
                    "{before}expected {}, found {}",
                    expected_words(expected),
                    found_words(found)
                );
            }
        }
    }
    message.to_owned()
}

/// serde's list of accepted names (`` `a` ``, `` `a` or `b` ``, `` one of `a`, `b`, `c` ``) as
/// JSON strings: `"a"`, `one of "a", "b"`.
pub(crate) fn names_list(expected: &str) -> String {
    let names: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|n| format!("{n:?}"))
        .collect();
    match names.as_slice() {
        [] => "nothing here".to_owned(),
        [one] => one.clone(),
        _ => format!("one of {}", names.join(", ")),
    }
}

/// What serde says it found, as JSON.
fn found_words(found: &str) -> String {
    let quoted = |prefix: &str| {
        found
            .strip_prefix(prefix)
            .and_then(|s| s.strip_prefix('`'))
            .and_then(|s| s.strip_suffix('`'))
            .map(str::to_owned)
    };
    if let Some(n) = quoted("integer ").or_else(|| quoted("floating point ")) {
        return format!("the number {n}");
    }
    if let Some(b) = quoted("boolean ") {
        return b;
    }
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the string {s}");
    }
    match found {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "null" | "unit value" | "unit" => "null".into(),
        other => other.into(),
    }
}

/// What serde says it expected, in the words of the file format.
fn expected_words(expected: &str) -> String {
    if let Some(name) = expected.strip_prefix("struct ") {
        return match name {
            "Wait" => "an object (`{}`, or `{\"as\": HANDLE}`)",
            "Repeat" => "an object with \"times\" and \"body\"",
            "Spawn" => "an object with \"program\" (and \"as\", \"args\", \"kwargs\", … as needed)",
            "Assign" => "an object with \"name\" and \"value\"",
            "NewObject" => "an object with \"as\" (and \"finalizer\" as needed)",
            _ => "an object",
        }
        .into();
    }
    let whole = |max: &str| format!("a whole number from 0 to {max}");
    match expected {
        "u64" => whole("18446744073709551615"),
        "u32" => whole("4294967295"),
        "u16" => whole("65535"),
        "u8" => whole("255"),
        "usize" => whole("18446744073709551615"),
        "i64" => "a whole number from -9223372036854775808 to 9223372036854775807".into(),
        "i32" => "a whole number from -2147483648 to 2147483647".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        "a boolean" => "true or false".into(),
        "f64" | "f32" => "a number".into(),
        "a string" | "a borrowed string" | "string" => "a string".into(),
        other if other.starts_with("a tuple of size ") => {
            format!("a list of {} items", &other["a tuple of size ".len()..])
        }
        other => other.into(),
    }
}

/// A serde_json error as a [`ScenarioError`]: its place, its kind, and its message in the
/// words of the file format.
pub(crate) fn from_json_error(e: serde_json::Error, path: String) -> ScenarioError {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Io => ErrorKind::Io,
        Category::Syntax | Category::Eof => ErrorKind::Syntax,
        Category::Data => ErrorKind::Format,
    };
    let (line, column) = (e.line(), e.column());
    let mut message = e.to_string();
    // serde_json appends " at line L column C"; the place is printed in front instead.
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    if !message.contains("floating point `") {
        message = reword(&message);
    }
    // serde_json reads an integer beyond u64 as a float; say what the user needs to hear.
    if let Some(rest) = message.strip_prefix("invalid type: floating point `")
        && let Some((number, expected)) = rest.split_once("`, expected ")
        && let Ok(x) = number.parse::<f64>()
    {
        let expected = expected_words(expected);
        message = if x.fract() == 0.0 && x.abs() >= 9.2e18 {
            format!("number {number} is out of range: expected {expected}")
        } else {
            format!("expected {expected}, found {number}")
        };
    }
    if message == "recursion limit exceeded" {
        message =
            "nesting is deeper than the parser allows (128 levels of arrays and objects)".into();
    }
    if message.starts_with("EOF while parsing") {
        message.push_str(" (the file is empty or cut short)");
    }
    let (path, message) = policy_parameter_place(path, message);
    ScenarioError::new(kind, path, message).at(line, column)
}

/// A policy's parameters are read apart from the file (`scenario::policy`), so serde's place
/// stops at `kernel.policy` and the message starts with the parameter (`allotment: …`); the
/// parameter belongs to the place (`kernel.policy.allotment: …`).
fn policy_parameter_place(path: String, message: String) -> (String, String) {
    if path == "kernel.policy"
        && let Some((param, rest)) = message.split_once(": ")
        && !param.is_empty()
        && param
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c))
    {
        let param = param.trim_start_matches('.');
        return (format!("{path}.{param}"), rest.to_owned());
    }
    (path, message)
}

#[cfg(test)]
mod tests {
    use super::reword;

    #[test]
    fn rust_type_names_do_not_leak() {
        assert_eq!(
            reword("invalid type: integer `3`, expected struct Wait"),
            "expected an object (`{}`, or `{\"as\": HANDLE}`), found the number 3"
        );
        assert_eq!(
            reword("invalid type: string \"3\", expected u64"),
            "expected a whole number from 0 to 18446744073709551615, found the string \"3\""
        );
        assert_eq!(
            reword("invalid type: map, expected a sequence"),
            "expected a list, found an object"
        );
        assert_eq!(
            reword("invalid value: integer `-4`, expected u64"),
            "expected a whole number from 0 to 18446744073709551615, found the number -4"
        );
        assert_eq!(
            reword("boost: invalid value: integer `-5`, expected u64"),
            "boost: expected a whole number from 0 to 18446744073709551615, found the number -5"
        );
        assert_eq!(
            reword("invalid type: boolean `true`, expected a string"),
            "expected a string, found true"
        );
        assert_eq!(reword("unknown field `x`"), r#"unknown key "x""#);
        assert_eq!(
            reword("unknown field `x`, expected `handle` or `timeout`"),
            r#"unknown key "x": expected one of "handle", "timeout""#
        );
        assert_eq!(
            reword("unknown field `x`, expected one of `a`, `b`, `c`"),
            r#"unknown key "x": expected one of "a", "b", "c""#
        );
        assert_eq!(
            reword("unknown field `x`, there are no fields"),
            r#"unknown key "x": this object takes no keys"#
        );
        assert_eq!(
            reword("missing field `as`"),
            r#"this object needs the key "as""#
        );
        assert_eq!(
            reword("duplicate field `as`"),
            r#"the key "as" appears twice"#
        );
        assert_eq!(
            reword("unknown variant `later`, expected one of `wake`, `admit`, `preempt`"),
            r#"expected one of "wake", "admit", "preempt", found "later""#
        );
        assert_eq!(
            reword("unknown variant `x`, expected `a`"),
            r#"expected "a", found "x""#
        );
        assert_eq!(
            reword("invalid length 3, expected a tuple of size 2"),
            "expected a list of 2 items, found a list of 3"
        );
        assert_eq!(
            reword("invalid type: string \"3\", expected a tuple of size 2"),
            "expected a list of 2 items, found the string \"3\""
        );
        assert_eq!(
            reword("q: data did not match any variant of untagged enum X"),
            "q: this value has none of the forms accepted here (`procsim schema` lists them)"
        );
    }
}
