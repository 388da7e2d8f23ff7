//! Tests of the Windows JSON reader and the mapping, on hand-written lines.

use crate::model::Action;
use crate::model::event::{Category, Outcome};

use super::*;

fn one(line: &str) -> LogEvent {
    let mut out = Vec::new();
    WindowsJsonl.parse_line(line.as_bytes(), &mut out).unwrap();
    assert_eq!(out.len(), 1, "{line}");
    out.remove(0)
}

#[test]
fn flat_4624_network_logon() {
    let e = one(
        r#"{"EventID":4624,"Channel":"security","Hostname":"WORKSTATION6.theshire.local","@timestamp":"2020-09-22T18:53:32.340Z","LogonType":"3","TargetUserName":"pgustavo","TargetDomainName":"THESHIRE.LOCAL","IpAddress":"::ffff:172.18.39.5","IpPort":"62782","WorkstationName":"-","LogonProcessName":"Kerberos","AuthenticationPackageName":"Kerberos","LmPackageName":"-","Message":"An account was successfully logged on.\r\n"}"#,
    );
    assert_eq!(e.action, Action::LoggedIn);
    assert_eq!(e.category, Some(Category::Authentication));
    assert_eq!(e.outcome, Some(Outcome::Success));
    assert_eq!(e.user_name.as_deref(), Some("pgustavo"));
    assert_eq!(e.user_domain.as_deref(), Some("THESHIRE.LOCAL"));
    assert_eq!(e.source_ip, Some("172.18.39.5".parse().unwrap()));
    assert_eq!(e.source_port, Some(62782));
    assert_eq!(e.source_domain, None);
    assert_eq!(e.logon_type, Some(3));
    assert_eq!(e.auth_method.as_deref(), Some("Kerberos"));
    assert_eq!(e.host_name.as_deref(), Some("WORKSTATION6.theshire.local"));
    assert_eq!(e.ts.to_rfc3339(), "2020-09-22T18:53:32.340000Z");
}

#[test]
fn winlogbeat_4625_with_status() {
    let e = one(
        r#"{"@timestamp":"2021-05-20T12:49:31.863Z","host":{"name":"fs01"},"winlog":{"event_id":"4625","channel":"Security","computer_name":"fs01.offsec.lan","event_data":{"TargetUserName":"admin","LogonType":8,"IpAddress":"-","Status":"0xc000006d","SubStatus":"0xc0000064","AuthenticationPackageName":"NTLM","LmPackageName":"NTLM V2"}}}"#,
    );
    assert_eq!(e.action, Action::LogonFailed);
    assert_eq!(e.outcome, Some(Outcome::Failure));
    assert_eq!(e.status(), Some("0xc000006d/0xc0000064"));
    assert_eq!(e.source_ip, None);
    assert_eq!(e.logon_type, Some(8));
    assert_eq!(e.auth_method.as_deref(), Some("NTLM (NTLM V2)"));
    assert_eq!(e.host_name.as_deref(), Some("fs01.offsec.lan"));
}

