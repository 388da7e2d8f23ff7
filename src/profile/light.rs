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
//!
//! No detector reads a light source's records either (every flow rule
//! keeps records from an internal originator only), so [`split_light`]
//! reads the judged records past as they come back from the flow store
//! and folds the light sources' into a [`LightFold`] (the sources, how
//! many records, when, and the configured admins and scanners they name)
//! instead of holding them: exact, no sketch.

use super::Profiles;
use super::group::is_failed_attempt;
use crate::collect::flow_store::SortedFlows;
use crate::hosts::{HostDirectory, HostKey};
use crate::model::event::{Flow, LogEvent, Text, Timestamp, Transport};
use crate::model::host::canonical_ip;
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Distinct (host, service) pairs a light source may have tried; one
/// more and it is profiled. Far below the scanner thresholds (16 hosts,
/// 64 pairs), so a light source is a workstation by role inference.
pub const MAX_TARGETS: usize = 8;

/// One (host, service) pair a source tried: the service as profiles key
/// it (transport, port, application name: an index into the names met).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    dst: IpAddr,
    port: u16,
    proto: Transport,
    name: u32,
}

/// What one address did, as far as [`LightSources::find`] has read: 48
/// bytes a source in the hash table, the common single pair inline.
#[derive(Debug, Clone, Copy)]
enum Seen {
    /// Anything but failed attempts of its own to a few internal hosts.
    Full,
    /// Only failed attempts so far, to one pair.
    One(Target),
    /// Only failed attempts so far, to these pairs (an index into the
    /// lists of pairs).
    Many(u32),
}

/// Outside sources of failed attempts only, and what the role profiles
/// miss by leaving their records out.
#[derive(Debug, Default)]
pub struct LightSources {
    /// Every address read, light or not (canonical).
    seen: FxHashMap<IpAddr, Seen>,
    /// Light sources.
    light: usize,
    /// Per destination host: distinct light sources that tried it.
    clients: FxHashMap<HostKey, u32>,
}

/// The state of [`LightSources::find`] while it reads.
#[derive(Default)]
struct Finder {
    seen: FxHashMap<IpAddr, Seen>,
    /// The pairs of sources that tried more than one.
    many: Vec<Vec<Target>>,
    /// Application names met, numbered (`u32::MAX` for none).
    names: FxHashMap<Text, u32>,
}

impl Finder {
    fn target(&mut self, f: &Flow) -> Target {
        let name = match f
            .service
            .as_ref()
            .filter(|n| !n.is_empty() && n.as_str() != "-")
        {
            None => u32::MAX,
            Some(n) => {
                let next = u32::try_from(self.names.len()).unwrap_or(u32::MAX - 1);
                *self.names.entry(n.clone()).or_insert(next)
            }
        };
        Target {
            dst: canonical_ip(f.resp_h),
            port: f.resp_p,
            proto: f.proto,
            name,
        }
    }

    /// Notes a failed attempt of `o` to `t`.
    fn add(&mut self, o: IpAddr, t: Target) {
        let Some(s) = self.seen.get_mut(&o) else {
            self.seen.insert(o, Seen::One(t));
            return;
        };
        match *s {
            Seen::Full => {}
            Seen::One(first) if first == t => {}
            Seen::One(first) => match u32::try_from(self.many.len()) {
                Ok(i) => {
                    self.many.push(vec![first, t]);
                    *s = Seen::Many(i);
                }
                _ => *s = Seen::Full,
            },
            Seen::Many(i) => {
                let Some(list) = self.many.get_mut(i as usize) else {
                    *s = Seen::Full;
                    return;
                };
                if list.contains(&t) {
                    return;
                }
                if list.len() >= MAX_TARGETS {
                    *s = Seen::Full;
                    *list = Vec::new();
                } else {
                    list.push(t);
                }
            }
        }
    }
}

/// [`LightSources::find`] fed one record at a time, for records that
/// are not all in memory at once ([`split_light`]).
pub struct LightFinder<F> {
    f: Finder,
    is_internal: F,
}

impl<F: Fn(IpAddr) -> bool> LightFinder<F> {
    /// A finder judging addresses inside or outside with `is_internal`.
    pub fn new(is_internal: F) -> Self {
        LightFinder::with_capacity(is_internal, 0)
    }

    /// [`LightFinder::new`] with room for `n` addresses at once (the
    /// failed attempts to come, at most one light source each: a flood's
    /// table is then allocated once, not grown by doubling through
    /// transient copies).
    pub fn with_capacity(is_internal: F, n: usize) -> Self {
        let mut f = Finder::default();
        // Too large to reserve at once: grown as it fills instead.
        let _ = f.seen.try_reserve(n);
        LightFinder { f, is_internal }
    }

    /// Reads one connection record.
    pub fn flow(&mut self, flow: &Flow) {
        let f = &mut self.f;
        let (o, r) = (canonical_ip(flow.orig_h), canonical_ip(flow.resp_h));
        f.seen.insert(r, Seen::Full);
        let light = o != r
            && is_failed_attempt(flow.conn_state)
            && !(self.is_internal)(o)
            && (self.is_internal)(r);
        if light {
            let t = f.target(flow);
            f.add(o, t);
        } else {
            f.seen.insert(o, Seen::Full);
        }
    }

