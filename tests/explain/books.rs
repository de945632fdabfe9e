//! On published examples, the lines a student would check say what the book says (derived
//! by hand from the books' schedules, quoted in each scenario's description), policy by policy.

use super::*;

/// Silberschatz's round robin (P1 24, P2 3, P3 3, q = 4): P1 runs 0-4 and joins the tail
/// behind P2 and P3; P2 4-7, P3 7-10; then P1 alone keeps the CPU at each slice end.
#[test]
fn silberschatz_round_robin() {
    let text = explain_file("scenarios/sched-silberschatz-rr.json");
    has(
        &text,
        "     4  P1's slice on CPU 0 ran out after 4 ticks with work left",
    );
    has(
        &text,
        "     4  P1 (3rd of 3 in the queue) joins the ready structure (slice ran out); in the preempt group (lowest CPU first): at the tail of the queue",
    );
    has(
        &text,
        "     4  CPU 0 takes P2 (1st of 3 in the queue) by the rule, ahead of P1 (3rd of 3 in the queue), P3 (2nd of 3 in the queue)",
    );
    has(
        &text,
        "     7  CPU 0 takes P3 (1st of 2 in the queue) by the rule, ahead of P1 (2nd of 2 in the queue)",
    );
    for t in [14, 18, 22, 26] {
        has(
            &text,
            &format!(
                "{t:>6}  P1 keeps CPU 0, with a new slice for at most 4 ticks: no other process was ready ahead of it (no preemption, dispatch or switch counted)"
            ),
        );
    }
    has(
        &text,
        "    30  P1: running → terminated, ends on CPU 0, exit code 0",
    );
}

/// Stallings' SRT: A 0-3, B 3-4, C arrives at 4 with 4 < B's 6 − 1 = 5 and preempts it, E
/// (2) runs at 8 ahead of B and D (5 each), and B, ready since 4, wins the tie with D at 10.
#[test]
fn stallings_shortest_remaining_time() {
    let text = explain_file("scenarios/sched-stallings-srt.json");
    has(
        &text,
        "     4  B (remaining burst 6 when dispatched) on CPU 0, 1 tick into its stretch, is preempted: C's remaining burst 4 < its 5 (shortest first); ready: C (remaining burst 4)",
    );
    has(&text, "     4  B: running → ready, preempted on CPU 0");
    has(
        &text,
        "     4  CPU 0 takes C (remaining burst 4): shortest remaining burst 4 < 5 (B), ahead of B (remaining burst 5)",
    );
    has(
        &text,
        "     8  CPU 0 takes E (remaining burst 2): shortest remaining burst 2 < 5 (B), ahead of B (remaining burst 5), D (remaining burst 5)",
    );
    has(
        &text,
        "    10  CPU 0 takes B (remaining burst 5): remaining burst 5, as D's: a tie, which goes to the one ready first, ahead of D (remaining burst 5)",
    );
    assert!(text.contains("(ties: the one ready first)"), "{text}");
}

/// `mlfq.py -n 3 -q 4 -a 1 -B 16 -S`: J0 uses its one allotment at the top by 4 and goes a
/// queue down; the boost at 16 brings it back to the top, where it runs 19-23.
#[test]
fn mlfq_allotment_and_boost() {
    let text = explain_file("scenarios/sched-mlfq-boost.json");
    has(
        &text,
        "     4  J0's slice on CPU 0 ran out after 4 ticks with work left; queue 2 → 1: allotment used up (queue 2, allotment 1 of 1 left → queue 1, allotment 1 of 1 left)",
    );
    // J0 has waited in queue 1 since 4 (J1 and J2 stay in queue 2: -S); the boost lifts it.
    has(&text, "    16  boost: J0 queue 1 → 2");
    // At 4 J1 and J2 are both in queue 2; J1 arrived first and is at the front.
    has(
        &text,
        "     4  CPU 0 takes J1 (queue 2, allotment 1 of 1 left): queue 2, as J2's: a tie, which goes to the front of that queue, ahead of J0 (queue 1, allotment 1 of 1 left), J2 (queue 2, allotment 1 of 1 left)",
    );
    for t in [16, 32, 48] {
        has(
            &text,
            &format!(
                "{t:>6}  policy event: boost (every 16 ticks): every process back to the top queue with a fresh slice and allotment"
            ),
        );
    }
    has(
        &text,
        "    19  CPU 0 takes J0 (queue 2, allotment 1 of 1 left): queue 2, as J2's: a tie, which goes to the front of that queue, ahead of J2 (queue 2, allotment 1 of 1 left)",
    );
}

