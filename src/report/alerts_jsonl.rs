//! Alerts as JSON Lines with Elastic Common Schema names: one alert per
//! line, in output order (time, then alert id), with nested objects whose
//! keys are in alphabetical order. `docs/outputs.md` documents every field.
//!
//! Each alert carries its incident's id, combined score and rank, and,
//! when the caller knows which alerts were reported before (a sweep's
//! `--seen`), whether this one was.
//!
//! ECS as the reference places it: `ecs.version`; `event.kind: alert`,
//! `event.category: [intrusion_detection]`, `event.type: [info]` and
//! `event.id` (the alert id); `host.name` and `host.ip` (for a movement
//! the host it reached, for anything else the host it came from; the other
//! when that one is unknown); `threat.tactic.id`/`name`,
//! `threat.technique.id`/`name` (the technique, `T1021`) and
//! `threat.technique.subtechnique.id`/`name` (`T1021.002`);
//! `related.ip`, `related.hosts` and `related.user` (always, possibly
//! empty); user names as the source wrote them. Each piece of evidence is
//! structured: `@timestamp`, `event.id` (the record's id in `lateral
//! events` output, `path@offset` or `path:line`), `event.kind` (`flow` or
//! `log`, under `lateral`), `log.file.path` and `log.file.line` or
//! `log.offset`, and its summary.

use crate::alert::Alert;
use crate::incident::Incident;
use crate::model::ecs::{ECS_VERSION, event_id};
use crate::model::event::Position;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn host(o: &mut Map<String, Value>, h: Option<&crate::alert::HostRef>, port: Option<u16>) {
    if let Some(h) = h {
        if let Some(ip) = h.ip {
            o.insert("ip".into(), json!(ip.to_string()));
        }
        if let Some(n) = &h.name {
            o.insert("domain".into(), json!(n));
        }
    }
    if let Some(p) = port {
        o.insert("port".into(), json!(p));
    }
}

/// The ATT&CK id of a tactic, by its name (`TA0008` for `Lateral
/// Movement`); `None` for a name that is not an Enterprise tactic.
pub fn tactic_id(name: &str) -> Option<&'static str> {
    Some(match name {
        "Reconnaissance" => "TA0043",
        "Resource Development" => "TA0042",
        "Initial Access" => "TA0001",
        "Execution" => "TA0002",
        "Persistence" => "TA0003",
        "Privilege Escalation" => "TA0004",
        "Defense Evasion" => "TA0005",
        "Credential Access" => "TA0006",
        "Discovery" => "TA0007",
        "Lateral Movement" => "TA0008",
        "Collection" => "TA0009",
        "Command and Control" => "TA0011",
        "Exfiltration" => "TA0010",
        "Impact" => "TA0040",
        _ => return None,
    })
}

/// `threat.*` of a technique: the tactic with its id, the technique
/// (`T1021`) and, for a sub-technique, `technique.subtechnique`
/// (`T1021.002`), each with its name, as one-element arrays (ECS
/// normalises these fields to arrays) (`Remote Services: SMB/Windows Admin
/// Shares` splits at `: `).
pub fn threat_value(t: &crate::alert::Technique) -> Value {
    let mut tactic = Map::new();
    if let Some(id) = tactic_id(t.tactic) {
        tactic.insert("id".into(), json!([id]));
    }
    tactic.insert("name".into(), json!([t.tactic]));
    let mut technique = Map::new();
    match t.id.split_once('.') {
        Some((parent, _)) => {
            let (parent_name, sub_name) = t.name.split_once(": ").unwrap_or((t.name, t.name));
            technique.insert("id".into(), json!([parent]));
            technique.insert("name".into(), json!([parent_name]));
            technique.insert(
                "subtechnique".into(),
                json!({"id": [t.id], "name": [sub_name]}),
            );
        }
        // A rule tagged with its tactic only (some Sigma rules) names no
        // technique.
        None if t.id.is_empty() => {}
        None => {
            technique.insert("id".into(), json!([t.id]));
            technique.insert("name".into(), json!([t.name]));
        }
    }
    let mut threat = json!({"framework": "MITRE ATT&CK", "tactic": tactic});
    if let (false, Some(m)) = (technique.is_empty(), threat.as_object_mut()) {
        m.insert("technique".into(), Value::Object(technique));
    }
    threat
}

/// One piece of evidence as a structured object (see the module
/// documentation).
pub fn evidence_value(e: &crate::alert::Evidence) -> Value {
    let mut m = Map::new();
    m.insert("@timestamp".into(), json!(e.ts.to_rfc3339()));
    let mut event = Map::new();
    if let Some(o) = &e.origin {
        event.insert("id".into(), json!(event_id(&o.file, o.at)));
    }
    m.insert("event".into(), Value::Object(event));
    m.insert("kind".into(), json!(e.kind.name()));
    let mut file = Map::new();
    file.insert("path".into(), json!(e.file()));
    let mut log = Map::new();
    match e.position() {
        Some(Position::Line(l)) => {
            file.insert("line".into(), json!(l));
        }
        Some(Position::Offset(o)) => {
            log.insert("offset".into(), json!(o));
        }
        None => {}
    }
    log.insert("file".into(), Value::Object(file));
    m.insert("log".into(), Value::Object(log));
    m.insert("summary".into(), json!(e.summary));
    Value::Object(m)
}

/// What an alert's document says beyond the alert itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertContext<'a> {
    /// The incident the alert belongs to (its score and rank are written).
    pub incident: Option<&'a Incident>,
    /// Whether the alert was reported before (`lateral.alert.seen_before`);
    /// `None` leaves the field out.
    pub seen_before: Option<bool>,
}

