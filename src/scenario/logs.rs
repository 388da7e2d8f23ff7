//! Log records of the simulated servers and their writers: Windows
//! Security and System events as Winlogbeat-shaped JSON Lines
//! (`logs/<host>.security.jsonl`, `logs/<host>.system.jsonl`, read by
//! [`crate::source::winsec`]) and sshd/pam/sudo lines of Linux servers in
//! rsyslog's high-precision format (`logs/<host>.auth.log`,
//! `2011-07-25T10:00:01.123456+00:00 lnx01 sshd[811]: ...`, read by
//! [`crate::source::syslog`] with no year to guess).
//!
//! Records are built by the traffic generators next to the packets they
//! describe (same addresses, ports, users and times within a second), then
//! sorted per file and written bucket by bucket.

use crate::model::event::Timestamp;
use crate::scenario::network::{DOMAIN, Host, NETBIOS_DOMAIN};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The body of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogBody {
    /// A Windows event: id and `event_data` fields in order.
    Win {
        /// Event id (4624, 7045, ...).
        id: u16,
        /// `event_data` name/value pairs.
        data: Vec<(&'static str, String)>,
    },
    /// A syslog message from `app[pid]`.
    Sys {
        /// Program name (`sshd`, `sudo`).
        app: &'static str,
        /// Process id.
        pid: u32,
        /// The message.
        msg: String,
    },
}

/// One record for the log of host `host` (an index in the network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRec {
    /// Event time.
    pub ts: Timestamp,
    /// The host whose log holds the record.
    pub host: usize,
    /// What it says.
    pub body: LogBody,
}

/// How a Windows logon authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Kerberos ticket.
    Kerberos,
    /// NTLM (v2).
    Ntlm,
    /// Negotiate (RDP with NLA).
    Negotiate,
}

/// The address a Windows server logs for a logon from `host` on client
/// port `port`: its IPv4 address (mapped into IPv6, as Windows writes it),
/// or in dual-stack networks its unique-local or link-local IPv6 address,
/// chosen by the port so that one host shows up under all of them.
fn logon_address(host: &Host, port: u16) -> String {
    match (host.v6, host.link_local) {
        (Some(_), Some(ll)) if port % 4 == 1 => ll.to_string(),
        (Some(v6), Some(_)) if !port.is_multiple_of(4) => v6.to_string(),
        (Some(v6), None) if port.is_multiple_of(2) => v6.to_string(),
        _ => format!("::ffff:{}", host.ip),
    }
}

fn win(ts: Timestamp, host: usize, id: u16, data: Vec<(&'static str, String)>) -> LogRec {
    LogRec {
        ts,
        host,
        body: LogBody::Win { id, data },
    }
}

/// Where a logon came from.
#[derive(Debug, Clone, Copy)]
pub struct Peer<'a> {
    /// The client host.
    pub host: &'a Host,
    /// Its source port.
    pub port: u16,
}

/// 4624 (success) on `server` for `user` from `peer`, logon type `lt`.
pub fn logon(
    ts: Timestamp,
    server: usize,
    user: &str,
    lt: u8,
    peer: Peer<'_>,
    auth: Auth,
) -> LogRec {
    let (process, package, ws) = match auth {
        Auth::Kerberos => ("Kerberos", "Kerberos", "-".to_string()),
        Auth::Ntlm => ("NtLmSsp ", "NTLM", peer.host.netbios()),
        Auth::Negotiate => ("User32 ", "Negotiate", peer.host.netbios()),
    };
    win(
        ts,
        server,
        4624,
        vec![
            ("SubjectUserSid", "S-1-0-0".into()),
            ("SubjectUserName", "-".into()),
            ("TargetUserName", user.into()),
            ("TargetDomainName", NETBIOS_DOMAIN.into()),
            ("LogonType", lt.to_string()),
            ("LogonProcessName", process.into()),
            ("AuthenticationPackageName", package.into()),
            ("WorkstationName", ws),
            (
                "LmPackageName",
                if auth == Auth::Ntlm { "NTLM V2" } else { "-" }.into(),
            ),
            ("IpAddress", logon_address(peer.host, peer.port)),
            ("IpPort", peer.port.to_string()),
        ],
    )
}

