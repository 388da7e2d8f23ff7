//! Line-oriented log files in, normalised events out, in parallel.
//!
//! The input is read in large chunks; each chunk is cut at its last line
//! break, split into pieces at line boundaries, and the pieces are parsed
//! concurrently (rayon) by a [`LineFormat`], with line numbers restored so
//! every event points back at its raw line. A line longer than
//! [`MAX_LINE`] (a 1 GB line with no newline, say) is skipped and counted
//! without ever being held in memory whole.

use crate::diag::Diagnostics;
use crate::input::ByteWindow;
use crate::model::event::Timestamp;
use crate::model::event::{LogEvent, Origin, Position};
use crate::source::batch::EventBatch;
use crate::source::{LineFormat, LineTime};
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest line parsed; longer lines are skipped and counted.
pub const MAX_LINE: usize = 1 << 20;

/// Bytes read per chunk.
const CHUNK: usize = 8 << 20;

/// A fold over the events of one piece of an input (see
/// [`read_lines_folded`]): it takes the piece's events, in line order, and
/// returns the ones to keep.
pub type PieceFold<'a> = dyn Fn(Vec<LogEvent>) -> Vec<LogEvent> + Sync + 'a;

/// Reads every line of `window` with `format`, handing each parallel
/// piece's events to `fold` on the worker that parsed them; the result's
/// `events` holds what `fold` kept, in line order. Pieces reach `fold` in
/// no particular order, so it must not depend on it.
pub fn read_lines_folded(
    window: &mut ByteWindow,
    file: &Arc<str>,
    format: &dyn LineFormat,
    progress: &AtomicU64,
    fold: &PieceFold<'_>,
) -> TextResult {
    let work = |bytes: &[u8], first: u64| {
        let mut events = Vec::with_capacity(bytes.len() / 64);
        let own_file = private_name(file);
        let (records, diag, lines) = parse_piece(bytes, first, &own_file, format, &mut events);
        Piece {
            events: events.len() as u64,
            made: fold(events),
            records,
            diag,
            lines,
        }
    };
    let mut kept: Vec<LogEvent> = Vec::new();
    let mut res = read_pieces(window, file, progress, &work, &mut |mut e: Vec<
        LogEvent,
    >| {
        kept.append(&mut e);
        true
    });
    res.events = kept;
    res
}

/// Bytes per piece parsed by one task.
const PIECE: usize = 256 << 10;

/// What reading one text input produced.
#[derive(Debug, Default)]
pub struct TextResult {
    /// Events, in line order.
    pub events: Vec<LogEvent>,
    /// Non-blank lines read.
    pub records: u64,
    /// Events produced (kept in `events` or handed on).
    pub produced: u64,
    /// Skipped lines by reason, with samples.
    pub diag: Diagnostics,
    /// Bytes read.
    pub bytes: u64,
    /// A read error that ended the input early.
    pub error: Option<String>,
}

/// Reads every line of `window` with `format`, keeping the events.
pub fn read_lines(
    window: &mut ByteWindow,
    file: &Arc<str>,
    format: &dyn LineFormat,
    progress: &AtomicU64,
) -> TextResult {
    read_lines_sized(window, file, format, progress, None)
}

/// [`read_lines`] for an input of about `size` bytes: once the first
/// pieces show how many events a byte gives, room for all of them is made
/// at once, so the events are not copied (with old and new both held) each
/// time the list outgrows itself.
pub fn read_lines_sized(
    window: &mut ByteWindow,
    file: &Arc<str>,
    format: &dyn LineFormat,
    progress: &AtomicU64,
    size: Option<u64>,
) -> TextResult {
    let work = |bytes: &[u8], first: u64| {
        let mut events = Vec::with_capacity(bytes.len() / 64);
        let own_file = private_name(file);
        let (records, diag, lines) = parse_piece(bytes, first, &own_file, format, &mut events);
        Piece {
            events: events.len() as u64,
            made: (events, bytes.len() as u64),
            records,
            diag,
            lines,
        }
    };
    let mut kept: Vec<LogEvent> = Vec::new();
    let mut seen: u64 = 0;
    let mut sized = size.is_none();
    let mut res = read_pieces(window, file, progress, &work, &mut |(mut e, n): (
        Vec<LogEvent>,
        u64,
    )| {
        seen += n;
        if !sized && let Some(total) = size {
            let have = (kept.len() + e.len()) as u64;
            if seen >= ESTIMATE_AFTER.min(total) && seen > 0 {
                // The events a byte has given so far, for the whole input,
                // and a tenth more; a refusal only means growing as usual.
                let want = u128::from(have) * u128::from(total) * 11 / (u128::from(seen) * 10);
                let want = usize::try_from(want).unwrap_or(usize::MAX);
                let _ = kept.try_reserve(want.saturating_sub(kept.len()));
                sized = true;
            }
        }
        kept.append(&mut e);
        true
    });
    res.events = kept;
    res
}

