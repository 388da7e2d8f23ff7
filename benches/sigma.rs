//! Sigma matching throughput: realistic Windows events (Sysmon process
//! creations, network connections, file and registry events, Security
//! logons, share access and 4688, System 7045 services) evaluated against
//! about 2,000 rules: the SigmaHQ snapshot's Windows rules when the shared
//! corpus is present, else 2,000 generated rules of the same shapes.
//!
//! Two measures, in events per second: `evaluate` (a record already
//! flattened, the engine alone) and `json_line` (a JSON line read,
//! flattened and evaluated, as `--sigma` does).
//!
//! Run: `cargo bench --bench sigma`.

use criterion::{Criterion, Throughput};
use lateral::model::event::{Origin, Position};
use lateral::sigma::SigmaRules;
use lateral::sigma::record::{self, Record};
use lateral::sigma::scan::{ScanOptions, ScanStats, evaluate};
use rayon::prelude::*;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

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
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const IMAGES: &[&str] = &[
    "C:\\\\Windows\\\\System32\\\\svchost.exe",
    "C:\\\\Windows\\\\explorer.exe",
    "C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe",
    "C:\\\\Windows\\\\System32\\\\cmd.exe",
    "C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe",
    "C:\\\\Windows\\\\System32\\\\conhost.exe",
    "C:\\\\Program Files\\\\Microsoft Office\\\\root\\\\Office16\\\\OUTLOOK.EXE",
    "C:\\\\Windows\\\\System32\\\\wbem\\\\WmiPrvSE.exe",
];
const CMDS: &[&str] = &[
    "svchost.exe -k netsvcs -p -s Schedule",
    "\\\"C:\\\\Program Files\\\\Google\\\\Chrome\\\\Application\\\\chrome.exe\\\" --type=renderer --field-trial-handle=1234",
    "cmd.exe /c dir C:\\\\Users",
    "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\\\scripts\\\\inventory.ps1",
    "C:\\\\Windows\\\\system32\\\\conhost.exe 0xffffffff -ForceV1",
    "explorer.exe",
];

/// Realistic JSON lines in the flat (OTRF/NXLog) shape.
fn lines(n: usize) -> Vec<String> {
    let mut r = Rng(0x5eed_1234);
    (0..n)
        .map(|i| {
            let host = format!("ws{:02}.corp.local", r.next() % 40);
            let ts = format!("2024-03-01T{:02}:{:02}:{:02}Z", (i / 3600) % 24, (i / 60) % 60, i % 60);
            match r.next() % 10 {
                0..=2 => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Image":"{}","CommandLine":"{}","ParentImage":"{}","ParentCommandLine":"{}","User":"CORP\\\\user{}","IntegrityLevel":"Medium","Hashes":"SHA256=0123456789ABCDEF","ProcessId":"{}","OriginalFileName":"x.exe","CurrentDirectory":"C:\\\\Users\\\\user\\\\"}}"#,
                    r.pick(IMAGES),
                    r.pick(CMDS),
                    r.pick(IMAGES),
                    r.pick(CMDS),
                    r.next() % 100,
                    r.next() % 60000
                ),
                3 => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Image":"{}","Initiated":"true","SourceIp":"10.1.{}.{}","SourcePort":"{}","DestinationIp":"10.2.0.{}","DestinationPort":"{}","Protocol":"tcp","User":"CORP\\\\user1"}}"#,
                    r.pick(IMAGES),
                    r.next() % 255,
                    r.next() % 255,
                    49152 + r.next() % 10000,
                    r.next() % 255,
                    r.pick(&["443", "445", "135", "80", "5985"])
                ),
                4 => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","Image":"{}","TargetFilename":"C:\\\\Users\\\\user\\\\AppData\\\\Local\\\\Temp\\\\tmp{}.tmp"}}"#,
                    r.pick(IMAGES),
                    r.next() % 10000
                ),
                5 => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"Microsoft-Windows-Sysmon","EventType":"SetValue","Image":"{}","TargetObject":"HKLM\\\\SOFTWARE\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Explorer\\\\k{}","Details":"DWORD (0x00000001)"}}"#,
                    r.pick(IMAGES),
                    r.next() % 100
                ),
                6 | 7 => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":4624,"Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing","TargetUserName":"user{}","TargetDomainName":"CORP","LogonType":"{}","IpAddress":"10.1.0.{}","IpPort":"0","AuthenticationPackageName":"Kerberos","LogonProcessName":"Kerberos","WorkstationName":"-"}}"#,
                    r.next() % 100,
                    r.pick(&["3", "2", "10", "5"]),
                    r.next() % 255
                ),
                8 => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":5145,"Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing","SubjectUserName":"user{}","ShareName":"\\\\\\\\*\\\\IPC$","RelativeTargetName":"{}","IpAddress":"10.1.0.{}","AccessMask":"0x12019f"}}"#,
                    r.next() % 100,
                    r.pick(&["srvsvc", "lsarpc", "samr", "wkssvc"]),
                    r.next() % 255
                ),
                _ => format!(
                    r#"{{"@timestamp":"{ts}","Hostname":"{host}","EventID":4688,"Channel":"Security","SourceName":"Microsoft-Windows-Security-Auditing","NewProcessName":"{}","CommandLine":"{}","ParentProcessName":"{}","SubjectUserName":"user{}","TokenElevationType":"%%1936"}}"#,
                    r.pick(IMAGES),
                    r.pick(CMDS),
                    r.pick(IMAGES),
                    r.next() % 100
                ),
            }
        })
        .collect()
}

