//! Judging without history: role priors for short inputs.
//!
//! Minutes or hours of a lab capture or of a few hosts' logs hold no
//! usable baseline: learning from their first part puts the attack inside
//! it, and judging everything against nothing makes every edge news. With
//! no history the detectors fall back on what is rare in any network,
//! whatever its own habits: a workstation opening admin protocols on
//! another workstation, a service or task created over the network, an
//! account switching credentials along a path. What every domain member
//! does (SMB and RPC to its domain controllers, SMB to a file server its
//! peers use) is expected and raises nothing on its own.
//!
//! [`PriorsView`] answers the detectors' questions for such a run: the
//! roles come from the judged records themselves (a domain controller is
//! still the host that answers Kerberos and LDAP, an admin host still the
//! one that administers many), and so does prevalence (how many internal
//! hosts reach an outside address, or a service a host offers: an update
//! server every desk polls is no implant's controller); every habit comes
//! from the empty history, and [`BaselineView::priors`] tells the rules to
//! judge by role. [`expected_for_members`] and [`BaselineView::expected_by_role`] are the prior itself.

use super::AdminService;
use super::baseline_view::{AdminReach, BaselineView, EdgeHistory, Role, WeekHours};
use crate::model::event::{LogEvent, Timestamp};
use crate::model::{Action, HostKey};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Distinct hosts that logged connections to a host's Kerberos port
/// which make it a domain controller (as [`crate::profile::RoleThresholds`]
/// asks of captured Kerberos clients).
pub const LOGGED_KERBEROS_CLIENTS: usize = 1;

/// Distinct hosts that logged connections to a host's LDAP or global
/// catalog port which make it a domain controller.
pub const LOGGED_LDAP_CLIENTS: usize = 2;

/// Hosts the judged host logs show serving the domain: the destinations
/// of logged connections (Sysmon 3, WFP 5156) to Kerberos from
/// [`LOGGED_KERBEROS_CLIENTS`] other hosts, or to LDAP or the global
/// catalog from [`LOGGED_LDAP_CLIENTS`]. A few minutes of workstation
/// logs name their domain controller this way even when no capture of it
/// was given.
pub fn logged_domain_controllers(events: &[LogEvent]) -> BTreeSet<IpAddr> {
    let mut kerberos: BTreeMap<IpAddr, BTreeSet<IpAddr>> = BTreeMap::new();
    let mut ldap: BTreeMap<IpAddr, BTreeSet<IpAddr>> = BTreeMap::new();
    for e in events {
        if e.action != Action::NetworkConnection {
            continue;
        }
        let (Some(src), Some(dst), Some(port)) =
            (e.source_ip, e.destination_ip, e.destination_port)
        else {
            continue;
        };
        if src == dst {
            continue;
        }
        match port {
            88 => {
                kerberos.entry(dst).or_default().insert(src);
            }
            389 | 636 | 3268 | 3269 => {
                ldap.entry(dst).or_default().insert(src);
            }
            _ => {}
        }
    }
    let mut dcs: BTreeSet<IpAddr> = kerberos
        .into_iter()
        .filter(|(_, c)| c.len() >= LOGGED_KERBEROS_CLIENTS)
        .map(|(h, _)| h)
        .collect();
    dcs.extend(
        ldap.into_iter()
            .filter(|(_, c)| c.len() >= LOGGED_LDAP_CLIENTS)
            .map(|(h, _)| h),
    );
    dcs
}

/// Distinct hosts a source must administer in the judged records, beyond
/// what every domain member does, to be an administrator by them.
pub const BROAD_ADMIN_HOSTS: usize = 10;

/// Sources that administer many hosts in the judged records: answered
/// remote-admin sessions to at least [`BROAD_ADMIN_HOSTS`] distinct
/// internal hosts, not counting what every domain member opens
/// ([`expected_for_members`], judged by `role`). Reaching hosts is such a
/// host's job. Counting the expected sessions too would make an admin of
/// any workstation that opened SMB on its domain controller and file
/// servers and then moved on.
pub fn broad_administrators(
    flows: &[crate::model::event::Flow],
    is_internal: impl Fn(IpAddr) -> bool,
    role: impl Fn(IpAddr) -> Role,
) -> BTreeSet<IpAddr> {
    let mut reached: BTreeMap<IpAddr, BTreeSet<(IpAddr, AdminService)>> = BTreeMap::new();
    for f in flows {
        let Some(svc) = AdminService::of_flow(f) else {
            continue;
        };
        if f.orig_h == f.resp_h
            || !super::answered(f)
            || !is_internal(f.orig_h)
            || !is_internal(f.resp_h)
        {
            continue;
        }
        reached.entry(f.orig_h).or_default().insert((f.resp_h, svc));
    }
    reached
        .into_iter()
        .filter_map(|(src, sessions)| {
            // Only what a domain member does not do anyway counts.
            let hosts: BTreeSet<IpAddr> = sessions
                .into_iter()
                .filter(|(d, svc)| !expected_for_members(role(*d), *svc))
                .map(|(d, _)| d)
                .collect();
            (hosts.len() >= BROAD_ADMIN_HOSTS).then_some(src)
        })
        .collect()
}

