//! The application analyzers on real packets from the shared corpus: each
//! connection's payload, put in order by the test support in
//! `analyzer_app_streams`, handed to the parsers as the capture dispatch
//! will. Facts checked are those the bytes show (cookies, principals and
//! algorithm names readable in the payload, Wireshark's JA3 where `tshark`
//! is installed). Every test skips without the corpus.

mod analyzer_app_streams;
mod common;

use analyzer_app_streams::{Conn, connections};
use lateral::analyzer::{http, kerberos, ldap, rdp, ssh, tls};
use std::process::Command;

fn corpus_conns(test: &str, file: &str) -> Option<Vec<Conn>> {
    let dir = common::corpus_dir(test)?;
    Some(connections(&dir.join(file)))
}

#[test]
fn winrm_requests_carry_kerberos_tokens() {
    let Some(conns) = corpus_conns(
        "winrm_requests_carry_kerberos_tokens",
        "pcap/lateral/otrf/empire_psremoting_stager_WORKSTATION5_2020-09-20170827.cap",
    ) else {
        return;
    };
    let winrm: Vec<&Conn> = conns.iter().filter(|c| c.resp.1 == 5985).collect();
    assert_eq!(winrm.len(), 3, "WinRM connections WS5 -> WS6");
    for c in winrm {
        let reqs = http::parse_requests(&c.client.stream());
        let resps = http::parse_responses(&c.server.stream(), &http::head_flags(&reqs.messages));
        assert_eq!((reqs.error, resps.error), (None, None));
        assert_eq!(reqs.messages.len(), resps.messages.len());
        let first = &reqs.messages[0];
        assert_eq!(first.method, "POST");
        assert!(first.uri.starts_with("/wsman"));
        assert_eq!(first.user_agent.as_deref(), Some("Microsoft WinRM Client"));
        let auth = first
            .authorization
            .as_ref()
            .expect("first request authenticates");
        assert_eq!(auth.scheme, http::AuthScheme::Kerberos);
        assert_eq!(auth.mechanism(), http::TokenMech::Kerberos);
        // The token is a GSS-API wrapped AP-REQ: an APPLICATION 0 element.
        assert_eq!(auth.token.first(), Some(&0x60));
        assert!(auth.ntlm_message().is_none());
        assert_eq!(
            resps.messages[0].authenticate[0].mechanism(),
            http::TokenMech::Kerberos
        );
        // What follows is Kerberos-sealed SOAP, with bodies stepped over.
        assert!(
            reqs.messages[1..]
                .iter()
                .all(|r| r.authorization.is_none() && r.body_len > 0)
        );
        let pairs = http::pair(reqs.messages, resps.messages);
        assert!(
            pairs
                .iter()
                .all(|t| t.request.is_some() && t.response.is_some())
        );
    }
}

#[test]
fn rdp_negotiation_cookie_and_mid_stream_captures() {
    let Some(conns) = corpus_conns(
        "rdp_negotiation_cookie_and_mid_stream_captures",
        "pcap/format/zeek/rdp/rdp-to-ssl.pcap",
    ) else {
        return;
    };
    let rdp_conns: Vec<&Conn> = conns.iter().filter(|c| c.resp.1 == 3389).collect();
    assert_eq!(rdp_conns.len(), 2);
    for c in rdp_conns {
        let client = c.client.stream();
        let req = rdp::parse_connection_request(&client).unwrap();
        assert_eq!(req.cookie.as_deref(), Some("AWAKECODI"));
        let requested = req.requested.expect("RDP_NEG_REQ");
        assert_eq!(requested.0, rdp::Protocols::SSL | rdp::Protocols::HYBRID);
        let rdp::ConnectionConfirm::Selected(selected) =
            rdp::parse_connection_confirm(&c.server.stream()).unwrap()
        else {
            panic!("not a selection")
        };
        assert_eq!(selected.selected_name(), Some("HYBRID"));
        // Under CredSSP the next client bytes are TLS, so no client core data.
        assert!(rdp::parse_client_core(&client).is_err());
    }
    // The operator's RDP session in this capture began before the capture:
    // its first bytes are TLS records, which must be refused, not misread.
    let Some(conns) = corpus_conns(
        "rdp_mid_stream",
        "pcap/lateral/otrf/schtask_create_2020-12-1907003032.pcapng",
    ) else {
        return;
    };
    let c = conns
        .iter()
        .find(|c| c.resp.1 == 3389)
        .expect("operator RDP");
    assert!(rdp::parse_connection_request(&c.client.stream()).is_err());
    assert!(rdp::parse_connection_confirm(&c.server.stream()).is_err());
}

