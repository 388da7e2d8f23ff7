//! `baseline build --partial` and `baseline merge` through the real binary
//! on a generated network (`lateral gen --scenario diet --zeek`): its
//! conn.log and host logs are split into one directory per UTC day; the
//! week's baseline built whole is byte for byte the merge of the per-day
//! partials, merged flat and in two different trees, and `analyze
//! --baseline` of the next day gives the same alerts against either. Also
//! what merge refuses.

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
    // Zeek TSV: epoch seconds first.
    let secs: f64 = line
        .split('\t')
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("a line of unknown shape: {line}"));
    let ts = lateral::model::event::Timestamp::from_parts(secs.floor() as i64, 0);
    Some(ts.to_rfc3339().get(..10).expect("a date").to_string())
}

/// Splits `file` into `out/DAY/NAME`, one per day of its lines; header
/// lines (`#...`) go to every day's file. Returns the days.
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

#[test]
fn a_week_built_whole_equals_its_days_merged_in_any_tree() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
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
            "8",
            "--seed",
            "4",
            "--zeek",
            "-o",
            "gen",
        ],
    );
    let split = root.join("split");
    let mut days = BTreeMap::new();
    let mut files = vec![root.join("gen/zeek/conn.log")];
    let mut logs: Vec<_> = std::fs::read_dir(root.join("gen/logs"))
        .expect("logs")
        .map(|e| e.expect("entry").path())
        .collect();
    logs.sort();
    files.extend(logs);
    for f in &files {
        split_by_day(f, &split, &mut days);
    }
    let days: Vec<String> = days.into_keys().collect();
    assert_eq!(days.len(), 8, "{days:?}");
    // The first seven days are learned from; the eighth is judged.
    let (week, today) = days.split_at(7);
    let learn = root.join("learn");
    std::fs::create_dir_all(&learn).expect("mkdir");
    for d in week {
        std::fs::rename(split.join(d), learn.join(d)).expect("move a day");
    }
    let today = format!("split/{}", today[0]);

    ok(root, &["baseline", "build", "-o", "whole.lat", "learn"]);
    let mut parts = Vec::new();
    for (i, d) in week.iter().enumerate() {
        let part = format!("day{i}.part");
        ok(
            root,
            &[
                "baseline",
                "build",
                "--partial",
                "-o",
                &part,
                &format!("learn/{d}"),
            ],
        );
        parts.push(part);
    }
    let whole = std::fs::read(root.join("whole.lat")).expect("whole");
    let info = ok(root, &["baseline", "info", "--json", "whole.lat"]);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).expect("info JSON");
    assert!(
        info.to_string().contains("\"flows\":") && whole.len() > 10_000,
        "a real baseline: {info}"
    );

    // Flat, in day order.
    let mut args = vec!["baseline", "merge", "-o", "flat.lat"];
    args.extend(parts.iter().map(String::as_str));
    ok(root, &args);
    // Tree A: ((0 1 2) (3 4)) (5 6), parts listed backwards.
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "a1.part",
            "day2.part",
            "day0.part",
            "day1.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "a2.part",
            "day4.part",
            "day3.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "a3.part",
            "a2.part",
            "a1.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "a4.part",
            "day6.part",
            "day5.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "-o",
            "tree_a.lat",
            "a4.part",
            "a3.part",
        ],
    );
    // Tree B: pairs of odd and even days, then one more level.
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "b1.part",
            "day1.part",
            "day3.part",
            "day5.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "b2.part",
            "day6.part",
            "day0.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "b3.part",
            "day4.part",
            "b2.part",
            "day2.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "-o",
            "tree_b.lat",
            "b3.part",
            "b1.part",
        ],
    );
    // The inner merges of the two trees end in the same partial too.
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "a5.part",
            "a3.part",
            "a4.part",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "merge",
            "--partial",
            "-o",
            "b4.part",
            "b1.part",
            "b3.part",
        ],
    );
    assert_eq!(
        std::fs::read(root.join("a5.part")).expect("a5"),
        std::fs::read(root.join("b4.part")).expect("b4"),
        "two trees of partial merges differ"
    );
    // One thread or two, the same file.
    let mut args = vec![
        "--threads",
        "1",
        "baseline",
        "merge",
        "-o",
        "one_thread.lat",
    ];
    args.extend(parts.iter().rev().map(String::as_str));
    ok(root, &args);
    for merged in ["flat.lat", "tree_a.lat", "tree_b.lat", "one_thread.lat"] {
        let got = std::fs::read(root.join(merged)).expect("merged");
        assert!(
            got == whole,
            "{merged} differs from the baseline built whole"
        );
    }

    // Judging the next day against either gives the same alerts.
    let judge = |base: &str| {
        let out = ok(
            root,
            &["analyze", "--baseline", base, "--json", "-", &today],
        );
        String::from_utf8(out.stdout).expect("UTF-8 alerts")
    };
    let against_whole = judge("whole.lat");
    let against_merged = judge("tree_b.lat");
    assert!(
        against_whole.lines().count() > 0,
        "the judged day raises alerts"
    );
    assert_eq!(against_whole, against_merged);

    // A day alone is not the week: the merge is what makes it equal.
    ok(
        root,
        &["baseline", "merge", "-o", "one_day.lat", "day0.part"],
    );
    assert!(std::fs::read(root.join("one_day.lat")).expect("one day") != whole);
}

