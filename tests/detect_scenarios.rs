//! Detector tests on scenarios built here: a small office network with
//! benign routines (file server, domain controller, nightly backup, weekly
//! scanner sweep, an admin's usual RDP) learned over two weeks, then a day
//! judged against it, with or without an attack.

use lateral::analyze::{Analysis, Learning, analyze};
use lateral::config::Config;
use lateral::model::event::{
    ConnState, Flow, LogEvent, Origin, Outcome, Position, Timestamp, Transport,
};
use std::net::IpAddr;
use std::sync::Arc;

/// A host as these tests name it: its address, else its lower-case name.
fn addr_or_name(h: &lateral::alert::HostRef) -> String {
    match (&h.ip, &h.name) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(n)) => n.to_ascii_lowercase(),
        (None, None) => String::new(),
    }
}

const DAY: i64 = 86_400;
/// 2024-03-04T00:00:00Z, a Monday.
const T0: i64 = 1_709_510_400;
const BASE_DAYS: i64 = 14;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[derive(Clone)]
struct Net {
    flows: Vec<Flow>,
    events: Vec<LogEvent>,
    n: u64,
}

impl Net {
    fn new() -> Net {
        Net {
            flows: Vec::new(),
            events: Vec::new(),
            n: 0,
        }
    }

    fn flow(&mut self, t: i64, src: &str, dst: &str, port: u16, state: ConnState, sent: u64) {
        self.n += 1;
        self.flows.push(Flow {
            ts: Timestamp::from_parts(t, 0),
            uid: format!("C{:017}", self.n).into(),
            orig_h: ip(src),
            orig_p: 40_000 + (self.n % 20_000) as u16,
            resp_h: ip(dst),
            resp_p: port,
            proto: Transport::Tcp,
            service: None,
            duration: None,
            orig_bytes: Some(sent),
            resp_bytes: Some(sent / 2),
            conn_state: state,
            missed_bytes: 0,
            history: "ShADadFf".into(),
            orig_pkts: 4,
            orig_ip_bytes: sent + 200,
            resp_pkts: 4,
            resp_ip_bytes: sent / 2 + 200,
            ip_proto: 6,
            origin: Some(Origin {
                file: Arc::from("capture.pcap"),
                at: Position::Offset(self.n * 100),
            }),
        });
    }

    fn ok(&mut self, t: i64, src: &str, dst: &str, port: u16, sent: u64) {
        self.flow(t, src, dst, port, ConnState::SF, sent);
    }

    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        t: i64,
        code: u32,
        action: &str,
        host: &str,
        user: &str,
        from: Option<&str>,
        ok: bool,
    ) -> &mut LogEvent {
        self.n += 1;
        self.events.push(LogEvent {
            ts: Timestamp::from_parts(t, 0),
            action: lateral::model::Action::from_text(action).expect("a known action"),
            code: Some(code),
            dataset: "windows.security".into(),
            outcome: Some(if ok {
                Outcome::Success
            } else {
                Outcome::Failure
            }),
            host_name: Some(host.into()),
            user_name: Some(user.into()),
            source_ip: from.map(ip),
            origin: Some(Origin {
                file: Arc::from("security.jsonl"),
                at: Position::Line(self.n),
            }),
            ..LogEvent::default()
        });
        self.events.last_mut().unwrap()
    }

    fn logon(&mut self, t: i64, host: &str, user: &str, from: &str, kerberos: bool, ok: bool) {
        let e = self.log(
            t,
            if ok { 4624 } else { 4625 },
            if ok { "logged-in" } else { "logon-failed" },
            host,
            user,
            Some(from),
            ok,
        );
        e.category = Some(lateral::model::event::Category::Authentication);
        e.logon_type = Some(3);
        e.auth_method = Some(if kerberos { "Kerberos" } else { "NTLM" }.into());
    }

    /// Judges the last day against stored profiles of the learning days
    /// (the `--baseline` path) instead of the learned baseline.
    fn analyze_with_profiles(mut self, cfg: &Config) -> Analysis {
        self.flows.sort();
        self.events
            .sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.origin.cmp(&b.origin)));
        let cut = Timestamp::from_parts(T0 + BASE_DAYS * DAY, 0);
        let fc = self.flows.partition_point(|f| f.ts < cut);
        let ec = self.events.partition_point(|e| e.ts < cut);
        let mut b = lateral::hosts::DirectoryBuilder::new();
        for e in &self.events[..ec] {
            b.observe(e);
        }
        let dir = std::sync::Arc::new(b.finish());
        let profiles =
            lateral::profile::build_parallel(dir.clone(), &self.flows[..fc], &self.events[..ec]);
        let period = Some((Timestamp::from_parts(T0, 0), cut));
        lateral::analyze::analyze_against_profiles(
            &self.flows[fc..],
            &self.events[ec..],
            &profiles,
            &dir,
            period,
            cfg,
        )
    }

    /// Judges the last day on both paths: the learned baseline, then stored
    /// profiles of the same learning days (which keep the same habits).
    fn analyze_both(self, cfg: &Config) -> [Analysis; 2] {
        [self.clone().analyze(cfg), self.analyze_with_profiles(cfg)]
    }

    fn analyze(mut self, cfg: &Config) -> Analysis {
        self.flows.sort();
        self.events
            .sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.origin.cmp(&b.origin)));
        let cut = Timestamp::from_parts(T0 + BASE_DAYS * DAY, 0);
        analyze(&self.flows, &self.events, Learning::Until(cut), cfg)
    }
}

