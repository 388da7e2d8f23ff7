//! Profiles built from generated flows and events with known content:
//! exact peer sets, roles, percentiles, logons, identity resolution.

use lateral::hosts::{DirectoryBuilder, HostDirectory, HostKey};
use lateral::model::Action;
use lateral::model::event::{ConnState, Duration, Flow, LogEvent, Outcome, Timestamp, Transport};
use lateral::model::{AdminService, Role, Service};
use lateral::profile::{Methods, ProfileBuilder, Profiles, build_parallel};
use std::net::IpAddr;
use std::sync::Arc;

const T0: i64 = 1_764_547_200; // 2025-12-01T00:00:00Z, a Monday

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key(s: &str) -> HostKey {
    HostKey::from_name(s).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn flow(
    secs: i64,
    src: &str,
    dst: &str,
    proto: Transport,
    port: u16,
    state: ConnState,
    out: u64,
    inb: u64,
) -> Flow {
    Flow {
        ts: Timestamp::from_parts(T0 + secs, 0),
        uid: format!("C{secs}{src}{dst}{port}").into(),
        orig_h: ip(src),
        orig_p: 49_152 + (secs % 1000) as u16,
        resp_h: ip(dst),
        resp_p: port,
        proto,
        service: None,
        duration: Some(Duration::from_secs(2)),
        orig_bytes: Some(out),
        resp_bytes: Some(inb),
        conn_state: state,
        missed_bytes: 0,
        history: Default::default(),
        orig_pkts: 1,
        orig_ip_bytes: 40,
        resp_pkts: 1,
        resp_ip_bytes: 40,
        ip_proto: 6,
        origin: None,
    }
}

/// A small network: dc 10.0.0.1, file server 10.0.0.2, app servers
/// 10.0.0.3-10.0.0.8, workstations 10.0.1.1-10.0.1.10, admin host
/// 10.0.2.1 RDPing to every server, scanner 10.0.3.1 probing 10.0.1.0/24.
fn network() -> Vec<Flow> {
    use ConnState::*;
    use Transport::*;
    let mut v = Vec::new();
    for w in 1..=10 {
        let ws = format!("10.0.1.{w}");
        for h in 0..3 {
            let t = h * 3600 + w;
            v.push(flow(t, &ws, "10.0.0.1", Udp, 88, SF, 1500, 1400));
            v.push(flow(t + 1, &ws, "10.0.0.1", Tcp, 389, SF, 300, 900));
            v.push(flow(
                t + 2,
                &ws,
                "10.0.0.2",
                Tcp,
                445,
                SF,
                1000 * w as u64,
                50_000,
            ));
        }
    }
    for s in 2..=8 {
        v.push(flow(
            7200 + s,
            "10.0.2.1",
            &format!("10.0.0.{s}"),
            Tcp,
            3389,
            SF,
            20_000,
            900_000,
        ));
    }
    for t in 1..=40 {
        let state = if t % 2 == 0 { S0 } else { REJ };
        v.push(flow(
            9000 + t,
            "10.0.3.1",
            &format!("10.0.1.{t}"),
            Tcp,
            445,
            state,
            0,
            0,
        ));
    }
    v
}

fn build(flows: &[Flow], events: &[LogEvent], dir: HostDirectory) -> Profiles {
    let mut b = ProfileBuilder::new(Arc::new(dir));
    b.add_flows(flows);
    b.add_events(events);
    b.finish()
}

#[test]
fn peers_roles_and_services_from_flows() {
    let p = build(&network(), &[], HostDirectory::new());
    let k = |s: &str| HostKey::from_ip(ip(s));
    assert_eq!(p.role(&k("10.0.0.1")), Role::DomainController);
    assert_eq!(p.role(&k("10.0.0.2")), Role::Server);
    assert_eq!(p.role(&k("10.0.2.1")), Role::AdminHost);
    assert_eq!(p.role(&k("10.0.3.1")), Role::Scanner);
    assert_eq!(p.role(&k("10.0.1.4")), Role::Workstation);
    // Hosts only ever probed by the scanner are unknown.
    assert_eq!(p.role(&k("10.0.1.33")), Role::Unknown);
    assert_eq!(p.role(&k("10.9.9.9")), Role::Unknown);

    let peers: Vec<String> = p
        .peers_out(&k("10.0.1.4"))
        .iter()
        .map(|h| h.to_string())
        .collect();
    assert_eq!(peers, vec!["10.0.0.1", "10.0.0.2"]);
    let mut clients: Vec<String> = p
        .peers_in(&k("10.0.0.2"))
        .iter()
        .map(|h| h.to_string())
        .collect();
    clients.sort();
    // Ten workstations on SMB, and the admin host on RDP.
    let mut want: Vec<String> = (1..=10).map(|w| format!("10.0.1.{w}")).collect();
    want.push("10.0.2.1".into());
    want.sort();
    assert_eq!(clients, want);

    let smb = Service::new(Transport::Tcp, 445, None);
    let e = p.edge(&k("10.0.1.4"), &k("10.0.0.2"), &smb).unwrap();
    assert_eq!(
        (e.flows, e.failed, e.bytes_out, e.bytes_in),
        (3, 0, 12_000, 150_000)
    );
    assert_eq!(e.days_active(), 1);
    assert_eq!(e.first, Timestamp::from_parts(T0 + 6, 0));
    assert_eq!(e.last, Timestamp::from_parts(T0 + 7200 + 6, 0));
    assert!(p.edge(&k("10.0.0.2"), &k("10.0.1.4"), &smb).is_none());

    let served = p.served(&k("10.0.0.2"), &smb).unwrap();
    assert_eq!(
        (served.clients, served.established_clients, served.flows),
        (10, 10, 30)
    );
    assert_eq!(
        p.served_port(&k("10.0.0.1"), Transport::Udp, 88),
        Some((10, 10, 30))
    );
    // The scanner's probes reached 10.0.1.1-10.0.1.10 on 445, but none was answered.
    assert_eq!(
        p.served_port(&k("10.0.1.3"), Transport::Tcp, 445),
        Some((1, 0, 1))
    );
    let roles = p.client_roles(&k("10.0.0.2"), &smb);
    assert_eq!(roles.get(&Role::Workstation), Some(&10));

    let admin = p.admin_peers(&k("10.0.2.1"));
    assert_eq!(admin.len(), 7);
    assert!(
        admin
            .iter()
            .all(|a| a.proto == AdminService::Rdp && a.flows == 1)
    );
    assert_eq!(
        p.hosts_with_role_using(Role::AdminHost, AdminService::Rdp),
        vec![&k("10.0.2.1")]
    );
    // Workstations used SMB (to the file server), the scanner's SMB never connected.
    assert_eq!(
        p.hosts_with_role_using(Role::Workstation, AdminService::Smb)
            .len(),
        10
    );
    assert!(
        p.hosts_with_role_using(Role::Scanner, AdminService::Smb)
            .is_empty()
    );
    let used = p.services_used(&k("10.0.1.4"));
    assert_eq!(used.len(), 3);

    // Workstation 4 sent 4000 bytes per SMB flow, 1500 per Kerberos, 300 per LDAP.
    let ws = p.host(&k("10.0.1.4")).unwrap();
    assert_eq!(ws.flows_out, 9);
    // Quantiles report the top of the value's bucket, as hdrhistogram does: 300 is in 300..=301.
    assert_eq!(ws.bytes_out_per_flow.min(), Some(300));
    assert_eq!(ws.bytes_out_per_flow.quantile(0.0), Some(301));
    assert_eq!(ws.bytes_out_per_flow.quantile(0.5), Some(1503)); // 1500..=1503
    assert_eq!(p.bytes_out_quantile(&k("10.0.1.4"), 1.0), Some(4000 + 15)); // 4000's bucket tops at 4015
    assert_eq!(p.typical_flows_per_hour(&k("10.0.1.4")), Some(3));
    // Three hours, two distinct peers each.
    assert_eq!(ws.peers_per_hour.len(), 3);
    assert_eq!(ws.peers_per_hour.quantile(0.5), Some(2));
    // One day of contact with each of three peers (the scanner probed it: 0 bytes back).
    assert_eq!(ws.bytes_out_per_peer_day.len(), 3);
    assert_eq!(ws.bytes_out_per_peer_day.min(), Some(0));
    assert_eq!(
        ws.hour_of_week
            .cells()
            .map(|(_, c)| u64::from(c))
            .sum::<u64>(),
        10
    );
    assert_eq!(ws.hour_of_week.get(0), 3);
}

#[test]
fn parallel_build_equals_sequential() {
    let flows = network();
    let seq = build(&flows, &[], HostDirectory::new());
    let par = build_parallel(Arc::new(HostDirectory::new()), &flows, &[]);
    assert_eq!(seq, par);
    let mut rev = flows.clone();
    rev.reverse();
    assert_eq!(build(&rev, &[], HostDirectory::new()), seq);
    let bytes = postcard::to_allocvec(&seq).unwrap();
    let back: Profiles = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(back, seq);
}

#[allow(dead_code)]
fn logon_event(
    secs: i64,
    user: &str,
    from_ip: &str,
    ws: &str,
    on: &str,
    ty: u8,
    ok: bool,
) -> LogEvent {
    LogEvent {
        ts: Timestamp::from_parts(T0 + secs, 0),
        code: Some(if ok { 4624 } else { 4625 }),
        dataset: "windows.security".into(),
        action: if ok {
            Action::LoggedIn
        } else {
            Action::LogonFailed
        },
        outcome: Some(if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        }),
        source_ip: Some(ip(from_ip)),
        source_domain: Some(ws.into()),
        host_name: Some(on.into()),
        user_name: Some(user.into()),
        user_domain: Some("SHUGIIN".into()),
        logon_type: Some(ty),
        auth_method: Some("NTLM".into()),
        ..LogEvent::default()
    }
}

