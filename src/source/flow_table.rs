//! Packets in, connection records out: the last step of the capture source.
//!
//! A [`FlowTable`] keys packets by their bidirectional 5-tuple (ICMP by type
//! and code, the way Zeek does), follows TCP state per endpoint, and writes
//! a [`Flow`] with Zeek conn.log semantics when a connection ends: after
//! teardown or reset plus a short delay, after an inactivity timeout, or at
//! the end of the input.
//!
//! Memory is bounded by active flows: flows past their timeout are reaped
//! as capture time advances (amortised over packets), and a hard cap evicts
//! the least recently active flows when an attack (a SYN flood with random
//! ports) would otherwise grow the table without bound.
//!
//! Everything here depends only on the sequence of packets the table is
//! given, never on wall time or thread scheduling, so records are identical
//! run after run.

use crate::diag::Diagnostics;
use crate::model::event::{
    ConnState, Duration, Flow, Origin, Position, Text, Timestamp, Transport,
};
use crate::source::decode::{Fragment, Packet, ip_proto, tcp_flags};
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// Timeouts and limits of a flow table. Defaults are Zeek's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowConfig {
    /// Idle time after which a TCP connection ends (Zeek `tcp_inactivity_timeout`, 5 min).
    pub tcp_timeout: Duration,
    /// Idle time after which a UDP flow ends (Zeek `udp_inactivity_timeout`, 1 min).
    pub udp_timeout: Duration,
    /// Idle time after which an ICMP flow ends (Zeek `icmp_inactivity_timeout`, 1 min).
    pub icmp_timeout: Duration,
    /// Idle time for other IP protocols (Zeek `unknown_ip_inactivity_timeout`, 1 min).
    pub other_timeout: Duration,
    /// Time a TCP connection lingers after both FINs or a RST, to absorb the
    /// last ACKs (Zeek `tcp_close_delay` / `tcp_reset_delay`, 5 s).
    pub close_delay: Duration,
    /// Most flows held at once; beyond it the least recently active are evicted.
    pub max_flows: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            tcp_timeout: Duration::from_secs(300),
            udp_timeout: Duration::from_secs(60),
            icmp_timeout: Duration::from_secs(60),
            other_timeout: Duration::from_secs(60),
            close_delay: Duration::from_secs(5),
            max_flows: 500_000,
        }
    }
}

/// Bidirectional flow key: the two (address, port) endpoints in a fixed
/// order, so both directions of a conversation find the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    lo: [u8; 16],
    hi: [u8; 16],
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    v6: bool,
}

impl FlowKey {
    /// Builds the key of a packet and says which side sent it (0 = `lo`, 1 = `hi`).
    pub fn of(p: &Packet) -> (FlowKey, u8) {
        let (sport, dport) = ports_for_key(p);
        let a = (p.src, sport);
        let b = (p.dst, dport);
        let (lo, hi, side) = if a <= b { (a, b, 0) } else { (b, a, 1) };
        (
            FlowKey {
                lo: lo.0,
                hi: hi.0,
                lo_port: lo.1,
                hi_port: hi.1,
                proto: p.proto,
                v6: p.v6,
            },
            side,
        )
    }

    /// A 64-bit hash used to pick a partition; stable across runs and machines.
    /// It covers only the address pair and protocol so that IP fragments,
    /// which carry no ports, land where their flow is.
    pub fn partition_hash(p: &Packet) -> u64 {
        let (a, b) = if p.src <= p.dst {
            (p.src, p.dst)
        } else {
            (p.dst, p.src)
        };
        let mut h = mix(0x5151_7a7a_0000_0001, u64::from(p.proto));
        for chunk in a.chunks_exact(8).chain(b.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            h = mix(h, u64::from_le_bytes(w));
        }
        h
    }
}

/// A fixed 64-bit mixing step (multiply-xorshift); deterministic everywhere.
#[inline]
fn mix(h: u64, v: u64) -> u64 {
    let mut x = (h ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 32)
}

/// ICMP request types and the reply type that answers them, for v4 and v6.
const ICMP4_PAIRS: [(u16, u16); 5] = [(8, 0), (13, 14), (15, 16), (17, 18), (10, 9)];
const ICMP6_PAIRS: [(u16, u16); 5] = [(128, 129), (133, 134), (135, 136), (130, 131), (139, 140)];

/// ICMP endpoints, keyed the way Zeek keys them: a request and its reply
/// share one flow whose originator port is the request type and whose
/// responder port is the reply type; other messages use (type, code).
fn ports_for_key(p: &Packet) -> (u16, u16) {
    match p.proto {
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            let pairs = if p.proto == ip_proto::ICMP {
                &ICMP4_PAIRS
            } else {
                &ICMP6_PAIRS
            };
            let t = p.sport;
            if let Some(&(req, rep)) = pairs.iter().find(|(req, _)| *req == t) {
                (req, rep)
            } else if let Some(&(req, rep)) = pairs.iter().find(|(_, rep)| *rep == t) {
                (rep, req)
            } else {
                (t, p.dport)
            }
        }
        _ => (p.sport, p.dport),
    }
}

fn is_icmp_reply(p: &Packet) -> bool {
    let pairs = if p.proto == ip_proto::ICMP {
        &ICMP4_PAIRS
    } else {
        &ICMP6_PAIRS
    };
    pairs.iter().any(|(_, rep)| *rep == p.sport)
}

/// UDP ports where servers listen: a first packet *from* one of these to a
/// high port is a response, so the flow is flipped (as Zeek does).
const UDP_SERVER_PORTS: [u16; 16] = [
    53, 67, 69, 88, 123, 137, 138, 161, 389, 464, 500, 514, 1900, 3544, 5353, 5355,
];

/// TCP endpoint state, after Zeek's `TCP_ENDPOINT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EpState {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// What one side of a flow did.
#[derive(Debug, Clone, Copy)]
struct Endpoint {
    pkts: u64,
    ip_bytes: u64,
    state: EpState,
    seq_started: bool,
    /// Highest sequence number covered by data so far.
    seq_high: u32,
    /// Sequence space covered by data since the first sequence number
    /// (TCP); payload bytes (UDP, ICMP, other protocols).
    seq_span: u64,
    /// Payload bytes that advanced the sequence space (not retransmitted).
    seq_new: u64,
    retransmits: u32,
    zero_windows: u32,
    gaps: u32,
}

