//! Compact, exactly mergeable distributions for host profiles.
//!
//! Profiles keep several distributions per host (bytes per flow, flow
//! duration, flows per hour, ...) for up to 100,000 hosts, so a full
//! `hdrhistogram::Histogram` per distribution (tens of kilobytes each) does
//! not fit the memory budget. [`Distribution`] uses exactly the buckets an
//! hdrhistogram with two significant digits uses (values below 256 exact,
//! then 128 sub-buckets per power of two: relative error below 1/128) but
//! stores only the buckets that hold values, as a sorted vector. Quantiles
//! agree with hdrhistogram's at that precision, and
//! [`Distribution::to_hdr`] gives a real hdrhistogram when its API is wanted.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Values below this are recorded exactly.
const EXACT_BELOW: u64 = 256;
/// Sub-buckets per power of two above [`EXACT_BELOW`].
const HALF: u64 = 128;

/// Bucket index of a value (0..=7423).
fn bucket_of(v: u64) -> u16 {
    if v < EXACT_BELOW {
        return v as u16;
    }
    let bits = 64 - u64::from(v.leading_zeros());
    let shift = bits - 8;
    let mantissa = v >> shift;
    (EXACT_BELOW + (shift - 1) * HALF + (mantissa - HALF)) as u16
}

/// Smallest and largest value that fall in a bucket.
fn bucket_range(b: u16) -> (u64, u64) {
    let b = u64::from(b);
    if b < EXACT_BELOW {
        return (b, b);
    }
    let shift = (b - EXACT_BELOW) / HALF + 1;
    let mantissa = (b - EXACT_BELOW) % HALF + HALF;
    let low = mantissa << shift;
    let high = low.saturating_add((1u64 << shift) - 1);
    (low, high)
}

/// A distribution of non-negative integers with hdrhistogram's two-digit
/// precision, stored sparsely; merging is exact (bucket counts add).
///
/// Bucket counts are `u32` and saturate (over four billion values in one
/// bucket); the total count is `u64`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// (bucket index, count), sorted by bucket, no zero counts.
    buckets: Vec<(u16, u32)>,
    /// Values recorded.
    count: u64,
}

impl Distribution {
    /// An empty distribution.
    pub fn new() -> Distribution {
        Distribution::default()
    }

    /// Adds one value.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.record_n(v, 1);
    }

    /// Adds `n` copies of a value.
    pub fn record_n(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        let b = bucket_of(v);
        match self.buckets.binary_search_by_key(&b, |&(k, _)| k) {
            Ok(i) => {
                if let Some(slot) = self.buckets.get_mut(i) {
                    slot.1 = slot.1.saturating_add(n);
                }
            }
            Err(i) => self.buckets.insert(i, (b, n)),
        }
        self.count = self.count.saturating_add(u64::from(n));
    }

    /// Folds another distribution into this one (exact: the result is what
    /// recording both sets of values into one distribution gives).
    pub fn merge(&mut self, other: &Distribution) {
        if other.buckets.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (
            self.buckets.iter().peekable(),
            other.buckets.iter().peekable(),
        );
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(ka, na)), Some(&&(kb, nb))) => {
                    if ka == kb {
                        out.push((ka, na.saturating_add(nb)));
                        a.next();
                        b.next();
                    } else if ka < kb {
                        out.push((ka, na));
                        a.next();
                    } else {
                        out.push((kb, nb));
                        b.next();
                    }
                }
                (Some(&&x), None) => {
                    out.push(x);
                    a.next();
                }
                (None, Some(&&x)) => {
                    out.push(x);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.buckets = out;
        self.count = self.count.saturating_add(other.count);
    }

    /// Number of values recorded.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The value at quantile `q` (0.0 to 1.0), as hdrhistogram reports it:
    /// the highest value equivalent to the bucket holding that rank.
    /// `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.buckets.is_empty() {
            return None;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let total: u64 = self.buckets.iter().map(|&(_, n)| u64::from(n)).sum();
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        for &(b, n) in &self.buckets {
            seen += u64::from(n);
            if seen >= rank {
                return Some(bucket_range(b).1);
            }
        }
        self.buckets.last().map(|&(b, _)| bucket_range(b).1)
    }

    /// The smallest value recorded (bucket precision), `None` when empty.
    pub fn min(&self) -> Option<u64> {
        self.buckets.first().map(|&(b, _)| bucket_range(b).0)
    }

    /// The largest value recorded (bucket precision), `None` when empty.
    pub fn max(&self) -> Option<u64> {
        self.buckets.last().map(|&(b, _)| bucket_range(b).1)
    }

    /// Number of values at or below `v` (bucket precision: a value counts
    /// when its bucket lies wholly at or below `v`'s bucket).
    pub fn count_at_or_below(&self, v: u64) -> u64 {
        let b = bucket_of(v);
        self.buckets
            .iter()
            .take_while(|&&(k, _)| k <= b)
            .map(|&(_, n)| u64::from(n))
            .sum()
    }

    /// Non-empty buckets as (lowest value, highest value, count), ascending.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u32)> + '_ {
        self.buckets.iter().map(|&(b, n)| {
            let (lo, hi) = bucket_range(b);
            (lo, hi, n)
        })
    }

    /// The same distribution as an `hdrhistogram::Histogram` with two
    /// significant digits (each bucket's count recorded at its lowest value).
    pub fn to_hdr(&self) -> Histogram<u64> {
        // Two significant figures is a constant, valid configuration: this cannot fail.
        let mut h = Histogram::<u64>::new(2).expect("hdrhistogram accepts 2 significant figures");
        for (lo, _, n) in self.buckets() {
            let _ = h.record_n(lo, u64::from(n));
        }
        h
    }

    /// Bytes of heap this distribution holds (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u16, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_and_cover_every_value() {
        for v in (0..5000u64).chain([u64::MAX, u64::MAX / 3, 1 << 40, (1 << 40) - 1]) {
            let (lo, hi) = bucket_range(bucket_of(v));
            assert!(lo <= v && v <= hi, "{v} not in {lo}..={hi}");
            assert_eq!(bucket_of(lo), bucket_of(v));
            assert_eq!(bucket_of(hi), bucket_of(v));
            // Two significant digits: the bucket is within 1/128 of its value.
            assert!((hi - lo) as f64 <= v as f64 / 128.0 + 1.0);
        }
        assert_eq!(bucket_of(u64::MAX), 7423);
    }

    #[test]
    fn quantiles_match_hdrhistogram_with_two_digits() {
        let mut d = Distribution::new();
        let mut h = Histogram::<u64>::new(2).unwrap();
        let mut x: u64 = 12345;
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = (x >> 40) % 1_000_000;
            d.record(v);
            h.record(v).unwrap();
        }
        for q in [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                d.quantile(q).unwrap(),
                h.highest_equivalent(h.value_at_quantile(q)),
                "q={q}"
            );
        }
        assert_eq!(d.len(), h.len());
        assert_eq!(d.to_hdr().len(), h.len());
        assert_eq!(d.max().unwrap(), h.highest_equivalent(h.max()));
    }

    #[test]
    fn merge_is_exact() {
        let mut a = Distribution::new();
        let mut b = Distribution::new();
        let mut all = Distribution::new();
        for v in 0..3000u64 {
            let v = v * v;
            if v % 3 == 0 {
                a.record(v)
            } else {
                b.record(v)
            }
            all.record(v);
        }
        let mut ab = a.clone();
        ab.merge(&b);
        b.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(b, all);
        assert_eq!(Distribution::new().quantile(0.5), None);
    }
}
