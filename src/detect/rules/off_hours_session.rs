//! `lateral.off-hours-session`: a known remote-admin session at an hour of
//! the week in which its account, or its edge, was never active.
//!
//! ## What it detects
//! A connection on a remote-admin port (SMB, RDP, WinRM, SSH, RPC, VNC,
//! Telnet) over an edge the baseline already holds, or a successful
//! network logon (Windows events, sshd) over a known logon edge, made in
//! an hour of the week in which its subject was never active in the
//! baseline, at least `min_gap_hours` from any hour of the day it was
//! active in. The subject is whose habits the session shows: for a logon,
//! the account (its network logons to any host); for a connection, the
//! (source, destination, service) edge. A desk that polls the outside all
//! night says nothing of when its user reaches a server. When the
//! baseline keeps no such habits ([`crate::detect::BaselineView`]; profiles, learned or
//! stored, keep them), or for a logon without an account,
//! the subject is the source host (every flow it originated and logon it made). Weekdays
//! the baseline does not cover in full are judged by the hour of the day
//! alone. The score weighs how regular the subject's hours are (the share
//! of the day's 24 hours it was ever active in: an edge used around the
//! clock never fires), how far the session lies from them (in full
//! from `full_gap_hours` on: an evening after the working day is
//! overtime, the middle of the night is not) and on how many weekdays
//! they were seen (in full from `habit_full_days`). It rises when the session's
//! authentication method also differs from every method the account used
//! on that host in the baseline (a key where a password was used, NTLM
//! where Kerberos was).
//!
//! Connections to a service a fifth or more of the source's role, and at
//! least five hosts, use on that destination (`common_fraction`: SYSVOL on
//! a domain controller) are
//! the machine's own traffic and are not judged.
//!
//! ## Why it matters
//! An intruder holding a valid account moves over the same edges as its
//! owner, but on the intruder's schedule and often with its own
//! credentials material: ATT&CK T1078 (Valid Accounts) over T1021.004
//! (SSH) and the other remote services. Nothing else flags an edge that
//! is already known.
//!
//! ## Evidence
//! The off-hours connection records and logon records of the session.
//!
//! ## False positives
//! Overtime, on-call work, a changed shift, a new SSH key. By itself the
//! alert is at most medium; it gains rank when other alerts join it in an
//! incident.
//!
//! ## Tuning
//! `[detect.off_hours_session]`: `min_activity` (baseline records needed
//! to judge a source host), `min_habit_records` (logons of an account or
//! connections of an edge needed to judge it), `habit_full_days` (weekdays
//! they must fall on to count in full), `min_gap_hours` (distance
//! from its usual hours), `full_gap_hours`, `max_active_fraction`
//! (subjects active in more of the day have no off hours), `base_score`,
//! `method_bonus`, `min_score`, `common_fraction`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::WeekHours;
use crate::detect::common::{LogonView, baseline_span, clamp_score, flow_evidence, succeeded};
use crate::detect::{AdminService, BaselineView, DetectInput, Detector, answered};
use crate::model::Action;
use crate::model::HostKey;
use crate::model::event::Text;
use crate::model::event::{Flow, Timestamp};
use crate::profile::Methods;
use crate::profile::week::hour_of_week;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Thresholds of `lateral.off-hours-session`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffHoursSessionConfig {
    /// Baseline records a source needs before its hours are judged.
    pub min_activity: u64,
    /// Baseline logons an account, or connections an edge, needs before
    /// its own hours are judged.
    pub min_habit_records: u64,
    /// Weekdays those records must fall on to count in full (hours seen
    /// on fewer are proportionally weaker evidence of a schedule).
    pub habit_full_days: usize,
    /// Hours between the session and the nearest hour of the day the
    /// source was ever active in.
    pub min_gap_hours: usize,
    /// A session this many hours or more from its subject's hours counts in
    /// full; nearer ones (overtime) proportionally less.
    pub full_gap_hours: usize,
    /// A source active in at least this fraction of the 24 hours of the
    /// day is not regular enough to have off hours.
    pub max_active_fraction: f64,
    /// Score of a session at a never-seen hour from a perfectly regular source.
    pub base_score: f64,
    /// Added when the authentication method also differs from the baseline's.
    pub method_bonus: f64,
    /// Alerts below this score are dropped.
    pub min_score: u8,
    /// A connection to a service that at least this share of the source's
    /// role uses on that destination (SYSVOL on a domain controller, the
    /// file server's shares) is the machine's traffic, not a session of
    /// its user: its hour says nothing.
    pub common_fraction: f64,
}

