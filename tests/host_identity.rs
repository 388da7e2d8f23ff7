//! One host, whatever a record calls it: the real binary on Windows logs in
//! which a workstation known by its IPv4 address in the baseline logs on
//! again from its IPv6 addresses (link-local and unique-local), as
//! dual-stack Windows hosts do. The event names the workstation, so the
//! logon is the workstation's own, in the learned run and in the nightly
//! sweep against a stored baseline alike.

use std::path::Path;
use std::process::{Command, Output};

/// A network logon (4624, type 3) to SRV01 in the flat OTRF/NXLog shape.
fn logon(ts: &str, user: &str, src: &str, workstation: &str) -> String {
    serde_json::json!({
        "@timestamp": ts,
        "EventID": 4624,
        "Channel": "Security",
        "Hostname": "SRV01.corp.local",
        "TargetUserName": user,
        "TargetDomainName": "CORP",
        "IpAddress": src,
        "IpPort": "50123",
        "WorkstationName": workstation,
        "LogonType": 3,
        "AuthenticationPackageName": "Kerberos",
        "LogonProcessName": "Kerberos",
    })
    .to_string()
}

/// A week of alice logging on from WS05 (10.0.0.5) and bob from WS06,
/// four times a day.
fn learning_week() -> Vec<String> {
    let mut lines = Vec::new();
    for day in 1..=7 {
        for hour in [9, 11, 14, 16] {
            lines.push(logon(
                &format!("2026-03-{day:02}T{hour:02}:00:00Z"),
                "alice",
                "10.0.0.5",
                "WS05",
            ));
            lines.push(logon(
                &format!("2026-03-{day:02}T{hour:02}:05:00Z"),
                "bob",
                "10.0.0.6",
                "WS06",
            ));
        }
    }
    lines
}

/// The judged day: alice from WS05's link-local and unique-local addresses.
fn dual_stack_day() -> Vec<String> {
    vec![
        logon(
            "2026-03-09T10:00:00Z",
            "alice",
            "fe80::1c2d:3e4f:5a6b:7c8d",
            "WS05",
        ),
        logon("2026-03-09T10:30:00Z", "alice", "fd00::5", "WS05"),
    ]
}

fn write(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write test log");
}

fn lateral(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "lateral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The alerts of a `--json` output file.
fn alerts(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("json output")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|v| v.get("rule.name").is_some() || v.get("rule").is_some())
        .collect()
}