/// About 2,000 rules: SigmaHQ's Windows rules when the corpus is here.
fn rules() -> SigmaRules {
    let dir = std::env::var_os("LATERAL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let windows = dir.join("sigma/rules/windows");
    if windows.is_dir()
        && let Ok(r) = lateral::sigma::load(&windows)
    {
        eprintln!("sigma bench: {} SigmaHQ Windows rules", r.len());
        return r;
    }
    let mut y = String::new();
    for i in 0..2000 {
        let (ls, sel) = match i % 4 {
            0 => (
                "category: process_creation",
                format!(
                    "Image|endswith: '\\\\tool{i}.exe'\n    CommandLine|contains: ' -flag{i} '"
                ),
            ),
            1 => (
                "category: process_creation",
                format!("CommandLine|contains|all: ['alpha{i}', 'beta{i}']"),
            ),
            2 => (
                "service: security",
                format!("EventID: 4624\n    TargetUserName: 'svc{i}'"),
            ),
            _ => (
                "category: network_connection",
                format!(
                    "DestinationPort: {}\n    Image|endswith: '\\\\app{i}.exe'",
                    1000 + i
                ),
            ),
        };
        y.push_str(&format!(
            "title: generated {i}\nlevel: medium\nlogsource:\n  product: windows\n  {ls}\ndetection:\n  sel:\n    {sel}\n  condition: sel\n---\n"
        ));
    }
    eprintln!("sigma bench: 2000 generated rules (no corpus)");
    SigmaRules::from_yaml("generated.yml", &y)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut rules = rules();
    let lines = lines(20_000);
    let records: Vec<Record> = lines
        .iter()
        .filter_map(|l| record::from_json(l.as_bytes()))
        .collect();
    assert_eq!(records.len(), lines.len(), "generated lines parse");
    let origin = Origin {
        file: Arc::from("bench"),
        at: Position::Line(1),
    };
    {
        let mut hits = Vec::new();
        let mut stats = ScanStats::default();
        for r in &records {
            evaluate(
                &rules,
                r,
                origin.clone(),
                ScanOptions::default(),
                &mut hits,
                &mut stats,
            );
        }
        eprintln!(
            "sigma bench: {} records, {} rules indexed by literal of {}, {:.2} rules evaluated per record, {} hits",
            stats.records,
            rules.indexed(),
            rules.len(),
            stats.evaluated as f64 / stats.records.max(1) as f64,
            stats.hits
        );
    }
    // The same passes timed in this thread's CPU time: on a machine shared
    // with other work the wall-clock figures below fall with the load,
    // these much less.
    let cpu = || {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid, writable timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
    };
    for (name, from_json, own, cache) in [
        ("evaluate", false, true, true),
        ("evaluate, no search cache", false, true, false),
        ("evaluate, rsigma-eval deciding", false, false, true),
        ("json_line", true, true, true),
        ("json_line, no search cache", true, true, false),
        ("json_line, rsigma-eval deciding", true, false, true),
    ] {
        rules.set_own_matcher(own);
        rules.set_search_cache(cache);
        let start = cpu();
        let mut n = 0u64;
        for _ in 0..3 {
            let mut hits = Vec::new();
            let mut stats = ScanStats::default();
            for (l, r) in lines.iter().zip(&records) {
                let parsed;
                let rec = if from_json {
                    parsed = record::from_json(l.as_bytes());
                    let Some(p) = &parsed else { continue };
                    p
                } else {
                    r
                };
                evaluate(
                    &rules,
                    rec,
                    origin.clone(),
                    ScanOptions::default(),
                    &mut hits,
                    &mut stats,
                );
            }
            n += stats.records;
            black_box(hits.len());
        }
        eprintln!(
            "sigma bench: {name}: {:.0} events per CPU second (one thread)",
            n as f64 / (cpu() - start).max(1e-9)
        );
    }
    rules.set_own_matcher(true);
    rules.set_search_cache(true);
    let mut g = c.benchmark_group("sigma");
    g.throughput(Throughput::Elements(records.len() as u64));
    g.sample_size(10);
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            let mut hits = Vec::new();
            let mut stats = ScanStats::default();
            for r in &records {
                evaluate(
                    &rules,
                    r,
                    origin.clone(),
                    ScanOptions::default(),
                    &mut hits,
                    &mut stats,
                );
            }
            black_box((hits.len(), stats.records))
        })
    });
    g.bench_function("evaluate_parallel", |b| {
        b.iter(|| {
            let found: Vec<(usize, u64)> = records
                .par_iter()
                .map(|r| {
                    let mut hits = Vec::new();
                    let mut stats = ScanStats::default();
                    evaluate(
                        &rules,
                        r,
                        origin.clone(),
                        ScanOptions::default(),
                        &mut hits,
                        &mut stats,
                    );
                    (hits.len(), stats.records)
                })
                .collect();
            black_box(found.len())
        })
    });
    g.bench_function("json_line", |b| {
        b.iter(|| {
            let mut hits = Vec::new();
            let mut stats = ScanStats::default();
            for l in &lines {
                if let Some(r) = record::from_json(l.as_bytes()) {
                    evaluate(
                        &rules,
                        &r,
                        origin.clone(),
                        ScanOptions::default(),
                        &mut hits,
                        &mut stats,
                    );
                }
            }
            black_box((hits.len(), stats.records))
        })
    });
    g.finish();
    c.final_summary();
}
