//! The lottery against plain lists: holders, the line's order, lent tickets, hints, and the
//! shortcut among equal tickets against the sums.

use super::*;

fn with_tickets(tickets: &[u64]) -> Lottery {
    let mut l = Lottery::new(2);
    for (p, &tickets) in tickets.iter().enumerate() {
        l.on_create(
            p as u32,
            Attrs {
                tickets,
                ..Attrs::default()
            },
        );
    }
    l
}

/// The holder of ticket `w` of the ready processes.
fn holder(l: &Lottery, w: u128) -> u32 {
    l.line[l.position(w)]
}

#[test]
fn the_holder_of_each_ticket() {
    let mut l = with_tickets(&[3, 5, 2, 7, 1]);
    for p in [0, 2, 3, 4] {
        l.enqueue(p, Ready::Admit, 0, 0);
    }
    // The line: 0 (tickets 0..3), 2 (3..5), 3 (5..12), 4 (12..13).
    assert_eq!(l.total, 13);
    let holders: Vec<u32> = (0..13).map(|w| holder(&l, w)).collect();
    assert_eq!(holders, [0, 0, 0, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4]);
    assert!(l.remove(3));
    assert!(!l.remove(3));
    // The last (4) took 3's place: 0 (0..3), 2 (3..5), 4 (5..6).
    assert_eq!(l.line, [0, 2, 4]);
    assert_eq!(l.total, 6);
    assert_eq!(holder(&l, 5), 4);
    assert_eq!(l.len(), 3);
    assert_eq!(l.slice(0, 0), 2);
    // 1 joins at the end.
    l.enqueue(1, Ready::Wake, 0, 0);
    assert_eq!(l.line, [0, 2, 4, 1]);
    assert_eq!((6..11).map(|w| holder(&l, w)).collect::<Vec<_>>(), [1; 5]);
}

/// Equal tickets: no sums kept, the holder of ticket w at position w / tickets; a process
/// with other tickets brings the sums in, and they stay when it leaves.
#[test]
fn equal_tickets_take_the_shortcut() {
    let mut l = with_tickets(&[100; 40]);
    for p in (0..40).rev() {
        l.enqueue(p, Ready::Admit, 0, 0);
    }
    assert!(l.sums.is_none());
    assert_eq!(holder(&l, 0), 39);
    assert_eq!(holder(&l, 3999), 0);
    assert_eq!(holder(&l, 150), 38);
    l.on_create(
        40,
        Attrs {
            tickets: 7,
            ..Attrs::default()
        },
    );
    l.enqueue(40, Ready::Admit, 0, 0);
    assert!(l.sums.is_some());
    assert_eq!(l.odd, 1);
    assert_eq!(holder(&l, 4000), 40);
    assert_eq!(holder(&l, 4006), 40);
    assert!(l.remove(39));
    // 40 took 39's place at the front.
    assert_eq!(holder(&l, 0), 40);
    assert_eq!(holder(&l, 7), 38);
    assert!(l.remove(40));
    assert_eq!(l.odd, 0);
    assert!(l.sums.is_some(), "kept up to date, not dropped");
    assert_eq!(holder(&l, 0), 0, "0, the last, took the front");
    assert_eq!(l.sums.as_ref().unwrap().below(2), 200);
}

/// The sums are in 64 bits until the tickets given could overflow them, then in 128, with
/// the same holders.
#[test]
fn sums_widen_before_they_could_overflow() {
    let mut l = with_tickets(&[u64::MAX - 10, 5, 3]);
    for p in 0..3 {
        l.enqueue(p, Ready::Admit, 0, 0);
    }
    assert!(l.sums.as_ref().unwrap().is_narrow());
    let last = u128::from(u64::MAX) - 3;
    let ws = [0, last - 8, last - 7, last - 3, last - 2, last];
    let before = ws.map(|w| holder(&l, w));
    assert_eq!(before, [0, 0, 1, 1, 2, 2]);
    l.on_create(
        3,
        Attrs {
            tickets: 10,
            ..Attrs::default()
        },
    );
    assert!(!l.sums.as_ref().unwrap().is_narrow());
    assert_eq!(ws.map(|w| holder(&l, w)), before);
    l.enqueue(3, Ready::Admit, 0, 0);
    assert_eq!(holder(&l, last + 1), 3);
    assert_eq!(l.total, last + 11);
}

