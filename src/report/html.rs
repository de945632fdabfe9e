//! A report as one self-contained HTML page (`procsim run FILE --format html`): the Gantt chart
//! ([`render_svg`]), a time slider, and under it the task manager's view at the chosen moment
//! (the process table of [`super::snapshot`]) and the state graph with each state's count.
//!
//! Nothing is fetched: the chart, the styles, the script and the data are all in the page. The
//! data are the snapshots of [`Replay`] at every moment something changes (an event, a
//! creation, a reaping), each holding only the rows that changed; the script applies them up
//! to the slider's moment and adds, for a running process, the time since its row was written.
//! The slider starts at `?t=N` or `#t=N` of the page's address when given.

use std::collections::HashMap;

/// The most transitions `--format html` holds, whatever the scenario's `kernel.max_trace`
/// says: the page is built whole in memory, and a browser must load it whole. Two processes at
/// quantum 1 make a page of about 55 bytes a transition (14 MB at this ceiling), built in a
/// peak of 38 MB; it was 478 MB before each name was written once and each frame looked only
/// at the rows that changed (BENCHMARKS.md, twenty-fourth round). `run --trace-ceiling N`
/// raises it, knowingly.
pub const HTML_TRACE_CEILING: u64 = 250_000;
use std::fmt::Write as _;

use crate::model::{State, StateGraph};

use super::Report;
use super::draw::esc;
use super::frames::frames;
use super::rows::{MAX_THREAD_ROWS, TaskRows};
use super::snapshot::run_end;
use super::svg::{SvgOptions, render_svg};
use super::topview::unit_name;

/// Writes `s` as a JSON string safe inside a `<script>`: `<` only occurs inside JSON strings,
/// where `\u003c` means the same, so no `</script>` can end the element early.
fn push_json_str(out: &mut String, s: &str) {
    let quoted = serde_json::Value::from(s).to_string();
    out.push_str(&quoted.replace('<', "\\u003c"));
}

/// A number, or JSON's `null` for none.
fn json_opt(v: Option<impl std::fmt::Display>) -> String {
    v.map_or("null".to_owned(), |v| v.to_string())
}

/// Names, each written once into the page: a row gives its name and its parent's by their
/// place in the page's `names`. A default name spells out the path from the top
/// (`Process-1:1:…`), and a row is written again at each change, so a deep chain's page held
/// each name many times over before (55 MB of page for a 3,000-deep chain).
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    /// The `names` array's items so far, each a JSON string, comma-separated.
    json: String,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.ids.len() as u32;
        if id > 0 {
            self.json.push(',');
        }
        push_json_str(&mut self.json, name);
        self.ids.insert(name.to_owned(), id);
        id
    }
}

