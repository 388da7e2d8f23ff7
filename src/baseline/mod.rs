//! Baselines: what every host normally does, carried from one nightly sweep
//! to the next.
//!
//! A [`Baseline`] is the host directory, the per-host [`Profiles`] and
//! [`Meta`]data (which lateral wrote it, over which inputs and time span).
//! `baseline build` makes one from a learning period
//! ([`Baseline::build`]); each night `sweep` profiles the day
//! ([`Baseline::today`]), reports what is new ([`crate::detect::novelty::novelties`]) and,
//! with `--update`, folds the day in and forgets what has not been seen
//! for the age-out window ([`Baseline::update`]). [`mod@file`] is the
//! on-disk container (versioned, checksummed, written atomically);
//! [`view`] turns one host's profile into a report for people;
//! [`partial`] builds a baseline in shards (`baseline build --partial`,
//! `baseline merge`); [`summary`] holds shards of the records to judge
//! (`summary build`, `summary merge`, `analyze --summary`).

pub mod file;
pub mod partial;
pub mod summary;
pub mod view;

use crate::collect::pipeline::EventRun;
use crate::hosts::{DirectoryBuilder, HostDirectory, HostsFile, HostsRow};
use crate::model::HostKey;
use crate::model::event::{Flow, LogEvent, Timestamp};
use crate::model::host::normalize_name;
use crate::profile::{Profiles, build_parallel};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

pub use file::{FileError, Written};
pub use partial::{MergeError, Partial};
pub use summary::{Summary, SummaryError};

/// Runs recorded in a baseline's history; older ones are dropped.
pub const MAX_HISTORY: usize = 400;

/// What a baseline was made from: one entry per build or update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// `build` or `update`.
    pub kind: String,
    /// Inputs as named on the command line (directories expanded), in name order.
    pub inputs: Vec<String>,
    /// Earliest flow or event used.
    pub first: Option<Timestamp>,
    /// Latest flow or event used.
    pub last: Option<Timestamp>,
    /// `--until` of a build: data at or after it was left out.
    pub until: Option<Timestamp>,
    /// Connection records used.
    pub flows: u64,
    /// Log events used.
    pub events: u64,
    /// Inputs that were partial or unreadable.
    pub partial_inputs: u64,
}

/// Metadata of a baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Version of lateral that last wrote it.
    pub lateral_version: String,
    /// Earliest flow or event it has learned from.
    pub first: Option<Timestamp>,
    /// Latest flow or event it has learned from: "now" for ageing out.
    pub last: Option<Timestamp>,
    /// The build and every update, oldest first (at most [`MAX_HISTORY`]).
    pub history: Vec<RunRecord>,
}

/// A baseline: the host directory, every host's profile, and metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// Who made it from what.
    pub meta: Meta,
    /// How addresses and names map to hosts.
    pub directory: HostDirectory,
    /// What each host normally does.
    pub profiles: Profiles,
}

/// Reads and parses a `--hosts` file (see [`crate::hosts::parse_hosts_file`]).
pub fn read_hosts_file(path: &Path) -> Result<HostsFile, crate::Error> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name: Arc<str> = Arc::from(path.display().to_string());
    Ok(crate::hosts::parse_hosts_file(&text, &name))
}

/// Options of [`Baseline::build`].
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Leave out flows and events at or after this time.
    pub until: Option<Timestamp>,
    /// The host directory file.
    pub hosts: Option<HostsFile>,
}

/// Options of [`Baseline::update`].
#[derive(Debug, Clone, Copy)]
pub struct UpdateOptions {
    /// Forget edges, logons and hosts not seen for this many days.
    pub age_out_days: u32,
}

impl Default for UpdateOptions {
    /// Thirty days.
    fn default() -> Self {
        UpdateOptions { age_out_days: 30 }
    }
}

/// One day's data, profiled with identities consistent with a baseline.
#[derive(Debug)]
pub struct Today<'a> {
    /// The directory today was resolved with: today's evidence and hosts
    /// file, then what the baseline knew for addresses today does not name.
    pub directory: Arc<HostDirectory>,
    /// Today's profiles.
    pub profiles: Profiles,
    /// Today's connection records, in output order.
    pub flows: Vec<Flow>,
    /// Today's log events, sorted by time.
    pub events: &'a [LogEvent],
    /// What today's run was made from.
    pub record: RunRecord,
}

