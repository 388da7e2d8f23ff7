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

pub mod auditd;
pub mod auditd_join;
pub mod batch;
pub mod capture;
pub mod capture_flows;
pub mod decode;
pub mod dns;
pub mod evtx;
pub mod flow_table;
pub mod formats;
pub mod ip_reassembly;
pub mod lanl;
pub mod lanl_wls;
pub mod syslog;
pub mod text_lines;
pub mod winsec;
pub mod zeek_log;
pub mod zeek_map;
pub mod zeek_record;

pub use formats::LogFormat;

/// One log format `lateral` reads: everything the rest of the program needs
/// to know about it, so that a format is one file (its parser and one
/// implementation of this trait) plus one line in [`formats::REGISTRY`].
///
/// The registry gives the `--format` values and their help, sniffs inputs
/// by [`LogFormatSpec::sniff`] and [`LogFormatSpec::looks_like`], and the
/// collect stage reads every log input through [`LogFormatSpec::reader`].
pub trait LogFormatSpec: Sync + std::fmt::Debug {
    /// The format's `--format` value.
    fn flag(&self) -> &'static str;

    /// The name statistics and messages give the format (its `--format`
    /// value unless it says otherwise).
    fn name(&self) -> &'static str {
        self.flag()
    }

    /// One line of `--help` saying what the format is (no final period).
    fn help(&self) -> &'static str;

    /// How an input is recognised as this format.
    fn sniff(&self) -> Sniff;

    /// True when `head`, an input's first bytes (up to 64 KiB, after a
    /// byte order mark), is of this format. Formats recognised by a
    /// [`Sniff::Magic`] signature need not say more than the default.
    fn looks_like(&self, head: &[u8], _ctx: &Context) -> bool {
        match self.sniff() {
            Sniff::Magic { bytes, .. } => head.starts_with(bytes),
            Sniff::Text { .. } => false,
        }
    }

    /// How an input of this format is read, with the settings of `ctx`.
    fn reader(&self, ctx: &Context) -> Reader;

    /// A note about input `name` worth telling before it is read (one line
    /// naming it), such as the year assumed for timestamps without one.
    fn note(&self, _head: &[u8], _ctx: &Context, _name: &str) -> Option<String> {
        None
    }

    /// What an input of this format that holds no record at all holds,
    /// for the message saying nothing was read from it.
    fn when_empty(&self) -> &'static str {
        "no records in it (only headers, comments or blank lines)"
    }
}

/// How a log format is recognised from an input's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// By a signature its bytes start with. Such a format wins over
    /// `--format` (it cannot be anything else), and naming it with
    /// `--format` makes any input without the signature an error.
    Magic {
        /// The first bytes of every input of the format.
        bytes: &'static [u8],
        /// What an input of it is, for messages ("an EVTX file").
        what: &'static str,
    },
    /// By [`LogFormatSpec::looks_like`] on its first lines. Tests run in
    /// increasing `rank` (the most particular first, ties in registry
    /// order); the first that says yes decides.
    Text {
        /// Where the test comes in the order.
        rank: u8,
    },
}

/// How the collect stage reads an input of one format.
pub enum Reader {
    /// One record per line, parsed independently: the input is split at
    /// line boundaries, parsed in parallel and streamed (`text_lines`).
    Lines {
        /// The line parser.
        parser: Box<dyn LineFormat>,
        /// True when [`LineFormat::line_time`] tells every line's time, so
        /// that a quick pass (`text_lines::time_range`) can prove an input
        /// in time order and `lateral events` can stream it.
        timed: bool,
    },
    /// A reader of its own that reads the whole input at once (binary
    /// formats, or text whose lines depend on headers): its events come
    /// back together, its connection records go to the sink.
    Whole(ReadWhole),
}

/// A reader of a whole input: the input's bytes, its name, where
/// connection records go and the progress counter (bytes read). A closure,
/// so that it can carry the input's [`Context`] (auditd's `--timezone`).
pub type ReadWhole = Box<
    dyn Fn(
            &mut crate::input::ByteWindow,
            &std::sync::Arc<str>,
            &dyn FlowSink,
            &std::sync::atomic::AtomicU64,
        ) -> WholeRead
        + Send
        + Sync,
>;

/// What a [`Reader::Whole`] reader found in one input.
#[derive(Debug, Default)]
pub struct WholeRead {
    /// Events, in input order.
    pub events: Vec<LogEvent>,
    /// Records read (decoded or skipped).
    pub records: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Connection records pushed to the sink.
    pub flows: u64,
    /// Skipped records by reason, with samples.
    pub diag: crate::diag::Diagnostics,
    /// Offset where the input ends inside a record, if it does.
    pub truncated_at: Option<u64>,
    /// Why the input is broken or ended early, when it is.
    pub error: Option<String>,
}

/// The settings a log format is sniffed and read with, for one input.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The year `--year` gives RFC 3164 timestamps, if given.
    pub year: Option<i64>,
    /// The input's modification time, when known.
    pub modified: Option<std::time::SystemTime>,
    /// How RFC 3164 times of the input are placed (from `--year`,
    /// `--timezone` and the modification time).
    pub syslog: syslog::SyslogConfig,
    /// The instant LANL data sets' time 0 stands for.
    pub lanl_epoch: crate::model::event::Timestamp,
}

impl Context {
    /// The settings for one input: `--year`, the offset from UTC of the
    /// logs' local time in seconds, the LANL epoch and the input's
    /// modification time.
    pub fn new(
        year: Option<i64>,
        utc_offset: i64,
        lanl_epoch: crate::model::event::Timestamp,
        modified: Option<std::time::SystemTime>,
    ) -> Context {
        Context {
            year,
            modified,
            syslog: syslog::SyslogConfig::for_input(year, utc_offset, modified),
            lanl_epoch,
        }
    }
}
