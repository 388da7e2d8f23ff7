//! Windows event logs in, normalised events out.
//!
//! Reads JSON Lines exports in the two common shapes, Winlogbeat/Elastic
//! (`winlog.event_id`, `winlog.event_data.*`, `winlog.computer_name`) and
//! flat (OTRF Security-Datasets / NXLog: `EventID`, `TargetUserName`,
//! `Hostname`, ...), and maps the events that matter for lateral movement
//! to [`LogEvent`]s. Only the fields used are deserialised, borrowed from
//! the line where possible; values that arrive as numbers or strings are
//! both accepted.
//!
//! | id | category | action |
//! |---|---|---|
//! | 4624 | authentication | `logged-in` |
//! | 4625 | authentication | `logon-failed` |
//! | 4634, 4647 | session | `logged-out` |
//! | 4648 | authentication | `explicit-credential-logon` |
//! | 4672 | iam | `special-privileges-assigned` |
//! | 4768 | authentication | `kerberos-tgt-request` |
//! | 4769 | authentication | `kerberos-service-ticket` |
//! | 4771 | authentication | `kerberos-preauth-failed` |
//! | 4776 | authentication | `ntlm-credential-validation` |
//! | 5140 | network | `share-accessed` |
//! | 5145 | network | `share-object-checked` |
//! | 7045, 4697 | process | `service-installed` |
//! | 4688, Sysmon 1 | process | `process-created` |
//! | Sysmon 3 | network | `network-connection` |
//! | 4778 | session | `rdp-session-reconnected` |
//! | 4779 | session | `rdp-session-disconnected` |
//! | 4825 | authentication (failure) | `rdp-access-denied` |
//! | TerminalServices-RemoteConnectionManager 1149 | authentication | `rdp-authenticated` |
//! | TerminalServices-LocalSessionManager 21 | session | `rdp-session-logon` |
//! | TerminalServices-LocalSessionManager 24 | session | `rdp-session-disconnected` |
//! | TerminalServices-LocalSessionManager 25 | session | `rdp-session-reconnected` |
//!
//! The RDP events take `source.ip` from ClientAddress (4778/4779/4825),
//! Param3 (1149) or Address (21/24/25), normalised like IpAddress (`LOCAL`
//! is absent too); ClientName becomes `source.domain` (`Unknown` is
//! absent). Logon type 10 is set only where the event shows a remote
//! session: an `RDP-…` SessionName, a remote Address, or 1149 and 4825,
//! which are RDP by definition. SessionName, SessionID and LogonID go to
//! `labels` (`session_name`, `session_id`, `logon_id`). Winlogbeat's
//! `winlog.user_data` is read like `winlog.event_data`.
//!
//! Source addresses are normalised: `::ffff:10.1.2.3` becomes `10.1.2.3`;
//! `-`, empty, `::1` and `127.0.0.1` mean "no remote source" and are absent.
//! Times come from `@timestamp` (UTC), else `TimeCreated`/`SystemTime`,
//! else Sysmon's `UtcTime`, else `EventTime` read as UTC.

use crate::model::Action;
use crate::model::event::{Category, LogEvent, Outcome, Text as EventText, Timestamp};
use crate::source::{Context, LineFormat, LogFormatSpec, Reader, Skip, Sniff};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// A JSON value that may be a string, a number or a boolean, kept as text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(if v { "true" } else { "false" }))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                // An object where text was expected (e.g. TimeCreated {SystemTime}):
                // keep the first string value inside it.
                let mut first = None;
                while let Some((_, v)) = m.next_entry::<de::IgnoredAny, Text<'de>>()? {
                    if first.is_none() {
                        first = v.0;
                    }
                }
                Ok(Text(first))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl Text<'_> {
    /// The value, if present and not a placeholder (`-`, empty).
    pub fn get(&self) -> Option<&str> {
        match self.0.as_deref().map(str::trim) {
            None | Some("") | Some("-") => None,
            Some(s) => Some(s),
        }
    }

    fn owned(&self) -> Option<crate::model::event::Text> {
        self.get().map(crate::model::event::Text::from)
    }
}

