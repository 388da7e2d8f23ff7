//! LANL auth.txt throughput, in events per second: one core parsing lines
//! into events, the parallel line reader over a whole input, and writing
//! the events as ECS JSON Lines.
//!
//! Run: `cargo bench --bench lanl`. The input is 200,000 generated lines in
//! the shape of the 2015 data set's auth.txt (users `U123@DOM1`, machine
//! accounts `C123$@DOM1`, computers `C123`, every orientation).
//! `lanl/auth_events_streamed` is the `lateral events` path end to end
//! (file read, time-order scan, parse, format, write to a sink).
//!
//! `lanl/analyze_realistic` is the analysis after reading: 200,000 lines
//! of the realistic shape over two days (`synth::lanl_auth`), profiled
//! from the first 60% and the rest judged, alerts and incidents built.
//!
//! To write a large auth.txt for timing the binary
//! (`lateral events --quiet --stats FILE > /dev/null`), run
//! `LATERAL_LANL_SAMPLE=FILE LATERAL_LANL_LINES=10000000 cargo bench --bench lanl`;
//! add `LATERAL_LANL_SHAPE=realistic` (and `LATERAL_LANL_DAYS=N`, 3 by
//! default) for the realistic shape instead of the uniform one.

use criterion::{BatchSize, Criterion, Throughput};
use lateral::input::ByteWindow;
use lateral::model::event::{LogEvent, Timestamp};
use lateral::source::LineFormat;
use lateral::source::lanl::{LanlKind, LanlLines};
use lateral::source::text_lines::read_lines;
use std::hint::black_box;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

const LINES: u64 = 200_000;

/// Deterministic auth.txt lines (a small linear congruential generator).
fn auth_txt() -> Vec<u8> {
    let mut out = Vec::new();
    auth_lines(LINES, &mut out);
    out
}

/// Writes `lines` auth.txt lines to `out`.
fn auth_lines(lines: u64, out: &mut dyn std::io::Write) {
    lateral::synth::lanl_auth::auth_lines(lines, out).expect("lines written");
}

fn bench(c: &mut Criterion) {
    let text = auth_txt();
    let format = LanlLines {
        kind: LanlKind::Auth,
        epoch: Timestamp(0),
    };
    let mut g = c.benchmark_group("lanl");
    g.throughput(Throughput::Elements(LINES));
    g.sample_size(10);
    g.bench_function("auth_parse_one_core", |b| {
        let mut out: Vec<LogEvent> = Vec::with_capacity(4096);
        b.iter(|| {
            let mut n = 0;
            for line in text.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                let _ = format.parse_line(line, &mut out);
                if out.len() >= 4096 {
                    n += out.len();
                    out.clear();
                }
            }
            n += out.len();
            out.clear();
            black_box(n)
        })
    });
    g.bench_function("auth_read_lines_parallel", |b| {
        b.iter_batched(
            || ByteWindow::owned(text.clone()),
            |mut w| {
                let r = read_lines(&mut w, &Arc::from("auth.txt"), &format, &AtomicU64::new(0));
                black_box(r.events.len())
            },
            BatchSize::LargeInput,
        )
    });
    let mut events = Vec::new();
    for line in text.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let _ = format.parse_line(line, &mut events);
    }
    g.bench_function("auth_write_ecs_one_core", |b| {
        let mut buf = Vec::with_capacity(1 << 21);
        b.iter(|| {
            let mut total = 0;
            for e in &events {
                lateral::model::ecs::write_event(e, &mut buf);
                if buf.len() >= 1 << 20 {
                    total += buf.len();
                    buf.clear();
                }
            }
            total += buf.len();
            buf.clear();
            black_box(total)
        })
    });
    g.bench_function("auth_lines_to_ecs_direct_one_core", |b| {
        let file: Arc<str> = Arc::from("auth.txt");
        b.iter(|| {
            let mut batch = lateral::source::batch::EventBatch::for_input(1);
            let mut total = 0;
            for (i, line) in text
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .enumerate()
            {
                let _ = format.write_line(line, &file, i as u64 + 1, &mut batch);
                if batch.len() >= 4096 {
                    total += batch.len();
                    batch.recycle();
                    batch = lateral::source::batch::EventBatch::for_input(1);
                }
            }
            total += batch.len();
            batch.recycle();
            black_box(total)
        })
    });
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("auth.txt");
    std::fs::write(&path, &text).expect("sample written");
    g.bench_function("auth_events_streamed", |b| {
        b.iter(|| {
            let inputs = [lateral::input::InputPath::File(path.clone())];
            let opts = lateral::collect::pipeline::FlowRunOptions {
                threads: rayon::current_num_threads(),
                ..Default::default()
            };
            let (run, order) = lateral::collect::pipeline::stream_events(
                &inputs,
                Vec::new(),
                &opts,
                &lateral::collect::pipeline::LogOptions::default(),
                lateral::collect::event_store::DEFAULT_BUDGET,
                &AtomicU64::new(0),
                &mut std::io::sink(),
            )
            .expect("events written");
            assert_eq!(order, lateral::collect::pipeline::OutputOrder::Streamed);
            black_box(run.written)
        })
    });
    let mut realistic = Vec::new();
    lateral::synth::lanl_auth::auth_lines_realistic(LINES, 2, &mut realistic)
        .expect("lines written");
    let mut events = Vec::new();
    for line in realistic.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let _ = format.parse_line(line, &mut events);
    }
    let config = lateral::config::Config::default();
    g.bench_function("analyze_realistic", |b| {
        b.iter(|| {
            let a =
                lateral::analyze::analyze(&[], &events, lateral::analyze::Learning::Auto, &config);
            black_box((a.alerts.len(), a.incidents.len()))
        })
    });
    g.finish();
}

fn main() {
    if let Ok(file) = std::env::var("LATERAL_LANL_SAMPLE") {
        let lines = std::env::var("LATERAL_LANL_LINES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000_000u64);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("sample file"));
        // In slices, so a billion lines do not need their text in memory.
        if std::env::var("LATERAL_LANL_SHAPE").as_deref() == Ok("realistic") {
            let days = std::env::var("LATERAL_LANL_DAYS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(3u64);
            lateral::synth::lanl_auth::auth_lines_realistic(lines, days, &mut out)
                .expect("lines written");
        } else {
            auth_lines(lines, &mut out);
        }
        out.flush().expect("sample written");
        println!("wrote {file} ({lines} lines)");
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
