//! Any bytes through the auditd `audit.log` reader.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("auditd", data));