fn ws(i: usize) -> String {
    format!("10.1.1.{}", 10 + i)
}
const FILES: &str = "10.1.2.10";
const DC: &str = "10.1.2.5";
const CHAMBER: &str = "10.1.2.20";
const WEB: &str = "10.1.2.21";
const BACKUP: &str = "10.1.2.50";
const SCANNER: &str = "10.1.2.60";
const ADMIN: &str = "10.1.2.70";
const WORKSTATIONS: usize = 20;

/// The benign routine of one day `d` (0-based from T0).
fn routine(net: &mut Net, d: i64) {
    let day = T0 + d * DAY;
    let weekday = d.rem_euclid(7) < 5;
    let servers = [FILES, DC, CHAMBER, WEB];
    if weekday {
        for i in 0..WORKSTATIONS {
            let w = ws(i);
            let t = day + 8 * 3600 + (i as i64) * 97;
            net.ok(t, &w, DC, 88, 1400);
            net.ok(t + 1, &w, DC, 389, 900);
            net.ok(t + 2, &w, DC, 445, 3000);
            net.ok(t + 60, &w, FILES, 445, 40_000 + (i as u64) * 100);
            net.ok(t + 120, &w, CHAMBER, 80, 5_000);
            net.ok(t + 180, &w, WEB, 443, 2_000);
            // Users log on to the file server from their own desks, with Kerberos.
            net.logon(t + 60, "FILES", &format!("user{i}"), &w, true, true);
            net.logon(t + 120, "SRV-CHAMBER", &format!("user{i}"), &w, true, true);
            // Web browsing to a popular external site.
            net.ok(t + 300, &w, "93.184.216.34", 443, 3_000);
        }
        // Servers' machine accounts log on to the DC, naming themselves (how names meet addresses).
        for (name, addr) in [("SRV-CHAMBER", CHAMBER), ("FILES", FILES)] {
            net.logon(day + 7 * 3600, "DC", &format!("{name}$"), addr, true, true);
            net.events.last_mut().unwrap().source_domain = Some(name.into());
        }
        // The admin's usual RDP to the servers, and the admin account's privileges there.
        for (k, s) in servers.iter().enumerate() {
            let t = day + 10 * 3600 + k as i64 * 600;
            net.ok(t, ADMIN, s, 3389, 80_000);
            net.logon(t, &format!("SRV{k}"), "admin", ADMIN, true, true);
        }
    }
    // Nightly backup touches every host over SMB.
    for (k, h) in servers
        .iter()
        .map(|s| s.to_string())
        .chain((0..WORKSTATIONS).map(ws))
        .enumerate()
    {
        net.ok(day + 2 * 3600 + k as i64 * 30, BACKUP, &h, 445, 1_000);
        net.ok(
            day + 2 * 3600 + k as i64 * 30 + 5,
            &h,
            BACKUP,
            445,
            5_000_000,
        );
    }
    // Weekly scanner sweep on Wednesdays: every host, many ports, mostly refused.
    if d.rem_euclid(7) == 2 {
        let mut t = day + 22 * 3600;
        for h in servers
            .iter()
            .map(|s| s.to_string())
            .chain((0..WORKSTATIONS).map(ws))
        {
            for port in [
                21u16, 22, 23, 80, 135, 139, 443, 445, 3389, 5900, 5985, 8080,
            ] {
                let state = if port == 445 || port == 135 {
                    ConnState::SF
                } else {
                    ConnState::REJ
                };
                net.flow(t, SCANNER, &h, port, state, 0);
                t += 1;
            }
        }
    }
}

fn baseline_net() -> Net {
    let mut net = Net::new();
    for d in 0..BASE_DAYS {
        routine(&mut net, d);
    }
    net
}

/// Day 16 (a Wednesday, so the sweep runs) of routine only.
const JUDGED: i64 = BASE_DAYS + 2;

fn rule_ids(a: &Analysis) -> Vec<&'static str> {
    a.alerts.iter().map(|x| x.rule.id).collect()
}

#[test]
fn benign_routine_produces_no_alerts() {
    let mut net = baseline_net();
    routine(&mut net, BASE_DAYS);
    routine(&mut net, BASE_DAYS + 1);
    routine(&mut net, JUDGED);
    let a = net.analyze(&Config::default());
    assert!(a.learned.is_some());
    // Three days were judged (the silence below is about them, not about
    // an empty detection part); the attack tests show the detectors fire.
    assert!(
        a.detect_counts.0 > 0 && a.detect_counts.1 > 0,
        "{:?}",
        a.detect_counts
    );
    assert!(
        a.alerts.is_empty(),
        "unexpected alerts: {:#?}",
        a.alerts.iter().map(|x| &x.message).collect::<Vec<_>>()
    );
    assert!(a.incidents.is_empty());
}

