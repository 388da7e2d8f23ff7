//! Any bytes through the other LANL readers: the first byte picks `dns.txt`,
//! `proc.txt`, `redteam.txt` or the 2017 `netflow_day-NN`.
#![no_main]
use lateral::source::{LogFormat, lanl::LanlKind};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&pick, rest)) = data.split_first() {
        let kinds = [
            LanlKind::Dns,
            LanlKind::Proc,
            LanlKind::Redteam,
            LanlKind::Netflow,
        ];
        let kind = kinds[usize::from(pick) % kinds.len()];
        lateral::fuzz_log(LogFormat::Lanl(kind), rest);
    }
});
