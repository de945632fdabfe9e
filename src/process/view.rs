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
}

/// The text of one field, as Python's `str()` prints the attribute.
///
/// ```
/// use procsim::process::{render_field, HandleView};
/// use procsim::program::HandleField;
/// let v = HandleView { pid: None, name: "Process-1".into(), exitcode: None };
/// assert_eq!(render_field(&v, HandleField::Pid), "None");
/// ```
pub fn render_field(v: &HandleView, field: HandleField) -> String {
    fn or_none<T: ToString>(x: Option<T>) -> String {
        x.map_or_else(|| "None".into(), |x| x.to_string())
    }
    match field {
        HandleField::Pid => or_none(v.pid),
        HandleField::Name => v.name.clone(),
        HandleField::Exitcode => or_none(v.exitcode),
    }
}
