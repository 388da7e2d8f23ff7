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
//! JSON logs hold one object per line with Zeek's dotted names
//! (`id.orig_h`), a nested `"id"` object, or the flattened names of lab
//! data sets (`id_orig_h`); `ts` is epoch seconds (number or text),
//! milliseconds or RFC 3339 text. The log type comes from a `_path` key (or
//! `@stream`, `@path`, `_stream`, as OTRF's Security Datasets write it),
//! else from the file name (`conn.log`, `ssh.json.gz`), else from the
//! fields present. An object without `ts` is not a Zeek record: skipped.
//!
//! Values follow Zeek's conventions: the unset field (`-`) is absent, the
//! empty field (`(empty)`) is an empty value, `\xHH` escapes are decoded.
//! Both shapes land in one [`Record`] that [`crate::source::zeek_map`] maps
//! to [`crate::model::event::Flow`]s (conn.log, into the same
//! [`crate::source::FlowSink`] as capture flows) or
//! [`crate::model::event::LogEvent`]s (the other logs). Lines whose column count
//! differs from `#fields`, data before any `#fields`, and values that do not
//! parse are skipped and counted with a sample.

use crate::diag::Diagnostics;
use crate::input::ByteWindow;
use crate::model::event::{Flow, LogEvent, Origin, Position};
use crate::source::Skip;
use crate::source::text_lines::{
    MAX_LINE, NextChunk, TextResult, lines_of, next_chunk, sample as line_sample, split_pieces,
};
use crate::source::zeek_map;
use crate::source::zeek_record::{Field, LogKind, Record};
use crate::source::{Context, FlowSink, LogFormatSpec, Reader, Sniff, WholeRead};
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
                    let hex = s
                        .get(i + 2..i + 4)
                        .and_then(|h| std::str::from_utf8(h).ok());
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

/// The endpoints of a nested `"id"` object.
#[derive(Deserialize)]
struct NestedId<'a> {
    #[serde(borrow, default = "absent")]
    orig_h: JsonVal<'a>,
    #[serde(borrow, default = "absent")]
    orig_p: JsonVal<'a>,
    #[serde(borrow, default = "absent")]
    resp_h: JsonVal<'a>,
    #[serde(borrow, default = "absent")]
    resp_p: JsonVal<'a>,
}

fn absent<'a>() -> JsonVal<'a> {
    JsonVal::Absent
}

/// The value of an `"id"` key: the endpoints when it is the nested
/// object some shippers write, nothing when it is a log's own `id` field
/// (pe.log's file id, a string).
struct IdKey<'a>(Option<NestedId<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for IdKey<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Zeek id")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                NestedId::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(|id| IdKey(Some(id)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(IdKey(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(IdKey(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(IdKey(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(IdKey(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(IdKey(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(IdKey(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(IdKey(None))
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
                    if key == "id" {
                        // The nested shape some shippers write: "id": {"orig_h": ...}.
                        let Some(id) = m.next_value::<IdKey<'de>>()?.0 else {
                            continue;
                        };
                        for (f, v) in [
                            (Field::OrigH, id.orig_h),
                            (Field::OrigP, id.orig_p),
                            (Field::RespH, id.resp_h),
                            (Field::RespP, id.resp_p),
                        ] {
                            if let JsonVal::One(t) = v {
                                rec.set(f, t);
                            }
                        }
                        continue;
                    }
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

/// Reads one JSON line; the kind comes from `_path` (or `@stream`), else
/// `hint`, else the fields. An object without `ts` is skipped: every Zeek
/// log has one, so such a line is not a Zeek record.
pub fn parse_json_line(line: &[u8], hint: Option<LogKind>) -> Result<(LogKind, Record<'_>), Skip> {
    let rec: Record<'_> =
        serde_json::from_slice(line).map_err(|_| Skip("not a Zeek JSON object"))?;
    if !rec.has(Field::Ts) {
        return Err(Skip("Zeek JSON object without ts"));
    }
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
    for (this, raw) in (first_line..).zip(lines_of(piece)) {
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
            LineReader::Tsv(Some(schema)) => parse_tsv_line(schema, line).map(|r| (schema.kind, r)),
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
                zeek_map::events(kind, &rec, &mut out.events)?;
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

/// Zeek logs in the format registry: TSV (`--format zeek`) or JSON Lines
/// (`--format zeek-json`, `zeekjson` in statistics).
#[derive(Debug, Clone, Copy)]
pub struct ZeekFormat {
    /// JSON Lines rather than TSV.
    pub json: bool,
}

impl LogFormatSpec for ZeekFormat {
    fn flag(&self) -> &'static str {
        if self.json { "zeek-json" } else { "zeek" }
    }

    fn name(&self) -> &'static str {
        if self.json { "zeekjson" } else { "zeek" }
    }

    fn help(&self) -> &'static str {
        if self.json {
            "Zeek JSON logs, one object per line (also lab data sets' @stream and id_orig_h shapes)"
        } else {
            "Zeek TSV logs (#fields headers; conn.log gives connection records)"
        }
    }

    fn sniff(&self) -> Sniff {
        Sniff::Text {
            rank: if self.json { 50 } else { 40 },
        }
    }

    fn looks_like(&self, head: &[u8], _ctx: &Context) -> bool {
        if self.json {
            looks_like_zeek_json(head)
        } else {
            looks_like_zeek_tsv(head)
        }
    }

    fn reader(&self, _ctx: &Context) -> Reader {
        // Lines depend on the headers before them: read whole.
        Reader::Whole(if self.json {
            Box::new(read_json)
        } else {
            Box::new(read_tsv)
        })
    }
}

