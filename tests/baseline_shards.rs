//! Shards of a learning period and their merge (issue 22), in the library:
//! a baseline built from all records at once ([`Baseline::from_records`],
//! what `baseline build` runs) is byte for byte the baseline finished from
//! the partials ([`Partial`]) of any split of its inputs into shards,
//! merged in any grouping and order.
//!
//! The records are generated so that the steps a partial must leave to the
//! finish are exercised: a host's address is named by log events of
//! another input than its flows (identity is only known over the whole
//! period), one host has two addresses, flows of one hour and one address
//! pair come from different inputs (per-hour distinct peers and flow
//! counts), logons and service installations fall into different inputs
//! within minutes (remote execution), accounts reach hosts in the same
//! hour from different inputs (per-hour peaks).

use lateral::baseline::{Baseline, Partial, RunRecord};
use lateral::model::Action;
use lateral::model::event::{
    ConnState, Duration, Flow, LogEvent, Origin, Outcome, Position, Timestamp, Transport,
};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// 2026-03-02T00:00:00Z, a Monday.
const T0: i64 = 1_772_409_600;
/// Inputs of the learning period (a day or a sensor each).
const FILES: usize = 7;

fn ip(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 1, 0, i + 1))
}

/// Host `i`'s name; hosts 12 and 13 are one machine with two addresses.
fn name(i: u8) -> String {
    if i == 13 {
        "host-12".to_string()
    } else {
        format!("host-{i:02}")
    }
}

const PORTS: [(Transport, u16, Option<&str>); 7] = [
    (Transport::Tcp, 445, Some("smb")),
    (Transport::Tcp, 445, None),
    (Transport::Tcp, 3389, Some("-")),
    (Transport::Tcp, 22, None),
    (Transport::Udp, 53, Some("dns")),
    (Transport::Tcp, 443, Some("ssl")),
    (Transport::Tcp, 5985, None),
];
const STATES: [ConnState; 4] = [ConnState::SF, ConnState::S0, ConnState::REJ, ConnState::S1];
const ACTIONS: [Action; 7] = [
    Action::LoggedIn,
    Action::LogonFailed,
    Action::KerberosServiceTicket,
    Action::ExplicitCredentialLogon,
    Action::SpecialPrivilegesAssigned,
    Action::ServiceInstalled,
    Action::ShareAccessed,
];
const USERS: [&str; 4] = ["kato", "CORP\\Suzuki", "admin@corp.local", "HOST-03$"];

/// A record and the input it was read from.
#[derive(Debug, Clone)]
enum Rec {
    Flow(usize, Flow),
    Event(usize, LogEvent),
}

fn origin(file: usize, line: u64) -> Option<Origin> {
    Some(Origin {
        file: Arc::from(file_name(file)),
        at: Position::Line(line),
    })
}

fn file_name(file: usize) -> String {
    format!("learn/part-{file}.log")
}

/// Seconds into the week: a few busy hours, so records of one hour and
/// pair fall into several inputs.
fn when(day: i64, hour: i64, sec: i64) -> Timestamp {
    Timestamp::from_parts(T0 + day * 86_400 + hour * 3600 + sec, 0)
}

fn flow() -> impl Strategy<Value = (usize, Flow)> {
    (
        0..FILES,
        (0u8..14, 0u8..14),
        0..PORTS.len(),
        0..STATES.len(),
        (
            0i64..7,
            prop_oneof![Just(9i64), Just(10), 0i64..24],
            0i64..3600,
        ),
        (0u64..100_000, 0u64..5_000_000, 0i64..90_000),
    )
        .prop_map(|(file, (s, d), p, st, (day, hour, sec), (ob, rb, ms))| {
            let (proto, port, service) = PORTS[p];
            (
                file,
                Flow {
                    ts: when(day, hour, sec),
                    uid: format!("C{file}{day}{hour}{sec}").into(),
                    orig_h: ip(s),
                    orig_p: 49_152,
                    resp_h: ip(d),
                    resp_p: port,
                    proto,
                    service: service.map(Into::into),
                    duration: (ms > 10).then_some(Duration(ms * 1_000_000)),
                    orig_bytes: (ob % 5 != 0).then_some(ob),
                    resp_bytes: Some(rb),
                    conn_state: STATES[st],
                    missed_bytes: 0,
                    history: Default::default(),
                    orig_pkts: 2,
                    orig_ip_bytes: 0,
                    resp_pkts: 2,
                    resp_ip_bytes: 0,
                    ip_proto: 6,
                    origin: None,
                },
            )
        })
}

