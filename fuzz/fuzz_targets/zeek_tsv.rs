//! Any bytes through the Zeek TSV reader: header blocks, schemas, data lines, the Zeek mapping.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("zeek", data));
