//! Rendering DOT to SVG with Graphviz's `dot`, when it is installed.
//!
//! procsim writes DOT itself (petgraph) and needs no Graphviz for that; only turning DOT into a
//! picture runs the external `dot` program, and its absence is reported as such rather than as
//! a failure of the graph.

use std::io::Write;
use std::process::{Command, Stdio};

/// Why `dot` could not make the picture.
#[derive(Debug, thiserror::Error)]
pub enum GraphvizError {
    /// `dot` is not installed (or not on `PATH`).
    #[error(
        "--format svg needs Graphviz's `dot`, which is not installed or not on PATH (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz); --format dot prints the graph as text instead"
    )]
    Missing,
    /// `dot` ran and failed.
    #[error("Graphviz's `dot` failed: {0}")]
    Failed(String),
}

/// The most processes `graph tree --format svg` gives `dot` to draw: its layout grows faster
/// than the graph (measured here, Graphviz 2.43: 2,000 children of one process took 2.6 s,
/// 3,000 took 5.4 s and 10,000 more than 100 s; a chain 2,000 deep, 3.8 s and 163 MB).
pub const MAX_DRAWN_PROCESSES: usize = 2_000;

/// The most bytes of DOT given to `dot` to draw: long names make long labels, which its layout
/// pays for too (a chain 3,000 deep of default names, 9.4 MB of DOT: 8.4 s and 340 MB).
pub const MAX_DRAWN_DOT_BYTES: usize = 4 << 20;

/// Why a graph is not drawn: it is past what `dot` lays out in a few seconds. `None` when it
/// fits.
pub fn too_large_to_draw(processes: usize, dot_bytes: usize) -> Option<String> {
    if processes > MAX_DRAWN_PROCESSES {
        return Some(format!(
            "the tree has {processes} processes, more than the {MAX_DRAWN_PROCESSES} that --format svg draws (Graphviz's layout grows faster than the graph); --format dot prints it as text"
        ));
    }
    if dot_bytes > MAX_DRAWN_DOT_BYTES {
        return Some(format!(
            "the tree's DOT is {dot_bytes} bytes, more than the {MAX_DRAWN_DOT_BYTES} that --format svg draws (long names make long labels, which Graphviz's layout pays for); --format dot prints it as text"
        ));
    }
    None
}

/// Whether `dot` can be run.
pub fn available() -> bool {
    Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Renders `dot_text` to SVG by running `dot -Tsvg`.
pub fn dot_to_svg(dot_text: &str) -> Result<String, GraphvizError> {
    let mut child = match Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GraphvizError::Missing),
        Err(e) => return Err(GraphvizError::Failed(e.to_string())),
    };
    // Write on another thread: a large graph could fill the output pipe while we still write.
    let mut stdin = child.stdin.take();
    let text = dot_text.to_owned();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(text.as_bytes());
        }
    });
    let out = child
        .wait_with_output()
        .map_err(|e| GraphvizError::Failed(e.to_string()))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(GraphvizError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| GraphvizError::Failed(e.to_string()))
}
