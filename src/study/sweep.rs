//! Many runs of one workload over the cartesian product of settings: `procsim sweep`.
//!
//! A sweep starts from a scenario file, or from a generated workload ([`crate::study::workload`]), and a
//! list of settings, each a JSON path and the values it takes (`kernel.quantum=1,2,4,8`;
//! `gen.cpu_bound=0.2,0.8` for generator parameters), plus optionally a list of seeds. Run `i`
//! of the product is fixed by `i` alone (the first setting varies slowest, the seed fastest), so
//! a slice of the product ([`Sweep::shard`]) can run on another machine and the slices' outputs
//! concatenate into the whole sweep's. Runs go in parallel (rayon) and results come back in
//! product order whatever the threads did.

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::{Map, Value as Json};

use crate::report::Summary;
use crate::scenario::ScenarioError;
use crate::sim::{Sim, SimOptions};
use crate::study::workload::{GenError, GenParams, generate};

/// A sweep that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A `--set` argument that does not parse.
    #[error("--set {arg}: {reason}")]
    Setting {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting that does not fit the scenario's document.
    #[error("--set {path}={value}: {reason}")]
    Path {
        /// The setting's path.
        path: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A point of the product whose scenario is not valid. (The line and column of the
    /// error would point into the modified document, not the file, so only the JSON path is
    /// given.)
    #[error("run {index} ({point}): {file}: {place}{message}")]
    Scenario {
        /// Index of the run in the product.
        index: usize,
        /// Its settings, `path=value` joined by spaces.
        point: String,
        /// The base file, or `<generated>`.
        file: String,
        /// The JSON path of the bad value followed by `: `, or nothing.
        place: String,
        /// What is wrong.
        message: String,
    },
    /// A generator parameter that is not valid.
    #[error("run {index} ({point}): {error}")]
    Gen {
        /// Index of the run in the product.
        index: usize,
        /// Its settings.
        point: String,
        /// The error (boxed: it is large, and rare).
        error: Box<GenError>,
    },
    /// A bad `--seeds` or `--shard` argument, or a setting that needs `--gen`.
    #[error("{0}")]
    Usage(String),
    /// The base scenario is not a valid scenario.
    #[error(transparent)]
    Base(#[from] ScenarioError),
}

/// The most runs one `procsim sweep` does (its shard, with `--shard`): a million runs of even
/// a small scenario take hours; a bigger sweep is split over processes or machines.
pub const MAX_RUNS: usize = 1_000_000;

/// One setting: a JSON path in the scenario (or `gen.NAME`) and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// `kernel.quantum`, `processes[0].arrival`, `gen.cpu_bound`, …
    pub path: String,
    /// The values, in the order given.
    pub values: Vec<Json>,
}

impl Setting {
    /// Parses `PATH=V1,V2,…`. Each value is read as JSON when it is JSON (`4`, `true`,
    /// `"x"`, `["wake","admit","preempt"]`), else as a string (`posix`); `A..B` between two
    /// integers stands for every integer from A to B included. Commas inside brackets or
    /// quotes do not split values.
    ///
    /// ```
    /// use procsim::study::sweep::Setting;
    /// let s = Setting::parse("kernel.quantum=1..3,8").unwrap();
    /// assert_eq!(s.path, "kernel.quantum");
    /// assert_eq!(s.values, [1, 2, 3, 8].map(|v| serde_json::json!(v)));
    /// ```
    pub fn parse(arg: &str) -> Result<Setting, SweepError> {
        let bad = |reason: &str| SweepError::Setting {
            arg: arg.to_owned(),
            reason: reason.to_owned(),
        };
        let (path, list) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected PATH=VALUE[,VALUE…], such as kernel.quantum=1,2,4"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(bad("the path before `=` is empty"));
        }
        let mut values = Vec::new();
        for item in split_top_level(list) {
            let item = item.trim();
            if item.is_empty() {
                return Err(bad(
                    "an empty value (two commas in a row, or a comma at an end)",
                ));
            }
            if let Some((a, b)) = item.split_once("..")
                && let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>())
            {
                if a > b {
                    return Err(bad(&format!("the range {item} is empty")));
                }
                if b - a >= 100_000 {
                    return Err(bad(&format!(
                        "the range {item} has more than 100000 values"
                    )));
                }
                values.extend((a..=b).map(Json::from));
                continue;
            }
            values.push(serde_json::from_str(item).unwrap_or_else(|_| Json::from(item)));
        }
        Ok(Setting {
            path: path.to_owned(),
            values,
        })
    }

    /// Whether this setting is a generator parameter (`gen.NAME`).
    pub fn is_gen(&self) -> bool {
        self.path.starts_with("gen.")
    }
}

