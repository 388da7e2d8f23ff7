//! Shards of the records to judge and their merge (issue 22), in the
//! library: the [`Summary`] of all inputs read at once is equal (and saves
//! to the same bytes) to the merge of the summaries of any split of the
//! inputs into shards, merged as any tree in any order.
//!
//! Records are generated so that the order is tested where it is fragile:
//! many events share a time, an origin and an action within one input
//! (their reading order must survive), events of different inputs share a
//! time, and flows of different inputs are equal but for their uid.

use lateral::baseline::Summary;
use lateral::model::Action;
use lateral::model::event::{ConnState, Flow, LogEvent, Origin, Position, Timestamp, Transport};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// Inputs of the day (a sensor each).
const FILES: usize = 7;

fn file_name(file: usize) -> String {
    format!("today/sensor-{file}.log")
}

const ACTIONS: [Action; 3] = [Action::LoggedIn, Action::LogonFailed, Action::ShareAccessed];

/// A record and the input it was read from.
#[derive(Debug, Clone)]
enum Rec {
    Flow(usize, Flow),
    Event(usize, LogEvent),
}

fn rec() -> impl Strategy<Value = Rec> {
    prop_oneof![
        (0..FILES, 0i64..6, 0u8..4, 0u64..3).prop_map(|(file, t, host, uid)| {
            Rec::Flow(
                file,
                Flow {
                    ts: Timestamp::from_parts(1_772_409_600 + t, 0),
                    uid: format!("C{uid}").into(),
                    orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)),
                    resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
                    orig_p: 49_152,
                    resp_p: 445,
                    proto: Transport::Tcp,
                    service: None,
                    duration: None,
                    orig_bytes: Some(u64::from(host) * 100),
                    resp_bytes: None,
                    conn_state: ConnState::SF,
                    missed_bytes: 0,
                    history: Default::default(),
                    orig_pkts: 1,
                    orig_ip_bytes: 0,
                    resp_pkts: 1,
                    resp_ip_bytes: 0,
                    ip_proto: 6,
                    origin: None,
                },
            )
        }),
        (0..FILES, 0i64..6, 0u64..3, 0..ACTIONS.len(), 0u32..50).prop_map(
            |(file, t, line, a, user)| {
                Rec::Event(
                    file,
                    LogEvent {
                        ts: Timestamp::from_parts(1_772_409_600 + t, 0),
                        action: ACTIONS[a],
                        user_name: Some(format!("u{user}").into()),
                        origin: Some(Origin {
                            file: Arc::from(file_name(file)),
                            at: Position::Line(line),
                        }),
                        ..LogEvent::default()
                    },
                )
            }
        ),
    ]
}

/// The summary of the inputs in `files`, read as one run reads them.
fn summary_of(recs: &[Rec], files: &[usize]) -> Summary {
    let mut files = files.to_vec();
    files.sort_by_key(|f| file_name(*f));
    let mut flows = Vec::new();
    let mut events = Vec::new();
    // Input after input in name order, each in reading order.
    for f in &files {
        for r in recs {
            match r {
                Rec::Flow(g, x) if g == f => flows.push(x.clone()),
                Rec::Event(g, x) if g == f => events.push(x.clone()),
                _ => {}
            }
        }
    }
    let names: Vec<String> = files.iter().map(|f| file_name(*f)).collect();
    Summary::from_records(flows, events, names.clone(), names)
}

/// Merges `parts` as a tree: `order` picks which two are merged next.
fn tree(mut parts: Vec<Summary>, order: &[usize]) -> Summary {
    let mut k = 0;
    while parts.len() > 1 {
        let i = order.get(k).copied().unwrap_or(0) % parts.len();
        let a = parts.remove(i);
        let j = order.get(k + 1).copied().unwrap_or(0) % parts.len();
        let b = parts.remove(j);
        parts.push(a.merge(b).expect("disjoint shards merge"));
        k += 2;
    }
    parts.pop().expect("one part left")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_split_merged_in_any_tree_is_the_whole(
        recs in proptest::collection::vec(rec(), 0..160),
        shard_of in proptest::collection::vec(0usize..4, FILES),
        order_a in proptest::collection::vec(0usize..8, 0..16),
        order_b in proptest::collection::vec(0usize..8, 0..16),
    ) {
        let all: Vec<usize> = (0..FILES).collect();
        let whole = summary_of(&recs, &all);
        let shards: Vec<Summary> = (0..4)
            .map(|s| {
                let files: Vec<usize> = all.iter().copied().filter(|f| shard_of[*f] == s).collect();
                summary_of(&recs, &files)
            })
            .filter(|s| !s.inputs.is_empty())
            .collect();
        let mut reversed = shards.clone();
        reversed.reverse();
        let flat = Summary::merge_all(reversed).expect("merge").expect("some shard");
        prop_assert_eq!(&flat, &whole);
        prop_assert_eq!(&tree(shards.clone(), &order_a), &whole);
        prop_assert_eq!(&tree(shards, &order_b), &whole);
        // And the same bytes on disk.
        let dir = tempfile::tempdir().expect("tempdir");
        let (p, q) = (dir.path().join("flat.sum"), dir.path().join("whole.sum"));
        flat.save(&p).expect("save");
        whole.save(&q).expect("save");
        prop_assert_eq!(std::fs::read(&p).expect("read"), std::fs::read(&q).expect("read"));
        prop_assert_eq!(Summary::load(&p).expect("load"), whole);
    }
}
