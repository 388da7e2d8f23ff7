//! Alerts as JSON Lines with Elastic Common Schema names: one alert per
//! line, in output order (time, then alert id), with nested objects whose
//! keys are in alphabetical order. The README documents every field.

use crate::alert::Alert;
use crate::event::Position;
use serde_json::{Map, Value, json};

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

/// The alert as an ECS document.
pub fn alert_value(a: &Alert) -> Value {
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
    doc.insert(
        "lateral".into(),
        json!({
            "alert": {"id": a.id},
            "incident": {"id": a.incident_id},
            "severity": a.severity().name(),
            "evidence": evidence,
            "evidence_total": a.evidence_total,
        }),
    );
    Value::Object(doc)
}

/// Writes every alert as one JSON line.
pub fn write_alerts(alerts: &[Alert], out: &mut Vec<u8>) {
    for a in alerts {
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &alert_value(a));
        out.push(b'\n');
    }
}
