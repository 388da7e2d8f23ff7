//! Fragmented DCE-RPC requests, end to end through the real binary on a
//! capture the test writes: `dce_rpc.log`'s `rtt` runs from a request's
//! last fragment to its response's last fragment, as Zeek measures it (a
//! request sent in two fragments a second apart must not count that second
//! as the server's), and a service creation whose stub is cut into tiny
//! fragments (an old IDS evasion) still names its service and binary.

use lateral::model::event::Timestamp;
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use lateral::synth::tcp_session::TcpSession;
use std::path::Path;
use std::process::Command;

const SECOND: i64 = 1_000_000_000;
/// 2026-12-01T10:00:00Z.
const T0: i64 = 1_796_119_200 * SECOND;

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

/// An `RCreateServiceW` request (opnum 12) of call `call_id` on context 0
/// for `name` running `path`, cut into fragments of `size` stub bytes.
fn create_service_fragments(call_id: u32, name: &str, path: &str, size: usize) -> Vec<Vec<u8>> {
    fn wstr(s: &str, out: &mut Vec<u8>) {
        let units: Vec<u16> = s.encode_utf16().chain([0]).collect();
        let n = u32::try_from(units.len()).unwrap();
        for v in [n, 0, n] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for u in units {
            out.extend_from_slice(&u.to_le_bytes());
        }
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }
    let mut stub = vec![0u8; 20];
    wstr(name, &mut stub);
    stub.extend_from_slice(&0u32.to_le_bytes());
    stub.extend_from_slice(&[0u8; 16]);
    wstr(path, &mut stub);
    let pieces: Vec<&[u8]> = stub.chunks(size).collect();
    let n = pieces.len();
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let flags = u8::from(i == 0) | if i + 1 == n { 2 } else { 0 };
            let mut b = u32::try_from(stub.len()).unwrap().to_le_bytes().to_vec();
            b.extend_from_slice(&[0, 0, 12, 0]);
            b.extend_from_slice(piece);
            pdu(0, flags, call_id, &b)
        })
        .collect()
}

/// Writes one TCP connection to a dynamic RPC port carrying `exchange`
/// (from the client?, seconds after the handshake, PDU bytes), runs
/// `lateral flows --zeek-dir` and `lateral events` on it, and gives the
/// dce_rpc.log text and the events.
fn run(dir: &Path, exchange: &[(bool, f64, Vec<u8>)]) -> (String, Vec<serde_json::Value>) {
    let mut w = CaptureWriter::new(
        Vec::new(),
        CaptureKind::Pcap {
            nanos: true,
            big_endian: false,
        },
        1,
        65535,
    )
    .unwrap();
    let mut frames: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let mut sink = |t: Timestamp, f: &[u8]| frames.push((t, f.to_vec()));
    let mut s = TcpSession::new(
        "10.1.1.5:50123".parse().unwrap(),
        "10.1.1.50:49670".parse().unwrap(),
        1000,
        9000,
    );
    s.handshake(Timestamp(T0), &mut sink);
    for (from_client, at, bytes) in exchange {
        #[allow(clippy::cast_possible_truncation)]
        let t = Timestamp(T0 + (at * SECOND as f64) as i64);
        s.send_bytes(t, *from_client, bytes, &mut sink);
    }
    s.close(Timestamp(T0 + 10 * SECOND), true, &mut sink);
    for (t, f) in &frames {
        w.write_packet(*t, f, u32::try_from(f.len()).unwrap())
            .unwrap();
    }
    let cap = dir.join("rpc.pcap");
    std::fs::write(&cap, w.finish().unwrap()).unwrap();
    let lateral = env!("CARGO_BIN_EXE_lateral");
    let zeek = dir.join("zeek");
    let out = Command::new(lateral)
        .args(["flows", "--quiet", "-o"])
        .arg(dir.join("conn.log"))
        .arg("--zeek-dir")
        .arg(&zeek)
        .arg(&cap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(zeek.join("dce_rpc.log")).unwrap();
    let out = Command::new(lateral)
        .args(["events", "--quiet"])
        .arg(&cap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (log, events)
}

/// The `rtt` column of each dce_rpc.log row.
fn rtts(log: &str) -> Vec<String> {
    let fields: Vec<&str> = log
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let at = fields.iter().position(|f| *f == "rtt").unwrap();
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(at).unwrap().to_string())
        .collect()
}

#[test]
fn rtt_runs_from_the_requests_last_fragment() {
    let dir = tempfile::tempdir().unwrap();
    // First fragment at 1 s, last at 2 s, the response at 2.25 s.
    let (log, _) = run(
        dir.path(),
        &[
            (true, 0.1, bind()),
            (false, 0.2, bind_ack()),
            (true, 1.0, request(1, 2)),
            (true, 2.0, request(2, 2)),
            (false, 2.25, response(2)),
            // A whole request, answered 0.5 s later.
            (true, 3.0, request(3, 3)),
            (false, 3.5, response(3)),
        ],
    );
    assert_eq!(rtts(&log), ["0.250000", "0.500000"], "{log}");
}

#[test]
fn a_service_creation_cut_into_tiny_fragments_names_its_service_and_binary() {
    let dir = tempfile::tempdir().unwrap();
    let path =
        "%COMSPEC% /Q /c echo whoami ^> \\\\127.0.0.1\\C$\\__output 2^>^&1 > %TEMP%\\execute.bat";
    let mut exchange = vec![(true, 0.1, bind()), (false, 0.2, bind_ack())];
    let frags = create_service_fragments(5, "BTOBTO", path, 8);
    assert!(frags.len() > 20);
    for (i, f) in frags.into_iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        exchange.push((true, 1.0 + i as f64 * 0.01, f));
    }
    exchange.push((false, 2.0, response(5)));
    let (log, events) = run(dir.path(), &exchange);
    assert!(log.contains("svcctl\tCreateServiceW"), "{log}");
    let installs: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["service"]["name"] == "BTOBTO")
        .collect();
    assert!(
        !installs.is_empty(),
        "no event names the service: {events:#?}"
    );
    for e in &installs {
        assert_eq!(e["process"]["executable"], path, "{e:#}");
    }
    assert!(
        installs.iter().any(|e| e["event"]["action"] != "rpc-call"),
        "no service-installed event: {installs:#?}"
    );
}
