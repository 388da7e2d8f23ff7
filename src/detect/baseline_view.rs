//! The seam between detectors and profiles: the questions a detector asks
//! about what is normal. Anything that can answer them (profiles learned
//! from the first part of today's input, a stored baseline) can back a
//! detection run.
//!
//! Besides what is normal, the view tells habits, to tell routine from
//! novelty on principle: an account's own working hours (not those of the
//! desk it sits at, which polls the outside around the clock), how many
//! hosts a source already administers over a service, on how many hosts an
//! account is already privileged, and which hosts reach the outside on
//! behalf of others. [`super::profiles_view::ProfilesView`] answers them
//! from profiles (which keep account and edge hours, see
//! [`crate::profile::WeekHours`]), learned or stored alike; a `None` answer
//! (a baseline that does not keep the habit) makes a detector fall back to
//! what the other questions tell.
//!
//! Users are compared case-insensitively: callers pass them lower-case.
//! Hosts are asked about by address (what a flow saw) or by [`HostKey`],
//! the identity the profiles and the detectors' directory share (see
//! [`super::Directory::key`]).

use crate::model::HostKey;
use crate::model::event::Timestamp;
use std::net::IpAddr;

use super::AdminService;
pub use crate::profile::week::WeekHours;

pub use crate::model::Role;

/// How one source used one remote-admin service on one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EdgeHistory {
    /// First connection.
    pub first: Timestamp,
    /// Last connection.
    pub last: Timestamp,
    /// Connections.
    pub flows: u64,
    /// Distinct UTC days with a connection.
    pub days: u32,
}

/// How widely a source administers others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdminReach {
    /// Distinct internal hosts it reached over remote-admin services.
    pub destinations: usize,
    /// Most distinct such hosts in one hour.
    pub max_per_hour: usize,
}

/// The roles hosts were judged by: all that suppression entries and the
/// incident builder ask of a baseline. Every [`BaselineView`] answers it;
/// alerts read back from a file answer it from the roles stored with them.
pub trait Roles {
    /// A host's role by address (`Unknown` when not known).
    fn role_of_ip(&self, ip: IpAddr) -> Role;
    /// A host's role by key (`Unknown` when not known).
    fn role_of_host(&self, host: &HostKey) -> Role;
}

impl<T: BaselineView + ?Sized> Roles for T {
    fn role_of_ip(&self, ip: IpAddr) -> Role {
        self.role(ip)
    }
    fn role_of_host(&self, host: &HostKey) -> Role {
        self.host_role(host)
    }
}

