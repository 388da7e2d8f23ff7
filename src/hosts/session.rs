//! Session timing: one host, known to the logs by name and to the
//! captures by address, tied by the sessions both recorded.
//!
//! A server's own Security log names it (`host.name`) but never gives its
//! address, and a short capture may hold no DNS answer for it: the capture
//! knows the address, the log the name, and nothing else joins them. Yet
//! both record the same sessions. When the server logs a network logon
//! (or a share access, or an sshd login) from address X, port P, at time
//! T, and the capture holds exactly one connection from X:P to a logon
//! port (SMB, RDP, WinRM, SSH, RPC) open at T, the responder of that
//! connection is the server.
//!
//! Dual-stack hosts are the mirror case: Windows logs a client's IPv6
//! address (and its workstation name) while the capture saw the session
//! over IPv4. When that IPv6 address is in no connection record at all,
//! the one connection to the server starting within [`WINDOW_NANOS`] of
//! the logon, from an address no log names directly, is the client's.
//!
//! Each sighting votes; a name is tied to an address when that address
//! has at least two thirds of the sightings that found any candidate, and
//! [`super::DirectoryBuilder::finish`] applies a tie only to an address no
//! stronger evidence names. Sightings are bounded per writer (the
//! [`PER_WRITER`] with the smallest hashes, the same whatever the input
//! order or thread count), so their memory follows the number of hosts
//! that write logs, not the number of logons.

use crate::model::Action;
use crate::model::event::{Flow, LogEvent, Text, Timestamp, Transport};
use crate::model::host::normalize_name;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// How far apart a logon and the start of its connection may be when no
/// port ties them (two seconds: a logon follows its connection's
/// negotiation within a second or so).
pub const WINDOW_NANOS: i64 = 2_000_000_000;

/// Sightings kept per writing host.
pub const PER_WRITER: usize = 48;

/// True for the ports a logon or a share access arrives on: SMB, NetBIOS
/// session, RDP, WinRM, SSH, RPC's endpoint mapper.
pub fn logon_port(port: u16) -> bool {
    matches!(port, 445 | 139 | 3389 | 5985 | 5986 | 22 | 135)
}

/// What carried a logged session: which ports its connection can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Carrier {
    /// An sshd login: SSH.
    Ssh,
    /// A Windows network logon (type 3, or none given): SMB, RPC, WinRM,
    /// or RDP's network-level authentication.
    Network,
    /// A Windows remote-interactive logon (type 10): RDP.
    Rdp,
    /// A share access (5140, 5145): SMB.
    Share,
}

impl Carrier {
    fn carries(self, port: u16) -> bool {
        match self {
            Carrier::Ssh => port == 22,
            Carrier::Network => matches!(port, 445 | 139 | 135 | 5985 | 5986 | 3389),
            Carrier::Rdp => port == 3389,
            Carrier::Share => matches!(port, 445 | 139),
        }
    }
}

/// One session a host's own log recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Sighting {
    /// When.
    ts: Timestamp,
    /// What carried it.
    carrier: Carrier,
    /// The client address the log gives.
    src: IpAddr,
    /// The client port the log gives, if any.
    port: Option<u16>,
    /// The client's name the log gives (4624 WorkstationName), short form.
    workstation: Option<Text>,
}

/// Sessions hosts' logs recorded, per writing host (its short name):
/// mergeable, and bounded per writer.
#[derive(Debug, Clone, Default)]
pub struct Sightings {
    by_writer: FxHashMap<Text, Sample>,
    /// Name spellings met so far -> their short name (`None`: not a host
    /// name): most logons repeat a few spellings, normalised once each
    /// (a cache, not evidence).
    spellings: FxHashMap<Text, Option<Text>>,
}

/// One writer's sightings: the [`PER_WRITER`] with the smallest hashes
/// (more are held between trims, never twice as many).
#[derive(Debug, Clone, Default)]
struct Sample {
    items: Vec<(u64, Sighting)>,
    /// The largest hash kept at the last trim, once the sample was full:
    /// nothing above it can be among the smallest.
    cut: Option<u64>,
}

impl Sample {
    fn push(&mut self, h: u64, s: Sighting) {
        if self.cut.is_some_and(|c| h > c) {
            return;
        }
        self.items.push((h, s));
        if self.items.len() >= PER_WRITER * 2 {
            self.trim();
        }
    }

