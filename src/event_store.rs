//! Log events formatted for output, kept in output order within bounded
//! memory: the `events` command's counterpart of [`crate::flow_store`].
//!
//! Readers hand over [`EventBatch`]es: events already written as ECS JSON
//! lines (on the worker that parsed them), each with its [`EventKey`]. Up
//! to a byte budget the batches stay in memory; beyond it they are sorted
//! and written to a temporary file as a run, and the output merges the runs.
//! A log of a billion lines costs disk, not memory, and the output (time,
//! then input name, then place in the input, then action) is the same
//! however the batches were split, whatever the thread count. Runs are
//! anonymous, private temporary files ([`crate::flow_store::spill_file`]):
//! nothing is left behind when the process ends or is killed.

use crate::event::{LogEvent, Position, Timestamp};
use crate::flow_store::RunFileReader;
use crate::model::ecs::EcsFields;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::sync::Mutex;

/// Formatted bytes held in memory before a sorted run is spilled to disk.
pub const DEFAULT_BUDGET: usize = 512 << 20;

/// The place of one event in the output order.
///
/// Equal to ordering events by time, then by the input they came from (in
/// name order), then by their place in it, then by action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventKey {
    /// Event time, nanoseconds since the epoch.
    pub ts: i64,
    /// Rank of the input's name among all inputs (0: no origin).
    pub input: u32,
    /// Byte offset or line number in the input.
    pub at: u64,
    /// Rank of the event among those of the same record, by action.
    pub seq: u32,
}

/// Bytes of one key on disk.
const KEY_BYTES: usize = 8 + 4 + 8 + 4;

impl EventKey {
    fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.input.to_le_bytes());
        out.extend_from_slice(&self.at.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
    }

    fn read(b: &[u8; KEY_BYTES]) -> EventKey {
        let mut ts = [0u8; 8];
        let mut input = [0u8; 4];
        let mut at = [0u8; 8];
        let mut seq = [0u8; 4];
        ts.copy_from_slice(&b[..8]);
        input.copy_from_slice(&b[8..12]);
        at.copy_from_slice(&b[12..20]);
        seq.copy_from_slice(&b[20..24]);
        EventKey {
            ts: i64::from_le_bytes(ts),
            input: u32::from_le_bytes(input),
            at: u64::from_le_bytes(at),
            seq: u32::from_le_bytes(seq),
        }
    }
}

