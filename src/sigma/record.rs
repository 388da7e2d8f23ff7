//! A raw Windows record as Sigma sees it: one flat object under Sigma's
//! Windows field names (`EventID`, `Channel`, `Provider_Name`, `Computer`,
//! and each event-data field under its own name: `Image`, `CommandLine`,
//! `ServiceName`, …), and the logsource (product, service, category) its
//! channel and event id stand for.
//!
//! Part of the `sigma` stage: [`crate::sigma::scan`] builds one per record
//! and evaluates the rules over it; nothing of it is kept after a record
//! unless a rule matched.
//!
//! Shapes read (those of `source::winsec` and `source::evtx`):
//! Winlogbeat and Elastic Agent (`winlog.event_data.X` → `X`,
//! `winlog.channel`, `winlog.event_id`, `winlog.provider_name`,
//! `winlog.computer_name`), the flat OTRF and NXLog shape (top-level
//! fields; `SourceName` stands in for `Provider_Name`, `Hostname` for
//! `Computer`), Splunk's `result` wrapper, and the JSON the `evtx` crate
//! renders (`Event.System.*`, `Event.EventData.*`, the first element of
//! `Event.UserData`). Security 4688 also answers Sysmon's names (`Image`,
//! `ParentImage`), as Sigma's Windows pipeline maps them.

use crate::model::event::Timestamp;
use rsigma_parser::LogSource;
use serde_json::{Map, Value};

/// `s` cut to at most `max` bytes, at a character boundary.
pub fn bounded(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.get(..cut).unwrap_or("")
}

/// One record, flattened.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// The fields under Sigma's names.
    pub fields: Value,
    /// The record's time, when it tells one.
    pub ts: Option<Timestamp>,
    /// Set for a Linux record (its logsource and what its alert names);
    /// `None` for a Windows record, whose logsource its fields tell.
    pub linux: Option<Linux>,
}

/// What a Linux record stands for beside its fields: kept out of the
/// fields so that keyword rules search the message (syslog) or the audit
/// record's own values only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Linux {
    /// Sigma's services it belongs to (`sshd`, `auth`, `syslog`, …; `auditd`).
    pub services: &'static [&'static str],
    /// Its category (`process_creation` for an audit `EXECVE` record).
    pub category: Option<&'static str>,
    /// The host that wrote it, when the log says.
    pub host: Option<String>,
    /// The account it names, when known.
    pub user: Option<String>,
    /// The remote address it names, when known.
    pub source_ip: Option<std::net::IpAddr>,
}

