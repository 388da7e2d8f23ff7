//! A baseline's metadata for people: what it holds and what it was made
//! from (`lateral baseline info`).

use crate::baseline::{Baseline, RunRecord};
use std::fmt::Write as _;

fn span(
    first: Option<crate::model::event::Timestamp>,
    last: Option<crate::model::event::Timestamp>,
) -> String {
    match (first, last) {
        (Some(a), Some(b)) => format!("{a} .. {b}"),
        _ => "no data".to_string(),
    }
}

fn run_line(out: &mut String, r: &RunRecord) {
    let until = r.until.map_or_else(String::new, |u| format!(", until {u}"));
    let partial = if r.partial_inputs > 0 {
        format!(", {} partial input(s)", r.partial_inputs)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  {:<6} {}  {} flows, {} events{until}{partial}",
        r.kind,
        span(r.first, r.last),
        r.flows,
        r.events
    );
    for i in &r.inputs {
        let _ = writeln!(out, "           {i}");
    }
}

/// Renders what a baseline holds and its history of builds and updates.
pub fn render_info(b: &Baseline, file_bytes: u64) -> String {
    let c = b.counts();
    let mut s = String::new();
    let _ = writeln!(s, "written by     lateral {}", b.meta.lateral_version);
    let _ = writeln!(
        s,
        "format         version {}",
        crate::baseline::file::FORMAT_VERSION
    );
    let _ = writeln!(
        s,
        "file size      {}",
        crate::stats::human_bytes(file_bytes)
    );
    let _ = writeln!(s, "learned from   {}", span(b.meta.first, b.meta.last));
    let _ = writeln!(
        s,
        "holds          {} hosts, {} edges, {} logon triples, {} named hosts in the directory",
        c.hosts,
        c.edges,
        c.logons,
        b.directory.len()
    );
    let _ = writeln!(
        s,
        "history        {} run(s), oldest first:",
        b.meta.history.len()
    );
    for r in &b.meta.history {
        run_line(&mut s, r);
    }
    s
}
