//! The report as JSON, in a layout that can be written while a run is still going: the header
//! fields, then the trace and the processes one JSON object a line, then the summary. The same
//! bytes come out whether the report was held in memory ([`write()`]) or streamed by the
//! simulated kernel as it ran ([`crate::sim::Kernel::run_to_json`]).

use std::io::{self, Write};

use serde::Serialize;

use super::{Note, RealRun, Report, Summary, TimeUnit};

/// Writes `{"scenario":…,"backend":…,"time_unit":…,"cpus":…,` and opens the trace.
pub fn write_head<W: Write>(
    w: &mut W,
    scenario: &str,
    backend: &str,
    time_unit: TimeUnit,
    cpus: u32,
) -> io::Result<()> {
    write!(w, "{{\"scenario\":")?;
    serde_json::to_writer(&mut *w, scenario)?;
    write!(w, ",\"backend\":")?;
    serde_json::to_writer(&mut *w, backend)?;
    write!(w, ",\"time_unit\":")?;
    serde_json::to_writer(&mut *w, &time_unit)?;
    write!(w, ",\"cpus\":{cpus},\n\"trace\":[")
}

/// The elements of a JSON array, one a line, with the commas between them.
#[derive(Debug, Default)]
pub struct Items {
    count: u64,
}

impl Items {
    /// Writes one element.
    pub fn write<W: Write, T: Serialize>(&mut self, w: &mut W, item: &T) -> io::Result<()> {
        w.write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
        self.count += 1;
        serde_json::to_writer(&mut *w, item).map_err(io::Error::from)
    }

    /// Closes the array.
    pub fn close<W: Write>(self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.count == 0 { b"]" } else { b"\n]" })
    }
}

/// Closes the trace and opens the process list.
pub fn write_processes_start<W: Write>(w: &mut W) -> io::Result<()> {
    write!(w, ",\n\"processes\":[")
}

/// Writes the summary, the error and (for a run on real processes) how it ran, and closes
/// the object.
pub fn write_tail<W: Write>(
    w: &mut W,
    summary: &Summary,
    error: Option<&str>,
    real: Option<&RealRun>,
    notes: &[Note],
) -> io::Result<()> {
    write!(w, ",\n\"summary\":")?;
    serde_json::to_writer(&mut *w, summary)?;
    write!(w, ",\n\"error\":")?;
    serde_json::to_writer(&mut *w, &error)?;
    if let Some(real) = real {
        write!(w, ",\n\"real\":")?;
        serde_json::to_writer(&mut *w, real)?;
    }
    if !notes.is_empty() {
        write!(w, ",\n\"notes\":")?;
        serde_json::to_writer(&mut *w, notes)?;
    }
    writeln!(w, "}}")
}

/// Writes a whole report held in memory.
pub fn write<W: Write>(report: &Report, w: &mut W) -> io::Result<()> {
    write_head(
        w,
        &report.scenario,
        &report.backend,
        report.time_unit,
        report.cpus,
    )?;
    let mut trace = Items::default();
    for e in &report.trace {
        trace.write(w, e)?;
    }
    trace.close(w)?;
    write_processes_start(w)?;
    let mut procs = Items::default();
    for p in &report.processes {
        procs.write(w, p)?;
    }
    procs.close(w)?;
    write_tail(
        w,
        &report.summary,
        report.error.as_deref(),
        report.real.as_ref(),
        &report.notes,
    )
}
