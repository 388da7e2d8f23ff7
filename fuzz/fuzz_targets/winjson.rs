//! Any bytes through the Windows JSON Lines reader (Winlogbeat and flat shapes) and the Windows mapping.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("winjson", data));
