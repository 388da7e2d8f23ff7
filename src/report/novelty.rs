//! Novelties found by a sweep, written for people (a terminal report) and
//! for machines (one ECS document per line).
//!
//! The JSON documents carry `@timestamp` (first seen today), `event.kind`
//! `event`, `event.action` (`new-host`, `new-edge`, `new-user-on-host`),
//! `event.reason`, `event.dataset` `lateral.sweep`, `source.ip`/`domain`,
//! `destination.ip`/`port`/`domain`, `network.transport`/`protocol`,
//! `user.name`, `log.file.path` with `log.file.line` or `log.offset` (the
//! first flow or event that showed it), and `lateral.admin_protocol`,
//! `lateral.count`, `lateral.failed` (failed attempts among a new edge's
//! flows, when any), `lateral.user_novelty` (`first-logon`, `new-source`).

use crate::detect::novelty::{Novelty, NoveltyKind};
use crate::model::event::Position;
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;

#[derive(Serialize)]
struct Doc<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    event: Event<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<End<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<End<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<Network<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<User<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<Log<'a>>,
    lateral: Lateral,
}

#[derive(Serialize)]
struct Event<'a> {
    kind: &'static str,
    category: [&'static str; 1],
    action: &'static str,
    reason: String,
    dataset: &'a str,
}

#[derive(Serialize)]
struct End<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
}

#[derive(Serialize)]
struct Network<'a> {
    transport: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<&'a str>,
}

#[derive(Serialize)]
struct User<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Log<'a> {
    file: LogFile<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
}

#[derive(Serialize)]
struct LogFile<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
}

#[derive(Serialize)]
struct Lateral {
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_protocol: Option<&'static str>,
    count: u64,
    #[serde(skip_serializing_if = "is_zero")]
    failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_novelty: Option<crate::detect::novelty::UserNovelty>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Appends one novelty as an ECS JSON line (with its newline).
pub fn write_jsonl(n: &Novelty, out: &mut Vec<u8>) {
    fn end(e: &crate::detect::novelty::Endpoint, port: Option<u16>) -> Option<End<'_>> {
        if e.is_empty() && port.is_none() {
            None
        } else {
            Some(End {
                ip: e.ip,
                port,
                domain: e.name.as_deref(),
            })
        }
    }
    let doc = Doc {
        timestamp: n.first_seen.to_rfc3339(),
        event: Event {
            kind: "event",
            category: [match n.kind {
                NoveltyKind::NewHost => "host",
                NoveltyKind::NewEdge => "network",
                NoveltyKind::NewUserOnHost => "authentication",
            }],
            action: n.kind.action(),
            reason: n.reason(),
            dataset: "lateral.sweep",
        },
        source: end(&n.source, None),
        destination: end(&n.destination, n.service.as_ref().map(|s| s.port)),
        network: n.service.as_ref().map(|s| Network {
            transport: s.proto.zeek_name(),
            protocol: s.name.as_deref(),
        }),
        user: n.user.as_deref().map(|name| User { name }),
        log: n.evidence.as_ref().map(|o| Log {
            file: LogFile {
                path: &o.file,
                line: match o.at {
                    Position::Line(l) => Some(l),
                    Position::Offset(_) => None,
                },
            },
            offset: match o.at {
                Position::Offset(off) => Some(off),
                Position::Line(_) => None,
            },
        }),
        lateral: Lateral {
            admin_protocol: n.admin.map(|a| a.name()),
            count: n.count,
            failed: n.failed,
            user_novelty: n.user_novelty,
        },
    };
    // Serializing plain structs of strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &doc);
    out.push(b'\n');
}

/// Most novelty lines the terminal report shows for one host in a section.
pub const MAX_PER_HOST: usize = 10;

/// Most novelty lines the terminal report shows in one section.
pub const MAX_PER_SECTION: usize = 100;

