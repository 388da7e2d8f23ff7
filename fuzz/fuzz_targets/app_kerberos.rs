//! Any bytes as a Kerberos TCP stream and as one UDP datagram, through the
//! parser and the kerberos.log record and writer.
#![no_main]
use lateral::analyzer::kerberos;
use lateral::report::zeek_app::{self, kerberos::KerberosInfo};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut messages = vec![kerberos::parse_message(data)];
    let mut rest = data;
    while let Ok((msg, after)) = kerberos::parse_tcp_record(rest) {
        messages.push(kerberos::parse_message(msg));
        rest = after;
    }
    let request = messages.iter().find_map(|m| match m {
        Ok(kerberos::Message::Request(r)) => Some(r),
        _ => None,
    });
    for m in messages.iter().flatten() {
        // Exchanges Zeek leaves out of kerberos.log (NEEDED_PREAUTH) give no record.
        if let Some(info) =
            KerberosInfo::from_exchange(Default::default(), Default::default(), request, Some(m))
        {
            zeek_app::write_line(&info, &mut Vec::new());
        }
    }
});
