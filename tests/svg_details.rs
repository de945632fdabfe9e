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
