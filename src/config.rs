//! Detection settings: what is internal, who is known, and every
//! detector's thresholds. Read once from TOML (`--config FILE`) into typed
//! values before any detector runs; `lateral config --default` prints
//! [`DEFAULT_TOML`], which parses back to [`Config::default`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Largest configuration file read (1 MiB; the commented default is a few KiB).
pub const MAX_CONFIG_FILE: u64 = 1 << 20;

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
}

impl Default for IncidentConfig {
    fn default() -> Self {
        IncidentConfig {
            window_minutes: 120,
            chain_minutes: 240,
            hub_sources: 8,
        }
    }
}

/// Per-detector thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// New remote-admin edge.
    pub new_admin_edge: NewAdminEdgeConfig,
    /// Several new sources converging on one server.
    pub convergence: ConvergenceConfig,
    /// One source reaching many hosts on admin ports.
    pub fan_out: FanOutConfig,
    /// Credential anomalies from logs.
    pub credentials: CredentialConfig,
    /// Service installs and admin-share writes after a new logon.
    pub remote_exec: RemoteExecConfig,
    /// Regular connections to one external destination.
    pub beaconing: BeaconingConfig,
    /// Far more bytes to a peer than usual.
    pub volume: VolumeConfig,
    /// A known remote-admin session at an hour its source is never active.
    pub off_hours_session: OffHoursSessionConfig,
}

/// Thresholds of `lateral.off-hours-session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffHoursSessionConfig {
    /// Baseline records a source needs before its hours are judged.
    pub min_activity: u64,
    /// Baseline logons an account, or connections an edge, needs before
    /// its own hours are judged.
    pub min_habit_records: u64,
    /// Weekdays those records must fall on to count in full (hours seen
    /// on fewer are proportionally weaker evidence of a schedule).
    pub habit_full_days: usize,
    /// Hours between the session and the nearest hour of the day the
    /// source was ever active in.
    pub min_gap_hours: usize,
    /// A session this many hours or more from its subject's hours counts in
    /// full; nearer ones (overtime) proportionally less.
    pub full_gap_hours: usize,
    /// A source active in at least this fraction of the 24 hours of the
    /// day is not regular enough to have off hours.
    pub max_active_fraction: f64,
    /// Score of a session at a never-seen hour from a perfectly regular source.
    pub base_score: f64,
    /// Added when the authentication method also differs from the baseline's.
    pub method_bonus: f64,
    /// Alerts below this score are dropped.
    pub min_score: u8,
}

impl Default for OffHoursSessionConfig {
    fn default() -> Self {
        OffHoursSessionConfig {
            min_activity: 20,
            min_habit_records: 8,
            habit_full_days: 3,
            min_gap_hours: 3,
            full_gap_hours: 6,
            max_active_fraction: 0.75,
            base_score: 30.0,
            method_bonus: 15.0,
            min_score: 15,
        }
    }
}

/// Thresholds of `lateral.new-admin-edge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewAdminEdgeConfig {
    /// An edge that at least this fraction of the source's role used in the
    /// baseline towards the same destination and protocol is normal.
    pub common_fraction: f64,
    /// An admin host that already used a service on at least this many
    /// hosts in the baseline uses it on one more as its job: no alert.
    pub routine_reach: usize,
    /// Alerts below this score are dropped.
    pub min_score: u8,
}

impl Default for NewAdminEdgeConfig {
    fn default() -> Self {
        NewAdminEdgeConfig {
            common_fraction: 0.2,
            routine_reach: 2,
            min_score: 15,
        }
    }
}

/// Thresholds of `lateral.convergence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvergenceConfig {
    /// Distinct new sources needed.
    pub min_sources: usize,
    /// Within this many minutes.
    pub window_minutes: u64,
}

impl Default for ConvergenceConfig {
    fn default() -> Self {
        ConvergenceConfig {
            min_sources: 3,
            window_minutes: 60,
        }
    }
}

