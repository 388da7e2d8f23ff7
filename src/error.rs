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
    /// An output could not be written.
    #[error("writing output: {0}")]
    Output(#[source] std::io::Error),
}