/// Writes the page's data into `out`: the moments and their changed rows, and the names they
/// use, as JSON safe inside a `<script>`. A row is `[key, pid, ppid, name, state, words, cpu,
/// cpu time, parent, exit code]`, its name and its parent's name as places in `names`; a
/// thread's row (with `tasks`) has an eleventh item, `true`.
fn push_data(out: &mut String, report: &Report, tasks: Option<&TaskRows>) {
    let mut names = Names::default();
    let _ = write!(out, r#"{{"end":{},"unit":"#, run_end(report));
    push_json_str(out, unit_name(report));
    out.push_str(r#","frames":["#);
    let mut first = true;
    frames(report, tasks, |t, rows| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        let _ = write!(out, r#"{{"t":{t},"rows":["#);
        for (j, (key, thread, r)) in rows.iter().enumerate() {
            let _ = write!(
                out,
                "{}[{key},{},{},{},",
                if j > 0 { "," } else { "" },
                r.pid,
                r.ppid,
                names.id(&r.name),
            );
            push_json_str(out, r.activity.state().name());
            out.push(',');
            push_json_str(out, &r.activity.words());
            let _ = write!(
                out,
                ",{},{},{},{}{}]",
                json_opt(r.activity.cpu()),
                r.cpu_time,
                names.id(&r.parent),
                json_opt(r.exitcode),
                if *thread { ",true" } else { "" },
            );
        }
        out.push_str("]}");
    });
    let _ = write!(out, r#"],"names":[{}]}}"#, names.json);
}

/// Where each state's node sits in the state graph.
fn node_at(s: State) -> (f64, f64) {
    match s {
        State::New => (70.0, 100.0),
        State::Ready => (230.0, 100.0),
        State::Running => (410.0, 100.0),
        State::Blocked => (320.0, 210.0),
        State::Terminated => (590.0, 100.0),
    }
}

/// The state graph (every edge of [`StateGraph`]) with a count in each node.
fn state_graph_svg() -> String {
    let mut svg = String::from(
        r##"<svg id="states" xmlns="http://www.w3.org/2000/svg" width="680" height="250" viewBox="0 0 680 250" font-size="13"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
    );
    let mut pairs: Vec<(State, State)> =
        StateGraph::new().edges().map(|(a, b, _)| (a, b)).collect();
    pairs.sort();
    pairs.dedup();
    for (a, b) in &pairs {
        let ((x1, y1), (x2, y2)) = (node_at(*a), node_at(*b));
        // An edge along the top row that would cross a node in between arcs over it.
        if y1 == y2 && (x2 - x1).abs() > 200.0 {
            let top = y1 - 22.0;
            let lift = (x2 - x1).abs() * 0.22;
            let _ = write!(
                svg,
                r##"<path d="M{:.1} {top:.1} Q{:.1} {:.1} {:.1} {top:.1}" fill="none" stroke="#555" marker-end="url(#arrow)"/>"##,
                x1 + 20.0,
                (x1 + x2) / 2.0,
                top - lift,
                x2 - 20.0
            );
            continue;
        }
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        // Two-way pairs are drawn apart; ends stop at the node's edge.
        let two_way = pairs.contains(&(*b, *a));
        let (ox, oy) = if two_way {
            (-dy / len * 7.0, dx / len * 7.0)
        } else {
            (0.0, 0.0)
        };
        let cut = |x: f64, y: f64, sign: f64| {
            let k = (56.0 / dx.abs().max(1e-9)).min(22.0 / dy.abs().max(1e-9));
            (x + sign * dx * k.min(1.0), y + sign * dy * k.min(1.0))
        };
        let (sx, sy) = cut(x1, y1, 1.0);
        let (ex, ey) = cut(x2, y2, -1.0);
        let _ = write!(
            svg,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#555" marker-end="url(#arrow)"/>"##,
            sx + ox,
            sy + oy,
            ex + ox,
            ey + oy
        );
    }
    for s in State::ALL {
        let (x, y) = node_at(s);
        let _ = write!(
            svg,
            r##"<g class="node st-{name}"><rect x="{:.0}" y="{:.0}" width="112" height="44" rx="8"/><text x="{x:.0}" y="{:.0}" text-anchor="middle">{name}</text><text id="count-{name}" class="count" x="{x:.0}" y="{:.0}" text-anchor="middle">0</text></g>"##,
            x - 56.0,
            y - 22.0,
            y - 4.0,
            y + 14.0,
            name = s.name()
        );
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = r#"
body { font-family: DejaVu Sans, Verdana, Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
#gantt svg { max-width: 100%; height: auto; }
.slider { display: flex; align-items: center; gap: 1em; margin: 1em 0; }
.slider input { flex: 1; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.st-running td { background: #dbe8fb; }
tr.st-ready td { background: #fdf1cf; }
tr.st-blocked td { background: #f3dcf0; }
tr.st-terminated td { color: #777; }
.node rect { fill: #f4f4f4; stroke: #555; }
.node.st-running rect { fill: #dbe8fb; }
.node.st-ready rect { fill: #fdf1cf; }
.node.st-blocked rect { fill: #f3dcf0; }
.count { font-weight: bold; }
"#;

const SCRIPT: &str = r#"
(function () {
  const D = JSON.parse(document.getElementById('data').textContent);
  const slider = document.getElementById('t');
  const out = document.getElementById('t-out');
  const body = document.querySelector('#procs tbody');
  const states = ['new', 'ready', 'running', 'blocked', 'terminated'];
  let current = new Map();
  let applied = -1;
  function frameAt(t) {
    let lo = 0, hi = D.frames.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (D.frames[mid].t <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  function cell(tr, text, num) {
    const td = document.createElement('td');
    td.textContent = text;
    if (num) td.className = 'num';
    tr.appendChild(td);
  }
  function show(t) {
    const k = frameAt(t);
    if (k < applied) { current = new Map(); applied = -1; }
    for (let j = applied + 1; j <= k; j++) {
      for (const r of D.frames[j].rows) current.set(r[0], { r: r, since: D.frames[j].t });
    }
    applied = k;
    out.textContent = D.unit + ' ' + t + ' of ' + D.end;
    const counts = { new: 0, ready: 0, running: 0, blocked: 0, terminated: 0 };
    let zombies = 0;
    body.replaceChildren();
    for (const key of [...current.keys()].sort((a, b) => a - b)) {
      const { r, since } = current.get(key);
      const [, pid, ppid, nameAt, state, words, cpu, cpuTime, parentAt, exit] = r;
      const name = D.names[nameAt], parent = D.names[parentAt];
      counts[state] += 1;
      if (words === 'zombie') zombies += 1;
      const tr = document.createElement('tr');
      tr.className = 'st-' + state;
      cell(tr, pid, true);
      cell(tr, ppid, true);
      cell(tr, name);
      cell(tr, exit === null ? words : words + ' (' + exit + ')');
      cell(tr, cpu === null ? cpuTime : cpuTime + (t - since), true);
      cell(tr, cpu === null ? '-' : cpu, true);
      cell(tr, parent);
      body.appendChild(tr);
    }
    for (const s of states) document.getElementById('count-' + s).textContent = counts[s];
    document.getElementById('zombies').textContent = zombies;
  }
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  const m = /[?#&]t=(\d+)/.exec(location.search + location.hash);
  if (m) {
    slider.value = m[1];
    slider.dispatchEvent(new Event('input'));
  } else {
    show(Number(slider.value));
  }
})();
"#;

/// What a page with threads' rows (SPEC §4a) changes in [`SCRIPT`]: a thread's row (its
/// eleventh item) is indented and left out of the states' counts, which are of processes.
const SCRIPT_COUNT: &str = "      counts[state] += 1;
      if (words === 'zombie') zombies += 1;
      const tr = document.createElement('tr');
      tr.className = 'st-' + state;
";
const SCRIPT_COUNT_THREADS: &str = "      const thread = r[10] === true;
      if (!thread) counts[state] += 1;
      if (!thread && words === 'zombie') zombies += 1;
      const tr = document.createElement('tr');
      tr.className = 'st-' + state + (thread ? ' thread' : '');
";
/// The style of a thread's row.
const STYLE_THREADS: &str = "tr.thread td:nth-child(3) { padding-left: 2em; }\n";

/// The page.
///
/// ```
/// use procsim::report::{SvgOptions, render_html};
/// let report = procsim::Sim::new(procsim::load_str(procsim::demo::DEMO).unwrap(), Default::default()).run();
/// let page = render_html(&report, &SvgOptions::default());
/// assert!(page.contains(r#"<input type="range" id="t" min="0" max="29""#));
/// assert!(!page.contains(" src=") && !page.contains("href=\"http")); // nothing fetched
/// ```
pub fn render_html(report: &Report, opts: &SvgOptions) -> String {
    let title = super::text::title(&report.scenario).to_owned();
    let end = run_end(report);
    let unit = unit_name(report);
    // Threads have rows under their process's, as in the chart (SPEC §4a).
    let tasks =
        Some(TaskRows::new(&report.processes, MAX_THREAD_ROWS)).filter(TaskRows::has_threads);
    let (style, script, hidden) = match &tasks {
        Some(t) => (
            format!("{STYLE}{STYLE_THREADS}"),
            SCRIPT.replacen(SCRIPT_COUNT, SCRIPT_COUNT_THREADS, 1),
            match t.hidden_threads {
                0 => String::new(),
                h => format!(
                    "<p>… and {h} more threads (at most {MAX_THREAD_ROWS} are listed; the states count processes)</p>\n"
                ),
            },
        ),
        None => (STYLE.to_owned(), SCRIPT.to_owned(), String::new()),
    };
    let gantt = render_svg(report, opts);
    let gantt = gantt
        .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .unwrap_or(&gantt);
    let mut page = String::new();
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>procsim: {title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title} <small>[{backend} backend, {cpus} CPU{s}]</small></h1>
<div id="gantt">{gantt}</div>
<div class="slider"><label for="t">Moment</label><input type="range" id="t" min="0" max="{end}" step="1" value="0"><output id="t-out" for="t">{unit} 0 of {end}</output></div>
<table id="procs">
<thead><tr><th>PID</th><th>PPID</th><th>NAME</th><th>STATE</th><th>CPU TIME ({unit})</th><th>ON CPU</th><th>PARENT</th></tr></thead>
<tbody></tbody>
</table>
{hidden}<h2>States <small>(zombies: <span id="zombies">0</span>)</small></h2>
{graph}
<script type="application/json" id="data">"#,
        title = esc(&title),
        backend = esc(&report.backend),
        cpus = report.cpus,
        s = if report.cpus == 1 { "" } else { "s" },
        graph = state_graph_svg(),
    );
    push_data(&mut page, report, tasks.as_ref());
    let _ = write!(
        page,
        "</script>\n<script>{script}</script>\n</body>\n</html>\n"
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with threads changes the script where it counts states (the replacement is
    /// there to be made), lists at most 40 threads and counts the others; a page without
    /// threads has the script as it is.
    #[test]
    fn a_page_with_threads_lists_them_and_counts_the_others() {
        assert_eq!(SCRIPT.matches(SCRIPT_COUNT).count(), 1);
        let starts = vec![r#"{"thread": {"program": "spin"}}"#; 42].join(", ");
        let text = format!(
            r#"{{"programs": {{"main": {{"body": [{starts}]}}, "spin": {{"body": [{{"cpu": 1}}]}}}},
            "processes": [{{"program": "main"}}]}}"#
        );
        let report = crate::Sim::new(crate::load_str(&text).unwrap(), Default::default()).run();
        let page = render_html(&report, &SvgOptions::default());
        assert!(page.contains(SCRIPT_COUNT_THREADS) && !page.contains(SCRIPT_COUNT));
        assert!(page.contains(STYLE_THREADS));
        assert!(page.contains("<p>… and 2 more threads (at most 40 are listed"));
        let demo = crate::Sim::new(
            crate::load_str(crate::demo::DEMO).unwrap(),
            Default::default(),
        )
        .run();
        let page = render_html(&demo, &SvgOptions::default());
        assert!(page.contains(SCRIPT) && !page.contains("thread"));
    }

    #[test]
    fn names_cannot_break_out_of_the_page() {
        let plan = crate::load_str(
            r#"{"name": "</script><b>x</b>", "programs": {"m": {"body": [{"cpu": 1}]}},
            "processes": [{"program": "m", "name": "</script><script>alert(1)</script>"}]}"#,
        )
        .unwrap();
        let report = crate::Sim::new(plan, Default::default()).run();
        let page = render_html(&report, &SvgOptions::default());
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "only the page's own two"
        );
        assert!(!page.contains("<b>x</b>"));
    }
}
