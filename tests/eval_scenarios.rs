//! The detection-quality targets of issue 6 at a small size: each scenario is
//! generated (`lateral gen`), analyzed with defaults (`lateral analyze`) and
//! scored against its truth (`lateral eval`), all by the real binary.
//! `scripts/eval-scenarios.sh` runs the same loop at the full 200-host,
//! 7-day size over five seeds.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

const HOSTS: &str = "30";
const DAYS: &str = "2";

fn lateral(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Generates, analyzes and scores one scenario (seed 1); returns the score.
fn score(dir: &Path, scenario: &str) -> Value {
    let run = dir.join(scenario);
    let run_s = run.to_str().unwrap();
    let out = lateral(&[
        "gen",
        "--scenario",
        scenario,
        "--hosts",
        HOSTS,
        "--days",
        DAYS,
        "--seed",
        "1",
        "-o",
        run_s,
    ]);
    assert!(
        out.status.success(),
        "gen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = run.join("alerts.jsonl");
    let out = lateral(&[
        "analyze",
        "-q",
        "--json",
        alerts.to_str().unwrap(),
        run.join("capture.pcap").to_str().unwrap(),
        run.join("logs").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "analyze: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = lateral(&[
        "eval",
        "-q",
        "--json",
        "--truth",
        run.join("truth.json").to_str().unwrap(),
        alerts.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "eval: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    std::fs::remove_file(run.join("capture.pcap")).unwrap();
    s
}

fn top_incident_covers_the_attack(s: &Value) {
    assert_eq!(s["best_true_incident_rank"], 1, "{s:#}");
    let steps = s["incidents"][0]["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{s:#}");
}

#[test]
fn diet_is_the_top_incident_with_every_lateral_step() {
    let dir = tempfile::tempdir().unwrap();
    let s = score(dir.path(), "diet");
    top_incident_covers_the_attack(&s);
    assert!(s["lateral_recall"].as_f64().unwrap() >= 0.95, "{s:#}");
}

#[test]
fn spray_is_the_top_incident_with_every_lateral_step() {
    let dir = tempfile::tempdir().unwrap();
    let s = score(dir.path(), "spray");
    top_incident_covers_the_attack(&s);
    assert!(s["lateral_recall"].as_f64().unwrap() >= 0.95, "{s:#}");
}

#[test]
fn contractor_pivots_are_the_top_incident() {
    let dir = tempfile::tempdir().unwrap();
    let s = score(dir.path(), "contractor");
    top_incident_covers_the_attack(&s);
    // The server-to-server hops are found; the first hop (the contractor's
    // usual desk to the usual server, only at night) is not (see docs/scenarios.md).
    let lateral = &s["by_kind"]["lateral"];
    assert!(
        lateral["detected"].as_u64().unwrap() + 1 >= lateral["total"].as_u64().unwrap(),
        "{s:#}"
    );
}

#[test]
fn quiet_has_no_incident_above_medium() {
    let dir = tempfile::tempdir().unwrap();
    let s = score(dir.path(), "quiet");
    assert_eq!(s["true_incidents"], 0, "{s:#}");
    assert_eq!(s["false_incidents_above_medium"], 0, "{s:#}");
}