impl Default for OffHoursSessionConfig {
    fn default() -> Self {
        OffHoursSessionConfig {
            min_activity: 20,
            min_habit_records: 8,
            habit_full_days: 3,
            min_gap_hours: 3,
            full_gap_hours: 6,
            max_active_fraction: 0.75,
            base_score: 30.0,
            method_bonus: 15.0,
            min_score: 15,
            common_fraction: 0.2,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.off-hours-session",
    name: "Known remote-admin session at an unusual hour",
    description: "A host used a known remote-admin edge or logon in an hour of the week in which its account or edge was never active in the baseline, possibly with an unusual authentication method.",
};

/// The detector.
pub struct OffHoursSession;

const DAY_SECS: i64 = 86_400;
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The weekdays (Monday = 0) the baseline period covers from midnight to midnight.
fn covered_weekdays(b: &dyn BaselineView) -> [bool; 7] {
    let mut out = [false; 7];
    let Some((a, z)) = b.period() else {
        return out;
    };
    let first = a.secs().div_euclid(DAY_SECS) + i64::from(a.secs().rem_euclid(DAY_SECS) != 0);
    let end = (z.secs().saturating_add(1)).div_euclid(DAY_SECS);
    let mut day = first;
    while day < end && day < first + 7 {
        let how = hour_of_week(Timestamp::from_parts(day.saturating_mul(DAY_SECS), 0));
        if let Some(c) = out.get_mut(how / 24) {
            *c = true;
        }
        day += 1;
    }
    out
}

/// Whose baseline hours judged a record.
#[derive(Debug, Clone, PartialEq)]
enum Subject {
    /// The account's own logons, on any host.
    Account(Text),
    /// The (source, destination, service) edge's own connections.
    Edge,
    /// Everything the source host did (when the baseline keeps no habits).
    Source,
}

/// Baseline hours of a subject, ready to judge a time.
#[derive(Debug, Clone, Copy)]
struct Hours {
    week: WeekHours,
    covered: [bool; 7],
    /// Share of the 24 hours of the day in which it was ever active.
    active_fraction: f64,
    /// 0-1: how far its hours are a schedule (weekdays seen over `full_days`).
    support: f64,
}

impl Hours {
    /// The hours, when they hold at least `min` records; they count in full
    /// as a schedule once seen on `full_days` weekdays (hours seen on one
    /// day or two are a weaker sign).
    fn of(week: WeekHours, covered: [bool; 7], min: u64, full_days: usize) -> Option<Self> {
        (week.records() >= min.max(1)).then(|| Hours {
            week,
            covered,
            active_fraction: week.active_hours_of_day() as f64 / 24.0,
            support: (week.active_weekdays() as f64 / full_days.max(1) as f64).min(1.0),
        })
    }

    /// True when the subject was never active in `t`'s hour of the week
    /// (or, for a weekday the baseline does not cover, its hour of the
    /// day), and that hour lies at least `min_gap` hours from any hour of
    /// the day it was active in (a schedule that starts or ends an hour
    /// early or late is no off-hours session).
    fn unseen(&self, t: Timestamp, min_gap: usize) -> bool {
        let how = hour_of_week(t);
        let covered = self.covered.get(how / 24).copied().unwrap_or(false);
        let slot_free = if covered {
            !self.week.seen(how)
        } else {
            !self.week.seen_hour_of_day(how % 24)
        };
        slot_free && self.week.gap(how % 24) >= min_gap
    }

    /// How far `t` is off hours for a regular enough subject, if it is.
    fn off_hours(&self, t: Timestamp, cfg: &OffHoursSessionConfig) -> Option<OffHours> {
        (self.active_fraction < cfg.max_active_fraction && self.unseen(t, cfg.min_gap_hours)).then(
            || OffHours {
                active_fraction: self.active_fraction,
                gap: self.week.gap(hour_of_week(t) % 24),
                support: self.support,
            },
        )
    }
}

/// How far one record lay outside its subject's hours.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OffHours {
    /// Share of the day's 24 hours in which the subject was ever active.
    active_fraction: f64,
    /// Hours from the nearest hour of the day it was active in.
    gap: usize,
    /// How far the subject's hours are a schedule (see [`Hours`]).
    support: f64,
}

impl OffHours {
    /// 0-1: the more regular the subject, the further from its hours and
    /// the more days showed them, the stronger (an evening an hour or
    /// three after a working day is overtime; the middle of the night,
    /// `full_gap` hours away or more, is not).
    fn weight(&self, full_gap: usize) -> f64 {
        let distance = (self.gap as f64 / full_gap.max(1) as f64).min(1.0);
        (1.0 - self.active_fraction) * distance * self.support
    }
}

#[derive(Default)]
struct Session<'a> {
    flows: Vec<&'a Flow>,
    logons: Vec<LogonView<'a>>,
    svc: Option<AdminService>,
    /// The subject whose hours the session broke the most, and how far.
    judged: Option<(Subject, OffHours, f64)>,
    /// (user, today's method, the baseline's methods) of a differing logon.
    method_change: Option<(Text, Methods, Methods)>,
}

