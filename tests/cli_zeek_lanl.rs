//! Black-box tests of `lateral events` on Zeek logs and LANL CSV files the
//! test writes: sniffed from their bytes, `--format` and `--lanl-epoch`.

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn docs(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

const CONN_LOG: &str = "#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]
1420070460.250000\tCabc\t10.0.0.5\t49152\t10.0.0.9\t445\ttcp\tsmb\t2.500000\t1200\t800\tSF\t-\t-\t0\tShADadFf\t10\t1800\t8\t1300\t-
";

const AUTH_TXT: &str = "\
60,U66@DOM1,U66@DOM1,C1065,C625,Kerberos,Network,LogOn,Success
61,U66@DOM1,U66@DOM1,C1065,C625,NTLM,Network,LogOn,Fail
";

#[test]
fn zeek_conn_and_lanl_auth_in_one_stream() {
    let dir = tempfile::tempdir().unwrap();
    let conn = dir.path().join("conn.log");
    std::fs::write(&conn, CONN_LOG).unwrap();
    let auth = dir.path().join("auth.txt");
    std::fs::write(&auth, AUTH_TXT).unwrap();
    let out = run(&[
        "events",
        "--lanl-epoch",
        "2015-01-01T00:00:00Z",
        conn.to_str().unwrap(),
        auth.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = docs(&out.stdout);
    assert_eq!(d.len(), 3, "one flow between two logons, in time order");
    // conn.log gives a connection record printed like a capture's.
    let flow = &d[1];
    assert_eq!(flow["@timestamp"], "2015-01-01T00:01:00.250000Z");
    assert_eq!(flow["event"]["dataset"], "lateral.flow");
    assert_eq!(flow["zeek"]["conn"]["uid"], "Cabc");
    assert_eq!(flow["zeek"]["conn"]["state"], "SF");
    assert_eq!(flow["destination"]["port"], 445);
    assert_eq!(flow["network"]["packets"], 18);
    assert_eq!(flow["log"]["file"]["line"], 8);
    // auth.txt times count from the epoch given.
    let logon = &d[0];
    assert_eq!(logon["@timestamp"], "2015-01-01T00:01:00.000000Z");
    assert_eq!(logon["event"]["dataset"], "lanl.auth");
    assert_eq!(logon["event"]["action"], "logged-in");
    assert_eq!(logon["source"]["domain"], "C1065");
    assert_eq!(logon["destination"]["domain"], "C625");
    assert_eq!(logon["user"]["name"], "U66");
    assert_eq!(logon["user"]["domain"], "DOM1");
    assert_eq!(d[2]["event"]["outcome"], "failure");
}

#[test]
fn format_flag_and_bad_epoch() {
    let dir = tempfile::tempdir().unwrap();
    // Two lines only a forced format reads as LANL dns.txt.
    let dns = dir.path().join("lookups.csv");
    std::fs::write(&dns, "5,C1,C2\n6,C3,C4\n").unwrap();
    let out = run(&["events", "--format", "lanl-dns", dns.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = docs(&out.stdout);
    assert_eq!(d[0]["dns"]["question"]["name"], "C2");
    assert_eq!(d[1]["@timestamp"], "1970-01-01T00:00:06.000000Z");
    let out = run(&["events", "--lanl-epoch", "yesterday", dns.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // Text that is no known format is refused, not misread as LANL.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "1,2,3\n4,5,6\n").unwrap();
    let out = run(&["events", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
}

/// LANL 2017 `wls_day-NN` lines in the data set's shape.
const WLS: &str = r#"{"UserName":"User624729","EventID":4624,"LogHost":"Comp883934","LogonID":"0x5c7d9a1","DomainName":"Domain001","LogonTypeDescription":"Network","Source":"Comp110781","AuthenticationPackage":"Kerberos","Time":60,"LogonType":3}
{"UserName":"User624729","EventID":4625,"LogHost":"Comp883934","DomainName":"Domain001","Source":"Comp110781","AuthenticationPackage":"NTLM","Status":"0xC000006D","FailureReason":"Unknown user name or bad password.","Time":61,"LogonType":3}
{"EventID":4688,"LogHost":"Comp883934","UserName":"User624729","DomainName":"Domain001","ProcessName":"Proc336322.exe","ProcessID":"0x1f4","ParentProcessName":"Proc1","ParentProcessID":"0x10","Time":62}
{"EventID":5156,"LogHost":"Comp883934","Time":63}
{"EventID":4624,"LogHost":"Comp883934",
"#;

#[test]
fn lanl_2017_host_events_are_recognised_and_mapped() {
    let dir = tempfile::tempdir().unwrap();
    let wls = dir.path().join("wls_day-02");
    std::fs::write(&wls, WLS).unwrap();
    let out = run(&[
        "events",
        "--stats",
        "--lanl-epoch",
        "2017-01-01T00:00:00Z",
        wls.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("lanl-wls"), "{stderr}");
    assert!(stderr.contains("1 skipped: not a JSON object"), "{stderr}");
    let d = docs(&out.stdout);
    assert_eq!(d.len(), 3, "5156 is read but gives no event");
    assert_eq!(d[0]["@timestamp"], "2017-01-01T00:01:00.000000Z");
    assert_eq!(d[0]["event"]["action"], "logged-in");
    assert_eq!(d[0]["event"]["dataset"], "lanl.wls");
    assert_eq!(d[0]["source"]["domain"], "Comp110781");
    assert_eq!(d[0]["host"]["name"], "Comp883934");
    assert_eq!(d[0]["user"]["name"], "User624729");
    assert_eq!(d[0]["winlog"]["logon"]["type"], 3);
    assert_eq!(d[1]["event"]["outcome"], "failure");
    assert_eq!(d[2]["process"]["executable"], "Proc336322.exe");
    assert_eq!(d[2]["log"]["file"]["line"], 3);
}
