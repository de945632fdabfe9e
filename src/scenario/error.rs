//! The one error type for a scenario that cannot be used, naming the file and the place.

use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario that cannot be read, parsed or validated.
///
/// Its `Display` names the file and the place: `line:column` for syntax and type errors (from
/// serde_json), and the JSON path (`programs.work1.body[2].cpu`) wherever one is known.
///
/// ```
/// let err = procsim::Scenario::from_str("{\"programs\": {}, \"processes\": 3}").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "<input>:1:31: processes: expected a list, found the number 3"
/// );
/// ```
#[derive(Debug)]
pub struct ScenarioError {
    file: PathBuf,
    kind: ErrorKind,
    /// `(line, column)`, both from 1, where the parser stopped.
    position: Option<(usize, usize)>,
    /// The JSON path to the offending value; empty for the whole document.
    path: String,
    message: String,
}

/// What went wrong, for callers that want to tell the cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// Not JSON: a syntax error, truncated input, trailing garbage, bad UTF-8, too deep.
    Syntax,
    /// JSON, but not a scenario: wrong type, unknown field, out-of-range number.
    Format,
    /// A well-formed scenario that refers to something missing or has a value out of range.
    Invalid,
}

impl ScenarioError {
    pub(crate) fn new(
        kind: ErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: PathBuf::from("<input>"),
            kind,
            position: None,
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, line: usize, column: usize) -> Self {
        if line > 0 {
            self.position = Some((line, column));
        }
        self
    }

    /// The same error, naming `file`.
    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = file.to_path_buf();
        self
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The JSON path of the offending value (`programs.main.body[0].cpu`), empty for the whole file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `(line, column)` where the parser stopped, when the error came from the parser.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }

    /// The message without the place.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}