#[test]
fn draws_follow_the_tickets() {
    let mut l = with_tickets(&[100, 200, 700]);
    let mut g = SeededRng::new(42);
    let mut wins = [0u32; 3];
    for _ in 0..20_000 {
        for p in 0..3 {
            l.enqueue(p, Ready::SliceEnd, 0, 0);
        }
        let p = l.pick(0, &mut g).unwrap();
        wins[p as usize] += 1;
        for q in 0..3 {
            l.remove(q);
        }
    }
    for (p, share) in [(0, 0.1), (1, 0.2), (2, 0.7)] {
        let got = wins[p] as f64 / 20_000.0;
        assert!((got - share).abs() < 0.015, "process {p}: {got}");
    }
    assert_eq!(l.pick(0, &mut g), None);
}

/// The policy as a plain list: the line by position (a join at the end, a leave's place
/// taken by the last), the process a pick took kept in it until the next pick finds it not
/// back, and each draw's holder found by walking the line.
#[derive(Default)]
struct Model {
    tickets: Vec<u64>,
    line: Vec<u32>,
    lent: Option<u32>,
}

impl Model {
    fn leave(&mut self, p: u32) {
        let i = self.line.iter().position(|&q| q == p).unwrap();
        self.line.swap_remove(i);
    }

    fn is_ready(&self, p: u32) -> bool {
        self.line.contains(&p) && self.lent != Some(p)
    }

    fn enqueue(&mut self, p: u32) {
        if self.lent == Some(p) {
            self.lent = None;
        } else if !self.line.contains(&p) {
            self.line.push(p);
        }
    }

    fn remove(&mut self, p: u32) -> bool {
        let ready = self.is_ready(p);
        if ready {
            self.leave(p);
        }
        ready
    }

    fn on_exit(&mut self, p: u32) {
        self.remove(p);
        if self.lent == Some(p) {
            self.lent = None;
            self.leave(p);
        }
    }

    /// The draw: (ticket, total, holder, its first ticket).
    fn pick(&mut self, g: &mut SeededRng) -> Option<(u128, u128, u32, u128)> {
        if let Some(p) = self.lent.take() {
            self.leave(p);
        }
        let total: u128 = self
            .line
            .iter()
            .map(|&q| u128::from(self.tickets[q as usize]))
            .sum();
        if total == 0 {
            return None;
        }
        let w = draw_below(g, total);
        let mut first = 0u128;
        for &q in &self.line {
            let t = u128::from(self.tickets[q as usize]);
            if first + t > w {
                self.lent = Some(q);
                return Some((w, total, q, first));
            }
            first += t;
        }
        unreachable!()
    }
}

