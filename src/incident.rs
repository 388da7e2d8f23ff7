//! Incidents: alerts joined into stories and ranked. The last stage before
//! the reports.
//!
//! Two alerts join one incident when they share a host or an account and
//! are at most `window_minutes` apart (union-find over entity keys, each
//! key's alerts taken in time order): both from the host, both to it, or
//! to it first and from it afterwards (a host that acted before it was
//! reached is not joined by that alone); or when they form a chain: a host
//! reached by one movement alert is the source of another that starts
//! within `chain_minutes` after it. A destination named by alerts from more
//! than `hub_sources` distinct sources, or a domain controller, does not
//! join alerts by itself (everyone talks to it), but chains still pass
//! through it. A source whose alerts name more than
//! `broadcast_destinations` hosts (a roll-out, a sweep) joins its own
//! alerts only: a host it touched among many that acts afterwards starts
//! its own story.
//!
//! An incident's score is its highest alert score plus a diminishing
//! bonus: with
//! `u = 0.6 (techniques - 1) + 1.0 (hops - 1) + 0.3 min(sources - 1, 5) + 0.5 min(switches, 2)`
//! (techniques counted by family: T1021.001 and
//! T1021.002 are one; a switch is a host reached with one account that
//! moves on with another, as Hopper weighs a path whose credentials
//! change), `score = max + (100 - max) (1 - 0.7^u)`. Incidents are ranked by score,
//! then start time. An incident's id is `LI-` and the FNV-1a hash of its
//! earliest alert's id, so it stays put as later alerts join.

use crate::alert::{Alert, HostRef, Severity, Technique, clamp_score, fnv1a, minutes};
use crate::config::IncidentConfig;
use crate::detect::{Directory, Role, Roles};
use crate::model::HostKey;
use crate::model::event::Timestamp;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};

/// One step of an incident's path.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// When the step started.
    pub ts: Timestamp,
    /// From.
    pub src: HostRef,
    /// To.
    pub dst: HostRef,
    /// The technique.
    pub technique: Technique,
    /// The account used, if known.
    pub user: Option<String>,
}

/// Alerts that tell one story.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Stable id (see the module documentation).
    pub id: String,
    /// Combined score, 0-100.
    pub score: u8,
    /// Rank, from 1.
    pub rank: usize,
    /// First alert's start.
    pub start: Timestamp,
    /// Last alert's end.
    pub end: Timestamp,
    /// Indexes of the member alerts in the alert list, in time order.
    pub alerts: Vec<usize>,
    /// The path: hosts by depth (the first layer started it).
    pub path: Vec<Vec<HostRef>>,
    /// The movement steps in time order.
    pub hops: Vec<Hop>,
    /// Accounts involved.
    pub users: BTreeSet<String>,
    /// Techniques involved.
    pub techniques: BTreeSet<Technique>,
    /// Where the credentials changed along the path, in time order.
    pub switches: Vec<CredentialSwitch>,
}

/// A host reached with one account that moved on with another: the
/// credentials changed along the path (stolen on the way, as Hopper,
/// USENIX Security 2021, weighs such paths).
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialSwitch {
    /// The host where the account changed.
    pub host: HostRef,
    /// The account it was reached with.
    pub from: String,
    /// The account it moved on with.
    pub to: String,
    /// When it moved on.
    pub ts: Timestamp,
}

/// At most this many credential switches are kept per incident: the
/// score counts two, and a report lists them; a hostile input (a host
/// reached under thousands of accounts that moves on under thousands of
/// others) would otherwise make their number the product of the two.
const MAX_SWITCHES: usize = 256;

