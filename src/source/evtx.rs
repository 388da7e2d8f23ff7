//! Windows EVTX event logs in, normalised events out.
//!
//! The binary XML of each record is decoded by the `evtx` crate; this module
//! turns every record into the same [`Header`] and [`EventData`] the JSON
//! Lines reader builds, and hands them to the one Windows mapping,
//! [`winsec::map_event`], so an event means the same thing whichever export
//! it arrived in.
//!
//! The input is streamed: after the 4 KiB file header, 64 KiB chunks are read
//! from the [`ByteWindow`] in batches (so compressed files and standard input
//! work and memory stays bounded by one batch), and the chunks of a batch are
//! decoded in parallel (rayon). Chunks are read in file order rather than in
//! the crate's oldest-chunk-first order; the pipeline sorts events by time
//! afterwards, so output is the same either way.
//!
//! Every event's [`Position::Offset`] is the byte offset in the
//! (decompressed) file of its record's header (the `**\0\0` magic), so
//! `log.offset` points at the raw record.
//!
//! Bad input is counted, never fatal: an unreadable chunk header, a record
//! that cannot be decoded or rendered, and a record cut off by the end of the
//! file are skipped with their offset (and record id when known) in the
//! diagnostics; all other records are kept. A chunk whose checksums do not
//! match, an unreadable chunk, or a file cut inside a chunk makes the input
//! partial; a file whose header is followed by no readable chunk at all is
//! an error for that file.
//!
//! System values may arrive typed (`"EventID": 4624`), as string-typed
//! substitutions (`"EventID": "4656"`) or with attributes
//! (`{"#attributes": {"Qualifiers": 16384}, "#text": 7045}`); all three are
//! read. Event data comes from `EventData` (named `Data` elements) or, for
//! events that carry `UserData`, from the first element inside it. A record
//! without a `Channel` is placed by its `Provider`'s name, and
//! `Security/@UserID` is the SID it was written under (the `user_sid` label
//! of WinRM and PowerShell events). Files saved by Event Viewer and those
//! exported with `wevtutil epl` are the same format and read alike.

use crate::diag::Diagnostics;
use crate::input::ByteWindow;
use crate::model::event::{LogEvent, Origin, Position, Timestamp};
use crate::source::winsec::{self, EventData, Header, Text};
use crate::source::{Context, FlowSink, LogFormatSpec, Reader, Sniff, WholeRead};
use evtx::{EvtxChunkData, EvtxFileHeader, ParserSettings};
use rayon::prelude::*;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Size of the EVTX file header block; the first chunk starts here.
pub const FILE_HEADER_SIZE: usize = 4096;

/// Size of one EVTX chunk.
pub const CHUNK_SIZE: usize = 64 << 10;

/// Size of a chunk's header (magic, record range, offsets, string and template tables).
const CHUNK_HEADER_SIZE: usize = 512;

/// Size of a record's header (magic, size, record id, FILETIME).
const RECORD_HEADER_SIZE: usize = 24;

/// Chunks decoded together (4 MiB): enough work for every thread, little memory.
const BATCH: usize = 64;

/// What reading one EVTX input produced.
#[derive(Debug, Default)]
pub struct EvtxResult {
    /// Events, in file order.
    pub events: Vec<LogEvent>,
    /// Event records found (decoded or skipped).
    pub records: u64,
    /// Chunks that held records.
    pub chunks: u64,
    /// Skipped records and chunks by reason, with samples.
    pub diag: Diagnostics,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Offset where the file ends inside a chunk, if it does.
    pub truncated_at: Option<u64>,
    /// Why the input is broken (corrupt chunks, no readable chunk, read
    /// error), when it is; `None` for a sound file.
    pub error: Option<String>,
}

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// Windows EVTX in the format registry (`--format evtx`): recognised by
/// its signature whether named or not, so naming it only makes other
/// inputs an error.
#[derive(Debug, Clone, Copy)]
pub struct EvtxFormat;

