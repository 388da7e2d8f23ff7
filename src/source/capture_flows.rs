//! One capture in, its connection records out: reader, decoder and flow
//! tables wired together.
//!
//! Packets are spread over a fixed number of flow-table partitions by a
//! stable hash of their address pair, so each partition sees its packets in
//! file order whatever the thread count. A small capture is processed on the
//! calling thread; a large one gets a reader thread that decodes frames and
//! worker threads that own the partitions, so one file uses every core. Both
//! paths give byte-identical records.

use crate::diag::Diagnostics;
use crate::input::{Format, OpenInput};
use crate::model::event::{LogEvent, Timestamp};
use crate::source::FlowSink;
use crate::source::capture::{CaptureCounts, CaptureEnd, Frame, read_capture};
use crate::source::decode::{
    Fragment, Packet, Skipped, decode, decode_joined, fragment_piece, ip_proto, tcp_payload,
    udp_payload,
};
use crate::source::dns;
use crate::source::flow_table::{FlowConfig, FlowCounters, FlowKey, FlowTable};
use crate::source::ip_reassembly::{FragCounters, Reassembler, ReassemblyConfig};
use crate::stats::Histo;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Flow-table partitions per capture. Fixed, so results never depend on
/// the number of threads.
pub const PARTITIONS: usize = 8;

/// Inputs larger than this are spread over worker threads.
pub const PARALLEL_THRESHOLD: u64 = 32 << 20;

/// Finished records a worker holds before handing them to the store.
const HAND_OVER: usize = 4096;

/// Packets sent to a worker at a time.
const BATCH: usize = 2048;

/// How to process one capture.
#[derive(Debug, Clone, Copy)]
pub struct CaptureOptions {
    /// Flow-table timeouts and limits (`max_flows` is for the whole capture).
    pub flow: FlowConfig,
    /// Worker threads to use for one large capture (1 = on the calling thread).
    pub workers: usize,
}

/// Everything learned from one capture.
#[derive(Debug, Default)]
pub struct CaptureResult {
    /// Connection records handed to the store.
    pub flows: u64,
    /// Record-level problems, counted by reason.
    pub diag: Diagnostics,
    /// Counts from the capture reader.
    pub counts: CaptureCounts,
    /// Frames that carried no IP packet, by reason (non-IP, link types).
    pub non_ip: BTreeMap<String, u64>,
    /// Flow-table counters summed over partitions.
    pub flow_counters: FlowCounters,
    /// Distribution of frame lengths on the wire.
    pub packet_sizes: Histo,
    /// How reading ended (complete, truncated, corrupt).
    pub end: Option<CaptureEnd>,
    /// `dns-answer` events from the DNS responses seen, in file order.
    pub dns: Vec<LogEvent>,
    /// What the IP fragment reassembler did.
    pub frags: FragCounters,
}

/// A reader of TCP and UDP payloads beside the flow table: the seam
/// through which the protocol analyzers (`crate::analyzer`, a later stage)
/// see a capture's packets without this stage knowing them.
pub trait PacketTap {
    /// True when the tap wants this decoded TCP or UDP packet's payload;
    /// asked of every such packet, so it must be cheap.
    fn interested(&self, p: &Packet) -> bool;
    /// A packet it wanted, with its captured TCP or UDP payload.
    fn packet(&mut self, p: &Packet, payload: &[u8]);
    /// A datagram put back together from IP fragments: `p` has the time
    /// of the fragment that completed it, `first_ts` that of its first
    /// fragment (from which the flow table made the connection's uid when
    /// it started the connection).
    fn joined(&mut self, p: &Packet, first_ts: Timestamp, payload: &[u8]) {
        let _ = first_ts;
        self.packet(p, payload);
    }
}

/// A tap that wants nothing.
struct NoTap;

impl PacketTap for NoTap {
    fn interested(&self, _: &Packet) -> bool {
        false
    }
    fn packet(&mut self, _: &Packet, _: &[u8]) {}
}

