//! [`BaselineView`] over stored profiles: how detectors judge today
//! against a baseline file (`lateral analyze --baseline`, built by
//! `lateral baseline build`). The questions are answered from
//! [`crate::profile::Profiles`] and the baseline's host directory; what
//! profiles do not keep is approximated, and said so on each method:
//!
//! - a source's most admin destinations in one hour is taken as its
//!   distinct admin destinations over the whole baseline (an upper bound,
//!   so fan-out from a host that administers many hosts is never new);
//! - an account's most hosts per hour is its distinct hosts overall;
//! - bytes per peer are per day, not per hour (a higher bar);
//! - Kerberos versus NTLM counts are successes of logon triples that used
//!   only that method;
//! - explicit-credential history ignores the subject account.
//!
//! Detectors pass host keys as addresses or short names
//! ([`super::Directory::key`]); they are resolved to the profiles' keys
//! through the baseline's directory.

use super::{AdminReach, AdminService, BaselineView, EdgeHistory, Role};
use crate::config::NetworkConfig;
use crate::event::{Timestamp, Transport};
use crate::hosts::{HostDirectory, HostKey};
use crate::profile::{Methods, Profiles, Role as PRole};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// The TCP ports of a remote-admin service.
fn ports(svc: AdminService) -> &'static [u16] {
    match svc {
        AdminService::Smb => &[445, 139],
        AdminService::Rdp => &[3389],
        AdminService::WinRm => &[5985, 5986],
        AdminService::Ssh => &[22],
        AdminService::Rpc => &[135],
        AdminService::Vnc => &[5900, 5901, 5902, 5903],
        AdminService::Telnet => &[23],
    }
}

fn role_of(r: PRole) -> Role {
    match r {
        PRole::Workstation => Role::Workstation,
        PRole::Server => Role::Server,
        PRole::DomainController => Role::DomainController,
        PRole::AdminHost => Role::Admin,
        PRole::Scanner => Role::Scanner,
        PRole::Unknown => Role::Unknown,
    }
}

/// Stored profiles seen through the detectors' questions.
pub struct ProfilesView<'a> {
    profiles: &'a Profiles,
    dir: &'a HostDirectory,
    period: Option<(Timestamp, Timestamp)>,
    internal_hosts: usize,
    role_counts: BTreeMap<Role, usize>,
    role_p99: BTreeMap<Role, u64>,
    user_sources: BTreeMap<String, BTreeSet<HostKey>>,
    user_hosts: BTreeMap<String, BTreeSet<HostKey>>,
    logon_edges: BTreeSet<(HostKey, HostKey)>,
    privileged: BTreeSet<(String, HostKey)>,
    privileged_users: BTreeSet<String>,
    methods: BTreeMap<HostKey, (u64, u64)>,
    user_ntlm: BTreeSet<(String, HostKey)>,
    explicit: BTreeSet<(String, HostKey)>,
}

