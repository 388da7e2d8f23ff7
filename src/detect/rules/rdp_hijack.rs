//! `lateral.rdp-hijack`: someone took over another user's Remote Desktop
//! session on a host, read from that host's logs alone (no baseline).
//!
//! ## What it detects
//! On one host, either of:
//! - `tscon.exe` started by the system itself (the machine account or
//!   `SYSTEM`, or under `services.exe`): run as SYSTEM, `tscon <id>
//!   /dest:<session>` attaches any session to the caller's without the
//!   owner's password;
//! - an RDP session reconnected (4778, TerminalServices 25) under a
//!   different account than the one that last held that session name
//!   (4779, TerminalServices 24) within `window_minutes`.
//!
//! The hop's source is the client address of the reconnect nearest to the
//! `tscon` (within `window_minutes` either side); without one, the alert
//! names the host alone.
//!
//! ## Why it matters
//! Session hijacking gives an attacker a logged-on user's desktop, tokens
//! and open applications without knowing the password: ATT&CK T1563.002
//! (Remote Service Session Hijacking: RDP Hijacking).
//!
//! ## Evidence
//! The `tscon` process creations, the disconnect and the reconnect.
//!
//! ## False positives
//! A helpdesk tool that moves sessions as SYSTEM; a user reconnecting
//! their own session is not flagged (same account), nor is `tscon` run by
//! a user in their own session.
//!
//! ## Tuning
//! `[detect.remote_exec] window_minutes` (shared with the other rules that
//! tie host events together).

use crate::alert::{Alert, Rule, Technique};
use crate::detect::common::{clamp_score, is_system_account, log_evidence, minutes};
use crate::detect::rules::remote_process::image_name;
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::LogEvent;
use std::collections::BTreeMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.rdp-hijack",
    name: "RDP session hijack",
    description: "A Remote Desktop session was attached to another user (tscon run as SYSTEM, or a reconnect under a different account).",
};

/// T1563.002: Remote Service Session Hijacking: RDP Hijacking.
pub const RDP_HIJACKING: Technique = Technique {
    tactic: "Lateral Movement",
    id: "T1563.002",
    name: "Remote Service Session Hijacking: RDP Hijacking",
};

/// The detector.
pub struct RdpHijack;

/// True for `tscon.exe` started by the system (machine account, SYSTEM,
/// or a child of `services.exe`).
fn is_system_tscon(e: &LogEvent) -> bool {
    if e.action != Action::ProcessCreated {
        return false;
    }
    let Some(exe) = e.process_executable() else {
        return false;
    };
    if image_name(exe) != "tscon.exe" {
        return false;
    }
    let by_system = e.user_name.as_deref().is_some_and(is_system_account);
    let by_services = e
        .label("parent_process_name")
        .is_some_and(|p| image_name(p) == "services.exe");
    by_system || by_services
}

/// The session name of an RDP session event, lower case.
fn session(e: &LogEvent) -> Option<String> {
    e.label("session_name")
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
}

/// The account of an event, lower case, unless it is a system account.
fn account(e: &LogEvent) -> Option<String> {
    let u = e.user_name.as_deref()?.trim();
    (!is_system_account(u)).then(|| u.to_ascii_lowercase())
}

/// One host's RDP-session signals of the day, in time order.
#[derive(Default)]
struct HostSignals<'a> {
    /// `tscon` started by the system.
    tscon: Vec<&'a LogEvent>,
    /// Reconnects, each with the disconnect of another account that held
    /// its session name before it (if any).
    reconnects: Vec<(&'a LogEvent, Option<&'a LogEvent>)>,
    /// The last disconnect of each session name.
    last_disconnect: BTreeMap<String, &'a LogEvent>,
}

