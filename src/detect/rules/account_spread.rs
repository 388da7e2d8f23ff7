//! `lateral.account-spread`: one account logs on to many hosts quickly.
//!
//! ## What it detects
//! Successful network logons of one account on at least `spread_hosts`
//! distinct hosts within `spread_window_minutes`, more than twice the
//! most that account reached in an hour of the baseline.
//!
//! ## Why it matters
//! A stolen account (often an admin's) being tried across the estate, or
//! a tool spreading with it: ATT&CK T1078 (Valid Accounts).
//!
//! ## Evidence
//! The first logon on each host inside the busiest window.
//!
//! ## False positives
//! Service and deployment accounts; configure them as
//! `[network] service_accounts`.
//!
//! ## Tuning
//! `[detect.credentials]`: `spread_hosts`, `spread_window_minutes`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{LogonView, busiest_window, clamp_score, minutes, succeeded};
use crate::detect::{DetectInput, Detector};
use crate::model::HostKey;
use crate::model::event::Text;
use crate::model::event::Timestamp;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// Thresholds of `lateral.account-spread` (keys of the shared `[detect.credentials]`
/// table; see [`super::credentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSpreadConfig {
    /// Distinct hosts one account logs on to that count as a spread.
    pub spread_hosts: usize,
    /// Window for the spread, minutes.
    pub spread_window_minutes: u64,
}

impl Default for AccountSpreadConfig {
    fn default() -> Self {
        AccountSpreadConfig {
            spread_hosts: 5,
            spread_window_minutes: 30,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.account-spread",
    name: "Account logging on to many hosts",
    description: "One account logged on over the network to many hosts in a short window, beyond its baseline.",
};

/// The detector.
pub struct AccountSpread;

impl Detector for AccountSpread {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.account_spread;
        let b = input.baseline;
        // An account alerts on `spread_hosts` hosts in a window, so on at
        // least as many logons: accounts with fewer are not grouped at all.
        let need = cfg.spread_hosts.max(2);
        let counted = |v: &&LogonView<'_>| succeeded(v.event()) && v.dst.is_some();
        let mut logons: FxHashMap<&Text, usize> = FxHashMap::default();
        for v in input.logons.iter().filter(counted) {
            if let Some(u) = &v.user {
                *logons.entry(u).or_insert(0) += 1;
            }
        }
        let mut by_user: BTreeMap<Text, Vec<&LogonView<'_>>> = BTreeMap::new();
        for v in input.logons.iter().filter(counted) {
            let Some(u) = &v.user else { continue };
            if logons.get(u).is_none_or(|n| *n < need) || input.config.network.is_service_account(u)
            {
                continue;
            }
            by_user.entry(u.clone()).or_default().push(v);
        }
        let mut alerts = Vec::new();
        for (user, views) in by_user {
            let items: Vec<(Timestamp, Option<HostKey>)> =
                views.iter().map(|v| (v.ts(), v.dst.clone())).collect();
            let (n, lo, hi) = busiest_window(&items, minutes(cfg.spread_window_minutes));
            let usual = b.user_hosts_per_hour(&user);
            if n < cfg.spread_hosts.max(2) || usual * 2 >= n {
                continue;
            }
            let members = views.get(lo..hi).unwrap_or(&[]);
            let Some(first) = members.first() else {
                continue;
            };
            let mut score = 50.0 + 3.0 * (n - cfg.spread_hosts.max(2)) as f64;
            // With no history (role priors), an account spreading from a
            // host whose job is reaching hosts (configured, or seen
            // administering many) is that job: low until a movement joins it.
            let by_job = first.src.as_ref().is_some_and(|k| b.administers_by_job(k));
            if by_job {
                score = score.min(21.0);
            }
            let mut a = Alert::new(
                RULE,
                attack::VALID_ACCOUNTS,
                clamp_score(score.min(85.0)),
                first.ts(),
            );
            a.message = format!(
                "{user} logged on to {n} hosts within {} minutes; its baseline peak was {usual} per hour",
                cfg.spread_window_minutes
            );
            a.user = Some(user.to_string());
            a.source = first.src_ref(input.directory);
            a.routine = by_job;
            let mut seen = BTreeSet::new();
            for v in members {
                if let Some(d) = v.dst_ref(input.directory)
                    && let Some(ip) = d.ip
                {
                    a.related_ips.insert(ip);
                }
                if seen.insert(v.dst.clone()) {
                    a.add_evidence(v.evidence());
                }
            }
            a.evidence_total = members.len();
            alerts.push(a.finish());
        }
        alerts
    }
}
