//! `lateral analyze` and `lateral config`: flags become a validated
//! configuration and learning split, the library analyses, and the
//! outcome becomes a report, JSON Lines and an exit code.

use super::{EXIT_CLEAN, EXIT_PARTIAL, EXIT_USAGE};
use crate::cli::progress::Progress;
use anyhow::Context as _;
use clap::Args;
use lateral::analyze::{Learning, analyze};
use lateral::collect::pipeline::{FlowRunOptions, run_events, total_size};
use lateral::config::{Config, DEFAULT_TOML};
use lateral::input;
use lateral::report::text::incidents::{LearnedFrom, render};
use lateral::stats::{human_bytes, human_rate, line};
use std::path::PathBuf;

/// Arguments of `lateral analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Captures and logs (mixed freely; gzip or zstd or not), directories, or `-`.
    #[arg(required_unless_present = "summary", conflicts_with = "summary")]
    inputs: Vec<PathBuf>,
    /// Judge the records of this summary (from `lateral summary build` or
    /// `summary merge`) instead of reading inputs: the same alerts as
    /// reading all the shards' inputs at once (docs/sharding.md).
    #[arg(long, conflicts_with_all = ["sigma", "no_analyzers"])]
    summary: Option<PathBuf>,
    /// Do not run the SMB, DCE-RPC and NTLM analyzers on captures.
    #[arg(long)]
    no_analyzers: bool,
    /// Read the inputs once and hold every record, instead of reading
    /// them twice and folding the learning part as it is read (faster;
    /// memory grows with the records). Standard input is always read once.
    #[arg(long)]
    one_pass: bool,
    /// Keep every judged log event for the detectors, even those no
    /// enabled rule reads, and every judged connection record, even a
    /// flood's that no rule reads (a check that dropping them changes
    /// nothing).
    #[arg(long, hide = true)]
    keep_judged: bool,
    /// Keep the learning state under about SIZE (e.g. 512M, 2G): past
    /// their share (half of it), the profile builders of the learning part
    /// spill sorted runs to disk, merged by key at the end; the alerts are
    /// the same byte for byte (docs/speed.md). Needs inputs that are files
    /// (read twice) and a learning part read from them.
    #[arg(long, value_name = "SIZE", value_parser = lateral::profile::spill::parse_size, conflicts_with_all = ["one_pass", "baseline", "summary"])]
    memory_limit: Option<u64>,
    /// Where `--memory-limit` spills: a fresh directory is made in DIR and
    /// removed at the end (default: the system's temporary directory, $TMPDIR).
    #[arg(long, value_name = "DIR", requires = "memory_limit")]
    spill_dir: Option<PathBuf>,
    /// Judge every record against this baseline file (from `lateral baseline build`)
    /// instead of learning from the first part of the input.
    #[arg(long, conflicts_with_all = ["learn", "learn_until"])]
    baseline: Option<PathBuf>,
    /// Learn from records before this RFC 3339 time, judge the rest.
    #[arg(long, value_parser = parse_time, conflicts_with = "learn")]
    learn_until: Option<lateral::model::event::Timestamp>,
    /// Learn from this share of the records' time span, written as a
    /// percentage (`60%`) or a fraction (`0.6`), or `auto` (the default):
    /// 60% when the records span a day or more, else nothing, judging every
    /// record against role priors (as `0%` does). A bare number above 1
    /// (`60`) is refused as ambiguous.
    #[arg(long, value_parser = parse_learning)]
    learn: Option<Learning>,
    /// Write alerts as ECS JSON Lines to this file (`-` for standard output,
    /// which moves the report to standard error).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Detection settings (TOML; see `lateral config --default`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Incidents shown in the report.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// List the alerts that `[[suppress]]` entries of the configuration
    /// took out (the report always counts them).
    #[arg(long)]
    show_suppressed: bool,
    /// Print per-stage time and throughput to stderr (read, profile, detect).
    #[arg(long)]
    stats: bool,
    /// Also evaluate these Sigma rules (a rule file or a folder of them)
    /// against every Windows record; hits become alerts (docs/sigma.md).
    #[arg(long, value_name = "PATH")]
    sigma: Option<PathBuf>,
    #[command(flatten)]
    logs: super::LogArgs,
    #[command(flatten)]
    exports: super::output::ExportArgs,
}

