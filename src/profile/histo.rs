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
/// precision; merging is exact (bucket counts add).
///
/// Held inline (no allocation) while one bucket is in use, as most of a
/// flood's sources' distributions are; sparsely (sorted (bucket, count)
/// pairs) while few buckets are in use; densely (one counter per bucket over the span in use) once at least
/// 32 buckets fill at least a quarter of their span, so recording stays O(1) for
/// busy hosts and small for quiet ones. The form is a function of the
/// content alone, so equal distributions compare equal. Serialised always
/// in the sparse form. Bucket counts are `u32` and saturate; the total
/// count is `u64`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredDistribution", into = "StoredDistribution")]
pub struct Distribution {
    repr: Repr,
    /// Values recorded.
    count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// (bucket index, count), sorted by bucket, no zero counts; never
    /// exactly one bucket (that is [`Repr::One`]).
    Sparse(Vec<(u16, u32)>),
    /// Exactly one bucket in use: (bucket index, non-zero count).
    One(u16, u32),
    /// Counters over a span of buckets (boxed: few distributions are
    /// dense, and the box keeps [`Repr`] the size of a vector).
    Dense(Box<DenseBuckets>),
}

/// The dense form's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DenseBuckets {
    /// The first bucket counted.
    lo: u16,
    /// Counters for buckets `lo..lo + counts.len()`; first and last non-zero.
    counts: Vec<u32>,
    /// Non-zero counters.
    filled: u32,
}

// A distribution is a vector's three words and its count: the inline
// and boxed forms fit in the vector's room (seven per host profile).
const _: () = assert!(std::mem::size_of::<Repr>() <= 24);
const _: () = assert!(std::mem::size_of::<Distribution>() <= 32);

impl Default for Repr {
    fn default() -> Self {
        Repr::Sparse(Vec::new())
    }
}

/// Buckets in use before the dense form is considered.
const DENSE_MIN: usize = 32;

/// The stored form, checked on load: buckets beyond the last valid index
/// are dropped, the rest sorted and summed, the count recomputed.
#[derive(Serialize, Deserialize)]
struct StoredDistribution {
    buckets: Vec<(u16, u32)>,
    count: u64,
}

impl From<Distribution> for StoredDistribution {
    fn from(d: Distribution) -> StoredDistribution {
        StoredDistribution {
            buckets: d.pairs().collect(),
            count: d.count,
        }
    }
}

impl From<StoredDistribution> for Distribution {
    fn from(s: StoredDistribution) -> Distribution {
        let max = bucket_of(u64::MAX);
        let mut buckets: Vec<(u16, u32)> = s
            .buckets
            .into_iter()
            .filter(|&(b, n)| b <= max && n > 0)
            .collect();
        buckets.sort_unstable_by_key(|&(b, _)| b);
        buckets.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                kept.1 = kept.1.saturating_add(later.1);
                true
            } else {
                false
            }
        });
        let count = buckets.iter().map(|&(_, n)| u64::from(n)).sum();
        let mut d = Distribution {
            repr: Repr::Sparse(buckets),
            count,
        };
        d.normalise();
        d
    }
}

/// Whether `filled` buckets over `span` buckets should be stored densely
/// (dense then takes at most twice the bytes of sparse).
fn wants_dense(filled: usize, span: usize) -> bool {
    filled >= DENSE_MIN && filled * 4 >= span
}

impl Distribution {
    /// An empty distribution.
    pub fn new() -> Distribution {
        Distribution::default()
    }

