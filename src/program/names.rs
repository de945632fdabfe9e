//! Process names as multiprocessing gives them.

/// The default name of a child: `Process-` and its `_identity`, the path of creation counters
/// from the top-level process (`Process-1`, `Process-1:2`).
///
/// ```
/// assert_eq!(procsim::program::child_name(&[1, 2]), "Process-1:2");
/// ```
pub fn child_name(identity: &[u32]) -> String {
    use std::fmt::Write as _;
    // Room for every number up front and no temporary string a number: the fork backend
    // makes a name at each `Process(...)`, and each `malloc`/`free` pair there writes
    // allocator pages its forks then copy (fork/trim.rs). Same bytes as before.
    let mut name = String::with_capacity(8 + 11 * identity.len());
    name.push_str("Process-");
    for (i, n) in identity.iter().enumerate() {
        if i > 0 {
            name.push(':');
        }
        let _ = write!(name, "{n}");
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
