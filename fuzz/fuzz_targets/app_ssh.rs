//! Any bytes as both sides of an SSH connection, cut into segments whose
//! size the first byte picks, through the per-connection state and the
//! ssh.log record and writer.
#![no_main]
use lateral::analyzer::ssh::SshState;
use lateral::report::zeek_app::{self, ssh::SshInfo};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let size = usize::from(first).max(1);
    let mut state = SshState::default();
    for chunk in rest.chunks(size) {
        state.client.segment(chunk);
        state.server.segment(chunk);
    }
    zeek_app::write_line(&SshInfo::from_state(Default::default(), Default::default(), &state), &mut Vec::new());
});