impl LogFormatSpec for EvtxFormat {
    fn flag(&self) -> &'static str {
        "evtx"
    }

    fn help(&self) -> &'static str {
        "Windows EVTX event logs (also recognised without -f)"
    }

    fn sniff(&self) -> Sniff {
        Sniff::Magic {
            bytes: MAGIC,
            what: "an EVTX file",
        }
    }

    fn reader(&self, _ctx: &Context) -> Reader {
        Reader::Whole(Box::new(read_whole))
    }

    fn when_empty(&self) -> &'static str {
        "the event log holds no event records"
    }
}

/// [`read_evtx`] as the registry's reader (EVTX holds no connection records).
fn read_whole(
    window: &mut ByteWindow,
    file: &Arc<str>,
    _sink: &dyn FlowSink,
    progress: &AtomicU64,
) -> WholeRead {
    let res = read_evtx(window, file, progress);
    WholeRead {
        events: res.events,
        records: res.records,
        bytes: res.bytes,
        flows: 0,
        diag: res.diag,
        truncated_at: res.truncated_at,
        error: res.error,
    }
}

/// Reads every record of an EVTX input.
pub fn read_evtx(window: &mut ByteWindow, file: &Arc<str>, progress: &AtomicU64) -> EvtxResult {
    let mut res = EvtxResult::default();
    window.fill(FILE_HEADER_SIZE);
    let have = window.bytes().len();
    if have < FILE_HEADER_SIZE {
        res.bytes = have as u64;
        res.truncated_at = Some(0);
        res.error = Some(match window.take_error() {
            Some(e) => format!("read error in the EVTX file header: {e}"),
            None => format!("EVTX file header cut short: {have} of {FILE_HEADER_SIZE} bytes"),
        });
        return res;
    }
    let declared_chunks = match EvtxFileHeader::from_bytes(window.bytes()) {
        Ok(h) => u64::from(h.chunk_count),
        Err(e) => {
            res.error = Some(format!("unreadable EVTX file header: {e}"));
            return res;
        }
    };
    window.consume(FILE_HEADER_SIZE);
    res.bytes = FILE_HEADER_SIZE as u64;
    progress.fetch_add(FILE_HEADER_SIZE as u64, Ordering::Relaxed);

    let settings = Arc::new(ParserSettings::new().indent(false));
    let mut problems = Problems::default();
    let mut chunk_no: u64 = 0;
    loop {
        let batch = read_batch(window, &mut chunk_no, &mut res, progress);
        if batch.is_empty() {
            break;
        }
        let outputs: Vec<ChunkOutput> = batch
            .into_par_iter()
            .map(|c| decode_chunk(c, file, &settings))
            .collect();
        for o in outputs {
            res.events.extend(o.events);
            res.records += o.records;
            res.chunks += u64::from(o.records > 0);
            res.diag.merge(o.diag);
            problems.note(o.problem);
        }
    }
    // Chunks sit at fixed offsets, so a file that ends before the chunks its
    // header declares was cut, even when the cut falls between chunks.
    if res.truncated_at.is_none() && chunk_no < declared_chunks {
        res.truncated_at = Some(res.bytes);
    }
    if let Some(e) = window.take_error() {
        res.error = Some(format!("read error after byte {}: {e}", res.bytes));
    } else if let Some(msg) = problems.message(res.chunks) {
        res.error = Some(msg);
    }
    res
}

/// One chunk's bytes, read from the input.
struct RawChunk {
    /// Chunk number (0 = the chunk right after the file header).
    number: u64,
    /// Offset of the chunk in the file.
    offset: u64,
    /// Exactly [`CHUNK_SIZE`] bytes; zero-padded when the file ends early.
    data: Vec<u8>,
    /// How many of `data`'s bytes came from the file.
    real: usize,
}