/// How many hosts, edges and logon triples a baseline holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Hosts.
    pub hosts: usize,
    /// Distinct (originator, responder, service) edges.
    pub edges: usize,
    /// Distinct (user, source, target) logon triples.
    pub logons: usize,
}

impl Baseline {
    /// Builds a baseline from a run's flows and events (those before
    /// `--until` when given), with the hosts file's names and roles.
    pub fn build(run: &EventRun, opts: &BuildOptions) -> Result<Baseline, crate::Error> {
        let mut flows = run.flows.to_vec().map_err(crate::Error::Output)?;
        // Both lists are sorted by time: what is before --until is a prefix.
        let mut events: &[LogEvent] = &run.events;
        if let Some(u) = opts.until {
            flows.truncate(flows.partition_point(|f| f.ts < u));
            events = events
                .get(..events.partition_point(|e| e.ts < u))
                .unwrap_or(&[]);
        }
        let mut record = run_record("build", run, &flows, events);
        record.until = opts.until;
        Ok(Baseline::from_records(
            &flows,
            events,
            record,
            opts.hosts.as_ref(),
        ))
    }

    /// What [`Baseline::build`] gives over a run of `paths`, reading them
    /// twice with the records folded into profiles as they are read and
    /// never held ([`crate::profile::stream`]; the paths must pass
    /// [`crate::profile::stream::can_stream`]). Returns the run too: its
    /// reports, no events (`folded` counts them) and every connection
    /// record. With `spill` (`--memory-limit`), the learning builders
    /// spill to disk past their share of its limit; the baseline is the
    /// same.
    #[allow(clippy::too_many_arguments)]
    pub fn build_streamed(
        paths: &[crate::input::InputPath],
        path_errors: Vec<crate::Error>,
        read: &crate::collect::pipeline::FlowRunOptions,
        logs: &crate::collect::pipeline::LogOptions,
        progress: &std::sync::atomic::AtomicU64,
        opts: &BuildOptions,
        spill: Option<&crate::profile::spill::Spiller>,
    ) -> Result<(Baseline, EventRun), crate::Error> {
        let until = opts.until;
        let cut = move |_: Option<(Timestamp, Timestamp)>| until;
        let plan = crate::profile::stream::Plan {
            cut: &cut,
            directory_before_cut: true,
            fixed_cut: until,
            keep_judged: false,
            judged_reads: None,
            judged_held: None,
            failures_needed: 0,
            source_failure: None,
            hosts: opts.hosts.as_ref(),
            spill,
        };
        let s = crate::profile::stream::learn(paths, path_errors, read, logs, progress, &[], &plan)
            .map_err(crate::Error::Output)?;
        let mut record = run_record_of("build", &s.run, s.learned, s.learn_counts);
        record.until = until;
        let meta = Meta {
            lateral_version: env!("CARGO_PKG_VERSION").to_string(),
            first: record.first,
            last: record.last,
            history: vec![record],
        };
        let baseline = Baseline {
            meta,
            directory: Arc::unwrap_or_clone(s.directory),
            profiles: s.profiles,
        };
        Ok((baseline, s.run))
    }

    /// Builds a baseline from flows and events (events sorted by time, as a
    /// run gives them), recording `record` as its build: what
    /// [`Baseline::build`] does once it has picked the records.
    pub fn from_records(
        flows: &[Flow],
        events: &[LogEvent],
        record: RunRecord,
        hosts: Option<&HostsFile>,
    ) -> Baseline {
        let directory = Arc::new(directory_from(events, &session_flows(flows), hosts, None));
        let profiles = build_parallel(directory.clone(), flows, events);
        let meta = Meta {
            lateral_version: env!("CARGO_PKG_VERSION").to_string(),
            first: record.first,
            last: record.last,
            history: vec![record],
        };
        Baseline {
            meta,
            directory: Arc::unwrap_or_clone(directory),
            profiles,
        }
    }

