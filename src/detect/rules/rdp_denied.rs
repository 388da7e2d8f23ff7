//! `lateral.rdp-denied`: a Remote Desktop connection refused although its
//! password was right, read from the target's Security log alone (no
//! baseline).
//!
//! ## What it detects
//! Each 4825 ("A user was denied the access to Remote Desktop"): the
//! account authenticated, but is not allowed to log on through Remote
//! Desktop Services. One alert per source, target and account.
//!
//! ## Why it matters
//! The caller holds valid credentials and is trying them over RDP on a
//! host they are not meant to reach: an attacker testing stolen
//! credentials for the next hop, ATT&CK T1021.001 (Remote Desktop
//! Protocol) with T1078 (Valid Accounts).
//!
//! ## Evidence
//! The 4825 records.
//!
//! ## False positives
//! A user who was never added to "Remote Desktop Users" on a host they do
//! need; it recurs on the same host and is fixed by a group change. Scored
//! medium, higher when one source is refused for several accounts.
//!
//! ## Tuning
//! None; `[allowlist]` sources or users silence a known case.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, log_evidence, user_of};
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::{LogEvent, Text};
use std::collections::{BTreeMap, BTreeSet};

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.rdp-denied",
    name: "Denied RDP with valid credentials",
    description: "A Remote Desktop connection authenticated but was refused: the account may not log on over RDP there (4825).",
};

/// The detector.
pub struct RdpDenied;

impl Detector for RdpDenied {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        type Key = (Option<HostKey>, HostKey, Text);
        let mut groups: BTreeMap<Key, Vec<&LogEvent>> = BTreeMap::new();
        for e in input.events {
            if e.action != Action::RdpAccessDenied {
                continue;
            }
            let Some(host) = dir.key(e.host_ip, e.host_name.as_deref()) else {
                continue;
            };
            let src = dir.key(e.source_ip, e.source_domain.as_deref());
            let user = user_of(e).unwrap_or_default();
            groups.entry((src, host, user)).or_default().push(e);
        }
        // Accounts refused per source, to score a source trying several.
        let mut accounts: BTreeMap<&Option<HostKey>, BTreeSet<&Text>> = BTreeMap::new();
        for (src, _, user) in groups.keys() {
            if src.is_some() {
                accounts.entry(src).or_default().insert(user);
            }
        }
        let mut alerts = Vec::new();
        for ((src, host, user), events) in &groups {
            let Some(first) = events.first() else {
                continue;
            };
            let tried = accounts.get(src).map_or(1, BTreeSet::len);
            let score = 45.0 + 5.0 * (tried.saturating_sub(1)).min(6) as f64;
            let mut a = Alert::new(RULE, attack::RDP, clamp_score(score), first.ts);
            a.source = dir.host(first.source_ip, first.source_domain.as_deref());
            a.destination = dir
                .host(first.host_ip, first.host_name.as_deref())
                .or_else(|| Some(dir.host_of(host)));
            if !user.is_empty() {
                a.user = Some(user.to_string());
            }
            a.message = format!(
                "{} RDP connection{} as {} from {} refused on {} after a valid password (4825){}",
                events.len(),
                if events.len() == 1 { "" } else { "s" },
                if user.is_empty() { "?" } else { user.as_str() },
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                a.destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label()),
                if tried > 1 {
                    format!("; {tried} accounts refused from that source")
                } else {
                    String::new()
                }
            );
            for e in events {
                a.add_evidence(log_evidence(e));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
