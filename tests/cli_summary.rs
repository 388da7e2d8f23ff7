//! `summary build`, `summary merge` and `analyze --summary` through the
//! real binary on a generated network (`lateral gen --scenario diet
//! --zeek`), its conn.log and host logs split into one directory per UTC
//! day: the judged days are summarized one file per shard, the summaries
//! merged flat and as two trees in different orders give the same bytes,
//! and `analyze --baseline B --summary S` gives the alerts and the report
//! `analyze --baseline B` gives over all the shards' inputs at once. Also
//! what is refused: a summary where a baseline is read, and the reverse.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn lateral(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = lateral(dir, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "lateral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The UTC day (`YYYY-MM-DD`) of a log or conn.log line; `None` for a
/// header line.
fn day_of(line: &str) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    if let Some(rest) = line.strip_prefix("{\"@timestamp\":\"") {
        return Some(rest.get(..10).expect("a JSON line's date").to_string());
    }
    if line.as_bytes().first().is_some_and(u8::is_ascii_digit) && line.get(4..5) == Some("-") {
        return Some(line.get(..10).expect("a syslog line's date").to_string());
    }
    let secs: f64 = line
        .split('\t')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a line of unknown shape: {line}"));
    let ts = lateral::model::event::Timestamp::from_parts(secs.floor() as i64, 0);
    Some(ts.to_rfc3339().get(..10).expect("a date").to_string())
}

/// Splits `file` into `out/DAY/NAME`, one per day of its lines; header
/// lines go to every day's file.
fn split_by_day(file: &Path, out: &Path, days: &mut BTreeMap<String, ()>) {
    let text = std::fs::read_to_string(file).expect("read a generated file");
    let name = file.file_name().expect("a file name");
    let mut headers = Vec::new();
    let mut by_day: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        match day_of(line) {
            None => headers.push(line),
            Some(d) => by_day.entry(d).or_default().push(line),
        }
    }
    for (day, lines) in by_day {
        let dir = out.join(&day);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut body: Vec<&str> = headers.clone();
        body.extend(lines);
        std::fs::write(dir.join(name), body.join("\n") + "\n").expect("write a day's file");
        days.insert(day, ());
    }
}

/// Generates the network into `root/learn/DAY` (the first `learn` days)
/// and `root/today/DAY` (the rest); returns every file of `today`,
/// relative to `root`, sorted.
fn network(root: &Path, days: &str, learn: usize) -> Vec<String> {
    ok(
        root,
        &[
            "-q",
            "gen",
            "--scenario",
            "diet",
            "--hosts",
            "20",
            "--days",
            days,
            "--seed",
            "4",
            "--zeek",
            "-o",
            "gen",
        ],
    );
    let split = root.join("split");
    let mut found = BTreeMap::new();
    let mut files = vec![root.join("gen/zeek/conn.log")];
    let mut logs: Vec<_> = std::fs::read_dir(root.join("gen/logs"))
        .expect("logs")
        .map(|e| e.expect("entry").path())
        .collect();
    logs.sort();
    files.extend(logs);
    for f in &files {
        split_by_day(f, &split, &mut found);
    }
    let found: Vec<String> = found.into_keys().collect();
    for (i, d) in found.iter().enumerate() {
        let to = if i < learn { "learn" } else { "today" };
        std::fs::create_dir_all(root.join(to)).expect("mkdir");
        std::fs::rename(split.join(d), root.join(to).join(d)).expect("move a day");
    }
    let mut today = Vec::new();
    for d in std::fs::read_dir(root.join("today")).expect("today") {
        let d = d.expect("entry").path();
        for f in std::fs::read_dir(&d).expect("a day") {
            let f = f.expect("entry").path();
            let rel = f.strip_prefix(root).expect("under root");
            today.push(rel.display().to_string());
        }
    }
    today.sort();
    today
}

