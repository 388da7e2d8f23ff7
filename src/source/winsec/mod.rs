//! Windows event logs in, normalised events out.
//!
//! Reads JSON Lines exports in the shapes found in the wild and maps the
//! events that matter for lateral movement to [`LogEvent`]s. Only the fields
//! used are deserialised, borrowed from the line where possible; values that
//! arrive as numbers or strings are both accepted, and every text kept is
//! cut to [`MAX_TEXT`] bytes (script text to [`MAX_SCRIPT`]), so a hostile
//! line cannot make one event hold megabytes.
//!
//! ## Shapes
//!
//! | shape | id | channel | computer | time |
//! |---|---|---|---|---|
//! | Winlogbeat 7 and 8, Elastic Agent | `winlog.event_id` (number or string), else `event.code` | `winlog.channel`, else `winlog.provider_name` | `winlog.computer_name` | `@timestamp` |
//! | flat: OTRF Security-Datasets, NXLog `to_json` | `EventID` | `Channel`, else `SourceName` | `Hostname`, else `Computer` | `@timestamp`, else `TimeCreated`, else Sysmon's `UtcTime`, else `EventTime` (NXLog's local `YYYY-MM-DD HH:MM:SS`, read as UTC) |
//! | Splunk `search … -output json` (`{"result":{…}}`): Windows field names, or the Windows TA's (`Account_Name`, `Source_Network_Address`, …, listed in docs/inputs.md) | `EventCode` (or `EventID`) | `LogName` (or `Channel`), else `SourceName` | `ComputerName` (or `Computer`) | `_time` |
//! | Splunk `XmlWinEventLog`: `result._raw` holding the event's XML | `System/EventID` | `System/Channel` | `System/Computer` | `System/TimeCreated/@SystemTime` |
//!
//! Event fields come from `winlog.event_data` (or `winlog.user_data`), from
//! the top level of the flat shapes, or from the XML's `EventData/Data[@Name]`
//! and `UserData` leaves. The account a record was written under (the
//! header user, for WinRM and PowerShell events) is `winlog.user.name` and
//! `.domain`, the flat `AccountName`/`Domain`, or the SID (`UserID`,
//! `System/Security/@UserID`). EVTX files go through the same mapping
//! ([`crate::source::evtx`]).
//!
//! ## Events
//!
//! | channel | id | category | action | fields |
//! |---|---|---|---|---|
//! | Security | 4624 | authentication | `logged-in` | target user, TargetUserSid → `user.id` (domain and local account SIDs, `S-1-5-21-…`, only), IpAddress/IpPort → `source.*`, WorkstationName → `source.domain`, logon type, package, logon process, subject |
//! | Security | 4625 | authentication (failure) | `logon-failed` | as 4624; `Status/SubStatus` → `event.reason`; label `status_reason` |
//! | Security | 4634, 4647 | session | `logged-out` | target user, logon type |
//! | Security | 4648 | authentication | `explicit-credential-logon` | target user, subject, TargetServerName → `destination.domain`, ProcessName → `process.executable`, IpAddress → `source.ip` |
//! | Security | 4672 | iam | `special-privileges-assigned` | subject user; label `privileges` |
//! | Security | 4662 (replication GUIDs in Properties only) | iam | `directory-replication-requested` | subject user; labels `replication_rights`, `object_name` |
//! | Security | 4688 | process | `process-created` | NewProcessName, CommandLine, subject; labels `parent_process_name`, `process_id`, `parent_process_id` |
//! | Security | 4697; System 7045 | process | `service-installed` | ServiceName, ServiceFileName/ImagePath; labels `service_account` (not from NXLog's flat 7045, whose AccountName may be the record's user), `service_start_type`, `service_type` |
//! | Security | 4698, 4702 | iam | `scheduled-task-created`, `scheduled-task-updated` | subject user; TaskName → label `task_name`; the task's `Exec/Command` → `process.executable`, with its `Arguments` → `process.command_line`; `Principal/UserId` → label `task_run_as` |
//! | Security | 4768, 4769, 4771 | authentication | `kerberos-tgt-request`, `kerberos-service-ticket`, `kerberos-preauth-failed` | target user, source, ServiceName; Status (or FailureCode) → `event.reason`, failure when not 0x0; labels `ticket_encryption_type`, `ticket_encryption` (`RC4-HMAC` for 0x17), `pre_auth_type`, `status_reason` |
//! | Security | 4776 | authentication | `ntlm-credential-validation` | target user, Workstation → `source.domain`; Status (or Error) → `event.reason`, failure when not 0x0; label `status_reason` |
//! | Security | 5140, 5145 | network | `share-accessed`, `share-object-checked` | subject user, source, ShareName, RelativeTargetName; on `IPC$` labels `pipe_name` and `pipe_purpose` (svcctl, atsvc, winreg, samr, lsarpc, drsuapi, srvsvc, …) |
//! | Security | 5156 (outbound only) | network | `network-connection` | SourceAddress/SourcePort → `source.*`, DestAddress/DestPort → `destination.*`, Application → `process.executable`, Protocol → `network.iana_number`; label `direction` `egress` |
//! | Security | 4778, 4779 | session | `rdp-session-reconnected`, `rdp-session-disconnected` | AccountName, ClientAddress, ClientName; labels `session_name`, `logon_id` |
//! | Security | 4825 | authentication (failure) | `rdp-access-denied` | AccountName, ClientAddress |
//! | TerminalServices-RemoteConnectionManager | 1149 | authentication | `rdp-authenticated` | Param1/2 user, Param3 source |
//! | TerminalServices-LocalSessionManager | 21, 22, 24, 25 | session | `rdp-session-logon`, `rdp-shell-started`, `rdp-session-disconnected`, `rdp-session-reconnected` | User, Address; label `session_id` |
//! | Sysmon | 1 | process | `process-created` | Image, CommandLine, User; labels `parent_process_name`, `parent_command_line`, `hashes`, `process_id`, `parent_process_id` |
//! | Sysmon | 3 | network | `network-connection` | SourceIp/Port/Hostname → `source.*`, Destination… → `destination.*`, Image, User; label `direction` |
//! | Sysmon | 7 (loaded into lsass.exe only) | process | `image-loaded` | Image; labels `image_loaded`, `signed`, `signature` |
//! | Sysmon | 8 | process | `remote-thread-created` | SourceImage; labels `target_image`, `start_module`, `start_function` |
//! | Sysmon | 10 (TargetImage lsass.exe only) | process | `lsass-accessed` | SourceImage, SourceUser; labels `target_image`, `granted_access`, `source_process_id` |
//! | Sysmon | 11 | — | `file-created` | Image, User; labels `target_filename`, `process_id`, `written_by_system` (process System, pid 4: how files written by SMB clients appear, besides the kernel's own) |
//! | Sysmon | 12, 13 (service and Run keys only) | — | `registry-key-changed`, `registry-value-set` | Image; service name; labels `registry_key`, `registry_kind`, `registry_event_type`, `registry_data` |
//! | Sysmon | 17, 18 | — | `pipe-created`, `pipe-connected` | Image, User; labels `pipe_name`, `pipe_tool` (psexec, remcom, paexec, cobalt-strike) |
//! | Sysmon | 22 | network | `dns-query` | QueryName → `dns.question.name`, QueryResults → `dns.answers`, Image; QueryStatus → outcome |
//! | WinRM/Operational | 6 | session | `winrm-session-created` | connection → `destination.domain`/`.ip`, `.port`; label `connection`; header user |
//! | WinRM/Operational | 91 | session | `winrm-shell-created` | header user; label `resource_uri` |
//! | WinRM/Operational | 169 | authentication | `winrm-authenticated` | username → user, authenticationMechanism → auth method |
//! | PowerShell/Operational | 4103, 4104 naming Invoke-Command, Enter-PSSession or New-PSSession | process | `remote-powershell` | `-ComputerName` → `destination.*`; 4103: ContextInfo's User, Host Application → `process.command_line`; labels `script_block_text` / `payload` (first 1 KiB), `script_block_id`, `script_path` |
//! | PowerShell/Operational | other 4104 | process | `powershell-script-block` | as above |
//!
//! ECS has `file` and `registry` categories; [`crate::model::event::Category`] does not yet, so
//! the file, registry and pipe events carry no `event.category`.
//!
//! The RDP events take `source.ip` from ClientAddress (4778/4779/4825),
//! Param3 (1149) or Address (21/22/24/25), normalised like IpAddress
//! (`LOCAL` is absent too); ClientName becomes `source.domain` (`Unknown` is
//! absent). Logon type 10 is set only where the event shows a remote
//! session: an `RDP-…` SessionName, a remote Address, or 1149 and 4825,
//! which are RDP by definition.
//!
//! Sysmon 3 writes the side that opened the connection as Source whichever
//! host logged it: on an inbound connection (`Initiated` false) SourceIp is
//! the remote peer and DestinationIp this host. `source.*` is therefore
//! always the initiator, and the label `direction` says `egress` (this host
//! initiated) or `ingress`.
//!
//! Source addresses are normalised: `::ffff:10.1.2.3` becomes `10.1.2.3`;
//! `-`, empty, `::1` and `127.0.0.1` mean "no remote source" and are absent.

