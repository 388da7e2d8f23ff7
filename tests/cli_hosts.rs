//! `lateral events --hosts-only` and `--hosts FILE` on the real binary.

use std::process::Command;

fn lateral() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
}

const EVENTS: &str = r#"{"@timestamp":"2025-12-01T10:00:00Z","EventID":4624,"Hostname":"FILESRV.shugiin.local","TargetUserName":"tanaka","LogonType":3,"IpAddress":"::ffff:10.0.1.4","WorkstationName":"WS-004"}
{"@timestamp":"2025-12-01T10:01:00Z","EventID":4624,"Hostname":"FILESRV.shugiin.local","TargetUserName":"tanaka","LogonType":3,"IpAddress":"10.0.1.4","WorkstationName":"WS-004"}
{"@timestamp":"2025-12-01T09:00:00Z","EventID":4768,"Hostname":"DC01","TargetUserName":"WS-009$","IpAddress":"10.0.1.4","Status":"0x0"}
{"@timestamp":"2025-12-01T10:04:00Z","EventID":4768,"Hostname":"DC01","TargetUserName":"JUMP01$","IpAddress":"::ffff:10.0.2.1","Status":"0x0"}
"#;

#[test]
fn hosts_only_prints_the_directory_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("security.json");
    std::fs::write(&log, EVENTS).unwrap();
    let hosts = dir.path().join("hosts.csv");
    std::fs::write(
        &hosts,
        "# ip,name,role\n10.0.2.1,jump01.shugiin.local,jump\n10.0.0.9,dc01,dc\nnot-an-ip,x\n",
    )
    .unwrap();
    let out = lateral()
        .args(["events", "--hosts-only", "--hosts"])
        .arg(&hosts)
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("hosts.csv:4: not-an-ip"), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys: Vec<&str> = lines
        .iter()
        .map(|l| l["host.key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["dc01", "filesrv", "jump01", "ws-004", "ws-009"]);
    let by = |k: &str| lines.iter().find(|l| l["host.key"] == k).unwrap();
    // Two logons name 10.0.1.4 ws-004; one (earlier) Kerberos event says ws-009: most evidence wins.
    assert_eq!(by("ws-004")["host.ip"], serde_json::json!(["10.0.1.4"]));
    assert_eq!(by("ws-004")["evidence"][0]["source"], "windows-logon");
    assert_eq!(by("ws-004")["evidence"][0]["count"], 2);
    assert_eq!(by("ws-009")["host.ip"], serde_json::json!([]));
    assert_eq!(by("ws-009")["evidence"][0]["chosen"], false);
    // The file and the data agree on jump01; the file gives its role and FQDN.
    let jump = by("jump01");
    assert_eq!(jump["host.type"], "admin_host");
    assert_eq!(
        jump["host.name"],
        serde_json::json!(["jump01", "jump01.shugiin.local"])
    );
    let sources: Vec<&str> = jump["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["hosts-file", "kerberos"]);
    // dc01: the file's address, though the data never gave one.
    assert_eq!(by("dc01")["host.ip"], serde_json::json!(["10.0.0.9"]));
    assert_eq!(by("dc01")["host.type"], "domain_controller");

    // Same input in another order: byte-identical output.
    let mut rev: Vec<&str> = EVENTS.lines().collect();
    rev.reverse();
    std::fs::write(&log, rev.join("\n")).unwrap();
    let again = lateral()
        .args(["events", "--hosts-only", "--threads", "1", "--hosts"])
        .arg(&hosts)
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(again.stdout).unwrap(), text);
}

#[test]
fn missing_hosts_file_is_an_error() {
    let out = lateral()
        .args([
            "events",
            "--hosts-only",
            "--hosts",
            "/nonexistent/hosts.csv",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading --hosts"));
}
