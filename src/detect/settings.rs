//! The detection settings as typed values: what is internal and who is
//! known (`[network]`), what never alerts (`[allowlist]`), how alerts join
//! (`[incident]`), and under `[detect]` one field per rule whose type the
//! rule's own file defines (`rules::fan_out::FanOutConfig` for
//! `[detect.fan_out]`; the five credential rules read their fields from
//! the one `[detect.credentials]` table, `rules::credentials`). Read once
//! from TOML into a [`Config`] before any detector runs.
//!
//! `crate::config` holds the file's commented default text and its size
//! limit, and names these types for the rest of the crate.

use super::rules::{
    account_spread, beaconing, brute_force, convergence, credentials, fan_out, new_admin_edge,
    ntlm_where_kerberos, off_hours_session, privileged_logon, remote_exec, spray, volume,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP network in CIDR notation (`10.0.0.0/8`, `fc00::/7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

impl Cidr {
    /// True when `ip` is inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let bits = u32::from(self.prefix.min(32));
                let mask = if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let bits = u32::from(self.prefix.min(128));
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, p) = s.split_once('/').unwrap_or((s, ""));
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = if p.is_empty() {
            max
        } else {
            p.trim()
                .parse::<u8>()
                .ok()
                .filter(|v| *v <= max)
                .ok_or_else(|| format!("{s:?} has a bad prefix length"))?
        };
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Which addresses are ours, and who is known.
    pub network: NetworkConfig,
    /// What never alerts.
    pub allowlist: Allowlist,
    /// How alerts join into incidents.
    pub incident: IncidentConfig,
    /// Per-detector thresholds.
    pub detect: DetectConfig,
    /// Suppression entries (`[[suppress]]`): alerts an analyst has judged
    /// routine, each with its reason (see [`super::suppress`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppress: Vec<Suppression>,
    /// Sigma rules every run evaluates (`[sigma]`).
    pub sigma: SigmaConfig,
}

/// `[sigma]`: Sigma rules to evaluate on every run, as `--sigma` does, so
/// a nightly sweep's configuration carries them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SigmaConfig {
    /// A Sigma YAML file or a folder of them (a SigmaHQ checkout's
    /// `rules/`); relative to the configuration file's folder. `--sigma`
    /// on the command line wins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
}

/// Internal networks and known hosts and accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Networks counted as internal (default: RFC 1918 and IPv6 ULA).
    pub internal: Vec<Cidr>,
    /// Hosts (addresses or networks) that administer others as their job.
    pub known_admins: Vec<Cidr>,
    /// Vulnerability scanners and inventory tools.
    pub scanners: Vec<Cidr>,
    /// Accounts used by services and tools (case-insensitive names).
    pub service_accounts: Vec<String>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        let nets = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];
        NetworkConfig {
            internal: nets.iter().filter_map(|n| n.parse().ok()).collect(),
            known_admins: Vec::new(),
            scanners: Vec::new(),
            service_accounts: Vec::new(),
        }
    }
}

impl NetworkConfig {
    /// True when `ip` is in an internal network.
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        self.internal.iter().any(|n| n.contains(ip))
    }

    /// True when `ip` is a configured admin host.
    pub fn is_known_admin(&self, ip: IpAddr) -> bool {
        self.known_admins.iter().any(|n| n.contains(ip))
    }

    /// True when `ip` is a configured scanner.
    pub fn is_scanner(&self, ip: IpAddr) -> bool {
        self.scanners.iter().any(|n| n.contains(ip))
    }

    /// True when `user` is a configured service account.
    pub fn is_service_account(&self, user: &str) -> bool {
        self.service_accounts
            .iter()
            .any(|s| s.eq_ignore_ascii_case(user))
    }
}

/// Alerts that are dropped before incidents are built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Allowlist {
    /// Rule ids that never run (e.g. `lateral.beaconing`).
    pub rules: Vec<String>,
    /// Alerts whose source is in one of these networks are dropped.
    pub sources: Vec<Cidr>,
    /// Alerts whose destination is in one of these networks are dropped.
    pub destinations: Vec<Cidr>,
    /// Alerts about these accounts are dropped (case-insensitive).
    pub users: Vec<String>,
}

/// How alerts join into incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentConfig {
    /// Alerts sharing a host or user join when they are at most this far apart.
    pub window_minutes: u64,
    /// A host reached by a suspicious edge that starts one within this time
    /// continues the same chain.
    pub chain_minutes: u64,
    /// A destination that alerts from more than this many distinct sources
    /// name (a domain controller, a proxy) does not join them by itself.
    pub hub_sources: usize,
    /// A source whose alerts name more than this many distinct
    /// destinations (a push, a sweep) is a broadcast: a host it reached
    /// that acts afterwards is not joined to it, nor chained, by that
    /// alone; the one host in many it happened to touch says nothing of a
    /// path (Hopper's paths weigh each hop; a hop out of a broadcast
    /// weighs least).
    pub broadcast_destinations: usize,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            window_minutes: 120,
            chain_minutes: 240,
            hub_sources: 8,
            broadcast_destinations: 20,
        }
    }
}

/// Per-rule thresholds: one field per rule that has settings, of the type
/// the rule's file defines. Read and written in the file's shape
/// ([`DetectTables`]): the credential rules' fields come from, and go to,
/// the one `[detect.credentials]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(from = "DetectTables", into = "DetectTables")]
pub struct DetectConfig {
    /// New remote-admin edge.
    pub new_admin_edge: new_admin_edge::NewAdminEdgeConfig,
    /// Several new sources converging on one server.
    pub convergence: convergence::ConvergenceConfig,
    /// One source reaching many hosts on admin ports.
    pub fan_out: fan_out::FanOutConfig,
    /// One account logging on to many hosts.
    pub account_spread: account_spread::AccountSpreadConfig,
    /// NTLM on a host whose logons are Kerberos.
    pub ntlm_where_kerberos: ntlm_where_kerberos::NtlmWhereKerberosConfig,
    /// Failures, then a success.
    pub brute_force: brute_force::BruteForceConfig,
    /// One source failing many accounts.
    pub spray: spray::SprayConfig,
    /// An account's first special privileges on a host.
    pub privileged_logon: privileged_logon::PrivilegedLogonConfig,
    /// Service installs and admin-share writes after a new logon.
    pub remote_exec: remote_exec::RemoteExecConfig,
    /// Regular connections to one external destination.
    pub beaconing: beaconing::BeaconingConfig,
    /// Far more bytes to a peer than usual.
    pub volume: volume::VolumeConfig,
    /// A known remote-admin session at an hour its source is never active.
    pub off_hours_session: off_hours_session::OffHoursSessionConfig,
}

/// The `[detect]` table as the file spells it: one table per rule, but one
/// `credentials` table for the five credential rules. Named `DetectConfig`
/// to serde, so messages about a bad file read as they always have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(
    rename = "DetectConfig",
    expecting = "struct DetectConfig",
    default,
    deny_unknown_fields
)]
pub struct DetectTables {
    /// `[detect.new_admin_edge]`.
    pub new_admin_edge: new_admin_edge::NewAdminEdgeConfig,
    /// `[detect.convergence]`.
    pub convergence: convergence::ConvergenceConfig,
    /// `[detect.fan_out]`.
    pub fan_out: fan_out::FanOutConfig,
    /// `[detect.credentials]`.
    pub credentials: credentials::CredentialConfig,
    /// `[detect.remote_exec]`.
    pub remote_exec: remote_exec::RemoteExecConfig,
    /// `[detect.beaconing]`.
    pub beaconing: beaconing::BeaconingConfig,
    /// `[detect.volume]`.
    pub volume: volume::VolumeConfig,
    /// `[detect.off_hours_session]`.
    pub off_hours_session: off_hours_session::OffHoursSessionConfig,
}

