//! Every EVTX file in the shared corpus, read by `lateral`'s EVTX reader and
//! checked against INVENTORY.md's independent facts (records, events per id,
//! computers, time range, remote addresses, 4624 logon types), then cut and
//! bit-flipped copies of each: never a panic, a cut file yields a prefix of
//! the whole file's events, and a flip the checksums cover marks it partial.
//! The last tests need no corpus: an EVTX header followed by garbage is a
//! clean per-file error with exit status 3 from the real binary, and
//! compressed EVTX on standard input reads like the file.

mod common;

use lateral::collect::pipeline::{FlowRunOptions, LogOptions, run_events};
use lateral::input::{ByteWindow, InputPath};
use lateral::model::Action;
use lateral::model::event::{LogEvent, Timestamp};
use lateral::source::evtx::{CHUNK_SIZE, EvtxResult, FILE_HEADER_SIZE, read_evtx};
use lateral::source::winsec::source_addr;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Event ids `lateral` maps, every record of them, from channels other
/// than Sysmon's and PowerShell's.
const MAPPED: [u32; 20] = [
    4624, 4625, 4634, 4647, 4648, 4672, 4768, 4769, 4771, 4776, 5140, 5145, 7045, 4697, 4688, 4778,
    4779, 4825, 4698, 4702,
];
/// The ids whose remote address is ClientAddress (RDP session events).
const CLIENT_ADDRESS_IDS: [u32; 3] = [4778, 4779, 4825];
/// Event ids mapped, every record of them, from `Microsoft-Windows-Sysmon/Operational`.
const MAPPED_SYSMON: [u32; 7] = [1, 3, 8, 11, 17, 18, 22];
/// Event ids mapped, every record of them, from `Microsoft-Windows-PowerShell/Operational`.
const MAPPED_POWERSHELL: [u32; 1] = [4104];
/// Ids mapped for some of their records only (Security 4662 with the
/// replication rights, Sysmon 7 and 10 on lsass, Sysmon 12 and 13 on
/// service and Run keys, PowerShell 4103 naming remoting): at most the
/// inventory's count.
const MAPPED_SOME: [(Class, u32); 6] = [
    (Class::Other, 4662),
    (Class::Sysmon, 7),
    (Class::Sysmon, 10),
    (Class::Sysmon, 12),
    (Class::Sysmon, 13),
    (Class::PowerShell, 4103),
];
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";
const POWERSHELL: &str = "Microsoft-Windows-PowerShell/Operational";

/// The channels whose ids are their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Sysmon,
    PowerShell,
    Other,
}

impl Class {
    fn of_channel(channel: &str) -> Class {
        match channel {
            SYSMON => Class::Sysmon,
            POWERSHELL => Class::PowerShell,
            _ => Class::Other,
        }
    }

    fn of_event(e: &LogEvent) -> Class {
        match e.dataset.as_str() {
            "windows.sysmon" => Class::Sysmon,
            "windows.powershell" => Class::PowerShell,
            _ => Class::Other,
        }
    }
}

