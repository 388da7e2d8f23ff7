//! Every Windows JSON Lines log in the shared corpus: records read and the
//! number of events of each id equal INVENTORY.md's independent counts, and
//! nothing the inventory calls valid is skipped.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::input::InputPath;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

/// Inventory keys that `lateral` maps to events, every record of them.
const MAPPED: [&str; 14] = [
    "4624", "4625", "4648", "4672", "4768", "4769", "4776", "5140", "5145", "7045", "4697", "4698",
    "sysmon_1", "sysmon_3",
];

#[test]
fn windows_json_counts_match_inventory() {
    let Some(dir) = common::corpus_dir("windows_json_counts_match_inventory") else {
        return;
    };
    let exp = common::expected(&dir);
    let mut checked = 0;
    for (rel, facts) in exp["logs"].as_object().expect("logs") {
        if facts["kind"] != "windows-json" {
            continue;
        }
        let run = run_events(
            &[InputPath::File(dir.join(rel))],
            Vec::new(),
            &FlowRunOptions::default(),
            &LogOptions::default(),
            &AtomicU64::new(0),
        );
        let r = &run.inputs[0];
        assert!(r.is_complete(), "{rel}: {:?}", r.problem());
        assert_eq!(r.format, Some("winjson"), "{rel}");
        assert_eq!(
            r.records,
            facts["records"].as_u64().unwrap(),
            "{rel}: records"
        );
        assert_eq!(
            r.diag.total(),
            facts["malformed_lines"].as_u64().unwrap(),
            "{rel}: skipped {:?}",
            r.diag.counts
        );
        let mut by_id: BTreeMap<String, u64> = BTreeMap::new();
        for e in &run.events {
            let code = e.code.unwrap_or(0).to_string();
            let key = if e.dataset == "windows.sysmon" {
                format!("sysmon_{code}")
            } else {
                code
            };
            *by_id.entry(key).or_insert(0) += 1;
        }
        for key in MAPPED {
            let want = facts["by_event_id"][key].as_u64().unwrap();
            assert_eq!(
                by_id.get(key).copied().unwrap_or(0),
                want,
                "{rel}: events with id {key}"
            );
        }
        // Every event points back at its line.
        assert!(run.events.iter().all(|e| e.origin.is_some()));
        checked += 1;
    }
    assert_eq!(checked, 6);
}
