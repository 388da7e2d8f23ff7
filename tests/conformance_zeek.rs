//! Conformance with Zeek: for traces in the corpus that Zeek's own test
//! suite has a conn.log baseline for, our records must equal Zeek's in
//! every field we produce (timestamps and uids are masked in the
//! baselines; `local_orig`/`local_resp` depend on Zeek's site config).
//!
//! Tunnel traces (GRE, Teredo, VXLAN, GTP, Geneve) are excluded: Zeek
//! decapsulates them and we do not yet, so the flows differ by design.

mod common;

use lateral::input::InputPath;
use lateral::pipeline::{FlowRunOptions, run_flows};
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

#[test]
fn records_match_zeek_baselines() {
    let Some(dir) = common::corpus_dir("records_match_zeek_baselines") else {
        return;
    };
    let cases = [
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
    let opts = FlowRunOptions::default();
    for (baseline, trace) in cases {
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
