//! `lateral.ldap-recon`: a host that is neither a domain controller nor an
//! admin host searched the directory over LDAP for what an intruder maps
//! before moving: privileged groups, protected accounts, service accounts,
//! the domain's trusts. Read from a capture's LDAP searches (`zeek.ldap`
//! `ldap-search` events, see `docs/flows.md`); judged by the searcher's
//! role.
//!
//! ## What it detects
//! Searches whose filter or base names a high-value target
//! (`labels.ldap_high_value`, set by the LDAP analyzer): `adminCount=1`,
//! Domain/Enterprise/Schema Admins or Administrators, `krbtgt`,
//! `servicePrincipalName=` (Kerberoast preparation), accounts without
//! pre-authentication (AS-REP roasting), delegation, domain controllers,
//! `trustedDomain` objects; a search for every computer counts only beside
//! one of those (management tools list computers all day). One alert per
//! searching host and directory server.
//!
//! ## Why it matters
//! Discovery precedes lateral movement: BloodHound's collectors,
//! PowerView, `GetUserSPNs` and ADFind ask exactly these questions.
//! ATT&CK T1069.002 (Permission Groups Discovery: Domain Groups), T1087.002
//! (Account Discovery: Domain Account; service principals and
//! pre-authentication, the preparation of T1558.003 and T1558.004), T1482
//! (Domain Trust Discovery), T1018 (Remote System Discovery).
//!
//! ## Evidence
//! The searches, one per distinct filter, with the connection's bind name
//! as the account when the bind was in clear.
//!
//! ## False positives
//! Management and identity tools (an admin host, a configured
//! `[network] known_admins` or scanner address) query these objects by
//! design and are passed over, as are domain controllers themselves and
//! hosts whose job is administering others (role priors). What remains is
//! low alone: it matters when it joins an incident (the searching host
//! moves on), as other discovery alerts do. Searches in sealed LDAP
//! sessions (the Windows default with Kerberos or NTLM binds) are not
//! visible in a capture.
//!
//! ## Tuning
//! The thresholds are constants of this rule; `[network] known_admins`,
//! `[allowlist]` sources silence a known tool's host.

use crate::alert::{Alert, Rule, Technique};
use crate::analyzer::ldap::HighValue;
use crate::detect::common::{clamp_score, log_evidence};
use crate::detect::{DetectInput, Detector, Role};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::{LogEvent, Text};
use std::collections::{BTreeMap, BTreeSet};

/// Score of one kind of target searched for (low).
pub const BASE_SCORE: f64 = 12.0;

/// Added per further kind of target, up to [`MAX_SCORE`].
pub const PER_KIND: f64 = 4.0;

/// The most this rule scores alone: low.
pub const MAX_SCORE: f64 = 21.0;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.ldap-recon",
    name: "Directory reconnaissance over LDAP",
    description: "A host that is neither a domain controller nor an admin host searched the directory for privileged groups, protected or service accounts, or trusts.",
};

/// T1069.002: Permission Groups Discovery: Domain Groups.
pub const DOMAIN_GROUPS: Technique = Technique {
    tactic: "Discovery",
    id: "T1069.002",
    name: "Permission Groups Discovery: Domain Groups",
};

/// T1087.002: Account Discovery: Domain Account.
pub const DOMAIN_ACCOUNT: Technique = Technique {
    tactic: "Discovery",
    id: "T1087.002",
    name: "Account Discovery: Domain Account",
};

/// T1482: Domain Trust Discovery.
pub const DOMAIN_TRUSTS: Technique = Technique {
    tactic: "Discovery",
    id: "T1482",
    name: "Domain Trust Discovery",
};

/// T1018: Remote System Discovery.
pub const REMOTE_SYSTEMS: Technique = Technique {
    tactic: "Discovery",
    id: "T1018",
    name: "Remote System Discovery",
};

/// The technique of a kind of target.
fn technique(h: HighValue) -> Technique {
    match h {
        HighValue::AdminCount | HighValue::PrivilegedGroup => DOMAIN_GROUPS,
        HighValue::ServicePrincipalName
        | HighValue::NoPreauth
        | HighValue::Krbtgt
        | HighValue::Delegation => DOMAIN_ACCOUNT,
        HighValue::Trusts => DOMAIN_TRUSTS,
        HighValue::DomainControllers | HighValue::Computers => REMOTE_SYSTEMS,
    }
}

/// The kinds of target a label names (`admin_count,service_principal_name`).
fn kinds(label: &str) -> Vec<HighValue> {
    const ALL: [HighValue; 9] = [
        HighValue::AdminCount,
        HighValue::ServicePrincipalName,
        HighValue::PrivilegedGroup,
        HighValue::Krbtgt,
        HighValue::NoPreauth,
        HighValue::Delegation,
        HighValue::DomainControllers,
        HighValue::Trusts,
        HighValue::Computers,
    ];
    label
        .split(',')
        .filter_map(|k| ALL.iter().copied().find(|h| h.as_str() == k.trim()))
        .collect()
}

