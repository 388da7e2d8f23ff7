//! Linux authentication logs in, normalised events out.
//!
//! Framing: RFC 3164 lines as in `/var/log/auth.log` and `/var/log/secure`
//! (`Mmm dd hh:mm:ss host prog[pid]: msg`, optional `<PRI>`), rsyslog's
//! high-precision form (`2024-01-05T10:11:12.123456+01:00 host prog: msg`),
//! RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and
//! `journalctl -o json` exports. Messages: sshd logons, failures, invalid
//! users, disconnects (including rsyslog's "message repeated N times"),
//! pam_unix sessions and authentication failures, sudo and su.
//!
//! RFC 3164 carries no year. [`SyslogConfig`] holds a reference time (the
//! file's modification time, or the end of `--year`): a line whose month is
//! later than the reference month belongs to the previous year. Lines are
//! parsed independently, so a file running from December into January
//! still gets increasing times even when split into parallel chunks.

use crate::model::Action;
use crate::model::ecs::EcsFields;
use crate::model::event::{Category, LogEvent, Outcome, Text, Timestamp, days_from_civil};
use crate::source::{Context, LineFormat, LogFormatSpec, Reader, Skip, Sniff};
use std::net::IpAddr;

/// How to complete RFC 3164 timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogConfig {
    /// Year of the reference time.
    pub ref_year: i64,
    /// Month (1-12) of the reference time.
    pub ref_month: u32,
    /// Offset of local time from UTC in seconds (the timezone the log was written in).
    pub utc_offset: i64,
}

impl SyslogConfig {
    /// Reference time `t` (e.g. a file's mtime), logs written at `utc_offset` from UTC.
    pub fn at(t: Timestamp, utc_offset: i64) -> SyslogConfig {
        let (y, m, _) =
            crate::model::event::civil_from_days((t.secs() + utc_offset).div_euclid(86_400));
        SyslogConfig {
            ref_year: y,
            ref_month: m,
            utc_offset,
        }
    }

    /// Every line is in `year` (the reference is that year's end).
    pub fn year(year: i64, utc_offset: i64) -> SyslogConfig {
        SyslogConfig {
            ref_year: year,
            ref_month: 12,
            utc_offset,
        }
    }

    /// How one input's RFC 3164 times are placed: in `year` when given
    /// (`--year`), else by the input's modification time (the current
    /// time when it has none).
    pub fn for_input(
        year: Option<i64>,
        utc_offset: i64,
        modified: Option<std::time::SystemTime>,
    ) -> SyslogConfig {
        let since_epoch = |t: std::time::SystemTime| {
            let secs = t
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            Timestamp::from_parts(secs, 0)
        };
        let reference = since_epoch(modified.unwrap_or_else(std::time::SystemTime::now));
        match year {
            Some(y) => SyslogConfig::year(y, utc_offset),
            None => SyslogConfig::at(reference, utc_offset),
        }
    }
}

/// Syslog text in the format registry (`--format syslog`).
#[derive(Debug, Clone, Copy)]
pub struct SyslogFormat;

impl LogFormatSpec for SyslogFormat {
    fn flag(&self) -> &'static str {
        "syslog"
    }

    fn help(&self) -> &'static str {
        "Syslog text (RFC 3164 auth.log/secure, high-precision, RFC 5424)"
    }

    fn sniff(&self) -> Sniff {
        // The loosest test: last.
        Sniff::Text { rank: 90 }
    }

    fn looks_like(&self, head: &[u8], ctx: &Context) -> bool {
        looks_like_syslog(head, &ctx.syslog)
    }

    fn reader(&self, ctx: &Context) -> Reader {
        Reader::Lines {
            parser: Box::new(SyslogLines(ctx.syslog)),
            timed: true,
        }
    }

    fn note(&self, head: &[u8], ctx: &Context, name: &str) -> Option<String> {
        (ctx.year.is_none() && has_yearless_lines(head))
            .then(|| year_note(name, &ctx.syslog, ctx.modified.is_some()))
    }
}

/// `journalctl -o json` exports in the format registry (`--format journal`).
#[derive(Debug, Clone, Copy)]
pub struct JournalFormat;

impl LogFormatSpec for JournalFormat {
    fn flag(&self) -> &'static str {
        "journal"
    }

    fn help(&self) -> &'static str {
        "journalctl -o json export"
    }

    fn sniff(&self) -> Sniff {
        Sniff::Text { rank: 10 }
    }

    fn looks_like(&self, head: &[u8], _ctx: &Context) -> bool {
        looks_like_journal_json(head)
    }

    fn reader(&self, _ctx: &Context) -> Reader {
        Reader::Lines {
            parser: Box::new(JournalJson),
            timed: false,
        }
    }
}

/// True when some of the first lines are RFC 3164 syslog, whose
/// timestamps carry no year (`Jan  5 10:00:00`, with or without `<PRI>`).
fn has_yearless_lines(head: &[u8]) -> bool {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    head.split(|&b| b == b'\n').take(20).any(|line| {
        let line = match line.strip_prefix(b"<") {
            Some(rest) => {
                let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
                rest.get(digits..)
                    .and_then(|r| r.strip_prefix(b">"))
                    .unwrap_or(rest)
            }
            None => line,
        };
        MONTHS.iter().any(|m| line.starts_with(m)) && line.get(3) == Some(&b' ')
    })
}

/// The note saying which year syslog lines without one were given.
fn year_note(name: &str, cfg: &SyslogConfig, from_file: bool) -> String {
    let source = if from_file {
        "the file's modification time"
    } else {
        "the current date"
    };
    let later = if cfg.ref_month < 12 {
        format!(
            " (lines dated after month {} of it: {})",
            cfg.ref_month,
            cfg.ref_year - 1
        )
    } else {
        String::new()
    };
    format!(
        "{name}: syslog timestamps carry no year: assumed {}{later}, from {source}; --year overrides it",
        cfg.ref_year
    )
}

/// Parses `+09:00`, `-0500`, `UTC` or `Z` into seconds east of UTC.
pub fn parse_utc_offset(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("utc") || s == "Z" || s.eq_ignore_ascii_case("gmt") {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits.get(..2)?.parse().ok()?;
    let m: i64 = digits.get(2..)?.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// One syslog record's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Event time (UTC).
    pub ts: Timestamp,
    /// Host that wrote the line.
    pub host: &'a str,
    /// Program name (`sshd`, `sudo`, ...).
    pub app: &'a str,
    /// Message text.
    pub msg: &'a str,
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0i64, |acc, d| {
        acc.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    })
}

