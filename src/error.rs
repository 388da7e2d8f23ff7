//! The library's error type. Per-record problems are not errors: they are
//! counted in [`crate::diag::Diagnostics`] and the run goes on.

use std::path::PathBuf;

/// Errors that stop one input (never the whole run).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input's path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A path that names a FIFO, socket or device: never opened (reading
    /// one could block forever or never end).
    #[error(
        "{path}: skipped: a {kind}, not a regular file (it is never opened; pipe data in with `-`)"
    )]
    Special {
        /// The path.
        path: PathBuf,
        /// What kind of file it is.
        kind: &'static str,
    },
    /// A directory nested too deep to be walked.
    #[error("{dir}: not read: it is nested more than {depth} directories deep")]
    TooDeep {
        /// The directory left out.
        dir: PathBuf,
        /// The depth limit.
        depth: usize,
    },
    /// A directory named as input that holds no file to read.
    #[error("no input files found under {dir}")]
    NoInputs {
        /// The directory.
        dir: PathBuf,
    },
    /// An input left out on purpose inside a directory walk (a symbolic
    /// link, documentation, a file already read): a note, not a failure.
    #[error("{path}: skipped: {why}")]
    Skipped {
        /// The path left out.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// An output could not be written.
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
    /// A file read whole (hosts, configuration, seen alerts, truth) is
    /// larger than lateral accepts for it.
    #[error("{path}: larger than the {limit_text} lateral reads for {what}", limit_text = mib(*.limit))]
    TooLarge {
        /// The file's path.
        path: PathBuf,
        /// What the file is for (e.g. "a hosts file").
        what: &'static str,
        /// The most bytes accepted.
        limit: u64,
    },
    /// A file that must be read whole is a directory or a device.
    #[error("{path}: {kind}, not a regular file (expected {what})")]
    NotAFile {
        /// The file's path.
        path: PathBuf,
        /// What the file is for (e.g. "a hosts file").
        what: &'static str,
        /// What it is instead ("a directory", "a device").
        kind: &'static str,
    },
}

/// `limit` as a size for people: whole MiB, or bytes below one MiB.
fn mib(limit: u64) -> String {
    if limit >= 1 << 20 {
        format!("{} MiB", limit >> 20)
    } else {
        format!("{limit} bytes")
    }
}

/// What a path is when it is not a regular file or a pipe, or `None` when
/// it is one of those.
pub fn not_a_file_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return None;
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Reads a file that is needed whole (a hosts file, a configuration, seen
/// alerts, a truth file), refusing directories and devices (`/dev/zero`)
/// and anything longer than `limit` bytes, so it never reads without
/// bound. A pipe (`<(...)`) is read up to the limit.
pub fn read_capped(
    path: &std::path::Path,
    limit: u64,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if let Some(kind) = not_a_file_kind(&meta) {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            what,
            kind,
        });
    }
    let too_large = || Error::TooLarge {
        path: path.to_path_buf(),
        what,
        limit,
    };
    if meta.is_file() && meta.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len().min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

impl Error {
    /// True for [`Error::Skipped`]: something worth telling, not a reason
    /// to call the run partial.
    pub fn is_note(&self) -> bool {
        matches!(self, Error::Skipped { .. })
    }
}
