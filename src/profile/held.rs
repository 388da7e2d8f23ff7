//! Judged logons held compactly: what a streamed analysis keeps of the
//! network logons and Kerberos attempts the logon and attempt rules read,
//! instead of one [`LogEvent`] (about 280 bytes) each.
//!
//! Such events repeat: one account logs on from one host to another many
//! times a day with the same method and outcome. Everything of an event
//! but its time and origin is its *template*, held once (interned in one
//! builder all worker threads share); each event is a [`Held`] record of
//! 24 bytes: its time, where it was read (an evidence pointer: the input
//! and the offset or line) and its template. The records are sorted as a
//! run sorts its events (time, then origin, then action), whatever thread
//! read them, so the detectors see them in the order they would see the
//! events themselves.

use crate::model::Action;
use crate::model::event::{LogEvent, Origin, Position, Timestamp};
use hashbrown::HashTable;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One judged event held compactly: its time, its evidence pointer and
/// its template ([`HeldLogons::template`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// When the event happened.
    pub ts: Timestamp,
    /// The offset or line of the record in its input.
    at: u64,
    /// 0: no origin; else `(file index + 1) << 1`, plus 1 for a line.
    place: u32,
    /// The template's index.
    template: u32,
}

/// The held judged events of a run, sorted in run order.
#[derive(Debug, Default)]
pub struct HeldLogons {
    templates: Vec<LogEvent>,
    files: Vec<Arc<str>>,
    records: Vec<Held>,
}

/// Collects held events (one shared by every worker thread of a streamed
/// analysis, each piece added under one lock); [`HeldLogons::merge`]
/// joins builders.
///
/// The records are kept in chunks of 65,536 (1.5 MiB), not one growing
/// list: a list that doubles holds up to twice what it needs, and copies
/// itself as it grows (old and new alive at once), at the very time the
/// learning builders are at their largest. The merge moves the chunks
/// into one list of the exact length, freeing each as it goes.
#[derive(Default)]
pub struct HeldBuilder {
    templates: Vec<LogEvent>,
    index: HashTable<(u64, u32)>,
    files: Vec<Arc<str>>,
    chunks: Vec<Vec<Held>>,
    len: usize,
}

/// Records per chunk of a [`HeldBuilder`] (1.5 MiB).
const CHUNK: usize = 1 << 16;

/// The hash of a template's usual fields (equal templates hash alike;
/// the fields left out only make more templates share a hash).
fn template_hash(e: &LogEvent) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    e.action.hash(&mut h);
    e.outcome.hash(&mut h);
    e.code.hash(&mut h);
    e.source_ip.hash(&mut h);
    e.source_domain.hash(&mut h);
    e.host_name.hash(&mut h);
    e.host_ip.hash(&mut h);
    e.user_name.hash(&mut h);
    e.user_domain.hash(&mut h);
    e.logon_type.hash(&mut h);
    e.auth_method.hash(&mut h);
    e.destination_domain.hash(&mut h);
    h.finish()
}

