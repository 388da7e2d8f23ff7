//! The query indices of [`Profiles`], rebuilt from the sorted tables
//! whenever they change (never serialised): inbound edge and logon orders,
//! services served, the address index and where each host's outbound edges
//! start.

use super::Profiles;
use super::order::{opt_host, order_by, packed};
use super::role::RoleThresholds;
use super::table::{HostId, ServedService, ServiceId};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// Indices rebuilt from the stored tables (never serialised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Derived {
    /// Edge positions sorted by (dst, src, service).
    pub(super) inbound: Vec<u32>,
    /// Served services, sorted by (host, service).
    pub(super) served: Vec<ServedService>,
    /// Address -> host (the smallest index when several hosts list it).
    pub(super) ip_index: FxHashMap<IpAddr, HostId>,
    /// Per host, where its outbound edges start in the edge table (one
    /// more entry than hosts: the end).
    pub(super) out_start: Vec<u32>,
    /// Logon positions sorted by (dst, user, src).
    pub(super) logons_to: Vec<u32>,
    /// Logon positions with a source, sorted by (src, user, dst).
    pub(super) logons_from: Vec<u32>,
    /// Admin-use positions sorted by (dst, src, proto).
    pub(super) admin_in: Vec<u32>,
}

impl Profiles {
    /// Rebuilds the indices from the tables, then the roles
    /// ([`Profiles::infer_roles`]) and the bytes-per-peer-per-day
    /// distributions that depend on them.
    pub(super) fn reindex(&mut self, thresholds: &RoleThresholds) {
        // Independent indexes over the sorted tables, built in parallel.
        let this = &*self;
        let ((inbound, served), ((ip_index, out_start), ((logons_to, logons_from), admin_in))) =
            rayon::join(
                || (this.inbound_order(), this.served_services()),
                || {
                    rayon::join(
                        || (this.address_index(), this.outbound_starts()),
                        || {
                            rayon::join(
                                || (this.logons_to_order(), this.logons_from_order()),
                                || this.admin_in_order(),
                            )
                        },
                    )
                },
            );
        self.derived = Derived {
            inbound,
            served,
            ip_index,
            out_start,
            logons_to,
            logons_from,
            admin_in,
        };
        self.infer_roles(thresholds);
        self.peer_day_distributions();
    }

    /// Edge indices by (dst, src, service).
    fn inbound_order(&self) -> Vec<u32> {
        order_by(
            self.edges
                .iter()
                .map(|e| packed(e.dst.0, e.src.0, u64::from(e.service.0))),
        )
    }

    /// Served services: inbound edges grouped by (dst, service).
    fn served_services(&self) -> Vec<ServedService> {
        let mut by_svc: Vec<(HostId, ServiceId, HostId, u32)> = self
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| (e.dst, e.service, e.src, i as u32))
            .collect();
        by_svc.sort_unstable();
        let mut served: Vec<ServedService> = Vec::new();
        for &(dst, svc, _src, i) in &by_svc {
            let Some(e) = self.edges.get(i as usize) else {
                continue;
            };
            let est = e.stats.established() > 0;
            match served.last_mut() {
                Some(s) if s.host == dst && s.service == svc => {
                    s.clients += 1;
                    s.established_clients += u32::from(est);
                    s.flows += u64::from(e.stats.flows);
                    s.failed += u64::from(e.stats.failed);
                }
                _ => served.push(ServedService {
                    host: dst,
                    service: svc,
                    clients: 1,
                    established_clients: u32::from(est),
                    flows: u64::from(e.stats.flows),
                    failed: u64::from(e.stats.failed),
                }),
            }
        }
        served
    }

    /// Each address's first host.
    fn address_index(&self) -> FxHashMap<IpAddr, HostId> {
        let mut ip_index: FxHashMap<IpAddr, HostId> = FxHashMap::default();
        for (i, h) in self.hosts.iter().enumerate() {
            for ip in &h.ips {
                ip_index.entry(*ip).or_insert(HostId(i as u32));
            }
        }
        ip_index
    }

    /// Where each host's outbound edges start (edges are sorted by source).
    fn outbound_starts(&self) -> Vec<u32> {
        let mut out_start = Vec::with_capacity(self.hosts.len() + 1);
        for i in 0..=self.hosts.len() as u32 {
            out_start.push(self.edges.partition_point(|e| e.src.0 < i) as u32);
        }
        out_start
    }

    /// Logon indices by (dst, user, src).
    fn logons_to_order(&self) -> Vec<u32> {
        order_by(
            self.logons
                .iter()
                .map(|l| packed(l.dst.0, l.user.0, opt_host(l.src))),
        )
    }

    /// Indices of logons with a source, by (src, user, dst).
    fn logons_from_order(&self) -> Vec<u32> {
        // `None` sources sort first, then go.
        let mut from = order_by(self.logons.iter().map(|l| {
            (u128::from(opt_host(l.src)) << 64) | (u128::from(l.user.0) << 32) | u128::from(l.dst.0)
        }));
        from.retain(|&i| self.logons.get(i as usize).is_some_and(|l| l.src.is_some()));
        from
    }

    /// Admin-use indices by (dst, src, protocol).
    fn admin_in_order(&self) -> Vec<u32> {
        order_by(
            self.admin
                .iter()
                .map(|a| packed(a.dst.0, a.src.0, a.proto as u64)),
        )
    }
}
