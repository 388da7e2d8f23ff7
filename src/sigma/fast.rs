//! The fast path of Sigma evaluation: which rules a record is offered, and
//! who decides them.
//!
//! Part of the `sigma` stage. Once per record:
//!
//! * **logsource**: every (product, service, category) a record can stand
//!   for has a precomputed bit mask of the rules whose logsource admits it (product
//!   `windows` or `linux`), so a rule of another logsource is never looked at,
//!   and the set of fields those rules' clauses name: only those fields
//!   (and, when an admitted rule has keywords, every string by the keyword
//!   automaton) are searched; a record no rule admits is dropped at once;
//! * **required literals**: each rule's condition is reduced, at load time,
//!   to a few clauses that must all hold for any match, each clause a set
//!   of alternatives "field F holds the text N" (lower-cased; exact,
//!   `contains`, `startswith`, `endswith` and Aho-Corasick sets all imply
//!   it), "field F equals the number N", or, for keywords, "some string of
//!   the record holds N". Each field's value is searched as written by one
//!   Aho-Corasick automaton that folds ASCII case and holds the field's
//!   literals and every keyword literal (other strings by the keyword
//!   automaton alone), numbers by one hash look-up; a rule with a clause
//!   unmarked is skipped. An automaton whose literals are all at least
//!   four bytes long walks a value only from the first place one of them
//!   can start (a bit table of their case-folded first four bytes), and
//!   not at all when there is none. A value of at most 256 bytes seen before under
//!   the same field replays the clauses its first search marked (a
//!   per-thread cache keyed on the value as written: real logs repeat most
//!   values; a field whose values rarely repeat is searched without it);
//! * **lateral's matcher** ([`super::own`]) decides each remaining rule on
//!   the record's texts, lower-cased once (only for a record with a rule
//!   left to decide); only a match (or a rule or comparison
//!   it leaves to the reference) goes to `rsigma-eval`, which builds the
//!   hit.
//!
//! The reduction only ever weakens a condition (`not`, CIDR, comparisons,
//! `exists`, nested field paths and non-ASCII literals give no clause),
//! so every rule that matches is still evaluated: results are the
//! reference's ([`crate::sigma::scan::detect_reference`]), which
//! `tests/sigma_fast.rs` checks rule by rule on the corpus and on
//! generated records, for the scan's hits and for lateral's matcher alone.

use super::linux;
use super::own::{self, Compiled, Fields, Slot, Verdict, View};
use super::record::{self, Record};
use aho_corasick::AhoCorasick;
use rayon::prelude::*;
use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule, EvaluationResult};
use rsigma_parser::{ConditionExpr, LogSource, Quantifier};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// The most clauses kept per rule (the most selective ones).
const MAX_CLAUSES: usize = 4;

/// What one literal requires of one field.
#[derive(Debug, Clone, PartialEq)]
enum Need {
    /// The lower-cased text of a value holds this (ASCII, lower-case).
    Text(String),
    /// A value, read as a number, equals this integer.
    Num(i64),
    /// A value is not ASCII (a literal that is not ASCII cannot be found,
    /// whatever the case, in a value that is).
    NonAscii,
}

/// The text a regex needs when what it needs is a character that is not
/// ASCII.
const NON_ASCII: &str = "\u{80}";

/// A field and what it must hold.
type Atom = (String, Need);
/// Alternatives: at least one atom holds.
type Clause = Vec<Atom>;
/// Clauses that must all hold; empty: no requirement.
type Cnf = Vec<Clause>;

/// How little a clause narrows (lower is better).
fn badness(c: &Clause) -> f64 {
    c.iter()
        .map(|(_, n)| match n {
            Need::Num(_) => 1.0,
            Need::NonAscii => 0.1,
            Need::Text(t) => 4.0 / (t.len().min(16) as f64),
        })
        .sum()
}

fn best(cnf: &Cnf) -> Option<&Clause> {
    cnf.iter().min_by(|a, b| badness(a).total_cmp(&badness(b)))
}

/// All of `parts` (a conjunction): their clauses together, the best kept.
fn and_cnf(parts: Vec<Cnf>) -> Cnf {
    let mut out: Cnf = parts.into_iter().flatten().collect();
    out.sort_by(|a, b| badness(a).total_cmp(&badness(b)));
    out.dedup();
    out.truncate(MAX_CLAUSES);
    out
}

/// One of `parts` (a disjunction): one clause, the union of each part's
/// best; no requirement when a part has none.
fn or_cnf(mut parts: Vec<Cnf>) -> Cnf {
    if parts.is_empty() || parts.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut clause: Clause = Vec::new();
    for p in &parts {
        if let Some(c) = best(p) {
            for a in c {
                if !clause.contains(a) {
                    clause.push(a.clone());
                }
            }
        }
    }
    vec![clause]
}

/// A field name the index can look up directly (no nested path).
fn plain_field(f: &str) -> bool {
    !f.is_empty() && !f.contains(['.', '[', '\\'])
}

fn text_need(field: &str, value: &str) -> Cnf {
    if value.is_empty() {
        return Vec::new();
    }
    if !value.is_ascii() {
        return vec![vec![(field.to_string(), Need::NonAscii)]];
    }
    vec![vec![(
        field.to_string(),
        Need::Text(value.to_ascii_lowercase()),
    )]]
}

