//! Many runs of one workload over the cartesian product of settings: `procsim sweep`.
//!
//! A sweep starts from a scenario file, or from a generated workload ([`crate::study::workload`]), and a
//! list of settings, each a JSON path and the values it takes (`kernel.quantum=1,2,4,8`;
//! `gen.cpu_bound=0.2,0.8` for generator parameters), plus optionally a list of seeds. Run `i`
//! of the product is fixed by `i` alone (the first setting varies slowest, the seed fastest), so
//! a slice of the product ([`Sweep::shard`]) can run on another machine and the slices' outputs
//! concatenate into the whole sweep's. Runs go in parallel (rayon) and results come back in
//! product order whatever the threads did.

mod row;
mod setting;

use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value as Json;

use crate::scenario::ScenarioError;
use crate::sim::{Sim, SimOptions};
use crate::study::workload::{GenError, GenParams, generate};

pub use row::{METRICS, RunResult};
use setting::set_path;
pub use setting::{Setting, parse_seeds, parse_shard};
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
