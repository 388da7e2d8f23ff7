//! The capture analyzers on the public lateral-movement captures: for each
//! OTRF and 401TRG capture, the operation of its lateral step and, where
//! the capture shows it, the account, as `lateral events` writes them
//! (INVENTORY.md's ground truth for each).
//!
//! What the captures expose in clear, honestly: the OTRF lab authenticates
//! SMB and most RPC with Kerberos, whose account is inside encrypted
//! tickets, so only the DCOM capture (NTLM in the RPC auth verifiers)
//! names an account (THESHIRE\pgustavo from WORKSTATION5). The PsExec over
//! TCP and the WMI calls are sealed (authentication level packet privacy):
//! their interface and operation are visible, their arguments are not.
//! The WinRM captures carry Kerberos in the HTTP Authorization header and
//! nothing else in clear. The 401TRG captures begin after session setup
//! (or negotiate Kerberos), so their SMB and RPC findings carry no account.

mod common;

use std::process::Command;

/// One event as the test reads it.
#[derive(Debug, Clone)]
struct Ev {
    dataset: String,
    action: String,
    src: String,
    dst: String,
    dport: u64,
    endpoint: String,
    operation: String,
    user: String,
    share: String,
    target: String,
    service: String,
    uid: String,
    auth_level: String,
}

fn s(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// The analyzer events of `lateral events` on one corpus capture.
fn events(dir: &std::path::Path, rel: &str, extra: &[&str]) -> Vec<Ev> {
    let path = dir.join("pcap/lateral").join(rel);
    let mut args = vec!["-q", "events"];
    args.extend_from_slice(extra);
    let p = path.display().to_string();
    args.push(&p);
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(&args)
        .output()
        .expect("binary runs");
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{rel}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|e| {
            let ds = s(&e["event"]["dataset"]);
            ds.starts_with("zeek.") && ds != "zeek.dns"
        })
        .map(|e| Ev {
            dataset: s(&e["event"]["dataset"]),
            action: s(&e["event"]["action"]),
            src: s(&e["source"]["ip"]),
            dst: s(&e["destination"]["ip"]),
            dport: e["destination"]["port"].as_u64().unwrap_or(0),
            endpoint: s(&e["lateral"]["rpc_endpoint"]),
            operation: s(&e["lateral"]["rpc_operation"]),
            user: s(&e["user"]["name"]),
            share: s(&e["winlog"]["event_data"]["ShareName"]),
            target: s(&e["winlog"]["event_data"]["RelativeTargetName"]),
            service: s(&e["service"]["name"]),
            uid: s(&e["labels"]["zeek_uid"]),
            auth_level: s(&e["labels"]["rpc_auth_level"]),
        })
        .collect()
}

/// The uids of the connections `lateral flows` writes for a capture.
fn conn_uids(dir: &std::path::Path, rel: &str) -> Vec<String> {
    let path = dir.join("pcap/lateral").join(rel);
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["-q", "flows", "-f", "jsonl"])
        .arg(&path)
        .output()
        .expect("binary runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|f| s(&f["uid"]))
        .collect()
}

fn call<'a>(ev: &'a [Ev], endpoint: &str, operation: &str) -> Vec<&'a Ev> {
    ev.iter()
        .filter(|e| e.action == "rpc-call" && e.endpoint == endpoint && e.operation == operation)
        .collect()
}

const WS5: &str = "172.18.39.5";
const WS6: &str = "172.18.39.6";

#[test]
fn svcctl_service_creation_over_smb_names_the_service() {
    let Some(dir) = common::corpus_dir("svcctl_service_creation_over_smb_names_the_service") else {
        return;
    };
    let rel = "otrf/covenant_sharpsc_create_dcerpc_smb_svcctl_2020-08-06022635.cap";
    let ev = events(&dir, rel, &[]);
    let create = call(&ev, "svcctl", "CreateServiceA");
    assert_eq!(create.len(), 1, "{ev:#?}");
    let c = create[0];
    assert_eq!((c.src.as_str(), c.dst.as_str(), c.dport), (WS5, WS6, 445));
    assert_eq!(c.service, "Cyb3rWard0g");
    assert!(
        ev.iter()
            .any(|e| e.action == "service-installed" && e.service == "Cyb3rWard0g" && e.dst == WS6)
    );
    assert!(
        ev.iter()
            .any(|e| e.action == "share-accessed" && e.share == "\\\\WORKSTATION6\\IPC$")
    );
    // Every finding is tied to a connection of conn.log.
    let uids = conn_uids(&dir, rel);
    assert!(ev.iter().all(|e| uids.contains(&e.uid)), "{ev:#?}");
    // Turned off, the analyzers find nothing.
    assert!(events(&dir, rel, &["--no-analyzers"]).is_empty());
}