/// Picks against [`Model`] drawn with the same generator, through a long run in which the
/// picked process mostly comes back at once (its tickets lent, the next holder guessed) and
/// otherwise blocks, ends, or others wake, are removed or are created anew; and each draw's
/// account for `--explain`. Tickets: equal (`odd_from` on: mixed), and from `even_again` on
/// the processes with other tickets end, so that the line is even again with its sums kept.
/// `shortcut`: whether the draw among equal tickets takes it.
fn agree_with_a_list(shortcut: bool, odd_from: u32, even_again: u32) {
    let mut l = Lottery::new(1);
    if !shortcut {
        l.disable_shortcuts();
    }
    let (mut g, mut model_g) = (SeededRng::new(77), SeededRng::new(77));
    let mut m = Model::default();
    // Ended for good: never made ready again.
    let mut dead: Vec<bool> = Vec::new();
    let mut x: u64 = 5;
    let mut running: Option<u32> = None;
    let (mut guessed, mut picks, mut shortcuts) = (0, 0, 0);
    for step in 0..30_000u32 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (x >> 33) % 100;
        let q = ((x >> 40) % (m.tickets.len() as u64 + 1)) as u32;
        if step == even_again {
            for p in 0..m.tickets.len() as u32 {
                if m.tickets[p as usize] != 100 {
                    l.on_exit(p);
                    m.on_exit(p);
                    dead[p as usize] = true;
                    if running == Some(p) {
                        running = None;
                    }
                }
            }
            assert_eq!(l.odd, 0);
        }
        let mixed = (odd_from..even_again).contains(&step);
        if m.tickets.len() < 40 || r < 3 {
            let p = m.tickets.len() as u32;
            let t = if !mixed {
                100
            } else {
                1 + (x >> 20) % if step % 2 == 0 { 9 } else { 1000 }
            };
            l.on_create(
                p,
                Attrs {
                    tickets: t,
                    ..Attrs::default()
                },
            );
            m.tickets.push(t);
            dead.push(false);
            l.enqueue(p, Ready::Admit, 0, 0);
            m.enqueue(p);
        } else if r < 70 {
            // The running process comes back (most often), blocks or ends.
            if let Some(p) = running.take() {
                match r % 10 {
                    0 => {
                        l.on_exit(p);
                        m.on_exit(p);
                    }
                    1 => {}
                    _ => {
                        l.enqueue(p, Ready::SliceEnd, 0, 0);
                        m.enqueue(p);
                    }
                }
            }
            let want = m.pick(&mut model_g);
            let guess = l.likely(1);
            let even = l.odd == 0;
            let got = l.pick(0, &mut g);
            assert_eq!(got, want.map(|w| w.2), "step {step}");
            if let (Some(p), Some((w, total, _, first))) = (got, want) {
                picks += 1;
                guessed += usize::from(guess == Some(p));
                shortcuts += usize::from(even && shortcut);
                running = Some(p);
                let d = l.last_draw().unwrap();
                assert_eq!((d.ticket, d.total, d.holder, d.first), (w, total, p, first));
                assert_eq!(d.tickets, m.tickets[p as usize]);
            }
        } else if r < 85 {
            if (q as usize) < m.tickets.len() && running != Some(q) && !dead[q as usize] {
                l.enqueue(q, Ready::Wake, 0, 0);
                m.enqueue(q);
            }
        } else if (q as usize) < m.tickets.len() && !dead[q as usize] {
            assert_eq!(l.remove(q), m.remove(q));
        }
        assert_eq!(l.len(), m.line.len() - usize::from(m.lent.is_some()));
        assert_eq!(l.line, m.line, "step {step}");
    }
    assert!(
        picks > 10_000 && guessed > picks / 4,
        "{guessed} of {picks}"
    );
    if odd_from > 0 {
        assert_eq!(shortcuts > 0, shortcut);
    }
}

#[test]
fn equal_then_mixed_then_equal_tickets_agree_with_a_list() {
    agree_with_a_list(true, 10_000, 20_000);
}

/// The same with the shortcut off: every draw descends the sums, also among equal tickets.
#[test]
fn without_the_shortcut_the_sums_agree_with_a_list() {
    agree_with_a_list(false, 10_000, 20_000);
}

#[test]
fn mixed_tickets_from_the_start_agree_with_a_list() {
    agree_with_a_list(true, 0, u32::MAX);
}

/// The shortcut turned off in the middle of a run (the kernel's switch, before it runs, but
/// a policy cannot tell): the same picks as a lottery that never took it.
#[test]
fn turning_the_shortcut_off_changes_no_pick() {
    let (mut a, mut b) = (with_tickets(&[5; 300]), with_tickets(&[5; 300]));
    b.disable_shortcuts();
    let (mut ga, mut gb) = (SeededRng::new(8), SeededRng::new(8));
    for p in 0..300 {
        a.enqueue(p, Ready::Admit, 0, 0);
        b.enqueue(p, Ready::Admit, 0, 0);
    }
    for i in 0..5_000u32 {
        if i == 2_500 {
            a.disable_shortcuts();
        }
        let (pa, pb) = (a.pick(0, &mut ga), b.pick(0, &mut gb));
        assert_eq!(pa, pb);
        if let Some(p) = pa.filter(|_| i % 3 != 0) {
            a.enqueue(p, Ready::SliceEnd, 0, 0);
            b.enqueue(p, Ready::SliceEnd, 0, 0);
        } else if i % 7 == 0 {
            let q = (i * 13) % 300;
            a.enqueue(q, Ready::Wake, 0, 0);
            b.enqueue(q, Ready::Wake, 0, 0);
        }
        assert_eq!(a.line, b.line);
    }
}