#[test]
fn share_service_kerberos_and_sysmon() {
    let s = one(
        r#"{"EventID":5145,"Channel":"Security","Hostname":"WS6","@timestamp":"2020-09-22T18:53:32Z","SubjectUserName":"pgustavo","SubjectDomainName":"THESHIRE","IpAddress":"172.18.39.5","IpPort":"62782","ShareName":"\\\\*\\C$","RelativeTargetName":"ProgramData\\GruntHTTP.exe"}"#,
    );
    assert_eq!(
        (s.action.as_str(), s.share_name(), s.share_target()),
        (
            "share-object-checked",
            Some("\\\\*\\C$"),
            Some("ProgramData\\GruntHTTP.exe")
        )
    );
    let v = one(
        r#"{"EventID":7045,"Channel":"System","Hostname":"WS6","@timestamp":"2020-08-06T06:27:31.787Z","ServiceName":"OTR","ImagePath":"C:\\Windows\\System32\\GruntHTTP2.exe"}"#,
    );
    assert_eq!(
        (
            v.action.as_str(),
            v.service_name(),
            v.process_executable(),
            v.dataset.as_str()
        ),
        (
            "service-installed",
            Some("OTR"),
            Some("C:\\Windows\\System32\\GruntHTTP2.exe"),
            "windows.system"
        )
    );
    let k = one(
        r#"{"EventID":4771,"Channel":"Security","Computer":"rootdc1","TimeCreated":{"SystemTime":"2021-12-02T14:54:21.232643Z"},"TargetUserName":"bob","IpAddress":"::ffff:10.23.123.11","IpPort":"50000","Status":"0x18"}"#,
    );
    assert_eq!(
        (k.action.as_str(), k.outcome, k.source_ip),
        (
            "kerberos-preauth-failed",
            Some(Outcome::Failure),
            Some("10.23.123.11".parse().unwrap())
        )
    );
    assert_eq!(k.ts.to_rfc3339(), "2021-12-02T14:54:21.232643Z");
    let n = one(
        r#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS5","UtcTime":"2020-09-22 18:53:30.100","User":"THESHIRE\\pgustavo","Image":"C:\\x.exe","SourceIp":"172.18.39.5","SourcePort":"62782","DestinationIp":"172.18.39.6","DestinationPort":"445"}"#,
    );
    assert_eq!(
        (
            n.action.as_str(),
            n.user_name.as_deref(),
            n.user_domain.as_deref(),
            n.destination_port
        ),
        (
            "network-connection",
            Some("pgustavo"),
            Some("THESHIRE"),
            Some(445)
        )
    );
    assert_eq!(n.ts.to_rfc3339(), "2020-09-22T18:53:30.100000Z");
    // Event id 3 outside Sysmon is something else entirely.
    let mut out = Vec::new();
    WindowsJsonl
        .parse_line(
            br#"{"EventID":3,"Channel":"Microsoft-Windows-Kernel"}"#,
            &mut out,
        )
        .unwrap();
    assert!(out.is_empty());
}

fn label<'e>(e: &'e LogEvent, key: &str) -> Option<&'e str> {
    e.label(key)
}

#[test]
fn flat_4778_4779_rdp_session_reconnect_and_disconnect() {
    let r = one(
        r#"{"EventID":4778,"Channel":"Security","Hostname":"fs01.offsec.lan","@timestamp":"2021-05-14T21:01:05.831Z","AccountName":"admmarsid","AccountDomain":"OFFSEC","LogonID":"0x6a423","SessionName":"RDP-Tcp#8","ClientName":"JUMP01","ClientAddress":"::ffff:10.23.23.9"}"#,
    );
    assert_eq!(r.action, Action::RdpSessionReconnected);
    assert_eq!(r.category, Some(Category::Session));
    assert_eq!(r.outcome, Some(Outcome::Success));
    assert_eq!(r.dataset, "windows.security");
    assert_eq!(r.user_name.as_deref(), Some("admmarsid"));
    assert_eq!(r.user_domain.as_deref(), Some("OFFSEC"));
    assert_eq!(r.source_ip, Some("10.23.23.9".parse().unwrap()));
    assert_eq!(r.source_domain.as_deref(), Some("JUMP01"));
    assert_eq!(r.host_name.as_deref(), Some("fs01.offsec.lan"));
    assert_eq!(r.logon_type, Some(10));
    assert_eq!(label(&r, "session_name"), Some("RDP-Tcp#8"));
    assert_eq!(label(&r, "logon_id"), Some("0x6a423"));
    // A console session (fast user switching): no remote source, no type 10.
    let d = one(
        r#"{"EventID":"4779","Channel":"Security","Hostname":"ws1","AccountName":"bob","AccountDomain":"CORP","LogonID":"0x1","SessionName":"Console","ClientName":"Unknown","ClientAddress":"LOCAL"}"#,
    );
    assert_eq!(d.action, Action::RdpSessionDisconnected);
    assert_eq!(d.category, Some(Category::Session));
    assert_eq!((d.source_ip, d.source_domain.as_deref()), (None, None));
    assert_eq!(d.logon_type, None);
    for addr in ["-", "127.0.0.1", "::1", ""] {
        let line = format!(
            r#"{{"EventID":4779,"Channel":"Security","SessionName":"RDP-Tcp#1","ClientAddress":"{addr}"}}"#
        );
        assert_eq!(one(&line).source_ip, None, "{addr}");
    }
}

