//! `lateral flows --community-id`: conn.log rows end with the flow's
//! Community ID, as Zeek writes them with its community-id-logging policy.
//! Checked against Zeek's own baseline for the corpus trace it has one for,
//! and against the `network.community_id` of the same connections in
//! `lateral events`, on every lab capture.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

/// Runs `lateral flows` with `args` on `input`; its standard output.
fn flows(input: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["flows", "--quiet"])
        .args(args)
        .arg(input)
        .output()
        .unwrap();
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// uid -> community_id of a TSV conn.log written with `--community-id`.
fn by_uid(tsv: &str) -> BTreeMap<String, String> {
    let fields: Vec<&str> = tsv
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    assert_eq!(fields.last(), Some(&"community_id"));
    let types = tsv
        .lines()
        .find_map(|l| l.strip_prefix("#types\t"))
        .unwrap();
    assert!(types.ends_with("\tcount\tstring"), "{types}");
    tsv.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), fields.len(), "{l}");
            (cols[1].to_string(), cols[fields.len() - 1].to_string())
        })
        .collect()
}

#[test]
fn community_id_equals_zeeks_baseline() {
    let Some(corpus) = common::corpus_dir("community_id_equals_zeeks_baseline") else {
        return;
    };
    // Zeek's `bifs.community_id.run-pcaps` baseline for this trace.
    let trace = corpus.join("pcap/format/zeek/communityid/ipv6.pcap");
    let tsv = flows(&trace, &["--community-id"]);
    let ids: Vec<String> = by_uid(&tsv).into_values().collect();
    assert_eq!(ids, ["1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="], "{tsv}");
    // JSON Lines carry it too; without the flag neither form has it.
    let json = flows(&trace, &["--community-id", "-f", "jsonl"]);
    assert!(
        json.contains("\"community_id\":\"1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=\"}"),
        "{json}"
    );
    assert!(!flows(&trace, &[]).contains("community_id"));
    assert!(!flows(&trace, &["-f", "jsonl"]).contains("community_id"));
}

#[test]
fn conn_log_and_events_give_each_connection_the_same_community_id() {
    let Some(corpus) = common::corpus_dir("conn_log_and_events_give_the_same_community_id") else {
        return;
    };
    let dir = corpus.join("pcap/lateral");
    let conn = by_uid(&flows(&dir, &["--community-id"]));
    assert!(conn.len() > 200, "{} connections", conn.len());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "--quiet", "--no-analyzers"])
        .arg(&dir)
        .output()
        .unwrap();
    let mut compared = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        let (Some(uid), Some(cid)) = (
            e["zeek"]["conn"]["uid"].as_str(),
            e["network"]["community_id"].as_str(),
        ) else {
            continue;
        };
        if let Some(ours) = conn.get(uid) {
            assert_eq!(ours, cid, "{uid}");
            compared += 1;
        }
    }
    assert!(
        compared * 10 >= conn.len() * 9,
        "{compared} of {}",
        conn.len()
    );
}
