//! Detection throughput: a day of a 10,000-host network (100,000 flows in
//! a generated capture: each host's routine with the domain controller,
//! the file server, an intranet server, the web and one peer, twice a day,
//! plus 50 hosts reaching a peer they never used; 40,000 Windows logons as
//! JSON Lines, with 4672s for the file server's admins and a few service
//! installs), read as `lateral analyze` reads it, then profiled and judged.
//! The bar: profiling plus detection takes less time than reading.
//!
//! Run: `cargo bench --bench detect`. Benchmarks:
//! - `detect/read`: capture parse, flow assembly and log parsing from files
//!   (`pipeline::run_events`, one thread, warm page cache);
//! - `detect/learned_profile_and_detect`: `analyze::analyze` with the
//!   default 60% learning split (every record is profiled or judged once);
//! - `detect/stored_profiles_and_detect`: profiles built with
//!   `profile::build_parallel` over the first 60%, then every detector over
//!   the rest through `ProfilesView` (the `--baseline` path, build included);
//! - `detect/logs_only_read` and `detect/logs_only_learned_profile_and_detect`:
//!   the same two stages over the day's logon log alone (10,000 hosts known
//!   by name from their logons, no capture to put addresses to them);
//! - `detect/logs_only_sweep_against_baseline`: the nightly sweep, the whole
//!   day's logon log judged against stored profiles (those of its first 60%,
//!   built once outside the measurement): today's directory, the view of
//!   the baseline and every detector.
//!
//! The `detect_lanl` group measures the same two stages on the hardest log
//! input there is for them: LANL-shaped auth.txt lines
//! ([`lateral::synth::lanl_auth`], 400,000 by default, or
//! `LATERAL_DETECT_LANL_LINES`) whose accounts, sources and destinations
//! are drawn uniformly from 29,000 accounts and 17,000 computers, so almost
//! every logon is a triple never seen before and profiles and alerts grow
//! with the records (the bar above is not claimed there; the figures are
//! in docs/speed.md).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lateral::analyze::{Learning, analyze, analyze_against_profiles};
use lateral::collect::pipeline::{EventRun, FlowRunOptions, LogOptions, run_events};
use lateral::config::Config;
use lateral::input::InputPath;
use lateral::model::event::Timestamp;
use lateral::synth::pcap_writer::{CaptureKind, CaptureWriter};
use lateral::synth::tcp_session::TcpSession;
use std::hint::black_box;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::AtomicU64;

/// The allocator the `lateral` binary uses (`src/main.rs`): every stage is
/// timed as the tool runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOSTS: u32 = 10_000;
/// Flows per host in the day: five kinds of routine, each twice.
const FLOWS_PER_HOST: u32 = 10;
/// Hosts that also reach a peer they never used (the day's novelties).
const NOVEL: u32 = 50;
/// 2024-03-04T00:00:00Z.
const DAY: i64 = 1_709_510_400;

fn host(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + 0x100 + i)
}

