//! DNS responses seen in a capture, turned into naming evidence.
//!
//! The capture path hands this module the UDP payload of packets from port
//! 53 or 5353 (see [`crate::source::capture_flows`]); [`parse_response`]
//! reads the header, skips the questions and returns one [`DnsAnswer`] per
//! (name, address) the answer section gives: A and AAAA records by their
//! owner name, PTR records by the address their reverse name spells
//! (`4.3.2.10.in-addr.arpa` -> 10.2.3.4). [`answer_events`] turns them into
//! `dns-answer` [`LogEvent`]s, the shape the host directory
//! ([`crate::hosts::DirectoryBuilder::observe`]) reads.
//!
//! Everything is bounds-checked: compression pointers may only point
//! backwards and are followed at most [`MAX_JUMPS`] times, names are capped
//! at 255 bytes, and hostile bytes give an error, never a panic.

use crate::model::Action;
use crate::model::event::{Category, LogEvent, Origin, Outcome, Position, Timestamp};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// Compression pointers followed in one name before it is rejected.
pub const MAX_JUMPS: usize = 32;

/// Longest name accepted, in presentation bytes (RFC 1035 allows 255 on the wire).
const MAX_NAME: usize = 255;

/// Answer records read from one message at most.
const MAX_ANSWERS: usize = 64;

/// Why a message gave no answers (a short, static phrase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsError(pub &'static str);

/// One (name, address) pair a DNS response states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    /// The host name, lower-case, without the trailing dot.
    pub name: String,
    /// The address the name has.
    pub addr: IpAddr,
}

/// What one response says: the first question's name and its answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsResponse {
    /// Name asked in the first question, when there is one.
    pub question: Option<String>,
    /// (name, address) pairs from A, AAAA and PTR answers, in message order.
    pub answers: Vec<DnsAnswer>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

/// What a name read accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRules {
    /// Host-name bytes only (letters, digits, `-`, `_`) and compression
    /// pointers that go strictly backwards: what naming hosts trusts.
    /// Without it any byte is kept, as Zeek's dns.log keeps it.
    pub strict: bool,
    /// Longest name built, in bytes; longer names are refused.
    pub max_len: usize,
}

/// The rules for names that name hosts (answers tying names to addresses).
pub const HOST_NAME_RULES: NameRules = NameRules {
    strict: true,
    max_len: MAX_NAME,
};

/// Reads the (possibly compressed) name at `at` into `name` (lower-cased,
/// dotted, no trailing dot; `name` is cleared first) and returns the offset
/// just past it in the message (past the first pointer when it is
/// compressed). Pointers are followed at most [`MAX_JUMPS`] times.
pub fn read_name_into(
    msg: &[u8],
    at: usize,
    rules: NameRules,
    name: &mut Vec<u8>,
) -> Result<usize, DnsError> {
    name.clear();
    let mut pos = at;
    let mut end = None;
    let mut jumps = 0usize;
    // With strict rules, pointers must go strictly backwards from the
    // label they replace.
    let mut limit = at;
    loop {
        let len = *msg.get(pos).ok_or(DnsError("DNS name truncated"))?;
        match len & 0xc0 {
            0xc0 => {
                let lo = *msg
                    .get(pos + 1)
                    .ok_or(DnsError("DNS name pointer truncated"))?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(lo);
                if rules.strict && target >= limit {
                    return Err(DnsError("DNS name pointer does not point backwards"));
                }
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return Err(DnsError("DNS name has too many pointers"));
                }
                end.get_or_insert(pos + 2);
                limit = target;
                pos = target;
            }
            0x00 => {
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                let label = msg
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(DnsError("DNS label truncated"))?;
                if rules.strict
                    && !label
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
                {
                    return Err(DnsError("DNS label is not a host name"));
                }
                if !name.is_empty() {
                    name.push(b'.');
                }
                name.extend(label.iter().map(u8::to_ascii_lowercase));
                if name.len() > rules.max_len {
                    return Err(DnsError("DNS name too long"));
                }
                pos += 1 + usize::from(len);
            }
            _ => return Err(DnsError("DNS extended label type")),
        }
    }
}

