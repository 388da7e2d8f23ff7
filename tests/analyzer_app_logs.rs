//! The application analyzers through the binary: `lateral flows --zeek-dir`
//! on real captures writes kerberos.log, http.log, rdp.log, ssh.log,
//! ssl.log and ldap.log, checked against Zeek's own logs of the same
//! capture (`logs/zeek/`), against `tshark`'s dissection where it is
//! installed, and against the bytes of the capture; `lateral events` gives
//! the same records as `zeek.*` events. Every corpus test skips without the
//! corpus.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const LSASS: &str = "pcap/lateral/otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng";

type Row = BTreeMap<String, String>;

/// A Zeek TSV log: its `#fields` and `#types` lines and its rows by field name.
struct Log {
    fields: String,
    types: String,
    rows: Vec<Row>,
}

fn read_log(path: &Path) -> Option<Log> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut names: Vec<String> = Vec::new();
    let mut log = Log {
        fields: String::new(),
        types: String::new(),
        rows: Vec::new(),
    };
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            log.fields = f.to_string();
            names = f.split('\t').map(str::to_string).collect();
        } else if let Some(t) = line.strip_prefix("#types\t") {
            log.types = t.to_string();
        } else if !line.starts_with('#') && !line.is_empty() {
            let vals: Vec<&str> = line.split('\t').collect();
            assert_eq!(vals.len(), names.len(), "{}: {line}", path.display());
            log.rows.push(
                names
                    .iter()
                    .cloned()
                    .zip(vals.iter().map(|v| v.to_string()))
                    .collect(),
            );
        }
    }
    Some(log)
}

/// Runs `lateral flows --zeek-dir` on `capture` into a fresh directory.
fn zeek_dir(capture: &Path, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lateral-app-logs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    common::flows_zeek_dir(capture, &dir, &[]);
    dir
}

