//! What one generator task produces for one time bucket: frames (in an
//! arena, with their capture times) and log records, plus the helpers that
//! turn a planned conversation into valid frames: TCP sessions with
//! handshakes, data, retransmissions, capture loss and teardown or reset;
//! DNS over UDP; SSH with a real banner and key exchange so Wireshark's
//! dissector accepts it.
//!
//! Everything here is deterministic given the task's [`Rng`].

use crate::model::event::{Duration, Timestamp};
use crate::scenario::logs::LogRec;
use crate::synth::bulk::Rng;
use crate::synth::dns;
use crate::synth::frame::Payload;
use crate::synth::tcp_session::{FrameSink, TcpSession, udp_exchange};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Frames of one task: bytes in one arena, and (time, start, length) per frame.
#[derive(Debug, Default)]
pub struct FrameBuf {
    /// All frame bytes, back to back.
    pub data: Vec<u8>,
    /// Per frame: capture time (ns), start in `data`, length.
    pub index: Vec<(i64, usize, u32)>,
}

impl FrameBuf {
    /// The bytes of frame `k`.
    pub fn frame(&self, k: usize) -> &[u8] {
        match self.index.get(k) {
            Some(&(_, at, len)) => self.data.get(at..at + len as usize).unwrap_or(&[]),
            None => &[],
        }
    }

    /// Appends one frame.
    pub fn push(&mut self, ts: Timestamp, frame: &[u8]) {
        self.index.push((ts.0, self.data.len(), frame.len() as u32));
        self.data.extend_from_slice(frame);
    }
}

impl FrameSink for FrameBuf {
    fn frame(&mut self, ts: Timestamp, frame: &[u8]) {
        self.push(ts, frame);
    }
}

/// Drops one pure ACK of a conversation: what a capture point that missed
/// a packet records (the connection itself is unaffected).
struct Lossy<'a> {
    inner: &'a mut FrameBuf,
    drop_at: usize,
    seen: usize,
}

impl FrameSink for Lossy<'_> {
    fn frame(&mut self, ts: Timestamp, frame: &[u8]) {
        self.seen += 1;
        // 54 bytes (Ethernet + IPv4 + TCP headers, no payload) with only ACK set.
        let pure_ack = frame.len() == 54 && frame.get(47) == Some(&0x10);
        if self.seen >= self.drop_at && pure_ack && self.drop_at != usize::MAX {
            self.drop_at = usize::MAX;
            return;
        }
        self.inner.push(ts, frame);
    }
}

/// The first and last time of one ground-truth step seen by a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepSeen {
    /// Index of the step in the plan.
    pub step: usize,
    /// First packet or record.
    pub first: Timestamp,
    /// Last packet or record.
    pub last: Timestamp,
}

/// Everything one task produced for one bucket.
#[derive(Debug)]
pub struct Out {
    /// Frames.
    pub frames: FrameBuf,
    /// Log records, for any server's log.
    pub logs: Vec<LogRec>,
    /// Times of ground-truth steps rendered by this task.
    pub steps: Vec<StepSeen>,
    /// Next client port to hand out.
    next_port: u16,
    /// Random choices of this task.
    pub rng: Rng,
}

/// How a TCP conversation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// FIN from the client first, then the server (state SF).
    Fin,
    /// FIN from the server first (state SF).
    ServerFin,
    /// The client resets after its data (state RSTO).
    ClientReset,
    /// The server resets (state RSTR).
    ServerReset,
}

/// One data exchange in a conversation: who sends, how much, after what pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ex {
    /// True when the client sends.
    pub from_client: bool,
    /// Payload bytes.
    pub bytes: usize,
    /// Think time before sending.
    pub pause: Duration,
}

impl Ex {
    /// Client sends `bytes` straight away.
    pub fn c(bytes: usize) -> Ex {
        Ex {
            from_client: true,
            bytes,
            pause: Duration(0),
        }
    }