fn read(root: &Path, name: &str) -> Vec<u8> {
    std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn summaries_merged_in_any_tree_judge_as_one_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let today = network(root, "6", 4);
    assert!(today.len() >= 6, "{today:?}");
    ok(root, &["-q", "baseline", "build", "-o", "b.lat", "learn"]);

    // One summary per file (a shard per sensor and day).
    let mut sums = Vec::new();
    for (i, f) in today.iter().enumerate() {
        let s = format!("s{i:02}.sum");
        ok(root, &["-q", "summary", "build", "-o", &s, f]);
        sums.push(s);
    }
    let mut args = vec!["summary", "merge", "-o", "flat.sum"];
    args.extend(sums.iter().map(String::as_str));
    ok(root, &args);
    // Tree A: first half and second half, each listed backwards.
    let half = sums.len() / 2;
    let mut a1 = vec!["summary", "merge", "-o", "a1.sum"];
    a1.extend(sums[..half].iter().rev().map(String::as_str));
    ok(root, &a1);
    let mut a2 = vec!["summary", "merge", "-o", "a2.sum"];
    a2.extend(sums[half..].iter().rev().map(String::as_str));
    ok(root, &a2);
    ok(
        root,
        &["summary", "merge", "-o", "a.sum", "a2.sum", "a1.sum"],
    );
    // Tree B: odd and even shards, the evens merged in pairs first.
    let evens: Vec<&String> = sums.iter().step_by(2).collect();
    let mut pairs = Vec::new();
    for (i, pair) in evens.chunks(2).enumerate() {
        let name = format!("e{i}.sum");
        let mut args = vec!["summary", "merge", "-o", name.as_str()];
        args.extend(pair.iter().map(|s| s.as_str()));
        ok(root, &args);
        pairs.push(name);
    }
    let mut b = vec!["summary", "merge", "-o", "b.sum"];
    b.extend(sums.iter().skip(1).step_by(2).map(String::as_str));
    b.extend(pairs.iter().map(String::as_str));
    ok(root, &b);
    let flat = read(root, "flat.sum");
    assert_eq!(
        flat,
        read(root, "a.sum"),
        "tree A differs from the flat merge"
    );
    assert_eq!(
        flat,
        read(root, "b.sum"),
        "tree B differs from the flat merge"
    );

    // One run over every input, then each merged summary.
    let mut whole_args = vec![
        "-q",
        "analyze",
        "--baseline",
        "b.lat",
        "--json",
        "whole.jsonl",
    ];
    whole_args.extend(today.iter().map(String::as_str));
    let whole = ok(root, &whole_args);
    let alerts = read(root, "whole.jsonl");
    let n = alerts.iter().filter(|b| **b == b'\n').count();
    assert!(n >= 1, "the judged days hold the scenario's alerts");
    for sum in ["flat.sum", "a.sum", "b.sum"] {
        let json = format!("{sum}.jsonl");
        let out = ok(
            root,
            &[
                "-q",
                "analyze",
                "--baseline",
                "b.lat",
                "--summary",
                sum,
                "--json",
                &json,
            ],
        );
        assert_eq!(alerts, read(root, &json), "{sum}: alerts differ");
        assert_eq!(
            String::from_utf8_lossy(&whole.stdout),
            String::from_utf8_lossy(&out.stdout),
            "{sum}: report differs"
        );
    }

    // `sweep --update` over the summary: the same alerts and novelties,
    // and the same updated baseline.
    std::fs::copy(root.join("b.lat"), root.join("sw-in.lat")).expect("copy");
    std::fs::copy(root.join("b.lat"), root.join("sw-sum.lat")).expect("copy");
    let mut sweep_args = vec![
        "-q",
        "sweep",
        "--update",
        "--baseline",
        "sw-in.lat",
        "--json",
        "sw-in.jsonl",
        "--novelties",
        "nov-in.jsonl",
    ];
    sweep_args.extend(today.iter().map(String::as_str));
    ok(root, &sweep_args);
    ok(
        root,
        &[
            "-q",
            "sweep",
            "--update",
            "--baseline",
            "sw-sum.lat",
            "--summary",
            "b.sum",
            "--json",
            "sw-sum.jsonl",
            "--novelties",
            "nov-sum.jsonl",
        ],
    );
    assert_eq!(read(root, "sw-in.jsonl"), alerts, "sweep and analyze agree");
    assert_eq!(read(root, "sw-in.jsonl"), read(root, "sw-sum.jsonl"));
    let novelties = read(root, "nov-in.jsonl");
    assert!(!novelties.is_empty(), "the judged days hold novelties");
    assert_eq!(novelties, read(root, "nov-sum.jsonl"));
    assert_eq!(read(root, "sw-in.lat"), read(root, "sw-sum.lat"));
    assert_ne!(read(root, "sw-in.lat"), read(root, "b.lat"), "updated");

    // Without a baseline, learning from the first part: a summary of every
    // day judges as the run over every day.
    ok(
        root,
        &["-q", "summary", "build", "-o", "learn.sum", "learn"],
    );
    ok(
        root,
        &["summary", "merge", "-o", "all.sum", "learn.sum", "flat.sum"],
    );
    let mut all_args = vec!["-q", "analyze", "--json", "all.jsonl", "learn"];
    all_args.extend(today.iter().map(String::as_str));
    let all = ok(root, &all_args);
    let from_sum = ok(
        root,
        &[
            "-q",
            "analyze",
            "--summary",
            "all.sum",
            "--json",
            "all-sum.jsonl",
        ],
    );
    assert_eq!(read(root, "all.jsonl"), read(root, "all-sum.jsonl"));
    assert_eq!(all.stdout, from_sum.stdout);
}

#[test]
fn summaries_and_baselines_are_not_mistaken_for_each_other() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let today = network(root, "3", 2);
    let first = today.first().expect("a judged file").clone();
    ok(root, &["-q", "baseline", "build", "-o", "b.lat", "learn"]);
    ok(
        root,
        &[
            "-q",
            "baseline",
            "build",
            "--partial",
            "-o",
            "p.part",
            "learn",
        ],
    );
    ok(root, &["-q", "summary", "build", "-o", "s.sum", &first]);
    ok(root, &["-q", "summary", "build", "-o", "t.sum", "today"]);
    let s = read(root, "s.sum");
    assert_eq!(&s[..8], b"LATBASE\0");
    assert_eq!(s[12] & 4, 4, "the summary flag is set");

    let refused = |args: &[&str], says: &str| {
        let out = lateral(root, args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    refused(
        &["analyze", "--baseline", "s.sum", &first],
        "s.sum: a summary of records to judge, not a finished baseline",
    );
    refused(
        &["analyze", "--baseline", "b.lat", "--summary", "b.lat"],
        "b.lat: a finished baseline, not a summary of records to judge",
    );
    refused(
        &["summary", "merge", "-o", "m.sum", "s.sum", "p.part"],
        "p.part: a partial baseline, not a summary of records to judge",
    );
    refused(
        &["baseline", "merge", "-o", "m.lat", "p.part", "s.sum"],
        "s.sum: a summary of records to judge, not a partial baseline",
    );
    // The same input in two summaries would be judged twice.
    refused(
        &["summary", "merge", "-o", "m.sum", "s.sum", "t.sum"],
        "is in two summaries",
    );
    refused(
        &["summary", "merge", "-o", "m.sum", "s.sum", "./s.sum"],
        "the same summary",
    );
    // Inputs and a summary together are a usage error.
    let out = lateral(root, &["analyze", "--summary", "s.sum", &first]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!root.join("m.sum").exists() && !root.join("m.lat").exists());
}
