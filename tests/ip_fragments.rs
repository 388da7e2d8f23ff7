//! IP fragments put back together for the analyzers, and DNS on the other
//! ports Zeek's DNS analyzer takes (NetBIOS name service, mDNS, LLMNR):
//! captures written here, read by the real binary.

mod common;

use common::kerberos_der::tgs_rep;
use lateral::model::event::Timestamp;
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A UDP datagram (header and data), checksum left zero.
fn udp(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + data.len());
    d.extend(sport.to_be_bytes());
    d.extend(dport.to_be_bytes());
    d.extend(((8 + data.len()) as u16).to_be_bytes());
    d.extend([0, 0]);
    d.extend_from_slice(data);
    d
}

/// A raw IPv4 packet (link type 101) carrying `body` at byte `offset` of
/// datagram `id`, with the More Fragments flag `more`.
fn ipv4(src: [u8; 4], dst: [u8; 4], id: u16, offset: usize, more: bool, body: &[u8]) -> Vec<u8> {
    let total = 20 + body.len();
    let frag = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    let mut f = vec![0x45, 0];
    f.extend((total as u16).to_be_bytes());
    f.extend(id.to_be_bytes());
    f.extend(frag.to_be_bytes());
    f.extend([64, 17, 0, 0]);
    f.extend(src);
    f.extend(dst);
    f.extend_from_slice(body);
    f
}

/// The fragments of one datagram, `size` bytes each (a multiple of 8).
fn fragments(src: [u8; 4], dst: [u8; 4], id: u16, datagram: &[u8], size: usize) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = datagram.chunks(size).collect();
    let n = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| ipv4(src, dst, id, i * size, i + 1 < n, c))
        .collect()
}

fn write(path: &Path, frames: &[(i64, Vec<u8>)]) {
    let mut w = CaptureWriter::new(
        std::fs::File::create(path).unwrap(),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        101,
        65535,
    )
    .unwrap();
    for (ms, f) in frames {
        w.write_packet(Timestamp(ms * 1_000_000), f, f.len() as u32)
            .unwrap();
    }
    w.finish().unwrap();
}

const CLIENT: [u8; 4] = [10, 0, 0, 21];
const DC: [u8; 4] = [10, 0, 0, 10];
const T0: i64 = 1_700_000_000_000;
/// Fragment payload size (a multiple of 8).
const FRAG: usize = 1200;

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lateral-ipfrag-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Zeek log's rows as field maps.
fn rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let fields: Vec<String> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .map(|f| f.split('\t').map(str::to_string).collect())
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            fields
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

/// `lateral flows --stats --zeek-dir` on `cap`: the logs' directory and
/// the numbers of the `IP reassembly` statistics line, in order.
fn flows(cap: &Path, dir: &Path) -> Vec<u64> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["flows", "--stats", "-o"])
        .arg(dir.join("conn.json"))
        .arg("--zeek-dir")
        .arg(dir.join("zeek"))
        .arg(cap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .find_map(|l| l.trim_start().strip_prefix("IP reassembly"))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_digit() && c != '.')
                .filter(|w| !w.is_empty())
                .filter_map(|w| w.parse::<f64>().ok())
                .map(|v| v as u64)
                .collect()
        })
        .unwrap_or_default()
}

