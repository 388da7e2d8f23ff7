//! One host's profile as text for a person at a terminal: identity, top
//! peers each way, services (remote-admin ones marked), users logging on,
//! distributions as percentiles, and activity as a 7x24 hour-of-week grid.
//!
//! The last stage of `lateral profile HOST`; the data comes from
//! [`crate::baseline::view::HostView`].

use crate::baseline::view::{HostView, Peer, Percentiles, ServiceName, UserLogons};
use crate::stats::human_bytes;
use std::fmt::Write as _;

fn svc(s: &ServiceName) -> String {
    match s.admin {
        Some(a) => format!("{} [admin: {a}]", s.service),
        None => s.service.clone(),
    }
}

fn peer_lines(out: &mut String, title: &str, peers: &[Peer], more: usize) {
    let _ = writeln!(out, "\n{title}: {}", peers.len() + more);
    if peers.is_empty() {
        out.push_str("  none\n");
        return;
    }
    for p in peers {
        let ips: Vec<String> = p.ips.iter().map(ToString::to_string).collect();
        let who = if ips.is_empty() || ips.contains(&p.key) {
            p.key.clone()
        } else {
            format!("{} ({})", p.key, ips.join(", "))
        };
        let _ = writeln!(
            out,
            "  {who}  {}  {} flows{}  {} out / {} in  {} day(s) active  {} .. {}",
            p.role,
            p.flows,
            if p.failed > 0 {
                format!(" ({} failed)", p.failed)
            } else {
                String::new()
            },
            human_bytes(p.bytes_out),
            human_bytes(p.bytes_in),
            p.days_active,
            p.first.0,
            p.last.0
        );
        let services: Vec<String> = p.services.iter().map(svc).collect();
        let _ = writeln!(out, "      {}", services.join(", "));
    }
    if more > 0 {
        let _ = writeln!(out, "  ... and {more} more (--top N shows more)");
    }
}

fn logon_lines(out: &mut String, title: &str, list: &[UserLogons], dir: &str) {
    let _ = writeln!(out, "\n{title}: {}", list.len());
    if list.is_empty() {
        out.push_str("  none\n");
    }
    for l in list {
        let peer = l
            .peer
            .as_deref()
            .map_or_else(String::new, |p| format!(" {dir} {p}"));
        let mut detail = format!("{} ok", l.successes);
        if l.failures > 0 {
            let _ = write!(detail, ", {} failed", l.failures);
        }
        if l.privileged > 0 {
            let _ = write!(detail, ", {} privileged", l.privileged);
        }
        if !l.methods.is_empty() {
            let _ = write!(detail, ", {}", l.methods.join("/"));
        }
        if !l.logon_types.is_empty() {
            let t: Vec<String> = l.logon_types.iter().map(ToString::to_string).collect();
            let _ = write!(detail, ", type {}", t.join("/"));
        }
        let _ = writeln!(
            out,
            "  {}{peer}  {detail}  {} .. {}",
            l.user, l.first.0, l.last.0
        );
    }
}

fn value(v: Option<u64>, unit: &str) -> String {
    match (v, unit) {
        (None, _) => "-".into(),
        (Some(b), "bytes") => human_bytes(b),
        (Some(us), "microseconds") => {
            if us >= 1_000_000 {
                format!("{:.1}s", us as f64 / 1e6)
            } else if us >= 1000 {
                format!("{:.1}ms", us as f64 / 1e3)
            } else {
                format!("{us}us")
            }
        }
        (Some(n), _) => n.to_string(),
    }
}

fn dist_line(out: &mut String, d: &Percentiles) {
    if d.count == 0 {
        let _ = writeln!(out, "  {:<34} none", d.name);
        return;
    }
    let _ = writeln!(
        out,
        "  {:<34} p50 {:>9}  p90 {:>9}  p99 {:>9}  max {:>9}  (n={})",
        d.name,
        value(d.p50, d.unit),
        value(d.p90, d.unit),
        value(d.p99, d.unit),
        value(d.max, d.unit),
        d.count
    );
}

/// Renders a host's profile as text.
pub fn render(v: &HostView) -> String {
    let mut s = String::new();
    let id = &v.identity;
    let names = if id.names.is_empty() {
        String::new()
    } else {
        format!("  names: {}", id.names.join(", "))
    };
    let ips: Vec<String> = id.ips.iter().map(ToString::to_string).collect();
    let _ = writeln!(s, "Host {}{names}", id.key);
    let _ = writeln!(
        s,
        "  ips: {}",
        if ips.is_empty() {
            "-".to_string()
        } else {
            ips.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "  role: {}{}",
        id.role,
        if id.role_given {
            " (from the hosts file)"
        } else {
            " (inferred)"
        }
    );
    let _ = writeln!(s, "  seen: {} .. {}", id.first_seen.0, id.last_seen.0);
    let _ = writeln!(
        s,
        "  flows: {} out, {} in; log events: {}; most hosts administered in one hour: {}",
        id.flows_out, id.flows_in, id.events, id.admin_peak_hour_hosts
    );
    peer_lines(&mut s, "Peers it reached", &v.peers_out, v.more_peers.0);
    peer_lines(&mut s, "Peers that reached it", &v.peers_in, v.more_peers.1);

    let _ = writeln!(s, "\nServices offered: {}", v.services_offered.len());
    for o in &v.services_offered {
        let _ = writeln!(
            s,
            "  {:<32} {} client(s), {} established, {} flows{}",
            svc(&o.service),
            o.clients,
            o.established_clients,
            o.flows,
            if o.failed > 0 {
                format!(", {} failed", o.failed)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(s, "\nServices used: {}", v.services_used.len());
    for u in &v.services_used {
        let _ = writeln!(
            s,
            "  {:<32} {} server(s), {} flows",
            svc(&u.service),
            u.servers,
            u.flows
        );
    }
    logon_lines(&mut s, "Users logging on to it", &v.logons_to, "from");
    logon_lines(&mut s, "Users logging on from it", &v.logons_from, "to");

    s.push_str("\nDistributions:\n");
    for d in &v.distributions {
        dist_line(&mut s, d);
    }

    s.push_str(
        "\nActivity by hour of the week (UTC; flows and events; . none, 1-9, + 10 or more):\n",
    );
    s.push_str("       0         1         2   \n");
    s.push_str("       012345678901234567890123\n");
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    for (day, row) in DAYS.iter().zip(&v.hour_of_week) {
        let cells: String = row
            .iter()
            .map(|&c| match c {
                0 => '.',
                1..=9 => char::from(b'0' + c as u8),
                _ => '+',
            })
            .collect();
        let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
        let _ = writeln!(s, "  {day}  {cells}  {total}");
    }
    s
}