fn ssh_state(c: &Conn) -> ssh::SshState {
    let mut st = ssh::SshState::default();
    for s in c.client.segment_list() {
        st.client.segment(&s);
    }
    for s in c.server.segment_list() {
        st.server.segment(&s);
    }
    st
}

#[test]
fn ssh_versions_kex_and_guessed_outcomes() {
    let Some(conns) = corpus_conns(
        "ssh_versions_kex_and_guessed_outcomes",
        "pcap/format/zeek/ssh/ssh_kex_dh_group18.pcap",
    ) else {
        return;
    };
    let st = ssh_state(&conns[0]);
    assert_eq!(
        st.client.version.as_ref().unwrap().line,
        "SSH-2.0-OpenSSH_10.3"
    );
    assert_eq!(
        st.server.version.as_ref().unwrap().line,
        "SSH-2.0-OpenSSH_10.2"
    );
    let n = st.negotiated().unwrap();
    assert_eq!(n.kex.as_deref(), Some("diffie-hellman-group18-sha512"));
    assert!(st.client.encrypted && st.server.encrypted);
    // A password-guessing trace: every connection ends after failures only.
    let Some(conns) = corpus_conns("ssh_guessing", "pcap/format/zeek/ssh/sshguess.pcap") else {
        return;
    };
    let ssh_conns: Vec<&Conn> = conns.iter().filter(|c| c.resp.1 == 22).collect();
    assert!(ssh_conns.len() >= 10);
    for c in ssh_conns {
        let st = ssh_state(c);
        assert_eq!(
            st.server.version.as_ref().unwrap().software,
            "OpenSSH_6.7p1 Debian-3"
        );
        assert!(st.negotiated().unwrap().kex.is_some());
        let guess = st.auth();
        assert_eq!(guess.success, Some(false), "{:?}", c.orig);
        assert!(guess.attempts >= 3);
    }
}

