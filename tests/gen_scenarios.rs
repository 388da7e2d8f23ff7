//! The scenario generator (`lateral gen --scenario diet|contractor|spray|quiet`):
//! determinism, captures that read clean and hold every step's connection,
//! logs that parse with nothing skipped, a truth file whose hosts exist,
//! the diet records at the times the truth gives, Wireshark validity, and
//! the committed `testdata/diet` matching the generator.

use lateral::model::Action;
use lateral::model::event::{ConnState, Flow, LogEvent, Timestamp};
use lateral::scenario::truth::{StepKind, Truth, TruthStep};
use lateral::scenario::{GenSpec, Scenario, generate};

use std::collections::BTreeMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

fn spec(scenario: Scenario, hosts: usize, hours: f64) -> GenSpec {
    GenSpec {
        scenario,
        hosts,
        span: lateral::model::event::Duration((hours * 3600e9) as i64),
        seed: 1,
        pcap: true,
        pcapng: false,
        zeek: false,
        gzip: false,
        shape: lateral::scenario::shape::Shape::classic(),
    }
}

/// Every file under `dir`, relative path -> bytes (gzip files decompressed).
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let mut bytes = std::fs::read(&p).unwrap();
            let mut rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if rel.extension().is_some_and(|x| x == "gz") {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut plain)
                    .unwrap();
                bytes = plain;
                rel.set_extension("");
            }
            out.insert(rel, bytes);
        }
    }
    out
}

mod common;
use common::{read_clean_events as events, read_clean_flows as flows};

fn truth(dir: &Path) -> Truth {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap()
}

fn time(s: &str) -> Timestamp {
    lateral::model::event::Timestamp::parse_rfc3339(s).unwrap()
}

fn ip(s: &Option<String>) -> Option<IpAddr> {
    s.as_ref().map(|x| x.parse().unwrap())
}

fn within(t: Timestamp, step: &TruthStep) -> bool {
    t >= time(&step.first) && t <= time(&step.last)
}

/// Checks the truth file, the capture and the logs of one generated directory.
fn check_dir(dir: &Path) -> (Truth, Vec<Flow>, Vec<LogEvent>) {
    let t = truth(dir);
    let table: BTreeMap<String, String> = t
        .hosts_table
        .iter()
        .map(|h| (h.ip.clone(), h.role.clone()))
        .collect();
    assert_eq!(
        t.hosts,
        t.hosts_table
            .iter()
            .filter(|h| h.role != "external")
            .count()
    );
    for s in t.steps.iter().chain(&t.benign_novelties) {
        assert!(
            table.contains_key(&s.source),
            "{}: source {}",
            s.id,
            s.source
        );
        if let Some(d) = &s.destination {
            assert!(table.contains_key(d), "{}: destination {d}", s.id);
        }
        assert!(time(&s.first) <= time(&s.last), "{}", s.id);
        assert!(time(&s.first) >= time(&t.start), "{}", s.id);
        assert_eq!(
            s.kind == StepKind::Benign,
            s.technique.is_none(),
            "{}",
            s.id
        );
    }
    let fl = flows(&dir.join("capture.pcap"));
    assert!(fl.windows(2).all(|w| w[0].ts <= w[1].ts));
    // Every attack step's connection is in the capture, with the state it should have.
    let start = time(&t.start);
    let learn_end = Timestamp(start.0 + (time(&t.end).0 - start.0) / 10 * 6);
    for s in &t.steps {
        assert!(
            time(&s.first) >= learn_end,
            "{} starts in the baseline",
            s.id
        );
        let src: IpAddr = s.source.parse().unwrap();
        let dst = ip(&s.destination);
        let want = |f: &Flow| {
            f.orig_h == src
                && dst.is_none_or(|d| f.resp_h == d)
                && s.port
                    .is_none_or(|p| f.resp_p == p || s.kind == StepKind::Recon)
                && f.ts >= Timestamp(time(&s.first).0 - 1_000_000_000)
                && f.ts <= time(&s.last)
        };
        let matching: Vec<&Flow> = fl.iter().filter(|f| want(f)).collect();
        assert!(
            !matching.is_empty(),
            "{}: no connection in the capture",
            s.id
        );
        let ok = |f: &&Flow| match (s.kind, s.technique.as_deref()) {
            (StepKind::Recon, _) => matches!(f.conn_state, ConnState::REJ | ConnState::RSTO),
            (StepKind::Credential, Some("T1110.003")) if s.port == Some(445) => {
                f.conn_state == ConnState::RSTO
            }
            _ => f.conn_state == ConnState::SF,
        };
        assert!(
            matching.iter().any(ok),
            "{}: states {:?}",
            s.id,
            matching.iter().map(|f| f.conn_state).collect::<Vec<_>>()
        );
    }
    let ev = events(dir);
    (t, fl, ev)
}

