//! With nothing learned (role priors), the judged connection records of
//! light sources (outside addresses that only failed, a SYN flood's) are
//! read past, not held (`profile::light::split_light`, the failed
//! attempts spilled apart by the flow store): `analyze` must give the same
//! bytes (alerts and report) as with every record held (the hidden
//! `--keep-judged`), with one thread or two, and count the records it did
//! not hold.

mod common;

use std::path::Path;
use std::process::Output;

fn lateral(dir: &Path, args: &[&str]) -> Output {
    common::run_ok(env!("CARGO_BIN_EXE_lateral"), dir, args)
}

/// `lateral gen` of `scenario` with `more` arguments, to `out` in `dir`.
fn generate(dir: &Path, scenario: &str, more: &[&str], out: &str) {
    let mut args = vec!["-q", "gen", "--scenario", scenario, "-o", out];
    args.extend_from_slice(more);
    lateral(dir, &args);
}

/// The number on the `--stats` line starting with `label` that mentions
/// `what`, if any.
fn stat(stderr: &str, label: &str, what: &str) -> Option<u64> {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(label) && l.contains(what))
        .find_map(|l| {
            l.trim_start_matches(label)
                .split_whitespace()
                .find_map(|w| w.parse().ok())
        })
}

/// `analyze --learn 0% --stats` over `inputs`, flood records dropped and
/// all held, with one and two threads: the same alerts and report each
/// time, the same records read. Returns the alerts and the records not
/// held.
fn same_both_ways(root: &Path, inputs: &[String]) -> (Vec<u8>, u64) {
    let mut first: Option<(Vec<u8>, Vec<u8>, String)> = None;
    let mut dropped = 0;
    for threads in ["1", "2"] {
        for keep in [false, true] {
            let mut args = vec!["--threads", threads, "-q", "analyze", "--learn", "0%"];
            if keep {
                args.push("--keep-judged");
            }
            args.extend_from_slice(&["--stats", "--json", "out.jsonl"]);
            args.extend(inputs.iter().map(String::as_str));
            let _ = std::fs::remove_file(root.join("out.jsonl"));
            let o = lateral(root, &args);
            let alerts = std::fs::read(root.join("out.jsonl")).expect("alerts written");
            let stderr = String::from_utf8_lossy(&o.stderr).to_string();
            let not_held = stat(&stderr, "not held", "connection records");
            if keep {
                assert_eq!(not_held, None, "{args:?}: --keep-judged holds every record");
            } else {
                dropped = not_held.unwrap_or(0);
            }
            let read = stderr
                .lines()
                .find(|l| l.trim_start().starts_with("read"))
                .and_then(|l| l.split(" records (").nth(1))
                .and_then(|l| l.split(')').next())
                .unwrap_or_default()
                .to_string();
            let got = (alerts, o.stdout, read);
            match &first {
                None => first = Some(got),
                Some(f) => {
                    common::assert_same_output(&args, (&f.0, &f.1), (&got.0, &got.1));
                    assert_eq!(f.2, got.2, "{args:?}: records read differ");
                }
            }
        }
    }
    (first.map(|f| f.0).unwrap_or_default(), dropped)
}

#[test]
fn a_flood_read_past_changes_no_alert_under_role_priors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    // More failed attempts than the store holds before spilling them.
    generate(root, "synflood", &["--packets", "150000"], "syn.pcap");
    generate(root, "demo", &[], "demo.pcap");
    let flood = vec!["syn.pcap".to_string()];
    let (alerts, dropped) = same_both_ways(root, &flood);
    assert!(alerts.is_empty(), "a flood alone raises nothing");
    assert!(
        dropped > 100_000,
        "the flood's records are not held: {dropped}"
    );
    // The demo capture's attack, with and without the flood beside it.
    let demo = vec!["demo.pcap".to_string()];
    let (alone, none) = same_both_ways(root, &demo);
    assert!(!alone.is_empty(), "the demo capture raises alerts");
    assert_eq!(none, 0, "the demo capture has no flood");
    let (with_flood, dropped) =
        same_both_ways(root, &["demo.pcap".to_string(), "syn.pcap".to_string()]);
    assert!(
        !with_flood.is_empty(),
        "the demo's alerts stand with a flood"
    );
    assert!(dropped > 100_000, "{dropped}");
    // Generated networks with the flood added.
    for (name, scenario) in [("a", "spray"), ("b", "diet"), ("c", "contractor")] {
        let size = ["--hosts", "40", "--days", "2", "--seed", "3"];
        generate(root, scenario, &size, name);
        let mut inputs: Vec<String> = common::files_under(&root.join(name))
            .iter()
            .filter(|n| n.extension().is_none_or(|x| x != "json"))
            .map(|n| format!("{name}/{}", n.display()))
            .collect();
        assert!(!inputs.is_empty(), "{name}: no inputs generated");
        let (alerts, _) = same_both_ways(root, &inputs);
        assert!(!alerts.is_empty(), "{scenario}: the scenario raises alerts");
        inputs.push("syn.pcap".into());
        let (_, dropped) = same_both_ways(root, &inputs);
        assert!(dropped > 100_000, "{scenario}: {dropped}");
    }
}
