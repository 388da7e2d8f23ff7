//! The Security and System channels and the Terminal Services logs: logons,
//! Kerberos and NTLM, shares, services, scheduled tasks, directory
//! replication and RDP sessions (see the table in the module above).

use super::{
    Chan, EventData, REMOTE_INTERACTIVE, bounded, contains_ci, label, port, source_addr,
    split_user, status_reason,
};
use crate::model::Action;
use crate::model::event::{Category, LogEvent, Outcome, Text as EventText};

/// An account SID worth keeping: a domain or local account's
/// (`S-1-5-21-…`), at most 96 bytes and made of SID characters only. The
/// well-known SIDs (SYSTEM, ANONYMOUS LOGON, NULL) say nothing of which
/// account a name belongs to, and are left out to keep events small.
fn account_sid(s: &str) -> Option<EventText> {
    let s = s.trim();
    let ok = s.len() <= 96
        && s.get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("S-1-5-21-"))
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'S' || b == b's');
    ok.then(|| {
        let mut t = EventText::from(s);
        t.make_ascii_uppercase();
        t
    })
}

/// Fills `e` for event `id` of `chan`; false for ids not mapped.
pub(super) fn map(id: u32, chan: Chan, d: &EventData<'_>, e: &mut LogEvent) -> bool {
    let target = |e: &mut LogEvent| {
        e.user_name = d.TargetUserName.owned();
        e.user_domain = d.TargetDomainName.owned();
    };
    let subject = |e: &mut LogEvent| {
        e.user_name = d.SubjectUserName.owned();
        e.user_domain = d.SubjectDomainName.owned();
    };
    let remote = |e: &mut LogEvent| {
        e.source_ip = source_addr(d.IpAddress.get());
        e.source_port = port(&d.IpPort);
        e.source_domain = d.WorkstationName.owned().or_else(|| d.Workstation.owned());
    };
    match (id, chan) {
        (4624 | 4625, Chan::Other) => {
            target(e);
            remote(e);
            e.category = Some(Category::Authentication);
            e.logon_type = d.LogonType.get().and_then(|v| v.parse().ok());
            e.set_logon_process(d.LogonProcessName.owned());
            e.auth_method = d.AuthenticationPackageName.owned();
            if let Some(lm) = d.LmPackageName.get() {
                e.auth_method = Some(
                    format!(
                        "{} ({})",
                        e.auth_method.take().unwrap_or_default(),
                        bounded(lm, 64)
                    )
                    .into(),
                );
            }
            e.set_subject_user(d.SubjectUserName.owned());
            if id == 4624 {
                e.action = Action::LoggedIn;
                e.outcome = Some(Outcome::Success);
                e.set_user_id(d.TargetUserSid.get().and_then(account_sid));
            } else {
                e.action = Action::LogonFailed;
                e.outcome = Some(Outcome::Failure);
                let (s, ss) = (
                    d.Status.get().map(|s| bounded(s, 32)),
                    d.SubStatus.get().map(|s| bounded(s, 32)),
                );
                e.set_status(match (s, ss) {
                    (Some(s), Some(ss)) => Some(format!("{s}/{ss}").into()),
                    (s, ss) => s.or(ss).map(EventText::from),
                });
                // The sub-status tells a wrong password from an unknown user.
                let why = ss
                    .and_then(|c| status_reason(c, false))
                    .or_else(|| s.and_then(|c| status_reason(c, false)));
                label(e, "status_reason", why);
            }
        }
        (4634 | 4647, Chan::Other) => {
            target(e);
            e.category = Some(Category::Session);
            e.action = Action::LoggedOut;
            e.outcome = Some(Outcome::Success);
            e.logon_type = d.LogonType.get().and_then(|v| v.parse().ok());
        }
        (4648, Chan::Other) => {
            target(e);
            remote(e);
            e.category = Some(Category::Authentication);
            e.action = Action::ExplicitCredentialLogon;
            e.outcome = Some(Outcome::Success);
            e.set_subject_user(d.SubjectUserName.owned());
            e.destination_domain = d.TargetServerName.owned();
            e.set_logon_process(d.LogonProcessName.owned());
            e.set_process_executable(d.ProcessName.owned());
        }
        (4672, Chan::Other) => {
            subject(e);
            e.category = Some(Category::Iam);
            e.action = Action::SpecialPrivilegesAssigned;
            e.outcome = Some(Outcome::Success);
            if let Some(p) = d.PrivilegeList.get() {
                let list: Vec<&str> = p.split_whitespace().take(64).collect();
                label(e, "privileges", Some(&list.join(" ")));
            }
        }
        (4662, Chan::Other) => {
            // Only the directory-replication rights (DCSync) are mapped; the
            // other object accesses are many and say little.
            let props = d.Properties.get().unwrap_or("");
            let rights: Vec<&str> = REPLICATION_RIGHTS
                .iter()
                .filter(|(guid, _)| contains_ci(props, guid))
                .map(|(_, name)| *name)
                .collect();
            if rights.is_empty() {
                return false;
            }
            subject(e);
            e.category = Some(Category::Iam);
            e.action = Action::DirectoryReplicationRequested;
            e.outcome = Some(Outcome::Success);
            label(e, "replication_rights", Some(&rights.join(" ")));
            label(e, "object_name", d.ObjectName.get());
            label(e, "access_mask", d.AccessMask.get());
        }
        (4768 | 4769 | 4771, Chan::Other) => {
            target(e);
            remote(e);
            e.category = Some(Category::Authentication);
            e.auth_method = Some("Kerberos".into());
            e.set_service_name(d.ServiceName.owned());
            let code = d
                .Status
                .get()
                .or(d.FailureCode.get())
                .map(|s| bounded(s, 32));
            let ok = code.is_none_or(|s| s == "0x0" || s == "0");
            e.outcome = Some(if id == 4771 || !ok {
                Outcome::Failure
            } else {
                Outcome::Success
            });
            e.set_status(code.map(EventText::from));
            e.action = match id {
                4768 => Action::KerberosTgtRequest,
                4769 => Action::KerberosServiceTicket,
                _ => Action::KerberosPreauthFailed,
            };
            let etype = d.TicketEncryptionType.get().map(|s| bounded(s, 32));
            label(e, "ticket_encryption_type", etype);
            label(e, "ticket_encryption", etype.and_then(encryption_name));
            label(e, "pre_auth_type", d.PreAuthType.get());
            if !ok {
                label(
                    e,
                    "status_reason",
                    code.and_then(|c| status_reason(c, true)),
                );
            }
        }
        (4776, Chan::Other) => {
            target(e);
            e.source_domain = d.Workstation.owned();
            e.category = Some(Category::Authentication);
            e.action = Action::NtlmCredentialValidation;
            e.auth_method = Some("NTLM".into());
            let code = d.Status.get().or(d.Error.get()).map(|s| bounded(s, 32));
            let ok = code.is_none_or(|s| s == "0x0" || s == "0");
            e.outcome = Some(if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            });
            e.set_status(code.map(EventText::from));
            if !ok {
                label(
                    e,
                    "status_reason",
                    code.and_then(|c| status_reason(c, false)),
                );
            }
        }
        (5140 | 5145, Chan::Other) => {
            subject(e);
            remote(e);
            e.category = Some(Category::Network);
            e.action = if id == 5140 {
                Action::ShareAccessed
            } else {
                Action::ShareObjectChecked
            };
            e.outcome = Some(Outcome::Success);
            e.set_share_name(d.ShareName.owned());
            e.set_share_target(d.RelativeTargetName.owned());
            // On IPC$ the relative target is a named pipe, and the pipe
            // names the RPC interface (svcctl: services, atsvc: tasks, ...).
            if let (Some(share), Some(pipe)) = (d.ShareName.get(), d.RelativeTargetName.get())
                && super::ends_with_ci(share, "IPC$")
            {
                let pipe = pipe.trim_start_matches('\\');
                label(e, "pipe_name", Some(pipe));
                label(e, "pipe_purpose", pipe_purpose(pipe));
            }
        }
        (7045 | 4697, Chan::Other) => {
            e.category = Some(Category::Process);
            e.action = Action::ServiceInstalled;
            e.outcome = Some(Outcome::Success);
            e.set_service_name(d.ServiceName.owned());
            e.set_process_executable(d.ImagePath.owned().or_else(|| d.ServiceFileName.owned()));
            subject(e);
            // 7045 names the account in AccountName, 4697 in ServiceAccount.
            // NXLog writes the record's own user as AccountName and Domain
            // beside the event's fields, and flattening keeps one of the two
            // AccountNames: with a Domain there, the account is unknown.
            let account = if id == 7045 {
                d.AccountName.get().filter(|_| d.Domain.get().is_none())
            } else {
                d.ServiceAccount.get()
            };
            label(e, "service_account", account);
            label(
                e,
                "service_start_type",
                d.StartType.get().or(d.ServiceStartType.get()),
            );
            label(e, "service_type", d.ServiceType.get());
            if id == 7045 {
                e.dataset = "windows.system".into();
            }
        }
        (4698 | 4702, Chan::Other) => {
            subject(e);
            e.category = Some(Category::Iam);
            e.outcome = Some(Outcome::Success);
            e.action = if id == 4698 {
                Action::ScheduledTaskCreated
            } else {
                Action::ScheduledTaskUpdated
            };
            label(e, "task_name", d.TaskName.get());
            let content = d.TaskContent.get().or(d.TaskNewContent.get()).unwrap_or("");
            // The task's XML: its first action and the account it runs as.
            let command = xml_element(content, "Command");
            let arguments = xml_element(content, "Arguments");
            if let Some(c) = &command {
                e.set_process_executable(Some(bounded(c, super::MAX_TEXT).into()));
                let line = match &arguments {
                    Some(a) => format!("{c} {a}"),
                    None => c.clone(),
                };
                e.set_process_command_line(Some(bounded(&line, super::MAX_SCRIPT).into()));
            }
            label(e, "task_run_as", xml_element(content, "UserId").as_deref());
        }
        (4688, Chan::Other) => {
            e.category = Some(Category::Process);
            e.action = Action::ProcessCreated;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.NewProcessName.owned());
            e.set_process_command_line(d.CommandLine.owned());
            subject(e);
            label(e, "parent_process_name", d.ParentProcessName.get());
            label(e, "process_id", d.NewProcessId.get());
            label(e, "parent_process_id", d.ProcessId.get());
        }
        (4778 | 4779, Chan::Other) => {
            e.user_name = d.AccountName.owned();
            e.user_domain = d.AccountDomain.owned();
            e.source_ip = source_addr(d.ClientAddress.get());
            e.source_domain = d
                .ClientName
                .owned()
                .filter(|n| !n.eq_ignore_ascii_case("Unknown"));
            e.category = Some(Category::Session);
            e.outcome = Some(Outcome::Success);
            e.action = if id == 4778 {
                Action::RdpSessionReconnected
            } else {
                Action::RdpSessionDisconnected
            };
            let session = d.SessionName.get();
            // Fast user switching at the console writes these too.
            if session.is_some_and(|s| s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("RDP-"))) {
                e.logon_type = Some(REMOTE_INTERACTIVE);
            }
            label(e, "session_name", session);
            label(e, "logon_id", d.LogonID.get());
        }
        (5156, Chan::Other) => {
            // The Windows Filtering Platform permitted a connection. Only
            // outbound ones are mapped: their source is this host, the
            // initiator (`%%14593` rendered, or the word).
            let outbound = d
                .Direction
                .get()
                .map(str::trim)
                .is_some_and(|v| v == "%%14593" || v.eq_ignore_ascii_case("Outbound"));
            if !outbound {
                return false;
            }
            e.category = Some(Category::Network);
            e.action = Action::NetworkConnection;
            e.outcome = Some(Outcome::Success);
            e.source_ip = source_addr(d.SourceAddress.get());
            e.source_port = port(&d.SourcePort);
            e.destination_ip = source_addr(d.DestAddress.get());
            e.destination_port = port(&d.DestPort);
            e.set_process_executable(d.Application.owned());
            e.set_ip_proto(d.Protocol.get().and_then(|p| p.trim().parse().ok()));
            label(e, "direction", Some("egress"));
        }
        (4825, Chan::Other) => {
            e.user_name = d.AccountName.owned();
            e.user_domain = d.AccountDomain.owned();
            e.source_ip = source_addr(d.ClientAddress.get());
            e.category = Some(Category::Authentication);
            e.action = Action::RdpAccessDenied;
            e.outcome = Some(Outcome::Failure);
            e.logon_type = Some(REMOTE_INTERACTIVE);
            label(e, "logon_id", d.LogonID.get());
        }
        (1149, Chan::ConnectionManager) => {
            e.user_name = d.Param1.owned();
            e.user_domain = d.Param2.owned();
            e.source_ip = source_addr(d.Param3.get());
            e.category = Some(Category::Authentication);
            e.action = Action::RdpAuthenticated;
            e.outcome = Some(Outcome::Success);
            e.logon_type = Some(REMOTE_INTERACTIVE);
        }
        (21 | 22 | 24 | 25, Chan::SessionManager) => {
            (e.user_name, e.user_domain) = split_user(d.User.get());
            e.source_ip = source_addr(d.Address.get());
            e.category = Some(Category::Session);
            e.outcome = Some(Outcome::Success);
            e.action = match id {
                21 => Action::RdpSessionLogon,
                22 => Action::RdpShellStarted,
                24 => Action::RdpSessionDisconnected,
                _ => Action::RdpSessionReconnected,
            };
            // `LOCAL` is the console; an address means a remote session.
            if e.source_ip.is_some() {
                e.logon_type = Some(REMOTE_INTERACTIVE);
            }
            label(e, "session_id", d.SessionID.get());
        }
        _ => return false,
    }
    true
}

