//! Synthetic load for measuring profile building ([`crate::profile`]):
//! its throughput (`benches/profile.rs`) and its peak memory
//! (`examples/profile_memory.rs`); not part of profiling itself.
//!
//! [`LoadSpec`] describes a network by its size (hosts, distinct edges,
//! flows, logon events, days) and generates any flow or event of it by
//! index, deterministically and without holding the whole set, so a
//! measurement of peak memory measures the profiles, not the input.
//! Unlike the other writers here it writes no capture: it hands
//! [`Flow`]s and [`LogEvent`]s to the caller directly.

use crate::model::Action;
use crate::model::event::{ConnState, Duration, Flow, LogEvent, Outcome, Timestamp, Transport};
use std::net::{IpAddr, Ipv4Addr};

/// Ports the generated edges use, in turn.
const PORTS: [(Transport, u16); 8] = [
    (Transport::Tcp, 445),
    (Transport::Tcp, 443),
    (Transport::Udp, 53),
    (Transport::Tcp, 88),
    (Transport::Tcp, 3389),
    (Transport::Tcp, 80),
    (Transport::Tcp, 389),
    (Transport::Tcp, 22),
];

/// The size and shape of a generated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadSpec {
    /// Hosts (addresses 10.x.y.z, numbered from 0).
    pub hosts: u32,
    /// Distinct (originator, responder, service) edges.
    pub edges: u64,
    /// Flows; flow `i` belongs to edge `i % edges`.
    pub flows: u64,
    /// Logon events (4624-style, from one host to another).
    pub events: u64,
    /// Days the flows spread over.
    pub days: u32,
    /// Seed for times and sizes.
    pub seed: u64,
}

impl Default for LoadSpec {
    /// 10,000 hosts, 1 million edges, 4 million flows, 500,000 events over 7 days.
    fn default() -> Self {
        LoadSpec {
            hosts: 10_000,
            edges: 1_000_000,
            flows: 4_000_000,
            events: 500_000,
            days: 7,
            seed: 1,
        }
    }
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Start of generated time: 2025-12-01T00:00:00Z.
pub const LOAD_START: i64 = 1_764_547_200;

impl LoadSpec {
    /// The address of host `h`.
    pub fn host_ip(&self, h: u32) -> IpAddr {
        let h = h.wrapping_add(1);
        IpAddr::V4(Ipv4Addr::new(10, (h >> 16) as u8, (h >> 8) as u8, h as u8))
    }

    /// The (originator, responder, port index) of edge `e`: edges are
    /// distinct for `e < hosts * (hosts - 1) * 8`.
    pub fn edge(&self, e: u64) -> (u32, u32, usize) {
        let hosts = u64::from(self.hosts.max(2));
        let src = e % hosts;
        let rest = e / hosts;
        let hop = rest % (hosts - 1) + 1;
        let port = (rest / (hosts - 1)) as usize % PORTS.len();
        let port = (port + (src as usize)) % PORTS.len();
        (src as u32, ((src + hop) % hosts) as u32, port)
    }

    /// Flow number `i`.
    pub fn flow(&self, i: u64) -> Flow {
        let e = i % self.edges.max(1);
        let (s, d, p) = self.edge(e);
        let (proto, port) = PORTS.get(p).copied().unwrap_or((Transport::Tcp, 445));
        let r = mix(i ^ self.seed.rotate_left(17));
        let span = i64::from(self.days.max(1)) * 86_400;
        let ts = LOAD_START + (r % span as u64) as i64;
        let failed = r.is_multiple_of(23);
        Flow {
            ts: Timestamp::from_parts(ts, (r >> 32) as i64 % 1_000_000_000),
            uid: Default::default(),
            orig_h: self.host_ip(s),
            orig_p: 49_152 + (r % 16_000) as u16,
            resp_h: self.host_ip(d),
            resp_p: port,
            proto,
            service: None,
            duration: (!failed).then_some(Duration(((r >> 8) % 30_000_000_000) as i64)),
            orig_bytes: Some((r >> 20) % 200_000),
            resp_bytes: Some((r >> 12) % 2_000_000),
            conn_state: if failed { ConnState::S0 } else { ConnState::SF },
            missed_bytes: 0,
            history: Default::default(),
            orig_pkts: 4,
            orig_ip_bytes: 400,
            resp_pkts: 4,
            resp_ip_bytes: 400,
            ip_proto: 6,
            origin: None,
        }
    }

    /// Logon event number `i`: a user logging on from one host to another.
    pub fn event(&self, i: u64) -> LogEvent {
        let r = mix(i.wrapping_mul(31) ^ self.seed);
        let hosts = self.hosts.max(2);
        let src = (r % u64::from(hosts)) as u32;
        let dst = ((r >> 20) % u64::from(hosts)) as u32;
        let span = i64::from(self.days.max(1)) * 86_400;
        let ok = !r.is_multiple_of(11);
        LogEvent {
            ts: Timestamp::from_parts(LOAD_START + ((r >> 8) % span as u64) as i64, 0),
            action: if ok {
                Action::LoggedIn
            } else {
                Action::LogonFailed
            },
            outcome: Some(if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            }),
            code: Some(if ok { 4624 } else { 4625 }),
            dataset: "windows.security".into(),
            source_ip: Some(self.host_ip(src)),
            host_ip: Some(self.host_ip(dst)),
            user_name: Some(format!("user{}", (r >> 40) % u64::from(hosts / 4 + 1)).into()),
            logon_type: Some(if r.is_multiple_of(7) { 10 } else { 3 }),
            auth_method: Some(
                if r.is_multiple_of(3) {
                    "NTLM"
                } else {
                    "Kerberos"
                }
                .into(),
            ),
            ..LogEvent::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn edges_are_distinct_and_flows_follow_them() {
        let spec = LoadSpec {
            hosts: 50,
            edges: 5_000,
            flows: 10_000,
            ..LoadSpec::default()
        };
        let set: HashSet<_> = (0..spec.edges).map(|e| spec.edge(e)).collect();
        assert_eq!(set.len(), 5_000);
        assert!(set.iter().all(|(s, d, _)| s != d && *d < 50));
        let f = spec.flow(5_003);
        let (s, d, _) = spec.edge(3);
        assert_eq!((f.orig_h, f.resp_h), (spec.host_ip(s), spec.host_ip(d)));
        assert_eq!(spec.flow(7), spec.flow(7));
    }
}