    /// Server sends `bytes` straight away.
    pub fn s(bytes: usize) -> Ex {
        Ex {
            from_client: false,
            bytes,
            pause: Duration(0),
        }
    }

    /// The same exchange after a pause of `secs`.
    pub fn after(mut self, secs: f64) -> Ex {
        self.pause = secs_f(secs);
        self
    }
}

/// A duration from fractional seconds.
pub fn secs_f(s: f64) -> Duration {
    Duration((s * 1e9) as i64)
}

/// `t` plus fractional seconds.
pub fn plus(t: Timestamp, s: f64) -> Timestamp {
    Timestamp(t.0 + (s * 1e9) as i64)
}

/// The endpoints and timing of one TCP conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv {
    /// Client address.
    pub client: Ipv4Addr,
    /// Client port.
    pub cport: u16,
    /// Server address.
    pub server: Ipv4Addr,
    /// Server port.
    pub port: u16,
    /// Time of the SYN.
    pub start: Timestamp,
}

/// Private (RFC 1918) addresses: the generated networks' internal hosts,
/// whatever their address plan; outside peers use documentation ranges.
fn is_internal(ip: Ipv4Addr) -> bool {
    ip.is_private()
}

impl Out {
    /// An empty output with its own random stream.
    pub fn new(rng: Rng) -> Out {
        let mut rng = rng;
        let next_port = 49_152 + rng.below(12_000) as u16;
        Out {
            frames: FrameBuf::default(),
            logs: Vec::new(),
            steps: Vec::new(),
            next_port,
            rng,
        }
    }

    /// A fresh ephemeral client port.
    pub fn port(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if self.next_port >= 65_000 {
            49_152
        } else {
            self.next_port + 1 + self.rng.below(3) as u16
        };
        p
    }

    /// A conversation from `client` to `server:port` at `start`, with a fresh client port.
    pub fn conv(
        &mut self,
        client: Ipv4Addr,
        server: Ipv4Addr,
        port: u16,
        start: Timestamp,
    ) -> Conv {
        Conv {
            client,
            cport: self.port(),
            server,
            port,
            start,
        }
    }