/// Thresholds of `lateral.fan-out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FanOutConfig {
    /// Distinct internal destinations on admin ports needed.
    pub min_hosts: usize,
    /// Within this many minutes.
    pub window_minutes: u64,
    /// A source whose baseline already reached this multiple of today's
    /// count in one hour is behaving as usual.
    pub baseline_ratio: f64,
}

impl Default for FanOutConfig {
    fn default() -> Self {
        FanOutConfig {
            min_hosts: 10,
            window_minutes: 15,
            baseline_ratio: 0.5,
        }
    }
}

/// Thresholds of the credential rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialConfig {
    /// Failed logons from one source before a success counts as brute force.
    pub brute_force_failures: usize,
    /// Distinct accounts failing from one source that count as a spray.
    pub spray_accounts: usize,
    /// Window for brute force and spray, minutes.
    pub failure_window_minutes: u64,
    /// Distinct hosts one account logs on to that count as a spread.
    pub spread_hosts: usize,
    /// Window for the spread, minutes.
    pub spread_window_minutes: u64,
    /// NTLM is unusual on a host when at least this fraction of its
    /// baseline network logons used Kerberos.
    pub kerberos_norm: f64,
    /// Baseline network logons needed to judge a host's norm.
    pub kerberos_min_logons: u64,
    /// An account already privileged on this many hosts, logging on from an
    /// admin host it used before, gets privileges on one more as routine.
    pub routine_privileged_hosts: usize,
}

impl Default for CredentialConfig {
    fn default() -> Self {
        CredentialConfig {
            brute_force_failures: 5,
            spray_accounts: 5,
            failure_window_minutes: 30,
            spread_hosts: 5,
            spread_window_minutes: 30,
            kerberos_norm: 0.8,
            kerberos_min_logons: 10,
            routine_privileged_hosts: 2,
        }
    }
}

/// Thresholds of `lateral.remote-exec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteExecConfig {
    /// A service install or admin-share write this many minutes after a
    /// network logon is tied to it.
    pub window_minutes: u64,
}

impl Default for RemoteExecConfig {
    fn default() -> Self {
        RemoteExecConfig { window_minutes: 10 }
    }
}

/// Thresholds of `lateral.beaconing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeaconingConfig {
    /// Connections needed to judge regularity.
    pub min_connections: usize,
    /// Shortest mean interval considered, seconds (faster is streaming, not beaconing).
    pub min_interval_secs: u64,
    /// Highest spread of intervals (coefficient of variation or MAD over
    /// median, whichever is lower) still counted as regular.
    pub max_jitter: f64,
    /// Destinations reached in the baseline by at least this fraction of
    /// internal hosts are common services, not command and control.
    pub popular_fraction: f64,
}

impl Default for BeaconingConfig {
    fn default() -> Self {
        BeaconingConfig {
            min_connections: 6,
            min_interval_secs: 10,
            max_jitter: 0.25,
            popular_fraction: 0.1,
        }
    }
}

/// Thresholds of `lateral.volume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeConfig {
    /// Bytes to one peer in one hour must exceed the host's baseline p99 by this factor.
    pub factor: f64,
    /// And be at least this many bytes.
    pub min_bytes: u64,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        VolumeConfig {
            factor: 10.0,
            min_bytes: 250_000,
        }
    }
}