    /// Profiles a day's run with host identities consistent with this
    /// baseline: today's evidence and hosts file (`hosts`) decide first,
    /// and addresses today says nothing about keep the baseline's names.
    pub fn today<'a>(
        &self,
        run: &'a EventRun,
        hosts: Option<HostsFile>,
    ) -> Result<Today<'a>, crate::Error> {
        self.today_since(run, hosts, None)
    }

    /// As [`Baseline::today`], keeping only flows and events at or after
    /// `since` when given (an input that also holds the learning period).
    pub fn today_since<'a>(
        &self,
        run: &'a EventRun,
        hosts: Option<HostsFile>,
        since: Option<Timestamp>,
    ) -> Result<Today<'a>, crate::Error> {
        let flows = run.flows.to_vec().map_err(crate::Error::Output)?;
        let record = run_record("update", run, &[], &[]);
        Ok(self.today_of(
            flows,
            &run.events,
            record.inputs,
            record.partial_inputs,
            hosts,
            since,
        ))
    }

    /// As [`Baseline::today_since`], over records already read (a merged
    /// summary of today's shards, [`Summary`]): `flows` in their total
    /// order, `events` in run order, read from `inputs`, of which
    /// `partial_inputs` were incomplete.
    pub fn today_of<'a>(
        &self,
        mut flows: Vec<Flow>,
        events: &'a [LogEvent],
        inputs: Vec<String>,
        partial_inputs: u64,
        hosts: Option<HostsFile>,
        since: Option<Timestamp>,
    ) -> Today<'a> {
        // Both lists are sorted by time: what is from --since on is a suffix.
        let mut events = events;
        if let Some(t) = since {
            flows.drain(..flows.partition_point(|f| f.ts < t));
            events = events
                .get(events.partition_point(|e| e.ts < t)..)
                .unwrap_or(&[]);
        }
        let directory = Arc::new(directory_from(
            events,
            &session_flows(&flows),
            hosts.as_ref(),
            Some((&self.directory, &self.profiles)),
        ));
        let profiles = build_parallel(directory.clone(), &flows, events);
        let first = min_opt(flows.first().map(|f| f.ts), events.first().map(|e| e.ts));
        let last = max_opt(
            flows.iter().map(|f| f.ts).max(),
            events.last().map(|e| e.ts),
        );
        let record = RunRecord {
            kind: "update".to_string(),
            inputs,
            first,
            last,
            until: None,
            flows: flows.len() as u64,
            events: events.len() as u64,
            partial_inputs,
        };
        Today {
            directory,
            profiles,
            flows,
            events,
            record,
        }
    }

    /// Folds a day into the baseline, then forgets what was last seen more
    /// than `age_out_days` before the latest time the baseline has seen.
    ///
    /// A host the baseline knew by its address alone, which today's
    /// records name, is one host with the named one: its profile is folded
    /// into the name's, so the baseline never holds one machine twice.
    pub fn update(&mut self, today: Today<'_>, opts: &UpdateOptions) {
        self.profiles.merge(today.profiles);
        self.directory = Arc::unwrap_or_clone(today.directory);
        let folds: Vec<(HostKey, HostKey)> = self
            .profiles
            .hosts()
            .iter()
            .filter_map(|h| {
                let ip = h.key.ip()?;
                let named = self.directory.key_for_ip(ip);
                (named.is_named() && self.profiles.host(&named).is_some())
                    .then(|| (h.key.clone(), named))
            })
            .collect();
        if !folds.is_empty() {
            self.profiles.fold_hosts(&folds);
        }
        let rec = today.record;
        self.meta.first = min_opt(self.meta.first, rec.first);
        self.meta.last = max_opt(self.meta.last, rec.last);
        if let Some(now) = self.meta.last {
            self.profiles.age_out(now, opts.age_out_days);
        }
        self.meta.lateral_version = env!("CARGO_PKG_VERSION").to_string();
        self.meta.history.push(rec);
        let excess = self.meta.history.len().saturating_sub(MAX_HISTORY);
        self.meta.history.drain(..excess);
    }

    /// Reads a baseline file (see [`file::load`]); changes nothing on disk.
    pub fn load(path: &Path) -> Result<Baseline, FileError> {
        file::load(path)
    }

    /// Writes the baseline atomically (see [`file::save`]).
    pub fn save(&self, path: &Path) -> Result<Written, FileError> {
        file::save(path, self)
    }

    /// How much it holds.
    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            hosts: self.profiles.len(),
            edges: self.profiles.edge_count(),
            logons: 0,
        };
        for h in self.profiles.hosts() {
            c.logons += self.profiles.logons_to(&h.key).len();
        }
        c
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn run_record(kind: &str, run: &EventRun, flows: &[Flow], events: &[LogEvent]) -> RunRecord {
    let first = min_opt(flows.first().map(|f| f.ts), events.first().map(|e| e.ts));
    let last_flow = flows.iter().map(|f| f.ts).max();
    let last = max_opt(last_flow, events.last().map(|e| e.ts));
    let span = first.zip(last);
    run_record_of(kind, run, span, (flows.len(), events.len()))
}

