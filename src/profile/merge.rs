//! Combining profiles: [`Profiles::merge`] folds one set into another (a
//! night into the baseline) and [`Profiles::fold_hosts`] folds hosts into
//! others within one set.

use super::Profiles;
use super::host::HostProfile;
use super::role::RoleThresholds;
use super::table::{
    AdminUse, Edge, EdgeHours, HostId, Logon, ServiceId, UserId, UserInfo, note_sid,
};
use super::week::WeekHours;
use crate::hosts::HostKey;
use crate::model::Service;
use std::collections::{BTreeMap, BTreeSet};

impl Profiles {
    /// Folds other profiles in (e.g. tonight's into the baseline): hosts by
    /// key, edges by (src, dst, service), logons by (user, src, dst); every
    /// counter and distribution adds; roles are re-inferred. Per-hour and
    /// per-day distributions add, which is exact when the two cover
    /// different hours and days (a night folded into the baseline).
    pub fn merge(&mut self, other: Profiles) {
        self.merge_with(other, &RoleThresholds::default());
    }

    /// [`Profiles::merge`] with explicit role thresholds.
    pub fn merge_with(&mut self, other: Profiles, thresholds: &RoleThresholds) {
        let mine = std::mem::take(self);
        // Host union, sorted by key.
        let mut keys: BTreeMap<HostKey, u32> = BTreeMap::new();
        for h in mine.hosts.iter().chain(&other.hosts) {
            keys.entry(h.key.clone()).or_insert(0);
        }
        for (i, v) in keys.values_mut().enumerate() {
            *v = i as u32;
        }
        let mut hosts: Vec<Option<HostProfile>> = vec![None; keys.len()];
        let remap_hosts = |list: &[HostProfile]| -> Vec<u32> {
            list.iter()
                .map(|h| keys.get(&h.key).copied().unwrap_or(u32::MAX))
                .collect()
        };
        let hm_a = remap_hosts(&mine.hosts);
        let hm_b = remap_hosts(&other.hosts);
        for (list, map) in [(&mine.hosts, &hm_a), (&other.hosts, &hm_b)] {
            for (h, &to) in list.iter().zip(map) {
                if let Some(slot) = hosts.get_mut(to as usize) {
                    match slot {
                        Some(existing) => existing.merge(h),
                        None => *slot = Some(h.clone()),
                    }
                }
            }
        }
        let hosts: Vec<HostProfile> = hosts.into_iter().flatten().collect();
        let mut services: Vec<Service> = mine
            .services
            .iter()
            .chain(&other.services)
            .cloned()
            .collect();
        services.sort();
        services.dedup();
        let sm = |list: &[Service]| -> Vec<u32> {
            list.iter()
                .map(|s| services.binary_search(s).map_or(u32::MAX, |i| i as u32))
                .collect()
        };
        let sm_a = sm(&mine.services);
        let sm_b = sm(&other.services);
        type UserSlot = (BTreeSet<String>, WeekHours, u32, Vec<String>);
        let mut users: BTreeMap<String, UserSlot> = BTreeMap::new();
        for u in mine.users.iter().chain(&other.users) {
            let slot = users.entry(u.name.clone()).or_default();
            slot.0.extend(u.domains.iter().cloned());
            slot.1.merge(&u.logon_hours);
            slot.2 = slot.2.max(u.peak_hosts_per_hour);
            for sid in &u.sids {
                note_sid(&mut slot.3, sid);
            }
        }
        let names: Vec<String> = users.keys().cloned().collect();
        let um = |list: &[UserInfo]| -> Vec<u32> {
            list.iter()
                .map(|u| names.binary_search(&u.name).map_or(u32::MAX, |i| i as u32))
                .collect()
        };
        let um_a = um(&mine.users);
        let um_b = um(&other.users);
        let users: Vec<UserInfo> = users
            .into_iter()
            .map(
                |(name, (d, logon_hours, peak_hosts_per_hour, sids))| UserInfo {
                    name,
                    domains: d.into_iter().collect(),
                    logon_hours,
                    peak_hosts_per_hour,
                    sids,
                },
            )
            .collect();
        let at = |m: &[u32], i: u32| m.get(i as usize).copied().unwrap_or(u32::MAX);
        let mut edges = Vec::with_capacity(mine.edges.len() + other.edges.len());
        let mut admin = Vec::with_capacity(mine.admin.len() + other.admin.len());
        let mut logons = Vec::with_capacity(mine.logons.len() + other.logons.len());
        let mut edge_hours = Vec::with_capacity(mine.edge_hours.len() + other.edge_hours.len());
        for (p, hm, smp, ump) in [(&mine, &hm_a, &sm_a, &um_a), (&other, &hm_b, &sm_b, &um_b)] {
            for h in &p.edge_hours {
                edge_hours.push(EdgeHours {
                    src: HostId(at(hm, h.src.0)),
                    dst: HostId(at(hm, h.dst.0)),
                    service: ServiceId(at(smp, h.service.0)),
                    hours: h.hours,
                });
            }
            for e in &p.edges {
                edges.push(Edge {
                    src: HostId(at(hm, e.src.0)),
                    dst: HostId(at(hm, e.dst.0)),
                    service: ServiceId(at(smp, e.service.0)),
                    stats: e.stats,
                });
            }
            for a in &p.admin {
                admin.push(AdminUse {
                    src: HostId(at(hm, a.src.0)),
                    dst: HostId(at(hm, a.dst.0)),
                    proto: a.proto,
                    stats: a.stats,
                });
            }
            for l in &p.logons {
                logons.push(Logon {
                    user: UserId(at(ump, l.user.0)),
                    src: l.src.map(|s| HostId(at(hm, s.0))),
                    dst: HostId(at(hm, l.dst.0)),
                    stats: l.stats,
                });
            }
        }
        *self = Profiles::from_parts(hosts, services, users, edges, admin, logons, thresholds)
            .with_edge_hours(edge_hours);
    }