#[test]
fn same_arguments_give_identical_files_whatever_the_threads() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut s = spec(Scenario::Diet, 10, 1.0);
    s.pcapng = true;
    s.zeek = true;
    generate(&s, a.path()).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| generate(&s, b.path())).unwrap();
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa.contains_key(Path::new("capture.pcapng")));
    assert!(fa.contains_key(Path::new("zeek/conn.log")));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(v == &fb[k], "{} differs", k.display());
    }
    // Another seed gives another network under attack.
    let c = tempfile::tempdir().unwrap();
    generate(&GenSpec { seed: 2, ..s }, c.path()).unwrap();
    assert_ne!(
        files(c.path())[Path::new("capture.pcap")],
        fa[Path::new("capture.pcap")]
    );
}

#[test]
fn diet_records_are_where_the_truth_says() {
    diet_records(10, 1.0);
}

#[test]
fn diet_records_over_two_days() {
    diet_records(30, 48.0);
}

fn diet_records(hosts: usize, hours: f64) {
    let dir = tempfile::tempdir().unwrap();
    generate(&spec(Scenario::Diet, hosts, hours), dir.path()).unwrap();
    let (t, fl, ev) = check_dir(dir.path());
    let find = |id_kind: StepKind, tech: &str| -> Vec<&TruthStep> {
        t.steps
            .iter()
            .filter(|s| s.kind == id_kind && s.technique.as_deref() == Some(tech))
            .collect()
    };
    let smb = find(StepKind::Lateral, "T1021.002");
    let svc = find(StepKind::Execution, "T1569.002");
    let rdp = find(StepKind::Lateral, "T1021.001");
    let beacons = find(StepKind::Beacon, "T1071.001");
    assert_eq!(
        (smb.len(), svc.len(), rdp.len(), beacons.len()),
        (4, 3, 2, 3)
    );
    let chamber = t
        .hosts_table
        .iter()
        .find(|h| h.name == "srv-chamber")
        .unwrap();
    for s in smb
        .iter()
        .filter(|s| s.destination_name.as_deref() == Some("srv-chamber"))
    {
        let src: IpAddr = s.source.parse().unwrap();
        let admin_share = ev.iter().any(|e| {
            e.code == Some(5145)
                && e.source_ip == Some(src)
                && e.share_name() == Some("\\\\*\\ADMIN$")
                && within(e.ts, s)
        });
        assert!(admin_share, "{}: no ADMIN$ write", s.id);
        let logon = ev.iter().any(|e| {
            e.code == Some(4624)
                && e.logon_type == Some(3)
                && e.source_ip == Some(src)
                && e.user_name.as_deref() == s.user.as_deref()
                && e.host_name.as_deref() == Some("srv-chamber.shugiin.local")
                && within(e.ts, s)
        });
        assert!(logon, "{}: no network logon", s.id);
    }
    for s in &svc {
        for code in [7045, 4697] {
            assert!(
                ev.iter().any(|e| e.code == Some(code)
                    && e.action == Action::ServiceInstalled
                    && e.host_name.as_deref() == Some("srv-chamber.shugiin.local")
                    && within(e.ts, s)),
                "{}: no {code}",
                s.id
            );
        }
    }
    for s in &rdp {
        let src: IpAddr = s.source.parse().unwrap();
        assert!(
            ev.iter().any(|e| e.code == Some(4624)
                && e.logon_type == Some(10)
                && e.source_ip == Some(src)
                && e.user_name.as_deref() == s.user.as_deref()
                && within(e.ts, s)),
            "{}: no type-10 logon",
            s.id
        );
        // The stolen account never logged on from this source before.
        assert!(!ev.iter().any(|e| e.code == Some(4624)
            && e.source_ip == Some(src)
            && e.user_name.as_deref() == s.user.as_deref()
            && e.ts < time(&s.first)));
    }
    // The beacons are regular: every gap within 4 seconds of the period.
    let c2: IpAddr = beacons[0].destination.as_ref().unwrap().parse().unwrap();
    let src: IpAddr = beacons[0].source.parse().unwrap();
    let times: Vec<i64> = fl
        .iter()
        .filter(|f| f.orig_h == src && f.resp_h == c2)
        .map(|f| f.ts.0)
        .collect();
    assert!(times.len() >= 5);
    let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let (lo, hi) = (gaps.iter().min().unwrap(), gaps.iter().max().unwrap());
    assert!(hi - lo <= 8_000_000_000, "{gaps:?}");
    // Packets and logs agree on the chamber's network logons: each has its SMB connection.
    let chamber_ip: IpAddr = chamber.ip.parse().unwrap();
    for e in ev.iter().filter(|e| {
        e.code == Some(4624) && e.host_name.as_deref() == Some("srv-chamber.shugiin.local")
    }) {
        let port = if e.logon_type == Some(10) { 3389 } else { 445 };
        assert!(
            fl.iter().any(|f| Some(f.orig_h) == e.source_ip
                && Some(f.orig_p) == e.source_port
                && f.resp_h == chamber_ip
                && f.resp_p == port
                && (e.ts.0 - f.ts.0).abs() < 1_000_000_000),
            "logon without its connection: {e:?}"
        );
    }
}

