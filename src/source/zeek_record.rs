//! One Zeek log line as the mappings read it: which log it is
//! ([`LogKind`]), the fields they use ([`Field`]) and their values
//! ([`Record`]). The reader (`zeek_log`) fills records from TSV or JSON
//! lines; the mappings (`zeek_map`) turn them into flows and events.

use std::borrow::Cow;

/// The Zeek logs `lateral` maps; every other `#path` is [`LogKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogKind {
    /// conn.log: connection records.
    Conn,
    /// ssh.log.
    Ssh,
    /// rdp.log.
    Rdp,
    /// smb_mapping.log: tree connects to shares.
    SmbMapping,
    /// smb_files.log: file actions on shares.
    SmbFiles,
    /// dce_rpc.log: remote procedure calls.
    DceRpc,
    /// kerberos.log.
    Kerberos,
    /// ntlm.log.
    Ntlm,
    /// dns.log.
    Dns,
    /// Any other log (http, files, weird, ...): counted, no events.
    Other,
}

impl LogKind {
    /// The kind for a `#path`, `_path` or `@stream` value, or a log
    /// file's base name. Shippers' spellings are accepted: any case, a
    /// `zeek_`, `zeek.`, `bro_` or `bro.` prefix, a `.log` suffix
    /// (`Zeek_Conn`, `bro.dns.log`).
    pub fn from_path(path: &str) -> LogKind {
        let lower;
        let mut p = path.trim();
        if p.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = p.to_ascii_lowercase();
            p = &lower;
        }
        for prefix in ["zeek_", "zeek.", "bro_", "bro."] {
            if let Some(rest) = p.strip_prefix(prefix) {
                p = rest;
                break;
            }
        }
        let p = p.strip_suffix(".log").unwrap_or(p);
        match p {
            "conn" => LogKind::Conn,
            "ssh" => LogKind::Ssh,
            "rdp" => LogKind::Rdp,
            "smb_mapping" => LogKind::SmbMapping,
            "smb_files" => LogKind::SmbFiles,
            "dce_rpc" => LogKind::DceRpc,
            "kerberos" => LogKind::Kerberos,
            "ntlm" => LogKind::Ntlm,
            "dns" => LogKind::Dns,
            _ => LogKind::Other,
        }
    }

    /// The kind a file name suggests (`/x/conn.log.gz`, `ssh.09:00:00-10:00:00.log`),
    /// or `None` when the name is not a known log's.
    pub fn from_file_name(name: &str) -> Option<LogKind> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let stem = base.split('.').next().unwrap_or(base);
        match LogKind::from_path(stem) {
            LogKind::Other => None,
            k => Some(k),
        }
    }

    /// The kind a JSON record's fields suggest.
    pub(super) fn from_fields(r: &Record<'_>) -> LogKind {
        let has = |f: Field| r.has(f);
        if has(Field::ConnState) {
            LogKind::Conn
        } else if has(Field::RequestType) {
            LogKind::Kerberos
        } else if has(Field::AuthSuccess) || has(Field::AuthAttempts) {
            LogKind::Ssh
        } else if has(Field::Cookie) || has(Field::SecurityProtocol) {
            LogKind::Rdp
        } else if has(Field::ShareType) {
            LogKind::SmbMapping
        } else if has(Field::Endpoint) && has(Field::Operation) {
            LogKind::DceRpc
        } else if has(Field::ServerNbComputerName) || has(Field::Domainname) {
            LogKind::Ntlm
        } else if has(Field::Query) && (has(Field::Answers) || has(Field::QtypeName)) {
            LogKind::Dns
        } else if r.get(Field::Action).is_some_and(|a| a.starts_with("SMB::")) {
            LogKind::SmbFiles
        } else {
            LogKind::Other
        }
    }
}

