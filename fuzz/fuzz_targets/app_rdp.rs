//! Any bytes as the first bytes of either side of an RDP connection,
//! through the parsers and the rdp.log record and writer.
#![no_main]
use lateral::analyzer::rdp;
use lateral::report::zeek_app::{self, rdp::RdpInfo};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let req = rdp::parse_connection_request(data).ok();
    let confirm = rdp::parse_connection_confirm(data).ok();
    let core = rdp::parse_client_core(data).ok();
    let info = RdpInfo::from_parts(Default::default(), Default::default(), req.as_ref(), confirm.as_ref(), core.as_ref());
    zeek_app::write_line(&info, &mut Vec::new());
});
