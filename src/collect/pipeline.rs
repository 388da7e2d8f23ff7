//! The capture side of a run, end to end: inputs are opened and sniffed,
//! read concurrently (rayon, one task per input; a large input also spreads
//! over worker threads), and their records are merged into one list sorted
//! by (ts, uid) so output never depends on thread count or input order.

use crate::collect::event_store::{EventStore, SortedEvents};
use crate::collect::flow_store::{FlowStore, SortedFlows};
use crate::diag::Diagnostics;
use crate::error::Error;
use crate::input::{self, InputPath};
use crate::model::event::{LogEvent, Timestamp};
use crate::source::batch::EventBatch;
use crate::source::capture::{CaptureCounts, CaptureEnd};
use crate::source::capture_flows::{CaptureOptions, capture_flows_tapped};
use crate::source::flow_table::FlowCounters;
use crate::source::formats::{self, Refusal};
use crate::source::text_lines::TextResult;
use crate::source::text_lines::{
    PieceFold, read_lines_folded, read_lines_formatted, read_lines_sized, time_range,
};
use crate::source::{Context, LineFormat, LogFormat, Reader};
use crate::stats::Histo;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

/// What happened to one input.
#[derive(Debug)]
pub struct InputReport {
    /// The input's name.
    pub name: Arc<str>,
    /// Format sniffed from its bytes (None when it could not be opened).
    pub format: Option<&'static str>,
    /// Records read (packets for captures, non-blank lines for logs).
    pub records: u64,
    /// Events produced from a log input.
    pub events: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Whether the input was compressed.
    pub compressed: bool,
    /// Reader counts.
    pub counts: CaptureCounts,
    /// Flows found.
    pub flows: u64,
    /// Frames that were not IP, by reason.
    pub non_ip: BTreeMap<String, u64>,
    /// Record-level problems.
    pub diag: Diagnostics,
    /// Flow-table counters.
    pub flow_counters: FlowCounters,
    /// IP fragment reassembly counters.
    pub frags: crate::source::ip_reassembly::FragCounters,
    /// How reading ended; `None` if never started.
    pub end: Option<CaptureEnd>,
    /// An error that stopped the input before reading (open failure, unknown format).
    pub error: Option<String>,
    /// Things worth telling that are not problems (one line each, naming
    /// the input): the year assumed for syslog lines without one, a
    /// ground-truth file left out.
    pub notes: Vec<String>,
    /// Seconds spent on this input.
    pub secs: f64,
    /// What the protocol analyzers counted (captures only).
    pub analyzers: Option<crate::analyzer::AnalyzerCounters>,
}

impl InputReport {
    /// True when the whole input was read and gave something: an input
    /// that yields no record at all, or whose every record was skipped,
    /// is not complete (see [`InputReport::nothing_read`]).
    pub fn is_complete(&self) -> bool {
        self.error.is_none()
            && self.end.as_ref().is_none_or(CaptureEnd::is_complete)
            && self.nothing_read().is_none()
    }

    /// Records skipped as unreadable: the diagnostics' count, and frames of
    /// a link type `lateral` cannot decode (not-IP frames such as ARP are
    /// records read, not rejected).
    fn rejected(&self) -> u64 {
        let link: u64 = self
            .non_ip
            .iter()
            .filter(|(k, _)| k.starts_with("unsupported link type"))
            .map(|(_, v)| *v)
            .sum();
        self.diag.total() + link
    }

    /// One line when a readable input gave nothing: every record was
    /// skipped (with the main reasons and where the first one is), or it
    /// held no record at all. `None` when it gave events or connection
    /// records, when it has records that were simply of no interest (a
    /// syslog file without logons), or when it was never read.
    pub fn nothing_read(&self) -> Option<String> {
        let format = self.format?;
        if format == "truth" || self.events + self.flows > 0 {
            return None;
        }
        let rejected = self.rejected();
        let name = &self.name;
        if rejected > 0 && rejected >= self.records {
            let mut reasons: Vec<(u64, String)> = self
                .diag
                .counts
                .iter()
                .map(|(k, v)| (*v, (*k).to_string()))
                .chain(
                    self.non_ip
                        .iter()
                        .filter(|(k, _)| k.starts_with("unsupported link type"))
                        .map(|(k, v)| (*v, k.clone())),
                )
                .collect();
            reasons.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            let listed: Vec<String> = reasons
                .iter()
                .take(3)
                .map(|(n, why)| format!("{n} {why}"))
                .collect();
            let first = self
                .diag
                .samples
                .values()
                .flatten()
                .min_by_key(|s| &s.origin)
                .map(|s| format!("; first at {}", s.origin))
                .unwrap_or_default();
            return Some(format!(
                "{name}: nothing read from this {format} input: all {rejected} record(s) were skipped ({}{}){first}",
                listed.join(", "),
                if reasons.len() > 3 { ", ..." } else { "" }
            ));
        }
        if self.records == 0 {
            let what = match LogFormat::by_name(format) {
                Some(log) => log.spec().when_empty(),
                None => "the capture holds no packets",
            };
            return Some(format!(
                "{name}: nothing read from this {format} input: {what}"
            ));
        }
        None
    }

