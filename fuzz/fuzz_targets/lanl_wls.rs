//! Any bytes through the LANL 2017 `wls_day-NN` reader (JSON Windows host events).
#![no_main]
use lateral::source::LogFormat;
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log(
    LogFormat::Lanl(lateral::source::lanl::LanlKind::Wls),
    data
));
