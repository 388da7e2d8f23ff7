//! Networks of other shapes (`lateral gen --vary`, issue 17): a network
//! drawn with a time zone and a Friday-Saturday weekend, a private /16 other
//! than the classic one, asset-tag names, mostly-IPv6 logons, help desk,
//! WinRM monitoring, DNS forwarding and NTP upstream, new machines and an
//! admin's roll-out must come out as the shape says, in bytes the readers
//! take without a skip; and the classic network is untouched by shapes.

use lateral::model::event::{Flow, LogEvent, Timestamp, Transport};
use lateral::scenario::shape::{AddressPlan, Monitoring, Naming, Shape};
use lateral::scenario::truth::Truth;
use lateral::scenario::{GenSpec, Scenario, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

fn spec(shape: Shape, hours: f64) -> GenSpec {
    GenSpec {
        scenario: Scenario::Diet,
        hosts: 60,
        span: lateral::model::event::Duration((hours * 3600e9) as i64),
        seed: 5,
        pcap: true,
        pcapng: false,
        zeek: false,
        gzip: false,
        shape,
    }
}

fn shaped() -> Shape {
    Shape {
        utc_offset_minutes: 9 * 60,
        weekend_shift_days: 1,
        naming: Naming::AssetTag,
        prefix: [192, 168],
        address_plan: AddressPlan::MostlyV6,
        role_scale: [2.0, 1.0, 0.5, 2.0],
        help_desk: 2,
        monitoring: Monitoring::WinrmSsh,
        dns_forwarding: true,
        ntp_upstream: true,
        backup_hour: 22,
        admin_spread: 0.5,
        admin_rollouts: 1,
        new_machines: 2,
    }
}

mod common;
use common::{read_clean_events as events, read_clean_flows as flows};

fn truth(dir: &Path) -> Truth {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap()
}

fn time(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

#[test]
fn a_shaped_network_is_written_as_its_shape_says() {
    let dir = tempfile::tempdir().unwrap();
    let shape = shaped();
    // Two local days from Monday: the classic start is Monday 00:00 UTC.
    generate(&spec(shape, 48.0), dir.path()).unwrap();
    let t = truth(dir.path());
    assert_eq!(t.shape, Some(shape));
    assert_eq!(t.internal_networks, vec!["192.168.0.0/16".to_string()]);
    // Local midnight at UTC+9, one day back: Sunday 15:00 UTC.
    assert_eq!(t.start, "2011-07-23T15:00:00.000000Z");
    let role_of: BTreeMap<&str, &str> = t
        .hosts_table
        .iter()
        .map(|h| (h.ip.as_str(), h.role.as_str()))
        .collect();
    let count = |role: &str| role_of.values().filter(|r| **r == role).count();
    assert_eq!(count("help_desk_workstation"), 2);
    assert_eq!(count("monitoring_server"), 1);
    assert_eq!(count("domain_controller"), 2, "role_scale doubles the DCs");
    for h in &t.hosts_table {
        if h.role == "external" {
            continue;
        }
        assert!(h.ip.starts_with("192.168."), "{h:?}");
        match h.role.as_str() {
            "workstation" => assert!(h.name.starts_with("PC") && h.name.len() == 7, "{h:?}"),
            "domain_controller" => assert!(h.name.starts_with("SRV-DC"), "{h:?}"),
            _ => {}
        }
    }
    let novelties: Vec<&str> = t
        .benign_novelties
        .iter()
        .map(|s| s.description.as_str())
        .collect();
    assert_eq!(
        novelties
            .iter()
            .filter(|d| d.contains("is a new machine"))
            .count(),
        2,
        "{novelties:?}"
    );
    assert!(
        novelties
            .iter()
            .any(|d| d.contains("rolls a software update")),
        "{novelties:?}"
    );

    let (start, end) = (time(&t.start), time(&t.end));
    let fl = flows(&dir.path().join("capture.pcap"));
    assert!(fl.iter().all(|f| f.ts >= start && f.ts <= end));
    let role = |ip: IpAddr| role_of.get(ip.to_string().as_str()).copied();
    let any = |pred: &dyn Fn(&Flow) -> bool| fl.iter().any(pred);
    assert!(any(&|f| role(f.orig_h) == Some("domain_controller")
        && f.resp_h.to_string() == "192.0.2.53"
        && f.resp_p == 53
        && f.proto == Transport::Udp));
    assert!(any(&|f| role(f.orig_h) == Some("domain_controller")
        && f.resp_p == 123
        && f.proto == Transport::Udp));
    let monitored: BTreeSet<IpAddr> = fl
        .iter()
        .filter(|f| role(f.orig_h) == Some("monitoring_server") && f.resp_p == 5985)
        .map(|f| f.resp_h)
        .collect();
    assert!(monitored.len() >= 5, "{monitored:?}");
    assert!(any(&|f| role(f.orig_h) == Some("help_desk_workstation")
        && role(f.resp_h) == Some("workstation")
        && f.resp_p == 445));
    // Working days are in local time: no user logs on around 03:00 local
    // (18:00 UTC) but many do at 09:00 local (00:00 UTC).
    let ev = events(dir.path());
    let hour = |e: &LogEvent| e.ts.0.rem_euclid(86_400_000_000_000) / 3_600_000_000_000;
    let morning_logons = ev
        .iter()
        .filter(|e| e.code == Some(4768) && hour(e) == 0)
        .count();
    assert!(morning_logons > 10, "{morning_logons}");
    // Mostly IPv6: logons come from unique-local and link-local addresses
    // too, with the workstation's name beside them on NTLM logons.
    let from = |pred: &dyn Fn(&IpAddr) -> bool| {
        ev.iter()
            .filter(|e| e.code == Some(4624) && e.source_ip.as_ref().is_some_and(pred))
            .count()
    };
    let ula = from(&|ip| matches!(ip, IpAddr::V6(v) if (v.segments()[0] & 0xfe00) == 0xfc00));
    let link = from(&|ip| matches!(ip, IpAddr::V6(v) if v.segments()[0] == 0xfe80));
    let v4 = from(&|ip| ip.is_ipv4() || ip.to_string().starts_with("::ffff:"));
    assert!(
        ula > 0 && link > 0 && v4 > 0,
        "ula {ula} link {link} v4 {v4}"
    );
}

#[test]
fn the_classic_shape_draws_nothing_and_shapes_differ_by_seed() {
    assert!(Shape::classic().is_classic());
    let drawn: BTreeSet<String> = (1..=30)
        .map(|s| serde_json::to_string(&Shape::draw(s)).unwrap())
        .collect();
    assert_eq!(drawn.len(), 30, "every draw differs");
    // The same seed always draws the same shape.
    assert_eq!(Shape::draw(12), Shape::draw(12));
}