    /// One line saying why the input is partial, if it is.
    pub fn problem(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.clone());
        }
        match self.end.as_ref() {
            None | Some(CaptureEnd::Complete) => self.nothing_read(),
            Some(CaptureEnd::Truncated { offset }) => Some(format!(
                "{}: truncated at byte {offset}: records before the cut were read",
                self.name
            )),
            Some(CaptureEnd::Corrupt { offset, reason }) => Some(format!(
                "{}: corrupt at byte {offset} ({reason}): stopped there, earlier records were read",
                self.name
            )),
            Some(CaptureEnd::ReadError { offset, error }) => Some(format!(
                "{}: read error at byte {offset} ({error}): earlier records were read",
                self.name
            )),
        }
    }
}

/// Everything a `flows` run produced.
#[derive(Debug, Default)]
pub struct FlowRun {
    /// All records, in output order (ts, uid, then every other field).
    pub flows: SortedFlows,
    /// Per-input reports, in input-name order.
    pub inputs: Vec<InputReport>,
    /// Paths that could not be expanded (missing files, unreadable directories).
    pub path_errors: Vec<String>,
    /// Paths left out on purpose while walking directories (symbolic
    /// links, documentation, files already read): notes, not problems.
    pub notes: Vec<String>,
    /// Distribution of frame lengths.
    pub packet_sizes: Histo,
    /// Wall-clock seconds for the whole run.
    pub secs: f64,
    /// Set when records could not be kept (a spill to disk failed).
    pub store_error: Option<String>,
    /// What the capture analyzers found (SMB, DCE-RPC, NTLM events), in
    /// time order, inputs in name order for equal times.
    pub app_events: Vec<LogEvent>,
    /// The application analyzers' records (Kerberos, HTTP, RDP, SSH, TLS,
    /// LDAP) for the Zeek logs, in time order, then uid; inputs in name
    /// order for equal keys.
    pub app_records: Vec<crate::analyzer::app::AppFinding>,
}

impl FlowRun {
    /// True when every input was read completely.
    pub fn is_clean(&self) -> bool {
        self.path_errors.is_empty() && self.inputs.iter().all(InputReport::is_complete)
    }
}

/// Options for a flows run.
#[derive(Debug, Clone, Copy)]
pub struct FlowRunOptions {
    /// Per-capture options.
    pub capture: CaptureOptions,
    /// Threads available in total.
    pub threads: usize,
    /// Records held in memory before sorted runs are spilled to disk.
    pub spill_at: usize,
    /// Failed attempts (a SYN flood's records) held in memory before they
    /// are spilled apart from the others
    /// ([`crate::collect::flow_store::FlowStore::with_attempts_at`]);
    /// `usize::MAX`, the default: with the others. Read by the streamed
    /// learning period's capture pass (`crate::profile::stream`).
    pub spill_attempts_at: usize,
    /// The protocol analyzers run on captures (on by default).
    pub analyzers: crate::analyzer::AnalyzerConfig,
}

impl Default for FlowRunOptions {
    /// One thread, Zeek's timeouts, the default flow cap and spill size.
    fn default() -> Self {
        FlowRunOptions {
            capture: CaptureOptions {
                flow: crate::source::flow_table::FlowConfig::default(),
                workers: 1,
            },
            analyzers: crate::analyzer::AnalyzerConfig::default(),
            threads: 1,
            spill_at: crate::collect::flow_store::DEFAULT_SPILL_AT,
            spill_attempts_at: usize::MAX,
        }
    }
}

/// Total size on disk of the inputs (for deciding whether to show progress).
pub fn total_size(paths: &[InputPath]) -> u64 {
    paths
        .iter()
        .map(|p| match p {
            InputPath::File(f) => std::fs::metadata(f).map(|m| m.len()).unwrap_or(0),
            InputPath::Stdin => 0,
        })
        .sum()
}

