//! Outside sources that only failed: what role priors need of them,
//! without a profile each.
//!
//! With nothing to learn from, the detectors ask profiles of the judged
//! records for roles only ([`crate::profile::build_parallel`] over them).
//! A SYN flood from random addresses makes every packet a new source and
//! every source a full host profile (kilobytes each), to answer one
//! question whose answer is already known: a host that only originated
//! failed attempts (S0, REJ, RSTOS0, SH) to a few hosts is a workstation
//! by [`crate::profile::RoleThresholds::infer`] (it originated flows, and
//! is far from a scanner's thresholds).
//!
//! [`LightSources::find`] picks those sources: outside addresses the host
//! directory knows nothing about, that only ever originated failed
//! attempts, to at most [`MAX_TARGETS`] distinct internal (host, service)
//! pairs, never answered anything and appear in no log event. Their
//! connection records are left out of the role profiles
//! ([`LightSources::skips`]); the roles view adds back what those records
//! would have given ([`LightSources::is_light`] for the role,
//! [`LightSources::clients_of`] for the hosts reaching a destination,
//! [`LightSources::unprofiled_targets`] for the host count). A source that
//! does more (answers, succeeds, logs, reaches more) keeps its profile.

use super::Profiles;
use super::group::is_failed_attempt;
use crate::hosts::{HostDirectory, HostKey};
use crate::model::event::{Flow, LogEvent, Text, Transport};
use crate::model::host::canonical_ip;
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;

/// Distinct (host, service) pairs a light source may have tried; one
/// more and it is profiled. Far below the scanner thresholds (16 hosts,
/// 64 pairs), so a light source is a workstation by role inference.
pub const MAX_TARGETS: usize = 8;

/// One (host, service) pair a source tried: the service as profiles key
/// it (transport, port, application name).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    dst: IpAddr,
    port: u16,
    proto: Transport,
    name: Option<Text>,
}

impl Target {
    fn of(f: &Flow) -> Target {
        Target {
            dst: canonical_ip(f.resp_h),
            port: f.resp_p,
            proto: f.proto,
            name: f
                .service
                .clone()
                .filter(|n| !n.is_empty() && n.as_str() != "-"),
        }
    }
}

/// What one address did, as far as [`LightSources::find`] has read.
enum Seen {
    /// Anything but failed attempts of its own to a few internal hosts.
    Full,
    /// Only failed attempts so far, to these pairs (the first inline).
    Light { first: Target, more: Vec<Target> },
}

impl Seen {
    fn add(&mut self, t: Target) {
        let Seen::Light { first, more } = self else {
            return;
        };
        if *first == t || more.contains(&t) {
            return;
        }
        if more.len() + 1 >= MAX_TARGETS {
            *self = Seen::Full;
        } else {
            more.push(t);
        }
    }
}

/// Outside sources of failed attempts only, and what the role profiles
/// miss by leaving their records out.
#[derive(Debug, Default)]
pub struct LightSources {
    /// The light sources (canonical addresses).
    sources: FxHashSet<IpAddr>,
    /// Per destination host: distinct light sources that tried it.
    clients: FxHashMap<HostKey, u32>,
}

