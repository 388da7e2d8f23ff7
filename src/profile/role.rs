//! What part a host plays on the network, inferred from its behaviour.
//!
//! Roles are inferred ([`Profiles::infer_roles`]) whenever the profile
//! tables are assembled (finished, merged, folded, aged out or loaded from a
//! baseline file) from [`RoleSignals`] counted over the host's edges and log
//! events, with thresholds in [`RoleThresholds`]. A role given in the `--hosts` file
//! always wins over the inferred one.

use super::Profiles;
use super::table::HostId;
use crate::model::event::Transport;
use crate::model::{AdminService, Role, Service};
use serde::{Deserialize, Serialize};

/// What a host's behaviour says about its role: counts over its edges
/// (flows) and the log events it wrote. Counted by [`Profiles::infer_roles`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSignals {
    /// Distinct clients with at least one established (not S0/REJ) flow to
    /// any service of this host.
    pub clients: u32,
    /// Distinct services this host answered with an established flow.
    pub services_answered: u32,
    /// Distinct clients of Kerberos (tcp or udp 88) on this host.
    pub kerberos_clients: u32,
    /// Distinct clients of LDAP (tcp or udp 389) on this host.
    pub ldap_clients: u32,
    /// Kerberos ticket events (4768/4769/4771) this host wrote: only KDCs write them.
    pub kdc_events: u64,
    /// Distinct hosts this host reached over a remote-admin protocol
    /// (established flows or admin log events).
    pub administered: u32,
    /// Of those, distinct hosts it reached with an established flow on an
    /// interactive one (RDP, SSH, WinRM, VNC, Telnet: not SMB or RPC).
    pub interactive: u32,
    /// Distinct hosts this host sent failed attempts (S0, REJ, RSTOS0, SH) to.
    pub failed_hosts: u32,
    /// Distinct (host, service) pairs this host sent failed attempts to.
    pub failed_services: u32,
    /// Distinct (host, service) pairs this host originated flows to.
    pub out_edges: u32,
    /// Flows this host originated.
    pub flows_out: u64,
}

/// Thresholds for role inference; [`Default`] gives the documented values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleThresholds {
    /// Distinct failed-attempt hosts for a scanner (default 16)...
    pub scanner_hosts: u32,
    /// ...or distinct failed (host, service) pairs (default 64)...
    pub scanner_services: u32,
    /// ...and failed pairs at least this percentage of its outbound pairs (default 50).
    pub scanner_failed_percent: u32,
    /// Distinct Kerberos clients that make a domain controller (default 2;
    /// one Kerberos client plus one LDAP client also does).
    pub dc_kerberos_clients: u32,
    /// Distinct administered hosts that make an admin/jump host (default 5)...
    pub admin_hosts: u32,
    /// ...or distinct hosts administered interactively (default 3).
    pub admin_interactive_hosts: u32,
    /// Distinct clients that make a server (default 3).
    pub server_clients: u32,
}

impl Default for RoleThresholds {
    fn default() -> Self {
        RoleThresholds {
            scanner_hosts: 16,
            scanner_services: 64,
            scanner_failed_percent: 50,
            dc_kerberos_clients: 2,
            admin_hosts: 5,
            admin_interactive_hosts: 3,
            server_clients: 3,
        }
    }
}

impl RoleThresholds {
    /// Infers a role, checking in this order: domain controller (KDC events,
    /// or Kerberos to enough clients, or Kerberos and LDAP), scanner, admin
    /// host (enough hosts administered, or interactively), server, workstation
    /// (originated any flow), else unknown.
    pub fn infer(&self, s: &RoleSignals) -> Role {
        let dc = s.kdc_events > 0
            || s.kerberos_clients >= self.dc_kerberos_clients
            || (s.kerberos_clients >= 1 && s.ldap_clients >= 1);
        if dc {
            return Role::DomainController;
        }
        let failed_share_ok = u64::from(s.failed_services) * 100
            >= u64::from(self.scanner_failed_percent) * u64::from(s.out_edges.max(1));
        if (s.failed_hosts >= self.scanner_hosts || s.failed_services >= self.scanner_services)
            && failed_share_ok
        {
            return Role::Scanner;
        }
        if s.administered >= self.admin_hosts || s.interactive >= self.admin_interactive_hosts {
            return Role::AdminHost;
        }
        if s.clients >= self.server_clients {
            return Role::Server;
        }
        if s.flows_out > 0 {
            return Role::Workstation;
        }
        Role::Unknown
    }
}