/// Reads up to [`BATCH`] chunks from the window.
fn read_batch(
    window: &mut ByteWindow,
    chunk_no: &mut u64,
    res: &mut EvtxResult,
    progress: &AtomicU64,
) -> Vec<RawChunk> {
    let mut batch = Vec::with_capacity(BATCH);
    while batch.len() < BATCH && res.truncated_at.is_none() {
        if window.bytes().len() < CHUNK_SIZE && !window.at_eof() {
            window.fill(CHUNK_SIZE);
        }
        let avail = window.bytes();
        if avail.is_empty() {
            break;
        }
        let real = avail.len().min(CHUNK_SIZE);
        let mut data = Vec::with_capacity(CHUNK_SIZE);
        data.extend_from_slice(avail.get(..real).unwrap_or(avail));
        data.resize(CHUNK_SIZE, 0);
        let offset = window.offset();
        window.consume(real);
        res.bytes += real as u64;
        progress.fetch_add(real as u64, Ordering::Relaxed);
        if real < CHUNK_SIZE {
            res.truncated_at = Some(offset + real as u64);
        }
        batch.push(RawChunk {
            number: *chunk_no,
            offset,
            data,
            real,
        });
        *chunk_no += 1;
    }
    batch
}

/// What one chunk yielded.
#[derive(Default)]
struct ChunkOutput {
    events: Vec<LogEvent>,
    records: u64,
    diag: Diagnostics,
    /// Why the chunk is damaged, if it is.
    problem: Option<ChunkProblem>,
}

/// A damaged chunk: where, and what is wrong.
struct ChunkProblem {
    number: u64,
    offset: u64,
    why: String,
    /// True when none of the chunk could be read.
    unreadable: bool,
}

/// Damaged chunks of one file, summarised for the input's message.
#[derive(Default)]
struct Problems {
    count: u64,
    unreadable: u64,
    first: Option<ChunkProblem>,
}

impl Problems {
    fn note(&mut self, p: Option<ChunkProblem>) {
        let Some(p) = p else { return };
        self.count += 1;
        self.unreadable += u64::from(p.unreadable);
        if self.first.is_none() {
            self.first = Some(p);
        }
    }

    /// One line for the input's report, or `None` when no chunk was damaged.
    fn message(&self, good_chunks: u64) -> Option<String> {
        let first = self.first.as_ref()?;
        let at = format!(
            "chunk {} at byte {}: {}",
            first.number, first.offset, first.why
        );
        Some(if good_chunks == 0 && self.unreadable == self.count {
            format!("EVTX file header followed by no readable chunk (first: {at})")
        } else {
            format!(
                "{} damaged EVTX chunk(s), {} unreadable (first: {at}); every readable record was read",
                self.count, self.unreadable
            )
        })
    }
}

/// Decodes one chunk, never panicking: a panic inside the decoder (a bug
/// the hostile bytes found) makes the chunk unreadable instead.
fn decode_chunk(c: RawChunk, file: &Arc<str>, settings: &Arc<ParserSettings>) -> ChunkOutput {
    let (number, offset) = (c.number, c.offset);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_chunk_inner(c, file, settings)
    }))
    .unwrap_or_else(|_| {
        let mut out = ChunkOutput::default();
        out.diag.skip(
            "EVTX chunk unreadable",
            || at(file, offset),
            || "decoder failed".into(),
        );
        out.problem = Some(ChunkProblem {
            number,
            offset,
            why: "decoder failed".into(),
            unreadable: true,
        });
        out
    })
}

