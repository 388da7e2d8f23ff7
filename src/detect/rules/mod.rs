//! The rules: one file per detector, ruff-style. Each file opens with what
//! the rule detects, why it matters (ATT&CK), its evidence, its false
//! positives and its tuning; then its settings (the `[detect.<rule>]`
//! table of the configuration file, a type with its defaults) and its
//! logic, a type implementing [`super::Detector`]. The five credential
//! rules keep their keys in one table of the file, `[detect.credentials]`,
//! which [`credentials`] splits into their settings.
//!
//! A rule reads only its [`super::DetectInput`]: it asks what is normal
//! through [`super::BaselineView`], never
//! through profiles directly, so learned and stored baselines judge alike.

pub mod account_spread;
pub mod beaconing;
pub mod brute_force;
pub mod convergence;
pub mod credentials;
pub mod dcsync;
pub mod explicit_credentials;
pub mod fan_out;
pub mod forged_ticket;
pub mod kerberoast;
pub mod ldap_recon;
pub mod logged_admin_edge;
pub mod new_admin_edge;
pub mod new_logon_source;
pub mod ntlm_where_kerberos;
pub mod off_hours_session;
pub mod privileged_logon;
pub mod rdp_denied;
pub mod rdp_hijack;
pub mod remote_exec;
pub mod remote_process;
pub mod remote_service;
pub mod spray;
pub mod volume;

use super::Detector;
use super::common::{
    is_explicit, is_kerberos_attempt, is_ntlm_validation, is_remote_logon, succeeded,
};
use crate::model::Action;
use crate::model::event::LogEvent;

/// Every rule, in a fixed order (the order alerts of equal time and id
/// were always produced in).
pub fn all() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(new_admin_edge::NewAdminEdge),
        Box::new(convergence::Convergence),
        Box::new(fan_out::FanOut),
        Box::new(new_logon_source::NewLogonSource),
        Box::new(account_spread::AccountSpread),
        Box::new(explicit_credentials::ExplicitCredentials),
        Box::new(ntlm_where_kerberos::NtlmWhereKerberos),
        Box::new(brute_force::BruteForce),
        Box::new(spray::Spray),
        Box::new(privileged_logon::PrivilegedLogon),
        Box::new(remote_exec::RemoteExec),
        Box::new(beaconing::Beaconing),
        Box::new(volume::Volume),
        Box::new(off_hours_session::OffHoursSession),
        Box::new(remote_process::RemoteProcess),
        Box::new(rdp_hijack::RdpHijack),
        Box::new(rdp_denied::RdpDenied),
        Box::new(remote_service::RemoteService),
        Box::new(dcsync::DcSync),
        Box::new(kerberoast::Kerberoast),
        Box::new(logged_admin_edge::LoggedAdminEdge),
        Box::new(ldap_recon::LdapRecon),
        Box::new(forged_ticket::ForgedTicket),
    ]
}

/// Which judged log events a rule can ever look at: a rule's events,
/// network logons ([`super::DetectInput::logons`]) and password attempts
/// ([`super::DetectInput::attempts`]) all come from the judged events, so
/// a judged event that no enabled rule's predicate accepts (nor Sigma's,
/// a `sigma-match`) changes no alert and is counted, not held
/// ([`super::JudgedReader`]). A predicate may accept more than its rule
/// uses, never less.
pub type Reads = fn(&LogEvent) -> bool;