/// Declares [`EventData`] and its reading from a JSON object: each field
/// under its key; a key given twice keeps its last value (as most JSON
/// readers do), so a record with a repeated key (an export that writes a
/// header field and an event-data field of one name, or an attacker hoping
/// to get a record dropped) is still read; unknown keys are skipped.
macro_rules! event_data {
    ($($field:ident: $key:literal,)*) => {
        /// The event-data fields `lateral` uses, under their Windows names, plus
        /// the header fields of the flat shape, so one pass over a line reads both
        /// shapes (nothing else in the line is kept).
        #[derive(Debug, Default)]
        #[allow(non_snake_case, missing_docs)]
        pub struct EventData<'a> {
            $(pub $field: Text<'a>,)*
            winlog: Option<Box<Winlog<'a>>>,
        }

        impl<'de: 'a, 'a> Deserialize<'de> for EventData<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de> Visitor<'de> for V<'de> {
                    type Value = EventData<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<M: de::MapAccess<'de>>(
                        self,
                        mut m: M,
                    ) -> Result<Self::Value, M::Error> {
                        let mut out = EventData::default();
                        // Keys borrowed from the line (no allocation) unless escaped.
                        while let Some(Text(key)) = m.next_key::<Text<'de>>()? {
                            match key.as_deref().unwrap_or("") {
                                $($key => out.$field = m.next_value()?,)*
                                "winlog" => out.winlog = m.next_value()?,
                                _ => {
                                    m.next_value::<de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V(std::marker::PhantomData))
            }
        }
    };
}

event_data! {
    TargetUserName: "TargetUserName",
    TargetDomainName: "TargetDomainName",
    SubjectUserName: "SubjectUserName",
    SubjectDomainName: "SubjectDomainName",
    LogonType: "LogonType",
    IpAddress: "IpAddress",
    IpPort: "IpPort",
    WorkstationName: "WorkstationName",
    Workstation: "Workstation",
    LogonProcessName: "LogonProcessName",
    AuthenticationPackageName: "AuthenticationPackageName",
    LmPackageName: "LmPackageName",
    Status: "Status",
    SubStatus: "SubStatus",
    TargetServerName: "TargetServerName",
    ServiceName: "ServiceName",
    ImagePath: "ImagePath",
    ServiceFileName: "ServiceFileName",
    ShareName: "ShareName",
    RelativeTargetName: "RelativeTargetName",
    NewProcessName: "NewProcessName",
    CommandLine: "CommandLine",
    Image: "Image",
    User: "User",
    SourceIp: "SourceIp",
    SourcePort: "SourcePort",
    SourceHostname: "SourceHostname",
    DestinationIp: "DestinationIp",
    DestinationPort: "DestinationPort",
    DestinationHostname: "DestinationHostname",
    UtcTime: "UtcTime",
    AccountName: "AccountName",
    AccountDomain: "AccountDomain",
    ClientName: "ClientName",
    ClientAddress: "ClientAddress",
    SessionName: "SessionName",
    LogonID: "LogonID",
    // UserData/EventXML of the Terminal Services channels.
    Param1: "Param1",
    Param2: "Param2",
    Param3: "Param3",
    SessionID: "SessionID",
    Address: "Address",
    // Header fields of the flat shape (unused inside winlog.event_data).
    Timestamp: "@timestamp",
    EventID: "EventID",
    Channel: "Channel",
    Hostname: "Hostname",
    Computer: "Computer",
    TimeCreated: "TimeCreated",
    EventTime: "EventTime",
}

/// Where an event came from and when, whatever the export's shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Event id.
    pub event_id: Option<u32>,
    /// Channel (`Security`, `System`, `Microsoft-Windows-Sysmon/Operational`).
    pub channel: Option<Cow<'a, str>>,
    /// The computer that wrote the event.
    pub computer: Option<Cow<'a, str>>,
    /// Event time.
    pub ts: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Winlog<'a> {
    #[serde(borrow)]
    event_id: Text<'a>,
    #[serde(borrow)]
    channel: Text<'a>,
    #[serde(borrow)]
    computer_name: Text<'a>,
    #[serde(borrow)]
    event_data: EventData<'a>,
    /// Winlogbeat's name for `UserData` (Terminal Services events).
    #[serde(borrow)]
    user_data: Option<EventData<'a>>,
}

/// Normalises a source address: IPv4-mapped IPv6 becomes IPv4; local and
/// placeholder values mean "none".
pub fn source_addr(s: Option<&str>) -> Option<IpAddr> {
    let s = s?.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    let ip: IpAddr = s.parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if ip.is_loopback() || ip.is_unspecified() {
        None
    } else {
        Some(ip)
    }
}

fn port(t: &Text<'_>) -> Option<u16> {
    t.get()?.parse().ok().filter(|p| *p != 0)
}

/// Adds a source-specific detail to `labels`, when present.
fn label(e: &mut LogEvent, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        e.push_label(key.into(), v.into());
    }
}

/// Splits `DOMAIN\user` into (user, domain).
fn split_user(s: Option<&str>) -> (Option<EventText>, Option<EventText>) {
    match s {
        Some(u) => match u.split_once('\\') {
            Some((d, n)) => (Some(n.into()), Some(d.into())),
            None => (Some(u.into()), None),
        },
        None => (None, None),
    }
}

