//! Lottery scheduling (SPEC §3a; Waldspurger and Weihl, OSDI 1994; OSTEP ch. 9): at each
//! pick, a winning ticket is drawn uniformly among the ready processes' tickets with the
//! scenario's seeded generator, and its holder runs for one quantum.
//!
//! **The draw.** Below a total `T` of 2^64 tickets, the winning ticket is the high word of
//! `x · T` for the generator's next 64-bit word `x` (Lemire's multiply-shift,
//! [`SeededRng::below`]), drawn again in the rare case (a chance of `T` in 2^64) where the
//! low word falls below `2^64 mod T`, so every ticket has the same odds. The SPEC does not
//! say how a word becomes a ticket; until 2026-12-01 (evening) it was `x mod T`, with the
//! same rejection, which took a 64-bit division at every draw and at every hint below: the
//! same seed now picks other winners, with the same odds.
//!
//! **The ticket line.** The processes in the lottery stand in a dense line, by position: a
//! process that joins goes to the end, one that leaves has its place taken by the last (two
//! places change, whatever the line's length). The winning ticket `w` belongs to the process
//! at the lowest position whose running sum of tickets exceeds `w`; the line's order is that
//! of the joins and leaves, so it does not depend on the kernel's slots. (Until 2026-12-01
//! the line was the ready processes in process-index order: the same seed now picks other
//! winners, with the same odds.)
//!
//! **Finding the holder.** In general, by one descent of a tree of sums over the positions
//! (`lottery_sums.rs`), O(log n). But while every process in the line holds the same number
//! of tickets `e` (every scenario that gives no `tickets`, and RR-IO-v1), the holder is the
//! process at position `w / e`, which is `⌊x · m / 2^64⌋` for the generator's word `x` and a
//! line of `m` ([`place`]): O(1), one load from an array of 4 bytes a process. That is a
//! shortcut: it assumes only that every position holds `e` tickets, and it finds the position
//! the descent would (positions `0 … k − 1` hold `k·e` tickets). The sums are not kept while
//! it applies; they are built, in O(n), the first time a process with other tickets joins,
//! and kept up to date from then on (never rebuilt but when the line outgrows them, which
//! doubles their room: O(1) a process over a run). The kernel's switch for its fast paths
//! turns the shortcut off too ([`Policy::disable_shortcuts`]), so that the tests that run
//! every scenario both ways compare the two.
//!
//! **Lent tickets and the next holder.** A process a pick takes keeps its place and its
//! tickets in the sums while it runs (it is *lent*): most come back at their slice end, which
//! then changes nothing; anything else first takes it out of the line. A draw lands on a
//! random process, whose records are not in the cache at 10^5 processes, and the generator's
//! next words are known ahead ([`SeededRng::peek_nth`]), so each pick also names the
//! processes that the pick four picks on is likely to take, and the kernel prefetches their
//! records ([`Policy::likely_later`]; without the shortcut, the next pick's holder,
//! [`Policy::likely`]); see `Lottery::look_ahead`. Those are hints only: no draw depends on
//! them. (Until 2026-12-02 a pick also kept the next draw it had found ahead and
//! took it at the next pick when nothing had changed: the same draws and places, at some
//! 150 instructions a pick for the bookkeeping; BENCHMARKS.md, "Twelfth round: lottery".)
//!
//! **A kernel of its own.** The kernel is built for lottery alone (`Sim::Lottery`, as for
//! round robin), not behind a box: `pick` and the lent process's return in `enqueue` are
//! inlined into the kernel's loops (`enqueue` only for that case: a join is
//! `Lottery::enqueue_other`). Nothing a pick draws or returns changes (BENCHMARKS.md,
//! "Eleventh round: lottery").
//!
//! Choices where the SPEC is silent: a pick with a single ready process still draws (every
//! pick with something ready draws exactly once, so the generator's stream does not depend on
//! how many were ready); a pick with nothing ready draws nothing.

use super::{Attrs, Draw, Leave, Policy, Ready, SeededRng, Usage};
use crate::sim::fast::{prefetch, prefetch_at};
use crate::sim::rng::mul_wide;