/// The events `lateral events` gives for `capture`, as JSON.
fn events(capture: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .arg("events")
        .arg(capture)
        .output()
        .expect("run lateral");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tuple(r: &Row) -> (String, String, String, String) {
    (
        r["id.orig_h"].clone(),
        r["id.orig_p"].clone(),
        r["id.resp_h"].clone(),
        r["id.resp_p"].clone(),
    )
}

/// Every uid of an application log names a connection of conn.log.
fn uids_join_conn_log(dir: &Path, logs: &[&str]) {
    let conn = read_log(&dir.join("conn.log")).expect("conn.log");
    let uids: BTreeSet<&str> = conn.rows.iter().map(|r| r["uid"].as_str()).collect();
    for l in logs {
        let log = read_log(&dir.join(format!("{l}.log"))).expect(l);
        assert!(!log.rows.is_empty(), "{l}.log has no records");
        for r in &log.rows {
            assert!(
                uids.contains(r["uid"].as_str()),
                "{l}: {r:?} not in conn.log"
            );
        }
    }
}

#[test]
fn lsass_capture_app_logs_agree_with_zeeks_own() {
    let Some(corpus) = common::corpus_dir("lsass_capture_app_logs_agree_with_zeeks_own") else {
        return;
    };
    let dir = zeek_dir(&corpus.join(LSASS), "lsass");
    uids_join_conn_log(&dir, &["kerberos", "ssl", "http", "ldap"]);
    // Zeek lost the capturing host's own packets (checksums left to the
    // card), so its lines hold what the servers sent: compare those fields.
    for (log, fields) in [
        (
            "kerberos",
            &["service", "success", "error_msg", "cipher"][..],
        ),
        ("ssl", &["version", "cipher", "curve", "server_name"][..]),
        (
            "http",
            &["status_code", "status_msg", "response_body_len"][..],
        ),
        // The tree connect to the domain controller's IPC$: Zeek kept the
        // server's answer (time, share type), not the request's path.
        ("smb_mapping", &["ts", "share_type"][..]),
    ] {
        let zeek = read_log(&corpus.join("logs/zeek").join(format!("{log}.log"))).unwrap();
        let ours = read_log(&dir.join(format!("{log}.log"))).unwrap();
        // ssl.log appends the fingerprint packages' columns after Zeek's own.
        let (extra_fields, extra_types) = if log == "ssl" {
            ("\tja3\tja3s\tja4", "\tstring\tstring\tstring")
        } else {
            ("", "")
        };
        assert_eq!(
            ours.fields,
            format!("{}{extra_fields}", zeek.fields),
            "{log}: field names and order"
        );
        assert_eq!(
            ours.types,
            format!("{}{extra_types}", zeek.types),
            "{log}: field types"
        );
        assert!(!zeek.rows.is_empty());
        for z in &zeek.rows {
            let o = ours
                .rows
                .iter()
                .find(|o| tuple(o) == tuple(z))
                .unwrap_or_else(|| panic!("{log}: no line for Zeek's {z:?}"));
            for f in fields {
                assert_eq!(o[*f], z[*f], "{log} {f}: ours {o:?}\nZeek's {z:?}");
            }
            // The client's side, where Zeek had it.
            if log == "kerberos" && z["client"] != "-" {
                assert_eq!(o["client"], z["client"]);
            }
        }
    }
    // LDAP: the SASL binds of the campaign's tools.
    let ldap = read_log(&dir.join("ldap.log")).unwrap();
    assert!(
        ldap.rows
            .iter()
            .any(|r| r["opcode"] == "bind" && r["argument"] == "SASL: GSS-SPNEGO"),
        "{:?}",
        ldap.rows
    );
    let searches = read_log(&dir.join("ldap_search.log")).unwrap();
    assert!(
        searches
            .rows
            .iter()
            .any(|r| r["filter"] == "(objectclass=*)")
    );
}

#[test]
fn app_records_reach_events_as_zeek_datasets() {
    let Some(corpus) = common::corpus_dir("app_records_reach_events_as_zeek_datasets") else {
        return;
    };
    let capture = corpus.join(LSASS);
    let dir = zeek_dir(&capture, "lsass-events");
    let evs = events(&capture);
    let count = |ds: &str| evs.iter().filter(|e| e["event"]["dataset"] == ds).count();
    for (ds, log) in [
        ("zeek.kerberos", "kerberos"),
        ("zeek.ssl", "ssl"),
        ("zeek.http", "http"),
    ] {
        let rows = read_log(&dir.join(format!("{log}.log"))).unwrap().rows;
        assert_eq!(count(ds), rows.len(), "{ds}");
    }
    // A Kerberos exchange is an authentication of its client principal,
    // as the same line of Zeek's kerberos.log would be.
    let krb: Vec<&serde_json::Value> = evs
        .iter()
        .filter(|e| e["event"]["dataset"] == "zeek.kerberos")
        .collect();
    assert!(krb.iter().any(|e| e["user"]["name"] == "stevie.marie"
        && e["event"]["action"] == "kerberos-tgt-request"
        && e["event"]["outcome"] == "success"));
    assert!(
        krb.iter()
            .any(|e| e["event"]["action"] == "kerberos-service-ticket"
                && e["service"]["name"] == "LDAP/DC01.pandalab.com/pandalab.com")
    );
    assert!(krb.iter().all(|e| {
        e["labels"]["zeek_uid"]
            .as_str()
            .is_some_and(|u| u.starts_with('C'))
    }));
}

/// `tshark -T fields` output for `filter`, one row of `fields` per packet.
fn tshark(capture: &Path, filter: &str, fields: &[&str]) -> Option<Vec<Vec<String>>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(capture)
        .args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    )
}

