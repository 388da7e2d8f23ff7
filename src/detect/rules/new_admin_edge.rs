//! `lateral.new-admin-edge`: a host uses a remote-admin service on another
//! internal host for the first time.
//!
//! ## What it detects
//! A connection from an internal host to another over SMB, RDP, WinRM,
//! SSH, RPC/DCOM/WMI, VNC or Telnet, for a (source, destination, service)
//! that never occurred in the baseline. The score weighs how rare that
//! edge is for hosts of the source's role (if a fifth of the workstations
//! use SMB on the file server, one more is normal), whether the
//! destination serves that service to anyone at all, whether the source
//! already administered the destination over another service, whether the
//! destination is a client of the source (a management server reaching
//! the hosts that poll it), whether the source administers many hosts as
//! its job, and whether the connection was answered.
//!
//! ## Why it matters
//! Moving between hosts means using remote services the source does not
//! normally use: ATT&CK T1021 (Remote Services) and its sub-techniques
//! .001 RDP, .002 SMB/admin shares, .003 DCOM, .004 SSH, .005 VNC, .006 WinRM.
//!
//! ## Evidence
//! The connection records of the new edge (uid, endpoints, state, bytes).
//!
//! ## False positives
//! An admin's first session on a new server, a new hire's workstation, a
//! help-desk session. An admin host (by role or `known_admins`) that
//! already used the service on `routine_reach` hosts in the baseline
//! raises nothing for one more, when the baseline keeps that reach (the
//! learned and the stored one do), nor over another admin service on one
//! more host of a role it administered twice `routine_reach` hosts of (a
//! help desk taking over a workstation after opening C$ on others); other
//! admin hosts score lower. A destination that is
//! no client of the source but is reached in one push to a crowd mostly of
//! its clients (a roll-out reaching a new hire's desk) is discounted like
//! a client. A single new edge is at most a medium alert, and only gains
//! rank when other alerts join it.
//!
//! With no history (role priors) the destination's other clients in the
//! judged records stand in for its baseline clients, a workstation's RDP
//! or SSH session on a server weighs less (daily work in most networks)
//! and is rare for having no other client only when the server opened an
//! admin session afterwards (one user's box has one client; a session is
//! suspect for what it leads to),
//! and an admin host's edge is routine: it adds nothing to an incident's
//! score unless a suspect step reached that host first.
//!
//! ## Tuning
//! `[detect.new_admin_edge]`: `common_fraction` (share of a role that makes
//! an edge normal), `routine_reach`, `min_score`; `[network] known_admins`;
//! `[detect.fan_out] min_hosts` (what counts as a push).

