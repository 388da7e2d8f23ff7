//! Normalised events as Elastic Common Schema documents, one JSON object
//! per line, written by hand (no intermediate tree) so output keeps up
//! with the parsers.
//!
//! Every document carries `@timestamp`, `ecs.version` ([`ECS_VERSION`]),
//! `event.kind`, `event.category` and `event.type` (allowed pairs of the
//! ECS reference), `event.id` (the raw record's place, as
//! `event_id`: `path@offset` or `path:line`, the id alert evidence names),
//! and `related.hosts` and `related.user` (empty when the record names no
//! host or account). User names are written as the source wrote them,
//! everywhere.
//!
//! Log events carry `@timestamp`, `event.*` (kind, category, type, action,
//! outcome, code, dataset, id), `source.*`, `destination.*`, `host.*`,
//! `user.name`/`user.domain`/`user.id` (the account acted as, its SID when
//! the record names one), `user.effective.name`
//! (the account that acted, when different), `process.*`, `service.name`,
//! `winlog.logon.type`, `winlog.event_data.ShareName`/`RelativeTargetName`,
//! `network.*` and `event.duration` (flow summaries from logs;
//! `network.iana_number` is a keyword, a string), `dns.*`
//! (question, answers, `resolved_ip`), `lateral.rpc_endpoint`/`rpc_operation`,
//! `labels` (source-specific details),
//! `related.ip`/`related.user`, and `log.file.path` with `log.file.line`
//! (text) or `log.offset` (binary) pointing back at the raw record.
//! Connection records from captures become `event.category: network`
//! documents with `network.*` and Zeek's fields under `zeek.conn.*`.
//!
//! It sits in the model because it is the one encoding of the model's
//! events that every stage shares: sources write it directly for the
//! `events` fast path, the collect stage streams it, outputs reuse it.

use crate::model::event::{Category, Flow, LogEvent, Outcome, Position, Timestamp};
use std::io::Write as _;
use std::net::IpAddr;
use std::sync::Arc;

/// The ECS version, once, for the constants below.
macro_rules! ecs_version {
    () => {
        "8.11.0"
    };
}

/// The Elastic Common Schema version every document lateral writes
/// follows (`ecs.version`).
pub const ECS_VERSION: &str = ecs_version!();

/// `"ecs":{"version":"…"}` as written after `@timestamp`.
const ECS_MEMBER: &[u8] = concat!("\"ecs\":{\"version\":\"", ecs_version!(), "\"}").as_bytes();

/// The id of a raw record (`event.id`): its input and place, `path@offset`
/// or `path:line` (the [`crate::model::event::Origin`] display form). Alert
/// evidence names its records by the same id, so alerts join to
/// `lateral events` output on it.
pub fn event_id(file: &str, at: Position) -> String {
    match at {
        Position::Offset(o) => format!("{file}@{o}"),
        Position::Line(l) => format!("{file}:{l}"),
    }
}

/// The ECS `event.category` written for a log event: its own, else one
/// its action implies (`file`, `registry`, `network` for DNS), else `host`.
pub fn category_name(category: Option<Category>, action: crate::model::Action) -> &'static str {
    use crate::model::Action as A;
    if let Some(c) = category {
        return c.ecs();
    }
    match action {
        A::FileOpened
        | A::FileWritten
        | A::FileRead
        | A::FileDeleted
        | A::FileRenamed
        | A::FileClosed
        | A::FileAttributesSet
        | A::FileCreated
        | A::SmbFileAction => "file",
        A::RegistryKeyChanged | A::RegistryValueSet => "registry",
        A::DnsAnswer | A::DnsQuery | A::Flow | A::NetworkConnection | A::RdpConnection => "network",
        _ => "host",
    }
}