/// Hands a decoded TCP or UDP packet to the tap when it wants it; every
/// other packet costs the tap's test.
#[inline]
fn note_app(p: &Packet, frame: &Frame<'_>, tap: &mut dyn PacketTap) {
    let payload = match p.proto {
        ip_proto::TCP if tap.interested(p) => tcp_payload(frame),
        ip_proto::UDP if tap.interested(p) => udp_payload(frame),
        _ => None,
    };
    if let Some(payload) = payload {
        tap.packet(p, payload);
    }
}

/// Reads a DNS response out of a UDP packet from port 53 or 5353 into
/// `dns-answer` events; every other packet costs two compares.
#[inline]
fn note_dns(
    p: &Packet,
    frame: &Frame<'_>,
    file: &Arc<str>,
    out: &mut Vec<LogEvent>,
    diag: &mut Diagnostics,
) {
    if p.proto == ip_proto::UDP && (p.sport == 53 || p.sport == 5353) {
        dns_slow(p, frame, file, out, diag);
    }
}

#[cold]
fn dns_slow(
    p: &Packet,
    frame: &Frame<'_>,
    file: &Arc<str>,
    out: &mut Vec<LogEvent>,
    diag: &mut Diagnostics,
) {
    let Some(msg) = udp_payload(frame) else {
        return;
    };
    dns_message(p, msg, frame.offset, file, out, diag);
}

/// Reads one DNS response (from a whole or a reassembled datagram).
fn dns_message(
    p: &Packet,
    msg: &[u8],
    offset: u64,
    file: &Arc<str>,
    out: &mut Vec<LogEvent>,
    diag: &mut Diagnostics,
) {
    match dns::parse_response(msg) {
        Ok(resp) if !resp.answers.is_empty() => {
            let cx = dns::DnsContext {
                ts: p.ts,
                server: (ip_of(&p.src, p.v6), p.sport),
                client: (ip_of(&p.dst, p.v6), p.dport),
                file: file.clone(),
                offset,
            };
            dns::answer_events(resp, &cx, out);
        }
        Ok(_) => {}
        Err(dns::DnsError(reason)) => diag.skip(
            reason,
            || crate::model::event::Origin {
                file: file.clone(),
                at: crate::model::event::Position::Offset(offset),
            },
            String::new,
        ),
    }
}

/// Where a fragment's datagram goes once joined: the DNS answer reader
/// and the tap, as a whole datagram would.
struct FragSinks<'a> {
    reasm: &'a mut Reassembler,
    file: &'a Arc<str>,
    dns: &'a mut Vec<LogEvent>,
    diag: &'a mut Diagnostics,
}

/// Feeds an IP fragment to the reassembler (callers test
/// `p.fragment` first, so a whole packet costs one compare); a datagram
/// it completes goes where a whole one would.
#[cold]
fn fragment_slow(frame: &Frame<'_>, sinks: FragSinks<'_>, tap: &mut dyn PacketTap) {
    let Some((fp, piece)) = fragment_piece(frame) else {
        return;
    };
    let Some(j) = sinks.reasm.add(&fp, &piece) else {
        return;
    };
    let Some((jp, payload)) = decode_joined(&j.packet, j.proto, &j.bytes) else {
        return;
    };
    if jp.proto == ip_proto::UDP && (jp.sport == 53 || jp.sport == 5353) {
        dns_message(
            &jp,
            payload,
            frame.offset,
            sinks.file,
            sinks.dns,
            sinks.diag,
        );
    }
    if tap.interested(&jp) {
        tap.joined(&jp, j.first_ts, payload);
    }
}

