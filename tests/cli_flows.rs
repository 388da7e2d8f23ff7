//! Black-box tests of `lateral flows`: the real binary on real bytes
//! (captures the project generates), comparing whole outputs.
//!
//! Golden files live in `tests/golden/`; run with `LATERAL_BLESS=1` to
//! rewrite them after an intended change, and review the diff.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::golden;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> PathBuf {
    root().join("testdata/demo.pcap")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn committed_demo_capture_matches_the_generator() {
    let fresh = lateral::synth::demo::write_demo(Vec::new()).unwrap();
    let committed = std::fs::read(demo()).unwrap();
    assert!(
        fresh == committed,
        "testdata/demo.pcap is stale: run `lateral gen --scenario demo -o testdata/demo.pcap`"
    );
}

#[test]
fn demo_records_match_golden_in_both_formats() {
    let zeek = run(&["flows", demo().to_str().unwrap()]);
    assert_eq!(zeek.status.code(), Some(0), "{}", text(&zeek.stderr));
    golden("demo.conn.log", &text(&zeek.stdout));
    let json = run(&["flows", "--format", "jsonl", demo().to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0));
    let out = text(&json.stdout);
    golden("demo.conn.jsonl", &out);
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        for key in [
            "ts",
            "uid",
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "proto",
            "conn_state",
            "orig_pkts",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

fn bulk(packets: u64, flows: u64) -> Vec<u8> {
    let spec = lateral::synth::bulk::BulkSpec {
        flows,
        packets,
        concurrent: 300,
        seed: 7,
        ..Default::default()
    };
    let mut v = Vec::new();
    lateral::synth::bulk::write_bulk(&spec, &mut v).unwrap();
    v
}

#[test]
fn output_is_identical_across_threads_input_order_and_compression() {
    let dir = tempfile::tempdir().unwrap();
    let demo_bytes = std::fs::read(demo()).unwrap();
    let a = dir.path().join("a.pcap");
    let b = dir.path().join("b.pcap");
    write(&a, &demo_bytes);
    // Over the parallel threshold, so one file is split over worker threads.
    write(&b, &bulk(60_000, 2_000));
    let one = run(&[
        "flows",
        "--threads",
        "1",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let two = run(&[
        "flows",
        "--threads",
        "2",
        b.to_str().unwrap(),
        a.to_str().unwrap(),
    ]);
    assert_eq!(one.status.code(), Some(0));
    assert!(
        one.stdout == two.stdout,
        "thread count or input order changed the output"
    );
    let big = dir.path().join("big.pcap");
    write(&big, &bulk(60_000, 2_000));
    let big_len = std::fs::metadata(&big).unwrap().len();
    assert!(
        big_len > lateral::source::capture_flows::PARALLEL_THRESHOLD,
        "{big_len}"
    );
    let s1 = run(&["flows", "--threads", "1", big.to_str().unwrap()]);
    let s2 = run(&["flows", "--threads", "2", big.to_str().unwrap()]);
    assert!(
        s1.stdout == s2.stdout,
        "threaded path differs from the inline path"
    );

    // gzip, zstd, standard input and a directory give the same records.
    let gz = dir.path().join("sub/x.bin");
    std::fs::create_dir_all(gz.parent().unwrap()).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&demo_bytes).unwrap();
    write(&gz, &e.finish().unwrap());
    let zs = dir.path().join("y.data");
    write(&zs, &zstd::encode_all(&demo_bytes[..], 3).unwrap());
    let plain = run(&["flows", demo().to_str().unwrap()]).stdout;
    assert_eq!(run(&["flows", gz.to_str().unwrap()]).stdout, plain, "gzip");
    assert_eq!(run(&["flows", zs.to_str().unwrap()]).stdout, plain, "zstd");
    let mut child = bin()
        .args(["flows", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&demo_bytes).unwrap();
    assert_eq!(child.wait_with_output().unwrap().stdout, plain, "stdin");
    let only_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(only_dir.path().join("n/m")).unwrap();
    write(&only_dir.path().join("n/m/c.pcap"), &demo_bytes);
    assert_eq!(
        run(&["flows", only_dir.path().to_str().unwrap()]).stdout,
        plain,
        "directory"
    );
}

#[test]
fn bad_inputs_are_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let demo_bytes = std::fs::read(demo()).unwrap();
    let notes = dir.path().join("notes.txt");
    write(&notes, b"Jul 25 01:00:00 srv-chamber sshd[1]: hello\n");
    let empty = dir.path().join("empty.pcap");
    write(&empty, b"");
    let out = run(&[
        "flows",
        notes.to_str().unwrap(),
        empty.to_str().unwrap(),
        demo().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "partial run exits 3");
    let err = text(&out.stderr);
    assert!(
        err.contains("notes.txt: not a capture") && err.contains("text \"Jul 25 01:00:00"),
        "{err}"
    );
    assert!(
        err.contains("empty.pcap: not a capture") && err.contains("empty"),
        "{err}"
    );
    assert_eq!(
        out.stdout,
        run(&["flows", demo().to_str().unwrap()]).stdout,
        "good input still fully read"
    );

    // Cut mid-record: records before the cut are read, the offset is named.
    let cut = dir.path().join("cut.pcap");
    write(&cut, &demo_bytes[..300_001]);
    let out = run(&["flows", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("cut.pcap: truncated at byte "), "{err}");
    assert!(
        text(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count()
            > 10
    );

    // A record whose length field is impossible: stop there, keep what was read.
    let first_len = u32::from_le_bytes(demo_bytes[24 + 8..24 + 12].try_into().unwrap()) as usize;
    let second = 24 + 16 + first_len;
    let mut bad2 = demo_bytes.clone();
    bad2[second + 8..second + 12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let corrupt = dir.path().join("corrupt.pcap");
    write(&corrupt, &bad2);
    let out = run(&["flows", "--stats", corrupt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("corrupt.pcap: corrupt at byte {second}")),
        "{err}"
    );
    assert!(err.contains("PARTIAL"), "{err}");
}

#[test]
fn usage_errors_exit_2_and_help_documents_exit_status() {
    assert_eq!(run(&["flows"]).status.code(), Some(2));
    assert_eq!(
        run(&["flows", "--format", "xml", "x"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&["flows", "--tcp-timeout", "0", demo().to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    let help = text(&run(&["flows", "--help"]).stdout);
    assert!(
        help.contains("Exit status") && help.contains("3  partial"),
        "{help}"
    );
}

#[test]
fn stats_report_throughput_and_distributions() {
    let out = run(&["flows", "--stats", "--quiet", demo().to_str().unwrap()]);
    let err = text(&out.stderr);
    for needle in [
        "files",
        "packets",
        "flows",
        "wall time",
        "MB/s",
        "packets/s",
        "packet sizes",
        "flow durations",
        "p50",
        "p99",
        "max",
        "records skipped",
    ] {
        assert!(err.contains(needle), "--stats lacks {needle}:\n{err}");
    }
    let golden = std::fs::read_to_string(root().join("tests/golden/demo.conn.log")).unwrap();
    let records = golden.lines().filter(|l| !l.starts_with('#')).count();
    assert!(
        err.contains(&format!("flows                  {records}\n")),
        "{err}"
    );
}

#[test]
fn flow_cap_evicts_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("many.pcap");
    write(&f, &bulk(20_000, 1_000));
    let out = run(&["flows", "--stats", "--max-flows", "16", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    let evicted: u64 = err
        .lines()
        .find(|l| l.contains("flows evicted"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(evicted > 0, "{err}");
}
