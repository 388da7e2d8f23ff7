//! Summaries of today: the mergeable state of one shard of the records to
//! judge (one sensor, one day, one range of hosts), for judging a day that
//! was read on many machines as if it had been read in one run.
//!
//! `summary build` writes a [`Summary`] of its inputs; `summary merge`
//! joins any number of them ([`Summary::merge_all`]); `analyze --summary`
//! runs the detectors over the merged records. Merging is associative and
//! commutative, and the merge of the shards of a day holds exactly the
//! records, in exactly the order, that one run over all their inputs
//! gives, so the alerts are the same, byte for byte.
//!
//! # What a summary holds (this increment)
//!
//! The shard's normalised records themselves: connection records sorted
//! by their total order, and log events in the order a run gives them
//! (time, then where they were read, then action, then reading order).
//! Memory and size therefore follow the number of records, as they do for
//! one run; folding them into compact per-edge state (fan-out windows,
//! per-destination fan-in, interval sketches, capped evidence) is the next
//! step. Host identity is not resolved here: the detectors resolve it from
//! the merged events, as a whole run does.
//!
//! What the run used merges by union and sum: input names, incomplete
//! inputs, and the notes and warnings the inputs gave. Two summaries that
//! read the same input do not merge ([`SummaryError::Overlap`]): its
//! records would count twice.

use crate::collect::pipeline::EventRun;
use crate::model::event::{Flow, LogEvent};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// Version of the summary payload this build writes and reads (inside the
/// container's [`super::file::FORMAT_VERSION`]).
pub const SUMMARY_VERSION: u32 = 1;

/// Why summaries cannot be read or merged.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// A file could not be read, or is not a summary.
    #[error(transparent)]
    File(#[from] super::FileError),
    /// A file's payload is of another summary version.
    #[error("{path}: summary version {found}, this lateral reads version {supported}; rebuild the shard's summary with this version", path = path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// Two summaries read the same input.
    #[error(
        "the input {input} is in two summaries: its records would count twice; summarize each input in one shard only"
    )]
    Overlap {
        /// The input's name.
        input: String,
    },
    /// The shard's connection records could not be collected.
    #[error("collecting connection records: {0}")]
    Records(#[source] std::io::Error),
}

/// The mergeable state of one shard of the records to judge: see the
/// module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Summary {
    /// [`SUMMARY_VERSION`] when written.
    pub version: u32,
    /// Inputs read, as named in records (directories expanded), sorted.
    pub inputs: Vec<String>,
    /// Inputs as given on the command lines (directories not expanded), sorted.
    pub given: Vec<String>,
    /// Inputs that were missing, unreadable or incomplete.
    pub partial_inputs: u64,
    /// Notes the inputs gave (what was left out on purpose), sorted.
    pub notes: Vec<String>,
    /// Warnings the inputs gave (what makes a run partial), sorted.
    pub warnings: Vec<String>,
    /// Connection records, in their total order.
    pub flows: Vec<Flow>,
    /// Log events, in the order a run gives them.
    pub events: Vec<LogEvent>,
}

/// The order of a run's events (time, where they were read, action); ties
/// keep their reading order, as the run's stable sort does.
fn run_order(a: &LogEvent, b: &LogEvent) -> Ordering {
    a.ts.cmp(&b.ts)
        .then_with(|| a.origin.cmp(&b.origin))
        .then_with(|| a.action.cmp(&b.action))
}

impl Summary {
    /// The summary of a run read from `given` (the inputs as named on the
    /// command line).
    pub fn build(run: &EventRun, given: &[String]) -> Result<Summary, SummaryError> {
        let flows = run.flows.to_vec().map_err(SummaryError::Records)?;
        let mut notes: Vec<String> = run.notes.clone();
        notes.extend(run.inputs.iter().flat_map(|r| r.notes.iter().cloned()));
        let mut warnings: Vec<String> = run.path_errors.clone();
        warnings.extend(run.inputs.iter().filter_map(|r| r.problem()));
        let partial_inputs = run.path_errors.len() as u64
            + run.inputs.iter().filter(|r| !r.is_complete()).count() as u64;
        let mut s = Summary::from_records(
            flows,
            run.events.clone(),
            run.inputs.iter().map(|r| r.name.to_string()).collect(),
            given.to_vec(),
        );
        s.partial_inputs = partial_inputs;
        s.notes = notes;
        s.warnings = warnings;
        s.canonical();
        Ok(s)
    }

    /// The summary of records read from `inputs` (named on the command
    /// line as `given`): `events` as the inputs gave them, input after
    /// input in name order (a run's order before it sorts), sorted here
    /// the way a run sorts them; `flows` in any order.
    pub fn from_records(
        flows: Vec<Flow>,
        events: Vec<LogEvent>,
        inputs: Vec<String>,
        given: Vec<String>,
    ) -> Summary {
        let mut s = Summary {
            version: SUMMARY_VERSION,
            inputs,
            given,
            flows,
            events,
            ..Summary::default()
        };
        s.canonical();
        s
    }