/// OSTEP's CFS example in small (A nice 0, weight 1024; B nice 3, weight 335): A runs its 18
/// ticks first (a tie at vruntime 0 goes to the one ready first), then B's 0 is the least.
#[test]
fn cfs_least_vruntime() {
    let text = explain_file("scenarios/sched-cfs-nice.json");
    has(
        &text,
        "    18  CPU 0 takes B (vruntime 0, weight 335): least vruntime 0 < 18 (A), ahead of A (vruntime 18, weight 1024)",
    );
}

/// Stallings' HRRN: at 9, C has waited 5 for a burst of 4 (ratio 9/4 = 2.25), D 3 for 5
/// (1.60), E 1 for 2 (1.50); at 13, E (5 + 2) / 2 = 3.50 beats D (7 + 5) / 5 = 2.40.
#[test]
fn hrrn_highest_ratio() {
    let text = explain_file("scenarios/sched-stallings-hrrn.json");
    has(
        &text,
        "     9  CPU 0 takes C (ratio (5 + 4) / 4 = 2.25): highest response ratio 2.25 > 1.60 (D), ahead of D (ratio (3 + 5) / 5 = 1.60), E (ratio (1 + 2) / 2 = 1.50)",
    );
    has(
        &text,
        "    13  CPU 0 takes E (ratio (5 + 2) / 2 = 3.50): highest response ratio 3.50 > 2.40 (D), ahead of D (ratio (7 + 5) / 5 = 2.40)",
    );
}

/// Every lottery pick says which ticket was drawn, out of how many, and who held it: the
/// tickets of the ready processes laid out in the order of the ticket line (A 100, B 200,
/// C 700 in `sched-lottery-shares`: they join in that order, and one that ends has its place
/// taken by the last), the winner the holder of the drawn ticket.
#[test]
fn lottery_shows_the_drawn_ticket() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/sched-lottery-shares.json");
    let (_, plan) = procsim::load(&path).unwrap();
    let (report, ex) = Sim::new(plan, SimOptions::default()).run_explained();
    let tickets = |p: u32| match report.processes[p as usize].name.as_str() {
        "A" => 100u128,
        "B" => 200,
        "C" => 700,
        other => panic!("{other}"),
    };
    let mut draws = 0;
    // The ticket line, rebuilt from who is ready at each pick (here nothing blocks: a
    // process leaves the line only when it ends, one at a time).
    let mut line: Vec<u32> = Vec::new();
    for l in &ex.log {
        let (winner, ready, draw) = match &l.decision {
            Decision::Picked {
                chosen,
                others,
                draw,
                ..
            } => {
                let mut ready: Vec<u32> = others.iter().map(|r| r.0.proc).collect();
                ready.push(chosen.0.proc);
                (chosen.0.proc, ready, draw)
            }
            _ => continue,
        };
        let d = draw.clone().expect("every lottery pick draws");
        draws += 1;
        assert_eq!(d.holder.proc, winner);
        assert_eq!(d.total, ready.iter().map(|&p| tickets(p)).sum::<u128>());
        while let Some(i) = line.iter().position(|p| !ready.contains(p)) {
            line.swap_remove(i);
        }
        let mut joining: Vec<u32> = ready
            .iter()
            .copied()
            .filter(|p| !line.contains(p))
            .collect();
        joining.sort_unstable();
        line.extend(joining);
        let first: u128 = line
            .iter()
            .take_while(|&&p| p != winner)
            .map(|&p| tickets(p))
            .sum();
        assert_eq!(d.first, first);
        assert_eq!(u128::from(d.tickets), tickets(winner));
        assert!(
            d.first <= d.ticket && d.ticket < d.first + tickets(winner),
            "{d:?}"
        );
    }
    assert!(draws > 10, "{draws}");
    let text = render_explain(&report, &ex);
    assert!(
        text.lines().any(
            |l| l.contains("CPU 0 takes C (700 of 1000 tickets): ticket ")
                && l.contains(" of 0–999 drawn; C holds 300–999 (its 700 tickets)")
        ),
        "{text}"
    );
}

