//! The merge property: profiles built from any split of the data into
//! shards, merged, equal the profiles built from all of it at once; and
//! finished profiles of disjoint days fold together exactly (the nightly
//! sweep). Also `age_out` and the serde round trip.

use lateral::hosts::{DirectoryBuilder, HostDirectory, HostKey};
use lateral::model::Action;
use lateral::model::Service;
use lateral::model::event::{ConnState, Duration, Flow, LogEvent, Outcome, Timestamp, Transport};
use lateral::profile::{ProfileBuilder, Profiles, build_parallel};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const T0: i64 = 1_764_547_200; // 2025-12-01T00:00:00Z

fn host_ip(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, i / 8, i % 8 + 1))
}

const PORTS: [(Transport, u16, Option<&str>); 8] = [
    (Transport::Tcp, 445, Some("smb")),
    (Transport::Tcp, 445, None),
    (Transport::Tcp, 3389, None),
    (Transport::Udp, 88, None),
    (Transport::Tcp, 389, None),
    (Transport::Tcp, 443, Some("ssl")),
    (Transport::Tcp, 22, None),
    (Transport::Udp, 53, Some("dns")),
];
const STATES: [ConnState; 5] = [
    ConnState::SF,
    ConnState::S0,
    ConnState::REJ,
    ConnState::S1,
    ConnState::RSTO,
];
const USERS: [&str; 4] = ["tanaka", "Sato", "administrator", "WS-003$"];
const ACTIONS: [&str; 8] = [
    "logged-in",
    "logon-failed",
    "special-privileges-assigned",
    "kerberos-service-ticket",
    "share-accessed",
    "explicit-credential-logon",
    "sudo",
    "session-opened",
];

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Rec {
    Flow(Flow),
    Event(LogEvent),
}

impl Rec {
    fn ts(&self) -> Timestamp {
        match self {
            Rec::Flow(f) => f.ts,
            Rec::Event(e) => e.ts,
        }
    }
}

fn flow_strategy() -> impl Strategy<Value = Flow> {
    (
        0u8..24,
        0u8..24,
        0usize..PORTS.len(),
        0usize..STATES.len(),
        0i64..5 * 86_400,
        0u64..2_000_000,
        0u64..2_000_000,
        0i64..100,
    )
        .prop_map(|(s, d, p, st, t, ob, rb, dur)| {
            let (proto, port, name) = PORTS[p];
            Flow {
                ts: Timestamp::from_parts(T0 + t, 0),
                uid: format!("C{t}").into(),
                orig_h: host_ip(s),
                orig_p: 50_000,
                resp_h: host_ip(d),
                resp_p: port,
                proto,
                service: name.map(Into::into),
                duration: (dur > 10).then(|| Duration::from_secs(dur)),
                orig_bytes: Some(ob),
                resp_bytes: (rb % 3 != 0).then_some(rb),
                conn_state: STATES[st],
                missed_bytes: 0,
                history: Default::default(),
                orig_pkts: 1,
                orig_ip_bytes: 0,
                resp_pkts: 0,
                resp_ip_bytes: 0,
                ip_proto: 6,
                origin: None,
            }
        })
}

fn event_strategy() -> impl Strategy<Value = LogEvent> {
    (
        0usize..ACTIONS.len(),
        0usize..USERS.len(),
        proptest::option::of(0u8..24),
        0u8..24,
        0u8..24,
        0i64..5 * 86_400,
        any::<bool>(),
        proptest::option::of(2u8..12),
        proptest::option::of(0u16..12),
    )
        .prop_map(|(a, u, src, writer, other, t, ok, ty, sid)| {
            let action = ACTIONS[a];
            let mut e = LogEvent {
                ts: Timestamp::from_parts(T0 + t, 0),
                code: Some(match action {
                    "logged-in" => 4624,
                    "logon-failed" => 4625,
                    "kerberos-service-ticket" => 4769,
                    _ => 1,
                }),
                dataset: if action == "sudo" {
                    "sudo"
                } else if u == 1 && a == 0 {
                    "sshd"
                } else {
                    "windows.security"
                }
                .into(),
                action: Action::from_text(action).expect("a known action"),
                outcome: Some(if ok || action != "logon-failed" {
                    Outcome::Success
                } else {
                    Outcome::Failure
                }),
                source_ip: src.map(host_ip),
                source_domain: src
                    .filter(|s| s % 3 == 0)
                    .map(|s| format!("WS-{s:03}").into()),
                host_name: Some(format!("SRV-{writer:02}.shugiin.local").into()),
                destination_domain: Some(format!("srv-{other:02}").into()),
                user_name: Some(USERS[u].into()),
                user_domain: Some(if u % 2 == 0 { "SHUGIIN" } else { "shugiin" }.into()),
                logon_type: ty,
                auth_method: Some(["NTLM", "Kerberos", "password", "publickey"][u].into()),
                ..LogEvent::default()
            };
            e.set_service_name(Some(format!("SRV-{other:02}$").into()));
            e.set_subject_user((u == 2).then(|| "root".into()));
            // More SIDs than an account keeps, so that merging must cut
            // the same way whatever the split.
            e.set_user_id(sid.map(|n| format!("S-1-5-21-7-8-9-{}", 1100 + n).into()));
            e
        })
}

