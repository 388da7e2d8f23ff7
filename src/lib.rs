//! `lateral`: find attackers moving between machines in packet captures and server logs.
//!
//! The pipeline, one module per stage, each importing only the stages
//! before it (`tests/forward_imports.rs` checks it; `ARCHITECTURE.md` maps it):
//! - [`model`]: the shared vocabulary: times, flows and log events
//!   ([`model::event`]), [`model::Action`], [`model::Role`],
//!   [`model::AdminService`], and the ECS form of an event; with [`error`],
//!   [`diag`] (what was skipped and why), [`stats`] and [`config`];
//! - [`input`]: files, directories and standard input, decompressed and sniffed;
//! - [`source`]: bytes in, normalised events out (captures to flows; logs to events);
//! - [`collect`]: every input read in parallel into one run in time order;
//! - [`hosts`]: one identity per host across IPs, names and accounts;
//! - [`profile`]: per-host behaviour profiles built from flows and events;
//! - [`baseline`]: the baseline file carried between nightly sweeps;
//! - [`alert`], [`detect`], [`incident`], [`analyze`]: detectors judge today
//!   against the baseline, alerts join into ranked incidents;
//! - [`seen`] and [`eval`]: alert ids of an earlier report, and alerts
//!   scored against a generated scenario's ground truth;
//! - [`report`]: writers for Zeek TSV, JSON Lines and text reports;
//! - [`synth`] and [`scenario`]: synthetic captures, and generated networks
//!   under attack with ground truth.

#![forbid(unsafe_code)]

pub mod alert;
pub mod analyze;
pub mod analyzer;
pub mod baseline;
pub mod collect;
pub mod config;
pub mod detect;
pub mod diag;
pub mod error;
pub mod eval;
pub mod hosts;
pub mod incident;
pub mod input;
pub mod model;
pub mod profile;
pub mod report;
pub mod scenario;
pub mod seen;
pub mod sigma;
pub mod source;
pub mod stats;
pub mod stored;
pub mod synth;

pub use error::Error;

/// Runs arbitrary bytes through the capture reader, the packet decoder, the
/// IP fragment reassembler,
/// protocol analyzers and a
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
    let mut reasm =
        source::ip_reassembly::Reassembler::new(source::ip_reassembly::ReassemblyConfig {
            max_bytes: 256 << 10,
            max_datagrams: 16,
            ..Default::default()
        });
    let mut analyzers = analyzer::Analyzers::new(
        analyzer::AnalyzerConfig {
            enabled: true,
            limits: analyzer::reassembly::Limits {
                max_flows: 64,
                global_bytes: 1 << 20,
                ..Default::default()
            },
        },
        file.clone(),
    );
    source::capture::read_capture(
        format,
        &mut window,
        &file,
        &mut diag,
        &mut counts,
        &mut |f| {
            if let Ok(p) = source::decode::decode(f) {
                if analyzers.interested(&p) {
                    let payload = if p.proto == source::decode::ip_proto::UDP {
                        source::decode::udp_payload(f)
                    } else {
                        source::decode::tcp_payload(f)
                    };
                    if let Some(payload) = payload {
                        analyzers.packet(&p, payload);
                    }
                }
                if p.fragment != source::decode::Fragment::Whole
                    && let Some((fp, piece)) = source::decode::fragment_piece(f)
                    && let Some(j) = reasm.add(&fp, &piece)
                    && let Some((jp, payload)) =
                        source::decode::decode_joined(&j.packet, j.proto, &j.bytes)
                    && analyzers.interested(&jp)
                {
                    analyzers.packet(&jp, payload);
                }
                table.add(&p, &mut table_diag);
            }
        },
    );
    let _ = table.finish_all();
    let _ = reasm.finish();
    let _ = analyzers.finish();
}

/// Runs arbitrary bytes through the reader of one log format of the
/// registry, named by its `--format` value, the way the pipeline reads a
/// file of that format, discarding the results: the entry point of the log
/// fuzz targets in `fuzz/` (`cargo fuzz run syslog`, `journal`, `winjson`,
/// `zeek_tsv`, `zeek_json`, `lanl_auth`, ...). Line formats are read
/// twice, once into events and once straight into ECS lines, since the two
/// paths parse separately; formats with a reader of their own (Zeek) go
/// through it, connection records into a throwaway flow store. Formats
/// recognised by a signature (EVTX) have targets of their own (`cargo fuzz
/// run evtx`) and are left alone here, as is an unknown name.
/// Never panics, by contract.
pub fn fuzz_log(format: &str, data: &[u8]) {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;
    let Some(format) = source::LogFormat::named(format) else {
        return;
    };
    if matches!(format.spec().sniff(), source::Sniff::Magic { .. }) {
        return;
    }
    let file: Arc<str> = Arc::from("fuzz");
    let progress = AtomicU64::new(0);
    let window = || input::ByteWindow::owned(data.to_vec());
    let ctx = source::Context::new(Some(2024), 0, Default::default(), None);
    match format.spec().reader(&ctx) {
        source::Reader::Whole(read) => {
            let store = collect::flow_store::FlowStore::default();
            let _ = read(&mut window(), &file, &store, &progress);
        }
        source::Reader::Lines { parser, .. } => {
            let parser = parser.as_ref();
            let _ = source::text_lines::read_lines(&mut window(), &file, parser, &progress);
            let _ = source::text_lines::read_lines_formatted(
                &mut window(),
                &file,
                parser,
                &progress,
                0,
                &mut |_| true,
            );
        }
    }
}

/// Runs arbitrary bytes through the baseline file decoder
/// ([`baseline::file::decode`] into a [`baseline::Baseline`]), discarding
/// the result: the entry point of the `baseline` fuzz target. The first
/// byte chooses how far in the bytes get: 0 hands the rest over as a whole
/// file; 1 wraps it as the payload of a well-formed uncompressed container
/// (so the postcard decoding is reached past the checksum); 2 wraps it as a
/// zstd payload whose decoded length is its first two bytes (so the
/// decompressor sees hostile frames); 3 compresses it first (so postcard
/// decoding is reached through decompression). Never panics, by contract.
pub fn fuzz_baseline(data: &[u8]) {
    use baseline::file::{FORMAT_VERSION, HEADER_LEN, MAGIC};
    let decode = |bytes: &[u8]| {
        let _ = baseline::file::decode::<baseline::Baseline>(std::path::Path::new("fuzz"), bytes);
    };
    let wrap = |flags: u32, payload: &[u8], decoded_len: u64| {
        let mut file = Vec::with_capacity(HEADER_LEN + payload.len());
        file.extend_from_slice(&MAGIC);
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.extend_from_slice(&flags.to_le_bytes());
        file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        file.extend_from_slice(&decoded_len.to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(payload);
        crc.update(&file);
        file.extend_from_slice(&crc.finalize().to_le_bytes());
        file.extend_from_slice(payload);
        decode(&file);
    };
    let Some((&mode, rest)) = data.split_first() else {
        return decode(data);
    };
    match mode % 4 {
        0 => decode(rest),
        1 => wrap(0, rest, rest.len() as u64),
        2 => {
            let (len, frame) = rest.split_at(rest.len().min(2));
            let mut le = [0u8; 2];
            le[..len.len()].copy_from_slice(len);
            wrap(1, frame, u64::from(u16::from_le_bytes(le)));
        }
        _ => {
            if let Ok(packed) = zstd::bulk::compress(rest, 1) {
                wrap(1, &packed, rest.len() as u64);
            }
        }
    }
}
