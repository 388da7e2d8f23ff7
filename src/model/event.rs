//! Normalised events: the typed seam between sources and everything downstream.
//!
//! Sources (captures, logs) turn raw bytes into the types here; profiles,
//! detectors and outputs consume them and never see raw input. Times are
//! [`Timestamp`]s (UTC nanoseconds), places in the input are [`Origin`]s.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

mod detail;
pub use detail::EventDetail;

/// A point in time: nanoseconds since the Unix epoch, UTC.
///
/// Stored as an integer so that ordering and arithmetic are exact and
/// output is identical on every machine.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp(pub i64);

/// Nanoseconds in one second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timestamp {
    /// Builds a timestamp from whole seconds and a nanosecond fraction.
    pub fn from_parts(secs: i64, nanos: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(NANOS_PER_SEC).saturating_add(nanos))
    }

    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// The sub-second part in nanoseconds (always `0..1e9`).
    pub fn subsec_nanos(self) -> i64 {
        self.0.rem_euclid(NANOS_PER_SEC)
    }

    /// Writes the time as Zeek does in TSV logs: epoch seconds with six decimals.
    pub fn write_epoch_micros(self, out: &mut Vec<u8>) {
        let micros = self.0.div_euclid(1000);
        write_secs_micros(micros, out);
    }

    /// Writes the time as RFC 3339 UTC with microseconds, e.g. `2020-09-22T18:53:30.072504Z`.
    pub fn write_rfc3339_micros(self, out: &mut Vec<u8>) {
        let secs = self.secs();
        let micros = self.subsec_nanos() / 1000;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        // Consecutive events nearly always share the day: its text is kept.
        LAST_DAY.with(|last| {
            let (day, text) = last.get();
            if day == Some(days) {
                out.extend_from_slice(&text);
                return;
            }
            let start = out.len();
            let (y, m, d) = civil_from_days(days);
            push_num(out, y, 4);
            out.push(b'-');
            push_num(out, i64::from(m), 2);
            out.push(b'-');
            push_num(out, i64::from(d), 2);
            out.push(b'T');
            let mut text = [0u8; 11];
            if let Some(written) = out.get(start..)
                && written.len() == text.len()
            {
                text.copy_from_slice(written);
                last.set((Some(days), text));
            }
        });
        // `HH:MM:SS.ffffffZ`, built on the stack and copied once.
        let two = |v: i64| [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8];
        let [h0, h1] = two(sod / 3600);
        let [m0, m1] = two(sod / 60 % 60);
        let [s0, s1] = two(sod % 60);
        let mut clock = [
            h0, h1, b':', m0, m1, b':', s0, s1, b'.', b'0', b'0', b'0', b'0', b'0', b'0', b'Z',
        ];
        let mut rest = micros.clamp(0, 999_999);
        for slot in clock.iter_mut().take(15).skip(9).rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&clock);
    }

    /// Parses a time the way exports write it: RFC 3339 / ISO 8601 with `T` or
    /// a space, optional fraction, `Z` or a numeric offset or nothing (UTC).
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.trim().as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let d = b.get(r)?;
            if d.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(d).ok()?.parse().ok()
            } else {
                None
            }
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !matches!(b.get(10), Some(b'T' | b' ')) {
            return None;
        }
        let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let mut scale = 100_000_000i64;
            while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                nanos += i64::from(c - b'0') * scale;
                scale /= 10;
                i += 1;
            }
        }
        let offset = match b.get(i) {
            None | Some(b'Z') | Some(b'z') => 0,
            Some(sign @ (b'+' | b'-')) => {
                let oh = num(i + 1..i + 3)?;
                let om = if b.get(i + 3) == Some(&b':') {
                    num(i + 4..i + 6)?
                } else {
                    num(i + 3..i + 5).unwrap_or(0)
                };
                let o = oh * 3600 + om * 60;
                if *sign == b'+' { o } else { -o }
            }
            _ => return None,
        };
        let days = days_from_civil(y, mo as u32, d as u32);
        let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
        Some(Timestamp::from_parts(secs, nanos))
    }

    /// The RFC 3339 form as a `String` (for messages; hot paths use the writer).
    pub fn to_rfc3339(self) -> String {
        let mut v = Vec::with_capacity(27);
        self.write_rfc3339_micros(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A signed span of time in nanoseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Duration(pub i64);

impl Duration {
    /// Builds a duration from whole seconds.
    /// Saturates at the ends of the range (a log's duration field is input).
    pub const fn from_secs(s: i64) -> Duration {
        Duration(s.saturating_mul(NANOS_PER_SEC))
    }

    /// Writes the span as seconds with six decimals (Zeek's `interval`).
    pub fn write_secs_micros(self, out: &mut Vec<u8>) {
        write_secs_micros(self.0.div_euclid(1000), out);
    }
}

thread_local! {
    /// The last day [`Timestamp::write_rfc3339_micros`] wrote, as
    /// `YYYY-MM-DDT` (only four-digit years are kept).
    static LAST_DAY: std::cell::Cell<(Option<i64>, [u8; 11])> =
        const { std::cell::Cell::new((None, [0; 11])) };
}

fn write_secs_micros(micros: i64, out: &mut Vec<u8>) {
    let (neg, m) = if micros < 0 {
        (true, micros.unsigned_abs())
    } else {
        (false, micros.unsigned_abs())
    };
    if neg {
        out.push(b'-');
    }
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(m / 1_000_000).as_bytes());
    out.push(b'.');
    let frac = m % 1_000_000;
    let s = buf.format(frac);
    for _ in s.len()..6 {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

fn push_num(out: &mut Vec<u8>, v: i64, width: usize) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v);
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's well-known civil-from-days arithmetic.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Converts a proleptic Gregorian date to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Where a record came from: the input it was read from and its place there.
///
/// Enough to find the raw packet or log line again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    /// The input's path as given on the command line (or `-` for standard input).
    pub file: Arc<str>,
    /// Byte offset of the record in the (decompressed) input, or line number.
    pub at: Position,
}

/// A place inside one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Byte offset from the start of the (decompressed) input.
    Offset(u64),
    /// One-based line number in a text input.
    Line(u64),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Position::Offset(o) => write!(f, "{}@{}", self.file, o),
            Position::Line(l) => write!(f, "{}:{}", self.file, l),
        }
    }
}

