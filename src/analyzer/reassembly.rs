//! TCP segments in, in-order byte streams out: the first step of the
//! protocol analyzers, run only on the connections they follow.
//!
//! Each direction of a followed connection has a [`Direction`]: segments
//! arriving in order are delivered at once; a segment from beyond the next
//! expected byte is held (a few per direction) until the hole fills. When
//! the hole does not fill (too many segments held, the memory budget spent,
//! the connection ending) the missing bytes are reported as a
//! [`Chunk::Gap`], never guessed, and delivery resumes after them.
//! Retransmitted bytes are delivered once.
//!
//! [`Framer`] then cuts a direction's bytes into the messages of a
//! length-prefixed protocol (NetBIOS session messages, DCE-RPC PDUs),
//! holding at most one message's head: a message larger than the cap is
//! handed over cut to the cap and the rest of it skipped as it arrives.
//!
//! Every byte held counts against a [`Budget`] shared by all connections
//! of a capture; what a full budget refuses is dropped and counted.

use std::collections::BTreeMap;

/// Limits of the analyzers' memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Out-of-order segments held per direction before a gap is declared.
    pub max_held_segments: usize,
    /// Largest message head buffered per direction (bytes).
    pub max_message: usize,
    /// Bytes held by every followed connection together.
    pub global_bytes: usize,
    /// Connections followed at once; more are counted and not followed.
    pub max_flows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_held_segments: 32,
            max_message: 256 << 10,
            global_bytes: 64 << 20,
            max_flows: 65_536,
        }
    }
}

/// Bytes held by all followed connections, against [`Limits::global_bytes`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    /// Bytes held now.
    pub used: usize,
    /// Most bytes ever held at once.
    pub peak: usize,
    /// The cap.
    pub cap: usize,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Budget {
        Budget {
            used: 0,
            peak: 0,
            cap,
        }
    }

    /// Takes `n` bytes if they fit.
    pub fn take(&mut self, n: usize) -> bool {
        match self.used.checked_add(n) {
            Some(u) if u <= self.cap => {
                self.used = u;
                self.peak = self.peak.max(u);
                true
            }
            _ => false,
        }
    }

    /// Gives `n` bytes back.
    pub fn give(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// What reassembly did that was not plain delivery: the analyzers' account
/// of everything dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReassemblyCounters {
    /// Holes declared in a direction's stream.
    pub gaps: u64,
    /// Bytes those holes covered.
    pub gap_bytes: u64,
    /// Retransmitted bytes already delivered, dropped.
    pub duplicate_bytes: u64,
    /// Segments not held because the global budget was spent.
    pub budget_drops: u64,
    /// Message bytes skipped because a message exceeded the per-flow cap.
    pub oversize_bytes: u64,
    /// Bytes skipped while looking for the next message after a gap.
    pub resync_bytes: u64,
    /// Connections not followed because too many were followed already.
    pub flows_refused: u64,
}

impl ReassemblyCounters {
    /// Adds `o`'s counts to these.
    pub fn add(&mut self, o: &ReassemblyCounters) {
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.duplicate_bytes += o.duplicate_bytes;
        self.budget_drops += o.budget_drops;
        self.oversize_bytes += o.oversize_bytes;
        self.resync_bytes += o.resync_bytes;
        self.flows_refused += o.flows_refused;
    }
}

/// A piece of one direction's stream, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes that follow the previous chunk.
    Data(&'a [u8]),
    /// This many bytes are missing here.
    Gap(u64),
}

/// Reassembly state of one direction of a connection.
#[derive(Debug, Default)]
pub struct Direction {
    /// Next sequence number expected, once known.
    next: Option<u32>,
    /// Segments from beyond `next`, by their distance from `next` at arrival.
    held: BTreeMap<u32, Vec<u8>>,
    /// Bytes in `held`.
    held_bytes: usize,
}

/// Distance from `a` forward to `b` in sequence space, if `b` is ahead
/// by less than half the space.
fn ahead(a: u32, b: u32) -> Option<u32> {
    let d = b.wrapping_sub(a);
    (d < 0x8000_0000).then_some(d)
}