/// Bytes read before [`read_lines_sized`] estimates the events to come.
const ESTIMATE_AFTER: u64 = 4 << 20;

/// Reads every line of `window` with `format` as ECS JSON lines: each
/// parallel piece becomes one [`EventBatch`] (for the input of rank
/// `input`), written on the worker that parsed it, and the batches reach
/// `take` in input order. Lines the format can write directly
/// ([`LineFormat::write_line`]) never become [`LogEvent`]s; the rest are
/// parsed and formatted. The result's `events` is empty.
pub fn read_lines_formatted(
    window: &mut ByteWindow,
    file: &Arc<str>,
    format: &dyn LineFormat,
    progress: &AtomicU64,
    input: u32,
    take: &mut dyn FnMut(EventBatch) -> bool,
) -> TextResult {
    let work = |bytes: &[u8], first: u64| {
        let mut events = PIECE_EVENTS.with(|c| c.take());
        let mut batch = EventBatch::for_input(input);
        // JSON lines run to several times the raw text (LANL: about seven).
        batch.reserve(bytes.len().saturating_mul(8));
        let own_file = private_name(file);
        let (records, diag, lines) =
            format_piece(bytes, first, &own_file, format, &mut events, &mut batch);
        events.clear();
        PIECE_EVENTS.with(|c| c.replace(events));
        Piece {
            events: batch.len() as u64,
            made: batch,
            records,
            diag,
            lines,
        }
    };
    read_pieces(window, file, progress, &work, take)
}

/// What a worker made of one piece of lines.
struct Piece<T> {
    made: T,
    /// Events produced.
    events: u64,
    /// Non-blank lines.
    records: u64,
    diag: Diagnostics,
    /// Line breaks.
    lines: u64,
}

/// A private copy of an input's name for one piece: every event holds a
/// reference, and one counter shared by all worker threads would bounce
/// between cores.
fn private_name(file: &Arc<str>) -> Arc<str> {
    Arc::from(&**file)
}

/// What [`for_each_chunk`] calls per chunk: the chunk, its first line
/// number and the result so far; returns the chunk's line count and
/// whether to go on.
type ChunkFn<'f> = dyn FnMut(&[u8], u64, &mut TextResult) -> (u64, bool) + 'f;

/// The chunk loop every reader shares: cuts `window` at line boundaries
/// (a line too long to hold is skipped up to its end and counted), and
/// calls `each` with every chunk, its first line number and the result so
/// far; `each` returns how many lines the chunk held and whether to go on.
/// Counts the bytes and reports them to `progress`.
fn for_each_chunk(
    window: &mut ByteWindow,
    file: &Arc<str>,
    progress: &AtomicU64,
    each: &mut ChunkFn<'_>,
) -> TextResult {
    let mut res = TextResult::default();
    let mut next_line: u64 = 1;
    loop {
        let cut = match next_chunk(window) {
            NextChunk::End => break,
            NextChunk::Lines(cut) => cut,
            NextChunk::LongLine(held) => {
                // A line too long to hold: drop it up to its end.
                let at = next_line;
                res.diag.skip(
                    "line longer than 1 MiB",
                    || origin(file, at),
                    || format!("{held}+ bytes"),
                );
                skip_to_newline(window, &mut res.bytes);
                next_line += 1;
                continue;
            }
        };
        let avail = window.bytes();
        let chunk = avail.get(..cut).unwrap_or(avail);
        let (lines, more) = each(chunk, next_line, &mut res);
        next_line += lines;
        res.bytes += cut as u64;
        progress.fetch_add(cut as u64, Ordering::Relaxed);
        window.consume(cut);
        if !more {
            break;
        }
    }
    if let Some(e) = window.take_error() {
        res.error = Some(format!("read error after byte {}: {e}", res.bytes));
    }
    res
}

