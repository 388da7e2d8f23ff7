//! The baseline file: a versioned, checksummed, compact binary container
//! that carries a value (the baseline) from one nightly sweep to the next.
//!
//! It sits at the end of `baseline build` and at both ends of `sweep
//! --update`: profiles are built, saved here, and loaded again the next
//! night. The container is generic over any serde type; the payload is
//! postcard, optionally zstd-compressed.
//!
//! # Layout (all integers little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `LATBASE\0` |
//! | 8..12 | format version ([`FORMAT_VERSION`]) |
//! | 12..16 | flags: bit 0 set when the payload is zstd-compressed; bit 1 set when it is a partial baseline ([`Content::Partial`], `baseline build --partial`); bit 2 set when it is a summary of today's records ([`Content::Summary`], `summary build`); other bits zero |
//! | 16..24 | stored payload length (bytes after the header) |
//! | 24..32 | decoded payload length (postcard bytes, after decompression) |
//! | 32..36 | CRC-32 (IEEE) of the stored payload followed by bytes 0..32 |
//! | 36.. | the payload |
//!
//! The checksum is CRC-32 as computed by `crc32fast` (already in the build
//! through flate2, hardware-accelerated). The threat is accidental damage
//! (disk, copy, truncation), not forgery: anyone who can rewrite the file
//! can rewrite its checksum too. For that CRC-32 is the right tool: it
//! detects every single-bit and every odd-numbered bit error, every burst up
//! to 32 bits, and leaves random damage a 2^-32 chance. Covering the header
//! too means a flipped flag or length bit is also caught.
//!
//! # Atomic replacement
//!
//! [`save`] writes a temporary file in the target's directory, fsyncs it,
//! renames it over the target and fsyncs the directory. A reader, or a run
//! after a crash or a `kill -9` at any moment, sees the old file or the new
//! one, complete, never a mix. A new file is private (mode 0600); a
//! replaced one keeps its permissions. Temporary files left by a killed writer are
//! named `.NAME.tmp-PID-RANDOM`; the next [`save`] to the same path removes
//! those whose writer is gone, and [`load`] never looks at them.
//!
//! Loading reads the file and changes nothing on disk; each way a file can
//! be wrong is its own [`FileError`] variant naming the file.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The first eight bytes of every baseline file.
pub const MAGIC: [u8; 8] = crate::input::sniff::BASELINE_MAGIC;

/// The container and payload version this build writes and reads. Bumped
/// whenever the layout or the serialized baseline types change. Version 2
/// added the hours of the week of accounts' network logons and of
/// remote-admin edges to the profiles; version-1 files must be rebuilt.
/// Version 4 stores a host's hour-of-week counters sparsely (its non-zero
/// (hour, count) pairs) rather than as 168 numbers. Version 5 keeps per
/// account the SIDs its logons carried ([`crate::profile::UserInfo::sids`]).
pub const FORMAT_VERSION: u32 = 5;

/// Size of the fixed header before the payload.
pub const HEADER_LEN: usize = 36;

/// Flag bit: the payload is zstd-compressed.
const FLAG_ZSTD: u32 = 1;

/// Flag bit: the payload is a partial baseline, not a finished one.
const FLAG_PARTIAL: u32 = 2;

/// Flag bit: the payload is a summary of today's records (`summary build`).
const FLAG_SUMMARY: u32 = 4;

/// What a baseline file holds, told by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A finished baseline, read by `sweep`, `analyze --baseline` and `profile`.
    Baseline,
    /// The mergeable state of one shard (`baseline build --partial`), read
    /// only by `baseline merge`.
    Partial,
    /// The mergeable state of one shard of the records to judge (`summary
    /// build`), read by `summary merge` and `analyze --summary`.
    Summary,
}

impl std::fmt::Display for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Content::Baseline => "a finished baseline",
            Content::Partial => "a partial baseline",
            Content::Summary => "a summary of records to judge",
        })
    }
}