impl<'a> ProfilesView<'a> {
    /// Indexes the profiles for the detectors' questions.
    pub fn new(
        profiles: &'a Profiles,
        dir: &'a HostDirectory,
        period: Option<(Timestamp, Timestamp)>,
        net: &NetworkConfig,
    ) -> Self {
        let mut v = ProfilesView {
            profiles,
            dir,
            period,
            internal_hosts: 0,
            role_counts: BTreeMap::new(),
            role_p99: BTreeMap::new(),
            user_sources: BTreeMap::new(),
            user_hosts: BTreeMap::new(),
            logon_edges: BTreeSet::new(),
            privileged: BTreeSet::new(),
            privileged_users: BTreeSet::new(),
            methods: BTreeMap::new(),
            user_ntlm: BTreeSet::new(),
            explicit: BTreeSet::new(),
        };
        let mut p99s: BTreeMap<Role, Vec<u64>> = BTreeMap::new();
        for h in profiles.hosts() {
            let internal = h.ips.iter().any(|ip| net.is_internal(*ip)) || h.ips.is_empty();
            if !internal {
                continue;
            }
            v.internal_hosts += 1;
            let role = role_of(h.role);
            *v.role_counts.entry(role).or_insert(0) += 1;
            if let Some(q) = h.bytes_out_per_peer_day.quantile(0.99) {
                p99s.entry(role).or_default().push(q);
            }
            for l in profiles.logons_to(&h.key) {
                let user = l.user.to_string();
                if l.stats.privileged > 0 {
                    v.privileged.insert((user.clone(), l.dst.clone()));
                    v.privileged_users.insert(user.clone());
                }
                if l.stats.methods.contains(Methods::EXPLICIT) {
                    v.explicit.insert((user.clone(), l.dst.clone()));
                }
                if l.stats.successes == 0 {
                    continue;
                }
                v.user_hosts
                    .entry(user.clone())
                    .or_default()
                    .insert(l.dst.clone());
                let entry = v.user_sources.entry(user.clone()).or_default();
                if let Some(src) = l.src {
                    entry.insert(src.clone());
                    v.logon_edges.insert((src.clone(), l.dst.clone()));
                }
                let m = l.stats.methods;
                let counts = v.methods.entry(l.dst.clone()).or_insert((0, 0));
                let kerberos = m.contains(Methods::KERBEROS);
                let ntlm = m.contains(Methods::NTLM);
                if kerberos && !ntlm {
                    counts.0 += u64::from(l.stats.successes);
                } else if ntlm && !kerberos {
                    counts.1 += u64::from(l.stats.successes);
                }
                if ntlm {
                    v.user_ntlm.insert((user, l.dst.clone()));
                }
            }
        }
        for (role, mut qs) in p99s {
            qs.sort_unstable();
            if let Some(m) = qs.get(qs.len() / 2) {
                v.role_p99.insert(role, *m);
            }
        }
        v
    }

    /// The profiles' key for a detector's host key (address or short name).
    fn key(&self, k: &str) -> Option<HostKey> {
        match k.parse::<IpAddr>() {
            Ok(ip) => Some(self.ip_key(ip)),
            Err(_) => self.dir.key_for_name(k),
        }
    }

    fn ip_key(&self, ip: IpAddr) -> HostKey {
        match self.profiles.host_by_ip(ip) {
            Some(h) => h.key.clone(),
            None => self.dir.key_for_ip(ip),
        }
    }
}

