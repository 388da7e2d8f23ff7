//! Any bytes through the LANL 2017 `wls_day-NN` reader (JSON Windows host events).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("lanl-wls", data));