/// Splits off the first space-delimited word.
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    // Words are short: a plain scan beats a searcher's set-up.
    let end = s.bytes().position(|c| c == b' ').unwrap_or(s.len());
    let w = s.get(..end)?;
    let rest = s.get(end..)?;
    if w.is_empty() {
        None
    } else {
        Some((w, rest.strip_prefix(' ').unwrap_or(rest)))
    }
}

/// `prog[pid]: msg` or `prog: msg` → (prog, msg).
fn tag(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let colon = memchr::memchr_iter(b':', b)
        .find(|&i| b.get(i + 1) == Some(&b' '))
        .or_else(|| s.strip_suffix(':').map(|x| x.len()))?;
    let t = s.get(..colon)?;
    if t.contains(' ') {
        return None;
    }
    let app = t.split('[').next().unwrap_or(t);
    Some((app, s.get(colon + 2..).unwrap_or("")))
}

/// Parses the framing of one line.
pub fn parse_record<'a>(line: &'a str, cfg: &SyslogConfig) -> Option<Record<'a>> {
    let mut s = line;
    // <PRI>
    if let Some(rest) = s.strip_prefix('<') {
        let close = rest.find('>')?;
        if close == 0 || close > 3 {
            return None;
        }
        digits(rest.get(..close)?.as_bytes())?;
        s = rest.get(close + 1..)?;
        // RFC 5424: version 1 then a full timestamp.
        if let Some(r) = s.strip_prefix("1 ") {
            let (ts, r) = word(r)?;
            let (host, r) = word(r)?;
            let (app, r) = word(r)?;
            let (_procid, r) = word(r)?;
            let (_msgid, r) = word(r)?;
            let msg = skip_structured_data(r)?;
            let msg = msg.trim_start_matches('\u{feff}');
            return Some(Record {
                ts: Timestamp::parse_rfc3339(ts)?,
                host,
                app,
                msg,
            });
        }
    }
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_digit) {
        // High-precision RFC 3339 timestamp.
        let (ts, r) = word(s)?;
        let (host, r) = word(r)?;
        let (app, msg) = tag(r)?;
        return Some(Record {
            ts: Timestamp::parse_rfc3339(ts)?,
            host,
            app,
            msg,
        });
    }
    let ts = bsd_time(b, cfg)?;
    let mut rest = s.get(15..)?;
    // Some writers add fractional seconds or a year after the time.
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let (host, r) = word(rest)?;
    let (app, msg) = tag(r)?;
    Some(Record { ts, host, app, msg })
}

/// The RFC 3164 time `Mmm dd hh:mm:ss` at the start of a line, placed in
/// a year by `cfg`.
fn bsd_time(b: &[u8], cfg: &SyslogConfig) -> Option<Timestamp> {
    let mon = match <[u8; 3]>::try_from(b.get(..3)?).ok()? {
        [b'J', b'a', b'n'] => 1,
        [b'F', b'e', b'b'] => 2,
        [b'M', b'a', b'r'] => 3,
        [b'A', b'p', b'r'] => 4,
        [b'M', b'a', b'y'] => 5,
        [b'J', b'u', b'n'] => 6,
        [b'J', b'u', b'l'] => 7,
        [b'A', b'u', b'g'] => 8,
        [b'S', b'e', b'p'] => 9,
        [b'O', b'c', b't'] => 10,
        [b'N', b'o', b'v'] => 11,
        [b'D', b'e', b'c'] => 12,
        _ => return None,
    };
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let day = digits(b.get(4..6)?.trim_ascii_start())?;
    if b.get(6) != Some(&b' ') || b.get(9) != Some(&b':') || b.get(12) != Some(&b':') {
        return None;
    }
    let (h, mi, se) = (
        digits(b.get(7..9)?)?,
        digits(b.get(10..12)?)?,
        digits(b.get(13..15)?)?,
    );
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let year = if mon > cfg.ref_month {
        cfg.ref_year - 1
    } else {
        cfg.ref_year
    };
    let local = days_from_civil(year, mon, day as u32) * 86_400 + h * 3600 + mi * 60 + se;
    Some(Timestamp::from_parts(local - cfg.utc_offset, 0))
}

/// Skips RFC 5424 structured data (`-` or `[id k="v"]...` with escapes).
fn skip_structured_data(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix('-') {
        return Some(r.strip_prefix(' ').unwrap_or(r));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match b.get(i)? {
                b'\\' if in_quotes => i += 2,
                b'"' => {
                    in_quotes = !in_quotes;
                    i += 1;
                }
                b']' if !in_quotes => {
                    i += 1;
                    break;
                }
                _ => i += 1,
            }
        }
    }
    let r = s.get(i..)?;
    Some(r.strip_prefix(' ').unwrap_or(r))
}

/// Parses `IP port N` (the port part optional) at the start of `s`.
fn addr_port(s: &str) -> (Option<IpAddr>, Option<Text>, Option<u16>) {
    let (ip, dom, port) = addr_port_ref(s);
    (ip, dom.map(Text::from), port)
}

/// [`addr_port`], the name borrowed.
fn addr_port_ref(s: &str) -> (Option<IpAddr>, Option<&str>, Option<u16>) {
    let (host, rest) = s.split_once(' ').unwrap_or((s, ""));
    let port = rest
        .strip_prefix("port ")
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok());
    if let Some(v4) = dotted_quad(host) {
        let ip = IpAddr::V4(v4);
        // What `source_addr` says of an IPv4 address.
        let none = ip.is_loopback() || ip.is_unspecified();
        return (if none { None } else { Some(ip) }, None, port);
    }
    match crate::source::winsec::source_addr(Some(host)) {
        Some(ip) => (Some(ip), None, port),
        None if host.parse::<IpAddr>().is_ok() => (None, None, port),
        None if !host.is_empty() => (None, Some(host), port),
        None => (None, None, port),
    }
}

/// An IPv4 address in the form the standard parser accepts (four decimal
/// octets, no leading zeros), read without its general machinery; `None`
/// for anything else, which is then left to it.
fn dotted_quad(s: &str) -> Option<std::net::Ipv4Addr> {
    let b = s.as_bytes();
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u16 = 0;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            v = v * 10 + u16::from(d - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        let len = i - start;
        if len == 0 || (len > 1 && b.get(start) == Some(&b'0')) {
            return None;
        }
        *octet = u8::try_from(v).ok()?;
    }
    (i == b.len()).then(|| std::net::Ipv4Addr::from(octets))
}

