//! Password guessing and spraying read from a few minutes of host logs, as
//! a responder holds them: no baseline (`analyze --learn 0%`), only the
//! Security log of the machine that wrote the attempts. Each kind of
//! attempt counts alike (failed network logons 4625, refused Kerberos
//! pre-authentications 4771, refused NTLM validations 4776 at a domain
//! controller, explicit-credential logons 4648 on the host they were typed
//! on), and each attack gives exactly one incident naming its source and
//! target. The test writes the events as Windows JSON Lines.

use std::process::Command;

/// 2024-03-04 09:00:00 UTC.
const T0: i64 = 1_709_542_800;

/// One event in the flat JSON shape.
fn event(t: i64, id: u32, host: &str, fields: &[(&str, &str)]) -> String {
    let mut doc = serde_json::json!({
        "EventID": id,
        "Channel": "Security",
        "Hostname": host,
        "@timestamp": lateral::model::event::Timestamp::from_parts(t, 0).to_rfc3339(),
    });
    for (k, v) in fields {
        doc[*k] = serde_json::Value::from(*v);
    }
    doc.to_string()
}

/// The alerts of `analyze --learn 0% --json -` on `lines` written as one
/// log, and the report's exit status.
fn analyze(lines: &[String]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("security.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write log");
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["-q", "analyze", "--learn", "0%", "--json", "-"])
        .arg(&path)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The distinct incident ids of `alerts`.
fn incidents(alerts: &[serde_json::Value]) -> std::collections::BTreeSet<String> {
    alerts
        .iter()
        .filter_map(|a| a["lateral"]["incident"]["id"].as_str().map(str::to_string))
        .collect()
}

/// The one alert of `rule` among `alerts`, with its source and destination
/// names (`domain`, else `ip`).
fn only(alerts: &[serde_json::Value], rule: &str) -> (String, String) {
    let of: Vec<&serde_json::Value> = alerts.iter().filter(|a| a["rule"]["id"] == rule).collect();
    assert_eq!(of.len(), 1, "{rule}: {alerts:#?}");
    let side = |s: &serde_json::Value| {
        s["domain"]
            .as_str()
            .or(s["ip"].as_str())
            .unwrap_or("")
            .to_string()
    };
    (side(&of[0]["source"]), side(&of[0]["destination"]))
}

