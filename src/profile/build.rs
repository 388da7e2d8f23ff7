//! Building profiles: flows and events in, [`Profiles`] out.
//!
//! A [`ProfileBuilder`] accumulates per-edge, per-logon and per-host state
//! with interned host, service and user indices (so per-edge state is a
//! few integers, never strings). Builders are independent and mergeable:
//! build one per chunk of input in parallel and [`ProfileBuilder::merge`]
//! them; the finished [`Profiles`] equal those of one builder fed
//! everything. Per-hour state (flows per hour, distinct peers per hour)
//! stays open until [`ProfileBuilder::finish`], which is what makes the
//! hourly distributions exact under merge; it grows with (host, hour) and
//! (host, hour, peer) triples, never with the number of flows.

use crate::hosts::{HostDirectory, HostKey};
use crate::model::Action;
use crate::model::event::{Flow, LogEvent, Outcome, Text, Timestamp, Transport};
use crate::model::{AdminService, Service};
use crate::profile::AdminStats;
use crate::profile::edge::EdgeStats;
pub use crate::profile::group::is_failed_attempt;
use crate::profile::group::{FlowGroup, hour_num};
use crate::profile::host::{HostProfile, sort_names};
use crate::profile::logon::{LogonStats, Methods, is_network_logon};
use crate::profile::order::{inverse, order_by, take_in_order};
use crate::profile::parts::Parts;
use crate::profile::pending::Pending;
use crate::profile::role::RoleThresholds;
use crate::profile::week::WeekHours;
use crate::profile::{
    AdminUse, Edge, EdgeHours, HostId, Logon, Profiles, ServiceId, UserId, UserInfo, note_sid,
};
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use std::net::IpAddr;
use std::sync::Arc;

/// Services sharing one (transport, port), by name, with their indices.
type ServiceSlots = Vec<(Option<Box<str>>, u32)>;

/// Activity records a builder holds before applying them to its hosts
/// (see [`ProfileBuilder::settle_activity`]).
const ACTIVITY_SETTLE_AT: usize = 1 << 20;

/// Sentinel for "no source host" in logon keys.
pub(super) const NO_HOST: u32 = u32::MAX;

/// Accumulates profiles from flows and events; see the module docs.
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    pub(super) dir: Arc<HostDirectory>,
    pub(super) hosts: Vec<HostProfile>,
    pub(super) host_ids: FxHashMap<HostKey, u32>,
    pub(super) ip_cache: FxHashMap<IpAddr, u32>,
    pub(super) services: Vec<Service>,
    /// Per service: whether it is a remote-admin one (its edges keep hours).
    pub(super) service_admin: Vec<bool>,
    pub(super) service_ids: FxHashMap<(Transport, u16), ServiceSlots>,
    pub(super) users: Vec<UserInfo>,
    pub(super) user_ids: FxHashMap<String, u32>,
    /// Host names as events spell them -> the host they resolve to (`None`:
    /// not a host name). Keys are inline text for the usual short names, so
    /// a lookup reads no other memory.
    pub(super) raw_hosts: FxHashMap<Text, Option<u32>>,
    /// (account, domain) as events spell them -> the account's index.
    pub(super) raw_users: FxHashMap<(Text, Option<Text>), Option<u32>>,
    pub(super) edges: Parts<(u32, u32, u32), EdgeStats>,
    /// (host, hour, peer) -> that host's flows with that peer in that hour
    /// (peer = host itself for flows between two addresses of one host).
    pub(super) hourly: Parts<(u32, u32, u32), HourCell>,
    /// (src, hour, dst) of remote-admin use: established flows on a
    /// remote-admin service and admin log events.
    pub(super) admin_hours: FxHashSet<(u32, u32, u32)>,
    /// (user, hour, host) of successful network logons.
    pub(super) user_hours: Pending<(u32, u32, u32), ()>,
    pub(super) admin: FxHashMap<(u32, u32, AdminService), AdminStats>,
    /// (user, source or [`NO_HOST`], target) -> what its logon records say.
    pub(super) logons: Pending<(u32, u32, u32), LogonStats>,
    /// (src, dst, service) of remote-admin edges -> hours of their flows.
    pub(super) edge_hours: FxHashMap<(u32, u32, u32), WeekHours>,
    /// What log events did to hosts, applied to their profiles by
    /// [`ProfileBuilder::finish_with`]: the fold only appends (it never
    /// reaches into a host's profile), and the finish applies them in
    /// parallel by host.
    activity: Vec<Activity>,
}

/// One host's part in one log event (see [`ProfileBuilder::add_event`]).
#[derive(Debug, Clone, Copy)]
struct Activity {
    /// The builder's host index.
    host: u32,
    /// [`Activity::SEEN`] (no bit set), or the [`Activity::TOUCH`] bit
    /// with or without the [`Activity::KDC`] bit.
    what: u8,
    /// When.
    ts: Timestamp,
}

impl Activity {
    /// Widens first and last seen only (a host an event resolved but did not involve).
    const SEEN: u8 = 0;
    /// An event involved the host: first/last seen, its hour-of-week
    /// counter and its event count.
    const TOUCH: u8 = 1;
    /// It wrote a Kerberos ticket event.
    const KDC: u8 = 2;

    /// Applies the records of hosts `lo..lo + part.len()` to `part`.
    fn apply(part: &mut [HostProfile], lo: usize, records: &[Activity]) {
        for a in records {
            let Some(h) = (a.host as usize)
                .checked_sub(lo)
                .and_then(|i| part.get_mut(i))
            else {
                continue;
            };
            if a.what & Activity::TOUCH != 0 {
                h.touch(a.ts);
                h.events = h.events.saturating_add(1);
            } else {
                h.first_seen = h.first_seen.min(a.ts);
                h.last_seen = h.last_seen.max(a.ts);
            }
            if a.what & Activity::KDC != 0 {
                h.kdc_events = h.kdc_events.saturating_add(1);
            }
        }
    }
}

/// One host's flows with one peer in one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct HourCell {
    /// Flows in either direction.
    pub(super) flows: u32,
    /// Flows the host originated.
    pub(super) sent_flows: u32,
    /// Payload bytes the host sent in the flows it originated.
    pub(super) sent: u64,
}

impl HourCell {
    pub(super) fn add(&mut self, o: HourCell) {
        self.flows = self.flows.saturating_add(o.flows);
        self.sent_flows = self.sent_flows.saturating_add(o.sent_flows);
        self.sent = self.sent.saturating_add(o.sent);
    }
}