#[test]
fn logons_resolve_through_the_directory() {
    let events = vec![
        logon_event(
            10,
            "Tanaka",
            "10.0.1.4",
            "WS-004",
            "FILESRV.shugiin.local",
            3,
            true,
        ),
        logon_event(20, "tanaka", "10.0.1.4", "WS-004", "filesrv", 3, false),
        logon_event(
            30,
            "sato",
            "10.0.2.1",
            "JUMP01",
            "SHUGIIN\\FILESRV$",
            10,
            true,
        ),
    ];
    let mut d = DirectoryBuilder::new();
    for e in &events {
        d.observe(e);
    }
    let dir = d.finish();
    let p = build(&network(), &events, dir);
    let fs = key("filesrv");
    assert!(p.ever_logged_on("TANAKA", &fs));
    let u = p.user_on_host("tanaka", &fs);
    assert_eq!((u.successes, u.failures), (1, 1));
    assert_eq!(u.sources, vec![Some(&key("ws-004"))]);
    assert!(u.methods.contains(Methods::NTLM));
    assert!(u.types.contains(3));
    // The flows from 10.0.1.4 now belong to ws-004.
    assert!(p.host(&HostKey::from_ip(ip("10.0.1.4"))).is_none());
    assert_eq!(p.host_by_ip(ip("10.0.1.4")).unwrap().key, key("ws-004"));
    assert_eq!(p.host(&key("ws-004")).unwrap().flows_out, 9);
    // RDP logon (type 10) is remote administration from jump01.
    let admin = p.admin_peers(&key("jump01"));
    assert!(
        admin
            .iter()
            .any(|a| a.peer == &fs && a.proto == AdminService::Rdp && a.events == 1)
    );
    assert!(!p.ever_logged_on("sato", &key("ws-004")));
    assert_eq!(
        p.user("SATO").unwrap().first,
        Timestamp::from_parts(T0 + 30, 0)
    );
}

