//! Zeek records to normalised types: conn.log lines become
//! [`Flow`]s of exactly the shape the flow table builds from captures, the
//! logs that show authentication, remote execution and share access become
//! [`LogEvent`]s, and dns.log answers become naming evidence.
//!
//! | log | category | action | notes |
//! |---|---|---|---|
//! | ssh | authentication | `logged-in`, `logon-failed`, `logon-attempted` (auth_success T, F, unset) | labels `ssh_client`, `ssh_server`, `direction`, `auth_attempts` |
//! | rdp | authentication | `rdp-connection` | cookie is `user.name`, client_name `source.domain`, result in `event.reason` |
//! | smb_mapping | network | `share-accessed` | path is the share (`\\HOST\ADMIN$`), label `share_type` |
//! | smb_files | network | `file-opened`, `file-written`, `file-read`, `file-deleted`, `file-renamed`, `file-closed`, `file-attributes-set`, `smb-file-action` | path is the share, name the file |
//! | dce_rpc | network | `rpc-call` | `lateral.rpc_endpoint` (svcctl, ITaskSchedulerService, IWbemServices), `lateral.rpc_operation` |
//! | kerberos | authentication | `kerberos-tgt-request` (AS), `kerberos-service-ticket` (TGS), `kerberos-request` (neither; an unset request_type is judged by the service: `krbtgt/...` is AS) | client `user/REALM` split into user and domain, service in `service.name` |
//! | ntlm | authentication | `ntlm-authentication` | username, domainname, hostname (`source.domain`), server_nb_computer_name (`destination.domain`) |
//! | dns | network | `dns-answer` | only records with answers: `dns.question.name`, `dns.answers`, `dns.resolved_ip` |
//!
//! Every event has dataset `zeek.<path>`, `source` = `id.orig_h`/`id.orig_p`,
//! `destination` = `id.resp_h`/`id.resp_p`, and the Zeek uid as label
//! `zeek_uid` (to join it with its conn.log record). Text values are kept
//! up to [`MAX_VALUE`] bytes.

use crate::model::Action;
use crate::model::event::{
    Category, ConnState, Duration, Flow, LogEvent, NANOS_PER_SEC, Origin, Outcome, Text, Timestamp,
    Transport, capped_text,
};
use crate::source::Skip;
use crate::source::zeek_record::{Field, LogKind, Record};
use std::net::IpAddr;

/// Parses a decimal number of seconds (`1692161622.036086`, `-0.5`) to nanoseconds.
fn decimal_nanos(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = 0i64;
    let mut scale = NANOS_PER_SEC / 10;
    for b in frac.bytes().take(9) {
        nanos += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    let v = whole.checked_mul(NANOS_PER_SEC)?.checked_add(nanos)?;
    Some(if neg { -v } else { v })
}

/// Parses a Zeek `time`: epoch seconds with a fraction (TSV, JSON
/// `TS_EPOCH`), integer milliseconds (JSON `TS_MILLIS`: 12 digits or more),
/// or ISO 8601 (JSON `TS_ISO8601`). A btest-masked time
/// (`XXXXXXXXXX.XXXXXX`) reads as the epoch.
pub fn parse_zeek_time(s: &str) -> Option<Timestamp> {
    if !s.is_empty() && s.bytes().all(|b| b == b'X' || b == b'.') {
        return Some(Timestamp(0));
    }
    if s.contains('T') || s.contains(' ') {
        return crate::model::event::Timestamp::parse_rfc3339(s);
    }
    if s.len() >= 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s.parse().ok()?;
        return Some(Timestamp(ms.checked_mul(1_000_000)?));
    }
    decimal_nanos(s).map(Timestamp)
}

fn bad(reason: &'static str) -> Skip {
    Skip(reason)
}

fn count(r: &Record<'_>, f: Field) -> Result<Option<u64>, Skip> {
    match r.text(f) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| bad("Zeek count field is not a number")),
    }
}

fn port(r: &Record<'_>, f: Field) -> Option<u16> {
    r.text(f).and_then(|p| p.parse().ok())
}

fn addr(r: &Record<'_>, f: Field) -> Option<IpAddr> {
    r.text(f).and_then(|a| a.parse().ok())
}

/// Longest value kept from a Zeek field (bytes); longer ones are cut, so a
/// hostile log's 1 MiB fields do not grow every event.
pub const MAX_VALUE: usize = 4096;