/// Splits at commas that are not inside brackets, braces or a string.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in s.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Parses `--seeds`: `A..B` (both included, as in the shell's `{A..B}`), `A..=B`, or a list
/// `1,5,9` (lists and ranges can be mixed).
///
/// ```
/// assert_eq!(procsim::study::sweep::parse_seeds("1..3,10").unwrap(), [1, 2, 3, 10]);
/// ```
pub fn parse_seeds(arg: &str) -> Result<Vec<u64>, SweepError> {
    let bad = |why: String| SweepError::Usage(format!("--seeds {arg}: {why}"));
    let mut seeds = Vec::new();
    for item in arg.split(',') {
        let item = item.trim();
        let num = |s: &str| {
            s.trim()
                .parse::<u64>()
                .map_err(|_| bad(format!("`{s}` is not a seed (a whole number ≥ 0)")))
        };
        if let Some((a, b)) = item.split_once("..") {
            let (a, b) = (num(a)?, num(b.strip_prefix('=').unwrap_or(b))?);
            if a > b {
                return Err(bad(format!("the range {item} is empty")));
            }
            if b - a >= 10_000_000 {
                return Err(bad(format!("the range {item} is too large")));
            }
            seeds.extend(a..=b);
        } else {
            seeds.push(num(item)?);
        }
    }
    Ok(seeds)
}

/// Parses `--shard I/N`: the I-th (from 1) of N slices.
///
/// ```
/// assert_eq!(procsim::study::sweep::parse_shard("2/4").unwrap(), (2, 4));
/// assert!(procsim::study::sweep::parse_shard("0/4").is_err());
/// ```
pub fn parse_shard(arg: &str) -> Result<(usize, usize), SweepError> {
    let bad = || {
        SweepError::Usage(format!(
            "--shard {arg}: expected I/N with 1 ≤ I ≤ N, such as 1/4 (the first of 4 slices)"
        ))
    };
    let (i, n) = arg.split_once('/').ok_or_else(bad)?;
    let (i, n) = (
        i.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Where the runs' scenarios come from.
#[derive(Debug, Clone)]
pub enum Base {
    /// A scenario file, read once.
    File {
        /// Its path, for error messages.
        path: PathBuf,
        /// Its JSON document.
        doc: Json,
    },
    /// A generated workload; `gen.*` settings and the seeds change its parameters.
    Gen(GenParams),
}

impl Base {
    /// Reads a scenario file as the base. It must be a valid scenario by itself.
    pub fn file(path: &Path) -> Result<Base, SweepError> {
        // Loading checks the file (with errors that name the place) before it is varied.
        crate::load(path)?;
        let bytes = std::fs::read(path)
            .map_err(|e| SweepError::Usage(format!("{}: cannot read: {e}", path.display())))?;
        let doc = serde_json::from_slice(&bytes)
            .map_err(|e| SweepError::Usage(format!("{}: {e}", path.display())))?;
        Ok(Base::File {
            path: path.to_path_buf(),
            doc,
        })
    }
}

/// A sweep: a base, settings, optional seeds, and which slice of the product to run.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// Where scenarios come from.
    pub base: Base,
    /// The settings, the first varying slowest.
    pub settings: Vec<Setting>,
    /// Seeds (the scenario's `seed`, or the generator's), varying fastest.
    pub seeds: Option<Vec<u64>>,
    /// `(i, n)`: run only the i-th (from 1) of n contiguous slices of the product.
    pub shard: Option<(usize, usize)>,
}

/// What one run gave.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// Index of the run in the whole product (not in the shard).
    pub index: usize,
    /// The value of each setting, then the seed if there are seeds.
    pub point: Vec<Json>,
    /// How many processes the run made.
    pub processes: usize,
    /// The summary (partial when a limit stopped the run).
    pub summary: Summary,
    /// Why the run stopped early, if it did.
    pub error: Option<String>,
}

/// The metric columns of a result, in output order: the summary's fields.
pub const METRICS: &[&str] = crate::report::SUMMARY_FIELDS;

