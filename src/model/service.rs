//! Services, and the remote-administration services lateral movement rides
//! on: one vocabulary for profiles, baselines and detectors.
//!
//! A [`Service`] is what a flow's responder offers: transport, responder
//! port and Zeek's service name when the source gives one. [`AdminService`]
//! classifies services (and some log events) into the remote-admin
//! services that profiles track separately and detectors judge.

use crate::model::Action;
use crate::model::event::{Flow, LogEvent, Transport};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A service on the responder side of a flow: (proto, responder port,
/// Zeek service name if any). Ordered by proto, port, then name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Service {
    /// Transport protocol.
    pub proto: Transport,
    /// Responder port (ICMP: Zeek's code/counterpart type).
    pub port: u16,
    /// Application protocol named by the source (`smb`, `krb`, `ssl,http`), if any.
    pub name: Option<Box<str>>,
}

impl Service {
    /// A service from its parts.
    pub fn new(proto: Transport, port: u16, name: Option<&str>) -> Service {
        Service {
            proto,
            port,
            name: name.filter(|n| !n.is_empty() && *n != "-").map(Box::from),
        }
    }

    /// The service a flow's responder offers.
    pub fn of_flow(f: &Flow) -> Service {
        Service::new(f.proto, f.resp_p, f.service.as_deref())
    }

    /// The remote-admin protocol this service is, if any.
    pub fn admin_service(&self) -> Option<AdminService> {
        AdminService::classify(self.proto, self.port, self.name.as_deref())
    }

    /// True for the same transport and port, whatever the name.
    pub fn same_port(&self, proto: Transport, port: u16) -> bool {
        self.proto == proto && self.port == port
    }
}

impl fmt::Display for Service {
    /// `tcp/445` or `tcp/445 (smb)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.proto.zeek_name(), self.port)?;
        if let Some(n) = &self.name {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

/// Remote-administration protocols, tracked separately in profiles because
/// attackers move laterally over them (ATT&CK T1021).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminService {
    /// SMB / Windows file sharing, admin shares, PsExec (tcp/445, tcp/139).
    Smb,
    /// Remote Desktop (tcp or udp 3389).
    Rdp,
    /// WinRM / PowerShell remoting (tcp/5985, tcp/5986).
    WinRm,
    /// Secure Shell (tcp/22).
    Ssh,
    /// MS-RPC endpoint mapper, DCOM and WMI (tcp/135).
    Rpc,
    /// VNC / RFB (tcp/5900-5906).
    Vnc,
    /// Telnet (tcp/23).
    Telnet,
}

impl AdminService {
    /// Every protocol, in order.
    pub const ALL: [AdminService; 7] = [
        AdminService::Smb,
        AdminService::Rdp,
        AdminService::WinRm,
        AdminService::Ssh,
        AdminService::Rpc,
        AdminService::Vnc,
        AdminService::Telnet,
    ];

    /// Classifies a service. A Zeek service name that names one of these
    /// protocols wins (`smb`, `rdp`, `ssh`, `dce_rpc`, `rfb`, `telnet`);
    /// otherwise the well-known port decides.
    pub fn classify(proto: Transport, port: u16, name: Option<&str>) -> Option<AdminService> {
        if let Some(n) = name {
            for part in n.split(',') {
                let p = match part.trim().to_ascii_lowercase().as_str() {
                    "smb" | "smb2" | "netbios-ssn" => Some(AdminService::Smb),
                    "rdp" | "rdpeudp" => Some(AdminService::Rdp),
                    "ssh" => Some(AdminService::Ssh),
                    "dce_rpc" | "dcerpc" | "msrpc" => Some(AdminService::Rpc),
                    "rfb" | "vnc" => Some(AdminService::Vnc),
                    "telnet" => Some(AdminService::Telnet),
                    "winrm" => Some(AdminService::WinRm),
                    _ => None,
                };
                if p.is_some() {
                    return p;
                }
            }
        }
        match (proto, port) {
            (Transport::Tcp, 445 | 139) => Some(AdminService::Smb),
            (Transport::Tcp | Transport::Udp, 3389) => Some(AdminService::Rdp),
            (Transport::Tcp, 5985 | 5986) => Some(AdminService::WinRm),
            (Transport::Tcp, 22) => Some(AdminService::Ssh),
            (Transport::Tcp, 135) => Some(AdminService::Rpc),
            (Transport::Tcp, 5900..=5906) => Some(AdminService::Vnc),
            (Transport::Tcp, 23) => Some(AdminService::Telnet),
            _ => None,
        }
    }

