//! Normalised events and connection records written as one ECS JSON Lines
//! stream in time order: events are formatted ahead on every worker thread,
//! then interleaved with the flows (held in memory or read back from the
//! spill store) as the `events` command writes them.

use crate::model::ecs::{write_event, write_flow_event};
use crate::model::event::LogEvent;

/// Events formatted ahead, in parallel: their JSON lines and where each ends.
struct Formatted {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Events formatted per parallel batch.
const FORMAT_BATCH: usize = 1 << 15;

/// Formats `events` as JSON lines on all worker threads, in order.
fn format_parallel(events: &[LogEvent]) -> Formatted {
    use rayon::prelude::*;
    let parts: Vec<Formatted> = events
        .par_chunks(2048)
        .map(|chunk| {
            let mut f = Formatted {
                bytes: Vec::with_capacity(chunk.len() * 512),
                ends: Vec::with_capacity(chunk.len()),
            };
            for e in chunk {
                write_event(e, &mut f.bytes);
                f.ends.push(f.bytes.len());
            }
            f
        })
        .collect();
    let mut all = Formatted {
        bytes: Vec::with_capacity(parts.iter().map(|p| p.bytes.len()).sum()),
        ends: Vec::with_capacity(events.len()),
    };
    for p in parts {
        let base = all.bytes.len();
        all.bytes.extend_from_slice(&p.bytes);
        all.ends.extend(p.ends.iter().map(|e| e + base));
    }
    all
}

/// Formatted log event lines read front to back, for [`interleave`].
trait EventLines {
    /// Time of the next event, if any.
    fn peek_ts(&self) -> Option<crate::model::event::Timestamp>;
    /// Appends the next event's line to `out`; false when none is left.
    fn write_next(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool>;
}

/// Sorted events in memory, formatted ahead in parallel batches.
struct SliceLines<'a> {
    events: &'a [LogEvent],
    /// The batch covers `events[start..start + batch.ends.len()]`.
    start: usize,
    next: usize,
    batch: Formatted,
}

impl EventLines for SliceLines<'_> {
    fn peek_ts(&self) -> Option<crate::model::event::Timestamp> {
        self.events.get(self.next).map(|e| e.ts)
    }

    fn write_next(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        if self.next >= self.events.len() {
            return Ok(false);
        }
        if self.next >= self.start + self.batch.ends.len() {
            self.start = self.next;
            let end = (self.start + FORMAT_BATCH).min(self.events.len());
            self.batch = format_parallel(self.events.get(self.start..end).unwrap_or(&[]));
        }
        let i = self.next - self.start;
        let from = match i.checked_sub(1) {
            Some(p) => self.batch.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let to = self.batch.ends.get(i).copied().unwrap_or(from);
        out.extend_from_slice(self.batch.bytes.get(from..to).unwrap_or(&[]));
        self.next += 1;
        Ok(true)
    }
}

impl EventLines for crate::collect::event_store::EventCursor<'_> {
    fn peek_ts(&self) -> Option<crate::model::event::Timestamp> {
        crate::collect::event_store::EventCursor::peek_ts(self)
    }

    fn write_next(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
        crate::collect::event_store::EventCursor::write_next(self, out)
    }
}

/// Writes event lines and connection records as one stream in time order
/// (events first at equal times), both already sorted.
fn interleave(
    events: &mut dyn EventLines,
    flows: &crate::collect::flow_store::SortedFlows,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 20);
    flows.for_each(|f| {
        while events.peek_ts().is_some_and(|t| t <= f.ts) {
            events.write_next(&mut buf)?;
        }
        write_flow_event(f, &mut buf);
        if buf.len() >= 1 << 20 {
            sink.write_all(&buf)?;
            buf.clear();
        }
        Ok(())
    })?;
    while events.write_next(&mut buf)? {
        if buf.len() >= 1 << 20 {
            sink.write_all(&buf)?;
            buf.clear();
        }
    }
    sink.write_all(&buf)?;
    sink.flush()
}

/// Writes log events and connection records as one ECS JSON Lines stream in
/// time order (events first at equal times), both already sorted. Events
/// are formatted in parallel batches; the output is the same bytes as
/// writing them one by one.
pub fn write_merged(
    events: &[LogEvent],
    flows: &crate::collect::flow_store::SortedFlows,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut lines = SliceLines {
        events,
        start: 0,
        next: 0,
        batch: Formatted {
            bytes: Vec::new(),
            ends: Vec::new(),
        },
    };
    interleave(&mut lines, flows, sink)
}

/// Writes formatted log events (from an [`EventStore`](crate::collect::event_store::EventStore))
/// and connection records as one ECS JSON Lines stream in time order: the
/// same bytes as [`write_merged`] over the same events.
pub fn write_sorted_merged(
    events: &crate::collect::event_store::SortedEvents,
    flows: &crate::collect::flow_store::SortedFlows,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    interleave(&mut events.cursor()?, flows, sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Timestamp;

    #[test]
    fn merged_stream_equals_writing_one_by_one() {
        use crate::model::event::{ConnState, Flow, Transport};
        let events: Vec<LogEvent> = (0..(FORMAT_BATCH as i64 * 2 + 77))
            .map(|i| LogEvent {
                ts: Timestamp(i * 10),
                dataset: format!("t{i}").into(),
                ..LogEvent::default()
            })
            .collect();
        let store = crate::collect::flow_store::FlowStore::new(1 << 20);
        let mut flows: Vec<Flow> = [5i64, 10, 200_000, 2_000_000]
            .iter()
            .map(|&t| Flow {
                ts: Timestamp(t),
                uid: format!("C{t}").into(),
                orig_h: [10, 0, 0, 1].into(),
                orig_p: 1,
                resp_h: [10, 0, 0, 2].into(),
                resp_p: 2,
                proto: Transport::Tcp,
                service: None,
                duration: None,
                orig_bytes: None,
                resp_bytes: None,
                conn_state: ConnState::S0,
                missed_bytes: 0,
                history: "S".into(),
                orig_pkts: 1,
                orig_ip_bytes: 40,
                resp_pkts: 0,
                resp_ip_bytes: 0,
                ip_proto: 6,
                origin: None,
            })
            .collect();
        store.push(&mut flows);
        let sorted = store.finish().unwrap();
        let mut want = Vec::new();
        let mut it = events.iter().peekable();
        for f in sorted.to_vec().unwrap() {
            while let Some(e) = it.next_if(|e| e.ts <= f.ts) {
                write_event(e, &mut want);
            }
            write_flow_event(&f, &mut want);
        }
        for e in it {
            write_event(e, &mut want);
        }
        let mut got = Vec::new();
        write_merged(&events, &sorted, &mut got).unwrap();
        assert_eq!(got.len(), want.len());
        assert!(got == want);
    }
}
