//! Habits: what the baseline shows about how accounts, edges and hosts
//! behave, beyond the questions of [`super::BaselineView`]. Detectors ask
//! them through [`Habits`] to tell routine from novelty on principle: an
//! account's own working hours (not those of the desk it sits at, which
//! polls the outside around the clock), how many hosts a source already
//! administers over a service, on how many hosts an account is already
//! privileged, and which hosts reach the outside on behalf of others.
//!
//! [`super::learned::LearnedBaseline`] answers them from its learning
//! period. A stored baseline does not keep them: [`NoHabits`] answers
//! `None` for it, and each detector then falls back to what
//! [`super::BaselineView`] tells.

use super::AdminService;
use crate::event::Timestamp;
use crate::profile::host::{HOURS_PER_WEEK, hour_of_week};
use std::net::IpAddr;

/// The hours of the week in which something was active, and how many
/// records showed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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

/// Habits the baseline shows; `None` when the baseline does not keep them.
pub trait Habits: Sync {
    /// When the account logged on over the network (to any host).
    fn account_hours(&self, user: &str) -> Option<WeekHours>;
    /// When `src` used `svc` on `dst`.
    fn edge_hours(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<WeekHours>;
    /// Distinct hosts `src` used `svc` on, answered.
    fn service_reach(&self, src: IpAddr, svc: AdminService) -> Option<usize>;
    /// Distinct hosts on which the account received special privileges.
    fn privileged_hosts(&self, user: &str) -> Option<usize>;
    /// Whether the host reaches the outside on behalf of others: it served
    /// internal clients and most connections it made went outside (a web
    /// proxy, a mail relay, a forwarding resolver).
    fn forwarder(&self, ip: IpAddr) -> Option<bool>;
}

/// No habits known (a stored baseline): every answer is `None`.
pub struct NoHabits;

impl Habits for NoHabits {
    fn account_hours(&self, _user: &str) -> Option<WeekHours> {
        None
    }
    fn edge_hours(&self, _src: IpAddr, _dst: IpAddr, _svc: AdminService) -> Option<WeekHours> {
        None
    }
    fn service_reach(&self, _src: IpAddr, _svc: AdminService) -> Option<usize> {
        None
    }
    fn privileged_hosts(&self, _user: &str) -> Option<usize> {
        None
    }
    fn forwarder(&self, _ip: IpAddr) -> Option<bool> {
        None
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
    }
}