/// True when any domain member opens `svc` on a host of role `dst`:
/// SMB and RPC to a domain controller (policies, logon scripts, the
/// directory's RPC interfaces), SMB to a server (file shares). Remote
/// execution over those sessions is judged by its own rules.
pub fn expected_for_members(dst: Role, svc: AdminService) -> bool {
    match dst {
        Role::DomainController => matches!(svc, AdminService::Smb | AdminService::Rpc),
        Role::Server => svc == AdminService::Smb,
        _ => false,
    }
}

/// A view with no history whose roles come from the judged records.
pub struct PriorsView<'a> {
    /// The empty history: every habit question is asked of it.
    pub history: &'a dyn BaselineView,
    /// Profiles of the judged records, asked only for roles.
    pub roles: &'a dyn BaselineView,
    /// Domain controllers the judged host logs name
    /// ([`logged_domain_controllers`]).
    pub logged_dcs: BTreeSet<IpAddr>,
    /// Names and addresses, to find a named host's address.
    pub names: &'a super::Directory,
    /// Sources whose reaching other hosts is their job: the configured
    /// admin hosts and scanners, and [`broad_administrators`].
    pub administrators: BTreeSet<IpAddr>,
}

impl PriorsView<'_> {
    fn administers(&self, ip: IpAddr) -> bool {
        self.administrators.contains(&ip)
    }
}