impl HeldBuilder {
    /// Holds `e`.
    pub fn add(&mut self, mut e: LogEvent) {
        let ts = e.ts;
        let origin = e.origin.take();
        e.ts = Timestamp::default();
        let template = self.intern(e);
        let (place, at) = match origin {
            None => (0, 0),
            Some(o) => {
                let file = match self.files.iter().rposition(|f| Arc::ptr_eq(f, &o.file)) {
                    Some(i) => i,
                    None => match self.files.iter().position(|f| *f == o.file) {
                        Some(i) => i,
                        None => {
                            self.files.push(o.file.clone());
                            self.files.len() - 1
                        }
                    },
                };
                let (line, at) = match o.at {
                    Position::Offset(x) => (0, x),
                    Position::Line(x) => (1, x),
                };
                ((((file as u32) + 1) << 1) | line, at)
            }
        };
        let record = Held {
            ts,
            at,
            place,
            template,
        };
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(record),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(record);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    /// The index of template `e`, added when new.
    fn intern(&mut self, e: LogEvent) -> u32 {
        let h = template_hash(&e);
        let templates = &self.templates;
        if let Some((_, i)) = self.index.find(h, |(x, i)| {
            *x == h && templates.get(*i as usize).is_some_and(|t| *t == e)
        }) {
            return *i;
        }
        let i = self.templates.len() as u32;
        self.templates.push(e);
        self.index.insert_unique(h, (h, i), |(x, _)| *x);
        i
    }

    /// Events held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl HeldLogons {
    /// Joins the events held on each thread and sorts them in run order
    /// (time, origin, action; equal ones by their templates' contents),
    /// so the result does not depend on which thread held which.
    pub fn merge(mut parts: Vec<HeldBuilder>) -> HeldLogons {
        // The part with the most templates is the base: its templates are
        // not moved again (the template ids do not reach the output).
        let base = (0..parts.len())
            .max_by_key(|i| parts.get(*i).map_or(0, |p| p.templates.len()))
            .map(|i| parts.swap_remove(i));
        let mut all = base.unwrap_or_default();
        let total = all.len + parts.iter().map(HeldBuilder::len).sum::<usize>();
        let mut records: Vec<Held> = Vec::with_capacity(total);
        for chunk in std::mem::take(&mut all.chunks) {
            records.extend_from_slice(&chunk);
        }
        for part in parts {
            let map: Vec<u32> = part.templates.into_iter().map(|t| all.intern(t)).collect();
            let files: Vec<u32> = part
                .files
                .into_iter()
                .map(|f| match all.files.iter().position(|g| *g == f) {
                    Some(i) => i as u32,
                    None => {
                        all.files.push(f);
                        all.files.len() as u32 - 1
                    }
                })
                .collect();
            for chunk in part.chunks {
                records.extend(chunk.into_iter().map(|r| Held {
                    template: map.get(r.template as usize).copied().unwrap_or(0),
                    place: match r.place {
                        0 => 0,
                        p => {
                            let f = files.get(((p >> 1) - 1) as usize).copied().unwrap_or(0);
                            ((f + 1) << 1) | (p & 1)
                        }
                    },
                    ..r
                }));
            }
        }
        let HeldBuilder {
            templates, files, ..
        } = all;
        // Files ranked by name, as origins compare.
        let mut by_name: Vec<u32> = (0..files.len() as u32).collect();
        by_name.sort_by(|a, b| files.get(*a as usize).cmp(&files.get(*b as usize)));
        let mut rank = vec![0u32; files.len()];
        for (r, f) in by_name.into_iter().enumerate() {
            if let Some(x) = rank.get_mut(f as usize) {
                *x = r as u32 + 1;
            }
        }
        let key = |h: &Held| {
            let file = match h.place {
                0 => 0,
                p => rank.get(((p >> 1) - 1) as usize).copied().unwrap_or(0),
            };
            (h.ts, file, h.place & 1, h.at)
        };
        let by_template = &templates;
        records.par_sort_unstable_by(|a, b| {
            key(a).cmp(&key(b)).then_with(|| {
                let (x, y) = (
                    by_template.get(a.template as usize),
                    by_template.get(b.template as usize),
                );
                let action = |t: Option<&LogEvent>| t.map(|t| t.action);
                action(x)
                    .cmp(&action(y))
                    .then_with(|| format!("{x:?}").cmp(&format!("{y:?}")))
            })
        });
        HeldLogons {
            templates,
            files,
            records,
        }
    }

    /// The held events, in run order.
    pub fn records(&self) -> &[Held] {
        &self.records
    }

    /// The distinct templates (an event without time and origin).
    pub fn templates(&self) -> &[LogEvent] {
        &self.templates
    }

    /// The index of `h`'s template in [`HeldLogons::templates`].
    pub fn template_index(h: &Held) -> usize {
        h.template as usize
    }

    /// `h`'s template: its event but for time (zero) and origin (none).
    pub fn template(&self, h: &Held) -> Option<&LogEvent> {
        self.templates.get(h.template as usize)
    }

    /// Where `h` was read.
    pub fn origin(&self, h: &Held) -> Option<Origin> {
        let file = self.files.get(((h.place >> 1).checked_sub(1)?) as usize)?;
        Some(Origin {
            file: file.clone(),
            at: if h.place & 1 == 1 {
                Position::Line(h.at)
            } else {
                Position::Offset(h.at)
            },
        })
    }

    /// How many events are held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The time span of the held events.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        Some((self.records.first()?.ts, self.records.last()?.ts))
    }

