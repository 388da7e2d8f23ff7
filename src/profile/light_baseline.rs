//! Light records for the learning builder and the baseline file: outside
//! addresses that only ever failed to log on, kept without a host profile.
//!
//! Sits in the profile stage, beside [`crate::profile::light`] (which
//! judges SYN-flood sources in `analyze`): an sshd or Windows logon flood
//! from random public addresses makes every line a new source, and a
//! [`HostProfile`] of each costs over a
//! kilobyte to say what a few dozen bytes say: this address tried these
//! accounts on these hosts, this many times, between these instants.
//!
//! A source is *light* while every log event that names it is a
//! [`LightTouch`]: a failed logon (`logon-failed`, `invalid-user`) or a
//! pre-authentication disconnect (`connection-closed`, `disconnected`)
//! written by another host about a connection from it, where it is an
//! outside address (not internal), spelt in its canonical form, named by
//! address only. What the builder would keep of it is then exactly a
//! [`LightRecord`]: first and last time, the events naming it, their
//! hours of the week, and per (account, target host) pair the
//! [`LogonStats`] of its failed logons. Nothing is lost: a light record
//! turns back into the very profile rows the builder would have made
//! ([`LightTable::into_profiles`]).
//!
//! A record holds at most [`MAX_TRIED`] (account, target) pairs. A source
//! that outgrows the cap, or that does anything else anywhere (succeeds,
//! answers, logs as a writer, is named otherwise), is *promoted*: its
//! record becomes profile rows and is merged into the profiles. The rule
//! reads the merged record only ([`LightRecord::outgrown`]) and the
//! promotions only ever grow as parts merge, so merging partial tables
//! ([`LightTable::merge`]) in any order and grouping gives the same table
//! and the same promotions as one table fed every record: the merge is
//! associative and commutative, like [`crate::profile::Profiles::merge`].
//!
//! Memory: a record of one pair in one hour (the flood's usual source) is
//! held inline in [`LightTable`]'s sorted vector, 96 bytes with its
//! address; accounts and target hosts are interned once per table.
//! Records grow an overflow box only past one pair or one hour. While
//! records are being noted the vector takes them in arrival order and is
//! sorted and merged whenever it has doubled since the last time
//! ([`LightTable::note`]), so a flood of distinct sources costs about
//! twice 96 bytes each at the worst moment, and a source noted over and
//! over costs one record.

use super::build::user_key;
use super::host::HostProfile;
use super::logon::LogonStats;
use super::profiles::Profiles;
use super::role::RoleThresholds;
use super::table::{HostId, Logon, UserId, UserInfo};
use super::week::{WeekCounts, hour_of_week};
use crate::hosts::HostKey;
use crate::model::Action;
use crate::model::event::{LogEvent, Outcome, Timestamp};
use crate::model::host::canonical_ip;
use std::net::IpAddr;

/// Distinct (account, target host) pairs a light record holds; one more
/// and its source is promoted to a full profile.
pub const MAX_TRIED: usize = 8;

/// No account, no target: the id of an empty inline pair.
const NONE: u32 = u32::MAX;

/// What one log event says about a light source: the event was written
/// by another host about a connection from `src`, and is a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightTouch {
    /// The source (canonical).
    pub src: IpAddr,
    /// When.
    pub ts: Timestamp,
    /// The account it tried on the writer, with the logon counters of this
    /// one record, when the event is a failed logon with an account (the
    /// account as [`user_key`] keys it).
    pub logon: Option<(String, LogonStats)>,
}