fn matcher_cnf(field: &str, m: &CompiledMatcher) -> Cnf {
    use CompiledMatcher as M;
    match m {
        M::Exact { value, .. }
        | M::Contains { value, .. }
        | M::StartsWith { value, .. }
        | M::EndsWith { value, .. } => text_need(field, value),
        M::AhoCorasickSet { needles, .. } => {
            or_cnf(needles.iter().map(|n| text_need(field, n)).collect())
        }
        M::NumericEq(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.0e15 => {
            vec![vec![(field.to_string(), Need::Num(*n as i64))]]
        }
        M::Regex(re) => regex_cnf(field, re.as_str()),
        M::RegexSetMatch { set, mode } => {
            let parts = set.patterns().iter().map(|p| regex_cnf(field, p)).collect();
            match mode {
                rsigma_eval::matcher::GroupMode::Any => or_cnf(parts),
                rsigma_eval::matcher::GroupMode::All => and_cnf(parts),
            }
        }
        M::AnyOf(ch) => or_cnf(ch.iter().map(|c| matcher_cnf(field, c)).collect()),
        M::AllOf(ch) => and_cnf(ch.iter().map(|c| matcher_cnf(field, c)).collect()),
        M::CaseInsensitiveGroup { children, mode } => {
            let parts = children.iter().map(|c| matcher_cnf(field, c)).collect();
            match mode {
                rsigma_eval::matcher::GroupMode::Any => or_cnf(parts),
                rsigma_eval::matcher::GroupMode::All => and_cnf(parts),
            }
        }
        _ => Vec::new(),
    }
}

/// What a regular expression needs of any text it matches: literal runs
/// (lower-cased) it cannot match without.
fn regex_cnf(field: &str, pattern: &str) -> Cnf {
    let Ok(hir) = regex_syntax::parse(pattern) else {
        return Vec::new();
    };
    let (_, texts) = hir_needs(&hir, 0);
    texts
        .into_iter()
        .map(|c| {
            c.into_iter()
                .map(|t| {
                    let need = if t == NON_ASCII {
                        Need::NonAscii
                    } else {
                        Need::Text(t)
                    };
                    (field.to_string(), need)
                })
                .collect()
        })
        .collect()
}

/// Text clauses: all must hold, each by one of its texts.
type TextCnf = Vec<Vec<String>>;

fn text_best(c: &TextCnf) -> Option<&Vec<String>> {
    c.iter().min_by_key(|alts| {
        alts.iter()
            .map(|t| 64 / t.len().clamp(1, 16))
            .sum::<usize>()
    })
}

/// The exact text a regex node matches when it matches one only (lower-cased
/// ASCII), and the clauses any match of it needs.
fn hir_needs(h: &regex_syntax::hir::Hir, depth: usize) -> (Option<String>, TextCnf) {
    use regex_syntax::hir::{Class, HirKind};
    if depth > 64 {
        return (None, Vec::new());
    }
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => (Some(String::new()), Vec::new()),
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(t) if t.is_ascii() => {
                let t = t.to_ascii_lowercase();
                let cnf = if t.is_empty() {
                    Vec::new()
                } else {
                    vec![vec![t.clone()]]
                };
                (Some(t), cnf)
            }
            _ => (None, vec![vec![NON_ASCII.to_string()]]),
        },
        HirKind::Class(c) => {
            // One ASCII letter in either case (non-ASCII members aside: a
            // value that is not ASCII satisfies every clause of its field).
            let mut ascii: Vec<u8> = Vec::new();
            match c {
                Class::Unicode(u) => {
                    for r in u.ranges() {
                        let (lo, hi) = (r.start() as u32, (r.end() as u32).min(127));
                        for ch in lo..=hi {
                            ascii.push(ch as u8);
                            if ascii.len() > 2 {
                                break;
                            }
                        }
                    }
                }
                Class::Bytes(b) => {
                    for r in b.ranges() {
                        for ch in r.start()..=r.end().min(127) {
                            ascii.push(ch);
                            if ascii.len() > 2 {
                                break;
                            }
                        }
                    }
                }
            }
            ascii.iter_mut().for_each(|c| c.make_ascii_lowercase());
            ascii.sort();
            ascii.dedup();
            let empty = match c {
                Class::Unicode(u) => u.ranges().is_empty(),
                Class::Bytes(b) => b.ranges().is_empty(),
            };
            match ascii.as_slice() {
                [one] => {
                    let t = (*one as char).to_string();
                    (Some(t.clone()), vec![vec![t]])
                }
                [] if !empty => (None, vec![vec![NON_ASCII.to_string()]]),
                _ => (None, Vec::new()),
            }
        }
        HirKind::Capture(c) => hir_needs(&c.sub, depth + 1),
        HirKind::Repetition(r) => {
            if r.min == 0 {
                return (None, Vec::new());
            }
            let (exact, cnf) = hir_needs(&r.sub, depth + 1);
            let exact = match (exact, r.max) {
                (Some(e), Some(max)) if max == r.min && r.min <= 8 => {
                    Some(e.repeat(r.min as usize))
                }
                _ => None,
            };
            (exact, cnf)
        }
        HirKind::Concat(parts) => {
            let mut all_exact = Some(String::new());
            let mut run = String::new();
            let mut out: TextCnf = Vec::new();
            for p in parts {
                let (exact, cnf) = hir_needs(p, depth + 1);
                match exact {
                    Some(e) => {
                        run.push_str(&e);
                        if let Some(a) = &mut all_exact {
                            a.push_str(&e);
                        }
                    }
                    None => {
                        all_exact = None;
                        if !run.is_empty() {
                            out.push(vec![std::mem::take(&mut run)]);
                        }
                        out.extend(cnf);
                    }
                }
            }
            if !run.is_empty() {
                out.push(vec![run]);
            }
            out.sort_by_key(|alts| {
                alts.iter()
                    .map(|t| 64 / t.len().clamp(1, 16))
                    .sum::<usize>()
            });
            out.dedup();
            out.truncate(MAX_CLAUSES);
            (all_exact, out)
        }
        HirKind::Alternation(alts) => {
            let mut clause: Vec<String> = Vec::new();
            for a in alts {
                let (_, cnf) = hir_needs(a, depth + 1);
                let Some(best) = text_best(&cnf) else {
                    return (None, Vec::new());
                };
                for t in best {
                    if !clause.contains(t) {
                        clause.push(t.clone());
                    }
                }
            }
            if clause.is_empty() {
                (None, Vec::new())
            } else {
                (None, vec![clause])
            }
        }
    }
}

/// The pseudo-field of keyword literals: "some string of the record, at
/// any depth, holds N".
pub(crate) const KEYWORDS: &str = "\u{1}keywords";