impl BaselineView for PriorsView<'_> {
    fn priors(&self) -> bool {
        true
    }
    fn sid_accounts(&self, sid: &str) -> Vec<String> {
        self.history.sid_accounts(sid)
    }
    fn expected_by_role(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> bool {
        self.administers(src) || expected_for_members(self.role(dst), svc)
    }
    fn administers_by_job(&self, host: &HostKey) -> bool {
        host.ip()
            .or_else(|| self.names.addr_of(host))
            .is_some_and(|ip| self.administers(ip))
    }
    fn period(&self) -> Option<(Timestamp, Timestamp)> {
        self.history.period()
    }
    fn host_count(&self) -> usize {
        self.roles.host_count()
    }
    fn role(&self, ip: IpAddr) -> Role {
        match self.roles.role(ip) {
            Role::Unknown | Role::Workstation | Role::Server if self.logged_dcs.contains(&ip) => {
                Role::DomainController
            }
            r => r,
        }
    }
    fn host_role(&self, host: &HostKey) -> Role {
        match host.ip().or_else(|| self.names.addr_of(host)) {
            Some(ip) => self.role(ip),
            None => self.roles.host_role(host),
        }
    }
    fn role_count(&self, role: Role) -> usize {
        self.history.role_count(role)
    }
    fn admin_edge(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<EdgeHistory> {
        self.history.admin_edge(src, dst, svc)
    }
    fn peer_seen(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.history.peer_seen(src, dst)
    }
    fn admin_any(&self, src: IpAddr, dst: IpAddr) -> bool {
        self.history.admin_any(src, dst)
    }
    fn admin_clients(&self, dst: IpAddr, svc: AdminService, role: Option<Role>) -> usize {
        self.history.admin_clients(dst, svc, role)
    }
    fn admin_reach(&self, src: IpAddr) -> AdminReach {
        self.history.admin_reach(src)
    }
    fn peer_bytes_p99(&self, src: IpAddr) -> Option<u64> {
        self.history.peer_bytes_p99(src)
    }
    fn role_peer_bytes_p99(&self, role: Role) -> Option<u64> {
        self.history.role_peer_bytes_p99(role)
    }
    fn service_clients(&self, dst: IpAddr, port: u16) -> usize {
        self.roles.service_clients(dst, port)
    }
    fn external_clients(&self, dst: IpAddr) -> usize {
        self.roles.external_clients(dst)
    }
    fn user_known(&self, user: &str) -> bool {
        self.history.user_known(user)
    }
    fn user_source_count(&self, user: &str) -> usize {
        self.history.user_source_count(user)
    }
    fn user_from(&self, user: &str, src: &HostKey) -> bool {
        self.history.user_from(user, src)
    }
    fn logon_edge(&self, src: &HostKey, dst: &HostKey) -> bool {
        self.history.logon_edge(src, dst)
    }
    fn privileged(&self, user: &str, host: Option<&HostKey>) -> bool {
        self.history.privileged(user, host)
    }
    fn logon_methods(&self, host: &HostKey) -> (u64, u64) {
        self.history.logon_methods(host)
    }
    fn user_ntlm_on(&self, user: &str, host: &HostKey) -> bool {
        self.history.user_ntlm_on(user, host)
    }
    fn explicit_seen(&self, subject: &str, user: &str, server: &HostKey) -> bool {
        self.history.explicit_seen(subject, user, server)
    }
    fn remote_exec_seen(&self, src: &HostKey, dst: &HostKey) -> bool {
        self.history.remote_exec_seen(src, dst)
    }
    fn user_hosts_per_hour(&self, user: &str) -> usize {
        self.history.user_hosts_per_hour(user)
    }
    fn hour_of_week_activity(&self, src: IpAddr) -> Option<crate::profile::WeekHours> {
        self.history.hour_of_week_activity(src)
    }
    fn user_methods_on(&self, user: &str, host: &HostKey) -> crate::profile::Methods {
        self.history.user_methods_on(user, host)
    }
    fn account_hours(&self, user: &str) -> Option<WeekHours> {
        self.history.account_hours(user)
    }
    fn edge_hours(&self, src: IpAddr, dst: IpAddr, svc: AdminService) -> Option<WeekHours> {
        self.history.edge_hours(src, dst, svc)
    }
    fn service_reach(&self, src: IpAddr, svc: AdminService) -> Option<usize> {
        self.history.service_reach(src, svc)
    }
    fn role_reach(&self, src: IpAddr, role: Role) -> usize {
        self.history.role_reach(src, role)
    }
    fn privileged_hosts(&self, user: &str) -> Option<usize> {
        self.history.privileged_hosts(user)
    }
    fn forwarder(&self, ip: IpAddr) -> Option<bool> {
        self.roles.forwarder(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_administrators_count_what_members_do_not_do() {
        use crate::model::event::{ConnState, Flow};
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let flow = |src: &str, dst: &str, port: u16| Flow {
            ts: Timestamp::default(),
            uid: "C1".into(),
            orig_h: ip(src),
            orig_p: 40_000,
            resp_h: ip(dst),
            resp_p: port,
            proto: crate::model::event::Transport::Tcp,
            service: None,
            duration: None,
            orig_bytes: Some(100),
            resp_bytes: Some(100),
            conn_state: ConnState::SF,
            missed_bytes: 0,
            history: "ShADadFf".into(),
            orig_pkts: 4,
            orig_ip_bytes: 300,
            resp_pkts: 4,
            resp_ip_bytes: 300,
            ip_proto: 6,
            origin: None,
        };
        let mut flows = Vec::new();
        // An admin PC on RDP to twelve workstations; a workstation on SMB
        // to its domain controller and twelve servers, then RDP to two.
        for i in 0..12 {
            flows.push(flow("10.0.0.5", &format!("10.0.1.{i}"), 3389));
            flows.push(flow("10.0.0.9", &format!("10.0.2.{i}"), 445));
        }
        flows.push(flow("10.0.0.9", "10.0.0.1", 445));
        flows.push(flow("10.0.0.9", "10.0.1.1", 3389));
        flows.push(flow("10.0.0.9", "10.0.1.2", 3389));
        let role = |a: IpAddr| match a {
            IpAddr::V4(v) if v.octets()[2] == 2 => Role::Server,
            IpAddr::V4(v) if v.octets()[3] == 1 && v.octets()[2] == 0 => Role::DomainController,
            _ => Role::Workstation,
        };
        let admins = broad_administrators(&flows, |_| true, role);
        assert_eq!(admins.into_iter().collect::<Vec<_>>(), vec![ip("10.0.0.5")]);
    }

    #[test]
    fn domain_members_talk_to_their_controllers_not_to_each_other() {
        assert!(expected_for_members(
            Role::DomainController,
            AdminService::Smb
        ));
        assert!(expected_for_members(
            Role::DomainController,
            AdminService::Rpc
        ));
        assert!(!expected_for_members(
            Role::DomainController,
            AdminService::Rdp
        ));
        assert!(expected_for_members(Role::Server, AdminService::Smb));
        assert!(!expected_for_members(Role::Server, AdminService::Rpc));
        assert!(!expected_for_members(Role::Workstation, AdminService::Smb));
        assert!(!expected_for_members(Role::Unknown, AdminService::Smb));
    }
}
