//! The Los Alamos National Laboratory cyber-security data sets in,
//! normalised events out.
//!
//! Reads the CSV files of "Comprehensive, Multi-Source Cyber-Security
//! Events" (`auth.txt`, `flows.txt`, `dns.txt`, `proc.txt`, `redteam.txt`)
//! and the network flows of the "Unified Host and Network Data Set"
//! (`netflow_day-NN`). Times are whole seconds from the data set's hidden
//! epoch; they are placed after a configurable epoch (`--lanl-epoch`,
//! default 1970-01-01T00:00:00Z). Computers are names, never addresses
//! (`C625`, `Comp364445`): they go to `source.domain`/`destination.domain`
//! (and `host.name`); users `U66@DOM1` to `user.name`/`user.domain`; `?`
//! means absent.
//!
//! | file | columns | events |
//! |---|---|---|
//! | auth | time, src user@domain, dst user@domain, src computer, dst computer, auth type, logon type, orientation, Success/Fail | authentication: `logged-in`/`logon-failed` (LogOn), `kerberos-tgt-request` (TGT), `kerberos-service-ticket` (TGS), `auth-map` (AuthMap), `screen-unlocked`; session: `logged-out` (LogOff), `screen-locked` |
//! | flows | time, duration, src computer, src port, dst computer, dst port, protocol, packets, bytes | network `flow` |
//! | netflow (2017) | Time, Duration, SrcDevice, DstDevice, Protocol, SrcPort, DstPort, SrcPackets, DstPackets, SrcBytes, DstBytes | network `flow` (both directions summed) |
//! | dns | time, src computer, computer resolved | network `dns-query` (`dns.question.name` = the computer resolved) |
//! | proc | time, user@domain, computer, process, Start/End | process `process-created` / `process-ended` |
//! | redteam | time, user@domain, src computer, dst computer | authentication `red-team-compromise`, dataset `lanl.redteam`: ground truth for scoring |
//!
//! Flows carry no addresses, so they cannot be [`crate::event::Flow`]s
//! (keyed by IP): they are [`LogEvent`]s with `network.*` bytes, packets and
//! protocol. De-identified ports (`N10451`, `Port05507`) are not numbers:
//! they are kept as labels `lanl_source_port`/`lanl_destination_port`.
//!
//! Lines are split with `memchr` over borrowed bytes; the only allocations
//! are the event's own strings.

use crate::event::{Category, Duration, LogEvent, Outcome, Text, Timestamp};
use crate::source::{LineFormat, Skip};

/// Which LANL file a text input is, as sniffed from its first lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LanlKind {
    /// `auth.txt`: authentication events (9 columns).
    Auth,
    /// `flows.txt`: network flows (9 columns).
    Flows,
    /// `dns.txt`: lookups (3 columns).
    Dns,
    /// `proc.txt`: process starts and ends (5 columns).
    Proc,
    /// `redteam.txt`: the red team's compromise events (4 columns).
    Redteam,
    /// 2017 `netflow_day-NN`: bidirectional flows (11 columns).
    Netflow,
    /// 2017 `wls_day-NN`: Windows host events, JSON (see `source::lanl_wls`).
    Wls,
}

impl LanlKind {
    /// Short name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            LanlKind::Auth => "lanl-auth",
            LanlKind::Flows => "lanl-flows",
            LanlKind::Dns => "lanl-dns",
            LanlKind::Proc => "lanl-proc",
            LanlKind::Redteam => "lanl-redteam",
            LanlKind::Netflow => "lanl-netflow",
            LanlKind::Wls => "lanl-wls",
        }
    }

    fn columns(self) -> usize {
        match self {
            LanlKind::Auth | LanlKind::Flows => 9,
            LanlKind::Dns => 3,
            LanlKind::Proc => 5,
            LanlKind::Redteam => 4,
            LanlKind::Netflow => 11,
            // JSON, not columns.
            LanlKind::Wls => 0,
        }
    }
}

/// A LANL file's lines, with the epoch its times count from.
#[derive(Debug, Clone, Copy)]
pub struct LanlLines {
    /// Which file.
    pub kind: LanlKind,
    /// The instant time 0 stands for.
    pub epoch: Timestamp,
}

