//! Conformance with Zeek: for traces in the corpus that Zeek's own test
//! suite has a conn.log baseline for, our records must equal Zeek's in
//! every field we produce (timestamps and uids are masked in the
//! baselines; `local_orig`/`local_resp` depend on Zeek's site config).
//!
//! Tunnel traces (GRE, Teredo, VXLAN, GTP, Geneve) are excluded: Zeek
//! decapsulates them and we do not yet, so the flows differ by design.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events, run_flows};
use lateral::input::InputPath;
use lateral::report::conn_log;
use std::sync::atomic::AtomicU64;

/// Columns compared: everything but ts (0), uid (1), local_orig (12), local_resp (13).
const COMPARED: [usize; 18] = [
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 19, 20, 21,
];

fn rows(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            COMPARED
                .iter()
                .map(|&i| cols.get(i).copied().unwrap_or("?").to_string())
                .collect()
        })
        .collect();
    out.sort();
    out
}

/// Baselines (btest name) and their traces under `pcap/format/zeek/`.
const CASES: [(&str, &str); 3] = [
    (
        "scripts.base.protocols.krb.krb-service-name",
        "krb/optional-service-name.pcap",
    ),
    (
        "scripts.base.protocols.rdp.rdpeudp-handshake-success",
        "rdp/rdpeudp-handshake-success.pcap",
    ),
    (
        "scripts.base.protocols.rdp.rdpeudp2-handshake-success",
        "rdp/rdpeudp2-handshake-success.pcap",
    ),
];

fn zeek_rows(flows: &[lateral::model::event::Flow]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for f in flows {
        conn_log::write_zeek_row(f, &mut out);
    }
    rows(&String::from_utf8(out).unwrap())
}

/// The baseline conn.log read through the Zeek log reader gives the same
/// records, on every compared field, as the capture read through the flow
/// table, and as the baseline's own text.
#[test]
fn baseline_conn_logs_read_as_the_captures_flows() {
    let Some(dir) = common::corpus_dir("baseline_conn_logs_read_as_the_captures_flows") else {
        return;
    };
    let opts = FlowRunOptions::default();
    for (baseline, trace) in CASES {
        let log = dir
            .join("zeek-logs/baseline")
            .join(baseline)
            .join("conn.log");
        let from_log = run_events(
            &[InputPath::File(log.clone())],
            Vec::new(),
            &opts,
            &LogOptions::default(),
            &AtomicU64::new(0),
        );
        assert!(from_log.inputs[0].diag.is_clean(), "{baseline}");
        let read = from_log.flows.to_vec().unwrap();
        assert!(!read.is_empty(), "{baseline}");
        let capture = run_flows(
            &[InputPath::File(dir.join("pcap/format/zeek").join(trace))],
            Vec::new(),
            &opts,
            &AtomicU64::new(0),
        );
        let captured = capture.flows.to_vec().unwrap();
        assert_eq!(zeek_rows(&read), zeek_rows(&captured), "{trace}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(zeek_rows(&read), rows(&text), "{baseline}");
    }
}

#[test]
fn records_match_zeek_baselines() {
    let Some(dir) = common::corpus_dir("records_match_zeek_baselines") else {
        return;
    };
    let opts = FlowRunOptions::default();
    for (baseline, trace) in CASES {
        let want = std::fs::read_to_string(
            dir.join("zeek-logs/baseline")
                .join(baseline)
                .join("conn.log"),
        )
        .unwrap();
        let path = dir.join("pcap/format/zeek").join(trace);
        let run = run_flows(
            &[InputPath::File(path)],
            Vec::new(),
            &opts,
            &AtomicU64::new(0),
        );
        let mut got = Vec::new();
        for f in &run.flows.to_vec().unwrap() {
            conn_log::write_zeek_row(f, &mut got);
        }
        assert_eq!(
            rows(&String::from_utf8(got).unwrap()),
            rows(&want),
            "{trace}"
        );
    }
}
