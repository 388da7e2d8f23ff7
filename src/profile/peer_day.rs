//! Each host's distribution of bytes sent to one peer in one day
//! ([`HostProfile::bytes_out_per_peer_day`]), recomputed from the edge
//! table whenever the tables change: a host's bytes to a peer, in either
//! direction of their edges, over the days those edges were active.

use super::Profiles;
use super::edge::EdgeStats;
use super::histo::Distribution;
use super::host::HostProfile;
use super::table::HostId;
use crate::model::event::Timestamp;

impl Profiles {
    /// Recomputes every host's bytes-per-peer-per-day distribution from the
    /// edges (see [`HostProfile::bytes_out_per_peer_day`]).
    pub(super) fn peer_day_distributions(&mut self) {
        for h in &mut self.hosts {
            h.bytes_out_per_peer_day = Distribution::new();
        }
        // (host, peer, bytes sent, last, day bits) from both directions, grouped by host.
        let mut sent: Vec<(HostId, HostId, u64, Timestamp, u64)> = Vec::new();
        let flush = |sent: &mut Vec<(HostId, HostId, u64, Timestamp, u64)>,
                     hosts: &mut Vec<HostProfile>| {
            sent.sort_unstable_by_key(|x| (x.0, x.1));
            let mut k = 0;
            while let Some(&(h, peer, _, _, _)) = sent.get(k) {
                let end = k + sent
                    .get(k..)
                    .map_or(0, |r| r.partition_point(|x| x.0 == h && x.1 == peer))
                    .max(1);
                let group = sent.get(k..end).unwrap_or(&[]);
                let bytes: u64 = group.iter().fold(0u64, |a, x| a.saturating_add(x.2));
                let mut stats: Option<EdgeStats> = None;
                for x in group {
                    let one = EdgeStats {
                        first: x.3,
                        last: x.3,
                        days: x.4,
                        flows: 0,
                        failed: 0,
                        bytes_out: 0,
                        bytes_in: 0,
                    };
                    match &mut stats {
                        Some(s) => s.merge(&one),
                        None => stats = Some(one),
                    }
                }
                let days = stats.map_or(1, |s| s.days_active().max(1));
                if let Some(p) = hosts.get_mut(h.0 as usize) {
                    p.bytes_out_per_peer_day.record(bytes / u64::from(days));
                }
                k = end;
            }
            sent.clear();
        };
        // Process hosts in blocks so the temporary list stays small.
        let mut block_start = 0usize;
        let n = self.hosts.len();
        const BLOCK: usize = 4096;
        while block_start < n {
            let block_end = (block_start + BLOCK).min(n);
            let in_block = |h: HostId| (block_start..block_end).contains(&(h.0 as usize));
            let lo = self
                .edges
                .partition_point(|e| (e.src.0 as usize) < block_start);
            let hi = self
                .edges
                .partition_point(|e| (e.src.0 as usize) < block_end);
            for e in self.edges.get(lo..hi).unwrap_or(&[]) {
                if e.src != e.dst {
                    sent.push((e.src, e.dst, e.stats.bytes_out, e.stats.last, e.stats.days));
                }
            }
            let dst_of = |i: &u32| {
                self.edges
                    .get(*i as usize)
                    .map_or(usize::MAX, |e| e.dst.0 as usize)
            };
            let inb = &self.derived.inbound;
            let lo = inb.partition_point(|i| dst_of(i) < block_start);
            let hi = inb.partition_point(|i| dst_of(i) < block_end);
            for &i in inb.get(lo..hi).unwrap_or(&[]) {
                if let Some(e) = self.edges.get(i as usize)
                    && e.src != e.dst
                    && in_block(e.dst)
                {
                    sent.push((e.dst, e.src, e.stats.bytes_in, e.stats.last, e.stats.days));
                }
            }
            flush(&mut sent, &mut self.hosts);
            block_start = block_end;
        }
    }
}