/// Splits `USER from HOST port N ...` at the last ` from `.
fn user_from(s: &str) -> Option<(&str, &str)> {
    static FROM: std::sync::LazyLock<memchr::memmem::FinderRev<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::FinderRev::new(" from "));
    let at = FROM.rfind(s.as_bytes())?;
    Some((s.get(..at)?, s.get(at + 6..)?))
}

/// `event.dataset` and `lateral.logon_process` of sshd events.
const SSHD: &str = "sshd";

/// What an sshd authentication message (`Accepted ...`, `Failed ...`,
/// `Invalid user ...`) says, borrowed from it.
struct SshdAuth<'a> {
    action: Action,
    outcome: Outcome,
    /// `password`, `publickey`, ... (not for `Invalid user`).
    method: Option<&'a str>,
    user: &'a str,
    /// `invalid_user` when sshd said so.
    reason: Option<&'static str>,
    source_ip: Option<IpAddr>,
    /// The source when it is a name, not an address.
    source_domain: Option<&'a str>,
    source_port: Option<u16>,
}

/// Reads an sshd authentication message: `None` when it is not one,
/// `Some(Err)` when it starts like one but its parts are missing.
fn sshd_auth(msg: &str) -> Option<Result<SshdAuth<'_>, ()>> {
    let (action, outcome, method, reason, r) = if let Some(r) = msg.strip_prefix("Accepted ") {
        let Some((method, r)) = word(r) else {
            return Some(Err(()));
        };
        let Some(r) = r.strip_prefix("for ") else {
            return Some(Err(()));
        };
        (Action::LoggedIn, Outcome::Success, Some(method), None, r)
    } else if let Some(r) = msg.strip_prefix("Failed ") {
        let Some((method, r)) = word(r) else {
            return Some(Err(()));
        };
        let Some(r) = r.strip_prefix("for ") else {
            return Some(Err(()));
        };
        match r.strip_prefix("invalid user ") {
            Some(x) => (
                Action::LogonFailed,
                Outcome::Failure,
                Some(method),
                Some("invalid_user"),
                x,
            ),
            None => (Action::LogonFailed, Outcome::Failure, Some(method), None, r),
        }
    } else if let Some(r) = msg.strip_prefix("Invalid user ") {
        (
            Action::InvalidUser,
            Outcome::Failure,
            None,
            Some("invalid_user"),
            r,
        )
    } else {
        return None;
    };
    let Some((user, from)) = user_from(r) else {
        return Some(Err(()));
    };
    let (source_ip, source_domain, source_port) = addr_port_ref(from);
    Some(Ok(SshdAuth {
        action,
        outcome,
        method,
        user,
        reason,
        source_ip,
        source_domain,
        source_port,
    }))
}

/// One sshd authentication line's event, borrowed from the line, as the
/// ECS writer reads it ([`LineFormat::write_line`]); the same bytes as the
/// event [`classify`] builds.
struct SshdEvent<'a> {
    ts: Timestamp,
    host: &'a str,
    auth: SshdAuth<'a>,
    origin: (&'a std::sync::Arc<str>, u64),
    plain: bool,
}

impl EcsFields for SshdEvent<'_> {
    fn ts(&self) -> Timestamp {
        self.ts
    }
    fn category(&self) -> Option<Category> {
        Some(Category::Authentication)
    }
    fn action(&self) -> &str {
        self.auth.action.as_str()
    }
    fn outcome(&self) -> Option<Outcome> {
        Some(self.auth.outcome)
    }
    fn dataset(&self) -> &str {
        SSHD
    }
    fn reason(&self) -> Option<&str> {
        self.auth.reason
    }
    fn source(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
        (
            self.auth.source_ip,
            self.auth.source_port,
            self.auth.source_domain,
        )
    }
    fn destination(&self) -> (Option<IpAddr>, Option<u16>, Option<&str>) {
        (None, None, None)
    }
    fn host_name(&self) -> Option<&str> {
        Some(self.host)
    }
    fn host_ip(&self) -> Option<IpAddr> {
        None
    }
    fn user_name(&self) -> Option<&str> {
        Some(self.auth.user)
    }
    fn user_domain(&self) -> Option<&str> {
        None
    }
    fn subject_user(&self) -> Option<&str> {
        None
    }
    fn auth_method(&self) -> Option<&str> {
        self.auth.method
    }
    fn logon_process(&self) -> Option<&str> {
        Some(SSHD)
    }
    fn logon_type(&self) -> Option<u8> {
        None
    }
    fn origin(&self) -> Option<(&std::sync::Arc<str>, crate::model::event::Position)> {
        Some((
            self.origin.0,
            crate::model::event::Position::Line(self.origin.1),
        ))
    }
    fn plain(&self) -> bool {
        self.plain
    }
}

/// Classifies an sshd message into events (several for "message repeated").
fn sshd(msg: &str, base: LogEvent, out: &mut Vec<LogEvent>) {
    if let Some(r) = msg.strip_prefix("message repeated ") {
        // "message repeated N times: [ Failed password for ... ]"
        let (n, rest) = word(r).unwrap_or(("1", ""));
        let n: usize = n.parse().unwrap_or(1).min(10_000);
        let inner = rest
            .strip_prefix("times: [ ")
            .unwrap_or(rest)
            .trim_end_matches(" ]")
            .trim_end_matches(']');
        let mut one = Vec::new();
        sshd(inner, base, &mut one);
        for _ in 0..n {
            out.extend(one.iter().cloned());
        }
        return;
    }
    let mut e = base;
    e.set_logon_process(Some(SSHD.into()));
    e.dataset = SSHD.into();
    if let Some(a) = sshd_auth(msg) {
        // The shape but not the parts (`Err`): no event.
        if let Ok(a) = a {
            e.category = Some(Category::Authentication);
            e.action = a.action;
            e.outcome = Some(a.outcome);
            e.auth_method = a.method.map(Text::from);
            e.user_name = Some(a.user.into());
            e.set_status(a.reason.map(Text::from));
            e.source_ip = a.source_ip;
            e.source_domain = a.source_domain.map(Text::from);
            e.source_port = a.source_port;
            out.push(e);
        }
    } else if let Some(r) = msg
        .strip_prefix("Connection closed by ")
        .or_else(|| msg.strip_prefix("Disconnected from "))
    {
        let closed = msg.starts_with("Connection closed");
        let preauth = r.ends_with("[preauth]");
        let r = r.trim_end_matches("[preauth]").trim_end();
        let (user, r) = if let Some(x) = r
            .strip_prefix("authenticating user ")
            .or_else(|| r.strip_prefix("invalid user "))
            .or_else(|| r.strip_prefix("user "))
        {
            // USER IP port N: the user is everything before the last two words and the address.
            let parts: Vec<&str> = x.rsplitn(4, ' ').collect();
            match parts.as_slice() {
                [p, kw, ip, user] if *kw == "port" => {
                    (Some(Text::from(*user)), format!("{ip} port {p}"))
                }
                [ip, user, ..] => (Some(Text::from(*user)), (*ip).to_string()),
                _ => (None, x.to_string()),
            }
        } else {
            (None, r.to_string())
        };
        let (ip, dom, port) = addr_port(&r);
        e.category = Some(Category::Session);
        e.action = if closed {
            Action::ConnectionClosed
        } else {
            Action::Disconnected
        };
        e.outcome = Some(Outcome::Unknown);
        e.user_name = user;
        e.set_status(preauth.then(|| "preauth".into()));
        (e.source_ip, e.source_domain, e.source_port) = (ip, dom, port);
        out.push(e);
    } else if msg.starts_with("pam_unix(") {
        // pam sets its own dataset and process.
        pam(msg, e, out);
    }
}

