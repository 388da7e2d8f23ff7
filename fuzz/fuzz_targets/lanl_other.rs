//! Any bytes through the other LANL readers: the first byte picks `dns.txt`,
//! `proc.txt`, `redteam.txt` or the 2017 `netflow_day-NN`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&pick, rest)) = data.split_first() {
        let kinds = ["lanl-dns", "lanl-proc", "lanl-redteam", "lanl-netflow"];
        let kind = kinds[usize::from(pick) % kinds.len()];
        lateral::fuzz_log(kind, rest);
    }
});