    /// Puts every list in canonical order (records as a run orders them;
    /// names, notes and warnings sorted). Cheap when already in order.
    fn canonical(&mut self) {
        self.inputs.sort();
        self.given.sort();
        self.notes.sort();
        self.warnings.sort();
        if !self.flows.is_sorted() {
            self.flows.sort();
        }
        if !self
            .events
            .windows(2)
            .all(|w| matches!(w, [a, b] if run_order(a, b).is_le()))
        {
            self.events.sort_by(run_order);
        }
    }

    /// Joins summaries of disjoint shards. Exact, associative and
    /// commutative: any grouping and order of merges gives an equal
    /// summary, whose records are those one run over all the shards'
    /// inputs gives, in the same order. `None` for no summaries.
    pub fn merge_all(parts: Vec<Summary>) -> Result<Option<Summary>, SummaryError> {
        // Parts in a canonical order (by their first input), so that the
        // stable sort below is independent of the order they were given in.
        let mut parts = parts;
        parts.sort_by(|a, b| a.inputs.cmp(&b.inputs));
        let mut parts = parts.into_iter();
        let Some(mut all) = parts.next() else {
            return Ok(None);
        };
        for p in parts {
            all.inputs.extend(p.inputs);
            all.given.extend(p.given);
            all.partial_inputs = all.partial_inputs.saturating_add(p.partial_inputs);
            all.notes.extend(p.notes);
            all.warnings.extend(p.warnings);
            all.flows.extend(p.flows);
            all.events.extend(p.events);
        }
        all.version = SUMMARY_VERSION;
        all.canonical();
        if let Some(w) = all
            .inputs
            .windows(2)
            .find(|w| matches!(w, [a, b] if a == b))
            && let Some(name) = w.first()
        {
            return Err(SummaryError::Overlap {
                input: name.clone(),
            });
        }
        all.given.dedup();
        Ok(Some(all))
    }

    /// Joins two summaries ([`Summary::merge_all`] of both).
    pub fn merge(self, other: Summary) -> Result<Summary, SummaryError> {
        Ok(Summary::merge_all(vec![self, other])?.unwrap_or_default())
    }

    /// True when every input was read completely.
    pub fn is_clean(&self) -> bool {
        self.partial_inputs == 0 && self.warnings.is_empty()
    }

    /// Reads a summary file: a baseline, another version or a damaged
    /// file is an error naming the file.
    pub fn load(path: &Path) -> Result<Summary, SummaryError> {
        let mut s: Summary = super::file::load_content(path, super::file::Content::Summary)?;
        if s.version != SUMMARY_VERSION {
            return Err(SummaryError::Version {
                path: path.to_path_buf(),
                found: s.version,
                supported: SUMMARY_VERSION,
            });
        }
        s.canonical();
        Ok(s)
    }

    /// Writes it atomically as a summary file.
    pub fn save(&self, path: &Path) -> Result<super::Written, super::FileError> {
        super::file::save_content(
            path,
            self,
            super::file::Compression::default(),
            super::file::Content::Summary,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::model::event::{Origin, Position, Timestamp};
    use std::sync::Arc;

    fn event(file: &str, line: u64, ts: i64, action: Action) -> LogEvent {
        LogEvent {
            ts: Timestamp(ts),
            action,
            origin: Some(Origin {
                file: Arc::from(file),
                at: Position::Line(line),
            }),
            ..LogEvent::default()
        }
    }

    fn part(file: &str, seed: u64) -> Summary {
        let mut x = seed | 1;
        let mut events: Vec<LogEvent> = (0..200u64)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let action = [Action::LoggedIn, Action::AuthMap][(x % 2) as usize];
                let mut e = event(file, i / 2, (x % 40) as i64, action);
                e.user_name = Some(format!("u{i}").into());
                e
            })
            .collect();
        events.sort_by(run_order);
        Summary {
            version: SUMMARY_VERSION,
            inputs: vec![file.to_string()],
            given: vec![file.to_string()],
            events,
            ..Summary::default()
        }
    }

    #[test]
    fn merges_are_associative_and_commutative() {
        let parts: Vec<Summary> = ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, f)| part(f, 0x9e37_79b9 * (i as u64 + 1)))
            .collect();
        let flat = Summary::merge_all(parts.clone()).unwrap().unwrap();
        let [a, b, c, d] = <[Summary; 4]>::try_from(parts).unwrap();
        let left = a
            .clone()
            .merge(b.clone())
            .unwrap()
            .merge(c.clone().merge(d.clone()).unwrap())
            .unwrap();
        let right = d.merge(b).unwrap().merge(c.merge(a).unwrap()).unwrap();
        assert_eq!(flat, left);
        assert_eq!(flat, right);
        assert_eq!(flat.events.len(), 800);
        // Ties within one input keep their reading order.
        assert!(
            flat.events
                .windows(2)
                .all(|w| run_order(&w[0], &w[1]).is_le())
        );
    }

    #[test]
    fn an_input_in_two_summaries_is_refused() {
        let err = Summary::merge_all(vec![part("a", 3), part("a", 5)]).unwrap_err();
        assert!(matches!(err, SummaryError::Overlap { .. }), "{err}");
    }
}
