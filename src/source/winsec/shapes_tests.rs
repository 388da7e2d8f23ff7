//! Tests of the export shapes (Winlogbeat 7 and 8, NXLog, Splunk JSON and
//! its XML `_raw`), of the newly mapped events, and of hostile lines.

use super::*;
use crate::model::Action;
use crate::model::event::{Category, Outcome};

fn all(line: &str) -> Vec<LogEvent> {
    let mut out = Vec::new();
    WindowsJsonl
        .parse_line(line.as_bytes(), &mut out)
        .unwrap_or_else(|e| panic!("{e:?}: {line}"));
    out
}

fn one(line: &str) -> LogEvent {
    let mut v = all(line);
    assert_eq!(v.len(), 1, "{line}");
    v.remove(0)
}

fn none(line: &str) {
    assert!(all(line).is_empty(), "{line}");
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

/// A flat line of `channel` and `id` with the fields `rest` (JSON members).
fn flat(channel: &str, id: u32, rest: &str) -> String {
    format!(
        r#"{{"EventID":{id},"Channel":"{channel}","Hostname":"h1","@timestamp":"2024-01-02T03:04:05Z",{rest}}}"#
    )
}

#[test]
fn winlogbeat_8_event_code_and_provider_stand_in_for_id_and_channel() {
    // No winlog.event_id and no channel: event.code and provider_name.
    let e = one(
        r#"{"@timestamp":"2024-05-02T08:00:01.000Z","event":{"code":"10","provider":"Microsoft-Windows-Sysmon"},"winlog":{"computer_name":"fs02","provider_name":"Microsoft-Windows-Sysmon","event_data":{"SourceImage":"C:\\p.exe","TargetImage":"C:\\Windows\\system32\\lsass.exe","GrantedAccess":"0x1010"}}}"#,
    );
    assert_eq!(e.action, Action::LsassAccessed);
    assert_eq!(e.dataset, "windows.sysmon");
    assert_eq!(e.host_name.as_deref(), Some("fs02"));
    assert_eq!(e.label("granted_access"), Some("0x1010"));
    // Winlogbeat 7: numbers; winlog.user names the header user.
    let e = one(
        r#"{"@timestamp":"2023-03-01T10:00:09Z","event":{"code":91},"winlog":{"channel":"Microsoft-Windows-WinRM/Operational","computer_name":"fs01","event_id":91,"user":{"identifier":"S-1-5-21-9","name":"alice","domain":"CORP"},"event_data":{"resourceUri":"http://schemas.microsoft.com/powershell/Microsoft.PowerShell"}}}"#,
    );
    assert_eq!(e.action, Action::WinrmShellCreated);
    assert_eq!(
        (e.user_name.as_deref(), e.user_domain.as_deref()),
        (Some("alice"), Some("CORP"))
    );
    assert_eq!(e.label("user_sid"), Some("S-1-5-21-9"));
    // An odd `event` or `winlog.user` member loses nothing.
    let e = one(
        r#"{"event":"x","@timestamp":"2023-03-01T10:00:09Z","winlog":{"event_id":"4624","channel":"Security","user":[1],"event_data":{"TargetUserName":"bob","LogonType":"3"}}}"#,
    );
    assert_eq!(e.user_name.as_deref(), Some("bob"));
}

#[test]
fn nxlog_local_event_time_and_source_name() {
    // No @timestamp: EventTime (no zone) is read as UTC; SourceName stands
    // in for a missing Channel.
    let e = one(
        r#"{"EventTime":"2024-06-03 09:15:04","Hostname":"srv03","EventID":169,"SourceName":"Microsoft-Windows-WinRM","AccountName":"NETWORK SERVICE","Domain":"NT AUTHORITY","UserID":"S-1-5-20","username":"CORP\\alice","authenticationMechanism":"Kerberos"}"#,
    );
    assert_eq!(e.action, Action::WinrmAuthenticated);
    assert_eq!(e.category, Some(Category::Authentication));
    assert_eq!(e.ts.to_rfc3339(), "2024-06-03T09:15:04.000000Z");
    assert_eq!(
        (e.user_name.as_deref(), e.user_domain.as_deref()),
        (Some("alice"), Some("CORP"))
    );
    assert_eq!(e.auth_method.as_deref(), Some("Kerberos"));
    // A zone in EventTime is honoured.
    let e = one(
        r#"{"EventTime":"2024-06-03T09:15:04+02:00","Hostname":"srv03","EventID":4672,"Channel":"Security","SubjectUserName":"adm","PrivilegeList":"SeDebugPrivilege\r\n\t\t\tSeBackupPrivilege"}"#,
    );
    assert_eq!(e.ts.to_rfc3339(), "2024-06-03T07:15:04.000000Z");
    assert_eq!(
        e.label("privileges"),
        Some("SeDebugPrivilege SeBackupPrivilege")
    );
}

#[test]
fn splunk_result_objects_with_and_without_xml() {
    let e = one(
        r#"{"preview":false,"offset":3,"result":{"_time":"2024-07-04T14:00:10.000+02:00","host":"dc04","EventCode":"4768","LogName":"Security","ComputerName":"dc04.corp.local","TargetUserName":"erin","TicketEncryptionType":"0x17","IpAddress":"::ffff:10.0.0.25","Status":"0x6","_raw":"07/04/2024 12:00:10 PM\nLogName=Security"}}"#,
    );
    assert_eq!(e.action, Action::KerberosTgtRequest);
    assert_eq!(e.outcome, Some(Outcome::Failure));
    assert_eq!(e.host_name.as_deref(), Some("dc04.corp.local"));
    assert_eq!(e.ts.to_rfc3339(), "2024-07-04T12:00:10.000000Z");
    assert_eq!(e.source_ip, Some("10.0.0.25".parse().unwrap()));
    assert_eq!(e.label("ticket_encryption"), Some("RC4-HMAC"));
    assert_eq!(e.label("status_reason"), Some("unknown principal"));
    // XmlWinEventLog: everything comes from `_raw`, attributes in either
    // quote, entities decoded, UserData leaves by name, comments skipped.
    let raw = "<Event xmlns='x'><System><Provider Name='Microsoft-Windows-TerminalServices-LocalSessionManager'/><EventID>25</EventID><TimeCreated SystemTime='2024-07-04T12:00:00.5Z'/><Computer>srv04</Computer><Security UserID=\\\"S-1-5-18\\\"/></System><UserData><EventXML xmlns='Event_NS'><!-- c --><User>CORP\\\\dave</User><SessionID>3</SessionID><Address>10.0.0.24</Address></EventXML></UserData></Event>";
    let e = one(&format!(
        r#"{{"result":{{"_time":"2024-07-04T12:00:00.000+00:00","_raw":"{raw}"}}}}"#
    ));
    assert_eq!(e.action, Action::RdpSessionReconnected);
    assert_eq!(e.dataset, "windows.terminalservices", "provider as channel");
    assert_eq!(e.user_name.as_deref(), Some("dave"));
    assert_eq!(e.source_ip, Some("10.0.0.24".parse().unwrap()));
    assert_eq!(e.label("session_id"), Some("3"));
    assert_eq!(e.ts.to_rfc3339(), "2024-07-04T12:00:00.500000Z");
    // No TimeCreated: _time.
    let e = one(
        r#"{"result":{"_time":"2024-07-04T12:00:09Z","_raw":"<Event><System><EventID>5145</EventID><Channel>Security</Channel></System><EventData><Data Name='ShareName'>\\\\*\\IPC$</Data><Data Name='RelativeTargetName'>atsvc</Data><Data Name='X'/></EventData></Event>"}}"#,
    );
    assert_eq!(e.ts.to_rfc3339(), "2024-07-04T12:00:09.000000Z");
    assert_eq!(e.label("pipe_name"), Some("atsvc"));
    assert_eq!(e.label("pipe_purpose"), Some("task scheduler (ATSVC)"));
    // XML without an event id falls back to the result's own fields.
    let e = one(
        r#"{"result":{"EventCode":"4634","LogName":"Security","TargetUserName":"z","_raw":"<Event><System></System></Event>"}}"#,
    );
    assert_eq!(e.action, Action::LoggedOut);
}

#[test]
fn splunk_windows_ta_names() {
    // A share access: Account_Name is the subject's.
    let e = one(
        r#"{"result":{"EventCode":"5145","LogName":"Security","ComputerName":"fs1","Account_Name":"alice","Account_Domain":"CORP","Source_Address":"10.0.0.5","Source_Port":"445","Share_Name":"\\\\*\\IPC$","Relative_Target_Name":"svcctl"}}"#,
    );
    assert_eq!(e.action, Action::ShareObjectChecked);
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.source_ip, Some("10.0.0.5".parse().unwrap()));
    assert_eq!(e.share_target(), Some("svcctl"));
    assert_eq!(e.label("pipe_name"), Some("svcctl"));
    // A logon: subject first, target last.
    let e = one(
        r#"{"result":{"EventCode":"4624","LogName":"Security","Account_Name":["SRV$","bob"],"Account_Domain":["CORP","CORP"],"Logon_Type":"10","Source_Network_Address":"10.0.0.7"}}"#,
    );
    assert_eq!(e.user_name.as_deref(), Some("bob"));
    assert_eq!(e.subject_user(), Some("SRV$"));
    assert_eq!(e.logon_type, Some(10));
    // NTLM validation and a service install.
    let e = one(
        r#"{"result":{"EventCode":"4776","LogName":"Security","Logon_Account":"carol","Source_Workstation":"WS3","Error_Code":"0xC0000064"}}"#,
    );
    assert_eq!(e.user_name.as_deref(), Some("carol"));
    assert_eq!(e.source_domain.as_deref(), Some("WS3"));
    assert_eq!(e.outcome, Some(Outcome::Failure));
    let e = one(
        r#"{"result":{"EventCode":"7045","LogName":"System","Service_Name":"x","Service_File_Name":"C:\\x.exe","Service_Account":"LocalSystem"}}"#,
    );
    assert_eq!(e.service_name(), Some("x"));
    assert_eq!(e.process_executable(), Some("C:\\x.exe"));
    // Windows names win over the TA's; odd multivalues lose nothing else.
    let e = one(
        r#"{"result":{"EventCode":"4624","LogName":"Security","TargetUserName":"dan","Account_Name":[1,{"a":2},"eve"],"Account_Domain":{"x":1},"Logon_Type":"3"}}"#,
    );
    assert_eq!(e.user_name.as_deref(), Some("dan"));
    // Outside Splunk results the TA's names are not read.
    let e = one(r#"{"EventID":4624,"Channel":"Security","Account_Name":"zed","Logon_Type":"3"}"#);
    assert_eq!((e.user_name, e.logon_type), (None, None));
}

#[test]
fn entities_and_xml_leaves() {
    assert_eq!(
        xml::decode_entities("a &amp; b &lt;c&gt; &#65;&#x42; &bogus; &"),
        "a & b <c> AB &bogus; &"
    );
    assert_eq!(xml::decode_entities("&#xFFFFFFFF;&#;"), "&#xFFFFFFFF;&#;");
    for bad in [
        "<Event><System><EventID>4624",
        "<Event <<<>>> </Event>",
        "<Event><System><EventID>x</EventID></System></Event>",
        "<!-- never closed",
        "<?xml never closed",
        "<Event><Data Name='unterminated>v</Data></Event>",
        "",
    ] {
        assert!(xml::read_event(bad, None).is_none(), "{bad}");
    }
}

#[test]
fn security_events_added_and_completed() {
    // 4698: the command from the task XML, the account it runs as.
    let e = one(&flat(
        "Security",
        4698,
        r#""SubjectUserName":"alice","TaskName":"\\T1","TaskContent":"<Task><Principals><Principal><UserId>S-1-5-18</UserId></Principal></Principals><Actions><Exec><Command>C:\\x.exe</Command><Arguments>-a &amp; -b</Arguments></Exec></Actions></Task>""#,
    ));
    assert_eq!(e.action, Action::ScheduledTaskCreated);
    assert_eq!(e.process_executable(), Some("C:\\x.exe"));
    assert_eq!(e.process_command_line(), Some("C:\\x.exe -a & -b"));
    assert_eq!(e.label("task_name"), Some("\\T1"));
    assert_eq!(e.label("task_run_as"), Some("S-1-5-18"));
    // 4702, with the task XML escaped once more and no Arguments.
    let e = one(&flat(
        "Security",
        4702,
        r#""TaskName":"\\T2","TaskNewContent":"&lt;Task&gt;&lt;Exec&gt;&lt;Command&gt;C:\\y.exe&lt;/Command&gt;&lt;/Exec&gt;&lt;/Task&gt;""#,
    ));
    assert_eq!(e.action, Action::ScheduledTaskUpdated);
    assert_eq!(e.process_command_line(), Some("C:\\y.exe"));
    // 4662: only the replication rights.
    let e = one(&flat(
        "Security",
        4662,
        r#""SubjectUserName":"bob","Properties":"%%7688 {89E95B76-444D-4C62-991A-0FACBEDA640C}""#,
    ));
    assert_eq!(e.action, Action::DirectoryReplicationRequested);
    assert_eq!(
        e.label("replication_rights"),
        Some("DS-Replication-Get-Changes-In-Filtered-Set")
    );
    none(&flat(
        "Security",
        4662,
        r#""Properties":"%%1537 {bf967a86-0de6-11d0-a285-00aa003049e2}""#,
    ));
    // 4776 failure with its reason; 0x0 is success.
    let e = one(&flat(
        "Security",
        4776,
        r#""TargetUserName":"nobody","Workstation":"WS9","Status":"0xC0000064""#,
    ));
    assert_eq!(e.outcome, Some(Outcome::Failure));
    assert_eq!(e.status(), Some("0xC0000064"));
    assert_eq!(e.label("status_reason"), Some("no such user"));
    let e = one(&flat(
        "Security",
        4776,
        r#""TargetUserName":"x","Status":"0x0""#,
    ));
    assert_eq!(e.outcome, Some(Outcome::Success));
    assert_eq!(e.label("status_reason"), None);
    // 4771's FailureCode when Status is absent.
    let e = one(&flat(
        "Security",
        4771,
        r#""TargetUserName":"x","FailureCode":"0x18""#,
    ));
    assert_eq!(e.status(), Some("0x18"));
    // 4688: parent and ids; 4648: the process.
    let e = one(&flat(
        "Security",
        4688,
        r#""NewProcessName":"C:\\a.exe","NewProcessId":"0x10","ProcessId":"0x4","ParentProcessName":"C:\\Windows\\System32\\wbem\\WmiPrvSE.exe","CommandLine":"a -x","SubjectUserName":"s""#,
    ));
    assert_eq!(
        e.label("parent_process_name"),
        Some("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe")
    );
    assert_eq!(
        (e.label("process_id"), e.label("parent_process_id")),
        (Some("0x10"), Some("0x4"))
    );
    let e = one(&flat(
        "Security",
        4648,
        r#""SubjectUserName":"a","TargetUserName":"b","TargetServerName":"srv","ProcessName":"C:\\r.exe","IpAddress":"10.1.1.1""#,
    ));
    assert_eq!(e.process_executable(), Some("C:\\r.exe"));
    assert_eq!(e.destination_domain.as_deref(), Some("srv"));
    assert_eq!(e.source_ip, Some("10.1.1.1".parse().unwrap()));
    // 4697's account.
    let e = one(&flat(
        "Security",
        4697,
        r#""ServiceName":"s","ServiceFileName":"C:\\s.exe","ServiceAccount":"LocalSystem","ServiceStartType":"3""#,
    ));
    assert_eq!(e.label("service_account"), Some("LocalSystem"));
    assert_eq!(e.label("service_start_type"), Some("3"));
}

#[test]
fn sysmon_events_added_and_completed() {
    let e = one(&flat(
        SYSMON,
        1,
        r#""Image":"C:\\b.exe","CommandLine":"b","User":"D\\u","ParentImage":"C:\\p.exe","ParentCommandLine":"p -q","Hashes":"MD5=00","ProcessId":"8","ParentProcessId":"7""#,
    ));
    assert_eq!(e.label("parent_process_name"), Some("C:\\p.exe"));
    assert_eq!(e.label("parent_command_line"), Some("p -q"));
    assert_eq!(e.label("hashes"), Some("MD5=00"));
    // Sysmon 3: Source is the initiator whichever way; direction says which.
    for (initiated, dir) in [("true", "egress"), ("false", "ingress")] {
        let e = one(&flat(
            SYSMON,
            3,
            &format!(
                r#""Initiated":"{initiated}","SourceIp":"10.0.0.1","SourcePort":"5000","DestinationIp":"10.0.0.2","DestinationPort":"445""#
            ),
        ));
        assert_eq!(e.source_ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(e.destination_ip, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(e.destination_port, Some(445));
        assert_eq!(e.label("direction"), Some(dir));
    }
    let e = one(&flat(
        SYSMON,
        7,
        r#""Image":"C:\\Windows\\System32\\lsass.exe","ImageLoaded":"C:\\mimilib.dll","Signed":"false""#,
    ));
    assert_eq!(e.action, Action::ImageLoaded);
    assert_eq!(e.label("image_loaded"), Some("C:\\mimilib.dll"));
    none(&flat(
        SYSMON,
        7,
        r#""Image":"C:\\x.exe","ImageLoaded":"C:\\y.dll""#,
    ));
    let e = one(&flat(
        SYSMON,
        8,
        r#""SourceImage":"C:\\i.exe","TargetImage":"C:\\t.exe","StartFunction":"f""#,
    ));
    assert_eq!(e.action, Action::RemoteThreadCreated);
    assert_eq!(e.label("target_image"), Some("C:\\t.exe"));
    none(&flat(
        SYSMON,
        10,
        r#""TargetImage":"C:\\Windows\\notepad.exe""#,
    ));
    let e = one(&flat(
        SYSMON,
        11,
        r#""Image":"System","ProcessId":"4","TargetFilename":"C:\\Windows\\x.exe""#,
    ));
    assert_eq!(e.action, Action::FileCreated);
    assert_eq!(e.category, None);
    assert_eq!(e.label("written_by_system"), Some("true"));
    let e = one(&flat(
        SYSMON,
        11,
        r#""Image":"C:\\a.exe","ProcessId":"400","TargetFilename":"C:\\b""#,
    ));
    assert_eq!(e.label("written_by_system"), None);
    let e = one(&flat(
        SYSMON,
        12,
        r#""EventType":"CreateKey","Image":"C:\\Windows\\system32\\services.exe","TargetObject":"HKLM\\System\\ControlSet001\\Services\\evil""#,
    ));
    assert_eq!(e.action, Action::RegistryKeyChanged);
    assert_eq!(e.service_name(), Some("evil"));
    assert_eq!(e.label("registry_kind"), Some("service"));
    let e = one(&flat(
        SYSMON,
        13,
        r#""TargetObject":"HKU\\S-1\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce\\x","Details":"C:\\x.exe""#,
    ));
    assert_eq!(e.label("registry_kind"), Some("run-key"));
    none(&flat(
        SYSMON,
        13,
        r#""TargetObject":"HKLM\\Software\\Other\\x""#,
    ));
    for (pipe, tool) in [
        ("\\PSEXESVC-WS1-1234-stdin", Some("psexec")),
        ("\\RemCom_communicaton", Some("remcom")),
        ("\\MSSE-4242-server", Some("cobalt-strike")),
        ("\\postex_ssh_1a2b", Some("cobalt-strike")),
        ("\\status_77", Some("cobalt-strike")),
        ("\\msagent_12", Some("cobalt-strike")),
        ("\\lsass", None),
        ("&lt;Anonymous Pipe&gt;", None),
    ] {
        let e = one(&flat(
            SYSMON,
            18,
            &format!(r#""PipeName":"{}""#, pipe.replace('\\', "\\\\")),
        ));
        assert_eq!(e.action, Action::PipeConnected);
        assert_eq!(e.label("pipe_tool"), tool, "{pipe}");
    }
    let e = one(&flat(SYSMON, 17, r#""PipeName":"&lt;Anonymous Pipe&gt;""#));
    assert_eq!(e.label("pipe_name"), Some("<Anonymous Pipe>"));
    let e = one(&flat(
        SYSMON,
        22,
        r#""QueryName":"fs1","QueryStatus":"0","QueryResults":"type:  5 a.corp;::ffff:10.0.0.5;fe80::1;junk;""#,
    ));
    assert_eq!(e.action, Action::DnsQuery);
    assert_eq!(e.dns_question(), Some("fs1"));
    let answers: Vec<&str> = e.dns_answers().collect();
    assert_eq!(answers, ["a.corp", "10.0.0.5", "fe80::1"]);
    let e = one(&flat(
        SYSMON,
        22,
        r#""QueryName":"nx","QueryStatus":"9003""#,
    ));
    assert_eq!(e.outcome, Some(Outcome::Failure));
    assert_eq!(e.status(), Some("9003"));
}

#[test]
fn winrm_and_powershell_remoting() {
    const WINRM: &str = "Microsoft-Windows-WinRM/Operational";
    const PS: &str = "Microsoft-Windows-PowerShell/Operational";
    for (conn, host, port) in [
        ("http://fs02:5985/wsman", Some("fs02"), Some(5985)),
        ("WS6/wsman?PSVersion=5.1", Some("WS6"), None),
        ("https://[fe80::2]:5986/wsman", None, Some(5986)),
        ("http://10.0.0.9:5985/wsman", None, Some(5985)),
    ] {
        let e = one(&flat(WINRM, 6, &format!(r#""connection":"{conn}""#)));
        assert_eq!(e.action, Action::WinrmSessionCreated);
        assert_eq!(e.destination_domain.as_deref(), host, "{conn}");
        assert_eq!(e.destination_port, port, "{conn}");
    }
    let e = one(&flat(
        WINRM,
        6,
        r#""connection":"http://10.0.0.9:5985/wsman""#,
    ));
    assert_eq!(e.destination_ip, Some("10.0.0.9".parse().unwrap()));
    // Script blocks: remoting with its target; other blocks generic; 4103
    // without remoting dropped.
    for (text, target) in [
        (
            "Invoke-Command -ComputerName fs1 -ScriptBlock {x}",
            Some("fs1"),
        ),
        ("enter-pssession -cn 'srv2'", Some("srv2")),
        ("New-PSSession -ComputerName $target", None),
        ("$s = New-PSSession; Invoke-Command -Session $s {x}", None),
    ] {
        let e = one(&flat(PS, 4104, &format!(r#""ScriptBlockText":"{text}""#)));
        assert_eq!(e.action, Action::RemotePowershell, "{text}");
        assert_eq!(e.destination_domain.as_deref(), target, "{text}");
    }
    let e = one(&flat(PS, 4104, r#""ScriptBlockText":"Get-Process""#));
    assert_eq!(e.action, Action::PowershellScriptBlock);
    none(&flat(
        PS,
        4103,
        r#""Payload":"CommandInvocation(Get-Date)""#,
    ));
    // Script text is bounded.
    let long = "A".repeat(5000);
    let e = one(&flat(PS, 4104, &format!(r#""ScriptBlockText":"{long}""#)));
    assert_eq!(e.label("script_block_text").map(str::len), Some(MAX_SCRIPT));
    // The same ids elsewhere are other events.
    none(&flat(
        "Windows PowerShell",
        4104,
        r#""ScriptBlockText":"Invoke-Command""#,
    ));
    none(&flat("Security", 6, r#""connection":"x""#));
}

#[test]
fn hostile_lines_are_bounded_and_never_panic() {
    // Every text is cut: a 600 KiB command line keeps 4 KiB.
    let big = "é".repeat(300_000);
    let e = one(&flat(
        "Security",
        4688,
        &format!(r#""NewProcessName":"{big}","CommandLine":"{big}","ParentProcessName":"{big}""#),
    ));
    assert!(e.process_command_line().unwrap().len() <= MAX_TEXT);
    assert!(e.process_executable().unwrap().len() <= MAX_TEXT);
    assert!(e.label("parent_process_name").unwrap().len() <= MAX_TEXT);
    let e = one(&format!(
        r#"{{"result":{{"_raw":"<Event><System><EventID>4688</EventID><Computer>{big}</Computer></System><EventData><Data Name='CommandLine'>{big}</Data></EventData></Event>"}}}}"#
    ));
    assert!(e.host_name.unwrap().len() <= MAX_TEXT);
    let mut out = Vec::new();
    let nested = format!("{}1{}", "{\"result\":".repeat(200), "}".repeat(200));
    for bad in [
        nested.as_str(),
        r#"{"result":7}"#,
        r#"{"result":{"EventCode":"x"}}"#,
        r#"{"result":{"_raw":"<Event><EventID>1</EventID><Data Name='a'"}}"#,
        r#"{"winlog":{"event_id":"4104","channel":"Microsoft-Windows-PowerShell/Operational","event_data":{"ScriptBlockText":"-ComputerName -ComputerName -cn"}}}"#,
        r#"{"EventID":6,"Channel":"Microsoft-Windows-WinRM/Operational","connection":"http://[::1"}"#,
        r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","QueryResults":";;;type:;::ffff:;"}"#,
        r#"{"EventID":4698,"Channel":"Security","TaskContent":"<Command><Command></Arguments>"}"#,
        r#"{"EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","TargetObject":"\\Services\\"}"#,
    ] {
        let _ = WindowsJsonl.parse_line(bad.as_bytes(), &mut out);
    }
    // Many answers: at most 32 kept.
    let many = "10.0.0.1;".repeat(1000);
    let e = one(&flat(SYSMON, 22, &format!(r#""QueryResults":"{many}""#)));
    assert_eq!(e.dns_answers().count(), 32);
}
