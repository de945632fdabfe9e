//! The seeded generator behind `uniform` draws, with a stream that never changes.
//!
//! ChaCha8's output for a given seed is fixed by its specification, and `rand_chacha` promises
//! that stream; the seed is laid into the key by hand (not through `seed_from_u64`) and the
//! range reduction below is written here rather than taken from `rand`'s `Uniform`, whose
//! algorithm is allowed to change between releases. Together they keep a scenario's draws, and
//! so its report, the same on every machine and every version of procsim.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// A seeded, portable source of uniform integers.
#[derive(Debug, Clone)]
pub struct SeededRng {
    inner: ChaCha8Rng,
}

impl SeededRng {
    /// The generator for `seed`: the seed's 8 little-endian bytes, then zeros, as the key.
    pub fn new(seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        SeededRng {
            inner: ChaCha8Rng::from_seed(key),
        }
    }

    /// A uniform draw from `lo..=hi` (`lo <= hi`), without bias: draws that fall in the
    /// incomplete last block of the 64-bit range are rejected and drawn again.
    pub fn uniform(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span > u64::MAX as u128 {
            return self.inner.next_u64() as i64;
        }
        let span = span as u64;
        // 2^64 mod span: the count of low values that would make some results likelier.
        let reject_below = span.wrapping_neg() % span;
        loop {
            let x = self.inner.next_u64();
            if x >= reject_below {
                return (lo as i128 + (x % span) as i128) as i64;
            }
        }
    }
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
