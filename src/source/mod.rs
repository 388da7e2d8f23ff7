//! Sources: bytes in, normalised events out.
//!
//! Captures become [`crate::event::Flow`]s through the capture reader, the
//! packet decoder and the flow table; logs become
//! [`crate::event::LogEvent`]s through one parser per format.

use crate::event::LogEvent;

/// Why one record of a text format was skipped (a short, static phrase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skip(pub &'static str);

/// A line-oriented log format: one record per line, parsed independently.
///
/// Independence is what lets a large file be split at line boundaries and
/// parsed in parallel. A line that is valid but carries nothing of interest
/// returns `Ok(())` and pushes nothing.
pub trait LineFormat: Sync {
    /// Parses one line (without its line ending) and pushes its events.
    fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip>;
}

pub mod capture;
pub mod capture_flows;
pub mod decode;
pub mod flow_table;
pub mod syslog;
pub mod winsec;
