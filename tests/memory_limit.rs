//! `--memory-limit`: the learning builders spill sorted runs to disk and
//! merge them back by key; the outputs must be the bytes of the run
//! without a limit, whatever the limit (down to one byte: every check
//! spills), the thread count and the inputs (a generated network with a
//! capture and logs, an sshd flood of distinct sources, a SYN flood).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_lateral");

/// Runs `args` in `dir`, whatever the exit status.
fn lateral(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs")
}

/// Runs `args` in `dir`, insisting on exit status 0.
fn ok(dir: &Path, args: &[&str]) -> Output {
    common::run_ok(BIN, dir, args)
}

/// `baseline build` of `sshd.log` into `out` with an 8 KiB limit,
/// spilling into `spill_dir`.
fn build_spilling_into(root: &Path, spill_dir: &str, out: &str) -> Output {
    lateral(
        root,
        &[
            "-q",
            "baseline",
            "build",
            "--memory-limit",
            "8K",
            "--spill-dir",
            spill_dir,
            "--stats",
            "-o",
            out,
            "sshd.log",
        ],
    )
}

/// An sshd log of `lines` lines over two days, most from a distinct
/// outside address (a flood of sources), some accepted from inside.
fn sshd_flood(path: &Path, lines: u64) {
    let mut draws = common::sshd_flood::Draws(0x9E37_79B9_7F4A_7C15);
    let users = ["root", "admin", "oracle", "alice", "bob"];
    let mut out = String::new();
    for i in 0..lines {
        let t = i * 2 * 86_400 / lines;
        out.push_str(&common::sshd_flood::line(
            t,
            draws.next(),
            1000 + i % 5000,
            &users,
        ));
    }
    std::fs::write(path, out).expect("write flood");
}

