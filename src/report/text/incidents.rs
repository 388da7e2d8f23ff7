//! The terminal report of `lateral analyze`: what the baseline was, then
//! the incidents ranked by score, each with its path of hosts and users,
//! its techniques, a short timeline and why it is unusual.

use crate::alert::{Alert, HostRef};
use crate::analyze::Analysis;
use crate::incident::Incident;
use crate::model::event::Timestamp;
use std::fmt::Write as _;

/// Most timeline lines shown per incident.
pub const TIMELINE_LINES: usize = 12;

/// Where the baseline came from, for the report's first lines.
#[derive(Debug, Clone)]
pub enum LearnedFrom {
    /// The first part of the input, before the cut.
    FirstPart,
    /// A stored baseline file.
    File(String),
    /// Alerts an earlier run stored (`lateral report`): the files, and
    /// the alerts read from them (those suppressed now included).
    Stored {
        /// The alerts files, as given.
        files: Vec<String>,
        /// Alerts read.
        alerts: usize,
    },
}

fn span_text(s: Option<(Timestamp, Timestamp)>) -> String {
    match s {
        Some((a, z)) => format!("{} .. {}", a.to_rfc3339(), z.to_rfc3339()),
        None => "nothing".into(),
    }
}

/// A learned baseline shorter than this (one daily cycle, in nanoseconds)
/// is too short to tell a habit from a one-off: the report says so, and
/// how to judge the records it swallowed.
pub const SHORT_BASELINE_NS: i64 = 24 * 3600 * 1_000_000_000;

/// The length from `a` to `z` in words: `30 s`, `3 min 20 s`, `5 h 12 min`.
fn span_length(a: Timestamp, z: Timestamp) -> String {
    let secs = z.0.saturating_sub(a.0).max(0) / 1_000_000_000;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

fn hhmm(t: Timestamp) -> String {
    let s = t.to_rfc3339();
    s.get(..19).unwrap_or(&s).replace('T', " ")
}

fn layer(hosts: &[HostRef]) -> String {
    super::wrap::shorten(&hosts.iter().map(HostRef::label).collect::<Vec<_>>())
}

/// The suppression part of a report: how many alerts `[[suppress]]`
/// entries took out and by which entry, and with `list` each of them
/// (`--show-suppressed`). Empty when nothing was suppressed.
pub fn render_suppressed(a: &Analysis, list: bool) -> String {
    let mut s = String::new();
    if a.suppressed.is_empty() {
        return s;
    }
    let mut by_entry: std::collections::BTreeMap<usize, (usize, &str)> =
        std::collections::BTreeMap::new();
    for x in &a.suppressed {
        by_entry.entry(x.entry).or_insert((0, x.reason.as_str())).0 += 1;
    }
    let n = a.suppressed.len();
    let _ = writeln!(
        s,
        "\nsuppressed: {n} alert{} by [[suppress]] entries{}",
        if n == 1 { "" } else { "s" },
        if list {
            ""
        } else {
            " (--show-suppressed lists them)"
        }
    );
    for (entry, (count, reason)) in &by_entry {
        let _ = writeln!(s, "  entry {entry}: {count}  {reason}");
    }
    if list {
        for x in &a.suppressed {
            let al = &x.alert;
            let host = |h: &Option<crate::alert::HostRef>| {
                h.as_ref()
                    .map_or_else(|| "?".to_string(), crate::alert::HostRef::label)
            };
            let _ = writeln!(
                s,
                "  {}  {:>3}  {:<32} {} -> {}{}  [entry {}]",
                al.start.to_rfc3339(),
                al.score,
                al.rule.name,
                host(&al.source),
                host(&al.destination),
                al.user
                    .as_deref()
                    .map_or_else(String::new, |u| format!(" as {u}")),
                x.entry
            );
        }
    }
    s
}

/// Renders the whole report.
pub fn render(a: &Analysis, from: &LearnedFrom, show: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "lateral {}: {} incident{} from {} alert{}",
        if matches!(from, LearnedFrom::Stored { .. }) {
            "report"
        } else {
            "analyze"
        },
        a.incidents.len(),
        if a.incidents.len() == 1 { "" } else { "s" },
        a.alerts.len(),
        if a.alerts.len() == 1 { "" } else { "s" }
    );
    render_baseline(&mut s, a, from);
    for inc in a.incidents.iter().take(show) {
        s.push('\n');
        render_incident(&mut s, inc, &a.alerts);
    }
    if a.incidents.len() > show {
        let _ = writeln!(
            s,
            "\n... {} more incidents (lower scores)",
            a.incidents.len() - show
        );
    }
    s
}

