//! `lateral.dcsync`: an account that is not a domain controller asked a
//! domain controller to replicate directory secrets, read from the
//! controller's Security log (4662) alone: no baseline.
//!
//! ## What it detects
//! A directory-replication request (4662 whose properties hold the
//! replication rights `DS-Replication-Get-Changes` 1131f6aa-…,
//! `DS-Replication-Get-Changes-All` 1131f6ad-… or
//! `DS-Replication-Get-Changes-In-Filtered-Set` 89e95b76-…) by an account
//! that is not a computer account (controllers replicate as their own
//! `NAME$`) and not a configured service account. The source is the
//! latest network logon of that account on the controller within
//! `window_minutes` before the request, when the log holds one.
//!
//! ## Why it matters
//! DCSync (Mimikatz `lsadump::dcsync`, Impacket `secretsdump`) pulls every
//! password hash, `krbtgt`'s included, from anywhere on the network:
//! ATT&CK T1003.006 (OS Credential Dumping: DCSync).
//!
//! ## Evidence
//! The replication requests and the logon.
//!
//! ## False positives
//! Azure AD Connect's `MSOL_…` account and other directory synchronisers
//! replicate by design: list them in `[network] service_accounts`.
//!
//! ## Tuning
//! `[detect.remote_exec] window_minutes` (how far back the logon is
//! looked for); `[network] service_accounts`.

use crate::alert::{Alert, Rule, Technique};
use crate::detect::common::{clamp_score, log_evidence, minutes, succeeded, user_of};
use crate::detect::{DetectInput, Detector};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::{LogEvent, Text};
use std::collections::BTreeMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.dcsync",
    name: "DCSync by a non-DC account",
    description: "An account that is not a domain controller requested directory replication (4662 with the replication rights).",
};

/// T1003.006: OS Credential Dumping: DCSync.
pub const DCSYNC: Technique = Technique {
    tactic: "Credential Access",
    id: "T1003.006",
    name: "OS Credential Dumping: DCSync",
};

/// The detector.
pub struct DcSync;

impl Detector for DcSync {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        let net = &input.config.network;
        let window = minutes(input.config.detect.remote_exec.window_minutes);
        let mut groups: BTreeMap<(HostKey, Text), Vec<&LogEvent>> = BTreeMap::new();
        for e in input.events {
            if e.action != Action::DirectoryReplicationRequested {
                continue;
            }
            // Computer accounts (the controllers themselves) are no person.
            let Some(user) = user_of(e) else { continue };
            if net.is_service_account(&user) {
                continue;
            }
            let Some(host) = dir.key(e.host_ip, e.host_name.as_deref()) else {
                continue;
            };
            groups.entry((host, user)).or_default().push(e);
        }
        let mut alerts = Vec::new();
        for ((host, user), events) in groups {
            let Some(first) = events.first() else {
                continue;
            };
            // The account's latest network logon on the controller before it.
            let logon = input.logons.iter().rfind(|v| {
                succeeded(v.event())
                    && v.dst.as_ref() == Some(&host)
                    && v.user.as_ref() == Some(&user)
                    && v.ts() <= first.ts
                    && first.ts.0.saturating_sub(v.ts().0) <= window
            });
            let mut a = Alert::new(RULE, DCSYNC, clamp_score(85.0), first.ts);
            a.source = logon.and_then(|v| v.src_ref(dir));
            a.destination = dir
                .host(first.host_ip, first.host_name.as_deref())
                .or_else(|| Some(dir.host_of(&host)));
            a.user = Some(user.to_string());
            let rights: std::collections::BTreeSet<&str> = events
                .iter()
                .filter_map(|e| e.label("replication_rights"))
                .flat_map(str::split_whitespace)
                .collect();
            a.message = format!(
                "{user} requested directory replication ({}) from {}{}, and is no domain controller",
                rights.into_iter().collect::<Vec<_>>().join(", "),
                a.destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label()),
                a.source.as_ref().map_or_else(String::new, |s| format!(
                    " after a network logon from {}",
                    s.label()
                ))
            );
            a.movement = a.source.is_some();
            if let Some(l) = logon {
                a.add_evidence(l.evidence());
            }
            for e in &events {
                a.add_evidence(log_evidence(e));
            }
            a.evidence_total = events.len() + usize::from(logon.is_some());
            alerts.push(a.finish());
        }
        alerts
    }
}
