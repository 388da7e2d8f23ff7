//! `lateral.remote-exec`: a service installed, or an admin share written,
//! on a host shortly after a network logon from a new source (the PsExec
//! pattern).
//!
//! ## What it detects
//! On one host: a service installation (7045, 4697) or an access to the
//! `ADMIN$` or `C$` share (5140, 5145), within `window_minutes` after a
//! successful network logon from a source that never installed services
//! or used admin shares on that host in the baseline.
//! Share events carry their own source address.
//!
//! ## Why it matters
//! PsExec and its clones copy a binary to `ADMIN$` and start it as a
//! service: ATT&CK T1569.002 (Service Execution) and T1021.002 (SMB/Windows
//! Admin Shares).
//!
//! ## Evidence
//! The logon, the share accesses and the service installation.
//!
//! ## False positives
//! Software deployment from a new management server. Deployment servers
//! recur and so become part of the baseline; configured admin hosts are
//! skipped. With no history (role priors), admin-share access without a
//! service install from a host that administers others by its job
//! (backups, monitoring) is low and routine.
//!
//! ## Tuning
//! `[detect.remote_exec] window_minutes`; `[network] known_admins`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, log_evidence, minutes};
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::LogEvent;
use crate::profile::exec::ExecHit;
use std::collections::BTreeMap;

/// Thresholds of `lateral.remote-exec`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteExecConfig {
    /// A service install or admin-share write this many minutes after a
    /// network logon is tied to it.
    pub window_minutes: u64,
}

impl Default for RemoteExecConfig {
    fn default() -> Self {
        RemoteExecConfig { window_minutes: 10 }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.remote-exec",
    name: "Remote execution after a new logon",
    description: "A service was installed or an admin share written on a host shortly after a network logon from a source new to it.",
};

/// The detector.
pub struct RemoteExec;

/// Ties every service install and admin-share access (events sorted by
/// time) to its source host, keyed as the detectors key hosts
/// ([`crate::detect::Directory::key`]); see [`crate::profile::exec`].
pub fn attribute<'a>(
    events: &'a [LogEvent],
    dir: &crate::detect::Directory,
    window: i64,
) -> Vec<ExecHit<'a, HostKey>> {
    crate::profile::exec::attribute(events, window, |_, ip, name| dir.key(ip, name))
}

impl Detector for RemoteExec {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        let b = input.baseline;
        let window = minutes(input.config.detect.remote_exec.window_minutes);
        let net = &input.config.network;
        type Hit<'a> = (Option<&'a LogEvent>, Vec<&'a LogEvent>);
        let mut hits: BTreeMap<(HostKey, HostKey), Hit<'_>> = BTreeMap::new();
        for h in attribute(input.events, dir, window) {
            let src_ip = dir.addr_of(&h.src);
            let known = b.remote_exec_seen(&h.src, &h.host)
                || src_ip.is_some_and(|s| net.is_known_admin(s));
            if known {
                continue;
            }
            let hit = hits.entry((h.src, h.host)).or_insert((None, Vec::new()));
            if hit.0.is_none() {
                hit.0 = h.logon;
            }
            hit.1.push(h.action);
        }
        let mut alerts = Vec::new();
        for ((src, host), (logon, actions)) in hits {
            let Some(first) = actions.first() else {
                continue;
            };
            let services: Vec<&&LogEvent> = actions
                .iter()
                .filter(|e| e.action == Action::ServiceInstalled)
                .collect();
            let shares = actions.len() - services.len();
            let mut score: f64 = if services.is_empty() { 55.0 } else { 75.0 };
            if !services.is_empty() && shares > 0 {
                score += 10.0;
            }
            if b.period().is_none() {
                score *= 0.7;
            }
            // With no history (role priors), admin shares opened, with no
            // service installed, by a host whose job is reaching hosts
            // (configured, or seen administering many) are that job:
            // backups, monitoring and inventory read `C$` and `ADMIN$` on
            // every server. Low, and routine, until a movement joins it: a
            // chain that reached the host first still counts it
            // (see [`crate::incident`]).
            let by_job = b.priors() && services.is_empty() && b.administers_by_job(&src);
            if by_job {
                score = score.min(21.0);
            }
            let technique = if services.is_empty() {
                attack::SMB
            } else {
                attack::SERVICE_EXECUTION
            };
            let start = logon.map_or(first.ts, |l| l.ts.min(first.ts));
            let mut a = Alert::new(RULE, technique, clamp_score(score), start);
            a.source = match logon {
                Some(l) => dir.host(l.source_ip, l.source_domain.as_deref()),
                None => Some(dir.host_of(&src)),
            };
            a.destination = dir.host(first.host_ip, first.host_name.as_deref());
            // Capture evidence carries the account of its SMB or RPC session.
            a.user = logon
                .and_then(crate::detect::common::user_of)
                .or_else(|| {
                    actions
                        .iter()
                        .find_map(|e| crate::detect::common::user_of(e))
                })
                .map(|u| u.to_string());
            let svc_names: std::collections::BTreeSet<String> = services
                .iter()
                .filter_map(|e| {
                    e.service_name()
                        .or(e.process_executable())
                        .map(str::to_string)
                })
                .collect();
            let svc_names: Vec<String> = svc_names.into_iter().collect();
            a.message = format!(
                "{}{} on {} within {} minutes of a logon from {}, which never did so in the baseline",
                if services.is_empty() {
                    String::new()
                } else if svc_names.is_empty() {
                    // A sealed svcctl request shows the call, not its name.
                    "a service installed".to_string()
                } else {
                    format!("service {} installed", svc_names.join(", "))
                },
                if shares == 0 {
                    String::new()
                } else {
                    format!(
                        "{}{shares} admin-share access{}",
                        if services.is_empty() { "" } else { " and " },
                        if shares == 1 { "" } else { "es" }
                    )
                },
                a.destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label()),
                input.config.detect.remote_exec.window_minutes,
                a.source
                    .as_ref()
                    .map_or_else(|| src.to_string(), |h| h.label())
            );
            a.movement = true;
            a.routine = by_job;
            if let Some(l) = logon {
                a.add_evidence(log_evidence(l));
            }
            for e in &actions {
                a.add_evidence(log_evidence(e));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
