//! Every link type and IP feature the reader claims, end to end: captures
//! written with the project's own writer, read by the real pipeline, with
//! exact expected records.

use lateral::collect::pipeline::{FlowRunOptions, run_flows};
use lateral::input::InputPath;
use lateral::model::event::{ConnState, Flow, Timestamp};
use lateral::synth::frame::{FrameSpec, L4, Payload, build, build_ip};
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Two UDP packets A->B and B->A (one SF flow), as IP bytes.
fn udp_pair(a: &str, b: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (s, d, sp, dp, n) in [(a, b, 40000, 9999, 10), (b, a, 9999, 40000, 20)] {
        let mut v = Vec::new();
        build_ip(
            &FrameSpec::new(
                ip(s),
                ip(d),
                L4::Udp {
                    sport: sp,
                    dport: dp,
                },
            ),
            Payload::Fill { byte: 1, len: n },
            &mut v,
        );
        out.push(v);
    }
    out
}

fn read(bytes: Vec<u8>) -> Vec<Flow> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.pcap");
    std::fs::write(&p, bytes).unwrap();
    let run = run_flows(
        &[InputPath::File(p)],
        Vec::new(),
        &FlowRunOptions::default(),
        &AtomicU64::new(0),
    );
    assert!(run.is_clean(), "{:?}", run.inputs[0].problem());
    run.flows.to_vec().unwrap()
}

fn capture(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = CaptureWriter::new(
        Vec::new(),
        CaptureKind::Pcap {
            nanos: true,
            big_endian: true,
        },
        linktype,
        65535,
    )
    .unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(
            Timestamp(1_000_000_000 + i as i64 * 1000),
            f,
            f.len() as u32,
        )
        .unwrap();
    }
    w.finish().unwrap()
}

fn assert_udp_sf(flows: &[Flow], orig: &str) {
    assert_eq!(flows.len(), 1, "{flows:?}");
    let f = &flows[0];
    assert_eq!(
        (
            f.orig_h.to_string().as_str(),
            f.conn_state,
            f.orig_bytes,
            f.resp_bytes
        ),
        (orig, ConnState::SF, Some(10), Some(20))
    );
}

#[test]
fn cooked_raw_null_and_loopback_link_types() {
    let pairs = udp_pair("192.0.2.1", "192.0.2.2");
    // LINUX_SLL: 16-byte header, protocol last.
    let sll: Vec<Vec<u8>> = pairs
        .iter()
        .map(|p| {
            let mut f = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
            f.extend(p);
            f
        })
        .collect();
    assert_udp_sf(&read(capture(113, &sll)), "192.0.2.1");
    // LINUX_SLL2: 20-byte header, protocol first.
    let sll2: Vec<Vec<u8>> = pairs
        .iter()
        .map(|p| {
            let mut f = vec![
                0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0, 0, 0,
            ];
            f.extend(p);
            f
        })
        .collect();
    assert_udp_sf(&read(capture(276, &sll2)), "192.0.2.1");
    for lt in [101u32, 12, 228] {
        assert_udp_sf(&read(capture(lt, &pairs)), "192.0.2.1");
    }
    // BSD null in both host byte orders, and OpenBSD loopback (network order).
    for (lt, af) in [
        (0u32, 2u32.to_le_bytes()),
        (0, 2u32.to_be_bytes()),
        (108, 2u32.to_be_bytes()),
    ] {
        let frames: Vec<Vec<u8>> = pairs
            .iter()
            .map(|p| af.iter().copied().chain(p.iter().copied()).collect())
            .collect();
        assert_udp_sf(&read(capture(lt, &frames)), "192.0.2.1");
    }
    let v6 = udp_pair("2001:db8::1", "2001:db8::2");
    assert_udp_sf(&read(capture(229, &v6)), "2001:db8::1");
}