/// Events of one input, written as JSON lines, with their keys, in the
/// order they were read.
#[derive(Debug, Default)]
pub struct EventBatch {
    /// Rank of the input the events were read from.
    input: u32,
    keys: Vec<EventKey>,
    /// End of each event's line in `bytes`.
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl EventBatch {
    /// An empty batch for events of the input of rank `input` (buffers
    /// reused from batches already written, see [`EventBatch::recycle`]).
    pub fn for_input(input: u32) -> EventBatch {
        let mut b = SPARE
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default();
        b.input = input;
        b
    }

    /// Makes room for `bytes` more bytes of JSON lines.
    pub fn reserve(&mut self, bytes: usize) {
        self.bytes.reserve(bytes);
    }

    /// Formats `events` (all read from the input of rank `input`, events of
    /// one record next to each other) as ECS JSON lines.
    pub fn format(events: &[LogEvent], input: u32) -> EventBatch {
        let mut b = EventBatch::for_input(input);
        b.keys.reserve(events.len());
        b.ends.reserve(events.len());
        b.bytes.reserve(events.len() * 448);
        b.append(events);
        b
    }

    /// Adds `events` (events of one record next to each other), each record's
    /// events ordered by action.
    pub fn append(&mut self, events: &[LogEvent]) {
        let mut i = 0;
        while let Some(first) = events.get(i) {
            // The events of one record: same time and origin.
            let group = events
                .get(i..)
                .unwrap_or(&[])
                .iter()
                .take_while(|e| e.ts == first.ts && e.origin == first.origin)
                .count()
                .max(1);
            let slice = events.get(i..i + group).unwrap_or(&[]);
            let (rank, at) = match &first.origin {
                Some(o) => (
                    self.input,
                    match o.at {
                        Position::Offset(x) | Position::Line(x) => x,
                    },
                ),
                None => (0, 0),
            };
            if let [e] = slice {
                // Nearly every record gives one event: no ordering to do.
                self.push(e, rank, at, 0);
            } else {
                // Stable, so equal actions keep the order they were made in.
                let mut by_action: Vec<&LogEvent> = slice.iter().collect();
                by_action.sort_by_key(|x| x.action);
                for (seq, e) in by_action.into_iter().enumerate() {
                    self.push(e, rank, at, seq as u32);
                }
            }
            i += group;
        }
    }

    /// Adds the one event of a record at line or offset `at` of this
    /// batch's input, given as any [`EcsFields`] (a parser's own borrowed
    /// record, written without building a [`LogEvent`]).
    pub fn push_record<E: EcsFields>(&mut self, e: &E, at: u64) {
        self.push(e, self.input, at, 0);
    }

    fn push<E: EcsFields + ?Sized>(&mut self, e: &E, input: u32, at: u64, seq: u32) {
        crate::model::ecs::write_event(e, &mut self.bytes);
        self.ends.push(self.bytes.len());
        self.keys.push(EventKey {
            ts: e.ts().0,
            input,
            at,
            seq,
        });
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Hands the batch's buffers back for the next [`EventBatch::format`]
    /// once its bytes are written, so streaming output does not allocate
    /// (and fault in) fresh megabytes per piece.
    pub fn recycle(mut self) {
        self.keys.clear();
        self.ends.clear();
        self.bytes.clear();
        if let Ok(mut spare) = SPARE.lock()
            && spare.len() < MAX_SPARE
        {
            spare.push(self);
        }
    }

    /// True when the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The formatted JSON lines, in read order.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The keys, in read order.
    pub fn keys(&self) -> &[EventKey] {
        &self.keys
    }

    /// The JSON line of event `i`.
    fn line(&self, i: usize) -> &[u8] {
        let from = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let to = self.ends.get(i).copied().unwrap_or(from);
        self.bytes.get(from..to).unwrap_or(&[])
    }

    fn weight(&self) -> usize {
        self.bytes.len() + self.keys.len() * (KEY_BYTES + 8)
    }
}

/// Batches whose bytes were written, kept for reuse.
static SPARE: Mutex<Vec<EventBatch>> = Mutex::new(Vec::new());

/// Most spare batches kept (a few per worker thread).
const MAX_SPARE: usize = 80;

struct Inner {
    mem: Vec<EventBatch>,
    mem_bytes: usize,
    runs: Vec<File>,
    count: u64,
    error: Option<io::Error>,
}

/// A thread-safe collector of formatted events.
pub struct EventStore {
    budget: usize,
    inner: Mutex<Inner>,
}

impl Default for EventStore {
    fn default() -> Self {
        EventStore::new(DEFAULT_BUDGET)
    }
}

/// Where each held event is: (key, batch, index in batch), in output order.
fn order_of(batches: &[EventBatch]) -> Vec<(EventKey, u32, u32)> {
    let mut order: Vec<(EventKey, u32, u32)> =
        Vec::with_capacity(batches.iter().map(EventBatch::len).sum());
    for (b, batch) in batches.iter().enumerate() {
        for (i, k) in batch.keys.iter().enumerate() {
            order.push((*k, b as u32, i as u32));
        }
    }
    if !order.windows(2).all(|w| w[0] <= w[1]) {
        // Ties (events without an origin) keep the order they were held in.
        order.sort_unstable();
    }
    order
}

impl EventStore {
    /// A store that spills a sorted run whenever `budget` bytes are held.
    pub fn new(budget: usize) -> EventStore {
        EventStore {
            budget: budget.max(1),
            inner: Mutex::new(Inner {
                mem: Vec::new(),
                mem_bytes: 0,
                runs: Vec::new(),
                count: 0,
                error: None,
            }),
        }
    }

    /// Adds a batch.
    pub fn push(&self, batch: EventBatch) {
        if batch.is_empty() {
            return;
        }
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        g.count += batch.len() as u64;
        g.mem_bytes += batch.weight();
        g.mem.push(batch);
        if g.mem_bytes >= self.budget
            && g.error.is_none()
            && let Err(e) = spill(&mut g)
        {
            g.error = Some(e);
        }
    }

    /// Ends collection; the events can then be read in output order. A
    /// failed spill (disk full) is reported here.
    pub fn finish(self) -> io::Result<SortedEvents> {
        let mut g = match self.inner.into_inner() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(e) = g.error.take() {
            return Err(e);
        }
        let order = order_of(&g.mem);
        Ok(SortedEvents {
            mem: g.mem,
            order,
            runs: g.runs,
            count: g.count,
        })
    }
}

fn spill(g: &mut Inner) -> io::Result<()> {
    let file = crate::flow_store::spill_file()?;
    let mut w = BufWriter::with_capacity(1 << 20, &file);
    let batches = std::mem::take(&mut g.mem);
    g.mem_bytes = 0;
    let mut head = Vec::with_capacity(KEY_BYTES + 4);
    for (key, b, i) in order_of(&batches) {
        let line = batches
            .get(b as usize)
            .map_or(&[][..], |batch| batch.line(i as usize));
        head.clear();
        key.write(&mut head);
        head.extend_from_slice(&(line.len() as u32).to_le_bytes());
        w.write_all(&head)?;
        w.write_all(line)?;
    }
    w.flush()?;
    drop(w);
    g.runs.push(file);
    Ok(())
}

/// Every formatted event of a run, readable in output order.
#[derive(Debug, Default)]
pub struct SortedEvents {
    mem: Vec<EventBatch>,
    order: Vec<(EventKey, u32, u32)>,
    runs: Vec<File>,
    count: u64,
}

struct RunReader<'a> {
    r: BufReader<RunFileReader<'a>>,
    line: Vec<u8>,
}

impl RunReader<'_> {
    fn next(&mut self) -> io::Result<Option<EventKey>> {
        let mut head = [0u8; KEY_BYTES + 4];
        match self.r.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut k = [0u8; KEY_BYTES];
        k.copy_from_slice(&head[..KEY_BYTES]);
        let mut len = [0u8; 4];
        len.copy_from_slice(&head[KEY_BYTES..]);
        self.line.resize(u32::from_le_bytes(len) as usize, 0);
        self.r.read_exact(&mut self.line)?;
        Ok(Some(EventKey::read(&k)))
    }
}

