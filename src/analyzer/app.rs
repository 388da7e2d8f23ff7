//! The application analyzers of the capture path: Kerberos (TCP and UDP
//! 88), HTTP, RDP, SSH, TLS and LDAP, each a [`StreamAnalyzer`] over the
//! stateless parsers of its own module ([`kerberos`], [`http`], [`rdp`],
//! [`ssh`], [`tls`], [`ldap`]).
//!
//! Each followed connection gives [`AppFinding`]s: the parsed exchange
//! (a Kerberos request and its answer, an HTTP transaction, one RDP, SSH
//! or TLS connection setup, one LDAP connection's messages) tied to the
//! connection's uid. The report stage writes them as Zeek logs
//! (`kerberos.log`, `http.log`, `rdp.log`, `ssh.log`, `ssl.log`,
//! `ldap.log`); the same findings become `zeek.*` events here, Kerberos,
//! SSH and RDP through the very mapping that reads Zeek's own logs
//! (`source::zeek_map`), so the detectors see a capture's tickets, logons
//! and RDP cookies as they see Zeek's.
//!
//! Streams are buffered per direction up to a cap (charged to the capture's
//! [`Budget`](super::reassembly::Budget)); what does not fit, and what
//! follows a gap, is counted and not read.

use super::reassembly::Chunk;
use super::{Cx, FlowInfo, StreamAnalyzer, dns, http, kerberos, ldap, rdp, ssh, tls};
use crate::model::Action;
use crate::model::event::{Category, LogEvent, Origin, Outcome, Position, Text, Timestamp};
use crate::source::zeek_map;
use crate::source::zeek_record::{Field, LogKind, Record};
use std::borrow::Cow;

/// The application protocols with an analyzer here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppKind {
    /// Kerberos over TCP or UDP 88.
    Kerberos,
    /// HTTP/1.x.
    Http,
    /// RDP connection setup.
    Rdp,
    /// SSH connection setup.
    Ssh,
    /// TLS handshake.
    Tls,
    /// LDAP.
    Ldap,
    /// DNS over UDP or TCP 53.
    Dns,
}

impl AppKind {
    /// The analyzer's name in counters (`kerberos`, `http`, ...).
    pub fn name(self) -> &'static str {
        match self {
            AppKind::Kerberos => "kerberos",
            AppKind::Http => "http",
            AppKind::Rdp => "rdp",
            AppKind::Ssh => "ssh",
            AppKind::Tls => "tls",
            AppKind::Ldap => "ldap",
            AppKind::Dns => "dns",
        }
    }
}

/// What one application analyzer read on one connection.
#[derive(Debug, Clone)]
pub enum AppRecord {
    /// One KDC exchange: the request and the reply or error, as seen.
    Kerberos {
        /// The AS or TGS request.
        request: Option<kerberos::KdcRequest>,
        /// The reply or error that answered it.
        answer: Option<kerberos::Message>,
    },
    /// One HTTP request and its response.
    Http(http::Transaction),
    /// One RDP connection setup.
    Rdp {
        /// The client's X.224 Connection Request.
        request: Option<rdp::ConnectionRequest>,
        /// The server's Connection Confirm.
        confirm: Option<rdp::ConnectionConfirm>,
        /// The client core data (standard RDP security only).
        core: Option<rdp::ClientCore>,
    },
    /// One SSH connection's clear part and encrypted packet sizes.
    Ssh(Box<ssh::SshState>),
    /// One TLS handshake: the client's and the server's flights.
    Tls {
        /// The client's records.
        client: Box<tls::Flight>,
        /// The server's records.
        server: Box<tls::Flight>,
    },
    /// One LDAP connection's messages.
    Ldap {
        /// The client's requests.
        requests: Vec<ldap::Message>,
        /// The server's responses.
        responses: Vec<ldap::Message>,
    },
    /// One DNS query and its response, each when seen.
    Dns(Box<dns::Transaction>),
}

/// An [`AppRecord`] with its time and connection.
#[derive(Debug, Clone)]
pub struct AppFinding {
    /// Time of the exchange's first message (connection setup for RDP,
    /// SSH, TLS and LDAP).
    pub ts: Timestamp,
    /// The connection.
    pub flow: FlowInfo,
    /// What was read.
    pub record: AppRecord,
}

/// Kerberos fields as Zeek's `kerberos.log` has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KerberosFields {
    /// `AS` or `TGS`.
    pub request_type: Option<String>,
    /// `user/REALM`.
    pub client: Option<String>,
    /// Service principal.
    pub service: Option<String>,
    /// Whether a ticket was granted (unset without an answer).
    pub success: Option<bool>,
    /// The error's name.
    pub error_msg: Option<String>,
    /// The ticket's encryption type name.
    pub cipher: Option<String>,
}

