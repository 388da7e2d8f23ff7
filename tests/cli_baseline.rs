//! Black-box tests of `lateral baseline build`, `lateral sweep` and
//! `lateral profile` on two days of data the tests write: captures from
//! the synth module and sshd logs as text.
//!
//! Day 1 (the learning day): two workstations use the domain controller
//! (Kerberos), the file server (SMB) and the server (ws2 over RDP, ws1 over
//! SSH, where alice logs on). Day 2 is the same traffic plus one new RDP
//! edge (ws1 -> srv) and one new user (mallory logs on to srv from ws1).

use lateral::model::event::{Timestamp, days_from_civil};
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use lateral::synth::tcp_session::TcpSession;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WS1: &str = "10.20.0.11";
const WS2: &str = "10.20.0.12";
const DC: &str = "10.20.0.5";
const SRV: &str = "10.20.0.20";
const FS: &str = "10.20.0.30";

const HOSTS: &str = "\
ip,name,role
10.20.0.11,ws1,workstation
10.20.0.12,ws2,workstation
10.20.0.5,dc01,dc
10.20.0.20,srv,server
10.20.0.30,fs,server
";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// 08:00 UTC on 2026-11-(29 + day).
fn day_start(day: i64) -> Timestamp {
    Timestamp::from_parts((days_from_civil(2026, 11, 29) + day) * 86_400 + 8 * 3600, 0)
}

fn after(t: Timestamp, secs: i64) -> Timestamp {
    Timestamp(t.0 + secs * 1_000_000_000)
}

fn sa(host: &str, port: u16) -> SocketAddr {
    format!("{host}:{port}").parse().unwrap()
}

/// One TCP conversation: handshake, a request, an answer, close.
fn conversation(
    frames: &mut Vec<(Timestamp, Vec<u8>)>,
    t: Timestamp,
    client: SocketAddr,
    server: SocketAddr,
    up: usize,
    down: usize,
) {
    let mut sink = |ts: Timestamp, f: &[u8]| frames.push((ts, f.to_vec()));
    let mut s = TcpSession::new(client, server, 1000, 9000);
    let t = s.handshake(t, &mut sink);
    let t = s.send(t, true, up, &mut sink);
    let t = s.send(t, false, down, &mut sink);
    s.close(t, true, &mut sink);
}

/// The capture of one day; `day` 2 adds ws1 -> srv over RDP.
fn capture(day: i64) -> Vec<u8> {
    let base = day_start(day);
    let mut frames = Vec::new();
    for (i, ws) in [WS1, WS2].into_iter().enumerate() {
        let i = i as i64;
        for hour in 0..3i64 {
            let t = after(base, hour * 3600 + i * 60);
            let p = 40_000 + (hour * 10 + i) as u16 * 10;
            conversation(&mut frames, t, sa(ws, p), sa(DC, 88), 1400, 1500);
            conversation(
                &mut frames,
                after(t, 5),
                sa(ws, p + 1),
                sa(FS, 445),
                20_000 + hour as usize * 1000,
                3000,
            );
        }
    }
    conversation(
        &mut frames,
        after(base, 600),
        sa(WS2, 41_700),
        sa(SRV, 3389),
        4000,
        60_000,
    );
    conversation(
        &mut frames,
        after(base, 900),
        sa(WS1, 41_800),
        sa(SRV, 22),
        3000,
        5000,
    );
    if day == 2 {
        conversation(
            &mut frames,
            after(base, 7200),
            sa(WS1, 42_000),
            sa(SRV, 3389),
            5000,
            80_000,
        );
        conversation(
            &mut frames,
            after(base, 7300),
            sa(WS1, 42_100),
            sa(SRV, 22),
            2000,
            4000,
        );
    }
    frames.sort_by_key(|(ts, _)| *ts);
    let mut w = CaptureWriter::new(
        Vec::new(),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )
    .unwrap();
    for (ts, f) in &frames {
        w.write_packet(*ts, f, f.len() as u32).unwrap();
    }
    w.finish().unwrap()
}

/// The sshd log of srv for one day; `day` 2 adds mallory's logon.
fn auth_log(day: i64) -> String {
    let t = |secs: i64| after(day_start(day), secs).to_rfc3339();
    let mut s = format!(
        "{} srv sshd[811]: Accepted password for alice from {WS1} port 41800 ssh2\n",
        t(901)
    );
    if day == 2 {
        s.push_str(&format!(
            "{} srv sshd[912]: Accepted password for mallory from {WS1} port 42100 ssh2\n",
            t(7301)
        ));
    }
    s
}

