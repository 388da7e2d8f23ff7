//! The scenario generator behind `lateral gen --scenario diet|contractor|spray|quiet`:
//! a realistic enterprise network under attack, written as a capture, server
//! logs and the ground truth, so that detectors can be scored. It sits
//! beside the pipeline, producing the inputs the sources read.
//!
//! - [`network`]: the hosts, their roles, addresses, names and users;
//! - [`benign`]: routine traffic (working days, nights and weekends,
//!   admins, backups, the weekly scan) and its log records;
//! - [`attack`]: the scenarios' steps and the benign novelties;
//! - [`emit`]: frames and records of one task and one time bucket;
//! - [`logs`]: Windows event and syslog records and their writers;
//! - [`truth`]: the ground truth file.
//!
//! Time is cut into ten-minute buckets. For each bucket every host's
//! activity is generated in parallel from a random stream seeded by
//! (seed, host, bucket), the frames are sorted by time and written;
//! frames of conversations that run on into later buckets are carried
//! over. Memory is bounded by one bucket's traffic, and the same arguments
//! always give byte-identical files, whatever the thread count.
//!
//! # Output directory
//!
//! - `capture.pcap` (and/or `capture.pcapng`; `.gz` with `--gzip`): Ethernet,
//!   microseconds, in time order;
//! - `logs/<host>.security.jsonl`, `logs/<host>.system.jsonl`: Windows
//!   servers' Security and System events, Winlogbeat shape;
//! - `logs/<host>.auth.log`: Linux servers' sshd/pam/sudo lines,
//!   RFC 3339 high-precision syslog timestamps;
//! - `zeek/conn.log` with `--zeek`: the capture's connections as Zeek TSV;
//! - `truth.json`: the ground truth.
//!
//! # `truth.json`
//!
//! ```json
//! {"scenario": "diet", "seed": 1, "hosts": 200, "days": 7.0,
//!  "start": "2011-07-25T00:00:00.000000Z", "end": "2011-08-01T00:00:00.000000Z",
//!  "internal_networks": ["10.10.0.0/16"],
//!  "hosts_table": [{"ip": "10.10.1.10", "name": "dc01", "role": "domain_controller"}, ...],
//!  "steps": [{"id": "diet-4", "kind": "lateral", "technique": "T1021.002",
//!             "technique_name": "SMB/Windows Admin Shares",
//!             "source": "10.10.16.7", "source_name": "ws-007",
//!             "destination": "10.10.1.50", "destination_name": "srv-chamber",
//!             "port": 445, "user": "gsato",
//!             "first": "...Z", "last": "...Z", "description": "..."}],
//!  "benign_novelties": [{"id": "benign-1", "kind": "benign", "technique": null, ...}]}
//! ```
//!
//! - `hosts` counts internal hosts; `hosts_table` lists them (roles:
//!   `domain_controller`, `file_server`, `mail_server`, `proxy`,
//!   `chamber_server`, `backup_server`, `vulnerability_scanner`,
//!   `deployment_server`, `linux_server`, `admin_workstation`,
//!   `workstation`) and then the external hosts that steps name (role
//!   `external`). Every step's `source` and `destination` is in it.
//! - `kind` is one of `lateral`, `beacon`, `credential`, `execution`,
//!   `exfil`, `recon` (steps) or `benign` (novelties).
//! - `destination`, `destination_name`, `port` and `user` are null when a
//!   step touches many hosts or no account; `technique` and
//!   `technique_name` are null for benign novelties.
//! - `first` and `last` are the times of the step's first and last packet
//!   or log record (RFC 3339 UTC, microseconds). Steps are in time order.
//! - An alert matches a step when its `source.ip` (or `related.ip`) and
//!   `destination.ip` name the step's hosts and its time span overlaps
//!   `first..last`.

pub mod attack;
pub mod benign;
pub mod emit;
pub mod logs;
pub mod network;
pub mod shape;
pub mod truth;

use crate::model::event::{Duration, NANOS_PER_SEC, Timestamp};
use crate::scenario::emit::{FrameBuf, Out};
use crate::scenario::logs::{LogRec, LogWriter};
use crate::scenario::network::Network;
use crate::synth::bulk::Rng;
use crate::synth::pcap_writer::{CaptureKind, CaptureWriter};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The attack (or its absence) to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scenario {
    /// Three lawmakers' workstations beacon out, then PsExec and RDP onto
    /// the chamber server, which reaches the domain controller and stages
    /// data on the file server.
    Diet,
    /// Slow SSH pivoting through Linux servers at night, hop by hop.
    Contractor,
    /// A password spray from one workstation, a success, then RDP onward.
    Spray,
    /// No attack: only routine traffic and benign novelties.
    Quiet,
}