/// The key of an account name: lowercase, with a `DOMAIN\` prefix or an
/// `@domain` suffix (UPN) split off and returned as the implied domain.
pub fn user_key(raw: &str) -> (String, Option<&str>) {
    let t = raw.trim();
    if let Some((d, n)) = t.split_once('\\') {
        return (n.trim().to_lowercase(), Some(d));
    }
    if let Some((n, d)) = t.rsplit_once('@')
        && !n.is_empty()
        && !d.is_empty()
    {
        return (n.trim().to_lowercase(), Some(d));
    }
    (t.to_lowercase(), None)
}

/// True when [`user_key`] returns `raw` itself with no implied domain:
/// ASCII without upper case, `\`, `@` or surrounding white space. Lets a
/// lookup by account name skip normalising (and allocating).
pub fn is_plain_user_key(raw: &str) -> bool {
    let b = raw.as_bytes();
    let edge = |c: Option<&u8>| c.is_some_and(|c| !char::from(*c).is_whitespace());
    b.iter()
        .all(|c| c.is_ascii() && !c.is_ascii_uppercase() && !matches!(c, b'\\' | b'@'))
        && edge(b.first())
        && edge(b.last())
}

impl ProfileBuilder {
    /// An empty builder resolving hosts through `dir`. Builders that will be
    /// merged must share the same directory.
    pub fn new(dir: Arc<HostDirectory>) -> ProfileBuilder {
        ProfileBuilder {
            dir,
            hosts: Vec::new(),
            host_ids: FxHashMap::default(),
            ip_cache: FxHashMap::default(),
            services: Vec::new(),
            service_admin: Vec::new(),
            service_ids: FxHashMap::default(),
            users: Vec::new(),
            user_ids: FxHashMap::default(),
            raw_hosts: FxHashMap::default(),
            raw_users: FxHashMap::default(),
            edges: Parts::default(),
            hourly: Parts::default(),
            admin_hours: FxHashSet::default(),
            user_hours: Pending::new(|_, _| {}),
            admin: FxHashMap::default(),
            logons: Pending::new(LogonStats::merge),
            edge_hours: FxHashMap::default(),
            activity: Vec::new(),
        }
    }

    /// The directory hosts are resolved through.
    pub fn directory(&self) -> &Arc<HostDirectory> {
        &self.dir
    }

    /// Hosts seen so far.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// Distinct (originator, responder, service) edges seen so far.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// A cheap running estimate of the memory this builder holds, in
    /// bytes: a fixed cost per host, edge, hour cell, account, logon
    /// record and cache entry (the tables' slack included), counted from
    /// the tables' lengths, so it costs a few additions to ask. What
    /// `--memory-limit` compares with its share ([`crate::profile::spill`]).
    pub fn estimated_bytes(&self) -> u64 {
        // Per entry: the record, its key, and a hash table's slack (about
        // 1.5 slots per entry) or a vector's (up to 2x).
        const HOST: usize = std::mem::size_of::<HostProfile>() + 160;
        const MAP: usize = 48;
        const EDGE: usize = 12 + std::mem::size_of::<EdgeStats>() + 24;
        const CELL: usize = 12 + std::mem::size_of::<HourCell>() + 16;
        const TRIPLE: usize = 24;
        const LOGON: usize = 12 + std::mem::size_of::<LogonStats>() + 24;
        const USER: usize = std::mem::size_of::<UserInfo>() + 64;
        let n = self.hosts.len() * (HOST + 2 * MAP)
            + (self.ip_cache.len() + self.raw_hosts.len() + self.raw_users.len()) * MAP
            + self.edges.len() * EDGE
            + self.hourly.len() * CELL
            + (self.admin_hours.len() + self.user_hours.len()) * TRIPLE
            + (self.logons.len() + self.admin.len() + self.edge_hours.len()) * LOGON
            + self.users.len() * (USER + MAP)
            + self.activity.len() * std::mem::size_of::<Activity>();
        n as u64
    }

    /// Widens a known host's first and last seen to `ts`.
    fn seen_at(&mut self, id: u32, ts: Timestamp) {
        if let Some(h) = self.hosts.get_mut(id as usize) {
            h.first_seen = h.first_seen.min(ts);
            h.last_seen = h.last_seen.max(ts);
        }
    }

    /// The builder's index of host `key`, created first seen at `ts` when
    /// new. An existing host's first and last seen are the caller's to widen.
    fn intern_host(&mut self, key: HostKey, ts: Timestamp) -> u32 {
        if let Some(&id) = self.host_ids.get(&key) {
            return id;
        }
        let id = u32::try_from(self.hosts.len()).unwrap_or(u32::MAX - 1);
        self.hosts.push(HostProfile::new(key.clone(), ts));
        self.host_ids.insert(key, id);
        id
    }

    /// The host of an address (see [`ProfileBuilder::intern_host`] for `ts`).
    fn host_for_ip(&mut self, ip: IpAddr, ts: Timestamp) -> u32 {
        if let Some(&id) = self.ip_cache.get(&ip) {
            return id;
        }
        let key = self.dir.key_for_ip(ip);
        let id = self.intern_host(key, ts);
        self.ip_cache.insert(ip, id);
        id
    }

    fn host_for_name(&mut self, name: &str, ts: Timestamp) -> Option<u32> {
        if let Some(&known) = self.raw_hosts.get(name) {
            return known;
        }
        let id = self
            .dir
            .key_for_name(name)
            .map(|key| self.host_for_key(key, ts));
        self.raw_hosts.insert(Text::from(name), id);
        id
    }

    /// The host of a directory key (an address key goes through its address).
    fn host_for_key(&mut self, key: HostKey, ts: Timestamp) -> u32 {
        match key.ip() {
            Some(ip) => self.host_for_ip(ip, ts),
            None => self.intern_host(key, ts),
        }
    }

    /// The host named `name` when the directory takes it as a host name,
    /// else the host of `ip`.
    fn host_named_or_at(
        &mut self,
        name: Option<&str>,
        ip: Option<IpAddr>,
        ts: Timestamp,
    ) -> Option<u32> {
        match (name.and_then(|n| self.host_for_name(n, ts)), ip) {
            (Some(id), _) => Some(id),
            (None, Some(ip)) => Some(self.host_for_ip(ip, ts)),
            (None, None) => None,
        }
    }

