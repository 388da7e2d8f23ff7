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
//! Flows carry no addresses, so they cannot be [`crate::model::event::Flow`]s
//! (keyed by IP): they are [`LogEvent`]s with `network.*` bytes, packets and
//! protocol. De-identified ports (`N10451`, `Port05507`) are not numbers:
//! they are kept as labels `lanl_source_port`/`lanl_destination_port`.
//!
//! Lines are split with `memchr` over borrowed bytes; the only allocations
//! are the event's own strings.

use crate::model::Action;
use crate::model::ecs::EcsFields;
use crate::model::event::{Category, Duration, LogEvent, Outcome, Position, Text, Timestamp};
use crate::source::batch::EventBatch;
use crate::source::{Context, LineFormat, LogFormatSpec, Reader, Skip, Sniff};
use std::net::IpAddr;
use std::sync::Arc;

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

/// Each LANL file in the format registry (`--format lanl-auth`, ...):
/// recognised by its columns (`sniff_lanl`), or WLS by its JSON keys
/// (`source::lanl_wls`).
impl LogFormatSpec for LanlKind {
    fn flag(&self) -> &'static str {
        LanlKind::name(*self)
    }

    fn help(&self) -> &'static str {
        match self {
            LanlKind::Auth => "LANL 2015 auth.txt",
            LanlKind::Flows => "LANL 2015 flows.txt",
            LanlKind::Dns => "LANL 2015 dns.txt",
            LanlKind::Proc => "LANL 2015 proc.txt",
            LanlKind::Redteam => "LANL 2015 redteam.txt (ground truth)",
            LanlKind::Netflow => "LANL 2017 netflow_day-NN",
            LanlKind::Wls => "LANL 2017 wls_day-NN (Windows host events, JSON)",
        }
    }

    fn sniff(&self) -> Sniff {
        match self {
            // Its keys are particular: before Windows JSON Lines.
            LanlKind::Wls => Sniff::Text { rank: 20 },
            // After the JSON and Zeek formats, before syslog.
            _ => Sniff::Text { rank: 60 },
        }
    }

    fn looks_like(&self, head: &[u8], _ctx: &Context) -> bool {
        match self {
            LanlKind::Wls => crate::source::lanl_wls::looks_like_wls(head),
            kind => sniff_lanl(head) == Some(*kind),
        }
    }

    fn reader(&self, ctx: &Context) -> Reader {
        Reader::Lines {
            parser: Box::new(LanlLines {
                kind: *self,
                epoch: ctx.lanl_epoch,
            }),
            timed: true,
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

/// Splits a line at commas into text columns, as [`columns`] does. The line
/// is checked as UTF-8 once; in a line that is not, a column that is not
/// stays empty (absent).
fn text_columns(line: &[u8], want: usize) -> Option<[&str; MAX_COLS]> {
    let mut cols: [&str; MAX_COLS] = [""; MAX_COLS];
    match std::str::from_utf8(line) {
        Ok(text) => {
            let mut commas = [0usize; MAX_COLS];
            let n = comma_positions(line, &mut commas)?;
            if n + 1 != want {
                return None;
            }
            let mut start = 0;
            for (col, &end) in cols.iter_mut().zip(commas.iter().take(n)) {
                *col = text.get(start..end)?;
                start = end + 1;
            }
            *cols.get_mut(n)? = text.get(start..)?;
            Some(cols)
        }
        Err(_) => {
            let raw = columns(line, want)?;
            for (c, r) in cols.iter_mut().zip(raw) {
                *c = std::str::from_utf8(r).unwrap_or("");
            }
            Some(cols)
        }
    }
}

/// Where the commas of `line` are, found eight bytes at a time (no branch
/// per byte); `None` when there are more than `at` holds.
fn comma_positions(line: &[u8], at: &mut [usize; MAX_COLS]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut n = 0;
    let mut words = line.chunks_exact(8);
    let mut base = 0;
    for w in words.by_ref() {
        let x = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes) ^ (ONES * u64::from(b','));
        // The high bit of each byte of `x` that is zero, exactly.
        let mut m = !(((x & LOW7) + LOW7) | x | LOW7);
        while m != 0 {
            *at.get_mut(n)? = base + (m.trailing_zeros() / 8) as usize;
            n += 1;
            m &= m - 1;
        }
        base += 8;
    }
    for (i, &c) in words.remainder().iter().enumerate() {
        if c == b',' {
            *at.get_mut(n)? = base + i;
            n += 1;
        }
    }
    Some(n)
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
fn val(b: &str) -> Option<&str> {
    match b {
        "" | "?" => None,
        _ => Some(b),
    }
}

fn owned(b: &str) -> Option<Text> {
    val(b).map(Text::from)
}

/// Splits `user@domain` at its last `@`; `?` parts are absent.
fn user_parts(b: &str) -> (Option<&str>, Option<&str>) {
    match b.rsplit_once('@') {
        Some((name, domain)) => (val(name), val(domain)),
        None => (val(b), None),
    }
}

/// [`user_parts`], owned.
fn user(b: &str) -> (Option<Text>, Option<Text>) {
    let (name, domain) = user_parts(b);
    (name.map(Text::from), domain.map(Text::from))
}

/// `event.dataset` of `auth.txt` events.
const AUTH_DATASET: &str = "lanl.auth";

/// One `auth.txt` line's event, borrowed from the line: built as a
/// [`LogEvent`] by [`LineFormat::parse_line`], or written as ECS straight
/// from the line by [`LineFormat::write_line`] (the same bytes).
struct AuthRecord<'a> {
    ts: Timestamp,
    category: Category,
    action: Action,
    outcome: Outcome,
    /// Source computer.
    source: Option<&'a str>,
    /// Destination computer (also the host that logged the event).
    destination: Option<&'a str>,
    user_name: Option<&'a str>,
    user_domain: Option<&'a str>,
    /// The source user, when not the destination user.
    subject_user: Option<&'a str>,
    logon_type: Option<u8>,
    auth_method: Option<&'a str>,
    /// Input and line.
    origin: Option<(&'a Arc<str>, u64)>,
    /// No string of the line needs JSON escaping.
    plain: bool,
}

impl EcsFields for AuthRecord<'_> {
    fn ts(&self) -> Timestamp {
        self.ts
    }
    fn category(&self) -> Option<Category> {
        Some(self.category)
    }
    fn action(&self) -> &str {
        self.action.as_str()
    }
    fn outcome(&self) -> Option<Outcome> {
        Some(self.outcome)
    }
    fn dataset(&self) -> &str {
        AUTH_DATASET
    }
    fn source(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
        (None, None, self.source)
    }
    fn destination(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
        (None, None, self.destination)
    }
    fn host_name(&self) -> Option<&str> {
        self.destination
    }
    fn host_ip(&self) -> Option<IpAddr> {
        None
    }
    fn user_name(&self) -> Option<&str> {
        self.user_name
    }
    fn user_domain(&self) -> Option<&str> {
        self.user_domain
    }
    fn subject_user(&self) -> Option<&str> {
        self.subject_user
    }
    fn auth_method(&self) -> Option<&str> {
        self.auth_method
    }
    fn logon_type(&self) -> Option<u8> {
        self.logon_type
    }
    fn origin(&self) -> Option<(&Arc<str>, Position)> {
        self.origin.map(|(f, l)| (f, Position::Line(l)))
    }
    fn plain(&self) -> bool {
        self.plain
    }
}

/// Windows logon type number for LANL's logon type names.
fn logon_type(b: &str) -> Option<u8> {
    Some(match b.as_bytes() {
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
fn port(e: &mut LogEvent, b: &str, label: &str) -> Option<u16> {
    if let Some(p) = digits(b.as_bytes()).and_then(|p| u16::try_from(p).ok()) {
        return Some(p);
    }
    if let Some(name) = val(b) {
        e.push_label(label.into(), name.into());
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
            secs.saturating_mul(crate::model::event::NANOS_PER_SEC),
        )))
    }

    /// What one `auth.txt` line says, borrowed from it.
    fn auth_record<'a>(&self, c: &[&'a str; MAX_COLS]) -> Result<AuthRecord<'a>, Skip> {
        let [t, su, du, sc, dc, at, lt, ao, sf, ..] = *c;
        let ok = match sf {
            "Success" => true,
            "Fail" => false,
            _ => return Err(Skip("LANL auth result is neither Success nor Fail")),
        };
        let (category, action) = match (ao, ok) {
            ("LogOn", true) => (Category::Authentication, Action::LoggedIn),
            ("LogOn", false) => (Category::Authentication, Action::LogonFailed),
            ("LogOff", _) => (Category::Session, Action::LoggedOut),
            ("TGT", _) => (Category::Authentication, Action::KerberosTgtRequest),
            ("TGS", _) => (Category::Authentication, Action::KerberosServiceTicket),
            ("AuthMap", _) => (Category::Authentication, Action::AuthMap),
            ("ScreenLock", _) => (Category::Session, Action::ScreenLocked),
            ("ScreenUnlock", _) => (Category::Authentication, Action::ScreenUnlocked),
            _ => (Category::Authentication, Action::Authentication),
        };
        let (user_name, user_domain) = user_parts(du);
        Ok(AuthRecord {
            ts: self.time(t.as_bytes())?,
            category,
            action,
            outcome: if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            },
            source: val(sc),
            destination: val(dc),
            user_name,
            user_domain,
            subject_user: if su != du { user_parts(su).0 } else { None },
            logon_type: logon_type(lt),
            auth_method: val(at),
            origin: None,
            plain: false,
        })
    }

    fn auth(&self, c: &[&str; MAX_COLS], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let r = self.auth_record(c)?;
        let destination_domain = r.destination.map(Text::from);
        let mut e = LogEvent {
            ts: r.ts,
            category: Some(r.category),
            action: r.action,
            outcome: Some(r.outcome),
            dataset: AUTH_DATASET.into(),
            source_domain: r.source.map(Text::from),
            host_name: destination_domain.clone(),
            destination_domain,
            user_name: r.user_name.map(Text::from),
            user_domain: r.user_domain.map(Text::from),
            logon_type: r.logon_type,
            auth_method: r.auth_method.map(Text::from),
            ..LogEvent::default()
        };
        e.set_subject_user(r.subject_user.map(Text::from));
        out.push(e);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn flow(
        &self,
        t: &str,
        dur: &str,
        src: (&str, &str),
        dst: (&str, &str),
        proto: &str,
        packets: Option<u64>,
        bytes: Option<u64>,
        dataset: &str,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), Skip> {
        let secs = digits(dur.as_bytes()).ok_or(Skip("LANL flow duration is not a number"))?;
        let (packets, bytes) = packets
            .zip(bytes)
            .ok_or(Skip("LANL flow counts are not numbers"))?;
        let mut e = LogEvent {
            ts: self.time(t.as_bytes())?,
            category: Some(Category::Network),
            action: Action::Flow,
            dataset: dataset.into(),
            source_domain: owned(src.0),
            destination_domain: owned(dst.0),
            ..LogEvent::default()
        };
        e.set_network_bytes(Some(bytes));
        e.set_network_packets(Some(packets));
        e.set_duration(Some(Duration::from_secs(
            i64::try_from(secs).unwrap_or(i64::MAX / crate::model::event::NANOS_PER_SEC),
        )));
        e.set_ip_proto(digits(proto.as_bytes()).and_then(|p| u8::try_from(p).ok()));
        e.source_port = port(&mut e, src.1, "lanl_source_port");
        e.destination_port = port(&mut e, dst.1, "lanl_destination_port");
        out.push(e);
        Ok(())
    }
}