/// The channels whose event ids mean something other than Security's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chan {
    /// `Microsoft-Windows-Sysmon/Operational`.
    Sysmon,
    /// `Microsoft-Windows-TerminalServices-LocalSessionManager/Operational`.
    SessionManager,
    /// `Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational`.
    ConnectionManager,
    /// Security, System and everything else.
    Other,
}

impl Chan {
    fn of(channel: Option<&str>) -> Chan {
        let Some(c) = channel else {
            return Chan::Other;
        };
        let has = |needle: &str| {
            c.as_bytes()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        };
        if has("Sysmon") {
            Chan::Sysmon
        } else if has("TerminalServices-LocalSessionManager") {
            Chan::SessionManager
        } else if has("TerminalServices-RemoteConnectionManager") {
            Chan::ConnectionManager
        } else {
            Chan::Other
        }
    }

    fn dataset(self) -> &'static str {
        match self {
            Chan::Sysmon => "windows.sysmon",
            Chan::SessionManager | Chan::ConnectionManager => "windows.terminalservices",
            Chan::Other => "windows.security",
        }
    }
}

/// Logon type 10 (RemoteInteractive), for events that are RDP by nature.
const REMOTE_INTERACTIVE: u8 = 10;

/// Maps one event to a normalised event, or `None` for ids not of interest.
pub fn map_event(h: &Header<'_>, d: &EventData<'_>) -> Option<LogEvent> {
    let id = h.event_id?;
    let chan = Chan::of(h.channel.as_deref());
    let sysmon = chan == Chan::Sysmon;
    let mut e = LogEvent {
        ts: h.ts.unwrap_or_default(),
        code: Some(id),
        dataset: chan.dataset().into(),
        host_name: h.computer.as_deref().map(EventText::from),
        ..LogEvent::default()
    };
    let target = |e: &mut LogEvent| {
        e.user_name = d.TargetUserName.owned();
        e.user_domain = d.TargetDomainName.owned();
    };
    let remote = |e: &mut LogEvent| {
        e.source_ip = source_addr(d.IpAddress.get());
        e.source_port = port(&d.IpPort);
        e.source_domain = d.WorkstationName.owned().or_else(|| d.Workstation.owned());
    };
    match (id, chan) {
        (4624 | 4625, Chan::Other) => {
            target(&mut e);
            remote(&mut e);
            e.category = Some(Category::Authentication);
            e.logon_type = d.LogonType.get().and_then(|v| v.parse().ok());
            e.set_logon_process(d.LogonProcessName.owned());
            e.auth_method = d.AuthenticationPackageName.owned();
            if let Some(lm) = d.LmPackageName.get() {
                e.auth_method =
                    Some(format!("{} ({lm})", e.auth_method.unwrap_or_default()).into());
            }
            e.set_subject_user(d.SubjectUserName.owned());
            if id == 4624 {
                e.action = Action::LoggedIn;
                e.outcome = Some(Outcome::Success);
            } else {
                e.action = Action::LogonFailed;
                e.outcome = Some(Outcome::Failure);
                e.set_status(match (d.Status.get(), d.SubStatus.get()) {
                    (Some(s), Some(ss)) => Some(format!("{s}/{ss}").into()),
                    (s, ss) => s.or(ss).map(EventText::from),
                });
            }
        }
        (4634 | 4647, Chan::Other) => {
            target(&mut e);
            e.category = Some(Category::Session);
            e.action = Action::LoggedOut;
            e.outcome = Some(Outcome::Success);
            e.logon_type = d.LogonType.get().and_then(|v| v.parse().ok());
        }
        (4648, Chan::Other) => {
            target(&mut e);
            remote(&mut e);
            e.category = Some(Category::Authentication);
            e.action = Action::ExplicitCredentialLogon;
            e.outcome = Some(Outcome::Success);
            e.set_subject_user(d.SubjectUserName.owned());
            e.destination_domain = d.TargetServerName.owned();
            e.set_logon_process(d.LogonProcessName.owned());
        }
        (4672, Chan::Other) => {
            e.user_name = d.SubjectUserName.owned();
            e.user_domain = d.SubjectDomainName.owned();
            e.category = Some(Category::Iam);
            e.action = Action::SpecialPrivilegesAssigned;
            e.outcome = Some(Outcome::Success);
        }
        (4768 | 4769 | 4771, Chan::Other) => {
            target(&mut e);
            remote(&mut e);
            e.category = Some(Category::Authentication);
            e.auth_method = Some("Kerberos".into());
            e.set_service_name(d.ServiceName.owned());
            let status = d.Status.get().map(EventText::from);
            let ok = status.as_deref().is_none_or(|s| s == "0x0" || s == "0");
            e.outcome = Some(if id == 4771 || !ok {
                Outcome::Failure
            } else {
                Outcome::Success
            });
            e.set_status(status);
            e.action = match id {
                4768 => Action::KerberosTgtRequest,
                4769 => Action::KerberosServiceTicket,
                _ => Action::KerberosPreauthFailed,
            };
        }
        (4776, Chan::Other) => {
            target(&mut e);
            e.source_domain = d.Workstation.owned();
            e.category = Some(Category::Authentication);
            e.action = Action::NtlmCredentialValidation;
            e.auth_method = Some("NTLM".into());
            let status = d.Status.get().map(EventText::from);
            let ok = status.as_deref().is_none_or(|s| s == "0x0" || s == "0");
            e.outcome = Some(if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            });
            e.set_status(status);
        }
        (5140 | 5145, Chan::Other) => {
            e.user_name = d.SubjectUserName.owned();
            e.user_domain = d.SubjectDomainName.owned();
            remote(&mut e);
            e.category = Some(Category::Network);
            e.action = if id == 5140 {
                Action::ShareAccessed
            } else {
                Action::ShareObjectChecked
            };
            e.outcome = Some(Outcome::Success);
            e.set_share_name(d.ShareName.owned());
            e.set_share_target(d.RelativeTargetName.owned());
        }
        (7045 | 4697, Chan::Other) => {
            e.category = Some(Category::Process);
            e.action = Action::ServiceInstalled;
            e.outcome = Some(Outcome::Success);
            e.set_service_name(d.ServiceName.owned());
            e.set_process_executable(d.ImagePath.owned().or_else(|| d.ServiceFileName.owned()));
            e.user_name = d.SubjectUserName.owned();
            e.user_domain = d.SubjectDomainName.owned();
            if id == 7045 {
                e.dataset = "windows.system".into();
            }
        }
        (4688, Chan::Other) => {
            e.category = Some(Category::Process);
            e.action = Action::ProcessCreated;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.NewProcessName.owned());
            e.set_process_command_line(d.CommandLine.owned());
            e.user_name = d.SubjectUserName.owned();
            e.user_domain = d.SubjectDomainName.owned();
        }
        (1, Chan::Sysmon) => {
            e.category = Some(Category::Process);
            e.action = Action::ProcessCreated;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            e.set_process_command_line(d.CommandLine.owned());
            (e.user_name, e.user_domain) = split_user(d.User.get());
        }
        (3, Chan::Sysmon) => {
            e.category = Some(Category::Network);
            e.action = Action::NetworkConnection;
            e.outcome = Some(Outcome::Success);
            e.set_process_executable(d.Image.owned());
            (e.user_name, e.user_domain) = split_user(d.User.get());
            e.source_ip = d.SourceIp.get().and_then(|s| s.parse().ok());
            e.source_port = port(&d.SourcePort);
            e.source_domain = d.SourceHostname.owned();
            e.destination_ip = d.DestinationIp.get().and_then(|s| s.parse().ok());
            e.destination_port = port(&d.DestinationPort);
            e.destination_domain = d.DestinationHostname.owned();
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
            label(&mut e, "session_name", session);
            label(&mut e, "logon_id", d.LogonID.get());
        }
        (4825, Chan::Other) => {
            e.user_name = d.AccountName.owned();
            e.user_domain = d.AccountDomain.owned();
            e.source_ip = source_addr(d.ClientAddress.get());
            e.category = Some(Category::Authentication);
            e.action = Action::RdpAccessDenied;
            e.outcome = Some(Outcome::Failure);
            e.logon_type = Some(REMOTE_INTERACTIVE);
            label(&mut e, "logon_id", d.LogonID.get());
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
        (21 | 24 | 25, Chan::SessionManager) => {
            (e.user_name, e.user_domain) = split_user(d.User.get());
            e.source_ip = source_addr(d.Address.get());
            e.category = Some(Category::Session);
            e.outcome = Some(Outcome::Success);
            e.action = match id {
                21 => Action::RdpSessionLogon,
                24 => Action::RdpSessionDisconnected,
                _ => Action::RdpSessionReconnected,
            };
            // `LOCAL` is the console; an address means a remote session.
            if e.source_ip.is_some() {
                e.logon_type = Some(REMOTE_INTERACTIVE);
            }
            label(&mut e, "session_id", d.SessionID.get());
        }
        _ => return None,
    }
    if sysmon && e.ts == Timestamp::default() {
        e.ts = d
            .UtcTime
            .get()
            .and_then(Timestamp::parse_rfc3339)
            .unwrap_or_default();
    }
    Some(e)
}

