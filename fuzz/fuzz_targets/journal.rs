//! Any bytes through the `journalctl -o json` reader.
#![no_main]
use lateral::source::LogFormat;
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log(LogFormat::Journal, data));
