//! Normalised events as Elastic Common Schema documents, one JSON object
//! per line, written by hand (no intermediate tree) so output keeps up
//! with the parsers.
//!
//! Log events carry `@timestamp`, `event.*` (kind, category, action,
//! outcome, code, dataset), `source.*`, `destination.*`, `host.*`,
//! `user.name`/`user.domain` (the account acted as), `user.effective.name`
//! (the account that acted, when different), `process.*`, `service.name`,
//! `winlog.logon.type`, `winlog.event_data.ShareName`/`RelativeTargetName`,
//! `network.*` and `event.duration` (flow summaries from logs), `dns.*`
//! (question, answers, `resolved_ip`), `lateral.rpc_endpoint`/`rpc_operation`,
//! `labels` (source-specific details),
//! `related.ip`/`related.user`, and `log.file.path` with `log.file.line`
//! (text) or `log.offset` (binary) pointing back at the raw record.
//! Connection records from captures become `event.category: network`
//! documents with `network.*` and Zeek's fields under `zeek.conn.*`.

use crate::event::{Flow, LogEvent, Origin, Position};
use std::io::Write as _;
use std::net::IpAddr;

/// A JSON object being written: keeps track of commas.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        push_json_str(self.out, v);
    }

    fn opt_str(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(k, v);
        }
    }

    fn num(&mut self, k: &str, v: u64) {
        self.key(k);
        let mut b = itoa::Buffer::new();
        self.out.extend_from_slice(b.format(v).as_bytes());
    }

    fn ip(&mut self, k: &str, v: IpAddr) {
        self.key(k);
        push_ip(self.out, v);
    }

    /// Opens a nested object under `k`; call `close` on it.
    fn nested(&mut self, k: &str) -> Obj<'_> {
        self.key(k);
        Obj::open(self.out)
    }

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