/// Why a JSON line that did not deserialise is skipped: its fields had the
/// wrong types, or it was not a JSON object at all.
pub(crate) fn json_skip(e: serde_json::Error) -> Skip {
    if e.is_data() {
        Skip("JSON object with mistyped fields")
    } else {
        Skip("not a JSON object")
    }
}

/// Windows events as JSON Lines, either shape.
#[derive(Debug, Default, Clone, Copy)]
pub struct WindowsJsonl;

impl LineFormat for WindowsJsonl {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let rec: EventData<'_> = serde_json::from_slice(line).map_err(json_skip)?;
        let (event_id, channel, computer, data) = match &rec.winlog {
            Some(w) if w.event_id.get().is_some() => (
                w.event_id.get(),
                w.channel.0.clone(),
                w.computer_name.0.clone(),
                w.user_data.as_ref().unwrap_or(&w.event_data),
            ),
            _ => (
                rec.EventID.get(),
                rec.Channel.0.clone(),
                rec.Hostname.0.clone().or_else(|| rec.Computer.0.clone()),
                &rec,
            ),
        };
        let Some(event_id) = event_id else {
            return Err(Skip("no event id"));
        };
        let Ok(event_id) = event_id.parse::<u32>() else {
            return Err(Skip("event id is not a number"));
        };
        let ts = rec
            .Timestamp
            .get()
            .and_then(Timestamp::parse_rfc3339)
            .or_else(|| rec.TimeCreated.get().and_then(Timestamp::parse_rfc3339))
            .or_else(|| data.UtcTime.get().and_then(Timestamp::parse_rfc3339))
            .or_else(|| rec.EventTime.get().and_then(Timestamp::parse_rfc3339));
        let header = Header {
            event_id: Some(event_id),
            channel,
            computer,
            ts,
        };
        if let Some(e) = map_event(&header, data) {
            out.push(e);
        }
        Ok(())
    }
}

