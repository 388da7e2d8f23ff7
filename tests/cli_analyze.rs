//! Black-box tests of `lateral analyze` and `lateral config` through the
//! real binary: the demo capture's incident, the alert JSON schema,
//! byte-identical output whatever the thread count or input order, and
//! exit statuses.

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn demo() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/demo.pcap")
        .display()
        .to_string()
}

/// The demo's first 100 seconds are name lookups and Kerberos: learn from those.
const LEARN: &str = "2011-07-25T01:01:40Z";

fn lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn demo_capture_gives_one_critical_incident_along_the_attack_path() {
    let out = run(&["analyze", "--learn-until", LEARN, &demo()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("lateral analyze: 1 incident from "),
        "{text}"
    );
    assert!(
        text.contains(
            "baseline: learned from the first part of the input, before 2011-07-25T01:01:40.000000Z"
        ),
        "{text}"
    );
    assert!(text.contains("critical"), "{text}");
    assert!(
        text.contains("path:       10.10.1.11, 10.10.1.12, 10.10.1.13  ->  srv-chamber  ->  10.10.2.30, 10.10.2.5"),
        "{text}"
    );
    assert!(text.contains("T1071"), "{text}");
    assert!(text.contains("never used"), "{text}");
}

#[test]
fn alert_json_has_the_ecs_fields_and_evidence() {
    let out = run(&["analyze", "--learn-until", LEARN, "--json", "-", &demo()]);
    assert_eq!(out.status.code(), Some(0));
    // The report moves to stderr when alerts go to stdout.
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(report.contains("lateral analyze: 1 incident"));
    let alerts = lines(&out.stdout);
    assert!(alerts.len() >= 8, "{} alerts", alerts.len());
    // Every alert carries its incident's combined score and rank, as the
    // report's incident line shows them.
    let top = report.lines().find(|l| l.starts_with("#1 ")).unwrap();
    let top_score: u64 = top.split_whitespace().nth(3).unwrap().parse().unwrap();
    let max_risk = alerts
        .iter()
        .map(|a| a["event"]["risk_score"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(top_score >= max_risk, "{top}");
    for a in &alerts {
        assert_eq!(a["lateral"]["incident"]["score"], top_score);
        assert_eq!(a["lateral"]["incident"]["rank"], 1);
        assert!(a["lateral"]["alert"].get("seen_before").is_none());
    }
    let incident = alerts[0]["lateral"]["incident"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut rules = std::collections::BTreeSet::new();
    for a in &alerts {
        assert_eq!(a["event"]["kind"], "alert");
        assert_eq!(a["threat"]["framework"], "MITRE ATT&CK");
        assert!(a["@timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(a["event"]["start"].as_str().unwrap() <= a["event"]["end"].as_str().unwrap());
        let score = a["event"]["risk_score"].as_u64().unwrap();
        assert!(score <= 100);
        assert!(
            a["lateral"]["alert"]["id"]
                .as_str()
                .unwrap()
                .starts_with("LA-")
        );
        assert_eq!(a["lateral"]["incident"]["id"], incident.as_str());
        assert!(
            a["threat"]["technique"]["id"][0]
                .as_str()
                .unwrap()
                .starts_with('T')
        );
        assert!(!a["rule"]["description"].as_str().unwrap().is_empty());
        let ev = a["lateral"]["evidence"].as_array().unwrap();
        assert!(!ev.is_empty());
        for e in ev {
            assert_eq!(e["kind"], "flow");
            let file = e["log"]["file"]["path"].as_str().unwrap();
            assert!(file.ends_with("demo.pcap"));
            let offset = e["log"]["offset"].as_u64().unwrap();
            assert!(offset >= 24);
            assert_eq!(e["event"]["id"], format!("{file}@{offset}").as_str());
            assert!(e["summary"].as_str().unwrap().starts_with('C'));
        }
        rules.insert(a["rule"]["id"].as_str().unwrap().to_string());
    }
    for want in [
        "lateral.beaconing",
        "lateral.new-admin-edge",
        "lateral.convergence",
        "lateral.volume",
    ] {
        assert!(rules.contains(want), "{want} not in {rules:?}");
    }
    let hop = alerts
        .iter()
        .find(|a| a["source"]["ip"] == "10.10.2.20" && a["destination"]["ip"] == "10.10.2.5")
        .expect("the hop to the DC");
    assert_eq!(hop["destination"]["port"], 445);
    assert_eq!(hop["threat"]["technique"]["id"][0], "T1021");
    assert_eq!(
        hop["threat"]["technique"]["subtechnique"]["id"][0],
        "T1021.002"
    );
    assert!(hop["related"]["ip"].as_array().unwrap().len() >= 2);
}

const AUTH_JSONL: &str = r#"{"@timestamp":"2011-07-25T01:31:00Z","winlog":{"event_id":4624,"computer_name":"SRV-CHAMBER","event_data":{"TargetUserName":"tanaka","LogonType":"3","IpAddress":"10.10.1.12","WorkstationName":"WS-12","AuthenticationPackageName":"NTLM"}}}
{"@timestamp":"2011-07-25T01:31:05Z","winlog":{"event_id":7045,"computer_name":"SRV-CHAMBER","event_data":{"ServiceName":"PSEXESVC","ImagePath":"C:\\Windows\\PSEXESVC.exe"}}}
"#;

#[test]
fn output_is_identical_whatever_threads_or_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("security.jsonl");
    std::fs::write(&log, AUTH_JSONL).unwrap();
    let log = log.display().to_string();
    let go = |threads: &str, order: [&str; 2]| {
        let out = run(&[
            "--threads",
            threads,
            "analyze",
            "--learn-until",
            LEARN,
            "--json",
            "-",
            order[0],
            order[1],
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let d = demo();
    let a = go("1", [&d, &log]);
    assert!(String::from_utf8_lossy(&a).contains("lateral.remote-exec"));
    assert_eq!(a, go("2", [&log, &d]));
    assert_eq!(a, go("4", [&d, &log]));
}

#[test]
fn default_config_round_trips_and_bad_config_is_a_usage_error() {
    let out = run(&["config", "--default"]);
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("lateral.toml");
    std::fs::write(&cfg, &out.stdout).unwrap();
    let cfg = cfg.display().to_string();
    let checked = run(&["config", "--check", &cfg]);
    assert_eq!(checked.status.code(), Some(0));
    let a = run(&[
        "analyze",
        "--learn-until",
        LEARN,
        "--config",
        &cfg,
        "--json",
        "-",
        &demo(),
    ]);
    let b = run(&["analyze", "--learn-until", LEARN, "--json", "-", &demo()]);
    assert_eq!(a.stdout, b.stdout);
    // Turning a rule off through the config removes its alerts.
    let off = dir.path().join("off.toml");
    std::fs::write(&off, "[allowlist]\nrules = [\"lateral.beaconing\"]\n").unwrap();
    let c = run(&[
        "analyze",
        "--learn-until",
        LEARN,
        "--config",
        &off.display().to_string(),
        "--json",
        "-",
        &demo(),
    ]);
    assert!(!String::from_utf8_lossy(&c.stdout).contains("lateral.beaconing"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[detect.fan_out]\nmin_host = 3\n").unwrap();
    let out = run(&["analyze", "--config", &bad.display().to_string(), &demo()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_host"));
}

#[test]
fn exit_statuses() {
    let out = run(&["analyze", "--learn", "150%", &demo()]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["analyze", "--learn-until", "yesterday", &demo()]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["analyze", &demo(), "/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(3));
    let out = run(&["analyze", "--learn", "60%", "--stats", &demo()]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    for stage in ["read", "profile", "detect"] {
        assert!(err.contains(&format!("  {stage} ")), "{err}");
    }
}

#[test]
fn stored_baseline_gives_the_same_incident_and_a_damaged_one_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let lat = dir.path().join("demo.lat");
    let lat = lat.display().to_string();
    let built = run(&[
        "-q",
        "baseline",
        "build",
        "--until",
        LEARN,
        "-o",
        &lat,
        &demo(),
    ]);
    assert_eq!(
        built.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let out = run(&["analyze", "--baseline", &lat, "--json", "-", &demo()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(report.contains(&format!("baseline: {lat} (")), "{report}");
    assert!(
        report.contains("srv-chamber  ->  10.10.2.30, 10.10.2.5"),
        "{report}"
    );
    let learned = run(&["analyze", "--learn-until", LEARN, "--json", "-", &demo()]);
    let ids = |o: &[u8]| -> Vec<String> {
        lines(o)
            .iter()
            .map(|a| a["lateral"]["alert"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&out.stdout), ids(&learned.stdout));
    let bad = dir.path().join("bad.lat");
    std::fs::write(&bad, b"not a baseline").unwrap();
    let out = run(&["analyze", "--baseline", &bad.display().to_string(), &demo()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a lateral baseline"));
    let both = run(&["analyze", "--baseline", &lat, "--learn", "50%", &demo()]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn diet_scenario_attack_is_the_top_incident() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/diet");
    let capture = root.join("capture.pcap.gz");
    if !capture.is_file() {
        eprintln!("SKIPPED diet_scenario_attack_is_the_top_incident: testdata/diet absent");
        return;
    }
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("truth.json")).unwrap()).unwrap();
    let out = run(&[
        "analyze",
        "--json",
        "-",
        &capture.display().to_string(),
        &root.join("logs").display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stderr).to_string();
    let alerts = lines(&out.stdout);
    // The top incident is the highest-scoring; find its id from the report's first incident line.
    let top_line = report
        .lines()
        .find(|l| l.starts_with("#1 "))
        .expect("an incident");
    let top = top_line.split_whitespace().nth(1).unwrap().to_string();
    assert!(top_line.contains("critical"), "{top_line}");
    let in_top: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["lateral"]["incident"]["id"] == top.as_str())
        .collect();
    // Every lateral and execution step of the truth is covered by an alert of
    // the top incident with the same source and destination.
    let mut covered = 0;
    let mut lateral = 0;
    for step in truth["steps"].as_array().unwrap() {
        let kind = step["kind"].as_str().unwrap();
        if !matches!(kind, "lateral" | "execution" | "beacon") || step["destination"].is_null() {
            continue;
        }
        lateral += 1;
        let hit = in_top.iter().any(|a| {
            a["source"]["ip"] == step["source"] && a["destination"]["ip"] == step["destination"]
        });
        if hit {
            covered += 1;
        } else {
            eprintln!("not covered: {}", step["description"]);
        }
    }
    assert!(lateral >= 8);
    assert!(
        covered as f64 >= 0.9 * lateral as f64,
        "{covered}/{lateral} steps covered\n{report}"
    );
    // The benign roll-out and the admin's first RDP are not in the top
    // incident (the stolen account's other logons may be).
    for a in &in_top {
        let src = a["source"]["ip"].as_str().unwrap_or("");
        assert_ne!(
            src, "10.10.1.80",
            "roll-out joined the attack: {}",
            a["message"]
        );
        if a["rule"]["id"] == "lateral.new-admin-edge" {
            assert_ne!(src, "10.10.2.1", "admin RDP joined: {}", a["message"]);
        }
    }
}