    fn service_id(&mut self, proto: Transport, port: u16, name: Option<&str>) -> u32 {
        let name = name.filter(|n| !n.is_empty() && *n != "-");
        let slot = self.service_ids.entry((proto, port)).or_default();
        if let Some((_, id)) = slot.iter().find(|(n, _)| n.as_deref() == name) {
            return *id;
        }
        let id = u32::try_from(self.services.len()).unwrap_or(u32::MAX);
        let service = Service::new(proto, port, name);
        self.service_admin.push(service.admin_service().is_some());
        self.services.push(service);
        slot.push((name.map(Box::from), id));
        id
    }

    fn user_id(&mut self, name: &str, domain: Option<&str>) -> Option<u32> {
        // A plain account name with no domain is its own key: a known one
        // is found without building a spelling key.
        if domain.is_none()
            && is_plain_user_key(name)
            && let Some(&id) = self.user_ids.get(name)
        {
            return Some(id);
        }
        // An account spelt as before resolves as before (domains are a set,
        // so noting one again changes nothing).
        let raw = (Text::from(name), domain.map(Text::from));
        if let Some(&id) = self.raw_users.get(&raw) {
            return id;
        }
        let id = self.resolve_user(name, domain);
        self.raw_users.insert(raw, id);
        id
    }