/// Transport protocol of a flow, as Zeek's conn.log `proto` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Transport {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
    /// ICMP or ICMPv6 (IP protocols 1 and 58); ports hold type and code.
    Icmp,
    /// Any other IP protocol, with its number; ports are zero.
    Other(u8),
}

impl Transport {
    /// Zeek's name for the protocol (`tcp`, `udp`, `icmp`, `unknown_transport`).
    pub fn zeek_name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
            Transport::Other(_) => "unknown_transport",
        }
    }
}

/// Zeek's summary of a connection's TCP state (`conn_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Connection established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected.
    REJ,
    /// Established, originator tried to close, no reply from the responder.
    S2,
    /// Established, responder tried to close, no reply from the originator.
    S3,
    /// Established, originator aborted (sent a RST).
    RSTO,
    /// Established, responder aborted (sent a RST).
    RSTR,
    /// Originator sent a SYN then a RST; no SYN-ACK seen.
    RSTOS0,
    /// Responder sent a SYN-ACK then a RST; no SYN seen from the originator.
    RSTRH,
    /// Originator sent a SYN then a FIN; no SYN-ACK seen ("half open").
    SH,
    /// Responder sent a SYN-ACK then a FIN; no SYN seen from the originator.
    SHR,
    /// No SYN seen, just midstream traffic.
    OTH,
}

impl ConnState {
    /// The code as Zeek writes it.
    pub fn code(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }
}

/// One connection record, with the fields of Zeek's conn.log.
///
/// Produced by the flow table from captures and by the Zeek conn.log reader;
/// both give records of exactly this shape. The derived order (by `ts`,
/// then `uid`, then every other field) is the output order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Flow {
    /// Time of the first packet.
    pub ts: Timestamp,
    /// Deterministic unique id, Zeek style (`C` + base62; 18 bytes, inline).
    pub uid: Text,
    /// Originator address.
    pub orig_h: IpAddr,
    /// Originator port (ICMP: type).
    pub orig_p: u16,
    /// Responder address.
    pub resp_h: IpAddr,
    /// Responder port (ICMP: code or counterpart type).
    pub resp_p: u16,
    /// Transport protocol.
    pub proto: Transport,
    /// Application protocol, guessed from the responder port for now.
    pub service: Option<Text>,
    /// Time from first to last packet; absent for single-packet flows (as Zeek).
    pub duration: Option<Duration>,
    /// Payload bytes sent by the originator (TCP: from sequence numbers).
    pub orig_bytes: Option<u64>,
    /// Payload bytes sent by the responder.
    pub resp_bytes: Option<u64>,
    /// Zeek connection state.
    pub conn_state: ConnState,
    /// Payload bytes inferred missing from sequence-number gaps.
    pub missed_bytes: u64,
    /// Zeek history string (`ShADadFf`, `^` when originator was flipped).
    pub history: Text,
    /// Packets sent by the originator.
    pub orig_pkts: u64,
    /// IP-level bytes sent by the originator (from IP length fields).
    pub orig_ip_bytes: u64,
    /// Packets sent by the responder.
    pub resp_pkts: u64,
    /// IP-level bytes sent by the responder.
    pub resp_ip_bytes: u64,
    /// IP protocol number.
    pub ip_proto: u8,
    /// Where the first packet of the flow was read.
    pub origin: Option<Origin>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        let t = Timestamp::from_parts(1_600_800_810, 72_504_000);
        assert_eq!(t.to_rfc3339(), "2020-09-22T18:53:30.072504Z");
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000000Z");
        let leap = Timestamp::from_parts(951_782_400, 0);
        assert_eq!(leap.to_rfc3339(), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn days_round_trip() {
        for d in [-800_000i64, -1, 0, 1, 59, 365, 11_016, 20_000, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn epoch_micros_like_zeek() {
        let mut v = Vec::new();
        Timestamp::from_parts(1_692_161_622, 36_086_999).write_epoch_micros(&mut v);
        assert_eq!(v, b"1692161622.036086");
        let mut v = Vec::new();
        Duration(1_201_128_000).write_secs_micros(&mut v);
        assert_eq!(v, b"1.201128");
    }
}

/// ECS `event.category` of a normalised log event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Logons, logoffs, ticket requests, credential validation.
    Authentication,
    /// Connections and share access seen by a host.
    Network,
    /// Process creation and service installation.
    Process,
    /// Account and group management.
    Iam,
    /// Session open/close records (pam_unix sessions, RDP reconnects).
    Session,
}

impl Category {
    /// The ECS spelling.
    pub fn ecs(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::Network => "network",
            Category::Process => "process",
            Category::Iam => "iam",
            Category::Session => "session",
        }
    }
}

