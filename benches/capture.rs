//! Capture throughput: parse only (records and link/IP/transport decode)
//! and parse + flow assembly, over a generated capture held in memory.
//!
//! Run: `cargo bench --bench capture`. The capture is the bulk scenario
//! (interleaved TCP and DNS conversations, mean frame ~650 bytes).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lateral::diag::Diagnostics;
use lateral::input::{ByteWindow, Format, OpenInput, sniff};
use lateral::source::capture::{CaptureCounts, read_capture};
use lateral::source::capture_flows::{CaptureOptions, capture_flows};
use lateral::source::decode::decode;
use lateral::source::flow_table::FlowConfig;
use lateral::synth::bulk::{BulkSpec, write_bulk};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

fn capture() -> Vec<u8> {
    let spec = BulkSpec {
        flows: 4_000,
        packets: 200_000,
        concurrent: 500,
        ..BulkSpec::default()
    };
    let mut out = Vec::new();
    write_bulk(&spec, &mut out).expect("writing to memory cannot fail");
    out
}

fn open(bytes: &[u8]) -> OpenInput {
    OpenInput {
        name: Arc::from("bench"),
        compression: lateral::input::Compression::None,
        size_on_disk: Some(bytes.len() as u64),
        modified: None,
        window: ByteWindow::owned(bytes.to_vec()),
    }
}

fn bench(c: &mut Criterion) {
    let bytes = capture();
    let format = sniff(&bytes);
    assert_eq!(format, Format::Pcap);
    let mut g = c.benchmark_group("capture");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(20);
    g.bench_function("parse_only", |b| {
        b.iter_batched(
            || ByteWindow::owned(bytes.clone()),
            |mut w| {
                let mut n = 0u64;
                let mut counts = CaptureCounts::default();
                read_capture(
                    format,
                    &mut w,
                    &Arc::from("bench"),
                    &mut Diagnostics::default(),
                    &mut counts,
                    &mut |f| {
                        if let Ok(p) = decode(f) {
                            n += u64::from(p.payload_len);
                        }
                    },
                );
                black_box(n)
            },
            criterion::BatchSize::LargeInput,
        )
    });
    for workers in [1, 2] {
        let opts = CaptureOptions {
            flow: FlowConfig::default(),
            workers,
        };
        g.bench_function(format!("parse_and_flows_{workers}_workers"), |b| {
            b.iter_batched(
                || open(&bytes),
                |input| {
                    let store = lateral::collect::flow_store::FlowStore::default();
                    // Force the threaded path for the 2-worker case regardless of size.
                    let r = if workers > 1 {
                        lateral::source::capture_flows::capture_flows_threaded(
                            input,
                            format,
                            &opts,
                            &AtomicU64::new(0),
                            &store,
                        )
                    } else {
                        capture_flows(input, format, &opts, &AtomicU64::new(0), &store)
                    };
                    black_box((r.flows, store.finish().map(|s| s.len()).unwrap_or(0)))
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