/// [`read_zeek`] of a TSV log, as the registry's reader.
fn read_tsv(
    window: &mut ByteWindow,
    file: &Arc<str>,
    store: &dyn FlowSink,
    progress: &AtomicU64,
) -> WholeRead {
    read_zeek(window, file, false, store, progress).into()
}

/// [`read_zeek`] of a JSON log, as the registry's reader.
fn read_json(
    window: &mut ByteWindow,
    file: &Arc<str>,
    store: &dyn FlowSink,
    progress: &AtomicU64,
) -> WholeRead {
    read_zeek(window, file, true, store, progress).into()
}

impl From<ZeekResult> for WholeRead {
    fn from(z: ZeekResult) -> WholeRead {
        WholeRead {
            events: z.text.events,
            records: z.text.records,
            bytes: z.text.bytes,
            flows: z.flows,
            diag: z.text.diag,
            truncated_at: None,
            error: z.text.error,
        }
    }
}

/// Reads a whole Zeek log, TSV (`json` false) or JSON Lines; connection
/// records go to `store`, events are returned.
pub fn read_zeek(
    window: &mut ByteWindow,
    file: &Arc<str>,
    json: bool,
    store: &dyn FlowSink,
    progress: &AtomicU64,
) -> ZeekResult {
    let mut res = ZeekResult::default();
    let hint = LogKind::from_file_name(file);
    let mut header = Header::default();
    let mut schema: Option<Arc<Schema>> = None;
    let mut next_line: u64 = 1;
    loop {
        let cut = match next_chunk(window) {
            NextChunk::End => break,
            NextChunk::Lines(cut) => cut,
            NextChunk::LongLine(held) => {
                // A line too long to hold: counted, then dropped up to its end.
                let at = next_line;
                res.text.records += 1;
                res.text.diag.skip(
                    "line longer than 1 MiB",
                    || origin(file, at),
                    || format!("{held}+ bytes"),
                );
                res.text.bytes += drop_line(window);
                next_line += 1;
                continue;
            }
        };
        let avail = window.bytes();
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

/// Discards bytes up to and including the next newline (or the end);
/// returns how many.
fn drop_line(window: &mut ByteWindow) -> u64 {
    let mut n = 0u64;
    loop {
        let avail = window.bytes();
        if let Some(i) = memchr::memchr(b'\n', avail) {
            window.consume(i + 1);
            return n + i as u64 + 1;
        }
        let len = avail.len();
        window.consume(len);
        n += len as u64;
        if !window.fill(CHUNK) {
            return n;
        }
    }
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
/// `ts` and either `uid`, an originator address (`id.orig_h`, flattened
/// `id_orig_h`, or a nested `"id"` object), or the log's name (`_path`, or
/// `@stream`/`@path` as lab data sets write it).
pub fn looks_like_zeek_json(head: &[u8]) -> bool {
    let t = head.trim_ascii_start();
    if t.first() != Some(&b'{') {
        return false;
    }
    let first = t.split(|&b| b == b'\n').next().unwrap_or(t);
    let has = |needle: &[u8]| memchr::memmem::find(first, needle).is_some();
    has(b"\"ts\"")
        && [
            &b"\"uid\""[..],
            b"\"id.orig_h\"",
            b"\"id_orig_h\"",
            b"\"orig_h\"",
            b"\"_path\"",
            b"\"@stream\"",
            b"\"@path\"",
        ]
        .iter()
        .any(|n| has(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::event::{Category, ConnState, Outcome, Timestamp, Transport};

    fn read(text: &str, name: &str, json: bool) -> (ZeekResult, Vec<Flow>) {
        let store = crate::collect::flow_store::FlowStore::new(1 << 20);
        let mut w = ByteWindow::owned(text.as_bytes().to_vec());
        let r = read_zeek(&mut w, &Arc::from(name), json, &store, &AtomicU64::new(0));
        let flows = store.finish().unwrap().to_vec().unwrap();
        (r, flows)
    }

    fn header(path: &str, fields: &str) -> String {
        format!(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n\
             #path\t{path}\n#open\t2023-08-16-01-28-55\n#fields\t{}\n#types\t(ignored)\n",
            fields.replace(' ', "\t")
        )
    }

    const CONN_FIELDS: &str = "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service \
        duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history \
        orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents";

    #[test]
    fn conn_tsv_gives_flows_with_unset_fields_per_zeek() {
        let mut text = header("conn", CONN_FIELDS);
        text.push_str(
            "1692161643.549491\tCX6po61SVaO8po0uh8\t192.168.1.41\t55213\t10.0.5.13\t80\ttcp\t-\t\
             1.201128\t0\t403\tSHR\tT\tT\t0\t^hadf\t0\t0\t5\t615\t-\n",
        );
        text.push_str(
            "1692161622.036086\tCnsu5m395zFmE9ikp4\tfe80::1\t135\tff02::1\t136\ticmp\tdns\t-\t-\t-\tOTH\t\
             -\t-\t-\t-\t1\t72\t0\t0\t(empty)\n",
        );
        text.push_str("#close\t2023-08-16-01-28-55\n");
        let (r, flows) = read(&text, "x.log", false);
        assert_eq!(r.text.records, 2);
        assert!(r.text.diag.is_clean(), "{:?}", r.text.diag.counts);
        assert_eq!(r.flows, 2);
        assert!(r.text.events.is_empty());
        let (icmp, tcp) = (&flows[0], &flows[1]);
        assert_eq!(tcp.ts, Timestamp::from_parts(1_692_161_643, 549_491_000));
        assert_eq!(tcp.uid, "CX6po61SVaO8po0uh8");
        assert_eq!(tcp.orig_h.to_string(), "192.168.1.41");
        assert_eq!((tcp.orig_p, tcp.resp_p), (55213, 80));
        assert_eq!(tcp.proto, Transport::Tcp);
        assert_eq!(tcp.service, None);
        assert_eq!(
            tcp.duration,
            Some(crate::model::event::Duration(1_201_128_000))
        );
        assert_eq!((tcp.orig_bytes, tcp.resp_bytes), (Some(0), Some(403)));
        assert_eq!(tcp.conn_state, ConnState::SHR);
        assert_eq!(tcp.history, "^hadf");
        assert_eq!((tcp.resp_pkts, tcp.resp_ip_bytes), (5, 615));
        assert_eq!(tcp.ip_proto, 6);
        assert_eq!(tcp.origin.as_ref().unwrap().at, Position::Line(9));
        assert_eq!(icmp.proto, Transport::Icmp);
        assert_eq!(icmp.ip_proto, 58, "ICMP over IPv6");
        assert_eq!(icmp.duration, None);
        assert_eq!(icmp.orig_bytes, None);
        assert_eq!(icmp.missed_bytes, 0);
        assert_eq!(icmp.history, "");
        assert_eq!(icmp.service.as_deref(), Some("dns"));
        assert_eq!(r.by_kind.get(&LogKind::Conn), Some(&2));
    }

    #[test]
    fn columns_follow_fields_not_position_and_escapes_decode() {
        // Columns in another order, a comma separator, escapes in values.
        let text = "#separator \\x2c\n#set_separator,|\n#path,smb_files\n\
                    #fields,name,ts,id.resp_p,id.orig_h,action,path,id.resp_h,id.orig_p\n\
                    evil\\x2cexe\\x5c\\\\x,1.5,445,10.0.0.1,SMB::FILE_WRITE,\\\\\\\\DC\\\\ADMIN$,10.0.0.2,50000\n";
        let (r, _) = read(text, "x", false);
        assert!(r.text.diag.is_clean(), "{:?}", r.text.diag.samples);
        let e = &r.text.events[0];
        assert_eq!(e.action, Action::FileWritten);
        assert_eq!(e.dataset, "zeek.smb_files");
        assert_eq!(e.share_target(), Some("evil,exe\\\\x"));
        assert_eq!(e.share_name(), Some("\\\\DC\\ADMIN$"));
        assert_eq!(e.destination_port, Some(445));
        assert_eq!(e.source_ip.unwrap().to_string(), "10.0.0.1");
        assert_eq!(e.ts, Timestamp(1_500_000_000));
        assert_eq!(
            unescape(b"a\\x09b\\\\c\\q\\x4"),
            Cow::<[u8]>::Owned(b"a\tb\\c\\q\\x4".to_vec())
        );
    }

    #[test]
    fn second_header_block_missing_fields_and_bad_lines_are_handled() {
        let mut text = String::from("### BTest baseline data\n");
        text.push_str(&header("kerberos", "ts uid id.orig_h id.orig_p id.resp_h id.resp_p request_type client service success error_msg"));
        text.push_str(
            "1.0\tC1\t10.0.0.1\t5000\t10.0.0.9\t88\tAS\tbob/CORP.LOCAL\tkrbtgt/CORP.LOCAL\tT\t-\n",
        );
        text.push_str("2.0\tC2\t10.0.0.1\t5001\t10.0.0.9\t88\tTGS\n");
        // A second block, another log, another column order.
        text.push_str(&header("ssh", "uid ts id.orig_h id.orig_p id.resp_h id.resp_p auth_success auth_attempts direction client server"));
        text.push_str("C3\t3.0\t10.0.0.1\t5002\t10.0.0.7\t22\tF\t3\tINBOUND\tSSH-2.0-OpenSSH_8.9\tSSH-2.0-OpenSSH_9.6\n");
        text.push_str("C4\t4.0\t10.0.0.1\t5003\t10.0.0.7\t22\t-\t0\t-\t-\t-\n");
        // A block without #fields: its lines cannot be read.
        text.push_str("#separator \\x09\n#path\tconn\n");
        text.push_str("5.0\tC5\t10.0.0.1\t5004\t10.0.0.7\t22\ttcp\n");
        let (r, flows) = read(&text, "x", false);
        assert_eq!(r.text.records, 5);
        assert!(flows.is_empty());
        let counts = &r.text.diag.counts;
        assert_eq!(
            counts.get("Zeek line with a column count unlike its #fields"),
            Some(&1)
        );
        assert_eq!(
            counts.get("Zeek data line before any #fields header"),
            Some(&1)
        );
        let wrong = &r.text.diag.samples["Zeek line with a column count unlike its #fields"][0];
        assert_eq!(wrong.origin.at, Position::Line(11));
        assert!(wrong.detail.starts_with("2.0"));
        let ev = &r.text.events;
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[0].action, Action::KerberosTgtRequest);
        assert_eq!(ev[0].user_name.as_deref(), Some("bob"));
        assert_eq!(ev[0].user_domain.as_deref(), Some("CORP.LOCAL"));
        assert_eq!(ev[0].outcome, Some(Outcome::Success));
        assert_eq!(ev[1].dataset, "zeek.ssh");
        assert_eq!(ev[1].action, Action::LogonFailed);
        assert_eq!(ev[1].ts, Timestamp(3_000_000_000));
        assert!(ev[1].labels().any(|l| l == ("auth_attempts", "3")));
        assert!(
            ev[1]
                .labels()
                .any(|l| l == ("ssh_client", "SSH-2.0-OpenSSH_8.9"))
        );
        assert!(ev[1].labels().any(|l| l == ("direction", "INBOUND")));
        assert_eq!(ev[2].action, Action::LogonAttempted);
        assert_eq!(ev[2].outcome, Some(Outcome::Unknown));
        assert_eq!(ev[2].origin.as_ref().unwrap().at, Position::Line(21));
    }

    #[test]
    fn every_mapped_log_type_in_tsv() {
        let cases = [
            (
                "rdp",
                "ts uid id.orig_h id.orig_p id.resp_h id.resp_p cookie result security_protocol client_name",
                "1.0\tC1\t10.0.0.1\t5000\t10.0.0.2\t3389\tadmin\tSuccess\tHYBRID\tWS01",
            ),
            (
                "smb_mapping",
                "ts uid id.orig_h id.orig_p id.resp_h id.resp_p path service native_file_system share_type",
                "1.0\tC1\t10.0.0.1\t5000\t10.0.0.2\t445\t\\\\\\\\SRV\\\\C$\t-\tNTFS\tDISK",
            ),
            (
                "dce_rpc",
                "ts uid id.orig_h id.orig_p id.resp_h id.resp_p rtt named_pipe endpoint operation",
                "1.0\tC1\t10.0.0.1\t5000\t10.0.0.2\t445\t0.001\t\\\\pipe\\\\svcctl\tsvcctl\tCreateServiceW",
            ),
            (
                "ntlm",
                "ts uid id.orig_h id.orig_p id.resp_h id.resp_p username hostname domainname server_nb_computer_name server_dns_computer_name server_tree_name success",
                "1.0\tC1\t10.0.0.1\t5000\t10.0.0.2\t445\talice\tWS01\tCORP\tSRV\tsrv.corp.local\t-\tF",
            ),
            (
                "dns",
                "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto query qtype_name answers",
                "1.0\tC1\t10.0.0.1\t5000\t10.0.0.53\t53\tudp\tsrv.corp.local\tA\t10.0.0.2,srv-alias.corp.local",
            ),
            (
                "http",
                "ts uid id.orig_h id.orig_p id.resp_h id.resp_p method host",
                "1.0\tC1\t10.0.0.1\t5000\t10.0.0.2\t80\tGET\texample",
            ),
        ];
        for (path, fields, line) in cases {
            let text = format!("{}{line}\n", header(path, fields));
            let (r, _) = read(&text, "x", false);
            assert!(r.text.diag.is_clean(), "{path}: {:?}", r.text.diag.samples);
            assert_eq!(r.text.records, 1, "{path}");
            if path == "http" {
                assert!(r.text.events.is_empty());
                continue;
            }
            let e = &r.text.events[0];
            assert_eq!(e.dataset, format!("zeek.{path}"));
            assert_eq!(e.source_ip.unwrap().to_string(), "10.0.0.1");
            assert!(e.labels().any(|l| l == ("zeek_uid", "C1")));
            match path {
                "rdp" => {
                    assert_eq!(e.user_name.as_deref(), Some("admin"));
                    assert_eq!(e.source_domain.as_deref(), Some("WS01"));
                    assert_eq!(e.outcome, Some(Outcome::Success));
                    assert_eq!(e.action, Action::RdpConnection);
                }
                "smb_mapping" => {
                    assert_eq!(e.share_name(), Some("\\\\SRV\\C$"));
                    assert_eq!(e.action, Action::ShareAccessed);
                    assert!(e.labels().any(|l| l == ("share_type", "DISK")));
                }
                "dce_rpc" => {
                    assert_eq!(e.rpc_endpoint(), Some("svcctl"));
                    assert_eq!(e.rpc_operation(), Some("CreateServiceW"));
                    assert_eq!(e.category, Some(Category::Network));
                }
                "ntlm" => {
                    assert_eq!(e.user_name.as_deref(), Some("alice"));
                    assert_eq!(e.user_domain.as_deref(), Some("CORP"));
                    assert_eq!(e.source_domain.as_deref(), Some("WS01"));
                    assert_eq!(e.destination_domain.as_deref(), Some("SRV"));
                    assert_eq!(e.outcome, Some(Outcome::Failure));
                }
                "dns" => {
                    assert_eq!(e.action, Action::DnsAnswer);
                    assert_eq!(e.dns_question(), Some("srv.corp.local"));
                    assert_eq!(
                        e.dns_answers().collect::<Vec<_>>(),
                        ["10.0.0.2", "srv-alias.corp.local"]
                    );
                }
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn json_lines_with_epoch_iso_and_millis_times() {
        let text = concat!(
            r#"{"ts":1692161643.549491,"uid":"CX6po61SVaO8po0uh8","id.orig_h":"192.168.1.41","id.orig_p":55213,"id.resp_h":"10.0.5.13","id.resp_p":80,"proto":"tcp","duration":1.201128,"orig_bytes":0,"resp_bytes":403,"conn_state":"SHR","local_orig":true,"missed_bytes":0,"history":"^hadf","orig_pkts":0,"orig_ip_bytes":0,"resp_pkts":5,"resp_ip_bytes":615}"#,
            "\n",
            r#"{"_path":"dce_rpc","ts":"2023-08-16T04:54:07.516771Z","uid":"C2","id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"10.0.0.2","id.resp_p":135,"endpoint":"ITaskSchedulerService","operation":"SchRpcRegisterTask"}"#,
            "\n",
            r#"{"ts":1692161647506,"uid":"C3","id.orig_h":"10.0.0.1","id.orig_p":5001,"id.resp_h":"10.0.0.9","id.resp_p":88,"request_type":"TGS","client":"bob/CORP","service":"cifs/srv","success":true}"#,
            "\n",
            r#"{"ts":1.0,"uid":"C4","id.orig_h":"10.0.0.1","id.orig_p":5002,"id.resp_h":"10.0.0.53","id.resp_p":53,"query":"dc01.corp","qtype_name":"A","answers":["10.0.0.9"],"TTLs":[600.0]}"#,
            "\n",
            r#"{"ts":1.0,"uid":"C5","id.orig_h":"10.0.0.1","id.orig_p":5002,"id.resp_h":"10.0.0.7","id.resp_p":22,"auth_success":false,"auth_attempts":2}"#,
            "\n",
            r#"{"ts":1.0,"uid":"C6","weird":"x"}"#,
            "\n",
            "not json\n",
        );
        let (r, flows) = read(text, "mixed.json", true);
        assert_eq!(r.text.records, 7);
        assert_eq!(r.text.diag.counts.get("not a Zeek JSON object"), Some(&1));
        assert_eq!(r.text.diag.total(), 1);
        assert_eq!(flows.len(), 1);
        assert_eq!(
            flows[0].ts,
            Timestamp::from_parts(1_692_161_643, 549_491_000)
        );
        assert_eq!(
            flows[0].duration,
            Some(crate::model::event::Duration(1_201_128_000))
        );
        assert_eq!(flows[0].conn_state, ConnState::SHR);
        let ev = &r.text.events;
        assert_eq!(ev.len(), 4);
        assert_eq!(ev[0].rpc_endpoint(), Some("ITaskSchedulerService"));
        assert_eq!(ev[0].ts, Timestamp::from_parts(1_692_161_647, 516_771_000));
        assert_eq!(ev[1].action, Action::KerberosServiceTicket);
        assert_eq!(ev[1].ts, Timestamp::from_parts(1_692_161_647, 506_000_000));
        assert_eq!(ev[1].outcome, Some(Outcome::Success));
        assert_eq!(ev[2].dns_answers().collect::<Vec<_>>(), ["10.0.0.9"]);
        assert_eq!(ev[3].action, Action::LogonFailed);

        // The nested "id" shape of some shippers.
        let nested = r#"{"ts":2.5,"uid":"C7","id":{"orig_h":"10.0.0.1","orig_p":5,"resp_h":"10.0.0.2","resp_p":445},"proto":"tcp","conn_state":"S0"}"#;
        let (r, flows) = read(nested, "conn.json", true);
        assert!(r.text.diag.is_clean(), "{:?}", r.text.diag.samples);
        assert_eq!(flows[0].resp_p, 445);
        assert_eq!(flows[0].orig_h.to_string(), "10.0.0.1");

        // The file name decides when there is no _path.
        let line = r#"{"ts":5.0,"uid":"C9","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":445,"path":"\\\\SRV\\IPC$","share_type":"PIPE"}"#;
        let (r, _) = read(line, "/logs/smb_mapping.09:00:00-10:00:00.log", true);
        assert_eq!(r.text.events[0].share_name(), Some("\\\\SRV\\IPC$"));
        assert_eq!(
            LogKind::from_file_name("/x/conn.log.gz"),
            Some(LogKind::Conn)
        );
        assert_eq!(LogKind::from_file_name("/x/notes.txt"), None);
    }

    #[test]
    fn lab_data_set_shapes_flattened_names_and_stream() {
        // OTRF-style lines: `@stream` names the log, id fields are
        // flattened, ts is RFC 3339 text (or epoch text or a number).
        let lines: &[&[u8]] = &[
            br#"{"@stream":"conn","@system":"bro","@proc":"bro","ts":"2020-09-22T18:53:30.072504Z","uid":"C1","id_orig_h":"172.18.39.5","id_orig_p":62782,"id_resp_h":"172.18.39.6","id_resp_p":445,"proto":"tcp","service":"smb","duration":0.5,"orig_bytes":100,"resp_bytes":200,"conn_state":"SF","missed_bytes":0,"history":"ShADadFf","orig_pkts":5,"orig_ip_bytes":300,"resp_pkts":5,"resp_ip_bytes":400}"#,
            br#"{"@stream":"smb_mapping","@system":"bro","ts":"2020-09-22T18:53:30.1Z","uid":"C1","id_orig_h":"172.18.39.5","id_orig_p":62782,"id_resp_h":"172.18.39.6","id_resp_p":445,"path":"\\\\WORKSTATION6\\C$","share_type":"DISK"}"#,
            br#"{"@stream":"kerberos","ts":"1600800810.5","uid":"C2","id_orig_h":"172.18.39.5","id_orig_p":50000,"id_resp_h":"172.18.38.5","id_resp_p":88,"request_type":"TGS","client":"pgustavo/THESHIRE.LOCAL","service":"cifs/WORKSTATION6","success":true}"#,
            br#"{"@stream":"ntlm","ts":1600800811,"uid":"C3","id_orig_h":"172.18.39.5","id_orig_p":50001,"id_resp_h":"172.18.39.6","id_resp_p":445,"username":"pgustavo","domainname":"THESHIRE","hostname":"WORKSTATION5","success":true}"#,
            br#"{"@stream":"dce_rpc","ts":"2020-09-22T18:53:32+00:00","uid":"C4","id_orig_h":"172.18.39.5","id_orig_p":50002,"id_resp_h":"172.18.39.6","id_resp_p":49667,"endpoint":"svcctl","operation":"CreateServiceW"}"#,
            br#"{"@stream":"rdp","ts":"2020-09-22T18:53:33Z","uid":"C5","id_orig_h":"172.18.39.5","id_orig_p":50003,"id_resp_h":"172.18.39.6","id_resp_p":3389,"cookie":"pgustavo","result":"Success"}"#,
            br#"{"@stream":"ssh","ts":"2020-09-22T18:53:34Z","uid":"C6","id_orig_h":"172.18.39.5","id_orig_p":50004,"id_resp_h":"172.18.39.7","id_resp_p":22,"auth_success":false,"auth_attempts":3}"#,
            br#"{"@stream":"smb_files","ts":"2020-09-22T18:53:35Z","uid":"C1","id_orig_h":"172.18.39.5","id_orig_p":62782,"id_resp_h":"172.18.39.6","id_resp_p":445,"action":"SMB::FILE_OPEN","path":"\\\\WORKSTATION6\\C$","name":"ProgramData\\GruntHTTP.exe"}"#,
            br#"{"@stream":"dns","ts":"2020-09-22T18:53:36Z","uid":"C7","id_orig_h":"172.18.39.5","id_orig_p":50005,"id_resp_h":"172.18.38.5","id_resp_p":53,"query":"workstation6.theshire.local","answers":["172.18.39.6"]}"#,
            br#"{"@stream":"files","ts":"2020-09-22T18:53:37Z","fuid":"F1"}"#,
            br#"{"@stream":"conn","@system":"bro"}"#,
            br#"{"_path":"Zeek_Ssh","ts":"2020-09-22T18:53:38Z","uid":"C8","id_orig_h":"172.18.39.5","auth_success":true}"#,
        ];
        let text: Vec<u8> = lines.join(&b"\n"[..]);
        let text = String::from_utf8(text).unwrap();
        let (r, flows) = read(&text, "otrf.json", true);
        assert_eq!(r.text.records, 12);
        assert_eq!(
            r.text.diag.counts.get("Zeek JSON object without ts"),
            Some(&1)
        );
        assert_eq!(r.text.diag.total(), 1, "{:?}", r.text.diag.samples);
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!(f.ts, Timestamp::from_parts(1_600_800_810, 72_504_000));
        assert_eq!(
            (f.orig_h.to_string().as_str(), f.resp_p),
            ("172.18.39.5", 445)
        );
        assert_eq!(f.conn_state, ConnState::SF);
        let ev = &r.text.events;
        let actions: Vec<Action> = ev.iter().map(|e| e.action).collect();
        assert_eq!(
            actions,
            [
                Action::ShareAccessed,
                Action::KerberosServiceTicket,
                Action::NtlmAuthentication,
                Action::RpcCall,
                Action::RdpConnection,
                Action::LogonFailed,
                Action::FileOpened,
                Action::DnsAnswer,
                Action::LoggedIn,
            ]
        );
        assert!(ev.iter().all(|e| e.source_ip.is_some()));
        assert_eq!(ev[0].share_name(), Some("\\\\WORKSTATION6\\C$"));
        assert_eq!(ev[0].destination_port, Some(445));
        assert_eq!(ev[1].ts, Timestamp::from_parts(1_600_800_810, 500_000_000));
        assert_eq!(ev[1].user_name.as_deref(), Some("pgustavo"));
        assert_eq!(ev[2].ts, Timestamp::from_parts(1_600_800_811, 0));
        assert_eq!(ev[3].rpc_operation(), Some("CreateServiceW"));
        assert_eq!(ev[3].ts, Timestamp::from_parts(1_600_800_812, 0));
        assert_eq!(ev[6].share_target(), Some("ProgramData\\GruntHTTP.exe"));
        assert_eq!(ev[8].dataset, "zeek.ssh");

        // pe.log's own `id` field (a string) is not the nested endpoints.
        let pe = r#"{"@stream":"pe","ts":1.5,"id":"FmHWcO2PF9wbqM6cil","machine":"AMD64"}"#;
        let (r, _) = read(pe, "x", true);
        assert!(r.text.diag.is_clean(), "{:?}", r.text.diag.samples);
        assert_eq!(r.text.records, 1);

        // Without `@stream`, flattened names still tell the log by its fields.
        let line = r#"{"ts":"2020-09-22T18:53:30Z","uid":"C9","id_orig_h":"10.0.0.1","id_orig_p":1,"id_resp_h":"10.0.0.2","id_resp_p":88,"request_type":"AS","client":"bob/CORP","success":false}"#;
        let (r, _) = read(line, "x", true);
        assert_eq!(r.text.events[0].action, Action::KerberosTgtRequest);
        assert_eq!(r.text.events[0].destination_port, Some(88));
        assert_eq!(LogKind::from_path("bro.dns.log"), LogKind::Dns);
        assert_eq!(LogKind::from_path("Zeek_Conn"), LogKind::Conn);
        assert_eq!(LogKind::from_path("zeek_weird"), LogKind::Other);
        assert_eq!(Field::from_name("id_resp_p"), Some(Field::RespP));
        assert_eq!(Field::from_name("@stream"), Some(Field::ZeekPath));
        assert_eq!(Field::from_name("@system"), None);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_zeek_tsv(
            b"#separator \\x09\n#set_separator\t,\n"
        ));
        assert!(looks_like_zeek_tsv(
            b"### BTest baseline data\n#separator \\x09\n"
        ));
        assert!(!looks_like_zeek_tsv(b"# a comment\nhello\n"));
        assert!(looks_like_zeek_json(
            b"{\"ts\":1.0,\"uid\":\"C1\",\"id.orig_h\":\"1.2.3.4\"}\n"
        ));
        assert!(!looks_like_zeek_json(b"{\"EventID\":4624}\n"));
        assert!(looks_like_zeek_json(
            b"{\"@stream\":\"conn\",\"@system\":\"bro\",\"ts\":\"2020-09-22T18:53:30Z\"}\n"
        ));
        assert!(looks_like_zeek_json(
            b"{\"ts\":\"2020-09-22T18:53:30Z\",\"id_orig_h\":\"10.0.0.1\"}"
        ));
        assert!(!looks_like_zeek_json(b"{\"@stream\":\"conn\"}\n{\"ts\":1}"));
    }

    #[test]
    fn header_blocks_split_across_chunks_keep_their_schema() {
        // Enough lines to span several pieces; a second block in the middle.
        let mut text = header("conn", CONN_FIELDS);
        let row = |i: u32| {
            format!(
                "{i}.000001\tC{i}\t10.0.0.1\t{}\t10.0.0.2\t445\ttcp\tsmb\t-\t-\t-\tS0\t-\t-\t0\tS\t1\t52\t0\t0\t-\n",
                i % 60_000 + 1
            )
        };
        for i in 0..20_000 {
            text.push_str(&row(i));
        }
        text.push_str(
            &header("conn", &CONN_FIELDS.replace("uid ", ""))
                .replace("#fields\tts\t", "#fields\tts\tuid\t"),
        );
        for i in 20_000..40_000 {
            text.push_str(&row(i));
        }
        let (r, flows) = read(&text, "x", false);
        assert!(r.text.diag.is_clean(), "{:?}", r.text.diag.samples);
        assert_eq!(flows.len(), 40_000);
        let last = flows.iter().max_by_key(|f| f.ts).unwrap();
        assert_eq!(last.origin.as_ref().unwrap().at, Position::Line(40_016));
    }
}

#[cfg(test)]
mod skip_tests {
    use super::*;

    #[test]
    fn a_huge_line_is_one_skipped_record() {
        let mut text = String::from("#separator \\x09\n#path\tntlm\n#fields\tts\tusername\n");
        text.push_str(&"x".repeat(10 * MAX_LINE));
        text.push_str("\n7.0\tcarol\n");
        let store = crate::collect::flow_store::FlowStore::new(16);
        for mut w in [
            ByteWindow::owned(text.as_bytes().to_vec()),
            ByteWindow::stream(Box::new(std::io::Cursor::new(text.clone().into_bytes()))),
        ] {
            let r = read_zeek(&mut w, &Arc::from("x"), false, &store, &AtomicU64::new(0));
            assert_eq!(r.text.records, 2);
            assert_eq!(r.text.diag.counts.get("line longer than 1 MiB"), Some(&1));
            assert_eq!(r.text.events.len(), 1);
            assert_eq!(
                r.text.events[0].origin.as_ref().unwrap().at,
                Position::Line(5)
            );
            assert_eq!(r.text.bytes, text.len() as u64);
        }
    }

    #[test]
    fn long_values_are_cut_when_kept() {
        let name = "é".repeat(100_000);
        let line = format!(
            r#"{{"@stream":"ntlm","ts":1.0,"uid":"{name}","id_orig_h":"10.0.0.1","username":"{name}","domainname":"D"}}"#
        );
        let store = crate::collect::flow_store::FlowStore::new(16);
        let mut w = ByteWindow::owned(line.into_bytes());
        let r = read_zeek(&mut w, &Arc::from("x"), true, &store, &AtomicU64::new(0));
        let e = &r.text.events[0];
        let user = e.user_name.as_deref().unwrap();
        assert!(user.len() <= zeek_map::MAX_VALUE && user.len() > 4000);
        assert!(user.chars().all(|c| c == 'é'));
        assert!(e.labels().all(|(_, v)| v.len() <= zeek_map::MAX_VALUE));
    }

    #[test]
    fn mapped_records_without_a_time_are_skipped() {
        let text = "#separator \\x09\n#path\tntlm\n#fields\tts\tuid\tusername\n-\tC1\talice\nnoon\tC2\tbob\n7.0\tC3\tcarol\n";
        let store = crate::collect::flow_store::FlowStore::new(16);
        let mut w = ByteWindow::owned(text.as_bytes().to_vec());
        let r = read_zeek(&mut w, &Arc::from("x"), false, &store, &AtomicU64::new(0));
        assert_eq!(r.text.records, 3);
        assert_eq!(r.text.diag.counts.get("Zeek record without ts"), Some(&1));
        assert_eq!(r.text.diag.counts.get("Zeek time is not a time"), Some(&1));
        assert_eq!(r.text.events.len(), 1);
        assert_eq!(r.text.events[0].user_name.as_deref(), Some("carol"));
    }
}