/// Reads every input and returns sorted connection records with reports.
/// `progress` is advanced by bytes read, for a progress bar.
pub fn run_flows(
    paths: &[InputPath],
    path_errors: Vec<Error>,
    opts: &FlowRunOptions,
    progress: &AtomicU64,
) -> FlowRun {
    let start = Instant::now();
    let n = paths.len().max(1);
    let per_file_workers = (opts.threads / n.min(opts.threads.max(1))).max(1);
    let mut capture = CaptureRun {
        capture: opts.capture,
        analyzers: opts.analyzers,
    };
    capture.capture.workers = per_file_workers;
    let store = FlowStore::new(opts.spill_at);
    let mut results: Vec<InputOutput> = paths
        .par_iter()
        .map(|p| read_one(p, &capture, progress, &store, None, &mut Dest::Keep))
        .collect();
    results.sort_by(|a, b| a.report.name.cmp(&b.report.name));
    let (path_errors, notes) = split_path_errors(path_errors);
    let mut run = FlowRun {
        path_errors,
        notes,
        ..FlowRun::default()
    };
    for r in results {
        run.packet_sizes.merge(&r.sizes);
        run.inputs.push(r.report);
        run.app_events.extend(r.events);
        run.app_records.extend(r.records);
    }
    // Stable: equal times keep input-name order, then each input's own.
    run.app_events.sort_by_key(|e| e.ts);
    run.app_records
        .sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.flow.uid.cmp(&b.flow.uid)));
    match store.finish() {
        Ok(sorted) => run.flows = sorted,
        Err(e) => {
            run.store_error = Some(format!("spilling records to a temporary file failed: {e}"))
        }
    }
    run.secs = start.elapsed().as_secs_f64();
    run
}

/// The expansion's problems as warnings, and its notes (what was left
/// out on purpose), each as one line.
fn split_path_errors(errors: Vec<Error>) -> (Vec<String>, Vec<String>) {
    let (notes, warnings): (Vec<Error>, Vec<Error>) = errors.into_iter().partition(Error::is_note);
    (
        warnings.iter().map(ToString::to_string).collect(),
        notes.iter().map(ToString::to_string).collect(),
    )
}

fn new_report(name: Arc<str>) -> InputReport {
    InputReport {
        name,
        format: None,
        records: 0,
        events: 0,
        bytes: 0,
        compressed: false,
        counts: CaptureCounts::default(),
        flows: 0,
        non_ip: BTreeMap::new(),
        diag: Diagnostics::default(),
        flow_counters: FlowCounters::default(),
        frags: Default::default(),
        end: None,
        error: None,
        notes: Vec::new(),
        secs: 0.0,
        analyzers: None,
    }
}

/// How log inputs are read (`events`); `None` in the per-input reader means
/// captures only (`flows`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// Read every log input with this format instead of sniffing.
    pub format: Option<LogFormat>,
    /// Year for RFC 3164 timestamps (default: from each file's mtime).
    pub year: Option<i64>,
    /// Offset from UTC, in seconds, of the logs' local time.
    pub utc_offset: i64,
    /// The instant LANL data sets' time 0 stands for (default: the Unix epoch).
    pub lanl_epoch: Timestamp,
}

impl LogOptions {
    /// The settings the log formats read an input with, for an input
    /// last modified at `modified` (RFC 3164 years default to it).
    pub fn context(&self, modified: Option<std::time::SystemTime>) -> Context {
        Context::new(self.year, self.utc_offset, self.lanl_epoch, modified)
    }
}

/// What one input yielded.
struct InputOutput {
    report: InputReport,
    sizes: Histo,
    events: Vec<LogEvent>,
    records: Vec<crate::analyzer::app::AppFinding>,
    /// The input was a capture.
    capture: bool,
}

/// Where the log events of one input go.
enum Dest<'a> {
    /// Kept in the input's output (`run_events`).
    Keep,
    /// Formatted on the workers and handed to a store, with the input's rank.
    Store(&'a EventStore, u32),
    /// Formatted and written straight out, in input order (an input proven
    /// to be in time order); the first write error is kept.
    Write(&'a mut dyn std::io::Write, &'a mut Option<std::io::Error>),
    /// Handed to a fold in pieces, on the workers; what it returns is kept
    /// in the input's output (captures' events are kept whole instead).
    Fold(&'a PieceFold<'a>),
}

impl Dest<'_> {
    /// Sends events that were read all at once (EVTX, Zeek, DNS answers).
    fn send(&mut self, events: Vec<LogEvent>, keep: &mut Vec<LogEvent>) {
        match self {
            Dest::Keep => *keep = events,
            Dest::Store(store, rank) => {
                let rank = *rank;
                let batches: Vec<EventBatch> = events
                    .par_chunks(4096)
                    .map(|c| EventBatch::format(c, rank))
                    .collect();
                for b in batches {
                    store.push(b);
                }
            }
            Dest::Fold(fold) => *keep = fold_pieces(fold, events),
            Dest::Write(sink, err) => {
                for c in events.chunks(4096) {
                    if err.is_some() {
                        return;
                    }
                    let b = EventBatch::format(c, 0);
                    match sink.write_all(b.bytes()) {
                        Ok(()) => b.recycle(),
                        Err(e) => **err = Some(e),
                    }
                }
            }
        }
    }
}

