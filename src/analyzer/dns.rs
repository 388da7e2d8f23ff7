//! DNS messages (RFC 1035) as Zeek's DNS analyzer reads them for
//! `dns.log`: the header flags, the first question, and each answer-section
//! record rendered as Zeek's `base/protocols/dns` script renders it.
//! Stateless: the pairing of queries and responses is done by the caller
//! ([`Pending`]).

use crate::model::event::Timestamp;
use crate::source::dns::{NameRules, read_name_into};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DnsParseError(pub &'static str);

/// Longest name built (bytes); longer names are refused.
const MAX_NAME: usize = 512;
/// Answer-section records rendered per message; the rest are skipped.
const MAX_ANSWERS: usize = 256;

/// The question of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, lower-cased, dotted, no trailing dot.
    pub name: Vec<u8>,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS.
    pub qclass: u16,
}

/// One answer-section record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Owner name, lower-cased.
    pub name: Vec<u8>,
    /// TTL (seconds).
    pub ttl: u32,
    /// The reply as Zeek renders it; empty for a type Zeek logs no text
    /// for (WKS).
    pub text: Vec<u8>,
}

/// One DNS message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Transaction id.
    pub id: u16,
    /// A response.
    pub qr: bool,
    /// Opcode.
    pub opcode: u8,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// The 3-bit Z field.
    pub z: u8,
    /// Response code (header's 4 bits).
    pub rcode: u8,
    /// Question count.
    pub qdcount: u16,
    /// Answer count.
    pub ancount: u16,
    /// Authority count.
    pub nscount: u16,
    /// Additional count.
    pub arcount: u16,
    /// The first question, when it could be read.
    pub question: Option<Question>,
    /// The answer-section records that could be read.
    pub answers: Vec<Answer>,
}

