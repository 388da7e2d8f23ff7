//! Any bytes through the capture reader, decoder, IP fragment reassembler,
//! analyzers and flow table.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_capture(data));