/// The parallel readers' loop: runs `work` on each chunk's pieces in
/// parallel (with each piece's first line number), and hands what it made
/// to `take` in input order.
fn read_pieces<T: Send>(
    window: &mut ByteWindow,
    file: &Arc<str>,
    progress: &AtomicU64,
    work: &(dyn Fn(&[u8], u64) -> Piece<T> + Sync),
    take: &mut dyn FnMut(T) -> bool,
) -> TextResult {
    for_each_chunk(window, file, progress, &mut |chunk, first, res| {
        let outputs: Vec<Piece<T>> = split_pieces(chunk, first)
            .par_iter()
            .map(|(bytes, first)| work(bytes, *first))
            .collect();
        let mut more = true;
        let mut lines = 0;
        for p in outputs {
            more = more && take(p.made);
            res.produced += p.events;
            res.records += p.records;
            res.diag.merge(p.diag);
            lines += p.lines;
        }
        (lines, more)
    })
}

/// Calls `each` with the number and text (without its line ending) of
/// every non-blank line of `window`, one after the other in one thread:
/// for a format whose records span lines (auditd's events), which the
/// parallel readers cannot join. Lines longer than [`MAX_LINE`] are
/// skipped and counted as the other readers count them; the result's
/// `records` counts the lines `each` got and those, `produced` is left
/// to the caller.
pub fn read_lines_in_order(
    window: &mut ByteWindow,
    file: &Arc<str>,
    progress: &AtomicU64,
    each: &mut dyn FnMut(u64, &[u8], &mut Diagnostics),
) -> TextResult {
    for_each_chunk(window, file, progress, &mut |chunk, first, res| {
        let (records, lines) = each_line(chunk, first, file, &mut res.diag, &mut *each);
        res.records += records;
        (lines, true)
    })
}

/// Proves that every event `format` would make from `window` comes in time
/// order, by reading each line's time only ([`LineFormat::line_time`]),
/// in parallel pieces. Returns the first and last event time (`None`
/// times for an input without events), or `None` when the input is out of
/// order, the format cannot tell, or reading failed.
pub fn time_range(
    window: &mut ByteWindow,
    format: &dyn LineFormat,
) -> Option<Option<(Timestamp, Timestamp)>> {
    let mut range: Option<(Timestamp, Timestamp)> = None;
    loop {
        let cut = match next_chunk(window) {
            NextChunk::End => break,
            NextChunk::Lines(cut) => cut,
            // An over-long line: the careful reader handles it.
            NextChunk::LongLine(_) => return None,
        };
        let avail = window.bytes();
        let chunk = avail.get(..cut).unwrap_or(avail);
        let pieces = split_pieces(chunk, 1);
        let ranges: Vec<Option<Option<(Timestamp, Timestamp)>>> = pieces
            .par_iter()
            .map(|(bytes, _)| piece_time_range(bytes, format))
            .collect();
        for r in ranges {
            match (range, r?) {
                (_, None) => {}
                (None, Some(p)) => range = Some(p),
                (Some((first, last)), Some((a, b))) => {
                    if a < last {
                        return None;
                    }
                    range = Some((first, b));
                }
            }
        }
        window.consume(cut);
    }
    if window.take_error().is_some() {
        return None;
    }
    Some(range)
}

fn piece_time_range(
    piece: &[u8],
    format: &dyn LineFormat,
) -> Option<Option<(Timestamp, Timestamp)>> {
    let mut range: Option<(Timestamp, Timestamp)> = None;
    for raw in lines_of(piece) {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE || line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match format.line_time(line) {
            LineTime::Unknown => return None,
            LineTime::NoEvent => {}
            LineTime::At(t) => match range {
                None => range = Some((t, t)),
                Some((_, last)) if t < last => return None,
                Some((first, _)) => range = Some((first, t)),
            },
        }
    }
    Some(range)
}

/// The lines of `piece`, each with its line break (the last one may have
/// none): what `split_inclusive` on `\n` gives, found with memchr.
pub(crate) fn lines_of(piece: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', piece);
    std::iter::from_fn(move || {
        let end = match ends.next() {
            Some(i) => i + 1,
            None if start < piece.len() => piece.len(),
            None => return None,
        };
        let line = piece.get(start..end);
        start = end;
        line
    })
}

/// What the front of a window holds for a line reader.
pub(crate) enum NextChunk {
    /// Nothing left.
    End,
    /// Whole lines: this many bytes, up to and including the last line break
    /// (or to the end of the input).
    Lines(usize),
    /// A line longer than [`MAX_LINE`] with no break yet; this many bytes held.
    LongLine(usize),
}

/// Fills `window` up to [`CHUNK`] bytes and says where its whole lines end.
pub(crate) fn next_chunk(window: &mut ByteWindow) -> NextChunk {
    loop {
        if window.bytes().len() < CHUNK && !window.at_eof() {
            window.fill(CHUNK);
        }
        let avail = window.bytes();
        if avail.is_empty() {
            return NextChunk::End;
        }
        match memchr::memrchr(b'\n', avail) {
            Some(i) => return NextChunk::Lines(i + 1),
            None if window.at_eof() => return NextChunk::Lines(avail.len()),
            None if avail.len() > MAX_LINE => return NextChunk::LongLine(avail.len()),
            None => {
                let want = avail.len() * 2;
                window.fill(want);
            }
        }
    }
}