/// The `kerberos.log` fields of one exchange, filled as Zeek fills them:
/// the request gives type, client and service; a reply the client (when
/// the request had none), the ticket's service and cipher, and success; an
/// error failure and its name.
pub fn kerberos_fields(
    request: Option<&kerberos::KdcRequest>,
    answer: Option<&kerberos::Message>,
) -> KerberosFields {
    let mut f = KerberosFields::default();
    if let Some(r) = request {
        f.request_type = r
            .msg_type
            .and_then(|t| t.request_type())
            .map(str::to_string);
        f.client = r
            .client
            .as_ref()
            .map(|c| format!("{}/{}", c.joined(), r.realm));
        f.service = r.service.as_ref().map(|s| s.joined());
    }
    match answer {
        Some(kerberos::Message::Reply(rep)) => {
            if f.request_type.is_none() {
                f.request_type = rep
                    .msg_type
                    .and_then(|t| t.request_type())
                    .map(str::to_string);
            }
            if f.client.is_none() {
                f.client = Some(format!("{}/{}", rep.client.joined(), rep.client_realm));
            }
            f.service = Some(rep.service.joined());
            f.cipher = rep.ticket_etype.name().map(str::to_string);
            f.success = Some(true);
        }
        Some(kerberos::Message::ApRequest(ap)) => {
            // Zeek: no client name in an AP-REQ, so the realm alone.
            f.request_type = Some("AP".to_string());
            f.client = Some(format!("/{}", ap.realm));
            f.service = Some(ap.service.joined());
            f.cipher = ap.ticket_etype.name().map(str::to_string);
            f.success = ap.accepted;
        }
        Some(kerberos::Message::Error(e)) => {
            f.success = Some(false);
            f.error_msg = e.code.name().map(str::to_string);
            if f.service.is_none() {
                f.service = Some(e.service.joined());
            }
        }
        _ => {}
    }
    f
}

/// The `result` and `security_protocol` of an RDP connection, as Zeek's
/// `rdp.log` has them.
pub fn rdp_result(confirm: Option<&rdp::ConnectionConfirm>) -> (Option<String>, Option<String>) {
    match confirm {
        Some(rdp::ConnectionConfirm::Selected(p)) => (
            Some("Success".to_string()),
            p.selected_name().map(str::to_string),
        ),
        Some(rdp::ConnectionConfirm::Plain) => {
            (Some("Success".to_string()), Some("RDP".to_string()))
        }
        Some(rdp::ConnectionConfirm::Failure(code)) => (
            Some(
                code.name()
                    .map_or_else(|| format!("unknown-{}", code.0), str::to_string),
            ),
            None,
        ),
        None => (None, None),
    }
}

/// The names of the protocols an RDP client offered (`SSL,HYBRID`).
fn requested_names(p: rdp::Protocols) -> String {
    let mut names = Vec::new();
    if p.0 == rdp::Protocols::RDP {
        names.push("RDP");
    }
    for (bit, name) in [
        (rdp::Protocols::SSL, "SSL"),
        (rdp::Protocols::HYBRID, "HYBRID"),
        (rdp::Protocols::RDSTLS, "RDSTLS"),
        (rdp::Protocols::HYBRID_EX, "HYBRID_EX"),
        (rdp::Protocols::RDSAAD, "RDSAAD"),
    ] {
        if p.0 & bit != 0 {
            names.push(name);
        }
    }
    names.join(",")
}

/// The record a Zeek log line would be, for the mapping of Zeek logs.
fn zeek_record(ts: Timestamp, flow: &FlowInfo) -> Record<'static> {
    let mut r = Record::default();
    let frac = ts.0.rem_euclid(1_000_000_000);
    r.set(
        Field::Ts,
        Cow::Owned(format!("{}.{frac:09}", ts.0.div_euclid(1_000_000_000))),
    );
    r.set(Field::Uid, Cow::Owned(flow.uid.to_string()));
    r.set(Field::OrigH, Cow::Owned(flow.orig.0.to_string()));
    r.set(Field::OrigP, Cow::Owned(flow.orig.1.to_string()));
    r.set(Field::RespH, Cow::Owned(flow.resp.0.to_string()));
    r.set(Field::RespP, Cow::Owned(flow.resp.1.to_string()));
    r
}

fn set(r: &mut Record<'static>, f: Field, v: Option<&str>) {
    if let Some(v) = v {
        r.set(f, Cow::Owned(v.to_string()));
    }
}

fn set_bool(r: &mut Record<'static>, f: Field, v: Option<bool>) {
    if let Some(v) = v {
        r.set(f, Cow::Borrowed(if v { "T" } else { "F" }));
    }
}