    /// Reads log events: every address they name is not light.
    pub fn events(&mut self, events: &[LogEvent]) {
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
                self.f.seen.insert(canonical_ip(ip), Seen::Full);
            }
        }
    }

    /// The light sources of every record read, with `dir` the host
    /// directory (an address it knows is not light).
    pub fn finish(self, dir: &HostDirectory) -> LightSources {
        let Finder { mut seen, many, .. } = self.f;
        let mut light = 0;
        let mut clients: FxHashMap<HostKey, u32> = FxHashMap::default();
        let mut dsts: Vec<HostKey> = Vec::new();
        for (ip, s) in seen.iter_mut() {
            let targets = match s {
                Seen::Full => continue,
                Seen::One(t) => std::slice::from_ref(t),
                Seen::Many(i) => many.get(*i as usize).map_or(&[][..], Vec::as_slice),
            };
            if dir.get(&HostKey::from_ip(*ip)).is_some() || dir.key_for_ip(*ip).is_named() {
                *s = Seen::Full;
                continue;
            }
            light += 1;
            dsts.clear();
            dsts.extend(targets.iter().map(|t| dir.key_for_ip(t.dst)));
            dsts.sort_unstable();
            dsts.dedup();
            for d in dsts.drain(..) {
                *clients.entry(d).or_insert(0) += 1;
            }
        }
        LightSources {
            seen,
            light,
            clients,
        }
    }
}

/// The judged connection records of light sources, read past and not
/// held: no detector reads them (every flow rule reads records from an
/// internal originator only, and a light source is outside), so what an
/// analysis needs of them is the light sources themselves (for the
/// roles), how many records there were and when, and the addresses they
/// name that the configuration marks (known admins and scanners: the
/// role priors' administrators).
#[derive(Debug, Default)]
pub struct LightFold {
    /// The light sources of every judged record.
    pub sources: LightSources,
    /// Their connection records, not held.
    pub records: usize,
    /// The time span of those records.
    pub span: Option<(Timestamp, Timestamp)>,
    /// The addresses of those records (either end) that `marked`
    /// accepted in [`split_light`].
    pub marked: BTreeSet<IpAddr>,
}

/// Reads the judged records `flows` (every record, role priors: nothing
/// was learned) twice: once to find the light sources
/// ([`LightSources::find`] over `flows` and `events`, with `dir` and
/// `is_internal`), then to take out the other records, in order, and fold
/// the light sources' into a [`LightFold`]. The records kept are those
/// [`LightSources::skips`] does not pick, so profiles built from them
/// equal [`crate::profile::build_parallel_skipping`] over every record.
/// Fails only when spilled records cannot be read back.
pub fn split_light(
    flows: SortedFlows,
    events: &[LogEvent],
    dir: &HostDirectory,
    is_internal: impl Fn(IpAddr) -> bool,
    marked: impl Fn(IpAddr) -> bool,
) -> std::io::Result<(Vec<Flow>, LightFold)> {
    let room = usize::try_from(flows.attempts()).unwrap_or(usize::MAX);
    let mut finder = LightFinder::with_capacity(is_internal, room);
    flows.for_each(|f| {
        finder.flow(f);
        Ok(())
    })?;
    finder.events(events);
    let mut fold = LightFold {
        sources: finder.finish(dir),
        ..LightFold::default()
    };
    if fold.sources.is_empty() {
        return Ok((flows.into_vec()?, fold));
    }
    let kept = flows.into_vec_where(|f| {
        if !fold.sources.skips(f) {
            return true;
        }
        fold.records += 1;
        fold.span = Some(match fold.span {
            Some((a, z)) => (a.min(f.ts), z.max(f.ts)),
            None => (f.ts, f.ts),
        });
        for ip in [f.orig_h, f.resp_h] {
            if marked(ip) {
                fold.marked.insert(ip);
            }
        }
        false
    })?;
    Ok((kept, fold))
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
        let mut f = LightFinder::new(is_internal);
        for flow in flows {
            f.flow(flow);
        }
        f.events(events);
        f.finish(dir)
    }

    /// Light sources found.
    pub fn len(&self) -> usize {
        self.light
    }

    /// True when no source is light.
    pub fn is_empty(&self) -> bool {
        self.light == 0
    }

    /// True when `ip` is a light source.
    pub fn is_light(&self, ip: IpAddr) -> bool {
        matches!(
            self.seen.get(&canonical_ip(ip)),
            Some(Seen::One(_) | Seen::Many(_))
        )
    }

    /// True when the record is a light source's, left out of the role
    /// profiles.
    pub fn skips(&self, f: &Flow) -> bool {
        self.light > 0 && self.is_light(f.orig_h)
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

    /// The light sources, sorted (for tests and diagnostics).
    pub fn sources(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self
            .seen
            .iter()
            .filter(|(_, s)| !matches!(s, Seen::Full))
            .map(|(ip, _)| *ip)
            .collect();
        v.sort_unstable();
        v
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
    fn a_source_costs_48_bytes_of_table() {
        let size = std::mem::size_of::<(IpAddr, Seen)>();
        assert!(size <= 48, "{size} bytes");
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
        assert_eq!(again.sources(), light.sources());
        assert_eq!(again.clients, light.clients);
        assert_eq!(light.sources(), vec![ip([1, 2, 3, 4])]);
    }
}