    /// Folds hosts into others: every `(from, to)` pair moves `from`'s
    /// counters, edges, admin uses and logons onto `to` and drops `from`
    /// (a pair naming a missing host, a host twice, or a host both ways is
    /// skipped). For a host the baseline knew by name only whose address
    /// later data reveals. Roles are re-inferred with the default
    /// thresholds.
    pub fn fold_hosts(&mut self, pairs: &[(HostKey, HostKey)]) {
        let mut into: Vec<Option<u32>> = vec![None; self.hosts.len()];
        let mut targets = BTreeSet::new();
        for (from, to) in pairs {
            let (Some(f), Some(t)) = (self.host_id(from), self.host_id(to)) else {
                continue;
            };
            if f == t
                || targets.contains(&f.0)
                || into.get(t.0 as usize).is_some_and(Option::is_some)
            {
                continue;
            }
            if let Some(slot) = into.get_mut(f.0 as usize)
                && slot.is_none()
            {
                *slot = Some(t.0);
                targets.insert(t.0);
            }
        }
        if into.iter().all(Option::is_none) {
            return;
        }
        let mine = std::mem::take(self);
        // Kept hosts stay in key order; a folded host takes its target's place.
        let mut map = vec![u32::MAX; mine.hosts.len()];
        let mut hosts: Vec<HostProfile> = Vec::with_capacity(mine.hosts.len());
        for (i, h) in mine.hosts.iter().enumerate() {
            if into.get(i).copied().flatten().is_none() {
                if let Some(m) = map.get_mut(i) {
                    *m = hosts.len() as u32;
                }
                hosts.push(h.clone());
            }
        }
        for (i, t) in into.iter().enumerate() {
            if let Some(t) = t {
                let to = map.get(*t as usize).copied().unwrap_or(u32::MAX);
                if let Some(m) = map.get_mut(i) {
                    *m = to;
                }
                if let (Some(target), Some(from)) = (hosts.get_mut(to as usize), mine.hosts.get(i))
                {
                    target.merge(from);
                }
            }
        }
        let at = |h: HostId| HostId(map.get(h.0 as usize).copied().unwrap_or(u32::MAX));
        let edges = mine
            .edges
            .iter()
            .map(|e| Edge {
                src: at(e.src),
                dst: at(e.dst),
                ..*e
            })
            .collect();
        let admin = mine
            .admin
            .iter()
            .map(|a| AdminUse {
                src: at(a.src),
                dst: at(a.dst),
                ..*a
            })
            .collect();
        let logons = mine
            .logons
            .iter()
            .map(|l| Logon {
                src: l.src.map(at),
                dst: at(l.dst),
                ..*l
            })
            .collect();
        let edge_hours = mine
            .edge_hours
            .iter()
            .map(|h| EdgeHours {
                src: at(h.src),
                dst: at(h.dst),
                ..*h
            })
            .collect();
        *self = Profiles::from_parts(
            hosts,
            mine.services,
            mine.users,
            edges,
            admin,
            logons,
            &RoleThresholds::default(),
        )
        .with_edge_hours(edge_hours);
    }
}
