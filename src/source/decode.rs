//! Frames in, packet summaries out: the second step of the capture source.
//!
//! Strips the link layer (Ethernet with any stack of 802.1Q/802.1ad tags,
//! Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD null and loopback), then
//! reads IPv4 (options, fragments) or IPv6 (extension headers, fragment
//! header) and the transport header (TCP, UDP, ICMP, ICMPv6, anything else
//! as protocol only). The result, a [`Packet`], is a small `Copy` value: the
//! flow table needs nothing else, so nothing is allocated per packet.
//! Lengths come from the headers, not from what was captured, so a snapped
//! capture still counts the bytes that were on the wire.

use crate::model::event::Timestamp;
use crate::source::capture::Frame;
use pcap_parser::Linktype;
use pcap_parser::data::{PacketData, get_packetdata};

/// IP protocol numbers the decoder knows.
pub mod ip_proto {
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
}

/// TCP flag bits as they sit in the header's flags byte.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgement field is significant.
    pub const ACK: u8 = 0x10;
}

/// Where a packet sits in a fragmented IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    Whole,
    /// First fragment (offset 0, more to come): carries the transport header.
    First(u32),
    /// A later fragment: no transport header; belongs to the datagram with this id.
    Later(u32),
}

/// Everything the flow table needs from one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Capture time.
    pub ts: Timestamp,
    /// Source address (IPv4 in the first four bytes when `v6` is false).
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// True for IPv6 addresses.
    pub v6: bool,
    /// IP protocol (after IPv6 extension headers).
    pub proto: u8,
    /// Source port (ICMP: type).
    pub sport: u16,
    /// Destination port (ICMP: code).
    pub dport: u16,
    /// TCP flags byte (zero for other protocols).
    pub flags: u8,
    /// TCP sequence number.
    pub seq: u32,
    /// TCP acknowledgement number.
    pub ack: u32,
    /// TCP window.
    pub window: u16,
    /// Transport payload bytes according to the headers.
    pub payload_len: u32,
    /// IP datagram bytes according to the IP length field.
    pub ip_len: u32,
    /// Fragment position.
    pub fragment: Fragment,
    /// Length of the frame on the wire.
    pub wire_len: u32,
    /// Offset of the frame's record in the input.
    pub offset: u64,
}

/// Why a frame yields no packet. Non-IP traffic is normal, so the caller
/// counts these apart from real decoding failures (see [`Skipped::is_error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A link type this decoder does not read.
    UnsupportedLinkType(u32),
    /// A well-formed frame carrying something other than IP (ARP, LLDP, ...).
    NotIp,
    /// The frame is malformed or cut short; the phrase says where.
    Malformed(&'static str),
}

impl Skipped {
    /// True for malformed frames; false for traffic that is simply not IP.
    pub fn is_error(self) -> bool {
        matches!(self, Skipped::Malformed(_))
    }
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

#[inline]
fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes the link and IP layers of a frame: the packet with its
/// addresses, protocol and fragment state filled in, and its transport bytes.
/// With `FRAG`, a fragment's place in its datagram is read too (the
/// reassembler's few packets); without, that costs nothing.
fn network_layer<'a, const FRAG: bool>(frame: &Frame<'a>) -> Result<(Packet, L4<'a>), Skipped> {
    let (ethertype, l3) = link_layer(frame.linktype, frame.data)?;
    let mut p = Packet {
        ts: frame.ts,
        src: [0; 16],
        dst: [0; 16],
        v6: false,
        proto: 0,
        sport: 0,
        dport: 0,
        flags: 0,
        seq: 0,
        ack: 0,
        window: 0,
        payload_len: 0,
        ip_len: 0,
        fragment: Fragment::Whole,
        wire_len: frame.orig_len,
        offset: frame.offset,
    };
    let l4 = match ethertype {
        ETHERTYPE_IPV4 => ipv4::<FRAG>(l3, &mut p)?,
        ETHERTYPE_IPV6 => ipv6::<FRAG>(l3, &mut p)?,
        _ => return Err(Skipped::NotIp),
    };
    Ok((p, l4))
}

