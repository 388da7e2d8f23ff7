//! A stored baseline judges as the learned one: `lateral analyze` learns
//! profiles from the first part of its input and both paths judge through
//! `ProfilesView`, so the same learning records, kept in a baseline file
//! and read back, give the same alerts. Scenarios come from the generator
//! (`lateral::scenario`), are read by the real pipeline, and the CLI runs
//! `baseline build` then `analyze --baseline`.

use lateral::analyze::{Learning, analyze, analyze_against_profiles};
use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::config::Config;
use lateral::input::InputPath;
use lateral::model::event::{Flow, LogEvent};
use lateral::scenario::{GenSpec, Scenario, generate};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

fn spec(scenario: Scenario, hosts: usize, days: i64, seed: u64) -> GenSpec {
    GenSpec {
        scenario,
        hosts,
        span: lateral::model::event::Duration(days * 86_400_000_000_000),
        seed,
        pcap: true,
        pcapng: false,
        zeek: false,
        gzip: false,
        shape: lateral::scenario::shape::Shape::classic(),
    }
}

/// The generated capture and logs, read as `lateral analyze` reads them.
fn read(dir: &Path) -> (Vec<Flow>, Vec<LogEvent>) {
    let mut paths = vec![InputPath::File(dir.join("capture.pcap"))];
    let mut logs: Vec<_> = std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    paths.extend(logs.into_iter().map(InputPath::File));
    let run = run_events(
        &paths,
        Vec::new(),
        &FlowRunOptions::default(),
        &LogOptions::default(),
        &AtomicU64::new(0),
    );
    (run.flows.to_vec().unwrap(), run.events.clone())
}