macro_rules! fields {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// The Zeek fields the mappings read (a union over all mapped logs;
        /// a name shared by several logs, like `service`, is one field).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum Field { $($variant),* }

        /// All fields, in declaration order.
        const ALL_FIELDS: &[Field] = &[$(Field::$variant),*];

        impl Field {
            /// The field for Zeek's own column name.
            fn from_zeek_name(name: &str) -> Option<Field> {
                match name {
                    $($name => Some(Field::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

fields! {
    Ts = "ts", Uid = "uid", OrigH = "id.orig_h", OrigP = "id.orig_p", RespH = "id.resp_h",
    RespP = "id.resp_p", Proto = "proto", Service = "service", Duration = "duration",
    OrigBytes = "orig_bytes", RespBytes = "resp_bytes", ConnState = "conn_state",
    MissedBytes = "missed_bytes", History = "history", OrigPkts = "orig_pkts",
    OrigIpBytes = "orig_ip_bytes", RespPkts = "resp_pkts", RespIpBytes = "resp_ip_bytes",
    IpProto = "ip_proto", AuthSuccess = "auth_success", AuthAttempts = "auth_attempts",
    Direction = "direction", Client = "client", Server = "server", Cookie = "cookie",
    Result = "result", SecurityProtocol = "security_protocol", ClientName = "client_name",
    Path = "path", ShareType = "share_type", Action = "action", Name = "name",
    Endpoint = "endpoint", Operation = "operation", NamedPipe = "named_pipe",
    RequestType = "request_type", Success = "success", ErrorMsg = "error_msg",
    Cipher = "cipher", Username = "username", Hostname = "hostname",
    Domainname = "domainname", ServerNbComputerName = "server_nb_computer_name",
    ServerDnsComputerName = "server_dns_computer_name", Query = "query",
    QtypeName = "qtype_name", RcodeName = "rcode_name", Answers = "answers",
    ZeekPath = "_path",
}

impl Field {
    /// The field for a column or JSON key name, if it is one the mappings
    /// read: Zeek's own name (`id.orig_h`, `_path`), or the spellings of
    /// shippers that flatten names (`id_orig_h`, `id_resp_p`) or name the
    /// log with `@stream`, `@path` or `_stream` (lab data sets such as
    /// OTRF's Security Datasets).
    pub fn from_name(name: &str) -> Option<Field> {
        if let Some(f) = Field::from_zeek_name(name) {
            return Some(f);
        }
        Some(match name {
            "id_orig_h" => Field::OrigH,
            "id_orig_p" => Field::OrigP,
            "id_resp_h" => Field::RespH,
            "id_resp_p" => Field::RespP,
            "@stream" | "@path" | "_stream" => Field::ZeekPath,
            _ => return None,
        })
    }
}

const N_FIELDS: usize = ALL_FIELDS.len();

/// One log line's values for the fields the mappings read, borrowed from
/// the line where no unescaping was needed.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    vals: [Option<Cow<'a, str>>; N_FIELDS],
    /// The elements of `answers` (a vector field).
    pub answers: Vec<Cow<'a, str>>,
}

impl Default for Record<'_> {
    fn default() -> Self {
        Record {
            vals: std::array::from_fn(|_| None),
            answers: Vec::new(),
        }
    }
}

impl<'a> Record<'a> {
    /// The value of `f`: `None` when unset or absent, `Some("")` when empty.
    pub fn get(&self, f: Field) -> Option<&str> {
        self.vals.get(f as usize).and_then(|v| v.as_deref())
    }

    /// The value of `f` when set and not empty.
    pub fn text(&self, f: Field) -> Option<&str> {
        self.get(f).filter(|s| !s.is_empty())
    }

    /// True when `f` is set (possibly empty).
    pub fn has(&self, f: Field) -> bool {
        self.get(f).is_some()
    }

    /// Sets `f` (tests and the readers).
    pub fn set(&mut self, f: Field, v: Cow<'a, str>) {
        if let Some(slot) = self.vals.get_mut(f as usize) {
            *slot = Some(v);
        }
    }
}