/// The extended rights of directory replication, by the GUID 4662 writes
/// in Properties.
const REPLICATION_RIGHTS: [(&str, &str); 3] = [
    (
        "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2",
        "DS-Replication-Get-Changes",
    ),
    (
        "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
        "DS-Replication-Get-Changes-All",
    ),
    (
        "89e95b76-444d-4c62-991a-0facbeda640c",
        "DS-Replication-Get-Changes-In-Filtered-Set",
    ),
];

/// The Kerberos encryption type a ticket code names.
fn encryption_name(code: &str) -> Option<&'static str> {
    let c = code
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X");
    Some(match u32::from_str_radix(c, 16).ok()? {
        0x1 => "DES-CBC-CRC",
        0x3 => "DES-CBC-MD5",
        0x11 => "AES128-CTS-HMAC-SHA1-96",
        0x12 => "AES256-CTS-HMAC-SHA1-96",
        0x17 => "RC4-HMAC",
        0x18 => "RC4-HMAC-EXP",
        _ => return None,
    })
}

/// What a named pipe opened on `IPC$` is for, for the pipes remote
/// administration and its abuse use.
fn pipe_purpose(pipe: &str) -> Option<&'static str> {
    let p = pipe.to_ascii_lowercase();
    Some(match p.as_str() {
        "svcctl" => "service control (SCMR)",
        "atsvc" => "task scheduler (ATSVC)",
        "itaskschedulerservice" => "task scheduler (TSCH)",
        "winreg" => "remote registry",
        "samr" => "SAM (accounts and groups)",
        "lsarpc" | "lsass" => "LSA",
        "drsuapi" => "directory replication (DRSUAPI)",
        "netlogon" => "Netlogon",
        "srvsvc" => "server service (shares, sessions)",
        "wkssvc" => "workstation service",
        "spoolss" => "print spooler",
        "eventlog" => "event log",
        "epmapper" => "endpoint mapper",
        _ if p.starts_with("psexesvc") => "PsExec",
        _ if p.starts_with("remcom") => "RemCom",
        _ if p.starts_with("paexec") => "PAExec",
        _ => return None,
    })
}

/// The text of the first `<name>` element of an XML document (the task
/// XML of 4698/4702), entities decoded; `None` when absent or empty.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    // Some exports escape the task XML once more (`&lt;Command&gt;`).
    let unescaped;
    let xml = if !xml.contains('<') && xml.contains("&lt;") {
        unescaped = super::xml::decode_entities(bounded(xml, 1 << 16));
        unescaped.as_str()
    } else {
        xml
    };
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let rest = xml.get(start..)?;
    let end = rest.find(&close)?;
    let text = super::xml::decode_entities(bounded(rest.get(..end)?, super::MAX_TEXT));
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}
