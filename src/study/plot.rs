//! A summary metric of a sweep drawn against one setting, one line per value of another:
//! `procsim sweep … --plot FILE.svg`.
//!
//! Runs that share the x value and the series value (they differ in the other settings or the
//! seed) are averaged; a shaded band shows their middle half (25th to 75th percentile), so the
//! spread across seeds stays in view without the extremes of a few runs filling the plot. A numeric x axis whose values span a factor of 8 or more (a quantum of 1, 2, 4 … 64)
//! is drawn on a logarithmic scale with a tick at each value.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value as Json;

use crate::report::draw::{self, GRID, MUTED, SERIES, Svg, esc, num};
use crate::study::sweep::{METRICS, RunResult};

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSpec {
    /// The column on the x axis (a setting's path, or `seed`).
    pub x: String,
    /// The metric on the y axis ([`METRICS`] or `processes`).
    pub y: String,
    /// The column whose values get a line each, if any.
    pub series: Option<String>,
    /// A title; the scenario's name, typically.
    pub title: String,
}

/// A plot that cannot be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// The x or series column is not a column of the sweep.
    #[error("--plot: `{0}` is not one of the sweep's settings ({1})")]
    Column(String, String),
    /// The y metric is not known.
    #[error("--plot-y: `{0}` is not a metric (known: {1})")]
    Metric(String, String),
    /// The series column is the x axis's.
    #[error("--plot-series: `{0}` is already the x axis; give another setting, or none")]
    SameColumn(String),
    /// No run has the metric.
    #[error("--plot: no run has a value for {0}")]
    Empty(String),
}

/// One point of a line: the mean and the quartiles of the runs behind it.
#[derive(Debug, Clone, Copy)]
struct Stat {
    mean: f64,
    lo: f64,
    hi: f64,
    n: usize,
}

/// The `q`-quantile of sorted values, interpolated between neighbours.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (next - sorted[i]) * frac,
        None => sorted[i],
    }
}