#[test]
fn kerberos_over_udp_pairs_requests_with_answers() {
    let Some(corpus) = common::corpus_dir("kerberos_over_udp_pairs_requests_with_answers") else {
        return;
    };
    let capture = corpus.join("pcap/format/zeek/krb/kinit.pcap");
    let dir = zeek_dir(&capture, "kinit");
    uids_join_conn_log(&dir, &["kerberos"]);
    let krb = read_log(&dir.join("kerberos.log")).unwrap().rows;
    let conn = read_log(&dir.join("conn.log")).unwrap().rows;
    // Each exchange is on a conversation of conn.log with the KDC; most
    // of this trace's are over UDP.
    let mut udp = 0;
    for r in &krb {
        let c = conn.iter().find(|c| c["uid"] == r["uid"]).unwrap();
        assert!(c["proto"] == "udp" || c["proto"] == "tcp", "{c:?}");
        udp += usize::from(c["proto"] == "udp");
        assert_eq!(r["id.resp_p"], "88");
    }
    assert!(udp >= 10, "{udp} UDP exchanges");
    let granted: Vec<&Row> = krb.iter().filter(|r| r["success"] == "T").collect();
    assert!(granted.len() >= 10, "{}", granted.len());
    assert!(granted.iter().all(|r| r["cipher"] != "-"));
    let clients: BTreeSet<&str> = krb.iter().map(|r| r["client"].as_str()).collect();
    assert!(
        clients.contains("valid_client_principal/VLADG.NET"),
        "{clients:?}"
    );
    // Wireshark's reading of the AS requests: the client name by source port.
    let Some(rows) = tshark(
        &capture,
        "kerberos.msg_type == 10",
        &["udp.srcport", "kerberos.CNameString"],
    ) else {
        eprintln!("SKIPPED kerberos tshark comparison: tshark not installed");
        return;
    };
    // Zeek, and so kerberos.log, leaves out the KDC's NEEDED_PREAUTH
    // answers (`KRB::ignored_errors`): their client ports, by Wireshark.
    let preauth: BTreeSet<String> = tshark(
        &capture,
        "kerberos.e_text == \"NEEDED_PREAUTH\"",
        &["udp.dstport"],
    )
    .unwrap_or_default()
    .into_iter()
    .filter_map(|r| r.into_iter().next())
    .collect();
    assert!(!preauth.is_empty());
    let mut compared = 0;
    for row in rows {
        let [port, cname] = &row[..] else {
            continue;
        };
        if port.is_empty() || cname.contains(',') {
            continue;
        }
        if preauth.contains(port) {
            assert!(krb.iter().all(|r| &r["id.orig_p"] != port), "port {port}");
            continue;
        }
        let ours = krb
            .iter()
            .find(|r| &r["id.orig_p"] == port)
            .unwrap_or_else(|| panic!("no kerberos.log line for port {port}"));
        let (name, _realm) = ours["client"].rsplit_once('/').unwrap();
        assert_eq!(name, cname, "port {port}");
        compared += 1;
    }
    assert!(compared >= 10, "{compared}");
}

#[test]
fn tls_server_names_match_tshark() {
    let Some(corpus) = common::corpus_dir("tls_server_names_match_tshark") else {
        return;
    };
    let capture = corpus.join("pcap/lateral/otrf/schtask_create_2020-12-1907003032.pcapng");
    let dir = zeek_dir(&capture, "schtask");
    uids_join_conn_log(&dir, &["ssl", "http"]);
    let ssl = read_log(&dir.join("ssl.log")).unwrap().rows;
    let named: Vec<&Row> = ssl.iter().filter(|r| r["server_name"] != "-").collect();
    assert!(!named.is_empty());
    // The name is in the client's bytes, as sent.
    let bytes = std::fs::read(&capture).unwrap();
    for r in &named {
        let sni = r["server_name"].as_bytes();
        assert!(bytes.windows(sni.len()).any(|w| w == sni), "{r:?}");
        assert_eq!(r["version"], "TLSv12");
    }
    let Some(rows) = tshark(
        &capture,
        "tls.handshake.type == 1",
        &["tcp.srcport", "tls.handshake.extensions_server_name"],
    ) else {
        eprintln!("SKIPPED tls_server_names_match_tshark: tshark not installed");
        return;
    };
    let mut compared = 0;
    for row in rows {
        let [port, sni] = &row[..] else {
            continue;
        };
        if let Some(o) = ssl.iter().find(|r| &r["id.orig_p"] == port) {
            let want = if sni.is_empty() { "-" } else { sni.as_str() };
            assert_eq!(o["server_name"], want, "port {port}");
            compared += 1;
        }
    }
    assert_eq!(compared, ssl.len());
}

