//! `lateral events` on Windows event logs in each export shape found in the
//! wild (`testdata/windows/`: Winlogbeat 7, Winlogbeat 8, NXLog, Splunk
//! JSON with and without the XML `_raw`): the real binary, every line
//! mapped, and the fields each event carries.

use std::process::Command;

/// The ECS lines `lateral events FILE` writes, after a clean exit.
fn events(file: &str) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["events", file])
        .output()
        .expect("binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The text at `pointer` (`/a/b`) of `v`, numbers as text.
fn at<'a>(v: &'a serde_json::Value, pointer: &str) -> Option<String> {
    let x: &'a serde_json::Value = v.pointer(pointer)?;
    match x {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// One expected event: its code, its action and (JSON pointer, value) pairs.
type Want<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// Checks that `file` gives exactly the events `want`, in time order.
fn check(file: &str, want: &[Want<'_>]) {
    let got = events(file);
    let codes: Vec<(String, String)> = got
        .iter()
        .map(|e| {
            (
                at(e, "/event/code").unwrap_or_default(),
                at(e, "/event/action").unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = want
        .iter()
        .map(|(c, a, _)| (c.to_string(), a.to_string()))
        .collect();
    assert_eq!(codes, expected, "{file}: events");
    for (e, (code, _, fields)) in got.iter().zip(want) {
        for (pointer, value) in *fields {
            assert_eq!(
                at(e, pointer).as_deref(),
                Some(*value),
                "{file}: event {code}, {pointer}"
            );
        }
    }
}

#[test]
fn winlogbeat_7() {
    check(
        "testdata/windows/winlogbeat7.jsonl",
        &[
            (
                "4624",
                "logged-in",
                &[
                    ("/source/ip", "10.0.0.21"),
                    ("/host/name", "fs01.corp.local"),
                    ("/winlog/logon/type", "3"),
                ],
            ),
            (
                "5145",
                "share-object-checked",
                &[
                    ("/labels/pipe_name", "svcctl"),
                    ("/labels/pipe_purpose", "service control (SCMR)"),
                    ("/winlog/event_data/ShareName", "\\\\*\\IPC$"),
                ],
            ),
            (
                "7045",
                "service-installed",
                &[
                    ("/service/name", "PSEXESVC"),
                    ("/labels/service_account", "LocalSystem"),
                    ("/event/dataset", "windows.system"),
                ],
            ),
            (
                "4698",
                "scheduled-task-created",
                &[
                    ("/labels/task_name", "\\Updater"),
                    (
                        "/process/command_line",
                        "cmd.exe /c C:\\Windows\\Temp\\a.bat > nul",
                    ),
                    ("/labels/task_run_as", "S-1-5-18"),
                ],
            ),
            (
                "4769",
                "kerberos-service-ticket",
                &[
                    ("/labels/ticket_encryption", "RC4-HMAC"),
                    ("/service/name", "svc-sql"),
                ],
            ),
            (
                "4776",
                "ntlm-credential-validation",
                &[
                    ("/event/outcome", "failure"),
                    ("/event/reason", "0xc000006a"),
                    ("/labels/status_reason", "wrong password"),
                ],
            ),
            (
                "4662",
                "directory-replication-requested",
                &[
                    ("/user/name", "alice"),
                    (
                        "/labels/replication_rights",
                        "DS-Replication-Get-Changes DS-Replication-Get-Changes-All",
                    ),
                ],
            ),
            (
                "1",
                "process-created",
                &[
                    (
                        "/labels/parent_process_name",
                        "C:\\Windows\\System32\\cmd.exe",
                    ),
                    ("/labels/hashes", "SHA256=0123456789ABCDEF"),
                    ("/user/name", "alice"),
                ],
            ),
            (
                "3",
                "network-connection",
                &[
                    ("/source/ip", "10.0.0.21"),
                    ("/destination/ip", "10.0.0.30"),
                    ("/destination/port", "445"),
                    ("/labels/direction", "ingress"),
                ],
            ),
            (
                "91",
                "winrm-shell-created",
                &[("/user/name", "alice"), ("/event/dataset", "windows.winrm")],
            ),
        ],
    );
}

#[test]
fn winlogbeat_8() {
    check(
        "testdata/windows/winlogbeat8.jsonl",
        &[
            (
                "4625",
                "logon-failed",
                &[
                    ("/event/reason", "0xc000006d/0xc0000064"),
                    ("/labels/status_reason", "no such user"),
                ],
            ),
            (
                "10",
                "lsass-accessed",
                &[
                    ("/labels/granted_access", "0x1fffff"),
                    ("/process/executable", "C:\\Users\\Public\\proc.exe"),
                    ("/event/dataset", "windows.sysmon"),
                ],
            ),
            ("17", "pipe-created", &[("/labels/pipe_tool", "psexec")]),
            (
                "18",
                "pipe-connected",
                &[("/labels/pipe_tool", "cobalt-strike")],
            ),
            (
                "22",
                "dns-query",
                &[
                    ("/dns/question/name", "fs02.corp.local"),
                    ("/dns/resolved_ip/0", "10.0.0.31"),
                ],
            ),
            (
                "4104",
                "remote-powershell",
                &[
                    ("/destination/domain", "fs02.corp.local"),
                    ("/user/name", "alice"),
                ],
            ),
            (
                "6",
                "winrm-session-created",
                &[
                    ("/destination/domain", "fs02.corp.local"),
                    ("/destination/port", "5985"),
                ],
            ),
            (
                "22",
                "rdp-shell-started",
                &[("/source/ip", "10.0.0.22"), ("/winlog/logon/type", "10")],
            ),
        ],
    );
}

#[test]
fn nxlog() {
    // EventTime is local time without a zone, read as UTC; Sysmon's
    // UtcTime is UTC, so the Sysmon lines sort two hours earlier.
    check(
        "testdata/windows/nxlog.jsonl",
        &[
            (
                "11",
                "file-created",
                &[
                    ("/labels/target_filename", "C:\\Windows\\Temp\\beacon.exe"),
                    ("/labels/written_by_system", "true"),
                ],
            ),
            (
                "13",
                "registry-value-set",
                &[("/labels/registry_kind", "run-key")],
            ),
            (
                "13",
                "registry-value-set",
                &[
                    ("/labels/registry_kind", "service"),
                    ("/service/name", "BTOBTO"),
                ],
            ),
            (
                "4688",
                "process-created",
                &[(
                    "/labels/parent_process_name",
                    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
                )],
            ),
            (
                "4648",
                "explicit-credential-logon",
                &[
                    ("/process/executable", "C:\\Windows\\System32\\runas.exe"),
                    ("/destination/domain", "srv03.corp.local"),
                ],
            ),
            (
                "4771",
                "kerberos-preauth-failed",
                &[(
                    "/labels/status_reason",
                    "pre-authentication failed (wrong password)",
                )],
            ),
            ("169", "winrm-authenticated", &[("/user/name", "alice")]),
            (
                "4103",
                "remote-powershell",
                &[("/destination/domain", "srv03"), ("/user/domain", "CORP")],
            ),
        ],
    );
}

#[test]
fn splunk_json_and_xml_raw() {
    check(
        "testdata/windows/splunk.json",
        &[
            (
                "1149",
                "rdp-authenticated",
                &[("/source/ip", "10.0.0.24"), ("/user/name", "dave")],
            ),
            (
                "4624",
                "logged-in",
                &[
                    ("/@timestamp", "2024-07-04T12:00:00.123456Z"),
                    ("/winlog/logon/type", "10"),
                    ("/source/domain", "WS04"),
                ],
            ),
            (
                "5140",
                "share-accessed",
                &[("/winlog/event_data/RelativeTargetName", "a & b <c> A")],
            ),
            (
                "4768",
                "kerberos-tgt-request",
                &[
                    ("/@timestamp", "2024-07-04T12:00:10.000000Z"),
                    ("/host/name", "dc04.corp.local"),
                    ("/labels/ticket_encryption", "RC4-HMAC"),
                ],
            ),
            ("4624", "logged-in", &[("/source/ip", "10.0.0.25")]),
            // The Splunk Windows TA's classic names.
            (
                "4625",
                "logon-failed",
                &[
                    ("/user/name", "frank"),
                    ("/user/domain", "CORP"),
                    ("/source/ip", "10.0.0.66"),
                    ("/source/port", "40000"),
                    ("/source/domain", "KALI"),
                    ("/winlog/logon/type", "3"),
                    ("/event/reason", "0xC000006D/0xC000006A"),
                    ("/labels/status_reason", "wrong password"),
                ],
            ),
        ],
    );
}