/// pam_unix session and authentication-failure messages for any service.
fn pam(msg: &str, base: LogEvent, out: &mut Vec<LogEvent>) {
    let Some(r) = msg.strip_prefix("pam_unix(") else {
        return;
    };
    let Some((svc, r)) = r.split_once("): ") else {
        return;
    };
    let service = svc.split(':').next().unwrap_or(svc);
    let mut e = base;
    e.dataset = "pam".into();
    e.set_logon_process(Some(service.into()));
    if let Some(u) = r.strip_prefix("session opened for user ") {
        let user = u.split([' ', '(']).next().unwrap_or(u);
        e.category = Some(Category::Session);
        e.action = Action::SessionOpened;
        e.outcome = Some(Outcome::Success);
        e.user_name = Some(user.into());
        // `by alice(uid=1000)`: the account that opened it (su, sudo).
        let by = u
            .rsplit_once(" by ")
            .map(|(_, b)| b.split('(').next().unwrap_or(b).trim())
            .filter(|b| !b.is_empty());
        e.set_subject_user(by.map(Text::from));
        out.push(e);
    } else if let Some(u) = r.strip_prefix("session closed for user ") {
        let user = u.split([' ', '(']).next().unwrap_or(u);
        e.category = Some(Category::Session);
        e.action = Action::SessionClosed;
        e.outcome = Some(Outcome::Success);
        e.user_name = Some(user.into());
        out.push(e);
    } else if let Some(kv) = r.strip_prefix("authentication failure; ") {
        e.category = Some(Category::Authentication);
        e.action = Action::LogonFailed;
        e.outcome = Some(Outcome::Failure);
        for pair in kv.split_whitespace() {
            if let Some(h) = pair.strip_prefix("rhost=") {
                let (ip, dom, _) = addr_port(h);
                e.source_ip = ip;
                e.source_domain = dom;
            } else if let Some(u) = pair.strip_prefix("user=") {
                e.user_name = Some(u.into());
            } else if let Some(u) = pair.strip_prefix("ruser=").filter(|u| !u.is_empty()) {
                e.set_subject_user(Some(u.into()));
            }
        }
        out.push(e);
    }
}

/// sudo: `USER : TTY=... ; PWD=... ; USER=root ; COMMAND=...` and failures.
///
/// The invoking account is `user.name`, the target (`USER=`) the subject
/// (`user.effective.name`), `COMMAND=` the command line, `TTY=` and `PWD=`
/// labels `tty` and `pwd`. Wrong passwords (`N incorrect password
/// attempts`, `a password is required`) are `sudo-failed`; a refusal by
/// policy (`user NOT in sudoers`, `command not allowed`) is `sudo` with
/// outcome failure.
fn sudo(msg: &str, base: LogEvent, out: &mut Vec<LogEvent>) {
    if msg.starts_with("pam_unix(") {
        pam(msg, base, out);
        return;
    }
    let Some((user, rest)) = msg.split_once(" : ") else {
        return;
    };
    let mut e = base;
    e.dataset = "sudo".into();
    e.set_logon_process(Some("sudo".into()));
    e.user_name = Some(user.trim().into());
    e.category = Some(Category::Process);
    let mut fields = rest.split(" ; ");
    let first = fields.next().unwrap_or("");
    if first.contains("incorrect password attempt")
        || first.contains("authentication failure")
        || first.contains("a password is required")
    {
        e.category = Some(Category::Authentication);
        e.action = Action::SudoFailed;
        e.outcome = Some(Outcome::Failure);
    } else {
        e.action = Action::Sudo;
        e.outcome = Some(
            if first.contains("command not allowed") || first.contains("NOT in sudoers") {
                Outcome::Failure
            } else {
                Outcome::Success
            },
        );
    }
    let (mut tty, mut pwd) = (None, None);
    for f in std::iter::once(first).chain(fields) {
        if let Some(v) = f.strip_prefix("USER=") {
            e.set_subject_user(Some(v.into()));
        } else if let Some(v) = f.strip_prefix("COMMAND=") {
            e.set_process_command_line(Some(v.into()));
        } else if let Some(v) = f.strip_prefix("TTY=") {
            tty = Some(v);
        } else if let Some(v) = f.strip_prefix("PWD=") {
            pwd = Some(v);
        }
    }
    for (key, v) in [("tty", tty), ("pwd", pwd)] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            e.push_label(key.into(), v.into());
        }
    }
    out.push(e);
}

/// What an `su` message says: success or not, the account that ran it,
/// the account it switched to and the terminal.
struct SuSwitch<'a> {
    ok: bool,
    from: &'a str,
    to: &'a str,
    tty: Option<&'a str>,
}

/// Reads util-linux su (`(to root) alice on pts/0`, `FAILED SU (to root)
/// alice on pts/0`) and shadow su (`Successful su for root by alice`,
/// `FAILED su for root by alice`). Shadow su also writes its sulog line
/// (`+ /dev/pts/0 alice:root`) beside each of those: it is left alone, so
/// that one switch is one event.
fn su_switch(msg: &str) -> Option<SuSwitch<'_>> {
    let msg = msg.trim();
    let (ok, r) = match msg.strip_prefix("FAILED SU ") {
        Some(r) => (false, r),
        None => (true, msg),
    };
    if let Some(r) = r.strip_prefix("(to ") {
        let (to, r) = r.split_once(") ")?;
        let (from, tty) = match r.rsplit_once(" on ") {
            Some((f, t)) => (f, Some(t)),
            None => (r, None),
        };
        return Some(SuSwitch { ok, from, to, tty });
    }
    let (ok, r) = match msg.strip_prefix("Successful su for ") {
        Some(r) => (true, r),
        None => (false, msg.strip_prefix("FAILED su for ")?),
    };
    let (to, from) = r.split_once(" by ")?;
    Some(SuSwitch {
        ok,
        from,
        to,
        tty: None,
    })
}