/// The ECS `event.type` of an action within the category written: the
/// type the action means when the ECS reference allows it in that
/// category, else `info` (or `change` for `registry`, which has no `info`).
pub fn type_name(category: &str, action: crate::model::Action) -> &'static str {
    use crate::model::Action as A;
    let meant = match action {
        A::LoggedIn
        | A::LogonFailed
        | A::LogonAttempted
        | A::InvalidUser
        | A::SessionOpened
        | A::RdpSessionLogon
        | A::RdpSessionReconnected
        | A::ProcessCreated
        | A::SystemStarted
        | A::WinrmSessionCreated
        | A::WinrmShellCreated
        | A::RdpShellStarted
        | A::Sudo
        | A::SudoFailed
        | A::Su
        | A::SuFailed => "start",
        A::LoggedOut
        | A::SessionClosed
        | A::RdpSessionDisconnected
        | A::ProcessEnded
        | A::SystemStopped
        | A::ConnectionClosed
        | A::Disconnected => "end",
        A::Flow | A::NetworkConnection | A::RdpConnection => "connection",
        A::DnsAnswer | A::DnsQuery | A::RpcCall => "protocol",
        A::ShareAccessed | A::ShareObjectChecked | A::FileOpened | A::FileRead => "access",
        A::FileCreated | A::PipeCreated => "creation",
        A::FileDeleted => "deletion",
        A::FileWritten
        | A::FileRenamed
        | A::FileAttributesSet
        | A::RegistryKeyChanged
        | A::RegistryValueSet
        | A::ServiceInstalled
        | A::ScheduledTaskCreated
        | A::ScheduledTaskUpdated => "change",
        _ => "info",
    };
    // The expected types of each category in the ECS reference.
    let allowed: &[&str] = match category {
        "authentication" | "session" => &["start", "end", "info"],
        "network" => &[
            "access",
            "allowed",
            "connection",
            "denied",
            "end",
            "info",
            "protocol",
            "start",
        ],
        "process" | "host" => &["access", "change", "end", "info", "start"],
        "iam" => &[
            "admin", "change", "creation", "deletion", "group", "info", "user",
        ],
        "file" => &["access", "change", "creation", "deletion", "info"],
        "registry" => &["access", "change", "creation", "deletion"],
        _ => &["info"],
    };
    if allowed.contains(&meant) {
        meant
    } else if category == "registry" {
        "change"
    } else {
        "info"
    }
}

/// A JSON key as written: quoted, with its colon (`q!("name")` is
/// `"name":`), so writing a key is one copy of a constant.
macro_rules! q {
    ($k:literal) => {
        concat!("\"", $k, "\":").as_bytes()
    };
}

/// A JSON object being written: keeps track of commas. Keys are given
/// quoted, with their colon ([`q!`]).
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// Every string given is known to need no escaping.
    plain: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj {
            out,
            first: true,
            plain: false,
        }
    }

    /// An object whose first member the caller has written already; with
    /// `plain`, its strings (and those of objects nested in it) are known
    /// to need no escaping.
    fn continued(out: &'a mut Vec<u8>, plain: bool) -> Obj<'a> {
        Obj {
            out,
            first: false,
            plain,
        }
    }

    #[inline]
    fn key(&mut self, k: &[u8]) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(k);
    }

    /// A key that is not a constant (labels): escaped as any string.
    fn dyn_key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        push_json_str(self.out, k);
        self.out.push(b':');
    }

    #[inline]
    fn str(&mut self, k: &[u8], v: &str) {
        self.key(k);
        push_str(self.out, v, self.plain);
    }

    #[inline]
    fn opt_str(&mut self, k: &[u8], v: Option<&str>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }

    fn num(&mut self, k: &[u8], v: u64) {
        self.key(k);
        let mut b = itoa::Buffer::new();
        self.out.extend_from_slice(b.format(v).as_bytes());
    }

    fn ip(&mut self, k: &[u8], v: IpAddr) {
        self.key(k);
        push_ip(self.out, v);
    }

    /// Opens a nested object under `k`; call `close` on it.
    #[inline]
    fn nested(&mut self, k: &[u8]) -> Obj<'_> {
        self.key(k);
        self.out.push(b'{');
        Obj {
            out: self.out,
            first: true,
            plain: self.plain,
        }
    }

    #[inline]
    fn close(self) {
        self.out.push(b'}');
    }
}

/// Writes `v` as a JSON string. Most values need no escaping and are
/// copied; serde_json escapes the rest.
fn push_json_str(out: &mut Vec<u8>, v: &str) {
    if is_plain(v.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(v.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, v);
    }
}

/// Writes `v` as a JSON string; with `plain`, it is known to need no
/// escaping and is copied unchecked.
#[inline]
fn push_str(out: &mut Vec<u8>, v: &str, plain: bool) {
    if plain {
        push_plain_str(out, v);
    } else {
        push_json_str(out, v);
    }
}

/// Writes `v`, known to need no escaping, as a JSON string.
#[inline]
fn push_plain_str(out: &mut Vec<u8>, v: &str) {
    out.push(b'"');
    out.extend_from_slice(v.as_bytes());
    out.push(b'"');
}