/// What to do with a file of another [`Content`] than `wanted`.
fn content_hint(found: Content, wanted: Content) -> &'static str {
    match (found, wanted) {
        (Content::Summary, _) => {
            "summaries (from `summary build` or `summary merge`) are read by `lateral summary merge` and `lateral analyze --summary`"
        }
        (_, Content::Summary) => {
            "only summaries (from `summary build` or `summary merge`) can be merged or judged with --summary; a baseline is given with --baseline"
        }
        (Content::Partial, _) => {
            "partial baselines (from `baseline build --partial`) are only read by `lateral baseline merge PARTS... -o B`, which finishes them"
        }
        (Content::Baseline, _) => {
            "only partial baselines (from `baseline build --partial` or `baseline merge --partial`) can be merged; rebuild this shard with --partial"
        }
    }
}

/// Largest decoded payload accepted, whatever a header claims (64 GiB):
/// bounds memory when a damaged or hostile file slips past the checksum.
const MAX_DECODED: u64 = 64 << 30;

/// Largest ratio of decoded to stored payload bytes accepted for a
/// compressed payload. Real baselines compress about 2:1 (postcard is
/// already compact); a header claiming far more is damaged or hostile (a
/// zstd bomb), and is refused before anything is decompressed.
const MAX_RATIO: u64 = 256;

/// Decoded bytes accepted whatever the ratio (small files).
const RATIO_FLOOR: u64 = 16 << 20;

/// Ways reading or writing a baseline file fails. Every variant names the
/// file; none of them is raised after anything on disk was changed, except
/// [`FileError::Write`], where only the temporary file was touched.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path is a directory or a device (`/dev/zero`), not a file.
    #[error("{path}: cannot read baseline: {kind}, not a regular file", path = path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file could not be opened or read.
    #[error("{path}: cannot read baseline: {error}", path = path.display())]
    Read {
        /// The baseline's path.
        path: PathBuf,
        /// The underlying error (in the message, so not also a `source`).
        error: io::Error,
    },
    /// The new baseline could not be written; the old one is untouched.
    #[error("{path}: cannot write baseline (the previous file, if any, is unchanged): {error}", path = path.display())]
    Write {
        /// The baseline's path.
        path: PathBuf,
        /// The underlying error (in the message, so not also a `source`).
        error: io::Error,
    },
    /// The file does not start with the baseline magic.
    #[error("{path}: not a lateral baseline (starts with {looks_like})", path = path.display())]
    NotABaseline {
        /// The file's path.
        path: PathBuf,
        /// A short description of its first bytes.
        looks_like: String,
    },
    /// The file is a baseline of a format version this build does not read.
    #[error("{path}: baseline format version {found}, this lateral reads version {supported}", path = path.display())]
    UnsupportedVersion {
        /// The file's path.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file ends before the header or the payload it announces.
    #[error("{path}: truncated baseline: {actual} bytes, the header announces {expected}", path = path.display())]
    Truncated {
        /// The file's path.
        path: PathBuf,
        /// Bytes the header announces (header plus payload; just the header when even that is cut).
        expected: u64,
        /// Bytes in the file.
        actual: u64,
    },
    /// The file is longer than its header announces.
    #[error("{path}: baseline length mismatch: the header announces {expected} bytes, the file has {actual}", path = path.display())]
    LengthMismatch {
        /// The file's path.
        path: PathBuf,
        /// Bytes the header announces.
        expected: u64,
        /// Bytes in the file.
        actual: u64,
    },
    /// The stored checksum does not match the bytes: the file is damaged.
    #[error("{path}: baseline checksum mismatch (stored {stored:08x}, computed {computed:08x}): the file is damaged", path = path.display())]
    ChecksumMismatch {
        /// The file's path.
        path: PathBuf,
        /// The checksum in the header.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// The file holds the other kind of baseline: a partial one where a
    /// finished one is wanted, or the reverse.
    #[error("{path}: {found}, not {wanted}: {hint}", path = path.display(), hint = content_hint(*found, *wanted))]
    WrongContent {
        /// The file's path.
        path: PathBuf,
        /// What the file holds.
        found: Content,
        /// What was asked for.
        wanted: Content,
    },
    /// The checksum matched but the payload is not a baseline this build decodes.
    #[error("{path}: baseline payload does not decode: {reason}", path = path.display())]
    Decode {
        /// The file's path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// How the payload is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain postcard bytes.
    None,
    /// zstd at the given level (1..=22).
    Zstd(i32),
}

impl Default for Compression {
    /// zstd level 3: most of the size gain for little time.
    fn default() -> Self {
        Compression::Zstd(3)
    }
}

/// Sizes of a file that was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Bytes of the whole file (header and stored payload).
    pub file_bytes: u64,
    /// Bytes of the postcard payload before compression.
    pub decoded_bytes: u64,
}

/// Writes `value` to `path` atomically, zstd-compressed at level 3.
pub fn save<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<Written, FileError> {
    save_with(path, value, Compression::default())
}

/// Writes `value` to `path` atomically with the given compression.
///
/// The old file at `path`, if any, stays in place and intact until the new
/// one is complete and on disk; then a rename swaps them.
pub fn save_with<T: Serialize + ?Sized>(
    path: &Path,
    value: &T,
    compression: Compression,
) -> Result<Written, FileError> {
    save_content(path, value, compression, Content::Baseline)
}

/// [`save_with`] for a file whose header says it holds `content`.
pub fn save_content<T: Serialize + ?Sized>(
    path: &Path,
    value: &T,
    compression: Compression,
    content: Content,
) -> Result<Written, FileError> {
    let werr = |error: io::Error| FileError::Write {
        path: path.to_path_buf(),
        error,
    };
    let dir = parent_dir(path);
    let tmp = temp_file_for(path).map_err(werr)?;
    let written = write_container(tmp.as_file(), value, compression, content).map_err(werr)?;
    // A replaced baseline keeps its permissions; a new one is private (0600).
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(werr)?;
    }
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(path).map_err(|e| werr(e.error))?;
    sync_dir(dir).map_err(werr)?;
    Ok(written)
}

