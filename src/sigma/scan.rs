//! The walk over the inputs: every Windows record (JSON Lines of any
//! shape `source::winsec` reads, and EVTX) and every Linux record (syslog
//! text, `journalctl -o json`, auditd's `audit.log`: [`super::linux`]) is
//! flattened into a [`Record`] and evaluated against the rules; each hit
//! becomes one [`LogEvent`] with action `sigma-match`.
//!
//! Part of the `sigma` stage. Inputs are read in parallel, each in one
//! pass, its records evaluated in parallel batches whose hits are kept in
//! record order; only hits are kept, so memory follows the hits, not the
//! records. Inputs that are none of these are passed over without a word (the
//! main pipeline reports on them). Hostile input is counted, never fatal:
//! a line that is not a JSON object is not a Windows record; an EVTX file
//! the decoder cannot read is counted in [`ScanStats::unreadable`].

use super::SigmaRules;
use super::linux;
use super::record::{self, Record, bounded};
use crate::input::{self, InputPath};
use crate::model::Action;
use crate::model::event::{LogEvent, Origin, Position, Text, Timestamp};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most bytes of an EVTX input read (it is decoded in memory).
pub const MAX_EVTX: usize = 1 << 30;

/// The most bytes of one JSON line evaluated.
pub const MAX_LINE: usize = 1 << 20;

/// JSON lines evaluated together (in parallel) before their hits are kept.
const BATCH: usize = 4096;

/// The most matched field values kept per hit.
const MAX_MATCHED: usize = 4;

/// What to keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Keep hits of `informational` rules too (counted either way).
    pub informational: bool,
    /// The year of RFC 3164 syslog times (`--year`; else each file's
    /// modification time places them).
    pub year: Option<i64>,
    /// The offset from UTC syslog text was written at, in seconds
    /// (`--timezone`).
    pub utc_offset: i64,
}

/// Counts of one scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Records evaluated.
    pub records: u64,
    /// Of those, Linux records (syslog, journald, auditd).
    pub linux: u64,
    /// Hits, every level.
    pub hits: u64,
    /// Hits of informational rules (not kept unless asked for).
    pub informational: u64,
    /// Inputs that could not be opened or decoded.
    pub unreadable: u64,
    /// Rules evaluated in full (the candidates the index left), over all
    /// records.
    pub evaluated: u64,
    /// Hits per rule title.
    pub by_rule: BTreeMap<String, u64>,
    /// Audit events let go before their end record because too many
    /// events were interleaved ([`linux::MAX_OPEN`]): their `EXECVE` may
    /// lack the `SYSCALL` or `CWD` fields.
    pub audit_evicted: u64,
}

impl ScanStats {
    fn merge(&mut self, o: ScanStats) {
        self.records += o.records;
        self.linux += o.linux;
        self.hits += o.hits;
        self.informational += o.informational;
        self.unreadable += o.unreadable;
        self.evaluated += o.evaluated;
        self.audit_evicted += o.audit_evicted;
        for (k, v) in o.by_rule {
            *self.by_rule.entry(k).or_default() += v;
        }
    }
}

/// Scans `paths`; the hits come back in a fixed order (time, then origin),
/// whatever the thread count.
pub fn scan(
    rules: &SigmaRules,
    paths: &[InputPath],
    opts: ScanOptions,
) -> (Vec<LogEvent>, ScanStats) {
    let parts: Vec<(Vec<LogEvent>, ScanStats, Pending)> =
        paths.par_iter().map(|p| scan_one(rules, p, opts)).collect();
    let mut hits = Vec::new();
    let mut stats = ScanStats::default();
    let mut pending = Vec::new();
    for (h, s, p) in parts {
        hits.extend(h);
        stats.merge(s);
        pending.extend(p);
    }
    correlate(rules, pending, opts, &mut hits, &mut stats);
    hits.sort_by(|a, b| {
        a.ts.cmp(&b.ts)
            .then_with(|| a.origin.cmp(&b.origin))
            .then_with(|| a.label("sigma_title").cmp(&b.label("sigma_title")))
    });
    (hits, stats)
}

fn scan_one(
    rules: &SigmaRules,
    path: &InputPath,
    opts: ScanOptions,
) -> (Vec<LogEvent>, ScanStats, Pending) {
    let mut stats = ScanStats::default();
    let mut hits = Vec::new();
    let mut pending = Pending::new();
    let Ok(mut open) = input::open(path) else {
        stats.unreadable += 1;
        return (hits, stats, pending);
    };
    scan_input(rules, &mut open, opts, &mut hits, &mut stats, &mut pending);
    (hits, stats, pending)
}