impl Message {
    /// True for the opcodes Zeek's script tracks (query, notify, update).
    pub fn tracked(&self) -> bool {
        matches!(self.opcode, 0 | 4 | 5)
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

/// Reads the (possibly compressed) name at `at` as Zeek logs it (any
/// bytes, lower-cased, dotted): the name and the offset just past it.
fn read_name(msg: &[u8], at: usize) -> Result<(Vec<u8>, usize), DnsParseError> {
    let mut name = Vec::new();
    let rules = NameRules {
        strict: false,
        max_len: MAX_NAME,
    };
    let next = read_name_into(msg, at, rules, &mut name).map_err(|e| DnsParseError(e.0))?;
    Ok((name, next))
}

/// The character-strings of a TXT or SPF record, as Zeek's script joins
/// them: `TXT <len> <bytes>` per string, space-separated.
fn txt(tag: &str, rdata: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = rdata;
    while let Some((&n, tail)) = rest.split_first() {
        let take = usize::from(n).min(tail.len());
        let (s, after) = tail.split_at(take);
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(format!("{tag} {} ", s.len()).as_bytes());
        out.extend_from_slice(s);
        rest = after;
    }
    out
}

/// The reply text of one record (type `rtype`, data at `at..at+len` of
/// `msg`), `None` when Zeek would not report it (a malformed address).
fn render(msg: &[u8], rtype: u16, at: usize, len: usize, netbios: bool) -> Option<Vec<u8>> {
    let rdata = msg.get(at..at.checked_add(len)?)?;
    let name_at = |skip: usize| -> Option<Vec<u8>> {
        if rdata.len() < skip {
            return None;
        }
        read_name(msg, at + skip).ok().map(|(n, _)| n)
    };
    match rtype {
        1 => {
            let b: [u8; 4] = rdata.try_into().ok()?;
            Some(Ipv4Addr::from(b).to_string().into_bytes())
        }
        28 => {
            let b: [u8; 16] = rdata.try_into().ok()?;
            Some(Ipv6Addr::from(b).to_string().into_bytes())
        }
        2 | 5 | 12 | 6 => name_at(0),
        15 => name_at(2),
        // NetBIOS NB records, and NBSTAT (SRV's number) from a NetBIOS
        // name server: Zeek reads past them without a reply.
        32 => None,
        33 if netbios => None,
        33 => name_at(6),
        16 => Some(txt("TXT", rdata)),
        99 => Some(txt("SPF", rdata)),
        11 => Some(Vec::new()),
        43 => {
            let (alg, digest) = (rdata.get(2)?, rdata.get(3)?);
            Some(format!("DS {alg} {digest}").into_bytes())
        }
        48 => Some(format!("DNSKEY {}", rdata.get(3)?).into_bytes()),
        50 => Some(b"NSEC3".to_vec()),
        51 => Some(b"NSEC3PARAM".to_vec()),
        _ => Some(format!("<unknown type={rtype}>").into_bytes()),
    }
}

/// Parses one message. The header must be whole; the question and answers
/// are read as far as they go.
pub fn parse(msg: &[u8]) -> Result<Message, DnsParseError> {
    parse_on(msg, false)
}

/// Like [`parse`], for a message to or from a NetBIOS name server
/// (`netbios`: the responder's port is 137), whose SRV-numbered records
/// are NetBIOS node status answers.
pub fn parse_on(msg: &[u8], netbios: bool) -> Result<Message, DnsParseError> {
    let head = |at| be16(msg, at).ok_or(DnsParseError("header truncated"));
    let flags = head(2)?;
    let mut m = Message {
        id: head(0)?,
        qr: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        aa: flags & 0x0400 != 0,
        tc: flags & 0x0200 != 0,
        rd: flags & 0x0100 != 0,
        ra: flags & 0x0080 != 0,
        z: ((flags >> 4) & 0x7) as u8,
        rcode: (flags & 0xf) as u8,
        qdcount: head(4)?,
        ancount: head(6)?,
        nscount: head(8)?,
        arcount: head(10)?,
        question: None,
        answers: Vec::new(),
    };
    let mut pos = 12usize;
    for i in 0..m.qdcount {
        let Ok((name, after)) = read_name(msg, pos) else {
            return Ok(m);
        };
        let (Some(qtype), Some(qclass)) = (be16(msg, after), be16(msg, after + 2)) else {
            return Ok(m);
        };
        if i == 0 {
            m.question = Some(Question {
                name,
                qtype,
                qclass,
            });
        }
        pos = after + 4;
    }
    for _ in 0..m.ancount.min(MAX_ANSWERS as u16) {
        let Ok((name, after)) = read_name(msg, pos) else {
            break;
        };
        let (Some(rtype), Some(ttl), Some(rdlen)) =
            (be16(msg, after), be32(msg, after + 4), be16(msg, after + 8))
        else {
            break;
        };
        let data = after + 10;
        let rdlen = usize::from(rdlen);
        if msg.len() < data + rdlen {
            break;
        }
        if let Some(text) = render(msg, rtype, data, rdlen, netbios) {
            m.answers.push(Answer { name, ttl, text });
        }
        pos = data + rdlen;
    }
    Ok(m)
}

/// Zeek's name for a query type (`query-N` when unnamed).
pub fn qtype_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "*",
        256 => "URI",
        257 => "CAA",
        32768 => "TA",
        32769 => "DLV",
        65281 => "WINS",
        65282 => "WINS-R",
        65422 => "XPF",
        65521 => "INTEGRITY",
        _ => return format!("query-{t}"),
    };
    name.to_string()
}

/// Zeek's name for a query class.
pub fn qclass_name(c: u16) -> String {
    match c {
        1 => "C_INTERNET".to_string(),
        2 => "C_CSNET".to_string(),
        3 => "C_CHAOS".to_string(),
        4 => "C_HESIOD".to_string(),
        254 => "C_NONE".to_string(),
        255 => "C_ANY".to_string(),
        _ => format!("qclass-{c}"),
    }
}

/// Zeek's name for a response code.
pub fn rcode_name(r: u8) -> String {
    const NAMES: [&str; 24] = [
        "NOERROR",
        "FORMERR",
        "SERVFAIL",
        "NXDOMAIN",
        "NOTIMP",
        "REFUSED",
        "YXDOMAIN",
        "YXRRSET",
        "NXRRSet",
        "NOTAUTH",
        "NOTZONE",
        "unassigned-11",
        "unassigned-12",
        "unassigned-13",
        "unassigned-14",
        "unassigned-15",
        "BADVERS",
        "BADKEY",
        "BADTIME",
        "BADMODE",
        "BADNAME",
        "BADALG",
        "BADTRUNC",
        "BADCOOKIE",
    ];
    NAMES
        .get(usize::from(r))
        .map_or_else(|| format!("rcode-{r}"), |s| (*s).to_string())
}