/// Each rule's [`Reads`], by rule id. A rule missing here is taken to read
/// every event.
pub const READERS: &[(&str, Reads)] = &[
    (new_admin_edge::RULE.id, reads_nothing),
    (convergence::RULE.id, reads_nothing),
    (fan_out::RULE.id, reads_nothing),
    (new_logon_source::RULE.id, is_remote_logon),
    (account_spread::RULE.id, is_remote_logon),
    (explicit_credentials::RULE.id, is_explicit),
    (ntlm_where_kerberos::RULE.id, is_remote_logon),
    (brute_force::RULE.id, is_attempt),
    (spray::RULE.id, is_attempt),
    (privileged_logon::RULE.id, |e| {
        is_remote_logon(e) || e.action == Action::SpecialPrivilegesAssigned
    }),
    (remote_exec::RULE.id, |e| {
        crate::profile::exec::is_exec_action(e) || is_remote_logon(e)
    }),
    (beaconing::RULE.id, reads_nothing),
    (volume::RULE.id, reads_nothing),
    (off_hours_session::RULE.id, is_remote_logon),
    (remote_process::RULE.id, |e| {
        is_remote_logon(e) || remote_process::channel(e).is_some()
    }),
    (rdp_hijack::RULE.id, |e| {
        matches!(
            e.action,
            Action::ProcessCreated | Action::RdpSessionReconnected | Action::RdpSessionDisconnected
        )
    }),
    (rdp_denied::RULE.id, |e| e.action == Action::RdpAccessDenied),
    (remote_service::RULE.id, remote_service::reads),
    (dcsync::RULE.id, |e| {
        is_remote_logon(e) || e.action == Action::DirectoryReplicationRequested
    }),
    (kerberoast::RULE.id, |e| {
        succeeded(e) && kerberoast::is_rc4_service_ticket(e)
    }),
    (logged_admin_edge::RULE.id, |e| {
        e.action == Action::NetworkConnection
    }),
    (ldap_recon::RULE.id, |e| {
        matches!(e.action, Action::LdapBind | Action::LdapSearch)
    }),
    (forged_ticket::RULE.id, |e| {
        is_remote_logon(e) || e.user_id().is_some()
    }),
];

/// Reads no log event (the rule reads connection records only).
fn reads_nothing(_: &LogEvent) -> bool {
    false
}

/// A password attempt: a network logon or another attempt
/// ([`super::other_attempts`]).
fn is_attempt(e: &LogEvent) -> bool {
    is_remote_logon(e) || is_kerberos_attempt(e) || is_ntlm_validation(e) || is_explicit(e)
}

/// True when a rule that walks [`super::DetectInput::events`] itself
/// (not only the resolved logons and attempts) can read `e`: such an event
/// must stay among the events ([`super::held_compactly`]). Kept beside
/// [`READERS`]: a rule that starts reading events of a new kind from the
/// event list adds them here.
pub fn read_among_events(e: &LogEvent) -> bool {
    is_explicit(e) || is_ntlm_validation(e) || walked_by_rules(e)
}

/// True when a rule walks `e` among [`super::DetectInput::events`] for
/// what it is, not as a password attempt ([`super::other_attempts`] walks
/// the explicit-credential logons and NTLM validations).
fn walked_by_rules(e: &LogEvent) -> bool {
    e.user_id().is_some()
        || crate::profile::exec::is_exec_action(e)
        || remote_service::reads(e)
        || remote_process::channel(e).is_some()
        || kerberoast::is_rc4_service_ticket(e)
        || matches!(
            e.action,
            Action::SigmaMatch
                | Action::SpecialPrivilegesAssigned
                | Action::DirectoryReplicationRequested
                | Action::ProcessCreated
                | Action::RdpSessionReconnected
                | Action::RdpSessionDisconnected
                | Action::RdpAccessDenied
                | Action::NetworkConnection
                | Action::LdapBind
                | Action::LdapSearch
        )
}

/// True when the rules read `e` only as a failed password attempt of its
/// source: a failed network logon (4625, a daemon's failed logon), a
/// failed Kerberos attempt (4768 refused, 4771) or a refused NTLM
/// validation (4776) that no rule walks among the events for anything
/// else. Of the rules that read such attempts, `lateral.brute-force` and
/// `lateral.password-spray` group a sourced one only when its source has
/// [`super::JudgedReader::failures_needed`] failed attempts in all
/// (`common::failing_sources`; the unsourced ones group by target); every
/// other rule that reads network logons keeps the successful ones only.
/// A rule that starts reading failures otherwise must change this.
pub fn read_as_source_failure(e: &LogEvent) -> bool {
    e.outcome == Some(crate::model::event::Outcome::Failure)
        && (is_remote_logon(e) || is_kerberos_attempt(e) || is_ntlm_validation(e))
        && !is_explicit(e)
        && !walked_by_rules(e)
}