/// Reads one input, whichever it is: a capture, a log of a format of the
/// registry (when `logs` is given: `events`, `analyze`), a ground-truth
/// file (a note), or something the report says cannot be read.
/// How each capture is read: the flow options and the analyzers.
#[derive(Debug, Clone, Copy)]
struct CaptureRun {
    capture: CaptureOptions,
    analyzers: crate::analyzer::AnalyzerConfig,
}

fn read_one(
    path: &InputPath,
    opts: &CaptureRun,
    progress: &AtomicU64,
    store: &FlowStore,
    logs: Option<&LogOptions>,
    dest: &mut Dest<'_>,
) -> InputOutput {
    let start = Instant::now();
    let name = path.display_name();
    let mut out = InputOutput {
        report: new_report(name.clone()),
        sizes: Histo::new(),
        events: Vec::new(),
        records: Vec::new(),
        capture: false,
    };
    let mut opened = match input::open(path) {
        Ok(o) => o,
        Err(e) => {
            out.report.error = Some(e.to_string());
            return out;
        }
    };
    out.report.compressed = opened.compression != input::Compression::None;
    strip_bom(&mut opened);
    let head = head_of(&mut opened);
    let capture = input::sniff(&head);
    let read = if capture.is_capture() {
        out.capture = true;
        // A fold keeps a capture's events whole: its records are read once.
        let mut whole = Dest::Keep;
        let dest = match dest {
            Dest::Fold(_) => &mut whole,
            other => other,
        };
        let dns = logs.is_some().then_some(&mut *dest);
        read_capture(&mut out, opened, capture, opts, progress, store, dns);
        true
    } else if crate::input::sniff::looks_like_truth(&head) {
        // A generated scenario's ground truth sits beside its capture and
        // logs: it is what `lateral eval` reads, not evidence. Say so and
        // move on without calling the run partial.
        out.report.format = Some("truth");
        out.report.notes.push(format!(
            "{name}: skipped: a generated scenario's ground truth (what `lateral eval --truth` reads)"
        ));
        true
    } else if let Some(log_opts) = logs {
        read_log(&mut out, opened, &head, log_opts, progress, store, dest)
    } else {
        out.report.error = Some(unreadable(&mut opened, &name, &head, "a capture"));
        false
    };
    if read {
        out.report.secs = start.elapsed().as_secs_f64();
    }
    out
}

/// Reads a capture into the flow store; its DNS answers go to `dns` when
/// given (see `source::dns`).
fn read_capture(
    out: &mut InputOutput,
    opened: input::OpenInput,
    format: input::Format,
    opts: &CaptureRun,
    progress: &AtomicU64,
    store: &FlowStore,
    dns: Option<&mut Dest<'_>>,
) {
    let report = &mut out.report;
    report.format = Some(format.name());
    let mut analyzers = crate::analyzer::Analyzers::new(opts.analyzers, opened.name.clone());
    let res = capture_flows_tapped(
        opened,
        format,
        &opts.capture,
        progress,
        store,
        &mut analyzers,
    );
    let crate::analyzer::AnalyzerOutput {
        events: app_events,
        records,
        counters,
    } = analyzers.finish();
    report.analyzers = Some(counters);
    report.bytes = res.counts.captured_bytes;
    report.records = res.counts.packets;
    report.counts = res.counts;
    report.flows = res.flows;
    report.non_ip = res.non_ip;
    report.diag = res.diag;
    report.flow_counters = res.flow_counters;
    report.frags = res.frags;
    report.end = res.end;
    out.sizes = res.packet_sizes;
    if let Some(dest) = dns {
        let mut events = res.dns;
        events.extend(app_events);
        report.events = events.len() as u64;
        dest.send(events, &mut out.events);
    } else {
        // A flows run keeps the analyzers' events and records for the Zeek
        // logs beside conn.log.
        out.events = app_events;
        out.records = records;
    }
}

/// Why an input that is neither `what` nor anything else lateral reads
/// was not read: a read error, else what its first bytes are.
fn unreadable(opened: &mut input::OpenInput, name: &str, head: &[u8], what: &str) -> String {
    if let Some(e) = opened.window.take_error() {
        format!("{name}: {e}")
    } else if input::sniff::is_baseline(head) {
        format!("{name}: not {what}: it is {}", input::sniff::describe(head))
    } else {
        format!(
            "{name}: not {what} lateral can read (starts with {})",
            input::sniff::describe(head)
        )
    }
}

