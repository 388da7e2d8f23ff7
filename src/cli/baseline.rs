//! The baseline commands on the command line: `baseline build`, `sweep`
//! (detectors against the stored baseline, then what is new) and `profile`. Flags become library options here; the work is in
//! `lateral::baseline` and the rendering in `lateral::report`.

use crate::cli::LogArgs;
use crate::cli::output::{Kind, Output, write_file};
use crate::cli::progress::Progress;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use lateral::baseline::{Baseline, BuildOptions, Partial, UpdateOptions};
use lateral::collect::pipeline::{EventRun, FlowRunOptions, run_events, total_size};
use lateral::input;
use lateral::model::event::Timestamp;
use lateral::stats::{human_bytes, line};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit status of `profile` when the host is not in the baseline.
pub const EXIT_NOT_FOUND: u8 = 4;

/// `lateral baseline ...`.
#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Build per-host profiles from a learning period and store them as a baseline file.
    #[command(after_help = BUILD_HELP)]
    Build(BuildArgs),
    /// Show what a baseline file holds and what it was made from.
    Info(InfoArgs),
    /// Merge partial baselines (`baseline build --partial`) of shards of a
    /// learning period into one baseline, or into another partial.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
}

const MERGE_HELP: &str = "Any grouping and order of merges gives the same file, byte for byte, and
merging the partials of shards gives the file `baseline build` gives over
all their inputs at once (docs/sharding.md).

Exit status:
  0  the baseline (or partial) was written
  1  fatal: a part could not be read (damaged, truncated) or the output
     could not be written
  2  usage: the command line is wrong, a part is a finished baseline or
     of another format version, parts were built with different --until,
     or the output is one of the parts";

/// `lateral baseline merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Partial baselines, from `baseline build --partial` or `baseline merge --partial`.
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// The file to write (replaced atomically; never one of the parts).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Write the merge as another partial baseline, to be merged again
    /// (a tree of merges), instead of finishing it into a baseline.
    #[arg(long)]
    partial: bool,
    /// Host directory CSV (`ip,name[,role]` per line), applied when finishing.
    #[arg(long, conflicts_with = "partial")]
    hosts: Option<PathBuf>,
    /// Print the parts' and the result's sizes to stderr.
    #[arg(long)]
    stats: bool,
}

/// `lateral baseline info`.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The baseline file.
    baseline: PathBuf,
    /// One JSON object (metadata and counts) instead of text.
    #[arg(long)]
    json: bool,
}

const BUILD_HELP: &str = "Exit status:
  0  clean: every input was read completely and the baseline was written
  1  fatal: nothing was written (e.g. the baseline could not be written)
  2  usage: the command line is wrong
  3  partial: the baseline was written, but some input was missing, not a
     format lateral reads, truncated, or corrupt (see the warnings on stderr)";

/// Exit statuses of `sweep`, for its help.
pub const SWEEP_HELP: &str = "Exit status:
  0  clean: every input was read completely (whether or not anything is new)
  1  fatal: the baseline could not be read (damaged, truncated, another
     version: the message says which; the file is left as it was) or
     written, or the --seen file could not be read
  2  usage: the command line or the --config file is wrong
  3  partial: the report was written (and with --update the baseline), but
     some input was missing, not a format lateral reads, truncated, or corrupt";

/// Exit statuses of `profile`, for its help.
pub const PROFILE_HELP: &str = "Exit status:
  0  the host's profile was printed
  1  fatal: the baseline could not be read (the message says why)
  2  usage: the command line is wrong
  4  the host is not in the baseline";

fn parse_until(s: &str) -> Result<Timestamp, String> {
    lateral::model::event::Timestamp::parse_rfc3339(s)
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time like 2026-11-30T00:00:00Z"))
}