/// The events of one finding (pushed to `cx.events`): `zeek.kerberos`,
/// `zeek.ssh` and `zeek.rdp` as reading Zeek's own log line would give
/// them, `zeek.http`, `zeek.ssl` and `zeek.ldap` events of their own, and
/// `zeek.ntlm` for NTLM tokens in HTTP headers already counted elsewhere.
pub fn events_of(f: &AppFinding, cx: &mut Cx<'_>) {
    let mut out: Vec<LogEvent> = Vec::new();
    let mapped = |kind: LogKind, r: Record<'static>, out: &mut Vec<LogEvent>| {
        let _ = zeek_map::events(kind, &r, out);
    };
    match &f.record {
        AppRecord::Kerberos { request, answer } => {
            let k = kerberos_fields(request.as_ref(), answer.as_ref());
            let mut r = zeek_record(f.ts, &f.flow);
            set(&mut r, Field::RequestType, k.request_type.as_deref());
            set(&mut r, Field::Client, k.client.as_deref());
            set(&mut r, Field::Service, k.service.as_deref());
            set_bool(&mut r, Field::Success, k.success);
            set(&mut r, Field::ErrorMsg, k.error_msg.as_deref());
            set(&mut r, Field::Cipher, k.cipher.as_deref());
            mapped(LogKind::Kerberos, r, &mut out);
            if let (Some(e), Some(req)) = (out.last_mut(), request) {
                let offered: Vec<String> = req.etypes.iter().map(|t| t.0.to_string()).collect();
                if !offered.is_empty() {
                    e.push_label("kerberos_etypes".into(), Text::from(offered.join(",")));
                }
            }
        }
        AppRecord::Ssh(st) => {
            let mut r = zeek_record(f.ts, &f.flow);
            let auth = st.auth();
            set_bool(&mut r, Field::AuthSuccess, auth.success);
            if auth.attempts > 0 {
                r.set(Field::AuthAttempts, Cow::Owned(auth.attempts.to_string()));
            }
            set(
                &mut r,
                Field::Client,
                st.client.version.as_ref().map(|v| v.line.as_str()),
            );
            set(
                &mut r,
                Field::Server,
                st.server.version.as_ref().map(|v| v.line.as_str()),
            );
            mapped(LogKind::Ssh, r, &mut out);
        }
        AppRecord::Rdp {
            request,
            confirm,
            core,
        } => {
            let mut r = zeek_record(f.ts, &f.flow);
            let (result, proto) = rdp_result(confirm.as_ref());
            set(
                &mut r,
                Field::Cookie,
                request.as_ref().and_then(|q| q.cookie.as_deref()),
            );
            set(&mut r, Field::Result, result.as_deref());
            set(&mut r, Field::SecurityProtocol, proto.as_deref());
            set(
                &mut r,
                Field::ClientName,
                core.as_ref().map(|c| c.client_name.as_str()),
            );
            mapped(LogKind::Rdp, r, &mut out);
            if let (Some(e), Some(p)) = (out.last_mut(), request.as_ref().and_then(|q| q.requested))
            {
                e.push_label("requested_protocols".into(), Text::from(requested_names(p)));
            }
        }
        AppRecord::Http(t) => {
            let mut e = cx.event("zeek.http", Category::Network, Action::HttpRequest);
            e.ts = f.ts;
            if let Some(q) = &t.request {
                let lbl = |e: &mut LogEvent, k: &str, v: &str| {
                    e.push_label(k.into(), crate::model::event::capped_text(v, 2048))
                };
                lbl(&mut e, "http_method", &q.method);
                lbl(&mut e, "url_original", &q.uri);
                if let Some(h) = &q.host {
                    lbl(&mut e, "url_domain", h);
                }
                if let Some(a) = &q.user_agent {
                    lbl(&mut e, "user_agent", a);
                }
                if let Some(a) = &q.authorization {
                    lbl(&mut e, "http_auth", a.scheme.as_str());
                    if let Some(u) = a.basic_user() {
                        e.user_name = Some(crate::model::event::capped_text(&u, 256));
                    }
                }
            }
            if let Some(s) = &t.response {
                e.push_label("http_status".into(), Text::from(s.status.to_string()));
                e.outcome = Some(if s.status < 400 {
                    Outcome::Success
                } else {
                    Outcome::Failure
                });
            }
            out.push(e);
        }
        AppRecord::Tls { client, server } => {
            let mut e = cx.event("zeek.ssl", Category::Network, Action::TlsHandshake);
            e.ts = f.ts;
            if let Some(ch) = &client.client_hello {
                if let Some(sni) = &ch.server_name {
                    e.destination_domain = Some(crate::model::event::capped_text(sni, 256));
                }
                e.push_label("tls_ja3".into(), Text::from(ch.ja3()));
                e.push_label("tls_ja4".into(), Text::from(ch.ja4()));
            }
            if let Some(sh) = &server.server_hello {
                if let Some(v) = sh.negotiated_version().zeek_name() {
                    e.push_label("tls_version".into(), Text::from(v));
                }
                e.push_label("tls_cipher".into(), Text::from(sh.cipher.name()));
            }
            e.outcome = Some(if client.change_cipher_spec && server.change_cipher_spec {
                Outcome::Success
            } else {
                Outcome::Unknown
            });
            out.push(e);
        }
        AppRecord::Ldap {
            requests,
            responses,
        } => {
            for m in requests {
                let (action, mut e) = match &m.op {
                    ldap::Operation::Bind { name, method, .. } => {
                        let mut e =
                            cx.event("zeek.ldap", Category::Authentication, Action::LdapBind);
                        if !name.is_empty() {
                            e.user_name = Some(crate::model::event::capped_text(name, 512));
                        }
                        let how = match method {
                            ldap::BindMethod::Simple { .. } => "simple".to_string(),
                            ldap::BindMethod::Sasl(m) => format!("SASL/{m}"),
                            ldap::BindMethod::Other(t) => format!("other-{t}"),
                        };
                        e.auth_method = Some(crate::model::event::capped_text(&how, 64));
                        (Action::LdapBind, e)
                    }
                    ldap::Operation::Search(s) => {
                        let mut e = cx.event("zeek.ldap", Category::Network, Action::LdapSearch);
                        e.push_label(
                            "ldap_base".into(),
                            crate::model::event::capped_text(&s.base, 1024),
                        );
                        e.push_label(
                            "ldap_filter".into(),
                            crate::model::event::capped_text(&s.filter, 2048),
                        );
                        if !s.high_value.is_empty() {
                            let hv: Vec<&str> = s.high_value.iter().map(|h| h.as_str()).collect();
                            e.push_label("ldap_high_value".into(), Text::from(hv.join(",")));
                        }
                        (Action::LdapSearch, e)
                    }
                    _ => continue,
                };
                e.ts = f.ts;
                let result = responses.iter().find_map(|r| match &r.op {
                    ldap::Operation::Result(res) if r.id == m.id => Some(res.code),
                    _ => None,
                });
                if let Some(code) = result {
                    e.outcome = Some(if code.0 == 0 {
                        Outcome::Success
                    } else {
                        Outcome::Failure
                    });
                    if let Some(n) = code.name() {
                        e.set_status(Some(Text::from(n)));
                    }
                } else if action == Action::LdapBind {
                    e.outcome = Some(Outcome::Unknown);
                }
                out.push(e);
            }
        }
        // dns.log only: DNS answers already name hosts in the source stage.
        AppRecord::Dns(_) => {}
    }
    for mut e in out {
        if e.origin.is_none() {
            e.origin = Some(Origin {
                file: cx.file.clone(),
                at: Position::Offset(cx.offset),
            });
        }
        if e.host_ip.is_none() {
            e.host_ip = Some(f.flow.resp.0);
        }
        cx.events.push(e);
    }
}