#[test]
fn winlogbeat_4779_and_4825_rdp_denied() {
    let d = one(
        r#"{"@timestamp":"2021-05-14T21:01:05.370Z","winlog":{"event_id":4779,"channel":"Security","computer_name":"fs01.offsec.lan","event_data":{"AccountName":"admmig","AccountDomain":"OFFSEC","LogonID":"0x13b5e1e","SessionName":"RDP-Tcp#8","ClientName":"JUMP01","ClientAddress":"10.23.23.9"}}}"#,
    );
    assert_eq!(d.action, Action::RdpSessionDisconnected);
    assert_eq!(d.user_name.as_deref(), Some("admmig"));
    assert_eq!(d.source_ip, Some("10.23.23.9".parse().unwrap()));
    assert_eq!(d.source_domain.as_deref(), Some("JUMP01"));
    assert_eq!(d.host_name.as_deref(), Some("fs01.offsec.lan"));
    assert_eq!(d.logon_type, Some(10));
    assert_eq!(d.ts.to_rfc3339(), "2021-05-14T21:01:05.370000Z");
    let n = one(
        r#"{"@timestamp":"2020-07-12T05:27:05.579Z","winlog":{"event_id":"4825","channel":"Security","computer_name":"fs02.offsec.lan","event_data":{"AccountName":"svc6test1","AccountDomain":"OFFSEC","LogonID":"0x3457272","ClientAddress":"::ffff:10.23.23.9"}}}"#,
    );
    assert_eq!(n.action, Action::RdpAccessDenied);
    assert_eq!(n.category, Some(Category::Authentication));
    assert_eq!(n.outcome, Some(Outcome::Failure));
    assert_eq!(n.user_name.as_deref(), Some("svc6test1"));
    assert_eq!(n.user_domain.as_deref(), Some("OFFSEC"));
    assert_eq!(n.source_ip, Some("10.23.23.9".parse().unwrap()));
    assert_eq!(n.host_name.as_deref(), Some("fs02.offsec.lan"));
}

