//! Remote execution tied to its source: which host installed a service
//! (7045, 4697) or used an admin share (`ADMIN$`, `C$`; 5140, 5145) on
//! another. One attribution for both uses: the profile builder records the
//! pairs a baseline saw ([`crate::profile::AdminStats::exec`]), and the
//! `lateral.remote-exec` detector judges today's against them.
//!
//! A share access names its own source address, and so does a service
//! installation the capture analyzers saw requested over svcctl. One from a
//! host log does not: it is tied to the latest successful network logon on the same
//! host from another host within the window (PsExec logs on over SMB, then
//! starts its service). Events must be sorted by time; memory holds the
//! logons of the last window per host.

use crate::model::Action;
use crate::model::event::{LogEvent, Text};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;
use std::hash::Hash;
use std::net::IpAddr;

/// How long after a network logon a service installation is still tied to
/// it when the baseline is built (the detector's default window).
pub const BASELINE_WINDOW_NS: i64 = 10 * 60 * 1_000_000_000;

/// Which host of an event a key is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The host that wrote the record (`host.ip`, `host.name`).
    Writer,
    /// The host the action came from (`source.ip`, `source.domain`).
    Source,
}

/// True for an access to the `ADMIN$` or `C$` share.
pub fn is_admin_share(e: &LogEvent) -> bool {
    matches!(e.action, Action::ShareAccessed | Action::ShareObjectChecked)
        && e.share_name().is_some_and(|s| {
            let s = s.trim();
            let tail = s.rsplit('\\').next().unwrap_or(s);
            tail.eq_ignore_ascii_case("ADMIN$") || tail.eq_ignore_ascii_case("C$")
        })
}

/// True for an event that is itself remote execution evidence: a service
/// installation or an admin-share access.
pub fn is_exec_action(e: &LogEvent) -> bool {
    e.action == Action::ServiceInstalled || is_admin_share(e)
}

/// The directory key of a side's host as the baseline ties remote
/// execution ([`attribute`]): the writer by name first, the source by
/// address first.
pub fn directory_key(
    dir: &crate::hosts::HostDirectory,
    side: Side,
    ip: Option<IpAddr>,
    name: Option<&str>,
) -> Option<crate::hosts::HostKey> {
    match side {
        Side::Writer => match (name.and_then(|n| dir.key_for_name(n)), ip) {
            (Some(k), _) => Some(k),
            (None, Some(ip)) => Some(dir.key_for_ip(ip)),
            (None, None) => None,
        },
        Side::Source => match ip {
            Some(ip) => Some(dir.key_for_ip(ip)),
            None => name.and_then(|n| dir.key_for_name(n)),
        },
    }
}

/// A service installation or admin-share access tied to its source.
#[derive(Debug, Clone)]
pub struct ExecHit<'a, K> {
    /// The source host's key.
    pub src: K,
    /// The key of the host it happened on.
    pub host: K,
    /// The network logon a service installation was tied to, if found (for
    /// share accesses: the latest logon from the same address, if any).
    pub logon: Option<&'a LogEvent>,
    /// The service installation or share access.
    pub action: &'a LogEvent,
}

impl Side {
    /// The address and name an event gives for this side's host.
    pub fn of(self, e: &LogEvent) -> (Option<IpAddr>, Option<&str>) {
        match self {
            Side::Writer => (e.host_ip, e.host_name.as_deref()),
            Side::Source => (e.source_ip, e.source_domain.as_deref()),
        }
    }
}

