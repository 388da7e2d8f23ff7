//! The `[detect.credentials]` table. The configuration file keeps the
//! settings of five credential rules in one table, and each rule's own
//! file defines its part: [`super::brute_force::BruteForceConfig`]
//! (`brute_force_failures`, `failure_window_minutes`),
//! [`super::spray::SprayConfig`] (`spray_accounts` and the same
//! `failure_window_minutes`), [`super::account_spread::AccountSpreadConfig`]
//! (`spread_hosts`, `spread_window_minutes`),
//! [`super::ntlm_where_kerberos::NtlmWhereKerberosConfig`]
//! (`kerberos_norm`, `kerberos_min_logons`) and
//! [`super::privileged_logon::PrivilegedLogonConfig`]
//! (`routine_privileged_hosts`). [`CredentialConfig`] is the table itself:
//! `crate::detect::settings::DetectConfig` splits it into the five on
//! reading and joins them back on writing.

use super::account_spread::AccountSpreadConfig;
use super::brute_force::BruteForceConfig;
use super::ntlm_where_kerberos::NtlmWhereKerberosConfig;
use super::privileged_logon::PrivilegedLogonConfig;
use super::spray::SprayConfig;

/// The `[detect.credentials]` table as the file spells it.
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
        CredentialConfig::join(
            &BruteForceConfig::default(),
            &SprayConfig::default(),
            &AccountSpreadConfig::default(),
            &NtlmWhereKerberosConfig::default(),
            &PrivilegedLogonConfig::default(),
        )
    }
}

impl CredentialConfig {
    /// The table from the five rules' settings. The file has one
    /// `failure_window_minutes`: brute force's is written (the two are
    /// equal whenever they came from a file).
    pub fn join(
        brute_force: &BruteForceConfig,
        spray: &SprayConfig,
        account_spread: &AccountSpreadConfig,
        ntlm_where_kerberos: &NtlmWhereKerberosConfig,
        privileged_logon: &PrivilegedLogonConfig,
    ) -> CredentialConfig {
        CredentialConfig {
            brute_force_failures: brute_force.brute_force_failures,
            spray_accounts: spray.spray_accounts,
            failure_window_minutes: brute_force.failure_window_minutes,
            spread_hosts: account_spread.spread_hosts,
            spread_window_minutes: account_spread.spread_window_minutes,
            kerberos_norm: ntlm_where_kerberos.kerberos_norm,
            kerberos_min_logons: ntlm_where_kerberos.kerberos_min_logons,
            routine_privileged_hosts: privileged_logon.routine_privileged_hosts,
        }
    }

    /// Brute force's part of the table.
    pub fn brute_force(&self) -> BruteForceConfig {
        BruteForceConfig {
            brute_force_failures: self.brute_force_failures,
            failure_window_minutes: self.failure_window_minutes,
        }
    }

    /// The password spray's part of the table.
    pub fn spray(&self) -> SprayConfig {
        SprayConfig {
            spray_accounts: self.spray_accounts,
            failure_window_minutes: self.failure_window_minutes,
        }
    }

    /// The account spread's part of the table.
    pub fn account_spread(&self) -> AccountSpreadConfig {
        AccountSpreadConfig {
            spread_hosts: self.spread_hosts,
            spread_window_minutes: self.spread_window_minutes,
        }
    }

    /// NTLM-where-Kerberos's part of the table.
    pub fn ntlm_where_kerberos(&self) -> NtlmWhereKerberosConfig {
        NtlmWhereKerberosConfig {
            kerberos_norm: self.kerberos_norm,
            kerberos_min_logons: self.kerberos_min_logons,
        }
    }

    /// The first privileged logon's part of the table.
    pub fn privileged_logon(&self) -> PrivilegedLogonConfig {
        PrivilegedLogonConfig {
            routine_privileged_hosts: self.routine_privileged_hosts,
        }
    }
}