impl Record {
    /// A field as text (numbers written out), if present.
    pub fn text(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The event id.
    pub fn event_id(&self) -> Option<u32> {
        event_id_of(self.fields.get("EventID")?)
    }

    /// The service and categories of the record's logsource, as
    /// [`logsource_keys`] gives them.
    pub fn logsource_parts(&self) -> (Option<&'static str>, &'static [&'static str]) {
        logsource_of(
            self.fields.get("Channel"),
            self.fields.get("Provider_Name"),
            self.fields.get("EventID"),
        )
    }

    /// The logsources the record stands for: usually one; a Sysmon registry
    /// event is both `registry_event` and its specific category.
    pub fn logsources(&self) -> Vec<LogSource> {
        if let Some(l) = &self.linux {
            return linux_logsources(l);
        }
        let channel = self.text("Channel").unwrap_or_default();
        let provider = self.text("Provider_Name").unwrap_or_default();
        let id = self.event_id();
        logsources(&channel, &provider, id)
    }
}

/// An event id value read as a number (a number, or text holding one).
fn event_id_of(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A value as text without copying a string; empty when absent.
fn text_of(v: Option<&Value>) -> std::borrow::Cow<'_, str> {
    match v {
        Some(Value::String(s)) => std::borrow::Cow::Borrowed(s.as_str()),
        Some(Value::Number(n)) => std::borrow::Cow::Owned(n.to_string()),
        Some(Value::Bool(b)) => std::borrow::Cow::Owned(b.to_string()),
        _ => std::borrow::Cow::Borrowed(""),
    }
}

/// [`Record::logsource_parts`] from the record's `Channel`,
/// `Provider_Name` and `EventID` values, already found.
pub(crate) fn logsource_of(
    channel: Option<&Value>,
    provider: Option<&Value>,
    event_id: Option<&Value>,
) -> (Option<&'static str>, &'static [&'static str]) {
    logsource_keys(
        &text_of(channel),
        &text_of(provider),
        event_id.and_then(event_id_of),
    )
}

/// Reads one JSON line of any shape into a [`Record`]; `None` when it is
/// not a JSON object.
pub fn from_json(line: &[u8]) -> Option<Record> {
    let v: Value = serde_json::from_slice(line).ok()?;
    from_value(v)
}

/// [`from_json`] over an already parsed value.
pub fn from_value(v: Value) -> Option<Record> {
    let Value::Object(mut top) = v else {
        return None;
    };
    if let Some(Value::Object(inner)) = top.remove("result") {
        top = inner;
    }
    let mut out = Map::new();
    let mut ts = None;
    if let Some(Value::Object(event)) = top.get("Event")
        && let Some(Value::Object(sys)) = event.get("System")
    {
        // The evtx crate's rendering.
        copy_text(sys, "EventID", &mut out, "EventID");
        copy_text(sys, "Channel", &mut out, "Channel");
        copy_text(sys, "Computer", &mut out, "Computer");
        copy_text(sys, "Level", &mut out, "Level");
        copy_text(sys, "Task", &mut out, "Task");
        copy_text(sys, "Keywords", &mut out, "Keywords");
        copy_text(sys, "EventRecordID", &mut out, "EventRecordID");
        if let Some(name) = attr(sys.get("Provider"), "Name") {
            out.insert("Provider_Name".into(), Value::String(name));
        }
        if let Some(t) = attr(sys.get("TimeCreated"), "SystemTime") {
            ts = Timestamp::parse_rfc3339(&t);
        }
        if let Some(Value::Object(data)) = event.get("EventData") {
            merge(data, &mut out);
        }
        if let Some(Value::Object(user)) = event.get("UserData")
            && let Some((_, Value::Object(inner))) = user.iter().find(|(k, _)| *k != "#attributes")
        {
            merge(inner, &mut out);
        }
    } else if let Some(Value::Object(w)) = top.get("winlog") {
        copy_text(w, "event_id", &mut out, "EventID");
        copy_text(w, "channel", &mut out, "Channel");
        copy_text(w, "provider_name", &mut out, "Provider_Name");
        copy_text(w, "computer_name", &mut out, "Computer");
        copy_text(w, "record_id", &mut out, "EventRecordID");
        if !out.contains_key("EventID")
            && let Some(Value::Object(e)) = top.get("event")
        {
            copy_text(e, "code", &mut out, "EventID");
        }
        for key in ["event_data", "user_data"] {
            if let Some(Value::Object(data)) = w.get(key) {
                merge(data, &mut out);
            }
        }
        ts = top
            .get("@timestamp")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339);
    } else {
        for k in ["@timestamp", "TimeCreated", "_time", "UtcTime", "EventTime"] {
            if let Some(t) = top.get(k).and_then(Value::as_str)
                && let Some(t) = Timestamp::parse_rfc3339(t)
            {
                ts = Some(t);
                break;
            }
        }
        for (alias, name) in [
            ("SourceName", "Provider_Name"),
            ("ProviderName", "Provider_Name"),
            ("Hostname", "Computer"),
            ("ComputerName", "Computer"),
            ("EventCode", "EventID"),
            ("LogName", "Channel"),
        ] {
            if !top.contains_key(name)
                && let Some(v) = top.get(alias).cloned()
            {
                top.insert(name.into(), v);
            }
        }
        out = top;
    }
    // EventID as a number, as the rules write it.
    if let Some(id) = out.get("EventID").and_then(|v| match v {
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }) {
        out.insert("EventID".into(), Value::from(id));
    }
    let mut rec = Record {
        fields: Value::Object(out),
        ts,
        linux: None,
    };
    security_4688_names(&mut rec);
    Some(rec)
}

/// Security 4688 under Sysmon's process-creation names too.
fn security_4688_names(rec: &mut Record) {
    if rec.event_id() != Some(4688) {
        return;
    }
    let Value::Object(m) = &mut rec.fields else {
        return;
    };
    for (from, to) in [
        ("NewProcessName", "Image"),
        ("ParentProcessName", "ParentImage"),
    ] {
        if !m.contains_key(to)
            && let Some(v) = m.get(from).cloned()
        {
            m.insert(to.into(), v);
        }
    }
}

/// Copies `from[key]` into `out[name]`, reading `{"#text": …}` wrappers.
fn copy_text(from: &Map<String, Value>, key: &str, out: &mut Map<String, Value>, name: &str) {
    let v = match from.get(key) {
        Some(Value::Object(o)) => o.get("#text").cloned(),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.clone()),
    };
    if let Some(v) = v {
        out.insert(name.into(), v);
    }
}

/// The attribute `name` of an evtx-rendered element (`{"#attributes": {…}}`).
fn attr(v: Option<&Value>, name: &str) -> Option<String> {
    let a = v?.get("#attributes")?.get(name)?;
    match a {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Adds event-data fields (not overwriting header fields).
fn merge(data: &Map<String, Value>, out: &mut Map<String, Value>) {
    for (k, v) in data {
        if k == "#attributes" || out.contains_key(k) {
            continue;
        }
        let v = match v {
            Value::Object(o) if o.contains_key("#text") => {
                o.get("#text").cloned().unwrap_or(Value::Null)
            }
            v => v.clone(),
        };
        out.insert(k.clone(), v);
    }
}

/// Windows channels (and providers) and Sigma's service for each.
const TABLE: &[(&str, &str)] = &[
    ("Microsoft-Windows-Sysmon/Operational", "sysmon"),
    ("Security", "security"),
    ("System", "system"),
    ("Application", "application"),
    ("Microsoft-Windows-PowerShell/Operational", "powershell"),
    ("Windows PowerShell", "powershell-classic"),
    (
        "Microsoft-Windows-TaskScheduler/Operational",
        "taskscheduler",
    ),
    ("Microsoft-Windows-WMI-Activity/Operational", "wmi"),
    (
        "Microsoft-Windows-Windows Defender/Operational",
        "windefend",
    ),
    ("Microsoft-Windows-DNS-Client/Operational", "dns-client"),
    ("Microsoft-Windows-Bits-Client/Operational", "bits-client"),
    (
        "Microsoft-Windows-CodeIntegrity/Operational",
        "codeintegrity-operational",
    ),
    ("Microsoft-Windows-SMBClient/Security", "smbclient-security"),
    (
        "Microsoft-Windows-SMBClient/Connectivity",
        "smbclient-connectivity",
    ),
    ("Microsoft-Windows-NTLM/Operational", "ntlm"),
    ("Microsoft-Windows-WinRM/Operational", "winrm"),
    (
        "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",
        "firewall-as",
    ),
    (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
        "terminalservices-localsessionmanager",
    ),
    (
        "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational",
        "terminalservices-remoteconnectionmanager",
    ),
    (
        "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
        "driver-framework",
    ),
    ("Microsoft-Windows-AppLocker/EXE and DLL", "applocker"),
    ("Microsoft-Windows-AppLocker/MSI and Script", "applocker"),
    ("Microsoft-Windows-Shell-Core/Operational", "shell-core"),
    ("Microsoft-Windows-OpenSSH/Operational", "openssh"),
    ("Microsoft-Windows-LDAP-Client/Debug", "ldap"),
    (
        "Microsoft-Windows-Security-Mitigations/KernelMode",
        "security-mitigations",
    ),
    (
        "Microsoft-Windows-Security-Mitigations/UserMode",
        "security-mitigations",
    ),
    ("Microsoft-Windows-DHCP-Server/Operational", "dhcp"),
    (
        "Microsoft-Windows-Diagnosis-Scripted/Operational",
        "diagnosis-scripted",
    ),
    (
        "Microsoft-Windows-Kernel-ShimEngine/Operational",
        "shim-engine",
    ),
    (
        "Microsoft-Windows-Print-Service/Admin",
        "printservice-admin",
    ),
    (
        "Microsoft-Windows-Print-Service/Operational",
        "printservice-operational",
    ),
    (
        "Microsoft-Windows-AppXDeploymentServer/Operational",
        "appxdeployment-server",
    ),
    ("Microsoft-Windows-CAPI2/Operational", "capi2"),
    ("Microsoft-Windows-Kernel-PnP/Configuration", "kernel-pnp"),
    ("Microsoft-Windows-Hyper-V-Worker", "hyper-v-worker"),
    ("MSExchange Management", "msexchange-management"),
    ("Microsoft-Windows-Sysmon", "sysmon"),
    ("Microsoft-Windows-Security-Auditing", "security"),
    ("Service Control Manager", "system"),
    ("Microsoft-Windows-PowerShell", "powershell"),
];

/// Sigma's `service` for a Windows channel (or provider, when the export
/// has no channel), after the standard Windows pipeline.
pub fn service_of(channel: &str, provider: &str) -> Option<&'static str> {
    for name in [channel, provider] {
        if name.is_empty() {
            continue;
        }
        // Exports write the names as Windows does: an exact match first.
        if let Some((_, s)) = TABLE
            .iter()
            .find(|(c, _)| *c == name)
            .or_else(|| TABLE.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)))
        {
            return Some(s);
        }
    }
    None
}

