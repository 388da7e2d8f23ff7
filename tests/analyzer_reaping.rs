//! Idle connections are reaped by capture time: a capture spread over
//! three hours with a new SMB session every second, each abandoned (half
//! open, or stopped in the middle of a message, never a FIN), keeps only
//! the sessions of its last five minutes (Zeek's `tcp_inactivity_timeout`)
//! in the analyzers, through the library and through `lateral flows --stats`.
//! Sessions that end without a FIN from each side are let go sooner: at
//! once on a RST, and five seconds after their last packet when only one
//! side sent a FIN (Zeek's `tcp_connection_linger`).

mod common;

use lateral::analyzer::{AnalyzerConfig, Analyzers, IDLE_SECS, LINGER_SECS};
use lateral::model::event::Timestamp;
use lateral::source::decode::{Fragment, Packet, ip_proto, tcp_flags};
use lateral::synth::frame::{self, FrameSpec, L4, Payload};
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Sessions: one a second for three hours.
const SESSIONS: u32 = 3 * 3600;
const SERVER: [u8; 4] = [10, 9, 9, 9];
const SEC: i64 = 1_000_000_000;
/// Most sessions that may be held at once: the last [`IDLE_SECS`] of them,
/// plus the 30 s between two looks for idle ones, plus one.
const BOUND: u64 = IDLE_SECS as u64 + 30 + 1;

