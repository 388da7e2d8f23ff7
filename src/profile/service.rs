//! Services as profiles see them, and the remote-administration protocols
//! that lateral movement rides on.
//!
//! A [`Service`] is what a flow's responder offers: transport, responder
//! port and Zeek's service name when the source gives one. [`AdminProto`]
//! classifies services (and some log events) into the remote-admin
//! protocols profiles track separately.

use crate::event::{Flow, LogEvent, Transport};
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
    pub fn admin_proto(&self) -> Option<AdminProto> {
        AdminProto::classify(self.proto, self.port, self.name.as_deref())
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
pub enum AdminProto {
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

impl AdminProto {
    /// Every protocol, in order.
    pub const ALL: [AdminProto; 7] = [
        AdminProto::Smb,
        AdminProto::Rdp,
        AdminProto::WinRm,
        AdminProto::Ssh,
        AdminProto::Rpc,
        AdminProto::Vnc,
        AdminProto::Telnet,
    ];

    /// Classifies a service. A Zeek service name that names one of these
    /// protocols wins (`smb`, `rdp`, `ssh`, `dce_rpc`, `rfb`, `telnet`);
    /// otherwise the well-known port decides.
    pub fn classify(proto: Transport, port: u16, name: Option<&str>) -> Option<AdminProto> {
        if let Some(n) = name {
            for part in n.split(',') {
                let p = match part.trim().to_ascii_lowercase().as_str() {
                    "smb" | "smb2" | "netbios-ssn" => Some(AdminProto::Smb),
                    "rdp" | "rdpeudp" => Some(AdminProto::Rdp),
                    "ssh" => Some(AdminProto::Ssh),
                    "dce_rpc" | "dcerpc" | "msrpc" => Some(AdminProto::Rpc),
                    "rfb" | "vnc" => Some(AdminProto::Vnc),
                    "telnet" => Some(AdminProto::Telnet),
                    "winrm" => Some(AdminProto::WinRm),
                    _ => None,
                };
                if p.is_some() {
                    return p;
                }
            }
        }
        match (proto, port) {
            (Transport::Tcp, 445 | 139) => Some(AdminProto::Smb),
            (Transport::Tcp | Transport::Udp, 3389) => Some(AdminProto::Rdp),
            (Transport::Tcp, 5985 | 5986) => Some(AdminProto::WinRm),
            (Transport::Tcp, 22) => Some(AdminProto::Ssh),
            (Transport::Tcp, 135) => Some(AdminProto::Rpc),
            (Transport::Tcp, 5900..=5906) => Some(AdminProto::Vnc),
            (Transport::Tcp, 23) => Some(AdminProto::Telnet),
            _ => None,
        }
    }

    /// The protocol a log event shows being used from its source to the
    /// host that wrote it: a successful Windows logon of type 10, an RDP
    /// authentication (1149) or an RDP session logon or reconnect
    /// (21/25/4778) is RDP, a successful sshd logon is SSH, a share access
    /// (5140/5145) is SMB.
    pub fn of_event(e: &LogEvent) -> Option<AdminProto> {
        let ok = e.outcome != Some(crate::event::Outcome::Failure);
        match e.action.as_str() {
            "logged-in" if ok && e.logon_type == Some(10) => Some(AdminProto::Rdp),
            "rdp-authenticated" | "rdp-session-logon" | "rdp-session-reconnected" if ok => {
                Some(AdminProto::Rdp)
            }
            "logged-in" if ok && e.dataset == "sshd" => Some(AdminProto::Ssh),
            "share-accessed" | "share-object-checked" if ok => Some(AdminProto::Smb),
            _ => None,
        }
    }

    /// Short lowercase name (`smb`, `rdp`, `winrm`, `ssh`, `rpc`, `vnc`, `telnet`).
    pub fn name(self) -> &'static str {
        match self {
            AdminProto::Smb => "smb",
            AdminProto::Rdp => "rdp",
            AdminProto::WinRm => "winrm",
            AdminProto::Ssh => "ssh",
            AdminProto::Rpc => "rpc",
            AdminProto::Vnc => "vnc",
            AdminProto::Telnet => "telnet",
        }
    }
}

impl fmt::Display for AdminProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_ports_and_names() {
        use AdminProto::*;
        let c = |p, port, n| AdminProto::classify(p, port, n);
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
            action: "logged-in".into(),
            logon_type: Some(10),
            ..LogEvent::default()
        };
        assert_eq!(AdminProto::of_event(&e), Some(AdminProto::Rdp));
        e.logon_type = Some(3);
        assert_eq!(AdminProto::of_event(&e), None);
        e.dataset = "sshd".into();
        assert_eq!(AdminProto::of_event(&e), Some(AdminProto::Ssh));
        e.outcome = Some(crate::event::Outcome::Failure);
        assert_eq!(AdminProto::of_event(&e), None);
        let s = LogEvent {
            action: "share-accessed".into(),
            ..LogEvent::default()
        };
        assert_eq!(AdminProto::of_event(&s), Some(AdminProto::Smb));
        let mut r = LogEvent {
            action: "rdp-session-reconnected".into(),
            ..LogEvent::default()
        };
        assert_eq!(AdminProto::of_event(&r), Some(AdminProto::Rdp));
        r.action = "rdp-session-disconnected".into();
        assert_eq!(AdminProto::of_event(&r), None, "a disconnect is no new use");
        r.action = "rdp-access-denied".into();
        r.outcome = Some(crate::event::Outcome::Failure);
        assert_eq!(AdminProto::of_event(&r), None);
    }
}