/// The questions detectors ask about normal behaviour.
pub trait BaselineView: Sync {
    /// The period the baseline covers, if it holds anything.
    fn period(&self) -> Option<(Timestamp, Timestamp)>;
    /// Internal hosts in the baseline.
    fn host_count(&self) -> usize;
    /// A host's role (`Unknown` when not in the baseline).
    fn role(&self, ip: IpAddr) -> Role;
    /// The role of a host given by key (`Unknown` when not in the baseline).
    fn host_role(&self, host: &HostKey) -> Role;
    /// Hosts with a role.
    fn role_count(&self, role: Role) -> usize;
    /// How `src` used `svc` on `dst`, if it did.
    fn admin_edge(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<EdgeHistory>;
    /// Whether `src` originated any flow to `dst`.
    fn peer_seen(&self, src: IpAddr, dst: IpAddr) -> bool;
    /// Whether `src` used any remote-admin service on `dst`.
    fn admin_any(&self, src: IpAddr, dst: IpAddr) -> bool;
    /// Distinct sources (of `role`, or any) that used `svc` on `dst` with an answer.
    fn admin_clients(&self, dst: IpAddr, svc: AdminService, role: Option<Role>) -> usize;
    /// How widely `src` administers others.
    fn admin_reach(&self, src: IpAddr) -> AdminReach;
    /// 99th percentile of bytes `src` sent one peer in one hour.
    fn peer_bytes_p99(&self, src: IpAddr) -> Option<u64>;
    /// The same over every host of a role.
    fn role_peer_bytes_p99(&self, role: Role) -> Option<u64>;
    /// Distinct internal hosts that `dst` answered on `port` (whatever the
    /// transport): how many clients it serves that service to.
    fn service_clients(&self, dst: IpAddr, port: u16) -> usize;
    /// Distinct internal hosts that contacted the (external) address `dst`.
    fn external_clients(&self, dst: IpAddr) -> usize;
    /// Whether the account appears in the baseline's logons.
    fn user_known(&self, user: &str) -> bool;
    /// Distinct source hosts the account logged on from.
    fn user_source_count(&self, user: &str) -> usize;
    /// Whether the account logged on from this source host.
    fn user_from(&self, user: &str, src: &HostKey) -> bool;
    /// Whether any account logged on from `src` to `dst` over the network.
    fn logon_edge(&self, src: &HostKey, dst: &HostKey) -> bool;
    /// Whether the account received special privileges on `host` (or anywhere, for `None`).
    fn privileged(&self, user: &str, host: Option<&HostKey>) -> bool;
    /// Network logons to `host` by (Kerberos, NTLM).
    fn logon_methods(&self, host: &HostKey) -> (u64, u64);
    /// Whether the account logged on to `host` with NTLM.
    fn user_ntlm_on(&self, user: &str, host: &HostKey) -> bool;
    /// Whether `subject` used explicit credentials of `user` for `server`.
    fn explicit_seen(&self, subject: &str, user: &str, server: &HostKey) -> bool;
    /// Whether `src` installed a service or used an admin share on `dst`
    /// (as `super::rules::remote_exec` attributes them).
    fn remote_exec_seen(&self, src: &HostKey, dst: &HostKey) -> bool;
    /// Most distinct hosts the account logged on to in one hour.
    fn user_hosts_per_hour(&self, user: &str) -> usize;
    /// The source's activity per hour of the week
    /// ([`crate::profile::week::hour_of_week`]): the hours with a record
    /// and the records counted, or `None` when the host is not in the
    /// baseline.
    fn hour_of_week_activity(&self, src: IpAddr) -> Option<WeekHours>;
    /// The authentication methods the account used to log on to `host`
    /// (empty when none was recorded).
    fn user_methods_on(&self, user: &str, host: &HostKey) -> crate::profile::Methods;

    // Habits: what the baseline shows about how accounts, edges and hosts
    // behave. `None` when the baseline does not keep the habit; a detector
    // then falls back to the questions above.
    /// When the account logged on over the network (to any host).
    fn account_hours(&self, user: &str) -> Option<WeekHours>;
    /// When `src` used `svc` on `dst`.
    fn edge_hours(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<WeekHours>;
    /// Distinct hosts `src` used `svc` on, answered.
    fn service_reach(&self, src: IpAddr, svc: AdminService) -> Option<usize>;
    /// Distinct hosts of `role` that `src` administered over any
    /// remote-admin service, answered: what kinds of host it looks after.
    fn role_reach(&self, src: IpAddr, role: Role) -> usize;
    /// Distinct hosts on which the account received special privileges.
    fn privileged_hosts(&self, user: &str) -> Option<usize>;
    /// Whether the host reaches the outside on behalf of others: it served
    /// internal clients and most connections it made went outside (a web
    /// proxy, a mail relay, a forwarding resolver).
    fn forwarder(&self, ip: IpAddr) -> Option<bool>;
    /// The account names (lower case, ascending) whose successful logons
    /// carried the account SID `sid` in the baseline (see
    /// [`crate::profile::UserInfo::sids`]); empty when the baseline never
    /// saw it or keeps no SIDs.
    fn sid_accounts(&self, _sid: &str) -> Vec<String> {
        Vec::new()
    }
    /// True when there is no usable history and the rules judge by role
    /// priors instead ([`super::priors_view`]): what is rare in any network.
    fn priors(&self) -> bool {
        false
    }
    /// With role priors: whether `src` opening `svc` on `dst` is what such
    /// hosts do in any network (see [`super::priors_view`]). Always false
    /// when judging against history.
    fn expected_by_role(&self, _src: IpAddr, _dst: IpAddr, _svc: AdminService) -> bool {
        false
    }
    /// With role priors: whether reaching other hosts is the host's job
    /// (a configured admin host or scanner, or one administering many
    /// hosts in the judged records). Always false against history.
    fn administers_by_job(&self, _host: &HostKey) -> bool {
        false
    }
}