#[test]
fn contractor_spray_and_quiet_scenarios() {
    for (sc, hours) in [
        (Scenario::Contractor, 1.0),
        (Scenario::Spray, 1.0),
        (Scenario::Quiet, 1.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        generate(&spec(sc, 10, hours), dir.path()).unwrap();
        let (t, _, ev) = check_dir(dir.path());
        assert_eq!(t.scenario, sc.name());
        assert_eq!(t.benign_novelties.len(), 4);
        match sc {
            Scenario::Contractor => {
                let hops: Vec<&TruthStep> = t
                    .steps
                    .iter()
                    .filter(|s| s.kind == StepKind::Lateral)
                    .collect();
                assert_eq!(hops.len(), 3);
                for s in &hops {
                    let src: IpAddr = s.source.parse().unwrap();
                    assert!(
                        ev.iter().any(|e| e.dataset == "sshd"
                            && e.action == Action::LoggedIn
                            && e.source_ip == Some(src)
                            && e.auth_method.as_deref() == Some("publickey")
                            && within(e.ts, s)),
                        "{}: no Accepted line",
                        s.id
                    );
                }
                // Each hop starts where the previous one ended.
                for w in hops.windows(2) {
                    assert_eq!(w[0].destination.as_ref(), Some(&w[1].source));
                }
            }
            Scenario::Spray => {
                let spray = &t.steps[0];
                let src: IpAddr = spray.source.parse().unwrap();
                let failed: Vec<&LogEvent> = ev
                    .iter()
                    .filter(|e| e.code == Some(4625) && e.source_ip == Some(src))
                    .collect();
                let mut users: Vec<&str> = failed
                    .iter()
                    .filter_map(|e| e.user_name.as_deref())
                    .collect();
                users.sort();
                users.dedup();
                assert!(users.len() >= 5 && users.len() == failed.len());
                assert!(ev.iter().any(|e| e.dataset == "sshd"
                    && e.action == Action::LogonFailed
                    && e.source_ip == Some(src)));
                assert!(t.steps.iter().any(|s| s.kind == StepKind::Lateral
                    && s.port == Some(3389)
                    && s.source == spray.source));
            }
            _ => assert!(t.steps.is_empty()),
        }
    }
}

#[test]
fn multi_day_baseline_has_rhythm_backups_and_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    generate(&spec(Scenario::Quiet, 10, 48.0), dir.path()).unwrap();
    let t = truth(dir.path());
    let fl = flows(&dir.path().join("capture.pcap"));
    let role: BTreeMap<IpAddr, String> = t
        .hosts_table
        .iter()
        .map(|h| (h.ip.parse().unwrap(), h.role.clone()))
        .collect();
    let role = |ip: &IpAddr| role.get(ip).map_or("", String::as_str);
    let hour = |f: &Flow| (f.ts.0 / 3_600_000_000_000) % 24;
    // Workstations talk to the proxy in working hours only.
    let proxy_hours: Vec<i64> = fl
        .iter()
        .filter(|f| role(&f.orig_h) == "workstation" && (f.resp_p == 8080 || f.resp_p == 3128))
        .map(hour)
        .collect();
    assert!(proxy_hours.len() > 100);
    assert!(
        proxy_hours.iter().all(|h| (7..=20).contains(h)),
        "{proxy_hours:?}"
    );
    // The backup server touches every server at night.
    let backup: std::collections::BTreeSet<IpAddr> = fl
        .iter()
        .filter(|f| role(&f.orig_h) == "backup_server" && (1..=4).contains(&hour(f)))
        .map(|f| f.resp_h)
        .collect();
    let servers = t
        .hosts_table
        .iter()
        .filter(|h| {
            !matches!(
                h.role.as_str(),
                "workstation" | "admin_workstation" | "external" | "backup_server"
            )
        })
        .count();
    assert_eq!(backup.len(), servers);
    // The scanner's sweep leaves refused and unanswered attempts.
    let scan: Vec<&Flow> = fl
        .iter()
        .filter(|f| role(&f.orig_h) == "vulnerability_scanner")
        .collect();
    assert!(
        scan.iter()
            .filter(|f| f.conn_state == ConnState::REJ)
            .count()
            > 100
    );
    assert!(
        scan.iter()
            .filter(|f| f.conn_state == ConnState::S0)
            .count()
            > 100
    );
    // Retransmissions happen.
    assert!(fl.iter().any(|f| f.history.contains('T')));
    events(dir.path());
}