/// Renders what the baseline was and what was judged (the lines after the title).
pub fn render_baseline(s: &mut String, a: &Analysis, from: &LearnedFrom) {
    match from {
        LearnedFrom::FirstPart if a.priors => {
            let _ = writeln!(
                s,
                "baseline: none: {}; every record is judged against role priors, what is rare in any network (--learn 60% learns from the first part instead)",
                match a.judged {
                    Some((first, last)) if last.0.saturating_sub(first.0) < SHORT_BASELINE_NS =>
                        format!(
                            "the input spans {}, less than a day (--learn auto)",
                            span_length(first, last)
                        ),
                    _ => "nothing was before the cut".to_string(),
                },
            );
        }
        LearnedFrom::FirstPart => {
            let _ = writeln!(
                s,
                "baseline: learned from the first part of the input, before {} ({}; {} flows, {} log events, {} internal hosts)",
                a.cut.to_rfc3339(),
                span_text(a.learned),
                a.learn_counts.0,
                a.learn_counts.1,
                a.baseline_hosts
            );
        }
        LearnedFrom::File(p) => {
            let _ = writeln!(
                s,
                "baseline: {p} ({}; {} internal hosts)",
                span_text(a.learned),
                a.baseline_hosts
            );
        }
        LearnedFrom::Stored { files, alerts } => {
            let _ = writeln!(
                s,
                "alerts:   {alerts} read back from {}, judged {}; suppressed and joined into incidents again under this configuration",
                files.join(", "),
                span_text(a.judged),
            );
            return;
        }
    }
    let _ = writeln!(
        s,
        "judged:   {} ({} flows, {} log events)",
        span_text(a.judged),
        a.detect_counts.0,
        a.detect_counts.1
    );
    if a.learned.is_none() && !a.priors {
        let _ = writeln!(
            s,
            "note: the baseline is empty, so everything is new; scores are lowered and rarity is unknown"
        );
    }
    if let (LearnedFrom::FirstPart, Some((first, _))) = (from, a.learned)
        && a.cut.0.saturating_sub(first.0) < SHORT_BASELINE_NS
    {
        let _ = writeln!(
            s,
            "note: the baseline covers only {}, less than a day, and what happened in it was learned, not judged; --learn 0% judges every record",
            span_length(first, a.cut)
        );
    }
}

/// Renders an incident's first line: rank, id, score, severity, span, alerts.
pub fn render_incident_line(s: &mut String, inc: &Incident) {
    let n = inc.alerts.len();
    let _ = writeln!(
        s,
        "#{} {}  score {}  {}  {} .. {}  ({} alert{})",
        inc.rank,
        inc.id,
        inc.score,
        inc.severity().name(),
        hhmm(inc.start),
        hhmm(inc.end),
        n,
        if n == 1 { "" } else { "s" }
    );
}

/// Renders one incident: its line, path, users, credential switches,
/// techniques, timeline and why.
pub fn render_incident(s: &mut String, inc: &Incident, alerts: &[Alert]) {
    let members: Vec<&Alert> = inc.alerts.iter().filter_map(|i| alerts.get(*i)).collect();
    render_incident_line(s, inc);
    if !inc.path.is_empty() {
        let path: Vec<String> = inc.path.iter().map(|l| layer(l)).collect();
        let _ = writeln!(s, "  path:       {}", path.join("  ->  "));
    } else {
        let mut hosts: Vec<String> = members
            .iter()
            .filter_map(|a| a.source.as_ref().or(a.destination.as_ref()))
            .map(HostRef::label)
            .collect();
        hosts.sort();
        hosts.dedup();
        let _ = writeln!(s, "  hosts:      {}", super::wrap::shorten(&hosts));
    }
    if !inc.users.is_empty() {
        let users: Vec<String> = inc.users.iter().cloned().collect();
        let _ = writeln!(s, "  users:      {}", super::wrap::shorten(&users));
    }
    if !inc.switches.is_empty() {
        let switched: Vec<String> = inc
            .switches
            .iter()
            .map(|c| format!("{} -> {} on {}", c.from, c.to, c.host.label()))
            .collect();
        let _ = writeln!(s, "  switched:   {}", switched.join("; "));
    }
    let techs: Vec<String> = inc
        .techniques
        .iter()
        .map(|t| format!("{} {}", t.id, t.name))
        .collect();
    let _ = writeln!(s, "  techniques: {}", techs.join("; "));
    let _ = writeln!(s, "  timeline:");
    for a in members.iter().take(TIMELINE_LINES) {
        let who = match (&a.source, &a.destination) {
            (Some(x), Some(y)) => format!("{} -> {}", x.label(), y.label()),
            (Some(x), None) => x.label(),
            (None, Some(y)) => format!("-> {}", y.label()),
            (None, None) => "-".into(),
        };
        let _ = writeln!(
            s,
            "    {}  {:<3} {:<32} {}{}",
            hhmm(a.start),
            a.score,
            a.rule.name,
            who,
            a.user
                .as_ref()
                .map_or_else(String::new, |u| format!(" as {u}"))
        );
    }
    if members.len() > TIMELINE_LINES {
        let _ = writeln!(s, "    ... {} more alerts", members.len() - TIMELINE_LINES);
    }
    // Why: the messages of the highest-scoring alerts of distinct rules.
    let mut ranked: Vec<&&Alert> = members.iter().collect();
    ranked.sort_by(|x, y| {
        y.score
            .cmp(&x.score)
            .then(x.start.cmp(&y.start))
            .then_with(|| x.id.cmp(&y.id))
    });
    let mut rules = std::collections::BTreeSet::new();
    let mut first = true;
    for a in ranked {
        if rules.len() >= 3 || !rules.insert(a.rule.id) {
            continue;
        }
        let _ = writeln!(s, "  {} {}", if first { "why:" } else { "    " }, a.message);
        first = false;
    }
}