    fn trim(&mut self) {
        trim(&mut self.items);
        if self.items.len() >= PER_WRITER {
            self.cut = self.items.last().map(|(h, _)| *h);
        }
    }
}

/// One address given a name by session timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tie {
    /// The address.
    pub ip: IpAddr,
    /// The host's name (as a log spells it).
    pub name: Text,
    /// Sightings that found this address alone.
    pub votes: u64,
    /// The earliest of them.
    pub first: Timestamp,
}

fn hash_of(writer: &str, s: &Sighting) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    writer.hash(&mut h);
    s.hash(&mut h);
    h.finish()
}

fn trim(v: &mut Vec<(u64, Sighting)>) {
    v.sort_unstable();
    v.dedup();
    v.truncate(PER_WRITER);
}

impl Sightings {
    /// No sightings.
    pub fn new() -> Sightings {
        Sightings::default()
    }

    /// True when nothing was sighted.
    pub fn is_empty(&self) -> bool {
        self.by_writer.is_empty()
    }

    /// Notes one event if it is a session a host logged about itself: a
    /// successful network or remote-interactive logon, or a share access,
    /// from a Windows log or sshd, whose writer gives no address of its own.
    pub fn observe(&mut self, e: &LogEvent) {
        if e.host_ip.is_some() {
            return;
        }
        let windows = e.dataset.starts_with("windows");
        let carrier = match (e.action, e.logon_type) {
            (Action::LoggedIn, _) if e.dataset == "sshd" => Carrier::Ssh,
            (Action::LoggedIn, None | Some(3)) if windows => Carrier::Network,
            (Action::LoggedIn, Some(10)) if windows => Carrier::Rdp,
            (Action::ShareAccessed, _) if windows => Carrier::Share,
            _ => return,
        };
        let (Some(src), Some(writer)) = (e.source_ip, e.host_name.as_deref()) else {
            return;
        };
        let src = match src {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if src.is_loopback() || src.is_unspecified() {
            return;
        }
        let Some(w) = self.short(writer) else {
            return;
        };
        let s = Sighting {
            ts: e.ts,
            carrier,
            src,
            port: e.source_port.filter(|p| *p != 0),
            workstation: e.source_domain.as_deref().and_then(|n| self.short(n)),
        };
        let h = hash_of(&w, &s);
        self.by_writer.entry(w).or_default().push(h, s);
    }

    /// The short name of a spelling, normalised the first time it is met.
    fn short(&mut self, raw: &str) -> Option<Text> {
        if let Some(known) = self.spellings.get(raw) {
            return known.clone();
        }
        let short = normalize_name(raw).map(|n| n.short);
        // Bounded: past this many spellings (hostile logs inventing
        // names), the rest are normalised each time.
        if self.spellings.len() < 1 << 16 {
            self.spellings.insert(Text::from(raw), short.clone());
        }
        short
    }

    /// Folds another set of sightings into this one (order-independent).
    pub fn merge(&mut self, other: Sightings) {
        for (w, mut v) in other.by_writer {
            let mine = self.by_writer.entry(w).or_default();
            mine.items.append(&mut v.items);
            mine.trim();
        }
    }

    /// The ties the sightings and the connection records give: `flows`
    /// are the logon-port connections ([`SessionFlow::of`]), in any order.
    /// `addresses` gives the addresses stronger evidence already gives a
    /// name (a writer's own, to find the clients of dual-stack hosts).
    pub fn ties(
        mut self,
        flows: &[SessionFlow],
        addresses: &dyn Fn(&str) -> Vec<IpAddr>,
    ) -> Vec<Tie> {
        if self.by_writer.is_empty() || flows.is_empty() {
            return Vec::new();
        }
        let mut writers: Vec<(Text, Vec<Sighting>)> = self
            .by_writer
            .drain()
            .map(|(w, mut v)| {
                v.trim();
                let mut s: Vec<Sighting> = v.items.into_iter().map(|(_, s)| s).collect();
                s.sort();
                (w, s)
            })
            .collect();
        writers.sort_by(|a, b| a.0.cmp(&b.0));
        let logged: FxHashSet<IpAddr> = writers
            .iter()
            .flat_map(|(_, v)| v.iter().map(|s| s.src))
            .collect();
        let mut from: FxHashMap<IpAddr, Vec<&SessionFlow>> = FxHashMap::default();
        for f in flows {
            if logged.contains(&f.orig) {
                from.entry(f.orig).or_default().push(f);
            }
        }
        for v in from.values_mut() {
            v.sort_unstable();
        }
        // Writers first: the server a logged session reached. Sightings
        // with no connection from their own address at all are kept for
        // the clients below.
        let mut ties = Vec::new();
        let mut writer_ips: BTreeMap<&str, Vec<IpAddr>> = BTreeMap::new();
        let mut unseen: Vec<(&str, &Sighting)> = Vec::new();
        for (w, sightings) in &writers {
            let mut votes = Ballot::default();
            for s in sightings {
                let conns = from.get(&s.src).map_or(&[][..], Vec::as_slice);
                let near: Vec<&&SessionFlow> = conns
                    .iter()
                    .filter(|f| {
                        s.carrier.carries(f.resp_port)
                            && f.start - WINDOW_NANOS <= s.ts.0
                            && s.ts.0 <= f.end + WINDOW_NANOS
                    })
                    .collect();
                if near.is_empty() {
                    unseen.push((w.as_str(), s));
                    continue;
                }
                let candidates: FxHashSet<IpAddr> = near
                    .iter()
                    .filter(|f| {
                        f.resp != s.src
                            && match s.port {
                                Some(p) => f.orig_port == p,
                                None => (f.start - s.ts.0).abs() <= WINDOW_NANOS,
                            }
                    })
                    .map(|f| f.resp)
                    .collect();
                votes.count(&candidates, s.ts);
            }
            let mut own = addresses(w);
            if let Some((ip, n, first)) = votes.winner() {
                ties.push(Tie {
                    ip,
                    name: w.clone(),
                    votes: n,
                    first,
                });
                own.push(ip);
            }
            own.sort_unstable();
            own.dedup();
            writer_ips.insert(w.as_str(), own);
        }
        // Then the clients whose logged address no connection holds at
        // that moment (a dual-stack host logged by its IPv6 address): the
        // one connection to the writer then, from an address the writer
        // did not log at that moment itself.
        let wanted: FxHashSet<IpAddr> = writer_ips.values().flatten().copied().collect();
        let mut to: FxHashMap<IpAddr, Vec<(i64, IpAddr, u16)>> = FxHashMap::default();
        for f in flows {
            if wanted.contains(&f.resp) {
                to.entry(f.resp)
                    .or_default()
                    .push((f.start, f.orig, f.resp_port));
            }
        }
        for v in to.values_mut() {
            v.sort_unstable();
        }
        let by_writer: BTreeMap<&str, &Vec<Sighting>> =
            writers.iter().map(|(w, v)| (w.as_str(), v)).collect();
        let mut clients: BTreeMap<&Text, Ballot> = BTreeMap::new();
        for (w, s) in unseen {
            let Some(ws) = &s.workstation else { continue };
            let (Some(own), Some(sightings)) = (writer_ips.get(w), by_writer.get(w)) else {
                continue;
            };
            if ws.as_str() == w {
                continue;
            }
            let lo = sightings.partition_point(|x| x.ts.0 < s.ts.0 - WINDOW_NANOS);
            let explained: FxHashSet<IpAddr> = sightings
                .iter()
                .skip(lo)
                .take_while(|x| x.ts.0 <= s.ts.0 + WINDOW_NANOS)
                .map(|x| x.src)
                .collect();
            let mut candidates: FxHashSet<IpAddr> = FxHashSet::default();
            for d in own {
                let Some(conns) = to.get(d) else { continue };
                let lo = conns.partition_point(|(t, _, _)| *t < s.ts.0 - WINDOW_NANOS);
                for (t, src, port) in conns.iter().skip(lo) {
                    if *t > s.ts.0 + WINDOW_NANOS {
                        break;
                    }
                    if s.carrier.carries(*port) && !explained.contains(src) {
                        candidates.insert(*src);
                    }
                }
            }
            clients.entry(ws).or_default().count(&candidates, s.ts);
        }
        for (ws, ballot) in clients {
            if let Some((ip, n, first)) = ballot.winner() {
                ties.push(Tie {
                    ip,
                    name: ws.clone(),
                    votes: n,
                    first,
                });
            }
        }
        ties
    }
}

/// What session timing keeps of a connection to a logon port: when it was
/// open, and its endpoints. Small, and ordered, so that partial baselines
/// can carry and merge them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SessionFlow {
    /// Start, nanoseconds since 1970.
    pub start: i64,
    /// End (start plus duration), nanoseconds since 1970.
    pub end: i64,
    /// Originator.
    pub orig: IpAddr,
    /// Originator port.
    pub orig_port: u16,
    /// Responder.
    pub resp: IpAddr,
    /// Responder port.
    pub resp_port: u16,
}