impl LightTouch {
    /// The light touch an event is, if it is one: a failed logon
    /// (`logon-failed`, `invalid-user`, outcome failure) or a
    /// pre-authentication disconnect (`connection-closed`, `disconnected`,
    /// outcome not success) from `source.ip`, an outside address
    /// (`is_internal` false) written in canonical form, named by no
    /// source domain, and other than the writer's address. The writer
    /// must be named (`host.name`), as every sshd and Windows record is.
    /// Any other event naming an address makes that address a full source.
    pub fn of(e: &LogEvent, is_internal: impl Fn(IpAddr) -> bool) -> Option<LightTouch> {
        let src = e.source_ip?;
        if canonical_ip(src) != src
            || is_internal(src)
            || e.source_domain.is_some()
            || e.destination_ip.is_some()
            || e.destination_domain.is_some()
            || e.host_ip == Some(src)
            || e.host_name.as_deref().is_none_or(|n| n.trim().is_empty())
        {
            return None;
        }
        let logon = match e.action {
            Action::LogonFailed | Action::InvalidUser if e.outcome == Some(Outcome::Failure) => {
                true
            }
            Action::ConnectionClosed | Action::Disconnected
                if e.outcome != Some(Outcome::Success) =>
            {
                false
            }
            _ => return None,
        };
        let user = e.user_name.as_deref().map(user_key);
        // An account with a domain: the builder keeps the domain on the
        // account, which a light record does not carry.
        if e.user_domain.is_some() || user.as_ref().is_some_and(|(_, d)| d.is_some()) {
            return None;
        }
        let logon = match (logon, user) {
            (true, Some((u, _))) if !u.is_empty() && u != "-" => {
                let mut one = LogonStats::at(e.ts);
                one.failures = 1;
                if let Some(t) = e.logon_type {
                    one.types.insert(t);
                }
                one.methods = e
                    .auth_method
                    .as_deref()
                    .map_or(super::logon::Methods(0), super::logon::Methods::parse);
                Some((u, one))
            }
            _ => None,
        };
        Some(LightTouch {
            src,
            ts: e.ts,
            logon,
        })
    }
}

/// One (account, target host) pair a light source tried, by the ids of
/// its table's accounts and targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tried {
    user: u32,
    target: u32,
    stats: LogonStats,
}

impl Tried {
    const EMPTY: Tried = Tried {
        user: NONE,
        target: NONE,
        stats: LogonStats {
            first: Timestamp(0),
            last: Timestamp(0),
            successes: 0,
            failures: 0,
            privileged: 0,
            special_privileges: 0,
            types: super::logon::LogonTypes(0),
            methods: super::logon::Methods(0),
        },
    };

    fn is_empty(&self) -> bool {
        self.user == NONE
    }
}

/// What a record holds past one pair in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Overflow {
    /// Events per hour of the week.
    hours: WeekCounts,
    /// Every pair, sorted by (account, target), the inline one included.
    tried: Vec<Tried>,
}

/// What a light source did: exact, mergeable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LightRecord {
    /// The source.
    ip: IpAddr,
    /// The hour of the week of its events, while they all fall in one
    /// (zero once they are in `more`).
    hour: u8,
    /// Log events naming it (saturating).
    events: u32,
    /// Its first event.
    first: Timestamp,
    /// Its last event.
    last: Timestamp,
    /// Its one pair, while it has at most one (else [`Tried::EMPTY`] and
    /// the pairs are in `more`).
    one: Tried,
    /// Hours and pairs past one of each.
    more: Option<Box<Overflow>>,
}

impl LightRecord {
    /// The source address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Its first event.
    pub fn first(&self) -> Timestamp {
        self.first
    }

    /// Its last event.
    pub fn last(&self) -> Timestamp {
        self.last
    }

    /// Log events naming it.
    pub fn events(&self) -> u32 {
        self.events
    }

    /// Its events per hour of the week.
    pub fn hours(&self) -> WeekCounts {
        match &self.more {
            Some(m) => m.hours.clone(),
            None => {
                let mut w = WeekCounts::default();
                w.add(usize::from(self.hour), self.events);
                w
            }
        }
    }

    fn tried(&self) -> &[Tried] {
        match &self.more {
            Some(m) => &m.tried,
            None if self.one.is_empty() => &[],
            None => std::slice::from_ref(&self.one),
        }
    }

    /// Distinct (account, target) pairs it tried.
    pub fn pairs(&self) -> usize {
        self.tried().len()
    }

    /// True when it tried more pairs than a light record holds
    /// ([`MAX_TRIED`]): its source is promoted.
    pub fn outgrown(&self) -> bool {
        self.pairs() > MAX_TRIED
    }