/// Hops of `hops` (in time order) leaving a host that an earlier hop
/// reached with another account; each (host, from, to) once, in the order
/// of the hop that moved on, then of the hop that reached the host; at most
/// [`MAX_SWITCHES`].
///
/// Each host's arriving accounts are kept once (case-insensitively, first
/// spelling) as the hops pass, so the work is the hops plus the pairs
/// examined, not the square of the hops.
fn credential_switches(hops: &[Hop]) -> Vec<CredentialSwitch> {
    let mut out: Vec<CredentialSwitch> = Vec::new();
    // Accounts that reached each host so far: (as written, lower-case).
    let mut arrived: FxHashMap<Option<HostKey>, Vec<(&str, String)>> = FxHashMap::default();
    let mut seen: FxHashSet<(Option<HostKey>, String, String)> = FxHashSet::default();
    for next in hops {
        if out.len() >= MAX_SWITCHES {
            break;
        }
        let src = next.src.key();
        if let Some(to) = next.user.as_deref()
            && let Some(froms) = arrived.get(&src)
        {
            let to_lower = to.to_ascii_lowercase();
            for (from, from_lower) in froms {
                if *from_lower == to_lower || out.len() >= MAX_SWITCHES {
                    continue;
                }
                if seen.insert((src.clone(), from_lower.clone(), to_lower.clone())) {
                    out.push(CredentialSwitch {
                        host: next.src.clone(),
                        from: (*from).to_string(),
                        to: to.to_string(),
                        ts: next.ts,
                    });
                }
            }
        }
        if let Some(user) = next.user.as_deref() {
            let lower = user.to_ascii_lowercase();
            let list = arrived.entry(next.dst.key()).or_default();
            if !list.iter().any(|(_, l)| *l == lower) {
                list.push((user, lower));
            }
        }
    }
    out
}

impl Incident {
    /// Severity band of the score.
    pub fn severity(&self) -> Severity {
        Severity::of(self.score)
    }
}

/// Which side of an alert an entity is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Source = 0,
    Destination = 1,
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while let Some(&p) = self.0.get(x) {
            if p == x {
                break;
            }
            let gp = self.0.get(p).copied().unwrap_or(p);
            if let Some(slot) = self.0.get_mut(x) {
                *slot = gp;
            }
            x = gp;
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller index wins so the result does not depend on call order.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        if let Some(slot) = self.0.get_mut(hi) {
            *slot = lo;
        }
    }
}

/// The host an alert names, as the detectors' directory keys it (so an
/// alert's host and another's related address are one entity).
fn host_key(h: &Option<HostRef>, names: &Directory) -> Option<HostKey> {
    let h = h.as_ref()?;
    match h.ip {
        Some(ip) => Some(names.key_for_ip(ip)),
        None => h.key(),
    }
}

/// What an alert is about, for joining alerts: a host or an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Entity {
    /// A host.
    Host(HostKey),
    /// An account.
    User(String),
}