/// The terminal report: a heading per kind, one line per novelty with its
/// first time seen and its evidence, and a total.
///
/// Lists are capped so a noisy host cannot bury the rest: at most
/// [`MAX_PER_HOST`] lines per host (the source of new hosts and edges, the
/// destination of new users) and [`MAX_PER_SECTION`] per section, with what
/// was left out counted (every novelty is in `--novelties`).
pub fn render_text(novelties: &[Novelty]) -> String {
    let mut s = String::new();
    let sections = [
        (NoveltyKind::NewHost, "New hosts"),
        (NoveltyKind::NewEdge, "New edges (remote admin first)"),
        (NoveltyKind::NewUserOnHost, "New users on hosts"),
    ];
    for (kind, title) in sections {
        let items: Vec<&Novelty> = novelties.iter().filter(|n| n.kind == kind).collect();
        let _ = writeln!(s, "{title}: {}", items.len());
        let mut shown_per_host: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        let mut left_per_host: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        let mut shown = 0usize;
        let mut left_section = 0usize;
        for n in items {
            let host = match kind {
                NoveltyKind::NewUserOnHost => n.destination.to_string(),
                _ => n.source.to_string(),
            };
            let on_host = shown_per_host.entry(host.clone()).or_insert(0);
            if *on_host >= MAX_PER_HOST {
                *left_per_host.entry(host).or_insert(0) += 1;
                continue;
            }
            if shown >= MAX_PER_SECTION {
                left_section += 1;
                continue;
            }
            *on_host += 1;
            shown += 1;
            let what = match kind {
                NoveltyKind::NewHost => format!("{}", n.source),
                NoveltyKind::NewEdge => {
                    let svc = n
                        .service
                        .as_ref()
                        .map_or_else(|| "?".to_string(), ToString::to_string);
                    let admin = n
                        .admin
                        .map_or_else(String::new, |a| format!("  [admin: {a}]"));
                    format!("{} -> {}  {svc}{admin}", n.source, n.destination)
                }
                NoveltyKind::NewUserOnHost => {
                    let from = if n.source.is_empty() {
                        String::new()
                    } else {
                        format!(" from {}", n.source)
                    };
                    let why = match n.user_novelty {
                        Some(crate::detect::novelty::UserNovelty::NewSource) => "new source",
                        _ => "first logon",
                    };
                    format!(
                        "{} on {}{from}  ({why})",
                        n.user.as_deref().unwrap_or("?"),
                        n.destination
                    )
                }
            };
            let evidence = n
                .evidence
                .as_ref()
                .map_or_else(|| "-".to_string(), ToString::to_string);
            let _ = writeln!(
                s,
                "  {}  {what}  x{}  first at {evidence}",
                n.first_seen, n.count
            );
        }
        for (host, left) in left_per_host {
            let _ = writeln!(s, "  ... and {left} more of {host}");
        }
        if left_section > 0 {
            let _ = writeln!(
                s,
                "  ... and {left_section} more (every novelty is in --novelties)"
            );
        }
    }
    let _ = writeln!(s, "Total: {} new relative to the baseline", novelties.len());
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::novelty::Endpoint;
    use crate::model::event::Timestamp;

    fn edge(src: &str, dst: u8) -> Novelty {
        Novelty {
            kind: NoveltyKind::NewEdge,
            first_seen: Timestamp::from_parts(1_700_000_000 + i64::from(dst), 0),
            source: Endpoint {
                ip: src.parse().ok(),
                name: None,
            },
            destination: Endpoint {
                ip: Some(std::net::IpAddr::from([10, 0, 9, dst])),
                name: None,
            },
            service: None,
            admin: None,
            user: None,
            user_novelty: None,
            count: 1,
            failed: 0,
            evidence: None,
        }
    }

    #[test]
    fn a_noisy_host_is_capped_and_the_rest_counted() {
        let mut all: Vec<Novelty> = (0..30).map(|d| edge("10.0.0.1", d)).collect();
        all.extend((0..3).map(|d| edge("10.0.0.2", d)));
        let text = render_text(&all);
        let lines_of = |src: &str| {
            text.lines()
                .filter(|l| l.contains(&format!("{src} -> ")))
                .count()
        };
        assert_eq!(lines_of("10.0.0.1"), MAX_PER_HOST);
        assert_eq!(lines_of("10.0.0.2"), 3);
        assert!(text.contains("  ... and 20 more of 10.0.0.1\n"), "{text}");
        assert!(
            text.contains("New edges (remote admin first): 33\n"),
            "{text}"
        );
        assert!(
            text.contains("Total: 33 new relative to the baseline"),
            "{text}"
        );
    }

    #[test]
    fn a_long_section_is_capped_with_the_rest_counted() {
        let all: Vec<Novelty> = (0..150u8)
            .map(|i| edge(&format!("10.0.1.{i}"), i))
            .collect();
        let text = render_text(&all);
        let shown = text.lines().filter(|l| l.contains(" -> ")).count();
        assert_eq!(shown, MAX_PER_SECTION);
        assert!(
            text.contains("  ... and 50 more (every novelty is in --novelties)"),
            "{text}"
        );
    }
}