/// A value as kept: cut to [`MAX_VALUE`].
fn keep(s: &str) -> Text {
    capped_text(s, MAX_VALUE)
}

fn owned(r: &Record<'_>, f: Field) -> Option<Text> {
    r.text(f).map(keep)
}

/// Zeek's `bool`: `T`/`F` in TSV, `true`/`false` in JSON.
fn boolean(r: &Record<'_>, f: Field) -> Option<bool> {
    match r.text(f)? {
        "T" | "true" => Some(true),
        "F" | "false" => Some(false),
        _ => None,
    }
}

/// Parses a conn_state code.
pub fn conn_state(code: &str) -> Option<ConnState> {
    Some(match code {
        "S0" => ConnState::S0,
        "S1" => ConnState::S1,
        "SF" => ConnState::SF,
        "REJ" => ConnState::REJ,
        "S2" => ConnState::S2,
        "S3" => ConnState::S3,
        "RSTO" => ConnState::RSTO,
        "RSTR" => ConnState::RSTR,
        "RSTOS0" => ConnState::RSTOS0,
        "RSTRH" => ConnState::RSTRH,
        "SH" => ConnState::SH,
        "SHR" => ConnState::SHR,
        "OTH" => ConnState::OTH,
        _ => return None,
    })
}

/// Maps a conn.log record to a connection record. Unset counts are 0 and
/// unset `duration`/`orig_bytes`/`resp_bytes` stay unset, as in Zeek;
/// `ip_proto` (absent before Zeek 6) is derived from `proto`.
pub fn flow(r: &Record<'_>, origin: Origin) -> Result<Flow, Skip> {
    let ts = r
        .text(Field::Ts)
        .ok_or(bad("Zeek conn record without ts"))?;
    let ts = parse_zeek_time(ts).ok_or(bad("Zeek time is not a time"))?;
    let orig_h = addr(r, Field::OrigH).ok_or(bad("Zeek conn record without a valid id.orig_h"))?;
    let resp_h = addr(r, Field::RespH).ok_or(bad("Zeek conn record without a valid id.resp_h"))?;
    let orig_p = port(r, Field::OrigP).ok_or(bad("Zeek conn record without a valid id.orig_p"))?;
    let resp_p = port(r, Field::RespP).ok_or(bad("Zeek conn record without a valid id.resp_p"))?;
    let ip_proto_field: Option<u8> = match r.text(Field::IpProto) {
        Some(v) => Some(
            v.parse()
                .map_err(|_| bad("Zeek ip_proto is not a number"))?,
        ),
        None => None,
    };
    let proto = match r.text(Field::Proto) {
        Some("tcp") => Transport::Tcp,
        Some("udp") => Transport::Udp,
        Some("icmp") => Transport::Icmp,
        Some("unknown_transport") => Transport::Other(ip_proto_field.unwrap_or(0)),
        _ => return Err(bad("Zeek conn record without a known proto")),
    };
    let ip_proto = ip_proto_field.unwrap_or(match proto {
        Transport::Tcp => 6,
        Transport::Udp => 17,
        Transport::Icmp if orig_h.is_ipv6() => 58,
        Transport::Icmp => 1,
        Transport::Other(n) => n,
    });
    let duration = match r.text(Field::Duration) {
        Some(d) => Some(Duration(
            decimal_nanos(d).ok_or(bad("Zeek interval is not a number"))?,
        )),
        None => None,
    };
    let state = r
        .text(Field::ConnState)
        .and_then(conn_state)
        .ok_or(bad("Zeek conn record without a known conn_state"))?;
    Ok(Flow {
        ts,
        uid: keep(r.get(Field::Uid).unwrap_or("")),
        orig_h,
        orig_p,
        resp_h,
        resp_p,
        proto,
        service: r.text(Field::Service).map(keep),
        duration,
        orig_bytes: count(r, Field::OrigBytes)?,
        resp_bytes: count(r, Field::RespBytes)?,
        conn_state: state,
        missed_bytes: count(r, Field::MissedBytes)?.unwrap_or(0),
        history: keep(r.get(Field::History).unwrap_or("")),
        orig_pkts: count(r, Field::OrigPkts)?.unwrap_or(0),
        orig_ip_bytes: count(r, Field::OrigIpBytes)?.unwrap_or(0),
        resp_pkts: count(r, Field::RespPkts)?.unwrap_or(0),
        resp_ip_bytes: count(r, Field::RespIpBytes)?.unwrap_or(0),
        ip_proto,
        origin: Some(origin),
    })
}

