//! Log events formatted for output, kept in output order within bounded
//! memory: the `events` command's counterpart of [`crate::collect::flow_store`].
//!
//! Readers hand over [`EventBatch`]es: events already written as ECS JSON
//! lines (on the worker that parsed them), each with its [`EventKey`]. Up
//! to a byte budget the batches stay in memory; beyond it they are sorted
//! and written to a temporary file as a run, and the output merges the runs.
//! A log of a billion lines costs disk, not memory, and the output (time,
//! then input name, then place in the input, then action) is the same
//! however the batches were split, whatever the thread count. Runs are
//! anonymous, private temporary files ([`crate::collect::flow_store::spill_file`]):
//! nothing is left behind when the process ends or is killed.

use crate::collect::flow_store::RunFileReader;
use crate::model::event::Timestamp;
use crate::source::batch::{EventBatch, EventKey, KEY_BYTES};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::sync::Mutex;

/// Formatted bytes held in memory before a sorted run is spilled to disk.
pub const DEFAULT_BUDGET: usize = 512 << 20;

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
        for (i, k) in batch.keys().iter().enumerate() {
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
    let file = crate::collect::flow_store::spill_file()?;
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