/// Decodes one frame.
pub fn decode(frame: &Frame<'_>) -> Result<Packet, Skipped> {
    let (mut p, l4) = network_layer::<false>(frame)?;
    if let Fragment::Later(_) = p.fragment {
        return Ok(p);
    }
    transport(l4.bytes, l4.len, &mut p)?;
    Ok(p)
}

/// The captured UDP payload of a frame, cut to the UDP length field.
///
/// Decodes the headers again, so it is meant for the few packets a caller
/// already chose by their [`Packet`] (DNS answers); `None` for frames that
/// are not whole UDP datagrams.
pub fn udp_payload<'a>(frame: &Frame<'a>) -> Option<&'a [u8]> {
    let (p, l4) = network_layer::<false>(frame).ok()?;
    if p.proto != ip_proto::UDP || p.fragment != Fragment::Whole {
        return None;
    }
    let ulen = usize::from(be16(l4.bytes, 4)?);
    let end = if ulen >= 8 { ulen } else { l4.bytes.len() };
    l4.bytes.get(8..end.min(l4.bytes.len()))
}

/// The captured TCP payload of a frame (cut to what the IP length allows),
/// for the few packets the protocol analyzers follow; `None` for frames
/// that are not whole TCP segments.
pub fn tcp_payload<'a>(frame: &Frame<'a>) -> Option<&'a [u8]> {
    let (p, l4) = network_layer::<false>(frame).ok()?;
    if p.proto != ip_proto::TCP || p.fragment != Fragment::Whole {
        return None;
    }
    let off = usize::from(l4.bytes.get(12)? >> 4) * 4;
    if off < 20 {
        return None;
    }
    // TSO super-frames carry an IP length of 0: then what was captured counts.
    let end = if l4.len as usize >= off {
        (l4.len as usize).min(l4.bytes.len())
    } else {
        l4.bytes.len()
    };
    l4.bytes.get(off..end.max(off))
}

/// One IP fragment's place in its datagram, for the reassembler
/// (`crate::source::ip_reassembly`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentPiece<'a> {
    /// Byte offset of `bytes` in the datagram's fragmentable part.
    pub offset: u32,
    /// More fragments follow this one.
    pub more: bool,
    /// The fragment's captured bytes, cut to what the IP length allows.
    pub bytes: &'a [u8],
    /// Bytes the IP header says the fragment carries (more than
    /// `bytes.len()` when the capture was snapped).
    pub claimed: u32,
    /// The datagram's protocol (IPv6: the Fragment header's next header).
    pub proto: u8,
    /// The datagram's identification.
    pub id: u32,
}

/// The packet and fragment piece of a frame that is an IP fragment;
/// `None` for whole datagrams and frames that do not decode. Decodes the
/// headers again, so it is meant for the few fragmented packets only.
pub fn fragment_piece<'a>(frame: &Frame<'a>) -> Option<(Packet, FragmentPiece<'a>)> {
    let (p, l4) = network_layer::<true>(frame).ok()?;
    let id = match p.fragment {
        Fragment::Whole => return None,
        Fragment::First(id) | Fragment::Later(id) => id,
    };
    let f = l4.frag;
    Some((
        p,
        FragmentPiece {
            offset: f.offset,
            more: f.more,
            bytes: f.bytes,
            claimed: f.claimed,
            proto: f.proto,
            id,
        },
    ))
}