/// Pushes a finding: its events, and the record for the Zeek logs.
pub(super) fn emit(kind: AppKind, ts: Timestamp, record: AppRecord, cx: &mut Cx<'_>) {
    let f = AppFinding {
        ts,
        flow: cx.flow.clone(),
        record,
    };
    cx.counters.app_mut(kind).records += 1;
    events_of(&f, cx);
    cx.records.push(f);
}

/// One direction's bytes, buffered up to a cap charged to the budget.
#[derive(Debug, Default)]
struct Buf {
    data: Vec<u8>,
    /// Nothing more is taken (cap reached, budget refused, gap).
    stopped: bool,
    /// Time of the first byte.
    first: Option<Timestamp>,
}

impl Buf {
    /// Takes a chunk; returns the bytes newly taken.
    fn push(&mut self, chunk: Chunk<'_>, cap: usize, kind: AppKind, cx: &mut Cx<'_>) -> usize {
        match chunk {
            Chunk::Gap(n) => {
                if !self.stopped {
                    self.stopped = true;
                }
                cx.counters.app_mut(kind).bytes_skipped += n;
                0
            }
            Chunk::Data(d) => {
                if self.first.is_none() {
                    self.first = Some(cx.ts);
                }
                if self.stopped {
                    cx.counters.app_mut(kind).bytes_skipped += d.len() as u64;
                    return 0;
                }
                let room = cap.saturating_sub(self.data.len());
                let take = d.len().min(room);
                if take > 0 && !cx.budget.take(take) {
                    cx.counters.reassembly.budget_drops += 1;
                    self.stopped = true;
                    cx.counters.app_mut(kind).bytes_skipped += d.len() as u64;
                    return 0;
                }
                self.data.extend_from_slice(d.get(..take).unwrap_or(&[]));
                if take < d.len() {
                    self.stopped = true;
                    cx.counters.app_mut(kind).bytes_skipped += (d.len() - take) as u64;
                }
                take
            }
        }
    }

    /// Gives the buffer's bytes back to the budget.
    fn release(&mut self, cx: &mut Cx<'_>) {
        cx.budget.give(self.data.len());
        self.data = Vec::new();
        self.stopped = true;
    }
}

/// Bytes of a direction an analyzer buffers, at most.
const APP_CAP: usize = 64 << 10;

/// Bytes of each direction of an RDP connection read (the connection
/// request, confirm and MCS Connect Initial fit).
const RDP_CAP: usize = 8 << 10;

/// Kerberos over TCP: 4-byte record marks, each request paired with the
/// next answer.
#[derive(Default)]
pub(super) struct KerberosTcp {
    bufs: [Buf; 2],
    pending: Option<(Timestamp, kerberos::KdcRequest)>,
    done: bool,
}

