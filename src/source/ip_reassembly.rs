//! IP fragment reassembly for the protocol analyzers.
//!
//! The flow table counts a fragmented datagram in its connection (as Zeek
//! does) without its bytes; this joins the fragments of one datagram,
//! IPv4 or IPv6, so the analyzers see it whole (a DNS answer or a Kerberos
//! reply too big for one packet). It sits beside the flow table on the
//! reading thread, in file order, so its output never depends on threads.
//!
//! - Datagrams are keyed by source, destination, protocol and
//!   identification, with the holes between the fragments held tracked.
//! - Overlaps: the bytes held first win, as Zeek's reassembler keeps them
//!   (it reports `fragment_inconsistency` when the new bytes differ and
//!   joins the datagram anyway). Overlaps, and overlaps whose bytes
//!   differed, are counted.
//! - Limits: a datagram ends at 65,535 bytes; all held datagrams together
//!   are charged to a byte budget and a count, and when either is full the
//!   oldest is given up. A datagram still incomplete after the timeout
//!   (five minutes of capture time, Zeek's `frag_timeout` default) is given
//!   up. Everything given up is counted by reason ([`FragCounters`]).

use crate::model::event::Timestamp;
use crate::source::decode::{FragmentPiece, Packet};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Largest datagram put back together: 65,535 bytes after the IP header.
pub const MAX_DATAGRAM: u32 = 65_535;

/// Bytes charged for a held datagram besides its buffer.
const ENTRY_COST: usize = 128;

/// Limits of one reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Capture time after its first fragment that a datagram may wait.
    pub timeout_ns: i64,
    /// Bytes all held datagrams may use together.
    pub max_bytes: usize,
    /// Datagrams held at once.
    pub max_datagrams: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            timeout_ns: 300 * 1_000_000_000,
            max_bytes: 16 << 20,
            max_datagrams: 8192,
        }
    }
}

/// What the reassembler did, for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragCounters {
    /// Fragments seen.
    pub fragments: u64,
    /// Datagrams put back together and handed on.
    pub joined: u64,
    /// Fragments that overlapped bytes already held (the first kept).
    pub overlaps: u64,
    /// Overlaps whose bytes differed from those held.
    pub inconsistent: u64,
    /// Datagrams given up: incomplete after the timeout.
    pub timed_out: u64,
    /// Datagrams given up: the memory budget or datagram count was full,
    /// or the datagram would pass 65,535 bytes.
    pub over_cap: u64,
    /// Datagrams given up: snapped fragments, conflicting ends.
    pub malformed: u64,
    /// Datagrams still incomplete at the end of the capture.
    pub unfinished: u64,
    /// Most bytes held at once.
    pub peak_bytes: u64,
}

impl FragCounters {
    /// Adds another reassembler's counts (the peak is the larger).
    pub fn add(&mut self, o: &FragCounters) {
        self.fragments += o.fragments;
        self.joined += o.joined;
        self.overlaps += o.overlaps;
        self.inconsistent += o.inconsistent;
        self.timed_out += o.timed_out;
        self.over_cap += o.over_cap;
        self.malformed += o.malformed;
        self.unfinished += o.unfinished;
        self.peak_bytes = self.peak_bytes.max(o.peak_bytes);
    }
}

/// A datagram put back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The packet of the fragment that completed it (addresses, time, offset).
    pub packet: Packet,
    /// Time of the datagram's first fragment (offset 0).
    pub first_ts: Timestamp,
    /// The datagram's protocol.
    pub proto: u8,
    /// The datagram's bytes after the IP header (and IPv6 Fragment header).
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    proto: u8,
    v6: bool,
}

/// One datagram being put back together.
struct Held {
    serial: u64,
    buf: Vec<u8>,
    /// Byte ranges held: sorted, disjoint, not touching.
    have: Vec<(u32, u32)>,
    /// The datagram's length, once its last fragment is seen.
    end: Option<u32>,
    /// Time of the fragment at offset 0, once seen.
    first_ts: Option<Timestamp>,
    /// Bytes charged to the budget.
    charged: usize,
}

impl Held {
    fn cost(&self) -> usize {
        ENTRY_COST + self.buf.len() + self.have.len() * 8
    }

