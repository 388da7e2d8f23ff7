//! `lateral.forged-ticket` on minutes of logs (no baseline: every record
//! judged against role priors), through the real binary on Security events
//! the test writes as JSON Lines: the built-in Administrator's SID (RID
//! 500) under a made-up name is medium, under its own name nothing, a SID
//! under two names high; and the logon's SID is the event's `user.id`.
//! Then with a stored baseline, which keeps each account's SIDs: a SID the
//! baseline knows under another name is high even when today's logs show
//! it under one name only, and under its own name nothing.

use std::path::Path;

mod common;

const SID: &str = "S-1-5-21-1004336348-1177238915-682003330";

/// A Kerberos network logon on `host` from `from`, as a flat JSON line.
fn logon(minute: u32, host: &str, user: &str, sid: &str, from: &str) -> String {
    logon_on(6, minute, host, user, sid, from)
}

/// The same on another day of May 2024.
fn logon_on(day: u32, minute: u32, host: &str, user: &str, sid: &str, from: &str) -> String {
    serde_json::json!({
        "EventID": 4624,
        "Channel": "Security",
        "Hostname": host,
        "@timestamp": format!("2024-05-{day:02}T10:{minute:02}:00Z"),
        "LogonType": "3",
        "TargetUserName": user,
        "TargetUserSid": sid,
        "TargetDomainName": "CORP",
        "IpAddress": from,
        "IpPort": "50000",
        "AuthenticationPackageName": "Kerberos",
        "LogonProcessName": "Kerberos",
    })
    .to_string()
}

/// Runs the binary in `dir` and returns its standard output.
fn run(dir: &Path, args: &[&str]) -> String {
    let out = common::run_ok(env!("CARGO_BIN_EXE_lateral"), dir, args);
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The `lateral.forged-ticket` alerts of `lines`.
fn forged(lines: &[String]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("security.jsonl"), lines.join("\n") + "\n").unwrap();
    run(
        dir.path(),
        &["-q", "analyze", "--json", "-", "security.jsonl"],
    )
    .lines()
    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    .filter(|a| a["rule"]["id"] == "lateral.forged-ticket")
    .collect()
}

/// Ordinary logons around the case: bob and alice from their desks.
fn routine() -> Vec<String> {
    (0..6)
        .flat_map(|m| {
            [
                logon(m, "FS02", "bob", &format!("{SID}-1105"), "10.0.0.21"),
                logon(m, "FS02", "alice", &format!("{SID}-1106"), "10.0.0.22"),
            ]
        })
        .collect()
}

/// The one `lateral.forged-ticket` alert of `lines`, from 10.0.0.99 as
/// `user`, of ECS severity `severity` (2 medium, 3 high) and technique
/// T1558.001; returns its message.
fn one_alert(lines: &[String], severity: u64, user: &str) -> String {
    let alerts = forged(lines);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["event"]["severity"], severity, "{a:#?}");
    assert_eq!(a["user"]["name"], user, "{a:#?}");
    assert_eq!(a["source"]["ip"], "10.0.0.99", "{a:#?}");
    assert_eq!(
        a["threat"]["technique"]["subtechnique"]["id"][0], "T1558.001",
        "{a:#?}"
    );
    a["message"].as_str().unwrap_or("").to_string()
}

#[test]
fn rid_500_under_a_made_up_name_is_medium() {
    let mut lines = routine();
    lines.push(logon(
        7,
        "FS02",
        "not_existing_user",
        &format!("{SID}-500"),
        "10.0.0.99",
    ));
    let message = one_alert(&lines, 2, "not_existing_user");
    assert!(message.contains("RID 500"), "{message}");
    assert!(
        message.contains("renamed built-in administrator"),
        "{message}"
    );
}

#[test]
fn rid_500_under_its_own_name_is_nothing() {
    // The built-in administrator under its name, in English and French.
    for name in ["Administrator", "Administrateur"] {
        let mut lines = routine();
        lines.push(logon(7, "FS02", name, &format!("{SID}-500"), "10.0.0.30"));
        let alerts = forged(&lines);
        assert!(alerts.is_empty(), "{name}: {alerts:#?}");
    }
}

#[test]
fn a_sid_under_two_names_is_high() {
    let mut lines = routine();
    // bob's SID (seen under bob from 10:00) as "ghost" from another host.
    lines.push(logon(
        8,
        "FS02",
        "ghost",
        &format!("{SID}-1105"),
        "10.0.0.99",
    ));
    let message = one_alert(&lines, 3, "ghost");
    assert!(message.contains("bob's"), "{message}");
    // The same names with NTLM: a SID in an NTLM logon comes from the
    // account database, not from a ticket anyone could forge.
    let ntlm: Vec<String> = lines
        .iter()
        .map(|l| l.replace("\"Kerberos\"", "\"NTLM\""))
        .collect();
    assert!(forged(&ntlm).is_empty());
}