mod remote;
mod security;
#[cfg(test)]
mod shapes_tests;
mod splunk_ta;
mod sysmon;
#[cfg(test)]
mod tests;
mod values;
mod xml;

use values::{Inner, Loose, Multi};

use crate::model::event::{LogEvent, Text as EventText, Timestamp};
use crate::source::{Context, LineFormat, LogFormatSpec, Reader, Skip, Sniff};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// The most bytes of one text field an event keeps (command lines, paths).
pub const MAX_TEXT: usize = 4096;

/// The most bytes of PowerShell script text an event keeps.
pub const MAX_SCRIPT: usize = 1024;

/// `s` cut to at most `max` bytes, at a character boundary.
pub(crate) fn bounded(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.get(..cut).unwrap_or("")
}

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

    /// The value as event text, cut to [`MAX_TEXT`] bytes.
    fn owned(&self) -> Option<EventText> {
        self.owned_max(MAX_TEXT)
    }

    /// The value as event text, cut to `max` bytes (at a character boundary).
    fn owned_max(&self, max: usize) -> Option<EventText> {
        self.get().map(|s| EventText::from(bounded(s, max)))
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
        /// the header fields of the flat shapes, so one pass over a line reads
        /// every shape (nothing else in the line is kept).
        #[derive(Debug, Default)]
        #[allow(non_snake_case, missing_docs)]
        pub struct EventData<'a> {
            $(pub $field: Text<'a>,)*
            winlog: Option<Box<Winlog<'a>>>,
            /// Splunk's `result` object: the record itself, one level down.
            result: Option<Box<EventData<'a>>>,
            /// ECS `event` of Winlogbeat 8 and Elastic Agent (`event.code`).
            event: Loose<EcsEvent<'a>>,
            /// The Splunk Windows TA's `Account_Name`: one value, or the
            /// subject's and the target's.
            ta_account: Multi<'a>,
            /// The Splunk Windows TA's `Account_Domain`, likewise.
            ta_domain: Multi<'a>,
        }

        impl<'a> EventData<'a> {
            /// Sets the field named `key` (a Windows event-data name) to `v`;
            /// false when no field has that name.
            pub fn set(&mut self, key: &str, v: Text<'a>) -> bool {
                match key {
                    $($key => self.$field = v,)*
                    _ => return false,
                }
                true
            }
        }

        impl<'de: 'a, 'a> Deserialize<'de> for EventData<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de> Visitor<'de> for V<'de> {
                    type Value = EventData<'de>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<M: de::MapAccess<'de>>(self, m: M) -> Result<Self::Value, M::Error> {
                        read_map(m, true)
                    }
                }
                d.deserialize_map(V(std::marker::PhantomData))
            }
        }

        /// Reads one object's fields. The wrappers (`winlog`, `result`,
        /// `event`) are read at the top only: what they hold is read with
        /// `top` false, so nesting stays two levels deep whatever the line.
        fn read_map<'de, M: de::MapAccess<'de>>(
            mut m: M,
            top: bool,
        ) -> Result<EventData<'de>, M::Error> {
            let mut out = EventData::default();
            // Keys borrowed from the line (no allocation) unless escaped.
            while let Some(Text(key)) = m.next_key::<Text<'de>>()? {
                match key.as_deref().unwrap_or("") {
                    $($key => out.$field = m.next_value()?,)*
                    "winlog" if top => out.winlog = m.next_value()?,
                    "result" if top => out.result = m.next_value::<Inner<'de>>()?.0.map(Box::new),
                    "event" if top => out.event = m.next_value()?,
                    "Account_Name" => out.ta_account = m.next_value()?,
                    "Account_Domain" => out.ta_domain = m.next_value()?,
                    _ => {
                        m.next_value::<de::IgnoredAny>()?;
                    }
                }
            }
            Ok(out)
        }
    };
}

