//! Capture files in, frames out: the first step of the capture source.
//!
//! Reads classic pcap (both byte orders, micro- and nanosecond, the
//! "modified" variant) and pcapng (several sections and interfaces, each
//! with its own link type and `if_tsresol`; Enhanced, Simple and obsolete
//! Packet blocks; other blocks skipped) with `pcap-parser`, and hands each
//! frame to a callback without copying it. Lengths are checked before they
//! are trusted: a truncated file is read up to the cut, a corrupt length
//! stops the file with its offset, and both are reported, never panicked on.

use crate::diag::Diagnostics;
use crate::input::{ByteWindow, Format};
use crate::model::event::{NANOS_PER_SEC, Origin, Position, Timestamp};
use pcap_parser::pcapng::Block;
use std::sync::Arc;

/// Largest captured length accepted for one packet record. Real link types
/// stay far below (TSO super-frames reach 64 KiB; Wireshark's ceiling is
/// 256 KiB for most link types); beyond this the length field is corrupt.
pub const MAX_CAPLEN: u32 = 16 << 20;

/// Largest pcapng block accepted.
pub const MAX_BLOCK: u32 = 32 << 20;

/// One captured frame, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// LINKTYPE_ number of the interface the frame was captured on.
    pub linktype: u32,
    /// The captured bytes (may be shorter than `orig_len`).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// Byte offset of the record in the (decompressed) input.
    pub offset: u64,
}

/// How reading a capture ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEnd {
    /// Every record was read.
    Complete,
    /// The input ends inside a record; everything before `offset` was read.
    Truncated {
        /// Offset of the incomplete record.
        offset: u64,
    },
    /// A length or structure is impossible; reading stopped at `offset`.
    Corrupt {
        /// Offset of the bad record or block.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// The input could not be read past `offset`.
    ReadError {
        /// Where reading failed.
        offset: u64,
        /// The I/O error's text.
        error: String,
    },
}

impl CaptureEnd {
    /// True when the whole input was read.
    pub fn is_complete(&self) -> bool {
        matches!(self, CaptureEnd::Complete)
    }
}

/// Counts from reading one capture's records (not its packets' contents).
#[derive(Debug, Clone, Default)]
pub struct CaptureCounts {
    /// Packet records read (Enhanced, Simple, obsolete Packet blocks or pcap records).
    pub packets: u64,
    /// Captured bytes in those records.
    pub captured_bytes: u64,
    /// pcapng sections seen.
    pub sections: u32,
    /// pcapng interfaces declared.
    pub interfaces: u32,
    /// pcapng blocks skipped because their type carries no packets.
    pub other_blocks: u64,
}

/// Reads every frame of a capture whose format was sniffed as `format`.
///
/// Frames go to `on_frame` in file order. Problems with single records are
/// counted in `diag`; the return value says whether the input was read to
/// its end.
pub fn read_capture(
    format: Format,
    window: &mut ByteWindow,
    file: &Arc<str>,
    diag: &mut Diagnostics,
    counts: &mut CaptureCounts,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> CaptureEnd {
    let end = match format {
        Format::PcapNg => read_pcapng(window, file, diag, counts, on_frame),
        _ => read_pcap(window, counts, on_frame),
    };
    if let Some(e) = window.take_error() {
        return CaptureEnd::ReadError {
            offset: window.offset(),
            error: e.to_string(),
        };
    }
    end
}

/// Makes at least `n` bytes available; false if the input has fewer left.
fn ensure(window: &mut ByteWindow, n: usize) -> bool {
    while window.bytes().len() < n {
        if !window.fill(n) {
            return window.bytes().len() >= n;
        }
    }
    true
}

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(s)
    } else {
        u32::from_le_bytes(s)
    })
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(s)
    } else {
        u16::from_le_bytes(s)
    })
}

fn origin(file: &Arc<str>, offset: u64) -> Origin {
    Origin {
        file: file.clone(),
        at: Position::Offset(offset),
    }
}

