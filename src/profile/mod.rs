//! Per-host behaviour profiles: what each host normally does.
//!
//! Sits after the sources and the host directory and before the detectors
//! and the baseline: flows ([`crate::event::Flow`]) and log events
//! ([`crate::event::LogEvent`]) go into a [`ProfileBuilder`] (or
//! [`build_parallel`]), and the finished [`Profiles`] answer the questions
//! detectors ask ("has this host ever talked to that one on SMB?", "has
//! this user ever logged on here?"). Profiles are serde-serialisable (the
//! baseline file stores them), mergeable ([`Profiles::merge`], for folding a
//! night into the baseline) and can forget what has not been seen lately
//! ([`Profiles::age_out`]).
//!
//! What is kept, per host identity ([`crate::hosts::HostKey`]):
//! - identity and role: [`HostProfile`] (IPs, names, first/last seen,
//!   [`Role`] given or inferred from [`RoleSignals`]);
//! - edges: per (originator, responder, [`Service`]) an [`EdgeStats`]
//!   (first/last, days active, flows, failed attempts, bytes each way);
//! - services offered ([`ServedService`]) and used ([`UsedService`]),
//!   with remote-admin protocols ([`AdminService`]) from flows and from log
//!   events ([`AdminUse`]);
//! - logons: per (user, source host, target host) a [`LogonStats`];
//! - habits ([`WeekHours`], 168 bits and a count): per account the hours
//!   of the week of its successful network logons
//!   ([`UserInfo::logon_hours`]), per edge on a remote-admin service the
//!   hours of its flows ([`EdgeHours`], [`Profiles::edge_hours_between`]);
//! - distributions ([`Distribution`], hdrhistogram buckets): bytes per flow
//!   each way, flow duration, flows and distinct peers per hour, bytes per
//!   peer per day; activity by hour of the week.
//!
//! Log events recorded as logons: `logged-in`, `logon-failed`,
//! `invalid-user` (user from source to the writing host); 4648
//! `explicit-credential-logon` (from the writing host to
//! `destination.domain`); successful 4769 `kerberos-service-ticket` for a
//! computer account (`service.name` ending `$`: from the client to that
//! computer, method Kerberos). Privileged: 4672 and sudo to root, recorded
//! on (user, no source, writing host). Kerberos events also count as KDC
//! evidence for the writing host.
//!
//! Queries for detectors (all on [`Profiles`]; hosts by [`HostKey`], which
//! [`crate::hosts::HostDirectory::key_for_ip`] / `key_for_name` give):
//!
//! | question | method | cost |
//! |---|---|---|
//! | profile by key, IP, any spelling of a name | [`Profiles::host`], [`Profiles::host_by_ip`], [`Profiles::host_by_name`] | O(log hosts) |
//! | role | [`Profiles::role`] | O(log hosts) |
//! | stats of (src, dst, service), if ever seen | [`Profiles::edge`], [`Profiles::edges_on_port`] | O(log edges) / O(src degree) |
//! | peers and edges of a host | [`Profiles::outbound`], [`Profiles::inbound`], [`Profiles::peers_out`], [`Profiles::peers_in`] | O(degree) |
//! | does dst serve a service, to how many clients | [`Profiles::served`], [`Profiles::served_port`], [`Profiles::services_offered`] | O(services of dst) / O(in-degree) |
//! | roles of a service's clients | [`Profiles::client_roles`] | O(in-degree) |
//! | services a host used | [`Profiles::services_used`] | O(out-degree) |
//! | remote-admin peers | [`Profiles::admin_peers`], [`Profiles::admin_sources`] | O(degree) |
//! | hosts of role R that used admin protocol P | [`Profiles::hosts_with_role_using`] | O(edges): once per run |
//! | user on host: ever, from where, how, privileged | [`Profiles::user_on_host`], [`Profiles::ever_logged_on`], [`Profiles::ever_privileged`] | O(log logons) |
//! | logons to / from a host; a user's first/last | [`Profiles::logons_to`], [`Profiles::logons_from`], [`Profiles::user`] | O(degree) |
//! | the same by table index, for callers that resolve a host once ([`HostId`]) | [`Profiles::host_id_by_ip`], [`Profiles::edges_between`], [`Profiles::edges_into`], [`Profiles::admin_between`], [`Profiles::logons_into`] (`by_id.rs`) | O(1) / O(log degree) |
//! | typical volumes | [`Profiles::bytes_out_quantile`], [`Profiles::bytes_out_per_peer_day_quantile`], [`Profiles::typical_flows_per_hour`], the [`HostProfile`] distributions | O(buckets) |
//!
//! Users are keyed by lowercase `user.name` without a `DOMAIN\` prefix or
//! `@domain` suffix (domains seen are kept per user), so an account
//! matches across Windows (`pgustavo`, `pgustavo@THESHIRE.LOCAL`) and
//! Linux logs.