/// Zeek's name for an opcode.
pub fn opcode_name(o: u8) -> String {
    match o {
        0 => "query".to_string(),
        1 => "iquery".to_string(),
        2 => "server-status".to_string(),
        4 => "notify".to_string(),
        5 => "dynamic-update".to_string(),
        6 => "dso".to_string(),
        _ => format!("opcode-{o}"),
    }
}

/// Zeek's name for an opcode of a NetBIOS name service message.
pub fn netbios_opcode_name(o: u8) -> String {
    match o {
        0 => "netbios-query".to_string(),
        5 => "netbios-registration".to_string(),
        6 => "netbios-release".to_string(),
        7 => "netbios-wack".to_string(),
        8 => "netbios-refresh".to_string(),
        _ => format!("netbios-opcode-{o}"),
    }
}

/// A NetBIOS name in its first-level encoding (32 letters `A`-`P`, two
/// per byte) decoded as Zeek's `decode_netbios_name` does: bytes up to
/// the first that is not alphanumeric, punctuation, a space or below 3,
/// at most 15 (the 16th is the name's type), trailing spaces and NULs
/// dropped. `None` when `name` is not such an encoding or decodes to
/// nothing.
pub fn decode_netbios_name(name: &[u8]) -> Option<Vec<u8>> {
    if name.len() != 32 {
        return None;
    }
    let mut out = Vec::with_capacity(16);
    for pair in name.chunks_exact(2) {
        let [c0, c1] = pair else {
            return None;
        };
        let (c0, c1) = (c0.to_ascii_uppercase(), c1.to_ascii_uppercase());
        if !(b'A'..=b'P').contains(&c0) || !(b'A'..=b'P').contains(&c1) {
            return None;
        }
        let b = ((c0 - b'A') << 4) | (c1 - b'A');
        if b.is_ascii_alphanumeric() || b.is_ascii_punctuation() || b == b' ' || b < 3 {
            out.push(b);
        } else {
            // Zeek stops here, without looking at the rest.
            break;
        }
    }
    out.truncate(15);
    while out.last().is_some_and(|c| *c == b' ' || *c == 0) {
        out.pop();
    }
    (!out.is_empty()).then_some(out)
}

/// One `dns.log` transaction: the query and the response that answered
/// it, each when seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Time of the query (of the response when no query was seen).
    pub ts: Timestamp,
    /// `udp` or `tcp`.
    pub tcp: bool,
    /// The transaction id.
    pub trans_id: u16,
    /// The query.
    pub query: Option<Box<Message>>,
    /// The response, with its time.
    pub response: Option<(Timestamp, Box<Message>)>,
}

/// Queries waiting for their responses on one connection, oldest first.
#[derive(Debug, Default)]
pub struct Pending {
    queue: VecDeque<Transaction>,
}

/// Queries kept waiting per connection (Zeek's `DNS::max_pending_msgs`);
/// beyond it the oldest is logged unanswered.
pub const MAX_PENDING_PER_CONN: usize = 50;

impl Pending {
    /// Queries waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when none is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes message `m` seen at `ts`. Returns the transactions complete
    /// now: a response with its query (or alone when none waited), or the
    /// oldest query pushed out by the per-connection cap. `room` says
    /// whether a new query may wait (the global cap); when not, the query
    /// is returned at once as unanswered.
    pub fn message(
        &mut self,
        ts: Timestamp,
        tcp: bool,
        m: Message,
        room: bool,
    ) -> Vec<Transaction> {
        let mut done = Vec::new();
        if !m.qr {
            let t = Transaction {
                ts,
                tcp,
                trans_id: m.id,
                query: Some(Box::new(m)),
                response: None,
            };
            if !room {
                done.push(t);
                return done;
            }
            if self.queue.len() >= MAX_PENDING_PER_CONN {
                done.extend(self.queue.pop_front());
            }
            self.queue.push_back(t);
            return done;
        }
        let found = self.queue.iter().position(|t| t.trans_id == m.id);
        let mut t = match found.and_then(|i| self.queue.remove(i)) {
            Some(t) => t,
            None => Transaction {
                ts,
                tcp,
                trans_id: m.id,
                query: None,
                response: None,
            },
        };
        t.response = Some((ts, Box::new(m)));
        done.push(t);
        done
    }

