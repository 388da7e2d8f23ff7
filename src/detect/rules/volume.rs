//! `lateral.volume`: a host sends one peer far more bytes in an hour than
//! its baseline's 99th percentile.
//!
//! ## What it detects
//! For each (internal source, peer, hour): the bytes the source sent,
//! compared with the 99th percentile of bytes per peer per hour in the
//! source's baseline (or its role's, for a host new to the baseline). An
//! alert needs at least `factor` times that percentile and `min_bytes`.
//! The score grows with the logarithm of the ratio.
//!
//! ## Why it matters
//! Collecting data on one internal host before taking it out is ATT&CK
//! T1074 (Data Staged); sending it to an external host is T1041
//! (Exfiltration Over C2 Channel).
//!
//! ## Evidence
//! The hour's connections to the peer, largest first.
//!
//! ## False positives
//! Backups and large file copies; a backup server's nightly volume is in
//! its own baseline.
//!
//! ## Tuning
//! `[detect.volume]`: `factor`, `min_bytes`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, flow_evidence};
use crate::detect::{DetectInput, Detector};
use crate::model::event::Flow;
use crate::stats::human_bytes;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Thresholds of `lateral.volume`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeConfig {
    /// Bytes to one peer in one hour must exceed the host's baseline p99 by this factor.
    pub factor: f64,
    /// And be at least this many bytes.
    pub min_bytes: u64,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        VolumeConfig {
            factor: 10.0,
            min_bytes: 250_000,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.volume",
    name: "Unusual volume to a peer",
    description: "A host sent one peer far more bytes in an hour than its baseline's 99th percentile.",
};

/// The detector.
pub struct Volume;

impl Detector for Volume {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.volume;
        let net = &input.config.network;
        let b = input.baseline;
        // Volume is judged against a host's own history: with none (role
        // priors), how much is a lot cannot be told.
        if b.priors() {
            return Vec::new();
        }
        let mut groups: BTreeMap<(IpAddr, IpAddr, i64), (u64, Vec<&Flow>)> = BTreeMap::new();
        for f in input.flows {
            if !net.is_internal(f.orig_h) {
                continue;
            }
            let sent = f.orig_bytes.unwrap_or(0);
            if sent == 0 {
                continue;
            }
            let hour = f.ts.secs().div_euclid(3600);
            let g = groups
                .entry((f.orig_h, f.resp_h, hour))
                .or_insert((0, Vec::new()));
            g.0 += sent;
            g.1.push(f);
        }
        let mut alerts = Vec::new();
        for ((src, dst, _), (sent, mut flows)) in groups {
            if sent < cfg.min_bytes {
                continue;
            }
            let role = b.role(src);
            let p99 = b
                .peer_bytes_p99(src)
                .or_else(|| b.role_peer_bytes_p99(role));
            let limit = p99.map_or(cfg.min_bytes as f64, |p| {
                (p as f64 * cfg.factor).max(cfg.min_bytes as f64)
            });
            if (sent as f64) < limit {
                continue;
            }
            let ratio = p99.map_or(cfg.factor, |p| sent as f64 / (p.max(1)) as f64);
            let mut score = 30.0 + 8.0 * ratio.max(1.0).log2().min(6.0);
            if p99.is_none() {
                score *= 0.7;
            }
            let external = !net.is_internal(dst);
            let technique = if external {
                attack::EXFIL_C2
            } else {
                attack::DATA_STAGED
            };
            flows.sort_by(|a, z| z.orig_bytes.cmp(&a.orig_bytes).then(a.ts.cmp(&z.ts)));
            let start = flows.iter().map(|f| f.ts).min().unwrap_or_default();
            let mut a = Alert::new(RULE, technique, clamp_score(score), start);
            let s = input.directory.host_ip(src);
            let d = input.directory.host_ip(dst);
            a.message = format!(
                "{} sent {} to {} in one hour; its baseline p99 per peer-hour is {}",
                s.label(),
                human_bytes(sent),
                d.label(),
                p99.map_or_else(|| "unknown".into(), human_bytes)
            );
            a.source = Some(s);
            a.destination = Some(d);
            a.movement = !external;
            for f in &flows {
                a.add_evidence(flow_evidence(f));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
