//! The Windows mappings of issue 18 on real records of the shared corpus:
//! EVTX files of EVTX-to-MITRE-Attack (`logs/evtx/e2m`) and OTRF
//! Security-Datasets JSON (`logs/windows-json/otrf`), through the real
//! binary (`lateral events`). Prints SKIPPED and passes when the corpus
//! is absent.

mod common;

use std::path::Path;
use std::process::Command;

/// The ECS lines `lateral events` writes for `file` (0 or 3 allowed: a
/// file whose every record is unmapped is a partial input).
fn events(file: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["-q", "events"])
        .arg(file)
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn s<'a>(v: &'a serde_json::Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(serde_json::Value::as_str)
}

fn with_action<'a>(all: &'a [serde_json::Value], action: &str) -> Vec<&'a serde_json::Value> {
    all.iter()
        .filter(|e| s(e, "/event/action") == Some(action))
        .collect()
}

#[test]
fn evtx_credential_access_and_powershell() {
    let Some(dir) = common::corpus_dir("evtx_credential_access_and_powershell") else {
        return;
    };
    let e2m = dir.join("logs/evtx/e2m");
    let dump = "TA0006-Credential Access/T1003-Credential dumping";

    // DCSync: 4662 with the replication GUIDs, by a user and by a DC.
    let all = events(
        &e2m.join(dump)
            .join("ID4662-DCsync attack using Mimikatz.evtx"),
    );
    let repl = with_action(&all, "directory-replication-requested");
    assert_eq!(repl.len(), 6);
    let by_admmig: Vec<_> = repl
        .iter()
        .filter(|e| s(e, "/user/name") == Some("admmig"))
        .collect();
    assert_eq!(by_admmig.len(), 3);
    assert!(
        by_admmig.iter().any(|e| {
            s(e, "/labels/replication_rights") == Some("DS-Replication-Get-Changes-All")
        })
    );
    assert!(
        repl.iter()
            .all(|e| s(e, "/host/name") == Some("rootdc1.offsec.lan"))
    );

    // Sysmon 10 on lsass, with the access mask; Sysmon 1 with its parent.
    let all = events(&e2m.join(dump).join("ID10-Mimikatz LSASS process dump.evtx"));
    let lsass = with_action(&all, "lsass-accessed");
    assert_eq!(lsass.len(), 1);
    assert_eq!(
        s(lsass[0], "/process/executable"),
        Some("C:\\TOOLS\\Mimikatzx64\\mimikatz.exe")
    );
    assert_eq!(s(lsass[0], "/labels/granted_access"), Some("0x1010"));
    let mimikatz = all
        .iter()
        .find(|e| s(e, "/process/executable") == Some("C:\\TOOLS\\Mimikatzx64\\mimikatz.exe"))
        .expect("mimikatz started");
    assert_eq!(
        s(mimikatz, "/labels/parent_process_name"),
        Some("C:\\Windows\\System32\\cmd.exe")
    );
    assert!(s(mimikatz, "/labels/hashes").is_some_and(|h| h.contains("SHA256=")));

    // Sysmon 18: the pipes lsassy's WMI execution connects to.
    let all = events(
        &e2m.join(dump)
            .join("ID1-LSASS dump with LSASSY (SYSMON).evtx"),
    );
    let pipes = with_action(&all, "pipe-connected");
    assert_eq!(pipes.len(), 9);
    assert!(
        pipes
            .iter()
            .any(|e| s(e, "/labels/pipe_name") == Some("\\srvsvc"))
    );

    // PowerShell 4104 script blocks, text bounded, with the writer's SID.
    let all = events(&e2m.join(
        "TA0008-Lateral Movement/T1021.003-Distributed Component Object Model (DCOM)/ID4103,4104-DCOMexec native via PowerShell.evtx",
    ));
    let blocks = with_action(&all, "powershell-script-block");
    assert_eq!(blocks.len(), 2);
    assert!(blocks.iter().any(|e| {
        s(e, "/labels/script_block_text").is_some_and(|t| t.contains("MMC20.Application.1"))
    }));
    assert!(blocks.iter().all(|e| {
        s(e, "/event/dataset") == Some("windows.powershell")
            && s(e, "/labels/user_sid").is_some_and(|u| u.starts_with("S-1-5-21-"))
    }));
    let all = events(
        &e2m.join(dump)
            .join("ID800-4103-4104-LSASS dump with LSASSY (PowerShell).evtx"),
    );
    let blocks = with_action(&all, "powershell-script-block");
    assert_eq!(blocks.len(), 43);
    // A block of blanks has no text; the others keep at most 1 KiB.
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|e| s(e, "/labels/script_block_text"))
        .collect();
    assert!(texts.len() > 30, "{} texts", texts.len());
    assert!(texts.iter().all(|t| t.len() <= 1024));
}

