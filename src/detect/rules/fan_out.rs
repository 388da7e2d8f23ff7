//! `lateral.fan-out`: one source reaches many internal hosts on
//! remote-admin ports in a short window.
//!
//! ## What it detects
//! An internal source that connects (or tries to) to at least `min_hosts`
//! distinct internal hosts on remote-admin ports within `window_minutes`,
//! unless it is a known scanner or admin host: configured, or one whose
//! baseline already reached a comparable number of hosts in an hour.
//!
//! ## Why it matters
//! Worms, PsExec loops and attackers mapping the network touch many hosts
//! quickly. Mostly unanswered attempts are discovery (ATT&CK T1046,
//! Network Service Discovery); mostly answered sessions are movement
//! (T1021, Remote Services).
//!
//! ## Evidence
//! The first connection to each destination inside the busiest window.
//!
//! ## False positives
//! A new scanner, a new management server, a software roll-out (scored
//! lower when most destinations are the source's clients in the baseline;
//! low when all are, or when the source is an admin host and nearly every
//! destination answered). Configure
//! them under `[network] scanners` / `known_admins`; once in the baseline
//! they are recognised by their own history.
//!
//! ## Tuning
//! `[detect.fan_out]`: `min_hosts`, `window_minutes`, `baseline_ratio`.

use crate::alert::{Alert, Rule, attack};
use crate::detect::common::{clamp_score, flow_evidence, minutes};
use crate::detect::{AdminService, DetectInput, Detector, Role, answered};
use crate::model::event::Flow;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Thresholds of `lateral.fan-out`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FanOutConfig {
    /// Distinct internal destinations on admin ports needed.
    pub min_hosts: usize,
    /// Within this many minutes.
    pub window_minutes: u64,
    /// A source whose baseline already reached this multiple of today's
    /// count in one hour is behaving as usual.
    pub baseline_ratio: f64,
}

impl Default for FanOutConfig {
    fn default() -> Self {
        FanOutConfig {
            min_hosts: 10,
            window_minutes: 15,
            baseline_ratio: 0.5,
        }
    }
}

/// The rule.
pub const RULE: Rule = Rule {
    id: "lateral.fan-out",
    name: "Fan-out over admin ports",
    description: "One host reached many internal hosts on remote-admin ports in a short window, unlike its baseline.",
};

/// The detector.
pub struct FanOut;