/// Decodes the transport header of a reassembled datagram: `head` is the
/// packet of the fragment that completed it (addresses, time, offset),
/// `proto` the datagram's protocol and `l4` its joined bytes. Returns the
/// packet, now whole, and its TCP or UDP payload; `None` when the
/// transport header does not decode or the protocol is neither.
pub fn decode_joined<'a>(head: &Packet, proto: u8, l4: &'a [u8]) -> Option<(Packet, &'a [u8])> {
    let mut p = *head;
    p.fragment = Fragment::Whole;
    p.proto = proto;
    let len = u32::try_from(l4.len()).ok()?;
    transport(l4, len, &mut p).ok()?;
    let payload = match proto {
        ip_proto::UDP => {
            let ulen = usize::from(be16(l4, 4)?);
            let end = if ulen >= 8 {
                ulen.min(l4.len())
            } else {
                l4.len()
            };
            l4.get(8..end)?
        }
        ip_proto::TCP => {
            let off = usize::from(l4.get(12)? >> 4) * 4;
            l4.get(off..)?
        }
        _ => return None,
    };
    Some((p, payload))
}

/// Returns the ethertype and the bytes after the link header.
#[inline]
fn link_layer(linktype: u32, data: &[u8]) -> Result<(u16, &[u8]), Skipped> {
    match linktype {
        1 => ethernet(data),
        // BSD null: address family in the capturing host's byte order.
        0 => {
            let le = u32::from_le_bytes(
                data.get(..4)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(Skipped::Malformed("link header truncated"))?,
            );
            let af = if le > 0xffff { le.swap_bytes() } else { le };
            af_to_ethertype(af, data)
        }
        // OpenBSD loopback: address family in network byte order.
        108 => {
            let af = be32(data, 0).ok_or(Skipped::Malformed("link header truncated"))?;
            af_to_ethertype(af, data)
        }
        // DLT_RAW as numbered on some systems (12, 14) and LINKTYPE_RAW (101).
        12 | 14 => raw_ip(data),
        _ => match get_packetdata(data, Linktype(linktype as i32), data.len()) {
            Some(PacketData::L3(et, rest)) => {
                if et == 0 {
                    // Raw IP whose version nibble was neither 4 nor 6.
                    Err(Skipped::Malformed("raw IP with bad version"))
                } else {
                    Ok((et, rest))
                }
            }
            Some(PacketData::L2(l2)) => ethernet(l2),
            Some(PacketData::L4(..)) => Err(Skipped::NotIp),
            Some(PacketData::Unsupported(_)) => Err(Skipped::UnsupportedLinkType(linktype)),
            None => Err(Skipped::Malformed("link header truncated")),
        },
    }
}

fn af_to_ethertype(af: u32, data: &[u8]) -> Result<(u16, &[u8]), Skipped> {
    let rest = data.get(4..).unwrap_or(&[]);
    match af {
        2 => Ok((ETHERTYPE_IPV4, rest)),
        // AF_INET6 differs by OS: 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
        10 | 24 | 28 | 30 => Ok((ETHERTYPE_IPV6, rest)),
        _ => Err(Skipped::NotIp),
    }
}

fn raw_ip(data: &[u8]) -> Result<(u16, &[u8]), Skipped> {
    match data.first().map(|b| b >> 4) {
        Some(4) => Ok((ETHERTYPE_IPV4, data)),
        Some(6) => Ok((ETHERTYPE_IPV6, data)),
        Some(_) => Err(Skipped::Malformed("raw IP with bad version")),
        None => Err(Skipped::Malformed("empty frame")),
    }
}

/// Ethernet II or 802.3 with LLC/SNAP, under any stack of VLAN tags.
fn ethernet(data: &[u8]) -> Result<(u16, &[u8]), Skipped> {
    let mut at = 12;
    let mut ethertype = be16(data, at).ok_or(Skipped::Malformed("ethernet header truncated"))?;
    at += 2;
    // 802.1Q, 802.1ad and the pre-standard 0x9100 QinQ tag; bounded against tag bombs.
    let mut tags = 0;
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100 | 0x9200) {
        tags += 1;
        if tags > 8 {
            return Err(Skipped::Malformed("too many VLAN tags"));
        }
        ethertype = be16(data, at + 2).ok_or(Skipped::Malformed("VLAN tag truncated"))?;
        at += 4;
    }
    if ethertype <= 1500 {
        // 802.3 length field: only SNAP-encapsulated IP is of interest.
        let llc = data.get(at..at + 3).ok_or(Skipped::NotIp)?;
        if llc == [0xaa, 0xaa, 0x03] {
            ethertype = be16(data, at + 6).ok_or(Skipped::Malformed("SNAP header truncated"))?;
            at += 8;
        } else {
            return Err(Skipped::NotIp);
        }
    }
    Ok((ethertype, data.get(at..).unwrap_or(&[])))
}

