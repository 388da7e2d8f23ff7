//! Suppression: alerts an analyst has judged routine, by entries of the
//! configuration file, each with its reason.
//!
//! ```toml
//! [[suppress]]
//! reason = "monthly patch window: SCCM pushes from the admin subnet"
//! rule = "lateral.new-admin-edge"      # rule id, `*` and `?` globs
//! source = "10.1.9.0/24"               # CIDR, or a host-name glob ("adm-*")
//! destination = "ws-*"                 # the same
//! host = "backup01"                    # either side
//! role = "admin"                       # the source's role in the baseline
//! user = "svc-sccm"                    # account glob, case-insensitive
//! from = "2026-12-05T22:00:00Z"        # a change window (alert start)
//! until = "2026-12-06T04:00:00Z"
//! ```
//!
//! Every key but `reason` is optional; an entry matches an alert when all
//! of its keys do. Suppressed alerts are taken out before incidents are
//! built, counted in the report and listed with `--show-suppressed`. Unlike
//! `[allowlist]` (which drops silently and can stop a rule from running),
//! nothing suppressed is lost from sight.

use crate::alert::{Alert, HostRef};
use crate::model::Role;
use crate::model::event::Timestamp;

use super::Directory;
use super::baseline_view::Roles;
pub use super::settings::Suppression;
use super::settings::{Cidr, MAX_GLOB};

/// An alert taken out by a suppression entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    /// The alert.
    pub alert: Alert,
    /// The entry's position in the configuration (1-based).
    pub entry: usize,
    /// The entry's reason.
    pub reason: String,
}

/// Whether `text` matches `glob` (`*` any run, `?` one character),
/// ASCII case-insensitively.
pub fn glob_match(glob: &str, text: &str) -> bool {
    if glob.len() > MAX_GLOB || text.len() > MAX_GLOB {
        return false;
    }
    let g: Vec<char> = glob.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    // Greedy with backtracking to the last star: linear in practice.
    let (mut gi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match g.get(gi) {
            Some('*') => {
                star = Some((gi, ti));
                gi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                gi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    gi = sg + 1;
                    ti = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    g.get(gi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// A host pattern: a network, or a name glob.
enum HostPattern<'a> {
    Net(Cidr),
    Name(&'a str),
}

fn host_pattern(p: &str) -> HostPattern<'_> {
    match p.parse::<Cidr>() {
        Ok(c) => HostPattern::Net(c),
        Err(_) => HostPattern::Name(p),
    }
}

fn host_matches(p: &str, h: Option<&HostRef>) -> bool {
    let Some(h) = h else { return false };
    match host_pattern(p) {
        HostPattern::Net(c) => h.ip.is_some_and(|ip| c.contains(ip)),
        HostPattern::Name(g) => h.name.as_deref().is_some_and(|n| glob_match(g, n)),
    }
}

fn time(s: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(s)
}

impl Suppression {
    /// Whether the entry matches `a` (every key it has).
    pub fn matches<R: Roles + ?Sized>(&self, a: &Alert, baseline: &R, names: &Directory) -> bool {
        let src = a.source.as_ref();
        let dst = a.destination.as_ref();
        self.rule
            .as_deref()
            .is_none_or(|g| glob_match(g, a.rule.id))
            && self.source.as_deref().is_none_or(|p| host_matches(p, src))
            && self
                .destination
                .as_deref()
                .is_none_or(|p| host_matches(p, dst))
            && self
                .host
                .as_deref()
                .is_none_or(|p| host_matches(p, src) || host_matches(p, dst))
            && self.user.as_deref().is_none_or(|g| {
                a.user.as_deref().is_some_and(|u| glob_match(g, u))
                    || a.related_users.iter().any(|u| glob_match(g, u))
            })
            && self
                .from
                .as_deref()
                .and_then(time)
                .is_none_or(|t| a.start >= t)
            && self
                .until
                .as_deref()
                .and_then(time)
                .is_none_or(|t| a.start < t)
            && self.role.as_deref().is_none_or(|r| {
                let Ok(want) = r.parse::<Role>() else {
                    return false;
                };
                src.is_some_and(|h| source_role(h, baseline, names) == Some(want))
            })
    }
}

/// The source's role in the baseline: by its address when the alert has
/// one, else by its key.
fn source_role<R: Roles + ?Sized>(src: &HostRef, baseline: &R, names: &Directory) -> Option<Role> {
    match src.ip {
        Some(ip) => Some(baseline.role_of_ip(ip)),
        None => names
            .key(None, src.name.as_deref())
            .map(|k| baseline.role_of_host(&k)),
    }
}

/// Splits `alerts` into those kept and those the first matching entry of
/// `entries` suppresses.
pub fn split<R: Roles + ?Sized>(
    alerts: Vec<Alert>,
    entries: &[Suppression],
    baseline: &R,
    names: &Directory,
) -> (Vec<Alert>, Vec<Suppressed>) {
    if entries.is_empty() {
        return (alerts, Vec::new());
    }
    let mut kept = Vec::with_capacity(alerts.len());
    let mut out = Vec::new();
    for a in alerts {
        match entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.matches(&a, baseline, names))
        {
            Some((i, e)) => out.push(Suppressed {
                alert: a,
                entry: i + 1,
                reason: e.reason.clone(),
            }),
            None => kept.push(a),
        }
    }
    (kept, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_shells_do_without_case() {
        assert!(glob_match("ws-*", "WS-017"));
        assert!(glob_match("lateral.new-*", "lateral.new-admin-edge"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*b*d", "abcbd"));
        assert!(!glob_match("ws-*", "srv-01"));
        assert!(!glob_match("a?c", "ac"));
        assert!(!glob_match("abc", "abcd"));
    }

    #[test]
    fn entries_need_a_reason_a_known_role_and_times_in_order() {
        let ok = Suppression {
            reason: "patch window".into(),
            role: Some("admin".into()),
            from: Some("2026-12-05T22:00:00Z".into()),
            until: Some("2026-12-06T04:00:00Z".into()),
            ..Suppression::default()
        };
        assert_eq!(ok.check(), Ok(()));
        let no_reason = Suppression {
            reason: " ".into(),
            ..ok.clone()
        };
        assert!(no_reason.check().unwrap_err().contains("reason"));
        let bad_role = Suppression {
            role: Some("wizard".into()),
            ..ok.clone()
        };
        assert!(bad_role.check().unwrap_err().contains("role"));
        let backwards = Suppression {
            until: Some("2026-12-05T21:00:00Z".into()),
            ..ok.clone()
        };
        assert!(backwards.check().unwrap_err().contains("until"));
    }
}
