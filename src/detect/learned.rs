//! A baseline learned from records: the [`BaselineView`] that `lateral
//! analyze` builds from the learning part of its input when no stored
//! baseline is given. One pass over the learning flows and log events, in
//! time order; memory grows with hosts and distinct edges, not with
//! records.
//!
//! Roles are inferred from behaviour, checked in this order: configured
//! scanners and admin hosts; a domain controller answers Kerberos (88) or
//! LDAP (389) for at least two clients; a scanner reached at least sixteen
//! hosts with half its attempts or more unanswered; an admin host used remote-admin
//! services on at least five hosts, or interactive ones (RDP, SSH, WinRM,
//! VNC, Telnet) on at least three; a server answered at least three
//! distinct clients; anything else internal is a workstation. The counts are
//! [`crate::profile::RoleThresholds`]' defaults, so a stored baseline
//! names roles alike.

use super::common::{is_kerberos, is_ntlm, is_remote_logon, succeeded, user_of};
use super::habits::{Habits, WeekHours};
use super::{AdminReach, AdminService, BaselineView, Directory, EdgeHistory, Role, answered};
use crate::config::Config;
use crate::event::{Flow, LogEvent, Timestamp};
use crate::profile::Methods;
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;

/// A compact distribution: 8 buckets per power of two (12% resolution).
#[derive(Debug, Clone, Default)]
pub struct LogHisto {
    counts: Vec<u32>,
    total: u64,
}

impl LogHisto {
    fn bucket(v: u64) -> usize {
        if v < 8 {
            return v as usize;
        }
        let exp = 63 - v.leading_zeros() as usize; // >= 3
        let sub = ((v >> (exp - 3)) & 7) as usize;
        (exp - 2) * 8 + sub
    }

    fn lower(b: usize) -> u64 {
        if b < 8 {
            return b as u64;
        }
        let exp = b / 8 + 2;
        let sub = (b % 8) as u64;
        (8 + sub) << (exp - 3)
    }

    /// Adds one value.
    pub fn record(&mut self, v: u64) {
        let b = Self::bucket(v);
        if self.counts.len() <= b {
            self.counts.resize(b + 1, 0);
        }
        if let Some(c) = self.counts.get_mut(b) {
            *c = c.saturating_add(1);
        }
        self.total += 1;
    }

    /// Folds another distribution in.
    pub fn merge(&mut self, o: &LogHisto) {
        if self.counts.len() < o.counts.len() {
            self.counts.resize(o.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a = a.saturating_add(*b);
        }
        self.total += o.total;
    }

    /// The upper edge of the bucket holding quantile `q`, or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let want = ((self.total as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (b, c) in self.counts.iter().enumerate() {
            seen += u64::from(*c);
            if seen >= want {
                return Some(Self::lower(b + 1).saturating_sub(1).max(Self::lower(b)));
            }
        }
        None
    }
}

#[derive(Debug, Default)]
struct HostFacts {
    role: Option<Role>,
    clients: u32,
    dir_clients: u32,
    admin_dsts: u32,
    interactive_dsts: u32,
    admin_hour: i64,
    admin_hour_dsts: Vec<IpAddr>,
    admin_max_per_hour: u32,
    attempts: u64,
    unanswered: u64,
    /// Flows it originated to external addresses.
    external_out: u64,
    dsts: u32,
    bytes: LogHisto,
    /// Flows originated and logons made per hour of the week (168, or empty).
    hours: Vec<u32>,
}

impl HostFacts {
    fn note_hour(&mut self, t: Timestamp) {
        if self.hours.is_empty() {
            self.hours = vec![0; crate::profile::host::HOURS_PER_WEEK];
        }
        if let Some(c) = self.hours.get_mut(crate::profile::host::hour_of_week(t)) {
            *c = c.saturating_add(1);
        }
    }
}

#[derive(Debug, Default)]
struct EdgeAcc {
    hist: EdgeHistory,
    last_day: i64,
    hours: WeekHours,
}

