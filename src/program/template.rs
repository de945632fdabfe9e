//! `print` templates: text with `{placeholders}`, `{{` and `}}` for literal braces, as in
//! Python's `str.format`.

use super::{CExpr, HandleRef};

/// A parsed `print` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(pub Vec<Piece>);

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A parameter or global (they shadow the built-in fields below).
    Expr(CExpr),
    /// The process's name.
    Name,
    /// The process's pid.
    Pid,
    /// The parent's pid (1 once reparented to init).
    Ppid,
    /// The current tick (microseconds since the start on the fork backend).
    Tick,
    /// A field of the child a handle names: `{w.pid}`, `{w.name}`, `{w.exitcode}`.
    Handle(HandleRef, HandleField),
}

/// What `{handle.field}` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleField {
    /// The child's pid (`None` before it exists).
    Pid,
    /// The child's name.
    Name,
    /// The child's exit code (`None` while it runs), as `Process.exitcode`.
    Exitcode,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum RawPiece {
    Text(String),
    Field(String),
}

/// Splits a template into text and field names.
pub(super) fn parse(text: &str) -> Result<Vec<RawPiece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|p| p.1) == Some('{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().map(|p| p.1) == Some('}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, '{')) | None => {
                            return Err(format!(
                                "unclosed `{{` at character {} of the text (write `{{{{` for a literal brace)",
                                i + 1
                            ));
                        }
                        Some((_, ch)) => name.push(ch),
                    }
                }
                if name.is_empty() || name.contains([':', '!', '[', ' ']) {
                    return Err(format!(
                        "`{{{name}}}` is not a placeholder procsim understands: write {{name}} or {{handle.field}}"
                    ));
                }
                if !lit.is_empty() {
                    out.push(RawPiece::Text(std::mem::take(&mut lit)));
                }
                out.push(RawPiece::Field(name));
            }
            '}' => {
                return Err(format!(
                    "single `}}` at character {} of the text (write `}}}}` for a literal brace)",
                    i + 1
                ));
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(RawPiece::Text(lit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_escapes() {
        assert_eq!(
            parse("a={a} {{x}} {w.pid}").unwrap(),
            vec![
                RawPiece::Text("a=".into()),
                RawPiece::Field("a".into()),
                RawPiece::Text(" {x} ".into()),
                RawPiece::Field("w.pid".into()),
            ]
        );
        assert!(parse("{a").unwrap_err().contains("unclosed"));
        assert!(parse("a}").unwrap_err().contains("single"));
        assert!(parse("{a:>3}").unwrap_err().contains("not a placeholder"));
    }
}