impl Endpoint {
    const NEW: Endpoint = Endpoint {
        pkts: 0,
        ip_bytes: 0,
        state: EpState::Inactive,
        seq_started: false,
        seq_high: 0,
        seq_span: 0,
        seq_new: 0,
        retransmits: 0,
        zero_windows: 0,
        gaps: 0,
    };

    fn inactive(&self) -> bool {
        matches!(self.state, EpState::Inactive | EpState::Partial)
    }
}

/// Zeek history letters, recorded once per direction; the repeatable ones
/// (retransmission, zero window, gap) again at 10, 100, 1000... occurrences.
#[derive(Debug, Clone, Copy)]
struct History {
    buf: [u8; 48],
    len: u8,
    /// Bit per (letter, direction) already recorded.
    seen: u32,
}

impl History {
    const NEW: History = History {
        buf: [0; 48],
        len: 0,
        seen: 0,
    };

    fn push(&mut self, c: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = c;
            self.len += 1;
        }
    }

    /// Records `letter` (upper case) for the originator, lower case for the responder.
    fn once(&mut self, letter: u8, orig: bool) {
        let idx = match letter {
            b'S' => 0,
            b'H' => 1,
            b'A' => 2,
            b'D' => 3,
            b'F' => 4,
            b'R' => 5,
            b'Q' => 6,
            _ => 7,
        };
        let bit = 1u32 << (idx * 2 + u32::from(!orig));
        if self.seen & bit == 0 {
            self.seen |= bit;
            self.push(if orig {
                letter
            } else {
                letter.to_ascii_lowercase()
            });
        }
    }

    /// Records a repeatable letter when its count reaches 1, 10, 100, ...
    fn counted(&mut self, letter: u8, orig: bool, count: u32) {
        if matches!(count, 1 | 10 | 100 | 1000 | 10_000 | 100_000 | 1_000_000) {
            self.push(if orig {
                letter
            } else {
                letter.to_ascii_lowercase()
            });
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.buf.get(..usize::from(self.len)).unwrap_or(&[])).unwrap_or("")
    }
}

/// State of one active flow.
#[derive(Debug, Clone, Copy)]
struct FlowState {
    first_ts: Timestamp,
    last_ts: Timestamp,
    /// Which key side (0 = lo, 1 = hi) is the originator.
    orig_side: u8,
    /// Endpoints by role: 0 originator, 1 responder.
    ends: [Endpoint; 2],
    history: History,
    /// Offset of the first packet's record.
    offset: u64,
}

/// A fragmented datagram whose first fragment was seen.
#[derive(Debug, Clone, Copy)]
struct FragEntry {
    key: FlowKey,
    side: u8,
    ts: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FragKey {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    proto: u8,
}

/// Fewest packets between two reaping passes.
const SWEEP_MIN_PACKETS: usize = 16_384;
/// Least capture time between two reaping passes.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// How long a first fragment's mapping is kept for its later fragments.
const FRAG_TIMEOUT: Duration = Duration::from_secs(60);
/// Most fragment mappings kept per table.
const MAX_FRAGS: usize = 65_536;

/// Counters a flow table keeps about its own work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowCounters {
    /// Packets given to the table.
    pub packets: u64,
    /// Flows evicted early because the table was full.
    pub evicted: u64,
    /// Largest number of flows held at once.
    pub peak_flows: u64,
    /// Later IP fragments attributed to their flow.
    pub fragments_joined: u64,
}

/// One active flow and its key, in the table's dense slot array.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: FlowKey,
    state: FlowState,
}

/// Slots per page of the slot array (256 KiB a page).
const PAGE: usize = 1024;

/// The active flows: a dense array of slots, in fixed pages allocated as
/// it grows (no doubling past need, no large block copied and freed), and
/// a hash index of slot numbers, 4 bytes a bucket. Keyed through the
/// index, the open-addressing slack (up to half the buckets under a flood)
/// costs 5 bytes a bucket instead of a whole key and state (257 bytes): at
/// the default cap a SYN flood holds 8 x 62,500 flows in 130 MB instead of
/// 270 MB. Removal moves the last slot into the hole.
#[derive(Default)]
struct Active {
    index: HashTable<u32>,
    pages: Vec<Vec<Slot>>,
    len: usize,
}

fn key_hash(key: &FlowKey) -> u64 {
    FxBuildHasher.hash_one(key)
}

impl Active {
    fn len(&self) -> usize {
        self.len
    }

    fn slot(&self, i: usize) -> Option<&Slot> {
        self.pages.get(i / PAGE)?.get(i % PAGE)
    }

    fn slot_mut(&mut self, i: usize) -> Option<&mut Slot> {
        self.pages.get_mut(i / PAGE)?.get_mut(i % PAGE)
    }

    fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.pages.iter().flatten()
    }

    fn find(&self, key: &FlowKey) -> Option<usize> {
        self.index
            .find(key_hash(key), |&i| {
                self.slot(i as usize).is_some_and(|s| s.key == *key)
            })
            .map(|&i| i as usize)
    }

    fn get_mut(&mut self, key: &FlowKey) -> Option<&mut FlowState> {
        let i = self.find(key)?;
        self.slot_mut(i).map(|s| &mut s.state)
    }

    /// Adds a flow known to be absent.
    fn insert(&mut self, key: FlowKey, state: FlowState) -> Option<&mut FlowState> {
        let i = self.len;
        let p = i / PAGE;
        if p >= self.pages.len() {
            self.pages.push(Vec::with_capacity(PAGE));
        }
        self.pages.get_mut(p)?.push(Slot { key, state });
        self.len += 1;
        let pages = &self.pages;
        self.index.insert_unique(key_hash(&key), i as u32, |&j| {
            let j = j as usize;
            pages
                .get(j / PAGE)
                .and_then(|p| p.get(j % PAGE))
                .map_or(0, |s| key_hash(&s.key))
        });
        self.slot_mut(i).map(|s| &mut s.state)
    }

    /// Takes the last slot off. Its page stays allocated: under a flood the
    /// table empties by a quarter and refills many times a second, and
    /// freeing and allocating those pages each time only feeds the
    /// allocator's freed-but-not-yet-returned memory.
    fn pop(&mut self) -> Option<Slot> {
        let last = self.len.checked_sub(1)?;
        let s = self.pages.get_mut(last / PAGE)?.pop()?;
        self.len = last;
        Some(s)
    }

    /// Removes slot `i` (its index entry must be gone already), moving the
    /// last slot into its place.
    fn take_slot(&mut self, i: usize) -> Option<Slot> {
        let last = self.pop()?;
        if i == self.len {
            return Some(last);
        }
        // The last slot moves from `from` to `i`: repoint its index entry.
        let from = self.len as u32;
        if let Some(entry) = self.index.find_mut(key_hash(&last.key), |&j| j == from) {
            *entry = i as u32;
        }
        let hole = self.slot_mut(i)?;
        Some(std::mem::replace(hole, last))
    }

    /// Removes slot `i`, moving the last slot into its place.
    fn remove_at(&mut self, i: usize) -> Option<Slot> {
        let key = self.slot(i)?.key;
        let at = i as u32;
        if let Ok(entry) = self.index.find_entry(key_hash(&key), |&j| j == at) {
            entry.remove();
        }
        self.take_slot(i)
    }

    /// Removes every flow `over` says is over, returning them.
    fn take_where(&mut self, mut over: impl FnMut(&Slot) -> bool) -> Vec<Slot> {
        let mut done = Vec::new();
        let mut i = 0;
        while let Some(s) = self.slot(i) {
            if over(s) {
                done.extend(self.remove_at(i));
            } else {
                i += 1;
            }
        }
        done
    }

    /// Slot numbers in key order.
    fn by_key(&self) -> Vec<usize> {
        let mut keys: Vec<(FlowKey, u32)> =
            self.slots().zip(0u32..).map(|(s, i)| (s.key, i)).collect();
        keys.sort_unstable();
        keys.into_iter().map(|(_, i)| i as usize).collect()
    }
}

/// A table of active flows that emits finished [`Flow`] records.
pub struct FlowTable {
    cfg: FlowConfig,
    file: Arc<str>,
    flows: Active,
    frags: FxHashMap<FragKey, FragEntry>,
    /// Latest packet time seen: the table's notion of "now".
    clock: Timestamp,
    since_sweep: usize,
    last_sweep: Timestamp,
    finished: Vec<Flow>,
    /// Scratch of [`FlowTable::make_room`], kept between evictions.
    by_age: Vec<(Timestamp, u32)>,
    /// Work counters.
    pub counters: FlowCounters,
}

impl FlowTable {
    /// An empty table whose records will name `file` as their origin.
    pub fn new(mut cfg: FlowConfig, file: Arc<str>) -> FlowTable {
        // Slots are numbered with 32 bits (4 G flows would need a terabyte).
        cfg.max_flows = cfg.max_flows.min(u32::MAX as usize);
        FlowTable {
            cfg,
            file,
            flows: Active::default(),
            frags: FxHashMap::default(),
            clock: Timestamp(i64::MIN),
            since_sweep: 0,
            last_sweep: Timestamp(i64::MIN),
            finished: Vec::new(),
            by_age: Vec::new(),
            counters: FlowCounters::default(),
        }
    }

    /// Number of flows currently held.
    pub fn active(&self) -> usize {
        self.flows.len()
    }

    /// Accounts one packet to its flow, putting the records it finishes
    /// into `out` instead of the table's own buffer: the tables a worker
    /// owns then share one buffer, and an eviction (a quarter of a table
    /// finished at once under a flood) does not leave every table holding
    /// room for that many records.
    pub fn add_into(&mut self, p: &Packet, diag: &mut Diagnostics, out: &mut Vec<Flow>) {
        std::mem::swap(&mut self.finished, out);
        self.add(p, diag);
        std::mem::swap(&mut self.finished, out);
    }

    /// Accounts one packet to its flow.
    pub fn add(&mut self, p: &Packet, diag: &mut Diagnostics) {
        self.counters.packets += 1;
        if p.ts > self.clock {
            self.clock = p.ts;
        }
        self.since_sweep += 1;
        // Reap at most once per second of capture time, and only after enough
        // packets that the pass costs O(1) per packet.
        if self.since_sweep >= SWEEP_MIN_PACKETS.max(self.flows.len())
            && self.clock.0 >= self.last_sweep.0.saturating_add(SWEEP_EVERY.0)
        {
            self.sweep();
        }
        if let Fragment::Later(id) = p.fragment {
            self.add_later_fragment(p, id, diag);
            return;
        }
        let (key, side) = FlowKey::of(p);
        let clock = self.clock;
        let cfg = self.cfg;
        let at = self.flows.find(&key);
        if at.is_none() && self.flows.len() >= self.cfg.max_flows {
            self.make_room();
        }
        match at.and_then(|i| self.flows.slot_mut(i)) {
            Some(slot) => {
                let f = &mut slot.state;
                if is_over(f, key.proto, clock, &cfg) || starts_new_connection(f, p) {
                    let old = std::mem::replace(f, new_flow(p, side));
                    self.finished.push(to_record(&key, &old, &self.file));
                }
                update(f, p, side);
            }
            None => {
                if let Some(f) = self.flows.insert(key, new_flow(p, side)) {
                    update(f, p, side);
                }
                self.counters.peak_flows = self.counters.peak_flows.max(self.flows.len() as u64);
            }
        }
        if let Fragment::First(id) = p.fragment {
            if self.frags.len() < MAX_FRAGS {
                self.frags.insert(
                    FragKey {
                        src: p.src,
                        dst: p.dst,
                        id,
                        proto: p.proto,
                    },
                    FragEntry {
                        key,
                        side,
                        ts: p.ts,
                    },
                );
            } else {
                diag.skip(
                    "IP fragment table full: later fragments not joined",
                    || self.origin(p.offset),
                    String::new,
                );
            }
        }
    }

    fn origin(&self, offset: u64) -> Origin {
        Origin {
            file: self.file.clone(),
            at: Position::Offset(offset),
        }
    }