/// True when no byte of `b` needs escaping in a JSON string (a control
/// character, `"` or `\\`), checked eight bytes at a time.
fn is_plain(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Any byte of `x` zero / below 0x20 (exact for "any", by the usual
    // borrow argument: the lowest offending byte always sets its high bit).
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH != 0;
    let has_below_space = |x: u64| x.wrapping_sub(ONES * 0x20) & !x & HIGH != 0;
    let mut words = b.chunks_exact(8);
    for w in words.by_ref() {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let x = u64::from_le_bytes(a);
        if has_below_space(x) || has_zero(x ^ (ONES * 0x22)) || has_zero(x ^ (ONES * 0x5c)) {
            return false;
        }
    }
    // The tail, padded with a plain byte, in one more word.
    let tail = words.remainder();
    let mut a = [b'a'; 8];
    if let Some(head) = a.get_mut(..tail.len()) {
        head.copy_from_slice(tail);
    }
    let x = u64::from_le_bytes(a);
    !(has_below_space(x) || has_zero(x ^ (ONES * 0x22)) || has_zero(x ^ (ONES * 0x5c)))
}

/// Writes an address as a JSON string; dotted quads without the
/// formatting machinery (the common case).
fn push_ip(out: &mut Vec<u8>, v: IpAddr) {
    if let IpAddr::V4(v4) = v {
        let mut b = itoa::Buffer::new();
        out.push(b'"');
        for (i, octet) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            out.extend_from_slice(b.format(octet).as_bytes());
        }
        out.push(b'"');
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

fn log_fields(o: &mut Obj<'_>, origin: Option<&Origin>) {
    let Some(origin) = origin else { return };
    let mut log = o.nested("log");
    let mut file = log.nested("file");
    file.key("path");
    LAST_PATH.with_borrow_mut(|(name, json)| {
        if !name
            .as_ref()
            .is_some_and(|n| std::sync::Arc::ptr_eq(n, &origin.file))
        {
            json.clear();
            push_json_str(json, &origin.file);
            *name = Some(origin.file.clone());
        }
        file.out.extend_from_slice(json);
    });
    if let Position::Line(l) = origin.at {
        file.num("line", l);
    }
    file.close();
    if let Position::Offset(off) = origin.at {
        log.num("offset", off);
    }
    log.close();
}

fn endpoint(
    o: &mut Obj<'_>,
    name: &str,
    ip: Option<IpAddr>,
    port: Option<u16>,
    domain: Option<&str>,
) {
    if ip.is_none() && port.is_none() && domain.is_none() {
        return;
    }
    let mut n = o.nested(name);
    if let Some(ip) = ip {
        n.ip("ip", ip);
    }
    if let Some(p) = port {
        n.num("port", u64::from(p));
    }
    n.opt_str("domain", domain);
    n.close();
}

/// `network.*` of a log event that summarises a flow (LANL flows).
fn network_fields(o: &mut Obj<'_>, e: &LogEvent) {
    if e.ip_proto.is_none() && e.network_bytes.is_none() && e.network_packets.is_none() {
        return;
    }
    let mut n = o.nested("network");
    if let Some(p) = e.ip_proto {
        let transport = match p {
            1 => Some("icmp"),
            6 => Some("tcp"),
            17 => Some("udp"),
            58 => Some("ipv6-icmp"),
            _ => None,
        };
        n.opt_str("transport", transport);
        n.num("iana_number", u64::from(p));
    }
    if let Some(b) = e.network_bytes {
        n.num("bytes", b);
    }
    if let Some(p) = e.network_packets {
        n.num("packets", p);
    }
    n.close();
}

/// `dns.*` of a DNS answer event: the question, the answers, and the
/// answers that are addresses as `dns.resolved_ip`.
fn dns_fields(o: &mut Obj<'_>, e: &LogEvent) {
    if e.dns_question.is_none() && e.dns_answers.is_empty() {
        return;
    }
    let mut d = o.nested("dns");
    if let Some(q) = &e.dns_question {
        let mut qn = d.nested("question");
        qn.str("name", q);
        qn.close();
    }
    if !e.dns_answers.is_empty() {
        d.key("answers");
        d.out.push(b'[');
        for (i, a) in e.dns_answers.iter().enumerate() {
            if i > 0 {
                d.out.push(b',');
            }
            let mut one = Obj::open(d.out);
            one.str("data", a);
            one.close();
        }
        d.out.push(b']');
        let ips: Vec<&str> = e
            .dns_answers
            .iter()
            .map(|a| a.as_str())
            .filter(|a| a.parse::<IpAddr>().is_ok())
            .collect();
        if !ips.is_empty() {
            d.key("resolved_ip");
            let _ = serde_json::to_writer(&mut *d.out, &ips);
        }
    }
    d.close();
}

/// Writes one log event as an ECS JSON line.
pub fn write_event(e: &LogEvent, out: &mut Vec<u8>) {
    // One reservation for the whole line (most are under 600 bytes).
    out.reserve(640);
    let mut o = Obj::open(out);
    o.key("@timestamp");
    o.out.push(b'"');
    e.ts.write_rfc3339_micros(o.out);
    o.out.push(b'"');
    {
        let mut ev = o.nested("event");
        ev.str("kind", "event");
        if let Some(c) = e.category {
            ev.key("category");
            ev.out.extend_from_slice(b"[\"");
            ev.out.extend_from_slice(c.ecs().as_bytes());
            ev.out.extend_from_slice(b"\"]");
        }
        ev.str("action", &e.action);
        if let Some(x) = e.outcome {
            ev.str("outcome", x.ecs());
        }
        if let Some(c) = e.code {
            let mut b = itoa::Buffer::new();
            ev.str("code", b.format(c));
        }
        ev.str("dataset", &e.dataset);
        ev.opt_str("reason", e.status.as_deref());
        if let Some(d) = e.duration {
            ev.num("duration", d.0.max(0) as u64);
        }
        ev.close();
    }
    endpoint(
        &mut o,
        "source",
        e.source_ip,
        e.source_port,
        e.source_domain.as_deref(),
    );
    endpoint(
        &mut o,
        "destination",
        e.destination_ip,
        e.destination_port,
        e.destination_domain.as_deref(),
    );
    if e.host_name.is_some() || e.host_ip.is_some() {
        let mut h = o.nested("host");
        h.opt_str("name", e.host_name.as_deref());
        if let Some(ip) = e.host_ip {
            h.ip("ip", ip);
        }
        h.close();
    }
    if e.user_name.is_some() || e.subject_user.is_some() {
        let mut u = o.nested("user");
        u.opt_str("name", e.user_name.as_deref());
        u.opt_str("domain", e.user_domain.as_deref());
        if let Some(s) = &e.subject_user {
            let mut eff = u.nested("effective");
            eff.str("name", s);
            eff.close();
        }
        u.close();
    }
    if e.process_executable.is_some() || e.process_command_line.is_some() {
        let mut p = o.nested("process");
        p.opt_str("executable", e.process_executable.as_deref());
        p.opt_str("command_line", e.process_command_line.as_deref());
        p.close();
    }
    if let Some(s) = &e.service_name {
        let mut sv = o.nested("service");
        sv.str("name", s);
        sv.close();
    }
    network_fields(&mut o, e);
    dns_fields(&mut o, e);
    if e.auth_method.is_some()
        || e.logon_process.is_some()
        || e.rpc_endpoint.is_some()
        || e.rpc_operation.is_some()
    {
        let mut a = o.nested("lateral");
        a.opt_str("auth_method", e.auth_method.as_deref());
        a.opt_str("logon_process", e.logon_process.as_deref());
        a.opt_str("rpc_endpoint", e.rpc_endpoint.as_deref());
        a.opt_str("rpc_operation", e.rpc_operation.as_deref());
        a.close();
    }
    if !e.labels.is_empty() {
        let mut l = o.nested("labels");
        for (k, v) in &e.labels {
            l.str(k, v);
        }
        l.close();
    }
    if e.logon_type.is_some() || e.share_name.is_some() || e.share_target.is_some() {
        let mut w = o.nested("winlog");
        if let Some(t) = e.logon_type {
            let mut l = w.nested("logon");
            l.num("type", u64::from(t));
            l.close();
        }
        if e.share_name.is_some() || e.share_target.is_some() {
            let mut d = w.nested("event_data");
            d.opt_str("ShareName", e.share_name.as_deref());
            d.opt_str("RelativeTargetName", e.share_target.as_deref());
            d.close();
        }
        w.close();
    }
    // Arrays on the stack: no allocation per event.
    let ips = [e.source_ip, e.destination_ip, e.host_ip];
    let users = [e.user_name.as_deref(), e.subject_user.as_deref()];
    let any_ip = ips.iter().any(Option::is_some);
    let any_user = users.iter().any(Option::is_some);
    if any_ip || any_user {
        let mut r = o.nested("related");
        if any_ip {
            r.key("ip");
            r.out.push(b'[');
            for (i, ip) in ips.iter().flatten().enumerate() {
                if i > 0 {
                    r.out.push(b',');
                }
                push_ip(r.out, *ip);
            }
            r.out.push(b']');
        }
        if any_user {
            r.key("user");
            r.out.push(b'[');
            for (i, u) in users.iter().flatten().enumerate() {
                if i > 0 {
                    r.out.push(b',');
                }
                push_json_str(r.out, u);
            }
            r.out.push(b']');
        }
        r.close();
    }
    log_fields(&mut o, e.origin.as_ref());
    o.close();
    out.push(b'\n');
}

/// Writes one connection record as an ECS network event line.
pub fn write_flow_event(f: &Flow, out: &mut Vec<u8>) {
    let mut o = Obj::open(out);
    o.key("@timestamp");
    o.out.push(b'"');
    f.ts.write_rfc3339_micros(o.out);
    o.out.push(b'"');
    {
        let mut ev = o.nested("event");
        ev.str("kind", "event");
        ev.key("category");
        ev.out.extend_from_slice(b"[\"network\"]");
        ev.str("action", "connection");
        ev.str("dataset", "lateral.flow");
        if let Some(d) = f.duration {
            ev.num("duration", d.0.max(0) as u64);
        }
        ev.close();
    }
    endpoint(&mut o, "source", Some(f.orig_h), Some(f.orig_p), None);
    endpoint(&mut o, "destination", Some(f.resp_h), Some(f.resp_p), None);
    {
        let mut n = o.nested("network");
        n.str("transport", f.proto.zeek_name());
        n.num("iana_number", u64::from(f.ip_proto));
        n.opt_str("protocol", f.service.as_deref());
        n.num("packets", f.orig_pkts + f.resp_pkts);
        n.num("bytes", f.orig_ip_bytes + f.resp_ip_bytes);
        n.close();
    }
    {
        let mut z = o.nested("zeek");
        let mut c = z.nested("conn");
        c.str("uid", &f.uid);
        c.str("state", f.conn_state.code());
        c.opt_str(
            "history",
            Some(f.history.as_str()).filter(|h| !h.is_empty()),
        );
        if let Some(b) = f.orig_bytes {
            c.num("orig_bytes", b);
        }
        if let Some(b) = f.resp_bytes {
            c.num("resp_bytes", b);
        }
        c.num("orig_pkts", f.orig_pkts);
        c.num("resp_pkts", f.resp_pkts);
        c.close();
        z.close();
    }
    log_fields(&mut o, f.origin.as_ref());
    o.close();
    out.push(b'\n');
}

/// Events formatted ahead, in parallel: their JSON lines and where each ends.
struct Formatted {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Events formatted per parallel batch.
const FORMAT_BATCH: usize = 1 << 15;

/// Formats `events` as JSON lines on all worker threads, in order.
fn format_parallel(events: &[LogEvent]) -> Formatted {
    use rayon::prelude::*;
    let parts: Vec<Formatted> = events
        .par_chunks(2048)
        .map(|chunk| {
            let mut f = Formatted {
                bytes: Vec::with_capacity(chunk.len() * 512),
                ends: Vec::with_capacity(chunk.len()),
            };
            for e in chunk {
                write_event(e, &mut f.bytes);
                f.ends.push(f.bytes.len());
            }
            f
        })
        .collect();
    let mut all = Formatted {
        bytes: Vec::with_capacity(parts.iter().map(|p| p.bytes.len()).sum()),
        ends: Vec::with_capacity(events.len()),
    };
    for p in parts {
        let base = all.bytes.len();
        all.bytes.extend_from_slice(&p.bytes);
        all.ends.extend(p.ends.iter().map(|e| e + base));
    }
    all
}

/// Formatted log event lines read front to back, for [`interleave`].
trait EventLines {
    /// Time of the next event, if any.
    fn peek_ts(&self) -> Option<crate::event::Timestamp>;
    /// Appends the next event's line to `out`; false when none is left.
    fn write_next(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool>;
}

/// Sorted events in memory, formatted ahead in parallel batches.
struct SliceLines<'a> {
    events: &'a [LogEvent],
    /// The batch covers `events[start..start + batch.ends.len()]`.
    start: usize,
    next: usize,
    batch: Formatted,
}

impl EventLines for SliceLines<'_> {
    fn peek_ts(&self) -> Option<crate::event::Timestamp> {
        self.events.get(self.next).map(|e| e.ts)
    }

    fn write_next(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        if self.next >= self.events.len() {
            return Ok(false);
        }
        if self.next >= self.start + self.batch.ends.len() {
            self.start = self.next;
            let end = (self.start + FORMAT_BATCH).min(self.events.len());
            self.batch = format_parallel(self.events.get(self.start..end).unwrap_or(&[]));
        }
        let i = self.next - self.start;
        let from = match i.checked_sub(1) {
            Some(p) => self.batch.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let to = self.batch.ends.get(i).copied().unwrap_or(from);
        out.extend_from_slice(self.batch.bytes.get(from..to).unwrap_or(&[]));
        self.next += 1;
        Ok(true)
    }
}

impl EventLines for crate::event_store::EventCursor<'_> {
    fn peek_ts(&self) -> Option<crate::event::Timestamp> {
        crate::event_store::EventCursor::peek_ts(self)
    }

    fn write_next(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        crate::event_store::EventCursor::write_next(self, out)
    }
}

/// Writes event lines and connection records as one stream in time order
/// (events first at equal times), both already sorted.
fn interleave(
    events: &mut dyn EventLines,
    flows: &crate::flow_store::SortedFlows,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 20);
    flows.for_each(|f| {
        while events.peek_ts().is_some_and(|t| t <= f.ts) {
            events.write_next(&mut buf)?;
        }
        write_flow_event(f, &mut buf);
        if buf.len() >= 1 << 20 {
            sink.write_all(&buf)?;
            buf.clear();
        }
        Ok(())
    })?;
    while events.write_next(&mut buf)? {
        if buf.len() >= 1 << 20 {
            sink.write_all(&buf)?;
            buf.clear();
        }
    }
    sink.write_all(&buf)?;
    sink.flush()
}

/// Writes log events and connection records as one ECS JSON Lines stream in
/// time order (events first at equal times), both already sorted. Events
/// are formatted in parallel batches; the output is the same bytes as
/// writing them one by one.
pub fn write_merged(
    events: &[LogEvent],
    flows: &crate::flow_store::SortedFlows,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut lines = SliceLines {
        events,
        start: 0,
        next: 0,
        batch: Formatted {
            bytes: Vec::new(),
            ends: Vec::new(),
        },
    };
    interleave(&mut lines, flows, sink)
}

/// Writes formatted log events (from an [`EventStore`](crate::event_store::EventStore))
/// and connection records as one ECS JSON Lines stream in time order: the
/// same bytes as [`write_merged`] over the same events.
pub fn write_sorted_merged(
    events: &crate::event_store::SortedEvents,
    flows: &crate::flow_store::SortedFlows,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    interleave(&mut events.cursor()?, flows, sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Category, Outcome, Timestamp};
    use std::sync::Arc;

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
            action: "logged-in".into(),
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
    fn merged_stream_equals_writing_one_by_one() {
        use crate::event::{ConnState, Flow, Transport};
        let events: Vec<LogEvent> = (0..(FORMAT_BATCH as i64 * 2 + 77))
            .map(|i| LogEvent {
                ts: Timestamp(i * 10),
                action: format!("a{i}").into(),
                dataset: "t".into(),
                ..LogEvent::default()
            })
            .collect();
        let store = crate::flow_store::FlowStore::new(1 << 20);
        let mut flows: Vec<Flow> = [5i64, 10, 200_000, 2_000_000]
            .iter()
            .map(|&t| Flow {
                ts: Timestamp(t),
                uid: format!("C{t}"),
                orig_h: [10, 0, 0, 1].into(),
                orig_p: 1,
                resp_h: [10, 0, 0, 2].into(),
                resp_p: 2,
                proto: Transport::Tcp,
                service: None,
                duration: None,
                orig_bytes: None,
                resp_bytes: None,
                conn_state: ConnState::S0,
                missed_bytes: 0,
                history: "S".into(),
                orig_pkts: 1,
                orig_ip_bytes: 40,
                resp_pkts: 0,
                resp_ip_bytes: 0,
                ip_proto: 6,
                origin: None,
            })
            .collect();
        store.push(&mut flows);
        let sorted = store.finish().unwrap();
        let mut want = Vec::new();
        let mut it = events.iter().peekable();
        for f in sorted.to_vec().unwrap() {
            while let Some(e) = it.next_if(|e| e.ts <= f.ts) {
                write_event(e, &mut want);
            }
            write_flow_event(&f, &mut want);
        }
        for e in it {
            write_event(e, &mut want);
        }
        let mut got = Vec::new();
        write_merged(&events, &sorted, &mut got).unwrap();
        assert_eq!(got.len(), want.len());
        assert!(got == want);
    }

    #[test]
    fn flow_summaries_dns_rpc_and_labels() {
        let e = LogEvent {
            action: "flow".into(),
            ip_proto: Some(17),
            network_bytes: Some(144),
            network_packets: Some(3),
            duration: Some(crate::event::Duration::from_secs(9)),
            dns_question: Some("dc01.corp".into()),
            dns_answers: vec!["10.0.0.9".into(), "alias.corp".into()],
            rpc_endpoint: Some("svcctl".into()),
            rpc_operation: Some("CreateServiceW".into()),
            labels: vec![("zeek_uid".into(), "C\"1".into())],
            ..LogEvent::default()
        };
        let mut out = Vec::new();
        write_event(&e, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["network"]["transport"], "udp");
        assert_eq!(v["network"]["iana_number"], 17);
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