/// `lateral baseline build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Captures and logs of the learning period (mixed freely), directories, or `-`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The baseline file to write (replaced atomically).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Learn only from flows and events before this time (RFC 3339).
    #[arg(long, value_parser = parse_until)]
    until: Option<Timestamp>,
    /// Host directory CSV (`ip,name[,role]` per line) joining addresses and names.
    #[arg(long)]
    hosts: Option<PathBuf>,
    /// Write a partial baseline of these inputs (one shard: a day, a
    /// sensor, a range of hosts) for `lateral baseline merge` instead of a
    /// finished one (docs/sharding.md). The hosts file is given to the merge.
    #[arg(long, conflicts_with = "hosts")]
    partial: bool,
    /// Read the inputs once and hold every record, instead of reading
    /// them twice and folding them into profiles as they are read (faster;
    /// memory grows with the records). Standard input is always read once.
    #[arg(long)]
    one_pass: bool,
    /// Keep the learning state under about SIZE (e.g. 512M, 2G): past
    /// their share (half of it), the profile builders spill sorted runs
    /// to disk, merged by key at the end; the file is the same byte for
    /// byte (docs/speed.md). Needs inputs that are files (read twice).
    #[arg(long, value_name = "SIZE", value_parser = lateral::profile::spill::parse_size, conflicts_with_all = ["one_pass", "partial"])]
    memory_limit: Option<u64>,
    /// Where `--memory-limit` spills: a fresh directory is made in DIR and
    /// removed at the end (default: the system's temporary directory, $TMPDIR).
    #[arg(long, value_name = "DIR", requires = "memory_limit")]
    spill_dir: Option<PathBuf>,
    /// Print per-input statistics and baseline sizes to stderr.
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    logs: LogArgs,
}

/// `lateral sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The baseline to judge against (and, with --update, to update).
    #[arg(long, required = true)]
    baseline: PathBuf,
    /// Today's captures and logs, directories, or `-`.
    #[arg(required_unless_present = "summary", conflicts_with = "summary")]
    inputs: Vec<PathBuf>,
    /// Judge (and with --update fold in) the records of this summary of
    /// today's shards (`lateral summary build`, `summary merge`) instead of
    /// reading inputs (docs/sharding.md).
    #[arg(long, conflicts_with = "sigma")]
    summary: Option<PathBuf>,
    /// Fold today into the baseline, forget what was not seen within the
    /// age-out window, and write it back atomically (after the report).
    #[arg(long)]
    update: bool,
    /// With --update: fold in today's records as they are, the activity of
    /// incidents at medium or above included (by default it is kept out, so
    /// an attacker's channel and hosts are not learned as normal).
    #[arg(long, requires = "update")]
    fold_alerted: bool,
    /// With --update: forget hosts, edges and logons not seen for this many days.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    age_out_days: u32,
    /// Write alerts as ECS JSON Lines (as `lateral analyze --json`) to this
    /// file, `-` for standard output (the report then goes to standard error).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write novelties (new hosts, edges, users) as ECS JSON Lines to this
    /// file, `-` for standard output (after the alerts when --json is `-` too).
    #[arg(long)]
    novelties: Option<PathBuf>,
    /// Alerts reported before (an earlier sweep's --json output): alerts
    /// whose `lateral.alert.id` is in it are marked `seen_before` and listed
    /// as already reported.
    #[arg(long)]
    seen: Option<PathBuf>,
    /// With --seen: leave alerts reported before out of the JSON, and
    /// incidents whose alerts were all reported before out of the report.
    #[arg(long, requires = "seen")]
    new_only: bool,
    /// Judge (and with --update fold in) only flows and events at or after
    /// this RFC 3339 time, for inputs that also hold the learning period.
    #[arg(long, value_parser = parse_until)]
    since: Option<Timestamp>,
    /// Detection settings (TOML; see `lateral config --default`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// New incidents shown in the report.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// List the alerts that `[[suppress]]` entries of the configuration
    /// took out (the report always counts them).
    #[arg(long)]
    show_suppressed: bool,
    /// Host directory CSV for today's data (default: the baseline's).
    #[arg(long)]
    hosts: Option<PathBuf>,
    /// Write the text report here instead of standard output.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
    /// Print per-input statistics and detection figures to stderr.
    #[arg(long)]
    stats: bool,
    /// Also evaluate these Sigma rules (a rule file or a folder of them)
    /// against every Windows record; hits become alerts (docs/sigma.md).
    #[arg(long, value_name = "PATH")]
    sigma: Option<PathBuf>,
    #[command(flatten)]
    logs: LogArgs,
    #[command(flatten)]
    exports: crate::cli::output::ExportArgs,
}