    fn add_later_fragment(&mut self, p: &Packet, id: u32, diag: &mut Diagnostics) {
        let fk = FragKey {
            src: p.src,
            dst: p.dst,
            id,
            proto: p.proto,
        };
        let entry = self.frags.get(&fk).copied();
        let Some(e) = entry else {
            diag.skip(
                "IP fragment without its first fragment",
                || self.origin(p.offset),
                || format!("id {id}"),
            );
            return;
        };
        let Some(f) = self.flows.get_mut(&e.key) else {
            diag.skip(
                "IP fragment whose flow has ended",
                || self.origin(p.offset),
                || format!("id {id}"),
            );
            return;
        };
        let role = usize::from(e.side != f.orig_side);
        if let Some(ep) = f.ends.get_mut(role) {
            ep.pkts += 1;
            ep.ip_bytes += u64::from(p.ip_len);
        }
        if p.ts > f.last_ts {
            f.last_ts = p.ts;
        }
        self.counters.fragments_joined += 1;
    }

    /// Ends every flow that is over by the table's clock.
    fn sweep(&mut self) {
        self.since_sweep = 0;
        self.last_sweep = self.clock;
        let clock = self.clock;
        let cfg = self.cfg;
        let done = self
            .flows
            .take_where(|s| is_over(&s.state, s.key.proto, clock, &cfg));
        for s in done {
            self.finish(s.key, s.state);
        }
        self.frags
            .retain(|_, e| e.ts.0.saturating_add(FRAG_TIMEOUT.0) >= clock.0);
    }

    /// Frees room when the table is full: first what is over (if capture
    /// time moved since the last reaping pass), then the least recently
    /// active quarter (ties broken by key, so the choice is deterministic).
    /// Evicting a quarter at a time keeps the cost O(1) per packet even
    /// under a flood that keeps the table full.
    fn make_room(&mut self) {
        if self.clock.0 >= self.last_sweep.0.saturating_add(SWEEP_EVERY.0) {
            self.sweep();
        }
        if self.flows.len() < self.cfg.max_flows {
            return;
        }
        // (last activity, slot) of every flow, ordered by (last activity,
        // key); the buffer is kept for the next time.
        let mut by_age = std::mem::take(&mut self.by_age);
        by_age.clear();
        by_age.extend(
            self.flows
                .slots()
                .zip(0u32..)
                .map(|(s, i)| (s.state.last_ts, i)),
        );
        let n = (by_age.len() / 4).max(1);
        if n < by_age.len() {
            let flows = &self.flows;
            let key_of = |i: u32| flows.slot(i as usize).map(|s| s.key);
            by_age.select_nth_unstable_by(n, |a, b| {
                a.0.cmp(&b.0).then_with(|| key_of(a.1).cmp(&key_of(b.1)))
            });
        }
        by_age.truncate(n);
        // Highest slot first: removing a slot moves the last one into its
        // place, and every chosen slot above it is gone by then.
        by_age.sort_unstable_by_key(|&(_, i)| std::cmp::Reverse(i));
        for &(_, i) in &by_age {
            if let Some(s) = self.flows.remove_at(i as usize) {
                self.counters.evicted += 1;
                self.finish(s.key, s.state);
            }
        }
        self.by_age = by_age;
    }

    fn finish(&mut self, key: FlowKey, f: FlowState) {
        self.finished.push(to_record(&key, &f, &self.file));
    }

    /// Ends all flows (end of input) and returns every record produced.
    pub fn finish_all(mut self) -> (Vec<Flow>, FlowCounters) {
        let order = self.flows.by_key();
        self.finished.reserve_exact(order.len());
        for i in order {
            if let Some(s) = self.flows.slot(i) {
                self.finished.push(to_record(&s.key, &s.state, &self.file));
            }
        }
        self.flows = Active::default();
        (self.finished, self.counters)
    }

    /// Number of finished records waiting to be taken.
    pub fn finished_len(&self) -> usize {
        self.finished.len()
    }

    /// Moves the records finished so far into `out` (to stream them out early).
    /// An empty `out` is swapped with the table's buffer rather than
    /// filled, so the buffers' room circulates instead of being allocated
    /// again (an eviction under a flood finishes a quarter of the table).
    pub fn drain_finished(&mut self, out: &mut Vec<Flow>) {
        if out.is_empty() {
            std::mem::swap(out, &mut self.finished);
        } else {
            out.append(&mut self.finished);
        }
    }
}

fn timeout_for(proto: u8, cfg: &FlowConfig) -> Duration {
    match proto {
        ip_proto::TCP => cfg.tcp_timeout,
        ip_proto::UDP => cfg.udp_timeout,
        ip_proto::ICMP | ip_proto::ICMPV6 => cfg.icmp_timeout,
        _ => cfg.other_timeout,
    }
}

/// True when the flow has ended by time `now`.
fn is_over(f: &FlowState, proto: u8, now: Timestamp, cfg: &FlowConfig) -> bool {
    let [o, r] = &f.ends;
    let closing = proto == ip_proto::TCP
        && (o.state == EpState::Reset
            || r.state == EpState::Reset
            || (o.state == EpState::Closed && r.state == EpState::Closed));
    let wait = if closing {
        cfg.close_delay
    } else {
        timeout_for(proto, cfg)
    };
    now.0 > f.last_ts.0.saturating_add(wait.0)
}

/// A fresh SYN on a connection that was closed or reset starts a new one
/// (port reuse), as in Zeek.
fn starts_new_connection(f: &FlowState, p: &Packet) -> bool {
    if p.proto != ip_proto::TCP
        || p.flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::RST) != tcp_flags::SYN
    {
        return false;
    }
    let [o, r] = &f.ends;
    matches!(o.state, EpState::Closed | EpState::Reset)
        || matches!(r.state, EpState::Closed | EpState::Reset)
}

/// The uid a flow starting with packet `p` gets, and the key side of its
/// originator: what the protocol analyzers tie their records to.
pub fn uid_of_first_packet(p: &Packet) -> (Text, u8) {
    let (key, side) = FlowKey::of(p);
    let orig_side = if starts_flipped(p) { side ^ 1 } else { side };
    (uid_for(&key, orig_side, p.ts), orig_side)
}