fn detection_cnf(d: &CompiledDetection) -> Cnf {
    match d {
        CompiledDetection::AllOf(items) => and_cnf(
            items
                .iter()
                .map(|it| match (&it.field, it.exists) {
                    (Some(f), None) if plain_field(f) => matcher_cnf(f, &it.matcher),
                    (None, None) => matcher_cnf(KEYWORDS, &it.matcher),
                    _ => Vec::new(),
                })
                .collect(),
        ),
        CompiledDetection::Keywords(m) => matcher_cnf(KEYWORDS, m),
        CompiledDetection::AnyOf(ds) => or_cnf(ds.iter().map(detection_cnf).collect()),
        CompiledDetection::And(ds) => and_cnf(ds.iter().map(detection_cnf).collect()),
        _ => Vec::new(),
    }
}

fn condition_cnf(e: &ConditionExpr, dets: &HashMap<String, CompiledDetection>) -> Cnf {
    match e {
        ConditionExpr::Identifier(n) => dets.get(n).map(detection_cnf).unwrap_or_default(),
        ConditionExpr::And(es) => and_cnf(es.iter().map(|e| condition_cnf(e, dets)).collect()),
        ConditionExpr::Or(es) => or_cnf(es.iter().map(|e| condition_cnf(e, dets)).collect()),
        ConditionExpr::Not(_) => Vec::new(),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let mut names: Vec<&String> = dets
                .keys()
                .filter(|n| pattern.matches_detection_name(n))
                .collect();
            names.sort();
            let parts: Vec<Cnf> = names
                .into_iter()
                .filter_map(|n| dets.get(n))
                .map(detection_cnf)
                .collect();
            match quantifier {
                Quantifier::Any => or_cnf(parts),
                Quantifier::Count(k) if *k >= 1 => or_cnf(parts),
                Quantifier::All => and_cnf(parts),
                Quantifier::Count(_) => Vec::new(),
            }
        }
    }
}

/// What must hold for `rule` to match any record.
fn rule_cnf(rule: &CompiledRule) -> Cnf {
    or_cnf(
        rule.conditions
            .iter()
            .map(|c| condition_cnf(c, &rule.detections))
            .collect(),
    )
}

/// A field's automaton, its prefix filter and the number of each of its
/// literals.
type Built = (AhoCorasick, Option<Box<Starts>>, FxHashMap<String, usize>);

/// Bits in a [`Starts`] table.
const START_BITS: usize = 1 << 16;

/// A filter of the places a literal can start: one bit per hash of the
/// case-folded first four bytes of each literal. Every occurrence of a
/// literal starts where the text's four bytes fold to one of these, so an
/// automaton started at the first such place finds every literal the
/// whole text holds (the bits only ever let a place through that holds
/// none: a false positive costs a longer walk, never a missed literal).
struct Starts {
    bits: Vec<u64>,
}

/// Four bytes folded so that ASCII letters of either case agree (other
/// bytes may fold together too: the filter stays a superset).
fn fold4(w: [u8; 4]) -> usize {
    let x = u32::from_le_bytes(w) | 0x2020_2020;
    (x.wrapping_mul(0x9E37_79B1) >> 16) as usize
}

impl Starts {
    /// The filter of `pats`, or `None` when a literal is shorter than four
    /// bytes (it could start anywhere).
    fn new(pats: &[String]) -> Option<Box<Starts>> {
        let mut bits = vec![0u64; START_BITS / 64];
        for p in pats {
            let &[a, b, c, d, ..] = p.as_bytes() else {
                return None;
            };
            set(&mut bits, fold4([a, b, c, d]));
        }
        Some(Box::new(Starts { bits }))
    }

    /// Where the first literal of `text` can start (`None`: nowhere).
    fn first(&self, text: &[u8]) -> Option<usize> {
        text.windows(4).position(|w| match *w {
            [a, b, c, d] => get(&self.bits, fold4([a, b, c, d])),
            _ => false,
        })
    }
}

/// Calls `each` with every literal of `fi` (its pattern number) that
/// `text` holds, once or more, walking the automaton from the first place
/// a literal can start.
fn each_literal(fi: &FieldIndex, text: &str, mut each: impl FnMut(usize)) {
    let Some(ac) = &fi.ac else { return };
    let from = match &fi.starts {
        Some(st) => match st.first(text.as_bytes()) {
            Some(i) => i,
            None => return,
        },
        None => 0,
    };
    let input = aho_corasick::Input::new(text).range(from..);
    for m in ac.find_overlapping_iter(input) {
        each(m.pattern().as_usize());
    }
}

/// The literals of one field.
#[derive(Default)]
struct FieldIndex {
    /// Every text literal of the field (pattern order = `text_clauses`).
    ac: Option<AhoCorasick>,
    /// When every literal of `ac` is at least four bytes long: the
    /// case-folded four-byte prefixes of its literals, so that a text is
    /// walked by the automaton only from the first place one occurs.
    starts: Option<Box<Starts>>,
    /// Per pattern, the clauses it satisfies.
    text_clauses: Vec<Vec<u32>>,
    /// Per integer, the clauses it satisfies.
    nums: FxHashMap<i64, Vec<u32>>,
    /// Every clause with a text literal on this field (a value that is not
    /// ASCII satisfies them all: its case folding is left to the matcher).
    all_text: Vec<u32>,
    /// The automaton holds the keyword literals too (one pass over a text
    /// marks the field's clauses and the keyword clauses).
    with_keywords: bool,
}