#[test]
fn merge_refuses_finished_baselines_other_versions_mixed_until_and_its_own_parts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let log = |ts: &str, user: &str, src: &str| {
        serde_json::json!({
            "@timestamp": ts, "EventID": 4624, "Channel": "Security",
            "Hostname": "SRV01.corp.local", "TargetUserName": user,
            "TargetDomainName": "CORP", "IpAddress": src, "IpPort": "50123",
            "WorkstationName": "WS05", "LogonType": 3,
            "AuthenticationPackageName": "Kerberos", "LogonProcessName": "Kerberos",
        })
        .to_string()
            + "\n"
    };
    std::fs::write(
        root.join("d1.jsonl"),
        log("2026-03-02T09:00:00Z", "alice", "10.0.0.5"),
    )
    .expect("write");
    std::fs::write(
        root.join("d2.jsonl"),
        log("2026-03-03T09:00:00Z", "bob", "10.0.0.6"),
    )
    .expect("write");
    ok(
        root,
        &[
            "baseline",
            "build",
            "--partial",
            "-o",
            "p1.part",
            "d1.jsonl",
        ],
    );
    ok(
        root,
        &[
            "baseline",
            "build",
            "--partial",
            "-o",
            "p2.part",
            "d2.jsonl",
        ],
    );
    ok(root, &["baseline", "build", "-o", "done.lat", "d1.jsonl"]);
    let p1 = std::fs::read(root.join("p1.part")).expect("p1");

    let refused = |args: &[&str], says: &str| {
        let out = lateral(root, args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    };
    // A finished baseline is not a part.
    refused(
        &["baseline", "merge", "-o", "m.lat", "p1.part", "done.lat"],
        "done.lat: a finished baseline, not a partial baseline",
    );
    // A part of another format version.
    let mut other = p1.clone();
    other[8..12].copy_from_slice(&99u32.to_le_bytes());
    std::fs::write(root.join("v99.part"), &other).expect("write");
    refused(
        &["baseline", "merge", "-o", "m.lat", "p1.part", "v99.part"],
        "v99.part: baseline format version 99",
    );
    // Parts learned up to different times.
    ok(
        root,
        &[
            "baseline",
            "build",
            "--partial",
            "--until",
            "2026-03-04T00:00:00Z",
            "-o",
            "u.part",
            "d2.jsonl",
        ],
    );
    refused(
        &["baseline", "merge", "-o", "m.lat", "p1.part", "u.part"],
        "different --until",
    );
    // A part given twice would count twice.
    refused(
        &["baseline", "merge", "-o", "m.lat", "p1.part", "./p1.part"],
        "the same part",
    );
    // The output is never one of the parts.
    refused(
        &["baseline", "merge", "-o", "p1.part", "p1.part", "p2.part"],
        "p1.part",
    );
    assert_eq!(std::fs::read(root.join("p1.part")).expect("p1"), p1);
    assert!(!root.join("m.lat").exists());
    // A partial is not a baseline for the other commands.
    let out = lateral(root, &["baseline", "info", "p1.part"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("p1.part: a partial baseline"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And both parts do merge.
    ok(
        root,
        &["baseline", "merge", "-o", "m.lat", "p2.part", "p1.part"],
    );
    ok(
        root,
        &[
            "baseline", "build", "-o", "both.lat", "d1.jsonl", "d2.jsonl",
        ],
    );
    assert_eq!(
        std::fs::read(root.join("m.lat")).expect("m"),
        std::fs::read(root.join("both.lat")).expect("both")
    );
}