/// True when the first packet of a flow is plainly an answer: a SYN-ACK,
/// an ICMP reply, or UDP from a server port.
fn starts_flipped(p: &Packet) -> bool {
    match p.proto {
        ip_proto::TCP => {
            let syn_ack =
                p.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN | tcp_flags::ACK;
            // Midstream with no SYN: a packet from a service port to a high,
            // non-service port is the server talking.
            let midstream_from_server = p.flags & tcp_flags::SYN == 0
                && service_for(p.proto, p.sport).is_some()
                && service_for(p.proto, p.dport).is_none()
                && p.dport >= 1024;
            syn_ack || midstream_from_server
        }
        ip_proto::UDP => {
            UDP_SERVER_PORTS.contains(&p.sport)
                && !UDP_SERVER_PORTS.contains(&p.dport)
                && p.dport >= 1024
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => is_icmp_reply(p),
        _ => false,
    }
}

fn new_flow(p: &Packet, side: u8) -> FlowState {
    // The originator is whoever sent the first packet, unless that packet is
    // plainly an answer: a SYN-ACK, an ICMP reply, or UDP from a server port.
    let flipped = starts_flipped(p);
    let mut history = History::NEW;
    if flipped {
        history.push(b'^');
    }
    FlowState {
        first_ts: p.ts,
        last_ts: p.ts,
        orig_side: if flipped { side ^ 1 } else { side },
        ends: [Endpoint::NEW; 2],
        history,
        offset: p.offset,
    }
}

/// Accounts a packet from key side `side` to flow `f`.
fn update(f: &mut FlowState, p: &Packet, side: u8) {
    let is_orig = side == f.orig_side;
    let role = usize::from(!is_orig);
    if p.ts > f.last_ts {
        f.last_ts = p.ts;
    }
    {
        let ep = &mut f.ends[role];
        ep.pkts += 1;
        ep.ip_bytes += u64::from(p.ip_len);
    }
    match p.proto {
        ip_proto::TCP => update_tcp(f, p, role, is_orig),
        ip_proto::UDP => {
            f.ends[role].seq_span += u64::from(p.payload_len);
            if p.payload_len > 0 {
                f.history.once(b'D', is_orig);
            }
        }
        _ => f.ends[role].seq_span += u64::from(p.payload_len),
    }
}

fn update_tcp(f: &mut FlowState, p: &Packet, role: usize, is_orig: bool) {
    let flags = p.flags;
    let syn = flags & tcp_flags::SYN != 0;
    let ack = flags & tcp_flags::ACK != 0;
    let fin = flags & tcp_flags::FIN != 0;
    let rst = flags & tcp_flags::RST != 0;
    let other = role ^ 1;

    // History letters.
    if syn && (fin || rst) {
        f.history.once(b'Q', is_orig);
    } else if syn {
        f.history.once(if ack { b'H' } else { b'S' }, is_orig);
    }
    if p.payload_len > 0 {
        f.history.once(b'D', is_orig);
    } else if ack && !syn && !fin && !rst {
        f.history.once(b'A', is_orig);
    }
    if fin {
        f.history.once(b'F', is_orig);
    }
    if rst {
        f.history.once(b'R', is_orig);
    }
    if p.window == 0 && !rst && !syn {
        f.ends[role].zero_windows += 1;
        let n = f.ends[role].zero_windows;
        f.history.counted(b'W', is_orig, n);
    }

    // Sequence space: bytes sent without double-counting retransmissions.
    {
        let ep = &mut f.ends[role];
        if !ep.seq_started {
            ep.seq_started = true;
            ep.seq_high = if syn { p.seq.wrapping_add(1) } else { p.seq };
        }
        if p.payload_len > 0 {
            let start = if syn { p.seq.wrapping_add(1) } else { p.seq };
            let end = start.wrapping_add(p.payload_len);
            let advance = end.wrapping_sub(ep.seq_high) as i32;
            if advance > 0 {
                let adv = advance as u64;
                let len = u64::from(p.payload_len);
                if adv <= len + (16 << 20) {
                    ep.seq_new += adv.min(len);
                    ep.seq_span += adv;
                    ep.seq_high = end;
                    if adv > len {
                        ep.gaps += 1;
                        let n = ep.gaps;
                        f.history.counted(b'G', is_orig, n);
                    }
                }
            } else {
                ep.retransmits += 1;
                let n = ep.retransmits;
                f.history.counted(b'T', is_orig, n);
            }
        }
    }

    // Endpoint state machine (after Zeek's TCP endpoint states).
    let me = f.ends[role].state;
    let peer = f.ends[other].state;
    if rst {
        f.ends[role].state = EpState::Reset;
        return;
    }
    if syn && !ack {
        if me == EpState::Inactive {
            f.ends[role].state = EpState::SynSent;
        }
    } else if syn && ack {
        if peer == EpState::SynSent {
            // A SYN-ACK answering a SYN establishes the connection (Zeek's
            // connection_established fires here).
            f.ends[role].state = EpState::Established;
            f.ends[other].state = EpState::Established;
        } else if matches!(me, EpState::Inactive | EpState::Partial) {
            f.ends[role].state = EpState::SynAckSent;
        }
    } else if peer == EpState::SynAckSent
        && ack
        && matches!(me, EpState::Inactive | EpState::Partial)
    {
        // The originator acknowledging a SYN-ACK completes the handshake even
        // when its SYN was not captured.
        f.ends[role].state = EpState::Established;
        f.ends[other].state = EpState::Established;
    } else if matches!(me, EpState::SynSent | EpState::SynAckSent)
        && matches!(
            peer,
            EpState::SynSent | EpState::SynAckSent | EpState::Established
        )
    {
        f.ends[role].state = EpState::Established;
        if peer == EpState::SynAckSent {
            f.ends[other].state = EpState::Established;
        }
    } else if me == EpState::Inactive {
        f.ends[role].state = EpState::Partial;
    }
    if fin && f.ends[role].state != EpState::Reset {
        f.ends[role].state = EpState::Closed;
    }
}

/// Zeek's `conn_state` from the two endpoint states and the history.
fn conn_state(proto: u8, f: &FlowState) -> ConnState {
    let [o, r] = &f.ends;
    match proto {
        ip_proto::TCP => {
            let (os, rs) = (o.state, r.state);
            if rs == EpState::Reset {
                if matches!(os, EpState::SynSent | EpState::SynAckSent)
                    || (os == EpState::Reset && o.seq_span == 0 && r.seq_span == 0)
                {
                    ConnState::REJ
                } else if o.inactive() {
                    ConnState::RSTRH
                } else {
                    ConnState::RSTR
                }
            } else if os == EpState::Reset {
                if r.inactive() {
                    if syn_then_reset(f.history.as_str()) {
                        ConnState::RSTOS0
                    } else {
                        ConnState::OTH
                    }
                } else {
                    ConnState::RSTO
                }
            } else if os == EpState::Closed && rs == EpState::Closed {
                ConnState::SF
            } else if os == EpState::Closed {
                if r.inactive() {
                    ConnState::SH
                } else {
                    ConnState::S2
                }
            } else if rs == EpState::Closed {
                if o.inactive() {
                    ConnState::SHR
                } else {
                    ConnState::S3
                }
            } else if os == EpState::SynSent && rs == EpState::Inactive {
                ConnState::S0
            } else if os == EpState::Established && rs == EpState::Established {
                ConnState::S1
            } else {
                ConnState::OTH
            }
        }
        ip_proto::UDP => match (o.pkts > 0, r.pkts > 0) {
            (true, true) => ConnState::SF,
            (true, false) => ConnState::S0,
            (false, true) => ConnState::SHR,
            (false, false) => ConnState::OTH,
        },
        _ => ConnState::OTH,
    }
}

/// Zeek's RSTOS0 test on the history: `^?S[^HAFGIQ]*R.*`.
fn syn_then_reset(h: &str) -> bool {
    let h = h.strip_prefix('^').unwrap_or(h);
    let Some(rest) = h.strip_prefix('S') else {
        return false;
    };
    for c in rest.chars() {
        match c {
            'R' => return true,
            'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
            _ => {}
        }
    }
    false
}

fn addr(bytes: &[u8; 16], v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(*bytes))
    } else {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    }
}

