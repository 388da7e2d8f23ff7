//! [`BaselineView`] over profiles: how detectors judge records against
//! what is normal. `lateral analyze` builds the profiles from the learning
//! part of its input; `--baseline` and `lateral sweep` load them from a
//! baseline file (built by `lateral baseline build`). Both paths ask the
//! same questions of the same [`crate::profile::Profiles`], so the same
//! learning records give the same alerts either way.
//!
//! Where profiles keep a summary, not the records, the answer follows the
//! summary, and each method says so:
//!
//! - Kerberos versus NTLM counts are successes of logon triples that used
//!   only that method;
//! - explicit-credential history ignores the subject account;
//! - a host's activity per hour of the week counts its flows in either
//!   direction and the events naming it.
//!
//! Detectors ask about hosts by address or by [`crate::model::HostKey`]
//! ([`super::Directory::key`]), the profiles' own keys; a host the profiles
//! know by address and today's records by name is found by its address.
//!
//! The view also answers the habit questions: an account's hours of
//! successful network logons and a remote-admin edge's hours of flows
//! (kept by the profiles as hour-of-week bitsets), a source's distinct
//! internal hosts with an answered flow on a service, an account's
//! distinct hosts with Windows special privileges (4672), and whether a
//! host reaches the outside for its clients (at least five internal
//! clients answered and more than half of the flows it originated went
//! outside). Roles are the profiles' ([`crate::profile::RoleThresholds`])
//! unless the configuration says otherwise: `[network] scanners` are
//! scanners and `known_admins` admin hosts whatever the profiles inferred.

use super::Directory;
use super::settings::NetworkConfig;
use super::{AdminReach, AdminService, BaselineView, EdgeHistory, Role, WeekHours};
use crate::hosts::HostDirectory;
use crate::model::HostKey;
use crate::model::event::Timestamp;
use crate::profile::build::is_plain_user_key;
use crate::profile::light::LightSources;
use crate::profile::{Edge, HostId, HostProfile, Methods, Profiles};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the logons to internal hosts say about one account (profile hosts
/// by index, each list ascending and without repeats).
#[derive(Debug, Default)]
struct UserFacts {
    /// Hosts it logged on from successfully.
    sources: Vec<HostId>,
    /// Hosts it had a privileged session on (4672 or sudo to root).
    privileged_on: Vec<HostId>,
    /// Hosts it received Windows special privileges (4672) on.
    special_on: Vec<HostId>,
    /// Hosts it logged on to successfully with NTLM.
    ntlm_on: Vec<HostId>,
    /// Hosts its explicit credentials were used for.
    explicit_on: Vec<HostId>,
}

impl UserFacts {
    fn finish(&mut self) {
        for v in [
            &mut self.sources,
            &mut self.privileged_on,
            &mut self.special_on,
            &mut self.ntlm_on,
            &mut self.explicit_on,
        ] {
            v.sort_unstable();
            v.dedup();
        }
    }
}

/// A host's role: the configuration's (scanners, known admin hosts) for
/// any of its addresses, else the profiles'.
fn host_role(net: &NetworkConfig, h: &HostProfile) -> Role {
    if h.ips.iter().any(|ip| net.is_scanner(*ip)) {
        Role::Scanner
    } else if h.ips.iter().any(|ip| net.is_known_admin(*ip)) {
        Role::AdminHost
    } else {
        h.role
    }
}

fn holds(hosts: &[HostId], h: HostId) -> bool {
    hosts.binary_search(&h).is_ok()
}

/// Distinct hosts in a list (sorts it).
fn distinct(mut hosts: Vec<HostId>) -> usize {
    hosts.sort_unstable();
    hosts.dedup();
    hosts.len()
}

/// Profile hosts by key.
fn host_index(profiles: &Profiles) -> FxHashMap<&HostKey, HostId> {
    profiles
        .hosts()
        .iter()
        .enumerate()
        .map_while(|(i, h)| Some((&h.key, HostId(u32::try_from(i).ok()?))))
        .collect()
}

/// Which profile hosts are internal, and the internal hosts' roles.
struct HostFacts {
    /// Per profile host: internal (an internal address, or known by name only).
    internal: Vec<bool>,
    /// Internal hosts.
    internal_hosts: usize,
    /// Internal hosts per role.
    role_counts: BTreeMap<Role, usize>,
    /// Per role: the median of its hosts' p99 bytes sent to a peer in an hour.
    role_p99: BTreeMap<Role, u64>,
}

impl HostFacts {
    fn of(profiles: &Profiles, net: &NetworkConfig) -> HostFacts {
        let mut f = HostFacts {
            internal: vec![false; profiles.len()],
            internal_hosts: 0,
            role_counts: BTreeMap::new(),
            role_p99: BTreeMap::new(),
        };
        let mut p99s: BTreeMap<Role, Vec<u64>> = BTreeMap::new();
        for (h, is_internal) in profiles.hosts().iter().zip(f.internal.iter_mut()) {
            if !(h.ips.iter().any(|ip| net.is_internal(*ip)) || h.ips.is_empty()) {
                continue;
            }
            *is_internal = true;
            f.internal_hosts += 1;
            let role = host_role(net, h);
            *f.role_counts.entry(role).or_insert(0) += 1;
            if let Some(q) = h.bytes_out_per_peer_hour.quantile(0.99) {
                p99s.entry(role).or_default().push(q);
            }
        }
        for (role, mut qs) in p99s {
            qs.sort_unstable();
            if let Some(m) = qs.get(qs.len() / 2) {
                f.role_p99.insert(role, *m);
            }
        }
        f
    }
}

/// What the logon records say, per account and per host.
struct LogonFacts<'a> {
    /// Per account: the internal hosts of its logons.
    users: FxHashMap<&'a str, UserFacts>,
    /// Accounts with special privileges on some internal host.
    privileged_users: FxHashSet<&'a str>,
    /// Accounts with any logon record (what [`Profiles::user`] finds).
    logged_users: FxHashSet<&'a str>,
    /// (source, target) of successful logons to internal hosts.
    logon_edges: FxHashSet<(HostId, HostId)>,
    /// Per profile host: successful network logons by (Kerberos, NTLM).
    methods: Vec<(u64, u64)>,
    /// Per account SID: the accounts whose logons carried it, ascending.
    sid_names: FxHashMap<&'a str, Vec<&'a str>>,
}