fn event() -> impl Strategy<Value = (usize, LogEvent)> {
    (
        0..FILES,
        0..ACTIONS.len(),
        0..USERS.len(),
        (0u8..14, proptest::option::of(0u8..14), 0u8..14),
        (
            0i64..7,
            prop_oneof![Just(9i64), Just(10), 0i64..24],
            0i64..3600,
        ),
        (any::<bool>(), any::<bool>(), 0u64..1000),
    )
        .prop_map(
            |(file, a, u, (writer, src, target), (day, hour, sec), (ok, named, line))| {
                let action = ACTIONS[a];
                let mut e = LogEvent {
                    ts: when(day, hour, sec),
                    action,
                    code: Some(match action {
                        Action::LoggedIn => 4624,
                        Action::LogonFailed => 4625,
                        Action::KerberosServiceTicket => 4769,
                        Action::ExplicitCredentialLogon => 4648,
                        Action::SpecialPrivilegesAssigned => 4672,
                        Action::ServiceInstalled => 7045,
                        _ => 5140,
                    }),
                    dataset: "windows.security".into(),
                    outcome: Some(if ok || action != Action::LogonFailed {
                        Outcome::Success
                    } else {
                        Outcome::Failure
                    }),
                    host_name: Some(format!("{}.corp.local", name(writer)).into()),
                    // The writer's address: evidence joining name and address.
                    host_ip: named.then(|| ip(writer)),
                    source_ip: src.map(ip),
                    source_domain: src.filter(|s| s % 3 == 0).map(|s| name(s).into()),
                    destination_domain: Some(name(target).into()),
                    user_name: Some(USERS[u].into()),
                    logon_type: Some(if named { 3 } else { 10 }),
                    auth_method: Some(["NTLM", "Kerberos"][u % 2].into()),
                    origin: origin(file, line),
                    ..LogEvent::default()
                };
                e.set_service_name(Some(format!("{}$", name(target)).into()));
                if action == Action::ShareAccessed {
                    e.set_share_name(Some("\\\\*\\ADMIN$".into()));
                }
                (file, e)
            },
        )
}

fn records() -> impl Strategy<Value = Vec<Rec>> {
    proptest::collection::vec(
        prop_oneof![
            3 => flow().prop_map(|(f, r)| Rec::Flow(f, r)),
            2 => event().prop_map(|(f, r)| Rec::Event(f, r)),
        ],
        0..220,
    )
}

/// Flows and events of the inputs in `files`, as a run gives them: flows
/// in record order, events by time, then origin, then action.
fn records_of(recs: &[Rec], files: &[usize]) -> (Vec<Flow>, Vec<LogEvent>) {
    let mut flows = Vec::new();
    let mut events = Vec::new();
    for r in recs {
        match r {
            Rec::Flow(f, x) if files.contains(f) => flows.push(x.clone()),
            Rec::Event(f, x) if files.contains(f) => events.push(x.clone()),
            _ => {}
        }
    }
    flows.sort();
    events.sort_by(|a, b| {
        a.ts.cmp(&b.ts)
            .then_with(|| a.origin.cmp(&b.origin))
            .then_with(|| a.action.cmp(&b.action))
    });
    (flows, events)
}

fn whole(recs: &[Rec], files: &[usize]) -> Baseline {
    let (flows, events) = records_of(recs, files);
    let ts = flows
        .iter()
        .map(|f| f.ts)
        .chain(events.iter().map(|e| e.ts));
    let record = RunRecord {
        kind: "build".into(),
        inputs: files.iter().map(|&f| file_name(f)).collect(),
        first: ts.clone().min(),
        last: ts.max(),
        until: None,
        flows: flows.len() as u64,
        events: events.len() as u64,
        partial_inputs: 0,
    };
    Baseline::from_records(&flows, &events, record, None)
}

fn partial(recs: &[Rec], files: &[usize]) -> Partial {
    let (flows, events) = records_of(recs, files);
    Partial::from_records(
        &flows,
        &events,
        files.iter().map(|&f| file_name(f)).collect(),
        0,
        None,
    )
}

