//! Any bytes through the LANL `flows.txt` reader.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("lanl-flows", data));
