//! The settings the five credential rules share: the `[detect.credentials]`
//! table. [`super::brute_force`] reads `brute_force_failures` and
//! `failure_window_minutes`, [`super::spray`] `spray_accounts` and the
//! same `failure_window_minutes`, [`super::account_spread`]
//! `spread_hosts` and `spread_window_minutes`,
//! [`super::ntlm_where_kerberos`] `kerberos_norm` and
//! `kerberos_min_logons`, and [`super::privileged_logon`]
//! `routine_privileged_hosts`. One table, as the configuration file has
//! always had it, so one type.

/// Thresholds of the credential rules.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
