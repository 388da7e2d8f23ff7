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
    /// The input's bytes are not a format `lateral` reads.
    #[error("{path}: not a capture or log lateral can read (starts with {looks_like})")]
    UnknownFormat {
        /// The input's path.
        path: PathBuf,
        /// A short description of the first bytes.
        looks_like: String,
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
}

impl Error {
    /// True for [`Error::Skipped`]: something worth telling, not a reason
    /// to call the run partial.
    pub fn is_note(&self) -> bool {
        matches!(self, Error::Skipped { .. })
    }
}
