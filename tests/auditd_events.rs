//! auditd's `audit.log` through the real binary's main pipeline (`lateral
//! events`): the records of one audit event are joined by serial and host,
//! also when the records of other events (and of another host with the
//! same serial) come in between, and the input ends inside an event.

use std::process::Command;

/// An audit log written as a busy machine writes it: two hosts, three
/// execs whose `SYSCALL`, `EXECVE`, `CWD` and `EOE` records interleave
/// (two share serial 500, on different hosts), an SSH authentication and
/// login in between, and a last exec whose `CWD` never comes: the file
/// ends in the middle of a line.
fn audit_log() -> String {
    let l = |node: &str, kind: &str, serial: u32, body: &str| {
        format!("node={node} type={kind} msg=audit(1733566272.{serial}:{serial}): {body}\n")
    };
    let mut s = String::new();
    s += &l(
        "web1",
        "SYSCALL",
        500,
        r#"arch=c000003e syscall=59 success=yes exit=0 ppid=4000 pid=4001 auid=1000 uid=0 gid=0 euid=0 ses=7 tty=pts0 comm="curl" exe="/usr/bin/curl" key="exec""#,
    );
    s += &l(
        "db2",
        "SYSCALL",
        500,
        r#"arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=777 auid=1001 uid=1001 gid=1001 euid=1001 ses=9 tty=(none) comm="psql" exe="/usr/bin/psql" key=(null)"#,
    );
    s += &l(
        "web1",
        "USER_AUTH",
        501,
        r#"pid=3999 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=pam_unix acct="alice" exe="/usr/sbin/sshd" hostname=10.9.8.7 addr=10.9.8.7 terminal=ssh res=success'"#,
    );
    s += &l("db2", "EXECVE", 500, r#"argc=2 a0="psql" a1="-l""#);
    // The arguments hex-encoded, as auditd writes ones with spaces.
    s += &l(
        "web1",
        "EXECVE",
        500,
        r#"argc=3 a0="curl" a1="-o" a2=2F746D702F782E7368"#,
    );
    s += &l(
        "web1",
        "USER_LOGIN",
        502,
        r#"pid=3999 uid=0 auid=1000 ses=7 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=? addr=10.9.8.7 terminal=/dev/pts/0 res=success'"#,
    );
    s += &l("db2", "CWD", 500, r#"cwd="/var/lib/postgresql""#);
    s += &l("web1", "CWD", 500, r#"cwd="/home/alice""#);
    s += &l("db2", "EOE", 500, "");
    s += &l(
        "web1",
        "PATH",
        500,
        r#"item=0 name="/usr/bin/curl" inode=1 dev=08:01 mode=0100755"#,
    );
    s += &l("web1", "EOE", 500, "");
    s += &l(
        "web1",
        "SYSCALL",
        503,
        r#"arch=c000003e syscall=59 success=no exit=-2 ppid=4001 pid=4002 auid=1000 uid=1000 gid=1000 euid=1000 ses=7 tty=pts0 comm="sh" exe="/bin/sh" key=(null)"#,
    );
    s += &l("web1", "EXECVE", 503, r#"argc=2 a0="sh" a1="/tmp/x.sh""#);
    // Cut off inside the event's next record.
    s += "node=web1 type=CWD msg=audit(1733566272.503:5";
    s
}

#[test]
fn interleaved_audit_events_are_joined_in_the_main_pipeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("audit.log");
    std::fs::write(&path, audit_log()).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "--stats", &path.display().to_string()])
        .output()
        .expect("binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let docs: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let action = |d: &serde_json::Value| d["event"]["action"].as_str().unwrap_or("").to_string();
    // One process event per EXECVE, no separate halves.
    let execs: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| action(d) == "process-created")
        .collect();
    assert_eq!(execs.len(), 3, "{docs:#?}");
    assert!(!docs.iter().any(|d| action(d) == "exec-arguments"));
    let exec = |host: &str, pid: &str| {
        *execs
            .iter()
            .find(|d| d["host"]["name"] == host && d["labels"]["pid"] == pid)
            .unwrap_or_else(|| panic!("exec of pid {pid} on {host}: {execs:#?}"))
    };
    let curl = exec("web1", "4001");
    assert_eq!(curl["process"]["executable"], "/usr/bin/curl");
    assert_eq!(curl["process"]["command_line"], "curl -o /tmp/x.sh");
    assert_eq!(curl["labels"]["cwd"], "/home/alice");
    assert_eq!(curl["labels"]["ppid"], "4000");
    assert_eq!(curl["labels"]["auid"], "1000");
    assert_eq!(curl["labels"]["uid"], "0");
    assert_eq!(curl["labels"]["argc"], "3");
    assert_eq!(curl["labels"]["audit_serial"], "500");
    assert_eq!(curl["event"]["outcome"], "success");
    // Same serial on another host: its own event, its own fields.
    let psql = exec("db2", "777");
    assert_eq!(psql["process"]["executable"], "/usr/bin/psql");
    assert_eq!(psql["process"]["command_line"], "psql -l");
    assert_eq!(psql["labels"]["cwd"], "/var/lib/postgresql");
    assert_eq!(psql["labels"]["ppid"], "1");
    assert_eq!(psql["labels"]["uid"], "1001");
    // The event the input cut off: joined with what it had, no directory.
    let sh = exec("web1", "4002");
    assert_eq!(sh["process"]["executable"], "/bin/sh");
    assert_eq!(sh["process"]["command_line"], "sh /tmp/x.sh");
    assert_eq!(sh["labels"]["ppid"], "4001");
    assert_eq!(sh["event"]["outcome"], "failure");
    assert!(sh["labels"]["cwd"].is_null(), "{sh:#}");
    // The authentication and the login between them, as they were.
    let auth = docs
        .iter()
        .find(|d| action(d) == "authentication")
        .expect("USER_AUTH");
    assert_eq!(auth["user"]["name"], "alice");
    assert_eq!(auth["source"]["ip"], "10.9.8.7");
    assert_eq!(auth["event"]["outcome"], "success");
    let login = docs
        .iter()
        .find(|d| action(d) == "logged-in")
        .expect("USER_LOGIN");
    assert_eq!(login["source"]["ip"], "10.9.8.7");
    assert_eq!(login["event"]["outcome"], "success");
    assert_eq!(docs.len(), 5, "{docs:#?}");
    // The cut-off line is counted as skipped, not silently dropped.
    assert!(err.contains("not an audit record"), "{err}");
}