/// True when no byte of `b` needs escaping in a JSON string (a control
/// character, `"` or `\\`), checked eight bytes at a time; a short string's
/// bytes are read as two overlapping words.
pub(crate) fn is_plain(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Any byte of `x` zero / below 0x20 (exact for "any", by the usual
    // borrow argument: the lowest offending byte always sets its high bit).
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let has_below_space = |x: u64| x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
    let bad =
        |x: u64| has_below_space(x) || has_zero(x ^ (ONES * 0x22)) || has_zero(x ^ (ONES * 0x5c));
    let word = |s: &[u8]| <[u8; 8]>::try_from(s).map(u64::from_le_bytes);
    let half = |s: &[u8]| <[u8; 4]>::try_from(s).map(u32::from_le_bytes);
    let n = b.len();
    if n >= 8 {
        let mut words = b.chunks_exact(8);
        if words.by_ref().any(|w| word(w).map_or(true, bad)) {
            return false;
        }
        // The last eight bytes cover the tail (overlapping is harmless).
        return words.remainder().is_empty()
            || b.get(n - 8..)
                .is_some_and(|w| word(w).is_ok_and(|x| !bad(x)));
    }
    if n >= 4 {
        // Two overlapping halves cover four to seven bytes.
        return match (
            half(b.get(..4).unwrap_or(&[])),
            half(b.get(n - 4..).unwrap_or(&[])),
        ) {
            (Ok(lo), Ok(hi)) => !bad(u64::from(lo) | (u64::from(hi) << 32)),
            _ => false,
        };
    }
    b.iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\')
}

/// Writes an address as a JSON string; dotted quads without the
/// formatting machinery (the common case).
fn push_ip(out: &mut Vec<u8>, v: IpAddr) {
    if let IpAddr::V4(v4) = v {
        // `"a.b.c.d"` built on the stack (at most 17 bytes), copied once.
        let mut text = [0u8; 17];
        let mut n = 0;
        let mut put = |c: u8| {
            if let Some(slot) = text.get_mut(n) {
                *slot = c;
                n += 1;
            }
        };
        put(b'"');
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                put(b'.');
            }
            if octet >= 100 {
                put(b'0' + octet / 100);
            }
            if octet >= 10 {
                put(b'0' + octet / 10 % 10);
            }
            put(b'0' + octet % 10);
        }
        put(b'"');
        out.extend_from_slice(text.get(..n).unwrap_or(&[]));
    } else {
        let _ = write!(out, "\"{v}\"");
    }
}

thread_local! {
    /// The last input name [`log_fields`] wrote, and its JSON form: every
    /// event of an input shares one name, escaped once.
    static LAST_PATH: std::cell::RefCell<(Option<std::sync::Arc<str>>, Vec<u8>)> =
        const { std::cell::RefCell::new((None, Vec::new())) };
}

/// The input's path as a JSON string, escaped once per input.
fn with_path_json<R>(origin_file: &Arc<str>, f: impl FnOnce(&[u8]) -> R) -> R {
    LAST_PATH.with_borrow_mut(|(name, json)| {
        if !name.as_ref().is_some_and(|n| Arc::ptr_eq(n, origin_file)) {
            json.clear();
            push_json_str(json, origin_file);
            *name = Some(origin_file.clone());
        }
        f(json)
    })
}

/// `"id":"path@offset"` (or `path:line`) inside `event`: [`event_id`].
fn event_id_member(o: &mut Obj<'_>, origin: Option<(&Arc<str>, Position)>) {
    let Some((origin_file, at)) = origin else {
        return;
    };
    o.key(q!("id"));
    with_path_json(origin_file, |json| {
        // The quoted path without its closing quote, then the place.
        o.out
            .extend_from_slice(json.get(..json.len().saturating_sub(1)).unwrap_or(b""));
    });
    let mut b = itoa::Buffer::new();
    let (sep, n) = match at {
        Position::Offset(off) => (b'@', off),
        Position::Line(l) => (b':', l),
    };
    o.out.push(sep);
    o.out.extend_from_slice(b.format(n).as_bytes());
    o.out.push(b'"');
}

fn log_fields(o: &mut Obj<'_>, origin: Option<(&Arc<str>, Position)>) {
    let Some((origin_file, at)) = origin else {
        return;
    };
    let mut log = o.nested(q!("log"));
    let mut file = log.nested(q!("file"));
    file.key(q!("path"));
    with_path_json(origin_file, |json| file.out.extend_from_slice(json));
    if let Position::Line(l) = at {
        file.num(q!("line"), l);
    }
    file.close();
    if let Position::Offset(off) = at {
        log.num(q!("offset"), off);
    }
    log.close();
}

