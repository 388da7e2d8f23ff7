//! `lateral.password-spray`: one source fails to log on as many accounts.
//!
//! ## What it detects
//! Failed network logons (4625), refused Kerberos TGT requests (4768),
//! failed Kerberos pre-authentications (4771), NTLM validations refused
//! at a domain controller (4776) and explicit-credential logons (4648,
//! outcome unknown; source the host that wrote it) for at least
//! `spray_accounts` distinct accounts from one source within
//! `failure_window_minutes` ([`crate::detect::credential_attempts`]): a
//! spray against the domain controllers (Kerbrute and the like) leaves
//! only the Kerberos or NTLM records, one run from a foothold with `net
//! use` or `runas` only the foothold's 4648s.
//! A success from the same source in that window (a logon or a granted
//! TGT) raises the score: a password worked.
//!
//! ## Why it matters
//! Spraying tries one common password against many accounts to stay under
//! lockout thresholds: ATT&CK T1110.003 (Password Spraying).
//!
//! ## Evidence
//! The first failure per account, and any success.
//!
//! ## False positives
//! A shared kiosk or a misconfigured proxy that relays many users'
//! failures from one address; a terminal server whose clock drifted, so
//! that the controllers refuse every user's pre-authentication.
//!
//! ## Tuning
//! `[detect.credentials]`: `spray_accounts`, `failure_window_minutes`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{
    LogonView, busiest_window, clamp_score, failed_attempt, failing_sources, minutes,
    succeeded_attempt,
};
use crate::detect::{DetectInput, Detector};
use crate::model::HostKey;
use crate::model::event::Text;
use crate::model::event::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// Thresholds of `lateral.password-spray` (keys of the shared `[detect.credentials]`
/// table; see [`super::credentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SprayConfig {
    /// Distinct accounts failing from one source that count as a spray.
    pub spray_accounts: usize,
    /// Window for the failures, minutes (shared with brute force).
    pub failure_window_minutes: u64,
}

impl Default for SprayConfig {
    fn default() -> Self {
        SprayConfig {
            spray_accounts: 5,
            failure_window_minutes: 30,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.password-spray",
    name: "Password spray",
    description: "One source failed to log on as many distinct accounts in a short window.",
};

/// The detector.
pub struct Spray;

impl Detector for Spray {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.spray;
        let window = minutes(cfg.failure_window_minutes);
        // A spray takes failures for `spray_accounts` accounts: sources with
        // fewer failures in all are not grouped at all.
        let need = cfg.spray_accounts.max(2);
        let failures = failing_sources(input.attempts, need);
        if failures.is_empty() {
            return Vec::new();
        }
        let mut by_src: BTreeMap<HostKey, Vec<LogonView<'_>>> = BTreeMap::new();
        for v in input.attempts {
            let Some(s) = &v.src else { continue };
            if failures.contains_key(s) {
                by_src.entry(s.clone()).or_default().push((*v).clone());
            }
        }
        let mut alerts = Vec::new();
        for (_, views) in by_src {
            let failures: Vec<&LogonView<'_>> =
                views.iter().filter(|v| failed_attempt(v.event())).collect();
            let items: Vec<(Timestamp, String)> = failures
                .iter()
                .map(|v| {
                    let u = v
                        .event()
                        .user_name
                        .as_deref()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase();
                    (v.ts(), u)
                })
                .collect();
            let (n, lo, hi) = busiest_window(&items, window);
            if n < cfg.spray_accounts.max(2) {
                continue;
            }
            let members = failures.get(lo..hi).unwrap_or(&[]);
            let (Some(first), Some(last)) = (members.first(), members.last()) else {
                continue;
            };
            let success: Vec<&LogonView<'_>> = views
                .iter()
                .filter(|v| {
                    succeeded_attempt(v.event())
                        && v.ts() >= first.ts()
                        && v.ts().0 - last.ts().0 <= window
                })
                .collect();
            let mut score = 55.0 + 2.0 * (n - cfg.spray_accounts.max(2)) as f64;
            if !success.is_empty() {
                score += 15.0;
            }
            let mut a = Alert::new(
                RULE,
                attack::PASSWORD_SPRAYING,
                clamp_score(score.min(90.0)),
                first.ts(),
            );
            a.source = first.src_ref(input.directory);
            let mut dsts = BTreeSet::new();
            let mut seen = BTreeSet::new();
            for v in members {
                if let Some(d) = v.dst_ref(input.directory) {
                    if let Some(ip) = d.ip {
                        a.related_ips.insert(ip);
                    }
                    dsts.insert(d);
                }
                if let Some(u) = v.event().user_name.as_deref()
                    && seen.insert(u.to_ascii_lowercase())
                {
                    a.related_users.insert(u.trim().to_string());
                    a.add_evidence(v.evidence());
                }
            }
            if dsts.len() == 1 {
                a.destination = dsts.into_iter().next();
            }
            let winners: BTreeSet<Text> = success.iter().filter_map(|v| v.user.clone()).collect();
            for v in &success {
                a.add_evidence(v.evidence());
            }
            if let Some(w) = winners.iter().next() {
                a.user = Some(w.to_string());
                a.movement = true;
            }
            a.evidence_total = members.len() + success.len();
            a.message = format!(
                "{} {} for {n} accounts from {}{}",
                members.len(),
                super::brute_force::attempt_words(members.iter().map(|v| v.event())),
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                if winners.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", then a success as {}",
                        winners.into_iter().collect::<Vec<_>>().join(", ")
                    )
                }
            );
            alerts.push(a.finish());
        }
        alerts
    }
}