impl LineFormat for LanlLines {
    fn write_line(
        &self,
        line: &[u8],
        file: &Arc<str>,
        line_no: u64,
        batch: &mut EventBatch,
    ) -> Option<Result<(), Skip>> {
        // Authentication lines, the bulk of the data set; the rest are built.
        if self.kind != LanlKind::Auth {
            return None;
        }
        let Some(c) = text_columns(line, self.kind.columns()) else {
            return Some(Err(Skip("LANL line with the wrong number of columns")));
        };
        Some(self.auth_record(&c).map(|mut r| {
            r.origin = Some((file, line_no));
            // Every string is a piece of the line (or a constant).
            r.plain = crate::model::ecs::is_plain(line);
            batch.push_record(&r, line_no);
        }))
    }

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
        let c = text_columns(line, self.kind.columns())
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
                    digits(pk.as_bytes()),
                    digits(by.as_bytes()),
                    "lanl.flows",
                    out,
                )
            }
            LanlKind::Netflow => {
                let [t, d, sd, dd, pr, sp, dp, spk, dpk, sb, db] = c;
                let sum = |a: &str, b: &str| {
                    Some(digits(a.as_bytes())?.saturating_add(digits(b.as_bytes())?))
                };
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
                let mut e = LogEvent {
                    ts: self.time(t.as_bytes())?,
                    category: Some(Category::Network),
                    action: Action::DnsQuery,
                    dataset: "lanl.dns".into(),
                    source_domain: owned(sc),
                    host_name: owned(sc),
                    ..LogEvent::default()
                };
                e.set_dns_question(owned(rc));
                out.push(e);
                Ok(())
            }
            LanlKind::Proc => {
                let [t, u, comp, p, se, ..] = c;
                let action = match se {
                    "Start" => Action::ProcessCreated,
                    "End" => Action::ProcessEnded,
                    _ => return Err(Skip("LANL process event is neither Start nor End")),
                };
                let (user_name, user_domain) = user(u);
                let mut e = LogEvent {
                    ts: self.time(t.as_bytes())?,
                    category: Some(Category::Process),
                    action,
                    outcome: Some(Outcome::Success),
                    dataset: "lanl.proc".into(),
                    host_name: owned(comp),
                    user_name,
                    user_domain,
                    ..LogEvent::default()
                };
                e.set_process_executable(owned(p));
                out.push(e);
                Ok(())
            }
            LanlKind::Redteam => {
                let [t, u, sc, dc, ..] = c;
                let (user_name, user_domain) = user(u);
                let destination_domain = owned(dc);
                out.push(LogEvent {
                    ts: self.time(t.as_bytes())?,
                    category: Some(Category::Authentication),
                    action: Action::RedTeamCompromise,
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

    /// Every shape of auth line: written directly and built then written
    /// give the same bytes, and the same skips.
    #[test]
    fn auth_lines_written_directly_equal_built_events() {
        let lines: &[&[u8]] = &[
            b"90,U66@DOM1,U66@DOM1,C1065,C625,Kerberos,Network,LogOn,Success",
            b"1,ANONYMOUS LOGON@C586,ANONYMOUS LOGON@C586,C1250,C586,NTLM,Network,LogOn,Fail",
            b"2,C599$@DOM1,SYSTEM@C599,C599,C599,?,?,TGS,Success",
            b"3,U1@DOM1,U2@DOM1,?,?,MICROSOFT_AUTHENTICATION_PACKAGE_V1_0,Batch,LogOff,Success",
            b"4,U\"q\\@DOM1,U\"q\\@DOM1,C1,C2,Negotiate,Unlock,ScreenUnlock,Success",
            b"5,U1@DOM1,U1@DOM1,C1,C2,Negotiate,RemoteInteractive,ScreenLock,Fail",
            b"6,U1@,@DOM1,C1,C2,NTLM,CachedInteractive,AuthMap,Success",
            b"7,U1@DOM1,U1@DOM1,C1,C2,NTLM,Weird,Odd,Success",
            b"8,U\xc3\xa9@DOM1,U\xc3\xa9@DOM1,C\x01,C2,NTLM,Network,TGT,Fail",
            b"9,U\xff@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Success",
            b"10,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Maybe",
            b"x,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Success",
            b"11,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn",
            b"12,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Success,extra,more,yet,more",
            b"13,,,,,,,,Success",
        ];
        let f = LanlLines {
            kind: LanlKind::Auth,
            epoch: Timestamp::default(),
        };
        let file: Arc<str> = Arc::from("auth.txt");
        for (i, line) in lines.iter().enumerate() {
            let at = i as u64 + 1;
            let mut direct = EventBatch::for_input(3);
            let d = f
                .write_line(line, &file, at, &mut direct)
                .expect("auth lines go direct");
            let mut built = Vec::new();
            let b = f.parse_line(line, &mut built);
            assert_eq!(d.is_ok(), b.is_ok(), "line {at}");
            if let (Err(x), Err(y)) = (&d, &b) {
                assert_eq!(x.0, y.0, "line {at}");
                continue;
            }
            for e in &mut built {
                e.origin = Some(crate::model::event::Origin {
                    file: file.clone(),
                    at: Position::Line(at),
                });
            }
            let via_events = EventBatch::format(&built, 3);
            assert_eq!(direct.keys(), via_events.keys(), "line {at}");
            assert_eq!(
                String::from_utf8_lossy(direct.bytes()),
                String::from_utf8_lossy(via_events.bytes()),
                "line {at}"
            );
            assert!(!direct.bytes().is_empty());
        }
    }

    #[test]
    fn commas_are_found_wherever_they_fall() {
        for len in 0..40usize {
            for gap in 1..12usize {
                let line: Vec<u8> = (0..len)
                    .map(|i| {
                        if i % gap == gap - 1 {
                            b','
                        } else {
                            b'a' + (i % 26) as u8
                        }
                    })
                    .collect();
                let want: Vec<usize> = (0..len).filter(|&i| line[i] == b',').collect();
                let mut at = [0usize; MAX_COLS];
                match comma_positions(&line, &mut at) {
                    Some(n) => assert_eq!(&at[..n], &want[..], "{len} {gap}"),
                    None => assert!(want.len() > MAX_COLS, "{len} {gap}"),
                }
            }
        }
    }

    #[test]
    fn auth_lines_map_users_computers_and_orientation() {
        let epoch = crate::model::event::Timestamp::parse_rfc3339("2015-01-01T00:00:00Z").unwrap();
        let e = parse(
            LanlKind::Auth,
            epoch,
            "90,U66@DOM1,U66@DOM1,C1065,C625,Kerberos,Network,LogOn,Success",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.ts.to_rfc3339(), "2015-01-01T00:01:30.000000Z");
        assert_eq!(e.action, Action::LoggedIn);
        assert_eq!(e.category, Some(Category::Authentication));
        assert_eq!(e.outcome, Some(Outcome::Success));
        assert_eq!(e.dataset, "lanl.auth");
        assert_eq!(e.user_name.as_deref(), Some("U66"));
        assert_eq!(e.user_domain.as_deref(), Some("DOM1"));
        assert_eq!(e.subject_user(), None);
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
        assert_eq!(e.action, Action::LogonFailed);
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert_eq!(e.subject_user(), Some("ANONYMOUS LOGON"));
        assert_eq!(e.ts, Timestamp(crate::model::event::NANOS_PER_SEC));

        let e = parse(
            LanlKind::Auth,
            Timestamp(0),
            "7,C101$@DOM1,C101$@DOM1,C988,?,?,?,LogOff,Success",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.action, Action::LoggedOut);
        assert_eq!(e.category, Some(Category::Session));
        assert_eq!(e.user_name.as_deref(), Some("C101$"));
        assert_eq!(e.destination_domain, None);
        assert_eq!(e.auth_method, None);
        assert_eq!(e.logon_type, None);

        for (orient, action) in [
            ("TGS", Action::KerberosServiceTicket),
            ("TGT", Action::KerberosTgtRequest),
            ("AuthMap", Action::AuthMap),
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
    fn a_duration_past_the_range_saturates() {
        let e = parse(
            LanlKind::Flows,
            Timestamp(0),
            "1,10000000000,C1065,389,C3799,N10451,6,10,5323",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.duration(), Some(Duration(i64::MAX)));
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
        assert_eq!(e.action, Action::Flow);
        assert_eq!(e.dataset, "lanl.flows");
        assert_eq!(e.source_domain.as_deref(), Some("C3090"));
        assert_eq!(e.source_port, None);
        assert_eq!(e.destination_port, Some(445));
        assert_eq!(e.ip_proto(), Some(6));
        assert_eq!(e.network_packets(), Some(3));
        assert_eq!(e.network_bytes(), Some(144));
        assert_eq!(e.duration(), Some(Duration::from_secs(9)));
        assert_eq!(
            e.labels().collect::<Vec<_>>(),
            [("lanl_source_port", "N10471")]
        );

        let e = parse(
            LanlKind::Netflow,
            Timestamp(0),
            "118781,5580,Comp364445,Comp547245,17,Port05507,Port46272,10,755065,20,1042329018",
        )
        .unwrap()
        .remove(0);
        assert_eq!(e.network_packets(), Some(755_075));
        assert_eq!(e.network_bytes(), Some(1_042_329_038));
        assert_eq!(e.destination_domain.as_deref(), Some("Comp547245"));
        assert_eq!(e.labels().count(), 2);

        let e = parse(LanlKind::Dns, Timestamp(0), "2,C4653,C5030")
            .unwrap()
            .remove(0);
        assert_eq!(e.source_domain.as_deref(), Some("C4653"));
        assert_eq!(e.dns_question(), Some("C5030"));

        let e = parse(LanlKind::Proc, Timestamp(0), "1,C1$@DOM1,C1,P16,Start")
            .unwrap()
            .remove(0);
        assert_eq!(e.action, Action::ProcessCreated);
        assert_eq!(e.process_executable(), Some("P16"));
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
