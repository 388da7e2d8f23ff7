//! `lateral.beaconing`: an internal host connects to one external
//! destination at regular intervals with regular sizes.
//!
//! ## What it detects
//! For each (internal source, external destination, port) with at least
//! `min_connections` connections and a mean interval of at least
//! `min_interval_secs`: the spread of the intervals between connection
//! starts, as the lower of the coefficient of variation and the median
//! absolute deviation over the median (robust to a missed beacon), must be
//! at most `max_jitter`. The score grows with timing regularity, with the
//! regularity of the bytes sent (coefficient of variation), and with the
//! number of connections; both regularities count in full only over 24
//! intervals or more (a few evenly spaced connections happen by chance). Destinations that at least `popular_fraction` of
//! the baseline's internal hosts contacted are common services (update
//! servers, telemetry) and are skipped.
//!
//! ## Why it matters
//! Implants poll their command-and-control server on a timer: ATT&CK
//! T1071 (Application Layer Protocol).
//!
//! ## Evidence
//! The connections.
//!
//! ## False positives
//! Infrastructure that relays a protocol for the network: a host that
//! serves a port to at least three internal clients (today or in the
//! baseline) and reaches the outside on that same port is a relay (a DNS
//! forwarder, an NTP server, a mail relay), and its even pace is its
//! upstream's refresh. Towards an upstream it already used in the baseline
//! it is not reported; towards a new one it is reported at low severity,
//! saying so. Software polling a vendor from a few hosts only (licence checks). A
//! host that reaches the outside for others (a proxy, a mail relay: it
//! served internal clients and most connections it made went outside, as
//! the baseline shows) fetching one site evenly is judged only
//! over 24 intervals or more.
//!
//! ## Tuning
//! `[detect.beaconing]`: `min_connections`, `min_interval_secs`,
//! `max_jitter`, `popular_fraction`; `[allowlist] destinations`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, flow_evidence};
use crate::detect::{DetectInput, Detector};
use crate::model::event::{Flow, NANOS_PER_SEC, Transport};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

/// Thresholds of `lateral.beaconing`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeaconingConfig {
    /// Connections needed to judge regularity.
    pub min_connections: usize,
    /// Shortest mean interval considered, seconds (faster is streaming, not beaconing).
    pub min_interval_secs: u64,
    /// Highest spread of intervals (coefficient of variation or MAD over
    /// median, whichever is lower) still counted as regular.
    pub max_jitter: f64,
    /// Destinations reached in the baseline by at least this fraction of
    /// internal hosts are common services, not command and control.
    pub popular_fraction: f64,
}

impl Default for BeaconingConfig {
    fn default() -> Self {
        BeaconingConfig {
            min_connections: 6,
            min_interval_secs: 10,
            max_jitter: 0.25,
            popular_fraction: 0.1,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.beaconing",
    name: "Beaconing to an external host",
    description: "An internal host connected to one external destination at regular intervals with regular sizes.",
};

/// The detector.
pub struct Beaconing;

/// Mean and coefficient of variation.
fn mean_cv(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, f64::INFINITY);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    if mean <= 0.0 {
        return (mean, if var == 0.0 { 0.0 } else { f64::INFINITY });
    }
    (mean, var.sqrt() / mean)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(0.0),
        _ => {
            (v.get(n / 2 - 1).copied().unwrap_or(0.0) + v.get(n / 2).copied().unwrap_or(0.0)) / 2.0
        }
    }
}

/// The timing spread: min(CV, MAD / median) of the intervals.
pub fn interval_jitter(intervals: &[f64]) -> f64 {
    let (_, cv) = mean_cv(intervals);
    let mut v = intervals.to_vec();
    let med = median(&mut v);
    if med <= 0.0 {
        return cv;
    }
    let mut dev: Vec<f64> = intervals.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&mut dev);
    cv.min(mad / med)
}

