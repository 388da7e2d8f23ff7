//! Outputs of the command line. Every output path is checked before a run
//! reads anything, so that no output destroys an input or other evidence:
//!
//! - an output that is also an input (same canonical path, or same device
//!   and inode through a hard link), or lies inside an input directory, is
//!   refused;
//! - an output that is a symbolic link is refused (outputs never write
//!   through links);
//! - an existing file that holds a capture or a log (sniffed from its first
//!   bytes), compressed data, or a baseline (for outputs that are not
//!   baselines) is only replaced with `--force`;
//! - two outputs of one run naming the same file are refused.
//!
//! Files are then written to a temporary file in the output's directory and
//! renamed into place when complete ([`OutFile`]), so a failed or killed
//! run never leaves a half-written output and the previous file stays
//! intact until then.

use std::fs::File;
use std::io::{self, BufWriter, Read as _, Write};
use std::path::{Path, PathBuf};

/// A command line refused before anything was read: printed as is, exit
/// status 2 (usage).
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// What an output path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A file of records, alerts or a report.
    File,
    /// A baseline file: an existing baseline may be replaced.
    Baseline,
    /// A directory a scenario is generated into.
    Directory,
    /// A directory of Parquet files (`events --output-format parquet`): refused
    /// when it is a file, holds an input, or is not empty (unless `force`).
    Dataset,
}

/// One output of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output<'a> {
    /// The option that names it, for messages (`-o`, `--json`).
    pub(crate) flag: &'static str,
    /// The path (`-` is standard output and is not checked).
    pub(crate) path: &'a Path,
    /// What it names.
    pub(crate) kind: Kind,
}

impl<'a> Output<'a> {
    /// An output file named by `flag`.
    pub(crate) fn file(flag: &'static str, path: &'a Path) -> Output<'a> {
        Output {
            flag,
            path,
            kind: Kind::File,
        }
    }
}

/// An input as found on disk.
#[derive(Debug)]
struct Known {
    given: PathBuf,
    canon: Option<PathBuf>,
    id: Option<(u64, u64)>,
    dir: bool,
}

/// The files and directories a run reads.
#[derive(Debug, Default)]
pub(crate) struct Inputs(Vec<Known>);

