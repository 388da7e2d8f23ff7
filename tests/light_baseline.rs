//! Light records of outside sources that only failed to log on
//! (`lateral::profile::light_baseline`): lossless against the profiles the
//! builder makes of the same parsed sshd lines, and merged exactly
//! (associative, commutative) whatever the shards.

use lateral::hosts::{DirectoryBuilder, HostKey};
use lateral::model::event::LogEvent;
use lateral::profile::light_baseline::{LightTable, LightTouch, MAX_TRIED};
use lateral::profile::{ProfileBuilder, Profiles, RoleThresholds};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => v.is_private() || v.is_loopback(),
        IpAddr::V6(v) => v.is_loopback(),
    }
}

/// Lines in the shape of `scripts/sshd_flood.py`, from a small
/// deterministic generator: `n` lines, sources drawn from `sources`
/// public addresses (so some repeat), a few hosts and accounts, one
/// success in ten from an inside address and one from an outside one.
fn flood(n: usize, sources: u32, seed: u64) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = move |m: u32| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as u32) % m
    };
    let users = ["root", "admin", "oracle", "test", "git", "alice"];
    let mut out = String::new();
    for i in 0..n {
        let secs = i * 3 * 86400 / n.max(1);
        let (d, s) = (1 + secs / 86400, secs % 86400);
        let ts = format!(
            "Dec {d:2} {:02}:{:02}:{:02}",
            s / 3600,
            (s / 60) % 60,
            s % 60
        );
        let h = format!("web{:02}", next(4));
        let a = next(sources);
        let addr = format!("{}.{}.{}.{}", 11 + a % 200, a / 200 % 256, 7, 1 + a % 250);
        let port = 1024 + next(60000);
        let u = users[next(users.len() as u32) as usize];
        let m = match next(10) {
            0..=4 => format!("Failed password for invalid user {u} from {addr} port {port} ssh2"),
            5 | 6 => format!("Failed password for {u} from {addr} port {port} ssh2"),
            7 => format!(
                "Accepted publickey for {u} from 10.0.{}.{} port {port} ssh2: ED25519 SHA256:x",
                next(4),
                1 + next(250)
            ),
            8 => {
                if next(20) == 0 {
                    format!("Accepted password for {u} from {addr} port {port} ssh2")
                } else {
                    format!("Invalid user {u} from {addr} port {port}")
                }
            }
            _ => format!("Connection closed by invalid user {u} {addr} port {port} [preauth]"),
        };
        out.push_str(&format!("{ts} {h} sshd[{}]: {m}\n", 1000 + next(60000)));
    }
    out
}

fn parse(text: &str) -> Vec<LogEvent> {
    use lateral::source::LineFormat;
    use lateral::source::syslog::{SyslogConfig, SyslogLines};
    let sys = SyslogLines(SyslogConfig::year(2025, 0));
    let mut out = Vec::new();
    for l in text.lines() {
        sys.parse_line(l.as_bytes(), &mut out).unwrap();
    }
    out
}

/// The light touches of `events` noted into one sealed table (each on
/// its writer's directory key), and the addresses other events name.
fn light_of(
    events: &[LogEvent],
    dir: &lateral::hosts::HostDirectory,
) -> (LightTable, BTreeSet<IpAddr>) {
    let mut t = LightTable::new();
    let mut full = BTreeSet::new();
    for e in events {
        match LightTouch::of(e, internal) {
            Some(touch) => {
                let name = e.host_name.as_deref().unwrap_or_default();
                let target = dir
                    .key_for_name(name)
                    .unwrap_or_else(|| HostKey::from_name(name).unwrap());
                t.note(&touch, &target);
            }
            None => full.extend(e.source_ip),
        }
    }
    t.seal();
    (t, full)
}

#[test]
fn a_flood_source_costs_96_bytes() {
    let size = std::mem::size_of::<lateral::profile::light_baseline::LightRecord>();
    assert!(size <= 96, "{size} bytes");
}

#[test]
fn a_light_record_gives_back_the_rows_the_builder_makes() {
    let events = parse(&flood(6000, 1500, 7));
    let mut d = DirectoryBuilder::new();
    for e in &events {
        d.observe(e);
    }
    let dir = Arc::new(d.finish());
    let mut b = ProfileBuilder::new(dir.clone());
    b.add_events(&events);
    let built: Profiles = b.finish();

    let (mut table, full) = light_of(&events, &dir);
    let promoted = table.promote(|ip| full.contains(&ip));
    assert!(!promoted.is_empty(), "some sources also succeeded");
    assert!(table.len() > 500, "{} light sources", table.len());
    for r in table.records() {
        assert!(!full.contains(&r.ip()));
    }
    // Every source, light or promoted: its rows from the record equal the
    // builder's.
    for t in [&table, &promoted] {
        let rows = t.into_profiles(&RoleThresholds::default());
        for r in t.records() {
            let key = HostKey::from_ip(r.ip());
            let mine = rows.host(&key).expect("row of the record");
            if full.contains(&r.ip()) {
                // Promoted for succeeding elsewhere: the record holds the
                // failed part only.
                let theirs = built.host(&key).unwrap();
                assert!(theirs.events > mine.events);
                continue;
            }
            let theirs = built.host(&key).expect("built profile");
            assert_eq!(
                (
                    &mine.ips,
                    mine.first_seen,
                    mine.last_seen,
                    mine.events,
                    &mine.hour_of_week
                ),
                (
                    &theirs.ips,
                    theirs.first_seen,
                    theirs.last_seen,
                    theirs.events,
                    &theirs.hour_of_week
                ),
                "{key:?}"
            );
            let tried = |p: &Profiles| {
                p.logons_from(&key)
                    .into_iter()
                    .map(|l| (l.user.to_string(), l.dst.clone(), *l.stats))
                    .collect::<Vec<_>>()
            };
            assert_eq!(tried(&rows), tried(&built), "{key:?}");
            assert_eq!(t.tried(r).count(), tried(&built).len());
        }
    }
}