/// The Sigma pass of a run, for `--stats`.
pub(crate) struct SigmaPass {
    /// Seconds spent loading and compiling the rules.
    load_secs: f64,
    /// Seconds spent reading the inputs and evaluating the rules.
    scan_secs: f64,
    /// Rules loaded, and those the candidate index narrows by literal.
    rules: (usize, usize),
    /// Rules lateral's own matcher evaluates, and those left to
    /// `rsigma-eval` as "N reason" parts.
    own: (usize, String),
    /// What the scan counted.
    stats: lateral::sigma::scan::ScanStats,
}

/// Loads `--sigma` rules (printing the load report to standard error),
/// scans `inputs` with them and returns the hits, ready to merge into the
/// run's events, with what the pass took; nothing without `--sigma`.
pub(crate) fn sigma_hits(
    rules: Option<&PathBuf>,
    inputs: &[PathBuf],
    logs: &lateral::collect::pipeline::LogOptions,
    quiet: bool,
) -> anyhow::Result<(Vec<lateral::model::event::LogEvent>, Option<SigmaPass>)> {
    let Some(path) = rules else {
        return Ok((Vec::new(), None));
    };
    let start = std::time::Instant::now();
    let rules = lateral::sigma::load(path)?;
    let load_secs = start.elapsed().as_secs_f64();
    if !quiet {
        eprintln!("{}", rules.report.summary());
    }
    let start = std::time::Instant::now();
    let (paths, _) = input::expand(inputs);
    let opts = lateral::sigma::scan::ScanOptions {
        year: logs.year,
        utc_offset: logs.utc_offset,
        ..Default::default()
    };
    let (hits, stats) = lateral::sigma::scan::scan(&rules, &paths, opts);
    let scan_secs = start.elapsed().as_secs_f64();
    if !quiet {
        eprintln!(
            "sigma: {} record(s) evaluated, {} hit(s) ({} informational, not alerted)",
            stats.records, stats.hits, stats.informational
        );
    }
    let pass = SigmaPass {
        load_secs,
        scan_secs,
        rules: (rules.len(), rules.indexed()),
        own: {
            let (n, why) = rules.own_matcher();
            let parts: Vec<String> = why.iter().map(|(w, c)| format!("{c} {w}")).collect();
            (n, parts.join(", "))
        },
        stats,
    };
    Ok((hits, Some(pass)))
}

/// The `sigma` line of `--stats` (analyze and sweep): the rules, the
/// records the pass read and its rate, and how many rules the candidate
/// index left to evaluate per record.
pub(crate) fn sigma_stats(s: &mut String, pass: Option<&SigmaPass>) {
    let Some(p) = pass else { return };
    let records = p.stats.records;
    line(
        s,
        "sigma",
        format!(
            "{:.3}s  {records} records{}, {} hits, {} records/s; {} rules ({} narrowed by literal, {} by lateral's matcher, {} by rsigma-eval{}{}, {:.3}s to load), {:.2} evaluated per record",
            p.scan_secs,
            match (p.stats.linux, p.stats.audit_evicted) {
                (0, _) => String::new(),
                (n, 0) => format!(" ({n} Linux)"),
                (n, e) => format!(" ({n} Linux, {e} audit events joined before their end)"),
            },
            p.stats.hits,
            human_rate(records as f64, p.scan_secs),
            p.rules.0,
            p.rules.1,
            p.own.0,
            p.rules.0.saturating_sub(p.own.0),
            if p.own.1.is_empty() { "" } else { ": " },
            p.own.1,
            p.load_secs,
            p.stats.evaluated as f64 / records.max(1) as f64
        ),
    );
}

/// Arguments of `lateral config`.
#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Print the default configuration, commented.
    #[arg(long, conflicts_with = "check")]
    default: bool,
    /// Check that a configuration file parses, and print it with every default filled in.
    #[arg(long)]
    check: Option<PathBuf>,
}

fn parse_time(s: &str) -> Result<lateral::model::event::Timestamp, String> {
    lateral::model::event::Timestamp::parse_rfc3339(s)
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time like 2011-07-25T01:30:00Z"))
}