fn outcome(ok: Option<bool>) -> Outcome {
    match ok {
        Some(true) => Outcome::Success,
        Some(false) => Outcome::Failure,
        None => Outcome::Unknown,
    }
}

fn label(e: &mut LogEvent, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        e.push_label(key.into(), keep(v));
    }
}

/// The fields every Zeek event shares: time, endpoints, dataset, uid.
fn base(r: &Record<'_>, dataset: &str) -> Result<LogEvent, Skip> {
    let ts = r.text(Field::Ts).ok_or(bad("Zeek record without ts"))?;
    let mut e = LogEvent {
        ts: parse_zeek_time(ts).ok_or(bad("Zeek time is not a time"))?,
        dataset: dataset.to_string().into(),
        source_ip: addr(r, Field::OrigH),
        source_port: port(r, Field::OrigP),
        destination_ip: addr(r, Field::RespH),
        destination_port: port(r, Field::RespP),
        ..LogEvent::default()
    };
    label(&mut e, "zeek_uid", r.text(Field::Uid));
    Ok(e)
}

/// The Windows spelling (`0x17`) of a Zeek Kerberos cipher name (`rc4-hmac`).
fn etype_hex(cipher: &str) -> Option<&'static str> {
    Some(match cipher {
        "des-cbc-crc" => "0x1",
        "des-cbc-md5" => "0x3",
        "aes128-cts-hmac-sha1-96" => "0x11",
        "aes256-cts-hmac-sha1-96" => "0x12",
        "rc4-hmac" => "0x17",
        "rc4-hmac-exp" => "0x18",
        _ => return None,
    })
}

/// Splits Kerberos `user/REALM` (or `user@REALM`) into (user, realm).
fn split_principal(s: &str) -> (Text, Option<Text>) {
    match s.split_once(['/', '@']) {
        Some((u, d)) if !u.is_empty() => (keep(u), Some(keep(d))),
        _ => (keep(s), None),
    }
}