impl Direction {
    /// Accounts one segment (`syn` from the flags) and delivers whatever it
    /// makes contiguous to `out`.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        payload: &[u8],
        limits: &Limits,
        budget: &mut Budget,
        counters: &mut ReassemblyCounters,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let seq = if syn {
            if self.next.is_none() {
                self.next = Some(seq.wrapping_add(1));
            }
            seq.wrapping_add(1)
        } else {
            seq
        };
        if payload.is_empty() {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        let len = payload.len() as u32;
        match ahead(next, seq) {
            Some(0) => {
                out(Chunk::Data(payload));
                self.next = Some(next.wrapping_add(len));
            }
            Some(_) => {
                // From beyond the next expected byte: hold it, or give up the hole.
                if self.held.len() < limits.max_held_segments && budget.take(payload.len()) {
                    self.held_bytes += payload.len();
                    let key = seq;
                    if let Some(old) = self.held.insert(key, payload.to_vec()) {
                        self.held_bytes -= old.len();
                        budget.give(old.len());
                    }
                    return;
                }
                if self.held.len() < limits.max_held_segments {
                    counters.budget_drops += 1;
                }
                // Each turn fills the hole before the nearest held segment
                // (delivering it) or reaches this one.
                loop {
                    self.skip_to_held_or(seq, counters, out);
                    self.drain(budget, counters, out);
                    let Some(n) = self.next else {
                        return;
                    };
                    if ahead(n, seq).is_some_and(|d| d > 0) {
                        continue;
                    }
                    let over = n.wrapping_sub(seq);
                    if let Some(rest) = payload.get(over as usize..)
                        && !rest.is_empty()
                    {
                        out(Chunk::Data(rest));
                        self.next = Some(n.wrapping_add(rest.len() as u32));
                    }
                    break;
                }
            }
            None => {
                // Starts before the next expected byte: a retransmission,
                // perhaps carrying new bytes at its end.
                let dup = next.wrapping_sub(seq);
                if dup >= len {
                    counters.duplicate_bytes += u64::from(len);
                    return;
                }
                counters.duplicate_bytes += u64::from(dup);
                if let Some(rest) = payload.get(dup as usize..) {
                    out(Chunk::Data(rest));
                    self.next = Some(next.wrapping_add(rest.len() as u32));
                }
            }
        }
        self.drain(budget, counters, out);
    }

    /// Declares a gap up to the first held segment (or `fallback` when
    /// that is nearer) and delivers what then fits.
    fn skip_to_held_or(
        &mut self,
        fallback: u32,
        counters: &mut ReassemblyCounters,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let Some(next) = self.next else {
            return;
        };
        let first_held = self
            .held
            .keys()
            .filter_map(|k| ahead(next, *k).map(|d| (d, *k)))
            .min();
        let target = match (first_held, ahead(next, fallback)) {
            (Some((d, k)), Some(f)) => {
                if d <= f {
                    k
                } else {
                    fallback
                }
            }
            (Some((_, k)), None) => k,
            (None, _) => fallback,
        };
        let missing = target.wrapping_sub(next);
        if missing > 0 && missing < 0x8000_0000 {
            counters.gaps += 1;
            counters.gap_bytes += u64::from(missing);
            out(Chunk::Gap(u64::from(missing)));
            self.next = Some(target);
        }
    }

    /// Delivers held segments that have become contiguous.
    fn drain(
        &mut self,
        budget: &mut Budget,
        counters: &mut ReassemblyCounters,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        loop {
            let Some(next) = self.next else {
                return;
            };
            // A held segment starting at or before `next`.
            let found = self
                .held
                .keys()
                .copied()
                .find(|k| ahead(*k, next).is_some());
            let Some(k) = found else {
                return;
            };
            let Some(seg) = self.held.remove(&k) else {
                return;
            };
            self.held_bytes -= seg.len();
            budget.give(seg.len());
            let over = next.wrapping_sub(k) as usize;
            match seg.get(over..) {
                Some(rest) if !rest.is_empty() => {
                    counters.duplicate_bytes += over as u64;
                    out(Chunk::Data(rest));
                    self.next = Some(next.wrapping_add(rest.len() as u32));
                }
                _ => counters.duplicate_bytes += seg.len() as u64,
            }
        }
    }

    /// The connection ended: what is still held is delivered after gaps.
    pub fn finish(
        &mut self,
        budget: &mut Budget,
        counters: &mut ReassemblyCounters,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        while !self.held.is_empty() {
            let before = self.held.len();
            if let Some(n) = self.next {
                self.skip_to_held_or(n.wrapping_add(0x7fff_ffff), counters, out);
            }
            self.drain(budget, counters, out);
            if self.held.len() == before {
                // Nothing reachable: drop the rest.
                for (_, seg) in std::mem::take(&mut self.held) {
                    budget.give(seg.len());
                    counters.gap_bytes += seg.len() as u64;
                }
                self.held_bytes = 0;
            }
        }
    }