impl<'a> LogonFacts<'a> {
    /// The facts of every logon record (`internal` per profile host).
    fn of(profiles: &'a Profiles, internal: &[bool]) -> LogonFacts<'a> {
        let mut v = LogonFacts {
            users: FxHashMap::default(),
            privileged_users: FxHashSet::default(),
            logged_users: FxHashSet::default(),
            logon_edges: FxHashSet::default(),
            methods: vec![(0, 0); profiles.len()],
            sid_names: FxHashMap::default(),
        };
        // Users are sorted by name, so each SID's list comes out ascending.
        for u in profiles.users() {
            for sid in &u.sids {
                v.sid_names
                    .entry(sid.as_str())
                    .or_default()
                    .push(u.name.as_str());
            }
        }
        for l in profiles.logons() {
            let Some(user) = profiles.user_at(l.user).map(|u| u.name.as_str()) else {
                continue;
            };
            v.logged_users.insert(user);
            // Privileges count on any host.
            if l.stats.privileged > 0 {
                let facts = v.users.entry(user).or_default();
                facts.privileged_on.push(l.dst);
                if l.stats.special_privileges > 0 {
                    facts.special_on.push(l.dst);
                }
                v.privileged_users.insert(user);
            }
            if !internal.get(l.dst.0 as usize).copied().unwrap_or(false) {
                continue;
            }
            let facts = v.users.entry(user).or_default();
            if l.stats.methods.contains(Methods::EXPLICIT) {
                facts.explicit_on.push(l.dst);
            }
            if l.stats.successes == 0 {
                continue;
            }
            if let Some(src) = l.src {
                facts.sources.push(src);
                v.logon_edges.insert((src, l.dst));
            }
            let m = l.stats.methods;
            let kerberos = m.contains(Methods::KERBEROS);
            let ntlm = m.contains(Methods::NTLM);
            if let Some(counts) = v.methods.get_mut(l.dst.0 as usize) {
                if kerberos && !ntlm {
                    counts.0 += u64::from(l.stats.successes);
                } else if ntlm && !kerberos {
                    counts.1 += u64::from(l.stats.successes);
                }
            }
            if ntlm {
                facts.ntlm_on.push(l.dst);
            }
        }
        v.users.values_mut().for_each(UserFacts::finish);
        v
    }
}

/// Stored profiles seen through the detectors' questions.
///
/// Hosts are resolved once per question to their index in the profiles
/// ([`Profiles::host_id_by_ip`]) and everything after is integer lookups;
/// accounts are looked up by the profiles' own user names, borrowed.
pub struct ProfilesView<'a> {
    profiles: &'a Profiles,
    dir: &'a HostDirectory,
    net: &'a NetworkConfig,
    period: Option<(Timestamp, Timestamp)>,
    /// Which hosts are internal, and their roles.
    hosts: HostFacts,
    /// What the logon records say.
    logons: LogonFacts<'a>,
    /// The detectors' directory: the address of a host the profiles know
    /// by address and today's records by name.
    names: &'a Directory,
    /// Profile hosts by key.
    ids: FxHashMap<&'a HostKey, HostId>,
    /// Accounts by name, for lookups by a name in normal form.
    user_infos: FxHashMap<&'a str, &'a crate::profile::UserInfo>,
    /// Sources whose records the profiles were built without
    /// ([`ProfilesView::with_light`]), and the hosts only they name.
    light: Option<(&'a LightSources, usize)>,
}

impl<'a> ProfilesView<'a> {
    /// Indexes the profiles for the detectors' questions. The host
    /// indexes, the account index and the logon facts are independent and
    /// built at once.
    pub fn new(
        profiles: &'a Profiles,
        dir: &'a HostDirectory,
        names: &'a Directory,
        period: Option<(Timestamp, Timestamp)>,
        net: &'a NetworkConfig,
    ) -> Self {
        let ((ids, user_infos), (hosts, logons)) = rayon::join(
            || {
                rayon::join(
                    || host_index(profiles),
                    || {
                        profiles
                            .users()
                            .iter()
                            .map(|u| (u.name.as_str(), u))
                            .collect()
                    },
                )
            },
            || {
                let hosts = HostFacts::of(profiles, net);
                let logons = LogonFacts::of(profiles, &hosts.internal);
                (hosts, logons)
            },
        );
        ProfilesView {
            profiles,
            dir,
            net,
            period,
            hosts,
            logons,
            names,
            ids,
            user_infos,
            light: None,
        }
    }

