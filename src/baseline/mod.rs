//! Baselines: what every host normally does, carried from one nightly sweep
//! to the next.
//!
//! [`mod@file`] is the on-disk container (versioned, checksummed, written
//! atomically).

pub mod file;