    /// Bytes this direction holds.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }
}

/// How a protocol's messages are delimited.
pub trait Framing {
    /// Length of the message starting at `head` (header included): `None`
    /// when more bytes are needed to tell, `Some(Err(()))` when `head` is
    /// not the start of a message.
    fn message_len(&self, head: &[u8]) -> Option<Result<usize, ()>>;
}

/// Cuts one direction's stream into messages of a [`Framing`].
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Length of the message being gathered, once known.
    want: Option<usize>,
    /// Bytes of an oversize message still to skip.
    skip: u64,
    /// True after a gap until a message start is found.
    lost: bool,
}

/// Bytes gathered before a framing must tell a message's length.
const HEADER_PEEK: usize = 64;

impl Framer {
    /// Feeds a chunk; each complete message (or head of an oversize one,
    /// with `false` for complete) goes to `on_msg`.
    pub fn feed(
        &mut self,
        chunk: Chunk<'_>,
        framing: &dyn Framing,
        limits: &Limits,
        budget: &mut Budget,
        counters: &mut ReassemblyCounters,
        on_msg: &mut dyn FnMut(&[u8], bool),
    ) {
        let mut data = match chunk {
            Chunk::Gap(n) => {
                if self.skip >= n && self.buf.is_empty() {
                    // The hole falls inside a message being skipped anyway.
                    self.skip -= n;
                    return;
                }
                self.skip = 0;
                self.reset(budget);
                self.lost = true;
                return;
            }
            Chunk::Data(d) => d,
        };
        loop {
            if self.skip > 0 {
                let n = self.skip.min(data.len() as u64) as usize;
                if n == 0 {
                    return;
                }
                self.skip -= n as u64;
                counters.oversize_bytes += n as u64;
                data = data.get(n..).unwrap_or(&[]);
                continue;
            }
            if self.lost {
                // Look for a plausible message start in what arrived.
                let mut at = 0;
                while at < data.len() {
                    match framing.message_len(data.get(at..).unwrap_or(&[])) {
                        Some(Ok(_)) | None => break,
                        Some(Err(())) => at += 1,
                    }
                }
                counters.resync_bytes += at as u64;
                data = data.get(at..).unwrap_or(&[]);
                if data.is_empty() {
                    return;
                }
                self.lost = false;
            }
            // A whole message at the front of the chunk, nothing buffered:
            // handed over in place, never copied.
            if self.buf.is_empty()
                && self.want.is_none()
                && let Some(Ok(len)) = framing.message_len(data)
                && let Some(msg) = data.get(..len.max(1))
                && msg.len() <= limits.max_message
            {
                on_msg(msg, true);
                data = data.get(msg.len()..).unwrap_or(&[]);
                continue;
            }
            if self.want.is_none() && !self.buf.is_empty() {
                match framing.message_len(&self.buf) {
                    Some(Ok(len)) => self.want = Some(len.max(1)),
                    Some(Err(())) => {
                        counters.resync_bytes += self.buf.len() as u64;
                        self.reset(budget);
                        self.lost = true;
                        continue;
                    }
                    None if self.buf.len() >= HEADER_PEEK => {
                        counters.resync_bytes += self.buf.len() as u64;
                        self.reset(budget);
                        self.lost = true;
                        continue;
                    }
                    None => {}
                }
            }
            if let Some(want) = self.want {
                let cap = want.min(limits.max_message);
                if self.buf.len() >= cap {
                    let complete = want <= limits.max_message;
                    on_msg(self.buf.get(..cap).unwrap_or(&[]), complete);
                    let consumed = want.min(self.buf.len());
                    self.buf.drain(..consumed);
                    budget.give(consumed);
                    self.skip = (want - consumed) as u64;
                    self.want = None;
                    continue;
                }
            }
            if data.is_empty() {
                return;
            }
            let limit = match self.want {
                Some(w) => w.min(limits.max_message),
                None => HEADER_PEEK,
            };
            let n = limit.saturating_sub(self.buf.len()).min(data.len());
            if n == 0 {
                return;
            }
            if !budget.take(n) {
                counters.budget_drops += 1;
                self.reset(budget);
                self.lost = true;
                return;
            }
            self.buf.extend_from_slice(data.get(..n).unwrap_or(&[]));
            data = data.get(n..).unwrap_or(&[]);
        }
    }

