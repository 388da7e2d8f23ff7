//! `lateral report` through the real binary: alerts stored by `analyze
//! --json` are suppressed and joined into incidents again under a
//! configuration, exactly as the run that found them would have done.
//!
//! The oracle is `analyze` itself: re-scoring stored alerts under a
//! configuration must give the very bytes `analyze --config` writes for
//! the same input (alerts, incidents, ranks, the suppressed section of the
//! report), on the shipped chamber network and on a generated one judged
//! against role priors; and whatever the order of the files read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn lateral(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(common::root())
        .args(args)
        .output()
        .expect("binary runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("output written")
}

/// The report's incident part: everything after its header (the title,
/// and the baseline or stored-alerts lines, which differ by design).
fn body(report: &str) -> String {
    report
        .split_once("\n\n")
        .map_or(String::new(), |(_, rest)| rest.to_string())
}

/// A configuration with an entry of every kind the alerts of
/// `testdata/diet` meet: a rule glob with a role, a change window, and
/// a CIDR source.
const ENTRIES: &str = r#"
[[suppress]]
reason = "the chamber server's admin edges are its job"
rule = "lateral.new-admin-*"
role = "server"

[[suppress]]
reason = "change window CHG-7"
rule = "lateral.beaconing"
from = "2011-07-26T00:00:00Z"
until = "2011-07-26T12:00:00Z"

[[suppress]]
reason = "a workstation subnet under test"
source = "10.10.16.0/28"
"#;