#[test]
fn psexec_over_tcp_is_seen_on_the_port_the_endpoint_mapper_gave() {
    let Some(dir) = common::corpus_dir("psexec_over_tcp") else {
        return;
    };
    for ws in ["WORKSTATION5", "WORKSTATION6"] {
        let rel = format!("otrf/empire_psexec_dcerpc_tcp_svcctl_{ws}_2020-09-20121608.cap");
        let ev = events(&dir, &rel, &[]);
        assert!(!call(&ev, "epmapper", "ept_map").is_empty(), "{rel}");
        for op in ["CreateServiceA", "StartServiceA", "DeleteService"] {
            let c = call(&ev, "svcctl", op);
            assert_eq!(c.len(), 1, "{rel} {op}: {ev:#?}");
            assert_eq!((c[0].src.as_str(), c[0].dst.as_str()), (WS5, WS6));
            // The dynamic port, found by the connection's first bind.
            assert_eq!(c[0].dport, 49726);
            // Sealed: the call is visible, its service name is not.
            assert_eq!(c[0].auth_level, "6");
            assert_eq!(c[0].service, "");
        }
    }
}

#[test]
fn wmi_exec_method_is_seen_under_dcom() {
    let Some(dir) = common::corpus_dir("wmi_exec_method_is_seen_under_dcom") else {
        return;
    };
    for ws in ["WORKSTATION5", "WORKSTATION6"] {
        let rel = format!(
            "otrf/empire_wmi_dcerpc_wmi_IWbemServices_ExecMethod_{ws}_2020-09-21001437.cap"
        );
        let ev = events(&dir, &rel, &[]);
        let exec = call(&ev, "IWbemServices", "ExecMethod");
        assert_eq!(exec.len(), 1, "{rel}: {ev:#?}");
        assert_eq!((exec[0].src.as_str(), exec[0].dst.as_str()), (WS5, WS6));
        assert!(!call(&ev, "IRemoteSCMActivator", "RemoteCreateInstance").is_empty());
        assert!(!call(&ev, "IWbemLevel1Login", "NTLMLogin").is_empty());
    }
}

#[test]
fn msbuild_lateral_step_copies_over_c_share_then_calls_wmi() {
    let Some(dir) = common::corpus_dir("msbuild_lateral_step") else {
        return;
    };
    for ws in ["WORKSTATION5", "WORKSTATION6"] {
        let rel = format!("otrf/empire_msbuild_dcerpc_wmi_smb_{ws}_2020-09-20173857.cap");
        let ev = events(&dir, &rel, &[]);
        assert!(
            ev.iter().any(|e| e.action == "file-written"
                && e.share.ends_with("\\C$")
                && e.target == "Windows\\Tasks\\pshell.xml"
                && e.dst == WS6),
            "{rel}: {ev:#?}"
        );
        assert_eq!(call(&ev, "IWbemServices", "ExecMethod").len(), 3, "{rel}");
    }
}

#[test]
fn file_copy_to_an_admin_share_names_share_and_file() {
    let Some(dir) = common::corpus_dir("file_copy_to_an_admin_share") else {
        return;
    };
    let ev = events(
        &dir,
        "otrf/covenant_copy_smb_CreateRequest_2020-09-22145302.cap",
        &[],
    );
    assert!(ev.iter().any(|e| e.dataset == "zeek.smb_mapping"
        && e.share == "\\\\WORKSTATION6\\C$"
        && (e.src.as_str(), e.dst.as_str()) == (WS5, WS6)));
    assert!(ev.iter().any(|e| e.action == "file-written"
        && e.target == "ProgramData\\GruntHTTP.exe"
        && e.share == "\\\\WORKSTATION6\\C$"));
    for (rel, action) in [
        ("401trg/20171220_smb_mimikatz_copy.pcap", "file-written"),
        (
            "401trg/20171220_smb_mimikatz_copy_to_host.pcap",
            "file-read",
        ),
    ] {
        let ev = events(&dir, rel, &[]);
        assert!(
            ev.iter().any(|e| e.action == action
                && e.share == "\\\\admin-pc\\c$"
                && e.target == "temp\\mimikatz.exe"
                && (e.src.as_str(), e.dst.as_str()) == ("192.168.10.31", "192.168.10.30")),
            "{rel}: {ev:#?}"
        );
    }
}

#[test]
fn task_registration_is_seen_for_at_and_the_task_scheduler() {
    let Some(dir) = common::corpus_dir("task_registration") else {
        return;
    };
    let ev = events(&dir, "otrf/schtask_create_2020-12-1907003032.pcapng", &[]);
    let reg = call(&ev, "ITaskSchedulerService", "SchRpcRegisterTask");
    assert_eq!(reg.len(), 1, "{ev:#?}");
    assert_eq!((reg[0].src.as_str(), reg[0].dst.as_str()), (WS5, WS6));
    assert!(
        ev.iter()
            .any(|e| e.action == "scheduled-task-created" && e.dst == WS6)
    );
    // The 401TRG capture starts mid-connection, after the tree connect:
    // the pipe is known by its name.
    let ev = events(&dir, "401trg/20171220_smb_at_schedule.pcap", &[]);
    let add = call(&ev, "atsvc", "NetrJobAdd");
    assert_eq!(add.len(), 1, "{ev:#?}");
    assert_eq!(
        (add[0].src.as_str(), add[0].dst.as_str()),
        ("192.168.10.31", "192.168.10.30")
    );
}

