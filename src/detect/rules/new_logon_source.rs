//! `lateral.new-logon-source`: an account logs on over the network from a
//! host it never logged on from in the baseline.
//!
//! ## What it detects
//! A successful network or remote-interactive logon (Windows 4624 types 3,
//! 8, 10; sshd `Accepted`) of a known account from a source host that
//! account never used. Accounts that roam over many sources score lower.
//!
//! ## Why it matters
//! Stolen credentials are used from the attacker's foothold, not from the
//! owner's desk: ATT&CK T1078 (Valid Accounts).
//!
//! ## Evidence
//! The logon records (event code, host, source, logon type, method).
//!
//! ## False positives
//! A user at a colleague's desk, a new laptop, a help-desk session.
//! Unknown accounts (new hires) are not flagged; service accounts are
//! skipped.
//!
//! ## Tuning
//! `[network] service_accounts`; `[allowlist] users`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{LogonView, baseline_span, clamp_score, succeeded};
use crate::detect::{DetectInput, Detector};
use crate::model::HostKey;
use crate::model::event::Text;
use std::collections::BTreeMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.new-logon-source",
    name: "Logon from a new source host",
    description: "An account logged on over the network from a host it never logged on from in the baseline.",
};

/// The detector.
pub struct NewLogonSource;

impl Detector for NewLogonSource {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let b = input.baseline;
        if b.period().is_none() {
            return Vec::new();
        }
        let net = &input.config.network;
        let mut groups: BTreeMap<(Text, HostKey, HostKey), Vec<LogonView<'_>>> = BTreeMap::new();
        for v in input.logons {
            if !succeeded(v.event()) {
                continue;
            }
            let (Some(u), Some(s), Some(d)) = (&v.user, &v.src, &v.dst) else {
                continue;
            };
            if !v.is_between_hosts()
                || net.is_service_account(u)
                || !b.user_known(u)
                || b.user_from(u, s)
            {
                continue;
            }
            groups
                .entry((u.clone(), s.clone(), d.clone()))
                .or_default()
                .push(v.clone());
        }
        let mut alerts = Vec::new();
        for ((user, src, dst), views) in groups {
            let Some(first) = views.first() else { continue };
            let sources = b.user_source_count(&user);
            let mut score = 40.0 / (1.0 + sources as f64 / 5.0);
            let new_edge = !b.logon_edge(&src, &dst);
            if new_edge {
                score += 10.0;
            }
            let mut a = Alert::new(RULE, attack::VALID_ACCOUNTS, clamp_score(score), first.ts());
            let s = first.src_ref(input.directory);
            let d = first.dst_ref(input.directory);
            a.message = format!(
                "{user} logged on to {} from {}, a host it never used in {} (it used {sources} other source{}){}",
                d.as_ref().map_or_else(|| dst.to_string(), |h| h.label()),
                s.as_ref().map_or_else(|| src.to_string(), |h| h.label()),
                baseline_span(b),
                if sources == 1 { "" } else { "s" },
                if new_edge {
                    "; no account logged on between these hosts before"
                } else {
                    ""
                }
            );
            a.source = s;
            a.destination = d;
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