fn read_pcap(
    window: &mut ByteWindow,
    counts: &mut CaptureCounts,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> CaptureEnd {
    if !ensure(window, 24) {
        return CaptureEnd::Truncated { offset: 0 };
    }
    let header = match pcap_parser::pcap::parse_pcap_header(window.bytes()) {
        Ok((_, h)) => h,
        Err(_) => {
            return CaptureEnd::Corrupt {
                offset: 0,
                reason: "pcap file header not recognised".into(),
            };
        }
    };
    let big_endian = header.is_bigendian();
    let nanos = header.is_nanosecond_precision();
    let rec_hdr = if header.is_modified_format() { 24 } else { 16 };
    // The link-type field's upper bits carry FCS information; the type is the low 16 bits.
    let linktype = (header.network.0 as u32) & 0xffff;
    window.consume(24);
    loop {
        if window.bytes().is_empty() && !window.fill(rec_hdr) {
            return CaptureEnd::Complete;
        }
        if !ensure(window, rec_hdr) {
            return CaptureEnd::Truncated {
                offset: window.offset(),
            };
        }
        let offset = window.offset();
        let b = window.bytes();
        let (Some(ts_sec), Some(ts_frac), Some(caplen), Some(orig_len)) = (
            u32_at(b, 0, big_endian),
            u32_at(b, 4, big_endian),
            u32_at(b, 8, big_endian),
            u32_at(b, 12, big_endian),
        ) else {
            return CaptureEnd::Truncated { offset };
        };
        if caplen > MAX_CAPLEN {
            return CaptureEnd::Corrupt {
                offset,
                reason: format!("record length {caplen} is impossible"),
            };
        }
        let total = rec_hdr + caplen as usize;
        if !ensure(window, total) {
            return CaptureEnd::Truncated { offset };
        }
        let b = window.bytes();
        let Some(data) = b.get(rec_hdr..total) else {
            return CaptureEnd::Truncated { offset };
        };
        let frac_ns = if nanos {
            i64::from(ts_frac)
        } else {
            i64::from(ts_frac) * 1000
        };
        let frame = Frame {
            ts: Timestamp(i64::from(ts_sec) * NANOS_PER_SEC + frac_ns),
            linktype,
            data,
            orig_len,
            offset,
        };
        counts.packets += 1;
        counts.captured_bytes += u64::from(caplen);
        on_frame(&frame);
        window.consume(total);
    }
}

/// What a pcapng section says about one of its interfaces.
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp (`if_tsoffset`).
    offset_secs: i64,
}

/// Timestamp units per second from an `if_tsresol` byte: 10^n, or 2^n when
/// the high bit is set. (pcap-parser's helper rejects every binary
/// resolution, so this is done here.)
fn ts_units(tsresol: u8) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

