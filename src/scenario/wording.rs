//! serde's type errors in procsim's words. serde names Rust types (`expected struct Wait`,
//! `expected u64`, `invalid type: map`); a scenario's author writes JSON and should read what
//! JSON value was expected and which one was found.

/// `message` reworded when it is one of serde's `invalid type` / `invalid value` errors
/// (`invalid type: integer `3`, expected struct Wait` → `expected an object …, found the
/// number 3`); other messages are returned as they are. Any text after the expectation
/// (serde's own suffix, such as a policy's prefix) is kept.
pub(crate) fn reword(message: &str) -> String {
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
        other => other.into(),
    }
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
        assert_eq!(reword("unknown field `x`"), "unknown field `x`");
    }
}