/// The transport bytes captured, and the transport length the IP header
/// claims; for a fragment, where its bytes sit in the datagram.
struct L4<'a> {
    bytes: &'a [u8],
    len: u32,
    /// For a fragment: where its bytes sit in the datagram, whether more
    /// follow, its fragmentable bytes and the protocol they start with.
    frag: FragPart<'a>,
}

/// The fragmentable part of a fragment (IPv4: everything after the
/// header; IPv6: everything after the Fragment header).
#[derive(Clone, Copy, Default)]
struct FragPart<'a> {
    offset: u32,
    more: bool,
    bytes: &'a [u8],
    claimed: u32,
    proto: u8,
}

fn ipv4<'a, const FRAG: bool>(b: &'a [u8], p: &mut Packet) -> Result<L4<'a>, Skipped> {
    let first = *b
        .first()
        .ok_or(Skipped::Malformed("IPv4 header truncated"))?;
    if first >> 4 != 4 {
        return Err(Skipped::Malformed("IP version does not match link type"));
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return Err(Skipped::Malformed("IPv4 header length below 20"));
    }
    if b.len() < ihl {
        return Err(Skipped::Malformed("IPv4 header truncated"));
    }
    let mut total = u32::from(be16(b, 2).ok_or(Skipped::Malformed("IPv4 header truncated"))?);
    if total == 0 {
        // TCP segmentation offload: the stack left the length for the NIC to fill.
        total = b.len() as u32;
    }
    if (total as usize) < ihl {
        return Err(Skipped::Malformed("IPv4 total length below header length"));
    }
    let id = u32::from(be16(b, 4).unwrap_or(0));
    let frag = be16(b, 6).unwrap_or(0);
    let more = frag & 0x2000 != 0;
    let frag_off = frag & 0x1fff;
    p.proto = *b.get(9).unwrap_or(&0);
    p.src[..4].copy_from_slice(
        b.get(12..16)
            .ok_or(Skipped::Malformed("IPv4 header truncated"))?,
    );
    p.dst[..4].copy_from_slice(
        b.get(16..20)
            .ok_or(Skipped::Malformed("IPv4 header truncated"))?,
    );
    p.ip_len = total;
    p.fragment = if frag_off != 0 {
        Fragment::Later(id)
    } else if more {
        Fragment::First(id)
    } else {
        Fragment::Whole
    };
    let end = (total as usize).min(b.len());
    Ok(L4 {
        bytes: b.get(ihl..end).unwrap_or(&[]),
        len: total - ihl as u32,
        frag: if FRAG {
            FragPart {
                offset: u32::from(frag_off) * 8,
                more,
                bytes: b.get(ihl..end).unwrap_or(&[]),
                claimed: total - ihl as u32,
                proto: p.proto,
            }
        } else {
            FragPart::default()
        },
    })
}

/// IPv6 extension headers walked before giving up.
const MAX_EXT_HEADERS: usize = 16;