#[test]
fn a_source_past_the_cap_is_promoted() {
    // One source trying every account on many hosts.
    let mut text = String::new();
    for i in 0..=MAX_TRIED {
        text.push_str(&format!(
            "Dec  1 10:00:{i:02} web{i:02} sshd[1]: Failed password for invalid user root from 203.0.113.9 port 4000 ssh2\n"
        ));
    }
    text.push_str("Dec  1 10:01:00 web00 sshd[1]: Failed password for invalid user root from 203.0.113.10 port 4000 ssh2\n");
    let events = parse(&text);
    let dir = DirectoryBuilder::new().finish();
    let (mut table, full) = light_of(&events, &dir);
    assert!(full.is_empty());
    let promoted = table.promote(|_| false);
    let ips = |t: &LightTable| t.records().iter().map(|r| r.ip()).collect::<Vec<_>>();
    assert_eq!(
        ips(&promoted),
        vec!["203.0.113.9".parse::<IpAddr>().unwrap()]
    );
    assert_eq!(ips(&table), vec!["203.0.113.10".parse::<IpAddr>().unwrap()]);
    assert_eq!(promoted.records()[0].pairs(), MAX_TRIED + 1);
}

/// Sealed tables of each shard of `events` (shard of event `i`: `shard[i]`).
fn shards(events: &[LogEvent], of: &[usize], k: usize) -> Vec<LightTable> {
    let dir = DirectoryBuilder::new().finish();
    (0..k)
        .map(|s| {
            let part: Vec<LogEvent> = events
                .iter()
                .zip(of.iter().cycle())
                .filter(|&(_, &x)| x % k == s)
                .map(|(e, _)| e.clone())
                .collect();
            light_of(&part, &dir).0
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any split into shards, merged in any order and grouping, gives the
    /// table of one pass over every event, and the same promotions.
    #[test]
    fn merging_shards_equals_one_pass(
        seed in 0u64..1000,
        sources in 3u32..40,
        k in 1usize..5,
        of in proptest::collection::vec(0usize..8, 1..64),
        rot in 0usize..5,
    ) {
        let events = parse(&flood(300, sources, seed));
        let dir = DirectoryBuilder::new().finish();
        let (whole, _) = light_of(&events, &dir);
        let parts = shards(&events, &of, k);
        // Left fold in one order.
        let mut it = parts.clone().into_iter();
        let first = it.next().unwrap();
        let left = it.fold(first, LightTable::merge);
        // Right fold over a rotated order.
        let mut rotated = parts.clone();
        rotated.rotate_left(rot % k.max(1));
        let mut it = rotated.into_iter().rev();
        let last = it.next().unwrap();
        let right = it.fold(last, |acc, p| p.merge(acc));
        prop_assert_eq!(&left, &whole);
        prop_assert_eq!(&right, &whole);
        let (mut a, mut b) = (left, whole);
        let (pa, pb) = (a.promote(|_| false), b.promote(|_| false));
        prop_assert_eq!(pa, pb);
        prop_assert_eq!(a, b);
    }
}

/// Runs `lateral` with `args`, light routing on or off; its exit must be 0.
fn run_lateral(args: &[&std::ffi::OsStr], light: bool) {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_lateral"));
    c.args(args);
    if light {
        c.env("LATERAL_LIGHT_PROFILES", "1");
    } else {
        c.env_remove("LATERAL_LIGHT_PROFILES");
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn learning_through_the_light_table_builds_the_same_baseline_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flood.log");
    std::fs::write(&log, flood(20_000, 6000, 11)).unwrap();
    let hostlogs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/hostlogs");
    let mut seen: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for threads in ["1", "2"] {
        for light in [false, true] {
            let tag = format!("{threads}-{light}");
            let base = dir.path().join(format!("b{tag}.lat"));
            let alerts = dir.path().join(format!("a{tag}.json"));
            let os = |s: &str| std::ffi::OsString::from(s);
            run_lateral(
                &[
                    &os("baseline"),
                    &os("build"),
                    &os("-q"),
                    &os("--threads"),
                    &os(threads),
                    &os("-o"),
                    base.as_os_str(),
                    log.as_os_str(),
                    hostlogs.as_os_str(),
                ],
                light,
            );
            run_lateral(
                &[
                    &os("analyze"),
                    &os("-q"),
                    &os("--threads"),
                    &os(threads),
                    &os("--learn"),
                    &os("50%"),
                    &os("--json"),
                    alerts.as_os_str(),
                    log.as_os_str(),
                ],
                light,
            );
            seen.push((
                std::fs::read(&base).unwrap(),
                std::fs::read(&alerts).unwrap(),
            ));
        }
    }
    let first = seen.first().unwrap();
    assert!(!first.1.is_empty(), "the flood raises alerts");
    for s in &seen {
        assert!(s == first, "a run differs from the full-profile one");
    }
}