/// 4625 (failure, bad password) on `server` for `user` from `peer`.
pub fn logon_failed(ts: Timestamp, server: usize, user: &str, lt: u8, peer: Peer<'_>) -> LogRec {
    win(
        ts,
        server,
        4625,
        vec![
            ("SubjectUserSid", "S-1-0-0".into()),
            ("TargetUserName", user.into()),
            ("TargetDomainName", NETBIOS_DOMAIN.into()),
            ("Status", "0xc000006d".into()),
            ("SubStatus", "0xc000006a".into()),
            ("LogonType", lt.to_string()),
            ("LogonProcessName", "NtLmSsp ".into()),
            ("AuthenticationPackageName", "NTLM".into()),
            ("WorkstationName", peer.host.netbios()),
            ("LmPackageName", "-".into()),
            ("IpAddress", logon_address(peer.host, peer.port)),
            ("IpPort", peer.port.to_string()),
        ],
    )
}

/// 4634 logoff on `server`.
pub fn logoff(ts: Timestamp, server: usize, user: &str, lt: u8) -> LogRec {
    win(
        ts,
        server,
        4634,
        vec![
            ("TargetUserName", user.into()),
            ("TargetDomainName", NETBIOS_DOMAIN.into()),
            ("LogonType", lt.to_string()),
        ],
    )
}

/// 4672: special privileges assigned to an administrator's new logon.
pub fn privileged(ts: Timestamp, server: usize, user: &str) -> LogRec {
    win(
        ts,
        server,
        4672,
        vec![
            ("SubjectUserName", user.into()),
            ("SubjectDomainName", NETBIOS_DOMAIN.into()),
            (
                "PrivilegeList",
                "SeBackupPrivilege SeRestorePrivilege SeDebugPrivilege SeImpersonatePrivilege"
                    .into(),
            ),
        ],
    )
}

/// 4768 (TGT) or 4769 (service ticket for `service`) on a domain controller.
pub fn kerberos(
    ts: Timestamp,
    dc: usize,
    user: &str,
    service: &str,
    peer: Peer<'_>,
    tgt: bool,
) -> LogRec {
    win(
        ts,
        dc,
        if tgt { 4768 } else { 4769 },
        vec![
            // 4768 names the account alone, 4769 as user@REALM, as Windows writes them.
            (
                "TargetUserName",
                if tgt {
                    user.to_string()
                } else {
                    format!("{user}@{}", DOMAIN.to_ascii_uppercase())
                },
            ),
            ("TargetDomainName", DOMAIN.to_ascii_uppercase()),
            ("ServiceName", service.into()),
            ("TicketOptions", "0x40810010".into()),
            ("Status", "0x0".into()),
            ("TicketEncryptionType", "0x12".into()),
            ("IpAddress", logon_address(peer.host, peer.port)),
            ("IpPort", peer.port.to_string()),
        ],
    )
}

/// 4776: NTLM credential validation on a domain controller (`ok` or bad password).
pub fn ntlm_validation(
    ts: Timestamp,
    dc: usize,
    user: &str,
    workstation: &Host,
    ok: bool,
) -> LogRec {
    win(
        ts,
        dc,
        4776,
        vec![
            (
                "PackageName",
                "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0".into(),
            ),
            ("TargetUserName", user.into()),
            ("Workstation", workstation.netbios()),
            ("Status", if ok { "0x0" } else { "0xc000006a" }.into()),
        ],
    )
}

/// 5140 (share accessed) or 5145 (object in a share checked, with `target`).
pub fn share(
    ts: Timestamp,
    server: usize,
    user: &str,
    share: &str,
    target: Option<&str>,
    peer: Peer<'_>,
) -> LogRec {
    let mut data = vec![
        ("SubjectUserName", user.to_string()),
        ("SubjectDomainName", NETBIOS_DOMAIN.to_string()),
        ("ObjectType", "File".into()),
        ("IpAddress", peer.host.ip.to_string()),
        ("IpPort", peer.port.to_string()),
        ("ShareName", format!("\\\\*\\{share}")),
    ];
    let id = match target {
        Some(t) => {
            data.push(("RelativeTargetName", t.to_string()));
            data.push(("AccessMask", "0x2".into()));
            5145
        }
        None => {
            data.push(("AccessMask", "0x1".into()));
            5140
        }
    };
    win(ts, server, id, data)
}