    fn resolve_user(&mut self, name: &str, domain: Option<&str>) -> Option<u32> {
        let (n, implied) = user_key(name);
        if n.is_empty() || n == "-" {
            return None;
        }
        let domain = domain.or(implied);
        let id = match self.user_ids.get(&n) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.users.len()).unwrap_or(u32::MAX);
                self.users.push(UserInfo {
                    name: n.clone(),
                    domains: Vec::new(),
                    logon_hours: WeekHours::default(),
                    peak_hosts_per_hour: 0,
                    sids: Vec::new(),
                });
                self.user_ids.insert(n, id);
                id
            }
        };
        if let (Some(d), Some(u)) = (domain, self.users.get_mut(id as usize)) {
            let d = d.trim().to_lowercase();
            if !d.is_empty() && d != "-" && !u.domains.contains(&d) {
                u.domains.push(d);
                u.domains.sort();
            }
        }
        Some(id)
    }

    fn host_mut(&mut self, id: u32) -> Option<&mut HostProfile> {
        self.hosts.get_mut(id as usize)
    }

    /// Adds one connection record.
    pub fn add_flow(&mut self, f: &Flow) {
        let ts = f.ts;
        let s = self.host_for_ip(f.orig_h, ts);
        let d = self.host_for_ip(f.resp_h, ts);
        let svc = self.service_id(f.proto, f.resp_p, f.service.as_deref());
        let out = f.orig_bytes.unwrap_or(0);
        let inb = f.resp_bytes.unwrap_or(0);
        let failed = is_failed_attempt(f.conn_state);
        self.edges
            .part(s)
            .entry((s, d, svc))
            .and_modify(|e| e.observe(ts, out, inb, failed))
            .or_insert_with(|| EdgeStats::one(ts, out, inb, failed));
        if self
            .service_admin
            .get(svc as usize)
            .copied()
            .unwrap_or(false)
        {
            self.edge_hours.entry((s, d, svc)).or_default().note(ts);
        }
        let dur = f
            .duration
            .map_or(0, |d| u64::try_from(d.0.div_euclid(1000)).unwrap_or(0));
        if let Some(h) = self.host_mut(s) {
            h.touch(ts);
            h.flows_out = h.flows_out.saturating_add(1);
            h.bytes_out_per_flow.record(out);
            h.bytes_in_per_flow.record(inb);
            h.duration_us.record(dur);
        }
        let hour = hour_num(ts);
        self.hourly
            .part(s)
            .entry((s, hour, d))
            .or_default()
            .add(HourCell {
                flows: 1,
                sent_flows: 1,
                sent: out,
            });
        if d != s {
            if let Some(h) = self.host_mut(d) {
                h.touch(ts);
            }
            self.hourly
                .part(d)
                .entry((d, hour, s))
                .or_default()
                .add(HourCell {
                    flows: 1,
                    ..HourCell::default()
                });
            if !failed
                && self
                    .service_admin
                    .get(svc as usize)
                    .copied()
                    .unwrap_or(false)
            {
                self.admin_hours.insert((s, hour, d));
            }
        }
        if let Some(h) = self.host_mut(d) {
            h.flows_in = h.flows_in.saturating_add(1);
        }
    }

    /// Adds the flows of one [`FlowGroup`]: exactly what adding each of
    /// its flows with [`ProfileBuilder::add_flow`] gives.
    pub fn add_flow_group(&mut self, g: &FlowGroup) {
        let (ts, last) = (g.first, g.last);
        let n = u32::try_from(g.flows).unwrap_or(u32::MAX);
        if n == 0 {
            return;
        }
        let s = self.host_for_ip(g.orig, ts);
        let d = self.host_for_ip(g.resp, ts);
        let svc = self.service_id(g.proto, g.port, g.service.as_deref());
        let failed = u32::try_from(g.failed).unwrap_or(u32::MAX);
        let stats = EdgeStats {
            first: ts,
            last,
            days: 1,
            flows: n,
            failed,
            bytes_out: g.bytes_out,
            bytes_in: g.bytes_in,
        };
        self.edges
            .part(s)
            .entry((s, d, svc))
            .and_modify(|e| e.merge(&stats))
            .or_insert(stats);
        let admin_service = self
            .service_admin
            .get(svc as usize)
            .copied()
            .unwrap_or(false);
        if admin_service {
            self.edge_hours
                .entry((s, d, svc))
                .or_default()
                .note_n(ts, n);
        }
        if let Some(h) = self.host_mut(s) {
            h.touch_n(ts, last, n);
            h.flows_out = h.flows_out.saturating_add(g.flows);
            h.bytes_out_per_flow.merge(&g.out_per_flow);
            h.bytes_in_per_flow.merge(&g.in_per_flow);
            h.duration_us.merge(&g.duration_us);
        }
        let hour = g.hour;
        self.hourly
            .part(s)
            .entry((s, hour, d))
            .or_default()
            .add(HourCell {
                flows: n,
                sent_flows: n,
                sent: g.bytes_out,
            });
        if d != s {
            if let Some(h) = self.host_mut(d) {
                h.touch_n(ts, last, n);
            }
            self.hourly
                .part(d)
                .entry((d, hour, s))
                .or_default()
                .add(HourCell {
                    flows: n,
                    ..HourCell::default()
                });
            if g.failed < g.flows && admin_service {
                self.admin_hours.insert((s, hour, d));
            }
        }
        if let Some(h) = self.host_mut(d) {
            h.flows_in = h.flows_in.saturating_add(g.flows);
        }
    }

    /// Adds many flow groups.
    pub fn add_flow_groups<'a>(&mut self, groups: impl IntoIterator<Item = &'a FlowGroup>) {
        for g in groups {
            self.add_flow_group(g);
        }
    }

    /// Adds many connection records.
    pub fn add_flows<'a>(&mut self, flows: impl IntoIterator<Item = &'a Flow>) {
        for f in flows {
            self.add_flow(f);
        }
    }

    /// Adds one log event: its hosts (writer, source, target) are touched;
    /// logons, privileged sessions, Kerberos service events and remote-admin
    /// use are recorded (see [`crate::profile`] for which actions count).
    pub fn add_event(&mut self, e: &LogEvent) {
        let ts = e.ts;
        let writer = self.host_named_or_at(e.host_name.as_deref(), e.host_ip, ts);
        let mut src = e.source_ip.map(|ip| self.host_for_ip(ip, ts));
        let src_unnamed = src
            .and_then(|id| self.hosts.get(id as usize))
            .is_some_and(|h| !h.key.is_named());
        if (src.is_none() || src_unnamed)
            && e.action != Action::ExplicitCredentialLogon
            && let Some(name) = e.source_domain.as_deref()
            && let Some(id) = self.host_for_name(name, ts)
        {
            // The address's host was resolved (and so seen) too.
            if let Some(by_ip) = src.filter(|&s| s != id) {
                self.activity.push(Activity {
                    host: by_ip,
                    what: Activity::SEEN,
                    ts,
                });
            }
            src = Some(id);
        }
        let user = match e.user_name.as_deref() {
            Some(u) => self.user_id(u, e.user_domain.as_deref()),
            None => None,
        };
        let success = e.outcome != Some(Outcome::Failure);
        let mut target = None;
        let mut logon: Option<(Option<u32>, u32, Methods)> = None;
        let mut privileged = false;
        let mut kdc = false;
        let method = e.auth_method.as_deref().map_or(Methods(0), Methods::parse);
        match e.action {
            Action::LoggedIn | Action::LogonFailed | Action::InvalidUser => {
                if let Some(w) = writer {
                    logon = Some((src, w, method));
                }
            }
            Action::ExplicitCredentialLogon => {
                target =
                    self.host_named_or_at(e.destination_domain.as_deref(), e.destination_ip, ts);
                if let (Some(w), Some(t)) = (writer, target) {
                    logon = Some((Some(w), t, method.union(Methods::EXPLICIT)));
                }
            }
            Action::KerberosServiceTicket
            | Action::KerberosTgtRequest
            | Action::KerberosPreauthFailed => {
                kdc = true;
                let svc = e.service_name().filter(|s| s.ends_with('$'));
                if e.action == Action::KerberosServiceTicket
                    && success
                    && let Some(name) = svc
                {
                    target = self.host_for_name(name, ts);
                    if let Some(t) = target {
                        logon = Some((src, t, Methods::KERBEROS));
                    }
                }
            }
            Action::SpecialPrivilegesAssigned => privileged = true,
            Action::Sudo => {
                privileged = success && e.subject_user().is_none_or(|u| u == "root");
            }
            _ => {}
        }
        // Each host the event involves, once (the writer's record also
        // carries its Kerberos count).
        let mut involved = [writer, src, target];
        involved.sort();
        let mut last = None;
        for id in involved.into_iter().flatten() {
            if last == Some(id) {
                continue;
            }
            last = Some(id);
            let what = if kdc && writer == Some(id) {
                Activity::TOUCH | Activity::KDC
            } else {
                Activity::TOUCH
            };
            self.activity.push(Activity { host: id, what, ts });
        }
        if let (Some(uid), Some(sid)) = (user, e.user_id())
            && e.outcome == Some(Outcome::Success)
            && let Some(u) = self.users.get_mut(uid as usize)
        {
            note_sid(&mut u.sids, sid);
        }
        if let Some(uid) = user
            && let Some(u) = self.users.get_mut(uid as usize)
            && e.outcome == Some(Outcome::Success)
            && is_network_logon(e)
        {
            u.logon_hours.note(ts);
            if let Some(w) = writer {
                self.user_hours.push((uid, hour_num(ts), w), ());
            }
        }
        if let (Some(u), Some((from, to, m))) = (user, logon) {
            let mut one = LogonStats::at(ts);
            if success {
                one.successes = 1;
            } else {
                one.failures = 1;
            }
            if let Some(t) = e.logon_type {
                one.types.insert(t);
            }
            one.methods = m;
            self.logons.push((u, from.unwrap_or(NO_HOST), to), one);
        }
        if let (Some(u), Some(w), true) = (user, writer, privileged) {
            let mut one = LogonStats::at(ts);
            one.privileged = 1;
            one.special_privileges = u32::from(e.action == Action::SpecialPrivilegesAssigned);
            self.logons.push((u, NO_HOST, w), one);
        }
        if let (Some(p), Some(s), Some(w)) = (AdminService::of_event(e), src, writer)
            && s != w
        {
            self.admin
                .entry((s, w, p))
                .and_modify(|a| a.merge(&AdminStats::one(ts)))
                .or_insert_with(|| AdminStats::one(ts));
            self.admin_hours.insert((s, hour_num(ts), w));
        }
        if self.activity.len() >= ACTIVITY_SETTLE_AT {
            self.settle_activity();
        }
    }

    /// Adds the writer's part of a light event (a
    /// [`crate::profile::light_baseline::LightTouch`] from `src`): the
    /// writer touched at the event's time and its account noted, nothing
    /// of the source or the logon triple (a
    /// [`crate::profile::light_baseline::LightTable`] keeps those).
    /// Returns the writer's key, or `None` (nothing added but the
    /// writer's interning, which [`ProfileBuilder::add_event`] does alike)
    /// when the event has no writer or its writer is the source's own
    /// host: then the caller adds the whole event.
    pub fn add_light_writer(&mut self, e: &LogEvent, src: IpAddr) -> Option<HostKey> {
        let ts = e.ts;
        let w = self.host_named_or_at(e.host_name.as_deref(), e.host_ip, ts)?;
        let key = self.hosts.get(w as usize)?.key.clone();
        if key.ip() == Some(src) || self.dir.key_for_ip(src) != HostKey::from_ip(src) {
            return None;
        }
        self.activity.push(Activity {
            host: w,
            what: Activity::TOUCH,
            ts,
        });
        if let Some(u) = e.user_name.as_deref() {
            self.user_id(u, e.user_domain.as_deref());
        }
        if self.activity.len() >= ACTIVITY_SETTLE_AT {
            self.settle_activity();
        }
        Some(key)
    }

    /// Applies the activity records held so far to the hosts' profiles
    /// (what [`ProfileBuilder::finish_with`] would do with them), so a long
    /// fold holds per-host state, not one record per event. Exact: the
    /// records only widen first and last seen and add to counters, as
    /// [`HostProfile::merge`] does.
    pub(super) fn settle_activity(&mut self) {
        let activity = std::mem::take(&mut self.activity);
        Activity::apply(&mut self.hosts, 0, &activity);
        self.activity = activity;
        self.activity.clear();
    }

    /// Records the remote execution in `events` (sorted by time) as
    /// [`AdminStats::exec`] of its source on the host, tied as
    /// [`crate::profile::exec::attribute`] ties it. Run once over all the
    /// events of a build (a logon and the service it starts may fall in
    /// different chunks of [`ProfileBuilder::add_events`]); cheap when they
    /// hold no service installation or admin-share access.
    pub fn add_remote_exec(&mut self, events: &[LogEvent]) {
        // Hosts resolve to directory keys, not to builder hosts: only the
        // hosts of hits are interned, each at the time of a record that
        // names it (the logon or action `add_event` also takes).
        let dir = self.dir.clone();
        let hits = crate::profile::exec::attribute(
            events,
            crate::profile::exec::BASELINE_WINDOW_NS,
            |side, ip, name| crate::profile::exec::directory_key(&dir, side, ip, name),
        );
        for h in hits {
            let action = h.action;
            let own_source =
                action.action != Action::ServiceInstalled && action.source_ip.is_some();
            let src_ts = match h.logon {
                Some(l) if !own_source => l.ts,
                _ => action.ts,
            };
            let src = self.intern_host(h.src, src_ts);
            self.seen_at(src, src_ts);
            let host = self.intern_host(h.host, action.ts);
            self.seen_at(host, action.ts);
            let one = AdminStats {
                events: 0,
                exec: 1,
                ..AdminStats::one(action.ts)
            };
            self.admin
                .entry((src, host, AdminService::Smb))
                .and_modify(|a| a.merge(&one))
                .or_insert(one);
        }
    }

    /// Sizes an empty builder's host and account tables for `events` log
    /// events: at most as many hosts as the directory names (the logs name
    /// them) or the events, and as many accounts, so that the tables do not
    /// grow step by step while the events are folded.
    fn reserve_for_events(&mut self, events: usize) {
        if !self.hosts.is_empty() {
            return;
        }
        let n = self.dir.len().min(events);
        self.hosts.reserve(n);
        self.host_ids.reserve(n);
        self.raw_hosts.reserve(n);
        self.ip_cache.reserve(n);
        self.users.reserve(n);
        self.user_ids.reserve(n);
        self.raw_users.reserve(n);
    }

    /// Adds many log events.
    pub fn add_events<'a>(&mut self, events: impl IntoIterator<Item = &'a LogEvent>) {
        for e in events {
            self.add_event(e);
        }
    }

    /// Folds another builder (built over the same directory) into this one.
    /// The result finishes to exactly what one builder fed both inputs gives.
    pub fn merge(&mut self, mut other: ProfileBuilder) {
        // Fold the smaller into the larger: the result is the same either way.
        let size = |b: &ProfileBuilder| {
            b.edges.len() + b.hourly.len() + b.hosts.len() + b.logons.len() + b.admin.len()
        };
        if size(&other) > size(self) {
            std::mem::swap(self, &mut other);
        }
        // A host new to `self` is moved over whole: before the finish a
        // builder's host has no addresses, names or role yet, so merging
        // it into a fresh profile would copy it to the same value (and
        // hold both copies until the merge ends: a flood of distinct
        // sources is a host each).
        // Room for every host of `other` at once (at most its count more
        // than needed): growing by doubling would copy the whole table
        // again late in the merge, while `other`'s is still allocated.
        self.hosts.reserve_exact(other.hosts.len());
        let hmap: Vec<u32> = std::mem::take(&mut other.hosts)
            .into_iter()
            .map(|h| match self.host_ids.get(&h.key) {
                Some(&id) => {
                    if let Some(mine) = self.hosts.get_mut(id as usize) {
                        mine.merge(&h);
                    }
                    id
                }
                None => {
                    let id = u32::try_from(self.hosts.len()).unwrap_or(u32::MAX - 1);
                    self.host_ids.insert(h.key.clone(), id);
                    self.hosts.push(h);
                    id
                }
            })
            .collect();
        let hm = |i: u32| {
            if i == NO_HOST {
                NO_HOST
            } else {
                hmap.get(i as usize).copied().unwrap_or(NO_HOST)
            }
        };
        for (ip, id) in &other.ip_cache {
            self.ip_cache.entry(*ip).or_insert(hm(*id));
        }
        self.activity.reserve(other.activity.len());
        self.activity
            .extend(other.activity.iter().map(|a| Activity {
                host: hm(a.host),
                ..*a
            }));
        let smap: Vec<u32> = other
            .services
            .iter()
            .map(|s| self.service_id(s.proto, s.port, s.name.as_deref()))
            .collect();
        let sm = |i: u32| smap.get(i as usize).copied().unwrap_or(u32::MAX);
        let umap: Vec<u32> = other
            .users
            .iter()
            .map(|u| {
                let id = self.user_id(&u.name, None).unwrap_or(u32::MAX);
                if let Some(mine) = self.users.get_mut(id as usize) {
                    for d in &u.domains {
                        if !mine.domains.contains(d) {
                            mine.domains.push(d.clone());
                        }
                    }
                    mine.domains.sort();
                    for sid in &u.sids {
                        note_sid(&mut mine.sids, sid);
                    }
                    mine.logon_hours.merge(&u.logon_hours);
                    mine.peak_hosts_per_hour = mine.peak_hosts_per_hour.max(u.peak_hosts_per_hour);
                }
                id
            })
            .collect();
        let um = |i: u32| umap.get(i as usize).copied().unwrap_or(u32::MAX);
        for ((s, d, v), st) in other.edges.into_parts().flatten() {
            let (s, d) = (hm(s), hm(d));
            self.edges
                .part(s)
                .entry((s, d, sm(v)))
                .and_modify(|e| e.merge(&st))
                .or_insert(st);
        }
        for ((h, hour, p), n) in other.hourly.into_parts().flatten() {
            let h = hm(h);
            self.hourly
                .part(h)
                .entry((h, hour, hm(p)))
                .or_default()
                .add(n);
        }
        for (s, hour, d) in other.admin_hours {
            self.admin_hours.insert((hm(s), hour, hm(d)));
        }
        for ((u, hour, h), ()) in other.user_hours.into_records() {
            self.user_hours.push((um(u), hour, hm(h)), ());
        }
        for ((s, d, p), st) in other.admin {
            self.admin
                .entry((hm(s), hm(d), p))
                .and_modify(|a| a.merge(&st))
                .or_insert(st);
        }
        for ((u, s, d), st) in other.logons.into_records() {
            self.logons.push((um(u), hm(s), hm(d)), st);
        }
        for ((s, d, v), w) in other.edge_hours {
            self.edge_hours
                .entry((hm(s), hm(d), sm(v)))
                .or_default()
                .merge(&w);
        }
    }

    /// Finishes with the default role thresholds.
    pub fn finish(self) -> Profiles {
        self.finish_with(&RoleThresholds::default())
    }

    /// Closes the per-hour and per-day state into distributions, puts
    /// hosts, services and users in canonical (sorted) order and infers
    /// roles with `thresholds`.
    pub fn finish_with(mut self, thresholds: &RoleThresholds) -> Profiles {
        // Log events' activity into the hosts: each task takes a range of
        // hosts and applies the records that fall in it.
        let activity = std::mem::take(&mut self.activity);
        if !activity.is_empty() {
            let span = self
                .hosts
                .len()
                .div_ceil(rayon::current_num_threads().max(1))
                .max(1024);
            self.hosts
                .par_chunks_mut(span)
                .enumerate()
                .for_each(|(k, part)| Activity::apply(part, k * span, &activity));
        }
        // Hourly state into the hosts' distributions (by builder index),
        // part by part, freeing it before the edges are copied out.
        for part in std::mem::take(&mut self.hourly).into_parts() {
            // A host's keys all live in one part, so summing per part is exact.
            let mut per_hour: FxHashMap<(u32, u32), (u64, u32)> = FxHashMap::default();
            for ((h, hour, peer), n) in part {
                let slot = per_hour.entry((h, hour)).or_insert((0, 0));
                slot.0 += u64::from(n.flows);
                slot.1 += u32::from(peer != h);
                if n.sent_flows > 0
                    && peer != h
                    && let Some(p) = self.hosts.get_mut(h as usize)
                {
                    p.bytes_out_per_peer_hour.record(n.sent);
                }
            }
            for ((h, _), (flows, peers)) in per_hour {
                if let Some(p) = self.hosts.get_mut(h as usize) {
                    p.flows_per_hour.record(flows);
                    p.peers_per_hour.record(u64::from(peers));
                }
            }
        }
        let mut admin_per_hour: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for (s, hour, d) in std::mem::take(&mut self.admin_hours) {
            if s != d {
                *admin_per_hour.entry((s, hour)).or_insert(0) += 1;
            }
        }
        for ((s, _), n) in admin_per_hour {
            if let Some(p) = self.hosts.get_mut(s as usize) {
                p.admin_peak_hour_hosts = p.admin_peak_hour_hosts.max(n);
            }
        }
        // Distinct (user, hour, host) in order: each (user, hour) run's
        // length is the hosts that user reached in that hour.
        for run in self
            .user_hours
            .into_merged()
            .chunk_by(|((u, h, _), ()), ((v, g, _), ())| (u, h) == (v, g))
        {
            if let Some(((u, _, _), ())) = run.first()
                && let Some(info) = self.users.get_mut(*u as usize)
            {
                let n = u32::try_from(run.len()).unwrap_or(u32::MAX);
                info.peak_hosts_per_hour = info.peak_hosts_per_hour.max(n);
            }
        }
        for (ip, &id) in &self.ip_cache {
            if let Some(p) = self.hosts.get_mut(id as usize) {
                p.ips.push(*ip);
            }
        }
        // Canonical order: hosts by key, services by value, users by name.
        // Names sort by their first eight bytes, then in full (the same
        // order as by the whole name: zero padding sorts first).
        let prefix = crate::hosts::name_prefix;
        let (horder, hmap) = canonical_order(
            self.hosts
                .iter()
                .map(|h| (prefix(h.key.text().as_str()), &h.key)),
        );
        let mut hosts = take_in_order(self.hosts, &horder);
        finish_hosts(&self.dir, &mut hosts);
        let (sorder, smap) = canonical_order(self.services.iter());
        let services = take_in_order(self.services, &sorder);
        let (uorder, umap) = canonical_order(self.users.iter().map(|u| (prefix(&u.name), &u.name)));
        let users = take_in_order(self.users, &uorder);
        let hm = |i: u32| hmap.get(i as usize).copied().map(HostId);
        let sm = |i: u32| smap.get(i as usize).copied().map(ServiceId);
        let um = |i: u32| umap.get(i as usize).copied().map(UserId);
        let mut edges: Vec<Edge> = Vec::with_capacity(self.edges.len());
        // Part by part, so each part is freed once copied.
        for ((s, d, v), stats) in self.edges.into_parts().flatten() {
            if let (Some(src), Some(dst), Some(service)) = (hm(s), hm(d), sm(v)) {
                edges.push(Edge {
                    src,
                    dst,
                    service,
                    stats,
                });
            }
        }
        let mut admin: Vec<AdminUse> = Vec::with_capacity(self.admin.len());
        for ((s, d, proto), stats) in self.admin {
            if let (Some(src), Some(dst)) = (hm(s), hm(d)) {
                admin.push(AdminUse {
                    src,
                    dst,
                    proto,
                    stats,
                });
            }
        }
        let mut logons: Vec<Logon> = Vec::with_capacity(self.logons.len());
        for ((u, s, d), stats) in self.logons.into_records() {
            let src = if s == NO_HOST { None } else { hm(s) };
            if let (Some(user), Some(dst)) = (um(u), hm(d))
                && (s == NO_HOST || src.is_some())
            {
                logons.push(Logon {
                    user,
                    src,
                    dst,
                    stats,
                });
            }
        }
        let mut edge_hours: Vec<EdgeHours> = Vec::with_capacity(self.edge_hours.len());
        for ((s, d, v), hours) in self.edge_hours {
            if let (Some(src), Some(dst), Some(service)) = (hm(s), hm(d), sm(v)) {
                edge_hours.push(EdgeHours {
                    src,
                    dst,
                    service,
                    hours,
                });
            }
        }
        Profiles::from_parts(hosts, services, users, edges, admin, logons, thresholds)
            .with_edge_hours(edge_hours)
    }
}

