//! A saved JSON report read back (`procsim top FILE`): the file's size bounded, and, for a
//! file that is not a report, an error that names the place and says what was expected.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::Report;
use crate::scenario::{ErrorKind, ScenarioError};

/// The largest report file read back: 1 GiB. A report at the held-trace ceiling (10,000,000
/// transitions of about 70 bytes each as `procsim run --format json` writes them) is under
/// it; without a limit `procsim top /dev/zero` would read until memory ran out.
pub const MAX_REPORT_BYTES: u64 = 1 << 30;

/// Keys only a report has at its top level: a file with one of them is read as a report.
const REPORT_KEYS: [&str; 4] = ["trace", "summary", "time_unit", "backend"];

/// What `procsim top` reads, for the end of an error about a file that is neither.
const WHAT_TOP_READS: &str =
    "procsim top reads a scenario file, or a report written by `procsim run FILE --format json`";

/// `path` read as a report when it is one (a JSON object with a report's keys), `None` when it
/// is JSON of another kind (a scenario: the caller reads it as one), and an error naming the
/// file and the place when it is not JSON, not an object, or a report that does not read.
pub fn read_report(path: &Path) -> Result<Option<Report>, ScenarioError> {
    let fail = |e: ScenarioError| e.in_file(path);
    let io = |e: std::io::Error| {
        fail(ScenarioError::new(
            ErrorKind::Io,
            "",
            format!("cannot read: {e}"),
        ))
    };
    // First the top level's keys, streamed, without building the values: a report can be
    // hundreds of MB, and garbage (`/dev/zero`) is refused at its first byte. The bytes the
    // scan reads are kept and the rest read after them, so the file is read once: a pipe
    // (`procsim top <(procsim run F --format json)`) can be read only once.
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().ok().map(|m| m.len());
    let mut kept = Kept {
        inner: Bom::new(std::io::BufReader::new(file.take(MAX_REPORT_BYTES + 1))),
        // Sized by what the file says it holds: grown by doubling, a 477 MB report would take
        // a buffer of up to 1 GiB.
        bytes: Vec::with_capacity(size.map_or(0, |n| n.min(MAX_REPORT_BYTES) as usize + 1)),
    };
    let mut scan = serde_json::Deserializer::from_reader(&mut kept);
    let keys = match HashMap::<String, IgnoredAny>::deserialize(&mut scan) {
        Ok(keys) => keys,
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return Err(fail(ScenarioError::new(
                ErrorKind::Format,
                "",
                format!("the top level is not an object: {WHAT_TOP_READS}"),
            )));
        }
        Err(e) => {
            let e = crate::scenario::from_json_error(e, String::new());
            return Err(fail(annotate(
                &e,
                &format!("not JSON ({}): {WHAT_TOP_READS}", e.message()),
            )));
        }
    };
    if !REPORT_KEYS.iter().any(|k| keys.contains_key(*k)) {
        return Ok(None);
    }
    let Kept {
        mut inner,
        mut bytes,
    } = kept;
    inner.read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(fail(ScenarioError::new(
            ErrorKind::Io,
            "",
            format!(
                "the file is larger than {} MiB, the most procsim reads as a report",
                MAX_REPORT_BYTES >> 20
            ),
        )));
    }
    let text = &bytes[..];
    let mut de = serde_json::Deserializer::from_slice(text);
    let report = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let place = e.path().to_string();
            let place = if place == "." { String::new() } else { place };
            let e = crate::scenario::from_json_error(e.into_inner(), place);
            fail(annotate(
                &e,
                &format!(
                    "{}: not a report procsim can read (it reads one written by `procsim run FILE --format json`)",
                    e.message()
                ),
            ))
        })?;
    // Nothing but white space after the report.
    de.end().map_err(|e| {
        let e = crate::scenario::from_json_error(e, String::new());
        fail(annotate(
            &e,
            &format!(
                "{} after the report: not a report procsim can read (it reads one written by `procsim run FILE --format json`)",
                e.message()
            ),
        ))
    })?;
    Ok(Some(report))
}

/// `e` with `message` in place of its own.
fn annotate(e: &ScenarioError, message: &str) -> ScenarioError {
    let out = ScenarioError::new(e.kind(), e.path(), message);
    match e.position() {
        Some((line, column)) => out.at(line, column),
        None => out,
    }
}

/// A reader that drops a leading UTF-8 byte-order mark (as a scenario's reader does).
struct Bom<R> {
    inner: R,
    checked: bool,
}

impl<R: std::io::BufRead> Bom<R> {
    fn new(inner: R) -> Self {
        Bom {
            inner,
            checked: false,
        }
    }
}

impl<R: std::io::BufRead> Read for Bom<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.checked {
            self.checked = true;
            if self.inner.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
                self.inner.consume(3);
            }
        }
        self.inner.read(buf)
    }
}

/// A reader that keeps a copy of every byte read through it (the key scan's bytes, so the
/// report is parsed from them and the rest without reading the file twice).
struct Kept<R> {
    inner: R,
    bytes: Vec<u8>,
}

impl<R: Read> Read for Kept<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}