fn ipv6<'a, const FRAG: bool>(b: &'a [u8], p: &mut Packet) -> Result<L4<'a>, Skipped> {
    if b.len() < 40 {
        return Err(Skipped::Malformed("IPv6 header truncated"));
    }
    if b.first().map(|v| v >> 4) != Some(6) {
        return Err(Skipped::Malformed("IP version does not match link type"));
    }
    let mut payload = u32::from(be16(b, 4).unwrap_or(0));
    if payload == 0 {
        // Jumbogram or offloaded length: trust what was captured.
        payload = (b.len() - 40) as u32;
    }
    p.v6 = true;
    p.src.copy_from_slice(
        b.get(8..24)
            .ok_or(Skipped::Malformed("IPv6 header truncated"))?,
    );
    p.dst.copy_from_slice(
        b.get(24..40)
            .ok_or(Skipped::Malformed("IPv6 header truncated"))?,
    );
    p.ip_len = 40 + payload;
    let mut next = *b.get(6).unwrap_or(&59);
    let mut at = 40usize;
    let end = (40 + payload as usize).min(b.len());
    let mut frag = FragPart::default();
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-octet units.
            0 | 43 | 60 => {
                let nh = *b
                    .get(at)
                    .ok_or(Skipped::Malformed("IPv6 extension header truncated"))?;
                let len = (usize::from(
                    *b.get(at + 1)
                        .ok_or(Skipped::Malformed("IPv6 extension header truncated"))?,
                ) + 1)
                    * 8;
                next = nh;
                at += len;
            }
            // Authentication header: length in 4-octet units, minus 2.
            51 => {
                let nh = *b
                    .get(at)
                    .ok_or(Skipped::Malformed("IPv6 extension header truncated"))?;
                let len = (usize::from(
                    *b.get(at + 1)
                        .ok_or(Skipped::Malformed("IPv6 extension header truncated"))?,
                ) + 2)
                    * 4;
                next = nh;
                at += len;
            }
            44 => {
                let nh = *b
                    .get(at)
                    .ok_or(Skipped::Malformed("IPv6 fragment header truncated"))?;
                let off_m =
                    be16(b, at + 2).ok_or(Skipped::Malformed("IPv6 fragment header truncated"))?;
                let id =
                    be32(b, at + 4).ok_or(Skipped::Malformed("IPv6 fragment header truncated"))?;
                let offset = off_m >> 3;
                let more = off_m & 1 != 0;
                p.fragment = if offset != 0 {
                    Fragment::Later(id)
                } else if more {
                    Fragment::First(id)
                } else {
                    Fragment::Whole
                };
                next = nh;
                at += 8;
                if FRAG {
                    frag = FragPart {
                        offset: u32::from(offset) * 8,
                        more,
                        bytes: b.get(at..end).unwrap_or(&[]),
                        claimed: (40 + payload as usize).saturating_sub(at) as u32,
                        proto: nh,
                    };
                }
                if offset != 0 {
                    p.proto = next;
                    return Ok(L4 {
                        bytes: &[],
                        len: 0,
                        frag,
                    });
                }
            }
            _ => break,
        }
        if at > 40 + payload as usize {
            return Err(Skipped::Malformed(
                "IPv6 extension headers exceed payload length",
            ));
        }
    }
    p.proto = next;
    let claimed = (40 + payload as usize).saturating_sub(at) as u32;
    Ok(L4 {
        bytes: b.get(at..end).unwrap_or(&[]),
        len: claimed,
        frag,
    })
}