/// Reads a log input with the format the registry chooses for it
/// ([`formats::choose`]) through that format's reader; false when no
/// format could be chosen (the report says why).
fn read_log(
    out: &mut InputOutput,
    mut opened: input::OpenInput,
    head: &[u8],
    log_opts: &LogOptions,
    progress: &AtomicU64,
    store: &FlowStore,
    dest: &mut Dest<'_>,
) -> bool {
    let name = out.report.name.clone();
    let ctx = log_opts.context(opened.modified);
    let format = match formats::choose(head, log_opts.format, &ctx) {
        Ok(f) => f.spec(),
        Err(Refusal::NotAsNamed { what, flag }) => {
            out.report.error = Some(match opened.window.take_error() {
                Some(e) => format!("{name}: {e}"),
                None => format!(
                    "{name}: not {what}, as --format {flag} says (starts with {})",
                    input::sniff::describe(head)
                ),
            });
            return false;
        }
        Err(Refusal::Unknown) => {
            out.report.error = Some(unreadable(&mut opened, &name, head, "a capture or log"));
            return false;
        }
    };
    let report = &mut out.report;
    report.format = Some(format.name());
    if let Some(note) = format.note(head, &ctx, &name) {
        report.notes.push(note);
    }
    match format.reader(&ctx) {
        Reader::Whole(read) => {
            let res = read(&mut opened.window, &name, store, progress);
            report.bytes = res.bytes;
            report.records = res.records;
            report.events = res.events.len() as u64;
            report.flows = res.flows;
            report.diag = res.diag;
            report.end = res
                .truncated_at
                .map(|offset| CaptureEnd::Truncated { offset });
            report.error = res.error.map(|e| format!("{name}: {e}"));
            dest.send(res.events, &mut out.events);
        }
        Reader::Lines { parser, .. } => {
            let res = read_lines_to(
                &mut opened,
                &name,
                parser.as_ref(),
                progress,
                dest,
                &mut out.events,
            );
            finish_text(report, res, &name);
        }
    }
    true
}

/// Reads a line format's input into `dest`: kept in `keep`, formatted
/// into the store, or written out.
fn read_lines_to(
    opened: &mut input::OpenInput,
    name: &Arc<str>,
    parser: &dyn LineFormat,
    progress: &AtomicU64,
    dest: &mut Dest<'_>,
    keep: &mut Vec<LogEvent>,
) -> TextResult {
    match dest {
        Dest::Keep => {
            // The size on disk tells how many events to make room for,
            // unless the input is compressed.
            let size = opened
                .size_on_disk
                .filter(|_| opened.compression == input::Compression::None);
            let mut res = read_lines_sized(&mut opened.window, name, parser, progress, size);
            *keep = std::mem::take(&mut res.events);
            res
        }
        Dest::Fold(fold) => {
            let mut res = read_lines_folded(&mut opened.window, name, parser, progress, *fold);
            *keep = std::mem::take(&mut res.events);
            res
        }
        Dest::Store(events, rank) => read_lines_formatted(
            &mut opened.window,
            name,
            parser,
            progress,
            *rank,
            &mut |b| {
                events.push(b);
                true
            },
        ),
        Dest::Write(sink, err) => read_lines_formatted(
            &mut opened.window,
            name,
            parser,
            progress,
            0,
            &mut |b| match sink.write_all(b.bytes()) {
                Ok(()) => {
                    b.recycle();
                    true
                }
                Err(e) => {
                    **err = Some(e);
                    false
                }
            },
        ),
    }
}

/// Copies a text reader's result into the input's report.
fn finish_text(report: &mut InputReport, res: TextResult, name: &str) {
    report.bytes = res.bytes;
    report.records = res.records;
    report.events = res.produced;
    report.diag = res.diag;
    report.error = res.error.map(|e| format!("{name}: {e}"));
}

/// Drops a UTF-8 byte order mark at the start of an input (Windows tools
/// write one before JSON and text exports); offsets still count from the
/// input's first byte.
fn strip_bom(opened: &mut input::OpenInput) {
    opened.window.fill(3);
    if opened.window.bytes().starts_with(&[0xef, 0xbb, 0xbf]) {
        opened.window.consume(3);
    }
}

/// A copy of an opened input's first 64 KiB, for sniffing its format (a
/// copy, so the window stays free for the reader).
fn head_of(opened: &mut input::OpenInput) -> Vec<u8> {
    opened.window.fill(64 << 10);
    let bytes = opened.window.bytes();
    bytes.get(..64 << 10).unwrap_or(bytes).to_vec()
}

