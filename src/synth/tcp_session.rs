//! Realistic conversations as frames: a TCP session simulator that keeps
//! sequence and acknowledgement numbers right, and a UDP request/response
//! helper. Each step says exactly which packets it emits, so a test can
//! compute the Zeek conn.log record it expects.
//!
//! Packets of one step are spaced [`STEP`] apart from the step's start time.

use crate::model::event::{Duration, Timestamp};
use crate::source::decode::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use crate::synth::frame::{FrameSpec, L4, Payload, build};
use std::net::SocketAddr;

/// Time between consecutive packets of one step.
pub const STEP: Duration = Duration(100_000);

/// Receives each frame with its capture time.
pub trait FrameSink {
    /// Takes one frame.
    fn frame(&mut self, ts: Timestamp, frame: &[u8]);
}

impl<F: FnMut(Timestamp, &[u8])> FrameSink for F {
    fn frame(&mut self, ts: Timestamp, frame: &[u8]) {
        self(ts, frame)
    }
}

/// A TCP connection between a client and a server.
pub struct TcpSession {
    client: SocketAddr,
    server: SocketAddr,
    /// Next sequence number the client will send.
    c_seq: u32,
    /// Next sequence number the server will send.
    s_seq: u32,
    /// Largest payload per segment.
    pub mss: usize,
    /// Time between consecutive packets of one step (default [`STEP`]).
    pub step: Duration,
    /// Byte that fills generated payloads (default `A`).
    pub fill: u8,
    buf: Vec<u8>,
}

impl TcpSession {
    /// A session whose SYNs will carry these initial sequence numbers.
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        isn_client: u32,
        isn_server: u32,
    ) -> TcpSession {
        TcpSession {
            client,
            server,
            c_seq: isn_client,
            s_seq: isn_server,
            mss: 1460,
            step: STEP,
            fill: 0x41,
            buf: Vec::with_capacity(1600),
        }
    }

    fn emit(
        &mut self,
        sink: &mut dyn FrameSink,
        ts: Timestamp,
        from_client: bool,
        flags: u8,
        len: usize,
    ) {
        let fill = self.fill;
        self.emit_payload(
            sink,
            ts,
            from_client,
            flags,
            Payload::Fill { byte: fill, len },
        );
    }

    fn emit_payload(
        &mut self,
        sink: &mut dyn FrameSink,
        ts: Timestamp,
        from_client: bool,
        flags: u8,
        payload: Payload<'_>,
    ) {
        let len = payload.len();
        let (src, dst, seq, ack) = if from_client {
            (self.client, self.server, self.c_seq, self.s_seq)
        } else {
            (self.server, self.client, self.s_seq, self.c_seq)
        };
        let spec = FrameSpec::new(
            src.ip(),
            dst.ip(),
            L4::Tcp {
                sport: src.port(),
                dport: dst.port(),
                seq,
                ack: if flags & ACK != 0 { ack } else { 0 },
                flags,
                window: 64_240,
            },
        );
        build(&spec, payload, &mut self.buf);
        sink.frame(ts, &self.buf);
        let used = len as u32 + u32::from(flags & (SYN | FIN) != 0);
        if from_client {
            self.c_seq = self.c_seq.wrapping_add(used);
        } else {
            self.s_seq = self.s_seq.wrapping_add(used);
        }
    }

    /// The time `k` of this session's steps after `t`.
    pub fn at(&self, t: Timestamp, k: usize) -> Timestamp {
        Timestamp(t.0 + self.step.0 * k as i64)
    }

    /// One segment carrying exactly these bytes (at most `mss` of them),
    /// answered by a pure ACK: 2 packets. For protocols whose dissectors
    /// need real bytes (SSH banners and key exchange).
    pub fn send_bytes(
        &mut self,
        t: Timestamp,
        from_client: bool,
        bytes: &[u8],
        sink: &mut dyn FrameSink,
    ) -> Timestamp {
        let n = bytes.len().min(self.mss.max(1));
        let bytes = bytes.get(..n).unwrap_or(bytes);
        self.emit_payload(sink, t, from_client, PSH | ACK, Payload::Bytes(bytes));
        self.emit(sink, self.at(t, 1), !from_client, ACK, 0);
        self.at(t, 2)
    }

    /// Three packets: client SYN, server SYN-ACK, client ACK (history `ShA`).
    /// Returns the time after the last packet.
    pub fn handshake(&mut self, t: Timestamp, sink: &mut dyn FrameSink) -> Timestamp {
        self.emit(sink, t, true, SYN, 0);
        self.emit(sink, self.at(t, 1), false, SYN | ACK, 0);
        self.emit(sink, self.at(t, 2), true, ACK, 0);
        self.at(t, 3)
    }

    /// `n` payload bytes from one side in segments of at most `mss`
    /// (PSH|ACK), each answered by a pure ACK from the other side: 2 packets
    /// per segment (history `D` for the sender, `a`/`A` for the other).
    pub fn send(
        &mut self,
        t: Timestamp,
        from_client: bool,
        n: usize,
        sink: &mut dyn FrameSink,
    ) -> Timestamp {
        let mut left = n;
        let mut k = 0;
        while left > 0 {
            let len = left.min(self.mss.max(1));
            self.emit(sink, self.at(t, k), from_client, PSH | ACK, len);
            self.emit(sink, self.at(t, k + 1), !from_client, ACK, 0);
            left -= len;
            k += 2;
        }
        self.at(t, k)
    }

    /// One data segment of `len` bytes that repeats the sender's previous
    /// `len` bytes (a retransmission): 1 packet, adds `T`/`t` to the
    /// history and no bytes to the size.
    pub fn retransmit(
        &mut self,
        t: Timestamp,
        from_client: bool,
        len: usize,
        sink: &mut dyn FrameSink,
    ) -> Timestamp {
        let back = len as u32;
        if from_client {
            self.c_seq = self.c_seq.wrapping_sub(back);
        } else {
            self.s_seq = self.s_seq.wrapping_sub(back);
        }
        self.emit(sink, t, from_client, PSH | ACK, len);
        self.at(t, 1)
    }

    /// Orderly close started by one side: its FIN-ACK, the peer's FIN-ACK,
    /// its final ACK: 3 packets (history `F`, `f`, plus `A`/`a` for the last ACK).
    pub fn close(
        &mut self,
        t: Timestamp,
        client_first: bool,
        sink: &mut dyn FrameSink,
    ) -> Timestamp {
        self.emit(sink, t, client_first, FIN | ACK, 0);
        self.emit(sink, self.at(t, 1), !client_first, FIN | ACK, 0);
        self.emit(sink, self.at(t, 2), client_first, ACK, 0);
        self.at(t, 3)
    }

    /// One RST from one side: 1 packet.
    pub fn reset(
        &mut self,
        t: Timestamp,
        from_client: bool,
        sink: &mut dyn FrameSink,
    ) -> Timestamp {
        self.emit(sink, t, from_client, RST, 0);
        self.at(t, 1)
    }

    /// A connection attempt refused: client SYN, server RST-ACK (history `Sr`, state REJ).
    pub fn rejected(&mut self, t: Timestamp, sink: &mut dyn FrameSink) -> Timestamp {
        self.emit(sink, t, true, SYN, 0);
        self.emit(sink, self.at(t, 1), false, RST | ACK, 0);
        self.at(t, 2)
    }

    /// A connection attempt with no answer: one SYN (history `S`, state S0).
    pub fn unanswered(&mut self, t: Timestamp, sink: &mut dyn FrameSink) -> Timestamp {
        self.emit(sink, t, true, SYN, 0);
        self.at(t, 1)
    }
}

