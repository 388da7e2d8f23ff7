//! Baseline file throughput: saving (postcard, zstd level 3, fsync and
//! rename) and loading (checksum, decompression, decoding) a baseline built
//! from a generated capture.
//!
//! Run: `cargo bench --bench baseline_file`. Throughput is in bytes of the
//! uncompressed payload.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lateral::baseline::{Baseline, BuildOptions, file};
use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::input::InputPath;
use lateral::synth::bulk::{BulkSpec, write_bulk};
use std::hint::black_box;
use std::sync::atomic::AtomicU64;

fn baseline(dir: &std::path::Path) -> Baseline {
    let spec = BulkSpec {
        flows: 20_000,
        packets: 200_000,
        concurrent: 500,
        ..BulkSpec::default()
    };
    let cap = dir.join("bulk.pcap");
    let out = std::fs::File::create(&cap).expect("temporary file");
    write_bulk(&spec, std::io::BufWriter::new(out)).expect("writing the capture");
    let run = run_events(
        &[InputPath::File(cap)],
        Vec::new(),
        &FlowRunOptions::default(),
        &LogOptions::default(),
        &AtomicU64::new(0),
    );
    Baseline::build(&run, &BuildOptions::default()).expect("building the baseline")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let b = baseline(dir.path());
    let path = dir.path().join("b.lat");
    let written = file::save(&path, &b).expect("saving");
    let mut g = c.benchmark_group("baseline_file");
    g.throughput(Throughput::Bytes(written.decoded_bytes));
    g.sample_size(20);
    g.bench_function("save_zstd3_fsync", |bch| {
        bch.iter(|| black_box(file::save(&path, &b).expect("saving")))
    });
    g.bench_function("load", |bch| {
        bch.iter(|| black_box(file::load::<Baseline>(&path).expect("loading")))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