fn records() -> impl Strategy<Value = Vec<Rec>> {
    proptest::collection::vec(
        prop_oneof![
            3 => flow_strategy().prop_map(Rec::Flow),
            1 => event_strategy().prop_map(Rec::Event),
        ],
        0..160,
    )
}

fn directory(recs: &[Rec]) -> Arc<HostDirectory> {
    let mut d = DirectoryBuilder::new();
    for r in recs {
        if let Rec::Event(e) = r {
            d.observe(e);
        }
    }
    Arc::new(d.finish())
}

fn builder_of<'a>(
    dir: &Arc<HostDirectory>,
    recs: impl IntoIterator<Item = &'a Rec>,
) -> ProfileBuilder {
    let mut b = ProfileBuilder::new(dir.clone());
    for r in recs {
        match r {
            Rec::Flow(f) => b.add_flow(f),
            Rec::Event(e) => b.add_event(e),
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn shards_merged_equal_one_build(recs in records(), shard_of in proptest::collection::vec(0usize..4, 160), order in Just(vec![0usize, 1, 2, 3]).prop_shuffle()) {
        let dir = directory(&recs);
        let all = builder_of(&dir, &recs).finish();
        let mut shards: Vec<Vec<&Rec>> = vec![Vec::new(); 4];
        for (i, r) in recs.iter().enumerate() {
            shards[shard_of[i % shard_of.len()]].push(r);
        }
        let mut builders: Vec<Option<ProfileBuilder>> = shards.iter().map(|s| Some(builder_of(&dir, s.iter().copied()))).collect();
        let mut merged = builders[order[0]].take().unwrap();
        for &i in &order[1..] {
            merged.merge(builders[i].take().unwrap());
        }
        let merged = merged.finish();
        prop_assert_eq!(&merged, &all);
        // The parallel builder agrees.
        let flows: Vec<Flow> = recs.iter().filter_map(|r| match r { Rec::Flow(f) => Some(f.clone()), _ => None }).collect();
        let events: Vec<LogEvent> = recs.iter().filter_map(|r| match r { Rec::Event(e) => Some(e.clone()), _ => None }).collect();
        prop_assert_eq!(&build_parallel(dir.clone(), &flows, &events), &all);
        // And the stored form round-trips.
        let bytes = postcard::to_allocvec(&all).unwrap();
        let back: Profiles = postcard::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &all);
    }

    #[test]
    fn finished_profiles_of_disjoint_days_merge_exactly(recs in records(), split_day in 0i64..6) {
        let dir = directory(&recs);
        let all = builder_of(&dir, &recs).finish();
        let cut = Timestamp::from_parts(T0 + split_day * 86_400, 0);
        let mut before = builder_of(&dir, recs.iter().filter(|r| r.ts() < cut)).finish();
        let after = builder_of(&dir, recs.iter().filter(|r| r.ts() >= cut)).finish();
        before.merge(after);
        prop_assert_eq!(&before, &all);
    }
}

#[test]
fn age_out_forgets_what_was_not_seen_in_the_window() {
    let f = |day: i64, s: u8, d: u8, port: u16| Flow {
        ts: Timestamp::from_parts(T0 + day * 86_400 + 60, 0),
        uid: Default::default(),
        orig_h: host_ip(s),
        orig_p: 50_000,
        resp_h: host_ip(d),
        resp_p: port,
        proto: Transport::Tcp,
        service: None,
        duration: None,
        orig_bytes: Some(10),
        resp_bytes: Some(20),
        conn_state: ConnState::SF,
        missed_bytes: 0,
        history: Default::default(),
        orig_pkts: 1,
        orig_ip_bytes: 0,
        resp_pkts: 1,
        resp_ip_bytes: 0,
        ip_proto: 6,
        origin: None,
    };
    let logon = |day: i64, user: &str, on: &str| LogEvent {
        ts: Timestamp::from_parts(T0 + day * 86_400, 0),
        action: Action::LoggedIn,
        outcome: Some(Outcome::Success),
        dataset: "sshd".into(),
        host_name: Some(on.into()),
        user_name: Some(user.into()),
        source_ip: Some(host_ip(1)),
        ..LogEvent::default()
    };
    let dir = Arc::new(HostDirectory::new());
    let mut b = ProfileBuilder::new(dir);
    // Day 0: 1 -> 2 (smb), 3 -> 4 (ssh); day 40: 1 -> 2 again (rdp), 1 -> 5.
    b.add_flow(&f(0, 1, 2, 445));
    b.add_flow(&f(0, 3, 4, 22));
    b.add_flow(&f(40, 1, 2, 3389));
    b.add_flow(&f(40, 1, 5, 445));
    b.add_event(&logon(0, "old", "srv-a"));
    b.add_event(&logon(39, "recent", "srv-a"));
    let mut p = b.finish();
    let k = |i: u8| HostKey::from_ip(host_ip(i));
    assert_eq!(p.len(), 6);
    // Every flow was on a remote-admin service: each edge keeps its hours.
    assert_eq!(p.edge_hours().len(), 4);
    assert_eq!(p.user_named("recent").unwrap().logon_hours.records(), 1);
    let now = Timestamp::from_parts(T0 + 41 * 86_400, 0);
    p.age_out(now, 30);
    // Hours go with their edge.
    assert_eq!(p.edge_hours().len(), 2);
    assert!(p.edge_hours().iter().all(|h| h.hours.records() == 1));
    let smb = Service::new(Transport::Tcp, 445, None);
    let rdp = Service::new(Transport::Tcp, 3389, None);
    assert!(p.edge(&k(1), &k(2), &smb).is_none());
    assert!(p.edge(&k(1), &k(2), &rdp).is_some());
    assert!(p.edge(&k(1), &k(5), &smb).is_some());
    // Hosts 3 and 4 were last seen on day 0: gone. srv-a stays (recent logon).
    assert!(p.host(&k(3)).is_none() && p.host(&k(4)).is_none());
    let srv = HostKey::from_name("srv-a").unwrap();
    assert!(p.ever_logged_on("recent", &srv));
    assert!(!p.ever_logged_on("old", &srv));
    assert!(p.user("old").is_none());
    assert_eq!(p.len(), 4);
    assert_eq!(p.edge_count(), 2);
    // The ssh service is no longer used by any edge and is dropped.
    assert!(!p.services().iter().any(|s| s.port == 22));
    // A window that covers everything changes nothing.
    let before = p.clone();
    p.age_out(now, 365);
    assert_eq!(p, before);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Stored profiles that are cut short or have bytes flipped never panic on
    /// load, and whatever loads answers queries without panicking.
    #[test]
    fn damaged_stored_profiles_never_panic(recs in records(), cut in any::<prop::sample::Index>(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8)) {
        let dir = directory(&recs);
        let p = builder_of(&dir, &recs).finish();
        let mut bytes = postcard::to_allocvec(&p).unwrap();
        for (at, x) in &flips {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] ^= x;
            }
        }
        let keep = if bytes.is_empty() { 0 } else { cut.index(bytes.len() + 1) };
        for slice in [&bytes[..], &bytes[..keep]] {
            if let Ok(q) = postcard::from_bytes::<Profiles>(slice) {
                for h in q.hosts() {
                    let _ = q.outbound(&h.key);
                    let _ = q.inbound(&h.key);
                    let _ = q.admin_peers(&h.key);
                    let _ = q.logons_to(&h.key);
                    let _ = q.logons_from(&h.key);
                    let _ = q.services_used(&h.key);
                    let _ = q.bytes_out_quantile(&h.key, 0.9);
                    for s in q.services() {
                        let _ = q.client_roles(&h.key, s);
                    }
                }
                let mut q2 = q.clone();
                q2.merge(q);
                q2.age_out(Timestamp::from_parts(T0 + 3 * 86_400, 0), 1);
            }
        }
    }
}