/// `lateral profile`.
#[derive(Args, Debug)]
pub struct ProfileArgs {
    /// The host: an IP address or a name.
    host: String,
    /// The baseline to read.
    #[arg(long, required = true)]
    baseline: PathBuf,
    /// One JSON object instead of the text for people.
    #[arg(long)]
    json: bool,
    /// Peers shown in each direction.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

/// Reads the inputs; prints what could not be read. Fails only when flow
/// records could not be kept.
fn read_inputs(
    inputs: &[PathBuf],
    logs: &LogArgs,
    threads: usize,
    quiet: bool,
) -> anyhow::Result<EventRun> {
    logs.only_log_formats("baseline/sweep")?;
    let opts = FlowRunOptions {
        threads,
        ..FlowRunOptions::default()
    };
    let (paths, path_errors) = input::expand(inputs);
    let progress = Progress::start(total_size(&paths), quiet);
    let run = run_events(
        &paths,
        path_errors,
        &opts,
        &logs.options(),
        &progress.counter,
    );
    progress.finish();
    if let Some(e) = &run.store_error {
        anyhow::bail!("{e}");
    }
    crate::cli::input_messages::print(&run.path_errors, &run.notes, &run.inputs, quiet);
    Ok(run)
}

fn read_hosts(path: Option<&Path>) -> anyhow::Result<Option<lateral::hosts::HostsFile>> {
    let Some(p) = path else { return Ok(None) };
    let hosts = lateral::hosts::read_hosts_file(p)?;
    for (reason, n) in &hosts.diag.counts {
        eprintln!("lateral: {}: {n} rows skipped: {reason}", p.display());
    }
    Ok(Some(hosts))
}

fn exit_for(run: &EventRun) -> u8 {
    if run.is_clean() {
        crate::cli::EXIT_CLEAN
    } else {
        crate::cli::EXIT_PARTIAL
    }
}

/// Runs `lateral baseline build`.
pub fn build(args: BuildArgs, threads: usize, quiet: bool, force: bool) -> anyhow::Result<u8> {
    check_outputs(
        &[Output {
            flag: "-o",
            path: &args.output,
            kind: Kind::Baseline,
        }],
        args.inputs.iter().chain(args.hosts.iter()),
        force,
    )?;
    if !args.partial && !args.one_pass {
        let (paths, path_errors) = input::expand(&args.inputs);
        if lateral::profile::stream::can_stream(&paths) {
            return build_streamed(&args, paths, path_errors, threads, quiet);
        }
    }
    if args.memory_limit.is_some() {
        anyhow::bail!(
            "--memory-limit needs inputs that are files (they are read twice); standard input and pipes cannot be"
        );
    }
    let run = read_inputs(&args.inputs, &args.logs, threads, quiet)?;
    if args.partial {
        let started = std::time::Instant::now();
        let part = Partial::build(&run, args.until).context("building the partial baseline")?;
        let build_secs = started.elapsed().as_secs_f64();
        let written = part.save(&args.output)?;
        if args.stats {
            let mut s = String::from("lateral baseline build --partial: statistics\n");
            input_stats(&mut s, &run, threads);
            partial_stats(&mut s, &part, written);
            line(&mut s, "fold time", format!("{build_secs:.3}s"));
            eprint!("{s}");
        }
        return Ok(exit_for(&run));
    }
    let hosts = read_hosts(args.hosts.as_deref())?;
    let started = std::time::Instant::now();
    let opts = BuildOptions {
        until: args.until,
        hosts,
    };
    let built = Baseline::build(&run, &opts).context("building profiles")?;
    let build_secs = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let written = built.save(&args.output)?;
    let write_secs = started.elapsed().as_secs_f64();
    if args.stats {
        let mut s = String::from("lateral baseline build: statistics\n");
        input_stats(&mut s, &run, threads);
        baseline_stats(&mut s, &built, written, build_secs, write_secs);
        eprint!("{s}");
    }
    Ok(exit_for(&run))
}

/// `lateral baseline build` over inputs that can be read twice: the
/// records are folded into profiles as they are read, never held (see
/// `profile::stream`); the baseline is the same.
fn build_streamed(
    args: &BuildArgs,
    paths: Vec<input::InputPath>,
    path_errors: Vec<lateral::Error>,
    threads: usize,
    quiet: bool,
) -> anyhow::Result<u8> {
    args.logs.only_log_formats("baseline/sweep")?;
    let hosts = read_hosts(args.hosts.as_deref())?;
    let read = FlowRunOptions {
        threads,
        ..FlowRunOptions::default()
    };
    let spill = match args.memory_limit {
        Some(limit) => Some(
            lateral::profile::spill::Spiller::new(limit, args.spill_dir.as_deref())
                .context("--memory-limit")?,
        ),
        None => None,
    };
    let opts = BuildOptions {
        until: args.until,
        hosts,
    };
    let started = std::time::Instant::now();
    let progress = Progress::start(total_size(&paths).saturating_mul(2), quiet);
    let built = Baseline::build_streamed(
        &paths,
        path_errors,
        &read,
        &args.logs.options(),
        &progress.counter,
        &opts,
        spill.as_ref(),
    );
    progress.finish();
    let (built, mut run) = built.context("building profiles")?;
    // Reading and profiling are one pass here: the time is the read's.
    run.secs = started.elapsed().as_secs_f64();
    crate::cli::input_messages::print(&run.path_errors, &run.notes, &run.inputs, quiet);
    let started = std::time::Instant::now();
    let written = built.save(&args.output)?;
    let write_secs = started.elapsed().as_secs_f64();
    if args.stats {
        let mut s = String::from("lateral baseline build: statistics\n");
        input_stats(&mut s, &run, threads);
        baseline_stats(&mut s, &built, written, 0.0, write_secs);
        if let Some(sp) = &spill {
            line(&mut s, "memory limit", sp.stats().describe());
        }
        eprint!("{s}");
    }
    Ok(exit_for(&run))
}

/// Runs `lateral baseline merge`.
pub fn merge(args: MergeArgs, force: bool) -> anyhow::Result<u8> {
    check_outputs(
        &[Output {
            flag: "-o",
            path: &args.output,
            kind: Kind::Baseline,
        }],
        args.parts.iter().chain(args.hosts.iter()),
        force,
    )?;
    // A part given twice would count its records twice.
    let mut seen = std::collections::BTreeMap::new();
    for path in &args.parts {
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if let Some(first) = seen.insert(canon, path) {
            eprintln!(
                "lateral baseline merge: {} and {} are the same part: each shard is merged once",
                first.display(),
                path.display()
            );
            return Ok(crate::cli::EXIT_USAGE);
        }
    }
    let hosts = read_hosts(args.hosts.as_deref())?;
    let mut parts = Vec::with_capacity(args.parts.len());
    let mut stats = String::new();
    for path in &args.parts {
        let part = match Partial::load(path) {
            Ok(p) => p,
            Err(e) => return merge_failed(&e),
        };
        if args.stats {
            line(
                &mut stats,
                "part",
                format!(
                    "{} flow groups, {} events, {} inputs  {}",
                    part.flows.len(),
                    part.events.len(),
                    part.inputs.len(),
                    path.display()
                ),
            );
        }
        parts.push(part);
    }
    let merged = match Partial::merge_all(parts) {
        Ok(Some(m)) => m,
        Ok(None) => anyhow::bail!("no parts to merge"),
        Err(e) => return merge_failed(&e),
    };
    if args.partial {
        let written = merged.save(&args.output)?;
        if args.stats {
            let mut s = String::from("lateral baseline merge --partial: statistics\n");
            s.push_str(&stats);
            partial_stats(&mut s, &merged, written);
            eprint!("{s}");
        }
        return Ok(crate::cli::EXIT_CLEAN);
    }
    let started = std::time::Instant::now();
    let built = merged.finish(hosts.as_ref());
    let build_secs = started.elapsed().as_secs_f64();
    let started = std::time::Instant::now();
    let written = built.save(&args.output)?;
    let write_secs = started.elapsed().as_secs_f64();
    if args.stats {
        let mut s = String::from("lateral baseline merge: statistics\n");
        s.push_str(&stats);
        baseline_stats(&mut s, &built, written, build_secs, write_secs);
        eprint!("{s}");
    }
    Ok(crate::cli::EXIT_CLEAN)
}

/// The exit of a merge that cannot go on: a part of the wrong kind or
/// version, or parts of different `--until`, is a usage error (2); a part
/// that cannot be read or is damaged is fatal (1).
fn merge_failed(e: &lateral::baseline::MergeError) -> anyhow::Result<u8> {
    use lateral::baseline::{FileError, MergeError};
    match e {
        MergeError::File(
            FileError::WrongContent { .. }
            | FileError::UnsupportedVersion { .. }
            | FileError::NotABaseline { .. },
        )
        | MergeError::Version { .. }
        | MergeError::Until { .. } => {
            eprintln!("lateral baseline merge: {e}");
            Ok(crate::cli::EXIT_USAGE)
        }
        MergeError::File(_) => {
            eprintln!("lateral baseline merge: {e}");
            Ok(crate::cli::EXIT_FATAL)
        }
    }
}

fn partial_stats(s: &mut String, p: &Partial, w: lateral::baseline::file::Written) {
    line(s, "flow groups", p.flows.len());
    line(s, "flows", p.flow_count);
    line(s, "events", p.events.len());
    line(
        s,
        "partial bytes",
        format!(
            "{} on disk ({}), {} before compression",
            human_bytes(w.file_bytes),
            w.file_bytes,
            human_bytes(w.decoded_bytes)
        ),
    );
}

/// Checks a run's outputs against its inputs (see [`crate::cli::output`]).
fn check_outputs<'a>(
    outputs: &[Output<'_>],
    inputs: impl Iterator<Item = &'a PathBuf>,
    force: bool,
) -> anyhow::Result<()> {
    crate::cli::output::check(
        outputs,
        &crate::cli::output::Inputs::new(inputs.map(PathBuf::as_path)),
        force,
    )?;
    Ok(())
}

/// Reads the alert ids of an earlier report; prints what was skipped.
fn read_seen(path: &Path) -> anyhow::Result<lateral::seen::SeenAlerts> {
    let text = lateral::error::read_capped(
        path,
        lateral::seen::MAX_SEEN_FILE,
        "a file of alerts reported before (--seen)",
    )?;
    let seen =
        lateral::seen::read_seen(&String::from_utf8_lossy(&text), &path.display().to_string());
    for (reason, n) in &seen.diag.counts {
        eprintln!("lateral: {}: {n} lines skipped: {reason}", path.display());
    }
    Ok(seen)
}

fn is_stdout(p: Option<&Path>) -> bool {
    p.is_some_and(|p| p.as_os_str() == "-")
}

/// Writes to standard output; a reader that stopped early (`| head`) is not
/// an error, so the baseline update still happens.
fn write_stdout(bytes: &[u8], what: &str) -> anyhow::Result<()> {
    let mut so = std::io::stdout().lock();
    match so.write_all(bytes).and_then(|()| so.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context(format!("writing {what}"))),
    }
}

