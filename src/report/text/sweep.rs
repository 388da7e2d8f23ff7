//! The terminal report of `lateral sweep`: the ranked incidents found
//! against the stored baseline (as `lateral analyze` shows them), with
//! incidents already reported by an earlier sweep (`--seen`) listed
//! briefly or left out (`--new-only`). The novelty report follows it.

use crate::analyze::Analysis;
use crate::incident::Incident;
use crate::report::text::incidents::{
    LearnedFrom, render_baseline, render_incident, render_incident_line,
};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// How the report treats alerts reported before.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeenOptions<'a> {
    /// Ids of alerts reported before (`--seen`); `None` when not given.
    pub seen: Option<&'a BTreeSet<String>>,
    /// Leave out incidents whose alerts were all reported before.
    pub new_only: bool,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Alerts of `inc` reported before.
fn seen_alerts(a: &Analysis, inc: &Incident, seen: &BTreeSet<String>) -> usize {
    inc.alerts
        .iter()
        .filter_map(|i| a.alerts.get(*i))
        .filter(|al| crate::seen::reported(seen, al))
        .count()
}

/// Renders the incident part of the sweep report, `show` incidents at most.
pub fn render(a: &Analysis, from: &LearnedFrom, show: usize, opts: SeenOptions<'_>) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "lateral sweep: {} incident{} from {} alert{}",
        a.incidents.len(),
        plural(a.incidents.len()),
        a.alerts.len(),
        plural(a.alerts.len())
    );
    let empty = BTreeSet::new();
    let seen = opts.seen.unwrap_or(&empty);
    let seen_counts: Vec<usize> = a
        .incidents
        .iter()
        .map(|inc| seen_alerts(a, inc, seen))
        .collect();
    let old: Vec<&Incident> = a
        .incidents
        .iter()
        .zip(&seen_counts)
        .filter(|(inc, n)| **n > 0 && **n == inc.alerts.len())
        .map(|(inc, _)| inc)
        .collect();
    if opts.seen.is_some() {
        let old_alerts = a
            .alerts
            .iter()
            .filter(|al| crate::seen::reported(seen, al))
            .count();
        let _ = write!(
            s,
            " ({} new, {} already reported)",
            a.alerts.len() - old_alerts,
            old_alerts
        );
    }
    s.push('\n');
    render_baseline(&mut s, a, from);
    let mut shown = 0;
    let mut more = 0;
    for (inc, n_seen) in a.incidents.iter().zip(&seen_counts) {
        if *n_seen > 0 && *n_seen == inc.alerts.len() {
            continue;
        }
        if shown >= show {
            more += 1;
            continue;
        }
        shown += 1;
        s.push('\n');
        render_incident(&mut s, inc, &a.alerts);
        if *n_seen > 0 {
            let _ = writeln!(
                s,
                "  already reported: {n_seen} of its {} alerts",
                inc.alerts.len()
            );
        }
    }
    if more > 0 {
        let _ = writeln!(s, "\n... {more} more new incidents (lower scores)");
    }
    if !old.is_empty() {
        if opts.new_only {
            let _ = writeln!(
                s,
                "\n{} incident{} already reported, not shown (--new-only)",
                old.len(),
                plural(old.len())
            );
        } else {
            let _ = writeln!(
                s,
                "\nAlready reported: {} incident{} (every alert in --seen)",
                old.len(),
                plural(old.len())
            );
            for inc in old {
                s.push_str("  ");
                render_incident_line(&mut s, inc);
            }
        }
    }
    s
}
