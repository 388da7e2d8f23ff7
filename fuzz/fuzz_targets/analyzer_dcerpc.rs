//! Any bytes through the capture analyzers' `dcerpc` entry (`lateral::analyzer::fuzz`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::analyzer::fuzz("dcerpc", data));
