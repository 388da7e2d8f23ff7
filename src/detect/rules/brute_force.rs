//! `lateral.brute-force`: a burst of failed logons for one account from
//! one source, then a success; or a burst dense enough to be a tool's,
//! with no success at all.
//!
//! ## What it detects
//! At least `brute_force_failures` failed network logons (4625), Kerberos
//! attempts (refused TGT requests 4768, failed pre-authentications 4771)
//! or NTLM validations refused at a domain controller (4776) for one
//! account from one source within `failure_window_minutes`, followed by a
//! successful logon or granted TGT of that account from that source inside
//! the window ([`crate::detect::credential_attempts`]).
//!
//! Without a success: at least [`GUESSING_FAILURES`] such failures, or
//! explicit-credential logons (4648, whose outcome Windows does not write;
//! source the host that wrote it, target the server it names), for one
//! account from one source within [`GUESSING_BURST_SECS`] seconds, a pace
//! no person typing and no service retrying an expired password keeps (a
//! guessing tool makes several a second). Reported at medium: the attacker
//! holds no password yet, but is trying (a Kerberos pre-authentication
//! brute force at a domain controller, 3,000 failures for Administrator).
//!
//! A shorter burst, `brute_force_failures` (5, the usual lockout
//! threshold) within the same span, is reported at low when every failure
//! in it is one no stale saved credential makes: a password sent in clear
//! to the server (logon type 8: OpenSSH on Windows, basic authentication),
//! which someone or something entered, or an account that does not exist
//! (status 0xC0000064). A mapped drive or a service retrying an old
//! password fails over NTLM or Kerberos (type 3) for an account that
//! exists, and stays under the ten-failure bar. When the log holds no
//! source (OpenSSH on Windows writes none; its workstation field names the
//! server itself), the alert names only the target and says so.
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
//! then fixed. Five failures in the window is more than people usually make;
//! ten within a minute is more than any retry loop makes.
//!
//! ## Tuning
//! `[detect.credentials]`: `brute_force_failures`, `failure_window_minutes`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{
    LogonView, clamp_score, failed, failed_attempt, failing_sources, is_explicit, lower_text,
    minutes, succeeded_attempt,
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
    name: "Password guessing",
    description: "A burst of failed logons for one account from one source, followed by a successful logon or too fast for a person.",
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
        // Failures whose log records no source (OpenSSH on Windows, a
        // 4625 with neither address nor workstation) group by their target.
        let unsourced = input
            .attempts
            .iter()
            .filter(|v| v.src.is_none() && v.dst.is_some() && failed_attempt(v.event()))
            .count();
        if failures.is_empty() && unsourced < need {
            return Vec::new();
        }
        let mut groups: BTreeMap<(HostKey, Text), Vec<LogonView<'_>>> = BTreeMap::new();
        for v in input.attempts {
            let e = v.event();
            let (Some(s), Some(u)) = (v.src.as_ref().or(v.dst.as_ref()), e.user_name.as_deref())
            else {
                continue;
            };
            if v.src.is_some() && !failures.contains_key(s) {
                continue;
            }
            groups
                .entry((s.clone(), lower_text(u.trim())))
                .or_default()
                .push((*v).clone());
        }
        let mut alerts = Vec::new();
        for ((_, user), views) in groups {
            if !success_after_failure(&views) {
                guessing_burst(input, &user, &views, &mut alerts);
            }
            let mut fails: Vec<usize> = Vec::new();
            for (i, v) in views.iter().enumerate() {
                if failed(v.event()) {
                    fails.push(i);
                    continue;
                }
                if !succeeded_attempt(v.event()) {
                    continue;
                }
                let t = v.ts().0;
                let recent: Vec<usize> = fails
                    .iter()
                    .copied()
                    .filter(|j| views.get(*j).is_some_and(|f| t - f.ts().0 <= window))
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
                        first.ts(),
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
                            a.add_evidence(f.evidence());
                        }
                    }
                    a.add_evidence(v.evidence());
                    alerts.push(a.finish());
                }
                fails.clear();
            }
        }
        alerts
    }
}

/// Failures without a success that make a guessing burst.
pub const GUESSING_FAILURES: usize = 10;

/// The span a guessing burst fits in, seconds.
pub const GUESSING_BURST_SECS: i64 = 60;

/// How a message names failed attempts: "failed logons", or, when
/// explicit-credential logons (4648, outcome unknown) are among them,
/// "failed or explicit-credential logons".
pub fn attempt_words<'a>(
    mut events: impl Iterator<Item = &'a crate::model::event::LogEvent>,
) -> &'static str {
    if events.any(is_explicit) {
        "failed or explicit-credential logons"
    } else {
        "failed logons"
    }
}