impl From<DetectTables> for DetectConfig {
    fn from(t: DetectTables) -> DetectConfig {
        DetectConfig {
            account_spread: t.credentials.account_spread(),
            ntlm_where_kerberos: t.credentials.ntlm_where_kerberos(),
            brute_force: t.credentials.brute_force(),
            spray: t.credentials.spray(),
            privileged_logon: t.credentials.privileged_logon(),
            new_admin_edge: t.new_admin_edge,
            convergence: t.convergence,
            fan_out: t.fan_out,
            remote_exec: t.remote_exec,
            beaconing: t.beaconing,
            volume: t.volume,
            off_hours_session: t.off_hours_session,
        }
    }
}

impl From<DetectConfig> for DetectTables {
    fn from(c: DetectConfig) -> DetectTables {
        DetectTables {
            credentials: credentials::CredentialConfig::join(
                &c.brute_force,
                &c.spray,
                &c.account_spread,
                &c.ntlm_where_kerberos,
                &c.privileged_logon,
            ),
            new_admin_edge: c.new_admin_edge,
            convergence: c.convergence,
            fan_out: c.fan_out,
            remote_exec: c.remote_exec,
            beaconing: c.beaconing,
            volume: c.volume,
            off_hours_session: c.off_hours_session,
        }
    }
}