    /// Folds another record of the same source in (exact, commutative,
    /// associative). Pair ids must be those of one table.
    fn merge(&mut self, o: &LightRecord) {
        let single = self.more.is_none()
            && o.more.is_none()
            && self.hour == o.hour
            && (o.one.is_empty()
                || self.one.is_empty()
                || (self.one.user, self.one.target) == (o.one.user, o.one.target));
        if single {
            if self.one.is_empty() {
                self.one = o.one;
            } else if !o.one.is_empty() {
                self.one.stats.merge(&o.one.stats);
            }
        } else {
            let mut hours = self.hours();
            hours.merge(&o.hours());
            let mut tried: Vec<Tried> = self.tried().to_vec();
            tried.extend_from_slice(o.tried());
            tried.sort_unstable_by_key(|t| (t.user, t.target));
            tried.dedup_by(|later, kept| {
                if (later.user, later.target) == (kept.user, kept.target) {
                    kept.stats.merge(&later.stats);
                    true
                } else {
                    false
                }
            });
            self.one = Tried::EMPTY;
            // The hours are in the overflow: the inline hour is unused
            // (zero, so equal records compare equal).
            self.hour = 0;
            self.more = Some(Box::new(Overflow { hours, tried }));
        }
        self.events = self.events.saturating_add(o.events);
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }

    /// Renumbers its pairs' ids through `users` and `targets` (old id to
    /// new), keeping them sorted.
    fn renumber(&mut self, users: &[u32], targets: &[u32]) {
        let map = |t: &mut Tried| {
            if !t.is_empty() {
                t.user = users.get(t.user as usize).copied().unwrap_or(NONE);
                t.target = targets.get(t.target as usize).copied().unwrap_or(NONE);
            }
        };
        map(&mut self.one);
        if let Some(m) = &mut self.more {
            m.tried.iter_mut().for_each(map);
            m.tried.sort_unstable_by_key(|t| (t.user, t.target));
        }
    }
}

/// Light records of many sources, sorted by address once
/// [`LightTable::seal`]ed; the accounts and target hosts they name,
/// interned.
#[derive(Debug, Clone, Default)]
pub struct LightTable {
    /// The records: sorted by address and unique up to `sorted`, then in
    /// arrival order.
    records: Vec<LightRecord>,
    /// How many records at the front are sorted and unique.
    sorted: usize,
    /// Accounts by id.
    users: Vec<String>,
    /// Target hosts by id.
    targets: Vec<HostKey>,
    /// Ids of `users` while noting.
    user_ids: rustc_hash::FxHashMap<String, u32>,
    /// Ids of `targets` while noting.
    target_ids: rustc_hash::FxHashMap<HostKey, u32>,
}

impl PartialEq for LightTable {
    /// Equal records about equal accounts and targets (compares sealed
    /// tables; the interning maps are not compared).
    fn eq(&self, o: &LightTable) -> bool {
        self.records == o.records && self.users == o.users && self.targets == o.targets
    }
}

impl Eq for LightTable {}

impl LightTable {
    /// An empty table.
    pub fn new() -> LightTable {
        LightTable::default()
    }