    fn complete(&self) -> bool {
        self.end.is_some_and(|e| self.have.as_slice() == [(0, e)])
    }
}

/// Puts IP fragments back together (see the module notes).
pub struct Reassembler {
    cfg: ReassemblyConfig,
    held: FxHashMap<Key, Held>,
    /// Datagrams in the order they were started, for the timeout and for
    /// giving up the oldest; entries whose serial no longer matches are stale.
    order: VecDeque<(Timestamp, Key, u64)>,
    serial: u64,
    used: usize,
    counters: FragCounters,
}

/// Why a held datagram is let go.
#[derive(Clone, Copy)]
enum GiveUp {
    Timeout,
    Cap,
    Malformed,
}

impl Reassembler {
    /// A reassembler with these limits.
    pub fn new(cfg: ReassemblyConfig) -> Reassembler {
        Reassembler {
            cfg,
            held: FxHashMap::default(),
            order: VecDeque::new(),
            serial: 0,
            used: 0,
            counters: FragCounters::default(),
        }
    }

    /// Datagrams held now and bytes charged for them.
    pub fn state(&self) -> (usize, usize) {
        (self.held.len(), self.used)
    }

    /// Ends the capture: what is still held is counted as unfinished.
    pub fn finish(mut self) -> FragCounters {
        self.counters.unfinished += self.held.len() as u64;
        self.counters
    }

    /// Adds one fragment (`p` its decoded packet); returns the datagram
    /// when this fragment completes it.
    pub fn add(&mut self, p: &Packet, piece: &FragmentPiece<'_>) -> Option<Joined> {
        self.counters.fragments += 1;
        self.expire(p.ts);
        let key = Key {
            src: p.src,
            dst: p.dst,
            id: piece.id,
            proto: piece.proto,
            v6: p.v6,
        };
        let len = u32::try_from(piece.bytes.len()).unwrap_or(u32::MAX);
        let start = piece.offset;
        let stop = start.saturating_add(len);
        if len < piece.claimed {
            // A snapped fragment leaves a hole that never fills.
            self.drop_key(&key, GiveUp::Malformed, true);
            return None;
        }
        if stop > MAX_DATAGRAM {
            self.drop_key(&key, GiveUp::Cap, true);
            return None;
        }
        if !self.held.contains_key(&key) {
            while self.held.len() >= self.cfg.max_datagrams.max(1) {
                if !self.give_up_oldest(None) {
                    break;
                }
            }
            self.serial += 1;
            let mut h = Held {
                serial: self.serial,
                buf: Vec::new(),
                have: Vec::new(),
                end: None,
                first_ts: None,
                charged: 0,
            };
            h.charged = h.cost();
            self.used += h.charged;
            self.held.insert(key, h);
            self.order.push_back((p.ts, key, self.serial));
            self.compact_order();
        }
        // Conflicting ends: a last fragment that disagrees with another, or
        // bytes past the end.
        let bad_end = self.held.get(&key).is_some_and(|h| {
            let held_top = h.have.last().map_or(0, |r| r.1);
            match (h.end, piece.more) {
                (Some(e), false) => e != stop,
                (Some(e), true) => stop > e,
                (None, false) => held_top > stop,
                (None, true) => false,
            }
        });
        if bad_end {
            self.drop_key(&key, GiveUp::Malformed, false);
            return None;
        }
        // Room for the buffer to grow: give up the oldest others first.
        let grow = self
            .held
            .get(&key)
            .map_or(0, |h| (stop as usize).saturating_sub(h.buf.len()))
            + 8; // a range entry more at most

        while self.used + grow > self.cfg.max_bytes {
            if !self.give_up_oldest(Some(&key)) {
                self.drop_key(&key, GiveUp::Cap, false);
                return None;
            }
        }
        let h = self.held.get_mut(&key)?;
        if !piece.more {
            h.end = Some(stop);
        }
        if start == 0 && h.first_ts.is_none() {
            h.first_ts = Some(p.ts);
        }
        if h.buf.len() < stop as usize {
            h.buf.resize(stop as usize, 0);
        }
        let (overlap, differs) = fill(h, start, stop, piece.bytes);
        self.counters.overlaps += u64::from(overlap);
        self.counters.inconsistent += u64::from(differs);
        let cost = h.cost();
        self.used = self.used + cost - h.charged;
        h.charged = cost;
        self.counters.peak_bytes = self.counters.peak_bytes.max(self.used as u64);
        if !h.complete() {
            return None;
        }
        let h = self.held.remove(&key)?;
        self.used -= h.charged;
        self.counters.joined += 1;
        let mut packet = *p;
        packet.proto = key.proto;
        Some(Joined {
            packet,
            first_ts: h.first_ts.unwrap_or(p.ts),
            proto: key.proto,
            bytes: h.buf,
        })
    }

