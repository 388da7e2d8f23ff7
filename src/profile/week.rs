//! Hours of the week as a bitset: when an account logged on over the
//! network, when a source used a remote-admin service on a destination.
//! Profiles keep one per account ([`super::UserInfo::logon_hours`]) and
//! per remote-admin edge ([`super::EdgeHours`]) so that profiles answer
//! the detectors' habit questions ([`crate::detect::BaselineView`]). 168 bits and a record count: exactly mergeable
//! (hours OR-ed, counts added).

use crate::model::event::Timestamp;
use serde::{Deserialize, Serialize};

/// Hours in a week: the length of [`crate::profile::HostProfile::hour_of_week`].
pub const HOURS_PER_WEEK: usize = 168;

/// Hour of the week (0 = Monday 00:00-00:59 UTC, 167 = Sunday 23:00 UTC).
pub fn hour_of_week(ts: Timestamp) -> usize {
    let hours = ts.secs().div_euclid(3600);
    // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday.
    let day = hours.div_euclid(24);
    let weekday = (day + 3).rem_euclid(7);
    (weekday * 24 + hours.rem_euclid(24)) as usize
}

/// The hours of the week in which something was active, and how many
/// records showed it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct WeekHours {
    /// Bit `h` set: active in hour of the week `h` (see [`hour_of_week`]).
    bits: [u64; 3],
    /// Records counted.
    records: u32,
}

impl WeekHours {
    /// Notes one record at `t`.
    pub fn note(&mut self, t: Timestamp) {
        self.set(hour_of_week(t));
        self.records = self.records.saturating_add(1);
    }

    /// Notes `n` records in `t`'s hour of the week.
    pub fn note_n(&mut self, t: Timestamp, n: u32) {
        self.set(hour_of_week(t));
        self.records = self.records.saturating_add(n);
    }

    fn set(&mut self, how: usize) {
        if let Some(w) = self.bits.get_mut(how / 64) {
            *w |= 1u64 << (how % 64);
        }
    }

    /// From per-hour-of-week counters (168 of them; others are ignored).
    pub fn from_counts(counts: &[u32]) -> WeekHours {
        let mut out = WeekHours::default();
        for (how, c) in counts.iter().enumerate().take(HOURS_PER_WEEK) {
            if *c > 0 {
                out.set(how);
                out.records = out.records.saturating_add(*c);
            }
        }
        out
    }

    /// Folds another set in: hours OR-ed, records added (saturating).
    pub fn merge(&mut self, o: &WeekHours) {
        for (a, b) in self.bits.iter_mut().zip(&o.bits) {
            *a |= *b;
        }
        self.records = self.records.saturating_add(o.records);
    }

    /// Records counted.
    pub fn records(&self) -> u64 {
        u64::from(self.records)
    }

    /// Whether it was active in hour of the week `how`.
    pub fn seen(&self, how: usize) -> bool {
        self.bits
            .get(how / 64)
            .is_some_and(|w| w & (1u64 << (how % 64)) != 0)
    }

    /// Whether it was active at hour of the day `hod` on any weekday.
    pub fn seen_hour_of_day(&self, hod: usize) -> bool {
        (0..7).any(|d| self.seen(d * 24 + hod))
    }

    /// Days of the week (0-7) on which it was ever active.
    pub fn active_weekdays(&self) -> usize {
        (0..7)
            .filter(|d| (0..24).any(|h| self.seen(d * 24 + h)))
            .count()
    }

    /// Hours of the day (0-24) in which it was ever active.
    pub fn active_hours_of_day(&self) -> usize {
        (0..24).filter(|h| self.seen_hour_of_day(*h)).count()
    }

    /// Hours from `hod` to the nearest hour of the day in which it was ever
    /// active, around the clock; 24 when never.
    pub fn gap(&self, hod: usize) -> usize {
        (0..24usize)
            .filter(|h| self.seen_hour_of_day(*h))
            .map(|h| {
                let d = h.abs_diff(hod);
                d.min(24 - d)
            })
            .min()
            .unwrap_or(24)
    }
}

