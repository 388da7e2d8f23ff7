//! `lateral events` without holding the events: the streamed path (inputs
//! proven in time order, written as read) and the sorted path (formatted
//! events in a store that spills sorted runs) must both write exactly the
//! bytes of the plain path (every event in memory, sorted, then written),
//! whatever the argument order, thread count or memory budget.

use lateral::collect::pipeline::{
    FlowRunOptions, LogOptions, OutputOrder, run_events, stream_events,
};
use lateral::input;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

fn logs() -> LogOptions {
    LogOptions {
        year: Some(2024),
        ..LogOptions::default()
    }
}

/// sshd lines from `start` seconds into 2024-03-04, one every `step`
/// seconds; `shuffle` swaps neighbours so the file is out of order.
fn sshd_log(path: &Path, start: u32, lines: u32, step: u32, shuffle: bool) {
    let mut times: Vec<u32> = (0..lines).map(|i| start + i * step).collect();
    if shuffle {
        for pair in times.chunks_mut(2) {
            pair.reverse();
        }
    }
    let mut f = std::fs::File::create(path).unwrap();
    for (i, t) in times.iter().enumerate() {
        let (h, m, s) = (t / 3600 % 24, t / 60 % 60, t % 60);
        let host = ["srv-a", "srv-b", "ws-01"][i % 3];
        let line = match i % 4 {
            0 => format!(
                "Mar  4 {h:02}:{m:02}:{s:02} {host} sshd[{i}]: Accepted publickey for user{} from 10.0.{}.{} port {} ssh2",
                i % 7,
                i % 5,
                i % 250 + 1,
                40000 + i % 2000
            ),
            1 => format!(
                "Mar  4 {h:02}:{m:02}:{s:02} {host} sshd[{i}]: Failed password for invalid user guest{} from 192.0.2.{} port 5{} ssh2",
                i % 3,
                i % 200 + 1,
                i % 1000
            ),
            // Two events from one line, and a line that gives none.
            2 => format!(
                "Mar  4 {h:02}:{m:02}:{s:02} {host} sshd[{i}]: message repeated 2 times: [ Failed password for root from 198.51.100.{} port 22{} ssh2]",
                i % 200 + 1,
                i % 100
            ),
            _ => format!("Mar  4 {h:02}:{m:02}:{s:02} {host} CRON[{i}]: (root) CMD (true)"),
        };
        writeln!(f, "{line}").unwrap();
    }
}

/// LANL auth.txt lines from second `start`, one per second.
fn lanl_auth(path: &Path, start: u32, lines: u32) {
    let mut f = std::fs::File::create(path).unwrap();
    for i in 0..lines {
        writeln!(
            f,
            "{},U{}@DOM1,U{}@DOM1,C{},C{},NTLM,Network,LogOn,Success",
            start + i,
            i % 9,
            i % 9,
            i % 13,
            i % 17
        )
        .unwrap();
    }
}

fn opts(threads: usize) -> FlowRunOptions {
    FlowRunOptions {
        threads,
        ..FlowRunOptions::default()
    }
}

/// What the plain path writes: every event in memory, sorted, then written.
fn plain(paths: &[PathBuf]) -> Vec<u8> {
    let (inputs, errors) = input::expand(paths);
    let run = run_events(&inputs, errors, &opts(2), &logs(), &AtomicU64::new(0));
    let mut out = Vec::new();
    lateral::collect::ecs_stream::write_merged(&run.events, &run.flows, &mut out).unwrap();
    out
}

fn streamed(paths: &[PathBuf], threads: usize, budget: usize) -> (Vec<u8>, OutputOrder, u64) {
    let (inputs, errors) = input::expand(paths);
    let mut out = Vec::new();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (run, order) = pool
        .install(|| {
            stream_events(
                &inputs,
                errors,
                &opts(threads),
                &logs(),
                budget,
                &AtomicU64::new(0),
                &mut out,
            )
        })
        .unwrap();
    (out, order, run.written + run.flows.len())
}

fn lines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