/// A baseline learned from a period of records.
#[derive(Debug, Default)]
pub struct LearnedBaseline {
    period: Option<(Timestamp, Timestamp)>,
    hosts: FxHashMap<IpAddr, HostFacts>,
    role_counts: FxHashMap<Role, usize>,
    role_bytes: FxHashMap<Role, LogHisto>,
    admin_edges: FxHashMap<(IpAddr, IpAddr, AdminService), EdgeAcc>,
    admin_pairs: FxHashSet<(IpAddr, IpAddr)>,
    pairs: FxHashSet<(IpAddr, IpAddr)>,
    interactive_pairs: FxHashSet<(IpAddr, IpAddr)>,
    admin_clients: FxHashMap<(IpAddr, AdminService, Role), usize>,
    admin_clients_any: FxHashMap<(IpAddr, AdminService), usize>,
    answered_edges: FxHashSet<(IpAddr, IpAddr, AdminService)>,
    remote_exec: FxHashSet<(String, String)>,
    external_clients: FxHashMap<IpAddr, usize>,
    users: FxHashMap<String, FxHashSet<String>>,
    logon_edges: FxHashSet<(String, String)>,
    privileged: FxHashSet<(String, String)>,
    privileged_users: FxHashSet<String>,
    methods: FxHashMap<String, (u64, u64)>,
    user_ntlm: FxHashSet<(String, String)>,
    explicit: FxHashSet<(String, String, String)>,
    user_hour_max: FxHashMap<String, usize>,
    user_methods: FxHashMap<(String, String), Methods>,
    logon_hours: FxHashMap<IpAddr, Vec<u32>>,
    account_hours: FxHashMap<String, WeekHours>,
    service_reach: FxHashMap<(IpAddr, AdminService), usize>,
    privileged_hosts: FxHashMap<String, usize>,
}

fn hour_of(t: Timestamp) -> i64 {
    t.secs().div_euclid(3600)
}

impl LearnedBaseline {
    /// Learns from flows and events (each sorted by time). Flows and log
    /// events are learned on two threads.
    pub fn learn(flows: &[Flow], events: &[LogEvent], dir: &Directory, cfg: &Config) -> Self {
        let (mut b, mut l) = rayon::join(
            || Self::learn_flows(flows, cfg),
            || {
                let mut l = LearnedBaseline::default();
                l.learn_logons(events, dir);
                let window = super::common::minutes(cfg.detect.remote_exec.window_minutes);
                for hit in super::remote_exec::attribute(events, dir, window) {
                    l.remote_exec.insert((hit.src, hit.host));
                }
                l
            },
        );
        b.users = std::mem::take(&mut l.users);
        b.logon_edges = std::mem::take(&mut l.logon_edges);
        b.privileged = std::mem::take(&mut l.privileged);
        b.privileged_users = std::mem::take(&mut l.privileged_users);
        b.methods = std::mem::take(&mut l.methods);
        b.user_ntlm = std::mem::take(&mut l.user_ntlm);
        b.explicit = std::mem::take(&mut l.explicit);
        b.user_hour_max = std::mem::take(&mut l.user_hour_max);
        b.remote_exec = std::mem::take(&mut l.remote_exec);
        b.user_methods = std::mem::take(&mut l.user_methods);
        b.account_hours = std::mem::take(&mut l.account_hours);
        for (u, _) in &b.privileged {
            *b.privileged_hosts.entry(u.clone()).or_insert(0) += 1;
        }
        for (ip, hours) in std::mem::take(&mut l.logon_hours) {
            let h = b.hosts.entry(ip).or_default();
            if h.hours.is_empty() {
                h.hours = hours;
            } else {
                for (a, c) in h.hours.iter_mut().zip(&hours) {
                    *a = a.saturating_add(*c);
                }
            }
        }
        let firsts = [b.period.map(|p| p.0), events.first().map(|e| e.ts)];
        let lasts = [b.period.map(|p| p.1), events.last().map(|e| e.ts)];
        b.period = match (
            firsts.into_iter().flatten().min(),
            lasts.into_iter().flatten().max(),
        ) {
            (Some(a), Some(z)) => Some((a, z)),
            _ => None,
        };
        b
    }