/// Parses log text the way `lateral events` does (real parsers on real lines).
fn parse_logs(syslog: &str, winjson: &str) -> Vec<LogEvent> {
    use lateral::source::LineFormat;
    use lateral::source::syslog::{SyslogConfig, SyslogLines};
    use lateral::source::winsec::WindowsJsonl;
    let mut out = Vec::new();
    let sys = SyslogLines(SyslogConfig::year(2025, 0));
    for l in syslog.lines().filter(|l| !l.trim().is_empty()) {
        sys.parse_line(l.as_bytes(), &mut out).unwrap();
    }
    for l in winjson.lines().filter(|l| !l.trim().is_empty()) {
        WindowsJsonl.parse_line(l.as_bytes(), &mut out).unwrap();
    }
    out
}

const AUTH_LOG: &str = "\
Dec  1 09:00:00 srv-chamber sshd[100]: Accepted publickey for alice from 10.0.2.1 port 50000 ssh2: ED25519 SHA256:x
Dec  1 09:00:05 srv-chamber sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls
Dec  1 09:01:00 srv-chamber sshd[101]: Failed password for bob from 10.0.1.4 port 50001 ssh2
Dec  1 09:01:30 srv-chamber sshd[102]: Accepted password for bob from 10.0.1.4 port 50002 ssh2
Dec  1 09:02:00 srv-chamber sudo:    bob : TTY=pts/1 ; PWD=/home/bob ; USER=postgres ; COMMAND=/bin/psql
";