/// Most columns of any LANL file.
const MAX_COLS: usize = 11;

/// Splits a line at commas into at most [`MAX_COLS`] columns; `None` when
/// it has another count than `want`.
fn columns(line: &[u8], want: usize) -> Option<[&[u8]; MAX_COLS]> {
    let mut cols: [&[u8]; MAX_COLS] = [&[]; MAX_COLS];
    let mut n = 0;
    let mut start = 0;
    // A plain scan: fields are a few bytes, too short for memchr to pay.
    for (i, &c) in line.iter().enumerate() {
        if c == b',' {
            *cols.get_mut(n)? = line.get(start..i)?;
            n += 1;
            start = i + 1;
        }
    }
    *cols.get_mut(n)? = line.get(start..)?;
    (n + 1 == want).then_some(cols)
}

fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

/// A column as text; `?` (and empty) mean absent.
fn val(b: &[u8]) -> Option<&str> {
    match b {
        b"" | b"?" => None,
        _ => std::str::from_utf8(b).ok(),
    }
}

fn owned(b: &[u8]) -> Option<Text> {
    val(b).map(Text::from)
}

/// Splits `user@domain` at its last `@`; `?` parts are absent.
fn user(b: &[u8]) -> (Option<Text>, Option<Text>) {
    match memchr::memrchr(b'@', b) {
        Some(i) => (b.get(..i).and_then(owned), b.get(i + 1..).and_then(owned)),
        None => (owned(b), None),
    }
}

/// Windows logon type number for LANL's logon type names.
fn logon_type(b: &[u8]) -> Option<u8> {
    Some(match b {
        b"Interactive" => 2,
        b"Network" => 3,
        b"Batch" => 4,
        b"Service" => 5,
        b"Unlock" => 7,
        b"NetworkCleartext" => 8,
        b"NewCredentials" => 9,
        b"RemoteInteractive" => 10,
        b"CachedInteractive" => 11,
        _ => return None,
    })
}

/// A LANL port: a number, or a de-identified name kept as a label.
fn port(e: &mut LogEvent, b: &[u8], label: &str) -> Option<u16> {
    if let Some(p) = digits(b).and_then(|p| u16::try_from(p).ok()) {
        return Some(p);
    }
    if let Some(name) = val(b) {
        e.labels
            .push((label.to_string().into(), name.to_string().into()));
    }
    None
}

/// One red-team record: the ground truth of the 2015 data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedTeam<'a> {
    /// Seconds from the data set's epoch.
    pub time: u64,
    /// The account used (`U620@DOM1`).
    pub user: &'a str,
    /// The computer the red team came from.
    pub source: &'a str,
    /// The computer it compromised.
    pub destination: &'a str,
}

/// Parses one `redteam.txt` line (`time,user@domain,source,destination`).
pub fn parse_redteam_line(line: &[u8]) -> Option<RedTeam<'_>> {
    let c = columns(line, 4)?;
    let [t, u, s, d, ..] = c;
    Some(RedTeam {
        time: digits(t)?,
        user: std::str::from_utf8(u).ok()?,
        source: std::str::from_utf8(s).ok()?,
        destination: std::str::from_utf8(d).ok()?,
    })
}

impl LanlLines {
    fn time(&self, b: &[u8]) -> Result<Timestamp, Skip> {
        let secs = digits(b).ok_or(Skip("LANL time is not a number of seconds"))?;
        let secs = i64::try_from(secs).map_err(|_| Skip("LANL time out of range"))?;
        Ok(Timestamp(self.epoch.0.saturating_add(
            secs.saturating_mul(crate::event::NANOS_PER_SEC),
        )))
    }