/// The `ja3`, `ja3s` and `ja4` columns of ssl.log: JA3 and JA3S equal
/// tshark's `tls.handshake.ja3` and `tls.handshake.ja3s` of the same
/// hellos; JA4's shape is checked against the hello's own counts.
#[test]
fn tls_fingerprints_match_tshark() {
    let Some(corpus) = common::corpus_dir("tls_fingerprints_match_tshark") else {
        return;
    };
    let mut compared = (0, 0);
    for (name, capture) in [
        (
            "schtask-ja3",
            "pcap/lateral/otrf/schtask_create_2020-12-1907003032.pcapng",
        ),
        ("lsass-ja3", LSASS),
    ] {
        let capture = corpus.join(capture);
        let dir = zeek_dir(&capture, name);
        let ssl = read_log(&dir.join("ssl.log")).unwrap().rows;
        assert!(!ssl.is_empty(), "{name}");
        for r in &ssl {
            for f in ["ja3", "ja3s"] {
                let v = &r[f];
                assert!(
                    v == "-" || (v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit())),
                    "{f} {v}"
                );
            }
            let ja4 = &r["ja4"];
            if r["ja3"] != "-" {
                // t, version, d or i, ciphers, extensions, ALPN; two hashes.
                let parts: Vec<&str> = ja4.split('_').collect();
                assert_eq!(parts.len(), 3, "{ja4}");
                assert!(parts[0].starts_with('t') && parts[0].len() == 10, "{ja4}");
                let sni = if r["server_name"] == "-" { 'i' } else { 'd' };
                assert_eq!(parts[0].chars().nth(3), Some(sni), "{ja4}");
                assert!(parts[1..].iter().all(|p| p.len() == 12), "{ja4}");
            } else {
                assert_eq!(ja4, "-");
            }
        }
        let Some(hellos) = tshark(
            &capture,
            "tls.handshake.type == 1 || tls.handshake.type == 2",
            &[
                "tcp.stream",
                "tcp.srcport",
                "tcp.dstport",
                "tls.handshake.ja3",
                "tls.handshake.ja3s",
            ],
        ) else {
            eprintln!("SKIPPED tls_fingerprints_match_tshark: tshark not installed");
            return;
        };
        for row in hellos {
            let [_, sport, dport, ja3, ja3s] = &row[..] else {
                continue;
            };
            // A hello of a connection ssl.log has (ports identify them here).
            if !ja3.is_empty()
                && let Some(o) = ssl.iter().find(|r| &r["id.orig_p"] == sport)
            {
                assert_eq!(&o["ja3"], ja3, "{name} client port {sport}");
                compared.0 += 1;
            }
            if !ja3s.is_empty()
                && let Some(o) = ssl.iter().find(|r| &r["id.orig_p"] == dport)
            {
                assert_eq!(&o["ja3s"], ja3s, "{name} client port {dport}");
                compared.1 += 1;
            }
        }
    }
    assert!(compared.0 >= 1 && compared.1 >= 1, "{compared:?}");
}

