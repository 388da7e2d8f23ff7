//! Detectors: the stage after profiles. Each detector judges today's flows
//! and log events against the baseline (what every host normally does) and
//! returns [`Alert`]s; `crate::incident` then joins them into incidents.
//!
//! The rules live in [`rules`], one file per detector holding its doc,
//! its settings and its logic; [`settings`] holds the settings document
//! they are read into. The rules see the baseline only through
//! [`BaselineView`], the one query seam: [`profiles_view::ProfilesView`]
//! implements it over profiles, learned
//! from the first part of the same input or loaded from a stored baseline.

use crate::alert::Alert;
use crate::model::event::{ConnState, Flow, LogEvent};
use rayon::prelude::*;

pub mod baseline_view;
mod common;

pub use common::{HeldContext, LogonView, Parties};
pub mod directory;
pub mod involved;
pub mod novelty;
pub mod priors_view;
pub mod profiles_view;

pub mod rules;
pub mod settings;
pub mod suppress;

pub use baseline_view::{AdminReach, BaselineView, EdgeHistory, Role, Roles, WeekHours};
pub use directory::Directory;
pub use settings::Config;

pub use crate::model::AdminService;

/// True when the responder answered (the connection was more than an attempt).
pub fn answered(f: &Flow) -> bool {
    !matches!(
        f.conn_state,
        ConnState::S0 | ConnState::REJ | ConnState::RSTOS0 | ConnState::SH
    )
}

/// What every detector receives: today's records and what is normal.
pub struct DetectInput<'a> {
    /// Today's connection records, sorted by time.
    pub flows: &'a [Flow],
    /// Today's log events, sorted by time.
    pub events: &'a [LogEvent],
    /// Today's network logons and failed logons, resolved once (see [`remote_logons`]).
    pub logons: &'a [LogonView<'a>],
    /// Today's password attempts: the logons and the Kerberos attempts at
    /// domain controllers, resolved once (see [`credential_attempts`]).
    pub attempts: &'a [&'a LogonView<'a>],
    /// Names and addresses of hosts.
    pub directory: &'a Directory,
    /// What each host normally does.
    pub baseline: &'a dyn BaselineView,
    /// Settings and thresholds.
    pub config: &'a Config,
}

/// A detector: a stable rule id and a pure function from input to alerts.
pub trait Detector: Sync + Send {
    /// The rule's stable id (e.g. `lateral.new-admin-edge`).
    fn id(&self) -> &'static str;
    /// Finds alerts. Must not depend on anything but the input.
    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert>;
}

/// The network logons among `events` (in their order), with source,
/// destination and account resolved through the directory.
pub fn remote_logons<'a>(events: &'a [LogEvent], directory: &Directory) -> Vec<LogonView<'a>> {
    events
        .par_iter()
        .with_min_len(4096)
        .filter(|e| common::is_remote_logon(e))
        .map(|e| LogonView::of(e, directory))
        .collect()
}

/// [`remote_logons`] with the network logons `held` compactly joined in
/// run order.
pub fn remote_logons_with<'a>(
    events: &'a [LogEvent],
    held: Option<&'a HeldContext<'a>>,
    directory: &Directory,
) -> Vec<LogonView<'a>> {
    let full = remote_logons(events, directory);
    match held {
        Some(h) => common::join_in_order(full, h.views(common::is_remote_logon)),
        None => full,
    }
}

/// Judged events a streamed analysis may hold compactly
/// ([`crate::profile::held`]): network logons and Kerberos attempts at
/// domain controllers that the rules read only as [`LogonView`]s
/// ([`DetectInput::logons`], [`DetectInput::attempts`]), never among
/// [`DetectInput::events`]. (Network logons on hosts that logged remote
/// execution are read among the events, and are never held:
/// [`crate::profile::stream::Plan::judged_held`].)
pub fn held_compactly(e: &LogEvent) -> bool {
    (common::is_remote_logon(e) || common::is_kerberos_attempt(e)) && !rules::read_among_events(e)
}

