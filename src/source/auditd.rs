//! Linux audit logs (`/var/log/audit/audit.log`, as auditd writes them) in,
//! normalised events out.
//!
//! Each line is one record: `type=TYPE msg=audit(SECS.MILLIS:SERIAL): k=v ...`,
//! optionally after `node=HOST ` (auditd's `name_format`), with the
//! user-space records' own fields inside `msg='...'` and, in the
//! `ENRICHED` log format, the names of ids after a `0x1d` byte
//! (`AUID="alice" UID="root"`). Untrusted strings (`acct`, `exe`, `comm`,
//! `cmd`, `cwd`, `aN`) are either quoted or hex-encoded; both are read.
//!
//! | type | event | notes |
//! |---|---|---|
//! | `USER_LOGIN` | `logged-in` / `logon-failed` (authentication) | `acct` (or the enriched `ID`) is `user.name`; `addr`/`hostname` the source; `exe`'s name `lateral.logon_process`; `(invalid user)` gives `event.reason` `invalid_user` |
//! | `USER_AUTH` | `authentication` (authentication) | a PAM authentication step, same fields |
//! | `USER_START` / `USER_END` | `session-opened` / `session-closed` (session) | same fields |
//! | `USER_LOGOUT` | `logged-out` (authentication) | same fields |
//! | `USER_CMD` (sudo) | `sudo` (process) | `cmd` is the command line, the login account (enriched `AUID`) `user.name`, labels `pwd`, `tty` |
//! | `SYSCALL` of `execve`/`execveat` | `process-created` (process) | `exe` is `process.executable`; the login account `user.name`, the acting one the subject; labels `pid`, `ppid`, `auid`, `uid`, `ses`, `tty`, `comm`, `key` |
//! | `EXECVE` | `process-created` (process), joined with its event's `SYSCALL` and `CWD` | the arguments `a0 a1 ...` joined by spaces as `process.command_line`; label `argc`, `cwd`; alone ([`AuditLines`]) `exec-arguments` |
//!
//! Every event has dataset `auditd`, the audit serial as label
//! `audit_serial`, and `res`/`success` as its outcome. Other record types
//! (`CRED_*`, `USER_ACCT`, `CWD`, `PATH`, `PROCTITLE`, ...) give no event.
//!
//! An input is read in line order and the records of one audit event are
//! joined by serial and `node=` ([`super::auditd_join::Joiner`], the join
//! `--sigma` uses too), also when other events' records come in between:
//! an `EXECVE` with its `SYSCALL` and `CWD` is one `process-created` event
//! ([`map_event`]). [`AuditLines`] maps lines one at a time (a `SYSCALL`
//! and an `EXECVE` then share their `audit_serial` label). Stored strings
//! are capped ([`MAX_TEXT`], [`MAX_COMMAND`]).

use crate::model::Action;
use crate::model::event::{
    Category, LogEvent, NANOS_PER_SEC, Outcome, Text, Timestamp, capped_text as capped,
};
use crate::model::event::{Origin, Position};
use crate::source::auditd_join::{Joiner, is_separator};
use crate::source::{
    Context, LineFormat, LineTime, LogFormatSpec, Reader, Skip, Sniff, WholeRead, text_lines,
};
use std::borrow::Cow;
use std::net::IpAddr;

/// Longest single value kept (bytes); longer ones are cut.
pub const MAX_TEXT: usize = 1024;

/// Longest command line kept (bytes); longer ones are cut.
pub const MAX_COMMAND: usize = 16 * 1024;

/// Most `EXECVE` arguments read from one line.
const MAX_ARGS: usize = 256;

/// The `event.dataset` of every audit event.
const DATASET: &str = "auditd";

/// auditd's `audit.log` in the format registry (`--format auditd`).
#[derive(Debug, Clone, Copy)]
pub struct AuditdFormat;

impl LogFormatSpec for AuditdFormat {
    fn flag(&self) -> &'static str {
        "auditd"
    }

    fn help(&self) -> &'static str {
        "Linux audit log (audit.log: type=... msg=audit(...): ...)"
    }

    fn sniff(&self) -> Sniff {
        Sniff::Text { rank: 35 }
    }

    fn looks_like(&self, head: &[u8], _ctx: &Context) -> bool {
        looks_like_auditd(head)
    }

    fn reader(&self, ctx: &Context) -> Reader {
        // Read in line order, so that the records of one event are joined.
        let utc_offset = ctx.syslog.utc_offset;
        Reader::Whole(Box::new(move |window, file, _flows, progress| {
            read_joined(window, file, progress, utc_offset)
        }))
    }
}

/// True when most of the first lines are audit records
/// (`type=... msg=audit(`), with or without a `node=` prefix.
pub fn looks_like_auditd(head: &[u8]) -> bool {
    let mut lines = 0;
    let mut good = 0;
    for line in head.split(|&b| b == b'\n').take(20) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        let body = strip_node(line).1;
        if body.starts_with(b"type=") && memchr::memmem::find(body, b" msg=audit(").is_some() {
            good += 1;
        }
    }
    // The last line may be cut mid-way; most of the others must be records.
    good > 0 && good * 2 >= lines
}

/// Splits off a `node=HOST ` prefix: (host, rest).
fn strip_node(line: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match line.strip_prefix(b"node=") {
        Some(r) => {
            let end = memchr::memchr(b' ', r).unwrap_or(r.len());
            let host = r.get(..end).unwrap_or(r);
            (Some(host), r.get(end + 1..).unwrap_or(&[]))
        }
        None => (None, line),
    }
}

