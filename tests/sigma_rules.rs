//! Sigma rules on records the test builds: the detection syntax (field
//! modifiers, keywords, null, conditions), logsource routing by channel and
//! event id, the export shapes all read alike, levels and tags become
//! alerts, and hostile rule files are refused with a reason, never a panic.

use lateral::model::event::{Origin, Position};
use lateral::sigma::SigmaRules;
use lateral::sigma::record::{self, Record};
use lateral::sigma::scan::{ScanOptions, ScanStats, evaluate};
use std::sync::Arc;

const HEAD: &str = "title: T\nid: 11111111-2222-3333-4444-555555555555\nlevel: high\ntags:\n  - attack.lateral-movement\n  - attack.t1021.002\n";

/// A rule with the given logsource and detection text.
fn rule(logsource: &str, detection: &str) -> SigmaRules {
    let y = format!("{HEAD}logsource:\n{logsource}\ndetection:\n{detection}\n");
    let r = SigmaRules::from_yaml("test.yml", &y);
    assert_eq!(r.report.refused, Vec::new(), "{y}");
    assert_eq!(r.len(), 1);
    r
}

fn sysmon1(extra: &str) -> Record {
    let line = format!(
        r#"{{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS6","@timestamp":"2020-09-21T04:14:53Z"{extra}}}"#
    );
    record::from_json(line.as_bytes()).expect("record")
}

fn hits(rules: &SigmaRules, rec: &Record) -> usize {
    let mut out = Vec::new();
    let mut stats = ScanStats::default();
    let origin = Origin {
        file: Arc::from("t"),
        at: Position::Line(1),
    };
    evaluate(
        rules,
        rec,
        origin,
        ScanOptions::default(),
        &mut out,
        &mut stats,
    );
    out.len()
}

const PROC: &str = "  category: process_creation\n  product: windows";

