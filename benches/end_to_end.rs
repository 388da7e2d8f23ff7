//! End to end, as `lateral analyze DIR` runs: a generated `diet` scenario
//! (100 hosts, two days: capture plus Windows and sshd logs) is read
//! (capture parse, flow assembly, log parsing, all inputs in parallel),
//! profiled over the first 60% and judged by every detector, with alerts
//! joined into incidents. Throughput is in bytes of input (the capture
//! uncompressed plus the logs).
//!
//! Run: `cargo bench --bench end_to_end`. Benchmarks:
//! - `end_to_end/read`: `pipeline::run_events` alone;
//! - `end_to_end/read_profile_detect`: the same plus `analyze::analyze`
//!   (what `lateral analyze` does before printing).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lateral::analyze::{Learning, analyze};
use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::config::Config;
use lateral::input::{self, InputPath};
use lateral::model::event::Duration;
use lateral::scenario::{GenSpec, Scenario, generate};
use std::hint::black_box;
use std::sync::atomic::AtomicU64;

fn read(paths: &[InputPath], threads: usize) -> lateral::collect::pipeline::EventRun {
    let opts = FlowRunOptions {
        threads,
        ..FlowRunOptions::default()
    };
    run_events(
        paths,
        Vec::new(),
        &opts,
        &LogOptions::default(),
        &AtomicU64::new(0),
    )
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let spec = GenSpec {
        scenario: Scenario::Diet,
        hosts: 100,
        span: Duration::from_secs(2 * 86_400),
        seed: 1,
        pcap: true,
        pcapng: false,
        zeek: false,
        gzip: false,
        shape: lateral::scenario::shape::Shape::classic(),
    };
    generate(&spec, dir.path()).expect("scenario generated");
    let (paths, errors) = input::expand(&[dir.path().to_path_buf()]);
    assert!(errors.is_empty());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let first = read(&paths, threads);
    let bytes: u64 = first.inputs.iter().map(|r| r.bytes).sum();
    let flows = first.flows.to_vec().expect("flows in memory");
    let config = Config::default();
    let check = analyze(&flows, &first.events, Learning::default(), &config);
    assert!(
        !check.incidents.is_empty(),
        "the diet attack gives an incident"
    );

    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("read", |b| b.iter(|| black_box(read(&paths, threads))));
    g.bench_function("read_profile_detect", |b| {
        b.iter(|| {
            let run = read(&paths, threads);
            let flows = run.flows.to_vec().expect("flows in memory");
            black_box(analyze(&flows, &run.events, Learning::default(), &config))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
