//! The HTML report (`--html`) in a real browser: headless Chromium loads
//! the page with `#selftest`, the page's own script writes what it drew
//! and what its filters did into `<pre id="selftest">`, and
//! `--dump-dom` hands that back. Checked on testdata/diet and on a
//! generated 2,000-host network: no script errors; the incident count
//! matches the alerts JSON; incident #1's graph holds its path's hosts
//! layer by layer and its path edges numbered in time order; the filters
//! change what is shown (critical only, an unknown host, a time window)
//! and reset restores it.
//!
//! Needs `chromium` (Debian's package; `.ci/run` installs it) or
//! `$LATERAL_CHROMIUM`; without it the test prints SKIPPED, except under
//! `CI=true`, where it fails.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn chromium(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("LATERAL_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(PathBuf::from),
        )
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: chromium is required in CI (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED {test}: chromium not found (apt-get install chromium, or set LATERAL_CHROMIUM)"
        );
    }
    found
}

fn lateral(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "lateral {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 report")
}

/// The page's self-check, as the browser left it in the DOM.
fn selftest(chromium: &Path, html: &Path) -> Value {
    let profile = tempfile::tempdir().expect("temporary profile");
    let url = format!("file://{}#selftest", html.display());
    // `timeout` bounds a browser that never exits; the background-networking
    // flags keep it from dialling out on a machine with a closed network.
    let out = Command::new("timeout")
        .args(["-k", "10", "180"])
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=20000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom
        .find("<pre id=\"selftest\"")
        .and_then(|i| dom[i..].find('>').map(|j| i + j + 1))
        .unwrap_or_else(|| panic!("no selftest element in the DOM of {url}: {dom:.2000}"));
    let end = dom[start..].find("</pre>").expect("selftest closes") + start;
    let text = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    assert!(!text.is_empty(), "the page wrote no self-check ({url})");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("self-check is not JSON: {e}: {text}"))
}

/// Incident #1's path from the terminal report: hosts by layer (the
/// line and its wrapped continuations).
fn report_path(report: &str) -> Vec<Vec<String>> {
    let first = report
        .split("\n#1 ")
        .nth(1)
        .expect("the report shows incident #1");
    let mut lines = first
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("path:"));
    let mut text = lines
        .next()
        .and_then(|l| l.trim_start().strip_prefix("path:"))
        .expect("incident #1 has a path")
        .to_string();
    for l in lines.take_while(|l| l.starts_with("      ")) {
        text.push(' ');
        text.push_str(l.trim());
    }
    text.split("->")
        .map(|l| l.split(',').map(|h| h.trim().to_string()).collect())
        .collect()
}

/// A layer as the report shows it: its names, and how many more it has
/// (`a, b and 3 more`).
fn shown_layer(layer: &[String]) -> (Vec<String>, usize) {
    let mut names = layer.to_vec();
    let mut more = 0;
    if let Some(last) = names.pop() {
        match last.split_once(" and ") {
            Some((name, rest)) => {
                names.push(name.to_string());
                more = rest
                    .trim_end_matches(" more")
                    .parse()
                    .expect("a count of the rest");
            }
            None => names.push(last),
        }
    }
    (names, more)
}