impl Detector for FanOut {
    fn id(&self) -> &'static str {
        RULE.id
    }

    fn run(&self, input: &DetectInput<'_>) -> Vec<Alert> {
        let cfg = &input.config.detect.fan_out;
        let net = &input.config.network;
        let b = input.baseline;
        let window = minutes(cfg.window_minutes);
        let mut by_src: BTreeMap<IpAddr, Vec<&Flow>> = BTreeMap::new();
        for f in input.flows {
            if AdminService::of_flow(f).is_none()
                || input.directory.same_host(f.orig_h, f.resp_h)
                || !net.is_internal(f.orig_h)
                || !net.is_internal(f.resp_h)
            {
                continue;
            }
            by_src.entry(f.orig_h).or_default().push(f);
        }
        let mut alerts = Vec::new();
        for (src, flows) in by_src {
            if net.is_scanner(src) || net.is_known_admin(src) {
                continue;
            }
            let mut inside: BTreeMap<IpAddr, usize> = BTreeMap::new();
            let mut lo = 0;
            let mut best = (0usize, 0usize, 0usize);
            for (hi, f) in flows.iter().enumerate() {
                *inside.entry(f.resp_h).or_insert(0) += 1;
                while let Some(l) = flows.get(lo) {
                    if f.ts.0 - l.ts.0 <= window {
                        break;
                    }
                    if let Some(c) = inside.get_mut(&l.resp_h) {
                        *c -= 1;
                        if *c == 0 {
                            inside.remove(&l.resp_h);
                        }
                    }
                    lo += 1;
                }
                if inside.len() > best.0 {
                    best = (inside.len(), lo, hi + 1);
                }
            }
            let (n, lo, hi) = best;
            if n < cfg.min_hosts.max(2) {
                continue;
            }
            let role = b.role(src);
            let reach = b.admin_reach(src);
            if reach.max_per_hour as f64 >= cfg.baseline_ratio * n as f64 {
                continue;
            }
            let members = flows.get(lo..hi).unwrap_or(&[]);
            let unanswered = members.iter().filter(|f| !answered(f)).count();
            let scan = unanswered * 2 > members.len();
            let technique = if scan {
                attack::DISCOVERY
            } else {
                attack::REMOTE_SERVICES
            };
            // Breadth first, capped, then the discounts: a cap applied last
            // would swallow them for a wide enough sweep.
            let mut score = (45.0 + 2.0 * (n - cfg.min_hosts.max(2)) as f64).min(85.0);
            if matches!(role, Role::AdminHost | Role::Scanner) {
                score *= 0.6;
            }
            // An admin host whose push every destination answered is
            // rolling something out, its job: low, for the record.
            let admin_push = role == Role::AdminHost && unanswered * 10 <= members.len();
            if admin_push {
                score = score.min(21.0);
            }
            // With no history (role priors) the source's role comes from
            // this very burst: a scan is what scanners do every day, so it
            // stays low until a movement joins it.
            let scan_by_role = b.priors() && scan;
            if scan_by_role {
                score = score.min(21.0);
            }
            // A management server reaching the hosts that are its clients (a
            // roll-out): the more of them already talked to it in the
            // baseline, the weaker the sign, down to 0.2x when all did, so
            // such a push alone stays a low alert however wide.
            let dsts: std::collections::BTreeSet<IpAddr> =
                members.iter().map(|f| f.resp_h).collect();
            let clients = dsts.iter().filter(|d| b.peer_seen(**d, src)).count();
            if clients * 2 >= dsts.len() {
                score *= client_discount(clients, dsts.len());
            }
            let (Some(first), Some(last)) = (members.first(), members.last()) else {
                continue;
            };
            let mut a = Alert::new(RULE, technique, clamp_score(score), first.ts);
            let src_ref = input.directory.host_ip(src);
            let mins = ((last.ts.0 - first.ts.0) / 60_000_000_000).max(1);
            a.message = format!(
                "{} ({}) reached {} hosts on admin ports within {} minutes ({} unanswered, {} of them its clients); its baseline peak was {} per hour",
                src_ref.label(),
                role.label(),
                n,
                mins,
                unanswered,
                clients,
                reach.max_per_hour
            );
            if admin_push {
                a.message.push_str(
                    "; an admin host's push that (nearly) every host answered: a roll-out",
                );
            }
            a.source = Some(src_ref);
            a.movement = !scan;
            a.routine = admin_push || scan_by_role;
            let mut seen = std::collections::BTreeSet::new();
            for f in members {
                if seen.insert(f.resp_h) {
                    a.related_ips.insert(f.resp_h);
                    a.add_evidence(flow_evidence(f));
                }
            }
            a.evidence_total = members.len();
            alerts.push(a.finish());
        }
        alerts
    }
}

/// Score factor for a fan-out where `clients` of `total` destinations were
/// the source's clients in the baseline: 1.0 with none, 0.2 with all (the
/// widest push, 85, then scores 17: low).
fn client_discount(clients: usize, total: usize) -> f64 {
    if total == 0 {
        return 1.0;
    }
    1.0 - 0.8 * (clients.min(total) as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::{clamp_score, client_discount};

    #[test]
    fn a_push_to_its_own_clients_is_discounted_most() {
        assert!((client_discount(0, 10) - 1.0).abs() < 1e-9);
        assert!((client_discount(10, 10) - 0.2).abs() < 1e-9);
        // The widest push to nothing but its own clients stays low.
        assert!(
            crate::alert::Severity::of(clamp_score(85.0 * client_discount(186, 186)))
                == crate::alert::Severity::Low
        );
        assert!(client_discount(9, 10) < client_discount(5, 10));
        assert!((client_discount(3, 0) - 1.0).abs() < 1e-9);
    }
}
