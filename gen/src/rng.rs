//! The generator's pseudo-random numbers: a splitmix64 stream, seeded from
//! labelled parts so that every job and every test file draws from its own
//! independent stream, plus the few distributions the generator needs.
//!
//! Only integer arithmetic and exact `u64 -> f64` conversions are used (no
//! `ln`/`exp`/`cos` from the platform's libm), so a given seed produces the
//! same bytes on every platform.

/// A splitmix64 generator. Small, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// The splitmix64 output function, also used to mix hashes into seeds.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator seeded with `seed` directly.
    pub fn new(seed: u64) -> Rng {
        Rng { state: mix(seed) }
    }

    /// A generator seeded from a label and a list of numbers, e.g.
    /// `Rng::derive("job", &[seed, run_id, attempt, index])`.
    pub fn derive(label: &str, parts: &[u64]) -> Rng {
        Rng::derive_str(label, parts, "")
    }

    /// Like [`Rng::derive`], with an extra string part (a file name, ...).
    pub fn derive_str(label: &str, parts: &[u64], text: &str) -> Rng {
        // FNV-1a over the label, the numbers and the text, then splitmix.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: u8| {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        label.bytes().for_each(&mut eat);
        eat(0xff);
        for p in parts {
            p.to_le_bytes().into_iter().for_each(&mut eat);
        }
        eat(0xfe);
        text.bytes().for_each(&mut eat);
        Rng::new(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        lo + ((u128::from(self.next_u64()) * (u128::from(span) + 1)) >> 64) as u64
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// An index chosen with the given integer weights (not all zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.range(0, total - 1);
        for (i, &w) in weights.iter().enumerate() {
            if r < u64::from(w) {
                return i;
            }
            r -= u64::from(w);
        }
        weights.len() - 1
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }

    /// `k` distinct elements of `xs` (fewer if `xs` is shorter), in random order.
    pub fn sample<T: Clone>(&mut self, xs: &[T], k: usize) -> Vec<T> {
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        let k = k.min(xs.len());
        for i in 0..k {
            let j = i + self.below(idx.len() - i);
            idx.swap(i, j);
        }
        idx[..k].iter().map(|&i| xs[i].clone()).collect()
    }

    /// `digits` lowercase hex digits (at most 16).
    pub fn hex(&mut self, digits: usize) -> String {
        debug_assert!(digits <= 16);
        let v = self.next_u64();
        let s = format!("{v:016x}");
        s[16 - digits..].to_string()
    }

    /// A heavy-tailed positive weight in roughly `[0.05, 20]`, median about 1
    /// (a lognormal stand-in without libm): the product of a few uniforms
    /// scaled around 1.
    pub fn skewed_weight(&mut self) -> f64 {
        let mut w = 1.0;
        for _ in 0..3 {
            // each factor in [0.37, 2.7): e^-1 .. e^1, geometric-ish
            w *= 0.37 + 2.33 * self.unit() * self.unit() + 0.3 * self.unit();
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .scan(Rng::derive("x", &[1, 2]), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .scan(Rng::derive("x", &[1, 2]), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..4)
            .scan(Rng::derive("x", &[1, 3]), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            assert!(r.below(3) < 3);
            let v = r.range(5, 9);
            assert!((5..=9).contains(&v));
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(r.hex(16).len(), 16);
        assert_eq!(r.sample(&[1, 2, 3], 5).len(), 3);
    }
}
