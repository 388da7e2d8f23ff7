//! Helpers shared by the detectors: reading logon events, naming accounts,
//! and turning records into evidence.

use crate::alert::{Evidence, EvidenceKind};
pub use crate::alert::{clamp_score, minutes};
use crate::model::HostKey;
use crate::model::event::{Flow, LogEvent, Origin, Outcome, Text, Timestamp};
use crate::profile::held::{Held, HeldLogons};

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

/// A logon's source and destination hosts and account, resolved through
/// the directory.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    /// Source host.
    pub src: Option<HostKey>,
    /// Destination host (the host that wrote the record).
    pub dst: Option<HostKey>,
    /// Lower-case account, unless a system account.
    pub user: Option<Text>,
}

impl Parties {
    /// Resolves one event. An explicit-credential logon (4648) is written
    /// by the host the credentials were used from, for the server it names
    /// (`destination.domain`): that host is its source, the server its
    /// destination.
    pub fn of(e: &LogEvent, dir: &super::Directory) -> Parties {
        if is_explicit(e) {
            return Parties {
                src: dir.key(e.host_ip, e.host_name.as_deref()),
                dst: dir.key(None, e.destination_domain.as_deref()),
                user: user_of(e),
            };
        }
        Parties {
            src: dir.key(e.source_ip, e.source_domain.as_deref()),
            dst: dir.key(e.host_ip, e.host_name.as_deref()),
            user: user_of(e),
        }
    }
}

/// The judged events a streamed analysis held compactly
/// ([`crate::profile::held`]), with each template's parties resolved once.
#[derive(Debug)]
pub struct HeldContext<'a> {
    /// The held events.
    pub store: &'a HeldLogons,
    parties: Vec<Parties>,
}

impl<'a> HeldContext<'a> {
    /// Resolves the parties of every template of `store`.
    pub fn new(store: &'a HeldLogons, dir: &super::Directory) -> HeldContext<'a> {
        use rayon::prelude::*;
        HeldContext {
            store,
            parties: store
                .templates()
                .par_iter()
                .with_min_len(1024)
                .map(|t| Parties::of(t, dir))
                .collect(),
        }
    }

    /// The views of the held events `keep` accepts (by template), in run order.
    pub fn views(&'a self, keep: impl Fn(&LogEvent) -> bool) -> Vec<LogonView<'a>> {
        let keep_template: Vec<bool> = self.store.templates().iter().map(keep).collect();
        let kept = |h: &&Held| {
            keep_template
                .get(HeldLogons::template_index(h))
                .copied()
                .unwrap_or(false)
        };
        // Counted first: the list is allocated once at its exact length,
        // not doubled as it grows (up to twice the memory on millions).
        let n = self.store.records().iter().filter(kept).count();
        let mut views = Vec::with_capacity(n);
        views.extend(self.store.records().iter().filter(kept).map(|h| LogonView {
            of: ViewOf::Held(h, self),
        }));
        views
    }
}

/// An empty event and parties, for a held record whose template is
/// missing (never, by construction).
fn nothing() -> &'static (LogEvent, Parties) {
    static NOTHING: std::sync::OnceLock<(LogEvent, Parties)> = std::sync::OnceLock::new();
    NOTHING.get_or_init(Default::default)
}

/// A logon event (or password attempt) with its source, destination and
/// account resolved ([`Parties`], read through `Deref`): an event held in
/// full, or a held one ([`HeldContext`]). Its time and origin are
/// [`LogonView::ts`] and [`LogonView::origin`], not those of
/// [`LogonView::event`] (a held event's template has neither).
#[derive(Debug, Clone)]
pub struct LogonView<'a> {
    of: ViewOf<'a>,
}