/// Ties every service installation and admin-share access in `events`
/// (sorted by time) to its source host. `resolve` keys a side's host from
/// the address and name the event gives for it ([`Side::of`]); keys of one
/// host must compare equal, and one (side, address, name) always gets one
/// key, so each is resolved once. Hits whose source is the host itself are
/// dropped. `window` is in nanoseconds.
pub fn attribute<'a, K: Eq + Hash + Clone>(
    events: &'a [LogEvent],
    window: i64,
    mut resolve: impl FnMut(Side, Option<IpAddr>, Option<&str>) -> Option<K>,
) -> Vec<ExecHit<'a, K>> {
    let mut memo: FxHashMap<(Side, Option<IpAddr>, Option<Text>), Option<K>> = FxHashMap::default();
    let mut key = |e: &LogEvent, side: Side| -> Option<K> {
        let (ip, name) = side.of(e);
        let spelling = (side, ip, name.map(Text::from));
        if let Some(k) = memo.get(&spelling) {
            return k.clone();
        }
        let k = resolve(side, ip, name);
        memo.insert(spelling, k.clone());
        k
    };
    let window = window.max(0);
    let mut out = Vec::new();
    // Only logons on hosts with remote execution can be tied to it; most
    // logs hold none at all, and then there is no logon bookkeeping.
    // Looked up, never iterated: hits come out in event order.
    let exec_hosts: FxHashSet<K> = events
        .iter()
        .filter(|e| is_exec_action(e))
        .filter_map(|e| key(e, Side::Writer))
        .collect();
    if exec_hosts.is_empty() {
        return out;
    }
    // Per host: its recent successful network logons from another host, oldest first.
    let mut logons: FxHashMap<K, VecDeque<(&'a LogEvent, K)>> = FxHashMap::default();
    for e in events {
        let logon = crate::profile::logon::is_network_logon(e)
            && e.outcome == Some(crate::model::event::Outcome::Success);
        if !logon && !is_exec_action(e) {
            continue;
        }
        let Some(host) = key(e, Side::Writer) else {
            continue;
        };
        if logon && !exec_hosts.contains(&host) {
            continue;
        }
        let recent = logons.entry(host.clone()).or_default();
        while recent
            .front()
            .is_some_and(|(l, _)| e.ts.0.saturating_sub(l.ts.0) > window)
        {
            recent.pop_front();
        }
        if logon {
            if let Some(src) = key(e, Side::Source).filter(|s| *s != host) {
                recent.push_back((e, src));
            }
            continue;
        }
        // A service installation seen on the wire (svcctl CreateService)
        // names its source, as a share access does.
        let service = e.action == Action::ServiceInstalled && e.source_ip.is_none();
        let tied = recent
            .iter()
            .rev()
            .find(|(l, _)| service || e.source_ip.is_none() || l.source_ip == e.source_ip)
            .map(|(l, s)| (*l, s.clone()));
        let src = match (service, e.source_ip.is_some()) {
            (false, true) => key(e, Side::Source),
            _ => tied.as_ref().map(|(_, s)| s.clone()),
        };
        let Some(src) = src.filter(|s| *s != host) else {
            continue;
        };
        out.push(ExecHit {
            src,
            host,
            logon: tied.map(|(l, _)| l),
            action: e,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Outcome, Timestamp};

    fn ev(t: i64, action: &str, host: &str, src: Option<&str>) -> LogEvent {
        LogEvent {
            ts: Timestamp::from_parts(t, 0),
            action: Action::from_text(action).expect("an action"),
            dataset: "windows.security".into(),
            host_ip: host.parse().ok(),
            source_ip: src.and_then(|s| s.parse().ok()),
            outcome: Some(Outcome::Success),
            ..LogEvent::default()
        }
    }

    fn logon(t: i64, host: &str, src: &str) -> LogEvent {
        let mut e = ev(t, "logged-in", host, Some(src));
        e.logon_type = Some(3);
        e
    }

    fn key(_: Side, ip: Option<IpAddr>, _: Option<&str>) -> Option<String> {
        ip.map(|i| i.to_string())
    }

    #[test]
    fn services_follow_the_latest_logon_within_the_window_and_shares_their_own_source() {
        let mut share = ev(130, "share-accessed", "10.0.0.9", Some("10.0.0.7"));
        share.set_share_name(Some("\\\\*\\ADMIN$".into()));
        let mut ipc = ev(131, "share-accessed", "10.0.0.9", Some("10.0.0.8"));
        ipc.set_share_name(Some("\\\\*\\IPC$".into()));
        let events = vec![
            logon(100, "10.0.0.9", "10.0.0.5"),
            logon(110, "10.0.0.9", "10.0.0.6"),
            ev(120, "service-installed", "10.0.0.9", None),
            share,
            ipc,
            // Eleven minutes after the last logon: too late to tie.
            ev(110 + 660, "service-installed", "10.0.0.9", None),
            // A logon from the host itself ties nothing.
            logon(800, "10.0.0.4", "10.0.0.4"),
            ev(801, "service-installed", "10.0.0.4", None),
        ];
        let hits = attribute(&events, BASELINE_WINDOW_NS, key);
        let pairs: Vec<(String, String, i64)> = hits
            .iter()
            .map(|h| (h.src.clone(), h.host.clone(), h.action.ts.secs()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("10.0.0.6".to_string(), "10.0.0.9".to_string(), 120),
                ("10.0.0.7".to_string(), "10.0.0.9".to_string(), 130),
            ]
        );
        assert_eq!(hits[0].logon.map(|l| l.ts.secs()), Some(110));
    }
}