/// Joins alerts (in output order) into ranked incidents and sets each
/// alert's `incident_id`.
pub fn build<R: Roles + ?Sized>(
    alerts: &mut [Alert],
    cfg: &IncidentConfig,
    baseline: &R,
    names: &Directory,
) -> Vec<Incident> {
    let n = alerts.len();
    let window = minutes(cfg.window_minutes);
    let chain = minutes(cfg.chain_minutes);
    // Hubs: destinations many distinct sources point at, and domain controllers.
    // Lookups only, never iterated into output: the partition union-find
    // finds does not depend on the order unions are made in.
    let mut pointed: FxHashMap<HostKey, FxHashSet<Option<HostKey>>> = FxHashMap::default();
    for a in alerts.iter() {
        let src = host_key(&a.source, names);
        let mut dsts: BTreeSet<HostKey> = a
            .related_ips
            .iter()
            .map(|ip| names.key_for_ip(*ip))
            .collect();
        dsts.extend(host_key(&a.destination, names));
        if let Some(s) = &src {
            dsts.remove(s);
        }
        for d in dsts {
            pointed.entry(d).or_default().insert(src.clone());
        }
    }
    let is_hub = |k: &HostKey| {
        pointed.get(k).is_some_and(|s| s.len() > cfg.hub_sources)
            || baseline.role_of_host(k) == Role::DomainController
    };
    // Broadcasts: sources whose alerts name many destinations.
    let mut reached: FxHashMap<HostKey, FxHashSet<&HostKey>> = FxHashMap::default();
    for (d, srcs) in &pointed {
        for s in srcs.iter().flatten() {
            reached.entry(s.clone()).or_default().insert(d);
        }
    }
    let is_broadcast = |k: &Option<HostKey>| {
        k.as_ref()
            .and_then(|k| reached.get(k))
            .is_some_and(|d| d.len() > cfg.broadcast_destinations)
    };
    // Each alert's entities, with the side they are on.
    let mut keyed: FxHashMap<Entity, Vec<(usize, Side)>> = FxHashMap::default();
    for (i, a) in alerts.iter().enumerate() {
        let mut keys: BTreeMap<HostKey, Side> = BTreeMap::new();
        let peer_side = if a.peers_are_sources {
            Side::Source
        } else {
            Side::Destination
        };
        for ip in &a.related_ips {
            keys.insert(names.key_for_ip(*ip), peer_side);
        }
        if let Some(d) = host_key(&a.destination, names) {
            keys.insert(d, Side::Destination);
        }
        if let Some(s) = host_key(&a.source, names) {
            keys.insert(s, Side::Source);
        }
        // A broadcast's destinations are not joined through it: only
        // its own side (its other alerts) is.
        let broadcast = is_broadcast(&host_key(&a.source, names));
        // Nor is a known edge's destination: other sources reaching the
        // same server over their own usual edges are other stories.
        keys.retain(|k, side| *side == Side::Source || (!broadcast && !a.known_edge && !is_hub(k)));
        for (k, side) in keys {
            keyed.entry(Entity::Host(k)).or_default().push((i, side));
        }
        for u in &a.related_users {
            keyed
                .entry(Entity::User(u.clone()))
                .or_default()
                .push((i, Side::Source));
        }
    }
    let mut uf = UnionFind((0..n).collect());
    for members in keyed.values_mut() {
        members.sort_by(|x, y| by_time(alerts, x.0, y.0).then(x.1.cmp(&y.1)));
        // The latest-reaching alert so far on each side: (alert, furthest end).
        let mut reach: [Option<(usize, Timestamp)>; 2] = [None, None];
        for &(i, side) in members.iter() {
            let Some(a) = alerts.get(i) else { continue };
            let near =
                |r: Option<(usize, Timestamp)>| r.filter(|(_, end)| a.start.0 - end.0 <= window);
            // Same side: both came from the host, or both went to it.
            if let Some((j, _)) = near(reach[side as usize]) {
                uf.union(i, j);
            }
            // A host reached earlier that then acts is one story; a host
            // that acted before it was reached is not joined by that alone.
            if side == Side::Source
                && let Some((j, _)) = near(reach[Side::Destination as usize])
            {
                uf.union(i, j);
            }
            let slot = &mut reach[side as usize];
            let end = slot.map_or(a.end, |(_, e)| e.max(a.end));
            *slot = Some((i, end));
        }
    }
    join_chains(alerts, names, chain, &is_broadcast, &mut uf);
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = uf.find(i);
        groups.entry(r).or_default().push(i);
    }
    let mut incidents: Vec<Incident> = groups
        .into_values()
        .map(|mut members| {
            members.sort_by(|x, y| by_time(alerts, *x, *y));
            make_incident(alerts, members)
        })
        .collect();
    incidents.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.start.cmp(&b.start))
            .then_with(|| a.id.cmp(&b.id))
    });
    for (r, inc) in incidents.iter_mut().enumerate() {
        inc.rank = r + 1;
        for &i in &inc.alerts {
            if let Some(a) = alerts.get_mut(i) {
                a.incident_id = Some(inc.id.clone());
            }
        }
    }
    incidents
}

