//! Seeded random workloads written as scenario files: `procsim gen`.
//!
//! A workload is `processes` top-level processes, each running its own program: CPU bursts
//! separated by I/O. A share `cpu_bound` of them (exactly, rounded) is CPU-bound: long bursts
//! (mean `cpu_mean` ticks) and short I/O (a fifth of `io_mean`); the others are I/O-bound:
//! short bursts (a fifth of `cpu_mean`) and long I/O (mean `io_mean`). The number of bursts
//! has mean `bursts`; arrivals are spaced by gaps of mean `arrival_mean` (0: all at tick 0).
//! Durations follow geometric laws (the discrete exponential), the textbook shape of CPU
//! bursts.
//!
//! The same parameters give the same file, byte for byte, on every machine: draws come from
//! the simulator's pinned generator ([`SeededRng`]) and the logarithm behind the geometric law
//! is computed here with basic arithmetic only (the platform's `ln` may differ in the last bit
//! between systems, which could change a rounded duration).

use std::fmt::Write;

use serde::Serialize;
use serde_json::json;

use crate::sim::rng::SeededRng;

/// Most processes a generated workload may have.
pub const MAX_PROCESSES: u32 = 1_000_000;
/// Largest mean accepted for a duration or a count (keeps every draw far from overflow).
pub const MAX_MEAN: f64 = 1e9;
/// The most bursts a workload may hold in all (processes × mean bursts): ten million, about
/// 150 MB of scenario, within [`crate::scenario::MAX_SCENARIO_BYTES`].
pub const MAX_BURSTS: f64 = 1e7;

/// What to generate. [`GenParams::new`] gives the defaults for a seed and a size.
#[derive(Debug, Clone, PartialEq)]
pub struct GenParams {
    /// Seed of the draws (also written as the scenario's `seed`).
    pub seed: u64,
    /// How many processes.
    pub processes: u32,
    /// Share of CPU-bound processes, from 0 to 1.
    pub cpu_bound: f64,
    /// Mean CPU burst of a CPU-bound process, in ticks (at least 1).
    pub cpu_mean: f64,
    /// Mean I/O of an I/O-bound process, in ticks (at least 1).
    pub io_mean: f64,
    /// Mean number of CPU bursts per process (at least 1).
    pub bursts: f64,
    /// Mean gap between two arrivals, in ticks (0: everyone arrives at 0).
    pub arrival_mean: f64,
    /// `kernel.quantum` to write, if any.
    pub quantum: Option<u64>,
    /// `kernel.cpus` to write, if any.
    pub cpus: Option<u32>,
    /// `kernel.context_switch` to write, if any.
    pub context_switch: Option<u64>,
}

impl GenParams {
    /// The defaults: half CPU-bound, bursts of 10, I/O of 10, 4 bursts, arrivals 2 apart.
    pub fn new(seed: u64, processes: u32) -> GenParams {
        GenParams {
            seed,
            processes,
            cpu_bound: 0.5,
            cpu_mean: 10.0,
            io_mean: 10.0,
            bursts: 4.0,
            arrival_mean: 2.0,
            quantum: None,
            cpus: None,
            context_switch: None,
        }
    }

    /// Sets a parameter by its name as `procsim sweep --set gen.NAME=…` spells it.
    pub fn set(&mut self, name: &str, value: &serde_json::Value) -> Result<(), GenError> {
        let bad = || GenError::Value {
            name: name.to_owned(),
            value: value.to_string(),
        };
        let float = || value.as_f64().ok_or_else(bad);
        let int = || value.as_u64().ok_or_else(bad);
        match name {
            "processes" => self.processes = u32::try_from(int()?).map_err(|_| bad())?,
            "cpu_bound" => self.cpu_bound = float()?,
            "cpu_mean" => self.cpu_mean = float()?,
            "io_mean" => self.io_mean = float()?,
            "bursts" => self.bursts = float()?,
            "arrival_mean" => self.arrival_mean = float()?,
            "quantum" => self.quantum = Some(int()?),
            "cpus" => self.cpus = Some(u32::try_from(int()?).map_err(|_| bad())?),
            "context_switch" => self.context_switch = Some(int()?),
            "seed" => self.seed = int()?,
            _ => return Err(GenError::Unknown(name.to_owned())),
        }
        Ok(())
    }

