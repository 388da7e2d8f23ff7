//! Sources: bytes in, normalised events out.
//!
//! Captures become [`crate::model::event::Flow`]s through the capture reader, the
//! packet decoder and the flow table; logs become
//! [`crate::model::event::LogEvent`]s through one parser per format (Windows EVTX
//! and JSON Lines exports share one mapping, [`winsec::map_event`]).

use crate::model::event::LogEvent;

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

    /// The time every event of `line` would carry, read cheaply without
    /// building events; lets a reader prove an input is in time order
    /// before streaming it (see `text_lines::time_range`). Formats whose
    /// events can carry several times per line answer `Unknown`.
    fn line_time(&self, _line: &[u8]) -> LineTime {
        LineTime::Unknown
    }

    /// Writes the event of `line` (line `line_no` of `file`) straight into
    /// `batch` as an ECS line, without building a [`LogEvent`], when the
    /// format can; `None` when it cannot (then the reader calls
    /// [`LineFormat::parse_line`]). The bytes written must equal those
    /// `parse_line` and [`crate::model::ecs::write_event`] give.
    fn write_line(
        &self,
        _line: &[u8],
        _file: &std::sync::Arc<str>,
        _line_no: u64,
        _batch: &mut crate::source::batch::EventBatch,
    ) -> Option<Result<(), Skip>> {
        None
    }
}

/// What [`LineFormat::line_time`] can say about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTime {
    /// Every event of the line has this time.
    At(crate::model::event::Timestamp),
    /// The line gives no event.
    NoEvent,
    /// The format cannot tell without parsing.
    Unknown,
}

/// Where sources push the connection records they make: the collect
/// stage's flow store in a run, a plain list in a test. Shared by every
/// worker thread of one run.
pub trait FlowSink: Sync {
    /// Takes every flow out of `flows`, leaving it empty for reuse.
    fn push(&self, flows: &mut Vec<crate::model::event::Flow>);
}

pub mod batch;
pub mod capture;
pub mod capture_flows;
pub mod decode;
pub mod dns;
pub mod evtx;
pub mod flow_table;
pub mod lanl;
pub mod lanl_wls;
pub mod syslog;
pub mod text_lines;
pub mod winsec;
pub mod zeek_log;
pub mod zeek_map;
pub mod zeek_record;

/// The log formats `lateral` reads, as sniffed from an input's first bytes
/// or named with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogFormat {
    /// Syslog text: RFC 3164, rsyslog high-precision, RFC 5424.
    Syslog,
    /// `journalctl -o json` export.
    Journal,
    /// Windows events as JSON Lines (Winlogbeat or flat shape).
    WindowsJsonl,
    /// Zeek TSV logs with `#fields` headers.
    ZeekTsv,
    /// Zeek JSON logs, one object per line.
    ZeekJson,
    /// A LANL cyber-security data set CSV file.
    Lanl(lanl::LanlKind),
    /// Windows EVTX (binary; recognised by its magic whether named or
    /// not, so naming it only makes other inputs an error).
    Evtx,
}

impl LogFormat {
    /// Short name used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Syslog => "syslog",
            LogFormat::Journal => "journal",
            LogFormat::WindowsJsonl => "winjson",
            LogFormat::ZeekTsv => "zeek",
            LogFormat::ZeekJson => "zeekjson",
            LogFormat::Lanl(k) => k.name(),
            LogFormat::Evtx => "evtx",
        }
    }

    /// Decides a text input's format from its first bytes.
    pub fn sniff(head: &[u8], cfg: &syslog::SyslogConfig) -> Option<LogFormat> {
        if syslog::looks_like_journal_json(head) {
            Some(LogFormat::Journal)
        } else if lanl_wls::looks_like_wls(head) {
            Some(LogFormat::Lanl(lanl::LanlKind::Wls))
        } else if winsec::looks_like_windows_jsonl(head) {
            Some(LogFormat::WindowsJsonl)
        } else if zeek_log::looks_like_zeek_tsv(head) {
            Some(LogFormat::ZeekTsv)
        } else if zeek_log::looks_like_zeek_json(head) {
            Some(LogFormat::ZeekJson)
        } else if let Some(k) = lanl::sniff_lanl(head) {
            Some(LogFormat::Lanl(k))
        } else if syslog::looks_like_syslog(head, cfg) {
            Some(LogFormat::Syslog)
        } else {
            None
        }
    }
}