/// Maps a record of a non-conn log to events (none for logs not mapped,
/// and for dns records without answers); a mapped record without a valid
/// `ts` is skipped.
pub fn events(kind: LogKind, r: &Record<'_>, out: &mut Vec<LogEvent>) -> Result<(), Skip> {
    let e = match kind {
        LogKind::Conn | LogKind::Other => return Ok(()),
        LogKind::Ssh => {
            let mut e = base(r, "zeek.ssh")?;
            let ok = boolean(r, Field::AuthSuccess);
            e.category = Some(Category::Authentication);
            e.action = match ok {
                Some(true) => Action::LoggedIn,
                Some(false) => Action::LogonFailed,
                None => Action::LogonAttempted,
            };
            e.outcome = Some(outcome(ok));
            e.set_logon_process(Some("sshd".into()));
            label(&mut e, "ssh_client", r.text(Field::Client));
            label(&mut e, "ssh_server", r.text(Field::Server));
            label(&mut e, "direction", r.text(Field::Direction));
            label(&mut e, "auth_attempts", r.text(Field::AuthAttempts));
            e
        }
        LogKind::Rdp => {
            let mut e = base(r, "zeek.rdp")?;
            e.category = Some(Category::Authentication);
            e.action = Action::RdpConnection;
            let result = r.text(Field::Result);
            e.outcome = Some(match result {
                Some(x) if x.eq_ignore_ascii_case("success") => Outcome::Success,
                Some(_) => Outcome::Failure,
                None => Outcome::Unknown,
            });
            e.set_status(result.map(keep));
            e.user_name = r
                .text(Field::Cookie)
                .map(|c| keep(c.strip_prefix("mstshash=").unwrap_or(c)));
            e.source_domain = owned(r, Field::ClientName);
            label(&mut e, "security_protocol", r.text(Field::SecurityProtocol));
            e
        }
        LogKind::SmbMapping => {
            let mut e = base(r, "zeek.smb_mapping")?;
            e.category = Some(Category::Network);
            e.action = Action::ShareAccessed;
            e.outcome = Some(Outcome::Success);
            e.set_share_name(owned(r, Field::Path));
            label(&mut e, "share_type", r.text(Field::ShareType));
            label(&mut e, "smb_service", r.text(Field::Service));
            e
        }
        LogKind::SmbFiles => {
            let mut e = base(r, "zeek.smb_files")?;
            e.category = Some(Category::Network);
            let action = r.text(Field::Action).unwrap_or("");
            e.action = match action.strip_prefix("SMB::").unwrap_or(action) {
                "FILE_OPEN" => Action::FileOpened,
                "FILE_WRITE" => Action::FileWritten,
                "FILE_READ" => Action::FileRead,
                "FILE_DELETE" => Action::FileDeleted,
                "FILE_RENAME" => Action::FileRenamed,
                "FILE_CLOSE" => Action::FileClosed,
                "FILE_SET_ATTRIBUTE" => Action::FileAttributesSet,
                _ => Action::SmbFileAction,
            };
            e.outcome = Some(Outcome::Success);
            e.set_share_name(owned(r, Field::Path));
            e.set_share_target(owned(r, Field::Name));
            label(&mut e, "smb_action", Some(action).filter(|a| !a.is_empty()));
            e
        }
        LogKind::DceRpc => {
            let mut e = base(r, "zeek.dce_rpc")?;
            e.category = Some(Category::Network);
            e.action = Action::RpcCall;
            e.outcome = Some(Outcome::Unknown);
            e.set_rpc_endpoint(owned(r, Field::Endpoint));
            e.set_rpc_operation(owned(r, Field::Operation));
            label(&mut e, "named_pipe", r.text(Field::NamedPipe));
            e
        }
        LogKind::Kerberos => {
            let mut e = base(r, "zeek.kerberos")?;
            e.category = Some(Category::Authentication);
            e.auth_method = Some("Kerberos".into());
            let service = r.text(Field::Service);
            e.action = match r.text(Field::RequestType) {
                Some("AS") => Action::KerberosTgtRequest,
                Some("TGS") => Action::KerberosServiceTicket,
                // Unset: a ticket for krbtgt is a TGT, for another service a TGS.
                None if service.is_some_and(|s| s.starts_with("krbtgt/")) => {
                    Action::KerberosTgtRequest
                }
                None if service.is_some() => Action::KerberosServiceTicket,
                _ => Action::KerberosRequest,
            };
            e.outcome = Some(outcome(boolean(r, Field::Success)));
            match r.text(Field::Client) {
                // An AP request's client: the realm alone (`/REALM`).
                Some(c) if c.starts_with('/') => {
                    e.user_domain = c.get(1..).filter(|d| !d.is_empty()).map(keep);
                }
                Some(c) => {
                    let (u, d) = split_principal(c);
                    e.user_name = Some(u);
                    e.user_domain = d;
                }
                None => {}
            }
            e.set_service_name(service.map(keep));
            e.set_status(owned(r, Field::ErrorMsg));
            let cipher = r.text(Field::Cipher);
            label(&mut e, "cipher", cipher);
            // The ticket's encryption type as Windows 4769 writes it, so
            // the rules that read host logs (kerberoasting) read Zeek's too.
            label(&mut e, "ticket_encryption_type", cipher.and_then(etype_hex));
            e
        }
        LogKind::Ntlm => {
            let mut e = base(r, "zeek.ntlm")?;
            e.category = Some(Category::Authentication);
            e.action = Action::NtlmAuthentication;
            e.auth_method = Some("NTLM".into());
            e.outcome = Some(outcome(boolean(r, Field::Success)));
            e.user_name = owned(r, Field::Username);
            e.user_domain = owned(r, Field::Domainname);
            e.source_domain = owned(r, Field::Hostname);
            e.destination_domain = owned(r, Field::ServerNbComputerName)
                .or_else(|| owned(r, Field::ServerDnsComputerName));
            e
        }
        LogKind::Dns => {
            if r.answers.iter().all(|a| a.is_empty()) {
                return Ok(());
            }
            let mut e = base(r, "zeek.dns")?;
            e.category = Some(Category::Network);
            e.action = Action::DnsAnswer;
            e.outcome = Some(Outcome::Success);
            e.set_dns_question(owned(r, Field::Query));
            for a in r.answers.iter().filter(|a| !a.is_empty()) {
                e.push_dns_answer(keep(a));
            }
            label(&mut e, "qtype_name", r.text(Field::QtypeName));
            e
        }
    };
    out.push(e);
    Ok(())
}
