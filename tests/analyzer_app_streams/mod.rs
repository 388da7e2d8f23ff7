//! Test support for the application analyzers: the connections of a
//! capture, each direction's TCP payload put in sequence order (a small
//! reassembly, enough for the corpus captures) and UDP datagrams, read with
//! the library's own capture reader.
#![allow(dead_code)]

use lateral::input::{ByteWindow, sniff};
use lateral::model::event::Timestamp;
use lateral::source::capture::{CaptureCounts, read_capture};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// One direction of one connection.
#[derive(Debug, Default, Clone)]
pub struct Side {
    /// TCP payload by relative sequence number (first copy kept).
    segments: BTreeMap<u64, Vec<u8>>,
    base: Option<u32>,
    /// UDP datagrams, in capture order.
    pub datagrams: Vec<Vec<u8>>,
}

impl Side {
    /// The payload in sequence order, up to the first gap; overlaps trimmed.
    pub fn stream(&self) -> Vec<u8> {
        self.segment_list().concat()
    }

    /// The payload segments in sequence order (trimmed of overlaps), up to the first gap.
    pub fn segment_list(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut next = 0u64;
        for (&seq, data) in &self.segments {
            let end = seq + data.len() as u64;
            if end <= next {
                continue;
            }
            if seq > next {
                break;
            }
            out.push(data[(next - seq) as usize..].to_vec());
            next = end;
        }
        out
    }
}

/// One connection.
#[derive(Debug, Clone)]
pub struct Conn {
    /// First packet time.
    pub ts: Timestamp,
    /// IP protocol.
    pub proto: u8,
    /// Originator (SYN sender, else first sender).
    pub orig: (IpAddr, u16),
    /// Responder.
    pub resp: (IpAddr, u16),
    /// Originator to responder.
    pub client: Side,
    /// Responder to originator.
    pub server: Side,
}

struct L4<'a> {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    body: &'a [u8],
}

fn ip_layer(mut d: &[u8]) -> Option<L4<'_>> {
    let mut et = u16::from_be_bytes([*d.get(12)?, *d.get(13)?]);
    d = d.get(14..)?;
    while et == 0x8100 || et == 0x88a8 {
        et = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]);
        d = d.get(4..)?;
    }
    match et {
        0x0800 => {
            let ihl = usize::from(d.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([*d.get(2)?, *d.get(3)?]));
            let frag = u16::from_be_bytes([*d.get(6)?, *d.get(7)?]);
            if frag & 0x3fff != 0 {
                return None;
            }
            let src = IpAddr::from(<[u8; 4]>::try_from(d.get(12..16)?).ok()?);
            let dst = IpAddr::from(<[u8; 4]>::try_from(d.get(16..20)?).ok()?);
            // TSO super-frames carry a total length of 0: take what was captured.
            let end = if total == 0 {
                d.len()
            } else {
                total.min(d.len())
            };
            Some(L4 {
                src,
                dst,
                proto: *d.get(9)?,
                body: d.get(ihl..end)?,
            })
        }
        0x86dd => {
            let plen = usize::from(u16::from_be_bytes([*d.get(4)?, *d.get(5)?]));
            let src = IpAddr::from(<[u8; 16]>::try_from(d.get(8..24)?).ok()?);
            let dst = IpAddr::from(<[u8; 16]>::try_from(d.get(24..40)?).ok()?);
            let end = (40 + plen).min(d.len());
            Some(L4 {
                src,
                dst,
                proto: *d.get(6)?,
                body: d.get(40..end)?,
            })
        }
        _ => None,
    }
}

/// Every TCP and UDP connection of an Ethernet capture, in order of first packet.
pub fn connections(path: &Path) -> Vec<Conn> {
    let bytes = std::fs::read(path).expect("capture readable");
    let format = sniff(&bytes);
    let mut window = ByteWindow::owned(bytes);
    let file: Arc<str> = Arc::from("test");
    let mut diag = lateral::diag::Diagnostics::default();
    let mut counts = CaptureCounts::default();
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: BTreeMap<(IpAddr, u16, IpAddr, u16, u8), usize> = BTreeMap::new();
    read_capture(
        format,
        &mut window,
        &file,
        &mut diag,
        &mut counts,
        &mut |f| {
            if f.linktype != 1 {
                return;
            }
            let Some(l4) = ip_layer(f.data) else { return };
            let b = l4.body;
            let (sp, dp, payload, tcp) = match l4.proto {
                6 => {
                    let Some(off) = b.get(12).map(|o| usize::from(o >> 4) * 4) else {
                        return;
                    };
                    let (Some(h), Some(p)) = (b.get(..20), b.get(off..)) else {
                        return;
                    };
                    (
                        u16::from_be_bytes([h[0], h[1]]),
                        u16::from_be_bytes([h[2], h[3]]),
                        p,
                        Some((u32::from_be_bytes([h[4], h[5], h[6], h[7]]), h[13])),
                    )
                }
                17 => {
                    let (Some(h), Some(p)) = (b.get(..8), b.get(8..)) else {
                        return;
                    };
                    let ulen = usize::from(u16::from_be_bytes([h[4], h[5]]));
                    let p = p.get(..ulen.saturating_sub(8).min(p.len())).unwrap_or(p);
                    (
                        u16::from_be_bytes([h[0], h[1]]),
                        u16::from_be_bytes([h[2], h[3]]),
                        p,
                        None,
                    )
                }
                _ => return,
            };
            let fwd = (l4.src, sp, l4.dst, dp, l4.proto);
            let rev = (l4.dst, dp, l4.src, sp, l4.proto);
            let (i, from_orig) = if let Some(&i) = index.get(&fwd) {
                (i, true)
            } else if let Some(&i) = index.get(&rev) {
                (i, false)
            } else {
                // A SYN-ACK seen first makes its receiver the originator.
                let synack = tcp.is_some_and(|(_, flags)| flags & 0x12 == 0x12);
                let (key, orig, resp) = if synack {
                    (rev, (l4.dst, dp), (l4.src, sp))
                } else {
                    (fwd, (l4.src, sp), (l4.dst, dp))
                };
                conns.push(Conn {
                    ts: f.ts,
                    proto: l4.proto,
                    orig,
                    resp,
                    client: Side::default(),
                    server: Side::default(),
                });
                index.insert(key, conns.len() - 1);
                (conns.len() - 1, !synack)
            };
            let side = if from_orig {
                &mut conns[i].client
            } else {
                &mut conns[i].server
            };
            match tcp {
                Some((seq, flags)) => {
                    let syn = flags & 0x02 != 0;
                    if syn {
                        side.base = Some(seq.wrapping_add(1));
                        return;
                    }
                    if payload.is_empty() {
                        return;
                    }
                    let base = *side.base.get_or_insert(seq);
                    let rel = u64::from(seq.wrapping_sub(base));
                    if rel > 1 << 31 {
                        return;
                    }
                    side.segments.entry(rel).or_insert_with(|| payload.to_vec());
                }
                None => side.datagrams.push(payload.to_vec()),
            }
        },
    );
    conns
}
