//! Running with the report written as it is made, for runs too large to hold in memory: the
//! trace goes out transition by transition, the processes one at a time at the end.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use super::{Kernel, Policy, Recorder};
use crate::report::json::{self, Items};
use crate::report::{ProcessReport, TimeUnit, TraceEvent};

/// The writer and the state of the trace array, shared with the kernel's trace sink.
struct Out<W> {
    w: W,
    items: Items,
    error: Option<io::Error>,
}

impl<P: Policy> Kernel<P> {
    /// Runs to the end, writing the report as JSON to `out` while it runs, in the layout of
    /// [`json::write`]: the same bytes as writing the finished report, without holding the
    /// trace. Returns why the run stopped early, if a limit stopped it.
    pub fn run_to_json<W: Write + 'static>(mut self, mut out: W) -> io::Result<Option<String>> {
        let cpus = self.plan.kernel.cpus;
        // Each process's report is written out when it is reaped, and its record reused
        // (epitaphs.rs): the kernel holds the live processes, the file lists them all.
        self.recycle_reaped_listing();
        json::write_head(&mut out, &self.plan.name, "sim", TimeUnit::Tick, cpus)?;
        let shared = Rc::new(RefCell::new(Out {
            w: out,
            items: Items::default(),
            error: None,
        }));
        if !matches!(self.trace, Recorder::Off) {
            let sink = Rc::clone(&shared);
            self.trace = Recorder::Stream(Box::new(move |event| {
                let mut o = sink.borrow_mut();
                if o.error.is_none() {
                    let Out { w, items, .. } = &mut *o;
                    if let Err(e) = items.write(w, event) {
                        o.error = Some(e);
                    }
                }
            }));
        }
        while self.advance() {}
        // Dropping the sink leaves `shared` the only owner of the writer.
        self.trace = Recorder::Off;
        let Ok(cell) = Rc::try_unwrap(shared) else {
            return Err(io::Error::other("the trace writer is still shared"));
        };
        let Out {
            mut w,
            items,
            error,
        } = cell.into_inner();
        if let Some(e) = error {
            return Err(e);
        }
        items.close(&mut w)?;
        self.account_to_now();
        json::write_processes_start(&mut w)?;
        let mut procs = Items::default();
        // A thread is no process: its figures are in its process's `threads`.
        for i in 0..self.process_count() as u32 {
            procs.write(&mut w, &self.listed_process(i)?)?;
        }
        procs.close(&mut w)?;
        let summary = self.summary();
        let notes = self.notes();
        json::write_tail(&mut w, &summary, self.error.as_deref(), None, &notes)?;
        w.flush()?;
        Ok(self.error.take())
    }
}

impl<P: Policy> Kernel<P> {
    /// Runs to the end handing each transition to `sink` as it happens, none kept (when the
    /// kernel records a trace at all), then brings every figure up to the end: what follows
    /// reads [`Kernel::finished_process`] (or [`Kernel::listed_process`], in a run that
    /// writes reports out: epitaphs.rs), [`Kernel::summary`] and [`Kernel::error`]. The
    /// streamed renderers (Perfetto, the SVG chart, the table) are built on this.
    pub fn run_streaming(&mut self, sink: Box<dyn FnMut(&TraceEvent)>) {
        if !matches!(self.trace, Recorder::Off) {
            self.trace = Recorder::Stream(sink);
        }
        while self.advance() {}
        self.trace = Recorder::Off;
        self.account_to_now();
    }

    /// The report of process `p` (an index below [`Kernel::process_count`]) once the run is
    /// over ([`Kernel::run_streaming`]), in a run that reuses no record for another process
    /// in the report ([`Kernel::listed_process`] reads any run's).
    pub fn finished_process(&self, p: u32) -> ProcessReport {
        if self.threads_on {
            return self.process_report(self.proc_slots[p as usize]);
        }
        self.process_report(p)
    }

    /// The scenario's name.
    pub fn scenario_name(&self) -> &str {
        &self.plan.name
    }

    /// How many CPUs the run has.
    pub fn cpu_count(&self) -> u32 {
        self.plan.kernel.cpus
    }
}