impl Session<'_> {
    /// Notes that `subject` was never active at this hour; keeps the
    /// strongest such record (an account's own hours on a tie).
    fn broke(&mut self, subject: Subject, off: OffHours, full_gap: usize) {
        let w = off.weight(full_gap);
        let better = match &self.judged {
            None => true,
            Some((s, _, best)) => {
                w > *best
                    || (w == *best
                        && matches!(subject, Subject::Account(_))
                        && !matches!(s, Subject::Account(_)))
            }
        };
        if better {
            self.judged = Some((subject, off, w));
        }
    }

    fn start(&self) -> Option<Timestamp> {
        let f = self.flows.first().map(|f| f.ts);
        let l = self.logons.first().map(|v| v.ts());
        [f, l].into_iter().flatten().min()
    }
}

fn method_names(m: Methods) -> String {
    m.names().join("/")
}

/// True when at least `fraction` of the hosts of `src`'s role use `svc` on
/// `dst` in the baseline: infrastructure every such host reaches.
fn common_service(
    b: &dyn BaselineView,
    src: IpAddr,
    dst: IpAddr,
    svc: AdminService,
    fraction: f64,
) -> bool {
    let role = b.role(src);
    if role == crate::detect::Role::Unknown {
        return false;
    }
    let population = b.role_count(role);
    let used = b.admin_clients(dst, svc, Some(role));
    population > 0 && used >= COMMON_MIN_HOSTS && used as f64 >= fraction * population as f64
}

/// Fewest hosts of a role that make a service on a destination common:
/// one server of three using SSH on another is no infrastructure.
const COMMON_MIN_HOSTS: usize = 5;