/// Joins (in `uf`) each movement alert to the movement alerts its
/// destination starts from its own start until `chain` after its end, unless
/// its source is a broadcast.
fn join_chains(
    alerts: &[Alert],
    names: &Directory,
    chain: i64,
    is_broadcast: &dyn Fn(&Option<HostKey>) -> bool,
    uf: &mut UnionFind,
) {
    // Chains: a movement alert's destination starts another movement soon
    // after. Each source's movement alerts in start order, so the ones an
    // alert chains to are one run of that list.
    let mut by_src: FxHashMap<HostKey, Vec<(Timestamp, usize)>> = FxHashMap::default();
    for (i, a) in alerts.iter().enumerate() {
        if let (true, Some(s)) = (a.movement, host_key(&a.source, names)) {
            by_src.entry(s).or_default().push((a.start, i));
        }
    }
    for list in by_src.values_mut() {
        list.sort_unstable();
    }
    // Every alert of a run is joined to the alert that chains to it; joining
    // that alert to one of the run and each neighbour of the run to the next
    // gives the same partition in time linear in the alerts, whatever a
    // hostile input makes of the runs (a hub that many alerts reach and
    // that starts many). `cover` counts, per source's list, the runs each
    // neighbouring pair lies in (a difference array).
    let mut cover: FxHashMap<&HostKey, Vec<i64>> = FxHashMap::default();
    for (i, a) in alerts.iter().enumerate() {
        let Some(d) = host_key(&a.destination, names).filter(|_| a.movement) else {
            continue;
        };
        if is_broadcast(&host_key(&a.source, names)) {
            continue;
        }
        let Some((key, list)) = by_src.get_key_value(&d) else {
            continue;
        };
        let latest = a.end.0.saturating_add(chain);
        let lo = list.partition_point(|(start, _)| *start < a.start);
        let hi = list.partition_point(|(start, _)| start.0 <= latest);
        let run = list.get(lo..hi).unwrap_or_default();
        let Some(&(_, j)) = run.iter().find(|(_, j)| *j != i) else {
            continue;
        };
        uf.union(i, j);
        let diff = cover.entry(key).or_insert_with(|| vec![0; list.len()]);
        if let Some(c) = diff.get_mut(lo) {
            *c += 1;
        }
        if let Some(c) = diff.get_mut(hi - 1) {
            *c -= 1;
        }
    }
    for (key, diff) in &cover {
        let Some(list) = by_src.get(*key) else {
            continue;
        };
        let mut inside = 0i64;
        for (k, pair) in list.windows(2).enumerate() {
            inside += diff.get(k).copied().unwrap_or(0);
            if inside > 0
                && let [(_, x), (_, y)] = pair
            {
                uf.union(*x, *y);
            }
        }
    }
}

fn by_time(alerts: &[Alert], x: usize, y: usize) -> std::cmp::Ordering {
    match (alerts.get(x), alerts.get(y)) {
        (Some(a), Some(b)) => a.start.cmp(&b.start).then_with(|| a.id.cmp(&b.id)),
        _ => x.cmp(&y),
    }
}

/// The movement steps of `list` (alerts in time order), in time order.
fn hops_of(list: &[&Alert]) -> Vec<Hop> {
    let mut hops: Vec<Hop> = Vec::new();
    for a in list {
        if let (true, Some(s), Some(d)) = (a.movement, &a.source, &a.destination)
            && s.key() != d.key()
        {
            hops.push(Hop {
                ts: a.start,
                src: s.clone(),
                dst: d.clone(),
                technique: a.technique,
                user: a.user.clone(),
            });
        }
    }
    hops.sort_by_cached_key(|h| (h.ts, h.src.key(), h.dst.key()));
    hops
}