/// Every file under `dir` (relative to `root`), sorted.
fn files_under(root: &Path, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![root.join(dir)];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_none_or(|x| x != "json") {
                out.push(
                    p.strip_prefix(root)
                        .expect("under root")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    out.sort();
    out
}

/// The `N spills` of the `memory limit` line of `--stats`.
fn spills(stderr: &[u8]) -> u64 {
    let s = String::from_utf8_lossy(stderr);
    let line = s
        .lines()
        .find(|l| l.trim_start().starts_with("memory limit"))
        .unwrap_or_else(|| panic!("no memory limit line in:\n{s}"));
    let before = line.split(" spills").next().expect("spills");
    before
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no spill count in {line:?}"))
}

/// Builds a baseline of `inputs` without a limit and with each of
/// `limits`, with one and two threads: the files must be identical, and
/// the smallest limit must have spilled.
fn same_baselines(root: &Path, inputs: &[String], limits: &[&str], what: &str) {
    for threads in ["1", "2"] {
        let build = |extra: &[&str], out: &str| {
            let mut args = vec!["--threads", threads, "-q", "baseline", "build", "-o", out];
            args.extend_from_slice(extra);
            args.extend(inputs.iter().map(String::as_str));
            ok(root, &args)
        };
        build(&[], "plain.lat");
        let plain = std::fs::read(root.join("plain.lat")).expect("plain baseline");
        assert!(!plain.is_empty());
        for limit in limits {
            let o = build(&["--memory-limit", limit, "--stats"], "limited.lat");
            let n = spills(&o.stderr);
            assert!(
                n >= 2,
                "{what}, --memory-limit {limit}, {threads} threads: {n} spills"
            );
            let limited = std::fs::read(root.join("limited.lat")).expect("limited baseline");
            assert!(
                limited == plain,
                "{what}, --memory-limit {limit}, {threads} threads: the baseline differs ({} vs {} bytes)",
                limited.len(),
                plain.len()
            );
        }
    }
}

/// Writes a generated network (`gen --scenario spray --vary`, three
/// days, `hosts` hosts, seed `seed`) into `net/` under `root`; its files.
fn spray_network(root: &Path, hosts: &str, seed: &str) -> Vec<String> {
    ok(
        root,
        &[
            "-q",
            "gen",
            "--scenario",
            "spray",
            "--hosts",
            hosts,
            "--days",
            "3",
            "--vary",
            "--seed",
            seed,
            "-o",
            "net",
        ],
    );
    files_under(root, "net")
}

#[test]
fn spilled_builds_write_the_baseline_of_the_unlimited_build() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let net = spray_network(root, "50", "5");
    assert!(net.iter().any(|f| f.ends_with(".pcap")), "{net:?}");
    same_baselines(root, &net, &["1", "64K"], "generated network");
    sshd_flood(&root.join("sshd.log"), 30_000);
    let mut both = net.clone();
    both.push("sshd.log".to_string());
    same_baselines(root, &both, &["96K"], "network and sshd flood");
    ok(
        root,
        &[
            "-q",
            "gen",
            "--scenario",
            "synflood",
            "--packets",
            "20000",
            "-o",
            "syn.pcap",
        ],
    );
    same_baselines(root, &["syn.pcap".to_string()], &["16K"], "SYN flood");
}

#[test]
fn the_spill_directory_is_fresh_and_removed_and_an_unusable_one_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    sshd_flood(&root.join("sshd.log"), 5_000);
    std::fs::create_dir(root.join("spill")).expect("spill dir");
    let o = build_spilling_into(root, "spill", "b.lat");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(spills(&o.stderr) >= 2);
    let left: Vec<PathBuf> = std::fs::read_dir(root.join("spill"))
        .expect("read spill dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(left.is_empty(), "runs left behind: {left:?}");
    // A spill directory that cannot be made: exit 1, a message naming
    // it, and no baseline written.
    std::fs::write(root.join("not-a-dir"), b"x").expect("file");
    let o = build_spilling_into(root, "not-a-dir/sub", "c.lat");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spill directory") && err.contains("not-a-dir"),
        "{err}"
    );
    assert!(!root.join("c.lat").exists());
    // Sizes that are not sizes are usage errors.
    for bad in ["0", "12Q", "lots", ""] {
        let o = lateral(
            root,
            &[
                "baseline",
                "build",
                "--memory-limit",
                bad,
                "-o",
                "d.lat",
                "sshd.log",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "--memory-limit {bad:?}: {o:?}");
        assert!(!root.join("d.lat").exists());
    }
}

/// Runs `analyze` of `inputs` without a limit and with each of `limits`,
/// with one and two threads: the alerts and the report must be identical,
/// and each limited run must have spilled.
fn same_analyses(root: &Path, inputs: &[String], limits: &[&str], what: &str) {
    for threads in ["1", "2"] {
        let analyze = |extra: &[&str], out: &str| {
            let mut args = vec!["--threads", threads, "-q", "analyze", "--json", out];
            args.extend_from_slice(extra);
            args.extend(inputs.iter().map(String::as_str));
            lateral(root, &args)
        };
        let plain = analyze(&[], "plain.jsonl");
        assert!(plain.status.code().is_some_and(|c| c <= 1), "{plain:?}");
        let alerts = std::fs::read(root.join("plain.jsonl")).expect("plain alerts");
        assert!(!alerts.is_empty(), "{what}: no alerts to compare");
        for limit in limits {
            let o = analyze(&["--memory-limit", limit, "--stats"], "limited.jsonl");
            assert_eq!(o.status.code(), plain.status.code(), "{what}: {o:?}");
            let n = spills(&o.stderr);
            assert!(
                n >= 2,
                "{what}, --memory-limit {limit}, {threads} threads: {n} spills"
            );
            let limited = std::fs::read(root.join("limited.jsonl")).expect("limited alerts");
            assert!(
                limited == alerts,
                "{what}, --memory-limit {limit}, {threads} threads: the alerts differ"
            );
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&plain.stdout),
                "{what}, --memory-limit {limit}, {threads} threads: the report differs"
            );
        }
    }
}

#[test]
fn a_limited_analysis_gives_the_alerts_and_report_of_the_unlimited_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let mut inputs = spray_network(root, "40", "11");
    same_analyses(root, &inputs, &["1", "48K"], "generated network");
    sshd_flood(&root.join("sshd.log"), 30_000);
    inputs.push("sshd.log".to_string());
    same_analyses(root, &inputs, &["96K"], "network and sshd flood");
    // The limit bounds a fold of files read twice: not a baseline's
    // judging, not standard input.
    let o = lateral(
        root,
        &[
            "-q",
            "analyze",
            "--memory-limit",
            "1M",
            "--baseline",
            "b.lat",
            "sshd.log",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = Command::new(BIN)
        .current_dir(root)
        .args(["-q", "analyze", "--memory-limit", "1M", "-"])
        .stdin(std::fs::File::open(root.join("sshd.log")).expect("open"))
        .output()
        .expect("binary runs");
    assert_ne!(o.status.code(), Some(0), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--memory-limit needs inputs that are files"),
        "{o:?}"
    );
}
