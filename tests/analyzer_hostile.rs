//! The capture analyzers under hostile input: floods of half-open SMB
//! sessions and of out-of-order segments stay within the connection and
//! byte caps (counted as state held, not as the process's memory), and
//! arbitrary or mutated bytes reach every parser without a panic.

mod common;

use lateral::analyzer::reassembly::Limits;
use lateral::analyzer::{AnalyzerConfig, Analyzers};
use lateral::model::event::Timestamp;
use lateral::source::decode::{Fragment, Packet, ip_proto, tcp_flags};
use std::sync::Arc;

fn packet(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    t: i64,
) -> Packet {
    let mut s = [0u8; 16];
    let mut d = [0u8; 16];
    s[..4].copy_from_slice(&src);
    d[..4].copy_from_slice(&dst);
    Packet {
        ts: Timestamp(t),
        src: s,
        dst: d,
        v6: false,
        proto: ip_proto::TCP,
        sport,
        dport,
        flags,
        seq,
        ack: 0,
        window: 0,
        payload_len: 0,
        ip_len: 0,
        fragment: Fragment::Whole,
        wire_len: 0,
        offset: 0,
    }
}

/// A NetBIOS session message header announcing an SMB2 message of `len`
/// bytes, then the SMB2 signature: a message that never completes.
fn smb_head(len: u32) -> Vec<u8> {
    let mut m = vec![0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    m.extend_from_slice(b"\xfeSMB");
    m.extend_from_slice(&[0x40, 0]);
    m.resize(1400, 0x41);
    m
}

fn limits() -> Limits {
    Limits {
        max_flows: 1000,
        global_bytes: 1 << 20,
        max_message: 64 << 10,
        max_held_segments: 8,
    }
}

#[test]
fn a_flood_of_half_open_smb_sessions_stays_within_the_caps() {
    let lim = limits();
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: lim,
        },
        Arc::from("flood"),
    );
    let head = smb_head(60_000);
    let mut most = (0, 0);
    // 20 000 clients each open a session and send the start of a large
    // message, never its end and never a FIN.
    for i in 0..20_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let t = i64::from(i) * 1000;
        a.packet(
            &packet(src, 40000, [10, 9, 9, 9], 445, tcp_flags::SYN, 7, t),
            &[],
        );
        let p = packet(
            src,
            40000,
            [10, 9, 9, 9],
            445,
            tcp_flags::ACK | tcp_flags::PSH,
            8,
            t + 1,
        );
        a.packet(&p, &head);
        let (flows, bytes) = a.state();
        most = (most.0.max(flows), most.1.max(bytes));
    }
    assert!(most.0 <= lim.max_flows, "{} connections held", most.0);
    assert!(most.1 <= lim.global_bytes, "{} bytes held", most.1);
    // Held up to the caps: the flood reached them, and the rest was counted.
    assert_eq!(most.0, lim.max_flows);
    let (events, c) = a.finish();
    assert!(events.is_empty());
    assert_eq!(c.flows, lim.max_flows as u64);
    // Each refused client is counted at its SYN and again at its data.
    assert_eq!(c.reassembly.flows_refused, 2 * 19_000);
    assert!(c.peak_bytes <= lim.global_bytes as u64);
    // 1000 × 1400 bytes do not fit in 512 KiB of message buffers.
    assert!(c.reassembly.budget_drops > 0, "{c:?}");
}

#[test]
fn out_of_order_segments_that_never_fill_their_hole_are_bounded_and_counted() {
    let lim = limits();
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: lim,
        },
        Arc::from("holes"),
    );
    let seg = vec![0x42u8; 1000];
    let mut most = 0;
    for c in 0..200u32 {
        let src = [10, 1, (c >> 8) as u8, c as u8];
        a.packet(
            &packet(src, 40000, [10, 9, 9, 9], 135, tcp_flags::SYN, 0, 0),
            &[],
        );
        // Every segment leaves a hole of 1000 bytes before it.
        for k in 0..50u32 {
            let p = packet(
                src,
                40000,
                [10, 9, 9, 9],
                135,
                tcp_flags::ACK,
                2001 + k * 2000,
                1,
            );
            a.packet(&p, &seg);
            most = most.max(a.state().1);
        }
    }
    assert!(most <= lim.global_bytes, "{most} bytes held");
    let (_, c) = a.finish();
    assert!(c.reassembly.gaps > 0 && c.reassembly.gap_bytes >= 1000 * c.reassembly.gaps);
}

/// A small deterministic generator (xorshift), so failures replay.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn arbitrary_bytes_reach_every_parser_without_a_panic() {
    for seed in 1..300u64 {
        let b = bytes(seed, (seed as usize * 37) % 3000);
        for kind in ["smb", "dcerpc", "ntlm", "stream"] {
            lateral::analyzer::fuzz(kind, &b);
        }
    }
}

#[test]
fn mutated_corpus_captures_pass_the_analyzers_without_a_panic() {
    let Some(dir) = common::corpus_dir("mutated_corpus_captures_pass_the_analyzers") else {
        return;
    };
    for rel in [
        "otrf/covenant_sharpsc_create_dcerpc_smb_svcctl_2020-08-06022635.cap",
        "401trg/20171220_smb_net_user.pcap",
        "otrf/covenant_dcom_registerxll_2020-09-18145959.cap",
    ] {
        let Ok(orig) = std::fs::read(dir.join("pcap/lateral").join(rel)) else {
            continue;
        };
        lateral::fuzz_capture(&orig);
        // Flip bytes past the file header: lengths, offsets, counts inside
        // the SMB and RPC messages go wrong in every way.
        for seed in 1..40u64 {
            let mut m = orig.clone();
            let noise = bytes(seed, 64);
            for (i, x) in noise.iter().enumerate() {
                let at = 24
                    + (usize::from(*x) * 7919 + i * 104_729 + seed as usize * 31) % (m.len() - 24);
                if let Some(b) = m.get_mut(at) {
                    *b ^= noise[(i + 1) % noise.len()] | 1;
                }
            }
            lateral::fuzz_capture(&m);
        }
    }
}
