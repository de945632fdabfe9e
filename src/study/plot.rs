//! A summary metric of a sweep drawn against one setting, one line per value of another:
//! `procsim sweep … --plot FILE.svg`.
//!
//! Runs that share the x value and the series value (they differ in the other settings or the
//! seed) are averaged; a shaded band shows their middle half (25th to 75th percentile), so the
//! spread across seeds stays in view without the extremes of a few runs filling the plot. A numeric x axis whose values span a factor of 8 or more (a quantum of 1, 2, 4 … 64)
//! is drawn on a logarithmic scale with a tick at each value.

use std::collections::HashMap;

use serde_json::Value as Json;

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
pub struct Stat {
    /// The runs' mean.
    pub mean: f64,
    /// Their 25th percentile.
    pub lo: f64,
    /// Their 75th percentile.
    pub hi: f64,
    /// How many runs.
    pub n: usize,
}

/// What a plot shows, ready to draw: the x values and series values in the order the sweep
/// first met them, and a point (or none) for each.
#[derive(Debug)]
pub struct PlotSummary<'a> {
    /// What was asked for.
    pub spec: &'a PlotSpec,
    /// The series column's name, for the legend; `None` for one line.
    pub series_name: Option<&'a str>,
    /// The x values.
    pub xs: &'a [Json],
    /// The series values (one `null` when there is no series column).
    pub series: &'a [Json],
    /// Per series, per x value: its point, or `None` where no run had one.
    pub stats: Vec<Vec<Option<Stat>>>,
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

    /// The plot's points: per series, per x value, the mean and quartiles of its runs; an
    /// error when no run had the metric.
    pub fn summary(&self) -> Result<PlotSummary<'_>, PlotError> {
        let (spec, xs, cells) = (&self.spec, &self.xs, &self.cells);
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
        Ok(PlotSummary {
            spec,
            series_name: self.series_name.as_deref(),
            xs,
            series: &self.ss,
            stats,
        })
    }

    /// The plot as SVG ([`crate::report::plot::svg`]).
    pub fn render(&self) -> Result<String, PlotError> {
        Ok(crate::report::plot::svg(&self.summary()?))
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