#[path = "lottery_sums.rs"]
mod sums;

use sums::Sums;

/// Not in the line.
const OUT: u32 = u32::MAX;
/// Not in the line, and never told its tickets (a position is below both: the line holds at
/// most one place a process, and process indices are `u32`s).
const UNTOLD: u32 = u32::MAX - 1;

/// How many picks ahead [`Policy::likely_later`] looks (see [`Lottery::look_ahead`]). Three
/// until 2026-12-02 (afternoon): with the positions apart from the tickets, four was 5–7 %
/// faster than three at 10^5 processes, and five no faster than four (BENCHMARKS.md,
/// "Twentieth round"). At most `PEEK - 2`: `look_ahead` peeks `LATER + 1` words on.
const LATER: usize = 4;
const _: () = assert!(LATER + 1 < crate::sim::rng::PEEK);

/// The process the last pick took, still in the line with its tickets (`pos` kept up to
/// date, like its position in `pos`, when a leave moves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lent {
    p: u32,
    pos: u32,
    tickets: u64,
}

/// Lottery scheduling with a fixed quantum.
#[derive(Debug, Clone)]
pub struct Lottery {
    quantum: u64,
    /// By process index: its position in the line, [`OUT`] or [`UNTOLD`]. Apart from the
    /// tickets, so that the positions a pick, a block and a wake-up touch are 4 bytes a
    /// process (400 KB at 10^5 processes, about the size of a core's cache; they were 16
    /// bytes with the tickets beside them).
    pos: Vec<u32>,
    /// By process index: its tickets (0: not told yet). Read where they can differ: while
    /// every process told holds `common`, a join or a leave reads `common` instead.
    tickets: Vec<u64>,
    /// The tickets of the first process told, and whether some process was told others
    /// since (never reset: then every join and leave reads `tickets`).
    common: u64,
    mixed: bool,
    /// The processes in the lottery, by position: the ready ones and the lent one.
    line: Vec<u32>,
    /// The tickets by position and their sums; `None` while the shortcut stands in for them.
    sums: Option<Sums>,
    /// The tickets that every process in the line holds but `odd` of them.
    even: u64,
    odd: usize,
    /// Whether a draw among equal tickets takes the shortcut (see the module documentation).
    shortcut: bool,
    /// The sum of the ready processes' tickets (the lent one's left out).
    total: u128,
    /// The sum of every process's tickets, counted when they are set: while it is below
    /// 2^64, no sum can overflow 64 bits.
    given: u128,
    lent: Option<Lent>,
    /// The last draw: the winning ticket, the total it was drawn below, its holder and the
    /// holder's position (for `--explain`).
    drawn: (u128, u128, u32, u32),
    /// Without the shortcut, the next pick's holder should the line stay as it is
    /// ([`Policy::likely`]); [`OUT`]: none (see [`Lottery::look_ahead`]).
    ///
    /// The hints are stored as whole words, each read back as it was written: the kernel
    /// reads them right after the pick, and a read of 8 bytes that two 4-byte writes had just
    /// filled (an `Option<u32>`'s tag and value, an array's two halves) cannot take its data
    /// from them and waits until they reach the cache, which waits for the loads before
    /// them (perf, 2026-12-01: a fifth of lottery's time in `likely`, the other hints and
    /// the end of `pick`).
    hint: u32,
    /// With the shortcut, the processes at three neighbouring places of the line, one of
    /// which the pick [`LATER`] picks on is likely to take ([`Policy::likely_later`]);
    /// [`OUT`]: none (see [`Lottery::look_ahead`]).
    later: [u32; 3],
}

