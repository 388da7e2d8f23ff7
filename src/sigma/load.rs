//! Reading Sigma rule files: a file or a folder of them, each parsed and
//! compiled on its own, so one bad rule is refused (with its reason) and
//! the rest load.
//!
//! Part of the `sigma` stage: gives the compiled [`SigmaRules`] that
//! [`crate::sigma::scan`] evaluates and the [`LoadReport`] the CLI prints.

use super::SigmaError;
use rsigma_eval::Engine;
use rsigma_parser::{Level, SigmaCollection};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest rule file read (SigmaHQ's largest is about 40 KiB).
pub const MAX_RULE_FILE: u64 = 1 << 20;

/// The most rule files read from one folder tree.
pub const MAX_RULE_FILES: usize = 100_000;

/// How deep folders are walked.
const MAX_DEPTH: usize = 32;

/// A loaded rule's description, as its alerts name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMeta {
    /// The rule's `title`.
    pub title: String,
    /// The rule's `id`, when it has one.
    pub id: Option<String>,
    /// The rule's `level` (`informational` … `critical`); `medium` when absent.
    pub level: &'static str,
    /// The rule's tags (`attack.t1021.002`, `attack.lateral-movement`).
    pub tags: Vec<String>,
}

/// One rule or file that did not load, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The file it is in.
    pub file: String,
    /// The rule's title, when the file was read far enough to know it.
    pub title: Option<String>,
    /// Why, as the parser or compiler said it.
    pub reason: String,
}

/// What loading found: how many rules loaded, which were refused and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Rule files read.
    pub files: usize,
    /// Detection rules compiled.
    pub loaded: usize,
    /// Correlation rules that load (evaluated over the hits in time order).
    pub correlations: usize,
    /// Filter documents applied to the rules they name.
    pub filters: usize,
    /// Rules and files refused, in file order.
    pub refused: Vec<Refused>,
}

impl LoadReport {
    /// Refusals counted by reason class (the reason's text before its first
    /// detail), most frequent first, then by name.
    pub fn reasons(&self) -> Vec<(String, usize)> {
        let mut by: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.refused {
            *by.entry(reason_class(&r.reason)).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// A few lines for a person: counts, then refusals grouped by reason.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "sigma: {} rule(s) loaded from {} file(s), {} refused",
            self.loaded,
            self.files,
            self.refused.len()
        );
        if self.correlations > 0 {
            s.push_str(&format!(", {} correlation rule(s)", self.correlations));
        }
        for (reason, n) in self.reasons() {
            s.push_str(&format!("\n  {n:>5}  {reason}"));
        }
        s
    }
}

/// The class of a refusal reason: its text up to the first quote, colon
/// or digit, so that "unknown modifier 'foo'" and "unknown modifier 'bar'"
/// count together.
fn reason_class(reason: &str) -> String {
    let cut = reason
        .find(|c: char| c == '\'' || c == '"' || c == '`' || c == ':' || c.is_ascii_digit())
        .unwrap_or(reason.len());
    let head = reason.get(..cut).unwrap_or(reason).trim();
    let head = if head.is_empty() { reason } else { head };
    super::record::bounded(head, 120).to_string()
}

/// Compiled rules, ready for [`crate::sigma::scan`].
pub struct SigmaRules {
    /// The compiled rules, one engine per rule logsource (product,
    /// service, category, lower-cased), so that an event is only ever
    /// offered the rules of its own logsource.
    pub(crate) engines: Vec<(LsKey, Engine)>,
    /// Per compiled rule (in the engine's order), its description.
    pub(crate) meta: Vec<RuleMeta>,
    /// The rules and correlation rules a correlation engine is built from,
    /// when there are correlation rules.
    pub(crate) correlation: Option<SigmaCollection>,
    /// The candidate index the scan evaluates through.
    pub(crate) fast: super::fast::FastIndex,
    /// What loading found.
    pub report: LoadReport,
}

impl std::fmt::Debug for SigmaRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaRules")
            .field("rules", &self.meta.len())
            .field("report", &self.report)
            .finish()
    }
}

impl SigmaRules {
    /// Rules compiled.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// True when no rule compiled.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Compiles rules from YAML text (one or more documents); refusals
    /// are named after `file`. Never panics on hostile text.
    pub fn from_yaml(file: &str, yaml: &str) -> SigmaRules {
        let mut b = Builder::default();
        b.add_text(file, yaml);
        b.finish()
    }

