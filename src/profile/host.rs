//! One host's own profile: identity, role, counters and distributions.
//!
//! Edges, services and logons live in [`crate::profile::Profiles`] tables
//! indexed by host; a [`HostProfile`] holds what belongs to the host alone.

use crate::hosts::HostKey;
use crate::model::Role;
use crate::model::event::Timestamp;
use crate::profile::histo::Distribution;
use crate::profile::role::RoleSignals;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

use crate::profile::week::{WeekCounts, hour_of_week};

/// What one host did, apart from its edges and logons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostProfile {
    /// Its identity (see [`crate::hosts::HostDirectory`]).
    pub key: HostKey,
    /// Addresses it used in the data or the directory gives it, ascending.
    pub ips: Vec<IpAddr>,
    /// Names the directory knows for it (short name first, then FQDNs).
    pub names: Vec<String>,
    /// Earliest flow or event involving it.
    pub first_seen: Timestamp,
    /// Latest flow or event involving it.
    pub last_seen: Timestamp,
    /// Its role: the hosts file's when given, else inferred from `signals`.
    pub role: Role,
    /// The role the hosts file gives it.
    pub given_role: Option<Role>,
    /// What its behaviour says about its role (recomputed whenever the
    /// profile tables are assembled: finished, merged, folded, aged out or
    /// loaded).
    pub signals: RoleSignals,
    /// Flows it originated.
    pub flows_out: u64,
    /// Flows it answered.
    pub flows_in: u64,
    /// Log events naming it (as writer, source or target).
    pub events: u64,
    /// Kerberos ticket events it wrote (4768/4769/4771).
    pub kdc_events: u64,
    /// Payload bytes it sent per flow it originated.
    pub bytes_out_per_flow: Distribution,
    /// Payload bytes it received per flow it originated.
    pub bytes_in_per_flow: Distribution,
    /// Duration, in microseconds, of flows it originated (single-packet flows count 0).
    pub duration_us: Distribution,
    /// Flows (either direction) per UTC hour, over hours with at least one flow.
    pub flows_per_hour: Distribution,
    /// Distinct peers (either direction) per UTC hour, over hours with a flow.
    pub peers_per_hour: Distribution,
    /// Payload bytes it sent to one peer per active day: one value per peer
    /// (flows it originated and flows it answered), the bytes it sent that
    /// peer divided by the days with contact (the union of the edges' day
    /// bitmaps, so at most 64 days back from the last contact). Derived
    /// from the edges whenever the profile tables are assembled (finished,
    /// merged, folded, aged out or loaded).
    pub bytes_out_per_peer_day: Distribution,
    /// Payload bytes it sent to one peer in one UTC hour: one value per
    /// (peer, hour) with a flow it originated to that peer.
    pub bytes_out_per_peer_hour: Distribution,
    /// Most distinct hosts it used remote administration on (established
    /// flows on a remote-admin service, admin log events) in one UTC hour.
    pub admin_peak_hour_hosts: u32,
    /// Flows and events per hour of the week ([`hour_of_week`]), 168
    /// counters, kept sparsely while few hours hold a count.
    pub hour_of_week: WeekCounts,
}

impl HostProfile {
    /// An empty profile first seen at `ts`.
    pub fn new(key: HostKey, ts: Timestamp) -> HostProfile {
        HostProfile {
            key,
            ips: Vec::new(),
            names: Vec::new(),
            first_seen: ts,
            last_seen: ts,
            role: Role::Unknown,
            given_role: None,
            signals: RoleSignals::default(),
            flows_out: 0,
            flows_in: 0,
            events: 0,
            kdc_events: 0,
            bytes_out_per_flow: Distribution::new(),
            bytes_in_per_flow: Distribution::new(),
            duration_us: Distribution::new(),
            flows_per_hour: Distribution::new(),
            peers_per_hour: Distribution::new(),
            bytes_out_per_peer_day: Distribution::new(),
            bytes_out_per_peer_hour: Distribution::new(),
            admin_peak_hour_hosts: 0,
            hour_of_week: WeekCounts::default(),
        }
    }

