//! `lateral report`: alerts an earlier `analyze` or `sweep` stored (`--json`)
//! suppressed and joined into incidents again under today's configuration,
//! and written out as the run would have: the terminal report, JSON Lines
//! and the HTML, Timesketch and graph exports. The captures and logs are
//! not read again.

use super::{EXIT_CLEAN, EXIT_PARTIAL, EXIT_USAGE};
use anyhow::Context as _;
use clap::Args;
use lateral::report::text::incidents::{LearnedFrom, render, render_suppressed};
use lateral::stored::{MAX_ALERTS_FILE, StoredAlerts};
use std::io::Read as _;
use std::path::PathBuf;

/// Arguments of `lateral report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Alerts as JSON Lines (`lateral analyze --json FILE`, `lateral sweep
    /// --json FILE`), one or more files, or `-` for standard input. An
    /// alert in two files is kept once.
    #[arg(required = true)]
    alerts: Vec<PathBuf>,
    /// Detection configuration (TOML): its `[[suppress]]` entries and
    /// `[incident]` settings are applied to the stored alerts.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Incidents to show in the report.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// List every alert a `[[suppress]]` entry took out.
    #[arg(long)]
    show_suppressed: bool,
    /// Write the alerts kept, with their new incidents, as JSON Lines to
    /// this file (`-` for standard output; the report then goes to
    /// standard error).
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    exports: super::output::ExportArgs,
}

/// Reads one alerts file (or standard input), at most [`MAX_ALERTS_FILE`].
fn read_alerts_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut s = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_ALERTS_FILE + 1)
            .read_to_end(&mut s)
            .context("reading alerts from standard input")?;
        if s.len() as u64 > MAX_ALERTS_FILE {
            anyhow::bail!(
                "standard input: more than the {} MiB of alerts lateral report reads",
                MAX_ALERTS_FILE >> 20
            );
        }
        return Ok(s);
    }
    Ok(lateral::error::read_capped(
        path,
        MAX_ALERTS_FILE,
        "an alerts file",
    )?)
}

/// Runs `lateral report`.
pub fn report_cmd(mut args: ReportArgs, quiet: bool, force: bool) -> anyhow::Result<u8> {
    args.exports.refuse_stdout()?;
    let mut exports = std::mem::take(&mut args.exports);
    let mut outputs = exports.outputs();
    if let Some(p) = &args.json {
        outputs.insert(0, super::output::Output::file("--json", p));
    }
    if !outputs.is_empty() {
        let inputs = args
            .alerts
            .iter()
            .chain(args.config.iter())
            .map(PathBuf::as_path);
        super::output::check(&outputs, &super::output::Inputs::new(inputs), force)?;
    }
    drop(outputs);
    let config = match super::analyze_cmd::load_config(args.config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("lateral report: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut stored = StoredAlerts::default();
    let mut clean = true;
    for path in &args.alerts {
        let bytes = read_alerts_file(path)?;
        let name = path.display().to_string();
        let before = (
            stored.alerts_read(),
            stored.diag.total(),
            stored.other_documents,
        );
        stored.read(&String::from_utf8_lossy(&bytes), &name);
        let read = stored.alerts_read() - before.0;
        let skipped = stored.diag.total() - before.1;
        let other = stored.other_documents - before.2;
        if read == 0 && !bytes.iter().all(u8::is_ascii_whitespace) {
            clean = false;
            eprintln!(
                "lateral report: warning: {name}: no alerts read ({skipped} lines skipped, {other} documents of another kind)"
            );
        }
    }
    for (reason, n) in &stored.diag.counts {
        clean = false;
        eprintln!("lateral report: {n} lines skipped: {reason}");
    }
    for (reason, samples) in &stored.diag.samples {
        for s in samples {
            eprintln!("lateral report:   {}: {reason} {}", s.origin, s.detail);
        }
    }
    stored.finish();
    if stored.without_hosts > 0 && !quiet {
        eprintln!(
            "lateral report: note: {} alerts carry no lateral.hosts (written by an older lateral): their hosts' roles are unknown, so `role` entries and domain-controller hubs do not apply to them",
            stored.without_hosts
        );
    }
    let read = stored.alerts.len();
    let analysis = lateral::stored::rescore(stored, &config);
    let from = LearnedFrom::Stored {
        files: args
            .alerts
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        alerts: read,
    };
    let mut summary = String::new();
    lateral::report::text::incidents::render_baseline(&mut summary, &analysis, &from);
    exports.write(
        &analysis.alerts,
        &analysis.incidents,
        &lateral::report::html::PageInfo {
            command: "lateral report".into(),
            inputs: args
                .alerts
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            summary: summary.lines().collect::<Vec<_>>().join("; "),
        },
    )?;
    let mut report = render(&analysis, &from, args.top);
    report.push_str(&render_suppressed(&analysis, args.show_suppressed));
    super::output::write_alerts_and_report(
        args.json.as_deref(),
        &analysis.alerts,
        &analysis.incidents,
        &report,
    )?;
    Ok(if clean { EXIT_CLEAN } else { EXIT_PARTIAL })
}