fn evtx_files(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let exp = common::expected(dir);
    exp["logs"]
        .as_object()
        .expect("logs")
        .iter()
        .filter(|(_, f)| f["kind"] == "evtx")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn read_bytes(bytes: Vec<u8>) -> EvtxResult {
    read_evtx(
        &mut ByteWindow::owned(bytes),
        &Arc::from("t.evtx"),
        &AtomicU64::new(0),
    )
}

/// The events each mapped id should give, from the per-channel counts
/// (for [`MAPPED_SOME`], the most it may give).
fn expected_by_id(facts: &serde_json::Value) -> BTreeMap<(Class, u32), u64> {
    let mut want = BTreeMap::new();
    for id in MAPPED {
        want.insert((Class::Other, id), 0);
    }
    for id in MAPPED_SYSMON {
        want.insert((Class::Sysmon, id), 0);
    }
    for id in MAPPED_POWERSHELL {
        want.insert((Class::PowerShell, id), 0);
    }
    for key in MAPPED_SOME {
        want.insert(key, 0);
    }
    for (key, n) in facts["by_channel_event_id"].as_object().expect("counts") {
        let (channel, id) = key.rsplit_once(':').expect("channel:id");
        let id: u32 = id.parse().expect("numeric id");
        if let Some(slot) = want.get_mut(&(Class::of_channel(channel), id)) {
            *slot += n.as_u64().expect("count");
        }
    }
    want
}

fn rfc(ts: Timestamp) -> String {
    ts.to_rfc3339()
}

#[test]
fn evtx_counts_match_inventory() {
    let Some(dir) = common::corpus_dir("evtx_counts_match_inventory") else {
        return;
    };
    let files = evtx_files(&dir);
    assert_eq!(files.len(), 57);
    let mut fully_mapped = 0;
    for (rel, facts) in &files {
        let path = dir.join(rel);
        let run = run_events(
            &[InputPath::File(path.clone())],
            Vec::new(),
            &FlowRunOptions::default(),
            &LogOptions::default(),
            &AtomicU64::new(0),
        );
        let r = &run.inputs[0];
        assert!(r.is_complete(), "{rel}: {:?}", r.problem());
        assert_eq!(r.format, Some("evtx"), "{rel}");
        let records = facts["records"].as_u64().unwrap();
        assert_eq!(r.records, records, "{rel}: records");
        assert_eq!(r.diag.total(), 0, "{rel}: skipped {:?}", r.diag.samples);
        assert_eq!(r.bytes, facts["bytes"].as_u64().unwrap(), "{rel}: bytes");

        // Events per mapped id, and nothing from unmapped ids.
        let mut want = expected_by_id(facts);
        let mut got: BTreeMap<(Class, u32), u64> = want.keys().map(|k| (*k, 0)).collect();
        for e in &run.events {
            let key = (Class::of_event(e), e.code.unwrap());
            *got.get_mut(&key)
                .unwrap_or_else(|| panic!("{rel}: unmapped {key:?}")) += 1;
        }
        for key in MAPPED_SOME {
            let (n, most) = (got.remove(&key), want.remove(&key));
            assert!(n <= most, "{rel}: {key:?} gave {n:?} of {most:?} records");
        }
        assert_eq!(got, want, "{rel}: events per (channel, id)");

        // Every event points at its record, and each record gives one event.
        let mut offsets: Vec<u64> = run
            .events
            .iter()
            .map(|e| match e.origin.as_ref().map(|o| o.at) {
                Some(lateral::model::event::Position::Offset(o)) => o,
                other => panic!("{rel}: origin {other:?}"),
            })
            .collect();
        let n = offsets.len();
        offsets.sort_unstable();
        offsets.dedup();
        assert_eq!(offsets.len(), n, "{rel}: two events share a record");
        let raw = std::fs::read(&path).unwrap();
        for o in &offsets {
            let at = usize::try_from(*o).unwrap();
            assert_eq!(&raw[at..at + 4], b"**\0\0", "{rel}: offset {o}");
        }

        // Computers and times: within the inventory's, and equal when every
        // record is a mapped event.
        let computers = facts["computers"].as_object().unwrap();
        let mut hosts: BTreeMap<String, u64> = BTreeMap::new();
        for e in &run.events {
            *hosts
                .entry(e.host_name.as_deref().unwrap().to_string())
                .or_insert(0) += 1;
        }
        for (h, n) in &hosts {
            let total = computers[h.as_str()].as_u64().unwrap_or(0);
            assert!(*n <= total, "{rel}: host {h} x{n} > {total}");
        }
        let (tmin, tmax) = (
            facts["time_min"].as_str().unwrap(),
            facts["time_max"].as_str().unwrap(),
        );
        for e in &run.events {
            let t = rfc(e.ts);
            assert!(
                t.as_str() >= tmin && t.as_str() <= tmax,
                "{rel}: {t} outside {tmin}..{tmax}"
            );
        }
        if run.events.len() as u64 == records {
            fully_mapped += 1;
            let want: BTreeMap<String, u64> = computers
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect();
            assert_eq!(hosts, want, "{rel}: computers");
            assert_eq!(rfc(run.events[0].ts), tmin, "{rel}: first event");
            assert_eq!(rfc(run.events[n - 1].ts), tmax, "{rel}: last event");
        }

        // Remote addresses: every IpAddress and ClientAddress the inventory
        // counts lands in source.ip, normalised (`::ffff:` stripped), on the
        // events that carry that field (ClientAddress: 4778/4779/4825).
        for (key, n) in facts["addresses"].as_object().unwrap() {
            let (addr, client) = match (
                key.strip_prefix("IpAddress="),
                key.strip_prefix("ClientAddress="),
            ) {
                (Some(a), _) => (a, false),
                (_, Some(a)) => (a, true),
                _ => panic!("{rel}: {key}"),
            };
            let ip = source_addr(Some(addr)).expect("a remote address");
            let got = run
                .events
                .iter()
                .filter(|e| {
                    e.source_ip == Some(ip)
                        && CLIENT_ADDRESS_IDS.contains(&e.code.unwrap()) == client
                })
                .count() as u64;
            assert_eq!(got, n.as_u64().unwrap(), "{rel}: events from {addr}");
        }
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        for e in run.events.iter().filter(|e| e.code == Some(4624)) {
            *types.entry(e.logon_type.unwrap().to_string()).or_insert(0) += 1;
        }
        let want: BTreeMap<String, u64> = facts["logon_types_4624"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(types, want, "{rel}: 4624 logon types");
    }
    assert!(fully_mapped >= 15, "only {fully_mapped} files fully mapped");
}

/// Field-level checks on real records: what the mapping takes from each
/// event the lateral-movement files hold.
#[test]
fn evtx_fields_from_lateral_movement_files() {
    let Some(dir) = common::corpus_dir("evtx_fields_from_lateral_movement_files") else {
        return;
    };
    let events = |rel: &str| -> Vec<LogEvent> {
        let mut r = read_bytes(std::fs::read(dir.join("logs/evtx/e2m").join(rel)).unwrap());
        r.events
            .sort_by(|a, b| a.ts.cmp(&b.ts).then(a.origin.cmp(&b.origin)));
        r.events
    };
    let ps = events(
        "TA0008-Lateral Movement/T1021.002-SMB Windows Admin Shares/ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx",
    );
    let logon = ps.iter().find(|e| e.code == Some(4624)).unwrap();
    assert_eq!(logon.action, Action::LoggedIn);
    assert_eq!(logon.ts.to_rfc3339(), "2021-04-21T09:40:32.342397Z");
    assert_eq!(logon.logon_type, Some(3));
    assert_eq!(logon.user_name.as_deref(), Some("admmig"));
    assert_eq!(logon.user_domain.as_deref(), Some("OFFSEC.LAN"));
    assert_eq!(logon.source_ip, Some("10.23.42.22".parse().unwrap()));
    assert_eq!(logon.source_port, Some(56661));
    assert_eq!(logon.source_domain, None, "WorkstationName `-` is absent");
    assert_eq!(logon.logon_process(), Some("Kerberos"));
    assert_eq!(logon.auth_method.as_deref(), Some("Kerberos"));
    assert_eq!(logon.host_name.as_deref(), Some("srvdefender01.offsec.lan"));
    let share = ps.iter().find(|e| e.code == Some(5140)).unwrap();
    assert_eq!(share.share_name(), Some("\\\\*\\ADMIN$"));
    let obj = ps
        .iter()
        .find(|e| e.code == Some(5145) && e.share_target().is_some())
        .unwrap();
    assert_eq!(obj.share_target(), Some("PSEXESVC.exe"));
    let svc = ps.iter().find(|e| e.code == Some(4697)).unwrap();
    assert_eq!(svc.action, Action::ServiceInstalled);
    assert_eq!(svc.service_name(), Some("PSEXESVC"));
    assert!(
        svc.process_executable()
            .is_some_and(|p| p.ends_with("PSEXESVC.exe")),
        "{:?}",
        svc.process_executable()
    );
    let proc = ps.iter().find(|e| e.code == Some(4688)).unwrap();
    assert_eq!(proc.action, Action::ProcessCreated);
    assert!(proc.process_executable().is_some());

    let kerb = events(
        "TA0006-Credential Access/T1110.xxx-Brut force/ID4771-Kerberos brutforce with valid user.evtx",
    );
    assert_eq!(kerb.len(), 54);
    for e in &kerb {
        assert_eq!(e.action, Action::KerberosPreauthFailed);
        assert_eq!(e.source_ip, Some("10.23.123.11".parse().unwrap()));
        assert_eq!(e.host_name.as_deref(), Some("rootdc1.offsec.lan"));
    }
    assert_eq!(kerb[0].ts.to_rfc3339(), "2021-12-02T14:54:21.232643Z");

    let ssh = events(
        "TA0006-Credential Access/T1110.xxx-Brut force/ID4625-OpenSSH brutforce with non existing users.evtx",
    );
    let failed = ssh.iter().find(|e| e.code == Some(4625)).unwrap();
    assert_eq!(
        failed.outcome,
        Some(lateral::model::event::Outcome::Failure)
    );
    assert!(
        failed.status().is_some_and(|s| s.contains('/')),
        "Status/SubStatus: {:?}",
        failed.status()
    );
    assert_eq!(failed.source_ip, None, "IpAddress `-` is absent");
    let ntlm = ssh.iter().find(|e| e.code == Some(4776)).unwrap();
    assert_eq!(ntlm.action, Action::NtlmCredentialValidation);
    assert_eq!(ntlm.user_name.as_deref(), Some("NOUSER"));
    assert_eq!(ntlm.source_domain.as_deref(), Some("FS01"), "Workstation");
    assert_eq!(ntlm.status(), Some("0xc0000064"));
    assert_eq!(ntlm.outcome, Some(lateral::model::event::Outcome::Failure));

    let net_use = events(
        "TA0008-Lateral Movement/T1021.002-SMB Windows Admin Shares/ID4688-4648 Lateral movement with net use.evtx",
    );
    let explicit = net_use.iter().find(|e| e.code == Some(4648)).unwrap();
    assert_eq!(explicit.action, Action::ExplicitCredentialLogon);
    assert_eq!(
        explicit.destination_domain.as_deref(),
        Some("fs03vuln.offsec.lan"),
        "TargetServerName"
    );
    assert_eq!(explicit.user_name.as_deref(), Some("hack1"));
    assert_eq!(explicit.subject_user(), Some("admmig"));
    assert_eq!(explicit.source_ip, None, "IpAddress `-` is absent");

    // RDP session hijack: admmig's session RDP-Tcp#8 is disconnected and
    // admmarsid reconnects to it from the same client.
    let hijack = events(
        "TA0008-Lateral Movement/T1021.001-Remote Desktop Protocol/ID4688,4778,4779 RDP hijack direct.evtx",
    );
    let rdp: Vec<&LogEvent> = hijack.iter().filter(|e| e.code != Some(4688)).collect();
    assert_eq!(rdp.len(), 2);
    for (e, code, action, user) in [
        (rdp[0], 4779, "rdp-session-disconnected", "admmig"),
        (rdp[1], 4778, "rdp-session-reconnected", "admmarsid"),
    ] {
        assert_eq!(e.code, Some(code));
        assert_eq!(e.action.as_str(), action);
        assert_eq!(e.category, Some(lateral::model::event::Category::Session));
        assert_eq!(e.user_name.as_deref(), Some(user));
        assert_eq!(e.user_domain.as_deref(), Some("OFFSEC"));
        assert_eq!(e.source_ip, Some("10.23.23.9".parse().unwrap()));
        assert_eq!(e.source_domain.as_deref(), Some("JUMP01"), "ClientName");
        assert_eq!(e.host_name.as_deref(), Some("fs01.offsec.lan"));
        assert_eq!(e.logon_type, Some(10));
        assert_eq!(e.label("session_name"), Some("RDP-Tcp#8"));
    }
    assert_eq!(rdp[0].ts.to_rfc3339(), "2021-05-14T21:01:05.370030Z");
    assert_eq!(rdp[1].ts.to_rfc3339(), "2021-05-14T21:01:05.831748Z");

    let denied = events(
        "TA0008-Lateral Movement/T1021.001-Remote Desktop Protocol/ID4825-Denied RDP connection with valid credentials.evtx",
    );
    assert_eq!(denied.len(), 2);
    for e in &denied {
        assert_eq!(e.action, Action::RdpAccessDenied);
        assert_eq!(
            e.category,
            Some(lateral::model::event::Category::Authentication)
        );
        assert_eq!(e.outcome, Some(lateral::model::event::Outcome::Failure));
        assert_eq!(e.user_name.as_deref(), Some("svc6test1"));
        assert_eq!(e.source_ip, Some("10.23.23.9".parse().unwrap()));
        assert_eq!(e.host_name.as_deref(), Some("fs02.offsec.lan"));
    }

    let sysmon = events(
        "TA0006-Credential Access/T1003-Credential dumping/ID1-12-13-Wdigest authentication activation.evtx",
    );
    assert_eq!(sysmon.len(), 1);
    assert_eq!(sysmon[0].dataset, "windows.sysmon");
    assert_eq!(
        sysmon[0].process_executable(),
        Some("C:\\Windows\\System32\\reg.exe")
    );
    assert_eq!(
        (
            sysmon[0].user_name.as_deref(),
            sysmon[0].user_domain.as_deref()
        ),
        (Some("admmig"), Some("OFFSEC"))
    );
}

/// Where the chunk checksums look: header bytes 0..120 and 128..512, and
/// record bytes 512..free_space_offset.
fn checked_by_crc(raw: &[u8], pos: usize) -> bool {
    if pos < FILE_HEADER_SIZE {
        return false;
    }
    let chunk = (pos - FILE_HEADER_SIZE) / CHUNK_SIZE;
    let start = FILE_HEADER_SIZE + chunk * CHUNK_SIZE;
    let within = pos - start;
    let Some(h) = raw.get(start..start + 512) else {
        return false;
    };
    let flags = u32::from_le_bytes(h[120..124].try_into().unwrap());
    if !h.starts_with(b"ElfChnk\0") || flags & 4 != 0 {
        return false;
    }
    let free = u32::from_le_bytes(h[48..52].try_into().unwrap()) as usize;
    (8..120).contains(&within) || (128..512).contains(&within) || (512..free).contains(&within)
}

#[test]
fn cut_and_flipped_evtx_never_panic() {
    let Some(dir) = common::corpus_dir("cut_and_flipped_evtx_never_panic") else {
        return;
    };
    let mut cuts_checked = 0;
    let mut flips_detected = 0;
    for (rel, _) in evtx_files(&dir) {
        let raw = std::fs::read(dir.join(&rel)).unwrap();
        let whole = read_bytes(raw.clone());
        assert!(whole.error.is_none() && whole.truncated_at.is_none());
        let len = raw.len();
        let mut cuts = vec![
            0,
            7,
            128,
            FILE_HEADER_SIZE - 1,
            FILE_HEADER_SIZE,
            FILE_HEADER_SIZE + 300,
            FILE_HEADER_SIZE + 512,
            len / 3,
            len / 2,
            len - CHUNK_SIZE / 2,
            len - 1,
        ];
        // Cuts right after and right inside the first few records.
        for e in whole.events.iter().take(3) {
            if let Some(lateral::model::event::Position::Offset(o)) =
                e.origin.as_ref().map(|o| o.at)
            {
                cuts.push(o as usize + 30);
                cuts.push(o as usize);
            }
        }
        for cut in cuts {
            let cut = cut.min(len);
            let r = read_bytes(raw[..cut].to_vec());
            assert!(
                r.error.is_some() || r.truncated_at.is_some() || cut == len,
                "{rel} cut at {cut}: not reported"
            );
            let k = r.events.len();
            assert!(k <= whole.events.len(), "{rel} cut at {cut}");
            assert_eq!(
                r.events[..],
                whole.events[..k],
                "{rel} cut at {cut}: not a prefix"
            );
            cuts_checked += 1;
        }
        // Byte flips at spread-out places: never a panic; where the chunk
        // checksums reach, the input is reported damaged.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
        for i in 0..24 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let pos = if i < 4 {
                FILE_HEADER_SIZE + 512 + i * 97
            } else {
                (seed % len as u64) as usize
            };
            let mut bad = raw.clone();
            bad[pos] ^= 0x5a;
            let r = read_bytes(bad);
            assert!(r.events.len() as u64 <= r.records, "{rel} flip at {pos}");
            if checked_by_crc(&raw, pos) {
                assert!(r.error.is_some(), "{rel}: flip at {pos} not reported");
                flips_detected += 1;
            }
        }
    }
    assert!(cuts_checked > 57 * 10);
    assert!(flips_detected > 57 * 4, "{flips_detected}");
}

/// An EVTX file header (magic and plausible fields), then `tail`.
fn evtx_header_then(tail: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; FILE_HEADER_SIZE];
    v[..8].copy_from_slice(b"ElfFile\0");
    v[32..36].copy_from_slice(&128u32.to_le_bytes());
    v[36..38].copy_from_slice(&1u16.to_le_bytes());
    v[38..40].copy_from_slice(&3u16.to_le_bytes());
    v[40..42].copy_from_slice(&4096u16.to_le_bytes());
    v[42..44].copy_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(tail);
    v
}

