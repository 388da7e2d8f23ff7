//! Partial baselines: the mergeable state of one shard of a learning
//! period (one sensor, one day, one range of hosts: whatever inputs it was
//! built from), for building a baseline in pieces and on many machines.
//!
//! `baseline build --partial` writes a [`Partial`]; `baseline merge`
//! folds any number of them ([`Partial::merge`]) and finishes the result
//! into a [`Baseline`] ([`Partial::finish`]), or writes it as another
//! partial, so any tree of merges works. Merging is associative and
//! commutative, and finishing the merge of shards gives the very baseline
//! (byte for byte once saved) that `baseline build` gives over all their
//! inputs at once.
//!
//! # What is partial, and why
//!
//! A partial holds only state whose merge is exact, and leaves out every
//! step of a build that is not associative:
//!
//! - **Host identity.** Which host an address or a name belongs to comes
//!   from the host directory of the whole period (a name Tuesday's logs
//!   give an address applies to Monday's flows). So flows are kept by
//!   address, as [`FlowGroup`]s (one per originator, responder, service and
//!   UTC hour: counts, byte sums, first and last, per-flow distributions),
//!   and the directory is built when the merge is finished.
//! - **Log events** are kept as records, sorted: the directory is learned
//!   from them, the hosts they name resolve through it, and remote
//!   execution ties a logon to the service it starts within a window that
//!   may cross a shard's edge.
//! - **Distinct counts and per-hour peaks** (peers per hour, hosts an
//!   account reached in an hour, admin peers per hour), the hourly and
//!   per-peer-day distributions, the hosts file's names and roles, role
//!   inference, names and addresses of hosts: all computed at the finish,
//!   from the merged state.
//!
//! What a run used (inputs, first and last time, record counts) merges by
//! union, minimum, maximum and sum. Parts built with different `--until`
//! do not merge ([`MergeError::Until`]).

use super::{Baseline, Meta, RunRecord, directory_from, max_opt, min_opt};
use crate::collect::pipeline::EventRun;
use crate::hosts::HostsFile;
use crate::hosts::session::SessionFlow;
use crate::model::event::{Flow, LogEvent, Timestamp};
use crate::profile::group::{FlowGroup, FlowGroups, merge_sorted};
use crate::profile::{RoleThresholds, build_from_groups};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Version of the partial payload this build writes and reads (inside
/// the container's [`super::file::FORMAT_VERSION`]).
pub const PARTIAL_VERSION: u32 = 2;

/// Why parts cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A part could not be read, or is not a partial baseline.
    #[error(transparent)]
    File(#[from] super::FileError),
    /// A part's payload is of another partial version.
    #[error("{path}: partial baseline version {found}, this lateral merges version {supported}; rebuild the shard with this version", path = path.display())]
    Version {
        /// The part.
        path: std::path::PathBuf,
        /// Its version.
        found: u32,
        /// The version this build merges.
        supported: u32,
    },
    /// Two parts were built with different `--until`.
    #[error(
        "parts built with different --until ({a} and {b}) do not make one baseline; rebuild them with the same --until"
    )]
    Until {
        /// One part's `--until` (`none` when not given).
        a: String,
        /// The other's.
        b: String,
    },
}

/// The mergeable state of one shard: see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partial {
    /// [`PARTIAL_VERSION`] when written.
    pub version: u32,
    /// `--until` the shard was built with.
    pub until: Option<Timestamp>,
    /// Inputs as named on the command line (directories expanded), sorted.
    pub inputs: Vec<String>,
    /// Earliest flow or event used.
    pub first: Option<Timestamp>,
    /// Latest flow or event used.
    pub last: Option<Timestamp>,
    /// Connection records used.
    pub flow_count: u64,
    /// Inputs that were partial or unreadable.
    pub partial_inputs: u64,
    /// Flows folded by address pair, service and hour, sorted by key.
    pub flows: Vec<FlowGroup>,
    /// Log events, sorted (time, then where they were read, then the rest).
    pub events: Vec<LogEvent>,
    /// The logon-port connections, sorted: what session timing needs of
    /// the flows to tie hosts' names to their addresses
    /// ([`crate::hosts::session`]).
    pub sessions: Vec<SessionFlow>,
}

/// The order of events in a partial: time, then where they were read, then
/// action (the order a run gives them), then their bytes, so that equal
/// sets of events always sort the same.
fn event_order(a: &LogEvent, b: &LogEvent) -> std::cmp::Ordering {
    a.ts.cmp(&b.ts)
        .then_with(|| a.origin.cmp(&b.origin))
        .then_with(|| a.action.cmp(&b.action))
        .then_with(|| {
            let x = postcard::to_stdvec(a).unwrap_or_default();
            let y = postcard::to_stdvec(b).unwrap_or_default();
            x.cmp(&y)
        })
}

/// The error of parts built with `--until` `a` and `b`.
fn until_error(a: Option<Timestamp>, b: Option<Timestamp>) -> MergeError {
    let show = |t: Option<Timestamp>| t.map_or("none".to_string(), |t| t.to_rfc3339());
    MergeError::Until {
        a: show(a),
        b: show(b),
    }
}

impl Partial {
    /// The partial of a run: its flows and events before `until` when given.
    pub fn build(run: &EventRun, until: Option<Timestamp>) -> Result<Partial, crate::Error> {
        let mut flows = run.flows.to_vec().map_err(crate::Error::Output)?;
        let mut events: &[LogEvent] = &run.events;
        if let Some(u) = until {
            flows.truncate(flows.partition_point(|f| f.ts < u));
            events = events
                .get(..events.partition_point(|e| e.ts < u))
                .unwrap_or(&[]);
        }
        let record = super::run_record("build", run, &flows, events);
        Ok(Partial::from_records(
            &flows,
            events,
            record.inputs,
            record.partial_inputs,
            until,
        ))
    }

