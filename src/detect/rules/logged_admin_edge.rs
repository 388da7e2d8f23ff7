//! `lateral.logged-admin-edge`: a new remote-admin connection between two
//! internal hosts, read from the initiating host's own connection log
//! (Sysmon 3 with `Initiated` true, or an outbound Windows Filtering
//! Platform 5156) when no capture of it was given.
//!
//! ## What it detects
//! A network-connection event (`network-connection`) whose direction is
//! outbound (`labels.direction` `egress`), from an internal host to another
//! internal host on a remote-admin port (SMB 445/139, RDP 3389, WinRM
//! 5985/5986, SSH 22, RPC 135, VNC, Telnet), over an edge the baseline never
//! saw for that service. A connection that a capture or conn.log of the same
//! run also holds (same addresses and ports, within
//! [`SAME_CONNECTION_SECS`] seconds) is left to `lateral.new-admin-edge`,
//! which judges the flow: one connection is never counted twice.
//!
//! ## Why it matters
//! Responders often hold the endpoints' logs and no capture; the endpoint
//! still says which process opened a session to which host: ATT&CK T1021
//! (Remote Services) by its sub-technique of the port.
//!
//! ## Evidence
//! The connection events, with their process.
//!
//! ## False positives
//! The same as a new admin edge: a new management path, an admin host's
//! first session to a server. Scored low without a baseline; configured
//! admin hosts are skipped.
//!
//! ## Tuning
//! `[network] internal`, `known_admins`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, log_evidence};
use crate::detect::{DetectInput, Detector};
use crate::model::event::LogEvent;
use crate::model::{Action, AdminService};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// How far apart a host's connection event and a captured flow of the
/// same addresses and ports may be and still be one connection, seconds.
pub const SAME_CONNECTION_SECS: i64 = 120;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.logged-admin-edge",
    name: "New remote-admin edge (host log)",
    description: "A host's own connection log shows it opening a remote-admin session to an internal host it never administered, with no capture of that connection given.",
};

/// The detector.
pub struct LoggedAdminEdge;

/// (originator, its port, responder, its port) of a connection.
type FourTuple = (IpAddr, u16, IpAddr, u16);

impl Detector for LoggedAdminEdge {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let net = &input.config.network;
        let dir = input.directory;
        let b = input.baseline;
        let mut groups: BTreeMap<(IpAddr, IpAddr, AdminService), Vec<&LogEvent>> = BTreeMap::new();
        for e in input.events {
            if e.action != Action::NetworkConnection || e.label("direction") != Some("egress") {
                continue;
            }
            let (Some(src), Some(dst), Some(port)) =
                (e.source_ip, e.destination_ip, e.destination_port)
            else {
                continue;
            };
            let Some(svc) = AdminService::of_port(port) else {
                continue;
            };
            if !net.is_internal(src)
                || !net.is_internal(dst)
                || net.is_known_admin(src)
                || dir.same_host(src, dst)
                || b.admin_edge(src, dst, svc).is_some()
                || b.expected_by_role(src, dst, svc)
            {
                continue;
            }
            groups.entry((src, dst, svc)).or_default().push(e);
        }
        if groups.is_empty() {
            return Vec::new();
        }
        // The captured connections of those edges, to leave them to the flows.
        let mut captured: FxHashMap<FourTuple, Vec<i64>> = FxHashMap::default();
        for f in input.flows {
            if AdminService::of_port(f.resp_p).is_some() {
                captured
                    .entry((f.orig_h, f.orig_p, f.resp_h, f.resp_p))
                    .or_default()
                    .push(f.ts.0);
            }
        }
        let near = SAME_CONNECTION_SECS.saturating_mul(1_000_000_000);
        let mut alerts = Vec::new();
        for ((src, dst, svc), events) in groups {
            let alone: Vec<&LogEvent> = events
                .into_iter()
                .filter(|e| {
                    let (Some(s), Some(d)) = (e.source_ip, e.destination_ip) else {
                        return false;
                    };
                    let key = (
                        s,
                        e.source_port.unwrap_or(0),
                        d,
                        e.destination_port.unwrap_or(0),
                    );
                    !captured.get(&key).is_some_and(|ts| {
                        ts.iter().any(|t| t.abs_diff(e.ts.0) <= near.unsigned_abs())
                    })
                })
                .collect();
            let Some(first) = alone.first() else {
                continue;
            };
            // With no history, a host's own log of an edge that role
            // priors do not expect (a workstation opening admin protocols
            // on another) says as much as a new edge against history.
            let score = if b.period().is_none() && !b.priors() {
                25.0
            } else {
                40.0
            };
            let mut a = Alert::new(RULE, attack::of_service(svc), clamp_score(score), first.ts);
            a.source = Some(dir.host_ip(src));
            a.destination = Some(dir.host_ip(dst));
            a.destination_port = first.destination_port;
            a.user = crate::detect::common::user_of(first).map(|u| u.to_string());
            let process = first
                .process_executable()
                .map(crate::detect::rules::remote_process::image_name)
                .unwrap_or_else(|| "?".into());
            a.message = format!(
                "{} opened {} to {} {} time{} ({}), per its own connection log; {}",
                a.source
                    .as_ref()
                    .map_or_else(|| src.to_string(), |h| h.label()),
                svc.label(),
                a.destination
                    .as_ref()
                    .map_or_else(|| dst.to_string(), |h| h.label()),
                alone.len(),
                if alone.len() == 1 { "" } else { "s" },
                process,
                if b.priors() {
                    format!(
                        "with no history, judged by role: {} to {} over {} is rare in any network",
                        b.role(src).label(),
                        b.role(dst).label(),
                        svc.label()
                    )
                } else {
                    "no such edge in the baseline".to_string()
                }
            );
            a.movement = true;
            for e in &alone {
                a.add_evidence(log_evidence(e));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