impl Detector for RdpHijack {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        let window = minutes(input.config.detect.remote_exec.window_minutes);
        let mut hosts: BTreeMap<HostKey, HostSignals<'_>> = BTreeMap::new();
        for e in input.events {
            let interesting = matches!(
                e.action,
                Action::ProcessCreated
                    | Action::RdpSessionReconnected
                    | Action::RdpSessionDisconnected
            );
            if !interesting {
                continue;
            }
            let Some(host) = dir.key(e.host_ip, e.host_name.as_deref()) else {
                continue;
            };
            match e.action {
                Action::ProcessCreated => {
                    if is_system_tscon(e) {
                        hosts.entry(host).or_default().tscon.push(e);
                    }
                }
                Action::RdpSessionDisconnected => {
                    if let Some(s) = session(e) {
                        hosts.entry(host).or_default().last_disconnect.insert(s, e);
                    }
                }
                _ => {
                    let h = hosts.entry(host).or_default();
                    let other = session(e)
                        .and_then(|s| h.last_disconnect.get(&s).copied())
                        .filter(|d| e.ts.0.saturating_sub(d.ts.0) <= window)
                        .filter(|d| match (account(d), account(e)) {
                            (Some(a), Some(b)) => a != b,
                            _ => false,
                        });
                    h.reconnects.push((e, other));
                }
            }
        }
        let mut alerts = Vec::new();
        for (host, h) in hosts {
            // Anchors: each system tscon, and each reconnect that switched
            // accounts; each is joined to the nearest reconnect.
            let mut groups: BTreeMap<Option<HostKey>, Vec<&LogEvent>> = BTreeMap::new();
            let mut reconnect_of: BTreeMap<Option<HostKey>, &LogEvent> = BTreeMap::new();
            let mut switched: BTreeMap<Option<HostKey>, Vec<&LogEvent>> = BTreeMap::new();
            for t in &h.tscon {
                let near = h
                    .reconnects
                    .iter()
                    .filter(|(r, _)| r.ts.0.abs_diff(t.ts.0) <= window.unsigned_abs())
                    .min_by_key(|(r, _)| (r.ts.0.abs_diff(t.ts.0), r.ts));
                let src = near.and_then(|(r, _)| dir.key(r.source_ip, r.source_domain.as_deref()));
                groups.entry(src.clone()).or_default().push(t);
                if let Some((r, d)) = near {
                    reconnect_of.entry(src.clone()).or_insert(r);
                    if let Some(d) = d {
                        switched.entry(src).or_default().push(d);
                    }
                }
            }
            for (r, d) in &h.reconnects {
                let Some(d) = d else { continue };
                let src = dir.key(r.source_ip, r.source_domain.as_deref());
                groups.entry(src.clone()).or_default();
                reconnect_of.entry(src.clone()).or_insert(r);
                let s = switched.entry(src).or_default();
                if !s.iter().any(|x| std::ptr::eq(*x, *d)) {
                    s.push(d);
                }
            }
            for (src, tscon) in groups {
                let reconnect = reconnect_of.get(&src).copied();
                let disconnects = switched.get(&src).cloned().unwrap_or_default();
                let Some(start) = tscon
                    .iter()
                    .chain(reconnect.iter())
                    .chain(disconnects.iter())
                    .map(|e| e.ts)
                    .min()
                else {
                    continue;
                };
                let mut score = 60.0;
                if !tscon.is_empty() && reconnect.is_some() {
                    score += 15.0;
                }
                if !disconnects.is_empty() {
                    score += 10.0;
                }
                let mut a = Alert::new(RULE, RDP_HIJACKING, clamp_score(score), start);
                let first_host_event = tscon.first().copied().or(reconnect);
                a.destination = first_host_event
                    .and_then(|e| dir.host(e.host_ip, e.host_name.as_deref()))
                    .or_else(|| Some(dir.host_of(&host)));
                a.source =
                    reconnect.and_then(|r| dir.host(r.source_ip, r.source_domain.as_deref()));
                a.user = reconnect.and_then(account);
                for d in &disconnects {
                    if let Some(u) = account(d) {
                        a.related_users.insert(u);
                    }
                }
                let target = a
                    .destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label());
                let mut why = Vec::new();
                if !tscon.is_empty() {
                    why.push(format!(
                        "tscon run as SYSTEM {} time{}",
                        tscon.len(),
                        if tscon.len() == 1 { "" } else { "s" }
                    ));
                }
                if let Some(d) = disconnects.first() {
                    why.push(format!(
                        "session {} left by {} reconnected as {}",
                        session(d).unwrap_or_default(),
                        account(d).unwrap_or_default(),
                        a.user.as_deref().unwrap_or("?")
                    ));
                } else if let Some(r) = reconnect {
                    why.push(format!(
                        "session {} reconnected as {}",
                        session(r).unwrap_or_default(),
                        a.user.as_deref().unwrap_or("?")
                    ));
                }
                a.message = format!(
                    "{} on {target}{}",
                    why.join("; "),
                    a.source
                        .as_ref()
                        .map_or_else(String::new, |s| format!(" from client {}", s.label()))
                );
                a.movement = a.source.is_some();
                for e in tscon
                    .iter()
                    .chain(disconnects.iter())
                    .chain(reconnect.iter())
                {
                    a.add_evidence(log_evidence(e));
                }
                alerts.push(a.finish());
            }
        }
        alerts
    }
}