/// The alert as an ECS document.
pub fn alert_value(a: &Alert, cx: AlertContext<'_>) -> Value {
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(a.start.to_rfc3339()));
    doc.insert("ecs".into(), json!({"version": ECS_VERSION}));
    doc.insert("message".into(), json!(a.message));
    doc.insert(
        "event".into(),
        json!({
            "kind": "alert",
            "category": ["intrusion_detection"],
            "type": ["info"],
            "id": a.id,
            "start": a.start.to_rfc3339(),
            "end": a.end.to_rfc3339(),
            "risk_score": a.score,
            "severity": a.severity().number(),
        }),
    );
    let mut rule = json!({"id": a.rule.id, "name": a.rule.name, "description": a.rule.description});
    if let (Some(set), Some(r)) = (a.ruleset, rule.as_object_mut()) {
        r.insert("ruleset".into(), json!(set));
    }
    doc.insert("rule".into(), rule);
    doc.insert("threat".into(), threat_value(&a.technique));
    let observed = if a.movement {
        a.destination.as_ref().or(a.source.as_ref())
    } else {
        a.source.as_ref().or(a.destination.as_ref())
    };
    if let Some(h) = observed {
        let mut m = Map::new();
        if let Some(n) = &h.name {
            m.insert("name".into(), json!(n));
        }
        if let Some(ip) = h.ip {
            m.insert("ip".into(), json!([ip.to_string()]));
        }
        doc.insert("host".into(), Value::Object(m));
    }
    let mut src = Map::new();
    host(&mut src, a.source.as_ref(), None);
    if !src.is_empty() {
        doc.insert("source".into(), Value::Object(src));
    }
    let mut dst = Map::new();
    host(&mut dst, a.destination.as_ref(), a.destination_port);
    if !dst.is_empty() {
        doc.insert("destination".into(), Value::Object(dst));
    }
    if let Some(u) = &a.user {
        doc.insert("user".into(), json!({"name": u}));
    }
    let ips: Vec<String> = a.related_ips.iter().map(ToString::to_string).collect();
    let mut related = Map::new();
    if !ips.is_empty() {
        related.insert("ip".into(), json!(ips));
    }
    let hosts: BTreeSet<&str> = [&a.source, &a.destination]
        .into_iter()
        .flatten()
        .filter_map(|h| h.name.as_deref())
        .collect();
    related.insert("hosts".into(), json!(hosts));
    related.insert("user".into(), json!(a.related_users));
    doc.insert("related".into(), Value::Object(related));
    let evidence: Vec<Value> = a.evidence.iter().map(evidence_value).collect();
    let mut alert = Map::new();
    alert.insert("id".into(), json!(a.id));
    alert.insert("activity_id".into(), json!(a.activity_id));
    if let Some(seen) = cx.seen_before {
        alert.insert("seen_before".into(), json!(seen));
    }
    // How the alert joins others into incidents, for `lateral report`.
    alert.insert("movement".into(), json!(a.movement));
    alert.insert("peers_are_sources".into(), json!(a.peers_are_sources));
    alert.insert("known_edge".into(), json!(a.known_edge));
    alert.insert("routine".into(), json!(a.routine));
    let mut incident = Map::new();
    incident.insert("id".into(), json!(a.incident_id));
    if let Some(inc) = cx.incident {
        incident.insert("rank".into(), json!(inc.rank));
        incident.insert("score".into(), json!(inc.score));
    }
    let mut lateral = json!({
        "alert": alert,
        "incident": incident,
        "severity": a.severity().name(),
        "evidence": evidence,
        "evidence_total": a.evidence_total,
    });
    if let (false, Some(m)) = (a.involved.is_empty(), lateral.as_object_mut()) {
        m.insert("hosts".into(), involved_value(&a.involved));
    }
    doc.insert("lateral".into(), lateral);
    Value::Object(doc)
}

/// `lateral.hosts`: each host the alert involves, with its key and the
/// role it was judged by (`key_role` only where asking by key differs).
fn involved_value(hosts: &[crate::alert::Involved]) -> Value {
    let list: Vec<Value> = hosts
        .iter()
        .map(|h| {
            let mut m = Map::new();
            if let Some(ip) = h.ip {
                m.insert("ip".into(), json!(ip.to_string()));
            }
            m.insert("key".into(), json!(h.key.text().as_str()));
            m.insert("role".into(), json!(h.role.name()));
            if h.key_role != h.role {
                m.insert("key_role".into(), json!(h.key_role.name()));
            }
            Value::Object(m)
        })
        .collect();
    Value::Array(list)
}

/// Incidents by id, for looking up each alert's incident.
fn by_id(incidents: &[Incident]) -> BTreeMap<&str, &Incident> {
    incidents.iter().map(|i| (i.id.as_str(), i)).collect()
}

/// Writes every alert as one JSON line, with its incident's score and rank.
pub fn write_alerts(alerts: &[Alert], incidents: &[Incident], out: &mut Vec<u8>) {
    write_marked(alerts, incidents, None, false, out);
}

/// Writes alerts as JSON lines, marking each with whether its id is in
/// `seen` (when given); with `new_only`, alerts seen before are left out.
pub fn write_marked(
    alerts: &[Alert],
    incidents: &[Incident],
    seen: Option<&BTreeSet<String>>,
    new_only: bool,
    out: &mut Vec<u8>,
) {
    let incidents = by_id(incidents);
    for a in alerts {
        let seen_before = seen.map(|s| crate::seen::reported(s, a));
        if new_only && seen_before == Some(true) {
            continue;
        }
        let cx = AlertContext {
            incident: a
                .incident_id
                .as_deref()
                .and_then(|id| incidents.get(id).copied()),
            seen_before,
        };
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &alert_value(a, cx));
        out.push(b'\n');
    }
}
