//! Every Zeek TSV log in the shared corpus (`logs/zeek/`, `zeek-logs/baseline/`)
//! read through `lateral events`: data lines read equal the inventory's
//! independent `records` count, nothing is skipped, and every conn.log line
//! becomes one connection record whose protocol, state and service counts
//! equal the inventory's `by_proto`, `by_conn_state` and `by_service`.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::input::InputPath;
use lateral::model::Action;
use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

fn counts(m: BTreeMap<String, u64>) -> serde_json::Value {
    serde_json::to_value(m).unwrap()
}

#[test]
fn zeek_logs_counts_match_inventory() {
    let Some(dir) = common::corpus_dir("zeek_logs_counts_match_inventory") else {
        return;
    };
    let exp = common::expected(&dir);
    let mut checked = 0;
    let mut conn_logs = 0;
    for (rel, facts) in exp["logs"].as_object().expect("logs") {
        if facts["kind"] != "zeek-tsv" {
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
        assert_eq!(r.format, Some("zeek"), "{rel}");
        let records = facts["records"].as_u64().unwrap();
        assert_eq!(r.records, records, "{rel}: records");
        assert!(r.diag.is_clean(), "{rel}: skipped {:?}", r.diag.samples);
        assert!(run.events.iter().all(|e| e.origin.is_some()));
        if facts["path"] == "conn" {
            conn_logs += 1;
            let flows = run.flows.to_vec().unwrap();
            assert_eq!(flows.len() as u64, records, "{rel}: flows");
            assert_eq!(r.flows, records);
            let mut by_proto = BTreeMap::new();
            let mut by_state = BTreeMap::new();
            let mut by_service = BTreeMap::new();
            for f in &flows {
                *by_proto.entry(f.proto.zeek_name().to_string()).or_insert(0) += 1;
                *by_state.entry(f.conn_state.code().to_string()).or_insert(0) += 1;
                let s = f.service.as_deref().unwrap_or("-").to_string();
                *by_service.entry(s).or_insert(0) += 1;
            }
            assert_eq!(counts(by_proto), facts["by_proto"], "{rel}: by_proto");
            assert_eq!(
                counts(by_state),
                facts["by_conn_state"],
                "{rel}: by_conn_state"
            );
            assert_eq!(counts(by_service), facts["by_service"], "{rel}: by_service");
        } else {
            assert!(run.flows.is_empty(), "{rel}");
        }
        checked += 1;
    }
    assert_eq!(checked, 20);
    assert_eq!(conn_logs, 9);
}

#[test]
fn zeek_log_events_from_the_lsass_campaign() {
    let Some(dir) = common::corpus_dir("zeek_log_events_from_the_lsass_campaign") else {
        return;
    };
    let (paths, errors) = lateral::input::expand(&[dir.join("logs/zeek")]);
    assert_eq!(paths.len(), 12);
    let run = run_events(
        &paths,
        errors,
        &FlowRunOptions::default(),
        &LogOptions::default(),
        &AtomicU64::new(0),
    );
    let by_dataset = |d: &str| run.events.iter().filter(|e| e.dataset == d).count();
    // Every kerberos.log line is an event; the one smb_mapping line too.
    assert_eq!(by_dataset("zeek.kerberos"), 10);
    assert_eq!(by_dataset("zeek.smb_mapping"), 1);
    let tgt_ok = run
        .events
        .iter()
        .find(|e| e.dataset == "zeek.kerberos" && e.user_name.as_deref() == Some("stevie.marie"))
        .unwrap();
    assert_eq!(tgt_ok.user_domain.as_deref(), Some("PANDALAB.COM"));
    assert_eq!(tgt_ok.source_ip.unwrap().to_string(), "192.168.1.41");
    assert_eq!(tgt_ok.destination_port, Some(88));
    // dns.log: only the lines with answers are events.
    let dns: Vec<_> = run
        .events
        .iter()
        .filter(|e| e.dataset == "zeek.dns")
        .collect();
    assert!(!dns.is_empty());
    assert!(
        dns.iter()
            .all(|e| e.dns_answers().next().is_some() && e.action == Action::DnsAnswer)
    );
}
