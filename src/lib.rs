//! `lateral`: find attackers moving between machines in packet captures and server logs.
//!
//! The pipeline, one module per stage:
//! - [`input`]: files, directories and standard input, decompressed and sniffed;
//! - [`source`]: bytes in, normalised events out (captures to flows; logs to events);
//! - [`event`]: the normalised types every later stage consumes;
//! - [`hosts`]: one identity per host across IPs, names and accounts;
//! - [`profile`]: per-host behaviour profiles built from flows and events;
//! - [`detect`], [`alert`], [`incident`], [`config`], [`analyze`]: detectors
//!   judge today against the baseline, alerts join into ranked incidents;
//! - [`report`]: writers for Zeek TSV and JSON Lines;
//! - [`diag`] and [`stats`]: what was skipped and why, and how fast it went;
//! - [`baseline`]: the baseline file carried between nightly sweeps;
//! - [`synth`]: writers of synthetic captures for tests and scenarios;
//! - [`scenario`]: the scenario generator, networks under attack with ground truth;
//! - [`eval`]: alerts scored against a generated scenario's ground truth;
//! - [`seen`]: alert ids of an earlier report, so a sweep tells new alerts from old.

pub mod alert;
pub mod analyze;
pub mod baseline;
pub mod collect;
pub mod config;
pub mod detect;
pub mod diag;
pub mod error;
pub mod eval;
pub mod event;
pub mod event_store;
pub mod flow_store;
pub mod hosts;
pub mod incident;
pub mod input;
pub mod model;
pub mod pipeline;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod seen;
pub mod source;
pub mod stats;
pub mod synth;

pub use error::Error;

/// Runs arbitrary bytes through the capture reader, the packet decoder and a
/// small flow table, discarding the results: the entry point of the fuzz
/// targets in `fuzz/` (`cargo fuzz run capture`). Never panics, by contract.
pub fn fuzz_capture(data: &[u8]) {
    use std::sync::Arc;
    let format = input::sniff(data);
    let file: Arc<str> = Arc::from("fuzz");
    let mut table = source::flow_table::FlowTable::new(
        source::flow_table::FlowConfig {
            max_flows: 64,
            ..Default::default()
        },
        file.clone(),
    );
    let mut diag = diag::Diagnostics::default();
    let mut table_diag = diag::Diagnostics::default();
    let mut window = input::ByteWindow::owned(data.to_vec());
    let mut counts = source::capture::CaptureCounts::default();
    source::capture::read_capture(
        format,
        &mut window,
        &file,
        &mut diag,
        &mut counts,
        &mut |f| {
            if let Ok(p) = source::decode::decode(f) {
                table.add(&p, &mut table_diag);
            }
        },
    );
    let _ = table.finish_all();
}
