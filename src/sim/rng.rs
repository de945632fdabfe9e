//! The seeded generator behind `uniform` draws, with a stream that never changes.
//!
//! ChaCha8's output for a given seed is fixed by its specification, and `rand_chacha` promises
//! that stream; the seed is laid into the key by hand (not through `seed_from_u64`) and the
//! range reduction below is written here rather than taken from `rand`'s `Uniform`, whose
//! algorithm is allowed to change between releases. Together they keep a scenario's draws, and
//! so its report, the same on every machine and every version of procsim.

use rand_chacha::ChaCha8Core;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::rand_core::block::Generator;

/// How many words [`SeededRng::peek_nth`] can see ahead.
pub const PEEK: usize = 6;

/// The words one call of ChaCha8's block function gives: four 64-byte blocks.
const BATCH: usize = 32;

/// The buffer's length: room for a batch after the fewer than [`PEEK`] words left of the one
/// before, rounded up to a power of two so that an index masked by `ROOM - 1` needs no bounds
/// check (the mask changes no index: they all stay below `PEEK - 1 + BATCH`).
const ROOM: usize = 64;
const _: () = assert!(ROOM.is_power_of_two() && PEEK - 1 + BATCH <= ROOM);

/// A seeded, portable source of uniform integers.
///
/// The stream is ChaCha8's, in 64-bit words, each the little-endian pair of two consecutive
/// 32-bit output words: what `ChaCha8Rng::next_u64` gives (`stream_is_pinned` holds the
/// first draws). The generator keeps its own buffer of words rather than `ChaCha8Rng`'s
/// buffer of 32-bit words, and keeps at least [`PEEK`] of them drawn ahead, so that taking a
/// word is a load and an increment and peeking ahead is a load (the lottery peeks at every
/// pick); the next batch is drawn when a take leaves fewer.
#[derive(Debug, Clone)]
pub struct SeededRng {
    core: ChaCha8Core,
    /// `words[at..end]` are drawn and not yet taken, at least [`PEEK`] of them.
    words: [u64; ROOM],
    at: usize,
    end: usize,
}

impl SeededRng {
    /// The generator for `seed`: the seed's 8 little-endian bytes, then zeros, as the key.
    pub fn new(seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        let mut rng = SeededRng {
            core: ChaCha8Core::from_seed(key),
            words: [0; ROOM],
            at: 0,
            end: 0,
        };
        rng.refill();
        rng
    }

    /// Moves the words not yet taken (fewer than [`PEEK`]) to the front and draws the next
    /// batch after them.
    #[inline(never)]
    fn refill(&mut self) {
        debug_assert!(self.end - self.at < PEEK);
        self.words.copy_within(self.at..self.end, 0);
        self.end -= self.at;
        self.at = 0;
        let mut out = [0u32; 2 * BATCH];
        self.core.generate(&mut out);
        for (word, pair) in self.words[self.end..self.end + BATCH]
            .iter_mut()
            .zip(out.chunks_exact(2))
        {
            *word = u64::from(pair[0]) | u64::from(pair[1]) << 32;
        }
        self.end += BATCH;
    }

    /// The next 64-bit word of the stream.
    #[inline(always)]
    fn next_word(&mut self) -> u64 {
        let x = self.words[self.at & (ROOM - 1)];
        self.at += 1;
        if self.end - self.at < PEEK {
            self.refill();
        }
        x
    }

    /// The word the next draw will start from, without taking it: a draw of
    /// [`SeededRng::below`]`(n)` then gives the high word of its product with `n` unless it
    /// is rejected (a chance of `n` in 2^64). For guessing
    /// what the next draw gives, such as which process a lottery draw will pick.
    #[inline(always)]
    pub fn peek_word(&self) -> u64 {
        self.peek_nth(0)
    }

    /// The word `i` words after the next one (`i < PEEK`), without taking any: while every
    /// draw before it takes one word, it is the word the draw `i` draws from now starts from.
    #[inline(always)]
    pub fn peek_nth(&self, i: usize) -> u64 {
        assert!(i < PEEK, "the generator peeks at most {PEEK} words ahead");
        self.words[(self.at + i) & (ROOM - 1)]
    }