#[test]
fn kerberos_brute_force_without_success_is_one_incident() {
    // 30 refused pre-authentications for one account, one a second.
    let lines: Vec<String> = (0..30)
        .map(|k| {
            event(
                T0 + k,
                4771,
                "DC01.corp.example",
                &[
                    ("TargetUserName", "alice"),
                    ("IpAddress", "::ffff:10.9.9.9"),
                    ("IpPort", "50100"),
                    ("Status", "0x18"),
                ],
            )
        })
        .collect();
    let alerts = analyze(&lines);
    assert_eq!(incidents(&alerts).len(), 1, "{alerts:#?}");
    let (src, dst) = only(&alerts, "lateral.brute-force");
    assert_eq!((src.as_str(), dst.as_str()), ("10.9.9.9", "dc01"));
    // Nine refusals are no burst: nothing at all.
    let alerts = analyze(&lines[..9]);
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn explicit_credential_spray_is_one_incident() {
    // ws7 passes eight accounts' passwords to fs01 within 40 s (4648).
    let lines: Vec<String> = (0..8)
        .map(|k| {
            let user = format!("user{k}");
            event(
                T0 + 5 * k,
                4648,
                "WS7.corp.example",
                &[
                    ("SubjectUserName", "mallory"),
                    ("SubjectDomainName", "CORP"),
                    ("TargetUserName", &user),
                    ("TargetDomainName", "CORP"),
                    ("TargetServerName", "fs01.corp.example"),
                    ("ProcessName", "C:\\Windows\\System32\\net.exe"),
                ],
            )
        })
        .collect();
    let alerts = analyze(&lines);
    assert_eq!(incidents(&alerts).len(), 1, "{alerts:#?}");
    let (src, dst) = only(&alerts, "lateral.password-spray");
    assert_eq!((src.as_str(), dst.as_str()), ("ws7", "fs01"));
    // Four accounts are no spray.
    let alerts = analyze(&lines[..4]);
    assert!(
        alerts
            .iter()
            .all(|a| a["rule"]["id"] != "lateral.password-spray"),
        "{alerts:#?}"
    );
}

#[test]
fn ntlm_validation_spray_is_one_incident() {
    // The domain controller refuses NTLM validations from KIOSK3 for
    // seven accounts, two seconds apart (4776 with a wrong password).
    let lines: Vec<String> = (0..7)
        .map(|k| {
            let user = format!("user{k}");
            event(
                T0 + 2 * k,
                4776,
                "DC01.corp.example",
                &[
                    ("TargetUserName", &user),
                    ("Workstation", "KIOSK3"),
                    ("Status", "0xc000006a"),
                ],
            )
        })
        .collect();
    let alerts = analyze(&lines);
    assert_eq!(incidents(&alerts).len(), 1, "{alerts:#?}");
    let (src, dst) = only(&alerts, "lateral.password-spray");
    assert_eq!((src.as_str(), dst.as_str()), ("kiosk3", "dc01"));
}

#[test]
fn a_member_servers_failures_and_the_controllers_validations_count_once() {
    // Nine failed NTLM network logons on fs01, each also validated (and
    // refused) at the domain controller a moment later: nine attempts,
    // not eighteen, so no guessing burst.
    let mut lines = Vec::new();
    for k in 0..9 {
        lines.push(event(
            T0 + 3 * k,
            4625,
            "FS01.corp.example",
            &[
                ("LogonType", "3"),
                ("TargetUserName", "alice"),
                ("TargetDomainName", "CORP"),
                ("IpAddress", "10.9.9.9"),
                ("IpPort", "50000"),
                ("WorkstationName", "ROGUE"),
                ("AuthenticationPackageName", "NTLM"),
                ("Status", "0xc000006d"),
                ("SubStatus", "0xc000006a"),
            ],
        ));
        lines.push(event(
            T0 + 3 * k + 1,
            4776,
            "DC01.corp.example",
            &[
                ("TargetUserName", "alice"),
                ("Workstation", "ROGUE"),
                ("Status", "0xc000006a"),
            ],
        ));
    }
    let alerts = analyze(&lines);
    assert!(
        alerts
            .iter()
            .all(|a| a["rule"]["id"] != "lateral.brute-force"),
        "{alerts:#?}"
    );
}

/// Five failed logons for `user` on `fs01` within 30 s, of `logon_type`
/// and NTSTATUS `sub_status`, with no address (as OpenSSH on Windows writes
/// them: the workstation is the server itself).
fn short_burst(logon_type: &str, user: &str, sub_status: &str) -> Vec<String> {
    (0..5)
        .map(|k| {
            event(
                T0 + 6 * k,
                4625,
                "fs01.corp.example",
                &[
                    ("TargetUserName", user),
                    ("TargetDomainName", "CORP"),
                    ("LogonType", logon_type),
                    ("IpAddress", "-"),
                    ("WorkstationName", "FS01"),
                    ("Status", "0xc000006d"),
                    ("SubStatus", sub_status),
                ],
            )
        })
        .collect()
}

#[test]
fn five_cleartext_failures_with_no_source_are_a_low_guessing_alert_on_the_target() {
    for (user, status) in [("alice", "0xc000006a"), ("nosuchuser", "0xc0000064")] {
        let alerts = analyze(&short_burst("8", user, status));
        let guesses: Vec<&serde_json::Value> = alerts
            .iter()
            .filter(|a| a["rule"]["id"] == "lateral.brute-force")
            .collect();
        assert_eq!(guesses.len(), 1, "{user}: {alerts:#?}");
        let a = guesses[0];
        assert!(
            a["source"].is_null(),
            "the server is not its own source: {a:#?}"
        );
        assert!(
            a["destination"]["domain"]
                .as_str()
                .is_some_and(|d| d.starts_with("fs01")),
            "{a:#?}"
        );
        assert_eq!(a["user"]["name"], user, "{a:#?}");
        assert_eq!(
            a["threat"]["technique"]["subtechnique"]["id"][0], "T1110.001",
            "{a:#?}"
        );
        let why = a["message"].as_str().unwrap_or("");
        assert!(
            why.contains("5 failed logons") && why.contains("does not record"),
            "{why}"
        );
        assert!(
            a["event"]["risk_score"].as_f64().is_some_and(|s| s < 25.0),
            "low: {a:#?}"
        );
        assert_eq!(incidents(&alerts).len(), 1);
    }
    // The same five network logons of an existing account over NTLM or
    // Kerberos (type 3) are what a mapped drive with an old password makes:
    // under the ten-failure bar, no alert.
    let alerts = analyze(&short_burst("3", "alice", "0xc000006a"));
    assert!(
        !alerts
            .iter()
            .any(|a| a["rule"]["id"] == "lateral.brute-force"),
        "{alerts:#?}"
    );
    // Four cleartext failures are under the lockout threshold.
    let mut four = short_burst("8", "alice", "0xc000006a");
    four.pop();
    let alerts = analyze(&four);
    assert!(
        !alerts
            .iter()
            .any(|a| a["rule"]["id"] == "lateral.brute-force"),
        "{alerts:#?}"
    );
}