fn decode_chunk_inner(c: RawChunk, file: &Arc<str>, settings: &Arc<ParserSettings>) -> ChunkOutput {
    let mut out = ChunkOutput::default();
    let RawChunk {
        number,
        offset,
        data,
        real,
    } = c;
    let unreadable = |out: &mut ChunkOutput, why: String| {
        out.diag
            .skip("EVTX chunk unreadable", || at(file, offset), || why.clone());
        out.problem = Some(ChunkProblem {
            number,
            offset,
            why,
            unreadable: true,
        });
    };
    // Empty chunks sit in the middle of dirty files and at the end of
    // preallocated ones; they hold nothing.
    if data.iter().all(|&b| b == 0) {
        return out;
    }
    if real < CHUNK_HEADER_SIZE {
        unreadable(&mut out, "chunk header cut by the end of the file".into());
        return out;
    }
    let mut chunk_data = match EvtxChunkData::new(data, false) {
        Ok(d) => d,
        Err(e) => {
            unreadable(&mut out, error_chain(&e));
            return out;
        }
    };
    chunk_data.number = Some(number);
    // A cut chunk fails its checksum by construction; the cut is reported
    // as truncation instead.
    if real == CHUNK_SIZE && !chunk_data.validate_checksum() {
        out.problem = Some(ChunkProblem {
            number,
            offset,
            why: "checksum mismatch: the chunk was altered or damaged".into(),
            unreadable: false,
        });
    }
    let mut chunk = match chunk_data.parse(Arc::clone(settings)) {
        Ok(ch) => ch,
        Err(e) => {
            unreadable(&mut out, error_chain(&e));
            return out;
        }
    };
    let chunk_bytes: &[u8] = chunk.data;
    let record_size = |start: usize| -> Option<usize> {
        let b = chunk_bytes.get(start + 4..start + 8)?;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    };
    for rec in chunk.iter() {
        out.records += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let within = match &e {
                    evtx::err::EvtxError::FailedToReadRecordAt { offset: o, .. } => *o,
                    _ => 0,
                };
                out.diag.skip(
                    "EVTX record unreadable",
                    || at(file, offset + within),
                    || error_chain(&e),
                );
                continue;
            }
        };
        let start = (rec.binxml_offset as usize).saturating_sub(RECORD_HEADER_SIZE);
        let origin = offset + start as u64;
        let record_id = rec.event_record_id;
        let end = start.saturating_add(record_size(start).unwrap_or(usize::MAX));
        if end > real {
            out.diag.skip(
                "EVTX record cut by the end of the file",
                || at(file, origin),
                || format!("record {record_id}"),
            );
            continue;
        }
        let header_ts = Timestamp(i64::try_from(rec.timestamp.as_nanosecond()).unwrap_or(0));
        let json = match rec.into_json_bytes() {
            Ok(j) => j.data,
            Err(e) => {
                out.diag.skip(
                    "EVTX record unrenderable",
                    || at(file, origin),
                    || format!("record {record_id}: {}", error_chain(&e)),
                );
                continue;
            }
        };
        match map_record(&json, header_ts) {
            Ok(Some(mut e)) => {
                e.origin = Some(at(file, origin));
                out.events.push(e);
            }
            Ok(None) => {}
            Err(reason) => out.diag.skip(
                reason,
                || at(file, origin),
                || format!("record {record_id}"),
            ),
        }
    }
    out
}

fn at(file: &Arc<str>, offset: u64) -> Origin {
    Origin {
        file: file.clone(),
        at: Position::Offset(offset),
    }
}

/// An error and its sources, joined, for diagnostics samples.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    if s.len() > 300 {
        let mut cut = 300;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Maps one record, rendered as the crate's JSON, through the Windows
/// mapping. `header_ts` (the record header's FILETIME) stands in when the
/// record has no `TimeCreated`.
pub fn map_record(json: &[u8], header_ts: Timestamp) -> Result<Option<LogEvent>, &'static str> {
    let rec: RecordJson<'_> =
        serde_json::from_slice(json).map_err(|_| "EVTX record rendered as unexpected JSON")?;
    let ev = rec.event;
    let sys = ev.system;
    let Some(id) = sys.event_id.0.get() else {
        return Err("EVTX record without an event id");
    };
    let Ok(event_id) = id.parse::<u32>() else {
        return Err("EVTX event id is not a number");
    };
    let channel = if sys.channel.0.get().is_some() {
        sys.channel.0.0
    } else {
        // No channel: the provider's name says as much.
        sys.provider.0.0
    };
    let header = Header {
        event_id: Some(event_id),
        channel,
        computer: sys.computer.0.0,
        ts: Some(
            sys.time_created
                .0
                .get()
                .and_then(Timestamp::parse_rfc3339)
                .unwrap_or(header_ts),
        ),
    };
    let mut data = ev.event_data.0.or(ev.user_data.0).unwrap_or_default();
    // The SID the record was written under (WinRM and PowerShell events).
    if data.UserID.get().is_none() {
        data.UserID = sys.security.0;
    }
    Ok(winsec::map_event(&header, &data))
}