/// Reads one opened input into `hits`, `stats` and `pending`.
fn scan_input(
    rules: &SigmaRules,
    open: &mut input::OpenInput,
    opts: ScanOptions,
    hits: &mut Vec<LogEvent>,
    stats: &mut ScanStats,
    pending: &mut Pending,
) {
    let file = open.name.clone();
    let modified = open.modified;
    let w = &mut open.window;
    // Enough lines to tell the text formats apart.
    w.fill(1 << 16);
    let head = w.bytes().to_vec();
    let head = head.as_slice();
    let mut sink = Sink {
        opts,
        hits,
        stats,
        pending,
        keep: rules.correlation.is_some(),
    };
    if head.starts_with(crate::source::evtx::MAGIC) {
        let mut buf = Vec::new();
        loop {
            let b = w.bytes();
            if buf.len() + b.len() > MAX_EVTX {
                sink.stats.unreadable += 1;
                return;
            }
            buf.extend_from_slice(b);
            let n = b.len();
            w.consume(n);
            if !w.fill(1 << 20) && w.bytes().is_empty() {
                break;
            }
        }
        scan_evtx(rules, buf, &file, &mut sink);
    } else if crate::source::syslog::looks_like_journal_json(head) {
        let mut batch: Vec<(Position, Vec<u8>)> = Vec::new();
        each_line(w, |no, line| {
            batch.push((Position::Line(no), line.to_vec()));
            if batch.len() >= BATCH {
                sink.batch(rules, &file, std::mem::take(&mut batch), |l| {
                    linux::from_journal_line(&l)
                });
            }
        });
        sink.batch(rules, &file, batch, |l| linux::from_journal_line(&l));
    } else if crate::source::winsec::looks_like_windows_jsonl(head) || head.first() == Some(&b'{') {
        let mut batch: Vec<(Position, Vec<u8>)> = Vec::new();
        each_line(w, |no, line| {
            batch.push((Position::Line(no), line.to_vec()));
            if batch.len() >= BATCH {
                sink.batch(rules, &file, std::mem::take(&mut batch), |l| {
                    record::from_json(&l)
                });
            }
        });
        sink.batch(rules, &file, batch, |l| record::from_json(&l));
    } else if crate::source::auditd::looks_like_auditd(head) {
        // Joined in order (one event's records), then evaluated in batches.
        let mut join = linux::AuditJoin::new(opts.utc_offset);
        let mut done: Vec<(u64, Record)> = Vec::new();
        let flush = |sink: &mut Sink<'_>, done: &mut Vec<(u64, Record)>| {
            let batch = std::mem::take(done)
                .into_iter()
                .map(|(no, r)| (Position::Line(no), r))
                .collect();
            sink.batch(rules, &file, batch, Some);
        };
        each_line(w, |no, line| {
            join.push(no, line, &mut done);
            if done.len() >= BATCH {
                flush(&mut sink, &mut done);
            }
        });
        join.finish(&mut done);
        flush(&mut sink, &mut done);
        sink.stats.audit_evicted += join.evicted;
    } else {
        let cfg =
            crate::source::syslog::SyslogConfig::for_input(opts.year, opts.utc_offset, modified);
        if crate::source::syslog::looks_like_syslog(head, &cfg) {
            let mut batch: Vec<(Position, Vec<u8>)> = Vec::new();
            each_line(w, |no, line| {
                batch.push((Position::Line(no), line.to_vec()));
                if batch.len() >= BATCH {
                    sink.batch(rules, &file, std::mem::take(&mut batch), |l| {
                        linux::from_syslog_line(&l, &cfg)
                    });
                }
            });
            sink.batch(rules, &file, batch, |l| linux::from_syslog_line(&l, &cfg));
        }
    }
}

/// Where one input's results go.
struct Sink<'a> {
    opts: ScanOptions,
    hits: &'a mut Vec<LogEvent>,
    stats: &'a mut ScanStats,
    pending: &'a mut Pending,
    /// Keep matched records for the correlation rules.
    keep: bool,
}

