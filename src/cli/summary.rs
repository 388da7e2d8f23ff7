//! `lateral summary build` and `summary merge`: today's records in shards,
//! read on many machines and joined for `analyze --summary`
//! (docs/sharding.md). The work is in `lateral::baseline::summary`.

use crate::cli::LogArgs;
use crate::cli::output::{Kind, Output};
use crate::cli::progress::Progress;
use clap::{Args, Subcommand};
use lateral::baseline::{Summary, SummaryError};
use lateral::collect::pipeline::{FlowRunOptions, run_events, total_size};
use lateral::input;
use lateral::stats::{human_bytes, line};
use std::path::PathBuf;

/// `lateral summary ...`.
#[derive(Subcommand, Debug)]
pub enum SummaryCommand {
    /// Read one shard of the records to judge (a day, a sensor, a range of
    /// hosts) into a summary, for `summary merge` and `analyze --summary`.
    #[command(after_help = BUILD_HELP)]
    Build(BuildArgs),
    /// Join summaries of shards into one.
    #[command(after_help = MERGE_HELP)]
    Merge(MergeArgs),
}

const BUILD_HELP: &str =
    "The summary holds the shard's normalised records; `analyze --summary` of the
merged summaries of shards gives the alerts `analyze` gives over all their
inputs at once, byte for byte (docs/sharding.md).

Exit status:
  0  clean: every input was read completely and the summary was written
  1  fatal: nothing was written (e.g. the summary could not be written)
  2  usage: the command line is wrong
  3  partial: the summary was written, but some input was missing, not a
     format lateral reads, truncated, or corrupt (see the warnings on stderr;
     `analyze --summary` repeats them)";

const MERGE_HELP: &str = "Any grouping and order of merges gives the same file, byte for byte.

Exit status:
  0  the summary was written
  1  fatal: a summary could not be read (damaged, truncated) or the output
     could not be written
  2  usage: the command line is wrong, a file is not a summary or of another
     version, two summaries read the same input, or the output is one of
     the summaries";

/// `lateral summary build`.
#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Captures and logs of the shard (mixed freely), directories, or `-`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// The summary file to write (replaced atomically).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Do not run the SMB, DCE-RPC and NTLM analyzers on captures.
    #[arg(long)]
    no_analyzers: bool,
    /// Print the records and the summary's size to stderr.
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    logs: LogArgs,
}

/// `lateral summary merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Summaries, from `summary build` or `summary merge`.
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// The file to write (replaced atomically; never one of the summaries).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Print the summaries' and the result's sizes to stderr.
    #[arg(long)]
    stats: bool,
}

fn check_outputs<'a>(
    output: &PathBuf,
    inputs: impl Iterator<Item = &'a PathBuf>,
    force: bool,
) -> anyhow::Result<()> {
    crate::cli::output::check(
        &[Output {
            flag: "-o",
            path: output,
            kind: Kind::Baseline,
        }],
        &crate::cli::output::Inputs::new(inputs.map(PathBuf::as_path)),
        force,
    )?;
    Ok(())
}

/// The summary of `args.inputs` as `analyze` reads them.
pub(crate) fn read_summary(
    inputs: &[PathBuf],
    logs: &LogArgs,
    no_analyzers: bool,
    threads: usize,
    quiet: bool,
) -> anyhow::Result<Summary> {
    logs.only_log_formats("summary")?;
    let mut opts = FlowRunOptions {
        threads,
        spill_at: usize::MAX,
        ..FlowRunOptions::default()
    };
    opts.analyzers.enabled = !no_analyzers;
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
    let given: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    Ok(Summary::build(&run, &given)?)
}

/// Prints a summary's notes (unless `quiet`) and warnings, as the run
/// that read its inputs did.
pub(crate) fn print_messages(s: &Summary, quiet: bool) {
    if !quiet {
        for n in &s.notes {
            eprintln!("lateral: note: {n}");
        }
    }
    for w in &s.warnings {
        eprintln!("lateral: {w}");
    }
}

fn summary_stats(s: &mut String, sum: &Summary, w: lateral::baseline::Written) {
    line(s, "inputs", sum.inputs.len());
    line(s, "flows", sum.flows.len());
    line(s, "events", sum.events.len());
    line(
        s,
        "summary bytes",
        format!(
            "{} on disk ({}), {} before compression",
            human_bytes(w.file_bytes),
            w.file_bytes,
            human_bytes(w.decoded_bytes)
        ),
    );
}

/// Runs `lateral summary build`.
pub fn build(args: BuildArgs, threads: usize, quiet: bool, force: bool) -> anyhow::Result<u8> {
    check_outputs(&args.output, args.inputs.iter(), force)?;
    let started = std::time::Instant::now();
    let summary = read_summary(&args.inputs, &args.logs, args.no_analyzers, threads, quiet)?;
    let read_secs = started.elapsed().as_secs_f64();
    let written = summary.save(&args.output)?;
    if args.stats {
        let mut s = String::from("lateral summary build: statistics\n");
        line(&mut s, "read", format!("{read_secs:.3}s"));
        summary_stats(&mut s, &summary, written);
        eprint!("{s}");
    }
    Ok(if summary.is_clean() {
        crate::cli::EXIT_CLEAN
    } else {
        crate::cli::EXIT_PARTIAL
    })
}

/// The exit of a summary that cannot be used: the wrong kind of file, its
/// version or an overlap is a usage error (2); damage is fatal (1).
pub(crate) fn summary_failed(cmd: &str, e: &SummaryError) -> u8 {
    use lateral::baseline::FileError;
    eprintln!("lateral {cmd}: {e}");
    match e {
        SummaryError::File(
            FileError::WrongContent { .. }
            | FileError::UnsupportedVersion { .. }
            | FileError::NotABaseline { .. },
        )
        | SummaryError::Version { .. }
        | SummaryError::Overlap { .. } => crate::cli::EXIT_USAGE,
        SummaryError::File(_) | SummaryError::Records(_) => crate::cli::EXIT_FATAL,
    }
}

/// Runs `lateral summary merge`.
pub fn merge(args: MergeArgs, force: bool) -> anyhow::Result<u8> {
    check_outputs(&args.output, args.parts.iter(), force)?;
    let mut seen = std::collections::BTreeMap::new();
    for path in &args.parts {
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if let Some(first) = seen.insert(canon, path) {
            eprintln!(
                "lateral summary merge: {} and {} are the same summary: each shard is merged once",
                first.display(),
                path.display()
            );
            return Ok(crate::cli::EXIT_USAGE);
        }
    }
    let mut parts = Vec::with_capacity(args.parts.len());
    let mut stats = String::new();
    for path in &args.parts {
        let part = match Summary::load(path) {
            Ok(p) => p,
            Err(e) => return Ok(summary_failed("summary merge", &e)),
        };
        if args.stats {
            line(
                &mut stats,
                "part",
                format!(
                    "{} flows, {} events, {} inputs  {}",
                    part.flows.len(),
                    part.events.len(),
                    part.inputs.len(),
                    path.display()
                ),
            );
        }
        parts.push(part);
    }
    let merged = match Summary::merge_all(parts) {
        Ok(Some(m)) => m,
        Ok(None) => anyhow::bail!("no summaries to merge"),
        Err(e) => return Ok(summary_failed("summary merge", &e)),
    };
    let written = merged.save(&args.output)?;
    if args.stats {
        let mut s = String::from("lateral summary merge: statistics\n");
        s.push_str(&stats);
        summary_stats(&mut s, &merged, written);
        eprint!("{s}");
    }
    Ok(crate::cli::EXIT_CLEAN)
}
