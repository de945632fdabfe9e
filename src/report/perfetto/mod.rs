//! A report as a Trace Event Format file (the JSON that ui.perfetto.dev and chrome://tracing
//! open): `procsim run FILE --format perfetto`.
//!
//! Layout: a trace "process" `CPUs` with one track per CPU (the process it ran, named, and a
//! `switch` slice for each context switch), and a trace "process" `Processes` with one track
//! per simulated process (`new`, `ready`, `running`, `blocked`, `zombie` slices; instants for
//! fork, signals and exit; an arrow from each fork to the child). Simulated pids can be reused
//! after a wrap, so tracks are numbered by the process's index in the report and the real pid
//! is in the track name and in each slice's args.
//!
//! The file is written as the run goes ([`PerfettoStream`]): the slices, which the file lists
//! track by track, are put in that order by an external sort (memory up to a budget, then
//! temporary files), the counters and instants are appended to spools, and only the process
//! names are held to the end, so a run of any length is drawn in bounded memory.
//!
//! Timestamps are the report's own times: a tick is written as 1 µs (the format's unit), so
//! the viewer's "µs" reads as "ticks". No wall clock is involved, which is why this is written
//! with serde rather than with a tracing-to-chrome layer (those stamp real time).

use std::borrow::Cow;
use std::io::{self, Write};

use serde_json::{Value as Json, json};

mod event;
mod slices;
mod threads;

use super::spans::{Phase, ProcSpan, SpanBuilder};
use super::spill::{Sorter, Spool};
use super::{ProcessReport, Report, Summary, TimeUnit, TraceEvent};
use crate::model::State;
use event::{
    CPUS_PID, Event, PROCS_PID, cpu_tid, phase_colour, phase_name, proc_tid, thread_tid, to_json,
};
use slices::{
    CPU_LANE, Names, PROC_LANE, Slice, THREAD_LANE, phase_slice, put_piece, slice_key, slice_phase,
};
use threads::ThreadLanes;

/// Renders `report` as Trace Event Format JSON. `context_switch` is the scenario's
/// `kernel.context_switch` (see [`super::Spans::new`] for why it is needed). The same report
/// gives the same bytes.
///
/// ```
/// let plan = procsim::load_str(r#"{"programs": {"m": {"body": [{"cpu": 3}]}},
///     "processes": [{"program": "m"}]}"#).unwrap();
/// let report = procsim::Sim::new(plan, Default::default()).run();
/// let json: serde_json::Value = serde_json::from_str(&procsim::report::render_perfetto(&report, 0)).unwrap();
/// let running = json["traceEvents"].as_array().unwrap().iter()
///     .find(|e| e["name"] == "running").unwrap();
/// assert_eq!((running["ts"].as_u64(), running["dur"].as_u64()), (Some(0), Some(3)));
/// ```
pub fn render_perfetto(report: &Report, context_switch: u64) -> String {
    render_perfetto_switches(report, (context_switch, 0))
}

/// [`render_perfetto`] with `(kernel.context_switch, kernel.thread_switch)`: a CPU's switch
/// between two threads of one process lasts `thread_switch` (SPEC §4a).
pub fn render_perfetto_switches(
    report: &Report,
    (context_switch, thread_switch): (u64, u64),
) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only if a temporary file cannot be made; the text then ends
    // where it failed, which no parser takes for a whole trace.
    let stream = PerfettoStream::new(report.cpus, context_switch).with_thread_switch(thread_switch);
    let _ = write_through(stream, report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`render_perfetto`] written to `out`.
pub fn write_perfetto(
    report: &Report,
    context_switch: u64,
    out: &mut impl Write,
) -> io::Result<()> {
    write_through(
        PerfettoStream::new(report.cpus, context_switch),
        report,
        out,
    )
}

fn write_through(
    mut stream: PerfettoStream,
    report: &Report,
    out: &mut impl Write,
) -> io::Result<()> {
    let n = report.processes.len();
    // A transition of a process the report does not list (a damaged report) is left out.
    for e in report.trace.iter().filter(|e| (e.proc as usize) < n) {
        stream.event(e);
    }
    let info = RunInfo {
        scenario: &report.scenario,
        backend: &report.backend,
        time_unit: report.time_unit,
        cpus: report.cpus,
        error: report.error.as_deref(),
        summary: &report.summary,
        end: None,
    };
    stream.finish(&info, n, |i| Ok(Cow::Borrowed(&report.processes[i])), out)
}

