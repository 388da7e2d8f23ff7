//! Community ID v1 (Corelight's flow hash, as Zeek, Suricata and Elastic
//! write it in `network.community_id`): part of the model because outputs of
//! every stage name flows by it. A SHA-1 over the seed, both addresses, the
//! IP protocol and both ports (ICMP types and codes standing in for ports),
//! with the endpoints put in a fixed order so both directions hash alike;
//! base64 with the version prefix `1:`.

use sha1::{Digest, Sha1};
use std::net::IpAddr;

/// IP protocols whose headers carry ports (TCP, UDP, SCTP).
const PORTED: [u8; 3] = [6, 17, 132];
const ICMP: u8 = 1;
const ICMPV6: u8 = 58;

/// The type answering an ICMP(v6) request type, or the request a reply
/// answers: such pairs hash as one flow. `None` for one-way types.
fn icmp_counterpart(proto: u8, kind: u16) -> Option<u16> {
    let pairs: &[(u16, u16)] = if proto == ICMP {
        // echo, router advertisement/solicitation, timestamp, information, address mask
        &[(8, 0), (9, 10), (13, 14), (15, 16), (17, 18)]
    } else {
        // echo, multicast listener query/report, router and neighbour
        // solicitation/advertisement, who-are-you, home agent discovery
        &[
            (128, 129),
            (130, 131),
            (133, 134),
            (135, 136),
            (139, 140),
            (144, 145),
        ]
    };
    pairs.iter().find_map(|(a, b)| {
        if *a == kind {
            Some(*b)
        } else if *b == kind {
            Some(*a)
        } else {
            None
        }
    })
}

fn addr_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// The Community ID v1 of a flow with `seed` 0, the default.
///
/// `src_p`/`dst_p` are ports, or for ICMP and ICMPv6 the type and code (as
/// Zeek's conn.log writes them). Addresses of different families give no
/// ID (`None`).
pub fn community_id_v1(
    src: IpAddr,
    src_p: u16,
    dst: IpAddr,
    dst_p: u16,
    proto: u8,
) -> Option<String> {
    community_id_v1_seeded(0, src, src_p, dst, dst_p, proto)
}

/// [`community_id_v1`] with an explicit seed.
pub fn community_id_v1_seeded(
    seed: u16,
    src: IpAddr,
    src_p: u16,
    dst: IpAddr,
    dst_p: u16,
    proto: u8,
) -> Option<String> {
    if src.is_ipv4() != dst.is_ipv4() {
        return None;
    }
    let (mut sa, mut da) = (addr_bytes(&src), addr_bytes(&dst));
    let (mut sp, mut dp) = (src_p, dst_p);
    let mut one_way = false;
    let icmp = proto == ICMP || proto == ICMPV6;
    if icmp {
        match icmp_counterpart(proto, src_p) {
            Some(other) => dp = other,
            None => one_way = true,
        }
    }
    let ports = PORTED.contains(&proto) || icmp;
    // Order the endpoints: the smaller address first, or the smaller port on equal addresses.
    if !one_way && (sa > da || (sa == da && sp > dp)) {
        std::mem::swap(&mut sa, &mut da);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(&sa);
    h.update(&da);
    h.update([proto, 0]);
    if ports {
        h.update(sp.to_be_bytes());
        h.update(dp.to_be_bytes());
    }
    let digest = h.finalize();
    let mut out = String::from("1:");
    base64_into(&digest, &mut out);
    Some(out)
}

/// Standard base64 with padding, appended to `out`.
pub fn base64_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 0x3f) as usize;
                out.push(char::from(ALPHABET[idx]));
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The specification's published vectors (also Zeek's btest for `community_id_v1`).
    #[test]
    fn published_vectors_both_directions() {
        let v4 = [
            (6, 1122, 3344, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="),
            (17, 1122, 3344, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="),
            (6, 1122, 3344, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
            (17, 1122, 3344, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
        ];
        for (proto, sp, dp, seed, want) in v4 {
            let a = community_id_v1_seeded(seed, ip("1.2.3.4"), sp, ip("5.6.7.8"), dp, proto);
            let b = community_id_v1_seeded(seed, ip("5.6.7.8"), dp, ip("1.2.3.4"), sp, proto);
            assert_eq!(a.as_deref(), Some(want));
            assert_eq!(b.as_deref(), Some(want));
        }
    }

    #[test]
    fn icmp_request_and_reply_share_an_id() {
        let req = community_id_v1(ip("1.2.3.4"), 8, ip("5.6.7.8"), 0, 1);
        let rep = community_id_v1(ip("5.6.7.8"), 0, ip("1.2.3.4"), 0, 1);
        assert_eq!(req.as_deref(), Some("1:crodRHL2FEsHjbv3UkRrfbs4bZ0="));
        assert_eq!(rep, req);
        assert_eq!(
            community_id_v1_seeded(1, ip("1.2.3.4"), 8, ip("5.6.7.8"), 0, 1).as_deref(),
            Some("1:9pr4ZGTICiuZoIh90RRYE2RyXpU=")
        );
        let a = ip("fe80:1:203:405:607:809:a0b:c0d");
        let b = ip("fe80:1011:1213:1415:1617:1819:1a1b:1c1d");
        assert_eq!(
            community_id_v1(a, 128, b, 0, 58).as_deref(),
            Some("1:0bf7hyMJUwt3fMED7z8LIfRpBeo=")
        );
        assert_eq!(
            community_id_v1_seeded(1, a, 128, b, 0, 58).as_deref(),
            Some("1:IO27GQzPuCtNnwFvjWALMHu5tJE=")
        );
    }

    #[test]
    fn portless_protocols_and_mixed_families() {
        assert_eq!(
            community_id_v1(ip("1.2.3.4"), 0, ip("5.6.7.8"), 0, 46).as_deref(),
            Some("1:ikv3kmf89luf73WPz1jOs49S768=")
        );
        assert_eq!(community_id_v1(ip("1.2.3.4"), 1, ip("::1"), 2, 6), None);
    }
}
