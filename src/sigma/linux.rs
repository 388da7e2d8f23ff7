//! Linux records as Sigma sees them: syslog lines (`/var/log/auth.log`,
//! `/var/log/secure`, `/var/log/syslog`, RFC 5424), `journalctl -o json`
//! exports and auditd's `audit.log`, each under the logsource and field
//! names SigmaHQ's Linux rules are written for.
//!
//! Part of the `sigma` stage: [`crate::sigma::scan`] reads the lines and
//! evaluates the records built here.
//!
//! * **syslog and journald**: product `linux`, the services of the
//!   program that wrote the line ([`services_of`]: `sshd`, `sudo`, `su`,
//!   `cron`, `vsftpd`, `clamav`, `guacamole`, each also `syslog`, and those
//!   of authentication also `auth`); the only field is `message`, so that
//!   keyword rules search the message line, not the host or program.
//! * **auditd**: product `linux`, service `auditd`; the fields are the
//!   record's `type` and every `key=value` as written (untrusted strings
//!   decoded from hex, an argument cut into pieces `a1[0]`, `a1[1]` joined
//!   again as `a1`, a `SYSCALL` named by number as `SYSCALL` when the log
//!   is not enriched).
//! * **process creation**: an `EXECVE` record is also category
//!   `process_creation`, with the fields of Sigma's Linux process creation
//!   taken from the records of its audit event: `Image` (the `SYSCALL`'s
//!   `exe`), `CommandLine` (the arguments joined by spaces),
//!   `CurrentDirectory` (the `CWD`'s `cwd`), `User` (the enriched `UID`
//!   name, else the `uid`), `ProcessId`, `ParentProcessId`, and, when the
//!   parent's own execution was logged earlier in the same file,
//!   `ParentImage` and `ParentCommandLine`.
//!
//! The records of one audit event are joined by its serial (and `node=`),
//! also when the records of other events come in between ([`AuditJoin`]:
//! up to [`MAX_OPEN`] events at once). `ausearch -i` output (local times,
//! names in place of numbers, `----` between events) is read the same way.

use super::record::{Linux, Record, bounded};
use crate::model::event::Timestamp;
use crate::source::{auditd, auditd_join, syslog};
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use std::net::IpAddr;

/// Sigma's Linux services a record can belong to.
pub const SERVICES: &[&str] = &[
    "auditd",
    "auth",
    "clamav",
    "cron",
    "guacamole",
    "sshd",
    "su",
    "sudo",
    "syslog",
    "vsftpd",
];

/// The categories a Linux record can have.
pub const CATEGORIES: &[&str] = &["process_creation"];

/// The longest field value kept (bytes).
const MAX_VALUE: usize = 64 * 1024;

/// Processes remembered for `ParentImage` (forgotten all at once beyond).
const MAX_PROCESSES: usize = 1 << 16;

/// Audit events read at once (their records interleaved); beyond, the
/// oldest is joined with what it has and let go.
pub const MAX_OPEN: usize = auditd_join::MAX_OPEN;

/// The services of a syslog line written by `program`.
pub fn services_of(program: &str, msg: &str) -> &'static [&'static str] {
    let pam = msg.starts_with("pam_unix(");
    match program {
        "sshd" | "sshd-session" => &["sshd", "auth", "syslog"],
        "sudo" => &["sudo", "auth", "syslog"],
        "su" => &["su", "auth", "syslog"],
        "login" | "passwd" | "useradd" | "userdel" | "usermod" | "groupadd" | "groupdel"
        | "groupmod" | "chpasswd" | "chage" | "gpasswd" | "newgrp" | "chsh" | "chfn"
        | "systemd-logind" | "polkitd" | "pkexec" | "unix_chkpwd" => &["auth", "syslog"],
        "cron" | "CRON" | "crond" | "anacron" if pam => &["cron", "auth", "syslog"],
        "cron" | "CRON" | "crond" | "anacron" => &["cron", "syslog"],
        "vsftpd" => &["vsftpd", "syslog"],
        "clamd" | "freshclam" | "clamav" | "clamscan" => &["clamav", "syslog"],
        "guacd" | "guacamole" => &["guacamole", "syslog"],
        _ if pam => &["auth", "syslog"],
        _ => &["syslog"],
    }
}

/// The record of one syslog line's parts: its message, and the account
/// and address lateral's own reading of the line names.
pub fn from_syslog(rec: &syslog::Record<'_>) -> Record {
    let mut fields = Map::new();
    fields.insert(
        "message".into(),
        Value::String(bounded(rec.msg, MAX_VALUE).to_string()),
    );
    let mut events = Vec::new();
    syslog::classify(rec, &mut events);
    let user = events
        .iter()
        .find_map(|e| e.user_name.as_ref())
        .map(|u| u.to_string());
    let source_ip = events.iter().find_map(|e| e.source_ip);
    Record {
        fields: Value::Object(fields),
        ts: Some(rec.ts),
        linux: Some(Linux {
            services: services_of(rec.app, rec.msg),
            category: None,
            host: (!rec.host.is_empty() && rec.host != "-")
                .then(|| bounded(rec.host, 512).to_string()),
            user,
            source_ip,
        }),
    }
}