#[test]
fn a_dual_stack_workstation_is_one_host_against_a_stored_baseline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let learn = dir.path().join("learn.json");
    let day = dir.path().join("day.json");
    let base = dir.path().join("base.lb");
    let json = dir.path().join("alerts.jsonl");
    write(&learn, &learning_week());
    write(&day, &dual_stack_day());
    lateral(&[
        "baseline",
        "build",
        "--quiet",
        "-o",
        base.to_str().expect("utf-8 path"),
        learn.to_str().expect("utf-8 path"),
    ]);
    let out = lateral(&[
        "analyze",
        "--quiet",
        "--baseline",
        base.to_str().expect("utf-8 path"),
        "--json",
        json.to_str().expect("utf-8 path"),
        day.to_str().expect("utf-8 path"),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    // Both logons were judged, and neither is news: WS05 is alice's usual
    // source, whichever of its addresses it used.
    assert!(
        report.contains("(0 flows, 2 log events)"),
        "both logons judged:\n{report}"
    );
    assert!(
        report.contains("0 incidents from 0 alerts"),
        "a dual-stack logon made alerts:\n{report}"
    );
    assert!(alerts(&json).is_empty());
}

#[test]
fn a_dual_stack_workstation_is_one_host_when_learning_from_the_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let all = dir.path().join("all.json");
    let mut lines = learning_week();
    lines.extend(dual_stack_day());
    write(&all, &lines);
    let out = lateral(&[
        "analyze",
        "--quiet",
        "--learn-until",
        "2026-03-08T00:00:00Z",
        all.to_str().expect("utf-8 path"),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("(0 flows, 2 log events)"), "{report}");
    assert!(report.contains("0 incidents from 0 alerts"), "{report}");
}

#[test]
fn a_new_workstation_over_ipv6_is_still_new() {
    // The control: the same shape of logon from a workstation alice never
    // used is reported, so the tests above cannot pass by silence.
    let dir = tempfile::tempdir().expect("temp dir");
    let learn = dir.path().join("learn.json");
    let day = dir.path().join("day.json");
    let base = dir.path().join("base.lb");
    write(&learn, &learning_week());
    write(
        &day,
        &[logon("2026-03-09T10:00:00Z", "alice", "fe80::99", "WS99")],
    );
    lateral(&[
        "baseline",
        "build",
        "--quiet",
        "-o",
        base.to_str().expect("utf-8 path"),
        learn.to_str().expect("utf-8 path"),
    ]);
    let out = lateral(&[
        "analyze",
        "--quiet",
        "--baseline",
        base.to_str().expect("utf-8 path"),
        day.to_str().expect("utf-8 path"),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("Logon from a new source host") && report.contains("ws99 -> srv01"),
        "a logon from a never-used workstation went unreported:\n{report}"
    );
}

/// The header of a Zeek conn.log in TSV.
const CONN_HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
         #fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n\
         #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

/// A Zeek conn.log line: an answered TCP connection to `port`.
fn conn_line(t: i64, uid: u32, src: &str, dst: &str, port: u16) -> String {
    format!(
        "{t}.000000\tC{uid:010}\t{src}\t{}\t{dst}\t{port}\ttcp\t-\t1.0\t500\t900\tSF\t-\t-\t0\tShADadFf\t6\t740\t4\t1060\t-",
        40_000 + uid
    )
}

#[test]
fn a_host_reaching_its_own_other_address_is_no_edge() {
    // WS05 is 10.0.0.5 and fd00::5 (its logons on SRV20 say so, one from
    // each address). A connection from fd00::5 to 10.0.0.5 on SMB is the
    // host talking to itself, not a new remote-admin edge "ws05 -> ws05".
    let t0: i64 = 1_709_510_400;
    let mut conn = String::from(CONN_HEADER);
    let mut uid = 0;
    let mut logons = Vec::new();
    for day in 0..3 {
        for k in 0..4 {
            uid += 1;
            let t = t0 + day * 86_400 + 9 * 3_600 + k * 60;
            conn.push_str(&conn_line(t, uid, "10.0.0.5", "10.0.0.20", 445));
            conn.push('\n');
        }
        logons.push(logon(
            &format!("2024-03-0{}T09:00:30Z", 4 + day),
            "alice",
            "10.0.0.5",
            "WS05",
        ));
    }
    uid += 1;
    conn.push_str(&conn_line(
        t0 + 3 * 86_400 + 36_000,
        uid,
        "fd00::5",
        "10.0.0.5",
        445,
    ));
    conn.push('\n');
    logons.push(logon("2024-03-07T09:59:55Z", "alice", "fd00::5", "WS05"));
    let dir = tempfile::tempdir().expect("temp dir");
    let conn_path = dir.path().join("conn.log");
    let sec_path = dir.path().join("security.json");
    std::fs::write(&conn_path, conn).expect("write conn.log");
    write(&sec_path, &logons);
    let out = lateral(&[
        "analyze",
        "--quiet",
        "--learn-until",
        "2024-03-07T00:00:00Z",
        conn_path.to_str().expect("utf-8 path"),
        sec_path.to_str().expect("utf-8 path"),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("(1 flows, 1 log events)"), "{report}");
    assert!(
        report.contains("0 incidents from 0 alerts") && !report.contains("ws05 -> ws05"),
        "a host's own addresses made an edge:\n{report}"
    );
}

#[test]
fn a_stored_baseline_folds_a_host_it_knew_by_address_into_its_name() {
    // The baseline learned 10.0.0.5 from connections alone; tonight a logon
    // names it WS05. After the update there is one host, ws05, holding the
    // address's history, not an address profile beside a name profile.
    let t0: i64 = 1_709_510_400;
    let header = CONN_HEADER;
    let mut learn = String::from(header);
    for day in 0..3 {
        let t = t0 + day * 86_400 + 9 * 3_600;
        learn.push_str(&conn_line(t, day as u32 + 1, "10.0.0.5", "10.0.0.20", 445));
        learn.push('\n');
    }
    let mut tonight = String::from(header);
    tonight.push_str(&conn_line(
        t0 + 3 * 86_400 + 36_000,
        9,
        "10.0.0.5",
        "10.0.0.20",
        445,
    ));
    tonight.push('\n');
    let dir = tempfile::tempdir().expect("temp dir");
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("learn.log"), learn).expect("write");
    std::fs::write(p("tonight.log"), tonight).expect("write");
    write(
        &p("tonight.json"),
        &[logon("2024-03-07T09:30:00Z", "alice", "10.0.0.5", "WS05")],
    );
    let s = |n: &str| p(n).to_str().expect("utf-8 path").to_owned();
    lateral(&[
        "baseline",
        "build",
        "--quiet",
        "-o",
        &s("b.lat"),
        &s("learn.log"),
    ]);
    let count = || -> u64 {
        let out = lateral(&["baseline", "info", "--json", &s("b.lat")]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("info JSON");
        v["hosts"].as_u64().expect("host count")
    };
    assert_eq!(count(), 2, "10.0.0.5 and 10.0.0.20");
    lateral(&[
        "sweep",
        "--quiet",
        "--baseline",
        &s("b.lat"),
        "--update",
        &s("tonight.log"),
        &s("tonight.json"),
    ]);
    // ws05 (with 10.0.0.5 folded in), 10.0.0.20 and srv01 (named by the
    // logon's writer, with no address to tie it to 10.0.0.20).
    assert_eq!(count(), 3);
    let out = lateral(&["profile", "--quiet", "--baseline", &s("b.lat"), "10.0.0.5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Host ws05"), "{text}");
    assert!(
        text.contains("seen: 2024-03-04T09:00:00"),
        "history kept:\n{text}"
    );
}
