//! `lateral.forged-ticket`: a Kerberos logon whose account SID does not
//! belong to the account name it came with, read from the target's
//! Security log (4624 with TargetUserSid); no baseline needed, a baseline
//! makes it quieter.
//!
//! ## What it detects
//! Successful network logons by Kerberos (4624, logon types 3, 8, 10)
//! carrying the account's SID (`user.id`, a domain SID `S-1-5-21-…`):
//!
//! - **SID under two names** (high): the baseline saw the SID log on only
//!   under other account names, or (a SID the baseline never saw) the
//!   input shows it under another name. A SID belongs to one account,
//!   whatever it is called; a ticket is the only place a logon takes its
//!   name and its SID from two different claims, and a forged ticket
//!   carries whatever name its maker typed. A name the baseline saw with
//!   the SID is never the alert; otherwise the SID is taken to belong to
//!   the baseline's name, else the first name it was seen with in the
//!   input that the baseline knows as an account, else the first seen; the
//!   logons under every other name are the alert.
//! - **The built-in Administrator's SID under a new name** (medium): the
//!   RID-500 SID under a name other than the built-in administrator's
//!   (`Administrator` or a localised default), which the input shows under
//!   no other name and the baseline never saw log on. Ticket forgers
//!   (Mimikatz `kerberos::golden`, Impacket `ticketer`) put RID 500 in a
//!   ticket by default whatever name is asked for. Renamed built-in
//!   administrators exist (a hardening guide's advice), so the pair must
//!   also be new: the name must be unknown to the baseline, and the
//!   baseline must not have seen the SID log on under it.
//!
//! ## Why it matters
//! A golden ticket (forged with the `krbtgt` key) or a silver ticket
//! (forged with a service's key) logs on anywhere as anyone, with no
//! password and no request to a domain controller: ATT&CK T1558.001
//! (Steal or Forge Kerberos Tickets: Golden Ticket).
//!
//! ## Evidence
//! The logons under the unexpected name, and for the first kind the first
//! event showing the SID under its own name.
//!
//! ## False positives
//! An account renamed during the input, or since the baseline was built,
//! shows its SID under both names.
//! A renamed built-in administrator that never logged on in the baseline,
//! or with no baseline at all (short logs judged by role priors), gives
//! the medium alert once per source and target.
//!
//! ## Limits
//! A baseline keeps, per account name, the SIDs its successful logons
//! carried (at most [`crate::profile::SIDS_PER_USER`], the smallest), so
//! a SID among the many local `Administrator` SIDs of a large network may
//! be unknown to it and judged by the input alone. An account renamed
//! since the baseline (or a SID the baseline saw under
//! 8 names or more, `SHARED_SID_NAMES`) is judged as above: the rename
//! gives the high alert until the baseline is updated.
//!
//! ## Tuning
//! None; `[allowlist]` users silence a known renamed administrator.

use crate::alert::{Alert, Rule, Technique};
use crate::detect::common::{clamp_score, log_evidence, succeeded};
use crate::detect::{DetectInput, Detector};
use crate::model::HostKey;
use crate::model::event::{LogEvent, Text, Timestamp};
use std::collections::BTreeMap;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.forged-ticket",
    name: "Forged Kerberos ticket",
    description: "A Kerberos logon carried an account SID that belongs to another name, or the built-in Administrator's SID (RID 500) under a new name: how forged (golden) tickets look.",
};

/// T1558.001: Steal or Forge Kerberos Tickets: Golden Ticket.
pub const GOLDEN_TICKET: Technique = Technique {
    tactic: "Credential Access",
    id: "T1558.001",
    name: "Steal or Forge Kerberos Tickets: Golden Ticket",
};

/// Score of a SID seen under two names (high).
pub const TWO_NAMES_SCORE: f64 = 70.0;

/// Score of the RID-500 SID under a new name (medium).
pub const RID_500_SCORE: f64 = 45.0;

/// A SID the baseline saw under this many names or more tells nothing
/// about which name is its own (a test lab's reused image, a directory
/// that renames its accounts by script): it is judged by the input alone.
const SHARED_SID_NAMES: usize = 8;

/// The built-in administrator's name in the Windows languages that
/// localise it, lower case: the name a RID-500 SID carries unless renamed.
const DEFAULT_ADMIN_NAMES: &[&str] = &[
    "administrator",
    "administrateur",
    "administrador",
    "amministratore",
    "administratör",
    "administrátor",
    "järjestelmänvalvoja",
    "rendszergazda",
    "администратор",
];

/// The detector.
pub struct ForgedTicket;

/// An account name as compared here: lower case, without a `DOMAIN\`
/// prefix or an `@realm` suffix; `None` for system and computer accounts.
fn account_name(e: &LogEvent) -> Option<String> {
    let u = e.user_name.as_deref()?.trim();
    let u = u.rsplit('\\').next().unwrap_or(u);
    let u = u.split('@').next().unwrap_or(u).trim();
    (!crate::detect::common::is_system_account(u)).then(|| u.to_lowercase())
}

/// True for a logon that took its account from a Kerberos ticket.
fn by_kerberos(e: &LogEvent) -> bool {
    let kerberos = |s: Option<&str>| s.is_some_and(|m| m.trim().eq_ignore_ascii_case("kerberos"));
    kerberos(e.auth_method.as_deref()) || kerberos(e.logon_process())
}

/// True for the built-in administrator's SID of a domain (`…-500`).
fn is_rid_500(sid: &str) -> bool {
    sid.strip_suffix("-500")
        .is_some_and(|d| d.matches('-').count() >= 6)
}

