//! lateral's own matcher for the candidate rules.
//!
//! Part of the `sigma` stage. Each rule `rsigma-eval` compiled (modifiers
//! already applied: `base64`, `windash`, `wide`, … are plain value lists by
//! then) is translated once, at load time, into a small tree of our own
//! that works on the record's values as [`super::fast`] already holds
//! them: every top-level text value lower-cased once per record, field
//! names turned into numbers (one array look-up per field, no string
//! compare), no allocation per matcher. `rsigma-eval` stays the reference:
//! the tree mirrors its semantics case by case (how numbers and booleans
//! read as text, arrays matched member by member, `null`, `exists`,
//! keywords over every string, `1 of`/`all of` selectors, `not`), and
//!
//! * a rule using something not translated here (`fieldref`, `expand`,
//!   time parts, nested field paths, array scopes) is left to
//!   `rsigma-eval` whole ([`Compiled::Fallback`], counted by reason);
//! * a case-insensitive comparison of a text that is not ASCII (Unicode
//!   case folding) answers "ask the reference" ([`Verdict::Ask`]), and the
//!   rule is evaluated by `rsigma-eval` for that record;
//! * a match is always re-evaluated by `rsigma-eval`, which builds the
//!   hit (matched fields, header), so hits are the reference's own.

use rsigma_eval::matcher::GroupMode;
use rsigma_eval::{CompiledDetection, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier};
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::borrow::Cow;

/// Field names as numbers.
#[derive(Default)]
pub(crate) struct Fields {
    ids: FxHashMap<String, u32>,
}

impl Fields {
    /// The number of `name`, given one if new.
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(name.to_string(), id);
        id
    }

    /// The number of `name`, if any rule or index names it.
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// How many names are known.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// One value comparison (mirrors `CompiledMatcher`).
enum M {
    Exact(Box<str>, bool),
    Contains(Box<str>, bool),
    Starts(Box<str>, bool),
    Ends(Box<str>, bool),
    /// `Regex`, `RegexSetMatch`, `AhoCorasickSet` or `Cidr`, kept as
    /// compiled.
    Leaf(CompiledMatcher),
    NumEq(f64),
    NumGt(f64),
    NumGte(f64),
    NumLt(f64),
    NumLte(f64),
    Exists(bool),
    Null,
    BoolEq(bool),
    Not(Box<M>),
    Any(Vec<M>),
    All(Vec<M>),
    /// A case-insensitive group: children see the lower-cased text.
    CiGroup(Vec<M>, bool),
}

/// One detection item.
struct Item {
    field: Option<u32>,
    m: M,
    exists: Option<bool>,
}

/// One named detection (mirrors `CompiledDetection`).
enum D {
    AllOf(Vec<Item>),
    AnyOf(Vec<D>),
    Keywords(M),
    And(Vec<D>),
}

/// A condition over the detections (by number).
enum C {
    Det(Option<usize>),
    And(Vec<C>),
    Or(Vec<C>),
    Not(Box<C>),
    Sel(Quantifier, Vec<usize>),
}

/// A rule as this module evaluates it.
pub(crate) struct OwnRule {
    dets: Vec<D>,
    conds: Vec<C>,
}

/// A rule translated, or why not.
pub(crate) enum Compiled {
    /// Evaluated here.
    Own(OwnRule),
    /// Left to `rsigma-eval`, for this reason.
    Fallback(&'static str),
}

/// What the matcher says about one rule and one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Cannot match.
    No,
    /// Matches.
    Yes,
    /// A comparison this module does not decide (Unicode case folding):
    /// ask `rsigma-eval`.
    Ask,
}

/// Evaluation result: `Err(())` is [`Verdict::Ask`].
type R = Result<bool, ()>;

fn plain(f: &str) -> bool {
    !f.is_empty() && !f.contains(['.', '[', '\\'])
}

