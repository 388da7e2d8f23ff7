//! Peak-memory measurement of profile building: generates a network of
//! HOSTS hosts and EDGES distinct edges (FLOWS flows, EVENTS logon events)
//! on the fly, builds profiles in parallel shards (one per thread, split by
//! edge) merged at the end, and prints what was built and how fast.
//!
//! Run under `/usr/bin/time -v` for the peak RSS:
//! `cargo build --release --example profile_memory &&
//!  /usr/bin/time -v target/release/examples/profile_memory 100000 10000000 10000000 1000000`

use lateral::hosts::HostDirectory;
use lateral::profile::ProfileBuilder;
use lateral::synth::load::LoadSpec;
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Current and peak resident memory from /proc (Linux), for phase reports.
fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or("?".to_string(), |kb| {
                format!("{:.0} MB", kb as f64 / 1024.0)
            })
    };
    format!("rss {} peak {}", field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let spec = LoadSpec {
        hosts: arg(1, 100_000) as u32,
        edges: arg(2, 10_000_000),
        flows: arg(3, 10_000_000),
        events: arg(4, 1_000_000),
        days: 7,
        seed: 1,
    };
    let dir = Arc::new(HostDirectory::new());
    let shards = rayon::current_num_threads().max(1) as u64;
    let start = Instant::now();
    let built = (0..shards)
        .into_par_iter()
        .map(|t| {
            let mut b = ProfileBuilder::new(dir.clone());
            // Shard t takes the flows of edges e with e % shards == t.
            let mut i = t;
            while i < spec.flows {
                b.add_flow(&spec.flow(i));
                i += shards;
            }
            let mut j = t;
            while j < spec.events {
                b.add_event(&spec.event(j));
                j += shards;
            }
            eprintln!("shard {t} built: {}", rss());
            b
        })
        .reduce_with(|mut a, b| {
            a.merge(b);
            a
        });
    let Some(builder) = built else {
        return;
    };
    let built_secs = start.elapsed().as_secs_f64();
    eprintln!("merged: {}", rss());
    let profiles = builder.finish();
    eprintln!("finished: {}", rss());
    let secs = start.elapsed().as_secs_f64();
    let records = spec.flows + spec.events;
    println!(
        "hosts {} edges {} logon triples {} | {} flows + {} events in {:.2}s ({:.2}s before finish): {:.2}M records/s on {} threads",
        profiles.len(),
        profiles.edge_count(),
        profiles.logon_count(),
        spec.flows,
        spec.events,
        secs,
        built_secs,
        records as f64 / secs / 1e6,
        shards
    );
}