impl Detector for Beaconing {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.beaconing;
        let net = &input.config.network;
        let b = input.baseline;
        let mut groups: BTreeMap<(IpAddr, IpAddr, u16), Vec<&Flow>> = BTreeMap::new();
        for f in input.flows {
            if f.proto == Transport::Icmp || !net.is_internal(f.orig_h) || net.is_internal(f.resp_h)
            {
                continue;
            }
            groups
                .entry((f.orig_h, f.resp_h, f.resp_p))
                .or_default()
                .push(f);
        }
        groups.retain(|_, flows| flows.len() >= cfg.min_connections.max(3));
        let served = served_today(input, &groups);
        let popular = (b.host_count() as f64 * cfg.popular_fraction).max(3.0);
        let mut alerts = Vec::new();
        for ((src, dst, port), flows) in groups {
            if b.external_clients(dst) as f64 >= popular {
                continue;
            }
            let intervals: Vec<f64> = flows
                .windows(2)
                .filter_map(|w| match w {
                    [a, z] => Some((z.ts.0 - a.ts.0) as f64 / NANOS_PER_SEC as f64),
                    _ => None,
                })
                .collect();
            let (mean, _) = mean_cv(&intervals);
            if mean < cfg.min_interval_secs as f64 {
                continue;
            }
            let jitter = interval_jitter(&intervals);
            if jitter > cfg.max_jitter {
                continue;
            }
            // A host that reaches the outside for its clients (a proxy)
            // fetches a site at the pace its clients ask for it: an even
            // pace there is a timer only over many intervals.
            if (intervals.len() as f64) < FULL_SUPPORT_INTERVALS
                && input.baseline.forwarder(src) == Some(true)
            {
                continue;
            }
            // A relay's clients (today's or the baseline's, whichever
            // shows more): its pace towards its usual upstream is routine.
            let clients = served
                .get(&(src, port))
                .map_or(0, FxHashSet::len)
                .max(b.service_clients(src, port));
            let relay = clients >= RELAY_CLIENTS;
            if relay && b.peer_seen(src, dst) {
                continue;
            }
            let sizes: Vec<f64> = flows
                .iter()
                .map(|f| f.orig_bytes.unwrap_or(0) as f64)
                .collect();
            let (_, size_cv) = mean_cv(&sizes);
            let timing = 1.0 - (jitter / cfg.max_jitter.max(1e-9)).min(1.0);
            let size_reg = 1.0 - size_cv.min(1.0);
            let count = ((flows.len() as f64) / 50.0).min(1.0);
            let support = regularity_support(intervals.len());
            let mut score = 35.0 + (25.0 * timing + 15.0 * size_reg) * support + 10.0 * count;
            if relay {
                score = score.min(RELAY_SCORE);
            }
            let (Some(first), Some(_)) = (flows.first(), flows.last()) else {
                continue;
            };
            let mut a = Alert::new(RULE, attack::C2_APP_PROTOCOL, clamp_score(score), first.ts);
            let s = input.directory.host_ip(src);
            a.message = format!(
                "{} connected to {}:{} {} times, every {:.0}s (interval spread {:.2}, size spread {:.2}); {} internal host{} reached it in the baseline",
                s.label(),
                dst,
                port,
                flows.len(),
                mean,
                jitter,
                size_cv,
                b.external_clients(dst),
                if b.external_clients(dst) == 1 {
                    ""
                } else {
                    "s"
                }
            );
            if relay {
                let _ = write!(
                    a.message,
                    "; it serves port {port} to {clients} internal hosts, so it relays that protocol and a new upstream is reported at low severity"
                );
            }
            a.source = Some(s);
            a.destination = Some(input.directory.host_ip(dst));
            a.destination_port = Some(port);
            for f in &flows {
                a.add_evidence(flow_evidence(f));
            }
            alerts.push(a.finish());
        }
        alerts
    }
}

/// Internal clients that make a host a relay of the port it serves them.
const RELAY_CLIENTS: usize = 3;

/// The highest score of a relay's regular traffic to a new upstream (low).
const RELAY_SCORE: f64 = 21.0;

/// For each (source, port) of the candidate groups: the internal hosts
/// the source answered on that port today.
fn served_today(
    input: &DetectInput<'_>,
    groups: &BTreeMap<(IpAddr, IpAddr, u16), Vec<&Flow>>,
) -> FxHashMap<(IpAddr, u16), FxHashSet<IpAddr>> {
    let mut served: FxHashMap<(IpAddr, u16), FxHashSet<IpAddr>> = groups
        .keys()
        .map(|(src, _, port)| ((*src, *port), FxHashSet::default()))
        .collect();
    if served.is_empty() {
        return served;
    }
    let net = &input.config.network;
    for f in input.flows {
        if let Some(clients) = served.get_mut(&(f.resp_h, f.resp_p))
            && f.orig_h != f.resp_h
            && net.is_internal(f.orig_h)
            && crate::detect::answered(f)
        {
            clients.insert(f.orig_h);
        }
    }
    served
}

/// Intervals after which regularity counts in full.
const FULL_SUPPORT_INTERVALS: f64 = 24.0;

/// How far regularity over `intervals` intervals is evidence of a timer, 0-1:
/// a handful of evenly spaced connections happen by chance among the many
/// (source, destination) pairs a busy host has (a proxy fetching one site
/// for its clients); dozens do not.
fn regularity_support(intervals: usize) -> f64 {
    (intervals as f64 / FULL_SUPPORT_INTERVALS).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regularity_counts_in_full_only_over_many_intervals() {
        assert!((regularity_support(6) - 0.25).abs() < 1e-9);
        assert!((regularity_support(24) - 1.0).abs() < 1e-9);
        assert!((regularity_support(800) - 1.0).abs() < 1e-9);
        assert!(regularity_support(12) > regularity_support(6));
    }

    #[test]
    fn jitter_is_robust_to_one_missed_beacon() {
        let regular = [300.0, 301.0, 299.0, 300.0, 300.0, 600.0, 300.0];
        assert!(interval_jitter(&regular) < 0.05);
        let random = [5.0, 700.0, 30.0, 1200.0, 2.0, 90.0];
        assert!(interval_jitter(&random) > 0.5);
    }
}
