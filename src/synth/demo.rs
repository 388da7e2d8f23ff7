//! The small demonstration capture shipped in `testdata/`: one hour on a
//! chamber's network where three workstations beacon out, reach the shared
//! server over SMB and RDP, and the server then reaches the domain
//! controller and the file server. Every conversation is complete and
//! valid, so the expected connection records are known exactly.

use crate::model::event::{Duration, Timestamp};
use crate::synth::dns;
use crate::synth::frame::{FrameSpec, L4, Payload, build};
use crate::synth::pcap_writer::{CaptureKind, CaptureWriter};
use crate::synth::tcp_session::{TcpSession, udp_exchange};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr};

/// Start of the demo capture: 2011-07-25T01:00:00Z.
pub const START: Timestamp = Timestamp(1_311_555_600_000_000_000);

fn sa(s: &str) -> SocketAddr {
    // The addresses below are constants of this module; a typo is a bug caught by its test.
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

fn after(t: Timestamp, secs: f64) -> Timestamp {
    Timestamp(t.0 + (secs * 1e9) as i64)
}

/// Writes the demo capture (classic pcap, Ethernet, microseconds).
pub fn write_demo<W: Write>(out: W) -> io::Result<W> {
    let mut frames: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let mut sink = |ts: Timestamp, f: &[u8]| frames.push((ts, f.to_vec()));
    let ws = ["10.10.1.11", "10.10.1.12", "10.10.1.13"];
    let dc = "10.10.2.5";
    let chamber = "10.10.2.20";
    let files = "10.10.2.30";
    let c2 = "203.0.113.7";
    let mut buf = Vec::new();
    for (i, w) in ws.iter().enumerate() {
        let base = after(START, 60.0 * i as f64);
        // Name lookups and a Kerberos exchange with the domain controller.
        let id = 0x4000 + i as u16;
        let name = "srv-chamber.shugiin.local";
        let q = dns::query(id, name);
        let a = dns::answer(id, name, Ipv4Addr::new(10, 10, 2, 20));
        udp_exchange(
            base,
            sa(&format!("{w}:5{i}001")),
            sa(&format!("{dc}:53")),
            Payload::Bytes(&q),
            Some(Payload::Bytes(&a)),
            &mut buf,
            &mut sink,
        );
        let mut krb = TcpSession::new(
            sa(&format!("{w}:4{i}100")),
            sa(&format!("{dc}:88")),
            1000,
            5000,
        );
        let t = krb.handshake(after(base, 0.5), &mut sink);
        let t = krb.send(t, true, 1400, &mut sink);
        let t = krb.send(t, false, 1500, &mut sink);
        krb.close(t, true, &mut sink);
        // Beacons: a short HTTPS session every five minutes.
        for k in 0..6u32 {
            let mut b = TcpSession::new(
                sa(&format!("{w}:5{i}{:03}", 200 + k)),
                sa(&format!("{c2}:443")),
                7000 + k,
                9000 + k,
            );
            let t = b.handshake(after(base, 120.0 + 300.0 * f64::from(k)), &mut sink);
            let t = b.send(t, true, 220, &mut sink);
            let t = b.send(t, false, 90, &mut sink);
            b.close(t, true, &mut sink);
        }
        // Onto the chamber server over SMB, with a write of a service binary.
        let mut smb = TcpSession::new(
            sa(&format!("{w}:4{i}500")),
            sa(&format!("{chamber}:445")),
            100,
            200,
        );
        let t = smb.handshake(after(base, 1800.0), &mut sink);
        let t = smb.send(t, true, 20_000, &mut sink);
        let t = smb.send(t, false, 3_000, &mut sink);
        smb.close(t, true, &mut sink);
    }
    // One workstation also opens RDP to the server, with a lost and resent segment.
    let mut rdp = TcpSession::new(
        sa("10.10.1.12:41700"),
        sa(&format!("{chamber}:3389")),
        300,
        400,
    );
    let t = rdp.handshake(after(START, 2000.0), &mut sink);
    let t = rdp.send(t, false, 60_000, &mut sink);
    let t = rdp.retransmit(t, false, 1460, &mut sink);
    let t = rdp.send(after(t, 240.0), true, 4_000, &mut sink);
    rdp.close(t, false, &mut sink);
    // A WinRM attempt that is refused, and an SSH probe nobody answers.
    TcpSession::new(sa("10.10.1.13:41800"), sa(&format!("{chamber}:5985")), 1, 2)
        .rejected(after(START, 2100.0), &mut sink);
    TcpSession::new(sa("10.10.1.11:41900"), sa("10.10.2.99:22"), 3, 4)
        .unanswered(after(START, 2150.0), &mut sink);
    // A ping from the first workstation to the domain controller.
    for (k, (src, dst, ty)) in [(ws[0], dc, 8u8), (dc, ws[0], 0u8)].into_iter().enumerate() {
        let spec = FrameSpec::new(
            sa(&format!("{src}:0")).ip(),
            sa(&format!("{dst}:0")).ip(),
            L4::Icmp {
                icmp_type: ty,
                code: 0,
                rest: 0x0001_0001,
            },
        );
        build(
            &spec,
            Payload::Fill {
                byte: 0x61,
                len: 32,
            },
            &mut buf,
        );
        sink(after(START, 2200.0 + 0.001 * k as f64), &buf);
    }
    // Then the server moves on: SMB to the domain controller, and staging on the file server.
    let mut hop = TcpSession::new(
        sa(&format!("{chamber}:50100")),
        sa(&format!("{dc}:445")),
        500,
        600,
    );
    let t = hop.handshake(after(START, 2400.0), &mut sink);
    let t = hop.send(t, true, 8_000, &mut sink);
    let t = hop.send(t, false, 2_000, &mut sink);
    hop.close(t, true, &mut sink);
    let mut stage = TcpSession::new(
        sa(&format!("{chamber}:50200")),
        sa(&format!("{files}:445")),
        700,
        800,
    );
    let t = stage.handshake(after(START, 3000.0), &mut sink);
    let t = stage.send(t, true, 400_000, &mut sink);
    stage.reset(t, true, &mut sink);

    frames.sort_by_key(|(ts, _)| *ts);
    let mut w = CaptureWriter::new(
        out,
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )?;
    for (ts, f) in &frames {
        w.write_packet(*ts, f, f.len() as u32)?;
    }
    w.finish()
}

/// Duration of the demo capture, for documentation and tests.
pub const SPAN: Duration = Duration::from_secs(3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_deterministic_and_readable() {
        let a = write_demo(Vec::new()).unwrap();
        let b = write_demo(Vec::new()).unwrap();
        assert_eq!(a, b);
        assert!(
            a.len() > 100_000 && a.len() < 2_000_000,
            "{} bytes",
            a.len()
        );
    }
}
