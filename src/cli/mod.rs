//! Command line: flags become validated options once, the library does the
//! work, and the outcome becomes an exit code. Only this module and
//! `main.rs` see argv, stdout and `anyhow`.

pub(crate) mod analyze_cmd;
pub(crate) mod baseline;
pub(crate) mod input_messages;
pub(crate) mod output;
pub(crate) mod progress;
pub(crate) mod report_cmd;
pub(crate) mod summary;

use crate::cli::progress::Progress;
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use lateral::collect::pipeline::{FlowRun, FlowRunOptions, run_flows, total_size};
use lateral::input;
use lateral::model::event::Duration;
use lateral::report::conn_log::{self, ConnFormat};
use lateral::source::capture_flows::CaptureOptions;
use lateral::source::flow_table::FlowConfig;
use lateral::stats::{human_bytes, human_micros, human_rate, line};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status: every input was read completely.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: the run could not go on (output unwritable, internal error).
pub const EXIT_FATAL: u8 = 1;
/// Exit status: bad command line.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: finished, but some input was unreadable, truncated or corrupt.
pub const EXIT_PARTIAL: u8 = 3;

/// Largest `--threads` accepted.
const MAX_THREADS: u64 = 1024;

/// Threads used per core at most: `--threads` above this many per core is lowered.
const THREADS_PER_CORE: usize = 4;