/// Everything an `events` run produced.
#[derive(Debug, Default)]
pub struct EventRun {
    /// Log events, sorted by time, then origin.
    pub events: Vec<LogEvent>,
    /// Connection records from captures among the inputs.
    pub flows: SortedFlows,
    /// Per-input reports, in input-name order.
    pub inputs: Vec<InputReport>,
    /// Paths that could not be expanded.
    pub path_errors: Vec<String>,
    /// Paths left out on purpose while walking directories: notes.
    pub notes: Vec<String>,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Set when flow records could not be kept.
    pub store_error: Option<String>,
    /// Log events written by [`stream_events`] (which keeps none in `events`).
    pub written: u64,
    /// Log events folded into profiles as they were read, and not kept in
    /// `events` (a streamed learning period).
    pub folded: u64,
}

impl EventRun {
    /// True when every input was read completely.
    pub fn is_clean(&self) -> bool {
        self.path_errors.is_empty() && self.inputs.iter().all(InputReport::is_complete)
    }
}

/// Reads captures and logs together into normalised events.
pub fn run_events(
    paths: &[InputPath],
    path_errors: Vec<Error>,
    opts: &FlowRunOptions,
    logs: &LogOptions,
    progress: &AtomicU64,
) -> EventRun {
    let start = Instant::now();
    let mut capture = CaptureRun {
        capture: opts.capture,
        analyzers: opts.analyzers,
    };
    capture.capture.workers = 1;
    let store = FlowStore::new(opts.spill_at);
    let mut results: Vec<InputOutput> = paths
        .par_iter()
        .map(|p| read_one(p, &capture, progress, &store, Some(logs), &mut Dest::Keep))
        .collect();
    results.sort_by(|a, b| a.report.name.cmp(&b.report.name));
    assemble_run(
        results.into_iter().map(|r| (r.events, r.report)),
        path_errors,
        store,
        start,
    )
}

/// One run from the inputs' events and reports (in name order): the
/// events joined and sorted, the reports kept, the records of `store`.
fn assemble_run(
    parts: impl Iterator<Item = (Vec<LogEvent>, InputReport)>,
    path_errors: Vec<Error>,
    store: FlowStore,
    started: Instant,
) -> EventRun {
    let (path_errors, notes) = split_path_errors(path_errors);
    let mut run = EventRun {
        path_errors,
        notes,
        ..EventRun::default()
    };
    for (mut events, report) in parts {
        // Moved, not copied: events are large and there can be millions.
        if run.events.is_empty() {
            run.events = events;
        } else {
            run.events.append(&mut events);
        }
        run.inputs.push(report);
    }
    sort_events(&mut run.events);
    match store.finish() {
        Ok(sorted) => run.flows = sorted,
        Err(e) => {
            run.store_error = Some(format!("spilling records to a temporary file failed: {e}"))
        }
    }
    run.secs = started.elapsed().as_secs_f64();
    run
}

/// Hands `events` to `fold` in pieces of 4096, in parallel, and returns
/// what it kept, in the events' order.
pub fn fold_pieces(fold: &PieceFold<'_>, events: Vec<LogEvent>) -> Vec<LogEvent> {
    let mut pieces: Vec<Vec<LogEvent>> = Vec::new();
    let mut rest = events.into_iter();
    loop {
        let piece: Vec<LogEvent> = rest.by_ref().take(4096).collect();
        if piece.is_empty() {
            break;
        }
        pieces.push(piece);
    }
    let kept: Vec<Vec<LogEvent>> = pieces.into_par_iter().map(fold).collect();
    kept.into_iter().flatten().collect()
}

/// One input of a [`fold_inputs`] pass.
#[derive(Debug)]
pub struct FoldedInput {
    /// Its place among the paths given.
    pub index: usize,
    /// What happened to it.
    pub report: InputReport,
    /// The events the fold kept, in input order; a capture's events are
    /// all kept, unfolded.
    pub events: Vec<LogEvent>,
    /// It was a capture: its records went to the flow store.
    pub capture: bool,
}

/// Reads the inputs `read` (indices into `paths`) concurrently, handing
/// every log event to `fold` in pieces on the workers that parsed them;
/// captures are read into `store` and keep their events whole. Nothing
/// else is held, so a log input can be read again by another pass.
pub fn fold_inputs(
    paths: &[InputPath],
    read: &[usize],
    opts: &FlowRunOptions,
    logs: &LogOptions,
    progress: &AtomicU64,
    store: &FlowStore,
    fold: &PieceFold<'_>,
) -> Vec<FoldedInput> {
    let capture = CaptureRun {
        capture: CaptureOptions {
            workers: 1,
            ..opts.capture
        },
        analyzers: opts.analyzers,
    };
    read.par_iter()
        .filter_map(|&i| Some((i, paths.get(i)?)))
        .map(|(index, p)| {
            let out = read_one(
                p,
                &capture,
                progress,
                store,
                Some(logs),
                &mut Dest::Fold(fold),
            );
            FoldedInput {
                index,
                report: out.report,
                events: out.events,
                capture: out.capture,
            }
        })
        .collect()
}