impl BaselineView for ProfilesView<'_> {
    fn period(&self) -> Option<(Timestamp, Timestamp)> {
        self.period
    }
    fn host_count(&self) -> usize {
        self.internal_hosts
    }
    fn role(&self, ip: IpAddr) -> Role {
        self.profiles
            .host_by_ip(ip)
            .map_or(Role::Unknown, |h| role_of(h.role))
    }
    fn role_count(&self, role: Role) -> usize {
        self.role_counts.get(&role).copied().unwrap_or(0)
    }
    fn admin_edge(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<EdgeHistory> {
        let (s, d) = (self.ip_key(src), self.ip_key(dst));
        let mut out: Option<EdgeHistory> = None;
        for &port in ports(svc) {
            for e in self.profiles.edges_on_port(&s, &d, Transport::Tcp, port) {
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
        let d = self.ip_key(dst);
        self.profiles
            .peers_out(&self.ip_key(src))
            .iter()
            .any(|p| **p == d)
    }
    fn admin_any(&self, src: IpAddr, dst: IpAddr) -> bool {
        let d = self.ip_key(dst);
        self.profiles
            .admin_peers(&self.ip_key(src))
            .iter()
            .any(|p| *p.peer == d)
    }
    fn admin_clients(&self, dst: IpAddr, svc: AdminService, role: Option<Role>) -> usize {
        let d = self.ip_key(dst);
        let mut clients: BTreeSet<&HostKey> = BTreeSet::new();
        for e in self.profiles.inbound(&d) {
            let on_port = ports(svc)
                .iter()
                .any(|p| e.service.same_port(Transport::Tcp, *p));
            if on_port && e.stats.established() > 0 {
                let ok = role.is_none_or(|r| role_of(self.profiles.role(e.src)) == r);
                if ok {
                    clients.insert(e.src);
                }
            }
        }
        clients.len()
    }
    fn admin_reach(&self, src: IpAddr) -> AdminReach {
        let peers: BTreeSet<&HostKey> = self
            .profiles
            .admin_peers(&self.ip_key(src))
            .iter()
            .map(|p| p.peer)
            .collect();
        AdminReach {
            destinations: peers.len(),
            max_per_hour: peers.len(),
        }
    }
    fn peer_bytes_p99(&self, src: IpAddr) -> Option<u64> {
        self.profiles
            .bytes_out_per_peer_day_quantile(&self.ip_key(src), 0.99)
    }
    fn role_peer_bytes_p99(&self, role: Role) -> Option<u64> {
        self.role_p99.get(&role).copied()
    }
    fn external_clients(&self, dst: IpAddr) -> usize {
        self.profiles.peers_in(&self.ip_key(dst)).len()
    }
    fn user_known(&self, user: &str) -> bool {
        self.profiles.user(user).is_some() || self.privileged_users.contains(user)
    }
    fn user_source_count(&self, user: &str) -> usize {
        self.user_sources.get(user).map_or(0, BTreeSet::len)
    }
    fn user_from(&self, user: &str, src: &str) -> bool {
        let Some(k) = self.key(src) else { return false };
        self.user_sources.get(user).is_some_and(|s| s.contains(&k))
    }
    fn logon_edge(&self, src: &str, dst: &str) -> bool {
        match (self.key(src), self.key(dst)) {
            (Some(s), Some(d)) => self.logon_edges.contains(&(s, d)),
            _ => false,
        }
    }
    fn privileged(&self, user: &str, host: Option<&str>) -> bool {
        match host {
            None => self.privileged_users.contains(user),
            Some(h) => self
                .key(h)
                .is_some_and(|k| self.privileged.contains(&(user.to_string(), k))),
        }
    }
    fn logon_methods(&self, host: &str) -> (u64, u64) {
        self.key(host)
            .and_then(|k| self.methods.get(&k).copied())
            .unwrap_or((0, 0))
    }
    fn user_ntlm_on(&self, user: &str, host: &str) -> bool {
        self.key(host)
            .is_some_and(|k| self.user_ntlm.contains(&(user.to_string(), k)))
    }
    fn explicit_seen(&self, _subject: &str, user: &str, server: &str) -> bool {
        self.key(server)
            .is_some_and(|k| self.explicit.contains(&(user.to_string(), k)))
    }
    fn remote_exec_seen(&self, src: &str, dst: &str) -> bool {
        let (Some(s), Some(d)) = (self.key(src), self.key(dst)) else {
            return false;
        };
        self.profiles
            .admin_peers(&s)
            .iter()
            .any(|p| *p.peer == d && p.events > 0)
    }
    fn user_hosts_per_hour(&self, user: &str) -> usize {
        self.user_hosts.get(user).map_or(0, BTreeSet::len)
    }
    /// Counted from the host's flows in either direction and its events
    /// (what profiles keep), not only what it originated.
    fn hour_of_week_activity(&self, src: IpAddr) -> Option<&[u32]> {
        self.profiles
            .host_by_ip(src)
            .map(|h| h.hour_of_week.as_slice())
    }
    fn user_methods_on(&self, user: &str, host: &str) -> Methods {
        let Some(k) = self.key(host) else {
            return Methods::default();
        };
        self.profiles
            .logons_to(&k)
            .iter()
            .filter(|l| l.user.eq_ignore_ascii_case(user))
            .fold(Methods::default(), |m, l| m.union(l.stats.methods))
    }
}