fn endpoint(
    o: &mut Obj<'_>,
    name: &[u8],
    ip: Option<IpAddr>,
    port: Option<u16>,
    domain: Option<&str>,
) {
    if ip.is_none() && port.is_none() && domain.is_none() {
        return;
    }
    let mut n = o.nested(name);
    if let Some(ip) = ip {
        n.ip(q!("ip"), ip);
    }
    if let Some(p) = port {
        n.num(q!("port"), u64::from(p));
    }
    n.opt_str(q!("domain"), domain);
    n.close();
}

/// `network.*` of a log event that summarises a flow (LANL flows).
fn network_fields(o: &mut Obj<'_>, e: &LogEvent) {
    let (ip_proto, bytes, packets) = (e.ip_proto(), e.network_bytes(), e.network_packets());
    if ip_proto.is_none() && bytes.is_none() && packets.is_none() {
        return;
    }
    let mut n = o.nested(q!("network"));
    if let Some(p) = ip_proto {
        let transport = match p {
            1 => Some("icmp"),
            6 => Some("tcp"),
            17 => Some("udp"),
            58 => Some("ipv6-icmp"),
            _ => None,
        };
        n.opt_str(q!("transport"), transport);
        let mut b = itoa::Buffer::new();
        n.str(q!("iana_number"), b.format(p));
    }
    if let Some(b) = bytes {
        n.num(q!("bytes"), b);
    }
    if let Some(p) = packets {
        n.num(q!("packets"), p);
    }
    n.close();
}

/// `dns.*` of a DNS answer event: the question, the answers, and the
/// answers that are addresses as `dns.resolved_ip`.
fn dns_fields(o: &mut Obj<'_>, e: &LogEvent) {
    let question = e.dns_question();
    if question.is_none() && e.dns_answers().next().is_none() {
        return;
    }
    let mut d = o.nested(q!("dns"));
    if let Some(q) = question {
        let mut qn = d.nested(q!("question"));
        qn.str(q!("name"), q);
        qn.close();
    }
    if e.dns_answers().next().is_some() {
        d.key(q!("answers"));
        d.out.push(b'[');
        for (i, a) in e.dns_answers().enumerate() {
            if i > 0 {
                d.out.push(b',');
            }
            let mut one = Obj::open(d.out);
            one.str(q!("data"), a);
            one.close();
        }
        d.out.push(b']');
        let ips: Vec<&str> = e
            .dns_answers()
            .filter(|a| a.parse::<IpAddr>().is_ok())
            .collect();
        if !ips.is_empty() {
            d.key(q!("resolved_ip"));
            let _ = serde_json::to_writer(&mut *d.out, &ips);
        }
    }
    d.close();
}

/// `,"outcome":"…"` for `x`, as one constant.
fn outcome_member(x: crate::model::event::Outcome) -> &'static [u8] {
    use crate::model::event::Outcome as X;
    match x {
        X::Success => b",\"outcome\":\"success\"",
        X::Failure => b",\"outcome\":\"failure\"",
        X::Unknown => b",\"outcome\":\"unknown\"",
    }
}