impl Sink<'_> {
    /// Reads a batch of items (numbered) into records and evaluates them
    /// in parallel; their hits are kept in the batch's order, whatever the
    /// thread count. Items that give no record are not counted.
    fn batch<T: Send>(
        &mut self,
        rules: &SigmaRules,
        file: &Arc<str>,
        items: Vec<(Position, T)>,
        read: impl Fn(T) -> Option<Record> + Sync,
    ) {
        type Done = (
            Position,
            Option<(Record, Vec<rsigma_eval::EvaluationResult>)>,
            u64,
            bool,
        );
        let done: Vec<Done> = items
            .into_par_iter()
            .filter_map(|(at, item)| {
                let rec = read(item)?;
                let (found, n) = rules.fast.detect(&rec);
                let linux = rec.linux.is_some();
                Some((at, (!found.is_empty()).then_some((rec, found)), n, linux))
            })
            .collect();
        for (at, hit, n, linux) in done {
            self.stats.records += 1;
            self.stats.linux += u64::from(linux);
            self.stats.evaluated += n;
            let Some((rec, found)) = hit else { continue };
            let origin = Origin {
                file: file.clone(),
                at,
            };
            emit(&rec, &origin, &found, self.opts, self.hits, self.stats);
            if self.keep {
                self.pending.push((rec, origin, found));
            }
        }
    }
}

/// Calls `each` with every non-blank line of the window (numbered from 1,
/// at most [`MAX_LINE`] bytes; longer lines are passed over).
fn each_line(w: &mut input::ByteWindow, mut each: impl FnMut(u64, &[u8])) {
    let mut line_no: u64 = 0;
    loop {
        let b = w.bytes();
        let nl = memchr::memchr(b'\n', b);
        let (line, used) = match nl {
            Some(i) => (b.get(..i).unwrap_or(&[]), i + 1),
            None if w.at_eof() || b.len() >= input::MAX_RECORD => (b, b.len()),
            None => {
                if !w.fill(b.len().saturating_mul(2).max(1 << 16)) && !w.at_eof() {
                    break;
                }
                continue;
            }
        };
        if used == 0 {
            break;
        }
        line_no += 1;
        if line.len() <= MAX_LINE && line.iter().any(|c| !c.is_ascii_whitespace()) {
            each(line_no, line);
        }
        w.consume(used);
    }
}

/// Byte offset of each record (by record id) in an EVTX file: chunks sit
/// every 64 KiB after the 4 KiB header, records follow each chunk's
/// 512-byte header, each starting with `**\0\0`, its size and its id.
fn record_offsets(buf: &[u8]) -> BTreeMap<u64, u64> {
    use crate::source::evtx::{CHUNK_SIZE, FILE_HEADER_SIZE};
    let mut out = BTreeMap::new();
    let mut chunk = FILE_HEADER_SIZE;
    while chunk < buf.len() {
        let end = chunk.saturating_add(CHUNK_SIZE).min(buf.len());
        let mut at = chunk + 512;
        while at.saturating_add(24) <= end {
            let Some(h) = buf.get(at..at + 24) else { break };
            if h.get(..4) != Some(b"**\0\0") {
                break;
            }
            let size = h
                .get(4..8)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_le_bytes)
                .unwrap_or(0) as usize;
            let id = h
                .get(8..16)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
                .unwrap_or(0);
            if size < 24 {
                break;
            }
            out.insert(id, at as u64);
            at = at.saturating_add(size);
        }
        chunk = chunk.saturating_add(CHUNK_SIZE);
    }
    out
}

/// An EVTX record as the decoder gives it: its JSON and its header time.
type Raw = (serde_json::Value, Option<Timestamp>);

/// EVTX records evaluated together (in parallel).
const EVTX_BATCH: usize = 256;

/// The record of a decoded EVTX record (its header time when its fields
/// tell none).
fn evtx_record((data, ts): Raw) -> Option<Record> {
    let mut rec = record::from_value(data)?;
    if rec.ts.is_none() {
        rec.ts = ts;
    }
    Some(rec)
}

fn scan_evtx(rules: &SigmaRules, buf: Vec<u8>, file: &Arc<str>, sink: &mut Sink<'_>) {
    let offsets = record_offsets(&buf);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let settings = evtx::ParserSettings::new().num_threads(1);
        let Ok(parser) = evtx::EvtxParser::from_buffer(buf) else {
            return false;
        };
        let mut parser = parser.with_configuration(settings);
        // Decoded in order, evaluated in parallel batches (hits kept in
        // record order).
        let mut batch: Vec<(Position, Raw)> = Vec::new();
        for r in parser.records_json_value() {
            let Ok(r) = r else { continue };
            let at = Position::Offset(offsets.get(&r.event_record_id).copied().unwrap_or(0));
            let ts = i64::try_from(r.timestamp.as_nanosecond())
                .ok()
                .map(Timestamp);
            batch.push((at, (r.data, ts)));
            if batch.len() >= EVTX_BATCH {
                sink.batch(rules, file, std::mem::take(&mut batch), evtx_record);
            }
        }
        sink.batch(rules, file, batch, evtx_record);
        true
    }));
    if !matches!(run, Ok(true)) {
        sink.stats.unreadable += 1;
    }
}