fn transport(b: &[u8], len: u32, p: &mut Packet) -> Result<(), Skipped> {
    match p.proto {
        ip_proto::TCP => {
            if b.len() < 20 {
                return Err(Skipped::Malformed("TCP header truncated"));
            }
            let off = usize::from(b.get(12).map_or(0, |v| v >> 4)) * 4;
            if off < 20 {
                return Err(Skipped::Malformed("TCP data offset below 20"));
            }
            p.sport = be16(b, 0).unwrap_or(0);
            p.dport = be16(b, 2).unwrap_or(0);
            p.seq = be32(b, 4).unwrap_or(0);
            p.ack = be32(b, 8).unwrap_or(0);
            p.flags = *b.get(13).unwrap_or(&0);
            p.window = be16(b, 14).unwrap_or(0);
            p.payload_len = len.saturating_sub(off as u32);
        }
        ip_proto::UDP => {
            if b.len() < 8 {
                return Err(Skipped::Malformed("UDP header truncated"));
            }
            p.sport = be16(b, 0).unwrap_or(0);
            p.dport = be16(b, 2).unwrap_or(0);
            let ulen = u32::from(be16(b, 4).unwrap_or(0));
            // A UDP length of 0 appears with IPv6 jumbograms and offload; fall back to IP's.
            p.payload_len = if ulen >= 8 {
                ulen - 8
            } else {
                len.saturating_sub(8)
            };
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            if b.len() < 2 {
                return Err(Skipped::Malformed("ICMP header truncated"));
            }
            p.sport = u16::from(*b.first().unwrap_or(&0));
            p.dport = u16::from(*b.get(1).unwrap_or(&0));
            p.payload_len = len.saturating_sub(8);
        }
        _ => p.payload_len = len,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(linktype: u32, data: &[u8]) -> Frame<'_> {
        Frame {
            ts: Timestamp(0),
            linktype,
            data,
            orig_len: data.len() as u32,
            offset: 0,
        }
    }

    /// An IPv4/TCP SYN 10.0.0.1:1234 -> 10.0.0.2:445, no payload.
    fn ipv4_tcp_syn() -> Vec<u8> {
        let mut ip = vec![
            0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        ip.extend_from_slice(&[
            0x04, 0xd2, 0x01, 0xbd, 0, 0, 0, 100, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ]);
        ip
    }

    #[test]
    fn ethernet_with_stacked_vlans() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00]);
        f.extend(ipv4_tcp_syn());
        let p = decode(&frame(1, &f)).unwrap();
        assert_eq!(p.proto, 6);
        assert_eq!((p.sport, p.dport), (1234, 445));
        assert_eq!(p.flags, tcp_flags::SYN);
        assert_eq!(p.seq, 100);
        assert_eq!(p.ip_len, 40);
        assert_eq!(p.payload_len, 0);
        assert_eq!(&p.src[..4], &[10, 0, 0, 1]);
    }

    #[test]
    fn null_loopback_in_both_byte_orders() {
        for af in [[2u8, 0, 0, 0], [0, 0, 0, 2]] {
            let mut f = af.to_vec();
            f.extend(ipv4_tcp_syn());
            assert_eq!(decode(&frame(0, &f)).unwrap().dport, 445);
        }
    }

    #[test]
    fn non_ip_and_garbage_are_skipped_not_panicked() {
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(decode(&frame(1, &arp)), Err(Skipped::NotIp));
        assert_eq!(
            decode(&frame(147, &[1, 2, 3])),
            Err(Skipped::UnsupportedLinkType(147))
        );
        for n in 0..60 {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend(ipv4_tcp_syn());
            f.truncate(n);
            let _ = decode(&frame(1, &f));
        }
    }

    #[test]
    fn ipv6_extension_headers_and_later_fragment() {
        // IPv6, hop-by-hop (8 bytes) then UDP 8 bytes + 4 payload.
        let mut b = vec![0x60, 0, 0, 0, 0, 20, 0, 64];
        b.extend_from_slice(&[0u8; 32]);
        b.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&[0, 53, 0x30, 0x39, 0, 12, 0, 0, 1, 2, 3, 4]);
        let p = decode(&frame(229, &b)).unwrap();
        assert_eq!(
            (p.proto, p.sport, p.dport, p.payload_len, p.ip_len),
            (17, 53, 12345, 4, 60)
        );
        // Fragment header with offset 8 -> later fragment of datagram 7.
        let mut f = vec![0x60, 0, 0, 0, 0, 16, 44, 64];
        f.extend_from_slice(&[0u8; 32]);
        f.extend_from_slice(&[17, 0, 0, 64, 0, 0, 0, 7]);
        f.extend_from_slice(&[0u8; 8]);
        let p = decode(&frame(229, &f)).unwrap();
        assert_eq!(p.fragment, Fragment::Later(7));
        assert_eq!(p.proto, 17);
    }
}