event_data! {
    TargetUserName: "TargetUserName",
    TargetUserSid: "TargetUserSid",
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
    FailureCode: "FailureCode",
    Error: "Error",
    TicketEncryptionType: "TicketEncryptionType",
    PreAuthType: "PreAuthType",
    TargetServerName: "TargetServerName",
    ProcessName: "ProcessName",
    PrivilegeList: "PrivilegeList",
    ServiceName: "ServiceName",
    ImagePath: "ImagePath",
    ServiceFileName: "ServiceFileName",
    ServiceAccount: "ServiceAccount",
    ServiceStartType: "ServiceStartType",
    ServiceType: "ServiceType",
    StartType: "StartType",
    TaskName: "TaskName",
    TaskContent: "TaskContent",
    TaskNewContent: "TaskNewContent",
    Properties: "Properties",
    ObjectName: "ObjectName",
    AccessMask: "AccessMask",
    ShareName: "ShareName",
    RelativeTargetName: "RelativeTargetName",
    NewProcessName: "NewProcessName",
    NewProcessId: "NewProcessId",
    ProcessId: "ProcessId",
    ParentProcessName: "ParentProcessName",
    CommandLine: "CommandLine",
    // Sysmon.
    Image: "Image",
    User: "User",
    ParentImage: "ParentImage",
    ParentCommandLine: "ParentCommandLine",
    ParentProcessId: "ParentProcessId",
    Hashes: "Hashes",
    Initiated: "Initiated",
    SourceIp: "SourceIp",
    SourceAddress: "SourceAddress",
    DestAddress: "DestAddress",
    DestPort: "DestPort",
    Direction: "Direction",
    Application: "Application",
    Protocol: "Protocol",
    SourcePort: "SourcePort",
    SourceHostname: "SourceHostname",
    DestinationIp: "DestinationIp",
    DestinationPort: "DestinationPort",
    DestinationHostname: "DestinationHostname",
    ImageLoaded: "ImageLoaded",
    Signed: "Signed",
    Signature: "Signature",
    SourceImage: "SourceImage",
    SourceProcessId: "SourceProcessId",
    SourceUser: "SourceUser",
    TargetImage: "TargetImage",
    GrantedAccess: "GrantedAccess",
    StartModule: "StartModule",
    StartFunction: "StartFunction",
    TargetFilename: "TargetFilename",
    TargetObject: "TargetObject",
    Details: "Details",
    EventType: "EventType",
    PipeName: "PipeName",
    QueryName: "QueryName",
    QueryStatus: "QueryStatus",
    QueryResults: "QueryResults",
    UtcTime: "UtcTime",
    // RDP.
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
    // WinRM.
    connection: "connection",
    resourceUri: "resourceUri",
    username: "username",
    authenticationMechanism: "authenticationMechanism",
    // PowerShell.
    ScriptBlockText: "ScriptBlockText",
    ScriptBlockId: "ScriptBlockId",
    Path: "Path",
    Payload: "Payload",
    ContextInfo: "ContextInfo",
    // The header user: NXLog's `Domain` and the SID (`UserID`, EVTX
    // `Security/@UserID`); `HeaderUser`/`HeaderDomain` are filled from
    // Winlogbeat's `winlog.user`.
    Domain: "Domain",
    UserID: "UserID",
    HeaderUser: "\u{0}HeaderUser",
    HeaderDomain: "\u{0}HeaderDomain",
    // Header fields of the flat shapes (unused inside winlog.event_data).
    Timestamp: "@timestamp",
    EventID: "EventID",
    Channel: "Channel",
    SourceName: "SourceName",
    Hostname: "Hostname",
    Computer: "Computer",
    TimeCreated: "TimeCreated",
    EventTime: "EventTime",
    // Splunk's search results.
    EventCode: "EventCode",
    ComputerName: "ComputerName",
    LogName: "LogName",
    SplunkTime: "_time",
    Raw: "_raw",
    // The Splunk Windows TA's names of classic `WinEventLog` fields.
    TaLogonType: "Logon_Type",
    TaSourceNetworkAddress: "Source_Network_Address",
    TaClientAddress: "Client_Address",
    TaSourceAddress: "Source_Address",
    TaNetworkAddress: "Network_Address",
    TaSourcePort: "Source_Port",
    TaClientPort: "Client_Port",
    TaWorkstationName: "Workstation_Name",
    TaSourceWorkstation: "Source_Workstation",
    TaAuthenticationPackage: "Authentication_Package",
    TaLogonProcess: "Logon_Process",
    TaLogonAccount: "Logon_Account",
    TaShareName: "Share_Name",
    TaRelativeTargetName: "Relative_Target_Name",
    TaServiceName: "Service_Name",
    TaServiceFileName: "Service_File_Name",
    TaServiceAccount: "Service_Account",
    TaNewProcessName: "New_Process_Name",
    TaProcessCommandLine: "Process_Command_Line",
    TaCreatorProcessName: "Creator_Process_Name",
    TaProcessName: "Process_Name",
    TaSubStatus: "Sub_Status",
    TaErrorCode: "Error_Code",
    TaResultCode: "Result_Code",
    TaFailureCode: "Failure_Code",
    TaTicketEncryptionType: "Ticket_Encryption_Type",
    TaTargetServerName: "Target_Server_Name",
    TaTaskName: "Task_Name",
}