#[test]
fn a_single_new_admin_rdp_is_at_most_a_low_incident() {
    let judged = |cfg: &Config| {
        let mut net = baseline_net();
        routine(&mut net, JUDGED);
        // The admin's first RDP to a workstation (help desk).
        let t = T0 + JUDGED * DAY + 11 * 3600;
        net.ok(t, ADMIN, &ws(4), 3389, 60_000);
        net.analyze(cfg)
    };
    // By default the admin host using its usual service on one more host is
    // routine: no alert at all.
    let a = judged(&Config::default());
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    // With that allowance off the edge is news, and the detector sees it:
    // exactly one new-admin-edge alert, the admin host to the workstation,
    // in at most one incident, and that one low.
    let mut cfg = Config::default();
    cfg.detect.new_admin_edge.routine_reach = usize::MAX;
    let a = judged(&cfg);
    let edges: Vec<_> = a
        .alerts
        .iter()
        .filter(|x| x.rule.id == "lateral.new-admin-edge")
        .collect();
    assert_eq!(edges.len(), 1, "{:#?}", a.alerts);
    assert_eq!(edges[0].source.as_ref().map(addr_or_name).unwrap(), ADMIN);
    assert_eq!(
        edges[0].destination.as_ref().map(addr_or_name).unwrap(),
        ws(4)
    );
    assert!(a.incidents.len() <= 1, "{:#?}", a.incidents);
    for i in &a.incidents {
        assert!(i.score < 25, "score {} for {:#?}", i.score, a.alerts);
    }
}

/// The chamber attack on the judged day.
fn attack(net: &mut Net) {
    let day = T0 + JUDGED * DAY;
    let victims = [ws(3), ws(7), ws(9)];
    let c2 = "198.51.100.9";
    for (k, w) in victims.iter().enumerate() {
        // Beacons every 10 minutes with a little jitter, from 06:00.
        for b in 0..12i64 {
            let jitter = (b * 7 + k as i64 * 3) % 11 - 5;
            net.ok(
                day + 6 * 3600 + b * 600 + jitter,
                w,
                c2,
                443,
                310 + (b % 2) as u64,
            );
        }
        // Onto the chamber server over SMB at 09:00, with PsExec.
        let t = day + 9 * 3600 + k as i64 * 420;
        net.ok(t, w, CHAMBER, 445, 120_000);
        net.logon(t, "SRV-CHAMBER", "user7", w, false, true);
        net.log(
            t + 5,
            5140,
            "share-accessed",
            "SRV-CHAMBER",
            "user7",
            Some(w),
            true,
        )
        .set_share_name(Some("\\\\*\\ADMIN$".into()));
        net.log(
            t + 8,
            7045,
            "service-installed",
            "SRV-CHAMBER",
            "user7",
            None,
            true,
        )
        .set_service_name(Some("PSEXESVC".into()));
    }
    net.ok(day + 9 * 3600 + 1000, &ws(7), CHAMBER, 3389, 90_000);
    // Then the chamber server reaches the DC and stages data on the file server.
    net.ok(day + 10 * 3600, CHAMBER, DC, 445, 20_000);
    net.ok(day + 10 * 3600 + 5, CHAMBER, DC, 135, 2_000);
    net.ok(day + 11 * 3600, CHAMBER, FILES, 445, 80_000_000);
}

#[test]
fn chamber_attack_is_the_top_incident_with_its_path() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    attack(&mut net);
    let a = net.analyze(&Config::default());
    let ids = rule_ids(&a);
    for want in [
        "lateral.beaconing",
        "lateral.new-admin-edge",
        "lateral.convergence",
        "lateral.remote-exec",
        "lateral.new-logon-source",
        "lateral.ntlm-where-kerberos",
        "lateral.volume",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    let top = a.incidents.first().expect("an incident");
    assert!(top.score >= 75, "score {}", top.score);
    let layers: Vec<Vec<String>> = top
        .path
        .iter()
        .map(|l| l.iter().map(addr_or_name).collect())
        .collect();
    assert_eq!(layers.first().unwrap(), &vec![ws(3), ws(7), ws(9)]);
    assert_eq!(layers.get(1).unwrap(), &vec![CHAMBER.to_string()]);
    let third = layers.get(2).unwrap();
    assert!(
        third.contains(&DC.to_string()) && third.contains(&FILES.to_string()),
        "{layers:?}"
    );
    // Every attack alert belongs to the top incident; nothing else is above low.
    for al in &a.alerts {
        if al.incident_id.as_deref() != Some(top.id.as_str()) {
            let inc = a
                .incidents
                .iter()
                .find(|i| Some(i.id.as_str()) == al.incident_id.as_deref())
                .unwrap();
            assert!(
                inc.score < 25,
                "stray incident {inc:#?} from {}",
                al.message
            );
        }
    }
    // Evidence points back at the records.
    let conv = a
        .alerts
        .iter()
        .find(|x| x.rule.id == "lateral.convergence")
        .unwrap();
    assert!(conv.evidence.iter().all(|e| e.file() == "capture.pcap"));
    let rex = a
        .alerts
        .iter()
        .find(|x| x.rule.id == "lateral.remote-exec")
        .unwrap();
    assert!(rex.evidence.iter().any(|e| e.summary.contains("7045")));
    assert_eq!(rex.technique.id, "T1569.002");
}

