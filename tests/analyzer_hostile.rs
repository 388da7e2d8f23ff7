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
    let out = a.finish();
    let (events, c) = (out.events, out.counters);
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
    let c = a.finish().counters;
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
        for kind in ["smb", "dcerpc", "ntlm", "stream", "app"] {
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
        "otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng",
        "../format/zeek/krb/kinit.pcap",
        "../format/zeek/ssh/sshguess.pcap",
        "../format/zeek/rdp/rdp-to-ssl.pcap",
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

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, t: i64) -> Packet {
    let mut p = packet(src, sport, dst, dport, 0, 0, t);
    p.proto = ip_proto::UDP;
    p
}

/// The first bytes of each application protocol, so garbage after them
/// reaches the parsers behind the port or sniff that picks them.
const HEADS: [&[u8]; 6] = [
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.0\r\n",
    &[0x16, 3, 1, 0x40, 0, 1, 0, 0x3f, 0xfc, 3, 3],
    &[3, 0, 0, 0x2c, 0x27, 0xe0, 0, 0, 0, 0, 0],
    &[0, 0, 0x10, 0, 0x6a, 0x82, 0x0f, 0xfc, 0x30, 0x82],
    &[0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 2, 1, 1],
];

#[test]
fn truncated_and_garbage_application_streams_never_panic_and_stay_bounded() {
    let lim = limits();
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: lim,
        },
        Arc::from("apps"),
    );
    let ports = [
        80u16, 22, 443, 3389, 88, 389, 8080, 5985, 636, 3268, 53, 40_000,
    ];
    let mut most = 0;
    let mut n = 0u32;
    for seed in 1..400u64 {
        let port = ports[seed as usize % ports.len()];
        let head = HEADS[seed as usize % HEADS.len()];
        let src = [10, 2, (seed >> 8) as u8, seed as u8];
        let t = seed as i64 * 1_000_000;
        a.packet(
            &packet(src, 41000, [10, 9, 9, 9], port, tcp_flags::SYN, 99, t),
            &[],
        );
        let mut seq = 100u32;
        let mut body = head.to_vec();
        body.extend(bytes(seed, (seed as usize * 53) % 5000));
        // Cut anywhere: some streams end inside the head.
        body.truncate((seed as usize * 13) % (body.len() + 1));
        for (i, piece) in body.chunks(700).enumerate() {
            let from_server = i % 3 == 2;
            let p = if from_server {
                packet(
                    [10, 9, 9, 9],
                    port,
                    src,
                    41000,
                    tcp_flags::ACK,
                    5000 + i as u32 * 700,
                    t + 1,
                )
            } else {
                packet(src, 41000, [10, 9, 9, 9], port, tcp_flags::ACK, seq, t + 1)
            };
            if !from_server {
                seq = seq.wrapping_add(piece.len() as u32);
            }
            a.packet(&p, piece);
            most = most.max(a.state().1);
            n += 1;
        }
        // Kerberos over UDP: garbage datagrams both ways.
        a.packet(&udp(src, 50000, [10, 9, 9, 9], 88, t), &body);
        a.packet(
            &udp([10, 9, 9, 9], 88, src, 50000, t + 2),
            &bytes(seed + 7, 300),
        );
        // DNS over UDP: a query head with garbage after it, cut anywhere,
        // and a garbage answer with the query's id and the response bit.
        let mut q = vec![seed as u8, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend(bytes(seed + 11, (seed as usize * 7) % 600));
        q.truncate((seed as usize * 17) % (q.len() + 1));
        a.packet(&udp(src, 50001, [10, 9, 9, 9], 53, t), &q);
        let mut r = vec![seed as u8, 1, 0x81, 0x80];
        r.extend(bytes(seed + 13, (seed as usize * 11) % 700));
        a.packet(&udp([10, 9, 9, 9], 53, src, 50001, t + 3), &r);
    }
    assert!(n > 400);
    assert!(most <= lim.global_bytes, "{most} bytes held");
    let out = a.finish();
    let c = out.counters;
    // Every protocol was tried, and what did not parse was counted.
    for name in ["http", "ssh", "tls", "rdp", "kerberos", "ldap", "dns"] {
        let pa = c.per_analyzer.get(name).copied().unwrap_or_default();
        assert!(pa.connections > 0, "{name}: {c:?}");
    }
    let errors: u64 = c.per_analyzer.values().map(|p| p.parse_errors).sum();
    assert!(errors > 0, "{c:?}");
    assert!(c.udp_datagrams >= 399, "{c:?}");
    assert!(out.records.len() <= c.per_analyzer.values().map(|p| p.records).sum::<u64>() as usize);
}

