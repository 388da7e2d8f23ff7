//! Profiles built from real bytes: the demo capture in testdata/ and a
//! Windows host log from the public corpus (skipped without the corpus).
//! The facts checked were read by hand from `lateral flows` and
//! `lateral events` output for the same files.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::hosts::{DirectoryBuilder, HostKey};
use lateral::input;
use lateral::model::{AdminService, Role, Service};
use lateral::profile::{Methods, Profiles, RoleThresholds, build_parallel, profiles_from_run};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

fn profiles_of(paths: &[PathBuf]) -> Profiles {
    let (inputs, errors) = input::expand(paths);
    assert!(errors.is_empty());
    let run = run_events(
        &inputs,
        errors,
        &FlowRunOptions::default(),
        &LogOptions::default(),
        &AtomicU64::new(0),
    );
    assert!(run.is_clean());
    let mut d = DirectoryBuilder::new();
    for e in &run.events {
        d.observe(e);
    }
    let flows = run.flows.to_vec().unwrap();
    let p = build_parallel(Arc::new(d.finish()), &flows, &run.events);
    // The streaming entry point the commands use gives the same profiles.
    let (_, streamed) = profiles_from_run(&run, None, &RoleThresholds::default()).unwrap();
    assert_eq!(streamed, p);
    p
}

fn k(s: &str) -> HostKey {
    HostKey::from_name(s).unwrap()
}

#[test]
fn demo_capture_profiles() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/demo.pcap");
    let p = profiles_of(&[path]);
    // 3 workstations, DC, chamber server (named by a DNS answer), file server, C2, and 10.10.2.99 (an unanswered SSH SYN).
    assert_eq!(p.len(), 8);
    assert_eq!(p.role(&k("10.10.2.5")), Role::DomainController);
    assert_eq!(p.role(&k("srv-chamber")), Role::Server);
    assert_eq!(p.role(&k("10.10.1.12")), Role::Workstation);
    assert_eq!(p.role(&k("10.10.2.99")), Role::Unknown);
    let peers: Vec<String> = p
        .peers_out(&k("10.10.1.11"))
        .iter()
        .map(|h| h.to_string())
        .collect();
    assert_eq!(
        peers,
        ["10.10.2.5", "10.10.2.99", "203.0.113.7", "srv-chamber"]
    );
    let ssl = Service::new(lateral::model::event::Transport::Tcp, 443, Some("ssl"));
    let beacon = p.edge(&k("10.10.1.11"), &k("203.0.113.7"), &ssl).unwrap();
    assert_eq!(
        (beacon.flows, beacon.failed, beacon.days_active()),
        (6, 0, 1)
    );
    assert_eq!(p.served(&k("203.0.113.7"), &ssl).unwrap().clients, 3);
    // 10.10.1.12 used RDP and SMB on the chamber server; 10.10.1.13's WinRM was refused.
    let admin: Vec<(String, AdminService)> = p
        .admin_peers(&k("10.10.1.12"))
        .iter()
        .map(|a| (a.peer.to_string(), a.proto))
        .collect();
    assert_eq!(
        admin,
        [
            ("srv-chamber".to_string(), AdminService::Smb),
            ("srv-chamber".to_string(), AdminService::Rdp)
        ]
    );
    assert!(
        !p.admin_peers(&k("10.10.1.13"))
            .iter()
            .any(|a| a.proto == AdminService::WinRm)
    );
    // The chamber server reached the DC and the file server over SMB.
    let from_chamber: Vec<String> = p
        .admin_peers(&k("srv-chamber"))
        .iter()
        .map(|a| a.peer.to_string())
        .collect();
    assert_eq!(from_chamber, ["10.10.2.30", "10.10.2.5"]);
    assert_eq!(
        p.hosts_with_role_using(Role::Server, AdminService::Smb),
        [&k("srv-chamber")]
    );
    let dc = p.host(&k("10.10.2.5")).unwrap();
    assert_eq!(dc.signals.kerberos_clients, 3);
    assert_eq!(dc.ips, [IpAddr::from([10, 10, 2, 5])]);
}

#[test]
fn corpus_windows_log_profiles() {
    let Some(dir) = common::corpus_dir("corpus_windows_log_profiles") else {
        return;
    };
    let path =
        dir.join("logs/windows-json/otrf/covenant_copy_smb_CreateRequest_2020-09-22145302.json");
    let p = profiles_of(&[path]);
    // INVENTORY.md: WS5 (172.18.39.5) copies GruntHTTP.exe to WORKSTATION6's C$ over SMB
    // as pgustavo at 2020-09-22T18:53:30Z; 4624 type 3 Kerberos, 4672, 5140 C$, 4769 for WORKSTATION6$.
    let ws6 = k("WORKSTATION6.theshire.local");
    assert!(p.ever_logged_on("pgustavo", &ws6));
    assert!(p.ever_privileged("THESHIRE\\pgustavo", &ws6));
    let u = p.user_on_host("pgustavo", &ws6);
    assert!(u.methods.contains(Methods::KERBEROS));
    assert!(u.types.contains(3));
    // No record names 172.18.39.5 outright; the Sysmon events WORKSTATION5 wrote do.
    let src = p.host_by_ip("172.18.39.5".parse().unwrap()).unwrap();
    assert_eq!(src.key, k("workstation5"));
    assert_eq!(
        p.host_by_ip("172.18.39.6".parse().unwrap()).unwrap().key,
        ws6
    );
    assert!(u.sources.contains(&Some(&src.key)));
    assert!(
        p.admin_peers(&src.key)
            .iter()
            .any(|a| a.peer == &ws6 && a.proto == AdminService::Smb)
    );
    // The DC wrote the 4769: a domain controller.
    assert_eq!(p.role(&k("mordordc")), Role::DomainController);
}