/// su: a switch of account (`su` or `su-failed`, the account that ran it
/// as `user.name`, the one switched to as the subject, label `tty`), and
/// the pam messages su writes.
fn su(msg: &str, base: LogEvent, out: &mut Vec<LogEvent>) {
    if msg.starts_with("pam_unix(") {
        pam(msg, base, out);
        return;
    }
    let Some(s) = su_switch(msg) else {
        return;
    };
    let mut e = base;
    e.dataset = "su".into();
    e.set_logon_process(Some("su".into()));
    e.category = Some(Category::Authentication);
    (e.action, e.outcome) = if s.ok {
        (Action::Su, Some(Outcome::Success))
    } else {
        (Action::SuFailed, Some(Outcome::Failure))
    };
    e.user_name = Some(s.from.trim().into());
    e.set_subject_user(Some(s.to.trim().into()));
    if let Some(t) = s
        .tty
        .map(str::trim)
        .filter(|t| !t.is_empty() && *t != "???")
    {
        e.push_label("tty".into(), t.into());
    }
    out.push(e);
}

/// Classifies one record's message into events.
pub fn classify(rec: &Record<'_>, out: &mut Vec<LogEvent>) {
    // Built only for the programs that give events (most lines do not).
    let base = || LogEvent {
        ts: rec.ts,
        host_name: Some(rec.host.into()),
        ..LogEvent::default()
    };
    match rec.app {
        "sshd" | "sshd-session" => sshd(rec.msg, base(), out),
        "sudo" => sudo(rec.msg, base(), out),
        "su" => su(rec.msg, base(), out),
        _ if rec.msg.starts_with("pam_unix(") => pam(rec.msg, base(), out),
        _ => {}
    }
}

/// A line as text: valid UTF-8 (nearly every line) borrowed without a
/// copy, anything else with replacement characters.
fn line_text(line: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(line)
}

/// Syslog text (RFC 3164, high-precision, RFC 5424), one record per line.
#[derive(Debug, Clone, Copy)]
pub struct SyslogLines(pub SyslogConfig);

impl LineFormat for SyslogLines {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let text = line_text(line);
        let rec =
            parse_record(text.trim_end_matches('\r'), &self.0).ok_or(Skip("not a syslog line"))?;
        classify(&rec, out);
        Ok(())
    }

    fn write_line(
        &self,
        line: &[u8],
        file: &std::sync::Arc<str>,
        line_no: u64,
        batch: &mut crate::source::batch::EventBatch,
    ) -> Option<Result<(), Skip>> {
        // sshd's authentication lines, the bulk of an auth log's events, are
        // written straight from the line; everything else is built.
        let text = std::str::from_utf8(line).ok()?;
        let Some(rec) = parse_record(text.trim_end_matches('\r'), &self.0) else {
            return Some(Err(Skip("not a syslog line")));
        };
        if !matches!(rec.app, "sshd" | "sshd-session") {
            // Programs that give no event are done here.
            let gives_events = matches!(rec.app, "sudo" | "su") || rec.msg.starts_with("pam_unix(");
            return if gives_events { None } else { Some(Ok(())) };
        }
        let Ok(auth) = sshd_auth(rec.msg)? else {
            return Some(Ok(()));
        };
        let event = SshdEvent {
            ts: rec.ts,
            host: rec.host,
            auth,
            origin: (file, line_no),
            // Every string is a piece of the line (or a constant).
            plain: crate::model::ecs::is_plain(line),
        };
        batch.push_record(&event, line_no);
        Some(Ok(()))
    }

    fn line_time(&self, line: &[u8]) -> crate::source::LineTime {
        if line.first().is_some_and(u8::is_ascii_uppercase) {
            // RFC 3164: the time is the first 15 bytes; a line whose time
            // does not parse is not a syslog line and gives no event.
            return match bsd_time(line, &self.0) {
                Some(t) => crate::source::LineTime::At(t),
                None => crate::source::LineTime::NoEvent,
            };
        }
        let text = line_text(line);
        // Every event `classify` makes carries the record's time.
        match parse_record(text.trim_end_matches('\r'), &self.0) {
            Some(rec) => crate::source::LineTime::At(rec.ts),
            None => crate::source::LineTime::NoEvent,
        }
    }
}

/// `journalctl -o json` exports, one JSON object per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct JournalJson;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct JournalEntry<'a> {
    #[serde(rename = "__REALTIME_TIMESTAMP", borrow)]
    realtime: crate::source::winsec::Text<'a>,
    #[serde(rename = "_HOSTNAME", borrow)]
    hostname: crate::source::winsec::Text<'a>,
    #[serde(rename = "SYSLOG_IDENTIFIER", borrow)]
    ident: crate::source::winsec::Text<'a>,
    #[serde(rename = "_COMM", borrow)]
    comm: crate::source::winsec::Text<'a>,
    #[serde(rename = "MESSAGE")]
    message: Option<serde_json::Value>,
}

impl LineFormat for JournalJson {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let j: JournalEntry<'_> =
            serde_json::from_slice(line).map_err(|_| Skip("not a journal JSON object"))?;
        let micros: i64 = j
            .realtime
            .get()
            .and_then(|v| v.parse().ok())
            .ok_or(Skip("journal entry without __REALTIME_TIMESTAMP"))?;
        let msg = match j.message {
            Some(serde_json::Value::String(s)) => s,
            // Binary messages are exported as arrays of byte values.
            Some(serde_json::Value::Array(a)) => {
                let bytes: Vec<u8> = a
                    .iter()
                    .filter_map(|v| v.as_u64())
                    .map(|v| v as u8)
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => return Ok(()),
        };
        let app = j.ident.get().or(j.comm.get()).unwrap_or("");
        let rec = Record {
            ts: Timestamp(micros.saturating_mul(1000)),
            host: j.hostname.get().unwrap_or(""),
            app,
            msg: &msg,
        };
        classify(&rec, out);
        Ok(())
    }
}