#[test]
fn a_flood_of_half_finished_tls_handshakes_stays_within_the_byte_cap() {
    let lim = Limits {
        global_bytes: 256 << 10,
        ..limits()
    };
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: lim,
        },
        Arc::from("tls-flood"),
    );
    // Each client announces a 16 KiB handshake record and sends 1400 bytes of it.
    let mut hello = vec![0x16, 3, 1, 0x40, 0, 1, 0, 0x3f, 0xfc, 3, 3];
    hello.resize(1400, 0x41);
    let mut most = 0;
    for i in 0..3000u32 {
        let src = [10, 3, (i >> 8) as u8, i as u8];
        let t = i64::from(i) * 1000;
        a.packet(
            &packet(src, 40001, [10, 9, 9, 8], 443, tcp_flags::SYN, 1, t),
            &[],
        );
        a.packet(
            &packet(src, 40001, [10, 9, 9, 8], 443, tcp_flags::ACK, 2, t + 1),
            &hello,
        );
        most = most.max(a.state().1);
    }
    assert!(most <= lim.global_bytes, "{most} bytes held");
    let c = a.finish().counters;
    let tls = c.per_analyzer.get("tls").copied().unwrap_or_default();
    assert_eq!(tls.connections, 1000, "{c:?}");
    // Each refused client is counted at its SYN and again at its data.
    assert_eq!(tls.refused, 2 * 2000, "{c:?}");
    // 1000 × 1400 bytes do not fit in 128 KiB of analyzer buffers.
    assert!(
        c.reassembly.budget_drops > 0 && tls.bytes_skipped > 0,
        "{c:?}"
    );
}

#[test]
fn a_flood_of_endless_ssh_version_lines_stays_within_the_byte_cap() {
    let lim = limits();
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: lim,
        },
        Arc::from("ssh-flood"),
    );
    // Each server sends a version line that never ends: the parser waits
    // for its end, holding what came.
    let mut line = b"SSH-2.0-".to_vec();
    line.resize(1400, b'A');
    let mut most = 0;
    for i in 0..1000u32 {
        let srv = [10, 4, (i >> 8) as u8, i as u8];
        let t = i64::from(i) * 1000;
        a.packet(
            &packet([10, 9, 9, 7], 40002, srv, 22, tcp_flags::SYN, 1, t),
            &[],
        );
        for k in 0..10u32 {
            a.packet(
                &packet(
                    srv,
                    22,
                    [10, 9, 9, 7],
                    40002,
                    tcp_flags::ACK,
                    100 + k * 1400,
                    t + 1,
                ),
                &line,
            );
        }
        most = most.max(a.state().1);
    }
    assert!(most <= lim.global_bytes, "{most} bytes held");
    let c = a.finish().counters;
    let ssh = c.per_analyzer.get("ssh").copied().unwrap_or_default();
    assert_eq!(ssh.connections, 1000, "{c:?}");
    // 1000 × 14 000 clear bytes do not fit in 512 KiB: the rest is counted.
    assert!(ssh.bytes_skipped > 0, "{c:?}");
    assert_eq!(ssh.bytes, 1000 * 14_000, "{c:?}");
}

#[test]
fn a_flood_of_unanswered_dns_queries_stays_within_the_byte_cap() {
    let lim = limits();
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: lim,
        },
        Arc::from("dns-flood"),
    );
    let mut most = 0;
    let mut sent = 0u64;
    for i in 0..40_000u32 {
        let src = [10, 3, 0, (i % 16) as u8];
        let mut q = vec![(i >> 8) as u8, i as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(&[1, b'x', 0, 0, 1, 0, 1]);
        a.packet(
            &udp(
                src,
                40_000 + (i % 7) as u16,
                [10, 9, 9, 9],
                53,
                1_000 + i64::from(i),
            ),
            &q,
        );
        sent += 1;
        most = most.max(a.state().1);
    }
    assert!(most <= lim.global_bytes, "{most} bytes held");
    let out = a.finish();
    let dns = out
        .counters
        .per_analyzer
        .get("dns")
        .copied()
        .unwrap_or_default();
    // Every query is logged once, unanswered: waiting, pushed out by the
    // per-connection cap, or refused by the global cap and counted.
    assert_eq!(dns.records, sent, "{dns:?}");
    assert_eq!(out.records.len() as u64, sent);
    assert!(dns.refused > 0, "{dns:?}");
}
