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

use super::{AdminUse, Edge, EdgeHours, HostId, Logon, Profiles, ServiceId, UserId, UserInfo};
use crate::hosts::HostKey;
use crate::model::Service;
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

    /// The hours of the remote-admin edges from `src` to `dst`, by service.
    pub fn edge_hours_between(&self, src: HostId, dst: HostId) -> &[EdgeHours] {
        let k = (src, dst);
        let lo = self.edge_hours.partition_point(|h| (h.src, h.dst) < k);
        let hi = self.edge_hours.partition_point(|h| (h.src, h.dst) <= k);
        self.edge_hours.get(lo..hi).unwrap_or(&[])
    }

    /// Every stored edge-hours record, by (src, dst, service).
    pub fn edge_hours(&self) -> &[EdgeHours] {
        &self.edge_hours
    }

    /// The user an account name (any spelling [`super::build::user_key`]
    /// takes) stands for; a name already in key form is looked up without
    /// allocating.
    pub fn user_named(&self, name: &str) -> Option<&UserInfo> {
        let find = |n: &str| {
            self.users
                .binary_search_by(|u| u.name.as_str().cmp(n))
                .ok()
                .and_then(|i| self.users.get(i))
        };
        if super::build::is_plain_user_key(name) {
            find(name)
        } else {
            find(&super::build::user_key(name).0)
        }
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

#[cfg(test)]
mod tests {
    use crate::hosts::HostDirectory;
    use crate::profile::{HostId, ProfileBuilder, Profiles};
    use crate::synth::load::LoadSpec;
    use std::net::IpAddr;
    use std::sync::Arc;

    fn profiles() -> Profiles {
        let spec = LoadSpec {
            hosts: 40,
            edges: 600,
            flows: 3_000,
            events: 800,
            days: 2,
            seed: 7,
        };
        let mut b = ProfileBuilder::new(Arc::new(HostDirectory::new()));
        for i in 0..spec.flows {
            b.add_flow(&spec.flow(i));
        }
        for i in 0..spec.events {
            b.add_event(&spec.event(i));
        }
        b.finish()
    }

    #[test]
    fn index_queries_answer_as_the_key_queries() {
        let p = profiles();
        assert!(p.len() >= 40 && p.edge_count() > 500 && p.logon_count() > 100);
        let mut admin_seen = 0;
        for (i, h) in p.hosts().iter().enumerate() {
            let id = HostId(i as u32);
            assert_eq!(p.host_id(&h.key), Some(id));
            for ip in &h.ips {
                assert_eq!(p.host_id_by_ip(*ip), Some(id));
            }
            let key_of = |x: HostId| p.host_at(x).map(|h| &h.key);
            let out: Vec<_> = p
                .edges_from(id)
                .iter()
                .map(|e| (key_of(e.dst), p.service_at(e.service), e.stats))
                .collect();
            let want: Vec<_> = p
                .outbound(&h.key)
                .iter()
                .map(|e| (Some(e.dst), Some(e.service), *e.stats))
                .collect();
            assert_eq!(out, want);
            let inb: Vec<_> = p.edges_into(id).map(|e| (key_of(e.src), e.stats)).collect();
            let want: Vec<_> = p
                .inbound(&h.key)
                .iter()
                .map(|e| (Some(e.src), *e.stats))
                .collect();
            assert_eq!(inb, want);
            for e in p.edges_from(id) {
                let between = p.edges_between(id, e.dst);
                assert!(between.iter().all(|b| b.src == id && b.dst == e.dst));
                let n = p.edges_from(id).iter().filter(|x| x.dst == e.dst).count();
                assert_eq!(between.len(), n);
            }
            for peer in p.admin_peers(&h.key).iter().filter(|a| a.events > 0) {
                let Some(d) = p.host_id(peer.peer) else {
                    panic!("admin peer outside the profiles")
                };
                let uses = p.admin_between(id, d);
                assert!(!uses.is_empty());
                assert!(p.admin_from(id).iter().any(|a| a.dst == d));
                admin_seen += 1;
            }
            let logons: Vec<_> = p
                .logons_into(id)
                .map(|l| (p.user_at(l.user).map(|u| u.name.as_str()), l.stats))
                .collect();
            let want: Vec<_> = p
                .logons_to(&h.key)
                .iter()
                .map(|l| (Some(l.user), *l.stats))
                .collect();
            assert_eq!(logons, want);
        }
        assert!(admin_seen > 0, "the load has remote-desktop logons");
        let unseen: IpAddr = "192.0.2.200".parse().unwrap();
        assert_eq!(p.host_id_by_ip(unseen), None);
        assert!(p.edges_from(HostId(u32::MAX)).is_empty());
        assert!(p.edges_between(HostId(u32::MAX), HostId(0)).is_empty());
    }
}
