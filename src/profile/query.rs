//! Queries on [`Profiles`] by host key, user name and service: the
//! questions detectors ask of the finished tables (see the table in
//! [`crate::profile`]), and the answers' types, which borrow from the
//! profiles with their ids resolved to keys and names.

use super::Profiles;
use super::build;
use super::edge::EdgeStats;
use super::host::HostProfile;
use super::logon::{LogonStats, LogonTypes, Methods};
use super::table::{AdminUse, Edge, HostId, Logon, ServedService, ServiceId, UserId, UserInfo};
use crate::hosts::HostKey;
use crate::model::event::{Timestamp, Transport};
use crate::model::{AdminService, Role, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A service a host used as a client, summed over the servers it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedService<'a> {
    /// The service.
    pub service: &'a Service,
    /// Distinct servers.
    pub servers: u32,
    /// Flows.
    pub flows: u64,
}

/// An edge with its hosts and service resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeRef<'a> {
    /// Originator.
    pub src: &'a HostKey,
    /// Responder.
    pub dst: &'a HostKey,
    /// Service.
    pub service: &'a Service,
    /// Counters.
    pub stats: &'a EdgeStats,
}

/// A remote-admin relationship between two hosts, from flows and events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminPeer<'a> {
    /// The other host.
    pub peer: &'a HostKey,
    /// The protocol.
    pub proto: AdminService,
    /// First flow or event.
    pub first: Timestamp,
    /// Last flow or event.
    pub last: Timestamp,
    /// Established flows on admin services.
    pub flows: u64,
    /// Log events showing the protocol in use.
    pub events: u64,
}

/// A logon triple with its names resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogonRef<'a> {
    /// The account (lowercase).
    pub user: &'a str,
    /// Where it came from, when known.
    pub src: Option<&'a HostKey>,
    /// Where it logged on.
    pub dst: &'a HostKey,
    /// Counters.
    pub stats: &'a LogonStats,
}

/// Everything known about one user's logons to one host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserOnHost<'a> {
    /// Successful logons (over all sources).
    pub successes: u64,
    /// Failed logons.
    pub failures: u64,
    /// Privileged sessions.
    pub privileged: u64,
    /// Sources the user came from (`None`: local or unknown), ascending.
    pub sources: Vec<Option<&'a HostKey>>,
    /// Methods seen.
    pub methods: Methods,
    /// Logon types seen.
    pub types: LogonTypes,
    /// First record.
    pub first: Option<Timestamp>,
    /// Last record.
    pub last: Option<Timestamp>,
}

/// A user's first and last appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSeen<'a> {
    /// The account (lowercase).
    pub name: &'a str,
    /// Domains seen with it.
    pub domains: &'a [String],
    /// First logon record.
    pub first: Timestamp,
    /// Last logon record.
    pub last: Timestamp,
}

impl Profiles {
    // ----- lookups -----