    /// Its role (given or inferred).
    pub fn role(&self) -> Role {
        self.role
    }

    /// Notes activity at `ts`: first/last seen and the hour-of-week counter.
    pub(crate) fn touch(&mut self, ts: Timestamp) {
        self.first_seen = self.first_seen.min(ts);
        self.last_seen = self.last_seen.max(ts);
        self.hour_of_week.add(hour_of_week(ts), 1);
    }

    /// Notes `n` records between `first` and `last`, all in `first`'s hour:
    /// what `n` calls of [`HostProfile::touch`] do.
    pub(crate) fn touch_n(&mut self, first: Timestamp, last: Timestamp, n: u32) {
        self.first_seen = self.first_seen.min(first);
        self.last_seen = self.last_seen.max(last);
        self.hour_of_week.add(hour_of_week(first), n);
    }

    /// Folds another profile of the same host in: identity unions, counters
    /// and distributions add. Role and signals are left for the caller to
    /// recompute.
    pub fn merge(&mut self, o: &HostProfile) {
        union_sorted(&mut self.ips, &o.ips);
        for n in &o.names {
            if !self.names.contains(n) {
                self.names.push(n.clone());
            }
        }
        sort_names(&mut self.names, &self.key);
        self.first_seen = self.first_seen.min(o.first_seen);
        self.last_seen = self.last_seen.max(o.last_seen);
        if self.given_role.is_none() {
            self.given_role = o.given_role;
        }
        self.flows_out = self.flows_out.saturating_add(o.flows_out);
        self.flows_in = self.flows_in.saturating_add(o.flows_in);
        self.events = self.events.saturating_add(o.events);
        self.kdc_events = self.kdc_events.saturating_add(o.kdc_events);
        self.bytes_out_per_flow.merge(&o.bytes_out_per_flow);
        self.bytes_in_per_flow.merge(&o.bytes_in_per_flow);
        self.duration_us.merge(&o.duration_us);
        self.flows_per_hour.merge(&o.flows_per_hour);
        self.peers_per_hour.merge(&o.peers_per_hour);
        self.bytes_out_per_peer_day.merge(&o.bytes_out_per_peer_day);
        self.bytes_out_per_peer_hour
            .merge(&o.bytes_out_per_peer_hour);
        self.admin_peak_hour_hosts = self.admin_peak_hour_hosts.max(o.admin_peak_hour_hosts);
        self.hour_of_week.merge(&o.hour_of_week);
    }
}

/// Sorted union of two sorted, deduplicated vectors, into `a`.
pub(crate) fn union_sorted<T: Ord + Clone>(a: &mut Vec<T>, b: &[T]) {
    if b.is_empty() {
        return;
    }
    a.extend(b.iter().cloned());
    a.sort();
    a.dedup();
}

/// Names order: the short name (the key) first, then the rest ascending.
pub(crate) fn sort_names(names: &mut [String], key: &HostKey) {
    let key = key.text();
    names.sort_by(|x, y| {
        (x.as_str() != key.as_str(), x.as_str()).cmp(&(y.as_str() != key.as_str(), y.as_str()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_of_week_starts_monday() {
        // 2026-11-30 is a Monday.
        let monday = crate::model::event::days_from_civil(2026, 11, 30) * 86_400;
        assert_eq!(hour_of_week(Timestamp::from_parts(monday, 0)), 0);
        assert_eq!(
            hour_of_week(Timestamp::from_parts(monday + 3600 * 25, 5)),
            25
        );
        assert_eq!(hour_of_week(Timestamp::from_parts(monday - 1, 0)), 167);
        assert_eq!(hour_of_week(Timestamp(0)), 3 * 24);
    }
}
