//! Sigma correlation rules (event_count, value_count, temporal, with
//! group-by and timespan) over JSON Lines written here: each fires when its
//! condition is met within its window, for its group, and not otherwise.

use lateral::input::InputPath;
use lateral::sigma::SigmaRules;
use lateral::sigma::scan::{ScanOptions, scan};
use std::io::Write;

const BASE: &str = "title: Failed logon
id: 0b9c0c4e-0000-4000-8000-000000000001
name: failed_logon
level: low
logsource:
  product: windows
  service: security
detection:
  s:
    EventID: 4625
  condition: s
---
title: Successful network logon
id: 0b9c0c4e-0000-4000-8000-000000000002
name: net_logon
level: informational
logsource:
  product: windows
  service: security
detection:
  s:
    EventID: 4624
    LogonType: 3
  condition: s
";

fn logon(id: u32, secs: u32, ip: &str, user: &str) -> String {
    format!(
        r#"{{"EventID":{id},"Channel":"Security","Hostname":"DC01","@timestamp":"2024-03-01T10:{:02}:{:02}Z","IpAddress":"{ip}","TargetUserName":"{user}","LogonType":3}}"#,
        secs / 60,
        secs % 60
    )
}

/// Titles of the correlation hits of `corr` over `lines`.
fn fired(corr: &str, lines: &[String]) -> Vec<(String, String)> {
    let rules = SigmaRules::from_yaml("c.yml", &format!("{BASE}---\n{corr}"));
    assert_eq!(rules.report.refused, Vec::new());
    assert_eq!(rules.report.correlations, 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sec.jsonl");
    let mut f = std::fs::File::create(&path).expect("create");
    for l in lines {
        writeln!(f, "{l}").expect("write");
    }
    drop(f);
    let (hits, _) = scan(&rules, &[InputPath::File(path)], ScanOptions::default());
    hits.iter()
        .filter(|h| {
            h.label("sigma_title")
                .is_some_and(|t| t.starts_with("Corr"))
        })
        .map(|h| {
            (
                h.label("sigma_title").unwrap_or("").to_string(),
                h.source_ip.map(|i| i.to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn event_count_fires_per_group_within_timespan() {
    let corr = "title: Corr brute force
level: high
correlation:
  type: event_count
  rules:
    - failed_logon
  group-by:
    - IpAddress
  timespan: 5m
  condition:
    gte: 3
";
    // Three failures from .5 within a minute; two from .6; three from .7
    // spread over 20 minutes.
    let lines = vec![
        logon(4625, 0, "10.0.0.5", "a"),
        logon(4625, 10, "10.0.0.6", "a"),
        logon(4625, 20, "10.0.0.5", "b"),
        logon(4625, 30, "10.0.0.6", "b"),
        logon(4625, 40, "10.0.0.5", "c"),
        logon(4625, 100, "10.0.0.7", "a"),
        logon(4625, 700, "10.0.0.7", "a"),
        logon(4625, 1300, "10.0.0.7", "a"),
    ];
    let got = fired(corr, &lines);
    assert_eq!(
        got,
        [("Corr brute force".to_string(), "10.0.0.5".to_string())]
    );
}

#[test]
fn value_count_counts_distinct_values() {
    let corr = "title: Corr spray
level: high
correlation:
  type: value_count
  rules:
    - failed_logon
  group-by:
    - IpAddress
  timespan: 10m
  condition:
    field: TargetUserName
    gte: 3
";
    let lines = vec![
        // Same user three times: one distinct value.
        logon(4625, 0, "10.0.0.5", "a"),
        logon(4625, 5, "10.0.0.5", "a"),
        logon(4625, 9, "10.0.0.5", "a"),
        // Three users.
        logon(4625, 20, "10.0.0.6", "a"),
        logon(4625, 25, "10.0.0.6", "b"),
        logon(4625, 30, "10.0.0.6", "c"),
    ];
    let got = fired(corr, &lines);
    assert_eq!(got, [("Corr spray".to_string(), "10.0.0.6".to_string())]);
}

#[test]
fn temporal_needs_every_rule_in_the_window() {
    let corr = "title: Corr guessed then in
level: critical
correlation:
  type: temporal
  rules:
    - failed_logon
    - net_logon
  group-by:
    - IpAddress
  timespan: 2m
";
    let lines = vec![
        // .5 fails then logs on within a minute.
        logon(4625, 0, "10.0.0.5", "a"),
        logon(4624, 50, "10.0.0.5", "a"),
        // .6 fails, logs on 10 minutes later.
        logon(4625, 100, "10.0.0.6", "a"),
        logon(4624, 700, "10.0.0.6", "a"),
        // .7 only logs on.
        logon(4624, 800, "10.0.0.7", "a"),
    ];
    let got = fired(corr, &lines);
    assert_eq!(
        got,
        [("Corr guessed then in".to_string(), "10.0.0.5".to_string())]
    );
}