pub mod build;
mod by_id;
pub mod edge;
pub mod exec;
pub mod histo;
pub mod host;
pub mod load;
pub mod logon;
mod order;
mod parts;
mod pending;
pub mod role;

pub mod week;

pub use build::{
    AdminStats, ProfileBuilder, build_parallel, build_parallel_with, profiles_from_run,
};
pub use edge::EdgeStats;
pub use histo::Distribution;
pub use host::HostProfile;
pub use logon::{LogonStats, LogonTypes, Methods};
pub use role::{RoleSignals, RoleThresholds};

pub use week::WeekHours;

use crate::event::{Duration, Timestamp, Transport};
use crate::hosts::HostKey;
use crate::model::{AdminService, Role, Service};
use order::{order_by, sort_merging};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Index of a host in [`Profiles::hosts`] (hosts are sorted by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostId(pub u32);

/// Index of a service in the profiles' service table (sorted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceId(pub u32);

/// Index of a user in the profiles' user table (sorted by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub u32);

/// A user account as profiles key it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserInfo {
    /// Lowercase `user.name`.
    pub name: String,
    /// Lowercase `user.domain` values seen with it, ascending.
    pub domains: Vec<String>,
    /// When it logged on over the network successfully (Windows logon
    /// types 3, 8 and 10, or a daemon's logon from a remote address: what
    /// [`logon::is_network_logon`] tells), to any host.
    pub logon_hours: WeekHours,
    /// Most distinct hosts it logged on to over the network successfully
    /// in one UTC hour.
    pub peak_hosts_per_hour: u32,
}

/// When one stored edge on a remote-admin service ([`Service::admin_service`])
/// was used: the hours of the week of its flows, answered or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeHours {
    /// Originator.
    pub src: HostId,
    /// Responder.
    pub dst: HostId,
    /// The responder's service.
    pub service: ServiceId,
    /// Hours of the week of its flows, and how many flows.
    pub hours: WeekHours,
}

/// One stored edge: `src` originated flows to `dst` on `service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Originator.
    pub src: HostId,
    /// Responder.
    pub dst: HostId,
    /// The responder's service.
    pub service: ServiceId,
    /// Counters.
    pub stats: EdgeStats,
}

/// Log-event evidence that `src` used a remote-admin protocol on `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUse {
    /// The administering host.
    pub src: HostId,
    /// The administered host (the one that wrote the events).
    pub dst: HostId,
    /// Which protocol.
    pub proto: AdminService,
    /// Counters.
    pub stats: AdminStats,
}

/// One stored logon triple: `user` authenticated from `src` (when known) to `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logon {
    /// The account.
    pub user: UserId,
    /// The host the logon came from; `None` for local logons and for
    /// privileged-session records.
    pub src: Option<HostId>,
    /// The host logged on to.
    pub dst: HostId,
    /// Counters.
    pub stats: LogonStats,
}

/// A service a host answered, summed over its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedService {
    /// The responder.
    pub host: HostId,
    /// The service.
    pub service: ServiceId,
    /// Distinct clients (any flow).
    pub clients: u32,
    /// Distinct clients with at least one established (not failed) flow.
    pub established_clients: u32,
    /// Flows.
    pub flows: u64,
    /// Failed attempts.
    pub failed: u64,
}

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

/// Indices rebuilt from the stored tables (never serialised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Derived {
    /// Edge positions sorted by (dst, src, service).
    inbound: Vec<u32>,
    /// Served services, sorted by (host, service).
    served: Vec<ServedService>,
    /// Address -> host (the smallest index when several hosts list it).
    ip_index: FxHashMap<IpAddr, HostId>,
    /// Per host, where its outbound edges start in the edge table (one
    /// more entry than hosts: the end).
    out_start: Vec<u32>,
    /// Logon positions sorted by (dst, user, src).
    logons_to: Vec<u32>,
    /// Logon positions with a source, sorted by (src, user, dst).
    logons_from: Vec<u32>,
    /// Admin-use positions sorted by (dst, src, proto).
    admin_in: Vec<u32>,
}

