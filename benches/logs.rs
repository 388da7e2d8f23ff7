//! Log parser throughput, end to end through the real readers: sshd syslog
//! (RFC 3164 auth.log), Windows JSON Lines in both shapes (flat
//! OTRF/NXLog and Winlogbeat), `journalctl -o json`, each a few MB
//! generated here and read by `source::text_lines::read_lines`; and EVTX
//! (the corpus's EVTX files, when the corpus is present) through
//! `source::evtx::read_evtx`.
//!
//! Run: `cargo bench --bench logs`. To write large inputs for timing the
//! binary (`lateral events --quiet --stats FILE > /dev/null`), run
//! `LATERAL_LOG_SAMPLES=DIR LATERAL_LOG_SAMPLE_MB=500 cargo bench --bench logs`:
//! it writes `auth.log`, `windows-flat.jsonl`, `windows-winlogbeat.jsonl`
//! and `journal.jsonl` of about that size into DIR and exits.

use criterion::{Criterion, Throughput};
use lateral::input::ByteWindow;
use lateral::source::LineFormat;
use lateral::source::syslog::{JournalJson, SyslogConfig, SyslogLines};
use lateral::source::text_lines::read_lines;
use lateral::source::winsec::WindowsJsonl;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const USERS: [&str; 8] = [
    "tanaka", "suzuki", "admin", "root", "oracle", "deploy", "pgustavo", "backup",
];
const HOSTS: [&str; 4] = ["srv-chamber", "fs01", "web02", "bastion"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn ip(r: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        [10, 172, 192, 203][r.below(4) as usize],
        r.below(256),
        r.below(256),
        1 + r.below(254)
    )
}

/// One auth.log line: the mix a busy, attacked SSH server writes.
fn sshd_line(r: &mut Rng, i: u64, out: &mut String) {
    let secs = i / 4;
    let (d, h, m, s) = (
        1 + (secs / 86_400) % 28,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
    );
    let _ = write!(
        out,
        "{} {d:>2} {h:02}:{m:02}:{s:02} {} ",
        MONTHS[(secs / (86_400 * 28)) as usize % 12],
        r.pick(&HOSTS)
    );
    let pid = 1000 + r.below(60_000);
    let user = r.pick(&USERS);
    let addr = ip(r);
    let port = 1024 + r.below(64_000);
    match r.below(10) {
        0..=2 => {
            let _ = write!(
                out,
                "sshd[{pid}]: Failed password for invalid user {user} from {addr} port {port} ssh2"
            );
        }
        3 => {
            let _ = write!(
                out,
                "sshd[{pid}]: Failed password for {user} from {addr} port {port} ssh2"
            );
        }
        4 => {
            let _ = write!(
                out,
                "sshd[{pid}]: Accepted publickey for {user} from {addr} port {port} ssh2: ED25519 SHA256:Jd8m3tUq2hS5xwVqkzKLm1r4s0l2bYH7u0Wc9QpZk1E"
            );
        }
        5 => {
            let _ = write!(
                out,
                "sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}(uid=1001) by (uid=0)"
            );
        }
        6 => {
            let _ = write!(
                out,
                "sshd[{pid}]: Connection closed by invalid user {user} {addr} port {port} [preauth]"
            );
        }
        7 => {
            let _ = write!(
                out,
                "sshd[{pid}]: Invalid user {user} from {addr} port {port}"
            );
        }
        8 => {
            let _ = write!(
                out,
                "CRON[{pid}]: pam_unix(cron:session): session closed for user root"
            );
        }
        _ => {
            let _ = write!(
                out,
                "systemd-logind[612]: New session {pid} of user {user}."
            );
        }
    }
    out.push('\n');
}

/// Event ids in the proportions a domain member's Security log has them,
/// with unmapped noise (object access, filtering platform) in between.
const WIN_IDS: [u32; 12] = [
    4624, 4624, 4634, 4672, 5145, 5145, 4688, 4769, 4625, 4658, 5156, 4663,
];