/// One syslog line (RFC 3164, high-precision, RFC 5424) as a record;
/// `None` when it is not one.
pub fn from_syslog_line(line: &[u8], cfg: &syslog::SyslogConfig) -> Option<Record> {
    let text = String::from_utf8_lossy(line);
    let rec = syslog::parse_record(text.trim_end_matches('\r'), cfg)?;
    Some(from_syslog(&rec))
}

/// One `journalctl -o json` entry as a record; `None` when it is not one
/// (no `__REALTIME_TIMESTAMP` or no `MESSAGE`).
pub fn from_journal_line(line: &[u8]) -> Option<Record> {
    let v: Value = serde_json::from_slice(line).ok()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    let micros: i64 = text("__REALTIME_TIMESTAMP")?.parse().ok()?;
    let msg = match v.get("MESSAGE")? {
        Value::String(s) => s.clone(),
        // Binary messages are exported as arrays of byte values.
        Value::Array(a) => {
            let bytes: Vec<u8> = a
                .iter()
                .filter_map(Value::as_u64)
                .filter_map(|b| u8::try_from(b).ok())
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => return None,
    };
    let rec = syslog::Record {
        ts: Timestamp(micros.saturating_mul(1000)),
        host: text("_HOSTNAME").unwrap_or(""),
        app: text("SYSLOG_IDENTIFIER")
            .or_else(|| text("_COMM"))
            .unwrap_or(""),
        msg: &msg,
    };
    Some(from_syslog(&rec))
}

/// One audit record (a line of `audit.log`, raw or from `ausearch -i`
/// with local times `utc_offset` seconds ahead of UTC) as a record, with
/// its serial; `None` when the line is not one.
fn from_audit_line(text: &str, utc_offset: i64) -> Option<(u64, Record)> {
    let h = auditd::parse_header_at(text, utc_offset)?;
    let mut fields = Map::new();
    fields.insert("type".into(), Value::String(bounded(h.kind, 256).into()));
    for (key, v) in auditd::decoded_pairs(&h) {
        if key.is_empty() {
            continue;
        }
        // A long argument comes in pieces: `a1[0]`, `a1[1]`, ...
        if let Some((arg, _)) = key.split_once('[') {
            match fields.get_mut(arg) {
                Some(Value::String(s)) if s.len() < MAX_VALUE => s.push_str(&v),
                Some(_) => {}
                None => {
                    fields.insert(arg.into(), Value::String(v.into_owned()));
                }
            }
            continue;
        }
        if !fields.contains_key(key) {
            fields.insert(
                key.into(),
                Value::String(bounded(&v, MAX_VALUE).to_string()),
            );
        }
    }
    if h.kind == "SYSCALL"
        && !fields.contains_key("SYSCALL")
        && let (Some(Value::String(arch)), Some(Value::String(n))) =
            (fields.get("arch"), fields.get("syscall"))
    {
        // `ausearch -i` names the call itself (`syscall=execve`).
        let name = auditd::syscall_name(arch, n)
            .map(str::to_string)
            .or_else(|| {
                (h.interpreted && !n.bytes().all(|b| b.is_ascii_digit())).then(|| n.clone())
            });
        if let Some(name) = name {
            fields.insert("SYSCALL".into(), Value::String(name));
        }
    }
    let get = |k: &str| match fields.get(k) {
        Some(Value::String(s)) if !matches!(s.as_str(), "" | "?" | "(null)" | "unset") => {
            Some(s.clone())
        }
        _ => None,
    };
    let user = get("AUID")
        .filter(|u| u != "unset")
        .or_else(|| get("acct"))
        .or_else(|| get("ID"))
        .or_else(|| get("UID"));
    let source_ip = get("addr").and_then(|a| a.parse::<IpAddr>().ok());
    let linux = Linux {
        services: &["auditd"],
        category: None,
        host: h.node.map(|n| bounded(n, 512).to_string()),
        user,
        source_ip,
    };
    Some((
        h.serial,
        Record {
            fields: Value::Object(fields),
            ts: Some(h.ts),
            linux: Some(linux),
        },
    ))
}

/// Reads an `audit.log` line by line, joining the records of each audit
/// event (by its serial, records of up to [`MAX_OPEN`] events interleaved,
/// with [`auditd_join::Joiner`], the join the main pipeline uses too) so
/// that an `EXECVE` record is also a process creation.
///
/// An event is joined when its `EOE` record comes, at `ausearch`'s `----`
/// separator, when more than [`MAX_OPEN`] events are open (the oldest
/// first: counted in [`AuditJoin::evicted`] when it had a `SYSCALL` but no
/// end yet) and at the end of the input.
#[derive(Debug, Default)]
pub struct AuditJoin {
    /// The offset from UTC of `ausearch -i`'s local times, in seconds.
    utc_offset: i64,
    /// The events being read, with their records' line numbers.
    join: auditd_join::Joiner<(u64, Record)>,
    /// Per process id, the image and command line of its last execution.
    processes: FxHashMap<String, (String, String)>,
    /// Events with a `SYSCALL` record let go before their end because
    /// more than [`MAX_OPEN`] events were open.
    pub evicted: u64,
}

impl AuditJoin {
    /// A join for logs whose `ausearch -i` times are `utc_offset` seconds
    /// ahead of UTC (raw `audit.log` times are UTC whatever it is).
    pub fn new(utc_offset: i64) -> AuditJoin {
        AuditJoin {
            utc_offset,
            ..AuditJoin::default()
        }
    }

    /// Reads line `no`; records whose event is complete go to `out`.
    /// False when the line is not an audit record (`ausearch`'s `----`
    /// separator ends every open event).
    pub fn push(&mut self, no: u64, line: &[u8], out: &mut Vec<(u64, Record)>) -> bool {
        let text = String::from_utf8_lossy(line);
        let processes = &mut self.processes;
        if auditd_join::is_separator(&text) {
            self.join.finish(&mut |g| flush(processes, g, out));
            return false;
        }
        let Some((serial, rec)) = from_audit_line(text.trim_end_matches('\r'), self.utc_offset)
        else {
            return false;
        };
        let host = rec.linux.as_ref().and_then(|l| l.host.clone());
        let kind = text_of(&rec, "type").unwrap_or("").to_string();
        self.join
            .push(host.as_deref(), serial, &kind, (no, rec), &mut |g| {
                flush(processes, g, out)
            });
        self.evicted = self.join.evicted;
        true
    }

    /// The records of every event still open, oldest first.
    pub fn finish(&mut self, out: &mut Vec<(u64, Record)>) {
        let processes = &mut self.processes;
        self.join.finish(&mut |g| flush(processes, g, out));
    }
}

/// Joins one event's records and hands them on.
fn flush(
    processes: &mut FxHashMap<String, (String, String)>,
    mut group: Vec<(u64, Record)>,
    out: &mut Vec<(u64, Record)>,
) {
    let find = |g: &[(u64, Record)], kind: &str| {
        g.iter().position(|(_, r)| text_of(r, "type") == Some(kind))
    };
    let syscall = find(&group, "SYSCALL")
        .and_then(|i| group.get(i))
        .map(|(_, r)| {
            let t = |k: &str| text_of(r, k).map(str::to_string);
            (
                t("exe"),
                t("pid"),
                t("ppid"),
                t("UID").or_else(|| t("uid")),
                r.linux.clone(),
            )
        });
    let cwd = find(&group, "CWD")
        .and_then(|i| group.get(i))
        .and_then(|(_, r)| text_of(r, "cwd").map(str::to_string));
    if let Some(i) = find(&group, "EXECVE")
        && let Some((_, rec)) = group.get_mut(i)
    {
        let command_line = arguments(rec);
        let (exe, pid, ppid, user, linux) = syscall.unwrap_or_default();
        let parent = ppid.as_ref().and_then(|p| processes.get(p)).cloned();
        if let Value::Object(m) = &mut rec.fields {
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v
                    && !m.contains_key(k)
                {
                    m.insert(k.into(), Value::String(v));
                }
            };
            put("Image", exe.clone());
            put("CommandLine", Some(command_line.clone()));
            put("CurrentDirectory", cwd);
            put("User", user);
            put("ProcessId", pid.clone());
            put("ParentProcessId", ppid);
            if let Some((image, cmd)) = parent {
                put("ParentImage", Some(image));
                put("ParentCommandLine", Some(cmd));
            }
        }
        if let Some(l) = &mut rec.linux {
            l.category = Some("process_creation");
            if let Some(from) = linux {
                l.host = l.host.take().or(from.host);
                l.user = l.user.take().or(from.user);
            }
        }
        if let (Some(pid), Some(exe)) = (pid, exe) {
            if processes.len() >= MAX_PROCESSES {
                processes.clear();
            }
            processes.insert(pid, (exe, command_line));
        }
    }
    out.append(&mut group);
}

/// A field of a record as text.
fn text_of<'a>(rec: &'a Record, key: &str) -> Option<&'a str> {
    rec.fields.get(key).and_then(Value::as_str)
}

/// An `EXECVE` record's arguments `a0`, `a1`, … in order, joined by spaces.
fn arguments(rec: &Record) -> String {
    let Value::Object(m) = &rec.fields else {
        return String::new();
    };
    let mut args: Vec<(u32, &str)> = m
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix('a')?;
            if n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((n.parse().ok()?, v.as_str()?))
        })
        .collect();
    args.sort_by_key(|(n, _)| *n);
    let mut line = String::new();
    for (i, (_, a)) in args.iter().enumerate() {
        if line.len() >= MAX_VALUE {
            break;
        }
        if i > 0 {
            line.push(' ');
        }
        line.push_str(a);
    }
    bounded(&line, MAX_VALUE).to_string()
}