/// The stored form of [`Profiles`]: the tables, without derived indices.
#[derive(Debug, Deserialize)]
struct StoredProfiles {
    hosts: Vec<HostProfile>,
    services: Vec<Service>,
    users: Vec<UserInfo>,
    edges: Vec<Edge>,
    admin: Vec<AdminUse>,
    logons: Vec<Logon>,
    edge_hours: Vec<EdgeHours>,
}

impl From<StoredProfiles> for Profiles {
    fn from(s: StoredProfiles) -> Profiles {
        Profiles::from_parts(
            s.hosts,
            s.services,
            s.users,
            s.edges,
            s.admin,
            s.logons,
            &RoleThresholds::default(),
        )
        .with_edge_hours(s.edge_hours)
    }
}

/// Finished profiles of every host: sorted tables plus indices for queries.
///
/// Serialises as the tables only; deserialising validates every index
/// (records pointing outside the tables are dropped, never a panic) and
/// rebuilds the query indices. Equal inputs give equal (`==`) profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredProfiles")]
pub struct Profiles {
    hosts: Vec<HostProfile>,
    services: Vec<Service>,
    users: Vec<UserInfo>,
    edges: Vec<Edge>,
    admin: Vec<AdminUse>,
    logons: Vec<Logon>,
    /// Hours of the remote-admin edges, sorted by (src, dst, service).
    edge_hours: Vec<EdgeHours>,
    #[serde(skip_serializing)]
    derived: Derived,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles::from_parts(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            &RoleThresholds::default(),
        )
    }
}

fn is_port(s: &Service, proto: &[Transport], port: u16) -> bool {
    s.port == port && proto.contains(&s.proto)
}

/// Three ids as one sort key, ordered as the tuple `(a, b, c)` is (`c`
/// takes up to 64 bits).
fn packed(a: u32, b: u32, c: u64) -> u128 {
    (u128::from(a) << 96) | (u128::from(b) << 64) | u128::from(c)
}

/// An optional host id as a number that sorts as the option does (`None`
/// first).
fn opt_host(h: Option<HostId>) -> u64 {
    h.map_or(0, |h| u64::from(h.0) + 1)
}

impl Profiles {
    /// Assembles profiles from tables (any order, duplicates merged,
    /// out-of-range indices dropped) and builds the indices.
    pub(crate) fn from_parts(
        mut hosts: Vec<HostProfile>,
        services: Vec<Service>,
        users: Vec<UserInfo>,
        mut edges: Vec<Edge>,
        mut admin: Vec<AdminUse>,
        mut logons: Vec<Logon>,
        thresholds: &RoleThresholds,
    ) -> Profiles {
        let nh = hosts.len() as u64;
        let ns = services.len() as u64;
        let nu = users.len() as u64;
        let host_ok = |h: HostId| u64::from(h.0) < nh;
        edges.retain(|e| host_ok(e.src) && host_ok(e.dst) && u64::from(e.service.0) < ns);
        admin.retain(|a| host_ok(a.src) && host_ok(a.dst));
        logons.retain(|l| u64::from(l.user.0) < nu && host_ok(l.dst) && l.src.is_none_or(host_ok));
        // The three tables sort and merge duplicates independently.
        rayon::join(
            || {
                sort_merging(
                    &mut edges,
                    |e| packed(e.src.0, e.dst.0, u64::from(e.service.0)),
                    |kept, later| kept.stats.merge(&later.stats),
                )
            },
            || {
                rayon::join(
                    || {
                        sort_merging(
                            &mut admin,
                            |a| packed(a.src.0, a.dst.0, a.proto as u64),
                            |kept, later| kept.stats.merge(&later.stats),
                        )
                    },
                    || {
                        sort_merging(
                            &mut logons,
                            |l| packed(l.user.0, l.dst.0, opt_host(l.src)),
                            |kept, later| kept.stats.merge(&later.stats),
                        )
                    },
                )
            },
        );
        for h in &mut hosts {
            h.hour_of_week.resize(host::HOURS_PER_WEEK, 0);
        }
        let mut p = Profiles {
            hosts,
            services,
            users,
            edges,
            admin,
            logons,
            edge_hours: Vec::new(),
            derived: Derived::default(),
        };
        p.reindex(thresholds);
        p
    }

