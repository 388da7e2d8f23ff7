//! `lateral.explicit-credentials`: an account's password is used
//! explicitly (Windows 4648) for a server, a combination the baseline
//! never had.
//!
//! ## What it detects
//! Event 4648 ("a logon was attempted using explicit credentials") where
//! the (subject account, target account, target server) triple never
//! occurred in the baseline and the target is another host.
//!
//! ## Why it matters
//! `runas /netonly`, `net use \\host /user:`, PsExec `-u` and many tools
//! pass stolen passwords this way: ATT&CK T1078 (Valid Accounts).
//!
//! ## Evidence
//! The 4648 records.
//!
//! ## False positives
//! Scheduled tasks and scripts that log on elsewhere with stored
//! credentials; they recur and so are in the baseline.
//!
//! ## Tuning
//! `[network] service_accounts`, `[allowlist] users`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, log_evidence, user_of};
use crate::detect::directory::short_name;
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::event::LogEvent;
use crate::model::event::Text;
use std::collections::BTreeMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.explicit-credentials",
    name: "New use of explicit credentials",
    description: "Explicit credentials (4648) of an account were used for a server, a combination not seen in the baseline.",
};

/// The detector.
pub struct ExplicitCredentials;

impl Detector for ExplicitCredentials {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let b = input.baseline;
        let net = &input.config.network;
        let mut groups: BTreeMap<(String, Text, String, String), Vec<&LogEvent>> = BTreeMap::new();
        for e in input.events {
            if e.action != Action::ExplicitCredentialLogon {
                continue;
            }
            let Some(user) = user_of(e) else { continue };
            let Some(server) = e.destination_domain.as_deref().map(short_name) else {
                continue;
            };
            let host = e.host_name.as_deref().map(short_name).unwrap_or_default();
            if server.is_empty()
                || server == "localhost"
                || server == host
                || net.is_service_account(&user)
            {
                continue;
            }
            let subject = e.subject_user().unwrap_or("").to_ascii_lowercase();
            let server_key = input.directory.key(None, Some(&server));
            if server_key.is_some_and(|k| b.explicit_seen(&subject, &user, &k)) {
                continue;
            }
            groups
                .entry((subject, user, server, host))
                .or_default()
                .push(e);
        }
        let mut alerts = Vec::new();
        for ((subject, user, server, _), events) in groups {
            let Some(first) = events.first() else {
                continue;
            };
            let mut score = 30.0;
            if b.privileged(&user, None) {
                score += 10.0;
            }
            if subject != user && !subject.is_empty() {
                score += 5.0;
            }
            let mut a = Alert::new(RULE, attack::VALID_ACCOUNTS, clamp_score(score), first.ts);
            a.source = input
                .directory
                .host(first.host_ip, first.host_name.as_deref());
            a.destination = input.directory.host(first.destination_ip, Some(&server));
            a.message = format!(
                "{} used explicit credentials of {user} for {server} on {}, never seen in the baseline",
                if subject.is_empty() {
                    "an account"
                } else {
                    subject.as_str()
                },
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label())
            );
            a.user = Some(user.to_string());
            if !subject.is_empty() {
                a.related_users.insert(subject);
            }
            a.movement = true;
            for e in events {
                a.add_evidence(log_evidence(e));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