impl StreamAnalyzer for KerberosTcp {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if self.done {
            return;
        }
        let Some(buf) = self.bufs.get_mut(usize::from(!from_orig)) else {
            return;
        };
        if buf.push(chunk, APP_CAP, AppKind::Kerberos, cx) == 0 {
            return;
        }
        // Every whole record at the front of the buffer.
        let mut used = 0usize;
        let mut msgs = Vec::new();
        let mut failed = false;
        loop {
            let rest = buf.data.get(used..).unwrap_or(&[]);
            if rest.is_empty() {
                break;
            }
            match kerberos::parse_tcp_record(rest) {
                Ok((msg, after)) => {
                    used = buf.data.len() - after.len();
                    msgs.push(kerberos::parse_message(msg));
                }
                Err(super::ber::ParseError::Truncated(_)) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        buf.data.drain(..used);
        cx.budget.give(used);
        if failed {
            cx.counters.app_mut(AppKind::Kerberos).parse_errors += 1;
            self.done = true;
            for b in &mut self.bufs {
                b.release(cx);
            }
        }
        for m in msgs {
            self.message(m, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        for b in &mut self.bufs {
            b.release(cx);
        }
        if let Some((ts, req)) = self.pending.take() {
            let record = AppRecord::Kerberos {
                request: Some(req),
                answer: None,
            };
            emit(AppKind::Kerberos, ts, record, cx);
        }
    }

    fn name(&self) -> &'static str {
        "kerberos"
    }

    fn done(&self) -> bool {
        self.done
    }
}

impl KerberosTcp {
    fn message(&mut self, m: Result<kerberos::Message, super::ber::ParseError>, cx: &mut Cx<'_>) {
        let m = match m {
            Ok(m) => m,
            Err(_) => {
                cx.counters.app_mut(AppKind::Kerberos).parse_errors += 1;
                return;
            }
        };
        pair_kerberos(&mut self.pending, m, cx);
    }
}

/// Pairs a Kerberos message with the request waiting on its connection:
/// a request waits (pushing out one that was never answered), an answer
/// completes the waiting request.
fn pair_kerberos(
    pending: &mut Option<(Timestamp, kerberos::KdcRequest)>,
    m: kerberos::Message,
    cx: &mut Cx<'_>,
) {
    match m {
        kerberos::Message::Request(r) => {
            if let Some((ts, old)) = pending.replace((cx.ts, r)) {
                let record = AppRecord::Kerberos {
                    request: Some(old),
                    answer: None,
                };
                emit(AppKind::Kerberos, ts, record, cx);
            }
        }
        m @ (kerberos::Message::Reply(_) | kerberos::Message::Error(_)) => {
            let (ts, request) = match pending.take() {
                Some((ts, r)) => (ts, Some(r)),
                None => (cx.ts, None),
            };
            let record = AppRecord::Kerberos {
                request,
                answer: Some(m),
            };
            emit(AppKind::Kerberos, ts, record, cx);
        }
        kerberos::Message::Other(_) | kerberos::Message::ApRequest(_) => {}
    }
}

/// A Kerberos request that was never answered, as a record.
pub(super) fn unanswered(ts: Timestamp, request: kerberos::KdcRequest, cx: &mut Cx<'_>) {
    let record = AppRecord::Kerberos {
        request: Some(request),
        answer: None,
    };
    emit(AppKind::Kerberos, ts, record, cx);
}

/// One Kerberos datagram of a UDP exchange, paired by the caller.
pub(super) fn kerberos_datagram(
    pending: &mut Option<(Timestamp, kerberos::KdcRequest)>,
    payload: &[u8],
    cx: &mut Cx<'_>,
) {
    match kerberos::parse_message(payload) {
        Ok(m) => pair_kerberos(pending, m, cx),
        Err(_) => cx.counters.app_mut(AppKind::Kerberos).parse_errors += 1,
    }
}

/// HTTP: request and response streams buffered and paired at the end;
/// every request head is also read for an NTLM `Authorization` at once
/// (WinRM, whose bodies soon fill the buffer).
#[derive(Default)]
pub(super) struct HttpAnalyzer {
    bufs: [Buf; 2],
    /// Times of the client's segments that start a request.
    starts: Vec<Timestamp>,
}

impl StreamAnalyzer for HttpAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if from_orig
            && let Chunk::Data(d) = chunk
            && http::looks_like_request(d)
        {
            if self.starts.len() < http::MAX_MESSAGES {
                self.starts.push(cx.ts);
            }
            super::http_auth(d, cx);
        }
        if let Some(b) = self.bufs.get_mut(usize::from(!from_orig)) {
            b.push(chunk, APP_CAP, AppKind::Http, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        let [client, server] = &mut self.bufs;
        let first = client.first.or(server.first).unwrap_or(cx.ts);
        if !client.data.is_empty() || !server.data.is_empty() {
            let reqs = http::parse_requests(&client.data);
            let resps = http::parse_responses(&server.data, &http::head_flags(&reqs.messages));
            // An error at the cut of a full buffer is expected; count the others.
            if (reqs.error.is_some() && !client.stopped)
                || (resps.error.is_some() && !server.stopped)
            {
                cx.counters.app_mut(AppKind::Http).parse_errors += 1;
            }
            let aligned = reqs.messages.len() == self.starts.len();
            let starts = std::mem::take(&mut self.starts);
            for (i, t) in http::pair(reqs.messages, resps.messages)
                .into_iter()
                .enumerate()
            {
                let ts = if aligned && t.request.is_some() {
                    starts.get(i).copied().unwrap_or(first)
                } else {
                    first
                };
                emit(AppKind::Http, ts, AppRecord::Http(t), cx);
            }
        }
        client.release(cx);
        server.release(cx);
    }

    fn name(&self) -> &'static str {
        "http"
    }
}

/// RDP: the first bytes of each direction, read at the end.
#[derive(Default)]
pub(super) struct RdpAnalyzer {
    bufs: [Buf; 2],
}

impl StreamAnalyzer for RdpAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if let Some(b) = self.bufs.get_mut(usize::from(!from_orig)) {
            b.push(chunk, RDP_CAP, AppKind::Rdp, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        let [client, server] = &mut self.bufs;
        if client.data.is_empty() && server.data.is_empty() {
            return;
        }
        let ts = client.first.or(server.first).unwrap_or(cx.ts);
        let request = rdp::parse_connection_request(&client.data);
        let confirm = rdp::parse_connection_confirm(&server.data);
        if request.is_err() && confirm.is_err() {
            // Not an RDP setup (a capture started mid-session): nothing to say.
            cx.counters.app_mut(AppKind::Rdp).parse_errors += 1;
        } else {
            let core = rdp::parse_client_core(&client.data).ok();
            let record = AppRecord::Rdp {
                request: request.ok(),
                confirm: confirm.ok(),
                core,
            };
            emit(AppKind::Rdp, ts, record, cx);
        }
        client.release(cx);
        server.release(cx);
    }