impl SessionFlow {
    /// The stub of a TCP connection to a logon port ([`logon_port`]);
    /// `None` for any other.
    pub fn of(f: &Flow) -> Option<SessionFlow> {
        (f.proto == Transport::Tcp && logon_port(f.resp_p)).then(|| SessionFlow {
            start: f.ts.0,
            end: f.ts.0.saturating_add(f.duration.map_or(0, |d| d.0.max(0))),
            orig: f.orig_h,
            orig_port: f.orig_p,
            resp: f.resp_h,
            resp_port: f.resp_p,
        })
    }
}

/// Votes of one name's sightings for its address.
#[derive(Debug, Default)]
struct Ballot {
    /// Address -> (votes, earliest).
    votes: BTreeMap<IpAddr, (u64, Timestamp)>,
    /// Sightings that found any candidate (a tie needs two thirds of them).
    with_candidates: u64,
}

impl Ballot {
    fn count(&mut self, candidates: &FxHashSet<IpAddr>, ts: Timestamp) {
        if candidates.is_empty() {
            return;
        }
        self.with_candidates += 1;
        if candidates.len() == 1
            && let Some(ip) = candidates.iter().next()
        {
            let v = self.votes.entry(*ip).or_insert((0, ts));
            v.0 += 1;
            v.1 = v.1.min(ts);
        }
    }

