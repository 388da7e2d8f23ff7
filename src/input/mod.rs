//! Inputs: the first stage of the pipeline.
//!
//! Turns what the user named (files, directories, `-` for standard input)
//! into readable byte sources. Every input is read sequentially in large
//! chunks into one reused buffer (measured as fast as mmap on captures, with
//! a fraction of the resident memory); gzip and zstd inputs are recognised
//! by their magic bytes, never by the name, and decoded on the fly. Sources
//! downstream see one interface, [`ByteWindow`].

pub mod read_ahead;
pub mod sniff;

use crate::error::Error;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use sniff::{Format, sniff};

/// One input the user named, after directory expansion.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum InputPath {
    /// Standard input (`-`).
    Stdin,
    /// A file on disk.
    File(PathBuf),
}

impl InputPath {
    /// The name used in messages and in evidence (`-` for standard input).
    pub fn display_name(&self) -> Arc<str> {
        match self {
            InputPath::Stdin => Arc::from("-"),
            InputPath::File(p) => Arc::from(p.to_string_lossy().as_ref()),
        }
    }
}

/// Expands the command line's inputs: directories are walked recursively
/// (entries sorted by name so runs are repeatable), `-` is standard input.
///
/// Inside a walked directory every file is read once (files are told apart
/// by device and inode, so hard links and repeated names cost nothing),
/// symbolic links are not followed, documentation and metadata
/// ([`skip_reason`]) are left out, and FIFOs, sockets and devices are
/// never opened. A path named on the command line is followed if it is a
/// symbolic link. Paths that cannot be read are returned as errors beside
/// the good ones, so one bad path never stops a sweep; what was left out
/// on purpose comes back as [`Error::Skipped`] notes (see
/// [`Error::is_note`]).
pub fn expand(args: &[PathBuf]) -> (Vec<InputPath>, Vec<Error>) {
    let mut w = Walk::default();
    for a in args {
        if a.as_os_str() == "-" {
            w.out.push(InputPath::Stdin);
            continue;
        }
        w.named(a);
    }
    (w.out, w.errors)
}

/// Directory depth beyond which the walk stops (a warning names the
/// directory left out).
pub const MAX_DEPTH: usize = 64;

/// Identity of a file on disk: (device, inode), where the platform has them.
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<FileId> {
    None
}

/// What kind of special file `ft` is (neither a regular file nor a directory).
fn special_kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "named pipe (FIFO)";
        }
        if ft.is_socket() {
            return "socket";
        }
        if ft.is_block_device() {
            return "block device";
        }
        if ft.is_char_device() {
            return "character device";
        }
    }
    let _ = ft;
    "special file"
}

/// Why a file met inside a directory walk is not evidence, if it clearly
/// is not: a generated scenario's `truth.json`, YAML metadata (OTRF data
/// sets ship `metadata/*.yaml`), Markdown, and README/LICENSE-style text.
/// Files named on the command line are never left out this way.
pub fn skip_reason(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name == "truth.json" {
        return Some("a generated scenario's ground truth (what `lateral eval --truth` reads)");
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) => (stem, ext),
        None => (name.as_str(), ""),
    };
    if matches!(ext, "yaml" | "yml") {
        return Some("YAML metadata, not a capture or log");
    }
    if matches!(ext, "md" | "markdown" | "rst") {
        return Some("documentation, not a capture or log");
    }
    const DOCS: [&str; 8] = [
        "readme",
        "license",
        "licence",
        "copying",
        "changelog",
        "changes",
        "notice",
        "authors",
    ];
    if matches!(ext, "" | "txt") && DOCS.iter().any(|d| stem.starts_with(d)) {
        return Some("documentation, not a capture or log");
    }
    // A `LICENSES/` folder of licence texts (`LICENSES/Apache-2.0.txt`).
    let in_licenses = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d.eq_ignore_ascii_case("licenses") || d.eq_ignore_ascii_case("licences"));
    if in_licenses && matches!(ext, "" | "txt") {
        return Some("a licence text, not a capture or log");
    }
    None
}

/// The state of one expansion: what was found, and files already reached.
#[derive(Default)]
struct Walk {
    out: Vec<InputPath>,
    errors: Vec<Error>,
    /// Files and directories reached so far, with the path first used.
    seen: std::collections::HashMap<FileId, PathBuf>,
}