/// What the file says of the run besides its events.
#[derive(Debug, Clone, Copy)]
pub struct RunInfo<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// `"sim"` or `"fork"`.
    pub backend: &'a str,
    /// The unit of its times.
    pub time_unit: TimeUnit,
    /// Its CPUs.
    pub cpus: u32,
    /// Why it stopped early.
    pub error: Option<&'a str>,
    /// Its figures.
    pub summary: &'a Summary,
    /// Where its picture ends, if known ([`Sim::listed_end`](crate::Sim::listed_end)); else
    /// it is found from the processes, each asked for once more.
    pub end: Option<u64>,
}

/// Records held in memory before a sorted batch goes to a temporary file (40 bytes each).
const SORT_BUDGET: usize = 1 << 18;
/// Bytes of counters or instants held in memory before they go to a temporary file.
const SPOOL_BUDGET: usize = 8 << 20;
/// Bytes of process names held in memory; more go to a temporary file (default names down a
/// deep chain are as long as the depth: 900 MB of them at 30,000).
const NAMES_BUDGET: usize = 16 << 20;

/// A Trace Event Format file made while the run goes: [`PerfettoStream::event`] for each
/// transition, then [`PerfettoStream::finish`] with the processes. Its memory is the
/// builder's slot for each process, the process names, and the budgets of its sort and spools.
#[derive(Debug)]
pub struct PerfettoStream {
    builder: SpanBuilder,
    /// The threads' tracks (SPEC §4a).
    threads: ThreadLanes,
    slices: Sorter<Slice>,
    counters: Spool,
    next: u64,
    /// Per process, its first transition (when it stopped being `new`), `u64::MAX` before.
    first: Vec<u64>,
    /// The tick being counted, and how many processes are ready, running and blocked.
    tick: Option<u64>,
    counts: [i64; 3],
    error: Option<io::Error>,
}

impl PerfettoStream {
    /// A file for a run on `cpus` CPUs with `context_switch` ticks a switch.
    pub fn new(cpus: u32, context_switch: u64) -> PerfettoStream {
        PerfettoStream::with_budgets(cpus, context_switch, SORT_BUDGET, SPOOL_BUDGET)
    }

    /// [`PerfettoStream::new`] holding at most `slices` slices and `bytes` bytes of counters
    /// in memory (the tests make them tiny, to write through temporary files).
    #[doc(hidden)]
    pub fn with_budgets(
        cpus: u32,
        context_switch: u64,
        slices: usize,
        bytes: usize,
    ) -> PerfettoStream {
        PerfettoStream {
            builder: SpanBuilder::new(cpus, context_switch, usize::MAX),
            threads: ThreadLanes::new(),
            slices: Sorter::new(slices),
            counters: Spool::new(bytes),
            next: 1,
            first: Vec::new(),
            tick: None,
            counts: [0; 3],
            error: None,
        }
    }

    /// The same file with `kernel.thread_switch`: a switch between two threads of one
    /// process lasts that long on its CPU's track.
    pub fn with_thread_switch(mut self, thread_switch: u64) -> PerfettoStream {
        let builder = std::mem::replace(&mut self.builder, SpanBuilder::new(0, 0, 0));
        self.builder = builder.with_thread_switch(thread_switch);
        self
    }

    /// Takes in one transition, in trace order. (A failure to spill is kept and returned by
    /// [`PerfettoStream::finish`].)
    pub fn event(&mut self, e: &TraceEvent) {
        if self.error.is_some() {
            return;
        }
        if let Err(err) = self.take(e) {
            self.error = Some(err);
        }
    }

    fn take(&mut self, e: &TraceEvent) -> io::Result<()> {
        // A counter of how many processes are ready, running and blocked, once a tick.
        if let Some(t) = self.tick
            && t != e.t
        {
            self.write_counter(t)?;
        }
        self.tick = Some(e.t);
        let slot = |s: State| match s {
            State::Ready => Some(0),
            State::Running => Some(1),
            State::Blocked => Some(2),
            State::New | State::Terminated => None,
        };
        if let Some(j) = slot(e.from) {
            self.counts[j] -= 1;
        }
        if let Some(j) = slot(e.to) {
            self.counts[j] += 1;
        }
        let PerfettoStream {
            builder,
            threads,
            slices,
            next,
            first,
            ..
        } = self;
        let mut result = Ok(());
        builder.event(e, &mut |piece| {
            if result.is_ok() {
                result = put_piece(slices, next, first, piece);
            }
        });
        result?;
        if e.is_other_thread() {
            threads.event(e, slices, next)?;
        }
        Ok(())
    }

