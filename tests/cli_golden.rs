//! Golden files for `lateral analyze` and `lateral events`: the real binary
//! on committed and generated inputs, comparing whole outputs line by line.
//!
//! Every run happens with the crate root (or the generator's temporary
//! directory) as the working directory and relative input paths, so the file
//! names the outputs carry (alert evidence, `log.file.path`) are the same on
//! every machine; nothing is normalised after the fact. Each output is made
//! with `--threads 1` and `--threads 2` and the two must be identical before
//! either is compared with the golden file.
//!
//! Run with `LATERAL_BLESS=1` to rewrite the golden files after an intended
//! change, and review the diff.

use std::path::Path;
use std::process::Output;

mod common;
use common::{first_difference, golden, root};

/// Runs the binary in `cwd` and insists on a clean exit.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    common::run_ok(env!("CARGO_BIN_EXE_lateral"), cwd, args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("output is UTF-8")
}

/// Runs `args` (after `--threads N`) with one and with two worker threads and
/// returns (stdout, stderr) once both runs agree on both streams.
fn run_threads_agree(cwd: &Path, args: &[&str]) -> (String, String) {
    let with = |n: &str| {
        let mut all = vec!["--threads", n];
        all.extend_from_slice(args);
        let out = run_in(cwd, &all);
        (text(&out.stdout), text(&out.stderr))
    };
    let (out1, err1) = with("1");
    let (out2, err2) = with("2");
    if let Some(d) = first_difference(&out1, &out2) {
        panic!("lateral {args:?}: standard output differs between 1 and 2 threads: {d}");
    }
    if let Some(d) = first_difference(&err1, &err2) {
        panic!("lateral {args:?}: standard error differs between 1 and 2 threads: {d}");
    }
    (out1, err1)
}

/// Every line parses as a JSON object; returns them.
fn json_lines(name: &str, s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .enumerate()
        .map(|(i, l)| {
            let v: serde_json::Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{name} line {}: {e}: {l}", i + 1));
            assert!(v.is_object(), "{name} line {} is not an object", i + 1);
            v
        })
        .collect()
}

/// No output may name the machine's checkout or temporary directory.
fn no_local_paths(name: &str, s: &str, dirs: &[&Path]) {
    for dir in dirs {
        let d = dir.to_str().unwrap();
        assert!(!s.contains(d), "{name} names the local directory {d}");
    }
}

/// The alerts' rule ids, sorted and deduplicated.
fn rule_ids(alerts: &[serde_json::Value]) -> Vec<String> {
    let mut ids: Vec<String> = alerts
        .iter()
        .map(|a| a["rule"]["id"].as_str().expect("rule.id").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn diet_analyze_report_and_alerts_match_golden() {
    let root = root();
    let (alerts, report) =
        run_threads_agree(&root, &["analyze", "-q", "testdata/diet", "--json", "-"]);
    no_local_paths("diet alerts", &alerts, &[&root]);
    no_local_paths("diet report", &report, &[&root]);
    let docs = json_lines("diet alerts", &alerts);
    // The report's first line counts the alerts the JSON holds.
    assert!(
        report.starts_with(&format!(
            "lateral analyze: 2 incidents from {} alerts\n",
            docs.len()
        )),
        "report head: {}",
        report.lines().next().unwrap_or("")
    );
    let ids = rule_ids(&docs);
    for want in ["lateral.beaconing", "lateral.new-admin-edge"] {
        assert!(ids.iter().any(|i| i == want), "{want} missing from {ids:?}");
    }
    // Evidence names the input by the relative path it was given as.
    assert!(alerts.contains("\"file\":{\"path\":\"testdata/diet/capture.pcap.gz\"}"));
    golden("diet.analyze.txt", &report);
    golden("diet.alerts.jsonl", &alerts);
}

/// A part of diet covering several log shapes: ISO-timestamped sshd syslog,
/// Windows Security and System events as JSON Lines, plus the demo capture.
const EVENT_INPUTS: &[&str] = &[
    "testdata/diet/logs/lnx01.auth.log",
    "testdata/diet/logs/scan01.auth.log",
    "testdata/diet/logs/srv-chamber.security.jsonl",
    "testdata/diet/logs/srv-chamber.system.jsonl",
    "testdata/diet/logs/deploy01.security.jsonl",
    "testdata/demo.pcap",
];

#[test]
fn diet_part_events_and_hosts_match_golden() {
    let root = root();
    let mut args = vec!["events", "-q", "--year", "2011"];
    args.extend_from_slice(EVENT_INPUTS);
    let (events, _) = run_threads_agree(&root, &args);
    no_local_paths("events", &events, &[&root]);
    let docs = json_lines("events", &events);
    // Every input contributes, and the stream is in time order.
    for input in EVENT_INPUTS {
        assert!(
            docs.iter()
                .any(|d| d["log"]["file"]["path"].as_str() == Some(input)),
            "no event from {input}"
        );
    }
    let times: Vec<&str> = docs
        .iter()
        .map(|d| d["@timestamp"].as_str().expect("@timestamp"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events out of order"
    );
    golden("diet-part.events.jsonl", &events);

    args.push("--hosts-only");
    let (hosts, _) = run_threads_agree(&root, &args);
    let hosts_docs = json_lines("hosts", &hosts);
    assert!(!hosts_docs.is_empty(), "no hosts");
    golden("diet-part.hosts.jsonl", &hosts);
}

#[test]
fn generated_spray_network_alerts_match_golden() {
    let dir = tempfile::tempdir().unwrap();
    run_in(
        dir.path(),
        &[
            "gen",
            "-q",
            "--scenario",
            "spray",
            "--hosts",
            "40",
            "--days",
            "3",
            "--seed",
            "3",
            "-o",
            "net",
        ],
    );
    let (alerts, report) = run_threads_agree(dir.path(), &["analyze", "-q", "net", "--json", "-"]);
    no_local_paths("spray alerts", &alerts, &[dir.path(), &root()]);
    let docs = json_lines("spray alerts", &alerts);
    let ids = rule_ids(&docs);
    assert!(
        ids.iter().any(|i| i == "lateral.password-spray"),
        "the spray is not found: {ids:?}"
    );
    golden("spray-h40-d3-s3.analyze.txt", &report);
    golden("spray-h40-d3-s3.alerts.jsonl", &alerts);
}

#[test]
fn golden_mismatch_names_the_first_differing_line() {
    assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
    let d = first_difference("a\nb\nc\n", "a\nB\nc\n").expect("differs");
    assert!(d.contains("first difference at line 2, column 1"), "{d}");
    assert!(
        d.contains("want      2: b") && d.contains("got       2: B"),
        "{d}"
    );
    let short = first_difference("a\nb\n", "a\n").expect("differs");
    assert!(
        short.contains("line 2, column 1 (want 2 lines, got 1 lines)"),
        "{short}"
    );
    // A long line is shown around the column where it differs.
    let long_want = format!("{}x{}", "a".repeat(1000), "b".repeat(1000));
    let long_got = format!("{}y{}", "a".repeat(1000), "b".repeat(1000));
    let l = first_difference(&long_want, &long_got).expect("differs");
    assert!(l.contains("column 1001"), "{l}");
    assert!(l.contains("ax") && l.contains("ay"), "{l}");
    assert!(l.len() < 1000, "the window is not clipped: {l}");
    assert!(short.contains("<end of text>"), "{short}");
    let eol = first_difference("a\n", "a").expect("differs");
    assert!(eol.contains("final newline"), "{eol}");
}