impl Profiles {
    /// Recomputes every host's [`RoleSignals`] and role with `thresholds`
    /// (a role from the hosts file still wins). Works from the sorted edge
    /// orders, so it needs no per-host sets.
    pub fn infer_roles(&mut self, thresholds: &RoleThresholds) {
        let n = self.hosts.len();
        let mut signals = vec![RoleSignals::default(); n];
        let both = [Transport::Tcp, Transport::Udp];
        for s in &self.derived.served {
            let (Some(sig), Some(svc)) = (
                signals.get_mut(s.host.0 as usize),
                self.services.get(s.service.0 as usize),
            ) else {
                continue;
            };
            if s.established_clients > 0 {
                sig.services_answered += 1;
            }
            if is_port(svc, &both, 88) {
                sig.kerberos_clients += s.established_clients;
            }
            if is_port(svc, &both, 389) {
                sig.ldap_clients += s.established_clients;
            }
        }
        let is_admin: Vec<bool> = self
            .services
            .iter()
            .map(|s| s.admin_service().is_some())
            .collect();
        let is_interactive: Vec<bool> = self
            .services
            .iter()
            .map(|s| {
                s.admin_service()
                    .is_some_and(|p| !matches!(p, AdminService::Smb | AdminService::Rpc))
            })
            .collect();
        // Outbound, in (src, dst, service) order: distinct dsts are consecutive.
        let mut admin_uses = self.admin.iter().peekable();
        let mut start = 0;
        while let Some(first) = self.edges.get(start) {
            let src = first.src;
            let end = start
                + self
                    .edges
                    .get(start..)
                    .map_or(0, |r| r.partition_point(|e| e.src == src))
                    .max(1);
            let group = self.edges.get(start..end).unwrap_or(&[]);
            let mut administered: Vec<HostId> = Vec::new();
            let mut interactive = 0u32;
            let mut last_interactive_dst = None;
            let mut failed_dsts = 0u32;
            let mut last_failed_dst = None;
            let Some(sig) = signals.get_mut(src.0 as usize) else {
                start = end;
                continue;
            };
            for e in group {
                sig.out_edges += 1;
                sig.flows_out += u64::from(e.stats.flows);
                if e.stats.failed > 0 {
                    sig.failed_services += 1;
                    if last_failed_dst != Some(e.dst) {
                        failed_dsts += 1;
                        last_failed_dst = Some(e.dst);
                    }
                }
                let admin = is_admin.get(e.service.0 as usize).copied().unwrap_or(false);
                if admin && e.stats.established() > 0 && e.src != e.dst {
                    administered.push(e.dst);
                    // Edges run by (dst, service): one dst's are consecutive.
                    let inter = is_interactive
                        .get(e.service.0 as usize)
                        .copied()
                        .unwrap_or(false);
                    if inter && last_interactive_dst != Some(e.dst) {
                        interactive += 1;
                        last_interactive_dst = Some(e.dst);
                    }
                }
            }
            sig.failed_hosts = failed_dsts;
            sig.interactive = interactive;
            while admin_uses.next_if(|a| a.src < src).is_some() {}
            while let Some(a) = admin_uses.next_if(|a| a.src == src) {
                administered.push(a.dst);
            }
            administered.sort_unstable();
            administered.dedup();
            sig.administered = administered.len() as u32;
            start = end;
        }
        // Hosts with admin log events but no outbound edges.
        let mut i = 0;
        while let Some(a) = self.admin.get(i) {
            let src = a.src;
            let end = i + self
                .admin
                .get(i..)
                .map_or(0, |r| r.partition_point(|x| x.src == src))
                .max(1);
            if let Some(sig) = signals.get_mut(src.0 as usize)
                && sig.out_edges == 0
            {
                let mut d: Vec<HostId> = self
                    .admin
                    .get(i..end)
                    .unwrap_or(&[])
                    .iter()
                    .map(|x| x.dst)
                    .collect();
                d.dedup();
                sig.administered = d.len() as u32;
            }
            i = end;
        }
        // Inbound, in (dst, src, service) order: distinct clients are consecutive.
        let mut last: Option<(HostId, HostId)> = None;
        for &pos in &self.derived.inbound {
            let Some(e) = self.edges.get(pos as usize) else {
                continue;
            };
            if e.stats.established() == 0 || last == Some((e.dst, e.src)) {
                continue;
            }
            last = Some((e.dst, e.src));
            if let Some(sig) = signals.get_mut(e.dst.0 as usize) {
                sig.clients += 1;
            }
        }
        for (h, sig) in self.hosts.iter_mut().zip(signals.iter_mut()) {
            sig.kdc_events = h.kdc_events;
            h.signals = *sig;
            h.role = h.given_role.unwrap_or_else(|| thresholds.infer(sig));
        }
    }
}

/// True when `s` is on `port` over one of the transports `proto`.
fn is_port(s: &Service, proto: &[Transport], port: u16) -> bool {
    s.port == port && proto.contains(&s.proto)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_spellings() {
        assert_eq!("DC".parse::<Role>().unwrap(), Role::DomainController);
        assert_eq!(
            "domain-controller".parse::<Role>().unwrap(),
            Role::DomainController
        );
        assert_eq!("Jump Host".parse::<Role>().unwrap(), Role::AdminHost);
        assert_eq!("workstation".parse::<Role>().unwrap(), Role::Workstation);
        assert!("printer".parse::<Role>().is_err());
        for r in [
            Role::Workstation,
            Role::Server,
            Role::DomainController,
            Role::AdminHost,
            Role::Scanner,
            Role::Unknown,
        ] {
            assert_eq!(r.name().parse::<Role>().unwrap(), r);
        }
    }

    #[test]
    fn infers_in_priority_order() {
        let t = RoleThresholds::default();
        let mut s = RoleSignals::default();
        assert_eq!(t.infer(&s), Role::Unknown);
        s.flows_out = 10;
        assert_eq!(t.infer(&s), Role::Workstation);
        s.clients = 3;
        assert_eq!(t.infer(&s), Role::Server);
        s.interactive = 3;
        assert_eq!(t.infer(&s), Role::AdminHost);
        s.interactive = 2;
        assert_eq!(t.infer(&s), Role::Server);
        s.administered = 5;
        assert_eq!(t.infer(&s), Role::AdminHost);
        s.failed_hosts = 20;
        s.failed_services = 20;
        s.out_edges = 100;
        // Most of its outbound pairs succeeded: not a scanner.
        assert_eq!(t.infer(&s), Role::AdminHost);
        s.out_edges = 30;
        assert_eq!(t.infer(&s), Role::Scanner);
        s.kerberos_clients = 1;
        s.ldap_clients = 1;
        assert_eq!(t.infer(&s), Role::DomainController);
    }
}