/// The password attempts among `events` that are not network logons, in
/// time order: the Kerberos attempts at domain controllers (TGT requests,
/// 4768, granted or refused, and failed pre-authentications, 4771;
/// source the client, destination the controller), the NTLM validations
/// at domain controllers (4776; source the workstation named, and left
/// out when one of the network `logons` (resolved by [`remote_logons`])
/// of that account from that source within [`NTLM_ECHO_NANOS`] already
/// counts the attempt), and the explicit-credential logons (4648; source
/// the host that wrote it, destination the server named, left out when
/// the two are one). [`credential_attempts`] joins them with the logons.
pub fn other_attempts<'a>(
    events: &'a [LogEvent],
    logons: &[LogonView<'a>],
    directory: &Directory,
) -> Vec<LogonView<'a>> {
    other_attempts_with(events, None, logons, directory)
}

/// [`other_attempts`] with the Kerberos attempts `held` compactly joined
/// in run order.
pub fn other_attempts_with<'a>(
    events: &'a [LogEvent],
    held: Option<&'a HeldContext<'a>>,
    logons: &[LogonView<'a>],
    directory: &Directory,
) -> Vec<LogonView<'a>> {
    // The logons each NTLM validation may echo: (source, account) -> times.
    let mut logon_times: std::collections::BTreeMap<
        (&crate::model::HostKey, &str),
        Vec<crate::model::event::Timestamp>,
    > = std::collections::BTreeMap::new();
    let mut validations = false;
    let full = events
        .iter()
        .filter(|e| {
            common::is_kerberos_attempt(e)
                || common::is_ntlm_validation(e)
                || common::is_explicit(e)
        })
        .map(|e| LogonView::of(e, directory))
        .collect();
    let all = match held {
        Some(h) => common::join_in_order(full, h.views(common::is_kerberos_attempt)),
        None => full,
    };
    all.into_iter()
        .filter(|v| {
            if common::is_explicit(v.event()) {
                return v.dst.is_some() && v.src != v.dst;
            }
            if !common::is_ntlm_validation(v.event()) {
                return true;
            }
            // Built on the first validation only: most inputs have none.
            if !validations {
                validations = true;
                for l in logons {
                    if let (Some(s), Some(u)) = (&l.src, l.user.as_deref()) {
                        logon_times.entry((s, u)).or_default().push(l.ts());
                    }
                }
            }
            let (Some(s), Some(u)) = (&v.src, v.user.as_deref()) else {
                return true;
            };
            !logon_times.get(&(s, u)).is_some_and(|ts| {
                ts.iter()
                    .any(|t| t.0.abs_diff(v.ts().0) <= NTLM_ECHO_NANOS.unsigned_abs())
            })
        })
        .collect()
}

/// Every password attempt, in time order: the network `logons` and the
/// `others` ([`other_attempts`]), on equal times logons first. Borrowed,
/// not copied: one reference per attempt.
pub fn credential_attempts<'b, 'a>(
    logons: &'b [LogonView<'a>],
    others: &'b [LogonView<'a>],
) -> Vec<&'b LogonView<'a>> {
    let mut all = Vec::with_capacity(logons.len() + others.len());
    let mut k = others.iter().peekable();
    for v in logons {
        while let Some(next) = k.next_if(|x| x.ts() < v.ts()) {
            all.push(next);
        }
        all.push(v);
    }
    all.extend(k);
    all
}

/// How far apart a domain controller's NTLM validation (4776) and the
/// member server's logon (4624, 4625) of one attempt may be logged, ns.
pub const NTLM_ECHO_NANOS: i64 = 2_000_000_000;

/// Which judged log events some enabled consumer can ever read: an
/// enabled rule ([`rules::READERS`]; one allowlisted by id reads
/// nothing) or Sigma (its `sigma-match` events). The others change no
/// alert, incident or report line but the judged count and span, so a
/// streamed analysis counts them and drops them as they are read
/// (`crate::analyze::read_and_learn`).
pub struct JudgedReader {
    reads: Vec<rules::Reads>,
    failures_needed: usize,
}