/// The time `k` steps after `t`.
pub fn at(t: Timestamp, k: usize) -> Timestamp {
    Timestamp(t.0 + STEP.0 * k as i64)
}

/// A UDP request and, if `resp` is given, one response: 1 or 2 packets
/// (history `Dd`, state SF; or `D`, S0).
pub fn udp_exchange(
    t: Timestamp,
    client: SocketAddr,
    server: SocketAddr,
    req: Payload<'_>,
    resp: Option<Payload<'_>>,
    buf: &mut Vec<u8>,
    sink: &mut dyn FrameSink,
) -> Timestamp {
    let spec = FrameSpec::new(
        client.ip(),
        server.ip(),
        L4::Udp {
            sport: client.port(),
            dport: server.port(),
        },
    );
    build(&spec, req, buf);
    sink.frame(t, buf);
    if let Some(answer) = resp {
        let back = FrameSpec::new(
            server.ip(),
            client.ip(),
            L4::Udp {
                sport: server.port(),
                dport: client.port(),
            },
        );
        build(&back, answer, buf);
        sink.frame(at(t, 1), buf);
        return at(t, 2);
    }
    at(t, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::model::event::ConnState;
    use crate::source::capture::Frame;
    use crate::source::decode::decode;
    use crate::source::flow_table::{FlowConfig, FlowTable};
    use std::sync::Arc;

    #[test]
    fn a_session_gives_the_documented_record() {
        let c: SocketAddr = "10.0.0.5:50000".parse().unwrap();
        let s: SocketAddr = "10.0.0.9:445".parse().unwrap();
        let mut table = FlowTable::new(FlowConfig::default(), Arc::from("t"));
        let mut diag = Diagnostics::default();
        let mut sink = |ts: Timestamp, f: &[u8]| {
            let frame = Frame {
                ts,
                linktype: 1,
                data: f,
                orig_len: f.len() as u32,
                offset: 0,
            };
            table.add(&decode(&frame).unwrap(), &mut diag);
        };
        let mut sess = TcpSession::new(c, s, 100, 9000);
        let t = sess.handshake(Timestamp(1_000_000_000), &mut sink);
        let t = sess.send(t, true, 3000, &mut sink);
        let t = sess.retransmit(t, true, 120, &mut sink);
        let t = sess.send(t, false, 500, &mut sink);
        sess.close(t, true, &mut sink);
        let (flows, _) = table.finish_all();
        assert_eq!(flows.len(), 1);
        let f = &flows[0];
        assert_eq!(f.conn_state, ConnState::SF);
        assert_eq!(f.history, "ShADaTdFf");
        assert_eq!((f.orig_bytes, f.resp_bytes), (Some(3000), Some(500)));
        // Client: SYN, ACK, 3 data, retransmission, 1 ACK, FIN, ACK = 9.
        assert_eq!((f.orig_pkts, f.resp_pkts), (9, 6));
        assert_eq!(f.orig_ip_bytes, 9 * 40 + 3000 + 120);
        assert_eq!(f.resp_ip_bytes, 6 * 40 + 500);
    }
}