fn label(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The runs' values of the plotted metric, grouped as they come by x value and series value
/// (in the order the sweep first met them), so a sweep of a million runs keeps a number a run,
/// not its whole result, and finds a value's group in a hash map, not by a search through the
/// values met so far.
#[derive(Debug, Clone)]
pub struct PlotData {
    spec: PlotSpec,
    xi: usize,
    si: Option<usize>,
    /// The series column's name, for the legend.
    series_name: Option<String>,
    xs: Vec<Json>,
    x_index: HashMap<String, usize>,
    ss: Vec<Json>,
    s_index: HashMap<String, usize>,
    /// Per series, per x value: the runs' values.
    cells: Vec<Vec<Vec<f64>>>,
}

impl PlotData {
    /// An empty plot of `spec` over a sweep whose points have the values of `columns`; an
    /// error when a column or the metric is not the sweep's.
    pub fn new(columns: &[String], spec: &PlotSpec) -> Result<PlotData, PlotError> {
        let find = |c: &str| {
            columns
                .iter()
                .position(|x| x == c)
                .ok_or_else(|| PlotError::Column(c.to_owned(), columns.join(", ")))
        };
        let xi = find(&spec.x)?;
        let si = spec.series.as_deref().map(find).transpose()?;
        // A line for each x value, each of one point, in a table of lines × x values.
        if si == Some(xi) {
            return Err(PlotError::SameColumn(spec.x.clone()));
        }
        if !METRICS.contains(&spec.y.as_str()) && spec.y != "processes" {
            return Err(PlotError::Metric(spec.y.clone(), METRICS.join(", ")));
        }
        Ok(PlotData {
            spec: spec.clone(),
            xi,
            si,
            series_name: si.map(|i| columns[i].clone()),
            xs: Vec::new(),
            x_index: HashMap::new(),
            ss: Vec::new(),
            s_index: HashMap::new(),
            cells: Vec::new(),
        })
    }

    /// Adds a run's value (nothing for a run without one: an average over no process).
    pub fn add(&mut self, r: &RunResult) {
        let Some(y) = r.metric(&self.spec.y) else {
            return;
        };
        let xv = &r.point[self.xi];
        let sv = self.si.map_or(Json::Null, |i| r.point[i].clone());
        let xk = *self.x_index.entry(xv.to_string()).or_insert_with(|| {
            self.xs.push(xv.clone());
            self.xs.len() - 1
        });
        let sk = *self.s_index.entry(sv.to_string()).or_insert_with(|| {
            self.ss.push(sv);
            self.ss.len() - 1
        });
        if self.cells.len() < self.ss.len() {
            self.cells.resize(self.ss.len(), Vec::new());
        }
        let row = &mut self.cells[sk];
        if row.len() <= xk {
            row.resize(xk + 1, Vec::new());
        }
        row[xk].push(y);
    }

    /// The plot as SVG.
    pub fn render(&self) -> Result<String, PlotError> {
        let (spec, si, xs, ss, cells) = (&self.spec, self.si, &self.xs, &self.ss, &self.cells);
        if xs.is_empty() {
            return Err(PlotError::Empty(spec.y.clone()));
        }
        let stats: Vec<Vec<Option<Stat>>> = cells
            .iter()
            .map(|row| {
                (0..xs.len())
                    .map(|k| {
                        let ys = row.get(k)?;
                        if ys.is_empty() {
                            return None;
                        }
                        let sum: f64 = ys.iter().sum();
                        let mut sorted = ys.clone();
                        sorted.sort_by(f64::total_cmp);
                        Some(Stat {
                            mean: sum / ys.len() as f64,
                            lo: quantile(&sorted, 0.25),
                            hi: quantile(&sorted, 0.75),
                            n: ys.len(),
                        })
                    })
                    .collect()
            })
            .collect();
        let per_point = stats
            .iter()
            .flatten()
            .flatten()
            .map(|s| s.n)
            .max()
            .unwrap_or(1);

        // The x scale: numeric (linear or log) or one slot per value.
        let numeric: Option<Vec<f64>> = xs.iter().map(Json::as_f64).collect();
        let log = numeric.as_ref().is_some_and(|v| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            lo > 0.0 && hi / lo >= 8.0
        });
        let xpos: Vec<f64> = match &numeric {
            Some(v) if log => v.iter().map(|x| x.log2()).collect(),
            Some(v) => v.clone(),
            None => (0..xs.len()).map(|i| i as f64).collect(),
        };
        let (xmin, xmax) = xpos
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let (xmin, xmax) = if xmax > xmin {
            (xmin, xmax)
        } else {
            (xmin - 1.0, xmax + 1.0)
        };

        let all = stats.iter().flatten().flatten();
        let ylo = all
            .clone()
            .map(|s| s.lo.min(s.mean))
            .fold(f64::INFINITY, f64::min);
        let yhi = all
            .map(|s| s.hi.max(s.mean))
            .fold(f64::NEG_INFINITY, f64::max);
        let ymin = if ylo >= 0.0 { 0.0 } else { ylo };
        let ystep = draw::nice_step((yhi - ymin).max(1e-9), 6);
        let ymax = ((yhi / ystep).ceil() * ystep).max(ymin + ystep);

        let (w, h) = (760.0, 460.0);
        let legend_w = if si.is_some() { 150.0 } else { 0.0 };
        let (left, right, top, bottom) = (70.0, 24.0 + legend_w, 64.0, 58.0);
        let (pw, ph) = (w - left - right, h - top - bottom);
        // Keep the outermost points off the frame.
        let pad = (xmax - xmin) * 0.04;
        let px = |x: f64| left + (x - xmin + pad) / (xmax - xmin + 2.0 * pad) * pw;
        let py = |y: f64| top + ph - (y - ymin) / (ymax - ymin) * ph;

        let mut svg = Svg::new(w, h, &format!("{} against {}", spec.y, spec.x));
        svg.text(
            18.0,
            26.0,
            "font-size=\"16\" font-weight=\"bold\"",
            &format!("{} against {}", spec.y, spec.x),
        );
        let mut sub = draw::clip(&spec.title, 70);
        if per_point > 1 {
            let _ = write!(
                sub,
                " · mean of up to {per_point} runs a point; bands: their middle half (25th–75th percentile)"
            );
        }
        svg.text(
            18.0,
            44.0,
            &format!("font-size=\"11\" fill=\"{MUTED}\""),
            &sub,
        );

        // Grid and axes.
        let mut v = ymin;
        while v <= ymax + ystep * 1e-6 {
            let y = py(v);
            svg.line(left, y, left + pw, y, GRID, 1.0);
            svg.text(
                left - 6.0,
                y + 4.0,
                "text-anchor=\"end\" font-size=\"11\"",
                &draw::figure(v, 3),
            );
            v += ystep;
        }
        let few = xs.len() <= 16;
        if few || numeric.is_none() {
            for (k, xv) in xs.iter().enumerate() {
                let x = px(xpos[k]);
                svg.line(x, top, x, top + ph, GRID, 1.0);
                svg.text(
                    x,
                    top + ph + 16.0,
                    "text-anchor=\"middle\" font-size=\"11\"",
                    &draw::clip(&label(xv), 14),
                );
            }
        } else {
            let step = draw::nice_step(xmax - xmin, 8);
            let mut t = (xmin / step).ceil() * step;
            while t <= xmax + step * 1e-6 {
                let x = px(t);
                svg.line(x, top, x, top + ph, GRID, 1.0);
                let shown = if log { 2f64.powf(t) } else { t };
                svg.text(
                    x,
                    top + ph + 16.0,
                    "text-anchor=\"middle\" font-size=\"11\"",
                    &draw::figure(shown, 3),
                );
                t += step;
            }
        }
        svg.line(left, top + ph, left + pw, top + ph, MUTED, 1.0);
        svg.line(left, top, left, top + ph, MUTED, 1.0);
        svg.text(
            left + pw / 2.0,
            h - 18.0,
            "text-anchor=\"middle\"",
            &format!("{}{}", spec.x, if log { " (log scale)" } else { "" }),
        );
        let unit = match spec.y.as_str() {
            "utilization" | "dispatches" | "context_switches" | "processes" => "",
            "throughput" => " (per tick)",
            _ => " (ticks)",
        };
        let _ = writeln!(
            svg.out,
            "<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            num(top + ph / 2.0),
            esc(&format!("{}{unit}", spec.y))
        );

        // Bands, then lines and markers, then the legend.
        for (k, row) in stats.iter().enumerate() {
            let colour = SERIES[k % SERIES.len()];
            let pts: Vec<(f64, Stat)> = row
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.map(|s| (xpos[i], s)))
                .collect();
            if per_point > 1 && pts.len() > 1 {
                let mut d = String::new();
                for (i, (x, s)) in pts.iter().enumerate() {
                    let _ = write!(
                        d,
                        "{}{} {}",
                        if i == 0 { 'M' } else { 'L' },
                        num(px(*x)),
                        num(py(s.hi))
                    );
                }
                for (x, s) in pts.iter().rev() {
                    let _ = write!(d, "L{} {}", num(px(*x)), num(py(s.lo)));
                }
                let _ = writeln!(
                    svg.out,
                    "<path d=\"{d}Z\" fill=\"{colour}\" fill-opacity=\"0.13\"/>"
                );
            }
            let line: Vec<String> = pts
                .iter()
                .map(|(x, s)| format!("{},{}", num(px(*x)), num(py(s.mean))))
                .collect();
            let _ = writeln!(
                svg.out,
                "<polyline class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                line.join(" ")
            );
            for (x, s) in &pts {
                let _ = writeln!(
                    svg.out,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{colour}\"><title>{}</title></circle>",
                    num(px(*x)),
                    num(py(s.mean)),
                    esc(&format!(
                        "{} = {}: mean {} (n = {}, quartiles {} and {})",
                        spec.x,
                        draw::figure(if log { 2f64.powf(*x) } else { *x }, 3),
                        draw::figure(s.mean, 3),
                        s.n,
                        draw::figure(s.lo, 3),
                        draw::figure(s.hi, 3)
                    ))
                );
            }
        }
        if let Some(name) = &self.series_name {
            let lx = left + pw + 16.0;
            svg.text(
                lx,
                top + 4.0,
                "font-size=\"11\" font-weight=\"bold\"",
                &draw::clip(name, 22),
            );
            for (k, sv) in ss.iter().enumerate() {
                let y = top + 22.0 + k as f64 * 18.0;
                let colour = SERIES[k % SERIES.len()];
                svg.line(lx, y - 4.0, lx + 22.0, y - 4.0, colour, 2.0);
                svg.text(
                    lx + 28.0,
                    y,
                    "font-size=\"11\"",
                    &format!("= {}", draw::clip(&label(sv), 16)),
                );
            }
        }
        Ok(svg.finish())
    }
}

/// Renders the plot as SVG. `columns` names the values of each result's `point`.
///
/// ```
/// use procsim::study::sweep::{Base, Setting, Sweep};
/// use procsim::study::plot::{PlotSpec, render_plot};
/// let sweep = Sweep {
///     base: Base::Gen(procsim::study::workload::GenParams::new(1, 6)),
///     settings: vec![Setting::parse("kernel.quantum=1,2,4,8").unwrap()],
///     seeds: Some(vec![1, 2]),
///     shard: None,
/// };
/// let results = sweep.run(sweep.range(), &|| {}).unwrap();
/// let spec = PlotSpec { x: "kernel.quantum".into(), y: "avg_waiting".into(), series: None, title: "t".into() };
/// let svg = render_plot(&sweep.columns(), &results, &spec).unwrap();
/// assert!(svg.contains("avg_waiting"));
/// ```
pub fn render_plot(
    columns: &[String],
    results: &[RunResult],
    spec: &PlotSpec,
) -> Result<String, PlotError> {
    let mut data = PlotData::new(columns, spec)?;
    for r in results {
        data.add(r);
    }
    data.render()
}