use crate::alert::{Alert, Rule};
use crate::detect::common::{baseline_span, clamp_score, flow_evidence};
use crate::detect::{AdminService, DetectInput, Detector, Role, answered};
use crate::model::event::{Flow, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Thresholds of `lateral.new-admin-edge`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewAdminEdgeConfig {
    /// An edge that at least this fraction of the source's role used in the
    /// baseline towards the same destination and protocol is normal.
    pub common_fraction: f64,
    /// An admin host that already used a service on at least this many
    /// hosts in the baseline uses it on one more as its job: no alert.
    pub routine_reach: usize,
    /// Alerts below this score are dropped.
    pub min_score: u8,
}

impl Default for NewAdminEdgeConfig {
    fn default() -> Self {
        NewAdminEdgeConfig {
            common_fraction: 0.2,
            routine_reach: 2,
            min_score: 15,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.new-admin-edge",
    name: "New remote-admin edge",
    description: "A host used a remote-administration service on another internal host for the first time, rare for hosts of its role.",
};

/// The detector.
pub struct NewAdminEdge;

/// One candidate new edge, shared with the convergence detector.
pub struct NewEdge<'a> {
    /// Source.
    pub src: IpAddr,
    /// Destination.
    pub dst: IpAddr,
    /// Service.
    pub svc: AdminService,
    /// The edge's flows, in time order.
    pub flows: Vec<&'a Flow>,
    /// Share of the source's role that used the edge (for a host the
    /// baseline never saw, of the workstations or of all hosts, whichever
    /// is larger).
    pub fraction: f64,
    /// Distinct baseline clients of the service on the destination.
    pub dst_clients: usize,
}

impl NewEdge<'_> {
    /// True when at least one connection was answered.
    pub fn answered(&self) -> bool {
        self.flows.iter().any(|f| answered(f))
    }
}

/// Today's (source, destination, service) edges that the baseline never saw.
pub fn new_edges<'a>(input: &DetectInput<'a>) -> Vec<NewEdge<'a>> {
    let net = &input.config.network;
    let b = input.baseline;
    let mut groups: BTreeMap<(IpAddr, IpAddr, AdminService), Vec<&'a Flow>> = BTreeMap::new();
    for f in input.flows {
        let Some(svc) = AdminService::of_flow(f) else {
            continue;
        };
        if input.directory.same_host(f.orig_h, f.resp_h)
            || !net.is_internal(f.orig_h)
            || !net.is_internal(f.resp_h)
        {
            continue;
        }
        groups.entry((f.orig_h, f.resp_h, svc)).or_default().push(f);
    }
    let mut out = Vec::new();
    for ((src, dst, svc), flows) in groups {
        if b.admin_edge(src, dst, svc).is_some() {
            continue;
        }
        // With no history, what every domain member does is expected.
        if b.expected_by_role(src, dst, svc) {
            continue;
        }
        let role = b.role(src);
        let share = |used: usize, population: usize| {
            if population == 0 {
                0.0
            } else {
                used as f64 / population as f64
            }
        };
        let fraction = if role == Role::Unknown {
            // A host the baseline never saw is most likely one more of the
            // commonest kind, a workstation: judge it as one (a role prior),
            // or against every host when that says more.
            share(b.admin_clients(dst, svc, None), b.host_count()).max(share(
                b.admin_clients(dst, svc, Some(Role::Workstation)),
                b.role_count(Role::Workstation),
            ))
        } else {
            share(b.admin_clients(dst, svc, Some(role)), b.role_count(role))
        };
        out.push(NewEdge {
            src,
            dst,
            svc,
            flows,
            fraction,
            dst_clients: b.admin_clients(dst, svc, None),
        });
    }
    out
}

/// Today's pushes: (source, service) used on at least `fan_out.min_hosts`
/// internal hosts, at least half of them the source's clients in the
/// baseline, with (destinations, clients).
fn pushes(input: &DetectInput<'_>) -> BTreeMap<(IpAddr, AdminService), (usize, usize)> {
    let net = &input.config.network;
    let b = input.baseline;
    let mut dsts: BTreeMap<(IpAddr, AdminService), BTreeSet<IpAddr>> = BTreeMap::new();
    for f in input.flows {
        let Some(svc) = AdminService::of_flow(f) else {
            continue;
        };
        if !input.directory.same_host(f.orig_h, f.resp_h)
            && net.is_internal(f.orig_h)
            && net.is_internal(f.resp_h)
        {
            dsts.entry((f.orig_h, svc)).or_default().insert(f.resp_h);
        }
    }
    let min = input.config.detect.fan_out.min_hosts.max(2);
    dsts.into_iter()
        .filter(|(_, d)| d.len() >= min)
        .filter_map(|((src, svc), d)| {
            let clients = d.iter().filter(|x| b.peer_seen(**x, src)).count();
            (clients * 2 >= d.len()).then_some(((src, svc), (d.len(), clients)))
        })
        .collect()
}

fn dst_label(input: &DetectInput<'_>, ip: IpAddr) -> String {
    input.directory.host_ip(ip).label()
}

