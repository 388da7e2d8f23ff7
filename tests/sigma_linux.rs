//! Sigma on Linux logs: syslog (auth.log), `journalctl -o json` and
//! auditd's `audit.log` under SigmaHQ's Linux logsources and field names,
//! through the real binary on log bytes the tests write. Rules the tests
//! write run always; SigmaHQ's own Linux rules from the shared corpus run
//! when it is present (SKIPPED otherwise). Also: EVTX inputs evaluated in
//! parallel give byte-identical output whatever the thread count.

mod common;

use lateral::sigma::linux;
use lateral::sigma::record::Record;
use lateral::sigma::scan::{detect_fast, detect_reference};
use std::path::Path;
use std::process::Command;

const AUTH_LOG: &str = "\
Dec  7 10:00:01 web01 sshd[2211]: Accepted publickey for alice from 10.0.0.5 port 50022 ssh2
Dec  7 10:00:02 web01 sshd[2212]: Corrupted MAC on input. [preauth]
Dec  7 10:00:03 web01 useradd[1337]: new user: name=john, UID=0, GID=0, home=/home/john, shell=/bin/bash
Dec  7 10:00:04 web01 useradd[1338]: new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash
Dec  7 10:00:05 web01 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)
";

/// Three audit events: a shell, `whoami` run from it, and `ssh` run from
/// it with a shell as its proxy command (the last argument hex-encoded,
/// as auditd writes arguments it does not quote).
const AUDIT_LOG: &str = "\
type=SYSCALL msg=audit(1765101600.100:500): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=900 pid=1000 auid=1000 uid=1000 gid=1000 euid=1000 tty=pts0 ses=3 comm=\"bash\" exe=\"/usr/bin/bash\" key=\"exec\"
type=EXECVE msg=audit(1765101600.100:500): argc=1 a0=\"bash\"
type=CWD msg=audit(1765101600.100:500): cwd=\"/home/alice\"
type=EOE msg=audit(1765101600.100:500): 
type=SYSCALL msg=audit(1765101601.200:501): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=1000 pid=1001 auid=1000 uid=1000 gid=1000 euid=1000 tty=pts0 ses=3 comm=\"whoami\" exe=\"/usr/bin/whoami\" key=\"exec\"
type=EXECVE msg=audit(1765101601.200:501): argc=1 a0=\"whoami\"
type=CWD msg=audit(1765101601.200:501): cwd=\"/home/alice\"
type=EOE msg=audit(1765101601.200:501): 
type=SYSCALL msg=audit(1765101602.300:502): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=1000 pid=1002 auid=1000 uid=1000 gid=1000 euid=1000 tty=pts0 ses=3 comm=\"ssh\" exe=\"/usr/bin/ssh\" key=\"exec\"
type=EXECVE msg=audit(1765101602.300:502): argc=4 a0=\"ssh\" a1=\"-o\" a2=\"ProxyCommand=;sh 0<&2 1>&2\" a3=7765623032
type=EOE msg=audit(1765101602.300:502): 
";

const JOURNAL: &str = r#"{"__REALTIME_TIMESTAMP":"1765101603000000","_HOSTNAME":"web02","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Corrupted MAC on input. [preauth]"}
{"__REALTIME_TIMESTAMP":"1765101604000000","_HOSTNAME":"web02","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted password for carol from 10.0.0.9 port 40000 ssh2"}
"#;

/// Rules of each Linux logsource, written here (so they run without the
/// corpus): keywords under `service: sshd`, `type`/`aN` under `service:
/// auditd`, and `process_creation` naming the parent the join found.
const RULES: &[(&str, &str)] = &[
    (
        "sshd.yml",
        "title: Test sshd MAC\nid: 00000000-0000-4000-8000-000000000001\nlogsource:\n  product: linux\n  service: sshd\ndetection:\n  keywords:\n    - 'corrupted mac on input'\n  condition: keywords\nlevel: medium\n",
    ),
    (
        "auth.yml",
        "title: Test auth root user\nid: 00000000-0000-4000-8000-000000000002\nlogsource:\n  product: linux\n  service: auth\ndetection:\n  keywords:\n    - 'UID=0,'\n  condition: keywords\nlevel: high\n",
    ),
    (
        "auditd.yml",
        "title: Test auditd whoami\nid: 00000000-0000-4000-8000-000000000003\nlogsource:\n  product: linux\n  service: auditd\ndetection:\n  selection:\n    type: EXECVE\n    a0: whoami\n  condition: selection\nlevel: low\n",
    ),
    (
        "proc.yml",
        "title: Test ssh from bash\nid: 00000000-0000-4000-8000-000000000004\nlogsource:\n  product: linux\n  category: process_creation\ndetection:\n  selection:\n    Image|endswith: '/ssh'\n    ParentImage|endswith: '/bash'\n    CommandLine|contains: 'web02'\n  condition: selection\nlevel: high\n",
    ),
    (
        "windows.yml",
        "title: Test windows only\nid: 00000000-0000-4000-8000-000000000005\nlogsource:\n  product: windows\ndetection:\n  keywords:\n    - 'corrupted'\n  condition: keywords\nlevel: high\n",
    ),
];