const WINDOWS: &str = r#"
{"@timestamp":"2025-12-01T10:00:00Z","EventID":4624,"Hostname":"FILESRV.shugiin.local","TargetUserName":"Tanaka","TargetDomainName":"SHUGIIN","LogonType":3,"IpAddress":"::ffff:10.0.1.4","IpPort":"50100","WorkstationName":"WS-004","AuthenticationPackageName":"NTLM","LmPackageName":"NTLM V2"}
{"@timestamp":"2025-12-01T10:00:00Z","EventID":4672,"Hostname":"FILESRV.shugiin.local","SubjectUserName":"tanaka","SubjectDomainName":"SHUGIIN"}
{"@timestamp":"2025-12-01T10:05:00Z","EventID":4769,"Hostname":"DC01.shugiin.local","TargetUserName":"sato@SHUGIIN.LOCAL","ServiceName":"FILESRV$","IpAddress":"::ffff:10.0.2.1","Status":"0x0"}
{"@timestamp":"2025-12-01T10:04:00Z","EventID":4768,"Hostname":"DC01.shugiin.local","TargetUserName":"JUMP01$","IpAddress":"::ffff:10.0.2.1","Status":"0x0"}
{"@timestamp":"2025-12-01T10:06:00Z","EventID":5140,"Hostname":"FILESRV.shugiin.local","SubjectUserName":"sato","SubjectDomainName":"SHUGIIN","IpAddress":"10.0.2.1","ShareName":"\\\\*\\ADMIN$"}
{"@timestamp":"2025-12-01T10:07:00Z","EventID":4648,"Hostname":"JUMP01.shugiin.local","SubjectUserName":"sato","TargetUserName":"administrator","TargetServerName":"srv-chamber"}
{"@timestamp":"2025-12-01T10:08:00Z","EventID":4624,"Hostname":"SRV-CHAMBER","TargetUserName":"administrator","TargetDomainName":"SHUGIIN","LogonType":10,"IpAddress":"10.0.2.1","WorkstationName":"JUMP01","AuthenticationPackageName":"Negotiate"}
"#;

