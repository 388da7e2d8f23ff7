//! Peak memory of light records (`lateral::profile::light_baseline`) on an
//! sshd flood: reads an auth.log (`python3 scripts/sshd_flood.py F N`)
//! line by line through the syslog parser, notes every light touch into a
//! `LightTable` keyed on its writer's name, seals it and prints how many
//! sources are light, how many were not, and the resident memory.
//!
//! `cargo build --release --example light_memory &&
//!  /usr/bin/time -v target/release/examples/light_memory sshd5m.log`

use lateral::hosts::HostKey;
use lateral::profile::light_baseline::{LightTable, LightTouch};
use lateral::source::LineFormat;
use lateral::source::syslog::{SyslogConfig, SyslogLines};
use std::collections::HashSet;
use std::io::BufRead;
use std::net::IpAddr;
use std::time::Instant;

/// Current and peak resident memory from /proc (Linux).
fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private() || v.is_loopback(),
        IpAddr::V6(v) => v.is_loopback(),
    }
}

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: light_memory AUTH.LOG");
        std::process::exit(2);
    };
    let started = Instant::now();
    let reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let sys = SyslogLines(SyslogConfig::year(2026, 0));
    let mut table = LightTable::new();
    let mut full: HashSet<IpAddr> = HashSet::new();
    let mut events = Vec::new();
    let (mut lines, mut touches) = (0u64, 0u64);
    for line in reader.split(b'\n') {
        let line = line?;
        lines += 1;
        events.clear();
        if sys.parse_line(&line, &mut events).is_err() {
            continue;
        }
        for e in &events {
            match LightTouch::of(e, internal) {
                Some(t) => {
                    let target = e
                        .host_name
                        .as_deref()
                        .and_then(HostKey::from_name)
                        .unwrap_or_else(|| HostKey::from_ip(t.src));
                    table.note(&t, &target);
                    touches += 1;
                }
                None => full.extend(e.source_ip),
            }
        }
    }
    println!("read {lines} lines, {touches} light touches: {}", rss());
    table.seal();
    let promoted = table.promote(|ip| full.contains(&ip));
    println!(
        "sealed: {} light sources, {} promoted, {} other addresses, {:.1} s: {}",
        table.len(),
        promoted.len(),
        full.len(),
        started.elapsed().as_secs_f64(),
        rss()
    );
    Ok(())
}