/// Reads a host name at `at` ([`HOST_NAME_RULES`]); returns it and the
/// offset just past it.
fn read_name(msg: &[u8], at: usize) -> Result<(String, usize), DnsError> {
    let mut name = Vec::new();
    let next = read_name_into(msg, at, HOST_NAME_RULES, &mut name)?;
    // Strict rules keep ASCII only.
    let name = String::from_utf8(name).map_err(|_| DnsError("DNS label is not a host name"))?;
    Ok((name, next))
}

/// Skips the name at `at` without building it; returns the offset past it.
fn skip_name(msg: &[u8], mut at: usize) -> Result<usize, DnsError> {
    for _ in 0..128 {
        let len = *msg.get(at).ok_or(DnsError("DNS name truncated"))?;
        match len & 0xc0 {
            0xc0 => return Ok(at + 2),
            0x00 if len == 0 => return Ok(at + 1),
            0x00 => at += 1 + usize::from(len),
            _ => return Err(DnsError("DNS extended label type")),
        }
    }
    Err(DnsError("DNS name too long"))
}

/// The address a reverse-lookup name spells, if it is one
/// (`4.3.2.10.in-addr.arpa`, or 32 nibbles then `ip6.arpa`).
pub fn reverse_name_addr(name: &str) -> Option<IpAddr> {
    if let Some(rest) = name.strip_suffix(".in-addr.arpa") {
        let mut o = [0u8; 4];
        let mut n = 0;
        for part in rest.split('.') {
            if n >= 4 || part.is_empty() || part.len() > 3 {
                return None;
            }
            *o.get_mut(3 - n)? = part.parse().ok()?;
            n += 1;
        }
        return (n == 4).then(|| IpAddr::V4(Ipv4Addr::from(o)));
    }
    let rest = name.strip_suffix(".ip6.arpa")?;
    let mut v: u128 = 0;
    let mut n = 0;
    for part in rest.split('.').rev() {
        if n >= 32 || part.len() != 1 {
            return None;
        }
        let d = u128::from(part.chars().next()?.to_digit(16)?);
        v = v << 4 | d;
        n += 1;
    }
    (n == 32).then(|| IpAddr::V6(Ipv6Addr::from(v)))
}

/// Reads a DNS message that is a successful response (QR set, opcode
/// QUERY, rcode NOERROR) and returns its name/address answers.
///
/// Queries, other opcodes and error responses give no answers (`Ok` with
/// an empty list); a malformed message gives the reason. Answers read
/// before a malformed record are kept.
pub fn parse_response(msg: &[u8]) -> Result<DnsResponse, DnsError> {
    let flags = be16(msg, 2).ok_or(DnsError("DNS header truncated"))?;
    let qd = be16(msg, 4).ok_or(DnsError("DNS header truncated"))?;
    let an = be16(msg, 6).ok_or(DnsError("DNS header truncated"))?;
    be16(msg, 10).ok_or(DnsError("DNS header truncated"))?;
    let mut out = DnsResponse::default();
    let is_response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    let rcode = flags & 0xf;
    if !is_response || opcode != 0 || rcode != 0 || an == 0 {
        return Ok(out);
    }
    let mut at = 12usize;
    for i in 0..qd {
        if i == 0 {
            let (q, next) = read_name(msg, at)?;
            out.question = Some(q);
            at = next;
        } else {
            at = skip_name(msg, at)?;
        }
        // QTYPE and QCLASS.
        at += 4;
        if at > msg.len() {
            return Err(DnsError("DNS question truncated"));
        }
    }
    for _ in 0..an.min(MAX_ANSWERS as u16) {
        let (owner, next) = read_name(msg, at)?;
        let rtype = be16(msg, next).ok_or(DnsError("DNS record truncated"))?;
        let class = be16(msg, next + 2).ok_or(DnsError("DNS record truncated"))?;
        let rdlen = usize::from(be16(msg, next + 8).ok_or(DnsError("DNS record truncated"))?);
        let rdata_at = next + 10;
        let rdata = msg
            .get(rdata_at..rdata_at + rdlen)
            .ok_or(DnsError("DNS record data truncated"))?;
        at = rdata_at + rdlen;
        // mDNS sets the top bit of the class (cache flush).
        if class & 0x7fff != 1 {
            continue;
        }
        let pair = match (rtype, rdata.len()) {
            (1, 4) => {
                let mut o = [0u8; 4];
                o.copy_from_slice(rdata);
                Some((owner, IpAddr::V4(Ipv4Addr::from(o))))
            }
            (28, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(rdata);
                Some((owner, IpAddr::V6(Ipv6Addr::from(o))))
            }
            (12, _) => match reverse_name_addr(&owner) {
                Some(addr) => {
                    let (target, _) = read_name(msg, rdata_at)?;
                    Some((target, addr))
                }
                None => None,
            },
            _ => None,
        };
        if let Some((name, addr)) = pair
            && !name.is_empty()
        {
            out.answers.push(DnsAnswer { name, addr });
        }
    }
    Ok(out)
}

