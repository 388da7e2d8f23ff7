//! The configuration file: its size limit, its commented default text
//! ([`DEFAULT_TOML`], printed by `lateral config --default`, which parses
//! back to [`Config::default`]) and the names of every settings type.
//!
//! The types live with what they tune: the document and its `[network]`,
//! `[allowlist]`, `[incident]` tables in `crate::detect::settings`, each
//! rule's `[detect.<rule>]` table in that rule's file under
//! `crate::detect::rules`. This module comes after the detect stage and
//! only names them, so `crate::config::Config` and the others keep their
//! paths.

pub use crate::detect::rules::account_spread::AccountSpreadConfig;
pub use crate::detect::rules::beaconing::BeaconingConfig;
pub use crate::detect::rules::brute_force::BruteForceConfig;
pub use crate::detect::rules::convergence::ConvergenceConfig;
pub use crate::detect::rules::credentials::CredentialConfig;
pub use crate::detect::rules::fan_out::FanOutConfig;
pub use crate::detect::rules::new_admin_edge::NewAdminEdgeConfig;
pub use crate::detect::rules::ntlm_where_kerberos::NtlmWhereKerberosConfig;
pub use crate::detect::rules::off_hours_session::OffHoursSessionConfig;
pub use crate::detect::rules::privileged_logon::PrivilegedLogonConfig;
pub use crate::detect::rules::remote_exec::RemoteExecConfig;
pub use crate::detect::rules::spray::SprayConfig;
pub use crate::detect::rules::volume::VolumeConfig;
pub use crate::detect::settings::{
    Allowlist, Cidr, Config, DetectConfig, DetectTables, IncidentConfig, NetworkConfig, SigmaConfig,
};

/// Largest configuration file read (1 MiB; the commented default is a few KiB).
pub const MAX_CONFIG_FILE: u64 = 1 << 20;

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

[sigma]
# Sigma rules evaluated against every log event on every run, as --sigma does
# (a YAML file or a folder, such as a SigmaHQ checkout's rules/; a relative path
# is taken from this file's folder). --sigma on the command line wins.
# rules = "/opt/sigma/rules"
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
    fn the_credentials_table_splits_among_its_rules_and_joins_back() {
        let c = Config::from_toml(
            "[detect.credentials]\nfailure_window_minutes = 7\nspray_accounts = 9\nroutine_privileged_hosts = 4\n",
        )
        .unwrap();
        assert_eq!(c.detect.brute_force.failure_window_minutes, 7);
        assert_eq!(c.detect.spray.failure_window_minutes, 7);
        assert_eq!(c.detect.spray.spray_accounts, 9);
        assert_eq!(c.detect.privileged_logon.routine_privileged_hosts, 4);
        assert_eq!(
            c.detect.brute_force.brute_force_failures,
            BruteForceConfig::default().brute_force_failures
        );
        let table = DetectTables::from(c.detect.clone());
        assert_eq!(DetectConfig::from(table.clone()), c.detect);
        assert_eq!(table.credentials.failure_window_minutes, 7);
        assert_eq!(
            DetectTables::default().credentials,
            CredentialConfig::default()
        );
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