/// The header of one record: its type, time and serial, and the text of
/// its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The host of a `node=` prefix.
    pub node: Option<&'a str>,
    /// The record type (`USER_LOGIN`, `SYSCALL`, ...).
    pub kind: &'a str,
    /// When the event happened.
    pub ts: Timestamp,
    /// The audit serial: records of one event share it.
    pub serial: u64,
    /// The fields after `): `.
    pub body: &'a str,
    /// Written by `ausearch -i` (local time, names in place of numbers,
    /// strings already decoded).
    pub interpreted: bool,
}

/// Reads the digits of a fraction of a second as nanoseconds.
fn fraction(frac: &str) -> Option<i64> {
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos = 0i64;
    let mut scale = NANOS_PER_SEC / 10;
    for b in frac.bytes() {
        nanos += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    Some(nanos)
}

/// Reads a number of 1 to `max` digits.
fn digits(s: &str, max: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads the local date and time `ausearch -i` writes (`%x %T` and the
/// milliseconds): `MM/DD/YYYY` (or `DD/MM/YYYY` when the first number is
/// above 12), `MM/DD/YY` (the C locale), `YYYY-MM-DD` or `DD.MM.YYYY`, then
/// `HH:MM:SS.mmm`; the time is `utc_offset` seconds ahead of UTC.
pub fn interpreted_time(s: &str, utc_offset: i64) -> Option<Timestamp> {
    let (date, time) = s.trim().split_once(' ')?;
    let (y, m, d) = if let Some((a, rest)) = date.split_once('/') {
        let (b, c) = rest.split_once('/')?;
        let (a, b) = (digits(a, 2)?, digits(b, 2)?);
        let (m, d) = if a > 12 { (b, a) } else { (a, b) };
        let y = i64::from(digits(c, 4)?);
        (if c.len() == 2 { 2000 + y } else { y }, m, d)
    } else if let Some((y, rest)) = date.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (i64::from(digits(y, 4)?), digits(m, 2)?, digits(d, 2)?)
    } else {
        let (d, rest) = date.split_once('.')?;
        let (m, y) = rest.split_once('.')?;
        (i64::from(digits(y, 4)?), digits(m, 2)?, digits(d, 2)?)
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (clock, frac) = time.trim().split_once('.').unwrap_or((time.trim(), ""));
    let mut parts = clock.split(':');
    let h = digits(parts.next()?, 2)?;
    let mi = digits(parts.next()?, 2)?;
    let sec = digits(parts.next()?, 2)?;
    if parts.next().is_some() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = crate::model::event::days_from_civil(y, m, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - utc_offset;
    Some(Timestamp::from_parts(secs, fraction(frac)?))
}

/// Reads `SECS.FRACTION:SERIAL` (the inside of `msg=audit(...)`).
fn stamp(s: &str) -> Option<(Timestamp, u64)> {
    let (time, serial) = s.split_once(':')?;
    let (secs, frac) = time.split_once('.').unwrap_or((time, ""));
    if secs.is_empty() || secs.len() > 12 || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let nanos = fraction(frac)?;
    if serial.is_empty() || serial.len() > 20 || !serial.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((Timestamp::from_parts(secs, nanos), serial.parse().ok()?))
}

/// Reads a record's header; `None` when the line is not an audit record.
/// Records of `ausearch -i` are read as written in UTC (see
/// [`parse_header_at`]).
pub fn parse_header(line: &str) -> Option<Header<'_>> {
    parse_header_at(line, 0)
}

/// Reads a record's header, raw (`msg=audit(SECS.MILLIS:SERIAL):`) or
/// interpreted by `ausearch -i` (`msg=audit(MM/DD/YYYY HH:MM:SS.mmm:SERIAL) :`,
/// a local time `utc_offset` seconds ahead of UTC); `None` when the line
/// is not an audit record.
pub fn parse_header_at(line: &str, utc_offset: i64) -> Option<Header<'_>> {
    let (node, rest) = match line.strip_prefix("node=") {
        Some(r) => {
            let (host, rest) = r.split_once(' ')?;
            (Some(host), rest)
        }
        None => (None, line),
    };
    let rest = rest.strip_prefix("type=")?;
    let (kind, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start().strip_prefix("msg=audit(")?;
    let (inside, body) = rest.split_once(')')?;
    let (ts, serial, interpreted) = match stamp(inside) {
        Some((ts, serial)) => (ts, serial, false),
        None => {
            let (time, serial) = inside.rsplit_once(':')?;
            if serial.is_empty() || serial.len() > 20 || !serial.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let serial: u64 = serial.parse().ok()?;
            (interpreted_time(time, utc_offset)?, serial, true)
        }
    };
    let body = body.trim_start();
    let body = body.strip_prefix(':').unwrap_or(body).trim_start();
    Some(Header {
        node: node.filter(|n| !n.is_empty()),
        kind,
        ts,
        serial,
        body,
        interpreted,
    })
}

/// One `key=value` of a record: the value as written (without its quotes)
/// and whether it was quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Value<'a> {
    raw: &'a str,
    quoted: bool,
}

/// The `key=value` pairs of a record body, the user-space records'
/// `msg='...'` opened up (its inner pairs come as the others do) and the
/// enriched names after `0x1d` included. In a record of `ausearch -i`
/// (`interpreted`) values are already decoded and may hold spaces: the
/// words without `=` after a value belong to it, and no value is hex.
fn pairs(body: &str, interpreted: bool) -> impl Iterator<Item = (&str, Value<'_>)> {
    let mut rest = body;
    std::iter::from_fn(move || {
        loop {
            rest = rest.trim_start_matches([' ', '\x1d', '\'']);
            if rest.is_empty() {
                return None;
            }
            let word_end = rest.find([' ', '\x1d']).unwrap_or(rest.len());
            let Some(eq) = rest.get(..word_end).and_then(|w| w.find('=')) else {
                // A word without `=`: skipped.
                rest = rest.get(word_end..).unwrap_or("");
                continue;
            };
            let key = rest.get(..eq).unwrap_or("");
            let after = rest.get(eq + 1..).unwrap_or("");
            if let Some(q) = after.strip_prefix('"') {
                let end = q.find('"').unwrap_or(q.len());
                rest = q.get(end + 1..).unwrap_or("");
                return Some((
                    key,
                    Value {
                        raw: q.get(..end).unwrap_or(""),
                        quoted: true,
                    },
                ));
            }
            if after.starts_with('\'') {
                // `msg='op=... res=success'`: read the pairs inside.
                rest = after;
                continue;
            }
            let mut end = after.find([' ', '\x1d']).unwrap_or(after.len());
            // The next words, when they have no `=`, continue this value.
            while interpreted && let Some(more) = continued(after.get(end..).unwrap_or("")) {
                end += more;
            }
            let raw = after.get(..end).unwrap_or("");
            rest = after.get(end..).unwrap_or("");
            return Some((
                key,
                Value {
                    raw: raw.trim_end_matches('\''),
                    quoted: interpreted,
                },
            ));
        }
    })
}

/// In `ausearch -i` text, the length of `next` up to the end of its first
/// word when that word continues the value before it (it has no `=`).
fn continued(next: &str) -> Option<usize> {
    let word = next.trim_start_matches(' ');
    let len = word.find([' ', '\x1d']).unwrap_or(word.len());
    let w = word.get(..len).unwrap_or("");
    if w.is_empty() || w.contains('=') || next.starts_with('\x1d') {
        return None;
    }
    Some(next.len() - word.len() + len)
}

/// Decodes an untrusted string field: quoted text as is, hex as the bytes
/// it spells (NULs, which separate `proctitle`'s arguments, become
/// spaces), anything else as written.
fn untrusted(v: Value<'_>) -> Cow<'_, str> {
    if v.quoted {
        return Cow::Borrowed(v.raw);
    }
    let b = v.raw.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(2) || !b.iter().all(u8::is_ascii_hexdigit) {
        return Cow::Borrowed(v.raw);
    }
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        let hi = hex_digit(pair.first().copied().unwrap_or(b'0'));
        let lo = hex_digit(pair.get(1).copied().unwrap_or(b'0'));
        let byte = hi << 4 | lo;
        out.push(if byte == 0 { b' ' } else { byte });
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Every `key=value` of a record body, values decoded as Sigma's auditd
/// rules read them (for `crate::sigma`): the untrusted strings (`exe`,
/// `comm`, `cwd`, `name`, `proctitle`, `key`, `acct`, `cmd`, `data`, and
/// an `EXECVE` record's arguments) from hex when hex-encoded, everything
/// else as written (a `SYSCALL`'s `a0`..`a3` stay the hex numbers the
/// kernel writes). The `msg='...'` of user-space records is opened up and
/// the enriched names after `0x1d` (`SYSCALL=execve`, `AUID="alice"`)
/// come as the other pairs do. The values of `ausearch -i`
/// (`h.interpreted`) are taken as written: they are decoded already.
pub fn decoded_pairs<'a>(h: &Header<'a>) -> impl Iterator<Item = (&'a str, Cow<'a, str>)> {
    let execve = h.kind == "EXECVE";
    pairs(h.body, h.interpreted).map(move |(key, v)| {
        let text = match key {
            "exe" | "comm" | "cwd" | "name" | "proctitle" | "key" | "acct" | "cmd" | "data" => {
                untrusted(v)
            }
            _ if execve && arg_index(key).is_some() => untrusted(v),
            _ => Cow::Borrowed(v.raw),
        };
        (key, text)
    })
}

/// The name of a system call by its number on x86-64 and AArch64, for the
/// calls SigmaHQ's auditd rules name (`execve`, `syslog`, `sysinfo`, ...);
/// `None` for the others and other architectures.
pub fn syscall_name(arch: &str, number: &str) -> Option<&'static str> {
    let n: u32 = number.parse().ok()?;
    let table: &[(u32, &'static str)] = match arch {
        "c000003e" | "x86_64" => &[
            (41, "socket"),
            (42, "connect"),
            (59, "execve"),
            (99, "sysinfo"),
            (103, "syslog"),
            (133, "mknod"),
            (135, "personality"),
            (175, "init_module"),
            (259, "mknodat"),
            (313, "finit_module"),
            (319, "memfd_create"),
            (322, "execveat"),
        ],
        "c00000b7" | "aarch64" => &[
            (33, "mknodat"),
            (92, "personality"),
            (105, "init_module"),
            (116, "syslog"),
            (179, "sysinfo"),
            (198, "socket"),
            (203, "connect"),
            (221, "execve"),
            (273, "finit_module"),
            (279, "memfd_create"),
            (281, "execveat"),
        ],
        _ => &[],
    };
    table.iter().find(|(k, _)| *k == n).map(|(_, name)| *name)
}

fn hex_digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// A value that means something: not empty, `?`, `(null)`, `(none)` or
/// `unset`.
fn known(s: &str) -> Option<&str> {
    let s = s.trim();
    (!matches!(s, "" | "?" | "(null)" | "(none)" | "unset")).then_some(s)
}

/// An id that is set: auditd writes 4294967295 (and -1) for "unset".
fn set_id(s: &str) -> Option<&str> {
    known(s).filter(|s| !matches!(*s, "4294967295" | "-1"))
}

/// The fields of one record that the mappings read.
#[derive(Debug, Default)]
struct Fields<'a> {
    pid: Option<&'a str>,
    ppid: Option<&'a str>,
    uid: Option<&'a str>,
    auid: Option<&'a str>,
    ses: Option<&'a str>,
    tty: Option<&'a str>,
    success: Option<&'a str>,
    syscall: Option<&'a str>,
    arch: Option<&'a str>,
    argc: Option<&'a str>,
    comm: Option<Value<'a>>,
    exe: Option<Value<'a>>,
    key: Option<Value<'a>>,
    op: Option<&'a str>,
    acct: Option<Value<'a>>,
    id: Option<&'a str>,
    hostname: Option<&'a str>,
    addr: Option<&'a str>,
    terminal: Option<&'a str>,
    res: Option<&'a str>,
    cmd: Option<Value<'a>>,
    cwd: Option<Value<'a>>,
    /// Enriched names (`AUID="alice"`, `UID="root"`, `ID="alice"`,
    /// `SYSCALL=execve`).
    auid_name: Option<&'a str>,
    uid_name: Option<&'a str>,
    id_name: Option<&'a str>,
    syscall_name: Option<&'a str>,
    /// `EXECVE` arguments in order: (index, value); pieces of a long
    /// argument (`a1[0]`, `a1[1]`) share its index.
    args: Vec<(u32, Value<'a>)>,
}

impl<'a> Fields<'a> {
    fn read(h: &Header<'a>, want_args: bool) -> Fields<'a> {
        let mut f = Fields::default();
        for (key, v) in pairs(h.body, h.interpreted) {
            let first = |slot: &mut Option<&'a str>| {
                if slot.is_none() {
                    *slot = Some(v.raw);
                }
            };
            let first_v = |slot: &mut Option<Value<'a>>| {
                if slot.is_none() {
                    *slot = Some(v);
                }
            };
            match key {
                "pid" => first(&mut f.pid),
                "ppid" => first(&mut f.ppid),
                "uid" => first(&mut f.uid),
                "auid" => first(&mut f.auid),
                "ses" => first(&mut f.ses),
                "tty" => first(&mut f.tty),
                "success" => first(&mut f.success),
                "syscall" => first(&mut f.syscall),
                "arch" => first(&mut f.arch),
                "argc" => first(&mut f.argc),
                "comm" => first_v(&mut f.comm),
                "exe" => first_v(&mut f.exe),
                "key" => first_v(&mut f.key),
                "op" => first(&mut f.op),
                "acct" => first_v(&mut f.acct),
                "id" => first(&mut f.id),
                "hostname" => first(&mut f.hostname),
                "addr" => first(&mut f.addr),
                "terminal" => first(&mut f.terminal),
                "res" | "result" => first(&mut f.res),
                "cmd" => first_v(&mut f.cmd),
                "cwd" => first_v(&mut f.cwd),
                "AUID" => first(&mut f.auid_name),
                "UID" => first(&mut f.uid_name),
                "ID" => first(&mut f.id_name),
                "SYSCALL" => first(&mut f.syscall_name),
                _ if want_args && f.args.len() < MAX_ARGS => {
                    if let Some(n) = arg_index(key) {
                        f.args.push((n, v));
                    }
                }
                _ => {}
            }
        }
        if h.interpreted {
            // `ausearch -i` writes names where the raw log has numbers.
            f.auid_name = f.auid_name.or(f.auid);
            f.uid_name = f.uid_name.or(f.uid);
            f.id_name = f.id_name.or(f.id);
        }
        f
    }

    /// The outcome `res=` (or `success=`) says.
    fn outcome(&self) -> Option<Outcome> {
        let v = self.res.or(self.success)?;
        Some(match v {
            "success" | "yes" | "1" => Outcome::Success,
            "failed" | "no" | "0" => Outcome::Failure,
            _ => Outcome::Unknown,
        })
    }
}

/// The index of an `EXECVE` argument key: `a3` or a piece `a3[1]`
/// (`a3_len` is not an argument).
fn arg_index(key: &str) -> Option<u32> {
    let digits = key.strip_prefix('a')?;
    let digits = match digits.split_once('[') {
        Some((d, piece)) if piece.ends_with(']') => d,
        Some(_) => return None,
        None => digits,
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// True for a `SYSCALL` of `execve` or `execveat`: by the enriched or
/// interpreted name, or by number on x86-64, i386, AArch64 and ARM.
fn is_exec(f: &Fields<'_>) -> bool {
    if f.syscall_name
        .or(f.syscall)
        .is_some_and(|name| matches!(name, "execve" | "execveat"))
    {
        return true;
    }
    let Some(n) = f.syscall else {
        return false;
    };
    match f.arch.unwrap_or("") {
        "c000003e" | "x86_64" => matches!(n, "59" | "322"),
        "40000003" | "i386" => matches!(n, "11" | "358"),
        "c00000b7" | "aarch64" => matches!(n, "221" | "281"),
        "40000028" | "armeb" | "arm" => matches!(n, "11" | "387"),
        _ => false,
    }
}

/// The last part of a path (`/usr/sbin/sshd` → `sshd`).
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// auditd's `audit.log`, one record per line, times of `ausearch -i`
/// output read as UTC ([`AuditLinesAt`] places them).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditLines;

/// auditd's `audit.log`, raw or as `ausearch -i` prints it (local times
/// `utc_offset` seconds ahead of UTC: `--timezone`), one record per line;
/// the `----` lines between `ausearch`'s events are passed over.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditLinesAt {
    /// The offset from UTC of `ausearch -i`'s local times, in seconds.
    pub utc_offset: i64,
}

impl LineFormat for AuditLines {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        AuditLinesAt::default().parse_line(line, out)
    }

    fn line_time(&self, line: &[u8]) -> LineTime {
        AuditLinesAt::default().line_time(line)
    }
}

impl LineFormat for AuditLinesAt {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if is_separator(text) {
            // The separator `ausearch` prints between events.
            return Ok(());
        }
        let h = parse_header_at(text, self.utc_offset).ok_or(Skip("not an audit record"))?;
        map(&h, out);
        Ok(())
    }

    fn line_time(&self, line: &[u8]) -> LineTime {
        let text = String::from_utf8_lossy(line);
        match parse_header_at(text.trim_end_matches('\r'), self.utc_offset) {
            Some(h) => LineTime::At(h.ts),
            None => LineTime::NoEvent,
        }
    }
}

/// The event every mapping starts from: time, host, dataset, serial.
fn base(h: &Header<'_>) -> LogEvent {
    let mut e = LogEvent {
        ts: h.ts,
        dataset: DATASET.into(),
        host_name: h.node.map(|n| capped(n, MAX_TEXT)),
        ..LogEvent::default()
    };
    e.push_label("audit_serial".into(), Text::from(h.serial.to_string()));
    e
}

fn label(e: &mut LogEvent, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        e.push_label(key.into(), capped(v, MAX_TEXT));
    }
}