fn origin(file: &Arc<str>, line: u64) -> Origin {
    Origin {
        file: file.clone(),
        at: Position::Line(line),
    }
}

/// Discards bytes up to and including the next newline (or the end).
fn skip_to_newline(window: &mut ByteWindow, bytes: &mut u64) {
    loop {
        let avail = window.bytes();
        if let Some(i) = memchr::memchr(b'\n', avail) {
            window.consume(i + 1);
            *bytes += i as u64 + 1;
            return;
        }
        let n = avail.len();
        window.consume(n);
        *bytes += n as u64;
        if !window.fill(CHUNK) {
            return;
        }
    }
}

/// Cuts a chunk (ending at a line break) into pieces at line boundaries,
/// each with the number of its first line.
pub(crate) fn split_pieces(chunk: &[u8], first_line: u64) -> Vec<(&[u8], u64)> {
    let mut out = Vec::with_capacity(chunk.len() / PIECE + 1);
    let mut start = 0;
    let mut line = first_line;
    while start < chunk.len() {
        let tentative = (start + PIECE).min(chunk.len());
        let end = if tentative >= chunk.len() {
            chunk.len()
        } else {
            match chunk
                .get(tentative..)
                .and_then(|t| memchr::memchr(b'\n', t))
            {
                Some(i) => tentative + i + 1,
                None => chunk.len(),
            }
        };
        let piece = chunk.get(start..end).unwrap_or(&[]);
        out.push((piece, line));
        line += memchr::memchr_iter(b'\n', piece).count() as u64;
        start = end;
    }
    out
}

thread_local! {
    /// Each worker's vector of parsed events, reused piece after piece.
    static PIECE_EVENTS: std::cell::Cell<Vec<LogEvent>> = const { std::cell::Cell::new(Vec::new()) };
}

fn parse_piece(
    piece: &[u8],
    first_line: u64,
    file: &Arc<str>,
    format: &dyn LineFormat,
    events: &mut Vec<LogEvent>,
) -> (u64, Diagnostics, u64) {
    let mut diag = Diagnostics::default();
    let (records, lines) = each_line(piece, first_line, file, &mut diag, |this, line, diag| {
        parse_one(this, line, file, format, events, diag);
    });
    (records, diag, lines)
}

/// Parses one line into `events`, with its origin set.
fn parse_one(
    this: u64,
    line: &[u8],
    file: &Arc<str>,
    format: &dyn LineFormat,
    events: &mut Vec<LogEvent>,
    diag: &mut Diagnostics,
) {
    let before = events.len();
    match format.parse_line(line, events) {
        Ok(()) => {
            for e in events.get_mut(before..).unwrap_or(&mut []) {
                e.origin = Some(origin(file, this));
            }
        }
        Err(skip) => {
            events.truncate(before);
            diag.skip(skip.0, || origin(file, this), || sample(line));
        }
    }
}

/// Writes a piece's events into `batch`: directly where the format can,
/// through `events` (left empty) where it cannot.
fn format_piece(
    piece: &[u8],
    first_line: u64,
    file: &Arc<str>,
    format: &dyn LineFormat,
    events: &mut Vec<LogEvent>,
    batch: &mut EventBatch,
) -> (u64, Diagnostics, u64) {
    let mut diag = Diagnostics::default();
    let (records, lines) =
        each_line(
            piece,
            first_line,
            file,
            &mut diag,
            |this, line, diag| match format.write_line(line, file, this, batch) {
                Some(Ok(())) => {}
                Some(Err(skip)) => diag.skip(skip.0, || origin(file, this), || sample(line)),
                None => {
                    events.clear();
                    parse_one(this, line, file, format, events, diag);
                    batch.append(events);
                }
            },
        );
    events.clear();
    (records, diag, lines)
}

/// Calls `each` with the number and text (without its line ending) of every
/// non-blank line of `piece` that is not too long (those are counted in
/// `diag`). Returns the non-blank lines and the line breaks seen.
fn each_line(
    piece: &[u8],
    first_line: u64,
    file: &Arc<str>,
    diag: &mut Diagnostics,
    mut each: impl FnMut(u64, &[u8], &mut Diagnostics),
) -> (u64, u64) {
    let mut records = 0;
    let mut lines = 0;
    for (this, raw) in (first_line..).zip(lines_of(piece)) {
        lines += u64::from(raw.last() == Some(&b'\n'));
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records += 1;
        if line.len() > MAX_LINE {
            diag.skip(
                "line longer than 1 MiB",
                || origin(file, this),
                || format!("{} bytes", line.len()),
            );
            continue;
        }
        each(this, line, diag);
    }
    (records, lines)
}