impl Inputs {
    /// The inputs at `paths` (`-`, standard input, is left out; paths that
    /// do not exist are kept by name only).
    pub(crate) fn new<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Inputs {
        let mut v = Vec::new();
        for p in paths {
            if p.as_os_str() == "-" {
                continue;
            }
            let meta = std::fs::metadata(p).ok();
            v.push(Known {
                given: p.to_path_buf(),
                canon: std::fs::canonicalize(p).ok(),
                id: meta.as_ref().and_then(file_id),
                dir: meta.as_ref().is_some_and(std::fs::Metadata::is_dir),
            });
        }
        Inputs(v)
    }
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// The canonical path an output will have: its own when it exists, else
/// its directory's joined with its name.
fn output_canon(path: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(path) {
        return Some(c);
    }
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::canonicalize(dir).ok().map(|d| d.join(name))
}

/// Checks every output of a run against its inputs and each other; see the
/// module documentation. `force` allows replacing files that hold captures,
/// logs or baselines (never an input, never through a link).
pub(crate) fn check(outputs: &[Output<'_>], inputs: &Inputs, force: bool) -> Result<(), Refused> {
    let mut seen: Vec<(PathBuf, &Output<'_>)> = Vec::new();
    for out in outputs {
        if out.path.as_os_str() == "-" {
            continue;
        }
        let canon = check_one(out, inputs, force)?;
        if let Some(c) = canon {
            if let Some((_, other)) = seen.iter().find(|(s, _)| *s == c) {
                return Err(Refused(format!(
                    "{} {} and {} {} name the same file: give each output its own file",
                    other.flag,
                    other.path.display(),
                    out.flag,
                    out.path.display()
                )));
            }
            seen.push((c, out));
        }
    }
    Ok(())
}

/// Checks one output; returns its canonical path when known.
fn check_one(out: &Output<'_>, inputs: &Inputs, force: bool) -> Result<Option<PathBuf>, Refused> {
    let shown = out.path.display();
    let flag = out.flag;
    let link = std::fs::symlink_metadata(out.path).ok();
    if link.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        return Err(Refused(format!(
            "{flag} {shown} is a symbolic link: lateral does not write outputs through links \
             (name the file itself, or remove the link)"
        )));
    }
    let meta = std::fs::metadata(out.path).ok();
    let canon = output_canon(out.path);
    let id = meta.as_ref().and_then(file_id);
    for input in &inputs.0 {
        let same_file = id.is_some() && id == input.id;
        let same_path = canon.is_some() && canon == input.canon;
        if same_file || same_path {
            return Err(Refused(format!(
                "{flag} {shown} is also an input ({}): writing it would destroy it{}",
                input.given.display(),
                hint(flag)
            )));
        }
        if input.dir
            && let (Some(c), Some(d)) = (&canon, &input.canon)
            && c.starts_with(d)
        {
            return Err(Refused(format!(
                "{flag} {shown} is inside the input directory {}, which is read: \
                 write the output elsewhere",
                input.given.display()
            )));
        }
    }
    if out.kind == Kind::Dataset
        && let Some(c) = &canon
        && let Some(input) = inputs
            .0
            .iter()
            .find(|i| i.canon.as_ref().is_some_and(|ic| ic.starts_with(c)))
    {
        return Err(Refused(format!(
            "{flag} {shown} holds the input {}: write the dataset elsewhere",
            input.given.display()
        )));
    }
    let Some(meta) = meta else {
        return Ok(canon);
    };
    match out.kind {
        Kind::Dataset => {
            if !meta.is_dir() {
                return Err(Refused(format!(
                    "{flag} {shown} exists and is not a directory (Parquet output is a directory \
                     of day=YYYY-MM-DD/part-NNNNN.parquet files)"
                )));
            }
            let entries = std::fs::read_dir(out.path)
                .map(Iterator::count)
                .unwrap_or(0);
            if entries > 0 && !force {
                return Err(Refused(format!(
                    "refusing to write into {shown}: it is not empty; give --force to replace \
                     its part-NNNNN.parquet files, or name a new directory"
                )));
            }
        }
        Kind::Directory => {
            if !meta.is_dir() {
                return Err(Refused(format!(
                    "{flag} {shown} exists and is not a directory (this scenario writes a directory)"
                )));
            }
            if !force {
                for name in GENERATED {
                    let p = out.path.join(name);
                    if let Some(what) = valuable_file(&p, false) {
                        return Err(Refused(format!(
                            "refusing to overwrite {}: it holds {what}; give --force to replace it",
                            p.display()
                        )));
                    }
                }
            }
            for name in GENERATED {
                let p = out.path.join(name);
                if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(Refused(format!(
                        "{} is a symbolic link: lateral does not write outputs through links",
                        p.display()
                    )));
                }
            }
        }
        Kind::File | Kind::Baseline => {
            if meta.is_dir() {
                return Err(Refused(format!(
                    "{flag} {shown} is a directory: name a file{}",
                    hint(flag)
                )));
            }
            if !force && let Some(what) = valuable_file(out.path, out.kind == Kind::Baseline) {
                return Err(Refused(format!(
                    "refusing to overwrite {shown} (named by {flag}): it holds {what}{}; \
                     give --force to replace it",
                    hint(flag)
                )));
            }
        }
    }
    Ok(canon)
}

/// Files a generated scenario directory receives that may hold evidence.
const GENERATED: [&str; 4] = [
    "capture.pcap",
    "capture.pcapng",
    "capture.pcap.gz",
    "zeek/conn.log",
];

/// How to name an output, for options often taken for switches.
fn hint(flag: &str) -> &'static str {
    match flag {
        "--json" => " (--json takes the file to write, e.g. `--json alerts.jsonl`, or `-`)",
        "--novelties" => {
            " (--novelties takes the file to write, e.g. `--novelties new.jsonl`, or `-`)"
        }
        _ => "",
    }
}

