//! `lateral.kerberoast`: one account asks a domain controller for RC4
//! service tickets to several services in a burst, read from the
//! controller's Security log (4769) alone: no baseline.
//!
//! ## What it detects
//! Granted service tickets (4769) encrypted with RC4-HMAC (ticket
//! encryption type 0x17) for at least [`KERBEROAST_SERVICES`] distinct
//! services, neither `krbtgt` nor computer accounts (`NAME$`), for one
//! account from one source within [`KERBEROAST_WINDOW_SECS`] seconds.
//!
//! ## Why it matters
//! An RC4 ticket is encrypted with the service account's password hash
//! and can be cracked offline; tools (Rubeus, `GetUserSPNs`) ask for one
//! per service account at once, and ask for RC4 because it cracks fastest:
//! ATT&CK T1558.003 (Steal or Forge Kerberos Tickets: Kerberoasting).
//!
//! ## Evidence
//! The service tickets, one per service.
//!
//! ## False positives
//! Domains where old clients or service accounts still only do RC4 request
//! such tickets all day, but one client asking for several services'
//! tickets within seconds remains rare; such a client can be allowlisted.
//!
//! ## Tuning
//! The thresholds are constants of this rule; `[allowlist]` sources or
//! users silence a known client.

use crate::alert::{Alert, Rule, Technique};
use crate::detect::common::{busiest_window, clamp_score, log_evidence, succeeded};
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::{LogEvent, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// Distinct services with RC4 tickets that make a burst.
pub const KERBEROAST_SERVICES: usize = 3;

/// The span a burst fits in, seconds.
pub const KERBEROAST_WINDOW_SECS: i64 = 600;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.kerberoast",
    name: "Kerberoasting",
    description: "One account requested RC4 service tickets for several services within minutes.",
};

/// T1558.003: Steal or Forge Kerberos Tickets: Kerberoasting.
pub const KERBEROASTING: Technique = Technique {
    tactic: "Credential Access",
    id: "T1558.003",
    name: "Steal or Forge Kerberos Tickets: Kerberoasting",
};

/// The detector.
pub struct Kerberoast;

/// True for a granted RC4 service ticket to a service account.
pub(crate) fn is_rc4_service_ticket(e: &LogEvent) -> bool {
    if e.action != Action::KerberosServiceTicket || !succeeded(e) {
        return false;
    }
    let rc4 = e
        .label("ticket_encryption_type")
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("0x17") || t.trim() == "23");
    let service = e.service_name().map(str::trim).unwrap_or("");
    // Zeek names the service by its principal (`krbtgt/REALM`).
    let krbtgt = service
        .get(..6)
        .is_some_and(|h| h.eq_ignore_ascii_case("krbtgt"))
        && service
            .get(6..)
            .is_none_or(|r| r.is_empty() || r.starts_with('/'));
    rc4 && !service.is_empty() && !service.ends_with('$') && !krbtgt
}

/// The account of a ticket request, lower case, without its `@REALM`.
fn account(e: &LogEvent) -> Option<String> {
    let u = e.user_name.as_deref()?.trim();
    let u = u.split('@').next().unwrap_or(u);
    (!crate::detect::common::is_system_account(u)).then(|| u.to_ascii_lowercase())
}

impl Detector for Kerberoast {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        type Key = (Option<HostKey>, String);
        let mut groups: BTreeMap<Key, Vec<&LogEvent>> = BTreeMap::new();
        for e in input.events {
            if !is_rc4_service_ticket(e) {
                continue;
            }
            let Some(user) = account(e) else { continue };
            let src = dir.key(e.source_ip, e.source_domain.as_deref());
            groups.entry((src, user)).or_default().push(e);
        }
        let span = KERBEROAST_WINDOW_SECS.saturating_mul(1_000_000_000);
        let mut alerts = Vec::new();
        for ((_, user), events) in groups {
            let items: Vec<(Timestamp, String)> = events
                .iter()
                .map(|e| {
                    let s = e.service_name().unwrap_or("").trim().to_ascii_lowercase();
                    (e.ts, s)
                })
                .collect();
            let (n, lo, hi) = busiest_window(&items, span);
            if n < KERBEROAST_SERVICES {
                continue;
            }
            let burst = events.get(lo..hi).unwrap_or(&[]);
            let Some(first) = burst.first() else { continue };
            let score = 70.0 + 3.0 * (n - KERBEROAST_SERVICES).min(5) as f64;
            let mut a = Alert::new(RULE, KERBEROASTING, clamp_score(score), first.ts);
            a.source = dir.host(first.source_ip, first.source_domain.as_deref());
            a.destination = dir.host(first.host_ip, first.host_name.as_deref());
            a.user = Some(user.clone());
            let mut services = BTreeSet::new();
            for e in burst {
                if let Some(s) = e.service_name()
                    && services.insert(s.trim().to_ascii_lowercase())
                {
                    a.add_evidence(log_evidence(e));
                }
            }
            a.evidence_total = burst.len();
            a.message = format!(
                "{user} from {} got RC4 service tickets for {n} services ({}) from {}",
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                services.into_iter().collect::<Vec<_>>().join(", "),
                a.destination
                    .as_ref()
                    .map_or_else(|| "?".into(), |h| h.label())
            );
            alerts.push(a.finish());
        }
        alerts
    }
}