#[test]
fn the_logon_sid_is_the_events_user_id() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        logon(1, "FS02", "bob", &format!("{SID}-1105"), "10.0.0.21"),
        // Well-known SIDs (here ANONYMOUS LOGON) name no account: not kept.
        logon(2, "FS02", "ANONYMOUS LOGON", "S-1-5-7", "10.0.0.21"),
        logon(3, "FS02", "eve", "S-1-5-21-1-2-3-<script>", "10.0.0.21"),
    ];
    std::fs::write(dir.path().join("security.jsonl"), lines.join("\n") + "\n").unwrap();
    let out = run(dir.path(), &["-q", "events", "security.jsonl"]);
    let docs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 3, "{out}");
    assert_eq!(docs[0]["user"]["id"], format!("{SID}-1105"));
    assert!(docs[1]["user"].get("id").is_none(), "{}", docs[1]);
    assert!(docs[2]["user"].get("id").is_none(), "{}", docs[2]);
}

/// Five days before the case: bob and alice from their desks, and the
/// renamed built-in administrator `itadmin` (RID 500) from the admin PC.
fn history() -> Vec<String> {
    (1..=5)
        .flat_map(|day| {
            (0..3).flat_map(move |m| {
                [
                    logon_on(day, m, "FS02", "bob", &format!("{SID}-1105"), "10.0.0.21"),
                    logon_on(day, m, "FS02", "alice", &format!("{SID}-1106"), "10.0.0.22"),
                    logon_on(
                        day,
                        m,
                        "FS02",
                        "itadmin",
                        &format!("{SID}-500"),
                        "10.0.0.30",
                    ),
                ]
            })
        })
        .collect()
}

/// The ordinary logons and one more.
fn routine_with(line: String) -> Vec<String> {
    let mut lines = routine();
    lines.push(line);
    lines
}

/// The `lateral.forged-ticket` alerts of a sweep of `today` against a
/// baseline built (`lateral baseline build`) from `history`.
fn swept(history: &[String], today: &[String]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("before.jsonl"), history.join("\n") + "\n").unwrap();
    std::fs::write(dir.path().join("today.jsonl"), today.join("\n") + "\n").unwrap();
    run(
        dir.path(),
        &["-q", "baseline", "build", "before.jsonl", "-o", "b.lat"],
    );
    run(
        dir.path(),
        &[
            "-q",
            "sweep",
            "--baseline",
            "b.lat",
            "--json",
            "-",
            "today.jsonl",
        ],
    )
    .lines()
    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    .filter(|a| a["rule"]["id"] == "lateral.forged-ticket")
    .collect()
}

#[test]
fn a_sid_the_baseline_knows_under_another_name_is_high() {
    // alice's SID as "mallory": today's logs show it under that name only.
    let mut today = routine();
    today.retain(|l| !l.contains("alice"));
    today.push(logon(
        8,
        "FS02",
        "mallory",
        &format!("{SID}-1106"),
        "10.0.0.99",
    ));
    assert!(forged(&today).is_empty(), "the input alone cannot tell");
    let alerts = swept(&history(), &today);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["event"]["severity"], 3, "{a:#?}");
    assert_eq!(a["user"]["name"], "mallory", "{a:#?}");
    assert_eq!(a["source"]["ip"], "10.0.0.99", "{a:#?}");
    let message = a["message"].as_str().unwrap_or("");
    assert!(
        message.contains("the baseline knows as alice's"),
        "{message}"
    );
    // bob, a known account, with alice's SID is the same alert.
    let today = routine_with(logon(8, "FS02", "bob", &format!("{SID}-1106"), "10.0.0.99"));
    let alerts = swept(&history(), &today);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["user"]["name"], "bob", "{alerts:#?}");
}

#[test]
fn a_sid_under_the_name_the_baseline_knows_is_nothing() {
    // alice with her own SID, from a host she never used.
    let today = routine_with(logon(
        8,
        "FS02",
        "alice",
        &format!("{SID}-1106"),
        "10.0.0.99",
    ));
    let alerts = swept(&history(), &today);
    assert!(alerts.is_empty(), "{alerts:#?}");
}

#[test]
fn a_renamed_administrator_the_baseline_knows_is_not_new() {
    // The renamed built-in administrator from a new host: nothing.
    let today = routine_with(logon(
        8,
        "FS02",
        "itadmin",
        &format!("{SID}-500"),
        "10.0.0.99",
    ));
    assert!(swept(&history(), &today).is_empty());
    // RID 500 under a name never seen: the baseline knows the SID as
    // itadmin's, so it is the high alert (with no baseline, medium).
    let today = routine_with(logon(
        8,
        "FS02",
        "eviladm",
        &format!("{SID}-500"),
        "10.0.0.99",
    ));
    let alerts = swept(&history(), &today);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["event"]["severity"], 3, "{alerts:#?}");
    let message = alerts[0]["message"].as_str().unwrap_or("");
    assert!(message.contains("itadmin's"), "{message}");
    assert_eq!(forged(&today).len(), 1);
}