impl RunResult {
    /// A metric by name ([`METRICS`], or `processes`); `None` when the run has no such
    /// figure (an average over no process).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let s = &self.summary;
        Some(match name {
            "makespan" => s.makespan as f64,
            "cpu_busy" => s.cpu_busy as f64,
            "idle" => s.idle as f64,
            "switch_ticks" => s.switch_ticks as f64,
            "utilization" => s.utilization,
            "throughput" => s.throughput,
            "dispatches" => s.dispatches as f64,
            "context_switches" => s.context_switches as f64,
            "avg_response" => s.avg_response?,
            "avg_turnaround" => s.avg_turnaround?,
            "avg_waiting" => s.avg_waiting?,
            "processes" => self.processes as f64,
            _ => return None,
        })
    }

    fn metric_json(&self, name: &str) -> Json {
        let s = &self.summary;
        match name {
            "makespan" => s.makespan.into(),
            "cpu_busy" => s.cpu_busy.into(),
            "idle" => s.idle.into(),
            "switch_ticks" => s.switch_ticks.into(),
            "dispatches" => s.dispatches.into(),
            "context_switches" => s.context_switches.into(),
            other => self.metric(other).map_or(Json::Null, Json::from),
        }
    }
}

/// Sets `path` (dots, and `[i]` or `.i` for array items) in `doc` to `value`, creating objects
/// on the way where keys are missing.
fn set_path(doc: &mut Json, path: &str, value: Json) -> Result<(), String> {
    let normal = path.replace('[', ".").replace(']', "");
    let parts: Vec<&str> = normal.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err("empty path".into());
    }
    let mut cur = doc;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let here = parts[..i].join(".");
        let place = if here.is_empty() {
            "the top level".to_owned()
        } else {
            format!("`{here}`")
        };
        cur = match cur {
            Json::Object(map) => {
                if last {
                    map.insert((*part).to_owned(), value);
                    return Ok(());
                }
                map.entry((*part).to_owned())
                    .or_insert_with(|| Json::Object(Map::new()))
            }
            Json::Array(items) => {
                let len = items.len();
                let idx: usize = part
                    .parse()
                    .map_err(|_| format!("{place} is a list: `{part}` is not an index"))?;
                let slot = items
                    .get_mut(idx)
                    .ok_or_else(|| format!("{place} has {len} items, no index {idx}"))?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            other => {
                let kind = match other {
                    Json::Null => "null",
                    Json::Bool(_) => "a boolean",
                    Json::Number(_) => "a number",
                    Json::String(_) => "a string",
                    _ => "a value",
                };
                return Err(format!("{place} is {kind}, not an object or a list"));
            }
        };
    }
    Ok(())
}

impl Sweep {
    /// Checks what can be checked without building scenarios.
    pub fn check(&self) -> Result<(), SweepError> {
        if let Base::File { .. } = self.base
            && let Some(s) = self.settings.iter().find(|s| s.is_gen())
        {
            return Err(SweepError::Usage(format!(
                "--set {}: generator settings need --gen instead of a scenario file",
                s.path
            )));
        }
        for (i, s) in self.settings.iter().enumerate() {
            if s.values.is_empty() {
                return Err(SweepError::Usage(format!("--set {}: no values", s.path)));
            }
            if self.settings[..i].iter().any(|t| t.path == s.path) {
                return Err(SweepError::Usage(format!(
                    "--set {}: set twice; give all its values in one --set",
                    s.path
                )));
            }
        }
        if self.seeds.as_ref().is_some_and(Vec::is_empty) {
            return Err(SweepError::Usage("--seeds: no seeds".into()));
        }
        let product = self
            .sizes()
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .ok_or_else(|| {
                SweepError::Usage("the product of the settings has too many runs to count".into())
            })?;
        let runs = self.range().len();
        if runs > MAX_RUNS {
            return Err(SweepError::Usage(format!(
                "the sweep has {product} runs{}; one procsim runs at most {MAX_RUNS}: split it with --shard I/N (N ≥ {})",
                if runs == product {
                    String::new()
                } else {
                    format!(" ({runs} in this shard)")
                },
                product.div_ceil(MAX_RUNS)
            )));
        }
        Ok(())
    }