    /// The view of profiles built without the light sources' records
    /// ([`crate::profile::build_parallel_skipping`]), answering for roles
    /// as the profiles of every record would: a light source is a
    /// workstation, its destinations count it among their clients, and
    /// an internal host only light sources tried still counts as a host.
    pub fn with_light(mut self, light: &'a LightSources) -> Self {
        if !light.is_empty() {
            self.light = Some((light, light.unprofiled_targets(self.profiles)));
        }
        self
    }

    /// The profile host for a detector's host key: the host of that key,
    /// else the host that used its address (a host the profiles know by
    /// address and today's records by name).
    fn key_id(&self, k: &HostKey) -> Option<HostId> {
        if let Some(&id) = self.ids.get(k) {
            return Some(id);
        }
        self.names.addr_of(k).and_then(|ip| self.ip_id(ip))
    }

    /// The profile host that used an address, else the one the baseline's
    /// directory names for it.
    fn ip_id(&self, ip: IpAddr) -> Option<HostId> {
        self.profiles
            .host_id_by_ip(ip)
            .or_else(|| self.profiles.host_id(&self.dir.key_for_ip(ip)))
    }

    fn is_internal(&self, h: HostId) -> bool {
        self.hosts
            .internal
            .get(h.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    fn facts(&self, user: &str) -> Option<&UserFacts> {
        self.logons.users.get(user)
    }

    /// True when the edge's service is this remote-admin service.
    fn on_service(&self, e: &Edge, svc: AdminService) -> bool {
        self.profiles
            .service_at(e.service)
            .is_some_and(|s| s.admin_service() == Some(svc))
    }
}

impl BaselineView for ProfilesView<'_> {
    fn period(&self) -> Option<(Timestamp, Timestamp)> {
        self.period
    }
    fn host_count(&self) -> usize {
        self.hosts.internal_hosts + self.light.map_or(0, |(_, targets)| targets)
    }
    fn role(&self, ip: IpAddr) -> Role {
        if self.net.is_scanner(ip) {
            return Role::Scanner;
        }
        if self.net.is_known_admin(ip) {
            return Role::AdminHost;
        }
        match self.profiles.host_by_ip(ip) {
            Some(h) => host_role(self.net, h),
            // It originated flows, far fewer than a scanner's.
            None if self.light.is_some_and(|(l, _)| l.is_light(ip)) => Role::Workstation,
            None => Role::Unknown,
        }
    }
    fn host_role(&self, host: &HostKey) -> Role {
        if let Some(ip) = host.ip().or_else(|| self.names.addr_of(host)) {
            return self.role(ip);
        }
        self.key_id(host)
            .and_then(|id| self.profiles.host_at(id))
            .map_or(Role::Unknown, |h| host_role(self.net, h))
    }
    fn role_count(&self, role: Role) -> usize {
        self.hosts.role_counts.get(&role).copied().unwrap_or(0)
    }
    fn admin_edge(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<EdgeHistory> {
        let (s, d) = (self.ip_id(src)?, self.ip_id(dst)?);
        let edges = self.profiles.edges_between(s, d);
        let mut out: Option<EdgeHistory> = None;
        {
            for e in edges.iter().filter(|e| self.on_service(e, svc)) {
                let h = out.get_or_insert(EdgeHistory {
                    first: e.stats.first,
                    last: e.stats.last,
                    flows: 0,
                    days: 0,
                });
                h.first = h.first.min(e.stats.first);
                h.last = h.last.max(e.stats.last);
                h.flows += u64::from(e.stats.flows);
                h.days = h.days.max(e.stats.days_active());
            }
        }
        out
    }
    fn peer_seen(&self, src: IpAddr, dst: IpAddr) -> bool {
        match (self.ip_id(src), self.ip_id(dst)) {
            (Some(s), Some(d)) => !self.profiles.edges_between(s, d).is_empty(),
            _ => false,
        }
    }
    /// An established flow on a remote-admin service, or admin log evidence.
    fn admin_any(&self, src: IpAddr, dst: IpAddr) -> bool {
        let (Some(s), Some(d)) = (self.ip_id(src), self.ip_id(dst)) else {
            return false;
        };
        let by_flow = s != d
            && self.profiles.edges_between(s, d).iter().any(|e| {
                e.stats.established() > 0
                    && self
                        .profiles
                        .service_at(e.service)
                        .is_some_and(|svc| svc.admin_service().is_some())
            });
        by_flow || !self.profiles.admin_between(s, d).is_empty()
    }
    fn admin_clients(&self, dst: IpAddr, svc: AdminService, role: Option<Role>) -> usize {
        let Some(d) = self.ip_id(dst) else { return 0 };
        let clients: Vec<HostId> = self
            .profiles
            .edges_into(d)
            .filter(|e| e.stats.established() > 0 && self.on_service(e, svc))
            .filter(|e| {
                role.is_none_or(|r| {
                    let of = self
                        .profiles
                        .host_at(e.src)
                        .map_or(Role::Unknown, |h| host_role(self.net, h));
                    of == r
                })
            })
            .map(|e| e.src)
            .collect();
        distinct(clients)
    }
    fn admin_reach(&self, src: IpAddr) -> AdminReach {
        let Some(s) = self.ip_id(src) else {
            return AdminReach::default();
        };
        let by_flow = self.profiles.edges_from(s).iter().filter(|e| {
            e.stats.established() > 0
                && e.src != e.dst
                && self
                    .profiles
                    .service_at(e.service)
                    .is_some_and(|svc| svc.admin_service().is_some())
        });
        let peers: Vec<HostId> = by_flow
            .map(|e| e.dst)
            .chain(self.profiles.admin_from(s).iter().map(|a| a.dst))
            .collect();
        let n = distinct(peers);
        let peak = self
            .profiles
            .host_at(s)
            .map_or(0, |h| h.admin_peak_hour_hosts as usize);
        AdminReach {
            destinations: n,
            max_per_hour: peak.min(n),
        }
    }
    fn peer_bytes_p99(&self, src: IpAddr) -> Option<u64> {
        let h = self.profiles.host_at(self.ip_id(src)?)?;
        h.bytes_out_per_peer_hour.quantile(0.99)
    }
    fn role_peer_bytes_p99(&self, role: Role) -> Option<u64> {
        self.hosts.role_p99.get(&role).copied()
    }
    fn service_clients(&self, dst: IpAddr, port: u16) -> usize {
        let Some(d) = self.ip_id(dst) else { return 0 };
        let clients: Vec<HostId> = self
            .profiles
            .edges_into(d)
            .filter(|e| e.stats.established() > 0 && self.is_internal(e.src))
            .filter(|e| {
                self.profiles
                    .service_at(e.service)
                    .is_some_and(|s| s.port == port)
            })
            .map(|e| e.src)
            .collect();
        distinct(clients)
    }
    fn external_clients(&self, dst: IpAddr) -> usize {
        let id = self.ip_id(dst);
        let light = self.light.map_or(0, |(l, _)| {
            let key = id
                .and_then(|d| self.profiles.host_at(d))
                .map_or_else(|| self.dir.key_for_ip(dst), |h| h.key.clone());
            l.clients_of(&key) as usize
        });
        let Some(d) = id else { return light };
        let clients: Vec<HostId> = self.profiles.edges_into(d).map(|e| e.src).collect();
        distinct(clients) + light
    }
    fn user_known(&self, user: &str) -> bool {
        let logged = if is_plain_user_key(user) {
            self.logons.logged_users.contains(user)
        } else {
            self.profiles.user(user).is_some()
        };
        logged || self.logons.privileged_users.contains(user)
    }
    fn sid_accounts(&self, sid: &str) -> Vec<String> {
        self.logons
            .sid_names
            .get(sid)
            .map(|names| names.iter().map(|n| (*n).to_string()).collect())
            .unwrap_or_default()
    }
    fn user_source_count(&self, user: &str) -> usize {
        self.facts(user).map_or(0, |f| f.sources.len())
    }
    fn user_from(&self, user: &str, src: &HostKey) -> bool {
        let Some(f) = self.facts(user) else {
            return false;
        };
        self.key_id(src).is_some_and(|s| holds(&f.sources, s))
    }
    fn logon_edge(&self, src: &HostKey, dst: &HostKey) -> bool {
        match (self.key_id(src), self.key_id(dst)) {
            (Some(s), Some(d)) => self.logons.logon_edges.contains(&(s, d)),
            _ => false,
        }
    }
    fn privileged(&self, user: &str, host: Option<&HostKey>) -> bool {
        match host {
            None => self.logons.privileged_users.contains(user),
            Some(h) => self
                .facts(user)
                .is_some_and(|f| self.key_id(h).is_some_and(|k| holds(&f.privileged_on, k))),
        }
    }
    fn logon_methods(&self, host: &HostKey) -> (u64, u64) {
        self.key_id(host)
            .and_then(|k| self.logons.methods.get(k.0 as usize).copied())
            .unwrap_or((0, 0))
    }
    fn user_ntlm_on(&self, user: &str, host: &HostKey) -> bool {
        self.facts(user)
            .is_some_and(|f| self.key_id(host).is_some_and(|k| holds(&f.ntlm_on, k)))
    }
    fn explicit_seen(&self, _subject: &str, user: &str, server: &HostKey) -> bool {
        self.facts(user).is_some_and(|f| {
            self.key_id(server)
                .is_some_and(|k| holds(&f.explicit_on, k))
        })
    }
    fn remote_exec_seen(&self, src: &HostKey, dst: &HostKey) -> bool {
        let (Some(s), Some(d)) = (self.key_id(src), self.key_id(dst)) else {
            return false;
        };
        self.profiles
            .admin_between(s, d)
            .iter()
            .any(|a| a.stats.exec > 0)
    }
    fn user_hosts_per_hour(&self, user: &str) -> usize {
        self.profiles
            .user_info(user)
            .map_or(0, |u| u.peak_hosts_per_hour as usize)
    }
    /// Counted from the host's flows in either direction and its events
    /// (what profiles keep), not only what it originated.
    fn hour_of_week_activity(&self, src: IpAddr) -> Option<WeekHours> {
        self.profiles
            .host_by_ip(src)
            .map(|h| h.hour_of_week.hours())
    }
    fn user_methods_on(&self, user: &str, host: &HostKey) -> Methods {
        let Some(k) = self.key_id(host) else {
            return Methods::default();
        };
        self.profiles
            .logons_into(k)
            .filter(|l| {
                self.profiles
                    .user_at(l.user)
                    .is_some_and(|u| u.name.eq_ignore_ascii_case(user))
            })
            .fold(Methods::default(), |m, l| m.union(l.stats.methods))
    }

    /// Unknown accounts have no hours.
    fn account_hours(&self, user: &str) -> Option<WeekHours> {
        let info = if is_plain_user_key(user) {
            self.user_infos.get(user).copied()
        } else {
            self.profiles.user_named(user)
        };
        Some(info.map(|u| u.logon_hours).unwrap_or_default())
    }
    /// The hours of the stored edges on the service's ports; `None` when
    /// there is none.
    fn edge_hours(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<WeekHours> {
        let (s, d) = (self.ip_id(src)?, self.ip_id(dst)?);
        let mut out: Option<WeekHours> = None;
        for h in self.profiles.edge_hours_between(s, d) {
            let on = self
                .profiles
                .service_at(h.service)
                .is_some_and(|x| x.admin_service() == Some(svc));
            if on {
                out.get_or_insert_with(WeekHours::default).merge(&h.hours);
            }
        }
        out
    }
    fn service_reach(&self, src: IpAddr, svc: AdminService) -> Option<usize> {
        let Some(s) = self.ip_id(src).filter(|s| self.is_internal(*s)) else {
            return Some(0);
        };
        let dsts: Vec<HostId> = self
            .profiles
            .edges_from(s)
            .iter()
            .filter(|e| {
                e.stats.established() > 0 && self.is_internal(e.dst) && self.on_service(e, svc)
            })
            .map(|e| e.dst)
            .collect();
        Some(distinct(dsts))
    }
    fn role_reach(&self, src: IpAddr, role: Role) -> usize {
        let Some(s) = self.ip_id(src).filter(|s| self.is_internal(*s)) else {
            return 0;
        };
        let dsts: Vec<HostId> = self
            .profiles
            .edges_from(s)
            .iter()
            .filter(|e| {
                e.stats.established() > 0
                    && e.src != e.dst
                    && self.is_internal(e.dst)
                    && self
                        .profiles
                        .service_at(e.service)
                        .is_some_and(|svc| svc.admin_service().is_some())
                    && self
                        .profiles
                        .host_at(e.dst)
                        .is_some_and(|h| host_role(self.net, h) == role)
            })
            .map(|e| e.dst)
            .collect();
        distinct(dsts)
    }
    fn privileged_hosts(&self, user: &str) -> Option<usize> {
        Some(self.facts(user).map_or(0, |f| f.special_on.len()))
    }
    fn forwarder(&self, ip: IpAddr) -> Option<bool> {
        let Some(h) = self.ip_id(ip).filter(|h| self.is_internal(*h)) else {
            return Some(false);
        };
        let clients: Vec<HostId> = self
            .profiles
            .edges_into(h)
            .filter(|e| e.stats.established() > 0 && self.is_internal(e.src))
            .map(|e| e.src)
            .collect();
        if distinct(clients) < 5 {
            return Some(false);
        }
        let (mut attempts, mut outside) = (0u64, 0u64);
        for e in self.profiles.edges_from(h) {
            attempts += u64::from(e.stats.flows);
            if !self.is_internal(e.dst) {
                outside += u64::from(e.stats.flows);
            }
        }
        Some(outside * 2 > attempts)
    }
}
