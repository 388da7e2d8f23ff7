//! Zeek logs in (TSV with headers, or JSON Lines), connection records and
//! normalised events out.
//!
//! TSV logs are driven by their headers, never by column order: the
//! `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`
//! and `#fields` lines of each header block build a [`Schema`] that the data
//! lines after them are read with. A file may hold several blocks
//! (concatenated logs, rotated logs glued together); each applies to the
//! lines up to the next header line. The input is read in large chunks,
//! every chunk is cut into runs of data lines between header lines, and each
//! run is split at line boundaries and parsed in parallel with its block's
//! schema, so header state never crosses a parallel boundary.
//!
//! JSON logs hold one object per line with Zeek's dotted names (`id.orig_h`);
//! the log type comes from a `_path` key, else from the file name
//! (`conn.log`, `ssh.json.gz`), else from the fields present.
//!
//! Values follow Zeek's conventions: the unset field (`-`) is absent, the
//! empty field (`(empty)`) is an empty value, `\xHH` escapes are decoded.
//! Both shapes land in one [`Record`] that [`crate::source::zeek_map`] maps
//! to [`crate::event::Flow`]s (conn.log, into the same
//! [`crate::flow_store::FlowStore`] as capture flows) or
//! [`crate::event::LogEvent`]s (the other logs). Lines whose column count
//! differs from `#fields`, data before any `#fields`, and values that do not
//! parse are skipped and counted with a sample.

