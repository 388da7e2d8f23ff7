//! Property tests: arbitrary bytes, behind a valid capture header or not,
//! never panic the reader, the decoder or the flow table.

use proptest::prelude::*;

fn run(bytes: Vec<u8>) {
    lateral::fuzz_capture(&bytes);
}

const PCAP_LE: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];
const PCAPNG_SHB: [u8; 28] = [
    0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
];
const PCAPNG_IDB: [u8; 20] = [1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..4096)) {
        run(body.clone());
        let mut p = PCAP_LE.to_vec();
        p.extend_from_slice(&body);
        run(p);
        let mut n = PCAPNG_SHB.to_vec();
        n.extend_from_slice(&PCAPNG_IDB);
        n.extend_from_slice(&body);
        run(n);
    }

    /// Records with plausible lengths and random frames exercise the decoder deeply.
    #[test]
    fn random_frames_in_valid_records_never_panic(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..40), lt in prop_oneof![Just(0u32), Just(1), Just(101), Just(108), Just(113), Just(228), Just(229), Just(276), any::<u16>().prop_map(u32::from)]) {
        let mut p = PCAP_LE.to_vec();
        p[20..24].copy_from_slice(&lt.to_le_bytes());
        for (i, f) in frames.iter().enumerate() {
            p.extend_from_slice(&(i as u32).to_le_bytes());
            p.extend_from_slice(&0u32.to_le_bytes());
            p.extend_from_slice(&(f.len() as u32).to_le_bytes());
            p.extend_from_slice(&(f.len() as u32).to_le_bytes());
            p.extend_from_slice(f);
        }
        run(p);
    }

    /// Ethernet frames whose IP header starts right, with random rest.
    #[test]
    fn random_ip_packets_never_panic(packets in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..120)), 0..60)) {
        let mut p = PCAP_LE.to_vec();
        for (i, (v6, rest)) in packets.iter().enumerate() {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(if *v6 { &[0x86, 0xdd, 0x60] } else { &[0x08, 0x00, 0x45] });
            f.extend_from_slice(rest);
            p.extend_from_slice(&(i as u32).to_le_bytes());
            p.extend_from_slice(&0u32.to_le_bytes());
            p.extend_from_slice(&(f.len() as u32).to_le_bytes());
            p.extend_from_slice(&(f.len() as u32 + 7).to_le_bytes());
            p.extend_from_slice(&f);
        }
        run(p);
    }
}
