//! Alerts for Timesketch (`--timesketch FILE`): JSON Lines that its
//! importer loads unchanged. Every line has the three fields Timesketch
//! requires, `message`, `datetime` (RFC 3339 UTC) and `timestamp_desc`,
//! plus `timestamp` (microseconds since the epoch) and flat attributes
//! (`alert_id`, `incident_id`, `rule_id`, `technique_id`, `score`,
//! `severity`, `source`, `destination`, `user`). With evidence, each
//! alert's records follow as lines of their own (`timestamp_desc`
//! `Record time`, with `event_id`, `file` and `line` or `offset`), so
//! the records sit on the timeline where they happened. Lines are in time
//! order, then alert id, alerts before their records.

use crate::alert::Alert;
use crate::model::ecs::event_id;
use crate::model::event::{Position, Timestamp};
use serde_json::{Map, Value, json};

fn micros(t: Timestamp) -> i64 {
    t.0.div_euclid(1000)
}

/// Writes the alerts (and with `with_evidence` their records) as
/// Timesketch JSON Lines.
pub fn write_timesketch(alerts: &[Alert], with_evidence: bool, out: &mut Vec<u8>) {
    let mut lines: Vec<(Timestamp, &str, u8, usize, Value)> = Vec::new();
    for a in alerts {
        let mut m = Map::new();
        m.insert(
            "message".into(),
            json!(format!("[{}] {}", a.rule.name, a.message)),
        );
        m.insert("datetime".into(), json!(a.start.to_rfc3339()));
        m.insert("timestamp".into(), json!(micros(a.start)));
        m.insert("timestamp_desc".into(), json!("Alert start"));
        m.insert("data_type".into(), json!("lateral:alert"));
        m.insert("alert_id".into(), json!(a.id));
        if let Some(i) = &a.incident_id {
            m.insert("incident_id".into(), json!(i));
        }
        m.insert("rule_id".into(), json!(a.rule.id));
        m.insert("technique_id".into(), json!(a.technique.id));
        m.insert("technique".into(), json!(a.technique.name));
        m.insert("score".into(), json!(a.score));
        m.insert("severity".into(), json!(a.severity().name()));
        if let Some(h) = &a.source {
            m.insert("source".into(), json!(h.label()));
        }
        if let Some(h) = &a.destination {
            m.insert("destination".into(), json!(h.label()));
        }
        if let Some(u) = &a.user {
            m.insert("user".into(), json!(u));
        }
        m.insert("evidence_total".into(), json!(a.evidence_total));
        lines.push((a.start, &a.id, 0, 0, Value::Object(m)));
        if !with_evidence {
            continue;
        }
        for (n, e) in a.evidence.iter().enumerate() {
            let mut m = Map::new();
            m.insert(
                "message".into(),
                json!(format!(
                    "{} record of {}: {}",
                    e.kind.name(),
                    a.id,
                    e.summary
                )),
            );
            m.insert("datetime".into(), json!(e.ts.to_rfc3339()));
            m.insert("timestamp".into(), json!(micros(e.ts)));
            m.insert("timestamp_desc".into(), json!("Record time"));
            m.insert("data_type".into(), json!("lateral:evidence"));
            m.insert("alert_id".into(), json!(a.id));
            m.insert("record_kind".into(), json!(e.kind.name()));
            if let Some(o) = &e.origin {
                m.insert("event_id".into(), json!(event_id(&o.file, o.at)));
                m.insert("file".into(), json!(&*o.file));
                match o.at {
                    Position::Line(l) => m.insert("line".into(), json!(l)),
                    Position::Offset(x) => m.insert("offset".into(), json!(x)),
                };
            }
            lines.push((e.ts, &a.id, 1, n, Value::Object(m)));
        }
    }
    lines.sort_by(|x, y| (x.0, x.1, x.2, x.3).cmp(&(y.0, y.1, y.2, y.3)));
    for (.., v) in lines {
        let _ = serde_json::to_writer(&mut *out, &v);
        out.push(b'\n');
    }
}