/// Maps one record to its events (none for the types not mapped).
pub fn map(h: &Header<'_>, out: &mut Vec<LogEvent>) {
    match h.kind {
        "USER_LOGIN" | "USER_AUTH" | "USER_START" | "USER_END" | "USER_LOGOUT" => {
            let f = Fields::read(h, false);
            out.push(user_event(h, &f));
        }
        "USER_CMD" => {
            let f = Fields::read(h, false);
            let exe = f.exe.map(untrusted);
            if exe.as_deref().is_some_and(|x| base_name(x) != "sudo") {
                return;
            }
            let mut e = base(h);
            e.category = Some(Category::Process);
            e.action = Action::Sudo;
            e.outcome = f.outcome();
            e.set_logon_process(Some("sudo".into()));
            acting_users(&mut e, &f);
            e.set_process_command_line(f.cmd.map(|c| capped(&untrusted(c), MAX_COMMAND)));
            label(
                &mut e,
                "pwd",
                f.cwd.map(untrusted).as_deref().and_then(known),
            );
            label(&mut e, "tty", f.terminal.and_then(known));
            label(&mut e, "ses", f.ses.and_then(set_id));
            out.push(e);
        }
        "SYSCALL" => {
            let f = Fields::read(h, false);
            if is_exec(&f) {
                out.push(exec_event(h, &f));
            }
        }
        "EXECVE" => {
            let f = Fields::read(h, true);
            let mut e = base(h);
            e.category = Some(Category::Process);
            e.action = Action::ExecArguments;
            add_arguments(&mut e, &f);
            out.push(e);
        }
        _ => {}
    }
}