/// 7045 (System) or 4697 (Security): a service was installed.
pub fn service_installed(
    ts: Timestamp,
    server: usize,
    user: &str,
    name: &str,
    image: &str,
    system: bool,
) -> LogRec {
    let data = if system {
        vec![
            ("ServiceName", name.to_string()),
            ("ImagePath", image.to_string()),
            ("ServiceType", "user mode service".into()),
            ("StartType", "demand start".into()),
            ("AccountName", "LocalSystem".into()),
        ]
    } else {
        vec![
            ("SubjectUserName", user.to_string()),
            ("SubjectDomainName", NETBIOS_DOMAIN.to_string()),
            ("ServiceName", name.to_string()),
            ("ServiceFileName", image.to_string()),
            ("ServiceType", "0x10".into()),
            ("ServiceStartType", "3".into()),
            ("ServiceAccount", "LocalSystem".into()),
        ]
    };
    win(ts, server, if system { 7045 } else { 4697 }, data)
}

/// One syslog line for Linux server `host`.
pub fn sys(ts: Timestamp, host: usize, app: &'static str, pid: u32, msg: String) -> LogRec {
    LogRec {
        ts,
        host,
        body: LogBody::Sys { app, pid, msg },
    }
}

fn message(id: u16) -> &'static str {
    match id {
        4624 => "An account was successfully logged on.",
        4625 => "An account failed to log on.",
        4634 => "An account was logged off.",
        4672 => "Special privileges assigned to new logon.",
        4697 => "A service was installed in the system.",
        4768 => "A Kerberos authentication ticket (TGT) was requested.",
        4769 => "A Kerberos service ticket was requested.",
        4776 => "The computer attempted to validate the credentials for an account.",
        5140 => "A network share object was accessed.",
        5145 => {
            "A network share object was checked to see whether client can be granted desired access."
        }
        7045 => "A service was installed in the system.",
        _ => "",
    }
}

/// Appends `s` as a JSON string.
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Which file of a host a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Security,
    System,
    Auth,
}

fn kind_of(body: &LogBody) -> Kind {
    match body {
        LogBody::Win { id: 7045, .. } => Kind::System,
        LogBody::Win { .. } => Kind::Security,
        LogBody::Sys { .. } => Kind::Auth,
    }
}

struct LogFile {
    out: BufWriter<File>,
    records: u64,
}

