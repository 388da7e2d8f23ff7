//! Any bytes through the `journalctl -o json` reader.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("journal", data));