impl Walk {
    /// True the first time a file or directory is reached; otherwise a
    /// note says which path already covered it.
    fn first_visit(&mut self, path: &Path, meta: &std::fs::Metadata) -> bool {
        let what = if meta.is_dir() { "directory" } else { "file" };
        let Some(id) = file_id(meta) else {
            return true;
        };
        match self.seen.get(&id) {
            Some(first) => {
                self.errors.push(Error::Skipped {
                    path: path.to_path_buf(),
                    why: format!("the same {what} as {}, already read", first.display()),
                });
                false
            }
            None => {
                self.seen.insert(id, path.to_path_buf());
                true
            }
        }
    }

    /// A path named on the command line (followed if a symbolic link).
    fn named(&mut self, path: &Path) {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(source) => {
                self.errors.push(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
                return;
            }
        };
        if meta.is_dir() {
            let before = self.out.len();
            if self.dir(path, &meta, 0) && self.out.len() == before {
                self.errors.push(Error::NoInputs {
                    dir: path.to_path_buf(),
                });
            }
        } else if meta.is_file() {
            if self.first_visit(path, &meta) {
                self.out.push(InputPath::File(path.to_path_buf()));
            }
        } else {
            self.errors.push(Error::Special {
                path: path.to_path_buf(),
                kind: special_kind(meta.file_type()),
            });
        }
    }

    /// Walks a directory `depth` levels below the one named; false when
    /// it was not walked (walked already, or unreadable: both said).
    fn dir(&mut self, path: &Path, meta: &std::fs::Metadata, depth: usize) -> bool {
        if !self.first_visit(path, meta) {
            return false;
        }
        if depth >= MAX_DEPTH {
            self.errors.push(Error::TooDeep {
                dir: path.to_path_buf(),
                depth: MAX_DEPTH,
            });
            return true;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(e) => e,
            Err(source) => {
                self.errors.push(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
                return false;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            // Not followed: the entry itself is looked at.
            let meta = match std::fs::symlink_metadata(&child) {
                Ok(m) => m,
                Err(source) => {
                    self.errors.push(Error::Io {
                        path: child,
                        source,
                    });
                    continue;
                }
            };
            let ft = meta.file_type();
            if ft.is_symlink() {
                self.errors.push(Error::Skipped {
                    path: child,
                    why: "a symbolic link inside a directory is not followed \
                          (name it on the command line to read what it points to)"
                        .into(),
                });
            } else if ft.is_dir() {
                self.dir(&child, &meta, depth + 1);
            } else if ft.is_file() {
                if let Some(why) = skip_reason(&child) {
                    self.errors.push(Error::Skipped {
                        path: child,
                        why: why.into(),
                    });
                } else if self.first_visit(&child, &meta) {
                    self.out.push(InputPath::File(child));
                }
            } else {
                self.errors.push(Error::Special {
                    path: child,
                    kind: special_kind(ft),
                });
            }
        }
        true
    }
}

/// Compression wrapping an input, recognised from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (RFC 1952), possibly several members.
    Gzip,
    /// Zstandard frames.
    Zstd,
}

impl Compression {
    /// Recognises gzip (`1f 8b`) and zstd (`28 b5 2f fd`) magic bytes.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The largest single record a streamed input may hold in its buffer.
/// Anything claiming more is treated as a corrupt length.
pub const MAX_RECORD: usize = 64 << 20;

/// Buffer size for streamed inputs.
const STREAM_CHUNK: usize = 4 << 20;

/// An opened input, ready to be read as a window over its bytes.
pub struct OpenInput {
    /// Name for messages and evidence.
    pub name: Arc<str>,
    /// Compression found on the input.
    pub compression: Compression,
    /// Size on disk when known (compressed size for compressed inputs).
    pub size_on_disk: Option<u64>,
    /// Modification time of the file, when known (used to infer log years).
    pub modified: Option<std::time::SystemTime>,
    /// The bytes.
    pub window: ByteWindow,
}

/// Opens one input for sequential reading, decoding gzip or zstd if present.
pub fn open(path: &InputPath) -> Result<OpenInput, Error> {
    let name = path.display_name();
    match path {
        InputPath::Stdin => {
            let stdin: Box<dyn Read + Send> = Box::new(io::stdin());
            let (compression, reader) = wrap_stream(stdin, Path::new("-"))?;
            Ok(OpenInput {
                name,
                compression,
                size_on_disk: None,
                modified: None,
                window: ByteWindow::stream(read_ahead(reader)),
            })
        }
        InputPath::File(p) => {
            let io_err = |source| Error::Io {
                path: p.clone(),
                source,
            };
            // A FIFO, socket or device could block forever or never end:
            // such a path is refused before it is opened.
            let kind = std::fs::metadata(p).map_err(io_err)?.file_type();
            if !kind.is_file() {
                return Err(Error::Special {
                    path: p.clone(),
                    kind: special_kind(kind),
                });
            }
            let file = File::open(p).map_err(io_err)?;
            let meta = file.metadata().map_err(io_err)?;
            let modified = meta.modified().ok();
            // Large sequential reads into one reused buffer: as fast as mmap
            // here, with bounded memory and no unsafe code.
            let (compression, reader) = wrap_stream(Box::new(file), p)?;
            Ok(OpenInput {
                name,
                compression,
                size_on_disk: Some(meta.len()),
                modified,
                // A small file is read in a read or two: a thread would cost more.
                window: ByteWindow::stream(if meta.len() >= READ_AHEAD_FROM {
                    read_ahead(reader)
                } else {
                    reader
                }),
            })
        }
    }
}

/// Files this large or larger (on disk) are read ahead on a thread of
/// their own; standard input always is.
pub const READ_AHEAD_FROM: u64 = 4 << 20;

/// `reader`, read (and decoded) ahead on a thread of its own.
fn read_ahead(reader: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    match read_ahead::ReadAhead::start(reader) {
        Ok(r) => Box::new(r),
        Err(direct) => direct,
    }
}

/// Peeks at a stream's first bytes and wraps it in the right decoder.
/// Errors of a decoder name its format (`gzip: ...`, `zstd: ...`).
fn wrap_stream(
    inner: Box<dyn Read + Send>,
    path: &Path,
) -> Result<(Compression, Box<dyn Read + Send>), Error> {
    let mut br = io::BufReader::with_capacity(64 << 10, inner);
    let head = io::BufRead::fill_buf(&mut br).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let compression = Compression::detect(head);
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(br),
        Compression::Gzip => Box::new(GzMembers::new(br)),
        Compression::Zstd => {
            let d = zstd::stream::read::Decoder::with_buffer(br).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source: zstd_error(source),
            })?;
            Box::new(ZstdReader(d))
        }
    };
    Ok((compression, reader))
}