    /// Gives up datagrams whose first fragment is older than the timeout.
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(ts, key, serial)) = self.order.front() {
            let live = self.held.get(&key).is_some_and(|h| h.serial == serial);
            if !live {
                self.order.pop_front();
                continue;
            }
            if now.0.saturating_sub(ts.0) <= self.cfg.timeout_ns {
                break;
            }
            self.order.pop_front();
            self.drop_key(&key, GiveUp::Timeout, false);
        }
    }

    /// Gives up the oldest datagram held other than `keep`; false when
    /// there is none.
    fn give_up_oldest(&mut self, keep: Option<&Key>) -> bool {
        let mut skipped = None;
        let mut found = false;
        while let Some((ts, key, serial)) = self.order.pop_front() {
            let live = self.held.get(&key).is_some_and(|h| h.serial == serial);
            if !live {
                continue;
            }
            if Some(&key) == keep {
                skipped = Some((ts, key, serial));
                continue;
            }
            self.drop_key(&key, GiveUp::Cap, false);
            found = true;
            break;
        }
        if let Some(s) = skipped {
            self.order.push_front(s);
        }
        found
    }

    /// Lets go of the datagram held under `key`, counted under `why`; with
    /// `always`, counts even when nothing was held (a fragment refused).
    fn drop_key(&mut self, key: &Key, why: GiveUp, always: bool) {
        let had = match self.held.remove(key) {
            Some(h) => {
                self.used -= h.charged;
                true
            }
            None => false,
        };
        if had || always {
            match why {
                GiveUp::Timeout => self.counters.timed_out += 1,
                GiveUp::Cap => self.counters.over_cap += 1,
                GiveUp::Malformed => self.counters.malformed += 1,
            }
        }
    }

    /// Drops stale entries from the order queue when they outnumber the
    /// live ones, so it stays bounded by the datagrams held.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.held.len() + 64 {
            let held = &self.held;
            self.order
                .retain(|(_, k, s)| held.get(k).is_some_and(|h| h.serial == *s));
        }
    }
}

/// Copies `bytes` (for `start..stop`) into the holes of `h`, keeping bytes
/// already held; returns whether it overlapped held bytes and whether any
/// overlapped byte differed. Merges the range into `h.have`.
fn fill(h: &mut Held, start: u32, stop: u32, bytes: &[u8]) -> (bool, bool) {
    let (mut overlap, mut differs) = (false, false);
    let mut at = start;
    for &(a, b) in &h.have {
        if b <= at || a >= stop {
            continue;
        }
        if a > at {
            copy(&mut h.buf, at, a, start, bytes);
        }
        let (oa, ob) = (a.max(at), b.min(stop));
        overlap = true;
        let held = h.buf.get(oa as usize..ob as usize);
        let new = bytes.get((oa - start) as usize..(ob - start) as usize);
        differs |= held != new;
        at = ob;
        if at >= stop {
            break;
        }
    }
    if at < stop {
        copy(&mut h.buf, at, stop, start, bytes);
    }
    if start < stop {
        merge(&mut h.have, start, stop);
    }
    (overlap, differs)
}

/// Copies the part `from..to` of a piece starting at `start`.
fn copy(buf: &mut [u8], from: u32, to: u32, start: u32, bytes: &[u8]) {
    if let (Some(dst), Some(src)) = (
        buf.get_mut(from as usize..to as usize),
        bytes.get((from - start) as usize..(to - start) as usize),
    ) {
        dst.copy_from_slice(src);
    }
}

