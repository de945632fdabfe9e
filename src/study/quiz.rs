//! Seeded scheduling exercises, as OSTEP's homework makes them: `procsim quiz` prints a small
//! workload and the questions (when does each process finish, its waiting, turnaround and
//! response times, and the schedule) and keeps the answer for `--solve`; `procsim grade`
//! ([`super::grade`]) checks a student's answer file.
//!
//! The workload is `procsim gen`'s ([`super::workload`]), kept small enough to work by hand:
//! CPU bursts of mean 6 ticks and, with `io`, some I/O-bound processes with I/O of mean 5.
//! An exercise is an ordinary scenario file (without an `expect` block: it would give the
//! answer away), so any scenario can be graded too.

use std::fmt::Write as _;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::report::{Report, render_timeline};
use crate::scenario::policy::POLICY_NAMES;

use super::workload::{GenError, GenParams, generate};

/// Most processes an exercise may have: more is no longer an exercise worked by hand.
pub const MAX_PROCESSES: u32 = 10;
/// Most CPUs an exercise may have.
pub const MAX_CPUS: u32 = 4;

/// What to make an exercise of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizParams {
    /// Seed of the workload's draws.
    pub seed: u64,
    /// The scheduling policy (a name of SPEC §3a, with its default parameters).
    pub policy: String,
    /// How many processes (1 to [`MAX_PROCESSES`]).
    pub processes: u32,
    /// Whether processes do I/O between their bursts (else each is one CPU burst).
    pub io: bool,
    /// How many CPUs (1 to [`MAX_CPUS`]).
    pub cpus: u32,
}

/// Settings no exercise can have.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuizError {
    /// A policy that does not exist.
    #[error("--policy {0}: not a policy; one of {list}", list = POLICY_NAMES.join(", "))]
    Policy(String),
    /// Too few or too many processes.
    #[error("--processes {0}: an exercise has 1 to {MAX_PROCESSES} processes")]
    Processes(u32),
    /// Too few or too many CPUs.
    #[error("--cpus {0}: an exercise has 1 to {MAX_CPUS} CPUs")]
    Cpus(u32),
    /// The workload generator refused (not expected with the settings above).
    #[error("the workload: {0}")]
    Gen(#[from] GenError),
}

/// The answer to an exercise: per process, the four figures asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// By process name, in the exercise's order.
    pub processes: IndexMap<String, Figures>,
}

/// One process's figures (`null` when it never ran or never ended: a run a limit stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// When it terminated.
    pub ended_at: Option<u64>,
    /// Time it spent ready.
    pub waiting: u64,
    /// `ended_at − arrival`.
    pub turnaround: Option<u64>,
    /// `first run − arrival`.
    pub response: Option<u64>,
}

/// The names of the four fields an answer may give, in the order they are checked.
pub const FIELDS: [&str; 4] = ["ended_at", "waiting", "turnaround", "response"];

impl Figures {
    /// The value of one of [`FIELDS`].
    pub fn get(&self, field: &str) -> Option<u64> {
        match field {
            "ended_at" => self.ended_at,
            "waiting" => Some(self.waiting),
            "turnaround" => self.turnaround,
            "response" => self.response,
            _ => None,
        }
    }
}

/// The answer a run gives.
pub fn solve(report: &Report) -> Answer {
    Answer {
        processes: report
            .processes
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    Figures {
                        ended_at: p.ended_at,
                        waiting: p.waiting,
                        turnaround: p.turnaround,
                        response: p.response,
                    },
                )
            })
            .collect(),
    }
}

/// The command line that makes this exercise again.
fn command_line(p: &QuizParams) -> String {
    let mut s = format!(
        "procsim quiz --seed {} --policy {} --processes {}",
        p.seed, p.policy, p.processes
    );
    if p.io {
        s.push_str(" --io");
    }
    if p.cpus != 1 {
        let _ = write!(s, " --cpus {}", p.cpus);
    }
    s
}