    /// Drops what is buffered and gives its bytes back.
    pub fn reset(&mut self, budget: &mut Budget) {
        budget.give(self.buf.len());
        self.buf.clear();
        self.buf.shrink_to(4096);
        self.want = None;
    }

    /// Bytes buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &mut Direction, segs: &[(u32, &[u8])]) -> (Vec<u8>, Vec<u64>, ReassemblyCounters) {
        let limits = Limits {
            max_held_segments: 2,
            ..Limits::default()
        };
        let mut budget = Budget::new(1 << 20);
        let mut c = ReassemblyCounters::default();
        let mut data = Vec::new();
        let mut gaps = Vec::new();
        let mut out = |ch: Chunk<'_>| match ch {
            Chunk::Data(d) => data.extend_from_slice(d),
            Chunk::Gap(n) => gaps.push(n),
        };
        for (seq, p) in segs {
            dir.segment(*seq, false, p, &limits, &mut budget, &mut c, &mut out);
        }
        dir.finish(&mut budget, &mut c, &mut out);
        assert_eq!(budget.used, 0);
        (data, gaps, c)
    }

    #[test]
    fn out_of_order_and_retransmitted_segments_come_out_once_in_order() {
        let mut d = Direction::default();
        let (data, gaps, c) = run(
            &mut d,
            &[
                (100, b"abc"),
                (106, b"ghi"),
                (103, b"def"),
                (103, b"def"),
                (104, b"efgX"),
            ],
        );
        assert_eq!(data, b"abcdefghi");
        assert!(gaps.is_empty());
        assert!(c.duplicate_bytes >= 3);
    }

    #[test]
    fn a_hole_that_never_fills_is_a_gap_not_a_guess() {
        let mut d = Direction::default();
        let (data, gaps, c) = run(&mut d, &[(0, b"ab"), (10, b"kl"), (20, b"uv"), (30, b"EF")]);
        assert_eq!(data, b"abkluvEF");
        assert_eq!(gaps, vec![8, 8, 8]);
        assert_eq!(c.gaps, 3);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut d = Direction::default();
        let (data, gaps, _) = run(&mut d, &[(u32::MAX - 1, b"ab"), (0, b"cd")]);
        assert_eq!(data, b"abcd");
        assert!(gaps.is_empty());
    }

    struct Len16;
    impl Framing for Len16 {
        fn message_len(&self, head: &[u8]) -> Option<Result<usize, ()>> {
            let b: [u8; 2] = head.get(..2)?.try_into().ok()?;
            if head.first() == Some(&0xff) {
                return Some(Err(()));
            }
            Some(Ok(usize::from(u16::from_be_bytes(b)) + 2))
        }
    }

    #[test]
    fn framer_cuts_messages_caps_big_ones_and_resyncs_after_gaps() {
        let limits = Limits {
            max_message: 6,
            ..Limits::default()
        };
        let mut budget = Budget::new(1 << 20);
        let mut c = ReassemblyCounters::default();
        let mut f = Framer::default();
        let mut got: Vec<(Vec<u8>, bool)> = Vec::new();
        let stream: &[Chunk<'_>] = &[
            Chunk::Data(&[0, 2, b'a']),
            Chunk::Data(&[b'b', 0, 9, 1, 2, 3, 4]),
            Chunk::Data(&[5, 6, 7, 8, 9, 0, 1, b'z']),
            Chunk::Gap(5),
            Chunk::Data(&[0xff, 0xff, 0, 1, b'q']),
        ];
        for ch in stream {
            f.feed(
                *ch,
                &Len16,
                &limits,
                &mut budget,
                &mut c,
                &mut |m, complete| got.push((m.to_vec(), complete)),
            );
        }
        assert_eq!(
            got,
            vec![
                (vec![0, 2, b'a', b'b'], true),
                (vec![0, 9, 1, 2, 3, 4], false),
                (vec![0, 1, b'z'], true),
                (vec![0, 1, b'q'], true),
            ]
        );
        assert_eq!(c.oversize_bytes, 5);
        assert_eq!(c.resync_bytes, 2);
        assert_eq!(budget.used, 0);
    }
}
