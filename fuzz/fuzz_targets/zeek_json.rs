//! Any bytes through the Zeek JSON Lines reader and the Zeek mapping.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("zeek-json", data));
