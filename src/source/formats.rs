//! The registry of log formats: one line per format, in the order
//! `--format` lists them. Everything about a format (its `--format` value,
//! help, sniff test and reader) is its [`LogFormatSpec`] implementation, in
//! the format's own file; the CLI, the sniffer and the collect stage read
//! this table and name no format themselves.

use crate::source::lanl::LanlKind;
use crate::source::{Context, LogFormatSpec, Sniff, auditd, evtx, syslog, winsec, zeek_log};

/// Every log format `lateral` reads, in the order `--help` lists them.
pub static REGISTRY: &[&dyn LogFormatSpec] = &[
    &syslog::SyslogFormat,
    &syslog::JournalFormat,
    &auditd::AuditdFormat,
    &winsec::WinJsonFormat,
    &zeek_log::ZeekFormat { json: false },
    &zeek_log::ZeekFormat { json: true },
    &LanlKind::Auth,
    &LanlKind::Flows,
    &LanlKind::Dns,
    &LanlKind::Proc,
    &LanlKind::Redteam,
    &LanlKind::Netflow,
    &LanlKind::Wls,
    &evtx::EvtxFormat,
];

/// One entry of [`REGISTRY`]: a log format, as sniffed from an input's
/// first bytes or named with `--format`.
#[derive(Clone, Copy)]
pub struct LogFormat(&'static dyn LogFormatSpec);

impl LogFormat {
    /// Every format, in registry order.
    pub fn all() -> impl Iterator<Item = LogFormat> {
        REGISTRY.iter().map(|&spec| LogFormat(spec))
    }

    /// The format whose `--format` value is `flag`.
    pub fn named(flag: &str) -> Option<LogFormat> {
        LogFormat::all().find(|f| f.flag() == flag)
    }

    /// The format whose statistics name ([`LogFormat::name`]) is `name`.
    pub fn by_name(name: &str) -> Option<LogFormat> {
        LogFormat::all().find(|f| f.name() == name)
    }

    /// What the format is and how it is read.
    pub fn spec(self) -> &'static dyn LogFormatSpec {
        self.0
    }

    /// The `--format` value.
    pub fn flag(self) -> &'static str {
        self.0.flag()
    }

    /// Short name used in statistics.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Decides an input's format from its first bytes, RFC 3164 times
    /// placed by `cfg`: a signature first ([`Sniff::Magic`]), then the text
    /// tests in rank order.
    pub fn sniff(head: &[u8], cfg: &syslog::SyslogConfig) -> Option<LogFormat> {
        let ctx = Context {
            year: None,
            modified: None,
            syslog: *cfg,
            lanl_epoch: crate::model::event::Timestamp::default(),
        };
        sniff(head, &ctx)
    }
}

impl PartialEq for LogFormat {
    fn eq(&self, other: &LogFormat) -> bool {
        self.flag() == other.flag()
    }
}

impl Eq for LogFormat {}

impl std::fmt::Debug for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogFormat({})", self.flag())
    }
}

/// The format whose signature `head` starts with, if one has.
fn by_magic(head: &[u8], ctx: &Context) -> Option<LogFormat> {
    LogFormat::all()
        .find(|f| matches!(f.0.sniff(), Sniff::Magic { .. }) && f.0.looks_like(head, ctx))
}

/// The first text format, in rank order, whose test `head` passes.
fn by_text(head: &[u8], ctx: &Context) -> Option<LogFormat> {
    let mut tests: Vec<(u8, LogFormat)> = LogFormat::all()
        .filter_map(|f| match f.0.sniff() {
            Sniff::Text { rank } => Some((rank, f)),
            Sniff::Magic { .. } => None,
        })
        .collect();
    // Stable: formats of one rank are tried in registry order.
    tests.sort_by_key(|&(rank, _)| rank);
    tests
        .into_iter()
        .map(|(_, f)| f)
        .find(|f| f.0.looks_like(head, ctx))
}

/// Decides an input's format from its first bytes alone.
pub fn sniff(head: &[u8], ctx: &Context) -> Option<LogFormat> {
    by_magic(head, ctx).or_else(|| by_text(head, ctx))
}

/// Why no format could be chosen for an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `--format` named a format recognised by a signature the input
    /// lacks.
    NotAsNamed {
        /// What an input of the named format is ("an EVTX file").
        what: &'static str,
        /// The `--format` value.
        flag: &'static str,
    },
    /// Nothing named, and no format recognised.
    Unknown,
}

/// The format to read an input with: a signature wins whatever `named`
/// (`--format`) says; otherwise the named format, or the one sniffed.
pub fn choose(head: &[u8], named: Option<LogFormat>, ctx: &Context) -> Result<LogFormat, Refusal> {
    if let Some(f) = by_magic(head, ctx) {
        return Ok(f);
    }
    match named {
        Some(f) => match f.0.sniff() {
            Sniff::Magic { what, .. } => Err(Refusal::NotAsNamed {
                what,
                flag: f.flag(),
            }),
            Sniff::Text { .. } => Ok(f),
        },
        None => by_text(head, ctx).ok_or(Refusal::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_names_are_unique() {
        let mut flags: Vec<&str> = LogFormat::all().map(LogFormat::flag).collect();
        let mut names: Vec<&str> = LogFormat::all().map(LogFormat::name).collect();
        let n = flags.len();
        flags.sort_unstable();
        flags.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!((flags.len(), names.len()), (n, n));
        assert_eq!(
            LogFormat::named("zeek-json").map(LogFormat::name),
            Some("zeekjson")
        );
        assert_eq!(
            LogFormat::by_name("lanl-wls").map(LogFormat::flag),
            Some("lanl-wls")
        );
    }

    #[test]
    fn sniffs_by_signature_then_text() {
        let cfg = syslog::SyslogConfig::year(2024, 0);
        let name = |head: &[u8]| LogFormat::sniff(head, &cfg).map(LogFormat::name);
        assert_eq!(name(b"ElfFile\0rest"), Some("evtx"));
        assert_eq!(
            name(b"{\"__REALTIME_TIMESTAMP\":\"1\",\"MESSAGE\":\"x\"}\n"),
            Some("journal")
        );
        assert_eq!(name(b"#separator \\x09\n#fields\tts\tuid\n"), Some("zeek"));
        assert_eq!(
            name(b"1,U1@DOM1,U1@DOM1,C1,C2,NTLM,Network,LogOn,Success\n"),
            Some("lanl-auth")
        );
        assert_eq!(
            name(b"type=USER_LOGIN msg=audit(1700000000.123:456): pid=1 res=success\n"),
            Some("auditd")
        );
        assert_eq!(
            name(b"{\"@stream\":\"conn\",\"ts\":\"2020-09-22T18:53:30Z\",\"id_orig_h\":\"10.0.0.1\"}\n"),
            Some("zeekjson")
        );
        assert_eq!(name(b"\x00\x01\x02"), None);
    }

    #[test]
    fn a_signature_wins_over_the_named_format() {
        let ctx = Context::new(Some(2024), 0, Default::default(), None);
        let syslog = LogFormat::named("syslog");
        let evtx = LogFormat::named("evtx");
        assert_eq!(choose(b"ElfFile\0", syslog, &ctx), Ok(evtx.unwrap()));
        assert_eq!(choose(b"anything", syslog, &ctx), Ok(syslog.unwrap()));
        assert_eq!(
            choose(b"anything", evtx, &ctx),
            Err(Refusal::NotAsNamed {
                what: "an EVTX file",
                flag: "evtx"
            })
        );
    }
}
