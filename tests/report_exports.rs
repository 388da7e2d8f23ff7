//! The exports of `analyze` on testdata/diet load as their tools expect
//! (issue 20): `--timesketch` lines carry Timesketch's three required
//! fields with a time that agrees with itself and name every alert of
//! `--json`, `--with-evidence` adds each alert's records by id and place;
//! `--graph` writes GraphML and a Neo4j CSV pair that describe the same
//! graph, whose edges end on nodes that exist and cite alerts that exist.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

mod common;

fn analyze(extra: &[&str], dir: &Path) {
    let diet = common::root().join("testdata/diet");
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .arg("analyze")
        .arg("--quiet")
        .arg(&diet)
        .arg("--json")
        .arg(dir.join("alerts.jsonl"))
        .args(extra)
        .output()
        .expect("lateral runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn alert_ids(dir: &Path) -> BTreeSet<String> {
    lines(&dir.join("alerts.jsonl"))
        .iter()
        .map(|a| a["lateral"]["alert"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn timesketch_lines_name_every_alert_and_with_evidence_their_records() {
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("ts.jsonl");
    analyze(&["--timesketch", ts.to_str().unwrap()], dir.path());
    let ids = alert_ids(dir.path());
    assert!(ids.len() > 10, "{}", ids.len());
    let rows = lines(&ts);
    let mut named = BTreeSet::new();
    for r in &rows {
        for k in ["message", "datetime", "timestamp_desc"] {
            assert!(r[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {r}");
        }
        let t = lateral::model::event::Timestamp::parse_rfc3339(r["datetime"].as_str().unwrap())
            .unwrap();
        assert_eq!(r["timestamp"].as_i64(), Some(t.0 / 1000), "{r}");
        assert_eq!(r["data_type"], "lateral:alert");
        named.insert(r["alert_id"].as_str().unwrap().to_string());
    }
    assert_eq!(rows.len(), ids.len());
    assert_eq!(named, ids);

    let ts2 = dir.path().join("ts-evidence.jsonl");
    analyze(
        &["--timesketch", ts2.to_str().unwrap(), "--with-evidence"],
        dir.path(),
    );
    let rows = lines(&ts2);
    let evidence: Vec<&Value> = rows
        .iter()
        .filter(|r| r["data_type"] == "lateral:evidence")
        .collect();
    assert_eq!(rows.len() - evidence.len(), ids.len());
    assert!(evidence.len() > ids.len(), "{}", evidence.len());
    for e in evidence {
        assert!(ids.contains(e["alert_id"].as_str().unwrap()), "{e}");
        let file = e["file"].as_str().unwrap();
        let id = e["event_id"].as_str().unwrap();
        assert!(id.starts_with(file), "{e}");
        assert!(Path::new(file).exists(), "{e}");
        assert!(e["offset"].is_u64() || e["line"].is_u64(), "{e}");
    }
}

/// Splits one CSV line with quoted fields (no embedded quotes in these files).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn graph_exports_describe_one_graph_of_existing_hosts_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("g.graphml");
    analyze(&["--graph", graph.to_str().unwrap()], dir.path());
    let ids = alert_ids(dir.path());
    let nodes_csv = std::fs::read_to_string(dir.path().join("g.nodes.csv")).unwrap();
    let edges_csv = std::fs::read_to_string(dir.path().join("g.edges.csv")).unwrap();
    let mut nl = nodes_csv.lines();
    assert!(nl.next().unwrap().starts_with("id:ID,"));
    let nodes: Vec<String> = nl.map(|l| fields(l)[0].clone()).collect();
    let unique: BTreeSet<&String> = nodes.iter().collect();
    assert_eq!(unique.len(), nodes.len(), "node ids repeat");
    let mut el = edges_csv.lines();
    let head = fields(el.next().unwrap());
    assert_eq!(&head[..3], &[":START_ID", ":END_ID", ":TYPE"]);
    let cited = head
        .iter()
        .position(|h| h.starts_with("alert_ids"))
        .unwrap();
    let edges: Vec<Vec<String>> = el.map(fields).collect();
    assert!(!edges.is_empty());
    let mut cited_ids = BTreeSet::new();
    for e in &edges {
        assert!(unique.contains(&e[0]) && unique.contains(&e[1]), "{e:?}");
        for id in e[cited].split(';').filter(|s| !s.is_empty()) {
            assert!(ids.contains(id), "{id} is no alert of --json");
            cited_ids.insert(id.to_string());
        }
    }
    // The diet's movement onto the chamber server is an edge.
    let chamber = "srv-chamber";
    assert!(
        edges.iter().any(|e| e[1] == chamber),
        "no edge into {chamber}"
    );
    assert!(!cited_ids.is_empty());
    let xml = std::fs::read_to_string(&graph).unwrap();
    assert!(xml.starts_with("<?xml") && xml.contains("<graphml"));
    assert_eq!(xml.matches("<node ").count(), nodes.len());
    assert_eq!(xml.matches("<edge ").count(), edges.len());
    assert!(xml.trim_end().ends_with("</graphml>"));
}