    fn name(&self) -> &'static str {
        "rdp"
    }

    fn done(&self) -> bool {
        self.bufs.iter().all(|b| b.stopped)
    }
}

/// Clear bytes of an SSH direction read before its NEWKEYS, at most (the
/// version line, KEXINIT and key exchange fit many times over).
const SSH_CLEAR_CAP: usize = 32 << 10;

/// SSH: both directions followed segment by segment. The clear part each
/// direction's parser may hold is charged to the budget until NEWKEYS.
#[derive(Default)]
pub(super) struct SshAnalyzer {
    state: ssh::SshState,
    first: Option<Timestamp>,
    /// Clear bytes fed per direction, charged to the budget.
    charged: [usize; 2],
    /// Directions no longer read (cap, budget, gap).
    stopped: [bool; 2],
}

impl StreamAnalyzer for SshAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        let i = usize::from(!from_orig);
        let d = match chunk {
            Chunk::Data(d) => d,
            Chunk::Gap(n) => {
                cx.counters.app_mut(AppKind::Ssh).bytes_skipped += n;
                if let Some(s) = self.stopped.get_mut(i) {
                    *s = true;
                }
                return;
            }
        };
        self.first.get_or_insert(cx.ts);
        if self.stopped.get(i).copied().unwrap_or(true) {
            cx.counters.app_mut(AppKind::Ssh).bytes_skipped += d.len() as u64;
            return;
        }
        let dir = if from_orig {
            &mut self.state.client
        } else {
            &mut self.state.server
        };
        if !dir.encrypted {
            let Some(charged) = self.charged.get_mut(i) else {
                return;
            };
            if *charged + d.len() > SSH_CLEAR_CAP || !cx.budget.take(d.len()) {
                if let Some(s) = self.stopped.get_mut(i) {
                    *s = true;
                }
                cx.counters.app_mut(AppKind::Ssh).bytes_skipped += d.len() as u64;
                return;
            }
            *charged += d.len();
        }
        dir.segment(d);
        if dir.encrypted
            && let Some(charged) = self.charged.get_mut(i)
        {
            // The clear part is read: its buffer is gone.
            cx.budget.give(std::mem::take(charged));
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        for c in &mut self.charged {
            cx.budget.give(std::mem::take(c));
        }
        let Some(ts) = self.first else {
            return;
        };
        let st = std::mem::take(&mut self.state);
        if st.client.version.is_none() && st.server.version.is_none() {
            cx.counters.app_mut(AppKind::Ssh).parse_errors += 1;
            return;
        }
        emit(AppKind::Ssh, ts, AppRecord::Ssh(Box::new(st)), cx);
    }

    fn name(&self) -> &'static str {
        "ssh"
    }
}

/// TLS: each direction's records until both sides changed cipher spec.
#[derive(Default)]
pub(super) struct TlsAnalyzer {
    bufs: [Buf; 2],
    done: bool,
}

impl TlsAnalyzer {
    fn conclude(&mut self, cx: &mut Cx<'_>) {
        if self.done {
            return;
        }
        self.done = true;
        let [client, server] = &mut self.bufs;
        if client.data.is_empty() && server.data.is_empty() {
            return;
        }
        let ts = client.first.or(server.first).unwrap_or(cx.ts);
        let c = tls::parse_flight(&client.data, true);
        let s = tls::parse_flight(&server.data, false);
        if c.client_hello.is_none() && s.server_hello.is_none() {
            cx.counters.app_mut(AppKind::Tls).parse_errors += 1;
        } else {
            let record = AppRecord::Tls {
                client: Box::new(c),
                server: Box::new(s),
            };
            emit(AppKind::Tls, ts, record, cx);
        }
        client.release(cx);
        server.release(cx);
    }
}