    /// Every host, sorted by key.
    pub fn hosts(&self) -> &[HostProfile] {
        &self.hosts
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// True when no host was seen.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Number of distinct (originator, responder, service) edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Number of distinct (user, source, target) logon triples.
    pub fn logon_count(&self) -> usize {
        self.logons.len()
    }

    /// The services table, sorted.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The users table, sorted by name.
    pub fn users(&self) -> &[UserInfo] {
        &self.users
    }

    /// The index of a host.
    pub fn host_id(&self, key: &HostKey) -> Option<HostId> {
        self.hosts
            .binary_search_by(|h| h.key.cmp(key))
            .ok()
            .map(|i| HostId(i as u32))
    }

    /// The host at an index.
    pub fn host_at(&self, id: HostId) -> Option<&HostProfile> {
        self.hosts.get(id.0 as usize)
    }

    /// A host's profile by key.
    pub fn host(&self, key: &HostKey) -> Option<&HostProfile> {
        self.host_id(key).and_then(|id| self.host_at(id))
    }

    /// The host that used an address (as resolved when the profiles were
    /// built), or the host keyed by the bare address.
    pub fn host_by_ip(&self, ip: IpAddr) -> Option<&HostProfile> {
        self.host_id_by_ip(ip).and_then(|id| self.host_at(id))
    }

    /// A host by any spelling of its name (short, FQDN, `NAME$`,
    /// `DOMAIN\NAME`) or by an IP literal.
    pub fn host_by_name(&self, raw: &str) -> Option<&HostProfile> {
        let key = HostKey::from_name(raw)?;
        if let Some(ip) = key.ip() {
            return self.host_by_ip(ip);
        }
        self.host(&key)
    }

    /// A host's role (given or inferred); `Unknown` for a host never seen.
    pub fn role(&self, key: &HostKey) -> Role {
        self.host(key).map_or(Role::Unknown, HostProfile::role)
    }

    fn service_id(&self, s: &Service) -> Option<ServiceId> {
        self.services
            .binary_search(s)
            .ok()
            .map(|i| ServiceId(i as u32))
    }

    fn key(&self, id: HostId) -> Option<&HostKey> {
        self.host_at(id).map(|h| &h.key)
    }

    fn edge_ref<'a>(&'a self, e: &'a Edge) -> Option<EdgeRef<'a>> {
        Some(EdgeRef {
            src: self.key(e.src)?,
            dst: self.key(e.dst)?,
            service: self.services.get(e.service.0 as usize)?,
            stats: &e.stats,
        })
    }

    // ----- edges -----

    /// The stats of `src` -> `dst` on exactly `service`, if ever seen.
    pub fn edge(&self, src: &HostKey, dst: &HostKey, service: &Service) -> Option<&EdgeStats> {
        let k = (
            self.host_id(src)?,
            self.host_id(dst)?,
            self.service_id(service)?,
        );
        self.edges
            .binary_search_by(|e| (e.src, e.dst, e.service).cmp(&k))
            .ok()
            .and_then(|i| self.edges.get(i))
            .map(|e| &e.stats)
    }

    /// `src` -> `dst` edges on a transport and port, whatever the service
    /// name (captures and Zeek may name one port differently).
    pub fn edges_on_port(
        &self,
        src: &HostKey,
        dst: &HostKey,
        proto: Transport,
        port: u16,
    ) -> Vec<EdgeRef<'_>> {
        let Some(d) = self.host_id(dst) else {
            return Vec::new();
        };
        self.outbound_edges(src)
            .iter()
            .filter(|e| e.dst == d)
            .filter(|e| {
                self.services
                    .get(e.service.0 as usize)
                    .is_some_and(|s| s.same_port(proto, port))
            })
            .filter_map(|e| self.edge_ref(e))
            .collect()
    }

    fn outbound_edges(&self, src: &HostKey) -> &[Edge] {
        match self.host_id(src) {
            Some(s) => self.edges_from(s),
            None => &[],
        }
    }

    fn inbound_positions(&self, dst: &HostKey) -> &[u32] {
        let Some(d) = self.host_id(dst) else {
            return &[];
        };
        let dst_of = |i: &u32| self.edges.get(*i as usize).map(|e| e.dst);
        let inb = &self.derived.inbound;
        let lo = inb.partition_point(|i| dst_of(i) < Some(d));
        let hi = inb.partition_point(|i| dst_of(i) <= Some(d));
        inb.get(lo..hi).unwrap_or(&[])
    }