/// Where a SID was seen under one name.
#[derive(Clone, Copy)]
struct Seen<'a> {
    first: Timestamp,
    event: &'a LogEvent,
}

/// Where a SID was seen under its owner's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Said {
    /// In the judged input.
    Input,
    /// In the baseline's logons.
    Baseline,
}

/// What one alert is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Finding {
    /// The SID belongs to the name given, as the input or the baseline shows.
    TwoNames(String, Said),
    /// The RID-500 SID under a new name.
    Rid500,
}

impl Detector for ForgedTicket {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let dir = input.directory;
        // Every name each SID came with in the input, first sighting each.
        let mut names: BTreeMap<&str, BTreeMap<String, Seen<'_>>> = BTreeMap::new();
        for e in input.events {
            let (Some(sid), Some(name)) = (e.user_id(), account_name(e)) else {
                continue;
            };
            let seen = names.entry(sid).or_default().entry(name).or_insert(Seen {
                first: e.ts,
                event: e,
            });
            if e.ts < seen.first {
                *seen = Seen {
                    first: e.ts,
                    event: e,
                };
            }
        }
        // The name each SID belongs to, for SIDs with more than one: the
        // first seen that the baseline knows, else the first seen.
        let owner = |by_name: &BTreeMap<String, Seen<'_>>| -> Option<String> {
            let first = |known: bool| {
                by_name
                    .iter()
                    .filter(|(n, _)| !known || input.baseline.user_known(n))
                    .min_by_key(|(n, s)| (s.first, n.as_str()))
                    .map(|(n, _)| n.clone())
            };
            first(true).or_else(|| first(false))
        };
        // The names the baseline saw each SID under, asked once per SID;
        // a SID under [`SHARED_SID_NAMES`] names or more is taken as
        // unknown.
        let mut stored: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        type Key = (Finding, Option<HostKey>, Option<HostKey>, Text, String);
        let mut groups: BTreeMap<Key, Vec<&LogEvent>> = BTreeMap::new();
        for v in input.logons {
            let e = v.event();
            if !succeeded(e) || !by_kerberos(e) {
                continue;
            }
            let (Some(sid), Some(name)) = (e.user_id(), account_name(e)) else {
                continue;
            };
            let Some(by_name) = names.get(sid) else {
                continue;
            };
            let known = stored.entry(sid).or_insert_with(|| {
                let mut n = input.baseline.sid_accounts(sid);
                if n.len() >= SHARED_SID_NAMES {
                    n.clear();
                }
                n
            });
            let finding = if known.contains(&name) {
                // The baseline saw this SID log on under this name.
                continue;
            } else if !known.is_empty() {
                // The first of the baseline's names that today's input
                // shows too, else the first.
                let owner = known
                    .iter()
                    .find(|n| by_name.contains_key(n.as_str()))
                    .or_else(|| known.first())
                    .cloned()
                    .unwrap_or_default();
                Finding::TwoNames(owner, Said::Baseline)
            } else if by_name.len() > 1 {
                match owner(by_name) {
                    Some(o) if o != name => Finding::TwoNames(o, Said::Input),
                    _ => continue,
                }
            } else if is_rid_500(sid)
                && !DEFAULT_ADMIN_NAMES.contains(&name.as_str())
                && !input.baseline.user_known(&name)
            {
                Finding::Rid500
            } else {
                continue;
            };
            groups
                .entry((finding, v.src.clone(), v.dst.clone(), sid.into(), name))
                .or_default()
                .push(e);
        }
        let mut alerts = Vec::new();
        for ((finding, _, dst, sid, name), events) in groups {
            let Some(first) = events.first() else {
                continue;
            };
            let score = match finding {
                Finding::TwoNames(..) => TWO_NAMES_SCORE,
                Finding::Rid500 => RID_500_SCORE,
            };
            let mut a = Alert::new(RULE, GOLDEN_TICKET, clamp_score(score), first.ts);
            a.source = dir.host(first.source_ip, first.source_domain.as_deref());
            a.destination = dir
                .host(first.host_ip, first.host_name.as_deref())
                .or_else(|| dst.as_ref().map(|h| dir.host_of(h)));
            a.user = Some(name.clone());
            a.movement = true;
            let hop = format!(
                "{} Kerberos logon{} as {name} from {} to {}",
                events.len(),
                if events.len() == 1 { "" } else { "s" },
                a.source.as_ref().map_or_else(|| "?".into(), |h| h.label()),
                a.destination
                    .as_ref()
                    .map_or_else(|| "?".into(), |h| h.label()),
            );
            a.message = match &finding {
                Finding::TwoNames(owner, said) => format!(
                    "{hop} carried SID {sid}, which {} as {owner}'s: a ticket naming one account with another's SID is forged",
                    match said {
                        Said::Input => "the logs show",
                        Said::Baseline => "the baseline knows",
                    }
                ),
                Finding::Rid500 => format!(
                    "{hop} carried SID {sid}, the built-in Administrator's (RID 500), under a name never seen before: forged tickets carry RID 500 by default (a renamed built-in administrator would too, but its name would be known)"
                ),
            };
            if let Finding::TwoNames(owner, _) = &finding {
                if let Some(seen) = names.get(sid.as_str()).and_then(|m| m.get(owner)) {
                    a.add_evidence(log_evidence(seen.event));
                }
                a.related_users.insert(owner.clone());
            }
            for e in &events {
                a.add_evidence(log_evidence(e));
            }
            a.evidence_total = events.len();
            alerts.push(a.finish());
        }
        alerts
    }
}
