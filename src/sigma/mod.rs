//! Sigma rules beside lateral's own detectors (`--sigma PATH`).
//!
//! A stage of its own between `detect` and `incident`: it reads the raw
//! Windows records of the inputs once more (JSON Lines in every shape
//! `source::winsec` reads, and EVTX), and the Linux ones (syslog, journald,
//! auditd: [`linux`]), evaluates a set of Sigma rules
//! against each record, and hands on only the hits, as [`LogEvent`]s whose
//! action is [`crate::model::Action::SigmaMatch`]. Those events travel with
//! the others through the run; [`alerts::from_events`] turns them into
//! ordinary [`crate::alert::Alert`]s (ruleset `sigma`) which
//! `crate::incident` joins with the detectors' alerts, so a Sigma hit on a
//! host and a new admin edge into it are one incident.
//!
//! Rule parsing and compiling are the `rsigma-parser` and `rsigma-eval`
//! crates (MIT): they cover the whole detection syntax (every field
//! modifier, keyword lists, null values, the condition language);
//! `rsigma-eval` is also the reference matcher and builds every hit. This
//! module owns what is lateral's: which files are rules ([`load()`]), the
//! report of rules refused and why ([`LoadReport`]), how a raw record of
//! any export shape is seen under Sigma's Windows field names and
//! logsource ([`record`]), which rules a record is offered (the logsource
//! masks and required-literal index of `fast`) and lateral's own matcher
//! that decides them (`own`), the walk over the inputs ([`scan`]) and the
//! alerts ([`alerts`]). See `docs/sigma.md`.
//!
//! [`LogEvent`]: crate::model::event::LogEvent

pub mod alerts;
mod fast;
pub mod linux;
pub mod load;
mod own;
pub mod record;
pub mod scan;

pub use load::{LoadReport, RuleMeta, SigmaRules, load};

/// Why Sigma rules could not be read at all (a single bad rule is never
/// an error: it is refused and reported in [`LoadReport`]).
#[derive(Debug, thiserror::Error)]
pub enum SigmaError {
    /// The path given to `--sigma` could not be read.
    #[error("cannot read Sigma rules at {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The path held no rule file at all.
    #[error("no Sigma rule file (.yml, .yaml) at {0}")]
    NoRules(String),
}

/// Fuzzing entry point: `data` as a rule file (lossily decoded as UTF-8),
/// compiled and evaluated once over a Sysmon process creation. Never panics.
pub fn fuzz_rule(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let rules = SigmaRules::from_yaml("fuzz.yml", &text);
    let _ = rules.report.summary();
    let line = br#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami","User":"NT AUTHORITY\\SYSTEM","ProcessId":4242}"#;
    if let Some(rec) = record::from_json(line) {
        let mut hits = Vec::new();
        let mut stats = scan::ScanStats::default();
        let origin = crate::model::event::Origin {
            file: std::sync::Arc::from("fuzz"),
            at: crate::model::event::Position::Line(1),
        };
        scan::evaluate(
            &rules,
            &rec,
            origin,
            scan::ScanOptions::default(),
            &mut hits,
            &mut stats,
        );
        let _ = alerts::from_events(&hits);
    }
}