#[test]
fn explain_is_refused_with_the_real_backend() {
    let o = Command::new(env!("CARGO_BIN_EXE_procsim"))
        .args([
            "run",
            "scenarios/sched-silberschatz-rr.json",
            "--explain",
            "--backend",
            "fork",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--explain"));
    assert!(o.stdout.is_empty());
}

/// `sched-eevdf-wake` (base_slice 3, A B C nice 0, so a tick is one unit of vruntime; C runs
/// 1, sleeps 5, runs 4), its figures derived by hand in ticks (the scenario's description
/// has the schedule):
/// - 0: A, B, C all start at V = 0 with v 0 and deadline 0 + 3 = 3; lag V − v = 0. The
///   deadlines tie and A was ready first.
/// - 3: A ran 0-3: v 0 → 3, new request d = 3 + 3 = 6. V = (3 + 0 + 0) / 3 = 1, so A's lag
///   is 1 − 3 = −2 (not eligible) and B's and C's 1 − 0 = 1; B and C tie at deadline 3, B
///   ready first.
/// - 6: B ran 3-6: v 3, d 6. V = (3 + 3 + 0) / 3 = 2: lags A −1, B −1, C 2; only C is
///   eligible.
/// - 13: C slept 7-12 keeping lag 4/3 and woke at 12 with V = (6 + 3 + 2) / 2 = 5.5 (B 2
///   ticks into its request), its lag inflated by (W + w) / W = 3/2 to 2: vC = 3.5 (3.500015
///   in 2^-16 units: 229377 / 65536, as the description says), dC = 6.5. B ran 10-13: v 6,
///   d 9; A v 6, d 9 since 10. V = (6 + 6 + 3.5) / 3 = 5.1667 (5.17); lags A and B 5.1667 −
///   6 = −0.83, C 5.1667 − 3.5 = 1.67. Only C is eligible.
///
/// Before the fix these figures were shown 1024 times too small (divided by 1024 × 2^16).
#[test]
fn eevdf_figures_in_ticks() {
    let text = explain_file("scenarios/sched-eevdf-wake.json");
    has(
        &text,
        "     0  CPU 0 takes A (deadline 3, vruntime 0, lag 0 (V 0: eligible)): virtual deadline of the eligible 3, as B's: a tie, which goes to the one ready first, ahead of B (deadline 3, vruntime 0, lag 0 (V 0: eligible)), C (deadline 3, vruntime 0, lag 0 (V 0: eligible))",
    );
    has(
        &text,
        "     3  A's slice on CPU 0 ran out after 3 ticks with work left (deadline 3, vruntime 0, lag 1 (V 1: eligible) → deadline 6, vruntime 3, lag -2 (V 1: not eligible))",
    );
    has(
        &text,
        "     3  CPU 0 takes B (deadline 3, vruntime 0, lag 1 (V 1: eligible)): virtual deadline of the eligible 3, as C's: a tie, which goes to the one ready first, ahead of A (deadline 6, vruntime 3, lag -2 (V 1: not eligible)), C (deadline 3, vruntime 0, lag 1 (V 1: eligible))",
    );
    has(
        &text,
        "     6  CPU 0 takes C (deadline 3, vruntime 0, lag 2 (V 2: eligible)): earliest virtual deadline of the eligible 3, the only one with a virtual deadline of the eligible now, ahead of A (deadline 6, vruntime 3, lag -1 (V 2: not eligible)), B (deadline 6, vruntime 3, lag -1 (V 2: not eligible))",
    );
    has(
        &text,
        "    13  CPU 0 takes C (deadline 6.50, vruntime 3.50, lag 1.67 (V 5.17: eligible)): earliest virtual deadline of the eligible 6.50, the only one with a virtual deadline of the eligible now, ahead of A (deadline 9, vruntime 6, lag -0.83 (V 5.17: not eligible)), B (deadline 9, vruntime 6, lag -0.83 (V 5.17: not eligible))",
    );
}

/// OSTEP's stride table (`sched-stride-ostep`, big 10000: strides A 100, B 50 → 200, C 40;
/// quantum 1): passes (0,0,0) A, (100,0,0) B, (100,200,0) C … At 2 B has ended and C's pass
/// 0 is least against A's 100; C runs 2-5, its pass 0 → 40 → 80 → 120, and at 5 A's 100 is
/// the least.
#[test]
fn stride_least_pass() {
    let text = explain_file("scenarios/sched-stride-ostep.json");
    has(
        &text,
        "     2  CPU 0 takes C (pass 0, stride 40): least pass 0 < 100 (A), ahead of A (pass 100, stride 100)",
    );
    has(
        &text,
        "     5  C's slice on CPU 0 ran out after 1 tick with work left; pass 80 → 120: its stride added for the slice (pass 80, stride 40 → pass 120, stride 40)",
    );
    has(
        &text,
        "     5  CPU 0 takes A (pass 100, stride 100): least pass 100 < 120 (C), ahead of C (pass 120, stride 40)",
    );
}

/// Silberschatz's priority example: at 0 all five are ready and P2's number 1 is the
/// smallest, P5's 2 the next.
#[test]
fn priority_smallest_number() {
    let text = explain_file("scenarios/sched-priority-silberschatz.json");
    has(
        &text,
        "     0  CPU 0 takes P2 (priority 1): smallest priority number 1 < 2 (P5), ahead of P1 (priority 3), P3 (priority 4), P4 (priority 5), P5 (priority 2)",
    );
}

/// Silberschatz's SJF example (P1 6, P2 8, P3 7, P4 3): at 0 P4's burst 3 is the shortest,
/// P1's 6 the next.
#[test]
fn sjf_shortest_next_burst() {
    let text = explain_file("scenarios/sched-sjf-silberschatz.json");
    has(
        &text,
        "     0  CPU 0 takes P4 (next burst 3): shortest next burst 3 < 6 (P1), ahead of P1 (next burst 6), P2 (next burst 8), P3 (next burst 7)",
    );
}

/// Stallings' FCFS (A 0/3, B 2/6, C 4/4, D 6/5, E 8/2): B runs 3-9; at 9 C, D and E wait
/// in arrival order, and the head, C, runs.
#[test]
fn fcfs_head_of_the_queue() {
    let text = explain_file("scenarios/sched-stallings-fcfs.json");
    has(
        &text,
        "     9  CPU 0 takes C (1st of 3 in the queue) by the rule, ahead of D (2nd of 3 in the queue), E (3rd of 3 in the queue)",
    );
}

/// Silberschatz's exponential average (`sched-sjf-estimate`: α 1/2, τ0 10; P's bursts 6 4 6
/// 4 13 13 13, Q's all 10): P's predictions go 10, 8, 6, 6, 5, 9, 11, Q's stay 10. P runs
/// 0-6 and sleeps 11 ticks, so it wakes at 17, where its 8 beats Q's 10; at 112 its 11
/// loses to Q's 10.
#[test]
fn sjf_predicted_bursts_and_how_long_a_process_blocked() {
    let text = explain_file("scenarios/sched-sjf-estimate.json");
    has(
        &text,
        "    17  P: blocked → ready, wakes: its sleep is over, after 11 ticks blocked (since tick 6)",
    );
    has(
        &text,
        "    17  CPU 0 takes P (predicted burst 8): shortest predicted burst 8 < 10 (Q), ahead of Q (predicted burst 10)",
    );
    has(
        &text,
        "    88  CPU 0 takes P (predicted burst 9): shortest predicted burst 9 < 10 (Q), ahead of Q (predicted burst 10)",
    );
    has(
        &text,
        "   112  CPU 0 takes Q (predicted burst 10): shortest predicted burst 10 < 11 (P), ahead of P (predicted burst 11)",
    );
}