fn win_fields(r: &mut Rng, id: u32) -> Vec<(&'static str, String)> {
    let user = r.pick(&USERS).to_string();
    let addr = ip(r);
    let port = (1024 + r.below(64_000)).to_string();
    let mut f = vec![
        ("SubjectUserSid", "S-1-5-18".to_string()),
        ("SubjectUserName", "WORKSTATION6$".to_string()),
        ("SubjectDomainName", "THESHIRE".to_string()),
        ("SubjectLogonId", "0x3e7".to_string()),
    ];
    match id {
        4624 | 4625 => f.extend([
            (
                "TargetUserSid",
                "S-1-5-21-4228717743-1032521047-1810997296-1104".to_string(),
            ),
            ("TargetUserName", user),
            ("TargetDomainName", "THESHIRE.LOCAL".to_string()),
            ("TargetLogonId", format!("{:#x}", r.next() >> 36)),
            (
                "LogonType",
                ["2", "3", "3", "10"][r.below(4) as usize].into(),
            ),
            ("LogonProcessName", "NtLmSsp ".into()),
            ("AuthenticationPackageName", "NTLM".into()),
            ("WorkstationName", "KALI".into()),
            ("LogonGuid", "{00000000-0000-0000-0000-000000000000}".into()),
            ("TransmittedServices", "-".into()),
            ("LmPackageName", "NTLM V2".into()),
            ("KeyLength", "128".into()),
            ("ProcessId", "0x0".into()),
            ("ProcessName", "-".into()),
            ("IpAddress", addr),
            ("IpPort", port),
            ("ImpersonationLevel", "%%1833".into()),
            ("Status", "0xc000006d".into()),
            ("SubStatus", "0xc000006a".into()),
        ]),
        4634 => f.extend([
            ("TargetUserName", user),
            ("TargetDomainName", "THESHIRE".into()),
            ("LogonType", "3".into()),
        ]),
        5145 => f.extend([
            ("ObjectType", "File".into()),
            ("IpAddress", addr),
            ("IpPort", port),
            ("ShareName", "\\\\*\\C$".into()),
            ("ShareLocalPath", "\\??\\C:\\".into()),
            ("RelativeTargetName", "ProgramData\\GruntHTTP.exe".into()),
            ("AccessMask", "0x100180".into()),
            ("AccessList", "%%1541\r\n\t\t\t\t%%4423\r\n\t\t\t\t".into()),
        ]),
        4688 => f.extend([
            ("NewProcessId", "0x1a2c".into()),
            (
                "NewProcessName",
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe".into(),
            ),
            ("TokenElevationType", "%%1936".into()),
            ("ProcessId", "0x2f0".into()),
            (
                "CommandLine",
                "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA"
                    .into(),
            ),
            (
                "ParentProcessName",
                "C:\\Windows\\System32\\wsmprovhost.exe".into(),
            ),
        ]),
        4769 => f.extend([
            ("TargetUserName", format!("{user}@THESHIRE.LOCAL")),
            ("ServiceName", "MORDORDC$".into()),
            ("TicketOptions", "0x40810000".into()),
            ("TicketEncryptionType", "0x12".into()),
            ("IpAddress", format!("::ffff:{addr}")),
            ("IpPort", port),
            ("Status", "0x0".into()),
        ]),
        _ => f.extend([
            ("ObjectServer", "Security".into()),
            ("ObjectType", "File".into()),
            (
                "ObjectName",
                "C:\\Windows\\System32\\config\\systemprofile\\AppData".into(),
            ),
            ("HandleId", "0x1f4".into()),
            ("ProcessName", "C:\\Windows\\System32\\svchost.exe".into()),
            ("SourceAddress", addr),
            ("SourcePort", port),
        ]),
    }
    f
}

/// The boilerplate `Message` text Windows attaches (a few hundred bytes).
const MESSAGE: &str = "An account was successfully logged on.\\r\\n\\r\\nSubject:\\r\\n\\tSecurity ID:\\t\\tS-1-5-18\\r\\n\\tAccount Name:\\t\\tWORKSTATION6$\\r\\n\\tAccount Domain:\\t\\tTHESHIRE\\r\\n\\tLogon ID:\\t\\t0x3E7\\r\\n\\r\\nLogon Information:\\r\\n\\tLogon Type:\\t\\t3\\r\\n\\tRestricted Admin Mode:\\t-\\r\\n\\tVirtual Account:\\t\\tNo\\r\\n\\tElevated Token:\\t\\tYes\\r\\n\\r\\nThis event is generated when a logon session is created. It is generated on the computer that was accessed.\\r\\n\\r\\nThe subject fields indicate the account on the local system which requested the logon.";

fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn win_time(i: u64) -> String {
    let ms = i * 37;
    let s = ms / 1000;
    format!(
        "2020-09-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        20 + (s / 86_400) % 9,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    )
}

/// One flat (OTRF / NXLog) record.
fn win_flat_line(r: &mut Rng, i: u64, out: &mut String) {
    let id = WIN_IDS[r.below(WIN_IDS.len() as u64) as usize];
    let _ = write!(
        out,
        r#"{{"SeverityValue":2,"EventReceivedTime":"2020-09-22 14:53:32","EventID":{id},"ProviderGuid":"{{54849625-5478-4994-A5BA-3E3B0328C30D}}","ExecutionProcessID":760,"Channel":"security","host":"wec.internal.cloudapp.net","Opcode":"Info","EventTime":"2020-09-22 14:53:30","SourceModuleType":"im_msvistalog","@version":"1","OpcodeValue":0,"Severity":"INFO","SourceName":"Microsoft-Windows-Security-Auditing","Keywords":-9214364837600034816,"ActivityID":"{{9D5ADC19-303C-0001-A9AD-1D94DD8DD601}}","ThreadID":7276,"EventType":"AUDIT_SUCCESS""#
    );
    for (k, v) in win_fields(r, id) {
        let _ = write!(out, ",\"{k}\":");
        json_str(out, &v);
    }
    let _ = write!(
        out,
        r#","Message":"{MESSAGE}","@timestamp":"{}","port":64545,"RecordNumber":{},"Task":12544,"SourceModuleName":"eventlog","Version":2,"Hostname":"WORKSTATION{}.theshire.local","tags":["mordorDataset"]}}"#,
        win_time(i),
        933_021 + i,
        r.below(9)
    );
    out.push('\n');
}

/// One Winlogbeat / Elastic record.
fn win_beat_line(r: &mut Rng, i: u64, out: &mut String) {
    let id = WIN_IDS[r.below(WIN_IDS.len() as u64) as usize];
    let host = format!("ws{}.offsec.lan", r.below(9));
    let _ = write!(
        out,
        r#"{{"@timestamp":"{}","agent":{{"type":"winlogbeat","version":"7.17.0","hostname":"{host}"}},"ecs":{{"version":"1.12.0"}},"event":{{"code":"{id}","kind":"event","provider":"Microsoft-Windows-Security-Auditing","created":"2021-05-20T12:49:32.1Z"}},"host":{{"name":"{host}"}},"log":{{"level":"information"}},"message":"{MESSAGE}","winlog":{{"channel":"Security","computer_name":"{host}","event_id":"{id}","provider_guid":"{{54849625-5478-4994-a5ba-3e3b0328c30d}}","provider_name":"Microsoft-Windows-Security-Auditing","record_id":{},"task":"Logon","keywords":["Audit Success"],"opcode":"Info","process":{{"pid":760,"thread":{{"id":7276}}}},"event_data":{{"#,
        win_time(i),
        67_000 + i
    );
    for (n, (k, v)) in win_fields(r, id).into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{k}\":");
        json_str(out, &v);
    }
    out.push_str("}}}\n");
}

