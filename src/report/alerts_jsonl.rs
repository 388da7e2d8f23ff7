//! Alerts as JSON Lines with Elastic Common Schema names: one alert per
//! line, in output order (time, then alert id), with nested objects whose
//! keys are in alphabetical order. `docs/outputs.md` documents every field.
//!
//! Each alert carries its incident's id, combined score and rank, and,
//! when the caller knows which alerts were reported before (a sweep's
//! `--seen`), whether this one was.

use crate::alert::Alert;
use crate::incident::Incident;
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
    doc.insert("message".into(), json!(a.message));
    doc.insert(
        "event".into(),
        json!({
            "kind": "alert",
            "start": a.start.to_rfc3339(),
            "end": a.end.to_rfc3339(),
            "risk_score": a.score,
            "severity": a.severity().number(),
        }),
    );
    doc.insert(
        "rule".into(),
        json!({"id": a.rule.id, "name": a.rule.name, "description": a.rule.description}),
    );
    doc.insert(
        "threat".into(),
        json!({
            "framework": "MITRE ATT&CK",
            "tactic": {"name": a.technique.tactic},
            "technique": {"id": a.technique.id, "name": a.technique.name},
        }),
    );
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
    if !a.related_users.is_empty() {
        related.insert("user".into(), json!(a.related_users));
    }
    if !related.is_empty() {
        doc.insert("related".into(), Value::Object(related));
    }
    let evidence: Vec<Value> = a
        .evidence
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("kind".into(), json!(e.kind.name()));
            m.insert("timestamp".into(), json!(e.ts.to_rfc3339()));
            m.insert("file".into(), json!(e.file()));
            match e.position() {
                Some(Position::Line(l)) => {
                    m.insert("line".into(), json!(l));
                }
                Some(Position::Offset(o)) => {
                    m.insert("offset".into(), json!(o));
                }
                None => {}
            }
            m.insert("summary".into(), json!(e.summary));
            Value::Object(m)
        })
        .collect();
    let mut alert = Map::new();
    alert.insert("id".into(), json!(a.id));
    alert.insert("activity_id".into(), json!(a.activity_id));
    if let Some(seen) = cx.seen_before {
        alert.insert("seen_before".into(), json!(seen));
    }
    let mut incident = Map::new();
    incident.insert("id".into(), json!(a.incident_id));
    if let Some(inc) = cx.incident {
        incident.insert("rank".into(), json!(inc.rank));
        incident.insert("score".into(), json!(inc.score));
    }
    doc.insert(
        "lateral".into(),
        json!({
            "alert": alert,
            "incident": incident,
            "severity": a.severity().name(),
            "evidence": evidence,
            "evidence_total": a.evidence_total,
        }),
    );
    Value::Object(doc)
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