impl LightSources {
    /// Finds the light sources of `flows` and `events`: outside
    /// addresses (`is_internal` false) with no entry in `dir`, only ever
    /// the originator of failed attempts to at most [`MAX_TARGETS`]
    /// (host, service) pairs on internal addresses other than themselves,
    /// and named by no log event. The result does not depend on the order
    /// of the records.
    pub fn find(
        flows: &[Flow],
        events: &[LogEvent],
        dir: &HostDirectory,
        is_internal: impl Fn(IpAddr) -> bool,
    ) -> LightSources {
        let mut seen: FxHashMap<IpAddr, Seen> = FxHashMap::default();
        for f in flows {
            let (o, r) = (canonical_ip(f.orig_h), canonical_ip(f.resp_h));
            seen.insert(r, Seen::Full);
            let light =
                o != r && is_failed_attempt(f.conn_state) && !is_internal(o) && is_internal(r);
            if !light {
                seen.insert(o, Seen::Full);
                continue;
            }
            let t = Target::of(f);
            match seen.get_mut(&o) {
                Some(s) => s.add(t),
                None => {
                    seen.insert(
                        o,
                        Seen::Light {
                            first: t,
                            more: Vec::new(),
                        },
                    );
                }
            }
        }
        for e in events {
            let named = [
                e.source_domain.as_deref(),
                e.destination_domain.as_deref(),
                e.host_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .filter_map(|t| t.trim().parse::<IpAddr>().ok());
            for ip in [e.source_ip, e.destination_ip, e.host_ip]
                .into_iter()
                .flatten()
                .chain(named)
            {
                seen.insert(canonical_ip(ip), Seen::Full);
            }
        }
        let mut out = LightSources::default();
        for (ip, s) in seen {
            let Seen::Light { first, more } = s else {
                continue;
            };
            if dir.get(&HostKey::from_ip(ip)).is_some() || dir.key_for_ip(ip).is_named() {
                continue;
            }
            out.sources.insert(ip);
            let mut dsts: Vec<HostKey> = std::iter::once(first)
                .chain(more)
                .map(|t| dir.key_for_ip(t.dst))
                .collect();
            dsts.sort_unstable();
            dsts.dedup();
            for d in dsts {
                *out.clients.entry(d).or_insert(0) += 1;
            }
        }
        out
    }

    /// Light sources found.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// True when no source is light.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// True when `ip` is a light source.
    pub fn is_light(&self, ip: IpAddr) -> bool {
        self.sources.contains(&canonical_ip(ip))
    }

    /// True when the record is a light source's, left out of the role
    /// profiles.
    pub fn skips(&self, f: &Flow) -> bool {
        !self.sources.is_empty() && self.is_light(f.orig_h)
    }

    /// Distinct light sources that tried the host `key`.
    pub fn clients_of(&self, key: &HostKey) -> u32 {
        self.clients.get(key).copied().unwrap_or(0)
    }

    /// Hosts only light sources' records name: destinations with no host
    /// in `profiles` (built without those records). Each is internal.
    pub fn unprofiled_targets(&self, profiles: &Profiles) -> usize {
        self.clients
            .keys()
            .filter(|k| profiles.host_id(k).is_none())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{ConnState, Timestamp};
    use std::net::Ipv4Addr;

    fn flow(o: [u8; 4], r: [u8; 4], port: u16, state: ConnState) -> Flow {
        Flow {
            ts: Timestamp(0),
            uid: Text::from("C1"),
            orig_h: IpAddr::V4(Ipv4Addr::from(o)),
            orig_p: 40000,
            resp_h: IpAddr::V4(Ipv4Addr::from(r)),
            resp_p: port,
            proto: Transport::Tcp,
            service: None,
            duration: None,
            orig_bytes: None,
            resp_bytes: None,
            conn_state: state,
            missed_bytes: 0,
            history: Text::from("S"),
            orig_pkts: 1,
            orig_ip_bytes: 40,
            resp_pkts: 0,
            resp_ip_bytes: 0,
            ip_proto: 6,
            origin: None,
        }
    }

    fn internal(ip: IpAddr) -> bool {
        matches!(ip, IpAddr::V4(v) if v.octets()[0] == 10)
    }

    #[test]
    fn only_failed_outside_sources_to_few_targets_are_light() {
        let mut flows = vec![
            flow([1, 2, 3, 4], [10, 0, 0, 1], 445, ConnState::S0),
            flow([1, 2, 3, 4], [10, 0, 0, 1], 445, ConnState::S0),
            flow([1, 2, 3, 5], [10, 0, 0, 1], 445, ConnState::SF),
            flow([1, 2, 3, 6], [10, 0, 0, 2], 22, ConnState::REJ),
            flow([10, 0, 0, 3], [1, 2, 3, 6], 80, ConnState::SF),
            flow([10, 0, 0, 4], [10, 0, 0, 1], 445, ConnState::S0),
        ];
        for i in 0..=MAX_TARGETS as u8 {
            flows.push(flow([1, 2, 3, 7], [10, 0, 1, i], 445, ConnState::S0));
        }
        let dir = HostDirectory::default();
        let light = LightSources::find(&flows, &[], &dir, internal);
        let ip = |o: [u8; 4]| IpAddr::V4(Ipv4Addr::from(o));
        assert!(light.is_light(ip([1, 2, 3, 4])));
        // Succeeded, answered, inside, tried too many: profiled.
        for o in [[1, 2, 3, 5], [1, 2, 3, 6], [10, 0, 0, 4], [1, 2, 3, 7]] {
            assert!(!light.is_light(ip(o)), "{o:?}");
        }
        assert_eq!(light.len(), 1);
        assert_eq!(light.clients_of(&dir.key_for_ip(ip([10, 0, 0, 1]))), 1);
        // Order does not matter.
        flows.reverse();
        let again = LightSources::find(&flows, &[], &dir, internal);
        assert_eq!(again.sources, light.sources);
        assert_eq!(again.clients, light.clients);
    }
}
