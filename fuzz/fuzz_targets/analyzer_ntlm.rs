//! Any bytes through the capture analyzers' `ntlm` entry (`lateral::analyzer::fuzz`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::analyzer::fuzz("ntlm", data));
