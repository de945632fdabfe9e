//! What `{h.field}` prints: a `Process` object's attributes, as multiprocessing gives them.

use super::PyError;
use crate::program::HandleField;

/// What the printing process knows of the process a handle names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleView {
    /// Its pid, once started (`Process.pid` is `None` before `start()`).
    pub pid: Option<u32>,
    /// Its name.
    pub name: String,
    /// Its exit status once it has ended (`-N` for signal N); `None` while it runs, and
    /// always for the caller itself.
    pub exitcode: Option<i64>,
    /// `is_alive()`: started and not ended (always, for the caller itself).
    pub alive: bool,
    /// Its daemon flag.
    pub daemon: bool,
}

/// Whether reading `field` of one's own child reaps it if it has ended: multiprocessing's
/// `exitcode` and `is_alive()` poll the child (`waitpid(pid, WNOHANG)`), and a poll that
/// finds it ended reaps it; `pid`, `name` and `daemon` are attributes and touch nothing.
pub fn field_reaps(field: HandleField) -> bool {
    match field {
        HandleField::Exitcode | HandleField::Alive => true,
        HandleField::Pid | HandleField::Name | HandleField::Daemon => false,
    }
}

/// The text of one field, as Python's `str()` prints the attribute.
///
/// ```
/// use procsim::process::{render_field, HandleView};
/// use procsim::program::HandleField;
/// let v = HandleView {
///     pid: None, name: "Process-1".into(), exitcode: None, alive: false, daemon: true,
/// };
/// assert_eq!(render_field(&v, HandleField::Pid), "None");
/// assert_eq!(render_field(&v, HandleField::Alive), "False");
/// assert_eq!(render_field(&v, HandleField::Daemon), "True");
/// ```
pub fn render_field(v: &HandleView, field: HandleField) -> String {
    fn or_none<T: ToString>(x: Option<T>) -> String {
        x.map_or_else(|| "None".into(), |x| x.to_string())
    }
    fn py_bool(b: bool) -> String {
        crate::model::Value::Bool(b).to_string()
    }
    match field {
        HandleField::Pid => or_none(v.pid),
        HandleField::Name => v.name.clone(),
        HandleField::Exitcode => or_none(v.exitcode),
        HandleField::Alive => py_bool(v.alive),
        HandleField::Daemon => py_bool(v.daemon),
    }
}

/// What the printing thread knows of the thread a handle names (SPEC §4a).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadView {
    /// Its name.
    pub name: String,
    /// `is_alive()`: started and not ended, in this process (a thread of the process this one
    /// was forked from is stopped here).
    pub alive: bool,
    /// Its daemon flag.
    pub daemon: bool,
}

/// `{h.field}` of a thread handle: a `threading.Thread`'s attributes; it has no `pid` and no
/// `exitcode` (Python's `AttributeError`).
///
/// ```
/// use procsim::process::{render_thread_field, ThreadView};
/// use procsim::program::HandleField;
/// let v = ThreadView { name: "Thread-1 (work)".into(), alive: true, daemon: false };
/// assert_eq!(render_thread_field(&v, HandleField::Alive).unwrap(), "True");
/// assert_eq!(
///     render_thread_field(&v, HandleField::Pid).unwrap_err().to_string(),
///     "AttributeError: 'Thread' object has no attribute 'pid'"
/// );
/// ```
pub fn render_thread_field(v: &ThreadView, field: HandleField) -> Result<String, PyError> {
    let py_bool = |b: bool| crate::model::Value::Bool(b).to_string();
    Ok(match field {
        HandleField::Name => v.name.clone(),
        HandleField::Alive => py_bool(v.alive),
        HandleField::Daemon => py_bool(v.daemon),
        HandleField::Pid => return Err(PyError::NoAttribute("Thread", "pid")),
        HandleField::Exitcode => return Err(PyError::NoAttribute("Thread", "exitcode")),
    })
}
