//! `print` templates: text with `{placeholders}`, `{{` and `}}` for literal braces, as in
//! Python's `str.format`.

use super::{CExpr, HandleRef};
use serde::{Deserialize, Serialize};

use crate::model::Value;
use crate::process::PyError;
use crate::scenario::MAX_LINE_BYTES;

/// A parsed `print` text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template(pub Vec<Piece>);

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The current thread's name (`threading.current_thread().name`, SPEC §4a).
    Thread,
    /// A field of the process a handle names: `{w.pid}`, `{w.name}`, `{w.exitcode}`,
    /// `{w.alive}`, `{w.daemon}`.
    Handle(HandleRef, HandleField),
}

/// What `{handle.field}` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandleField {
    /// The child's pid (`None` before it exists).
    Pid,
    /// The child's name.
    Name,
    /// The child's exit code (`None` while it runs), as `Process.exitcode`.
    Exitcode,
    /// Whether it runs: `Process.is_alive()` (`False` before start and once it has ended).
    Alive,
    /// Its daemon flag, as `Process.daemon`.
    Daemon,
}

/// What rendering a template needs from the process that prints it; each backend answers
/// from its own idea of a process.
pub trait RenderContext {
    /// The value of a parameter, a global or a draw, in the printing process.
    fn eval(&mut self, e: &CExpr) -> Result<Value, PyError>;
    /// `{name}`.
    fn name(&self) -> String;
    /// `{pid}`.
    fn pid(&self) -> u32;
    /// `{ppid}` (1 once reparented to init).
    fn ppid(&self) -> u32;
    /// `{tick}`: the current tick, or microseconds since the start on the fork backend.
    fn tick(&self) -> u64;
    /// `{thread}`: the current thread's name (`MainThread` in a process of one thread).
    fn thread(&self) -> String {
        "MainThread".to_owned()
    }
    /// `{handle.field}`.
    fn handle_field(&mut self, h: HandleRef, field: HandleField) -> Result<String, PyError>;
}

impl Template {
    /// The template with the values only the frame that wrote it knows (parameters, `repeat`
    /// counts) filled in by `local`: what a finalizer text keeps of the place it was made,
    /// as an object's `__init__` keeps them in its attributes.
    pub fn capture(&self, mut local: impl FnMut(&CExpr) -> Option<String>) -> Template {
        Template(
            self.0
                .iter()
                .map(|piece| match piece {
                    Piece::Expr(e @ (CExpr::Param(_) | CExpr::Counter(_))) => match local(e) {
                        Some(text) => Piece::Text(text),
                        None => piece.clone(),
                    },
                    other => other.clone(),
                })
                .collect(),
        )
    }

    /// The line this template prints in the process `ctx` describes.
    pub fn render(&self, ctx: &mut impl RenderContext) -> Result<String, PyError> {
        let mut line = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(s) => line.push_str(s),
                Piece::Expr(e) => line.push_str(&ctx.eval(e)?.to_string()),
                Piece::Name => line.push_str(&ctx.name()),
                Piece::Pid => line.push_str(&ctx.pid().to_string()),
                Piece::Ppid => line.push_str(&ctx.ppid().to_string()),
                Piece::Tick => line.push_str(&ctx.tick().to_string()),
                Piece::Thread => line.push_str(&ctx.thread()),
                Piece::Handle(h, field) => line.push_str(&ctx.handle_field(*h, *field)?),
            }
            // Checked piece by piece: a few large values must not build a huge line first.
            if line.len() > MAX_LINE_BYTES {
                return Err(PyError::LineTooLong);
            }
        }
        Ok(line)
    }
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
