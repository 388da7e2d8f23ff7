//! One host across a capture and its own logs, tied by the sessions both
//! recorded (session timing, `src/hosts/session.rs`): the real binary on
//! half-day networks `lateral gen` draws, where a server's Security log
//! names it but no DNS answer in those hours gives its address, and where
//! dual-stack clients log on by IPv6 while the capture saw them over IPv4.
//! Before session timing, such a host was two hosts in the alerts (its
//! name from the logs, its address from the capture).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn lateral(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("run lateral")
}

/// The generator's truth: address -> host name.
fn truth_names(dir: &Path) -> BTreeMap<String, String> {
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    t["hosts_table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ip"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Generates a network, checks every address session timing named
/// against the truth, and that no truth host appears in the alerts under
/// two keys. Returns how many addresses session timing named.
fn check(tag: &str, draw: &[&str]) -> usize {
    let dir = std::env::temp_dir().join(format!(
        "lateral-host-sessions-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let mut args = vec!["gen", "-q"];
    args.extend_from_slice(draw);
    args.extend_from_slice(&["-o", d]);
    let out = lateral(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = truth_names(&dir);
    let capture = dir.join("capture.pcap");
    let logs = dir.join("logs");
    let (capture, logs) = (capture.to_str().unwrap(), logs.to_str().unwrap());

    // The directory: every address session timing gave a name is that
    // host's address in the truth.
    let out = lateral(&["events", "-q", "--hosts-only", capture, logs]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut timed = 0;
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let host: Value = serde_json::from_str(line).unwrap();
        let key = host["host.key"].as_str().unwrap();
        for e in host["evidence"].as_array().unwrap() {
            if e["source"] != "session-timing" || e["chosen"] != true {
                continue;
            }
            let ip = e["ip"].as_str().unwrap();
            assert_eq!(
                names.get(ip).map(String::as_str),
                Some(key),
                "{tag}: session timing named {ip} {key}"
            );
            timed += 1;
        }
    }

    // The alerts: one key per host.
    let alerts = dir.join("alerts.jsonl");
    let out = lateral(&[
        "analyze",
        "-q",
        "--json",
        alerts.to_str().unwrap(),
        capture,
        logs,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let text = std::fs::read_to_string(&alerts).unwrap();
    assert!(!text.is_empty(), "{tag}: no alerts to check");
    for line in text.lines() {
        let a: Value = serde_json::from_str(line).unwrap();
        for h in a["lateral"]["hosts"].as_array().into_iter().flatten() {
            if let Some(n) = h["ip"].as_str().and_then(|ip| names.get(ip)) {
                keys.entry(n.clone())
                    .or_default()
                    .insert(h["key"].as_str().unwrap().to_string());
            }
        }
    }
    let split: Vec<_> = keys.iter().filter(|(_, k)| k.len() > 1).collect();
    assert!(split.is_empty(), "{tag}: hosts under two keys: {split:?}");
    let _ = std::fs::remove_dir_all(&dir);
    timed
}

#[test]
fn a_server_known_by_name_to_its_logs_and_by_address_to_the_capture_is_one_host() {
    // IPv4 only; mail and deployment servers log sessions, and no DNS
    // answer in those twelve hours names them.
    let timed = check(
        "v4",
        &[
            "--scenario",
            "diet",
            "--hosts",
            "60",
            "--hours",
            "12",
            "--seed",
            "3",
            "--vary",
        ],
    );
    assert!(timed >= 2, "session timing named {timed} addresses");
}

#[test]
fn a_dual_stack_client_logged_by_ipv6_is_the_capture_s_ipv4_host() {
    // Dual stack: the attacker's first hop logs on to the shared server by
    // its unique-local IPv6 address, while the capture saw it by IPv4.
    let timed = check(
        "dual",
        &[
            "--scenario",
            "diet",
            "--hosts",
            "174",
            "--hours",
            "12",
            "--seed",
            "1",
            "--vary",
        ],
    );
    assert!(timed >= 2, "session timing named {timed} addresses");
}