/// ECS `event.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The action succeeded.
    Success,
    /// The action failed.
    Failure,
    /// The record does not say.
    Unknown,
}

impl Outcome {
    /// The ECS spelling.
    pub fn ecs(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Text held by a [`LogEvent`]: names, actions and paths.
///
/// Strings of up to 24 bytes (host and user names, actions, datasets) are
/// stored inline with no heap allocation, which is most of them; longer
/// ones (command lines, image paths) go to the heap as a `String` would.
pub type Text = compact_str::CompactString;

/// `s` as [`Text`], cut to at most `max` bytes at a character boundary:
/// how sources keep what hostile input can make long (a 1 MiB field)
/// from growing every event it lands in.
pub fn capped_text(s: &str, max: usize) -> Text {
    if s.len() <= max {
        return Text::from(s);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Text::from(s.get(..end).unwrap_or(""))
}

/// One normalised event from a log (or a capture's application layer).
///
/// Fields follow Elastic Common Schema; anything a record does not carry is
/// `None`. Addresses that say "none" (`-`, loopback placeholders) are `None`.
/// The fields every detector and profile reads are inline; the rest are in
/// [`LogEvent::detail`], which costs nothing when empty, so that holding
/// millions of events stays cheap (see the size test below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LogEvent {
    /// When the event happened (UTC).
    pub ts: Timestamp,
    /// ECS `event.category`.
    pub category: Option<Category>,
    /// ECS `event.action`, e.g. `logged-in`, `logon-failed`, `service-installed`.
    pub action: crate::model::Action,
    /// ECS `event.outcome`.
    pub outcome: Option<Outcome>,
    /// ECS `event.code`: the Windows event id, or a source-specific code.
    pub code: Option<u32>,
    /// ECS `event.dataset`, e.g. `windows.security`, `sshd`, `zeek.kerberos`.
    pub dataset: Text,
    /// Address the action came from (`source.ip`).
    pub source_ip: Option<IpAddr>,
    /// Source port.
    pub source_port: Option<u16>,
    /// Name of the source host (`source.domain`), e.g. WorkstationName.
    pub source_domain: Option<Text>,
    /// Address acted upon (`destination.ip`), when the record names one.
    pub destination_ip: Option<IpAddr>,
    /// Destination port.
    pub destination_port: Option<u16>,
    /// Name of the destination host (`destination.domain`), e.g. TargetServerName.
    pub destination_domain: Option<Text>,
    /// The host that wrote the record (`host.name`).
    pub host_name: Option<Text>,
    /// An address of the host that wrote the record (`host.ip`).
    pub host_ip: Option<IpAddr>,
    /// The account acted as (`user.name`): TargetUserName for logons.
    pub user_name: Option<Text>,
    /// The account's domain (`user.domain`).
    pub user_domain: Option<Text>,
    /// Windows logon type (`winlog.logon.type`), numeric.
    pub logon_type: Option<u8>,
    /// Authentication method or package: `password`, `publickey`, `NTLM`, `Kerberos`.
    pub auth_method: Option<Text>,
    /// The less common fields (subject user, logon process, status,
    /// process, service, share, RPC, flow counters, DNS, labels), only
    /// those present: read them with [`LogEvent::status`] and the other
    /// accessors, set them with [`LogEvent::set_status`] and the like.
    pub detail: EventDetail,
    /// Where the raw record is.
    pub origin: Option<Origin>,
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// `analyze`, `baseline` and `sweep` hold every event in memory: at
    /// 672 bytes, 10 M LANL authentication events took 6.7 GB. A field that
    /// few sources fill belongs in [`EventDetail`], not inline; this fails
    /// when one is added inline anyway.
    #[test]
    fn a_log_event_stays_small() {
        let size = std::mem::size_of::<LogEvent>();
        assert!(size <= 320, "LogEvent is {size} bytes");
    }

    /// Flows are held the same way (a capture of a day can give millions);
    /// their strings are [`Text`], inline up to 24 bytes.
    #[test]
    fn a_flow_stays_small() {
        let size = std::mem::size_of::<Flow>();
        assert!(size <= 248, "Flow is {size} bytes");
    }
}