/// The last touches of finished hosts (in key order): each gets its
/// directory entry's addresses, names and given role, its names sorted
/// (short name first) and its distributions' spare capacity released.
pub(super) fn finish_hosts(dir: &HostDirectory, hosts: &mut [HostProfile]) {
    // Each host's directory entry, for what `ips_of`, `names_of` and
    // `given_role` would each look up: hosts and directory are both in
    // key order, so one walk over the two finds them all.
    let mut known = dir.hosts().peekable();
    let entries: Vec<Option<&crate::hosts::HostEntry>> = hosts
        .iter()
        .map(|p| {
            while known.next_if(|e| e.key < p.key).is_some() {}
            known.peek().copied().filter(|e| e.key == p.key)
        })
        .collect();
    hosts
        .par_iter_mut()
        .zip(entries)
        .with_min_len(1024)
        .for_each(|(p, entry)| {
            for d in [
                &mut p.bytes_out_per_flow,
                &mut p.bytes_in_per_flow,
                &mut p.duration_us,
                &mut p.flows_per_hour,
                &mut p.peers_per_hour,
                &mut p.bytes_out_per_peer_hour,
            ] {
                d.shrink();
            }
            // Names sorted and unique, short name first (`sort_names`).
            let mut names = std::mem::take(&mut p.names);
            match entry {
                Some(e) => {
                    p.ips.extend_from_slice(&e.ips);
                    names.extend(e.names.iter().cloned());
                }
                None => {
                    p.ips.extend(p.key.ip());
                    names.extend(p.key.name().map(str::to_string));
                }
            }
            names.sort_unstable();
            names.dedup();
            p.ips.sort();
            p.ips.dedup();
            p.names = names;
            sort_names(&mut p.names, &p.key);
            p.given_role = p.given_role.or_else(|| entry.and_then(|e| e.role));
        });
}

