//! Scoring: alerts from `lateral analyze --json` judged against the ground
//! truth a generated scenario wrote (`truth.json`, see the generator).
//!
//! This stage sits beside the pipeline, after the outputs: it reads two
//! files and counts. An attack step is *detected* when at least one alert
//! names both of its hosts (by IP in `source.ip`, `destination.ip` or
//! `related.ip`, or by name in `source.domain`/`destination.domain`; a
//! step with no destination needs only its source) and the alert's time
//! span (`event.start`..`event.end`, else `@timestamp`) overlaps the step's
//! `first`..`last` widened by a slack. An alert that matches no attack step
//! is a false alert; an incident (`lateral.incident.id`) is true when any of
//! its alerts matches a step. An incident's score is its combined score
//! (`lateral.incident.score`) when the alerts carry one, else the highest
//! risk score among its alerts; incidents rank by it, ties broken by
//! `lateral.incident.rank`, then id. Severity bands follow Elastic's detection
//! rules: risk score 0-21 low, 22-47 medium, 48-73 high, 74-100 critical.

use crate::model::event::{Duration, NANOS_PER_SEC, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Largest truth file read (64 MiB).
pub const MAX_TRUTH_FILE: u64 = 64 << 20;

/// Largest alerts file (or standard input) read (1 GiB).
pub const MAX_ALERTS_FILE: u64 = 1 << 30;

/// Why a truth or alerts file could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The truth file is not the JSON the generator writes.
    #[error("truth file: {0}")]
    Truth(String),
}

/// One step of ground truth: an attack step or a benign novelty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The generator's id for the step (`diet-3`).
    pub id: String,
    /// What kind of step: `lateral`, `beacon`, `credential`, `execution`,
    /// `exfil`, `recon`, or `benign` for novelties.
    pub kind: String,
    /// ATT&CK technique id.
    pub technique: Option<String>,
    /// Source address.
    pub source: Option<IpAddr>,
    /// Source host name.
    pub source_name: Option<String>,
    /// Destination address, when the step has one.
    pub destination: Option<IpAddr>,
    /// Destination host name.
    pub destination_name: Option<String>,
    /// First moment of the step.
    pub first: Timestamp,
    /// Last moment of the step.
    pub last: Timestamp,
}

/// A scenario's ground truth, as `truth.json` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    /// Scenario name (`diet`, `quiet`, ...).
    pub scenario: String,
    /// Number of hosts in the generated network.
    pub hosts: u64,
    /// Start of the generated time span.
    pub start: Timestamp,
    /// End of the generated time span.
    pub end: Timestamp,
    /// Attack steps.
    pub steps: Vec<Step>,
    /// Benign novelties (things that look new but are not attacks).
    pub benign: Vec<Step>,
}

impl Truth {
    /// Host-days covered: hosts times the span in days (at least one hour's worth).
    pub fn host_days(&self) -> f64 {
        let days = ((self.end.0 - self.start.0) as f64 / (86_400.0 * NANOS_PER_SEC as f64))
            .max(1.0 / 24.0);
        self.hosts as f64 * days
    }
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn ip_field(v: &Value, k: &str) -> Option<IpAddr> {
    v.get(k).and_then(Value::as_str)?.parse().ok()
}

fn time_field(v: &Value, k: &str) -> Option<Timestamp> {
    v.get(k)
        .and_then(Value::as_str)
        .and_then(Timestamp::parse_rfc3339)
}

fn parse_step(v: &Value, what: &str, i: usize) -> Result<Step, EvalError> {
    let bad = |f: &str| EvalError::Truth(format!("{what}[{i}]: missing or invalid {f:?}"));
    let first = time_field(v, "first").ok_or_else(|| bad("first"))?;
    let last = time_field(v, "last").unwrap_or(first);
    Ok(Step {
        id: str_field(v, "id").unwrap_or_else(|| format!("{what}-{i}")),
        kind: str_field(v, "kind").ok_or_else(|| bad("kind"))?,
        technique: str_field(v, "technique"),
        source: ip_field(v, "source"),
        source_name: str_field(v, "source_name"),
        destination: ip_field(v, "destination"),
        destination_name: str_field(v, "destination_name"),
        first,
        last: last.max(first),
    })
}

/// Parses `truth.json`.
pub fn parse_truth(text: &str) -> Result<Truth, EvalError> {
    let v: Value = serde_json::from_str(text).map_err(|e| EvalError::Truth(e.to_string()))?;
    let steps = |k: &str| -> Result<Vec<Step>, EvalError> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, s)| parse_step(s, k, i))
                .collect(),
            Some(_) => Err(EvalError::Truth(format!("{k:?} is not a list"))),
        }
    };
    let steps_v = steps("steps")?;
    let benign = steps("benign_novelties")?;
    let start = time_field(&v, "start")
        .or_else(|| steps_v.iter().map(|s| s.first).min())
        .ok_or_else(|| EvalError::Truth("missing \"start\"".into()))?;
    let end = time_field(&v, "end").unwrap_or(start).max(start);
    Ok(Truth {
        scenario: str_field(&v, "scenario").unwrap_or_else(|| "unknown".into()),
        hosts: v.get("hosts").and_then(Value::as_u64).unwrap_or(0),
        start,
        end,
        steps: steps_v,
        benign,
    })
}

