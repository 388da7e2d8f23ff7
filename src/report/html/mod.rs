//! The HTML report (`--html FILE`): one self-contained page, written at the
//! end of the pipeline from the alerts and incidents. Its script and
//! styles (`app.js`, `style.css` beside this file) are compiled in with
//! `include_str!` and inlined, and the findings go in as one JSON document
//! in a `<script type="application/json">` element, so the file opens
//! offline and fetches nothing. The page draws one incident's
//! neighbourhood at a time (its hosts and alerts), never the whole
//! network, which keeps it quick and small on large networks.
//!
//! The graph layout is our own (in `app.js`, no vendored library): hosts
//! in layers left to right by the attack's order (the incident's path
//! depth), hosts outside the path in a last column; edges numbered in
//! the order the attack took them. A library would bring thousands of
//! lines for a layout that a path needs a few dozen for.

use crate::alert::{Alert, Evidence, HostRef};
use crate::incident::Incident;
use crate::model::event::Position;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Evidence records embedded per alert (the rest are counted and reached
/// with the `lateral events` command the page shows).
pub const EVIDENCE_PER_ALERT: usize = 2;

const PAGE: &str = include_str!("page.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

/// What the page says about the run, besides the findings.
#[derive(Debug, Clone, Default)]
pub struct PageInfo {
    /// The command that made it (`lateral analyze`, `lateral sweep`).
    pub command: String,
    /// The inputs, as named on the command line.
    pub inputs: Vec<String>,
    /// A line on the baseline and what was judged.
    pub summary: String,
}

/// Interned input file names: each evidence record names its file by index.
#[derive(Default)]
struct Files {
    index: BTreeMap<String, usize>,
    names: Vec<String>,
}

impl Files {
    fn of(&mut self, name: &str) -> usize {
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        let i = self.names.len();
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }
}

fn host(h: Option<&HostRef>) -> Value {
    match h {
        Some(h) => json!(h.label()),
        None => Value::Null,
    }
}

fn evidence(e: &Evidence, files: &mut Files) -> Value {
    let (line, offset) = match e.position() {
        Some(Position::Line(l)) => (json!(l), Value::Null),
        Some(Position::Offset(o)) => (Value::Null, json!(o)),
        None => (Value::Null, Value::Null),
    };
    json!({
        "t": e.ts.to_rfc3339(),
        "k": e.kind.name(),
        "f": e.origin.as_ref().map(|o| files.of(&o.file)),
        "l": line,
        "o": offset,
        "s": e.summary,
    })
}

fn alert(a: &Alert, files: &mut Files) -> Value {
    let ev: Vec<Value> = a
        .evidence
        .iter()
        .take(EVIDENCE_PER_ALERT)
        .map(|e| evidence(e, files))
        .collect();
    json!({
        "id": a.id,
        "rule": a.rule.name,
        "tech": a.technique.id,
        "score": a.score,
        "sev": a.severity().name(),
        "start": a.start.to_rfc3339(),
        "end": a.end.to_rfc3339(),
        "src": host(a.source.as_ref()),
        "dst": host(a.destination.as_ref()),
        "port": a.destination_port,
        "user": a.user,
        "msg": a.message,
        "inc": a.incident_id,
        "move": a.movement,
        "ev": ev,
        "evTotal": a.evidence_total,
    })
}

/// The story of an incident in words: where it started, each step in
/// order with its technique, account and time, and what else it did.
pub fn story(inc: &Incident, alerts: &[Alert]) -> String {
    let members: Vec<&Alert> = inc.alerts.iter().filter_map(|i| alerts.get(*i)).collect();
    let mut s = String::new();
    if let Some(first) = inc.path.first() {
        let names: Vec<String> = first.iter().map(HostRef::label).collect();
        s.push_str(&format!("It starts at {}. ", names.join(", ")));
    }
    // Consecutive steps between the same two hosts are told as one.
    let mut i = 0;
    while let Some(h) = inc.hops.get(i) {
        let run: Vec<&crate::incident::Hop> = inc
            .hops
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .take_while(|x| x.src == h.src && x.dst == h.dst)
            .collect();
        let mut techs: Vec<String> = Vec::new();
        let mut users: Vec<&str> = Vec::new();
        for x in &run {
            let t = format!("{} ({})", x.technique.name, x.technique.id);
            if !techs.contains(&t) {
                techs.push(t);
            }
            if let Some(u) = x.user.as_deref()
                && !users.contains(&u)
            {
                users.push(u);
            }
        }
        let when = h.ts.to_rfc3339();
        s.push_str(&format!(
            "{} {} reached {} by {}{} at {}. ",
            if i == 0 { "First," } else { "Then" },
            h.src.label(),
            h.dst.label(),
            techs.join(", "),
            if users.is_empty() {
                String::new()
            } else {
                format!(" as {}", users.join(", "))
            },
            when.get(..19).unwrap_or(&when).replace('T', " ")
        ));
        i += run.len().max(1);
    }
    let others: Vec<&&Alert> = members.iter().filter(|a| !a.movement).collect();
    if !others.is_empty() {
        let mut rules: Vec<&str> = others.iter().map(|a| a.rule.name).collect();
        rules.sort_unstable();
        rules.dedup();
        s.push_str(&format!(
            "Besides the movement, {} other alert{}: {}.",
            others.len(),
            if others.len() == 1 { "" } else { "s" },
            rules.join("; ").to_lowercase()
        ));
    }
    s.trim_end().to_string()
}

fn incident(inc: &Incident, alerts: &[Alert]) -> Value {
    let path: Vec<Vec<String>> = inc
        .path
        .iter()
        .map(|l| l.iter().map(HostRef::label).collect())
        .collect();
    let hops: Vec<Value> = inc
        .hops
        .iter()
        .map(|h| {
            json!({
                "t": h.ts.to_rfc3339(),
                "src": h.src.label(),
                "dst": h.dst.label(),
                "tech": h.technique.id,
                "user": h.user,
            })
        })
        .collect();
    json!({
        "id": inc.id,
        "rank": inc.rank,
        "score": inc.score,
        "sev": inc.severity().name(),
        "start": inc.start.to_rfc3339(),
        "end": inc.end.to_rfc3339(),
        "alerts": inc.alerts,
        "path": path,
        "hops": hops,
        "users": inc.users,
        "techs": inc.techniques.iter().map(|t| t.id).collect::<Vec<_>>(),
        "story": story(inc, alerts),
    })
}

/// The page's data: every alert (with at most [`EVIDENCE_PER_ALERT`]
/// evidence records), every incident, ranked, and each technique's name
/// and tactic once.
pub fn data(alerts: &[Alert], incidents: &[Incident], info: &PageInfo) -> Value {
    let mut files = Files::default();
    let a: Vec<Value> = alerts.iter().map(|x| alert(x, &mut files)).collect();
    let i: Vec<Value> = incidents.iter().map(|x| incident(x, alerts)).collect();
    let techniques: BTreeMap<&str, (&str, &str)> = alerts
        .iter()
        .map(|a| (a.technique.id, (a.technique.name, a.technique.tactic)))
        .collect();
    json!({
        "techniques": techniques,
        "command": info.command,
        "inputs": info.inputs,
        "summary": info.summary,
        "files": files.names,
        "alerts": a,
        "incidents": i,
    })
}

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` become
/// `\u003c`, `\u003e` and `\u0026` (they occur only inside JSON strings,
/// where these escapes mean the same), so no `</script>` or `<!--` in an
/// attacker's host or user name can end the element.
pub fn script_safe_json(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len() + 64);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Writes the whole page.
pub fn write_html(alerts: &[Alert], incidents: &[Incident], info: &PageInfo, out: &mut Vec<u8>) {
    let json = script_safe_json(&data(alerts, incidents, info));
    // The data goes in last and is never searched for placeholders.
    let (head, tail) = PAGE.split_once("/*DATA*/").unwrap_or((PAGE, ""));
    let fill = |part: &str| {
        part.replace("/*STYLE*/", STYLE_CSS)
            .replace("/*APP*/", APP_JS)
    };
    out.extend_from_slice(fill(head).as_bytes());
    out.extend_from_slice(json.as_bytes());
    out.extend_from_slice(fill(tail).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{EvidenceKind, Rule, attack};
    use crate::model::event::{Origin, Timestamp};
    use std::sync::Arc;

    const RULE: Rule = Rule {
        id: "lateral.new-admin-edge",
        name: "New remote-admin edge",
        description: "A host used an admin service on a host it never used before.",
    };

    #[test]
    fn five_thousand_alerts_over_ten_thousand_hosts_stay_under_five_megabytes() {
        let file: Arc<str> = Arc::from("cases/2026-12-02/capture-0001.pcap.gz");
        let host = |i: u32| HostRef {
            ip: Some(std::net::IpAddr::from([
                10,
                (i >> 16) as u8,
                (i >> 8) as u8,
                i as u8,
            ])),
            name: Some(format!("ws-{i:05}")),
        };
        let alerts: Vec<Alert> = (0..5000u32)
            .map(|i| {
                let t = Timestamp::from_parts(1_764_633_600 + i64::from(i) * 17, 0);
                let mut a = Alert::new(RULE, attack::SMB, (i % 100) as u8, t);
                a.source = Some(host(i * 2 % 10_000));
                a.destination = Some(host((i * 2 + 1) % 10_000));
                a.destination_port = Some(445);
                a.user = Some(format!("user{:04}", i % 700));
                a.message = format!(
                    "ws-{:05} reached ws-{:05} over SMB for the first time (never in the 30-day baseline), as user{:04}",
                    i * 2 % 10_000,
                    (i * 2 + 1) % 10_000,
                    i % 700
                );
                for k in 0..40u64 {
                    a.add_evidence(Evidence {
                        ts: Timestamp::from_parts(t.secs() + k as i64, 0),
                        kind: EvidenceKind::Flow,
                        origin: Some(Origin {
                            file: file.clone(),
                            at: Position::Offset(u64::from(i) * 100_000 + k * 90),
                        }),
                        summary: format!(
                            "CaB3k9{i:06}{k:02} 10.0.{}.{}:49{k:03} -> 10.0.9.9:445 SF 1830B/2211B",
                            i % 250,
                            k
                        ),
                    });
                }
                a.incident_id = Some(format!("LI-{:016x}", u64::from(i / 7)));
                a.finish()
            })
            .collect();
        let mut out = Vec::new();
        write_html(&alerts, &[], &PageInfo::default(), &mut out);
        assert!(out.len() < 5 << 20, "{} bytes", out.len());
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("\"id\":\"LA-").count(), 5000);
    }

    #[test]
    fn names_cannot_close_the_script_element() {
        let v = json!({"host": "</script><script>alert(1)</script><!--", "u": "a&b"});
        let s = script_safe_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
