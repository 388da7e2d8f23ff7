//! Bulk traffic for throughput benchmarks: many concurrent, interleaved,
//! complete conversations (TCP sessions on admin and web ports, DNS over
//! UDP) between a population of clients and servers, written as a capture
//! at disk speed. Deterministic for a seed.
//!
//! The mix gives a mean frame near 660 bytes: half the TCP packets carry a
//! segment (mostly full-size), half are pure ACKs.

use crate::model::event::Timestamp;
use crate::source::decode::tcp_flags::{ACK, FIN, PSH, SYN};
use crate::synth::dns;
use crate::synth::frame::{FrameSpec, L4, Payload, build};
use crate::synth::pcap_writer::{CaptureKind, CaptureWriter};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

/// Shape of a bulk capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSpec {
    /// Conversations in total.
    pub flows: u64,
    /// Packets in total (approximately: the last conversations are closed properly).
    pub packets: u64,
    /// Conversations open at once.
    pub concurrent: usize,
    /// Seed for every random choice.
    pub seed: u64,
    /// Capture start, UTC.
    pub start: Timestamp,
}

impl Default for BulkSpec {
    fn default() -> Self {
        BulkSpec {
            flows: 58_000,
            packets: 2_700_000,
            concurrent: 2_000,
            seed: 1,
            start: Timestamp(1_700_000_000_000_000_000),
        }
    }
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkCounts {
    /// Packets written.
    pub packets: u64,
    /// Conversations written.
    pub flows: u64,
    /// Frame bytes written.
    pub bytes: u64,
}

/// A small, fast, deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator (a zero seed is remapped).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// Where a conversation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Syn,
    SynAck,
    Ack,
    Data { left: u32, ack_due: bool },
    FinC,
    FinS,
    LastAck,
    UdpQuery,
    UdpAnswer,
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Conv {
    client: Ipv4Addr,
    server: Ipv4Addr,
    cport: u16,
    sport: u16,
    c_seq: u32,
    s_seq: u32,
    phase: Phase,
    /// Who sent the last data segment (true = client).
    last_from_client: bool,
}

/// Server ports of the TCP conversations (SSH is left out: its dissector
/// flags random payload bytes as malformed, and the payloads here are fill).
const TCP_PORTS: [u16; 8] = [445, 3389, 443, 443, 80, 5986, 135, 5985];

fn new_conv(rng: &mut Rng, n: u64) -> Conv {
    let c = 1 + (n % 4000) as u32;
    let client = Ipv4Addr::new(10, 1, (c >> 8) as u8, c as u8);
    let s = 1 + rng.below(60) as u8;
    let server = Ipv4Addr::new(10, 2, 0, s);
    let udp = rng.below(10) == 0;
    Conv {
        client,
        server,
        // Ephemeral ports (IANA 49152-65535), unique per client for 65 million conversations.
        cport: 49_152 + ((n / 4000) % 16_383) as u16,
        sport: if udp {
            53
        } else {
            TCP_PORTS[rng.below(TCP_PORTS.len() as u64) as usize]
        },
        c_seq: rng.next_u64() as u32,
        s_seq: rng.next_u64() as u32,
        phase: if udp { Phase::UdpQuery } else { Phase::Syn },
        last_from_client: true,
    }
}

/// Writes a bulk capture (classic pcap, Ethernet) to `out`.
pub fn write_bulk<W: Write>(spec: &BulkSpec, out: W) -> io::Result<BulkCounts> {
    let mut w = CaptureWriter::new(
        out,
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )?;
    let mut rng = Rng::new(spec.seed);
    let mut counts = BulkCounts::default();
    let mut active: Vec<(Conv, u32)> = Vec::with_capacity(spec.concurrent);
    let mut started = 0u64;
    let mut buf = Vec::with_capacity(1600);
    let mut t = spec.start;
    // Mean gap chosen so the capture spans about ten minutes at the default size.
    let mean_gap_ns = (600_000_000_000u64 / spec.packets.max(1)).max(1);
    // One conversation in ten is a 2-packet DNS exchange; a TCP one has 7
    // packets of handshake and close plus 1.7 per data segment (70% of
    // segments get their own ACK), so pick the mean segment count that
    // gives the asked packets per conversation.
    let per_flow = spec.packets as f64 / spec.flows.max(1) as f64;
    let per_tcp = ((per_flow - 0.2) / 0.9).max(9.0);
    let mean_segments = ((per_tcp - 7.0) / 1.7).max(1.0);
    let max_budget = (2.0 * mean_segments) as u64;
    loop {
        while active.len() < spec.concurrent && started < spec.flows {
            let conv = new_conv(&mut rng, started);
            let budget = 1 + rng.below(max_budget) as u32;
            active.push((conv, budget));
            started += 1;
        }
        if active.is_empty() {
            break;
        }
        let i = rng.below(active.len() as u64) as usize;
        let Some((conv, budget)) = active.get_mut(i) else {
            break;
        };
        t = Timestamp(t.0 + rng.below(2 * mean_gap_ns) as i64);
        let finished = step(conv, budget, &mut rng, &mut buf);
        w.write_packet(t, &buf, buf.len() as u32)?;
        counts.packets += 1;
        counts.bytes += buf.len() as u64;
        if finished {
            active.swap_remove(i);
            counts.flows += 1;
        }
    }
    w.finish()?;
    Ok(counts)
}

/// The name a DNS conversation asks for.
fn dns_name(c: &Conv) -> String {
    format!("host-{}.corp.example", c.cport % 500)
}

/// Emits the next packet of `c` into `buf`; true when the conversation is over.
fn step(c: &mut Conv, budget: &mut u32, rng: &mut Rng, buf: &mut Vec<u8>) -> bool {
    let client = IpAddr::V4(c.client);
    let server = IpAddr::V4(c.server);
    let tcp = |from_client: bool, flags: u8, c: &Conv| {
        let (src, dst, sp, dp, seq, ack) = if from_client {
            (client, server, c.cport, c.sport, c.c_seq, c.s_seq)
        } else {
            (server, client, c.sport, c.cport, c.s_seq, c.c_seq)
        };
        FrameSpec::new(
            src,
            dst,
            L4::Tcp {
                sport: sp,
                dport: dp,
                seq,
                ack: if flags & ACK != 0 { ack } else { 0 },
                flags,
                window: 64_240,
            },
        )
    };
    match c.phase {
        Phase::Syn => {
            build(&tcp(true, SYN, c), Payload::Bytes(&[]), buf);
            c.c_seq = c.c_seq.wrapping_add(1);
            c.phase = Phase::SynAck;
        }
        Phase::SynAck => {
            build(&tcp(false, SYN | ACK, c), Payload::Bytes(&[]), buf);
            c.s_seq = c.s_seq.wrapping_add(1);
            c.phase = Phase::Ack;
        }
        Phase::Ack => {
            build(&tcp(true, ACK, c), Payload::Bytes(&[]), buf);
            c.phase = Phase::Data {
                left: *budget,
                ack_due: false,
            };
        }
        Phase::Data { left, ack_due } => {
            if ack_due {
                build(&tcp(!c.last_from_client, ACK, c), Payload::Bytes(&[]), buf);
                c.phase = if left == 0 {
                    Phase::FinC
                } else {
                    Phase::Data {
                        left,
                        ack_due: false,
                    }
                };
            } else {
                // Servers send more than clients; most segments are full-size.
                let from_client = rng.below(3) == 0;
                let len = if rng.below(3) == 0 {
                    1 + rng.below(1460) as usize
                } else {
                    1460
                };
                build(
                    &tcp(from_client, PSH | ACK, c),
                    Payload::Fill { byte: 0x5a, len },
                    buf,
                );
                if from_client {
                    c.c_seq = c.c_seq.wrapping_add(len as u32);
                } else {
                    c.s_seq = c.s_seq.wrapping_add(len as u32);
                }
                c.last_from_client = from_client;
                let left = left.saturating_sub(1);
                c.phase = Phase::Data {
                    left,
                    ack_due: left == 0 || rng.below(10) < 7,
                };
            }
        }
        Phase::FinC => {
            build(&tcp(true, FIN | ACK, c), Payload::Bytes(&[]), buf);
            c.c_seq = c.c_seq.wrapping_add(1);
            c.phase = Phase::FinS;
        }
        Phase::FinS => {
            build(&tcp(false, FIN | ACK, c), Payload::Bytes(&[]), buf);
            c.s_seq = c.s_seq.wrapping_add(1);
            c.phase = Phase::LastAck;
        }
        Phase::LastAck => {
            build(&tcp(true, ACK, c), Payload::Bytes(&[]), buf);
            c.phase = Phase::Done;
        }
        Phase::UdpQuery => {
            let spec = FrameSpec::new(
                client,
                server,
                L4::Udp {
                    sport: c.cport,
                    dport: c.sport,
                },
            );
            let q = dns::query(c.cport, &dns_name(c));
            build(&spec, Payload::Bytes(&q), buf);
            c.phase = Phase::UdpAnswer;
        }
        Phase::UdpAnswer => {
            let spec = FrameSpec::new(
                server,
                client,
                L4::Udp {
                    sport: c.sport,
                    dport: c.cport,
                },
            );
            let a = dns::answer(
                c.cport,
                &dns_name(c),
                Ipv4Addr::new(10, 2, 1, (c.cport % 250) as u8 + 1),
            );
            build(&spec, Payload::Bytes(&a), buf);
            c.phase = Phase::Done;
        }
        Phase::Done => {}
    }
    c.phase == Phase::Done
}

/// Writes a SYN flood: `packets` SYNs from random source addresses and
/// ports to one server port, every one a new connection attempt (the
/// input of the flow table's memory-bound check).
pub fn write_syn_flood<W: Write>(packets: u64, seed: u64, out: W) -> io::Result<BulkCounts> {
    let mut w = CaptureWriter::new(
        out,
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )?;
    let mut rng = Rng::new(seed);
    let mut buf = Vec::with_capacity(64);
    let target = IpAddr::V4(Ipv4Addr::new(10, 2, 0, 20));
    let mut counts = BulkCounts::default();
    let start = BulkSpec::default().start;
    for i in 0..packets {
        let r = rng.next_u64();
        let src = IpAddr::V4(Ipv4Addr::from((r >> 32) as u32 | 0x0100_0000));
        let spec = FrameSpec::new(
            src,
            target,
            L4::Tcp {
                sport: r as u16 | 1024,
                dport: 445,
                seq: (r >> 16) as u32,
                ack: 0,
                flags: SYN,
                window: 1024,
            },
        );
        build(&spec, Payload::Bytes(&[]), &mut buf);
        w.write_packet(
            Timestamp(start.0 + i as i64 * 10_000),
            &buf,
            buf.len() as u32,
        )?;
        counts.packets += 1;
        counts.flows += 1;
        counts.bytes += buf.len() as u64;
    }
    w.finish()?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_capture_has_the_asked_shape_and_is_deterministic() {
        let spec = BulkSpec {
            flows: 500,
            packets: 20_000,
            concurrent: 50,
            ..BulkSpec::default()
        };
        let mut a = Vec::new();
        let counts = write_bulk(&spec, &mut a).unwrap();
        let mut b = Vec::new();
        write_bulk(&spec, &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(counts.flows, 500);
        assert!(
            counts.packets > 10_000 && counts.packets < 30_000,
            "{counts:?}"
        );
        let mean = counts.bytes / counts.packets;
        assert!((500..800).contains(&mean), "mean frame {mean}");
    }
}
