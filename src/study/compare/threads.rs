//! Comparing the threads of two matched processes (SPEC §4a): `compare` checks threads like
//! processes. Must agree: the names of a process's threads (main thread first, then in
//! creation order) and, for each thread matched by name, its daemon flag and its sequence of
//! states with ready/running alternations folded. Shown: its CPU time and end.

use serde_json::Value as Json;

use super::{Row, Verdict, text, time_row};
use crate::report::{ProcessReport, Report};

/// The rows for the threads of process `i` of `sim` and process `j` of `fork`.
pub(super) fn rows(
    out: &mut Vec<Row>,
    (sim, i): (&Report, usize),
    (fork, j): (&Report, usize),
    check_states: bool,
) {
    let (s, f) = (&sim.processes[i], &fork.processes[j]);
    if s.threads.is_empty() && f.threads.is_empty() {
        return;
    }
    let names = |p: &ProcessReport| -> Json {
        p.threads
            .iter()
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .into()
    };
    out.push(row(&s.name, "threads", names(s), names(f), true));
    // The main thread's states are its process's, compared already.
    for (a, st) in s.threads.iter().enumerate().skip(1) {
        let nth = s.threads[1..a].iter().filter(|t| t.name == st.name).count();
        let Some((b, ft)) = f
            .threads
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, t)| t.name == st.name)
            .nth(nth)
        else {
            continue;
        };
        let who = format!("{}/{}", s.name, st.name);
        out.push(row(
            &who,
            "daemon",
            st.daemon.into(),
            ft.daemon.into(),
            true,
        ));
        // The n-th thread of that tid (a tid is reused once its thread has ended).
        let life = |p: &ProcessReport, k: usize| {
            p.threads[1..k]
                .iter()
                .filter(|t| t.tid == p.threads[k].tid)
                .count()
        };
        let states = |r: &Report, proc: usize, tid: u32, nth: usize| -> Json {
            r.folded_thread_states(proc as u32, tid, nth)
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .into()
        };
        let (a_states, b_states) = (
            states(sim, i, st.tid, life(s, a)),
            states(fork, j, ft.tid, life(f, b)),
        );
        out.push(row(&who, "states", a_states, b_states, check_states));
        out.push(time_row(&who, "cpu", Some(st.cpu), Some(ft.cpu)));
        out.push(time_row(&who, "ended_at", st.ended_at, ft.ended_at));
    }
}

/// A row of two values that must agree (`must`), or that are only shown.
fn row(process: &str, field: &'static str, a: Json, b: Json, must: bool) -> Row {
    let verdict = match (must, a == b) {
        (false, _) => Verdict::Shown,
        (true, true) => Verdict::Same,
        (true, false) => Verdict::Differs,
    };
    Row {
        process: process.to_owned(),
        field,
        sim: text(&a),
        fork: text(&b),
        must_agree: must,
        verdict,
    }
}