/// Runs `lateral sweep`.
pub fn sweep(mut args: SweepArgs, threads: usize, quiet: bool, force: bool) -> anyhow::Result<u8> {
    args.exports.refuse_stdout()?;
    let mut exports = std::mem::take(&mut args.exports);
    let mut outputs: Vec<Output<'_>> = [
        ("--json", &args.json),
        ("--novelties", &args.novelties),
        ("-o", &args.output),
    ]
    .into_iter()
    .filter_map(|(flag, p)| p.as_deref().map(|p| Output::file(flag, p)))
    .collect();
    outputs.extend(exports.outputs());
    check_outputs(
        &outputs,
        args.inputs
            .iter()
            .chain(std::iter::once(&args.baseline))
            .chain(args.summary.iter())
            .chain(args.seen.iter())
            .chain(args.config.iter())
            .chain(args.hosts.iter()),
        force,
    )?;
    let config = match crate::cli::analyze_cmd::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lateral sweep: {e}");
            return Ok(crate::cli::EXIT_USAGE);
        }
    };
    args.sigma = crate::cli::analyze_cmd::sigma_rules(
        args.sigma.take(),
        &config,
        args.config.as_ref(),
        args.summary.is_some(),
        "sweep",
    );
    // Load first: a damaged baseline stops the run before any input is read.
    let mut base = Baseline::load(&args.baseline)?;
    let seen = args.seen.as_deref().map(read_seen).transpose()?;
    let mut summary = match &args.summary {
        Some(p) => match lateral::baseline::Summary::load(p) {
            Ok(s) => Some(s),
            Err(e) => return Ok(crate::cli::summary::summary_failed("sweep", &e)),
        },
        None => None,
    };
    let mut run = match &summary {
        Some(s) => {
            crate::cli::summary::print_messages(s, quiet);
            EventRun::default()
        }
        None => read_inputs(&args.inputs, &args.logs, threads, quiet)?,
    };
    let (hits, sigma_pass) = crate::cli::analyze_cmd::sigma_hits(
        args.sigma.as_ref(),
        &args.inputs,
        &args.logs.options(),
        quiet,
    )?;
    lateral::sigma::scan::merge_events(&mut run.events, hits);
    let hosts = read_hosts(args.hosts.as_deref())?;
    let started = std::time::Instant::now();
    let summary_events;
    let mut today = match summary.as_mut() {
        Some(s) => {
            summary_events = std::mem::take(&mut s.events);
            base.today_of(
                std::mem::take(&mut s.flows),
                &summary_events,
                s.inputs.clone(),
                s.partial_inputs,
                hosts,
                args.since,
            )
        }
        None => base
            .today_since(&run, hosts, args.since)
            .context("profiling today's data")?,
    };
    let novelties = lateral::detect::novelty::novelties(&base, &today);
    let sweep_secs = started.elapsed().as_secs_f64();
    let analysis = lateral::analyze::analyze_against(&today.flows, today.events, &base, &config);
    let seen_ids = seen.as_ref().map(|s| &s.ids);

    // Machine outputs: alerts, then novelties (one stream when both are `-`).
    let mut to_stdout = Vec::new();
    if let Some(p) = &args.json {
        let mut buf = Vec::new();
        lateral::report::alerts_jsonl::write_marked(
            &analysis.alerts,
            &analysis.incidents,
            seen_ids,
            args.new_only,
            &mut buf,
        );
        if is_stdout(Some(p)) {
            to_stdout.extend_from_slice(&buf);
        } else {
            write_file(p, &buf)?;
        }
    }
    if let Some(p) = &args.novelties {
        let mut buf = Vec::new();
        for n in &novelties {
            lateral::report::novelty::write_jsonl(n, &mut buf);
        }
        if is_stdout(Some(p)) {
            to_stdout.extend_from_slice(&buf);
        } else {
            write_file(p, &buf)?;
        }
    }
    let json_on_stdout = is_stdout(args.json.as_deref()) || is_stdout(args.novelties.as_deref());
    if json_on_stdout {
        write_stdout(&to_stdout, "JSON lines")?;
    }

    // The report for people: incidents, then novelties.
    let from =
        lateral::report::text::incidents::LearnedFrom::File(args.baseline.display().to_string());
    exports.write(
        &analysis.alerts,
        &analysis.incidents,
        &lateral::report::html::PageInfo {
            command: "lateral sweep".into(),
            inputs: match &summary {
                Some(s) => s.given.clone(),
                None => args
                    .inputs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
            },
            summary: crate::cli::analyze_cmd::baseline_line(&analysis, &from),
        },
    )?;
    let mut report = lateral::report::text::sweep::render(
        &analysis,
        &from,
        args.top,
        lateral::report::text::sweep::SeenOptions {
            seen: seen_ids,
            new_only: args.new_only,
        },
    );
    report.push_str(&lateral::report::text::incidents::render_suppressed(
        &analysis,
        args.show_suppressed,
    ));
    report.push('\n');
    report.push_str(&lateral::report::novelty::render_text(&novelties));
    if args.update
        && !args.fold_alerted
        && let Some((profiles, kept)) =
            lateral::analyze::without_alerted_activity(&today, &analysis)
    {
        today.profiles = profiles;
        report.push_str(&format!(
            "\nbaseline update: the activity of {} incident{} at medium or above ({} flow{}, {} log event{}) was kept out of the baseline; --fold-alerted folds it in\n",
            kept.incidents,
            if kept.incidents == 1 { "" } else { "s" },
            kept.flows,
            if kept.flows == 1 { "" } else { "s" },
            kept.events,
            if kept.events == 1 { "" } else { "s" },
        ));
    }
    let terminal = match &args.output {
        Some(p) if !is_stdout(Some(p)) => false,
        None if json_on_stdout => std::io::IsTerminal::is_terminal(&std::io::stderr()),
        _ => std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    let report =
        lateral::report::text::wrap::wrap(&report, crate::cli::output::report_width(terminal));
    match &args.output {
        Some(p) if !is_stdout(Some(p)) => write_file(p, report.as_bytes())?,
        Some(_) => write_stdout(report.as_bytes(), "the report")?,
        // Any failure here stops before the baseline is touched, so a rerun
        // reports the same.
        None if json_on_stdout => eprint!("{report}"),
        None => write_stdout(report.as_bytes(), "the report")?,
    }
    let mut written = None;
    if args.update {
        base.update(
            today,
            &UpdateOptions {
                age_out_days: args.age_out_days,
            },
        );
        written = Some(base.save(&args.baseline)?);
    }
    if args.stats {
        let mut s = String::from("lateral sweep: statistics\n");
        match &summary {
            Some(sum) => line(
                &mut s,
                "summary",
                format!(
                    "{} inputs, {} flows, {} log events",
                    sum.inputs.len(),
                    analysis.detect_counts.0,
                    analysis.detect_counts.1
                ),
            ),
            None => input_stats(&mut s, &run, threads),
        }
        line(&mut s, "novelties", novelties.len());
        line(&mut s, "sweep time", format!("{sweep_secs:.3}s"));
        crate::cli::analyze_cmd::detect_stats(&mut s, &analysis);
        crate::cli::analyze_cmd::sigma_stats(&mut s, sigma_pass.as_ref());
        if let Some(w) = written {
            baseline_stats(&mut s, &base, w, 0.0, 0.0);
        }
        eprint!("{s}");
    }
    Ok(match &summary {
        Some(s) if !s.is_clean() => crate::cli::EXIT_PARTIAL,
        Some(_) => crate::cli::EXIT_CLEAN,
        None => exit_for(&run),
    })
}

