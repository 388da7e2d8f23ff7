//! Every capture in the shared corpus: packet counts match INVENTORY.md's
//! independent counts, nothing panics, and truncated or bit-flipped copies
//! are read up to the damage without panicking.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, run_flows};
use lateral::input::InputPath;
use std::path::Path;
use std::sync::atomic::AtomicU64;

fn opts() -> FlowRunOptions {
    FlowRunOptions::default()
}

fn read(path: &Path) -> lateral::collect::pipeline::FlowRun {
    run_flows(
        &[InputPath::File(path.to_path_buf())],
        Vec::new(),
        &opts(),
        &AtomicU64::new(0),
    )
}

#[test]
fn packet_counts_match_inventory() {
    let Some(dir) = common::corpus_dir("packet_counts_match_inventory") else {
        return;
    };
    let exp = common::expected(&dir);
    let caps = exp["captures"].as_object().expect("captures map");
    assert!(caps.len() > 900, "corpus lists {} captures", caps.len());
    let mut mismatches = Vec::new();
    for (rel, facts) in caps {
        let run = read(&dir.join(rel));
        let r = &run.inputs[0];
        match facts["packets"].as_u64() {
            Some(want) => {
                if r.counts.packets != want {
                    mismatches.push(format!(
                        "{rel}: read {} packets, inventory says {want} ({:?})",
                        r.counts.packets, r.end
                    ));
                }
                // A file the inventory calls truncated must be reported as partial, others not.
                let truncated = facts["truncated"].as_bool().unwrap_or(false);
                if truncated && r.is_complete() {
                    mismatches.push(format!("{rel}: truncated file reported complete"));
                }
            }
            None => {
                // Not a capture at all: must be reported, with no records.
                if r.error.is_none() || !run.flows.is_empty() {
                    mismatches.push(format!("{rel}: non-capture not reported ({:?})", r.error));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn lateral_captures_give_one_flow_per_conversation() {
    let Some(dir) = common::corpus_dir("lateral_captures_give_one_flow_per_conversation") else {
        return;
    };
    let exp = common::expected(&dir);
    for (rel, facts) in exp["captures"].as_object().expect("captures map") {
        if !rel.starts_with("pcap/lateral/") {
            continue;
        }
        let run = read(&dir.join(rel));
        let flows = run.flows.to_vec().unwrap();
        let tcp = flows.iter().filter(|f| f.ip_proto == 6).count() as u64;
        let udp = flows.iter().filter(|f| f.ip_proto == 17).count() as u64;
        // These captures are short (minutes): no timeout splits a conversation,
        // and no port is reused, so flows equal Wireshark's conversations.
        assert_eq!(
            tcp,
            facts["tcp_conversations"].as_u64().unwrap(),
            "{rel} tcp"
        );
        assert_eq!(
            udp,
            facts["udp_conversations"].as_u64().unwrap(),
            "{rel} udp"
        );
        let first = run.flows.first_ts().unwrap();
        assert_eq!(
            first.to_rfc3339(),
            facts["first_ts"].as_str().unwrap(),
            "{rel} first ts"
        );
    }
}

/// Cuts and flips bytes in real captures; every damaged copy must be read
/// up to the damage, never panic, and be reported as partial when cut.
#[test]
fn damaged_copies_never_panic() {
    let Some(dir) = common::corpus_dir("damaged_copies_never_panic") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let samples = [
        "pcap/lateral/otrf/covenant_copy_smb_CreateRequest_2020-09-22145302.cap",
        "pcap/lateral/otrf/schtask_create_2020-12-1907003032.pcapng",
        "pcap/lateral/401trg/20171220_smb_net_user.pcap",
    ];
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for rel in samples {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        let whole = read(&dir.join(rel));
        let whole_packets = whole.inputs[0].counts.packets;
        let cut_path = tmp.path().join("cut");
        let mut cut = 24;
        while cut < bytes.len() {
            std::fs::write(&cut_path, &bytes[..cut]).unwrap();
            let run = read(&cut_path);
            let r = &run.inputs[0];
            assert!(r.counts.packets <= whole_packets);
            assert!(
                !r.is_complete() || r.counts.packets > 0 || cut < 64,
                "{rel} cut at {cut}"
            );
            cut += 97 + (next() % 400) as usize;
        }
        for _ in 0..200 {
            let mut b = bytes.clone();
            for _ in 0..8 {
                let at = (next() % b.len() as u64) as usize;
                b[at] ^= 1 << (next() % 8);
            }
            std::fs::write(&cut_path, &b).unwrap();
            let _ = read(&cut_path);
        }
    }
}
