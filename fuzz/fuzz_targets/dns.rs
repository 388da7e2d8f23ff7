//! Any bytes through the DNS response parser and the event mapping.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(resp) = lateral::source::dns::parse_response(data) {
        let cx = lateral::source::dns::DnsContext {
            ts: Default::default(),
            server: (std::net::Ipv4Addr::LOCALHOST.into(), 53),
            client: (std::net::Ipv4Addr::LOCALHOST.into(), 5353),
            file: "fuzz".into(),
            offset: 0,
        };
        let mut out = Vec::new();
        lateral::source::dns::answer_events(resp, &cx, &mut out);
    }
});