/// The record of a build from `run` of `counts` (connection records, log
/// events) spanning `span`.
fn run_record_of(
    kind: &str,
    run: &EventRun,
    span: Option<(Timestamp, Timestamp)>,
    counts: (usize, usize),
) -> RunRecord {
    RunRecord {
        kind: kind.to_string(),
        inputs: run.inputs.iter().map(|r| r.name.to_string()).collect(),
        first: span.map(|s| s.0),
        last: span.map(|s| s.1),
        until: None,
        flows: counts.0 as u64,
        events: counts.1 as u64,
        partial_inputs: (run.inputs.iter().filter(|r| !r.is_complete()).count()
            + run.path_errors.len()) as u64,
    }
}

/// The directory for a set of events: their evidence and the hosts file;
/// then, when `carry` is given, the carried directory's names for
/// addresses that neither names, as if from a hosts file (only for hosts
/// the carried profiles still hold or whose role was given, so names of
/// aged-out hosts are forgotten too).
/// The logon-port connections of `flows`, for session timing
/// ([`crate::hosts::session`]), sorted.
pub(crate) fn session_flows(flows: &[Flow]) -> Vec<crate::hosts::session::SessionFlow> {
    let mut v: Vec<_> = flows
        .iter()
        .filter_map(crate::hosts::session::SessionFlow::of)
        .collect();
    v.sort_unstable();
    v
}

fn directory_from(
    events: &[LogEvent],
    sessions: &[crate::hosts::session::SessionFlow],
    hosts: Option<&HostsFile>,
    carry: Option<(&HostDirectory, &Profiles)>,
) -> HostDirectory {
    let fresh = || {
        let mut b = events
            .par_chunks(8192)
            .map(|chunk| {
                let mut b = DirectoryBuilder::new();
                for e in chunk {
                    b.observe(e);
                }
                b
            })
            .reduce(DirectoryBuilder::new, |mut a, b| {
                a.merge(b);
                a
            });
        if !sessions.is_empty() {
            let mut sightings = crate::hosts::session::Sightings::new();
            for e in events {
                sightings.observe(e);
            }
            b.tie_sessions(sightings, sessions);
        }
        if let Some(h) = hosts {
            b.add_file(h);
        }
        b
    };
    let Some((old, old_profiles)) = carry else {
        return fresh().finish();
    };
    let first = fresh().finish();
    let mut rows = Vec::new();
    let mut named_only = Vec::new();
    for entry in old.hosts() {
        if entry.role.is_none() && old_profiles.host(&entry.key).is_none() {
            continue;
        }
        let key_text = entry.key.text();
        let name = entry
            .names
            .iter()
            .find(|n| n.contains('.'))
            .or_else(|| entry.names.first())
            .map_or(key_text.as_str(), String::as_str);
        let Some(normal) = normalize_name(name) else {
            continue;
        };
        let mut any = false;
        for &ip in &entry.ips {
            if first.key_for_ip(ip).is_named() {
                continue;
            }
            any = true;
            rows.push(HostsRow {
                ip,
                name: normal.clone(),
                role: entry.role,
                line: 0,
            });
        }
        if !any && entry.role.is_some() && first.given_role(&entry.key).is_none() {
            named_only.push((normal.short.to_string(), entry.role));
        }
    }
    if rows.is_empty() && named_only.is_empty() {
        return first;
    }
    let mut b = fresh();
    b.add_file(&HostsFile {
        rows,
        named_only,
        diag: crate::diag::Diagnostics::default(),
    });
    b.finish()
}