/// The crate's JSON rendering of a record: `{"Event": {...}}`.
#[derive(Deserialize)]
struct RecordJson<'a> {
    #[serde(rename = "Event", borrow)]
    event: EventJson<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct EventJson<'a> {
    #[serde(rename = "System", borrow)]
    system: SystemJson<'a>,
    #[serde(rename = "EventData", borrow)]
    event_data: Lenient<EventData<'a>>,
    #[serde(rename = "UserData", borrow)]
    user_data: FirstChild<EventData<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct SystemJson<'a> {
    #[serde(rename = "EventID", borrow)]
    event_id: XmlText<'a>,
    #[serde(rename = "Channel", borrow)]
    channel: XmlText<'a>,
    #[serde(rename = "Computer", borrow)]
    computer: XmlText<'a>,
    #[serde(rename = "TimeCreated", borrow)]
    time_created: XmlText<'a>,
    /// `Provider/@Name` (its first attribute).
    #[serde(rename = "Provider", borrow)]
    provider: XmlText<'a>,
    /// `Security/@UserID`.
    #[serde(rename = "Security", borrow)]
    security: XmlText<'a>,
}

/// An element's value: a scalar, or for an element with attributes its
/// `#text`, else its first attribute (`TimeCreated`'s `SystemTime`).
#[derive(Debug, Default)]
struct XmlText<'a>(Text<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for XmlText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = XmlText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an XML element's value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut text = None;
                let mut attr = None;
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    if k == "#text" {
                        text = m.next_value::<Text<'de>>()?.0;
                    } else if attr.is_none() {
                        attr = m.next_value::<Text<'de>>()?.0;
                    } else {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(XmlText(Text(text.or(attr))))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(XmlText(Text(Some(Cow::Borrowed(v)))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(XmlText(Text(Some(Cow::Owned(v.to_string())))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(XmlText(Text(Some(Cow::Owned(v.to_string())))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(XmlText(Text(Some(Cow::Owned(v.to_string())))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(XmlText(Text(Some(Cow::Owned(v.to_string())))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(XmlText(Text(Some(Cow::Borrowed(if v {
                    "true"
                } else {
                    "false"
                })))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(XmlText::default())
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(XmlText::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A `T` read from a JSON object; anything else (null, text, an array) is
/// `None` rather than an error, so an odd `EventData` never loses the record.
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Lenient<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(|t| Lenient(Some(t)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The first element inside a wrapper (`UserData` holds one element, such
/// as `LogFileCleared`, whose children are the event's fields), read as `T`.
struct FirstChild<T>(Option<T>);

impl<T> Default for FirstChild<T> {
    fn default() -> Self {
        FirstChild(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for FirstChild<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = FirstChild<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut first: Option<T> = None;
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    if first.is_none() && k != "#attributes" {
                        first = m.next_value::<Lenient<T>>()?.0;
                    } else {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(FirstChild(first))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstChild(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(FirstChild(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(FirstChild(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(FirstChild(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(FirstChild(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(FirstChild(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(FirstChild(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::event::{Category, Outcome};

    fn one(json: &str) -> LogEvent {
        map_record(json.as_bytes(), Timestamp(7))
            .unwrap()
            .unwrap_or_else(|| panic!("no event from {json}"))
    }

    #[test]
    fn event_id_with_qualifiers_and_system_channel() {
        let e = one(
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"TimeCreated":{"#attributes":{"SystemTime":"2020-08-06T06:27:31.7871234Z"}},"Channel":"System","Computer":"WS6.theshire.local"},"EventData":{"ServiceName":"OTR","ImagePath":"C:\\Windows\\GruntHTTP2.exe","ServiceType":"user mode service","StartType":"demand start","AccountName":"LocalSystem"}}}"##,
        );
        assert_eq!(e.code, Some(7045));
        assert_eq!(e.dataset, "windows.system");
        assert_eq!(e.action, Action::ServiceInstalled);
        assert_eq!(e.service_name(), Some("OTR"));
        assert_eq!(e.process_executable(), Some("C:\\Windows\\GruntHTTP2.exe"));
        assert_eq!(e.host_name.as_deref(), Some("WS6.theshire.local"));
        assert_eq!(e.ts.to_rfc3339(), "2020-08-06T06:27:31.787123Z");
        assert_eq!(e.ts.subsec_nanos(), 787_123_400);
    }

    #[test]
    fn string_typed_substitutions_and_missing_time() {
        let e = one(
            r##"{"Event":{"System":{"EventID":"4624","Version":"2","Channel":"Security","Computer":"fs01"},"EventData":{"LogonType":"10","TargetUserName":"bob","TargetDomainName":"CORP","IpAddress":"::ffff:10.1.2.3","IpPort":"0","WorkstationName":"KALI","LogonProcessName":"User32 ","AuthenticationPackageName":"Negotiate"}}}"##,
        );
        assert_eq!((e.code, e.logon_type), (Some(4624), Some(10)));
        assert_eq!(e.source_ip, Some("10.1.2.3".parse().unwrap()));
        assert_eq!(e.source_port, None, "port 0 is no port");
        assert_eq!(e.source_domain.as_deref(), Some("KALI"));
        assert_eq!(e.logon_process(), Some("User32"));
        assert_eq!(e.ts, Timestamp(7), "the record header's time stands in");
    }

    #[test]
    fn user_data_is_read_when_there_is_no_event_data() {
        // No corpus record of a mapped id carries UserData; 4688 here stands in
        // for any event whose fields live one element down.
        let e = one(
            r##"{"Event":{"System":{"EventID":4688,"Channel":"Security","Computer":"h"},"UserData":{"#attributes":{"a":1},"ProcessInfo":{"#attributes":{"xmlns":"y"},"NewProcessName":"C:\\x.exe","CommandLine":"x -y","SubjectUserName":"al"}}}}"##,
        );
        assert_eq!(e.category, Some(Category::Process));
        assert_eq!(e.process_executable(), Some("C:\\x.exe"));
        assert_eq!(e.process_command_line(), Some("x -y"));
        assert_eq!(e.user_name.as_deref(), Some("al"));
    }

    #[test]
    fn terminal_services_user_data_event_xml() {
        // The shape the evtx crate renders for RDP's UserData/EventXML.
        let a = one(
            r##"{"Event":{"System":{"EventID":1149,"Channel":"Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational","Computer":"srv1","TimeCreated":{"#attributes":{"SystemTime":"2023-03-01T10:00:00.0000000Z"}}},"UserData":{"EventXML":{"#attributes":{"xmlns":"Event_NS"},"Param1":"alice","Param2":"CORP","Param3":"192.168.5.20"}}}}"##,
        );
        assert_eq!(a.action, Action::RdpAuthenticated);
        assert_eq!(a.outcome, Some(Outcome::Success));
        assert_eq!(
            (a.user_name.as_deref(), a.user_domain.as_deref()),
            (Some("alice"), Some("CORP"))
        );
        assert_eq!(a.source_ip, Some("192.168.5.20".parse().unwrap()));
        let s = one(
            r##"{"Event":{"System":{"EventID":25,"Channel":"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational","Computer":"srv1"},"UserData":{"EventXML":{"#attributes":{"xmlns":"Event_NS"},"User":"CORP\\alice","SessionID":2,"Address":"::ffff:192.168.5.20"}}}}"##,
        );
        assert_eq!(s.action, Action::RdpSessionReconnected);
        assert_eq!(s.category, Some(Category::Session));
        assert_eq!(s.user_name.as_deref(), Some("alice"));
        assert_eq!(s.source_ip, Some("192.168.5.20".parse().unwrap()));
        assert_eq!(s.logon_type, Some(10));
    }

    #[test]
    fn sysmon_network_connection_from_evtx_json() {
        let e = one(
            r##"{"Event":{"System":{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS5","TimeCreated":{"#attributes":{"SystemTime":"2020-09-22T18:53:30.1000000Z"}}},"EventData":{"RuleName":"-","UtcTime":"2020-09-22 18:53:30.100","Image":"C:\\x.exe","User":"THESHIRE\\pgustavo","Protocol":"tcp","Initiated":true,"SourceIp":"172.18.39.5","SourcePort":62782,"DestinationIp":"172.18.39.6","DestinationPort":445}}}"##,
        );
        assert_eq!(e.dataset, "windows.sysmon");
        assert_eq!(e.action, Action::NetworkConnection);
        assert_eq!(e.destination_port, Some(445));
        assert_eq!(e.source_port, Some(62782));
        assert_eq!(e.user_domain.as_deref(), Some("THESHIRE"));
        assert_eq!(e.outcome, Some(Outcome::Success));
        // The same id outside Sysmon is something else.
        let other = r##"{"Event":{"System":{"EventID":3,"Channel":"Microsoft-Windows-Kernel"}}}"##;
        assert_eq!(map_record(other.as_bytes(), Timestamp(0)), Ok(None));
    }

    #[test]
    fn odd_shapes_are_kept_or_skipped_never_fatal() {
        for (json, want) in [
            (
                r##"{"Event":{"System":{"EventID":4625},"EventData":null}}"##,
                Ok(true),
            ),
            (
                r##"{"Event":{"System":{"EventID":4625},"EventData":"text"}}"##,
                Ok(true),
            ),
            (
                r##"{"Event":{"System":{"EventID":4625},"EventData":[1,{"a":2}]}}"##,
                Ok(true),
            ),
            (
                r##"{"Event":{"System":{"EventID":4625},"UserData":7}}"##,
                Ok(true),
            ),
            (r##"{"Event":{"System":{"EventID":1102}}}"##, Ok(false)),
            (
                r##"{"Event":{"System":{}}}"##,
                Err("EVTX record without an event id"),
            ),
            (
                r##"{"Event":{"System":{"EventID":"x"}}}"##,
                Err("EVTX event id is not a number"),
            ),
            (
                r##"{"Event":{"System":{"EventID":[4624]}}}"##,
                Err("EVTX record without an event id"),
            ),
            (
                r##"{"Nope":1}"##,
                Err("EVTX record rendered as unexpected JSON"),
            ),
            ("not json", Err("EVTX record rendered as unexpected JSON")),
        ] {
            let got = map_record(json.as_bytes(), Timestamp(0)).map(|e| e.is_some());
            assert_eq!(got, want, "{json}");
        }
    }

    #[test]
    fn short_and_foreign_headers_are_errors() {
        let run = |bytes: Vec<u8>| {
            read_evtx(
                &mut ByteWindow::owned(bytes),
                &Arc::from("f"),
                &AtomicU64::new(0),
            )
        };
        let r = run(b"ElfFile\0abc".to_vec());
        assert_eq!(r.truncated_at, Some(0));
        assert!(r.error.unwrap().contains("cut short: 11 of 4096"));
        let mut v = vec![0u8; FILE_HEADER_SIZE];
        v[..8].copy_from_slice(b"NotAnEvt");
        let r = run(v);
        assert!(r.error.unwrap().starts_with("unreadable EVTX file header"));
        // A header alone, declaring no chunks: a sound, empty log.
        let mut v = vec![0u8; FILE_HEADER_SIZE];
        v[..8].copy_from_slice(b"ElfFile\0");
        let r = run(v.clone());
        assert!(r.error.is_none() && r.truncated_at.is_none());
        // Declaring two chunks but holding none: cut between chunks.
        v[42] = 2;
        let r = run(v);
        assert_eq!(r.truncated_at, Some(FILE_HEADER_SIZE as u64));
    }
}