    /// A uniform draw from `0..n` (`n > 0`), without bias, by Lemire's multiply-shift
    /// ("Fast random integer generation in an interval", 2019): the high word of `x · n` for
    /// the next word `x`, drawn again when the low word falls below `2^64 mod n` (the only
    /// division, and only when the low word is below `n`: a chance of `n` in 2^64). Unlike
    /// [`SeededRng::uniform`]'s remainder it needs no division; the lottery draws with it.
    #[inline(always)]
    pub fn below(&mut self, n: u64) -> u64 {
        self.below_word(n).0
    }

    /// [`SeededRng::below`]`(n)`, and the word it took: the draw is the high word of that
    /// word's product with `n`, so a caller can scale the same word to a coarser range (the
    /// lottery's places among equal tickets) without dividing the draw.
    #[inline(always)]
    pub fn below_word(&mut self, n: u64) -> (u64, u64) {
        debug_assert!(n > 0);
        loop {
            let word = self.next_word();
            let (high, low) = mul_wide(word, n);
            if low >= n || low >= n.wrapping_neg() % n {
                return (high, word);
            }
        }
    }

    /// A uniform draw from `lo..=hi` (`lo <= hi`), without bias: draws that fall in the
    /// incomplete last block of the 64-bit range are rejected and drawn again.
    pub fn uniform(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span > u64::MAX as u128 {
            return self.next_word() as i64;
        }
        let span = span as u64;
        loop {
            let x = self.next_word();
            // Reject below 2^64 mod span, the count of low values that would make some
            // results likelier. That count is below span, so a word at or above span is
            // accepted without the division that computes it (all but a chance of span in
            // 2^64).
            if x >= span || x >= span.wrapping_neg() % span {
                return (lo as i128 + (x % span) as i128) as i64;
            }
        }
    }
}