/// A zstd error, labelled as one (and explained when the frame's window is
/// larger than the decoder accepts).
fn zstd_error(e: io::Error) -> io::Error {
    let text = e.to_string();
    let hint = if text.contains("memory") || text.contains("indow") {
        " (the frame needs a window larger than 128 MiB, as `zstd --long` writes: \
         decompress it with `zstd -d --long=31` first)"
    } else {
        ""
    };
    io::Error::new(e.kind(), format!("zstd: {text}{hint}"))
}

/// A zstd decoder whose errors say they come from zstd.
struct ZstdReader<R: io::BufRead>(zstd::stream::read::Decoder<'static, R>);

impl<R: io::BufRead> Read for ZstdReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.0.read(out).map_err(zstd_error)
    }
}

/// A buffered reader that counts the bytes taken from it (the compressed
/// offset, for messages).
struct Counted<R> {
    inner: R,
    taken: u64,
}

impl<R: io::BufRead> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.taken += n as u64;
        Ok(n)
    }
}

impl<R: io::BufRead> io::BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.taken += amt as u64;
    }
}

/// gzip members one after another, as `gzip -d` reads them. Unlike a
/// plain multi-member decoder, bytes after the last member that do not
/// start another member are reported as trailing data at their
/// (compressed) offset, after everything before them was given out; every
/// error says it comes from gzip.
struct GzMembers<R: io::BufRead> {
    /// The member being decoded; `None` once the input has ended.
    member: Option<flate2::bufread::GzDecoder<Counted<R>>>,
}

