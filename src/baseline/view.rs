//! One host's profile as a report: the typed, serialisable shape behind
//! `lateral profile HOST` (text via `report::text::profile`, JSON via
//! serde).
//!
//! Everything here is derived from a [`Baseline`]'s profiles by queries;
//! lists are sorted (peers by flows, most first, then by key) so the same
//! baseline always gives the same report.

use crate::baseline::Baseline;
use crate::hosts::HostKey;
use crate::model::Service;
use crate::model::event::Timestamp;
use crate::profile::{Distribution, HostProfile, Profiles};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A timestamp as RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Time(pub String);

impl From<Timestamp> for Time {
    fn from(t: Timestamp) -> Time {
        Time(t.to_rfc3339())
    }
}

/// Who the host is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Its key in the baseline.
    pub key: String,
    /// Its addresses.
    pub ips: Vec<IpAddr>,
    /// Its names, short name first.
    pub names: Vec<String>,
    /// Its role (given in the hosts file, or inferred).
    pub role: &'static str,
    /// Whether the role was given in the hosts file.
    pub role_given: bool,
    /// First flow or event.
    pub first_seen: Time,
    /// Last flow or event.
    pub last_seen: Time,
    /// Flows it originated.
    pub flows_out: u64,
    /// Flows it answered.
    pub flows_in: u64,
    /// Log events naming it.
    pub events: u64,
    /// Most hosts it administered in one hour.
    pub admin_peak_hour_hosts: u32,
}

/// A service on one edge or offered or used, named for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceName {
    /// `tcp/445 (smb)`.
    pub service: String,
    /// Transport.
    pub transport: &'static str,
    /// Responder port.
    pub port: u16,
    /// The remote-admin protocol it is, if any.
    pub admin: Option<&'static str>,
}

impl From<&Service> for ServiceName {
    fn from(s: &Service) -> ServiceName {
        ServiceName {
            service: s.to_string(),
            transport: s.proto.zeek_name(),
            port: s.port,
            admin: s.admin_service().map(|a| a.name()),
        }
    }
}

/// One peer in one direction, summed over services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// The peer's key.
    pub key: String,
    /// Its addresses.
    pub ips: Vec<IpAddr>,
    /// Its role.
    pub role: &'static str,
    /// Flows between the two in this direction.
    pub flows: u64,
    /// Of those, failed attempts.
    pub failed: u64,
    /// Payload bytes originator -> responder.
    pub bytes_out: u64,
    /// Payload bytes responder -> originator.
    pub bytes_in: u64,
    /// Most days active on any one service (within the last 64 days of it).
    pub days_active: u32,
    /// First flow.
    pub first: Time,
    /// Last flow.
    pub last: Time,
    /// Services used between them, by flows (most first).
    pub services: Vec<ServiceName>,
}

/// A service the host answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offered {
    /// The service.
    #[serde(flatten)]
    pub service: ServiceName,
    /// Distinct clients.
    pub clients: u32,
    /// Clients with an established flow.
    pub established_clients: u32,
    /// Flows.
    pub flows: u64,
    /// Failed attempts.
    pub failed: u64,
}

/// A service the host used as a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Used {
    /// The service.
    #[serde(flatten)]
    pub service: ServiceName,
    /// Distinct servers.
    pub servers: u32,
    /// Flows.
    pub flows: u64,
}

/// Logons of one user between the host and one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserLogons {
    /// The account (lowercase).
    pub user: String,
    /// The other host: the source of logons to this one, the target of
    /// logons from it; absent when the record names no source.
    pub peer: Option<String>,
    /// Successful logons.
    pub successes: u32,
    /// Failed logons.
    pub failures: u32,
    /// Privileged sessions.
    pub privileged: u32,
    /// Methods seen (`password`, `kerberos`, ...).
    pub methods: Vec<&'static str>,
    /// Windows logon types seen.
    pub logon_types: Vec<u8>,
    /// First record.
    pub first: Time,
    /// Last record.
    pub last: Time,
}

/// A distribution as percentiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// What is measured.
    pub name: &'static str,
    /// Its unit.
    pub unit: &'static str,
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: Option<u64>,
    /// 90th percentile.
    pub p90: Option<u64>,
    /// 99th percentile.
    pub p99: Option<u64>,
    /// Largest.
    pub max: Option<u64>,
}

fn percentiles(name: &'static str, unit: &'static str, d: &Distribution) -> Percentiles {
    Percentiles {
        name,
        unit,
        count: d.len(),
        p50: d.quantile(0.5),
        p90: d.quantile(0.9),
        p99: d.quantile(0.99),
        max: d.max(),
    }
}