fn matcher(m: &CompiledMatcher) -> Result<M, &'static str> {
    use CompiledMatcher as X;
    Ok(match m {
        X::Exact {
            value,
            case_insensitive,
        } => M::Exact(value.as_str().into(), *case_insensitive),
        X::Contains {
            value,
            case_insensitive,
        } => M::Contains(value.as_str().into(), *case_insensitive),
        X::StartsWith {
            value,
            case_insensitive,
        } => M::Starts(value.as_str().into(), *case_insensitive),
        X::EndsWith {
            value,
            case_insensitive,
        } => M::Ends(value.as_str().into(), *case_insensitive),
        X::Regex(_) | X::RegexSetMatch { .. } | X::AhoCorasickSet { .. } | X::Cidr(_) => {
            M::Leaf(m.clone())
        }
        X::NumericEq(n) => M::NumEq(*n),
        X::NumericGt(n) => M::NumGt(*n),
        X::NumericGte(n) => M::NumGte(*n),
        X::NumericLt(n) => M::NumLt(*n),
        X::NumericLte(n) => M::NumLte(*n),
        X::Exists(e) => M::Exists(*e),
        X::Null => M::Null,
        X::BoolEq(b) => M::BoolEq(*b),
        X::Not(inner) => M::Not(Box::new(matcher(inner)?)),
        X::AnyOf(ch) => M::Any(ch.iter().map(matcher).collect::<Result<_, _>>()?),
        X::AllOf(ch) => M::All(ch.iter().map(matcher).collect::<Result<_, _>>()?),
        X::CaseInsensitiveGroup { children, mode } => M::CiGroup(
            children.iter().map(matcher).collect::<Result<_, _>>()?,
            matches!(mode, GroupMode::All),
        ),
        X::FieldRef { .. } => return Err("fieldref"),
        X::Expand { .. } => return Err("expand"),
        X::TimestampPart { .. } => return Err("time part"),
    })
}

fn detection(d: &CompiledDetection, fields: &mut Fields) -> Result<D, &'static str> {
    Ok(match d {
        CompiledDetection::AllOf(items) => D::AllOf(
            items
                .iter()
                .map(|it| {
                    let field = match &it.field {
                        Some(f) if plain(f) => Some(fields.intern(f)),
                        Some(_) => return Err("nested field path"),
                        None => None,
                    };
                    Ok(Item {
                        field,
                        m: matcher(&it.matcher)?,
                        exists: it.exists,
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        CompiledDetection::AnyOf(ds) => D::AnyOf(
            ds.iter()
                .map(|d| detection(d, fields))
                .collect::<Result<_, _>>()?,
        ),
        CompiledDetection::Keywords(m) => D::Keywords(matcher(m)?),
        CompiledDetection::And(ds) => D::And(
            ds.iter()
                .map(|d| detection(d, fields))
                .collect::<Result<_, _>>()?,
        ),
        CompiledDetection::ArrayMatch { .. } | CompiledDetection::Conditional { .. } => {
            return Err("array scope");
        }
    })
}

fn condition(e: &ConditionExpr, names: &[&String]) -> C {
    match e {
        ConditionExpr::Identifier(n) => C::Det(names.iter().position(|x| *x == n)),
        ConditionExpr::And(es) => C::And(es.iter().map(|e| condition(e, names)).collect()),
        ConditionExpr::Or(es) => C::Or(es.iter().map(|e| condition(e, names)).collect()),
        ConditionExpr::Not(inner) => C::Not(Box::new(condition(inner, names))),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => C::Sel(
            quantifier.clone(),
            names
                .iter()
                .enumerate()
                .filter(|(_, n)| pattern.matches_detection_name(n))
                .map(|(i, _)| i)
                .collect(),
        ),
    }
}

/// Translates one rule, naming its fields in `fields`.
pub(crate) fn compile(rule: &CompiledRule, fields: &mut Fields) -> Compiled {
    let mut names: Vec<&String> = rule.detections.keys().collect();
    names.sort();
    let mut dets = Vec::with_capacity(names.len());
    for n in &names {
        let Some(d) = rule.detections.get(*n) else {
            return Compiled::Fallback("detection");
        };
        match detection(d, fields) {
            Ok(d) => dets.push(d),
            Err(why) => return Compiled::Fallback(why),
        }
    }
    let conds = rule
        .conditions
        .iter()
        .map(|c| condition(c, &names))
        .collect();
    Compiled::Own(OwnRule { dets, conds })
}

/// One top-level value of a record: the value and, for a text that is
/// ASCII, the span of its lower-cased copy in [`View::low`].
pub(crate) struct Slot<'a> {
    pub(crate) value: &'a Value,
    pub(crate) low: Option<(u32, u32)>,
    /// The field's number (`u32::MAX`: no rule or index names it).
    pub(crate) field: u32,
}

/// A record as the matcher reads it.
pub(crate) struct View<'a> {
    /// The top-level values, in the record's order.
    pub(crate) slots: Vec<Slot<'a>>,
    /// Per field number, its slot (`u32::MAX`: absent).
    pub(crate) by_field: &'a [u32],
    /// The lower-cased texts.
    pub(crate) low: &'a str,
}

impl<'a> View<'a> {
    fn get(&self, field: u32) -> Option<&Slot<'a>> {
        let i = *self.by_field.get(field as usize)?;
        self.slots.get(i as usize)
    }

    fn low_of(&self, slot: &Slot<'_>) -> Option<&str> {
        let (a, b) = slot.low?;
        self.low.get(a as usize..b as usize)
    }
}

/// A text as a predicate sees it: as written, and lower-cased when that
/// is plain ASCII folding (`None`: not ASCII).
#[derive(Clone, Copy)]
struct Txt<'a> {
    orig: &'a str,
    low: Option<&'a str>,
}