    /// The partial of these flows and events (all used), read from
    /// `inputs`, of which `partial_inputs` were incomplete.
    pub fn from_records(
        flows: &[Flow],
        events: &[LogEvent],
        mut inputs: Vec<String>,
        partial_inputs: u64,
        until: Option<Timestamp>,
    ) -> Partial {
        let mut groups = FlowGroups::new();
        for f in flows {
            groups.add(f);
        }
        let mut events = events.to_vec();
        events.sort_by(event_order);
        inputs.sort();
        let first = min_opt(
            flows.iter().map(|f| f.ts).min(),
            events.first().map(|e| e.ts),
        );
        let last = max_opt(
            flows.iter().map(|f| f.ts).max(),
            events.last().map(|e| e.ts),
        );
        Partial {
            version: PARTIAL_VERSION,
            until,
            inputs,
            first,
            last,
            flow_count: flows.len() as u64,
            partial_inputs,
            flows: groups.into_sorted(),
            events,
            sessions: super::session_flows(flows),
        }
    }

    /// Folds another part in. Exact, associative and commutative: any
    /// grouping and order of merges gives an equal partial.
    pub fn merge(self, other: Partial) -> Result<Partial, MergeError> {
        if self.until != other.until {
            return Err(until_error(self.until, other.until));
        }
        let mut inputs = self.inputs;
        inputs.extend(other.inputs);
        inputs.sort();
        let mut events = self.events;
        events.extend(other.events);
        events.sort_by(event_order);
        let mut sessions = self.sessions;
        sessions.extend(other.sessions);
        sessions.sort_unstable();
        Ok(Partial {
            version: PARTIAL_VERSION,
            until: self.until,
            inputs,
            first: min_opt(self.first, other.first),
            last: max_opt(self.last, other.last),
            flow_count: self.flow_count.saturating_add(other.flow_count),
            partial_inputs: self.partial_inputs.saturating_add(other.partial_inputs),
            flows: merge_sorted(self.flows, other.flows),
            events,
            sessions,
        })
    }

    /// Merges many parts at once (one sort instead of one per part): the
    /// same partial as merging them one by one in any order; `None` for no
    /// parts.
    pub fn merge_all(parts: Vec<Partial>) -> Result<Option<Partial>, MergeError> {
        let mut parts = parts.into_iter();
        let Some(mut all) = parts.next() else {
            return Ok(None);
        };
        for p in parts {
            if p.until != all.until {
                return Err(until_error(all.until, p.until));
            }
            all.inputs.extend(p.inputs);
            all.first = min_opt(all.first, p.first);
            all.last = max_opt(all.last, p.last);
            all.flow_count = all.flow_count.saturating_add(p.flow_count);
            all.partial_inputs = all.partial_inputs.saturating_add(p.partial_inputs);
            all.flows.extend(p.flows);
            all.events.extend(p.events);
            all.sessions.extend(p.sessions);
        }
        all.sessions.sort_unstable();
        all.version = PARTIAL_VERSION;
        all.inputs.sort();
        all.flows = merge_sorted(all.flows, Vec::new());
        all.events.sort_by(event_order);
        Ok(Some(all))
    }

    /// The finished baseline: the host directory from the events and the
    /// hosts file, then profiles from the flow groups and events, roles
    /// inferred. Equal to [`Baseline::build`] over the same records.
    pub fn finish(self, hosts: Option<&HostsFile>) -> Baseline {
        let directory = Arc::new(directory_from(&self.events, &self.sessions, hosts, None));
        let profiles = build_from_groups(
            directory.clone(),
            &self.flows,
            &self.events,
            &RoleThresholds::default(),
        );
        let record = RunRecord {
            kind: "build".to_string(),
            inputs: self.inputs,
            first: self.first,
            last: self.last,
            until: self.until,
            flows: self.flow_count,
            events: self.events.len() as u64,
            partial_inputs: self.partial_inputs,
        };
        Baseline {
            meta: Meta {
                lateral_version: env!("CARGO_PKG_VERSION").to_string(),
                first: record.first,
                last: record.last,
                history: vec![record],
            },
            directory: Arc::unwrap_or_clone(directory),
            profiles,
        }
    }

    /// Reads a partial baseline file: a finished baseline, another version
    /// or a damaged file is an error naming the file.
    pub fn load(path: &Path) -> Result<Partial, MergeError> {
        let p: Partial = super::file::load_content(path, super::file::Content::Partial)?;
        if p.version != PARTIAL_VERSION {
            return Err(MergeError::Version {
                path: path.to_path_buf(),
                found: p.version,
                supported: PARTIAL_VERSION,
            });
        }
        Ok(p.normalised())
    }

    /// The same partial in canonical order: groups sorted by key with equal
    /// keys merged, events sorted (a file this build wrote is already; a
    /// hand-made one may not be).
    fn normalised(mut self) -> Partial {
        let groups_sorted = self
            .flows
            .windows(2)
            .all(|w| matches!(w, [a, b] if a.cmp_key(b).is_lt()));
        if !groups_sorted {
            self.flows = merge_sorted(std::mem::take(&mut self.flows), Vec::new());
        }
        let events_sorted = self
            .events
            .windows(2)
            .all(|w| matches!(w, [a, b] if event_order(a, b).is_le()));
        if !events_sorted {
            self.events.sort_by(event_order);
        }
        self.sessions.sort_unstable();
        self.inputs.sort();
        self
    }

    /// Writes it atomically as a partial baseline file.
    pub fn save(&self, path: &Path) -> Result<super::Written, super::FileError> {
        super::file::save_content(
            path,
            self,
            super::file::Compression::default(),
            super::file::Content::Partial,
        )
    }
}