/// The [`EventRun`] of inputs read by [`fold_inputs`]: their reports in
/// name order, the events they kept joined in that order and sorted as
/// [`run_events`] sorts them, and the records of `store`.
pub fn folded_run(
    mut inputs: Vec<FoldedInput>,
    path_errors: Vec<Error>,
    store: FlowStore,
    started: Instant,
) -> EventRun {
    inputs.sort_by(|a, b| a.report.name.cmp(&b.report.name));
    assemble_run(
        inputs.into_iter().map(|r| (r.events, r.report)),
        path_errors,
        store,
        started,
    )
}

/// The order of log events in output: time, then where they were read, then action.
fn event_order(a: &LogEvent, b: &LogEvent) -> std::cmp::Ordering {
    a.ts.cmp(&b.ts)
        .then_with(|| match (&a.origin, &b.origin) {
            // Events of one input share its name: skip comparing the text.
            (Some(x), Some(y)) if Arc::ptr_eq(&x.file, &y.file) => x.at.cmp(&y.at),
            (x, y) => x.cmp(y),
        })
        .then_with(|| a.action.cmp(&b.action))
}

/// Sorts events stably by [`event_order`]. Logs are mostly in time order
/// already, so that is checked first; otherwise indices are sorted and each
/// event is moved once (events are large: sorting them directly moves each
/// one many times).
fn sort_events(events: &mut [LogEvent]) {
    if events
        .par_windows(2)
        .all(|w| matches!(w, [a, b] if event_order(a, b).is_le()))
    {
        return;
    }
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.par_sort_by(|&a, &b| match (events.get(a), events.get(b)) {
        (Some(x), Some(y)) => event_order(x, y),
        _ => a.cmp(&b),
    });
    // Apply the permutation cycle by cycle: slot k receives event order[k].
    for start in 0..order.len() {
        if order.get(start) == Some(&start) {
            continue;
        }
        let held = std::mem::take(&mut events[start]);
        let mut k = start;
        loop {
            let src = order[k];
            order[k] = k;
            if src == start {
                events[k] = held;
                break;
            }
            events[k] = std::mem::take(&mut events[src]);
            k = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::event::{Origin, Position};

    #[test]
    fn sorting_by_permutation_equals_a_stable_sort() {
        let file: Arc<str> = Arc::from("f");
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut events: Vec<LogEvent> = (0..5000u64)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                LogEvent {
                    ts: Timestamp((x % 50) as i64),
                    action: [Action::LoggedIn, Action::AuthMap][(x % 2) as usize],
                    origin: (!x.is_multiple_of(3)).then(|| Origin {
                        file: file.clone(),
                        at: Position::Line(x % 7),
                    }),
                    user_name: Some(i.to_string().into()),
                    ..LogEvent::default()
                }
            })
            .collect();
        let mut want = events.clone();
        want.sort_by(event_order);
        sort_events(&mut events);
        assert_eq!(events, want);
        // Already sorted input stays as it is.
        sort_events(&mut events);
        assert_eq!(events, want);
    }
}

/// How [`stream_events`] put its output in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputOrder {
    /// Every input was proven in time order first (syslog and LANL lines,
    /// uncompressed files whose time ranges follow one another), so events
    /// were written as they were read, in bounded memory.
    #[default]
    Streamed,
    /// Events were formatted and sorted; `spilled_runs` sorted runs went
    /// to temporary files (0: everything fit in memory).
    Sorted {
        /// Runs written to disk.
        spilled_runs: usize,
    },
}