    /// Checks every parameter's range.
    pub fn check(&self) -> Result<(), GenError> {
        let range = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(GenError::Range {
                    name: name.to_owned(),
                    value: number(v),
                    lo: number(lo),
                    hi: number(hi),
                })
            }
        };
        range(
            "processes",
            f64::from(self.processes),
            1.0,
            f64::from(MAX_PROCESSES),
        )?;
        range("cpu_bound", self.cpu_bound, 0.0, 1.0)?;
        range("cpu_mean", self.cpu_mean, 1.0, MAX_MEAN)?;
        range("io_mean", self.io_mean, 1.0, MAX_MEAN)?;
        range("bursts", self.bursts, 1.0, 1e4)?;
        range("arrival_mean", self.arrival_mean, 0.0, MAX_MEAN)?;
        // The kernel settings must be ones `validate` accepts: a file that cannot run is
        // no workload.
        // A u64 bound is written as the integer it is (through f64 it would read
        // 18446744073709552000).
        if let Some(q) = self.quantum
            && q == 0
        {
            return Err(GenError::Range {
                name: "quantum".to_owned(),
                value: q.to_string(),
                lo: "1".to_owned(),
                hi: u64::MAX.to_string(),
            });
        }
        if let Some(c) = self.cpus {
            range(
                "cpus",
                f64::from(c),
                1.0,
                f64::from(crate::scenario::CPUS_LIMIT),
            )?;
        }
        // Bursts are drawn around their mean; the file holds about two instructions a
        // burst, and must stay within what procsim reads as a scenario.
        if f64::from(self.processes) * self.bursts > MAX_BURSTS {
            return Err(GenError::Range {
                name: "processes × bursts".to_owned(),
                value: number(f64::from(self.processes) * self.bursts),
                lo: number(1.0),
                hi: number(MAX_BURSTS),
            });
        }
        Ok(())
    }
}

/// A parameter out of range, unknown or of the wrong type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenError {
    /// Out of range.
    #[error("{name} must be from {lo} to {hi}, not {value}")]
    Range {
        /// The parameter.
        name: String,
        /// Its value, written by [`number`] (or as the integer it is).
        value: String,
        /// Smallest allowed.
        lo: String,
        /// Largest allowed.
        hi: String,
    },
    /// Not a parameter of the generator.
    #[error(
        "unknown generator parameter `{0}` (known: processes, cpu_bound, cpu_mean, io_mean, bursts, arrival_mean, quantum, cpus, context_switch, seed)"
    )]
    Unknown(String),
    /// A value of the wrong type.
    #[error("gen.{name}: {value} is not a valid value")]
    Value {
        /// The parameter.
        name: String,
        /// The value as given.
        value: String,
    },
}