    fn auth(&self, c: &[&[u8]; MAX_COLS], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let [t, su, du, sc, dc, at, lt, ao, sf, ..] = *c;
        let ok = match sf {
            b"Success" => true,
            b"Fail" => false,
            _ => return Err(Skip("LANL auth result is neither Success nor Fail")),
        };
        let (category, action) = match (ao, ok) {
            (b"LogOn", true) => (Category::Authentication, "logged-in"),
            (b"LogOn", false) => (Category::Authentication, "logon-failed"),
            (b"LogOff", _) => (Category::Session, "logged-out"),
            (b"TGT", _) => (Category::Authentication, "kerberos-tgt-request"),
            (b"TGS", _) => (Category::Authentication, "kerberos-service-ticket"),
            (b"AuthMap", _) => (Category::Authentication, "auth-map"),
            (b"ScreenLock", _) => (Category::Session, "screen-locked"),
            (b"ScreenUnlock", _) => (Category::Authentication, "screen-unlocked"),
            _ => (Category::Authentication, "authentication"),
        };
        let (user_name, user_domain) = user(du);
        let subject_user = if su != du { user(su).0 } else { None };
        let destination_domain = owned(dc);
        out.push(LogEvent {
            ts: self.time(t)?,
            category: Some(category),
            action: action.into(),
            outcome: Some(if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            }),
            dataset: "lanl.auth".into(),
            source_domain: owned(sc),
            host_name: destination_domain.clone(),
            destination_domain,
            user_name,
            user_domain,
            subject_user,
            logon_type: logon_type(lt),
            auth_method: owned(at),
            ..LogEvent::default()
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn flow(
        &self,
        t: &[u8],
        dur: &[u8],
        src: (&[u8], &[u8]),
        dst: (&[u8], &[u8]),
        proto: &[u8],
        packets: Option<u64>,
        bytes: Option<u64>,
        dataset: &str,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), Skip> {
        let secs = digits(dur).ok_or(Skip("LANL flow duration is not a number"))?;
        let (packets, bytes) = packets
            .zip(bytes)
            .ok_or(Skip("LANL flow counts are not numbers"))?;
        let mut e = LogEvent {
            ts: self.time(t)?,
            category: Some(Category::Network),
            action: "flow".into(),
            dataset: dataset.into(),
            source_domain: owned(src.0),
            destination_domain: owned(dst.0),
            ip_proto: digits(proto).and_then(|p| u8::try_from(p).ok()),
            network_packets: Some(packets),
            network_bytes: Some(bytes),
            duration: Some(Duration::from_secs(
                i64::try_from(secs).unwrap_or(i64::MAX / crate::event::NANOS_PER_SEC),
            )),
            ..LogEvent::default()
        };
        e.source_port = port(&mut e, src.1, "lanl_source_port");
        e.destination_port = port(&mut e, dst.1, "lanl_destination_port");
        out.push(e);
        Ok(())
    }
}

impl LineFormat for LanlLines {
    fn line_time(&self, line: &[u8]) -> crate::source::LineTime {
        if self.kind == LanlKind::Wls {
            return crate::source::LineTime::Unknown;
        }
        // Every other kind's first column is the time all of a line's events carry.
        let first = match memchr::memchr(b',', line) {
            Some(i) => line.get(..i).unwrap_or(line),
            None => line,
        };
        match self.time(first) {
            Ok(t) => crate::source::LineTime::At(t),
            Err(_) => crate::source::LineTime::NoEvent,
        }
    }

    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        if self.kind == LanlKind::Wls {
            let wls = crate::source::lanl_wls::WlsLines { epoch: self.epoch };
            return wls.parse_line(line, out);
        }
        let c = columns(line, self.kind.columns())
            .ok_or(Skip("LANL line with the wrong number of columns"))?;
        match self.kind {
            // Read as JSON above; no columns.
            LanlKind::Wls => Ok(()),
            LanlKind::Auth => self.auth(&c, out),
            LanlKind::Flows => {
                let [t, d, sc, sp, dc, dp, pr, pk, by, ..] = c;
                self.flow(
                    t,
                    d,
                    (sc, sp),
                    (dc, dp),
                    pr,
                    digits(pk),
                    digits(by),
                    "lanl.flows",
                    out,
                )
            }
            LanlKind::Netflow => {
                let [t, d, sd, dd, pr, sp, dp, spk, dpk, sb, db] = c;
                let sum = |a: &[u8], b: &[u8]| Some(digits(a)?.saturating_add(digits(b)?));
                self.flow(
                    t,
                    d,
                    (sd, sp),
                    (dd, dp),
                    pr,
                    sum(spk, dpk),
                    sum(sb, db),
                    "lanl.netflow",
                    out,
                )
            }
            LanlKind::Dns => {
                let [t, sc, rc, ..] = c;
                out.push(LogEvent {
                    ts: self.time(t)?,
                    category: Some(Category::Network),
                    action: "dns-query".into(),
                    dataset: "lanl.dns".into(),
                    source_domain: owned(sc),
                    host_name: owned(sc),
                    dns_question: owned(rc),
                    ..LogEvent::default()
                });
                Ok(())
            }
            LanlKind::Proc => {
                let [t, u, comp, p, se, ..] = c;
                let action = match se {
                    b"Start" => "process-created",
                    b"End" => "process-ended",
                    _ => return Err(Skip("LANL process event is neither Start nor End")),
                };
                let (user_name, user_domain) = user(u);
                out.push(LogEvent {
                    ts: self.time(t)?,
                    category: Some(Category::Process),
                    action: action.into(),
                    outcome: Some(Outcome::Success),
                    dataset: "lanl.proc".into(),
                    host_name: owned(comp),
                    user_name,
                    user_domain,
                    process_executable: owned(p),
                    ..LogEvent::default()
                });
                Ok(())
            }
            LanlKind::Redteam => {
                let [t, u, sc, dc, ..] = c;
                let (user_name, user_domain) = user(u);
                let destination_domain = owned(dc);
                out.push(LogEvent {
                    ts: self.time(t)?,
                    category: Some(Category::Authentication),
                    action: "red-team-compromise".into(),
                    outcome: Some(Outcome::Success),
                    dataset: "lanl.redteam".into(),
                    source_domain: owned(sc),
                    host_name: destination_domain.clone(),
                    destination_domain,
                    user_name,
                    user_domain,
                    ..LogEvent::default()
                });
                Ok(())
            }
        }
    }
}

/// `C625`-style computer names of the 2015 set (or `?`).
fn is_computer(b: &[u8]) -> bool {
    b == b"?"
        || (b.len() >= 2
            && b.first() == Some(&b'C')
            && b.get(1..).is_some_and(|d| d.iter().all(u8::is_ascii_digit)))
}

/// A 2017 device name: one alphanumeric token (`Comp364445`, `ActiveDirectory`).
fn is_device(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() <= 64
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
        && b.first().is_some_and(u8::is_ascii_alphabetic)
}

/// `user@domain` (users may be `ANONYMOUS LOGON`, `C123$`, `SYSTEM`), or `?`.
fn is_user(b: &[u8]) -> bool {
    b == b"?"
        || memchr::memrchr(b'@', b).is_some_and(|i| i > 0 && i + 1 < b.len())
            && b.iter().all(|c| c.is_ascii_graphic() || *c == b' ')
}

fn is_port(b: &[u8], prefix: &[u8]) -> bool {
    digits(b).is_some()
        || b.strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit))
}