impl<R: io::BufRead> GzMembers<R> {
    fn new(inner: R) -> Self {
        GzMembers {
            member: Some(flate2::bufread::GzDecoder::new(Counted { inner, taken: 0 })),
        }
    }
}

impl<R: io::BufRead> Read for GzMembers<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            match member.read(out) {
                Ok(0) => {}
                Ok(n) => return Ok(n),
                Err(e) => {
                    let at = member.get_ref().taken;
                    self.member = None;
                    return Err(io::Error::new(
                        e.kind(),
                        format!("gzip: {e} (near compressed byte {at})"),
                    ));
                }
            }
            // This member is done: another may follow.
            let Some(done) = self.member.take() else {
                return Ok(0);
            };
            let mut rest = done.into_inner();
            let at = rest.taken;
            let next = io::BufRead::fill_buf(&mut rest).map_err(|e| {
                io::Error::new(e.kind(), format!("gzip: reading after byte {at}: {e}"))
            })?;
            if next.is_empty() {
                return Ok(0);
            }
            if next.first() != Some(&0x1f) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "gzip: trailing data after the compressed stream at compressed byte {at}"
                    ),
                ));
            }
            self.member = Some(flate2::bufread::GzDecoder::new(rest));
        }
    }
}

/// Bytes of one input seen through a window that sources parse from.
///
/// For bytes already in memory the window is all of them. For a stream the
/// window holds what has been read and not yet consumed; a parser that needs
/// more calls [`ByteWindow::fill`]. Offsets are always counted
/// from the start of the (decompressed) input.
pub struct ByteWindow {
    backing: Backing,
    /// Start of the unconsumed bytes within the buffer.
    start: usize,
    /// Offset in the input of buffer position 0.
    base: u64,
    /// True once the stream has reported its end.
    eof: bool,
    /// A read error that ended the stream early, if any.
    error: Option<io::Error>,
}

enum Backing {
    Owned(Vec<u8>),
    Stream {
        reader: Box<dyn Read + Send>,
        /// Allocated once (and grown only for a record larger than it).
        buf: Vec<u8>,
        /// End of the valid bytes in `buf`.
        end: usize,
    },
}

impl ByteWindow {
    /// A window over bytes already in memory (tests, small inputs).
    pub fn owned(bytes: Vec<u8>) -> ByteWindow {
        ByteWindow {
            backing: Backing::Owned(bytes),
            start: 0,
            base: 0,
            eof: true,
            error: None,
        }
    }

    /// A window over a stream, read in chunks as the parser asks.
    pub fn stream(reader: Box<dyn Read + Send>) -> ByteWindow {
        ByteWindow {
            backing: Backing::Stream {
                reader,
                buf: Vec::new(),
                end: 0,
            },
            start: 0,
            base: 0,
            eof: false,
            error: None,
        }
    }

    fn buffer(&self) -> &[u8] {
        match &self.backing {
            Backing::Owned(v) => v,
            Backing::Stream { buf, end, .. } => buf.get(..*end).unwrap_or(&[]),
        }
    }

    /// The unconsumed bytes available now.
    pub fn bytes(&self) -> &[u8] {
        self.buffer().get(self.start..).unwrap_or(&[])
    }

    /// Offset in the input of the first unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Marks `n` bytes as consumed.
    pub fn consume(&mut self, n: usize) {
        let len = self.buffer().len();
        self.start = (self.start + n).min(len);
    }

