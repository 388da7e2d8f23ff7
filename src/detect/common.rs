//! Helpers shared by the detectors: reading logon events, naming accounts,
//! and turning records into evidence.

use crate::alert::{Evidence, EvidenceKind};
pub use crate::alert::{clamp_score, minutes};
use crate::model::HostKey;
use crate::model::event::{Flow, LogEvent, Outcome, Text};

/// Accounts that are the system itself, never a person or an attacker's choice.
pub fn is_system_account(user: &str) -> bool {
    let u = user.trim();
    u.is_empty()
        || u == "-"
        || u.ends_with('$')
        || u.eq_ignore_ascii_case("ANONYMOUS LOGON")
        || u.eq_ignore_ascii_case("SYSTEM")
        || u.eq_ignore_ascii_case("LOCAL SERVICE")
        || u.eq_ignore_ascii_case("NETWORK SERVICE")
        || u.to_ascii_uppercase().starts_with("DWM-")
        || u.to_ascii_uppercase().starts_with("UMFD-")
}

/// `s` in ASCII lower case, as inline text (no allocation for short text).
pub fn lower_text(s: &str) -> Text {
    let mut t = Text::from(s);
    t.make_ascii_lowercase();
    t
}

/// The lower-case account name of an event, unless it is a system account.
pub fn user_of(e: &LogEvent) -> Option<Text> {
    let u = e.user_name.as_deref()?;
    (!is_system_account(u)).then(|| lower_text(u.trim()))
}

/// A logon or failed logon that came over the network (Windows logon types
/// 3 network, 8 cleartext, 10 remote interactive; or a daemon's logon
/// with a remote address, like sshd).
pub fn is_remote_logon(e: &LogEvent) -> bool {
    crate::profile::logon::is_network_logon(e)
}

/// True for a successful event.
pub fn succeeded(e: &LogEvent) -> bool {
    e.outcome == Some(Outcome::Success)
}

/// True for a failed event.
pub fn failed(e: &LogEvent) -> bool {
    e.outcome == Some(Outcome::Failure)
}

/// True when the event's method names NTLM.
pub fn is_ntlm(e: &LogEvent) -> bool {
    e.auth_method
        .as_deref()
        .is_some_and(|m| m.to_ascii_uppercase().contains("NTLM"))
}

/// Evidence for a flow: its uid, endpoints and state.
pub fn flow_evidence(f: &Flow) -> Evidence {
    Evidence {
        ts: f.ts,
        kind: EvidenceKind::Flow,
        origin: f.origin.clone(),
        summary: format!(
            "{} {}:{} -> {}:{} {} {}B/{}B",
            f.uid,
            f.orig_h,
            f.orig_p,
            f.resp_h,
            f.resp_p,
            f.conn_state.code(),
            f.orig_bytes.unwrap_or(0),
            f.resp_bytes.unwrap_or(0)
        ),
    }
}

/// Evidence for a log event: its code, action, account and host.
pub fn log_evidence(e: &LogEvent) -> Evidence {
    let mut s = String::new();
    if let Some(c) = e.code {
        s.push_str(&c.to_string());
        s.push(' ');
    }
    s.push_str(e.action.as_str());
    if let Some(u) = &e.user_name {
        s.push_str(" user=");
        s.push_str(u);
    }
    if let Some(h) = &e.host_name {
        s.push_str(" host=");
        s.push_str(h);
    }
    if let Some(ip) = e.source_ip {
        s.push_str(&format!(" from={ip}"));
    }
    if let Some(t) = e.logon_type {
        s.push_str(&format!(" type={t}"));
    }
    if let Some(m) = &e.auth_method {
        s.push_str(" auth=");
        s.push_str(m);
    }
    if let Some(n) = e.service_name() {
        s.push_str(" service=");
        s.push_str(n);
    }
    if let Some(n) = e.share_name() {
        s.push_str(" share=");
        s.push_str(n);
    }
    Evidence {
        ts: e.ts,
        kind: EvidenceKind::Log,
        origin: e.origin.clone(),
        summary: s,
    }
}

/// "N days" or "N hours" of baseline, for messages.
pub fn baseline_span(b: &dyn super::BaselineView) -> String {
    match b.period() {
        None => "an empty baseline".into(),
        Some((s, e)) => {
            let secs = (e.0 - s.0).max(0) / crate::model::event::NANOS_PER_SEC;
            if secs >= 2 * 86_400 {
                format!("{} days of baseline", (secs + 43_200) / 86_400)
            } else if secs >= 7200 {
                format!("{} hours of baseline", (secs + 1800) / 3600)
            } else {
                {
                    let m = (secs + 30) / 60;
                    format!("{m} minute{} of baseline", if m == 1 { "" } else { "s" })
                }
            }
        }
    }
}

/// A logon event's source and destination hosts and account, resolved
/// through the directory: (source key, destination key, user).
#[derive(Debug, Clone)]
pub struct LogonView<'a> {
    /// The event.
    pub event: &'a crate::model::event::LogEvent,
    /// Source host.
    pub src: Option<HostKey>,
    /// Destination host (the host that wrote the record).
    pub dst: Option<HostKey>,
    /// Lower-case account, unless a system account.
    pub user: Option<Text>,
}