/// Adds `start..stop` to sorted disjoint ranges, joining those it touches.
fn merge(have: &mut Vec<(u32, u32)>, start: u32, stop: u32) {
    let (mut s, mut e) = (start, stop);
    let mut out = Vec::with_capacity(have.len() + 1);
    let mut placed = false;
    for &(a, b) in have.iter() {
        if b < s {
            out.push((a, b));
        } else if a > e {
            if !placed {
                out.push((s, e));
                placed = true;
            }
            out.push((a, b));
        } else {
            s = s.min(a);
            e = e.max(b);
        }
    }
    if !placed {
        out.push((s, e));
    }
    *have = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::decode::Fragment;

    fn packet(ts: i64) -> Packet {
        Packet {
            ts: Timestamp(ts),
            src: [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            dst: [10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            v6: false,
            proto: 17,
            sport: 0,
            dport: 0,
            flags: 0,
            seq: 0,
            ack: 0,
            window: 0,
            payload_len: 0,
            ip_len: 0,
            fragment: Fragment::Later(7),
            wire_len: 0,
            offset: 0,
        }
    }

    fn piece(id: u32, offset: u32, more: bool, bytes: &[u8]) -> FragmentPiece<'_> {
        FragmentPiece {
            offset,
            more,
            bytes,
            claimed: bytes.len() as u32,
            proto: 17,
            id,
        }
    }

    #[test]
    fn out_of_order_with_duplicate_and_first_wins_overlap() {
        let data: Vec<u8> = (0..40u8).collect();
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let p = packet(0);
        assert!(r.add(&p, &piece(1, 24, false, &data[24..])).is_none());
        assert!(r.add(&p, &piece(1, 8, true, &data[8..16])).is_none());
        assert!(r.add(&p, &piece(1, 8, true, &data[8..16])).is_none());
        // An overlap with other bytes: the held ones stay.
        assert!(r.add(&p, &piece(1, 16, true, &[0xee; 16])).is_none());
        let j = r.add(&p, &piece(1, 0, true, &data[..8])).unwrap();
        let mut want = data.clone();
        want[16..24].fill(0xee);
        assert_eq!(j.bytes, want);
        let c = r.finish();
        assert_eq!(
            (c.fragments, c.joined, c.overlaps, c.inconsistent),
            (5, 1, 2, 1)
        );
    }

    #[test]
    fn flood_stays_in_budget_and_times_out() {
        let cfg = ReassemblyConfig {
            timeout_ns: 1_000,
            max_bytes: 64 << 10,
            max_datagrams: 64,
        };
        let mut r = Reassembler::new(cfg);
        let chunk = [0u8; 1024];
        for i in 0..10_000u32 {
            // Never-completed datagrams far into the offset space.
            let _ = r.add(&packet(0), &piece(i, 8 * (i % 7000), true, &chunk));
            let (n, used) = r.state();
            assert!(n <= 64 && used <= 64 << 10, "{n} {used}");
        }
        assert!(r.order.len() <= 2 * 64 + 65);
        let _ = r.add(&packet(5_000), &piece(99_999, 0, true, &chunk));
        assert_eq!(r.state().0, 1);
        let c = r.finish();
        assert!(c.over_cap > 9_000 && c.timed_out > 0 && c.unfinished == 1);
        assert_eq!(c.joined, 0);
    }

    #[test]
    fn hostile_ends_and_sizes_are_given_up() {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let p = packet(0);
        // Past 65,535 bytes.
        assert!(r.add(&p, &piece(1, 65_528, false, &[0; 16])).is_none());
        // Two different ends.
        assert!(r.add(&p, &piece(2, 16, false, &[0; 8])).is_none());
        assert!(r.add(&p, &piece(2, 32, false, &[0; 8])).is_none());
        // Snapped.
        let mut s = piece(3, 0, true, &[0; 8]);
        s.claimed = 1400;
        assert!(r.add(&p, &s).is_none());
        let c = r.finish();
        assert_eq!((c.over_cap, c.malformed, c.joined), (1, 2, 0));
    }

    #[test]
    fn merge_joins_touching_ranges() {
        let mut v = vec![(0, 8), (16, 24)];
        merge(&mut v, 8, 16);
        assert_eq!(v, vec![(0, 24)]);
        merge(&mut v, 40, 48);
        merge(&mut v, 30, 32);
        assert_eq!(v, vec![(0, 24), (30, 32), (40, 48)]);
    }
}