/// One `journalctl -o json` entry for sshd.
fn journal_line(r: &mut Rng, i: u64, out: &mut String) {
    let mut msg = String::new();
    sshd_line(r, i, &mut msg);
    // Keep only the message part of the syslog line.
    let text = msg
        .trim_end()
        .split_once("]: ")
        .map(|(_, m)| m.to_string())
        .unwrap_or_default();
    let pid = 1000 + r.below(60_000);
    out.push_str(r#"{"__CURSOR":"s=6c0f7d2b8a8e4a6f9d3f2b1c0a9e8d7c;i=1a2b3;b=0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a;m=2f1e0d;t=5b0e1c2d3e4f5;x=9a8b7c6d5e4f3a2b","#);
    let _ = write!(
        out,
        r#""__REALTIME_TIMESTAMP":"{}","__MONOTONIC_TIMESTAMP":"{}","_BOOT_ID":"0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a","PRIORITY":"6","_UID":"0","_GID":"0","_MACHINE_ID":"1f2e3d4c5b6a79880f1e2d3c4b5a6978","_HOSTNAME":"{}","SYSLOG_FACILITY":"4","SYSLOG_IDENTIFIER":"sshd","_TRANSPORT":"syslog","_PID":"{pid}","_COMM":"sshd","_EXE":"/usr/sbin/sshd","_CMDLINE":"sshd: [accepted]","_SYSTEMD_UNIT":"ssh.service","_SYSTEMD_SLICE":"system.slice","SYSLOG_PID":"{pid}","MESSAGE":"#,
        1_600_000_000_000_000 + i * 250_000,
        9_000_000 + i * 250_000,
        r.pick(&HOSTS)
    );
    json_str(out, &text);
    out.push_str("}\n");
}

type Gen = fn(&mut Rng, u64, &mut String);

/// About `bytes` of input from `line`.
fn generate(line: Gen, bytes: usize) -> Vec<u8> {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut s = String::with_capacity(bytes + 4096);
    let mut i = 0;
    while s.len() < bytes {
        line(&mut r, i, &mut s);
        i += 1;
    }
    s.into_bytes()
}

/// Writes large inputs for timing the binary, in 64 MiB pieces.
fn write_samples(dir: &str, mb: usize) {
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("sample directory");
    let sets: [(&str, Gen); 4] = [
        ("auth.log", sshd_line),
        ("windows-flat.jsonl", win_flat_line),
        ("windows-winlogbeat.jsonl", win_beat_line),
        ("journal.jsonl", journal_line),
    ];
    for (name, line) in sets {
        let path = dir.join(name);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut i, mut written) = (0u64, 0usize);
        let mut s = String::with_capacity(65 << 20);
        while written < mb << 20 {
            s.clear();
            while s.len() < 64 << 20 {
                line(&mut r, i, &mut s);
                i += 1;
            }
            f.write_all(s.as_bytes()).expect("write");
            written += s.len();
        }
        f.flush().expect("flush");
        eprintln!("wrote {} ({} lines, {written} bytes)", path.display(), i);
    }
}

fn bench_lines(c: &mut Criterion, name: &str, input: &[u8], format: &dyn LineFormat) {
    // The input must be what the parser reads: no skipped line.
    let check = read_lines(
        &mut ByteWindow::owned(input.to_vec()),
        &Arc::from("bench"),
        format,
        &AtomicU64::new(0),
    );
    assert_eq!(check.diag.total(), 0, "{name}: {:?}", check.diag.samples);
    assert!(!check.events.is_empty(), "{name}: no events");
    let mut g = c.benchmark_group("logs");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(20);
    g.bench_function(name, |b| {
        b.iter_batched(
            || ByteWindow::owned(input.to_vec()),
            |mut w| {
                let r = read_lines(&mut w, &Arc::from("bench"), format, &AtomicU64::new(0));
                black_box(r.events.len())
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// The corpus's EVTX files, if the corpus is here.
fn corpus_evtx() -> Vec<Vec<u8>> {
    let dir = std::env::var_os("LATERAL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
        .join("logs/evtx");
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "evtx") {
                files.push(std::fs::read(&p).expect("readable corpus file"));
            }
        }
    }
    files
}

fn bench_evtx(c: &mut Criterion) {
    let files = corpus_evtx();
    if files.is_empty() {
        eprintln!("SKIPPED logs/evtx: corpus not found (set LATERAL_CORPUS)");
        return;
    }
    let total: usize = files.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("logs");
    g.throughput(Throughput::Bytes(total as u64));
    g.sample_size(20);
    g.bench_function("evtx_corpus", |b| {
        b.iter(|| {
            let mut n = 0;
            for f in &files {
                let r = lateral::source::evtx::read_evtx(
                    &mut ByteWindow::owned(f.clone()),
                    &Arc::from("bench"),
                    &AtomicU64::new(0),
                );
                n += r.records;
            }
            black_box(n)
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    const SIZE: usize = 4 << 20;
    let syslog = SyslogLines(SyslogConfig::year(2024, 0));
    bench_lines(c, "sshd_syslog", &generate(sshd_line, SIZE), &syslog);
    bench_lines(
        c,
        "windows_jsonl_flat",
        &generate(win_flat_line, SIZE),
        &WindowsJsonl,
    );
    bench_lines(
        c,
        "windows_jsonl_winlogbeat",
        &generate(win_beat_line, SIZE),
        &WindowsJsonl,
    );
    bench_lines(
        c,
        "journal_json",
        &generate(journal_line, SIZE),
        &JournalJson,
    );
    bench_evtx(c);
}

fn main() {
    if let Ok(dir) = std::env::var("LATERAL_LOG_SAMPLES") {
        let mb = std::env::var("LATERAL_LOG_SAMPLE_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500);
        write_samples(&dir, mb);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
