//! Queries on [`Profiles`] by table index instead of by [`HostKey`]: for
//! callers that resolve a host once ([`Profiles::host_id_by_ip`],
//! [`Profiles::host_id`]) and then ask many questions about it, as the
//! detectors' view of a stored baseline
//! ([`crate::detect::profiles_view::ProfilesView`]) does per flow and per
//! logon. Each answer is a slice of a sorted table (or an iterator over a
//! sorted index) found by binary search on integers: no string
//! comparison, no allocation.
//!
//! The answers are those of the key-based queries in [`crate::profile`]
//! for the host at that index (e.g. [`Profiles::edges_between`] holds what
//! [`Profiles::outbound`] lists with that responder).

use super::{AdminUse, Edge, HostId, Logon, Profiles, Service, ServiceId, UserId, UserInfo};
use crate::hosts::HostKey;
use std::net::IpAddr;

impl Profiles {
    /// The index of the host that used an address (as resolved when the
    /// profiles were built), or of the host keyed by the bare address: the
    /// index of [`Profiles::host_by_ip`]'s answer.
    pub fn host_id_by_ip(&self, ip: IpAddr) -> Option<HostId> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match self.derived.ip_index.get(&ip) {
            Some(id) => Some(*id),
            None => self.host_id(&HostKey::from_ip(ip)),
        }
    }

    /// The service at an index.
    pub fn service_at(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(id.0 as usize)
    }

    /// The user at an index.
    pub fn user_at(&self, id: UserId) -> Option<&UserInfo> {
        self.users.get(id.0 as usize)
    }

    /// Every logon triple, by (user, target, source).
    pub fn logons(&self) -> &[Logon] {
        &self.logons
    }

    /// Every edge `src` originated, by (responder, service).
    pub fn edges_from(&self, src: HostId) -> &[Edge] {
        let at = |i: u32| self.derived.out_start.get(i as usize).copied();
        match (at(src.0), src.0.checked_add(1).and_then(at)) {
            (Some(lo), Some(hi)) => self.edges.get(lo as usize..hi as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The edges from `src` to `dst`, by service.
    pub fn edges_between(&self, src: HostId, dst: HostId) -> &[Edge] {
        let out = self.edges_from(src);
        let lo = out.partition_point(|e| e.dst < dst);
        let hi = out.partition_point(|e| e.dst <= dst);
        out.get(lo..hi).unwrap_or(&[])
    }

    /// Every edge `dst` answered, by (originator, service).
    pub fn edges_into(&self, dst: HostId) -> impl Iterator<Item = &Edge> {
        let dst_of = |i: &u32| self.edges.get(*i as usize).map(|e| e.dst);
        let inb = &self.derived.inbound;
        let lo = inb.partition_point(|i| dst_of(i) < Some(dst));
        let hi = inb.partition_point(|i| dst_of(i) <= Some(dst));
        inb.get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.edges.get(i as usize))
    }

    /// Remote-admin log evidence of `src` on any host, by (target, protocol).
    pub fn admin_from(&self, src: HostId) -> &[AdminUse] {
        let lo = self.admin.partition_point(|a| a.src < src);
        let hi = self.admin.partition_point(|a| a.src <= src);
        self.admin.get(lo..hi).unwrap_or(&[])
    }

    /// Remote-admin log evidence of `src` on `dst`, by protocol.
    pub fn admin_between(&self, src: HostId, dst: HostId) -> &[AdminUse] {
        let k = (src, dst);
        let lo = self.admin.partition_point(|a| (a.src, a.dst) < k);
        let hi = self.admin.partition_point(|a| (a.src, a.dst) <= k);
        self.admin.get(lo..hi).unwrap_or(&[])
    }

    /// Logon triples whose target is `dst`, by (user, source).
    pub fn logons_into(&self, dst: HostId) -> impl Iterator<Item = &Logon> {
        let dst_of = |i: &u32| self.logons.get(*i as usize).map(|l| l.dst);
        let idx = &self.derived.logons_to;
        let lo = idx.partition_point(|i| dst_of(i) < Some(dst));
        let hi = idx.partition_point(|i| dst_of(i) <= Some(dst));
        idx.get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.logons.get(i as usize))
    }
}
