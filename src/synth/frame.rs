//! Valid network frames, built into a caller's buffer: Ethernet (with VLAN
//! tags), IPv4 or IPv6, then TCP, UDP, ICMP/ICMPv6 or a raw protocol, with
//! correct lengths and checksums. Used by tests and by the scenario
//! generator, so it allocates nothing per frame beyond the caller's `Vec`.

use std::net::IpAddr;

/// The transport layer of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    /// TCP segment.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgement number.
        ack: u32,
        /// Flag bits (see [`crate::source::decode::tcp_flags`]).
        flags: u8,
        /// Receive window.
        window: u16,
    },
    /// UDP datagram.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// ICMP (IPv4) or ICMPv6 (IPv6) message.
    Icmp {
        /// Message type.
        icmp_type: u8,
        /// Message code.
        code: u8,
        /// The four bytes after the checksum (identifier and sequence for echo).
        rest: u32,
    },
    /// Any other IP protocol with its number; the payload follows the IP header.
    Raw(u8),
}

/// Everything needed to build one frame except its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSpec {
    /// Source address (IPv4 and IPv6 must not be mixed).
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source MAC address.
    pub src_mac: [u8; 6],
    /// Destination MAC address.
    pub dst_mac: [u8; 6],
    /// VLAN tags, outermost first: (TPID, VLAN id), e.g. (0x88a8, 10), (0x8100, 20).
    pub vlans: Vec<(u16, u16)>,
    /// IPv4 identification or IPv6 flow label.
    pub ip_id: u16,
    /// Time to live / hop limit.
    pub ttl: u8,
    /// The transport header.
    pub l4: L4,
}

impl FrameSpec {
    /// A frame from `src` to `dst` with default MACs, no VLAN, TTL 64.
    pub fn new(src: IpAddr, dst: IpAddr, l4: L4) -> FrameSpec {
        FrameSpec {
            src,
            dst,
            src_mac: mac_for(src),
            dst_mac: mac_for(dst),
            vlans: Vec::new(),
            ip_id: 0,
            ttl: 64,
            l4,
        }
    }
}

/// A stable, locally administered MAC derived from an address.
pub fn mac_for(ip: IpAddr) -> [u8; 6] {
    let b = match ip {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => {
            let o = a.octets();
            [o[12], o[13], o[14], o[15]]
        }
    };
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

/// Ones'-complement sum of 16-bit big-endian words (RFC 1071), unfolded.
fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

/// Folds a sum into the final checksum.
fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The Internet checksum of `data` (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum16(data, 0))
}

fn pseudo_header_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let acc = sum16(&s.octets(), 0);
            let acc = sum16(&d.octets(), acc);
            acc + u32::from(proto) + (len as u32 & 0xffff)
        }
        (s, d) => {
            let s6 = match s {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            let d6 = match d {
                IpAddr::V6(a) => a.octets(),
                IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
            };
            let acc = sum16(&s6, 0);
            let acc = sum16(&d6, acc);
            acc + ((len as u32) >> 16) + (len as u32 & 0xffff) + u32::from(proto)
        }
    }
}

/// Payload bytes: either given, or `n` bytes of one fill value (no allocation).
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// These bytes.
    Bytes(&'a [u8]),
    /// `len` copies of `byte`.
    Fill {
        /// The byte repeated.
        byte: u8,
        /// How many.
        len: usize,
    },
}

impl Payload<'_> {
    /// Number of payload bytes.
    pub fn len(&self) -> usize {
        match self {
            Payload::Bytes(b) => b.len(),
            Payload::Fill { len, .. } => *len,
        }
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Bytes(b) => out.extend_from_slice(b),
            Payload::Fill { byte, len } => out.resize(out.len() + len, *byte),
        }
    }
}

/// Largest payload that still fits an IP length field.
pub const MAX_PAYLOAD: usize = 65_000;