#[test]
fn field_modifiers_match_as_specified() {
    let cases: &[(&str, &str, bool)] = &[
        (
            "Image|endswith: '\\powershell.exe'",
            r#","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\PowerShell.EXE""#,
            true,
        ),
        (
            "Image|endswith: '\\cmd.exe'",
            r#","Image":"C:\\Windows\\System32\\powershell.exe""#,
            false,
        ),
        (
            "CommandLine|contains: ' -enc '",
            r#","CommandLine":"powershell -NoP -ENC SQBm""#,
            true,
        ),
        (
            "CommandLine|contains|all: ['-nop', 'hidden']",
            r#","CommandLine":"powershell -nop -w 1""#,
            false,
        ),
        (
            "CommandLine|contains|all: ['-nop', 'hidden']",
            r#","CommandLine":"powershell -nop -w hidden""#,
            true,
        ),
        (
            "ParentImage|startswith: 'C:\\Windows\\System32\\wbem\\'",
            r#","ParentImage":"C:\\Windows\\System32\\wbem\\WmiPrvSE.exe""#,
            true,
        ),
        (
            "CommandLine|re: '(?i)invoke-\\w+ -computername'",
            r#","CommandLine":"Invoke-Command -ComputerName ws6""#,
            true,
        ),
        (
            "CommandLine|windash|contains: ' -accepteula'",
            r#","CommandLine":"psexec.exe /accepteula \\\\ws6 cmd""#,
            true,
        ),
        (
            "CommandLine|base64offset|contains: 'IEX'",
            r#","CommandLine":"powershell -e SUVYIChOZXctT2JqZWN0""#,
            true,
        ),
        (
            "CommandLine|cased: 'WHOAMI'",
            r#","CommandLine":"whoami""#,
            false,
        ),
        ("CommandLine: 'WHOAMI'", r#","CommandLine":"whoami""#, true),
        (
            "DestinationIp|cidr: '10.0.0.0/8'",
            r#","DestinationIp":"10.2.3.4""#,
            true,
        ),
        (
            "DestinationIp|cidr: '10.0.0.0/8'",
            r#","DestinationIp":"172.18.39.6""#,
            false,
        ),
        ("ProcessId|gt: 1000", r#","ProcessId":4242"#, true),
        ("ProcessId|lte: 1000", r#","ProcessId":4242"#, false),
        (
            "ParentCommandLine|exists: false",
            r#","CommandLine":"x""#,
            true,
        ),
        (
            "ParentCommandLine|exists: true",
            r#","CommandLine":"x""#,
            false,
        ),
        ("OriginalFileName: null", r#","CommandLine":"x""#, true),
        (
            "User|fieldref: ParentUser",
            r#","User":"THESHIRE\\pgustavo","ParentUser":"THESHIRE\\pgustavo""#,
            true,
        ),
        (
            "User|fieldref: ParentUser",
            r#","User":"THESHIRE\\pgustavo","ParentUser":"NT AUTHORITY\\SYSTEM""#,
            false,
        ),
        (
            "Image: '*\\rundll32.exe'",
            r#","Image":"C:\\Windows\\rundll32.exe""#,
            true,
        ),
        (
            "Image: 'C:\\Windows\\r?ndll32.exe'",
            r#","Image":"C:\\Windows\\rundll32.exe""#,
            true,
        ),
    ];
    for (sel, fields, want) in cases {
        let r = rule(
            PROC,
            &format!("  selection:\n    {sel}\n  condition: selection"),
        );
        assert_eq!(hits(&r, &sysmon1(fields)) == 1, *want, "{sel} on {fields}");
    }
}

#[test]
fn conditions_keywords_and_lists() {
    let det = "  sel_img:\n    Image|endswith: '\\net.exe'\n  sel_cli:\n    CommandLine|contains:\n      - ' use '\n      - ' view '\n  filter:\n    User|contains: 'SYSTEM'\n  condition: all of sel_* and not filter";
    let r = rule(PROC, det);
    assert_eq!(
        hits(
            &r,
            &sysmon1(
                r#","Image":"C:\\Windows\\net.exe","CommandLine":"net use \\\\ws6\\C$","User":"THESHIRE\\pgustavo""#
            )
        ),
        1
    );
    assert_eq!(
        hits(
            &r,
            &sysmon1(
                r#","Image":"C:\\Windows\\net.exe","CommandLine":"net use \\\\ws6\\C$","User":"NT AUTHORITY\\SYSTEM""#
            )
        ),
        0
    );
    assert_eq!(
        hits(
            &r,
            &sysmon1(r#","Image":"C:\\Windows\\net.exe","CommandLine":"net user""#)
        ),
        0
    );

    let r = rule(
        PROC,
        "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    Image|endswith: '\\b.exe'\n  condition: 1 of them",
    );
    assert_eq!(hits(&r, &sysmon1(r#","Image":"C:\\b.exe""#)), 1);
    let r = rule(
        PROC,
        "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: 'x'\n  condition: all of them",
    );
    assert_eq!(
        hits(&r, &sysmon1(r#","Image":"C:\\a.exe","CommandLine":"y""#)),
        0
    );
    assert_eq!(
        hits(&r, &sysmon1(r#","Image":"C:\\a.exe","CommandLine":"x""#)),
        1
    );
    let r = rule(
        PROC,
        "  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: 'x'\n  c:\n    CommandLine|contains: 'z'\n  condition: a and (b or c)",
    );
    assert_eq!(
        hits(&r, &sysmon1(r#","Image":"C:\\a.exe","CommandLine":"z""#)),
        1
    );
    assert_eq!(
        hits(&r, &sysmon1(r#","Image":"C:\\q.exe","CommandLine":"z""#)),
        0
    );

    // Keywords: any value of the record.
    let r = rule(
        PROC,
        "  keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\n  condition: keywords",
    );
    assert_eq!(
        hits(
            &r,
            &sysmon1(r#","CommandLine":"run Sekurlsa::logonpasswords""#)
        ),
        1
    );
    assert_eq!(hits(&r, &sysmon1(r#","CommandLine":"notepad""#)), 0);
}

#[test]
fn logsource_routes_by_channel_and_event_id() {
    let r = rule(
        PROC,
        "  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection",
    );
    // Sysmon 1 and Security 4688 (whose NewProcessName answers Image) are
    // process creations; Sysmon 3 is not.
    assert_eq!(
        hits(&r, &sysmon1(r#","Image":"C:\\Windows\\whoami.exe""#)),
        1
    );
    let sec = record::from_json(
        br#"{"EventID":"4688","Channel":"Security","NewProcessName":"C:\\Windows\\whoami.exe"}"#,
    )
    .expect("record");
    assert_eq!(hits(&r, &sec), 1);
    let net = record::from_json(br#"{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\whoami.exe"}"#).expect("record");
    assert_eq!(hits(&r, &net), 0);

    let svc = rule(
        "  product: windows\n  service: system",
        "  selection:\n    Provider_Name: 'Service Control Manager'\n    EventID: 7045\n    ServiceName: 'PSEXESVC'\n  condition: selection",
    );
    // Flat (NXLog/OTRF), Winlogbeat and EVTX renderings of one 7045.
    let flat = br#"{"EventID":7045,"Channel":"System","SourceName":"Service Control Manager","ServiceName":"PSEXESVC","Hostname":"ws6"}"#;
    let beat = br#"{"@timestamp":"2020-09-20T16:16:57Z","winlog":{"event_id":"7045","channel":"System","provider_name":"Service Control Manager","computer_name":"ws6","event_data":{"ServiceName":"PSEXESVC"}}}"#;
    let evtx = br##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Channel":"System","Computer":"ws6","Provider":{"#attributes":{"Name":"Service Control Manager"}},"TimeCreated":{"#attributes":{"SystemTime":"2020-09-20T16:16:57Z"}}},"EventData":{"ServiceName":"PSEXESVC"}}}"##;
    for line in [&flat[..], &beat[..], &evtx[..]] {
        let rec = record::from_json(line).expect("record");
        assert_eq!(hits(&svc, &rec), 1, "{}", String::from_utf8_lossy(line));
    }
    // The same service in the Security channel is not the System rule's.
    let sec = record::from_json(br#"{"EventID":7045,"Channel":"Security","SourceName":"Service Control Manager","ServiceName":"PSEXESVC"}"#).expect("record");
    assert_eq!(hits(&svc, &sec), 0);
}

#[test]
fn hits_become_alerts_with_level_tags_and_entities() {
    let r = rule(
        "  product: windows\n  service: security",
        "  selection:\n    EventID: 4624\n    LogonType: 3\n  condition: selection",
    );
    let rec = record::from_json(br#"{"EventID":4624,"Channel":"Security","Hostname":"WORKSTATION6.theshire.local","LogonType":3,"TargetUserName":"pgustavo","IpAddress":"172.18.39.5","@timestamp":"2020-09-21T04:14:53Z"}"#).expect("record");
    let mut out = Vec::new();
    let mut stats = ScanStats::default();
    let origin = Origin {
        file: Arc::from("t.json"),
        at: Position::Line(7),
    };
    evaluate(
        &r,
        &rec,
        origin,
        ScanOptions::default(),
        &mut out,
        &mut stats,
    );
    assert_eq!(out.len(), 1);
    let alerts = lateral::sigma::alerts::from_events(&out);
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.rule.name, "T");
    assert_eq!(a.rule.id, "11111111-2222-3333-4444-555555555555");
    assert_eq!(a.ruleset, Some("sigma"));
    assert_eq!(a.technique.id, "T1021.002");
    assert_eq!(a.technique.tactic, "Lateral Movement");
    assert_eq!(
        a.technique.name,
        "Remote Services: SMB/Windows Admin Shares"
    );
    assert_eq!(a.severity().name(), "high");
    assert_eq!(
        a.source
            .as_ref()
            .and_then(|s| s.ip)
            .map(|i| i.to_string())
            .as_deref(),
        Some("172.18.39.5")
    );
    assert_eq!(
        a.destination.as_ref().and_then(|d| d.name.as_deref()),
        Some("WORKSTATION6.theshire.local")
    );
    assert_eq!(a.user.as_deref(), Some("pgustavo"));
    assert!(a.movement);
    assert_eq!(a.evidence.len(), 1);

    // Informational rules are counted, not alerted.
    let y = "title: I\nlevel: informational\nlogsource:\n  product: windows\n  service: security\ndetection:\n  s:\n    EventID: 4624\n  condition: s\n";
    let info = SigmaRules::from_yaml("i.yml", y);
    let mut out = Vec::new();
    let mut stats = ScanStats::default();
    let origin = Origin {
        file: Arc::from("t.json"),
        at: Position::Line(7),
    };
    evaluate(
        &info,
        &rec,
        origin,
        ScanOptions::default(),
        &mut out,
        &mut stats,
    );
    assert_eq!((out.len(), stats.hits, stats.informational), (0, 1, 1));
}

#[test]
fn hostile_rule_files_are_refused_with_a_reason() {
    let bad: &[&str] = &[
        "",
        "title: [unclosed",
        "title: x\ndetection:\n  condition: nosuch\n",
        "title: x\nlogsource: {product: windows}\ndetection:\n  s:\n    Image|nosuchmodifier: a\n  condition: s\n",
        "title: x\nlogsource: {product: windows}\ndetection:\n  s:\n    Image|re: '('\n  condition: s\n",
        "title: x\nlogsource: {product: windows}\ndetection:\n  s:\n    a: b\n  condition: s and (\n",
        "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
        "&a [*a, *a, *a, *a]",
        "title: \u{0}\u{ffff}",
    ];
    for y in bad {
        let r = SigmaRules::from_yaml("bad.yml", y);
        assert_eq!(r.len(), 0, "{y:?} loaded");
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let r = SigmaRules::from_yaml("deep.yml", &deep);
    assert_eq!(r.len(), 0);
    // A bad rule beside a good one: the good one loads, the bad one is
    // refused with its reason.
    let two = format!(
        "{HEAD}logsource: {{product: windows}}\ndetection:\n  s:\n    a: b\n  condition: s\n---\ntitle: bad\nlogsource: {{product: windows}}\ndetection:\n  s:\n    Image|re: '('\n  condition: s\n"
    );
    let r = SigmaRules::from_yaml("two.yml", &two);
    assert_eq!(r.len(), 1);
    assert_eq!(r.report.refused.len(), 1);
    assert!(!r.report.refused[0].reason.is_empty());
    assert_eq!(r.report.reasons().len(), 1);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Any text as a rule file: refused or loaded, evaluated, never a panic.
    #[test]
    fn arbitrary_rule_text_never_panics(s in "(?s).{0,300}") {
        lateral::sigma::fuzz_rule(s.as_bytes());
    }

    /// A real rule with bytes changed: never a panic.
    #[test]
    fn mutated_rules_never_panic(at in 0usize..400, b in proptest::prelude::any::<u8>()) {
        let base = format!("{HEAD}logsource:\n{PROC}\ndetection:\n  sel:\n    Image|endswith|windash: '\\\\cmd.exe'\n    CommandLine|base64offset|contains: 'whoami'\n  condition: 1 of sel* and not 1 of filter*\n");
        let mut bytes = base.into_bytes();
        if let Some(x) = bytes.get_mut(at) {
            *x = b;
        }
        lateral::sigma::fuzz_rule(&bytes);
    }
}

/// The search walks a value's automaton only from the first place one of
/// its literals (all at least four bytes) can start: literals at the very
/// end of a value, in any case, overlapping one another, after a decoy
/// with the same first bytes, in values short and long (over 256 bytes:
/// not cached) are all still found, and a value shorter than every literal
/// matches nothing.
#[test]
fn literals_found_wherever_they_start() {
    let by_field = rule(
        PROC,
        "  sel:\n    CommandLine|contains|all:\n      - 'mimikatz'\n      - 'katzenjammer'\n  condition: sel",
    );
    let keywords = rule(
        PROC,
        "  keywords:\n    - 'sekurlsa::logonpasswords'\n  condition: keywords",
    );
    let pad = "x".repeat(300);
    let cases: &[(String, bool, bool)] = &[
        // Overlapping literals at the end, mixed case, after a decoy.
        ("MIMIKATe MimiKatzenJammer".to_string(), true, false),
        (format!("{pad} mimikat MIMIKATZENJAMMER"), true, false),
        (format!("mimikatz {pad} katzenjamme"), false, false),
        ("sekurlsa::LogonPasswordS".to_string(), false, true),
        (
            format!("{pad}sekurlsa::logonpassword sekurlsa::LOGONPASSWORDS"),
            false,
            true,
        ),
        (format!("{pad}sekurlsa::logonpassword"), false, false),
        ("mim".to_string(), false, false),
    ];
    for (cmd, field_hit, kw_hit) in cases {
        let rec = sysmon1(&format!(r#","CommandLine":"{cmd}""#));
        assert_eq!(
            hits(&by_field, &rec),
            usize::from(*field_hit),
            "field rule on {cmd}"
        );
        assert_eq!(
            hits(&keywords, &rec),
            usize::from(*kw_hit),
            "keyword rule on {cmd}"
        );
    }
}