#[test]
fn logons_admin_and_privilege_from_parsed_logs() {
    let events = parse_logs(AUTH_LOG, WINDOWS);
    assert_eq!(events.len(), 12);
    let mut d = DirectoryBuilder::new();
    for e in &events {
        d.observe(e);
    }
    let dir = d.finish();
    // 10.0.2.1 is jump01: named by its computer account (4768) and WorkstationName (4624).
    assert_eq!(dir.key_for_ip(ip("10.0.2.1")), key("jump01"));
    assert_eq!(dir.key_for_ip(ip("10.0.1.4")), key("ws-004"));
    let p = build(&[], &events, dir);
    let srv = key("srv-chamber");
    let fs = key("filesrv");
    let jump = key("jump01");

    let alice = p.user_on_host("alice", &srv);
    assert_eq!(
        (alice.successes, alice.failures, alice.privileged),
        (1, 0, 1)
    );
    assert_eq!(alice.sources, vec![Some(&jump)]);
    assert!(alice.methods.contains(Methods::PUBLICKEY));
    let bob = p.user_on_host("bob", &srv);
    assert_eq!((bob.successes, bob.failures, bob.privileged), (1, 1, 0));
    assert_eq!(bob.methods, Methods::PASSWORD);
    assert!(!p.ever_privileged("bob", &srv));

    let tanaka = p.user_on_host("tanaka", &fs);
    assert_eq!((tanaka.successes, tanaka.privileged), (1, 1));
    assert!(tanaka.methods.contains(Methods::NTLM));
    assert_eq!(p.user("tanaka").unwrap().domains, ["shugiin".to_string()]);

    // A Kerberos service ticket for FILESRV$ is sato logging on to filesrv from jump01.
    let sato = p.user_on_host("sato@shugiin.local", &fs);
    // The UPN and the plain name are one account.
    assert_eq!(
        p.user("SHUGIIN\\sato").unwrap().domains,
        ["shugiin", "shugiin.local"]
    );
    assert_eq!(sato.sources, vec![Some(&jump)]);
    assert!(sato.methods.contains(Methods::KERBEROS));
    // 4648 on jump01: explicit credentials for administrator toward srv-chamber.
    let adm = p.user_on_host("administrator", &srv);
    assert_eq!(adm.successes, 2);
    assert!(adm.methods.contains(Methods::EXPLICIT) && adm.methods.contains(Methods::NEGOTIATE));
    assert!(adm.types.contains(10));

    // The DC wrote Kerberos events: a domain controller, though no flow was seen.
    assert_eq!(p.role(&key("dc01")), Role::DomainController);
    assert_eq!(p.host(&key("dc01")).unwrap().kdc_events, 2);

    // Remote admin from logs: SSH (sshd Accepted), SMB (5140), RDP (type 10).
    let admin: Vec<(String, AdminService)> = p
        .admin_peers(&jump)
        .iter()
        .map(|a| (a.peer.to_string(), a.proto))
        .collect();
    assert_eq!(
        admin,
        vec![
            ("filesrv".into(), AdminService::Smb),
            ("srv-chamber".into(), AdminService::Rdp),
            ("srv-chamber".into(), AdminService::Ssh),
        ]
    );
    let into_srv: Vec<String> = p
        .admin_sources(&srv)
        .iter()
        .map(|a| a.peer.to_string())
        .collect();
    // jump01 over RDP and SSH, ws-004 over SSH (bob).
    assert_eq!(into_srv, vec!["jump01", "jump01", "ws-004"]);
    let to_srv: Vec<&str> = p.logons_to(&srv).iter().map(|l| l.user).collect();
    // administrator: 4648 and 4624 from jump01 are one triple; alice: from jump01 and
    // the sudo record (no source); bob: from ws-004.
    assert_eq!(to_srv, vec!["administrator", "alice", "alice", "bob"]);
    let from_ws: Vec<(&str, String)> = p
        .logons_from(&key("ws-004"))
        .iter()
        .map(|l| (l.user, l.dst.to_string()))
        .collect();
    assert_eq!(
        from_ws,
        vec![("bob", "srv-chamber".into()), ("tanaka", "filesrv".into())]
    );
}