/// A parameter's value for a message: a whole number as its digits while an f64 holds every
/// integer up to it exactly (2^53), else in scientific notation (`1.8446744073709552e19`, not
/// the `18446744073709552000` that f64's `Display` gives, which reads as an integer it is not).
fn number(x: f64) -> String {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.is_finite() && x.fract() == 0.0 && x.abs() <= EXACT {
        format!("{x:.0}")
    } else if x.is_finite() && x.abs() > EXACT {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// `ln x` for `x > 0`, from additions, multiplications and divisions only, so that it gives the
/// same bits everywhere (IEEE 754 rounds those exactly; library logarithms need not agree).
fn ln(x: f64) -> f64 {
    const SQRT_2: f64 = std::f64::consts::SQRT_2;
    const LN_2: f64 = std::f64::consts::LN_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2 atanh(s) with |s| < 0.172: the series converges by a factor 0.03 a term.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let (mut term, mut sum, mut k) = (s, 0.0, 1.0);
    for _ in 0..12 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    2.0 * sum + e as f64 * LN_2
}

/// The draws of one workload.
struct Draws(SeededRng);

impl Draws {
    /// Uniform in `(0, 1]`, from 53 random bits.
    fn unit(&mut self) -> f64 {
        let bits = self.0.uniform(0, (1i64 << 53) - 1) as f64;
        1.0 - bits / (1u64 << 53) as f64
    }

    /// Geometric on `0, 1, 2, …` with mean `mean` (0 gives 0).
    fn geometric0(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        let q = mean / (1.0 + mean); // 1 − p, with p = 1 / (1 + mean)
        let x = (ln(self.unit()) / ln(q)).floor();
        // Casts saturate; the cap keeps sums of many draws far from overflow.
        (x as u64).min(1 << 40)
    }

    /// Geometric on `1, 2, …` with mean `mean ≥ 1`.
    fn at_least_one(&mut self, mean: f64) -> u64 {
        1 + self.geometric0(mean - 1.0)
    }
}

#[derive(Serialize)]
struct Kernel {
    #[serde(skip_serializing_if = "Option::is_none")]
    quantum: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_switch: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpus: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_processes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid_max: Option<u32>,
}

/// The command line that makes this workload, for the scenario's description.
fn command_line(p: &GenParams) -> String {
    let mut s = format!(
        "procsim gen --seed {} --processes {} --cpu-bound {} --cpu-mean {} --io-mean {} --bursts {} --arrival-mean {}",
        p.seed, p.processes, p.cpu_bound, p.cpu_mean, p.io_mean, p.bursts, p.arrival_mean
    );
    for (flag, v) in [
        ("quantum", p.quantum),
        ("context-switch", p.context_switch),
        ("cpus", p.cpus.map(u64::from)),
    ] {
        if let Some(v) = v {
            let _ = write!(s, " --{flag} {v}");
        }
    }
    s
}

/// Generates the workload as scenario text (JSON, one program and one process a line).
///
/// ```
/// use procsim::study::workload::{GenParams, generate};
/// let text = generate(&GenParams::new(1, 5)).unwrap();
/// assert_eq!(text, generate(&GenParams::new(1, 5)).unwrap()); // same seed, same bytes
/// let plan = procsim::load_str(&text).unwrap();
/// let report = procsim::Sim::new(plan, Default::default()).run();
/// assert_eq!(report.processes.len(), 5);
/// ```
pub fn generate(p: &GenParams) -> Result<String, GenError> {
    p.check()?;
    let mut d = Draws(SeededRng::new(p.seed));
    let n = p.processes as usize;
    // Exactly round(share × n) CPU-bound processes, chosen by a partial Fisher–Yates shuffle.
    let cpu_count = (p.cpu_bound * n as f64).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..cpu_count.min(n) {
        let j = d.0.uniform(i as i64, n as i64 - 1) as usize;
        order.swap(i, j);
    }
    let mut cpu_bound = vec![false; n];
    for &i in &order[..cpu_count.min(n)] {
        cpu_bound[i] = true;
    }
    let short_cpu = (p.cpu_mean / 5.0).max(1.0);
    let short_io = (p.io_mean / 5.0).max(1.0);

    let mut programs = String::new();
    let mut processes = String::new();
    let mut arrival = 0u64;
    for (i, &is_cpu_bound) in cpu_bound.iter().enumerate() {
        if i > 0 {
            arrival = arrival.saturating_add(d.geometric0(p.arrival_mean));
        }
        let (burst_mean, io_mean, kind) = if is_cpu_bound {
            (p.cpu_mean, short_io, "cpu")
        } else {
            (short_cpu, p.io_mean, "io")
        };
        let bursts = d.at_least_one(p.bursts);
        let mut body = Vec::with_capacity(2 * bursts as usize);
        for b in 0..bursts {
            if b > 0 {
                body.push(json!({"io": d.at_least_one(io_mean)}));
            }
            body.push(json!({"cpu": d.at_least_one(burst_mean)}));
        }
        let program = format!("p{}-{kind}", i + 1);
        let sep = if i + 1 < n { "," } else { "" };
        let _ = writeln!(
            programs,
            "    {}: {}{sep}",
            json!(program),
            json!({"body": body})
        );
        // Written by hand: `json!` would sort the keys, and program, name, arrival reads best.
        let _ = writeln!(
            processes,
            "    {{\"program\": {}, \"name\": \"P{}\", \"arrival\": {arrival}}}{sep}",
            json!(program),
            i + 1
        );
    }

    let big = p.processes > 4000;
    let kernel = Kernel {
        quantum: p.quantum,
        context_switch: p.context_switch,
        cpus: p.cpus,
        max_processes: big.then_some(p.processes),
        pid_max: big.then_some(p.processes.saturating_add(2).max(32768)),
    };
    let kernel = serde_json::to_string(&kernel).unwrap_or_else(|_| "{}".into());
    let kernel = if kernel == "{}" {
        String::new()
    } else {
        format!("  \"kernel\": {kernel},\n")
    };
    let name = format!(
        "generated: {n} processes, {cpu_count} CPU-bound (seed {})",
        p.seed
    );
    let description = format!(
        "Made by `{}`. Programs named pN-cpu are CPU-bound (bursts of mean {}, I/O of mean {}); pN-io are I/O-bound (bursts of mean {}, I/O of mean {}).",
        command_line(p),
        p.cpu_mean,
        short_io,
        short_cpu,
        p.io_mean
    );
    Ok(format!(
        "{{\n  \"name\": {},\n  \"description\": {},\n{kernel}  \"seed\": {},\n  \"programs\": {{\n{programs}  }},\n  \"processes\": [\n{processes}  ]\n}}\n",
        json!(name),
        json!(description),
        p.seed
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_the_library_closely() {
        for x in [1e-16, 0.001, 0.3, 0.5, 0.7, 0.9, 0.999999, 1.0, 2.0, 10.0] {
            let (a, b) = (ln(x), x.ln());
            assert!((a - b).abs() <= 1e-15 * b.abs().max(1.0), "{x}: {a} vs {b}");
        }
    }

    #[test]
    fn geometric_means_are_close() {
        let mut d = Draws(SeededRng::new(3));
        let n = 20000;
        let mean = (0..n).map(|_| d.at_least_one(10.0)).sum::<u64>() as f64 / n as f64;
        assert!((mean - 10.0).abs() < 0.4, "{mean}");
        let mean0 = (0..n).map(|_| d.geometric0(2.0)).sum::<u64>() as f64 / n as f64;
        assert!((mean0 - 2.0).abs() < 0.1, "{mean0}");
        assert_eq!(d.geometric0(0.0), 0);
    }

    #[test]
    fn shares_and_ranges() {
        let mut p = GenParams::new(9, 10);
        p.cpu_bound = 0.3;
        let text = generate(&p).unwrap();
        assert_eq!(text.matches("-cpu\": {").count(), 3);
        assert_eq!(text.matches("-io\": {").count(), 7);
        p.cpu_bound = 1.5;
        assert!(
            generate(&p)
                .unwrap_err()
                .to_string()
                .contains("cpu_bound must be from 0 to 1")
        );
        p.cpu_bound = 0.5;
        p.processes = 0;
        assert!(generate(&p).is_err());
        assert!(matches!(
            p.set("nope", &json!(1)),
            Err(GenError::Unknown(_))
        ));
        assert!(p.set("processes", &json!("x")).is_err());
    }

    #[test]
    fn bounds_are_written_exactly() {
        let mut p = GenParams::new(1, 10);
        p.quantum = Some(0);
        assert_eq!(
            generate(&p).unwrap_err().to_string(),
            "quantum must be from 1 to 18446744073709551615, not 0"
        );
        p.quantum = Some(u64::MAX);
        assert!(generate(&p).is_ok());
        assert_eq!(number(1e9), "1000000000");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(18446744073709551615.0), "1.8446744073709552e19");
        assert_eq!(number(1e30), "1e30");
    }
}