/// The kind one line has, judged by its shape alone.
fn line_kind(line: &[u8]) -> Option<LanlKind> {
    let n = memchr::memchr_iter(b',', line).count() + 1;
    let c = columns(line, n)?;
    digits(c[0])?;
    let num = |i: usize| c.get(i).is_some_and(|b| digits(b).is_some());
    match n {
        9 if is_user(c[1]) && is_user(c[2]) => {
            let orient = matches!(
                c[7],
                b"LogOn"
                    | b"LogOff"
                    | b"TGS"
                    | b"TGT"
                    | b"AuthMap"
                    | b"ScreenLock"
                    | b"ScreenUnlock"
                    | b"?"
            );
            (orient && matches!(c[8], b"Success" | b"Fail")).then_some(LanlKind::Auth)
        }
        9 => (num(1)
            && is_computer(c[2])
            && is_port(c[3], b"N")
            && is_computer(c[4])
            && is_port(c[5], b"N")
            && num(6)
            && num(7)
            && num(8))
        .then_some(LanlKind::Flows),
        11 => (num(1)
            && is_device(c[2])
            && is_device(c[3])
            && num(4)
            && is_port(c[5], b"Port")
            && is_port(c[6], b"Port")
            && (7..11).all(num))
        .then_some(LanlKind::Netflow),
        5 => (is_user(c[1]) && is_computer(c[2]) && matches!(c[4], b"Start" | b"End"))
            .then_some(LanlKind::Proc),
        4 => (is_user(c[1]) && is_computer(c[2]) && is_computer(c[3])).then_some(LanlKind::Redteam),
        3 => (is_computer(c[1]) && is_computer(c[2]) && c[1] != b"?").then_some(LanlKind::Dns),
        _ => None,
    }
}

