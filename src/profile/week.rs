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
}
