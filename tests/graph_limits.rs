//! `graph tree --format svg` gives Graphviz's `dot` only what it lays out in a few seconds:
//! its layout grows faster than the graph (2,000 children of one process: 2.6 s; 10,000: more
//! than 100 s, issue #13's audit). Past the limits the command stops with exit 3 and names
//! the limit, before `dot` runs (so this holds with or without Graphviz installed); `--format
//! dot` prints the same graph as text.

mod common;

use common::procsim;

/// A process that forks and joins `n` children one at a time, each named `name`.
fn fan(n: u32, name: &str) -> std::path::PathBuf {
    let text = format!(
        r#"{{"programs": {{"main": {{"body": [{{"repeat": {{"times": {n}, "body": [
            {{"fork": {{"as": "c", "program": "c", "name": "{name}"}}}}, {{"join": "c"}}]}}}}]}},
            "c": {{"body": [{{"cpu": 1}}]}}}},
            "processes": [{{"program": "main"}}]}}"#
    );
    let path = common::scratch_dir("graph-limits").join(format!("fan-{n}-{}.json", name.len()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_tree_past_what_dot_draws_stops_with_exit_3() {
    // MainProcess and 2,000 children: 2,001 processes, one past the limit.
    let file = fan(2_000, "kid");
    let o = procsim(&["graph", "tree", file.to_str().unwrap(), "--format", "svg"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("the tree has 2001 processes, more than the 2000 that --format svg draws"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    let o = procsim(&["graph", "tree", file.to_str().unwrap(), "--format", "dot"]);
    assert_eq!(o.status.code(), Some(0));
    let dot = String::from_utf8_lossy(&o.stdout);
    assert_eq!(dot.matches("label = \"kid\\n").count(), 2_000);

    // 1,000 processes of 5,000-byte names: 5 MB of labels, past the 4 MiB of DOT.
    let file = fan(1_000, &"n".repeat(5_000));
    let o = procsim(&["graph", "tree", file.to_str().unwrap(), "--format", "svg"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("more than the 4194304 that --format svg draws"),
        "{err}"
    );
}