/// Reads a [`SortedEvents`] front to back, merging spilled runs.
pub struct EventCursor<'a> {
    events: &'a SortedEvents,
    readers: Vec<RunReader<'a>>,
    /// Heap of (next key, source); source `usize::MAX` is the in-memory part.
    heap: BinaryHeap<Reverse<(EventKey, usize)>>,
    mem_next: usize,
}

impl SortedEvents {
    /// Number of events.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Sorted runs written to disk (0 when everything fit in memory).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// A cursor at the first event.
    pub fn cursor(&self) -> io::Result<EventCursor<'_>> {
        let mut c = EventCursor {
            events: self,
            readers: Vec::with_capacity(self.runs.len()),
            heap: BinaryHeap::new(),
            mem_next: 0,
        };
        for (i, file) in self.runs.iter().enumerate() {
            let mut r = RunReader {
                r: BufReader::with_capacity(256 << 10, RunFileReader::new(file)),
                line: Vec::new(),
            };
            if let Some(k) = r.next()? {
                c.heap.push(Reverse((k, i)));
            }
            c.readers.push(r);
        }
        if let Some((k, _, _)) = self.order.first() {
            c.heap.push(Reverse((*k, usize::MAX)));
        }
        Ok(c)
    }
}

impl EventCursor<'_> {
    /// Time of the next event, if any.
    pub fn peek_ts(&self) -> Option<Timestamp> {
        self.heap.peek().map(|Reverse((k, _))| Timestamp(k.ts))
    }

    /// Appends the next event's line to `out`; false when none is left.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        let Some(Reverse((_, src))) = self.heap.pop() else {
            return Ok(false);
        };
        if src == usize::MAX {
            let ev = self.events;
            if let Some(&(_, b, i)) = ev.order.get(self.mem_next)
                && let Some(batch) = ev.mem.get(b as usize)
            {
                out.extend_from_slice(batch.line(i as usize));
            }
            self.mem_next += 1;
            if let Some((k, _, _)) = ev.order.get(self.mem_next) {
                self.heap.push(Reverse((*k, usize::MAX)));
            }
        } else if let Some(r) = self.readers.get_mut(src) {
            out.extend_from_slice(&r.line);
            if let Some(k) = r.next()? {
                self.heap.push(Reverse((k, src)));
            }
        }
        Ok(true)
    }
}