/// Sparse cells a [`WeekCounts`] keeps before it turns dense: 8 bytes a
/// cell sparse, 672 bytes dense, so beyond this the dense form is smaller.
const SPARSE_CELLS: usize = 84;

/// Records per hour of the week (168 counters, [`hour_of_week`]),
/// saturating: what a host profile keeps of when it was active.
///
/// Most hosts of a flood are active in one hour or two, so the counters
/// are kept sparsely, as (hour, count) pairs sorted by hour, until more
/// than `SPARSE_CELLS` (84) hours hold a count; then as 168 counters. The
/// form is a function of the counts alone, so equal counts compare equal.
/// Serialised always as the sparse pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredWeekCounts", into = "StoredWeekCounts")]
pub struct WeekCounts {
    repr: CountsRepr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CountsRepr {
    /// (hour of the week, count), sorted by hour, no zero counts.
    Sparse(Vec<(u8, u32)>),
    /// One counter per hour of the week.
    Dense(Box<[u32; HOURS_PER_WEEK]>),
}

impl Default for CountsRepr {
    fn default() -> Self {
        CountsRepr::Sparse(Vec::new())
    }
}

/// The stored form of [`WeekCounts`]: its non-zero (hour, count) pairs.
#[derive(Serialize, Deserialize)]
struct StoredWeekCounts(Vec<(u8, u32)>);

impl From<StoredWeekCounts> for WeekCounts {
    fn from(s: StoredWeekCounts) -> WeekCounts {
        let mut w = WeekCounts::default();
        for (how, n) in s.0 {
            w.add(usize::from(how), n);
        }
        w
    }
}

impl From<WeekCounts> for StoredWeekCounts {
    fn from(w: WeekCounts) -> StoredWeekCounts {
        StoredWeekCounts(w.cells().collect())
    }
}

impl WeekCounts {
    /// Adds `n` records to hour of the week `how` (ignored past 167 or
    /// for `n` 0), saturating.
    pub fn add(&mut self, how: usize, n: u32) {
        if n == 0 {
            return;
        }
        let Ok(h) = u8::try_from(how) else {
            return;
        };
        if how >= HOURS_PER_WEEK {
            return;
        }
        match &mut self.repr {
            CountsRepr::Dense(c) => {
                if let Some(x) = c.get_mut(how) {
                    *x = x.saturating_add(n);
                }
            }
            CountsRepr::Sparse(cells) => match cells.binary_search_by_key(&h, |&(k, _)| k) {
                Ok(i) => {
                    if let Some((_, x)) = cells.get_mut(i) {
                        *x = x.saturating_add(n);
                    }
                }
                Err(i) => {
                    cells.insert(i, (h, n));
                    if cells.len() > SPARSE_CELLS {
                        let mut dense = Box::new([0u32; HOURS_PER_WEEK]);
                        for &(k, x) in cells.iter() {
                            if let Some(d) = dense.get_mut(usize::from(k)) {
                                *d = x;
                            }
                        }
                        self.repr = CountsRepr::Dense(dense);
                    }
                }
            },
        }
    }

    /// The count of hour of the week `how` (0 past 167).
    pub fn get(&self, how: usize) -> u32 {
        match &self.repr {
            CountsRepr::Dense(c) => c.get(how).copied().unwrap_or(0),
            CountsRepr::Sparse(cells) => u8::try_from(how)
                .ok()
                .and_then(|h| {
                    cells
                        .binary_search_by_key(&h, |&(k, _)| k)
                        .ok()
                        .and_then(|i| cells.get(i))
                })
                .map_or(0, |&(_, x)| x),
        }
    }

    /// The non-zero (hour of the week, count) pairs, by hour.
    pub fn cells(&self) -> impl Iterator<Item = (u8, u32)> + '_ {
        let (sparse, dense): (&[(u8, u32)], &[u32]) = match &self.repr {
            CountsRepr::Sparse(cells) => (cells, &[]),
            CountsRepr::Dense(c) => (&[], &c[..]),
        };
        sparse.iter().copied().chain(
            dense
                .iter()
                .enumerate()
                .filter(|(_, x)| **x > 0)
                .map(|(h, &x)| (h as u8, x)),
        )
    }

