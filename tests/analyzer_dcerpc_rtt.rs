//! `dce_rpc.log`'s `rtt` as Zeek measures it: from the request's last
//! fragment to the response's last fragment. A request sent in two
//! fragments a second apart (a task's XML, a large stub) must not count
//! the second between them as the server's time.

use lateral::analyzer::reassembly::Limits;
use lateral::analyzer::{AnalyzerConfig, Analyzers};
use lateral::model::event::Timestamp;
use lateral::source::decode::{Fragment, Packet, ip_proto, tcp_flags};
use std::sync::Arc;

const CLIENT: [u8; 4] = [10, 1, 1, 5];
const SERVER: [u8; 4] = [10, 1, 1, 50];
const SECOND: i64 = 1_000_000_000;

fn packet(from_client: bool, flags: u8, seq: u32, t: i64, len: usize) -> Packet {
    let (src, sport, dst, dport) = if from_client {
        (CLIENT, 50_000, SERVER, 135)
    } else {
        (SERVER, 135, CLIENT, 50_000)
    };
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
        payload_len: u32::try_from(len).unwrap(),
        ip_len: 0,
        fragment: Fragment::Whole,
        wire_len: 0,
        offset: 0,
    }
}

/// A little-endian DCE-RPC PDU: the 16-byte common header, then `body`.
fn pdu(ptype: u8, flags: u8, call_id: u32, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(16 + body.len()).unwrap();
    let mut p = vec![5, 0, ptype, flags, 0x10, 0, 0, 0];
    p.extend_from_slice(&len.to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes());
    p.extend_from_slice(&call_id.to_le_bytes());
    p.extend_from_slice(body);
    p
}

/// svcctl's interface UUID (367abb81-9844-35f1-ad32-98f038001003) as the
/// wire holds it, then its version 2.0.
const SVCCTL: [u8; 20] = [
    0x81, 0xbb, 0x7a, 0x36, 0x44, 0x98, 0xf1, 0x35, 0xad, 0x32, 0x98, 0xf0, 0x38, 0x00, 0x10, 0x03,
    2, 0, 0, 0,
];

/// NDR's transfer syntax (8a885d04-1ceb-11c9-9fe8-08002b104860 v2).
const NDR: [u8; 20] = [
    0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
    2, 0, 0, 0,
];

fn bind() -> Vec<u8> {
    let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0];
    b.extend_from_slice(&[0, 0, 1, 0]);
    b.extend_from_slice(&SVCCTL);
    b.extend_from_slice(&NDR);
    pdu(11, 3, 1, &b)
}

fn bind_ack() -> Vec<u8> {
    let mut b = vec![0xb8, 0x10, 0xb8, 0x10, 0x53, 0xf0, 0, 0];
    let addr = b"135\0";
    b.extend_from_slice(&u16::try_from(addr.len()).unwrap().to_le_bytes());
    b.extend_from_slice(addr);
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&NDR);
    pdu(12, 3, 1, &b)
}

/// A request fragment of svcctl `OpenSCManagerW` (opnum 15) on context 0.
fn request(flags: u8, call_id: u32) -> Vec<u8> {
    let mut b = vec![0x40, 0, 0, 0, 0, 0, 15, 0];
    b.resize(8 + 64, 0x41);
    pdu(0, flags, call_id, &b)
}

fn response(call_id: u32) -> Vec<u8> {
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.resize(8 + 24, 0);
    pdu(2, 3, call_id, &b)
}

/// Runs the exchange and gives the `rtt` label of each `zeek.dce_rpc`
/// call, in order.
fn rtts(exchange: &[(bool, i64, Vec<u8>)]) -> Vec<Option<String>> {
    let mut a = Analyzers::new(
        AnalyzerConfig {
            enabled: true,
            limits: Limits {
                max_flows: 100,
                global_bytes: 1 << 20,
                max_message: 64 << 10,
                max_held_segments: 8,
            },
        },
        Arc::from("rtt"),
    );
    a.packet(&packet(true, tcp_flags::SYN, 99, 0, 0), &[]);
    a.packet(
        &packet(false, tcp_flags::SYN | tcp_flags::ACK, 499, 1, 0),
        &[],
    );
    let (mut cseq, mut sseq) = (100u32, 500u32);
    for (from_client, t, bytes) in exchange {
        let seq = if *from_client { &mut cseq } else { &mut sseq };
        a.packet(
            &packet(*from_client, tcp_flags::ACK, *seq, *t, bytes.len()),
            bytes,
        );
        *seq = seq.wrapping_add(u32::try_from(bytes.len()).unwrap());
    }
    let out = a.finish();
    out.events
        .iter()
        .filter(|e| e.rpc_operation().is_some())
        .map(|e| e.label("rtt").map(str::to_string))
        .collect()
}

#[test]
fn rtt_runs_from_the_requests_last_fragment() {
    // First fragment at 1 s, last at 2 s, the response at 2.25 s.
    let got = rtts(&[
        (true, SECOND / 10, bind()),
        (false, SECOND / 5, bind_ack()),
        (true, SECOND, request(1, 2)),
        (true, 2 * SECOND, request(2, 2)),
        (false, 2 * SECOND + SECOND / 4, response(2)),
    ]);
    assert_eq!(got, vec![Some("0.250000".to_string())]);
}

#[test]
fn a_single_fragment_request_is_timed_from_itself() {
    let got = rtts(&[
        (true, SECOND / 10, bind()),
        (false, SECOND / 5, bind_ack()),
        (true, SECOND, request(3, 7)),
        (false, SECOND + SECOND / 2, response(7)),
    ]);
    assert_eq!(got, vec![Some("0.500000".to_string())]);
}

#[test]
fn a_last_fragment_of_another_call_moves_nothing() {
    // The stray last fragment names call 9; call 2's time is unchanged.
    let got = rtts(&[
        (true, SECOND / 10, bind()),
        (false, SECOND / 5, bind_ack()),
        (true, SECOND, request(3, 2)),
        (true, 2 * SECOND, request(2, 9)),
        (false, 3 * SECOND, response(2)),
    ]);
    assert_eq!(got, vec![Some("2.000000".to_string())]);
}
