//! Capture files written from frames: classic pcap (either byte order,
//! micro- or nanosecond timestamps, any snaplen) and pcapng (several
//! sections and interfaces, each with its link type and `if_tsresol`;
//! Enhanced, Simple and obsolete Packet blocks; arbitrary unknown blocks so
//! readers can be tested to skip them).
//!
//! Wrap the destination in a `BufWriter`: every record is two `write_all`s.

use crate::model::event::{NANOS_PER_SEC, Timestamp};
use std::io::{self, Write};

/// Which kind of capture to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    /// Classic pcap.
    Pcap {
        /// Nanosecond timestamps (magic a1b23c4d) instead of microseconds.
        nanos: bool,
        /// Big-endian headers.
        big_endian: bool,
    },
    /// pcapng.
    PcapNg {
        /// Big-endian blocks.
        big_endian: bool,
    },
}

/// Writes a capture, one frame at a time.
pub struct CaptureWriter<W: Write> {
    out: W,
    kind: CaptureKind,
    snaplen: u32,
    /// pcapng interfaces of the current section: (link type, if_tsresol).
    interfaces: Vec<(u32, u8)>,
}

fn too_big() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "record too large for a capture",
    )
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a capture. For pcap, `linktype` is the file's link type; for
    /// pcapng one section and one interface with that link type and
    /// microsecond resolution are written.
    pub fn new(out: W, kind: CaptureKind, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let mut w = CaptureWriter {
            out,
            kind,
            snaplen,
            interfaces: Vec::new(),
        };
        match kind {
            CaptureKind::Pcap { nanos, .. } => {
                let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
                let mut h = Vec::with_capacity(24);
                h.extend(w.u32b(magic));
                h.extend(w.u16b(2));
                h.extend(w.u16b(4));
                h.extend(w.u32b(0));
                h.extend(w.u32b(0));
                h.extend(w.u32b(snaplen));
                h.extend(w.u32b(linktype));
                w.out.write_all(&h)?;
            }
            CaptureKind::PcapNg { .. } => {
                w.new_section()?;
                w.add_interface(linktype, 6)?;
            }
        }
        Ok(w)
    }

    fn big(&self) -> bool {
        match self.kind {
            CaptureKind::Pcap { big_endian, .. } | CaptureKind::PcapNg { big_endian } => big_endian,
        }
    }

    fn u32b(&self, v: u32) -> [u8; 4] {
        if self.big() {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u16b(&self, v: u16) -> [u8; 2] {
        if self.big() {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Writes a pcapng block of `block_type` around `body` (padded to 4 bytes).
    pub fn write_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let pad = (4 - body.len() % 4) % 4;
        let len = u32::try_from(12 + body.len() + pad).map_err(|_| too_big())?;
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&self.u32b(block_type));
        head[4..].copy_from_slice(&self.u32b(len));
        self.out.write_all(&head)?;
        self.out.write_all(body)?;
        self.out.write_all(&[0u8; 3][..pad])?;
        let tail = self.u32b(len);
        self.out.write_all(&tail)
    }

    /// Starts a new pcapng section (its interfaces start again from 0).
    pub fn new_section(&mut self) -> io::Result<()> {
        let mut b = Vec::with_capacity(16);
        b.extend(self.u32b(0x1a2b_3c4d));
        b.extend(self.u16b(1));
        b.extend(self.u16b(0));
        b.extend_from_slice(&[0xff; 8]);
        self.interfaces.clear();
        self.write_block(0x0a0d_0d0a, &b)
    }

    /// Declares a pcapng interface; returns its id. `tsresol` is the raw
    /// `if_tsresol` byte (6 = microseconds, 9 = nanoseconds, 0x80|n = 2^-n).
    pub fn add_interface(&mut self, linktype: u32, tsresol: u8) -> io::Result<u32> {
        let mut b = Vec::with_capacity(24);
        b.extend(self.u16b(linktype as u16));
        b.extend(self.u16b(0));
        b.extend(self.u32b(self.snaplen));
        if tsresol != 6 {
            b.extend(self.u16b(9));
            b.extend(self.u16b(1));
            b.extend_from_slice(&[tsresol, 0, 0, 0]);
        }
        b.extend(self.u16b(0));
        b.extend(self.u16b(0));
        self.write_block(1, &b)?;
        self.interfaces.push((linktype, tsresol));
        Ok((self.interfaces.len() - 1) as u32)
    }

    /// Timestamp in units of an interface's resolution.
    fn ticks(ts: Timestamp, tsresol: u8) -> u64 {
        let ns = ts.0.max(0) as u128;
        let v = if tsresol & 0x80 == 0 {
            let units = 10u128.pow(u32::from(tsresol.min(19)));
            ns * units / NANOS_PER_SEC as u128
        } else {
            let shift = u32::from(tsresol & 0x7f).min(63);
            (ns << shift) / NANOS_PER_SEC as u128
        };
        v.min(u128::from(u64::MAX)) as u64
    }

    /// Writes a frame; it is cut to the snaplen, and `orig_len` (at least
    /// the frame's length) is recorded as the length on the wire.
    pub fn write_packet(&mut self, ts: Timestamp, frame: &[u8], orig_len: u32) -> io::Result<()> {
        match self.kind {
            CaptureKind::PcapNg { .. } => self.write_enhanced(0, ts, frame, orig_len),
            CaptureKind::Pcap { nanos, .. } => {
                let caplen = frame.len().min(self.snaplen as usize);
                let orig = orig_len.max(u32::try_from(frame.len()).map_err(|_| too_big())?);
                let secs = ts.secs().clamp(0, i64::from(u32::MAX)) as u32;
                let frac = if nanos {
                    ts.subsec_nanos()
                } else {
                    ts.subsec_nanos() / 1000
                } as u32;
                let mut h = [0u8; 16];
                h[..4].copy_from_slice(&self.u32b(secs));
                h[4..8].copy_from_slice(&self.u32b(frac));
                h[8..12].copy_from_slice(&self.u32b(caplen as u32));
                h[12..].copy_from_slice(&self.u32b(orig));
                self.out.write_all(&h)?;
                self.out.write_all(frame.get(..caplen).unwrap_or(frame))
            }
        }
    }

    /// Writes an Enhanced Packet Block on interface `if_id` (pcapng only).
    pub fn write_enhanced(
        &mut self,
        if_id: u32,
        ts: Timestamp,
        frame: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let tsresol = self.interfaces.get(if_id as usize).map_or(6, |i| i.1);
        let caplen = frame.len().min(self.snaplen as usize);
        let t = Self::ticks(ts, tsresol);
        let mut b = Vec::with_capacity(20 + caplen);
        b.extend(self.u32b(if_id));
        b.extend(self.u32b((t >> 32) as u32));
        b.extend(self.u32b(t as u32));
        b.extend(self.u32b(caplen as u32));
        b.extend(self.u32b(orig_len.max(frame.len() as u32)));
        b.extend_from_slice(frame.get(..caplen).unwrap_or(frame));
        self.write_block(6, &b)
    }

    /// Writes a Simple Packet Block (interface 0, no timestamp).
    pub fn write_simple(&mut self, frame: &[u8]) -> io::Result<()> {
        let caplen = frame.len().min(self.snaplen as usize);
        let mut b = Vec::with_capacity(4 + caplen);
        b.extend(self.u32b(frame.len() as u32));
        b.extend_from_slice(frame.get(..caplen).unwrap_or(frame));
        self.write_block(3, &b)
    }

    /// Writes an obsolete Packet Block (type 2).
    pub fn write_obsolete(&mut self, if_id: u16, ts: Timestamp, frame: &[u8]) -> io::Result<()> {
        let tsresol = self.interfaces.get(usize::from(if_id)).map_or(6, |i| i.1);
        let t = Self::ticks(ts, tsresol);
        let caplen = frame.len().min(self.snaplen as usize);
        let mut b = Vec::with_capacity(20 + caplen);
        b.extend(self.u16b(if_id));
        b.extend(self.u16b(0));
        b.extend(self.u32b((t >> 32) as u32));
        b.extend(self.u32b(t as u32));
        b.extend(self.u32b(caplen as u32));
        b.extend(self.u32b(frame.len() as u32));
        b.extend_from_slice(frame.get(..caplen).unwrap_or(frame));
        self.write_block(2, &b)
    }

    /// Flushes and returns the destination.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::input::{ByteWindow, sniff};
    use crate::source::capture::{CaptureCounts, CaptureEnd, read_capture};
    use std::sync::Arc;

    fn read_all(bytes: Vec<u8>) -> (Vec<(i64, u32, usize, u32)>, CaptureEnd) {
        let format = sniff(&bytes);
        let mut w = ByteWindow::owned(bytes);
        let mut got = Vec::new();
        let end = read_capture(
            format,
            &mut w,
            &Arc::from("t"),
            &mut Diagnostics::default(),
            &mut CaptureCounts::default(),
            &mut |f| got.push((f.ts.0, f.linktype, f.data.len(), f.orig_len)),
        );
        (got, end)
    }

    #[test]
    fn pcap_variants_round_trip() {
        for nanos in [false, true] {
            for big_endian in [false, true] {
                let mut w =
                    CaptureWriter::new(Vec::new(), CaptureKind::Pcap { nanos, big_endian }, 1, 60)
                        .unwrap();
                w.write_packet(Timestamp(1_600_000_000_123_456_789), &[1u8; 100], 100)
                    .unwrap();
                w.write_packet(Timestamp(1_600_000_001_000_000_000), &[2u8; 20], 20)
                    .unwrap();
                let (got, end) = read_all(w.finish().unwrap());
                assert_eq!(end, CaptureEnd::Complete);
                let t0 = if nanos {
                    1_600_000_000_123_456_789
                } else {
                    1_600_000_000_123_456_000
                };
                assert_eq!(
                    got,
                    vec![(t0, 1, 60, 100), (1_600_000_001_000_000_000, 1, 20, 20)]
                );
            }
        }
    }

    #[test]
    fn pcapng_sections_interfaces_and_block_kinds_round_trip() {
        for big_endian in [false, true] {
            let mut w =
                CaptureWriter::new(Vec::new(), CaptureKind::PcapNg { big_endian }, 1, 65535)
                    .unwrap();
            let ns = w.add_interface(101, 9).unwrap();
            w.write_enhanced(0, Timestamp(5_000_001_000), &[0u8; 10], 10)
                .unwrap();
            w.write_enhanced(ns, Timestamp(5_000_000_007), &[0x45u8; 12], 12)
                .unwrap();
            w.write_block(0x0bad_cafe, b"unknown block body").unwrap();
            w.write_simple(&[0u8; 14]).unwrap();
            w.write_obsolete(1, Timestamp(6_000_000_009), &[0x60u8; 8])
                .unwrap();
            w.new_section().unwrap();
            w.add_interface(113, 0x80 | 20).unwrap();
            w.write_enhanced(0, Timestamp(7_000_000_000), &[0u8; 16], 16)
                .unwrap();
            let (got, end) = read_all(w.finish().unwrap());
            assert_eq!(end, CaptureEnd::Complete);
            assert_eq!(
                got,
                vec![
                    (5_000_001_000, 1, 10, 10),
                    (5_000_000_007, 101, 12, 12),
                    (5_000_000_007, 1, 14, 14),
                    (6_000_000_009, 101, 8, 8),
                    (7_000_000_000, 113, 16, 16),
                ]
            );
        }
    }
}