/// Where an event came from and when, whatever the export's shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Event id.
    pub event_id: Option<u32>,
    /// Channel (`Security`, `System`, `Microsoft-Windows-Sysmon/Operational`);
    /// the provider's name stands in when an export has no channel.
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
    provider_name: Text<'a>,
    #[serde(borrow)]
    computer_name: Text<'a>,
    #[serde(borrow)]
    event_data: Inner<'a>,
    /// Winlogbeat's name for `UserData` (Terminal Services events).
    #[serde(borrow)]
    user_data: Inner<'a>,
    /// The account the record was written under, as Winlogbeat resolves it.
    #[serde(borrow)]
    user: Loose<WinlogUser<'a>>,
}

/// `winlog.user`: the record's security identifier and its resolved name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WinlogUser<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(borrow)]
    domain: Text<'a>,
    #[serde(borrow)]
    identifier: Text<'a>,
}

/// ECS `event` of Winlogbeat 8 and Elastic Agent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EcsEvent<'a> {
    #[serde(borrow)]
    code: Text<'a>,
    #[serde(borrow)]
    provider: Text<'a>,
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

/// Adds a source-specific detail to `labels`, when present (cut to
/// [`MAX_TEXT`] bytes).
fn label(e: &mut LogEvent, key: &str, v: Option<&str>) {
    if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty() && *v != "-") {
        e.push_label(key.into(), bounded(v, MAX_TEXT).into());
    }
}

