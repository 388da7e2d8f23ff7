//! A stored baseline judges with the same habits as the learned one
//! (`src/detect/habits.rs`): profiles keep account and remote-admin edge
//! hours, and `ProfilesView` answers every `Habits` question as
//! `LearnedBaseline` does on the same learning records. Scenarios come
//! from the generator (`lateral::scenario`), are read by the real
//! pipeline, and the CLI runs `baseline build` then `analyze --baseline`.

use lateral::config::Config;
use lateral::detect::habits::Habits;
use lateral::detect::learned::LearnedBaseline;
use lateral::detect::profiles_view::ProfilesView;
use lateral::detect::{AdminService, Directory};
use lateral::event::{Flow, LogEvent, Outcome};
use lateral::input::InputPath;
use lateral::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::scenario::{GenSpec, Scenario, generate};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

const SERVICES: [AdminService; 7] = [
    AdminService::Smb,
    AdminService::Rdp,
    AdminService::WinRm,
    AdminService::Ssh,
    AdminService::Rpc,
    AdminService::Vnc,
    AdminService::Telnet,
];

fn spec(scenario: Scenario, hosts: usize, days: i64, seed: u64) -> GenSpec {
    GenSpec {
        scenario,
        hosts,
        span: lateral::event::Duration(days * 86_400_000_000_000),
        seed,
        pcap: true,
        pcapng: false,
        zeek: false,
        gzip: false,
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

/// The account names detectors ask about: those of logons and privilege
/// events, but not computer or system accounts. Names with a domain part (`adm@corp.local`) are left out: the
/// learned baseline keys them as written, profiles by the bare account
/// (all spellings together).
fn account(e: &LogEvent) -> Option<String> {
    let u = e.user_name.as_deref()?.trim().to_ascii_lowercase();
    let asked = matches!(
        e.action.as_str(),
        "logged-in" | "logon-failed" | "special-privileges-assigned"
    );
    // Detectors never ask about the system's own accounts (user_of).
    let system = u.ends_with('$') || u == "-" || u == "system" || u == "anonymous logon";
    (asked && !system && !u.contains(['@', '\\'])).then_some(u)
}

#[test]
fn stored_habits_equal_learned_habits_on_the_learning_records() {
    let dir = tempfile::tempdir().unwrap();
    generate(&spec(Scenario::Quiet, 30, 2, 1), dir.path()).unwrap();
    let (flows, events) = read(dir.path());
    let cut = lateral::analyze::cut_point(
        lateral::analyze::Learning::Fraction(0.6),
        Some((flows[0].ts, flows[flows.len() - 1].ts)),
    );
    let fc = flows.partition_point(|f| f.ts < cut);
    let ec = events.partition_point(|e| e.ts < cut);
    let (flows, events) = (&flows[..fc], &events[..ec]);
    let cfg = Config::default();
    let learned = LearnedBaseline::learn(flows, events, &Directory::from_events(events), &cfg);
    let mut d = lateral::hosts::DirectoryBuilder::new();
    for e in events {
        d.observe(e);
    }
    let hosts = Arc::new(d.finish());
    let profiles = lateral::profile::build_parallel(hosts.clone(), flows, events);
    let period = Some((flows[0].ts, cut));
    let stored = ProfilesView::new(&profiles, &hosts, period, &cfg.network);
    let net = &cfg.network;

    // Accounts: everyone who logged on, and one nobody knows.
    let mut users: BTreeSet<String> = events.iter().filter_map(account).collect();
    users.insert("nobody-at-all".into());
    let mut with_hours = 0;
    let mut privileged_often = 0;
    for u in &users {
        let (l, s) = (learned.account_hours(u), stored.account_hours(u));
        assert_eq!(l, s, "account hours of {u}");
        with_hours += usize::from(l.is_some_and(|w| w.records() > 0));
        let (l, s) = (learned.privileged_hosts(u), stored.privileged_hosts(u));
        assert_eq!(l, s, "privileged hosts of {u}");
        privileged_often += usize::from(l.is_some_and(|n| n >= 2));
    }
    assert!(with_hours >= 10, "{with_hours} accounts with hours");
    assert!(privileged_often >= 1, "no account privileged on 2+ hosts");
    let successes = events
        .iter()
        .filter(|e| e.action == "logged-in" && e.outcome == Some(Outcome::Success))
        .count();
    assert!(successes > 0);

    // Edges: every remote-admin pair of the learning flows, each service.
    let mut edges: BTreeSet<(IpAddr, IpAddr)> = BTreeSet::new();
    let mut internal: BTreeSet<IpAddr> = BTreeSet::new();
    for f in flows {
        for ip in [f.orig_h, f.resp_h] {
            if net.is_internal(ip) {
                internal.insert(ip);
            }
        }
        if AdminService::of_flow(f).is_some() && net.is_internal(f.orig_h) {
            edges.insert((f.orig_h, f.resp_h));
        }
    }
    let mut edge_hours = 0;
    for &(src, dst) in &edges {
        for svc in SERVICES {
            let (l, s) = (
                learned.edge_hours(src, dst, svc),
                stored.edge_hours(src, dst, svc),
            );
            assert_eq!(l, s, "edge hours of {src} -> {dst} {}", svc.name());
            edge_hours += usize::from(l.is_some());
        }
    }
    assert!(edge_hours >= 20, "{edge_hours} edges with hours");

    // Hosts: reach per service and forwarding.
    let mut reach_wide = 0;
    let mut forwarders = 0;
    for &ip in &internal {
        for svc in SERVICES {
            let (l, s) = (
                learned.service_reach(ip, svc),
                stored.service_reach(ip, svc),
            );
            assert_eq!(l, s, "reach of {ip} over {}", svc.name());
            reach_wide += usize::from(l.is_some_and(|n| n >= 2));
        }
        let (l, s) = (learned.forwarder(ip), stored.forwarder(ip));
        assert_eq!(l, s, "forwarder {ip}");
        forwarders += usize::from(l == Some(true));
    }
    assert!(reach_wide >= 1, "no source reaches 2+ hosts over a service");
    assert!(forwarders >= 1, "no forwarder (the proxy)");
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