    /// A uniform random number in `lo..hi` (as f64).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.rng.below(1 << 30) as f64 / f64::from(1u32 << 30))
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform(0.0, 1.0) < p
    }

    /// A random index below `n`.
    pub fn pick(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    fn session(&mut self, c: &Conv) -> TcpSession {
        let isn_c = self.rng.next_u64() as u32;
        let isn_s = self.rng.next_u64() as u32;
        let mut s = TcpSession::new(
            SocketAddr::V4(SocketAddrV4::new(c.client, c.cport)),
            SocketAddr::V4(SocketAddrV4::new(c.server, c.port)),
            isn_c,
            isn_s,
        );
        // Round trips: a LAN is sub-millisecond, the internet tens of milliseconds.
        s.step = if is_internal(c.client) && is_internal(c.server) {
            Duration(150_000 + self.rng.below(400_000) as i64)
        } else {
            Duration(8_000_000 + self.rng.below(30_000_000) as i64)
        };
        s
    }

    /// A complete TCP conversation: handshake, the exchanges, the end.
    /// About 1.5% of conversations retransmit a segment and 0.5% lose one
    /// ACK at the capture point. Returns the time of the last packet.
    pub fn tcp(&mut self, c: &Conv, exchanges: &[Ex], end: End) -> Timestamp {
        let mut s = self.session(c);
        let retrans = self.chance(0.015);
        let lossy = self.chance(0.005);
        let drop_at = if lossy { 4 + self.pick(6) } else { usize::MAX };
        let mut frames = std::mem::take(&mut self.frames);
        let last;
        {
            let mut sink = Lossy {
                inner: &mut frames,
                drop_at,
                seen: 0,
            };
            let mut t = s.handshake(c.start, &mut sink);
            let mut retrans_done = !retrans;
            for ex in exchanges {
                t = Timestamp(t.0 + ex.pause.0);
                t = s.send(t, ex.from_client, ex.bytes, &mut sink);
                if !retrans_done && ex.bytes > 0 {
                    let len = ex.bytes.min(s.mss);
                    // The resend comes after a retransmission timeout.
                    t = s.retransmit(plus(t, 0.2), ex.from_client, len, &mut sink);
                    t = s.send(t, !ex.from_client, 0, &mut sink);
                    retrans_done = true;
                }
            }
            last = match end {
                End::Fin => s.close(t, true, &mut sink),
                End::ServerFin => s.close(t, false, &mut sink),
                End::ClientReset => s.reset(t, true, &mut sink),
                End::ServerReset => s.reset(t, false, &mut sink),
            };
        }
        self.frames = frames;
        Timestamp(last.0 - s.step.0)
    }

    /// A refused attempt: SYN then RST-ACK (REJ).
    pub fn rejected(&mut self, c: &Conv) -> Timestamp {
        let mut s = self.session(c);
        let t = s.rejected(c.start, &mut self.frames);
        Timestamp(t.0 - s.step.0)
    }

    /// An unanswered SYN (S0).
    pub fn unanswered(&mut self, c: &Conv) -> Timestamp {
        let mut s = self.session(c);
        s.unanswered(c.start, &mut self.frames);
        c.start
    }

    /// A connect-scan probe of an open port: handshake, then the client's RST (RSTO).
    pub fn probe_open(&mut self, c: &Conv) -> Timestamp {
        let mut s = self.session(c);
        let t = s.handshake(c.start, &mut self.frames);
        s.reset(t, true, &mut self.frames)
    }

    /// An SSH session: banners, key exchange, then `c2s`/`s2c` encrypted bytes
    /// in `rounds` exchanges `pause` seconds apart, then a client FIN.
    pub fn ssh(
        &mut self,
        c: &Conv,
        rounds: usize,
        c2s: usize,
        s2c: usize,
        pause: f64,
    ) -> Timestamp {
        let mut s = self.session(c);
        let mut frames = std::mem::take(&mut self.frames);
        let mut t = s.handshake(c.start, &mut frames);
        let server_banner: &[u8] = b"SSH-2.0-OpenSSH_5.8p1 Debian-7\r\n";
        let client_banner: &[u8] = b"SSH-2.0-OpenSSH_5.8p1 Debian-7\r\n";
        t = s.send_bytes(t, false, server_banner, &mut frames);
        t = s.send_bytes(t, true, client_banner, &mut frames);
        let mut cookie = [0u8; 16];
        for b in &mut cookie {
            *b = self.rng.below(256) as u8;
        }
        t = s.send_bytes(t, true, &ssh_kexinit(&cookie), &mut frames);
        cookie.reverse();
        t = s.send_bytes(t, false, &ssh_kexinit(&cookie), &mut frames);
        t = s.send_bytes(t, true, &ssh_packet(&ecdh_init()), &mut frames);
        t = s.send_bytes(t, false, &ssh_packet(&ecdh_reply()), &mut frames);
        t = s.send_bytes(t, false, &ssh_packet(&[21]), &mut frames);
        t = s.send_bytes(t, true, &ssh_packet(&[21]), &mut frames);
        let rounds = rounds.max(1);
        for r in 0..rounds {
            if r > 0 {
                t = plus(t, pause);
            }
            t = s.send(t, true, (c2s / rounds).max(36), &mut frames);
            t = s.send(t, false, (s2c / rounds).max(36), &mut frames);
        }
        let last = s.close(t, true, &mut frames);
        self.frames = frames;
        Timestamp(last.0 - s.step.0)
    }

    /// A DNS A query to `server` and its answer naming `addr`.
    pub fn dns(
        &mut self,
        t: Timestamp,
        client: Ipv4Addr,
        server: Ipv4Addr,
        name: &str,
        addr: Ipv4Addr,
    ) -> Timestamp {
        let id = self.rng.below(65_536) as u16;
        let q = dns::query(id, name);
        let a = dns::answer(id, name, addr);
        self.udp(t, client, server, 53, &q, &a)
    }

    /// A DNS AAAA query to `server` and its answer naming `addr`.
    pub fn dns_aaaa(
        &mut self,
        t: Timestamp,
        client: Ipv4Addr,
        server: Ipv4Addr,
        name: &str,
        addr: std::net::Ipv6Addr,
    ) -> Timestamp {
        let id = self.rng.below(65_536) as u16;
        let q = dns::query_aaaa(id, name);
        let a = dns::answer_aaaa(id, name, addr);
        self.udp(t, client, server, 53, &q, &a)
    }

    /// A UDP request to `server:port` and its reply (DNS, NTP), from a
    /// fresh client port (NTP's own port for NTP).
    pub fn udp(
        &mut self,
        t: Timestamp,
        client: Ipv4Addr,
        server: Ipv4Addr,
        port: u16,
        request: &[u8],
        reply: &[u8],
    ) -> Timestamp {
        let cport = if port == 123 { 123 } else { self.port() };
        let mut buf = Vec::with_capacity(128);
        udp_exchange(
            t,
            SocketAddr::V4(SocketAddrV4::new(client, cport)),
            SocketAddr::V4(SocketAddrV4::new(server, port)),
            Payload::Bytes(request),
            Some(Payload::Bytes(reply)),
            &mut buf,
            &mut self.frames,
        )
    }

    /// Records that this task rendered part of step `step` between these times.
    pub fn seen(&mut self, step: usize, first: Timestamp, last: Timestamp) {
        self.steps.push(StepSeen { step, first, last });
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// One SSH binary packet (RFC 4253 section 6) around `payload`, unencrypted.
fn ssh_packet(payload: &[u8]) -> Vec<u8> {
    let mut pad = 8 - (5 + payload.len()) % 8;
    if pad < 4 {
        pad += 8;
    }
    let mut p = Vec::with_capacity(5 + payload.len() + pad);
    p.extend_from_slice(&((1 + payload.len() + pad) as u32).to_be_bytes());
    p.push(pad as u8);
    p.extend_from_slice(payload);
    p.resize(p.len() + pad, 0);
    p
}

fn ssh_kexinit(cookie: &[u8; 16]) -> Vec<u8> {
    let mut m = vec![20u8];
    m.extend_from_slice(cookie);
    let lists: [&[u8]; 10] = [
        b"curve25519-sha256@libssh.org",
        b"ssh-ed25519",
        b"aes128-ctr",
        b"aes128-ctr",
        b"hmac-sha2-256",
        b"hmac-sha2-256",
        b"none",
        b"none",
        b"",
        b"",
    ];
    for l in lists {
        put_string(&mut m, l);
    }
    m.push(0);
    m.extend_from_slice(&[0, 0, 0, 0]);
    ssh_packet(&m)
}

fn ecdh_init() -> Vec<u8> {
    let mut m = vec![30u8];
    put_string(&mut m, &[0x5a; 32]);
    m
}

fn ecdh_reply() -> Vec<u8> {
    let mut m = vec![31u8];
    let mut key = Vec::new();
    put_string(&mut key, b"ssh-ed25519");
    put_string(&mut key, &[0x3c; 32]);
    put_string(&mut m, &key);
    put_string(&mut m, &[0x6b; 32]);
    let mut sig = Vec::new();
    put_string(&mut sig, b"ssh-ed25519");
    put_string(&mut sig, &[0x7d; 64]);
    put_string(&mut m, &sig);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_packets_are_block_aligned() {
        for n in 0..40 {
            let p = ssh_packet(&vec![1u8; n]);
            assert_eq!(p.len() % 8, 0);
            let len = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize;
            assert_eq!(len + 4, p.len());
            assert!(p[4] >= 4);
        }
    }
}
