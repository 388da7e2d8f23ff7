//! Alerts read back from an earlier run's JSON Lines (`analyze --json`,
//! `sweep --json`), so that they can be suppressed and joined into
//! incidents again under today's configuration (`lateral report`) without
//! reading the captures and logs a second time.
//!
//! Each alert line carries what suppression and the incident builder
//! need: its rule, technique, score, times, hosts, accounts, evidence,
//! how it joins others (`lateral.alert.movement`, `peers_are_sources`,
//! `known_edge`, `routine`) and every host it involves with the key and
//! role the run judged it by (`lateral.hosts`). From those this module
//! rebuilds the [`Alert`]s, a [`Directory`] of the hosts' names and a
//! [`StoredRoles`] answering the role questions, so that re-scoring
//! alerts under the configuration they were found with gives back the
//! same incidents, byte for byte.
//!
//! Documents of another `event.kind` (a sweep's novelty documents) are
//! passed over and counted; lines that are not JSON, or alerts missing a
//! field every alert has, are skipped and reported with their line. An
//! alert id read twice (the same activity on the same day in two files)
//! is kept once: the copy whose line sorts first, so the result does not
//! depend on the order the files are given in. Lines written by a lateral
//! that did not store `lateral.hosts` are read with their addresses and
//! names only (roles unknown) and counted apart.

use crate::alert::{Alert, Evidence, EvidenceKind, HostRef, Involved, Rule, Technique, intern};
use crate::detect::{Directory, Role, Roles};
use crate::diag::Diagnostics;
use crate::model::HostKey;
use crate::model::event::{Origin, Position, Timestamp};
use crate::seen::lookup;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Largest alerts file read (1 GiB of alert lines).
pub const MAX_ALERTS_FILE: u64 = 1 << 30;

/// Longest id, rule id or host key kept; longer ones cannot be lateral's.
pub const MAX_FIELD_LEN: usize = 256;

/// The roles of the hosts stored alerts involve, as the run judged them.
#[derive(Debug, Default, Clone)]
pub struct StoredRoles {
    by_ip: BTreeMap<IpAddr, Role>,
    by_key: BTreeMap<HostKey, Role>,
}

impl Roles for StoredRoles {
    fn role_of_ip(&self, ip: IpAddr) -> Role {
        self.by_ip.get(&ip).copied().unwrap_or(Role::Unknown)
    }
    fn role_of_host(&self, host: &HostKey) -> Role {
        self.by_key.get(host).copied().unwrap_or(Role::Unknown)
    }
}

/// Alerts read back, with the hosts' names and roles they were judged by.
#[derive(Debug, Default)]
pub struct StoredAlerts {
    /// The alerts, in output order (time, then id), each id once.
    pub alerts: Vec<Alert>,
    /// The hosts' names, as the run's directory gave them.
    pub directory: Directory,
    /// The hosts' roles.
    pub roles: StoredRoles,
    /// Lines skipped, with reasons and samples.
    pub diag: Diagnostics,
    /// Documents of another kind passed over (a sweep's novelties).
    pub other_documents: u64,
    /// Alerts without `lateral.hosts` (written by an older lateral): their
    /// hosts' roles are unknown.
    pub without_hosts: u64,
    /// Alert ids read more than once (kept once).
    pub duplicates: u64,
    /// Alerts read, with the line each came from, before sorting.
    read: Vec<(Alert, String)>,
}

fn text<'a>(doc: &'a Value, dotted: &str) -> Option<&'a str> {
    lookup(doc, dotted).and_then(Value::as_str)
}

fn short(doc: &Value, dotted: &str) -> Option<String> {
    text(doc, dotted)
        .filter(|s| !s.is_empty() && s.len() <= MAX_FIELD_LEN)
        .map(str::to_owned)
}

fn time(doc: &Value, dotted: &str) -> Option<Timestamp> {
    text(doc, dotted).and_then(Timestamp::parse_rfc3339)
}