#[test]
fn known_scanner_and_new_scanner_are_told_apart() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    // A host that never scanned sweeps admin ports on every workstation.
    let mut t = T0 + JUDGED * DAY + 13 * 3600;
    for i in 0..WORKSTATIONS {
        for port in [445u16, 3389, 5985] {
            net.flow(t, &ws(0), &ws(i + 1), port, ConnState::REJ, 0);
            t += 2;
        }
    }
    let a = net.analyze(&Config::default());
    let fan: Vec<_> = a
        .alerts
        .iter()
        .filter(|x| x.rule.id == "lateral.fan-out")
        .collect();
    assert_eq!(fan.len(), 1, "{:#?}", a.alerts);
    assert_eq!(fan[0].source.as_ref().map(addr_or_name).unwrap(), ws(0));
    assert_eq!(fan[0].technique.id, "T1046");
    // The configured scanner sweeping again is not an alert, and neither is ws-0 once configured.
    let mut cfg = Config::default();
    cfg.network.scanners.push(ws(0).parse().unwrap());
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let mut t = T0 + JUDGED * DAY + 13 * 3600;
    for i in 0..WORKSTATIONS {
        net.flow(t, &ws(0), &ws(i + 1), 445, ConnState::REJ, 0);
        t += 2;
    }
    let b = net.analyze(&cfg);
    assert!(b.alerts.iter().all(|x| x.rule.id != "lateral.fan-out"));
}

#[test]
fn a_roll_out_to_a_servers_own_clients_is_weak_however_wide() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    // The file server, which every workstation uses, pushes to all of them over SMB in a minute.
    let t = T0 + JUDGED * DAY + 16 * 3600;
    for i in 0..WORKSTATIONS {
        net.ok(t + i as i64 * 2, FILES, &ws(i), 445, 200_000);
    }
    let a = net.analyze(&Config::default());
    let fan: Vec<_> = a
        .alerts
        .iter()
        .filter(|x| x.rule.id == "lateral.fan-out")
        .collect();
    assert_eq!(fan.len(), 1, "{:#?}", a.alerts);
    assert!(
        fan[0].message.contains("20 of them its clients"),
        "{}",
        fan[0].message
    );
    assert!(fan[0].score <= 25, "score {}", fan[0].score);
    for i in &a.incidents {
        assert!(i.score <= 47, "incident above medium: {:#?}", i);
    }
}

#[test]
fn password_spray_then_success() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let t = T0 + JUDGED * DAY + 14 * 3600;
    for k in 0..8 {
        net.logon(
            t + k * 20,
            "FILES",
            &format!("user{k}"),
            "10.1.1.99",
            false,
            false,
        );
    }
    net.logon(t + 400, "FILES", "user5", "10.1.1.99", false, true);
    spray_won_by(net, "user5", 8);
}

/// The spray alert of `net`'s judged day: `accounts` tried, `winner`'s
/// password worked.
fn spray_won_by(net: Net, winner: &str, accounts: usize) -> lateral::alert::Alert {
    let a = net.analyze(&Config::default());
    let spray = a
        .alerts
        .into_iter()
        .find(|x| x.rule.id == "lateral.password-spray")
        .expect("spray");
    assert_eq!(spray.technique.id, "T1110.003");
    assert_eq!(spray.user.as_deref(), Some(winner));
    assert_eq!(spray.related_users.len(), accounts);
    assert!(spray.score >= 70, "score {}", spray.score);
    spray
}

/// A spray at the domain controller leaves only Kerberos records: refused
/// pre-authentications (4771) and TGT requests for unknown accounts (4768),
/// then a TGT granted for the account whose password worked.
#[test]
fn kerberos_spray_at_the_domain_controller_then_a_ticket() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let t = T0 + JUDGED * DAY + 14 * 3600;
    for k in 0..10 {
        let (code, action) = if k % 3 == 0 {
            (4768, "kerberos-tgt-request")
        } else {
            (4771, "kerberos-preauth-failed")
        };
        net.log(
            t + k,
            code,
            action,
            "DC01",
            &format!("user{k}"),
            Some("10.1.1.97"),
            false,
        );
    }
    net.log(
        t + 30,
        4768,
        "kerberos-tgt-request",
        "DC01",
        "user7",
        Some("10.1.1.97"),
        true,
    );
    let spray = spray_won_by(net, "user7", 10);
    assert!(
        spray
            .message
            .starts_with("10 failed logons for 10 accounts"),
        "{}",
        spray.message
    );
}

#[test]
fn brute_force_on_one_account() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let t = T0 + JUDGED * DAY + 15 * 3600;
    for k in 0..6 {
        net.logon(t + k * 10, "SRV-CHAMBER", "user2", "10.1.1.98", true, false);
    }
    net.logon(t + 100, "SRV-CHAMBER", "user2", "10.1.1.98", true, true);
    let a = net.analyze(&Config::default());
    let bf = a
        .alerts
        .iter()
        .find(|x| x.rule.id == "lateral.brute-force")
        .expect("brute force");
    assert_eq!(bf.technique.id, "T1110.001");
    assert_eq!(bf.evidence_total, 7);
    // Four failures are not enough by default.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    for k in 0..4 {
        net.logon(t + k * 10, "SRV-CHAMBER", "user2", "10.1.1.98", true, false);
    }
    net.logon(t + 100, "SRV-CHAMBER", "user2", "10.1.1.98", true, true);
    let a = net.analyze(&Config::default());
    assert!(a.alerts.iter().all(|x| x.rule.id != "lateral.brute-force"));
}