/// A new temporary file in `path`'s directory, named
/// `.NAME.tmp-PID-RANDOM` and private (0600), to be renamed over `path` when
/// complete. Temporary files of earlier writes to `path` whose writer is
/// gone (a killed run) are removed first.
pub fn temp_file_for(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    let name = file_name(path)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    remove_stale_temps(dir, &name);
    tempfile::Builder::new()
        .prefix(&temp_prefix(&name))
        .rand_bytes(8)
        .tempfile_in(dir)
}

/// Reads the value stored at `path`, checking magic, version, lengths and
/// checksum before decoding. Changes nothing on disk.
///
/// Only a regular file is read, and only after its header was checked
/// against its size: a directory, a device (`/dev/zero`) or a file whose
/// header announces another length is refused without reading the payload.
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    load_content(path, Content::Baseline)
}

/// [`load`] of a file that must hold `want` (the header says what it
/// holds; the other kind is a [`FileError::WrongContent`]).
pub fn load_content<T: DeserializeOwned>(path: &Path, want: Content) -> Result<T, FileError> {
    let rerr = |error: io::Error| FileError::Read {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(rerr)?;
    if !meta.is_file() {
        return Err(FileError::NotAFile {
            path: path.to_path_buf(),
            kind: if meta.is_dir() {
                "a directory"
            } else {
                "a device, pipe or socket"
            },
        });
    }
    let size = meta.len();
    let mut file = File::open(path).map_err(rerr)?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    (&mut file)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(rerr)?;
    if header.len() < HEADER_LEN {
        // Too short even for a header: the checks say what it is.
        return decode_content(path, &header, want);
    }
    check_header(path, &header, size)?;
    let cap = usize::try_from(size).unwrap_or(0);
    let mut bytes = Vec::with_capacity(cap);
    bytes.extend_from_slice(&header);
    // Never more than the header announced (and the file held), even if the
    // file grows while it is read.
    file.take(size.saturating_sub(HEADER_LEN as u64))
        .read_to_end(&mut bytes)
        .map_err(rerr)?;
    decode_content(path, &bytes, want)
}

/// The checks of a header that need no payload: magic, version, and the
/// announced length against the file's `size`.
fn check_header(path: &Path, header: &[u8], size: u64) -> Result<(), FileError> {
    let p = || path.to_path_buf();
    let magic_seen = header.get(..MAGIC.len()).unwrap_or(header);
    if magic_seen != MAGIC.get(..magic_seen.len()).unwrap_or(&MAGIC) || header.is_empty() {
        return Err(FileError::NotABaseline {
            path: p(),
            looks_like: crate::input::sniff::describe(header),
        });
    }
    if header.len() < HEADER_LEN {
        return Err(FileError::Truncated {
            path: p(),
            expected: HEADER_LEN as u64,
            actual: size,
        });
    }
    let version = le_u32(header, 8);
    if version != FORMAT_VERSION {
        return Err(FileError::UnsupportedVersion {
            path: p(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let stored_len = le_u64(header, 16);
    let expected = stored_len.saturating_add(HEADER_LEN as u64);
    if size < expected {
        return Err(FileError::Truncated {
            path: p(),
            expected,
            actual: size,
        });
    }
    if size > expected {
        return Err(FileError::LengthMismatch {
            path: p(),
            expected,
            actual: size,
        });
    }
    Ok(())
}

/// The largest decoded length a payload of `stored_len` bytes stored with
/// `flags` may announce.
fn decoded_limit(flags: u32, stored_len: u64) -> u64 {
    if flags & FLAG_ZSTD != 0 {
        stored_len
            .saturating_mul(MAX_RATIO)
            .clamp(RATIO_FLOOR, MAX_DECODED)
    } else {
        stored_len.min(MAX_DECODED)
    }
}

/// Checks and decodes the bytes of a baseline file; `path` is only used in
/// errors.
pub fn decode<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, FileError> {
    decode_content(path, bytes, Content::Baseline)
}

/// [`decode`] of bytes that must hold `want`.
pub fn decode_content<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    want: Content,
) -> Result<T, FileError> {
    let p = || path.to_path_buf();
    let actual = bytes.len() as u64;
    check_header(path, bytes, actual)?;
    let Some(header) = bytes.get(..HEADER_LEN) else {
        return Err(FileError::Truncated {
            path: p(),
            expected: HEADER_LEN as u64,
            actual,
        });
    };
    let flags = le_u32(header, 12);
    let stored_len = le_u64(header, 16);
    let decoded_len = le_u64(header, 24);
    let stored_crc = le_u32(header, 32);
    let payload = bytes.get(HEADER_LEN..).unwrap_or(&[]);
    let mut crc = crc32fast::Hasher::new();
    crc.update(payload);
    crc.update(header.get(..32).unwrap_or(&[]));
    let computed = crc.finalize();
    if computed != stored_crc {
        return Err(FileError::ChecksumMismatch {
            path: p(),
            stored: stored_crc,
            computed,
        });
    }
    let derr = |reason: String| FileError::Decode { path: p(), reason };
    let limit = decoded_limit(flags, stored_len);
    if decoded_len > limit {
        return Err(derr(format!(
            "the header announces {decoded_len} decoded bytes from {stored_len} stored, more than the {limit} accepted"
        )));
    }
    if flags & !(FLAG_ZSTD | FLAG_PARTIAL | FLAG_SUMMARY) != 0
        || flags & (FLAG_PARTIAL | FLAG_SUMMARY) == FLAG_PARTIAL | FLAG_SUMMARY
    {
        return Err(derr(format!("unknown flags {flags:#x}")));
    }
    let found = if flags & FLAG_PARTIAL != 0 {
        Content::Partial
    } else if flags & FLAG_SUMMARY != 0 {
        Content::Summary
    } else {
        Content::Baseline
    };
    if found != want {
        return Err(FileError::WrongContent {
            path: p(),
            found,
            wanted: want,
        });
    }
    let inflated;
    let postcard_bytes: &[u8] = match flags & FLAG_ZSTD {
        0 => payload,
        _ => {
            inflated = inflate(payload, decoded_len).map_err(derr)?;
            &inflated
        }
    };
    if postcard_bytes.len() as u64 != decoded_len {
        return Err(derr(format!(
            "{} decoded bytes, the header announces {decoded_len}",
            postcard_bytes.len()
        )));
    }
    match postcard::take_from_bytes::<T>(postcard_bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(derr(format!(
            "{} bytes left over after the value",
            rest.len()
        ))),
        Err(e) => Err(derr(e.to_string())),
    }
}

/// Decompresses a zstd payload, refusing to grow past `limit` bytes
/// (already checked against the stored length by [`decoded_limit`]).
fn inflate(payload: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let dec = zstd::stream::read::Decoder::new(payload).map_err(|e| format!("zstd: {e}"))?;
    let cap = usize::try_from(limit.min(1 << 30)).unwrap_or(1 << 30);
    let mut out = Vec::with_capacity(cap);
    dec.take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("zstd: {e}"))?;
    Ok(out)
}

/// Writes header and payload into `file` from its start.
fn write_container<T: Serialize + ?Sized>(
    file: &File,
    value: &T,
    compression: Compression,
    content: Content,
) -> io::Result<Written> {
    let mut start: &File = file;
    start.write_all(&[0u8; HEADER_LEN])?;
    let mut sink = Checksummed {
        inner: BufWriter::with_capacity(1 << 20, file),
        crc: crc32fast::Hasher::new(),
        bytes: 0,
    };
    let (mut flags, decoded) = match compression {
        Compression::None => {
            let mut counted = Counted {
                inner: &mut sink,
                bytes: 0,
            };
            postcard::to_io(value, &mut counted).map_err(postcard_io)?;
            (0, counted.bytes)
        }
        Compression::Zstd(level) => {
            let enc = zstd::stream::write::Encoder::new(&mut sink, level)?;
            let mut counted = Counted {
                inner: enc,
                bytes: 0,
            };
            postcard::to_io(value, &mut counted).map_err(postcard_io)?;
            let decoded = counted.bytes;
            counted.inner.finish()?;
            (FLAG_ZSTD, decoded)
        }
    };
    match content {
        Content::Partial => flags |= FLAG_PARTIAL,
        Content::Summary => flags |= FLAG_SUMMARY,
        Content::Baseline => {}
    }
    let Checksummed {
        inner: mut buffered,
        mut crc,
        bytes: stored,
    } = sink;
    buffered.flush()?;
    drop(buffered);
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..16].copy_from_slice(&flags.to_le_bytes());
    header[16..24].copy_from_slice(&stored.to_le_bytes());
    header[24..32].copy_from_slice(&decoded.to_le_bytes());
    crc.update(&header[..32]);
    header[32..36].copy_from_slice(&crc.finalize().to_le_bytes());
    let mut file: &File = file;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    file.flush()?;
    Ok(Written {
        file_bytes: stored + HEADER_LEN as u64,
        decoded_bytes: decoded,
    })
}

fn postcard_io(e: postcard::Error) -> io::Error {
    io::Error::other(format!("serializing the baseline: {e}"))
}

/// A writer that checksums and counts what passes through it.
struct Checksummed<W: Write> {
    inner: W,
    crc: crc32fast::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or(buf);
        self.crc.update(done);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that counts what passes through it.
struct Counted<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// `.NAME.tmp-PID-`: the start of this process's temporary file names.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-{}-", std::process::id())
}

/// Removes temporary files of earlier writes to `name` in `dir` whose
/// writer is no longer running (a write that was killed). Best effort:
/// anything that cannot be checked or removed is left alone, and never
/// read.
fn remove_stale_temps(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let start = format!(".{name}.tmp-");
    for entry in entries.flatten() {
        let fname = entry.file_name();
        let Some(rest) = fname.to_str().and_then(|f| f.strip_prefix(&start)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if writer_is_gone(pid, &entry) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// True when the process that wrote a temporary file cannot still be
/// writing it: on Linux, no such process; elsewhere, the file is an hour old.
fn writer_is_gone(pid: u32, entry: &std::fs::DirEntry) -> bool {
    if pid == std::process::id() {
        // Our own leftovers: this process is not writing it now (saves
        // through one path are not concurrent within a run).
        return true;
    }
    let proc_dir = Path::new("/proc");
    if proc_dir.join("self").exists() {
        return !proc_dir.join(pid.to_string()).exists();
    }
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 3600)
}

/// Makes a rename in `dir` durable (Unix); a no-op where directories
/// cannot be opened for syncing.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Sample {
        name: String,
        counts: Vec<u64>,
        pairs: std::collections::BTreeMap<String, (u32, i64)>,
    }

    fn sample() -> Sample {
        Sample {
            name: "chamber".into(),
            counts: (0..40).map(|i| i * 7919).collect(),
            pairs: [("dc".to_string(), (88, -1)), ("fs".to_string(), (445, 7))]
                .into_iter()
                .collect(),
        }
    }

    fn write_sample(dir: &Path, compression: Compression) -> (PathBuf, Vec<u8>) {
        let path = dir.join("b.lat");
        save_with(&path, &sample(), compression).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        (path, bytes)
    }

    #[test]
    fn round_trips_both_compressions() {
        let dir = tempfile::tempdir().unwrap();
        for c in [
            Compression::None,
            Compression::Zstd(3),
            Compression::Zstd(19),
        ] {
            let path = dir.path().join("b.lat");
            let w = save_with(&path, &sample(), c).unwrap();
            assert_eq!(w.file_bytes, std::fs::metadata(&path).unwrap().len());
            assert_eq!(
                w.decoded_bytes,
                postcard::to_stdvec(&sample()).unwrap().len() as u64
            );
            let back: Sample = load(&path).unwrap();
            assert_eq!(back, sample());
        }
        // No temporary files are left behind by successful saves.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("b.lat")]);
    }

    #[test]
    fn header_is_as_documented() {
        let dir = tempfile::tempdir().unwrap();
        let (_, bytes) = write_sample(dir.path(), Compression::None);
        assert_eq!(&bytes[..8], b"LATBASE\0");
        assert_eq!(le_u32(&bytes, 8), FORMAT_VERSION);
        assert_eq!(le_u32(&bytes, 12), 0);
        assert_eq!(le_u64(&bytes, 16), (bytes.len() - HEADER_LEN) as u64);
        assert_eq!(le_u64(&bytes, 24), (bytes.len() - HEADER_LEN) as u64);
        assert_eq!(
            &bytes[HEADER_LEN..],
            postcard::to_stdvec(&sample()).unwrap()
        );
    }

    #[test]
    fn every_truncation_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        for c in [Compression::None, Compression::Zstd(3)] {
            let (path, bytes) = write_sample(dir.path(), c);
            for len in 0..bytes.len() {
                let err = decode::<Sample>(&path, &bytes[..len]).unwrap_err();
                match (len, &err) {
                    (0, FileError::NotABaseline { .. }) => {}
                    (1..=7, FileError::NotABaseline { .. }) => panic!("prefix of magic: {err}"),
                    (_, FileError::Truncated { actual, .. }) => assert_eq!(*actual, len as u64),
                    _ => panic!("length {len}: unexpected {err}"),
                }
            }
        }
    }

    #[test]
    fn every_bit_flip_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        for c in [Compression::None, Compression::Zstd(3)] {
            let (path, bytes) = write_sample(dir.path(), c);
            for i in 0..bytes.len() {
                for bit in 0..8 {
                    let mut b = bytes.clone();
                    b[i] ^= 1 << bit;
                    let err = decode::<Sample>(&path, &b).unwrap_err();
                    let ok = match i {
                        0..8 => matches!(err, FileError::NotABaseline { .. }),
                        8..12 => matches!(err, FileError::UnsupportedVersion { .. }),
                        16..24 => matches!(
                            err,
                            FileError::Truncated { .. } | FileError::LengthMismatch { .. }
                        ),
                        _ => matches!(err, FileError::ChecksumMismatch { .. }),
                    };
                    assert!(ok, "byte {i} bit {bit}: {err}");
                }
            }
        }
    }

    #[test]
    fn trailing_bytes_are_a_length_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut bytes) = write_sample(dir.path(), Compression::Zstd(3));
        bytes.push(0);
        let err = decode::<Sample>(&path, &bytes).unwrap_err();
        assert!(matches!(err, FileError::LengthMismatch { .. }), "{err}");
    }

    #[test]
    fn foreign_files_are_not_baselines() {
        let path = Path::new("notes.txt");
        for foreign in [
            &b"Jul 25 10:00:00 host sshd[1]: Accepted password"[..],
            &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0],
            b"LATBASF\0and more bytes than a header holds, certainly",
        ] {
            let err = decode::<Sample>(path, foreign).unwrap_err();
            assert!(matches!(err, FileError::NotABaseline { .. }), "{err}");
            assert!(
                err.to_string()
                    .starts_with("notes.txt: not a lateral baseline"),
                "{err}"
            );
        }
    }

    #[test]
    fn other_versions_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut bytes) = write_sample(dir.path(), Compression::None);
        assert_eq!(le_u32(&bytes, 8), 5);
        // A newer file, a version-1 file (profiles without hours), a
        // version-2 one (without peak hours and remote execution), a
        // version-3 one (hour-of-week counters not sparse) and a version-4
        // one (no account SIDs).
        for (v, want) in [
            (
                7u32,
                "baseline format version 7, this lateral reads version 5",
            ),
            (1, "baseline format version 1, this lateral reads version 5"),
            (2, "baseline format version 2, this lateral reads version 5"),
            (3, "baseline format version 3, this lateral reads version 5"),
            (4, "baseline format version 4, this lateral reads version 5"),
        ] {
            bytes[8..12].copy_from_slice(&v.to_le_bytes());
            let err = decode::<Sample>(&path, &bytes).unwrap_err();
            assert!(matches!(err, FileError::UnsupportedVersion { .. }), "{err}");
            assert!(err.to_string().ends_with(want), "{err}");
        }
    }

    #[test]
    fn a_payload_of_another_type_does_not_decode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.lat");
        save(&path, &vec![u64::MAX; 3]).unwrap();
        let err = load::<Sample>(&path).unwrap_err();
        assert!(matches!(err, FileError::Decode { .. }), "{err}");
        // And a value followed by more bytes is refused too.
        save(&path, &(7u8, 9u8)).unwrap();
        let err = load::<u8>(&path).unwrap_err();
        assert!(err.to_string().contains("left over"), "{err}");
    }

    #[test]
    fn partial_and_finished_files_are_told_apart_by_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("p.part");
        let done = dir.path().join("b.lat");
        save_content(&part, &sample(), Compression::default(), Content::Partial).unwrap();
        save(&done, &sample()).unwrap();
        let bytes = std::fs::read(&part).unwrap();
        assert_eq!(le_u32(&bytes, 12), FLAG_ZSTD | FLAG_PARTIAL);
        assert_eq!(
            load_content::<Sample>(&part, Content::Partial).unwrap(),
            sample()
        );
        let err = load::<Sample>(&part).unwrap_err();
        assert!(
            matches!(
                err,
                FileError::WrongContent {
                    found: Content::Partial,
                    wanted: Content::Baseline,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("baseline merge"), "{err}");
        let err = load_content::<Sample>(&done, Content::Partial).unwrap_err();
        assert!(
            err.to_string()
                .contains("b.lat: a finished baseline, not a partial baseline"),
            "{err}"
        );
        // Unknown flag bits stay refused (re-sealed so the checksum passes).
        let mut b = bytes.clone();
        b[12] |= 8;
        let mut crc = crc32fast::Hasher::new();
        crc.update(&b[HEADER_LEN..]);
        crc.update(&b[..32]);
        b[32..36].copy_from_slice(&crc.finalize().to_le_bytes());
        let err = decode_content::<Sample>(&part, &b, Content::Partial).unwrap_err();
        assert!(err.to_string().contains("unknown flags"), "{err}");
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = load::<Sample>(Path::new("/nonexistent/b.lat")).unwrap_err();
        assert!(matches!(err, FileError::Read { .. }), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.lat");
        save(&path, &sample()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        save(&path, &sample()).unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn stale_temporary_files_are_removed_on_next_save() {
        let dir = tempfile::tempdir().unwrap();
        // A pid that cannot be running (above Linux's pid_max limit).
        let stale = dir.path().join(".b.lat.tmp-4294967-abcdefgh");
        let other = dir.path().join(".c.lat.tmp-4294967-abcdefgh");
        std::fs::write(&stale, b"half a baseline").unwrap();
        std::fs::write(&other, b"someone else's").unwrap();
        save(&dir.path().join("b.lat"), &sample()).unwrap();
        if Path::new("/proc/self").exists() {
            assert!(!stale.exists());
        }
        assert!(other.exists());
    }

    #[test]
    fn zstd_payload_cannot_outgrow_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.lat");
        save(&path, &vec![0u8; 100_000]).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        // Claim fewer decoded bytes and re-seal the checksum: refused, not read.
        bytes[24..32].copy_from_slice(&10u64.to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&bytes[HEADER_LEN..]);
        crc.update(&bytes[..32]);
        bytes[32..36].copy_from_slice(&crc.finalize().to_le_bytes());
        let err = decode::<Vec<u8>>(&path, &bytes).unwrap_err();
        assert!(matches!(err, FileError::Decode { .. }), "{err}");
    }
}
