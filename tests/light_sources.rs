//! Role priors without a profile per flood source (`profile::light`): the
//! roles view of profiles built without the light sources' records answers
//! every role question as the view of profiles built from every record.

use lateral::detect::profiles_view::ProfilesView;
use lateral::detect::settings::NetworkConfig;
use lateral::detect::{BaselineView, Directory};
use lateral::hosts::HostDirectory;
use lateral::model::event::{ConnState, Flow, Text, Timestamp, Transport};
use lateral::profile::light::LightSources;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

fn flow(i: u64, o: Ipv4Addr, r: Ipv4Addr, port: u16, state: ConnState) -> Flow {
    let established = !matches!(
        state,
        ConnState::S0 | ConnState::REJ | ConnState::RSTOS0 | ConnState::SH
    );
    Flow {
        ts: Timestamp(1_700_000_000_000_000_000 + i as i64 * 1_000_000),
        uid: Text::from(format!("C{i}")),
        orig_h: IpAddr::V4(o),
        orig_p: 1024 + (i % 60_000) as u16,
        resp_h: IpAddr::V4(r),
        resp_p: port,
        proto: Transport::Tcp,
        service: (port == 445).then(|| Text::from("smb")),
        duration: None,
        orig_bytes: established.then_some(100),
        resp_bytes: established.then_some(200),
        conn_state: state,
        missed_bytes: 0,
        history: Text::from(if established { "ShADadFf" } else { "S" }),
        orig_pkts: 1,
        orig_ip_bytes: 40,
        resp_pkts: u64::from(established),
        resp_ip_bytes: 0,
        ip_proto: 6,
        origin: None,
    }
}

/// A small network (workstations using a domain controller and a file
/// server, one reaching the outside), an outside scanner, an outside host
/// that fails and then gets in, and a SYN flood from many outside sources.
fn records() -> Vec<Flow> {
    let mut flows = Vec::new();
    let mut i = 0u64;
    let mut add = |o: Ipv4Addr, r: Ipv4Addr, port: u16, state: ConnState| {
        flows.push(flow(i, o, r, port, state));
        i += 1;
    };
    let dc = Ipv4Addr::new(10, 0, 0, 1);
    let files = Ipv4Addr::new(10, 0, 0, 2);
    let web = Ipv4Addr::new(93, 184, 216, 34);
    for w in 10..20 {
        let ws = Ipv4Addr::new(10, 0, 1, w);
        add(ws, dc, 88, ConnState::SF);
        add(ws, dc, 389, ConnState::SF);
        add(ws, files, 445, ConnState::SF);
        add(ws, web, 443, ConnState::SF);
    }
    let scanner = Ipv4Addr::new(45, 33, 32, 156);
    for h in 0..40 {
        add(scanner, Ipv4Addr::new(10, 0, 1, h), 22, ConnState::REJ);
    }
    let guesser = Ipv4Addr::new(185, 1, 2, 3);
    add(guesser, files, 22, ConnState::S0);
    add(guesser, files, 22, ConnState::SF);
    // Outside sources of failed attempts only: the flood, and one that
    // tries a few hosts.
    for n in 0..3000u32 {
        let src = Ipv4Addr::from(n.wrapping_mul(2_654_435_761) | 0x0100_0000);
        add(src, files, 445, ConnState::S0);
    }
    let few = Ipv4Addr::new(203, 0, 113, 9);
    for h in [1, 2, 3] {
        add(few, Ipv4Addr::new(10, 0, 0, h), 3389, ConnState::S0);
    }
    // An internal host only the flood reaches.
    add(few, Ipv4Addr::new(10, 0, 9, 9), 445, ConnState::S0);
    flows
}

#[test]
fn light_sources_leave_every_role_answer_unchanged() {
    let flows = records();
    let net = NetworkConfig::default();
    let dir = Arc::new(HostDirectory::default());
    let names = Directory::from_hosts(&dir);
    let full = lateral::profile::build_parallel(dir.clone(), &flows, &[]);
    let light = LightSources::find(&flows, &[], &dir, |ip| net.is_internal(ip));
    let skipping =
        lateral::profile::build_parallel_skipping(dir.clone(), &flows, &[], |f| light.skips(f));
    // The flood and the source of a few failed attempts are light; the
    // scanner, the one that got in and every internal host are not.
    assert!(light.len() >= 2990, "{} light sources", light.len());
    assert!(light.is_light(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))));
    for kept in [
        [45, 33, 32, 156],
        [185, 1, 2, 3],
        [10, 0, 1, 10],
        [10, 0, 0, 2],
    ] {
        assert!(
            !light.is_light(IpAddr::V4(Ipv4Addr::from(kept))),
            "{kept:?}"
        );
    }
    assert!(skipping.len() + light.len() <= full.len());
    let a = ProfilesView::new(&full, &dir, &names, None, &net);
    let b = ProfilesView::new(&skipping, &dir, &names, None, &net).with_light(&light);
    assert_eq!(a.host_count(), b.host_count());
    let mut ips: Vec<IpAddr> = flows.iter().flat_map(|f| [f.orig_h, f.resp_h]).collect();
    ips.sort();
    ips.dedup();
    for ip in ips {
        assert_eq!(a.role(ip), b.role(ip), "role of {ip}");
        assert_eq!(
            a.external_clients(ip),
            b.external_clients(ip),
            "clients of {ip}"
        );
        assert_eq!(a.forwarder(ip), b.forwarder(ip), "forwarder {ip}");
        for port in [22, 88, 389, 443, 445, 3389] {
            assert_eq!(
                a.service_clients(ip, port),
                b.service_clients(ip, port),
                "{ip}:{port}"
            );
        }
    }
}