/// The candidate index over a rule set.
pub(crate) struct FastIndex {
    /// The compiled rules, in reference order.
    pub(crate) rules: Vec<CompiledRule>,
    /// Per rule, lateral's own translation of it (or why it is left to
    /// `rsigma-eval`).
    own: Vec<Compiled>,
    /// Field names as numbers (every field a rule or the index names).
    names: Fields,
    /// Per field number, its literals.
    fields: Vec<Option<FieldIndex>>,
    /// The number of [`KEYWORDS`].
    keywords: u32,
    /// Per rule, its clause ids (the first is its anchor).
    rule_clauses: Vec<Vec<u32>>,
    /// Per clause, its rule and whether it is that rule's anchor.
    clause_owner: Vec<(u32, bool)>,
    /// Rules with no clause.
    unconstrained: Vec<u64>,
    /// Per (product, service, category) of a record, the number of its
    /// plan in [`FastIndex::plans`].
    plan_of: FxHashMap<PlanKey, u32>,
    /// The plans: per logsource a record can have, what it admits.
    plans: Vec<Plan>,
    /// Rules with at least one clause.
    pub(crate) indexed: usize,
    /// Whether lateral's matcher decides the candidates (else
    /// `rsigma-eval` evaluates each, as a benchmark's comparison).
    pub(crate) use_own: bool,
    /// This index's number among those built (a thread's search cache
    /// holds one index's clause numbers).
    serial: u64,
    /// Whether repeated values are looked up in the search cache.
    pub(crate) use_cache: bool,
}

/// Indexes built so far (numbers [`FastIndex::serial`]).
static INDEXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Longest value whose search result is cached (bytes).
const MAX_CACHED: usize = 256;

/// Cached search results per thread; the cache is emptied when full.
const MAX_CACHE_ENTRIES: usize = 1 << 14;

/// One cached search: the field (or the keyword automaton), the value as
/// written and the clauses its literals satisfy, both kept in
/// the cache's arenas (no allocation per entry; emptied with the cache).
#[derive(Clone, Copy)]
struct Cached {
    field: u32,
    /// The value: `text[start..start + len]` of [`SearchCache::text`].
    text: (u32, u32),
    /// The clauses: `clauses[start..start + len]` of
    /// [`SearchCache::clauses`].
    clauses: (u32, u32),
}

/// A thread's search cache: entries by a hash of (field, value), their
/// values and clause lists in two arenas.
#[derive(Default)]
struct SearchCache {
    entries: FxHashMap<u64, Cached>,
    text: String,
    clauses: Vec<u32>,
}

impl SearchCache {
    fn clear(&mut self) {
        self.entries.clear();
        self.text.clear();
        self.clauses.clear();
    }

    /// The clauses of `text`'s search under `field`, when cached.
    fn get(&self, key: u64, field: u32, text: &str) -> Option<&[u32]> {
        let c = self.entries.get(&key)?;
        let (a, n) = (c.text.0 as usize, c.text.1 as usize);
        if c.field != field || self.text.get(a..a + n)? != text {
            return None;
        }
        let (a, n) = (c.clauses.0 as usize, c.clauses.1 as usize);
        self.clauses.get(a..a + n)
    }

    fn insert(&mut self, key: u64, field: u32, text: &str, clauses: &[u32]) {
        if self.entries.len() >= MAX_CACHE_ENTRIES
            || self.text.len() + text.len() > MAX_CACHE_TEXT
            || self.clauses.len() + clauses.len() > MAX_CACHE_TEXT
        {
            self.clear();
        }
        let span = (self.text.len() as u32, text.len() as u32);
        self.text.push_str(text);
        let list = (self.clauses.len() as u32, clauses.len() as u32);
        self.clauses.extend_from_slice(clauses);
        self.entries.insert(
            key,
            Cached {
                field,
                text: span,
                clauses: list,
            },
        );
    }
}

/// Most bytes of values (and clause numbers) the cache keeps.
const MAX_CACHE_TEXT: usize = MAX_CACHE_ENTRIES * MAX_CACHED;

/// How one field's values fare in a thread's search cache: a field whose
/// values are new nearly every time (ids, times, GUIDs) is searched
/// without the cache, so it does not push out the values that repeat.
#[derive(Default, Clone, Copy)]
struct CacheUse {
    hits: u32,
    misses: u32,
    /// Searches made without the cache since the last look at it.
    bypassed: u32,
}

/// Looks at the cache before a field counts as one whose values do not
/// repeat.
const CACHE_TRIAL: u32 = 256;

/// Of a field searched without the cache, one search in this many goes
/// through it again (to see whether its values repeat now).
const CACHE_PROBE: u32 = 64;

