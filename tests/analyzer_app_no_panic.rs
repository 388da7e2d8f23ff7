//! Arbitrary bytes never panic the application analyzers or their Zeek
//! records: each parser, and the record built from what it returns, over
//! random inputs and over real-looking prefixes with random tails.

use lateral::analyzer::{http, kerberos, ldap, rdp, ssh, tls};
use lateral::report::zeek_app;
use proptest::prelude::*;

fn all_parsers(data: &[u8]) {
    let mut out = Vec::new();
    let mut rest = data;
    let _ = kerberos::parse_message(data);
    while let Ok((msg, after)) = kerberos::parse_tcp_record(rest) {
        if let Ok(m) = kerberos::parse_message(msg)
            && let Some(info) = zeek_app::kerberos::KerberosInfo::from_exchange(
                Default::default(),
                Default::default(),
                None,
                Some(&m),
            )
        {
            zeek_app::write_line(&info, &mut out);
        }
        rest = after;
    }
    let reqs = http::parse_requests(data);
    let resps = http::parse_responses(data, &http::head_flags(&reqs.messages));
    for t in http::pair(reqs.messages, resps.messages) {
        zeek_app::write_line(
            &zeek_app::http::HttpInfo::from_transaction(Default::default(), Default::default(), &t),
            &mut out,
        );
    }
    let _ = (
        rdp::parse_connection_request(data),
        rdp::parse_connection_confirm(data),
        rdp::parse_client_core(data),
    );
    let mut st = ssh::SshState::default();
    for chunk in data.chunks(7) {
        st.client.segment(chunk);
        st.server.segment(chunk);
    }
    zeek_app::write_line(
        &zeek_app::ssh::SshInfo::from_state(Default::default(), Default::default(), &st),
        &mut out,
    );
    let (c, s) = (
        tls::parse_flight(data, true),
        tls::parse_flight(data, false),
    );
    if let Some(h) = &c.client_hello {
        let _ = (h.ja3(), h.ja4());
    }
    zeek_app::write_line(
        &zeek_app::ssl::SslInfo::from_flights(Default::default(), Default::default(), &c, &s),
        &mut out,
    );
    let l = ldap::parse_messages(data);
    let (ops, searches) = zeek_app::ldap::records(
        Default::default(),
        &Default::default(),
        &l.messages,
        &l.messages,
    );
    for r in &ops {
        zeek_app::write_line(r, &mut out);
    }
    for r in &searches {
        zeek_app::write_line(r, &mut out);
    }
}

/// Starts that get the bytes past each parser's first checks.
const PREFIXES: [&[u8]; 8] = [
    b"",
    b"\x00\x00\x01\x00\x6a\x82\x00\xfc\x30\x82\x00\xf8",
    b"\x7e\x81\x80\x30\x7e\xa0\x03\x02\x01\x05",
    b"GET / HTTP/1.1\r\nContent-Length: 5\r\nAuthorization: Negotiate ",
    b"\x03\x00\x00\x40\x3b\xe0\x00\x00\x00\x00\x00Cookie: mstshash=",
    b"SSH-2.0-x\r\n\x00\x00\x01\x00\x04\x14",
    b"\x16\x03\x01\x01\x00\x01\x00\x00\xfc\x03\x03",
    b"\x30\x84\x00\x00\x01\x00\x02\x01\x01\x63\x84\x00\x00\x00\xf0\x04\x00\x0a\x01\x02",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        all_parsers(&data);
    }

    #[test]
    fn prefixed_random_tails_never_panic(which in 0usize..PREFIXES.len(), tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut data = PREFIXES[which].to_vec();
        data.extend(tail);
        all_parsers(&data);
    }
}
