//! Sigma hits as alerts: each `sigma-match` event (see
//! [`crate::sigma::scan`]) is gathered with the other hits of its rule on
//! the same host, from the same source, by the same account, into one
//! [`Alert`] of ruleset `sigma`.
//!
//! Part of the `sigma` stage; `crate::analyze` adds these alerts to the
//! detectors' before `crate::incident` joins them, so a Sigma hit on a
//! target and lateral's alert on the hop into it land in one incident.
//!
//! `rule.name` is the Sigma title, `rule.id` the Sigma id (else the
//! title), the technique the first `attack.tNNNN[.NNN]` tag and the tactic
//! the first tactic tag (`attack.lateral-movement` → `Lateral Movement`).
//! The score follows the level: informational 10, low 20, medium 40,
//! high 65, critical 85 (the severity bands low, medium, high, critical).
//! A rule's texts live as long as the process (an alert's rule is
//! `'static`): each distinct rule seen in a run is stored once.

use crate::alert::{Alert, Evidence, EvidenceKind, HostRef, Rule, Technique};
use crate::model::Action;
use crate::model::attack_names::technique_name;
use crate::model::event::LogEvent;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The score of a Sigma level.
pub fn score_of(level: &str) -> u8 {
    match level {
        "informational" => 10,
        "low" => 20,
        "high" => 65,
        "critical" => 85,
        _ => 40,
    }
}

/// The ATT&CK tactic a Sigma tactic tag names.
fn tactic_of(tag: &str) -> Option<&'static str> {
    let t = tag.strip_prefix("attack.")?.replace('_', "-");
    Some(match t.as_str() {
        "reconnaissance" => "Reconnaissance",
        "resource-development" => "Resource Development",
        "initial-access" => "Initial Access",
        "execution" => "Execution",
        "persistence" => "Persistence",
        "privilege-escalation" => "Privilege Escalation",
        "defense-evasion" | "defense-impairment" => "Defense Evasion",
        "credential-access" => "Credential Access",
        "discovery" => "Discovery",
        "lateral-movement" => "Lateral Movement",
        "collection" => "Collection",
        "command-and-control" => "Command and Control",
        "exfiltration" => "Exfiltration",
        "impact" => "Impact",
        _ => return None,
    })
}

/// The technique id a tag names (`attack.t1021.002` → `T1021.002`).
fn technique_id(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.t")?;
    let ok = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.chars().next().is_some_and(|c| c.is_ascii_digit());
    ok.then(|| format!("T{t}"))
}

/// Interned text (see [`crate::alert::intern`]); past its cap, a fixed
/// placeholder, so a flood of distinct rule texts cannot grow memory.
fn intern(s: &str) -> &'static str {
    crate::alert::intern(s).unwrap_or("(too many distinct rule texts)")
}

/// Alerts from the `sigma-match` events among `events` (none when there
/// are none), in a fixed order.
pub fn from_events(events: &[LogEvent]) -> Vec<Alert> {
    type Key = (String, String, Option<IpAddr>, String);
    let mut groups: BTreeMap<Key, Alert> = BTreeMap::new();
    for e in events.iter().filter(|e| e.action == Action::SigmaMatch) {
        let title = e.label("sigma_title").unwrap_or("sigma rule");
        let id = e.label("sigma_id").unwrap_or(title);
        let level = e.label("sigma_level").unwrap_or("medium");
        let host = e.host_name.as_deref().unwrap_or("").to_string();
        let user = e.user_name.as_deref().unwrap_or("").to_string();
        let key = (id.to_string(), host.clone(), e.source_ip, user.clone());
        let alert = groups.entry(key).or_insert_with(|| {
            let tags: Vec<&str> = e.label("sigma_tags").unwrap_or("").split(',').collect();
            let tactic = tags.iter().find_map(|t| tactic_of(t)).unwrap_or("Sigma");
            let technique = tags
                .iter()
                .find_map(|t| technique_id(t))
                .map_or("", |t| intern(&t));
            let rule = Rule {
                id: intern(id),
                name: intern(title),
                description: intern(&format!("Sigma rule {title} (level {level})")),
            };
            let tech = Technique {
                tactic,
                id: technique,
                name: technique_name(technique).unwrap_or(technique),
            };
            let mut a = Alert::new(rule, tech, score_of(level), e.ts);
            a.ruleset = Some("sigma");
            if !host.is_empty() {
                a.destination = Some(HostRef {
                    ip: None,
                    name: Some(host.clone()),
                });
            }
            a.source = e.source_ip.map(HostRef::ip);
            a.movement = a.source.is_some() && a.destination.is_some();
            if !user.is_empty() {
                a.user = Some(user.clone());
            }
            a.message = format!(
                "Sigma rule '{title}' ({level}) matched on {}{}",
                if host.is_empty() { "?" } else { &host },
                e.label("sigma_matched")
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
            a
        });
        alert.add_evidence(Evidence {
            ts: e.ts,
            kind: EvidenceKind::Log,
            origin: e.origin.clone(),
            summary: format!("event {} sigma-match {title}", e.code.unwrap_or(0)),
        });
    }
    let mut out: Vec<Alert> = groups.into_values().map(Alert::finish).collect();
    out.sort_by(Alert::output_order);
    out
}
