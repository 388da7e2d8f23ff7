//! Any bytes as either direction of a TLS connection, through the record
//! and handshake parsers, the fingerprints and the ssl.log record and writer.
#![no_main]
use lateral::analyzer::tls;
use lateral::report::zeek_app::{self, ssl::SslInfo};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let client = tls::parse_flight(data, true);
    let server = tls::parse_flight(data, false);
    if let Some(c) = &client.client_hello {
        let _ = (c.ja3(), c.ja4());
    }
    if let Some(s) = &server.server_hello {
        let _ = s.ja3s();
    }
    zeek_app::write_line(&SslInfo::from_flights(Default::default(), Default::default(), &client, &server), &mut Vec::new());
});