/// The parts of one alert line the scorer uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// One-based line in the alerts file.
    pub line: u64,
    /// `lateral.alert.id`, or the line number when absent.
    pub id: String,
    /// `lateral.incident.id`, or the alert's own id when absent.
    pub incident: String,
    /// `@timestamp`.
    pub ts: Timestamp,
    /// `event.start` (else `@timestamp`).
    pub start: Timestamp,
    /// `event.end` (else `@timestamp`).
    pub end: Timestamp,
    /// `event.risk_score`, 0-100.
    pub risk_score: u8,
    /// `lateral.incident.score`, the incident's combined score, when present.
    pub incident_score: Option<u8>,
    /// `lateral.incident.rank` (1 = top), when present.
    pub incident_rank: Option<usize>,
    /// Every address the alert names.
    pub ips: BTreeSet<IpAddr>,
    /// Every host name the alert names, lower case, short form.
    pub names: BTreeSet<String>,
    /// `rule.id`, or `rule.name`.
    pub rule: String,
}

/// Looks up a dotted ECS name either nested (`{"event":{"start":..}}`) or flat (`"event.start"`).
fn ecs<'a>(doc: &'a Value, dotted: &str) -> Option<&'a Value> {
    if let Some(v) = doc.get(dotted) {
        return Some(v);
    }
    let mut cur = doc;
    for part in dotted.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn short_name(s: &str) -> String {
    let s = s.trim().trim_end_matches('$');
    let s = s.rsplit('\\').next().unwrap_or(s);
    s.split('.').next().unwrap_or(s).to_ascii_lowercase()
}

/// Reads alerts from JSON Lines; returns the alerts and the lines that
/// could not be used (line number and reason).
pub fn read_alerts(text: &str) -> (Vec<AlertRecord>, Vec<(u64, String)>) {
    let mut alerts = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let doc: Value = match serde_json::from_str(raw) {
            Ok(d) => d,
            Err(e) => {
                bad.push((line, format!("not JSON: {e}")));
                continue;
            }
        };
        let t = |k: &str| {
            ecs(&doc, k)
                .and_then(Value::as_str)
                .and_then(Timestamp::parse_rfc3339)
        };
        let Some(ts) = t("@timestamp").or_else(|| t("event.start")) else {
            bad.push((line, "no @timestamp".into()));
            continue;
        };
        let start = t("event.start").unwrap_or(ts);
        let end = t("event.end").unwrap_or(ts).max(start);
        let mut ips = BTreeSet::new();
        for k in ["source.ip", "destination.ip"] {
            if let Some(ip) = ecs(&doc, k)
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
            {
                ips.insert(ip);
            }
        }
        if let Some(Value::Array(a)) = ecs(&doc, "related.ip") {
            ips.extend(a.iter().filter_map(|v| v.as_str()?.parse::<IpAddr>().ok()));
        }
        let mut names = BTreeSet::new();
        for k in ["source.domain", "destination.domain", "host.name"] {
            if let Some(n) = ecs(&doc, k).and_then(Value::as_str) {
                names.insert(short_name(n));
            }
        }
        if let Some(Value::Array(a)) = ecs(&doc, "related.hosts") {
            names.extend(a.iter().filter_map(|v| Some(short_name(v.as_str()?))));
        }
        let s = |k: &str| ecs(&doc, k).and_then(Value::as_str).map(str::to_owned);
        let id = s("lateral.alert.id").unwrap_or_else(|| format!("line-{line}"));
        alerts.push(AlertRecord {
            line,
            incident: s("lateral.incident.id").unwrap_or_else(|| id.clone()),
            id,
            ts,
            start,
            end,
            risk_score: ecs(&doc, "event.risk_score")
                .and_then(Value::as_f64)
                .map_or(0, |r| r.clamp(0.0, 100.0).round() as u8),
            incident_score: ecs(&doc, "lateral.incident.score")
                .and_then(Value::as_f64)
                .map(|r| r.clamp(0.0, 100.0).round() as u8),
            incident_rank: ecs(&doc, "lateral.incident.rank")
                .and_then(Value::as_u64)
                .and_then(|r| usize::try_from(r).ok())
                .filter(|r| *r > 0),
            ips,
            names,
            rule: s("rule.id").or_else(|| s("rule.name")).unwrap_or_default(),
        });
    }
    (alerts, bad)
}