    fn write_counter(&mut self, t: u64) -> io::Result<()> {
        let [ready, running, blocked] = self.counts;
        let e = Event {
            args: Some(json!({"ready": ready, "running": running, "blocked": blocked})),
            ..Event::new("processes", "C", t, CPUS_PID, 0)
        };
        self.counters.write(b",\n")?;
        self.counters.write(&to_json(&e))
    }

    /// Writes the file to `out`: the run's `count` processes are `process(0)`, … in order,
    /// each asked for once, or twice if `info.end` is not given (an error from it ends the
    /// file there).
    pub fn finish<'a>(
        mut self,
        info: &RunInfo<'_>,
        count: usize,
        process: impl Fn(usize) -> io::Result<Cow<'a, ProcessReport>>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(t) = self.tick {
            self.write_counter(t)?;
        }
        // Where the picture ends: the makespan, or a later reaping of a zombie.
        let end = match info.end {
            Some(end) => end,
            None => {
                let mut end = info.summary.makespan;
                for i in 0..count {
                    let p = process(i)?;
                    if let (Some(r), Some(_)) = (p.reaped_at, p.ended_at) {
                        end = end.max(r);
                    }
                }
                end
            }
        };
        let unit = match info.time_unit {
            TimeUnit::Tick => "tick",
            TimeUnit::Us => "µs",
        };

        // Names and order of the groups and tracks.
        let title = if info.scenario.is_empty() {
            "procsim".to_owned()
        } else {
            format!("procsim: {}", info.scenario)
        };
        out.write_all(b"{\"traceEvents\":[\n")?;
        let mut head = vec![
            Event::meta("process_name", CPUS_PID, 0, json!({"name": "CPUs"})),
            Event::meta("process_labels", CPUS_PID, 0, json!({"labels": title})),
            Event::meta("process_sort_index", CPUS_PID, 0, json!({"sort_index": 0})),
            Event::meta("process_name", PROCS_PID, 0, json!({"name": "Processes"})),
            Event::meta("process_sort_index", PROCS_PID, 0, json!({"sort_index": 1})),
        ];
        for c in 0..info.cpus as usize {
            let tid = cpu_tid(c);
            head.push(Event::meta(
                "thread_name",
                CPUS_PID,
                tid,
                json!({"name": format!("CPU {c}")}),
            ));
            head.push(Event::meta(
                "thread_sort_index",
                CPUS_PID,
                tid,
                json!({"sort_index": c}),
            ));
        }
        for (k, e) in head.iter().enumerate() {
            if k > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(&to_json(e))?;
        }

        // Each process: its track's name, the slices that close at the end, its instants
        // (creation on the creator's track, with an arrow to the child; the end).
        let mut names = Names::new(NAMES_BUDGET);
        let mut instants = Spool::new(SPOOL_BUDGET);
        let instant = |name: String, ts: u64, proc: usize, args: Json| Event {
            cat: Some("event"),
            s: Some("t"),
            args: Some(args),
            ..Event::new(name, "i", ts, PROCS_PID, proc_tid(proc))
        };
        let PerfettoStream {
            builder,
            threads,
            mut slices,
            mut next,
            mut first,
            ..
        } = self;
        let lanes_of = threads.by_process();
        for i in 0..count {
            let p = process(i)?;
            let tid = proc_tid(i);
            let name = format!("{} (pid {})", p.name, p.pid);
            let mut meta = vec![
                Event::meta("thread_name", PROCS_PID, tid, json!({"name": name})),
                Event::meta(
                    "thread_sort_index",
                    PROCS_PID,
                    tid,
                    json!({"sort_index": i}),
                ),
            ];
            // Its threads' tracks sort with it (its own track, of the lowest tid, first).
            if let Some(lanes) = lanes_of.get(&(i as u32)) {
                let mut made: std::collections::HashMap<u32, Vec<(u64, &str)>> =
                    std::collections::HashMap::new();
                for t in &p.threads {
                    made.entry(t.tid).or_default().push((t.created_at, &t.name));
                }
                for &k in lanes {
                    let lane = threads.lanes[k as usize];
                    let thread = made.get(&lane.tid).map_or("?", |m| {
                        let at = m.partition_point(|x| x.0 <= lane.first).max(1);
                        m[at - 1].1
                    });
                    let track = thread_tid(count, k);
                    let name = format!("{}/{thread} (tid {})", p.name, lane.tid);
                    meta.push(Event::meta(
                        "thread_name",
                        PROCS_PID,
                        track,
                        json!({"name": name}),
                    ));
                    meta.push(Event::meta(
                        "thread_sort_index",
                        PROCS_PID,
                        track,
                        json!({"sort_index": i}),
                    ));
                }
            }
            for e in meta {
                out.write_all(b",\n")?;
                out.write_all(&to_json(&e))?;
            }
            names.push(&p.name, p.pid)?;
            let mut result = Ok(());
            builder.close_process(i as u32, end, p.reaped_at, &mut |piece| {
                if result.is_ok() {
                    result = put_piece(&mut slices, &mut next, &mut first, piece);
                }
            });
            result?;
            // Its `new` slice, now that its creation time is known.
            if let Some(&until) = first.get(i)
                && until != u64::MAX
                && until > p.created_at
            {
                let span = ProcSpan {
                    start: p.created_at,
                    end: until,
                    phase: Phase::New,
                };
                slices.push(phase_slice(slice_key(PROC_LANE, i as u32, 0), span))?;
            }
            if let Some(c) = p.creator.map(|c| c as usize).filter(|&c| c < count) {
                let args = json!({"child": p.name, "child_pid": p.pid});
                let mut events = vec![instant(format!("fork {}", p.name), p.created_at, c, args)];
                // Flow arrows bind to the slices around these instants: the creator is
                // running, the child has just been created.
                let flow = |ph, proc| Event {
                    cat: Some("fork"),
                    id: Some(i as u64 + 1),
                    bp: Some("e"),
                    ..Event::new("fork", ph, p.created_at, PROCS_PID, proc_tid(proc))
                };
                events.push(flow("s", c));
                events.push(flow("f", i));
                for e in events {
                    instants.write(b",\n")?;
                    instants.write(&to_json(&e))?;
                }
            }
            if let Some(t) = p.ended_at {
                let (name, args) = match (&p.signal, p.exitcode) {
                    (Some(sig), code) => (sig.clone(), json!({"signal": sig, "exitcode": code})),
                    (None, code) => (
                        format!("exit {}", code.map_or("?".into(), |c| c.to_string())),
                        json!({"exitcode": code}),
                    ),
                };
                instants.write(b",\n")?;
                instants.write(&to_json(&instant(name, t, i, args)))?;
            }
        }
        threads.close(end, &mut slices, &mut next)?;
        let mut result = Ok(());
        builder.close_cpus(end, &mut |piece| {
            if result.is_ok() {
                result = put_piece(&mut slices, &mut next, &mut first, piece);
            }
        });
        result?;

        // The slices, track by track: CPUs (who ran, and the switches), then processes.
        slices.drain(&mut |s: Slice| {
            let lane = ((s.key >> 64) & u128::from(u32::MAX)) as u32;
            let e = if s.key >> 96 == CPU_LANE {
                let (name, pid) = names.get(s.who as usize)?;
                let (title, cname) = if s.tag == 1 {
                    ("switch".to_owned(), Some("black"))
                } else {
                    (name.to_owned(), None)
                };
                Event {
                    cat: Some("cpu"),
                    dur: Some(s.end - s.start),
                    cname,
                    args: Some(json!({"process": name, "pid": pid})),
                    ..Event::new(title, "X", s.start, CPUS_PID, cpu_tid(lane as usize))
                }
            } else {
                let phase = slice_phase(&s);
                // A thread's lane is drawn on its own track, with its tid.
                let (track, proc, thread) = if s.key >> 96 == THREAD_LANE {
                    let l = threads.lanes[lane as usize];
                    (thread_tid(count, lane), l.proc, Some(l.tid))
                } else {
                    (proc_tid(lane as usize), lane, None)
                };
                let (_, pid) = names.get(proc as usize)?;
                let mut args = json!({"pid": pid});
                if let Some(tid) = thread {
                    args["tid"] = json!(tid);
                }
                match phase {
                    Phase::Running { cpu } => args["cpu"] = json!(cpu),
                    Phase::Blocked { cause } => args["cause"] = json!(cause.name()),
                    _ => {}
                }
                Event {
                    cat: Some("state"),
                    dur: Some(s.end - s.start),
                    cname: Some(phase_colour(phase)),
                    args: Some(args),
                    ..Event::new(phase_name(phase), "X", s.start, PROCS_PID, track)
                }
            };
            out.write_all(b",\n")?;
            out.write_all(&to_json(&e))
        })?;
        instants.copy_to(out)?;
        self.counters.copy_to(out)?;

        let s = info.summary;
        let other = json!({
            "scenario": info.scenario,
            "backend": info.backend,
            "time_unit": format!("1 {unit} is shown as 1 µs"),
            "cpus": info.cpus,
            "processes": count,
            "error": info.error,
            "makespan": s.makespan,
            "cpu_busy": s.cpu_busy,
            "idle": s.idle,
            "switch_ticks": s.switch_ticks,
            "utilization": s.utilization,
            "throughput": s.throughput,
            "dispatches": s.dispatches,
            "context_switches": s.context_switches,
            "avg_response": s.avg_response,
            "avg_turnaround": s.avg_turnaround,
            "avg_waiting": s.avg_waiting,
        });
        out.write_all(b"\n],\n\"otherData\":")?;
        out.write_all(&to_json(&other))?;
        out.write_all(b"}\n")?;
        out.flush()
    }
}