fn ip_of(b: &[u8; 16], v6: bool) -> std::net::IpAddr {
    if v6 {
        std::net::IpAddr::V6(std::net::Ipv6Addr::from(*b))
    } else {
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

/// Counts frames that did not decode.
fn note_skip(
    s: Skipped,
    frame: &Frame<'_>,
    file: &Arc<str>,
    diag: &mut Diagnostics,
    non_ip: &mut BTreeMap<String, u64>,
) {
    match s {
        Skipped::NotIp => {
            *non_ip
                .entry("not IP (ARP, LLDP, STP, ...)".into())
                .or_insert(0) += 1
        }
        Skipped::UnsupportedLinkType(lt) => {
            *non_ip
                .entry(format!(
                    "unsupported link type {} ({lt})",
                    linktype_name(lt)
                ))
                .or_insert(0) += 1;
        }
        Skipped::Malformed(reason) => diag.skip(
            reason,
            || crate::model::event::Origin {
                file: file.clone(),
                at: crate::model::event::Position::Offset(frame.offset),
            },
            String::new,
        ),
    }
}

/// A readable name for a LINKTYPE_ number.
pub fn linktype_name(lt: u32) -> &'static str {
    match lt {
        0 => "NULL",
        1 => "ETHERNET",
        6 => "IEEE802_5",
        9 => "PPP",
        10 => "FDDI",
        12 | 14 | 101 => "RAW",
        50 => "PPP_HDLC",
        104 => "C_HDLC",
        105 => "IEEE802_11",
        108 => "LOOP",
        113 => "LINUX_SLL",
        119 => "IEEE802_11_PRISM",
        127 => "IEEE802_11_RADIOTAP",
        143 => "DOCSIS",
        147..=162 => "USER",
        195 => "IEEE802_15_4",
        220 => "USB_LINUX_MMAPPED",
        228 => "IPV4",
        229 => "IPV6",
        239 => "NFLOG",
        252 => "WIRESHARK_UPPER_PDU",
        276 => "LINUX_SLL2",
        _ => "other",
    }
}

fn partition_of(p: &Packet) -> usize {
    (FlowKey::partition_hash(p) % PARTITIONS as u64) as usize
}

fn new_tables(opts: &CaptureOptions, file: &Arc<str>) -> Vec<FlowTable> {
    let mut cfg = opts.flow;
    cfg.max_flows = (cfg.max_flows / PARTITIONS).max(1);
    (0..PARTITIONS)
        .map(|_| FlowTable::new(cfg, file.clone()))
        .collect()
}

/// Reads one opened capture into connection records.
///
/// `progress` is advanced by input bytes as they are read (for a progress bar).
pub fn capture_flows(
    input: OpenInput,
    format: Format,
    opts: &CaptureOptions,
    progress: &AtomicU64,
    store: &dyn FlowSink,
) -> CaptureResult {
    capture_flows_tapped(input, format, opts, progress, store, &mut NoTap)
}

/// Like [`capture_flows`], with `tap` shown every TCP packet it wants (in
/// file order, on the reading thread, whatever the number of workers).
pub fn capture_flows_tapped(
    mut input: OpenInput,
    format: Format,
    opts: &CaptureOptions,
    progress: &AtomicU64,
    store: &dyn FlowSink,
    tap: &mut dyn PacketTap,
) -> CaptureResult {
    let big = input.size_on_disk.unwrap_or(0) >= PARALLEL_THRESHOLD;
    let mut ticker = ProgressTicker {
        sink: progress,
        reported: 0,
        frames: 0,
    };
    let res = if opts.workers > 1 && big {
        capture_flows_parallel(&mut input, format, opts, &mut ticker, store, tap)
    } else {
        capture_flows_inline(&mut input, format, opts, &mut ticker, store, tap)
    };
    if let Some(size) = input.size_on_disk {
        progress.fetch_add(size.saturating_sub(ticker.reported), Ordering::Relaxed);
    }
    res
}

/// Like [`capture_flows`] but always with reader and worker threads,
/// whatever the input's size (benchmarks and tests of the threaded path).
pub fn capture_flows_threaded(
    mut input: OpenInput,
    format: Format,
    opts: &CaptureOptions,
    progress: &AtomicU64,
    store: &dyn FlowSink,
) -> CaptureResult {
    let mut ticker = ProgressTicker {
        sink: progress,
        reported: 0,
        frames: 0,
    };
    capture_flows_parallel(&mut input, format, opts, &mut ticker, store, &mut NoTap)
}

/// Reports read progress every few thousand frames, not per frame.
struct ProgressTicker<'a> {
    sink: &'a AtomicU64,
    reported: u64,
    frames: u32,
}