impl Config {
    /// Parses a TOML document; unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let cfg: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, s) in cfg.suppress.iter().enumerate() {
            s.check()
                .map_err(|e| format!("[[suppress]] entry {}: {e}", i + 1))?;
        }
        Ok(cfg)
    }
}

/// Longest glob, name or pattern a `[[suppress]]` entry holds.
pub const MAX_GLOB: usize = 512;

/// One `[[suppress]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Suppression {
    /// Why these alerts are routine (required: a suppression nobody can
    /// explain is a blind spot).
    pub reason: String,
    /// Rule id glob (`lateral.new-*`).
    pub rule: Option<String>,
    /// The alert's source: a CIDR or a host-name glob.
    pub source: Option<String>,
    /// The alert's destination: a CIDR or a host-name glob.
    pub destination: Option<String>,
    /// Either side: a CIDR or a host-name glob.
    pub host: Option<String>,
    /// The source's role in the baseline (`admin`, `dc`, `server`, ...).
    pub role: Option<String>,
    /// Account glob, case-insensitive.
    pub user: Option<String>,
    /// Start of a time window (RFC 3339): alerts starting before it do not match.
    pub from: Option<String>,
    /// End of a time window (RFC 3339): alerts starting at or after it do not match.
    pub until: Option<String>,
}

impl Suppression {
    /// Checks the entry: a reason, a known role, RFC 3339 times in order.
    pub fn check(&self) -> Result<(), String> {
        if self.reason.trim().is_empty() {
            return Err("`reason` is required".into());
        }
        if let Some(r) = &self.role {
            r.parse::<crate::model::Role>()
                .map_err(|_| format!("`role` {r:?} is not a role"))?;
        }
        for (k, v) in [("from", &self.from), ("until", &self.until)] {
            if let Some(t) = v
                && crate::model::event::Timestamp::parse_rfc3339(t).is_none()
            {
                return Err(format!("`{k}` {t:?} is not an RFC 3339 time"));
            }
        }
        if let (Some(a), Some(z)) = (
            self.from
                .as_deref()
                .and_then(crate::model::event::Timestamp::parse_rfc3339),
            self.until
                .as_deref()
                .and_then(crate::model::event::Timestamp::parse_rfc3339),
        ) && z <= a
        {
            return Err("`until` is not after `from`".into());
        }
        for (k, v) in [
            ("rule", &self.rule),
            ("source", &self.source),
            ("destination", &self.destination),
            ("host", &self.host),
            ("user", &self.user),
        ] {
            if v.as_ref()
                .is_some_and(|p| p.is_empty() || p.len() > MAX_GLOB)
            {
                return Err(format!("`{k}` must be 1 to {MAX_GLOB} characters"));
            }
        }
        Ok(())
    }
}