/// Per-thread working memory of [`FastIndex::detect`].
#[derive(Default)]
struct Scratch {
    clauses: Vec<u64>,
    touched: Vec<u32>,
    cand: Vec<u64>,
    done: Vec<u64>,
    /// The rules to decide for the record, in the reference's order.
    order: Vec<u32>,
    num: String,
    /// The record's lower-cased texts.
    low: String,
    /// Per field number, the record's slot (`u32::MAX`: absent).
    by_field: Vec<u32>,
    /// Field numbers set in `by_field`.
    set_fields: Vec<u32>,
    /// Search results of values seen before, by a hash of (field, value),
    /// for the index numbered `cache_of`.
    cache: SearchCache,
    cache_of: u64,
    /// The allocation of the record's slots, kept from record to record.
    slots: Vec<Slot<'static>>,
    /// Per field number, how its values have fared in the cache.
    cache_use: Vec<CacheUse>,
    /// The fields (by number) the rules of the record's logsources name.
    need: Vec<u64>,
    /// Clauses one search found.
    found: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `v` emptied, as a vector of another lifetime in the same allocation
/// (collecting an emptied vector's iterator into elements of the same
/// layout is done in place: no allocation).
#[allow(clippy::unnecessary_filter_map)]
fn recycle<'a, 'b>(mut v: Vec<Slot<'a>>) -> Vec<Slot<'b>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

fn words(n: usize) -> usize {
    n.div_ceil(64)
}

fn set(bits: &mut [u64], i: usize) {
    if let Some(w) = bits.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

fn get(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

/// What one logsource a record can have admits.
struct Plan {
    /// The rules whose logsource admits it.
    rules: Vec<u64>,
    /// The fields (by number) the clauses of those rules name: the only
    /// ones whose literals are searched in a record of that logsource (the
    /// keyword pseudo-field among them when an admitted rule has keyword
    /// clauses).
    fields: Vec<u64>,
    /// Whether it admits any rule.
    admits_any: bool,
}

/// The most logsources one record stands for.
const MAX_KEYS: usize = 8;

/// A record's product, service and category.
type PlanKey = (&'static str, Option<&'static str>, Option<&'static str>);

fn admits(rule: &LogSource, (product, service, category): PlanKey) -> bool {
    let fits = |r: &Option<String>, e: Option<&str>| match (r, e) {
        (None, _) => true,
        (Some(r), Some(e)) => r.eq_ignore_ascii_case(e),
        (Some(_), None) => false,
    };
    fits(&rule.product, Some(product))
        && fits(&rule.service, service)
        && fits(&rule.category, category)
}

/// How a candidate rule was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decided {
    /// By lateral's matcher.
    Own(Verdict),
    /// The rule is left to `rsigma-eval`.
    Fallback,
}

impl FastIndex {
    /// Builds the index over `rules` (in the reference's order).
    pub(crate) fn new(rules: Vec<CompiledRule>) -> FastIndex {
        let n = rules.len();
        let mut names = Fields::default();
        let keywords = names.intern(KEYWORDS);
        let own: Vec<Compiled> = rules.iter().map(|r| own::compile(r, &mut names)).collect();
        let mut cnfs: Vec<Cnf> = rules.iter().map(rule_cnf).collect();
        // Per field, its distinct text literals; a field whose automaton
        // cannot be built gives no clause.
        let mut texts: FxHashMap<String, Vec<String>> = FxHashMap::default();
        for cnf in &cnfs {
            for (f, need) in cnf.iter().flatten() {
                if let Need::Text(t) = need {
                    texts.entry(f.clone()).or_default().push(t.clone());
                }
            }
        }
        // Keyword literals join every field's automaton, so that a text is
        // searched once for both.
        let kw_texts: Vec<String> = texts.get(KEYWORDS).cloned().unwrap_or_default();
        if !kw_texts.is_empty() {
            for (f, pats) in texts.iter_mut() {
                if f != KEYWORDS {
                    pats.extend(kw_texts.iter().cloned());
                }
            }
        }
        let mut autom: FxHashMap<String, Built> = FxHashMap::default();
        let mut broken: Vec<String> = Vec::new();
        // One automaton per field, built in parallel (building is most of
        // the time loading the rules takes), in field order.
        let mut texts: Vec<(String, Vec<String>)> = texts.into_iter().collect();
        texts.sort_by(|a, b| a.0.cmp(&b.0));
        let built: Vec<(String, Vec<String>, Result<AhoCorasick, _>)> = texts
            .into_par_iter()
            .map(|(f, mut pats)| {
                pats.sort();
                pats.dedup();
                // A DFA where it fits (the fastest search), else the
                // crate's own choice; folding ASCII case, so that a text
                // is searched as written (the literals are lower-case).
                let ac = AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .ascii_case_insensitive(true)
                    .build(&pats)
                    .or_else(|_| {
                        AhoCorasick::builder()
                            .ascii_case_insensitive(true)
                            .build(&pats)
                    });
                (f, pats, ac)
            })
            .collect();
        for (f, pats, built) in built {
            match built {
                Ok(ac) => {
                    let starts = Starts::new(&pats);
                    let ids = pats.into_iter().enumerate().map(|(i, p)| (p, i)).collect();
                    autom.insert(f, (ac, starts, ids));
                }
                Err(_) => broken.push(f),
            }
        }
        for cnf in &mut cnfs {
            cnf.retain(|c| {
                !c.iter()
                    .any(|(f, n)| matches!(n, Need::Text(_)) && broken.contains(f))
            });
        }
        let mut fields: Vec<Option<FieldIndex>> = Vec::new();
        fn slot(fields: &mut Vec<Option<FieldIndex>>, id: u32) -> Option<&mut FieldIndex> {
            let i = id as usize;
            if fields.len() <= i {
                fields.resize_with(i + 1, || None);
            }
            fields
                .get_mut(i)
                .map(|f| f.get_or_insert_with(FieldIndex::default))
        }
        let mut pat_id: FxHashMap<String, FxHashMap<String, usize>> = FxHashMap::default();
        let mut autom: Vec<(String, Built)> = autom.into_iter().collect();
        autom.sort_by(|a, b| a.0.cmp(&b.0));
        for (f, (ac, starts, ids)) in autom {
            let id = names.intern(&f);
            if let Some(fi) = slot(&mut fields, id) {
                fi.ac = Some(ac);
                fi.starts = starts;
                fi.text_clauses = vec![Vec::new(); ids.len()];
                fi.with_keywords = f != KEYWORDS && !kw_texts.is_empty();
            }
            pat_id.insert(f, ids);
        }
        let mut rule_clauses = vec![Vec::new(); n];
        let mut clause_owner = Vec::new();
        let mut unconstrained = vec![0u64; words(n)];
        let mut indexed = 0;
        // Keyword literals and their clauses, for the other fields' automata.
        let mut kw_clauses: Vec<(&str, u32)> = Vec::new();
        for (r, cnf) in cnfs.iter().enumerate() {
            if cnf.is_empty() {
                set(&mut unconstrained, r);
                continue;
            }
            indexed += 1;
            for (ci, clause) in cnf.iter().enumerate() {
                let id = clause_owner.len() as u32;
                clause_owner.push((r as u32, ci == 0));
                if let Some(rc) = rule_clauses.get_mut(r) {
                    rc.push(id);
                }
                for (f, need) in clause {
                    let fid = names.intern(f);
                    let Some(fi) = slot(&mut fields, fid) else {
                        continue;
                    };
                    match need {
                        Need::Num(v) => fi.nums.entry(*v).or_default().push(id),
                        Need::NonAscii => {
                            if fi.all_text.last() != Some(&id) {
                                fi.all_text.push(id);
                            }
                        }
                        Need::Text(t) => {
                            if fi.all_text.last() != Some(&id) {
                                fi.all_text.push(id);
                            }
                            if f == KEYWORDS {
                                kw_clauses.push((t.as_str(), id));
                            }
                            if let Some(p) = pat_id.get(f).and_then(|m| m.get(t))
                                && let Some(list) = fi.text_clauses.get_mut(*p)
                            {
                                list.push(id);
                            }
                        }
                    }
                }
            }
        }
        for (f, ids) in &pat_id {
            if f == KEYWORDS {
                continue;
            }
            let Some(Some(fi)) = names.get(f).and_then(|id| fields.get_mut(id as usize)) else {
                continue;
            };
            for (t, id) in &kw_clauses {
                if let Some(p) = ids.get(*t)
                    && let Some(list) = fi.text_clauses.get_mut(*p)
                {
                    list.push(*id);
                }
            }
        }
        // A clause may name a pattern twice (two atoms, one literal).
        for fi in fields.iter_mut().flatten() {
            for l in &mut fi.text_clauses {
                l.dedup();
            }
            for l in fi.nums.values_mut() {
                l.dedup();
            }
        }
        let mut keys: Vec<PlanKey> = Vec::new();
        for (service, cats) in record::logsource_space() {
            keys.extend(cats.iter().map(|c| ("windows", service, Some(*c))));
            keys.push(("windows", service, None));
        }
        for service in linux::SERVICES {
            keys.extend(
                linux::CATEGORIES
                    .iter()
                    .map(|c| ("linux", Some(*service), Some(*c))),
            );
            keys.push(("linux", Some(*service), None));
        }
        // Per rule, the fields its clauses name.
        let rule_fields: Vec<Vec<u32>> = cnfs
            .iter()
            .map(|cnf| {
                let mut ids: Vec<u32> = cnf
                    .iter()
                    .flatten()
                    .filter_map(|(f, _)| names.get(f))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect();
        let mut plans: Vec<Plan> = Vec::new();
        let mut plan_of = FxHashMap::default();
        for key in keys {
            let mut mask = vec![0u64; words(n)];
            let mut named = vec![0u64; words(names.len())];
            for (i, r) in rules.iter().enumerate() {
                if admits(&r.logsource, key) {
                    set(&mut mask, i);
                    for &f in rule_fields.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                        set(&mut named, f as usize);
                    }
                }
            }
            plan_of.insert(key, plans.len() as u32);
            plans.push(Plan {
                admits_any: mask.iter().any(|&w| w != 0),
                rules: mask,
                fields: named,
            });
        }
        FastIndex {
            rules,
            own,
            names,
            fields,
            keywords,
            rule_clauses,
            clause_owner,
            unconstrained,
            plan_of,
            plans,
            indexed,
            use_own: true,
            serial: INDEXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            use_cache: true,
        }
    }

    /// Rules lateral's own matcher evaluates, and those left to
    /// `rsigma-eval` counted by reason (most first).
    pub(crate) fn own_counts(&self) -> (usize, Vec<(&'static str, usize)>) {
        let mut own = 0;
        let mut by: BTreeMap<&'static str, usize> = BTreeMap::new();
        for c in &self.own {
            match c {
                Compiled::Own(_) => own += 1,
                Compiled::Fallback(why) => *by.entry(why).or_default() += 1,
            }
        }
        let mut v: Vec<(&'static str, usize)> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        (own, v)
    }

    /// The rules that match `rec`, each once, in the reference's order
    /// (logsource by logsource, rules in order; a rule of the same title
    /// and id as an earlier hit is dropped).
    /// Also gives how many rules were evaluated in full.
    pub(crate) fn detect(&self, rec: &Record) -> (Vec<EvaluationResult>, u64) {
        let mut out: Vec<EvaluationResult> = Vec::new();
        let mut evaluated = 0u64;
        let event = rsigma_eval::JsonEvent::borrow(&rec.fields);
        self.candidates(rec, &mut |r, decided| {
            evaluated += 1;
            if decided == Decided::Own(Verdict::No) {
                return;
            }
            let Some(rule) = self.rules.get(r) else {
                return;
            };
            if out
                .iter()
                .any(|o| o.header.rule_title == rule.title && o.header.rule_id == rule.id)
            {
                return;
            }
            if let Some(res) = rsigma_eval::evaluate_rule(rule, &event) {
                out.push(res);
            }
        });
        (out, evaluated)
    }

    /// The titles and ids of the rules lateral's own matcher finds in
    /// `rec` (`rsigma-eval` only for the rules left to it and the
    /// comparisons it is asked about), in [`FastIndex::detect`]'s order:
    /// what `tests/sigma_fast.rs` holds against the reference.
    pub(crate) fn detect_own(&self, rec: &Record) -> Vec<(String, Option<String>)> {
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        let event = rsigma_eval::JsonEvent::borrow(&rec.fields);
        self.candidates(rec, &mut |r, decided| {
            let Some(rule) = self.rules.get(r) else {
                return;
            };
            let hit = match decided {
                Decided::Own(Verdict::No) => false,
                Decided::Own(Verdict::Yes) => true,
                Decided::Own(Verdict::Ask) | Decided::Fallback => {
                    rsigma_eval::evaluate_rule(rule, &event).is_some()
                }
            };
            if hit && !out.iter().any(|(t, id)| *t == rule.title && *id == rule.id) {
                out.push((rule.title.clone(), rule.id.clone()));
            }
        });
        out
    }

    /// Calls `each` with every candidate rule of `rec` (its number), in
    /// the reference's order, and how lateral's matcher decided it.
    fn candidates(&self, rec: &Record, each: &mut dyn FnMut(usize, Decided)) {
        let Value::Object(map) = &rec.fields else {
            return;
        };
        SCRATCH.with(|s| {
            let Ok(mut s) = s.try_borrow_mut() else {
                return;
            };
            let s = &mut *s;
            let nw = words(self.rules.len());
            let cw = words(self.clause_owner.len());
            if s.clauses.len() < cw {
                s.clauses.resize(cw, 0);
            }
            if s.cand.len() < nw {
                s.cand.resize(nw, 0);
            }
            if s.done.len() < nw {
                s.done.resize(nw, 0);
            }
            if s.by_field.len() < self.names.len() {
                s.by_field.resize(self.names.len(), u32::MAX);
            }
            // The record's values by field number, and its logsource.
            let mut low = std::mem::take(&mut s.low);
            let mut by_field = std::mem::take(&mut s.by_field);
            low.clear();
            // The slots' allocation of the last record (empty: no value
            // crosses from one record to the next).
            let mut slots: Vec<Slot<'_>> = recycle(std::mem::take(&mut s.slots));
            slots.reserve(map.len());
            let (mut channel, mut provider, mut event_id) = (None, None, None);
            for (k, v) in map {
                match k.as_str() {
                    "Channel" => channel = Some(v),
                    "Provider_Name" => provider = Some(v),
                    "EventID" => event_id = Some(v),
                    _ => {}
                }
                let field = self.names.get(k).unwrap_or(u32::MAX);
                if let Some(b) = by_field.get_mut(field as usize) {
                    *b = slots.len() as u32;
                    s.set_fields.push(field);
                }
                slots.push(Slot {
                    value: v,
                    low: None,
                    field,
                });
            }
            // The record's logsources (a few: no allocation per record),
            // each as its plan's number (one look-up per logsource).
            let mut keys: [u32; MAX_KEYS] = [0; MAX_KEYS];
            let mut nkeys = 0;
            let mut add = |k: PlanKey| {
                if let Some(&p) = self.plan_of.get(&k)
                    && let Some(slot) = keys.get_mut(nkeys)
                {
                    *slot = p;
                    nkeys += 1;
                }
            };
            match &rec.linux {
                Some(l) => l
                    .services
                    .iter()
                    .for_each(|s| add(("linux", Some(*s), l.category))),
                None => {
                    let (service, cats) = record::logsource_of(channel, provider, event_id);
                    cats.iter()
                        .for_each(|c| add(("windows", service, Some(*c))));
                    if cats.is_empty() {
                        add(("windows", service, None));
                    }
                }
            }
            let keys = keys.get(..nkeys).unwrap_or(&[]);
            let plan = |k: u32| self.plans.get(k as usize);
            // A record no rule's logsource admits is done: nothing to
            // search or lower-case.
            let admitted = keys.iter().any(|&k| plan(k).is_some_and(|p| p.admits_any));
            if admitted {
                // The fields the record's logsources' rules name.
                let fw = words(self.names.len());
                s.need.clear();
                s.need.resize(fw, 0);
                for &k in keys {
                    if let Some(p) = plan(k) {
                        for (w, &x) in s.need.iter_mut().zip(&p.fields) {
                            *w |= x;
                        }
                    }
                }
                // The texts are searched as written (the automata fold
                // ASCII case themselves).
                self.mark(&slots, s);
            }
            for &c in &s.touched {
                let Some(&(r, anchor)) = self.clause_owner.get(c as usize) else {
                    continue;
                };
                if !anchor {
                    continue;
                }
                let all = self
                    .rule_clauses
                    .get(r as usize)
                    .is_some_and(|cs| cs.iter().all(|&c| get(&s.clauses, c as usize)));
                if all {
                    set(&mut s.cand, r as usize);
                }
            }
            // The rules to decide, in the reference's order.
            s.order.clear();
            for &key in keys {
                let Some(p) = plan(key) else {
                    continue;
                };
                for (wi, &pw) in p.rules.iter().enumerate() {
                    let c = s.cand.get(wi).copied().unwrap_or(0);
                    let u = self.unconstrained.get(wi).copied().unwrap_or(0);
                    let d = s.done.get(wi).copied().unwrap_or(0);
                    let mut w = (c | u) & pw & !d;
                    if let Some(dw) = s.done.get_mut(wi) {
                        *dw |= w;
                    }
                    while w != 0 {
                        let bit = w.trailing_zeros() as usize;
                        w &= w - 1;
                        s.order.push((wi * 64 + bit) as u32);
                    }
                }
            }
            // Texts lower-cased once, in one buffer, and only for a record
            // some rule is decided on.
            if !s.order.is_empty() {
                for slot in &mut slots {
                    if let Value::String(t) = slot.value
                        && t.is_ascii()
                    {
                        let a = low.len();
                        low.push_str(t);
                        if let Some(new) = low.get_mut(a..) {
                            new.make_ascii_lowercase();
                        }
                        slot.low = Some((a as u32, low.len() as u32));
                    }
                }
            }
            let view = View {
                slots,
                by_field: &by_field,
                low: &low,
            };
            for &r in &s.order {
                let r = r as usize;
                let decided = match self.own.get(r) {
                    Some(Compiled::Own(o)) if self.use_own => Decided::Own(o.eval(&view)),
                    _ => Decided::Fallback,
                };
                each(r, decided);
            }
            s.slots = recycle(view.slots);
            for id in s.set_fields.drain(..) {
                if let Some(b) = by_field.get_mut(id as usize) {
                    *b = u32::MAX;
                }
            }
            s.low = low;
            s.by_field = by_field;
            for &c in &s.touched {
                if let Some(w) = s.clauses.get_mut(c as usize / 64) {
                    *w = 0;
                }
            }
            s.touched.clear();
            for w in s.cand.iter_mut().take(nw) {
                *w = 0;
            }
            for w in s.done.iter_mut().take(nw) {
                *w = 0;
            }
        });
    }

    /// Marks the clauses `rec`'s fields satisfy (keyword clauses by every
    /// string of the record), searching each text as written.
    fn mark(&self, slots: &[Slot<'_>], s: &mut Scratch) {
        let kw = self
            .fields
            .get(self.keywords as usize)
            .and_then(Option::as_ref);
        if s.cache_of != self.serial {
            s.cache.clear();
            s.cache_use.clear();
            s.cache_of = self.serial;
        }
        if s.cache_use.len() < self.names.len() {
            s.cache_use.resize(self.names.len(), CacheUse::default());
        }
        let need = std::mem::take(&mut s.need);
        let kw = kw.filter(|_| get(&need, self.keywords as usize));
        let mut cache = std::mem::take(&mut s.cache);
        let use_cache = self.use_cache;
        let mut find = |id: u32, fi: &FieldIndex, text: &str, s: &mut Scratch| {
            if use_cache {
                search_cached(id, fi, text, s, &mut cache);
            } else {
                search(fi, text, s);
            }
        };
        for slot in slots {
            let v = slot.value;
            // An ASCII text (searched as written); any other value is
            // read as `rsigma-eval` reads it.
            let ascii = match v {
                Value::String(t) if t.is_ascii() => Some(t.as_str()),
                _ => None,
            };
            let mut kw_done = false;
            if let Some(Some(fi)) = self.fields.get(slot.field as usize)
                && get(&need, slot.field as usize)
            {
                match ascii {
                    Some(t) => {
                        find(slot.field, fi, t, s);
                        kw_done = fi.with_keywords;
                        if !fi.nums.is_empty()
                            && let Ok(n) = t.parse::<f64>()
                        {
                            mark_num(fi, n, s);
                        }
                    }
                    None => mark_value(fi, v, s),
                }
            }
            if let Some(kw) = kw
                && !kw_done
            {
                match ascii {
                    Some(t) => find(self.keywords, kw, t, s),
                    None => mark_strings(kw, v, s, 63),
                }
            }
        }
        s.cache = cache;
        s.need = need;
    }
}

/// Keyword clauses: every string of `v`, at any depth.
fn mark_strings(fi: &FieldIndex, v: &Value, s: &mut Scratch, depth: usize) {
    if depth == 0 {
        return;
    }
    match v {
        Value::String(t) => mark_text(fi, t, s),
        Value::Array(a) => a.iter().for_each(|x| mark_strings(fi, x, s, depth - 1)),
        Value::Object(o) => o.values().for_each(|x| mark_strings(fi, x, s, depth - 1)),
        _ => {}
    }
}

fn hit(s: &mut Scratch, ids: &[u32]) {
    for &c in ids {
        let (w, b) = (c as usize / 64, c % 64);
        if let Some(word) = s.clauses.get_mut(w)
            && *word & (1 << b) == 0
        {
            *word |= 1 << b;
            s.touched.push(c);
        }
    }
}

/// Searches an ASCII text as written (the automata fold ASCII case).
fn search(fi: &FieldIndex, text: &str, s: &mut Scratch) {
    each_literal(fi, text, |p| {
        if let Some(ids) = fi.text_clauses.get(p) {
            hit(s, ids);
        }
    });
}

/// [`search`] through the thread's cache: a value of a field searched
/// before marks the clauses it marked then (the search is a function of
/// the field's automaton and the value as written alone).
fn search_cached(id: u32, fi: &FieldIndex, text: &str, s: &mut Scratch, cache: &mut SearchCache) {
    if text.len() > MAX_CACHED || fi.ac.is_none() {
        search(fi, text, s);
        return;
    }
    if let Some(u) = s.cache_use.get_mut(id as usize)
        && u.misses >= CACHE_TRIAL
        && u.hits < u.misses / 4
    {
        // Values of this field rarely repeat: searched directly, but
        // looked up again now and then.
        u.bypassed += 1;
        if u.bypassed < CACHE_PROBE {
            search(fi, text, s);
            return;
        }
        u.bypassed = 0;
    }
    let key = {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        id.hash(&mut h);
        text.hash(&mut h);
        h.finish()
    };
    if let Some(clauses) = cache.get(key, id, text) {
        if let Some(u) = s.cache_use.get_mut(id as usize) {
            u.hits += 1;
            if u.hits >= 4 * CACHE_TRIAL {
                // Recent use counts most.
                u.hits /= 2;
                u.misses /= 2;
            }
        }
        hit(s, clauses);
        return;
    }
    if let Some(u) = s.cache_use.get_mut(id as usize) {
        u.misses += 1;
        if u.misses >= 4 * CACHE_TRIAL {
            u.hits /= 2;
            u.misses /= 2;
        }
    }
    let mut found = std::mem::take(&mut s.found);
    found.clear();
    each_literal(fi, text, |p| {
        if let Some(ids) = fi.text_clauses.get(p) {
            found.extend_from_slice(ids);
        }
    });
    found.sort_unstable();
    found.dedup();
    hit(s, &found);
    cache.insert(key, id, text, &found);
    s.found = found;
}

fn mark_text(fi: &FieldIndex, text: &str, s: &mut Scratch) {
    if !text.is_ascii() {
        hit(s, &fi.all_text);
        return;
    }
    search(fi, text, s);
}

fn mark_num(fi: &FieldIndex, v: f64, s: &mut Scratch) {
    if fi.nums.is_empty() || !v.is_finite() {
        return;
    }
    let r = v.round();
    if (v - r).abs() < 1e-6
        && r.abs() < 9.0e15
        && let Some(ids) = fi.nums.get(&(r as i64))
    {
        hit(s, ids);
    }
}

/// As `rsigma-eval` reads a value: strings as they are, numbers written
/// out, booleans as `true`/`false`, arrays member by member.
fn mark_value(fi: &FieldIndex, v: &Value, s: &mut Scratch) {
    match v {
        Value::String(t) => {
            mark_text(fi, t, s);
            if !fi.nums.is_empty()
                && let Ok(n) = t.parse::<f64>()
            {
                mark_num(fi, n, s);
            }
        }
        Value::Number(n) => {
            let mut text = std::mem::take(&mut s.num);
            text.clear();
            let f = if let Some(i) = n.as_i64() {
                text.push_str(itoa::Buffer::new().format(i));
                i as f64
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                text.push_str(&f.to_string());
                f
            };
            mark_text(fi, &text, s);
            s.num = text;
            mark_num(fi, f, s);
        }
        Value::Bool(b) => mark_text(fi, if *b { "true" } else { "false" }, s),
        Value::Array(a) => {
            for x in a {
                mark_value(fi, x, s);
            }
        }
        _ => {}
    }
}