/// Alerts as JSON Lines, as `--json` writes them.
fn alert_lines(a: &lateral::analyze::Analysis) -> String {
    let mut out = Vec::new();
    lateral::report::alerts_jsonl::write_alerts(&a.alerts, &a.incidents, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn a_stored_baseline_judges_as_the_learned_one_on_the_same_learning_records() {
    let dir = tempfile::tempdir().unwrap();
    generate(&spec(Scenario::Diet, 30, 2, 1), dir.path()).unwrap();
    let (flows, events) = read(dir.path());
    let cfg = Config::default();
    let learned = analyze(&flows, &events, Learning::Fraction(0.6), &cfg);
    assert!(
        learned
            .alerts
            .iter()
            .any(|a| a.rule.id == "lateral.remote-exec"),
        "the scenario's PsExec step is found"
    );
    assert!(!learned.incidents.is_empty());

    // The same learning records into a baseline file and back: only what
    // the file keeps reaches the detectors.
    let cut = learned.cut;
    let fc = flows.partition_point(|f| f.ts < cut);
    let ec = events.partition_point(|e| e.ts < cut);
    // The baseline's host directory comes from its own records, as
    // `baseline build` makes it: hosts it knew by name only are tied to
    // their addresses when later records reveal them; names are tied to
    // addresses by the sessions both recorded (session timing) too.
    let hosts = Arc::new(lateral::hosts::build_directory_tied(
        &events[..ec],
        &flows[..fc],
        None,
    ));
    let built = lateral::profile::build_parallel(hosts.clone(), &flows[..fc], &events[..ec]);
    let file = dir.path().join("profiles.lat");
    lateral::baseline::file::save(&file, &built).unwrap();
    let profiles: lateral::profile::Profiles = lateral::baseline::file::load(&file).unwrap();
    assert_eq!(profiles, built, "the file keeps every profile field");
    let stored = analyze_against_profiles(
        &flows[fc..],
        &events[ec..],
        &profiles,
        &hosts,
        learned.learned,
        &cfg,
    );
    assert_eq!(alert_lines(&stored), alert_lines(&learned));
    assert_eq!(stored.incidents.len(), learned.incidents.len());
    assert_eq!(stored.baseline_hosts, learned.baseline_hosts);
}

fn lateral(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn ok(o: &Output, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Generates a scenario, builds a baseline from the records before its
/// first attack step (or benign novelty), judges the input against it
/// with `analyze --baseline` and scores the alerts: (alerts, report,
/// score).
fn stored_run(dir: &Path, scenario: Scenario, days: i64, seed: u64) -> (Vec<Value>, String, Value) {
    let data = dir.join(scenario.name());
    generate(&spec(scenario, 30, days, seed), &data).unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let cut = truth["steps"]
        .as_array()
        .unwrap()
        .iter()
        .chain(truth["benign_novelties"].as_array().unwrap())
        .filter_map(|s| s["first"].as_str())
        .min()
        .unwrap()
        .to_owned();
    let baseline = dir.join("b.lat");
    let data_s = data.to_str().unwrap();
    let o = lateral(&[
        "baseline",
        "build",
        "-q",
        data_s,
        "--until",
        &cut,
        "-o",
        baseline.to_str().unwrap(),
    ]);
    ok(&o, "baseline build");
    let alerts = dir.join("alerts.jsonl");
    let o = lateral(&[
        "analyze",
        "--baseline",
        baseline.to_str().unwrap(),
        "--json",
        alerts.to_str().unwrap(),
        data.join("capture.pcap").to_str().unwrap(),
        data.join("logs").to_str().unwrap(),
    ]);
    ok(&o, "analyze --baseline");
    let report = String::from_utf8_lossy(&o.stdout).into_owned();
    let o = lateral(&[
        "eval",
        "-q",
        "--json",
        "--truth",
        data.join("truth.json").to_str().unwrap(),
        alerts.to_str().unwrap(),
    ]);
    ok(&o, "eval");
    let score: Value = serde_json::from_slice(&o.stdout).unwrap();
    let lines: Vec<Value> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, report, score)
}

#[test]
fn contractor_first_hop_is_found_off_hours_on_the_stored_path() {
    // Seed 3: the contractor's desk is quiet at night, but other hosts'
    // hours are not its account's; the first hop is its usual desk,
    // server and account, only at night.
    let dir = tempfile::tempdir().unwrap();
    let (alerts, _, score) = stored_run(dir.path(), Scenario::Contractor, 7, 3);
    let lateral = &score["by_kind"]["lateral"];
    assert_eq!(lateral["detected"], lateral["total"], "{score:#}");
    assert_eq!(score["best_true_incident_rank"], 1, "{score:#}");
    let off: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule"]["id"] == "lateral.off-hours-session")
        .filter(|a| a["destination"]["ip"] == "10.10.3.1")
        .collect();
    assert_eq!(off.len(), 1, "{alerts:#?}");
    let msg = off[0]["message"].as_str().unwrap();
    // Judged by the edge's own hours, as the learned path judges it.
    assert!(msg.contains("the edge was never used"), "{msg}");
}

#[test]
fn quiet_stored_baseline_keeps_routine_admin_work_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let (alerts, report, score) = stored_run(dir.path(), Scenario::Quiet, 7, 4);
    assert_eq!(score["true_incidents"], 0, "{score:#}");
    assert_eq!(score["false_incidents_above_medium"], 0, "{score:#}");
    for l in report.lines().filter(|l| l.starts_with('#')) {
        assert!(l.contains(" low "), "{l}");
    }
    // The help desk's RDP from an admin host that already uses RDP on
    // several hosts, and the admin's first RDP on a server by an account
    // privileged on several hosts, raise nothing (service reach and
    // privileged hosts); the proxy fetching one site evenly is no beacon
    // (it forwards for its clients).
    let flagged: Vec<&str> = score["benign_flagged"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !flagged.contains(&"benign-2") && !flagged.contains(&"benign-3"),
        "{flagged:?}"
    );
    assert!(
        alerts
            .iter()
            .all(|a| a["rule"]["id"] != "lateral.beaconing"),
        "{alerts:#?}"
    );
}
