//! `lateral.ntlm-where-kerberos`: an NTLM network logon on a host whose
//! network logons are normally Kerberos.
//!
//! ## What it detects
//! A successful network logon (4624 type 3) authenticated with NTLM on a
//! host where at least `kerberos_norm` of the baseline's network logons
//! (over at least `kerberos_min_logons`) used Kerberos, by an account
//! that never used NTLM on that host.
//!
//! ## Why it matters
//! Pass-the-hash authenticates with the NTLM hash alone, so it shows up
//! as NTLM where a domain-joined client would use Kerberos: ATT&CK
//! T1550.002 (Pass the Hash).
//!
//! ## Evidence
//! The logon records.
//!
//! ## False positives
//! Clients addressing the host by IP address (Kerberos needs a name),
//! non-domain devices, broken SPNs.
//!
//! ## Tuning
//! `[detect.credentials]`: `kerberos_norm`, `kerberos_min_logons`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{LogonView, clamp_score, is_ntlm, succeeded};
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::Text;
use std::collections::BTreeMap;

/// Thresholds of `lateral.ntlm-where-kerberos` (keys of the shared `[detect.credentials]`
/// table; see [`super::credentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NtlmWhereKerberosConfig {
    /// NTLM is unusual on a host when at least this fraction of its
    /// baseline network logons used Kerberos.
    pub kerberos_norm: f64,
    /// Baseline network logons needed to judge a host's norm.
    pub kerberos_min_logons: u64,
}

impl Default for NtlmWhereKerberosConfig {
    fn default() -> Self {
        NtlmWhereKerberosConfig {
            kerberos_norm: 0.8,
            kerberos_min_logons: 10,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.ntlm-where-kerberos",
    name: "NTLM logon where Kerberos is the norm",
    description: "An account logged on over the network with NTLM to a host whose network logons are normally Kerberos (possible pass-the-hash).",
};

/// The detector.
pub struct NtlmWhereKerberos;

impl Detector for NtlmWhereKerberos {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.ntlm_where_kerberos;
        let b = input.baseline;
        let mut groups: BTreeMap<(Text, Option<HostKey>, HostKey), Vec<LogonView<'_>>> =
            BTreeMap::new();
        for v in input.logons {
            let e = v.event();
            if e.action != Action::LoggedIn
                || e.logon_type != Some(3)
                || !succeeded(e)
                || !is_ntlm(e)
            {
                continue;
            }
            let v = v.clone();
            let (Some(u), Some(d)) = (&v.user, &v.dst) else {
                continue;
            };
            let (k, n) = b.logon_methods(d);
            if k + n < cfg.kerberos_min_logons || (k as f64) < cfg.kerberos_norm * (k + n) as f64 {
                continue;
            }
            if b.user_ntlm_on(u, d) {
                continue;
            }
            let key = (u.clone(), v.src.clone(), d.clone());
            groups.entry(key).or_default().push(v);
        }
        let mut alerts = Vec::new();
        for ((user, _, dst), views) in groups {
            let Some(first) = views.first() else { continue };
            let (k, n) = b.logon_methods(&dst);
            let score = if b.privileged(&user, None) {
                60.0
            } else {
                50.0
            };
            let mut a = Alert::new(RULE, attack::PASS_THE_HASH, clamp_score(score), first.ts());
            a.source = first.src_ref(input.directory);
            a.destination = first.dst_ref(input.directory);
            a.message = format!(
                "{user} logged on to {} with NTLM from {}; {k} of its {} baseline network logons used Kerberos",
                a.destination
                    .as_ref()
                    .map_or_else(|| dst.to_string(), |h| h.label()),
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                k + n
            );
            a.user = Some(user.to_string());
            a.movement = true;
            for v in &views {
                a.add_evidence(v.evidence());
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