/// The `process-created` event of a `SYSCALL` record of `execve`.
fn exec_event(h: &Header<'_>, f: &Fields<'_>) -> LogEvent {
    let mut e = base(h);
    e.category = Some(Category::Process);
    e.action = Action::ProcessCreated;
    e.outcome = f.outcome();
    acting_users(&mut e, f);
    e.set_process_executable(
        f.exe
            .map(untrusted)
            .as_deref()
            .and_then(known)
            .map(|x| capped(x, MAX_TEXT)),
    );
    label(&mut e, "pid", f.pid.and_then(known));
    label(&mut e, "ppid", f.ppid.and_then(known));
    label(&mut e, "ses", f.ses.and_then(set_id));
    label(&mut e, "tty", f.tty.and_then(known));
    label(
        &mut e,
        "comm",
        f.comm.map(untrusted).as_deref().and_then(known),
    );
    label(
        &mut e,
        "key",
        f.key.map(untrusted).as_deref().and_then(known),
    );
    e
}

/// An `EXECVE` record's arguments `a0 a1 ...` (pieces of one joined) as
/// the event's command line, and its `argc` label.
fn add_arguments(e: &mut LogEvent, f: &Fields<'_>) {
    let mut line = String::new();
    let mut last = None;
    for (n, v) in &f.args {
        if line.len() >= MAX_COMMAND {
            break;
        }
        if last.is_some_and(|l| l != *n) {
            line.push(' ');
        }
        last = Some(*n);
        line.push_str(&untrusted(*v));
    }
    if !line.is_empty() {
        e.set_process_command_line(Some(capped(&line, MAX_COMMAND)));
    }
    label(e, "argc", f.argc.and_then(known));
}