fn pcapng_ts(ts_high: u32, ts_low: u32, iface: &Interface) -> Timestamp {
    let raw = (u64::from(ts_high) << 32) | u64::from(ts_low);
    let units = iface.units.max(1);
    let secs = (raw / units) as i128 + i128::from(iface.offset_secs);
    let frac = (raw % units) as u128;
    let nanos = (frac * NANOS_PER_SEC as u128 / units as u128) as i128;
    let total = secs * i128::from(NANOS_PER_SEC) + nanos;
    Timestamp(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// pcapng block type numbers this reader handles itself.
const SHB_TYPE: u32 = 0x0a0d_0d0a;
const OBSOLETE_PACKET_TYPE: u32 = 2;

fn read_pcapng(
    window: &mut ByteWindow,
    file: &Arc<str>,
    diag: &mut Diagnostics,
    counts: &mut CaptureCounts,
    on_frame: &mut dyn FnMut(&Frame<'_>),
) -> CaptureEnd {
    let mut big_endian = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut last_ts = Timestamp(0);
    let mut seen_shb = false;
    loop {
        if window.bytes().is_empty() && !window.fill(12) {
            return CaptureEnd::Complete;
        }
        let offset = window.offset();
        if !ensure(window, 12) {
            return CaptureEnd::Truncated { offset };
        }
        let b = window.bytes();
        let Some(block_type_le) = u32_at(b, 0, false) else {
            return CaptureEnd::Truncated { offset };
        };
        if block_type_le == SHB_TYPE {
            // The byte-order magic decides how this section is read.
            match u32_at(b, 8, false) {
                Some(0x1a2b_3c4d) => big_endian = false,
                Some(0x4d3c_2b1a) => big_endian = true,
                _ => {
                    return CaptureEnd::Corrupt {
                        offset,
                        reason: "section header byte-order magic not recognised".into(),
                    };
                }
            }
        } else if !seen_shb {
            return CaptureEnd::Corrupt {
                offset,
                reason: "pcapng input does not start with a section header".into(),
            };
        }
        let Some(len) = u32_at(b, 4, big_endian) else {
            return CaptureEnd::Truncated { offset };
        };
        if len < 12 || len % 4 != 0 || len > MAX_BLOCK {
            return CaptureEnd::Corrupt {
                offset,
                reason: format!("block length {len} is impossible"),
            };
        }
        let len = len as usize;
        if !ensure(window, len) {
            return CaptureEnd::Truncated { offset };
        }
        let b = window.bytes();
        let Some(block_bytes) = b.get(..len) else {
            return CaptureEnd::Truncated { offset };
        };
        if u32_at(block_bytes, len - 4, big_endian) != Some(len as u32) {
            return CaptureEnd::Corrupt {
                offset,
                reason: "block's trailing length does not match its leading length".into(),
            };
        }
        let block_type = if big_endian {
            block_type_le.swap_bytes()
        } else {
            block_type_le
        };
        let parsed = if big_endian {
            pcap_parser::pcapng::parse_block_be(block_bytes)
        } else {
            pcap_parser::pcapng::parse_block_le(block_bytes)
        };
        match parsed {
            Ok((_, block)) => match block {
                Block::SectionHeader(_) => {
                    seen_shb = true;
                    counts.sections += 1;
                    interfaces.clear();
                }
                Block::InterfaceDescription(idb) => {
                    counts.interfaces += 1;
                    let units = match ts_units(idb.if_tsresol) {
                        Some(u) if u > 0 => u,
                        _ => {
                            diag.skip(
                                "pcapng: invalid if_tsresol, microseconds assumed",
                                || origin(file, offset),
                                || format!("if_tsresol {}", idb.if_tsresol),
                            );
                            1_000_000
                        }
                    };
                    interfaces.push(Interface {
                        linktype: u32::from(idb.linktype.0 as u16),
                        snaplen: idb.snaplen,
                        units,
                        offset_secs: idb.if_tsoffset,
                    });
                }
                Block::EnhancedPacket(epb) => {
                    let Some(iface) = interfaces.get(epb.if_id as usize) else {
                        diag.skip(
                            "pcapng: packet on an undeclared interface",
                            || origin(file, offset),
                            || format!("interface id {}", epb.if_id),
                        );
                        window.consume(len);
                        continue;
                    };
                    let caplen = (epb.caplen as usize).min(epb.data.len());
                    let data = epb.data.get(..caplen).unwrap_or(&[]);
                    let ts = pcapng_ts(epb.ts_high, epb.ts_low, iface);
                    last_ts = ts;
                    counts.packets += 1;
                    counts.captured_bytes += caplen as u64;
                    on_frame(&Frame {
                        ts,
                        linktype: iface.linktype,
                        data,
                        orig_len: epb.origlen,
                        offset,
                    });
                }
                Block::SimplePacket(spb) => {
                    let Some(iface) = interfaces.first() else {
                        diag.skip(
                            "pcapng: packet on an undeclared interface",
                            || origin(file, offset),
                            || "simple packet block before any interface".into(),
                        );
                        window.consume(len);
                        continue;
                    };
                    let mut caplen = (spb.origlen as usize).min(spb.data.len());
                    if iface.snaplen > 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    let data = spb.data.get(..caplen).unwrap_or(&[]);
                    counts.packets += 1;
                    counts.captured_bytes += caplen as u64;
                    // Simple Packet Blocks carry no time: use the last time seen.
                    on_frame(&Frame {
                        ts: last_ts,
                        linktype: iface.linktype,
                        data,
                        orig_len: spb.origlen,
                        offset,
                    });
                }
                Block::Unknown(ub) if block_type == OBSOLETE_PACKET_TYPE => {
                    let body = ub.data;
                    let parsed = (|| {
                        let if_id = u16_at(body, 0, big_endian)?;
                        let hi = u32_at(body, 4, big_endian)?;
                        let lo = u32_at(body, 8, big_endian)?;
                        let caplen = u32_at(body, 12, big_endian)?;
                        let orig = u32_at(body, 16, big_endian)?;
                        let end = 20usize.checked_add(caplen as usize)?;
                        let data = body.get(20..end)?;
                        Some((if_id, hi, lo, orig, data))
                    })();
                    match parsed {
                        Some((if_id, hi, lo, orig_len, data)) => {
                            if let Some(iface) = interfaces.get(usize::from(if_id)) {
                                let ts = pcapng_ts(hi, lo, iface);
                                last_ts = ts;
                                counts.packets += 1;
                                counts.captured_bytes += data.len() as u64;
                                on_frame(&Frame {
                                    ts,
                                    linktype: iface.linktype,
                                    data,
                                    orig_len,
                                    offset,
                                });
                            } else {
                                diag.skip(
                                    "pcapng: packet on an undeclared interface",
                                    || origin(file, offset),
                                    || format!("interface id {if_id}"),
                                );
                            }
                        }
                        None => diag.skip(
                            "pcapng: malformed packet block",
                            || origin(file, offset),
                            || "obsolete packet block shorter than its lengths".into(),
                        ),
                    }
                }
                _ => counts.other_blocks += 1,
            },
            Err(_) => {
                if block_type == SHB_TYPE {
                    return CaptureEnd::Corrupt {
                        offset,
                        reason: "malformed section header block".into(),
                    };
                }
                // The framing is sound (lengths agree), so only this block is lost.
                diag.skip(
                    "pcapng: malformed block",
                    || origin(file, offset),
                    || format!("block type 0x{block_type:08x}"),
                );
            }
        }
        window.consume(len);
    }
}