    /// True when the whole input is in the window (nothing more will come).
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// A read error that ended a stream early, if one happened.
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Reads more bytes so that at least `want` unconsumed bytes are
    /// available, if the input has them. Returns false when no more bytes
    /// came (end of input or a read error, see [`ByteWindow::take_error`]).
    /// `want` is capped at [`MAX_RECORD`].
    pub fn fill(&mut self, want: usize) -> bool {
        if self.eof {
            return false;
        }
        let want = want.min(MAX_RECORD);
        let Backing::Stream { reader, buf, end } = &mut self.backing else {
            return false;
        };
        // Move the unconsumed tail to the front so memory stays bounded by
        // one record plus a chunk.
        if self.start > 0 {
            buf.copy_within(self.start..*end, 0);
            *end -= self.start;
            self.base += self.start as u64;
            self.start = 0;
        }
        let before = *end;
        let need = want.max(before + 1);
        if buf.len() < need.max(STREAM_CHUNK) {
            buf.resize(need.max(STREAM_CHUNK).next_power_of_two(), 0);
        }
        while *end < buf.len() {
            match reader.read(&mut buf[*end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => *end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e);
                    self.eof = true;
                    break;
                }
            }
            if *end >= want {
                break;
            }
        }
        *end > before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn stream_window_refills_and_tracks_offsets() {
        let data: Vec<u8> = (0..10_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = ByteWindow::stream(Box::new(io::Cursor::new(data.clone())));
        assert!(w.bytes().is_empty());
        assert!(w.fill(10));
        let first = w.bytes().len();
        assert!(first >= 10);
        w.consume(first - 5);
        assert_eq!(w.offset() as usize, first - 5);
        assert!(w.fill(first + 2_000_000));
        assert_eq!(w.bytes()[0], data[first - 5]);
        loop {
            let n = w.bytes().len();
            w.consume(n);
            if !w.fill(1) {
                break;
            }
        }
        assert_eq!(w.offset() as usize, data.len());
        assert!(w.at_eof());
    }

    #[test]
    fn gzip_and_zstd_are_recognised_and_decoded() {
        let payload = b"hello capture".repeat(1000);
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("a.bin");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&payload).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let zs = dir.path().join("b.bin");
        std::fs::write(&zs, zstd::encode_all(&payload[..], 3).unwrap()).unwrap();
        for (p, c) in [(gz, Compression::Gzip), (zs, Compression::Zstd)] {
            let mut inp = open(&InputPath::File(p)).unwrap();
            assert_eq!(inp.compression, c);
            let mut got = Vec::new();
            while inp.window.fill(1 << 16) || !inp.window.bytes().is_empty() {
                let b = inp.window.bytes().to_vec();
                inp.window.consume(b.len());
                got.extend(b);
                if inp.window.at_eof() && inp.window.bytes().is_empty() {
                    break;
                }
            }
            assert_eq!(got, payload);
        }
    }

    #[test]
    fn only_clear_non_data_files_are_left_out_of_walks() {
        for name in [
            "truth.json",
            "TRUTH.JSON",
            "host.yaml",
            "x.yml",
            "README",
            "README.md",
            "readme.txt",
            "LICENSE",
            "LICENSE.txt",
            "notes.md",
            "LICENSES/Apache-2.0.txt",
            "corpus/licenses/zeek.BSD-3-Clause.txt",
        ] {
            assert!(skip_reason(Path::new(name)).is_some(), "{name}");
        }
        for name in [
            "auth.txt",
            "redteam.txt",
            "flows.txt",
            "conn.log",
            "capture.pcap",
            "win.json",
            "security.evtx",
            "readme.pcap",
            "licenses/capture.pcap",
            "lanl/auth.txt",
        ] {
            assert!(skip_reason(Path::new(name)).is_none(), "{name}");
        }
    }

    #[test]
    fn gzip_junk_after_the_last_member_is_reported_after_the_data() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"hello").unwrap();
        let mut bytes = e.finish().unwrap();
        let at = bytes.len();
        bytes.extend(b"junk");
        let mut r = GzMembers::new(io::BufReader::new(io::Cursor::new(bytes)));
        let mut got = [0u8; 5];
        r.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
        let err = r.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("gzip: trailing data after the compressed stream at compressed byte {at}")
        );
    }

    #[test]
    fn directories_expand_sorted_and_missing_paths_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/z"), b"1").unwrap();
        std::fs::write(dir.path().join("b"), b"1").unwrap();
        std::fs::write(dir.path().join("a"), b"1").unwrap();
        let missing = dir.path().join("nope");
        let (paths, errs) = expand(&[dir.path().to_path_buf(), missing, PathBuf::from("-")]);
        let names: Vec<_> = paths.iter().map(|p| p.display_name().to_string()).collect();
        assert!(
            names[0].ends_with("/a") && names[1].ends_with("/b") && names[2].ends_with("sub/z")
        );
        assert_eq!(names[3], "-");
        assert_eq!(errs.len(), 1);
    }
}