/// Makes the exercise: a scenario file's text. The same parameters give the same bytes.
///
/// ```
/// use procsim::study::quiz::{QuizParams, exercise};
/// let p = QuizParams { seed: 3, policy: "srtf".into(), processes: 4, io: false, cpus: 1 };
/// let text = exercise(&p).unwrap();
/// assert_eq!(text, exercise(&p).unwrap());
/// let report = procsim::Sim::new(procsim::load_str(&text).unwrap(), Default::default()).run();
/// assert_eq!(report.processes.len(), 4);
/// ```
pub fn exercise(p: &QuizParams) -> Result<String, QuizError> {
    if !POLICY_NAMES.contains(&p.policy.as_str()) {
        return Err(QuizError::Policy(p.policy.clone()));
    }
    if !(1..=MAX_PROCESSES).contains(&p.processes) {
        return Err(QuizError::Processes(p.processes));
    }
    if !(1..=MAX_CPUS).contains(&p.cpus) {
        return Err(QuizError::Cpus(p.cpus));
    }
    let mut gen_params = GenParams::new(p.seed, p.processes);
    gen_params.cpu_mean = 6.0;
    gen_params.io_mean = 5.0;
    if p.io {
        gen_params.bursts = 2.5;
    } else {
        gen_params.cpu_bound = 1.0;
        gen_params.bursts = 1.0;
    }
    let generated: Value = serde_json::from_str(&generate(&gen_params)?)
        .map_err(|e| GenError::Unknown(format!("generated text: {e}")))?;
    let mut kernel = serde_json::Map::new();
    kernel.insert("policy".into(), json!(p.policy));
    if p.cpus != 1 {
        kernel.insert("cpus".into(), json!(p.cpus));
    }
    let lines = |v: &Value| -> String {
        match v {
            Value::Object(m) => m
                .iter()
                .map(|(k, v)| format!("    {}: {v}", json!(k)))
                .collect::<Vec<_>>()
                .join(",\n"),
            Value::Array(a) => a
                .iter()
                .map(|v| format!("    {v}"))
                .collect::<Vec<_>>()
                .join(",\n"),
            _ => String::new(),
        }
    };
    Ok(format!(
        "{{\n  \"name\": {},\n  \"description\": {},\n  \"kernel\": {},\n  \"seed\": {},\n  \"programs\": {{\n{}\n  }},\n  \"processes\": [\n{}\n  ]\n}}\n",
        json!(format!(
            "quiz: {} processes under {} (seed {})",
            p.processes, p.policy, p.seed
        )),
        json!(format!(
            "Made by `{}`. Work out when each process ends, its waiting, turnaround and response times, and the schedule; check with `procsim grade`.",
            command_line(p)
        )),
        Value::Object(kernel),
        p.seed,
        lines(&generated["programs"]),
        lines(&generated["processes"]),
    ))
}

/// One top-level process of an exercise as the question shows it.
struct Job {
    name: String,
    arrival: u64,
    body: String,
}

/// The jobs of an exercise's text: name, arrival and program in words (`cpu 5, io 3, cpu 2`).
fn jobs(text: &str) -> Vec<Job> {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let programs = &v["programs"];
    let empty = Vec::new();
    v["processes"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let program = p["program"].as_str().unwrap_or("");
            let body = programs[program]["body"]
                .as_array()
                .unwrap_or(&empty)
                .iter()
                .filter_map(|ins| ins.as_object()?.iter().next())
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            Job {
                name: p["name"]
                    .as_str()
                    .map_or_else(|| format!("#{}", i + 1), str::to_owned),
                arrival: p["arrival"].as_u64().unwrap_or(0),
                body,
            }
        })
        .collect()
}

/// The policy's rule in a line, for the question.
fn policy_words(policy: &str) -> &'static str {
    match policy {
        "rr" => "round robin, quantum 4: the head of one FIFO queue runs for a slice",
        "fcfs" => "first come, first served: the one ready first runs until it blocks or ends",
        "sjf" => "shortest job first: the shortest next CPU burst runs, not preempted",
        "srtf" => "shortest remaining time first: a shorter newcomer preempts",
        "priority" => "priority: the smallest priority number runs (all equal here: FIFO)",
        "hrrn" => "highest response ratio next: (waiting + burst) / burst, not preempted",
        "mlfq" => {
            "MLFQ as OSTEP's mlfq.py: 3 queues, slices of 4 ticks, allotment 1 slice, no boost"
        }
        "lottery" => "lottery: a seeded draw among the ready processes' tickets (all equal)",
        "stride" => "stride: the least pass runs for a slice; pass grows by 10000 / tickets",
        "cfs" => "CFS: the least vruntime runs, latency 24, minimum granularity 3",
        "eevdf" => "EEVDF: the eligible process with the earliest virtual deadline, slice 3",
        _ => "see docs/policies.md",
    }
}

