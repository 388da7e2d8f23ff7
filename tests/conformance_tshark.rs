//! Conformance with Wireshark: where `tshark` is installed (CI installs
//! it), TCP and UDP conversation counts and per-conversation packet totals
//! from `tshark -q -z conv,tcp -z conv,udp` must equal ours on the corpus.
//!
//! Differences that are by design, and so excluded:
//! - A tshark conversation is an unordered address/port pair over the whole
//!   capture; a Zeek-style flow ends on timeouts or port reuse. The captures
//!   compared here are minutes long with no port reuse, so they coincide;
//!   flows sharing a pair are summed before comparing anyway.
//! - tshark also counts ports quoted inside ICMP errors as conversations;
//!   the lateral captures carry none (INVENTORY.md says so).
//! - Captures with tunnels (Teredo, GRE, VXLAN) are left out: tshark reports
//!   the inner conversations, we report the outer flow, as Zeek would before
//!   its tunnel analyzers.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, run_flows};
use lateral::input::InputPath;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicU64;

/// (proto, unordered endpoint pair) -> sorted per-direction packet counts.
type Convs = BTreeMap<(String, String, String), (u64, u64)>;

fn tshark_convs(path: &Path) -> Option<Convs> {
    let out = Command::new("tshark")
        .args(["-n", "-q", "-z", "conv,tcp", "-z", "conv,udp", "-r"])
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut convs = Convs::new();
    let mut proto = "";
    for line in text.lines() {
        if line.starts_with("TCP Conversations") {
            proto = "tcp";
        } else if line.starts_with("UDP Conversations") {
            proto = "udp";
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() > 9 && t[1] == "<->" {
            let (a, b) = if t[0] <= t[2] {
                (t[0], t[2])
            } else {
                (t[2], t[0])
            };
            let f1: u64 = t[3].parse().ok()?;
            let f2: u64 = t[6].parse().ok()?;
            convs.insert(
                (proto.to_string(), a.to_string(), b.to_string()),
                (f1.min(f2), f1.max(f2)),
            );
        }
    }
    Some(convs)
}

fn our_convs(path: &Path) -> Convs {
    let opts = FlowRunOptions::default();
    let run = run_flows(
        &[InputPath::File(path.to_path_buf())],
        Vec::new(),
        &opts,
        &AtomicU64::new(0),
    );
    let mut sums: BTreeMap<(String, String, String), (u64, u64, String)> = BTreeMap::new();
    for f in &run.flows.to_vec().unwrap() {
        let proto = match f.ip_proto {
            6 => "tcp",
            17 => "udp",
            _ => continue,
        };
        let a = format!("{}:{}", f.orig_h, f.orig_p);
        let b = format!("{}:{}", f.resp_h, f.resp_p);
        let (lo, hi, lo_pkts, hi_pkts) = if a <= b {
            (a, b, f.orig_pkts, f.resp_pkts)
        } else {
            (b, a, f.resp_pkts, f.orig_pkts)
        };
        let e = sums
            .entry((proto.to_string(), lo, hi))
            .or_insert((0, 0, String::new()));
        e.0 += lo_pkts;
        e.1 += hi_pkts;
    }
    sums.into_iter()
        .map(|(k, (x, y, _))| (k, (x.min(y), x.max(y))))
        .collect()
}

#[test]
fn conversations_match_tshark() {
    let Some(dir) = common::corpus_dir("conversations_match_tshark") else {
        return;
    };
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("SKIPPED conversations_match_tshark: tshark is not installed");
        return;
    }
    let exp = common::expected(&dir);
    let mut checked = 0;
    let mut problems = Vec::new();
    for rel in exp["captures"].as_object().expect("captures").keys() {
        if !rel.starts_with("pcap/lateral/") {
            continue;
        }
        let path = dir.join(rel);
        let Some(theirs) = tshark_convs(&path) else {
            problems.push(format!("{rel}: tshark output not understood"));
            continue;
        };
        let ours = our_convs(&path);
        if theirs != ours {
            let only_theirs: Vec<_> = theirs
                .iter()
                .filter(|(k, v)| ours.get(*k) != Some(v))
                .collect();
            let only_ours: Vec<_> = ours
                .iter()
                .filter(|(k, v)| theirs.get(*k) != Some(v))
                .collect();
            problems.push(format!(
                "{rel}: tshark {only_theirs:?} vs lateral {only_ours:?}"
            ));
        }
        checked += 1;
    }
    assert!(checked >= 17, "only {checked} captures compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The project's generated captures are valid: Wireshark finds no
/// malformed packet in them.
#[test]
fn generated_captures_have_no_malformed_packets() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("SKIPPED generated_captures_have_no_malformed_packets: tshark is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bulk = dir.path().join("bulk.pcap");
    let spec = lateral::synth::bulk::BulkSpec {
        flows: 300,
        packets: 10_000,
        concurrent: 40,
        ..Default::default()
    };
    lateral::synth::bulk::write_bulk(&spec, std::fs::File::create(&bulk).unwrap()).unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/demo.pcap");
    for cap in [demo.as_path(), bulk.as_path()] {
        let out = Command::new("tshark")
            .args(["-n", "-q", "-z", "expert,error", "-r"])
            .arg(cap)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "tshark failed on {}", cap.display());
        assert!(!text.contains("Malformed"), "{}: {text}", cap.display());
    }
}