/// The start of a skipped line, printable, for `--stats` samples.
pub(crate) fn sample(line: &[u8]) -> String {
    let cut = line.get(..60).unwrap_or(line);
    String::from_utf8_lossy(cut)
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Skip;

    /// A format that makes one event per line of digits and skips others.
    struct Digits;
    impl LineFormat for Digits {
        fn parse_line(&self, line: &[u8], out: &mut Vec<LogEvent>) -> Result<(), Skip> {
            let n: i64 = std::str::from_utf8(line)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(Skip("not digits"))?;
            out.push(LogEvent {
                ts: crate::model::event::Timestamp(n),
                ..LogEvent::default()
            });
            Ok(())
        }
    }

    fn run(text: Vec<u8>, stream: bool) -> TextResult {
        let mut w = if stream {
            ByteWindow::stream(Box::new(std::io::Cursor::new(text)))
        } else {
            ByteWindow::owned(text)
        };
        read_lines(&mut w, &Arc::from("f"), &Digits, &AtomicU64::new(0))
    }

    /// A size hint, right or wrong, changes nothing but memory: the same
    /// events, origins and skips as without one.
    #[test]
    fn a_size_hint_keeps_the_same_events() {
        let mut text = Vec::new();
        for i in 1..=400_000u64 {
            if i % 5000 == 0 {
                text.extend_from_slice(b"nope\n");
            } else {
                text.extend_from_slice(format!("{i}\n").as_bytes());
            }
        }
        let len = text.len() as u64;
        let plain = run(text.clone(), true);
        assert!(plain.events.len() > 300_000);
        for hint in [Some(len), Some(1), Some(len * 1000), Some(u64::MAX), None] {
            let mut w = ByteWindow::stream(Box::new(std::io::Cursor::new(text.clone())));
            let r = read_lines_sized(&mut w, &Arc::from("f"), &Digits, &AtomicU64::new(0), hint);
            assert_eq!(r.events.len(), plain.events.len(), "{hint:?}");
            assert!(r.events == plain.events, "{hint:?}");
            assert_eq!(r.diag.total(), plain.diag.total());
            assert_eq!((r.records, r.bytes), (plain.records, plain.bytes));
        }
    }

    #[test]
    fn lines_are_split_as_split_inclusive_splits_them() {
        for text in [
            &b""[..],
            b"\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"\n\nab\r\n\ncd",
            b"x\ny\nz\n\n",
        ] {
            let want: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
            let got: Vec<&[u8]> = lines_of(text).collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn line_numbers_survive_parallel_pieces_and_chunks() {
        let mut text = Vec::new();
        for i in 1..=300_000u64 {
            if i % 1000 == 0 {
                text.extend_from_slice(b"oops\r\n");
            } else if i % 777 == 0 {
                text.extend_from_slice(b"\n");
            } else {
                text.extend_from_slice(format!("{i}\n").as_bytes());
            }
        }
        for stream in [false, true] {
            let r = run(text.clone(), stream);
            assert_eq!(r.diag.counts.get("not digits"), Some(&300));
            assert!(r.events.iter().all(|e| e.origin.as_ref().map(|o| o.at) == Some(Position::Line(e.ts.0 as u64))));
            assert_eq!(r.events.len() as u64 + 300, r.records);
            let first = &r.diag.samples["not digits"][0];
            assert_eq!(first.origin.at, Position::Line(1000));
        }
    }

    #[test]
    fn huge_lines_and_binary_are_bounded_and_counted() {
        let mut text = b"1\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 10 * MAX_LINE));
        text.extend_from_slice(b"\n2\n\xff\x00\xfe\n3");
        for stream in [false, true] {
            let r = run(text.clone(), stream);
            let got: Vec<i64> = r.events.iter().map(|e| e.ts.0).collect();
            assert_eq!(got, vec![1, 2, 3]);
            assert_eq!(r.diag.counts.get("line longer than 1 MiB"), Some(&1));
            assert_eq!(r.diag.counts.get("not digits"), Some(&1));
            let line3 = r
                .events
                .iter()
                .find(|e| e.ts.0 == 3)
                .and_then(|e| e.origin.clone())
                .unwrap();
            assert_eq!(line3.at, Position::Line(5));
        }
    }
}
