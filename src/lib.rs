//! `lateral`: find attackers moving between machines in packet captures and server logs.
//!
//! The pipeline, one module per stage:
//! - [`input`]: files, directories and standard input, decompressed and sniffed;
//! - [`source`]: bytes in, normalised events out (captures to flows; logs to events);
//! - [`event`]: the normalised types every later stage consumes;
//! - [`report`]: writers for Zeek TSV and JSON Lines;
//! - [`diag`] and [`stats`]: what was skipped and why, and how fast it went;
//! - [`synth`]: writers of synthetic captures for tests and scenarios.

pub mod diag;
pub mod error;
pub mod event;
pub mod flow_store;
pub mod input;
pub mod pipeline;
pub mod report;
pub mod source;
pub mod stats;
pub mod synth;

pub use error::Error;