fn flag(doc: &Value, dotted: &str) -> bool {
    lookup(doc, dotted)
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The first element of an array field (ECS keeps these as arrays), or
/// the field itself when it is a string.
fn first<'a>(doc: &'a Value, dotted: &str) -> Option<&'a str> {
    match lookup(doc, dotted)? {
        Value::Array(a) => a.first().and_then(Value::as_str),
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn host_ref(doc: &Value, side: &str) -> Option<HostRef> {
    let ip = text(doc, &format!("{side}.ip")).and_then(|s| s.parse::<IpAddr>().ok());
    let name = text(doc, &format!("{side}.domain"))
        .filter(|s| s.len() <= MAX_FIELD_LEN)
        .map(str::to_owned);
    (ip.is_some() || name.is_some()).then_some(HostRef { ip, name })
}

/// The technique from `threat.*` as the alerts writer lays it out
/// (`crate::report::alerts_jsonl::threat_value`).
fn technique(doc: &Value) -> Option<Technique> {
    let tactic = intern(first(doc, "threat.tactic.name").unwrap_or(""))?;
    let (id, name) = match (
        first(doc, "threat.technique.subtechnique.id"),
        first(doc, "threat.technique.subtechnique.name"),
    ) {
        (Some(id), Some(sub)) => {
            let parent = first(doc, "threat.technique.name").unwrap_or(sub);
            // A name without `: ` was written as itself on both levels.
            let name = if parent == sub {
                sub.to_owned()
            } else {
                format!("{parent}: {sub}")
            };
            (id.to_owned(), name)
        }
        _ => (
            first(doc, "threat.technique.id").unwrap_or("").to_owned(),
            first(doc, "threat.technique.name").unwrap_or("").to_owned(),
        ),
    };
    Some(Technique {
        tactic,
        id: intern(&id)?,
        name: intern(&name)?,
    })
}

fn evidence(v: &Value, files: &mut BTreeMap<String, Arc<str>>) -> Option<Evidence> {
    let ts = time(v, "@timestamp")?;
    let kind = match text(v, "kind")? {
        "flow" => EvidenceKind::Flow,
        "log" => EvidenceKind::Log,
        _ => return None,
    };
    let at = match (
        lookup(v, "log.file.line").and_then(Value::as_u64),
        lookup(v, "log.offset").and_then(Value::as_u64),
    ) {
        (Some(l), _) => Some(Position::Line(l)),
        (None, Some(o)) => Some(Position::Offset(o)),
        (None, None) => None,
    };
    let origin = match (at, text(v, "log.file.path")) {
        (Some(at), Some(path)) => {
            let file = match files.get(path) {
                Some(f) => f.clone(),
                None => {
                    let f: Arc<str> = Arc::from(path);
                    files.insert(path.to_owned(), f.clone());
                    f
                }
            };
            Some(Origin { file, at })
        }
        _ => None,
    };
    Some(Evidence {
        ts,
        kind,
        origin,
        summary: text(v, "summary").unwrap_or("").to_owned(),
    })
}

fn involved(v: &Value) -> Option<Involved> {
    let key_text = text(v, "key").filter(|k| k.len() <= MAX_FIELD_LEN)?;
    let key = HostKey::from_name(key_text)?;
    let ip = match text(v, "ip") {
        Some(s) => Some(s.parse::<IpAddr>().ok()?),
        None => None,
    };
    let role: Role = text(v, "role")?.parse().ok()?;
    let key_role = match text(v, "key_role") {
        Some(r) => r.parse().ok()?,
        None => role,
    };
    Some(Involved {
        ip,
        key,
        role,
        key_role,
    })
}

/// Why an alert document cannot be read back (a skip reason).
fn alert(doc: &Value, files: &mut BTreeMap<String, Arc<str>>) -> Result<Alert, &'static str> {
    let id = short(doc, "lateral.alert.id").ok_or("no lateral.alert.id")?;
    let rule_id = text(doc, "rule.id")
        .filter(|s| !s.is_empty() && s.len() <= MAX_FIELD_LEN)
        .ok_or("no rule.id")?;
    let too_many = "too many distinct rule or technique texts";
    let rule = Rule {
        id: intern(rule_id).ok_or(too_many)?,
        name: intern(text(doc, "rule.name").unwrap_or(rule_id)).ok_or(too_many)?,
        description: intern(text(doc, "rule.description").unwrap_or("")).ok_or(too_many)?,
    };
    let start = time(doc, "event.start")
        .or_else(|| time(doc, "@timestamp"))
        .ok_or("no event.start")?;
    let score = lookup(doc, "event.risk_score")
        .and_then(Value::as_u64)
        .filter(|s| *s <= 100)
        .ok_or("no event.risk_score from 0 to 100")?;
    let technique = technique(doc).ok_or(too_many)?;
    let mut a = Alert::new(rule, technique, score as u8, start);
    a.id = id;
    a.activity_id = short(doc, "lateral.alert.activity_id").unwrap_or_default();
    a.end = time(doc, "event.end").unwrap_or(start).max(start);
    a.source = host_ref(doc, "source");
    a.destination = host_ref(doc, "destination");
    a.destination_port = lookup(doc, "destination.port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok());
    a.user = text(doc, "user.name").map(str::to_owned);
    if let Some(Value::Array(ips)) = lookup(doc, "related.ip") {
        a.related_ips = ips
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|s| s.parse().ok())
            .collect();
    }
    if let Some(Value::Array(users)) = lookup(doc, "related.user") {
        a.related_users = users
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    a.movement = flag(doc, "lateral.alert.movement");
    a.peers_are_sources = flag(doc, "lateral.alert.peers_are_sources");
    a.known_edge = flag(doc, "lateral.alert.known_edge");
    a.routine = flag(doc, "lateral.alert.routine");
    a.message = text(doc, "message").unwrap_or("").to_owned();
    if let Some(Value::Array(ev)) = lookup(doc, "lateral.evidence") {
        a.evidence = ev
            .iter()
            .take(crate::alert::MAX_EVIDENCE)
            .filter_map(|v| evidence(v, files))
            .collect();
    }
    a.evidence_total = lookup(doc, "lateral.evidence_total")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(a.evidence.len());
    a.ruleset = match text(doc, "rule.ruleset") {
        Some(r) => Some(intern(r).ok_or(too_many)?),
        None => None,
    };
    if let Some(Value::Array(hosts)) = lookup(doc, "lateral.hosts") {
        a.involved = hosts.iter().filter_map(involved).collect();
    }
    Ok(a)
}

impl StoredAlerts {
    /// Reads the alerts of one JSON Lines text; `file` names it in the
    /// diagnostics. Call [`StoredAlerts::finish`] after the last file.
    pub fn read(&mut self, text: &str, file: &str) {
        let name: Arc<str> = Arc::from(file);
        let mut files: BTreeMap<String, Arc<str>> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i as u64 + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let origin = || Origin {
                file: name.clone(),
                at: Position::Line(line),
            };
            let doc: Value = match serde_json::from_str(raw) {
                Ok(d) => d,
                Err(e) => {
                    self.diag
                        .skip("not a JSON document", origin, || e.to_string());
                    continue;
                }
            };
            match text_kind(&doc) {
                Some("alert") => {}
                _ => {
                    self.other_documents += 1;
                    continue;
                }
            }
            match alert(&doc, &mut files) {
                Ok(a) => {
                    if lookup(&doc, "lateral.hosts").is_none() {
                        self.without_hosts += 1;
                    }
                    self.read.push((a, raw.to_owned()));
                }
                Err(why) => self.diag.skip(why, origin, String::new),
            }
        }
    }

    /// Alerts read so far (before [`StoredAlerts::finish`] keeps each id once).
    pub fn alerts_read(&self) -> usize {
        self.read.len() + self.alerts.len()
    }

    /// Sorts the alerts into output order, keeps each id once, and builds
    /// the directory and roles from the hosts they involve.
    pub fn finish(&mut self) {
        let mut read = std::mem::take(&mut self.read);
        read.sort_by(|(a, la), (b, lb)| Alert::output_order(a, b).then_with(|| la.cmp(lb)));
        let mut seen = std::collections::BTreeSet::new();
        for (a, _) in read {
            if !seen.insert(a.id.clone()) {
                self.duplicates += 1;
                continue;
            }
            self.learn_hosts(&a);
            self.alerts.push(a);
        }
    }

    fn learn_hosts(&mut self, a: &Alert) {
        if a.involved.is_empty() {
            // An older file: the names the alert gives its own hosts.
            for h in [&a.source, &a.destination].into_iter().flatten() {
                if let (Some(ip), Some(n)) = (h.ip, h.name.as_deref()) {
                    self.directory.add(ip, n);
                }
            }
            return;
        }
        for h in &a.involved {
            if let Some(ip) = h.ip {
                self.roles.by_ip.entry(ip).or_insert(h.role);
                if let HostKey::Name(n) = &h.key {
                    self.directory.add(ip, n);
                }
            }
            self.roles.by_key.entry(h.key.clone()).or_insert(h.key_role);
        }
    }
}

