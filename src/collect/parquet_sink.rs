//! The `events` stream as Apache Parquet: a Hive-style dataset of the same
//! ECS documents the JSON Lines output holds, one typed column per ECS
//! field, so a data lake can keep what lateral read and query it (DuckDB,
//! Spark, Trino) or rerun detection without reparsing the raw inputs.
//!
//! [`ParquetSink`] is a [`std::io::Write`]: it takes the ECS JSON Lines the
//! `events` command writes, in their order, and turns each line into one
//! row of the fixed [`COLUMNS`]. Nothing is lost: `labels` keeps the
//! labels object as JSON text, and a member no column holds (none today)
//! goes into `lateral.extra`, a JSON object keyed by its dotted name.
//!
//! Layout under the output directory, by the UTC day of `@timestamp`:
//! `day=YYYY-MM-DD/part-00000.parquet` ([`Partitioning::Day`]), or
//! `part-00000.parquet` ([`Partitioning::None`]). A file holds at most
//! `max_rows_per_file` rows and is written a row group at a time
//! ([`ROW_GROUP_ROWS`] rows or [`ROW_GROUP_BYTES`] of JSON text), so memory
//! stays bounded by one row group per open file. The stream is in time
//! order, so a row of a later day finishes the files of earlier days: one
//! file is open at a time (at most [`MAX_OPEN_FILES`] whatever the order).
//! Files are numbered in the order rows reach them, so the same stream
//! gives byte-identical files (no time of writing is stored; `created_by`
//! is fixed).

use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::data_type::ByteArray;
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What can go wrong writing the Parquet dataset.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// Creating or writing a file of the dataset failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The Parquet encoder refused the data.
    #[error("{path}: writing Parquet: {source}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: parquet::errors::ParquetError,
    },
    /// A line of the event stream is not a JSON object (a bug upstream).
    #[error("event {row}: not an ECS JSON object: {detail}")]
    BadLine {
        /// The row's number in the stream, from 1.
        row: u64,
        /// What the JSON parser said.
        detail: String,
    },
}

/// How rows are split into directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partitioning {
    /// `day=YYYY-MM-DD/` by the UTC day of `@timestamp` (Hive-style);
    /// rows without a time go to `day=__HIVE_DEFAULT_PARTITION__/`.
    Day,
    /// All rows in the output directory itself.
    None,
}

/// The type of one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `@timestamp`: INT64 TIMESTAMP(MICROS, UTC).
    Timestamp,
    /// A UTF-8 string (BYTE_ARRAY STRING), null when absent.
    Str,
    /// A signed 64-bit integer, null when absent.
    Int,
    /// A list of strings (Parquet LIST of STRING), null when absent.
    StrList,
    /// JSON text of an object (BYTE_ARRAY STRING), null when absent.
    Json,
}

/// The columns of every file, in order: ECS dotted names as the JSON Lines
/// output spells them. `dns.answers.data` holds the `data` of each
/// `dns.answers` object.
pub const COLUMNS: &[(&str, ColumnKind)] = {
    use ColumnKind::{Int, Json, Str, StrList, Timestamp};
    &[
        ("@timestamp", Timestamp),
        ("ecs.version", Str),
        ("event.kind", Str),
        ("event.category", StrList),
        ("event.type", StrList),
        ("event.action", Str),
        ("event.outcome", Str),
        ("event.code", Str),
        ("event.dataset", Str),
        ("event.reason", Str),
        ("event.duration", Int),
        ("event.id", Str),
        ("source.ip", Str),
        ("source.port", Int),
        ("source.domain", Str),
        ("destination.ip", Str),
        ("destination.port", Int),
        ("destination.domain", Str),
        ("host.name", Str),
        ("host.ip", StrList),
        ("user.name", Str),
        ("user.domain", Str),
        ("user.id", Str),
        ("user.effective.name", Str),
        ("process.executable", Str),
        ("process.command_line", Str),
        ("service.name", Str),
        ("network.transport", Str),
        ("network.iana_number", Str),
        ("network.community_id", Str),
        ("network.protocol", Str),
        ("network.packets", Int),
        ("network.bytes", Int),
        ("dns.question.name", Str),
        ("dns.answers.data", StrList),
        ("dns.resolved_ip", StrList),
        ("lateral.auth_method", Str),
        ("lateral.logon_process", Str),
        ("lateral.rpc_endpoint", Str),
        ("lateral.rpc_operation", Str),
        ("winlog.logon.type", Int),
        ("winlog.event_data.ShareName", Str),
        ("winlog.event_data.RelativeTargetName", Str),
        ("related.ip", StrList),
        ("related.hosts", StrList),
        ("related.user", StrList),
        ("log.file.path", Str),
        ("log.file.line", Int),
        ("log.offset", Int),
        ("zeek.conn.uid", Str),
        ("zeek.conn.state", Str),
        ("zeek.conn.history", Str),
        ("zeek.conn.orig_bytes", Int),
        ("zeek.conn.resp_bytes", Int),
        ("zeek.conn.orig_pkts", Int),
        ("zeek.conn.resp_pkts", Int),
        ("labels", Json),
        ("lateral.extra", Json),
    ]
};

