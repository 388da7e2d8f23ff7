//! Any bytes through the baseline file decoder: as a whole file, or wrapped
//! in a well-formed container so the checksum does not stop them (see
//! `lateral::fuzz_baseline`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_baseline(data));