/// The question: the workload and what to work out, without the answer.
pub fn question(p: &QuizParams, text: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Exercise (seed {}): {} process{} on {} CPU{}, policy {}",
        p.seed,
        p.processes,
        if p.processes == 1 { "" } else { "es" },
        p.cpus,
        if p.cpus == 1 { "" } else { "s" },
        p.policy
    );
    let _ = writeln!(out, "  ({})", policy_words(&p.policy));
    out.push('\n');
    let jobs = jobs(text);
    let w = jobs.iter().map(|j| j.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "{:w$}  ARRIVES  DOES", "NAME");
    for j in &jobs {
        let _ = writeln!(out, "{:w$}  {:>7}  {}", j.name, j.arrival, j.body);
    }
    out.push_str(
        "\nTimes are in ticks; only `cpu` takes CPU time, `io` blocks for its ticks without one.\n\
         \nWork out, for every process:\n  \
         1. when it ends (ended_at);\n  \
         2. its waiting time (ticks spent ready);\n  \
         3. its turnaround (ended_at - arrival);\n  \
         4. its response time (first run - arrival);\n\
         and the schedule: which process each CPU runs, tick by tick.\n",
    );
    let _ = write!(
        out,
        "\nSee the answer with `{} --solve`, or check yours: save the exercise with `-o ex.json`,\n\
         write {{\"processes\": {{\"{}\": {{\"ended_at\": 0, \"waiting\": 0, \"turnaround\": 0, \"response\": 0}}, ...}}}}\n\
         to answer.json (any of the fields) and run `procsim grade ex.json answer.json`.\n",
        command_line(p),
        jobs.first().map_or("P1", |j| j.name.as_str())
    );
    out
}

/// The answer as text: the four figures per process, then the schedule (the timeline).
pub fn render_answer(report: &Report) -> String {
    let answer = solve(report);
    let mut out = String::new();
    let w = answer
        .processes
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "{:w$}  ARRIVAL  ENDED_AT  WAITING  TURNAROUND  RESPONSE",
        "NAME"
    );
    let cell = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |x| x.to_string());
    for (p, (name, f)) in report.processes.iter().zip(&answer.processes) {
        let _ = writeln!(
            out,
            "{name:w$}  {:>7}  {:>8}  {:>7}  {:>10}  {:>8}",
            cell(p.admitted_at),
            cell(f.ended_at),
            f.waiting,
            cell(f.turnaround),
            cell(f.response)
        );
    }
    out.push_str("\nSchedule:\n");
    out.push_str(&render_timeline(report, 100, 40));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(policy: &str, processes: u32, io: bool, cpus: u32) -> QuizParams {
        QuizParams {
            seed: 1,
            policy: policy.into(),
            processes,
            io,
            cpus,
        }
    }

    #[test]
    fn impossible_settings_are_refused() {
        assert!(matches!(
            exercise(&params("rr", 0, false, 1)),
            Err(QuizError::Processes(0))
        ));
        assert!(matches!(
            exercise(&params("rr", 11, false, 1)),
            Err(QuizError::Processes(11))
        ));
        assert!(matches!(
            exercise(&params("rr", 3, false, 0)),
            Err(QuizError::Cpus(0))
        ));
        assert!(matches!(
            exercise(&params("rr", 3, false, 5)),
            Err(QuizError::Cpus(5))
        ));
        let e = exercise(&params("fifo", 3, false, 1)).unwrap_err();
        assert!(e.to_string().contains("fcfs"), "{e}");
    }

    #[test]
    fn every_policy_makes_a_runnable_exercise() {
        for policy in POLICY_NAMES {
            for (io, cpus) in [(false, 1), (true, 2)] {
                let text = exercise(&params(policy, 5, io, cpus)).unwrap();
                let plan = crate::load_str(&text).unwrap();
                let report = crate::Sim::new(plan, Default::default()).run();
                assert_eq!(report.error, None, "{policy}");
                assert_eq!(report.cpus, cpus);
                let answer = solve(&report);
                assert_eq!(answer.processes.len(), 5);
                assert!(answer.processes.values().all(|f| f.ended_at.is_some()));
            }
        }
    }

    #[test]
    fn without_io_each_process_is_one_burst_and_the_question_shows_it() {
        let p = params("fcfs", 4, false, 1);
        let text = exercise(&p).unwrap();
        let q = question(&p, &text);
        let rows: Vec<&str> = q
            .lines()
            .skip_while(|l| !l.starts_with("NAME"))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(rows.len(), 4, "{q}");
        for r in rows {
            let does = r.split("  ").last().unwrap().trim();
            assert!(does.starts_with("cpu ") && !does.contains(','), "{r}");
        }
        assert!(
            !q.contains("\"waiting\": 1"),
            "no figure of the answer leaks: {q}"
        );
    }
}