/// What the ECS writer reads from one log event: the members most
/// events carry, and the rest through [`EcsFields::rare`].
///
/// [`LogEvent`] is the general implementation. A parser may hand the
/// writer its own borrowed record instead (LANL authentication lines do),
/// so an event is written without first being built: the writer is
/// generic, and for such a record the members it never has cost nothing.
pub trait EcsFields {
    /// `@timestamp`.
    fn ts(&self) -> Timestamp;
    /// `event.category`.
    fn category(&self) -> Option<Category>;
    /// `event.action`.
    fn action(&self) -> &str;
    /// `event.outcome`.
    fn outcome(&self) -> Option<Outcome>;
    /// `event.dataset`.
    fn dataset(&self) -> &str;
    /// `source.ip`, `source.port`, `source.domain`.
    fn source(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>);
    /// `destination.ip`, `destination.port`, `destination.domain`.
    fn destination(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>);
    /// `host.name`.
    fn host_name(&self) -> Option<&str>;
    /// `host.ip`.
    fn host_ip(&self) -> Option<IpAddr>;
    /// `user.name`.
    fn user_name(&self) -> Option<&str>;
    /// `user.domain`.
    fn user_domain(&self) -> Option<&str>;
    /// `user.effective.name`.
    fn subject_user(&self) -> Option<&str>;
    /// `lateral.auth_method`.
    fn auth_method(&self) -> Option<&str>;
    /// `winlog.logon.type`.
    fn logon_type(&self) -> Option<u8>;
    /// `event.reason`.
    fn reason(&self) -> Option<&str> {
        None
    }
    /// `lateral.logon_process`.
    fn logon_process(&self) -> Option<&str> {
        None
    }
    /// The input and position of the raw record (`log.file.*`, `log.offset`).
    fn origin(&self) -> Option<(&Arc<str>, Position)>;
    /// True when no string of the record needs JSON escaping (known
    /// without checking each: a LANL line checked once, say).
    fn plain(&self) -> bool {
        false
    }
    /// The event again, for every other member (`event.code`, `process.*`,
    /// `dns.*`, `labels`, ...); `None` when it has none of them.
    fn rare(&self) -> Option<&LogEvent> {
        None
    }
}

impl EcsFields for LogEvent {
    fn ts(&self) -> Timestamp {
        self.ts
    }
    fn category(&self) -> Option<Category> {
        self.category
    }
    fn action(&self) -> &str {
        self.action.as_str()
    }
    fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
    fn dataset(&self) -> &str {
        &self.dataset
    }
    fn source(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
        (
            self.source_ip,
            self.source_port,
            self.source_domain.as_deref(),
        )
    }
    fn destination(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
        (
            self.destination_ip,
            self.destination_port,
            self.destination_domain.as_deref(),
        )
    }
    fn host_name(&self) -> Option<&str> {
        self.host_name.as_deref()
    }
    fn host_ip(&self) -> Option<IpAddr> {
        self.host_ip
    }
    fn user_name(&self) -> Option<&str> {
        self.user_name.as_deref()
    }
    fn user_domain(&self) -> Option<&str> {
        self.user_domain.as_deref()
    }
    fn subject_user(&self) -> Option<&str> {
        LogEvent::subject_user(self)
    }
    fn auth_method(&self) -> Option<&str> {
        self.auth_method.as_deref()
    }
    fn logon_type(&self) -> Option<u8> {
        self.logon_type
    }
    fn reason(&self) -> Option<&str> {
        self.status()
    }
    fn logon_process(&self) -> Option<&str> {
        LogEvent::logon_process(self)
    }
    fn origin(&self) -> Option<(&Arc<str>, Position)> {
        self.origin.as_ref().map(|o| (&o.file, o.at))
    }
    fn rare(&self) -> Option<&LogEvent> {
        Some(self)
    }
}