/// The column `lateral.extra`: members no other column holds.
const EXTRA: &str = "lateral.extra";

/// Where [`EXTRA`] is in [`COLUMNS`] (checked by a test).
const EXTRA_AT: usize = COLUMNS.len() - 1;

/// Bytes of JSON text buffered per file before a row group is written.
pub const ROW_GROUP_BYTES: usize = 16 << 20;

/// Rows buffered per file before they are written as one row group.
pub const ROW_GROUP_ROWS: usize = 64 * 1024;

/// The default cap on rows per file (`part-NNNNN.parquet`).
pub const DEFAULT_MAX_ROWS_PER_FILE: u64 = 1_000_000;

/// Files open at once; past this the one written longest ago is finished
/// (rows of its partition arriving later start a new part file).
pub const MAX_OPEN_FILES: usize = 8;

/// The partition directory rows without a time go to.
const NULL_DAY: &str = "__HIVE_DEFAULT_PARTITION__";

/// One column's values of the rows buffered for the next row group.
#[derive(Debug, Default)]
struct ColumnBuf {
    ints: Vec<i64>,
    bytes: Vec<ByteArray>,
    defs: Vec<i16>,
    reps: Vec<i16>,
}

impl ColumnBuf {
    fn clear(&mut self) {
        self.ints.clear();
        self.bytes.clear();
        self.defs.clear();
        self.reps.clear();
    }
}

/// One value of a row, as a column wants it.
fn push_value(kind: ColumnKind, v: Option<&Value>, buf: &mut ColumnBuf) {
    match kind {
        ColumnKind::Timestamp => {
            let t = v
                .and_then(Value::as_str)
                .and_then(crate::model::event::Timestamp::parse_rfc3339);
            match t {
                Some(t) => {
                    buf.ints.push(t.0.div_euclid(1000));
                    buf.defs.push(1);
                }
                None => buf.defs.push(0),
            }
        }
        ColumnKind::Str => match v {
            None | Some(Value::Null) => buf.defs.push(0),
            Some(Value::String(s)) => {
                buf.bytes.push(ByteArray::from(s.as_str()));
                buf.defs.push(1);
            }
            Some(other) => {
                buf.bytes.push(ByteArray::from(other.to_string().as_str()));
                buf.defs.push(1);
            }
        },
        ColumnKind::Json => match v {
            None | Some(Value::Null) => buf.defs.push(0),
            Some(other) => {
                buf.bytes.push(ByteArray::from(other.to_string().as_str()));
                buf.defs.push(1);
            }
        },
        ColumnKind::Int => match v.and_then(Value::as_i64) {
            Some(i) => {
                buf.ints.push(i);
                buf.defs.push(1);
            }
            None => buf.defs.push(0),
        },
        ColumnKind::StrList => match v {
            None | Some(Value::Null) => {
                buf.defs.push(0);
                buf.reps.push(0);
            }
            Some(Value::Array(items)) if items.is_empty() => {
                buf.defs.push(1);
                buf.reps.push(0);
            }
            Some(Value::Array(items)) => {
                for (i, x) in items.iter().enumerate() {
                    let text = match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    buf.bytes.push(ByteArray::from(text.as_str()));
                    buf.defs.push(2);
                    buf.reps.push(i16::from(i > 0));
                }
            }
            Some(other) => {
                // A single value where a list is expected: a list of one.
                let text = match other {
                    Value::String(s) => s.clone(),
                    o => o.to_string(),
                };
                buf.bytes.push(ByteArray::from(text.as_str()));
                buf.defs.push(2);
                buf.reps.push(0);
            }
        },
    }
}