fn parse_learning(s: &str) -> Result<Learning, String> {
    if s.eq_ignore_ascii_case("auto") {
        Ok(Learning::Auto)
    } else {
        parse_share(s).map(Learning::Fraction)
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    let (num, pct) = match s.strip_suffix('%') {
        Some(n) => (n, true),
        None => (s, false),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a share like 60% or 0.6"))?;
    let share = if pct { v / 100.0 } else { v };
    if share.is_finite() && (0.0..=1.0).contains(&share) {
        Ok(share)
    } else if !pct && v.is_finite() && v > 1.0 && v <= 100.0 {
        Err(format!(
            "`--learn {s}`: write a share as a percentage `{s}%` or a fraction `{}`",
            v / 100.0
        ))
    } else {
        Err(format!(
            "`--learn {s}`: a share must be between 0% and 100% (a percentage like `60%` or a fraction like `0.6`)"
        ))
    }
}

/// The Sigma rules a run evaluates: `--sigma`, else the configuration's
/// `[sigma] rules` (relative to the configuration file's folder). With
/// `--summary` the configuration's rules are passed over, with a note:
/// they are evaluated against the input files, which a summary does not
/// name.
pub(crate) fn sigma_rules(
    flag: Option<PathBuf>,
    config: &Config,
    config_path: Option<&PathBuf>,
    summary: bool,
    command: &str,
) -> Option<PathBuf> {
    if flag.is_some() {
        return flag;
    }
    let rules = config.sigma.rules.as_deref()?;
    if summary {
        eprintln!(
            "lateral {command}: note: the configuration's [sigma] rules are not evaluated with --summary (they read the input files)"
        );
        return None;
    }
    let rules = PathBuf::from(rules);
    Some(match config_path.and_then(|p| p.parent()) {
        Some(dir) if rules.is_relative() => dir.join(rules),
        _ => rules,
    })
}

/// Reads and validates a configuration file.
pub(crate) fn load_config(path: Option<&PathBuf>) -> Result<Config, String> {
    let Some(p) = path else {
        return Ok(Config::default());
    };
    let bytes =
        lateral::error::read_capped(p, lateral::config::MAX_CONFIG_FILE, "a configuration file")
            .map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", p.display()))?;
    Config::from_toml(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// Runs `lateral config`.
pub fn config(args: ConfigArgs) -> anyhow::Result<u8> {
    if args.default {
        print!("{DEFAULT_TOML}");
        return Ok(EXIT_CLEAN);
    }
    let Some(p) = args.check else {
        eprintln!("lateral config: give --default or --check FILE");
        return Ok(EXIT_USAGE);
    };
    match load_config(Some(&p)) {
        Ok(c) => {
            print!(
                "{}",
                toml::to_string(&c).context("printing the configuration")?
            );
            Ok(EXIT_CLEAN)
        }
        Err(e) => {
            eprintln!("lateral config: {e}");
            Ok(EXIT_USAGE)
        }
    }
}

/// Runs `lateral analyze`.
/// The `detect` line of `--stats` (analyze and sweep): time, records
/// judged, alerts, incidents, rate.
/// The report's baseline lines as one line, for the HTML page's header.
pub(crate) fn baseline_line(a: &lateral::analyze::Analysis, from: &LearnedFrom) -> String {
    let mut s = String::new();
    lateral::report::text::incidents::render_baseline(&mut s, a, from);
    s.lines().collect::<Vec<_>>().join("; ")
}

pub(crate) fn detect_stats(s: &mut String, analysis: &lateral::analyze::Analysis) {
    let judged = analysis.detect_counts.0 + analysis.detect_counts.1;
    line(
        s,
        "detect",
        format!(
            "{:.3}s  {judged} records, {} alerts, {} incidents, {} records/s",
            analysis.detect_secs,
            analysis.alerts.len(),
            analysis.incidents.len(),
            human_rate(judged as f64, analysis.detect_secs)
        ),
    );
}

pub fn analyze_cmd(
    mut args: AnalyzeArgs,
    threads: usize,
    quiet: bool,
    force: bool,
) -> anyhow::Result<u8> {
    args.exports.refuse_stdout()?;
    let mut exports = std::mem::take(&mut args.exports);
    let mut outputs = exports.outputs();
    if let Some(p) = &args.json {
        outputs.insert(0, super::output::Output::file("--json", p));
    }
    if !outputs.is_empty() {
        let inputs = args
            .inputs
            .iter()
            .chain(args.baseline.iter())
            .chain(args.summary.iter())
            .chain(args.config.iter())
            .map(PathBuf::as_path);
        super::output::check(&outputs, &super::output::Inputs::new(inputs), force)?;
    }
    drop(outputs);
    let config = match load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lateral analyze: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    args.sigma = sigma_rules(
        args.sigma.take(),
        &config,
        args.config.as_ref(),
        args.summary.is_some(),
        "analyze",
    );
    let learning = match (args.learn_until, args.learn) {
        (Some(t), _) => Learning::Until(t),
        (None, Some(l)) => l,
        (None, None) => Learning::default(),
    };
    // Load first: a damaged baseline stops the run before any input is read.
    let stored = match &args.baseline {
        Some(p) => Some(
            lateral::baseline::Baseline::load(p)
                .with_context(|| format!("loading the baseline {}", p.display()))?,
        ),
        None => None,
    };
    let learn_streamed = (stored.is_none() && !args.one_pass).then_some(learning);
    let reader = (!args.keep_judged).then(|| lateral::detect::JudgedReader::new(&config));
    let spill = match args.memory_limit {
        Some(limit) => Some(
            lateral::profile::spill::Spiller::new(limit, args.spill_dir.as_deref())
                .context("--memory-limit")?,
        ),
        None => None,
    };
    let Some(mut read) = read_records(
        &args,
        threads,
        quiet,
        learn_streamed,
        reader.as_ref(),
        &config.network,
        spill.as_ref(),
    )?
    else {
        return Ok(EXIT_USAGE);
    };
    let streamed = read.learned.take();
    let (flows, events) = (&read.flows, &read.events);
    // Records read: those judged, and those learned as they were read.
    let (learned_flows, learned_events) = streamed.as_ref().map_or((0, 0), |l| l.learned.counts);
    // Judged events no rule reads, counted and dropped as they were read.
    let unread = streamed.as_ref().map_or(Default::default(), |l| l.unread);
    // Judged connection records of light sources, likewise.
    let light_flows = streamed
        .as_ref()
        .and_then(|l| l.light.as_ref())
        .map_or(0, |l| l.records);
    // Judged events held compactly, not among `events`.
    let held_events = streamed.as_ref().map_or(0, |l| l.held.len());
    if flows.is_empty()
        && events.is_empty()
        && learned_flows + learned_events + light_flows + held_events == 0
    {
        // Nothing to judge: an empty report dated 1970 would read as "all
        // clear". Say why instead, and write no outputs.
        read.print_messages(quiet);
        eprintln!(
            "lateral analyze: no connection records or log events were read from the inputs: nothing was judged"
        );
        return Ok(EXIT_PARTIAL);
    }
    let analysis = match (&stored, streamed) {
        (Some(b), _) => lateral::analyze::analyze_against(flows, events, b, &config),
        (
            None,
            Some(Folded {
                learned,
                cut,
                whole,
                unread,
                light,
                held,
            }),
        ) => lateral::analyze::analyze_learned(
            flows, events, &held, learned, cut, whole, unread, light, &config,
        ),
        (None, None) => analyze(flows, events, learning, &config),
    };
    let from = match &args.baseline {
        Some(p) => LearnedFrom::File(p.display().to_string()),
        None => LearnedFrom::FirstPart,
    };

    exports.write(
        &analysis.alerts,
        &analysis.incidents,
        &lateral::report::html::PageInfo {
            command: "lateral analyze".into(),
            inputs: read.given.clone(),
            summary: baseline_line(&analysis, &from),
        },
    )?;
    let mut report = render(&analysis, &from, args.top);
    report.push_str(&lateral::report::text::incidents::render_suppressed(
        &analysis,
        args.show_suppressed,
    ));
    super::output::write_alerts_and_report(
        args.json.as_deref(),
        &analysis.alerts,
        &analysis.incidents,
        &report,
    )?;
    read.print_messages(quiet);
    if args.stats {
        let mut s = String::from("lateral analyze: statistics\n");
        let (all_flows, all_events) = (
            flows.len() + learned_flows + light_flows,
            events.len() + learned_events + unread.events + held_events,
        );
        let records = all_flows + all_events;
        line(&mut s, "files", read.files);
        line(&mut s, "threads", threads);
        line(
            &mut s,
            "read",
            format!(
                "{:.3}s  {} ({} bytes), {} records ({} flows, {} log events), {} records/s",
                read.secs,
                human_bytes(read.bytes),
                read.bytes,
                records,
                all_flows,
                all_events,
                human_rate(records as f64, read.secs)
            ),
        );
        let learned = analysis.learn_counts.0 + analysis.learn_counts.1;
        line(
            &mut s,
            "profile",
            format!(
                "{:.3}s  {learned} records, {} hosts, {} records/s",
                analysis.profile_secs,
                analysis.baseline_hosts,
                human_rate(learned as f64, analysis.profile_secs)
            ),
        );
        detect_stats(&mut s, &analysis);
        if unread.events > 0 {
            line(
                &mut s,
                "not held",
                format!(
                    "{} judged log events no enabled rule reads (counted, dropped as read)",
                    unread.events
                ),
            );
        }
        if light_flows > 0 {
            line(
                &mut s,
                "not held",
                format!(
                    "{light_flows} judged connection records of outside sources of failed attempts only (no rule reads them; counted, dropped as read)"
                ),
            );
        }
        sigma_stats(&mut s, read.sigma.as_ref());
        if let Some(sp) = &spill {
            line(&mut s, "memory limit", sp.stats().describe());
        }
        eprint!("{s}");
    }
    Ok(if read.clean { EXIT_CLEAN } else { EXIT_PARTIAL })
}

/// The records an analysis judges, read from the inputs or a summary.
struct Records {
    flows: Vec<lateral::model::event::Flow>,
    events: Vec<lateral::model::event::LogEvent>,
    /// Inputs as given, for the HTML page.
    given: Vec<String>,
    /// Every input was read completely.
    clean: bool,
    /// Files read (inputs, or the summary's inputs).
    files: usize,
    /// Bytes read (decompressed inputs, or the summary file).
    bytes: u64,
    /// Seconds spent reading.
    secs: f64,
    /// What the inputs said (the run's, or the summary's stored copy).
    messages: Messages,
    /// The Sigma pass, when `--sigma` was given.
    sigma: Option<SigmaPass>,
    /// The learning part when it was folded as it was read (its records
    /// are not in `flows` and `events`), with the cut and the span of
    /// every record.
    learned: Option<Folded>,
}

/// A learning part folded as it was read: what was learned, the cut, and
/// the time span of every record.
struct Folded {
    learned: lateral::analyze::Learned,
    cut: lateral::model::event::Timestamp,
    whole: Option<(
        lateral::model::event::Timestamp,
        lateral::model::event::Timestamp,
    )>,
    /// Judged events no rule reads: counted, not held.
    unread: lateral::analyze::Unread,
    /// Judged connection records of light sources (role priors): no rule
    /// reads them; counted, not held.
    light: Option<lateral::profile::light::LightFold>,
    /// Judged events held compactly, not among the events.
    held: lateral::analyze::HeldLogons,
}

enum Messages {
    Run {
        path_errors: Vec<String>,
        notes: Vec<String>,
        inputs: Vec<lateral::collect::pipeline::InputReport>,
    },
    Summary(lateral::baseline::Summary),
}

impl Records {
    fn print_messages(&self, quiet: bool) {
        match &self.messages {
            Messages::Run {
                path_errors,
                notes,
                inputs,
            } => super::input_messages::print(path_errors, notes, inputs, quiet),
            Messages::Summary(s) => super::summary::print_messages(s, quiet),
        }
    }
}

/// Reads the records to judge: the summary of `--summary`, or the inputs
/// (with `--sigma` hits). `None` after printing why a summary cannot be used.
/// With `learning` and inputs that can be read twice, the learning part is
/// folded into profiles as it is read and only the rest is held; when
/// nothing is learned, the records of outside sources of failed attempts
/// only (a flood's, judged by `net`) are read past, not held, unless
/// `--keep-judged` (`lateral::profile::light::split_light`).
fn read_records(
    args: &AnalyzeArgs,
    threads: usize,
    quiet: bool,
    learning: Option<Learning>,
    reader: Option<&lateral::detect::JudgedReader>,
    net: &lateral::detect::settings::NetworkConfig,
    spill: Option<&lateral::profile::spill::Spiller>,
) -> anyhow::Result<Option<Records>> {
    if let Some(p) = &args.summary {
        let started = std::time::Instant::now();
        let mut sum = match lateral::baseline::Summary::load(p) {
            Ok(s) => s,
            Err(e) => {
                let code = super::summary::summary_failed("analyze", &e);
                if code == EXIT_USAGE {
                    return Ok(None);
                }
                anyhow::bail!("loading the summary {}: {e}", p.display());
            }
        };
        let bytes = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        return Ok(Some(Records {
            flows: std::mem::take(&mut sum.flows),
            events: std::mem::take(&mut sum.events),
            given: sum.given.clone(),
            clean: sum.is_clean(),
            files: sum.inputs.len(),
            bytes,
            secs: started.elapsed().as_secs_f64(),
            messages: Messages::Summary(sum),
            sigma: None,
            learned: None,
        }));
    }
    args.logs.only_log_formats("analyze")?;
    let logs = args.logs.options();
    // Analysis holds the flows it judges in memory anyway: they stay there
    // as they are collected, never written to disk and read back, never
    // copied. Failed attempts (a flood's) are spilled when many: with
    // nothing learned, those of light sources are dropped as they are read
    // back (only read twice from files, so not on the one-pass path).
    let mut opts = FlowRunOptions {
        threads,
        spill_at: usize::MAX,
        ..FlowRunOptions::default()
    };
    if learning.is_some() && !args.keep_judged {
        opts.spill_attempts_at = lateral::collect::flow_store::DEFAULT_SPILL_AT;
    }
    opts.analyzers.enabled = !args.no_analyzers;
    let (paths, path_errors) = input::expand(&args.inputs);
    let stream = learning.filter(|_| lateral::profile::stream::can_stream(&paths));
    if spill.is_some() && stream.is_none() {
        anyhow::bail!(
            "--memory-limit needs inputs that are files (they are read twice); standard input and pipes cannot be"
        );
    }
    if let Some(learning) = stream {
        // Read twice: a survey, then the fold (see `profile::stream`).
        let progress = Progress::start(total_size(&paths).saturating_mul(2), quiet);
        let (hits, sigma) = sigma_hits(args.sigma.as_ref(), &args.inputs, &logs, quiet)?;
        let read = lateral::analyze::read_and_learn(
            &paths,
            path_errors,
            &opts,
            &logs,
            &progress.counter,
            hits,
            learning,
            reader,
            spill,
        );
        progress.finish();
        let mut s = read.context("reading the inputs")?;
        let sorted = std::mem::take(&mut s.run.flows);
        if let Some(note) = &sorted.attempts_kept {
            // Not an error: the analysis is whole, only its memory is not bounded.
            eprintln!("lateral analyze: warning: {note}");
        }
        let (flows, light) = if s.learned.counts == (0, 0) && !args.keep_judged {
            // Role priors: a flood's sources are found as the records are
            // read again, and their records left out.
            let (flows, light) = lateral::profile::light::split_light(
                sorted,
                &s.run.events,
                &s.learned.names,
                |ip| net.is_internal(ip),
                |ip| net.is_known_admin(ip) || net.is_scanner(ip),
            )
            .context("collecting connection records")?;
            (flows, Some(light))
        } else {
            // The learned connection records are a prefix: only the rest is kept.
            let cut = s.cut;
            let flows = sorted
                .into_vec_where(|f| f.ts >= cut)
                .context("collecting connection records")?;
            (flows, None)
        };
        let mut records = run_records(args, s.run, flows, sigma);
        records.learned = Some(Folded {
            learned: s.learned,
            cut: s.cut,
            whole: s.whole,
            unread: s.unread,
            light,
            held: s.held,
        });
        return Ok(Some(records));
    }
    let progress = Progress::start(total_size(&paths), quiet);
    let mut run = run_events(&paths, path_errors, &opts, &logs, &progress.counter);
    progress.finish();
    let (hits, sigma) = sigma_hits(args.sigma.as_ref(), &args.inputs, &logs, quiet)?;
    lateral::sigma::scan::merge_events(&mut run.events, hits);
    if let Some(e) = &run.store_error {
        anyhow::bail!("{e}");
    }
    let flows = std::mem::take(&mut run.flows)
        .into_vec()
        .context("collecting connection records")?;
    Ok(Some(run_records(args, run, flows, sigma)))
}

/// The records of a run of the inputs, with `flows` to judge.
fn run_records(
    args: &AnalyzeArgs,
    mut run: lateral::collect::pipeline::EventRun,
    flows: Vec<lateral::model::event::Flow>,
    sigma: Option<SigmaPass>,
) -> Records {
    Records {
        flows,
        events: std::mem::take(&mut run.events),
        given: args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        clean: run.is_clean(),
        files: run.inputs.len(),
        bytes: run.inputs.iter().map(|r| r.bytes).sum(),
        secs: run.secs,
        messages: Messages::Run {
            path_errors: run.path_errors,
            notes: run.notes,
            inputs: run.inputs,
        },
        sigma,
        learned: None,
    }
}