impl Config {
    /// Parses a TOML document; unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// The default configuration as commented TOML (`lateral config --default`).
pub const DEFAULT_TOML: &str = r#"# lateral detection configuration. Every key is optional; absent keys take
# the values shown here. Addresses may be single IPs or CIDR networks.

[network]
# Networks counted as internal: edges between internal hosts are lateral.
internal = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
# Hosts that administer others as their job (jump hosts, backup servers).
known_admins = []
# Vulnerability scanners and inventory tools.
scanners = []
# Accounts used by services and tools (case-insensitive).
service_accounts = []

[allowlist]
# Rule ids that never run, e.g. ["lateral.beaconing"].
rules = []
# Alerts from or to these networks, or about these accounts, are dropped.
sources = []
destinations = []
users = []

[incident]
# Alerts sharing a host or user join when at most this far apart.
window_minutes = 120
# A host reached by a suspicious edge that starts one within this time
# continues the same chain.
chain_minutes = 240
# A destination named by alerts from more than this many sources (a domain
# controller, a proxy) does not join them by itself.
hub_sources = 8

[detect.new_admin_edge]
# An edge this fraction of the source's role used in the baseline is normal.
common_fraction = 0.2
# An admin host that already used a service on this many hosts uses it on one
# more as its job (no alert).
routine_reach = 2
min_score = 15

[detect.convergence]
min_sources = 3
window_minutes = 60

[detect.fan_out]
min_hosts = 10
window_minutes = 15
# Known behaviour when the baseline already reached this multiple of today's count.
baseline_ratio = 0.5

[detect.credentials]
brute_force_failures = 5
spray_accounts = 5
failure_window_minutes = 30
spread_hosts = 5
spread_window_minutes = 30
# NTLM is unusual on a host when this fraction of its baseline network
# logons used Kerberos, over at least kerberos_min_logons logons.
kerberos_norm = 0.8
kerberos_min_logons = 10
# An account privileged on this many hosts, logging on from an admin host it
# used before, gets privileges on one more as routine (no alert).
routine_privileged_hosts = 2

[detect.remote_exec]
window_minutes = 10

[detect.beaconing]
min_connections = 6
min_interval_secs = 10
# Highest interval spread (CV or MAD/median) still regular.
max_jitter = 0.25
# Destinations reached by this fraction of internal hosts are common services.
popular_fraction = 0.1

[detect.volume]
factor = 10.0
min_bytes = 250000

[detect.off_hours_session]
# Baseline records a source needs before its hours are judged.
min_activity = 20
# Baseline logons of an account, or connections of an edge, needed before its
# own hours are judged (instead of the whole source host's).
min_habit_records = 8
# Weekdays those records must fall on to count in full (fewer weigh less).
habit_full_days = 3
# Hours from the nearest hour of the day the source was ever active in.
min_gap_hours = 3
# Sessions this far (hours) from the usual hours count in full, nearer ones less.
full_gap_hours = 6
# Sources active in this fraction of the day's hours have no off hours.
max_active_fraction = 0.75
base_score = 30.0
# Added when the authentication method differs from the baseline's.
method_bonus = 15.0
min_score = 15
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_parses_to_defaults() {
        assert_eq!(Config::from_toml(DEFAULT_TOML).unwrap(), Config::default());
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn partial_config_keeps_other_defaults_and_rejects_typos() {
        let c = Config::from_toml("[detect.fan_out]\nmin_hosts = 4\n").unwrap();
        assert_eq!(c.detect.fan_out.min_hosts, 4);
        assert_eq!(c.detect.fan_out.window_minutes, 15);
        assert!(Config::from_toml("[detect.fan_out]\nmin_host = 4\n").is_err());
        assert!(Config::from_toml("[network]\ninternal = [\"10.0.0.0/33\"]\n").is_err());
    }

    #[test]
    fn cidr_membership() {
        let n: Cidr = "10.10.0.0/16".parse().unwrap();
        assert!(n.contains("10.10.2.5".parse().unwrap()));
        assert!(!n.contains("10.11.0.1".parse().unwrap()));
        let u: Cidr = "fc00::/7".parse().unwrap();
        assert!(u.contains("fd12::1".parse().unwrap()));
        assert!(!u.contains("10.10.2.5".parse().unwrap()));
        let one: Cidr = "192.0.2.1".parse().unwrap();
        assert_eq!(one.prefix, 32);
        let c = NetworkConfig::default();
        assert!(c.is_internal("172.20.1.1".parse().unwrap()));
        assert!(!c.is_internal("203.0.113.7".parse().unwrap()));
    }
}