    /// Non-empty buckets as (bucket index, count), ascending.
    fn pairs(&self) -> Box<dyn Iterator<Item = (u16, u32)> + '_> {
        match &self.repr {
            Repr::Sparse(v) => Box::new(v.iter().copied()),
            Repr::One(b, n) => Box::new(std::iter::once((*b, *n))),
            Repr::Dense(d) => {
                let lo = d.lo;
                Box::new(
                    d.counts
                        .iter()
                        .enumerate()
                        .filter(|(_, n)| **n > 0)
                        .map(move |(i, n)| (lo.saturating_add(i as u16), *n)),
                )
            }
        }
    }

    /// Puts the representation in its canonical form for the content.
    fn normalise(&mut self) {
        match &self.repr {
            Repr::Sparse(v) => {
                if let [(b, n)] = v.as_slice() {
                    self.repr = Repr::One(*b, *n);
                } else if let (Some(first), Some(last)) = (v.first(), v.last()) {
                    let span = usize::from(last.0 - first.0) + 1;
                    if wants_dense(v.len(), span) {
                        let lo = first.0;
                        let mut counts = vec![0u32; span];
                        for &(b, n) in v {
                            if let Some(c) = counts.get_mut(usize::from(b - lo)) {
                                *c = n;
                            }
                        }
                        self.repr = Repr::Dense(Box::new(DenseBuckets {
                            lo,
                            counts,
                            filled: v.len() as u32,
                        }));
                    }
                }
            }
            Repr::One(..) => {}
            Repr::Dense(d) => {
                if !wants_dense(d.filled as usize, d.counts.len()) {
                    let pairs: Vec<(u16, u32)> = self.pairs().collect();
                    self.repr = Repr::Sparse(pairs);
                    self.normalise();
                }
            }
        }
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
        self.add_bucket(bucket_of(v), n);
        self.count = self.count.saturating_add(u64::from(n));
    }

    fn add_bucket(&mut self, b: u16, n: u32) {
        match &mut self.repr {
            Repr::Sparse(v) if v.is_empty() => self.repr = Repr::One(b, n),
            Repr::One(k, c) if *k == b => *c = c.saturating_add(n),
            Repr::One(k, c) => {
                let (k, c) = (*k, *c);
                let v = if k < b {
                    vec![(k, c), (b, n)]
                } else {
                    vec![(b, n), (k, c)]
                };
                self.repr = Repr::Sparse(v);
            }
            Repr::Sparse(v) => {
                match v.binary_search_by_key(&b, |&(k, _)| k) {
                    Ok(i) => {
                        if let Some(slot) = v.get_mut(i) {
                            slot.1 = slot.1.saturating_add(n);
                        }
                        return;
                    }
                    Err(i) => v.insert(i, (b, n)),
                }
                self.normalise();
            }
            Repr::Dense(d) => {
                let DenseBuckets { lo, counts, filled } = &mut **d;
                if b < *lo {
                    let grow = usize::from(*lo - b);
                    counts.splice(0..0, std::iter::repeat_n(0, grow));
                    *lo = b;
                } else if usize::from(b - *lo) >= counts.len() {
                    counts.resize(usize::from(b - *lo) + 1, 0);
                }
                if let Some(c) = counts.get_mut(usize::from(b - *lo)) {
                    if *c == 0 {
                        *filled += 1;
                    }
                    *c = c.saturating_add(n);
                }
                self.normalise();
            }
        }
    }

    /// Folds another distribution into this one (exact: the result is what
    /// recording both sets of values into one distribution gives).
    pub fn merge(&mut self, other: &Distribution) {
        if other.count == 0 && other.is_repr_empty() {
            return;
        }
        let mine: Vec<(u16, u32)> = self.pairs().collect();
        let mut out = Vec::with_capacity(mine.len() + 64);
        let (mut a, mut b) = (mine.into_iter().peekable(), other.pairs().peekable());
        loop {
            match (a.peek().copied(), b.peek().copied()) {
                (Some((ka, na)), Some((kb, nb))) => {
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
                (Some(x), None) => {
                    out.push(x);
                    a.next();
                }
                (None, Some(x)) => {
                    out.push(x);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.repr = Repr::Sparse(out);
        self.count = self.count.saturating_add(other.count);
        self.normalise();
    }

    fn is_repr_empty(&self) -> bool {
        match &self.repr {
            Repr::Sparse(v) => v.is_empty(),
            Repr::One(..) => false,
            Repr::Dense(d) => d.filled == 0,
        }
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
        let total: u64 = self.pairs().map(|(_, n)| u64::from(n)).sum();
        if total == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0u64;
        let mut last = None;
        for (b, n) in self.pairs() {
            seen += u64::from(n);
            last = Some(b);
            if seen >= rank {
                return Some(bucket_range(b).1);
            }
        }
        last.map(|b| bucket_range(b).1)
    }

    /// The smallest value recorded (bucket precision), `None` when empty.
    pub fn min(&self) -> Option<u64> {
        self.pairs().next().map(|(b, _)| bucket_range(b).0)
    }

    /// The largest value recorded (bucket precision), `None` when empty.
    pub fn max(&self) -> Option<u64> {
        self.pairs().last().map(|(b, _)| bucket_range(b).1)
    }

    /// Number of values at or below `v` (bucket precision: a value counts
    /// when its bucket lies wholly at or below `v`'s bucket).
    pub fn count_at_or_below(&self, v: u64) -> u64 {
        let b = bucket_of(v);
        self.pairs()
            .take_while(|&(k, _)| k <= b)
            .map(|(_, n)| u64::from(n))
            .sum()
    }

    /// Non-empty buckets as (lowest value, highest value, count), ascending.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u32)> + '_ {
        self.pairs().map(|(b, n)| {
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

    /// Releases spare capacity (called when profiles are finished).
    pub fn shrink(&mut self) {
        match &mut self.repr {
            Repr::Sparse(v) => v.shrink_to_fit(),
            Repr::One(..) => {}
            Repr::Dense(d) => d.counts.shrink_to_fit(),
        }
    }

    /// Bytes of heap this distribution holds (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Sparse(v) => v.capacity() * std::mem::size_of::<(u16, u32)>(),
            Repr::One(..) => 0,
            Repr::Dense(d) => std::mem::size_of::<DenseBuckets>() + d.counts.capacity() * 4,
        }
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
    fn dense_and_sparse_forms_are_one_value() {
        // Enough buckets to go dense, recorded in two orders and via merges.
        let values: Vec<u64> = (0..400u64).map(|i| i * 7 % 300).collect();
        let mut fwd = Distribution::new();
        for &v in &values {
            fwd.record(v);
        }
        assert!(matches!(fwd.repr, Repr::Dense(_)));
        let mut rev = Distribution::new();
        for &v in values.iter().rev() {
            rev.record(v);
        }
        assert_eq!(fwd, rev);
        let mut halves = Distribution::new();
        let (mut a, mut b) = (Distribution::new(), Distribution::new());
        for (i, &v) in values.iter().enumerate() {
            if i % 2 == 0 { a.record(v) } else { b.record(v) }
        }
        halves.merge(&a);
        halves.merge(&b);
        assert_eq!(halves, fwd);
        // A far outlier makes the span sparse again.
        fwd.record(1 << 40);
        assert!(matches!(fwd.repr, Repr::Sparse(_)));
        let mut h = Histogram::<u64>::new(2).unwrap();
        for &v in values.iter().chain([1u64 << 40].iter()) {
            h.record(v).unwrap();
        }
        for q in [0.1, 0.5, 0.99, 1.0] {
            assert_eq!(
                fwd.quantile(q).unwrap(),
                h.highest_equivalent(h.value_at_quantile(q))
            );
        }
        let bytes = postcard::to_allocvec(&fwd).unwrap();
        assert_eq!(postcard::from_bytes::<Distribution>(&bytes).unwrap(), fwd);
    }

    #[test]
    fn hostile_stored_buckets_are_cleaned_on_load() {
        let raw = postcard::to_allocvec(&(vec![(65_535u16, 3u32), (9, 1), (9, 2), (3, 0)], 999u64))
            .unwrap();
        let d: Distribution = postcard::from_bytes(&raw).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.buckets().collect::<Vec<_>>(), vec![(9, 9, 3)]);
        assert_eq!(d.quantile(1.0), Some(9));
    }

    /// The pairs the form before the inline one-bucket form stored: every
    /// bucket's count, in a plain ordered map (no representation at all).
    fn reference_pairs(values: &[(u64, u32)]) -> Vec<(u16, u32)> {
        let mut m = std::collections::BTreeMap::<u16, u32>::new();
        for &(v, n) in values {
            if n > 0 {
                let c = m.entry(bucket_of(v)).or_insert(0);
                *c = c.saturating_add(n);
            }
        }
        m.into_iter().collect()
    }

    #[test]
    fn inline_one_bucket_form_stores_and_answers_as_the_sparse_form() {
        let mut x: u64 = 7;
        let mut draw = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for round in 0..400 {
            // Mostly one or two buckets (a flood's source), sometimes many.
            let len = match round % 5 {
                0 => 1,
                1 => 2,
                2 => (draw() % 4) as usize,
                3 => 1 + (draw() % 3) as usize,
                _ => (draw() % 300) as usize,
            };
            let spread = [1u64, 3, 300, 1 << 20, u64::MAX][(draw() % 5) as usize];
            let values: Vec<(u64, u32)> = (0..len)
                .map(|_| {
                    let v =
                        draw() % spread.max(1) + if spread == u64::MAX { draw() << 31 } else { 0 };
                    (v, (draw() % 3) as u32)
                })
                .collect();
            let mut d = Distribution::new();
            let (mut a, mut b) = (Distribution::new(), Distribution::new());
            for (i, &(v, n)) in values.iter().enumerate() {
                d.record_n(v, n);
                if i % 2 == 0 {
                    a.record_n(v, n)
                } else {
                    b.record_n(v, n)
                }
            }
            let want = reference_pairs(&values);
            let count: u64 = want.iter().map(|&(_, n)| u64::from(n)).sum();
            // The bytes are the old form's: (pairs, count).
            let old = postcard::to_allocvec(&(want.clone(), count)).unwrap();
            assert_eq!(postcard::to_allocvec(&d).unwrap(), old, "round {round}");
            let back: Distribution = postcard::from_bytes(&old).unwrap();
            assert_eq!(back, d, "round {round}");
            a.merge(&b);
            assert_eq!(a, d, "round {round}");
            assert_eq!(d.len(), count);
            assert_eq!(want.len() == 1, matches!(d.repr, Repr::One(..)));
            if want.len() <= 1 {
                assert_eq!(d.heap_bytes(), 0, "round {round}");
            }
            let mut hdr = Histogram::<u64>::new(2).unwrap();
            for &(v, n) in &values {
                if n > 0 {
                    hdr.record_n(v, u64::from(n)).unwrap();
                }
            }
            for q in [0.0, 0.5, 1.0] {
                assert_eq!(
                    d.quantile(q),
                    (count > 0).then(|| hdr.highest_equivalent(hdr.value_at_quantile(q))),
                    "round {round}"
                );
            }
        }
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