    /// The protocol a log event shows being used from its source to the
    /// host that wrote it: a successful Windows logon of type 10, an RDP
    /// authentication (1149) or an RDP session logon or reconnect
    /// (21/25/4778) is RDP, a successful sshd logon is SSH, a share access
    /// (5140/5145) is SMB.
    pub fn of_event(e: &LogEvent) -> Option<AdminService> {
        let ok = e.outcome != Some(crate::model::event::Outcome::Failure);
        match e.action {
            Action::LoggedIn if ok && e.logon_type == Some(10) => Some(AdminService::Rdp),
            Action::RdpAuthenticated | Action::RdpSessionLogon | Action::RdpSessionReconnected
                if ok =>
            {
                Some(AdminService::Rdp)
            }
            Action::LoggedIn if ok && e.dataset == "sshd" => Some(AdminService::Ssh),
            Action::ShareAccessed | Action::ShareObjectChecked if ok => Some(AdminService::Smb),
            _ => None,
        }
    }

    /// The service a TCP responder port carries, if it is a remote-admin one
    /// (the port alone: [`AdminService::classify`] also reads Zeek's name).
    pub fn of_port(port: u16) -> Option<AdminService> {
        AdminService::classify(Transport::Tcp, port, None)
    }

    /// The remote-admin service of a flow, from its transport, responder
    /// port and the service name its source gave.
    pub fn of_flow(f: &Flow) -> Option<AdminService> {
        AdminService::classify(f.proto, f.resp_p, f.service.as_deref())
    }

    /// The name used in messages (`SMB`, `RDP`, `WinRM`, `SSH`, `RPC/DCOM`, `VNC`, `Telnet`).
    pub fn label(self) -> &'static str {
        match self {
            AdminService::Smb => "SMB",
            AdminService::Rdp => "RDP",
            AdminService::WinRm => "WinRM",
            AdminService::Ssh => "SSH",
            AdminService::Rpc => "RPC/DCOM",
            AdminService::Vnc => "VNC",
            AdminService::Telnet => "Telnet",
        }
    }

    /// Short lowercase name used in files and profiles (`smb`, `rdp`, `winrm`, `ssh`, `rpc`, `vnc`, `telnet`).
    pub fn name(self) -> &'static str {
        match self {
            AdminService::Smb => "smb",
            AdminService::Rdp => "rdp",
            AdminService::WinRm => "winrm",
            AdminService::Ssh => "ssh",
            AdminService::Rpc => "rpc",
            AdminService::Vnc => "vnc",
            AdminService::Telnet => "telnet",
        }
    }
}

impl fmt::Display for AdminService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    #[test]
    fn classifies_ports_and_names() {
        use AdminService::*;
        let c = |p, port, n| AdminService::classify(p, port, n);
        assert_eq!(c(Transport::Tcp, 445, None), Some(Smb));
        assert_eq!(c(Transport::Tcp, 139, None), Some(Smb));
        assert_eq!(c(Transport::Udp, 3389, None), Some(Rdp));
        assert_eq!(c(Transport::Tcp, 5986, None), Some(WinRm));
        assert_eq!(c(Transport::Tcp, 22, None), Some(Ssh));
        assert_eq!(c(Transport::Tcp, 135, None), Some(Rpc));
        assert_eq!(c(Transport::Tcp, 5903, None), Some(Vnc));
        assert_eq!(c(Transport::Tcp, 23, None), Some(Telnet));
        assert_eq!(c(Transport::Tcp, 80, None), None);
        assert_eq!(c(Transport::Udp, 445, None), None);
        // A name wins over the port: SSH on 2222, DCE/RPC on a dynamic port.
        assert_eq!(c(Transport::Tcp, 2222, Some("ssh")), Some(Ssh));
        assert_eq!(c(Transport::Tcp, 49_667, Some("dce_rpc")), Some(Rpc));
        assert_eq!(c(Transport::Tcp, 443, Some("ssl,http")), None);
    }

    #[test]
    fn classifies_log_events() {
        let mut e = LogEvent {
            action: Action::LoggedIn,
            logon_type: Some(10),
            ..LogEvent::default()
        };
        assert_eq!(AdminService::of_event(&e), Some(AdminService::Rdp));
        e.logon_type = Some(3);
        assert_eq!(AdminService::of_event(&e), None);
        e.dataset = "sshd".into();
        assert_eq!(AdminService::of_event(&e), Some(AdminService::Ssh));
        e.outcome = Some(crate::model::event::Outcome::Failure);
        assert_eq!(AdminService::of_event(&e), None);
        let s = LogEvent {
            action: Action::ShareAccessed,
            ..LogEvent::default()
        };
        assert_eq!(AdminService::of_event(&s), Some(AdminService::Smb));
        let mut r = LogEvent {
            action: Action::RdpSessionReconnected,
            ..LogEvent::default()
        };
        assert_eq!(AdminService::of_event(&r), Some(AdminService::Rdp));
        r.action = Action::RdpSessionDisconnected;
        assert_eq!(
            AdminService::of_event(&r),
            None,
            "a disconnect is no new use"
        );
        r.action = Action::RdpAccessDenied;
        r.outcome = Some(crate::model::event::Outcome::Failure);
        assert_eq!(AdminService::of_event(&r), None);
    }
}