/// The hosts of `hops` (in time order) by depth along the path: the first
/// layer started it, each host one deeper than the first host to reach it.
fn path_of(hops: &[Hop]) -> Vec<Vec<HostRef>> {
    let mut depth: BTreeMap<Option<HostKey>, (usize, HostRef)> = BTreeMap::new();
    for h in hops {
        let ds = depth.entry(h.src.key()).or_insert((0, h.src.clone())).0;
        depth.entry(h.dst.key()).or_insert((ds + 1, h.dst.clone()));
    }
    let max_depth = depth.values().map(|(d, _)| *d).max().unwrap_or(0);
    let mut path: Vec<Vec<HostRef>> =
        vec![Vec::new(); if hops.is_empty() { 0 } else { max_depth + 1 }];
    for (d, h) in depth.into_values() {
        if let Some(layer) = path.get_mut(d) {
            layer.push(h);
        }
    }
    for layer in &mut path {
        layer.sort_by_key(HostRef::label);
    }
    path
}

/// The alerts of `list` (in time order) an incident's bonus counts: every
/// alert not judged its source's routine, and a routine one whose source a
/// counted movement reached before it started. A host reached by a
/// suspect step that then goes about an admin host's work is a path, not
/// a job; the same work from a host nothing suspect reached is its job.
fn counted_alerts<'a>(list: &[&'a Alert]) -> Vec<&'a Alert> {
    let mut reached: BTreeSet<Option<HostKey>> = BTreeSet::new();
    let mut counted = Vec::new();
    for a in list {
        let src = a.source.as_ref().map(HostRef::key);
        let by_path = src.as_ref().is_some_and(|k| reached.contains(k));
        if a.routine && !by_path {
            continue;
        }
        if a.movement
            && let Some(d) = &a.destination
        {
            reached.insert(d.key());
        }
        counted.push(*a);
    }
    counted
}

