//! Alerts already reported: a nightly sweep reads an earlier run's alert
//! JSON Lines (`lateral sweep --seen FILE`) to tell today's new alerts from
//! ones it reported before. Alert ids are stable (rule, entities, time
//! bucket), so the same activity gives the same id on every run.
//!
//! `lateral.alert.id` and `lateral.alert.activity_id` are read, nested
//! (`{"lateral":{"alert":{"id":..}}}`) or flat (`"lateral.alert.id"`); an
//! alert was reported before when its id or its activity id is among them
//! ([`SeenAlerts::reported`]), so activity that goes on from one night to
//! the next is muted as well as the same day's alert. Documents of another `event.kind` (a
//! sweep's novelty documents in a combined stream) are passed over; lines
//! that are not JSON or have no alert id are skipped and counted.

use crate::diag::Diagnostics;
use crate::model::event::{Origin, Position};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Largest `--seen` file read (1 GiB of alert lines).
pub const MAX_SEEN_FILE: u64 = 1 << 30;

/// Longest id kept; longer ones cannot be lateral's and are skipped.
pub const MAX_ID_LEN: usize = 256;

/// The alert ids of an earlier report.
#[derive(Debug, Default, Clone)]
pub struct SeenAlerts {
    /// Every alert id and activity id read.
    pub ids: BTreeSet<String>,
    /// Lines skipped, with reasons and samples.
    pub diag: Diagnostics,
}

impl SeenAlerts {
    /// Whether an alert with this id was reported before.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Whether `alert` was reported before: its id or its activity id.
    pub fn reported(&self, alert: &crate::alert::Alert) -> bool {
        reported(&self.ids, alert)
    }
}

/// Whether `alert`'s id or activity id is among `ids`.
pub fn reported(ids: &BTreeSet<String>, alert: &crate::alert::Alert) -> bool {
    ids.contains(&alert.id) || (!alert.activity_id.is_empty() && ids.contains(&alert.activity_id))
}

/// A field of a JSON document by its dotted ECS name, written flat
/// (`"lateral.alert.id"`) or nested (`{"lateral":{"alert":{"id":..}}}`).
pub fn lookup<'a>(doc: &'a Value, dotted: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(dotted) {
        return Some(v);
    }
    dotted.split('.').try_fold(doc, |cur, part| cur.get(part))
}

/// Reads alert ids from JSON Lines text; `file` names it in the diagnostics.
pub fn read_seen(text: &str, file: &str) -> SeenAlerts {
    let file: Arc<str> = Arc::from(file);
    let mut seen = SeenAlerts::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let origin = || Origin {
            file: file.clone(),
            at: Position::Line(line),
        };
        let doc: Value = match serde_json::from_str(raw) {
            Ok(d) => d,
            Err(e) => {
                seen.diag
                    .skip("not a JSON document", origin, || e.to_string());
                continue;
            }
        };
        match lookup(&doc, "event.kind").and_then(Value::as_str) {
            Some("alert") | None => {}
            Some(_) => continue,
        }
        match lookup(&doc, "lateral.alert.id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && id.len() <= MAX_ID_LEN => {
                seen.ids.insert(id.to_owned());
            }
            _ => seen.diag.skip("no lateral.alert.id", origin, String::new),
        }
        if let Some(id) = lookup(&doc, "lateral.alert.activity_id").and_then(Value::as_str)
            && !id.is_empty()
            && id.len() <= MAX_ID_LEN
        {
            seen.ids.insert(id.to_owned());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_nested_or_flat_and_novelties_are_passed_over() {
        let text = concat!(
            r#"{"event":{"kind":"alert"},"lateral":{"alert":{"id":"a1"}}}"#,
            "\n\n",
            r#"{"lateral.alert.id":"a2","lateral.alert.activity_id":"c2"}"#,
            "\n",
            r#"{"event":{"kind":"event","action":"new-edge"}}"#,
            "\nnot json\n",
            r#"{"event":{"kind":"alert"}}"#,
            "\n"
        );
        let s = read_seen(text, "old.jsonl");
        let ids: Vec<&str> = s.ids.iter().map(String::as_str).collect();
        assert_eq!(ids, ["a1", "a2", "c2"]);
        assert!(s.contains("a1") && !s.contains("a3"));
        assert_eq!(s.diag.counts.get("not a JSON document"), Some(&1));
        assert_eq!(s.diag.counts.get("no lateral.alert.id"), Some(&1));
        let sample = &s.diag.samples["no lateral.alert.id"][0];
        assert_eq!(sample.origin.at, Position::Line(6));
    }
}