/// The open log files of one generation run.
pub struct LogWriter {
    dir: PathBuf,
    files: BTreeMap<(usize, Kind), LogFile>,
    line: Vec<u8>,
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl LogWriter {
    /// Writes into `dir` (created if missing).
    pub fn new(dir: &Path) -> io::Result<LogWriter> {
        std::fs::create_dir_all(dir)?;
        Ok(LogWriter {
            dir: dir.to_path_buf(),
            files: BTreeMap::new(),
            line: Vec::with_capacity(1024),
            records: 0,
            bytes: 0,
        })
    }

    /// Writes records (already in time order per host) using the host table for names.
    pub fn write(&mut self, hosts: &[Host], recs: &[LogRec]) -> io::Result<()> {
        for r in recs {
            let Some(host) = hosts.get(r.host) else {
                continue;
            };
            let kind = kind_of(&r.body);
            let key = (r.host, kind);
            if !self.files.contains_key(&key) {
                let suffix = match kind {
                    Kind::Security => "security.jsonl",
                    Kind::System => "system.jsonl",
                    Kind::Auth => "auth.log",
                };
                let f = File::create(self.dir.join(format!("{}.{suffix}", host.name)))?;
                self.files.insert(
                    key,
                    LogFile {
                        out: BufWriter::with_capacity(256 << 10, f),
                        records: 0,
                    },
                );
            }
            let Some(file) = self.files.get_mut(&key) else {
                continue;
            };
            file.records += 1;
            self.line.clear();
            render(r, host, file.records, &mut self.line);
            file.out.write_all(&self.line)?;
            self.records += 1;
            self.bytes += self.line.len() as u64;
        }
        Ok(())
    }

    /// Flushes every file.
    pub fn finish(self) -> io::Result<()> {
        for (_, mut f) in self.files {
            f.out.flush()?;
        }
        Ok(())
    }
}

fn render(r: &LogRec, host: &Host, record_id: u64, out: &mut Vec<u8>) {
    match &r.body {
        LogBody::Win { id, data } => {
            let (channel, provider) = if *id == 7045 {
                ("System", "Service Control Manager")
            } else {
                ("Security", "Microsoft-Windows-Security-Auditing")
            };
            out.extend_from_slice(b"{\"@timestamp\":\"");
            r.ts.write_rfc3339_micros(out);
            out.extend_from_slice(b"\",\"event\":{\"code\":\"");
            out.extend_from_slice(id.to_string().as_bytes());
            out.extend_from_slice(b"\",\"kind\":\"event\",\"provider\":\"");
            out.extend_from_slice(provider.as_bytes());
            out.extend_from_slice(b"\"},\"host\":{\"name\":\"");
            out.extend_from_slice(host.name.as_bytes());
            out.extend_from_slice(b"\"},\"winlog\":{\"channel\":\"");
            out.extend_from_slice(channel.as_bytes());
            out.extend_from_slice(b"\",\"computer_name\":\"");
            out.extend_from_slice(host.fqdn().as_bytes());
            out.extend_from_slice(b"\",\"event_id\":\"");
            out.extend_from_slice(id.to_string().as_bytes());
            out.extend_from_slice(b"\",\"provider_name\":\"");
            out.extend_from_slice(provider.as_bytes());
            out.extend_from_slice(b"\",\"record_id\":");
            out.extend_from_slice(record_id.to_string().as_bytes());
            out.extend_from_slice(b",\"event_data\":{");
            for (k, (name, value)) in data.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                push_json_str(out, name);
                out.push(b':');
                push_json_str(out, value);
            }
            out.extend_from_slice(b"}},\"message\":");
            push_json_str(out, message(*id));
            out.extend_from_slice(b"}\n");
        }
        LogBody::Sys { app, pid, msg } => {
            r.ts.write_rfc3339_micros(out);
            // RFC 3339 with an explicit +00:00 offset, as rsyslog writes it.
            out.pop();
            out.extend_from_slice(b"+00:00 ");
            out.extend_from_slice(host.name.as_bytes());
            out.push(b' ');
            out.extend_from_slice(app.as_bytes());
            out.push(b'[');
            out.extend_from_slice(pid.to_string().as_bytes());
            out.extend_from_slice(b"]: ");
            out.extend_from_slice(msg.as_bytes());
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::scenario::network::Role;
    use crate::source::LineFormat;
    use std::net::Ipv4Addr;

    #[test]
    fn rendered_records_parse_back() {
        let ws = Host {
            ip: Ipv4Addr::new(10, 10, 16, 5),
            name: "ws-005".into(),
            role: Role::Workstation,
            user: Some("esato".into()),
            v6: None,
            link_local: None,
        };
        let srv = Host {
            ip: Ipv4Addr::new(10, 10, 1, 50),
            name: "srv-chamber".into(),
            role: Role::ChamberServer,
            user: None,
            v6: None,
            link_local: None,
        };
        let ts = Timestamp::from_parts(1_311_555_600, 123_000);
        let peer = Peer {
            host: &ws,
            port: 50_123,
        };
        let mut line = Vec::new();
        render(
            &logon(ts, 1, "esato", 10, peer, Auth::Negotiate),
            &srv,
            7,
            &mut line,
        );
        let mut evs = Vec::new();
        crate::source::winsec::WindowsJsonl
            .parse_line(line.trim_ascii_end(), &mut evs)
            .unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].logon_type, Some(10));
        assert_eq!(evs[0].source_ip, Some("10.10.16.5".parse().unwrap()));
        assert_eq!(evs[0].source_domain.as_deref(), Some("WS-005"));
        assert_eq!(evs[0].ts, ts);
        line.clear();
        render(
            &share(ts, 1, "esato", "ADMIN$", Some("PSEXESVC.exe"), peer),
            &srv,
            8,
            &mut line,
        );
        evs.clear();
        crate::source::winsec::WindowsJsonl
            .parse_line(line.trim_ascii_end(), &mut evs)
            .unwrap();
        assert_eq!(evs[0].share_name(), Some("\\\\*\\ADMIN$"));
        line.clear();
        let lnx = Host {
            name: "lnx01".into(),
            role: Role::Linux,
            ..srv.clone()
        };
        render(
            &sys(
                ts,
                2,
                "sshd",
                811,
                "Accepted publickey for esato from 10.10.16.5 port 50123 ssh2".into(),
            ),
            &lnx,
            1,
            &mut line,
        );
        assert!(line.starts_with(b"2011-07-25T01:00:00.000123+00:00 lnx01 sshd[811]: Accepted"));
        let cfg = crate::source::syslog::SyslogConfig::year(2011, 0);
        evs.clear();
        crate::source::syslog::SyslogLines(cfg)
            .parse_line(line.trim_ascii_end(), &mut evs)
            .unwrap();
        assert_eq!(evs[0].action, Action::LoggedIn);
        assert_eq!(evs[0].ts, ts);
    }
}