/// The detector.
pub struct LdapRecon;

impl Detector for LdapRecon {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        let net = &input.config.network;
        let b = input.baseline;
        // The account each LDAP connection bound as, by uid.
        let mut binds: BTreeMap<&str, &Text> = BTreeMap::new();
        for e in input.events {
            if e.action == Action::LdapBind
                && let (Some(uid), Some(user)) = (e.label("zeek_uid"), e.user_name.as_ref())
            {
                binds.entry(uid).or_insert(user);
            }
        }
        type Key = (HostKey, HostKey);
        let mut groups: BTreeMap<Key, Vec<(&LogEvent, Vec<HighValue>)>> = BTreeMap::new();
        for e in input.events {
            if e.action != Action::LdapSearch {
                continue;
            }
            let found = kinds(e.label("ldap_high_value").unwrap_or(""));
            if found.is_empty() {
                continue;
            }
            let Some(src_ip) = e.source_ip else { continue };
            if net.is_known_admin(src_ip) || net.is_scanner(src_ip) {
                continue;
            }
            let (Some(src), Some(dst)) = (
                dir.key(e.source_ip, e.source_domain.as_deref()),
                dir.key(e.host_ip, e.host_name.as_deref()),
            ) else {
                continue;
            };
            if src == dst {
                continue;
            }
            groups.entry((src, dst)).or_default().push((e, found));
        }
        let mut alerts = Vec::new();
        for ((src, dst), searches) in groups {
            // Controllers query each other; admin hosts and tools that
            // administer others by job ask these questions routinely.
            let role = match b.host_role(&src) {
                Role::Unknown => searches
                    .first()
                    .and_then(|(e, _)| e.source_ip)
                    .map_or(Role::Unknown, |ip| b.role(ip)),
                r => r,
            };
            if matches!(
                role,
                Role::DomainController | Role::AdminHost | Role::Scanner
            ) || b.administers_by_job(&src)
            {
                continue;
            }
            let all: BTreeSet<HighValue> = searches
                .iter()
                .flat_map(|(_, k)| k.iter().copied())
                .collect();
            // Listing computers alone is what management tools do.
            let Some(lead) = all.iter().copied().find(|h| *h != HighValue::Computers) else {
                continue;
            };
            let Some((first, _)) = searches.first() else {
                continue;
            };
            let score = (BASE_SCORE + PER_KIND * (all.len() - 1) as f64).min(MAX_SCORE);
            let mut a = Alert::new(RULE, technique(lead), clamp_score(score), first.ts);
            a.source = dir.host(first.source_ip, first.source_domain.as_deref());
            a.destination = dir
                .host(first.host_ip, first.host_name.as_deref())
                .or_else(|| Some(dir.host_of(&dst)));
            a.destination_port = first.destination_port;
            let users: BTreeSet<&str> = searches
                .iter()
                .filter_map(|(e, _)| e.label("zeek_uid"))
                .filter_map(|u| binds.get(u).map(|t| -> &str { t }))
                .filter(|u: &&str| !u.is_empty())
                .collect();
            a.user = users.iter().next().map(|u| u.to_string());
            for u in &users {
                a.related_users.insert(u.to_string());
            }
            let mut filters = BTreeSet::new();
            for (e, _) in &searches {
                if filters.insert(e.label("ldap_filter").unwrap_or("")) {
                    a.add_evidence(log_evidence(e));
                }
            }
            a.evidence_total = searches.len();
            let techniques: BTreeSet<&str> = all.iter().map(|h| technique(*h).id).collect();
            a.message = format!(
                "{} ({}) searched {} over LDAP for {} ({} searches{}; {})",
                a.source
                    .as_ref()
                    .map_or_else(|| src.to_string(), |h| h.label()),
                role.label(),
                a.destination
                    .as_ref()
                    .map_or_else(|| dst.to_string(), |h| h.label()),
                all.iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                searches.len(),
                a.user
                    .as_ref()
                    .map_or_else(String::new, |u| format!(", bound as {u}")),
                techniques.into_iter().collect::<Vec<_>>().join(", ")
            );
            a.movement = false;
            alerts.push(a.finish());
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_kinds_and_unknown_names_are_ignored() {
        assert_eq!(
            kinds("admin_count,service_principal_name,bogus"),
            vec![HighValue::AdminCount, HighValue::ServicePrincipalName]
        );
        assert!(kinds("").is_empty());
        assert_eq!(technique(HighValue::Trusts).id, "T1482");
        assert_eq!(technique(HighValue::AdminCount).id, "T1069.002");
    }
}