fn make_incident(alerts: &[Alert], members: Vec<usize>) -> Incident {
    let list: Vec<&Alert> = members.iter().filter_map(|i| alerts.get(*i)).collect();
    let start = list.iter().map(|a| a.start).min().unwrap_or_default();
    let end = list.iter().map(|a| a.end).max().unwrap_or_default();
    let first_id = list.first().map(|a| a.id.clone()).unwrap_or_default();
    let hops = hops_of(&list);
    let path = path_of(&hops);
    let techniques: BTreeSet<Technique> = list.iter().map(|a| a.technique).collect();
    let users: BTreeSet<String> = list
        .iter()
        .flat_map(|a| a.related_users.iter().cloned())
        .collect();
    let max = list.iter().map(|a| a.score).max().unwrap_or(0);
    let switches = credential_switches(&hops);
    // The bonus counts what is not a source's routine: a source's job,
    // however varied, is one job, so an incident of nothing but routine
    // gains nothing for it.
    let counted = counted_alerts(&list);
    let units = if counted.is_empty() {
        0.0
    } else {
        // Most incidents hold no routine alert: their path is the one above.
        let own;
        let (counted_hops, counted_path): (&[Hop], &[Vec<HostRef>]) = if counted.len() == list.len()
        {
            (&hops, &path)
        } else {
            let h = hops_of(&counted);
            let p = path_of(&h);
            own = (h, p);
            (&own.0, &own.1)
        };
        let max_depth = counted_path.len().saturating_sub(1);
        // Sub-techniques of one technique (T1021.001, T1021.002) count once.
        let families: BTreeSet<&str> = counted
            .iter()
            .map(|a| a.technique.id.split('.').next().unwrap_or(a.technique.id))
            .collect();
        let sources: BTreeSet<Option<HostKey>> = counted_path
            .first()
            .map(|l| l.iter().map(HostRef::key).collect())
            .unwrap_or_default();
        let counted_switches = credential_switches(counted_hops);
        0.6 * (families.len().saturating_sub(1)) as f64
            + 1.0 * max_depth.saturating_sub(1) as f64
            + 0.3 * sources.len().saturating_sub(1).min(5) as f64
            + 0.5 * counted_switches.len().min(2) as f64
    };
    let combined = f64::from(max) + (100.0 - f64::from(max)) * (1.0 - 0.7f64.powf(units));
    Incident {
        id: format!("LI-{:016x}", fnv1a(first_id.as_bytes())),
        score: clamp_score(combined),
        rank: 0,
        start,
        end,
        alerts: members,
        path,
        hops,
        users,
        techniques,
        switches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::attack;

    fn hop(t: i64, src: &str, dst: &str, user: Option<&str>) -> Hop {
        let host = |n: &str| HostRef {
            ip: None,
            name: Some(n.to_string()),
        };
        Hop {
            ts: Timestamp(t),
            src: host(src),
            dst: host(dst),
            technique: attack::SMB,
            user: user.map(str::to_string),
        }
    }

    #[test]
    fn an_account_change_at_a_reached_host_is_a_switch() {
        let hops = [
            hop(1, "ws1", "srv", Some("alice")),
            hop(2, "srv", "dc", Some("Administrator")),
            // The same account onward, an unknown account, and a hop from
            // a host no earlier hop reached: none of them switch.
            hop(3, "srv", "fs", Some("ALICE")),
            hop(4, "srv", "db", None),
            hop(5, "ws2", "fs", Some("bob")),
            // Repeated: counted once.
            hop(6, "srv", "dc", Some("administrator")),
        ];
        let s = credential_switches(&hops);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].host.label(), "srv");
        assert_eq!(
            (s[0].from.as_str(), s[0].to.as_str()),
            ("alice", "Administrator")
        );
        // A host that moved on before it was reached switched nothing.
        let early = [
            hop(1, "srv", "dc", Some("admin")),
            hop(2, "ws1", "srv", Some("alice")),
        ];
        assert!(credential_switches(&early).is_empty());
    }

    /// The definition `credential_switches` computes, pair by pair
    /// (quadratic): the reference its faster form is held to.
    fn switches_pairwise(hops: &[Hop]) -> Vec<CredentialSwitch> {
        let mut out: Vec<CredentialSwitch> = Vec::new();
        for (i, next) in hops.iter().enumerate() {
            let Some(to) = next.user.as_deref() else {
                continue;
            };
            for before in hops.iter().take(i) {
                let Some(from) = before.user.as_deref() else {
                    continue;
                };
                if before.dst.key() != next.src.key() || from.eq_ignore_ascii_case(to) {
                    continue;
                }
                let seen = out.iter().any(|s| {
                    s.host.key() == next.src.key()
                        && s.from.eq_ignore_ascii_case(from)
                        && s.to.eq_ignore_ascii_case(to)
                });
                if !seen && out.len() < MAX_SWITCHES {
                    out.push(CredentialSwitch {
                        host: next.src.clone(),
                        from: from.to_string(),
                        to: to.to_string(),
                        ts: next.ts,
                    });
                }
            }
        }
        out
    }

    /// Hops over a few hosts and accounts (in mixed case), drawn from a
    /// seed by a small linear congruential generator.
    fn drawn_hops(seed: u64, n: usize) -> Vec<Hop> {
        let hosts = ["ws1", "ws2", "srv", "dc", "fs", "db"];
        let users = ["alice", "ALICE", "bob", "Administrator", "svc", "Bob"];
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut next = |m: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) as usize) % m
        };
        (0..n)
            .map(|t| {
                let src = hosts[next(hosts.len())];
                let dst = hosts[next(hosts.len())];
                let user = match next(7) {
                    0 => None,
                    k => Some(users[k - 1]),
                };
                hop(t as i64, src, dst, user)
            })
            .collect()
    }

    #[test]
    fn switches_equal_the_pairwise_definition() {
        for seed in 0..300 {
            let hops = drawn_hops(seed, (seed % 60) as usize);
            assert_eq!(
                credential_switches(&hops),
                switches_pairwise(&hops),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn a_host_reached_under_many_accounts_keeps_a_bounded_list_of_switches() {
        // 3,000 accounts reach srv, 3,000 others leave it: nine million
        // pairs, of which the list keeps its cap.
        let mut hops: Vec<Hop> = Vec::new();
        for k in 0..3000i64 {
            hops.push(hop(k, "ws1", "srv", Some(&format!("in{k}"))));
        }
        for k in 0..3000i64 {
            hops.push(hop(10_000 + k, "srv", "dc", Some(&format!("out{k}"))));
        }
        let s = credential_switches(&hops);
        assert_eq!(s.len(), MAX_SWITCHES);
        assert_eq!((s[0].from.as_str(), s[0].to.as_str()), ("in0", "out0"));
        assert_eq!((s[1].from.as_str(), s[1].to.as_str()), ("in1", "out0"));
    }

    /// Each alert's set, as the smallest index in it.
    fn partition(uf: &mut UnionFind, n: usize) -> Vec<usize> {
        let mut smallest: BTreeMap<usize, usize> = BTreeMap::new();
        for i in 0..n {
            let r = uf.find(i);
            smallest.entry(r).or_insert(i);
        }
        (0..n)
            .map(|i| {
                let r = uf.find(i);
                smallest.get(&r).copied().unwrap_or(i)
            })
            .collect()
    }

    #[test]
    fn chains_join_as_the_pairwise_definition_does() {
        let names = std::sync::Arc::new(crate::hosts::build_directory(&[], None));
        let directory = Directory::from_hosts(&names);
        let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
        let minute = 60_000_000_000i64;
        let chain = 30 * minute;
        for seed in 0..200u64 {
            let mut x = seed.wrapping_add(17);
            let mut next = |m: u64| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % m
            };
            let n = (seed % 40) as usize + 2;
            let alerts: Vec<Alert> = (0..n)
                .map(|_| {
                    let start = next(240) as i64 * minute;
                    let mut a = Alert::new(
                        crate::detect::rules::new_admin_edge::RULE,
                        attack::SMB,
                        40,
                        Timestamp(start),
                    );
                    a.end = Timestamp(start + next(50) as i64 * minute);
                    a.source = hosts[next(4) as usize].parse().ok().map(HostRef::ip);
                    a.destination = hosts[next(4) as usize].parse().ok().map(HostRef::ip);
                    a.movement = next(5) != 0;
                    a
                })
                .collect();
            let broadcast = |k: &Option<HostKey>| {
                k.as_ref() == host_key(&hosts[0].parse().ok().map(HostRef::ip), &directory).as_ref()
                    && seed % 3 == 0
            };
            let mut fast = UnionFind((0..n).collect());
            join_chains(&alerts, &directory, chain, &broadcast, &mut fast);
            let mut pairwise = UnionFind((0..n).collect());
            for (i, a) in alerts.iter().enumerate() {
                let Some(d) = host_key(&a.destination, &directory).filter(|_| a.movement) else {
                    continue;
                };
                if broadcast(&host_key(&a.source, &directory)) {
                    continue;
                }
                for (j, b) in alerts.iter().enumerate() {
                    if j != i
                        && b.movement
                        && host_key(&b.source, &directory).as_ref() == Some(&d)
                        && b.start >= a.start
                        && b.start.0 - a.end.0 <= chain
                    {
                        pairwise.union(i, j);
                    }
                }
            }
            assert_eq!(
                partition(&mut fast, n),
                partition(&mut pairwise, n),
                "seed {seed}"
            );
        }
    }

    /// Two alerts from two sources onto one server, ten minutes apart.
    fn two_onto_one(known_edge: bool) -> Vec<Incident> {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().ok();
        let mut alerts: Vec<Alert> = ["10.0.0.11", "10.0.0.12"]
            .iter()
            .enumerate()
            .map(|(k, src)| {
                let mut a = Alert::new(
                    crate::detect::rules::off_hours_session::RULE,
                    attack::VALID_ACCOUNTS,
                    15,
                    Timestamp(k as i64 * 600_000_000_000),
                );
                a.source = ip(src).map(HostRef::ip);
                a.destination = ip("10.0.0.50").map(HostRef::ip);
                a.movement = true;
                a.known_edge = known_edge;
                a.finish()
            })
            .collect();
        let names = std::sync::Arc::new(crate::hosts::build_directory(&[], None));
        let directory = Directory::from_hosts(&names);
        let profiles = crate::profile::build_parallel(names.clone(), &[], &[]);
        let net = crate::detect::settings::NetworkConfig::default();
        let view = crate::detect::profiles_view::ProfilesView::new(
            &profiles, &names, &directory, None, &net,
        );
        build(&mut alerts, &IncidentConfig::default(), &view, &directory)
    }

    #[test]
    fn a_known_edges_destination_joins_no_other_source() {
        // Two sources newly reaching one server converge: one incident.
        assert_eq!(two_onto_one(false).len(), 1);
        // Two users on their usual edges to it at odd hours: two.
        assert_eq!(two_onto_one(true).len(), 2);
    }

    #[test]
    fn a_sources_routine_gains_no_bonus_for_variety() {
        // A scanner's scan and its service account's spread, both capped as
        // its job: the incident scores the better of the two.
        let pair = |routine: bool| {
            let mk = |technique, user: Option<&str>| {
                let mut a = Alert::new(
                    crate::detect::rules::fan_out::RULE,
                    technique,
                    21,
                    Timestamp(0),
                );
                a.source = "10.0.0.9".parse().ok().map(HostRef::ip);
                a.user = user.map(str::to_string);
                a.routine = routine;
                a.finish()
            };
            let alerts = vec![
                mk(attack::DISCOVERY, None),
                mk(attack::VALID_ACCOUNTS, Some("svc-scan")),
            ];
            make_incident(&alerts, vec![0, 1]).score
        };
        assert_eq!(pair(true), 21);
        assert!(pair(false) > 30, "{}", pair(false));
    }

    #[test]
    fn routine_counts_only_on_a_path_a_suspect_step_opened() {
        let mv = |src: &str, dst: &str, t: i64, score: u8, routine: bool| {
            let mut a = Alert::new(
                crate::detect::rules::new_admin_edge::RULE,
                attack::SMB,
                score,
                Timestamp(t),
            );
            a.source = src.parse().ok().map(HostRef::ip);
            a.destination = dst.parse().ok().map(HostRef::ip);
            a.movement = true;
            a.routine = routine;
            a.finish()
        };
        // A suspect step onto 10.0.0.2, which then does an admin host's work
        // on 10.0.0.3: a path of two hops.
        let path = vec![
            mv("10.0.0.1", "10.0.0.2", 0, 40, false),
            mv("10.0.0.2", "10.0.0.3", 60, 17, true),
        ];
        assert!(make_incident(&path, vec![0, 1]).score > 40);
        // The same routine step before the suspect one reached its source,
        // or from an admin host nothing reached: its job, no bonus.
        let before = vec![
            mv("10.0.0.2", "10.0.0.3", 0, 17, true),
            mv("10.0.0.1", "10.0.0.2", 60, 40, false),
        ];
        assert_eq!(make_incident(&before, vec![0, 1]).score, 40);
        let beside = vec![
            mv("10.0.0.1", "10.0.0.2", 0, 40, false),
            mv("10.0.0.9", "10.0.0.2", 60, 17, true),
        ];
        assert_eq!(make_incident(&beside, vec![0, 1]).score, 40);
        // Counted, the second source adds its bonus.
        let both = vec![
            mv("10.0.0.1", "10.0.0.2", 0, 40, false),
            mv("10.0.0.9", "10.0.0.2", 60, 17, false),
        ];
        assert!(make_incident(&both, vec![0, 1]).score > 40);
    }
}