    /// `h` against the event `e` in run order (time, origin, action).
    pub fn order(&self, h: &Held, e: &LogEvent) -> Ordering {
        h.ts.cmp(&e.ts)
            .then_with(|| self.origin(h).cmp(&e.origin))
            .then_with(|| {
                self.template(h)
                    .map_or(Action::default(), |t| t.action)
                    .cmp(&e.action)
            })
    }

    /// Held records `a` and `b` in run order.
    pub fn order_held(&self, a: &Held, b: &Held) -> Ordering {
        a.ts.cmp(&b.ts)
            .then_with(|| self.origin(a).cmp(&self.origin(b)))
            .then_with(|| {
                let action = |h| self.template(h).map(|t| t.action);
                action(a).cmp(&action(b))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Text;

    /// Events of one input, one per line, spread over `parts` builders in
    /// a given way, merged.
    fn merged(assign: impl Fn(u64) -> usize, parts: usize) -> Vec<(i64, Option<Origin>, String)> {
        let file: Arc<str> = Arc::from("auth.txt");
        let mut builders: Vec<HeldBuilder> = (0..parts).map(|_| HeldBuilder::default()).collect();
        for i in 0..200u64 {
            let e = LogEvent {
                ts: Timestamp((i as i64 * 7919) % 50),
                user_name: Some(format!("u{}", i % 3).into()),
                host_name: Some(format!("h{}", i % 5).into()),
                origin: Some(Origin {
                    file: file.clone(),
                    at: Position::Line(i + 1),
                }),
                ..LogEvent::default()
            };
            if let Some(b) = builders.get_mut(assign(i)) {
                b.add(e);
            }
        }
        let held = HeldLogons::merge(builders);
        assert_eq!(held.len(), 200);
        assert!(held.templates().len() <= 15);
        held.records()
            .iter()
            .map(|h| {
                let t = held.template(h).expect("template");
                (
                    h.ts.0,
                    held.origin(h),
                    format!("{:?}/{:?}", t.user_name, t.host_name),
                )
            })
            .collect()
    }

    #[test]
    fn records_over_several_chunks_merge_whole_and_in_order() {
        // More than two chunks' worth, on two builders unevenly.
        let n = 2 * CHUNK as u64 + 777;
        let file: Arc<str> = Arc::from("auth.txt");
        let mut one = HeldBuilder::default();
        let mut two: Vec<HeldBuilder> = (0..2).map(|_| HeldBuilder::default()).collect();
        for i in 0..n {
            let e = LogEvent {
                ts: Timestamp(((i * 7919) % 100_003) as i64),
                user_name: Some(format!("u{}", i % 11).into()),
                origin: Some(Origin {
                    file: file.clone(),
                    at: Position::Offset(i * 80),
                }),
                ..LogEvent::default()
            };
            if let Some(b) = two.get_mut(usize::from(i % 5 == 0)) {
                b.add(e.clone());
            }
            one.add(e);
        }
        assert_eq!(one.len(), n as usize);
        let a = HeldLogons::merge(vec![one]);
        let b = HeldLogons::merge(two);
        assert_eq!(a.len(), n as usize);
        assert_eq!(b.len(), n as usize);
        assert_eq!(a.templates().len(), 11);
        let seen = |h: &HeldLogons| -> Vec<(i64, Option<Origin>, Option<Text>)> {
            h.records()
                .iter()
                .map(|r| {
                    (
                        r.ts.0,
                        h.origin(r),
                        h.template(r).and_then(|t| t.user_name.clone()),
                    )
                })
                .collect()
        };
        let (sa, sb) = (seen(&a), seen(&b));
        assert!(
            sa.windows(2)
                .all(|w| (w[0].0, &w[0].1) <= (w[1].0, &w[1].1))
        );
        assert_eq!(sa, sb);
    }

    #[test]
    fn merged_records_are_in_run_order_whichever_thread_held_them() {
        let one = merged(|_| 0, 1);
        let mut sorted = one.clone();
        sorted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        assert_eq!(one, sorted);
        assert_eq!(merged(|i| (i % 2) as usize, 2), one);
        assert_eq!(merged(|i| ((i / 7) % 3) as usize, 3), one);
    }
}
