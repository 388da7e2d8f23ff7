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
/// Paths that cannot be read are returned as errors beside the good ones, so
/// one bad path never stops a sweep.
pub fn expand(args: &[PathBuf]) -> (Vec<InputPath>, Vec<Error>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            out.push(InputPath::Stdin);
            continue;
        }
        walk(a, &mut out, &mut errors, 0);
    }
    (out, errors)
}

/// Directory depth beyond which the walk stops (symlink loops).
const MAX_DEPTH: usize = 64;

fn walk(path: &Path, out: &mut Vec<InputPath>, errors: &mut Vec<Error>, depth: usize) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(source) => {
            errors.push(Error::Io {
                path: path.to_path_buf(),
                source,
            });
            return;
        }
    };
    if meta.is_dir() {
        if depth >= MAX_DEPTH {
            return;
        }
        let entries = match std::fs::read_dir(path) {
            Ok(e) => e,
            Err(source) => {
                errors.push(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
                return;
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for c in children {
            walk(&c, out, errors, depth + 1);
        }
    } else {
        out.push(InputPath::File(path.to_path_buf()));
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
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(br)),
        Compression::Zstd => {
            let d = zstd::stream::read::Decoder::with_buffer(br).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            Box::new(d)
        }
    };
    Ok((compression, reader))
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