impl Scenario {
    /// The scenario's name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Diet => "diet",
            Scenario::Contractor => "contractor",
            Scenario::Spray => "spray",
            Scenario::Quiet => "quiet",
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenSpec {
    /// The scenario.
    pub scenario: Scenario,
    /// Internal hosts wanted (at least [`network::MIN_HOSTS`] are made).
    pub hosts: usize,
    /// Length of the scenario.
    pub span: Duration,
    /// Seed of every random choice.
    pub seed: u64,
    /// Write `capture.pcap`.
    pub pcap: bool,
    /// Write `capture.pcapng`.
    pub pcapng: bool,
    /// Write `zeek/conn.log`.
    pub zeek: bool,
    /// Compress the capture with gzip (`capture.pcap.gz`), as `testdata/diet` is shipped.
    pub gzip: bool,
    /// The network's shape: [`shape::Shape::classic`] unless drawn with `--vary`.
    pub shape: shape::Shape,
}

/// A capture file, plain or gzip-compressed.
enum CaptureFile {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

impl Write for CaptureFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            CaptureFile::Plain(w) => w.write(buf),
            CaptureFile::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            CaptureFile::Plain(w) => w.flush(),
            CaptureFile::Gzip(w) => w.flush(),
        }
    }
}

impl CaptureFile {
    fn finish(self) -> io::Result<()> {
        match self {
            CaptureFile::Plain(mut w) => w.flush(),
            CaptureFile::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenSummary {
    /// Frames in the capture.
    pub packets: u64,
    /// Bytes of the capture file (the pcap when both are written).
    pub capture_bytes: u64,
    /// Log records written.
    pub log_records: u64,
    /// Bytes of logs.
    pub log_bytes: u64,
    /// Internal hosts.
    pub hosts: usize,
    /// Attack steps.
    pub steps: usize,
    /// Benign novelties.
    pub novelties: usize,
    /// Files written, relative to the output directory.
    pub files: Vec<PathBuf>,
}

/// Length of one generation bucket.
pub const BUCKET: Duration = Duration::from_secs(600);

/// Start of scenarios of a day or more: Monday 2011-07-25T00:00:00Z.
pub const START: Timestamp = Timestamp(1_311_552_000 * NANOS_PER_SEC);

/// Everything decided before the first packet: the network, the span, the
/// attack script and the benign novelties.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What was asked.
    pub spec: GenSpec,
    /// The network.
    pub net: Network,
    /// First instant.
    pub start: Timestamp,
    /// Last instant.
    pub end: Timestamp,
    /// The detection part begins here (60% of the span).
    pub attack_from: Timestamp,
    /// The scripted steps, actions and beacons.
    pub script: attack::Script,
}

impl Plan {
    /// Plans a scenario.
    pub fn new(spec: &GenSpec) -> Plan {
        let net = Network::build_shaped(spec.hosts, spec.seed, &spec.shape);
        let span = Duration(spec.span.0.max(600 * NANOS_PER_SEC));
        // Short runs start at 09:00 so they fall in working hours.
        let start = if span.0 < 86_400 * NANOS_PER_SEC {
            Timestamp(START.0 + 9 * 3600 * NANOS_PER_SEC)
        } else {
            START
        };
        let end = Timestamp(start.0 + span.0);
        let attack_from = Timestamp(start.0 + span.0 / 10 * 6);
        let script = attack::plan(
            spec.scenario,
            &net,
            spec.seed,
            start,
            end,
            attack_from,
            &spec.shape,
        );
        Plan {
            spec: *spec,
            net,
            start,
            end,
            attack_from,
            script,
        }
    }

    /// The scenario's length in days.
    pub fn days(&self) -> f64 {
        (self.end.0 - self.start.0) as f64 / (86_400.0 * NANOS_PER_SEC as f64)
    }
}

/// A random stream for one task of one bucket.
pub fn task_rng(seed: u64, task: u64, bucket: u64) -> Rng {
    Rng::new(mix(mix(seed, task), bucket))
}

/// Mixes two numbers into a well-spread seed (splitmix64 finaliser).
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(b)
        .wrapping_add(0x6a09_e667_f3bc_c909);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn io_err(path: &Path, source: io::Error) -> crate::Error {
    crate::Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Generates a scenario into `dir` (created if missing).
pub fn generate(spec: &GenSpec, dir: &Path) -> Result<GenSummary, crate::Error> {
    let plan = Plan::new(spec);
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| io_err(dir, e))?;
    let mut summary = GenSummary {
        hosts: plan.net.internal_count(),
        ..GenSummary::default()
    };
    let open = |name: &str| -> Result<CaptureWriter<CaptureFile>, crate::Error> {
        let kind = if name.ends_with("ng") {
            CaptureKind::PcapNg { big_endian: false }
        } else {
            CaptureKind::Pcap {
                nanos: false,
                big_endian: false,
            }
        };
        let name = if spec.gzip {
            format!("{name}.gz")
        } else {
            name.to_string()
        };
        let path = dir.join(&name);
        let f = File::create(&path).map_err(|e| io_err(&path, e))?;
        let f = BufWriter::with_capacity(4 << 20, f);
        let file = if spec.gzip {
            CaptureFile::Gzip(flate2::GzBuilder::new().write(f, flate2::Compression::new(6)))
        } else {
            CaptureFile::Plain(f)
        };
        CaptureWriter::new(file, kind, 1, 65_535).map_err(|e| io_err(&path, e))
    };
    let gz = if spec.gzip { ".gz" } else { "" };
    let mut pcap = if pcap_written(spec) {
        summary.files.push(format!("capture.pcap{gz}").into());
        Some(open("capture.pcap")?)
    } else {
        None
    };
    let mut pcapng = if spec.pcapng {
        summary.files.push(format!("capture.pcapng{gz}").into());
        Some(open("capture.pcapng")?)
    } else {
        None
    };
    let log_dir = dir.join("logs");
    let mut logs = LogWriter::new(&log_dir).map_err(|e| io_err(&log_dir, e))?;
    let mut steps = plan.script.steps.clone();
    // The generator runs in the network's local time; files are in UTC.
    let shift = spec.shape.output_shift();
    let n_tasks = plan.net.hosts.len() as u64 + 1;
    let buckets = (plan.end.0 - plan.start.0 + BUCKET.0 - 1) / BUCKET.0;
    let mut carry = FrameBuf::default();
    let mut carry_logs: Vec<LogRec> = Vec::new();
    let cap_err = |e| io_err(&dir.join("capture.pcap"), e);
    for b in 0..buckets {
        let b0 = Timestamp(plan.start.0 + b * BUCKET.0);
        let b1 = Timestamp((b0.0 + BUCKET.0).min(plan.end.0));
        let last_bucket = b + 1 == buckets;
        let outs: Vec<Out> = (0..n_tasks)
            .into_par_iter()
            .map(|task| {
                let mut out = Out::new(task_rng(spec.seed, task, b as u64));
                if task + 1 < n_tasks {
                    benign::host_bucket(&plan, task as usize, b0, b1, &mut out);
                } else {
                    attack::bucket(&plan, b0, b1, &mut out);
                }
                out
            })
            .collect();
        // Frames: merge by time; those beyond this bucket wait for the next.
        let mut order: Vec<(i64, u32, u32)> = Vec::with_capacity(
            carry.index.len() + outs.iter().map(|o| o.frames.index.len()).sum::<usize>(),
        );
        for (k, e) in carry.index.iter().enumerate() {
            order.push((e.0, 0, k as u32));
        }
        for (i, o) in outs.iter().enumerate() {
            for (k, e) in o.frames.index.iter().enumerate() {
                order.push((e.0, i as u32 + 1, k as u32));
            }
        }
        order.par_sort_unstable();
        let mut next = FrameBuf::default();
        for &(ts, bi, k) in &order {
            let buf = if bi == 0 {
                &carry
            } else {
                match outs.get(bi as usize - 1) {
                    Some(o) => &o.frames,
                    None => continue,
                }
            };
            let f = buf.frame(k as usize);
            let out_ts = Timestamp(ts - shift);
            if ts < b1.0 || last_bucket {
                if let Some(w) = pcap.as_mut() {
                    w.write_packet(out_ts, f, f.len() as u32).map_err(cap_err)?;
                }
                if let Some(w) = pcapng.as_mut() {
                    w.write_packet(out_ts, f, f.len() as u32).map_err(cap_err)?;
                }
                summary.packets += 1;
                summary.capture_bytes += 16 + f.len() as u64;
            } else {
                next.push(Timestamp(ts), f);
            }
        }
        carry = next;
        // Logs: the same, per record.
        let mut recs = std::mem::take(&mut carry_logs);
        let mut outs = outs;
        for o in &mut outs {
            recs.append(&mut o.logs);
            for s in &o.steps {
                if let Some(st) = steps.get_mut(s.step) {
                    st.first = Some(st.first.map_or(s.first, |f| f.min(s.first)));
                    st.last = Some(st.last.map_or(s.last, |l| l.max(s.last)));
                }
            }
        }
        drop(outs);
        recs.sort_by_key(|r| r.ts);
        let split = if last_bucket {
            recs.len()
        } else {
            recs.partition_point(|r| r.ts < b1)
        };
        carry_logs = recs.split_off(split);
        if shift != 0 {
            for r in &mut recs {
                r.ts = Timestamp(r.ts.0 - shift);
            }
        }
        logs.write(&plan.net.hosts, &recs)
            .map_err(|e| io_err(&log_dir, e))?;
    }
    summary.log_records = logs.records;
    summary.log_bytes = logs.bytes;
    logs.finish().map_err(|e| io_err(&log_dir, e))?;
    if let Some(w) = pcap {
        w.finish().and_then(CaptureFile::finish).map_err(cap_err)?;
    }
    if let Some(w) = pcapng {
        w.finish().and_then(CaptureFile::finish).map_err(cap_err)?;
    }
    for dirent in std::fs::read_dir(&log_dir)
        .map_err(|e| io_err(&log_dir, e))?
        .flatten()
    {
        summary
            .files
            .push(PathBuf::from("logs").join(dirent.file_name()));
    }
    if spec.zeek {
        let gz = if spec.gzip { ".gz" } else { "" };
        let cap = if pcap_written(spec) {
            dir.join(format!("capture.pcap{gz}"))
        } else {
            dir.join(format!("capture.pcapng{gz}"))
        };
        write_zeek(&cap, &dir.join("zeek"))?;
        summary.files.push("zeek/conn.log".into());
    }
    let utc = |t: Timestamp| Timestamp(t.0 - shift);
    for st in &mut steps {
        st.first = st.first.map(utc);
        st.last = st.last.map(utc);
    }
    let truth = truth::build(
        spec.scenario.name(),
        spec.seed,
        &plan.net,
        plan.days(),
        utc(plan.start),
        utc(plan.end),
        &steps,
        &spec.shape,
    );
    summary.steps = truth.steps.len();
    summary.novelties = truth.benign_novelties.len();
    let path = dir.join("truth.json");
    let mut text =
        serde_json::to_vec_pretty(&truth).map_err(|e| io_err(&path, io::Error::other(e)))?;
    text.push(b'\n');
    std::fs::write(&path, text).map_err(|e| io_err(&path, e))?;
    summary.files.push("truth.json".into());
    summary.files.sort();
    Ok(summary)
}

fn pcap_written(spec: &GenSpec) -> bool {
    spec.pcap || !spec.pcapng
}

/// Reads the written capture back with the flow pipeline and writes its
/// connections as Zeek conn.log TSV.
fn write_zeek(capture: &Path, dir: &Path) -> Result<(), crate::Error> {
    use crate::report::conn_log::{self, ConnFormat};
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let opts = crate::collect::pipeline::FlowRunOptions::default();
    let run = crate::collect::pipeline::run_flows(
        &[crate::input::InputPath::File(capture.to_path_buf())],
        Vec::new(),
        &opts,
        &std::sync::atomic::AtomicU64::new(0),
    );
    let path = dir.join("conn.log");
    let f = File::create(&path).map_err(|e| io_err(&path, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, f);
    let mut buf = Vec::with_capacity(1 << 20);
    conn_log::write_zeek_header(run.flows.first_ts(), &mut buf);
    run.flows
        .for_each(|fl| {
            conn_log::write_row(ConnFormat::Zeek, fl, &mut buf);
            if buf.len() >= 1 << 20 {
                out.write_all(&buf)?;
                buf.clear();
            }
            Ok(())
        })
        .map_err(|e| io_err(&path, e))?;
    conn_log::write_zeek_footer(run.flows.last_ts(), &mut buf);
    out.write_all(&buf).map_err(|e| io_err(&path, e))?;
    out.flush().map_err(|e| io_err(&path, e))
}
