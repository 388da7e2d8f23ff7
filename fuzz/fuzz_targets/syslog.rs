//! Any bytes through the syslog reader (auth.log, secure, RFC 5424): sshd, pam_unix, sudo.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| lateral::fuzz_log("syslog", data));
