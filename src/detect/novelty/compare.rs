//! The nightly sweep's first question: what did today do that the baseline
//! has never seen?
//!
//! [`novelties`] compares today's profiles ([`crate::baseline::Today`])
//! with a baseline's and returns typed [`Novelty`] records, in a
//! deterministic order, each with the first flow or event that showed it
//! (found by one pass over today's sorted records). Detectors can call it
//! for the same facts.
//!
//! Hosts are matched by key, then by any of their addresses or names, so a
//! host that gained a name since the baseline is not "new", and its edges
//! are compared under the baseline's identity. Edges are matched on
//! (client, server, transport, port) whatever the service name. A logon is
//! new when the user never logged on to the host successfully
//! ([`UserNovelty::FirstLogon`]), or did but never from this source
//! ([`UserNovelty::NewSource`]); failed-only logons are not novelties.

use super::{Endpoint, Novelty, NoveltyKind, UserNovelty};
use crate::baseline::{Baseline, Today};
use crate::hosts::{HostDirectory, HostKey};
use crate::model::event::{LogEvent, Origin, Timestamp};
use crate::model::{AdminService, Service};
use crate::profile::{HostProfile, Profiles};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The baseline's identities for a host of today's profiles: the profile
/// with the same key and every profile holding one of its addresses or
/// names. A host may be several profiles in the baseline (a name seen in
/// logs and an address seen in flows that nothing tied together then);
/// today's evidence may join them, so an edge or logon is known when any
/// of them has it.
fn baseline_keys<'b>(base: &'b Profiles, h: &HostProfile) -> Vec<&'b HostKey> {
    let mut keys: Vec<&'b HostKey> = Vec::new();
    if let Some(p) = base.host(&h.key) {
        keys.push(&p.key);
    }
    for ip in h.ips.iter().copied().chain(h.key.ip()) {
        if let Some(p) = base.host_by_ip(ip) {
            keys.push(&p.key);
        }
    }
    for n in &h.names {
        if let Some(p) = base.host_by_name(n) {
            keys.push(&p.key);
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// A host as an endpoint: the given address (or its first known one) and
/// its short name when it has one.
fn endpoint(dir: &HostDirectory, key: &HostKey, ip: Option<IpAddr>) -> Endpoint {
    Endpoint {
        ip: ip
            .or_else(|| key.ip())
            .or_else(|| dir.ips_of(key).first().copied()),
        name: dir
            .names_of(key)
            .first()
            .cloned()
            .filter(|_| key.is_named()),
    }
}

/// The host that wrote a log event, resolved as the profile builder does.
fn writer_of(dir: &HostDirectory, e: &LogEvent) -> Option<HostKey> {
    if let Some(n) = e.host_name.as_deref()
        && let Some(k) = dir.key_for_name(n)
    {
        return Some(k);
    }
    e.host_ip.map(|ip| dir.key_for_ip(ip))
}

/// Every host a log event names (writer, source, destination).
fn hosts_of_event(dir: &HostDirectory, e: &LogEvent) -> Vec<HostKey> {
    let mut v: Vec<HostKey> = writer_of(dir, e).into_iter().collect();
    v.extend(e.source_ip.map(|ip| dir.key_for_ip(ip)));
    v.extend(e.source_domain.as_deref().and_then(|n| dir.key_for_name(n)));
    v.extend(e.destination_ip.map(|ip| dir.key_for_ip(ip)));
    v.extend(
        e.destination_domain
            .as_deref()
            .and_then(|n| dir.key_for_name(n)),
    );
    v
}

struct Wanted {
    first: Timestamp,
    found: Option<(Origin, Option<IpAddr>, Option<IpAddr>)>,
}

/// What today shows that the baseline has never seen, in output order
/// (see [`Novelty::order_key`]).
pub fn novelties(base: &Baseline, today: &Today<'_>) -> Vec<Novelty> {
    let bp = &base.profiles;
    let tp = &today.profiles;
    let dir = &*today.directory;
    let mut out = Vec::new();

    // Today's hosts mapped to the baseline's identities.
    let mapped: BTreeMap<&HostKey, Vec<&HostKey>> = tp
        .hosts()
        .iter()
        .map(|h| (&h.key, baseline_keys(bp, h)))
        .collect();
    let in_base = |k: &HostKey| -> &[&HostKey] { mapped.get(k).map_or(&[], Vec::as_slice) };

    // New hosts: the first flow or event naming each.
    let mut new_hosts: BTreeMap<HostKey, Wanted> = tp
        .hosts()
        .iter()
        .filter(|h| in_base(&h.key).is_empty())
        .map(|h| {
            (
                h.key.clone(),
                Wanted {
                    first: h.first_seen,
                    found: None,
                },
            )
        })
        .collect();

    // New edges, keyed as today's builder keyed them.
    let mut new_edges: BTreeMap<(HostKey, HostKey, Service), (Wanted, u64, u64)> = BTreeMap::new();
    for h in tp.hosts() {
        for e in tp.outbound(&h.key) {
            let known = in_base(e.src).iter().any(|s| {
                in_base(e.dst).iter().any(|d| {
                    !bp.edges_on_port(s, d, e.service.proto, e.service.port)
                        .is_empty()
                })
            });
            if !known {
                new_edges.insert(
                    (e.src.clone(), e.dst.clone(), e.service.clone()),
                    (
                        Wanted {
                            first: e.stats.first,
                            found: None,
                        },
                        u64::from(e.stats.flows),
                        u64::from(e.stats.failed),
                    ),
                );
            }
        }
    }

    // New logons: (user, source, target) with a success today.
    struct LogonNovelty {
        why: UserNovelty,
        wanted: Wanted,
        count: u64,
        event: Option<usize>,
    }
    let mut new_logons: BTreeMap<(String, Option<HostKey>, HostKey), LogonNovelty> =
        BTreeMap::new();
    for h in tp.hosts() {
        for l in tp.logons_to(&h.key) {
            if l.stats.successes == 0 {
                continue;
            }
            let seen: Vec<_> = in_base(l.dst)
                .iter()
                .map(|bd| bp.user_on_host(l.user, bd))
                .filter(|u| u.successes > 0)
                .collect();
            let why = if seen.is_empty() {
                Some(UserNovelty::FirstLogon)
            } else {
                l.src.and_then(|s| {
                    let sources = in_base(s);
                    let known = seen.iter().any(|u| {
                        u.sources
                            .iter()
                            .any(|x| x.is_some_and(|x| sources.contains(&x)))
                    });
                    (!known).then_some(UserNovelty::NewSource)
                })
            };
            if let Some(why) = why {
                new_logons.insert(
                    (l.user.to_string(), l.src.cloned(), l.dst.clone()),
                    LogonNovelty {
                        why,
                        wanted: Wanted {
                            first: l.stats.first,
                            found: None,
                        },
                        count: u64::from(l.stats.successes),
                        event: None,
                    },
                );
            }
        }
    }

    // One pass over today's flows for evidence.
    let need_flows = !new_edges.is_empty() || !new_hosts.is_empty();
    if need_flows {
        for f in &today.flows {
            let (Some(origin), s, d) = (
                f.origin.as_ref(),
                dir.key_for_ip(f.orig_h),
                dir.key_for_ip(f.resp_h),
            ) else {
                continue;
            };
            if !new_edges.is_empty() {
                let k = (s.clone(), d.clone(), Service::of_flow(f));
                if let Some((w, _, _)) = new_edges.get_mut(&k)
                    && w.found.is_none()
                {
                    w.found = Some((origin.clone(), Some(f.orig_h), Some(f.resp_h)));
                }
            }
            for (key, ip) in [(&s, f.orig_h), (&d, f.resp_h)] {
                if let Some(w) = new_hosts.get_mut(key)
                    && w.found.is_none()
                    && f.ts == w.first
                {
                    w.found = Some((origin.clone(), Some(ip), None));
                }
            }
        }
    }
    // And over today's events.
    if !new_hosts.is_empty() || !new_logons.is_empty() {
        let mut by_user_time: BTreeMap<(String, Timestamp), Vec<usize>> = BTreeMap::new();
        for ((user, _, _), n) in &new_logons {
            by_user_time
                .entry((user.clone(), n.wanted.first))
                .or_default();
        }
        for (i, e) in today.events.iter().enumerate() {
            if let Some(u) = e.user_name.as_deref() {
                let k = (u.trim().to_lowercase(), e.ts);
                if let Some(v) = by_user_time.get_mut(&k) {
                    v.push(i);
                }
            }
            if !new_hosts.is_empty() {
                for key in hosts_of_event(dir, e) {
                    if let Some(w) = new_hosts.get_mut(&key)
                        && f_earlier(w, e.ts)
                        && let Some(o) = &e.origin
                    {
                        w.found = Some((o.clone(), None, None));
                    }
                }
            }
        }
        for ((user, _src, dst), n) in new_logons.iter_mut() {
            let Some(cands) = by_user_time.get(&(user.clone(), n.wanted.first)) else {
                continue;
            };
            let pick = cands
                .iter()
                .copied()
                .find(|&i| {
                    today
                        .events
                        .get(i)
                        .is_some_and(|e| writer_of(dir, e).as_ref() == Some(dst))
                })
                .or_else(|| cands.first().copied());
            n.event = pick;
        }
    }

    for (key, w) in new_hosts {
        let (evidence, ip) = match w.found {
            Some((o, ip, _)) => (Some(o), ip),
            None => (None, None),
        };
        out.push(Novelty {
            kind: NoveltyKind::NewHost,
            first_seen: w.first,
            source: endpoint(dir, &key, ip),
            destination: Endpoint::default(),
            service: None,
            admin: None,
            user: None,
            user_novelty: None,
            count: tp
                .host(&key)
                .map_or(0, |h| h.flows_out + h.flows_in + h.events),
            failed: 0,
            evidence,
        });
    }
    for ((s, d, service), (w, flows, failed)) in new_edges {
        let (evidence, sip, dip) = match w.found {
            Some((o, a, b)) => (Some(o), a, b),
            None => (None, None, None),
        };
        out.push(Novelty {
            kind: NoveltyKind::NewEdge,
            first_seen: w.first,
            source: endpoint(dir, &s, sip),
            destination: endpoint(dir, &d, dip),
            admin: service.admin_service(),
            service: Some(service),
            user: None,
            user_novelty: None,
            count: flows,
            failed,
            evidence,
        });
    }
    for ((user, src, dst), n) in new_logons {
        let e = n.event.and_then(|i| today.events.get(i));
        out.push(Novelty {
            kind: NoveltyKind::NewUserOnHost,
            first_seen: n.wanted.first,
            source: src.as_ref().map_or_else(Endpoint::default, |s| {
                endpoint(dir, s, e.and_then(|e| e.source_ip))
            }),
            destination: endpoint(dir, &dst, e.and_then(|e| e.host_ip)),
            service: None,
            admin: e.and_then(AdminService::of_event),
            user: Some(user),
            user_novelty: Some(n.why),
            count: n.count,
            failed: 0,
            evidence: e.and_then(|e| e.origin.clone()),
        });
    }
    out.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    out
}

/// True when an event at `ts` is the first record of a wanted host and no
/// earlier evidence was found.
fn f_earlier(w: &Wanted, ts: Timestamp) -> bool {
    w.found.is_none() && ts == w.first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BuildOptions;
    use crate::collect::flow_store::FlowStore;
    use crate::collect::pipeline::EventRun;
    use crate::hosts::HostsFile;
    use crate::model::Action;
    use crate::model::event::{ConnState, Duration, Flow, Outcome, Position, Transport};
    use std::sync::Arc;

    const DAY: i64 = 86_400;

    /// Kind, source, destination, port, why: what a novelty says in brief.
    type Brief = (
        NoveltyKind,
        String,
        String,
        Option<u16>,
        Option<UserNovelty>,
    );

    fn flow(at: i64, src: &str, dst: &str, port: u16) -> Flow {
        Flow {
            ts: Timestamp::from_parts(at, 0),
            uid: format!("C{at}{src}{dst}{port}").into(),
            orig_h: src.parse().unwrap(),
            orig_p: 50_000,
            resp_h: dst.parse().unwrap(),
            resp_p: port,
            proto: Transport::Tcp,
            service: None,
            duration: Some(Duration::from_secs(1)),
            orig_bytes: Some(100),
            resp_bytes: Some(200),
            conn_state: ConnState::SF,
            missed_bytes: 0,
            history: "ShADadFf".into(),
            orig_pkts: 5,
            orig_ip_bytes: 400,
            resp_pkts: 5,
            resp_ip_bytes: 500,
            ip_proto: 6,
            origin: Some(Origin {
                file: Arc::from("day.pcap"),
                at: Position::Offset(at as u64),
            }),
        }
    }

    fn logon(at: i64, user: &str, from: &str, host: &str, line: u64) -> LogEvent {
        LogEvent {
            ts: Timestamp::from_parts(at, 0),
            action: Action::LoggedIn,
            outcome: Some(Outcome::Success),
            dataset: "sshd".into(),
            source_ip: from.parse().ok(),
            host_name: Some(host.into()),
            user_name: Some(user.into()),
            origin: Some(Origin {
                file: Arc::from("auth.log"),
                at: Position::Line(line),
            }),
            ..LogEvent::default()
        }
    }

    fn run(mut flows: Vec<Flow>, events: Vec<LogEvent>) -> EventRun {
        let store = FlowStore::new(1 << 20);
        store.push(&mut flows);
        EventRun {
            events,
            flows: store.finish().unwrap(),
            ..EventRun::default()
        }
    }

    fn hosts(text: &str) -> HostsFile {
        crate::hosts::parse_hosts_file(text, &Arc::from("hosts.csv"))
    }

    #[test]
    fn a_host_split_in_the_baseline_and_joined_today_brings_no_novelties() {
        // In the learning period nothing ties the name `fs` (in logs) to
        // 10.0.0.2 (in flows): the baseline holds two profiles for it.
        let d1 = 20_000 * DAY;
        let learn = run(
            vec![flow(d1, "10.0.0.1", "10.0.0.2", 445)],
            vec![logon(d1 + 1, "alice", "10.0.0.1", "fs", 1)],
        );
        let opts = BuildOptions {
            until: None,
            hosts: None,
        };
        let base = Baseline::build(&learn, &opts).unwrap();
        let by_ip = base
            .profiles
            .host_by_ip("10.0.0.2".parse().unwrap())
            .map(|p| p.key.to_string());
        assert_eq!(by_ip.as_deref(), Some("10.0.0.2"));
        assert!(base.profiles.host_by_name("fs").is_some());

        // Today a hosts file joins them: the same edge and logon are not new.
        let d2 = d1 + DAY;
        let day = run(
            vec![flow(d2, "10.0.0.1", "10.0.0.2", 445)],
            vec![logon(d2 + 1, "alice", "10.0.0.1", "fs", 2)],
        );
        let today = base.today(&day, Some(hosts("10.0.0.2,fs\n"))).unwrap();
        let found = novelties(&base, &today);
        assert!(found.is_empty(), "{found:?}");

        // A port that neither profile ever saw is still new.
        let day = run(vec![flow(d2, "10.0.0.1", "10.0.0.2", 3389)], Vec::new());
        let today = base.today(&day, Some(hosts("10.0.0.2,fs\n"))).unwrap();
        let found = novelties(&base, &today);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, NoveltyKind::NewEdge);
    }

    #[test]
    fn typed_novelties_from_the_library() {
        let d1 = 20_000 * DAY;
        let learn = run(
            vec![
                flow(d1, "10.0.0.1", "10.0.0.2", 445),
                flow(d1 + 60, "10.0.0.1", "10.0.0.3", 22),
            ],
            vec![logon(d1 + 61, "alice", "10.0.0.1", "srv", 1)],
        );
        let opts = BuildOptions {
            until: None,
            hosts: Some(hosts("10.0.0.3,srv\n")),
        };
        let base = Baseline::build(&learn, &opts).unwrap();
        assert_eq!(base.profiles.len(), 3);

        // Today the file server 10.0.0.2 has a name (from today's hosts
        // file): the same host, not a new one, and its SMB edge is known.
        let d2 = d1 + DAY;
        let day = run(
            vec![
                flow(d2, "10.0.0.1", "10.0.0.2", 445),
                flow(d2 + 5, "10.0.0.1", "10.0.0.2", 3389),
                flow(d2 + 9, "10.0.0.9", "10.0.0.3", 22),
            ],
            vec![
                logon(d2 + 6, "Alice", "10.0.0.1", "srv", 1),
                logon(d2 + 10, "alice", "10.0.0.9", "srv", 2),
            ],
        );
        let today = base.today(&day, Some(hosts("10.0.0.2,fs\n"))).unwrap();
        let found = novelties(&base, &today);
        let brief: Vec<Brief> = found
            .iter()
            .map(|n| {
                (
                    n.kind,
                    n.source.to_string(),
                    n.destination.to_string(),
                    n.service.as_ref().map(|s| s.port),
                    n.user_novelty,
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                (
                    NoveltyKind::NewHost,
                    "10.0.0.9".into(),
                    "?".into(),
                    None,
                    None
                ),
                (
                    NoveltyKind::NewEdge,
                    "10.0.0.1".into(),
                    "10.0.0.2 (fs)".into(),
                    Some(3389),
                    None
                ),
                (
                    NoveltyKind::NewEdge,
                    "10.0.0.9".into(),
                    "10.0.0.3 (srv)".into(),
                    Some(22),
                    None
                ),
                (
                    NoveltyKind::NewUserOnHost,
                    "10.0.0.9".into(),
                    "10.0.0.3 (srv)".into(),
                    None,
                    Some(UserNovelty::NewSource)
                ),
            ]
        );
        // Remote-admin edges come first among edges (both are here); each
        // carries its first record.
        assert_eq!(found[1].admin, Some(AdminService::Rdp));
        assert_eq!(
            found[1].evidence.as_ref().map(ToString::to_string),
            Some(format!("day.pcap@{}", d2 + 5))
        );
        assert_eq!(
            found[3].evidence.as_ref().map(ToString::to_string),
            Some("auth.log:2".to_string())
        );
        assert_eq!(found[3].user.as_deref(), Some("alice"));
        assert_eq!(found[3].admin, Some(AdminService::Ssh));
    }
}