    /// The queries never answered, oldest first.
    pub fn drain(&mut self) -> Vec<Transaction> {
        self.queue.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(flags: u16, qd: u16, an: u16) -> Vec<u8> {
        let mut b = vec![0x12, 0x34];
        for v in [flags, qd, an, 0, 0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b
    }

    fn name(b: &mut Vec<u8>, n: &str) {
        for l in n.split('.') {
            b.push(l.len() as u8);
            b.extend_from_slice(l.as_bytes());
        }
        b.push(0);
    }

    #[test]
    fn response_with_compressed_answers() {
        let mut b = msg(0x8580, 1, 3);
        name(&mut b, "WWW.Example.com");
        b.extend_from_slice(&[0, 5, 0, 1]);
        // CNAME -> mail.example.com (pointer to "example.com" at 16)
        b.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7]);
        b.extend_from_slice(&[4, b'm', b'a', b'i', b'l', 0xc0, 16]);
        b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 10, 0, 0, 1]);
        b.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 6, 2, b'h', b'i', 2]);
        b.extend_from_slice(b"yo");
        let m = parse(&b).unwrap();
        assert!(m.qr && m.aa && m.rd && m.ra);
        assert_eq!(m.question.as_ref().unwrap().name, b"www.example.com");
        let texts: Vec<&[u8]> = m.answers.iter().map(|a| a.text.as_slice()).collect();
        assert_eq!(
            texts,
            [
                b"mail.example.com".as_slice(),
                b"10.0.0.1",
                b"TXT 2 hi TXT 2 yo"
            ]
        );
        assert_eq!(m.answers[1].ttl, 256);
    }

    #[test]
    fn pointer_loops_and_truncation_do_not_panic() {
        let mut b = msg(0x8180, 1, 1);
        b.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        let m = parse(&b).unwrap();
        assert!(m.question.is_none());
        for n in 0..b.len() {
            let _ = parse(&b[..n]);
        }
        assert!(parse(&[0; 11]).is_err());
    }

    #[test]
    fn netbios_names_decode_as_zeek_does() {
        let enc = |s: &[u8]| -> Vec<u8> {
            s.iter()
                .flat_map(|b| [b'A' + (b >> 4), b'A' + (b & 15)])
                .collect()
        };
        assert_eq!(
            decode_netbios_name(b"FEEIEFCAEOEFFEECEJEPFDCAEOEBENEF").as_deref(),
            Some(&b"THE NETBIOS NAM"[..])
        );
        assert_eq!(
            decode_netbios_name(&enc(b"WORKGROUP")),
            None,
            "not 32 letters"
        );
        let mut wg = b"WORKGROUP      ".to_vec();
        wg.push(0x1b);
        assert_eq!(
            decode_netbios_name(&enc(&wg)).as_deref(),
            Some(&b"WORKGROUP"[..])
        );
        let lower = enc(&wg).to_ascii_lowercase();
        assert_eq!(
            decode_netbios_name(&lower).as_deref(),
            Some(&b"WORKGROUP"[..])
        );
        assert_eq!(decode_netbios_name(&enc(&[b' '; 16])), None);
        assert_eq!(
            decode_netbios_name(b"ZZEIEFCAEOEFFEECEJEPFDCAEOEBENEF"),
            None
        );
        assert_eq!(netbios_opcode_name(5), "netbios-registration");
        assert_eq!(netbios_opcode_name(3), "netbios-opcode-3");
    }

    #[test]
    fn pairing_by_id_and_cap() {
        let mut p = Pending::default();
        let q = |id| Message {
            id,
            ..Message::default()
        };
        let r = |id| Message {
            id,
            qr: true,
            ..Message::default()
        };
        assert!(p.message(Timestamp(1), false, q(1), true).is_empty());
        assert!(p.message(Timestamp(2), false, q(2), true).is_empty());
        let done = p.message(Timestamp(3), false, r(2), true);
        assert_eq!(done[0].ts, Timestamp(2));
        assert!(done[0].query.is_some());
        let done = p.message(Timestamp(4), false, r(9), true);
        assert!(done[0].query.is_none());
        for i in 0..60 {
            p.message(Timestamp(5), false, q(100 + i), true);
        }
        assert_eq!(p.len(), MAX_PENDING_PER_CONN);
        assert_eq!(p.drain().len(), MAX_PENDING_PER_CONN);
        assert_eq!(p.message(Timestamp(6), false, q(7), false).len(), 1);
        assert!(p.is_empty());
    }
}