/// A uniform draw from `0..total` (`total > 0`): below 2^64 by [`SeededRng::below`]
/// (Lemire's multiply-shift: the high word of `word · total`, no division), at 2^64 the word
/// itself, and beyond (which takes billions of processes with huge ticket counts) from two
/// 64-bit draws with rejection of the incomplete last block.
fn draw_below(rng: &mut SeededRng, total: u128) -> u128 {
    if let Ok(total) = u64::try_from(total) {
        return u128::from(rng.below(total));
    }
    if total == 1u128 << 64 {
        return rng.uniform(i64::MIN, i64::MAX) as u64 as u128;
    }
    let limit = u128::MAX - (u128::MAX % total + 1) % total;
    loop {
        let hi = rng.uniform(i64::MIN, i64::MAX) as u64 as u128;
        let lo = rng.uniform(i64::MIN, i64::MAX) as u64 as u128;
        let x = hi << 64 | lo;
        if x <= limit {
            return x % total;
        }
    }
}

/// The place a draw from generator word `word` lands on in a line of `len` processes that
/// all hold the same tickets `e`: [`SeededRng::below`]`(len · e)` gives ticket `⌊word · len ·
/// e / 2^64⌋`, held at place `⌊ticket / e⌋ = ⌊word · len / 2^64⌋` (whenever that draw takes
/// the word at once). One multiplication, for any length.
#[inline(always)]
fn place(word: u64, len: usize) -> usize {
    mul_wide(word, len as u64).0 as usize
}

impl Lottery {
    /// Lottery scheduling with this quantum (at least 1).
    pub fn new(quantum: u64) -> Self {
        Lottery {
            quantum,
            pos: Vec::new(),
            tickets: Vec::new(),
            common: 0,
            mixed: false,
            line: Vec::new(),
            sums: None,
            even: 0,
            odd: 0,
            shortcut: true,
            total: 0,
            given: 0,
            lent: None,
            drawn: (0, 0, 0, 0),
            hint: OUT,
            later: [OUT; 3],
        }
    }

    /// Process `p`'s position, [`OUT`] or [`UNTOLD`], its room made.
    fn position_of(&mut self, p: u32) -> u32 {
        *super::slot(&mut self.pos, p, UNTOLD)
    }

    /// Process `p`'s tickets.
    fn tickets(&self, p: u32) -> u64 {
        self.tickets.get(p as usize).copied().unwrap_or(0)
    }

    /// The tickets of process `p`, which has been told them: `common` unless they may
    /// differ, so that the common case reads nothing of `p`'s.
    #[inline(always)]
    fn told_tickets(&self, p: u32) -> u64 {
        if self.mixed {
            self.tickets[p as usize]
        } else {
            self.common
        }
    }

    /// Whether process `p` is ready: in the line and not lent.
    fn is_ready(&self, p: u32) -> bool {
        self.pos.get(p as usize).is_some_and(|&i| i < UNTOLD) && self.lent.is_none_or(|l| l.p != p)
    }

    /// The sums of the line as it stands, from now on kept up to date.
    fn build_sums(&mut self) {
        let room = (self.line.len() * 2).max(64);
        let tickets = self.line.iter().map(|&q| self.tickets[q as usize]);
        self.sums = Some(Sums::new(tickets, room, self.given <= u128::from(u64::MAX)));
    }

    /// Process `p` has `tickets` from now on.
    fn set_tickets(&mut self, p: u32, tickets: u64) {
        if self.lent.is_some_and(|l| l.p == p) {
            self.settle();
        }
        // Not ready at its creation; were it (a slot given back while ready, which the
        // kernel does not do), it leaves and joins again with its new tickets.
        let rejoin = self.take(p);
        if self.position_of(p) == UNTOLD {
            self.pos[p as usize] = OUT;
        }
        *super::slot(&mut self.tickets, p, 0) = tickets;
        if self.common == 0 {
            self.common = tickets;
        } else if tickets != self.common {
            self.mixed = true;
        }
        self.given += u128::from(tickets);
        if self.given > u128::from(u64::MAX)
            && let Some(s) = &mut self.sums
        {
            s.widen();
        }
        if rejoin {
            self.join(p);
        }
    }

    /// Ready process `p` (not in the line) joins it at the end.
    fn join(&mut self, p: u32) {
        let t = self.told_tickets(p);
        if self.line.is_empty() {
            self.even = t;
        } else if t != self.even {
            self.odd += 1;
            if self.sums.is_none() {
                self.build_sums();
            }
        }
        let i = self.line.len();
        self.pos[p as usize] = i as u32;
        self.line.push(p);
        if let Some(s) = &mut self.sums {
            if i == s.room() {
                s.grow();
            }
            s.set(i, t);
        }
        self.total += u128::from(t);
    }