fn garbage(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn evtx_header_then_garbage_is_a_clean_error_with_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad, $one.evtx");
    std::fs::write(&bad, evtx_header_then(&garbage(3 * CHUNK_SIZE + 1000))).unwrap();
    let short = dir.path().join("short.evtx");
    std::fs::write(&short, &evtx_header_then(&[])[..2000]).unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(
        &log,
        "Jul 25 10:00:01 srv sshd[811]: Accepted password for tanaka from 10.10.1.12 port 41022 ssh2\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "--year", "2011", "--stats"])
        .arg(&bad)
        .arg(&short)
        .arg(&log)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(!stderr.contains("panick"), "{stderr}");
    let bad_line = stderr
        .lines()
        .find(|l| l.starts_with("lateral: ") && l.contains("bad, $one.evtx:"))
        .unwrap_or_else(|| panic!("no per-file error: {stderr}"));
    assert!(
        bad_line.contains("no readable chunk") && bad_line.contains("chunk 0 at byte 4096"),
        "{bad_line}"
    );
    assert!(
        stderr.contains("short.evtx: EVTX file header cut short: 2000 of 4096 bytes"),
        "{stderr}"
    );
    // The good input is still read.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"tanaka\""));
}

#[test]
fn empty_chunks_are_skipped_and_a_garbage_chunk_is_counted() {
    // Header + one zeroed chunk: a sound, empty log.
    let r = read_bytes(evtx_header_then(&vec![0u8; CHUNK_SIZE]));
    assert!(
        r.error.is_none() && r.truncated_at.is_none(),
        "{:?}",
        r.error
    );
    assert_eq!((r.records, r.events.len()), (0, 0));
    // Zeroed chunk, garbage chunk, zeroed chunk: the garbage is counted at its offset.
    let mut tail = vec![0u8; CHUNK_SIZE];
    tail.extend(garbage(CHUNK_SIZE));
    tail.extend(vec![0u8; CHUNK_SIZE]);
    let r = read_bytes(evtx_header_then(&tail));
    assert_eq!(r.diag.counts.get("EVTX chunk unreadable"), Some(&1));
    let s = &r.diag.samples["EVTX chunk unreadable"][0];
    assert_eq!(
        s.origin.at,
        lateral::model::event::Position::Offset((FILE_HEADER_SIZE + CHUNK_SIZE) as u64)
    );
    assert!(r.error.unwrap().contains("chunk 1 at byte 69632"));
}

fn corpus_file(dir: &Path) -> PathBuf {
    dir.join("logs/evtx/e2m/TA0006-Credential Access/T1555-Credentials from Password Stores/ID5145-user file-credentials-browser dump via network share.evtx")
}

#[test]
fn compressed_evtx_on_stdin_reads_like_the_file() {
    let Some(dir) = common::corpus_dir("compressed_evtx_on_stdin_reads_like_the_file") else {
        return;
    };
    let path = corpus_file(&dir);
    let raw = std::fs::read(&path).unwrap();
    let plain = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "-q"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(0));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lateral"))
        .args(["events", "-q", "--threads", "1", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&gz));
    let piped = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert_eq!(
        piped.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let name = serde_json::to_string(path.to_str().unwrap()).unwrap();
    // The path names the input in log.file.path and starts each event.id.
    let bare = name.trim_matches('"');
    let expected = String::from_utf8(plain.stdout)
        .unwrap()
        .replace(&name, "\"-\"")
        .replace(&format!("\"{bare}@"), "\"-@");
    assert_eq!(String::from_utf8(piped.stdout).unwrap(), expected);
    assert_eq!(expected.lines().count(), 349);
}