#[test]
fn account_spread_explicit_credentials_and_first_privilege() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let t = T0 + JUDGED * DAY + 16 * 3600;
    for i in 0..7 {
        net.logon(t + i * 30, &format!("WS{i}"), "user1", &ws(1), true, true);
    }
    let e = net.log(
        t + 500,
        4648,
        "explicit-credential-logon",
        "WS-1",
        "svc-sql",
        None,
        true,
    );
    e.set_subject_user(Some("user1".into()));
    e.destination_domain = Some("SRV-DB.corp.local".into());
    net.log(
        t + 31,
        4672,
        "special-privileges-assigned",
        "WS1",
        "user1",
        None,
        true,
    );
    let a = net.analyze(&Config::default());
    let ids = rule_ids(&a);
    assert!(ids.contains(&"lateral.account-spread"), "{ids:?}");
    assert!(ids.contains(&"lateral.explicit-credentials"), "{ids:?}");
    let p = a
        .alerts
        .iter()
        .find(|x| x.rule.id == "lateral.first-privileged-logon")
        .expect("privilege");
    assert_eq!(p.source.as_ref().map(addr_or_name).unwrap(), ws(1));
    // admin's usual privileges on the servers are not new.
    assert!(a.alerts.iter().all(|x| x.user.as_deref() != Some("admin")));
}

#[test]
fn output_does_not_depend_on_record_order() {
    let build = |reverse: bool| {
        let mut net = baseline_net();
        routine(&mut net, JUDGED);
        attack(&mut net);
        if reverse {
            net.flows.reverse();
            net.events.reverse();
        }
        let a = net.analyze(&Config::default());
        let mut out = Vec::new();
        lateral::report::alerts_jsonl::write_alerts(&a.alerts, &a.incidents, &mut out);
        out
    };
    let a = build(false);
    assert!(!a.is_empty());
    assert_eq!(a, build(true));
}

