//! Judged events no consumer reads are dropped as they are read
//! (`detect::JudgedReader`, `rules::READERS`): `analyze` must give the
//! same bytes (alerts and report) as with every judged event kept (the
//! hidden `--keep-judged`), on generated networks and on a LANL-format
//! auth file, with one thread or two.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn lateral(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 3),
        "lateral {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A generated network in `root/<name>`; the input names (relative to `root`).
fn network(root: &Path, name: &str, args: &[&str]) -> Vec<String> {
    let mut gen_args = vec!["-q", "gen"];
    gen_args.extend_from_slice(args);
    gen_args.extend_from_slice(&["-o", name]);
    lateral(root, &gen_args);
    common::files_under(&root.join(name))
        .iter()
        .filter(|n| n.extension().is_none_or(|x| x != "json"))
        .map(|n| format!("{name}/{}", n.display()))
        .collect()
}

/// `analyze` over `inputs` with `head` before them, judged events
/// filtered and all kept, with one and two threads: the same alerts and
/// report each time. Returns the alerts (JSON Lines).
fn same_both_ways(root: &Path, head: &[&str], inputs: &[String]) -> Vec<u8> {
    let mut first: Option<(Vec<u8>, Vec<u8>)> = None;
    for threads in ["1", "2"] {
        for keep in [false, true] {
            let mut args = vec!["--threads", threads, "-q", "analyze"];
            if keep {
                args.push("--keep-judged");
            }
            args.extend_from_slice(head);
            args.extend_from_slice(&["--json", "out.jsonl"]);
            args.extend(inputs.iter().map(String::as_str));
            let _ = std::fs::remove_file(root.join("out.jsonl"));
            let o = lateral(root, &args);
            let alerts = std::fs::read(root.join("out.jsonl")).expect("alerts written");
            let got = (alerts, o.stdout);
            match &first {
                None => first = Some(got),
                Some(f) => common::assert_same_output(&args, (&f.0, &f.1), (&got.0, &got.1)),
            }
        }
    }
    first.map(|f| f.0).unwrap_or_default()
}

#[test]
fn dropping_unread_judged_events_changes_no_alert_on_generated_networks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    for (name, scenario, seed) in [
        ("a", "spray", "5"),
        ("b", "diet", "9"),
        ("c", "contractor", "3"),
    ] {
        let inputs = network(
            root,
            name,
            &[
                "--scenario",
                scenario,
                "--hosts",
                "50",
                "--days",
                "3",
                "--vary",
                "--seed",
                seed,
            ],
        );
        assert!(!inputs.is_empty(), "{name}: no inputs generated");
        let alerts = same_both_ways(root, &[], &inputs);
        assert!(!alerts.is_empty(), "{scenario}: the scenario raises alerts");
        same_both_ways(root, &["--learn", "40%"], &inputs);
    }
}

#[test]
fn dropping_unread_judged_events_changes_no_alert_on_lanl_auth() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let mut text = Vec::new();
    lateral::synth::lanl_auth::auth_lines_realistic(150_000, 2, &mut text).expect("lines");
    std::fs::write(root.join("auth.txt"), &text).expect("written");
    let inputs = vec!["auth.txt".to_string()];
    let alerts = same_both_ways(root, &["-f", "lanl-auth"], &inputs);
    assert!(!alerts.is_empty(), "the LANL day raises alerts");
    // The judged count in the report includes the events dropped.
    let o = lateral(
        root,
        &["-q", "analyze", "-f", "lanl-auth", "--stats", "auth.txt"],
    );
    let stats = String::from_utf8_lossy(&o.stderr);
    assert!(
        stats.contains("150000 log events"),
        "every line is counted: {stats}"
    );
    // Log-offs, service tickets without an encryption type and the like
    // are read by no rule: counted, not held.
    let dropped = stats
        .lines()
        .find_map(|l| l.trim().strip_prefix("not held"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(
        dropped > 10_000 && dropped < 150_000,
        "some judged events are not held: {stats}"
    );
    let o = lateral(
        root,
        &[
            "-q",
            "analyze",
            "-f",
            "lanl-auth",
            "--stats",
            "--keep-judged",
            "auth.txt",
        ],
    );
    let stats = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stats.contains("not held"),
        "--keep-judged holds every judged event: {stats}"
    );
}

#[test]
fn every_rule_declares_what_it_reads() {
    use lateral::detect::rules::{READERS, all};
    for d in all() {
        let n = READERS.iter().filter(|(id, _)| *id == d.id()).count();
        assert_eq!(n, 1, "{} declared once in READERS", d.id());
    }
    assert_eq!(READERS.len(), all().len(), "READERS names only rules");
}
