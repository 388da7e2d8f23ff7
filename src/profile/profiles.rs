//! [`Profiles`]: the finished tables of every host, how they are assembled
//! from parts (validated, sorted, duplicates merged, indices rebuilt) and
//! how they are stored (the tables only).

use super::host::HostProfile;
use super::index::Derived;
use super::order::{opt_host, packed, sort_merging};
use super::role::RoleThresholds;
use super::table::{AdminUse, Edge, EdgeHours, HostId, Logon, UserInfo};
use crate::model::Service;
use serde::{Deserialize, Serialize};

/// The stored form of [`Profiles`]: the tables, without derived indices.
#[derive(Debug, Deserialize)]
struct StoredProfiles {
    hosts: Vec<HostProfile>,
    services: Vec<Service>,
    users: Vec<UserInfo>,
    edges: Vec<Edge>,
    admin: Vec<AdminUse>,
    logons: Vec<Logon>,
    edge_hours: Vec<EdgeHours>,
}

impl From<StoredProfiles> for Profiles {
    fn from(s: StoredProfiles) -> Profiles {
        Profiles::from_parts(
            s.hosts,
            s.services,
            s.users,
            s.edges,
            s.admin,
            s.logons,
            &RoleThresholds::default(),
        )
        .with_edge_hours(s.edge_hours)
    }
}

/// Finished profiles of every host: sorted tables plus indices for queries.
///
/// Serialises as the tables only; deserialising validates every index
/// (records pointing outside the tables are dropped, never a panic) and
/// rebuilds the query indices. Equal inputs give equal (`==`) profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredProfiles")]
pub struct Profiles {
    /// Every host, sorted by key.
    pub(super) hosts: Vec<HostProfile>,
    /// The services table, sorted.
    pub(super) services: Vec<Service>,
    /// The users table, sorted by name.
    pub(super) users: Vec<UserInfo>,
    /// Flow edges, sorted by (src, dst, service).
    pub(super) edges: Vec<Edge>,
    /// Remote-admin evidence from log events, sorted by (src, dst, proto).
    pub(super) admin: Vec<AdminUse>,
    /// Logon triples, sorted by (user, dst, src).
    pub(super) logons: Vec<Logon>,
    /// Hours of the remote-admin edges, sorted by (src, dst, service).
    pub(super) edge_hours: Vec<EdgeHours>,
    /// Query indices, rebuilt from the tables.
    #[serde(skip_serializing)]
    pub(super) derived: Derived,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles::from_parts(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            &RoleThresholds::default(),
        )
    }
}

impl Profiles {
    /// Assembles profiles from tables (any order, duplicates merged,
    /// out-of-range indices dropped) and builds the indices.
    pub(crate) fn from_parts(
        hosts: Vec<HostProfile>,
        services: Vec<Service>,
        users: Vec<UserInfo>,
        mut edges: Vec<Edge>,
        mut admin: Vec<AdminUse>,
        mut logons: Vec<Logon>,
        thresholds: &RoleThresholds,
    ) -> Profiles {
        let nh = hosts.len() as u64;
        let ns = services.len() as u64;
        let nu = users.len() as u64;
        let host_ok = |h: HostId| u64::from(h.0) < nh;
        edges.retain(|e| host_ok(e.src) && host_ok(e.dst) && u64::from(e.service.0) < ns);
        admin.retain(|a| host_ok(a.src) && host_ok(a.dst));
        logons.retain(|l| u64::from(l.user.0) < nu && host_ok(l.dst) && l.src.is_none_or(host_ok));
        // The three tables sort and merge duplicates independently.
        rayon::join(
            || {
                sort_merging(
                    &mut edges,
                    |e| packed(e.src.0, e.dst.0, u64::from(e.service.0)),
                    |kept, later| kept.stats.merge(&later.stats),
                )
            },
            || {
                rayon::join(
                    || {
                        sort_merging(
                            &mut admin,
                            |a| packed(a.src.0, a.dst.0, a.proto as u64),
                            |kept, later| kept.stats.merge(&later.stats),
                        )
                    },
                    || {
                        sort_merging(
                            &mut logons,
                            |l| packed(l.user.0, l.dst.0, opt_host(l.src)),
                            |kept, later| kept.stats.merge(&later.stats),
                        )
                    },
                )
            },
        );
        let mut p = Profiles {
            hosts,
            services,
            users,
            edges,
            admin,
            logons,
            edge_hours: Vec::new(),
            derived: Derived::default(),
        };
        p.reindex(thresholds);
        p
    }

    /// Sets the hours of the remote-admin edges (any order; duplicates
    /// merged; records naming hosts or services outside the tables dropped).
    pub(crate) fn with_edge_hours(mut self, mut hours: Vec<EdgeHours>) -> Profiles {
        let (nh, ns) = (self.hosts.len() as u64, self.services.len() as u64);
        hours.retain(|h| {
            u64::from(h.src.0) < nh && u64::from(h.dst.0) < nh && u64::from(h.service.0) < ns
        });
        hours.sort_unstable_by_key(|h| (h.src, h.dst, h.service));
        hours.dedup_by(|later, kept| {
            if (later.src, later.dst, later.service) == (kept.src, kept.dst, kept.service) {
                kept.hours.merge(&later.hours);
                true
            } else {
                false
            }
        });
        self.edge_hours = hours;
        self
    }
}