/// What an existing regular file holds when replacing it could destroy
/// evidence: a capture, a log lateral reads, compressed data, or (unless
/// `baseline_ok`) a baseline. `None` for anything else (an earlier run's
/// alerts or report, an empty file) and for non-regular files.
fn valuable_file(path: &Path, baseline_ok: bool) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(64 << 10);
    let file = File::open(path).ok()?;
    file.take(64 << 10).read_to_end(&mut head).ok()?;
    if head.starts_with(&lateral::baseline::file::MAGIC) {
        return (!baseline_ok).then(|| "a lateral baseline".to_string());
    }
    match lateral::input::Compression::detect(&head) {
        lateral::input::Compression::Gzip => {
            return Some("gzip-compressed data (a compressed capture or log?)".into());
        }
        lateral::input::Compression::Zstd => {
            return Some("zstd-compressed data (a compressed capture or log?)".into());
        }
        lateral::input::Compression::None => {}
    }
    let format = lateral::input::sniff::sniff(&head);
    if format != lateral::input::sniff::Format::Unknown {
        return Some(format!(
            "a {} {}",
            format.name(),
            if format.is_capture() {
                "capture"
            } else {
                "log"
            }
        ));
    }
    let cfg = lateral::source::syslog::SyslogConfig::at(lateral::model::event::Timestamp(0), 0);
    lateral::source::LogFormat::sniff(&head, &cfg).map(|f| format!("a {} log", f.name()))
}

/// An output file being written: a temporary file next to it until
/// [`OutFile::commit`] renames it into place. Dropped without a commit (an
/// error), the temporary file is removed and an existing file is left as it
/// was. Write errors name the output.
pub(crate) struct OutFile {
    path: PathBuf,
    sink: Sink,
}

enum Sink {
    Temp(BufWriter<tempfile::NamedTempFile>),
    /// An existing device or pipe (`/dev/null`), written in place.
    Direct(BufWriter<File>),
}