/// One host's profile for people and machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    /// Who it is.
    pub identity: Identity,
    /// Hosts it reached, most flows first (at most `top`).
    pub peers_out: Vec<Peer>,
    /// Hosts that reached it, most flows first (at most `top`).
    pub peers_in: Vec<Peer>,
    /// Peers beyond `top`, out and in.
    pub more_peers: (usize, usize),
    /// Services it answered.
    pub services_offered: Vec<Offered>,
    /// Services it used.
    pub services_used: Vec<Used>,
    /// Users logging on to it, by user then source.
    pub logons_to: Vec<UserLogons>,
    /// Users logging on from it to other hosts, by user then target.
    pub logons_from: Vec<UserLogons>,
    /// Distributions.
    pub distributions: Vec<Percentiles>,
    /// Flows and events per hour of the week: 7 rows (Monday first) of 24 UTC hours.
    pub hour_of_week: Vec<Vec<u32>>,
}

fn host_label(p: &Profiles, k: &HostKey) -> (Vec<IpAddr>, &'static str) {
    match p.host(k) {
        Some(h) => (h.ips.clone(), h.role.name()),
        None => (k.ip().into_iter().collect(), "unknown"),
    }
}

fn peers<'a>(
    p: &'a Profiles,
    edges: Vec<crate::profile::EdgeRef<'a>>,
    outbound: bool,
    top: usize,
) -> (Vec<Peer>, usize) {
    #[derive(Default)]
    struct Acc<'a> {
        flows: u64,
        failed: u64,
        out: u64,
        inb: u64,
        days: u32,
        first: Option<Timestamp>,
        last: Option<Timestamp>,
        services: Vec<(u64, &'a Service)>,
    }
    let mut by: BTreeMap<&HostKey, Acc<'_>> = BTreeMap::new();
    for e in edges {
        let peer = if outbound { e.dst } else { e.src };
        let a = by.entry(peer).or_default();
        let s = e.stats;
        a.flows += u64::from(s.flows);
        a.failed += u64::from(s.failed);
        a.out = a.out.saturating_add(s.bytes_out);
        a.inb = a.inb.saturating_add(s.bytes_in);
        a.days = a.days.max(s.days_active());
        a.first = Some(a.first.map_or(s.first, |f| f.min(s.first)));
        a.last = Some(a.last.map_or(s.last, |l| l.max(s.last)));
        a.services.push((u64::from(s.flows), e.service));
    }
    let mut list: Vec<(&HostKey, Acc<'_>)> = by.into_iter().collect();
    list.sort_by(|a, b| b.1.flows.cmp(&a.1.flows).then_with(|| a.0.cmp(b.0)));
    let more = list.len().saturating_sub(top);
    let out = list
        .into_iter()
        .take(top)
        .map(|(k, mut a)| {
            a.services
                .sort_by(|x, y| y.0.cmp(&x.0).then_with(|| x.1.cmp(y.1)));
            let (ips, role) = host_label(p, k);
            Peer {
                key: k.to_string(),
                ips,
                role,
                flows: a.flows,
                failed: a.failed,
                bytes_out: a.out,
                bytes_in: a.inb,
                days_active: a.days,
                first: a.first.unwrap_or_default().into(),
                last: a.last.unwrap_or_default().into(),
                services: a
                    .services
                    .iter()
                    .map(|(_, s)| ServiceName::from(*s))
                    .collect(),
            }
        })
        .collect();
    (out, more)
}

fn logons(list: Vec<crate::profile::LogonRef<'_>>, to: bool) -> Vec<UserLogons> {
    let mut v: Vec<UserLogons> = list
        .into_iter()
        .map(|l| UserLogons {
            user: l.user.to_string(),
            peer: if to {
                l.src.map(ToString::to_string)
            } else {
                Some(l.dst.to_string())
            },
            successes: l.stats.successes,
            failures: l.stats.failures,
            privileged: l.stats.privileged,
            methods: l.stats.methods.names(),
            logon_types: l.stats.types.iter().collect(),
            first: l.stats.first.into(),
            last: l.stats.last.into(),
        })
        .collect();
    v.sort_by(|a, b| (&a.user, &a.peer).cmp(&(&b.user, &b.peer)));
    v
}

impl Baseline {
    /// The profile of `host` (an IP address or a name in any spelling),
    /// with at most `top` peers each way; `None` when the baseline does
    /// not know it.
    pub fn host_view(&self, host: &str, top: usize) -> Option<HostView> {
        let p = &self.profiles;
        let h: &HostProfile = match host.trim().parse::<IpAddr>() {
            Ok(ip) => p.host_by_ip(ip),
            Err(_) => p
                .host_by_name(host)
                .or_else(|| self.directory.key_for_name(host).and_then(|k| p.host(&k))),
        }?;
        let key = &h.key;
        let (peers_out, more_out) = peers(p, p.outbound(key), true, top);
        let (peers_in, more_in) = peers(p, p.inbound(key), false, top);
        let services = p.services();
        let services_offered = p
            .services_offered(key)
            .iter()
            .filter_map(|s| {
                Some(Offered {
                    service: ServiceName::from(services.get(s.service.0 as usize)?),
                    clients: s.clients,
                    established_clients: s.established_clients,
                    flows: s.flows,
                    failed: s.failed,
                })
            })
            .collect();
        let services_used = p
            .services_used(key)
            .into_iter()
            .map(|u| Used {
                service: ServiceName::from(u.service),
                servers: u.servers,
                flows: u.flows,
            })
            .collect();
        let mut names: Vec<String> = h.names.clone();
        let known: BTreeSet<String> = names.iter().cloned().collect();
        for n in self.directory.names_of(key) {
            if !known.contains(&n) {
                names.push(n);
            }
        }
        let mut grid = vec![vec![0u32; 24]; 7];
        for (i, c) in h.hour_of_week.counts().iter().enumerate() {
            if let Some(cell) = grid.get_mut(i / 24).and_then(|row| row.get_mut(i % 24)) {
                *cell = *c;
            }
        }
        Some(HostView {
            identity: Identity {
                key: key.to_string(),
                ips: h.ips.clone(),
                names,
                role: h.role.name(),
                role_given: h.given_role.is_some(),
                first_seen: h.first_seen.into(),
                last_seen: h.last_seen.into(),
                flows_out: h.flows_out,
                flows_in: h.flows_in,
                events: h.events,
                admin_peak_hour_hosts: h.admin_peak_hour_hosts,
            },
            peers_out,
            peers_in,
            more_peers: (more_out, more_in),
            services_offered,
            services_used,
            logons_to: logons(p.logons_to(key), true),
            logons_from: logons(p.logons_from(key), false),
            distributions: vec![
                percentiles("bytes sent per flow", "bytes", &h.bytes_out_per_flow),
                percentiles("bytes received per flow", "bytes", &h.bytes_in_per_flow),
                percentiles("flow duration", "microseconds", &h.duration_us),
                percentiles("flows per active hour", "flows", &h.flows_per_hour),
                percentiles("distinct peers per active hour", "peers", &h.peers_per_hour),
                percentiles(
                    "bytes sent to one peer in one hour",
                    "bytes",
                    &h.bytes_out_per_peer_hour,
                ),
                percentiles(
                    "bytes sent to one peer in one day",
                    "bytes",
                    &h.bytes_out_per_peer_day,
                ),
            ],
            hour_of_week: grid,
        })
    }
}

/// One build or update of a baseline, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    /// `build` or `update`.
    pub kind: String,
    /// Inputs read.
    pub inputs: Vec<String>,
    /// Earliest flow or event used.
    pub first: Option<Time>,
    /// Latest flow or event used.
    pub last: Option<Time>,
    /// `--until` of a build.
    pub until: Option<Time>,
    /// Connection records used.
    pub flows: u64,
    /// Log events used.
    pub events: u64,
    /// Inputs that were partial or unreadable.
    pub partial_inputs: u64,
}

