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
