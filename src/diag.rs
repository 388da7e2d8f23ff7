//! Diagnostics: what could not be read, counted by reason, with samples.
//!
//! Malformed input is data, not failure (as Zeek's weird.log treats it):
//! every skipped record is counted under a short static reason, and the first
//! few occurrences keep their place (file and byte offset or line) so a
//! person can look at the raw bytes.

use crate::model::event::Origin;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many samples are kept per reason.
pub const SAMPLES_PER_REASON: usize = 3;

/// One kept sample of a skipped record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Sample {
    /// Where the record is.
    pub origin: Origin,
    /// Optional detail beyond the reason (a value seen, a length).
    pub detail: String,
}

/// Counts of skipped records by reason, with samples; mergeable.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagnostics {
    /// Count per reason.
    pub counts: BTreeMap<&'static str, u64>,
    /// First samples per reason (after a merge: the smallest by origin).
    pub samples: BTreeMap<&'static str, Vec<Sample>>,
    /// Inputs that stopped early (truncation, corrupt length), with where and why.
    pub stopped: Vec<(Origin, String)>,
}

impl Diagnostics {
    /// Counts one skipped record.
    pub fn skip(
        &mut self,
        reason: &'static str,
        origin: impl FnOnce() -> Origin,
        detail: impl FnOnce() -> String,
    ) {
        let n = self.counts.entry(reason).or_insert(0);
        *n += 1;
        if *n as usize <= SAMPLES_PER_REASON {
            self.samples.entry(reason).or_default().push(Sample {
                origin: origin(),
                detail: detail(),
            });
        }
    }

    /// Records that an input stopped before its end.
    pub fn stop(&mut self, origin: Origin, why: String) {
        self.stopped.push((origin, why));
    }

    /// Total skipped records.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// True when nothing was skipped and no input stopped early.
    pub fn is_clean(&self) -> bool {
        self.counts.is_empty() && self.stopped.is_empty()
    }

    /// Folds another set of diagnostics into this one (order-independent result).
    pub fn merge(&mut self, other: Diagnostics) {
        for (k, v) in other.counts {
            *self.counts.entry(k).or_insert(0) += v;
        }
        for (k, v) in other.samples {
            let s = self.samples.entry(k).or_default();
            s.extend(v);
            s.sort();
            s.truncate(SAMPLES_PER_REASON);
        }
        self.stopped.extend(other.stopped);
        self.stopped.sort();
    }
}