#[test]
fn http_requests_match_tshark() {
    let Some(corpus) = common::corpus_dir("http_requests_match_tshark") else {
        return;
    };
    let capture = corpus.join(LSASS);
    let dir = zeek_dir(&capture, "lsass-http");
    let http = read_log(&dir.join("http.log")).unwrap().rows;
    assert_eq!(http.len(), 3);
    for r in &http {
        assert_eq!(r["method"], "GET");
        assert_eq!(r["host"], "10.0.5.13");
    }
    let uris: Vec<&str> = http.iter().map(|r| r["uri"].as_str()).collect();
    assert!(uris.contains(&"/winx64_payload.exe"), "{uris:?}");
    // HTTP over TCP: tshark also dissects SSDP (HTTP-shaped UDP
    // multicast), which is no HTTP connection and no http.log row.
    let Some(rows) = tshark(
        &capture,
        "http.request && tcp",
        &["tcp.srcport", "http.host", "http.request.uri"],
    ) else {
        eprintln!("SKIPPED http_requests_match_tshark: tshark not installed");
        return;
    };
    let theirs: BTreeSet<(String, String, String)> = rows
        .into_iter()
        .filter_map(|r| match &r[..] {
            [p, h, u] => Some((p.clone(), h.clone(), u.clone())),
            _ => None,
        })
        .collect();
    let ours: BTreeSet<(String, String, String)> = http
        .iter()
        .map(|r| (r["id.orig_p"].clone(), r["host"].clone(), r["uri"].clone()))
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn rdp_cookie_and_protocols_from_the_connection_request() {
    let Some(corpus) = common::corpus_dir("rdp_cookie_and_protocols_from_the_connection_request")
    else {
        return;
    };
    let capture = corpus.join("pcap/format/zeek/rdp/rdp-to-ssl.pcap");
    let dir = zeek_dir(&capture, "rdp");
    uids_join_conn_log(&dir, &["rdp"]);
    let rdp = read_log(&dir.join("rdp.log")).unwrap().rows;
    assert_eq!(rdp.len(), 2);
    // The cookie as the client sent it, read straight from the capture.
    let bytes = std::fs::read(&capture).unwrap();
    let at = bytes
        .windows(17)
        .position(|w| w == b"Cookie: mstshash=")
        .unwrap();
    let rest = &bytes[at + 17..];
    let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
    let cookie = std::str::from_utf8(&rest[..end]).unwrap();
    for r in &rdp {
        assert_eq!(r["cookie"], cookie);
        // The server chose CredSSP: what follows is TLS, and Zeek logs
        // `encrypted` (btest scripts.base.protocols.rdp.rdp-to-ssl).
        assert_eq!(r["result"], "encrypted");
        assert_eq!(r["security_protocol"], "HYBRID");
    }
    // The cookie is the user of an RDP connection event.
    let evs = events(&capture);
    let users: Vec<&serde_json::Value> = evs
        .iter()
        .filter(|e| e["event"]["dataset"] == "zeek.rdp")
        .map(|e| &e["user"]["name"])
        .collect();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u.as_str() == Some(cookie)));
    assert!(
        evs.iter()
            .filter(|e| e["event"]["dataset"] == "zeek.rdp")
            .all(|e| e["labels"]["requested_protocols"] == "SSL,HYBRID")
    );
}

#[test]
fn ssh_guessing_is_failed_logons() {
    let Some(corpus) = common::corpus_dir("ssh_guessing_is_failed_logons") else {
        return;
    };
    let capture = corpus.join("pcap/format/zeek/ssh/sshguess.pcap");
    let dir = zeek_dir(&capture, "sshguess");
    uids_join_conn_log(&dir, &["ssh"]);
    let ssh = read_log(&dir.join("ssh.log")).unwrap().rows;
    assert!(ssh.len() >= 10);
    let bytes = std::fs::read(&capture).unwrap();
    for r in &ssh {
        assert_eq!(r["auth_success"], "F", "{r:?}");
        for side in ["client", "server"] {
            let v = r[side].as_bytes();
            assert!(bytes.windows(v.len()).any(|w| w == v), "{side} {r:?}");
        }
    }
    let failed = events(&capture)
        .into_iter()
        .filter(|e| e["event"]["dataset"] == "zeek.ssh" && e["event"]["action"] == "logon-failed")
        .count();
    assert_eq!(failed, ssh.len());
}