#[test]
fn terminal_services_1149_and_session_manager_21_24_25() {
    const RCM: &str = "Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational";
    const LSM: &str = "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational";
    // Winlogbeat puts UserData/EventXML under winlog.user_data.
    let a = one(&format!(
        r#"{{"@timestamp":"2023-03-01T10:00:00Z","winlog":{{"event_id":1149,"channel":"{RCM}","computer_name":"srv1","user_data":{{"xml_name":"EventXML","Param1":"alice","Param2":"CORP","Param3":"::ffff:192.168.5.20"}}}}}}"#
    ));
    assert_eq!(a.action, Action::RdpAuthenticated);
    assert_eq!(a.category, Some(Category::Authentication));
    assert_eq!(a.outcome, Some(Outcome::Success));
    assert_eq!(a.dataset, "windows.terminalservices");
    assert_eq!(a.user_name.as_deref(), Some("alice"));
    assert_eq!(a.user_domain.as_deref(), Some("CORP"));
    assert_eq!(a.source_ip, Some("192.168.5.20".parse().unwrap()));
    assert_eq!(a.host_name.as_deref(), Some("srv1"));
    assert_eq!(a.logon_type, Some(10));
    // Flat shape: the EventXML fields sit at the top level.
    for (id, action) in [
        (21, Action::RdpSessionLogon),
        (24, Action::RdpSessionDisconnected),
        (25, Action::RdpSessionReconnected),
    ] {
        let e = one(&format!(
            r#"{{"EventID":{id},"Channel":"{LSM}","Hostname":"srv1","@timestamp":"2023-03-01T10:00:01Z","User":"CORP\\alice","SessionID":"3","Address":"192.168.5.20"}}"#
        ));
        assert_eq!(e.action, action);
        assert_eq!(e.category, Some(Category::Session));
        assert_eq!(
            (e.user_name.as_deref(), e.user_domain.as_deref()),
            (Some("alice"), Some("CORP"))
        );
        assert_eq!(e.source_ip, Some("192.168.5.20".parse().unwrap()));
        assert_eq!(e.logon_type, Some(10));
        assert_eq!(label(&e, "session_id"), Some("3"));
    }
    // A console logon: Address LOCAL, no source and no type 10.
    let c = one(&format!(
        r#"{{"EventID":21,"Channel":"{LSM}","User":"CORP\\bob","SessionID":"1","Address":"LOCAL"}}"#
    ));
    assert_eq!((c.source_ip, c.logon_type), (None, None));
    // The same ids in other channels are other events (Sysmon 24 is
    // clipboard capture; 1149 and 21 mean nothing in Security).
    let mut out = Vec::new();
    for line in [
        r#"{"EventID":24,"Channel":"Microsoft-Windows-Sysmon/Operational","User":"CORP\\bob"}"#
            .to_string(),
        r#"{"EventID":21,"Channel":"Security","User":"CORP\\bob","Address":"10.0.0.1"}"#
            .to_string(),
        format!(r#"{{"EventID":1149,"Channel":"{LSM}","Param1":"x"}}"#),
        format!(r#"{{"EventID":4778,"Channel":"{RCM}","AccountName":"x"}}"#),
    ] {
        WindowsJsonl.parse_line(line.as_bytes(), &mut out).unwrap();
    }
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn a_key_given_twice_keeps_its_last_value_and_the_record() {
    // NXLog-style: a header AccountName and the event's own; an
    // escaped key and an unknown nested object on the way.
    let e = one(
        r#"{"EventID":4778,"Hostname":"SRV1","EventTime":"2024-03-04 10:00:00","AccountName":"SYSTEM","AccountName":"alice","AccountDomain":"CORP","Client\u004eame":"WS1","ClientAddress":"10.0.0.5","SessionName":"RDP-Tcp#3","Extra":{"a":[1,2,{"b":null}]}}"#,
    );
    assert_eq!(e.action, Action::RdpSessionReconnected);
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.source_domain.as_deref(), Some("WS1"));
    assert_eq!(e.source_ip, Some("10.0.0.5".parse().unwrap()));
    let e = one(
        r#"{"winlog":{"event_id":4624,"computer_name":"DC1","event_data":{"TargetUserName":"x","TargetUserName":"bob","LogonType":"3"}},"@timestamp":"2024-03-04T10:00:00Z"}"#,
    );
    assert_eq!(e.user_name.as_deref(), Some("bob"));
}

#[test]
fn hostile_lines_are_skipped_not_panicked() {
    let mut out = Vec::new();
    for bad in [
        &b"garbage"[..],
        b"{",
        b"{\"EventID\":[1,2]}",
        b"{\"EventID\":\"abc\"}",
        b"\xff\xfe{}",
        b"{}",
        b"{\"EventID\":4624,\"IpPort\":{\"a\":[1]}}",
    ] {
        let _ = WindowsJsonl.parse_line(bad, &mut out);
    }
    assert_eq!(
        WindowsJsonl.parse_line(b"{}", &mut out),
        Err(Skip("no event id"))
    );
}

#[test]
fn times_and_addresses() {
    assert_eq!(
        Timestamp::parse_rfc3339("2020-09-22 14:53:30")
            .unwrap()
            .to_rfc3339(),
        "2020-09-22T14:53:30.000000Z"
    );
    assert_eq!(
        Timestamp::parse_rfc3339("2024-01-05T10:11:12.5+09:00")
            .unwrap()
            .to_rfc3339(),
        "2024-01-05T01:11:12.500000Z"
    );
    assert_eq!(Timestamp::parse_rfc3339("nonsense"), None);
    assert_eq!(source_addr(Some("::1")), None);
    assert_eq!(source_addr(Some("127.0.0.1")), None);
    assert_eq!(
        source_addr(Some("fe80::1")),
        Some("fe80::1".parse().unwrap())
    );
}