const EXIT_HELP: &str = "Exit status:
  0  clean: every input was read completely
  1  fatal: the run could not finish (e.g. output could not be written)
  2  usage: the command line is wrong
  3  partial: output was written, but some input was missing, not a format
     lateral reads, truncated, or corrupt, or gave nothing (every record
     skipped, or none at all), or a directory held no input; also when
     nothing at all could be read (see the warnings on stderr, each naming
     its file). FIFOs, sockets and devices are never opened (use - for a
     pipe). Inside directories, symbolic links are not followed and
     README/*.md/*.yaml/truth.json files are left out, with a note";

/// Find attackers moving between machines in packet captures and server logs.
#[derive(Parser, Debug)]
#[command(name = "lateral", version, about, after_help = EXIT_HELP)]
struct Cli {
    /// Worker threads, 1 to 1024 (default: all cores). More than four per
    /// core cannot help, so a larger number is lowered to that.
    #[arg(long, global = true, value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    threads: Option<u64>,
    /// Replace an existing output file even if it holds a capture, a log or
    /// a baseline. Never allows an output that is also an input, or one
    /// that is a symbolic link.
    #[arg(long, global = true)]
    force: bool,
    /// No progress bar (warnings about unreadable input still print).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read captures and print one Zeek conn.log record per connection.
    #[command(after_help = EXIT_HELP)]
    Flows(FlowsArgs),
    /// Read captures and logs together and print normalised events as ECS JSON Lines.
    #[command(after_help = EXIT_HELP)]
    Events(EventsArgs),
    /// Generate synthetic data with known content.
    Gen(GenArgs),
    /// Score alerts (`analyze --json`) against a generated scenario's truth.json.
    Eval(EvalArgs),
    /// Find lateral movement: learn what is normal, run every detector, rank incidents.
    #[command(after_help = EXIT_HELP)]
    Analyze(analyze_cmd::AnalyzeArgs),
    /// Print the default detection configuration, or check a configuration file.
    Config(analyze_cmd::ConfigArgs),
    /// Build a baseline of per-host profiles from a learning period.
    #[command(subcommand)]
    Baseline(crate::cli::baseline::BaselineCommand),
    /// Read shards of the records to judge into summaries, and merge them
    /// (for `analyze --summary`).
    #[command(subcommand)]
    Summary(crate::cli::summary::SummaryCommand),
    /// Compare today's data with a baseline: what is new (and, with --update, fold it in).
    #[command(after_help = crate::cli::baseline::SWEEP_HELP)]
    Sweep(crate::cli::baseline::SweepArgs),
    /// Show one host's profile from a baseline.
    #[command(after_help = crate::cli::baseline::PROFILE_HELP)]
    Profile(crate::cli::baseline::ProfileArgs),
    /// Re-score stored alerts (`analyze --json`, `sweep --json`) under a
    /// configuration: suppress, rebuild incidents, report, without rereading
    /// the inputs.
    #[command(after_help = EXIT_HELP)]
    Report(report_cmd::ReportArgs),
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The scenario's ground truth (`truth.json` from `lateral gen`).
    #[arg(long)]
    truth: PathBuf,
    /// Alerts as JSON Lines (`lateral analyze --json FILE`), or `-` for standard input.
    alerts: PathBuf,
    /// Minutes an alert may lie outside a step's time span and still match it.
    #[arg(long, default_value_t = 5.0, value_parser = positive_secs)]
    slack_minutes: f64,
    /// Print the score as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// What `-f/--format` names: the format of the log inputs, or, for
/// `lateral events` only, its output (`jsonl`, `parquet`; the same as
/// `--output-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormatFlag {
    /// Read every log input as this format.
    Log(lateral::source::LogFormat),
    /// `lateral events` writes this.
    Output(EventsFormat),
}

/// The `-f/--format` values: every format of the registry, with its help,
/// and the two output formats of `lateral events`.
fn log_format_parser() -> impl clap::builder::TypedValueParser<Value = FormatFlag> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    use lateral::source::LogFormat;
    PossibleValuesParser::new(
        LogFormat::all()
            .map(|f| PossibleValue::new(f.flag()).help(f.spec().help()))
            .chain([
                PossibleValue::new("jsonl")
                    .help("lateral events only: write ECS JSON Lines (--output-format jsonl)"),
                PossibleValue::new("parquet")
                    .help("lateral events only: write a Parquet dataset (--output-format parquet)"),
            ]),
    )
    .try_map(|flag| match flag.as_str() {
        "jsonl" => Ok(FormatFlag::Output(EventsFormat::Jsonl)),
        "parquet" => Ok(FormatFlag::Output(EventsFormat::Parquet)),
        _ => LogFormat::named(&flag)
            .map(FormatFlag::Log)
            .ok_or("not a format of the registry"),
    })
}

/// How log inputs are read: the options every command that reads logs shares.
#[derive(Args, Debug)]
pub(crate) struct LogArgs {
    /// Read every log input as this format instead of sniffing it from its bytes
    /// (captures are always recognised).
    #[arg(long, short = 'f', value_parser = log_format_parser())]
    format: Option<FormatFlag>,
    /// Year of RFC 3164 syslog timestamps (default: each file's modification time,
    /// with lines from later months than that taken as the previous year).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1970..=9999))]
    year: Option<i64>,
    /// Time zone the syslog text was written in, as an offset (`+09:00`, `-0500`, `UTC`).
    #[arg(long, default_value = "UTC", value_parser = parse_offset)]
    timezone: i64,
    /// The instant LANL data sets' time 0 stands for, as RFC 3339
    /// (their real start is not published).
    #[arg(long, default_value = "1970-01-01T00:00:00Z", value_parser = parse_instant)]
    lanl_epoch: lateral::model::event::Timestamp,
}

impl LogArgs {
    /// Refuses an output format given as `--format` to a command other
    /// than `lateral events` (usage error).
    pub(crate) fn only_log_formats(&self, command: &str) -> Result<(), output::Refused> {
        match self.format {
            Some(FormatFlag::Output(f)) => Err(output::Refused(format!(
                "--format {}: an output format of `lateral events`; `lateral {command}` takes --format for its log inputs only",
                if f == EventsFormat::Parquet {
                    "parquet"
                } else {
                    "jsonl"
                }
            ))),
            _ => Ok(()),
        }
    }

    /// The validated options the library takes.
    pub(crate) fn options(&self) -> lateral::collect::pipeline::LogOptions {
        lateral::collect::pipeline::LogOptions {
            format: match self.format {
                Some(FormatFlag::Log(f)) => Some(f),
                _ => None,
            },
            lanl_epoch: self.lanl_epoch,
            year: self.year,
            utc_offset: self.timezone,
        }
    }
}

#[derive(Args, Debug)]
struct EventsArgs {
    /// Captures and logs (mixed freely; gzip or zstd or not), directories, or `-`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Do not run the SMB, DCE-RPC and NTLM analyzers on captures.
    #[arg(long)]
    no_analyzers: bool,
    #[command(flatten)]
    logs: LogArgs,
    /// Write events here instead of standard output (with `--output-format
    /// parquet`: the dataset directory, required).
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Output format: ECS JSON Lines, or a Parquet dataset (a directory of
    /// `day=YYYY-MM-DD/part-NNNNN.parquet` files; see docs/events.md).
    /// (`--format` names the format of the log inputs.)
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "jsonl")]
    output_format: EventsFormat,
    /// How Parquet files are split into directories: `day` (Hive-style
    /// `day=YYYY-MM-DD/` by the UTC day of @timestamp) or `none`.
    #[arg(long, value_enum, value_name = "HOW")]
    partition_by: Option<PartitionBy>,
    /// Rows per Parquet file at most; a bigger partition gets several
    /// part files.
    #[arg(long, value_name = "N", default_value_t = lateral::collect::parquet_sink::DEFAULT_MAX_ROWS_PER_FILE,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_rows_per_file: u64,
    /// Print per-input statistics to stderr.
    #[arg(long)]
    stats: bool,
    /// Known hosts as CSV `ip,name[,role]` (`#` comments, optional header):
    /// these mappings beat what the data says.
    #[arg(long, value_name = "FILE")]
    hosts: Option<PathBuf>,
    /// Print the host directory (one JSON object per host: IPs, names, role,
    /// evidence) instead of the events.
    #[arg(long)]
    hosts_only: bool,
}

/// What `lateral events` writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventsFormat {
    /// ECS JSON Lines.
    Jsonl,
    /// A Parquet dataset directory.
    Parquet,
}

/// How a Parquet dataset is split into directories.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PartitionBy {
    /// `day=YYYY-MM-DD/` by the UTC day of @timestamp.
    Day,
    /// All files in the output directory.
    None,
}

fn parse_instant(s: &str) -> Result<lateral::model::event::Timestamp, String> {
    lateral::model::event::Timestamp::parse_rfc3339(s)
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time like 2015-01-01T00:00:00Z"))
}

fn parse_offset(s: &str) -> Result<i64, String> {
    lateral::source::syslog::parse_utc_offset(s)
        .ok_or_else(|| format!("{s:?} is not an offset like +09:00, -0500 or UTC"))
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    /// Many interleaved, complete TCP and DNS conversations in one capture
    /// (the throughput benchmark's input); writes the file named by -o.
    Bulk,
    /// The small demonstration capture shipped as testdata/demo.pcap.
    Demo,
    /// A SYN flood from random addresses and ports (--packets SYNs).
    Synflood,
    /// Enterprise network: lawmakers' PCs beacon out, PsExec and RDP onto the
    /// chamber server, which reaches the domain controller; -o names a directory.
    Diet,
    /// Enterprise network: slow SSH pivoting through Linux servers at night.
    Contractor,
    /// Enterprise network: a password spray, a success, then RDP onward.
    Spray,
    /// Enterprise network with no attack (benign novelties only).
    Quiet,
}

#[derive(Args, Debug)]
struct GenArgs {
    /// What to generate.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// Conversations (bulk).
    #[arg(long, default_value_t = 58_000)]
    flows: u64,
    /// Packets, approximately (bulk).
    #[arg(long, default_value_t = 2_700_000)]
    packets: u64,
    /// Seed: the same seed always gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Internal hosts (diet, contractor, spray, quiet).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=12_000))]
    hosts: u64,
    /// Length in days, fractions allowed (diet, contractor, spray, quiet).
    #[arg(long, default_value_t = 7.0, value_parser = positive_secs)]
    days: f64,
    /// Length in hours instead of --days.
    #[arg(long, value_parser = positive_secs, conflicts_with = "days")]
    hours: Option<f64>,
    /// Write capture.pcapng (instead of capture.pcap unless --pcap is also given).
    #[arg(long)]
    pcapng: bool,
    /// Also write capture.pcap when --pcapng is given.
    #[arg(long)]
    pcap: bool,
    /// Also write zeek/conn.log (the capture's connections as Zeek TSV).
    #[arg(long)]
    zeek: bool,
    /// Compress the capture with gzip (capture.pcap.gz).
    #[arg(long)]
    gzip: bool,
    /// Draw the network's shape from the seed (time zone, weekend, address
    /// plan, naming, role mix, admin and infrastructure habits) instead of
    /// the classic one; the shape drawn goes into truth.json.
    #[arg(long)]
    vary: bool,
    /// Output file (bulk, demo, synflood) or directory (the other scenarios).
    #[arg(long, short = 'o')]
    output: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OutFormat {
    /// Zeek conn.log TSV with #separator/#fields/#types headers.
    Zeek,
    /// JSON Lines with Zeek's conn.log field names.
    Jsonl,
}

#[derive(Args, Debug)]
struct FlowsArgs {
    /// Captures (pcap, pcapng; gzip or zstd compressed or not), directories
    /// (read recursively), or `-` for standard input.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "zeek")]
    format: OutFormat,
    /// Write records here instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Print throughput and input statistics to stderr.
    #[arg(long)]
    stats: bool,
    /// Most flows held in memory at once; beyond it the least recently active are ended early.
    #[arg(long, default_value_t = 500_000, value_parser = clap::value_parser!(u64).range(16..))]
    max_flows: u64,
    /// Seconds of inactivity that end a TCP connection.
    #[arg(long, default_value_t = 300.0, value_parser = positive_secs)]
    tcp_timeout: f64,
    /// Seconds of inactivity that end a UDP flow.
    #[arg(long, default_value_t = 60.0, value_parser = positive_secs)]
    udp_timeout: f64,
    /// Seconds of inactivity that end an ICMP or other-protocol flow.
    #[arg(long, default_value_t = 60.0, value_parser = positive_secs)]
    icmp_timeout: f64,
    /// Seconds a TCP connection lingers after FINs or a RST.
    #[arg(long, default_value_t = 5.0, value_parser = positive_secs)]
    close_delay: f64,
    /// Do not run the SMB, DCE-RPC and NTLM analyzers on captures.
    #[arg(long)]
    no_analyzers: bool,
    /// Write Zeek logs into this directory: conn.log, and the analyzers'
    /// smb_mapping.log, smb_files.log, dce_rpc.log and ntlm.log.
    #[arg(long, value_name = "DIR")]
    zeek_dir: Option<PathBuf>,
    /// End each conn.log record with its `community_id` (Community ID v1,
    /// seed 0), as Zeek's community-id-logging policy does.
    #[arg(long)]
    community_id: bool,
}

/// Accepts a positive, finite number of seconds.
fn positive_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 && v < 1e9 {
        Ok(v)
    } else {
        Err(format!("{s} is not a positive number of seconds"))
    }
}

fn secs(v: f64) -> Duration {
    Duration((v * 1e9) as i64)
}

/// Parses the command line, runs it, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_CLEAN
            });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_CLEAN);
            }
            if e.downcast_ref::<output::Refused>().is_some() || is_wrong_content(&e) {
                eprintln!("lateral: {e:#}");
                return ExitCode::from(EXIT_USAGE);
            }
            eprintln!("lateral: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// True when a file of the wrong kind was given (a summary or a partial
/// where a baseline is read): a usage error, not damage.
fn is_wrong_content(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<lateral::baseline::FileError>(),
            Some(lateral::baseline::FileError::WrongContent { .. })
        )
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cli
        .threads
        .map_or(cores, |t| {
            usize::try_from(t)
                .unwrap_or(usize::MAX)
                .min(cores.saturating_mul(THREADS_PER_CORE))
        })
        .max(1);
    let force = cli.force;
    // A second initialisation only fails if a pool exists already, which is harmless.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    match cli.command {
        Command::Flows(args) => flows(args, threads, cli.quiet, force),
        Command::Events(args) => events(args, threads, cli.quiet, force),
        Command::Gen(args) => generate(args, cli.quiet, force),
        Command::Eval(args) => eval(args),
        Command::Analyze(args) => analyze_cmd::analyze_cmd(args, threads, cli.quiet, force),
        Command::Config(args) => analyze_cmd::config(args),
        Command::Baseline(crate::cli::baseline::BaselineCommand::Build(args)) => {
            crate::cli::baseline::build(args, threads, cli.quiet, force)
        }
        Command::Baseline(crate::cli::baseline::BaselineCommand::Info(args)) => {
            crate::cli::baseline::info(args)
        }
        Command::Baseline(crate::cli::baseline::BaselineCommand::Merge(args)) => {
            crate::cli::baseline::merge(args, force)
        }
        Command::Summary(crate::cli::summary::SummaryCommand::Build(args)) => {
            crate::cli::summary::build(args, threads, cli.quiet, force)
        }
        Command::Summary(crate::cli::summary::SummaryCommand::Merge(args)) => {
            crate::cli::summary::merge(args, force)
        }
        Command::Sweep(args) => crate::cli::baseline::sweep(args, threads, cli.quiet, force),
        Command::Profile(args) => crate::cli::baseline::profile(args),
        Command::Report(args) => report_cmd::report_cmd(args, cli.quiet, force),
    }
}

fn generate(args: GenArgs, quiet: bool, force: bool) -> anyhow::Result<u8> {
    use lateral::scenario::Scenario as S;
    let scenario = match args.scenario {
        Scenario::Diet => Some(S::Diet),
        Scenario::Contractor => Some(S::Contractor),
        Scenario::Spray => Some(S::Spray),
        Scenario::Quiet => Some(S::Quiet),
        _ => None,
    };
    let out = output::Output {
        flag: "-o",
        path: &args.output,
        kind: if scenario.is_some() {
            output::Kind::Directory
        } else {
            output::Kind::File
        },
    };
    output::check(&[out], &output::Inputs::default(), force)?;
    if let Some(scenario) = scenario {
        let secs = args.hours.map_or(args.days * 86_400.0, |h| h * 3600.0);
        let spec = lateral::scenario::GenSpec {
            scenario,
            hosts: args.hosts as usize,
            span: Duration((secs.min(400.0 * 86_400.0) * 1e9) as i64),
            seed: args.seed,
            pcap: args.pcap,
            pcapng: args.pcapng,
            zeek: args.zeek,
            gzip: args.gzip,
            shape: if args.vary {
                lateral::scenario::shape::Shape::draw(args.seed)
            } else {
                lateral::scenario::shape::Shape::classic()
            },
        };
        let start = std::time::Instant::now();
        let s = lateral::scenario::generate(&spec, &args.output)?;
        let secs = start.elapsed().as_secs_f64();
        if !quiet {
            eprintln!(
                "lateral gen: {} hosts, {} attack steps, {} benign novelties; {} packets ({}), {} log records ({}) in {:.1}s ({:.0} MB/s) into {}",
                s.hosts,
                s.steps,
                s.novelties,
                s.packets,
                human_bytes(s.capture_bytes),
                s.log_records,
                human_bytes(s.log_bytes),
                secs,
                (s.capture_bytes + s.log_bytes) as f64 / 1e6 / secs.max(1e-9),
                args.output.display()
            );
        }
        return Ok(EXIT_CLEAN);
    }
    match args.scenario {
        Scenario::Diet | Scenario::Contractor | Scenario::Spray | Scenario::Quiet => {}
        Scenario::Demo => {
            let mut file = output::OutFile::create(&args.output)?;
            lateral::synth::demo::write_demo(&mut file)
                .with_context(|| format!("writing {}", args.output.display()))?;
            file.commit()?;
        }
        Scenario::Synflood => {
            let mut file = output::OutFile::create(&args.output)?;
            lateral::synth::bulk::write_syn_flood(args.packets.max(1), args.seed, &mut file)
                .with_context(|| format!("writing {}", args.output.display()))?;
            file.commit()?;
        }
        Scenario::Bulk => {
            let spec = lateral::synth::bulk::BulkSpec {
                flows: args.flows.max(1),
                packets: args.packets.max(1),
                seed: args.seed,
                ..Default::default()
            };
            let mut file = output::OutFile::create(&args.output)?;
            let c = lateral::synth::bulk::write_bulk(&spec, &mut file)
                .with_context(|| format!("writing {}", args.output.display()))?;
            file.commit()?;
            if !quiet {
                eprintln!(
                    "lateral gen: {} packets, {} flows, {} in {}",
                    c.packets,
                    c.flows,
                    human_bytes(c.bytes),
                    args.output.display()
                );
            }
        }
    }
    Ok(EXIT_CLEAN)
}

fn flows(args: FlowsArgs, threads: usize, quiet: bool, force: bool) -> anyhow::Result<u8> {
    if let Some(p) = &args.output {
        output::check(
            &[output::Output::file("-o", p)],
            &output::Inputs::new(args.inputs.iter().map(PathBuf::as_path)),
            force,
        )?;
    }
    let flow = FlowConfig {
        tcp_timeout: secs(args.tcp_timeout),
        udp_timeout: secs(args.udp_timeout),
        icmp_timeout: secs(args.icmp_timeout),
        other_timeout: secs(args.icmp_timeout),
        close_delay: secs(args.close_delay),
        max_flows: usize::try_from(args.max_flows).unwrap_or(usize::MAX),
    };
    let opts = FlowRunOptions {
        capture: CaptureOptions {
            flow,
            workers: threads,
        },
        analyzers: lateral::analyzer::AnalyzerConfig {
            enabled: !args.no_analyzers,
            ..Default::default()
        },
        threads,
        spill_at: lateral::collect::flow_store::DEFAULT_SPILL_AT,
        spill_attempts_at: usize::MAX,
    };
    let (paths, path_errors) = input::expand(&args.inputs);
    let progress = Progress::start(total_size(&paths), quiet);
    let run = run_flows(&paths, path_errors, &opts, &progress.counter);
    progress.finish();

    let format = match args.format {
        OutFormat::Zeek => ConnFormat::Zeek,
        OutFormat::Jsonl => ConnFormat::Jsonl,
    };
    if let Some(e) = &run.store_error {
        anyhow::bail!("{e}");
    }
    match &args.zeek_dir {
        Some(dir) => write_zeek_dir(&run, dir, args.community_id)?,
        None => write_flows(
            &run,
            conn_log::ConnLog {
                format,
                community_id: args.community_id,
            },
            args.output.as_ref(),
        )?,
    }

    input_messages::print(&run.path_errors, &run.notes, &run.inputs, quiet);
    if args.stats {
        eprint!("{}", render_stats(&run, threads));
    }
    Ok(if run.is_clean() {
        EXIT_CLEAN
    } else {
        EXIT_PARTIAL
    })
}

/// conn.log and the analyzers' Zeek logs, into `dir` (created if missing).
fn write_zeek_dir(run: &FlowRun, dir: &std::path::Path, community_id: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let conn = conn_log::ConnLog {
        format: ConnFormat::Zeek,
        community_id,
    };
    write_flows(run, conn, Some(&dir.join("conn.log")))?;
    for log in lateral::report::zeek_app_logs::LOGS {
        let path = dir.join(format!("{}.log", log.path));
        let mut buf = Vec::new();
        log.write(&run.app_events, &mut buf);
        let mut f = output::OutFile::create(&path)?;
        f.write_all(&buf)
            .with_context(|| format!("writing {}", path.display()))?;
        f.commit()?;
    }
    for (name, buf) in lateral::report::zeek_app::write_logs(&run.app_records) {
        let path = dir.join(name);
        let mut f = output::OutFile::create(&path)?;
        f.write_all(&buf)
            .with_context(|| format!("writing {}", path.display()))?;
        f.commit()?;
    }
    Ok(())
}

fn write_flows(
    run: &FlowRun,
    conn: conn_log::ConnLog,
    path: Option<&PathBuf>,
) -> anyhow::Result<()> {
    let mut file = path.map(|p| output::OutFile::create(p)).transpose()?;
    let mut sink: Box<dyn Write + '_> = match file.as_mut() {
        Some(f) => Box::new(f),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut buf = Vec::with_capacity(1 << 20);
    conn.header(run.flows.first_ts(), &mut buf);
    run.flows
        .for_each(|f| {
            conn.row(f, &mut buf);
            if buf.len() >= 1 << 20 {
                sink.write_all(&buf)?;
                buf.clear();
            }
            Ok(())
        })
        .context("writing records")?;
    conn.footer(run.flows.last_ts(), &mut buf);
    sink.write_all(&buf).context("writing records")?;
    sink.flush().context("writing records")?;
    drop(sink);
    if let Some(f) = file {
        f.commit()?;
    }
    Ok(())
}

/// What `lateral events` reads: its inputs and its hosts file (no output
/// may be one of them).
fn events_inputs(args: &EventsArgs) -> output::Inputs {
    output::Inputs::new(
        args.inputs
            .iter()
            .chain(args.hosts.iter())
            .map(PathBuf::as_path),
    )
}

/// How `lateral events` reads captures, whichever format it writes.
fn events_run_options(args: &EventsArgs, threads: usize) -> FlowRunOptions {
    let mut opts = FlowRunOptions {
        threads,
        ..FlowRunOptions::default()
    };
    opts.analyzers.enabled = !args.no_analyzers;
    opts
}

fn events(mut args: EventsArgs, threads: usize, quiet: bool, force: bool) -> anyhow::Result<u8> {
    // `--format parquet` (or jsonl) names the output, as --output-format does.
    if let Some(FormatFlag::Output(f)) = args.logs.format {
        args.output_format = f;
    }
    if args.output_format == EventsFormat::Parquet {
        return events_parquet(args, threads, quiet, force);
    }
    if args.partition_by.is_some() {
        return Err(output::Refused(
            "--partition-by applies to --output-format parquet only".into(),
        )
        .into());
    }
    if let Some(p) = &args.output {
        output::check(
            &[output::Output::file("-o", p)],
            &events_inputs(&args),
            force,
        )?;
    }
    use lateral::collect::pipeline::run_events;
    let logs = args.logs.options();
    let opts = events_run_options(&args, threads);
    let hosts_file = match &args.hosts {
        Some(p) => Some(lateral::hosts::read_hosts_file(p).context("reading --hosts")?),
        None => None,
    };
    let (paths, path_errors) = input::expand(&args.inputs);
    let mut file = args
        .output
        .as_deref()
        .map(output::OutFile::create)
        .transpose()?;
    let mut sink: Box<dyn Write + '_> = match file.as_mut() {
        Some(f) => Box::new(f),
        None => Box::new(std::io::stdout().lock()),
    };
    if let Some(f) = &hosts_file {
        warn_bad_host_rows(f);
    }
    let progress = Progress::start(total_size(&paths), quiet);
    if !args.hosts_only {
        let streamed = lateral::collect::pipeline::stream_events(
            &paths,
            path_errors,
            &opts,
            &logs,
            lateral::collect::event_store::DEFAULT_BUDGET,
            &progress.counter,
            &mut sink,
        );
        progress.finish();
        let (run, order) = streamed.context("writing events")?;
        drop(sink);
        if let Some(f) = file {
            f.commit()?;
        }
        let code = finish_events_run(&run, args.stats, threads, quiet);
        if args.stats {
            eprintln!(
                "  output order           {}",
                match order {
                    lateral::collect::pipeline::OutputOrder::Streamed =>
                        "inputs proven in time order: written as read".to_string(),
                    lateral::collect::pipeline::OutputOrder::Sorted { spilled_runs: 0 } =>
                        "sorted in memory".to_string(),
                    lateral::collect::pipeline::OutputOrder::Sorted { spilled_runs } =>
                        format!("sorted, {spilled_runs} run(s) spilled to temporary files"),
                }
            );
        }
        return Ok(code);
    }
    let run = run_events(&paths, path_errors, &opts, &logs, &progress.counter);
    progress.finish();
    if let Some(e) = &run.store_error {
        anyhow::bail!("{e}");
    }
    let mut buf = Vec::with_capacity(1 << 20);
    let mut sessions = Vec::new();
    run.flows
        .for_each(|f| {
            sessions.extend(lateral::hosts::session::SessionFlow::of(f));
            Ok(())
        })
        .context("reading connection records back")?;
    let dir = lateral::hosts::build_directory_sessions(&run.events, &sessions, hosts_file.as_ref());
    dir.write_jsonl(&mut buf);
    sink.write_all(&buf).context("writing the host directory")?;
    sink.flush().context("writing the host directory")?;
    drop(sink);
    if let Some(f) = file {
        f.commit()?;
    }
    Ok(finish_events_run(&run, args.stats, threads, quiet))
}

/// `lateral events --output-format parquet`: the same events as the JSON Lines
/// output, as a Parquet dataset written under `-o DIR`.
fn events_parquet(
    args: EventsArgs,
    threads: usize,
    quiet: bool,
    force: bool,
) -> anyhow::Result<u8> {
    use lateral::collect::parquet_sink::{ParquetSink, Partitioning};
    let Some(dir) = &args.output else {
        return Err(output::Refused(
            "--output-format parquet writes a directory: name it with -o DIR".into(),
        )
        .into());
    };
    if args.hosts_only {
        return Err(output::Refused(
            "--hosts-only prints the host directory as JSON Lines: drop --output-format parquet"
                .into(),
        )
        .into());
    }
    output::check(
        &[output::Output {
            flag: "-o",
            path: dir,
            kind: output::Kind::Dataset,
        }],
        &events_inputs(&args),
        force,
    )?;
    let logs = args.logs.options();
    let opts = events_run_options(&args, threads);
    let (paths, path_errors) = input::expand(&args.inputs);
    let partitioning = match args.partition_by.unwrap_or(PartitionBy::Day) {
        PartitionBy::Day => Partitioning::Day,
        PartitionBy::None => Partitioning::None,
    };
    let dataset = output::DatasetDir::create(dir)?;
    let mut sink = ParquetSink::new(dataset.staging(), partitioning, args.max_rows_per_file)
        .context("writing Parquet")?;
    let progress = Progress::start(total_size(&paths), quiet);
    let streamed = lateral::collect::pipeline::stream_events(
        &paths,
        path_errors,
        &opts,
        &logs,
        lateral::collect::event_store::DEFAULT_BUDGET,
        &progress.counter,
        &mut sink,
    );
    progress.finish();
    let (run, _) = streamed.context("writing events")?;
    let files = sink.finish().context("writing Parquet")?;
    let rel: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    dataset.commit(&rel)?;
    let code = finish_events_run(&run, args.stats, threads, quiet);
    if args.stats {
        let rows: u64 = files.iter().map(|f| f.rows).sum();
        eprintln!(
            "  parquet                {rows} rows in {} file(s) under {}",
            files.len(),
            dir.display()
        );
    }
    Ok(code)
}

/// Reports bad rows of a `--hosts` file on stderr (count per reason and
/// the first rows, as `file:line`).
fn warn_bad_host_rows(f: &lateral::hosts::HostsFile) {
    for (reason, n) in &f.diag.counts {
        eprintln!("lateral: {n} row(s) of the hosts file skipped: {reason}");
        for smp in f.diag.samples.get(reason).into_iter().flatten() {
            eprintln!("lateral:   {}: {}", smp.origin, smp.detail);
        }
    }
}

/// The end of an `events` run: warnings, statistics and the exit code.
fn finish_events_run(
    run: &lateral::collect::pipeline::EventRun,
    stats: bool,
    threads: usize,
    quiet: bool,
) -> u8 {
    input_messages::print(&run.path_errors, &run.notes, &run.inputs, quiet);
    if stats {
        eprint!("{}", render_event_stats(run, threads));
    }
    if run.is_clean() {
        EXIT_CLEAN
    } else {
        EXIT_PARTIAL
    }
}

fn render_event_stats(run: &lateral::collect::pipeline::EventRun, threads: usize) -> String {
    let mut s = String::from("lateral events: statistics\n");
    let bytes: u64 = run.inputs.iter().map(|r| r.bytes).sum();
    // Log events were either kept (`run_events`) or written (`stream_events`).
    let from_logs = run.events.len() as u64 + run.written;
    let events = from_logs + run.flows.len();
    line(&mut s, "files", run.inputs.len());
    line(&mut s, "threads", threads);
    line(&mut s, "bytes", format!("{} ({bytes})", human_bytes(bytes)));
    line(
        &mut s,
        "events",
        format!(
            "{events} ({from_logs} from logs, {} connection records from captures and conn.logs)",
            run.flows.len()
        ),
    );
    line(&mut s, "wall time", format!("{:.3}s", run.secs));
    line(
        &mut s,
        "throughput",
        format!(
            "{} MB/s, {} events/s",
            if run.secs > 0.0 {
                format!("{:.1}", bytes as f64 / 1e6 / run.secs)
            } else {
                "-".into()
            },
            human_rate(events as f64, run.secs)
        ),
    );
    s.push_str("  per input:\n");
    for r in &run.inputs {
        let status = if r.is_complete() { "ok" } else { "PARTIAL" };
        let rate = if r.secs > 0.0 {
            format!(
                "{:.1} MB/s {:>6} ev/s",
                r.bytes as f64 / 1e6 / r.secs,
                human_rate((r.events + r.flows) as f64, r.secs)
            )
        } else {
            "-".into()
        };
        s.push_str(&format!(
            "    {status:<7} {:<8}{} {:>9} records {:>9} events {:>8} skipped {:>10} {rate:>23}  {}\n",
            r.format.unwrap_or("-"),
            if r.compressed { "+z" } else { "  " },
            r.records,
            r.events + r.flows,
            r.diag.total(),
            human_bytes(r.bytes),
            r.name
        ));
        for (reason, n) in &r.diag.counts {
            s.push_str(&format!("            {n:>9} skipped: {reason}\n"));
            for smp in r.diag.samples.get(reason).into_iter().flatten() {
                s.push_str(&format!(
                    "                      e.g. {}  {}\n",
                    smp.origin, smp.detail
                ));
            }
        }
    }
    s
}

/// The protocol analyzers' counters, summed over the inputs: one line per
/// analyzer, then reassembly's account of what was dropped.
fn render_analyzer_stats(run: &FlowRun, s: &mut String) {
    let mut total = lateral::analyzer::AnalyzerCounters::default();
    let mut any = false;
    for r in &run.inputs {
        if let Some(c) = &r.analyzers {
            total.add(c);
            any = true;
        }
    }
    if !any {
        return;
    }
    s.push_str("  analyzers (connections, bytes in order, records, parse errors, bytes not read, refused):\n");
    for (name, a) in &total.per_analyzer {
        s.push_str(&format!(
            "    {name:<9} {:>8} conns {:>12} B {:>8} records {:>6} errors {:>10} B skipped {:>6} refused\n",
            a.connections, a.bytes, a.records, a.parse_errors, a.bytes_skipped, a.refused
        ));
    }
    line(
        s,
        "analyzer connections",
        format!(
            "{} followed, peak {} at once; reaped idle: {} TCP (>{} s), {} UDP (>{} s), {} SYNs",
            total.flows,
            total.peak_flows,
            total.reaped,
            lateral::analyzer::IDLE_SECS,
            total.reaped_udp,
            lateral::analyzer::UDP_IDLE_SECS,
            total.reaped_syns
        ),
    );
    line(
        s,
        "analyzer endings",
        format!(
            "{} both FINs, {} RST, {} half-closed (one FIN, then >{} s quiet)",
            total.ended_fin,
            total.ended_rst,
            total.reaped_half_closed,
            lateral::analyzer::LINGER_SECS
        ),
    );
    // DCE-RPC over TCP, and over the SMB connections' named pipes.
    let mut d = total.dcerpc.clone();
    for c in run.inputs.iter().filter_map(|r| r.analyzers.as_ref()) {
        d.add(&c.smb.dcerpc);
    }
    if d.pdus > 0 {
        line(
            s,
            "analyzer dce-rpc",
            format!(
                "{} PDUs, {} later request fragments, {} fragmented requests joined, {} given up, {} on unbound contexts, {} malformed",
                d.pdus,
                d.later_fragments,
                d.joined_requests,
                d.unjoined_requests,
                d.unbound_requests,
                d.malformed
            ),
        );
    }
    let r = &total.reassembly;
    line(
        s,
        "analyzer reassembly",
        format!(
            "{} gaps ({} B), {} B duplicate, {} budget drops, {} B oversize, {} B resync, {} connections refused, peak {} held",
            r.gaps,
            r.gap_bytes,
            r.duplicate_bytes,
            r.budget_drops,
            r.oversize_bytes,
            r.resync_bytes,
            r.flows_refused,
            human_bytes(total.peak_bytes)
        ),
    );
}

fn render_stats(run: &FlowRun, threads: usize) -> String {
    let mut s = String::from("lateral flows: statistics\n");
    let packets: u64 = run.inputs.iter().map(|r| r.counts.packets).sum();
    let bytes: u64 = run.inputs.iter().map(|r| r.bytes).sum();
    let evicted: u64 = run.inputs.iter().map(|r| r.flow_counters.evicted).sum();
    let frags: u64 = run
        .inputs
        .iter()
        .map(|r| r.flow_counters.fragments_joined)
        .sum();
    let peak: u64 = run
        .inputs
        .iter()
        .map(|r| r.flow_counters.peak_flows)
        .max()
        .unwrap_or(0);
    let partial = run.inputs.iter().filter(|r| !r.is_complete()).count() + run.path_errors.len();
    line(
        &mut s,
        "files",
        format!("{} ({} partial or unreadable)", run.inputs.len(), partial),
    );
    line(&mut s, "threads", threads);
    line(&mut s, "packets", packets);
    line(
        &mut s,
        "bytes (captured)",
        format!("{} ({bytes})", human_bytes(bytes)),
    );
    line(&mut s, "flows", run.flows.len());
    line(
        &mut s,
        "peak active flows",
        format!("{peak} (largest single input)"),
    );
    line(&mut s, "flows evicted (cap)", evicted);
    line(&mut s, "sorted runs spilled", run.flows.spilled_runs());
    line(&mut s, "fragments joined", frags);
    let mut ip = lateral::source::ip_reassembly::FragCounters::default();
    for r in &run.inputs {
        ip.add(&r.frags);
    }
    if ip.fragments > 0 {
        line(
            &mut s,
            "IP reassembly",
            format!(
                "{} fragments, {} datagrams joined, {} overlaps ({} inconsistent, first kept); given up: {} timeout, {} cap, {} malformed, {} unfinished; peak {} held",
                ip.fragments,
                ip.joined,
                ip.overlaps,
                ip.inconsistent,
                ip.timed_out,
                ip.over_cap,
                ip.malformed,
                ip.unfinished,
                human_bytes(ip.peak_bytes)
            ),
        );
    }
    line(&mut s, "wall time", format!("{:.3}s", run.secs));
    line(
        &mut s,
        "throughput",
        format!(
            "{} MB/s, {} packets/s",
            if run.secs > 0.0 {
                format!("{:.1}", bytes as f64 / 1e6 / run.secs)
            } else {
                "-".into()
            },
            human_rate(packets as f64, run.secs)
        ),
    );
    line(
        &mut s,
        "packet sizes",
        run.packet_sizes.summary(|v| format!("{v}B")),
    );
    line(
        &mut s,
        "flow durations",
        run.flows.durations.summary(human_micros),
    );
    render_analyzer_stats(run, &mut s);
    let mut skipped: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let mut samples = Vec::new();
    for r in &run.inputs {
        for (k, v) in &r.diag.counts {
            *skipped.entry((*k).to_string()).or_insert(0) += v;
        }
        for (k, v) in &r.non_ip {
            *skipped.entry(k.clone()).or_insert(0) += v;
        }
        for (k, v) in &r.diag.samples {
            for smp in v.iter().take(2) {
                samples.push(format!(
                    "{k}: {}{}",
                    smp.origin,
                    if smp.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", smp.detail)
                    }
                ));
            }
        }
    }
    if skipped.is_empty() {
        line(&mut s, "records skipped", 0);
    } else {
        s.push_str("  records skipped by reason:\n");
        for (k, v) in &skipped {
            s.push_str(&format!("    {v:>10}  {k}\n"));
        }
        if !samples.is_empty() {
            s.push_str("  first samples:\n");
            for smp in samples.iter().take(12) {
                s.push_str(&format!("    {smp}\n"));
            }
        }
    }
    s.push_str("  per input:\n");
    for r in &run.inputs {
        let fmt = r.format.unwrap_or("-");
        let status = if r.is_complete() { "ok" } else { "PARTIAL" };
        s.push_str(&format!(
            "    {status:<7} {fmt:<7}{} {:>9} pkts {:>8} flows {:>10}  {:.3}s  {}\n",
            if r.compressed { "+z" } else { "  " },
            r.counts.packets,
            r.flows,
            human_bytes(r.bytes),
            r.secs,
            r.name
        ));
    }
    s
}

fn eval(args: EvalArgs) -> anyhow::Result<u8> {
    use lateral::eval::{EvalOptions, parse_truth, read_alerts, score};
    use lateral::eval::{MAX_ALERTS_FILE, MAX_TRUTH_FILE};
    let truth_bytes =
        lateral::error::read_capped(&args.truth, MAX_TRUTH_FILE, "a truth file (--truth)")?;
    let truth_text = String::from_utf8(truth_bytes)
        .with_context(|| format!("reading {}: not UTF-8 text", args.truth.display()))?;
    let truth = parse_truth(&truth_text).with_context(|| args.truth.display().to_string())?;
    let alerts_bytes = if args.alerts.as_os_str() == "-" {
        let mut s = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin().lock(), MAX_ALERTS_FILE + 1),
            &mut s,
        )
        .context("reading alerts from standard input")?;
        if s.len() as u64 > MAX_ALERTS_FILE {
            anyhow::bail!(
                "standard input: more than the {} MiB of alerts lateral eval reads",
                MAX_ALERTS_FILE >> 20
            );
        }
        s
    } else {
        lateral::error::read_capped(&args.alerts, MAX_ALERTS_FILE, "an alerts file")?
    };
    let alerts_text = String::from_utf8(alerts_bytes)
        .with_context(|| format!("reading {}: not UTF-8 text", args.alerts.display()))?;
    let (alerts, bad) = read_alerts(&alerts_text);
    for (line, why) in bad.iter().take(5) {
        eprintln!("lateral: {}:{line}: skipped: {why}", args.alerts.display());
    }
    let opts = EvalOptions {
        slack: secs(args.slack_minutes * 60.0),
    };
    let s = score(&truth, &alerts, &opts);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &s).context("writing score")?;
        writeln!(out).context("writing score")?;
    } else {
        out.write_all(lateral::report::text::score::render(&s).as_bytes())
            .context("writing score")?;
    }
    Ok(if bad.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_PARTIAL
    })
}
