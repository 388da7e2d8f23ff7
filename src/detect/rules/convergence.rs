//! `lateral.convergence`: several hosts that never administered a server
//! reach it over remote-admin services within a short window.
//!
//! ## What it detects
//! At least `min_sources` distinct internal hosts, none of which used any
//! remote-admin service on the destination in the baseline (and for none
//! of which the edge is common for its role), reach it with answered
//! connections within `window_minutes`.
//!
//! ## Why it matters
//! An attacker holding several footholds converges on the valuable shared
//! server (the 2011 lower-house case: lawmakers' PCs onto the chamber
//! server). ATT&CK T1021 (Remote Services), with the services' sub-technique
//! when they agree.
//!
//! ## Evidence
//! The first answered connections of every converging source.
//!
//! ## False positives
//! A newly deployed server or share that many hosts start using at once.
//! A destination not in the baseline scores lower.
//!
//! ## Tuning
//! `[detect.convergence]`: `min_sources`, `window_minutes`;
//! `[detect.new_admin_edge] common_fraction` decides which edges are new.

use super::new_admin_edge::new_edges;
use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{baseline_span, clamp_score, flow_evidence, minutes};
use crate::detect::{AdminService, DetectInput, Detector, Role};
use crate::model::event::{Flow, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Thresholds of `lateral.convergence`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConvergenceConfig {
    /// Distinct new sources needed.
    pub min_sources: usize,
    /// Within this many minutes.
    pub window_minutes: u64,
}

impl Default for ConvergenceConfig {
    fn default() -> Self {
        ConvergenceConfig {
            min_sources: 3,
            window_minutes: 60,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.convergence",
    name: "Convergence on a server",
    description: "Several hosts that never administered a server reached it over remote-admin services within a short window.",
};

/// The detector.
pub struct Convergence;

impl Detector for Convergence {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.convergence;
        let common = input.config.detect.new_admin_edge.common_fraction;
        let b = input.baseline;
        let window = minutes(cfg.window_minutes);
        // Per destination: (first answered time, source, service, flows).
        type Arrival<'a> = (Timestamp, IpAddr, AdminService, Vec<&'a Flow>);
        let mut by_dst: BTreeMap<IpAddr, Vec<Arrival<'_>>> = BTreeMap::new();
        for e in new_edges(input) {
            if b.admin_any(e.src, e.dst) || e.fraction >= common {
                continue;
            }
            let ok: Vec<&Flow> = e
                .flows
                .iter()
                .copied()
                .filter(|f| crate::detect::answered(f))
                .collect();
            let Some(first) = ok.first() else { continue };
            by_dst
                .entry(e.dst)
                .or_default()
                .push((first.ts, e.src, e.svc, ok));
        }
        let mut alerts = Vec::new();
        for (dst, mut arrivals) in by_dst {
            arrivals.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            // The largest set of distinct sources whose first arrivals fit in the window.
            // Two pointers over the arrivals, counting sources inside the window.
            let mut best: Option<(usize, usize)> = None;
            let mut best_n = 0;
            let mut inside: BTreeMap<IpAddr, usize> = BTreeMap::new();
            let mut lo = 0;
            for (hi, a) in arrivals.iter().enumerate() {
                *inside.entry(a.1).or_insert(0) += 1;
                while let Some(l) = arrivals.get(lo) {
                    if a.0.0 - l.0.0 <= window {
                        break;
                    }
                    if let Some(c) = inside.get_mut(&l.1) {
                        *c -= 1;
                        if *c == 0 {
                            inside.remove(&l.1);
                        }
                    }
                    lo += 1;
                }
                if inside.len() > best_n {
                    best_n = inside.len();
                    best = Some((lo, hi + 1));
                }
            }
            let Some((i, j)) = best else { continue };
            if best_n < cfg.min_sources.max(2) {
                continue;
            }
            let members = arrivals.get(i..j).unwrap_or(&[]);
            let srcs: BTreeSet<IpAddr> = members.iter().map(|a| a.1).collect();
            let svcs: BTreeSet<AdminService> = members.iter().map(|a| a.2).collect();
            let mut score = 55.0 + 8.0 * (best_n - cfg.min_sources.max(2)) as f64;
            let dst_role = b.role(dst);
            if dst_role == Role::Unknown {
                score *= 0.6;
            }
            if b.period().is_none() {
                score *= 0.7;
            }
            let technique = match (svcs.len(), svcs.iter().next()) {
                (1, Some(s)) => crate::alert::attack::of_service(*s),
                _ => attack::REMOTE_SERVICES,
            };
            let (Some(first), Some(last)) = (members.first(), members.last()) else {
                continue;
            };
            let mut a = Alert::new(RULE, technique, clamp_score(score.min(95.0)), first.0);
            let dst_ref = input.directory.host_ip(dst);
            let labels: Vec<String> = srcs
                .iter()
                .map(|s| input.directory.host_ip(*s).label())
                .collect();
            let span_min = ((last.0.0 - first.0.0) / 60_000_000_000).max(1);
            let names: Vec<&str> = svcs.iter().map(|s| s.label()).collect();
            a.message = format!(
                "{} hosts ({}) that never administered {} in {} reached it over {} within {} minutes",
                best_n,
                labels.join(", "),
                dst_ref.label(),
                baseline_span(b),
                names.join("/"),
                span_min
            );
            a.source = Some(input.directory.host_ip(first.1));
            a.destination = Some(dst_ref);
            if let (1, Some(s)) = (svcs.len(), members.first()) {
                a.destination_port = s.3.first().map(|f| f.resp_p);
            }
            a.related_ips.extend(srcs.iter().copied());
            a.peers_are_sources = true;
            a.movement = true;
            for m in members {
                for f in m.3.iter().take(4) {
                    a.add_evidence(flow_evidence(f));
                }
            }
            alerts.push(a.finish());
        }
        alerts
    }
}
