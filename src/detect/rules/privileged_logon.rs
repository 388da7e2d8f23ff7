//! `lateral.first-privileged-logon`: an account receives special
//! privileges (Windows 4672) on a host for the first time.
//!
//! ## What it detects
//! Event 4672 for a (non-system) account on a host where the baseline
//! never saw that account privileged. An account never privileged anywhere
//! in the baseline scores higher. The source is taken from the account's
//! network logon on that host just before, when there is one.
//!
//! ## Why it matters
//! Admin rights on a new host is what an attacker needs to dump
//! credentials and move on: ATT&CK T1078 (Valid Accounts).
//!
//! ## Evidence
//! The 4672 record and the logon that preceded it.
//!
//! ## False positives
//! An admin's first visit to a server. When the account was already
//! privileged on `routine_privileged_hosts` hosts in the baseline and
//! logged on from an admin host it used before, nothing is raised (the
//! learned and the stored baseline both keep that count). Otherwise a
//! low score on its own; it adds weight when it joins an incident.
//!
//! ## Tuning
//! `[detect.credentials] routine_privileged_hosts`,
//! `[network] service_accounts`, `[allowlist] users`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{LogonView, clamp_score, log_evidence, succeeded, user_of};
use crate::detect::{DetectInput, Detector, Role};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::Text;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Thresholds of `lateral.first-privileged-logon` (keys of the shared `[detect.credentials]`
/// table; see [`super::credentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PrivilegedLogonConfig {
    /// An account already privileged on this many hosts, logging on from an
    /// admin host it used before, gets privileges on one more as routine.
    pub routine_privileged_hosts: usize,
}

impl Default for PrivilegedLogonConfig {
    fn default() -> Self {
        PrivilegedLogonConfig {
            routine_privileged_hosts: 2,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.first-privileged-logon",
    name: "First privileged logon on a host",
    description: "An account received special privileges (4672) on a host where the baseline never saw it privileged.",
};

/// The detector.
pub struct PrivilegedLogon;

impl Detector for PrivilegedLogon {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let b = input.baseline;
        if b.period().is_none() {
            return Vec::new();
        }
        // Most logs carry no Windows special-privileges events at all.
        if !input
            .events
            .iter()
            .any(|e| e.action == Action::SpecialPrivilegesAssigned)
        {
            return Vec::new();
        }
        let dir = input.directory;
        // The last remote logon per (host, user), to find where a privilege
        // came from (looked up, never iterated into output).
        let mut last_logon: FxHashMap<(HostKey, Text), &LogonView<'_>> = FxHashMap::default();
        let mut groups: BTreeMap<(Text, HostKey), Vec<&crate::model::event::LogEvent>> =
            BTreeMap::new();
        let mut sources: BTreeMap<(Text, HostKey), &LogonView<'_>> = BTreeMap::new();
        // The remote logons are resolved already (`DetectInput::logons`,
        // every one of them, in event order): walk them beside the events,
        // the held ones (not among the events) by run order.
        let mut logons = input.logons.iter().peekable();
        for e in input.events {
            while let Some(v) = logons.next_if(|v| v.is_held() && v.before(e)) {
                note(&mut last_logon, v);
            }
            if let Some(v) = logons.next_if(|v| v.is(e)) {
                note(&mut last_logon, v);
                continue;
            }
            if e.action != Action::SpecialPrivilegesAssigned {
                continue;
            }
            let Some(user) = user_of(e) else { continue };
            let Some(host) = dir.key(e.host_ip, e.host_name.as_deref()) else {
                continue;
            };
            if input.config.network.is_service_account(&user) || b.privileged(&user, Some(&host)) {
                continue;
            }
            let key = (user, host);
            if let Some(l) = last_logon.get(&(key.1.clone(), key.0.clone()))
                && e.ts.0 - l.ts().0 <= 10_000_000_000
            {
                sources.entry(key.clone()).or_insert(l);
            }
            groups.entry(key).or_default().push(e);
        }
        let routine = input
            .config
            .detect
            .privileged_logon
            .routine_privileged_hosts
            .max(1);
        let mut alerts = Vec::new();
        for ((user, host), events) in groups {
            let Some(first) = events.first() else {
                continue;
            };
            let src = sources.get(&(user.clone(), host.clone()));
            // An admin account already privileged on several hosts, logging
            // on from an admin host it always uses, administers one more.
            let from_its_admin_host = src.map(|l| l.event()).is_some_and(|l| {
                l.source_ip.is_some_and(|ip| b.role(ip) == Role::AdminHost)
                    && dir
                        .key(l.source_ip, l.source_domain.as_deref())
                        .is_some_and(|s| b.user_from(&user, &s))
            });
            if from_its_admin_host
                && input
                    .baseline
                    .privileged_hosts(&user)
                    .is_some_and(|n| n >= routine)
            {
                continue;
            }
            let elsewhere = b.privileged(&user, None);
            let score = if elsewhere { 20.0 } else { 35.0 };
            let mut a = Alert::new(RULE, attack::VALID_ACCOUNTS, clamp_score(score), first.ts);
            a.destination = dir.host(first.host_ip, first.host_name.as_deref());
            if let Some(l) = src {
                a.source = dir.host(l.event().source_ip, l.event().source_domain.as_deref());
                a.add_evidence(l.evidence());
            }
            a.message = format!(
                "{user} received special privileges on {} for the first time{}{}",
                a.destination
                    .as_ref()
                    .map_or_else(|| host.to_string(), |h| h.label()),
                if elsewhere {
                    ""
                } else {
                    " (never privileged anywhere in the baseline)"
                },
                a.source
                    .as_ref()
                    .map_or_else(String::new, |s| format!(", logged on from {}", s.label()))
            );
            a.user = Some(user.to_string());
            for e in events {
                a.add_evidence(log_evidence(e));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}

/// Notes `v` as the last logon of its account on its destination, when
/// it succeeded.
fn note<'b, 'a>(last: &mut FxHashMap<(HostKey, Text), &'b LogonView<'a>>, v: &'b LogonView<'a>) {
    if succeeded(v.event())
        && let (Some(d), Some(u)) = (&v.dst, &v.user)
    {
        last.insert((d.clone(), u.clone()), v);
    }
}