    /// Records held (after [`LightTable::seal`]: sources).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when it holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn user_id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.user_ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.users.len()).unwrap_or(NONE);
        self.users.push(name.to_string());
        self.user_ids.insert(name.to_string(), id);
        id
    }

    fn target_id(&mut self, key: &HostKey) -> u32 {
        if let Some(&id) = self.target_ids.get(key) {
            return id;
        }
        let id = u32::try_from(self.targets.len()).unwrap_or(NONE);
        self.targets.push(key.clone());
        self.target_ids.insert(key.clone(), id);
        id
    }

    /// Notes one light touch on the host `target` (the event's writer, as
    /// the host directory keys it).
    pub fn note(&mut self, touch: &LightTouch, target: &HostKey) {
        let one = match &touch.logon {
            Some((user, stats)) => Tried {
                user: self.user_id(user),
                target: self.target_id(target),
                stats: *stats,
            },
            None => Tried::EMPTY,
        };
        self.records.push(LightRecord {
            ip: touch.src,
            hour: u8::try_from(hour_of_week(touch.ts)).unwrap_or(0),
            events: 1,
            first: touch.ts,
            last: touch.ts,
            one,
            more: None,
        });
        // Sorted and merged whenever the unsorted tail has grown as long
        // as the sorted front: amortised, and at most twice the sources.
        if self.records.len() >= 1024 && self.records.len() >= 2 * self.sorted {
            self.compact();
        }
    }

    /// Sorts the records by address and merges those of one source.
    fn compact(&mut self) {
        let mut records = std::mem::take(&mut self.records);
        // In place: a stable sort would take a buffer of half the records,
        // and records of one source merge alike in any order.
        records.sort_unstable_by_key(|r| r.ip);
        records.dedup_by(|later, kept| {
            if later.ip == kept.ip {
                kept.merge(later);
                true
            } else {
                false
            }
        });
        records.shrink_to_fit();
        self.sorted = records.len();
        self.records = records;
    }

    /// Finishes noting: records sorted and merged, accounts and targets
    /// renumbered in sorted order (so equal inputs give equal tables,
    /// whatever order they came in).
    pub fn seal(&mut self) {
        self.compact();
        let users = sorted_ids(&self.users);
        let targets = sorted_ids(&self.targets);
        for r in &mut self.records {
            r.renumber(&users, &targets);
        }
        self.users.sort_unstable();
        self.targets.sort_unstable();
        self.user_ids.clear();
        self.target_ids.clear();
        self.user_ids.shrink_to_fit();
        self.target_ids.shrink_to_fit();
    }

    /// The record of `ip`, in a sealed table.
    pub fn get(&self, ip: IpAddr) -> Option<&LightRecord> {
        let ip = canonical_ip(ip);
        let i = self.records.binary_search_by_key(&ip, |r| r.ip).ok()?;
        self.records.get(i)
    }

    /// The records, by address (a sealed table).
    pub fn records(&self) -> &[LightRecord] {
        &self.records
    }

    /// The (account, target, counters) pairs a record tried, by name.
    pub fn tried<'a>(
        &'a self,
        r: &'a LightRecord,
    ) -> impl Iterator<Item = (&'a str, &'a HostKey, &'a LogonStats)> + 'a {
        r.tried().iter().filter_map(move |t| {
            let u = self.users.get(t.user as usize)?;
            let h = self.targets.get(t.target as usize)?;
            Some((u.as_str(), h, &t.stats))
        })
    }

    /// Merges two sealed tables (exact, commutative, associative): the
    /// records of one source merge, accounts and targets unite.
    pub fn merge(mut self, mut o: LightTable) -> LightTable {
        // Union of the names, then both tables renumbered into it.
        let users: Vec<String> = union(&self.users, &o.users);
        let targets: Vec<HostKey> = union(&self.targets, &o.targets);
        for t in [&mut self, &mut o] {
            let um: Vec<u32> = t.users.iter().map(|u| position(&users, u)).collect();
            let tm: Vec<u32> = t.targets.iter().map(|h| position(&targets, h)).collect();
            for r in &mut t.records {
                r.renumber(&um, &tm);
            }
        }
        let mut records = self.records;
        records.append(&mut o.records);
        let mut out = LightTable {
            records,
            sorted: 0,
            users,
            targets,
            ..LightTable::default()
        };
        out.compact();
        out
    }

    /// Takes out the records of sources that are promoted: those that
    /// outgrew the cap ([`LightRecord::outgrown`]) and those `profiled`
    /// accepts (sources with a full profile elsewhere). Returns them as a
    /// table of their own (sealed, its accounts and targets those of this
    /// table), ready for [`LightTable::into_profiles`].
    pub fn promote(&mut self, profiled: impl Fn(IpAddr) -> bool) -> LightTable {
        // In place: the kept records are not copied.
        let out: Vec<LightRecord> = self
            .records
            .extract_if(.., |r| r.outgrown() || profiled(r.ip))
            .collect();
        self.sorted = self.records.len();
        LightTable {
            sorted: out.len(),
            records: out,
            users: self.users.clone(),
            targets: self.targets.clone(),
            ..LightTable::default()
        }
    }

    /// The profile rows the builder makes of these sources' events, as
    /// profiles of their own: each source's [`HostProfile`] (key and
    /// address, first and last seen, events and their hours) and its
    /// logon triples, with the accounts they name and an empty profile of
    /// each target (first and last seen at the triples', nothing counted:
    /// the target's own rows come from its own events). Merged
    /// ([`crate::profile::Profiles::merge`]) into profiles built without
    /// these sources' events, they give the profiles of every event.
    pub fn into_profiles(&self, thresholds: &RoleThresholds) -> Profiles {
        let ns = self.records.len();
        // The accounts and targets these records name, renumbered densely.
        let mut user_map = vec![NONE; self.users.len()];
        let mut target_map = vec![NONE; self.targets.len()];
        for t in self.records.iter().flat_map(|r| r.tried()) {
            if let Some(m) = user_map.get_mut(t.user as usize) {
                *m = 0;
            }
            if let Some(m) = target_map.get_mut(t.target as usize) {
                *m = 0;
            }
        }
        let dense = |map: &mut [u32]| {
            for (n, m) in map.iter_mut().filter(|m| **m == 0).enumerate() {
                *m = u32::try_from(n).unwrap_or(NONE);
            }
        };
        dense(&mut user_map);
        dense(&mut target_map);
        let mut hosts: Vec<HostProfile> = Vec::with_capacity(ns);
        for r in &self.records {
            let mut p = HostProfile::new(HostKey::from_ip(r.ip), r.first);
            p.last_seen = r.last;
            p.ips = vec![r.ip];
            p.events = u64::from(r.events);
            p.hour_of_week = r.hours();
            hosts.push(p);
        }
        // Targets: seen when the triples say, nothing more.
        let mut span: Vec<Option<(Timestamp, Timestamp)>> = vec![None; self.targets.len()];
        let mut logons: Vec<Logon> = Vec::new();
        let base = u32::try_from(ns).unwrap_or(NONE);
        for (i, r) in self.records.iter().enumerate() {
            for t in r.tried() {
                let (Some(s), Some(&u), Some(&h)) = (
                    span.get_mut(t.target as usize),
                    user_map.get(t.user as usize),
                    target_map.get(t.target as usize),
                ) else {
                    continue;
                };
                *s = Some(match *s {
                    Some((a, z)) => (a.min(t.stats.first), z.max(t.stats.last)),
                    None => (t.stats.first, t.stats.last),
                });
                logons.push(Logon {
                    user: UserId(u),
                    src: Some(HostId(u32::try_from(i).unwrap_or(NONE))),
                    dst: HostId(base.saturating_add(h)),
                    stats: t.stats,
                });
            }
        }
        for (key, s) in self.targets.iter().zip(&span) {
            if let Some((a, z)) = *s {
                let mut p = HostProfile::new(key.clone(), a);
                p.last_seen = z;
                hosts.push(p);
            }
        }
        let users: Vec<UserInfo> = self
            .users
            .iter()
            .zip(&user_map)
            .filter(|(_, m)| **m != NONE)
            .map(|(name, _)| UserInfo {
                name: name.clone(),
                domains: Vec::new(),
                logon_hours: super::week::WeekHours::default(),
                peak_hosts_per_hour: 0,
                sids: Vec::new(),
            })
            .collect();
        let rows = Profiles::from_parts(
            hosts,
            Vec::new(),
            users,
            Vec::new(),
            Vec::new(),
            logons,
            thresholds,
        );
        // Hosts in key order, as every profiles' table is.
        let mut out = Profiles::default();
        out.merge_with(rows, thresholds);
        out
    }
}

/// For each entry of `v`, its index once `v` is sorted (`v` unique).
fn sorted_ids<T: Ord>(v: &[T]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_unstable_by(|&a, &b| v.get(a).cmp(&v.get(b)));
    let mut map = vec![NONE; v.len()];
    for (new, old) in order.into_iter().enumerate() {
        if let Some(m) = map.get_mut(old) {
            *m = u32::try_from(new).unwrap_or(NONE);
        }
    }
    map
}

/// Sorted union of two sorted, unique lists.
fn union<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let mut v: Vec<T> = a.iter().chain(b).cloned().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Index of `x` in the sorted list `v`.
fn position<T: Ord>(v: &[T], x: &T) -> u32 {
    v.binary_search(x)
        .ok()
        .and_then(|i| u32::try_from(i).ok())
        .unwrap_or(NONE)
}
