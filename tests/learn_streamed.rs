//! The streamed learning period (`profile::stream`) against the held one.
//!
//! When every input is a regular file, `analyze` and `baseline build` read
//! the inputs twice and fold the learning part into profiles as it is read;
//! with `--one-pass`, or when an input is standard input, they hold every
//! record as before. Both must give the same bytes: alerts, report and
//! baseline file, with one thread or two.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

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

/// A generated network in `root/gen`; the input names (relative to `root`).
fn network(root: &Path, args: &[&str]) -> Vec<String> {
    let mut gen_args = vec!["-q", "gen"];
    gen_args.extend_from_slice(args);
    gen_args.extend_from_slice(&["-o", "gen"]);
    lateral(root, &gen_args);
    common::files_under(&root.join("gen"))
        .iter()
        .filter(|n| n.extension().is_none_or(|x| x != "json"))
        .map(|n| format!("gen/{}", n.display()))
        .collect()
}

/// Runs `args` (with `{out}` for an output file) in `root`, streamed and
/// with `--one-pass` (put after the command's name, `one_pass_at`);
/// returns (stdout, output file) of each.
fn both(root: &Path, one_pass_at: usize, args: &[String]) -> [(Vec<u8>, Vec<u8>); 2] {
    let run = |args: &[String]| {
        let out_file = root.join("out");
        let _ = std::fs::remove_file(&out_file);
        let args: Vec<String> = args.iter().map(|a| a.replace("{out}", "out")).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = lateral(root, &refs);
        (o.stdout, std::fs::read(&out_file).unwrap_or_default())
    };
    let mut held = args.to_vec();
    held.insert(one_pass_at, "--one-pass".to_string());
    [run(args), run(&held)]
}

fn check(root: &Path, one_pass_at: usize, what: &str, args: Vec<String>) {
    let [streamed, held] = both(root, one_pass_at, &args);
    assert!(!held.1.is_empty(), "{what}: no output written");
    assert!(
        streamed.1 == held.1,
        "{what}: the streamed output differs from the held one ({} vs {} bytes)",
        streamed.1.len(),
        held.1.len()
    );
    assert!(
        streamed.0 == held.0,
        "{what}: the streamed report differs:\n{}\n---\n{}",
        String::from_utf8_lossy(&streamed.0),
        String::from_utf8_lossy(&held.0)
    );
}

fn with_inputs(head: &[&str], inputs: &[String]) -> Vec<String> {
    head.iter()
        .map(|s| s.to_string())
        .chain(inputs.iter().cloned())
        .collect()
}

#[test]
fn streamed_learning_gives_the_held_alerts_and_baselines() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let inputs = network(
        root,
        &[
            "--scenario",
            "spray",
            "--hosts",
            "60",
            "--days",
            "3",
            "--vary",
            "--seed",
            "5",
        ],
    );
    assert!(inputs.len() >= 2, "{inputs:?}");
    for threads in ["1", "2"] {
        let t = |head: &[&str]| {
            let mut h = vec!["--threads", threads];
            h.extend_from_slice(head);
            with_inputs(&h, &inputs)
        };
        check(
            root,
            4,
            &format!("analyze, {threads} threads"),
            t(&["-q", "analyze", "--json", "{out}"]),
        );
        check(
            root,
            4,
            &format!("analyze --learn 40%, {threads} threads"),
            t(&["-q", "analyze", "--learn", "40%", "--json", "{out}"]),
        );
        check(
            root,
            5,
            &format!("baseline build, {threads} threads"),
            t(&["-q", "baseline", "build", "-o", "{out}"]),
        );
    }
}

#[test]
fn streamed_learning_keeps_remote_execution_and_a_fixed_cut() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    // Windows logs: PsExec's service installations tied to their logons.
    let inputs = network(
        root,
        &[
            "--scenario",
            "diet",
            "--hosts",
            "40",
            "--days",
            "3",
            "--seed",
            "9",
        ],
    );
    let cut = "--learn-until";
    let out = lateral(
        root,
        &with_inputs(&["-q", "analyze", "--json", "-"], &inputs)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(!out.stdout.is_empty(), "the scenario raises alerts");
    for threads in ["1", "2"] {
        let t = |head: &[&str]| {
            let mut h = vec!["--threads", threads];
            h.extend_from_slice(head);
            with_inputs(&h, &inputs)
        };
        check(
            root,
            4,
            &format!("analyze, {threads} threads"),
            t(&["-q", "analyze", "--json", "{out}"]),
        );
        check(
            root,
            4,
            &format!("analyze {cut}, {threads} threads"),
            t(&[
                "-q",
                "analyze",
                cut,
                "2011-07-26T12:00:00Z",
                "--json",
                "{out}",
            ]),
        );
        check(
            root,
            5,
            &format!("baseline build --until, {threads} threads"),
            t(&[
                "-q",
                "baseline",
                "build",
                "--until",
                "2011-07-26T12:00:00Z",
                "-o",
                "{out}",
            ]),
        );
    }
}

#[test]
fn standard_input_is_held_and_judged_alike() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let inputs = network(
        root,
        &[
            "--scenario",
            "diet",
            "--hosts",
            "30",
            "--days",
            "3",
            "--seed",
            "3",
        ],
    );
    // One Windows log (its times need no year), spanning the three days.
    let name = inputs
        .iter()
        .find(|n| n.ends_with("SRV-DC01.security.jsonl") || n.ends_with(".security.jsonl"))
        .expect("a Windows log")
        .clone();
    let bytes = std::fs::read(root.join(&name)).expect("read");
    let streamed = lateral(root, &["-q", "analyze", &name]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(root)
        .args(["-q", "analyze", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || stdin.write_all(&bytes));
    let piped = child.wait_with_output().expect("binary runs");
    feeder.join().expect("feeder").expect("fed");
    assert!(piped.status.success() || piped.status.code() == Some(3));
    // The report, whose input name is the one difference: `-` for
    // standard input.
    let text = String::from_utf8_lossy(&streamed.stdout).replace(&name, "-");
    assert!(text.contains("judged:"), "{text}");
    assert_eq!(text, String::from_utf8_lossy(&piped.stdout));
}