impl OutFile {
    /// Starts writing `path` (checked with [`check`] beforehand).
    pub(crate) fn create(path: &Path) -> anyhow::Result<OutFile> {
        let existing = std::fs::metadata(path).ok();
        let sink = if existing
            .as_ref()
            .is_some_and(|m| !m.is_file() && !m.is_dir())
        {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
            Sink::Direct(BufWriter::with_capacity(1 << 20, f))
        } else {
            let tmp = lateral::baseline::file::temp_file_for(path)
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
            Sink::Temp(BufWriter::with_capacity(1 << 20, tmp))
        };
        Ok(OutFile {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Finishes the file: flushes it and renames it over `path` (a replaced
    /// file's permissions are kept; a new file is private, 0600).
    pub(crate) fn commit(self) -> anyhow::Result<()> {
        let path = self.path;
        let err = |e: io::Error| anyhow::anyhow!("writing {}: {e}", path.display());
        match self.sink {
            Sink::Direct(mut w) => w.flush().map_err(err),
            Sink::Temp(w) => {
                let tmp = w.into_inner().map_err(|e| err(e.into_error()))?;
                if let Ok(meta) = std::fs::metadata(&path) {
                    tmp.as_file()
                        .set_permissions(meta.permissions())
                        .map_err(err)?;
                }
                tmp.persist(&path).map_err(|e| err(e.error))?;
                Ok(())
            }
        }
    }

    fn named(&self, e: io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = match &mut self.sink {
            Sink::Temp(w) => w.write(buf),
            Sink::Direct(w) => w.write(buf),
        };
        r.map_err(|e| self.named(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let r = match &mut self.sink {
            Sink::Temp(w) => w.write_all(buf),
            Sink::Direct(w) => w.write_all(buf),
        };
        r.map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = match &mut self.sink {
            Sink::Temp(w) => w.flush(),
            Sink::Direct(w) => w.flush(),
        };
        r.map_err(|e| self.named(e))
    }
}

/// Writes `bytes` to the output file `path` atomically.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = OutFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// The report and export files `analyze` and `sweep` share: the HTML
/// report, Timesketch JSON Lines and the movement graph.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct ExportArgs {
    /// Write a self-contained HTML report (incidents, movement graph,
    /// timeline, evidence, filters; opens offline) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
    /// Write alerts as Timesketch JSON Lines (message, datetime,
    /// timestamp_desc) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) timesketch: Option<PathBuf>,
    /// With --timesketch: each alert's evidence records as lines of their own.
    #[arg(long, requires = "timesketch")]
    pub(crate) with_evidence: bool,
    /// Write the movement graph (hosts, users, edges with first and last
    /// time, protocol, counts, alert ids) as GraphML to this file, and as
    /// Neo4j import CSV beside it (FILE.nodes.csv, FILE.edges.csv).
    #[arg(long, value_name = "FILE.graphml")]
    pub(crate) graph: Option<PathBuf>,
    /// The CSV pair's paths, set by [`ExportArgs::outputs`].
    #[arg(skip)]
    neo4j: Option<(PathBuf, PathBuf)>,
}

impl ExportArgs {
    /// The files these options name, for [`check`] (standard output is
    /// not one of them: these are files).
    pub(crate) fn outputs(&mut self) -> Vec<Output<'_>> {
        self.neo4j = self
            .graph
            .as_deref()
            .map(lateral::report::graph_export::neo4j_paths);
        let mut v = Vec::new();
        for (flag, p) in [
            ("--html", &self.html),
            ("--timesketch", &self.timesketch),
            ("--graph", &self.graph),
        ] {
            if let Some(p) = p {
                v.push(Output::file(flag, p));
            }
        }
        if let Some((n, e)) = &self.neo4j {
            v.push(Output::file("--graph (nodes CSV)", n));
            v.push(Output::file("--graph (edges CSV)", e));
        }
        v
    }

    /// Refuses `-` (these outputs are files), before anything is read.
    pub(crate) fn refuse_stdout(&self) -> Result<(), Refused> {
        for (flag, p) in [
            ("--html", &self.html),
            ("--timesketch", &self.timesketch),
            ("--graph", &self.graph),
        ] {
            if p.as_deref().is_some_and(|p| p.as_os_str() == "-") {
                return Err(Refused(format!("{flag} writes a file: name one (not -)")));
            }
        }
        Ok(())
    }

    /// Writes every file asked for.
    pub(crate) fn write(
        &self,
        alerts: &[lateral::alert::Alert],
        incidents: &[lateral::incident::Incident],
        info: &lateral::report::html::PageInfo,
    ) -> anyhow::Result<()> {
        if let Some(p) = &self.html {
            let mut buf = Vec::new();
            lateral::report::html::write_html(alerts, incidents, info, &mut buf);
            write_file(p, &buf)?;
        }
        if let Some(p) = &self.timesketch {
            let mut buf = Vec::new();
            lateral::report::timesketch::write_timesketch(alerts, self.with_evidence, &mut buf);
            write_file(p, &buf)?;
        }
        if let Some(p) = &self.graph {
            let g = lateral::report::graph_export::build(alerts);
            let mut xml = String::new();
            lateral::report::graph_export::write_graphml(&g, &mut xml);
            write_file(p, xml.as_bytes())?;
            let (nodes, edges) = lateral::report::graph_export::write_neo4j(&g);
            let (np, ep) = lateral::report::graph_export::neo4j_paths(p);
            write_file(&np, nodes.as_bytes())?;
            write_file(&ep, edges.as_bytes())?;
        }
        Ok(())
    }
}

/// Writes alerts with their incidents as JSON Lines to `json` (a file, or
/// standard output for `-`), then the text `report`: to standard output,
/// or to standard error when the alerts took standard output, wrapped to
/// the width of the terminal it goes to ([`report_width`]).
pub(crate) fn write_alerts_and_report(
    json: Option<&Path>,
    alerts: &[lateral::alert::Alert],
    incidents: &[lateral::incident::Incident],
    report: &str,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let json_to_stdout = json.is_some_and(|p| p.as_os_str() == "-");
    if let Some(p) = json {
        let mut buf = Vec::new();
        lateral::report::alerts_jsonl::write_alerts(alerts, incidents, &mut buf);
        if json_to_stdout {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf).context("writing alerts")?;
            out.flush().context("writing alerts")?;
        } else {
            write_file(p, &buf)?;
        }
    }
    let terminal = if json_to_stdout {
        std::io::IsTerminal::is_terminal(&std::io::stderr())
    } else {
        std::io::IsTerminal::is_terminal(&std::io::stdout())
    };
    let report = lateral::report::text::wrap::wrap(report, report_width(terminal));
    if json_to_stdout {
        eprint!("{report}");
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(report.as_bytes())
            .context("writing the report")?;
        out.flush().context("writing the report")?;
    }
    Ok(())
}

/// The width a terminal report is wrapped to: the terminal's when
/// `terminal` (standard output or error is one), else
/// [`lateral::report::text::wrap::PIPED_WIDTH`], so piped and saved
/// reports are the same on every machine.
pub(crate) fn report_width(terminal: bool) -> usize {
    if terminal && let Some((_, cols)) = console::Term::stdout().size_checked() {
        return usize::from(cols);
    }
    lateral::report::text::wrap::PIPED_WIDTH
}

/// A Parquet dataset being written: files go to a hidden temporary
/// directory next to the output until [`DatasetDir::commit`] moves them
/// into place, so a failed run leaves the output directory as it was.
pub(crate) struct DatasetDir {
    path: PathBuf,
    temp: tempfile::TempDir,
}

impl DatasetDir {
    /// Starts writing the dataset `path` (checked with [`check`] first).
    pub(crate) fn create(path: &Path) -> anyhow::Result<DatasetDir> {
        let parent = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("creating {}: {e}", parent.display()))?;
        let temp = tempfile::Builder::new()
            .prefix(".lateral-dataset-")
            .tempdir_in(parent)
            .map_err(|e| anyhow::anyhow!("creating a directory in {}: {e}", parent.display()))?;
        // Private, as a new output file is.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o700))
                .map_err(|e| anyhow::anyhow!("creating {}: {e}", temp.path().display()))?;
        }
        Ok(DatasetDir {
            path: path.to_path_buf(),
            temp,
        })
    }

    /// Where the files are written until the commit.
    pub(crate) fn staging(&self) -> &Path {
        self.temp.path()
    }

    /// Moves the written `files` (relative paths) into the output: a new
    /// directory is renamed into place whole; into an existing one (empty,
    /// or with `--force`) the part files it held are removed first, then
    /// the new ones moved in. Other files there are left alone.
    pub(crate) fn commit(self, files: &[PathBuf]) -> anyhow::Result<()> {
        let err = |p: &Path, e: io::Error| anyhow::anyhow!("writing {}: {e}", p.display());
        if std::fs::symlink_metadata(&self.path).is_err() {
            let temp = self.temp.keep();
            return std::fs::rename(&temp, &self.path).map_err(|e| {
                let _ = std::fs::remove_dir_all(&temp);
                err(&self.path, e)
            });
        }
        remove_part_files(&self.path).map_err(|e| err(&self.path, e))?;
        for rel in files {
            let to = self.path.join(rel);
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
            }
            std::fs::rename(self.temp.path().join(rel), &to).map_err(|e| err(&to, e))?;
        }
        Ok(())
    }
}

/// True for `part-NNNNN.parquet`.
fn is_part_file(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.strip_prefix("part-")
            .and_then(|r| r.strip_suffix(".parquet"))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()))
    })
}

/// Removes the part files of an earlier dataset in `dir` (its own and
/// those of its `day=` directories, which go when left empty).
fn remove_part_files(dir: &Path) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        let ty = e.file_type()?;
        let name = e.file_name();
        if ty.is_file() && is_part_file(&name) {
            std::fs::remove_file(e.path())?;
        } else if ty.is_dir() && name.to_str().is_some_and(|n| n.starts_with("day=")) {
            for inner in std::fs::read_dir(e.path())?.flatten() {
                if inner.file_type()?.is_file() && is_part_file(&inner.file_name()) {
                    std::fs::remove_file(inner.path())?;
                }
            }
            // Only when nothing else is left in it.
            let _ = std::fs::remove_dir(e.path());
        }
    }
    Ok(())
}