/// The permutation that sorts `keys` (one per index; equal keys by index):
/// `order[new] = old` and `map[old] = new`.
fn canonical_order<K: Ord>(keys: impl Iterator<Item = K>) -> (Vec<u32>, Vec<u32>) {
    let order = order_by(keys);
    let map = inverse(&order);
    (order, map)
}

/// Folds `items` into profile builders over `dir`, a chunk per rayon task,
/// and merges them (`None` for no items).
fn fold_chunks<T: Sync>(
    dir: &Arc<HostDirectory>,
    items: &[T],
    chunk: usize,
    add: impl Fn(&mut ProfileBuilder, &[T]) + Sync + Send,
) -> Option<ProfileBuilder> {
    items
        .par_chunks(chunk.max(1))
        .fold(
            || ProfileBuilder::new(dir.clone()),
            |mut b, part| {
                add(&mut b, part);
                b
            },
        )
        .reduce_with(|mut a, b| {
            a.merge(b);
            a
        })
}

/// Folds connection records into profile builders over `dir` in parallel,
/// as [`build_parallel`] does, and merges them (`None` for no records).
pub fn fold_flows(dir: &Arc<HostDirectory>, flows: &[Flow]) -> Option<ProfileBuilder> {
    fold_chunks(dir, flows, FLOW_CHUNK, |b, c| b.add_flows(c))
}