/// Suppresses stored alerts and joins the rest into incidents again under
/// `config` (its `[[suppress]]` entries and `[incident]` settings), with
/// the hosts' names and roles stored with them: the analysis a report of
/// them is written from. Re-scoring under the configuration the alerts
/// were found with gives back the same alerts and incidents.
pub fn rescore(stored: StoredAlerts, config: &crate::detect::Config) -> crate::analyze::Analysis {
    let started = std::time::Instant::now();
    let StoredAlerts {
        alerts,
        directory,
        roles,
        ..
    } = stored;
    let judged = alerts
        .iter()
        .map(|a| (a.start, a.end))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
    let alerts: Vec<Alert> = alerts
        .into_iter()
        .map(|mut a| {
            a.incident_id = None;
            a
        })
        .collect();
    let (mut alerts, suppressed) =
        crate::detect::suppress::split(alerts, &config.suppress, &roles, &directory);
    let incidents = crate::incident::build(&mut alerts, &config.incident, &roles, &directory);
    crate::analyze::Analysis {
        alerts,
        incidents,
        suppressed,
        cut: Timestamp::default(),
        learned: None,
        judged,
        learn_counts: (0, 0),
        detect_counts: (0, 0),
        baseline_hosts: 0,
        directory,
        priors: false,
        profile_secs: 0.0,
        detect_secs: started.elapsed().as_secs_f64(),
    }
}

