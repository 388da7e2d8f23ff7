//! Any bytes through the LANL `auth.txt` reader.
#![no_main]
use lateral::source::LogFormat;
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log(
    LogFormat::Lanl(lateral::source::lanl::LanlKind::Auth),
    data
));