impl Detector for NewAdminEdge {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.new_admin_edge;
        let b = input.baseline;
        let net = &input.config.network;
        let pushes = pushes(input);
        let (judged, onward) = if b.priors() {
            (judged_clients(input), judged_sessions(input))
        } else {
            (BTreeMap::new(), BTreeMap::new())
        };
        let mut alerts = Vec::new();
        for e in new_edges(input) {
            if e.fraction >= cfg.common_fraction {
                continue;
            }
            let role = b.role(e.src);
            let admin_host = role == Role::AdminHost || net.is_known_admin(e.src);
            // An admin host using a service it already administers several
            // hosts with on one more is doing its job.
            if admin_host
                && e.answered()
                && input
                    .baseline
                    .service_reach(e.src, e.svc)
                    .is_some_and(|n| n >= cfg.routine_reach.max(1))
            {
                continue;
            }
            // Nor is an admin host (a help desk) reaching one more host of
            // a kind it already administers several of, over another admin
            // service: the destination's peers are its daily work.
            let dst_role = b.role(e.dst);
            if admin_host
                && e.answered()
                && dst_role != Role::Unknown
                && b.role_reach(e.src, dst_role) >= cfg.routine_reach.max(1) * 2
            {
                continue;
            }
            let mut score = base_score(e.svc);
            let mut why = Vec::new();
            // Rarity within the role: the fewer peers of the role use it, the higher.
            score *= 1.0 - 0.6 * (e.fraction / cfg.common_fraction.max(1e-9));
            // The peer comparison: how many of the source's role (a host
            // the baseline never saw is judged as a workstation) did this.
            let peer_role = if role == Role::Unknown {
                Role::Workstation
            } else {
                role
            };
            let peers = b.role_count(peer_role);
            let admin =
                matches!(role, Role::AdminHost | Role::Scanner) || net.is_known_admin(e.src);
            if b.priors() {
                // No history: what the judged records show instead. A
                // service no other host uses on the destination is rare
                // there; one others use is its ordinary service. An admin
                // host's edge is discounted as its job below, and the two
                // discounts do not stack.
                let others = judged
                    .get(&(e.dst, e.svc))
                    .map_or(0, |c| c.iter().filter(|x| **x != e.src).count());
                // A workstation's interactive session on a server is one
                // user's work, and one client is what such a server often
                // has in a few hours: its rarity counts only when the
                // session led on, the destination opening afterwards an
                // admin session that no domain member opens anyway.
                let daily = daily_work(peer_role, dst_role, e.svc);
                let quiet_after = daily && !led_on(input, &onward, &e);
                if (others == 0 && !quiet_after) || admin {
                    score += 10.0;
                }
                why.push(match others {
                    0 if quiet_after => format!(
                        "no other host used {} on it in these records, and it opened no admin session after",
                        e.svc.label()
                    ),
                    0 => format!(
                        "no other host used {} on it in these records",
                        e.svc.label()
                    ),
                    n => format!(
                        "{n} other host{} used {} on it in these records",
                        if n == 1 { "" } else { "s" },
                        e.svc.label()
                    ),
                });
                // The role prior: workstations open interactive sessions
                // on servers every day (IT staff, developers on their Linux
                // hosts, terminal-server users); between workstations, or
                // on a domain controller, no role does.
                if daily {
                    score *= 0.6;
                }
            } else if e.dst_clients == 0 {
                score += 10.0;
                why.push(if peers > 0 {
                    format!(
                        "none of the {peers} {}s nor any other host used {} on it before",
                        peer_role.label(),
                        e.svc.label()
                    )
                } else {
                    format!("no host used {} on it before", e.svc.label())
                });
            } else if peers == 0 {
                why.push(format!(
                    "{} other host{} did",
                    e.dst_clients,
                    if e.dst_clients == 1 { "" } else { "s" }
                ));
            } else {
                why.push(format!(
                    "{} of its {peers} peer {}s did, {} host{} in all",
                    b.admin_clients(e.dst, e.svc, Some(peer_role)),
                    peer_role.label(),
                    e.dst_clients,
                    if e.dst_clients == 1 { "" } else { "s" }
                ));
            }
            if admin {
                score *= 0.4;
                why.push(format!("{} administers others", role.label()));
            }
            if b.peer_seen(e.dst, e.src) {
                score *= 0.5;
                why.push(format!("{} is one of its clients", dst_label(input, e.dst)));
            } else if let Some(p) = pushes.get(&(e.src, e.svc)) {
                // One push to a crowd that is mostly its own clients: a
                // management server's roll-out reaches a newcomer too.
                score *= 0.5;
                why.push(format!(
                    "part of a push to {} hosts, {} of them its clients",
                    p.0, p.1
                ));
            }
            if b.admin_any(e.src, e.dst) {
                score *= 0.6;
                why.push("it already administered it over another service".into());
            }
            if !e.answered() {
                score *= 0.5;
                why.push("never answered".into());
            }
            if b.priors() {
                why.push(format!(
                    "with no history, judged by role: {} to {} over {} is {}",
                    role.label(),
                    dst_role.label(),
                    e.svc.label(),
                    if daily_work(peer_role, dst_role, e.svc) {
                        "daily work for IT staff, developers and terminal-server users, low alone"
                    } else {
                        "rare in any network"
                    }
                ));
            } else if b.period().is_none() {
                score *= 0.6;
            }
            let score = clamp_score(score);
            if score < cfg.min_score {
                continue;
            }
            let Some(first) = e.flows.first() else {
                continue;
            };
            let src = input.directory.host_ip(e.src);
            let dst = input.directory.host_ip(e.dst);
            let mut a = Alert::new(
                RULE,
                crate::alert::attack::of_service(e.svc),
                score,
                first.ts,
            );
            a.message = format!(
                "{} ({}) never used {} to {} in {}; {}",
                src.label(),
                role.label(),
                e.svc.label(),
                dst.label(),
                baseline_span(b),
                why.join("; ")
            );
            a.source = Some(src);
            a.destination = Some(dst);
            a.destination_port = Some(first.resp_p);
            a.movement = e.answered();
            // With no history, an admin host's new edge is its job until a
            // suspect movement reaches it first (see [`crate::incident`]).
            a.routine = admin && b.priors();
            for f in &e.flows {
                a.add_evidence(flow_evidence(f));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}

/// The role prior of short inputs: whether hosts of role `src` open `svc`
/// on hosts of role `dst` as daily work in most networks. Workstations
/// open interactive sessions (RDP, SSH) on servers every day (IT staff,
/// developers on their Linux hosts, terminal-server users); between
/// workstations, or on a domain controller, no role does.
fn daily_work(src: Role, dst: Role, svc: AdminService) -> bool {
    src == Role::Workstation
        && dst == Role::Server
        && matches!(svc, AdminService::Rdp | AdminService::Ssh)
}

/// The judged records' answered remote-admin sessions between two
/// internal hosts, with their service.
fn judged_admin_flows<'a>(
    input: &'a DetectInput<'_>,
) -> impl Iterator<Item = (&'a Flow, AdminService)> + 'a {
    let net = &input.config.network;
    input.flows.iter().filter_map(move |f| {
        let svc = AdminService::of_flow(f)?;
        (answered(f)
            && !input.directory.same_host(f.orig_h, f.resp_h)
            && net.is_internal(f.orig_h)
            && net.is_internal(f.resp_h))
        .then_some((f, svc))
    })
}

/// The internal hosts with an answered session of each service on each
/// destination in the judged records (the in-input prevalence the role
/// priors report).
fn judged_clients(input: &DetectInput<'_>) -> BTreeMap<(IpAddr, AdminService), BTreeSet<IpAddr>> {
    let mut out: BTreeMap<(IpAddr, AdminService), BTreeSet<IpAddr>> = BTreeMap::new();
    for (f, svc) in judged_admin_flows(input) {
        out.entry((f.resp_h, svc)).or_default().insert(f.orig_h);
    }
    out
}

/// Per internal source, the answered remote-admin sessions it opened on
/// other internal hosts in the judged records that no domain member opens
/// anyway ([`crate::detect::BaselineView::expected_by_role`]): (start,
/// destination), in time order.
fn judged_sessions(input: &DetectInput<'_>) -> BTreeMap<IpAddr, Vec<(Timestamp, IpAddr)>> {
    let b = input.baseline;
    let mut out: BTreeMap<IpAddr, Vec<(Timestamp, IpAddr)>> = BTreeMap::new();
    for (f, svc) in judged_admin_flows(input) {
        if !b.expected_by_role(f.orig_h, f.resp_h, svc) {
            out.entry(f.orig_h).or_default().push((f.ts, f.resp_h));
        }
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    out
}

/// True when the edge's destination opened an admin session (of
/// `onward`, [`judged_sessions`]) on a host other than the edge's source
/// after the edge's first connection: the session led on.
fn led_on(
    input: &DetectInput<'_>,
    onward: &BTreeMap<IpAddr, Vec<(Timestamp, IpAddr)>>,
    e: &NewEdge<'_>,
) -> bool {
    let Some(first) = e.flows.first() else {
        return false;
    };
    onward.get(&e.dst).is_some_and(|v| {
        let from = v.partition_point(|(t, _)| *t < first.ts);
        v.get(from..)
            .unwrap_or(&[])
            .iter()
            .any(|(_, d)| !input.directory.same_host(*d, e.src))
    })
}

/// How suspicious a new edge over a service is by itself (0-100).
fn base_score(svc: AdminService) -> f64 {
    match svc {
        AdminService::WinRm | AdminService::Vnc | AdminService::Telnet => 40.0,
        AdminService::Rdp => 35.0,
        AdminService::Smb | AdminService::Ssh => 32.0,
        AdminService::Rpc => 28.0,
    }
}
