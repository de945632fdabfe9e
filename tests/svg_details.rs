//! Details of the SVG Gantt chart a newcomer hit: the legend stays inside the picture, idle CPU
//! time has its own look and legend entry, short runs on a CPU lane still say whose they are,
//! and a real run's figures are per µs.

use procsim::report::draw::{IDLE, IDLE_EDGE, NEW, text_width};
use procsim::report::{Report, SvgOptions, TimeUnit, render_svg};

fn report(file: &str) -> Report {
    let text = std::fs::read_to_string(file).unwrap();
    procsim::Sim::new(procsim::load_str(&text).unwrap(), Default::default()).run()
}

/// `(x, font size, text)` of every `<text>` element with no `text-anchor` (so it starts at x).
fn texts(svg: &str) -> Vec<(f64, f64, String)> {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor").is_none())
        .map(|n| {
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let size: f64 = n.attribute("font-size").unwrap_or("12").parse().unwrap();
            (x, size, n.text().unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn the_legend_fits_in_the_picture() {
    let labels = [
        "running",
        "ready (waiting for a CPU)",
        "blocked (I/O, sleep, join, wait)",
        "new (not admitted)",
        "zombie (ended, not reaped)",
        "context switch",
        "idle CPU",
        "│ fork",
    ];
    for width in [1000.0, 700.0, 400.0] {
        let svg = render_svg(
            &report("scenarios/demo.json"),
            &SvgOptions {
                width,
                ..Default::default()
            },
        );
        let found: Vec<(f64, f64, String)> = texts(&svg)
            .into_iter()
            .filter(|(_, _, t)| labels.contains(&t.as_str()))
            .collect();
        assert_eq!(found.len(), labels.len(), "width {width}: {found:?}");
        for (x, size, t) in found {
            let right = x + text_width(&t, size);
            assert!(right <= width, "width {width}: `{t}` ends at {right}");
        }
    }
}

#[test]
fn idle_time_is_not_the_grey_of_new_and_is_in_the_legend() {
    assert_ne!(IDLE, NEW);
    let svg = render_svg(&report("scenarios/demo.json"), &SvgOptions::default());
    let lanes = &svg[svg.find("<g class=\"cpus\">").unwrap()..];
    let lanes = &lanes[..lanes.find("</g>").unwrap()];
    assert!(
        lanes.contains(&format!("fill=\"{IDLE}\" stroke=\"{IDLE_EDGE}\"")),
        "{lanes}"
    );
    assert!(!lanes.contains(NEW), "{lanes}");
    assert!(svg.contains(">idle CPU</text>"));
}

/// The demo's CPU runs editor (pid 4) for one tick at 6, 17 and 23 (the README's timeline):
/// too short for its name, so the lane shows its pid.
#[test]
fn short_runs_on_a_lane_show_the_pid() {
    let svg = render_svg(&report("scenarios/demo.json"), &SvgOptions::default());
    let lanes = &svg[svg.find("<g class=\"cpus\">").unwrap()..];
    let lanes = &lanes[..lanes.find("</g>").unwrap()];
    let inner = format!(
        "<g xmlns=\"http://www.w3.org/2000/svg\">{}</g>",
        &lanes[lanes.find('\n').unwrap()..]
    );
    let doc = roxmltree::Document::parse(&inner).unwrap();
    let labels: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(
        labels.iter().filter(|l| **l == "4").count(),
        3,
        "{labels:?}"
    );
    assert!(labels.contains(&"Process-1"), "{labels:?}");
}

#[test]
fn a_real_run_counts_per_microsecond() {
    let mut r = report("scenarios/demo.json");
    r.time_unit = TimeUnit::Us;
    let svg = render_svg(
        &r,
        &SvgOptions {
            context_switch: 1,
            ..Default::default()
        },
    );
    assert!(svg.contains("per µs</text>"), "{svg}");
    assert!(svg.contains("context switch 1 µs"), "{svg}");
    assert!(!svg.contains("per µ<") && !svg.contains("1 µ "));
    let r = report("scenarios/demo.json");
    let svg = render_svg(
        &r,
        &SvgOptions {
            context_switch: 1,
            ..Default::default()
        },
    );
    assert!(svg.contains("per tick</text>") && svg.contains("context switch 1 tick "));
}

/// `(phase words, start, end)` of each tooltip of a row (`<g>` of class `class`, with `attr`
/// equal to `value`), read from `title`s such as `P (pid 2): ready, 0–2 (2 ticks)`.
type Spans = Vec<(String, u64, u64)>;

fn row_spans(g: roxmltree::Node<'_, '_>) -> Spans {
    g.descendants()
        .filter(|n| n.has_tag_name("title"))
        .map(|t| {
            let text = t.text().unwrap();
            let rest = &text[text.find("): ").unwrap() + 3..];
            let (phase, times) = rest.rsplit_once(", ").unwrap();
            let times = times.split(' ').next().unwrap();
            let (a, b) = times.split_once('–').unwrap();
            (phase.to_owned(), a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

/// The rows of class `class` (`proc` or `thread`).
fn rows<'a, 'i>(doc: &'a roxmltree::Document<'i>, class: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .collect()
}

/// Time `running`, `ready` and `blocked` in `spans`.
fn times(spans: &Spans) -> [u64; 3] {
    ["running", "ready", "blocked"].map(|phase| {
        spans
            .iter()
            .filter(|s| s.0.starts_with(phase))
            .map(|s| s.2 - s.1)
            .sum()
    })
}

fn owned(spans: &[(&str, u64, u64)]) -> Spans {
    spans
        .iter()
        .map(|&(p, a, b)| (p.to_owned(), a, b))
        .collect()
}

/// The chart of scenarios/thread-switch.json (one CPU, context_switch 2, thread_switch 1),
/// derived by hand as its description derives its figures: MainThread's first dispatch costs a
/// context switch, 0–2 (black on CPU 0; MainProcess's row ready 0–2). At 2 it starts
/// Thread-1 (spin) and joins it: MainProcess blocked (join) 2–6. The CPU's switch to the
/// thread, of the same process, is a thread switch of 1 tick, 2–3 (green on CPU 0; the
/// thread's row, under its process's, ready 2–3); the thread computes 3 ticks, running 3–6,
/// and ends at 6, where its row stops (a thread is no zombie). The switch back to MainThread
/// is a thread switch again, 6–7 (MainProcess ready 6–7), and MainThread ends at 7. So the
/// thread's row holds its report's figures (cpu 3, waiting 1, blocked 0) and the CPU's
/// switches add up to the summary's switch_ticks (2 + 1 + 1 = 4).
#[test]
fn a_thread_has_its_row_under_its_process_and_thread_switches_their_colour() {
    let r = report("scenarios/thread-switch.json");
    let opts = SvgOptions {
        context_switch: 2,
        thread_switch: 1,
        ..Default::default()
    };
    let svg = render_svg(&r, &opts);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let procs = rows(&doc, "proc");
    let threads = rows(&doc, "thread");
    assert_eq!((procs.len(), threads.len()), (1, 1));
    // The thread's row is drawn right below its process's, and named as the timeline names it.
    let y = |g: roxmltree::Node<'_, '_>| -> f64 {
        let rect = g.descendants().find(|n| n.has_tag_name("rect")).unwrap();
        rect.attribute("y").unwrap().parse().unwrap()
    };
    assert_eq!(y(threads[0]) - y(procs[0]), 20.0);
    let thread = &r.processes[0].threads[1];
    assert_eq!(threads[0].attribute("data-tid"), Some("3"));
    assert_eq!(thread.tid, 3);
    let label = threads[0]
        .descendants()
        .find(|n| n.has_tag_name("text"))
        .and_then(|n| n.text());
    assert_eq!(label, Some("Thread-1 (spin)"));

    let want = owned(&[("ready", 2, 3), ("running on CPU 0", 3, 6)]);
    let got = row_spans(threads[0]);
    assert_eq!(got, want);
    assert_eq!(times(&got), [thread.cpu, thread.waiting, thread.blocked]);
    let want = owned(&[("ready", 0, 2), ("blocked (join)", 2, 6), ("ready", 6, 7)]);
    assert_eq!(row_spans(procs[0]), want);

    // CPU 0: the context switch black, the thread switches green, with the legend saying so.
    let lane = doc
        .descendants()
        .find(|n| n.has_tag_name("g") && n.attribute("class") == Some("cpus"))
        .unwrap();
    let fills = |fill: &str| -> Vec<String> {
        lane.children()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill))
            .filter_map(|n| n.descendants().find(|t| t.has_tag_name("title")))
            .map(|t| t.text().unwrap().to_owned())
            .collect()
    };
    assert_eq!(fills("#1A1A1A"), ["CPU 0: switch to MainProcess 0–2"]);
    assert_eq!(
        fills("#009E73"),
        [
            "CPU 0: thread switch within MainProcess 2–3",
            "CPU 0: thread switch within MainProcess 6–7"
        ]
    );
    assert_eq!(r.summary.switch_ticks, 2 + 1 + 1);
    let legend: Vec<String> = texts(&svg).into_iter().map(|t| t.2).collect();
    assert!(
        legend.iter().any(|t| t.starts_with("thread switch")),
        "{legend:?}"
    );
    assert!(
        legend.iter().any(|t| t.starts_with("indented rows")),
        "{legend:?}"
    );
    // A run without threads says nothing of them.
    let plain = render_svg(&report("scenarios/demo.json"), &opts);
    assert!(
        !plain.contains("thread"),
        "the demo's chart speaks of threads"
    );
}

/// Every shipped scenario with threads: each thread's row adds up to its figures in the
/// report (`running` to cpu, `ready` to waiting, `blocked` to blocked), and the legend fits.
#[test]
fn every_thread_row_adds_up_to_its_report() {
    let mut seen = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("thread-") {
            continue;
        }
        let (scenario, plan) = procsim::load(&path).unwrap();
        let r = procsim::Sim::new(plan, Default::default()).run();
        let opts = SvgOptions {
            context_switch: scenario.kernel.context_switch,
            thread_switch: scenario.kernel.thread_switch,
            width: 400.0,
        };
        let svg = render_svg(&r, &opts);
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        // Rows of one (process, tid) are in creation order, as the threads in the report.
        let mut taken: std::collections::HashMap<(usize, u32), usize> = Default::default();
        for g in rows(&doc, "thread") {
            let proc: usize = g.attribute("data-index").unwrap().parse().unwrap();
            let tid: u32 = g.attribute("data-tid").unwrap().parse().unwrap();
            let nth = taken.entry((proc, tid)).or_default();
            let t = r.processes[proc]
                .threads
                .iter()
                .skip(1)
                .filter(|t| t.tid == tid)
                .nth(*nth)
                .unwrap_or_else(|| panic!("{name}: no thread {tid} of process {proc}"));
            *nth += 1;
            let spans = row_spans(g);
            assert_eq!(
                times(&spans),
                [t.cpu, t.waiting, t.blocked],
                "{name}: {} {spans:?}",
                t.name
            );
            seen += 1;
        }
        let threads: usize = r
            .processes
            .iter()
            .map(|p| p.threads.len().saturating_sub(1))
            .sum();
        assert_eq!(taken.values().sum::<usize>(), threads, "{name}");
        for (x, size, t) in texts(&svg) {
            let legend = ["thread switch", "indented", "(a process"];
            if legend.iter().any(|l| t.starts_with(l)) {
                assert!(x + text_width(&t, size) <= 400.0 - 16.0, "{name}: {t}");
            }
        }
    }
    assert!(seen >= 19, "{seen} thread rows");
}

/// At most 40 thread rows, as the timeline draws: a process that starts 43 threads has 40
/// rows of threads, and a note counts the other 3.
#[test]
fn thread_rows_are_bounded_and_the_others_counted() {
    let starts = vec![r#"{"thread": {"program": "spin"}}"#; 43].join(", ");
    let text = format!(
        r#"{{"programs": {{"main": {{"body": [{starts}]}}, "spin": {{"body": [{{"cpu": 1}}]}}}},
        "processes": [{{"program": "main"}}]}}"#
    );
    let r = procsim::Sim::new(procsim::load_str(&text).unwrap(), Default::default()).run();
    assert_eq!(r.processes[0].threads.len(), 44);
    let svg = render_svg(&r, &SvgOptions::default());
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(rows(&doc, "thread").len(), 40);
    assert!(
        svg.contains(
            "Note: 3 more threads have no row of their own (at most 40 thread rows are drawn)."
        ),
        "{svg}"
    );
}