/// Runs `lateral analyze --sigma RULES INPUTS --json -`: the Sigma alerts
/// as (rule name, host, first evidence line) and standard error.
fn sigma_alerts(rules: &Path, inputs: &[&Path], extra: &[&str]) -> (Vec<(String, String)>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["analyze", "--learn", "0%", "--json", "-", "--stats"])
        .args(extra)
        .arg("--sigma")
        .arg(rules)
        .args(inputs)
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut alerts = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        if v.pointer("/rule/ruleset").and_then(|r| r.as_str()) != Some("sigma") {
            continue;
        }
        let name = v
            .pointer("/rule/name")
            .and_then(|r| r.as_str())
            .unwrap_or("");
        let host = v
            .pointer("/destination/domain")
            .and_then(|r| r.as_str())
            .unwrap_or("-");
        alerts.push((name.to_string(), host.to_string()));
    }
    alerts.sort();
    (alerts, stderr)
}

fn write_logs(dir: &Path) {
    std::fs::write(dir.join("auth.log"), AUTH_LOG).expect("write");
    std::fs::write(dir.join("audit.log"), AUDIT_LOG).expect("write");
    std::fs::write(dir.join("journal.json"), JOURNAL).expect("write");
}

#[test]
fn written_rules_hit_linux_records_of_their_logsource_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("mkdir");
    for (name, text) in RULES {
        std::fs::write(rules.join(name), text).expect("write");
    }
    write_logs(dir.path());
    let d = dir.path();
    let (alerts, stderr) = sigma_alerts(
        &rules,
        &[
            &d.join("auth.log"),
            &d.join("audit.log"),
            &d.join("journal.json"),
        ],
        &["--year", "2025"],
    );
    let names: Vec<&str> = alerts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Test auditd whoami",
            "Test auth root user",
            "Test ssh from bash",
            "Test sshd MAC",
            "Test sshd MAC",
        ],
        "{stderr}"
    );
    // The syslog hosts: web01 (auth.log) and web02 (journal).
    let hosts: Vec<&str> = alerts
        .iter()
        .filter(|(n, _)| n == "Test sshd MAC")
        .map(|(_, h)| h.as_str())
        .collect();
    assert_eq!(hosts, ["web01", "web02"]);
    // Every Linux record is evaluated and counted: 5 syslog lines, 11
    // audit records, 2 journal entries.
    assert!(
        stderr.contains("sigma: 18 record(s) evaluated, 5 hit(s)"),
        "{stderr}"
    );
    let stats = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("sigma "))
        .unwrap_or_default();
    assert!(stats.contains(" 18 records (18 Linux), 5 hits"), "{stats}");

    // The benign lines alone: no hit.
    let benign = d.join("benign.log");
    let lines: Vec<&str> = AUTH_LOG
        .lines()
        .filter(|l| !l.contains("Corrupted") && !l.contains("UID=0,"))
        .collect();
    std::fs::write(&benign, lines.join("\n") + "\n").expect("write");
    let (alerts, stderr) = sigma_alerts(&rules, &[&benign], &["--year", "2025"]);
    assert_eq!(alerts, Vec::new(), "{stderr}");
    assert!(
        stderr.contains("sigma: 3 record(s) evaluated, 0 hit(s)"),
        "{stderr}"
    );
}