/// Splits `DOMAIN\user` into (user, domain).
fn split_user(s: Option<&str>) -> (Option<EventText>, Option<EventText>) {
    match s.map(|s| bounded(s, MAX_TEXT)) {
        Some(u) => match u.split_once('\\') {
            Some((d, n)) => (Some(n.into()), Some(d.into())),
            None => (Some(u.into()), None),
        },
        None => (None, None),
    }
}

/// True when `hay` contains `needle`, ASCII case ignored.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    !n.is_empty() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// True when `s` ends with `suffix`, ASCII case ignored.
fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.as_bytes()
            .get(s.len() - suffix.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// What a Windows NTSTATUS or Kerberos result code means, for the codes
/// that tell a password guess from a user guess.
fn status_reason(code: &str, kerberos: bool) -> Option<&'static str> {
    let c = code
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X");
    let n = u32::from_str_radix(c, 16).ok()?;
    if kerberos {
        return Some(match n {
            0x6 => "unknown principal",
            0x12 => "client revoked (disabled, expired or locked out)",
            0x17 => "password expired",
            0x18 => "pre-authentication failed (wrong password)",
            0x25 => "clock skew too great",
            _ => return None,
        });
    }
    Some(match n {
        0xC000_006A => "wrong password",
        0xC000_0064 => "no such user",
        0xC000_006D => "bad user name or authentication information",
        0xC000_006F => "outside allowed hours",
        0xC000_0070 => "workstation restriction",
        0xC000_0071 => "password expired",
        0xC000_0072 => "account disabled",
        0xC000_0193 => "account expired",
        0xC000_0224 => "password must change",
        0xC000_0234 => "account locked out",
        0xC000_015B => "logon type not granted",
        _ => return None,
    })
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
    /// `Microsoft-Windows-WinRM/Operational`.
    WinRm,
    /// `Microsoft-Windows-PowerShell/Operational` (not the classic
    /// `Windows PowerShell` log, whose ids are others).
    PowerShell,
    /// Security, System and everything else.
    Other,
}