/// The high and low words of `a · b`.
#[inline(always)]
pub(crate) fn mul_wide(a: u64, b: u64) -> (u64, u64) {
    let m = u128::from(a) * u128::from(b);
    ((m >> 64) as u64, m as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_pinned() {
        // These values pin the stream: if they change, every seeded report changes.
        let mut r = SeededRng::new(7);
        let draws: Vec<i64> = (0..8).map(|_| r.uniform(1, 6)).collect();
        let mut again = SeededRng::new(7);
        assert_eq!(
            draws,
            (0..8).map(|_| again.uniform(1, 6)).collect::<Vec<_>>()
        );
        assert!(draws.iter().all(|d| (1..=6).contains(d)));
        assert_eq!(draws, PINNED);
    }

    const PINNED: [i64; 8] = [4, 4, 3, 1, 4, 1, 6, 3];

    /// The buffer gives `ChaCha8Rng::next_u64`'s stream, past many refills and with peeks
    /// across them (the stream every report's draws come from).
    #[test]
    fn the_buffer_is_chacha8s_stream() {
        use rand_chacha::ChaCha8Rng;
        use rand_chacha::rand_core::Rng;
        for seed in [0u64, 1, 42, u64::MAX] {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&seed.to_le_bytes());
            let mut reference = ChaCha8Rng::from_seed(key);
            let want: Vec<u64> = (0..1000).map(|_| reference.next_u64()).collect();
            let mut rng = SeededRng::new(seed);
            for (i, &word) in want.iter().enumerate() {
                // Peek up to PEEK ahead at varying points, across batch boundaries.
                let k = (i * 7) % PEEK;
                if i + k < want.len() {
                    assert_eq!(rng.peek_nth(k), want[i + k], "seed {seed}, word {i}+{k}");
                }
                assert_eq!(rng.next_word(), word, "seed {seed}, word {i}");
            }
        }
    }

    /// A peeked word is the next one drawn, so peeking changes no draw.
    #[test]
    fn peeking_leaves_the_stream_as_it_was() {
        let mut plain = SeededRng::new(11);
        let mut peeked = SeededRng::new(11);
        for i in 0..200u64 {
            let n = 1 + i * 7919;
            if i % 3 == 0 {
                let x = peeked.peek_word();
                assert_eq!(peeked.peek_word(), x);
                let want = plain.uniform(0, n as i64 - 1);
                assert_eq!(want, (x % n) as i64);
                assert_eq!(peeked.uniform(0, n as i64 - 1), want);
            } else {
                assert_eq!(peeked.uniform(-5, n as i64), plain.uniform(-5, n as i64));
            }
        }
        // Rejection: a span just above 2^63 rejects nearly half the words.
        let (mut a, mut b) = (SeededRng::new(5), SeededRng::new(5));
        for _ in 0..100 {
            a.peek_word();
            assert_eq!(a.uniform(0, i64::MAX), b.uniform(0, i64::MAX));
            assert_eq!(
                a.uniform(i64::MIN, i64::MAX / 2),
                b.uniform(i64::MIN, i64::MAX / 2)
            );
        }
    }

    /// Words peeked several ahead are the next ones drawn, in order, whatever mix of peeks,
    /// takes and draws comes between.
    #[test]
    fn peeking_ahead_leaves_the_stream_as_it_was() {
        let mut plain = SeededRng::new(17);
        let mut peeked = SeededRng::new(17);
        let mut words = Vec::new();
        for i in 0..500u64 {
            let n = 1 + (i * 2_654_435_761) % 1_000_003;
            let k = (i as usize * 7) % PEEK;
            let ahead: Vec<u64> = (0..=k).map(|j| peeked.peek_nth(j)).collect();
            assert_eq!(peeked.peek_word(), ahead[0]);
            match i % 3 {
                0 => {
                    let want = plain.below(n);
                    assert_eq!(peeked.below_word(n), (want, ahead[0]));
                    assert_eq!(want, mul_wide(ahead[0], n).0);
                }
                1 => assert_eq!(peeked.uniform(-3, n as i64), plain.uniform(-3, n as i64)),
                _ => assert_eq!(peeked.next_word(), plain.next_word()),
            }
            // What is still peeked is what follows.
            if k > 0 {
                assert_eq!(peeked.peek_word(), ahead[1]);
            }
            words.push(ahead[0]);
        }
        assert!(words.windows(2).any(|w| w[0] != w[1]));
    }

    /// `below_word` gives `below`'s draw and the word it took: the peeked word when it is
    /// accepted, a later one after a rejection.
    #[test]
    fn below_word_gives_the_draw_and_its_word() {
        let (mut a, mut b) = (SeededRng::new(13), SeededRng::new(13));
        for i in 0..100u64 {
            let span = 1 + i * 104_729;
            let x = a.peek_word();
            let want = b.below(span);
            assert_eq!(a.below_word(span), (want, x));
            assert_eq!(want, mul_wide(x, span).0);
        }
        // Just above 2^63, nearly half the words are rejected (2^64 mod n = 2^63 - 1).
        let span = (1u64 << 63) + 1;
        let mut rejected = 0;
        for _ in 0..200 {
            let x = a.peek_word();
            let (high, word) = a.below_word(span);
            assert_eq!(high, b.below(span));
            assert_eq!(high, mul_wide(word, span).0);
            rejected += usize::from(word != x);
        }
        assert!((40..160).contains(&rejected), "{rejected} of 200 rejected");
        assert_eq!(a.uniform(i64::MIN, i64::MAX), b.uniform(i64::MIN, i64::MAX));
    }

    /// `below` stays in range, rejects exactly the low words under 2^64 mod n, and its
    /// stream is pinned (the lottery's draws: if these change, every lottery report does).
    #[test]
    fn below_is_in_range_and_pinned() {
        let mut r = SeededRng::new(7);
        let draws: Vec<u64> = (0..8).map(|_| r.below(6)).collect();
        assert_eq!(draws, [4, 2, 0, 1, 2, 2, 2, 1]);
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[r.below(6) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
        // n just above 2^63: nearly half the words are rejected; the draws stay below n.
        let n = (1u64 << 63) + 1;
        let (mut a, mut b) = (SeededRng::new(5), SeededRng::new(5));
        for _ in 0..200 {
            let d = a.below(n);
            assert!(d < n);
            // The same draw, by hand: the first word whose low product clears the threshold.
            let want = loop {
                let (high, low) = mul_wide(b.next_word(), n);
                if low >= n.wrapping_neg() % n {
                    break high;
                }
            };
            assert_eq!(d, want);
        }
    }

    #[test]
    fn full_and_degenerate_ranges() {
        let mut r = SeededRng::new(1);
        assert_eq!(r.uniform(5, 5), 5);
        let _ = r.uniform(i64::MIN, i64::MAX);
        for _ in 0..1000 {
            assert!((-3..=3).contains(&r.uniform(-3, 3)));
        }
    }
}