/// Recognises a LANL file from its first complete lines: every one of them
/// (up to 20, at least one) must have the same shape.
pub fn sniff_lanl(head: &[u8]) -> Option<LanlKind> {
    let complete = match memchr::memrchr(b'\n', head) {
        Some(i) => head.get(..i)?,
        None => head,
    };
    let mut kind = None;
    for line in complete.split(|&b| b == b'\n').take(20) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let k = line_kind(line)?;
        if kind.is_some_and(|seen| seen != k) {
            return None;
        }
        kind = Some(k);
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(kind: LanlKind, epoch: Timestamp, line: &str) -> Result<Vec<LogEvent>, Skip> {
        let mut out = Vec::new();
        LanlLines { kind, epoch }.parse_line(line.as_bytes(), &mut out)?;
        Ok(out)
    }

    #[test]
    fn auth_lines_map_users_computers_and_orientation() {
        let epoch = crate::source::winsec::parse_time("2015-01-01T00:00:00Z").unwrap();
        let e = parse(
            LanlKind::Auth,
            epoch,
            "90,U66@DOM1,U66@DOM1,C1065,C625,Kerberos,Network,LogOn,Success",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.ts.to_rfc3339(), "2015-01-01T00:01:30.000000Z");
        assert_eq!(e.action, "logged-in");
        assert_eq!(e.category, Some(Category::Authentication));
        assert_eq!(e.outcome, Some(Outcome::Success));
        assert_eq!(e.dataset, "lanl.auth");
        assert_eq!(e.user_name.as_deref(), Some("U66"));
        assert_eq!(e.user_domain.as_deref(), Some("DOM1"));
        assert_eq!(e.subject_user, None);
        assert_eq!(e.source_domain.as_deref(), Some("C1065"));
        assert_eq!(e.destination_domain.as_deref(), Some("C625"));
        assert_eq!(e.host_name.as_deref(), Some("C625"));
        assert_eq!(e.logon_type, Some(3));
        assert_eq!(e.auth_method.as_deref(), Some("Kerberos"));

        let e = parse(
            LanlKind::Auth,
            Timestamp(0),
            "1,ANONYMOUS LOGON@C586,U5@DOM1,C1250,C586,NTLM,Network,LogOn,Fail",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.action, "logon-failed");
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert_eq!(e.subject_user.as_deref(), Some("ANONYMOUS LOGON"));
        assert_eq!(e.ts, Timestamp(crate::event::NANOS_PER_SEC));

        let e = parse(
            LanlKind::Auth,
            Timestamp(0),
            "7,C101$@DOM1,C101$@DOM1,C988,?,?,?,LogOff,Success",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.action, "logged-out");
        assert_eq!(e.category, Some(Category::Session));
        assert_eq!(e.user_name.as_deref(), Some("C101$"));
        assert_eq!(e.destination_domain, None);
        assert_eq!(e.auth_method, None);
        assert_eq!(e.logon_type, None);

        for (orient, action) in [
            ("TGS", "kerberos-service-ticket"),
            ("TGT", "kerberos-tgt-request"),
            ("AuthMap", "auth-map"),
        ] {
            let line = format!("3,U1@DOM1,U1@DOM1,C1,C2,Kerberos,?,{orient},Success");
            assert_eq!(
                parse(LanlKind::Auth, Timestamp(0), &line).unwrap()[0].action,
                action
            );
        }
        for bad in [
            "x,U1@DOM1,U1@DOM1,C1,C2,Kerberos,?,TGS,Success",
            "3,U1@DOM1,U1@DOM1,C1,C2,Kerberos,?,TGS,Maybe",
            "3,U1@DOM1,U1@DOM1,C1,C2,Kerberos,?,TGS",
            "3,U1@DOM1,U1@DOM1,C1,C2,Kerberos,?,TGS,Success,extra",
        ] {
            assert!(parse(LanlKind::Auth, Timestamp(0), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flows_dns_proc_redteam_and_netflow() {
        let e = parse(
            LanlKind::Flows,
            Timestamp(0),
            "2,9,C3090,N10471,C3420,445,6,3,144",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.action, "flow");
        assert_eq!(e.dataset, "lanl.flows");
        assert_eq!(e.source_domain.as_deref(), Some("C3090"));
        assert_eq!(e.source_port, None);
        assert_eq!(e.destination_port, Some(445));
        assert_eq!(e.ip_proto, Some(6));
        assert_eq!(e.network_packets, Some(3));
        assert_eq!(e.network_bytes, Some(144));
        assert_eq!(e.duration, Some(Duration::from_secs(9)));
        assert_eq!(e.labels, vec![("lanl_source_port".into(), "N10471".into())]);

        let e = parse(
            LanlKind::Netflow,
            Timestamp(0),
            "118781,5580,Comp364445,Comp547245,17,Port05507,Port46272,10,755065,20,1042329018",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.network_packets, Some(755_075));
        assert_eq!(e.network_bytes, Some(1_042_329_038));
        assert_eq!(e.destination_domain.as_deref(), Some("Comp547245"));
        assert_eq!(e.labels.len(), 2);

        let e = parse(LanlKind::Dns, Timestamp(0), "2,C4653,C5030")
            .unwrap()
            .remove(0);
        assert_eq!(e.source_domain.as_deref(), Some("C4653"));
        assert_eq!(e.dns_question.as_deref(), Some("C5030"));

        let e = parse(LanlKind::Proc, Timestamp(0), "1,C1$@DOM1,C1,P16,Start")
            .unwrap()
            .remove(0);
        assert_eq!(e.action, "process-created");
        assert_eq!(e.process_executable.as_deref(), Some("P16"));
        assert_eq!(e.host_name.as_deref(), Some("C1"));

        let e = parse(
            LanlKind::Redteam,
            Timestamp(0),
            "150885,U620@DOM1,C17693,C1003",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.dataset, "lanl.redteam");
        assert_eq!(e.user_name.as_deref(), Some("U620"));
        assert_eq!(e.destination_domain.as_deref(), Some("C1003"));
        assert_eq!(
            parse_redteam_line(b"150885,U620@DOM1,C17693,C1003"),
            Some(RedTeam {
                time: 150_885,
                user: "U620@DOM1",
                source: "C17693",
                destination: "C1003"
            })
        );
        assert_eq!(parse_redteam_line(b"150885,U620@DOM1,C17693"), None);
    }

    #[test]
    fn sniffing_recognises_each_file_and_nothing_else() {
        let cases: [(&str, Option<LanlKind>); 12] = [
            (
                "1,ANONYMOUS LOGON@C586,ANONYMOUS LOGON@C586,C1250,C586,NTLM,Network,LogOn,Success\n\
                 1,C101$@DOM1,C101$@DOM1,C988,C988,?,?,LogOff,Success\n2,U1@DOM",
                Some(LanlKind::Auth),
            ),
            (
                "1,9,C3090,N10471,C3420,N46,6,3,144\n2,0,C4316,N10199,C5030,443,6,2,92\n",
                Some(LanlKind::Flows),
            ),
            ("2,C4653,C5030\n2,C5782,C16712\n", Some(LanlKind::Dns)),
            (
                "1,C1$@DOM1,C1,P16,Start\n1,C1001$@DOM1,C1001,P4,End\n",
                Some(LanlKind::Proc),
            ),
            (
                "150885,U620@DOM1,C17693,C1003\n151036,U748@DOM1,C17693,C305\n",
                Some(LanlKind::Redteam),
            ),
            (
                "118781,5580,Comp364445,Comp547245,17,Port05507,Port46272,0,755065,0,1042329018\n",
                Some(LanlKind::Netflow),
            ),
            ("1,2,3\n4,5,6\n", None),
            ("a,b,c,d\n", None),
            ("2,C4653,C5030\n1,C1$@DOM1,C1,P16,Start\n", None),
            ("Jan  1 00:00:00 host sshd[1]: x\n", None),
            ("time,duration,src\n1,2,3\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(sniff_lanl(text.as_bytes()), want, "{text}");
        }
    }
}