/// Sigma's `category` for a Sysmon event id.
fn sysmon_categories(id: u32) -> &'static [&'static str] {
    match id {
        1 => &["process_creation"],
        2 => &["file_change"],
        3 => &["network_connection"],
        4 => &["sysmon_status"],
        5 => &["process_termination"],
        6 => &["driver_load"],
        7 => &["image_load"],
        8 => &["create_remote_thread"],
        9 => &["raw_access_thread"],
        10 => &["process_access"],
        11 => &["file_event"],
        12 => &["registry_event", "registry_add", "registry_delete"],
        13 => &["registry_event", "registry_set"],
        14 => &["registry_event", "registry_rename"],
        15 => &["create_stream_hash"],
        16 => &["sysmon_status"],
        17 | 18 => &["pipe_created"],
        19..=21 => &["wmi_event"],
        22 => &["dns_query"],
        23 => &["file_delete"],
        24 => &["clipboard_capture"],
        25 => &["process_tampering"],
        26 => &["file_delete_detected"],
        27 => &["file_block_executable"],
        28 => &["file_block_shredding"],
        29 => &["file_executable_detected"],
        255 => &["sysmon_error"],
        _ => &[],
    }
}

/// The service and categories of a record with this channel, provider and
/// event id (no category: the empty list).
pub fn logsource_keys(
    channel: &str,
    provider: &str,
    id: Option<u32>,
) -> (Option<&'static str>, &'static [&'static str]) {
    let service = service_of(channel, provider);
    let cats: &'static [&'static str] = match (service, id) {
        (Some("sysmon"), Some(id)) => sysmon_categories(id),
        (Some("security"), Some(4688)) => &["process_creation"],
        (Some("powershell"), Some(4104)) => &["ps_script"],
        (Some("powershell"), Some(4103)) => &["ps_module"],
        (Some("powershell-classic"), Some(400)) => &["ps_classic_start"],
        (Some("powershell-classic"), Some(600)) => &["ps_classic_provider_start"],
        (Some("powershell-classic"), Some(800)) => &["ps_classic_script"],
        _ => &[],
    };
    (service, cats)
}