impl Detector for OffHoursSession {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.off_hours_session;
        let b = input.baseline;
        let net = &input.config.network;
        if b.period().is_none() {
            return Vec::new();
        }
        let covered = covered_weekdays(b);
        let habits = input.baseline;
        let mut host_hours: BTreeMap<IpAddr, Option<Hours>> = BTreeMap::new();
        let mut source_off = |src: IpAddr, t: Timestamp| -> Option<OffHours> {
            host_hours
                .entry(src)
                .or_insert_with(|| {
                    b.hour_of_week_activity(src)
                        .and_then(|w| Hours::of(w, covered, cfg.min_activity, 1))
                })
                .as_ref()?
                .off_hours(t, cfg)
        };
        let habit_off = |w: WeekHours, t: Timestamp| -> Option<OffHours> {
            Hours::of(w, covered, cfg.min_habit_records, cfg.habit_full_days)?.off_hours(t, cfg)
        };
        let mut sessions: BTreeMap<(IpAddr, HostKey), Session<'_>> = BTreeMap::new();
        for f in input.flows {
            let Some(svc) = AdminService::of_flow(f) else {
                continue;
            };
            if input.directory.same_host(f.orig_h, f.resp_h)
                || !net.is_internal(f.orig_h)
                || !net.is_internal(f.resp_h)
                || !answered(f)
                || b.admin_edge(f.orig_h, f.resp_h, svc).is_none()
                || common_service(b, f.orig_h, f.resp_h, svc, cfg.common_fraction)
            {
                continue;
            }
            // The edge's own hours when the baseline keeps them: a desk
            // that polls the outside all night says nothing of when its
            // user reaches a server.
            let judged = match habits.edge_hours(f.orig_h, f.resp_h, svc) {
                Some(w) => habit_off(w, f.ts).map(|frac| (Subject::Edge, frac)),
                None => source_off(f.orig_h, f.ts).map(|frac| (Subject::Source, frac)),
            };
            let Some((subject, frac)) = judged else {
                continue;
            };
            let dst = input.directory.key_for_ip(f.resp_h);
            let s = sessions.entry((f.orig_h, dst)).or_default();
            s.broke(subject, frac, cfg.full_gap_hours);
            s.svc.get_or_insert(svc);
            s.flows.push(f);
        }
        for v in input.logons {
            let e = v.event();
            if e.action != Action::LoggedIn || !succeeded(e) || !v.is_between_hosts() {
                continue;
            }
            let (Some(src_ip), Some(src), Some(dst)) = (e.source_ip, &v.src, &v.dst) else {
                continue;
            };
            if !b.logon_edge(src, dst) {
                continue;
            }
            // The account's own hours when the baseline keeps them.
            let account = v
                .user
                .as_ref()
                .and_then(|u| habits.account_hours(u).map(|w| (u, w)));
            let judged = match account {
                Some((u, w)) => {
                    habit_off(w, v.ts()).map(|frac| (Subject::Account(u.clone()), frac))
                }
                None => source_off(src_ip, v.ts()).map(|frac| (Subject::Source, frac)),
            };
            let Some((subject, frac)) = judged else {
                continue;
            };
            let s = sessions.entry((src_ip, dst.clone())).or_default();
            s.broke(subject, frac, cfg.full_gap_hours);
            if s.method_change.is_none()
                && let Some(u) = &v.user
            {
                let today = Methods::parse(e.auth_method.as_deref().unwrap_or(""));
                let before = b.user_methods_on(u, dst);
                if today.0 != 0 && before.0 != 0 && !before.contains(today) {
                    s.method_change = Some((u.clone(), today, before));
                }
            }
            s.logons.push(v.clone());
        }
        let mut alerts = Vec::new();
        for ((src_ip, dst_key), s) in sessions {
            let Some(start) = s.start() else { continue };
            let Some((subject, off, weight)) = s.judged.clone() else {
                continue;
            };
            let mut score = cfg.base_score * weight;
            if s.method_change.is_some() {
                score += cfg.method_bonus;
            }
            let score = clamp_score(score);
            if score < cfg.min_score {
                continue;
            }
            let technique = if s.logons.is_empty() {
                s.svc.map_or(attack::VALID_ACCOUNTS, attack::of_service)
            } else {
                attack::VALID_ACCOUNTS
            };
            let mut a = Alert::new(RULE, technique, score, start);
            let src = input.directory.host_ip(src_ip);
            let dst = s
                .logons
                .first()
                .and_then(|v| v.dst_ref(input.directory))
                .or_else(|| s.flows.first().map(|f| input.directory.host_ip(f.resp_h)));
            let how = hour_of_week(start);
            let what = match s.svc {
                Some(svc) => format!("used {} to", svc.label()),
                None => "logged on to".to_string(),
            };
            let whose = match &subject {
                Subject::Account(u) => format!("{u} never logged on"),
                Subject::Edge => "the edge was never used".to_string(),
                Subject::Source => "the source was never active".to_string(),
            };
            let mut msg = format!(
                "{} {what} {}, a known edge, on {} at {:02}:00 UTC, an hour of the week {whose} in {}; it was active in {} of the day's 24 hours",
                src.label(),
                dst.as_ref()
                    .map_or_else(|| dst_key.to_string(), |h| h.label()),
                WEEKDAYS.get(how / 24).copied().unwrap_or("?"),
                how % 24,
                baseline_span(b),
                (off.active_fraction * 24.0).round() as u32
            );
            if let Some((user, today, before)) = &s.method_change {
                msg.push_str(&format!(
                    "; {user} authenticated with {} where the baseline saw {}",
                    method_names(*today),
                    method_names(*before)
                ));
                a.user = Some(user.to_string());
            } else if let Some(u) = s.logons.iter().find_map(|v| v.user.clone()) {
                a.user = Some(u.to_string());
            }
            a.message = msg;
            a.source = Some(src);
            a.destination = dst;
            a.destination_port = s.flows.first().map(|f| f.resp_p);
            a.movement = true;
            a.known_edge = true;
            for f in &s.flows {
                a.add_evidence(flow_evidence(f));
            }
            for v in &s.logons {
                a.add_evidence(v.evidence());
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