struct Run {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Run {
    fn new() -> Run {
        let d = tempfile::tempdir().expect("temporary directory");
        let dir = d.path().to_path_buf();
        Run { _dir: d, dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Analyses `inputs` with and without `config`, re-scores the plain run's
/// alerts under `config`, and checks both give the same bytes.
fn same_as_analyze(run: &Run, inputs: &[&str], extra: &[&str], config: &str) -> usize {
    let plain = run.path("plain.jsonl");
    let mut args = vec!["analyze", "-q", "--json", s(&plain)];
    args.extend_from_slice(extra);
    args.extend_from_slice(inputs);
    let out = lateral(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain_report = String::from_utf8_lossy(&out.stdout).to_string();

    // Under the configuration it was found with, nothing changes.
    let again = run.path("again.jsonl");
    let out = lateral(&["report", "--json", s(&again), s(&plain)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(&plain), read(&again), "re-scored alerts differ");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.starts_with("lateral report: "), "{report}");
    assert_eq!(body(&plain_report), body(&report));

    // Under new entries, the same as analysing with them.
    let cfg = run.path("lateral.toml");
    std::fs::write(&cfg, config).expect("configuration written");
    let suppressed = run.path("suppressed.jsonl");
    let mut args = vec![
        "analyze",
        "-q",
        "--config",
        s(&cfg),
        "--show-suppressed",
        "--json",
        s(&suppressed),
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(inputs);
    let out = lateral(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let analyze_report = String::from_utf8_lossy(&out.stdout).to_string();
    let rescored = run.path("rescored.jsonl");
    let out = lateral(&[
        "report",
        "--config",
        s(&cfg),
        "--show-suppressed",
        "--json",
        s(&rescored),
        s(&plain),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read(&suppressed),
        read(&rescored),
        "suppressed re-scoring differs"
    );
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(body(&analyze_report), body(&report));
    let kept = read(&rescored).lines().count();
    let all = read(&plain).lines().count();
    all - kept
}

#[test]
fn stored_alerts_rescored_equal_analyze_with_the_same_entries() {
    let run = Run::new();
    let gone = same_as_analyze(&run, &["testdata/diet"], &[], ENTRIES);
    // Every entry took something out, so the comparison is not empty.
    assert!(gone >= 3, "only {gone} alerts suppressed");
    let out = lateral(&[
        "report",
        "--config",
        s(&run.path("lateral.toml")),
        s(&run.path("plain.jsonl")),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    for entry in ["entry 1: ", "entry 2: ", "entry 3: "] {
        assert!(report.contains(entry), "{entry} missing:\n{report}");
    }
}

#[test]
fn alerts_judged_against_role_priors_rescore_alike() {
    let run = Run::new();
    let net = run.path("net");
    let out = lateral(&[
        "gen",
        "-q",
        "--scenario",
        "spray",
        "--hosts",
        "120",
        "--hours",
        "12",
        "--vary",
        "--seed",
        "41",
        "-o",
        s(&net),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let capture = net.join("capture.pcap");
    let logs = net.join("logs");
    let entries = "[[suppress]]\nreason = \"workstations' own noise\"\nrole = \"workstation\"\nrule = \"lateral.new-*\"\n";
    let gone = same_as_analyze(&run, &[s(&capture), s(&logs)], &[], entries);
    assert!(
        gone > 0,
        "nothing suppressed: the comparison would be empty"
    );
}

#[test]
fn the_order_and_repetition_of_files_do_not_change_the_report() {
    let run = Run::new();
    let plain = run.path("plain.jsonl");
    let out = lateral(&["analyze", "-q", "--json", s(&plain), "testdata/diet"]);
    assert!(out.status.success());
    let text = read(&plain);
    let (mut odd, mut even) = (String::new(), String::new());
    for (i, l) in text.lines().enumerate() {
        let half = if i % 2 == 0 { &mut even } else { &mut odd };
        half.push_str(l);
        half.push('\n');
    }
    let (a, b) = (run.path("a.jsonl"), run.path("b.jsonl"));
    std::fs::write(&a, odd).unwrap();
    std::fs::write(&b, even).unwrap();
    let mut got = Vec::new();
    for files in [vec![&a, &b], vec![&b, &a], vec![&b, &plain, &a]] {
        let o = run.path("o.jsonl");
        let mut args = vec!["report", "-q", "--force", "--json", s(&o)];
        args.extend(files.iter().map(|p| s(p)));
        let out = lateral(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        got.push(read(&o));
    }
    for g in &got {
        assert_eq!(g, &text);
    }
}

#[test]
fn broken_lines_are_skipped_and_named_and_the_run_is_partial() {
    let run = Run::new();
    let plain = run.path("plain.jsonl");
    assert!(
        lateral(&["analyze", "-q", "--json", s(&plain), "testdata/diet"])
            .status
            .success()
    );
    let text = read(&plain);
    let mut lines: Vec<&str> = text.lines().collect();
    let first = lines.remove(0);
    let cut = &first[..first.len() / 2];
    let damaged = run.path("damaged.jsonl");
    std::fs::write(
        &damaged,
        format!(
            "{cut}\n{}\n{{\"event\":{{\"kind\":\"alert\"}}}}\n",
            lines.join("\n")
        ),
    )
    .unwrap();
    let out = lateral(&["report", "--json", "-", s(&damaged)]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a JSON document"), "{err}");
    assert!(err.contains(&format!("{}:1", damaged.display())), "{err}");
    assert!(err.contains("no lateral.alert.id"), "{err}");
    // What was readable is reported.
    let kept = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(kept, lines.len());

    // A file with no alert at all is a warning, never silence.
    let novelties = run.path("novelties.jsonl");
    std::fs::write(
        &novelties,
        "{\"event\":{\"kind\":\"event\",\"action\":\"new-edge\"}}\n",
    )
    .unwrap();
    let out = lateral(&["report", s(&novelties)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no alerts read"));

    // No output overwrites an input.
    let out = lateral(&["report", "--json", s(&plain), s(&plain)]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(read(&plain), text);
}

#[test]
fn alerts_of_an_older_lateral_are_read_with_a_note() {
    let run = Run::new();
    let plain = run.path("plain.jsonl");
    assert!(
        lateral(&["analyze", "-q", "--json", s(&plain), "testdata/diet"])
            .status
            .success()
    );
    let mut old = String::new();
    for l in read(&plain).lines() {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["lateral"].as_object_mut().unwrap().remove("hosts");
        old.push_str(&v.to_string());
        old.push('\n');
    }
    let path = run.path("old.jsonl");
    std::fs::write(&path, &old).unwrap();
    let out = lateral(&["report", "--json", "-", s(&path)]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no lateral.hosts"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        old.lines().count()
    );
}
