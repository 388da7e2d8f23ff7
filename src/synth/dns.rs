//! Minimal, valid DNS messages (RFC 1035) for synthetic traffic: an A query
//! and its answer, so generated captures name their hosts the way real
//! networks do and Wireshark decodes them cleanly.

use std::net::{Ipv4Addr, Ipv6Addr};

fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let bytes = label.as_bytes();
        let n = bytes.len().min(63);
        out.push(n as u8);
        out.extend_from_slice(bytes.get(..n).unwrap_or(bytes));
    }
    out.push(0);
}

/// A standard query for the A record of `name`, with transaction `id`.
pub fn query(id: u16, name: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(18 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    m
}

/// The answer to [`query`]: one A record for `name` with a 300 s TTL.
pub fn answer(id: u16, name: &str, addr: Ipv4Addr) -> Vec<u8> {
    let mut m = Vec::with_capacity(34 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    // Answer: a pointer to the question's name at offset 12.
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4]);
    m.extend_from_slice(&addr.octets());
    m
}

/// A standard query for the AAAA record of `name`, with transaction `id`.
pub fn query_aaaa(id: u16, name: &str) -> Vec<u8> {
    let mut m = query(id, name);
    let n = m.len();
    if let Some(t) = m.get_mut(n - 3) {
        *t = 28;
    }
    m
}

/// The answer to [`query_aaaa`]: one AAAA record for `name`, 300 s TTL.
pub fn answer_aaaa(id: u16, name: &str, addr: Ipv6Addr) -> Vec<u8> {
    let mut m = Vec::with_capacity(46 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&[0, 28, 0, 1]);
    m.extend_from_slice(&[0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0x01, 0x2c, 0, 16]);
    m.extend_from_slice(&addr.octets());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_answer_layouts() {
        let q = query(0x1234, "srv-chamber.shugiin.local");
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(q[12], 11);
        assert_eq!(&q[13..24], b"srv-chamber");
        assert_eq!(&q[q.len() - 4..], &[0, 1, 0, 1]);
        let a = answer(
            0x1234,
            "srv-chamber.shugiin.local",
            Ipv4Addr::new(10, 10, 2, 20),
        );
        assert_eq!(a.len(), q.len() + 16);
        assert_eq!(&a[a.len() - 4..], &[10, 10, 2, 20]);
        let q6 = query_aaaa(7, "ws-001.shugiin.local");
        assert_eq!(&q6[q6.len() - 4..], &[0, 28, 0, 1]);
        let a6 = answer_aaaa(7, "ws-001.shugiin.local", "fd00::1".parse().unwrap());
        assert_eq!(a6.len(), q6.len() + 28);
        assert_eq!(a6[a6.len() - 1], 1);
    }
}