/// Connection records per task of a parallel build.
const FLOW_CHUNK: usize = 64 * 1024;

/// Builds profiles from flows and events in parallel: each rayon task folds
/// a chunk into its own builder, and the builders are merged. The result is
/// identical whatever the thread count.
pub fn build_parallel(dir: Arc<HostDirectory>, flows: &[Flow], events: &[LogEvent]) -> Profiles {
    build_parallel_with(dir, flows, events, &RoleThresholds::default())
}

/// [`build_parallel`] with explicit role thresholds.
pub fn build_parallel_with(
    dir: Arc<HostDirectory>,
    flows: &[Flow],
    events: &[LogEvent],
    thresholds: &RoleThresholds,
) -> Profiles {
    build_from(dir, flows, |b, c| b.add_flows(c), events, thresholds)
}

/// [`build_parallel`] leaving out the connection records `skip` picks
/// (the light sources' of [`crate::profile::light::LightSources`]): the
/// same profiles as over the other records, without copying them.
pub fn build_parallel_skipping(
    dir: Arc<HostDirectory>,
    flows: &[Flow],
    events: &[LogEvent],
    skip: impl Fn(&Flow) -> bool + Sync + Send,
) -> Profiles {
    build_from(
        dir,
        flows,
        |b, c| b.add_flows(c.iter().filter(|&f| !skip(f))),
        events,
        &RoleThresholds::default(),
    )
}

/// Builds profiles from flow groups ([`crate::profile::group`]) and events
/// in parallel: the same profiles as [`build_parallel_with`] over the
/// groups' flows.
pub fn build_from_groups(
    dir: Arc<HostDirectory>,
    groups: &[FlowGroup],
    events: &[LogEvent],
    thresholds: &RoleThresholds,
) -> Profiles {
    build_from(dir, groups, |b, c| b.add_flow_groups(c), events, thresholds)
}