    /// Rules the candidate index narrows by required literals (the rest
    /// are evaluated on every record of their logsource).
    pub fn indexed(&self) -> usize {
        self.fast.indexed
    }

    /// Rules evaluated by lateral's own matcher, and the rules left to
    /// `rsigma-eval` (a feature the matcher does not translate), counted by
    /// reason, most first.
    pub fn own_matcher(&self) -> (usize, Vec<(&'static str, usize)>) {
        self.fast.own_counts()
    }

    /// Turns lateral's own matcher off (`rsigma-eval` then evaluates every
    /// candidate rule the index leaves) or back on; results are the same
    /// either way. For comparing the two in a benchmark.
    pub fn set_own_matcher(&mut self, on: bool) {
        self.fast.use_own = on;
    }

    /// Whether a value seen before (same field, same text) reuses its
    /// earlier literal search (on by default; same hits either way): for
    /// benchmarks comparing the two.
    pub fn set_search_cache(&mut self, on: bool) {
        self.fast.use_cache = on;
    }

    /// The description of each compiled rule, in engine order.
    pub fn rules(&self) -> &[RuleMeta] {
        &self.meta
    }
}

/// Loads every rule file at `path`: the file itself, or each `.yml` and
/// `.yaml` file under the folder (in path order, so the run is the same
/// whatever order the file system lists them in).
pub fn load(path: &Path) -> Result<SigmaRules, SigmaError> {
    let meta = std::fs::metadata(path).map_err(|e| SigmaError::Read {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut files = Vec::new();
    if meta.is_dir() {
        walk(path, 0, &mut files);
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    if files.is_empty() {
        return Err(SigmaError::NoRules(path.display().to_string()));
    }
    let mut b = Builder::default();
    for f in &files {
        b.add_file(f);
    }
    Ok(b.finish())
}

/// Collects rule files under `dir` (symbolic links are not followed).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH || out.len() >= MAX_RULE_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        let p = e.path();
        if t.is_dir() {
            walk(&p, depth + 1, out);
        } else if t.is_file()
            && p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("yml") || x.eq_ignore_ascii_case("yaml"))
            && out.len() < MAX_RULE_FILES
        {
            out.push(p);
        }
    }
}

/// Rules being loaded.
/// A rule logsource's product, service and category, lower-cased (`None`:
/// the rule does not constrain it).
pub(crate) type LsKey = (Option<String>, Option<String>, Option<String>);

fn ls_key(ls: &rsigma_parser::LogSource) -> LsKey {
    let low = |s: &Option<String>| s.as_ref().map(|x| x.to_ascii_lowercase());
    (low(&ls.product), low(&ls.service), low(&ls.category))
}

#[derive(Default)]
struct Builder {
    engines: BTreeMap<LsKey, Engine>,
    meta: Vec<RuleMeta>,
    filters: Vec<(String, rsigma_parser::FilterRule)>,
    /// Every rule that compiled, and every correlation rule (checked).
    corr: SigmaCollection,
    report: LoadReport,
}

impl Builder {
    fn refuse(&mut self, file: &str, title: Option<String>, reason: String) {
        self.report.refused.push(Refused {
            file: file.to_string(),
            title,
            reason,
        });
    }