/// The reply, cut into fragments of 1,200 bytes, comes out of order with
/// one fragment twice; kerberos.log and the events carry it. Without one
/// fragment nothing is read (the datagram is never whole).
#[test]
fn kerberos_reply_in_fragments_reaches_the_analyzer() {
    let dir = tmp("krb");
    let rep = tgs_rep(
        "svc_backup",
        &["MSSQLSvc", "sql01.corp.local:1433"],
        23,
        3000,
        1000,
    );
    let dgram = udp(88, 50_001, &rep);
    let frags = fragments(DC, CLIENT, 0x4242, &dgram, FRAG);
    assert_eq!(frags.len(), 4, "a reply of {} bytes", dgram.len());
    let order = [2usize, 0, 3, 0, 1];
    let frames: Vec<(i64, Vec<u8>)> = order
        .iter()
        .enumerate()
        .map(|(i, &k)| (T0 + i as i64, frags[k].clone()))
        .collect();
    let cap = dir.join("krb.pcap");
    write(&cap, &frames);
    let stats = flows(&cap, &dir);
    // fragments, joined, overlaps, inconsistent, timeout, cap, malformed, unfinished.
    assert_eq!(
        stats.get(..8),
        Some(&[5, 1, 1, 0, 0, 0, 0, 0][..]),
        "{stats:?}"
    );
    let krb = rows(&dir.join("zeek/kerberos.log"));
    assert_eq!(krb.len(), 1, "{krb:?}");
    assert_eq!(krb[0]["client"], "svc_backup/CORP.LOCAL");
    assert_eq!(krb[0]["service"], "MSSQLSvc/sql01.corp.local:1433");
    assert_eq!(krb[0]["cipher"], "rc4-hmac");
    assert_eq!(krb[0]["id.resp_p"], "88");
    // conn.log counts every fragment in the connection, as before.
    let conn = rows(&dir.join("zeek/conn.log"));
    assert_eq!(conn.len(), 1, "{conn:?}");
    assert_eq!(conn[0]["uid"], krb[0]["uid"]);
    let events = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["-q", "events"])
        .arg(&cap)
        .output()
        .unwrap();
    let ev = String::from_utf8_lossy(&events.stdout);
    assert!(
        ev.lines()
            .any(|l| l.contains("zeek.kerberos") && l.contains("svc_backup")),
        "{ev}"
    );
    // One fragment short: never whole, counted unfinished, nothing read.
    let short: Vec<(i64, Vec<u8>)> = frames.into_iter().filter(|(_, f)| *f != frags[1]).collect();
    let dir2 = tmp("krb-short");
    let cap = dir2.join("short.pcap");
    write(&cap, &short);
    let stats = flows(&cap, &dir2);
    assert_eq!(
        stats.get(..8),
        Some(&[4, 0, 1, 0, 0, 0, 0, 1][..]),
        "{stats:?}"
    );
    assert!(rows(&dir2.join("zeek/kerberos.log")).is_empty());
    assert_eq!(rows(&dir2.join("zeek/conn.log")).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// Overlaps keep the bytes seen first; a fragment past 65,535 bytes, two
/// different ends and a flood of datagrams never completed are given up
/// and counted, with the memory held bounded.
#[test]
fn hostile_fragments_are_bounded_and_counted() {
    let dir = tmp("hostile");
    let rep = tgs_rep("svc_web", &["HTTP", "web01.corp.local"], 23, 3000, 1000);
    let dgram = udp(88, 50_002, &rep);
    let frags = fragments(DC, CLIENT, 7, &dgram, FRAG);
    let mut frames: Vec<Vec<u8>> = Vec::new();
    // The second fragment, then other bytes over it: the first bytes
    // win, so the reply still reads.
    frames.push(frags[1].clone());
    frames.push(ipv4(DC, CLIENT, 7, FRAG, true, &[0xee; FRAG]));
    frames.extend(frags.iter().cloned());
    // Past 65,535 bytes.
    frames.push(ipv4(DC, CLIENT, 8, 65_528, false, &[0; 64]));
    // Two different ends.
    frames.push(ipv4(DC, CLIENT, 9, 1480, false, &[0; 64]));
    frames.push(ipv4(DC, CLIENT, 9, 2960, false, &[0; 64]));
    // A flood: 20,000 datagrams of which only a late fragment comes.
    for id in 0..20_000u16 {
        let src = [10, 1, (id >> 8) as u8, id as u8];
        frames.push(ipv4(src, CLIENT, id, 60_000, true, &[0x41; 1480]));
    }
    let timed: Vec<(i64, Vec<u8>)> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| (T0 + i as i64, f))
        .collect();
    let cap = dir.join("hostile.pcap");
    write(&cap, &timed);
    let stats = flows(&cap, &dir);
    let [
        fragments,
        joined,
        overlaps,
        inconsistent,
        timeout,
        cap_,
        malformed,
        unfinished,
        ..,
    ] = stats[..]
    else {
        panic!("{stats:?}");
    };
    assert_eq!(fragments, 2 + 4 + 1 + 2 + 20_000);
    assert_eq!(joined, 1);
    // The other bytes, then the second fragment again.
    assert_eq!((overlaps, inconsistent), (2, 1), "{stats:?}");
    assert_eq!(timeout, 0);
    assert_eq!(malformed, 1);
    // The 65,535-byte fragment, and the flood beyond what the budget holds.
    assert!(cap_ > 19_000, "{stats:?}");
    assert_eq!(cap_ + unfinished, 1 + 20_000, "{stats:?}");
    // What is held at the end fits the 16 MiB budget (61,480 bytes each).
    assert!(unfinished <= (16 << 20) / 61_480, "{stats:?}");
    let krb = rows(&dir.join("zeek/kerberos.log"));
    assert_eq!(krb.len(), 1, "{krb:?}");
    assert_eq!(krb[0]["client"], "svc_web/CORP.LOCAL");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A DNS header and one question or answer record.
fn dns(
    id: u16,
    flags: u16,
    question: Option<(&[u8], u16)>,
    answer: Option<(&[u8], u16, &[u8])>,
) -> Vec<u8> {
    let name = |n: &[u8]| -> Vec<u8> {
        let mut v = Vec::new();
        for label in n.split(|c| *c == b'.') {
            v.push(label.len() as u8);
            v.extend_from_slice(label);
        }
        v.push(0);
        v
    };
    let mut m = Vec::new();
    m.extend(id.to_be_bytes());
    m.extend(flags.to_be_bytes());
    m.extend(u16::from(question.is_some()).to_be_bytes());
    m.extend(u16::from(answer.is_some()).to_be_bytes());
    m.extend([0, 0, 0, 0]);
    if let Some((n, t)) = question {
        m.extend(name(n));
        m.extend(t.to_be_bytes());
        m.extend([0, 1]);
    }
    if let Some((n, t, rdata)) = answer {
        m.extend(name(n));
        m.extend(t.to_be_bytes());
        m.extend([0, 1, 0, 0, 0, 30]);
        m.extend((rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(rdata);
    }
    m
}

/// A NetBIOS name in its first-level encoding, padded to 15 with spaces
/// and ending in `suffix`.
fn nb_name(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = format!("{name:<15}").into_bytes();
    raw.push(suffix);
    raw.iter()
        .flat_map(|b| [b'A' + (b >> 4), b'A' + (b & 15)])
        .collect()
}

/// NetBIOS name service (137), LLMNR (5355) and mDNS (5353) messages are
/// read as DNS into dns.log, as Zeek logs them: the NetBIOS name decoded,
/// NetBIOS opcode names, NB answers not rendered.
#[test]
fn netbios_llmnr_and_mdns_are_logged_as_dns() {
    let dir = tmp("dnsports");
    let (host, server, peer) = ([10, 0, 0, 5], [10, 0, 0, 1], [10, 0, 0, 9]);
    let nb = nb_name("FILESRV01", 0x20);
    let frame = |src, dst, sport, dport, msg: Vec<u8>| {
        ipv4(src, dst, 1, 0, false, &udp(sport, dport, &msg))
    };
    let frames = vec![
        // NBNS name query and its positive answer (NB record: flags, address).
        frame(
            host,
            server,
            137,
            137,
            dns(0x1001, 0x0110, Some((&nb, 32)), None),
        ),
        frame(
            server,
            host,
            137,
            137,
            dns(0x1001, 0x8500, None, Some((&nb, 32, &[0, 0, 10, 0, 0, 7]))),
        ),
        // NBNS registration (opcode 5), broadcast.
        frame(
            host,
            [10, 0, 0, 255],
            137,
            137,
            dns(0x1002, 0x2910, Some((&nb_name("HOST5", 0), 32)), None),
        ),
        // LLMNR query and answer.
        frame(
            host,
            peer,
            51_000,
            5355,
            dns(0x2001, 0x0000, Some((b"filesrv01", 1)), None),
        ),
        frame(
            peer,
            host,
            5355,
            51_000,
            dns(
                0x2001,
                0x8000,
                Some((b"filesrv01", 1)),
                Some((b"filesrv01", 1, &[10, 0, 0, 9])),
            ),
        ),
        // An unsolicited mDNS announcement.
        frame(
            peer,
            [224, 0, 0, 251],
            5353,
            5353,
            dns(0, 0x8400, None, Some((b"printer.local", 1, &[10, 0, 0, 9]))),
        ),
    ];
    let timed: Vec<(i64, Vec<u8>)> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| (T0 + 10 * i as i64, f))
        .collect();
    let cap = dir.join("names.pcap");
    write(&cap, &timed);
    let _ = flows(&cap, &dir);
    let log = rows(&dir.join("zeek/dns.log"));
    let row = |port: &str, id: &str| {
        log.iter()
            .find(|r| r["id.resp_p"] == port && r["trans_id"] == id)
            .unwrap_or_else(|| panic!("no {port}/{id} in {log:?}"))
    };
    let q = row("137", "4097");
    assert_eq!(q["query"], "FILESRV01");
    assert_eq!(
        (q["qtype"].as_str(), q["qtype_name"].as_str()),
        ("32", "NIMLOC")
    );
    assert_eq!(
        (q["rcode_name"].as_str(), q["answers"].as_str()),
        ("NOERROR", "-")
    );
    assert_eq!(q["opcode_name"], "netbios-query");
    let reg = row("137", "4098");
    assert_eq!(reg["query"], "HOST5");
    assert_eq!(
        (reg["opcode"].as_str(), reg["opcode_name"].as_str()),
        ("5", "netbios-registration")
    );
    let ll = row("5355", "8193");
    assert_eq!(ll["query"], "filesrv01");
    assert_eq!(
        (ll["answers"].as_str(), ll["TTLs"].as_str()),
        ("10.0.0.9", "30.000000")
    );
    assert_eq!(ll["opcode_name"], "query");
    let md = row("5353", "0");
    assert_eq!(
        (md["query"].as_str(), md["answers"].as_str()),
        ("printer.local", "10.0.0.9")
    );
    assert_eq!(log.len(), 4, "{log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