impl OwnRule {
    /// Does the rule match the record?
    pub(crate) fn eval(&self, view: &View<'_>) -> Verdict {
        for c in &self.conds {
            match self.cond(c, view) {
                Ok(true) => return Verdict::Yes,
                Ok(false) => {}
                Err(()) => return Verdict::Ask,
            }
        }
        Verdict::No
    }

    fn det(&self, i: usize, view: &View<'_>) -> R {
        match self.dets.get(i) {
            Some(d) => det(d, view),
            None => Ok(false),
        }
    }

    fn cond(&self, c: &C, view: &View<'_>) -> R {
        match c {
            C::Det(Some(i)) => self.det(*i, view),
            C::Det(None) => Ok(false),
            C::And(cs) => {
                for c in cs {
                    if !self.cond(c, view)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            C::Or(cs) => {
                for c in cs {
                    if self.cond(c, view)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            C::Not(c) => Ok(!self.cond(c, view)?),
            C::Sel(q, ids) => match q {
                Quantifier::Any => {
                    for &i in ids {
                        if self.det(i, view)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                Quantifier::All => {
                    for &i in ids {
                        if !self.det(i, view)? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
                Quantifier::Count(k) => {
                    if *k == 0 {
                        return Ok(true);
                    }
                    let mut n = 0u64;
                    for &i in ids {
                        if self.det(i, view)? {
                            n += 1;
                            if n >= *k {
                                return Ok(true);
                            }
                        }
                    }
                    Ok(false)
                }
            },
        }
    }
}

fn det(d: &D, view: &View<'_>) -> R {
    match d {
        D::AllOf(items) => {
            for it in items {
                if !item(it, view)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        D::AnyOf(ds) => {
            for d in ds {
                if det(d, view)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        D::Keywords(m) => keyword(m, view),
        D::And(ds) => {
            for d in ds {
                if !det(d, view)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
    }
}

fn item(it: &Item, view: &View<'_>) -> R {
    if let Some(expect) = it.exists {
        return Ok(match it.field {
            Some(f) => view.get(f).is_some_and(|s| !s.value.is_null()) == expect,
            None => !expect,
        });
    }
    match it.field {
        Some(f) => match view.get(f) {
            Some(slot) => value(&it.m, slot.value, view.low_of(slot)),
            None => Ok(matches!(it.m, M::Null)),
        },
        None => keyword(&it.m, view),
    }
}

/// Any string of the record (at any depth) matches `m` as a keyword.
fn keyword(m: &M, view: &View<'_>) -> R {
    for slot in &view.slots {
        let hit = match slot.value {
            Value::String(s) => match view.low_of(slot) {
                Some(l) => text_pred(
                    m,
                    Txt {
                        orig: s,
                        low: Some(l),
                    },
                )?,
                // Not lower-cased by the index (no rule of the record's
                // logsource names the field): folded here.
                None => with_lowered(s, |t| text_pred(m, t))?,
            },
            v @ (Value::Object(_) | Value::Array(_)) => keyword_deep(m, v, 63)?,
            _ => false,
        };
        if hit {
            return Ok(true);
        }
    }
    Ok(false)
}

fn keyword_deep(m: &M, v: &Value, depth: usize) -> R {
    if depth == 0 {
        return Ok(false);
    }
    match v {
        Value::String(s) => with_lowered(s, |t| text_pred(m, t)),
        Value::Object(o) => {
            for x in o.values() {
                if keyword_deep(m, x, depth - 1)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Array(a) => {
            for x in a {
                if keyword_deep(m, x, depth - 1)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

fn with_lowered(s: &str, f: impl FnOnce(Txt<'_>) -> R) -> R {
    if s.is_ascii() {
        let low: Cow<'_, str> = if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        };
        f(Txt {
            orig: s,
            low: Some(&low),
        })
    } else {
        f(Txt { orig: s, low: None })
    }
}

/// `pred` over the value read as text (numbers written out, booleans as
/// `true`/`false`, arrays member by member).
fn as_text(v: &Value, low: Option<&str>, pred: &dyn Fn(Txt<'_>) -> R) -> R {
    match v {
        Value::String(s) => match low {
            Some(l) => pred(Txt {
                orig: s,
                low: Some(l),
            }),
            None => with_lowered(s, pred),
        },
        Value::Number(n) => {
            let t = match n.as_i64() {
                Some(i) => i.to_string(),
                None => n.as_f64().unwrap_or(f64::NAN).to_string(),
            };
            with_lowered(&t, pred)
        }
        Value::Bool(b) => {
            let t = if *b { "true" } else { "false" };
            pred(Txt {
                orig: t,
                low: Some(t),
            })
        }
        Value::Array(a) => {
            for x in a {
                if as_text(x, None, pred)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

fn as_number(v: &Value, pred: &dyn Fn(f64) -> bool) -> bool {
    match v {
        Value::Number(n) => pred(match n.as_i64() {
            Some(i) => i as f64,
            None => n.as_f64().unwrap_or(f64::NAN),
        }),
        Value::String(s) => s.parse::<f64>().is_ok_and(pred),
        Value::Array(a) => a.iter().any(|x| as_number(x, pred)),
        _ => false,
    }
}

fn is_text_kind(m: &M) -> bool {
    match m {
        M::Exact(..) | M::Contains(..) | M::Starts(..) | M::Ends(..) | M::CiGroup(..) => true,
        M::Leaf(l) => !matches!(l, CompiledMatcher::Cidr(_)),
        _ => false,
    }
}

/// `m` against one value (mirrors `CompiledMatcher::matches`).
fn value(m: &M, v: &Value, low: Option<&str>) -> R {
    if is_text_kind(m) {
        return as_text(v, low, &|t| text_pred(m, t));
    }
    match m {
        M::Leaf(CompiledMatcher::Cidr(net)) => as_text(v, None, &|t| {
            Ok(t.orig
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)))
        }),
        M::NumEq(n) => Ok(as_number(v, &|x| (x - n).abs() < f64::EPSILON)),
        M::NumGt(n) => Ok(as_number(v, &|x| x > *n)),
        M::NumGte(n) => Ok(as_number(v, &|x| x >= *n)),
        M::NumLt(n) => Ok(as_number(v, &|x| x < *n)),
        M::NumLte(n) => Ok(as_number(v, &|x| x <= *n)),
        M::Exists(e) => Ok(v.is_null() != *e),
        M::Null => Ok(v.is_null()),
        M::BoolEq(e) => bool_eq(*e, v),
        M::Not(inner) => Ok(!value(inner, v, low)?),
        M::Any(ch) => {
            for c in ch {
                if value(c, v, low)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        M::All(ch) => {
            for c in ch {
                if !value(c, v, low)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn bool_eq(e: bool, v: &Value) -> R {
    match v {
        Value::Bool(b) => Ok(*b == e),
        Value::String(s) => {
            if !s.is_ascii() {
                return Err(());
            }
            Ok(match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => e,
                "false" | "0" | "no" => !e,
                _ => false,
            })
        }
        Value::Array(a) => {
            for x in a {
                if bool_eq(e, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// The lower-cased text, or "ask" when folding is not ASCII's.
fn low(t: Txt<'_>) -> Result<&str, ()> {
    t.low.ok_or(())
}

/// A text predicate on one text (mirrors `CompiledMatcher::matches_str`,
/// which is also what string matchers do on each text of a value).
fn text_pred(m: &M, t: Txt<'_>) -> R {
    Ok(match m {
        M::Exact(v, true) => low(t)? == &**v,
        M::Exact(v, false) => t.orig == &**v,
        M::Contains(v, true) => low(t)?.contains(&**v),
        M::Contains(v, false) => t.orig.contains(&**v),
        M::Starts(v, true) => low(t)?.starts_with(&**v),
        M::Starts(v, false) => t.orig.starts_with(&**v),
        M::Ends(v, true) => low(t)?.ends_with(&**v),
        M::Ends(v, false) => t.orig.ends_with(&**v),
        M::Leaf(CompiledMatcher::Regex(re)) => re.is_match(t.orig),
        M::Leaf(l @ CompiledMatcher::RegexSetMatch { .. }) => set_match(l, t.orig),
        M::Leaf(CompiledMatcher::AhoCorasickSet {
            automaton,
            case_insensitive,
            ..
        }) => {
            if *case_insensitive {
                automaton.is_match(low(t)?)
            } else {
                automaton.is_match(t.orig)
            }
        }
        M::CiGroup(ch, all) => {
            let l = low(t)?;
            if *all {
                ch.iter().all(|c| pre_lowered(c, l))
            } else {
                ch.iter().any(|c| pre_lowered(c, l))
            }
        }
        M::Not(inner) => !text_pred(inner, t)?,
        M::Any(ch) => {
            for c in ch {
                if text_pred(c, t)? {
                    return Ok(true);
                }
            }
            false
        }
        M::All(ch) => {
            for c in ch {
                if !text_pred(c, t)? {
                    return Ok(false);
                }
            }
            true
        }
        _ => false,
    })
}

/// A `RegexSetMatch` over `s`: any or all of its patterns.
fn set_match(m: &CompiledMatcher, s: &str) -> bool {
    match m {
        CompiledMatcher::RegexSetMatch {
            set,
            mode: GroupMode::Any,
        } => set.is_match(s),
        CompiledMatcher::RegexSetMatch {
            set,
            mode: GroupMode::All,
        } => set.matches(s).iter().count() == set.len(),
        _ => false,
    }
}

/// Inside a case-insensitive group: the text already lower-cased.
fn pre_lowered(m: &M, l: &str) -> bool {
    match m {
        M::Contains(v, true) => l.contains(&**v),
        M::Starts(v, true) => l.starts_with(&**v),
        M::Ends(v, true) => l.ends_with(&**v),
        M::Exact(v, true) => l == &**v,
        M::Leaf(CompiledMatcher::Regex(re)) => re.is_match(l),
        M::Leaf(CompiledMatcher::AhoCorasickSet {
            automaton,
            case_insensitive: true,
            ..
        }) => automaton.is_match(l),
        M::Leaf(x @ CompiledMatcher::RegexSetMatch { .. }) => set_match(x, l),
        M::Not(inner) => !pre_lowered(inner, l),
        M::Any(ch) => ch.iter().any(|c| pre_lowered(c, l)),
        M::All(ch) => ch.iter().all(|c| pre_lowered(c, l)),
        M::CiGroup(ch, all) => {
            if *all {
                ch.iter().all(|c| pre_lowered(c, l))
            } else {
                ch.iter().any(|c| pre_lowered(c, l))
            }
        }
        _ => false,
    }
}