    fn add_file(&mut self, path: &Path) {
        let name = path.display().to_string();
        self.report.files += 1;
        match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_RULE_FILE => {
                self.refuse(&name, None, "file larger than 1 MiB".into());
                return;
            }
            Err(e) => {
                self.refuse(&name, None, format!("unreadable file: {e}"));
                return;
            }
            Ok(_) => {}
        }
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.add_parsed(&name, &text),
                Err(_) => self.refuse(&name, None, "not UTF-8 text".into()),
            },
            Err(e) => self.refuse(&name, None, format!("unreadable file: {e}")),
        }
    }

    fn add_text(&mut self, file: &str, text: &str) {
        self.report.files += 1;
        self.add_parsed(file, text);
    }

    fn add_parsed(&mut self, file: &str, text: &str) {
        if text.len() as u64 > MAX_RULE_FILE {
            self.refuse(file, None, "file larger than 1 MiB".into());
            return;
        }
        let parsed = std::panic::catch_unwind(|| rsigma_parser::parse_sigma_yaml(text));
        let collection: SigmaCollection = match parsed {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                self.refuse(file, None, format!("YAML: {e}"));
                return;
            }
            Err(_) => {
                self.refuse(file, None, "the rule parser failed on this file".into());
                return;
            }
        };
        for e in &collection.errors {
            self.refuse(file, None, e.clone());
        }
        for c in &collection.correlations {
            let c = &all_rules_for_temporal(c);
            let mut probe = rsigma_eval::CorrelationEngine::new(Default::default());
            let checked =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| probe.add_correlation(c)));
            match checked {
                Ok(Ok(())) => {
                    self.report.correlations += 1;
                    self.corr.correlations.push(c.clone());
                }
                Ok(Err(e)) => self.refuse(file, Some(c.title.clone()), e.to_string()),
                Err(_) => self.refuse(
                    file,
                    Some(c.title.clone()),
                    "the correlation compiler failed on this rule".into(),
                ),
            }
        }
        for rule in &collection.rules {
            let engine = self.engines.entry(ls_key(&rule.logsource)).or_default();
            let added =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.add_rule(rule)));
            match added {
                Ok(Ok(())) => {
                    self.meta.push(RuleMeta {
                        title: rule.title.clone(),
                        id: rule.id.clone(),
                        level: level_name(rule.level),
                        tags: rule.tags.clone(),
                    });
                    self.report.loaded += 1;
                    self.corr.rules.push(rule.clone());
                }
                Ok(Err(e)) => self.refuse(file, Some(rule.title.clone()), e.to_string()),
                Err(_) => self.refuse(
                    file,
                    Some(rule.title.clone()),
                    "the rule compiler failed on this rule".into(),
                ),
            }
        }
        for f in collection.filters {
            self.filters.push((file.to_string(), f));
        }
    }

    fn finish(mut self) -> SigmaRules {
        // Filters name rules by id or title: applied once every rule is in.
        // A filter is applied in every engine that holds a rule it names.
        for (file, f) in std::mem::take(&mut self.filters) {
            let mut applied = false;
            let mut why = None;
            for engine in self.engines.values_mut() {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    engine.apply_filter(&f)
                })) {
                    Ok(Ok(())) => applied = true,
                    Ok(Err(e)) => why = Some(e.to_string()),
                    Err(_) => why = Some("the filter failed".into()),
                }
            }
            if applied {
                self.report.filters += 1;
            } else {
                let reason = why.unwrap_or_else(|| "the filter names no loaded rule".into());
                self.refuse(&file, Some(f.title.clone()), reason);
            }
        }
        // Rules added one at a time may sit in the engine's conservative
        // fallback (always evaluated) until its next rebuild: rebuild every
        // index once over the final rule set.
        for engine in self.engines.values_mut() {
            engine.extend_compiled_rules(Vec::new());
        }
        let correlation = (!self.corr.correlations.is_empty()).then_some(self.corr);
        let compiled: Vec<rsigma_eval::CompiledRule> = self
            .engines
            .values()
            .flat_map(|e| e.rules().iter().cloned())
            .collect();
        SigmaRules {
            fast: super::fast::FastIndex::new(compiled),
            engines: self.engines.into_iter().collect(),
            meta: self.meta,
            correlation,
            report: self.report,
        }
    }
}

/// The name of a Sigma level; `medium` when the rule gives none.
pub fn level_name(l: Option<Level>) -> &'static str {
    match l {
        Some(Level::Informational) => "informational",
        Some(Level::Low) => "low",
        Some(Level::Medium) | None => "medium",
        Some(Level::High) => "high",
        Some(Level::Critical) => "critical",
    }
}

/// A temporal correlation without a condition means, in the Sigma
/// specification, that every rule it names matched within the timespan;
/// `rsigma-parser` 0.23 reads the missing condition as "at least one", so
/// that default is made "all of them" here.
fn all_rules_for_temporal(c: &rsigma_parser::CorrelationRule) -> rsigma_parser::CorrelationRule {
    use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationType};
    let mut c = c.clone();
    let temporal = matches!(
        c.correlation_type,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    let n = c.rules.len() as u64;
    if temporal
        && n > 1
        && let CorrelationCondition::Threshold {
            predicates,
            field: None,
            percentile: None,
        } = &mut c.condition
        && predicates.as_slice() == [(ConditionOperator::Gte, 1)]
    {
        *predicates = vec![(ConditionOperator::Gte, n)];
    }
    c
}