#[test]
fn stored_profiles_judge_the_same_scenarios() {
    // Benign routine: nothing above low.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let a = net.analyze_with_profiles(&Config::default());
    assert!(
        a.detect_counts.0 > 0 && a.detect_counts.1 > 0,
        "{:?}",
        a.detect_counts
    );
    for i in &a.incidents {
        assert!(
            i.score < 25,
            "{:#?}",
            a.alerts.iter().map(|x| &x.message).collect::<Vec<_>>()
        );
    }
    // The attack: the top incident covers the path.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    attack(&mut net);
    let a = net.analyze_with_profiles(&Config::default());
    let top = a.incidents.first().expect("an incident");
    assert!(top.score >= 75, "score {}", top.score);
    let keys: Vec<String> = top.path.iter().flatten().map(addr_or_name).collect();
    for want in [
        ws(3),
        ws(7),
        ws(9),
        CHAMBER.to_string(),
        DC.to_string(),
        FILES.to_string(),
    ] {
        assert!(keys.contains(&want), "{want} not on {keys:?}");
    }
    let ids = rule_ids(&a);
    for want in [
        "lateral.beaconing",
        "lateral.convergence",
        "lateral.remote-exec",
        "lateral.volume",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
}

/// Adds `carol`'s usual SSH from workstation 4 to the chamber server at
/// 11:00 on weekdays, with a password, to the baseline days.
fn with_usual_ssh(net: &mut Net) {
    for d in 0..BASE_DAYS {
        if d.rem_euclid(7) < 5 {
            ssh_session(net, T0 + d * DAY + 11 * 3600, &ws(4), "password");
        }
    }
}

/// One SSH session: the connection and sshd's accepted logon.
fn ssh_session(net: &mut Net, t: i64, from: &str, method: &str) {
    net.ok(t, from, CHAMBER, 22, 30_000);
    let e = net.log(t, 0, "logged-in", "SRV-CHAMBER", "carol", Some(from), true);
    e.code = None;
    e.dataset = "system.auth".into();
    e.category = Some(lateral::model::event::Category::Authentication);
    e.auth_method = Some(method.into());
}

fn off_hours(a: &Analysis) -> Vec<&lateral::alert::Alert> {
    a.alerts
        .iter()
        .filter(|x| x.rule.id == "lateral.off-hours-session")
        .collect()
}

#[test]
fn a_nine_to_five_workstations_known_ssh_at_night_fires() {
    let judged_at = |hour: i64, method: &str| {
        let mut net = baseline_net();
        with_usual_ssh(&mut net);
        routine(&mut net, JUDGED);
        ssh_session(&mut net, T0 + JUDGED * DAY + hour * 3600, &ws(4), method);
        net
    };
    let judged = |method: &str| judged_at(22, method);
    let a = judged("publickey").analyze(&Config::default());
    let hits = off_hours(&a);
    assert_eq!(hits.len(), 1, "{:#?}", a.alerts);
    let hit = hits[0];
    assert!(hit.message.contains("publickey"), "{}", hit.message);
    assert!(hit.score >= 25 && hit.score < 50, "score {}", hit.score);
    assert_eq!(hit.user.as_deref(), Some("carol"));
    // The same hour with the usual password scores lower, but still fires.
    let a = judged("password").analyze(&Config::default());
    let plain = off_hours(&a);
    assert_eq!(plain.len(), 1, "{:#?}", a.alerts);
    assert!(plain[0].score < hit.score);
    // Stored profiles judge it the same way, by the account's and the
    // edge's own hours (not the workstation's, which the Wednesday scanner
    // sweep at 22:00 and the nightly backup reach), with the same score.
    let a = judged("publickey").analyze_with_profiles(&Config::default());
    let stored = off_hours(&a);
    assert_eq!(stored.len(), 1, "{:#?}", a.alerts);
    assert_eq!(stored[0].score, hit.score);
    assert!(
        stored[0].message.contains("carol never logged on"),
        "{}",
        stored[0].message
    );
}

#[test]
fn the_same_ssh_in_office_hours_does_not_fire() {
    let mut net = baseline_net();
    with_usual_ssh(&mut net);
    routine(&mut net, JUDGED);
    ssh_session(&mut net, T0 + JUDGED * DAY + 11 * 3600, &ws(4), "publickey");
    let a = net.analyze(&Config::default());
    assert!(off_hours(&a).is_empty(), "{:#?}", off_hours(&a));
    // The control: the same session at 22:00 fires, so the silence above
    // is the detector's judgement and not its absence.
    let mut net = baseline_net();
    with_usual_ssh(&mut net);
    routine(&mut net, JUDGED);
    ssh_session(&mut net, T0 + JUDGED * DAY + 22 * 3600, &ws(4), "publickey");
    let a = net.analyze(&Config::default());
    assert_eq!(off_hours(&a).len(), 1, "{:#?}", a.alerts);
}

#[test]
fn a_server_active_around_the_clock_has_no_off_hours() {
    let mut net = baseline_net();
    // The web server reaches the chamber over SSH every hour, except (by
    // chance) Wednesdays at 22:00.
    for d in 0..BASE_DAYS {
        for h in 0..24 {
            if d.rem_euclid(7) == 2 && h == 22 {
                continue;
            }
            net.ok(T0 + d * DAY + h * 3600 + 120, WEB, CHAMBER, 22, 8_000);
        }
    }
    routine(&mut net, JUDGED);
    net.ok(T0 + JUDGED * DAY + 22 * 3600 + 120, WEB, CHAMBER, 22, 8_000);
    let a = net.analyze(&Config::default());
    assert!(off_hours(&a).is_empty(), "{:#?}", off_hours(&a));
    // The control: the same connection from a web server that used SSH only
    // in office hours fires at 22:00.
    let mut net = baseline_net();
    for d in 0..BASE_DAYS {
        for h in 9..18 {
            net.ok(T0 + d * DAY + h * 3600 + 120, WEB, CHAMBER, 22, 8_000);
        }
    }
    routine(&mut net, JUDGED);
    net.ok(T0 + JUDGED * DAY + 22 * 3600 + 120, WEB, CHAMBER, 22, 8_000);
    let a = net.analyze(&Config::default());
    let hits = off_hours(&a);
    assert_eq!(hits.len(), 1, "{:#?}", a.alerts);
    assert_eq!(hits[0].source.as_ref().map(addr_or_name).unwrap(), WEB);
}

#[test]
fn the_backup_servers_nightly_sessions_do_not_fire() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    let a = net.analyze(&Config::default());
    assert!(off_hours(&a).is_empty(), "{:#?}", off_hours(&a));
    // The backup's SMB at 02:00 is known; one at 15:30 is in an hour it
    // was never active in, and it fires.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    net.ok(
        T0 + JUDGED * DAY + 15 * 3600 + 1800,
        BACKUP,
        FILES,
        445,
        1_000,
    );
    let a = net.analyze(&Config::default());
    assert_eq!(off_hours(&a).len(), 1, "{:#?}", a.alerts);
}

/// ws-4 polls an outside site every hour, day and night, on top of
/// carol's usual office-hours SSH: the desk is never idle, its user is.
fn with_desk_polling_all_night(net: &mut Net, days: std::ops::Range<i64>) {
    for d in days {
        for h in 0..24 {
            net.ok(
                T0 + d * DAY + h * 3600 + 900,
                &ws(4),
                "93.184.216.34",
                443,
                700,
            );
        }
    }
}

#[test]
fn a_desk_busy_all_night_still_has_its_users_hours() {
    let judged = |hour: i64, method: &str| {
        let mut net = baseline_net();
        with_usual_ssh(&mut net);
        with_desk_polling_all_night(&mut net, 0..JUDGED + 1);
        routine(&mut net, JUDGED);
        ssh_session(&mut net, T0 + JUDGED * DAY + hour * 3600, &ws(4), method);
        net.analyze_both(&Config::default())
    };
    for (a, quiet) in judged(3, "publickey").iter().zip(judged(11, "publickey")) {
        desk_busy_all_night_judged(a, &quiet);
    }
}

/// 03:00 with a key: the desk was active at 03:00 every night, but
/// neither carol nor the edge ever was; her usual 11:00 does not fire.
fn desk_busy_all_night_judged(a: &Analysis, usual: &Analysis) {
    let hits = off_hours(a);
    assert_eq!(hits.len(), 1, "{:#?}", a.alerts);
    assert!(
        hits[0].message.contains("carol never logged on")
            || hits[0].message.contains("the edge was never used"),
        "{}",
        hits[0].message
    );
    assert!(hits[0].score >= 25, "score {}", hits[0].score);
    assert_eq!(hits[0].user.as_deref(), Some("carol"));
    assert!(off_hours(usual).is_empty(), "{:#?}", off_hours(usual));
}