    /// The process at position `i`, with `tickets`, leaves the line: the last takes its place.
    /// (The total is the caller's: a lent process's tickets are already out of it.)
    fn leave_at(&mut self, i: usize, tickets: u64) {
        let Some(last) = self.line.pop() else {
            return;
        };
        let p = if i < self.line.len() {
            let p = std::mem::replace(&mut self.line[i], last);
            self.pos[last as usize] = i as u32;
            if let Some(l) = &mut self.lent
                && l.p == last
            {
                l.pos = i as u32;
            }
            p
        } else {
            last
        };
        self.pos[p as usize] = OUT;
        if let Some(s) = &mut self.sums {
            let n = self.line.len();
            if i < n {
                s.set(i, s.get(n));
            }
            s.set(n, 0);
        }
        if tickets != self.even {
            self.odd -= 1;
        }
    }

    /// Takes the lent process out of the line: it did not come back.
    fn settle(&mut self) {
        if let Some(l) = self.lent.take() {
            self.leave_at(l.pos as usize, l.tickets);
        }
    }

    /// Takes ready process `p` out of the line; false if it was not ready.
    fn take(&mut self, p: u32) -> bool {
        if !self.is_ready(p) {
            return false;
        }
        let (tickets, pos) = (self.told_tickets(p), self.pos[p as usize]);
        self.total -= u128::from(tickets);
        self.leave_at(pos as usize, tickets);
        true
    }

    /// The position holding ticket `w` of the line (`w` below its total).
    #[inline(always)]
    fn position(&self, w: u128) -> usize {
        if self.odd == 0 && self.shortcut {
            // The shortcut: every position holds `even` tickets (see the module doc).
            return match u64::try_from(w) {
                Ok(w) => (w / self.even) as usize,
                Err(_) => (w / u128::from(self.even)) as usize,
            };
        }
        match &self.sums {
            Some(s) => s.holder(w),
            None => unreachable!("the sums are kept whenever the shortcut does not apply"),
        }
    }

    /// This pick's draw: the winning ticket and the position that holds it. The same draw as
    /// [`draw_below`]; among equal tickets the position comes from the generator's word
    /// without a division ([`place`]).
    #[inline(always)]
    fn draw(&mut self, rng: &mut SeededRng, total: u128) -> (u128, usize) {
        let Ok(total) = u64::try_from(total) else {
            let w = draw_below(rng, total);
            return (w, self.position(w));
        };
        let (ticket, word) = rng.below_word(total);
        if self.odd == 0 && self.shortcut {
            // Every position holds `even` tickets, so the line holds `total / even` of them.
            let at = place(word, self.line.len());
            debug_assert_eq!(at, self.position(u128::from(ticket)));
            (u128::from(ticket), at)
        } else {
            (u128::from(ticket), self.position(u128::from(ticket)))
        }
    }

    /// A pick's draw among the line's `total` tickets, the holder lent (it keeps its place
    /// and its tickets, `tickets` if the caller knows them, while it runs), the draw kept for
    /// `--explain` and the hints for later picks made ([`Lottery::look_ahead`]). The holder
    /// and its tickets; the total of the ready ones is the caller's.
    #[inline(always)]
    fn draw_and_lend(
        &mut self,
        rng: &mut SeededRng,
        total: u128,
        tickets: Option<u64>,
    ) -> (u32, u64) {
        let (w, pos) = self.draw(rng, total);
        let p = self.line[pos];
        self.drawn = (w, total, p, pos as u32);
        let tickets = tickets.unwrap_or_else(|| {
            if self.odd == 0 {
                self.even
            } else {
                self.tickets[p as usize]
            }
        });
        self.lent = Some(Lent {
            p,
            pos: pos as u32,
            tickets,
        });
        self.look_ahead(rng, total);
        (p, tickets)
    }