    /// Sets the hours of the remote-admin edges (any order; duplicates
    /// merged; records naming hosts or services outside the tables dropped).
    pub(crate) fn with_edge_hours(mut self, mut hours: Vec<EdgeHours>) -> Profiles {
        let (nh, ns) = (self.hosts.len() as u64, self.services.len() as u64);
        hours.retain(|h| {
            u64::from(h.src.0) < nh && u64::from(h.dst.0) < nh && u64::from(h.service.0) < ns
        });
        hours.sort_unstable_by_key(|h| (h.src, h.dst, h.service));
        hours.dedup_by(|later, kept| {
            if (later.src, later.dst, later.service) == (kept.src, kept.dst, kept.service) {
                kept.hours.merge(&later.hours);
                true
            } else {
                false
            }
        });
        self.edge_hours = hours;
        self
    }

    fn reindex(&mut self, thresholds: &RoleThresholds) {
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

    /// Recomputes every host's [`RoleSignals`] and role with `thresholds`
    /// (a role from the hosts file still wins). Works from the sorted edge
    /// orders, so it needs no per-host sets.
    pub fn infer_roles(&mut self, thresholds: &RoleThresholds) {
        let n = self.hosts.len();
        let mut signals = vec![RoleSignals::default(); n];
        let both = [Transport::Tcp, Transport::Udp];
        for s in &self.derived.served {
            let (Some(sig), Some(svc)) = (
                signals.get_mut(s.host.0 as usize),
                self.services.get(s.service.0 as usize),
            ) else {
                continue;
            };
            if s.established_clients > 0 {
                sig.services_answered += 1;
            }
            if is_port(svc, &both, 88) {
                sig.kerberos_clients += s.established_clients;
            }
            if is_port(svc, &both, 389) {
                sig.ldap_clients += s.established_clients;
            }
        }
        let is_admin: Vec<bool> = self
            .services
            .iter()
            .map(|s| s.admin_service().is_some())
            .collect();
        let is_interactive: Vec<bool> = self
            .services
            .iter()
            .map(|s| {
                s.admin_service()
                    .is_some_and(|p| !matches!(p, AdminService::Smb | AdminService::Rpc))
            })
            .collect();
        // Outbound, in (src, dst, service) order: distinct dsts are consecutive.
        let mut admin_uses = self.admin.iter().peekable();
        let mut start = 0;
        while let Some(first) = self.edges.get(start) {
            let src = first.src;
            let end = start
                + self
                    .edges
                    .get(start..)
                    .map_or(0, |r| r.partition_point(|e| e.src == src))
                    .max(1);
            let group = self.edges.get(start..end).unwrap_or(&[]);
            let mut administered: Vec<HostId> = Vec::new();
            let mut interactive = 0u32;
            let mut last_interactive_dst = None;
            let mut failed_dsts = 0u32;
            let mut last_failed_dst = None;
            let Some(sig) = signals.get_mut(src.0 as usize) else {
                start = end;
                continue;
            };
            for e in group {
                sig.out_edges += 1;
                sig.flows_out += u64::from(e.stats.flows);
                if e.stats.failed > 0 {
                    sig.failed_services += 1;
                    if last_failed_dst != Some(e.dst) {
                        failed_dsts += 1;
                        last_failed_dst = Some(e.dst);
                    }
                }
                let admin = is_admin.get(e.service.0 as usize).copied().unwrap_or(false);
                if admin && e.stats.established() > 0 && e.src != e.dst {
                    administered.push(e.dst);
                    // Edges run by (dst, service): one dst's are consecutive.
                    let inter = is_interactive
                        .get(e.service.0 as usize)
                        .copied()
                        .unwrap_or(false);
                    if inter && last_interactive_dst != Some(e.dst) {
                        interactive += 1;
                        last_interactive_dst = Some(e.dst);
                    }
                }
            }
            sig.failed_hosts = failed_dsts;
            sig.interactive = interactive;
            while admin_uses.next_if(|a| a.src < src).is_some() {}
            while let Some(a) = admin_uses.next_if(|a| a.src == src) {
                administered.push(a.dst);
            }
            administered.sort_unstable();
            administered.dedup();
            sig.administered = administered.len() as u32;
            start = end;
        }
        // Hosts with admin log events but no outbound edges.
        let mut i = 0;
        while let Some(a) = self.admin.get(i) {
            let src = a.src;
            let end = i + self
                .admin
                .get(i..)
                .map_or(0, |r| r.partition_point(|x| x.src == src))
                .max(1);
            if let Some(sig) = signals.get_mut(src.0 as usize)
                && sig.out_edges == 0
            {
                let mut d: Vec<HostId> = self
                    .admin
                    .get(i..end)
                    .unwrap_or(&[])
                    .iter()
                    .map(|x| x.dst)
                    .collect();
                d.dedup();
                sig.administered = d.len() as u32;
            }
            i = end;
        }
        // Inbound, in (dst, src, service) order: distinct clients are consecutive.
        let mut last: Option<(HostId, HostId)> = None;
        for &pos in &self.derived.inbound {
            let Some(e) = self.edges.get(pos as usize) else {
                continue;
            };
            if e.stats.established() == 0 || last == Some((e.dst, e.src)) {
                continue;
            }
            last = Some((e.dst, e.src));
            if let Some(sig) = signals.get_mut(e.dst.0 as usize) {
                sig.clients += 1;
            }
        }
        for (h, sig) in self.hosts.iter_mut().zip(signals.iter_mut()) {
            sig.kdc_events = h.kdc_events;
            h.signals = *sig;
            h.role = h.given_role.unwrap_or_else(|| thresholds.infer(sig));
        }
    }

    /// Recomputes every host's bytes-per-peer-per-day distribution from the
    /// edges (see [`HostProfile::bytes_out_per_peer_day`]).
    fn peer_day_distributions(&mut self) {
        for h in &mut self.hosts {
            h.bytes_out_per_peer_day = Distribution::new();
        }
        // (host, peer, bytes sent, last, day bits) from both directions, grouped by host.
        let mut sent: Vec<(HostId, HostId, u64, Timestamp, u64)> = Vec::new();
        let flush = |sent: &mut Vec<(HostId, HostId, u64, Timestamp, u64)>,
                     hosts: &mut Vec<HostProfile>| {
            sent.sort_unstable_by_key(|x| (x.0, x.1));
            let mut k = 0;
            while let Some(&(h, peer, _, _, _)) = sent.get(k) {
                let end = k + sent
                    .get(k..)
                    .map_or(0, |r| r.partition_point(|x| x.0 == h && x.1 == peer))
                    .max(1);
                let group = sent.get(k..end).unwrap_or(&[]);
                let bytes: u64 = group.iter().fold(0u64, |a, x| a.saturating_add(x.2));
                let mut stats: Option<EdgeStats> = None;
                for x in group {
                    let one = EdgeStats {
                        first: x.3,
                        last: x.3,
                        days: x.4,
                        flows: 0,
                        failed: 0,
                        bytes_out: 0,
                        bytes_in: 0,
                    };
                    match &mut stats {
                        Some(s) => s.merge(&one),
                        None => stats = Some(one),
                    }
                }
                let days = stats.map_or(1, |s| s.days_active().max(1));
                if let Some(p) = hosts.get_mut(h.0 as usize) {
                    p.bytes_out_per_peer_day.record(bytes / u64::from(days));
                }
                k = end;
            }
            sent.clear();
        };
        // Process hosts in blocks so the temporary list stays small.
        let mut block_start = 0usize;
        let n = self.hosts.len();
        const BLOCK: usize = 4096;
        while block_start < n {
            let block_end = (block_start + BLOCK).min(n);
            let in_block = |h: HostId| (block_start..block_end).contains(&(h.0 as usize));
            let lo = self
                .edges
                .partition_point(|e| (e.src.0 as usize) < block_start);
            let hi = self
                .edges
                .partition_point(|e| (e.src.0 as usize) < block_end);
            for e in self.edges.get(lo..hi).unwrap_or(&[]) {
                if e.src != e.dst {
                    sent.push((e.src, e.dst, e.stats.bytes_out, e.stats.last, e.stats.days));
                }
            }
            let dst_of = |i: &u32| {
                self.edges
                    .get(*i as usize)
                    .map_or(usize::MAX, |e| e.dst.0 as usize)
            };
            let inb = &self.derived.inbound;
            let lo = inb.partition_point(|i| dst_of(i) < block_start);
            let hi = inb.partition_point(|i| dst_of(i) < block_end);
            for &i in inb.get(lo..hi).unwrap_or(&[]) {
                if let Some(e) = self.edges.get(i as usize)
                    && e.src != e.dst
                    && in_block(e.dst)
                {
                    sent.push((e.dst, e.src, e.stats.bytes_in, e.stats.last, e.stats.days));
                }
            }
            flush(&mut sent, &mut self.hosts);
            block_start = block_end;
        }
    }

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

    // ----- merging and ageing -----

    /// Folds other profiles in (e.g. tonight's into the baseline): hosts by
    /// key, edges by (src, dst, service), logons by (user, src, dst); every
    /// counter and distribution adds; roles are re-inferred. Per-hour and
    /// per-day distributions add, which is exact when the two cover
    /// different hours and days (a night folded into the baseline).
    pub fn merge(&mut self, other: Profiles) {
        self.merge_with(other, &RoleThresholds::default());
    }

    /// [`Profiles::merge`] with explicit role thresholds.
    pub fn merge_with(&mut self, other: Profiles, thresholds: &RoleThresholds) {
        let mine = std::mem::take(self);
        // Host union, sorted by key.
        let mut keys: BTreeMap<HostKey, u32> = BTreeMap::new();
        for h in mine.hosts.iter().chain(&other.hosts) {
            keys.entry(h.key.clone()).or_insert(0);
        }
        for (i, v) in keys.values_mut().enumerate() {
            *v = i as u32;
        }
        let mut hosts: Vec<Option<HostProfile>> = vec![None; keys.len()];
        let remap_hosts = |list: &[HostProfile]| -> Vec<u32> {
            list.iter()
                .map(|h| keys.get(&h.key).copied().unwrap_or(u32::MAX))
                .collect()
        };
        let hm_a = remap_hosts(&mine.hosts);
        let hm_b = remap_hosts(&other.hosts);
        for (list, map) in [(&mine.hosts, &hm_a), (&other.hosts, &hm_b)] {
            for (h, &to) in list.iter().zip(map) {
                if let Some(slot) = hosts.get_mut(to as usize) {
                    match slot {
                        Some(existing) => existing.merge(h),
                        None => *slot = Some(h.clone()),
                    }
                }
            }
        }
        let hosts: Vec<HostProfile> = hosts.into_iter().flatten().collect();
        let mut services: Vec<Service> = mine
            .services
            .iter()
            .chain(&other.services)
            .cloned()
            .collect();
        services.sort();
        services.dedup();
        let sm = |list: &[Service]| -> Vec<u32> {
            list.iter()
                .map(|s| services.binary_search(s).map_or(u32::MAX, |i| i as u32))
                .collect()
        };
        let sm_a = sm(&mine.services);
        let sm_b = sm(&other.services);
        let mut users: BTreeMap<String, (BTreeSet<String>, WeekHours, u32)> = BTreeMap::new();
        for u in mine.users.iter().chain(&other.users) {
            let slot = users.entry(u.name.clone()).or_default();
            slot.0.extend(u.domains.iter().cloned());
            slot.1.merge(&u.logon_hours);
            slot.2 = slot.2.max(u.peak_hosts_per_hour);
        }
        let names: Vec<String> = users.keys().cloned().collect();
        let um = |list: &[UserInfo]| -> Vec<u32> {
            list.iter()
                .map(|u| names.binary_search(&u.name).map_or(u32::MAX, |i| i as u32))
                .collect()
        };
        let um_a = um(&mine.users);
        let um_b = um(&other.users);
        let users: Vec<UserInfo> = users
            .into_iter()
            .map(|(name, (d, logon_hours, peak_hosts_per_hour))| UserInfo {
                name,
                domains: d.into_iter().collect(),
                logon_hours,
                peak_hosts_per_hour,
            })
            .collect();
        let at = |m: &[u32], i: u32| m.get(i as usize).copied().unwrap_or(u32::MAX);
        let mut edges = Vec::with_capacity(mine.edges.len() + other.edges.len());
        let mut admin = Vec::with_capacity(mine.admin.len() + other.admin.len());
        let mut logons = Vec::with_capacity(mine.logons.len() + other.logons.len());
        let mut edge_hours = Vec::with_capacity(mine.edge_hours.len() + other.edge_hours.len());
        for (p, hm, smp, ump) in [(&mine, &hm_a, &sm_a, &um_a), (&other, &hm_b, &sm_b, &um_b)] {
            for h in &p.edge_hours {
                edge_hours.push(EdgeHours {
                    src: HostId(at(hm, h.src.0)),
                    dst: HostId(at(hm, h.dst.0)),
                    service: ServiceId(at(smp, h.service.0)),
                    hours: h.hours,
                });
            }
            for e in &p.edges {
                edges.push(Edge {
                    src: HostId(at(hm, e.src.0)),
                    dst: HostId(at(hm, e.dst.0)),
                    service: ServiceId(at(smp, e.service.0)),
                    stats: e.stats,
                });
            }
            for a in &p.admin {
                admin.push(AdminUse {
                    src: HostId(at(hm, a.src.0)),
                    dst: HostId(at(hm, a.dst.0)),
                    proto: a.proto,
                    stats: a.stats,
                });
            }
            for l in &p.logons {
                logons.push(Logon {
                    user: UserId(at(ump, l.user.0)),
                    src: l.src.map(|s| HostId(at(hm, s.0))),
                    dst: HostId(at(hm, l.dst.0)),
                    stats: l.stats,
                });
            }
        }
        *self = Profiles::from_parts(hosts, services, users, edges, admin, logons, thresholds)
            .with_edge_hours(edge_hours);
    }

    /// Folds hosts into others: every `(from, to)` pair moves `from`'s
    /// counters, edges, admin uses and logons onto `to` and drops `from`
    /// (a pair naming a missing host, a host twice, or a host both ways is
    /// skipped). For a host the baseline knew by name only whose address
    /// later data reveals. Roles are re-inferred with the default
    /// thresholds.
    pub fn fold_hosts(&mut self, pairs: &[(HostKey, HostKey)]) {
        let mut into: Vec<Option<u32>> = vec![None; self.hosts.len()];
        let mut targets = BTreeSet::new();
        for (from, to) in pairs {
            let (Some(f), Some(t)) = (self.host_id(from), self.host_id(to)) else {
                continue;
            };
            if f == t
                || targets.contains(&f.0)
                || into.get(t.0 as usize).is_some_and(Option::is_some)
            {
                continue;
            }
            if let Some(slot) = into.get_mut(f.0 as usize)
                && slot.is_none()
            {
                *slot = Some(t.0);
                targets.insert(t.0);
            }
        }
        if into.iter().all(Option::is_none) {
            return;
        }
        let mine = std::mem::take(self);
        // Kept hosts stay in key order; a folded host takes its target's place.
        let mut map = vec![u32::MAX; mine.hosts.len()];
        let mut hosts: Vec<HostProfile> = Vec::with_capacity(mine.hosts.len());
        for (i, h) in mine.hosts.iter().enumerate() {
            if into.get(i).copied().flatten().is_none() {
                if let Some(m) = map.get_mut(i) {
                    *m = hosts.len() as u32;
                }
                hosts.push(h.clone());
            }
        }
        for (i, t) in into.iter().enumerate() {
            if let Some(t) = t {
                let to = map.get(*t as usize).copied().unwrap_or(u32::MAX);
                if let Some(m) = map.get_mut(i) {
                    *m = to;
                }
                if let (Some(target), Some(from)) = (hosts.get_mut(to as usize), mine.hosts.get(i))
                {
                    target.merge(from);
                }
            }
        }
        let at = |h: HostId| HostId(map.get(h.0 as usize).copied().unwrap_or(u32::MAX));
        let edges = mine
            .edges
            .iter()
            .map(|e| Edge {
                src: at(e.src),
                dst: at(e.dst),
                ..*e
            })
            .collect();
        let admin = mine
            .admin
            .iter()
            .map(|a| AdminUse {
                src: at(a.src),
                dst: at(a.dst),
                ..*a
            })
            .collect();
        let logons = mine
            .logons
            .iter()
            .map(|l| Logon {
                src: l.src.map(at),
                dst: at(l.dst),
                ..*l
            })
            .collect();
        let edge_hours = mine
            .edge_hours
            .iter()
            .map(|h| EdgeHours {
                src: at(h.src),
                dst: at(h.dst),
                ..*h
            })
            .collect();
        *self = Profiles::from_parts(
            hosts,
            mine.services,
            mine.users,
            edges,
            admin,
            logons,
            &RoleThresholds::default(),
        )
        .with_edge_hours(edge_hours);
    }

    /// Forgets what was not seen within `window_days` days before `now`:
    /// edges, admin uses and logons whose last record is older, hosts last
    /// seen before then (unless a kept record names them) and users with no
    /// kept logon. Distributions of kept hosts are not aged (they cannot be
    /// un-merged).
    pub fn age_out(&mut self, now: Timestamp, window_days: u32) {
        let window = Duration::from_secs(i64::from(window_days) * 86_400);
        let cutoff = Timestamp(now.0.saturating_sub(window.0));
        let mine = std::mem::take(self);
        let edges: Vec<Edge> = mine
            .edges
            .into_iter()
            .filter(|e| e.stats.last >= cutoff)
            .collect();
        let admin: Vec<AdminUse> = mine
            .admin
            .into_iter()
            .filter(|a| a.stats.last >= cutoff)
            .collect();
        let logons: Vec<Logon> = mine
            .logons
            .into_iter()
            .filter(|l| l.stats.last >= cutoff)
            .collect();
        // Edge hours go with their edge (kept edges stay sorted by key).
        let edge_hours: Vec<EdgeHours> = mine
            .edge_hours
            .into_iter()
            .filter(|h| {
                let k = (h.src, h.dst, h.service);
                edges
                    .binary_search_by(|e| (e.src, e.dst, e.service).cmp(&k))
                    .is_ok()
            })
            .collect();
        let mut keep = vec![false; mine.hosts.len()];
        let mut mark = |h: HostId| {
            if let Some(k) = keep.get_mut(h.0 as usize) {
                *k = true;
            }
        };
        for e in &edges {
            mark(e.src);
            mark(e.dst);
        }
        for a in &admin {
            mark(a.src);
            mark(a.dst);
        }
        for l in &logons {
            mark(l.dst);
            if let Some(s) = l.src {
                mark(s);
            }
        }
        for (i, h) in mine.hosts.iter().enumerate() {
            if h.last_seen >= cutoff
                && let Some(k) = keep.get_mut(i)
            {
                *k = true;
            }
        }
        let mut hmap = vec![u32::MAX; mine.hosts.len()];
        let mut hosts = Vec::new();
        for (i, h) in mine.hosts.into_iter().enumerate() {
            if keep.get(i).copied().unwrap_or(false) {
                if let Some(slot) = hmap.get_mut(i) {
                    *slot = hosts.len() as u32;
                }
                hosts.push(h);
            }
        }
        let mut ukeep = vec![false; mine.users.len()];
        for l in &logons {
            if let Some(k) = ukeep.get_mut(l.user.0 as usize) {
                *k = true;
            }
        }
        let mut umap = vec![u32::MAX; mine.users.len()];
        let mut users = Vec::new();
        for (i, u) in mine.users.into_iter().enumerate() {
            if ukeep.get(i).copied().unwrap_or(false) {
                if let Some(slot) = umap.get_mut(i) {
                    *slot = users.len() as u32;
                }
                users.push(u);
            }
        }
        let mut skeep = vec![false; mine.services.len()];
        for e in &edges {
            if let Some(k) = skeep.get_mut(e.service.0 as usize) {
                *k = true;
            }
        }
        let mut smap = vec![u32::MAX; mine.services.len()];
        let mut services = Vec::new();
        for (i, s) in mine.services.into_iter().enumerate() {
            if skeep.get(i).copied().unwrap_or(false) {
                if let Some(slot) = smap.get_mut(i) {
                    *slot = services.len() as u32;
                }
                services.push(s);
            }
        }
        let at = |m: &[u32], i: u32| m.get(i as usize).copied().unwrap_or(u32::MAX);
        let edges = edges
            .into_iter()
            .map(|e| Edge {
                src: HostId(at(&hmap, e.src.0)),
                dst: HostId(at(&hmap, e.dst.0)),
                service: ServiceId(at(&smap, e.service.0)),
                ..e
            })
            .collect();
        let admin = admin
            .into_iter()
            .map(|a| AdminUse {
                src: HostId(at(&hmap, a.src.0)),
                dst: HostId(at(&hmap, a.dst.0)),
                ..a
            })
            .collect();
        let logons = logons
            .into_iter()
            .map(|l| Logon {
                user: UserId(at(&umap, l.user.0)),
                src: l.src.map(|s| HostId(at(&hmap, s.0))),
                dst: HostId(at(&hmap, l.dst.0)),
                ..l
            })
            .collect();
        let edge_hours = edge_hours
            .into_iter()
            .map(|h| EdgeHours {
                src: HostId(at(&hmap, h.src.0)),
                dst: HostId(at(&hmap, h.dst.0)),
                service: ServiceId(at(&smap, h.service.0)),
                ..h
            })
            .collect();
        *self = Profiles::from_parts(
            hosts,
            services,
            users,
            edges,
            admin,
            logons,
            &RoleThresholds::default(),
        )
        .with_edge_hours(edge_hours);
    }
}
