//! Flows folded by address pair, service and hour: the mergeable form of
//! connection records that a partial baseline stores (see
//! `crate::baseline::partial`).
//!
//! A [`FlowGroup`] holds everything [`crate::profile::ProfileBuilder::add_flow`] takes from
//! the flows of one (originator address, responder address, transport,
//! port, service, UTC hour): counts, byte sums, first and last start, and
//! the per-flow distributions. Addresses are kept as they are, not as
//! hosts, because which host an address belongs to is only known once the
//! host directory of the whole learning period is (a name a later day's
//! logs give an address applies to earlier days too). Folding groups into a
//! builder ([`crate::profile::ProfileBuilder::add_flow_group`]) gives exactly what folding
//! their flows one by one gives; groups of equal keys merge exactly
//! ([`FlowGroup::merge`]), so [`FlowGroups`] of shards merge in any grouping
//! and order to the same sorted list.

use super::histo::Distribution;
use crate::model::event::{ConnState, Flow, Timestamp, Transport};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The key of a [`FlowGroup`]: addresses, transport, responder port, service
/// name (none for empty or `-`) and UTC hour (hours since 1970).
pub type GroupKey = (IpAddr, IpAddr, Transport, u16, Option<String>, u32);

/// The flows of one (originator, responder, transport, port, service, hour).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowGroup {
    /// Originator address.
    pub orig: IpAddr,
    /// Responder address.
    pub resp: IpAddr,
    /// Transport.
    pub proto: Transport,
    /// Responder port.
    pub port: u16,
    /// Service name, if the records give one.
    pub service: Option<String>,
    /// UTC hour number (seconds since 1970 divided by 3600).
    pub hour: u32,
    /// Earliest flow start.
    pub first: Timestamp,
    /// Latest flow start.
    pub last: Timestamp,
    /// Flows.
    pub flows: u64,
    /// Flows that were failed attempts (S0, REJ, RSTOS0, SH).
    pub failed: u64,
    /// Payload bytes from originator to responder (saturating).
    pub bytes_out: u64,
    /// Payload bytes from responder to originator (saturating).
    pub bytes_in: u64,
    /// Originator payload bytes per flow.
    pub out_per_flow: Distribution,
    /// Responder payload bytes per flow.
    pub in_per_flow: Distribution,
    /// Duration per flow, microseconds.
    pub duration_us: Distribution,
}

impl FlowGroup {
    /// The group's key.
    pub fn key(&self) -> GroupKey {
        (
            self.orig,
            self.resp,
            self.proto,
            self.port,
            self.service.clone(),
            self.hour,
        )
    }

    /// Orders groups by key without copying it.
    pub fn cmp_key(&self, o: &FlowGroup) -> std::cmp::Ordering {
        (
            self.orig,
            self.resp,
            self.proto,
            self.port,
            &self.service,
            self.hour,
        )
            .cmp(&(o.orig, o.resp, o.proto, o.port, &o.service, o.hour))
    }

    fn empty(key: GroupKey, ts: Timestamp) -> FlowGroup {
        let (orig, resp, proto, port, service, hour) = key;
        FlowGroup {
            orig,
            resp,
            proto,
            port,
            service,
            hour,
            first: ts,
            last: ts,
            flows: 0,
            failed: 0,
            bytes_out: 0,
            bytes_in: 0,
            out_per_flow: Distribution::new(),
            in_per_flow: Distribution::new(),
            duration_us: Distribution::new(),
        }
    }

    fn add(&mut self, f: &Flow) {
        let out = f.orig_bytes.unwrap_or(0);
        let inb = f.resp_bytes.unwrap_or(0);
        self.first = self.first.min(f.ts);
        self.last = self.last.max(f.ts);
        self.flows = self.flows.saturating_add(1);
        self.failed = self
            .failed
            .saturating_add(u64::from(is_failed_attempt(f.conn_state)));
        self.bytes_out = self.bytes_out.saturating_add(out);
        self.bytes_in = self.bytes_in.saturating_add(inb);
        self.out_per_flow.record(out);
        self.in_per_flow.record(inb);
        self.duration_us.record(flow_duration_us(f));
    }

    /// Folds another group of the same key in (exact: counts and
    /// distributions add, first and last widen).
    pub fn merge(&mut self, o: &FlowGroup) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.flows = self.flows.saturating_add(o.flows);
        self.failed = self.failed.saturating_add(o.failed);
        self.bytes_out = self.bytes_out.saturating_add(o.bytes_out);
        self.bytes_in = self.bytes_in.saturating_add(o.bytes_in);
        self.out_per_flow.merge(&o.out_per_flow);
        self.in_per_flow.merge(&o.in_per_flow);
        self.duration_us.merge(&o.duration_us);
    }
}

/// Zeek states that mean the responder never took the connection.
pub fn is_failed_attempt(s: ConnState) -> bool {
    matches!(
        s,
        ConnState::S0 | ConnState::REJ | ConnState::RSTOS0 | ConnState::SH
    )
}

/// The UTC hour number of a time (hours since 1970; 0 before 1970).
pub(crate) fn hour_num(ts: Timestamp) -> u32 {
    u32::try_from(ts.secs().div_euclid(3600).max(0)).unwrap_or(u32::MAX)
}

/// A flow's duration in microseconds as profiles record it (0 when absent).
pub(crate) fn flow_duration_us(f: &Flow) -> u64 {
    f.duration
        .map_or(0, |d| u64::try_from(d.0.div_euclid(1000)).unwrap_or(0))
}

/// The service name a record gives, as profiles key it.
pub(crate) fn service_name(name: Option<&str>) -> Option<&str> {
    name.filter(|n| !n.is_empty() && *n != "-")
}

/// Flows being folded into groups.
#[derive(Debug, Default, Clone)]
pub struct FlowGroups {
    groups: FxHashMap<GroupKey, FlowGroup>,
}

impl FlowGroups {
    /// No groups.
    pub fn new() -> FlowGroups {
        FlowGroups::default()
    }

    /// Adds one connection record.
    pub fn add(&mut self, f: &Flow) {
        let key = (
            f.orig_h,
            f.resp_h,
            f.proto,
            f.resp_p,
            service_name(f.service.as_deref()).map(str::to_string),
            hour_num(f.ts),
        );
        self.groups
            .entry(key)
            .or_insert_with_key(|k| FlowGroup::empty(k.clone(), f.ts))
            .add(f);
    }

    /// Folds other groups in.
    pub fn merge(&mut self, other: FlowGroups) {
        for (k, g) in other.groups {
            match self.groups.get_mut(&k) {
                Some(mine) => mine.merge(&g),
                None => {
                    self.groups.insert(k, g);
                }
            }
        }
    }

    /// Every group once, in key order.
    pub fn into_sorted(self) -> Vec<FlowGroup> {
        let mut v: Vec<FlowGroup> = self.groups.into_values().collect();
        v.sort_unstable_by(FlowGroup::cmp_key);
        v
    }
}

/// Merges two lists of groups sorted by key (as [`FlowGroups::into_sorted`]
/// gives) into one sorted list, equal keys merged. Lists not sorted (a
/// damaged file) are sorted first.
pub fn merge_sorted(a: Vec<FlowGroup>, b: Vec<FlowGroup>) -> Vec<FlowGroup> {
    let mut all = a;
    all.extend(b);
    all.sort_by(FlowGroup::cmp_key);
    let mut out: Vec<FlowGroup> = Vec::with_capacity(all.len());
    for g in all {
        match out.last_mut() {
            Some(prev) if prev.cmp_key(&g).is_eq() => prev.merge(&g),
            _ => out.push(g),
        }
    }
    out
}