/// The fast path and `rsigma-eval`'s own engines agree on every Linux
/// record (the written rules and, with the corpus, SigmaHQ's Linux rules).
#[test]
fn linux_records_fast_path_equals_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in RULES {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let mut sets = vec![lateral::sigma::load(dir.path()).expect("rules")];
    if let Some(corpus) = common::corpus_dir("linux_records_fast_path_equals_reference") {
        sets.push(lateral::sigma::load(&corpus.join("sigma/rules/linux")).expect("rules"));
    }
    let cfg = lateral::source::syslog::SyslogConfig::year(2025, 0);
    let mut recs: Vec<Record> = AUTH_LOG
        .lines()
        .filter_map(|l| linux::from_syslog_line(l.as_bytes(), &cfg))
        .collect();
    recs.extend(
        JOURNAL
            .lines()
            .filter_map(|l| linux::from_journal_line(l.as_bytes())),
    );
    let mut join = linux::AuditJoin::default();
    let mut audit = Vec::new();
    for (i, l) in AUDIT_LOG.lines().enumerate() {
        assert!(join.push(i as u64 + 1, l.as_bytes(), &mut audit), "{l}");
    }
    join.finish(&mut audit);
    assert_eq!(audit.len(), 11);
    let ssh = audit
        .iter()
        .map(|(_, r)| r)
        .find(|r| r.fields.get("Image").and_then(|v| v.as_str()) == Some("/usr/bin/ssh"))
        .expect("ssh process creation");
    assert_eq!(
        ssh.fields.get("CommandLine").and_then(|v| v.as_str()),
        Some("ssh -o ProxyCommand=;sh 0<&2 1>&2 web02")
    );
    assert_eq!(
        ssh.fields.get("ParentImage").and_then(|v| v.as_str()),
        Some("/usr/bin/bash")
    );
    recs.extend(audit.into_iter().map(|(_, r)| r));
    assert_eq!(recs.len(), 18);
    let mut hits = 0;
    for rules in &sets {
        for rec in &recs {
            let fast = detect_fast(rules, rec);
            assert_eq!(fast, detect_reference(rules, rec), "{:?}", rec.fields);
            hits += fast.len();
        }
    }
    assert!(hits >= 4, "{hits}");
}

/// SigmaHQ's Linux rules from the corpus: named rules hit the lines they
/// describe, and the benign lines hit nothing.
#[test]
fn sigmahq_linux_rules_hit_written_logs() {
    let Some(corpus) = common::corpus_dir("sigmahq_linux_rules_hit_written_logs") else {
        return;
    };
    let rules = corpus.join("sigma/rules/linux");
    let dir = tempfile::tempdir().expect("tempdir");
    write_logs(dir.path());
    let d = dir.path();
    let (alerts, stderr) = sigma_alerts(
        &rules,
        &[
            &d.join("auth.log"),
            &d.join("audit.log"),
            &d.join("journal.json"),
        ],
        &["--year", "2025"],
    );
    for want in [
        "Suspicious OpenSSH Daemon Error",
        "Privileged User Has Been Created",
        "System Owner or User Discovery - Linux",
        "Shell Invocation Via Ssh - Linux",
    ] {
        assert!(
            alerts.iter().any(|(n, _)| n == want),
            "{want}: {alerts:?} {stderr}"
        );
    }
    let benign = d.join("benign.log");
    std::fs::write(
        &benign,
        "Dec  7 10:00:01 web01 sshd[2211]: Accepted publickey for alice from 10.0.0.5 port 50022 ssh2\n\
         Dec  7 10:00:04 web01 useradd[1338]: new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash\n",
    )
    .expect("write");
    let (alerts, stderr) = sigma_alerts(&rules, &[&benign], &["--year", "2025"]);
    assert_eq!(alerts, Vec::new(), "{stderr}");
}

/// EVTX records are evaluated in parallel batches: one thread and two give
/// the same bytes, with Sigma alerts among them (`--threads` sizes the
/// pool; `RAYON_NUM_THREADS` is set alike).
#[test]
fn evtx_sigma_output_does_not_depend_on_thread_count() {
    let Some(corpus) = common::corpus_dir("evtx_sigma_output_does_not_depend_on_thread_count")
    else {
        return;
    };
    let input = corpus.join("logs/evtx/e2m");
    let rules = corpus.join("sigma/rules/windows");
    let run = |threads: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "--threads",
                threads,
                "analyze",
                "-q",
                "--learn",
                "0%",
                "--json",
                "-",
                "--sigma",
            ])
            .arg(&rules)
            .arg(&input)
            .output()
            .expect("binary runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let one = run("1");
    let two = run("2");
    let sigma = String::from_utf8_lossy(&one)
        .lines()
        .filter(|l| l.contains("\"ruleset\":\"sigma\""))
        .count();
    assert!(sigma > 10, "{sigma} Sigma alerts");
    assert!(one == two, "output differs between 1 and 2 threads");
}