    fn learn_flows(flows: &[Flow], cfg: &Config) -> Self {
        let mut b = LearnedBaseline::default();
        let net = &cfg.network;
        let mut served: FxHashSet<(IpAddr, IpAddr)> = FxHashSet::default();
        let mut dir_served: FxHashSet<(IpAddr, IpAddr)> = FxHashSet::default();
        let mut ext_pairs: FxHashSet<(IpAddr, IpAddr)> = FxHashSet::default();
        let mut hourly: FxHashMap<(IpAddr, IpAddr), (i64, u64)> = FxHashMap::default();
        let mut span: Option<(Timestamp, Timestamp)> = None;
        let mut widen = |t: Timestamp| {
            span = Some(span.map_or((t, t), |(a, z)| (a.min(t), z.max(t))));
        };
        for f in flows {
            widen(f.ts);
            let (src, dst) = (f.orig_h, f.resp_h);
            let src_in = net.is_internal(src);
            let dst_in = net.is_internal(dst);
            if !src_in {
                if dst_in {
                    b.hosts.entry(dst).or_default();
                }
                continue;
            }
            let ok = answered(f);
            {
                let h = b.hosts.entry(src).or_default();
                h.note_hour(f.ts);
                h.attempts += 1;
                if !ok {
                    h.unanswered += 1;
                }
            }
            if b.pairs.insert((src, dst)) {
                b.hosts.entry(src).or_default().dsts += 1;
            }
            // Bytes per peer per hour, flushed when the hour changes.
            let hour = hour_of(f.ts);
            let sent = f.orig_bytes.unwrap_or(0);
            let slot = hourly.entry((src, dst)).or_insert((hour, 0));
            if slot.0 != hour {
                let total = slot.1;
                *slot = (hour, 0);
                b.hosts.entry(src).or_default().bytes.record(total);
            }
            slot.1 += sent;
            if !dst_in {
                if let Some(h) = b.hosts.get_mut(&src) {
                    h.external_out += 1;
                }
                if ext_pairs.insert((src, dst)) {
                    *b.external_clients.entry(dst).or_insert(0) += 1;
                }
                continue;
            }
            b.hosts.entry(dst).or_default();
            if ok
                && served.insert((dst, src))
                && let Some(h) = b.hosts.get_mut(&dst)
            {
                h.clients += 1;
            }
            if ok
                && matches!(f.resp_p, 88 | 389)
                && dir_served.insert((dst, src))
                && let Some(h) = b.hosts.get_mut(&dst)
            {
                h.dir_clients += 1;
            }
            let Some(svc) = AdminService::of_flow(f) else {
                continue;
            };
            let day = f.ts.secs().div_euclid(86_400);
            let e = b
                .admin_edges
                .entry((src, dst, svc))
                .or_insert_with(|| EdgeAcc {
                    hist: EdgeHistory {
                        first: f.ts,
                        last: f.ts,
                        flows: 0,
                        days: 0,
                    },
                    last_day: i64::MIN,
                    hours: WeekHours::default(),
                });
            e.hours.note(f.ts);
            e.hist.flows += 1;
            e.hist.last = e.hist.last.max(f.ts);
            e.hist.first = e.hist.first.min(f.ts);
            if e.last_day != day {
                e.last_day = day;
                e.hist.days += 1;
            }
            if ok {
                b.answered_edges.insert((src, dst, svc));
            }
            let new_pair = b.admin_pairs.insert((src, dst));
            let interactive = !matches!(svc, AdminService::Smb | AdminService::Rpc);
            let new_interactive = interactive && ok && b.interactive_pairs.insert((src, dst));
            let h = b.hosts.entry(src).or_default();
            if new_pair {
                h.admin_dsts += 1;
            }
            if new_interactive {
                h.interactive_dsts += 1;
            }
            if h.admin_hour != hour {
                h.admin_hour = hour;
                h.admin_hour_dsts.clear();
            }
            if !h.admin_hour_dsts.contains(&dst) {
                h.admin_hour_dsts.push(dst);
                h.admin_max_per_hour = h.admin_max_per_hour.max(h.admin_hour_dsts.len() as u32);
            }
        }
        for ((src, _), (_, total)) in hourly {
            if let Some(h) = b.hosts.get_mut(&src) {
                h.bytes.record(total);
            }
        }
        // Roles, with the thresholds stored profiles use (one set for both paths).
        let t = crate::profile::RoleThresholds::default();
        for (ip, h) in b.hosts.iter_mut() {
            h.admin_hour_dsts = Vec::new();
            let role = if net.is_scanner(*ip) {
                Role::Scanner
            } else if net.is_known_admin(*ip) {
                Role::Admin
            } else if h.dir_clients >= t.dc_kerberos_clients {
                Role::DomainController
            } else if h.dsts >= t.scanner_hosts
                && h.unanswered * 100 >= u64::from(t.scanner_failed_percent) * h.attempts.max(1)
            {
                Role::Scanner
            } else if h.admin_dsts >= t.admin_hosts
                || h.interactive_dsts >= t.admin_interactive_hosts
            {
                Role::Admin
            } else if h.clients >= t.server_clients {
                Role::Server
            } else {
                Role::Workstation
            };
            h.role = Some(role);
            *b.role_counts.entry(role).or_insert(0) += 1;
            b.role_bytes.entry(role).or_default().merge(&h.bytes);
        }
        let mut clients: Vec<(IpAddr, AdminService, IpAddr)> = b
            .answered_edges
            .iter()
            .map(|(s, d, v)| (*d, *v, *s))
            .collect();
        clients.sort();
        for (dst, svc, src) in clients {
            let role = b.role(src);
            *b.admin_clients.entry((dst, svc, role)).or_insert(0) += 1;
            *b.admin_clients_any.entry((dst, svc)).or_insert(0) += 1;
            *b.service_reach.entry((src, svc)).or_insert(0) += 1;
        }
        b.period = span;
        b
    }