impl ProgressTicker<'_> {
    #[inline]
    fn tick(&mut self, offset: u64) {
        self.frames = self.frames.wrapping_add(1);
        if self.frames.is_multiple_of(4096) && offset > self.reported {
            self.sink
                .fetch_add(offset - self.reported, Ordering::Relaxed);
            self.reported = offset;
        }
    }
}

fn capture_flows_inline(
    input: &mut OpenInput,
    format: Format,
    opts: &CaptureOptions,
    ticker: &mut ProgressTicker<'_>,
    store: &dyn FlowSink,
    tap: &mut dyn PacketTap,
) -> CaptureResult {
    let file = input.name.clone();
    let mut tables = new_tables(opts, &file);
    let mut res = CaptureResult::default();
    let mut table_diag = Diagnostics::default();
    let mut reader_diag = Diagnostics::default();
    let mut non_ip = BTreeMap::new();
    let mut sizes = Histo::new();
    let mut out = Vec::new();
    let mut flows = 0u64;
    let mut dns_events = Vec::new();
    let mut reasm = Reassembler::new(ReassemblyConfig::default());
    let end = {
        let mut on_frame = |frame: &Frame<'_>| {
            ticker.tick(frame.offset);
            sizes.record(u64::from(frame.orig_len));
            match decode(frame) {
                Ok(p) => {
                    note_dns(&p, frame, &file, &mut dns_events, &mut table_diag);
                    note_app(&p, frame, tap);
                    if p.fragment != Fragment::Whole {
                        let sinks = FragSinks {
                            reasm: &mut reasm,
                            file: &file,
                            dns: &mut dns_events,
                            diag: &mut table_diag,
                        };
                        fragment_slow(frame, sinks, tap);
                    }
                    if let Some(t) = tables.get_mut(partition_of(&p)) {
                        t.add_into(&p, &mut table_diag, &mut out);
                        if out.len() >= HAND_OVER {
                            flows += out.len() as u64;
                            store.push(&mut out);
                        }
                    }
                }
                Err(s) => note_skip(s, frame, &file, &mut table_diag, &mut non_ip),
            }
        };
        read_capture(
            format,
            &mut input.window,
            &file,
            &mut reader_diag,
            &mut res.counts,
            &mut on_frame,
        )
    };
    flows += out.len() as u64;
    store.push(&mut out);
    for t in tables {
        let (mut rest, c) = t.finish_all();
        flows += rest.len() as u64;
        store.push(&mut rest);
        add_counters(&mut res.flow_counters, &c);
    }
    res.flows = flows;
    reader_diag.merge(table_diag);
    res.diag = reader_diag;
    res.non_ip = non_ip;
    res.packet_sizes = sizes;
    res.end = Some(end);
    res.dns = dns_events;
    res.frags = reasm.finish();
    res
}

fn add_counters(total: &mut FlowCounters, c: &FlowCounters) {
    total.packets += c.packets;
    total.evicted += c.evicted;
    total.peak_flows += c.peak_flows;
    total.fragments_joined += c.fragments_joined;
}

/// What a worker hands back: its partitions' tables, its diagnostics, and
/// how many records it already gave the store.
type WorkerResult = (Vec<(usize, FlowTable)>, Diagnostics, u64);

/// A batch of packets for one partition.
struct Batch {
    partition: usize,
    packets: Vec<Packet>,
}