#[test]
fn overtime_next_to_the_working_day_is_weaker_than_the_night() {
    let judged = |hour: i64| {
        let mut net = baseline_net();
        with_usual_ssh(&mut net);
        routine(&mut net, JUDGED);
        ssh_session(
            &mut net,
            T0 + JUDGED * DAY + hour * 3600,
            &ws(4),
            "password",
        );
        net.analyze(&Config::default())
    };
    // Three hours after her usual 11:00, with her usual password: overtime.
    let a = judged(14);
    assert!(off_hours(&a).is_empty(), "{:#?}", off_hours(&a));
    // Twelve hours away it fires.
    let a = judged(23);
    assert_eq!(off_hours(&a).len(), 1, "{:#?}", a.alerts);
}

#[test]
fn an_admin_hosts_usual_service_on_one_more_host_is_routine() {
    let t = T0 + JUDGED * DAY + 11 * 3600;
    // The admin host RDPs four servers every weekday; one RDP to a
    // workstation (help desk) is its job: no alert, no incident.
    // On both paths: the stored profiles know the admin host's role (RDP
    // on three or more hosts) and its reach over RDP.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    net.ok(t, ADMIN, &ws(4), 3389, 60_000);
    for a in net.analyze_both(&Config::default()) {
        assert!(a.alerts.is_empty(), "{:#?}", a.alerts);
        assert!(a.incidents.is_empty());
    }
    // A service it never administered anything with still raises one.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    net.ok(t, ADMIN, &ws(4), 5985, 60_000);
    let a = net.analyze(&Config::default());
    assert!(
        rule_ids(&a).contains(&"lateral.new-admin-edge"),
        "{:#?}",
        a.alerts
    );
    // And so does a workstation using RDP on another.
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    net.ok(t, &ws(5), &ws(4), 3389, 60_000);
    let a = net.analyze(&Config::default());
    assert!(
        rule_ids(&a).contains(&"lateral.new-admin-edge"),
        "{:#?}",
        a.alerts
    );
}

/// The admin account's special privileges on the four servers it logs on
/// to from the admin host, every weekday of the baseline.
fn with_admin_privileges(net: &mut Net) {
    for d in 0..BASE_DAYS {
        if d.rem_euclid(7) < 5 {
            for k in 0..4i64 {
                let t = T0 + d * DAY + 10 * 3600 + k * 600;
                net.log(
                    t + 1,
                    4672,
                    "special-privileges-assigned",
                    &format!("SRV{k}"),
                    "admin",
                    None,
                    true,
                );
            }
        }
    }
}

fn first_privileged(a: &Analysis) -> Vec<&lateral::alert::Alert> {
    a.alerts
        .iter()
        .filter(|x| x.rule.id == "lateral.first-privileged-logon")
        .collect()
}

#[test]
fn an_admin_accounts_privileges_on_one_more_host_from_its_admin_host_are_routine() {
    let judged = |from: &str| {
        let mut net = baseline_net();
        with_admin_privileges(&mut net);
        routine(&mut net, JUDGED);
        let t = T0 + JUDGED * DAY + 14 * 3600;
        net.logon(t, "MAIL", "admin", from, true, true);
        net.log(
            t + 1,
            4672,
            "special-privileges-assigned",
            "MAIL",
            "admin",
            None,
            true,
        );
        net.analyze_both(&Config::default())
    };
    for (a, news) in judged(ADMIN).iter().zip(judged(&ws(5))) {
        assert!(first_privileged(a).is_empty(), "{:#?}", a.alerts);
        // The same account from a workstation it never used is news.
        let hits = first_privileged(&news);
        assert_eq!(hits.len(), 1, "{:#?}", news.alerts);
        assert_eq!(hits[0].source.as_ref().map(addr_or_name).unwrap(), ws(5));
    }
}

const PROXY: &str = "10.1.2.30";

/// A web proxy: every workstation browses through it on weekdays, and it
/// fetches from three outside sites for them.
fn with_proxy(net: &mut Net) {
    for d in 0..BASE_DAYS {
        if d.rem_euclid(7) < 5 {
            let day = T0 + d * DAY;
            for i in 0..WORKSTATIONS {
                net.ok(day + 9 * 3600 + i as i64 * 61, &ws(i), PROXY, 8080, 2_000);
            }
            for k in 0..30i64 {
                let site = format!("198.51.100.{}", 20 + k % 3);
                net.ok(day + 9 * 3600 + k * 97, PROXY, &site, 443, 1_500 + k as u64);
            }
        }
    }
}

fn beacons(a: &Analysis) -> Vec<&lateral::alert::Alert> {
    a.alerts
        .iter()
        .filter(|x| x.rule.id == "lateral.beaconing")
        .collect()
}