use crate::diag::Diagnostics;
use crate::event::{Flow, LogEvent, Origin, Position};
use crate::flow_store::FlowStore;
use crate::input::ByteWindow;
use crate::source::Skip;
use crate::source::text_lines::{MAX_LINE, TextResult, sample as line_sample, split_pieces};
use crate::source::zeek_map;
use rayon::prelude::*;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes read per chunk.
const CHUNK: usize = 8 << 20;

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
    /// The kind for a `#path` value or a log file's base name.
    pub fn from_path(path: &str) -> LogKind {
        match path {
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
    fn from_fields(r: &Record<'_>) -> LogKind {
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
            /// The field for a Zeek column name, if it is one the mappings read.
            pub fn from_name(name: &str) -> Option<Field> {
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

/// How the data lines of one TSV header block are read.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Column separator (`#separator`, decoded).
    pub sep: Vec<u8>,
    /// Separator of set and vector elements (`#set_separator`).
    pub set_sep: Vec<u8>,
    /// The value that means "empty" (`#empty_field`).
    pub empty: Vec<u8>,
    /// The value that means "unset" (`#unset_field`).
    pub unset: Vec<u8>,
    /// The log type (`#path`).
    pub kind: LogKind,
    /// For each column, the field it holds if the mappings read it.
    pub columns: Vec<Option<Field>>,
}

/// Header state while a TSV file is read: the values of the current block.
#[derive(Debug, Clone)]
struct Header {
    sep: Vec<u8>,
    set_sep: Vec<u8>,
    empty: Vec<u8>,
    unset: Vec<u8>,
    path: Option<String>,
    fields: Option<Vec<String>>,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            sep: b"\t".to_vec(),
            set_sep: b",".to_vec(),
            empty: b"(empty)".to_vec(),
            unset: b"-".to_vec(),
            path: None,
            fields: None,
        }
    }
}

impl Header {
    /// Applies one header line (starting with `#`); returns true when it
    /// changed how data lines are read.
    fn apply(&mut self, line: &[u8]) -> bool {
        if let Some(rest) = line.strip_prefix(b"#separator") {
            // A new block: the separator line itself is space-separated.
            let value = rest.strip_prefix(b" ").or(rest.strip_prefix(b"\t"));
            let sep = unescape(value.unwrap_or(b"")).into_owned();
            *self = Header {
                sep: if sep.is_empty() { b"\t".to_vec() } else { sep },
                ..Header::default()
            };
            return true;
        }
        let body = line.get(1..).unwrap_or(&[]);
        let (key, value) = match find(body, &self.sep) {
            Some(i) => (
                body.get(..i).unwrap_or(&[]),
                body.get(i + self.sep.len()..).unwrap_or(&[]),
            ),
            None => (body, &[][..]),
        };
        match key {
            b"set_separator" => self.set_sep = unescape(value).into_owned(),
            b"empty_field" => self.empty = unescape(value).into_owned(),
            b"unset_field" => self.unset = unescape(value).into_owned(),
            b"path" => self.path = Some(String::from_utf8_lossy(&unescape(value)).into_owned()),
            b"fields" => {
                let names = split(value, &self.sep)
                    .map(|f| String::from_utf8_lossy(&unescape(f)).into_owned())
                    .collect();
                self.fields = Some(names);
            }
            // #types, #open, #close and comments change nothing.
            _ => return false,
        }
        true
    }

    /// The schema for data lines, or `None` before any `#fields`.
    fn schema(&self, file_hint: Option<LogKind>) -> Option<Arc<Schema>> {
        let fields = self.fields.as_ref()?;
        let kind = match &self.path {
            Some(p) => LogKind::from_path(p),
            None => file_hint.unwrap_or(LogKind::Other),
        };
        Some(Arc::new(Schema {
            sep: self.sep.clone(),
            set_sep: self.set_sep.clone(),
            empty: self.empty.clone(),
            unset: self.unset.clone(),
            kind,
            columns: fields.iter().map(|f| Field::from_name(f)).collect(),
        }))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => memchr::memchr(*b, hay),
        _ => memchr::memmem::find(hay, needle),
    }
}

/// Splits `s` at every `sep` (an empty `sep` yields `s` whole).
fn split<'s, 'p>(s: &'s [u8], sep: &'p [u8]) -> impl Iterator<Item = &'s [u8]> + use<'s, 'p> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match find(r, sep).filter(|_| !sep.is_empty()) {
            Some(i) => {
                rest = r.get(i + sep.len()..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Decodes Zeek's escapes: `\xHH` is a byte, `\\` a backslash; anything
/// else after a backslash is kept as written. Borrows when there is none.
pub fn unescape(s: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'\\' {
            match s.get(i + 1) {
                Some(b'x') => {
                    let hex = s.get(i + 2..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                    if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                }
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

fn text(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(match String::from_utf8(v) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
    }
}

/// Reads one TSV data line with `schema`.
pub fn parse_tsv_line<'a>(schema: &Schema, line: &'a [u8]) -> Result<Record<'a>, Skip> {
    let mut rec = Record::default();
    let mut n = 0usize;
    for col in split(line, &schema.sep) {
        let field = schema.columns.get(n).copied().flatten();
        n += 1;
        let Some(f) = field else { continue };
        if col == schema.unset.as_slice() {
            continue;
        }
        if col == schema.empty.as_slice() {
            rec.set(f, Cow::Borrowed(""));
            continue;
        }
        if f == Field::Answers {
            for el in split(col, &schema.set_sep) {
                rec.answers.push(text(unescape(el)));
            }
        }
        rec.set(f, text(unescape(col)));
    }
    if n != schema.columns.len() {
        return Err(Skip("Zeek line with a column count unlike its #fields"));
    }
    Ok(rec)
}

/// A JSON value where text is expected: strings, numbers and booleans
/// become text, arrays keep their elements, null is absent.
enum JsonVal<'a> {
    Absent,
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonVal<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonVal<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Zeek JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(JsonVal::One(Cow::Borrowed(if v { "T" } else { "F" })))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(JsonVal::Absent)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(JsonVal::Absent)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = s.next_element::<JsonVal<'de>>()? {
                    match x {
                        JsonVal::One(t) => v.push(t),
                        JsonVal::Many(m) => v.extend(m),
                        JsonVal::Absent => {}
                    }
                }
                Ok(JsonVal::Many(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(JsonVal::Absent)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Record<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Zeek JSON log object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut rec = Record::default();
                while let Some(key) = m.next_key::<Cow<'de, str>>()? {
                    let Some(f) = Field::from_name(&key) else {
                        m.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    match m.next_value::<JsonVal<'de>>()? {
                        JsonVal::Absent => {}
                        JsonVal::One(t) => {
                            if f == Field::Answers {
                                rec.answers.push(t.clone());
                            }
                            rec.set(f, t);
                        }
                        JsonVal::Many(items) => {
                            rec.set(f, Cow::Owned(items.join(",")));
                            if f == Field::Answers {
                                rec.answers = items;
                            }
                        }
                    }
                }
                Ok(rec)
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads one JSON line; the kind comes from `_path`, else `hint`, else the fields.
pub fn parse_json_line(
    line: &[u8],
    hint: Option<LogKind>,
) -> Result<(LogKind, Record<'_>), Skip> {
    let rec: Record<'_> =
        serde_json::from_slice(line).map_err(|_| Skip("not a Zeek JSON object"))?;
    let kind = match rec.text(Field::ZeekPath) {
        Some(p) => LogKind::from_path(p),
        None => hint.unwrap_or_else(|| LogKind::from_fields(&rec)),
    };
    Ok((kind, rec))
}

/// What one piece of lines produced.
#[derive(Default)]
struct PieceOut {
    events: Vec<LogEvent>,
    flows: Vec<Flow>,
    records: u64,
    lines: u64,
    diag: Diagnostics,
}

/// How the lines of a piece are read.
#[derive(Clone, Copy)]
enum LineReader<'s> {
    /// TSV with a block's schema, or `None` when no `#fields` came yet.
    Tsv(Option<&'s Schema>),
    /// JSON, with the kind the file name suggests.
    Json(Option<LogKind>),
}

fn origin(file: &Arc<str>, line: u64) -> Origin {
    Origin {
        file: file.clone(),
        at: Position::Line(line),
    }
}

fn parse_piece(piece: &[u8], first_line: u64, file: &Arc<str>, how: LineReader<'_>) -> PieceOut {
    let mut out = PieceOut::default();
    for (this, raw) in (first_line..).zip(piece.split_inclusive(|&b| b == b'\n')) {
        out.lines += u64::from(raw.last() == Some(&b'\n'));
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.records += 1;
        if line.len() > MAX_LINE {
            out.diag.skip(
                "line longer than 1 MiB",
                || origin(file, this),
                || format!("{} bytes", line.len()),
            );
            continue;
        }
        let parsed = match how {
            LineReader::Tsv(None) => Err(Skip("Zeek data line before any #fields header")),
            LineReader::Tsv(Some(schema)) => {
                parse_tsv_line(schema, line).map(|r| (schema.kind, r))
            }
            LineReader::Json(hint) => parse_json_line(line, hint),
        };
        let res = parsed.and_then(|(kind, rec)| {
            let at = || origin(file, this);
            if kind == LogKind::Conn {
                let f = zeek_map::flow(&rec, at())?;
                out.flows.push(f);
                Ok(())
            } else {
                let before = out.events.len();
                zeek_map::events(kind, &rec, &mut out.events);
                for e in out.events.get_mut(before..).unwrap_or(&mut []) {
                    e.origin = Some(at());
                }
                Ok(())
            }
        });
        if let Err(skip) = res {
            out.diag
                .skip(skip.0, || origin(file, this), || line_sample(line));
        }
    }
    out
}

/// What reading one Zeek log produced.
#[derive(Debug, Default)]
pub struct ZeekResult {
    /// Events (non-conn logs), data lines read, skips, bytes, read error.
    pub text: TextResult,
    /// Connection records pushed to the flow store.
    pub flows: u64,
    /// Data lines per log type (`#path`, or the JSON kind), for statistics.
    pub by_kind: BTreeMap<LogKind, u64>,
}

/// Reads a whole Zeek log, TSV (`json` false) or JSON Lines; connection
/// records go to `store`, events are returned.
pub fn read_zeek(
    window: &mut ByteWindow,
    file: &Arc<str>,
    json: bool,
    store: &FlowStore,
    progress: &AtomicU64,
) -> ZeekResult {
    let mut res = ZeekResult::default();
    let hint = LogKind::from_file_name(file);
    let mut header = Header::default();
    let mut schema: Option<Arc<Schema>> = None;
    let mut next_line: u64 = 1;
    loop {
        if window.bytes().len() < CHUNK && !window.at_eof() {
            window.fill(CHUNK);
        }
        let avail = window.bytes();
        if avail.is_empty() {
            break;
        }
        let cut = match memchr::memrchr(b'\n', avail) {
            Some(i) => i + 1,
            None if window.at_eof() || avail.len() > MAX_LINE => avail.len(),
            None => {
                let want = avail.len() * 2;
                window.fill(want);
                continue;
            }
        };
        let chunk = avail.get(..cut).unwrap_or(avail);
        let runs = if json {
            vec![Run::Lines(chunk, None)]
        } else {
            tsv_runs(chunk, &mut header, &mut schema, hint)
        };
        for run in runs {
            let (bytes, how) = match &run {
                Run::Header => {
                    next_line += 1;
                    continue;
                }
                Run::Lines(bytes, _) if json => (*bytes, LineReader::Json(hint)),
                Run::Lines(bytes, s) => (*bytes, LineReader::Tsv(s.as_deref())),
            };
            let pieces = split_pieces(bytes, next_line);
            let outputs: Vec<PieceOut> = pieces
                .par_iter()
                .map(|(p, first)| parse_piece(p, *first, file, how))
                .collect();
            for mut o in outputs {
                res.text.events.append(&mut o.events);
                res.text.records += o.records;
                res.text.diag.merge(o.diag);
                res.flows += o.flows.len() as u64;
                if let LineReader::Tsv(Some(s)) = how {
                    *res.by_kind.entry(s.kind).or_insert(0) += o.records;
                }
                store.push(&mut o.flows);
                next_line += o.lines;
            }
        }
        res.text.bytes += cut as u64;
        progress.fetch_add(cut as u64, Ordering::Relaxed);
        window.consume(cut);
    }
    if let Some(e) = window.take_error() {
        res.text.error = Some(format!("read error after byte {}: {e}", res.text.bytes));
    }
    res
}

/// A stretch of a chunk: one header line, or data lines read with one schema.
enum Run<'c> {
    Header,
    Lines(&'c [u8], Option<Arc<Schema>>),
}

/// Cuts a TSV chunk (ending at a line break) into header lines and runs of
/// data lines, applying header lines to `header` as they come; `schema` is
/// the schema in force, carried from chunk to chunk.
fn tsv_runs<'c>(
    chunk: &'c [u8],
    header: &mut Header,
    schema: &mut Option<Arc<Schema>>,
    hint: Option<LogKind>,
) -> Vec<Run<'c>> {
    let mut runs = Vec::new();
    let mut pos = 0;
    while let Some(rest) = chunk.get(pos..).filter(|r| !r.is_empty()) {
        if rest.first() == Some(&b'#') {
            let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
            let line = rest.get(..end).unwrap_or(rest);
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if header.apply(line) {
                *schema = header.schema(hint);
            }
            runs.push(Run::Header);
            pos += end;
        } else {
            let end = memchr::memmem::find(rest, b"\n#").map_or(rest.len(), |i| i + 1);
            runs.push(Run::Lines(rest.get(..end).unwrap_or(rest), schema.clone()));
            pos += end;
        }
    }
    runs
}

/// True when the first bytes look like a Zeek TSV log: a `#separator`
/// header first (after an optional btest comment line), or a `#fields` line
/// among the first header lines.
pub fn looks_like_zeek_tsv(head: &[u8]) -> bool {
    let mut lines = head.split(|&b| b == b'\n').take(12);
    lines.any(|l| l.starts_with(b"#separator ") || l.starts_with(b"#fields\t"))
        && head.first() == Some(&b'#')
}

/// True when the first line is a JSON object with Zeek's signature fields:
/// `ts` and either `uid` or a dotted `id.orig_h`, or a `_path`.
pub fn looks_like_zeek_json(head: &[u8]) -> bool {
    let t = head.trim_ascii_start();
    if t.first() != Some(&b'{') {
        return false;
    }
    let first = t.split(|&b| b == b'\n').next().unwrap_or(t);
    let has = |needle: &[u8]| memchr::memmem::find(first, needle).is_some();
    has(b"\"ts\"") && (has(b"\"uid\"") || has(b"\"id.orig_h\"") || has(b"\"_path\""))
}