/// The rules that match one record, each once (a record of several
/// logsources is evaluated under each), through the candidate index.
fn detect(rules: &SigmaRules, rec: &Record) -> Vec<rsigma_eval::EvaluationResult> {
    rules.fast.detect(rec).0
}

/// What [`evaluate`] finds, as `rsigma-eval`'s own engines find it (each
/// engine of a logsource the record stands for, with the crate's candidate
/// index): the reference the fast path is tested against. Gives, per
/// hit, the rule's title and id, in the order [`evaluate`] reports them.
pub fn detect_reference(rules: &SigmaRules, rec: &Record) -> Vec<(String, Option<String>)> {
    reference(rules, rec)
        .into_iter()
        .map(|r| (r.header.rule_title, r.header.rule_id))
        .collect()
}

/// The titles and ids of the rules that match `rec` through the fast path
/// (the same order as the hits [`evaluate`] gives).
pub fn detect_fast(rules: &SigmaRules, rec: &Record) -> Vec<(String, Option<String>)> {
    detect(rules, rec)
        .into_iter()
        .map(|r| (r.header.rule_title, r.header.rule_id))
        .collect()
}

/// The titles and ids of the rules lateral's own matcher finds in `rec`
/// (the fast path's candidates, each decided by lateral's matcher without
/// `rsigma-eval` confirming a match; rules left to `rsigma-eval` and the
/// comparisons it is asked about go to it), in [`evaluate`]'s order: what
/// is held against [`detect_reference`].
pub fn detect_own(rules: &SigmaRules, rec: &Record) -> Vec<(String, Option<String>)> {
    rules.fast.detect_own(rec)
}

fn reference(rules: &SigmaRules, rec: &Record) -> Vec<rsigma_eval::EvaluationResult> {
    let event = rsigma_eval::JsonEvent::borrow(&rec.fields);
    let mut out: Vec<rsigma_eval::EvaluationResult> = Vec::new();
    for ls in rec.logsources() {
        let fits = |rule: &Option<String>, ev: &Option<String>| match (rule, ev) {
            (None, _) => true,
            (Some(r), Some(e)) => r.eq_ignore_ascii_case(e),
            (Some(_), None) => false,
        };
        let engines = rules.engines.iter().filter(|((p, s, c), _)| {
            fits(p, &ls.product) && fits(s, &ls.service) && fits(c, &ls.category)
        });
        for res in engines.flat_map(|(_, e)| e.evaluate_with_logsource(&event, &ls)) {
            let h = &res.header;
            if out
                .iter()
                .any(|o| o.header.rule_title == h.rule_title && o.header.rule_id == h.rule_id)
            {
                continue;
            }
            out.push(res);
        }
    }
    out
}

/// Evaluates one record; pushes a hit event per rule that matched.
pub fn evaluate(
    rules: &SigmaRules,
    rec: &Record,
    origin: Origin,
    opts: ScanOptions,
    hits: &mut Vec<LogEvent>,
    stats: &mut ScanStats,
) {
    stats.records += 1;
    let (found, n) = rules.fast.detect(rec);
    stats.evaluated += n;
    emit(rec, &origin, &found, opts, hits, stats);
}

/// Hit events for the results of one record.
fn emit(
    rec: &Record,
    origin: &Origin,
    found: &[rsigma_eval::EvaluationResult],
    opts: ScanOptions,
    hits: &mut Vec<LogEvent>,
    stats: &mut ScanStats,
) {
    for res in found {
        let h = &res.header;
        let level = super::load::level_name(h.level);
        stats.hits += 1;
        *stats.by_rule.entry(h.rule_title.clone()).or_default() += 1;
        if level == "informational" {
            stats.informational += 1;
            if !opts.informational {
                continue;
            }
        }
        let matched: Vec<String> = match (res.as_detection(), res.as_correlation()) {
            (Some(d), _) => {
                // The engine reports matched fields in no fixed order:
                // sorted, so the same record gives the same alert text.
                let mut m: Vec<String> = d
                    .matched_fields
                    .iter()
                    .map(|f| {
                        let v = match &f.value {
                            serde_json::Value::String(s) => s.clone(),
                            v => v.to_string(),
                        };
                        format!("{}={}", f.field, bounded(&v, 256))
                    })
                    .collect();
                m.sort_unstable();
                m.dedup();
                m.truncate(MAX_MATCHED);
                m
            }
            (None, Some(c)) => {
                let mut m: Vec<String> = c
                    .group_key
                    .iter()
                    .take(MAX_MATCHED)
                    .map(|(k, v)| format!("{k}={}", bounded(v, 256)))
                    .collect();
                m.push(format!(
                    "{:?} {} within {} s",
                    c.correlation_type, c.aggregated_value, c.timespan_secs
                ));
                m
            }
            _ => Vec::new(),
        };
        hits.push(hit_event(rec, origin, h, level, &matched));
    }
}

