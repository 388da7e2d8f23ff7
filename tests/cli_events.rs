//! Black-box tests of `lateral events`: logs the test writes, mixed with
//! the demo capture, through the real binary.

use std::path::PathBuf;
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

const AUTH_LOG: &str = "\
Jul 25 10:00:01 srv-chamber sshd[811]: Accepted password for tanaka from 10.10.1.12 port 41022 ssh2
Jul 25 10:00:01 srv-chamber sshd[811]: pam_unix(sshd:session): session opened for user tanaka(uid=1001) by (uid=0)
Jul 25 10:02:00 srv-chamber sudo:   tanaka : TTY=pts/0 ; PWD=/home/tanaka ; USER=root ; COMMAND=/bin/tar czf /tmp/x.tgz /srv/minutes
this line is not syslog at all
Jul 25 10:05:00 srv-chamber sshd[900]: Failed password for invalid user oracle from 203.0.113.66 port 5555 ssh2
Jul 25 10:05:01 srv-chamber CRON[901]: pam_unix(cron:session): session closed for user root
";

#[test]
fn auth_log_and_capture_mixed_in_one_sorted_stream() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, AUTH_LOG).unwrap();
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/demo.pcap");
    let out = run(&[
        "events",
        "--year",
        "2011",
        "--timezone",
        "+09:00",
        "--stats",
        log.to_str().unwrap(),
        demo.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = lines(&out.stdout);
    let logs: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| {
            d["log"]["file"]["path"]
                .as_str()
                .unwrap()
                .ends_with("auth.log")
        })
        .collect();
    assert_eq!(logs.len(), 5, "{logs:#?}");
    let first = logs[0];
    assert_eq!(
        first["@timestamp"], "2011-07-25T01:00:01.000000Z",
        "local +09:00 to UTC"
    );
    assert_eq!(first["event"]["action"], "logged-in");
    assert_eq!(first["event"]["outcome"], "success");
    assert_eq!(first["event"]["category"][0], "authentication");
    assert_eq!(first["user"]["name"], "tanaka");
    assert_eq!(first["source"]["ip"], "10.10.1.12");
    assert_eq!(first["source"]["port"], 41022);
    assert_eq!(first["host"]["name"], "srv-chamber");
    assert_eq!(first["log"]["file"]["line"], 1);
    assert_eq!(logs[2]["event"]["action"], "sudo");
    assert_eq!(logs[2]["user"]["effective"]["name"], "root");
    assert_eq!(logs[3]["event"]["reason"], "invalid_user");
    assert_eq!(logs[3]["log"]["file"]["line"], 5);
    assert_eq!(logs[4]["event"]["action"], "session-closed");
    // Flows from the capture are network events, and the stream is in time order.
    let flows = docs
        .iter()
        .filter(|d| d["event"]["dataset"] == "lateral.flow")
        .count();
    let golden = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/demo.conn.log"),
    )
    .unwrap();
    assert_eq!(
        flows,
        golden.lines().filter(|l| !l.starts_with('#')).count()
    );
    let times: Vec<&str> = docs
        .iter()
        .map(|d| d["@timestamp"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not sorted");
    // The bad line is counted and sampled with its place.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 skipped: not a syslog line") && err.contains("auth.log:4"),
        "{err}"
    );
    // Each input's line gives its format, counts and both rates.
    let auth_line = err
        .lines()
        .find(|l| l.trim_start().starts_with("ok") && l.ends_with("auth.log"))
        .unwrap_or_else(|| panic!("no per-input line for auth.log: {err}"));
    assert!(auth_line.contains("syslog"), "{auth_line}");
    assert!(auth_line.contains(" events "), "{auth_line}");
    assert!(
        auth_line.contains(" MB/s") && auth_line.contains(" ev/s"),
        "{auth_line}"
    );
}

#[test]
fn same_output_whatever_the_thread_count_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.json");
    std::fs::write(&a, AUTH_LOG).unwrap();
    std::fs::write(
        &b,
        "{\"EventID\":4624,\"Channel\":\"Security\",\"Hostname\":\"srv-chamber\",\"@timestamp\":\"2011-07-25T01:00:01Z\",\"LogonType\":\"3\",\"TargetUserName\":\"tanaka\",\"IpAddress\":\"10.10.1.12\",\"IpPort\":\"41022\"}\n",
    )
    .unwrap();
    let one = run(&[
        "events",
        "--threads",
        "1",
        "--year",
        "2011",
        "--timezone",
        "+09:00",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let two = run(&[
        "events",
        "--threads",
        "2",
        "--year",
        "2011",
        "--timezone",
        "+09:00",
        b.to_str().unwrap(),
        a.to_str().unwrap(),
    ]);
    assert_eq!(one.status.code(), Some(0));
    assert!(one.stdout == two.stdout);
    assert_eq!(lines(&one.stdout).len(), 6);
}

#[test]
fn unreadable_inputs_make_a_partial_run() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3, 0xff, 0xfe, 0x80, 7].repeat(100)).unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, AUTH_LOG).unwrap();
    let out = run(&[
        "events",
        "--year",
        "2011",
        junk.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "junk.bin: not a capture or log lateral can read (starts with bytes 00 01 02 03"
        ),
        "{err}"
    );
    assert_eq!(lines(&out.stdout).len(), 5);
    // Forcing a format reads the text as that format: here every line is
    // rejected, which is a warning and a partial run, not silence.
    let forced = run(&["events", "--format", "winjson", log.to_str().unwrap()]);
    assert_eq!(forced.status.code(), Some(3));
    assert!(forced.stdout.is_empty());
    let err = String::from_utf8_lossy(&forced.stderr);
    assert!(
        err.contains(
            "auth.log: nothing read from this winjson input: all 6 record(s) were skipped"
        ),
        "{err}"
    );
}
