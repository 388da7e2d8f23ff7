//! The application analyzers and their Zeek log writers against Zeek itself:
//! `logs/zeek/{kerberos,ssl,http}.log` are Zeek's logs of the capture in
//! `pcap/lateral/otrf-lsass/`. For every connection Zeek logged, the record
//! built from our parsers' view of the same connection is written with our
//! TSV writer, read back by the header's field names, and compared field by
//! field with Zeek's line.
//!
//! Zeek dropped the capturing host's own packets (their TCP checksums were
//! left to the network card, so they are wrong in the capture): its lines
//! hold only what the servers sent. So the comparison covers every field
//! Zeek derived from the server side (a ticket's service and cipher, an
//! error's name, TLS version, cipher and curve, HTTP status and response
//! sizes), and the fields from the client side where Zeek has a value.

mod analyzer_app_streams;
mod common;

use analyzer_app_streams::{Conn, connections};
use lateral::analyzer::{http, kerberos, tls};
use lateral::report::zeek_app::{self, ConnRef, ZeekLog};
use std::collections::BTreeMap;
use std::path::Path;

const CAPTURE: &str = "pcap/lateral/otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng";

/// A Zeek TSV log's records as maps from field name to value text.
fn read_zeek_tsv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut fields: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            out.push(
                fields
                    .iter()
                    .cloned()
                    .zip(line.split('\t').map(str::to_string))
                    .collect(),
            );
        }
    }
    out
}

/// Our record through our writer (header and line), read back by name.
fn ours<R: ZeekLog>(record: R) -> BTreeMap<String, String> {
    let mut out = Vec::new();
    zeek_app::write_log(&[record], |_| Default::default(), &mut out);
    let text = String::from_utf8(out).unwrap();
    read_zeek_tsv(&text).pop().unwrap()
}

fn conn_ref(c: &Conn) -> ConnRef {
    ConnRef {
        uid: "C".into(),
        orig_h: c.orig.0,
        orig_p: c.orig.1,
        resp_h: c.resp.0,
        resp_p: c.resp.1,
    }
}

fn find<'a>(conns: &'a [Conn], z: &BTreeMap<String, String>) -> &'a Conn {
    conns
        .iter()
        .find(|c| {
            c.orig.0.to_string() == z["id.orig_h"]
                && c.orig.1.to_string() == z["id.orig_p"]
                && c.resp.0.to_string() == z["id.resp_h"]
                && c.resp.1.to_string() == z["id.resp_p"]
        })
        .unwrap_or_else(|| panic!("no connection for Zeek's line {z:?}"))
}

fn compare(
    log: &str,
    z: &BTreeMap<String, String>,
    o: &BTreeMap<String, String>,
    always: &[&str],
    when_zeek_set: &[&str],
) -> usize {
    let mut n = 0;
    for f in always {
        assert_eq!(
            o.get(*f),
            z.get(*f),
            "{log} field {f} of {}:{}",
            z["id.orig_p"],
            z["id.resp_p"]
        );
        n += 1;
    }
    for f in when_zeek_set {
        if z.get(*f).is_some_and(|v| v != "-") {
            assert_eq!(
                o.get(*f),
                z.get(*f),
                "{log} field {f} of {}:{}",
                z["id.orig_p"],
                z["id.resp_p"]
            );
            n += 1;
        }
    }
    n
}

fn setup(test: &str) -> Option<(std::path::PathBuf, Vec<Conn>)> {
    let dir = common::corpus_dir(test)?;
    let conns = connections(&dir.join(CAPTURE));
    Some((dir, conns))
}

fn zeek_log(dir: &Path, name: &str) -> Vec<BTreeMap<String, String>> {
    read_zeek_tsv(
        &std::fs::read_to_string(dir.join("logs/zeek").join(name)).expect("zeek log readable"),
    )
}

#[test]
fn kerberos_log_matches_zeek() {
    let Some((dir, conns)) = setup("kerberos_log_matches_zeek") else {
        return;
    };
    let lines = zeek_log(&dir, "kerberos.log");
    assert_eq!(lines.len(), 10, "kerberos.log records");
    let mut compared = 0;
    for z in &lines {
        let c = find(&conns, z);
        let client = c.client.stream();
        let server = c.server.stream();
        let (req, _) = kerberos::parse_tcp_record(&client).expect("request record");
        let request = match kerberos::parse_message(req).expect("request parses") {
            kerberos::Message::Request(r) => r,
            other => panic!("not a request: {other:?}"),
        };
        let (rep, _) = kerberos::parse_tcp_record(&server).expect("reply record");
        let answer = kerberos::parse_message(rep).expect("reply parses");
        let info = zeek_app::kerberos::KerberosInfo::from_exchange(
            c.ts,
            conn_ref(c),
            Some(&request),
            Some(&answer),
        )
        .expect("Zeek logged this exchange, so do we");
        compared += compare(
            "kerberos",
            z,
            &ours(info),
            &[
                "id.orig_h",
                "id.orig_p",
                "id.resp_h",
                "id.resp_p",
                "service",
                "success",
                "error_msg",
                "cipher",
            ],
            &["client", "request_type"],
        );
    }
    assert!(compared >= 80, "fields compared: {compared}");
}

#[test]
fn ssl_log_matches_zeek() {
    let Some((dir, conns)) = setup("ssl_log_matches_zeek") else {
        return;
    };
    let lines = zeek_log(&dir, "ssl.log");
    assert_eq!(lines.len(), 5, "ssl.log records");
    for z in &lines {
        let c = find(&conns, z);
        let client = tls::parse_flight(&c.client.stream(), true);
        let server = tls::parse_flight(&c.server.stream(), false);
        assert!(client.client_hello.is_some() && server.server_hello.is_some());
        let info = zeek_app::ssl::SslInfo::from_flights(c.ts, conn_ref(c), &client, &server);
        compare(
            "ssl",
            z,
            &ours(info),
            &[
                "version",
                "cipher",
                "curve",
                "server_name",
                "last_alert",
                "next_protocol",
            ],
            &[],
        );
        // Zeek's history holds the server's letters only (it lost the client's packets).
        let ours_history = ours(zeek_app::ssl::SslInfo::from_flights(
            c.ts,
            conn_ref(c),
            &client,
            &server,
        ))["ssl_history"]
            .clone();
        let server_letters: String = ours_history
            .chars()
            .filter(|ch| ch.is_ascii_lowercase())
            .collect();
        assert!(
            z["ssl_history"].starts_with(&server_letters),
            "ssl_history {} vs ours {ours_history}",
            z["ssl_history"]
        );
    }
}

#[test]
fn http_log_matches_zeek() {
    let Some((dir, conns)) = setup("http_log_matches_zeek") else {
        return;
    };
    let lines = zeek_log(&dir, "http.log");
    assert_eq!(lines.len(), 3, "http.log records");
    for z in &lines {
        let c = find(&conns, z);
        let reqs = http::parse_requests(&c.client.stream());
        let resps = http::parse_responses(&c.server.stream(), &http::head_flags(&reqs.messages));
        assert_eq!((reqs.error, resps.error), (None, None));
        let t = http::pair(reqs.messages, resps.messages);
        let depth: usize = z["trans_depth"].parse().unwrap();
        let info = zeek_app::http::HttpInfo::from_transaction(c.ts, conn_ref(c), &t[depth - 1]);
        compare(
            "http",
            z,
            &ours(info),
            &[
                "trans_depth",
                "response_body_len",
                "status_code",
                "status_msg",
                "info_code",
                "username",
            ],
            &["method", "host", "uri", "user_agent"],
        );
    }
}