/// Windows events as JSON Lines in the format registry (`--format winjson`).
#[derive(Debug, Clone, Copy)]
pub struct WinJsonFormat;

impl LogFormatSpec for WinJsonFormat {
    fn flag(&self) -> &'static str {
        "winjson"
    }

    fn help(&self) -> &'static str {
        "Windows events as JSON Lines (Winlogbeat or flat OTRF/NXLog shape)"
    }

    fn sniff(&self) -> Sniff {
        // After the journal and LANL WLS JSON, whose keys are particular.
        Sniff::Text { rank: 30 }
    }

    fn looks_like(&self, head: &[u8], _ctx: &Context) -> bool {
        looks_like_windows_jsonl(head)
    }

    fn reader(&self, _ctx: &Context) -> Reader {
        Reader::Lines {
            parser: Box::new(WindowsJsonl),
            timed: false,
        }
    }
}

/// True when the first bytes look like Windows events as JSON Lines.
pub fn looks_like_windows_jsonl(head: &[u8]) -> bool {
    let t = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| head.get(i..))
        .unwrap_or(&[]);
    if t.first() != Some(&b'{') {
        return false;
    }
    let line_end = t.iter().position(|&b| b == b'\n').unwrap_or(t.len());
    let first = t.get(..line_end).unwrap_or(t);
    let has = |needle: &[u8]| first.windows(needle.len()).any(|w| w == needle);
    has(b"\"EventID\"") || has(b"\"event_id\"") || has(b"\"winlog\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> LogEvent {
        let mut out = Vec::new();
        WindowsJsonl.parse_line(line.as_bytes(), &mut out).unwrap();
        assert_eq!(out.len(), 1, "{line}");
        out.remove(0)
    }

    #[test]
    fn flat_4624_network_logon() {
        let e = one(
            r#"{"EventID":4624,"Channel":"security","Hostname":"WORKSTATION6.theshire.local","@timestamp":"2020-09-22T18:53:32.340Z","LogonType":"3","TargetUserName":"pgustavo","TargetDomainName":"THESHIRE.LOCAL","IpAddress":"::ffff:172.18.39.5","IpPort":"62782","WorkstationName":"-","LogonProcessName":"Kerberos","AuthenticationPackageName":"Kerberos","LmPackageName":"-","Message":"An account was successfully logged on.\r\n"}"#,
        );
        assert_eq!(e.action, Action::LoggedIn);
        assert_eq!(e.category, Some(Category::Authentication));
        assert_eq!(e.outcome, Some(Outcome::Success));
        assert_eq!(e.user_name.as_deref(), Some("pgustavo"));
        assert_eq!(e.user_domain.as_deref(), Some("THESHIRE.LOCAL"));
        assert_eq!(e.source_ip, Some("172.18.39.5".parse().unwrap()));
        assert_eq!(e.source_port, Some(62782));
        assert_eq!(e.source_domain, None);
        assert_eq!(e.logon_type, Some(3));
        assert_eq!(e.auth_method.as_deref(), Some("Kerberos"));
        assert_eq!(e.host_name.as_deref(), Some("WORKSTATION6.theshire.local"));
        assert_eq!(e.ts.to_rfc3339(), "2020-09-22T18:53:32.340000Z");
    }

    #[test]
    fn winlogbeat_4625_with_status() {
        let e = one(
            r#"{"@timestamp":"2021-05-20T12:49:31.863Z","host":{"name":"fs01"},"winlog":{"event_id":"4625","channel":"Security","computer_name":"fs01.offsec.lan","event_data":{"TargetUserName":"admin","LogonType":8,"IpAddress":"-","Status":"0xc000006d","SubStatus":"0xc0000064","AuthenticationPackageName":"NTLM","LmPackageName":"NTLM V2"}}}"#,
        );
        assert_eq!(e.action, Action::LogonFailed);
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert_eq!(e.status(), Some("0xc000006d/0xc0000064"));
        assert_eq!(e.source_ip, None);
        assert_eq!(e.logon_type, Some(8));
        assert_eq!(e.auth_method.as_deref(), Some("NTLM (NTLM V2)"));
        assert_eq!(e.host_name.as_deref(), Some("fs01.offsec.lan"));
    }

    #[test]
    fn share_service_kerberos_and_sysmon() {
        let s = one(
            r#"{"EventID":5145,"Channel":"Security","Hostname":"WS6","@timestamp":"2020-09-22T18:53:32Z","SubjectUserName":"pgustavo","SubjectDomainName":"THESHIRE","IpAddress":"172.18.39.5","IpPort":"62782","ShareName":"\\\\*\\C$","RelativeTargetName":"ProgramData\\GruntHTTP.exe"}"#,
        );
        assert_eq!(
            (s.action.as_str(), s.share_name(), s.share_target()),
            (
                "share-object-checked",
                Some("\\\\*\\C$"),
                Some("ProgramData\\GruntHTTP.exe")
            )
        );
        let v = one(
            r#"{"EventID":7045,"Channel":"System","Hostname":"WS6","@timestamp":"2020-08-06T06:27:31.787Z","ServiceName":"OTR","ImagePath":"C:\\Windows\\System32\\GruntHTTP2.exe"}"#,
        );
        assert_eq!(
            (
                v.action.as_str(),
                v.service_name(),
                v.process_executable(),
                v.dataset.as_str()
            ),
            (
                "service-installed",
                Some("OTR"),
                Some("C:\\Windows\\System32\\GruntHTTP2.exe"),
                "windows.system"
            )
        );
        let k = one(
            r#"{"EventID":4771,"Channel":"Security","Computer":"rootdc1","TimeCreated":{"SystemTime":"2021-12-02T14:54:21.232643Z"},"TargetUserName":"bob","IpAddress":"::ffff:10.23.123.11","IpPort":"50000","Status":"0x18"}"#,
        );
        assert_eq!(
            (k.action.as_str(), k.outcome, k.source_ip),
            (
                "kerberos-preauth-failed",
                Some(Outcome::Failure),
                Some("10.23.123.11".parse().unwrap())
            )
        );
        assert_eq!(k.ts.to_rfc3339(), "2021-12-02T14:54:21.232643Z");
        let n = one(
            r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5","UtcTime":"2020-09-22 18:53:30.100","User":"THESHIRE\\pgustavo","Image":"C:\\x.exe","SourceIp":"172.18.39.5","SourcePort":"62782","DestinationIp":"172.18.39.6","DestinationPort":"445"}"#,
        );
        assert_eq!(
            (
                n.action.as_str(),
                n.user_name.as_deref(),
                n.user_domain.as_deref(),
                n.destination_port
            ),
            (
                "network-connection",
                Some("pgustavo"),
                Some("THESHIRE"),
                Some(445)
            )
        );
        assert_eq!(n.ts.to_rfc3339(), "2020-09-22T18:53:30.100000Z");
        // Event id 3 outside Sysmon is something else entirely.
        let mut out = Vec::new();
        WindowsJsonl
            .parse_line(
                br#"{"EventID":3,"Channel":"Microsoft-Windows-Kernel"}"#,
                &mut out,
            )
            .unwrap();
        assert!(out.is_empty());
    }

    fn label<'e>(e: &'e LogEvent, key: &str) -> Option<&'e str> {
        e.label(key)
    }

    #[test]
    fn flat_4778_4779_rdp_session_reconnect_and_disconnect() {
        let r = one(
            r#"{"EventID":4778,"Channel":"Security","Hostname":"fs01.offsec.lan","@timestamp":"2021-05-14T21:01:05.831Z","AccountName":"admmarsid","AccountDomain":"OFFSEC","LogonID":"0x6a423","SessionName":"RDP-Tcp#8","ClientName":"JUMP01","ClientAddress":"::ffff:10.23.23.9"}"#,
        );
        assert_eq!(r.action, Action::RdpSessionReconnected);
        assert_eq!(r.category, Some(Category::Session));
        assert_eq!(r.outcome, Some(Outcome::Success));
        assert_eq!(r.dataset, "windows.security");
        assert_eq!(r.user_name.as_deref(), Some("admmarsid"));
        assert_eq!(r.user_domain.as_deref(), Some("OFFSEC"));
        assert_eq!(r.source_ip, Some("10.23.23.9".parse().unwrap()));
        assert_eq!(r.source_domain.as_deref(), Some("JUMP01"));
        assert_eq!(r.host_name.as_deref(), Some("fs01.offsec.lan"));
        assert_eq!(r.logon_type, Some(10));
        assert_eq!(label(&r, "session_name"), Some("RDP-Tcp#8"));
        assert_eq!(label(&r, "logon_id"), Some("0x6a423"));
        // A console session (fast user switching): no remote source, no type 10.
        let d = one(
            r#"{"EventID":"4779","Channel":"Security","Hostname":"ws1","AccountName":"bob","AccountDomain":"CORP","LogonID":"0x1","SessionName":"Console","ClientName":"Unknown","ClientAddress":"LOCAL"}"#,
        );
        assert_eq!(d.action, Action::RdpSessionDisconnected);
        assert_eq!(d.category, Some(Category::Session));
        assert_eq!((d.source_ip, d.source_domain.as_deref()), (None, None));
        assert_eq!(d.logon_type, None);
        for addr in ["-", "127.0.0.1", "::1", ""] {
            let line = format!(
                r#"{{"EventID":4779,"Channel":"Security","SessionName":"RDP-Tcp#1","ClientAddress":"{addr}"}}"#
            );
            assert_eq!(one(&line).source_ip, None, "{addr}");
        }
    }

    #[test]
    fn winlogbeat_4779_and_4825_rdp_denied() {
        let d = one(
            r#"{"@timestamp":"2021-05-14T21:01:05.370Z","winlog":{"event_id":4779,"channel":"Security","computer_name":"fs01.offsec.lan","event_data":{"AccountName":"admmig","AccountDomain":"OFFSEC","LogonID":"0x13b5e1e","SessionName":"RDP-Tcp#8","ClientName":"JUMP01","ClientAddress":"10.23.23.9"}}}"#,
        );
        assert_eq!(d.action, Action::RdpSessionDisconnected);
        assert_eq!(d.user_name.as_deref(), Some("admmig"));
        assert_eq!(d.source_ip, Some("10.23.23.9".parse().unwrap()));
        assert_eq!(d.source_domain.as_deref(), Some("JUMP01"));
        assert_eq!(d.host_name.as_deref(), Some("fs01.offsec.lan"));
        assert_eq!(d.logon_type, Some(10));
        assert_eq!(d.ts.to_rfc3339(), "2021-05-14T21:01:05.370000Z");
        let n = one(
            r#"{"@timestamp":"2020-07-12T05:27:05.579Z","winlog":{"event_id":"4825","channel":"Security","computer_name":"fs02.offsec.lan","event_data":{"AccountName":"svc6test1","AccountDomain":"OFFSEC","LogonID":"0x3457272","ClientAddress":"::ffff:10.23.23.9"}}}"#,
        );
        assert_eq!(n.action, Action::RdpAccessDenied);
        assert_eq!(n.category, Some(Category::Authentication));
        assert_eq!(n.outcome, Some(Outcome::Failure));
        assert_eq!(n.user_name.as_deref(), Some("svc6test1"));
        assert_eq!(n.user_domain.as_deref(), Some("OFFSEC"));
        assert_eq!(n.source_ip, Some("10.23.23.9".parse().unwrap()));
        assert_eq!(n.host_name.as_deref(), Some("fs02.offsec.lan"));
    }

    #[test]
    fn terminal_services_1149_and_session_manager_21_24_25() {
        const RCM: &str = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational";
        const LSM: &str = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
        // Winlogbeat puts UserData/EventXML under winlog.user_data.
        let a = one(&format!(
            r#"{{"@timestamp":"2023-03-01T10:00:00Z","winlog":{{"event_id":1149,"channel":"{RCM}","computer_name":"srv1","user_data":{{"xml_name":"EventXML","Param1":"alice","Param2":"CORP","Param3":"::ffff:192.168.5.20"}}}}}}"#
        ));
        assert_eq!(a.action, Action::RdpAuthenticated);
        assert_eq!(a.category, Some(Category::Authentication));
        assert_eq!(a.outcome, Some(Outcome::Success));
        assert_eq!(a.dataset, "windows.terminalservices");
        assert_eq!(a.user_name.as_deref(), Some("alice"));
        assert_eq!(a.user_domain.as_deref(), Some("CORP"));
        assert_eq!(a.source_ip, Some("192.168.5.20".parse().unwrap()));
        assert_eq!(a.host_name.as_deref(), Some("srv1"));
        assert_eq!(a.logon_type, Some(10));
        // Flat shape: the EventXML fields sit at the top level.
        for (id, action) in [
            (21, Action::RdpSessionLogon),
            (24, Action::RdpSessionDisconnected),
            (25, Action::RdpSessionReconnected),
        ] {
            let e = one(&format!(
                r#"{{"EventID":{id},"Channel":"{LSM}","Hostname":"srv1","@timestamp":"2023-03-01T10:00:01Z","User":"CORP\\alice","SessionID":"3","Address":"192.168.5.20"}}"#
            ));
            assert_eq!(e.action, action);
            assert_eq!(e.category, Some(Category::Session));
            assert_eq!(
                (e.user_name.as_deref(), e.user_domain.as_deref()),
                (Some("alice"), Some("CORP"))
            );
            assert_eq!(e.source_ip, Some("192.168.5.20".parse().unwrap()));
            assert_eq!(e.logon_type, Some(10));
            assert_eq!(label(&e, "session_id"), Some("3"));
        }
        // A console logon: Address LOCAL, no source and no type 10.
        let c = one(&format!(
            r#"{{"EventID":21,"Channel":"{LSM}","User":"CORP\\bob","SessionID":"1","Address":"LOCAL"}}"#
        ));
        assert_eq!((c.source_ip, c.logon_type), (None, None));
        // The same ids in other channels are other events (Sysmon 24 is
        // clipboard capture; 1149 and 21 mean nothing in Security).
        let mut out = Vec::new();
        for line in [
            r#"{"EventID":24,"Channel":"Microsoft-Windows-Sysmon/Operational","User":"CORP\\bob"}"#
                .to_string(),
            r#"{"EventID":21,"Channel":"Security","User":"CORP\\bob","Address":"10.0.0.1"}"#
                .to_string(),
            format!(r#"{{"EventID":1149,"Channel":"{LSM}","Param1":"x"}}"#),
            format!(r#"{{"EventID":4778,"Channel":"{RCM}","AccountName":"x"}}"#),
        ] {
            WindowsJsonl.parse_line(line.as_bytes(), &mut out).unwrap();
        }
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_key_given_twice_keeps_its_last_value_and_the_record() {
        // NXLog-style: a header AccountName and the event's own; an
        // escaped key and an unknown nested object on the way.
        let e = one(
            r#"{"EventID":4778,"Hostname":"SRV1","EventTime":"2024-03-04 10:00:00","AccountName":"SYSTEM","AccountName":"alice","AccountDomain":"CORP","Client\u004eame":"WS1","ClientAddress":"10.0.0.5","SessionName":"RDP-Tcp#3","Extra":{"a":[1,2,{"b":null}]}}"#,
        );
        assert_eq!(e.action, Action::RdpSessionReconnected);
        assert_eq!(e.user_name.as_deref(), Some("alice"));
        assert_eq!(e.source_domain.as_deref(), Some("WS1"));
        assert_eq!(e.source_ip, Some("10.0.0.5".parse().unwrap()));
        let e = one(
            r#"{"winlog":{"event_id":4624,"computer_name":"DC1","event_data":{"TargetUserName":"x","TargetUserName":"bob","LogonType":"3"}},"@timestamp":"2024-03-04T10:00:00Z"}"#,
        );
        assert_eq!(e.user_name.as_deref(), Some("bob"));
    }

    #[test]
    fn hostile_lines_are_skipped_not_panicked() {
        let mut out = Vec::new();
        for bad in [
            &b"garbage"[..],
            b"{",
            b"{\"EventID\":[1,2]}",
            b"{\"EventID\":\"abc\"}",
            b"\xff\xfe{}",
            b"{}",
            b"{\"EventID\":4624,\"IpPort\":{\"a\":[1]}}",
        ] {
            let _ = WindowsJsonl.parse_line(bad, &mut out);
        }
        assert_eq!(
            WindowsJsonl.parse_line(b"{}", &mut out),
            Err(Skip("no event id"))
        );
    }

    #[test]
    fn times_and_addresses() {
        assert_eq!(
            Timestamp::parse_rfc3339("2020-09-22 14:53:30")
                .unwrap()
                .to_rfc3339(),
            "2020-09-22T14:53:30.000000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2024-01-05T10:11:12.5+09:00")
                .unwrap()
                .to_rfc3339(),
            "2024-01-05T01:11:12.500000Z"
        );
        assert_eq!(Timestamp::parse_rfc3339("nonsense"), None);
        assert_eq!(source_addr(Some("::1")), None);
        assert_eq!(source_addr(Some("127.0.0.1")), None);
        assert_eq!(
            source_addr(Some("fe80::1")),
            Some("fe80::1".parse().unwrap())
        );
    }
}