impl StreamAnalyzer for TlsAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if self.done {
            return;
        }
        let Some(b) = self.bufs.get_mut(usize::from(!from_orig)) else {
            return;
        };
        if b.push(chunk, APP_CAP, AppKind::Tls, cx) == 0 && !b.stopped {
            return;
        }
        // The handshake is over once both sides changed cipher spec (or
        // application data flows); read it then and let go of the bytes.
        let over = |data: &[u8], client: bool| {
            let f = tls::parse_flight(data, client);
            f.change_cipher_spec
                || f.application_data
                || matches!(f.error, Some(super::ber::ParseError::Malformed(_)))
        };
        let [client, server] = &self.bufs;
        if (client.stopped || over(&client.data, true))
            && (server.stopped || over(&server.data, false))
        {
            self.conclude(cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        self.conclude(cx);
    }

    fn name(&self) -> &'static str {
        "tls"
    }

    fn done(&self) -> bool {
        self.done
    }
}

/// Budget bytes charged for each DNS query waiting for its response (the
/// global memory cap bounds the queries waiting over all connections).
const DNS_PENDING_COST: usize = 512;

/// The NetBIOS name service's UDP port, read as DNS (as Zeek does).
pub const NETBIOS_NS_PORT: u16 = 137;

/// One DNS message (UDP payload or TCP frame) on a connection: parsed,
/// paired with the queries waiting in `pending`, and each complete
/// transaction a record. A query refused by the global cap is logged at
/// once, unanswered, and counted as refused.
pub(super) fn dns_message(pending: &mut dns::Pending, tcp: bool, msg: &[u8], cx: &mut Cx<'_>) {
    let m = match dns::parse_on(msg, !tcp && cx.flow.resp.1 == NETBIOS_NS_PORT) {
        Ok(m) => m,
        Err(_) => {
            cx.counters.app_mut(AppKind::Dns).parse_errors += 1;
            return;
        }
    };
    if !m.tracked() {
        return;
    }
    let before = pending.len();
    let took = !m.qr && cx.budget.take(DNS_PENDING_COST);
    if !m.qr && !took {
        cx.counters.app_mut(AppKind::Dns).refused += 1;
    }
    let done = pending.message(cx.ts, tcp, m, took);
    let after = pending.len();
    // Charged `took`; the queue grew by `after - before`: give the rest back.
    let charged = usize::from(took) + before;
    cx.budget
        .give(charged.saturating_sub(after) * DNS_PENDING_COST);
    for t in done {
        emit(AppKind::Dns, t.ts, AppRecord::Dns(Box::new(t)), cx);
    }
}

/// Ends a connection's DNS pairing: the queries never answered are records.
pub(super) fn dns_finish(pending: &mut dns::Pending, cx: &mut Cx<'_>) {
    let left = pending.drain();
    cx.budget.give(left.len() * DNS_PENDING_COST);
    for t in left {
        emit(AppKind::Dns, t.ts, AppRecord::Dns(Box::new(t)), cx);
    }
}

/// DNS over TCP: each message behind a 2-byte length (RFC 1035 4.2.2).
#[derive(Default)]
pub(super) struct DnsTcp {
    bufs: [Buf; 2],
    pending: dns::Pending,
    done: bool,
}

impl StreamAnalyzer for DnsTcp {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if self.done {
            return;
        }
        let Some(buf) = self.bufs.get_mut(usize::from(!from_orig)) else {
            return;
        };
        if buf.push(chunk, APP_CAP + 2, AppKind::Dns, cx) == 0 {
            if buf.stopped {
                // A gap: the framing is lost.
                self.done = true;
                for b in &mut self.bufs {
                    b.release(cx);
                }
            }
            return;
        }
        let mut used = 0usize;
        let mut msgs = Vec::new();
        while let Some(&[hi, lo]) = buf.data.get(used..used + 2) {
            let n = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(m) = buf.data.get(used + 2..used + 2 + n) else {
                break;
            };
            msgs.push(m.to_vec());
            used += 2 + n;
        }
        buf.data.drain(..used);
        cx.budget.give(used);
        for m in msgs {
            dns_message(&mut self.pending, true, &m, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        for b in &mut self.bufs {
            b.release(cx);
        }
        dns_finish(&mut self.pending, cx);
    }

    fn name(&self) -> &'static str {
        "dns"
    }

    fn done(&self) -> bool {
        self.done
    }
}

/// LDAP: both directions buffered, read at the end.
#[derive(Default)]
pub(super) struct LdapAnalyzer {
    bufs: [Buf; 2],
}

impl StreamAnalyzer for LdapAnalyzer {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if let Some(b) = self.bufs.get_mut(usize::from(!from_orig)) {
            b.push(chunk, APP_CAP, AppKind::Ldap, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        let [client, server] = &mut self.bufs;
        if client.data.is_empty() && server.data.is_empty() {
            return;
        }
        let ts = client.first.or(server.first).unwrap_or(cx.ts);
        let c = ldap::parse_messages(&client.data);
        let s = ldap::parse_messages(&server.data);
        if (c.error.is_some() && !client.stopped) || (s.error.is_some() && !server.stopped) {
            cx.counters.app_mut(AppKind::Ldap).parse_errors += 1;
        }
        if !c.messages.is_empty() || !s.messages.is_empty() {
            let record = AppRecord::Ldap {
                requests: c.messages,
                responses: s.messages,
            };
            emit(AppKind::Ldap, ts, record, cx);
        }
        client.release(cx);
        server.release(cx);
    }