/// The start of an SMB2 message announced as 60,000 bytes: never completed.
fn smb_head() -> Vec<u8> {
    let len = 60_000u32;
    let mut m = vec![0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    m.extend_from_slice(b"\xfeSMB");
    m.extend_from_slice(&[0x40, 0]);
    m.resize(1400, 0x41);
    m
}

/// One packet of the capture: (time, from client, flags, seq, ack, payload).
type Step = (i64, bool, u8, u32, u32, bool);

/// Session `i`: every third one is a lone SYN; the others are a handshake
/// and the first segment of a message that never completes.
fn session(i: u32) -> Vec<Step> {
    let t = i64::from(i) * SEC;
    if i.is_multiple_of(3) {
        return vec![(t, true, tcp_flags::SYN, 1000, 0, false)];
    }
    vec![
        (t, true, tcp_flags::SYN, 1000, 0, false),
        (
            t + 1_000_000,
            false,
            tcp_flags::SYN | tcp_flags::ACK,
            5000,
            1001,
            false,
        ),
        (t + 2_000_000, true, tcp_flags::ACK, 1001, 5001, false),
        (
            t + 3_000_000,
            true,
            tcp_flags::ACK | tcp_flags::PSH,
            1001,
            5001,
            true,
        ),
    ]
}

fn client(i: u32) -> [u8; 4] {
    [10, 1, (i >> 8) as u8, i as u8]
}

fn sport(i: u32) -> u16 {
    40_000 + (i % 20_000) as u16
}

fn packet(i: u32, s: &Step) -> Packet {
    let (t, from_client, flags, seq, ack, _) = *s;
    let (a, b, pa, pb) = if from_client {
        (client(i), SERVER, sport(i), 445)
    } else {
        (SERVER, client(i), 445, sport(i))
    };
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src[..4].copy_from_slice(&a);
    dst[..4].copy_from_slice(&b);
    Packet {
        ts: Timestamp(t),
        src,
        dst,
        v6: false,
        proto: ip_proto::TCP,
        sport: pa,
        dport: pb,
        flags,
        seq,
        ack,
        window: 0,
        payload_len: 0,
        ip_len: 0,
        fragment: Fragment::Whole,
        wire_len: 0,
        offset: 0,
    }
}

#[test]
fn abandoned_smb_sessions_over_hours_keep_bounded_analyzer_state() {
    let mut a = Analyzers::new(AnalyzerConfig::default(), Arc::from("abandoned"));
    let head = smb_head();
    let mut most = (0usize, 0usize);
    for i in 0..SESSIONS {
        for s in session(i) {
            a.packet(&packet(i, &s), if s.5 { &head } else { &[] });
            let (flows, bytes) = a.state();
            most = (most.0.max(flows), most.1.max(bytes));
        }
    }
    let (left, _) = a.state();
    let c = a.finish().counters;
    assert_eq!(c.flows, u64::from(SESSIONS), "{c:?}");
    // Every session not still within its five minutes at the end was reaped.
    assert_eq!(c.reaped + left as u64, c.flows, "{c:?}");
    assert!(c.peak_flows <= BOUND, "peak {} > {BOUND}", c.peak_flows);
    assert_eq!(c.peak_flows, most.0 as u64);
    // Not reaped early: five minutes of sessions were held at once.
    assert!(c.peak_flows > IDLE_SECS as u64, "peak {}", c.peak_flows);
    // Two thirds of the held sessions hold a 1,400-byte message head.
    assert!(most.1 <= BOUND as usize * 1400, "{} bytes held", most.1);
    assert!(most.1 >= 200 * 1400, "{} bytes held", most.1);
}

#[test]
fn flows_stats_count_the_reaped_connections() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("abandoned.pcap");
    let file = std::fs::File::create(&cap).unwrap();
    let mut w = CaptureWriter::new(
        std::io::BufWriter::new(file),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )
    .unwrap();
    let head = smb_head();
    let mut buf = Vec::new();
    for i in 0..SESSIONS {
        for s in session(i) {
            let p = packet(i, &s);
            let ip = |b: &[u8; 16]| IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            let spec = FrameSpec::new(
                ip(&p.src),
                ip(&p.dst),
                L4::Tcp {
                    sport: p.sport,
                    dport: p.dport,
                    seq: p.seq,
                    ack: p.ack,
                    flags: p.flags,
                    window: 8192,
                },
            );
            let payload: &[u8] = if s.5 { &head } else { &[] };
            frame::build(&spec, Payload::Bytes(payload), &mut buf);
            w.write_packet(p.ts, &buf, buf.len() as u32).unwrap();
        }
    }
    w.finish().unwrap();
    let zeek = dir.path().join("zeek");
    let out = common::flows_zeek_dir(&cap, &zeek, &["--stats"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("analyzer connections"))
        .unwrap_or_else(|| panic!("no analyzer connections line in {stderr}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    // "N followed, peak P at once; reaped idle: R TCP (>300 s), U UDP (>60 s), S SYNs"
    let [followed, peak, reaped, secs, udp, _, syns] = numbers[..] else {
        panic!("unexpected line: {line}");
    };
    assert_eq!(followed, u64::from(SESSIONS), "{line}");
    assert!(peak <= BOUND && peak > IDLE_SECS as u64, "{line}");
    assert!(reaped >= u64::from(SESSIONS) - BOUND, "{line}");
    assert_eq!(secs, IDLE_SECS as u64, "{line}");
    assert_eq!((udp, syns), (0, 0), "{line}");
    // The connections themselves are all in conn.log, whatever the analyzers held.
    let conns = std::fs::read_to_string(zeek.join("conn.log"))
        .expect("conn.log written")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .count();
    assert_eq!(conns, SESSIONS as usize);
}

/// Session `i` of an hour: a handshake and the head of a message that never
/// completes, then a RST from the server (odd `i`) or a FIN from the
/// client alone (even `i`), never answered.
fn ended_session(i: u32) -> Vec<Step> {
    let mut steps = session(1 + i * 3);
    let t = i64::from(1 + i * 3) * SEC;
    let end = if i % 2 == 1 {
        (t + 4_000_000, false, tcp_flags::RST, 5001, 0, false)
    } else {
        (
            t + 4_000_000,
            true,
            tcp_flags::FIN | tcp_flags::ACK,
            2401,
            5001,
            false,
        )
    };
    steps.push(end);
    steps
}

#[test]
fn sessions_ended_by_a_rst_or_one_fin_are_let_go_within_seconds() {
    const ENDED: u32 = 3600;
    let mut a = Analyzers::new(AnalyzerConfig::default(), Arc::from("ended"));
    let head = smb_head();
    let mut most = 0usize;
    for i in 0..ENDED {
        for s in ended_session(i) {
            a.packet(&packet(1 + i * 3, &s), if s.5 { &head } else { &[] });
            most = most.max(a.state().0);
        }
    }
    let (left, _) = a.state();
    let c = a.finish().counters;
    assert_eq!(c.flows, u64::from(ENDED), "{c:?}");
    assert_eq!(c.ended_rst, u64::from(ENDED / 2), "{c:?}");
    assert_eq!(c.ended_fin, 0, "{c:?}");
    // Every half-closed session was let go, but those of the last seconds.
    assert_eq!(
        c.reaped_half_closed + left as u64,
        u64::from(ENDED / 2),
        "{c:?}"
    );
    assert_eq!(c.reaped, 0, "{c:?}");
    // Sessions are three seconds apart: held at once, those of the last
    // linger plus the 30 s between two looks, not five minutes' worth.
    let bound = (LINGER_SECS as usize + 30) / 3 + 2;
    assert!(most <= bound, "{most} held at once > {bound}");
    assert!(most >= 2, "{most}");
}