/// Writes the day's capture and logon log into `dir`; returns their paths.
fn write_day(dir: &std::path::Path) -> Vec<InputPath> {
    let servers = [
        Ipv4Addr::new(10, 0, 0, 5),
        Ipv4Addr::new(10, 0, 0, 10),
        Ipv4Addr::new(10, 0, 0, 20),
    ];
    let web = Ipv4Addr::new(93, 184, 216, 34);
    let total = HOSTS * FLOWS_PER_HOST;
    let step = 86_400_000_000_000i64 / i64::from(total);
    let pcap = dir.join("day.pcap");
    let file = std::io::BufWriter::new(std::fs::File::create(&pcap).unwrap());
    let mut w = CaptureWriter::new(
        file,
        CaptureKind::Pcap {
            nanos: false,
            big_endian: false,
        },
        1,
        65_535,
    )
    .unwrap();
    let mut frames: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let mut log = String::new();
    for k in 0..total {
        let i = k % HOSTS;
        let round = k / HOSTS;
        let kind = round % 5;
        let t = Timestamp(DAY * 1_000_000_000 + i64::from(k) * step);
        let src = host(i);
        let (dst, port) = match kind {
            0 => (servers[0], 88),
            1 => (servers[1], 445),
            2 => (servers[2], 80),
            3 => (web, 443),
            // One fixed peer per host over SMB; in the last round a few hosts
            // reach a peer they never used: rare edges the detectors must weigh.
            _ if round == FLOWS_PER_HOST - 1 && i.is_multiple_of(HOSTS / NOVEL) => {
                (host((i * 31 + 7) % HOSTS), 445)
            }
            _ => (host((i * 7919 + 13) % HOSTS), 445),
        };
        let mut s = TcpSession::new(
            SocketAddr::V4(SocketAddrV4::new(src, 40_000 + (k % 20_000) as u16)),
            SocketAddr::V4(SocketAddrV4::new(dst, port)),
            k,
            k.wrapping_mul(3),
        );
        let mut sink = |ts: Timestamp, f: &[u8]| frames.push((ts, f.to_vec()));
        let t2 = s.handshake(t, &mut sink);
        let t3 = s.send(t2, true, 300 + (k % 700) as usize, &mut sink);
        let t4 = s.send(t3, false, 800, &mut sink);
        s.close(t4, true, &mut sink);
        for (ts, f) in frames.drain(..) {
            w.write_packet(ts, &f, f.len() as u32).unwrap();
        }
        if kind == 1 || kind == 4 {
            let server = if kind == 1 {
                "FILES".to_string()
            } else {
                format!("WS-{}", (i * 7919 + 13) % HOSTS)
            };
            log.push_str(&format!(
                "{{\"@timestamp\":\"{}\",\"winlog\":{{\"event_id\":4624,\"computer_name\":\"{server}\",\"event_data\":{{\"TargetUserName\":\"user{i}\",\"LogonType\":\"3\",\"IpAddress\":\"{src}\",\"WorkstationName\":\"WS-{i}\",\"AuthenticationPackageName\":\"Kerberos\"}}}}}}\n",
                t.to_rfc3339()
            ));
            // One user in twenty administers the file server (4672 with the
            // logon); one host in five hundred installs a service on its peer
            // after logging on to it (7045, the PsExec pattern).
            if kind == 1 && i.is_multiple_of(20) {
                log.push_str(&format!(
                    "{{\"@timestamp\":\"{}\",\"winlog\":{{\"event_id\":4672,\"computer_name\":\"{server}\",\"event_data\":{{\"SubjectUserName\":\"user{i}\",\"SubjectDomainName\":\"CORP\"}}}}}}\n",
                    t.to_rfc3339()
                ));
            }
            if kind == 4 && i.is_multiple_of(500) {
                log.push_str(&format!(
                    "{{\"@timestamp\":\"{}\",\"winlog\":{{\"event_id\":7045,\"channel\":\"System\",\"computer_name\":\"{server}\",\"event_data\":{{\"ServiceName\":\"svc{i}\",\"ImagePath\":\"C:\\\\Windows\\\\svc{i}.exe\"}}}}}}\n",
                    t.to_rfc3339()
                ));
            }
        }
    }
    w.finish().unwrap().flush().unwrap();
    let logs = dir.join("security.jsonl");
    std::fs::write(&logs, log).unwrap();
    vec![InputPath::File(pcap), InputPath::File(logs)]
}