/// Maps the records of one audit event (joined by
/// [`super::auditd_join::Joiner`], each with its line number): its first
/// `EXECVE` gives one `process-created` event with the arguments as
/// command line, the `SYSCALL`'s executable, accounts, `pid`, `ppid`,
/// `ses`, `tty`, `comm` and `key`, its outcome, and the `CWD`'s directory
/// as label `cwd`, on the `EXECVE`'s line; the `SYSCALL` gives no event of
/// its own then. Every other record maps as [`map`] maps it alone.
pub fn map_event(records: &[(u64, Header<'_>)], out: &mut Vec<(u64, LogEvent)>) {
    let first = |kind: &str| records.iter().position(|(_, h)| h.kind == kind);
    let execve = first("EXECVE");
    let syscall = first("SYSCALL").filter(|_| execve.is_some());
    let mut one = Vec::new();
    for (i, (no, h)) in records.iter().enumerate() {
        if Some(i) == syscall {
            continue;
        }
        if Some(i) != execve {
            map(h, &mut one);
            out.extend(one.drain(..).map(|e| (*no, e)));
            continue;
        }
        let sys = syscall
            .and_then(|s| records.get(s))
            .map(|(_, s)| (s, Fields::read(s, false)));
        let mut e = match &sys {
            Some((s, f)) => exec_event(s, f),
            None => {
                let mut e = base(h);
                e.category = Some(Category::Process);
                e.action = Action::ProcessCreated;
                e
            }
        };
        add_arguments(&mut e, &Fields::read(h, true));
        if let Some((_, c)) = first("CWD").and_then(|c| records.get(c)) {
            let f = Fields::read(c, false);
            label(
                &mut e,
                "cwd",
                f.cwd.map(untrusted).as_deref().and_then(known),
            );
        }
        out.push((*no, e));
    }
}

/// Reads a whole `audit.log` (raw, or `ausearch -i` text with local times
/// `utc_offset` seconds ahead of UTC) in line order, joining the records
/// of each audit event ([`super::auditd_join::Joiner`]) and mapping them
/// with [`map_event`].
pub fn read_joined(
    window: &mut crate::input::ByteWindow,
    file: &std::sync::Arc<str>,
    progress: &std::sync::atomic::AtomicU64,
    utc_offset: i64,
) -> WholeRead {
    let mut joiner: Joiner<(u64, String)> = Joiner::default();
    let mut events: Vec<LogEvent> = Vec::new();
    let mut mapped = Vec::new();
    let mut done = |group: Vec<(u64, String)>| {
        let headers: Vec<(u64, Header<'_>)> = group
            .iter()
            .filter_map(|(no, line)| parse_header_at(line, utc_offset).map(|h| (*no, h)))
            .collect();
        map_event(&headers, &mut mapped);
        events.extend(mapped.drain(..).map(|(no, mut e)| {
            e.origin = Some(Origin {
                file: file.clone(),
                at: Position::Line(no),
            });
            e
        }));
    };
    let res = text_lines::read_lines_in_order(window, file, progress, &mut |no, line, diag| {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        if is_separator(text) {
            joiner.finish(&mut done);
            return;
        }
        match parse_header_at(text, utc_offset) {
            Some(h) => {
                let (host, serial, kind) = (h.node, h.serial, h.kind);
                joiner.push(host, serial, kind, (no, text.to_string()), &mut done);
            }
            None => diag.skip(
                "not an audit record",
                || Origin {
                    file: file.clone(),
                    at: Position::Line(no),
                },
                || text_lines::sample(line),
            ),
        }
    });
    joiner.finish(&mut done);
    WholeRead {
        events,
        records: res.records,
        bytes: res.bytes,
        flows: 0,
        diag: res.diag,
        truncated_at: None,
        error: res.error,
    }
}

/// `user.name` (the login account: enriched `AUID`) and the subject (the
/// acting account, enriched `UID`, when different), with the numeric ids
/// as labels `auid` and `uid`.
fn acting_users(e: &mut LogEvent, f: &Fields<'_>) {
    let login = f.auid_name.and_then(set_id);
    let acting = f.uid_name.and_then(known);
    e.user_name = login.map(|u| capped(u, MAX_TEXT));
    if acting != login {
        e.set_subject_user(acting.map(|u| capped(u, MAX_TEXT)));
    }
    label(e, "auid", f.auid.and_then(set_id));
    label(e, "uid", f.uid.and_then(known));
}

/// The event of a PAM or login record (`USER_LOGIN`, `USER_AUTH`,
/// `USER_START`, `USER_END`, `USER_LOGOUT`).
fn user_event(h: &Header<'_>, f: &Fields<'_>) -> LogEvent {
    let mut e = base(h);
    let outcome = f.outcome();
    let failed = outcome == Some(Outcome::Failure);
    let (category, action) = match h.kind {
        "USER_LOGIN" if failed => (Category::Authentication, Action::LogonFailed),
        "USER_LOGIN" => (Category::Authentication, Action::LoggedIn),
        "USER_AUTH" => (Category::Authentication, Action::Authentication),
        "USER_START" => (Category::Session, Action::SessionOpened),
        "USER_END" => (Category::Session, Action::SessionClosed),
        _ => (Category::Authentication, Action::LoggedOut),
    };
    (e.category, e.action) = (Some(category), action);
    e.outcome = Some(outcome.unwrap_or(Outcome::Unknown));
    let acct = f.acct.map(untrusted);
    match acct.as_deref().and_then(known) {
        Some("(invalid user)") | Some("(unknown)") => {
            e.set_status(Some("invalid_user".into()));
        }
        Some(a) => e.user_name = Some(capped(a, MAX_TEXT)),
        None => {
            // USER_LOGIN names the account by uid (`id=`), named when enriched.
            e.user_name = f
                .id_name
                .and_then(set_id)
                .or(f.auid_name.and_then(set_id))
                .map(|u| capped(u, MAX_TEXT));
            label(&mut e, "uid", f.id.and_then(set_id));
        }
    }
    let addr = f.addr.and_then(known);
    let host = f.hostname.and_then(known);
    e.source_ip = crate::source::winsec::source_addr(addr)
        .or_else(|| crate::source::winsec::source_addr(host));
    if e.source_ip.is_none()
        && let Some(name) = host.filter(|h| h.parse::<IpAddr>().is_err())
    {
        e.source_domain = Some(capped(name, MAX_TEXT));
    }
    let exe = f.exe.map(untrusted);
    e.set_logon_process(
        exe.as_deref()
            .and_then(known)
            .map(|x| capped(base_name(x), MAX_TEXT)),
    );
    label(&mut e, "terminal", f.terminal.and_then(known));
    label(&mut e, "op", f.op.and_then(known));
    label(&mut e, "ses", f.ses.and_then(set_id));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(line: &[u8]) -> Vec<LogEvent> {
        let mut out = Vec::new();
        AuditLines.parse_line(line, &mut out).unwrap();
        out
    }

    fn one(line: &[u8]) -> LogEvent {
        let mut v = events(line);
        assert_eq!(v.len(), 1, "{}", String::from_utf8_lossy(line));
        v.remove(0)
    }

    fn label_of<'e>(e: &'e LogEvent, key: &str) -> Option<&'e str> {
        e.labels().find(|l| l.0 == key).map(|l| l.1)
    }

    #[test]
    fn header_time_serial_and_node() {
        let h = parse_header(
            "node=web1 type=USER_LOGIN msg=audit(1700000000.123:456): pid=1 res=success",
        )
        .unwrap();
        assert_eq!(
            (h.node, h.kind, h.serial, h.body),
            (Some("web1"), "USER_LOGIN", 456, "pid=1 res=success")
        );
        assert_eq!(h.ts, Timestamp::from_parts(1_700_000_000, 123_000_000));
        for bad in [
            "type=X msg=audit(1700000000.123): x",
            "type=X msg=audit(abc.1:2): x",
            "type=X msg=audit(1.1:99999999999999999999999): x",
            "type=X",
            "msg=audit(1.1:2): x",
            "node=web1",
            "",
        ] {
            assert_eq!(parse_header(bad), None, "{bad}");
        }
        assert_eq!(
            AuditLines.line_time(b"type=EOE msg=audit(1700000001.5:9): "),
            LineTime::At(Timestamp::from_parts(1_700_000_001, 500_000_000))
        );
        assert_eq!(AuditLines.line_time(b"hello"), LineTime::NoEvent);
    }

    #[test]
    fn sshd_logins_auth_and_sessions() {
        let ok = one(
            b"type=USER_LOGIN msg=audit(1700000000.123:456): pid=2301 uid=0 auid=1000 ses=7 subj=unconfined msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=198.51.100.7 addr=198.51.100.7 terminal=/dev/pts/1 res=success'\x1dUID=\"root\" AUID=\"alice\" ID=\"alice\"",
        );
        assert_eq!(
            (ok.action, ok.outcome, ok.category),
            (
                Action::LoggedIn,
                Some(Outcome::Success),
                Some(Category::Authentication)
            )
        );
        assert_eq!(ok.user_name.as_deref(), Some("alice"));
        assert_eq!(ok.source_ip, Some("198.51.100.7".parse().unwrap()));
        assert_eq!(ok.logon_process(), Some("sshd"));
        assert_eq!(ok.dataset, "auditd");
        assert_eq!(label_of(&ok, "audit_serial"), Some("456"));
        assert_eq!(label_of(&ok, "terminal"), Some("/dev/pts/1"));
        assert_eq!(label_of(&ok, "uid"), Some("1000"));
        assert_eq!(ok.host_name, None);

        // A failed login names the account in hex; an invalid one says so.
        let bad = one(
            b"type=USER_LOGIN msg=audit(1700000001.000:457): pid=2302 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=726F6F74 exe=\"/usr/sbin/sshd\" hostname=? addr=::ffff:198.51.100.8 terminal=sshd res=failed'",
        );
        assert_eq!(
            (bad.action, bad.outcome, bad.user_name.as_deref()),
            (Action::LogonFailed, Some(Outcome::Failure), Some("root"))
        );
        assert_eq!(bad.source_ip, Some("198.51.100.8".parse().unwrap()));
        assert_eq!(label_of(&bad, "ses"), None);
        let invalid = one(
            b"type=USER_LOGIN msg=audit(1700000001.5:458): pid=2303 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=attacker.example addr=? terminal=ssh res=failed'",
        );
        assert_eq!(
            (invalid.user_name.as_deref(), invalid.status()),
            (None, Some("invalid_user"))
        );
        assert_eq!(invalid.source_domain.as_deref(), Some("attacker.example"));

        let auth = one(
            b"type=USER_AUTH msg=audit(1700000002.250:459): pid=2304 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication grantors=pam_unix acct=\"bob\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 addr=10.0.0.5 terminal=ssh res=failed'",
        );
        assert_eq!(
            (auth.action, auth.outcome, auth.user_name.as_deref()),
            (Action::Authentication, Some(Outcome::Failure), Some("bob"))
        );
        assert_eq!(label_of(&auth, "op"), Some("PAM:authentication"));
        let start = one(
            b"node=srv2 type=USER_START msg=audit(1700000003.0:460): pid=2305 uid=0 auid=1000 ses=8 msg='op=PAM:session_open grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 addr=10.0.0.5 terminal=ssh res=success'",
        );
        assert_eq!(
            (start.action, start.category, start.host_name.as_deref()),
            (Action::SessionOpened, Some(Category::Session), Some("srv2"))
        );
        let end = one(
            b"type=USER_END msg=audit(1700000004.0:461): pid=2305 uid=0 auid=1000 ses=8 msg='op=PAM:session_close acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.5 addr=10.0.0.5 terminal=ssh res=success'",
        );
        assert_eq!(end.action, Action::SessionClosed);
        let out = one(
            b"type=USER_LOGOUT msg=audit(1700000005.0:462): pid=2305 uid=0 auid=1000 ses=8 msg='op=logout id=1000 exe=\"/usr/sbin/sshd\" hostname=? addr=? terminal=/dev/pts/1 res=success'",
        );
        assert_eq!(out.action, Action::LoggedOut);
        // Records that give no event.
        for quiet in [
            &b"type=USER_ACCT msg=audit(1700000000.1:1): pid=1 msg='op=PAM:accounting acct=\"a\" res=success'"[..],
            b"type=CRED_ACQ msg=audit(1700000000.1:2): pid=1 msg='op=PAM:setcred acct=\"a\" res=success'",
            b"type=CWD msg=audit(1700000000.1:3): cwd=\"/root\"",
            b"type=SYSCALL msg=audit(1700000000.1:4): arch=c000003e syscall=2 success=yes exit=3",
            b"----",
        ] {
            assert!(events(quiet).is_empty());
        }
    }

    #[test]
    fn exec_syscall_and_arguments() {
        let sys = one(
            b"type=SYSCALL msg=audit(1700000010.500:470): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=2310 pid=2311 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=8 comm=\"id\" exe=\"/usr/bin/id\" key=\"exec\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\" GID=\"root\"",
        );
        assert_eq!(
            (sys.action, sys.outcome, sys.category),
            (
                Action::ProcessCreated,
                Some(Outcome::Success),
                Some(Category::Process)
            )
        );
        assert_eq!(sys.user_name.as_deref(), Some("alice"));
        assert_eq!(sys.subject_user(), Some("root"));
        assert_eq!(sys.process_executable(), Some("/usr/bin/id"));
        for (k, v) in [
            ("audit_serial", "470"),
            ("pid", "2311"),
            ("ppid", "2310"),
            ("tty", "pts1"),
            ("comm", "id"),
            ("key", "exec"),
            ("auid", "1000"),
            ("uid", "0"),
        ] {
            assert_eq!(label_of(&sys, k), Some(v), "{k}");
        }
        // Not enriched, another architecture, a hex-encoded exe.
        let arm = one(
            b"type=SYSCALL msg=audit(1700000011.0:471): arch=c00000b7 syscall=221 success=no exit=-2 ppid=1 pid=2 auid=4294967295 uid=33 tty=(none) ses=4294967295 comm=\"sh\" exe=2F746D702F782079 key=(null)",
        );
        assert_eq!(arm.outcome, Some(Outcome::Failure));
        assert_eq!(arm.process_executable(), Some("/tmp/x y"));
        assert_eq!(
            (arm.user_name.as_deref(), label_of(&arm, "auid")),
            (None, None)
        );
        assert_eq!(label_of(&arm, "key"), None);
        assert_eq!(label_of(&arm, "tty"), None);

        let args = one(
            b"type=EXECVE msg=audit(1700000010.500:470): argc=4 a0=\"bash\" a1=\"-c\" a2=6563686F2068656C6C6F a3=\"x\"",
        );
        assert_eq!(args.action, Action::ExecArguments);
        assert_eq!(args.process_command_line(), Some("bash -c echo hello x"));
        assert_eq!(label_of(&args, "argc"), Some("4"));
        assert_eq!(label_of(&args, "audit_serial"), Some("470"));
        // A long argument in pieces.
        let long = one(
            b"type=EXECVE msg=audit(1700000012.0:472): argc=2 a0=\"cat\" a1_len=6 a1[0]=616263 a1[1]=\"def\"",
        );
        assert_eq!(long.process_command_line(), Some("cat abcdef"));
    }

    #[test]
    fn sudo_commands() {
        let s = one(
            b"type=USER_CMD msg=audit(1700000020.0:480): pid=2400 uid=1000 auid=1000 ses=8 msg='cwd=\"/home/alice\" cmd=2F7573722F62696E2F6964202D75 exe=\"/usr/bin/sudo\" terminal=pts/1 res=success'\x1dUID=\"alice\" AUID=\"alice\"",
        );
        assert_eq!(
            (s.action, s.outcome, s.user_name.as_deref()),
            (Action::Sudo, Some(Outcome::Success), Some("alice"))
        );
        assert_eq!(s.subject_user(), None);
        assert_eq!(s.process_command_line(), Some("/usr/bin/id -u"));
        assert_eq!(label_of(&s, "pwd"), Some("/home/alice"));
        assert_eq!(label_of(&s, "tty"), Some("pts/1"));
        // USER_CMD of another program gives nothing.
        assert!(events(b"type=USER_CMD msg=audit(1.0:1): pid=1 msg='cmd=6964 exe=\"/usr/bin/doas\" res=success'").is_empty());
    }

    #[test]
    fn hostile_lines_do_not_panic_and_strings_are_capped() {
        let mut out = Vec::new();
        for bad in [
            &b"type=USER_LOGIN msg=audit(1.1:1): msg='acct=\""[..],
            b"type=USER_LOGIN msg=audit(1.1:1): ='' = == '\x1d\x1d\"",
            b"type=EXECVE msg=audit(1.1:1): a0=F a1=ZZ a2=\"",
            b"type=EXECVE msg=audit(1.1:1): a99999999999=1 a[=2 a1[=3",
            b"type=SYSCALL msg=audit(99999999999.999999999:18446744073709551615): arch= syscall=",
            b"\xff\xfe type=\xff msg=audit(",
            b"type=USER_CMD msg=audit(1.1:1): cmd=\xc3",
        ] {
            let _ = AuditLines.parse_line(bad, &mut out);
        }
        let mut line = b"type=EXECVE msg=audit(1.1:1): argc=9999 ".to_vec();
        for i in 0..400 {
            line.extend_from_slice(format!("a{i}=\"{}\" ", "x".repeat(200)).as_bytes());
        }
        let e = one(&line);
        let cmd = e.process_command_line().unwrap();
        assert!(cmd.len() <= MAX_COMMAND);
        let big = format!(
            "type=USER_LOGIN msg=audit(1.1:1): msg='acct=\"{}\" res=success'",
            "é".repeat(4000)
        );
        let e = one(big.as_bytes());
        assert!(e.user_name.as_ref().unwrap().len() <= MAX_TEXT);
        assert!(AuditLines.parse_line(b"not audit", &mut out).is_err());
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_auditd(
            b"type=DAEMON_START msg=audit(1700000000.000:1): op=start ver=3.0\ntype=CONFIG_CHANGE msg=audit(1700000000.1:2): op=x\n"
        ));
        assert!(looks_like_auditd(
            b"node=web1 type=USER_AUTH msg=audit(1700000000.000:1): pid=1\n"
        ));
        assert!(!looks_like_auditd(b"Jan  5 10:00:00 srv sshd[1]: hello\n"));
        assert!(!looks_like_auditd(b"type=not really\n"));
        assert!(!looks_like_auditd(b""));
    }
}