#[test]
fn tshark_finds_no_malformed_packets() {
    if std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED tshark_finds_no_malformed_packets: tshark is not installed");
        return;
    }
    for sc in [Scenario::Diet, Scenario::Contractor, Scenario::Spray] {
        let dir = tempfile::tempdir().unwrap();
        generate(&spec(sc, 10, 1.0), dir.path()).unwrap();
        let out = std::process::Command::new("tshark")
            .args(["-n", "-r"])
            .arg(dir.path().join("capture.pcap"))
            .args(["-Y", "_ws.malformed || _ws.expert.severity == error"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.lines().count(), 0, "{}: {text}", sc.name());
    }
}

/// The command that writes `testdata/diet`.
pub const TESTDATA_COMMAND: &str =
    "lateral gen --scenario diet --hosts 30 --days 2 --seed 1 --gzip -o testdata/diet";

#[test]
fn committed_diet_testdata_matches_the_generator() {
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/diet");
    let dir = tempfile::tempdir().unwrap();
    let s = GenSpec {
        gzip: true,
        shape: lateral::scenario::shape::Shape::classic(),
        ..spec(Scenario::Diet, 30, 48.0)
    };
    generate(&s, dir.path()).unwrap();
    let (fresh, old) = (files(dir.path()), files(&committed));
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        old.keys().collect::<Vec<_>>(),
        "testdata/diet is stale: rm -r testdata/diet && {TESTDATA_COMMAND}"
    );
    for (k, v) in &fresh {
        assert!(
            v == &old[k],
            "testdata/diet/{} is stale: rm -r testdata/diet && {TESTDATA_COMMAND}",
            k.display()
        );
    }
}