/// Zeek-style service guess from the responder port.
pub fn service_for(proto: u8, port: u16) -> Option<&'static str> {
    let tcp = proto == ip_proto::TCP;
    let udp = proto == ip_proto::UDP;
    Some(match port {
        22 if tcp => "ssh",
        23 if tcp => "telnet",
        21 if tcp => "ftp",
        25 | 587 if tcp => "smtp",
        53 if tcp || udp => "dns",
        67 | 68 if udp => "dhcp",
        80 | 8080 | 8000 if tcp => "http",
        88 if tcp => "krb_tcp",
        88 if udp => "krb",
        123 if udp => "ntp",
        135 if tcp => "dce_rpc",
        137 if udp => "dns",
        139 | 445 if tcp => "smb",
        161 if udp => "snmp",
        389 if tcp || udp => "ldap",
        443 | 8443 if tcp => "ssl",
        636 | 3269 if tcp => "ssl",
        3268 if tcp => "ldap",
        1433 if tcp => "mssql",
        3306 if tcp => "mysql",
        3389 if tcp => "rdp",
        3389 if udp => "rdpeudp",
        5900..=5903 if tcp => "rfb",
        5985 if tcp => "winrm",
        5986 if tcp => "winrm-ssl",
        _ => return None,
    })
}

/// Deterministic Zeek-style uid: `C` + 17 base62 digits of a 96-bit hash of
/// the flow's key, originator side and start time.
fn uid_for(key: &FlowKey, orig_side: u8, ts: Timestamp) -> Text {
    let mut h1 = 0x243f_6a88_85a3_08d3u64;
    let mut h2 = 0x1319_8a2e_0370_7344u64;
    let mut feed = |v: u64| {
        h1 = mix(h1, v);
        h2 = mix(h2 ^ 0xa409_3822_299f_31d0, v.rotate_left(17));
    };
    for chunk in key.lo.chunks_exact(8).chain(key.hi.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        feed(u64::from_le_bytes(w));
    }
    feed(
        u64::from(key.lo_port)
            | u64::from(key.hi_port) << 16
            | u64::from(key.proto) << 32
            | u64::from(key.v6) << 40
            | u64::from(orig_side) << 48,
    );
    feed(ts.0 as u64);
    let mut n: u128 = (u128::from(h1) << 32) ^ u128::from(h2 & 0xffff_ffff);
    n &= (1u128 << 96) - 1;
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 18];
    out[0] = b'C';
    for slot in out.iter_mut().skip(1).rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    // ASCII, 18 bytes: kept inline, no allocation.
    Text::from_utf8_lossy(&out)
}