impl Chan {
    fn of(channel: Option<&str>) -> Chan {
        let Some(c) = channel else {
            return Chan::Other;
        };
        let has = |needle: &str| contains_ci(c, needle);
        if has("Sysmon") {
            Chan::Sysmon
        } else if has("TerminalServices-LocalSessionManager") {
            Chan::SessionManager
        } else if has("TerminalServices-RemoteConnectionManager") {
            Chan::ConnectionManager
        } else if has("Windows-WinRM") {
            Chan::WinRm
        } else if has("Windows-PowerShell") {
            Chan::PowerShell
        } else {
            Chan::Other
        }
    }

    fn dataset(self) -> &'static str {
        match self {
            Chan::Sysmon => "windows.sysmon",
            Chan::SessionManager | Chan::ConnectionManager => "windows.terminalservices",
            Chan::WinRm => "windows.winrm",
            Chan::PowerShell => "windows.powershell",
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
    let mut e = LogEvent {
        ts: h.ts.unwrap_or_default(),
        code: Some(id),
        dataset: chan.dataset().into(),
        host_name: h
            .computer
            .as_deref()
            .map(|c| EventText::from(bounded(c, MAX_TEXT))),
        ..LogEvent::default()
    };
    let mapped = match chan {
        Chan::Sysmon => sysmon::map(id, d, &mut e),
        Chan::WinRm | Chan::PowerShell => remote::map(id, chan, d, &mut e),
        Chan::SessionManager | Chan::ConnectionManager | Chan::Other => {
            security::map(id, chan, d, &mut e)
        }
    };
    if !mapped {
        return None;
    }
    if chan == Chan::Sysmon && e.ts == Timestamp::default() {
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

/// Windows events as JSON Lines, any of the shapes in the module's table.
#[derive(Debug, Default, Clone, Copy)]
pub struct WindowsJsonl;

/// The first of `texts` that holds a time.
fn first_time(texts: &[&Text<'_>]) -> Option<Timestamp> {
    texts
        .iter()
        .find_map(|t| t.get().and_then(Timestamp::parse_rfc3339))
}

impl LineFormat for WindowsJsonl {
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
        let mut rec: EventData<'_> = serde_json::from_slice(line).map_err(json_skip)?;
        // Splunk: the record is the `result` object.
        if let Some(inner) = rec.result.take() {
            rec = *inner;
        }
        // Splunk's XmlWinEventLog: the whole event is XML in `_raw`.
        if let Some(raw) = rec.Raw.get()
            && raw.starts_with("<Event")
            && let Some((header, data)) = xml::read_event(raw, first_time(&[&rec.SplunkTime]))
        {
            if let Some(e) = map_event(&header, &data) {
                out.push(e);
            }
            return Ok(());
        }
        let winlogbeat = rec
            .winlog
            .as_ref()
            .is_some_and(|w| w.event_id.get().is_some())
            || rec.event.0.as_ref().is_some_and(|e| e.code.get().is_some());
        let (header, data) = match rec.winlog.take().filter(|_| winlogbeat) {
            Some(w) => {
                let w = *w;
                let event = rec.event.0.unwrap_or_default();
                let id = w.event_id.get().or(event.code.get()).map(str::to_string);
                let channel = w
                    .channel
                    .0
                    .clone()
                    .filter(|_| w.channel.get().is_some())
                    .or_else(|| w.provider_name.0.clone())
                    .or_else(|| event.provider.0.clone());
                let ts = first_time(&[&rec.Timestamp]);
                let mut data = w.user_data.0.or(w.event_data.0).unwrap_or_default();
                if let Some(u) = w.user.0 {
                    data.HeaderUser = u.name;
                    data.HeaderDomain = u.domain;
                    if data.UserID.get().is_none() {
                        data.UserID = u.identifier;
                    }
                }
                ((id, channel, w.computer_name.0.clone(), ts), data)
            }
            None => {
                let id = rec
                    .EventID
                    .get()
                    .or(rec.EventCode.get())
                    .map(str::to_string);
                fn pick<'a>(texts: [&Text<'a>; 3]) -> Option<Cow<'a, str>> {
                    texts
                        .into_iter()
                        .find(|t| t.get().is_some())
                        .and_then(|t| t.0.clone())
                }
                let channel = pick([&rec.Channel, &rec.LogName, &rec.SourceName]);
                let computer = pick([&rec.Hostname, &rec.Computer, &rec.ComputerName]);
                let ts = first_time(&[
                    &rec.Timestamp,
                    &rec.TimeCreated,
                    &rec.SplunkTime,
                    &rec.UtcTime,
                    &rec.EventTime,
                ]);
                ((id, channel, computer, ts), rec)
            }
        };
        let (id, channel, computer, ts) = header;
        let Some(event_id) = id else {
            return Err(Skip("no event id"));
        };
        let Ok(event_id) = event_id.parse::<u32>() else {
            return Err(Skip("event id is not a number"));
        };
        let mut data = data;
        if data.EventCode.get().is_some() {
            splunk_ta::fill(event_id, &mut data);
        }
        // Winlogbeat's `@timestamp` is the event's; a Sysmon record without
        // one takes its own UtcTime (in map_event).
        let header = Header {
            event_id: Some(event_id),
            channel,
            computer,
            ts,
        };
        if let Some(e) = map_event(&header, &data) {
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
        "Windows events as JSON Lines (Winlogbeat, flat OTRF/NXLog, Splunk JSON)"
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
    has(b"\"EventID\"")
        || has(b"\"event_id\"")
        || has(b"\"winlog\"")
        || has(b"\"EventCode\"")
        // Splunk's XmlWinEventLog: the event id is inside `_raw`.
        || (has(b"\"result\"") && has(b"<EventID"))
}