fn text_kind(doc: &Value) -> Option<&str> {
    text(doc, "event.kind")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novelties_are_passed_over_and_broken_lines_reported() {
        let text = concat!(
            r#"{"event":{"kind":"event","action":"new-edge"}}"#,
            "\nnot json\n",
            r#"{"event":{"kind":"alert","start":"2026-12-01T00:00:00Z","risk_score":30},"rule":{"id":"x"}}"#,
            "\n",
            r#"{"event":{"kind":"alert","start":"2026-12-01T00:00:00Z","risk_score":300},"rule":{"id":"x"},"lateral":{"alert":{"id":"LA-1"}}}"#,
            "\n",
        );
        let mut s = StoredAlerts::default();
        s.read(text, "old.jsonl");
        s.finish();
        assert!(s.alerts.is_empty());
        assert_eq!(s.other_documents, 1);
        assert_eq!(s.diag.counts.get("not a JSON document"), Some(&1));
        assert_eq!(s.diag.counts.get("no lateral.alert.id"), Some(&1));
        assert_eq!(
            s.diag.counts.get("no event.risk_score from 0 to 100"),
            Some(&1)
        );
        let sample = &s.diag.samples["no lateral.alert.id"][0];
        assert_eq!(sample.origin.at, Position::Line(3));
    }

    #[test]
    fn an_id_read_twice_is_kept_once_whatever_the_file_order() {
        let line = |msg: &str| {
            format!(
                r#"{{"message":"{msg}","event":{{"kind":"alert","start":"2026-12-01T00:00:00Z","risk_score":30}},"rule":{{"id":"lateral.x"}},"lateral":{{"alert":{{"id":"LA-1"}},"hosts":[{{"ip":"10.0.0.1","key":"ws-1","role":"admin"}}]}},"source":{{"ip":"10.0.0.1"}}}}"#
            )
        };
        let (a, b) = (line("one"), line("two"));
        let mut x = StoredAlerts::default();
        x.read(&a, "a");
        x.read(&b, "b");
        x.finish();
        let mut y = StoredAlerts::default();
        y.read(&b, "b");
        y.read(&a, "a");
        y.finish();
        assert_eq!(x.alerts, y.alerts);
        assert_eq!(x.alerts.len(), 1);
        assert_eq!(x.duplicates, 1);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(x.roles.role_of_ip(ip), Role::AdminHost);
        assert_eq!(
            x.directory.key_for_ip(ip),
            HostKey::from_name("ws-1").unwrap()
        );
    }
}