/// Writes day `day`'s capture and log into `dir`; returns their paths.
fn write_day(dir: &Path, day: i64) -> (PathBuf, PathBuf) {
    let cap = dir.join(format!("day{day}.pcap"));
    let log = dir.join(format!("day{day}-auth.log"));
    std::fs::write(&cap, capture(day)).unwrap();
    std::fs::write(&log, auth_log(day)).unwrap();
    (cap, log)
}

struct Case {
    dir: tempfile::TempDir,
    baseline: PathBuf,
    hosts: PathBuf,
    day2: (PathBuf, PathBuf),
}

/// Builds a baseline from day 1 and writes day 2 beside it.
fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts.csv");
    std::fs::write(&hosts, HOSTS).unwrap();
    let (cap, log) = write_day(dir.path(), 1);
    let day2 = write_day(dir.path(), 2);
    let baseline = dir.path().join("baseline.lat");
    let out = run(&[
        "baseline",
        "build",
        cap.to_str().unwrap(),
        log.to_str().unwrap(),
        "--hosts",
        hosts.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    Case {
        dir,
        baseline,
        hosts,
        day2,
    }
}

fn sweep(c: &Case, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep",
        "--baseline",
        c.baseline.to_str().unwrap(),
        c.day2.0.to_str().unwrap(),
        c.day2.1.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn sweep_reports_exactly_the_new_rdp_edge_and_the_new_user() {
    let c = case();
    let out = sweep(&c, &["--novelties", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 2, "{}", stdout(&out));

    let edge = &docs[0];
    assert_eq!(edge["event"]["kind"], "event");
    assert_eq!(edge["event"]["action"], "new-edge");
    assert_eq!(edge["source"]["ip"], WS1);
    assert_eq!(edge["source"]["domain"], "ws1");
    assert_eq!(edge["destination"]["ip"], SRV);
    assert_eq!(edge["destination"]["domain"], "srv");
    assert_eq!(edge["destination"]["port"], 3389);
    assert_eq!(edge["network"]["transport"], "tcp");
    assert_eq!(edge["lateral"]["admin_protocol"], "rdp");
    assert_eq!(edge["lateral"]["count"], 1);
    assert_eq!(
        edge["@timestamp"],
        after(day_start(2), 7200).to_rfc3339().as_str()
    );
    let path = edge["log"]["file"]["path"].as_str().unwrap();
    assert!(path.ends_with("day2.pcap"), "{path}");
    // The offset points at the first packet of that connection: a SYN
    // from ws1 to srv:3389 in the capture's bytes.
    let offset = edge["log"]["offset"].as_u64().unwrap() as usize;
    let bytes = std::fs::read(&c.day2.0).unwrap();
    let frame = &bytes[offset + 16..];
    assert_eq!(
        &frame[26..30],
        &[10, 20, 0, 11],
        "source address of the frame"
    );
    assert_eq!(&frame[30..34], &[10, 20, 0, 20], "destination address");
    assert_eq!(u16::from_be_bytes([frame[36], frame[37]]), 3389);

    let user = &docs[1];
    assert_eq!(user["event"]["action"], "new-user-on-host");
    assert_eq!(user["user"]["name"], "mallory");
    assert_eq!(user["destination"]["domain"], "srv");
    assert_eq!(user["destination"]["ip"], SRV);
    assert_eq!(user["source"]["ip"], WS1);
    assert_eq!(user["lateral"]["user_novelty"], "first-logon");
    assert_eq!(user["lateral"]["admin_protocol"], "ssh");
    let path = user["log"]["file"]["path"].as_str().unwrap();
    assert!(path.ends_with("day2-auth.log"), "{path}");
    assert_eq!(user["log"]["file"]["line"], 2);
    assert_eq!(
        user["@timestamp"],
        after(day_start(2), 7301).to_rfc3339().as_str()
    );

    // The terminal report says the same for people.
    let out = sweep(&c, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("New hosts: 0"), "{text}");
    assert!(text.contains("New edges (remote admin first): 1"), "{text}");
    assert!(
        text.contains("10.20.0.11 (ws1) -> 10.20.0.20 (srv)  tcp/3389 (rdp)  [admin: rdp]"),
        "{text}"
    );
    assert!(text.contains("New users on hosts: 1"), "{text}");
    assert!(
        text.contains("mallory on 10.20.0.20 (srv) from 10.20.0.11 (ws1)"),
        "{text}"
    );
}

#[test]
fn update_folds_today_in_and_a_second_sweep_finds_nothing() {
    let c = case();
    let before = std::fs::read(&c.baseline).unwrap();
    let out = sweep(&c, &["--novelties", "-", "--update"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_lines(&out).len(), 2);
    assert_ne!(
        std::fs::read(&c.baseline).unwrap(),
        before,
        "the baseline was rewritten"
    );
    let out = sweep(&c, &["--novelties", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "nothing is new after the update");
    // The baseline remembers both runs and what they read.
    let out = run(&["baseline", "info", c.baseline.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = info["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["build", "update"]);
    assert!(
        info["history"][1]["inputs"][0]
            .as_str()
            .unwrap()
            .ends_with("day2-auth.log")
    );
    assert_eq!(info["first"], after(day_start(1), 0).to_rfc3339().as_str());
    assert_eq!(info["hosts"], 5);
    let text = stdout(&run(&["baseline", "info", c.baseline.to_str().unwrap()]));
    assert!(text.contains("5 hosts"), "{text}");
    // No temporary files are left in the baseline's directory.
    for e in std::fs::read_dir(c.dir.path()).unwrap() {
        let name = e.unwrap().file_name();
        assert!(
            !name.to_string_lossy().contains(".tmp-"),
            "{name:?} left behind"
        );
    }
}

#[test]
fn aging_out_forgets_what_was_not_seen_within_the_window() {
    let c = case();
    // Day 40 sees only ws2 -> srv over RDP; with a 30-day window, an update
    // on day 40 forgets the day-1 edges it did not see again.
    let late = c.dir.path().join("day40.pcap");
    let mut frames = Vec::new();
    conversation(
        &mut frames,
        day_start(40),
        sa(WS2, 41_700),
        sa(SRV, 3389),
        4000,
        60_000,
    );
    let mut w = CaptureWriter::new(
        Vec::new(),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )
    .unwrap();
    for (ts, f) in &frames {
        w.write_packet(*ts, f, f.len() as u32).unwrap();
    }
    std::fs::write(&late, w.finish().unwrap()).unwrap();
    let b = c.baseline.to_str().unwrap();
    let out = run(&[
        "sweep",
        "--baseline",
        b,
        late.to_str().unwrap(),
        "--novelties",
        "-",
        "--update",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "ws2 -> srv over RDP is known");
    // Now day 1's SMB edge ws1 -> fs is forgotten: sweeping day 2 finds it new.
    let out = sweep(&c, &["--novelties", "-"]);
    let docs = json_lines(&out);
    assert!(
        docs.iter().any(|d| d["event"]["action"] == "new-edge"
            && d["source"]["ip"] == WS1
            && d["destination"]["ip"] == FS
            && d["destination"]["port"] == 445),
        "{}",
        stdout(&out)
    );
    // A window longer than the gap keeps it.
    let c2 = case();
    let b2 = c2.baseline.to_str().unwrap();
    let out = run(&[
        "sweep",
        "--baseline",
        b2,
        late.to_str().unwrap(),
        "--update",
        "--age-out-days",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = sweep(&c2, &["--novelties", "-"]);
    assert_eq!(json_lines(&out).len(), 2, "{}", stdout(&out));
}

#[test]
fn damaged_baselines_give_a_clear_error_and_stay_byte_identical() {
    let c = case();
    let good = std::fs::read(&c.baseline).unwrap();
    let bad = c.dir.path().join("bad.lat");
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    let mut newer = good.clone();
    newer[8] = 9;
    // A baseline of format version 1 (before profiles kept hours), and
    // one of version 4 (before they kept account SIDs).
    let mut older = good.clone();
    older[8] = 1;
    let mut v4 = good.clone();
    v4[8] = 4;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..good.len() - 7].to_vec(), "truncated baseline"),
        (flipped, "baseline checksum mismatch"),
        (
            newer,
            "baseline format version 9, this lateral reads version 5",
        ),
        (
            older,
            "baseline format version 1, this lateral reads version 5",
        ),
        (
            v4,
            "baseline format version 4, this lateral reads version 5",
        ),
        (
            b"Jul 25 10:00:01 srv sshd[1]: not a baseline\n".to_vec(),
            "not a lateral baseline",
        ),
        (capture(1), "not a lateral baseline"),
    ];
    for (bytes, message) in cases {
        std::fs::write(&bad, &bytes).unwrap();
        let b = bad.to_str().unwrap();
        for args in [
            vec![
                "sweep",
                "--baseline",
                b,
                c.day2.0.to_str().unwrap(),
                "--update",
            ],
            vec!["profile", SRV, "--baseline", b],
        ] {
            let out = run(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(message), "{args:?}: {err}");
            assert!(err.contains("bad.lat"), "names the file: {err}");
            assert_eq!(std::fs::read(&bad).unwrap(), bytes, "file unchanged");
        }
    }
    let names: Vec<String> = std::fs::read_dir(c.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn profile_shows_a_known_host() {
    let c = case();
    let b = c.baseline.to_str().unwrap();
    for host in [SRV, "srv"] {
        let out = run(&["profile", host, "--baseline", b]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("srv"), "{text}");
        assert!(text.contains(SRV), "{text}");
        assert!(text.contains("role: server"), "{text}");
        assert!(text.contains("tcp/3389"), "{text}");
        assert!(text.contains("[admin: rdp]"), "{text}");
        assert!(text.contains("alice"), "{text}");
        assert!(text.contains("p50"), "{text}");
        assert!(text.contains("Mon"), "hour-of-week grid: {text}");
    }
    let out = run(&["profile", SRV, "--baseline", b, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["identity"]["ips"], serde_json::json!([SRV]));
    assert_eq!(v["identity"]["role"], "server");
    let peers_in: Vec<&str> = v["peers_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ips"][0].as_str().unwrap())
        .collect();
    assert_eq!(peers_in, vec![WS1, WS2]);
    let users: Vec<&str> = v["logons_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, vec!["alice"]);
}

#[test]
fn profile_of_an_unknown_host_exits_4() {
    let c = case();
    let out = run(&[
        "profile",
        "10.99.99.99",
        "--baseline",
        c.baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("10.99.99.99 is not in the baseline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn build_is_deterministic_and_says_what_it_read() {
    let c = case();
    let again = c.dir.path().join("again.lat");
    let (cap, log) = (
        c.dir.path().join("day1.pcap"),
        c.dir.path().join("day1-auth.log"),
    );
    // Inputs in the other order, one thread: the same bytes.
    let out = run(&[
        "--threads",
        "1",
        "baseline",
        "build",
        log.to_str().unwrap(),
        cap.to_str().unwrap(),
        "--hosts",
        c.hosts.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--stats",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&c.baseline).unwrap()
    );
    let err = stderr(&out);
    assert!(err.contains("hosts"), "{err}");
    assert!(err.contains("baseline bytes"), "{err}");
}

#[test]
fn build_until_leaves_out_later_data() {
    let dir = tempfile::tempdir().unwrap();
    let (cap1, _) = write_day(dir.path(), 1);
    let (cap2, _) = write_day(dir.path(), 2);
    let baseline = dir.path().join("b.lat");
    let until = after(day_start(2), 3600).to_rfc3339();
    let out = run(&[
        "baseline",
        "build",
        cap1.to_str().unwrap(),
        cap2.to_str().unwrap(),
        "--until",
        &until,
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Day 2's RDP edge at 10:00 is after --until, so it is still new.
    let out = run(&[
        "sweep",
        "--baseline",
        baseline.to_str().unwrap(),
        cap2.to_str().unwrap(),
        "--novelties",
        "-",
    ]);
    let docs = json_lines(&out);
    assert_eq!(docs.len(), 1, "{}", stdout(&out));
    assert_eq!(docs[0]["destination"]["port"], 3389);
    let out = run(&[
        "baseline",
        "build",
        cap1.to_str().unwrap(),
        "--until",
        "yesterday",
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn build_with_a_partial_input_still_writes_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let (cap, _) = write_day(dir.path(), 1);
    let bytes = std::fs::read(&cap).unwrap();
    std::fs::write(&cap, &bytes[..bytes.len() - 30]).unwrap();
    let baseline = dir.path().join("b.lat");
    let out = run(&[
        "baseline",
        "build",
        cap.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));
    let out = run(&["profile", SRV, "--baseline", baseline.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn sweep_reports_new_hosts_new_sources_and_windows_logons() {
    let c = case();
    let dir = c.dir.path();
    // Day 3: day 1's traffic, plus a host never seen reaching srv over SMB;
    // alice logs on to srv from ws2 (she came from ws1 before) and bob
    // logs on to srv over RDP, recorded by Windows.
    let base = day_start(3);
    let mut frames = Vec::new();
    conversation(
        &mut frames,
        after(base, 300),
        sa("10.20.0.99", 49_999),
        sa(SRV, 445),
        9000,
        1000,
    );
    let mut w = CaptureWriter::new(
        Vec::new(),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )
    .unwrap();
    for (ts, f) in &frames {
        w.write_packet(*ts, f, f.len() as u32).unwrap();
    }
    let cap = dir.join("day3.pcap");
    std::fs::write(&cap, w.finish().unwrap()).unwrap();
    let log = dir.join("day3-auth.log");
    std::fs::write(
        &log,
        format!(
            "{} srv sshd[811]: Accepted publickey for alice from {WS2} port 41900 ssh2\n",
            after(base, 400).to_rfc3339()
        ),
    )
    .unwrap();
    let win = dir.join("day3-security.jsonl");
    std::fs::write(
        &win,
        format!(
            "{{\"@timestamp\":\"{}\",\"EventID\":4624,\"Hostname\":\"srv\",\"TargetUserName\":\"Bob\",\"TargetDomainName\":\"LAB\",\"LogonType\":10,\"IpAddress\":\"{WS2}\",\"WorkstationName\":\"WS2\",\"AuthenticationPackageName\":\"Negotiate\"}}\n",
            after(base, 500).to_rfc3339()
        ),
    )
    .unwrap();
    let b = c.baseline.to_str().unwrap();
    let (cap, log, win) = (
        cap.to_str().unwrap(),
        log.to_str().unwrap(),
        win.to_str().unwrap(),
    );
    let out = run(&["sweep", "--baseline", b, cap, log, win, "--novelties", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs = json_lines(&out);
    let summary: Vec<(String, String, String, String)> = docs
        .iter()
        .map(|d| {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
            (
                s(&d["event"]["action"]),
                s(&d["source"]["ip"]),
                s(&d["user"]["name"]),
                s(&d["lateral"]["user_novelty"]),
            )
        })
        .collect();
    let t = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        summary,
        vec![
            t("new-host", "10.20.0.99", "-", "-"),
            t("new-edge", "10.20.0.99", "-", "-"),
            t("new-user-on-host", WS2, "alice", "new-source"),
            t("new-user-on-host", WS2, "bob", "first-logon"),
        ],
        "{}",
        stdout(&out)
    );
    assert_eq!(docs[1]["destination"]["port"], 445);
    assert_eq!(docs[1]["lateral"]["admin_protocol"], "smb");
    assert_eq!(docs[3]["lateral"]["admin_protocol"], "rdp");
    assert_eq!(docs[3]["destination"]["domain"], "srv");
    assert!(
        docs[3]["log"]["file"]["path"]
            .as_str()
            .unwrap()
            .ends_with("security.jsonl")
    );
    assert_eq!(docs[3]["log"]["file"]["line"], 1);
    // The same bytes whatever the input order and thread count.
    let again = run(&[
        "--threads",
        "1",
        "sweep",
        "--baseline",
        b,
        win,
        log,
        cap,
        "--novelties",
        "-",
    ]);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn sweep_of_a_partial_input_still_reports_and_exits_3() {
    let c = case();
    let bytes = std::fs::read(&c.day2.0).unwrap();
    let cut = c.dir.path().join("day2-cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let missing = c.dir.path().join("no-such-file.pcap");
    let out = run(&[
        "sweep",
        "--baseline",
        c.baseline.to_str().unwrap(),
        cut.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--novelties",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no-such-file.pcap"),
        "{}",
        stderr(&out)
    );
    // The RDP edge happened before the cut, so it is still reported.
    let docs = json_lines(&out);
    assert!(
        docs.iter().any(|d| d["destination"]["port"] == 3389),
        "{}",
        stdout(&out)
    );
}

#[test]
fn update_waits_for_the_report_to_be_written() {
    let c = case();
    let before = std::fs::read(&c.baseline).unwrap();
    let out = sweep(&c, &["--update", "-o", "/nonexistent-dir/report.txt"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("report.txt"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&c.baseline).unwrap(),
        before,
        "baseline untouched"
    );
    // A rerun still finds the two novelties.
    let out = sweep(&c, &["--novelties", "-"]);
    assert_eq!(json_lines(&out).len(), 2, "{}", stdout(&out));
}