#[test]
fn net_user_is_samr_calls_to_the_domain_controller() {
    let Some(dir) = common::corpus_dir("net_user_is_samr_calls") else {
        return;
    };
    let ev = events(&dir, "401trg/20171220_smb_net_user.pcap", &[]);
    for op in [
        "SamrConnect5",
        "SamrOpenUser",
        "SamrQueryInformationUser",
        "SamrGetGroupsForUser",
    ] {
        let c = call(&ev, "samr", op);
        assert!(!c.is_empty(), "{op}: {ev:#?}");
        assert!(
            c.iter()
                .all(|e| e.dst == "192.168.10.10" && e.src == "192.168.10.31")
        );
    }
    assert!(!call(&ev, "lsarpc", "LsarLookupNames3").is_empty());
}

#[test]
fn dcom_over_ntlm_names_the_account() {
    let Some(dir) = common::corpus_dir("dcom_over_ntlm_names_the_account") else {
        return;
    };
    let ev = events(
        &dir,
        "otrf/covenant_dcom_registerxll_2020-09-18145959.cap",
        &[],
    );
    let ntlm: Vec<_> = ev.iter().filter(|e| e.dataset == "zeek.ntlm").collect();
    assert_eq!(ntlm.len(), 2, "{ev:#?}");
    assert!(
        ntlm.iter()
            .all(|e| e.user == "pgustavo" && e.src == WS5 && e.dst == WS6)
    );
    let get = call(&ev, "IRemoteSCMActivator", "RemoteGetClassObject");
    assert_eq!(get.len(), 1);
    assert_eq!(get[0].user, "pgustavo");
    assert!(!call(&ev, "IDispatch", "Invoke").is_empty());
}

#[test]
fn winrm_with_kerberos_shows_no_account() {
    let Some(dir) = common::corpus_dir("winrm_with_kerberos_shows_no_account") else {
        return;
    };
    for ws in ["WORKSTATION5", "WORKSTATION6"] {
        let rel = format!("otrf/empire_psremoting_stager_{ws}_2020-09-20170827.cap");
        let ev = events(&dir, &rel, &[]);
        // The WinRM requests carry Kerberos tokens: no NTLM identity, no
        // account on the HTTP connection itself.
        assert!(
            ev.iter()
                .filter(|e| e.dataset != "zeek.kerberos")
                .all(|e| e.dataset != "zeek.ntlm" && e.user.is_empty()),
            "{rel}: {ev:#?}"
        );
        // The account shows in the client's ticket request for the WinRM
        // service, where the capture holds it (WORKSTATION5's side).
        let tickets: Vec<&Ev> = ev.iter().filter(|e| e.dataset == "zeek.kerberos").collect();
        if ws == "WORKSTATION5" {
            assert!(
                tickets.iter().any(|e| e.user == "pgustavo"
                    && e.service == "HTTP/WORKSTATION6.theshire.local"
                    && e.action == "kerberos-service-ticket"
                    && e.src == WS5),
                "{rel}: {tickets:#?}"
            );
        } else {
            assert!(tickets.is_empty(), "{rel}: {tickets:#?}");
        }
    }
}

#[test]
fn flows_zeek_dir_writes_the_analyzer_logs_beside_conn_log() {
    let Some(dir) = common::corpus_dir("flows_zeek_dir_writes_the_analyzer_logs") else {
        return;
    };
    let out_dir = std::env::temp_dir().join(format!("lateral-zeek-dir-{}", std::process::id()));
    let cap = dir
        .join("pcap/lateral/otrf/covenant_sharpsc_create_dcerpc_smb_svcctl_2020-08-06022635.cap");
    let st = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["-q", "flows", "--zeek-dir"])
        .arg(&out_dir)
        .arg(&cap)
        .status()
        .expect("binary runs");
    assert!(matches!(st.code(), Some(0 | 3)));
    let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).expect(name);
    let conn = read("conn.log");
    let rpc = read("dce_rpc.log");
    let mapping = read("smb_mapping.log");
    let _ = std::fs::remove_dir_all(&out_dir);
    assert!(rpc.contains(
        "\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\trtt\tnamed_pipe\tendpoint\toperation\n"
    ));
    let create = rpc
        .lines()
        // named_pipe: the bind ack's secondary address, as Zeek logs it.
        .find(|l| l.ends_with("\t\\\\pipe\\\\ntsvcs\tsvcctl\tCreateServiceA"))
        .expect("the CreateServiceA row");
    let uid = create.split('\t').nth(1).expect("uid column");
    assert!(conn.contains(&format!("\t{uid}\t172.18.39.5\t54736\t172.18.39.6\t445\t")));
    assert!(
        mapping.contains("\t\\\\\\\\WORKSTATION6\\\\IPC$\t-\t-\tPIPE\n"),
        "{mapping}"
    );
}