fn read(paths: &[InputPath]) -> EventRun {
    let opts = FlowRunOptions::default();
    run_events(
        paths,
        Vec::new(),
        &opts,
        &LogOptions::default(),
        &AtomicU64::new(0),
    )
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_day(dir.path());
    let run = read(&paths);
    let flows = run.flows.to_vec().unwrap();
    let events = run.events.clone();
    let count = |action: &str| {
        events
            .iter()
            .filter(|e| e.action.as_str() == action)
            .count()
    };
    assert_eq!(count("special-privileges-assigned"), 1_000);
    assert_eq!(count("service-installed"), 40);
    let records = (flows.len() + events.len()) as u64;
    assert!(flows.len() as u32 >= HOSTS * FLOWS_PER_HOST);
    let cfg = Config::default();
    let once = analyze(&flows, &events, Learning::Fraction(0.6), &cfg);
    eprintln!(
        "detect bench: {} flows, {} events; read {:.3}s, profile {:.3}s, detect {:.3}s, {} alerts, {} incidents",
        flows.len(),
        events.len(),
        run.secs,
        once.profile_secs,
        once.detect_secs,
        once.alerts.len(),
        once.incidents.len()
    );
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records));
    g.bench_function("read", |b| b.iter(|| black_box(read(&paths).flows.len())));
    g.bench_function("learned_profile_and_detect", |b| {
        b.iter(|| {
            black_box(
                analyze(&flows, &events, Learning::Fraction(0.6), &cfg)
                    .alerts
                    .len(),
            )
        })
    });
    g.bench_function("stored_profiles_and_detect", |b| {
        b.iter(|| {
            let cut = lateral::analyze::cut_point(
                Learning::Fraction(0.6),
                Some((flows[0].ts, flows[flows.len() - 1].ts)),
            );
            let fc = flows.partition_point(|f| f.ts < cut);
            let ec = events.partition_point(|e| e.ts < cut);
            let hosts = std::sync::Arc::new(lateral::hosts::build_directory(&events[..ec], None));
            let profiles =
                lateral::profile::build_parallel(hosts.clone(), &flows[..fc], &events[..ec]);
            let a = analyze_against_profiles(
                &flows[fc..],
                &events[ec..],
                &profiles,
                &hosts,
                Some((flows[0].ts, cut)),
                &cfg,
            );
            black_box(a.alerts.len())
        })
    });
    let logs = &paths[1..];
    let log_run = read(logs);
    let log_events = log_run.events.clone();
    assert!(log_run.flows.is_empty() && log_events.len() == events.len());
    let once = analyze(&[], &log_events, Learning::Fraction(0.6), &cfg);
    eprintln!(
        "detect bench, logs only: {} events; read {:.3}s, profile {:.3}s, detect {:.3}s, {} alerts",
        log_events.len(),
        log_run.secs,
        once.profile_secs,
        once.detect_secs,
        once.alerts.len(),
    );
    g.throughput(Throughput::Elements(log_events.len() as u64));
    g.bench_function("logs_only_read", |b| {
        b.iter(|| black_box(read(logs).events.len()))
    });
    g.bench_function("logs_only_learned_profile_and_detect", |b| {
        b.iter(|| {
            black_box(
                analyze(&[], &log_events, Learning::Fraction(0.6), &cfg)
                    .alerts
                    .len(),
            )
        })
    });
    // The nightly sweep: the whole day's logs judged against a stored
    // baseline (here the profiles of the day's first 60%, built once, as
    // `lateral baseline build` stores them).
    let cut = lateral::analyze::cut_point(
        Learning::Fraction(0.6),
        Some((log_events[0].ts, log_events[log_events.len() - 1].ts)),
    );
    let ec = log_events.partition_point(|e| e.ts < cut);
    let stored_hosts =
        std::sync::Arc::new(lateral::hosts::build_directory(&log_events[..ec], None));
    let stored = lateral::profile::build_parallel(stored_hosts.clone(), &[], &log_events[..ec]);
    let period = Some((log_events[0].ts, cut));
    g.bench_function("logs_only_sweep_against_baseline", |b| {
        b.iter(|| {
            let a =
                analyze_against_profiles(&[], &log_events, &stored, &stored_hosts, period, &cfg);
            black_box(a.alerts.len())
        })
    });
    g.finish();
}

fn bench_lanl(c: &mut Criterion) {
    let lines = std::env::var("LATERAL_DETECT_LANL_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400_000u64);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.txt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    lateral::synth::lanl_auth::auth_lines(lines, &mut out).unwrap();
    out.flush().unwrap();
    drop(out);
    let paths = vec![InputPath::File(path)];
    let run = read(&paths);
    let events = run.events.clone();
    assert_eq!(events.len() as u64, lines);
    let cfg = Config::default();
    let once = analyze(&[], &events, Learning::Fraction(0.6), &cfg);
    eprintln!(
        "detect bench, LANL-shaped: {} events; read {:.3}s, profile {:.3}s, detect {:.3}s, {} alerts",
        events.len(),
        run.secs,
        once.profile_secs,
        once.detect_secs,
        once.alerts.len(),
    );
    let mut g = c.benchmark_group("detect_lanl");
    g.sample_size(10);
    g.throughput(Throughput::Elements(lines));
    g.bench_function("read", |b| b.iter(|| black_box(read(&paths).events.len())));
    g.bench_function("learned_profile_and_detect", |b| {
        b.iter(|| {
            black_box(
                analyze(&[], &events, Learning::Fraction(0.6), &cfg)
                    .alerts
                    .len(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_lanl);
criterion_main!(benches);