#[test]
fn otrf_json_files_drops_tasks_pipes_and_dns() {
    let Some(dir) = common::corpus_dir("otrf_json_files_drops_tasks_pipes_and_dns") else {
        return;
    };
    let otrf = dir.join("logs/windows-json/otrf");

    // Covenant's copy over SMB: the file System writes on the target, the
    // share access that carried it, and Sysmon 3 from the writer's side.
    let all = events(&otrf.join("covenant_copy_smb_CreateRequest_2020-09-22145302.json"));
    let drop = with_action(&all, "file-created")
        .into_iter()
        .find(|e| s(e, "/labels/target_filename") == Some("C:\\ProgramData\\GruntHTTP.exe"))
        .expect("the dropped file");
    assert_eq!(s(drop, "/host/name"), Some("WORKSTATION6.theshire.local"));
    assert_eq!(s(drop, "/labels/written_by_system"), Some("true"));
    // Sysmon 3 on the target (inbound, Initiated false): the peer is the source.
    let inbound = all
        .iter()
        .find(|e| {
            s(e, "/event/action") == Some("network-connection")
                && s(e, "/host/name") == Some("WORKSTATION6.theshire.local")
                && s(e, "/labels/direction") == Some("ingress")
        })
        .expect("an inbound connection");
    assert_eq!(s(inbound, "/source/ip"), Some("172.18.39.5"));
    assert_eq!(s(inbound, "/destination/ip"), Some("172.18.39.6"));
    // And on the source (outbound), the same orientation.
    let outbound = all
        .iter()
        .find(|e| {
            s(e, "/event/action") == Some("network-connection")
                && s(e, "/host/name") == Some("WORKSTATION5.theshire.local")
                && s(e, "/labels/direction") == Some("egress")
        })
        .expect("an outbound connection");
    assert_eq!(s(outbound, "/source/ip"), Some("172.18.39.5"));

    // A scheduled task created remotely: its command from the task XML.
    let all = events(&otrf.join("schtask_create_2020-12-1907003032.json"));
    let tasks = with_action(&all, "scheduled-task-created");
    assert_eq!(tasks.len(), 1);
    assert_eq!(s(tasks[0], "/user/name"), Some("pgustavo"));
    assert_eq!(
        s(tasks[0], "/labels/task_name"),
        Some("\\Microsoft\\Windows\\SoftwareProtectionPlatform\\EventCacheManager")
    );
    assert!(s(tasks[0], "/process/command_line").is_some_and(|c| c.contains("notepad.exe")));
    assert_eq!(with_action(&all, "remote-thread-created").len(), 1);

    // Service install over svcctl: Sysmon 13 on the service key.
    let all =
        events(&otrf.join("covenant_sharpsc_create_dcerpc_smb_svcctl_2020-08-06022635.json.gz"));
    assert!(
        with_action(&all, "registry-value-set")
            .iter()
            .chain(with_action(&all, "registry-key-changed").iter())
            .all(|e| matches!(s(e, "/labels/registry_kind"), Some("service" | "run-key")))
    );
    let dns = with_action(&all, "dns-query");
    assert_eq!(dns.len(), 1);
    assert!(dns[0].pointer("/dns/question/name").is_some());
    assert!(with_action(&all, "lsass-accessed").iter().all(|e| {
        s(e, "/labels/target_image").is_some_and(|t| t.to_ascii_lowercase().ends_with("lsass.exe"))
    }));
}
