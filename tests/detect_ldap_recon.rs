//! `lateral.ldap-recon` from captures alone, through the binary: a
//! generated capture of a desk asking a controller's LDAP for protected and
//! service accounts raises it (low, with the bind name and the technique of
//! what was asked), the same desk's plain lookups do not; and the real
//! LDAP searches of the corpus's lsass capture (rootDSE reads before
//! sealed sessions) raise nothing.

mod common;

use lateral::model::event::Timestamp;
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use lateral::synth::tcp_session::TcpSession;
use std::path::Path;
use std::process::Command;

/// A BER element: tag, definite length, body.
fn ber(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        v.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(body);
    v
}

/// A search filter: an equality `(attr=value)` or a presence `(attr=*)`.
fn filter(attr: &str, value: &str) -> Vec<u8> {
    if value == "*" {
        return ber(0x87, attr.as_bytes());
    }
    ber(
        0xa3,
        &[ber(0x04, attr.as_bytes()), ber(0x04, value.as_bytes())].concat(),
    )
}

/// A capture of 10.0.0.21 binding in clear to 10.0.0.10:389 as `bind_dn`
/// and running one subtree search per filter.
fn ldap_capture(path: &Path, bind_dn: &str, filters: &[Vec<u8>]) {
    let message = |id: u8, op: Vec<u8>| ber(0x30, &[ber(0x02, &[id]), op].concat());
    let done = |tag: u8| {
        ber(
            tag,
            &[ber(0x0a, &[0]), ber(0x04, b""), ber(0x04, b"")].concat(),
        )
    };
    let mut frames: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let mut sink = |ts: Timestamp, f: &[u8]| frames.push((ts, f.to_vec()));
    let mut s = TcpSession::new(
        "10.0.0.21:50100".parse().unwrap(),
        "10.0.0.10:389".parse().unwrap(),
        1_000,
        50_000,
    );
    let t = s.handshake(Timestamp::from_parts(1_700_000_000, 0), &mut sink);
    let bind = ber(
        0x60,
        &[
            ber(0x02, &[3]),
            ber(0x04, bind_dn.as_bytes()),
            ber(0x80, b"Winter2024"),
        ]
        .concat(),
    );
    let t = s.send_bytes(t, true, &message(1, bind), &mut sink);
    let mut t = s.send_bytes(t, false, &message(1, done(0x61)), &mut sink);
    for (i, f) in filters.iter().enumerate() {
        let id = 2 + i as u8;
        let search = ber(
            0x63,
            &[
                ber(0x04, b"DC=corp,DC=local"),
                ber(0x0a, &[2]),
                ber(0x0a, &[0]),
                ber(0x02, &[0]),
                ber(0x02, &[0]),
                ber(0x01, &[0]),
                f.clone(),
                ber(0x30, &ber(0x04, b"sAMAccountName")),
            ]
            .concat(),
        );
        t = s.send_bytes(t, true, &message(id, search), &mut sink);
        t = s.send_bytes(t, false, &message(id, done(0x65)), &mut sink);
    }
    s.close(t, true, &mut sink);
    let mut w = CaptureWriter::new(
        std::fs::File::create(path).unwrap(),
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )
    .unwrap();
    for (ts, f) in &frames {
        w.write_packet(*ts, f, f.len() as u32).unwrap();
    }
    w.finish().unwrap();
}

/// The `lateral.ldap-recon` alerts of `analyze --learn 0%` (role priors) on `capture`.
fn recon_alerts(capture: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["analyze", "-q", "--learn", "0%", "--json", "-"])
        .arg(capture)
        .output()
        .expect("run lateral");
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("an alert is JSON"))
        .filter(|a| a["rule"]["id"] == "lateral.ldap-recon")
        .collect()
}

#[test]
fn searches_for_admins_and_service_accounts_in_a_capture_are_recon() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("recon.pcap");
    ldap_capture(
        &cap,
        "CN=jdoe,CN=Users,DC=corp,DC=local",
        &[
            ber(
                0xa0,
                &[
                    filter("objectCategory", "person"),
                    filter("adminCount", "1"),
                ]
                .concat(),
            ),
            filter("servicePrincipalName", "*"),
        ],
    );
    // The analyzer marks both searches as after high-value objects.
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "-q"])
        .arg(&cap)
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| e["event"]["action"] == "ldap-search")
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    let marks: Vec<&str> = events
        .iter()
        .filter_map(|e| e["labels"]["ldap_high_value"].as_str())
        .collect();
    assert_eq!(marks, ["admin_count", "service_principal_name"]);

    let alerts = recon_alerts(&cap);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["source"]["ip"], "10.0.0.21", "{a}");
    assert_eq!(a["destination"]["ip"], "10.0.0.10", "{a}");
    assert_eq!(
        a["threat"]["technique"]["subtechnique"]["id"][0], "T1069.002",
        "{a}"
    );
    let score = a["event"]["risk_score"].as_u64().unwrap();
    assert!(score > 0 && score < 25, "low alone: {score}");
    let text = a.to_string();
    assert!(
        text.contains("CN=jdoe"),
        "the bind name is the account: {text}"
    );
    assert!(
        text.contains("admin_count") && text.contains("service_principal_name"),
        "{text}"
    );
}

#[test]
fn ordinary_lookups_in_a_capture_are_not_recon() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("lookups.pcap");
    ldap_capture(
        &cap,
        "CN=jdoe,CN=Users,DC=corp,DC=local",
        &[
            filter("sAMAccountName", "jdoe"),
            filter("objectCategory", "computer"),
        ],
    );
    let alerts = recon_alerts(&cap);
    assert!(alerts.is_empty(), "{alerts:?}");
}

#[test]
fn real_ldap_searches_of_the_corpus_are_not_recon() {
    let Some(corpus) = common::corpus_dir("real_ldap_searches_of_the_corpus_are_not_recon") else {
        return;
    };
    let cap =
        corpus.join("pcap/lateral/otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng");
    // The capture holds LDAP searches (rootDSE reads)...
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "-q"])
        .arg(&cap)
        .output()
        .unwrap();
    let searches = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("\"ldap-search\""))
        .count();
    assert!(searches >= 3, "{searches}");
    // ...none of them after high-value objects.
    assert!(recon_alerts(&cap).is_empty());
}
