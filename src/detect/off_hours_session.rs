//! `lateral.off-hours-session`: a known remote-admin session at an hour of
//! the week in which its source was never active.
//!
//! ## What it detects
//! A connection on a remote-admin port (SMB, RDP, WinRM, SSH, RPC, VNC,
//! Telnet) over an edge the baseline already holds, or a successful
//! network logon (Windows events, sshd) over a known logon edge, made in
//! an hour of the week in which the source host never originated a flow
//! or a logon in the baseline, at least `min_gap_hours` from any hour of
//! the day it was active in. Weekdays the baseline does not cover in full
//! are judged by the hour of the day alone. The score weighs how
//! regular the source's hours are (the share of the day's 24 hours it was
//! ever active in): a host active around the clock never fires, a 9-to-5
//! workstation at 22:00 does. It rises when the session's authentication
//! method also differs from every method the account used on that host
//! in the baseline (a key where a password was used, NTLM where Kerberos
//! was).
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
//! to judge a source), `min_gap_hours` (distance from its usual hours),
//! `max_active_fraction` (sources active in more of
//! the day have no off hours), `base_score`, `method_bonus`, `min_score`.

use super::common::{
    LogonView, baseline_span, clamp_score, flow_evidence, log_evidence, succeeded,
};
use super::{AdminService, BaselineView, DetectInput, Detector, answered};
use crate::alert::{Alert, Rule, attack};
use crate::event::{Flow, Timestamp};
use crate::profile::Methods;
use crate::profile::host::{HOURS_PER_WEEK, hour_of_week};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.off-hours-session",
    name: "Known remote-admin session at an unusual hour",
    description: "A host used a known remote-admin edge or logon in an hour of the week in which it was never active in the baseline, possibly with an unusual authentication method.",
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

/// A source's baseline hours, ready to judge a time.
struct SourceHours<'a> {
    counts: &'a [u32],
    covered: [bool; 7],
    /// Share of the 24 hours of the day in which it was ever active.
    active_fraction: f64,
}

impl<'a> SourceHours<'a> {
    fn of(b: &'a dyn BaselineView, src: IpAddr, covered: [bool; 7], min: u64) -> Option<Self> {
        let counts = b.hour_of_week_activity(src)?;
        if counts.len() != HOURS_PER_WEEK {
            return None;
        }
        let total: u64 = counts.iter().map(|c| u64::from(*c)).sum();
        if total < min {
            return None;
        }
        let active = (0..24)
            .filter(|h| Self::hour_of_day(counts, *h) > 0)
            .count();
        Some(SourceHours {
            counts,
            covered,
            active_fraction: active as f64 / 24.0,
        })
    }

    fn hour_of_day(counts: &[u32], hod: usize) -> u64 {
        (0..7)
            .filter_map(|d| counts.get(d * 24 + hod))
            .map(|c| u64::from(*c))
            .sum()
    }

    /// Hours from `hod` to the nearest hour of the day in which the source
    /// was ever active (on any weekday), around the clock; 24 when never.
    fn gap(&self, hod: usize) -> usize {
        (0..24usize)
            .filter(|h| Self::hour_of_day(self.counts, *h) > 0)
            .map(|h| {
                let d = h.abs_diff(hod);
                d.min(24 - d)
            })
            .min()
            .unwrap_or(24)
    }

    /// True when the source was never active in `t`'s hour of the week
    /// (or, for a weekday the baseline does not cover, its hour of the
    /// day), and that hour lies at least `min_gap` hours from any hour of
    /// the day it was active in (a schedule that starts or ends an hour
    /// early or late is no off-hours session).
    fn unseen(&self, t: Timestamp, min_gap: usize) -> bool {
        let how = hour_of_week(t);
        let covered = self.covered.get(how / 24).copied().unwrap_or(false);
        let slot_free = if covered {
            self.counts.get(how).is_some_and(|c| *c == 0)
        } else {
            Self::hour_of_day(self.counts, how % 24) == 0
        };
        slot_free && self.gap(how % 24) >= min_gap
    }
}

#[derive(Default)]
struct Session<'a> {
    flows: Vec<&'a Flow>,
    logons: Vec<LogonView<'a>>,
    svc: Option<AdminService>,
    /// (user, today's method, the baseline's methods) of a differing logon.
    method_change: Option<(String, Methods, Methods)>,
}