/// A host known by name only (its logs never gave its address) folds into
/// the profile of its address: its logons, admin use and counters move
/// there, and the name-only host is gone.
#[test]
fn a_name_only_host_folds_into_its_address() {
    let events = vec![
        logon_event(10, "tanaka", "10.0.1.4", "WS-004", "FILESRV", 3, true),
        logon_event(30, "sato", "10.0.2.1", "JUMP01", "FILESRV", 10, true),
    ];
    let mut d = DirectoryBuilder::new();
    for e in &events {
        d.observe(e);
    }
    let mut p = build(&network(), &events, d.finish());
    let fs = key("filesrv");
    let addr = HostKey::from_ip(ip("10.0.0.2"));
    let before = p.len();
    let flows_in = p.host(&addr).unwrap().flows_in;
    assert!(p.ever_logged_on("tanaka", &fs));
    assert!(!p.ever_logged_on("tanaka", &addr));
    // Unknown hosts and a host folded into itself change nothing.
    p.fold_hosts(&[(key("nowhere"), addr.clone()), (addr.clone(), addr.clone())]);
    assert_eq!(p.len(), before);
    p.fold_hosts(&[(fs.clone(), addr.clone())]);
    assert_eq!(p.len(), before - 1);
    assert!(p.host(&fs).is_none());
    assert!(p.ever_logged_on("tanaka", &addr));
    assert!(p.ever_logged_on("sato", &addr));
    let h = p.host(&addr).unwrap();
    assert_eq!(h.flows_in, flows_in);
    assert!(h.events >= 2, "{}", h.events);
    assert!(
        p.admin_peers(&key("jump01"))
            .iter()
            .any(|a| a.peer == &addr && a.proto == AdminService::Rdp)
    );
}

/// Events spelling one host and one account several ways, repeated: the
/// builder resolves a spelling once and must still widen first and last
/// seen on every record, and gather the account's domains from each
/// spelling that names one.
#[test]
fn repeated_spellings_resolve_to_one_host_and_account() {
    let ev = |secs: i64, host: &str, user: &str, domain: Option<&str>| LogEvent {
        ts: Timestamp::from_parts(T0 + secs, 0),
        action: Action::LoggedIn,
        dataset: "windows.security".into(),
        code: Some(4624),
        outcome: Some(Outcome::Success),
        logon_type: Some(3),
        host_name: Some(host.into()),
        user_name: Some(user.into()),
        user_domain: domain.map(Into::into),
        ..LogEvent::default()
    };
    let events = vec![
        ev(10, "WS-017", "Rota", None),
        ev(20, "ws-017.corp.local", "CORP\\rota", None),
        ev(30, "WS-017", "rota@shugiin", None),
        ev(40, "WS-017$", "Rota", Some("LAB")),
        ev(50, "WS-017", "Rota", None),
        ev(60, "ws-017.corp.local", "rota", Some("LAB")),
    ];
    let mut b = ProfileBuilder::new(Arc::new(HostDirectory::new()));
    b.add_events(&events);
    let p = b.finish();
    assert_eq!(p.hosts().len(), 1);
    let h = p.host(&key("ws-017")).expect("one host for every spelling");
    assert_eq!(h.first_seen, Timestamp::from_parts(T0 + 10, 0));
    assert_eq!(h.last_seen, Timestamp::from_parts(T0 + 60, 0));
    assert_eq!(h.events, 6);
    assert_eq!(p.users().len(), 1);
    let u = p.user_info("rota").expect("one account for every spelling");
    assert_eq!(u.domains, ["corp", "lab", "shugiin"]);
}