#[test]
fn an_ordered_log_is_written_as_read_and_matches_the_plain_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("auth.log");
    sshd_log(&p, 0, 40_000, 1, false);
    let want = plain(std::slice::from_ref(&p));
    assert!(lines(&want) > 30_000);
    for threads in [1, 2, 4] {
        let (got, order, written) = streamed(std::slice::from_ref(&p), threads, 1 << 30);
        assert_eq!(order, OutputOrder::Streamed);
        assert_eq!(written, lines(&want));
        assert!(
            got == want,
            "streamed output differs with {threads} threads"
        );
    }
}

#[test]
fn rotated_logs_stream_in_time_order_whatever_the_argument_order() {
    let dir = tempfile::tempdir().unwrap();
    let older = dir.path().join("auth.log.1");
    let newer = dir.path().join("auth.log");
    // The newer file's name sorts first: time, not name, decides.
    sshd_log(&older, 0, 5_000, 2, false);
    sshd_log(&newer, 20_000, 5_000, 2, false);
    let lanl = dir.path().join("auth.txt");
    lanl_auth(&lanl, 100, 3_000);
    let forward = vec![older.clone(), newer.clone(), lanl.clone()];
    let backward = vec![lanl, newer, older];
    let want = plain(&forward);
    for args in [&forward, &backward] {
        let (got, order, _) = streamed(args, 2, 1 << 30);
        assert_eq!(order, OutputOrder::Streamed);
        assert!(got == want);
    }
    // The LANL events (1970) come first.
    let first = want.split(|&c| c == b'\n').next().unwrap();
    assert!(String::from_utf8_lossy(first).contains("lanl.auth"));
}

#[test]
fn disorder_or_overlap_falls_back_to_sorting_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let shuffled = dir.path().join("shuffled.log");
    sshd_log(&shuffled, 0, 20_000, 1, true);
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    // Overlapping spans, each in order.
    sshd_log(&a, 0, 8_000, 2, false);
    sshd_log(&b, 1, 8_000, 2, false);
    for set in [
        vec![shuffled.clone()],
        vec![a.clone(), b.clone()],
        vec![b, a, shuffled],
    ] {
        let want = plain(&set);
        let mut reversed = set.clone();
        reversed.reverse();
        for (args, threads, budget) in [
            (&set, 2, 1 << 30),
            (&reversed, 1, 1 << 30),
            // A budget of a few kilobytes: many runs spilled and merged.
            (&set, 2, 64 << 10),
            (&reversed, 3, 200 << 10),
        ] {
            let (got, order, written) = streamed(args, threads, budget);
            let OutputOrder::Sorted { spilled_runs } = order else {
                panic!("{args:?} cannot be proven in order");
            };
            assert_eq!(spilled_runs > 0, budget < 1 << 20, "{args:?} {budget}");
            assert_eq!(written, lines(&want));
            assert!(
                got == want,
                "{args:?} with {threads} threads, budget {budget}"
            );
        }
    }
}

#[test]
fn captures_and_logs_together_take_the_sorted_path() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let set = vec![root.join("testdata/demo.pcap"), root.join("testdata/diet")];
    let want = plain(&set);
    assert!(lines(&want) > 10_000);
    for budget in [1 << 30, 256 << 10] {
        let (got, order, written) = streamed(&set, 2, budget);
        assert!(matches!(order, OutputOrder::Sorted { .. }));
        assert_eq!(written, lines(&want));
        assert!(got == want, "budget {budget}");
    }
}

#[test]
fn compressed_inputs_take_the_sorted_path_with_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("auth.log");
    sshd_log(&p, 0, 3_000, 1, false);
    let gz = dir.path().join("auth.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&p).unwrap()).unwrap();
    enc.finish().unwrap();
    let (got, order, _) = streamed(std::slice::from_ref(&gz), 2, 1 << 30);
    assert!(matches!(order, OutputOrder::Sorted { .. }));
    // Same events; only the file name in log.file.path differs.
    let want = String::from_utf8(plain(std::slice::from_ref(&p))).unwrap();
    let got = String::from_utf8(got).unwrap();
    assert_eq!(
        got.replace(&*gz.to_string_lossy(), "F"),
        want.replace(&*p.to_string_lossy(), "F")
    );
}