/// True when the first bytes look like syslog text.
pub fn looks_like_syslog(head: &[u8], cfg: &SyslogConfig) -> bool {
    let mut good = 0;
    let mut lines = 0;
    for line in head.split(|&b| b == b'\n').take(20) {
        if line.is_empty() {
            continue;
        }
        lines += 1;
        let text = String::from_utf8_lossy(line);
        if parse_record(text.trim_end_matches('\r'), cfg).is_some() {
            good += 1;
        }
    }
    // The last line may be cut mid-way; most of the others must parse.
    lines > 0 && good * 2 >= lines && good > 0
}

/// True when the first bytes look like a `journalctl -o json` export.
pub fn looks_like_journal_json(head: &[u8]) -> bool {
    head.trim_ascii_start().starts_with(b"{")
        && head.windows(22).any(|w| w == b"\"__REALTIME_TIMESTAMP\"")
}

#[cfg(test)]
mod tests {
    /// sshd lines written directly give the bytes, skips and keys of the
    /// events built from them; other lines fall back or give nothing alike.
    #[test]
    fn lines_written_directly_equal_built_events() {
        let lines: &[&[u8]] = &[
            b"Jan  1 00:00:00 h1 sshd[1]: Accepted password for bob from 10.0.0.1 port 22 ssh2",
            b"Jan  1 00:00:01 h1 sshd[1]: Accepted publickey for a b from 10.0.0.2 port 2222 ssh2",
            b"Jan  1 00:00:02 h1 sshd[1]: Failed password for invalid user \"x\\y\" from host.example port 5 ssh2",
            b"Jan  1 00:00:03 h1 sshd[1]: Failed keyboard-interactive/pam for root from 0.0.0.0 port 9 ssh2",
            b"Jan  1 00:00:04 h1 sshd[1]: Invalid user eve from 2001:db8::1 port 7",
            b"Jan  1 00:00:05 h1 sshd[1]: Invalid user mallory from ::ffff:10.9.8.7",
            b"Jan  1 00:00:06 h1 sshd[1]: Accepted for",
            b"Jan  1 00:00:07 h1 sshd[1]: Failed none",
            b"Jan  1 00:00:08 h1 sshd-session[9]: Accepted password for c\x01d from 10.0.0.3 port 1 ssh2",
            b"Jan  1 00:00:09 h1 sshd[1]: Accepted password for bob from 127.0.0.1 port 22 ssh2",
            b"Jan  1 00:00:10 h1 sshd[1]: Connection closed by 10.0.0.4 port 5 [preauth]",
            b"Jan  1 00:00:11 h1 sshd[1]: message repeated 3 times: [ Failed password for root from 10.0.0.5 port 6 ssh2]",
            b"Jan  1 00:00:12 h1 sudo: alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
            b"Jan  1 00:00:13 h1 cron[5]: pam_unix(cron:session): session opened for user root(uid=0)",
            b"Jan  1 00:00:14 h1 kernel: eth0 link up",
            b"Jan  1 00:00:15 h1 sshd[1]: Accepted password for \xff from 10.0.0.1 port 22 ssh2",
            b"<38>1 2026-01-01T00:00:16.5Z h2 sshd 7 - - Accepted publickey for ann from 10.0.0.6 port 3 ssh2",
            b"not a syslog line",
        ];
        let f = SyslogLines(CFG);
        let file: std::sync::Arc<str> = std::sync::Arc::from("auth.log");
        let mut written_directly = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let at = i as u64 + 1;
            let mut direct = crate::source::batch::EventBatch::for_input(2);
            let mut built = Vec::new();
            let b = f.parse_line(line, &mut built);
            match f.write_line(line, &file, at, &mut direct) {
                Some(d) => {
                    written_directly.push(at);
                    assert_eq!(d.is_ok(), b.is_ok(), "line {at}");
                    if let (Err(x), Err(y)) = (&d, &b) {
                        assert_eq!(x.0, y.0, "line {at}");
                    }
                }
                None => {
                    // Fallen back: the reader builds the events instead.
                    assert!(direct.is_empty(), "line {at}");
                    continue;
                }
            }
            for e in &mut built {
                e.origin = Some(crate::model::event::Origin {
                    file: file.clone(),
                    at: crate::model::event::Position::Line(at),
                });
            }
            let via_events = crate::source::batch::EventBatch::format(&built, 2);
            assert_eq!(direct.keys(), via_events.keys(), "line {at}");
            assert_eq!(
                String::from_utf8_lossy(direct.bytes()),
                String::from_utf8_lossy(via_events.bytes()),
                "line {at}"
            );
        }
        // The sshd authentication lines, odd ones, lines of other programs
        // that give nothing, and non-syslog lines are all done directly.
        assert_eq!(
            written_directly,
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 17, 18]
        );
    }

    #[test]
    fn dotted_quads_read_as_the_standard_parser_reads_them() {
        let mut cases: Vec<String> = [
            "1.2.3.4",
            "10.0.0.1",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "0.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.-4",
            "1.2.3.4a",
            "127.0.0.1",
            "1.2.3.0400",
            "00.0.0.0",
            "::1",
            "::ffff:1.2.3.4",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in [
            "0", "7", "09", "10", "99", "100", "199", "255", "256", "999", "0000",
        ] {
            for b in ["0", "1", "25", "250", "300"] {
                cases.push(format!("{a}.{b}.{a}.{b}"));
                cases.push(format!("{b}.{a}.1.{a}"));
            }
        }
        for c in &cases {
            assert_eq!(
                dotted_quad(c),
                c.parse::<std::net::Ipv4Addr>().ok(),
                "{c:?}"
            );
        }
    }

    use super::*;

    const CFG: SyslogConfig = SyslogConfig {
        ref_year: 2024,
        ref_month: 1,
        utc_offset: 0,
    };

    fn events(line: &str) -> Vec<LogEvent> {
        let mut out = Vec::new();
        SyslogLines(CFG)
            .parse_line(line.as_bytes(), &mut out)
            .unwrap();
        out
    }

    #[test]
    fn accepted_and_failed_logons() {
        let e = events(
            "Jan  5 10:11:12 srv-chamber sshd[1234]: Accepted publickey for alice from 10.10.1.11 port 52113 ssh2: RSA SHA256:abc",
        );
        assert_eq!(e.len(), 1);
        let e = &e[0];
        assert_eq!(
            (e.action.as_str(), e.outcome, e.user_name.as_deref()),
            ("logged-in", Some(Outcome::Success), Some("alice"))
        );
        assert_eq!(
            (e.source_ip, e.source_port, e.auth_method.as_deref()),
            (
                Some("10.10.1.11".parse().unwrap()),
                Some(52113),
                Some("publickey")
            )
        );
        assert_eq!(e.host_name.as_deref(), Some("srv-chamber"));
        assert_eq!(e.ts.to_rfc3339(), "2024-01-05T10:11:12.000000Z");
        let f = &events(
            "Jan  5 10:11:13 srv sshd[1]: Failed password for invalid user admin from ::ffff:203.0.113.9 port 4444 ssh2",
        )[0];
        assert_eq!(
            (f.action.as_str(), f.status(), f.user_name.as_deref()),
            ("logon-failed", Some("invalid_user"), Some("admin"))
        );
        assert_eq!(f.source_ip, Some("203.0.113.9".parse().unwrap()));
        let odd =
            &events("Jan  5 10:11:14 srv sshd[1]: Invalid user  a from b from 192.0.2.7 port 22")
                [0];
        assert_eq!(
            (odd.user_name.as_deref(), odd.source_ip),
            (Some(" a from b"), Some("192.0.2.7".parse().unwrap()))
        );
        let rep = events(
            "Jan  5 10:11:15 srv sshd[1]: message repeated 3 times: [ Failed password for root from 192.0.2.8 port 22 ssh2]",
        );
        assert_eq!(rep.len(), 3);
        assert!(rep.iter().all(|e| e.user_name.as_deref() == Some("root")));
    }

    #[test]
    fn disconnects_sessions_and_sudo() {
        let c = &events(
            "Jan  5 10:00:00 srv sshd[9]: Connection closed by authenticating user root 192.0.2.1 port 50000 [preauth]",
        )[0];
        assert_eq!(
            (
                c.action.as_str(),
                c.user_name.as_deref(),
                c.source_port,
                c.status()
            ),
            (
                "connection-closed",
                Some("root"),
                Some(50000),
                Some("preauth")
            )
        );
        let d = &events("Jan  5 10:00:00 srv sshd[9]: Disconnected from 192.0.2.1 port 50000")[0];
        assert_eq!(
            (d.action.as_str(), d.source_ip),
            ("disconnected", Some("192.0.2.1".parse().unwrap()))
        );
        let s = &events(
            "Jan  5 10:00:00 srv sshd[9]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)",
        )[0];
        assert_eq!(
            (s.action.as_str(), s.user_name.as_deref(), s.logon_process()),
            ("session-opened", Some("alice"), Some("sshd"))
        );
        let a = &events(
            "Jan  5 10:00:00 srv sshd[9]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.2  user=bob",
        )[0];
        assert_eq!(
            (a.action.as_str(), a.user_name.as_deref(), a.source_ip),
            (
                "logon-failed",
                Some("bob"),
                Some("192.0.2.2".parse().unwrap())
            )
        );
        let u = &events(
            "Jan  5 10:00:00 srv sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
        )[0];
        assert_eq!(
            (
                u.action.as_str(),
                u.user_name.as_deref(),
                u.subject_user(),
                u.process_command_line()
            ),
            ("sudo", Some("alice"), Some("root"), Some("/usr/bin/id"))
        );
        assert!(
            events("Jan  5 10:00:00 srv CRON[5]: (root) CMD (run-parts /etc/cron.hourly)")
                .is_empty()
        );
    }

    #[test]
    fn sudo_fields_failures_and_refusals() {
        let ok = &events(
            "Jan  5 10:00:00 srv sudo[77]:    alice : TTY=pts/1 ; PWD=/srv/app ; USER=postgres ; COMMAND=/usr/bin/psql -l",
        )[0];
        assert_eq!(
            (ok.action, ok.outcome, ok.category),
            (
                Action::Sudo,
                Some(Outcome::Success),
                Some(Category::Process)
            )
        );
        assert_eq!(ok.subject_user(), Some("postgres"));
        assert_eq!(ok.process_command_line(), Some("/usr/bin/psql -l"));
        let labels: Vec<(&str, &str)> = ok.labels().collect();
        assert_eq!(labels, [("tty", "pts/1"), ("pwd", "/srv/app")]);
        let bad = &events(
            "Jan  5 10:00:01 srv sudo: alice : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
        )[0];
        assert_eq!(
            (bad.action, bad.outcome, bad.subject_user()),
            (Action::SudoFailed, Some(Outcome::Failure), Some("root"))
        );
        let refused = &events(
            "Jan  5 10:00:02 srv sudo: mallory : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/cat /etc/shadow",
        )[0];
        assert_eq!(
            (refused.action, refused.outcome),
            (Action::Sudo, Some(Outcome::Failure))
        );
        let no_tty =
            &events("Jan  5 10:00:03 srv sudo: bob : PWD=/ ; USER=root ; COMMAND=/usr/bin/id")[0];
        assert_eq!(no_tty.labels().collect::<Vec<_>>(), [("pwd", "/")]);
        assert!(events("Jan  5 10:00:04 srv sudo: no separator here").is_empty());
    }

    #[test]
    fn su_switches_both_wordings_and_pam() {
        let cases: &[(&str, Action, &str, &str, Option<&str>)] = &[
            (
                "Jan  5 10:00:00 srv su[900]: (to root) alice on pts/0",
                Action::Su,
                "alice",
                "root",
                Some("pts/0"),
            ),
            (
                "Jan  5 10:00:01 srv su[901]: FAILED SU (to root) alice on pts/0",
                Action::SuFailed,
                "alice",
                "root",
                Some("pts/0"),
            ),
            (
                "Jan  5 10:00:02 srv su[902]: Successful su for oracle by bob",
                Action::Su,
                "bob",
                "oracle",
                None,
            ),
            (
                "Jan  5 10:00:03 srv su[903]: FAILED su for root by bob",
                Action::SuFailed,
                "bob",
                "root",
                None,
            ),
        ];
        for (line, action, from, to, tty) in cases {
            let e = events(line);
            assert_eq!(e.len(), 1, "{line}");
            let e = &e[0];
            assert_eq!(e.action, *action, "{line}");
            let ok = *action == Action::Su;
            assert_eq!(
                e.outcome,
                Some(if ok {
                    Outcome::Success
                } else {
                    Outcome::Failure
                })
            );
            assert_eq!(e.category, Some(Category::Authentication));
            assert_eq!(e.dataset, "su");
            assert_eq!(e.user_name.as_deref(), Some(*from), "{line}");
            assert_eq!(e.subject_user(), Some(*to), "{line}");
            assert_eq!(e.labels().find(|l| l.0 == "tty").map(|l| l.1), *tty);
            assert_eq!(e.host_name.as_deref(), Some("srv"));
        }
        let s = &events(
            "Jan  5 10:00:06 srv su[906]: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
        )[0];
        assert_eq!(
            (s.action, s.user_name.as_deref(), s.subject_user()),
            (Action::SessionOpened, Some("root"), Some("alice"))
        );
        assert_eq!(s.logon_process(), Some("su"));
        let f = &events(
            "Jan  5 10:00:07 srv su[907]: pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 ruser=alice rhost=  user=root",
        )[0];
        assert_eq!(
            (f.action, f.user_name.as_deref(), f.subject_user()),
            (Action::LogonFailed, Some("root"), Some("alice"))
        );
        assert_eq!(
            events(
                "Jan  5 10:00:08 srv su[908]: pam_unix(su:session): session closed for user root"
            )[0]
            .action,
            Action::SessionClosed
        );
        // Shadow's sulog line repeats the switch already given: no event.
        for quiet in [
            "Jan  5 10:00:09 srv su[909]: something else",
            "Jan  5 10:00:10 srv su[910]: (to root",
            "Jan  5 10:00:11 srv su[911]: + /dev/pts/0 carol:root",
            "Jan  5 10:00:12 srv su[912]: - /dev/pts/0 carol:root",
            "Jan  5 10:00:13 srv su[913]: Successful su for root",
        ] {
            assert!(events(quiet).is_empty(), "{quiet}");
        }
    }

    #[test]
    fn journal_fields_give_sshd_sudo_and_su() {
        let lines: &[&[u8]] = &[
            br#"{"__REALTIME_TIMESTAMP":"1704449472000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","_COMM":"sshd","MESSAGE":"Failed publickey for root from 198.51.100.7 port 40022 ssh2: RSA SHA256:x"}"#,
            br#"{"__REALTIME_TIMESTAMP":"1704449473000000","_HOSTNAME":"web1","_COMM":"sshd-session","MESSAGE":"Invalid user oracle from 198.51.100.7 port 40023"}"#,
            br#"{"__REALTIME_TIMESTAMP":"1704449474000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sudo","MESSAGE":"   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id"}"#,
            br#"{"__REALTIME_TIMESTAMP":"1704449475000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"su","MESSAGE":"(to root) alice on pts/0"}"#,
            br#"{"__REALTIME_TIMESTAMP":"1704449476000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"su","MESSAGE":[70,65,73,76,69,68,32,83,85,32,40,116,111,32,114,111,111,116,41,32,98,111,98,32,111,110,32,112,116,115,47,49]}"#,
            br#"{"__REALTIME_TIMESTAMP":"1704449477000000","_HOSTNAME":"web1","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted password for alice from 2001:db8::5 port 50000 ssh2"}"#,
        ];
        let mut out = Vec::new();
        for l in lines {
            JournalJson.parse_line(l, &mut out).unwrap();
        }
        let got: Vec<(Action, Option<&str>, Option<&str>)> = out
            .iter()
            .map(|e| (e.action, e.user_name.as_deref(), e.subject_user()))
            .collect();
        assert_eq!(
            got,
            [
                (Action::LogonFailed, Some("root"), None),
                (Action::InvalidUser, Some("oracle"), None),
                (Action::Sudo, Some("alice"), Some("root")),
                (Action::Su, Some("alice"), Some("root")),
                (Action::SuFailed, Some("bob"), Some("root")),
                (Action::LoggedIn, Some("alice"), None),
            ]
        );
        assert!(out.iter().all(|e| e.host_name.as_deref() == Some("web1")));
        assert_eq!(out[0].auth_method.as_deref(), Some("publickey"));
        assert_eq!(
            (out[0].source_ip, out[0].source_port),
            (Some("198.51.100.7".parse().unwrap()), Some(40022))
        );
        assert_eq!(out[5].source_ip, Some("2001:db8::5".parse().unwrap()));
        assert_eq!(out[2].ts.to_rfc3339(), "2024-01-05T10:11:14.000000Z");
    }

    #[test]
    fn year_wrap_timezone_and_other_framings() {
        // Reference January 2024: a December line is from 2023.
        let dec = &events(
            "Dec 31 23:59:59 srv sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2",
        )[0];
        assert_eq!(dec.ts.to_rfc3339(), "2023-12-31T23:59:59.000000Z");
        let tokyo = SyslogConfig {
            utc_offset: 9 * 3600,
            ..CFG
        };
        let mut out = Vec::new();
        SyslogLines(tokyo).parse_line(b"Jan  5 09:00:00 srv sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2\r", &mut out).unwrap();
        assert_eq!(out[0].ts.to_rfc3339(), "2024-01-05T00:00:00.000000Z");
        let hp = &events(
            "2024-01-05T10:11:12.123456+01:00 srv sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2",
        )[0];
        assert_eq!(hp.ts.to_rfc3339(), "2024-01-05T09:11:12.123456Z");
        let r5424 = &events(
            r#"<38>1 2024-01-05T10:11:12.003Z srv sshd 1234 - [meta x="a\]b"] Accepted password for a from 192.0.2.1 port 1 ssh2"#,
        )[0];
        assert_eq!(
            (r5424.ts.to_rfc3339().as_str(), r5424.host_name.as_deref()),
            ("2024-01-05T10:11:12.003000Z", Some("srv"))
        );
        let mut out = Vec::new();
        JournalJson
            .parse_line(br#"{"__REALTIME_TIMESTAMP":"1704449472000000","_HOSTNAME":"srv","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted password for a from 192.0.2.1 port 1 ssh2"}"#, &mut out)
            .unwrap();
        assert_eq!(out[0].ts.to_rfc3339(), "2024-01-05T10:11:12.000000Z");
        assert_eq!(parse_utc_offset("+09:00"), Some(32400));
        assert_eq!(parse_utc_offset("-0530"), Some(-19800));
        assert_eq!(parse_utc_offset("Asia/Tokyo"), None);
    }

    #[test]
    fn garbage_is_skipped() {
        let mut out = Vec::new();
        for bad in [
            &b"hello"[..],
            b"",
            b"\xff\xfe\xfd",
            b"<999>1 x",
            b"Jan 99 10:00:00 h p: m",
            b"Jan  5 10:00:00",
        ] {
            assert!(
                SyslogLines(CFG).parse_line(bad, &mut out).is_err(),
                "{bad:?}"
            );
        }
        assert!(out.is_empty());
    }
}