#[test]
fn kerberos_over_udp_and_tcp() {
    let Some(conns) = corpus_conns(
        "kerberos_over_udp_and_tcp",
        "pcap/format/zeek/krb/kinit.pcap",
    ) else {
        return;
    };
    let mut exchanges = 0;
    let mut clients = std::collections::BTreeSet::new();
    for c in conns.iter().filter(|c| c.resp.1 == 88) {
        for d in &c.client.datagrams {
            let kerberos::Message::Request(r) = kerberos::parse_message(d).unwrap() else {
                panic!("client sent a non-request")
            };
            // AS requests name the client; TGS requests carry it in the ticket.
            if r.msg_type == Some(kerberos::MsgType::AS_REQ) {
                clients.insert(r.client.as_ref().map(|c| c.joined()).unwrap_or_default());
            } else {
                assert_eq!(r.msg_type, Some(kerberos::MsgType::TGS_REQ));
                assert!(r.service.is_some());
            }
            assert!(r.realm.ends_with("VLADG.NET"));
            assert!(!r.etypes.is_empty());
        }
        for d in &c.server.datagrams {
            match kerberos::parse_message(d).unwrap() {
                kerberos::Message::Reply(rep) => {
                    assert!(!rep.service.parts.is_empty());
                    assert!(rep.ticket_etype.name().is_some());
                    exchanges += 1;
                }
                kerberos::Message::Error(e) => assert!(e.code.name().is_some()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert!(exchanges >= 10, "AS exchanges: {exchanges}");
    assert!(clients.contains("valid_client_principal"), "{clients:?}");
    assert!(
        clients.contains("enterprise_principal@AD.VLADG.NET"),
        "{clients:?}"
    );
    // TCP: every record of every port-88 connection of the LSASS capture parses.
    let Some(conns) = corpus_conns(
        "kerberos_tcp",
        "pcap/lateral/otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng",
    ) else {
        return;
    };
    let mut errors = 0;
    let mut rc4 = 0;
    for c in conns.iter().filter(|c| c.resp.1 == 88) {
        for stream in [c.client.stream(), c.server.stream()] {
            let mut rest: &[u8] = &stream;
            while !rest.is_empty() {
                let (msg, after) = kerberos::parse_tcp_record(rest).unwrap();
                rest = after;
                match kerberos::parse_message(msg).unwrap() {
                    kerberos::Message::Error(e) => {
                        assert_eq!(e.code, kerberos::ErrorCode::PREAUTH_REQUIRED);
                        errors += 1;
                    }
                    kerberos::Message::Request(r) => {
                        rc4 += usize::from(r.etypes.contains(&kerberos::EncType::RC4_HMAC));
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!(errors, 2, "two AS exchanges began with pre-auth required");
    assert!(rc4 > 0, "Windows clients offer RC4 among their etypes");
}

#[test]
fn ldap_binds_searches_and_sealed_traffic() {
    let Some(conns) = corpus_conns(
        "ldap_binds_searches_and_sealed_traffic",
        "pcap/lateral/otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng",
    ) else {
        return;
    };
    let mut sasl = 0;
    let mut root_dse = 0;
    let mut wrapped = 0;
    for c in conns.iter().filter(|c| c.resp.1 == 389 && c.proto == 6) {
        let client = ldap::parse_messages(&c.client.stream());
        let server = ldap::parse_messages(&c.server.stream());
        assert_eq!((client.error, server.error), (None, None), "{:?}", c.orig);
        wrapped += client.wrapped + server.wrapped;
        for m in &client.messages {
            match &m.op {
                ldap::Operation::Bind {
                    method: ldap::BindMethod::Sasl(mech),
                    ..
                } => {
                    assert_eq!(mech, "GSS-SPNEGO");
                    sasl += 1;
                }
                ldap::Operation::Search(s) if s.base.is_empty() && s.scope == 0 => {
                    assert_eq!(s.filter.to_ascii_lowercase(), "(objectclass=*)");
                    assert!(s.high_value.is_empty());
                    root_dse += 1;
                }
                _ => {}
            }
        }
        // Every result the server sent answers a request the client sent.
        let ids: Vec<i64> = client.messages.iter().map(|m| m.id).collect();
        for m in &server.messages {
            assert!(ids.contains(&m.id), "answer to unknown id {}", m.id);
        }
    }
    assert!(sasl >= 3, "SASL binds: {sasl}");
    assert!(root_dse >= 3, "rootDSE searches: {root_dse}");
    assert!(wrapped > 0, "sealed LDAP after the binds is counted");
}

#[test]
fn tls_fingerprints_match_tshark() {
    let Some(dir) = common::corpus_dir("tls_fingerprints_match_tshark") else {
        return;
    };
    let file =
        dir.join("pcap/lateral/otrf-lsass/metasploit_logonpasswords_lsass_memory_dump.pcapng");
    let conns = connections(&file);
    let tls_conns: Vec<&Conn> = conns.iter().filter(|c| c.resp.1 == 8080).collect();
    assert_eq!(tls_conns.len(), 5);
    let mut ours = Vec::new();
    for c in &tls_conns {
        let client = tls::parse_flight(&c.client.stream(), true);
        let server = tls::parse_flight(&c.server.stream(), false);
        let ch = client.client_hello.expect("client hello");
        let sh = server.server_hello.expect("server hello");
        assert!(ch.ja4().starts_with('t'));
        ours.push(format!("{}\t{}\t{}", c.orig.1, ch.ja3(), sh.ja3s()));
    }
    let Ok(out) = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-d",
            "tcp.port==8080,tls",
            "-Y",
            "tls.handshake.type==1 || tls.handshake.type==2",
        ])
        .args([
            "-T",
            "fields",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tls.handshake.ja3",
            "-e",
            "tls.handshake.ja3s",
        ])
        .output()
    else {
        eprintln!("SKIPPED tls_fingerprints_match_tshark: tshark not installed");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut theirs = Vec::new();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    for c in &tls_conns {
        let port = c.orig.1.to_string();
        let ja3 = lines
            .iter()
            .find(|l| l.first() == Some(&port.as_str()))
            .map(|l| l[2])
            .unwrap_or("");
        let ja3s = lines
            .iter()
            .find(|l| l.get(1) == Some(&port.as_str()))
            .map(|l| l[3])
            .unwrap_or("");
        theirs.push(format!("{port}\t{ja3}\t{ja3s}"));
    }
    assert_eq!(ours, theirs);
}