/// Runs `lateral baseline info`.
pub fn info(args: InfoArgs) -> anyhow::Result<u8> {
    let base = Baseline::load(&args.baseline)?;
    let size = std::fs::metadata(&args.baseline).map_or(0, |m| m.len());
    let mut so = std::io::stdout().lock();
    if args.json {
        let doc = base.info();
        serde_json::to_writer(&mut so, &doc).context("writing")?;
        so.write_all(b"\n").context("writing")?;
    } else {
        so.write_all(lateral::report::text::baseline::render_info(&base, size).as_bytes())
            .context("writing")?;
    }
    so.flush().context("writing")?;
    Ok(crate::cli::EXIT_CLEAN)
}

/// Runs `lateral profile`.
pub fn profile(args: ProfileArgs) -> anyhow::Result<u8> {
    let base = Baseline::load(&args.baseline)?;
    let Some(view) = base.host_view(&args.host, args.top) else {
        eprintln!(
            "lateral: {} is not in the baseline {} ({} hosts; try an IP address or a short name)",
            args.host,
            args.baseline.display(),
            base.profiles.len()
        );
        return Ok(EXIT_NOT_FOUND);
    };
    let mut so = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut so, &view).context("writing the profile")?;
        so.write_all(b"\n").context("writing the profile")?;
    } else {
        so.write_all(lateral::report::text::profile::render(&view).as_bytes())
            .context("writing the profile")?;
    }
    so.flush().context("writing the profile")?;
    Ok(crate::cli::EXIT_CLEAN)
}

