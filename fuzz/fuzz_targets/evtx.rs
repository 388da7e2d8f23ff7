//! Any bytes (after an EVTX file header) through the EVTX reader and the Windows mapping.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut bytes = b"ElfFile\0".to_vec();
    bytes.extend_from_slice(data);
    let mut w = lateral::input::ByteWindow::owned(bytes);
    let _ = lateral::source::evtx::read_evtx(&mut w, &"fuzz".into(), &Default::default());
});