    /// [`Policy::enqueue`] of a process that is not the lent one: it joins the line, unless it
    /// is in it already.
    #[inline(never)]
    fn enqueue_other(&mut self, p: u32) {
        match self.position_of(p) {
            OUT => {}
            UNTOLD => {
                // Never told its attributes: the SPEC's default.
                self.set_tickets(p, Attrs::default().tickets);
            }
            _ => return,
        }
        self.join(p);
    }

    /// Hints for the memory system (nothing here changes a draw or a pick), made by each pick
    /// with the process it took still lent and `total` the line's tickets with it back. A draw
    /// lands on a random place of the line and a random process, both cold at 10^5
    /// processes, and the generator's next words are known ([`SeededRng::peek_nth`]).
    ///
    /// A pick takes less time than a random record's trip from memory at 10^5 processes, so
    /// a hint for the next pick comes too late (perf, 2026-12-02: a third of the kernel's
    /// samples waited on the record of the process just dispatched, though the next pick had
    /// been named right in all but 0.01 % of picks). So with the shortcut this names the
    /// holders [`LATER`] picks on, where a place costs no load and no division to find
    /// (`⌊word · m / 2^64⌋` for a line of `m`, see [`place`]): the processes at the place that
    /// draw lands on in a line as long as now and at its two neighbours, which is where it
    /// lands should the line grow or shrink by one before then (`⌊w·(m±1)/2^64⌋` differs from
    /// `⌊w·m/2^64⌋` by less than `w/2^64 < 1`). With the names three picks on, the pick
    /// took one of the three in 4,928,697 picks of 4,999,922 on RR-IO-v1 at 10^5 (counted
    /// 2026-12-02). The kernel prefetches their records ([`Policy::likely_later`]), and this
    /// their positions, which a block writes and a wake-up reads; the line's entries the
    /// names come from are asked for two picks before (reading an entry in the same pick
    /// that prefetched it waited on it: 30 % of the picks' time, perf, 2026-12-01). (Until 2026-12-02 a pick named the next holder, and
    /// for the kernel to ask when it saw a wake-up or a block coming, the next holder in a
    /// line one longer or one shorter: with the names three picks on, dropping those took
    /// 8 % of lottery's instructions off and made it no slower; BENCHMARKS.md, "Nineteenth
    /// round".)
    ///
    /// Without the shortcut the next holder alone is named, by a descent of the sums
    /// ([`Policy::likely`]). A draw the generator's rejection would redraw (a chance of
    /// `total` in 2^64) makes a wrong hint, nothing more.
    #[inline(always)]
    fn look_ahead(&mut self, rng: &mut SeededRng, total: u128) {
        self.hint = OUT;
        self.later = [OUT; 3];
        let Ok(total) = u64::try_from(total) else {
            return;
        };
        let m = self.line.len();
        if self.odd != 0 || !self.shortcut {
            let ticket = mul_wide(rng.peek_word(), total).0;
            self.hint = self.line[self.position(u128::from(ticket))];
            return;
        }
        let at = place(rng.peek_nth(LATER - 1), m);
        let line = &self.line;
        // (Not `[..].map(..)`: that was a call, not inlined.)
        self.later = [
            line[at.saturating_sub(1)],
            line[at],
            line[(at + 1).min(m - 1)],
        ];
        for p in self.later {
            prefetch_at(self.pos.as_ptr().wrapping_add(p as usize).cast());
        }
        // The line's entries the names come from two picks from now (for three lengths they
        // are at most one place apart, so one cache line holds them but for one place in
        // sixteen).
        prefetch(&self.line[place(rng.peek_nth(LATER + 1), m)]);
    }
}