    fn learn_logons(&mut self, events: &[LogEvent], dir: &Directory) {
        let mut hour_hosts: FxHashMap<String, (i64, FxHashSet<String>)> = FxHashMap::default();
        for e in events {
            let host = dir.key(e.host_ip, e.host_name.as_deref());
            if e.action == "special-privileges-assigned" {
                if let (Some(u), Some(h)) = (user_of(e), host) {
                    self.privileged.insert((u.clone(), h));
                    self.privileged_users.insert(u);
                }
                continue;
            }
            if e.action == "explicit-credential-logon" {
                let subject = e.subject_user().unwrap_or("").to_ascii_lowercase();
                let server = e
                    .destination_domain
                    .as_deref()
                    .map(super::directory::short_name)
                    .unwrap_or_default();
                if let Some(u) = user_of(e) {
                    self.explicit.insert((subject, u, server));
                }
                continue;
            }
            if !is_remote_logon(e) || !succeeded(e) {
                continue;
            }
            let src = dir.key(e.source_ip, e.source_domain.as_deref());
            if let Some(ip) = e.source_ip {
                let hours = self
                    .logon_hours
                    .entry(ip)
                    .or_insert_with(|| vec![0; crate::profile::host::HOURS_PER_WEEK]);
                if let Some(c) = hours.get_mut(crate::profile::host::hour_of_week(e.ts)) {
                    *c = c.saturating_add(1);
                }
            }
            if let (Some(s), Some(h)) = (&src, &host) {
                self.logon_edges.insert((s.clone(), h.clone()));
            }
            if let Some(h) = &host {
                let m = self.methods.entry(h.clone()).or_insert((0, 0));
                if is_kerberos(e) {
                    m.0 += 1;
                } else if is_ntlm(e) {
                    m.1 += 1;
                }
            }
            let Some(u) = user_of(e) else { continue };
            self.account_hours.entry(u.clone()).or_default().note(e.ts);
            let sources = self.users.entry(u.clone()).or_default();
            if let Some(s) = src {
                sources.insert(s);
            }
            if let Some(h) = host {
                if is_ntlm(e) {
                    self.user_ntlm.insert((u.clone(), h.clone()));
                }
                let m = Methods::parse(e.auth_method.as_deref().unwrap_or(""));
                let seen = self.user_methods.entry((u.clone(), h.clone())).or_default();
                *seen = seen.union(m);
                let hour = hour_of(e.ts);
                let slot = hour_hosts
                    .entry(u.clone())
                    .or_insert_with(|| (hour, FxHashSet::default()));
                if slot.0 != hour {
                    *slot = (hour, FxHashSet::default());
                }
                slot.1.insert(h);
                let n = slot.1.len();
                let max = self.user_hour_max.entry(u).or_insert(0);
                *max = (*max).max(n);
            }
        }
    }
}