/// Records that matched a rule, kept for the correlation rules.
type Pending = Vec<(Record, Origin, Vec<rsigma_eval::EvaluationResult>)>;

/// Runs the correlation rules over the records that matched, in time
/// order (then origin), and pushes a hit per correlation that fired, on
/// the record that completed it.
fn correlate(
    rules: &SigmaRules,
    mut pending: Pending,
    opts: ScanOptions,
    hits: &mut Vec<LogEvent>,
    stats: &mut ScanStats,
) {
    let Some(coll) = &rules.correlation else {
        return;
    };
    pending.sort_by(|a, b| a.0.ts.cmp(&b.0.ts).then_with(|| a.1.cmp(&b.1)));
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let config = rsigma_eval::CorrelationConfig {
            emit_detections: false,
            ..Default::default()
        };
        let mut engine = rsigma_eval::CorrelationEngine::new(config);
        if engine.add_collection(coll).is_err() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (rec, origin, found) in pending {
            let event = rsigma_eval::JsonEvent::borrow(&rec.fields);
            let secs = rec.ts.map_or(0, |t| t.secs());
            let fired: Vec<_> = engine
                .process_with_detections(&event, found, secs)
                .into_iter()
                .filter(|r| r.is_correlation())
                .collect();
            if !fired.is_empty() {
                out.push((rec, origin, fired));
            }
        }
        out
    }));
    for (rec, origin, fired) in run.unwrap_or_default() {
        emit(&rec, &origin, &fired, opts, hits, stats);
    }
}

/// The event a hit travels as.
fn hit_event(
    rec: &Record,
    origin: &Origin,
    h: &rsigma_eval::RuleHeader,
    level: &'static str,
    matched: &[String],
) -> LogEvent {
    let t = |name: &str| rec.text(name).filter(|s| !s.is_empty() && s != "-");
    let short = |s: String| Text::from(bounded(&s, 512));
    let mut e = LogEvent {
        ts: rec.ts.unwrap_or_default(),
        action: Action::SigmaMatch,
        code: rec.event_id(),
        dataset: "sigma".into(),
        host_name: t("Computer").or_else(|| t("Hostname")).map(short),
        origin: Some(origin.clone()),
        ..LogEvent::default()
    };
    e.source_ip = ["IpAddress", "SourceIp", "ClientAddress", "SourceAddress"]
        .iter()
        .find_map(|n| crate::source::winsec::source_addr(t(n).as_deref()));
    let mut user = ["TargetUserName", "User", "SubjectUserName", "AccountName"]
        .iter()
        .find_map(|n| t(n));
    if let Some(l) = &rec.linux {
        // A Linux record's host, account and address are not its fields.
        e.host_name = l.host.clone().map(short);
        e.source_ip = l.source_ip;
        user = l.user.clone().or(user);
    }
    if let Some(u) = user {
        match u.split_once('\\') {
            Some((d, n)) => {
                e.user_name = Some(short(n.to_string()));
                e.user_domain = Some(short(d.to_string()));
            }
            None => e.user_name = Some(short(u)),
        }
    }
    e.push_label("sigma_title".into(), short(h.rule_title.clone()));
    if let Some(id) = &h.rule_id {
        e.push_label("sigma_id".into(), short(id.clone()));
    }
    e.push_label("sigma_level".into(), level.into());
    let tags: Vec<&str> = h.tags.iter().map(String::as_str).collect();
    if !tags.is_empty() {
        e.push_label("sigma_tags".into(), short(tags.join(",")));
    }
    if !matched.is_empty() {
        e.push_label("sigma_matched".into(), short(matched.join("; ")));
    }
    e
}

/// Adds `hits` to a run's events, keeping them in time order (then origin;
/// equal keys keep their order). Nothing moves when there are no hits.
pub fn merge_events(events: &mut Vec<LogEvent>, hits: Vec<LogEvent>) {
    if hits.is_empty() {
        return;
    }
    events.extend(hits);
    events.sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.origin.cmp(&b.origin)));
}