impl Policy for Lottery {
    fn name(&self) -> &'static str {
        "lottery"
    }

    fn on_create(&mut self, p: u32, attrs: Attrs) {
        self.set_tickets(p, attrs.tickets.max(1));
    }

    /// Inlined for the commonest case, the lent process back at its slice end (the kernel
    /// is built for lottery alone: `Sim::Lottery`); a join is `Lottery::enqueue_other`.
    #[inline(always)]
    fn enqueue(&mut self, p: u32, _why: Ready, _burst: u64, _now: u64) {
        if let Some(l) = self.lent
            && l.p == p
        {
            // Back from its CPU: it never left the line.
            self.lent = None;
            self.total += u128::from(l.tickets);
            return;
        }
        self.enqueue_other(p);
    }

    #[inline(always)]
    fn pick(&mut self, _now: u64, rng: &mut SeededRng) -> Option<u32> {
        self.settle();
        if self.line.is_empty() {
            return None;
        }
        let (p, tickets) = self.draw_and_lend(rng, self.total, None);
        self.total -= u128::from(tickets);
        Some(p)
    }

    /// The lent process back at its slice end, then the next pick: [`Policy::enqueue`] (the
    /// lent one's return: it never left the line) and [`Policy::pick`] in turn (lottery
    /// charges nothing). While every process in the line holds the same tickets, the winner
    /// holds as many as the one back, so the total of the ready ones ends as it was: this
    /// draws from it with the one back counted, without adding its tickets and taking the
    /// winner's away again (`tests`: the same picks and state as the two calls).
    #[inline(always)]
    fn requeue_pick(&mut self, p: u32, usage: Usage, now: u64, rng: &mut SeededRng) -> Option<u32> {
        let Some(l) = self.lent.filter(|l| l.p == p && self.odd == 0) else {
            self.charge(p, Leave::SliceEnd, usage, now);
            self.enqueue(p, Ready::SliceEnd, 0, now);
            return self.pick(now, rng);
        };
        let total = self.total + u128::from(l.tickets);
        Some(self.draw_and_lend(rng, total, Some(l.tickets)).0)
    }

    /// Without the shortcut, the next holder, however many picks ahead are asked for (see
    /// [`Lottery::look_ahead`]).
    fn likely(&self, _k: usize) -> Option<u32> {
        (self.hint != OUT).then_some(self.hint)
    }

    fn hints_later(&self) -> bool {
        true
    }

    /// With the shortcut, the processes at the place the pick [`LATER`] picks on lands on
    /// and at its two neighbours (see [`Lottery::look_ahead`]).
    fn likely_later(&self) -> &[u32] {
        if self.later[0] == OUT {
            &[]
        } else {
            &self.later
        }
    }

    fn remove(&mut self, p: u32) -> bool {
        self.take(p)
    }

    fn len(&self) -> usize {
        self.line.len() - usize::from(self.lent.is_some())
    }

    fn slice(&mut self, _p: u32, _now: u64) -> u64 {
        self.quantum
    }

    fn rule(&self) -> &'static str {
        "lottery draws a winning ticket from the scenario's seeded generator among the ready processes' tickets"
    }

    fn standing(&self, p: u32, _now: u64) -> Option<String> {
        let tickets = *self.tickets.get(p as usize)?;
        if self.is_ready(p) {
            Some(format!("{tickets} of {} tickets", self.total))
        } else {
            Some(format!("{tickets} tickets"))
        }
    }

    fn on_exit(&mut self, p: u32) {
        self.take(p);
        if self.lent.is_some_and(|l| l.p == p) {
            self.settle();
        }
    }

    /// The kernel's fast paths are off: the draws among equal tickets descend the sums too.
    fn disable_shortcuts(&mut self) {
        self.shortcut = false;
        self.hint = OUT;
        self.later = [OUT; 3];
        if self.sums.is_none() {
            self.build_sums();
        }
    }

    /// The holder's first ticket is found again from the line, which its pick did not change.
    fn last_draw(&self) -> Option<Draw> {
        let (ticket, total, holder, pos) = self.drawn;
        if total == 0 {
            return None;
        }
        let first = match &self.sums {
            Some(s) if self.odd > 0 || !self.shortcut => s.below(pos as usize),
            _ => u128::from(pos) * u128::from(self.even),
        };
        Some(Draw {
            ticket,
            total,
            holder,
            first,
            tickets: self.tickets(holder),
        })
    }
}

#[cfg(test)]
#[path = "lottery_tests.rs"]
mod tests;