/// Where a DNS message was seen.
#[derive(Debug, Clone)]
pub struct DnsContext {
    /// Capture time of the packet.
    pub ts: Timestamp,
    /// The answering server's address and port.
    pub server: (IpAddr, u16),
    /// The asking client's address and port.
    pub client: (IpAddr, u16),
    /// The capture file.
    pub file: Arc<str>,
    /// Byte offset of the packet's record in the file.
    pub offset: u64,
}

/// Dataset of the events [`answer_events`] makes.
pub const DATASET: &str = "network.dns";

/// Appends one `dns-answer` event per answer of `resp`: the answered name in
/// `destination.domain` and its address in `destination.ip` (what the host
/// directory reads), the server as `source`, the question in
/// `dns.question.name`, the address in `dns.answers`, the client in labels.
pub fn answer_events(resp: DnsResponse, cx: &DnsContext, out: &mut Vec<LogEvent>) {
    for a in resp.answers {
        let mut e = LogEvent {
            ts: cx.ts,
            category: Some(Category::Network),
            action: Action::DnsAnswer,
            outcome: Some(Outcome::Success),
            dataset: DATASET.into(),
            source_ip: Some(cx.server.0),
            source_port: Some(cx.server.1),
            destination_ip: Some(a.addr),
            destination_domain: Some(a.name.into()),
            origin: Some(Origin {
                file: cx.file.clone(),
                at: Position::Offset(cx.offset),
            }),
            ..LogEvent::default()
        };
        e.set_dns_question(
            resp.question
                .as_deref()
                .map(crate::model::event::Text::from),
        );
        e.push_dns_answer(a.addr.to_string().into());
        e.push_label("dns_client_ip".into(), cx.client.0.to_string().into());
        e.push_label("dns_client_port".into(), cx.client.1.to_string().into());
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds DNS messages for tests.
    struct Msg(Vec<u8>);

    impl Msg {
        fn new(flags: u16, qd: u16, an: u16) -> Msg {
            let mut v = vec![0x12, 0x34];
            for x in [flags, qd, an, 0, 0] {
                v.extend_from_slice(&x.to_be_bytes());
            }
            Msg(v)
        }
        fn name(&mut self, n: &str) -> &mut Msg {
            for l in n.split('.').filter(|l| !l.is_empty()) {
                self.0.push(l.len() as u8);
                self.0.extend_from_slice(l.as_bytes());
            }
            self.0.push(0);
            self
        }
        fn ptr(&mut self, to: u16) -> &mut Msg {
            self.0.extend_from_slice(&(0xc000 | to).to_be_bytes());
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Msg {
            self.0.extend_from_slice(b);
            self
        }
        fn question(&mut self, qtype: u16) -> &mut Msg {
            self.raw(&qtype.to_be_bytes()).raw(&[0, 1])
        }
        fn rr_head(&mut self, rtype: u16, rdlen: u16) -> &mut Msg {
            self.raw(&rtype.to_be_bytes())
                .raw(&[0, 1, 0, 0, 0x0e, 0x10])
                .raw(&rdlen.to_be_bytes())
        }
    }

    const OK: u16 = 0x8180;

    fn pairs(r: &DnsResponse) -> Vec<(String, String)> {
        r.answers
            .iter()
            .map(|a| (a.name.clone(), a.addr.to_string()))
            .collect()
    }

    #[test]
    fn a_record_with_compressed_owner() {
        let mut m = Msg::new(OK, 1, 1);
        m.name("DC01.corp.local").question(1);
        m.ptr(12).rr_head(1, 4).raw(&[10, 10, 1, 10]);
        let r = parse_response(&m.0).unwrap();
        assert_eq!(r.question.as_deref(), Some("dc01.corp.local"));
        assert_eq!(
            pairs(&r),
            vec![("dc01.corp.local".into(), "10.10.1.10".into())]
        );
    }

    #[test]
    fn aaaa_record() {
        let mut m = Msg::new(OK, 1, 1);
        m.name("ws1.corp").question(28);
        let mut addr = [0u8; 16];
        addr[0] = 0xfd;
        addr[15] = 7;
        m.ptr(12).rr_head(28, 16).raw(&addr);
        let r = parse_response(&m.0).unwrap();
        assert_eq!(pairs(&r), vec![("ws1.corp".into(), "fd00::7".into())]);
    }

    #[test]
    fn ptr_record_names_the_reversed_address() {
        let mut m = Msg::new(OK, 1, 1);
        m.name("4.3.2.10.in-addr.arpa").question(12);
        // The target "srv.corp" is written in the rdata: 1+3+1+4+1 = 10 bytes.
        m.ptr(12).rr_head(12, 10).name("srv.corp");
        let r = parse_response(&m.0).unwrap();
        assert_eq!(pairs(&r), vec![("srv.corp".into(), "10.2.3.4".into())]);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name_addr("4.3.2.10.in-addr.arpa"),
            Some("10.2.3.4".parse().unwrap())
        );
        let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.ip6.arpa";
        assert_eq!(reverse_name_addr(v6), Some("db8::1".parse().unwrap()));
        assert_eq!(reverse_name_addr("3.2.10.in-addr.arpa"), None);
        assert_eq!(reverse_name_addr("300.3.2.10.in-addr.arpa"), None);
        assert_eq!(reverse_name_addr("5.4.3.2.10.in-addr.arpa"), None);
        assert_eq!(reverse_name_addr("dc01.corp"), None);
    }

    #[test]
    fn cname_chain_names_the_canonical_host() {
        let mut m = Msg::new(OK, 1, 3);
        m.name("www.corp").question(1); // www.corp at 12, "corp" at 16
        let www = 12;
        // www.corp CNAME web.corp: rdata = 3 "web" + pointer to "corp" = 6 bytes.
        m.ptr(www).rr_head(5, 6);
        let web = m.0.len() as u16;
        m.raw(&[3, b'w', b'e', b'b']).ptr(16);
        // web.corp CNAME web01.corp (8 bytes), then web01.corp A.
        m.ptr(web).rr_head(5, 8);
        let web01 = m.0.len() as u16;
        m.raw(&[5, b'w', b'e', b'b', b'0', b'1']).ptr(16);
        m.ptr(web01).rr_head(1, 4).raw(&[10, 0, 0, 5]);
        let r = parse_response(&m.0).unwrap();
        assert_eq!(r.question.as_deref(), Some("www.corp"));
        assert_eq!(pairs(&r), vec![("web01.corp".into(), "10.0.0.5".into())]);
    }

    #[test]
    fn pointer_loops_are_rejected() {
        // The answer's owner points at itself.
        let mut m = Msg::new(OK, 0, 1);
        m.ptr(12).rr_head(1, 4).raw(&[1, 2, 3, 4]);
        assert!(parse_response(&m.0).is_err());
        // Two labels pointing at each other: the second points forward.
        let mut m = Msg::new(OK, 0, 1);
        m.raw(&[1, b'a']).ptr(16).raw(&[1, b'b']).ptr(12);
        m.ptr(16).rr_head(1, 4).raw(&[1, 2, 3, 4]);
        assert!(parse_response(&m.0).is_err());
    }

    #[test]
    fn truncated_messages_give_errors_not_panics() {
        let mut m = Msg::new(OK, 1, 1);
        m.name("dc01.corp").question(1);
        m.ptr(12).rr_head(1, 4).raw(&[10, 10, 1, 10]);
        let full = m.0.clone();
        assert_eq!(parse_response(&full).unwrap().answers.len(), 1);
        for n in 0..full.len() {
            let r = parse_response(full.get(..n).unwrap());
            assert!(r.is_err(), "prefix of {n} bytes parsed");
        }
    }

    #[test]
    fn queries_errors_and_other_classes_give_nothing() {
        let mut body = Msg::new(0, 0, 0);
        body.name("dc01.corp").question(1);
        body.ptr(12).rr_head(1, 4).raw(&[10, 10, 1, 10]);
        let with = |flags: u16| {
            let mut b = body.0.clone();
            b.splice(2..4, flags.to_be_bytes());
            b.splice(4..8, [0, 1, 0, 1]);
            b
        };
        // A query (QR clear) that carries records anyway.
        assert!(parse_response(&with(0x0100)).unwrap().answers.is_empty());
        // NXDOMAIN.
        assert!(parse_response(&with(0x8183)).unwrap().answers.is_empty());
        // A non-QUERY opcode (UPDATE).
        assert!(parse_response(&with(0xa800)).unwrap().answers.is_empty());
        assert_eq!(parse_response(&with(OK)).unwrap().answers.len(), 1);
        // Class CH is ignored; mDNS cache-flush IN is read.
        let mut m = Msg::new(0x8400, 0, 2);
        m.name("a.local")
            .raw(&[0, 1, 0, 3, 0, 0, 0, 1, 0, 4, 1, 1, 1, 1]);
        m.name("b.local")
            .raw(&[0, 1, 0x80, 1, 0, 0, 0, 1, 0, 4, 2, 2, 2, 2]);
        let r = parse_response(&m.0).unwrap();
        assert_eq!(pairs(&r), vec![("b.local".into(), "2.2.2.2".into())]);
    }

    #[test]
    fn odd_labels_and_lengths_are_rejected() {
        let mut m = Msg::new(OK, 0, 1);
        m.raw(&[3, b'a', b' ', b'b', 0])
            .rr_head(1, 4)
            .raw(&[1, 2, 3, 4]);
        assert!(parse_response(&m.0).is_err());
        // An A record with 5 bytes of data is not an address.
        let mut m = Msg::new(OK, 0, 1);
        m.name("x.corp").rr_head(1, 5).raw(&[1, 2, 3, 4, 5]);
        assert!(parse_response(&m.0).unwrap().answers.is_empty());
    }

    #[test]
    fn events_carry_the_directory_shape() {
        let mut m = Msg::new(OK, 1, 1);
        m.name("dc01.corp").question(1);
        m.ptr(12).rr_head(1, 4).raw(&[10, 10, 1, 10]);
        let r = parse_response(&m.0).unwrap();
        let cx = DnsContext {
            ts: Timestamp::from_parts(5, 0),
            server: ("10.10.1.10".parse().unwrap(), 53),
            client: ("10.10.2.7".parse().unwrap(), 40000),
            file: "x.pcap".into(),
            offset: 24,
        };
        let mut out = Vec::new();
        answer_events(r, &cx, &mut out);
        assert_eq!(out.len(), 1);
        let e = out.first().unwrap();
        assert_eq!(e.action, Action::DnsAnswer);
        assert_eq!(e.destination_domain.as_deref(), Some("dc01.corp"));
        assert_eq!(e.destination_ip, Some("10.10.1.10".parse().unwrap()));
        assert_eq!(e.source_port, Some(53));
        assert_eq!(e.dns_answers().collect::<Vec<_>>(), ["10.10.1.10"]);
    }

    proptest::proptest! {
        #[test]
        fn hostile_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_response(&b);
        }

        #[test]
        fn mutated_responses_never_panic(i in 0usize..64, v in proptest::num::u8::ANY) {
            let mut m = Msg::new(OK, 1, 2);
            m.name("dc01.corp").question(1);
            m.ptr(12).rr_head(1, 4).raw(&[10, 10, 1, 10]);
            m.ptr(12).rr_head(5, 2).ptr(12);
            let mut b = m.0;
            if let Some(x) = b.get_mut(i % 64) {
                *x = v;
            }
            let _ = parse_response(&b);
        }
    }
}