impl JudgedReader {
    /// The consumers `config` enables.
    pub fn new(config: &Config) -> JudgedReader {
        let allow = &config.allowlist;
        let reads = rules::all()
            .into_iter()
            .filter(|d| !allow.rules.iter().any(|r| r == d.id()))
            .map(|d| {
                rules::READERS
                    .iter()
                    .find(|(id, _)| *id == d.id())
                    .map_or(reads_all as rules::Reads, |(_, r)| *r)
            })
            .collect();
        let on = |id: &str| !allow.rules.iter().any(|r| r == id);
        let t = &config.detect;
        // What `failing_sources` asks of a source in each rule.
        let needs = [
            on(rules::brute_force::RULE.id).then(|| t.brute_force.brute_force_failures.max(1)),
            on(rules::spray::RULE.id).then(|| t.spray.spray_accounts.max(2)),
        ];
        let failures_needed = needs.into_iter().flatten().min().unwrap_or(0);
        JudgedReader {
            reads,
            failures_needed,
        }
    }

    /// The fewest failed attempts (`common::failed_attempt`) from one
    /// source that any enabled rule reads: a source with fewer in the
    /// whole judged part is grouped by no rule (`lateral.brute-force` and
    /// `lateral.password-spray` take only sources with that many; every
    /// other rule reads successful logons only). 0 when neither rule is
    /// enabled (nothing is left out then).
    pub fn failures_needed(&self) -> usize {
        self.failures_needed
    }

    /// True when some consumer can read `e`.
    pub fn reads(&self, e: &LogEvent) -> bool {
        e.action == crate::model::Action::SigmaMatch || self.reads.iter().any(|r| r(e))
    }
}

/// Reads every event: a rule that does not say what it reads.
fn reads_all(_: &LogEvent) -> bool {
    true
}

/// Runs every enabled detector (in parallel), drops allowlisted alerts, and
/// returns the alerts in output order (time, then id) with duplicate ids merged.
pub fn run_all(input: &DetectInput<'_>) -> Vec<Alert> {
    let allow = &input.config.allowlist;
    let detectors: Vec<Box<dyn Detector>> = rules::all()
        .into_iter()
        .filter(|d| !allow.rules.iter().any(|r| r == d.id()))
        .collect();
    let mut alerts: Vec<Alert> = detectors
        .par_iter()
        .flat_map_iter(|d| d.run(input))
        .filter(|a| !allowlisted(a, input.config))
        .collect();
    // Two alerts with one id (same rule, entities and day) are one finding.
    let mut by_id: std::collections::BTreeMap<String, Alert> = std::collections::BTreeMap::new();
    alerts.sort_by(Alert::output_order);
    for a in alerts {
        match by_id.get_mut(&a.id) {
            Some(o) => {
                o.score = o.score.max(a.score);
                o.end = o.end.max(a.end);
                o.evidence_total += a.evidence_total;
                o.related_ips.extend(a.related_ips);
                o.related_users.extend(a.related_users);
                o.evidence.extend(a.evidence);
                o.evidence.sort();
                o.evidence.dedup();
                o.evidence.truncate(crate::alert::MAX_EVIDENCE);
            }
            None => {
                by_id.insert(a.id.clone(), a);
            }
        }
    }
    let mut out: Vec<Alert> = by_id.into_values().collect();
    out.sort_by(Alert::output_order);
    out
}

fn allowlisted(a: &Alert, cfg: &Config) -> bool {
    let allow = &cfg.allowlist;
    let ip_in = |h: &Option<crate::alert::HostRef>, nets: &[settings::Cidr]| {
        h.as_ref()
            .and_then(|h| h.ip)
            .is_some_and(|ip| nets.iter().any(|n| n.contains(ip)))
    };
    ip_in(&a.source, &allow.sources)
        || ip_in(&a.destination, &allow.destinations)
        || a.user
            .as_deref()
            .is_some_and(|u| allow.users.iter().any(|x| x.eq_ignore_ascii_case(u)))
}