/// What a baseline holds and was made from (`lateral baseline info --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfoView {
    /// The container format version.
    pub format_version: u32,
    /// The lateral version that last wrote it.
    pub lateral_version: String,
    /// Earliest flow or event learned from.
    pub first: Option<Time>,
    /// Latest flow or event learned from.
    pub last: Option<Time>,
    /// Hosts profiled.
    pub hosts: usize,
    /// Distinct edges.
    pub edges: usize,
    /// Distinct (user, source, target) logon triples.
    pub logons: usize,
    /// Named hosts in the directory.
    pub directory_hosts: usize,
    /// Builds and updates, oldest first.
    pub history: Vec<RunView>,
}

impl Baseline {
    /// The baseline's metadata and counts, for reports.
    pub fn info(&self) -> InfoView {
        let c = self.counts();
        InfoView {
            format_version: crate::baseline::file::FORMAT_VERSION,
            lateral_version: self.meta.lateral_version.clone(),
            first: self.meta.first.map(Time::from),
            last: self.meta.last.map(Time::from),
            hosts: c.hosts,
            edges: c.edges,
            logons: c.logons,
            directory_hosts: self.directory.len(),
            history: self
                .meta
                .history
                .iter()
                .map(|r| RunView {
                    kind: r.kind.clone(),
                    inputs: r.inputs.clone(),
                    first: r.first.map(Time::from),
                    last: r.last.map(Time::from),
                    until: r.until.map(Time::from),
                    flows: r.flows,
                    events: r.events,
                    partial_inputs: r.partial_inputs,
                })
                .collect(),
        }
    }
}
