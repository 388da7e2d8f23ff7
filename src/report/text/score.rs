//! The scorer's verdict ([`crate::eval::Score`]) as a table for a person.

use crate::eval::Score;
use std::fmt::Write as _;

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Renders a score: detection by step kind, recall, precision, incidents,
/// false-positive rate, latency, and the incident ranking.
pub fn render(s: &Score) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "lateral eval: scenario {}", s.scenario);
    let _ = writeln!(o, "  attack steps detected by kind:");
    for (kind, k) in &s.by_kind {
        let _ = writeln!(o, "    {kind:<12} {:>4} / {:<4}", k.detected, k.total);
    }
    if !s.missed.is_empty() {
        let _ = writeln!(o, "  missed steps: {}", s.missed.join(", "));
    }
    let _ = writeln!(o, "  recall                 {}", pct(s.recall));
    let _ = writeln!(o, "  lateral-step recall    {}", pct(s.lateral_recall));
    let _ = writeln!(
        o,
        "  alert precision        {} ({} alerts)",
        pct(s.alert_precision),
        s.alerts
    );
    let _ = writeln!(
        o,
        "  incidents              {} true, {} false ({} false above medium)",
        s.true_incidents, s.false_incidents, s.false_incidents_above_medium
    );
    let _ = writeln!(
        o,
        "  false incidents        {:.2} per 1,000 host-days",
        s.false_incidents_per_1000_host_days
    );
    let _ = writeln!(
        o,
        "  best true incident     {}",
        s.best_true_incident_rank
            .map_or("none".to_string(), |r| format!("ranked #{r}"))
    );
    let _ = writeln!(
        o,
        "  first alert after      {}",
        s.time_to_first_alert_secs.map_or("-".to_string(), |t| {
            if t < 0.0 {
                format!("{:.0}s before the first step", -t)
            } else {
                format!("{t:.0}s")
            }
        })
    );
    if !s.benign_flagged.is_empty() {
        let _ = writeln!(
            o,
            "  benign novelties named {}",
            s.benign_flagged.join(", ")
        );
    }
    if !s.incidents.is_empty() {
        let _ = writeln!(o, "  incidents by rank:");
        for i in s.incidents.iter().take(20) {
            let _ = writeln!(
                o,
                "    #{:<3} {:>3} {:<8} {:>4} alerts  {}  {}",
                i.rank,
                i.risk_score,
                i.severity,
                i.alerts,
                i.id,
                if i.steps.is_empty() {
                    "FALSE".to_string()
                } else {
                    i.steps.join(",")
                }
            );
        }
    }
    o
}