    /// The 168 counters.
    pub fn counts(&self) -> [u32; HOURS_PER_WEEK] {
        let mut out = [0u32; HOURS_PER_WEEK];
        for (h, x) in self.cells() {
            if let Some(o) = out.get_mut(usize::from(h)) {
                *o = x;
            }
        }
        out
    }

    /// The hours with a count, and the records counted (saturating): what
    /// [`WeekHours::from_counts`] makes of [`WeekCounts::counts`].
    pub fn hours(&self) -> WeekHours {
        let mut out = WeekHours::default();
        for (h, x) in self.cells() {
            out.set(usize::from(h));
            out.records = out.records.saturating_add(x);
        }
        out
    }

    /// Adds another's counts, hour by hour (saturating).
    pub fn merge(&mut self, o: &WeekCounts) {
        for (h, x) in o.cells() {
            self.add(usize::from(h), x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64, hour: i64) -> Timestamp {
        // 2011-07-25 was a Monday.
        Timestamp::from_parts(1_311_552_000 + day * 86_400 + hour * 3600, 0)
    }

    #[test]
    fn week_hours_know_hours_gaps_and_counts() {
        let mut w = WeekHours::default();
        for d in 0..4 {
            for h in [9, 10, 16] {
                w.note(at(d, h));
            }
        }
        assert_eq!(w.records(), 12);
        assert!(w.seen(9) && w.seen(24 + 16) && !w.seen(5 * 24 + 9));
        assert_eq!(w.active_hours_of_day(), 3);
        assert_eq!(w.active_weekdays(), 4);
        assert_eq!(w.gap(3), 6);
        assert_eq!(w.gap(13), 3);
        assert_eq!(w.gap(10), 0);
        assert_eq!(WeekHours::default().gap(4), 24);
        let mut counts = vec![0u32; HOURS_PER_WEEK];
        counts[30] = 4;
        counts[167] = 1;
        let c = WeekHours::from_counts(&counts);
        assert_eq!(c.records(), 5);
        assert!(c.seen(30) && c.seen(167) && !c.seen(31));
        assert_eq!(c.active_hours_of_day(), 2);
        let mut m = w;
        m.merge(&c);
        assert_eq!(m.records(), 17);
        assert!(m.seen(9) && m.seen(30) && m.seen(167) && !m.seen(31));
        let mut other_way = c;
        other_way.merge(&w);
        assert_eq!(other_way, m);
    }

    #[test]
    fn week_counts_are_the_same_sparse_or_dense_and_in_any_order() {
        let mut a = WeekCounts::default();
        let mut b = WeekCounts::default();
        let mut plain = [0u32; HOURS_PER_WEEK];
        for i in 0..400usize {
            let how = (i * 37) % 170;
            let n = (i % 5) as u32;
            a.add(how, n);
            if let Some(p) = plain.get_mut(how) {
                *p += n;
            }
        }
        for i in (0..400usize).rev() {
            b.add((i * 37) % 170, (i % 5) as u32);
        }
        assert_eq!(a, b);
        assert_eq!(a.counts(), plain);
        assert!(matches!(a.repr, CountsRepr::Dense(_)));
        assert_eq!(a.hours(), WeekHours::from_counts(&plain));
        let mut few = WeekCounts::default();
        few.add(3, 2);
        few.add(167, u32::MAX);
        few.add(167, 1);
        few.add(168, 9);
        assert_eq!(few.get(3), 2);
        assert_eq!(few.get(167), u32::MAX);
        assert_eq!(
            few.cells().collect::<Vec<_>>(),
            vec![(3, 2), (167, u32::MAX)]
        );
        let mut merged = few.clone();
        merged.merge(&a);
        let mut other = a.clone();
        other.merge(&few);
        assert_eq!(merged, other);
        let bytes = postcard::to_allocvec(&a).unwrap_or_default();
        let back: WeekCounts = postcard::from_bytes(&bytes).unwrap_or_default();
        assert_eq!(back, a);
    }
}