/// Elastic's severity band for a risk score.
pub fn severity_band(risk: u8) -> &'static str {
    match risk {
        0..=21 => "low",
        22..=47 => "medium",
        48..=73 => "high",
        _ => "critical",
    }
}

/// How matching is done.
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// How far outside a step's time span an alert may lie and still match it.
    pub slack: Duration,
}

impl Default for EvalOptions {
    /// Five minutes of slack.
    fn default() -> Self {
        EvalOptions {
            slack: Duration::from_secs(300),
        }
    }
}

fn names_host(a: &AlertRecord, ip: Option<IpAddr>, name: Option<&str>) -> bool {
    ip.is_some_and(|ip| a.ips.contains(&ip))
        || name.is_some_and(|n| a.names.contains(&short_name(n)))
}

/// True when `alert` is evidence of `step`.
pub fn matches(alert: &AlertRecord, step: &Step, opts: &EvalOptions) -> bool {
    let lo = step.first.0.saturating_sub(opts.slack.0);
    let hi = step.last.0.saturating_add(opts.slack.0);
    if alert.end.0 < lo || alert.start.0 > hi {
        return false;
    }
    let src = names_host(alert, step.source, step.source_name.as_deref());
    let has_dst = step.destination.is_some() || step.destination_name.is_some();
    let dst = names_host(alert, step.destination, step.destination_name.as_deref());
    if has_dst { src && dst } else { src }
}

/// Detection per step kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KindScore {
    /// Steps of this kind that some alert matched.
    pub detected: u64,
    /// Steps of this kind.
    pub total: u64,
}

/// One incident as the scorer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentScore {
    /// `lateral.incident.id`.
    pub id: String,
    /// The incident's combined score (`lateral.incident.score`), or the
    /// highest risk score among its alerts when the alerts do not carry one.
    pub risk_score: u8,
    /// Severity band of that score.
    pub severity: &'static str,
    /// Rank by that score (1 = top), ties broken by the alerts'
    /// `lateral.incident.rank` when present, then by id.
    pub rank: usize,
    /// Alerts in the incident.
    pub alerts: usize,
    /// Attack steps its alerts match.
    pub steps: Vec<String>,
}

/// The scorer's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Scenario name from the truth file.
    pub scenario: String,
    /// Detected over total, by step kind.
    pub by_kind: BTreeMap<String, KindScore>,
    /// Attack steps that no alert matched.
    pub missed: Vec<String>,
    /// Detected steps over all steps (1.0 when there are none).
    pub recall: f64,
    /// Detected lateral steps over lateral steps (1.0 when there are none).
    pub lateral_recall: f64,
    /// Alerts that match an attack step over all alerts (1.0 when there are none).
    pub alert_precision: f64,
    /// Alerts read.
    pub alerts: usize,
    /// Incidents with at least one alert matching an attack step.
    pub true_incidents: usize,
    /// Incidents matching no attack step.
    pub false_incidents: usize,
    /// False incidents per 1,000 host-days of the scenario.
    pub false_incidents_per_1000_host_days: f64,
    /// False incidents above medium severity.
    pub false_incidents_above_medium: usize,
    /// Benign novelties that some alert named.
    pub benign_flagged: Vec<String>,
    /// Rank of the best true incident (1 = top-ranked), if any.
    pub best_true_incident_rank: Option<usize>,
    /// Seconds from the first attack step to the first alert matching any step.
    pub time_to_first_alert_secs: Option<f64>,
    /// Every incident, in rank order.
    pub incidents: Vec<IncidentScore>,
}