/// Every service a record can have (and none), each with every category
/// it can come with: the space [`logsource_keys`] maps into.
pub fn logsource_space() -> Vec<(Option<&'static str>, Vec<&'static str>)> {
    let mut services: Vec<Option<&'static str>> = TABLE.iter().map(|(_, s)| Some(*s)).collect();
    services.push(None);
    services.sort();
    services.dedup();
    let ids: Vec<u32> = (0..=255).chain([400, 600, 800, 4103, 4104, 4688]).collect();
    services
        .into_iter()
        .map(|s| {
            let mut cats: Vec<&'static str> = Vec::new();
            for &id in &ids {
                let (_, c) = match s {
                    Some(name) => logsource_keys("", name_channel(name), Some(id)),
                    None => logsource_keys("", "", Some(id)),
                };
                cats.extend_from_slice(c);
            }
            cats.sort();
            cats.dedup();
            (s, cats)
        })
        .collect()
}

/// A channel name whose service is `service`.
fn name_channel(service: &str) -> &'static str {
    TABLE
        .iter()
        .find(|(_, s)| *s == service)
        .map_or("", |(c, _)| c)
}

/// The logsources of a record with this channel, provider and event id.
pub fn logsources(channel: &str, provider: &str, id: Option<u32>) -> Vec<LogSource> {
    let (service, cats) = logsource_keys(channel, provider, id);
    let ls = |category: Option<&str>| LogSource {
        category: category.map(str::to_string),
        product: Some("windows".into()),
        service: service.map(str::to_string),
        definition: None,
        custom: Default::default(),
    };
    if cats.is_empty() {
        vec![ls(None)]
    } else {
        cats.iter().map(|c| ls(Some(c))).collect()
    }
}

/// The logsources of a Linux record: one per service, with its category.
fn linux_logsources(l: &Linux) -> Vec<LogSource> {
    l.services
        .iter()
        .map(|s| LogSource {
            category: l.category.map(str::to_string),
            product: Some("linux".into()),
            service: Some((*s).to_string()),
            definition: None,
            custom: Default::default(),
        })
        .collect()
}
