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

/// Hops of `hops` (in time order) leaving a host that an earlier hop
/// reached with another account; each (host, from, to) once.
fn credential_switches(hops: &[Hop]) -> Vec<CredentialSwitch> {
    let mut out: Vec<CredentialSwitch> = Vec::new();
    for (i, next) in hops.iter().enumerate() {
        let Some(to) = next.user.as_deref() else {
            continue;
        };
        let src = next.src.key();
        for before in hops.iter().take(i) {
            let Some(from) = before.user.as_deref() else {
                continue;
            };
            if before.dst.key() != src || from.eq_ignore_ascii_case(to) {
                continue;
            }
            let seen = out.iter().any(|s| {
                s.host.key() == src
                    && s.from.eq_ignore_ascii_case(from)
                    && s.to.eq_ignore_ascii_case(to)
            });
            if !seen {
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
    // Chains: a movement alert's destination starts another movement soon after.
    let mut by_src: FxHashMap<HostKey, Vec<usize>> = FxHashMap::default();
    for (i, a) in alerts.iter().enumerate() {
        if let (true, Some(s)) = (a.movement, host_key(&a.source, names)) {
            by_src.entry(s).or_default().push(i);
        }
    }
    for (i, a) in alerts.iter().enumerate() {
        let Some(d) = host_key(&a.destination, names).filter(|_| a.movement) else {
            continue;
        };
        if is_broadcast(&host_key(&a.source, names)) {
            continue;
        }
        for &j in by_src.get(&d).into_iter().flatten() {
            let Some(b) = alerts.get(j) else { continue };
            if j != i && b.start >= a.start && b.start.0 - a.end.0 <= chain {
                uf.union(i, j);
            }
        }
    }
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