    fn name(&self) -> &'static str {
        "ldap"
    }
}

/// The analyzer a connection's first bytes suggest, whatever its port:
/// an SSH banner (either side), a TLS handshake record, an HTTP request, a
/// TPKT X.224 Connection Request.
pub fn sniff(first: &[u8]) -> Option<AppKind> {
    if first.starts_with(b"SSH-") {
        return Some(AppKind::Ssh);
    }
    if let [0x16, 3, minor, _, _, 1, ..] = first
        && *minor <= 4
    {
        return Some(AppKind::Tls);
    }
    if http::looks_like_request(first) {
        return Some(AppKind::Http);
    }
    if let [3, 0, _, _, _, 0xe0, ..] = first {
        return Some(AppKind::Rdp);
    }
    None
}

/// A new analyzer of `kind`.
pub(super) fn new_analyzer(kind: AppKind) -> Box<dyn StreamAnalyzer> {
    match kind {
        AppKind::Kerberos => Box::<KerberosTcp>::default(),
        AppKind::Http => Box::<HttpAnalyzer>::default(),
        AppKind::Rdp => Box::<RdpAnalyzer>::default(),
        AppKind::Ssh => Box::<SshAnalyzer>::default(),
        AppKind::Tls => Box::<TlsAnalyzer>::default(),
        AppKind::Ldap => Box::<LdapAnalyzer>::default(),
        AppKind::Dns => Box::<DnsTcp>::default(),
    }
}

/// The analyzer for a connection to a port with a conventional protocol,
/// chosen by the first bytes when they show another one (TLS on 8080,
/// HTTP on 443): waits for the first bytes of either side.
pub(super) struct ByPort {
    default: AppKind,
    chosen: Option<(AppKind, Box<dyn StreamAnalyzer>)>,
    /// The first bytes are not the port's protocol nor another known one.
    rejected: bool,
}

/// True when `d`, the first bytes of a connection (from the client when
/// `from_orig`), can start `kind`: what a connection to the port of `kind`
/// must show to be read as it.
fn can_start(kind: AppKind, d: &[u8], from_orig: bool) -> bool {
    match kind {
        // A capture begun mid-connection may first show a response.
        AppKind::Http => {
            if from_orig {
                http::looks_like_request(d)
            } else {
                d.starts_with(b"HTTP/1.")
            }
        }
        AppKind::Tls => matches!(d.first(), Some(0x14..=0x17)),
        AppKind::Ssh => d.starts_with(b"SSH-"),
        AppKind::Rdp => from_orig && d.starts_with(&[3, 0]),
        // A record mark under 16 MiB.
        AppKind::Kerberos => d.first() == Some(&0),
        AppKind::Ldap => d.first() == Some(&0x30),
        AppKind::Dns => true,
    }
}

impl ByPort {
    /// An analyzer that will be `default` unless the first bytes say otherwise.
    pub(super) fn new(default: AppKind) -> ByPort {
        ByPort {
            default,
            chosen: None,
            rejected: false,
        }
    }
}

impl StreamAnalyzer for ByPort {
    fn chunk(&mut self, from_orig: bool, chunk: Chunk<'_>, cx: &mut Cx<'_>) {
        if self.rejected {
            return;
        }
        if self.chosen.is_none() {
            let Chunk::Data(d) = chunk else {
                return;
            };
            if d.is_empty() {
                return;
            }
            let kind = match sniff(d) {
                // Only the server speaks first in SSH; other protocols are
                // recognised in the client's bytes.
                Some(AppKind::Ssh) => AppKind::Ssh,
                Some(k) if from_orig => k,
                _ if can_start(self.default, d, from_orig) => self.default,
                _ => {
                    // Not the port's protocol (a capture begun mid-stream,
                    // another protocol): counted, and let go.
                    self.rejected = true;
                    cx.counters.app_connection(self.default);
                    cx.counters.app_mut(self.default).parse_errors += 1;
                    return;
                }
            };
            cx.counters.app_connection(kind);
            self.chosen = Some((kind, new_analyzer(kind)));
        }
        if let Some((_, a)) = &mut self.chosen {
            a.chunk(from_orig, chunk, cx);
        }
    }

    fn finish(&mut self, cx: &mut Cx<'_>) {
        if let Some((_, a)) = &mut self.chosen {
            a.finish(cx);
        }
    }

    fn name(&self) -> &'static str {
        self.chosen
            .as_ref()
            .map_or(self.default.name(), |(k, _)| k.name())
    }

    fn deferred(&self) -> bool {
        true
    }

    fn done(&self) -> bool {
        self.rejected || self.chosen.as_ref().is_some_and(|(_, a)| a.done())
    }
}