/// Folds `items` (flows or flow groups) with `add`, and `events`, in
/// parallel, and finishes.
fn build_from<T: Sync>(
    dir: Arc<HostDirectory>,
    flows: &[T],
    add: impl Fn(&mut ProfileBuilder, &[T]) + Sync + Send,
    events: &[LogEvent],
    thresholds: &RoleThresholds,
) -> Profiles {
    // Flows and events are independent until the final merge: build both
    // at once (a day's events alone are less than one chunk of flows).
    let (from_flows, (from_events, exec)) = rayon::join(
        || fold_chunks(&dir, flows, FLOW_CHUNK, add),
        || {
            rayon::join(
                || {
                    fold_chunks(
                        &dir,
                        events,
                        crate::model::parallel::per_thread(events.len()),
                        |b, c| {
                            b.reserve_for_events(c.len());
                            b.add_events(c)
                        },
                    )
                },
                // Remote execution needs the events in one pass, in order.
                || {
                    events
                        .iter()
                        .any(crate::profile::exec::is_exec_action)
                        .then(|| {
                            let mut x = ProfileBuilder::new(dir.clone());
                            x.add_remote_exec(events);
                            x
                        })
                },
            )
        },
    );
    let mut all = from_flows.unwrap_or_else(|| ProfileBuilder::new(dir.clone()));
    if let Some(e) = from_events {
        all.merge(e);
    }
    if let Some(x) = exec {
        all.merge(x);
    }
    all.finish_with(thresholds)
}

/// Builds the host directory and the profiles of an `events` run: the
/// directory from the run's log events and an optional hosts file, then
/// profiles from its flows (streamed from the flow store in batches, each
/// batch built in parallel) and events. Fails only if spilled flow records
/// cannot be read back.
pub fn profiles_from_run(
    run: &crate::collect::pipeline::EventRun,
    hosts_file: Option<&crate::hosts::HostsFile>,
    thresholds: &RoleThresholds,
) -> std::io::Result<(Arc<HostDirectory>, Profiles)> {
    const BATCH: usize = 256 * 1024;
    let mut sessions = Vec::new();
    run.flows.for_each(|f| {
        sessions.extend(crate::hosts::session::SessionFlow::of(f));
        Ok(())
    })?;
    let dir = Arc::new(crate::hosts::build_directory_sessions(
        &run.events,
        &sessions,
        hosts_file,
    ));
    drop(sessions);
    let build_batch = |flows: &[Flow]| fold_chunks(&dir, flows, 16 * 1024, |b, c| b.add_flows(c));
    let mut all = ProfileBuilder::new(dir.clone());
    let mut batch: Vec<Flow> = Vec::with_capacity(BATCH.min(run.flows.len() as usize));
    run.flows.for_each(|f| {
        batch.push(f.clone());
        if batch.len() >= BATCH {
            if let Some(b) = build_batch(&batch) {
                all.merge(b);
            }
            batch.clear();
        }
        Ok(())
    })?;
    if let Some(b) = build_batch(&batch) {
        all.merge(b);
    }
    let events = fold_chunks(
        &dir,
        &run.events,
        crate::model::parallel::per_thread(run.events.len()),
        |b, c| {
            b.reserve_for_events(c.len());
            b.add_events(c)
        },
    );
    if let Some(e) = events {
        all.merge(e);
    }
    all.add_remote_exec(&run.events);
    Ok((dir, all.finish_with(thresholds)))
}

#[cfg(test)]
mod tests {
    use super::{ProfileBuilder, is_plain_user_key, user_key};
    use crate::model::Action;
    use crate::model::event::{LogEvent, Outcome, Timestamp};
    use std::sync::Arc;

    /// 70,000 network logons, past the first merge of the pending tables:
    /// 1,000 (account, source, target) triples, 70 records each, every
    /// account on one host only.
    fn many_logons() -> Vec<LogEvent> {
        (0..70_000i64)
            .map(|i| {
                let k = i % 1000;
                LogEvent {
                    ts: Timestamp::from_parts(1_700_000_000 + i, 0),
                    action: Action::LoggedIn,
                    dataset: "windows.security".into(),
                    host_ip: "10.0.9.1".parse().ok(),
                    source_ip: format!("10.0.1.{}", k / 100).parse().ok(),
                    user_name: Some(format!("u{}", k % 100).into()),
                    logon_type: Some(3),
                    outcome: Some(Outcome::Success),
                    ..LogEvent::default()
                }
            })
            .collect()
    }

    #[test]
    fn appended_logon_records_merge_to_one_per_triple_however_they_were_fed() {
        let events = many_logons();
        let dir = Arc::new(crate::hosts::build_directory(&events, None));
        let mut one = ProfileBuilder::new(dir.clone());
        one.add_events(&events);
        let one = one.finish();
        let logons = one.logons();
        assert_eq!(logons.len(), 1000);
        assert!(
            logons
                .iter()
                .all(|l| l.src.is_some() && l.stats.successes == 70)
        );
        // Triple k's records are at k, k + 1000, ..., k + 69,000 seconds:
        // every triple keeps its own first and last.
        let mut firsts: Vec<i64> = logons
            .iter()
            .map(|l| {
                assert_eq!(l.stats.last.0 - l.stats.first.0, 69_000 * 1_000_000_000);
                l.stats.first.0 / 1_000_000_000 - 1_700_000_000
            })
            .collect();
        firsts.sort_unstable();
        assert_eq!(firsts, (0..1000).collect::<Vec<i64>>());
        // Repeated (account, hour, host) records count once: one host each.
        assert_eq!(one.users().len(), 100);
        assert!(one.users().iter().all(|u| u.peak_hosts_per_hour == 1));
        // Two builders over halves, merged either way round, give the same.
        let (a, b) = events.split_at(34_567);
        for first_half_into_second in [false, true] {
            let mut x = ProfileBuilder::new(dir.clone());
            x.add_events(a);
            let mut y = ProfileBuilder::new(dir.clone());
            y.add_events(b);
            if first_half_into_second {
                std::mem::swap(&mut x, &mut y);
            }
            x.merge(y);
            assert!(x.finish() == one);
        }
    }

    #[test]
    fn user_keys_are_recognised_only_when_unchanged_by_normalising() {
        for u in ["rota", "adm-kondo", "user7", "svc_backup", "a.b", "x y"] {
            assert!(is_plain_user_key(u), "{u}");
            assert_eq!(user_key(u).0, u);
        }
        for u in [
            "",
            "Rota",
            "CORP\\rota",
            "rota@corp",
            " rota",
            "rota\t",
            "rota\u{b}",
            "jos\u{e9}",
        ] {
            assert!(!is_plain_user_key(u), "{u:?}");
        }
    }
}