/// Merges `parts` in a tree shaped by `splits`: each step merges the part
/// at one position with its neighbour.
fn merge_tree(mut parts: Vec<Partial>, splits: &[usize]) -> Partial {
    let mut k = 0;
    while parts.len() > 1 {
        let i = splits.get(k).copied().unwrap_or(0) % (parts.len() - 1);
        k += 1;
        let right = parts.remove(i + 1);
        let left = parts.remove(i);
        // Either side first: the merge is commutative.
        let m = if k % 2 == 0 {
            left.merge(right)
        } else {
            right.merge(left)
        };
        parts.insert(i, m.expect("parts of one --until merge"));
    }
    parts.pop().expect("at least one part")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_sharding_merged_in_any_tree_is_the_whole_build_byte_for_byte(
        recs in records(),
        shard_of in proptest::collection::vec(0usize..4, FILES),
        order in Just((0..4).collect::<Vec<usize>>()).prop_shuffle(),
        splits_a in proptest::collection::vec(0usize..8, 8),
        splits_b in proptest::collection::vec(0usize..8, 8),
    ) {
        let want = whole(&recs, &(0..FILES).collect::<Vec<usize>>());
        let want_bytes = postcard::to_stdvec(&want).unwrap();
        // Shards of inputs, in a shuffled order; empty shards are skipped.
        let shards: Vec<Vec<usize>> = order
            .iter()
            .map(|&s| (0..FILES).filter(|&f| shard_of[f] == s).collect::<Vec<usize>>())
            .filter(|s| !s.is_empty())
            .collect();
        let parts: Vec<Partial> = shards.iter().map(|s| partial(&recs, s)).collect();
        let flat = Partial::merge_all(parts.clone()).unwrap();
        let a = merge_tree(parts.clone(), &splits_a);
        let mut reversed = parts;
        reversed.reverse();
        let b = merge_tree(reversed, &splits_b);
        // Two trees, one partial, byte for byte.
        prop_assert_eq!(postcard::to_stdvec(&a).unwrap(), postcard::to_stdvec(&b).unwrap());
        // All at once, the same again.
        prop_assert_eq!(flat.as_ref(), Some(&a));
        let got = a.finish(None);
        prop_assert_eq!(postcard::to_stdvec(&got).unwrap(), want_bytes);
        prop_assert!(got == want);
    }
}

/// The generator does make the cases the partial must defer: a host's
/// address named in another input than its flows, one address pair's flows
/// of one hour in two inputs, and a remote execution tied across inputs.
#[test]
fn the_records_reach_the_deferred_steps() {
    // Host 5's flows are in input 0; the name of its address only in input 1.
    let f = |file: usize, sec: i64| {
        Rec::Flow(
            file,
            Flow {
                ts: when(0, 9, sec),
                uid: format!("C{file}{sec}").into(),
                orig_h: ip(5),
                orig_p: 49_152,
                resp_h: ip(2),
                resp_p: 445,
                proto: Transport::Tcp,
                service: Some("smb".into()),
                duration: None,
                orig_bytes: Some(100),
                resp_bytes: Some(200),
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
    };
    let named = Rec::Event(
        1,
        LogEvent {
            ts: when(3, 9, 0),
            action: Action::LoggedIn,
            dataset: "windows.security".into(),
            outcome: Some(Outcome::Success),
            host_name: Some("host-05.corp.local".into()),
            host_ip: Some(ip(5)),
            user_name: Some("kato".into()),
            logon_type: Some(3),
            origin: origin(1, 1),
            ..LogEvent::default()
        },
    );
    let recs = vec![f(0, 10), f(2, 20), named];
    let want = whole(&recs, &[0, 1, 2]);
    // In the whole build, the flows belong to the named host.
    let host = want
        .profiles
        .host_by_ip(ip(5))
        .expect("the address's host is profiled");
    assert!(host.key.is_named(), "{:?}", host.key);
    assert_eq!(host.flows_out, 2);
    // Two flows of one hour and pair from inputs 0 and 2: one hour of 2 flows.
    assert_eq!(host.flows_per_hour.len(), 1);
    let parts = vec![
        partial(&recs, &[0]),
        partial(&recs, &[1]),
        partial(&recs, &[2]),
    ];
    let got = merge_tree(parts, &[1, 0]).finish(None);
    assert!(got == want);
    // A shard finished alone does not know the name: the merge is needed.
    let alone = partial(&recs, &[0]).finish(None);
    let host = alone.profiles.host_by_ip(ip(5)).expect("profiled");
    assert!(!host.key.is_named());
}