/// A raw IPv4/TCP frame (link type 101).
fn tcp_frame(
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    flags: u8,
    seq: u32,
    data: &[u8],
) -> Vec<u8> {
    let total = 20 + 20 + data.len();
    let mut f = vec![0x45, 0];
    f.extend((total as u16).to_be_bytes());
    f.extend([0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend(src);
    f.extend(dst);
    f.extend(sport.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend(seq.to_be_bytes());
    f.extend(1u32.to_be_bytes());
    f.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(data);
    f
}

#[test]
fn protocols_on_unusual_ports_are_recognised_by_their_first_bytes() {
    use lateral::model::event::Timestamp;
    use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
    let dir = std::env::temp_dir().join(format!("lateral-app-sniff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join("sniff.pcap");
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
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let mut t = 1_700_000_000i64;
    let mut write = |frame: Vec<u8>| {
        t += 1;
        w.write_packet(Timestamp(t * 1_000_000_000), &frame, frame.len() as u32)
            .unwrap();
    };
    let req = b"GET /beacon?id=7 HTTP/1.1\r\nHost: c2.example\r\nUser-Agent: agent/1\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (syn, synack, ack, fin) = (0x02, 0x12, 0x10, 0x11);
    // HTTP on 9999: the client speaks first.
    write(tcp_frame(c, 50001, s, 9999, syn, 100, &[]));
    write(tcp_frame(s, 9999, c, 50001, synack, 500, &[]));
    write(tcp_frame(c, 50001, s, 9999, ack | 0x08, 101, req));
    write(tcp_frame(s, 9999, c, 50001, ack | 0x08, 501, resp));
    write(tcp_frame(
        c,
        50001,
        s,
        9999,
        fin,
        101 + req.len() as u32,
        &[],
    ));
    write(tcp_frame(
        s,
        9999,
        c,
        50001,
        fin,
        501 + resp.len() as u32,
        &[],
    ));
    // SSH on 2222: the server speaks first.
    let banner_s = b"SSH-2.0-OpenSSH_9.6\r\n";
    let banner_c = b"SSH-2.0-PuTTY_Release_0.80\r\n";
    write(tcp_frame(c, 50002, s, 2222, syn, 100, &[]));
    write(tcp_frame(s, 2222, c, 50002, synack, 500, &[]));
    write(tcp_frame(s, 2222, c, 50002, ack | 0x08, 501, banner_s));
    write(tcp_frame(c, 50002, s, 2222, ack | 0x08, 101, banner_c));
    write(tcp_frame(
        c,
        50002,
        s,
        2222,
        fin,
        101 + banner_c.len() as u32,
        &[],
    ));
    write(tcp_frame(
        s,
        2222,
        c,
        50002,
        fin,
        501 + banner_s.len() as u32,
        &[],
    ));
    // Neither: bytes no analyzer knows on 7777 make no record.
    write(tcp_frame(c, 50003, s, 7777, syn, 100, &[]));
    write(tcp_frame(
        c,
        50003,
        s,
        7777,
        ack | 0x08,
        101,
        b"hello there\r\n",
    ));
    w.finish().unwrap();

    let out = zeek_dir(&capture, "sniff");
    let http = read_log(&out.join("http.log")).expect("http.log").rows;
    assert_eq!(http.len(), 1);
    let h = &http[0];
    assert_eq!(
        (
            h["id.resp_p"].as_str(),
            h["method"].as_str(),
            h["host"].as_str(),
            h["uri"].as_str()
        ),
        ("9999", "GET", "c2.example", "/beacon?id=7")
    );
    assert_eq!(
        (h["status_code"].as_str(), h["user_agent"].as_str()),
        ("200", "agent/1")
    );
    let ssh = read_log(&out.join("ssh.log")).expect("ssh.log").rows;
    assert_eq!(ssh.len(), 1);
    assert_eq!(ssh[0]["id.resp_p"], "2222");
    assert_eq!(ssh[0]["client"], "SSH-2.0-PuTTY_Release_0.80");
    assert_eq!(ssh[0]["server"], "SSH-2.0-OpenSSH_9.6");
    // Only logs with records are written.
    for absent in ["kerberos.log", "ssl.log", "rdp.log", "ldap.log"] {
        assert!(!out.join(absent).exists(), "{absent}");
    }
    // The run's counters say what each analyzer did.
    let stats = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["flows", "--stats", "-o"])
        .arg(dir.join("conn.log"))
        .arg(&capture)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&stats.stderr);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line in {text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    let http_line = line("http ");
    assert_eq!(http_line[1], "1", "{http_line:?}");
    assert_eq!(http_line[5], "1", "{http_line:?}");
    let ssh_line = line("ssh ");
    assert_eq!(ssh_line[1], "1", "{ssh_line:?}");
}

/// A raw IPv4/UDP frame (link type 101).
fn udp_frame(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, data: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + data.len();
    let mut f = vec![0x45, 0];
    f.extend((total as u16).to_be_bytes());
    f.extend([0, 1, 0, 0, 64, 17, 0, 0]);
    f.extend(src);
    f.extend(dst);
    f.extend(sport.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend(((8 + data.len()) as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend_from_slice(data);
    f
}

/// A capture of one client getting service tickets for four SPNs over UDP.
fn ticket_capture(path: &Path, etype: u8) {
    use lateral::model::event::Timestamp;
    use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
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
    let (client, dc) = ([10, 0, 0, 21], [10, 0, 0, 10]);
    let spns: [&[&str]; 4] = [
        &["MSSQLSvc", "sql01.corp.local:1433"],
        &["HTTP", "web01.corp.local"],
        &["cifs", "files02.corp.local"],
        &["exchangeMDB", "mail01.corp.local"],
    ];
    for (i, spn) in spns.iter().enumerate() {
        let port = 50_010 + i as u16;
        let t = 1_700_000_000 + 5 * i as i64;
        let rep = common::kerberos_der::tgs_rep("svc_scanner", spn, etype, 48, 48);
        let frame = udp_frame(dc, 88, client, port, &rep);
        w.write_packet(Timestamp(t * 1_000_000_000), &frame, frame.len() as u32)
            .unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn kerberoasting_is_found_in_a_capture_alone() {
    let dir = std::env::temp_dir().join(format!("lateral-kerberoast-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let alerts = |etype: u8| {
        let cap = dir.join(format!("tickets-{etype}.pcap"));
        ticket_capture(&cap, etype);
        let logs = zeek_dir(&cap, &format!("tickets-{etype}"));
        let krb = read_log(&logs.join("kerberos.log")).unwrap().rows;
        assert_eq!(krb.len(), 4);
        for r in &krb {
            assert_eq!(r["client"], "svc_scanner/CORP.LOCAL");
            assert_eq!(r["request_type"], "TGS");
            assert_eq!(r["id.orig_h"], "10.0.0.21");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
            .args(["analyze", "-q", "--learn", "0%", "--json", "-"])
            .arg(&cap)
            .output()
            .unwrap();
        (
            krb,
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains("lateral.kerberoast"))
                .map(str::to_string)
                .collect::<Vec<String>>(),
        )
    };
    let (krb, rc4) = alerts(23);
    assert!(krb.iter().all(|r| r["cipher"] == "rc4-hmac"));
    assert_eq!(rc4.len(), 1, "{rc4:?}");
    assert!(
        rc4[0].contains("T1558.003") && rc4[0].contains("svc_scanner"),
        "{}",
        rc4[0]
    );
    // The same requests answered with AES tickets are not kerberoasting.
    let (krb, aes) = alerts(18);
    assert!(krb.iter().all(|r| r["cipher"] == "aes256-cts-hmac-sha1-96"));
    assert!(aes.is_empty(), "{aes:?}");
}
