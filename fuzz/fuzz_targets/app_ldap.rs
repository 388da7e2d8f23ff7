//! Any bytes as both directions of an LDAP connection, through the message
//! parser and the ldap.log and ldap_search.log records and writers.
#![no_main]
use lateral::analyzer::ldap;
use lateral::report::zeek_app;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let parsed = ldap::parse_messages(data);
    let (ops, searches) = zeek_app::ldap::records(Default::default(), &Default::default(), &parsed.messages, &parsed.messages);
    let mut out = Vec::new();
    for r in &ops {
        zeek_app::write_line(r, &mut out);
    }
    for r in &searches {
        zeek_app::write_line(r, &mut out);
    }
});
