//! What the two fair policies (`cfs`, `eevdf`) share: Linux's table of weights by nice value,
//! and the fixed-point virtual time they keep.
//!
//! A vruntime is an integer in units of 2^-16 tick of a nice-0 process: `ran` ticks at weight
//! `w` add `ran × 1024 × 2^16 / w`, rounded down (as Linux's `__calc_delta` truncates). Sixteen
//! fractional bits keep the rounding error of one charge below 1/65536 of a tick, so that
//! shares over a long run are the weights' to within far less than a tick, and every
//! comparison stays an integer one.

/// `sched_prio_to_weight` of Linux's `kernel/sched/core.c`: the weight of nice −20 … 19.
/// One nice level apart is about 1.25 times the weight ("10% more CPU").
#[rustfmt::skip]
pub(crate) const SCHED_PRIO_TO_WEIGHT: [u32; 40] = [
    /* -20 */ 88761, 71755, 56483, 46273, 36291,
    /* -15 */ 29154, 23254, 18705, 14949, 11916,
    /* -10 */ 9548, 7620, 6100, 4904, 3906,
    /*  -5 */ 3121, 2501, 1991, 1586, 1277,
    /*   0 */ 1024, 820, 655, 526, 423,
    /*   5 */ 335, 272, 215, 172, 137,
    /*  10 */ 110, 87, 70, 56, 45,
    /*  15 */ 36, 29, 23, 18, 15,
];

/// The weight of nice 0 (Linux's `NICE_0_LOAD`).
pub(crate) const NICE_0_WEIGHT: u64 = 1024;

/// Fractional bits of a vruntime.
pub(crate) const FRAC_BITS: u32 = 16;

/// `1024 << 16`: one tick of a process of weight `w` adds `SCALE / w` to its vruntime.
pub(crate) const SCALE: u64 = NICE_0_WEIGHT << FRAC_BITS;

/// The weight of a nice value (clamped to −20 … 19; validation already holds it there).
pub(crate) fn weight(nice: i8) -> u64 {
    let i = (i32::from(nice).clamp(-20, 19) + 20) as usize;
    u64::from(SCHED_PRIO_TO_WEIGHT[i])
}

/// The vruntime that `ran` ticks at weight `w` add: `⌊ran × SCALE / w⌋`, saturating.
pub(crate) fn vdelta(ran: u64, w: u64) -> u64 {
    // The commonest cases without a 128-bit division (a library call, on the path of every
    // charge), each the same quotient: nice 0, where SCALE / 1024 is 2^16 exactly, and a
    // product that fits in 64 bits.
    if w == NICE_0_WEIGHT && ran < 1 << (64 - FRAC_BITS) {
        return ran << FRAC_BITS;
    }
    if let Some(x) = ran.checked_mul(SCALE) {
        return x / w.max(1);
    }
    let d = u128::from(ran) * u128::from(SCALE) / u128::from(w.max(1));
    u64::try_from(d).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_weights_at_the_usual_nice_values() {
        assert_eq!(weight(0), 1024);
        assert_eq!(weight(5), 335);
        assert_eq!(weight(-5), 3121);
        assert_eq!(weight(19), 15);
        assert_eq!(weight(-20), 88761);
        assert_eq!(weight(1), 820);
        assert_eq!(weight(-1), 1277);
        // Each level is about 1.25 times the next, throughout the table.
        for w in SCHED_PRIO_TO_WEIGHT.windows(2) {
            let r = f64::from(w[0]) / f64::from(w[1]);
            assert!((1.2..1.3).contains(&r), "{w:?}");
        }
    }

    #[test]
    fn vruntime_grows_by_ran_times_1024_over_weight() {
        assert_eq!(vdelta(1, 1024), 1 << FRAC_BITS);
        assert_eq!(vdelta(3, 2048), 3 << (FRAC_BITS - 1));
        // 5 × 2^26 / 335 = 1001624.8…, rounded down.
        assert_eq!(vdelta(5, 335), 1_001_624);
        assert_eq!(vdelta(u64::MAX, 15), u64::MAX);
        // Each shortcut against the 128-bit quotient, at and around its edges.
        let wide = |ran: u64, w: u64| {
            let d = u128::from(ran) * u128::from(SCALE) / u128::from(w.max(1));
            u64::try_from(d).unwrap_or(u64::MAX)
        };
        for ran in [
            0,
            1,
            3,
            1 << 37,
            (1 << 38) - 1,
            1 << 38,
            (1 << 48) - 1,
            1 << 48,
            u64::MAX,
        ] {
            for w in [0, 1, 15, 335, 1023, 1024, 1025, 88761] {
                assert_eq!(vdelta(ran, w), wide(ran, w), "{ran} at weight {w}");
            }
        }
    }
}