/// Runs `sim` to the end writing its Trace Event Format file to `out` as it goes (the same
/// bytes as [`render_perfetto`] of its report, without holding the trace or the report).
/// Returns why the run stopped early, if a limit stopped it.
pub fn stream_perfetto(
    sim: crate::Sim,
    context_switch: u64,
    out: &mut impl Write,
) -> io::Result<Option<String>> {
    stream_perfetto_switches(sim, (context_switch, 0), out)
}

/// [`stream_perfetto`] with `(kernel.context_switch, kernel.thread_switch)`.
pub fn stream_perfetto_switches(
    mut sim: crate::Sim,
    (context_switch, thread_switch): (u64, u64),
    out: &mut impl Write,
) -> io::Result<Option<String>> {
    use std::cell::RefCell;
    use std::rc::Rc;
    let stream = Rc::new(RefCell::new(
        PerfettoStream::new(sim.cpu_count(), context_switch).with_thread_switch(thread_switch),
    ));
    let sink = Rc::clone(&stream);
    // Each process's report is written out when it is reaped, and its record reused: the
    // kernel holds the live processes, the file lists them all (sim/epitaphs.rs).
    sim.recycle_reaped_listing();
    sim.run_streaming(Box::new(move |e| sink.borrow_mut().event(e)));
    // The kernel dropped its sink when the run ended: `stream` is the only owner left.
    let stream = Rc::try_unwrap(stream)
        .map_err(|_| io::Error::other("the trace is still shared"))?
        .into_inner();
    let summary = sim.summary();
    let info = RunInfo {
        scenario: sim.scenario_name(),
        backend: "sim",
        time_unit: TimeUnit::Tick,
        cpus: sim.cpu_count(),
        error: sim.error(),
        summary: &summary,
        end: Some(sim.listed_end()),
    };
    stream.finish(
        &info,
        sim.process_count(),
        |i| sim.listed_process(i as u32).map(Cow::Owned),
        out,
    )?;
    Ok(sim.error().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> (Report, crate::Sim) {
        let plan = crate::load_str(json).unwrap();
        let report = crate::Sim::new(plan.clone(), Default::default()).run();
        (report, crate::Sim::new(plan, Default::default()))
    }

    /// Written from the run as it goes, or through temporary files at every step, the file
    /// is the bytes of the report's.
    #[test]
    fn streamed_and_spilled_give_the_same_bytes() {
        let text = crate::study::workload::generate(&{
            let mut p = crate::study::workload::GenParams::new(3, 30);
            p.cpus = Some(2);
            p.context_switch = Some(1);
            p
        })
        .unwrap();
        let (r, sim) = report(&text);
        let whole = render_perfetto(&r, 1);
        assert!(whole.matches("\"ph\":\"X\"").count() > 100);
        let mut streamed = Vec::new();
        assert_eq!(stream_perfetto(sim, 1, &mut streamed).unwrap(), None);
        assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        let mut spilled = Vec::new();
        write_through(PerfettoStream::with_budgets(2, 1, 3, 10), &r, &mut spilled).unwrap();
        assert_eq!(String::from_utf8(spilled).unwrap(), whole);
    }
}
