//! What `{h.field}` prints: a `Process` object's attributes, as multiprocessing gives them.

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
