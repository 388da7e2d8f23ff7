//! Any bytes as a Sigma rule file: parsed, compiled, and evaluated once over a small record.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    lateral::sigma::fuzz_rule(data);
});
