//! Text that a scenario wrote (names, titles, prints, messages) shown on a terminal.
//!
//! A scenario may come from anyone: a name holding ESC, OSC, BEL, CR or LF would otherwise
//! retitle the window, clear the screen or forge rows of the table. Every renderer meant for a
//! terminal (table, timeline, compare, explain, the CLI's error messages) passes such text
//! through [`escape`]; columns are padded by [`pad`], which has no width limit (`format!`'s
//! width panics beyond 65,535) and counts characters, not bytes.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal must not receive `c` raw: a control character (C0, DEL, C1), or one of
/// Unicode's bidirectional controls (U+061C, U+200E–200F, U+202A–202E, U+2066–2069), which
/// reorder the text after them on the screen: a name holding U+202E RIGHT-TO-LEFT OVERRIDE
/// would show a table row or an error message other than the one printed ("Trojan Source").
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A scenario's name as a title: `(unnamed scenario)` when it has none (every view says the
/// same), the name as it is otherwise (each view escapes it as its medium needs).
pub fn title(scenario: &str) -> &str {
    if scenario.is_empty() {
        "(unnamed scenario)"
    } else {
        scenario
    }
}

/// `s` with every control character (C0, DEL, C1) and bidirectional control written as an
/// escape: `\n`, `\r`, `\t`, `\0`, else `\xHH` (C0 and DEL) or `\u{HH}` (C1, and the
/// bidirectional controls: `\u{202e}`). Other text is unchanged, so the common case costs one
/// scan and no allocation.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`]d, and cut to at most `max` characters (the last one an ellipsis when cut): a
/// table column stays readable whatever a name's length.
pub fn clip(s: &str, max: usize) -> Cow<'_, str> {
    let shown = escape(s);
    if shown.chars().count() <= max {
        return shown;
    }
    let mut out: String = shown.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

/// Where [`pad`] puts the text in its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text first, then spaces.
    Left,
    /// Spaces first, then text.
    Right,
}

/// `s` padded with spaces to `width` characters (never cut).
pub fn pad(s: &str, width: usize, align: Align) -> String {
    let fill = width.saturating_sub(s.chars().count());
    let mut out = String::with_capacity(s.len() + fill);
    if align == Align::Right {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out.push_str(s);
    if align == Align::Left {
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out
}

/// The widest name a table column shows before [`clip`] cuts it.
pub const NAME_COLUMN: usize = 48;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape("plain"), "plain");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\x1b]0;pwned\x07b\nc\rd\0\x7f\u{9b}"),
            "a\\x1b]0;pwned\\x07b\\nc\\rd\\0\\x7f\\u{9b}"
        );
        assert_eq!(escape("tab\there"), "tab\\there");
        assert_eq!(escape("进程 é"), "进程 é");
        assert_eq!(
            escape("a\u{202e}b\u{2066}c\u{200f}d\u{61c}e\u{202a}\u{2069}\u{200e}"),
            "a\\u{202e}b\\u{2066}c\\u{200f}d\\u{61c}e\\u{202a}\\u{2069}\\u{200e}"
        );
        // Letters of right-to-left scripts are text, not controls.
        assert_eq!(escape("שלום مرحبا"), "שלום مرحبا");
    }

    #[test]
    fn clip_cuts_by_characters() {
        assert_eq!(clip("abcdef", 6), "abcdef");
        assert_eq!(clip("abcdefg", 6), "abcde…");
        assert_eq!(clip("进程进程进程进程", 3), "进程…");
        assert_eq!(clip("\n\n\n", 4), "\\n\\…");
    }

    #[test]
    fn pad_has_no_width_limit() {
        assert_eq!(pad("ab", 4, Align::Left), "ab  ");
        assert_eq!(pad("ab", 4, Align::Right), "  ab");
        assert_eq!(pad("abcdef", 4, Align::Right), "abcdef");
        assert_eq!(pad("x", 70_000, Align::Left).len(), 70_000);
    }
}