/// Reads captures and logs together and writes every log event and
/// connection record to `sink` as ECS JSON Lines in time order, without
/// holding the events: the `events` command. The returned run has no
/// `events` (they were written); its reports count them.
///
/// When every input can be proven in time order by a quick pass over its
/// lines' times, the inputs are read one after another and written as they
/// are parsed. Otherwise events are formatted on the workers that parsed
/// them into an [`EventStore`] (which spills sorted runs to disk past
/// `budget` bytes) and merged with the connection records at the end. The
/// bytes written are the same either way.
pub fn stream_events(
    paths: &[InputPath],
    path_errors: Vec<Error>,
    opts: &FlowRunOptions,
    logs: &LogOptions,
    budget: usize,
    progress: &AtomicU64,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<(EventRun, OutputOrder)> {
    let start = Instant::now();
    let mut capture = CaptureRun {
        capture: opts.capture,
        analyzers: opts.analyzers,
    };
    capture.capture.workers = 1;
    let store = FlowStore::new(opts.spill_at);
    let (path_errors, notes) = split_path_errors(path_errors);
    let mut run = EventRun {
        path_errors,
        notes,
        ..EventRun::default()
    };
    let order;
    let mut results: Vec<InputOutput> = if let Some(plan) = in_order_plan(paths, logs) {
        order = OutputOrder::Streamed;
        let mut out = Vec::with_capacity(plan.len());
        let mut err = None;
        for i in plan {
            let Some(p) = paths.get(i) else { continue };
            let mut dest = Dest::Write(&mut *sink, &mut err);
            out.push(read_one(
                p,
                &capture,
                progress,
                &store,
                Some(logs),
                &mut dest,
            ));
            if let Some(e) = err.take() {
                return Err(e);
            }
        }
        out
    } else {
        let events = EventStore::new(budget);
        let ranks = name_ranks(paths);
        let results: Vec<InputOutput> = paths
            .par_iter()
            .zip(ranks.par_iter())
            .map(|(p, &rank)| {
                read_one(
                    p,
                    &capture,
                    progress,
                    &store,
                    Some(logs),
                    &mut Dest::Store(&events, rank),
                )
            })
            .collect();
        let sorted: SortedEvents = events.finish()?;
        order = OutputOrder::Sorted {
            spilled_runs: sorted.spilled_runs(),
        };
        match store.finish() {
            Ok(flows) => run.flows = flows,
            Err(e) => {
                return Err(std::io::Error::other(format!(
                    "spilling records to a temporary file failed: {e}"
                )));
            }
        }
        crate::collect::ecs_stream::write_sorted_merged(&sorted, &run.flows, sink)?;
        results
    };
    sink.flush()?;
    results.sort_by(|a, b| a.report.name.cmp(&b.report.name));
    for r in results {
        run.written += r.report.events;
        run.inputs.push(r.report);
    }
    run.secs = start.elapsed().as_secs_f64();
    Ok((run, order))
}

/// Each input's rank in name order, from 1 (0 is for events without an
/// origin), as [`EventKey::input`](crate::collect::event_store::EventKey) wants.
fn name_ranks(paths: &[InputPath]) -> Vec<u32> {
    let names: Vec<Arc<str>> = paths.iter().map(InputPath::display_name).collect();
    let mut sorted: Vec<&Arc<str>> = names.iter().collect();
    sorted.sort();
    sorted.dedup();
    names
        .iter()
        .map(|n| sorted.binary_search(&n).map_or(0, |i| i as u32 + 1))
        .collect()
}

/// The order in which to read `paths` so that writing events as they are
/// read gives time order, if one can be proven: every input an uncompressed
/// file of a format whose lines tell their time (a `Reader::Lines` that is
/// `timed`: syslog, LANL), each in
/// time order, and their time spans following one another (rotated logs)
/// or at most one with events.
fn in_order_plan(paths: &[InputPath], logs: &LogOptions) -> Option<Vec<usize>> {
    let ranks = name_ranks(paths);
    let spans: Vec<Option<Option<(Timestamp, Timestamp)>>> =
        paths.par_iter().map(|p| provable_span(p, logs)).collect();
    let mut with_events: Vec<(Timestamp, Timestamp, u32, usize)> = Vec::new();
    let mut without: Vec<(u32, usize)> = Vec::new();
    for (i, span) in spans.into_iter().enumerate() {
        let rank = ranks.get(i).copied().unwrap_or(0);
        match span? {
            Some((first, last)) => with_events.push((first, last, rank, i)),
            None => without.push((rank, i)),
        }
    }
    with_events.sort();
    for w in with_events.windows(2) {
        if let [(_, last, rank_a, _), (first, _, rank_b, _)] = w
            && (first < last || (first == last && rank_b <= rank_a))
        {
            return None;
        }
    }
    without.sort();
    Some(
        without
            .into_iter()
            .map(|(_, i)| i)
            .chain(with_events.into_iter().map(|(.., i)| i))
            .collect(),
    )
}

/// The time span of an input's events if it is provably in time order
/// (`Some(None)`: no events), `None` if that cannot be shown cheaply.
fn provable_span(path: &InputPath, logs: &LogOptions) -> Option<Option<(Timestamp, Timestamp)>> {
    if !matches!(path, InputPath::File(_)) {
        return None;
    }
    let mut opened = input::open(path).ok()?;
    if opened.compression != input::Compression::None {
        return None;
    }
    strip_bom(&mut opened);
    let head = head_of(&mut opened);
    if input::sniff(&head).is_capture() || crate::input::sniff::looks_like_truth(&head) {
        return None;
    }
    let ctx = logs.context(opened.modified);
    let format = formats::choose(&head, logs.format, &ctx).ok()?;
    match format.spec().reader(&ctx) {
        Reader::Lines {
            parser,
            timed: true,
        } => time_range(&mut opened.window, parser.as_ref()),
        _ => None,
    }
}