/// Scores `alerts` against `truth`.
pub fn score(truth: &Truth, alerts: &[AlertRecord], opts: &EvalOptions) -> Score {
    let mut by_kind: BTreeMap<String, KindScore> = BTreeMap::new();
    let mut missed = Vec::new();
    let mut alert_hits = vec![false; alerts.len()];
    let mut incident_steps: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut first_true_alert: Option<Timestamp> = None;
    for step in &truth.steps {
        let k = by_kind.entry(step.kind.clone()).or_default();
        k.total += 1;
        let mut hit = false;
        for (i, a) in alerts.iter().enumerate() {
            if matches(a, step, opts) {
                hit = true;
                if let Some(h) = alert_hits.get_mut(i) {
                    *h = true;
                }
                incident_steps
                    .entry(a.incident.as_str())
                    .or_default()
                    .insert(step.id.clone());
                first_true_alert = Some(first_true_alert.map_or(a.ts, |t| t.min(a.ts)));
            }
        }
        if hit {
            k.detected += 1;
        } else {
            missed.push(step.id.clone());
        }
    }
    let ratio = |n: u64, d: u64| if d == 0 { 1.0 } else { n as f64 / d as f64 };
    let detected: u64 = by_kind.values().map(|k| k.detected).sum();
    let total: u64 = by_kind.values().map(|k| k.total).sum();
    let lateral = by_kind.get("lateral").cloned().unwrap_or_default();
    let true_alerts = alert_hits.iter().filter(|h| **h).count() as u64;

    // Per incident: highest alert risk, combined score and rank when the
    // alerts carry them, alert count.
    type Tally = (u8, Option<u8>, Option<usize>, usize);
    let mut per_incident: BTreeMap<&str, Tally> = BTreeMap::new();
    for a in alerts {
        let e = per_incident
            .entry(a.incident.as_str())
            .or_insert((0, None, None, 0));
        e.0 = e.0.max(a.risk_score);
        e.1 = e.1.max(a.incident_score);
        e.2 = match (e.2, a.incident_rank) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        e.3 += 1;
    }
    let mut stored_rank: BTreeMap<&str, usize> = BTreeMap::new();
    let mut incidents: Vec<IncidentScore> = per_incident
        .into_iter()
        .map(|(id, (max_risk, combined, rank, n))| {
            if let Some(r) = rank {
                stored_rank.insert(id, r);
            }
            (id, combined.unwrap_or(max_risk), n)
        })
        .map(|(id, risk, n)| IncidentScore {
            id: id.to_owned(),
            risk_score: risk,
            severity: severity_band(risk),
            rank: 0,
            alerts: n,
            steps: incident_steps
                .get(id)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
        })
        .collect();
    let rank_of = |id: &str| stored_rank.get(id).copied().unwrap_or(usize::MAX);
    incidents.sort_by(|a, b| {
        b.risk_score
            .cmp(&a.risk_score)
            .then_with(|| rank_of(&a.id).cmp(&rank_of(&b.id)))
            .then_with(|| a.id.cmp(&b.id))
    });
    for (i, inc) in incidents.iter_mut().enumerate() {
        inc.rank = i + 1;
    }
    let false_incs: Vec<&IncidentScore> = incidents.iter().filter(|i| i.steps.is_empty()).collect();
    let host_days = truth.host_days();
    let benign_flagged = truth
        .benign
        .iter()
        .filter(|b| alerts.iter().any(|a| matches(a, b, opts)))
        .map(|b| b.id.clone())
        .collect();
    let first_step = truth.steps.iter().map(|s| s.first).min();
    Score {
        scenario: truth.scenario.clone(),
        recall: ratio(detected, total),
        lateral_recall: ratio(lateral.detected, lateral.total),
        alert_precision: ratio(true_alerts, alerts.len() as u64),
        alerts: alerts.len(),
        true_incidents: incidents.len() - false_incs.len(),
        false_incidents: false_incs.len(),
        false_incidents_per_1000_host_days: if host_days > 0.0 {
            false_incs.len() as f64 * 1000.0 / host_days
        } else {
            0.0
        },
        false_incidents_above_medium: false_incs.iter().filter(|i| i.risk_score > 47).count(),
        benign_flagged,
        best_true_incident_rank: incidents
            .iter()
            .find(|i| !i.steps.is_empty())
            .map(|i| i.rank),
        time_to_first_alert_secs: match (first_step, first_true_alert) {
            (Some(s), Some(a)) => Some((a.0 - s.0) as f64 / NANOS_PER_SEC as f64),
            _ => None,
        },
        by_kind,
        missed,
        incidents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUTH: &str = r#"{
      "scenario": "diet", "seed": 1, "hosts": 200, "days": 7,
      "start": "2011-07-18T00:00:00Z", "end": "2011-07-25T00:00:00Z",
      "steps": [
        {"id": "diet-1", "kind": "beacon", "technique": "T1071", "source": "10.10.1.11",
         "source_name": "ws-011", "destination": "203.0.113.7", "port": 443,
         "first": "2011-07-22T09:00:00Z", "last": "2011-07-22T12:00:00Z"},
        {"id": "diet-2", "kind": "lateral", "technique": "T1021.002", "source": "10.10.1.11",
         "source_name": "ws-011", "destination": "10.10.2.20", "destination_name": "srv-chamber",
         "port": 445, "first": "2011-07-22T13:00:00Z", "last": "2011-07-22T13:05:00Z"},
        {"id": "diet-3", "kind": "lateral", "technique": "T1021.002", "source": "10.10.2.20",
         "destination": "10.10.2.5", "port": 445,
         "first": "2011-07-22T15:00:00Z", "last": "2011-07-22T15:01:00Z"}
      ],
      "benign_novelties": [
        {"id": "benign-1", "kind": "benign", "source": "10.10.3.3", "destination": "10.10.2.30",
         "first": "2011-07-20T10:00:00Z", "last": "2011-07-20T10:30:00Z"}
      ]
    }"#;

    fn alert(id: &str, inc: &str, at: &str, src: &str, dst: &str, risk: u8) -> String {
        format!(
            r#"{{"@timestamp":"{at}","event":{{"kind":"alert","risk_score":{risk}}},"source":{{"ip":"{src}"}},"destination":{{"ip":"{dst}"}},"lateral":{{"alert":{{"id":"{id}"}},"incident":{{"id":"{inc}"}}}},"rule":{{"id":"r"}}}}"#
        )
    }

    #[test]
    fn steps_are_matched_by_hosts_and_time() {
        let truth = parse_truth(TRUTH).unwrap();
        assert_eq!(truth.steps.len(), 3);
        assert_eq!(truth.host_days(), 1400.0);
        let text = [
            // Matches diet-2 (inside its window).
            alert(
                "a1",
                "i1",
                "2011-07-22T13:01:00Z",
                "10.10.1.11",
                "10.10.2.20",
                80,
            ),
            // Right hosts, wrong day: matches nothing.
            alert(
                "a2",
                "i2",
                "2011-07-21T13:01:00Z",
                "10.10.1.11",
                "10.10.2.20",
                30,
            ),
            // Within slack after diet-3: matches it, same incident as a1.
            alert(
                "a3",
                "i1",
                "2011-07-22T15:04:00Z",
                "10.10.2.20",
                "10.10.2.5",
                60,
            ),
            // A false alarm on the benign novelty, high severity.
            alert(
                "a4",
                "i3",
                "2011-07-20T10:10:00Z",
                "10.10.3.3",
                "10.10.2.30",
                50,
            ),
            "not json".to_string(),
        ]
        .join("\n");
        let (alerts, bad) = read_alerts(&text);
        assert_eq!(alerts.len(), 4);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].0, 5);
        let s = score(&truth, &alerts, &EvalOptions::default());
        assert_eq!(
            s.by_kind["lateral"],
            KindScore {
                detected: 2,
                total: 2
            }
        );
        assert_eq!(
            s.by_kind["beacon"],
            KindScore {
                detected: 0,
                total: 1
            }
        );
        assert_eq!(s.missed, vec!["diet-1".to_string()]);
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.lateral_recall, 1.0);
        assert_eq!(s.alert_precision, 0.5);
        assert_eq!(s.true_incidents, 1);
        assert_eq!(s.false_incidents, 2);
        assert_eq!(s.false_incidents_above_medium, 1);
        assert_eq!(s.benign_flagged, vec!["benign-1".to_string()]);
        assert_eq!(s.best_true_incident_rank, Some(1));
        assert_eq!(s.time_to_first_alert_secs, Some(4.0 * 3600.0 + 60.0));
        assert!((s.false_incidents_per_1000_host_days - 2.0 * 1000.0 / 1400.0).abs() < 1e-9);
    }

    /// An alert line (see [`alert`]) carrying its incident's combined score and rank.
    fn ranked(line: String, score: u8, rank: usize) -> String {
        let mut v: Value = serde_json::from_str(&line).unwrap();
        v["lateral"]["incident"]["score"] = score.into();
        v["lateral"]["incident"]["rank"] = rank.into();
        v.to_string()
    }

    #[test]
    fn incident_score_and_rank_are_taken_from_the_alerts_when_present() {
        let truth = parse_truth(TRUTH).unwrap();
        let text = [
            // The true incident: alerts of 40 and 45 combine to 70.
            ranked(
                alert(
                    "a1",
                    "i1",
                    "2011-07-22T13:01:00Z",
                    "10.10.1.11",
                    "10.10.2.20",
                    40,
                ),
                70,
                2,
            ),
            ranked(
                alert(
                    "a3",
                    "i1",
                    "2011-07-22T15:04:00Z",
                    "10.10.2.20",
                    "10.10.2.5",
                    45,
                ),
                70,
                2,
            ),
            // A false incident with one alert of 30, same combined score
            // 70 but ranked first by lateral: the stored rank breaks the tie.
            ranked(
                alert(
                    "a4",
                    "i0",
                    "2011-07-20T10:10:00Z",
                    "10.10.3.3",
                    "10.10.2.30",
                    30,
                ),
                70,
                1,
            ),
            // Without incident fields: falls back to the alert's risk.
            alert(
                "a5",
                "i9",
                "2011-07-19T10:10:00Z",
                "10.10.3.9",
                "10.10.2.31",
                20,
            ),
        ]
        .join("\n");
        let (alerts, bad) = read_alerts(&text);
        assert!(bad.is_empty());
        assert_eq!(alerts[0].incident_score, Some(70));
        assert_eq!(alerts[0].incident_rank, Some(2));
        assert_eq!(alerts[3].incident_score, None);
        let s = score(&truth, &alerts, &EvalOptions::default());
        let got: Vec<(&str, u8, usize)> = s
            .incidents
            .iter()
            .map(|i| (i.id.as_str(), i.risk_score, i.rank))
            .collect();
        assert_eq!(got, [("i0", 70, 1), ("i1", 70, 2), ("i9", 20, 3)]);
        assert_eq!(s.best_true_incident_rank, Some(2));
        // The false incident counts above medium by its combined score (70),
        // not its alert's risk.
        assert_eq!(s.false_incidents_above_medium, 1);
        assert_eq!(s.incidents[0].severity, "high");
    }

    #[test]
    fn names_match_when_addresses_are_absent() {
        let truth = parse_truth(TRUTH).unwrap();
        let line = r#"{"@timestamp":"2011-07-22T13:02:00Z","event.start":"2011-07-22T12:59:00Z","source.domain":"WS-011.shugiin.local","destination.domain":"SRV-CHAMBER$","event.risk_score":40}"#;
        let (alerts, bad) = read_alerts(line);
        assert!(bad.is_empty());
        assert!(matches(
            &alerts[0],
            &truth.steps[1],
            &EvalOptions::default()
        ));
        assert!(!matches(
            &alerts[0],
            &truth.steps[2],
            &EvalOptions::default()
        ));
    }

    #[test]
    fn truth_files_are_recognised_from_their_first_bytes() {
        assert!(crate::input::sniff::looks_like_truth(TRUTH.as_bytes()));
        assert!(!crate::input::sniff::looks_like_truth(
            b"{\"EventID\": 4624, \"steps\": 1}"
        ));
        assert!(!crate::input::sniff::looks_like_truth(b"\x0a\x0d\x0d\x0a"));
        assert!(!crate::input::sniff::looks_like_truth(b""));
    }

    #[test]
    fn broken_truth_is_an_error_not_a_panic() {
        for text in [
            "",
            "[]",
            "{\"steps\": 3}",
            "{\"steps\": [{\"kind\": \"lateral\"}]}",
        ] {
            assert!(parse_truth(text).is_err(), "{text}");
        }
    }
}
