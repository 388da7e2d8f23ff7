//! The JSON Lines outputs load unchanged into DuckDB, and alert evidence
//! joins to the raw records by id: `analyze --json` alerts and `events`
//! records of testdata/diet are read with `read_json`, each alert's
//! `lateral.evidence[].event.id` is joined to the records' `event.id`,
//! and every piece of evidence (flows from the capture and log lines)
//! must find its record.
//!
//! Needs python3 with the `duckdb` package (installed with pip when
//! missing); prints SKIPPED when it cannot be had.

use serde_json::Value;
use std::process::Command;

mod common;

/// The join, in DuckDB's SQL, printed as one JSON object.
const QUERY: &str = r#"
import duckdb, json, sys
alerts, events = sys.argv[1], sys.argv[2]
con = duckdb.connect()
row = con.execute("""
WITH ev AS (
  SELECT a.lateral.alert.id AS alert_id, unnest(a.lateral.evidence) AS e
  FROM read_json(?, format = 'newline_delimited', sample_size = -1) a
), rec AS (
  SELECT r.event.id AS id
  FROM read_json(?, format = 'newline_delimited', union_by_name = true, sample_size = -1) r
)
SELECT count(*), count(rec.id),
       count(rec.id) FILTER (WHERE ev.e.kind = 'flow'),
       count(rec.id) FILTER (WHERE ev.e.kind = 'log'),
       count(DISTINCT ev.alert_id)
FROM ev LEFT JOIN rec ON rec.id = ev.e.event.id
""", [alerts, events]).fetchone()
print(json.dumps(dict(zip(["evidence", "joined", "flows_joined", "logs_joined", "alerts"], row))))
"#;

fn has_duckdb() -> bool {
    let import = |()| {
        Command::new("python3")
            .args(["-c", "import duckdb"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    import(())
        || (Command::new("timeout")
            .args([
                "-k", "10", "600", "python3", "-m", "pip", "install", "-q", "duckdb",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
            && import(()))
}

fn lateral(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "lateral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn alert_evidence_joins_to_events_by_id_in_duckdb() {
    if !has_duckdb() {
        eprintln!(
            "SKIPPED alert_evidence_joins_to_events_by_id_in_duckdb: python3 with duckdb not available (pip install duckdb)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let alerts = dir.path().join("alerts.jsonl");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &alerts,
        lateral(&["analyze", "-q", "--json", "-", "testdata/diet"]),
    )
    .expect("alerts written");
    std::fs::write(&events, lateral(&["events", "-q", "testdata/diet"])).expect("events written");
    let out = Command::new("python3")
        .arg("-c")
        .arg(QUERY)
        .arg(&alerts)
        .arg(&events)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the DuckDB query failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("the query prints JSON");
    let evidence = v["evidence"].as_u64().expect("a count");
    assert!(evidence > 100, "{v}");
    assert_eq!(v["joined"], v["evidence"], "every record found: {v}");
    assert!(v["flows_joined"].as_u64() > Some(0), "{v}");
    assert!(v["logs_joined"].as_u64() > Some(0), "{v}");
    assert!(v["alerts"].as_u64() > Some(10), "{v}");
}
