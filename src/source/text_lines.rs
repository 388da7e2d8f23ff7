//! Line-oriented log files in, normalised events out, in parallel.
//!
//! The input is read in large chunks; each chunk is cut at its last line
//! break, split into pieces at line boundaries, and the pieces are parsed
//! concurrently (rayon) by a [`LineFormat`], with line numbers restored so
//! every event points back at its raw line. A line longer than
//! [`MAX_LINE`] (a 1 GB line with no newline, say) is skipped and counted
//! without ever being held in memory whole.

use crate::diag::Diagnostics;
use crate::event::{LogEvent, Origin, Position};
use crate::input::ByteWindow;
use crate::source::LineFormat;
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest line parsed; longer lines are skipped and counted.
pub const MAX_LINE: usize = 1 << 20;

/// Bytes read per chunk.
const CHUNK: usize = 8 << 20;

/// Bytes per piece parsed by one task.
const PIECE: usize = 256 << 10;

/// What reading one text input produced.
#[derive(Debug, Default)]
pub struct TextResult {
    /// Events, in line order.
    pub events: Vec<LogEvent>,
    /// Non-blank lines read.
    pub records: u64,
    /// Skipped lines by reason, with samples.
    pub diag: Diagnostics,
    /// Bytes read.
    pub bytes: u64,
    /// A read error that ended the input early.
    pub error: Option<String>,
}

/// Reads every line of `window` with `format`.
pub fn read_lines(
    window: &mut ByteWindow,
    file: &Arc<str>,
    format: &dyn LineFormat,
    progress: &AtomicU64,
) -> TextResult {
    let mut res = TextResult::default();
    let mut next_line: u64 = 1;
    loop {
        if window.bytes().len() < CHUNK && !window.at_eof() {
            window.fill(CHUNK);
        }
        let avail = window.bytes();
        if avail.is_empty() {
            break;
        }
        let cut = match memchr::memrchr(b'\n', avail) {
            Some(i) => i + 1,
            None if window.at_eof() => avail.len(),
            None if avail.len() > MAX_LINE => {
                // A line too long to hold: drop it up to its end.
                let at = next_line;
                res.diag.skip(
                    "line longer than 1 MiB",
                    || origin(file, at),
                    || format!("{}+ bytes", avail.len()),
                );
                skip_to_newline(window, &mut res.bytes);
                next_line += 1;
                continue;
            }
            None => {
                let want = avail.len() * 2;
                window.fill(want);
                continue;
            }
        };
        let chunk = avail.get(..cut).unwrap_or(avail);
        let pieces = split_pieces(chunk, next_line);
        let outputs: Vec<(Vec<LogEvent>, u64, Diagnostics, u64)> = pieces
            .par_iter()
            .map(|(bytes, first)| parse_piece(bytes, *first, file, format))
            .collect();
        for (mut events, records, diag, lines) in outputs {
            res.events.append(&mut events);
            res.records += records;
            res.diag.merge(diag);
            next_line += lines;
        }
        res.bytes += cut as u64;
        progress.fetch_add(cut as u64, Ordering::Relaxed);
        window.consume(cut);
    }
    if let Some(e) = window.take_error() {
        res.error = Some(format!("read error after byte {}: {e}", res.bytes));
    }
    res
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

fn parse_piece(
    piece: &[u8],
    first_line: u64,
    file: &Arc<str>,
    format: &dyn LineFormat,
) -> (Vec<LogEvent>, u64, Diagnostics, u64) {
    // A private copy of the name: every event holds a reference, and one
    // counter shared by all worker threads would bounce between cores.
    let own_file: Arc<str> = Arc::from(&**file);
    let file = &own_file;
    // Sized for short lines that each give an event (LANL CSV), so dense
    // inputs do not reallocate and copy as the vector grows.
    let mut events = Vec::with_capacity(piece.len() / 64);
    let mut diag = Diagnostics::default();
    let mut records = 0;
    let mut lines = 0;
    for (this, raw) in (first_line..).zip(piece.split_inclusive(|&b| b == b'\n')) {
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
        let before = events.len();
        match format.parse_line(line, &mut events) {
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
    (events, records, diag, lines)
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
                ts: crate::event::Timestamp(n),
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