#[test]
fn huge_totals_are_drawn_in_range() {
    let mut g = SeededRng::new(3);
    for total in [
        1u128,
        2,
        1 << 63,
        (1 << 63) + 1,
        1 << 64,
        (1 << 64) + 3,
        1 << 90,
    ] {
        for _ in 0..50 {
            assert!(draw_below(&mut g, total) < total);
        }
    }
    let mut a = SeededRng::new(9);
    let mut b = SeededRng::new(9);
    // Below 2^64, the generator's multiply-shift draw.
    assert_eq!(draw_below(&mut a, 1000), u128::from(b.below(1000)));
    let mut l = with_tickets(&[u64::MAX, u64::MAX, 5]);
    for p in 0..3 {
        l.enqueue(p, Ready::Admit, 0, 0);
    }
    let p = l.pick(0, &mut g).unwrap();
    assert!(p < 3);
    // Equal huge tickets: the shortcut's division in 128 bits.
    let mut l = with_tickets(&[u64::MAX; 3]);
    for p in 0..3 {
        l.enqueue(p, Ready::Admit, 0, 0);
    }
    assert!(l.sums.is_none());
    assert_eq!(holder(&l, 2 * u128::from(u64::MAX) + 7), 2);
    assert!(l.pick(0, &mut g).unwrap() < 3);
}

/// The hints a pick leaves (`look_ahead`, with the shortcut) name, among three processes,
/// the holder [`LATER`] picks on whether the line stays as it is, grows by one process at its
/// end (a wake-up) or loses the lent one (a block) in between: checked against the picks they
/// hint at, over runs of each.
#[test]
fn the_later_hints_name_the_holder_later_picks_on() {
    let n = 200u32;
    let mut l = with_tickets(&vec![100; n as usize]);
    for p in 0..n / 2 {
        l.enqueue(p, Ready::Admit, 0, 0);
    }
    let mut out: Vec<u32> = (n / 2..n).collect();
    let mut g = SeededRng::new(3);
    let mut choice = SeededRng::new(4);
    let mut checked = [0; 3];
    let mut last = l.pick(0, &mut g);
    for trial in 0..900 {
        let kind = trial % 3;
        let hinted = l.later;
        assert!(hinted.iter().all(|&p| p != OUT));
        assert_eq!(l.likely_later(), &hinted[..]);
        // What a change leaves outside the hint: a newcomer at the line's end, or the last
        // process moved to the place of the one that left.
        let mut other = OUT;
        for step in 0..LATER {
            let p = last.expect("someone is ready");
            match (kind, step) {
                (1, 0) if !out.is_empty() => {
                    l.enqueue(p, Ready::SliceEnd, 0, 0);
                    let q = out.swap_remove(choice.uniform(0, out.len() as i64 - 1) as usize);
                    l.enqueue(q, Ready::Wake, 0, 0);
                    other = q;
                }
                (2, 0) if l.len() > 1 => {
                    // It blocks: it does not come back, and the last takes its place.
                    other = *l.line.last().expect("it is in the line");
                    out.push(p);
                }
                _ => l.enqueue(p, Ready::SliceEnd, 0, 0),
            }
            last = l.pick(0, &mut g);
        }
        let q = last.expect("someone is ready");
        if kind == 0 {
            assert_eq!(hinted[1], q, "nothing changed");
        } else if q != other {
            assert!(hinted.contains(&q), "{q} not in {hinted:?} (kind {kind})");
        }
        checked[kind] += 1;
    }
    assert_eq!(checked, [300; 3]);
}