/// The Parquet schema of [`COLUMNS`].
fn schema() -> parquet::errors::Result<Type> {
    let mut fields = Vec::with_capacity(COLUMNS.len());
    for &(name, kind) in COLUMNS {
        let t = match kind {
            ColumnKind::Timestamp => Type::primitive_type_builder(name, PhysicalType::INT64)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(Some(LogicalType::timestamp(true, TimeUnit::MICROS)))
                .build()?,
            ColumnKind::Str | ColumnKind::Json => {
                Type::primitive_type_builder(name, PhysicalType::BYTE_ARRAY)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(Some(LogicalType::String))
                    .build()?
            }
            ColumnKind::Int => Type::primitive_type_builder(name, PhysicalType::INT64)
                .with_repetition(Repetition::OPTIONAL)
                .build()?,
            ColumnKind::StrList => {
                let element = Type::primitive_type_builder("element", PhysicalType::BYTE_ARRAY)
                    .with_repetition(Repetition::REQUIRED)
                    .with_logical_type(Some(LogicalType::String))
                    .build()?;
                let list = Type::group_type_builder("list")
                    .with_repetition(Repetition::REPEATED)
                    .with_fields(vec![Arc::new(element)])
                    .build()?;
                Type::group_type_builder(name)
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(Some(LogicalType::List))
                    .with_fields(vec![Arc::new(list)])
                    .build()?
            }
        };
        fields.push(Arc::new(t));
    }
    Type::group_type_builder("lateral_event")
        .with_fields(fields)
        .build()
}

/// Writer settings: zstd pages, dictionaries and statistics, and a fixed
/// `created_by` so the bytes depend on the rows alone.
fn properties(row_group_rows: usize) -> WriterProperties {
    WriterProperties::builder()
        .set_created_by(format!("lateral {}", env!("CARGO_PKG_VERSION")))
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .build()
}

/// An open part file and its buffered rows.
struct OpenFile {
    /// Relative path of the file in the dataset.
    rel: PathBuf,
    writer: SerializedFileWriter<std::io::BufWriter<std::fs::File>>,
    columns: Vec<ColumnBuf>,
    /// Rows buffered (not yet in a row group).
    buffered: usize,
    /// JSON bytes of those rows.
    buffered_bytes: usize,
    /// Rows in the file, written or buffered.
    rows: u64,
    /// When rows last reached it (a counter), to pick which to finish.
    last_used: u64,
}

impl OpenFile {
    /// Writes the buffered rows as one row group.
    fn flush_group(&mut self, root: &Path) -> Result<(), ParquetError> {
        if self.buffered == 0 {
            return Ok(());
        }
        let path = root.join(&self.rel);
        let enc = |source| ParquetError::Encode {
            path: path.clone(),
            source,
        };
        let mut group = self.writer.next_row_group().map_err(enc)?;
        let mut i = 0;
        while let Some(mut col) = group.next_column().map_err(enc)? {
            let Some(buf) = self.columns.get(i) else {
                break;
            };
            let reps = (!buf.reps.is_empty()).then_some(buf.reps.as_slice());
            match col.untyped() {
                parquet::column::writer::ColumnWriter::Int64ColumnWriter(w) => {
                    w.write_batch(&buf.ints, Some(&buf.defs), reps)
                        .map_err(enc)?;
                }
                parquet::column::writer::ColumnWriter::ByteArrayColumnWriter(w) => {
                    w.write_batch(&buf.bytes, Some(&buf.defs), reps)
                        .map_err(enc)?;
                }
                _ => {}
            }
            col.close().map_err(enc)?;
            i += 1;
        }
        group.close().map_err(enc)?;
        for c in &mut self.columns {
            c.clear();
        }
        self.buffered = 0;
        self.buffered_bytes = 0;
        Ok(())
    }