    /// Every edge `host` originated, by (responder, service).
    pub fn outbound(&self, host: &HostKey) -> Vec<EdgeRef<'_>> {
        self.outbound_edges(host)
            .iter()
            .filter_map(|e| self.edge_ref(e))
            .collect()
    }

    /// Every edge `host` answered, by (originator, service).
    pub fn inbound(&self, host: &HostKey) -> Vec<EdgeRef<'_>> {
        self.inbound_positions(host)
            .iter()
            .filter_map(|&i| self.edges.get(i as usize))
            .filter_map(|e| self.edge_ref(e))
            .collect()
    }

    /// Distinct hosts `host` originated flows to, ascending.
    pub fn peers_out(&self, host: &HostKey) -> Vec<&HostKey> {
        let mut v: Vec<&HostKey> = self.outbound(host).iter().map(|e| e.dst).collect();
        v.dedup();
        v
    }

    /// Distinct hosts that originated flows to `host`, ascending.
    pub fn peers_in(&self, host: &HostKey) -> Vec<&HostKey> {
        let mut v: Vec<&HostKey> = self.inbound(host).iter().map(|e| e.src).collect();
        v.dedup();
        v
    }

    // ----- services -----

    /// Every service `host` answered, with client counts, by service.
    pub fn services_offered(&self, host: &HostKey) -> &[ServedService] {
        let Some(h) = self.host_id(host) else {
            return &[];
        };
        let s = &self.derived.served;
        let lo = s.partition_point(|x| x.host < h);
        let hi = s.partition_point(|x| x.host <= h);
        s.get(lo..hi).unwrap_or(&[])
    }

    /// Whether `host` answered exactly `service`, and to how many clients.
    pub fn served(&self, host: &HostKey, service: &Service) -> Option<&ServedService> {
        let id = self.service_id(service)?;
        self.services_offered(host).iter().find(|s| s.service == id)
    }

    /// Whether `host` answered a transport/port under any service name:
    /// (distinct clients, distinct clients with an established flow, flows).
    /// `None` when it never did.
    pub fn served_port(
        &self,
        host: &HostKey,
        proto: Transport,
        port: u16,
    ) -> Option<(u32, u32, u64)> {
        let mut clients: BTreeMap<HostId, bool> = BTreeMap::new();
        let mut flows = 0u64;
        for &i in self.inbound_positions(host) {
            let Some(e) = self.edges.get(i as usize) else {
                continue;
            };
            if self
                .services
                .get(e.service.0 as usize)
                .is_some_and(|s| s.same_port(proto, port))
            {
                *clients.entry(e.src).or_insert(false) |= e.stats.established() > 0;
                flows += u64::from(e.stats.flows);
            }
        }
        if clients.is_empty() {
            return None;
        }
        let est = clients.values().filter(|v| **v).count() as u32;
        Some((clients.len() as u32, est, flows))
    }

    /// How many distinct clients of each role used `service` on `host`.
    pub fn client_roles(&self, host: &HostKey, service: &Service) -> BTreeMap<Role, u32> {
        let mut out = BTreeMap::new();
        let Some(id) = self.service_id(service) else {
            return out;
        };
        for &i in self.inbound_positions(host) {
            if let Some(e) = self.edges.get(i as usize).filter(|e| e.service == id)
                && let Some(h) = self.host_at(e.src)
            {
                *out.entry(h.role).or_insert(0) += 1;
            }
        }
        out
    }

    /// Services `host` used as a client: distinct servers and flows, by service.
    pub fn services_used(&self, host: &HostKey) -> Vec<UsedService<'_>> {
        let mut by: BTreeMap<ServiceId, (BTreeSet<HostId>, u64)> = BTreeMap::new();
        for e in self.outbound_edges(host) {
            let slot = by.entry(e.service).or_default();
            slot.0.insert(e.dst);
            slot.1 += u64::from(e.stats.flows);
        }
        by.into_iter()
            .filter_map(|(s, (servers, flows))| {
                Some(UsedService {
                    service: self.services.get(s.0 as usize)?,
                    servers: servers.len() as u32,
                    flows,
                })
            })
            .collect()
    }

    // ----- remote administration -----

    fn admin_peers_dir(&self, host: &HostKey, outbound: bool) -> Vec<AdminPeer<'_>> {
        let mut by: BTreeMap<(HostId, AdminService), (Timestamp, Timestamp, u64, u64)> =
            BTreeMap::new();
        let mut add =
            |peer: HostId, p: AdminService, first: Timestamp, last: Timestamp, f: u64, ev: u64| {
                let slot = by.entry((peer, p)).or_insert((first, last, 0, 0));
                slot.0 = slot.0.min(first);
                slot.1 = slot.1.max(last);
                slot.2 += f;
                slot.3 += ev;
            };
        let edges: Vec<&Edge> = if outbound {
            self.outbound_edges(host).iter().collect()
        } else {
            self.inbound_positions(host)
                .iter()
                .filter_map(|&i| self.edges.get(i as usize))
                .collect()
        };
        for e in edges {
            if e.stats.established() == 0 || e.src == e.dst {
                continue;
            }
            if let Some(p) = self
                .services
                .get(e.service.0 as usize)
                .and_then(Service::admin_service)
            {
                let peer = if outbound { e.dst } else { e.src };
                add(
                    peer,
                    p,
                    e.stats.first,
                    e.stats.last,
                    u64::from(e.stats.established()),
                    0,
                );
            }
        }
        if let Some(h) = self.host_id(host) {
            let uses: Vec<&AdminUse> = if outbound {
                let lo = self.admin.partition_point(|a| a.src < h);
                let hi = self.admin.partition_point(|a| a.src <= h);
                self.admin.get(lo..hi).unwrap_or(&[]).iter().collect()
            } else {
                let dst_of = |i: &u32| self.admin.get(*i as usize).map(|a| a.dst);
                let idx = &self.derived.admin_in;
                let lo = idx.partition_point(|i| dst_of(i) < Some(h));
                let hi = idx.partition_point(|i| dst_of(i) <= Some(h));
                idx.get(lo..hi)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|&i| self.admin.get(i as usize))
                    .collect()
            };
            for a in uses {
                let peer = if outbound { a.dst } else { a.src };
                add(
                    peer,
                    a.proto,
                    a.stats.first,
                    a.stats.last,
                    0,
                    u64::from(a.stats.events),
                );
            }
        }
        by.into_iter()
            .filter_map(|((peer, proto), (first, last, flows, events))| {
                Some(AdminPeer {
                    peer: self.key(peer)?,
                    proto,
                    first,
                    last,
                    flows,
                    events,
                })
            })
            .collect()
    }

    /// Hosts `host` administered over remote-admin protocols (established
    /// flows on admin services, and admin log events), by (peer, protocol).
    pub fn admin_peers(&self, host: &HostKey) -> Vec<AdminPeer<'_>> {
        self.admin_peers_dir(host, true)
    }

    /// Hosts that administered `host`, by (peer, protocol).
    pub fn admin_sources(&self, host: &HostKey) -> Vec<AdminPeer<'_>> {
        self.admin_peers_dir(host, false)
    }

    /// Hosts of role `role` that ever used `proto` to any other host
    /// (established flow or admin log event), ascending. Scans every edge:
    /// call it once per run and keep the answer, not once per event.
    pub fn hosts_with_role_using(&self, role: Role, proto: AdminService) -> Vec<&HostKey> {
        let mut ids: BTreeSet<HostId> = BTreeSet::new();
        for e in &self.edges {
            if e.stats.established() > 0
                && e.src != e.dst
                && self
                    .services
                    .get(e.service.0 as usize)
                    .and_then(Service::admin_service)
                    == Some(proto)
            {
                ids.insert(e.src);
            }
        }
        for a in &self.admin {
            if a.proto == proto {
                ids.insert(a.src);
            }
        }
        ids.into_iter()
            .filter_map(|id| self.host_at(id))
            .filter(|h| h.role == role)
            .map(|h| &h.key)
            .collect()
    }

    // ----- logons -----

    fn user_id(&self, user: &str) -> Option<UserId> {
        let (n, _) = build::user_key(user);
        self.users
            .binary_search_by(|u| u.name.cmp(&n))
            .ok()
            .map(|i| UserId(i as u32))
    }

    fn logon_ref<'a>(&'a self, l: &'a Logon) -> Option<LogonRef<'a>> {
        Some(LogonRef {
            user: &self.users.get(l.user.0 as usize)?.name,
            src: match l.src {
                Some(s) => Some(self.key(s)?),
                None => None,
            },
            dst: self.key(l.dst)?,
            stats: &l.stats,
        })
    }

    /// What is known about `user` (any case) logging on to `host`: counts,
    /// sources, methods, types, privilege. All zero/empty when never seen.
    pub fn user_on_host(&self, user: &str, host: &HostKey) -> UserOnHost<'_> {
        let mut out = UserOnHost::default();
        let (Some(u), Some(h)) = (self.user_id(user), self.host_id(host)) else {
            return out;
        };
        let lo = self.logons.partition_point(|l| (l.user, l.dst) < (u, h));
        let hi = self.logons.partition_point(|l| (l.user, l.dst) <= (u, h));
        for l in self.logons.get(lo..hi).unwrap_or(&[]) {
            let s = &l.stats;
            out.successes += u64::from(s.successes);
            out.failures += u64::from(s.failures);
            out.privileged += u64::from(s.privileged);
            out.methods = out.methods.union(s.methods);
            out.types = LogonTypes(out.types.0 | s.types.0);
            out.first = Some(out.first.map_or(s.first, |f| f.min(s.first)));
            out.last = Some(out.last.map_or(s.last, |f| f.max(s.last)));
            if s.successes > 0 || s.failures > 0 {
                out.sources.push(l.src.and_then(|id| self.key(id)));
            }
        }
        out
    }

    /// True when `user` ever logged on to `host` successfully.
    pub fn ever_logged_on(&self, user: &str, host: &HostKey) -> bool {
        self.user_on_host(user, host).successes > 0
    }

    /// True when `user` ever had a privileged session on `host`.
    pub fn ever_privileged(&self, user: &str, host: &HostKey) -> bool {
        self.user_on_host(user, host).privileged > 0
    }

    /// Logon triples whose target is `host`, by (user, source).
    pub fn logons_to(&self, host: &HostKey) -> Vec<LogonRef<'_>> {
        let Some(h) = self.host_id(host) else {
            return Vec::new();
        };
        let dst_of = |i: &u32| self.logons.get(*i as usize).map(|l| l.dst);
        let idx = &self.derived.logons_to;
        let lo = idx.partition_point(|i| dst_of(i) < Some(h));
        let hi = idx.partition_point(|i| dst_of(i) <= Some(h));
        idx.get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.logons.get(i as usize))
            .filter_map(|l| self.logon_ref(l))
            .collect()
    }

    /// Logon triples whose source is `host`, by (user, target).
    pub fn logons_from(&self, host: &HostKey) -> Vec<LogonRef<'_>> {
        let Some(h) = self.host_id(host) else {
            return Vec::new();
        };
        let src_of = |i: &u32| self.logons.get(*i as usize).and_then(|l| l.src);
        let idx = &self.derived.logons_from;
        let lo = idx.partition_point(|i| src_of(i) < Some(h));
        let hi = idx.partition_point(|i| src_of(i) <= Some(h));
        idx.get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.logons.get(i as usize))
            .filter_map(|l| self.logon_ref(l))
            .collect()
    }

    /// The stored record of an account (name compared as [`build::user_key`] gives it).
    pub fn user_info(&self, user: &str) -> Option<&UserInfo> {
        self.users.get(self.user_id(user)?.0 as usize)
    }

    /// A user's domains and first/last logon record; `None` when never seen.
    pub fn user(&self, user: &str) -> Option<UserSeen<'_>> {
        let u = self.user_id(user)?;
        let info = self.users.get(u.0 as usize)?;
        let lo = self.logons.partition_point(|l| l.user < u);
        let hi = self.logons.partition_point(|l| l.user <= u);
        let recs = self.logons.get(lo..hi).unwrap_or(&[]);
        Some(UserSeen {
            name: &info.name,
            domains: &info.domains,
            first: recs.iter().map(|l| l.stats.first).min()?,
            last: recs.iter().map(|l| l.stats.last).max()?,
        })
    }

    // ----- distributions -----

    /// Quantile `q` of payload bytes `host` sent per flow it originated.
    pub fn bytes_out_quantile(&self, host: &HostKey, q: f64) -> Option<u64> {
        self.host(host)?.bytes_out_per_flow.quantile(q)
    }

    /// Quantile `q` of payload bytes `host` sent to one peer in one day.
    pub fn bytes_out_per_peer_day_quantile(&self, host: &HostKey, q: f64) -> Option<u64> {
        self.host(host)?.bytes_out_per_peer_day.quantile(q)
    }

    /// The median number of flows `host` took part in per active hour.
    pub fn typical_flows_per_hour(&self, host: &HostKey) -> Option<u64> {
        self.host(host)?.flows_per_hour.quantile(0.5)
    }
}
