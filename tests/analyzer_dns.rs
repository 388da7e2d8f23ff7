//! dns.log from a generated capture: a query and its answer over TCP 53
//! (2-byte length framing, split across segments), and over UDP 53 an
//! answered query and one never answered, each tied to conn.log by uid.

mod common;

use lateral::model::event::Timestamp;
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let total = 20 + l4.len();
    let mut f = vec![0x45, 0];
    f.extend((total as u16).to_be_bytes());
    f.extend([0, 1, 0x40, 0, 64, proto, 0, 0]);
    f.extend(src);
    f.extend(dst);
    f.extend_from_slice(l4);
    f
}

fn tcp(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(1u32.to_be_bytes());
    t.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(data);
    ipv4(6, src, dst, &t)
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, data: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend(sport.to_be_bytes());
    u.extend(dport.to_be_bytes());
    u.extend((8 + data.len() as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend_from_slice(data);
    ipv4(17, src, dst, &u)
}

/// A DNS message: header, one question for `name` (type A), and for a
/// response one A record (TTL 300) pointing at the question's name.
fn dns(id: u16, response: bool, name: &str, addr: [u8; 4]) -> Vec<u8> {
    let flags: u16 = if response { 0x8180 } else { 0x0100 };
    let mut m = Vec::new();
    for v in [id, flags, 1, u16::from(response), 0, 0] {
        m.extend(v.to_be_bytes());
    }
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend_from_slice(l.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1]);
    if response {
        m.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4]);
        m.extend(addr);
    }
    m
}

#[test]
fn dns_over_tcp_and_udp_gives_zeek_dns_log_rows() {
    let dir = std::env::temp_dir().join(format!("lateral-dns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("dns.pcap");
    let mut w = CaptureWriter::new(
        std::fs::File::create(&capture).unwrap(),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        101,
        65535,
    )
    .unwrap();
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 53]);
    let mut t = 1_700_000_000_000i64;
    let mut write = |frame: Vec<u8>, step_ms: i64| {
        t += step_ms;
        w.write_packet(Timestamp(t * 1_000_000), &frame, frame.len() as u32)
            .unwrap();
    };
    // TCP: the query's length prefix and body in two segments.
    let q = dns(0x1111, false, "DC01.Corp.example", [0; 4]);
    let r = dns(0x1111, true, "dc01.corp.example", [10, 1, 2, 3]);
    let mut qf = (q.len() as u16).to_be_bytes().to_vec();
    qf.extend(&q);
    let mut rf = (r.len() as u16).to_be_bytes().to_vec();
    rf.extend(&r);
    let (syn, synack, ack, psh, fin) = (0x02, 0x12, 0x10, 0x08, 0x11);
    write(tcp(c, 50001, s, 53, syn, 100, &[]), 1);
    write(tcp(s, 53, c, 50001, synack, 500, &[]), 1);
    write(tcp(c, 50001, s, 53, ack | psh, 101, &qf[..5]), 1);
    write(tcp(c, 50001, s, 53, ack | psh, 106, &qf[5..]), 1);
    write(tcp(s, 53, c, 50001, ack | psh, 501, &rf), 10);
    let (cend, send) = (101 + qf.len() as u32, 501 + rf.len() as u32);
    write(tcp(c, 50001, s, 53, fin, cend, &[]), 1);
    write(tcp(s, 53, c, 50001, fin, send, &[]), 1);
    // UDP: an answered query, then one never answered.
    write(
        udp(
            c,
            50002,
            s,
            53,
            &dns(0x2222, false, "fs01.corp.example", [0; 4]),
        ),
        100,
    );
    write(
        udp(
            s,
            53,
            c,
            50002,
            &dns(0x2222, true, "fs01.corp.example", [10, 1, 2, 4]),
        ),
        5,
    );
    write(
        udp(
            c,
            50002,
            s,
            53,
            &dns(0x3333, false, "gone.corp.example", [0; 4]),
        ),
        100,
    );
    w.finish().unwrap();

    let out = dir.join("zeek");
    common::flows_zeek_dir(&capture, &out, &[]);
    let log = std::fs::read_to_string(out.join("dns.log")).expect("dns.log written");
    let conn = std::fs::read_to_string(out.join("conn.log")).unwrap();
    let rows: Vec<Vec<&str>> = log
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
        .collect();
    let uids: Vec<&str> = conn
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(rows.len(), 3, "{log}");
    for r in &rows {
        assert_eq!(r.len(), 26, "{r:?}");
        assert!(uids.contains(&r[1]), "uid {} not in conn.log", r[1]);
    }
    // proto trans_id rtt query qclass qclass_name qtype qtype_name rcode
    // rcode_name AA TC RD RA Z answers TTLs rejected opcode opcode_name
    let tail = |r: &Vec<&str>| r[5..].join(" ");
    assert_eq!(
        tail(&rows[0]),
        "53 tcp 4369 0.010000 dc01.corp.example 1 C_INTERNET 1 A 0 NOERROR F F T T 0 10.1.2.3 300.000000 F 0 query"
    );
    assert_eq!(
        tail(&rows[1]),
        "53 udp 8738 0.005000 fs01.corp.example 1 C_INTERNET 1 A 0 NOERROR F F T T 0 10.1.2.4 300.000000 F 0 query"
    );
    assert_eq!(
        tail(&rows[2]),
        "53 udp 13107 - gone.corp.example 1 C_INTERNET 1 A - - F F T F 0 - - F 0 query"
    );
    assert_eq!(rows[1][1], rows[2][1], "one UDP conversation");
    assert_ne!(rows[0][1], rows[1][1]);
}