impl BaselineView for LearnedBaseline {
    fn period(&self) -> Option<(Timestamp, Timestamp)> {
        self.period
    }
    fn host_count(&self) -> usize {
        self.hosts.len()
    }
    fn role(&self, ip: IpAddr) -> Role {
        self.hosts
            .get(&ip)
            .and_then(|h| h.role)
            .unwrap_or(Role::Unknown)
    }
    fn role_count(&self, role: Role) -> usize {
        self.role_counts.get(&role).copied().unwrap_or(0)
    }
    fn admin_edge(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<EdgeHistory> {
        self.admin_edges.get(&(src, dst, svc)).map(|e| e.hist)
    }
    fn peer_seen(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.pairs.contains(&(src, dst))
    }
    fn admin_any(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.admin_pairs.contains(&(src, dst))
    }
    fn admin_clients(&self, dst: IpAddr, svc: AdminService, role: Option<Role>) -> usize {
        match role {
            Some(r) => self.admin_clients.get(&(dst, svc, r)).copied().unwrap_or(0),
            None => self
                .admin_clients_any
                .get(&(dst, svc))
                .copied()
                .unwrap_or(0),
        }
    }
    fn admin_reach(&self, src: IpAddr) -> AdminReach {
        self.hosts
            .get(&src)
            .map_or(AdminReach::default(), |h| AdminReach {
                destinations: h.admin_dsts as usize,
                max_per_hour: h.admin_max_per_hour as usize,
            })
    }
    fn peer_bytes_p99(&self, src: IpAddr) -> Option<u64> {
        self.hosts.get(&src)?.bytes.quantile(0.99)
    }
    fn role_peer_bytes_p99(&self, role: Role) -> Option<u64> {
        self.role_bytes.get(&role)?.quantile(0.99)
    }
    fn external_clients(&self, dst: IpAddr) -> usize {
        self.external_clients.get(&dst).copied().unwrap_or(0)
    }
    fn user_known(&self, user: &str) -> bool {
        self.users.contains_key(user) || self.privileged_users.contains(user)
    }
    fn user_source_count(&self, user: &str) -> usize {
        self.users.get(user).map_or(0, FxHashSet::len)
    }
    fn user_from(&self, user: &str, src: &str) -> bool {
        self.users.get(user).is_some_and(|s| s.contains(src))
    }
    fn logon_edge(&self, src: &str, dst: &str) -> bool {
        self.logon_edges
            .contains(&(src.to_string(), dst.to_string()))
    }
    fn privileged(&self, user: &str, host: Option<&str>) -> bool {
        match host {
            Some(h) => self.privileged.contains(&(user.to_string(), h.to_string())),
            None => self.privileged_users.contains(user),
        }
    }
    fn logon_methods(&self, host: &str) -> (u64, u64) {
        self.methods.get(host).copied().unwrap_or((0, 0))
    }
    fn user_ntlm_on(&self, user: &str, host: &str) -> bool {
        self.user_ntlm
            .contains(&(user.to_string(), host.to_string()))
    }
    fn explicit_seen(&self, subject: &str, user: &str, server: &str) -> bool {
        self.explicit
            .contains(&(subject.to_string(), user.to_string(), server.to_string()))
    }
    fn remote_exec_seen(&self, src: &str, dst: &str) -> bool {
        self.remote_exec
            .contains(&(src.to_string(), dst.to_string()))
    }
    fn user_hosts_per_hour(&self, user: &str) -> usize {
        self.user_hour_max.get(user).copied().unwrap_or(0)
    }
    fn hour_of_week_activity(&self, src: IpAddr) -> Option<&[u32]> {
        self.hosts
            .get(&src)
            .map(|h| h.hours.as_slice())
            .filter(|h| !h.is_empty())
    }
    fn user_methods_on(&self, user: &str, host: &str) -> Methods {
        self.user_methods
            .get(&(user.to_string(), host.to_string()))
            .copied()
            .unwrap_or_default()
    }
}

impl Habits for LearnedBaseline {
    fn account_hours(&self, user: &str) -> Option<WeekHours> {
        Some(self.account_hours.get(user).copied().unwrap_or_default())
    }
    fn edge_hours(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<WeekHours> {
        self.admin_edges.get(&(src, dst, svc)).map(|e| e.hours)
    }
    fn service_reach(&self, src: IpAddr, svc: AdminService) -> Option<usize> {
        Some(self.service_reach.get(&(src, svc)).copied().unwrap_or(0))
    }
    fn privileged_hosts(&self, user: &str) -> Option<usize> {
        Some(self.privileged_hosts.get(user).copied().unwrap_or(0))
    }
    fn forwarder(&self, ip: IpAddr) -> Option<bool> {
        Some(
            self.hosts
                .get(&ip)
                .is_some_and(|h| h.clients >= 5 && h.external_out * 2 > h.attempts),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh(t: i64, src: &str, dst: &str) -> Flow {
        flow(t, src, dst, 22, crate::event::ConnState::SF)
    }

    fn flow(t: i64, src: &str, dst: &str, port: u16, state: crate::event::ConnState) -> Flow {
        Flow {
            ts: Timestamp::from_parts(t, 0),
            uid: format!("C{t}").into(),
            orig_h: src.parse().unwrap(),
            orig_p: 40_000,
            resp_h: dst.parse().unwrap(),
            resp_p: port,
            proto: crate::event::Transport::Tcp,
            service: None,
            duration: None,
            orig_bytes: Some(900),
            resp_bytes: Some(3000),
            conn_state: state,
            missed_bytes: 0,
            history: "ShADadFf".into(),
            orig_pkts: 8,
            orig_ip_bytes: 1300,
            resp_pkts: 8,
            resp_ip_bytes: 3400,
            ip_proto: 6,
            origin: None,
        }
    }

    /// A Linux box that three desks log on to is a server, as stored
    /// profiles say (one set of role thresholds); two desks are not enough.
    #[test]
    fn a_host_answering_three_clients_is_a_server() {
        let cfg = Config::default();
        let dir = Directory::from_events(&[]);
        let mut flows = Vec::new();
        for (i, desk) in ["10.1.0.11", "10.1.0.12", "10.1.0.13"].iter().enumerate() {
            flows.push(ssh(1_000 + i as i64 * 60, desk, "10.1.0.50"));
        }
        for (i, desk) in ["10.1.0.11", "10.1.0.12"].iter().enumerate() {
            flows.push(ssh(2_000 + i as i64 * 60, desk, "10.1.0.60"));
        }
        flows.sort();
        let b = LearnedBaseline::learn(&flows, &[], &dir, &cfg);
        assert_eq!(b.role("10.1.0.50".parse().unwrap()), Role::Server);
        assert_eq!(b.role("10.1.0.60".parse().unwrap()), Role::Workstation);
        assert_eq!(
            crate::profile::RoleThresholds::default().server_clients,
            3,
            "the learned rule follows the stored profiles' threshold"
        );
    }

    /// Scanners and domain controllers by the stored profiles' thresholds
    /// too: sixteen hosts mostly unanswered make a scanner (fifteen do not),
    /// two Kerberos clients a domain controller.
    #[test]
    fn scanners_and_domain_controllers_follow_the_stored_thresholds() {
        use crate::event::ConnState::{S0, SF};
        let cfg = Config::default();
        let dir = Directory::from_events(&[]);
        let mut flows = Vec::new();
        for i in 0..16 {
            flows.push(flow(
                100 + i,
                "10.1.0.7",
                &format!("10.1.1.{}", i + 1),
                8080,
                S0,
            ));
        }
        for i in 0..15 {
            flows.push(flow(
                200 + i,
                "10.1.0.8",
                &format!("10.1.2.{}", i + 1),
                8080,
                S0,
            ));
        }
        flows.push(flow(300, "10.1.0.11", "10.1.0.2", 88, SF));
        flows.push(flow(301, "10.1.0.12", "10.1.0.2", 88, SF));
        flows.sort();
        let b = LearnedBaseline::learn(&flows, &[], &dir, &cfg);
        assert_eq!(b.role("10.1.0.7".parse().unwrap()), Role::Scanner);
        assert_eq!(b.role("10.1.0.8".parse().unwrap()), Role::Workstation);
        assert_eq!(b.role("10.1.0.2".parse().unwrap()), Role::DomainController);
    }

    #[test]
    fn log_histo_quantiles_are_close() {
        let mut h = LogHisto::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p99 = h.quantile(0.99).unwrap();
        assert!((990_000..=1_130_000).contains(&p99), "{p99}");
        let p50 = h.quantile(0.5).unwrap();
        assert!((500_000..=570_000).contains(&p50), "{p50}");
        assert_eq!(LogHisto::default().quantile(0.5), None);
        let mut one = LogHisto::default();
        one.record(5);
        assert_eq!(one.quantile(0.99), Some(5));
    }
}
