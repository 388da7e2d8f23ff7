//! `Microsoft-Windows-WinRM/Operational` and
//! `Microsoft-Windows-PowerShell/Operational`: WS-Management sessions and
//! PowerShell remoting (see the table in the module above).

use super::{Chan, EventData, MAX_SCRIPT, bounded, contains_ci, label, source_addr, split_user};
use crate::model::Action;
use crate::model::event::{Category, LogEvent, Outcome, Text as EventText};
use std::net::IpAddr;

/// Fills `e` for event `id` of the WinRM or PowerShell channel; false for
/// ids not mapped.
pub(super) fn map(id: u32, chan: Chan, d: &EventData<'_>, e: &mut LogEvent) -> bool {
    match (chan, id) {
        (Chan::WinRm, 6) => {
            e.category = Some(Category::Session);
            e.action = Action::WinrmSessionCreated;
            e.outcome = Some(Outcome::Success);
            header_user(d, e);
            if let Some(conn) = d.connection.get() {
                let (host, port) = connection_target(conn);
                set_destination(e, host);
                e.destination_port = port;
                label(e, "connection", Some(conn));
            }
        }
        (Chan::WinRm, 91) => {
            e.category = Some(Category::Session);
            e.action = Action::WinrmShellCreated;
            e.outcome = Some(Outcome::Success);
            header_user(d, e);
            label(e, "resource_uri", d.resourceUri.get());
        }
        (Chan::WinRm, 169) => {
            e.category = Some(Category::Authentication);
            e.action = Action::WinrmAuthenticated;
            e.outcome = Some(Outcome::Success);
            (e.user_name, e.user_domain) = split_user(d.username.get());
            e.auth_method = d.authenticationMechanism.owned_max(64);
        }
        (Chan::PowerShell, 4103 | 4104) => {
            let text = if id == 4104 {
                d.ScriptBlockText.get()
            } else {
                d.Payload.get()
            }
            .unwrap_or("");
            let remote = REMOTING.iter().any(|c| contains_ci(text, c));
            if !remote && id == 4103 {
                // Pipeline executions are many; only remoting is kept.
                return false;
            }
            e.category = Some(Category::Process);
            e.outcome = Some(Outcome::Success);
            e.action = if remote {
                Action::RemotePowershell
            } else {
                Action::PowershellScriptBlock
            };
            header_user(d, e);
            if id == 4103 {
                let context = d.ContextInfo.get().unwrap_or("");
                if let Some(u) = context_value(context, "User") {
                    (e.user_name, e.user_domain) = split_user(Some(u));
                }
                let host_app = context_value(context, "Host Application");
                e.set_process_command_line(
                    host_app.map(|s| EventText::from(bounded(s, MAX_SCRIPT))),
                );
                label(e, "payload", Some(bounded(text, MAX_SCRIPT)));
            } else {
                label(e, "script_block_text", Some(bounded(text, MAX_SCRIPT)));
                label(e, "script_block_id", d.ScriptBlockId.get());
                label(e, "script_path", d.Path.get());
            }
            if remote {
                set_destination(e, computer_name(text));
            }
        }
        _ => return false,
    }
    true
}

/// The cmdlets of PowerShell remoting.
const REMOTING: [&str; 3] = ["Invoke-Command", "Enter-PSSession", "New-PSSession"];

/// The account the record was written under: Winlogbeat's resolved
/// `winlog.user`, NXLog's `AccountName`/`Domain`, else the SID as a label.
fn header_user(d: &EventData<'_>, e: &mut LogEvent) {
    if let Some(name) = d.HeaderUser.owned() {
        e.user_name = Some(name);
        e.user_domain = d.HeaderDomain.owned();
    } else if let Some(name) = d.AccountName.owned() {
        e.user_name = Some(name);
        e.user_domain = d.Domain.owned();
    }
    label(e, "user_sid", d.UserID.get());
}

/// Sets `destination.ip` for an address, else `destination.domain`.
fn set_destination(e: &mut LogEvent, host: Option<&str>) {
    let Some(host) = host else { return };
    match host.parse::<IpAddr>() {
        Ok(_) => e.destination_ip = source_addr(Some(host)),
        Err(_) => e.destination_domain = Some(EventText::from(host)),
    }
}

/// The host and port of a WinRM connection string: `http://srv:5985/wsman`,
/// `srv/wsman?PSVersion=5.1`, `https://[fe80::1]:5986/wsman`.
fn connection_target(conn: &str) -> (Option<&str>, Option<u16>) {
    let rest = conn.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => (v6, None),
        }
    } else if authority.matches(':').count() == 1 {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    } else {
        (authority, None)
    };
    (
        host_name(host),
        port.and_then(|p| p.parse().ok()).filter(|p| *p != 0),
    )
}

/// `s` when it can be a host name or an address: letters, digits, `.`,
/// `-`, `_` and `:` only, at most 255 bytes.
fn host_name(s: &str) -> Option<&str> {
    let s = s.trim().trim_matches(['"', '\'']).trim_end_matches('.');
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    ok.then_some(s)
}

/// The first computer a remoting command names: `-ComputerName X` (or
/// `-cn X`) in a script, or the `ComputerName` parameter binding of a
/// pipeline execution (`name="ComputerName"; value="X"`). Variables and
/// expressions are not resolved, so they give nothing.
fn computer_name(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.find("name=\"computername\"; value=\"") {
        let start = at + "name=\"computername\"; value=\"".len();
        let rest = text.get(start..)?;
        let value = rest.split('"').next()?;
        return host_name(value.split([',', ' ']).next()?);
    }
    for flag in ["-computername", "-cn"] {
        let mut from = 0;
        while let Some(rel) = lower.get(from..).and_then(|l| l.find(flag)) {
            let end = from + rel + flag.len();
            from = end;
            // The whole parameter name, not a prefix of another.
            let next = lower.as_bytes().get(end).copied();
            if !matches!(next, Some(b' ' | b'\t' | b':')) {
                continue;
            }
            let rest = text.get(end..)?.trim_start_matches([' ', '\t', ':']);
            let token = rest
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ')' | '|'))
                .next()
                .unwrap_or("");
            if let Some(h) = host_name(token) {
                return Some(h);
            }
        }
    }
    None
}

/// The value of `key = value` in PowerShell's ContextInfo lines.
fn context_value<'a>(context: &'a str, key: &str) -> Option<&'a str> {
    context.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key)
            .then(|| v.trim())
            .filter(|v| !v.is_empty())
    })
}