fn to_record(key: &FlowKey, f: &FlowState, file: &Arc<str>) -> Flow {
    let (orig_addr, orig_port, resp_addr, resp_port) = if f.orig_side == 0 {
        (&key.lo, key.lo_port, &key.hi, key.hi_port)
    } else {
        (&key.hi, key.hi_port, &key.lo, key.lo_port)
    };
    let [o, r] = &f.ends;
    let proto = match key.proto {
        ip_proto::TCP => Transport::Tcp,
        ip_proto::UDP => Transport::Udp,
        ip_proto::ICMP | ip_proto::ICMPV6 => Transport::Icmp,
        n => Transport::Other(n),
    };
    // TCP: sequence space; other protocols: payload bytes (same field).
    let size = |e: &Endpoint| e.seq_span;
    let dur = f.last_ts.0.saturating_sub(f.first_ts.0);
    let (duration, orig_bytes, resp_bytes) = if dur > 0 {
        (Some(Duration(dur)), Some(size(o)), Some(size(r)))
    } else {
        (None, None, None)
    };
    let missed = if key.proto == ip_proto::TCP {
        o.seq_span.saturating_sub(o.seq_new) + r.seq_span.saturating_sub(r.seq_new)
    } else {
        0
    };
    let (orig_ports, resp_ports) = (orig_port, resp_port);
    Flow {
        ts: f.first_ts,
        uid: uid_for(key, f.orig_side, f.first_ts),
        orig_h: addr(orig_addr, key.v6),
        orig_p: orig_ports,
        resp_h: addr(resp_addr, key.v6),
        resp_p: resp_ports,
        proto,
        service: service_for(key.proto, resp_port).map(Text::const_new),
        duration,
        orig_bytes,
        resp_bytes,
        conn_state: conn_state(key.proto, f),
        missed_bytes: missed,
        history: Text::from(f.history.as_str()),
        orig_pkts: o.pkts,
        orig_ip_bytes: o.ip_bytes,
        resp_pkts: r.pkts,
        resp_ip_bytes: r.ip_bytes,
        ip_proto: key.proto,
        origin: Some(Origin {
            file: file.clone(),
            at: Position::Offset(f.offset),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::decode::tcp_flags::{ACK, FIN, PSH, RST, SYN};

    const A: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];

    fn v4(a: [u8; 4]) -> [u8; 16] {
        let mut x = [0u8; 16];
        x[..4].copy_from_slice(&a);
        x
    }

    /// A TCP packet from `src:sp` to `dst:dp` at `t` seconds.
    #[allow(clippy::too_many_arguments)]
    fn tcp(
        t: f64,
        src: [u8; 4],
        sp: u16,
        dst: [u8; 4],
        dp: u16,
        flags: u8,
        seq: u32,
        len: u32,
    ) -> Packet {
        Packet {
            ts: Timestamp((t * 1e9) as i64),
            src: v4(src),
            dst: v4(dst),
            v6: false,
            proto: ip_proto::TCP,
            sport: sp,
            dport: dp,
            flags,
            seq,
            ack: 0,
            window: 1000,
            payload_len: len,
            ip_len: 40 + len,
            fragment: Fragment::Whole,
            wire_len: 54 + len,
            offset: 0,
        }
    }

    fn udp(t: f64, src: [u8; 4], sp: u16, dst: [u8; 4], dp: u16, len: u32) -> Packet {
        Packet {
            proto: ip_proto::UDP,
            flags: 0,
            ip_len: 28 + len,
            ..tcp(t, src, sp, dst, dp, 0, 0, len)
        }
    }

    fn run(packets: &[Packet]) -> Vec<Flow> {
        run_with(packets, FlowConfig::default()).0
    }

    fn run_with(packets: &[Packet], cfg: FlowConfig) -> (Vec<Flow>, FlowCounters) {
        let mut t = FlowTable::new(cfg, Arc::from("test"));
        let mut d = Diagnostics::default();
        for p in packets {
            t.add(p, &mut d);
            assert!(t.active() <= cfg.max_flows, "table exceeded its cap");
        }
        let (mut flows, c) = t.finish_all();
        flows.sort_by_key(|f| f.ts);
        (flows, c)
    }

    /// Client A:40000 talks to B:445: handshake, 100 bytes each way, FIN/FIN.
    fn full_session(t0: f64) -> Vec<Packet> {
        vec![
            tcp(t0, A, 40000, B, 445, SYN, 1000, 0),
            tcp(t0 + 0.01, B, 445, A, 40000, SYN | ACK, 5000, 0),
            tcp(t0 + 0.02, A, 40000, B, 445, ACK, 1001, 0),
            tcp(t0 + 0.03, A, 40000, B, 445, ACK | PSH, 1001, 100),
            tcp(t0 + 0.04, B, 445, A, 40000, ACK | PSH, 5001, 100),
            tcp(t0 + 0.05, A, 40000, B, 445, FIN | ACK, 1101, 0),
            tcp(t0 + 0.06, B, 445, A, 40000, FIN | ACK, 5101, 0),
            tcp(t0 + 0.07, A, 40000, B, 445, ACK, 1102, 0),
        ]
    }

    #[test]
    fn full_session_is_sf_with_zeek_fields() {
        let f = run(&full_session(100.0));
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.conn_state, ConnState::SF);
        assert_eq!(
            f.history, "ShADdFf",
            "no pure ACK from the responder, so no `a`"
        );
        assert_eq!(
            (
                f.orig_h.to_string(),
                f.orig_p,
                f.resp_h.to_string(),
                f.resp_p
            ),
            ("10.0.0.1".into(), 40000, "10.0.0.2".into(), 445)
        );
        assert_eq!((f.orig_bytes, f.resp_bytes), (Some(100), Some(100)));
        assert_eq!((f.orig_pkts, f.resp_pkts), (5, 3));
        assert_eq!(
            (f.orig_ip_bytes, f.resp_ip_bytes),
            (5 * 40 + 100, 3 * 40 + 100)
        );
        assert_eq!(f.duration, Some(Duration(70_000_000)));
        assert_eq!(f.service.as_deref(), Some("smb"));
        assert_eq!(f.missed_bytes, 0);
        assert!(f.uid.starts_with('C') && f.uid.len() == 18);
        // Held inline in the record: no allocation per flow.
        assert!(!f.uid.is_heap_allocated() && !f.history.is_heap_allocated());
    }

    #[test]
    fn conn_states_follow_zeek() {
        let s = |pk: Vec<Packet>| {
            let f = run(&pk);
            assert_eq!(f.len(), 1, "{f:?}");
            (f[0].conn_state, f[0].history.clone())
        };
        assert_eq!(
            s(vec![
                tcp(1.0, A, 1, B, 22, SYN, 7, 0),
                tcp(4.0, A, 1, B, 22, SYN, 7, 0)
            ]),
            (ConnState::S0, "S".into())
        );
        assert_eq!(
            s(vec![
                tcp(1.0, A, 1, B, 22, SYN, 7, 0),
                tcp(1.1, B, 22, A, 1, RST | ACK, 0, 0)
            ]),
            (ConnState::REJ, "Sr".into())
        );
        assert_eq!(
            s(vec![
                tcp(1.0, A, 1, B, 22, SYN, 7, 0),
                tcp(1.1, A, 1, B, 22, RST, 8, 0)
            ]),
            (ConnState::RSTOS0, "SR".into())
        );
        assert_eq!(
            s(vec![
                tcp(1.0, A, 1, B, 22, SYN, 7, 0),
                tcp(1.1, A, 1, B, 22, FIN, 8, 0)
            ]),
            (ConnState::SH, "SF".into())
        );
        let est = |extra: Vec<Packet>| {
            let mut v = vec![
                tcp(1.0, A, 1, B, 22, SYN, 7, 0),
                tcp(1.1, B, 22, A, 1, SYN | ACK, 70, 0),
                tcp(1.2, A, 1, B, 22, ACK, 8, 0),
            ];
            v.extend(extra);
            s(v)
        };
        assert_eq!(est(vec![]), (ConnState::S1, "ShA".into()));
        assert_eq!(
            est(vec![tcp(2.0, A, 1, B, 22, RST, 8, 0)]),
            (ConnState::RSTO, "ShAR".into())
        );
        assert_eq!(
            est(vec![tcp(2.0, B, 22, A, 1, RST, 71, 0)]),
            (ConnState::RSTR, "ShAr".into())
        );
        assert_eq!(
            est(vec![tcp(2.0, A, 1, B, 22, FIN | ACK, 8, 0)]),
            (ConnState::S2, "ShAF".into())
        );
        assert_eq!(
            est(vec![tcp(2.0, B, 22, A, 1, FIN | ACK, 71, 0)]),
            (ConnState::S3, "ShAf".into())
        );
        // Midstream: data seen without any handshake.
        assert_eq!(
            s(vec![
                tcp(1.0, A, 50000, B, 9999, ACK | PSH, 7, 10),
                tcp(1.1, B, 9999, A, 50000, ACK, 9, 0)
            ]),
            (ConnState::OTH, "Da".into())
        );
        // A SYN-ACK first: the receiver is the originator (flipped), and a
        // responder that answers with a FIN gives SHR.
        assert_eq!(
            s(vec![
                tcp(1.0, B, 22, A, 1, SYN | ACK, 70, 0),
                tcp(1.1, B, 22, A, 1, FIN | ACK, 71, 0)
            ]),
            (ConnState::SHR, "^hf".into())
        );
        assert_eq!(
            s(vec![
                tcp(1.0, B, 22, A, 1, SYN | ACK, 70, 0),
                tcp(1.1, B, 22, A, 1, RST, 71, 0)
            ]),
            (ConnState::RSTRH, "^hr".into())
        );
    }

    #[test]
    fn retransmissions_are_not_counted_twice_and_gaps_are_missed_bytes() {
        let mut v = full_session(1.0);
        // Retransmit the client's 100 bytes, then skip 50 bytes and send 10.
        v.insert(4, tcp(1.035, A, 40000, B, 445, ACK | PSH, 1001, 100));
        v.insert(5, tcp(1.036, A, 40000, B, 445, ACK | PSH, 1151, 10));
        v[7] = tcp(1.05, A, 40000, B, 445, FIN | ACK, 1161, 0);
        let f = run(&v);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].orig_bytes,
            Some(160),
            "sequence span, retransmission not double counted"
        );
        assert_eq!(f[0].missed_bytes, 50);
        assert!(
            f[0].history.contains('T') && f[0].history.contains('G'),
            "{}",
            f[0].history
        );
    }

    #[test]
    fn udp_flows_flip_responses_and_time_out() {
        let f = run(&[udp(1.0, B, 53, A, 40001, 80)]);
        assert_eq!(
            (
                f[0].conn_state,
                f[0].history.as_str(),
                f[0].orig_pkts,
                f[0].resp_pkts
            ),
            (ConnState::SHR, "^d", 0, 1)
        );
        assert_eq!(f[0].orig_h.to_string(), "10.0.0.1");
        let f = run(&[udp(1.0, A, 40001, B, 53, 30), udp(1.5, B, 53, A, 40001, 80)]);
        assert_eq!(
            (
                f[0].conn_state,
                f[0].history.as_str(),
                f[0].orig_bytes,
                f[0].resp_bytes
            ),
            (ConnState::SF, "Dd", Some(30), Some(80))
        );
        // 61 s of silence ends a UDP flow (Zeek's udp_inactivity_timeout).
        let f = run(&[
            udp(1.0, A, 40001, B, 9000, 5),
            udp(62.5, A, 40001, B, 9000, 5),
        ]);
        assert_eq!(f.len(), 2);
        assert!(
            f.iter()
                .all(|x| x.conn_state == ConnState::S0 && x.duration.is_none())
        );
    }

    #[test]
    fn icmp_echo_request_and_reply_share_a_flow() {
        let mut req = udp(1.0, A, 8, B, 0, 56);
        req.proto = ip_proto::ICMP;
        let mut rep = udp(1.1, B, 0, A, 0, 56);
        rep.proto = ip_proto::ICMP;
        let f = run(&[req, rep]);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].orig_p, f[0].resp_p, f[0].proto, f[0].conn_state),
            (8, 0, Transport::Icmp, ConnState::OTH)
        );
        assert_eq!((f[0].orig_pkts, f[0].resp_pkts), (1, 1));
    }

    #[test]
    fn port_reuse_after_close_starts_a_new_connection() {
        let mut v = full_session(1.0);
        v.extend(full_session(2.0));
        let f = run(&v);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|x| x.conn_state == ConnState::SF));
        assert_ne!(f[0].uid, f[1].uid);
    }

    #[test]
    fn syn_flood_is_bounded_by_the_cap_and_every_attempt_is_reported() {
        let cfg = FlowConfig {
            max_flows: 64,
            ..FlowConfig::default()
        };
        let mut x = 12345u32;
        let packets: Vec<Packet> = (0..20_000)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                tcp(
                    1.0 + f64::from(i) * 1e-5,
                    A,
                    (x >> 16) as u16,
                    B,
                    80,
                    SYN,
                    x,
                    0,
                )
            })
            .collect();
        let (flows, c) = run_with(&packets, cfg);
        assert!(c.evicted > 0);
        assert!(c.peak_flows <= 64);
        let pkts: u64 = flows.iter().map(|f| f.orig_pkts).sum();
        assert_eq!(pkts, 20_000, "every packet is in some record");
        assert!(flows.iter().all(|f| f.conn_state == ConnState::S0));
    }

    #[test]
    fn later_fragments_count_to_their_flow() {
        let mut first = udp(1.0, A, 40000, B, 514, 3000);
        first.fragment = Fragment::First(77);
        first.ip_len = 1500;
        let mut later = udp(1.001, A, 0, B, 0, 0);
        later.fragment = Fragment::Later(77);
        later.ip_len = 1536;
        let mut orphan = later;
        orphan.fragment = Fragment::Later(78);
        let mut t = FlowTable::new(FlowConfig::default(), Arc::from("t"));
        let mut d = Diagnostics::default();
        for p in [first, later, orphan] {
            t.add(&p, &mut d);
        }
        let (f, c) = t.finish_all();
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].orig_pkts, f[0].orig_ip_bytes, f[0].orig_bytes),
            (2, 3036, Some(3000))
        );
        assert_eq!(c.fragments_joined, 1);
        assert_eq!(
            d.counts.get("IP fragment without its first fragment"),
            Some(&1)
        );
    }
}