/// Builds one Ethernet frame into `out` (cleared first). Payloads beyond
/// [`MAX_PAYLOAD`] are cut to it so the length fields stay valid.
pub fn build(spec: &FrameSpec, payload: Payload<'_>, out: &mut Vec<u8>) {
    out.clear();
    let payload = match payload {
        Payload::Bytes(b) => Payload::Bytes(b.get(..MAX_PAYLOAD.min(b.len())).unwrap_or(b)),
        Payload::Fill { byte, len } => Payload::Fill {
            byte,
            len: len.min(MAX_PAYLOAD),
        },
    };
    out.extend_from_slice(&spec.dst_mac);
    out.extend_from_slice(&spec.src_mac);
    for (tpid, vid) in &spec.vlans {
        out.extend_from_slice(&tpid.to_be_bytes());
        out.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    }
    let v6 = spec.src.is_ipv6();
    out.extend_from_slice(if v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    build_ip(spec, payload, out);
}

/// Appends the IP packet (header, transport header, payload) to `out`.
pub fn build_ip(spec: &FrameSpec, payload: Payload<'_>, out: &mut Vec<u8>) {
    let (proto, l4_hdr) = match spec.l4 {
        L4::Tcp { .. } => (6u8, 20usize),
        L4::Udp { .. } => (17, 8),
        L4::Icmp { .. } => (if spec.src.is_ipv6() { 58 } else { 1 }, 8),
        L4::Raw(p) => (p, 0),
    };
    let l4_len = l4_hdr + payload.len();
    let ip_start = out.len();
    match (spec.src, spec.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (20 + l4_len) as u16;
            out.extend_from_slice(&[0x45, 0]);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&spec.ip_id.to_be_bytes());
            out.extend_from_slice(&[0x40, 0, spec.ttl, proto, 0, 0]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            let c = checksum(out.get(ip_start..ip_start + 20).unwrap_or(&[]));
            if let Some(slot) = out.get_mut(ip_start + 10..ip_start + 12) {
                slot.copy_from_slice(&c.to_be_bytes());
            }
        }
        (s, d) => {
            let s6 = match s {
                IpAddr::V6(a) => a,
                IpAddr::V4(a) => a.to_ipv6_mapped(),
            };
            let d6 = match d {
                IpAddr::V6(a) => a,
                IpAddr::V4(a) => a.to_ipv6_mapped(),
            };
            out.extend_from_slice(&[0x60, 0]);
            out.extend_from_slice(&spec.ip_id.to_be_bytes());
            out.extend_from_slice(&(l4_len as u16).to_be_bytes());
            out.extend_from_slice(&[proto, spec.ttl]);
            out.extend_from_slice(&s6.octets());
            out.extend_from_slice(&d6.octets());
        }
    }
    let l4_start = out.len();
    match spec.l4 {
        L4::Tcp {
            sport,
            dport,
            seq,
            ack,
            flags,
            window,
        } => {
            out.extend_from_slice(&sport.to_be_bytes());
            out.extend_from_slice(&dport.to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&ack.to_be_bytes());
            out.extend_from_slice(&[0x50, flags]);
            out.extend_from_slice(&window.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        L4::Udp { sport, dport } => {
            out.extend_from_slice(&sport.to_be_bytes());
            out.extend_from_slice(&dport.to_be_bytes());
            out.extend_from_slice(&(l4_len as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        L4::Icmp {
            icmp_type,
            code,
            rest,
        } => {
            out.extend_from_slice(&[icmp_type, code, 0, 0]);
            out.extend_from_slice(&rest.to_be_bytes());
        }
        L4::Raw(_) => {}
    }
    payload.write(out);
    let csum_at = match spec.l4 {
        L4::Tcp { .. } => Some(16),
        L4::Udp { .. } => Some(6),
        L4::Icmp { .. } => Some(2),
        L4::Raw(_) => None,
    };
    if let Some(at) = csum_at {
        let seg = out.get(l4_start..).unwrap_or(&[]);
        let pseudo = match spec.l4 {
            // ICMPv4 has no pseudo-header; ICMPv6, TCP and UDP do.
            L4::Icmp { .. } if !spec.src.is_ipv6() => 0,
            _ => pseudo_header_sum(spec.src, spec.dst, proto, l4_len),
        };
        let mut c = fold(sum16(seg, pseudo));
        if c == 0 && matches!(spec.l4, L4::Udp { .. }) {
            c = 0xffff;
        }
        if let Some(slot) = out.get_mut(l4_start + at..l4_start + at + 2) {
            slot.copy_from_slice(&c.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_checksum() {
        // The worked example of RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }

    #[test]
    fn frames_verify_and_decode() {
        let spec = FrameSpec::new(
            "192.168.1.10".parse().unwrap(),
            "192.168.1.20".parse().unwrap(),
            L4::Tcp {
                sport: 49152,
                dport: 445,
                seq: 1,
                ack: 2,
                flags: 0x18,
                window: 8192,
            },
        );
        let mut f = Vec::new();
        build(&spec, Payload::Fill { byte: 7, len: 33 }, &mut f);
        assert_eq!(f.len(), 14 + 20 + 20 + 33);
        // A correct header or segment sums (with its checksum) to 0xffff, i.e. checksum 0.
        assert_eq!(checksum(&f[14..34]), 0);
        let seg = &f[34..];
        assert_eq!(
            fold(sum16(
                seg,
                pseudo_header_sum(spec.src, spec.dst, 6, seg.len())
            )),
            0
        );
        let frame = crate::source::capture::Frame {
            ts: crate::model::event::Timestamp(0),
            linktype: 1,
            data: &f,
            orig_len: f.len() as u32,
            offset: 0,
        };
        let p = crate::source::decode::decode(&frame).unwrap();
        assert_eq!(
            (p.sport, p.dport, p.payload_len, p.ip_len, p.flags),
            (49152, 445, 33, 73, 0x18)
        );
    }

    #[test]
    fn ipv6_udp_and_icmpv6_checksums_verify() {
        for l4 in [
            L4::Udp {
                sport: 5353,
                dport: 5353,
            },
            L4::Icmp {
                icmp_type: 128,
                code: 0,
                rest: 0x0001_0002,
            },
        ] {
            let spec = FrameSpec::new("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap(), l4);
            let mut f = Vec::new();
            build(&spec, Payload::Bytes(b"abcde"), &mut f);
            let seg = &f[54..];
            let proto = if matches!(l4, L4::Udp { .. }) { 17 } else { 58 };
            assert_eq!(
                fold(sum16(
                    seg,
                    pseudo_header_sum(spec.src, spec.dst, proto, seg.len())
                )),
                0
            );
        }
    }
}
