//! What part a host plays on the network: one type for the role a
//! `--hosts` file gives, the role profiles infer from behaviour
//! ([`crate::profile::RoleThresholds`]) and the role detectors judge by.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A host's role on the network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A user's machine: talks out, serves little.
    Workstation,
    /// Serves one or more services to several clients.
    Server,
    /// Answers Kerberos (88) and LDAP (389), or writes KDC events (4768/4769).
    DomainController,
    /// An admin or jump host: administers many hosts over remote-admin protocols.
    AdminHost,
    /// Touches many hosts or ports with failed connection attempts (S0/REJ).
    Scanner,
    /// Too little seen to say.
    #[default]
    Unknown,
}

impl Role {
    /// The lowercase name used in files and output (`domain_controller`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Role::Workstation => "workstation",
            Role::Server => "server",
            Role::DomainController => "domain_controller",
            Role::AdminHost => "admin_host",
            Role::Scanner => "scanner",
            Role::Unknown => "unknown",
        }
    }

    /// The words alerts use for the role (`domain controller`, `admin host`).
    /// A host whose role is unknown reads `new host`: the baseline has too
    /// little of it to place it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Workstation => "workstation",
            Role::Server => "server",
            Role::DomainController => "domain controller",
            Role::AdminHost => "admin host",
            Role::Scanner => "scanner",
            Role::Unknown => "new host",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text was not a role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a role (workstation, server, dc, admin, scanner, unknown)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    /// Accepts the names above and common spellings: `dc`,
    /// `domain-controller`, `admin`, `jump`, `jumphost`, `ws`, `srv`
    /// (case-insensitive, `-`/`_`/space alike).
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        let n: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match n.as_str() {
            "workstation" | "ws" | "client" | "desktop" | "laptop" => Role::Workstation,
            "server" | "srv" | "fileserver" => Role::Server,
            "domaincontroller" | "dc" => Role::DomainController,
            "adminhost" | "admin" | "jump" | "jumphost" | "jumpserver" | "bastion" => {
                Role::AdminHost
            }
            "scanner" => Role::Scanner,
            "unknown" => Role::Unknown,
            _ => return Err(UnknownRole(s.to_string())),
        })
    }
}