impl<'a> LogonView<'a> {
    /// Resolves one event.
    /// Resolves one event. An explicit-credential logon (4648) is written
    /// by the host the credentials were used from, for the server it names
    /// (`destination.domain`): that host is its source, the server its
    /// destination.
    pub fn of(e: &'a crate::model::event::LogEvent, dir: &super::Directory) -> LogonView<'a> {
        if is_explicit(e) {
            return LogonView {
                event: e,
                src: dir.key(e.host_ip, e.host_name.as_deref()),
                dst: dir.key(None, e.destination_domain.as_deref()),
                user: user_of(e),
            };
        }
        LogonView {
            event: e,
            src: dir.key(e.source_ip, e.source_domain.as_deref()),
            dst: dir.key(e.host_ip, e.host_name.as_deref()),
            user: user_of(e),
        }
    }

    /// The source as an alert names it.
    pub fn src_ref(&self, dir: &super::Directory) -> Option<crate::alert::HostRef> {
        if is_explicit(self.event) {
            return dir.host(self.event.host_ip, self.event.host_name.as_deref());
        }
        dir.host(self.event.source_ip, self.event.source_domain.as_deref())
    }

    /// The destination as an alert names it.
    pub fn dst_ref(&self, dir: &super::Directory) -> Option<crate::alert::HostRef> {
        if is_explicit(self.event) {
            return dir.host(None, self.event.destination_domain.as_deref());
        }
        dir.host(self.event.host_ip, self.event.host_name.as_deref())
    }

    /// True when source and destination are known and different.
    pub fn is_between_hosts(&self) -> bool {
        matches!((&self.src, &self.dst), (Some(s), Some(d)) if s != d)
    }
}

/// A Kerberos authentication attempt a domain controller logged for an
/// account: a TGT request (4768, granted or refused) or a failed
/// pre-authentication (4771, a wrong password among others).
pub fn is_kerberos_attempt(e: &LogEvent) -> bool {
    matches!(
        e.action.as_str(),
        "kerberos-tgt-request" | "kerberos-preauth-failed"
    ) && e.outcome.is_some()
}

/// An explicit-credential logon (4648): credentials typed or passed for
/// another account and server. Windows writes it before it knows whether
/// they work, so it is an attempt of unknown outcome.
pub fn is_explicit(e: &LogEvent) -> bool {
    e.action == crate::model::Action::ExplicitCredentialLogon
}

/// An NTLM credential validation with an outcome (4776 at a domain
/// controller; the source is the workstation it names).
pub fn is_ntlm_validation(e: &LogEvent) -> bool {
    e.action == crate::model::Action::NtlmCredentialValidation && e.outcome.is_some()
}

/// A password attempt that did not (or is not known to) succeed: a failed
/// logon, Kerberos or NTLM attempt, or an explicit-credential logon.
pub fn failed_attempt(e: &LogEvent) -> bool {
    failed(e) || is_explicit(e)
}

/// A password attempt known to have succeeded (an explicit-credential
/// logon is not: it says nothing of the outcome).
pub fn succeeded_attempt(e: &LogEvent) -> bool {
    succeeded(e) && !is_explicit(e)
}

/// The sources with at least `need` failed attempts
/// ([`failed_attempt`]) among `logons`: a detector that alerts only on
/// that many failures groups no other source.
pub fn failing_sources<'a>(
    logons: &[&'a LogonView<'_>],
    need: usize,
) -> rustc_hash::FxHashMap<&'a HostKey, usize> {
    let mut failures: rustc_hash::FxHashMap<&HostKey, usize> = rustc_hash::FxHashMap::default();
    for v in logons.iter().filter(|v| failed_attempt(v.event)) {
        if let Some(s) = &v.src {
            *failures.entry(s).or_insert(0) += 1;
        }
    }
    failures.retain(|_, n| *n >= need);
    failures
}

/// The largest number of distinct keys inside any window of `window` ns
/// over `(time, key)` items sorted by time: (count, first index, end index).
pub fn busiest_window<K: Ord + Clone>(
    items: &[(crate::model::event::Timestamp, K)],
    window: i64,
) -> (usize, usize, usize) {
    let mut inside: std::collections::BTreeMap<K, usize> = std::collections::BTreeMap::new();
    let mut lo = 0;
    let mut best = (0, 0, 0);
    for (hi, (t, k)) in items.iter().enumerate() {
        *inside.entry(k.clone()).or_insert(0) += 1;
        while let Some((lt, lk)) = items.get(lo) {
            if t.0 - lt.0 <= window {
                break;
            }
            if let Some(c) = inside.get_mut(lk) {
                *c -= 1;
                if *c == 0 {
                    inside.remove(lk);
                }
            }
            lo += 1;
        }
        if inside.len() > best.0 {
            best = (inside.len(), lo, hi + 1);
        }
    }
    best
}