impl Session<'_> {
    fn start(&self) -> Option<Timestamp> {
        let f = self.flows.first().map(|f| f.ts);
        let l = self.logons.first().map(|v| v.event.ts);
        [f, l].into_iter().flatten().min()
    }
}

fn method_names(m: Methods) -> String {
    m.names().join("/")
}

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
        let mut hours: BTreeMap<IpAddr, Option<SourceHours<'_>>> = BTreeMap::new();
        let mut off_hours = |src: IpAddr, t: Timestamp| -> Option<f64> {
            let h = hours
                .entry(src)
                .or_insert_with(|| SourceHours::of(b, src, covered, cfg.min_activity));
            let h = h.as_ref()?;
            (h.active_fraction < cfg.max_active_fraction && h.unseen(t, cfg.min_gap_hours))
                .then_some(h.active_fraction)
        };
        let mut sessions: BTreeMap<(IpAddr, String), (f64, Session<'_>)> = BTreeMap::new();
        for f in input.flows {
            let Some(svc) = AdminService::of_flow(f) else {
                continue;
            };
            if f.orig_h == f.resp_h
                || !net.is_internal(f.orig_h)
                || !net.is_internal(f.resp_h)
                || !answered(f)
                || b.admin_edge(f.orig_h, f.resp_h, svc).is_none()
            {
                continue;
            }
            let Some(frac) = off_hours(f.orig_h, f.ts) else {
                continue;
            };
            let Some(dst) = input.directory.key(Some(f.resp_h), None) else {
                continue;
            };
            let s = sessions.entry((f.orig_h, dst)).or_default();
            s.0 = frac;
            s.1.svc.get_or_insert(svc);
            s.1.flows.push(f);
        }
        for v in input.logons {
            let e = v.event;
            if e.action != "logged-in" || !succeeded(e) || !v.is_between_hosts() {
                continue;
            }
            let (Some(src_ip), Some(src), Some(dst)) = (e.source_ip, &v.src, &v.dst) else {
                continue;
            };
            if !b.logon_edge(src, dst) {
                continue;
            }
            let Some(frac) = off_hours(src_ip, e.ts) else {
                continue;
            };
            let s = sessions.entry((src_ip, dst.clone())).or_default();
            s.0 = frac;
            if s.1.method_change.is_none()
                && let Some(u) = &v.user
            {
                let today = Methods::parse(e.auth_method.as_deref().unwrap_or(""));
                let before = b.user_methods_on(u, dst);
                if today.0 != 0 && before.0 != 0 && !before.contains(today) {
                    s.1.method_change = Some((u.clone(), today, before));
                }
            }
            s.1.logons.push(v.clone());
        }
        let mut alerts = Vec::new();
        for ((src_ip, dst_key), (frac, s)) in sessions {
            let Some(start) = s.start() else { continue };
            let mut score = cfg.base_score * (1.0 - frac);
            if s.method_change.is_some() {
                score += cfg.method_bonus;
            }
            let score = clamp_score(score);
            if score < cfg.min_score {
                continue;
            }
            let technique = if s.logons.is_empty() {
                s.svc
                    .map_or(attack::VALID_ACCOUNTS, AdminService::technique)
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
                Some(svc) => format!("used {} to", svc.name()),
                None => "logged on to".to_string(),
            };
            let mut msg = format!(
                "{} {what} {}, a known edge, on {} at {:02}:00 UTC, an hour of the week it was never active in {}; it was active in {} of the day's 24 hours",
                src.label(),
                dst.as_ref().map_or_else(|| dst_key.clone(), |h| h.label()),
                WEEKDAYS.get(how / 24).copied().unwrap_or("?"),
                how % 24,
                baseline_span(b),
                (frac * 24.0).round() as u32
            );
            if let Some((user, today, before)) = &s.method_change {
                msg.push_str(&format!(
                    "; {user} authenticated with {} where the baseline saw {}",
                    method_names(*today),
                    method_names(*before)
                ));
                a.user = Some(user.clone());
            } else if let Some(u) = s.logons.iter().find_map(|v| v.user.clone()) {
                a.user = Some(u);
            }
            a.message = msg;
            a.source = Some(src);
            a.destination = dst;
            a.destination_port = s.flows.first().map(|f| f.resp_p);
            a.movement = true;
            for f in &s.flows {
                a.add_evidence(flow_evidence(f));
            }
            for v in &s.logons {
                a.add_evidence(log_evidence(v.event));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
