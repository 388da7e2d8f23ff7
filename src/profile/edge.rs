//! Per-edge statistics: what one host did with one peer on one service.
//!
//! An edge is (originator host, responder host, [`crate::model::Service`]).
//! Its [`EdgeStats`] are small (48 bytes) because a baseline holds millions
//! of them, and exactly mergeable: merging the stats of two shards gives the
//! stats of all their flows.

use crate::model::event::Timestamp;
use serde::{Deserialize, Serialize};

/// Days a day bitmap covers, ending at the day of the last flow.
pub const DAY_WINDOW: i64 = 64;

/// The UTC day number (days since 1970-01-01) of a timestamp.
pub fn day_of(ts: Timestamp) -> i64 {
    ts.secs().div_euclid(86_400)
}

/// Counters for one (originator, responder, service) edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeStats {
    /// First flow's start.
    pub first: Timestamp,
    /// Last flow's start.
    pub last: Timestamp,
    /// Bit `i` set: a flow started on day `day_of(last) - i` (the 64 days up to
    /// the last flow; older days fall off, identically under merge).
    pub days: u64,
    /// Flows (saturating).
    pub flows: u32,
    /// Flows that were failed attempts: S0, REJ, RSTOS0, SH (saturating).
    pub failed: u32,
    /// Payload bytes from originator to responder.
    pub bytes_out: u64,
    /// Payload bytes from responder to originator.
    pub bytes_in: u64,
}

impl EdgeStats {
    /// Stats of a single flow.
    pub fn one(ts: Timestamp, bytes_out: u64, bytes_in: u64, failed: bool) -> EdgeStats {
        EdgeStats {
            first: ts,
            last: ts,
            days: 1,
            flows: 1,
            failed: u32::from(failed),
            bytes_out,
            bytes_in,
        }
    }

    /// Adds one flow.
    pub fn observe(&mut self, ts: Timestamp, bytes_out: u64, bytes_in: u64, failed: bool) {
        self.merge(&EdgeStats::one(ts, bytes_out, bytes_in, failed));
    }

    /// Folds another edge's stats into this one (exact, commutative, associative).
    pub fn merge(&mut self, o: &EdgeStats) {
        let last = self.last.max(o.last);
        let anchor = day_of(last);
        self.days = shift_days(self.days, anchor - day_of(self.last))
            | shift_days(o.days, anchor - day_of(o.last));
        self.first = self.first.min(o.first);
        self.last = last;
        self.flows = self.flows.saturating_add(o.flows);
        self.failed = self.failed.saturating_add(o.failed);
        self.bytes_out = self.bytes_out.saturating_add(o.bytes_out);
        self.bytes_in = self.bytes_in.saturating_add(o.bytes_in);
    }

    /// Days with at least one flow, among the 64 days up to the last flow.
    pub fn days_active(&self) -> u32 {
        self.days.count_ones()
    }

    /// True when a flow started on UTC day `day` (only days within the
    /// 64-day window ending at the last flow are known).
    pub fn active_on(&self, day: i64) -> bool {
        let back = day_of(self.last) - day;
        (0..DAY_WINDOW).contains(&back) && self.days & (1u64 << back) != 0
    }

    /// Flows that were not failed attempts.
    pub fn established(&self) -> u32 {
        self.flows.saturating_sub(self.failed)
    }
}

fn shift_days(bits: u64, by: i64) -> u64 {
    if (0..DAY_WINDOW).contains(&by) {
        bits << by
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_day(d: i64, h: i64) -> Timestamp {
        Timestamp::from_parts(d * 86_400 + h * 3600, 0)
    }

    #[test]
    fn days_are_exact_under_merge() {
        let obs = [(100, 1), (100, 5), (101, 0), (130, 2), (99, 23), (170, 1)];
        let mut all = EdgeStats::one(at_day(obs[0].0, obs[0].1), 1, 2, false);
        for &(d, h) in &obs[1..] {
            all.observe(at_day(d, h), 1, 2, d == 130);
        }
        // Window ends at day 170: days 99 and 100, 101 are more than 63 days back from it.
        assert_eq!(all.days_active(), 2);
        assert!(all.active_on(170) && all.active_on(130) && !all.active_on(101));
        assert_eq!(
            (all.flows, all.failed, all.bytes_out, all.bytes_in),
            (6, 1, 6, 12)
        );
        assert_eq!(all.first, at_day(99, 23));
        let mut a = EdgeStats::one(at_day(170, 1), 1, 2, false);
        a.observe(at_day(100, 1), 1, 2, false);
        a.observe(at_day(99, 23), 1, 2, false);
        let mut b = EdgeStats::one(at_day(101, 0), 1, 2, false);
        b.observe(at_day(130, 2), 1, 2, true);
        b.observe(at_day(100, 5), 1, 2, false);
        let mut ab = a;
        ab.merge(&b);
        b.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(b, all);
        let mut near = EdgeStats::one(at_day(10, 0), 0, 0, false);
        near.observe(at_day(12, 0), 0, 0, false);
        near.observe(at_day(11, 3), 0, 0, false);
        assert_eq!(near.days_active(), 3);
        assert_eq!(std::mem::size_of::<EdgeStats>(), 48);
    }
}