#[test]
fn vlan_stacks_and_unsupported_link_types() {
    let mut frames = Vec::new();
    for (s, d, sp, dp, n) in [
        ("192.0.2.1", "192.0.2.2", 40000, 9999, 10),
        ("192.0.2.2", "192.0.2.1", 9999, 40000, 20),
    ] {
        let mut spec = FrameSpec::new(
            ip(s),
            ip(d),
            L4::Udp {
                sport: sp,
                dport: dp,
            },
        );
        spec.vlans = vec![(0x88a8, 100), (0x8100, 200)];
        let mut f = Vec::new();
        build(&spec, Payload::Fill { byte: 0, len: n }, &mut f);
        frames.push(f);
    }
    assert_udp_sf(&read(capture(1, &frames)), "192.0.2.1");

    // An 802.11 capture: counted and named, not fatal, but a capture that
    // gives nothing is a warning and a partial run.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("wifi.pcap");
    std::fs::write(&p, capture(105, &frames)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["flows", "--stats"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unsupported link type IEEE802_11 (105)"),
        "{err}"
    );
    assert!(
        err.contains("wifi.pcap: nothing read from this pcap input: all 2 record(s) were skipped"),
        "{err}"
    );
}

#[test]
fn ipv4_options_fragments_and_ipv6_extension_headers() {
    // IPv4 with 4 bytes of options (IHL 6) carrying UDP.
    let mut ip4 = Vec::new();
    build_ip(
        &FrameSpec::new(
            ip("192.0.2.1"),
            ip("192.0.2.2"),
            L4::Udp {
                sport: 5000,
                dport: 6000,
            },
        ),
        Payload::Fill { byte: 3, len: 12 },
        &mut ip4,
    );
    let mut with_opts = vec![0x46, 0];
    with_opts.extend_from_slice(&((ip4.len() + 4) as u16).to_be_bytes());
    with_opts.extend_from_slice(&ip4[4..20]);
    with_opts.extend_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
    with_opts.extend_from_slice(&ip4[20..]);
    let flows = read(capture(101, &[with_opts]));
    assert_eq!(
        (flows[0].orig_p, flows[0].resp_p, flows[0].orig_ip_bytes),
        (5000, 6000, 44)
    );

    // A UDP datagram of 3000 bytes in three IPv4 fragments: one flow, three packets.
    let mut whole = Vec::new();
    build_ip(
        &FrameSpec::new(
            ip("192.0.2.1"),
            ip("192.0.2.2"),
            L4::Udp {
                sport: 7000,
                dport: 514,
            },
        ),
        Payload::Fill { byte: 4, len: 3000 },
        &mut whole,
    );
    let body = &whole[20..];
    let mut frags = Vec::new();
    for (i, chunk) in body.chunks(1480).enumerate() {
        let mut h = whole[..20].to_vec();
        h[2..4].copy_from_slice(&((20 + chunk.len()) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&77u16.to_be_bytes());
        let more = if (i + 1) * 1480 < body.len() {
            0x2000
        } else {
            0
        };
        h[6..8].copy_from_slice(&((more | (i * 1480 / 8)) as u16).to_be_bytes());
        h.extend_from_slice(chunk);
        frags.push(h);
    }
    assert_eq!(frags.len(), 3);
    let flows = read(capture(101, &frags));
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert_eq!(
        (
            flows[0].orig_pkts,
            flows[0].orig_bytes,
            flows[0].orig_ip_bytes
        ),
        (3, Some(3000), 3008 + 60)
    );

    // IPv6 with hop-by-hop and destination-options headers before TCP.
    let mut tcp6 = Vec::new();
    build_ip(
        &FrameSpec::new(
            ip("2001:db8::1"),
            ip("2001:db8::2"),
            L4::Tcp {
                sport: 50000,
                dport: 22,
                seq: 1,
                ack: 0,
                flags: 0x02,
                window: 100,
            },
        ),
        Payload::Bytes(&[]),
        &mut tcp6,
    );
    let mut ext = tcp6[..40].to_vec();
    ext[6] = 0; // next header: hop-by-hop
    ext[4..6].copy_from_slice(&((tcp6.len() - 40 + 16) as u16).to_be_bytes());
    ext.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop -> destination options
    ext.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // destination options -> TCP
    ext.extend_from_slice(&tcp6[40..]);
    let flows = read(capture(229, &[ext]));
    assert_eq!(
        (
            flows[0].resp_p,
            flows[0].conn_state,
            flows[0].history.as_str()
        ),
        (22, ConnState::S0, "S")
    );
}
