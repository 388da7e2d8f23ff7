//! Any bytes as both directions of an HTTP connection, through the request
//! and response parsers, the pairing, and the http.log record and writer.
#![no_main]
use lateral::analyzer::http;
use lateral::report::zeek_app::{self, http::HttpInfo};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let reqs = http::parse_requests(data);
    for r in &reqs.messages {
        if let Some(a) = &r.authorization {
            let _ = (a.mechanism(), a.ntlm_message(), a.basic_user());
        }
    }
    let resps = http::parse_responses(data, &http::head_flags(&reqs.messages));
    for t in http::pair(reqs.messages, resps.messages) {
        zeek_app::write_line(&HttpInfo::from_transaction(Default::default(), Default::default(), &t), &mut Vec::new());
    }
});