    /// Writes what is buffered and the file's footer.
    fn finish(mut self, root: &Path) -> Result<WrittenFile, ParquetError> {
        self.flush_group(root)?;
        let path = root.join(&self.rel);
        let inner = self
            .writer
            .into_inner()
            .map_err(|source| ParquetError::Encode {
                path: path.clone(),
                source,
            })?;
        inner.into_inner().map_err(|e| ParquetError::Io {
            path,
            source: e.into_error(),
        })?;
        Ok(WrittenFile {
            path: self.rel,
            rows: self.rows,
        })
    }
}

/// A finished file of the dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Its path relative to the dataset directory.
    pub path: PathBuf,
    /// Its rows.
    pub rows: u64,
}

/// Takes the ECS JSON Lines of the `events` command and writes them as a
/// Parquet dataset under a directory; see the module documentation. Call
/// [`ParquetSink::finish`] at the end: dropped without it, the last files
/// have no footer.
pub struct ParquetSink {
    root: PathBuf,
    partitioning: Partitioning,
    max_rows_per_file: u64,
    row_group_rows: usize,
    schema: Arc<Type>,
    props: Arc<WriterProperties>,
    /// Open files by partition (`""` without partitioning).
    open: BTreeMap<String, OpenFile>,
    /// The next part number of each partition.
    next_part: BTreeMap<String, u32>,
    written: Vec<WrittenFile>,
    /// Bytes of a line not yet complete.
    pending: Vec<u8>,
    rows: u64,
    tick: u64,
}