fn capture_flows_parallel(
    input: &mut OpenInput,
    format: Format,
    opts: &CaptureOptions,
    ticker: &mut ProgressTicker<'_>,
    store: &dyn FlowSink,
    tap: &mut dyn PacketTap,
) -> CaptureResult {
    let file = input.name.clone();
    let workers = opts.workers.clamp(1, PARTITIONS);
    let mut res = CaptureResult::default();
    let tables = new_tables(opts, &file);
    // Partition p belongs to worker p % workers.
    let mut owned: Vec<Vec<(usize, FlowTable)>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, t) in tables.into_iter().enumerate() {
        if let Some(slot) = owned.get_mut(i % workers) {
            slot.push((i, t));
        }
    }
    let (recycle_tx, recycle_rx) = crossbeam_channel::unbounded::<Vec<Packet>>();
    let mut senders = Vec::with_capacity(workers);
    let mut receivers = Vec::with_capacity(workers);
    for _ in 0..workers {
        // Bounded: the reader cannot run ahead of the workers by more than a few batches.
        let (tx, rx) = crossbeam_channel::bounded::<Batch>(16);
        senders.push(tx);
        receivers.push(rx);
    }
    let mut reader_diag = Diagnostics::default();
    let mut decode_diag = Diagnostics::default();
    let mut non_ip = BTreeMap::new();
    let mut sizes = Histo::new();
    let mut worker_results: Vec<WorkerResult> = Vec::new();
    let mut dns_events = Vec::new();
    let mut reasm = Reassembler::new(ReassemblyConfig::default());
    let end = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (mine, rx) in owned.into_iter().zip(receivers) {
            let recycle = recycle_tx.clone();
            handles.push(scope.spawn(move || {
                let mut mine = mine;
                let mut diag = Diagnostics::default();
                let mut out = Vec::new();
                let mut handed = 0u64;
                for batch in rx.iter() {
                    if let Some((_, t)) = mine.iter_mut().find(|(i, _)| *i == batch.partition) {
                        for p in &batch.packets {
                            t.add_into(p, &mut diag, &mut out);
                        }
                        if out.len() >= HAND_OVER {
                            handed += out.len() as u64;
                            store.push(&mut out);
                        }
                    }
                    let mut v = batch.packets;
                    v.clear();
                    let _ = recycle.send(v);
                }
                handed += out.len() as u64;
                store.push(&mut out);
                (mine, diag, handed)
            }));
        }
        let mut pending: Vec<Vec<Packet>> =
            (0..PARTITIONS).map(|_| Vec::with_capacity(BATCH)).collect();
        let send = |partition: usize, packets: Vec<Packet>| {
            if let Some(tx) = senders.get(partition % workers) {
                let _ = tx.send(Batch { partition, packets });
            }
        };
        let end = {
            let mut on_frame = |frame: &Frame<'_>| {
                ticker.tick(frame.offset);
                sizes.record(u64::from(frame.orig_len));
                match decode(frame) {
                    Ok(p) => {
                        note_dns(&p, frame, &file, &mut dns_events, &mut decode_diag);
                        note_app(&p, frame, tap);
                        if p.fragment != Fragment::Whole {
                            let sinks = FragSinks {
                                reasm: &mut reasm,
                                file: &file,
                                dns: &mut dns_events,
                                diag: &mut decode_diag,
                            };
                            fragment_slow(frame, sinks, tap);
                        }
                        let part = partition_of(&p);
                        if let Some(buf) = pending.get_mut(part) {
                            buf.push(p);
                            if buf.len() >= BATCH {
                                let fresh = recycle_rx
                                    .try_recv()
                                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                                let full = std::mem::replace(buf, fresh);
                                send(part, full);
                            }
                        }
                    }
                    Err(s) => note_skip(s, frame, &file, &mut decode_diag, &mut non_ip),
                }
            };
            read_capture(
                format,
                &mut input.window,
                &file,
                &mut reader_diag,
                &mut res.counts,
                &mut on_frame,
            )
        };
        for (part, buf) in pending.into_iter().enumerate() {
            if !buf.is_empty() {
                send(part, buf);
            }
        }
        drop(senders);
        for h in handles {
            if let Ok(r) = h.join() {
                worker_results.push(r);
            }
        }
        end
    });
    let mut all_tables: Vec<(usize, FlowTable)> = Vec::new();
    let mut flows = 0u64;
    for (tables, diag, handed) in worker_results {
        all_tables.extend(tables);
        decode_diag.merge(diag);
        flows += handed;
    }
    all_tables.sort_by_key(|(i, _)| *i);
    for (_, t) in all_tables {
        let (mut rest, c) = t.finish_all();
        flows += rest.len() as u64;
        store.push(&mut rest);
        add_counters(&mut res.flow_counters, &c);
    }
    res.flows = flows;
    reader_diag.merge(decode_diag);
    res.diag = reader_diag;
    res.non_ip = non_ip;
    res.packet_sizes = sizes;
    res.end = Some(end);
    res.dns = dns_events;
    res.frags = reasm.finish();
    res
}
