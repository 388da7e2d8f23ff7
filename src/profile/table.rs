//! The profiles' stored tables: the ids that index the host, service and
//! user tables ([`HostId`], [`ServiceId`], [`UserId`]) and the records kept
//! in [`super::Profiles`] (users, edges, their hours, admin uses, logons) and
//! derived from them (services served).

use super::edge::EdgeStats;
use super::logon::LogonStats;
use super::week::WeekHours;
use crate::model::AdminService;
use crate::model::event::Timestamp;
use serde::{Deserialize, Serialize};

/// Index of a host in [`super::Profiles::hosts`] (hosts are sorted by key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostId(pub u32);

/// Index of a service in the profiles' service table (sorted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceId(pub u32);

/// Index of a user in the profiles' user table (sorted by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub u32);

/// A user account as profiles key it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserInfo {
    /// Lowercase `user.name`.
    pub name: String,
    /// Lowercase `user.domain` values seen with it, ascending.
    pub domains: Vec<String>,
    /// When it logged on over the network successfully (Windows logon
    /// types 3, 8 and 10, or a daemon's logon from a remote address: what
    /// [`super::logon::is_network_logon`] tells), to any host.
    pub logon_hours: WeekHours,
    /// Most distinct hosts it logged on to over the network successfully
    /// in one UTC hour.
    pub peak_hosts_per_hour: u32,
    /// Account SIDs (`S-1-5-21-…`, upper case) its successful logons
    /// carried (Windows 4624 `TargetUserSid`), ascending, at most
    /// [`SIDS_PER_USER`]: the smallest are kept, so merging is a set union
    /// cut to the same size whatever the order.
    pub sids: Vec<String>,
}

/// Most SIDs kept per account name ([`UserInfo::sids`]). A domain account
/// has one; a local account's name (every machine's own `Administrator`)
/// has one per machine, of which a few are enough to know the name.
pub const SIDS_PER_USER: usize = 8;

/// Adds `sid` to a sorted list of SIDs kept as [`UserInfo::sids`] keeps
/// them (ascending, at most [`SIDS_PER_USER`], the smallest kept).
pub fn note_sid(sids: &mut Vec<String>, sid: &str) {
    if let Err(at) = sids.binary_search_by(|s| s.as_str().cmp(sid)) {
        if at >= SIDS_PER_USER {
            return;
        }
        sids.insert(at, sid.to_string());
        sids.truncate(SIDS_PER_USER);
    }
}

/// When one stored edge on a remote-admin service ([`crate::model::Service::admin_service`])
/// was used: the hours of the week of its flows, answered or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeHours {
    /// Originator.
    pub src: HostId,
    /// Responder.
    pub dst: HostId,
    /// The responder's service.
    pub service: ServiceId,
    /// Hours of the week of its flows, and how many flows.
    pub hours: WeekHours,
}

/// One stored edge: `src` originated flows to `dst` on `service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// Originator.
    pub src: HostId,
    /// Responder.
    pub dst: HostId,
    /// The responder's service.
    pub service: ServiceId,
    /// Counters.
    pub stats: EdgeStats,
}

/// Log-event evidence that `src` used a remote-admin protocol on `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUse {
    /// The administering host.
    pub src: HostId,
    /// The administered host (the one that wrote the events).
    pub dst: HostId,
    /// Which protocol.
    pub proto: AdminService,
    /// Counters.
    pub stats: AdminStats,
}

/// One stored logon triple: `user` authenticated from `src` (when known) to `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logon {
    /// The account.
    pub user: UserId,
    /// The host the logon came from; `None` for local logons and for
    /// privileged-session records.
    pub src: Option<HostId>,
    /// The host logged on to.
    pub dst: HostId,
    /// Counters.
    pub stats: LogonStats,
}

/// A service a host answered, summed over its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedService {
    /// The responder.
    pub host: HostId,
    /// The service.
    pub service: ServiceId,
    /// Distinct clients (any flow).
    pub clients: u32,
    /// Distinct clients with at least one established (not failed) flow.
    pub established_clients: u32,
    /// Flows.
    pub flows: u64,
    /// Failed attempts.
    pub failed: u64,
}

/// Counters for log-event evidence of a remote-admin protocol between two hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AdminStats {
    /// First event.
    pub first: Timestamp,
    /// Last event.
    pub last: Timestamp,
    /// Events (saturating).
    pub events: u32,
    /// Of the source's remote execution on the host: service installations
    /// and admin-share accesses tied to it ([`crate::profile::exec`];
    /// saturating). Recorded under SMB, which PsExec and its kin use.
    pub exec: u32,
}

impl AdminStats {
    pub(super) fn one(ts: Timestamp) -> AdminStats {
        AdminStats {
            first: ts,
            last: ts,
            events: 1,
            exec: 0,
        }
    }

    /// Folds another's counters in (exact).
    pub fn merge(&mut self, o: &AdminStats) {
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.events = self.events.saturating_add(o.events);
        self.exec = self.exec.saturating_add(o.exec);
    }
}
