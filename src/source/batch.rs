//! What one input's parser yields for the `events` command: its events
//! already written as ECS JSON lines, each with the key that places it in
//! the output order. Sources fill a batch as they parse (or write lines
//! straight into it, skipping the event); the collect stage's event store
//! sorts, spills and merges batches.

use crate::model::ecs::EcsFields;
use crate::model::event::{LogEvent, Position};
use std::sync::Mutex;

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
pub(crate) const KEY_BYTES: usize = 8 + 4 + 8 + 4;

impl EventKey {
    pub(crate) fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.input.to_le_bytes());
        out.extend_from_slice(&self.at.to_le_bytes());
        out.extend_from_slice(&self.seq.to_le_bytes());
    }

    pub(crate) fn read(b: &[u8; KEY_BYTES]) -> EventKey {
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
    pub(crate) fn line(&self, i: usize) -> &[u8] {
        let from = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let to = self.ends.get(i).copied().unwrap_or(from);
        self.bytes.get(from..to).unwrap_or(&[])
    }

    pub(crate) fn weight(&self) -> usize {
        self.bytes.len() + self.keys.len() * (KEY_BYTES + 8)
    }
}

/// Batches whose bytes were written, kept for reuse.
static SPARE: Mutex<Vec<EventBatch>> = Mutex::new(Vec::new());

/// Most spare batches kept (a few per worker thread).
const MAX_SPARE: usize = 80;