    /// The address with two thirds of the sightings that found any.
    fn winner(&self) -> Option<(IpAddr, u64, Timestamp)> {
        let (ip, (n, first)) = self
            .votes
            .iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)))?;
        (*n * 3 >= self.with_candidates * 2).then_some((*ip, *n, *first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{ConnState, Duration};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn flow(t: i64, src: &str, sport: u16, dst: &str, dport: u16) -> Flow {
        Flow {
            ts: Timestamp(t * 1_000_000_000),
            uid: "C1".into(),
            orig_h: ip(src),
            orig_p: sport,
            resp_h: ip(dst),
            resp_p: dport,
            proto: Transport::Tcp,
            service: None,
            duration: Some(Duration(5_000_000_000)),
            orig_bytes: Some(100),
            resp_bytes: Some(100),
            conn_state: ConnState::SF,
            missed_bytes: 0,
            history: "ShADadFf".into(),
            orig_pkts: 4,
            orig_ip_bytes: 300,
            resp_pkts: 4,
            resp_ip_bytes: 300,
            ip_proto: 6,
            origin: None,
        }
    }

    fn logon(t: i64, writer: &str, src: &str, port: u16, ws: Option<&str>) -> LogEvent {
        LogEvent {
            ts: Timestamp(t * 1_000_000_000 + 250_000_000),
            action: Action::LoggedIn,
            dataset: "windows.security".into(),
            logon_type: Some(3),
            source_ip: Some(ip(src)),
            source_port: Some(port),
            host_name: Some(writer.into()),
            source_domain: ws.map(Text::from),
            ..LogEvent::default()
        }
    }

    fn run(events: &[LogEvent], flows: &[Flow], known: &[(&str, &str)]) -> Vec<Tie> {
        let mut s = Sightings::new();
        for e in events {
            s.observe(e);
        }
        let stubs: Vec<SessionFlow> = flows.iter().filter_map(SessionFlow::of).collect();
        s.ties(&stubs, &|name: &str| {
            known
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, a)| ip(a))
                .collect()
        })
    }

    #[test]
    fn a_server_is_the_responder_of_the_sessions_it_logged() {
        let events = [
            logon(100, "srv-01.corp.local", "10.0.0.5", 50000, Some("WS-05")),
            logon(400, "srv-01.corp.local", "10.0.0.6", 50001, Some("WS-06")),
        ];
        let flows = [
            flow(100, "10.0.0.5", 50000, "10.0.1.9", 445),
            // The same client on another server at the same moment: the
            // port tells them apart.
            flow(100, "10.0.0.5", 50002, "10.0.1.7", 445),
            flow(400, "10.0.0.6", 50001, "10.0.1.9", 445),
        ];
        let ties = run(&events, &flows, &[]);
        assert_eq!(ties.len(), 1, "{ties:?}");
        assert_eq!(ties[0].ip, ip("10.0.1.9"));
        assert_eq!(ties[0].name.as_str(), "srv-01");
        assert_eq!(ties[0].votes, 2);
    }

    #[test]
    fn a_dual_stack_client_gets_the_address_the_capture_saw() {
        // The server logs the client's IPv6 address, which no connection
        // record holds; the capture saw 10.0.0.19 at that moment.
        let events = [logon(200, "srv-01", "fd00::19", 55206, Some("OSK-LT-0019"))];
        let flows = [
            flow(200, "10.0.0.19", 49152, "10.0.1.9", 445),
            flow(230, "10.0.0.20", 49153, "10.0.1.9", 445),
        ];
        let ties = run(&events, &flows, &[("srv-01", "10.0.1.9")]);
        assert_eq!(ties.len(), 1, "{ties:?}");
        assert_eq!(ties[0].ip, ip("10.0.0.19"));
        assert_eq!(ties[0].name.as_str(), "osk-lt-0019");
    }

    #[test]
    fn ambiguous_or_inconsistent_sightings_tie_nothing() {
        // Two clients at the same moment: no single candidate.
        let events = [logon(200, "srv-01", "fd00::19", 1, Some("WS-19"))];
        let flows = [
            flow(200, "10.0.0.19", 49152, "10.0.1.9", 445),
            flow(201, "10.0.0.20", 49153, "10.0.1.9", 445),
        ];
        assert!(run(&events, &flows, &[("srv-01", "10.0.1.9")]).is_empty());
        // A writer whose sessions point at two servers by halves.
        let events = [
            logon(100, "srv-02", "10.0.0.5", 50000, None),
            logon(300, "srv-02", "10.0.0.5", 50010, None),
        ];
        let flows = [
            flow(100, "10.0.0.5", 50000, "10.0.1.1", 445),
            flow(300, "10.0.0.5", 50010, "10.0.1.2", 445),
        ];
        assert!(run(&events, &flows, &[]).is_empty());
    }

    #[test]
    fn a_session_ties_only_to_a_connection_on_a_port_that_carries_it() {
        // An sshd login and an SMB connection from the same client at the
        // same moment are two sessions: no tie.
        let mut e = logon(100, "lnx-01", "10.0.0.5", 0, None);
        e.dataset = "sshd".into();
        e.logon_type = None;
        e.source_port = None;
        let flows = [flow(100, "10.0.0.5", 50000, "10.0.1.9", 445)];
        assert!(run(std::slice::from_ref(&e), &flows, &[]).is_empty());
        let flows = [flow(100, "10.0.0.5", 50000, "10.0.1.9", 22)];
        let ties = run(&[e], &flows, &[]);
        assert_eq!(ties.len(), 1, "{ties:?}");
        assert_eq!(ties[0].name.as_str(), "lnx-01");
    }

    #[test]
    fn sightings_merge_to_the_same_bounded_sample_in_any_order() {
        let events: Vec<LogEvent> = (0..500)
            .map(|i| {
                logon(
                    i,
                    "srv-01",
                    &format!("10.0.{}.{}", i / 200, i % 200 + 1),
                    40000,
                    None,
                )
            })
            .collect();
        let mut whole = Sightings::new();
        events.iter().for_each(|e| whole.observe(e));
        let (mut a, mut b) = (Sightings::new(), Sightings::new());
        for (i, e) in events.iter().enumerate().rev() {
            if i % 3 == 0 {
                a.observe(e)
            } else {
                b.observe(e)
            }
        }
        b.merge(a);
        let sample = |mut s: Sightings| {
            let mut v = s.by_writer.remove("srv-01").unwrap();
            v.trim();
            v.items
        };
        let (x, y) = (sample(whole), sample(b));
        assert_eq!(x.len(), PER_WRITER);
        assert_eq!(x, y);
    }
}
