//! The SMB and DCE-RPC analyzers give up at once on a connection seen from
//! its SYN whose first bytes are not their protocol: on the throughput
//! capture (random payloads on the SMB and RPC ports) every such
//! connection is a parse error in `--stats`, and almost nothing is
//! scanned for a message start; the lab captures' real SMB is still read
//! (`tests/analyzer_corpus.rs`).

use std::process::Command;

/// The number before `unit` in `line` (`6575 conns` -> 6575).
fn count_before(line: &str, unit: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == unit)
        .unwrap_or_else(|| panic!("no {unit} in {line}"));
    words[at - 1].parse().unwrap()
}

#[test]
fn random_bytes_on_smb_and_rpc_ports_are_given_up_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("bulk.pcap");
    let lateral = env!("CARGO_BIN_EXE_lateral");
    let generated = Command::new(lateral)
        .args([
            "gen",
            "--scenario",
            "bulk",
            "--flows",
            "1000",
            "--packets",
            "50000",
        ])
        .args(["--seed", "7", "-o"])
        .arg(&cap)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let out = Command::new(lateral)
        .args(["flows", "--quiet", "--stats"])
        .arg(&cap)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stats = String::from_utf8_lossy(&out.stderr);
    // Connections let go after 5 minutes idle: one that goes on afterwards
    // is followed again from mid-stream (as conn.log starts a new record),
    // and is not judged from its first bytes.
    let reaped = stats
        .lines()
        .find(|l| l.contains("analyzer connections"))
        .map(|l| count_before(l, "TCP"))
        .unwrap_or_else(|| panic!("no analyzer connections line in\n{stats}"));
    for name in ["smb", "dcerpc"] {
        let line = stats
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} line in\n{stats}"));
        let conns = count_before(line, "conns");
        assert!(conns > 0, "{line}");
        assert_eq!(count_before(line, "records"), 0, "{line}");
        // Every connection seen from its SYN was judged from its first
        // bytes, and given up.
        let errors = count_before(line, "errors");
        assert!(
            errors <= conns && conns - errors <= reaped,
            "{line}, {reaped} reaped"
        );
        assert!(errors * 100 >= conns * 95, "{line}");
    }
    let reasm = stats
        .lines()
        .find(|l| l.contains("analyzer reassembly"))
        .unwrap();
    let words: Vec<&str> = reasm.split_whitespace().collect();
    let at = words.iter().position(|w| w.starts_with("resync")).unwrap();
    assert_eq!(words[at - 1], "B", "{reasm}");
    let resync: u64 = words[at - 2].parse().unwrap();
    let size = std::fs::metadata(&cap).unwrap().len();
    // Before, the random streams were scanned byte by byte (a fifth of the
    // capture); now only the first bytes are looked at.
    assert!(resync * 1000 < size, "resync {resync} of {size}: {reasm}");
}