/// Writes one log event as an ECS JSON line.
pub fn write_event<E: EcsFields + ?Sized>(e: &E, out: &mut Vec<u8>) {
    let rare = e.rare();
    let plain = e.plain();
    // One reservation for the whole line (most are under 600 bytes).
    out.reserve(640);
    // The members every event has, and the fixed text around them, in as
    // few copies as possible.
    out.extend_from_slice(b"{\"@timestamp\":\"");
    e.ts().write_rfc3339_micros(out);
    out.extend_from_slice(b"\",");
    out.extend_from_slice(ECS_MEMBER);
    out.extend_from_slice(b",\"event\":{\"kind\":\"event\",\"category\":[\"");
    let category = category_name(e.category(), action_of(e));
    out.extend_from_slice(category.as_bytes());
    out.extend_from_slice(b"\"],\"type\":[\"");
    out.extend_from_slice(type_name(category, action_of(e)).as_bytes());
    out.extend_from_slice(b"\"],\"action\":");
    push_str(out, e.action(), plain);
    if let Some(x) = e.outcome() {
        out.extend_from_slice(outcome_member(x));
    }
    {
        let mut ev = Obj::continued(out, plain);
        if let Some(c) = rare.and_then(|r| r.code) {
            let mut b = itoa::Buffer::new();
            ev.str(q!("code"), b.format(c));
        }
        ev.str(q!("dataset"), e.dataset());
        ev.opt_str(q!("reason"), e.reason());
        if let Some(d) = rare.and_then(LogEvent::duration) {
            ev.num(q!("duration"), d.0.max(0) as u64);
        }
        event_id_member(&mut ev, e.origin());
        ev.close();
    }
    let mut o = Obj::continued(out, plain);
    let (source_ip, source_port, source_domain) = e.source();
    endpoint(&mut o, q!("source"), source_ip, source_port, source_domain);
    let (destination_ip, destination_port, destination_domain) = e.destination();
    endpoint(
        &mut o,
        q!("destination"),
        destination_ip,
        destination_port,
        destination_domain,
    );
    let (host_name, host_ip) = (e.host_name(), e.host_ip());
    if host_name.is_some() || host_ip.is_some() {
        let mut h = o.nested(q!("host"));
        h.opt_str(q!("name"), host_name);
        if let Some(ip) = host_ip {
            // ECS's `host.ip` is an array.
            h.key(q!("ip"));
            h.out.push(b'[');
            push_ip(h.out, ip);
            h.out.push(b']');
        }
        h.close();
    }
    let (user_name, subject_user) = (e.user_name(), e.subject_user());
    let user_id = rare.and_then(LogEvent::user_id);
    if user_name.is_some() || subject_user.is_some() || user_id.is_some() {
        let mut u = o.nested(q!("user"));
        u.opt_str(q!("name"), user_name);
        u.opt_str(q!("domain"), e.user_domain());
        u.opt_str(q!("id"), user_id);
        if let Some(s) = subject_user {
            let mut eff = u.nested(q!("effective"));
            eff.str(q!("name"), s);
            eff.close();
        }
        u.close();
    }
    if let Some(r) = rare {
        rare_middle(&mut o, r);
    }
    let auth_method = e.auth_method();
    let logon_process = e.logon_process();
    let (rpc_endpoint, rpc_operation) = match rare {
        Some(r) => (r.rpc_endpoint(), r.rpc_operation()),
        None => (None, None),
    };
    if auth_method.is_some()
        || logon_process.is_some()
        || rpc_endpoint.is_some()
        || rpc_operation.is_some()
    {
        let mut a = o.nested(q!("lateral"));
        a.opt_str(q!("auth_method"), auth_method);
        a.opt_str(q!("logon_process"), logon_process);
        a.opt_str(q!("rpc_endpoint"), rpc_endpoint);
        a.opt_str(q!("rpc_operation"), rpc_operation);
        a.close();
    }
    if let Some(r) = rare
        && r.labels().next().is_some()
    {
        let mut l = o.nested(q!("labels"));
        for (k, v) in r.labels() {
            l.dyn_key(k);
            push_json_str(l.out, v);
        }
        l.close();
    }
    let logon_type = e.logon_type();
    let (share_name, share_target) = match rare {
        Some(r) => (r.share_name(), r.share_target()),
        None => (None, None),
    };
    if logon_type.is_some() || share_name.is_some() || share_target.is_some() {
        let mut w = o.nested(q!("winlog"));
        if let Some(t) = logon_type {
            let mut l = w.nested(q!("logon"));
            l.num(q!("type"), u64::from(t));
            l.close();
        }
        if share_name.is_some() || share_target.is_some() {
            let mut d = w.nested(q!("event_data"));
            d.opt_str(q!("ShareName"), share_name);
            d.opt_str(q!("RelativeTargetName"), share_target);
            d.close();
        }
        w.close();
    }
    // Arrays on the stack: no allocation per event.
    let ips = [source_ip, destination_ip, host_ip];
    let hosts = [host_name, source_domain, destination_domain];
    let users = [user_name, subject_user];
    let mut r = o.nested(q!("related"));
    if ips.iter().any(Option::is_some) {
        r.key(q!("ip"));
        r.out.push(b'[');
        for (i, ip) in ips.iter().flatten().enumerate() {
            if i > 0 {
                r.out.push(b',');
            }
            push_ip(r.out, *ip);
        }
        r.out.push(b']');
    }
    r.key(q!("hosts"));
    str_array(r.out, &hosts, plain);
    r.key(q!("user"));
    str_array(r.out, &users, plain);
    r.close();
    log_fields(&mut o, e.origin());
    o.close();
    out.push(b'\n');
}

/// The action of `e` as the model names it (for `event.type`).
fn action_of<E: EcsFields + ?Sized>(e: &E) -> crate::model::Action {
    crate::model::Action::from_text(e.action()).unwrap_or_default()
}

