//! The capture path with the protocol analyzers on and off: what following
//! SMB, DCE-RPC and NTLM costs the flow path. Over the generated bulk
//! capture (whose conversations include SMB and RPC ports), and over a
//! lab capture of PsExec-style service creation when the shared corpus is
//! there (`../shared/corpus` or `$LATERAL_CORPUS`).
//!
//! Run: `cargo bench --bench analyzers`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lateral::analyzer::{AnalyzerConfig, Analyzers};
use lateral::input::{ByteWindow, OpenInput, sniff};
use lateral::source::capture_flows::{CaptureOptions, capture_flows_tapped};
use lateral::source::flow_table::FlowConfig;
use lateral::synth::bulk::{BulkSpec, write_bulk};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

fn bulk() -> Vec<u8> {
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

fn lab_capture() -> Option<Vec<u8>> {
    let dir = std::env::var_os("LATERAL_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
        });
    std::fs::read(
        dir.join(
            "pcap/lateral/otrf/covenant_sharpsc_create_dcerpc_smb_svcctl_2020-08-06022635.cap",
        ),
    )
    .ok()
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
    let mut inputs = vec![("bulk", bulk())];
    if let Some(lab) = lab_capture() {
        inputs.push(("lab_svcctl", lab));
    }
    for (name, bytes) in inputs {
        let format = sniff(&bytes);
        let mut g = c.benchmark_group(format!("analyzers_{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.sample_size(20);
        for on in [false, true] {
            let opts = CaptureOptions {
                flow: FlowConfig::default(),
                workers: 1,
            };
            let cfg = AnalyzerConfig {
                enabled: on,
                ..AnalyzerConfig::default()
            };
            g.bench_function(if on { "on" } else { "off" }, |b| {
                b.iter_batched(
                    || open(&bytes),
                    |input| {
                        let store = lateral::collect::flow_store::FlowStore::default();
                        let mut tap = Analyzers::new(cfg, Arc::from("bench"));
                        let r = capture_flows_tapped(
                            input,
                            format,
                            &opts,
                            &AtomicU64::new(0),
                            &store,
                            &mut tap,
                        );
                        black_box((r.flows, tap.finish().events.len()))
                    },
                    criterion::BatchSize::LargeInput,
                )
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