#[test]
fn a_proxy_fetching_one_site_evenly_is_not_beaconing() {
    let judged = |src: &str, every: i64, times: i64| {
        let mut net = baseline_net();
        with_proxy(&mut net);
        routine(&mut net, JUDGED);
        let t = T0 + JUDGED * DAY + 8 * 3600;
        for k in 0..times {
            net.ok(t + k * every, src, "203.0.113.80", 443, 900);
        }
        net.analyze_both(&Config::default())
    };
    // Seven fetches 80 minutes apart by the proxy: its clients' pace.
    for a in judged(PROXY, 4800, 7) {
        assert!(beacons(&a).is_empty(), "{:#?}", beacons(&a));
    }
    // The same from a workstation is a beacon.
    for a in judged(&ws(6), 4800, 7) {
        assert_eq!(beacons(&a).len(), 1, "{:#?}", a.alerts);
    }
    // A timer on the proxy itself, dozens of times, still is.
    for a in judged(PROXY, 300, 60) {
        assert_eq!(beacons(&a).len(), 1, "{:#?}", a.alerts);
    }
}

#[test]
fn a_roll_out_that_reaches_a_newcomer_stays_low() {
    let mut net = baseline_net();
    routine(&mut net, JUDGED);
    // The file server pushes to all its clients (the workstations, and the
    // backup server it sends to) and to a desk that is new today.
    let t = T0 + JUDGED * DAY + 16 * 3600;
    let newcomer = "10.1.1.99";
    net.ok(t - 3600, newcomer, DC, 88, 1_400);
    for i in 0..WORKSTATIONS {
        net.ok(t + i as i64 * 2, FILES, &ws(i), 445, 200_000);
    }
    net.ok(t + 50, FILES, newcomer, 445, 200_000);
    let a = net.analyze(&Config::default());
    let edge = a
        .alerts
        .iter()
        .find(|x| {
            x.rule.id == "lateral.new-admin-edge"
                && x.destination
                    .as_ref()
                    .is_some_and(|d| addr_or_name(d) == newcomer)
        })
        .expect("the newcomer's edge");
    assert!(
        edge.message
            .contains("part of a push to 22 hosts, 21 of them its clients"),
        "{}",
        edge.message
    );
    // Elastic's low band (0-21) for every incident.
    for i in &a.incidents {
        assert!(i.score <= 21, "incident above low: {i:#?}");
    }
}

#[test]
fn hours_seen_on_two_days_weigh_less_than_a_fortnights() {
    let judged = |days: &[i64]| {
        let mut net = baseline_net();
        for d in days {
            for k in 0..5 {
                ssh_session(
                    &mut net,
                    T0 + d * DAY + 11 * 3600 + k * 300,
                    &ws(4),
                    "password",
                );
            }
        }
        routine(&mut net, JUDGED);
        ssh_session(&mut net, T0 + JUDGED * DAY + 23 * 3600, &ws(4), "password");
        let a = net.analyze(&Config::default());
        off_hours(&a).first().map(|x| x.score)
    };
    let thin = judged(&[7, 8]).expect("two days of hours still judge");
    let full = judged(&[0, 1, 2, 3, 4, 7, 8]).expect("a fortnight's hours judge");
    assert!(thin < full, "two days {thin}, a fortnight {full}");
}

/// A development server four workstations browse (so the judged records
/// show it a server), and nobody's SSH host.
const DEV: &str = "10.1.2.22";

/// Half a day of routine (no history: role priors) with `ws(3)`'s lone SSH
/// session on the development server, and, when `led_on`, the server's
/// SSH session on the file server ten minutes later; returns the
/// `new-admin-edge` alert of `ws(3)` to the development server.
fn lone_ssh_session(led_on: bool) -> lateral::alert::Alert {
    let mut net = Net::new();
    routine(&mut net, 0);
    for i in 0..4 {
        net.ok(T0 + 9 * 3600 + i * 60, &ws(i as usize), DEV, 443, 4_000);
    }
    let t = T0 + 11 * 3600;
    net.ok(t, &ws(3), DEV, 22, 30_000);
    if led_on {
        net.ok(t + 600, DEV, FILES, 22, 30_000);
    }
    net.flows.sort();
    net.events
        .sort_by(|a, b| a.ts.cmp(&b.ts).then_with(|| a.origin.cmp(&b.origin)));
    let a = analyze(&net.flows, &net.events, Learning::Auto, &Config::default());
    assert!(a.priors, "less than a day is judged by role priors");
    let edges: Vec<_> = a
        .alerts
        .into_iter()
        .filter(|x| {
            x.rule.id == "lateral.new-admin-edge"
                && x.source.as_ref().map(addr_or_name) == Some(ws(3))
                && x.destination.as_ref().map(addr_or_name).as_deref() == Some(DEV)
        })
        .collect();
    assert_eq!(edges.len(), 1, "{edges:#?}");
    edges.into_iter().next().unwrap()
}

#[test]
fn with_role_priors_a_lone_session_on_a_server_is_low_unless_it_led_on() {
    // The only SSH client of the server, and the server did nothing after:
    // one user's work, a low alert (but an alert).
    let quiet = lone_ssh_session(false);
    assert!(quiet.score < 22, "{quiet:#?}");
    assert!(
        quiet.message.contains("opened no admin session after"),
        "{}",
        quiet.message
    );
    // The same session followed by the server's own SSH session onward:
    // its rarity counts, medium.
    let onward = lone_ssh_session(true);
    assert!(onward.score >= 22, "{onward:#?}");
    assert!(
        onward.message.contains("no other host used SSH on it"),
        "{}",
        onward.message
    );
    assert!(
        !onward.message.contains("no admin session after"),
        "{}",
        onward.message
    );
}
