//! Process names as multiprocessing gives them.

/// The default name of a child: `Process-` and its `_identity`, the path of creation counters
/// from the top-level process (`Process-1`, `Process-1:2`).
///
/// ```
/// assert_eq!(procsim::program::child_name(&[1, 2]), "Process-1:2");
/// ```
pub fn child_name(identity: &[u32]) -> String {
    let mut name = String::from("Process-");
    for (i, n) in identity.iter().enumerate() {
        if i > 0 {
            name.push(':');
        }
        name.push_str(&n.to_string());
    }
    name
}

/// The name of copy `copy` (from 1) of a top-level entry: its name, numbered when there are
/// several copies.
pub fn top_level_name(base: &str, numbered: bool, copy: u64) -> String {
    if numbered {
        format!("{base}-{copy}")
    } else {
        base.to_owned()
    }
}