impl ParquetSink {
    /// A sink writing under `root` (an existing, empty directory).
    pub fn new(
        root: &Path,
        partitioning: Partitioning,
        max_rows_per_file: u64,
    ) -> Result<ParquetSink, ParquetError> {
        let row_group_rows =
            ROW_GROUP_ROWS.min(usize::try_from(max_rows_per_file.max(1)).unwrap_or(ROW_GROUP_ROWS));
        let schema = schema().map_err(|source| ParquetError::Encode {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(ParquetSink {
            root: root.to_path_buf(),
            partitioning,
            max_rows_per_file: max_rows_per_file.max(1),
            row_group_rows,
            schema: Arc::new(schema),
            props: Arc::new(properties(row_group_rows)),
            open: BTreeMap::new(),
            next_part: BTreeMap::new(),
            written: Vec::new(),
            pending: Vec::new(),
            rows: 0,
            tick: 0,
        })
    }

    /// Rows taken so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Adds one ECS JSON document (one line, without its newline).
    pub fn push_line(&mut self, line: &[u8]) -> Result<(), ParquetError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        self.rows += 1;
        let doc: Value = serde_json::from_slice(line).map_err(|e| ParquetError::BadLine {
            row: self.rows,
            detail: e.to_string(),
        })?;
        let Value::Object(doc) = doc else {
            return Err(ParquetError::BadLine {
                row: self.rows,
                detail: "not an object".into(),
            });
        };
        let mut slots: Vec<Option<Value>> = vec![None; COLUMNS.len()];
        let mut extra = serde_json::Map::new();
        let mut name = String::with_capacity(64);
        flatten(&mut name, doc, &mut slots, &mut extra);
        if !extra.is_empty()
            && let Some(slot) = slots.get_mut(EXTRA_AT)
        {
            *slot = Some(Value::Object(extra));
        }
        let key = match self.partitioning {
            Partitioning::None => String::new(),
            Partitioning::Day => day_of(slots.first().and_then(Option::as_ref)),
        };
        // The stream is in time order: a row of a later day finishes the
        // files of the days before it (an earlier day seen again would
        // start a new part file).
        let earlier: Vec<String> = self
            .open
            .range(..key.clone())
            .map(|(k, _)| k.clone())
            .collect();
        for k in earlier {
            if let Some(f) = self.open.remove(&k) {
                self.written.push(f.finish(&self.root)?);
            }
        }
        let root = self.root.clone();
        let (group_rows, file_rows) = (self.row_group_rows, self.max_rows_per_file);
        let file = self.file_for(&key)?;
        for ((&(_, kind), buf), v) in COLUMNS.iter().zip(file.columns.iter_mut()).zip(&slots) {
            push_value(kind, v.as_ref(), buf);
        }
        file.buffered += 1;
        file.buffered_bytes += line.len();
        file.rows += 1;
        let (full_group, full_file) = (
            file.buffered >= group_rows || file.buffered_bytes >= ROW_GROUP_BYTES,
            file.rows >= file_rows,
        );
        if full_file {
            if let Some(f) = self.open.remove(&key) {
                self.written.push(f.finish(&root)?);
            }
        } else if full_group {
            file.flush_group(&root)?;
        }
        Ok(())
    }

    /// The open file of partition `key`, opening a new part file when
    /// there is none (finishing the least recently used past
    /// [`MAX_OPEN_FILES`]).
    fn file_for(&mut self, key: &str) -> Result<&mut OpenFile, ParquetError> {
        self.tick += 1;
        if !self.open.contains_key(key) {
            if self.open.len() >= MAX_OPEN_FILES
                && let Some(oldest) = self
                    .open
                    .iter()
                    .min_by_key(|(_, f)| f.last_used)
                    .map(|(k, _)| k.clone())
                && let Some(f) = self.open.remove(&oldest)
            {
                self.written.push(f.finish(&self.root)?);
            }
            let part = self.next_part.entry(key.to_string()).or_insert(0);
            let name = format!("part-{part:05}.parquet");
            *part += 1;
            let dir = if key.is_empty() {
                PathBuf::new()
            } else {
                PathBuf::from(format!("day={key}"))
            };
            let rel = dir.join(name);
            let full_dir = self.root.join(&dir);
            private_dir(&full_dir).map_err(|source| ParquetError::Io {
                path: full_dir.clone(),
                source,
            })?;
            let path = self.root.join(&rel);
            let f = private_file(&path).map_err(|source| ParquetError::Io {
                path: path.clone(),
                source,
            })?;
            let writer = SerializedFileWriter::new(
                std::io::BufWriter::with_capacity(1 << 20, f),
                self.schema.clone(),
                self.props.clone(),
            )
            .map_err(|source| ParquetError::Encode { path, source })?;
            self.open.insert(
                key.to_string(),
                OpenFile {
                    rel,
                    writer,
                    columns: COLUMNS.iter().map(|_| ColumnBuf::default()).collect(),
                    buffered: 0,
                    buffered_bytes: 0,
                    rows: 0,
                    last_used: 0,
                },
            );
        }
        let tick = self.tick;
        match self.open.get_mut(key) {
            Some(f) => {
                f.last_used = tick;
                Ok(f)
            }
            None => Err(ParquetError::BadLine {
                row: self.rows,
                detail: "partition vanished".into(),
            }),
        }
    }

    /// Writes every open file's rows and footer; returns the files in
    /// path order.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, ParquetError> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.push_line(&line)?;
        }
        let open = std::mem::take(&mut self.open);
        for (_, f) in open {
            self.written.push(f.finish(&self.root)?);
        }
        let mut files = self.written;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

impl Write for ParquetSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(nl);
            if self.pending.is_empty() {
                self.push_line(line).map_err(std::io::Error::other)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.push_line(&whole).map_err(std::io::Error::other)?;
            }
            rest = after.get(1..).unwrap_or(&[]);
        }
        self.pending.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Creates `dir` and its parents; new ones are private (0700), as the