    /// How many values each dimension of the product has: each setting's, then the seeds'.
    fn sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self.settings.iter().map(|s| s.values.len()).collect();
        if let Some(seeds) = &self.seeds {
            sizes.push(seeds.len());
        }
        sizes
    }

    /// How many runs the whole product has.
    pub fn len(&self) -> usize {
        self.settings
            .iter()
            .map(|s| s.values.len())
            .chain(self.seeds.as_ref().map(Vec::len))
            .fold(1usize, |a, b| a.saturating_mul(b))
    }

    /// Whether the product is empty (it never is once [`Sweep::check`] passed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The runs this process does: all of them, or its shard's contiguous slice.
    pub fn range(&self) -> Range<usize> {
        let total = self.len();
        match self.shard {
            Some((i, n)) => {
                let cut = |k: usize| ((k as u128 * total as u128) / n as u128) as usize;
                cut(i - 1)..cut(i)
            }
            None => 0..total,
        }
    }

    /// The column names of a point: each setting's path, then `seed`.
    pub fn columns(&self) -> Vec<String> {
        let mut c: Vec<String> = self.settings.iter().map(|s| s.path.clone()).collect();
        if self.seeds.is_some() {
            c.push("seed".into());
        }
        c
    }

    /// The values of run `index`: each setting's, then the seed.
    pub fn point(&self, index: usize) -> Vec<Json> {
        let sizes = self.sizes();
        let mut digits = vec![0usize; sizes.len()];
        let mut rest = index;
        for (d, size) in digits.iter_mut().zip(&sizes).rev() {
            *d = rest % size;
            rest /= size;
        }
        let mut out: Vec<Json> = self
            .settings
            .iter()
            .zip(&digits)
            .map(|(s, &d)| s.values[d].clone())
            .collect();
        if let Some(seeds) = &self.seeds {
            out.push(Json::from(seeds[digits[digits.len() - 1]]));
        }
        out
    }

    fn describe(&self, point: &[Json]) -> String {
        self.columns()
            .iter()
            .zip(point)
            .map(|(c, v)| format!("{c}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The scenario text of run `index`.
    pub fn scenario_text(&self, index: usize) -> Result<String, SweepError> {
        let point = self.point(index);
        let seed = self.seeds.as_ref().map(|_| point[point.len() - 1].clone());
        let mut doc = match &self.base {
            Base::File { doc, .. } => doc.clone(),
            Base::Gen(params) => {
                let mut p = params.clone();
                for (s, v) in self.settings.iter().zip(&point) {
                    if let Some(name) = s.path.strip_prefix("gen.") {
                        p.set(name, v).map_err(|error| SweepError::Gen {
                            index,
                            point: self.describe(&point),
                            error: Box::new(error),
                        })?;
                    }
                }
                if let Some(seed) = seed.as_ref().and_then(Json::as_u64) {
                    p.seed = seed;
                }
                let text = generate(&p).map_err(|error| SweepError::Gen {
                    index,
                    point: self.describe(&point),
                    error: Box::new(error),
                })?;
                serde_json::from_str(&text).map_err(|e| SweepError::Usage(e.to_string()))?
            }
        };
        for (s, v) in self.settings.iter().zip(&point) {
            if !s.is_gen() {
                set_path(&mut doc, &s.path, v.clone()).map_err(|reason| SweepError::Path {
                    path: s.path.clone(),
                    value: v.to_string(),
                    reason,
                })?;
            }
        }
        if let (Base::File { .. }, Some(seed)) = (&self.base, seed) {
            set_path(&mut doc, "seed", seed).map_err(SweepError::Usage)?;
        }
        Ok(serde_json::to_string(&doc).unwrap_or_default())
    }

    /// The compiled scenario of run `index`; errors name the run and its settings.
    fn plan(&self, index: usize) -> Result<std::sync::Arc<crate::Plan>, SweepError> {
        let text = self.scenario_text(index)?;
        let wrap = |e: ScenarioError| SweepError::Scenario {
            index,
            point: self.describe(&self.point(index)),
            file: match &self.base {
                Base::File { path, .. } => path.display().to_string(),
                Base::Gen(_) => "<generated>".to_owned(),
            },
            place: if e.path().is_empty() {
                String::new()
            } else {
                format!("{}: ", e.path())
            },
            message: e.message().to_owned(),
        };
        crate::load_str(&text).map_err(wrap)
    }

    /// Checks what can go wrong before the first run, at a cost that grows with the settings'
    /// values, not with their product: [`Sweep::check`], then each value of each setting with
    /// every other setting at its first value (as many scenarios as there are values), so a
    /// bad value is named before anything runs, however far into the product its first run
    /// is. Seeds are not tried: any seed is a valid one.
    ///
    /// A combination of good values can still be bad (20 processes and a `pid_max` that
    /// leaves 19 pids): each run builds its scenario as it comes ([`Sweep::run_each`]), and
    /// the first bad run in product order stops the sweep there. Building the whole product
    /// first took as long as a tenth of the runs themselves before the first row (10^6 runs
    /// of a 1,000-process file: no row after 150 s; BENCHMARKS.md, "Hostile input").
    pub fn validate(&self) -> Result<(), SweepError> {
        self.check()?;
        let sizes: Vec<usize> = self.settings.iter().map(|s| s.values.len()).collect();
        // Run i's digits are its values' positions; the last dimension varies fastest.
        let all = self.sizes();
        let mut strides = vec![1usize; all.len()];
        for k in (0..all.len().saturating_sub(1)).rev() {
            strides[k] = strides[k + 1] * all[k + 1];
        }
        // Run 0, then the j-th value of every setting before the (j+1)-th of any: a bad value
        // is found early even behind a long list of good ones.
        let longest = sizes.iter().copied().max().unwrap_or(0);
        let runs: Vec<usize> = std::iter::once(0)
            .chain((1..longest).flat_map(|j| {
                sizes
                    .iter()
                    .zip(&strides)
                    .filter(move |(size, _)| j < **size)
                    .map(move |(_, stride)| j * stride)
            }))
            .collect();
        match runs.into_par_iter().find_map_first(|i| self.plan(i).err()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Runs the runs `range` in parallel, calling `done` after each (from any thread), and
    /// returns each run's result in product order: a bad run's scenario is its error, and the
    /// runs after it still run (the caller stops at the first error, so what it prints does
    /// not depend on the threads).
    pub fn run_each(
        &self,
        range: Range<usize>,
        done: &(dyn Fn() + Sync),
    ) -> Vec<Result<RunResult, SweepError>> {
        range
            .into_par_iter()
            .map(|index| {
                let plan = self.plan(index)?;
                // Only the summary is needed: no trace, no per-process reports.
                let mut sim = Sim::new(plan, SimOptions { trace: false });
                // Only live processes and what handles still see are kept (recycle.rs).
                sim.recycle_reaped();
                while sim.advance() {}
                let result = RunResult {
                    index,
                    point: self.point(index),
                    processes: sim.process_count(),
                    summary: sim.summary(),
                    error: sim.error().map(str::to_owned),
                };
                done();
                Ok(result)
            })
            .collect()
    }

    /// Runs the runs `range` as [`Sweep::run_each`] does; the first bad run in product order
    /// is the error.
    pub fn run(
        &self,
        range: Range<usize>,
        done: &(dyn Fn() + Sync),
    ) -> Result<Vec<RunResult>, SweepError> {
        self.run_each(range, done).into_iter().collect()
    }

    /// The CSV header line.
    pub fn csv_header(&self) -> String {
        let mut cols = vec!["run".to_owned()];
        cols.extend(self.columns());
        cols.push("processes".into());
        cols.extend(METRICS.iter().map(|m| (*m).to_owned()));
        cols.push("error".into());
        cols.iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
            + "\n"
    }

    /// A result as a CSV line. Numbers are written in the shortest form that reads back
    /// exactly; a missing average is an empty field.
    pub fn csv_row(&self, r: &RunResult) -> String {
        let mut cells = vec![r.index.to_string()];
        for v in &r.point {
            cells.push(csv_field(&match v {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            }));
        }
        cells.push(r.processes.to_string());
        for m in METRICS {
            cells.push(match r.metric_json(m) {
                Json::Null => String::new(),
                v => v.to_string(),
            });
        }
        cells.push(csv_field(r.error.as_deref().unwrap_or("")));
        cells.join(",") + "\n"
    }

    /// A result as one line of JSON: `run`, the point's columns, `processes`, the metrics and
    /// `error`, in that order.
    pub fn json_row(&self, r: &RunResult) -> String {
        // Written field by field: serde_json's map would sort the keys.
        let mut fields: Vec<(String, Json)> = vec![("run".into(), r.index.into())];
        for (c, v) in self.columns().into_iter().zip(&r.point) {
            fields.push((c, v.clone()));
        }
        fields.push(("processes".into(), r.processes.into()));
        for m in METRICS {
            fields.push(((*m).to_owned(), r.metric_json(m)));
        }
        fields.push((
            "error".into(),
            r.error
                .as_ref()
                .map_or(Json::Null, |e| Json::from(e.as_str())),
        ));
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}:{}", Json::from(k.as_str()), v))
            .collect();
        format!("{{{}}}\n", body.join(","))
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sweep(settings: &[&str], seeds: Option<&str>) -> Sweep {
        Sweep {
            base: Base::File {
                path: "x.json".into(),
                doc: json!({"programs": {"m": {"body": [{"cpu": 5}, {"io": 2}, {"cpu": 3}]}},
                            "processes": [{"program": "m", "count": 3}]}),
            },
            settings: settings
                .iter()
                .map(|s| Setting::parse(s).unwrap())
                .collect(),
            seeds: seeds.map(|s| parse_seeds(s).unwrap()),
            shard: None,
        }
    }

    #[test]
    fn points_enumerate_the_product_in_order() {
        let s = sweep(
            &["kernel.quantum=1,2", "kernel.context_switch=0,1,2"],
            Some("7..8"),
        );
        assert_eq!(s.len(), 12);
        assert_eq!(s.point(0), [json!(1), json!(0), json!(7)]);
        assert_eq!(s.point(1), [json!(1), json!(0), json!(8)]);
        assert_eq!(s.point(2), [json!(1), json!(1), json!(7)]);
        assert_eq!(s.point(11), [json!(2), json!(2), json!(8)]);
    }

    #[test]
    fn shards_cover_the_product_once() {
        let mut s = sweep(&["kernel.quantum=1..7"], None);
        let mut all = Vec::new();
        for i in 1..=3 {
            s.shard = Some((i, 3));
            all.extend(s.range());
        }
        assert_eq!(all, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn settings_parse_values_and_paths() {
        let s = Setting::parse(
            r#"kernel.tick_order=["wake","admit","preempt"],["admit","wake","preempt"]"#,
        )
        .unwrap();
        assert_eq!(s.values.len(), 2);
        let s = Setting::parse("kernel.exit_policy=posix,multiprocessing").unwrap();
        assert_eq!(s.values, [json!("posix"), json!("multiprocessing")]);
        assert!(Setting::parse("kernel.quantum").is_err());
        assert!(Setting::parse("kernel.quantum=1,,2").is_err());
        assert!(Setting::parse("kernel.quantum=5..1").is_err());

        let mut doc = json!({"processes": [{"program": "m"}]});
        set_path(&mut doc, "kernel.quantum", json!(3)).unwrap();
        set_path(&mut doc, "processes[0].arrival", json!(2)).unwrap();
        assert_eq!(
            doc,
            json!({"kernel": {"quantum": 3}, "processes": [{"program": "m", "arrival": 2}]})
        );
        assert!(
            set_path(&mut doc, "processes[3].arrival", json!(2))
                .unwrap_err()
                .contains("has 1 items")
        );
        assert!(
            set_path(&mut doc, "kernel.quantum.x", json!(2))
                .unwrap_err()
                .contains("is a number")
        );
    }

    #[test]
    fn a_bad_value_names_the_run_and_the_setting() {
        let s = sweep(&["kernel.quantum=2,0"], None);
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("run 1 (kernel.quantum=0)"), "{e}");
        assert!(
            e.contains("x.json: kernel.quantum: the quantum must be at least 1"),
            "{e}"
        );
    }

    #[test]
    fn validate_tries_values_not_their_product() {
        // pid_max 4 leaves 2 pids: enough for 1 process, not for 3 (run 3 only).
        let s = sweep(&["processes[0].count=1,3", "kernel.pid_max=100,4"], None);
        s.validate().unwrap();
        let each = s.run_each(s.range(), &|| {});
        assert!(each[..3].iter().all(Result::is_ok));
        let e = each[3].as_ref().unwrap_err().to_string();
        assert!(
            e.contains("run 3 (processes[0].count=3 kernel.pid_max=4)"),
            "{e}"
        );
        assert!(s.run(s.range(), &|| {}).is_err());
    }

    #[test]
    fn results_come_back_in_order() {
        let s = sweep(&["kernel.quantum=1..6", "kernel.context_switch=0,1"], None);
        s.validate().unwrap();
        let r = s.run(s.range(), &|| {}).unwrap();
        assert_eq!(
            r.iter().map(|r| r.index).collect::<Vec<_>>(),
            (0..12).collect::<Vec<_>>()
        );
        assert!(s.csv_row(&r[0]).starts_with("0,1,0,3,"));
        assert!(s.json_row(&r[1]).starts_with(
            r#"{"run":1,"kernel.quantum":1,"kernel.context_switch":1,"processes":3,"#
        ));
    }
}
