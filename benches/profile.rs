//! Profile building throughput: flows and logon events from a generated
//! network (`lateral::synth::load`) into finished profiles, on one
//! builder and with the parallel builder.
//!
//! Run: `cargo bench --bench profile`. Throughput is records (flows +
//! events) per second, `finish` included.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lateral::hosts::HostDirectory;
use lateral::profile::{ProfileBuilder, build_parallel};
use lateral::synth::load::LoadSpec;
use std::hint::black_box;
use std::sync::Arc;

fn bench(c: &mut Criterion) {
    let spec = LoadSpec {
        hosts: 5_000,
        edges: 400_000,
        flows: 2_000_000,
        events: 250_000,
        days: 7,
        seed: 7,
    };
    let flows: Vec<_> = (0..spec.flows).map(|i| spec.flow(i)).collect();
    let events: Vec<_> = (0..spec.events).map(|i| spec.event(i)).collect();
    let dir = Arc::new(HostDirectory::new());
    let mut g = c.benchmark_group("profile");
    g.sample_size(10);
    g.throughput(Throughput::Elements(spec.flows + spec.events));
    g.bench_function("build_one_builder", |b| {
        b.iter(|| {
            let mut pb = ProfileBuilder::new(dir.clone());
            pb.add_flows(&flows);
            pb.add_events(&events);
            black_box(pb.finish())
        })
    });
    g.bench_function("build_parallel", |b| {
        b.iter(|| black_box(build_parallel(dir.clone(), &flows, &events)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