fn input_stats(s: &mut String, run: &EventRun, threads: usize) {
    let bytes: u64 = run.inputs.iter().map(|r| r.bytes).sum();
    line(s, "files", run.inputs.len());
    line(s, "threads", threads);
    line(s, "bytes", format!("{} ({bytes})", human_bytes(bytes)));
    line(
        s,
        "events",
        format!(
            "{} from logs, {} flows from captures",
            run.events.len() as u64 + run.folded,
            run.flows.len()
        ),
    );
    line(s, "read time", format!("{:.3}s", run.secs));
    s.push_str("  per input:\n");
    for r in &run.inputs {
        let status = if r.is_complete() { "ok" } else { "PARTIAL" };
        s.push_str(&format!(
            "    {status:<7} {:<8} {:>9} records {:>9} events {:>8} skipped {:>10}  {}\n",
            r.format.unwrap_or("-"),
            r.records,
            r.events + r.flows,
            r.diag.total(),
            human_bytes(r.bytes),
            r.name
        ));
        for (reason, n) in &r.diag.counts {
            s.push_str(&format!("            {n:>9} skipped: {reason}\n"));
        }
    }
}

fn baseline_stats(
    s: &mut String,
    b: &Baseline,
    w: lateral::baseline::file::Written,
    build_secs: f64,
    write_secs: f64,
) {
    let c = b.counts();
    line(s, "hosts", c.hosts);
    line(s, "edges", c.edges);
    line(s, "logons", c.logons);
    line(
        s,
        "baseline bytes",
        format!(
            "{} on disk ({}), {} before compression",
            human_bytes(w.file_bytes),
            w.file_bytes,
            human_bytes(w.decoded_bytes)
        ),
    );
    if build_secs > 0.0 {
        line(s, "profile time", format!("{build_secs:.3}s"));
    }
    if write_secs > 0.0 {
        line(s, "write time", format!("{write_secs:.3}s"));
    }
}
