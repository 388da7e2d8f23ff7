//! Forgetting: [`Profiles::age_out`] drops what was not seen within a
//! window and renumbers what is kept.

use super::Profiles;
use super::role::RoleThresholds;
use super::table::{AdminUse, Edge, EdgeHours, HostId, Logon, ServiceId, UserId};
use crate::model::event::{Duration, Timestamp};

impl Profiles {
    /// Forgets what was not seen within `window_days` days before `now`:
    /// edges, admin uses and logons whose last record is older, hosts last
    /// seen before then (unless a kept record names them) and users with no
    /// kept logon. Distributions of kept hosts are not aged (they cannot be
    /// un-merged).
    pub fn age_out(&mut self, now: Timestamp, window_days: u32) {
        let window = Duration::from_secs(i64::from(window_days) * 86_400);
        let cutoff = Timestamp(now.0.saturating_sub(window.0));
        let mine = std::mem::take(self);
        let edges: Vec<Edge> = mine
            .edges
            .into_iter()
            .filter(|e| e.stats.last >= cutoff)
            .collect();
        let admin: Vec<AdminUse> = mine
            .admin
            .into_iter()
            .filter(|a| a.stats.last >= cutoff)
            .collect();
        let logons: Vec<Logon> = mine
            .logons
            .into_iter()
            .filter(|l| l.stats.last >= cutoff)
            .collect();
        // Edge hours go with their edge (kept edges stay sorted by key).
        let edge_hours: Vec<EdgeHours> = mine
            .edge_hours
            .into_iter()
            .filter(|h| {
                let k = (h.src, h.dst, h.service);
                edges
                    .binary_search_by(|e| (e.src, e.dst, e.service).cmp(&k))
                    .is_ok()
            })
            .collect();
        let mut keep = vec![false; mine.hosts.len()];
        let mut mark = |h: HostId| {
            if let Some(k) = keep.get_mut(h.0 as usize) {
                *k = true;
            }
        };
        for e in &edges {
            mark(e.src);
            mark(e.dst);
        }
        for a in &admin {
            mark(a.src);
            mark(a.dst);
        }
        for l in &logons {
            mark(l.dst);
            if let Some(s) = l.src {
                mark(s);
            }
        }
        for (i, h) in mine.hosts.iter().enumerate() {
            if h.last_seen >= cutoff
                && let Some(k) = keep.get_mut(i)
            {
                *k = true;
            }
        }
        let (hosts, hmap) = keep_marked(mine.hosts, &keep);
        let mut ukeep = vec![false; mine.users.len()];
        for l in &logons {
            if let Some(k) = ukeep.get_mut(l.user.0 as usize) {
                *k = true;
            }
        }
        let (users, umap) = keep_marked(mine.users, &ukeep);
        let mut skeep = vec![false; mine.services.len()];
        for e in &edges {
            if let Some(k) = skeep.get_mut(e.service.0 as usize) {
                *k = true;
            }
        }
        let (services, smap) = keep_marked(mine.services, &skeep);
        let at = |m: &[u32], i: u32| m.get(i as usize).copied().unwrap_or(u32::MAX);
        let edges = edges
            .into_iter()
            .map(|e| Edge {
                src: HostId(at(&hmap, e.src.0)),
                dst: HostId(at(&hmap, e.dst.0)),
                service: ServiceId(at(&smap, e.service.0)),
                ..e
            })
            .collect();
        let admin = admin
            .into_iter()
            .map(|a| AdminUse {
                src: HostId(at(&hmap, a.src.0)),
                dst: HostId(at(&hmap, a.dst.0)),
                ..a
            })
            .collect();
        let logons = logons
            .into_iter()
            .map(|l| Logon {
                user: UserId(at(&umap, l.user.0)),
                src: l.src.map(|s| HostId(at(&hmap, s.0))),
                dst: HostId(at(&hmap, l.dst.0)),
                ..l
            })
            .collect();
        let edge_hours = edge_hours
            .into_iter()
            .map(|h| EdgeHours {
                src: HostId(at(&hmap, h.src.0)),
                dst: HostId(at(&hmap, h.dst.0)),
                service: ServiceId(at(&smap, h.service.0)),
                ..h
            })
            .collect();
        *self = Profiles::from_parts(
            hosts,
            services,
            users,
            edges,
            admin,
            logons,
            &RoleThresholds::default(),
        )
        .with_edge_hours(edge_hours);
    }
}

/// The items whose `keep` flag is set, in their order, and the map from
/// each old index to its new one (`u32::MAX` for a dropped item; a missing
/// flag drops).
fn keep_marked<T>(items: Vec<T>, keep: &[bool]) -> (Vec<T>, Vec<u32>) {
    let mut map = vec![u32::MAX; items.len()];
    let mut kept = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if keep.get(i).copied().unwrap_or(false) {
            if let Some(slot) = map.get_mut(i) {
                *slot = kept.len() as u32;
            }
            kept.push(item);
        }
    }
    (kept, map)
}