/// Whether a success follows any failure among `views` (time order).
fn success_after_failure(views: &[LogonView<'_>]) -> bool {
    let mut failed_before = false;
    for v in views {
        if failed(v.event()) {
            failed_before = true;
        } else if failed_before && succeeded_attempt(v.event()) {
            return true;
        }
    }
    false
}

/// An alert for the densest run of failures of `views` (one account from
/// one source, in time order, never followed by a success) when it holds
/// at least [`GUESSING_FAILURES`] within [`GUESSING_BURST_SECS`].
fn guessing_burst(
    input: &DetectInput<'_>,
    user: &str,
    views: &[LogonView<'_>],
    alerts: &mut Vec<Alert>,
) {
    let fails: Vec<&LogonView<'_>> = views.iter().filter(|v| failed_attempt(v.event())).collect();
    let (best, best_lo) = densest_run(&fails);
    let run = fails.get(best_lo..best_lo + best).unwrap_or(&[]);
    // The shorter burst counts only when no failure in it can be a saved
    // credential's retry.
    let telltale = best < GUESSING_FAILURES;
    let need = input.config.detect.brute_force.brute_force_failures.max(2);
    if telltale && (best < need || !run.iter().all(|v| entered_or_unknown(v.event()))) {
        return;
    }
    let run = fails.get(best_lo..best_lo + best).unwrap_or(&[]);
    let (Some(first), Some(last)) = (run.first(), run.last()) else {
        return;
    };
    let secs = (last.ts().0 - first.ts().0) as f64 / 1e9;
    let score = if telltale {
        20.0 + best as f64
    } else {
        40.0 + (best as f64 / GUESSING_FAILURES as f64).log2() * 4.0
    };
    let mut a = Alert::new(
        RULE,
        attack::PASSWORD_GUESSING,
        clamp_score(score.min(if telltale { 24.0 } else { 49.0 })),
        first.ts(),
    );
    a.source = first.src_ref(input.directory);
    a.destination = first.dst_ref(input.directory);
    // A source that is the target itself is no source: OpenSSH on Windows
    // writes the server's own name as the workstation.
    let unrecorded = first.src.is_none() || first.src == first.dst;
    if unrecorded {
        a.source = None;
    }
    let from = if unrecorded {
        "from a source the log does not record".to_string()
    } else {
        format!(
            "from {}",
            a.source.as_ref().map_or_else(|| "?".into(), |h| h.label())
        )
    };
    let why = if !telltale {
        "a guessing tool's pace".to_string()
    } else if run.iter().all(|v| unknown_account(v.event())) {
        "an account that does not exist, again and again".to_string()
    } else {
        "passwords sent in clear (logon type 8), not a saved credential's retry".to_string()
    };
    a.message = format!(
        "{best} {} for {user} {from} on {} within {secs:.0} s and no success: {why}",
        attempt_words(run.iter().map(|v| v.event())),
        a.destination
            .as_ref()
            .map_or_else(|| "?".into(), |h| h.label())
    );
    a.user = Some(user.to_string());
    for f in run {
        a.add_evidence(f.evidence());
    }
    a.evidence_total = fails.len();
    alerts.push(a.finish());
}

/// The most failures of `fails` (time order) inside any
/// [`GUESSING_BURST_SECS`] span: (count, index of the first).
fn densest_run(fails: &[&LogonView<'_>]) -> (usize, usize) {
    let span = GUESSING_BURST_SECS.saturating_mul(1_000_000_000);
    let (mut best, mut best_lo, mut lo) = (0usize, 0usize, 0usize);
    for hi in 0..fails.len() {
        let Some(end) = fails.get(hi).map(|v| v.ts().0) else {
            break;
        };
        while fails
            .get(lo)
            .is_some_and(|v| end.saturating_sub(v.ts().0) > span)
        {
            lo += 1;
        }
        if hi + 1 - lo > best {
            best = hi + 1 - lo;
            best_lo = lo;
        }
    }
    (best, best_lo)
}

/// A failure no stale saved credential makes: a password sent in clear
/// to the server (logon type 8), or an account that does not exist.
fn entered_or_unknown(e: &crate::model::event::LogEvent) -> bool {
    e.logon_type == Some(8) || unknown_account(e)
}

/// A failure for an account that does not exist (NTSTATUS 0xC0000064,
/// in 4625's sub-status or 4776's error code).
fn unknown_account(e: &crate::model::event::LogEvent) -> bool {
    e.status()
        .is_some_and(|s| s.to_ascii_lowercase().contains("c0000064"))
}