/// Writes the distinct strings of `v` as a JSON array (possibly empty).
fn str_array(out: &mut Vec<u8>, v: &[Option<&str>], plain: bool) {
    out.push(b'[');
    let mut first = true;
    for (i, x) in v.iter().enumerate() {
        let Some(x) = x else { continue };
        if v.iter().take(i).any(|y| y == &Some(*x)) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        push_str(out, x, plain);
    }
    out.push(b']');
}

/// The members between `user` and `lateral`: `process.*`, `service.name`,
/// `network.*`, `dns.*`.
fn rare_middle(o: &mut Obj<'_>, e: &LogEvent) {
    if e.detail.is_empty() {
        return;
    }
    let (executable, command_line) = (e.process_executable(), e.process_command_line());
    if executable.is_some() || command_line.is_some() {
        let mut p = o.nested(q!("process"));
        p.opt_str(q!("executable"), executable);
        p.opt_str(q!("command_line"), command_line);
        p.close();
    }
    if let Some(s) = e.service_name() {
        let mut sv = o.nested(q!("service"));
        sv.str(q!("name"), s);
        sv.close();
    }
    network_fields(o, e);
    dns_fields(o, e);
}

/// Writes one connection record as an ECS network event line.
pub fn write_flow_event(f: &Flow, out: &mut Vec<u8>) {
    let mut o = Obj::open(out);
    o.key(q!("@timestamp"));
    o.out.push(b'"');
    f.ts.write_rfc3339_micros(o.out);
    o.out.push(b'"');
    o.out.push(b',');
    o.out.extend_from_slice(ECS_MEMBER);
    {
        let mut ev = o.nested(q!("event"));
        ev.str(q!("kind"), "event");
        ev.key(q!("category"));
        ev.out.extend_from_slice(b"[\"network\"]");
        ev.key(q!("type"));
        ev.out.extend_from_slice(b"[\"connection\"]");
        ev.str(q!("action"), "connection");
        ev.str(q!("dataset"), "lateral.flow");
        if let Some(d) = f.duration {
            ev.num(q!("duration"), d.0.max(0) as u64);
        }
        event_id_member(&mut ev, f.origin.as_ref().map(|o| (&o.file, o.at)));
        ev.close();
    }
    endpoint(&mut o, q!("source"), Some(f.orig_h), Some(f.orig_p), None);
    endpoint(
        &mut o,
        q!("destination"),
        Some(f.resp_h),
        Some(f.resp_p),
        None,
    );
    {
        let mut n = o.nested(q!("network"));
        n.str(q!("transport"), f.proto.zeek_name());
        let mut b = itoa::Buffer::new();
        n.str(q!("iana_number"), b.format(f.ip_proto));
        let community_id = crate::model::community_id::community_id_v1(
            f.orig_h, f.orig_p, f.resp_h, f.resp_p, f.ip_proto,
        );
        n.opt_str(q!("community_id"), community_id.as_deref());
        n.opt_str(q!("protocol"), f.service.as_deref());
        n.num(q!("packets"), f.orig_pkts + f.resp_pkts);
        n.num(q!("bytes"), f.orig_ip_bytes + f.resp_ip_bytes);
        n.close();
    }
    {
        let mut z = o.nested(q!("zeek"));
        let mut c = z.nested(q!("conn"));
        c.str(q!("uid"), &f.uid);
        c.str(q!("state"), f.conn_state.code());
        c.opt_str(
            q!("history"),
            Some(f.history.as_str()).filter(|h| !h.is_empty()),
        );
        if let Some(b) = f.orig_bytes {
            c.num(q!("orig_bytes"), b);
        }
        if let Some(b) = f.resp_bytes {
            c.num(q!("resp_bytes"), b);
        }
        c.num(q!("orig_pkts"), f.orig_pkts);
        c.num(q!("resp_pkts"), f.resp_pkts);
        c.close();
        z.close();
    }
    {
        let mut r = o.nested(q!("related"));
        r.key(q!("ip"));
        r.out.push(b'[');
        push_ip(r.out, f.orig_h);
        if f.resp_h != f.orig_h {
            r.out.push(b',');
            push_ip(r.out, f.resp_h);
        }
        r.out.push(b']');
        r.key(q!("hosts"));
        r.out.extend_from_slice(b"[]");
        r.key(q!("user"));
        r.out.extend_from_slice(b"[]");
        r.close();
    }
    log_fields(&mut o, f.origin.as_ref().map(|o| (&o.file, o.at)));
    o.close();
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::event::{Category, Origin, Outcome, Timestamp};
    use std::sync::Arc;

    #[test]
    fn addresses_are_written_as_their_display_form() {
        let octets = [0u8, 1, 9, 10, 42, 99, 100, 199, 200, 255];
        for a in octets {
            for b in octets {
                for ip in [
                    IpAddr::from([a, b, a, b]),
                    IpAddr::from([b, 0, a, 255]),
                    IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, u16::from(a), u16::from(b)]),
                ] {
                    let mut out = Vec::new();
                    push_ip(&mut out, ip);
                    assert_eq!(String::from_utf8(out).unwrap(), format!("\"{ip}\""));
                }
            }
        }
    }

    #[test]
    fn the_word_check_finds_every_byte_that_needs_escaping() {
        for len in 0..20 {
            for pos in 0..len {
                for bad in (0u8..0x20).chain([b'"', b'\\']) {
                    let mut v = vec![b'a'; len];
                    v[pos] = bad;
                    assert!(!is_plain(&v), "{v:?}");
                }
                let mut v = vec![b'a'; len];
                v[pos] = 0xc3;
                assert!(is_plain(&v));
            }
            let v: Vec<u8> = (0..len).map(|i| 0x20 + (i as u8 * 7) % 0x5f).collect();
            let want = v.iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\');
            assert_eq!(is_plain(&v), want);
        }
        for c in 0u8..=255 {
            let v = [b'x', b'y', b'z', c, b'q', b'r', b's', b't', b'u'];
            assert_eq!(is_plain(&v), c >= 0x20 && c != b'"' && c != b'\\', "{c}");
        }
    }

    #[test]
    fn events_are_valid_ecs_json() {
        let e = LogEvent {
            ts: Timestamp::from_parts(1_600_800_812, 340_000_000),
            category: Some(Category::Authentication),
            action: Action::LoggedIn,
            outcome: Some(Outcome::Success),
            code: Some(4624),
            dataset: "windows.security".into(),
            source_ip: Some("172.18.39.5".parse().unwrap()),
            source_port: Some(62782),
            host_name: Some("WORKSTATION6".into()),
            user_name: Some("pg\"ustavo".into()),
            logon_type: Some(3),
            origin: Some(Origin {
                file: Arc::from("a.json"),
                at: Position::Line(7),
            }),
            ..LogEvent::default()
        };
        let mut out = Vec::new();
        write_event(&e, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@timestamp"], "2020-09-22T18:53:32.340000Z");
        assert_eq!(v["event"]["category"][0], "authentication");
        assert_eq!(v["event"]["code"], "4624");
        assert_eq!(v["source"]["ip"], "172.18.39.5");
        assert_eq!(v["source"]["port"], 62782);
        assert_eq!(v["user"]["name"], "pg\"ustavo");
        assert_eq!(v["winlog"]["logon"]["type"], 3);
        assert_eq!(v["related"]["ip"][0], "172.18.39.5");
        assert_eq!(v["log"]["file"]["path"], "a.json");
        assert_eq!(v["log"]["file"]["line"], 7);
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn flow_summaries_dns_rpc_and_labels() {
        let mut e = LogEvent {
            action: Action::Flow,
            ..LogEvent::default()
        };
        e.set_ip_proto(Some(17));
        e.set_network_bytes(Some(144));
        e.set_network_packets(Some(3));
        e.set_duration(Some(crate::model::event::Duration::from_secs(9)));
        e.set_dns_question(Some("dc01.corp".into()));
        e.push_dns_answer("10.0.0.9".into());
        e.push_dns_answer("alias.corp".into());
        e.set_rpc_endpoint(Some("svcctl".into()));
        e.set_rpc_operation(Some("CreateServiceW".into()));
        e.push_label("zeek_uid".into(), "C\"1".into());
        let mut out = Vec::new();
        write_event(&e, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["network"]["transport"], "udp");
        assert_eq!(v["network"]["iana_number"], "17");
        assert_eq!(v["network"]["bytes"], 144);
        assert_eq!(v["network"]["packets"], 3);
        assert_eq!(v["event"]["duration"], 9_000_000_000u64);
        assert_eq!(v["dns"]["question"]["name"], "dc01.corp");
        assert_eq!(v["dns"]["answers"][1]["data"], "alias.corp");
        assert_eq!(v["dns"]["resolved_ip"], serde_json::json!(["10.0.0.9"]));
        assert_eq!(v["lateral"]["rpc_operation"], "CreateServiceW");
        assert_eq!(v["labels"]["zeek_uid"], "C\"1");
    }
}