/// Checks one page against the run's alerts JSON and report.
fn check_page(name: &str, st: &Value, alerts: &str, report: &str) {
    assert_eq!(st["errors"], serde_json::json!([]), "{name}: script errors");
    let docs: Vec<Value> = alerts
        .lines()
        .map(|l| serde_json::from_str(l).expect("alert JSON"))
        .collect();
    let incidents: BTreeSet<&str> = docs
        .iter()
        .filter_map(|d| d["lateral"]["incident"]["id"].as_str())
        .collect();
    assert_eq!(
        st["incidents"].as_u64(),
        Some(incidents.len() as u64),
        "{name}: incidents"
    );
    assert_eq!(st["alerts"].as_u64(), Some(docs.len() as u64), "{name}");
    assert_eq!(st["listed"], st["incidents"], "{name}: all listed");
    let rank1 = docs
        .iter()
        .find(|d| d["lateral"]["incident"]["rank"] == 1)
        .expect("an alert of incident #1");
    let first = &st["first"];
    assert_eq!(first["id"], rank1["lateral"]["incident"]["id"], "{name}");
    // The path's hosts, layer by layer, as the report prints them.
    let want = report_path(report);
    let nodes = first["nodes"].as_array().expect("nodes");
    let mut total = 0;
    for (depth, layer) in want.iter().enumerate() {
        let (names, more) = shown_layer(layer);
        let drawn = nodes
            .iter()
            .filter(|n| n["layer"].as_u64() == Some(depth as u64))
            .count();
        assert_eq!(drawn, names.len() + more, "{name}: layer {depth}");
        total += drawn;
        for host in &names {
            let n = nodes
                .iter()
                .find(|n| n["host"] == host.as_str())
                .unwrap_or_else(|| panic!("{name}: {host} of the path is not drawn: {nodes:?}"));
            assert_eq!(n["layer"].as_u64(), Some(depth as u64), "{name}: {host}");
        }
    }
    assert_eq!(nodes.len(), total, "{name}: path nodes");
    // Path edges numbered 1..n in the order the attack took them.
    let edges = first["edges"].as_array().expect("edges");
    assert!(!edges.is_empty(), "{name}: no path edges");
    let mut last_time = String::new();
    for (i, e) in edges.iter().enumerate() {
        assert_eq!(e["order"].as_u64(), Some(i as u64 + 1), "{name}: {e}");
        for end in ["src", "dst"] {
            assert!(
                nodes.iter().any(|n| n["host"] == e[end]),
                "{name}: edge {e} leaves the path"
            );
        }
        let t = e["first"].as_str().expect("edge time").to_string();
        assert!(t >= last_time, "{name}: edge {e} out of time order");
        last_time = t;
    }
    assert_eq!(
        edges[0]["src"].as_str(),
        nodes
            .iter()
            .find(|n| n["layer"] == 0 && n["host"] == edges[0]["src"])
            .and_then(|n| n["host"].as_str()),
        "{name}: the first edge starts in the first layer"
    );
    assert!(first["timelineRows"].as_u64() > Some(0), "{name}: timeline");
    assert!(first["commands"].as_u64() > Some(0), "{name}: commands");
    // Filters.
    let f = &st["filters"];
    let critical = docs
        .iter()
        .filter(|d| d["lateral"]["severity"] == "critical")
        .count();
    assert_eq!(f["none"]["alerts"].as_u64(), Some(docs.len() as u64));
    assert_eq!(
        f["critical"]["alerts"].as_u64(),
        Some(critical as u64),
        "{name}"
    );
    assert_eq!(f["noHost"]["incidents"], 0, "{name}");
    assert_eq!(f["before1970"]["alerts"], 0, "{name}");
    assert_eq!(f["reset"], f["none"], "{name}");
}

#[test]
fn diet_report_loads_and_draws_incident_one_in_chromium() {
    let test = "diet_report_loads_and_draws_incident_one_in_chromium";
    let Some(chromium) = chromium(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let html = dir.path().join("diet.html");
    let json = dir.path().join("diet.jsonl");
    let report = lateral(
        &common::root(),
        &[
            "analyze",
            "-q",
            "--html",
            &html.to_string_lossy(),
            "--json",
            &json.to_string_lossy(),
            "testdata/diet",
        ],
    );
    let page = std::fs::read_to_string(&html).expect("page written");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "the page must fetch nothing"
    );
    let st = selftest(&chromium, &html);
    let alerts = std::fs::read_to_string(&json).expect("alerts written");
    check_page("diet", &st, &alerts, &report);
    assert!(
        st["filters"]["critical"]["alerts"].as_u64() < st["filters"]["none"]["alerts"].as_u64()
    );
}

#[test]
fn generated_2000_host_report_loads_in_chromium() {
    let test = "generated_2000_host_report_loads_in_chromium";
    let Some(chromium) = chromium(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    lateral(
        dir.path(),
        &[
            "gen",
            "--scenario",
            "diet",
            "--hosts",
            "2000",
            "--hours",
            "1",
            "--seed",
            "1",
            "-o",
            "net",
        ],
    );
    let report = lateral(
        dir.path(),
        &[
            "analyze",
            "-q",
            "--html",
            "net.html",
            "--json",
            "net.jsonl",
            "net",
        ],
    );
    let st = selftest(&chromium, &dir.path().join("net.html"));
    let alerts = std::fs::read_to_string(dir.path().join("net.jsonl")).expect("alerts");
    check_page("2000 hosts", &st, &alerts, &report);
}
