//! `lateral.brute-force`: a burst of failed logons for one account from
//! one source, then a success.
//!
//! ## What it detects
//! At least `brute_force_failures` failed network logons or Kerberos
//! attempts (refused TGT requests, failed pre-authentications) for one
//! account from one source within `failure_window_minutes`, followed by a
//! successful logon or granted TGT of that account from that source inside
//! the window ([`crate::detect::credential_attempts`]).
//!
//! ## Why it matters
//! A guessed password is a password the attacker now holds: ATT&CK
//! T1110.001 (Password Guessing).
//!
//! ## Evidence
//! The failures and the success.
//!
//! ## False positives
//! A user with caps lock on, a script with an expired password that is
//! then fixed. Five failures in the window is more than people usually make.
//!
//! ## Tuning
//! `[detect.credentials]`: `brute_force_failures`, `failure_window_minutes`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{
    LogonView, clamp_score, failed, failing_sources, log_evidence, lower_text, minutes, succeeded,
};
use crate::detect::{DetectInput, Detector};
use crate::model::HostKey;
use crate::model::event::Text;
use std::collections::BTreeMap;

/// Thresholds of `lateral.brute-force` (keys of the shared `[detect.credentials]`
/// table; see [`super::credentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BruteForceConfig {
    /// Failed logons from one source before a success counts as brute force.
    pub brute_force_failures: usize,
    /// Window for the failures, minutes (shared with the spray).
    pub failure_window_minutes: u64,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            brute_force_failures: 5,
            failure_window_minutes: 30,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.brute-force",
    name: "Failed logons then success",
    description: "A burst of failed logons for one account from one source was followed by a successful logon.",
};

/// The detector.
pub struct BruteForce;

impl Detector for BruteForce {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.brute_force;
        let window = minutes(cfg.failure_window_minutes);
        let need = cfg.brute_force_failures.max(1);
        // A group alerts only on `need` failures: sources with fewer
        // failures in all are not grouped at all (most sources on most days).
        let failures = failing_sources(input.attempts, need);
        if failures.is_empty() {
            return Vec::new();
        }
        let mut groups: BTreeMap<(HostKey, Text), Vec<LogonView<'_>>> = BTreeMap::new();
        for v in input.attempts {
            let e = v.event;
            let (Some(s), Some(u)) = (&v.src, e.user_name.as_deref()) else {
                continue;
            };
            if !failures.contains_key(s) {
                continue;
            }
            groups
                .entry((s.clone(), lower_text(u.trim())))
                .or_default()
                .push(v.clone());
        }
        let mut alerts = Vec::new();
        for ((_, user), views) in groups {
            let mut fails: Vec<usize> = Vec::new();
            for (i, v) in views.iter().enumerate() {
                if failed(v.event) {
                    fails.push(i);
                    continue;
                }
                if !succeeded(v.event) {
                    continue;
                }
                let t = v.event.ts.0;
                let recent: Vec<usize> = fails
                    .iter()
                    .copied()
                    .filter(|j| views.get(*j).is_some_and(|f| t - f.event.ts.0 <= window))
                    .collect();
                if recent.len() >= need {
                    let Some(first) = recent.first().and_then(|j| views.get(*j)) else {
                        continue;
                    };
                    let score = 60.0 + 2.0 * (recent.len() - need) as f64;
                    let mut a = Alert::new(
                        RULE,
                        attack::PASSWORD_GUESSING,
                        clamp_score(score.min(85.0)),
                        first.event.ts,
                    );
                    a.source = v.src_ref(input.directory);
                    a.destination = v.dst_ref(input.directory);
                    a.message = format!(
                        "{} failed logons for {user} from {} then a success on {}",
                        recent.len(),
                        a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                        a.destination
                            .as_ref()
                            .map_or_else(|| "?".into(), |h| h.label())
                    );
                    a.user = Some(user.to_string());
                    a.movement = true;
                    for j in &recent {
                        if let Some(f) = views.get(*j) {
                            a.add_evidence(log_evidence(f.event));
                        }
                    }
                    a.add_evidence(log_evidence(v.event));
                    alerts.push(a.finish());
                }
                fails.clear();
            }
        }
        alerts
    }
}