/// events they hold come from evidence.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Creates (or truncates) the file `path`, private (0600) when new.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// The column of each dotted name.
fn column_index(name: &str) -> Option<usize> {
    static INDEX: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, usize>> =
        std::sync::OnceLock::new();
    INDEX
        .get_or_init(|| {
            COLUMNS
                .iter()
                .enumerate()
                .map(|(i, (n, _))| (*n, i))
                .collect()
        })
        .get(name)
        .copied()
}

/// Puts each member of `obj` (under the dotted prefix `name`) in its
/// column's slot, nested objects by their dotted names; arrays and scalars
/// are leaves, except `labels` (kept whole, as JSON text) and `dns.answers`
/// (an array of `{data}` objects, kept as `dns.answers.data`). A member no
/// column holds goes to `extra`.
fn flatten(
    name: &mut String,
    obj: serde_json::Map<String, Value>,
    slots: &mut [Option<Value>],
    extra: &mut serde_json::Map<String, Value>,
) {
    let base = name.len();
    for (k, v) in obj {
        name.truncate(base);
        if base > 0 {
            name.push('.');
        }
        name.push_str(&k);
        let v = match v {
            Value::Object(inner) if name != "labels" && column_index(name).is_none() => {
                flatten(name, inner, slots, extra);
                continue;
            }
            Value::Array(items) if name == "dns.answers" && items.iter().all(is_data_only) => {
                name.push_str(".data");
                Value::Array(
                    items
                        .into_iter()
                        .filter_map(|mut a| a.get_mut("data").map(Value::take))
                        .collect(),
                )
            }
            other => other,
        };
        match column_index(name).and_then(|i| slots.get_mut(i)) {
            Some(slot) if *name != *EXTRA => *slot = Some(v),
            _ => {
                extra.insert(name.clone(), v);
            }
        }
    }
    name.truncate(base);
}

/// True for `{"data": "..."}` (a DNS answer as the ECS writer gives it).
fn is_data_only(v: &Value) -> bool {
    v.as_object()
        .is_some_and(|o| o.len() == 1 && o.get("data").is_some_and(Value::is_string))
}

/// The partition of a row: the UTC day of its `@timestamp` as the JSON
/// text writes it (`YYYY-MM-DD`).
fn day_of(ts: Option<&Value>) -> String {
    let Some(text) = ts.and_then(Value::as_str) else {
        return NULL_DAY.into();
    };
    if crate::model::event::Timestamp::parse_rfc3339(text).is_none() {
        return NULL_DAY.into();
    }
    match text.get(..10) {
        Some(d) if d.bytes().all(|c| c.is_ascii_digit() || c == b'-') => d.to_string(),
        _ => NULL_DAY.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_builds_with_every_column() {
        let s = schema().unwrap();
        assert_eq!(s.get_fields().len(), COLUMNS.len());
        assert_eq!(COLUMNS[EXTRA_AT].0, EXTRA);
    }

    #[test]
    fn members_outside_the_schema_go_to_extra() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = ParquetSink::new(dir.path(), Partitioning::Day, 10).unwrap();
        sink.write_all(b"{\"@timestamp\":\"2020-01-02T03:04:05.000006Z\",\"foo\":{\"bar\":1}}\n{\"@timestamp\":\"bad\"}")
            .unwrap();
        let files = sink.finish().unwrap();
        let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "day=2020-01-02/part-00000.parquet",
                "day=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"
            ]
        );
        use parquet::file::reader::FileReader;
        let f = std::fs::File::open(dir.path().join(&files[0].path)).unwrap();
        let r = parquet::file::reader::SerializedFileReader::new(f).unwrap();
        let row = r.get_row_iter(None).unwrap().next().unwrap().unwrap();
        let text = row.to_string();
        assert!(
            text.contains("{\\\"foo.bar\\\":1}") || text.contains("foo.bar"),
            "{text}"
        );
    }
}