/// 16 bytes (the event and its parties behind one pointer, a held one's
/// two pointers beside it): millions are made on a large day.
#[derive(Debug, Clone)]
enum ViewOf<'a> {
    /// An event held in full, with its parties.
    Event(Box<(&'a LogEvent, Parties)>),
    /// A held event.
    Held(&'a Held, &'a HeldContext<'a>),
}

// A view stays two words (see `ViewOf`).
const _: () = assert!(std::mem::size_of::<LogonView<'static>>() <= 16);

impl std::ops::Deref for LogonView<'_> {
    type Target = Parties;
    fn deref(&self) -> &Parties {
        match &self.of {
            ViewOf::Event(b) => &b.1,
            ViewOf::Held(h, c) => c
                .parties
                .get(HeldLogons::template_index(h))
                .unwrap_or(&nothing().1),
        }
    }
}

impl<'a> LogonView<'a> {
    /// Resolves one event held in full ([`Parties::of`]).
    pub fn of(e: &'a LogEvent, dir: &super::Directory) -> LogonView<'a> {
        LogonView {
            of: ViewOf::Event(Box::new((e, Parties::of(e, dir)))),
        }
    }

    /// The event: for a held one its template, without time and origin
    /// (read [`LogonView::ts`] and [`LogonView::origin`]).
    pub fn event(&self) -> &'a LogEvent {
        match &self.of {
            ViewOf::Event(b) => b.0,
            ViewOf::Held(h, c) => c.store.template(h).unwrap_or(&nothing().0),
        }
    }

    /// When it happened.
    pub fn ts(&self) -> Timestamp {
        match &self.of {
            ViewOf::Event(b) => b.0.ts,
            ViewOf::Held(h, _) => h.ts,
        }
    }

    /// Where it was read.
    pub fn origin(&self) -> Option<Origin> {
        match &self.of {
            ViewOf::Event(b) => b.0.origin.clone(),
            ViewOf::Held(h, c) => c.store.origin(h),
        }
    }

    /// True when this is the event `e` held in full.
    pub fn is(&self, e: &LogEvent) -> bool {
        matches!(&self.of, ViewOf::Event(b) if std::ptr::eq(b.0, e))
    }

    /// True for a held event ([`HeldContext`]).
    pub fn is_held(&self) -> bool {
        matches!(self.of, ViewOf::Held(..))
    }

    /// This against `other` in run order (time, origin, action); on a
    /// tie an event held in full first.
    pub fn run_order(&self, other: &LogonView<'_>) -> std::cmp::Ordering {
        self.ts()
            .cmp(&other.ts())
            .then_with(|| self.origin().cmp(&other.origin()))
            .then_with(|| self.event().action.cmp(&other.event().action))
            .then_with(|| self.is_held().cmp(&other.is_held()))
    }

    /// True when this comes before the event `e` in run order.
    pub fn before(&self, e: &LogEvent) -> bool {
        match &self.of {
            ViewOf::Event(b) => {
                let x = b.0;
                x.ts.cmp(&e.ts)
                    .then_with(|| x.origin.cmp(&e.origin))
                    .then_with(|| x.action.cmp(&e.action))
                    .is_lt()
            }
            ViewOf::Held(h, c) => c.store.order(h, e).is_lt(),
        }
    }

    /// Its evidence (as `log_evidence` gives it, at its own time and origin).
    pub fn evidence(&self) -> Evidence {
        match &self.of {
            ViewOf::Event(b) => log_evidence(b.0),
            ViewOf::Held(h, c) => {
                let mut ev = log_evidence(self.event());
                ev.ts = h.ts;
                ev.origin = c.store.origin(h);
                ev
            }
        }
    }

    /// The source as an alert names it.
    pub fn src_ref(&self, dir: &super::Directory) -> Option<crate::alert::HostRef> {
        let e = self.event();
        if is_explicit(e) {
            return dir.host(e.host_ip, e.host_name.as_deref());
        }
        dir.host(e.source_ip, e.source_domain.as_deref())
    }

    /// The destination as an alert names it.
    pub fn dst_ref(&self, dir: &super::Directory) -> Option<crate::alert::HostRef> {
        let e = self.event();
        if is_explicit(e) {
            return dir.host(None, e.destination_domain.as_deref());
        }
        dir.host(e.host_ip, e.host_name.as_deref())
    }

    /// True when source and destination are known and different.
    pub fn is_between_hosts(&self) -> bool {
        matches!((&self.src, &self.dst), (Some(s), Some(d)) if s != d)
    }
}

/// Two lists in run order joined in run order ([`LogonView::run_order`]).
pub fn join_in_order<'a>(a: Vec<LogonView<'a>>, b: Vec<LogonView<'a>>) -> Vec<LogonView<'a>> {
    if b.is_empty() {
        return a;
    }
    if a.is_empty() {
        return b;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut k = b.into_iter().peekable();
    for v in a {
        while let Some(next) = k.next_if(|x| x.run_order(&v).is_lt()) {
            out.push(next);
        }
        out.push(v);
    }
    out.extend(k);
    out
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
    for v in logons.iter().filter(|v| failed_attempt(v.event())) {
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
